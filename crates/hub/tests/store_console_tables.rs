//! The store's console and record tables (issue 16 point 4) called directly,
//! on SQLite and PostgreSQL: accounts and their sessions, the journal of
//! actions, the console's sitting and seat state, moves and room codes,
//! kiosk journals and alarms, instructions, remarks and deletions. What each
//! statement gives back (optional columns, aggregates, blobs, counts of rows
//! changed) must be the same on both engines.

mod common;

use common::{fresh_db as fresh, Backend};
use exam_hub::db::Db;
use exam_hub::store::rooms::{SeatChange, SittingChange};
use exam_hub::store::{accounts, audit, devices, instructions, journals, planning, records, rooms, sessions};

/// A planned sitting S1 in B2.14 with student 1001 logged in on pc-1.
async fn plan(db: &Db) {
    let pool = &db.pool;
    let new = devices::NewDevice { device_id: "pc-1", room: "B2.14", cert_sha256: "c1", device_public_key: "k1", hostname: Some("pc-01"), enrolled_ms: 1 };
    devices::insert(pool, new).await.unwrap();
    let instrument = planning::NewInstrument { instrument_id: "inst", sha256: "sha", content_key: "key", data: b"zip", imported_ms: 1 };
    planning::upsert_instrument(pool, instrument).await.unwrap();
    planning::upsert_student(pool, "1001", "Anna").await.unwrap();
    let sitting = planning::NewSitting { sitting_id: "S1", exam: "Rekenen", instrument_id: "inst", room: "B2.14", start_ms: 1_000_000, duration_minutes: 90, exam_code: None };
    planning::upsert_sitting(pool, sitting).await.unwrap();
    let candidate = planning::NewCandidate { sitting_id: "S1", student_number: "1001", extra_minutes: 0, tools: "", text_size: None, contrast: None };
    planning::insert_candidate(pool, candidate, "hmac").await.unwrap();
    let session = sessions::NewSession { token_hash: "t1", device_id: "pc-1", sitting_id: "S1", student_number: "1001", created_ms: 1_000_000, expires_ms: 9_000_000, cert_sha256: "c1" };
    sessions::insert(pool, session).await.unwrap();
}

async fn console_tables_read_back_the_same_on_both_engines(backend: Backend) {
    let Some((db, _dir)) = fresh(backend).await else { return };
    let pool = &db.pool;
    plan(&db).await;

    // Accounts: a replaced account is enabled again; sessions end with it.
    accounts::upsert(pool, "jan", "Jan", "invigilator", "hash-1", 1).await.unwrap();
    accounts::add_room(pool, "jan", "B2.14").await.unwrap();
    accounts::add_room(pool, "jan", "A1").await.unwrap();
    accounts::add_room(pool, "jan", "A1").await.unwrap();
    assert_eq!(accounts::rooms(pool, "jan").await.unwrap(), vec!["A1".to_string(), "B2.14".to_string()]);
    accounts::insert_session(pool, "s1", "jan", "csrf", 10, 100).await.unwrap();
    let session = accounts::session(pool, "s1").await.unwrap().expect("session");
    assert_eq!((session.username.as_str(), session.last_used_ms, session.expires_ms, session.revoked_ms), ("jan", 10, 100, None));
    assert!(accounts::touch_live_session(pool, "s1", 20).await.unwrap());
    assert!(!accounts::touch_live_session(pool, "s1", 100).await.unwrap(), "expired");
    assert!(accounts::disable(pool, "jan", 30).await.unwrap());
    assert!(!accounts::disable(pool, "nobody", 30).await.unwrap());
    accounts::revoke_sessions_of(pool, "jan", 30).await.unwrap();
    assert_eq!(accounts::session(pool, "s1").await.unwrap().expect("session").revoked_ms, Some(30));
    assert!(accounts::enabled(pool, "jan").await.unwrap().is_none(), "disabled");
    assert_eq!(accounts::password_hash(pool, "jan").await.unwrap(), None);
    let state = accounts::lock_state(pool, "jan").await.unwrap().expect("account");
    assert_eq!((state.disabled_ms, state.locked_until_ms), (Some(30), None));
    accounts::upsert(pool, "jan", "Jan J.", "invigilator", "hash-2", 40).await.unwrap();
    assert_eq!(accounts::enabled(pool, "jan").await.unwrap().expect("enabled again").display_name, "Jan J.");
    assert_eq!(accounts::password_hash(pool, "jan").await.unwrap().as_deref(), Some("hash-2"));
    accounts::delete_sessions_expired_before(pool, 101).await.unwrap();
    assert!(accounts::session(pool, "s1").await.unwrap().is_none());

    // The journal of actions: the newest reopen of a seat, actions without a student.
    assert_eq!(audit::reopened_ms(pool, "S1", "1001").await.unwrap(), None);
    for (id, at_ms, student, action) in [("a1", 100, None, "pause_all"), ("a2", 200, Some("1001"), "reopen"), ("a3", 300, Some("1001"), "reopen")] {
        let entry = audit::Entry { at_ms, username: "jan", display_name: "Jan", room: "B2.14", sitting: Some("S1"), student, action, reason: "r", detail: "" };
        audit::insert(pool, id, &entry).await.unwrap();
    }
    assert_eq!(audit::reopened_ms(pool, "S1", "1001").await.unwrap(), Some(300));
    let reopens = audit::last_reopens(pool).await.unwrap();
    assert_eq!(reopens.iter().map(|r| (r.sitting_id.as_str(), r.student_number.as_str(), r.at_ms)).collect::<Vec<_>>(), vec![("S1", "1001", 300)]);
    let logged = audit::of_sitting(pool, "S1").await.unwrap();
    assert_eq!(logged.iter().map(|l| (l.at_ms, l.student_number.as_deref())).collect::<Vec<_>>(), vec![(100, None), (200, Some("1001")), (300, Some("1001"))]);
    assert_eq!(audit::last_on_seat(pool, "S1", "1001").await.unwrap().expect("last").at_ms, 300);
    assert_eq!(audit::reopened_seats_in_room(pool, "B2.14", 0, 2_000_000).await.unwrap().len(), 1);

    // Sitting and seat state: the command line changes only what is not so yet.
    assert_eq!(rooms::sitting_version(pool, "S1").await.unwrap(), None);
    rooms::ensure_sitting(pool, "S1").await.unwrap();
    assert!(rooms::bump_sitting(pool, "S1", 0).await.unwrap());
    assert!(!rooms::bump_sitting(pool, "S1", 0).await.unwrap(), "stale version");
    assert_eq!(rooms::sitting_paused_ms(pool, "S1").await.unwrap(), Some(None));
    assert!(rooms::change_sitting_once(pool, SittingChange::Pause, "S1", 500, "Jan").await.unwrap());
    assert!(!rooms::change_sitting_once(pool, SittingChange::Pause, "S1", 510, "Jan").await.unwrap(), "paused once");
    assert_eq!(rooms::sitting_paused_ms(pool, "S1").await.unwrap(), Some(Some(500)));
    rooms::ensure_seats_of_sitting(pool, "S1").await.unwrap();
    rooms::change_all_seats(pool, SittingChange::Pause, "S1", 500).await.unwrap();
    rooms::change_sitting(pool, SittingChange::Resume, "S1", 800).await.unwrap();
    rooms::change_all_seats(pool, SittingChange::Resume, "S1", 800).await.unwrap();
    assert_eq!(rooms::sitting_paused_ms(pool, "S1").await.unwrap(), Some(None));
    assert_eq!(rooms::change_seat(pool, SeatChange::Pause, "S1", "1001", 900).await.unwrap(), 1);
    assert_eq!(rooms::change_seat(pool, SeatChange::EndIfRunning, "S1", "1001", 1_000).await.unwrap(), 1);
    assert_eq!(rooms::change_seat(pool, SeatChange::EndIfRunning, "S1", "1001", 1_100).await.unwrap(), 0, "ended once");
    assert!(rooms::seat_ended(pool, "S1", "1001").await.unwrap());
    assert_eq!(rooms::ended_seats(pool, "S1").await.unwrap().iter().map(|s| s.ended_ms).collect::<Vec<_>>(), vec![1_000]);
    // A reopen ends the pause the end overtook: 300 + (1,200 - 900).
    assert_eq!(rooms::change_seat(pool, SeatChange::Reopen, "S1", "1001", 1_200).await.unwrap(), 1);
    assert!(!rooms::seat_ended(pool, "S1", "1001").await.unwrap());
    let times = planning::seat_times(pool, "S1", "1001").await.unwrap().expect("seat");
    assert_eq!((times.paused_total_ms, times.ended_ms), (Some(600), None));
    assert!(rooms::bump_seat_from(pool, "S1", "1001", 0).await.unwrap());
    rooms::bump_seats_of_sitting(pool, "S1").await.unwrap();
    assert_eq!(rooms::seat_version(pool, "S1", "1001").await.unwrap(), Some(2));
    assert!(rooms::change_sitting_once(pool, SittingChange::End, "S1", 2_000, "Jan").await.unwrap());
    let ended = rooms::sitting_ended(pool, "S1").await.unwrap().expect("ended");
    assert_eq!((ended.ended_ms, ended.ended_by.as_deref()), (2_000, Some("Jan")));

    // Moves and room codes.
    let to_pc = rooms::NewMove { move_id: "m1", sitting_id: "S1", student_number: "1001", from_device: None, to_device: Some("pc-1"), authorised_by: "Jan", authorised_ms: 5 };
    rooms::insert_move(pool, &to_pc).await.unwrap();
    assert_eq!(rooms::authorised_move(pool, "S1", "1001", "pc-1").await.unwrap().as_deref(), Some("m1"));
    assert_eq!(rooms::authorised_move(pool, "S1", "1001", "pc-2").await.unwrap(), None);
    assert_eq!(rooms::moves_in_room(pool, "B2.14", 0, 2_000_000).await.unwrap()[0].to_device, "pc-1");
    rooms::upsert_room_code(pool, "B2.14", "plain", 30, 6, 1).await.unwrap();
    rooms::upsert_room_code(pool, "B2.14", "aa", 60, 8, 2).await.unwrap();
    let code = rooms::room_code(pool, "B2.14").await.unwrap().expect("code");
    assert_eq!((code.secret_hex.as_str(), code.step_secs, code.digits), ("aa", 60, 8));
    rooms::replace_room_secret(pool, "B2.14", "other", "bb").await.unwrap();
    rooms::replace_room_secret(pool, "B2.14", "aa", "cc").await.unwrap();
    assert_eq!(rooms::room_secrets(pool).await.unwrap().iter().map(|r| r.secret_hex.as_str()).collect::<Vec<_>>(), vec!["cc"]);
    db.pool.close().await;
}
on_both_backends!(console_tables_read_back_the_same_on_both_engines);

async fn journals_and_records_read_back_the_same_on_both_engines(backend: Backend) {
    let Some((db, _dir)) = fresh(backend).await else { return };
    let pool = &db.pool;
    plan(&db).await;

    // Journal records: frames are bytes (zeros and 0xff included), the
    // record before the first has no time, MIN over nothing is none.
    let frame = |n: u8| vec![0, n, 255, 0];
    let record = |seq: i64, record_type: i64, kind: &str, wall_time_us: i64| journals::NewRecord {
        seq,
        hash: format!("h{seq}"),
        record_type,
        kind: kind.to_string(),
        wall_time_us,
        frame: frame(seq as u8),
    };
    let rows = [record(0, 2, "epoch", 1_000_000_000), record(1, 1, "session.login", 1_001_000_000), record(2, 3, "checkpoint", 1_002_000_000), record(3, 1, "exam.ended", 1_003_000_000)];
    journals::insert_records(pool, "pc-1", &rows).await.unwrap();
    journals::save_state(pool, "pc-1", "{}", 4, 3, 1).await.unwrap();
    journals::save_state(pool, "pc-1", "{\"n\":4}", 4, 3, 2).await.unwrap();
    assert_eq!(journals::chain_state(pool, "pc-1").await.unwrap().as_deref(), Some("{\"n\":4}"));
    assert_eq!((journals::next_seq(pool, "pc-1").await.unwrap(), journals::next_seq(pool, "pc-2").await.unwrap()), (Some(4), None));
    assert_eq!(journals::hashes(pool, "pc-1", 1, 3).await.unwrap().iter().map(|h| (h.seq, h.hash.as_str())).collect::<Vec<_>>(), vec![(1, "h1"), (2, "h2")]);
    assert_eq!(journals::last_frame_of_kind(pool, "pc-1", "session.login").await.unwrap(), Some(frame(1)));
    let latest = journals::latest_events(pool, "pc-1", 1).await.unwrap();
    assert_eq!((latest.len(), latest[0].kind.as_str(), latest[0].frame.clone()), (1, "exam.ended", frame(3)));
    let kinds = ["epoch", "session.login", "x", "x", "x", "x", "x"];
    let evidence = journals::with_time_before(pool, "pc-1", &kinds).await.unwrap();
    assert_eq!(evidence.iter().map(|e| (e.seq, e.before_us)).collect::<Vec<_>>(), vec![(0, None), (1, Some(1_000_000_000))]);
    let events = journals::events_of_sitting(pool, "S1", 1_000_500_000, 1_005_000_000, &["session.login", "exam.ended"]).await.unwrap();
    assert_eq!(events.iter().map(|e| e.seq).collect::<std::collections::BTreeSet<_>>(), [1, 3].into());
    let spans = journals::spans_of_sitting(pool, "S1", 1_000_500_000, 1_002_500_000).await.unwrap();
    assert_eq!(spans.iter().map(|s| (s.device_id.as_str(), s.first_us, s.last_us)).collect::<Vec<_>>(), vec![("pc-1", 1_001_000_000, 1_002_000_000)]);
    assert!(journals::spans_of_sitting(pool, "S1", 9_000_000_000, 9_000_000_001).await.unwrap().is_empty(), "no records in the window: no span");
    let checkpoints = journals::checkpoints_of_sitting(pool, "S1").await.unwrap();
    assert_eq!((checkpoints.len(), checkpoints[0].frame.clone()), (1, frame(2)));
    assert_eq!(journals::sizes_of_sitting(pool, "S1").await.unwrap()[0].next_seq, 4);
    assert_eq!(journals::sizes_in_room(pool, "B2.14").await.unwrap()[0].device_id, "pc-1");
    assert_eq!(journals::devices_with_records_before(pool, 1_001_000_000).await.unwrap(), vec!["pc-1".to_string()]);
    assert_eq!(journals::first_seq_from(pool, "pc-1", 1_001_500_000).await.unwrap(), Some(2));
    assert_eq!(journals::first_seq_from(pool, "pc-1", 9_000_000_000).await.unwrap(), None);
    assert_eq!(journals::delete_records_before(pool, "pc-1", 2).await.unwrap(), 2);

    // Alarms: one without a device is listed with none.
    journals::insert_alarm(pool, "al1", "pc-1", "journal.truncation", "kort", 10).await.unwrap();
    journals::insert_alarm(pool, "al2", "pc-1", "device.reenrolled", "opnieuw", 20).await.unwrap();
    assert_eq!(journals::recent_alarm(pool, "pc-1", "journal.truncation", 5).await.unwrap().as_deref(), Some("al1"));
    assert_eq!(journals::recent_alarm(pool, "pc-1", "journal.truncation", 10).await.unwrap(), None);
    assert_eq!(journals::all_alarms(pool).await.unwrap().iter().map(|a| a.created_ms).collect::<Vec<_>>(), vec![20, 10]);
    let of_sitting = journals::alarms_of_sitting(pool, "S1", ["device.reenrolled", "other"]).await.unwrap();
    assert_eq!(of_sitting.iter().map(|a| a.kind.as_str()).collect::<Vec<_>>(), vec!["journal.truncation"]);
    assert_eq!(journals::alarms_of_room(pool, "B2.14", 15).await.unwrap().len(), 1);

    // Instructions: acknowledged once; an unknown id is not there.
    instructions::insert(pool, "i1", "pc-1", "{\"kind\":\"end\"}", 1_000_100).await.unwrap();
    instructions::insert(pool, "i2", "pc-1", "{\"kind\":\"pause\"}", 1_000_200).await.unwrap();
    assert_eq!(instructions::unacked(pool).await.unwrap().iter().map(|u| u.body.as_str()).collect::<Vec<_>>(), vec!["{\"kind\":\"end\"}", "{\"kind\":\"pause\"}"]);
    assert!(instructions::acknowledge(pool, "i1", "pc-1", 1_000_300).await.unwrap());
    assert!(!instructions::acknowledge(pool, "i1", "pc-1", 1_000_400).await.unwrap(), "acknowledged once");
    assert!(instructions::exists(pool, "i1", "pc-1").await.unwrap());
    assert!(!instructions::exists(pool, "i1", "pc-2").await.unwrap());
    assert_eq!(instructions::acked_since(pool, "pc-1", 1_000_300).await.unwrap(), vec!["i1".to_string()]);
    let ends = instructions::acked_like(pool, "%\"end\"%").await.unwrap();
    assert_eq!((ends.len(), ends[0].issued_ms, ends[0].acked_ms), (1, 1_000_100, 1_000_300));
    let issued = instructions::of_sitting_devices(pool, "S1", 0, 2_000_000).await.unwrap();
    assert_eq!(issued.iter().map(|i| i.acked_ms).collect::<Vec<_>>(), vec![Some(1_000_300), None]);

    // Remarks and deletions.
    records::insert_remark(pool, "r2", "S1", "Jan", "tweede", 20).await.unwrap();
    records::insert_remark(pool, "r1", "S1", "Jan", "eerste", 10).await.unwrap();
    assert_eq!(records::remarks(pool, "S1").await.unwrap().iter().map(|r| r.text.as_str()).collect::<Vec<_>>(), vec!["eerste", "tweede"]);
    assert!(!records::deleted_from_sitting(pool, "S1", "answers").await.unwrap());
    let answers = records::NewDeletion { deletion_id: "d1", what: "answers", subject: "1 kandidaten", sitting_id: Some("S1"), rows_deleted: 3, older_than_ms: 5, rule: "r", deleted_ms: 6 };
    records::insert_deletion(pool, &answers).await.unwrap();
    let journal = records::NewDeletion { deletion_id: "d2", what: "journal", subject: "pc-1", sitting_id: None, rows_deleted: 2, older_than_ms: 5, rule: "r", deleted_ms: 7 };
    records::insert_deletion(pool, &journal).await.unwrap();
    assert!(records::deleted_from_sitting(pool, "S1", "answers").await.unwrap());
    let deletions = records::deletions_of_sitting(pool, "S1", "journal").await.unwrap();
    assert_eq!(deletions.iter().map(|d| (d.subject.as_str(), d.rows_deleted)).collect::<Vec<_>>(), vec![("1 kandidaten", 3), ("pc-1", 2)]);
    db.pool.close().await;
}
on_both_backends!(journals_and_records_read_back_the_same_on_both_engines);
