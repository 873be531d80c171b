//! The package test's cage session: the installed kiosk under cage as the
//! `examkiosk` user, on no real display, captured with `grim`.
//!
//! Why not wlroots' headless backend: on Debian 12 (cage 0.1.4, wlroots
//! 0.15) its pixman output fails wlroots' output test and every capture is
//! black, whatever the client. cage's X11 backend on a private Xvfb uses the
//! same pixman renderer and composites normally, so the capture shows what
//! the kiosk drew. cage is still the compositor; grim still captures cage's
//! output through wlr-screencopy.

use crate::{run, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest the session may take to show its first painted page (a loaded
/// 2-core machine starts WebKit slowly).
const FIRST_PAINT_TIMEOUT: Duration = Duration::from_secs(120);
/// Time between capture attempts while waiting for the first paint.
const CAPTURE_INTERVAL: Duration = Duration::from_secs(2);
/// Longest a program started in the kiosk's session may live (the
/// school-pc policy sweeps every 2 s; the helper's exec events are not
/// there in this test).
const ENDED_TIMEOUT: Duration = Duration::from_secs(20);

/// Who runs the session and where its files go.
pub struct CageSession<'a> {
    /// The kiosk user's name (`examkiosk`).
    pub user: &'a str,
    /// Its uid.
    pub uid: u32,
    /// Where the PNG and the session's log are written.
    pub out_dir: &'a Path,
}

/// A child process ended on drop: SIGTERM to its process group, then SIGKILL.
struct GroupGuard(Child);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // Each guarded child leads its own process group: end exactly that group.
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).stderr(Stdio::null()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.0.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.0.wait();
    }
}

/// What a capture shows, from its pixels.
#[derive(Debug, PartialEq)]
pub struct CaptureStats {
    /// Width × height.
    pub pixels: usize,
    /// Share of pixels that are not black, 0.0–1.0.
    pub non_black: f64,
    /// Number of different colours (capped at 4096).
    pub colours: usize,
}

impl CaptureStats {
    /// A painted page: mostly not black and more than a handful of colours
    /// (text is anti-aliased). A black or one-colour frame is not.
    pub fn shows_content(&self) -> bool {
        self.non_black > 0.5 && self.colours >= 16
    }
}

/// Reads a binary PPM (`P6`, 8 bits), as `grim -t ppm` writes it.
pub fn ppm_stats(bytes: &[u8]) -> Result<CaptureStats> {
    let mut fields = Vec::new();
    let mut pos = 0;
    // Header: magic, width, height, maxval, separated by whitespace (and comments).
    while fields.len() < 4 {
        while pos < bytes.len() && (bytes[pos].is_ascii_whitespace() || bytes[pos] == b'#') {
            if bytes[pos] == b'#' {
                while pos < bytes.len() && bytes[pos] != b'\n' {
                    pos += 1;
                }
            } else {
                pos += 1;
            }
        }
        let start = pos;
        while pos < bytes.len() && !bytes[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if start == pos {
            return Err("PPM: truncated header".into());
        }
        fields.push(String::from_utf8_lossy(&bytes[start..pos]).into_owned());
    }
    if fields[0] != "P6" || fields[3] != "255" {
        return Err(format!("PPM: expected P6 with maxval 255, got {} {}", fields[0], fields[3]));
    }
    let number = |s: &str| s.parse::<usize>().map_err(|_| format!("PPM: bad size {s:?}"));
    let (width, height) = (number(&fields[1])?, number(&fields[2])?);
    // Exactly one whitespace byte separates the header from the pixels.
    let data = bytes.get(pos + 1..).ok_or("PPM: no pixel data")?;
    let pixels = width * height;
    if pixels == 0 || data.len() < pixels * 3 {
        return Err(format!("PPM: {width}×{height} needs {} bytes, has {}", pixels * 3, data.len()));
    }
    let mut colours = std::collections::HashSet::new();
    let mut non_black = 0usize;
    for rgb in data[..pixels * 3].chunks_exact(3) {
        if rgb != [0, 0, 0] {
            non_black += 1;
        }
        if colours.len() < 4096 {
            colours.insert([rgb[0], rgb[1], rgb[2]]);
        }
    }
    Ok(CaptureStats { pixels, non_black: non_black as f64 / pixels as f64, colours: colours.len() })
}

fn free_x_display() -> Result<u32> {
    (140..200)
        .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() && !Path::new(&format!("/tmp/.X{n}-lock")).exists())
        .ok_or_else(|| "no free X display number".to_owned())
}

/// Runs `program` as `user` in a new process group (setpriv execs in place,
/// so the child's pid is the program's).
fn as_user(user: &str, uid: u32) -> Command {
    use std::os::unix::process::CommandExt as _;
    let mut cmd = Command::new("setpriv");
    cmd.args([format!("--reuid={uid}"), format!("--regid={user}"), "--init-groups".into(), "--".into()]);
    cmd.process_group(0);
    cmd
}

/// A running test session: Xvfb and cage (with the kiosk inside), both
/// ended on drop.
struct Running {
    session: GroupGuard,
    _xvfb: GroupGuard,
    data: PathBuf,
    log: PathBuf,
}

/// The policy file and mode the session runs the kiosk with.
enum Mode<'p> {
    /// The demo policy in demo mode: the guard only reports.
    Demo,
    /// This policy, not in demo mode: the guard enforces (an installed
    /// school PC), enrolled with a hub first.
    Exam(&'p Path, &'p Enrolment),
}

/// What `kioskctl enrol` needs: the hub's URL, a fresh token and the
/// school CA (readable by the kiosk user).
pub struct Enrolment {
    /// `https://127.0.0.1:PORT`.
    pub hub: String,
    /// One enrolment token.
    pub token: String,
    /// The hub's school CA (PEM).
    pub ca: PathBuf,
}

impl CageSession<'_> {
    /// Starts the session, waits for the kiosk's first painted page, saves
    /// it as `cage-session.png` and returns the path and what it shows.
    pub fn capture(&self) -> Result<(PathBuf, CaptureStats)> {
        let runtime = PathBuf::from(format!("/tmp/exam-kiosk-cage-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&runtime);
        let result = self.capture_in(&runtime);
        let _ = std::fs::remove_dir_all(&runtime);
        result
    }

    /// Starts Xvfb and the installed session (cage, the session script, the
    /// kiosk) as the kiosk user in `runtime`.
    fn start(&self, runtime: &Path, mode: Mode<'_>, log_name: &str) -> Result<Running> {
        let (user, uid) = (self.user, self.uid);
        // A scratch runtime and data dir owned by the kiosk user; the real
        // session unit is never started (it would take over tty1).
        let data = runtime.join("data");
        for dir in [runtime, &data] {
            run(Command::new("install").args(["-d", "-m", "0700", "-o", user, "-g", user]).arg(dir))?;
        }
        let key_store = format!("file:{}", data.join("device.key").display());
        run(as_user(user, uid).args(["/usr/bin/kioskctl", "device", "init", "--store", &key_store]).stdout(Stdio::null()))?;
        if let Mode::Exam(_, enrolment) = &mode {
            // The kiosk stops at "examenserver bereikt" without a hub.
            run(as_user(user, uid)
                .args(["/usr/bin/kioskctl", "enrol", "--hub", &enrolment.hub])
                .arg(format!("--token={}", enrolment.token))
                .arg("--ca")
                .arg(&enrolment.ca)
                .args(["--store", &key_store, "--data"])
                .arg(data.join("hub"))
                .stdout(Stdio::null()))?;
        }

        let display = format!(":{}", free_x_display()?);
        let xvfb = as_user(user, uid)
            .args(["Xvfb", &display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start Xvfb: {e}"))?;
        let xvfb = GroupGuard(xvfb);
        let x_socket = format!("/tmp/.X11-unix/X{}", &display[1..]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !Path::new(&x_socket).exists() {
            if Instant::now() > deadline {
                return Err("Xvfb did not start".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }

        let log = self.out_dir.join(log_name);
        let mut session = as_user(user, uid);
        session
            .args(["env", "-i", "PATH=/usr/bin:/bin"])
            .arg(format!("HOME={}", runtime.display()))
            .arg(format!("XDG_RUNTIME_DIR={}", runtime.display()))
            .arg(format!("DISPLAY={display}"))
            .args(["WLR_BACKENDS=x11", "WLR_RENDERER=pixman", "WLR_LIBINPUT_NO_DEVICES=1", "NO_AT_BRIDGE=1"])
            .arg(format!("EXAM_KIOSK_DATA={}", data.display()))
            .arg(format!("EXAM_KIOSK_STORE={key_store}"));
        match mode {
            // Demo: the guard only reports; nothing on this machine is touched.
            Mode::Demo => session.arg("EXAM_KIOSK_POLICY=/usr/share/exam-kiosk/policies/demo.toml").arg("EXAM_KIOSK_DEMO=1"),
            // As kiosk.env ships: no scope set, so the session script's
            // default (this user) applies.
            Mode::Exam(policy, _) => session.arg(format!("EXAM_KIOSK_POLICY={}", policy.display())),
        };
        let session = session
            .args(["dbus-run-session", "--", "cage", "-d", "--", "/usr/libexec/exam-kiosk/exam-kiosk-session", "--inhibited"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?)
            .spawn()
            .map_err(|e| format!("cannot start cage: {e}"))?;
        Ok(Running { session: GroupGuard(session), _xvfb: xvfb, data, log })
    }

    fn capture_in(&self, runtime: &Path) -> Result<(PathBuf, CaptureStats)> {
        let mut running = self.start(runtime, Mode::Demo, "cage-session.log")?;
        let log = running.log.clone();
        let session = &mut running.session;
        let started = Instant::now();
        let ppm = runtime.join("shot.ppm");
        let mut last = None;
        while started.elapsed() < FIRST_PAINT_TIMEOUT {
            std::thread::sleep(CAPTURE_INTERVAL);
            if let Ok(Some(status)) = session.0.try_wait() {
                return Err(format!("cage exited early ({status}); see {}", log.display()));
            }
            let Some(wayland) = wayland_display(runtime) else { continue };
            if !self.grim(runtime, &wayland, "ppm", &ppm) {
                continue;
            }
            let stats = ppm_stats(&std::fs::read(&ppm).map_err(|e| e.to_string())?)?;
            if stats.shows_content() {
                let png = runtime.join("shot.png");
                if !self.grim(runtime, &wayland, "png", &png) {
                    return Err("grim could not write the PNG".into());
                }
                let shot = self.out_dir.join("cage-session.png");
                std::fs::copy(&png, &shot).map_err(|e| format!("{}: {e}", shot.display()))?;
                return Ok((shot, stats));
            }
            last = Some(stats);
        }
        Err(format!(
            "the kiosk never showed under cage within {} s (last capture: {last:?}); see {}",
            FIRST_PAINT_TIMEOUT.as_secs(),
            log.display()
        ))
    }

    /// The installed session with `policy` (an allow-list, not demo): once
    /// the kiosk's guard runs, two programs are started in the kiosk user's
    /// session as a break-out would — `sleep`, and a copy of `sleep` named
    /// `cage` (an allowed name from the wrong file). Returns the guard's
    /// journal records (kind, name) once both are gone; errors when either
    /// still runs after `ENDED_TIMEOUT`, or when the session died.
    pub fn enforcement(&self, policy: &Path, enrolment: &Enrolment) -> Result<Vec<(String, String)>> {
        let runtime = PathBuf::from(format!("/tmp/exam-kiosk-guard-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&runtime);
        let result = self.enforcement_in(&runtime, policy, enrolment);
        let _ = std::fs::remove_dir_all(&runtime);
        result
    }

    fn enforcement_in(&self, runtime: &Path, policy: &Path, enrolment: &Enrolment) -> Result<Vec<(String, String)>> {
        let mut running = self.start(runtime, Mode::Exam(policy, enrolment), "cage-guard.log")?;
        let journal = running.data.join("journal");
        let log = running.log.clone();
        // The guard starts before the environment check is journalled.
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = running.session.0.try_wait() {
                return Err(format!("cage exited early ({status}); see {}", log.display()));
            }
            if guard_records(&journal).iter().any(|(kind, _)| kind == "environment.checked") {
                break;
            }
            if started.elapsed() > FIRST_PAINT_TIMEOUT {
                let kinds: Vec<String> = guard_records(&journal).into_iter().map(|(kind, _)| kind).collect();
                return Err(format!(
                    "the kiosk's guard did not start within {} s (journal: {kinds:?}); see {}",
                    FIRST_PAINT_TIMEOUT.as_secs(),
                    log.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let bin = runtime.join("bin");
        run(Command::new("install").args(["-d", "-m", "0755", "-o", self.user, "-g", self.user]).arg(&bin))?;
        run(Command::new("install").args(["-m", "0755", "-o", self.user, "-g", self.user, "/usr/bin/sleep"]).arg(bin.join("cage")))?;
        let spawn = |program: &Path| {
            as_user(self.user, self.uid)
                .arg(program)
                .arg("600")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map(GroupGuard)
                .map_err(|e| format!("cannot start {}: {e}", program.display()))
        };
        let mut intruders = [spawn(Path::new("/usr/bin/sleep"))?, spawn(&bin.join("cage"))?];
        let deadline = Instant::now() + ENDED_TIMEOUT;
        while intruders.iter_mut().any(|c| c.0.try_wait().ok().flatten().is_none()) {
            if Instant::now() > deadline {
                let left: Vec<u32> =
                    intruders.iter_mut().filter_map(|c| c.0.try_wait().ok().flatten().is_none().then(|| c.0.id())).collect();
                let raw = Command::new("/usr/bin/kioskctl").args(["journal", "show", "--json"]).arg(&journal).output();
                let raw = raw.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
                let guard_lines: Vec<String> = raw
                    .lines()
                    .map(|l| if l.contains("\"guard.") { l.to_owned() } else { json_string(l, "kind").unwrap_or_default() })
                    .collect();
                return Err(format!(
                    "programs started in the kiosk user's session still run after {} s (pids {left:?}); the journal (guard records in full):\n{}",
                    ENDED_TIMEOUT.as_secs(),
                    guard_lines.join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if let Ok(Some(status)) = running.session.0.try_wait() {
            return Err(format!("the session ended ({status}) instead of only the intruders; see {}", log.display()));
        }
        // The ended events are journalled right after the kill is confirmed.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let records = guard_records(&journal);
            if records.iter().filter(|(k, _)| k == "guard.process_ended").count() >= 2 || Instant::now() > deadline {
                return Ok(records.into_iter().filter(|(k, _)| k.starts_with("guard.")).collect());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One capture of cage's output with grim, as the kiosk user.
    fn grim(&self, runtime: &Path, wayland: &str, format: &str, out: &Path) -> bool {
        let _ = std::fs::remove_file(out);
        let status = as_user(self.user, self.uid)
            .arg("env")
            .arg(format!("XDG_RUNTIME_DIR={}", runtime.display()))
            .arg(format!("WAYLAND_DISPLAY={wayland}"))
            .args(["grim", "-t", format])
            .arg(out)
            .stderr(Stdio::null())
            .status();
        matches!(status, Ok(s) if s.success()) && out.exists()
    }
}

/// (kind, process name) of every record in the journal, read with the
/// installed kioskctl (root reads the kiosk user's files).
fn guard_records(journal: &Path) -> Vec<(String, String)> {
    let Ok(out) = Command::new("/usr/bin/kioskctl").args(["journal", "show", "--json"]).arg(journal).stderr(Stdio::null()).output() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| (json_string(line, "kind").unwrap_or_default(), json_string(line, "name").unwrap_or_default()))
        .collect()
}

/// The first string value of `"key":"…"` in one line of kioskctl's JSON
/// (xtask has no dependencies; kinds and process names need no unescaping
/// beyond `\"`).
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut out = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => out.push(chars.next()?),
            c => out.push(c),
        }
    }
    None
}

/// The Wayland socket cage created in the runtime dir.
fn wayland_display(runtime: &Path) -> Option<String> {
    std::fs::read_dir(runtime)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("wayland-") && !n.ends_with(".lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ppm(width: usize, height: usize, pixel: impl Fn(usize) -> [u8; 3]) -> Vec<u8> {
        let mut out = format!("P6\n# grim\n{width} {height}\n255\n").into_bytes();
        (0..width * height).for_each(|i| out.extend_from_slice(&pixel(i)));
        out
    }

    #[test]
    fn a_black_frame_shows_nothing_and_a_page_does() {
        let black = ppm_stats(&ppm(40, 30, |_| [0, 0, 0])).unwrap();
        assert_eq!((black.non_black, black.colours), (0.0, 1));
        assert!(!black.shows_content());
        let white = ppm_stats(&ppm(40, 30, |_| [255, 255, 255])).unwrap();
        assert!(!white.shows_content(), "one colour is not a page");
        let page = ppm_stats(&ppm(40, 30, |i| if i % 7 == 0 { [(i % 64) as u8, 20, 30] } else { [255, 255, 255] })).unwrap();
        assert!(page.shows_content(), "{page:?}");
    }

    #[test]
    fn journal_lines_give_their_kind_and_name() {
        let line = r#"{"epoch":1,"kind":"guard.process_ended","payload":{"name":"a \"b\"","pid":3},"seq":1}"#;
        assert_eq!(json_string(line, "kind").as_deref(), Some("guard.process_ended"));
        assert_eq!(json_string(line, "name").as_deref(), Some("a \"b\""));
        assert_eq!(json_string(line, "missing"), None);
        assert_eq!(json_string(r#"{"kind":"unterminated"#, "kind"), None);
    }

    #[test]
    fn malformed_captures_are_errors() {
        assert!(ppm_stats(b"").is_err());
        assert!(ppm_stats(b"P3\n1 1\n255\n000").is_err());
        assert!(ppm_stats(b"P6\n10 10\n255\n\x00\x00").is_err());
        assert!(ppm_stats(b"P6\n0 0\n255\n").is_err());
    }
}
