//! A student moves to another PC of the room: the real kiosk on the first PC
//! saves an answer (acknowledged by the real hub), the student logs in on a
//! second enrolled PC, which fetches the hub's copy, stays locked until the
//! invigilator allows the move with their PIN, and then shows the answer and
//! lets the student hand in.

use exam_e2e::steps::{hand_in, into_exam, journal_records, journal_verifies, log_in_and_start, unlock, wait_until, SCREEN};
use exam_e2e::webdriver::Session;
use exam_e2e::{bin, scenario, workspace, Display, Driver, Stack, ROOM};
use std::process::Command;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_moves_to_another_pc_with_every_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    let student = stack.students[1].clone();
    let out = workspace().join("target/e2e/move-pc");

    // The second PC of the room: its own device key and enrolment.
    let second = tmp.path().join("kiosk-2");
    let store = format!("file:{}", tmp.path().join("device-2.key").display());
    run(Command::new(bin("kioskctl")).args(["device", "init", "--store", &store]));
    let token = run(Command::new(bin("exam-hub")).args(["enrol-token", "--room", ROOM, "--data"]).arg(tmp.path().join("hub")));
    run(Command::new(bin("kioskctl"))
        .args(["enrol", "--hub", &stack.hub_url, &format!("--token={}", token.lines().next().unwrap().trim()), "--data"])
        .arg(second.join("hub"))
        .arg("--ca")
        .arg(tmp.path().join("hub/school-ca.pem"))
        .args(["--store", &store]));
    let second_env: Vec<(String, String)> = stack
        .kiosk_env(true, None)
        .into_iter()
        .map(|(k, v)| match k.as_str() {
            "EXAM_KIOSK_DATA" => (k, second.display().to_string()),
            "EXAM_KIOSK_STORE" => (k, store.clone()),
            _ => (k, v),
        })
        .collect();

    let display = Display::start().unwrap();
    let mut observed = Default::default();

    // PC 1: into the exam, one answer, acknowledged by the hub.
    let driver = Driver::start(&display, &stack.kiosk_env(true, None)).unwrap();
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let first = async {
        into_exam(&session, &student).await?;
        session.wait_for("#sync-status[data-local-pending=\"0\"][data-state=\"saved\"]", SCREEN).await?;
        scenario::shot(&session, &out, &mut observed, "first-pc").await
    }
    .await;
    // The first PC breaks down (and refuses to close during an exam anyway).
    stack.kill_kiosk().unwrap();
    session.close().await;
    drop(driver);
    first.unwrap();

    // PC 2: same student, same code; the hub's copy comes along, locked until the invigilator allows it.
    let driver = Driver::start(&display, &second_env).unwrap();
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let moved = async {
        log_in_and_start(&session, &student).await?;
        session.wait_for("#unlock-pin", SCREEN).await?;
        let lock = session.text_of("body").await?;
        if !lock.contains("andere pc") {
            return Err(format!("the lock screen does not say why: {lock}"));
        }
        scenario::shot(&session, &out, &mut observed, "second-pc-locked").await?;
        unlock(&session, "verplaatst naar pc 2 (defecte muis)").await?;
        let restored = "return Array.from(document.querySelectorAll('[data-item-id] input[type=radio]')).some(i => i.checked)";
        wait_until(&session, restored, SCREEN).await?;
        scenario::shot(&session, &out, &mut observed, "second-pc-resumed").await?;
        // The instrument's image comes from the kiosk's exammedia: scheme and is decoded.
        session.click(&session.find("#review-list button[data-review=\"ITM-v09\"]").await?).await?;
        let image = "const i = document.querySelector('[data-item-id] img'); \
                     return !!i && i.complete && i.naturalWidth > 0 && i.src.startsWith('exammedia://localhost/')";
        wait_until(&session, image, SCREEN).await?;
        scenario::shot(&session, &out, &mut observed, "second-pc-image").await?;
        hand_in(&session).await
    }
    .await;
    if moved.is_err() {
        let _ = scenario::shot(&session, &out, &mut observed, "failure").await;
        // Mid-exam the kiosk refuses to close: end it, or closing the session waits forever.
        let _ = exam_e2e::kill_kiosk_of(&second);
    }
    session.close().await;
    let receipt = moved.unwrap();
    assert!(receipt.trim().len() >= 9, "{receipt:?}");

    // The second PC's journal says where the answers came from and who allowed it.
    let records = journal_records(&second.join("journal")).unwrap();
    let moved_in = records.iter().find(|r| r["kind"] == "answers.moved_in").expect("answers.moved_in journalled");
    assert!(moved_in["payload"]["seq"].as_u64().unwrap_or(0) >= 1, "{moved_in}");
    let unlock = records.iter().find(|r| r["kind"] == "session.transition" && r["payload"]["cause"]["trigger"] == "unlock");
    let unlock = unlock.unwrap_or_else(|| panic!("the invigilator's unlock is journalled: {records:#?}"));
    assert!(unlock["payload"]["cause"]["reason"].as_str().unwrap_or("").contains("verplaatst"), "{unlock}");
    assert!(journal_verifies(&second.join("journal")));
}
