//! The real exam-kiosk, driven by WebDriver under Xvfb, against a real
//! exam-hub over TLS on loopback. Screenshots go to target/e2e/.

use exam_e2e::webdriver::Session;
use exam_e2e::{bin, scenario, workspace, Display, Driver, Guarded, Stack};
use std::io::Write as _;
use std::process::{Command, Stdio};

/// One kiosk window at a time: two WebKit instances on two cores only slow each other down.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_sits_the_exam_from_login_to_receipt() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
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
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
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
    let approved = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["kind"] == "location.approved")
        .expect("a location decision");
    let held: Vec<&str> = approved["payload"]["held"].as_array().unwrap().iter().filter_map(|c| c["kind"].as_str()).collect();
    assert!(held.contains(&"hub-source"), "the hub's signed echo is part of the evidence: {held:?}");
    for kind in ["session.login_failed", "session.login", "instrument.downloaded", "instrument.opened", "guard.process_ended", "answers.acknowledged"] {
        assert!(kinds.iter().any(|k| k == kind), "journal lacks {kind}: {kinds:?}");
    }
    let verify = Command::new(bin("kioskctl")).args(["journal", "verify"]).arg(&journal).status().unwrap();
    assert!(verify.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_kiosk_resumes_with_its_answers_and_a_hub_outage_loses_nothing() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    use exam_e2e::DEMO_PIN;
    use std::time::Duration;
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = Stack::start(tmp.path()).unwrap();
    let display = Display::start().unwrap();
    // DEMO mode keeps the guard out of this scenario (the other test covers it).
    let driver = Driver::start(&display, &stack.kiosk_env(true, None)).unwrap();
    let out = workspace().join("target/e2e/resume");
    let app = bin("exam-kiosk");
    let wait = Duration::from_secs(30);

    // Into the exam, one answer saved.
    let session = Session::new(&driver, app.to_str().unwrap()).await.unwrap();
    let student = stack.students[1].clone();
    session.type_into(&session.wait_for("#student-number", wait).await.unwrap(), &student.number).await.unwrap();
    session.type_into(&session.find("#access-code").await.unwrap(), &student.code).await.unwrap();
    session.click(&session.find("#login-submit").await.unwrap()).await.unwrap();
    session.click(&session.wait_for("#confirm-assignment", wait).await.unwrap()).await.unwrap();
    session.click(&session.wait_for("#start-exam", wait).await.unwrap()).await.unwrap();
    let choice = session.wait_for("[data-item-id] input[type=radio]", wait).await.unwrap();
    session.click(&choice).await.unwrap();
    session.wait_for("#sync-status[data-local-pending=\"0\"]", wait).await.unwrap();
    // Issue 19: the kladblok and the markeerstift of this item, kept with the answers.
    let mut observed = Default::default();
    session.click(&session.find("[data-item-id] .scratch-toggle").await.unwrap()).await.unwrap();
    session.type_keys(&session.wait_for("[data-item-id] .scratch-text", wait).await.unwrap(), "kladblok: eerst optellen").await.unwrap();
    session.wait_for("[data-item-id] .scratch-status:not(:empty)", wait).await.unwrap();
    let pad_saved = "return (document.querySelector('[data-item-id] .scratch-status') || {}).textContent === 'Kladblok opgeslagen'";
    for _ in 0..50 {
        if session.script(pad_saved).await.unwrap() == serde_json::Value::Bool(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(session.script(pad_saved).await.unwrap(), serde_json::Value::Bool(true), "the kiosk kept the scratchpad");
    scenario::shot(&session, &out, &mut observed, "scratchpad").await.unwrap();
    scenario::axe(&session, "kladblok").await.unwrap();
    // The first text block marked by keyboard (Alt+M, Space, Escape).
    session.script("document.querySelector('[data-item-id] .item-heading').focus()").await.unwrap();
    let key = |k: &str, alt: bool| {
        let init = format!("{{key: '{k}', code: '{}', altKey: {alt}, bubbles: true}}", if k == "m" { "KeyM" } else { k });
        format!("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {init}))")
    };
    session.script(&key("m", true)).await.unwrap();
    session.script(&key(" ", false)).await.unwrap();
    scenario::shot(&session, &out, &mut observed, "highlighter").await.unwrap();
    scenario::axe(&session, "markeerstift").await.unwrap();
    session.script(&key("Escape", false)).await.unwrap();
    let marks = "return document.querySelectorAll('[data-item-id] mark.hl').length";
    assert!(session.script(marks).await.unwrap().as_u64().unwrap_or(0) > 0, "a text block is marked");
    session.wait_for("#sync-status[data-local-pending=\"0\"]", wait).await.unwrap();
    // On to the next page (issue 15 point 3: a resume opened the first page again).
    session.click(&session.wait_for("#next-item", wait).await.unwrap()).await.unwrap();
    session.wait_for("#screen-exam[data-page-kept=\"1\"]", wait).await.unwrap();
    let shown = "return Array.from(document.querySelectorAll('[data-item-id]')).map(e => e.dataset.itemId)";
    let page_before = session.script(shown).await.unwrap();

    // kill -9 mid-exam; the next start resumes after the invigilator's PIN.
    stack.kill_kiosk().unwrap();
    session.close().await; // the driver forgets the dead app
    let session = Session::new(&driver, app.to_str().unwrap()).await.unwrap();
    session.wait_for("#unlock-pin", wait).await.unwrap();
    scenario::shot(&session, &out, &mut observed, "resume").await.unwrap();
    session.type_into(&session.find("#unlock-pin").await.unwrap(), DEMO_PIN).await.unwrap();
    session.type_into(&session.find("#unlock-reason").await.unwrap(), "pc herstart na storing").await.unwrap();
    session.click(&session.find("#unlock-submit").await.unwrap()).await.unwrap();
    session.wait_for("#screen-exam", wait).await.unwrap();
    assert_eq!(session.script(shown).await.unwrap(), page_before, "the page the student was on");
    // Back to the first page: the answer from before the crash is there.
    session.click(&session.wait_for("#prev-item", wait).await.unwrap()).await.unwrap();
    session.wait_for("#screen-exam[data-page-kept=\"0\"]", wait).await.unwrap();
    let restored = session
        .script("return Array.from(document.querySelectorAll('[data-item-id] input[type=radio]')).some(i => i.checked)")
        .await
        .unwrap();
    assert_eq!(restored, serde_json::Value::Bool(true), "the answer from before the crash is back");
    // … and the scratchpad and the marks: they were in the answer store, not in the page.
    assert!(session.script(marks).await.unwrap().as_u64().unwrap_or(0) > 0, "the marks from before the crash are back");
    session.click(&session.find("[data-item-id] .scratch-toggle").await.unwrap()).await.unwrap();
    session.wait_for("[data-item-id] .scratch-text", wait).await.unwrap();
    let pad = session.script("return document.querySelector('[data-item-id] .scratch-text').value").await.unwrap();
    assert_eq!(pad, serde_json::json!("kladblok: eerst optellen"), "the scratchpad from before the crash is back");
    scenario::shot(&session, &out, &mut observed, "resumed-exam").await.unwrap();

    // The hub goes down mid-exam: work is kept and the student is told.
    stack.stop_hub();
    session.click(&session.wait_for("#next-item", wait).await.unwrap()).await.unwrap();
    let second = session.wait_for("[data-item-id] input[type=radio]:not(:checked)", wait).await.unwrap();
    session.click(&second).await.unwrap();
    session.wait_for("#sync-status[data-state=\"offline\"], #sync-status.offline", Duration::from_secs(20)).await.ok();
    scenario::shot(&session, &out, &mut observed, "hub-offline").await.unwrap();
    stack.restart_hub().unwrap();
    session.click(&session.wait_for("#submit-exam", wait).await.unwrap()).await.unwrap();
    session.click(&session.wait_for("#confirm-submit", wait).await.unwrap()).await.unwrap();
    let receipt = session.wait_for("#receipt-code:not(:empty)", Duration::from_secs(60)).await;
    scenario::shot(&session, &out, &mut observed, "submitted-after-outage").await.unwrap();
    session.close().await;
    receipt.unwrap();

    // The journal reached the hub: the sync cursor is set and the journal verifies.
    let journal = stack.kiosk_data.join("journal");
    let cursor = std::fs::read_to_string(journal.join("sync-cursor.json"));
    assert!(cursor.is_ok(), "the hub acknowledged journal records");
    let verify = Command::new(bin("kioskctl")).args(["journal", "verify"]).arg(&journal).output().unwrap();
    assert!(verify.status.success(), "kioskctl journal verify: {}{}", String::from_utf8_lossy(&verify.stdout), String::from_utf8_lossy(&verify.stderr));
}
