//! The device key in a real OS keyring (Secret Service on Linux).
//!
//! `cargo xtask test` runs this inside `dbus-run-session` with an unlocked
//! gnome-keyring and sets `EXAM_KIOSK_KEYRING_TESTS=1`; without that
//! variable there is no Secret Service to talk to and the test says so.

use exam_journal::{Event, Journal, JournalConfig, KeyError, KeyStore};

#[test]
fn device_key_lives_in_the_secret_service() {
    if std::env::var_os("EXAM_KIOSK_KEYRING_TESTS").is_none() {
        eprintln!("SKIPPED: set EXAM_KIOSK_KEYRING_TESTS=1 inside a D-Bus session with gnome-keyring (cargo xtask test does)");
        return;
    }
    // A unique entry, so a developer's real device key is never touched.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let entry = format!("test-{}-{nanos}", std::process::id());
    let store: KeyStore = format!("keyring:{entry}").parse().unwrap();
    assert!(matches!(store.load(), Err(KeyError::Missing(_))), "entry should not exist yet");
    let key = store.create().expect("create in keyring");
    let result = std::panic::catch_unwind(|| {
        let loaded = store.load().expect("load from keyring");
        assert_eq!(loaded.public_key(), key.public_key());
        assert!(matches!(store.create(), Err(KeyError::AlreadyExists(_))));
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path(), loaded, JournalConfig::default()).unwrap();
        journal.append(&Event::new("test.keyring", &serde_json::json!({})).unwrap()).unwrap();
    });
    store.delete().expect("delete test entry");
    assert!(matches!(store.load(), Err(KeyError::Missing(_))));
    result.unwrap();
}
