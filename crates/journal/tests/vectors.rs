//! Test vectors for independent verifiers: `tests/fixtures/journal/vectors/`.
//!
//! Each vector is a journal directory built here, deterministically (fixed
//! seeds, times and session ids; Ed25519 signatures are deterministic), by a
//! small encoder written from `docs/journal-format.md`, not by the writer.
//! `vectors.json` lists each vector's expected verdict: what `verify` says
//! (and where: file, byte offset, sequence) and what a writer does on open.
//!
//! `vectors_on_disk_are_the_generated_ones` fails when the files differ from
//! what this generator makes; regenerate them with
//! `EXAM_JOURNAL_WRITE_VECTORS=1 cargo test -p exam-journal --test vectors -- vectors_on_disk`.
//! `every_vector_has_its_verdict` checks the verdicts against the crate.

use exam_journal::format::{self, Hash, RecordBody, RecordType};
use exam_journal::merkle::MerkleFrontier;
use exam_journal::{segment, verify_journal, Journal, JournalConfig, JournalError, SigningKey, VerifyError, VerifyOptions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const DEVICE_SEED: [u8; 32] = [0x11; 32];

fn device() -> SigningKey {
    SigningKey::from_seed(&DEVICE_SEED)
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/journal/vectors")
}

/// A journal encoder that follows the spec, with fixed keys, times and ids.
struct Builder {
    segments: Vec<Vec<u8>>,
    /// (segment position, offset, frame length) of every record, by sequence.
    places: Vec<(usize, usize, usize)>,
    hashes: Vec<Hash>,
    merkle: MerkleFrontier,
    epoch: u32,
    epoch_key: Option<SigningKey>,
    session: [u8; 16],
    mono_ns: u64,
    wall_time_us: i64,
}

impl Builder {
    /// One segment, one session (epoch certificate first).
    fn new() -> Self {
        let mut b = Self {
            segments: vec![format::encode_segment_header(1).to_vec()],
            places: Vec::new(),
            hashes: Vec::new(),
            merkle: MerkleFrontier::new(),
            epoch: 0,
            epoch_key: None,
            session: [0; 16],
            mono_ns: 0,
            wall_time_us: 1_767_258_000_000_000, // 2026-01-01T09:00:00Z
        };
        b.start_session(1);
        b
    }

    /// The usual base: a session with two events and a checkpoint (records 0..=3).
    fn base() -> Self {
        let mut b = Self::new();
        b.event("session.locked", br#"{"reason":"process"}"#);
        b.event("session.unlocked", br#"{"by":"inv-1"}"#);
        b.checkpoint();
        b
    }

    fn start_session(&mut self, n: u8) {
        self.session = [n; 16];
        self.mono_ns = 0;
        self.certificate("open");
    }

    fn rotate_segment(&mut self) {
        self.segments.push(format::encode_segment_header(self.segments.len() as u64 + 1).to_vec());
    }

    fn certificate(&mut self, reason: &str) -> usize {
        let key = SigningKey::from_seed(&[0x40 + self.epoch as u8 + 1; 32]);
        let payload = format!(
            r#"{{"device_public_key":"{}","epoch_public_key":"{}","reason":"{reason}"}}"#,
            device().public_key().to_hex(),
            key.public_key().to_hex()
        );
        self.epoch += 1;
        let seq = self.push(RecordType::EpochCertificate, "journal.epoch", payload.as_bytes(), &device());
        self.epoch_key = Some(key);
        seq
    }

    fn event(&mut self, kind: &str, payload: &[u8]) -> usize {
        let key = SigningKey::from_seed(&[0x40 + self.epoch as u8; 32]);
        self.push(RecordType::Event, kind, payload, &key)
    }

    fn checkpoint(&mut self) -> usize {
        let payload = format!(r#"{{"tree_size":{},"root_hash":"{}"}}"#, self.hashes.len(), hex::encode(self.merkle.root()));
        self.checkpoint_with(payload.as_bytes())
    }

    fn checkpoint_with(&mut self, payload: &[u8]) -> usize {
        let key = SigningKey::from_seed(&[0x40 + self.epoch as u8; 32]);
        self.push(RecordType::Checkpoint, "journal.checkpoint", payload, &key)
    }

    fn push(&mut self, record_type: RecordType, kind: &str, payload: &[u8], signer: &SigningKey) -> usize {
        let seq = self.hashes.len();
        let body = RecordBody {
            record_type,
            seq: seq as u64,
            wall_time_us: self.wall_time_us,
            mono_ns: self.mono_ns,
            session_id: self.session,
            epoch: self.epoch,
            prev_hash: self.hashes.last().copied().unwrap_or([0; 32]),
            kind: kind.to_owned(),
            payload: payload.to_vec(),
        }
        .encode();
        let hash = format::record_hash(&body);
        let frame = format::encode_frame(&body, &hash, &signer.sign(&format::signed_message(&hash)));
        let segment = self.segments.len() - 1;
        self.places.push((segment, self.segments[segment].len(), frame.len()));
        self.segments[segment].extend_from_slice(&frame);
        self.hashes.push(hash);
        self.merkle.push(&hash);
        self.mono_ns += 1_000_000;
        self.wall_time_us += 1_000_000;
        seq
    }

    /// Offset of record `seq` in its segment.
    fn offset(&self, seq: usize) -> u64 {
        self.places[seq].1 as u64
    }

    /// The frame bytes of record `seq`.
    fn frame(&self, seq: usize) -> Vec<u8> {
        let (segment, offset, len) = self.places[seq];
        self.segments[segment][offset..offset + len].to_vec()
    }

    fn end(&self) -> u64 {
        self.segments.last().unwrap().len() as u64
    }

    fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.segments.iter().enumerate().map(|(i, bytes)| (segment::segment_name(i as u64 + 1), bytes.clone())).collect()
    }
}

/// What `verify` and a writer say about a vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    name: String,
    description: String,
    /// `valid` (exit 0), `invalid` (exit 1) or `unreadable` (not a journal: exit 2).
    verify: String,
    /// For `valid`: the number of records.
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<u64>,
    /// For `invalid`: the file of the first failure, relative to the vector
    /// directory (`""`: the directory itself), its byte offset and, when the
    /// record could be decoded, its sequence number.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    /// What a writer does on open: `appends`, `sets_aside_torn_tail`,
    /// `refuses` (damaged) or `not_a_journal`.
    writer: String,
}

struct Vector {
    expected: Expected,
    files: BTreeMap<String, Vec<u8>>,
}

fn valid(name: &str, description: &str, records: usize, writer: &str, files: BTreeMap<String, Vec<u8>>) -> Vector {
    Vector {
        expected: Expected {
            name: name.into(),
            description: description.into(),
            verify: "valid".into(),
            records: Some(records as u64),
            file: None,
            offset: None,
            seq: None,
            writer: writer.into(),
        },
        files,
    }
}

#[allow(clippy::too_many_arguments)]
fn invalid(
    name: &str,
    description: &str,
    file: &str,
    offset: u64,
    seq: Option<usize>,
    writer: &str,
    files: BTreeMap<String, Vec<u8>>,
) -> Vector {
    Vector {
        expected: Expected {
            name: name.into(),
            description: description.into(),
            verify: "invalid".into(),
            records: None,
            file: Some(file.into()),
            offset: Some(offset),
            seq: seq.map(|s| s as u64),
            writer: writer.into(),
        },
        files,
    }
}

const SEG1: &str = "seg-00000001.journal";

/// A journal `b` a verifier fails at record `seq` (in the first segment) and a writer refuses.
fn refused_record(name: &str, description: &str, b: &Builder, seq: usize) -> Vector {
    invalid(name, description, SEG1, b.offset(seq), Some(seq), "refuses", b.files())
}

fn cursor(seq: usize, hash: &Hash) -> Vec<u8> {
    format!("{{\"acked_seq\":{seq},\"acked_hash\":\"{}\"}}\n", hex::encode(hash)).into_bytes()
}

fn generate() -> Vec<Vector> {
    let mut v = Vec::new();

    // Valid journals.
    let mut b = Builder::new();
    for i in 0..3 {
        b.event("answers.saved", format!(r#"{{"item":"q{i}"}}"#).as_bytes());
    }
    b.rotate_segment();
    b.event("answers.saved", br#"{"item":"q3"}"#);
    b.certificate("record_limit");
    b.event("answers.saved", br#"{"item":"q4"}"#);
    b.checkpoint();
    b.rotate_segment();
    b.start_session(2);
    b.event("session.resumed", br#"{}"#);
    b.checkpoint();
    v.push(valid(
        "rotation",
        "three segments, two writer sessions, an epoch rotated by its record limit, checkpoints",
        b.hashes.len(),
        "appends",
        b.files(),
    ));

    let mut b = Builder::base();
    b.rotate_segment();
    v.push(valid(
        "frameless-last-segment",
        "the last segment holds only its header (a crash right after it was created)",
        b.hashes.len(),
        "appends",
        b.files(),
    ));

    let b = Builder::base();
    let mut files = b.files();
    files.insert("sync-cursor.json".into(), cursor(2, &b.hashes[2]));
    v.push(valid("cursor", "the hub acknowledged records 0..=2", b.hashes.len(), "appends", files));

    // A torn tail, before and after a writer set it aside.
    let b = Builder::base();
    let mut next = Builder::base();
    let torn_seq = next.event("session.locked", br#"{"reason":"focus"}"#);
    let partial = next.frame(torn_seq)[..50].to_vec();
    let mut files = b.files();
    files.get_mut(SEG1).unwrap().extend_from_slice(&partial);
    v.push(invalid(
        "torn-tail",
        "an incomplete final frame (50 bytes of a record) after a crash",
        SEG1,
        b.end(),
        None,
        "sets_aside_torn_tail",
        files,
    ));

    let mut b = Builder::base();
    let torn_at = b.end();
    b.start_session(2);
    let quarantined = format!("quarantine/{SEG1}.{torn_at}.1767258100000000.torn");
    let payload = format!(
        r#"{{"segment":"{SEG1}","offset":{torn_at},"length":50,"sha256":"{}","quarantined_as":"{quarantined}","reason":"record is cut short: needs {} bytes, has 50"}}"#,
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &partial)),
        next.frame(torn_seq).len()
    );
    b.event("journal.torn_tail", payload.as_bytes());
    b.checkpoint();
    let mut files = b.files();
    files.insert(quarantined.clone(), partial.clone());
    v.push(valid(
        "torn-tail-set-aside",
        "the same torn tail after a writer set it aside: in quarantine/, recorded as journal.torn_tail",
        b.hashes.len(),
        "appends",
        files,
    ));

    let b = Builder::base();
    let mut files = b.files();
    files.get_mut(SEG1).unwrap().extend_from_slice(&[0u8; 200]);
    v.push(invalid(
        "zero-filled-tail",
        "200 zero bytes after the last record (space allocated, data never written): a torn tail",
        SEG1,
        b.end(),
        None,
        "sets_aside_torn_tail",
        files,
    ));

    // A damaged length is never a torn tail.
    let mut b = Builder::base();
    for i in 0..4 {
        b.event("answers.saved", format!(r#"{{"item":"q{i}"}}"#).as_bytes());
    }
    let mut files = b.files();
    let at = b.offset(3) as usize;
    files.get_mut(SEG1).unwrap()[at..at + 4].copy_from_slice(&(format::MAX_BODY_LEN as u32).to_le_bytes());
    v.push(invalid(
        "length-hides-records",
        "record 3's body_len set in range but past the end: complete records follow, so this is damage, not a torn tail",
        SEG1,
        b.offset(3),
        None,
        "refuses",
        files,
    ));

    let b = Builder::base();
    let mut files = b.files();
    let last = b.offset(3) as usize + 4 + 90;
    files.get_mut(SEG1).unwrap()[last] ^= 0x01;
    v.push(invalid(
        "bad-hash-final-frame",
        "the final frame is complete but its body no longer matches its hash: damage, not a torn tail",
        SEG1,
        b.offset(3),
        None,
        "refuses",
        files,
    ));

    let b = Builder::base();
    let mut files = b.files();
    let end = b.offset(2) as usize + b.frame(2).len();
    files.get_mut(SEG1).unwrap()[end - 1] ^= 0x01;
    v.push(invalid(
        "bad-signature",
        "record 2's signature changed (its hash still matches); a writer must not append behind it",
        SEG1,
        b.offset(2),
        Some(2),
        "refuses",
        files,
    ));

    let mut b = Builder::base();
    b.event("answers.saved", br#"{"item":"q1"}"#);
    b.event("answers.saved", br#"{"item":"q2"}"#);
    let mut files = b.files();
    let mut moved = b.frame(4);
    moved.extend_from_slice(&b.frame(5));
    files.get_mut(SEG1).unwrap().truncate(b.offset(4) as usize);
    files.insert(format!("quarantine/{SEG1}.{}.1767258100000000.torn", b.offset(4)), moved);
    v.push(invalid(
        "quarantine-holds-records",
        "records 4 and 5 moved to quarantine/: complete records are evidence, never a torn tail",
        &format!("quarantine/{SEG1}.{}.1767258100000000.torn", b.offset(4)),
        0,
        Some(4),
        "appends",
        files,
    ));

    // The cursor: verifiers ignore it (it is not signed); writers never go below it.
    // Each: the cursor's acked_seq, the record whose hash it names, what a writer does.
    let b = Builder::base();
    for (name, description, acked_seq, hash_of, writer) in [
        ("cursor-beyond-end", "the hub acknowledged records through 6, the journal ends at 3 (cut): a writer must not reuse 4..6", 6, 3, "refuses"),
        ("cursor-other-hash", "the acknowledged record 2 has another hash than the cursor's: replaced or rewritten", 2, 1, "refuses"),
        (
            "cursor-at-end",
            "the hub acknowledged every record (0..=3, the last): a fully synced journal; a writer appends record 4",
            3,
            3,
            "appends",
        ),
    ] {
        let mut files = b.files();
        files.insert("sync-cursor.json".into(), cursor(acked_seq, &b.hashes[hash_of]));
        v.push(valid(name, description, b.hashes.len(), writer, files));
    }

    // Directory rules.
    let mut b = Builder::base();
    b.rotate_segment();
    b.start_session(2);
    b.checkpoint();
    b.rotate_segment();
    b.start_session(3);
    let mut files = b.files();
    files.remove("seg-00000002.journal");
    v.push(invalid(
        "segment-gap",
        "segment 2 of 3 deleted: the gap is checked before any segment is read and reported on the directory \
         (segment 3, which begins with record 6 where 4 would be expected, is not reached)",
        "",
        0,
        None,
        "not_a_journal",
        files,
    ));

    let mut b = Builder::base();
    b.rotate_segment();
    b.rotate_segment();
    b.start_session(2);
    v.push(invalid(
        "frameless-middle-segment",
        "a segment with only its header before a later segment",
        "seg-00000002.journal",
        format::SEGMENT_HEADER_LEN as u64,
        None,
        "refuses",
        b.files(),
    ));

    let mut files = BTreeMap::new();
    files.insert(".gitkeep".into(), Vec::new());
    v.push(invalid("empty", "a directory without segments holds no journal to verify", "", 0, None, "appends", files));

    let b = Builder::new();
    let files = BTreeMap::from([(SEG1.to_string(), b.segments[0][..format::SEGMENT_HEADER_LEN].to_vec())]);
    v.push(invalid(
        "single-frameless-segment",
        "one segment holding only its header: it is the last segment, so no failure in it, but the journal holds no record",
        "",
        0,
        None,
        "appends",
        files,
    ));

    let b = Builder::base();
    let mut files = b.files();
    files.insert("seg-00000002.journal".into(), vec![0u8; 40]);
    v.push(invalid(
        "zero-filled-header",
        "the last segment is 40 zero bytes (created, its header never reached the disk): a torn tail at its offset 0",
        "seg-00000002.journal",
        0,
        None,
        "sets_aside_torn_tail",
        files,
    ));

    let b = Builder::base();
    let files = BTreeMap::from([("seg-000000001.journal".to_string(), b.segments[0].clone())]);
    v.push(Vector {
        expected: Expected {
            name: "non-canonical-segment-name".into(),
            description: "seg-000000001.journal (9 digits for index 1) is not a name a writer gives: not a journal".into(),
            verify: "unreadable".into(),
            records: None,
            file: None,
            offset: None,
            seq: None,
            writer: "not_a_journal".into(),
        },
        files,
    });

    // Strictness of payloads and keys.
    let mut b = Builder::base();
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let payload = format!(
        r#"{{"device_public_key":"{}","epoch_public_key":"{}","reason":"open"}}"#,
        device().public_key().to_hex(),
        hex::encode(identity)
    );
    b.session = [2; 16];
    b.epoch += 1;
    let weak = b.push(RecordType::EpochCertificate, "journal.epoch", payload.as_bytes(), &device());
    let mut files = b.files();
    // An event "signed" with R = identity, S = 0, which that key would accept for any message.
    let body = RecordBody {
        record_type: RecordType::Event,
        seq: b.hashes.len() as u64,
        wall_time_us: b.wall_time_us,
        mono_ns: b.mono_ns,
        session_id: b.session,
        epoch: b.epoch,
        prev_hash: *b.hashes.last().unwrap(),
        kind: "session.unlocked".into(),
        payload: br#"{"by":"nobody"}"#.to_vec(),
    }
    .encode();
    let mut forged = [0u8; 64];
    forged[0] = 1;
    files.get_mut(SEG1).unwrap().extend_from_slice(&format::encode_frame(&body, &format::record_hash(&body), &forged));
    v.push(invalid(
        "weak-epoch-key",
        "an epoch certificate for the identity point (small order), then an event with R = identity, S = 0",
        SEG1,
        b.offset(weak),
        Some(weak),
        "refuses",
        files,
    ));

    let mut b = Builder::base();
    let upper = b.hashes.len();
    b.session = [2; 16];
    b.epoch += 1;
    let key = SigningKey::from_seed(&[0x40 + b.epoch as u8; 32]);
    let payload = format!(
        r#"{{"device_public_key":"{}","epoch_public_key":"{}","reason":"open"}}"#,
        device().public_key().to_hex(),
        key.public_key().to_hex().to_uppercase()
    );
    b.push(RecordType::EpochCertificate, "journal.epoch", payload.as_bytes(), &device());
    v.push(invalid(
        "uppercase-hex",
        "an epoch certificate whose epoch_public_key is upper-case hex (hex is lower-case)",
        SEG1,
        b.offset(upper),
        Some(upper),
        "refuses",
        b.files(),
    ));

    let mut b = Builder::base();
    b.start_session(2);
    let payload = format!(
        r#"{{"segment":"{SEG1}","offset":16,"length":50,"sha256":"{}","quarantined_as":"quarantine/{SEG1}.16.1767258100000000.torn","reason":"cut short"}}"#,
        "AB".repeat(32)
    );
    let seq = b.event("journal.torn_tail", payload.as_bytes());
    v.push(refused_record(
        "torn-tail-uppercase-sha256",
        "a journal.torn_tail event whose sha256 is upper-case hex (hex is lower-case)",
        &b,
        seq,
    ));

    let mut b = Builder::base();
    let root = hex::encode(b.merkle.root());
    let size = b.hashes.len();
    let seq = b.checkpoint_with(format!(r#"{{"tree_size":{size}.0,"root_hash":"{root}"}}"#).as_bytes());
    v.push(refused_record(
        "checkpoint-tree-size-not-integer",
        "a checkpoint whose tree_size is written 4.0: integers in journal.* payloads are JSON integers without fraction or exponent",
        &b,
        seq,
    ));

    let mut b = Builder::base();
    let seq = b.event("journal.note", br#"{}"#);
    v.push(refused_record(
        "reserved-kind",
        "an event of kind journal.note: journal.* kinds are reserved",
        &b,
        seq,
    ));

    let mut b = Builder::base();
    let seq = b.event("session.locked", br#"{"reason":"#);
    v.push(refused_record(
        "payload-not-json",
        "an event payload that is not JSON",
        &b,
        seq,
    ));

    let mut b = Builder::base();
    let root = hex::encode(b.merkle.root());
    let size = b.hashes.len();
    let seq = b.checkpoint_with(format!(r#"{{"tree_size":{size},"tree_size":{size},"root_hash":"{root}"}}"#).as_bytes());
    v.push(refused_record(
        "duplicate-field",
        "a checkpoint payload with tree_size twice",
        &b,
        seq,
    ));

    let mut b = Builder::base();
    let root = hex::encode(b.merkle.root());
    let size = b.hashes.len();
    let seq = b.checkpoint_with(format!(r#"{{"tree_size":{size},"root_hash":"{root}","note":"x"}}"#).as_bytes());
    v.push(refused_record(
        "extra-field",
        "a checkpoint payload with a field the format does not define",
        &b,
        seq,
    ));

    v
}

fn files_on_disk(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn expected_json(vectors: &[Vector]) -> String {
    let list: Vec<&Expected> = vectors.iter().map(|v| &v.expected).collect();
    serde_json::to_string_pretty(&list).unwrap() + "\n"
}

#[test]
fn vectors_on_disk_are_the_generated_ones() {
    let vectors = generate();
    let root = vectors_dir();
    if std::env::var_os("EXAM_JOURNAL_WRITE_VECTORS").is_some() {
        let _ = std::fs::remove_dir_all(&root);
        for vector in &vectors {
            for (name, bytes) in &vector.files {
                let path = root.join(&vector.expected.name).join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, bytes).unwrap();
            }
        }
        std::fs::write(root.join("vectors.json"), expected_json(&vectors)).unwrap();
        std::fs::write(root.join("device-public-key.hex"), device().public_key().to_hex() + "\n").unwrap();
    }
    assert_eq!(std::fs::read_to_string(root.join("vectors.json")).unwrap(), expected_json(&vectors));
    // Every vector is verified with this key pinned.
    let key = std::fs::read_to_string(root.join("device-public-key.hex")).unwrap();
    assert_eq!(key.trim(), device().public_key().to_hex());
    for vector in &vectors {
        let on_disk = files_on_disk(&root.join(&vector.expected.name));
        assert_eq!(on_disk, vector.files, "vector {} differs from the generator", vector.expected.name);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for (name, bytes) in files_on_disk(from) {
        let path = to.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn every_vector_has_its_verdict() {
    let root = vectors_dir();
    let listed: Vec<Expected> = serde_json::from_str(&std::fs::read_to_string(root.join("vectors.json")).unwrap()).unwrap();
    assert!(listed.len() >= 20);
    let options = VerifyOptions { device_key: Some(device().public_key()), ..VerifyOptions::default() };
    for expected in &listed {
        let dir = root.join(&expected.name);
        let name = &expected.name;
        match verify_journal(&dir, &options) {
            Ok(report) => {
                assert_eq!(expected.verify, "valid", "{name}: verified, but expected {expected:?}");
                assert_eq!(Some(report.records), expected.records, "{name}");
            }
            Err(VerifyError::Failed(failure)) => {
                assert_eq!(expected.verify, "invalid", "{name}: {failure}");
                let file = failure.file.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/");
                assert_eq!(Some(file), expected.file, "{name}: {failure}");
                assert_eq!(Some(failure.offset), expected.offset, "{name}: {failure}");
                assert_eq!(failure.seq, expected.seq, "{name}: {failure}");
            }
            Err(VerifyError::Unreadable(err)) => assert_eq!(expected.verify, "unreadable", "{name}: {err}"),
        }
        // The writer, on a copy.
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("journal");
        copy_dir(&dir, &copy);
        let outcome = match Journal::open(&copy, device(), JournalConfig::default()) {
            Ok(journal) if journal.recovered_torn_tail().is_some() => "sets_aside_torn_tail",
            Ok(_) => "appends",
            Err(JournalError::Damaged { .. }) => "refuses",
            Err(JournalError::NotAJournal { .. }) => "not_a_journal",
            Err(err) => panic!("{name}: writer: {err}"),
        };
        assert_eq!(outcome, expected.writer, "{name}: writer");
    }
}
