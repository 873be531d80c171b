//! End-to-end scenarios for exam-kiosk: a real `exam-hub` over TLS on
//! loopback with demo data, a real enrolled kiosk data directory, a real X
//! server (Xvfb), and the real `exam-kiosk` binary driven through
//! `tauri-driver` (WebKitWebDriver). Used by the end-to-end test and by
//! `cargo xtask demo` on machines without a display.

pub mod scenario;
pub mod steps;
pub mod webdriver;
pub mod xcapture;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The demo room (the kiosk is enrolled to it).
pub const ROOM: &str = "demo";
/// The demo sitting.
pub const SITTING: &str = "DEMO-1";
/// The invigilator PIN of the demo policy's roster.
pub const DEMO_PIN: &str = "4821";

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// A binary built by `cargo build --workspace` (debug profile, or the one
/// `EXAM_E2E_PROFILE` names: `cargo xtask bench first-item` uses release).
pub fn bin(name: &str) -> PathBuf {
    let profile = std::env::var("EXAM_E2E_PROFILE").unwrap_or_else(|_| "debug".into());
    workspace().join("target").join(profile).join(name)
}

/// `tauri-driver`, from PATH or cargo's bin directory.
pub fn tauri_driver() -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(home.map(|h| h.join("bin")));
    candidates.map(|d| d.join("tauri-driver")).find(|p| p.exists())
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A child process killed when dropped.
pub struct Guarded(pub Child);

impl Drop for Guarded {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One student of the demo planning.
#[derive(Debug, Clone)]
pub struct Student {
    /// Student number.
    pub number: String,
    /// Name.
    pub name: String,
    /// One-time access code for the demo sitting.
    pub code: String,
}

/// A running hub with demo data and an enrolled kiosk data directory.
pub struct Stack {
    /// Everything lives here.
    pub dir: PathBuf,
    hub: Option<Guarded>,
    hub_data: PathBuf,
    /// The hub's base URL.
    pub hub_url: String,
    /// Students and their codes.
    pub students: Vec<Student>,
    /// The kiosk's data directory.
    pub kiosk_data: PathBuf,
    /// The kiosk's device key store argument.
    pub key_store: String,
    /// The kiosk policy.
    pub policy: PathBuf,
}

/// Packs the demo instrument (a QTI 3.0 test, signed with the demo approval
/// key) with kioskctl, with `extra` pack arguments, and imports it into the
/// hub in `hub_data` as `demo-instrument` (an import replaces it).
fn import_demo_instrument(dir: &Path, hub_data: &Path, extra: &[&str]) -> Result<(), String> {
    let package = dir.join("demo.exam");
    let policies = workspace().join("policies");
    let _ = std::fs::remove_file(&package);
    let _ = std::fs::remove_file(dir.join("demo.exam.key"));
    run(Command::new(bin("kioskctl"))
        .args(["instrument", "pack"])
        .arg(workspace().join("tests/fixtures/instruments/demo"))
        .arg("--sign")
        .arg(policies.join("demo-instrument.key"))
        .arg("--out")
        .arg(&package)
        .args(["--id", "demo-instrument"])
        // The spell-check is off on item 10 for everyone, as on a spelling
        // question (issue 19; tests/tools.rs checks it).
        .args(["--no-spell-check", "ITM-v10"])
        .args(extra))?;
    run(Command::new(bin("exam-hub"))
        .args(["import", "instrument"])
        .arg(&package)
        .args(["--id", "demo-instrument", "--content-key-file"])
        .arg(dir.join("demo.exam.key"))
        .arg("--policy")
        .arg(policies.join("demo.toml"))
        .arg("--data")
        .arg(hub_data))?;
    Ok(())
}

impl Stack {
    /// Sets up a hub (init, instrument, planning, serve) and an enrolled kiosk in `dir`.
    pub fn start(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let hub_data = dir.join("hub");
        let hub = bin("exam-hub");
        let kioskctl = bin("kioskctl");
        if !hub_data.exists() {
            run(Command::new(&hub).args(["init", "--data"]).arg(&hub_data).args([
                "--name", "127.0.0.1", "--name", "localhost", "--listen", "127.0.0.1:0",
            ]))?;
            // The kiosks here are driven by WebDriver (their policy says
            // `test-automation`): a hub takes them only when it says so.
            let config = hub_data.join("hub.toml");
            let text = std::fs::read_to_string(&config).map_err(|e| format!("{}: {e}", config.display()))?;
            std::fs::write(&config, format!("{text}\n# The project's end-to-end tests drive their kiosks through WebDriver.\naccept-test-kiosks = true\n"))
                .map_err(|e| format!("{}: {e}", config.display()))?;
        }
        let policies = workspace().join("policies");
        import_demo_instrument(dir, &hub_data, &[])?;
        // The sitting started two minutes ago and lasts an hour.
        let start = unix_rfc3339(std::time::SystemTime::now() - Duration::from_secs(120));
        let planning = dir.join("planning.csv");
        std::fs::write(
            &planning,
            format!(
                "student_number,student_name,sitting,exam,instrument,room,start,duration_minutes,extra_minutes,tools,text_size,contrast\n\
                 1001,Anna de Vries,{SITTING},Verkoopmedewerker niveau 2,demo-instrument,{ROOM},{start},60,15,read-aloud,large,\n\
                 1002,Bram Jansen,{SITTING},Verkoopmedewerker niveau 2,demo-instrument,{ROOM},{start},60,,,,\n\
                 1003,Chris Bakker,{SITTING},Verkoopmedewerker niveau 2,demo-instrument,{ROOM},{start},60,,,,high\n\
                 1004,Dina Yilmaz,{SITTING},Verkoopmedewerker niveau 2,demo-instrument,{ROOM},{start},60,,rekenmachine;spellingcontrole;voorlezen,,\n"
            ),
        )
        .map_err(|e| e.to_string())?;
        let codes = dir.join("codes.txt");
        run(Command::new(&hub).args(["import", "planning"]).arg(&planning).arg("--codes-out").arg(&codes).arg("--data").arg(&hub_data))?;
        let students = parse_codes(&std::fs::read_to_string(&codes).map_err(|e| e.to_string())?);

        let (child, hub_url) = serve_hub(&hub_data, "127.0.0.1:0")?;

        // The kiosk: a device key and an enrolment to the demo room.
        let kiosk_data = dir.join("kiosk");
        let key_file = dir.join("device.key");
        let key_store = format!("file:{}", key_file.display());
        if !key_file.exists() {
            run(Command::new(&kioskctl).args(["device", "init", "--store", &key_store]))?;
        }
        if !kiosk_data.join("hub").exists() {
            let token = run(Command::new(&hub).args(["enrol-token", "--room", ROOM, "--data"]).arg(&hub_data))?;
            let token = token.lines().next().unwrap_or("").trim().to_owned();
            run(Command::new(&kioskctl)
                .args(["enrol", "--hub", &hub_url, &format!("--token={token}"), "--data"])
                .arg(kiosk_data.join("hub"))
                .arg("--ca")
                .arg(hub_data.join("school-ca.pem"))
                .args(["--store", &key_store]))?;
        }
        let policy = write_policy(dir, &policies, &kiosk_data)?;
        Ok(Self { dir: dir.to_owned(), hub: Some(child), hub_data, hub_url, students, kiosk_data, key_store, policy })
    }

    /// Packs the sitting's instrument again with `extra` pack arguments
    /// (e.g. `--tool voorlezen`) and imports it into the hub in its place.
    pub fn repack_instrument(&self, extra: &[&str]) -> Result<(), String> {
        import_demo_instrument(&self.dir, &self.hub_data, extra)
    }

    /// The environment that configures `exam-kiosk` (see its `--help`).
    pub fn kiosk_env(&self, demo: bool, guard_scope: Option<String>) -> Vec<(String, String)> {
        let mut env = vec![
            ("EXAM_KIOSK_DATA".to_owned(), self.kiosk_data.display().to_string()),
            ("EXAM_KIOSK_POLICY".to_owned(), self.policy.display().to_string()),
            ("EXAM_KIOSK_STORE".to_owned(), self.key_store.clone()),
            ("NO_AT_BRIDGE".to_owned(), "1".to_owned()),
            // One kiosk per machine (src-tauri single_instance.rs): the tests
            // run several on one machine, each stack in its own namespace
            // (honoured only because the policy allows test automation).
            ("EXAM_KIOSK_INSTANCE".to_owned(), self.instance_namespace()),
        ];
        if demo {
            env.push(("EXAM_KIOSK_DEMO".to_owned(), "1".to_owned()));
        }
        if let Some(scope) = guard_scope {
            env.push(("EXAM_KIOSK_GUARD_SCOPE".to_owned(), scope));
        }
        env
    }

    /// This stack's single-instance namespace: its directory's name.
    pub fn instance_namespace(&self) -> String {
        let name = self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let plain: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).take(56).collect();
        format!("e2e-{plain}")
    }

    /// Stops the hub (a crash: no clean shutdown).
    pub fn stop_hub(&mut self) {
        self.hub = None;
    }

    /// Starts the hub again on the same address.
    pub fn restart_hub(&mut self) -> Result<(), String> {
        self.hub = None;
        let addr = self.hub_url.trim_start_matches("https://").trim_end_matches('/').to_owned();
        let (child, url) = serve_hub(&self.hub_data, &addr)?;
        if url != self.hub_url {
            return Err(format!("hub came back on {url}, not {}", self.hub_url));
        }
        self.hub = Some(child);
        Ok(())
    }

    /// Kills (SIGKILL) the exam-kiosk process that runs on this stack's data directory.
    pub fn kill_kiosk(&self) -> Result<u32, String> {
        kill_kiosk_of(&self.kiosk_data)
    }
}

/// Kills (SIGKILL) the exam-kiosk process running on the data directory
/// `kiosk_data` (found by its `EXAM_KIOSK_DATA`, never by name alone).
pub fn kill_kiosk_of(kiosk_data: &Path) -> Result<u32, String> {
    let marker = format!("EXAM_KIOSK_DATA={}", kiosk_data.display());
    let exe = bin("exam-kiosk");
    for entry in std::fs::read_dir("/proc").map_err(|e| e.to_string())?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let is_kiosk = std::fs::read_link(entry.path().join("exe")).is_ok_and(|e| e == exe);
        let ours = std::fs::read(entry.path().join("environ"))
            .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == marker.as_bytes()));
        if is_kiosk && ours {
            run(Command::new("kill").args(["-KILL", &pid.to_string()]))?;
            return Ok(pid);
        }
    }
    Err(format!("no exam-kiosk process on {}", kiosk_data.display()))
}

/// The demo policy, made to trust this hub's echo key, to let WebDriver in
/// (`test-automation`), and to require, for
/// the demo room, that the hub saw the kiosk come from loopback (signed
/// hub-source evidence, on top of the interface address).
fn write_policy(dir: &Path, policies: &Path, kiosk_data: &Path) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(policies.join("demo.toml")).map_err(|e| e.to_string())?;
    let enrolment = std::fs::read_to_string(kiosk_data.join("hub/hub.json")).map_err(|e| e.to_string())?;
    let enrolment: serde_json::Value = serde_json::from_str(&enrolment).map_err(|e| e.to_string())?;
    let echo_key = enrolment["hub_signing_public_key"].as_str().ok_or("hub.json has no hub_signing_public_key")?;
    let replace = |text: String, from: &str, to: &str| -> Result<String, String> {
        if text.contains(from) { Ok(text.replacen(from, to, 1)) } else { Err(format!("policies/demo.toml no longer contains {from:?}")) }
    };
    let text = replace(text, "[hub]\n", &format!("[hub]\necho-public-key = \"{echo_key}\"\n"))?;
    // These tests drive the window through WebDriver: only a policy that
    // says so lets the kiosk keep the automation environment (docs/policy.md).
    let text = replace(text, "[environment]\n", "[environment]\ntest-automation = true\n")?;
    let text = replace(text, "ca-file = \"example-school-ca.pem\"", &format!("ca-file = \"{}\"", policies.join("example-school-ca.pem").display()))?;
    let text = replace(text, "file:demo-room.secret", &format!("file:{}", policies.join("demo-room.secret").display()))?;
    let text = replace(
        text,
        "    { interface = { cidrs = [\"127.0.0.0/8\", \"::1/128\"] } },\n",
        "    { interface = { cidrs = [\"127.0.0.0/8\", \"::1/128\"] } },\n    { hub-source = { cidrs = [\"127.0.0.0/8\"], max-age-secs = 60 } },\n",
    )?;
    let path = dir.join("kiosk-policy.toml");
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

/// Starts `exam-hub serve` and reads the address it listens on.
fn serve_hub(data: &Path, listen: &str) -> Result<(Guarded, String), String> {
    let mut child = Command::new(bin("exam-hub"))
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", listen])
        .env("EXAM_HUB_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line).map_err(|e| e.to_string())?;
    let url = line.trim().strip_prefix("exam-hub listening on ").ok_or(format!("unexpected hub output {line:?}"))?.to_owned();
    Ok((Guarded(child), url))
}

fn parse_codes(text: &str) -> Vec<Student> {
    // The hub's printable list: "== Zitting ID ..." headings (Dutch), then one
    // indented line per student: "NUMBER  NAME ...  CODE".
    let mut students = Vec::new();
    let mut sitting = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("== Zitting ") {
            sitting = rest.split_whitespace().next().unwrap_or("").to_owned();
        } else if sitting == SITTING && line.starts_with("   ") && !line.trim_start().starts_with('(') && !line.trim().is_empty() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.len() >= 3 {
                students.push(Student {
                    number: words[0].to_owned(),
                    name: words[1..words.len() - 1].join(" "),
                    code: words[words.len() - 1].to_owned(),
                });
            }
        }
    }
    students.sort_by(|a, b| a.number.cmp(&b.number));
    students
}

fn unix_rfc3339(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm), UTC.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// An X server of our own (never the developer's display).
pub struct Display {
    _xvfb: Guarded,
    /// This test's claim on the display number (see [`Display::start`]).
    _claim: std::fs::File,
    /// `:N`.
    pub name: String,
}

impl Display {
    /// Starts Xvfb at 1366×768 on a free display number.
    ///
    /// Tests that start displays at the same moment (two tests of one
    /// binary, or two binaries) first claim the number with a lock of their
    /// own (`/tmp/exam-e2e-display-N.lock`, freed by the kernel when the
    /// test ends, however it ends): before, both could find :90 free, both
    /// start an Xvfb there, and the second — refused by the first's lock —
    /// connected to the first's server, so two tests shared one screen.
    pub fn start() -> Result<Self, String> {
        for n in 90..140 {
            let socket = format!("/tmp/.X11-unix/X{n}");
            let claim_path = format!("/tmp/exam-e2e-display-{n}.lock");
            let Ok(claim) = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&claim_path) else { continue };
            if claim.try_lock().is_err() {
                continue;
            }
            // A lock whose X server is gone (killed tests leave them) is free:
            // Xvfb itself replaces a stale lock and socket.
            if x_server_alive(n) {
                continue;
            }
            let name = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([&name, "-screen", "0", "1366x768x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("Xvfb: {e}"))?;
            let mut guard = Guarded(child);
            let deadline = Instant::now() + Duration::from_secs(10);
            // Ready when it accepts connections (a stale socket file may exist before).
            while std::os::unix::net::UnixStream::connect(&socket).is_err() {
                if Instant::now() > deadline {
                    return Err("Xvfb did not start".into());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            // Ours, not another server that took the number meanwhile.
            if guard.0.try_wait().map_err(|e| e.to_string())?.is_some() {
                continue;
            }
            return Ok(Self { _xvfb: guard, _claim: claim, name });
        }
        Err("no free X display number".into())
    }
}

/// A child that leads its own process group; dropping it ends the whole
/// group (tauri-driver's WebKitWebDriver outlived it before, one per test).
struct GroupGuarded(Child);

impl Drop for GroupGuarded {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.0.id())]).stderr(Stdio::null()).status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `tauri-driver` on a free loopback port, configured to start the kiosk.
pub struct Driver {
    _child: GroupGuarded,
    /// Its URL.
    pub url: String,
    /// The X display (`:N`) it starts the kiosk on.
    pub display: String,
}

impl Driver {
    /// Starts tauri-driver with the kiosk's environment.
    pub fn start(display: &Display, env: &[(String, String)]) -> Result<Self, String> {
        let driver = tauri_driver().ok_or("tauri-driver is not installed (cargo xtask test installs it)")?;
        let port = free_port()?;
        let native_port = free_port()?;
        let mut cmd = Command::new(driver);
        cmd.args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("DISPLAY", &display.name)
            .env_remove("WAYLAND_DISPLAY")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Its own process group, so its WebKitWebDriver ends with it.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = GroupGuarded(cmd.spawn().map_err(|e| format!("tauri-driver: {e}"))?);
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("tauri-driver did not start".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(Self { _child: child, url, display: display.name.clone() })
    }
}

/// Whether display `n`'s lock file names a running process.
fn x_server_alive(n: u32) -> bool {
    match std::fs::read_to_string(format!("/tmp/.X{n}-lock")) {
        Ok(pid) => pid.trim().parse::<u32>().map_or(true, |pid| Path::new(&format!("/proc/{pid}")).exists()),
        // No lock: in use only if something answers on the socket.
        Err(_) => std::os::unix::net::UnixStream::connect(format!("/tmp/.X11-unix/X{n}")).is_ok(),
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).map_err(|e| e.to_string())
}
