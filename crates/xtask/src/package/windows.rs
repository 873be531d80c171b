//! `cargo xtask package --target windows [--debug]`: `exam-kiosk.exe` and
//! `kioskctl.exe` cross-built for `x86_64-pc-windows-gnu` (mingw-w64), and
//! the NSIS installer (`installer/windows/exam-kiosk.nsi`, Debian's
//! `makensis`) in `<target>/dist/windows/` (`--debug`: `dist/windows/debug/`).
//!
//! [`test_installer`] is `cargo xtask test-windows`' installer step: the
//! debug installer, silently installed, used, upgraded and uninstalled
//! under Wine in a prefix of its own.

use super::{io, Build};
use crate::platforms::{apt_install, rustup_target, windows_tools, WINDOWS_APT};
use crate::windows::{run_limited, target_dir, Output, Wine, TARGET};
use crate::{workspace_root, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's NSIS (makensis and its 64-bit stubs).
const NSIS_APT: &[&str] = &["nsis"];
/// The installer script, from the workspace root.
const SCRIPT: &str = "installer/windows/exam-kiosk.nsi";
/// The installer's exit code when it installed but found no WebView2
/// runtime (`EXIT_NO_WEBVIEW2` in the script).
const EXIT_NO_WEBVIEW2: i32 = 3;
/// The program files in the installer, besides `policies\` and `doc\`.
const PROGRAM_FILES: &[&str] = &["exam-kiosk.exe", "kioskctl.exe", "WebView2Loader.dll"];
/// The PE optional header's subsystem for a program with no console.
const SUBSYSTEM_GUI: u16 = 2;

/// `cargo xtask package --target windows`: prints the installer's path.
pub fn package_command(build: Build) -> Result {
    let installer = package(build)?;
    println!("{}", installer.display());
    Ok(())
}

/// makensis, installed with apt when missing.
fn makensis() -> Result {
    if !present_nsis() {
        apt_install(NSIS_APT);
    }
    if present_nsis() {
        Ok(())
    } else {
        Err(format!("no makensis (apt {})", NSIS_APT.join(" ")))
    }
}

/// `makensis -VERSION` (it has no `--version`).
fn present_nsis() -> bool {
    Command::new("makensis").arg("-VERSION").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// The workspace's version as the four numbers Windows' version resource
/// wants (`0.1.0` → `0.1.0.0`; a pre-release or build suffix is dropped).
fn four_part_version(version: &str) -> Result<String> {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let mut parts: Vec<u16> = core
        .split('.')
        .map(|p| p.parse::<u16>().map_err(|_| format!("version {version:?}: {p:?} is not a number up to 65535")))
        .collect::<Result<_>>()?;
    if parts.is_empty() || parts.len() > 4 {
        return Err(format!("version {version:?} does not have one to four numbers"));
    }
    parts.resize(4, 0);
    Ok(parts.iter().map(u16::to_string).collect::<Vec<_>>().join("."))
}

/// Cross-builds both programs and writes the installer; returns its path.
pub fn package(build: Build) -> Result<PathBuf> {
    rustup_target(TARGET)?;
    windows_tools(WINDOWS_APT)?;
    makensis()?;
    let (profile, dist) = match build {
        Build::Release => ("release", target_dir().join("dist/windows")),
        Build::Debug => ("debug", target_dir().join("dist/windows/debug")),
    };
    // One package per build, each exactly as `test-windows` builds it, so
    // kioskctl.exe is shared with its scenarios (features are unified per
    // build: together they would be a second copy of every shared crate).
    for package in ["kioskctl", "exam-kiosk"] {
        let mut cargo = crate::windows::cross_cargo();
        cargo.args(["build", "--target", TARGET, "-p", package]);
        if build == Build::Release {
            cargo.arg("--release");
        }
        crate::run(&mut cargo)?;
    }
    let bin_dir = target_dir().join(TARGET).join(profile);
    let version = env!("CARGO_PKG_VERSION");
    let stage = dist.join("stage");
    let _ = std::fs::remove_dir_all(&stage);
    io(&stage, std::fs::create_dir_all(&stage))?;
    for exe in ["exam-kiosk.exe", "kioskctl.exe"] {
        // No debug info in the installer (the mingw strip knows PE files).
        crate::run(Command::new("x86_64-w64-mingw32-strip").arg("--strip-debug").arg("-o").arg(stage.join(exe)).arg(bin_dir.join(exe)))?;
    }
    let loader = webview2_loader(&bin_dir)?;
    io(&loader, std::fs::copy(&loader, stage.join("WebView2Loader.dll")))?;
    let root = workspace_root();
    // Policies, schema and public keys, as in the .deb; never private keys.
    let policies = stage.join("policies");
    io(&policies, std::fs::create_dir_all(&policies))?;
    for entry in io(&root.join("policies"), std::fs::read_dir(root.join("policies")))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if [".toml", ".json", ".pub", ".pem"].iter().any(|ext| name.ends_with(ext)) {
            io(&entry.path(), std::fs::copy(entry.path(), policies.join(&name)))?;
        }
    }
    let doc = stage.join("doc");
    io(&doc, std::fs::create_dir_all(&doc))?;
    for name in ["installer.md", "byod.md", "platforms.md"] {
        let src = root.join("docs").join(name);
        io(&src, std::fs::copy(&src, doc.join(name)))?;
    }
    io(&doc, std::fs::write(doc.join("copyright.txt"), super::copyright()))?;

    let installer = dist.join(format!("exam-kiosk_{version}_windows_x64.exe"));
    let mut makensis = Command::new("makensis");
    makensis
        .args(["-INPUTCHARSET", "UTF8", "-V2", "-WX"])
        .arg(format!("-DVERSION={version}"))
        .arg(format!("-DVIVERSION={}", four_part_version(version)?))
        .arg(format!("-DSTAGE={}", stage.display()))
        .arg(format!("-DOUTFILE={}", installer.display()));
    if build == Build::Debug {
        makensis.arg("-DFAST");
    }
    crate::run(makensis.arg(root.join(SCRIPT)).stdout(Stdio::null()))?;
    Ok(installer)
}

/// The WebView2Loader.dll that webview2-com-sys's build script put next to
/// the import library exam-kiosk.exe was linked against (the newest, if
/// old builds left more).
fn webview2_loader(bin_dir: &Path) -> Result<PathBuf> {
    let build = bin_dir.join("build");
    let newest = io(&build, std::fs::read_dir(&build))?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("webview2-com-sys-"))
        .map(|e| e.path().join("out/x64/WebView2Loader.dll"))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .max();
    newest.map(|(_, p)| p).ok_or_else(|| format!("no webview2-com-sys-*/out/x64/WebView2Loader.dll under {}", build.display()))
}

/// The subsystem field of a PE file's optional header (2: GUI, 3: console).
fn pe_subsystem(exe: &Path) -> Result<u16> {
    let bytes = io(exe, std::fs::read(exe))?;
    let u32_at = |at: usize| bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let pe = u32_at(0x3c).ok_or("too short for a PE file")? as usize;
    if bytes.get(pe..pe + 4) != Some(b"PE\0\0") {
        return Err(format!("{}: no PE signature", exe.display()));
    }
    // Signature (4), COFF header (20), then Subsystem at 68 in PE32 and PE32+.
    let at = pe + 4 + 20 + 68;
    bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]])).ok_or_else(|| format!("{}: truncated PE header", exe.display()))
}

// --- The installer test --------------------------------------------------------

const UNINSTALL_KEY: &str = r"HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\exam-kiosk";
const ENVIRONMENT_KEY: &str = r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment";
/// Where the installer looks for the Evergreen runtime (32-bit view on 64-bit Windows).
const WEBVIEW2_KEY: &str = r"HKLM\SOFTWARE\Wow6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}";
const INSTALL_DIR: &str = r"C:\Program Files\exam-kiosk";
const DATA_DIR: &str = r"C:\ProgramData\exam-kiosk";
/// An installer, uninstaller or program run that takes longer hangs.
const LIMIT: Duration = Duration::from_secs(120);

fn check(ok: bool, what: impl std::fmt::Display) -> Result {
    if ok {
        println!("xtask: windows:   ok: {what}");
        Ok(())
    } else {
        Err(format!("installer: {what}: FAILED"))
    }
}

fn show(out: &Output) -> String {
    format!("exit {:?}\nstdout: {}\nstderr: {}", out.code, out.stdout.trim(), out.stderr.trim())
}

/// `out` ended with `code` (and `also` holds); the whole output when not.
fn check_run(out: &Output, code: i32, also: bool, what: impl std::fmt::Display) -> Result {
    if out.code == Some(code) && also {
        check(true, format!("{what} (exit {code})"))
    } else {
        Err(format!("installer: {what}: FAILED\n{}", show(out)))
    }
}

/// `cargo xtask test-windows`' installer step; fails (after a `SKIPPED:`
/// line) when NSIS or Wine cannot be set up.
pub(crate) fn test_installer() -> Result {
    let started = Instant::now();
    if let Err(why) = makensis() {
        println!("SKIPPED: test-windows: the installer: {why}; it was not built or tested");
        return Err(format!("the installer test could not set up: {why}"));
    }
    println!("xtask: windows: building the installer (debug build)");
    let installer = package(Build::Debug)?;
    let wine = match Wine::start(target_dir().join("wine-prefix-installer")) {
        Ok(wine) => wine,
        Err(why) => {
            println!("SKIPPED: test-windows: the installer: {why}; it was built but not tested");
            return Err(format!("the installer test could not set up Wine: {why}"));
        }
    };
    println!("xtask: windows: the installer under Wine: {}", installer.display());
    let result = install_use_upgrade_uninstall(&wine, &installer);
    drop(wine);
    match &result {
        Ok(()) => println!("xtask: windows: the installer: ok ({:.0} s)", started.elapsed().as_secs_f64()),
        Err(why) => println!("xtask: windows: the installer: FAILED: {why}"),
    }
    result
}

/// The value of `name` under `key` (`reg query`), `None` when there is none.
fn reg_value(wine: &Wine, key: &str, name: &str) -> Result<Option<String>> {
    let out = run_limited(wine.command("reg").args(["query", key, "/v", name]), LIMIT)?;
    match out.code {
        // "    NAME    REG_SZ    value"
        Some(0) => Ok(out.stdout.lines().find_map(|line| {
            let mut fields = line.trim().splitn(3, "    ");
            (fields.next() == Some(name)).then(|| fields.nth(1).unwrap_or_default().to_owned())
        })),
        Some(1) => Ok(None),
        _ => Err(format!("reg query {key} /v {name}: {}", show(&out))),
    }
}

fn reg_key_exists(wine: &Wine, key: &str) -> Result<bool> {
    let out = run_limited(wine.command("reg").args(["query", key]), LIMIT)?;
    Ok(out.code == Some(0))
}

fn reg(wine: &Wine, args: &[&str]) -> Result<Output> {
    run_limited(wine.command("reg").args(args), LIMIT)
}

/// Every file under `dir` with its bytes, sorted by path.
fn snapshot(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for entry in io(&d, std::fs::read_dir(&d))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let bytes = io(&path, std::fs::read(&path))?;
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The machine environment variables the installer sets (kiosk.env on Linux).
fn machine_variables(wine: &Wine) -> Result<[Option<String>; 3]> {
    Ok([
        reg_value(wine, ENVIRONMENT_KEY, "EXAM_KIOSK_DATA")?,
        reg_value(wine, ENVIRONMENT_KEY, "EXAM_KIOSK_POLICY")?,
        reg_value(wine, ENVIRONMENT_KEY, "EXAM_KIOSK_STORE")?,
    ])
}

fn install_use_upgrade_uninstall(wine: &Wine, installer: &Path) -> Result {
    let drive_c = wine.prefix().join("drive_c");
    let install_dir = drive_c.join("Program Files/exam-kiosk");
    let data_dir = drive_c.join("ProgramData/exam-kiosk");
    let version = env!("CARGO_PKG_VERSION");

    // A clean machine (the prefix is kept between runs): no program, no
    // entry, no variables, no WebView2 runtime; then data of an earlier
    // sitting already in the data directory.
    for dir in [&install_dir, &data_dir] {
        if dir.exists() {
            io(dir, std::fs::remove_dir_all(dir))?;
        }
    }
    for key in [UNINSTALL_KEY, WEBVIEW2_KEY] {
        let _ = reg(wine, &["delete", key, "/f"])?;
    }
    for name in ["EXAM_KIOSK_DATA", "EXAM_KIOSK_POLICY", "EXAM_KIOSK_STORE"] {
        let _ = reg(wine, &["delete", ENVIRONMENT_KEY, "/v", name, "/f"])?;
    }
    check(!reg_key_exists(wine, UNINSTALL_KEY)? && machine_variables(wine)? == [None, None, None], "the prefix starts without exam-kiosk")?;
    let earlier = data_dir.join("antwoorden").join("eerdere zitting Zoë.json");
    io(&earlier, std::fs::create_dir_all(earlier.parent().expect("has a parent")))?;
    io(&earlier, std::fs::write(&earlier, "{\"item\":\"q1\",\"value\":\"B\"}\n"))?;

    // 1. Silent install without the WebView2 runtime: installed, exit 3.
    let first = run_limited(wine.command(installer).arg("/S"), LIMIT)?;
    check_run(&first, EXIT_NO_WEBVIEW2, true, "without a WebView2 runtime the silent install says so")?;
    for file in PROGRAM_FILES.iter().chain(&["uninstall.exe", "policies/school-pc.toml", "doc/installer.md"]) {
        check(install_dir.join(file).is_file(), format!(r"{INSTALL_DIR}\{} installed", file.replace('/', "\\")))?;
    }
    check(
        !install_dir.join("policies").read_dir().map_err(|e| e.to_string())?.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".key")),
        "no private keys shipped",
    )?;
    let subsystem = pe_subsystem(&install_dir.join("exam-kiosk.exe"))?;
    check(subsystem == SUBSYSTEM_GUI, format!("exam-kiosk.exe is a GUI program: no console window behind the kiosk (PE subsystem {subsystem})"))?;
    let quiet = reg_value(wine, UNINSTALL_KEY, "QuietUninstallString")?;
    check(
        reg_value(wine, UNINSTALL_KEY, "DisplayVersion")?.as_deref() == Some(version)
            && reg_value(wine, UNINSTALL_KEY, "UninstallString")?.as_deref() == Some(format!("\"{INSTALL_DIR}\\uninstall.exe\"").as_str())
            && quiet.as_deref() == Some(format!("\"{INSTALL_DIR}\\uninstall.exe\" /S").as_str()),
        format!("the uninstall entry (Apps & features) has version {version} and the (quiet) uninstaller: {quiet:?}"),
    )?;
    let policy = format!(r"{INSTALL_DIR}\policies\school-pc.toml");
    let variables = machine_variables(wine)?;
    check(
        variables == [Some(DATA_DIR.to_owned()), Some(policy.clone()), Some("keyring".to_owned())],
        format!("the machine environment says where data, policy and key are: {variables:?}"),
    )?;

    // 2. The installed programs run, from where the registry says.
    let kioskctl = format!(r"{INSTALL_DIR}\kioskctl.exe");
    let out = run_limited(wine.command(&kioskctl).arg("--version"), LIMIT)?;
    check_run(&out, 0, out.stdout.trim() == format!("kioskctl {version}"), format!("kioskctl.exe --version: {}", out.stdout.trim()))?;
    // --help answers before Tauri starts; the program must load, with every
    // DLL it imports (WebView2Loader.dll beside it).
    let out = run_limited(wine.command(format!(r"{INSTALL_DIR}\exam-kiosk.exe")).arg("--help"), LIMIT)?;
    check_run(&out, 0, out.stdout.starts_with("exam-kiosk --data DIR"), "exam-kiosk.exe loads and answers --help")?;
    let out = run_limited(wine.command(&kioskctl).args(["policy", "check", policy.as_str()]), LIMIT)?;
    check_run(&out, 0, true, "kioskctl.exe policy check on the installed school-pc.toml")?;
    // A journal where the kiosk keeps it, by the installed kioskctl.exe.
    let store = format!(r"file:{DATA_DIR}\device.key");
    let journal = format!(r"{DATA_DIR}\journal");
    for args in [
        vec!["device", "init", "--store", store.as_str()],
        vec!["journal", "append", "--journal", journal.as_str(), "--store", store.as_str(), "--kind", "installer.test", "--data", "{\"stap\":\"na installatie\"}"],
        vec!["journal", "verify", journal.as_str()],
    ] {
        let out = run_limited(wine.command(&kioskctl).args(&args), LIMIT)?;
        check_run(&out, 0, true, format!("kioskctl.exe {}: {}", args[..2].join(" "), out.stdout.lines().next().unwrap_or_default()))?;
    }

    // 3. An upgrade (the same version again) with the runtime present:
    // exit 0, and IT's own policy setting survives it.
    let bundle = format!(r"{DATA_DIR}\school-pc.bundle");
    for args in [["add", WEBVIEW2_KEY, "/v", "pv", "/d", "131.0.2903.70", "/f"], ["add", ENVIRONMENT_KEY, "/v", "EXAM_KIOSK_POLICY", "/d", bundle.as_str(), "/f"]] {
        let out = reg(wine, &args)?;
        check_run(&out, 0, true, format!("reg {}", args[..4].join(" ")))?;
    }
    let second = run_limited(wine.command(installer).arg("/S"), LIMIT)?;
    check_run(&second, 0, true, "again, with the WebView2 runtime in the registry")?;
    let variables = machine_variables(wine)?;
    check(variables[1].as_deref() == Some(bundle.as_str()), format!("the upgrade kept IT's EXAM_KIOSK_POLICY ({:?})", variables[1]))?;

    // 4. Silent uninstall, through the registry's quiet uninstall string:
    // the program, its entry and its variables go; the data stays, byte for byte.
    let data_before = snapshot(&data_dir)?;
    check(data_before.len() >= 3, format!("{} files of data before the uninstall (earlier answers, device key, journal)", data_before.len()))?;
    let uninstaller = format!(r"{INSTALL_DIR}\uninstall.exe");
    check(quiet.as_deref() == Some(format!("\"{uninstaller}\" /S").as_str()), "the quiet uninstall string names the uninstaller")?;
    let out = run_limited(wine.command(&uninstaller).arg("/S"), LIMIT)?;
    check_run(&out, 0, true, "the silent uninstall starts")?;
    // The uninstaller copies itself to %TEMP% and returns; the copy removes the files.
    let deadline = Instant::now() + LIMIT;
    while install_dir.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    check(!install_dir.exists(), format!(r"{INSTALL_DIR} is gone"))?;
    check(!reg_key_exists(wine, UNINSTALL_KEY)?, "the uninstall entry is gone")?;
    check(machine_variables(wine)? == [None, None, None], "the machine environment variables are gone")?;
    check(snapshot(&data_dir)? == data_before, format!(r"{DATA_DIR} is untouched: {} files, the same bytes (evidence is never erased)", data_before.len()))?;
    check(io(&earlier, std::fs::read(&earlier))?.starts_with(b"{\"item\""), "the earlier sitting's answers are still there")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_become_four_numbers() {
        assert_eq!(four_part_version("0.1.0").unwrap(), "0.1.0.0");
        assert_eq!(four_part_version("2.10.3-rc.1+build.5").unwrap(), "2.10.3.0");
        assert_eq!(four_part_version("1.2.3.4").unwrap(), "1.2.3.4");
        assert!(four_part_version("1.x.0").unwrap_err().contains("\"x\" is not a number"));
        assert!(four_part_version("1.2.3.4.5").is_err());
        assert!(four_part_version("70000.0.0").is_err());
    }
}
