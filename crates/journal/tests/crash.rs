//! Crash safety: a writer killed with SIGKILL mid-burst loses no acknowledged
//! record, and a torn final record is set aside and recorded, never dropped.

use exam_journal::{read_records, segment, verify_journal, Event, Journal, JournalConfig, KeyStore, VerifyOptions};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const CHILD_ENV: &str = "EXAM_JOURNAL_CRASH_CHILD_DIR";

/// Not a test on its own: the writer process the crash test starts and kills.
/// It prints `ack SEQ HASH` after every durable append.
#[test]
fn crash_writer_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let dir = Path::new(&dir);
    let key = KeyStore::File(dir.join("device.key")).load().unwrap();
    let config = JournalConfig { segment_max_bytes: 16 * 1024, ..JournalConfig::default() };
    let mut journal = Journal::open(&dir.join("journal"), key, config).unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let receipts = if i % 3 == 0 {
            let burst: Vec<Event> = (0..20).map(|j| event(i * 100 + j)).collect();
            journal.append_batch(&burst).unwrap()
        } else {
            vec![journal.append(&event(i * 100)).unwrap()]
        };
        for r in receipts {
            use std::io::Write as _;
            writeln!(out, "ack {} {}", r.seq, hex::encode(r.hash)).unwrap();
        }
    }
}

fn event(i: u64) -> Event {
    Event::new("test.burst", &serde_json::json!({ "i": i })).unwrap()
}

#[test]
fn kill_9_mid_burst_loses_no_acknowledged_record() {
    let tmp = tempfile::tempdir().unwrap();
    let store = KeyStore::File(tmp.path().join("device.key"));
    store.create().unwrap();
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_writer_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, tmp.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut acked = Vec::new();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        while acked.len() < 300 + round * 50 {
            let line = lines.next().expect("child ended early").unwrap();
            if let Some(rest) = line.strip_prefix("ack ") {
                let (seq, hash) = rest.split_once(' ').unwrap();
                acked.push((seq.parse::<u64>().unwrap(), hash.to_owned()));
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        // The kiosk's next start reopens the journal, which recovers it.
        let key = store.load().unwrap();
        let journal = Journal::open(&tmp.path().join("journal"), key, JournalConfig::default()).unwrap();
        drop(journal);
        let dir = tmp.path().join("journal");
        verify_journal(&dir, &VerifyOptions::default()).unwrap();
        let records = read_records(&dir).unwrap();
        for (seq, hash) in &acked {
            let (_, record) = &records[*seq as usize];
            assert_eq!(&hex::encode(record.hash), hash, "acknowledged record {seq} changed or lost");
        }
    }
}

#[test]
fn torn_tail_is_quarantined_and_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("j");
    let (_, pkcs8) = exam_journal::SigningKey::generate().unwrap();
    let open = || Journal::open(&dir, exam_journal::SigningKey::from_pkcs8(&pkcs8).unwrap(), JournalConfig::default());
    let mut journal = open().unwrap();
    journal.append(&event(1)).unwrap();
    let last = journal.append(&event(2)).unwrap();
    drop(journal);
    // Simulate power loss in the middle of the next append: half a frame.
    let seg = segment::list_segments(&dir).unwrap().pop().unwrap().path;
    let good_len = std::fs::metadata(&seg).unwrap().len();
    let records = read_records(&dir).unwrap();
    let frame = &records.last().unwrap().1.frame;
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes.extend_from_slice(&frame[..frame.len() / 2]);
    std::fs::write(&seg, &bytes).unwrap();
    // The verifier refuses a torn journal ...
    assert!(verify_journal(&dir, &VerifyOptions::default()).is_err());
    // ... and the next writer sets the bytes aside and records that.
    let journal = open().unwrap();
    let torn = journal.recovered_torn_tail().unwrap().clone();
    drop(journal);
    assert_eq!(torn.offset, good_len);
    assert_eq!(torn.length, (frame.len() / 2) as u64);
    let kept = std::fs::read(dir.join(&torn.quarantined_as)).unwrap();
    assert_eq!(kept, &frame[..frame.len() / 2]);
    verify_journal(&dir, &VerifyOptions::default()).unwrap();
    let records = read_records(&dir).unwrap();
    assert_eq!(records[last.seq as usize].1.hash, last.hash);
    assert!(records.iter().any(|(_, r)| r.body.kind == "journal.torn_tail"));
}

#[test]
fn torn_segment_header_is_quarantined() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("j");
    let (_, pkcs8) = exam_journal::SigningKey::generate().unwrap();
    let open = || Journal::open(&dir, exam_journal::SigningKey::from_pkcs8(&pkcs8).unwrap(), JournalConfig::default());
    open().unwrap().append(&event(1)).unwrap();
    // A crash while creating segment 2 left 5 bytes of its header.
    std::fs::write(dir.join(segment::segment_name(2)), b"EXJOU").unwrap();
    let journal = open().unwrap();
    assert_eq!(journal.recovered_torn_tail().unwrap().length, 5);
    drop(journal);
    verify_journal(&dir, &VerifyOptions::default()).unwrap();
}

/// The writer lock is an `flock`: a process that forks (any thread starting
/// a program, as the crash test above does) holds a copy of it until its
/// child execs, so a journal just closed can look locked for a moment.
/// `open` waits for such a moment; a lock held on is still `Locked`. Before,
/// `torn_segment_header_is_quarantined` failed now and then with `Locked`
/// when it reopened its journal while the crash test forked.
#[test]
fn a_lock_held_for_a_moment_is_waited_for_and_one_held_on_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("j");
    let (_, pkcs8) = exam_journal::SigningKey::generate().unwrap();
    let open = || Journal::open(&dir, exam_journal::SigningKey::from_pkcs8(&pkcs8).unwrap(), JournalConfig::default());
    drop(open().unwrap());
    let other = std::fs::OpenOptions::new().write(true).open(dir.join("LOCK")).unwrap();
    // The crash test beside this one forks: its child may hold a copy of
    // the journal's lock for a moment (the very case below), so wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while let Err(e) = other.try_lock() {
        assert!(std::time::Instant::now() < deadline, "the lock stayed taken: {e:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Held on: reported.
    assert!(matches!(open(), Err(exam_journal::JournalError::Locked(_))));
    // Held for a moment (the simulated fork's 200 ms) while `open` starts: it gets the lock.
    let opening = std::thread::spawn({
        let dir = dir.clone();
        move || Journal::open(&dir, exam_journal::SigningKey::from_pkcs8(&pkcs8).unwrap(), JournalConfig::default()).map(drop)
    });
    std::thread::sleep(std::time::Duration::from_millis(200));
    // The copy goes as the fork's child execs: the handle closes. (Closing,
    // not `unlock`: Wine refuses an unlock of a whole-file lock with "Lock
    // violation", where closing frees it on every platform.)
    drop(other);
    opening.join().unwrap().unwrap();
}
