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
    // Xvfb picks a free display number itself and tells us (-displayfd):
    // a developer's X session is never touched, and a display left behind
    // by a killed run (its socket still on disk) is never mistaken for ours.
    let mut xvfb = Command::new("Xvfb")
        .args(["-displayfd", "1", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut number = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(xvfb.stdout.take().unwrap()), &mut number).unwrap();
    assert!(!number.trim().is_empty(), "Xvfb did not start");
    let display = format!(":{}", number.trim());
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
