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

    fn capture_in(&self, runtime: &Path) -> Result<(PathBuf, CaptureStats)> {
        let (user, uid) = (self.user, self.uid);
        // A scratch runtime and data dir owned by the kiosk user; the real
        // session unit is never started (it would take over tty1).
        let data = runtime.join("data");
        for dir in [runtime, &data] {
            run(Command::new("install").args(["-d", "-m", "0700", "-o", user, "-g", user]).arg(dir))?;
        }
        let key_store = format!("file:{}", data.join("device.key").display());
        run(as_user(user, uid).args(["/usr/bin/kioskctl", "device", "init", "--store", &key_store]).stdout(Stdio::null()))?;

        let display = format!(":{}", free_x_display()?);
        let xvfb = as_user(user, uid)
            .args(["Xvfb", &display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start Xvfb: {e}"))?;
        let _xvfb = GroupGuard(xvfb);
        let x_socket = format!("/tmp/.X11-unix/X{}", &display[1..]);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !Path::new(&x_socket).exists() {
            if Instant::now() > deadline {
                return Err("Xvfb did not start".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }

        let log = self.out_dir.join("cage-session.log");
        let session = as_user(user, uid)
            .args(["env", "-i", "PATH=/usr/bin:/bin"])
            .arg(format!("HOME={}", runtime.display()))
            .arg(format!("XDG_RUNTIME_DIR={}", runtime.display()))
            .arg(format!("DISPLAY={display}"))
            .args(["WLR_BACKENDS=x11", "WLR_RENDERER=pixman", "WLR_LIBINPUT_NO_DEVICES=1", "NO_AT_BRIDGE=1"])
            .arg(format!("EXAM_KIOSK_DATA={}", data.display()))
            .arg("EXAM_KIOSK_POLICY=/usr/share/exam-kiosk/policies/demo.toml")
            .arg(format!("EXAM_KIOSK_STORE={key_store}"))
            .arg(format!("EXAM_KIOSK_GUARD_SCOPE=user:{uid}"))
            // Demo: the guard only reports; nothing on this machine is touched.
            .arg("EXAM_KIOSK_DEMO=1")
            .args(["dbus-run-session", "--", "cage", "-d", "--", "/usr/libexec/exam-kiosk/exam-kiosk-session", "--inhibited"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?)
            .spawn()
            .map_err(|e| format!("cannot start cage: {e}"))?;
        let mut session = GroupGuard(session);

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
    fn malformed_captures_are_errors() {
        assert!(ppm_stats(b"").is_err());
        assert!(ppm_stats(b"P3\n1 1\n255\n000").is_err());
        assert!(ppm_stats(b"P6\n10 10\n255\n\x00\x00").is_err());
        assert!(ppm_stats(b"P6\n0 0\n255\n").is_err());
    }
}
