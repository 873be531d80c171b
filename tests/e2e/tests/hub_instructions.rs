//! The invigilator's instructions reach the kiosk, at kiosk-core level (no
//! window needed) against a real exam-hub over mutual TLS: lock, unlock,
//! extra time, pause and resume (the clock stands still), end (handed in
//! with the hub's receipt); each carried out once, journalled with who and
//! why, and the kiosk's heartbeats show its state on the hub.

use exam_e2e::{bin, steps, Guarded, Stack, SITTING};
#[path = "support/core_kiosk.rs"]
mod core_kiosk;

use kiosk_core::session::{PauseReason, Phase};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `exam-hub instruct` for the student's device; returns the instruction id.
fn instruct(stack: &Stack, student: &str, args: &[&str]) -> String {
    let out = Command::new(bin("exam-hub"))
        .arg("instruct")
        .args(args)
        .args(["--sitting", SITTING, "--student", student, "--data"])
        .arg(stack.dir.join("hub"))
        .output()
        .unwrap();
    assert!(out.status.success(), "instruct {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Waits (generously: a loaded machine) until the kiosk's view satisfies `done`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_instructions_are_carried_out_once_and_journalled() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    let quiet = Guarded(Command::new("sleep").arg("3600").spawn().unwrap());
    let kiosk = Arc::new(core_kiosk::start(&stack, quiet.0.id()));
    let student = stack.students[1].clone();
    kiosk.login(&student.number, &student.code, None).await.unwrap();
    kiosk.confirm_assignment().await.unwrap();
    let view = kiosk.start_exam().await.unwrap();
    assert_eq!(view.phase, Phase::InExam);
    let follower = kiosk.clone();
    let following = tokio::spawn(async move { follower.follow_instructions().await });

    // Lock from the console: the lock screen names the invigilator's reason.
    instruct(&stack, &student.number, &["--action", "lock", "--reason", "telefoon op tafel"]);
    core_kiosk::wait_for(&kiosk, "the lock", false, |v| v.phase == Phase::Locked).await;
    let reason = kiosk.view().await.lock_reason;
    assert!(reason.as_deref().is_some_and(|r| r.contains("telefoon op tafel")), "the reason is shown: {reason:?}");
    instruct(&stack, &student.number, &["--action", "unlock", "--reason", "telefoon ingeleverd"]);
    core_kiosk::wait_for(&kiosk, "the unlock", false, |v| v.phase == Phase::InExam).await;

    // Extra time: ten minutes more on the clock.
    let before = kiosk.view().await.remaining_secs.unwrap();
    instruct(&stack, &student.number, &["--action", "add-time", "--minutes", "10", "--reason", "storing"]);
    core_kiosk::wait_for(&kiosk, "the extra time", false, |v| v.remaining_secs.is_some_and(|r| r > before + 500)).await;

    // Pause: locked, and the clock stands still until resume.
    instruct(&stack, &student.number, &["--action", "pause", "--reason", "stroomstoring"]);
    core_kiosk::wait_for(&kiosk, "the pause", false, |v| v.phase == Phase::Locked).await;
    let view = kiosk.view().await;
    assert_eq!(view.clock_paused, Some(PauseReason::Invigilator), "{view:?}");
    let paused_at = view.remaining_secs.unwrap();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(kiosk.view().await.remaining_secs, Some(paused_at), "no time passes during a pause");
    instruct(&stack, &student.number, &["--action", "resume", "--reason", "stroom terug"]);
    core_kiosk::wait_for(&kiosk, "the resume", false, |v| v.phase == Phase::InExam && v.clock_paused.is_none()).await;

    // An instruction that arrives twice (e.g. the stream, then a heartbeat)
    // is carried out once.
    let again = exam_protocol::Instruction {
        id: "test-duplicate".into(),
        kind: exam_protocol::InstructionKind::AddTime { minutes: 5 },
        reason: "twee keer bezorgd".into(),
        issued_by: "test".into(),
        issued_at_ms: 0,
        session: Some(exam_protocol::InstructionScope { sitting_id: SITTING.into(), student_number: student.number.clone() }),
    };
    let before = kiosk.view().await.remaining_secs.unwrap();
    assert!(kiosk.apply_instruction(&again).await.is_some());
    assert!(kiosk.apply_instruction(&again).await.is_none(), "the same id is not carried out twice");
    let after = kiosk.view().await.remaining_secs.unwrap();
    assert!(after > before + 250 && after < before + 350, "five minutes added once: {before} -> {after}");

    // The heartbeat tells the hub where the session is.
    kiosk.heartbeat().await;
    let devices = Command::new(bin("exam-hub")).arg("devices").arg("--data").arg(stack.dir.join("hub")).output().unwrap();
    let devices = String::from_utf8_lossy(&devices.stdout);
    assert!(devices.contains("state=in_exam"), "{devices}");

    // End, with the stream gone: the heartbeat's answer carries it, and the
    // exam is handed in with the hub's receipt.
    following.abort();
    let _ = following.await;
    instruct(&stack, &student.number, &["--action", "end", "--reason", "tijd voorbij"]);
    // The serving hub learns of the CLI's instruction from the database
    // within a moment; heartbeat until its answer carries it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while kiosk.view().await.phase != Phase::Submitted {
        assert!(Instant::now() < deadline, "no heartbeat carried the end in 30 s; phase {:?}", kiosk.view().await.phase);
        kiosk.heartbeat().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let view = kiosk.view().await;
    assert!(view.receipt.as_deref().is_some_and(|r| !r.is_empty()), "a receipt: {:?}", view.receipt);
    kiosk.shutdown().await;

    let journal = stack.kiosk_data.join("journal");
    let records = steps::journal_records(&journal).unwrap();
    let applied: Vec<&serde_json::Value> = records.iter().filter(|r| r["kind"] == "instruction.applied").collect();
    let kinds: Vec<&str> = applied.iter().map(|r| r["payload"]["instruction"]["kind"].as_str().unwrap_or("")).collect();
    assert_eq!(kinds, ["lock", "unlock", "add_time", "pause", "resume", "add_time", "end"], "{applied:?}");
    assert!(applied.iter().all(|r| r["payload"]["outcome"] == "done"), "{applied:?}");
    assert!(applied.iter().any(|r| r["payload"]["by"] == "exam-hub cli" && r["payload"]["reason"] == "stroomstoring"));
    assert!(records.iter().any(|r| r["kind"] == "session.clock_paused"));
    assert!(steps::journal_verifies(&journal));
}

/// Issue 14 point 11, at kiosk-core level: an instruction belongs to one
/// session (another student's — e.g. queued for this PC while it was off —
/// is acknowledged as not applicable, journalled, and changes nothing), and a
/// remote end on a locked seat keeps it locked until the hand-in has the
/// hub's receipt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instructions_for_another_session_and_a_remote_end_on_a_locked_seat() {
    use exam_protocol::{Instruction, InstructionKind, InstructionScope};
    use kiosk_core::kiosk::remote::Outcome;
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = Stack::start(tmp.path()).unwrap();
    let quiet = Guarded(Command::new("sleep").arg("3600").spawn().unwrap());
    let kiosk = Arc::new(core_kiosk::start(&stack, quiet.0.id()));
    let student = stack.students[1].clone();
    let other = stack.students[0].clone();
    kiosk.login(&student.number, &student.code, None).await.unwrap();
    kiosk.confirm_assignment().await.unwrap();
    assert_eq!(kiosk.start_exam().await.unwrap().phase, Phase::InExam);
    let instruction = |id: &str, kind: InstructionKind, for_student: Option<&str>| Instruction {
        id: id.into(),
        kind,
        reason: "test".into(),
        issued_by: "surveillant".into(),
        issued_at_ms: 0,
        session: for_student.map(|s| InstructionScope { sitting_id: SITTING.into(), student_number: s.into() }),
    };

    // Another student's extra time: not carried out (this student's clock is unchanged).
    let before = kiosk.view().await.remaining_secs.unwrap();
    let for_other = instruction("for-another-student", InstructionKind::AddTime { minutes: 10 }, Some(&other.number));
    assert_eq!(kiosk.apply_instruction(&for_other).await, Some(Outcome::NotApplicable("for another session")));
    assert!(kiosk.view().await.remaining_secs.unwrap() <= before, "no extra time for the wrong student");
    // One for no session (a PC nobody was logged in on) is not carried out in a session either.
    let unscoped = instruction("for-no-session", InstructionKind::Lock, None);
    assert_eq!(kiosk.apply_instruction(&unscoped).await, Some(Outcome::NotApplicable("for another session")));
    assert_eq!(kiosk.view().await.phase, Phase::InExam);

    // Locked by the invigilator; then the hub is gone and a remote end comes:
    // the hand-in cannot reach the hub, so the seat stays locked.
    let lock = instruction("lock", InstructionKind::Lock, Some(&student.number));
    assert_eq!(kiosk.apply_instruction(&lock).await, Some(Outcome::Done));
    assert_eq!(kiosk.view().await.phase, Phase::Locked);
    stack.stop_hub();
    let end = instruction("end", InstructionKind::End, Some(&student.number));
    let outcome = kiosk.apply_instruction(&end).await;
    assert!(matches!(outcome, Some(Outcome::Retry(_))), "{outcome:?}");
    assert_eq!(kiosk.view().await.phase, Phase::Locked, "a failed hand-in leaves the seat locked");
    // The hub is back and the end comes again: handed in, with the receipt; only now the lock goes.
    stack.restart_hub().unwrap();
    assert_eq!(kiosk.apply_instruction(&end).await, Some(Outcome::Done));
    let view = kiosk.view().await;
    assert_eq!(view.phase, Phase::Submitted);
    assert!(view.receipt.as_deref().is_some_and(|r| !r.is_empty()), "{:?}", view.receipt);
    kiosk.shutdown().await;

    let records = steps::journal_records(&stack.kiosk_data.join("journal")).unwrap();
    let applied: Vec<&serde_json::Value> = records.iter().filter(|r| r["kind"] == "instruction.applied").collect();
    let outcome_of = |id: &str| applied.iter().find(|r| r["payload"]["id"] == id).map(|r| r["payload"]["outcome"].clone());
    assert_eq!(outcome_of("for-another-student"), Some(serde_json::json!("not applicable: for another session")));
    assert_eq!(applied.iter().find(|r| r["payload"]["id"] == "for-another-student").unwrap()["payload"]["session"]["student_number"], other.number.as_str());
    assert!(records.iter().any(|r| r["kind"] == "instruction.end_failed" && r["payload"]["still_locked"] == true));
    // Never unlocked between the lock and the hand-in.
    let transitions: Vec<String> = records
        .iter()
        .filter(|r| r["kind"] == "session.transition")
        .map(|r| format!("{}->{}", r["payload"]["from"].as_str().unwrap_or(""), r["payload"]["to"].as_str().unwrap_or("")))
        .collect();
    let locked_at = transitions.iter().rposition(|t| t.ends_with("->locked")).unwrap();
    assert_eq!(transitions[locked_at + 1..], ["locked->in_exam".to_owned(), "in_exam->submitted".to_owned()], "{transitions:?}");
    assert!(steps::journal_verifies(&stack.kiosk_data.join("journal")));
}
