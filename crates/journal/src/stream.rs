//! Incremental verification of a journal that arrives in pieces (the hub).
//!
//! [`ChainVerifier`] checks records one frame at a time with exactly the
//! rules of [`crate::verify_journal`] (hash, sequence, previous-hash link,
//! epoch certificates signed by the device key, records signed by the key of
//! their epoch, session and monotonic-time rules, checkpoint roots), and can
//! stop and continue later from a small serialisable [`ChainState`], so a hub
//! verifies each uploaded batch without re-reading what it already holds.

use crate::format::{self, Hash, RecordBody, RecordType};
use crate::keys::{PublicKey, SignatureBatch};
use crate::merkle::{leaf_hash, node_hash};
use crate::records::{CheckpointPayload, EpochCertificate, TornTail, KIND_CHECKPOINT, KIND_EPOCH, KIND_TORN_TAIL};
use serde::{Deserialize, Serialize};

/// Where verification of a device's journal stands; store it between batches.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainState {
    /// The sequence number the next record must have.
    pub next_seq: u64,
    /// Hash of record `next_seq - 1`, hex; empty before the first record.
    pub last_hash: String,
    /// The device key (hex) every epoch certificate must be signed by, once known.
    pub device_public_key: Option<String>,
    /// Current epoch number (0: none yet).
    pub epoch: u32,
    /// Current epoch key, hex.
    pub epoch_public_key: Option<String>,
    /// Current writer session id, hex.
    pub session_id: Option<String>,
    /// Monotonic time of the last record of that session.
    pub last_mono_ns: u64,
    /// Merkle frontier: (height, hash hex) of the perfect subtrees, left first.
    pub frontier: Vec<(u32, String)>,
    /// Size covered by the last checkpoint record seen (0: none).
    pub last_checkpoint_size: u64,
}

/// One record that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRecord {
    /// The decoded body.
    pub body: RecordBody,
    /// Its record hash.
    pub hash: Hash,
}

/// Continues verification of one device's journal, record by record.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_seq: u64,
    prev_hash: Hash,
    device_key: Option<PublicKey>,
    epoch: Option<(u32, PublicKey)>,
    session: Option<([u8; 16], u64)>,
    frontier: Vec<(u32, Hash)>,
    last_checkpoint_size: u64,
}

impl ChainVerifier {
    /// Starts at record 0. With `device_key`, every epoch certificate must be
    /// signed by it; without, the first certificate's key is trusted.
    pub fn new(device_key: Option<PublicKey>) -> Self {
        Self {
            next_seq: 0,
            prev_hash: [0; 32],
            device_key,
            epoch: None,
            session: None,
            frontier: Vec::new(),
            last_checkpoint_size: 0,
        }
    }

    /// Continues from a stored state.
    pub fn resume(state: &ChainState) -> Result<Self, String> {
        let hash = |text: &str| -> Result<Hash, String> {
            let bytes = hex::decode(text).map_err(|e| format!("chain state hash: {e}"))?;
            bytes.try_into().map_err(|_| "chain state hash is not 32 bytes".to_string())
        };
        let key = |text: &Option<String>| -> Result<Option<PublicKey>, String> {
            text.as_deref().map(|t| PublicKey::from_hex(t).map_err(|e| format!("chain state: {e}"))).transpose()
        };
        let prev_hash = if state.last_hash.is_empty() { [0; 32] } else { hash(&state.last_hash)? };
        let epoch = match (state.epoch, key(&state.epoch_public_key)?) {
            (0, _) | (_, None) => None,
            (n, Some(k)) => Some((n, k)),
        };
        let session = match &state.session_id {
            None => None,
            Some(id) => {
                let bytes = hex::decode(id).map_err(|e| format!("chain state session: {e}"))?;
                let id: [u8; 16] = bytes.try_into().map_err(|_| "chain state session id is not 16 bytes".to_string())?;
                Some((id, state.last_mono_ns))
            }
        };
        let frontier =
            state.frontier.iter().map(|(h, x)| Ok((*h, hash(x)?))).collect::<Result<Vec<_>, String>>()?;
        Ok(Self {
            next_seq: state.next_seq,
            prev_hash,
            device_key: key(&state.device_public_key)?,
            epoch,
            session,
            frontier,
            last_checkpoint_size: state.last_checkpoint_size,
        })
    }

    /// The state to store and resume from.
    pub fn state(&self) -> ChainState {
        ChainState {
            next_seq: self.next_seq,
            last_hash: if self.next_seq == 0 { String::new() } else { hex::encode(self.prev_hash) },
            device_public_key: self.device_key.map(|k| k.to_hex()),
            epoch: self.epoch.map_or(0, |(n, _)| n),
            epoch_public_key: self.epoch.map(|(_, k)| k.to_hex()),
            session_id: self.session.map(|(id, _)| hex::encode(id)),
            last_mono_ns: self.session.map_or(0, |(_, m)| m),
            frontier: self.frontier.iter().map(|(h, x)| (*h, hex::encode(x))).collect(),
            last_checkpoint_size: self.last_checkpoint_size,
        }
    }

    /// The sequence number the next record must have.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The device key, once known.
    pub fn device_key(&self) -> Option<PublicKey> {
        self.device_key
    }

    /// The RFC 9162 Merkle tree head over all records verified so far.
    pub fn merkle_root(&self) -> Hash {
        let mut iter = self.frontier.iter().rev();
        match iter.next() {
            None => {
                let d = ring::digest::digest(&ring::digest::SHA256, b"");
                d.as_ref().try_into().expect("SHA-256 is 32 bytes")
            }
            Some(&(_, last)) => iter.fold(last, |right, (_, left)| node_hash(left, &right)),
        }
    }

    /// Splits a complete frame (exactly one record) into body, hash and signature,
    /// checking the stored hash against the contents.
    pub fn decode_frame(frame: &[u8]) -> Result<(RecordBody, Hash, [u8; 64]), String> {
        let raw = format::split_frame(frame).map_err(|e| e.to_string())?.ok_or("empty record")?;
        if raw.len != frame.len() {
            return Err(format!("{} trailing bytes after the record", frame.len() - raw.len));
        }
        let hash = format::record_hash(raw.body);
        if &hash != raw.hash {
            return Err("stored hash does not match the record's contents".into());
        }
        let body = RecordBody::decode(raw.body).map_err(|e| e.to_string())?;
        Ok((body, hash, *raw.signature))
    }

    /// Verifies the next record, given as its complete frame. On error the
    /// verifier is unchanged.
    pub fn push_frame(&mut self, frame: &[u8]) -> Result<VerifiedRecord, String> {
        let (body, hash, signature) = Self::decode_frame(frame)?;
        let mut next = self.clone();
        next.check_record(&body, &hash, &signature, &mut Signatures::Now)?;
        *self = next;
        Ok(VerifiedRecord { body, hash })
    }

    /// Verifies the next records in order, with one batch signature check
    /// for all of them: the same result as [`ChainVerifier::push_frame`] on
    /// each frame in turn, several times faster. Returns the records that
    /// verified and, if one did not, its index in `frames` and the reason;
    /// the verifier then stands just before that record.
    pub fn push_frames<F: AsRef<[u8]>>(&mut self, frames: &[F]) -> (Vec<VerifiedRecord>, Option<(usize, String)>) {
        let mut next = self.clone();
        let mut batch = SignatureBatch::new();
        let mut records = Vec::with_capacity(frames.len());
        let mut all_checked = true;
        for frame in frames {
            let checked = Self::decode_frame(frame.as_ref())
                .and_then(|(body, hash, signature)| {
                    next.check_record(&body, &hash, &signature, &mut Signatures::Batch(&mut batch))?;
                    Ok(VerifiedRecord { body, hash })
                });
            match checked {
                Ok(record) => records.push(record),
                Err(_) => {
                    all_checked = false;
                    break;
                }
            }
        }
        if all_checked && batch.verify() {
            *self = next;
            return (records, None);
        }
        // Something failed: find the first failing record, one by one, so the
        // reason and position are exactly those of the single checks.
        let mut records = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            match self.push_frame(frame.as_ref()) {
                Ok(record) => records.push(record),
                Err(reason) => return (records, Some((i, reason))),
            }
        }
        (records, None)
    }

    /// Checks one decoded record (its hash already recomputed) and advances.
    /// On error the verifier may be part-way: callers that go on use
    /// [`ChainVerifier::push_frame`], which keeps it unchanged.
    pub(crate) fn check_record(
        &mut self,
        body: &RecordBody,
        hash: &Hash,
        signature: &[u8; 64],
        signatures: &mut Signatures<'_>,
    ) -> Result<(), String> {
        if body.seq != self.next_seq {
            return Err(format!(
                "sequence number is {}, expected {} (a record was removed, duplicated, reordered or inserted)",
                body.seq, self.next_seq
            ));
        }
        if body.prev_hash != self.prev_hash {
            return Err("previous-hash link does not match the record before it".into());
        }
        let message = format::signed_message(hash);
        match body.record_type {
            RecordType::EpochCertificate => self.check_epoch_certificate(body, &message, signature, signatures)?,
            RecordType::Event | RecordType::Checkpoint => {
                let (epoch, key) = self.epoch.ok_or("record before any epoch certificate")?;
                if body.epoch != epoch {
                    return Err(format!("record claims epoch {}, but epoch {epoch} is current", body.epoch));
                }
                if self.session.map(|(id, _)| id) != Some(body.session_id) {
                    return Err("a new writer session must begin with an epoch certificate".into());
                }
                if !signatures.check(&key, &message, signature) {
                    return Err(format!("signature does not verify with the key of epoch {epoch}"));
                }
                if body.kind == KIND_EPOCH {
                    return Err(format!("kind {KIND_EPOCH} is only valid on an epoch certificate"));
                }
                if body.record_type == RecordType::Checkpoint {
                    self.check_checkpoint(body)?;
                } else if body.kind == KIND_CHECKPOINT {
                    return Err(format!("kind {KIND_CHECKPOINT} is only valid on a checkpoint record"));
                } else if body.kind == KIND_TORN_TAIL {
                    serde_json::from_slice::<TornTail>(&body.payload)
                        .map_err(|e| format!("{KIND_TORN_TAIL} payload: {e}"))?
                        .check()?;
                } else if body.kind.starts_with("journal.") {
                    return Err(format!("kind {:?} is reserved (journal.*) and not defined by this format", body.kind));
                } else {
                    let text = std::str::from_utf8(&body.payload).map_err(|e| format!("payload is not UTF-8: {e}"))?;
                    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| format!("payload is not JSON: {e}"))?;
                }
            }
        }
        if let Some((id, last_mono)) = self.session {
            if id == body.session_id && body.mono_ns < last_mono {
                return Err("monotonic time went backwards within a session".into());
            }
        }
        self.session = Some((body.session_id, body.mono_ns));
        self.next_seq += 1;
        self.prev_hash = *hash;
        self.push_leaf(hash);
        Ok(())
    }

    fn push_leaf(&mut self, record_hash: &Hash) {
        let mut node = (0u32, leaf_hash(record_hash));
        while let Some(&(height, left)) = self.frontier.last() {
            if height != node.0 {
                break;
            }
            self.frontier.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        self.frontier.push(node);
    }

    fn check_epoch_certificate(
        &mut self,
        body: &RecordBody,
        message: &[u8],
        signature: &[u8; 64],
        signatures: &mut Signatures<'_>,
    ) -> Result<(), String> {
        if body.kind != KIND_EPOCH {
            return Err(format!("epoch certificate has kind {:?}, expected {KIND_EPOCH}", body.kind));
        }
        let cert: EpochCertificate =
            serde_json::from_slice(&body.payload).map_err(|e| format!("epoch certificate payload: {e}"))?;
        let device = PublicKey::from_hex(&cert.device_public_key).map_err(|e| format!("epoch certificate: {e}"))?;
        let epoch_key = PublicKey::from_hex(&cert.epoch_public_key).map_err(|e| format!("epoch certificate: {e}"))?;
        for (name, key, text) in [("device", &device, &cert.device_public_key), ("epoch", &epoch_key, &cert.epoch_public_key)] {
            if *text != key.to_hex() {
                return Err(format!("epoch certificate: {name}_public_key must be 64 lower-case hex digits"));
            }
            if key.is_weak() {
                return Err(format!(
                    "epoch certificate names a weak {name} key {} (a small-order point that verifies forged signatures)",
                    key.to_hex()
                ));
            }
        }
        if let Some(expected) = self.device_key {
            if expected != device {
                return Err(format!(
                    "epoch certificate names device key {}, expected {}",
                    device.to_hex(),
                    expected.to_hex()
                ));
            }
        }
        if !signatures.check(&device, message, signature) {
            return Err("epoch certificate signature does not verify with the device key (forged certificate)".into());
        }
        let expected_epoch = self.epoch.map_or(1, |(n, _)| n + 1);
        if body.epoch != expected_epoch {
            return Err(format!("epoch certificate for epoch {}, expected {expected_epoch}", body.epoch));
        }
        self.device_key = Some(device);
        self.epoch = Some((body.epoch, epoch_key));
        Ok(())
    }

    fn check_checkpoint(&mut self, body: &RecordBody) -> Result<(), String> {
        if body.kind != KIND_CHECKPOINT {
            return Err(format!("checkpoint has kind {:?}, expected {KIND_CHECKPOINT}", body.kind));
        }
        let payload: CheckpointPayload =
            serde_json::from_slice(&body.payload).map_err(|e| format!("checkpoint payload: {e}"))?;
        if payload.tree_size != body.seq {
            return Err(format!("checkpoint covers {} records, but it is record {}", payload.tree_size, body.seq));
        }
        if payload.root_hash != hex::encode(self.merkle_root()) {
            return Err("checkpoint root hash does not match the records before it".into());
        }
        self.last_checkpoint_size = payload.tree_size;
        Ok(())
    }
}

/// How record signatures are checked: at once, or queued for one batch check
/// (a record that passes the other checks is then only provisionally good).
pub(crate) enum Signatures<'a> {
    /// Verify each signature as it comes.
    Now,
    /// Queue it; the caller verifies the batch.
    Batch(&'a mut SignatureBatch),
}

impl Signatures<'_> {
    fn check(&mut self, key: &PublicKey, message: &[u8], signature: &[u8; 64]) -> bool {
        match self {
            Signatures::Now => key.verify(message, signature),
            Signatures::Batch(batch) => {
                batch.queue(key, message, signature);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, Journal, JournalConfig, SigningKey};

    fn journal(n: usize) -> (tempfile::TempDir, Vec<Vec<u8>>, PublicKey) {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = SigningKey::generate().unwrap();
        let public = key.public_key();
        let config = JournalConfig { checkpoint_every_records: 7, epoch_max_records: 11, ..JournalConfig::default() };
        let mut j = Journal::open(dir.path(), key, config).unwrap();
        for i in 0..n {
            j.append(&Event::new("test.event", &serde_json::json!({ "i": i })).unwrap()).unwrap();
        }
        j.close().unwrap();
        let frames = crate::read_records(dir.path()).unwrap().into_iter().map(|(_, r)| r.frame).collect();
        (dir, frames, public)
    }

    #[test]
    fn verifies_in_pieces_like_the_whole() {
        let (dir, frames, public) = journal(40);
        let mut v = ChainVerifier::new(Some(public));
        for (i, chunk) in frames.chunks(9).enumerate() {
            // Store and resume between batches.
            let state = v.state();
            let json = serde_json::to_string(&state).unwrap();
            v = ChainVerifier::resume(&serde_json::from_str(&json).unwrap()).unwrap();
            for frame in chunk {
                v.push_frame(frame).unwrap_or_else(|e| panic!("batch {i}: {e}"));
            }
        }
        let report = crate::verify_journal(dir.path(), &crate::VerifyOptions::default()).unwrap();
        assert_eq!(v.next_seq(), report.records);
        assert_eq!(Some(v.state().last_hash), report.last_hash);
        assert!(v.state().last_checkpoint_size > 0);
    }

    #[test]
    fn refuses_tampering_and_stays_unchanged() {
        let (_dir, frames, public) = journal(10);
        let mut v = ChainVerifier::new(Some(public));
        v.push_frame(&frames[0]).unwrap();
        v.push_frame(&frames[1]).unwrap();
        let before = v.state();
        // Gap.
        assert!(v.push_frame(&frames[3]).unwrap_err().contains("sequence"));
        // Broken signature.
        let mut bad = frames[2].clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert!(v.push_frame(&bad).unwrap_err().contains("signature"));
        // Changed payload.
        let mut bad = frames[2].clone();
        bad[60] ^= 1;
        assert!(v.push_frame(&bad).is_err());
        // Another device key pinned.
        let (other, _) = SigningKey::generate().unwrap();
        let mut w = ChainVerifier::new(Some(other.public_key()));
        assert!(w.push_frame(&frames[0]).unwrap_err().contains("device key"));
        assert_eq!(v.state(), before);
        v.push_frame(&frames[2]).unwrap();
    }

    /// Batch verification gives what record-by-record verification gives:
    /// the same records, the same failing index and reason, the same state.
    #[test]
    fn batch_push_matches_single_push_under_every_byte_flip() {
        let (_dir, frames, public) = journal(30);
        let split = 5;
        let mut base = ChainVerifier::new(Some(public));
        for frame in &frames[..split] {
            base.push_frame(frame).unwrap();
        }
        let tail = &frames[split..];
        // Untouched: everything verifies.
        let mut batch = base.clone();
        let (records, failure) = batch.push_frames(tail);
        assert_eq!((records.len(), failure), (tail.len(), None));
        // One flipped bit in each position of one record (the last byte of
        // each field region is enough to reach hash, body and signature).
        let target = 7;
        for position in 0..tail[target].len() {
            let mut tampered = tail.to_vec();
            tampered[target][position] ^= 0x01;
            let mut single = base.clone();
            let mut expected = (0, None);
            for (i, frame) in tampered.iter().enumerate() {
                match single.push_frame(frame) {
                    Ok(_) => expected.0 += 1,
                    Err(reason) => {
                        expected.1 = Some((i, reason));
                        break;
                    }
                }
            }
            let mut batch = base.clone();
            let (records, failure) = batch.push_frames(&tampered);
            assert_eq!((records.len(), failure), expected, "flip at byte {position}");
            assert_eq!(batch.state(), single.state(), "flip at byte {position}");
        }
    }

    #[test]
    fn a_forged_signature_fails_the_batch_at_its_record() {
        let (_dir, frames, public) = journal(20);
        let (forger, _) = SigningKey::generate().unwrap();
        let mut tampered = frames.clone();
        // Re-sign record 12 with another key: hash and chain still match.
        let raw = format::split_frame(&tampered[12]).unwrap().unwrap();
        let message = format::signed_message(raw.hash);
        let forged = forger.sign(&message);
        let n = tampered[12].len();
        tampered[12][n - 64..].copy_from_slice(&forged);
        let mut v = ChainVerifier::new(Some(public));
        let (records, failure) = v.push_frames(&tampered);
        assert_eq!(records.len(), 12);
        let (index, reason) = failure.unwrap();
        assert_eq!(index, 12);
        assert!(reason.contains("signature"), "{reason}");
        assert_eq!(v.next_seq(), 12);
    }
}
