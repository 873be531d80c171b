//! Clearing the clipboard of a real X server (Xvfb) with text on it.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn clear_empties_a_real_x11_clipboard() {
    if Command::new("Xvfb").arg("-help").stderr(Stdio::null()).stdout(Stdio::null()).status().is_err() {
        eprintln!("SKIPPED: Xvfb is not installed (cargo xtask test installs it)");
        return;
    }
    // A display number of our own, so a developer's X session is never touched.
    let display = format!(":{}", 200 + std::process::id() % 500);
    let mut xvfb = Command::new("Xvfb").args([&display, "-nolisten", "tcp"]).stderr(Stdio::null()).spawn().unwrap();
    let socket = format!("/tmp/.X11-unix/X{}", &display[1..]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::path::Path::new(&socket).exists() {
        assert!(Instant::now() < deadline, "Xvfb did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let xsel = |args: &[&str]| {
        let mut cmd = Command::new("xsel");
        cmd.args(args).env("DISPLAY", &display).env_remove("WAYLAND_DISPLAY");
        cmd
    };
    let mut put = xsel(&["--clipboard", "--input"]).stdin(Stdio::piped()).spawn().unwrap();
    put.stdin.take().unwrap().write_all(b"antwoord van vraag 3").unwrap();
    put.wait().unwrap();
    let read = || String::from_utf8(xsel(&["--clipboard", "--output"]).output().unwrap().stdout).unwrap();
    // xsel hands the selection to a background copy of itself; wait until it owns it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while read() != "antwoord van vraag 3" {
        assert!(Instant::now() < deadline, "the clipboard never held the text");
        std::thread::sleep(Duration::from_millis(50));
    }

    // clear() reads DISPLAY from the environment: run it in a child with ours.
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "clear_child", "--nocapture"])
        .env("EXAM_CLIPBOARD_CHILD", "1")
        .env("DISPLAY", &display)
        .env_remove("WAYLAND_DISPLAY")
        .status()
        .unwrap();
    let cleared = read();
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    assert!(status.success());
    assert_eq!(cleared, "");
}

/// Runs `clipboard::clear` in a process whose environment points at the test's display.
#[test]
fn clear_child() {
    if std::env::var_os("EXAM_CLIPBOARD_CHILD").is_none() {
        return;
    }
    kiosk_core::clipboard::clear().unwrap();
}
