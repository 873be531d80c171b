//! The seal of a report: a detached Ed25519 signature by the hub signing key
//! over the report's exact bytes, so any later change shows.
//!
//! The signature file is text:
//!
//! ```text
//! exam-hub seal v1
//! key: <hub signing public key, hex>
//! sha256: <SHA-256 of the file, hex>
//! signature: <Ed25519 signature over SEAL_DOMAIN ‖ file bytes, hex>
//! ```
//!
//! The `key` line says which key signed; a verifier must get the hub's key
//! from elsewhere (the hub's data directory, or the school's published key)
//! and compare, or a forger would simply put in their own.

use ring::signature::{UnparsedPublicKey, ED25519};

/// Domain separator: the hub key also signs receipts and echoes, and a
/// seal must never be mistaken for one of those.
pub const SEAL_DOMAIN: &[u8] = b"exam-hub/report-seal/v1\0";

/// First line of a seal file.
const HEADER: &str = "exam-hub seal v1";

/// A detached seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seal {
    /// The signing public key, hex.
    pub public_key: String,
    /// SHA-256 of the sealed bytes, hex (for people; the signature decides).
    pub sha256: String,
    /// The signature, hex.
    pub signature: String,
}

/// Why a seal does not hold.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// The seal file is not in the expected format.
    #[error("not a seal file: {0}")]
    Malformed(String),
    /// The seal was made with another key than the one trusted.
    #[error("sealed with key {found}, not with the trusted hub key {trusted}")]
    WrongKey {
        /// The key named in the seal.
        found: String,
        /// The trusted key.
        trusted: String,
    },
    /// The file differs from what was sealed.
    #[error("the signature does not match the file: it was changed after sealing (sha256 now {now}, sealed {sealed})")]
    Mismatch {
        /// SHA-256 of the file as it is.
        now: String,
        /// SHA-256 recorded in the seal.
        sealed: String,
    },
}

/// Seals `bytes` with the hub signing key.
pub fn seal(keys: &crate::pki::Keys, bytes: &[u8]) -> Seal {
    let mut message = SEAL_DOMAIN.to_vec();
    message.extend_from_slice(bytes);
    Seal { public_key: keys.signing_public_hex.clone(), sha256: crate::sha256_hex(bytes), signature: keys.sign_hex(&message) }
}

impl Seal {
    /// The seal file's text.
    pub fn to_text(&self) -> String {
        format!("{HEADER}\nkey: {}\nsha256: {}\nsignature: {}\n", self.public_key, self.sha256, self.signature)
    }

    /// Parses a seal file.
    pub fn parse(text: &str) -> Result<Self, SealError> {
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(HEADER) {
            return Err(SealError::Malformed(format!("the first line must be {HEADER:?}")));
        }
        let mut field = |name: &str, len: usize| -> Result<String, SealError> {
            let line = lines.next().ok_or_else(|| SealError::Malformed(format!("missing line {name}:")))?;
            let value = line
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(": "))
                .ok_or_else(|| SealError::Malformed(format!("expected {name}: ..., found {line:?}")))?
                .trim();
            if value.len() != len || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(SealError::Malformed(format!("{name} must be {len} hex digits")));
            }
            Ok(value.to_ascii_lowercase())
        };
        Ok(Self { public_key: field("key", 64)?, sha256: field("sha256", 64)?, signature: field("signature", 128)? })
    }
}

/// Checks that `seal` is the trusted hub key's signature over `bytes`.
pub fn verify_seal(trusted_key_hex: &str, bytes: &[u8], seal: &Seal) -> Result<(), SealError> {
    let trusted = trusted_key_hex.trim().to_ascii_lowercase();
    if seal.public_key != trusted {
        return Err(SealError::WrongKey { found: seal.public_key.clone(), trusted });
    }
    let key = hex::decode(&trusted).map_err(|_| SealError::Malformed("the trusted key is not hex".into()))?;
    let signature = hex::decode(&seal.signature).map_err(|_| SealError::Malformed("the signature is not hex".into()))?;
    let mut message = SEAL_DOMAIN.to_vec();
    message.extend_from_slice(bytes);
    UnparsedPublicKey::new(&ED25519, key)
        .verify(&message, &signature)
        .map_err(|_| SealError::Mismatch { now: crate::sha256_hex(bytes), sealed: seal.sha256.clone() })
}
