//! Enrolment bad input through the kiosk's own client (what `kioskctl enrol`
//! runs) against a real exam-hub: a wrong token, a used token and an expired
//! token are each refused with the hub's reason, and nothing is written to
//! the kiosk's data directory.
#![allow(missing_docs)]

mod common;

use common::*;
use kiosk_core::hub::{self, Bootstrap, EnrolOptions, HubError};

async fn wrong_used_and_expired_tokens_are_refused(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let fingerprint = hub.school_ca_sha256();
    let device_key = std::sync::Arc::new(exam_journal::SigningKey::generate().unwrap().0);
    let options = |token: &str| EnrolOptions {
        hub_url: hub.base.clone(),
        token: token.into(),
        bootstrap: Bootstrap::CaSha256(fingerprint.clone()),
        device_key: device_key.clone(),
        hostname: Some("pc-07".into()),
    };
    let refused = |result: Result<hub::HubIdentity, HubError>, what: &str, dir: &std::path::Path| {
        match result {
            Err(HubError::Refused { status: 403, body }) => assert_eq!(body.error, "invalid_token", "{what}"),
            other => panic!("{what}: expected 403 invalid_token, got {other:?}"),
        }
        assert!(!dir.join(hub::files::IDENTITY).exists(), "{what}: an identity was written");
    };

    // An expired token: issued with a validity that has already run out.
    let url = match &hub.database {
        Some(url) => url.clone(),
        None => exam_hub::config::Config::load(&hub.data()).unwrap().database_url(&hub.data()),
    };
    let db = exam_hub::db::Db::connect(&url).await.unwrap();
    let expired = exam_hub::admin::create_enrol_token(&db, ROOM, -1).await.unwrap();
    let dir = hub.path("kiosk-expired");
    refused(hub::enrol(&options(&expired), &dir).await, "expired token", &dir);

    // A wrong token.
    let dir = hub.path("kiosk-wrong");
    refused(hub::enrol(&options("not-a-token-the-hub-issued"), &dir).await, "wrong token", &dir);

    // A used token: the first enrolment succeeds, the second is refused.
    let token = hub.cli_ok(&["enrol-token", "--room", ROOM]).trim().to_string();
    let first = hub.path("kiosk-first");
    hub::enrol(&options(&token), &first).await.unwrap();
    assert!(first.join(hub::files::IDENTITY).exists());
    let dir = hub.path("kiosk-second");
    refused(hub::enrol(&options(&token), &dir).await, "used token", &dir);
}
on_both_backends!(wrong_used_and_expired_tokens_are_refused);
