//! Device identity, as the attacker of issue 14 tries it against a real
//! `exam-hub` process over real TLS: enrolment needs proof of possession of
//! the device key, a revoked device stays revoked until an administrator
//! re-admits it, session tokens are bound to the certificate they were
//! issued over, and every refused enrolment changes nothing.
#![allow(missing_docs)]

mod common;

use common::*;
use exam_protocol::*;
use sqlx::Row as _;

async fn db_of(hub: &TestHub) -> exam_hub::db::Db {
    let url = match &hub.database {
        Some(url) => url.clone(),
        None => exam_hub::config::Config::load(&hub.data()).unwrap().database_url(&hub.data()),
    };
    exam_hub::db::Db::connect(&url).await.unwrap()
}

/// The device row as `(room, hostname, cert_sha256, revoked)`.
async fn device_row(db: &exam_hub::db::Db, id: &str) -> Option<(String, Option<String>, String, bool)> {
    let row = sqlx::query("SELECT room, hostname, cert_sha256, revoked_ms FROM devices WHERE device_id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await
        .unwrap()?;
    Some((
        row.try_get("room").unwrap(),
        row.try_get("hostname").unwrap(),
        row.try_get("cert_sha256").unwrap(),
        row.try_get::<Option<i64>, _>("revoked_ms").unwrap().is_some(),
    ))
}

async fn token_unused(db: &exam_hub::db::Db, token: &str) -> bool {
    let row = sqlx::query("SELECT used_ms FROM enrol_tokens WHERE token_hash = $1")
        .bind(exam_hub::sha256_hex(token.trim().as_bytes()))
        .fetch_one(&db.pool)
        .await
        .unwrap();
    row.try_get::<Option<i64>, _>("used_ms").unwrap().is_none()
}

fn csr() -> (rcgen::KeyPair, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::default().serialize_request(&key).unwrap().pem().unwrap();
    (key, csr)
}

async fn post_enrol(hub: &TestHub, body: &impl serde::Serialize) -> reqwest::Response {
    hub.anonymous().post(hub.url(paths::ENROL)).json(body).send().await.unwrap()
}

/// The victim is a kiosk in use: heartbeat, journal upload (of the records
/// after the first `uploaded`) and its student's session work. Returns the
/// records uploaded by now.
async fn victim_still_works(victim: &Kiosk, journal_dir: &std::path::Path, uploaded: usize) -> usize {
    let beat = Heartbeat { state: "in_exam".into(), journal_next_seq: None, journal_last_hash: None, answers_pending: 0, journal_damage: None };
    let resp = victim.post(paths::HEARTBEAT, &beat).await;
    assert_eq!(resp.status(), 200, "victim heartbeat: {}", resp.text().await.unwrap());
    let frames = victim.make_journal(journal_dir, 3);
    let resp = victim.post(paths::JOURNAL, &b64(&frames[uploaded..])).await;
    assert_eq!(resp.status(), 200, "victim journal: {}", resp.text().await.unwrap());
    let resp = victim.get(paths::ASSIGNMENT).await;
    assert_eq!(resp.status(), 200, "victim session: {}", resp.text().await.unwrap());
    frames.len()
}

/// Issue 14 point 1: an own CSR with another PC's *public* journal key (it is
/// in every epoch certificate of that PC's journal) must not take over that PC.
async fn enrolment_with_another_pcs_public_key_is_refused(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = db_of(&hub).await;
    let (victim_key, victim_pkcs8) = exam_journal::SigningKey::generate().unwrap();
    let mut victim = hub.enrol_key(ROOM, &victim_key, victim_pkcs8, "victim-pc").await;
    victim.login_ok("1001", &hub.code("S1", "1001")).await;
    let journal_dir = hub.path("victim-journal");
    let uploaded = victim_still_works(&victim, &journal_dir, 0).await;
    let before = device_row(&db, victim.id()).await.unwrap();
    let public = victim_key.public_key().to_hex();

    // The attack exactly as reproduced: any unused token (another room), no
    // client certificate, an own CSR, the victim's public key — and no proof.
    let token = hub.cli_ok(&["enrol-token", "--room", OTHER_ROOM]).trim().to_string();
    let (_, attacker_csr) = csr();
    let plain = serde_json::json!({ "token": token, "csr_pem": attacker_csr, "device_public_key": public, "hostname": "attacker" });
    let (status, body) = error_of(post_enrol(&hub, &plain).await).await;
    assert_eq!((status, body.error.as_str()), (400, "proof_required"), "{}", body.message);

    // With a real challenge, signed by the attacker's own key: no proof of the victim's key.
    let (attacker_key, _) = exam_journal::SigningKey::generate().unwrap();
    let mut forged = hub.proven_enrol_request(&token, &attacker_key, &attacker_csr, Some("attacker")).await;
    forged.device_public_key = Some(public.clone());
    let (status, body) = error_of(post_enrol(&hub, &forged).await).await;
    assert_eq!((status, body.error.as_str()), (403, "invalid_proof"), "{}", body.message);
    assert!(body.message.contains("device"), "says why: {}", body.message);

    // A proof the victim once made (over its own challenge, token and CSR)
    // does not carry over to the attacker's CSR.
    let victim_token = hub.cli_ok(&["enrol-token", "--room", ROOM]).trim().to_string();
    let (_, victim_csr) = csr();
    let victims_proof = hub.proven_enrol_request(&victim_token, &victim_key, &victim_csr, Some("victim-pc")).await;
    let stolen = EnrolRequest { csr_pem: attacker_csr.clone(), hostname: Some("attacker".into()), ..victims_proof.clone() };
    let (status, body) = error_of(post_enrol(&hub, &stolen).await).await;
    assert_eq!((status, body.error.as_str()), (403, "invalid_proof"), "{}", body.message);
    let other_token = EnrolRequest { token: token.clone(), ..victims_proof };
    let (status, _) = error_of(post_enrol(&hub, &other_token).await).await;
    assert_eq!(status, 403, "a proof is bound to its token");

    // Nothing changed: the victim's record, its certificate and session, and
    // the attacker's token is still unused.
    assert_eq!(device_row(&db, victim.id()).await.unwrap(), before);
    assert!(token_unused(&db, &token).await && token_unused(&db, &victim_token).await);
    victim_still_works(&victim, &journal_dir, uploaded).await;
    let devices = hub.cli_ok(&["devices"]);
    assert!(devices.contains("host=victim-pc") && !devices.contains("attacker"), "{devices}");
}
on_both_backends!(enrolment_with_another_pcs_public_key_is_refused);

/// A revoked device is not un-revoked by enrolling again, even with a valid
/// proof, until an administrator re-admits it by name, with a reason that is
/// journalled.
async fn revoked_device_stays_revoked_until_readmitted(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = db_of(&hub).await;
    let (key, pkcs8) = exam_journal::SigningKey::generate().unwrap();
    let old = hub.enrol_key(ROOM, &key, pkcs8.clone(), "pc-12").await;
    let id = old.id().to_string();
    hub.cli_ok(&["revoke", "--device", &id]);

    let token = hub.cli_ok(&["enrol-token", "--room", ROOM]).trim().to_string();
    let (_, csr_pem) = csr();
    let req = hub.proven_enrol_request(&token, &key, &csr_pem, Some("pc-12")).await;
    let (status, body) = error_of(post_enrol(&hub, &req).await).await;
    assert_eq!((status, body.error.as_str()), (403, "device_revoked"), "{}", body.message);
    assert!(body.message.contains("readmit"), "says what to do: {}", body.message);
    assert!(token_unused(&db, &token).await, "a refused enrolment leaves the token unused");
    assert!(device_row(&db, &id).await.unwrap().3, "still revoked");

    // Re-admission needs the device by name and a reason.
    let out = hub.cli(&["device", "readmit", &id, "--reason", "  "]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reason"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = hub.cli(&["device", "readmit", "no-such-device", "--reason", "herinstallatie"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no device"), "{}", String::from_utf8_lossy(&out.stderr));
    hub.cli_ok(&["device", "readmit", &id, "--reason", "PC 12 opnieuw geïnstalleerd na controle"]);
    let journalled = sqlx::query("SELECT username, reason, detail FROM console_actions WHERE action = $1")
        .bind(exam_hub::admin::READMIT_ACTION)
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(journalled.len(), 1);
    assert_eq!(journalled[0].try_get::<String, _>("reason").unwrap(), "PC 12 opnieuw geïnstalleerd na controle");
    assert!(journalled[0].try_get::<String, _>("detail").unwrap().contains(&id));
    // Twice is refused (nothing to re-admit), and the old certificate stays refused.
    assert!(!hub.cli(&["device", "readmit", &id, "--reason", "nogmaals"]).status.success());
    let (status, body) = error_of(old.post(paths::ECHO, &EchoRequest { nonce: "ab".repeat(32) }).await).await;
    assert_eq!((status, body.error.as_str()), (403, "device_revoked"));

    // Now the same request (same challenge, still unused) enrols it again.
    let resp = post_enrol(&hub, &req).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let (_, _, cert, revoked) = device_row(&db, &id).await.unwrap();
    assert!(!revoked);
    assert_ne!(cert, device_row_cert_of(&old));
    let (status, body) = error_of(old.post(paths::ECHO, &EchoRequest { nonce: "ab".repeat(32) }).await).await;
    assert_eq!((status, body.error.as_str()), (403, "unknown_device"), "the old certificate stays out");
    // Revoked again: refused again, the earlier re-admission does not count.
    hub.cli_ok(&["revoke", "--device", &id]);
    let token = hub.cli_ok(&["enrol-token", "--room", ROOM]).trim().to_string();
    let req = hub.proven_enrol_request(&token, &key, &csr_pem, Some("pc-12")).await;
    let (status, body) = error_of(post_enrol(&hub, &req).await).await;
    assert_eq!((status, body.error.as_str()), (403, "device_revoked"));
}
on_both_backends!(revoked_device_stays_revoked_until_readmitted);

fn device_row_cert_of(kiosk: &Kiosk) -> String {
    let der: rustls::pki_types::CertificateDer<'static> =
        rustls::pki_types::pem::PemObject::from_pem_slice(kiosk.enrolled.client_certificate_pem.as_bytes()).unwrap();
    exam_hub::pki::cert_sha256(der.as_ref())
}

/// A session token works only over the client certificate it was issued
/// over: a re-enrolled device (same key, proven) starts without sessions,
/// and its old certificate is out.
async fn session_token_is_bound_to_its_certificate(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = db_of(&hub).await;
    let (key, pkcs8) = exam_journal::SigningKey::generate().unwrap();
    let mut first = hub.enrol_key(ROOM, &key, pkcs8.clone(), "pc-03").await;
    first.login_ok("1001", &hub.code("S1", "1001")).await;
    assert_eq!(first.get(paths::ASSIGNMENT).await.status(), 200);

    // The same device key, proven, with a new token and a new TLS key: a reinstalled PC.
    let mut second = hub.enrol_key(ROOM, &key, pkcs8, "pc-03").await;
    assert_eq!(second.id(), first.id());
    second.token = first.token.clone();
    let (status, body) = error_of(second.get(paths::ASSIGNMENT).await).await;
    assert_eq!(status, 401, "a token issued over another certificate: {}", body.message);
    assert!(body.message.contains("certificate"), "{}", body.message);
    let (status, _) = error_of(second.post(paths::START, &serde_json::json!({})).await).await;
    assert_eq!(status, 401);
    let (status, body) = error_of(first.get(paths::ASSIGNMENT).await).await;
    assert_eq!((status, body.error.as_str()), (403, "unknown_device"), "the old certificate is out");
    // The re-enrolment is visible to the administrator, and the PC works with a new login.
    let alarms = hub.cli_ok(&["alarms"]);
    assert!(alarms.contains(exam_hub::journal::alarm::REENROLMENT) && alarms.contains(first.id()), "{alarms}");
    second.login_ok("1001", &hub.code("S1", "1001")).await;
    assert_eq!(second.get(paths::ASSIGNMENT).await.status(), 200);
    let (room, host, _, revoked) = device_row(&db, second.id()).await.unwrap();
    assert_eq!((room.as_str(), host.as_deref(), revoked), (ROOM, Some("pc-03"), false));
    // A re-enrolment says nothing about the PC's journal: no "NIET IN ORDE".
    let frames = second.make_journal(&hub.path("journal-pc-03"), 3);
    let resp = second.post(paths::JOURNAL, &b64(&frames)).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let pv = exam_hub::reports::proces_verbaal(&db, "S1").await.unwrap();
    let journal = pv.journals.iter().find(|j| j.device_id == second.id()).expect("the PC is in the proces-verbaal");
    assert!(journal.verified && journal.alarms.is_empty(), "{journal:?}");
}
on_both_backends!(session_token_is_bound_to_its_certificate);

/// Wrong, missing, foreign, expired and replayed challenges are refused with
/// a clear error, and change nothing: the token stays unused.
async fn bad_challenges_change_nothing(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = db_of(&hub).await;
    let (key, _) = exam_journal::SigningKey::generate().unwrap();
    let public = key.public_key().to_hex();
    let token = hub.cli_ok(&["enrol-token", "--room", ROOM]).trim().to_string();
    let (_, csr_pem) = csr();
    // Only a valid token gets a challenge.
    let (status, body) = error_of(hub.challenge("not-a-token").await).await;
    assert_eq!((status, body.error.as_str()), (403, "invalid_token"));
    let sign = |challenge: &str, token: &str| {
        let message = enrol_proof_message(challenge, token, &csr_pem, &public).unwrap();
        hex::encode(key.sign(&message))
    };
    let request = |challenge: Option<String>, proof: Option<String>| EnrolRequest {
        token: token.clone(),
        csr_pem: csr_pem.clone(),
        device_public_key: Some(public.clone()),
        hostname: Some("pc-20".into()),
        challenge,
        proof,
    };
    let refused = |status: u16, code: &'static str| move |(s, body): (u16, ErrorBody)| {
        assert_eq!((s, body.error.as_str()), (status, code), "{}", body.message);
        assert!(!body.message.is_empty());
    };

    // Missing proof, missing device key, malformed challenge or proof.
    refused(400, "proof_required")(error_of(post_enrol(&hub, &request(None, None)).await).await);
    let mut no_key = request(Some("00".repeat(32)), Some("00".repeat(64)));
    no_key.device_public_key = None;
    refused(400, "device_key_required")(error_of(post_enrol(&hub, &no_key).await).await);
    refused(400, "invalid_challenge")(error_of(post_enrol(&hub, &request(Some("xyz".into()), Some("00".repeat(64)))).await).await);
    let real: EnrolChallenge = hub.challenge(&token).await.json().await.unwrap();
    refused(400, "invalid_proof")(error_of(post_enrol(&hub, &request(Some(real.challenge.clone()), Some("zz".into()))).await).await);
    // A challenge the hub never issued, properly signed.
    let invented = hex::encode(exam_hub::random_bytes(32));
    refused(403, "invalid_challenge")(error_of(post_enrol(&hub, &request(Some(invented.clone()), Some(sign(&invented, &token)))).await).await);
    // Another token's challenge.
    let other_token = hub.cli_ok(&["enrol-token", "--room", ROOM]).trim().to_string();
    let foreign: EnrolChallenge = hub.challenge(&other_token).await.json().await.unwrap();
    refused(403, "invalid_challenge")(
        error_of(post_enrol(&hub, &request(Some(foreign.challenge.clone()), Some(sign(&foreign.challenge, &token)))).await).await,
    );
    // An expired challenge (its expiry moved into the past).
    let expiring: EnrolChallenge = hub.challenge(&token).await.json().await.unwrap();
    sqlx::query("UPDATE enrol_challenges SET expires_ms = $1 WHERE challenge = $2")
        .bind(exam_hub::now_ms() - 1)
        .bind(&expiring.challenge)
        .execute(&db.pool)
        .await
        .unwrap();
    refused(403, "invalid_challenge")(
        error_of(post_enrol(&hub, &request(Some(expiring.challenge.clone()), Some(sign(&expiring.challenge, &token)))).await).await,
    );
    // A signature over another challenge.
    refused(403, "invalid_proof")(error_of(post_enrol(&hub, &request(Some(real.challenge.clone()), Some(sign(&invented, &token)))).await).await);

    // Nothing changed.
    assert!(token_unused(&db, &token).await, "the token is still unused");
    assert!(device_row(&db, &key.public_key().device_id()).await.is_none(), "no device record");
    let open: i64 = sqlx::query("SELECT COUNT(*) AS n FROM enrol_challenges WHERE used_ms IS NOT NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(open, 0, "no challenge was consumed");

    // The real challenge still works, once; replaying it is refused.
    let good = request(Some(real.challenge.clone()), Some(sign(&real.challenge, &token)));
    let resp = post_enrol(&hub, &good).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let (status, _) = error_of(post_enrol(&hub, &good).await).await;
    assert_eq!(status, 403, "replayed");
    // Replayed with the other (unused) token: the challenge is used and bound to the first token.
    let replay = EnrolRequest { token: other_token.clone(), proof: Some(sign(&real.challenge, &other_token)), ..good };
    refused(403, "invalid_challenge")(error_of(post_enrol(&hub, &replay).await).await);
    assert!(token_unused(&db, &other_token).await);
}
on_both_backends!(bad_challenges_change_nothing);
