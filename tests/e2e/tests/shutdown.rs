//! A clean shutdown by signal: the real exam-kiosk (DEMO mode, under Xvfb,
//! against a real exam-hub) gets SIGTERM, journals it, undoes its startup
//! steps and leaves a journal that ends with its closing checkpoint.

use exam_e2e::{bin, Display, Guarded, Stack};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The journal's records as `kioskctl journal show --json` lists them.
fn records(journal: &Path) -> Vec<serde_json::Value> {
    let out = Command::new(bin("kioskctl")).args(["journal", "show", "--json"]).arg(journal).output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

#[test]
fn sigterm_ends_the_demo_with_a_closing_checkpoint() {
    if Command::new("Xvfb").arg("-help").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
        panic!("Xvfb is required: run `cargo xtask test` (it installs it) or `cargo xtask e2e`");
    }
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    let quiet = Guarded(Command::new("sleep").arg("3600").spawn().unwrap());
    let display = Display::start().unwrap();
    let mut kiosk = Command::new(bin("exam-kiosk"));
    kiosk.env("DISPLAY", &display.name).env_remove("WAYLAND_DISPLAY").stdout(Stdio::null()).stderr(Stdio::null());
    for (k, v) in stack.kiosk_env(true, Some(format!("tree:{}", quiet.0.id()))) {
        kiosk.env(k, v);
    }
    let mut kiosk = Guarded(kiosk.spawn().unwrap());
    let journal = stack.kiosk_data.join("journal");
    let kinds = || -> Vec<String> { records(&journal).iter().map(|r| r["kind"].as_str().unwrap_or("").to_owned()).collect() };
    // Started: the location is decided once the hub answered.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !kinds().iter().any(|k| k == "location.approved") {
        assert!(kiosk.0.try_wait().unwrap().is_none(), "the kiosk ended before it started: {:?}", kinds());
        assert!(Instant::now() < deadline, "the kiosk did not start within 60 s: {:?}", kinds());
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = Command::new("kill").args(["-TERM", &kiosk.0.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = kiosk.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "the kiosk did not end within 30 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(exit.code(), Some(0), "a clean exit, not killed by the signal");
    let records = records(&journal);
    assert!(records.iter().any(|r| r["kind"] == "kiosk.signal" && r["payload"]["signal"] == "SIGTERM"), "{records:?}");
    let last = records.last().unwrap();
    assert_eq!(last["type"], "checkpoint", "the journal ends with its closing checkpoint: {last}");
    let verified = Command::new(bin("kioskctl")).args(["journal", "verify"]).arg(&journal).output().unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", String::from_utf8_lossy(&verified.stderr));
}
