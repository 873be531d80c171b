//! The store's exam tables (issue 16 point 4) called directly, on SQLite and
//! PostgreSQL: devices and enrolment, planning (a package's bytes, an exam
//! code kept by a re-import), the login counts, sessions, answers and their
//! changes, the archive's optional student columns. What each statement
//! gives back must be the same on both engines.

mod common;

use common::{fresh_db as fresh, Backend};
use exam_hub::store::{answers, devices, planning, sessions};

async fn a_seat_reads_back_the_same_on_both_engines(backend: Backend) {
    let Some((db, _dir)) = fresh(backend).await else { return };
    let pool = &db.pool;

    // Enrolment: a token is used once; a revoked device re-enrols only re-admitted.
    devices::insert_token(pool, "tok", "B2.14", 1, 1_000).await.unwrap();
    let token = devices::token(pool, "tok").await.unwrap().expect("token");
    assert_eq!((token.room.as_str(), token.expires_ms, token.used_ms), ("B2.14", 1_000, None));
    assert_eq!(devices::use_token(pool, "tok", "pc-1", 5).await.unwrap(), 1);
    assert_eq!(devices::use_token(pool, "tok", "pc-2", 6).await.unwrap(), 0, "a token is used once");
    let new = devices::NewDevice { device_id: "pc-1", room: "B2.14", cert_sha256: "c1", device_public_key: "k1", hostname: None, enrolled_ms: 5 };
    assert_eq!(devices::insert(pool, new).await.unwrap(), 1);
    assert_eq!(devices::insert(pool, new).await.unwrap(), 0, "enrolled meanwhile");
    let found = devices::by_cert(pool, "c1").await.unwrap().expect("by certificate");
    assert_eq!((found.device_id.as_str(), found.device_public_key.as_deref(), found.revoked_ms), ("pc-1", Some("k1"), None));
    assert_eq!(devices::hostname_in_room(pool, "pc-1", "B2.14").await.unwrap(), Some(None), "enrolled without a host name");
    assert_eq!(devices::hostname_in_room(pool, "pc-1", "R9").await.unwrap(), None, "not of that room");
    assert_eq!(devices::revoke(pool, "pc-1", 10).await.unwrap(), 1);
    assert_eq!(devices::reenrol(pool, "pc-1", "B2.14", "c2", Some("host"), 11).await.unwrap(), 0, "revoked, not re-admitted");
    devices::readmit(pool, "pc-1", 12).await.unwrap();
    assert_eq!(devices::reenrol(pool, "pc-1", "B2.14", "c2", Some("host"), 13).await.unwrap(), 1);
    assert_eq!(devices::active_of_room(pool, "B2.14").await.unwrap(), vec!["pc-1".to_string()]);

    // Planning: the package's bytes come back as stored; a re-import without
    // an exam code keeps the earlier one.
    let data: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
    let instrument = planning::NewInstrument { instrument_id: "inst", sha256: "sha", content_key: "key", data: &data, imported_ms: 1 };
    planning::upsert_instrument(pool, instrument).await.unwrap();
    assert_eq!(planning::package(pool, "inst").await.unwrap().expect("package").data, data);
    planning::upsert_student(pool, "1001", "Anna").await.unwrap();
    let mut sitting = planning::NewSitting {
        sitting_id: "S1",
        exam: "Rekenen",
        instrument_id: "inst",
        room: "B2.14",
        start_ms: 1_000_000,
        duration_minutes: 90,
        exam_code: Some("RE-2F"),
    };
    planning::upsert_sitting(pool, sitting).await.unwrap();
    sitting.exam_code = None;
    planning::upsert_sitting(pool, sitting).await.unwrap();
    assert_eq!(planning::exam_code(pool, "S1").await.unwrap().as_deref(), Some("RE-2F"));
    let candidate = planning::NewCandidate { sitting_id: "S1", student_number: "1001", extra_minutes: 15, tools: "a;b", text_size: None, contrast: Some("high") };
    planning::insert_candidate(pool, candidate, "hmac").await.unwrap();
    assert!(planning::is_candidate(pool, "S1", "1001").await.unwrap());
    assert!(!planning::is_candidate(pool, "S1", "9999").await.unwrap());
    let assignment = planning::assignment(pool, "S1", "1001").await.unwrap().expect("assignment");
    assert_eq!((assignment.name.as_str(), assignment.size, assignment.extra_minutes, assignment.text_size, assignment.contrast.as_deref()), ("Anna", 259, 15, None, Some("high")));
    assert_eq!(planning::start(pool, "S1", 900_000).await.unwrap(), 1);
    assert_eq!(planning::start(pool, "S1", 950_000).await.unwrap(), 0, "started once");
    let times = planning::seat_times(pool, "S1", "1001").await.unwrap().expect("seat");
    assert_eq!((times.started_ms, times.paused_total_ms, times.ended_ms), (Some(900_000), None, None), "no console row yet");

    // Login counts: counted up to the limit, given back never below zero.
    sessions::ensure_failures(pool, "S1", "1001", "pc-1").await.unwrap();
    sessions::ensure_failures(pool, "S1", "1001", "pc-1").await.unwrap();
    let mut counted = Vec::new();
    for _ in 0..3 {
        counted.push(sessions::count_attempt(pool, "S1", "1001", "pc-1", 2).await.unwrap());
    }
    assert_eq!(counted, vec![Some(1), Some(2), None]);
    sessions::reset_attempts(pool, "S1", "1001", "pc-1").await.unwrap();
    sessions::give_back_attempt(pool, "S1", "1001", "pc-1").await.unwrap();
    assert_eq!(sessions::count_attempt(pool, "S1", "1001", "pc-1", 2).await.unwrap(), Some(1), "never below zero");

    // Sessions.
    assert!(!sessions::student_logged_in(pool, "S1", "1001").await.unwrap());
    assert!(!sessions::sitting_logged_in(pool, "S1").await.unwrap());
    let session = sessions::NewSession {
        token_hash: "t1",
        device_id: "pc-1",
        sitting_id: "S1",
        student_number: "1001",
        created_ms: 20,
        expires_ms: 2_000_000,
        cert_sha256: "c2",
    };
    sessions::insert(pool, session).await.unwrap();
    assert!(sessions::student_logged_in(pool, "S1", "1001").await.unwrap());
    assert!(sessions::sitting_logged_in(pool, "S1").await.unwrap());
    let by_token = sessions::by_token(pool, "t1").await.unwrap().expect("session");
    assert_eq!((by_token.cert_sha256.as_deref(), by_token.revoked_ms), (Some("c2"), None));
    assert_eq!(sessions::current_device(pool, "S1", "1001").await.unwrap().as_deref(), Some("pc-1"));
    assert_eq!(sessions::open_not_handed_in(pool, "S1").await.unwrap().len(), 1);

    // Answers: a save is stored once; a hand-in closes the seat until a
    // reopen; changes skip what is held.
    let save = |seq: i64, final_submission: i64, received_ms: i64| answers::NewSave {
        sitting_id: "S1",
        student_number: "1001",
        seq,
        final_submission,
        answers: "{\"seq\":1}",
        answers_sha256: "h",
        device_id: "pc-1",
        received_ms,
        receipt: "{}",
    };
    assert_eq!(answers::insert(pool, save(1, 0, 30)).await.unwrap(), 1);
    assert_eq!(answers::insert(pool, save(1, 0, 31)).await.unwrap(), 0, "held already");
    assert_eq!(answers::held(pool, "S1", "1001", 1).await.unwrap().expect("held").answers_sha256, "h");
    assert!(answers::hand_ins_since_reopen(pool, "S1", "1001").await.unwrap().is_empty());
    assert_eq!(answers::insert(pool, save(2, 1, 40)).await.unwrap(), 1);
    assert_eq!(answers::hand_ins_since_reopen(pool, "S1", "1001").await.unwrap(), vec![2]);
    assert!(sessions::open_not_handed_in(pool, "S1").await.unwrap().is_empty(), "handed in");
    let latest = answers::latest(pool, "S1", "1001").await.unwrap().expect("latest");
    assert_eq!((latest.seq, latest.final_submission), (2, 1));
    assert_eq!(answers::snapshot_before(pool, "S1", "1001", 2).await.unwrap().as_deref(), Some("{\"seq\":1}"));
    assert_eq!(answers::snapshot_bytes(pool, "S1", "1001").await.unwrap(), 18);
    assert_eq!(answers::insert_changes(pool, "S1", "1001", "pc-1", 50, &[(1, "a"), (2, "bb")]).await.unwrap(), 2);
    assert_eq!(answers::insert_changes(pool, "S1", "1001", "pc-1", 51, &[(2, "xx"), (3, "ccc")]).await.unwrap(), 1, "save 2 is held");
    assert_eq!(answers::change_body(pool, "S1", "1001", 2).await.unwrap(), "bb");
    assert_eq!(answers::change_bodies_between(pool, "S1", "1001", 1, 3).await.unwrap(), vec!["bb".to_string(), "ccc".to_string()]);
    assert_eq!((answers::change_count(pool, "S1", "1001").await.unwrap(), answers::change_bytes(pool, "S1", "1001").await.unwrap()), (3, 6));
    let without: Vec<i64> = answers::saves_without_snapshot(pool, "S1").await.unwrap().iter().map(|s| s.seq).collect();
    assert_eq!(without, vec![3], "saves 1 and 2 have snapshots");

    // The archive: the student columns only when asked for students.
    let page = |students: Option<&'static [String]>| planning::ArchiveQuery { from_ms: None, to_ms: None, room: Some("b2.14"), students, after: None, limit: 10 };
    let rows = planning::archive_page(pool, page(None)).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].expected, rows[0].logged_in, rows[0].handed_in, rows[0].deleted), (1, 1, 1, 0));
    assert_eq!((rows[0].student_number.as_deref(), rows[0].student_handed_in), (None, None));
    let wanted: &'static [String] = Box::leak(Box::new(["1001".to_string()]));
    let rows = planning::archive_page(pool, page(Some(wanted))).await.unwrap();
    assert_eq!(
        (rows[0].student_number.as_deref(), rows[0].student_name.as_deref(), rows[0].student_handed_in, rows[0].student_sessions),
        (Some("1001"), Some("Anna"), Some(1), Some(1))
    );
    db.pool.close().await;
}
on_both_backends!(a_seat_reads_back_the_same_on_both_engines);
