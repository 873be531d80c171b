//! The kiosk's own hub client (kiosk-core) against a real exam-hub process:
//! enrolment with only the school CA fingerprint, then the whole flow.
#![allow(missing_docs)]

mod common;

use common::*;
use exam_protocol::*;
use kiosk_core::hub::{self, Bootstrap, EnrolOptions, HubClient, HubError};

async fn kiosk_client_flow(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let fingerprint = hub.school_ca_sha256();
    let dir = hub.path("kiosk");
    let (device_key, pkcs8) = exam_journal::SigningKey::generate().unwrap();
    let device_key = std::sync::Arc::new(device_key);
    let options = |token: String, bootstrap| EnrolOptions {
        hub_url: hub.base.clone(),
        token,
        bootstrap,
        device_key: device_key.clone(),
        hostname: Some("pc-07".into()),
    };
    // A wrong fingerprint: the hub is not trusted, nothing is stored.
    let token = hub.cli_ok(&["enrol-token", "--room", ROOM]).trim().to_string();
    let err = hub::enrol(&options(token.clone(), Bootstrap::CaSha256("00".repeat(32))), &dir).await.unwrap_err();
    assert!(matches!(err, HubError::Unreachable(_)), "{err}");
    assert!(!dir.join(hub::files::IDENTITY).exists());
    let identity = hub::enrol(&options(token, Bootstrap::CaSha256(fingerprint)), &dir).await.unwrap();
    assert_eq!((identity.room.as_str(), identity.device_id.clone()), (ROOM, device_key.public_key().device_id()));

    let mut client = HubClient::from_dir(&dir).unwrap();
    assert_eq!(client.health().await.unwrap().status, "ok");
    let echo = client.echo(&"cd".repeat(32)).await.unwrap();
    assert!(echo.echo.observed.is_loopback());
    // The location check verifies the hub's echo against the policy's echo key.
    let key: [u8; 32] = hex::decode(&identity.hub_signing_public_key).unwrap().try_into().unwrap();
    kiosk_core::location::hub_echo::verify(&echo, &exam_policy::PublicKeyHex(key), &identity.device_id, Some(&"cd".repeat(32)))
        .unwrap();
    match client.login("1001", "AAAA-AAAA").await {
        Err(HubError::Refused { status: 401, body }) => assert_eq!(body.remaining_attempts, Some(4)),
        other => panic!("{other:?}"),
    }
    let login = client.login("1001", &hub.code("S1", "1001")).await.unwrap();
    let assignment = client.assignment().await.unwrap();
    assert_eq!(assignment, login.assignment);
    // Resume an interrupted download: the first 1000 bytes are already there.
    let target = hub.path("instrument.part");
    std::fs::write(&target, &hub.instrument[..1000]).unwrap();
    client.download_instrument(&assignment.instrument, &target).await.unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), hub.instrument);
    assert!(!client.start().await.unwrap().content_key.is_empty());

    let frames = append_journal(&hub.path("journal"), &pkcs8, 60);
    let receipt = client.upload_journal(&frames).await.unwrap();
    assert_eq!(receipt.next_seq, frames.len() as u64);
    let upload = AnswerUpload { sitting_id: "S1".into(), seq: 1, final_submission: true, answers: serde_json::json!({"q1": "B"}), changes: vec![] };
    let receipt = client.upload_answers(&upload).await.unwrap();
    assert!(receipt.final_submission);

    let mut stream = client.instructions().await.unwrap();
    let id = hub.cli_ok(&["instruct", "--device", &identity.device_id, "--action", "pause", "--reason", "brandoefening"]).trim().to_string();
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next()).await.unwrap().unwrap().unwrap();
    assert_eq!((got.id.as_str(), got.kind), (id.as_str(), InstructionKind::Pause));
    client.acknowledge(&id).await.unwrap();
    let beat = client
        .heartbeat(&Heartbeat { state: "paused".into(), journal_next_seq: Some(frames.len() as u64), journal_last_hash: None, answers_pending: 0 })
        .await
        .unwrap();
    assert_eq!(beat.journal_next_seq, frames.len() as u64);
    assert!(beat.pending_instructions.iter().all(|i| i.id != id), "{id}: {:?}", beat.pending_instructions);
}
on_both_backends!(kiosk_client_flow);
