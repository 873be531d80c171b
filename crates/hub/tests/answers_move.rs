//! A student moves to another PC of the room: the new kiosk fetches the hub's
//! copy of the answers (`GET /api/v1/answers/latest`, checked against the
//! hub's signed receipt by kiosk-core's client), restores its answer store
//! from it and continues without a conflicting save. Also the web-instrument
//! session nonce (`POST /api/v1/web-session`). Real exam-hub over TLS.
#![allow(missing_docs)]

mod common;

use common::*;
use kiosk_core::answers::{open_with_hub_copy, AnswerKey, AnswerStore, MovedIn, TransferError};
use kiosk_core::hub::{self, Bootstrap, EnrolOptions, HubClient, HubError};

/// Enrols a kiosk in `room` with kiosk-core's own enrolment; its client.
async fn kiosk(hub: &TestHub, name: &str, room: &str) -> HubClient {
    let dir = hub.path(name);
    let (device_key, _) = exam_journal::SigningKey::generate().unwrap();
    let token = hub.cli_ok(&["enrol-token", "--room", room]).trim().to_string();
    let options = EnrolOptions {
        hub_url: hub.base.clone(),
        token,
        bootstrap: Bootstrap::CaPem(hub.school_ca_pem.clone()),
        device_key: std::sync::Arc::new(device_key),
        hostname: Some(name.into()),
    };
    hub::enrol(&options, &dir).await.unwrap();
    HubClient::from_dir(&dir).unwrap()
}

async fn upload_all(client: &HubClient, store: &mut AnswerStore) {
    while let Some(upload) = store.pending_upload() {
        let receipt = client.upload_answers(&upload).await.unwrap();
        store.ack(&receipt).unwrap();
    }
}

async fn move_to_another_pc(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let key = AnswerKey::from_bytes([7; 32]);
    let mut old_pc = kiosk(&hub, "pc-01", ROOM).await;
    let mut new_pc = kiosk(&hub, "pc-02", ROOM).await;
    let code = hub.code("S1", "1001");

    // Nothing yet: an empty answer, not an error.
    old_pc.login("1001", &code).await.unwrap();
    let none = old_pc.latest_answers().await.unwrap();
    assert_eq!((none.seq, none.answers.is_null(), none.receipt.is_none()), (0, true, true));

    // The old PC saves and the hub signs for every save.
    let mut old = AnswerStore::open_or_create(&hub.path("answers-old"), &key, "S1", "inst-a").unwrap();
    old.save("ITM-1", "RESPONSE", serde_json::json!("B")).unwrap();
    old.save("ITM-2", "RESPONSE", serde_json::json!(["a", "c"])).unwrap();
    old.flag("ITM-3", true).unwrap();
    upload_all(&old_pc, &mut old).await;
    old.save("ITM-4", "RESPONSE", serde_json::json!("Een lang antwoord, met komma's en \"quotes\".")).unwrap();
    upload_all(&old_pc, &mut old).await;
    let before = old.snapshot();

    // The student logs in on the new PC: the old PC's session ends.
    new_pc.login("1001", &code).await.unwrap();
    match old_pc.latest_answers().await {
        Err(HubError::Refused { status: 401, .. }) => {}
        other => panic!("the old PC's session must be over: {other:?}"),
    }
    let latest = new_pc.latest_answers().await.unwrap();
    assert_eq!(latest.seq, before.seq);
    assert_eq!(latest.device_id, old_pc.identity.device_id);
    assert!(!latest.final_submission);
    let snapshot: kiosk_core::answers::AnswerSnapshot = serde_json::from_value(latest.answers).unwrap();
    assert_eq!(snapshot, before);
    // What the kiosk does at the start: a store for another instrument is refused, nothing written.
    let wrong = open_with_hub_copy(&hub.path("answers-wrong"), &key, "S1", "inst-b", &new_pc).await.unwrap_err();
    assert!(matches!(wrong, TransferError::Mismatch(_)), "{wrong}");
    let (mut moved, moved_in) = open_with_hub_copy(&hub.path("answers-new"), &key, "S1", "inst-a", &new_pc).await.unwrap();
    assert_eq!(moved_in, Some(MovedIn { from_device: old_pc.identity.device_id.clone(), seq: before.seq, set_aside: None }));
    assert_eq!(moved.snapshot(), before, "every answer the hub signed for arrives on the new PC");

    // Saving on the new PC continues the sequence: no conflict at the hub, and the final receipt.
    let saved = moved.save("ITM-1", "RESPONSE", serde_json::json!("C")).unwrap();
    assert_eq!(saved.seq, before.seq + 1);
    moved.submit().unwrap();
    upload_all(&new_pc, &mut moved).await;
    let after = new_pc.latest_answers().await.unwrap();
    assert!(after.final_submission);
    assert_eq!(after.device_id, new_pc.identity.device_id);
    assert_eq!(after.answers["responses"]["ITM-1"]["RESPONSE"], "C");

    // The same PC opening its own store again (after a crash): nothing moved in.
    drop(moved);
    let (again, moved_in) = open_with_hub_copy(&hub.path("answers-new"), &key, "S1", "inst-a", &new_pc).await.unwrap();
    assert_eq!((moved_in, again.status().submitted), (None, true));

    // Another student on the old PC sees only their own (no) answers.
    old_pc.login("1002", &hub.code("S1", "1002")).await.unwrap();
    let other = old_pc.latest_answers().await.unwrap();
    assert_eq!((other.sitting_id.as_str(), other.seq, other.answers.is_null()), ("S1", 0, true));

    // Without a session token: refused.
    old_pc.set_session_token(None);
    assert!(matches!(old_pc.latest_answers().await, Err(HubError::Refused { status: 401, .. })));
}
on_both_backends!(move_to_another_pc);

/// Issue 14 (review of H1): the student moves away from a PC that was
/// offline with saves the hub never acknowledged, works on another PC, and
/// moves back. Before, the first PC kept its own saves (their number was
/// higher) and sent them with every upload, refused each time as a
/// conflict: nothing the student did there reached the hub again. Now it
/// continues from the hub's copy, says which of its saves it set aside, and
/// every save reaches the hub.
async fn moving_back_to_a_pc_with_unsent_saves(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let key = AnswerKey::from_bytes([7; 32]);
    let mut first = kiosk(&hub, "pc-01", ROOM).await;
    let mut second = kiosk(&hub, "pc-02", ROOM).await;
    let code = hub.code("S1", "1001");
    first.login("1001", &code).await.unwrap();
    let (mut here, _) = open_with_hub_copy(&hub.path("answers-first"), &key, "S1", "inst-a", &first).await.unwrap();
    here.save("ITM-1", "RESPONSE", serde_json::json!("A")).unwrap();
    upload_all(&first, &mut here).await;
    // Offline: two saves that never reach the hub.
    here.save("ITM-1", "RESPONSE", serde_json::json!("offline")).unwrap();
    here.save("ITM-2", "RESPONSE", serde_json::json!("offline")).unwrap();
    drop(here);
    // The student continues on the second PC.
    second.login("1001", &code).await.unwrap();
    let (mut there, _) = open_with_hub_copy(&hub.path("answers-second"), &key, "S1", "inst-a", &second).await.unwrap();
    there.save("ITM-3", "RESPONSE", serde_json::json!("elders")).unwrap();
    there.save("ITM-4", "RESPONSE", serde_json::json!("elders")).unwrap();
    upload_all(&second, &mut there).await;
    // And back on the first.
    first.login("1001", &code).await.unwrap();
    let (mut back, moved_in) = open_with_hub_copy(&hub.path("answers-first"), &key, "S1", "inst-a", &first).await.unwrap();
    assert_eq!(moved_in, Some(MovedIn { from_device: second.identity.device_id.clone(), seq: 3, set_aside: Some((2, 3)) }));
    assert_eq!(back.snapshot().responses, there.snapshot().responses);
    back.save("ITM-5", "RESPONSE", serde_json::json!("terug")).unwrap();
    back.submit().unwrap();
    upload_all(&first, &mut back).await;
    let latest = first.latest_answers().await.unwrap();
    assert!(latest.final_submission);
    assert_eq!(latest.answers["responses"]["ITM-3"]["RESPONSE"], "elders");
    assert_eq!(latest.answers["responses"]["ITM-5"]["RESPONSE"], "terug");
}
on_both_backends!(moving_back_to_a_pc_with_unsent_saves);

async fn web_session_nonce(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = kiosk(&hub, "pc-01", ROOM).await;
    // Before login: no session.
    assert!(matches!(pc.web_session().await, Err(HubError::Refused { status: 401, .. })));
    // S2 has not started: refused like the content key.
    pc.login("1003", &hub.code("S2", "1003")).await.unwrap();
    match pc.web_session().await {
        Err(HubError::Refused { status: 425, body }) => assert_eq!(body.error, "not_started"),
        other => panic!("{other:?}"),
    }
    pc.login("1001", &hub.code("S1", "1001")).await.unwrap();
    let web = pc.web_session().await.unwrap();
    assert_eq!(web.sitting_id, "S1");
    assert_eq!(hex::decode(&web.session_nonce).unwrap().len(), 32);
    // The supplier's copy, from the school, is the same; another sitting has another.
    assert_eq!(hub.cli_ok(&["web-nonce", "--sitting", "S1"]).trim(), web.session_nonce);
    assert_ne!(hub.cli_ok(&["web-nonce", "--sitting", "S2"]).trim(), web.session_nonce);
}
on_both_backends!(web_session_nonce);

/// Issue 14 (second review): after a hand-in an invigilator reopened, the
/// student goes on, on another PC, from the hub's copy. Before, kiosk-core
/// restored that copy as handed in (its own `final_submission`, though the
/// hub said it was reopened) and refused every save.
async fn a_reopened_hand_in_goes_on_on_another_pc(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let key = AnswerKey::from_bytes([7; 32]);
    let mut first = kiosk(&hub, "pc-01", ROOM).await;
    let mut second = kiosk(&hub, "pc-02", ROOM).await;
    let code = hub.code("S1", "1001");
    first.login("1001", &code).await.unwrap();
    let (mut here, _) = open_with_hub_copy(&hub.path("answers-first"), &key, "S1", "inst-a", &first).await.unwrap();
    here.save("ITM-1", "RESPONSE", serde_json::json!("A")).unwrap();
    here.submit().unwrap();
    upload_all(&first, &mut here).await;
    hub.cli_ok(&["instruct", "--action", "end", "--sitting", "S1", "--student", "1001", "--reason", "ingeleverd"]);
    hub.cli_ok(&["reopen", "--sitting", "S1", "--student", "1001", "--reason", "per ongeluk ingeleverd"]);
    second.login("1001", &code).await.unwrap();
    let (mut there, moved_in) = open_with_hub_copy(&hub.path("answers-second"), &key, "S1", "inst-a", &second).await.unwrap();
    assert!(moved_in.is_some());
    assert!(!there.status().submitted, "the hub said: reopened");
    there.save("ITM-2", "RESPONSE", serde_json::json!("B")).unwrap();
    upload_all(&second, &mut there).await;
    let latest = second.latest_answers().await.unwrap();
    assert_eq!(latest.answers["responses"]["ITM-2"]["RESPONSE"], "B");
}
on_both_backends!(a_reopened_hand_in_goes_on_on_another_pc);
