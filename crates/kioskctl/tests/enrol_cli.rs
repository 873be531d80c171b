//! `kioskctl enrol` end to end against a real `exam-hub` (the binary the
//! workspace build puts next to `kioskctl`; `cargo xtask test` builds it).

use kiosk_core::hub::files;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// An `exam-hub serve`, stopped when dropped.
struct Hub {
    child: Child,
    url: String,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn exam_hub() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_kioskctl")).with_file_name("exam-hub")
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A new hub with its data in `dir`, serving on a free port of 127.0.0.1.
fn serve_hub(dir: &Path) -> Hub {
    serve_new_hub(dir).0
}

/// [`serve_hub`], and the hub's signing key as `exam-hub init` printed it.
fn serve_new_hub(dir: &Path) -> (Hub, String) {
    let init = run_ok(Command::new(exam_hub()).args(["init", "--name", "127.0.0.1", "--listen", "127.0.0.1:0", "--data"]).arg(dir));
    let signing_key = init
        .lines()
        .find_map(|l| l.strip_prefix("hub signing key:"))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no hub signing key in {init}"))
        .to_string();
    let mut child = Command::new(exam_hub())
        .args(["serve", "--data"])
        .arg(dir)
        .env("EXAM_HUB_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let hub = Hub { url: line.trim().strip_prefix("exam-hub listening on ").unwrap_or_default().to_string(), child };
    assert!(hub.url.starts_with("https://"), "unexpected: {line:?}");
    (hub, signing_key)
}

/// The enrolment succeeds also when whoever reads its output has gone
/// (`kioskctl enrol ... | head -0`): the enrolment is written, the process
/// ends with exit code 2 and no panic (before, a `println!` panicked).
#[test]
fn enrol_survives_a_closed_stdout() {
    if !exam_hub().is_file() {
        eprintln!("SKIPPED: needs the exam-hub binary next to kioskctl (cargo build -p exam-hub; cargo xtask test builds it)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hub_data = tmp.path().join("hub");
    let hub = serve_hub(&hub_data);
    let token = run_ok(Command::new(exam_hub()).args(["enrol-token", "--room", "B2.14", "--data"]).arg(&hub_data));
    let store = format!("file:{}", tmp.path().join("device.key").display());
    run_ok(Command::new(env!("CARGO_BIN_EXE_kioskctl")).args(["device", "init", "--store", &store]));
    let enrolment = tmp.path().join("kiosk");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(["enrol", "--hub", &hub.url, &format!("--token={}", token.trim()), "--store", &store, "--ca"])
        .arg(hub_data.join("school-ca.pem"))
        .arg("--data")
        .arg(&enrolment)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before the enrolment (two requests to the hub) can print anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(enrolment.join(files::IDENTITY).is_file(), "the enrolment is written although it could not be printed: {stderr}");
    drop(hub);
}

fn kioskctl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kioskctl")).args(args).output().unwrap()
}

/// The number after "the hub holds records 0..=" in `journal sync`'s output.
fn held(stdout: &str) -> u64 {
    stdout
        .split("the hub holds records 0..=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("journal sync printed {stdout:?}"))
}

/// `kioskctl journal sync` sends the journal over mutual TLS with the
/// enrolment's client certificate; the hub's signed receipt is kept, so
/// `journal verify --hub-key` (with the key `exam-hub init` printed) proves
/// the records the hub holds unchanged; a second sync sends only what was
/// written since.
#[test]
fn journal_sync_sends_the_journal_and_keeps_the_hub_receipt() {
    if !exam_hub().is_file() {
        eprintln!("SKIPPED: needs the exam-hub binary next to kioskctl (cargo build -p exam-hub; cargo xtask test builds it)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hub_data = tmp.path().join("hub");
    let (hub, hub_key) = serve_new_hub(&hub_data);
    let token = run_ok(Command::new(exam_hub()).args(["enrol-token", "--room", "B2.14", "--data"]).arg(&hub_data));
    let store = format!("file:{}", tmp.path().join("device.key").display());
    run_ok(Command::new(env!("CARGO_BIN_EXE_kioskctl")).args(["device", "init", "--store", &store]));
    let enrolment = tmp.path().join("kiosk");
    let ca = hub_data.join("school-ca.pem");
    let enrolment_arg = enrolment.to_str().unwrap();
    let o = kioskctl(&["enrol", "--hub", &hub.url, &format!("--token={}", token.trim()), "--store", &store, "--ca", ca.to_str().unwrap(), "--data", enrolment_arg]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let journal = tmp.path().join("journal");
    let dir = journal.to_str().unwrap();
    for kind in ["session.started", "answer.saved", "session.locked"] {
        let o = kioskctl(&["journal", "append", "--journal", dir, "--store", &store, "--kind", kind]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    }
    // Before any sync there is no receipt to check: a failed verification.
    let o = kioskctl(&["journal", "verify", dir, "--hub-key", &hub_key]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));

    let o = kioskctl(&["journal", "sync", "--journal", dir, "--store", &store, "--enrolment", enrolment_arg]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    let first = held(&stdout);
    let o = kioskctl(&["journal", "verify", dir, "--hub-key", &hub_key]);
    let verified = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{verified}{}", String::from_utf8_lossy(&o.stderr));
    assert!(verified.contains(&format!("records 0..={first} are unchanged since the hub acknowledged them")), "{verified}");

    // The close's checkpoint and the next session's epoch certificate follow.
    let o = kioskctl(&["journal", "sync", "--journal", dir, "--store", &store, "--enrolment", enrolment_arg]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.starts_with("sent 2 records"), "{stdout}");
    assert_eq!(held(&stdout), first + 2, "{stdout}");

    // No enrolment: a clear error, nothing sent.
    let missing = tmp.path().join("not enrolled");
    let o = kioskctl(&["journal", "sync", "--journal", dir, "--store", &store, "--enrolment", missing.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: cannot load the enrolment in") && stderr.contains("hub.json"), "{stderr}");
    drop(hub);
}
