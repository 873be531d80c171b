//! `cargo xtask package` and `cargo xtask test-deb`; `cargo xtask package
//! --target windows` is [`windows`].
//!
//! The `.deb` is written with `dpkg-deb` from a staged tree (no extra tool).
//! `package` builds release binaries; the test in `cargo xtask test`
//! packages the debug binaries that `cargo build --workspace` already built
//! (stripped of debug info), so CI never pays for a release build of the
//! Tauri app.

pub(crate) mod windows;

use crate::{cargo, run, workspace_root, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Debian package name.
const PACKAGE: &str = "exam-kiosk";
/// The kiosk's user.
const KIOSK_USER: &str = "examkiosk";
/// Binaries in the package: (cargo package, binary, installed path).
const BINARIES: &[(&str, &str, &str)] = &[
    ("exam-kiosk", "exam-kiosk", "usr/bin/exam-kiosk"),
    ("kioskctl", "kioskctl", "usr/bin/kioskctl"),
    ("exam-privhelper", "exam-kiosk-helper", "usr/libexec/exam-kiosk/exam-kiosk-helper"),
];

/// The logind drop-in that makes the power and suspend keys do nothing.
const LOGIND_DROP_IN: &str = "/usr/lib/systemd/logind.conf.d/exam-kiosk.conf";

/// Which build goes into the package.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// `cargo build --release` (what `cargo xtask package` ships).
    Release,
    /// The debug binaries already in target/debug (tests only).
    Debug,
}

pub(crate) fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.trim_ascii() == b"0").unwrap_or(false)
}

pub(crate) fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn io<T>(what: &Path, r: std::io::Result<T>) -> Result<T> {
    r.map_err(|e| format!("{}: {e}", what.display()))
}

fn install_file(src: &Path, dest: &Path, mode: u32) -> Result {
    use std::os::unix::fs::PermissionsExt as _;
    io(dest, std::fs::create_dir_all(dest.parent().expect("has a parent")))?;
    io(src, std::fs::copy(src, dest))?;
    io(dest, std::fs::set_permissions(dest, std::fs::Permissions::from_mode(mode)))
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

/// `cargo xtask package [--target linux|windows] [--debug]`: release
/// binaries and the .deb in target/dist/, or the Windows installer
/// ([`windows`]).
pub fn package_command(args: &[String]) -> Result {
    let mut build = Build::Release;
    let mut target = "linux";
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--debug" => build = Build::Debug,
            "--target" => target = args.next().map(String::as_str).ok_or("--target needs linux or windows")?,
            other => return Err(format!("package: unknown argument {other:?}; usage: package [--target linux|windows] [--debug]")),
        }
    }
    match target {
        "linux" => {}
        "windows" => return windows::package_command(build),
        other => return Err(format!("package: unknown target {other:?}; expected linux or windows")),
    }
    let deb = package(build)?;
    println!("{}", deb.display());
    Ok(())
}

/// Builds the `.deb` and returns its path.
pub fn package(build: Build) -> Result<PathBuf> {
    let root = workspace_root();
    let packages: Vec<&str> = BINARIES.iter().flat_map(|(p, _, _)| ["-p", p]).collect();
    let (bin_dir, dist) = match build {
        Build::Release => {
            run(cargo().args(["build", "--release"]).args(&packages))?;
            (root.join("target/release"), root.join("target/dist"))
        }
        Build::Debug => {
            // Normally a no-op: `cargo xtask test` built the workspace already.
            run(cargo().args(["build", "--quiet"]).args(&packages))?;
            (root.join("target/debug"), root.join("target/dist/debug"))
        }
    };
    let version = env!("CARGO_PKG_VERSION");
    let arch = output(Command::new("dpkg").arg("--print-architecture"))?;
    let stage = dist.join(format!("stage/{PACKAGE}_{version}_{arch}"));
    let _ = std::fs::remove_dir_all(&stage);
    io(&stage, std::fs::create_dir_all(&stage))?;

    for (_, bin, dest) in BINARIES {
        let src = bin_dir.join(bin);
        let dest = stage.join(dest);
        io(&dest, std::fs::create_dir_all(dest.parent().expect("has a parent")))?;
        // Debug info stays out of the package (a debug exam-kiosk is ~300 MB with it).
        let stripped = Command::new("strip").arg("--strip-debug").arg("-o").arg(&dest).arg(&src).status();
        if !matches!(stripped, Ok(s) if s.success()) {
            install_file(&src, &dest, 0o755)?;
        }
        use std::os::unix::fs::PermissionsExt as _;
        io(&dest, std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)))?;
    }
    let linux = root.join("installer/linux");
    install_file(&linux.join("bin/exam-kiosk-session"), &stage.join("usr/libexec/exam-kiosk/exam-kiosk-session"), 0o755)?;
    install_file(&linux.join("bin/exam-in-progress"), &stage.join("usr/libexec/exam-kiosk/exam-in-progress"), 0o755)?;
    for unit in ["exam-kiosk-helper.service", "exam-kiosk-session.service"] {
        install_file(&linux.join("systemd").join(unit), &stage.join("lib/systemd/system").join(unit), 0o644)?;
    }
    install_file(&linux.join("kiosk.env"), &stage.join("etc/exam-kiosk/kiosk.env"), 0o644)?;
    install_file(&linux.join("logind/exam-kiosk.conf"), &stage.join(LOGIND_DROP_IN.trim_start_matches('/')), 0o644)?;
    // Policies, schema and public keys; never private keys or secrets.
    for entry in io(&root.join("policies"), std::fs::read_dir(root.join("policies")))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if [".toml", ".json", ".pub", ".pem"].iter().any(|ext| name.ends_with(ext)) {
            install_file(&entry.path(), &stage.join("usr/share/exam-kiosk/policies").join(&name), 0o644)?;
        }
    }
    let doc = stage.join("usr/share/doc").join(PACKAGE);
    for name in ["installer.md", "byod.md"] {
        let src = root.join("docs").join(name);
        if src.exists() {
            install_file(&src, &doc.join(name), 0o644)?;
        }
    }
    io(&doc, std::fs::create_dir_all(&doc))?;
    io(&doc, std::fs::write(doc.join("copyright"), copyright()))?;

    let debian = stage.join("DEBIAN");
    io(&debian, std::fs::create_dir_all(&debian))?;
    let control = io(&linux, std::fs::read_to_string(linux.join("debian/control.in")))?
        .replace("@VERSION@", version)
        .replace("@ARCH@", &arch)
        .replace("@INSTALLED_SIZE@", &(dir_size(&stage) / 1024).to_string());
    io(&debian, std::fs::write(debian.join("control"), control))?;
    install_file(&linux.join("debian/conffiles"), &debian.join("conffiles"), 0o644)?;
    let exam_check = io(&linux, std::fs::read_to_string(linux.join("debian/exam-check.sh")))?;
    for script in ["preinst", "postinst", "prerm", "postrm"] {
        let text = io(&linux, std::fs::read_to_string(linux.join("debian").join(script)))?.replace("#EXAM_CHECK#", &exam_check);
        let dest = debian.join(script);
        io(&dest, std::fs::write(&dest, text))?;
        use std::os::unix::fs::PermissionsExt as _;
        io(&dest, std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)))?;
    }

    let deb = dist.join(format!("{PACKAGE}_{version}_{arch}.deb"));
    // Release: xz, small. Test builds: fast gzip.
    let compression: &[&str] = match build {
        Build::Release => &["-Zxz"],
        Build::Debug => &["-Zgzip", "-z1"],
    };
    run(Command::new("dpkg-deb")
        .arg("--root-owner-group")
        .args(compression)
        .arg("--build")
        .arg(&stage)
        .arg(&deb)
        .stdout(Stdio::null()))?;
    Ok(deb)
}

fn copyright() -> String {
    format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: exam-kiosk\n\
         Source: {}\n\n\
         Files: *\n\
         License: {}\n",
        env!("CARGO_PKG_REPOSITORY"),
        env!("CARGO_PKG_LICENSE")
    )
}

// --- The package test --------------------------------------------------------

/// Everything the package may leave on the machine, checked after purge.
const LEFTOVER_PATHS: &[&str] = &[
    "/usr/bin/exam-kiosk",
    "/usr/bin/kioskctl",
    "/usr/libexec/exam-kiosk",
    "/usr/share/exam-kiosk",
    "/usr/share/doc/exam-kiosk",
    "/lib/systemd/system/exam-kiosk-helper.service",
    "/lib/systemd/system/exam-kiosk-session.service",
    "/etc/exam-kiosk",
    "/var/lib/exam-kiosk",
    "/var/lib/exam-kiosk-helper",
    "/run/exam-kiosk-helper",
    LOGIND_DROP_IN,
];

/// Unit links and systemd helper state mentioning our units.
fn unit_leftovers() -> Vec<String> {
    let mut found = Vec::new();
    for base in ["/etc/systemd/system", "/var/lib/systemd/deb-systemd-helper-enabled", "/var/lib/systemd/deb-systemd-helper-masked"] {
        find_named(Path::new(base), "exam-kiosk", &mut found);
    }
    found
}

fn find_named(dir: &Path, needle: &str, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().contains(needle) {
            found.push(path.display().to_string());
        } else if entry.file_type().is_ok_and(|t| t.is_dir()) {
            find_named(&path, needle, found);
        }
    }
}

fn package_installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", PACKAGE])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("installed"))
}

fn user_exists(name: &str) -> bool {
    Command::new("getent").args(["passwd", name]).stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn group_exists(name: &str) -> bool {
    Command::new("getent").args(["group", name]).stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn check(ok: bool, what: &str) -> Result {
    if ok {
        println!("  ok: {what}");
        Ok(())
    } else {
        Err(format!("package test: {what}: FAILED"))
    }
}

/// `cargo xtask test-deb`: package the debug build, install it into this
/// machine, check users, files and units, start the kiosk under cage
/// headless as `examkiosk` and capture it with grim, test exam-time removal
/// refusal, purge, and check nothing is left. Root only; otherwise SKIPPED.
pub fn test_deb(_args: &[String]) -> Result {
    let deb = package(Build::Debug)?;
    println!("xtask: built {}", deb.display());
    if !is_root() {
        println!("SKIPPED: needs root (installing the .deb into this machine with dpkg)");
        return Ok(());
    }
    if package_installed() || user_exists(KIOSK_USER) || group_exists(KIOSK_USER) {
        println!("SKIPPED: {PACKAGE} or the {KIOSK_USER} user already exists on this machine; not touching it");
        return Ok(());
    }
    let before = unit_leftovers();
    let result = install_and_check(&deb);
    // Always purge, also when a check failed; forced so a test session.json never blocks it.
    let purged = run(Command::new("dpkg").args(["--purge", PACKAGE]).env("EXAM_KIOSK_FORCE", "1").stdout(Stdio::null()));
    result?;
    purged?;
    println!("xtask: purged; checking nothing is left");
    check(!package_installed(), "the package is gone")?;
    check(!user_exists(KIOSK_USER), "the examkiosk user is gone")?;
    check(!group_exists(KIOSK_USER), "the examkiosk group is gone")?;
    let left: Vec<&&str> = LEFTOVER_PATHS.iter().filter(|p| Path::new(p).exists()).collect();
    check(left.is_empty(), &format!("no files left ({left:?})"))?;
    let units: Vec<String> = unit_leftovers().into_iter().filter(|u| !before.contains(u)).collect();
    check(units.is_empty(), &format!("no unit links or helper state left ({units:?})"))?;
    println!("xtask: package test passed");
    Ok(())
}

fn install_and_check(deb: &Path) -> Result {
    println!("xtask: installing {} with dpkg", deb.display());
    run(Command::new("dpkg").arg("-i").arg(deb).env("DEBIAN_FRONTEND", "noninteractive").stdout(Stdio::null()))?;
    let passwd = output(Command::new("getent").args(["passwd", KIOSK_USER]))?;
    let fields: Vec<&str> = passwd.split(':').collect();
    let uid: u32 = fields.get(2).and_then(|u| u.parse().ok()).unwrap_or(0);
    check(uid > 0 && uid < 1000, &format!("{KIOSK_USER} is an unprivileged system user (uid {uid})"))?;
    check(fields.get(5) == Some(&"/var/lib/exam-kiosk"), "its home is /var/lib/exam-kiosk")?;
    check(fields.get(6) == Some(&"/usr/sbin/nologin"), "it has no login shell")?;
    let data = output(Command::new("stat").args(["-c", "%U %a", "/var/lib/exam-kiosk"]))?;
    check(data == format!("{KIOSK_USER} 700"), &format!("/var/lib/exam-kiosk is {KIOSK_USER}'s, mode 700 ({data})"))?;
    let key = output(Command::new("stat").args(["-c", "%U", "/var/lib/exam-kiosk/device.key"])).unwrap_or_default();
    check(key == KIOSK_USER, "the device key was created, owned by examkiosk")?;
    for path in [
        "/usr/bin/exam-kiosk",
        "/usr/bin/kioskctl",
        "/usr/libexec/exam-kiosk/exam-kiosk-helper",
        "/usr/libexec/exam-kiosk/exam-kiosk-session",
        "/usr/share/exam-kiosk/policies/school-pc.toml",
        "/usr/share/exam-kiosk/policies/byod.toml",
        "/lib/systemd/system/exam-kiosk-helper.service",
        "/lib/systemd/system/exam-kiosk-session.service",
        "/etc/exam-kiosk/kiosk.env",
        LOGIND_DROP_IN,
    ] {
        check(Path::new(path).exists(), &format!("{path} installed"))?;
    }
    check(!Path::new("/usr/share/exam-kiosk/policies/demo-instrument.key").exists(), "no private keys shipped")?;
    // What logind will read (its drop-in directories merged), not just our file.
    let logind = output(Command::new("systemd-analyze").args(["cat-config", "systemd/logind.conf"]))
        .unwrap_or_else(|_| std::fs::read_to_string(LOGIND_DROP_IN).unwrap_or_default());
    check(
        logind.contains(LOGIND_DROP_IN)
            && ["HandlePowerKey=ignore", "HandleSuspendKey=ignore", "HandleLidSwitch=ignore"].iter().all(|k| logind.contains(k)),
        "logind's configuration includes the drop-in: power, suspend and lid keys do nothing",
    )?;
    // cage allows VT switching (Ctrl+Alt+F1...) only with -s.
    let session_unit = std::fs::read_to_string("/lib/systemd/system/exam-kiosk-session.service").unwrap_or_default();
    let exec = session_unit.lines().find(|l| l.starts_with("ExecStart=")).unwrap_or_default();
    check(
        exec.contains("/usr/bin/cage ") && !exec.split_whitespace().any(|a| a == "-s"),
        &format!("the session runs cage without VT switching ({exec})"),
    )?;
    check(
        Path::new("/etc/systemd/system/multi-user.target.wants/exam-kiosk-helper.service").exists(),
        "the helper service is enabled",
    )?;
    check(
        !Path::new("/etc/systemd/system/graphical.target.wants/exam-kiosk-session.service").exists(),
        "the kiosk session is not enabled by the install (IT enables it after enrolment)",
    )?;
    verify_units();
    installed_helper_serves_only_the_kiosk_user(uid)?;
    refuses_during_an_exam()?;
    cage_screenshot(uid)?;
    guard_enforced_in_the_installed_session(uid)?;
    Ok(())
}

/// `systemd-analyze verify` and the helper's exposure score, when available.
fn verify_units() {
    let verify = Command::new("systemd-analyze")
        .args(["verify", "/lib/systemd/system/exam-kiosk-helper.service", "/lib/systemd/system/exam-kiosk-session.service"])
        .output();
    match verify {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stderr);
            let ours: Vec<&str> = text.lines().filter(|l| l.contains("exam-kiosk")).collect();
            println!("  systemd-analyze verify: {}", if ours.is_empty() { "no findings for our units".into() } else { ours.join(" | ") });
        }
        Err(_) => println!("  SKIPPED: systemd-analyze not available"),
    }
    if let Ok(out) = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "/lib/systemd/system/exam-kiosk-helper.service"])
        .output()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(line) = text.lines().find(|l| l.contains("Overall exposure level")) {
            println!("  systemd-analyze security (helper): {}", line.trim().trim_start_matches('→').trim());
        }
    }
}

/// The installed helper, on a scratch socket and scratch SysRq/DMI files,
/// serves the real examkiosk user and refuses `nobody`.
fn installed_helper_serves_only_the_kiosk_user(uid: u32) -> Result {
    let scratch = workspace_root().join("target/dist/debug/helper-test");
    let _ = std::fs::remove_dir_all(&scratch);
    io(&scratch, std::fs::create_dir_all(scratch.join("dmi")))?;
    io(&scratch, std::fs::write(scratch.join("sysrq"), "438\n"))?;
    let socket = scratch.join("helper.sock");
    let mut helper = Command::new("/usr/libexec/exam-kiosk/exam-kiosk-helper")
        .args(["serve", "--allow-user", KIOSK_USER, "--socket"])
        .arg(&socket)
        .arg("--state-dir")
        .arg(scratch.join("state"))
        .arg("--sysrq-file")
        .arg(scratch.join("sysrq"))
        .arg("--dmi-dir")
        .arg(scratch.join("dmi"))
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the installed helper: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !socket.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let ask = |as_uid: u32| {
        Command::new("setpriv")
            .args([format!("--reuid={as_uid}"), format!("--regid={as_uid}"), "--clear-groups".into()])
            .arg("/usr/libexec/exam-kiosk/exam-kiosk-helper")
            .args(["request", r#"{"v":1,"op":"ping"}"#, "--socket"])
            .arg(&socket)
            .output()
            .map(|o| (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned()))
    };
    let served = ask(uid);
    let stranger = ask(65534);
    let _ = helper.kill();
    let _ = helper.wait();
    let _ = std::fs::remove_dir_all(&scratch);
    let (ok, out) = served.map_err(|e| e.to_string())?;
    check(ok && out.contains("\"version\":1"), &format!("the installed helper serves {KIOSK_USER} ({})", out.trim()))?;
    let (ok, out) = stranger.map_err(|e| e.to_string())?;
    check(!ok && out.contains("not served"), &format!("the installed helper refuses nobody ({})", out.trim()))
}

/// With a session in progress, removal and a second install are refused
/// and journalled; nothing is changed.
fn refuses_during_an_exam() -> Result {
    let state = Path::new("/var/lib/exam-kiosk/state");
    let session = state.join("session.json");
    run(Command::new("runuser").args(["-u", KIOSK_USER, "--", "mkdir", "-p"]).arg(state))?;
    io(&session, std::fs::write(&session, "{\n  \"phase\": \"in_exam\",\n  \"sitting\": \"TEST\"\n}\n"))?;
    let remove = Command::new("dpkg").args(["-r", PACKAGE]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    check(matches!(remove, Ok(s) if !s.success()) && package_installed(), "removal during an exam is refused")?;
    let deb = std::fs::read_dir(workspace_root().join("target/dist/debug"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .ok_or("no .deb")?;
    let reinstall = Command::new("dpkg").arg("-i").arg(&deb).stdout(Stdio::null()).stderr(Stdio::null()).status();
    check(matches!(reinstall, Ok(s) if !s.success()), "a second install over a running exam is refused")?;
    // dpkg leaves a refused upgrade half-way; configuring again restores it.
    let _ = Command::new("dpkg").arg("--configure").arg("-a").stdout(Stdio::null()).stderr(Stdio::null()).status();
    // IT's override: forced, it goes ahead, and that is journalled too.
    let forced = Command::new("dpkg")
        .arg("-i")
        .arg(&deb)
        .env("EXAM_KIOSK_FORCE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    check(matches!(forced, Ok(s) if s.success()) && package_installed(), "IT can force the install (EXAM_KIOSK_FORCE=1)")?;
    let journal = output(Command::new("/usr/bin/kioskctl").args(["journal", "show", "--json", "/var/lib/exam-kiosk/journal"]))?;
    check(journal.contains("installer.remove_refused"), "the refused removal is in the signed journal")?;
    check(journal.contains("installer.upgrade_refused"), "the refused upgrade is in the signed journal")?;
    check(journal.contains("installer.upgrade_forced"), "the forced upgrade is in the signed journal")?;
    let verified = Command::new("/usr/bin/kioskctl").args(["journal", "verify", "/var/lib/exam-kiosk/journal"]).stdout(Stdio::null()).status();
    check(matches!(verified, Ok(s) if s.success()), "the journal verifies")?;
    io(&session, std::fs::remove_file(&session))
}

/// The kiosk under cage as examkiosk, on no real display; grim captures its
/// first painted page to target/dist/debug/cage-session.png (see `cage`).
/// An `exam-hub serve` on loopback (SQLite in `dir`) for the kiosk to
/// enrol with and reach; ended and waited for on drop, on every way out.
struct TestHub {
    child: std::process::Child,
    exam_hub: PathBuf,
    data: PathBuf,
    url: String,
}

impl TestHub {
    fn start(dir: &Path, log_dir: &Path) -> Result<Self> {
        run(cargo().args(["build", "--quiet", "-p", "exam-hub"]))?;
        let exam_hub = workspace_root().join("target/debug/exam-hub");
        let data = dir.join("hub");
        let init = |args: &[&str]| output(Command::new(&exam_hub).args(args).arg("--data").arg(&data).env_remove("EXAM_HUB_DATABASE"));
        init(&["init", "--school", "Pakkettest", "--name", "127.0.0.1", "--listen", "127.0.0.1:0"])?;
        let log = std::fs::File::create(log_dir.join("exam-hub-guard-test.log")).map_err(|e| e.to_string())?;
        let mut child = Command::new(&exam_hub)
            .args(["serve", "--data"])
            .arg(&data)
            .env("EXAM_HUB_LOG", "warn")
            .env_remove("EXAM_HUB_DATABASE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start exam-hub serve: {e}"))?;
        let stdout = child.stdout.take().ok_or("exam-hub serve has no stdout")?;
        let mut hub = Self { child, exam_hub, data, url: String::new() };
        // (Dropping `hub` on an error ends the process.)
        hub.url = crate::hub_listening_url(stdout)?;
        Ok(hub)
    }

    /// One enrolment token.
    fn token(&self) -> Result<String> {
        output(Command::new(&self.exam_hub).args(["enrol-token", "--room", "B0.01", "--data"]).arg(&self.data).env_remove("EXAM_HUB_DATABASE"))
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        // Our own child, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Allow rules for this test's own programs in the kiosk user's session (a
/// real PC has a display, not Xvfb, and systemd's session bus, not
/// dbus-run-session) and this machine's location. Appended to the shipped
/// school-pc policy.
const HARNESS_RULES: &str = r#"
# --- the package test's harness, not part of the shipped policy ---
[[processes.allow]]
name = "Xvfb"
exe = "/usr/bin/Xvfb"
category = "test-harness"

[[processes.allow]]
name = "dbus-run-session"
exe = "/usr/bin/dbus-run-session"
category = "test-harness"

[[processes.allow]]
name = "dbus-daemon"
exe = "/usr/bin/dbus-daemon"
parent = "dbus-run-session"
category = "test-harness"

# This machine's location (the kiosk stops, guard included, where the
# location is refused).
[[location]]
name = "package-test"
description = "loopback: the machine the package test runs on"
evidence = [{ interface = { cidrs = ["127.0.0.0/8"] } }]
"#;

/// The installed session with the shipped school-pc policy (allow-list,
/// not demo, the session script's default scope: the examkiosk user) ends a
/// program started in that user's session — also one named after an
/// allowed program — and nothing of the session itself. Before, an
/// allow-list on the kiosk's own user was report-only: nothing was ended.
fn guard_enforced_in_the_installed_session(uid: u32) -> Result {
    for tool in ["cage", "Xvfb", "dbus-run-session"] {
        if !Path::new("/usr/bin").join(tool).exists() {
            println!("  SKIPPED: {tool} is not installed (guard in the installed session)");
            return Ok(());
        }
    }
    let shipped = std::fs::read_to_string("/usr/share/exam-kiosk/policies/school-pc.toml").map_err(|e| format!("school-pc.toml: {e}"))?;
    // Beside it the files it names (the example CA), as installed.
    let dir = PathBuf::from(format!("/tmp/exam-kiosk-guard-policy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    run(Command::new("install").args(["-d", "-m", "0755"]).arg(&dir))?;
    run(Command::new("cp").arg("/usr/share/exam-kiosk/policies/example-school-ca.pem").arg(&dir))?;
    let policy = dir.join("school-pc.toml");
    std::fs::write(&policy, format!("{shipped}\n{HARNESS_RULES}")).map_err(|e| format!("{}: {e}", policy.display()))?;
    run(Command::new("chmod").args(["0644"]).arg(&policy).arg(dir.join("example-school-ca.pem")))?;
    run(Command::new("/usr/bin/kioskctl").args(["policy", "check"]).arg(&policy).stdout(Stdio::null()))?;
    let out_dir = workspace_root().join("target/dist/debug");
    let hub = TestHub::start(&dir, &out_dir)?;
    let enrolment = crate::cage::Enrolment { hub: hub.url.clone(), token: hub.token()?, ca: dir.join("school-ca.pem") };
    run(Command::new("install").args(["-m", "0644"]).arg(hub.data.join("school-ca.pem")).arg(&enrolment.ca))?;
    let session = crate::cage::CageSession { user: KIOSK_USER, uid, out_dir: &out_dir };
    let records = session.enforcement(&policy, &enrolment);
    drop(hub);
    let _ = std::fs::remove_dir_all(&dir);
    if let Ok(pids) = output(Command::new("pgrep").args(["-u", KIOSK_USER])) {
        for pid in pids.lines() {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
    }
    let records = records?;
    let ended: Vec<&str> = records.iter().filter(|(k, _)| k == "guard.process_ended").map(|(_, n)| n.as_str()).collect();
    let others: Vec<&(String, String)> = records
        .iter()
        .filter(|(k, _)| k.starts_with("guard.process_") && k != "guard.process_ended")
        .collect();
    check(
        ended.len() == 2 && ended.contains(&"sleep") && ended.contains(&"cage"),
        &format!("the guard in the installed session ended the two programs started in the examkiosk session (sleep, a sleep named cage): {ended:?}"),
    )?;
    check(others.is_empty(), &format!("nothing of the session itself was judged (no not-ended or would-end records): {others:?}"))
}

fn cage_screenshot(uid: u32) -> Result {
    for tool in ["cage", "grim", "Xvfb"] {
        if !Path::new("/usr/bin").join(tool).exists() {
            println!("  SKIPPED: {tool} is not installed (cage screenshot)");
            return Ok(());
        }
    }
    let out_dir = workspace_root().join("target/dist/debug");
    let session = crate::cage::CageSession { user: KIOSK_USER, uid, out_dir: &out_dir };
    let captured = session.capture();
    // Anything of the session that left its process group (the examkiosk
    // user exists only for this test, so all its processes are this test's).
    if let Ok(pids) = output(Command::new("pgrep").args(["-u", KIOSK_USER])) {
        for pid in pids.lines() {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
    }
    let (shot, stats) = captured?;
    check(
        true,
        &format!(
            "the kiosk ran under cage as {KIOSK_USER} and grim captured its page ({:.0}% not black, {} colours): {}",
            stats.non_black * 100.0,
            stats.colours,
            shot.display()
        ),
    )
}
