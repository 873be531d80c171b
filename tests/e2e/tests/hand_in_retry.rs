//! Issue 16 point 2: handing in is a phase of its own. A hand-in whose
//! upload fails stays *HandingIn* (before: the session stayed *InExam*
//! while the answer store refused every save, reported as a storage
//! failure); saves there are refused with that reason; a crash during it
//! resumes into it; and the retry that reaches the hub gives *Submitted*
//! with the receipt. The kiosk core (no window) against the real hub.

use exam_e2e::{steps, Guarded, Stack, DEMO_PIN};
#[path = "support/core_kiosk.rs"]
mod core_kiosk;

use kiosk_core::session::{Notice, Phase};
use std::process::Command;

/// The first item of the running instrument and one of its responses.
fn first_item(model: &serde_json::Value) -> (String, String) {
    fn find(node: &serde_json::Value) -> Option<(String, String)> {
        for part in node.get("parts")?.as_array()? {
            match part.get("kind").and_then(|k| k.as_str()) {
                Some("item") => {
                    let item = part.get("ref_identifier")?.as_str()?.to_owned();
                    let response = part.get("responses")?.as_array()?.first()?.get("identifier")?.as_str()?.to_owned();
                    return Some((item, response));
                }
                Some("section") => {
                    if let Some(found) = find(part) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        None
    }
    model["test_parts"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["sections"].as_array().into_iter().flatten())
        .find_map(find)
        .expect("an item with a response")
}

/// Runs the shell's background sync until the view satisfies `done` (30 s at most).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_in_whose_upload_fails_stays_handing_in_until_the_receipt() {
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = Stack::start(tmp.path()).unwrap();
    let quiet = Guarded(Command::new("sleep").arg("3600").spawn().unwrap());
    let kiosk = core_kiosk::start(&stack, quiet.0.id());
    let student = stack.students[1].clone();
    kiosk.login(&student.number, &student.code, None).await.unwrap();
    kiosk.confirm_assignment().await.unwrap();
    let view = kiosk.start_exam().await.unwrap();
    assert_eq!(view.phase, Phase::InExam);
    let model = serde_json::to_value(view.instrument.as_deref().expect("the running instrument")).expect("the UI's render model");
    let (item, response) = first_item(&model);
    // Issue 15: a save command that names an item or response the running
    // instrument does not have, or a value its interaction cannot give (a
    // choice it does not offer, an object), is refused in Dutch, journalled
    // and never stored.
    for (refused_item, refused) in [
        ("../../../../tmp/x".to_owned(), serde_json::json!({ "RESPONSE": "A" })),
        (item.clone(), serde_json::json!({ "NOT-A-RESPONSE": "A" })),
        (item.clone(), serde_json::json!({ response.clone(): "NOT-A-CHOICE" })),
        (item.clone(), serde_json::json!({ response.clone(): { "choice": "A" } })),
    ] {
        let why = kiosk.save_answer(&refused_item, refused.clone()).await.expect_err("refused").to_string();
        assert!(why.contains("hoort niet bij het examen") && why.contains("Roep de surveillant"), "{refused_item} {refused}: {why}");
    }
    let journalled = steps::journal_records(&stack.kiosk_data.join("journal")).unwrap().iter().filter(|r| r["kind"] == "answers.refused").count();
    assert_eq!(journalled, 4, "each refused save is journalled");
    let mut answer = serde_json::Map::new();
    answer.insert(response.clone(), serde_json::json!("A"));
    kiosk.save_answer(&item, serde_json::Value::Object(answer.clone())).await.unwrap();

    // The hub is gone when the student hands in: the hand-in stays on its
    // way (never back in the exam), and says so.
    stack.stop_hub();
    let failed = kiosk.submit().await.expect_err("no receipt without the hub");
    assert!(failed.message.contains("niet bereikbaar"), "{}", failed.message);
    let view = kiosk.view().await;
    assert_eq!(view.phase, Phase::HandingIn, "a failed upload leaves the hand-in on its way");
    assert_eq!(view.sync.state, "offline");
    assert_eq!(view.receipt, None);
    // A save now is refused because the exam is being handed in — not
    // reported as a storage failure.
    let refused = kiosk.save_answer(&item, serde_json::Value::Object(answer.clone())).await.expect_err("no saves after the hand-in");
    assert!(refused.message.contains("wordt ingeleverd"), "{}", refused.message);
    assert_ne!(kiosk.view().await.notice, Some(Notice::StorageFailing));
    // Pressing again while the hub is still gone: still handing in.
    assert!(kiosk.submit().await.is_err());
    assert_eq!(kiosk.view().await.phase, Phase::HandingIn);

    // The kiosk dies during the hand-in; the hub comes back; the kiosk
    // starts again on Resume and, confirmed, goes on handing in.
    drop(kiosk);
    stack.restart_hub().unwrap();
    let kiosk = core_kiosk::start(&stack, quiet.0.id());
    assert_eq!(kiosk.view().await.phase, Phase::Resume);
    let view = kiosk.unlock(DEMO_PIN, "pc herstart tijdens inleveren").await.expect("the resume");
    assert!(matches!(view.phase, Phase::HandingIn | Phase::Submitted), "{:?}", view.phase);
    assert!(kiosk.save_answer(&item, serde_json::Value::Object(answer)).await.is_err(), "still no saves");
    // The retry reaches the hub: handed in, with the receipt.
    core_kiosk::wait_for(&kiosk, "the receipt", true, |v| v.phase == Phase::Submitted).await;
    let view = kiosk.view().await;
    assert!(view.receipt.as_deref().is_some_and(|r| !r.is_empty()), "{:?}", view.receipt);
    kiosk.shutdown().await;

    let records = steps::journal_records(&stack.kiosk_data.join("journal")).unwrap();
    let transitions: Vec<String> = records
        .iter()
        .filter(|r| r["kind"] == "session.transition")
        .map(|r| format!("{}->{}", r["payload"]["from"].as_str().unwrap_or(""), r["payload"]["to"].as_str().unwrap_or("")))
        .collect();
    let from_exam = transitions.iter().position(|t| t == "in_exam->handing_in").expect("the hand-in is journalled");
    assert!(!transitions[from_exam..].iter().any(|t| t.ends_with("->in_exam")), "never back in the exam: {transitions:?}");
    assert!(transitions.contains(&"resume->handing_in".to_owned()), "{transitions:?}");
    assert_eq!(transitions.last().map(String::as_str), Some("handing_in->submitted"), "{transitions:?}");
    let hand_in = records.iter().find(|r| r["kind"] == "session.transition" && r["payload"]["to"] == "handing_in").unwrap();
    assert_eq!(hand_in["payload"]["cause"], serde_json::json!({"trigger": "hand_in", "by": "student"}));
    assert!(steps::journal_verifies(&stack.kiosk_data.join("journal")));
}
