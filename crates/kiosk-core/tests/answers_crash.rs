//! Crash safety of the answer store: a writer killed with SIGKILL at random
//! moments, 60 times over the same store, loses no answer it had reported as
//! saved; the store reopens every time and keeps accepting saves.

use kiosk_core::answers::{AnswerKey, AnswerStore};
use ring::rand::{SecureRandom as _, SystemRandom};
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "KIOSK_ANSWERS_CRASH_CHILD_DIR";
const ROUNDS: usize = 60;

fn key() -> AnswerKey {
    AnswerKey::from_bytes(*b"answer-crash-test-key-32-bytes!!")
}

/// Not a test on its own: the writer the crash test starts and kills. It
/// prints `saved SEQ ITEM VALUE` after every save returned (= shown as saved).
#[test]
fn answers_crash_writer_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let mut store = AnswerStore::open_or_create(Path::new(&dir), &key(), "S-crash", "I-crash").unwrap();
    let start = store.status().saved_seq;
    let mut out = std::io::stdout().lock();
    for i in 0u64.. {
        let item = format!("ITM-{}", (start + i) % 17);
        // Values of varying size, some large (an essay), so writes straddle pages.
        let value = serde_json::json!({ "n": start + i, "text": "x".repeat(((start + i) * 37 % 5000) as usize) });
        let saved = store.save(&item, "RESPONSE", value).unwrap();
        writeln!(out, "saved {} {} {}", saved.seq, item, start + i).unwrap();
        if i % 7 == 3 {
            let f = store.flag(&item, i % 2 == 0).unwrap();
            writeln!(out, "flag {} {}", f.seq, item).unwrap();
        }
    }
}

fn random_below(rng: &SystemRandom, n: u32) -> u32 {
    let mut b = [0u8; 4];
    rng.fill(&mut b).unwrap();
    u32::from_le_bytes(b) % n
}

#[test]
fn kill_9_at_random_moments_loses_no_saved_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("answers");
    let rng = SystemRandom::new();
    // item -> (seq, n) of the last save the writer reported.
    let mut last_saved: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut max_seq = 0u64;
    let mut total_saved = 0usize;
    let mut torn_rounds = 0usize;
    for round in 0..ROUNDS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "answers_crash_writer_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill after a random number of saves (0..120), or after a random time
        // (0..30 ms), whichever the round picks: mid-write, mid-fsync, mid-open.
        let by_count = random_below(&rng, 2) == 0;
        let target = random_below(&rng, 120) as usize;
        let deadline = Instant::now() + Duration::from_millis(random_below(&rng, 30) as u64);
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0usize;
        loop {
            if by_count && seen >= target {
                break;
            }
            if !by_count && Instant::now() >= deadline {
                break;
            }
            let Some(Ok(line)) = lines.next() else { break };
            let parts: Vec<&str> = line.split(' ').collect();
            match parts.as_slice() {
                ["saved", seq, item, n] => {
                    let seq: u64 = seq.parse().unwrap();
                    last_saved.insert(item.to_string(), (seq, n.parse().unwrap()));
                    max_seq = max_seq.max(seq);
                    seen += 1;
                    total_saved += 1;
                }
                ["flag", seq, _] => max_seq = max_seq.max(seq.parse().unwrap()),
                _ => {}
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Whatever the child still wrote to the pipe before dying was shown as saved too.
        for line in lines.map_while(Result::ok) {
            if let ["saved", seq, item, n] = line.split(' ').collect::<Vec<_>>().as_slice() {
                let seq: u64 = seq.parse().unwrap();
                last_saved.insert(item.to_string(), (seq, n.parse().unwrap()));
                max_seq = max_seq.max(seq);
                total_saved += 1;
            }
        }

        // The kiosk's next start: reopen (recovering a torn tail) and check.
        let store = AnswerStore::open_or_create(&dir, &key(), "S-crash", "I-crash")
            .unwrap_or_else(|e| panic!("round {round}: store does not reopen: {e}"));
        assert!(store.status().saved_seq >= max_seq, "round {round}: saves lost: store at {}, writer saved {max_seq}", store.status().saved_seq);
        for (item, (seq, n)) in &last_saved {
            let got = store.response(item, "RESPONSE").unwrap_or_else(|| panic!("round {round}: {item} lost"));
            assert!(got.seq >= *seq, "round {round}: {item} went back from save {seq} to {}", got.seq);
            if got.seq == *seq {
                assert_eq!(got.value["n"], serde_json::json!(n), "round {round}: {item} changed");
            }
        }
        if std::fs::read_dir(&dir).unwrap().filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().contains(".torn-")) {
            torn_rounds += 1;
        }
    }
    assert!(total_saved > ROUNDS, "the writer should have saved answers in most rounds ({total_saved})");
    eprintln!("{ROUNDS} kills, {total_saved} saves reported, none lost; torn tails set aside after {torn_rounds} rounds");
}

/// Power loss can leave any prefix of the last write on disk, or a file
/// extended with zeros. Cut the log at every byte: every whole record
/// survives, the torn rest is set aside, and the store takes new saves.
#[test]
fn power_loss_at_every_byte_keeps_every_whole_record() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("orig");
    let log = dir.join(kiosk_core::answers::LOG_FILE);
    let mut store = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
    let mut boundaries = vec![(std::fs::metadata(&log).unwrap().len(), 0u64)];
    for n in 1..=4u64 {
        let saved = store.save(&format!("ITM-{n}"), "RESPONSE", serde_json::json!(n)).unwrap();
        boundaries.push((std::fs::metadata(&log).unwrap().len(), saved.seq));
    }
    drop(store);
    let bytes = std::fs::read(&log).unwrap();
    let first = boundaries[0].0 as usize;
    for cut in first..=bytes.len() {
        let d = tmp.path().join(format!("cut-{cut}"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(kiosk_core::answers::LOG_FILE), &bytes[..cut]).unwrap();
        let expected = boundaries.iter().filter(|(end, _)| *end as usize <= cut).map(|(_, s)| *s).max().unwrap();
        let mut s = AnswerStore::open_or_create(&d, &key(), "S1", "I1").unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(s.status().saved_seq, expected, "cut at {cut}");
        for n in 1..=expected {
            assert_eq!(s.response(&format!("ITM-{n}"), "RESPONSE").unwrap().value, serde_json::json!(n));
        }
        s.save("ITM-9", "RESPONSE", serde_json::json!(9)).unwrap();
        drop(s);
        let s = AnswerStore::open_or_create(&d, &key(), "S1", "I1").unwrap();
        assert_eq!(s.status().saved_seq, expected + 1, "cut at {cut}: store keeps working");
        // Closed first: Windows does not remove a directory whose file is open.
        drop(s);
        std::fs::remove_dir_all(&d).unwrap();
    }
    // A file extended with zeros (size written, data not).
    let d = tmp.path().join("zeros");
    std::fs::create_dir_all(&d).unwrap();
    let mut z = bytes.clone();
    z.extend_from_slice(&[0u8; 100]);
    std::fs::write(d.join(kiosk_core::answers::LOG_FILE), &z).unwrap();
    assert_eq!(AnswerStore::open_or_create(&d, &key(), "S1", "I1").unwrap().status().saved_seq, 4);
}

/// A changed byte or a removed record in the middle is not a torn write:
/// refused as damage, never silently cut.
#[test]
fn tampering_in_the_middle_is_refused_not_truncated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a");
    let log = dir.join(kiosk_core::answers::LOG_FILE);
    let mut store = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap();
    let mut ends = vec![std::fs::metadata(&log).unwrap().len() as usize];
    for n in 1..=3u64 {
        store.save("ITM-1", "RESPONSE", serde_json::json!(n)).unwrap();
        ends.push(std::fs::metadata(&log).unwrap().len() as usize);
    }
    drop(store);
    let bytes = std::fs::read(&log).unwrap();
    // Flip a byte inside the second save.
    let mut b = bytes.clone();
    b[ends[1] + 20] ^= 1;
    std::fs::write(&log, &b).unwrap();
    let err = AnswerStore::open_or_create(&dir, &key(), "S1", "I1").unwrap_err();
    assert!(err.to_string().contains("damaged"), "{err}");
    assert_eq!(std::fs::read(&log).unwrap(), b, "nothing cut");
    // Remove the second save entirely: the record indexes no longer line up.
    let mut b = bytes[..ends[1]].to_vec();
    b.extend_from_slice(&bytes[ends[2]..]);
    std::fs::write(&log, &b).unwrap();
    assert!(AnswerStore::open_or_create(&dir, &key(), "S1", "I1").is_err());
}
