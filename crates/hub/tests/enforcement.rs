//! The hub decides from its own records (issue 14 points 2 and 11), tried as
//! a student, a kiosk and an invigilator would, against a real `exam-hub`
//! process over real TLS: after an end no login elsewhere and no content
//! key until an invigilator reopens with a reason; whatever arrives is stored
//! with its receipt and classified (op tijd, na beëindiging, tijdens pauze,
//! na de eindtijd) in the results and the proces-verbaal; an offline kiosk's
//! answers made in time count once its journal shows so; no first login and
//! no key after the sitting's window; no hand-in before the start; an
//! instruction for one student never reaches the next student on that PC.
//! Sittings are planned relative to now; nothing sleeps.
#![allow(missing_docs)]

mod common;

use common::*;
use exam_hub::db::Db;
use exam_hub::reports::{self, SeatStatus};
use exam_protocol::*;
use serde_json::json;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

async fn open_db(hub: &TestHub) -> Db {
    let url = hub.database.clone().unwrap_or_else(|| exam_hub::db::sqlite_url(&hub.data()));
    Db::connect(&url).await.unwrap()
}

/// Save `seq` as a kiosk sends it: a hand-in holds the answers of the save
/// before it (the kiosk's hand-in mark takes its own number).
fn upload(sitting: &str, seq: u64, final_submission: bool) -> AnswerUpload {
    let work = if final_submission && seq > 1 { seq - 1 } else { seq };
    AnswerUpload {
        sitting_id: sitting.into(),
        seq,
        final_submission,
        answers: json!({
            "format": "exam-kiosk-answers/1", "sitting_id": sitting, "instrument_id": "inst-a", "seq": seq,
            "final_submission": final_submission, "responses": {"ITM-1": {"RESPONSE": format!("antwoord {work}")}}, "flagged": []
        }),
        changes: vec![],
    }
}

/// Sends a save; asserts the hub stored it and signed a receipt for it.
async fn save_stored(kiosk: &Kiosk, sitting: &str, seq: u64, final_submission: bool) -> AnswerReceipt {
    let resp = kiosk.post(paths::ANSWERS, &upload(sitting, seq, final_submission)).await;
    assert_eq!(resp.status(), 200, "save {seq}: {}", resp.text().await.unwrap());
    let receipt: AnswerReceipt = resp.json().await.unwrap();
    assert_eq!((receipt.seq, receipt.final_submission), (seq, final_submission));
    assert!(!receipt.receipt_code.is_empty());
    receipt
}

async fn start(kiosk: &Kiosk) -> reqwest::Response {
    kiosk.post(paths::START, &json!({})).await
}

async fn heartbeat(kiosk: &Kiosk) -> HeartbeatAck {
    let beat = Heartbeat { state: "in_exam".into(), journal_next_seq: None, journal_last_hash: None, answers_pending: 0, journal_damage: None };
    let resp = kiosk.post(paths::HEARTBEAT, &beat).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// The CSV line of one student.
fn csv_line(results: &reports::SittingResults, student: &str) -> String {
    results.to_csv().lines().find(|l| l.starts_with(&format!("{student},"))).unwrap_or_default().to_string()
}

async fn end_is_enforced_until_reopened(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc1 = hub.enrol(ROOM).await;
    let mut pc2 = hub.enrol(ROOM).await;
    let code = hub.code("S1", "1002");
    pc1.login_ok("1002", &code).await;
    assert_eq!(start(&pc1).await.status(), 200);
    save_stored(&pc1, "S1", 1, false).await;

    hub.cli_ok(&["instruct", "--action", "end", "--sitting", "S1", "--student", "1002", "--reason", "fraude vermoed"]);

    // What the kiosk still sends is stored, with its receipt (nothing is lost) ...
    save_stored(&pc1, "S1", 2, false).await;
    // ... but there is no key any more, and no login on any PC.
    let (status, body) = error_of(start(&pc1).await).await;
    assert_eq!((status, body.error.as_str()), (403, "exam_ended"), "{}", body.message);
    // Nor a web instrument's key (its session nonce).
    let (status, body) = error_of(pc1.post(paths::WEB_SESSION, &json!({})).await).await;
    assert_eq!((status, body.error.as_str()), (403, "exam_ended"), "{}", body.message);
    let (status, body) = error_of(pc2.login("1002", &code).await).await;
    assert_eq!((status, body.error.as_str()), (403, "exam_ended"), "{}", body.message);
    assert!(body.message.contains("reopen"), "{}", body.message);
    // Without the right code nobody learns of the end: a wrong code is just wrong.
    let (status, body) = error_of(pc2.login("1002", "GEEN-CODE").await).await;
    assert_eq!((status, body.error.as_str()), (401, "invalid_credentials"), "{}", body.message);
    // The hand-in is stored and signed for, too.
    save_stored(&pc1, "S1", 3, true).await;

    // Results and proces-verbaal: stored, shown as after the end, not "ingeleverd".
    let db = open_db(&hub).await;
    let results = reports::results(&db, "S1").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "1002").unwrap();
    assert_eq!(row.status.label(), "ingeleverd na beëindiging (telt niet)");
    assert!(row.outside_time.iter().any(|t| t.contains("inlevering 3") && t.contains("na beëindiging")), "{:?}", row.outside_time);
    assert!(row.outside_time.iter().all(|t| t.contains("niet te controleren")), "no journal arrived: {:?}", row.outside_time);
    let line = csv_line(&results, "1002");
    assert!(line.ends_with(",ingeleverd na beëindiging (telt niet)"), "{line}");
    let pv = reports::proces_verbaal(&db, "S1").await.unwrap();
    let seat = pv.seats.iter().find(|s| s.student_number == "1002").unwrap();
    assert_eq!(seat.status, SeatStatus::HandedInOutsideTime(exam_hub::enforcement::Standing::AfterEnd));
    assert_eq!(seat.submitted_ms, None);
    let late: Vec<_> = pv.irregularities.iter().filter(|i| i.category == "buiten de tijd").collect();
    assert_eq!(late.len(), 2, "save 2 and the hand-in: {late:?}");
    assert!(late.iter().all(|i| i.student.as_deref() == Some("1002") && i.description.contains("na beëindiging")));

    // Reopening needs a reason; without one nothing changes.
    let out = hub.cli(&["reopen", "--sitting", "S1", "--student", "1002", "--reason", "  "]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--reason is required"), "{}", String::from_utf8_lossy(&out.stderr));
    let (status, body) = error_of(pc2.login("1002", &code).await).await;
    assert_eq!((status, body.error.as_str()), (403, "exam_ended"));
    // With a reason: the student may log in elsewhere and take the key again.
    hub.cli_ok(&["reopen", "--sitting", "S1", "--student", "1002", "--reason", "onterecht beëindigd"]);
    pc2.login_ok("1002", &code).await;
    assert_eq!(start(&pc2).await.status(), 200);
    // Reopening an exam that is not ended is refused.
    let out = hub.cli(&["reopen", "--sitting", "S1", "--student", "1002", "--reason", "nog eens"]);
    assert!(!out.status.success());
    // Both end and reopen are in the hub's journal of actions, with their reasons.
    let pv = reports::proces_verbaal(&db, "S1").await.unwrap();
    let text = format!("{:?}", pv.irregularities);
    assert!(text.contains("fraude vermoed") && text.contains("onterecht beëindigd"), "{text}");
}
on_both_backends!(end_is_enforced_until_reopened);

/// An invigilator's console session: (cookie, CSRF token).
async fn console_login(hub: &TestHub) -> (reqwest::Client, String, String) {
    let mut cmd = Command::new(exe());
    cmd.args(["account", "add", "--username", "jan", "--name", "Jan Surveillant", "--role", "invigilator", "--room", ROOM, "--data"])
        .arg(hub.data());
    if let Some(db) = &hub.database {
        cmd.args(["--database", db]);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"een lang genoeg wachtwoord 7\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "account add: {}", String::from_utf8_lossy(&out.stderr));
    let client = hub.anonymous();
    let resp = client
        .post(hub.url("/console/api/login"))
        .json(&json!({"username": "jan", "password": "een lang genoeg wachtwoord 7"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let me: serde_json::Value = resp.json().await.unwrap();
    (client, cookie, me["csrf_token"].as_str().unwrap().to_string())
}

/// A console action on a seat, with the version the room view shows.
async fn console_act(hub: &TestHub, session: &(reqwest::Client, String, String), action: &str, student: &str, reason: &str) -> reqwest::Response {
    let (client, cookie, csrf) = session;
    let view: serde_json::Value = client
        .get(hub.url(&format!("/console/api/rooms/{ROOM}")))
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seat = view["seats"].as_array().unwrap().iter().find(|s| s["key"] == format!("S1/{student}")).unwrap().clone();
    client
        .post(hub.url(&format!("/console/api/rooms/{ROOM}/actions")))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .json(&json!({"action": action, "sitting_id": "S1", "student_number": student, "version": seat["version"], "reason": reason}))
        .send()
        .await
        .unwrap()
}

async fn pause_and_console_end(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc1 = hub.enrol(ROOM).await;
    let mut pc2 = hub.enrol(ROOM).await;
    let code = hub.code("S1", "1001");
    pc1.login_ok("1001", &code).await;
    save_stored(&pc1, "S1", 1, false).await;
    hub.cli_ok(&["instruct", "--action", "pause", "--sitting", "S1", "--student", "1001", "--reason", "brandalarm"]);
    // A save while paused is stored, but does not count.
    save_stored(&pc1, "S1", 2, false).await;
    hub.cli_ok(&["instruct", "--action", "resume", "--sitting", "S1", "--student", "1001", "--reason", "alarm voorbij"]);
    save_stored(&pc1, "S1", 3, false).await;
    let db = open_db(&hub).await;
    let results = reports::results(&db, "S1").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "1001").unwrap();
    assert_eq!(row.status, reports::ResultStatus::NotSubmitted);
    assert_eq!(row.outside_time.len(), 1, "{:?}", row.outside_time);
    assert!(row.outside_time[0].contains("opslag 2") && row.outside_time[0].contains("tijdens pauze"), "{:?}", row.outside_time);
    let pv = reports::proces_verbaal(&db, "S1").await.unwrap();
    assert!(
        pv.irregularities.iter().any(|i| i.category == "buiten de tijd" && i.description.contains("tijdens pauze")),
        "{:?}",
        pv.irregularities
    );

    // The console's end and reopen: the same enforcement, the reason required.
    let console = console_login(&hub).await;
    let resp = console_act(&hub, &console, "end", "1001", "telefoon gebruikt").await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let (status, body) = error_of(pc2.login("1001", &code).await).await;
    assert_eq!((status, body.error.as_str()), (403, "exam_ended"));
    assert_eq!(error_of(start(&pc1).await).await.0, 403);
    let resp = console_act(&hub, &console, "reopen", "1001", "").await;
    assert_eq!(resp.status(), 400, "a reopen without a reason: {}", resp.text().await.unwrap());
    assert_eq!(error_of(pc2.login("1001", &code).await).await.0, 403, "nothing changed");
    let resp = console_act(&hub, &console, "reopen", "1001", "verkeerde student beëindigd").await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    pc2.login_ok("1001", &code).await;
    assert_eq!(start(&pc2).await.status(), 200);
}
on_both_backends!(pause_and_console_end);

/// A kiosk journal with `events`, signed with the kiosk's device key; its frames.
/// A kiosk's journal, open from one start of the kiosk to its close (each
/// opening is a restart of the kiosk: a new epoch).
struct KioskJournal {
    journal: exam_journal::Journal,
    dir: std::path::PathBuf,
}

impl KioskJournal {
    fn open(dir: &std::path::Path, kiosk: &Kiosk) -> Self {
        let key = exam_journal::SigningKey::from_pkcs8(&kiosk.device_pkcs8).unwrap();
        Self { journal: exam_journal::Journal::open(dir, key, exam_journal::JournalConfig::default()).unwrap(), dir: dir.to_path_buf() }
    }

    fn write(&mut self, events: &[(&str, serde_json::Value)]) {
        for (kind, payload) in events {
            self.journal.append(&exam_journal::Event::new(kind, payload).unwrap()).unwrap();
        }
    }

    /// Closes it; every frame of the journal so far.
    fn close(self) -> Vec<Vec<u8>> {
        self.journal.close().unwrap();
        exam_journal::read_records(&self.dir).unwrap().into_iter().map(|(_, r)| r.frame).collect()
    }
}

/// Starts the kiosk's journal, writes `events`, closes it: its frames.
fn kiosk_journal(dir: &std::path::Path, kiosk: &Kiosk, events: &[(&str, serde_json::Value)]) -> Vec<Vec<u8>> {
    let mut journal = KioskJournal::open(dir, kiosk);
    journal.write(events);
    journal.close()
}

async fn offline_answers_made_in_time_count(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    // Offline: the kiosk saves, its upload fails, and its signed journal says so (clock checked against the hub).
    let frames = kiosk_journal(
        &hub.path("journal-pc"),
        &pc,
        &[
            ("clock.checked", json!({"kiosk_ms": 1, "hub_ms": 1, "skew_ms": 0, "tolerance_ms": 120000})),
            ("session.login", json!({"student": "1001", "sitting": "S1"})),
            ("answers.upload_failed", json!({"seq": 1, "reason": "de examenserver is niet bereikbaar"})),
        ],
    );
    // Meanwhile the invigilator ends the exam; the kiosk comes back afterwards.
    hub.cli_ok(&["instruct", "--action", "end", "--sitting", "S1", "--student", "1001", "--reason", "tijd voorbij"]);
    save_stored(&pc, "S1", 1, false).await;
    save_stored(&pc, "S1", 2, true).await;
    let db = open_db(&hub).await;
    // Before its journal arrives the hub cannot check: after the end, said so.
    let results = reports::results(&db, "S1").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "1001").unwrap();
    assert_eq!(row.status.label(), "ingeleverd na beëindiging (telt niet)");
    assert!(row.outside_time.iter().all(|t| t.contains("niet te controleren")), "{:?}", row.outside_time);
    // With the journal: the answers were made before the end, and they count.
    let resp = pc.post(paths::JOURNAL, &b64(&frames)).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let results = reports::results(&db, "S1").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "1001").unwrap();
    assert_eq!(row.status, reports::ResultStatus::Submitted, "{:?}", row.outside_time);
    assert!(row.outside_time.is_empty(), "{:?}", row.outside_time);
    assert!(csv_line(&results, "1001").ends_with(",ingeleverd"), "{}", csv_line(&results, "1001"));
    let pv = reports::proces_verbaal(&db, "S1").await.unwrap();
    let seat = pv.seats.iter().find(|s| s.student_number == "1001").unwrap();
    assert_eq!(seat.status, SeatStatus::Submitted);
    // Still: no new login and no key after the end.
    assert_eq!(error_of(start(&pc).await).await.1.error, "exam_ended");
}
on_both_backends!(offline_answers_made_in_time_count);

/// Issue 14 (H1): a kiosk offline across an end keeps saving (it did not
/// hear of the end); when it comes back, its newest save and its hand-in
/// are after the end — but the work it made before the end still counts:
/// the upload carries every change since the hub's last receipt, the hub
/// rebuilds the answers at each save, and the journal dates them. Before,
/// only the newest answers arrived, and the in-time work was lost.
async fn offline_work_made_before_an_end_counts_when_the_last_save_is_late(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    save_stored(&pc, "S1", 1, false).await;
    let held = upload("S1", 1, false).answers;
    let save = |seq: u64, item: &str, value: &str| AnswerChange::Save { seq, item: item.into(), response: "RESPONSE".into(), value: value.into() };
    let changes = vec![save(2, "ITM-1", "B"), save(3, "ITM-2", "C"), save(4, "ITM-1", "na het einde"), AnswerChange::Final { seq: 5 }];
    // Offline, in time: saves 2 and 3 (their uploads fail; the journal says when).
    let journal = hub.path("journal-pc");
    let event = |seq: u64| ("answers.upload_failed", json!({"seq": seq, "reason": "de examenserver is niet bereikbaar"}));
    kiosk_journal(
        &journal,
        &pc,
        &[
            ("clock.checked", json!({"kiosk_ms": 1, "hub_ms": 1, "skew_ms": 0, "tolerance_ms": 120000})),
            ("session.login", json!({"student": "1001", "sitting": "S1"})),
            event(2),
            event(3),
        ],
    );
    hub.cli_ok(&["instruct", "--action", "end", "--sitting", "S1", "--student", "1001", "--reason", "tijd voorbij"]);
    // Still offline: save 4 after the end, then the hand-in.
    let frames = kiosk_journal(&journal, &pc, &[event(4), event(5)]);
    let final_upload = AnswerUpload {
        sitting_id: "S1".into(),
        seq: 5,
        final_submission: true,
        answers: answers_after(&held, &changes).unwrap(),
        changes: changes.clone(),
    };
    // Changes that do not lead to the answers sent are refused, and nothing is stored.
    let mut forged = final_upload.clone();
    forged.changes[1] = save(3, "ITM-2", "D");
    let (status, body) = error_of(pc.post(paths::ANSWERS, &forged).await).await;
    assert_eq!((status, body.error.as_str()), (422, "changes_do_not_match"), "{}", body.message);
    let mut gap = final_upload.clone();
    gap.changes.remove(1);
    assert_eq!(error_of(pc.post(paths::ANSWERS, &gap).await).await.1.error, "invalid_changes");
    // The kiosk is back: one upload with its backlog, then its journal.
    let resp = pc.post(paths::ANSWERS, &final_upload).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let resp = pc.post(paths::JOURNAL, &b64(&frames)).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    let db = open_db(&hub).await;
    let classified = exam_hub::enforcement::classify_sitting(&db.pool, "S1").await.unwrap();
    let saves = &classified["1001"].saves;
    let standing: Vec<(i64, &str)> = saves.iter().map(|s| (s.seq, s.standing.label())).collect();
    assert_eq!(
        standing,
        [(1, "op tijd"), (2, "op tijd"), (3, "op tijd"), (4, "na beëindiging"), (5, "na beëindiging")],
        "every save, judged by when the journal says it was made"
    );
    let counted = exam_hub::enforcement::Counted::of(saves).counted.unwrap();
    assert_eq!(counted.seq, 3, "the newest save made before the end counts");
    let answers: serde_json::Value =
        serde_json::from_str(&exam_hub::enforcement::load_answers(&db.pool, "S1", "1001", 3).await.unwrap().unwrap()).unwrap();
    assert_eq!(answers["responses"], json!({"ITM-1": {"RESPONSE": "B"}, "ITM-2": {"RESPONSE": "C"}}));
    assert_eq!(answers["seq"], 3);
    let results = reports::results(&db, "S1").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "1001").unwrap();
    assert_eq!(row.status.label(), "ingeleverd na beëindiging (telt niet)");
    // A retried upload gets the same receipt; the history is not stored twice.
    let again = pc.post(paths::ANSWERS, &final_upload).await;
    assert_eq!(again.status(), 200);
}
on_both_backends!(offline_work_made_before_an_end_counts_when_the_last_save_is_late);

/// Issue 19: the kladblok and the markeerstift travel as `note` changes; the
/// hub rebuilds the answers with them as sent and keeps them apart from the
/// responses, and refuses a note that is not one (no answers smuggled in as
/// notes, no scratchpad beyond its limit).
async fn notes_are_taken_with_the_answers_and_checked(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    save_stored(&pc, "S1", 1, false).await;
    let held = upload("S1", 1, false).answers;
    let note = |seq: u64, kind: NoteKind, value: serde_json::Value| AnswerChange::Note { seq, item: "ITM-1".into(), note: kind, value };
    let changes = vec![note(2, NoteKind::Scratchpad, json!("eerst 8 x 3")), note(3, NoteKind::Highlights, json!([[0, 5]]))];
    let with_notes = AnswerUpload { sitting_id: "S1".into(), seq: 3, final_submission: false, answers: answers_after(&held, &changes).unwrap(), changes };
    for (bad, why) in [
        (note(2, NoteKind::Scratchpad, json!({"RESPONSE": "B"})), "an answer as a note"),
        (note(2, NoteKind::Highlights, json!([[5, 1]])), "a mark that ends before it starts"),
        (note(2, NoteKind::Scratchpad, json!("x".repeat(exam_protocol::MAX_SCRATCHPAD_CHARS + 1))), "a scratchpad beyond its limit"),
    ] {
        let forged = AnswerUpload { seq: 2, answers: answers_after(&held, std::slice::from_ref(&bad)).unwrap(), changes: vec![bad], ..with_notes.clone() };
        let (status, body) = error_of(pc.post(paths::ANSWERS, &forged).await).await;
        assert!(status == 400 && ["invalid_changes", "invalid_field"].contains(&body.error.as_str()), "{why}: {status} {}: {}", body.error, body.message);
    }
    // Notes in a snapshot are checked too, with or without changes.
    let mut smuggled = upload("S1", 2, false);
    smuggled.answers["notes"] = json!({"ITM-1": {"scratchpad": {"RESPONSE": "B"}}});
    let (status, body) = error_of(pc.post(paths::ANSWERS, &smuggled).await).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_field"), "{}", body.message);
    let resp = pc.post(paths::ANSWERS, &with_notes).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let db = open_db(&hub).await;
    let mut conn = db.pool.acquire().await.unwrap();
    let stored: serde_json::Value = serde_json::from_str(&exam_hub::answer_history::answers_at(&mut conn, "S1", "1001", 3).await.unwrap().unwrap()).unwrap();
    assert_eq!(stored["notes"], json!({"ITM-1": {"scratchpad": "eerst 8 x 3", "highlights": [[0, 5]]}}));
    assert_eq!(stored["responses"], held["responses"], "a note is no answer");
}
on_both_backends!(notes_are_taken_with_the_answers_and_checked);

/// A kiosk clock `SKEW_MS` ahead of the hub's, as its journal says: the hub
/// reads the journal's times that much earlier. The tests use it to place a
/// PC's stops more than the hub's answer grace before a save without
/// waiting a minute, and move the hub's own session records back to match.
const SKEW_MS: i64 = 100_000;

fn clock_checked() -> (&'static str, serde_json::Value) {
    ("clock.checked", json!({"kiosk_ms": SKEW_MS, "hub_ms": 0, "skew_ms": SKEW_MS, "tolerance_ms": 120000}))
}

fn transition(from: &str, to: &str, cause: serde_json::Value) -> (&'static str, serde_json::Value) {
    ("session.transition", json!({"from": from, "to": to, "cause": cause}))
}

/// Moves the hub's session records of `sitting` back by [`SKEW_MS`] (see there).
async fn sessions_as_the_skewed_journal_sees_them(db: &Db, sitting: &str) {
    sqlx::query("UPDATE sessions SET created_ms = created_ms - $1, revoked_ms = revoked_ms - $1 WHERE sitting_id = $2")
        .bind(SKEW_MS)
        .bind(sitting)
        .execute(&db.pool)
        .await
        .unwrap();
}

/// Sets `sitting` (of `minutes`) to have ended, with the hub's answer grace,
/// `before_ms` before `received_ms`.
async fn time_ended_before(db: &Db, sitting: &str, minutes: i64, received_ms: i64, before_ms: i64) {
    sqlx::query("UPDATE sittings SET start_ms = $1, started_ms = NULL WHERE sitting_id = $2")
        .bind(received_ms - before_ms - exam_hub::enforcement::ANSWER_GRACE_MS - minutes * 60_000)
        .bind(sitting)
        .execute(&db.pool)
        .await
        .unwrap();
}

/// Issue 14 (H2): the kiosk's exam clock stands still while the PC is
/// locked and while it is down after a crash, until an invigilator unlocks
/// or confirms the resume; the hub gives that time back too, from the PC's
/// signed journal, and says so in the reports. Before, the hub did not, and
/// an honest student who used the time the kiosk gave back was judged "na
/// de eindtijd". (The lock and the restart here last a second each: real
/// time in the journal.)
async fn the_time_a_pc_stood_still_for_a_lock_or_a_restart_is_given_back(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    let code = plan_sitting(&hub, &db, "STOP", "7004", 5, 90).await;
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("7004", &code).await;
    let journal = hub.path("journal-stop");
    let mut running = KioskJournal::open(&journal, &pc);
    running.write(&[
        clock_checked(),
        ("session.login", json!({"student": "7004", "sitting": "STOP"})),
        transition("waiting_for_start", "in_exam", json!({"trigger": "exam_started"})),
        transition("in_exam", "locked", json!({"trigger": "lock", "reason": "Het programma 'discord' is gestart."})),
    ]);
    std::thread::sleep(Duration::from_secs(1));
    running.write(&[transition("locked", "in_exam", json!({"trigger": "unlock", "by": "J. de Vries", "reason": "gecontroleerd"}))]);
    running.close();
    // The PC goes down (the journal's last record), and comes back a second later.
    std::thread::sleep(Duration::from_secs(1));
    let frames = kiosk_journal(
        &journal,
        &pc,
        &[
            transition("boot", "resume", json!({"trigger": "unfinished_session_found"})),
            ("session.resumed", json!({"sitting": "STOP", "answers_saved": 0, "clock_stopped_ms": 500})),
            transition("resume", "in_exam", json!({"trigger": "resume_confirmed", "by": "J. de Vries", "into": "in_exam"})),
        ],
    );
    let receipt = save_stored(&pc, "STOP", 1, false).await;
    sessions_as_the_skewed_journal_sees_them(&db, "STOP").await;
    // The student's time (with the hub's grace) ended a second before the
    // save arrived — 1.5 s before, had the PC not stood still.
    time_ended_before(&db, "STOP", 90, receipt.time_ms, 1_000).await;
    let standing = || async {
        let seat = exam_hub::enforcement::classify_sitting(&db.pool, "STOP").await.unwrap().remove("7004").unwrap();
        (seat.saves[0].standing.label(), seat.saves[0].basis, seat.given_back_ms)
    };
    let (label, _, given_back) = standing().await;
    assert_eq!((label, given_back), ("na de eindtijd", 0), "without the PC's journal the hub cannot know");
    let resp = pc.post(paths::JOURNAL, &b64(&frames)).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let (label, basis, given_back) = standing().await;
    assert_eq!((label, basis), ("op tijd", exam_hub::enforcement::Basis::ClockStopped), "the lock and the restart are given back");
    // The lock (a second) and of the restart (a second) only what the kiosk
    // says its clock stood still (0.5 s).
    assert!((1_500..1_900).contains(&given_back), "{given_back} ms");
    // The reports say so.
    let pv = reports::proces_verbaal(&db, "STOP").await.unwrap();
    assert!(pv.irregularities.iter().any(|i| i.category == "tijd teruggegeven" && i.student.as_deref() == Some("7004")), "{:?}", pv.irregularities);
    let results = reports::results(&db, "STOP").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "7004").unwrap();
    assert!(row.outside_time.iter().any(|t| t.contains("stilstaande examenklok")), "{:?}", row.outside_time);
}
on_both_backends!(the_time_a_pc_stood_still_for_a_lock_or_a_restart_is_given_back);

/// Issue 14 (review of H2): only a PC that held the student's session gives
/// time back. The student's first PC is locked, the student moves on to
/// another PC, and the first PC is unlocked two seconds later: that lock
/// is not the student's time any more. Before, the whole lock was given back.
async fn a_pc_the_student_left_gives_no_time_back(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    let code = plan_sitting(&hub, &db, "LEFT", "7005", 5, 90).await;
    let mut first = hub.enrol(ROOM).await;
    let mut second = hub.enrol(ROOM).await;
    first.login_ok("7005", &code).await;
    let mut running = KioskJournal::open(&hub.path("journal-left"), &first);
    running.write(&[
        clock_checked(),
        ("session.login", json!({"student": "7005", "sitting": "LEFT"})),
        transition("waiting_for_start", "in_exam", json!({"trigger": "exam_started"})),
        transition("in_exam", "locked", json!({"trigger": "lock", "reason": "Het programma 'discord' is gestart."})),
    ]);
    second.login_ok("7005", &code).await;
    std::thread::sleep(Duration::from_secs(2));
    running.write(&[transition("locked", "in_exam", json!({"trigger": "unlock", "by": "J. de Vries", "reason": "vergissing"}))]);
    let frames = running.close();
    let resp = first.post(paths::JOURNAL, &b64(&frames)).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let receipt = save_stored(&second, "LEFT", 1, false).await;
    sessions_as_the_skewed_journal_sees_them(&db, "LEFT").await;
    time_ended_before(&db, "LEFT", 90, receipt.time_ms, 1_000).await;
    let seat = exam_hub::enforcement::classify_sitting(&db.pool, "LEFT").await.unwrap().remove("7005").unwrap();
    assert!(seat.given_back_ms < 1_000, "the first PC's lock after the move is not the student's: {} ms", seat.given_back_ms);
    assert_eq!(seat.saves[0].standing.label(), "na de eindtijd");
}
on_both_backends!(a_pc_the_student_left_gives_no_time_back);

/// A session lasts as long as the student's seat: an offline PC that comes
/// back after its session expired (an hour past the end) still delivers the
/// answers it kept (stored with a receipt, classified), while everything
/// else over that session is refused; when the invigilator adds time, the
/// session is valid again and instructions reach the PC.
async fn a_session_lives_as_long_as_the_seat(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    let code = plan_sitting(&hub, &db, "LONG", "7003", 5, 90).await;
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("7003", &code).await;
    // The student's time ended more than an hour ago (the planning moved
    // back), and the session's expiry set at login has passed.
    sqlx::query("UPDATE sittings SET start_ms = start_ms - $1 WHERE sitting_id = 'LONG'")
        .bind(180 * 60_000i64)
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET expires_ms = $1 WHERE student_number = '7003'")
        .bind(exam_hub::now_ms() - 1)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(pc.get(paths::ASSIGNMENT).await.status(), 401, "an expired session");
    save_stored(&pc, "LONG", 1, false).await;
    let results = reports::results(&db, "LONG").await.unwrap();
    assert_eq!(results.rows[0].status, reports::ResultStatus::NotSubmitted, "the save is stored");
    // Time added: the session is valid again, and an instruction reaches the PC.
    sqlx::query("UPDATE candidates SET added_minutes = 240 WHERE sitting_id = 'LONG' AND student_number = '7003'")
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(pc.get(paths::ASSIGNMENT).await.status(), 200, "valid again");
    let id = hub.cli_ok(&["instruct", "--action", "lock", "--sitting", "LONG", "--student", "7003", "--reason", "controle"]);
    let id = id.trim();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !heartbeat(&pc).await.pending_instructions.iter().any(|i| i.id == id) {
        assert!(Instant::now() < deadline, "the instruction never reached the PC");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The student logged in on another PC: the old PC's token is refused
    // for everything but answers; what the old PC still sends (it kept
    // saving, offline) is stored apart with its receipt, shown in the
    // results, and not counted — the student continued from the hub's copy.
    // Before, it was refused and stayed on the old PC.
    let mut other = hub.enrol(ROOM).await;
    other.login_ok("7003", &code).await;
    assert_eq!(pc.get(paths::ASSIGNMENT).await.status(), 401);
    let kept = save_stored(&pc, "LONG", 2, false).await;
    assert_eq!(save_stored(&pc, "LONG", 2, false).await, kept, "a retry gets the same receipt");
    // The receipt says so, under the hub's signature (before, it looked like any other).
    assert!(kept.kept_apart);
    let hub_key = pc.enrolled.hub_signing_public_key.clone();
    kept.verify(&hub_key).unwrap();
    assert!(AnswerReceipt { kept_apart: false, ..kept.clone() }.verify(&hub_key).is_err());
    let mut changed = upload("LONG", 2, false);
    changed.answers["responses"]["ITM-1"]["RESPONSE"] = json!("iets anders");
    assert_eq!(error_of(pc.post(paths::ANSWERS, &changed).await).await.1.error, "conflicting_answers");
    save_stored(&other, "LONG", 2, false).await;
    save_stored(&other, "LONG", 3, true).await;
    let results = reports::results(&db, "LONG").await.unwrap();
    let row = &results.rows[0];
    let apart: Vec<&String> = row.outside_time.iter().filter(|l| l.contains("apart bewaard")).collect();
    assert_eq!(apart.len(), 1, "{:?}", row.outside_time);
    assert!(apart[0].starts_with("1 opslag(en) tot en met 2 van pc "), "{}", apart[0]);
    // The console's room page says so at the seat.
    let keys = exam_hub::pki::Keys::load(&hub.data()).unwrap();
    let mut cache = exam_hub::console::room::EventCache::default();
    let view = exam_hub::console::room::load(&db.pool, &keys, ROOM, exam_hub::now_ms(), &mut cache).await.unwrap();
    let seat = view.seats.iter().find(|s| s.sitting_id == "LONG" && s.student_number == "7003").unwrap();
    let note = seat.answers_note.as_deref().unwrap_or_default();
    assert!(note.contains("1 opslag(en) van een pc die de student verliet: apart bewaard, telt niet"), "{note}");
}
on_both_backends!(a_session_lives_as_long_as_the_seat);

/// Imports one more sitting `id` in the test room for `student`, started
/// `started_min_ago` minutes ago, of `duration` minutes; returns the access code.
async fn plan_sitting(hub: &TestHub, db: &Db, id: &str, student: &str, started_min_ago: i64, duration: i64) -> String {
    let keys = exam_hub::pki::Keys::load(&hub.data()).unwrap();
    let start = (time::OffsetDateTime::now_utc() - time::Duration::minutes(started_min_ago))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let csv = format!(
        "student_number,student_name,sitting,exam,instrument,room,start,duration_minutes\n\
         {student},Student {student},{id},Rekenen 3F,inst-a,{ROOM},{start},{duration}\n"
    );
    let summary = exam_hub::planning::import_planning(db, &keys, &csv, "late.csv", false).await.unwrap();
    summary.codes.into_iter().find(|c| c.sitting == id).unwrap().code
}

async fn the_sittings_window(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    // A sitting whose end was 40 minutes ago: no first login, so no key either.
    let code = plan_sitting(&hub, &db, "OVER", "7001", 130, 90).await;
    let mut pc = hub.enrol(ROOM).await;
    let (status, body) = error_of(pc.login("7001", &code).await).await;
    assert_eq!((status, body.error.as_str()), (403, "sitting_over"), "{}", body.message);

    // Within its time the student logs in; when the time is over (the
    // planning moved the start back), the key is refused and a hand-in is
    // stored but counted after the end time.
    let code = plan_sitting(&hub, &db, "LATE", "7002", 5, 90).await;
    pc.login_ok("7002", &code).await;
    assert_eq!(start(&pc).await.status(), 200);
    save_stored(&pc, "LATE", 1, false).await;
    sqlx::query("UPDATE sittings SET start_ms = start_ms - $1 WHERE sitting_id = 'LATE'")
        .bind(125 * 60_000i64)
        .execute(&db.pool)
        .await
        .unwrap();
    let (status, body) = error_of(start(&pc).await).await;
    assert_eq!((status, body.error.as_str()), (403, "sitting_over"), "{}", body.message);
    save_stored(&pc, "LATE", 2, false).await;
    save_stored(&pc, "LATE", 3, true).await;
    let results = reports::results(&db, "LATE").await.unwrap();
    assert_eq!(results.rows[0].status.label(), "ingeleverd na de eindtijd (telt niet)");
    let pv = reports::proces_verbaal(&db, "LATE").await.unwrap();
    assert!(!pv.irregularities.is_empty(), "not 'Geen handelingen of onregelmatigheden'");
    assert!(pv.irregularities.iter().any(|i| i.description.contains("na de eindtijd")), "{:?}", pv.irregularities);

    // A hand-in before the sitting started is refused (and changes nothing); a save is stored.
    let mut early = hub.enrol(ROOM).await;
    early.login_ok("1003", &hub.code("S2", "1003")).await;
    let (status, body) = error_of(early.post(paths::ANSWERS, &upload("S2", 1, true)).await).await;
    assert_eq!((status, body.error.as_str()), (425, "not_started"), "{}", body.message);
    let latest: LatestAnswers = early.get(paths::ANSWERS_LATEST).await.json().await.unwrap();
    assert_eq!(latest.seq, 0, "nothing stored");
    let receipt = save_stored(&early, "S2", 1, false).await;
    assert!(!receipt.final_submission);
}
on_both_backends!(the_sittings_window);

#[test]
fn the_grace_setting_is_checked_where_hub_toml_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("hub");
    let out = Command::new(exe()).args(["init", "--data"]).arg(&data).args(["--name", "127.0.0.1", "--listen", "127.0.0.1:0"]).output().unwrap();
    assert!(out.status.success());
    let path = data.join("hub.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("sitting-grace-minutes = 500\n");
    std::fs::write(&path, &text).unwrap();
    let line = text.lines().count();
    let out = Command::new(exe()).args(["serve", "--data"]).arg(&data).output().unwrap();
    assert!(!out.status.success(), "an invalid grace must stop the hub");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("hub.toml:{line}:25")), "{err}");
    assert!(err.contains("sitting-grace-minutes must be 0 to 120 minutes, not 500"), "{err}");
}

async fn instructions_belong_to_a_session(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    // Extra time for Anna, while her PC is off (nothing acknowledges it).
    let for_anna = hub.cli_ok(&["instruct", "--action", "add-time", "--minutes", "10", "--sitting", "S1", "--student", "1001", "--reason", "storing"]);
    let for_anna = for_anna.trim().to_string();
    // Bram logs in on that PC; an instruction for him arrives ...
    let login = pc.login_ok("1002", &hub.code("S1", "1002")).await;
    assert_eq!(login.assignment.total_minutes, 90, "Bram's own time");
    let for_bram = hub.cli_ok(&["instruct", "--action", "lock", "--sitting", "S1", "--student", "1002", "--reason", "telefoon"]);
    let for_bram = for_bram.trim().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    let pending = loop {
        let ack = heartbeat(&pc).await;
        if ack.pending_instructions.iter().any(|i| i.id == for_bram) {
            break ack.pending_instructions;
        }
        assert!(Instant::now() < deadline, "Bram's instruction never arrived: {:?}", ack.pending_instructions);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // ... scoped to his session, and Anna's extra time is not among them.
    assert!(pending.iter().all(|i| i.id != for_anna), "Anna's extra time must not reach Bram: {pending:?}");
    let mine = pending.iter().find(|i| i.id == for_bram).unwrap();
    assert_eq!(
        mine.session,
        Some(InstructionScope { sitting_id: "S1".into(), student_number: "1002".into() }),
        "scoped to Bram's session"
    );
    // Anna logs in again (on this PC): her extra time is in her assignment, and the instruction is hers again.
    let login = pc.login_ok("1001", &hub.code("S1", "1001")).await;
    assert_eq!(login.assignment.total_minutes, 90 + 15 + 10);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ack = heartbeat(&pc).await;
        if ack.pending_instructions.iter().any(|i| i.id == for_anna) {
            assert!(ack.pending_instructions.iter().all(|i| i.id != for_bram), "{:?}", ack.pending_instructions);
            break;
        }
        assert!(Instant::now() < deadline, "Anna's instruction did not come back with her session");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
on_both_backends!(instructions_belong_to_a_session);

/// Polls the PC's heartbeat until `pending(ids)` holds, or fails after 10 s.
async fn until_pending(pc: &Kiosk, what: &str, pending: impl Fn(&[Instruction]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pending(&heartbeat(pc).await.pending_instructions) {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A reopen really reopens (issue 14 point 2 follow-up, H3): the PC that was
/// off at the end never gets the end instruction after the reopen (it is
/// withdrawn, kept and named in the journal of actions); the student logs in
/// elsewhere, the hub's copy of the answers is not "handed in", and the
/// saves and the hand-in after the reopen are stored and count, while the
/// hand-in after the end stays stored and is shown as not counting.
async fn reopen_really_reopens(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc1 = hub.enrol(ROOM).await;
    let mut pc2 = hub.enrol(ROOM).await;
    let code = hub.code("S1", "1002");
    pc1.login_ok("1002", &code).await;
    assert_eq!(start(&pc1).await.status(), 200);
    save_stored(&pc1, "S1", 1, false).await;
    let end_id = hub.cli_ok(&["instruct", "--action", "end", "--sitting", "S1", "--student", "1002", "--reason", "fraude vermoed"]);
    let end_id = end_id.trim().to_string();
    until_pending(&pc1, "the end never reached the PC", |p| p.iter().any(|i| i.id == end_id)).await;
    // The kiosk saves and hands in after the end (neither counts) ...
    save_stored(&pc1, "S1", 2, false).await;
    save_stored(&pc1, "S1", 3, true).await;
    // ... and the invigilator reopens: the PC, still holding the end, does not get it any more.
    hub.cli_ok(&["reopen", "--sitting", "S1", "--student", "1002", "--reason", "onterecht beëindigd"]);
    until_pending(&pc1, "the end instruction was not withdrawn by the reopen", |p| !p.iter().any(|i| i.id == end_id)).await;
    let db = open_db(&hub).await;
    let body: String = sqlx::query_scalar("SELECT body FROM instructions WHERE instruction_id = $1").bind(&end_id).fetch_one(&db.pool).await.unwrap();
    assert!(body.contains("fraude vermoed"), "the withdrawn instruction is kept: {body}");
    let detail: String = sqlx::query_scalar("SELECT detail FROM console_actions WHERE action = 'reopen'").fetch_one(&db.pool).await.unwrap();
    assert!(detail.contains(&end_id), "the reopen names what it withdrew: {detail}");

    // On another PC: login, key, the hub's copy (not handed in), saves and a hand-in that count.
    pc2.login_ok("1002", &code).await;
    assert_eq!(start(&pc2).await.status(), 200);
    let latest: LatestAnswers = pc2.get(paths::ANSWERS_LATEST).await.json().await.unwrap();
    assert_eq!((latest.seq, latest.final_submission), (3, false), "the reopened exam continues");
    save_stored(&pc2, "S1", 4, false).await;
    save_stored(&pc2, "S1", 5, true).await;
    // Only now handed in again.
    let (status, body) = error_of(pc2.post(paths::ANSWERS, &upload("S1", 6, false)).await).await;
    assert_eq!((status, body.error.as_str()), (409, "already_submitted"));

    let results = reports::results(&db, "S1").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "1002").unwrap();
    assert_eq!(row.status, reports::ResultStatus::Submitted, "{:?}", row.outside_time);
    assert!(row.outside_time.iter().any(|t| t.contains("inlevering 3") && t.contains("na beëindiging")), "{:?}", row.outside_time);
    assert!(csv_line(&results, "1002").ends_with(",ingeleverd"), "{}", csv_line(&results, "1002"));
    let pv = reports::proces_verbaal(&db, "S1").await.unwrap();
    let seat = pv.seats.iter().find(|s| s.student_number == "1002").unwrap();
    assert_eq!(seat.status, SeatStatus::Submitted);
    assert!(pv.irregularities.iter().any(|i| i.category == "buiten de tijd" && i.description.contains("inlevering 3")), "{:?}", pv.irregularities);
}
on_both_backends!(reopen_really_reopens);

/// A room-wide console action, with the sitting's version the room view shows.
async fn console_act_all(hub: &TestHub, session: &(reqwest::Client, String, String), action: &str, reason: &str) -> reqwest::Response {
    let (client, cookie, csrf) = session;
    let view = room_view(hub, session).await;
    let sitting = view["sittings"].as_array().unwrap().iter().find(|s| s["sitting_id"] == "S1").unwrap().clone();
    client
        .post(hub.url(&format!("/console/api/rooms/{ROOM}/actions")))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .json(&json!({"action": action, "sitting_id": "S1", "version": sitting["version"], "reason": reason}))
        .send()
        .await
        .unwrap()
}

async fn room_view(hub: &TestHub, session: &(reqwest::Client, String, String)) -> serde_json::Value {
    let (client, cookie, _) = session;
    client.get(hub.url(&format!("/console/api/rooms/{ROOM}"))).header(reqwest::header::COOKIE, cookie).send().await.unwrap().json().await.unwrap()
}

fn seat_of(view: &serde_json::Value, student: &str) -> serde_json::Value {
    view["seats"].as_array().unwrap().iter().find(|s| s["key"] == format!("S1/{student}")).unwrap().clone()
}

/// After "Beëindigen voor iedereen" one student is reopened: the console
/// shows that seat as not ended and allows actions on it (the others stay
/// ended); a pause the end overtook is over, so saves after the reopen are
/// "op tijd", not "tijdens pauze".
async fn reopen_after_end_all_and_pause(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc1 = hub.enrol(ROOM).await;
    let mut pc2 = hub.enrol(ROOM).await;
    pc1.login_ok("1001", &hub.code("S1", "1001")).await;
    pc2.login_ok("1002", &hub.code("S1", "1002")).await;
    save_stored(&pc1, "S1", 1, false).await;
    let console = console_login(&hub).await;
    let resp = console_act(&hub, &console, "pause", "1001", "naar de wc").await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let resp = console_act_all(&hub, &console, "end_all", "tijd voorbij").await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let resp = console_act(&hub, &console, "lock", "1001", "controle").await;
    assert_eq!(resp.status(), 409, "an ended seat takes no actions: {}", resp.text().await.unwrap());
    let resp = console_act(&hub, &console, "reopen", "1001", "was nog niet klaar door de pauze").await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let view = room_view(&hub, &console).await;
    let (s1, s2) = (seat_of(&view, "1001"), seat_of(&view, "1002"));
    assert_eq!((s1["ended"].as_bool(), s1["paused"].as_bool(), s1["reopened"].as_bool()), (Some(false), Some(false), Some(true)), "{s1}");
    assert_eq!((s2["ended"].as_bool(), s2["reopened"].as_bool()), (Some(true), Some(false)), "{s2}");
    // Actions on the reopened seat work; on the others they are still refused.
    let (client, cookie, csrf) = &console;
    let resp = client
        .post(hub.url(&format!("/console/api/rooms/{ROOM}/actions")))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .json(&json!({"action": "add_time", "sitting_id": "S1", "student_number": "1001", "version": s1["version"], "reason": "pauze", "minutes": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let resp = console_act(&hub, &console, "lock", "1002", "controle").await;
    assert_eq!(resp.status(), 409, "the others stay ended: {}", resp.text().await.unwrap());
    // The student continues: the saves after the reopen count.
    pc1.login_ok("1001", &hub.code("S1", "1001")).await;
    save_stored(&pc1, "S1", 2, false).await;
    save_stored(&pc1, "S1", 3, true).await;
    let db = open_db(&hub).await;
    let results = reports::results(&db, "S1").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "1001").unwrap();
    assert_eq!(row.status, reports::ResultStatus::Submitted, "{:?}", row.outside_time);
    assert!(row.outside_time.is_empty(), "{:?}", row.outside_time);
}
on_both_backends!(reopen_after_end_all_and_pause);

/// At a normal end the kiosk hands in what the student made (M2): a save in
/// flight and the hand-in the hub's end instruction caused, sent before the
/// PC acknowledged that instruction (within a minute of the end), count as
/// made at the end; without that acknowledgement (the fraud case in
/// `end_is_enforced_until_reopened`) they do not.
async fn the_hand_in_an_end_causes_counts(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    assert_eq!(start(&pc).await.status(), 200);
    save_stored(&pc, "S1", 1, false).await;
    let end_id = hub.cli_ok(&["instruct", "--action", "end", "--sitting", "S1", "--student", "1001", "--reason", "tijd voorbij"]);
    let end_id = end_id.trim().to_string();
    // In flight at the end, then the hand-in the end instruction caused, then its acknowledgement.
    save_stored(&pc, "S1", 2, false).await;
    until_pending(&pc, "the end never reached the PC", |p| p.iter().any(|i| i.id == end_id)).await;
    save_stored(&pc, "S1", 3, true).await;
    let db = open_db(&hub).await;
    let results = reports::results(&db, "S1").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "1001").unwrap();
    assert_eq!(row.status.label(), "ingeleverd na beëindiging (telt niet)", "not acknowledged yet");
    let resp = pc.post(paths::INSTRUCTIONS_ACK, &InstructionAck { id: end_id.clone() }).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let results = reports::results(&db, "S1").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "1001").unwrap();
    assert_eq!(row.status, reports::ResultStatus::Submitted, "{:?}", row.outside_time);
    assert!(row.outside_time.is_empty(), "{:?}", row.outside_time);
    let pv = reports::proces_verbaal(&db, "S1").await.unwrap();
    assert_eq!(pv.seats.iter().find(|s| s.student_number == "1001").unwrap().status, SeatStatus::Submitted);
    let classified = exam_hub::enforcement::classify_sitting(&db.pool, "S1").await.unwrap();
    let saves = &classified["1001"].saves;
    assert!(saves.iter().skip(1).all(|s| s.basis == exam_hub::enforcement::Basis::EndInstruction), "{saves:?}");
}
on_both_backends!(the_hand_in_an_end_causes_counts);

/// Issue 14 (review of H1): a hand-in after an end counts as the save
/// before it only when it holds that save's work. Before, a kiosk could put
/// work done after the end into its hand-in and have it judged by the time
/// of its last save in time: "ingeleverd".
async fn a_late_hand_in_counts_only_with_the_work_of_the_save_before_it(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    assert_eq!(start(&pc).await.status(), 200);
    save_stored(&pc, "S1", 1, false).await;
    hub.cli_ok(&["instruct", "--action", "end", "--sitting", "S1", "--student", "1001", "--reason", "tijd voorbij"]);
    // After the end: a hand-in with more work than save 1 (no changes sent, no journal).
    let mut more = upload("S1", 2, true);
    more.answers["responses"]["ITM-2"] = json!({"RESPONSE": "na het einde"});
    let resp = pc.post(paths::ANSWERS, &more).await;
    assert_eq!(resp.status(), 200, "stored (nothing is lost): {}", resp.text().await.unwrap());
    // Another student's PC sends eight saves after the end: the
    // proces-verbaal lists five and sums up the rest.
    let mut other = hub.enrol(ROOM).await;
    other.login_ok("1002", &hub.code("S1", "1002")).await;
    hub.cli_ok(&["instruct", "--action", "end", "--sitting", "S1", "--student", "1002", "--reason", "fraude vermoed"]);
    for seq in 1..=8 {
        save_stored(&other, "S1", seq, false).await;
    }
    let db = open_db(&hub).await;
    let results = reports::results(&db, "S1").await.unwrap();
    let row = results.rows.iter().find(|r| r.student_number == "1001").unwrap();
    assert_eq!(row.status.label(), "ingeleverd na beëindiging (telt niet)", "{:?}", row.outside_time);
    let pv = reports::proces_verbaal(&db, "S1").await.unwrap();
    assert_eq!(pv.seats.iter().find(|s| s.student_number == "1001").unwrap().status, SeatStatus::HandedInOutsideTime(exam_hub::enforcement::Standing::AfterEnd));
    let late: Vec<&str> = pv.irregularities.iter().filter(|i| i.student.as_deref() == Some("1002") && i.category == "buiten de tijd").map(|i| i.description.as_str()).collect();
    assert_eq!(late.len(), 6, "{late:?}");
    assert!(late.iter().any(|d| d.starts_with("en nog 3 opslagen buiten de tijd")), "{late:?}");
}
on_both_backends!(a_late_hand_in_counts_only_with_the_work_of_the_save_before_it);

/// Issue 14 (review of H1): the history the hub rebuilds answers from
/// cannot be rewritten or started from nowhere: a snapshot of a save the
/// hub knows from changes must be those answers; changes over answers the
/// hub never saw are refused (they could never be checked, and were stored
/// unchecked); save numbers are 1 … 2^63 − 1, the snapshot's own must be
/// the upload's, numbers that overflow are refused (not a panic), and one
/// upload carries at most 10,000 changes.
async fn the_answer_history_cannot_be_rewritten(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    save_stored(&pc, "S1", 1, false).await;
    let held = upload("S1", 1, false).answers;
    let save = |seq: u64, value: &str| AnswerChange::Save { seq, item: "ITM-1".into(), response: "RESPONSE".into(), value: value.into() };
    let with_changes = |seq: u64, base: &serde_json::Value, changes: Vec<AnswerChange>| AnswerUpload {
        sitting_id: "S1".into(),
        seq,
        final_submission: false,
        answers: answers_after(base, &changes).unwrap(),
        changes,
    };
    let three = with_changes(3, &held, vec![save(2, "twee"), save(3, "drie")]);
    let resp = pc.post(paths::ANSWERS, &three).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    // Save 2 is known from changes: another snapshot of it is a conflict ...
    let mut other = upload("S1", 2, false);
    other.answers["responses"]["ITM-1"]["RESPONSE"] = json!("iets anders");
    let (status, body) = error_of(pc.post(paths::ANSWERS, &other).await).await;
    assert_eq!((status, body.error.as_str()), (409, "conflicting_answers"), "{}", body.message);
    // ... the same answers are welcome.
    let mut same = upload("S1", 2, false);
    same.answers["responses"]["ITM-1"]["RESPONSE"] = json!("twee");
    assert_eq!(pc.post(paths::ANSWERS, &same).await.status(), 200);
    // Changes that start from a save the hub never saw.
    let nowhere = with_changes(7, &json!({"format": "exam-kiosk-answers/1", "sitting_id": "S1", "instrument_id": "inst-a", "seq": 5,
        "final_submission": false, "responses": {"ITM-1": {"RESPONSE": "verzonnen"}}, "flagged": []}), vec![save(6, "zes"), save(7, "zeven")]);
    let (status, body) = error_of(pc.post(paths::ANSWERS, &nowhere).await).await;
    assert_eq!((status, body.error.as_str()), (409, "unknown_base"), "{}", body.message);
    // Numbers.
    let (status, body) = error_of(pc.post(paths::ANSWERS, &upload("S1", 0, false)).await).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_field"), "save 0: {}", body.message);
    let mut mismatched = upload("S1", 8, false);
    mismatched.answers["seq"] = json!(9);
    let (status, body) = error_of(pc.post(paths::ANSWERS, &mismatched).await).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_field"), "{}", body.message);
    let mut overflow = upload("S1", 8, false);
    overflow.changes = vec![save(u64::MAX, "x"), save(8, "y")];
    let (status, body) = error_of(pc.post(paths::ANSWERS, &overflow).await).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_changes"), "{}", body.message);
    let mut huge = upload("S1", 8, false);
    huge.changes = vec![save(4, &"x".repeat(300 * 1024))];
    let (status, body) = error_of(pc.post(paths::ANSWERS, &huge).await).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_changes"), "a value of 300 KiB: {}", body.message);
    let mut flood = upload("S1", 10_004, false);
    flood.changes = (4..=10_004).map(|seq| save(seq, "x")).collect();
    let (status, body) = error_of(pc.post(paths::ANSWERS, &flood).await).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_changes"), "{}", body.message);
    // A hand-in must end with its hand-in mark, and its answers must say it is one.
    let mut unmarked = with_changes(4, &three.answers, vec![save(4, "vier")]);
    unmarked.final_submission = true;
    let (status, body) = error_of(pc.post(paths::ANSWERS, &unmarked).await).await;
    assert_eq!(status, 400, "{}", body.message);
    unmarked.answers["final_submission"] = json!(true);
    let (status, body) = error_of(pc.post(paths::ANSWERS, &unmarked).await).await;
    assert_eq!((status, body.error.as_str()), (400, "invalid_changes"), "{}", body.message);
    // Nothing of the refused uploads was kept.
    let db = open_db(&hub).await;
    let seqs: Vec<i64> = exam_hub::enforcement::classify_sitting(&db.pool, "S1").await.unwrap()["1001"].saves.iter().map(|s| s.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
}
on_both_backends!(the_answer_history_cannot_be_rewritten);

/// Issue 14 (review of H1): a kiosk that retries an upload while the first
/// is still being stored (or two hub nodes storing the same upload) gets
/// the same receipt, not a server error (PostgreSQL raced to a unique
/// violation: 500).
async fn identical_uploads_at_once_get_one_receipt(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    save_stored(&pc, "S1", 1, false).await;
    let held = upload("S1", 1, false).answers;
    for round in 0..4u64 {
        let base_seq = 1 + round * 3;
        let base = exam_hub::enforcement::load_answers(&open_db(&hub).await.pool, "S1", "1001", base_seq as i64).await.unwrap();
        let base: serde_json::Value = base.map_or(held.clone(), |b| serde_json::from_str(&b).unwrap());
        let changes: Vec<AnswerChange> = (base_seq + 1..=base_seq + 3)
            .map(|seq| AnswerChange::Save { seq, item: format!("ITM-{seq}"), response: "RESPONSE".into(), value: "x".into() })
            .collect();
        let body = AnswerUpload { sitting_id: "S1".into(), seq: base_seq + 3, final_submission: false, answers: answers_after(&base, &changes).unwrap(), changes };
        let sent = futures_util::future::join_all((0..8).map(|_| pc.post(paths::ANSWERS, &body))).await;
        let mut receipts = Vec::new();
        for resp in sent {
            assert_eq!(resp.status(), 200, "round {round}: {}", resp.text().await.unwrap());
            receipts.push(resp.json::<AnswerReceipt>().await.unwrap());
        }
        assert!(receipts.windows(2).all(|w| w[0] == w[1]), "one receipt for one upload");
    }
}
on_both_backends!(identical_uploads_at_once_get_one_receipt);

/// Issue 14 (review): after a hand-in an invigilator reopened, the student
/// goes on from the handed-in answers. Before, every save with its changes
/// was refused for ever (422: the changes followed a hand-in mark), and the
/// kiosk restoring the hub's copy refused every save as handed in.
async fn a_reopened_exam_takes_new_work(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let code = hub.code("S1", "1002");
    let mut pc1 = hub.enrol(ROOM).await;
    pc1.login_ok("1002", &code).await;
    assert_eq!(start(&pc1).await.status(), 200);
    let snap = |seq: u64, fin: bool, value: &str| {
        json!({"format": "exam-kiosk-answers/1", "sitting_id": "S1", "instrument_id": "inst-a", "seq": seq,
               "final_submission": fin, "responses": {"ITM-1": {"RESPONSE": value}}, "flagged": []})
    };
    let save = |seq: u64, value: &str| AnswerChange::Save { seq, item: "ITM-1".into(), response: "RESPONSE".into(), value: value.into() };
    let first = AnswerUpload { sitting_id: "S1".into(), seq: 1, final_submission: false, answers: snap(1, false, "A"), changes: vec![save(1, "A")] };
    assert_eq!(pc1.post(paths::ANSWERS, &first).await.status(), 200);
    hub.cli_ok(&["instruct", "--action", "end", "--sitting", "S1", "--student", "1002", "--reason", "vergissing"]);
    let hand_in = AnswerUpload { sitting_id: "S1".into(), seq: 2, final_submission: true, answers: snap(2, true, "A"), changes: vec![AnswerChange::Final { seq: 2 }] };
    assert_eq!(pc1.post(paths::ANSWERS, &hand_in).await.status(), 200);
    hub.cli_ok(&["reopen", "--sitting", "S1", "--student", "1002", "--reason", "onterecht ingeleverd"]);
    let mut pc2 = hub.enrol(ROOM).await;
    pc2.login_ok("1002", &code).await;
    assert_eq!(start(&pc2).await.status(), 200);
    let latest: LatestAnswers = pc2.get(paths::ANSWERS_LATEST).await.json().await.unwrap();
    assert_eq!((latest.seq, latest.final_submission), (2, false), "the reopened exam goes on");
    // The kiosk restores the hub's copy and can save again.
    let dir = hub.path("answers-pc2");
    let key = kiosk_core::answers::AnswerKey::from_bytes([7; 32]);
    let hub_copy: kiosk_core::answers::AnswerSnapshot = serde_json::from_value(latest.answers.clone()).unwrap();
    let hub_copy = kiosk_core::answers::AnswerSnapshot { final_submission: latest.final_submission && hub_copy.final_submission, ..hub_copy };
    let mut store = kiosk_core::answers::AnswerStore::restore(&dir, &key, &hub_copy).unwrap();
    assert_eq!(store.save("ITM-1", "RESPONSE", json!("B")).unwrap().seq, 3);
    let next = store.pending_upload().unwrap();
    assert_eq!(next.changes, [save(3, "B")]);
    let resp = pc2.post(paths::ANSWERS, &next).await;
    assert_eq!(resp.status(), 200, "work after the reopen is taken: {}", resp.text().await.unwrap());
    let db = open_db(&hub).await;
    let seat = exam_hub::enforcement::classify_sitting(&db.pool, "S1").await.unwrap().remove("1002").unwrap();
    assert_eq!(seat.saves.last().map(|s| (s.seq, s.standing.label())), Some((3, "op tijd")));
}
on_both_backends!(a_reopened_exam_takes_new_work);

/// Issue 14 (review): a journal's clock skew of i64::MIN (forged) made the
/// hub's arithmetic overflow: in a debug build every /start and report of
/// the sitting panicked. A skew beyond a day is no measurement.
async fn a_forged_clock_skew_is_no_measurement(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    let frames = kiosk_journal(
        &hub.path("journal-skew"),
        &pc,
        &[
            ("clock.checked", json!({"kiosk_ms": 0, "hub_ms": 0, "skew_ms": i64::MIN, "tolerance_ms": 120000})),
            ("session.login", json!({"student": "1001", "sitting": "S1"})),
            transition("in_exam", "locked", json!({"trigger": "lock"})),
            transition("locked", "in_exam", json!({"trigger": "unlock", "by": "x"})),
        ],
    );
    assert_eq!(pc.post(paths::JOURNAL, &b64(&frames)).await.status(), 200);
    assert_eq!(start(&pc).await.status(), 200);
    let db = open_db(&hub).await;
    exam_hub::enforcement::classify_sitting(&db.pool, "S1").await.unwrap();
}
on_both_backends!(a_forged_clock_skew_is_no_measurement);
