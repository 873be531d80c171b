//! `cargo xtask test-windows`: the Windows build runs, under Wine, here.
//!
//! Cross-builds for `x86_64-pc-windows-gnu` (mingw-w64) and runs, with Wine
//! as cargo's target runner, the unit and integration tests of exam-journal,
//! exam-policy, exam-protocol and exam-secure and kiosk-core's lib tests;
//! then `kioskctl.exe` scenarios with real files, the Credential Manager,
//! the Linux `kioskctl` on the same journal, the Linux `exam-hub` over
//! mutual TLS and the guard against Windows programs (see [`scenarios`]);
//! finally the NSIS installer, installed, used, upgraded and uninstalled
//! silently in a prefix of its own (`crate::package::windows::test_installer`).
//!
//! Wine is not Windows: what passes here passed under Wine. Every test that
//! cannot be meaningful under Wine is skipped by name in
//! [`SKIPPED_ON_WINDOWS`], with its reason, and listed in docs/platforms.md.
//! Wine runs in a private prefix under the target directory
//! (`<target>/wine-prefix`, created once with `wineboot -i`), headless, and
//! its wineserver is ended when the command ends.

use crate::platforms::{apt_install, present, rustup_target, windows_tools, WINDOWS_APT};
use crate::{cargo, workspace_root, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod scenarios;

pub(crate) const TARGET: &str = "x86_64-pc-windows-gnu";
/// Debian's 64-bit Wine (its loader is /usr/lib/wine/wine64; the `wine`
/// wrapper package is not needed for 64-bit programs).
const WINE_APT: &[&str] = &["wine64"];
/// Crates whose unit and integration tests run under Wine.
const TESTED: &[&str] = &["exam-journal", "exam-policy", "exam-protocol", "exam-secure"];

/// kiosk-core's integration tests that run under Wine (besides its lib
/// tests): the answer store's crash tests, the instrument packages (own and
/// QTI), web instruments, the startup checklist and the clipboard. The
/// others are about Linux (the guard's /proc and fanotify, the privileged
/// helper, cage and X11 displays).
const KIOSK_CORE_TESTS: &[&str] = &["answers_crash", "clipboard", "instrument", "instrument_qti", "kiosk_startup", "web_instrument"];

/// Tests that are skipped here: (crate, exact test name, why). Each is
/// printed when skipped and listed in docs/platforms.md with what runs
/// instead; the reason says whether Wine differs from Windows or the
/// Windows code does not exist yet.
pub(crate) const SKIPPED_ON_WINDOWS: &[(&str, &str, &str)] = &[(
    "exam-secure",
    "file::tests::a_private_file_gets_a_protected_dacl_for_the_current_user_only",
    "a Wine difference: Wine 8.0 keeps no DACL on a file (SetSecurityInfo succeeds, but the DACL \
     read back is made up from the Unix mode bits; no security descriptor is stored); the other \
     file tests run the private-file path, SetSecurityInfo included",
)];

/// Runs the Windows tests and scenarios under Wine; fails (after a
/// `SKIPPED:` line) when Wine or the cross toolchain cannot be set up.
pub fn test_windows(_args: &[String]) -> Result {
    let started = Instant::now();
    let wine = match setup() {
        Ok(wine) => wine,
        Err(why) => {
            println!("SKIPPED: test-windows: {why}; nothing ran under Wine");
            return Err(format!("test-windows could not set up: {why}"));
        }
    };
    // Every part runs; every verdict is reported. (For working on one part:
    // XTASK_WINDOWS_SCENARIOS_ONLY, XTASK_WINDOWS_INSTALLER_ONLY.)
    let only = |part: &str| std::env::var_os(format!("XTASK_WINDOWS_{part}_ONLY")).is_some();
    let tests = if only("SCENARIOS") || only("INSTALLER") { Ok(()) } else { unit_tests(&wine) };
    let scenarios = if only("INSTALLER") { Ok(()) } else { scenarios::run(&wine) };
    drop(wine);
    // In a prefix of its own: an installed program must not change what
    // the scenarios see, nor the other way round.
    let installer = if only("SCENARIOS") { Ok(()) } else { crate::package::windows::test_installer() };
    eprintln!("xtask: test-windows took {:.0} s", started.elapsed().as_secs_f64());
    let failures: Vec<String> = [tests, scenarios, installer].into_iter().filter_map(|r| r.err()).collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// Installs the target and the tools, and makes the Wine prefix.
fn setup() -> Result<Wine> {
    rustup_target(TARGET)?;
    windows_tools(WINDOWS_APT)?;
    Wine::start(target_dir().join("wine-prefix"))
}

impl Wine {
    /// Wine (installed with apt when missing) in `prefix`, made with
    /// `wineboot -i` when new, with the ProcessPrng stand-in, its server
    /// started.
    pub(crate) fn start(prefix: PathBuf) -> Result<Wine> {
        let (mut loader, mut server) = find_wine();
        if loader.is_none() || server.is_none() {
            apt_install(WINE_APT);
            (loader, server) = find_wine();
        }
        let (Some(loader), Some(server)) = (loader, server) else {
            return Err(format!("no Wine (apt {})", WINE_APT.join(" ")));
        };
        let wine = Wine { loader, server, prefix };
        wine.create()?;
        install_process_prng(&wine)?;
        wine.start_server()?;
        Ok(wine)
    }

    /// Makes the prefix with `wineboot -i` unless it exists.
    fn create(&self) -> Result {
        if self.prefix.join("system.reg").exists() {
            return Ok(());
        }
        eprintln!("xtask: creating the Wine prefix {}", self.prefix.display());
        std::fs::create_dir_all(&self.prefix).map_err(|e| format!("{}: {e}", self.prefix.display()))?;
        let status = self.command("wineboot").arg("-i").stdout(Stdio::null()).stderr(Stdio::null()).status();
        // wineboot returns before the server has written the registry.
        self.wait_server();
        if !matches!(status, Ok(s) if s.success()) || !self.prefix.join("system.reg").exists() {
            return Err(format!("wineboot -i could not create the prefix {}", self.prefix.display()));
        }
        Ok(())
    }
}

/// Rust's standard library (1.78 and later) takes its random bytes from
/// `ProcessPrng` in `bcryptprimitives.dll`, which every Windows 10 and 11
/// has but Wine 8 (Debian 12) does not: without it no Rust program starts
/// ("bcryptprimitives.dll not found"). When the prefix has none, a
/// ten-line one built here with mingw-w64 stands in: `ProcessPrng` through
/// `RtlGenRandom` (advapi32's `SystemFunction036`), which Wine implements
/// with the host's random source. docs/platforms.md lists this difference.
const PROCESS_PRNG_C: &str = r#"#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
"#;

fn install_process_prng(wine: &Wine) -> Result {
    let installed = wine.prefix.join("drive_c/windows/system32/bcryptprimitives.dll");
    if installed.exists() {
        return Ok(());
    }
    let dir = target_dir().join("wine-shims");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"));
    write("process_prng.c", PROCESS_PRNG_C)?;
    write("bcryptprimitives.def", "LIBRARY bcryptprimitives.dll\nEXPORTS\n    ProcessPrng\n")?;
    let built = dir.join("bcryptprimitives.dll");
    crate::run(
        Command::new("x86_64-w64-mingw32-gcc")
            .args(["-O2", "-shared", "-o"])
            .arg(&built)
            .arg(dir.join("process_prng.c"))
            .arg(dir.join("bcryptprimitives.def"))
            .arg("-ladvapi32"),
    )?;
    std::fs::copy(&built, &installed).map_err(|e| format!("{}: {e}", installed.display()))?;
    eprintln!("xtask: Wine has no bcryptprimitives.dll: installed a ProcessPrng shim in the prefix (docs/platforms.md)");
    Ok(())
}

/// Wine's loader and server: on PATH (the `wine` package), else Debian's
/// `wine64` package's own directory.
fn find_wine() -> (Option<PathBuf>, Option<PathBuf>) {
    let find = |names: &[&str], fallback: &str| {
        names
            .iter()
            .map(PathBuf::from)
            .find(|n| present(&n.to_string_lossy()))
            .or_else(|| Some(PathBuf::from(fallback)).filter(|p| p.exists()))
    };
    (find(&["wine64", "wine"], "/usr/lib/wine/wine64"), find(&["wineserver"], "/usr/lib/wine/wineserver"))
}

/// cargo for the Windows build, as every Windows build here is made (the
/// tests, the scenarios and the installer share its artifacts).
pub(crate) fn cross_cargo() -> Command {
    let mut cmd = cargo();
    // No debug info in the cross build: it only costs link time and
    // disk here (nobody debugs these binaries on this machine).
    cmd.env("CARGO_PROFILE_DEV_DEBUG", "false").env("CARGO_INCREMENTAL", "0");
    cmd
}

/// The cargo target directory (`CARGO_TARGET_DIR`, default `target/`).
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// Wine in its private prefix; ending it ends the prefix's wineserver (and
/// with it any Windows process of this prefix still running).
pub(crate) struct Wine {
    loader: PathBuf,
    server: PathBuf,
    prefix: PathBuf,
}

impl Wine {
    /// Sets the environment every Wine process of ours gets: our prefix,
    /// no debug output, no Mono/Gecko installers, no display (console
    /// programs only; Wine must not open windows on a developer's desktop).
    fn env(&self, cmd: &mut Command) {
        cmd.env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            // Wine turns the Unix argv into Windows' UTF-16 by the locale:
            // non-ASCII paths need a UTF-8 one.
            .env("LC_ALL", "C.UTF-8")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
    }

    /// `program` (a Windows executable: a path, or a name like `wineboot`) under Wine.
    pub(crate) fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(&self.loader);
        cmd.arg(program);
        self.env(&mut cmd);
        cmd
    }

    /// cargo for the Windows target with Wine as its runner.
    fn cargo(&self) -> Command {
        let mut cmd = cross_cargo();
        self.env(&mut cmd);
        cmd.env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER", &self.loader);
        cmd
    }

    /// Waits until the prefix's wineserver has ended (it lingers a few
    /// seconds after its last process, then writes the registry out).
    pub(crate) fn wait_server(&self) {
        let mut cmd = Command::new(&self.server);
        self.env(&mut cmd);
        let _ = cmd.arg("-w").status();
    }

    /// Starts the prefix's wineserver, persistent until [`Wine::end_server`],
    /// and Wine's own background processes (services.exe, winedevice.exe,
    /// ...) with no stdout: started by a program whose output is piped they
    /// would inherit the pipe and hold it open long after that program ended.
    pub(crate) fn start_server(&self) -> Result {
        let mut cmd = Command::new(&self.server);
        self.env(&mut cmd);
        let server = cmd.arg("-p").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        let boot = self.command("wineboot").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status();
        match (server, boot) {
            (Ok(s), Ok(b)) if s.success() && b.success() => Ok(()),
            other => Err(format!("wineserver -p and wineboot could not start: {other:?}")),
        }
    }

    /// Ends the prefix's wineserver now (it saves the registry first).
    pub(crate) fn end_server(&self) {
        let mut cmd = Command::new(&self.server);
        self.env(&mut cmd);
        let _ = cmd.arg("-k").stderr(Stdio::null()).status();
        self.wait_server();
    }

    /// The Windows path of a Linux path: Wine's `Z:` drive is `/`.
    pub(crate) fn windows_path(path: &Path) -> String {
        format!("Z:{}", path.to_string_lossy().replace('/', "\\"))
    }

    /// The prefix's `drive_c` etc.
    pub(crate) fn prefix(&self) -> &Path {
        &self.prefix
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        self.end_server();
    }
}

/// `cargo test` under Wine: the crates in [`TESTED`] whole, kiosk-core's
/// lib tests and [`KIOSK_CORE_TESTS`]; every test in [`SKIPPED_ON_WINDOWS`] skipped by exact name.
fn unit_tests(wine: &Wine) -> Result {
    let mut failures = Vec::new();
    let mut all: Vec<&str> = TESTED.to_vec();
    all.push("kiosk-core");
    for (krate, name, why) in SKIPPED_ON_WINDOWS {
        assert!(all.contains(krate), "{krate} is not tested under Wine");
        println!("xtask: windows: {krate}: SKIPPED {name}: {why} (docs/platforms.md)");
    }
    let mut kiosk_core = vec!["--lib"];
    for test in KIOSK_CORE_TESTS {
        kiosk_core.extend(["--test", test]);
    }
    let runs: [(Vec<&str>, &[&str]); 2] = [(TESTED.to_vec(), &[]), (vec!["kiosk-core"], &kiosk_core)];
    for (crates, extra) in runs {
        let mut cmd = wine.cargo();
        cmd.args(["test", "--no-fail-fast", "--target", TARGET]);
        for krate in &crates {
            cmd.args(["-p", krate]);
        }
        // exam-journal's keyring test then uses Wine's Credential Manager.
        cmd.env("EXAM_KIOSK_KEYRING_TESTS", "1").args(extra).arg("--");
        let skips: Vec<&str> = SKIPPED_ON_WINDOWS.iter().filter(|(k, _, _)| crates.contains(k)).map(|(_, n, _)| *n).collect();
        if !skips.is_empty() {
            cmd.arg("--exact");
            for name in skips {
                cmd.args(["--skip", name]);
            }
        }
        println!("xtask: windows: cargo test --target {TARGET} -p {} {} (under Wine)", crates.join(" -p "), extra.join(" "));
        match cmd.status() {
            Ok(s) if s.success() => {}
            _ => failures.push(crates.join(", ")),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("tests failed under Wine: {}", failures.join("; ")))
    }
}

/// The output of a program that ran to its end (or was ended after `limit`).
pub(crate) struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to its end, ending it (the process we started, by its id) when
/// it takes longer than `limit`: a hang is a failure, not a stuck CI run.
pub(crate) fn run_limited(cmd: &mut Command, limit: Duration) -> Result<Output> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    // Each pipe is read in chunks sent over a channel, so that what the
    // program wrote is taken once it has ended even if the pipe never closes:
    // a Wine process started meanwhile (explorer.exe /desktop, started on
    // demand) can inherit the pipe and hold it open for as long as the
    // prefix lives. Before, the read waited for that end and test-windows
    // hung for good after a scenario's kioskctl.exe had exited.
    fn reader(mut pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<Vec<u8>> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        rx
    }
    let out_reader = reader(child.stdout.take().expect("piped"));
    let err_reader = reader(child.stderr.take().expect("piped"));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait().map_err(|e| e.to_string())? {
            Some(status) => break status,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{cmd:?} did not end within {} s (ended it)", limit.as_secs()));
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    // The program has ended: what it wrote is in the pipe now. Taken until
    // the pipe closes, or until it stays quiet for a moment (held open by
    // another process).
    let drain = |rx: std::sync::mpsc::Receiver<Vec<u8>>| {
        let mut all = Vec::new();
        while let Ok(chunk) = rx.recv_timeout(Duration::from_secs(2)) {
            all.extend_from_slice(&chunk);
        }
        String::from_utf8_lossy(&all).replace("\r\n", "\n")
    };
    Ok(Output { code: status.code(), stdout: drain(out_reader), stderr: drain(err_reader) })
}
