//! `cargo xtask`: the project's automation, with no dependencies so that it
//! builds before anything else is installed.
//!
//! * `cargo xtask test`  — install what the tests need, then run all tests.
//! * `cargo xtask demo`  — install what the demo needs, then run the product
//!   on its embedded defaults.
//! * `cargo xtask rehearsal` — a scripted exam morning against a real hub; outputs in target/rehearsal/.
//! * `cargo xtask bench [ARGS]` — run the criterion benchmarks.
//! * `cargo xtask bench hub [--kiosks N]` — load-test exam-hub (SQLite and PostgreSQL).
//! * `cargo xtask bench pv [--seats N]` — the proces-verbaal of a 300-seat sitting (SQLite and PostgreSQL).
//! * `cargo xtask bench console [--seats N] [--events N]` — the console's live room view, kiosk event to browser.
//! * `cargo xtask bench first-item [--runs N]` — time to first item shown in the release app.
//! * `cargo xtask bench kiosk [--runs N]` — start to first paint and memory of the release app vs Chromium --kiosk.
//! * `cargo xtask package [--debug]` — release binaries and the `.deb` in target/dist/.
//! * `cargo xtask package --target windows [--debug]` — `exam-kiosk.exe`, `kioskctl.exe` and the NSIS installer in target/dist/windows/.
//! * `cargo xtask test-deb` — install the `.deb` (debug build) here, check, purge (root).
//! * `cargo xtask check-platforms` (or `cross-check`) — `cargo check` for Windows and macOS.
//! * `cargo xtask test-windows` — the Windows build's tests, `kioskctl.exe` scenarios and the installer under Wine.
//! * `cargo xtask qti-coverage DIR...` — pack and render every QTI 3 item under DIR one by one; totals, refusals by construct, in target/qti-coverage/.

mod cage;
mod package;
mod platforms;
mod qti_coverage;
mod windows;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Debian packages the build, the tests and the demo need, with why.
const APT_PACKAGES: &[(&str, &str)] = &[
    ("pkg-config", "finds libdbus for the keyring crate"),
    ("libdbus-1-dev", "the keyring crate talks to the Secret Service over D-Bus"),
    ("dbus", "dbus-run-session gives tests a private session bus"),
    ("gnome-keyring", "a real Secret Service for the keyring tests"),
    ("iproute2", "network-namespace location tests (ip netns)"),
    ("xvfb", "a real X server for clipboard and kiosk window tests"),
    ("xsel", "clears the X11 clipboard at exam start and end"),
    ("wl-clipboard", "clears the Wayland clipboard at exam start and end (cage); the other program in e2e wayland_clipboard"),
    ("postgresql", "exam-hub tests and benchmarks on a throw-away PostgreSQL on loopback"),
    ("libwebkit2gtk-4.1-dev", "the kiosk's web view (Tauri on Linux)"),
    ("libgtk-3-dev", "the kiosk's window (Tauri on Linux)"),
    ("librsvg2-dev", "icons in the kiosk's window (Tauri on Linux)"),
    ("webkit2gtk-driver", "WebKitWebDriver, which tauri-driver drives in the end-to-end tests"),
    ("cage", "the package test runs the kiosk session under cage, headless; e2e wayland_clipboard runs the kiosk under it"),
    ("xwayland", "cage's X11 compatibility, which it starts with the session"),
    ("sway", "e2e wayland_clipboard also runs the kiosk under a compositor with data-control and a primary selection, as a student's own laptop may"),
    ("grim", "the package test captures the cage session"),
    ("poppler-utils", "pdftotext and pdfinfo read the proces-verbaal PDF in exam-hub's report tests"),
    ("chromium", "the invigilator console's browser tests and benchmark run in headless Chromium"),
    ("xdotool", "the kiosk's bad-input test presses Alt+F4 and moves the focus to another window"),
    ("openbox", "a window manager for the kiosk's bad-input test (Alt+F4 becomes a close request)"),
    ("x11-utils", "xprop and xmessage for the kiosk's bad-input test"),
    ("faketime", "the kiosk's clock test runs exam-hub with a shifted wall clock"),
    ("chromium-driver", "chromedriver: WebDriver for Chromium (console browser tests, axe-core checks)"),
    ("nodejs", "the kiosk UI's unit tests (node --test ui/dev/: no HTML strings, i18n keys, saving)"),
    ("espeak-ng", "read-aloud: the kiosk's speech engine (kiosk_core::tools::synthesize, kioskctl speak) and its tests"),
    ("espeak-ng-data", "read-aloud: espeak-ng's voices, the Dutch one (gmw/nl) among them"),
    ("hunspell-nl", "spell-check: the Dutch dictionary (OpenTaal) that kiosk_core::tools::SpellChecker reads"),
];

/// The WebDriver front for Tauri apps, installed with cargo when missing.
const TAURI_DRIVER_VERSION: &str = "2.1.0";

/// Password of the throw-away keyring that tests unlock; it protects nothing.
const TEST_KEYRING_PASSWORD: &str = "exam-kiosk-test";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("test-in-session") => test_in_session(&args[1..]),
        Some("demo") => demo(),
        Some("e2e") => e2e(&args[1..]),
        Some("bench") => bench(&args[1..]),
        Some("rehearsal") => rehearsal(),
        Some("package") => package::package_command(&args[1..]),
        Some("test-deb") => package::test_deb(&args[1..]),
        Some("check-platforms" | "cross-check") => platforms::check_platforms(&args[1..]),
        Some("test-windows") => windows::test_windows(&args[1..]),
        Some("qti-coverage") => qti_coverage::qti_coverage(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <test [CARGO TEST ARGS] | e2e | demo | rehearsal | bench [hub | pv | console | first-item | kiosk | CRITERION ARGS] | package [--target linux|windows] [--debug] | test-deb | check-platforms | test-windows | qti-coverage DIR...>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

/// The address an `exam-hub serve` started with `--listen 127.0.0.1:0`
/// prints on its first stdout line (`exam-hub listening on https://…`),
/// waited for at most 60 s; the rest of its stdout is read and dropped so the
/// hub never blocks on a full pipe. `Err` says what it printed instead.
fn hub_listening_url(stdout: std::process::ChildStdout) -> Result<String> {
    use std::io::BufRead as _;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = std::io::BufReader::new(stdout).lines();
        let _ = tx.send(lines.next());
        for _ in lines {}
    });
    let line = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(Some(Ok(line))) => line,
        other => return Err(format!("exam-hub serve said nothing within 60 s ({other:?})")),
    };
    match line.trim().strip_prefix("exam-hub listening on ") {
        Some(url) if url.starts_with("https://127.0.0.1:") => Ok(url.to_owned()),
        _ => Err(format!("exam-hub serve printed {line:?}, not a loopback address")),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("crates/xtask is two levels down").to_owned()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(workspace_root());
    cmd
}

fn run(cmd: &mut Command) -> Result {
    let status = cmd.status().map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

/// Installs missing Debian packages when running as root on Debian/Ubuntu;
/// otherwise prints the exact command to run and stops.
fn ensure_apt_packages() -> Result {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| {
            let out = Command::new("dpkg-query").args(["-W", "-f=${Status}", name]).stderr(Stdio::null()).output();
            !matches!(out, Ok(o) if String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let has_apt = Path::new("/usr/bin/apt-get").exists();
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout.trim_ascii() == b"0").unwrap_or(false);
    let command = format!("apt-get update && apt-get install -y --no-install-recommends {}", missing.join(" "));
    if !(has_apt && is_root) {
        return Err(format!("missing system packages: {}; install them with:\n  sudo sh -c '{command}'", missing.join(", ")));
    }
    eprintln!("xtask: installing {}", missing.join(", "));
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Installs `tauri-driver` with cargo when it is not on PATH or in cargo's bin.
fn ensure_tauri_driver() -> Result {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|h| h.join("bin"));
    let on_path = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("tauri-driver").exists()));
    if on_path || cargo_bin.is_some_and(|b| b.join("tauri-driver").exists()) {
        return Ok(());
    }
    eprintln!("xtask: installing tauri-driver {TAURI_DRIVER_VERSION}");
    run(cargo().args(["install", "tauri-driver", "--locked", "--version", TAURI_DRIVER_VERSION]))
}

fn test(cargo_args: &[String]) -> Result {
    ensure_apt_packages()?;
    ensure_tauri_driver()?;
    // The kiosk UI's own unit tests (no packages; a second).
    if cargo_args.is_empty() {
        run(Command::new("node").arg("--test").arg(workspace_root().join("ui/dev/")))?;
    }
    // Build first, outside the D-Bus session, so compile errors read plainly.
    run(cargo().args(["build", "--workspace", "--all-targets"]))?;
    // Everything runs inside a private D-Bus session with a real, unlocked
    // gnome-keyring, so the keyring tests use a real Secret Service and
    // never the developer's own keyring.
    let xtask = std::env::current_exe().map_err(|e| e.to_string())?;
    run(Command::new("dbus-run-session").arg("--").arg(xtask).arg("test-in-session").args(cargo_args))?;
    // The whole suite also builds, installs and purges the .deb (debug
    // binaries, so no release build of the Tauri app in CI).
    if cargo_args.is_empty() {
        package::test_deb(&[])?;
    }
    Ok(())
}

fn test_in_session(cargo_args: &[String]) -> Result {
    let keyring_home = workspace_root().join("target/test-keyring");
    std::fs::create_dir_all(&keyring_home).map_err(|e| e.to_string())?;
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--components=secrets", "--daemonize", "--unlock"])
        // Its keyring files go under target/, not into the user's home.
        .env("XDG_DATA_HOME", &keyring_home)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start gnome-keyring-daemon: {e}"))?;
    {
        use std::io::Write as _;
        let mut stdin = daemon.stdin.take().expect("piped");
        stdin.write_all(TEST_KEYRING_PASSWORD.as_bytes()).map_err(|e| e.to_string())?;
    }
    // With --daemonize the first process exits once the daemon is up.
    let status = daemon.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("gnome-keyring-daemon failed to start: {status}"));
    }
    // exam-hub's tests run on SQLite and on a real PostgreSQL; it is stopped
    // when `postgres` is dropped, also when the tests fail.
    let postgres = TestPostgres::start("test-postgres", false)?;
    let tests = run(cargo()
        // Every failing test binary is reported, not only the first.
        .args(["test", "--workspace", "--no-fail-fast"])
        .args(cargo_args)
        .env("EXAM_KIOSK_KEYRING_TESTS", "1")
        .env(POSTGRES_URL_ENV, postgres.url()));
    // Tests end what they start: a program of ours still running now was
    // left behind by a test harness (it is ended here, and the run fails).
    let leftovers = end_leftover_processes(&workspace_root().join("target"));
    tests?;
    if leftovers.is_empty() {
        Ok(())
    } else {
        Err(format!("tests left these processes running (now ended): {}", leftovers.join("; ")))
    }
}

/// Start time of a process in clock ticks since boot (`/proc/PID/stat` field 22).
fn process_start_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Ends every process started after this one whose program lies under
/// `target` (a built `exam-hub`, `exam-kiosk`, test binary…), and says which.
/// Linux only; elsewhere nothing is found.
fn end_leftover_processes(target: &Path) -> Vec<String> {
    let me = std::process::id().to_string();
    let Some(my_start) = process_start_ticks(&me) else { return Vec::new() };
    let find = || -> Vec<(String, String)> {
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()) && *pid != me)
            .filter(|pid| process_start_ticks(pid).is_some_and(|t| t >= my_start))
            .filter_map(|pid| {
                let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok()?;
                exe.starts_with(target).then(|| (pid, exe.display().to_string()))
            })
            .collect()
    };
    // A test's child that is being reaped right now gets a moment to go.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut found = find();
    while !found.is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        found = find();
    }
    for (pid, _) in &found {
        let _ = Command::new("kill").args(["-KILL", pid]).status();
    }
    found.into_iter().map(|(pid, exe)| format!("{exe} (pid {pid})")).collect()
}

/// Environment variable through which exam-hub's tests find PostgreSQL.
const POSTGRES_URL_ENV: &str = "EXAM_HUB_TEST_POSTGRES_URL";

/// A throw-away PostgreSQL cluster under target/, on 127.0.0.1 and a free
/// port, trusting local connections; stopped and removed on drop.
struct TestPostgres {
    pg_ctl: PathBuf,
    root: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    port: u16,
}

fn postgres_bin_dir() -> Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("PostgreSQL is not installed (/usr/lib/postgresql: {e}); apt-get install postgresql"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| "no PostgreSQL server binaries in /usr/lib/postgresql".into())
}

impl TestPostgres {
    /// `durable`: fsync as in production (benchmarks); off for tests (speed).
    fn start(name: &str, durable: bool) -> Result<Self> {
        let bin = postgres_bin_dir()?;
        // PostgreSQL refuses to run as root: run it as the `postgres` user.
        let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout.trim_ascii() == b"0").unwrap_or(false);
        let mut root = workspace_root().join("target").join(name);
        let prepare = |root: &Path| -> Result<bool> {
            let _ = std::fs::remove_dir_all(root);
            std::fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
            if !is_root {
                return Ok(true);
            }
            run(Command::new("chown").arg("postgres:postgres").arg(root))?;
            // The checkout may sit below a directory the postgres user cannot enter.
            Ok(Command::new("runuser").args(["-u", "postgres", "--", "test", "-w"]).arg(root).status().is_ok_and(|s| s.success()))
        };
        if !prepare(&root)? {
            let _ = std::fs::remove_dir_all(&root);
            root = std::env::temp_dir().join(format!("exam-kiosk-{name}-{}", std::process::id()));
            if !prepare(&root)? {
                return Err(format!("the postgres user cannot write to {}", root.display()));
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let pg = Self { pg_ctl: bin.join("pg_ctl"), data: root.join("data"), root: root.clone(), as_postgres: is_root, port };
        let as_user = |program: PathBuf| {
            if is_root {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", "postgres", "--"]).arg(program);
                cmd
            } else {
                Command::new(program)
            }
        };
        run(as_user(bin.join("initdb"))
            .arg("-D")
            .arg(&pg.data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null()))?;
        let fsync = if durable { "" } else { " -F" };
        let options = format!("-h 127.0.0.1 -p {port} -k {}{fsync} -c max_connections=300", root.display());
        run(as_user(pg.pg_ctl.clone())
            .arg("-D")
            .arg(&pg.data)
            .args(["-o", &options, "-l"])
            .arg(root.join("postgres.log"))
            .args(["-w", "start"])
            .stdout(Stdio::null()))?;
        eprintln!("xtask: PostgreSQL for the tests on 127.0.0.1:{port}");
        Ok(pg)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(&self.pg_ctl);
            cmd
        } else {
            Command::new(&self.pg_ctl)
        };
        let _ = cmd.arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]).stdout(Stdio::null()).status();
        if self.root.starts_with(std::env::temp_dir()) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// Only the end-to-end tests (real hub, real kiosk, WebDriver); screenshots in target/e2e/.
fn e2e(cargo_args: &[String]) -> Result {
    let mut args = vec!["-p".to_owned(), "exam-e2e".to_owned()];
    args.extend_from_slice(cargo_args);
    test(&args)
}

/// A local exam-hub with demo data and the kiosk (see tests/e2e/src/bin/demo.rs).
fn demo() -> Result {
    ensure_apt_packages()?;
    ensure_tauri_driver()?;
    run(cargo().args(["build", "--quiet", "-p", "exam-hub", "-p", "kioskctl", "-p", "exam-kiosk", "-p", "exam-e2e"]))?;
    let demo = workspace_root().join("target/debug/demo");
    if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some() {
        run(&mut Command::new(demo))
    } else {
        // WebKit wants a session bus; give it a private one.
        run(Command::new("dbus-run-session").arg("--").arg(demo).env("NO_AT_BRIDGE", "1"))
    }
}

/// A scripted exam morning (3 rooms, 60 students, simulated kiosks, headless
/// Chromium) against a real hub, checked against its proces-verbaal and
/// results (tests/console/src/rehearsal.rs; also run by `cargo xtask test`).
fn rehearsal() -> Result {
    ensure_apt_packages()?;
    run(cargo().args(["build", "-p", "exam-hub", "--bin", "exam-hub", "-p", "exam-console-tests", "--bin", "rehearsal"]))?;
    let root = workspace_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t));
    run(Command::new(target.join("debug/rehearsal")).current_dir(&root).env("EXAM_CONSOLE_HUB_BIN", target.join("debug/exam-hub")))
}

fn bench(criterion_args: &[String]) -> Result {
    ensure_apt_packages()?;
    if criterion_args.first().map(String::as_str) == Some("hub") {
        return bench_hub(&criterion_args[1..]);
    }
    if criterion_args.first().map(String::as_str) == Some("pv") {
        return bench_pv(&criterion_args[1..]);
    }
    if criterion_args.first().map(String::as_str) == Some("console") {
        return bench_console(&criterion_args[1..]);
    }
    if criterion_args.first().map(String::as_str) == Some("first-item") {
        return bench_first_item(&criterion_args[1..]);
    }
    if criterion_args.first().map(String::as_str) == Some("kiosk") {
        return bench_kiosk(&criterion_args[1..]);
    }
    run(cargo().args(["bench", "--workspace", "--"]).args(criterion_args))
}

/// `cargo xtask bench kiosk [--runs N]`: start of the release exam-kiosk to
/// its first painted screen, and the memory of its process tree during an
/// exam, beside Chromium --kiosk on the same UI (tests/e2e/src/bin/kiosk-bench.rs).
fn bench_kiosk(args: &[String]) -> Result {
    ensure_tauri_driver()?;
    // Two builds: `--bin` would limit the first to that one binary, leaving a stale exam-kiosk.
    run(cargo().args(["build", "--release", "-p", "exam-hub", "-p", "kioskctl", "-p", "exam-kiosk"]))?;
    run(cargo().args(["build", "--release", "-p", "exam-e2e", "--bin", "kiosk-bench"]))?;
    let bench = workspace_root().join("target/release/kiosk-bench");
    // WebKit wants a session bus; give it a private one.
    run(Command::new("dbus-run-session").arg("--").arg(bench).args(args).env("EXAM_E2E_PROFILE", "release").env("NO_AT_BRIDGE", "1"))
}

/// `cargo xtask bench first-item [--runs N]`: time from "start exam" to the
/// first item shown, in the release app under Xvfb (tests/e2e/src/bin/first-item-bench.rs).
fn bench_first_item(args: &[String]) -> Result {
    ensure_tauri_driver()?;
    // Two builds: `--bin` would limit the first to packages with that binary.
    run(cargo().args(["build", "--release", "-p", "exam-hub", "-p", "kioskctl", "-p", "exam-kiosk"]))?;
    run(cargo().args(["build", "--release", "-p", "exam-e2e", "--bin", "first-item-bench"]))?;
    let bench = workspace_root().join("target/release/first-item-bench");
    // WebKit wants a session bus; give it a private one.
    run(Command::new("dbus-run-session").arg("--").arg(bench).args(args).env("EXAM_E2E_PROFILE", "release").env("NO_AT_BRIDGE", "1"))
}

/// `cargo xtask bench console [--seats N] [--events N]`: a release exam-hub,
/// simulated kiosks and the room page in headless Chromium; kiosk event to
/// row update, p50/p99 (tests/console/src/bin/console-bench.rs).
fn bench_console(args: &[String]) -> Result {
    run(cargo().args(["build", "--release", "-p", "exam-hub", "--bin", "exam-hub", "-p", "exam-console-tests", "--bin", "console-bench"]))?;
    let root = workspace_root();
    run(Command::new(root.join("target/release/console-bench")).args(args).env("EXAM_CONSOLE_HUB_BIN", root.join("target/release/exam-hub")))
}

/// `cargo xtask bench pv [--seats N] [--sqlite-only]`: the proces-verbaal of
/// a 300-seat sitting (release build), on SQLite and a throw-away PostgreSQL.
fn bench_pv(args: &[String]) -> Result {
    run(cargo().args(["build", "--release", "-p", "exam-hub", "--example", "pv-bench"]))?;
    let bench = workspace_root().join("target/release/examples/pv-bench");
    let sqlite_only = args.iter().any(|a| a == "--sqlite-only");
    let passthrough: Vec<&String> = args.iter().filter(|a| *a != "--sqlite-only").collect();
    run(Command::new(&bench).args(&passthrough))?;
    if !sqlite_only {
        let postgres = TestPostgres::start("bench-postgres", true)?;
        run(Command::new(&bench).args(["--database", &postgres.url()]).args(&passthrough))?;
    }
    Ok(())
}

/// `cargo xtask bench hub [--kiosks N] [--sqlite-only]`: simulated kiosks,
/// each on its own mutual-TLS connection, against a release exam-hub on
/// SQLite and on a throw-away PostgreSQL.
fn bench_hub(args: &[String]) -> Result {
    run(cargo().args(["build", "--release", "-p", "exam-hub", "--bin", "exam-hub", "--example", "hub-bench"]))?;
    let root = workspace_root();
    let bench = root.join("target/release/examples/hub-bench");
    let sqlite_only = args.iter().any(|a| a == "--sqlite-only");
    let passthrough: Vec<&String> = args.iter().filter(|a| *a != "--sqlite-only").collect();
    run(Command::new(&bench).args(["--backend", "sqlite"]).args(&passthrough))?;
    if !sqlite_only {
        let postgres = TestPostgres::start("bench-postgres", true)?;
        run(Command::new(&bench).args(["--backend", "postgres", "--database", &postgres.url()]).args(&passthrough))?;
    }
    Ok(())
}
