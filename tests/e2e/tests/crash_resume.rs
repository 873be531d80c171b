//! Issue 15 points 1–3: the real kiosk is killed with SIGKILL twice in
//! every phase a student can be in between login and hand-in — the
//! assignment shown, waiting for the start, in the exam, locked (the
//! download is too quick to catch here; kiosk-core's session tests cover
//! it) — the second time on the Resume screen
//! the first crash led to. Every start after a crash must come back on
//! Resume with the same student (not on the login screen, where the same
//! code gave a fresh clock without any PIN), the clock no further back
//! than it was at the crash, the answers up to the last change the student
//! made, and the page they were on; only the invigilator's PIN lets the
//! student go on.

use exam_e2e::steps::{self, SCREEN};
use exam_e2e::webdriver::Session;
use exam_e2e::{bin, scenario, workspace, Display, Driver, Stack, Student, SITTING};
use std::process::Command;
use std::time::Duration;

/// The kiosk's own view of the clock (whole seconds left), asked of the shell.
async fn remaining_secs(session: &Session) -> Result<Option<i64>, String> {
    let view = session
        .script_async(
            "const done = arguments[arguments.length - 1]; \
             window.__TAURI__.core.invoke('view').then(v => done(v.remaining_secs ?? null), e => done('error: ' + e))",
            vec![],
        )
        .await?;
    match view {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(n) => Ok(n.as_i64()),
        other => Err(format!("view: {other}")),
    }
}

/// SIGKILL for the kiosk, then a new start through the driver; it must
/// come back on the Resume screen for `student`.
async fn crash_and_restart(stack: &Stack, driver: &Driver, session: Session, student: &Student, when: &str) -> Result<Session, String> {
    stack.kill_kiosk()?;
    session.close().await; // the driver forgets the dead app
    let session = Session::new(driver, bin("exam-kiosk").to_str().unwrap()).await?;
    session.wait_for("#unlock-pin, #student-number", SCREEN).await?;
    let body = session.text_of("body").await?;
    if session.find("#unlock-pin").await.is_err() {
        return Err(format!("after a crash {when} the kiosk asks for a login again: {body}"));
    }
    if !body.contains(&student.number) && !body.contains(&student.name) {
        return Err(format!("the Resume screen after a crash {when} does not name the student {}: {body}", student.number));
    }
    Ok(session)
}

/// Kills the kiosk twice (the second time on Resume) and returns the
/// session on the second Resume screen, the clock checked against `before`
/// (before the start the clock does not run yet: the hub sets it at the start).
async fn twice(stack: &Stack, driver: &Driver, session: Session, student: &Student, when: &str, clock_runs: bool) -> Result<Session, String> {
    let before = remaining_secs(&session).await?;
    let session = crash_and_restart(stack, driver, session, student, when).await?;
    let session = crash_and_restart(stack, driver, session, student, &format!("{when}, then on Resume")).await?;
    let after = remaining_secs(&session).await?;
    match (before, after) {
        (Some(b), Some(a)) if a > b + 2 => Err(format!("two crashes {when} gave back time: {b} s left before, {a} s after")),
        (Some(b), None) if clock_runs => Err(format!("the clock is gone after two crashes {when} ({b} s left before)")),
        _ => Ok(session),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twice_in_every_phase_the_kiosk_resumes_the_same_exam() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    let display = Display::start().unwrap();
    // DEMO mode keeps the guard out of this scenario (bad_input covers it).
    let driver = Driver::start(&display, &stack.kiosk_env(true, None)).unwrap();
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let student = stack.students[2].clone();
    let out = workspace().join("target/e2e/crash-resume");
    let mut observed = Default::default();
    let mut current = Some(session);
    let result: Result<String, String> = async {
        let session = current.take().unwrap();
        session.type_into(&session.wait_for("#student-number", SCREEN).await?, &student.number).await?;
        session.type_into(&session.find("#access-code").await?, &student.code).await?;
        session.click(&session.find("#login-submit").await?).await?;
        // The assignment shown, not yet confirmed: the student's session
        // exists at the hub; a crash must not lead back to the login.
        session.wait_for("#confirm-assignment", SCREEN).await?;
        let session = twice(&stack, &driver, session, &student, "on the assignment", false).await?;
        scenario::shot(&session, &out, &mut observed, "resume-assignment").await?;
        session.type_into(&session.find("#unlock-pin").await?, exam_e2e::DEMO_PIN).await?;
        session.type_into(&session.find("#unlock-reason").await?, "pc herstart bij de opdracht").await?;
        session.click(&session.find("#unlock-submit").await?).await?;
        // Waiting for the start.
        session.wait_for("#start-exam", SCREEN).await?;
        let session = twice(&stack, &driver, session, &student, "while waiting for the start", false).await?;
        scenario::shot(&session, &out, &mut observed, "resume-waiting").await?;
        session.type_into(&session.find("#unlock-pin").await?, exam_e2e::DEMO_PIN).await?;
        session.type_into(&session.find("#unlock-reason").await?, "pc herstart voor de start").await?;
        session.click(&session.find("#unlock-submit").await?).await?;
        session.click(&session.wait_for("#start-exam", SCREEN).await?).await?;

        // In the exam: a choice on the first page, text typed on the page of
        // item v03, each on disk (the UI's count of saves not yet in the
        // shell is 0) right before the kill.
        session.click(&session.wait_for("[data-item-id] input[type=radio]", SCREEN).await?).await?;
        session.wait_for("#sync-status[data-local-pending=\"0\"]", SCREEN).await?;
        session.click(&session.find("#review-list button[data-review=\"ITM-v03\"]").await?).await?;
        let field = session.wait_for("[data-item-id=\"ITM-v03\"] input[type=text], [data-item-id=\"ITM-v03\"] textarea", SCREEN).await?;
        session.type_into(&field, "tot de laatste toets").await?;
        session.wait_for("#sync-status[data-local-pending=\"0\"]", SCREEN).await?;
        let shown = "return Array.from(document.querySelectorAll('[data-item-id]')).map(e => e.dataset.itemId)";
        let page_before = session.script(shown).await?;
        let session = twice(&stack, &driver, session, &student, "in the exam", true).await?;
        scenario::shot(&session, &out, &mut observed, "resume-in-exam").await?;
        steps::unlock(&session, "pc herstart tijdens het examen").await?;
        let page_after = session.script(shown).await?;
        if page_after != page_before {
            return Err(format!("the resumed exam opened {page_after}, not the page the student was on ({page_before})"));
        }
        let typed = session
            .script("const f = document.querySelector('[data-item-id=\"ITM-v03\"] input[type=text], [data-item-id=\"ITM-v03\"] textarea'); return f ? f.value : null")
            .await?;
        if typed.as_str() != Some("tot de laatste toets") {
            return Err(format!("the typed answer after two crashes: {typed}"));
        }

        // Locked by the invigilator (through the hub), then killed twice.
        let hub = tmp.path().join("hub");
        let out_cli = Command::new(bin("exam-hub"))
            .args(["instruct", "--data"])
            .arg(&hub)
            .args(["--action", "lock", "--sitting", SITTING, "--student", &student.number, "--reason", "gesprek met de student"])
            .output()
            .map_err(|e| e.to_string())?;
        if !out_cli.status.success() {
            return Err(format!("exam-hub instruct lock: {}", String::from_utf8_lossy(&out_cli.stderr)));
        }
        session.wait_for("#screen-locked", Duration::from_secs(30)).await?;
        let session = twice(&stack, &driver, session, &student, "while locked", true).await?;
        scenario::shot(&session, &out, &mut observed, "resume-locked").await?;
        steps::unlock(&session, "pc herstart tijdens vergrendeling").await?;
        let radio = "return Array.from(document.querySelectorAll('[data-item-id] input[type=radio]')).some(i => i.checked)";
        session.click(&session.find("#review-list button[data-review=\"ITM-v01\"]").await?).await.ok();
        steps::wait_until(&session, radio, SCREEN).await?;
        let receipt = steps::hand_in(&session).await?;
        current = Some(session);
        Ok(receipt)
    }
    .await;
    if let Some(session) = current.take() {
        if result.is_err() {
            let _ = scenario::shot(&session, &out, &mut observed, "failure").await;
        }
        session.close().await;
    }
    if result.is_err() {
        // Mid-exam the kiosk refuses to close: end it, or nothing ends it.
        let _ = stack.kill_kiosk();
    }
    let receipt = result.unwrap();
    assert!(receipt.trim().len() >= 6, "handed in after eight crashes: {receipt:?}");

    // The journal holds the eight restarts, each found the unfinished session, and verifies.
    let journal = stack.kiosk_data.join("journal");
    let records = steps::journal_records(&journal).unwrap();
    let found = records
        .iter()
        .filter(|r| r["kind"] == "session.transition" && r["payload"]["cause"]["trigger"] == "unfinished_session_found")
        .count();
    assert_eq!(found, 8, "each of the eight starts after a crash resumed");
    assert!(steps::journal_verifies(&journal));
}
