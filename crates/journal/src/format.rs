//! The byte-exact on-disk encoding of records, frames and segment headers.
//!
//! `docs/journal-format.md` is the normative description of these bytes; this
//! module is its one implementation. Everything is little-endian.

use ring::digest;

/// Magic bytes at the start of every segment file.
pub const SEGMENT_MAGIC: &[u8; 8] = b"EXJOURN1";
/// Length of a segment header: magic + u64 segment index.
pub const SEGMENT_HEADER_LEN: usize = 16;
/// The only record body version this crate writes and reads.
pub const BODY_VERSION: u8 = 1;
/// Domain separation prefix hashed before a record body.
pub const RECORD_HASH_DOMAIN: &[u8] = b"exam-journal/v1/record\0";
/// Domain separation prefix signed before a record hash.
pub const SIGNATURE_DOMAIN: &[u8] = b"exam-journal/v1/signature\0";
/// Length of a SHA-256 hash.
pub const HASH_LEN: usize = 32;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of a frame that are not the body: length prefix, hash, signature.
pub const FRAME_OVERHEAD: usize = 4 + HASH_LEN + SIGNATURE_LEN;
/// Fixed part of a body before the variable-length kind and payload.
const BODY_FIXED_LEN: usize = 1 + 1 + 8 + 8 + 8 + 16 + 4 + HASH_LEN;
/// Largest accepted body; anything larger is damage, not data.
pub const MAX_BODY_LEN: usize = BODY_FIXED_LEN + 2 + MAX_KIND_LEN + 4 + MAX_PAYLOAD_LEN;
/// Longest event kind, in bytes.
pub const MAX_KIND_LEN: usize = 64;
/// Largest event payload (compact JSON), in bytes.
pub const MAX_PAYLOAD_LEN: usize = 64 * 1024;

/// A SHA-256 hash.
pub type Hash = [u8; HASH_LEN];

/// What a record is; decides which key signs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordType {
    /// An integrity event, signed by the current epoch key.
    Event = 1,
    /// An epoch certificate, signed by the device key.
    EpochCertificate = 2,
    /// A signed tree head over all earlier records, signed by the epoch key.
    Checkpoint = 3,
}

impl RecordType {
    fn from_u8(value: u8) -> Option<Self> {
        match value {
            1 => Some(Self::Event),
            2 => Some(Self::EpochCertificate),
            3 => Some(Self::Checkpoint),
            _ => None,
        }
    }
}

/// The decoded body of one record: everything that is hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBody {
    /// What the record is.
    pub record_type: RecordType,
    /// Position in the journal, from 0, contiguous across segments.
    pub seq: u64,
    /// Wall-clock time in microseconds since the Unix epoch (UTC).
    pub wall_time_us: i64,
    /// Monotonic nanoseconds since the start of this writer session.
    pub mono_ns: u64,
    /// Random id of the writer session (one per program start).
    pub session_id: [u8; 16],
    /// Epoch number whose key signs this record (or, for a certificate, the
    /// epoch it introduces).
    pub epoch: u32,
    /// Hash of the previous record; all zero for sequence 0.
    pub prev_hash: Hash,
    /// Event kind, e.g. `guard.process_ended`.
    pub kind: String,
    /// Compact JSON payload bytes.
    pub payload: Vec<u8>,
}

/// Why bytes could not be decoded as a record body or frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes end before the structure does.
    #[error("record is cut short: needs {needed} bytes, has {available}")]
    Truncated {
        /// Bytes the structure needs.
        needed: usize,
        /// Bytes that are there.
        available: usize,
    },
    /// A field holds a value the format does not allow.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field name as in the spec.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Checks that an event kind is 1..=64 bytes of `[a-z0-9._-]`.
pub fn validate_kind(kind: &str) -> Result<(), String> {
    if kind.is_empty() || kind.len() > MAX_KIND_LEN {
        return Err(format!("must be 1 to {MAX_KIND_LEN} bytes, is {}", kind.len()));
    }
    if let Some(bad) = kind
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!("character {bad:?} is not one of a-z 0-9 . _ -"));
    }
    Ok(())
}

impl RecordBody {
    /// Encodes the body into its exact byte form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(BODY_FIXED_LEN + 6 + self.kind.len() + self.payload.len());
        out.push(BODY_VERSION);
        out.push(self.record_type as u8);
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.wall_time_us.to_le_bytes());
        out.extend_from_slice(&self.mono_ns.to_le_bytes());
        out.extend_from_slice(&self.session_id);
        out.extend_from_slice(&self.epoch.to_le_bytes());
        out.extend_from_slice(&self.prev_hash);
        // Lengths are bounded by validate_kind / MAX_PAYLOAD_LEN before encoding.
        out.extend_from_slice(&(self.kind.len() as u16).to_le_bytes());
        out.extend_from_slice(self.kind.as_bytes());
        out.extend_from_slice(&(self.payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    /// Decodes a body; the whole slice must be consumed.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.u8()?;
        if version != BODY_VERSION {
            return Err(invalid("version", format!("{version}, expected {BODY_VERSION}")));
        }
        let type_byte = r.u8()?;
        let record_type = RecordType::from_u8(type_byte)
            .ok_or_else(|| invalid("record type", format!("{type_byte} is not 1, 2 or 3")))?;
        let seq = r.u64()?;
        let wall_time_us = r.u64()? as i64;
        let mono_ns = r.u64()?;
        let session_id = r.array::<16>()?;
        let epoch = r.u32()?;
        let prev_hash = r.array::<HASH_LEN>()?;
        let kind_len = r.u16()? as usize;
        let kind_bytes = r.take(kind_len)?;
        let kind = std::str::from_utf8(kind_bytes)
            .map_err(|_| invalid("kind", "not UTF-8".into()))?
            .to_owned();
        validate_kind(&kind).map_err(|reason| invalid("kind", reason))?;
        let payload_len = r.u32()? as usize;
        if payload_len > MAX_PAYLOAD_LEN {
            return Err(invalid("payload length", format!("{payload_len} > {MAX_PAYLOAD_LEN}")));
        }
        let payload = r.take(payload_len)?.to_vec();
        if r.pos != bytes.len() {
            return Err(invalid("body length", format!("{} trailing bytes", bytes.len() - r.pos)));
        }
        Ok(Self { record_type, seq, wall_time_us, mono_ns, session_id, epoch, prev_hash, kind, payload })
    }
}

/// SHA-256 over the record-hash domain and the body bytes.
pub fn record_hash(body: &[u8]) -> Hash {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(RECORD_HASH_DOMAIN);
    ctx.update(body);
    to_hash(ctx.finish())
}

/// The exact message an Ed25519 key signs for a record.
pub fn signed_message(hash: &Hash) -> [u8; SIGNATURE_DOMAIN.len() + HASH_LEN] {
    let mut msg = [0u8; SIGNATURE_DOMAIN.len() + HASH_LEN];
    msg[..SIGNATURE_DOMAIN.len()].copy_from_slice(SIGNATURE_DOMAIN);
    msg[SIGNATURE_DOMAIN.len()..].copy_from_slice(hash);
    msg
}

/// Converts a ring digest into a fixed array.
pub(crate) fn to_hash(digest: digest::Digest) -> Hash {
    let mut out = [0u8; HASH_LEN];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Builds a complete frame: length prefix, body, hash, signature.
pub fn encode_frame(body: &[u8], hash: &Hash, signature: &[u8; SIGNATURE_LEN]) -> Vec<u8> {
    let mut out = Vec::with_capacity(FRAME_OVERHEAD + body.len());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(hash);
    out.extend_from_slice(signature);
    out
}

/// A frame split into its parts, borrowed from the segment bytes.
#[derive(Debug, Clone, Copy)]
pub struct RawFrame<'a> {
    /// The body bytes.
    pub body: &'a [u8],
    /// The stored record hash.
    pub hash: &'a [u8; HASH_LEN],
    /// The stored signature.
    pub signature: &'a [u8; SIGNATURE_LEN],
    /// Total length of the frame in bytes.
    pub len: usize,
}

/// Splits the frame at the start of `bytes`.
///
/// Returns `Ok(None)` when `bytes` is empty, and [`DecodeError::Truncated`]
/// when the frame is incomplete (a torn write).
pub fn split_frame(bytes: &[u8]) -> Result<Option<RawFrame<'_>>, DecodeError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    if bytes.len() < 4 {
        return Err(DecodeError::Truncated { needed: 4, available: bytes.len() });
    }
    let body_len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    if body_len < BODY_FIXED_LEN + 6 || body_len > MAX_BODY_LEN {
        return Err(invalid("body length", format!("{body_len} is outside {}..={MAX_BODY_LEN}", BODY_FIXED_LEN + 6)));
    }
    let len = FRAME_OVERHEAD + body_len;
    if bytes.len() < len {
        return Err(DecodeError::Truncated { needed: len, available: bytes.len() });
    }
    let body = &bytes[4..4 + body_len];
    let hash = bytes[4 + body_len..4 + body_len + HASH_LEN].try_into().expect("length checked");
    let signature = bytes[4 + body_len + HASH_LEN..len].try_into().expect("length checked");
    Ok(Some(RawFrame { body, hash, signature, len }))
}

/// Encodes a segment header.
pub fn encode_segment_header(index: u64) -> [u8; SEGMENT_HEADER_LEN] {
    let mut out = [0u8; SEGMENT_HEADER_LEN];
    out[..8].copy_from_slice(SEGMENT_MAGIC);
    out[8..].copy_from_slice(&index.to_le_bytes());
    out
}

/// Decodes a segment header, returning the segment index it names.
pub fn decode_segment_header(bytes: &[u8]) -> Result<u64, DecodeError> {
    if bytes.len() < SEGMENT_HEADER_LEN {
        return Err(DecodeError::Truncated { needed: SEGMENT_HEADER_LEN, available: bytes.len() });
    }
    if &bytes[..8] != SEGMENT_MAGIC {
        return Err(invalid("segment magic", "not an exam journal segment".into()));
    }
    Ok(u64::from_le_bytes(bytes[8..16].try_into().expect("length checked")))
}

fn invalid(field: &'static str, reason: String) -> DecodeError {
    DecodeError::Invalid { field, reason }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|end| *end <= self.bytes.len()).ok_or(
            DecodeError::Truncated { needed: self.pos.saturating_add(n), available: self.bytes.len() },
        )?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        Ok(self.take(N)?.try_into().expect("take returns N bytes"))
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RecordBody {
        RecordBody {
            record_type: RecordType::Event,
            seq: 7,
            wall_time_us: 1_700_000_000_000_000,
            mono_ns: 42,
            session_id: [9; 16],
            epoch: 3,
            prev_hash: [1; 32],
            kind: "guard.process_ended".into(),
            payload: br#"{"pid":12}"#.to_vec(),
        }
    }

    #[test]
    fn body_round_trips() {
        let body = sample();
        assert_eq!(RecordBody::decode(&body.encode()).unwrap(), body);
    }

    #[test]
    fn body_rejects_trailing_bytes_and_bad_kind() {
        let mut bytes = sample().encode();
        bytes.push(0);
        assert!(RecordBody::decode(&bytes).is_err());
        let mut bad = sample();
        bad.kind = "Guard".into();
        assert!(RecordBody::decode(&bad.encode()).is_err());
    }

    #[test]
    fn kinds_are_restricted() {
        assert!(validate_kind("session.locked").is_ok());
        assert!(validate_kind("").is_err());
        assert!(validate_kind("a b").is_err());
        assert!(validate_kind(&"a".repeat(65)).is_err());
    }

    #[test]
    fn incomplete_frame_is_truncated() {
        let body = sample().encode();
        let frame = encode_frame(&body, &record_hash(&body), &[0; 64]);
        for cut in 1..frame.len() {
            assert!(matches!(split_frame(&frame[..cut]), Err(DecodeError::Truncated { .. }) | Err(DecodeError::Invalid { .. })));
        }
        assert_eq!(split_frame(&frame).unwrap().unwrap().len, frame.len());
    }
}
