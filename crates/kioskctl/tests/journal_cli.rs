//! `kioskctl journal ...` and `kioskctl instrument pack` end to end, through
//! the real binary: exit codes, messages, and what is left on disk.

use exam_journal::{read_records, segment, Event, Journal, JournalConfig, KeyStore};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn kioskctl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kioskctl")).current_dir(dir).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A device key file in `dir`, and its store argument.
fn device(dir: &Path) -> String {
    let store = format!("file:{}", dir.join("device.key").display());
    store.parse::<KeyStore>().unwrap().create().unwrap();
    store
}

fn write_journal(dir: &Path, store: &str, events: usize, config: JournalConfig) {
    let key = store.parse::<KeyStore>().unwrap().load().unwrap();
    let mut journal = Journal::open(dir, key, config).unwrap();
    let note = "x".repeat(120);
    for i in 0..events {
        journal.append(&Event::new("test.event", &serde_json::json!({ "i": i, "note": note })).unwrap()).unwrap();
    }
    journal.close().unwrap();
}

/// A temporary directory with a device key and a journal of `events` events
/// in it: (the directory, the key store argument, the journal).
fn journal_with(events: usize, config: JournalConfig) -> (tempfile::TempDir, String, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let store = device(tmp.path());
    let journal = tmp.path().join("journal");
    write_journal(&journal, &store, events, config);
    (tmp, store, journal)
}

/// `kioskctl journal append` of one event to `journal`, run in `dir`.
fn append(dir: &Path, journal: &Path, store: &str) -> Output {
    kioskctl(dir, &["journal", "append", "--journal", journal.to_str().unwrap(), "--store", store, "--kind", "test.event"])
}

#[test]
fn append_to_a_new_relative_journal_of_one_component() {
    let tmp = tempfile::tempdir().unwrap();
    let store = device(tmp.path());
    let o = kioskctl(tmp.path(), &["journal", "append", "--journal", "jrel", "--store", &store, "--kind", "test.event"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("recorded #1 "), "{}", text(&o));
    let o = kioskctl(tmp.path(), &["journal", "verify", "jrel"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(tmp.path().join("jrel").join(segment::segment_name(1)).is_file());
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    // Far more output than a pipe buffers, so the writer meets the closed pipe.
    let (_tmp, _, journal) = journal_with(2000, JournalConfig::default());
    let mut child = Command::new(env!("CARGO_BIN_EXE_kioskctl"))
        .args(["journal", "show", journal.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    // The reader (like `head -1`) is gone now.
    let o = child.wait_with_output().unwrap();
    assert!(first.contains("journal.epoch"), "{first}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.is_empty(), "no panic, no backtrace, no message: {stderr}");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_deleted_middle_segment_fails_verification_with_exit_1() {
    let (tmp, _, journal) = journal_with(20, JournalConfig { segment_max_bytes: 1200, ..JournalConfig::default() });
    assert!(journal.join(segment::segment_name(3)).exists());
    std::fs::remove_file(journal.join(segment::segment_name(2))).unwrap();
    let o = kioskctl(tmp.path(), &["journal", "verify", journal.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("FAILED") && text(&o).contains("without gaps"), "{}", text(&o));
}

#[test]
fn append_refuses_a_journal_whose_length_field_hides_records() {
    let (tmp, store, journal) = journal_with(30, JournalConfig::default());
    let seg = journal.join(segment::segment_name(1));
    let at = read_records(&journal).unwrap()[10].1.offset as usize;
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[at..at + 4].copy_from_slice(&60_000u32.to_le_bytes());
    std::fs::write(&seg, &bytes).unwrap();
    let o = append(tmp.path(), &journal, &store);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("tampering or disk corruption"), "{}", text(&o));
    assert_eq!(std::fs::read(&seg).unwrap(), bytes, "nothing was cut off");
    assert!(!journal.join(segment::QUARANTINE_DIR).exists(), "nothing was set aside");
    let o = kioskctl(tmp.path(), &["journal", "verify", journal.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn verify_json_lists_the_quarantine() {
    let (tmp, store, journal) = journal_with(3, JournalConfig::default());
    // An interrupted append: 40 bytes of a frame.
    let seg = journal.join(segment::segment_name(1));
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = read_records(&journal).unwrap()[2].1.offset as usize;
    let partial = bytes[at..at + 40].to_vec();
    bytes.extend_from_slice(&partial);
    std::fs::write(&seg, &bytes).unwrap();
    let o = append(tmp.path(), &journal, &store);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = kioskctl(tmp.path(), &["journal", "verify", "--json", journal.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let quarantined = report["quarantined"].as_array().unwrap();
    assert_eq!(quarantined.len(), 1, "{report}");
    assert_eq!(quarantined[0]["length"], 40);
    assert_eq!(quarantined[0]["records"], serde_json::json!([]));
}

#[test]
fn pack_refuses_content_with_exit_1_and_says_it_once() {
    let tmp = tempfile::tempdir().unwrap();
    let content = tmp.path().join("content");
    std::fs::create_dir(&content).unwrap();
    std::fs::write(content.join("notes.txt"), "no manifest here").unwrap();
    let o = kioskctl(tmp.path(), &["policy", "keygen", "--out", "approval.key"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = kioskctl(tmp.path(), &["instrument", "pack", "content", "--sign", "approval.key", "--out", "x.exam"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.starts_with("REFUSED content: "), "{stderr}");
    assert_eq!(stderr.matches("imsmanifest.xml").count(), 1, "each refusal once: {stderr}");
    assert!(!tmp.path().join("x.exam").exists() && !tmp.path().join("x.exam.key").exists(), "nothing written");
    // Usage errors stay 2.
    let o = kioskctl(tmp.path(), &["instrument", "pack", "content", "--out", "x.exam"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// What someone holding the device key can do: rebuild the whole journal
/// with record `target`'s payload changed, re-certifying every epoch with
/// fresh epoch keys and recomputing every hash, link and checkpoint.
fn rewrite_with_device_key(dir: &Path, device: &exam_journal::SigningKey, target: u64) {
    use exam_journal::format::{self, RecordType};
    use exam_journal::merkle::MerkleFrontier;
    use exam_journal::records::{CheckpointPayload, EpochCertificate};
    let records = read_records(dir).unwrap();
    let mut out: Vec<(std::path::PathBuf, Vec<u8>)> = Vec::new();
    let mut prev = [0u8; 32];
    let mut merkle = MerkleFrontier::new();
    let mut epoch_key: Option<exam_journal::SigningKey> = None;
    for (path, record) in records {
        let mut body = record.body.clone();
        body.prev_hash = prev;
        if body.seq == target {
            body.payload = br#"{"i":0,"note":"rewritten"}"#.to_vec();
        }
        if body.record_type == RecordType::EpochCertificate {
            let (key, _) = exam_journal::SigningKey::generate().unwrap();
            let mut cert: EpochCertificate = serde_json::from_slice(&body.payload).unwrap();
            cert.epoch_public_key = key.public_key().to_hex();
            body.payload = serde_json::to_vec(&cert).unwrap();
            epoch_key = Some(key);
        }
        if body.record_type == RecordType::Checkpoint {
            let payload = CheckpointPayload { tree_size: merkle.size(), root_hash: hex::encode(merkle.root()) };
            body.payload = serde_json::to_vec(&payload).unwrap();
        }
        let bytes = body.encode();
        let hash = format::record_hash(&bytes);
        let signer = if body.record_type == RecordType::EpochCertificate { device } else { epoch_key.as_ref().unwrap() };
        let frame = format::encode_frame(&bytes, &hash, &signer.sign(&format::signed_message(&hash)));
        match out.last_mut() {
            Some((p, seg)) if *p == path => seg.extend_from_slice(&frame),
            _ => {
                let index = out.len() as u64 + 1;
                let mut seg = format::encode_segment_header(index).to_vec();
                seg.extend_from_slice(&frame);
                out.push((path, seg));
            }
        }
        prev = hash;
        merkle.push(&hash);
    }
    for (path, bytes) in out {
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn a_rewrite_with_the_device_key_is_found_below_the_hub_receipt() {
    let tmp = tempfile::tempdir().unwrap();
    let store = device(tmp.path());
    let journal = tmp.path().join("journal");
    let config = JournalConfig { epoch_max_records: 50, segment_max_bytes: 64 * 1024, ..JournalConfig::default() };
    let key = store.parse::<KeyStore>().unwrap().load().unwrap();
    let device_key = key.public_key();
    let mut writer = Journal::open(&journal, key, config).unwrap();
    for i in 0..900 {
        writer.append(&Event::new("test.event", &serde_json::json!({ "i": i })).unwrap()).unwrap();
    }
    // The hub's signed receipt through record 600, as the kiosk keeps it.
    let (hub, _) = exam_journal::SigningKey::generate().unwrap();
    let held = read_records(&journal).unwrap()[600].1.hash;
    let mut receipt = exam_protocol::JournalReceipt {
        device_id: device_key.device_id(),
        next_seq: 601,
        last_hash: hex::encode(held),
        stored: 601,
        duplicates: 0,
        time_ms: 1_760_000_000_000,
        signature: String::new(),
    };
    receipt.signature = hex::encode(hub.sign(&receipt.signed_message()));
    writer.acknowledge_with_receipt(600, &held, Some(serde_json::to_value(&receipt).unwrap())).unwrap();
    writer.close().unwrap();
    let receipt_file = tmp.path().join("receipt.json");
    std::fs::write(&receipt_file, serde_json::to_string(&receipt).unwrap()).unwrap();
    let hub_key = hub.public_key().to_hex();
    let dir = journal.to_str().unwrap();
    let o = kioskctl(tmp.path(), &["journal", "verify", dir, "--device-key", &device_key.to_hex(), "--hub-key", &hub_key]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("records 0..=600 are unchanged since the hub acknowledged them"), "{}", text(&o));

    let device = store.parse::<KeyStore>().unwrap().load().unwrap();
    rewrite_with_device_key(&journal, &device, 502);
    // The device key alone cannot tell: the rewrite verifies, pinned key and all.
    let o = kioskctl(tmp.path(), &["journal", "verify", dir, "--device-key", &device_key.to_hex()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // The hub's receipt can: with the one kept next to the journal, and with the hub's own copy.
    let o = kioskctl(tmp.path(), &["journal", "verify", dir, "--hub-key", &hub_key]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("record 600 differs from the one the hub acknowledged"), "{}", text(&o));
    std::fs::remove_file(journal.join(segment::CURSOR_FILE)).unwrap();
    let receipt_arg = receipt_file.to_str().unwrap();
    let o = kioskctl(tmp.path(), &["journal", "verify", dir, "--hub-key", &hub_key, "--hub-receipt", receipt_arg]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // A receipt the hub did not sign is refused as such.
    receipt.next_seq = 300;
    std::fs::write(&receipt_file, serde_json::to_string(&receipt).unwrap()).unwrap();
    let o = kioskctl(tmp.path(), &["journal", "verify", dir, "--hub-key", &hub_key, "--hub-receipt", receipt_arg]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("does not verify with the hub key"), "{}", text(&o));
}

#[test]
fn verify_json_lists_the_quarantine_when_verification_fails() {
    let (tmp, _, journal) = journal_with(3, JournalConfig::default());
    // Someone moved the last two complete records out of the journal into quarantine/.
    let seg = journal.join(segment::segment_name(1));
    let records = read_records(&journal).unwrap();
    let at = records[records.len() - 2].1.offset as usize;
    let bytes = std::fs::read(&seg).unwrap();
    std::fs::create_dir(journal.join(segment::QUARANTINE_DIR)).unwrap();
    let moved = journal.join(segment::QUARANTINE_DIR).join("seg-00000001.journal.0.0.torn");
    std::fs::write(&moved, &bytes[at..]).unwrap();
    std::fs::write(&seg, &bytes[..at]).unwrap();
    let o = kioskctl(tmp.path(), &["journal", "verify", "--json", journal.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["ok"], false, "{report}");
    let quarantined = report["quarantined"].as_array().expect("the quarantine is listed on failure too");
    assert_eq!(quarantined.len(), 1, "{report}");
    assert_eq!(quarantined[0]["length"], (bytes.len() - at) as u64, "{report}");
    let found = quarantined[0]["records"].as_array().unwrap();
    let seqs: Vec<u64> = found.iter().map(|r| r[1].as_u64().unwrap()).collect();
    let expected: Vec<u64> = records[records.len() - 2..].iter().map(|(_, r)| r.body.seq).collect();
    assert_eq!(seqs, expected, "{report}");
}

#[test]
fn a_demanded_hub_receipt_that_is_missing_fails_verification_with_exit_1() {
    let (tmp, _, journal) = journal_with(3, JournalConfig::default());
    let (hub, _) = exam_journal::SigningKey::generate().unwrap();
    let o = kioskctl(tmp.path(), &["journal", "verify", journal.to_str().unwrap(), "--hub-key", &hub.public_key().to_hex()]);
    assert_eq!(o.status.code(), Some(1), "no receipt to check is a failed check, not a usage error: {}", text(&o));
    assert!(text(&o).contains("FAILED") && text(&o).contains("keeps no hub receipt"), "{}", text(&o));
}

#[test]
fn render_says_when_its_output_cannot_be_written() {
    let tmp = tempfile::tempdir().unwrap();
    let o = kioskctl(tmp.path(), &["policy", "keygen", "--out", "approval.key"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/instruments/demo");
    let o = kioskctl(tmp.path(), &["instrument", "pack", demo.to_str().unwrap(), "--sign", "approval.key", "--out", "d.exam"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let args = ["instrument", "render", "d.exam", "--trust", "approval.key.pub", "--key", "d.exam.key"];
    let o = kioskctl(tmp.path(), &args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_kioskctl")).current_dir(tmp.path()).args(args).stdout(full).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "a render model that was not delivered is no success: {}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("error: writing to stdout"), "{}", text(&o));
}
