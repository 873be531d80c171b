//! Bad input at login and download, at kiosk-core level (no window needed)
//! against a real exam-hub over mutual TLS: an unknown student, a sitting
//! that is over, one that has not begun, the hub unreachable at login, and
//! a download cut off by the hub going away. Each gets a clear Dutch message
//! and a journal event; nothing the student did is lost and each can be
//! retried once the cause is gone.

use exam_e2e::{bin, steps, Guarded, Stack};
#[path = "support/core_kiosk.rs"]
mod core_kiosk;

use kiosk_core::session::Phase;
use std::process::Command;
use std::time::{Duration, SystemTime};

/// Adds two sittings to the stack's hub: one that ended hours ago and one
/// that starts tomorrow, each with one student; returns their (number, code).
fn plan_other_sittings(stack: &Stack) -> ((String, String), (String, String)) {
    let rfc3339 = |t: SystemTime| {
        let out = Command::new("date")
            .args(["-u", "-d"])
            .arg(format!("@{}", t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()))
            .arg("+%Y-%m-%dT%H:%M:%SZ")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let past = rfc3339(SystemTime::now() - Duration::from_secs(5 * 3600));
    let future = rfc3339(SystemTime::now() + Duration::from_secs(24 * 3600));
    let planning = stack.dir.join("other-planning.csv");
    std::fs::write(
        &planning,
        format!(
            "student_number,student_name,sitting,exam,instrument,room,start,duration_minutes,extra_minutes,tools,text_size,contrast\n\
             2001,Dewi Smit,OLD-1,Verkoopmedewerker niveau 2,demo-instrument,{room},{past},60,,,,\n\
             2002,Emre Kaya,LATER-1,Verkoopmedewerker niveau 2,demo-instrument,{room},{future},60,,,,\n",
            room = exam_e2e::ROOM
        ),
    )
    .unwrap();
    let codes = stack.dir.join("other-codes.txt");
    let status = Command::new(bin("exam-hub"))
        .args(["import", "planning"])
        .arg(&planning)
        .arg("--codes-out")
        .arg(&codes)
        .arg("--data")
        .arg(stack.dir.join("hub"))
        .status()
        .unwrap();
    assert!(status.success(), "import the other sittings");
    let text = std::fs::read_to_string(&codes).unwrap();
    let code_of = |number: &str| {
        let line = text.lines().find(|l| l.split_whitespace().next() == Some(number)).unwrap_or_else(|| panic!("{number} in {text}"));
        (number.to_owned(), line.split_whitespace().last().unwrap().to_owned())
    };
    (code_of("2001"), code_of("2002"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_logins_and_an_interrupted_download_are_explained_journalled_and_retryable() {
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = Stack::start(tmp.path()).unwrap();
    let (over, later) = plan_other_sittings(&stack);
    // The guard watches an idle process of ours, nothing else.
    let quiet = Guarded(Command::new("sleep").arg("3600").spawn().unwrap());
    let kiosk = core_kiosk::start(&stack, quiet.0.id());
    let view = kiosk.view().await;
    assert!(view.startup_failure.is_none(), "{:?}", view.startup_failure);
    assert_eq!(view.phase, Phase::Login);

    let unknown = kiosk.login("9999999", "ABCD-EFGH", None).await.unwrap_err();
    assert!(unknown.message.contains("staat niet in de examenplanning"), "{unknown}");
    let ended = kiosk.login(&over.0, &over.1, None).await.unwrap_err();
    assert!(ended.message.contains("nog niet begonnen of het is al afgelopen"), "{ended}");
    let early = kiosk.login(&later.0, &later.1, None).await.unwrap_err();
    assert!(early.message.contains("nog niet begonnen of het is al afgelopen"), "{early}");

    // The hub is away at login: said so, and the same code works once it is back.
    let student = stack.students[0].clone();
    stack.stop_hub();
    let away = kiosk.login(&student.number, &student.code, None).await.unwrap_err();
    assert!(away.message.contains("niet bereikbaar"), "{away}");
    stack.restart_hub().unwrap();
    kiosk.login(&student.number, &student.code, None).await.unwrap();

    // The hub goes away just as the download starts: the download screen says
    // so, the phase stays Download, and trying again once it is back finishes it.
    stack.stop_hub();
    let cut = kiosk.confirm_assignment().await.unwrap_err();
    assert!(cut.message.contains("onderbroken"), "{cut}");
    let view = kiosk.view().await;
    assert_eq!(view.phase, Phase::Download);
    assert_eq!(view.download_error.as_deref(), Some(cut.message.as_str()));
    stack.restart_hub().unwrap();
    let view = kiosk.confirm_assignment().await.unwrap();
    assert_eq!(view.phase, Phase::WaitingForStart);
    assert!(view.download_error.is_none());
    kiosk.shutdown().await;

    let journal = stack.kiosk_data.join("journal");
    let records = steps::journal_records(&journal).unwrap();
    let failed: Vec<String> = records
        .iter()
        .filter(|r| r["kind"] == "session.login_failed")
        .map(|r| r["payload"]["reason"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(failed, [unknown.message.as_str(), ended.message.as_str(), early.message.as_str(), away.message.as_str()], "every refused login is journalled with its reason");
    for kind in ["instrument.download_failed", "instrument.download_retried", "instrument.downloaded", "session.login"] {
        assert!(records.iter().any(|r| r["kind"] == kind), "journal lacks {kind}");
    }
    assert!(steps::journal_verifies(&journal));
}
