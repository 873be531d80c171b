//! `kioskctl journal ...` and `kioskctl instrument pack` end to end, through
//! the real binary: exit codes, messages, and what is left on disk.

use exam_journal::{read_records, segment, Event, Journal, JournalConfig, KeyStore};
use std::io::{BufRead as _, BufReader};
use std::path::Path;
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
    let tmp = tempfile::tempdir().unwrap();
    let store = device(tmp.path());
    let journal = tmp.path().join("journal");
    // Far more output than a pipe buffers, so the writer meets the closed pipe.
    write_journal(&journal, &store, 2000, JournalConfig::default());
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
    let tmp = tempfile::tempdir().unwrap();
    let store = device(tmp.path());
    let journal = tmp.path().join("journal");
    write_journal(&journal, &store, 20, JournalConfig { segment_max_bytes: 1200, ..JournalConfig::default() });
    assert!(journal.join(segment::segment_name(3)).exists());
    std::fs::remove_file(journal.join(segment::segment_name(2))).unwrap();
    let o = kioskctl(tmp.path(), &["journal", "verify", journal.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("FAILED") && text(&o).contains("without gaps"), "{}", text(&o));
}

#[test]
fn append_refuses_a_journal_whose_length_field_hides_records() {
    let tmp = tempfile::tempdir().unwrap();
    let store = device(tmp.path());
    let journal = tmp.path().join("journal");
    write_journal(&journal, &store, 30, JournalConfig::default());
    let seg = journal.join(segment::segment_name(1));
    let at = read_records(&journal).unwrap()[10].1.offset as usize;
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[at..at + 4].copy_from_slice(&60_000u32.to_le_bytes());
    std::fs::write(&seg, &bytes).unwrap();
    let o = kioskctl(
        tmp.path(),
        &["journal", "append", "--journal", journal.to_str().unwrap(), "--store", &store, "--kind", "test.event"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("tampering or disk corruption"), "{}", text(&o));
    assert_eq!(std::fs::read(&seg).unwrap(), bytes, "nothing was cut off");
    assert!(!journal.join(segment::QUARANTINE_DIR).exists(), "nothing was set aside");
    let o = kioskctl(tmp.path(), &["journal", "verify", journal.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn verify_json_lists_the_quarantine() {
    let tmp = tempfile::tempdir().unwrap();
    let store = device(tmp.path());
    let journal = tmp.path().join("journal");
    write_journal(&journal, &store, 3, JournalConfig::default());
    // An interrupted append: 40 bytes of a frame.
    let seg = journal.join(segment::segment_name(1));
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = read_records(&journal).unwrap()[2].1.offset as usize;
    let partial = bytes[at..at + 40].to_vec();
    bytes.extend_from_slice(&partial);
    std::fs::write(&seg, &bytes).unwrap();
    let o = kioskctl(
        tmp.path(),
        &["journal", "append", "--journal", journal.to_str().unwrap(), "--store", &store, "--kind", "test.event"],
    );
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
