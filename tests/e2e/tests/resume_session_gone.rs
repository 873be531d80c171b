//! A crash before the exam began whose session is gone (found by the
//! independent review: after a crash on the assignment or during the
//! download the kiosk comes back on Resume, but when the token kept for it
//! is missing or the hub no longer knows it, Resume could only say "the
//! student must log in again" — and there was no way to the login: the PC
//! stayed stuck). The kiosk core (no window) against the real hub.

use exam_e2e::{Guarded, Stack, DEMO_PIN};
#[path = "support/core_kiosk.rs"]
mod core_kiosk;

use kiosk_core::session::Phase;
use std::process::Command;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gone_session_before_the_start_leads_back_to_the_login_but_never_after() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    let quiet = Guarded(Command::new("sleep").arg("3600").spawn().unwrap());
    let token = stack.kiosk_data.join("state/hub-token");

    // Logged in, on the assignment; the kiosk dies and its token is lost.
    let kiosk = Arc::new(core_kiosk::start(&stack, quiet.0.id()));
    let student = stack.students[1].clone();
    kiosk.login(&student.number, &student.code, None).await.unwrap();
    drop(kiosk);
    std::fs::remove_file(&token).unwrap();
    let kiosk = Arc::new(core_kiosk::start(&stack, quiet.0.id()));
    assert_eq!(kiosk.view().await.phase, Phase::Resume);
    // The invigilator confirms: back to the login, with the reason shown.
    let view = kiosk.unlock(DEMO_PIN, "pc herstart").await.expect("the confirmation leads to the login");
    assert_eq!(view.phase, Phase::Login);
    assert!(view.login_error.as_ref().is_some_and(|e| e.message.contains("Log opnieuw in")), "{:?}", view.login_error);
    assert!(view.student.is_none(), "no one is logged in any more");
    // The student logs in again and sits the exam.
    kiosk.login(&student.number, &student.code, None).await.unwrap();
    kiosk.confirm_assignment().await.unwrap();
    assert_eq!(kiosk.start_exam().await.unwrap().phase, Phase::InExam);

    // In the exam the kiosk dies and the token is lost: no way back to a
    // fresh login (a new clock); the seat stays on Resume and says why.
    drop(kiosk);
    std::fs::remove_file(&token).unwrap();
    let kiosk = Arc::new(core_kiosk::start(&stack, quiet.0.id()));
    assert_eq!(kiosk.view().await.phase, Phase::Resume);
    let refused = kiosk.unlock(DEMO_PIN, "pc herstart").await.expect_err("no fresh login once the clock ran");
    assert!(refused.message.contains("heropenen"), "{}", refused.message);
    assert_eq!(kiosk.view().await.phase, Phase::Resume);
    let records = exam_e2e::steps::journal_records(&stack.kiosk_data.join("journal")).unwrap();
    assert_eq!(records.iter().filter(|r| r["kind"] == "session.resume_abandoned").count(), 1);
}
