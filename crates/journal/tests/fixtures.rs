//! The shipped test vectors in tests/fixtures/journal stay valid, and their
//! listed hashes are what the format spec says they are.

use exam_journal::{format, read_records, verify_journal, ExportedCheckpoint, PublicKey, VerifyOptions};
use std::path::PathBuf;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/journal")
}

#[test]
fn fixture_journal_verifies_against_its_key_and_checkpoint() {
    let dir = fixture();
    let key = PublicKey::from_hex(&std::fs::read_to_string(dir.join("device-public-key.hex")).unwrap()).unwrap();
    let checkpoint: ExportedCheckpoint =
        serde_json::from_str(&std::fs::read_to_string(dir.join("checkpoint.json")).unwrap()).unwrap();
    let report = verify_journal(&dir.join("journal"), &VerifyOptions { device_key: Some(key), checkpoint: Some(checkpoint), acknowledged: None })
        .unwrap();
    assert_eq!(report.records, 9);
    assert_eq!(report.external_checkpoint_size, Some(8));
}

#[test]
fn fixture_hashes_follow_the_spec() {
    let dir = fixture();
    let listed: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("records.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let records = read_records(&dir.join("journal")).unwrap();
    assert_eq!(listed.len(), records.len());
    for ((_, record), expected) in records.iter().zip(&listed) {
        // SHA-256("exam-journal/v1/record\0" || body), computed independently here.
        let body = &record.frame[4..record.frame.len() - 96];
        let mut input = b"exam-journal/v1/record\0".to_vec();
        input.extend_from_slice(body);
        let hash = ring::digest::digest(&ring::digest::SHA256, &input);
        assert_eq!(hex::encode(hash.as_ref()), expected["hash"].as_str().unwrap());
        assert_eq!(body, record.body.encode().as_slice());
        assert_eq!(record.body.kind, expected["kind"].as_str().unwrap());
        assert_eq!(format::record_hash(body), record.hash);
    }
}
