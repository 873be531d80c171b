//! `cargo xtask check-platforms` (alias `cross-check`): `cargo check` for
//! Windows (the workspace) and macOS (kiosk-core and the helper's client),
//! so the Windows and macOS modules compile for their targets on this Linux
//! machine. A target or tool that cannot be installed is reported with a
//! `SKIPPED:` line, never passed silently.

use crate::package::{is_root, output};
use crate::{cargo, workspace_root, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Windows: the GNU target's C compiler (ring) and `windres` (Tauri's
/// resource step), from Debian's mingw-w64 packages.
pub(crate) const WINDOWS_APT: &[&str] = &["gcc-mingw-w64-x86-64", "binutils-mingw-w64-x86-64"];
/// macOS: clang cross-compiles ring's C; llvm-ar archives it.
const MACOS_APT: &[&str] = &["clang", "llvm"];

/// Minimal C headers for ring's build script on the macOS target when no
/// Apple SDK is at hand. `cargo check` compiles ring's C but never links it,
/// so what matters is that it compiles; the Rust code is what is checked.
/// (With `SDKROOT` set to a real macOS SDK, that SDK is used instead.)
const MACOS_STUB_HEADERS: &[(&str, &str)] = &[
    (
        "TargetConditionals.h",
        "#define TARGET_OS_MAC 1\n#define TARGET_OS_OSX 1\n#define TARGET_OS_IPHONE 0\n#define TARGET_OS_IOS 0\n\
         #define TARGET_OS_TV 0\n#define TARGET_OS_WATCH 0\n#define TARGET_OS_SIMULATOR 0\n",
    ),
    ("assert.h", "#define assert(x) ((void)0)\n"),
    (
        "string.h",
        "#include <stddef.h>\nvoid *memcpy(void *, const void *, size_t);\nvoid *memmove(void *, const void *, size_t);\n\
         void *memset(void *, int, size_t);\nint memcmp(const void *, const void *, size_t);\n",
    ),
    ("stdlib.h", "#include <stddef.h>\nvoid abort(void);\n"),
];

/// One cross check.
struct Check {
    target: &'static str,
    cargo_args: &'static [&'static str],
    apt: &'static [&'static str],
}

/// The Linux-only test harnesses (end-to-end, console) and xtask itself run
/// on the Linux build machine only.
const CHECKS: &[Check] = &[
    Check {
        target: "x86_64-pc-windows-gnu",
        cargo_args: &["--workspace", "--exclude", "exam-e2e", "--exclude", "exam-console-tests", "--exclude", "xtask"],
        apt: WINDOWS_APT,
    },
    Check { target: "aarch64-apple-darwin", cargo_args: &["-p", "kiosk-core", "-p", "exam-privhelper"], apt: MACOS_APT },
];

/// Runs every check; fails when a check that could run failed.
pub fn check_platforms(_args: &[String]) -> Result {
    let mut failures = Vec::new();
    for check in CHECKS {
        let target = check.target;
        if let Err(why) = rustup_target(target) {
            println!("SKIPPED: {target}: {why}; not checked");
            continue;
        }
        let mut command = cargo();
        command.args(["check", "--target", target]).args(check.cargo_args);
        let ready = if target.contains("windows") { windows_tools(check.apt) } else { macos_tools(check, &mut command) };
        if let Err(why) = ready {
            println!("SKIPPED: {target}: {why}; not checked");
            continue;
        }
        println!("xtask: cargo check --target {target} {}", check.cargo_args.join(" "));
        match command.status() {
            Ok(s) if s.success() => println!("xtask: {target}: ok"),
            _ => failures.push(target),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("cargo check failed for {}", failures.join(", ")))
    }
}

/// Adds `target` with rustup unless it is installed.
pub(crate) fn rustup_target(target: &str) -> Result {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == target) {
        return Ok(());
    }
    eprintln!("xtask: rustup target add {target}");
    match Command::new("rustup").args(["target", "add", target]).status() {
        Ok(s) if s.success() => Ok(()),
        _ => Err("rustup could not install the target (offline?)".into()),
    }
}

pub(crate) fn present(tool: &str) -> bool {
    Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Installs `packages` with apt when root on Debian (quietly; the caller
/// checks for the tools afterwards).
pub(crate) fn apt_install(packages: &[&str]) {
    if !is_root() || !Path::new("/usr/bin/apt-get").exists() {
        return;
    }
    eprintln!("xtask: apt-get install {}", packages.join(" "));
    let _ = Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .status();
}

/// The mingw-w64 C compiler and `windres`, installed with apt (`apt`) when missing.
pub(crate) fn windows_tools(apt: &[&str]) -> Result {
    let tools = ["x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-windres"];
    if !tools.iter().all(|t| present(t)) {
        apt_install(apt);
    }
    match tools.iter().find(|t| !present(t)) {
        Some(missing) => Err(format!("no {missing} (apt {})", apt.join(" "))),
        None => Ok(()),
    }
}

/// The first of `names` that runs.
fn first_present(names: &[String]) -> Option<String> {
    names.iter().find(|n| present(n)).cloned()
}

fn versioned(tool: &str) -> Vec<String> {
    std::iter::once(tool.to_owned()).chain((14..=20).rev().map(|v| format!("{tool}-{v}"))).collect()
}

/// clang and llvm-ar for ring's C, and its headers: Apple's SDK from
/// `SDKROOT`, else the stub headers.
fn macos_tools(check: &Check, command: &mut Command) -> Result {
    let find = || (first_present(&versioned("clang")), first_present(&versioned("llvm-ar")));
    let (mut clang, mut ar) = find();
    if clang.is_none() || ar.is_none() {
        apt_install(check.apt);
        (clang, ar) = find();
    }
    let (Some(clang), Some(ar)) = (clang, ar) else {
        return Err(format!("no clang and llvm-ar (apt {})", check.apt.join(" ")));
    };
    command.env("CC_aarch64_apple_darwin", clang).env("AR_aarch64_apple_darwin", ar);
    let flags = match std::env::var_os("SDKROOT") {
        Some(sdk) => format!("-isysroot {}", sdk.to_string_lossy()),
        None => {
            let dir = stub_headers()?;
            println!("xtask: aarch64-apple-darwin: no SDKROOT; ring's C compiles against stub libc headers (nothing is linked by a check)");
            format!("-ffreestanding -nostdlibinc -isystem {}", dir.display())
        }
    };
    command.env("CFLAGS_aarch64_apple_darwin", flags);
    Ok(())
}

fn stub_headers() -> Result<PathBuf> {
    let dir = workspace_root().join("target/xtask/macos-stub-headers");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, text) in MACOS_STUB_HEADERS {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(dir)
}
