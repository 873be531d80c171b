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
        .heartbeat(&Heartbeat { state: "paused".into(), journal_next_seq: Some(frames.len() as u64), journal_last_hash: None, answers_pending: 0, journal_damage: None })
        .await
        .unwrap();
    assert_eq!(beat.journal_next_seq, frames.len() as u64);
    assert!(beat.pending_instructions.iter().all(|i| i.id != id), "{id}: {:?}", beat.pending_instructions);
}
on_both_backends!(kiosk_client_flow);

/// Issue 15: whoever can choose a kiosk's policy file (on BYOD: the
/// student) could choose one with `[environment] test-automation`, which
/// keeps WebDriver's way into the exam page open. The kiosk says so in
/// every request; the hub refuses its logins and session requests unless
/// hub.toml accepts test kiosks, and still takes its journal (the evidence).
/// Before, the hub could not tell and logged it in.
async fn a_kiosk_in_test_automation_gets_no_exam_unless_the_hub_takes_test_kiosks(backend: Backend) {
    let Some(mut hub) = TestHub::start(backend).await else { return };
    let dir = hub.path("kiosk");
    let (device_key, pkcs8) = exam_journal::SigningKey::generate().unwrap();
    let token = hub.cli_ok(&["enrol-token", "--room", ROOM]).trim().to_string();
    let options = EnrolOptions {
        hub_url: hub.base.clone(),
        token,
        bootstrap: Bootstrap::CaSha256(hub.school_ca_sha256()),
        device_key: std::sync::Arc::new(device_key),
        hostname: Some("pc-08".into()),
    };
    hub::enrol(&options, &dir).await.unwrap();
    let code = hub.code("S1", "1001");
    let mut scripted = HubClient::from_dir(&dir).unwrap().in_test_automation(true);
    match scripted.login("1001", &code).await {
        Err(HubError::Refused { status: 403, body }) => assert_eq!(body.error, "test_kiosk_refused", "{body:?}"),
        other => panic!("a test kiosk logged in: {other:?}"),
    }
    // The refusal cost the student nothing: the same code works on a kiosk that is not scripted.
    let mut plain = HubClient::from_dir(&dir).unwrap();
    let session = Some(plain.login("1001", &code).await.unwrap().session_token);
    // Its session is refused to the scripted kiosk too (the exam, the key, answers)...
    let mut scripted = HubClient::from_dir(&dir).unwrap().in_test_automation(true);
    scripted.set_session_token(session.clone());
    for refused in [scripted.assignment().await.err(), scripted.start().await.err()] {
        match refused {
            Some(HubError::Refused { status: 403, body }) => assert_eq!(body.error, "test_kiosk_refused", "{body:?}"),
            other => panic!("a test kiosk was served: {other:?}"),
        }
    }
    // ...but what it journalled is taken.
    let frames = append_journal(&hub.path("journal"), &pkcs8, 5);
    assert_eq!(scripted.upload_journal(&frames).await.unwrap().next_seq, frames.len() as u64);

    // A test hub says so in hub.toml.
    let config = hub.data().join("hub.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}accept-test-kiosks = true\n")).unwrap();
    let before = hub.base.clone();
    hub.restart();
    // (The restarted hub listens on another port.)
    let identity = dir.join(hub::files::IDENTITY);
    std::fs::write(&identity, std::fs::read_to_string(&identity).unwrap().replace(&before, &hub.base)).unwrap();
    let mut scripted = HubClient::from_dir(&dir).unwrap().in_test_automation(true);
    scripted.set_session_token(session);
    scripted.assignment().await.unwrap();
}
on_both_backends!(a_kiosk_in_test_automation_gets_no_exam_unless_the_hub_takes_test_kiosks);
