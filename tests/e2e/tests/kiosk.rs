//! The real exam-kiosk, driven by WebDriver under Xvfb, against a real
//! exam-hub over TLS on loopback. Screenshots go to target/e2e/.

use exam_e2e::webdriver::Session;
use exam_e2e::{bin, scenario, workspace, Display, Driver, Guarded, Stack};
use std::io::Write as _;
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_sits_the_exam_from_login_to_receipt() {
    if Command::new("Xvfb").arg("-help").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err()
        || exam_e2e::tauri_driver().is_none()
    {
        panic!("Xvfb and tauri-driver are required: run `cargo xtask test` (it installs them) or `cargo xtask e2e`");
    }
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    // The guard watches the descendants of this shell, where the "student"
    // starts a prohibited program mid-exam; nothing else on the machine.
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::fs::copy("/bin/sleep", bin_dir.join("AnyDesk")).unwrap();
    let mut shell = Guarded(Command::new("/bin/sh").arg("-s").stdin(Stdio::piped()).spawn().unwrap());
    let scope = format!("tree:{}", shell.0.id());
    let display = Display::start().unwrap();
    let driver = Driver::start(&display, &stack.kiosk_env(false, Some(scope))).unwrap();
    let session = Session::new(&driver.url, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let out = workspace().join("target/e2e");
    let anydesk = bin_dir.join("AnyDesk");
    let mut start_offender = || -> Result<(), String> {
        let stdin = shell.0.stdin.as_mut().ok_or("no stdin")?;
        writeln!(stdin, "'{}' 300 &", anydesk.display()).map_err(|e| e.to_string())
    };
    let result = scenario::exam_flow(&session, &stack, &out, true, Some(&mut start_offender)).await;
    if result.is_err() {
        let _ = scenario::shot(&session, &out, &mut Default::default(), "failure").await;
    }
    session.close().await;
    let observed = result.unwrap();
    assert!(observed.wrong_code_message.contains('2') || observed.wrong_code_message.contains("pogingen"), "{observed:?}");
    assert!(observed.lock_reason.contains("AnyDesk"), "{observed:?}");
    assert_eq!(observed.receipt.trim().len() >= 6, true, "{observed:?}");

    // The journal verifies and holds the story.
    let journal = stack.kiosk_data.join("journal");
    let out = Command::new(bin("kioskctl")).args(["journal", "show", "--json"]).arg(&journal).output().unwrap();
    let kinds: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| v["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    for kind in ["session.login_failed", "session.login", "instrument.downloaded", "instrument.opened", "guard.process_ended", "answers.acknowledged"] {
        assert!(kinds.iter().any(|k| k == kind), "journal lacks {kind}: {kinds:?}");
    }
    let verify = Command::new(bin("kioskctl")).args(["journal", "verify"]).arg(&journal).status().unwrap();
    assert!(verify.success());
}
