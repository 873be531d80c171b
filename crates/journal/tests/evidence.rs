//! The writer never erases evidence: only an incomplete final frame is a torn
//! tail; complete records behind a damaged length, a record with a bad
//! signature, a journal cut below what the hub acknowledged, and weak keys
//! make it refuse to open, leaving every byte where it was. `verify` reports
//! what is in `quarantine/`.

use exam_journal::format::{self, RecordBody, RecordType};
use exam_journal::records::{EpochCertificate, EpochReason, KIND_EPOCH};
use exam_journal::{
    read_records, segment, verify_journal, Event, Journal, JournalConfig, JournalError, SigningKey, VerifyError,
    VerifyOptions,
};
use std::path::{Path, PathBuf};

fn event(i: usize) -> Event {
    Event::new("test.event", &serde_json::json!({ "i": i })).unwrap()
}

/// A one-segment journal of `n` events (plus its epoch certificate and the
/// closing checkpoint), written by the device key `pkcs8`.
fn journal(dir: &Path, pkcs8: &[u8], n: usize) -> PathBuf {
    let (path, journal) = writing(dir, pkcs8, n);
    journal.close().unwrap();
    path
}

/// The writer of a new journal in `dir/journal` after `n` events, still open
/// (dropped without closing: no closing checkpoint).
fn writing(dir: &Path, pkcs8: &[u8], n: usize) -> (PathBuf, Journal) {
    let path = dir.join("journal");
    let mut journal = open(&path, pkcs8).unwrap();
    for i in 0..n {
        journal.append(&event(i)).unwrap();
    }
    (path, journal)
}

/// A temporary directory, a new device key, and a [`journal`] of `n` events in it.
fn fresh(n: usize) -> (tempfile::TempDir, Vec<u8>, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let key = pkcs8();
    let dir = journal(tmp.path(), &key, n);
    (tmp, key, dir)
}

fn pkcs8() -> Vec<u8> {
    SigningKey::generate().unwrap().1
}

fn open(dir: &Path, pkcs8: &[u8]) -> Result<Journal, JournalError> {
    Journal::open(dir, SigningKey::from_pkcs8(pkcs8).unwrap(), JournalConfig::default())
}

fn seg1(dir: &Path) -> PathBuf {
    dir.join(segment::segment_name(1))
}

/// Byte offset of record `seq` in the first segment.
fn offset_of(dir: &Path, seq: u64) -> usize {
    read_records(dir).unwrap().into_iter().find(|(_, r)| r.body.seq == seq).unwrap().1.offset as usize
}

fn set_body_len(dir: &Path, seq: u64, body_len: u32) {
    let at = offset_of(dir, seq);
    let mut bytes = std::fs::read(seg1(dir)).unwrap();
    bytes[at..at + 4].copy_from_slice(&body_len.to_le_bytes());
    std::fs::write(seg1(dir), bytes).unwrap();
}

/// Opening must fail with `Damaged`, and change no byte and set nothing aside.
fn assert_refused_untouched(dir: &Path, pkcs8: &[u8], expect: &str) -> String {
    let before = std::fs::read(seg1(dir)).unwrap();
    let err = open(dir, pkcs8).expect_err("the writer opened a journal it must refuse");
    assert!(matches!(err, JournalError::Damaged { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(expect), "{text}");
    assert_eq!(std::fs::read(seg1(dir)).unwrap(), before, "the writer changed the segment");
    assert!(!dir.join(segment::QUARANTINE_DIR).exists(), "the writer set bytes aside");
    text
}

fn verify_fails(dir: &Path) -> String {
    match verify_journal(dir, &VerifyOptions::default()) {
        Err(VerifyError::Failed(failure)) => failure.to_string(),
        other => panic!("expected a failed verification, got {other:?}"),
    }
}

#[test]
fn a_length_past_the_end_is_not_a_torn_tail() {
    // In range but running past the end, and the largest value a u32 holds.
    for body_len in [format::MAX_BODY_LEN as u32, u32::MAX] {
        let (_tmp, key, dir) = fresh(30);
        set_body_len(&dir, 10, body_len);
        let text = assert_refused_untouched(&dir, &key, "tampering or disk corruption");
        assert!(text.contains("record 11"), "{text}");
        let failure = verify_fails(&dir);
        assert!(failure.contains("complete record(s) with a correct hash follow"), "{failure}");
    }
}

#[test]
fn a_length_that_runs_into_later_records_is_not_a_torn_tail() {
    let (_tmp, key, dir) = fresh(30);
    let len = std::fs::metadata(seg1(&dir)).unwrap().len() as usize;
    let at = offset_of(&dir, 10);
    // The frame then ends exactly at the end of the file: complete, but wrong.
    set_body_len(&dir, 10, (len - at - format::FRAME_OVERHEAD) as u32);
    assert_refused_untouched(&dir, &key, "not a torn tail");
    // One that ends part-way into a later record.
    let tmp = tempfile::tempdir().unwrap();
    let dir = journal(tmp.path(), &key, 30);
    set_body_len(&dir, 10, 300);
    assert_refused_untouched(&dir, &key, "not a torn tail");
}

#[test]
fn an_incomplete_final_frame_is_still_set_aside_and_recorded() {
    let (_tmp, key, dir) = fresh(5);
    let len = std::fs::metadata(seg1(&dir)).unwrap().len();
    // An interrupted append: half a frame after the last record.
    let mut bytes = std::fs::read(seg1(&dir)).unwrap();
    let last = offset_of(&dir, 6);
    let half: Vec<u8> = bytes[last..last + 60].to_vec();
    bytes.extend_from_slice(&half);
    std::fs::write(seg1(&dir), &bytes).unwrap();
    let report_failure = verify_fails(&dir);
    assert!(report_failure.contains("torn tail"), "{report_failure}");
    let journal = open(&dir, &key).unwrap();
    let torn = journal.recovered_torn_tail().unwrap().clone();
    assert_eq!((torn.offset, torn.length), (len, 60));
    journal.close().unwrap();
    let report = verify_journal(&dir, &VerifyOptions::default()).unwrap();
    assert_eq!(report.quarantined.len(), 1);
    assert_eq!(report.quarantined[0].length, 60);
    assert!(report.quarantined[0].records.is_empty());
}

#[test]
fn verify_fails_when_quarantine_holds_complete_records() {
    // What the old writer did: valid, signed records moved to quarantine/.
    let (_tmp, _, dir) = fresh(30);
    let at = offset_of(&dir, 10);
    let bytes = std::fs::read(seg1(&dir)).unwrap();
    std::fs::create_dir(dir.join(segment::QUARANTINE_DIR)).unwrap();
    std::fs::write(dir.join(segment::QUARANTINE_DIR).join("seg-00000001.journal.1.2.torn"), &bytes[at..]).unwrap();
    std::fs::write(seg1(&dir), &bytes[..at]).unwrap();
    let failure = verify_fails(&dir);
    assert!(failure.contains("quarantine holds 22 complete record(s)"), "{failure}");
    assert!(failure.contains("evidence was removed"), "{failure}");
}

#[test]
fn the_writer_refuses_to_append_behind_a_bad_signature() {
    let (_tmp, key, dir) = fresh(10);
    let at = offset_of(&dir, 5);
    let frame_len = read_records(&dir).unwrap()[5].1.frame.len();
    let mut bytes = std::fs::read(seg1(&dir)).unwrap();
    bytes[at + frame_len - 1] ^= 1; // last byte of the signature; the hash still matches
    std::fs::write(seg1(&dir), bytes).unwrap();
    assert_refused_untouched(&dir, &key, "record 5 fails verification: signature does not verify");
}

#[test]
fn the_writer_never_reuses_an_acknowledged_sequence_number() {
    let tmp = tempfile::tempdir().unwrap();
    let key = pkcs8();
    let (path, mut writer) = writing(tmp.path(), &key, 30);
    let last = writer.last().unwrap();
    writer.acknowledge(29, &read_records(&path).unwrap()[29].1.hash).unwrap();
    assert!(last.seq > 29);
    drop(writer);
    // Cut the journal to its first 10 records (at a record boundary: no torn tail).
    let cut = offset_of(&path, 10);
    let bytes = std::fs::read(seg1(&path)).unwrap();
    std::fs::write(seg1(&path), &bytes[..cut]).unwrap();
    let text = assert_refused_untouched(&path, &key, "the hub acknowledged records through 29");
    assert!(text.contains("ends at record 9"), "{text}");
    // Same length, other history: a cursor whose hash is not the record's.
    std::fs::write(seg1(&path), &bytes).unwrap();
    let cursor = path.join(segment::CURSOR_FILE);
    let text = std::fs::read_to_string(&cursor).unwrap();
    let hash = read_records(&path).unwrap()[28].1.hash;
    let other: serde_json::Value = serde_json::json!({"acked_seq": 29, "acked_hash": hex::encode(hash)});
    std::fs::write(&cursor, other.to_string()).unwrap();
    assert_refused_untouched(&path, &key, "record 29 is not the one the hub acknowledged");
    // The real cursor again: the writer continues after the last record.
    std::fs::write(&cursor, text).unwrap();
    let writer = open(&path, &key).unwrap();
    assert_eq!(writer.len(), last.seq + 2); // its records, then the new epoch certificate
}

/// A length field made to run past the end on the last record the hub
/// acknowledged looks like a torn tail; the writer still refuses, and sets
/// nothing aside, before anything is changed.
#[test]
fn a_torn_tail_never_takes_an_acknowledged_record() {
    let tmp = tempfile::tempdir().unwrap();
    let key = pkcs8();
    let (path, mut writer) = writing(tmp.path(), &key, 5);
    let last = writer.last().unwrap();
    writer.acknowledge(last.seq, &last.hash).unwrap();
    drop(writer);
    let len = std::fs::metadata(seg1(&path)).unwrap().len() as usize;
    let at = offset_of(&path, last.seq);
    // In range, yet past the end of the file: no complete frame follows.
    set_body_len(&path, last.seq, (len - at) as u32);
    assert_refused_untouched(&path, &key, &format!("the hub acknowledged records through {}", last.seq));
}

/// A journal whose second session's epoch key is the identity point, with
/// an event "signed" by R = identity, S = 0 (which the cofactored equation
/// accepts for that key and any message).
fn weak_epoch_journal(dir: &Path, pkcs8: &[u8]) -> PathBuf {
    let path = journal(dir, pkcs8, 3);
    let device = SigningKey::from_pkcs8(pkcs8).unwrap();
    let records = read_records(&path).unwrap();
    let (_, last) = records.last().unwrap();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let cert = EpochCertificate {
        device_public_key: device.public_key().to_hex(),
        epoch_public_key: hex::encode(identity),
        reason: EpochReason::Open,
    };
    let session = [7u8; 16];
    let cert_body = RecordBody {
        record_type: RecordType::EpochCertificate,
        seq: last.body.seq + 1,
        wall_time_us: last.body.wall_time_us + 1,
        mono_ns: 0,
        session_id: session,
        epoch: last.body.epoch + 1,
        prev_hash: last.hash,
        kind: KIND_EPOCH.into(),
        payload: serde_json::to_vec(&cert).unwrap(),
    }
    .encode();
    let cert_hash = format::record_hash(&cert_body);
    let cert_frame = format::encode_frame(&cert_body, &cert_hash, &device.sign(&format::signed_message(&cert_hash)));
    let event_body = RecordBody {
        record_type: RecordType::Event,
        seq: last.body.seq + 2,
        wall_time_us: last.body.wall_time_us + 2,
        mono_ns: 1,
        session_id: session,
        epoch: last.body.epoch + 1,
        prev_hash: cert_hash,
        kind: "session.unlocked".into(),
        payload: br#"{"by":"nobody"}"#.to_vec(),
    }
    .encode();
    let mut forged = [0u8; 64];
    forged[0] = 1; // R = identity (y = 1), S = 0
    let event_frame = format::encode_frame(&event_body, &format::record_hash(&event_body), &forged);
    let mut bytes = std::fs::read(seg1(&path)).unwrap();
    bytes.extend_from_slice(&cert_frame);
    bytes.extend_from_slice(&event_frame);
    std::fs::write(seg1(&path), bytes).unwrap();
    path
}

#[test]
fn weak_epoch_keys_are_refused_by_verifier_and_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let key = pkcs8();
    let dir = weak_epoch_journal(tmp.path(), &key);
    let device = SigningKey::from_pkcs8(&key).unwrap().public_key();
    let failure = match verify_journal(&dir, &VerifyOptions { device_key: Some(device), checkpoint: None, acknowledged: None }) {
        Err(VerifyError::Failed(failure)) => failure.to_string(),
        other => panic!("a weak epoch key verified: {other:?}"),
    };
    assert!(failure.contains("weak epoch key"), "{failure}");
    assert_refused_untouched(&dir, &key, "weak epoch key");
}

#[test]
fn a_sealed_journal_ends_with_its_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let key = pkcs8();
    let (path, mut writer) = writing(tmp.path(), &key, 1);
    let sealed = writer.seal().unwrap();
    assert!(matches!(writer.append(&event(2)), Err(JournalError::Closed)));
    assert_eq!(writer.seal().unwrap(), sealed);
    drop(writer);
    let records = read_records(&path).unwrap();
    let (_, last) = records.last().unwrap();
    assert_eq!(last.body.record_type, RecordType::Checkpoint);
    assert_eq!(last.body.seq, sealed.seq);
}

#[test]
fn a_removed_middle_segment_is_a_failed_verification() {
    let tmp = tempfile::tempdir().unwrap();
    let key = pkcs8();
    let path = tmp.path().join("journal");
    let config = JournalConfig { segment_max_bytes: 600, ..JournalConfig::default() };
    let mut writer = Journal::open(&path, SigningKey::from_pkcs8(&key).unwrap(), config).unwrap();
    for i in 0..10 {
        writer.append(&event(i)).unwrap();
    }
    writer.close().unwrap();
    std::fs::remove_file(path.join(segment::segment_name(2))).unwrap();
    let failure = verify_fails(&path);
    assert!(failure.contains("without gaps"), "{failure}");
}

#[test]
fn an_empty_journal_does_not_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let failure = verify_fails(tmp.path());
    assert!(failure.contains("holds no record"), "{failure}");
}

/// Bytes made to be expensive to search: every 6 bytes a candidate frame
/// whose 4-byte length (65,280) is in range and whose body starts with
/// version 1 and a known type, so each would be hashed (64 KiB) in full.
fn crafted_candidates(len: usize) -> Vec<u8> {
    [0x00, 0xFF, 0x00, 0x00, 0x01, 0x01].iter().copied().cycle().take(len).collect()
}

#[test]
fn crafted_bytes_in_quarantine_cost_little_and_fail_verification() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = journal(tmp.path(), &pkcs8(), 3);
    std::fs::create_dir(dir.join(segment::QUARANTINE_DIR)).unwrap();
    let name = format!("{}/{}.16.0.torn", segment::QUARANTINE_DIR, segment::segment_name(1));
    std::fs::write(dir.join(&name), crafted_candidates(4 << 20)).unwrap();
    let started = std::time::Instant::now();
    let result = verify_journal(&dir, &VerifyOptions::default());
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(5), "searching 4 MiB of quarantine took {took:?}");
    match result {
        Err(VerifyError::Failed(failure)) => {
            assert_eq!(failure.file, dir.join(&name), "{failure}");
            assert_eq!((failure.offset, failure.seq), (0, None), "{failure}");
            assert!(failure.reason.contains("not searched to its end"), "{failure}");
        }
        other => panic!("a quarantine file that was not searched completely must fail verification: {other:?}"),
    }
}

#[test]
fn crafted_bytes_after_the_last_record_cost_little_and_are_no_torn_tail() {
    let (_tmp, key, dir) = fresh(3);
    let mut bytes = std::fs::read(seg1(&dir)).unwrap();
    bytes.extend_from_slice(&crafted_candidates(4 << 20));
    std::fs::write(seg1(&dir), &bytes).unwrap();
    let started = std::time::Instant::now();
    let result = verify_journal(&dir, &VerifyOptions::default());
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "verify took {:?}", started.elapsed());
    assert!(matches!(result, Err(VerifyError::Failed(_))), "{result:?}");
    let started = std::time::Instant::now();
    let text = assert_refused_untouched(&dir, &key, "tampering or disk corruption");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "opening took {:?}", started.elapsed());
    assert!(text.contains("candidate frames"), "{text}");
}

/// The kiosk's sync sends what the hub has not acknowledged every few
/// seconds; it reads only the segments that hold those records (issue 16:
/// it read the whole journal each time). Shown by making the older
/// segments unreadable: the read from a later record still works, and
/// gives exactly the frames `read_records` gives for it.
#[test]
fn a_read_from_a_record_reads_only_the_segments_that_hold_it() {
    let tmp = tempfile::tempdir().unwrap();
    let key = pkcs8();
    let path = tmp.path().join("journal");
    let config = JournalConfig { segment_max_bytes: 600, ..JournalConfig::default() };
    let mut writer = Journal::open(&path, SigningKey::from_pkcs8(&key).unwrap(), config).unwrap();
    for i in 0..20 {
        writer.append(&event(i)).unwrap();
    }
    let all: Vec<(u64, Vec<u8>)> = read_records(&path).unwrap().into_iter().map(|(_, r)| (r.body.seq, r.frame)).collect();
    let from = all[all.len() - 3].0;
    let segments = writer.segments_from(from);
    let every = segment::list_segments(&path).unwrap();
    assert!(segments.len() < every.len() && !segments.is_empty(), "{} of {} segments", segments.len(), every.len());
    let expected: Vec<Vec<u8>> = all.iter().filter(|(seq, _)| *seq >= from).map(|(_, f)| f.clone()).collect();
    // Every segment before those is made unreadable garbage.
    for older in every.iter().filter(|s| !segments.contains(&s.path)) {
        std::fs::write(&older.path, b"not a segment").unwrap();
    }
    assert_eq!(exam_journal::read_frames_from(&segments, from, 500).unwrap(), expected);
    assert_eq!(exam_journal::read_frames_from(&segments, from, 2).unwrap(), expected[..2], "at most `max`");
    // From the first record: every segment (one garbage segment is an error, not a short read).
    assert!(exam_journal::read_frames_from(&writer.segments_from(0), 0, 500).is_err());
}

/// A record being appended while the sync reads (a torn end of the last
/// segment) ends the read there; it is not an error.
#[test]
fn a_torn_end_of_the_last_segment_ends_the_read() {
    let (_tmp, key, path) = fresh(0);
    let mut writer = Journal::open(&path, SigningKey::from_pkcs8(&key).unwrap(), JournalConfig::default()).unwrap();
    for i in 0..5 {
        writer.append(&event(i)).unwrap();
    }
    let segments = writer.segments_from(0);
    let whole = exam_journal::read_frames_from(&segments, 0, 500).unwrap();
    // Half a frame written at the end, as an append in progress leaves it.
    let last = segments.last().unwrap();
    let mut bytes = std::fs::read(last).unwrap();
    bytes.extend_from_slice(&whole.last().unwrap()[..40]);
    std::fs::write(last, bytes).unwrap();
    assert_eq!(exam_journal::read_frames_from(&segments, 0, 500).unwrap(), whole);
    // Damage that is not a torn tail (a flipped byte in a complete record)
    // is an error, not the end of what there is to send.
    let mut bytes = std::fs::read(last).unwrap();
    let at = bytes.len() - 40 - 120; // in the body of the last complete record
    bytes[at] ^= 0xff;
    std::fs::write(last, bytes).unwrap();
    assert!(exam_journal::read_frames_from(&segments, 0, 500).is_err(), "a damaged record is not a torn tail");
    // The sync's read keeps what comes before the damage (evidence too) and
    // names the damage; read_frames_from gave only the error, and the
    // kiosk's sync then sent nothing at all.
    let read = exam_journal::read_frames_until_damage(&segments, 0, 500).unwrap();
    assert_eq!(read.frames, whole[..whole.len() - 1], "every record before the damaged one");
    assert!(matches!(read.damage, Some(JournalError::Damaged { .. })), "{:?}", read.damage);
    let read = exam_journal::read_frames_until_damage(&segments, 0, 2).unwrap();
    assert_eq!((read.frames.len(), read.damage.is_none()), (2, true), "at most `max`, and the damage is not reached");
}
