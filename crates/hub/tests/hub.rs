//! Integration tests against a real `exam-hub` process over real TLS on
//! 127.0.0.1, each on SQLite and on PostgreSQL.
#![allow(missing_docs)]

mod common;

use common::*;
use exam_protocol::*;
use std::time::{Duration, Instant};

async fn enrolment_and_mutual_tls(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    // Health without a client certificate.
    let health: Health = hub.anonymous().get(hub.url(paths::HEALTHZ)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health.status, "ok");
    // Kiosk endpoints need the client certificate.
    let (status, body) = error_of(hub.anonymous().get(hub.url(paths::ASSIGNMENT)).send().await.unwrap()).await;
    assert_eq!((status, body.error.as_str()), (401, "client_certificate_required"));

    let kiosk = hub.enrol(ROOM).await;
    assert_eq!(kiosk.enrolled.room, ROOM);
    assert_eq!(kiosk.enrolled.school_ca_pem, hub.school_ca_pem);
    // The token is single-use; unknown tokens are refused.
    let token = hub.cli_ok(&["enrol-token", "--room", ROOM]).trim().to_string();
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::default().serialize_request(&key).unwrap().pem().unwrap();
    let (device_key, _) = exam_journal::SigningKey::generate().unwrap();
    let req = hub.proven_enrol_request(&token, &device_key, &csr, None).await;
    let first = hub.anonymous().post(hub.url(paths::ENROL)).json(&req).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let (status, body) = error_of(hub.anonymous().post(hub.url(paths::ENROL)).json(&req).send().await.unwrap()).await;
    assert_eq!((status, body.error.as_str()), (403, "invalid_token"));
    let (status, _) = error_of(hub.challenge("nope' OR '1'='1").await).await;
    assert_eq!(status, 403);
    let forged = EnrolRequest { token: "nope' OR '1'='1".into(), ..req.clone() };
    let (status, _) = error_of(hub.anonymous().post(hub.url(paths::ENROL)).json(&forged).send().await.unwrap()).await;
    assert_eq!(status, 403);
    // A garbage CSR is a clear 400 (with a fresh token).
    let token = hub.cli_ok(&["enrol-token", "--room", ROOM]).trim().to_string();
    let garbage = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
    let bad = hub.proven_enrol_request(&token, &device_key, garbage, None).await;
    let (status, body) = error_of(hub.anonymous().post(hub.url(paths::ENROL)).json(&bad).send().await.unwrap()).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_csr"));

    // Mutual TLS works; the echo is signed and names 127.0.0.1.
    let nonce = "ab".repeat(32);
    let resp = kiosk.post(paths::ECHO, &EchoRequest { nonce: nonce.clone() }).await;
    assert_eq!(resp.status(), 200);
    let echo: SignedHubEcho = resp.json().await.unwrap();
    echo.verify(&kiosk.enrolled.hub_signing_public_key, kiosk.id(), &nonce).unwrap();
    assert_eq!(echo.echo.observed.to_string(), "127.0.0.1");

    // A client certificate from another CA does not get through the handshake.
    let rogue_key = rcgen::KeyPair::generate().unwrap();
    let rogue = rcgen::CertificateParams::new(vec!["rogue".to_string()]).unwrap().self_signed(&rogue_key).unwrap();
    let rogue_client = client(&hub.school_ca_pem, Some((&rogue.pem(), &rogue_key.serialize_pem())));
    let result = rogue_client.post(hub.url(paths::ECHO)).json(&EchoRequest { nonce: nonce.clone() }).send().await;
    assert!(result.is_err(), "a foreign client certificate must be refused: {result:?}");

    // Revocation: refused from the next request on.
    hub.cli_ok(&["revoke", "--device", kiosk.id()]);
    let (status, body) = error_of(kiosk.post(paths::ECHO, &EchoRequest { nonce }).await).await;
    assert_eq!((status, body.error.as_str()), (403, "device_revoked"));
    assert!(hub.cli_ok(&["devices"]).contains("REVOKED"));

    // Backups: SQLite is copied consistently while the hub runs; PostgreSQL points to pg_dump.
    let backup = hub.path("backup.db");
    let out = hub.cli(&["backup", "--out", backup.to_str().unwrap()]);
    match backend {
        Backend::Sqlite => {
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert!(std::fs::metadata(&backup).unwrap().len() > 0);
            assert!(!hub.cli(&["backup", "--out", backup.to_str().unwrap()]).status.success(), "never overwrites");
        }
        Backend::Postgres => assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump")),
    }
}
on_both_backends!(enrolment_and_mutual_tls);

async fn login_lockout_and_hostile_input(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut kiosk = hub.enrol(ROOM).await;
    // Wrong codes count down, the fifth locks.
    for remaining in (1..=4).rev() {
        let (status, body) = error_of(kiosk.login("1002", "WRNG-CODE").await).await;
        assert_eq!((status, body.error.as_str(), body.remaining_attempts), (401, "invalid_credentials", Some(remaining)));
    }
    let (status, body) = error_of(kiosk.login("1002", "WRNG-CODE").await).await;
    assert_eq!((status, body.error.as_str()), (423, "locked"));
    // Even the right code is refused while locked.
    let code = hub.code("S1", "1002");
    let (status, _) = error_of(kiosk.login("1002", &code).await).await;
    assert_eq!(status, 423);
    hub.cli_ok(&["reset-lock", "--sitting", "S1", "--student", "1002"]);
    // Case and dashes do not matter.
    let login = kiosk.login_ok("1002", &code.to_lowercase().replace('-', "")).await;
    assert_eq!(login.assignment.sitting_id, "S1");

    // Unknown student, other room, no sitting now.
    let (status, body) = error_of(kiosk.login("9999", &code).await).await;
    assert_eq!((status, body.error.as_str()), (404, "unknown_student"));
    let (status, body) = error_of(kiosk.login("1004", &hub.code("S3", "1004")).await).await;
    assert_eq!((status, body.error.as_str()), (403, "wrong_room"));

    // Hostile input: SQL meta-characters, malformed JSON, wrong types, huge bodies.
    for evil in ["1001' OR '1'='1", "1001\"; DROP TABLE candidates; --", "%", "_"] {
        let (status, _) = error_of(kiosk.login(evil, "x' OR 1=1 --").await).await;
        assert_eq!(status, 404, "{evil}");
    }
    let (status, _) = error_of(kiosk.login("1001\u{0}", "x").await).await;
    assert_eq!(status, 400);
    let url = kiosk.url(paths::LOGIN);
    let (status, body) = error_of(kiosk.client.post(&url).header("content-type", "application/json").body("{\"student_number\":").send().await.unwrap()).await;
    assert_eq!((status, body.error.as_str()), (400, "malformed_json"));
    let (status, body) = error_of(kiosk.client.post(&url).header("content-type", "text/plain").body("{}").send().await.unwrap()).await;
    assert_eq!((status, body.error.as_str()), (415, "unsupported_media_type"));
    let (status, body) = error_of(kiosk.client.post(&url).header("content-type", "application/json").body("{\"student_number\":1}").send().await.unwrap()).await;
    assert_eq!((status, body.error.as_str()), (422, "invalid_body"));
    let huge = format!("{{\"student_number\":\"{}\",\"access_code\":\"x\"}}", "9".repeat(200_000));
    // 413, or — when the hub answers and closes before the client has written
    // the whole body — a broken pipe on the client's side; either way refused.
    match kiosk.client.post(&url).header("content-type", "application/json").body(huge).send().await {
        Ok(resp) => assert_eq!(error_of(resp).await.0, 413),
        Err(err) => assert!(err.is_request() && format!("{err:?}").contains("BrokenPipe"), "{err:?}"),
    }
    // The hub closes a connection whose oversized body it did not read; a
    // client may need one retry on a fresh connection.
    let mut resp = kiosk.client.get(kiosk.url("/api/v1/nothing-here")).send().await;
    if resp.is_err() {
        resp = kiosk.client.get(kiosk.url("/api/v1/nothing-here")).send().await;
    }
    let (status, body) = error_of(resp.unwrap()).await;
    assert_eq!((status, body.error.as_str()), (404, "not_found"));
    // Still up, and the table is still there.
    let _ = kiosk.login_ok("1001", &hub.code("S1", "1001")).await;

    // A bad planning file is refused whole, with line numbers.
    let bad = hub.path("bad.csv");
    std::fs::write(
        &bad,
        "student_number,student_name,sitting,exam,instrument,room,start,duration_minutes\n\
         2001,Eva,S9,Exam,inst-a,B2.14,2026-06-01T09:00:00+02:00,60\n\
         2002,Finn,S9,Exam,inst-a,B2.14,tomorrow,60\n\
         2003,Gijs,S9,Exam,no-such-instrument,B2.14,2026-06-01T09:00:00+02:00,-5\n",
    )
    .unwrap();
    let out = hub.cli(&["import", "planning", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3") && err.contains("start") && err.contains("line 4") && err.contains("nothing imported"), "{err}");
    let (status, body) = error_of(kiosk.login("2001", "AAAA-AAAA").await).await;
    assert_eq!((status, body.error.as_str()), (404, "unknown_student"), "nothing of the bad file was imported");
}
on_both_backends!(login_lockout_and_hostile_input);

async fn assignment_download_and_key_release(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut kiosk = hub.enrol(ROOM).await;
    let login = kiosk.login_ok("1001", &hub.code("S1", "1001")).await;
    let a: Assignment = kiosk.get(paths::ASSIGNMENT).await.json().await.unwrap();
    assert_eq!(a, login.assignment);
    assert_eq!((a.exam.as_str(), a.room.as_str(), a.student_name.as_str()), ("Rekenen 2F", ROOM, "Anna de Vries"));
    assert_eq!((a.duration_minutes, a.total_minutes, a.accommodations.extra_minutes), (90, 105, 15));
    assert_eq!(a.accommodations.tools, ["read-aloud", "spell-check"]);
    assert_eq!(a.accommodations.text_size.as_deref(), Some("large"));
    assert_eq!(a.instrument.sha256, exam_hub::sha256_hex(&hub.instrument));
    assert_eq!(a.instrument.size, hub.instrument.len() as u64);

    // Download in ranged pieces, as a resumed download would.
    let mut got = Vec::new();
    let piece = 70_000usize;
    while got.len() < hub.instrument.len() {
        let end = (got.len() + piece - 1).min(hub.instrument.len() - 1);
        let resp = kiosk
            .client
            .get(kiosk.url(&a.instrument.path))
            .bearer_auth(kiosk.token.as_ref().unwrap())
            .header("range", format!("bytes={}-{end}", got.len()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 206);
        assert_eq!(resp.headers()["content-range"], format!("bytes {}-{end}/{}", got.len(), hub.instrument.len()).as_str());
        got.extend_from_slice(&resp.bytes().await.unwrap());
    }
    assert_eq!(exam_hub::sha256_hex(&got), a.instrument.sha256);
    let whole = kiosk.get(&a.instrument.path).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.bytes().await.unwrap().len(), hub.instrument.len());
    let suffix = kiosk.client.get(kiosk.url(&a.instrument.path)).bearer_auth(kiosk.token.as_ref().unwrap()).header("range", "bytes=-10").send().await.unwrap();
    assert_eq!(suffix.bytes().await.unwrap().as_ref(), &hub.instrument[hub.instrument.len() - 10..]);
    let beyond = kiosk.client.get(kiosk.url(&a.instrument.path)).bearer_auth(kiosk.token.as_ref().unwrap()).header("range", "bytes=999999999-").send().await.unwrap();
    assert_eq!(beyond.status(), 416);

    // S1 started five minutes ago: the key is released.
    let start: StartResponse = kiosk.post(paths::START, &serde_json::json!({})).await.json().await.unwrap();
    use base64::Engine as _;
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(start.content_key).unwrap(), hub.content_key);

    // S2 starts in 30 minutes: login works (early), key only after `exam-hub start`.
    let mut early = hub.enrol(ROOM).await;
    let login = early.login_ok("1003", &hub.code("S2", "1003")).await;
    assert!(!login.assignment.started);
    let (status, body) = error_of(early.post(paths::START, &serde_json::json!({})).await).await;
    assert_eq!((status, body.error.as_str()), (425, "not_started"));
    assert_eq!(body.starts_at_ms, Some(login.assignment.start_ms));
    hub.cli_ok(&["start", "--sitting", "S2"]);
    assert_eq!(early.post(paths::START, &serde_json::json!({})).await.status(), 200);

    // The session token is bound to the device certificate: another kiosk cannot use it.
    let mut thief = hub.enrol(ROOM).await;
    thief.token = kiosk.token.clone();
    let (status, body) = error_of(thief.get(paths::ASSIGNMENT).await).await;
    assert_eq!(status, 401, "{body:?}");
    // Unknown and missing tokens.
    thief.token = Some("forged-token".into());
    assert_eq!(thief.get(paths::ASSIGNMENT).await.status(), 401);
    thief.token = None;
    assert_eq!(thief.get(paths::ASSIGNMENT).await.status(), 401);
    // A new login elsewhere (student moved PC) ends the old session.
    let mut moved = hub.enrol(ROOM).await;
    moved.login_ok("1001", &hub.code("S1", "1001")).await;
    assert_eq!(kiosk.get(paths::ASSIGNMENT).await.status(), 401);
    assert_eq!(moved.get(paths::ASSIGNMENT).await.status(), 200);
}
on_both_backends!(assignment_download_and_key_release);

async fn journal_sync_and_tampering(backend: Backend) {
    let Some(mut hub) = TestHub::start(backend).await else { return };
    let kiosk = hub.enrol(ROOM).await;
    let hub_key = kiosk.enrolled.hub_signing_public_key.clone();
    let jdir = hub.path("journal");
    let frames = kiosk.make_journal(&jdir, 120);
    assert!(frames.len() > 120, "epoch certificates and checkpoints are records too");

    // Upload in batches; every receipt is signed.
    let r: JournalReceipt = kiosk.post(paths::JOURNAL, &b64(&frames[..50])).await.json().await.unwrap();
    r.verify(&hub_key).unwrap();
    assert_eq!((r.next_seq, r.stored, r.duplicates), (50, 50, 0));
    // The same batch again (a retry after a lost answer): nothing new, same position.
    let r: JournalReceipt = kiosk.post(paths::JOURNAL, &b64(&frames[..50])).await.json().await.unwrap();
    assert_eq!((r.next_seq, r.stored, r.duplicates), (50, 0, 50));
    // Overlapping batch: duplicates skipped, the rest stored.
    let r: JournalReceipt = kiosk.post(paths::JOURNAL, &b64(&frames[40..70])).await.json().await.unwrap();
    assert_eq!((r.next_seq, r.stored, r.duplicates), (70, 20, 10));
    // Out of order (a gap): refused with where to continue.
    let (status, body) = error_of(kiosk.post(paths::JOURNAL, &b64(&frames[80..90])).await).await;
    assert_eq!((status, body.error.as_str(), body.expected_seq), (409, "journal_gap", Some(70)));

    // Tampering: a broken signature, a changed payload, a removed record.
    let mut broken = frames[70].clone();
    let n = broken.len();
    broken[n - 3] ^= 0x40;
    let (status, body) = error_of(kiosk.post(paths::JOURNAL, &b64(&[broken])).await).await;
    assert_eq!((status, body.error.as_str()), (422, "journal_invalid"), "{}", body.message);
    assert!(body.message.contains("signature"), "{}", body.message);
    let mut changed = frames[70].clone();
    changed[100] ^= 1;
    let (status, _) = error_of(kiosk.post(paths::JOURNAL, &b64(&[changed])).await).await;
    assert_eq!(status, 422);
    let skipping: Vec<_> = [frames[70].clone(), frames[72].clone()].into();
    let (status, body) = error_of(kiosk.post(paths::JOURNAL, &b64(&skipping)).await).await;
    // The valid prefix before the gap was stored; nothing after it.
    assert_eq!((status, body.error.as_str(), body.expected_seq), (409, "journal_gap", Some(71)));
    // Garbage that is not base64 / not a frame.
    let (status, _) = error_of(kiosk.post(paths::JOURNAL, &JournalBatch { records: vec!["%%%".into()] }).await).await;
    assert_eq!(status, 400);
    let (status, _) = error_of(kiosk.post(paths::JOURNAL, &JournalBatch { records: vec!["AAAA".into()] }).await).await;
    assert_eq!(status, 422);

    // A journal signed by another device key (forged epoch certificate) is refused.
    let other = hub.enrol(ROOM).await;
    let foreign = other.make_journal(&hub.path("other-journal"), 5);
    let (status, body) = error_of(kiosk.post(paths::JOURNAL, &b64(&foreign[..1])).await).await;
    assert_eq!(status, 409, "seq 0 is already anchored: {body:?}");
    let fresh = hub.enrol(ROOM).await;
    let (status, body) = error_of(fresh.post(paths::JOURNAL, &b64(&foreign)).await).await;
    assert_eq!((status, body.error.as_str()), (422, "journal_invalid"));
    assert!(body.message.contains("device key"), "{}", body.message);

    // Restart the hub mid-upload: everything acknowledged survives.
    hub.restart();
    let kiosk = Kiosk { base: hub.base.clone(), ..kiosk };
    let r: JournalReceipt = kiosk.post(paths::JOURNAL, &b64(&frames[71..])).await.json().await.unwrap();
    assert_eq!(r.next_seq, frames.len() as u64);
    r.verify(&hub_key).unwrap();
    let report = exam_journal::verify_journal(&jdir, &Default::default()).unwrap();
    assert_eq!(Some(r.last_hash.clone()), report.last_hash);

    // Rewriting anchored history (even with the real device key) raises an alarm.
    let rewritten = kiosk.make_journal(&hub.path("rewritten"), 30);
    let (status, body) = error_of(kiosk.post(paths::JOURNAL, &b64(&rewritten[..10])).await).await;
    assert_eq!((status, body.error.as_str()), (409, "history_rewritten"));
    // Truncation: the kiosk reports fewer records than the hub holds.
    let beat = Heartbeat { state: "in_exam".into(), journal_next_seq: Some(3), journal_last_hash: None, answers_pending: 0, journal_damage: None };
    let ack: HeartbeatAck = kiosk.post(paths::HEARTBEAT, &beat).await.json().await.unwrap();
    assert_eq!(ack.journal_next_seq, frames.len() as u64);
    // Damage: the kiosk cannot read its journal from a record on (it sent
    // the records before it); said in every beat, one alarm. Before, a
    // damaged journal was silent: the kiosk sent nothing and the hub never knew.
    let damage = exam_protocol::JournalDamage { from_seq: frames.len() as u64, reason: "journal segment damaged at offset 4711".into() };
    let beat = Heartbeat { state: "in_exam".into(), journal_next_seq: None, journal_last_hash: None, answers_pending: 0, journal_damage: Some(damage) };
    for _ in 0..2 {
        let _: HeartbeatAck = kiosk.post(paths::HEARTBEAT, &beat).await.json().await.unwrap();
    }
    let alarms = hub.cli_ok(&["alarms"]);
    for kind in ["journal.rewrite", "journal.truncation", "journal.invalid", "journal.damaged"] {
        assert!(alarms.contains(kind), "{kind} missing from:\n{alarms}");
    }
    assert_eq!(alarms.matches("journal.damaged").count(), 1, "{alarms}");
    assert!(alarms.contains(&format!("cannot read its journal from record {} on (journal segment damaged at offset 4711)", frames.len())), "{alarms}");
    // Continuing the real journal later keeps working.
    let more = append_journal(&jdir, &kiosk.device_pkcs8, 10);
    let r: JournalReceipt = kiosk.post(paths::JOURNAL, &b64(&more[frames.len()..])).await.json().await.unwrap();
    assert_eq!(r.next_seq, more.len() as u64);
}
on_both_backends!(journal_sync_and_tampering);

async fn answers_and_receipts(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut kiosk = hub.enrol(ROOM).await;
    let hub_key = kiosk.enrolled.hub_signing_public_key.clone();
    kiosk.login_ok("1002", &hub.code("S1", "1002")).await;
    let save = |seq: u64, text: &str, final_submission: bool| AnswerUpload {
        sitting_id: "S1".into(),
        seq,
        final_submission,
        answers: serde_json::json!({ "item-1": text, "item-2": ["b", "c"] }),
        changes: vec![],
    };
    let r1: AnswerReceipt = kiosk.post(paths::ANSWERS, &save(1, "42", false)).await.json().await.unwrap();
    r1.verify(&hub_key).unwrap();
    // A retried upload gets the same receipt.
    let again: AnswerReceipt = kiosk.post(paths::ANSWERS, &save(1, "42", false)).await.json().await.unwrap();
    assert_eq!(again, r1);
    // The same save number with other contents is a conflict.
    let (status, body) = error_of(kiosk.post(paths::ANSWERS, &save(1, "43", false)).await).await;
    assert_eq!((status, body.error.as_str()), (409, "conflicting_answers"));
    // Another sitting is refused.
    let mut wrong = save(2, "x", false);
    wrong.sitting_id = "S2".into();
    assert_eq!(kiosk.post(paths::ANSWERS, &wrong).await.status(), 403);
    // Late and out-of-order saves are fine.
    let r3: AnswerReceipt = kiosk.post(paths::ANSWERS, &save(3, "44", false)).await.json().await.unwrap();
    let r2: AnswerReceipt = kiosk.post(paths::ANSWERS, &save(2, "43", false)).await.json().await.unwrap();
    assert!(r3.verify(&hub_key).is_ok() && r2.verify(&hub_key).is_ok());
    let fin: AnswerReceipt = kiosk.post(paths::ANSWERS, &save(4, "45", true)).await.json().await.unwrap();
    fin.verify(&hub_key).unwrap();
    assert!(fin.final_submission);
    assert_eq!(fin.receipt_code.len(), 9);
    let mut forged = fin.clone();
    forged.answers_sha256 = "00".repeat(32);
    assert!(forged.verify(&hub_key).is_err());
    // Final submission retried: same receipt; later saves refused.
    let fin2: AnswerReceipt = kiosk.post(paths::ANSWERS, &save(4, "45", true)).await.json().await.unwrap();
    assert_eq!(fin2, fin);
    let (status, body) = error_of(kiosk.post(paths::ANSWERS, &save(5, "46", false)).await).await;
    assert_eq!((status, body.error.as_str()), (409, "already_submitted"));
    // Without a session: 401.
    kiosk.token = None;
    assert_eq!(kiosk.post(paths::ANSWERS, &save(6, "x", false)).await.status(), 401);
}
on_both_backends!(answers_and_receipts);

/// Reads server-sent events until `want` instruction events arrived or the deadline passed.
async fn read_events(resp: &mut reqwest::Response, buffer: &mut String, want: usize, deadline: Duration) -> Vec<Instruction> {
    let mut out = Vec::new();
    let until = Instant::now() + deadline;
    while out.len() < want {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match tokio::time::timeout(left, resp.chunk()).await {
            Ok(Ok(Some(chunk))) => buffer.push_str(&String::from_utf8_lossy(&chunk)),
            _ => break,
        }
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.lines().any(|l| l == "event: instruction") {
                let data: String = event.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
                out.push(serde_json::from_str(&data).unwrap());
            }
        }
    }
    out
}

async fn instructions_until_acknowledged(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut kiosk = hub.enrol(ROOM).await;
    kiosk.login_ok("1001", &hub.code("S1", "1001")).await;
    let mut stream = kiosk.get(paths::INSTRUCTIONS).await;
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut buffer = String::new();

    // Delivered within a second.
    let issued = Instant::now();
    let id = hub.cli_ok(&["instruct", "--device", kiosk.id(), "--action", "lock", "--reason", "phone seen"]).trim().to_string();
    let got = read_events(&mut stream, &mut buffer, 1, Duration::from_secs(5)).await;
    assert!(issued.elapsed() < Duration::from_millis(1500), "took {:?}", issued.elapsed());
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].id.as_str(), &got[0].kind, got[0].reason.as_str()), (id.as_str(), &InstructionKind::Lock, "phone seen"));
    // Not acknowledged: re-sent.
    let again = read_events(&mut stream, &mut buffer, 1, Duration::from_secs(6)).await;
    assert_eq!(again.first().map(|i| i.id.as_str()), Some(id.as_str()), "re-sent until acknowledged");
    // Also visible in the heartbeat answer.
    let beat = Heartbeat { state: "locked".into(), journal_next_seq: None, journal_last_hash: None, answers_pending: 0, journal_damage: None };
    let ack: HeartbeatAck = kiosk.post(paths::HEARTBEAT, &beat).await.json().await.unwrap();
    assert_eq!(ack.pending_instructions.len(), 1);
    // Acknowledge: no more re-sends.
    let resp = kiosk.post(paths::INSTRUCTIONS_ACK, &InstructionAck { id: id.clone() }).await;
    assert_eq!(resp.status(), 200);
    let (status, _) = error_of(kiosk.post(paths::INSTRUCTIONS_ACK, &InstructionAck { id: "unknown".into() }).await).await;
    assert_eq!(status, 404);
    tokio::time::sleep(Duration::from_millis(400)).await;
    buffer.clear();
    let none = read_events(&mut stream, &mut buffer, 1, Duration::from_secs(4)).await;
    assert!(none.iter().all(|i| i.id != id), "acknowledged instruction re-sent: {none:?}");

    // Add time for a student goes to their device and extends the assignment.
    let id = hub.cli_ok(&["instruct", "--sitting", "S1", "--student", "1001", "--action", "add-time", "--minutes", "10", "--reason", "storing"]).trim().to_string();
    let got = read_events(&mut stream, &mut buffer, 1, Duration::from_secs(5)).await;
    assert_eq!(got.first().map(|i| (&i.id, &i.kind)), Some((&id, &InstructionKind::AddTime { minutes: 10 })));
    let a: Assignment = kiosk.get(paths::ASSIGNMENT).await.json().await.unwrap();
    assert_eq!(a.total_minutes, 90 + 15 + 10);
    // Room-wide end.
    hub.cli_ok(&["instruct", "--room", ROOM, "--action", "end", "--reason", "tijd voorbij"]);
    let got = read_events(&mut stream, &mut buffer, 2, Duration::from_secs(5)).await;
    assert!(got.iter().any(|i| i.kind == InstructionKind::End), "{got:?}");
}
on_both_backends!(instructions_until_acknowledged);

async fn device_rate_limits(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut kiosk = hub.enrol(ROOM).await;
    let mut other = hub.enrol(ROOM).await;
    // A device that tries many student numbers is slowed down, whatever the
    // per-student lock-outs say.
    for i in 0..exam_hub::config::DEVICE_LOGINS_PER_WINDOW {
        let (status, _) = error_of(kiosk.login(&format!("77{i:02}"), "AAAA-AAAA").await).await;
        assert_eq!(status, 404, "attempt {i}");
    }
    let resp = kiosk.login("1001", &hub.code("S1", "1001")).await;
    let retry_after: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let (status, body) = error_of(resp).await;
    assert_eq!((status, body.error.as_str()), (429, "rate_limited"));
    assert!(body.message.contains("try again"), "{}", body.message);
    // Nothing was counted against the student: no failures, no lock.
    // Another workstation in the room is not affected.
    let login = other.login_ok("1001", &hub.code("S1", "1001")).await;
    assert_eq!(login.assignment.sitting_id, "S1");
    // Other requests of the limited device still pass (separate limit).
    let beat = Heartbeat { state: "login".into(), journal_next_seq: None, journal_last_hash: None, answers_pending: 0, journal_damage: None };
    assert_eq!(kiosk.post(paths::HEARTBEAT, &beat).await.status(), 200);
    // A runaway device is answered 429 once over its request budget.
    // `other` has made one request so far (its login).
    let mut sent = 1;
    let refused = loop {
        let resp = other.post(paths::HEARTBEAT, &beat).await;
        sent += 1;
        if resp.status() != 200 {
            break resp;
        }
        assert!(sent <= exam_hub::config::DEVICE_REQUESTS_PER_WINDOW, "no limit after {sent} requests");
    };
    assert_eq!(sent, exam_hub::config::DEVICE_REQUESTS_PER_WINDOW + 1);
    let (status, body) = error_of(refused).await;
    assert_eq!((status, body.error.as_str()), (429, "rate_limited"));
    // The first device has its own budget.
    assert_eq!(kiosk.post(paths::HEARTBEAT, &beat).await.status(), 200);
}
on_both_backends!(device_rate_limits);

/// Two hub nodes on one database: a kiosk may reach either, and what one
/// node stores, the other honours.
async fn two_nodes_share_one_database(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let node_b = hub.another_node();
    let mut on_a = hub.enrol(ROOM).await;
    let login = on_a.login_ok("1001", &hub.code("S1", "1001")).await;
    // The same device and session through node B.
    let on_b = Kiosk { client: on_a.client.clone(), enrolled: on_a.enrolled.clone(), device_pkcs8: on_a.device_pkcs8.clone(), base: node_b.base.clone(), token: on_a.token.clone() };
    let a: Assignment = on_b.get(paths::ASSIGNMENT).await.json().await.unwrap();
    assert_eq!(a.sitting_id, login.assignment.sitting_id);

    // The same journal batch to both nodes at once (a retry that raced the
    // first attempt): stored once, acknowledged by both.
    let frames = on_a.make_journal(&hub.path("journal"), 200);
    let batch = b64(&frames[..120]);
    let (ra, rb) = tokio::join!(on_a.post(paths::JOURNAL, &batch), on_b.post(paths::JOURNAL, &batch));
    let (ra, rb): (JournalReceipt, JournalReceipt) = (ra.json().await.unwrap(), rb.json().await.unwrap());
    assert_eq!((ra.next_seq, rb.next_seq), (120, 120));
    assert_eq!(ra.stored + rb.stored, 120, "stored once: {ra:?} {rb:?}");
    assert_eq!(ra.duplicates + rb.duplicates, 120);
    // The rest through node B; the chain continues from what node A stored.
    let r: JournalReceipt = on_b.post(paths::JOURNAL, &b64(&frames[120..])).await.json().await.unwrap();
    assert_eq!(r.next_seq, frames.len() as u64);
    let report = exam_journal::verify_journal(&hub.path("journal"), &Default::default()).unwrap();
    assert_eq!(Some(r.last_hash), report.last_hash);

    // An instruction given through the CLI reaches the kiosk on node B's
    // stream; acknowledged through node A, node B stops re-sending it.
    let mut stream = on_b.get(paths::INSTRUCTIONS).await;
    assert_eq!(stream.status(), 200);
    let mut buffer = String::new();
    let id = hub.cli_ok(&["instruct", "--sitting", "S1", "--student", "1001", "--action", "lock", "--reason", "two nodes"]).trim().to_string();
    let got = read_events(&mut stream, &mut buffer, 1, Duration::from_secs(5)).await;
    assert_eq!(got.first().map(|i| i.id.as_str()), Some(id.as_str()));
    let resp = on_a.post(paths::INSTRUCTIONS_ACK, &InstructionAck { id: id.clone() }).await;
    assert_eq!(resp.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    buffer.clear();
    let later = read_events(&mut stream, &mut buffer, 1, Duration::from_secs(5)).await;
    assert!(later.iter().all(|i| i.id != id), "acknowledged on A, re-sent by B: {later:?}");

    // A login lock-out counted on one node holds on the other (one PC, whose
    // requests reach either node; the count is per student and PC).
    let mut other_a = hub.enrol(ROOM).await;
    let mut other_b = Kiosk {
        base: node_b.base.clone(),
        client: other_a.client.clone(),
        enrolled: other_a.enrolled.clone(),
        device_pkcs8: other_a.device_pkcs8.clone(),
        token: None,
    };
    for _ in 0..3 {
        let _ = other_a.login("1002", "WRNG-CODE").await;
    }
    for _ in 0..2 {
        let _ = other_b.login("1002", "WRNG-CODE").await;
    }
    let (status, body) = error_of(other_a.login("1002", &hub.code("S1", "1002")).await).await;
    assert_eq!((status, body.error.as_str()), (423, "locked"));
}
on_both_backends!(two_nodes_share_one_database);

/// Issue 17: a planning file as Excel saves it with Dutch settings — `;`
/// between columns, Windows-1252, a byte-order mark on a UTF-8 one — is
/// read, with a note about the encoding; rows of one sitting that disagree
/// name the field and both lines. Before: `unknown column
/// "student_number;student_name;…"` and "stream did not contain valid UTF-8".
async fn planning_files_as_excel_saves_them(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let header = "student_number;student_name;sitting;exam;instrument;room;start;duration_minutes;extra_minutes;tools\r\n";
    let rows = "3001;\u{d6}mer Y\u{131}lmaz;S7;Verkoop 2;inst-a;B2.14;2026-06-01T09:00:00+02:00;90;30;\"rekenmachine;woordenboek\"\r\n\
                3002;Eline van der Berg-de Vries;S7;Verkoop 2;inst-a;B2.14;2026-06-01T09:00:00+02:00;90;;\r\n";
    // Windows-1252 cannot hold the dotless i: a second file with a name it can.
    let cp1252_rows = "3003;Ren\u{e9} M\u{fc}ller;S8;Verkoop 2;inst-a;B2.14;2026-06-01T11:00:00+02:00;90;;\r\n";
    let cp1252_text = format!("{header}{cp1252_rows}");
    let (cp1252, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&cp1252_text);
    assert!(!unmappable);
    let utf8_bom = [&b"\xEF\xBB\xBF"[..], format!("{header}{rows}").as_bytes()].concat();
    for (name, bytes, note) in [("excel-utf8.csv", utf8_bom, false), ("excel-1252.csv", cp1252.into_owned(), true)] {
        let path = hub.path(name);
        std::fs::write(&path, &bytes).unwrap();
        let out = hub.cli(&["import", "planning", path.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {err}");
        assert_eq!(err.contains("read as Windows-1252"), note, "{name}: {err}");
    }
    let db = exam_hub::db::Db::connect(&hub.database.clone().unwrap_or_else(|| exam_hub::db::sqlite_url(&hub.data()))).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM students WHERE student_number IN ('3001', '3003') ORDER BY student_number")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(names, ["\u{d6}mer Y\u{131}lmaz", "Ren\u{e9} M\u{fc}ller"]);
    let tools: String = sqlx::query_scalar("SELECT tools FROM candidates WHERE student_number = '3001'").fetch_one(&db.pool).await.unwrap();
    // The Dutch words are stored as the ids the kiosk knows (issue 17).
    assert_eq!(tools, "calculator;dictionary");
    // Two rows of one sitting that disagree: which field, which lines (the file's own).
    let bad = hub.path("disagree.csv");
    std::fs::write(
        &bad,
        format!("{header}3004;An;S9;Verkoop 2;inst-a;B2.14;2026-06-01T09:00:00+02:00;90;;\r\n3005;Bo;S9;Verkoop 2;inst-a;B1.12;2026-06-01T09:00:00+02:00;60;;\r\n"),
    )
    .unwrap();
    let out = hub.cli(&["import", "planning", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("disagree.csv: line 3: sitting S9 differs from line 2 in room \"B1.12\" (there \"B2.14\"), duration_minutes 60 (there 90)"),
        "{err}"
    );
}
on_both_backends!(planning_files_as_excel_saves_them);
