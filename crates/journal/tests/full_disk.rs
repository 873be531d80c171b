//! A full disk: appends fail with a clear error, nothing acknowledged is
//! lost, the journal still verifies, and writing resumes once there is room.
//! Uses a tiny tmpfs mounted for the test (root only), so Linux only: under
//! Wine (`cargo xtask test-windows`) there is no mount (docs/platforms.md).
#![cfg(target_os = "linux")]

use exam_journal::{read_records, verify_journal, Event, Journal, JournalConfig, JournalError, SigningKey, VerifyOptions};
use std::process::Command;

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_loses_nothing_acknowledged() {
    let root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false);
    if !root {
        eprintln!("SKIPPED: needs root to mount a small tmpfs");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=48k", "tmpfs"]).arg(tmp.path()).status().unwrap();
    assert!(mounted.success(), "mount tmpfs");
    let _mount = Mount(tmp.path().to_owned());
    let dir = tmp.path().join("journal");
    let (_, pkcs8) = SigningKey::generate().unwrap();
    let open = || Journal::open(&dir, SigningKey::from_pkcs8(&pkcs8).unwrap(), JournalConfig::default());
    let mut journal = open().unwrap();
    let event = Event::new("test.fill", &serde_json::json!({ "pad": "x".repeat(400) })).unwrap();
    let mut acknowledged = Vec::new();
    let error = loop {
        match journal.append(&event) {
            Ok(receipt) => acknowledged.push(receipt),
            Err(err) => break err,
        }
        assert!(acknowledged.len() < 10_000, "the disk never filled");
    };
    assert!(matches!(&error, JournalError::Io { source, .. } if source.raw_os_error() == Some(28)), "{error}");
    assert!(error.to_string().contains("No space left"), "{error}");
    // A second attempt fails the same way and does not damage anything.
    assert!(journal.append(&event).is_err());
    drop(journal);
    verify_journal(&dir, &VerifyOptions::default()).unwrap();
    let records = read_records(&dir).unwrap();
    for receipt in &acknowledged {
        assert_eq!(records[receipt.seq as usize].1.hash, receipt.hash);
    }
    // Room again (the mount grows): the journal opens and continues.
    let grown = Command::new("mount").args(["-o", "remount,size=256k"]).arg(tmp.path()).status().unwrap();
    assert!(grown.success());
    let mut journal = open().unwrap();
    journal.append(&event).unwrap();
    drop(journal);
    verify_journal(&dir, &VerifyOptions::default()).unwrap();
}
