//! Content keys and the trusted approval keys.

use super::PackageError;
use base64::Engine as _;
use exam_policy::{Policy, PublicKeyHex, Sha256Hex, TrustedKeys};
use ring::rand::{SecureRandom as _, SystemRandom};
use std::path::Path;

/// The AES-256-GCM key of one package. The hub releases it at the start.
#[derive(Clone, PartialEq, Eq)]
pub struct ContentKey([u8; 32]);

impl std::fmt::Debug for ContentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContentKey(..)")
    }
}

impl ContentKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, PackageError> {
        let mut key = [0u8; 32];
        SystemRandom::new().fill(&mut key).map_err(|_| PackageError::Random)?;
        Ok(ContentKey(key))
    }

    /// From raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ContentKey(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses base64 (standard alphabet, as in the hub's `StartResponse`);
    /// surrounding whitespace is allowed.
    pub fn from_base64(text: &str) -> Result<Self, PackageError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| PackageError::BadKey("not base64".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| PackageError::BadKey(format!("{} bytes, expected 32", b.len())))?;
        Ok(ContentKey(key))
    }

    /// Base64 (standard alphabet).
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// Reads a key file (one base64 line, as written by [`ContentKey::save`]).
    pub fn load(path: &Path) -> Result<Self, PackageError> {
        let text = std::fs::read_to_string(path).map_err(|e| PackageError::io(path, e))?;
        Self::from_base64(&text).map_err(|e| match e {
            PackageError::BadKey(m) => PackageError::BadKey(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Writes a key file readable only by its owner (mode 0600), whole or
    /// not at all; refuses to overwrite an existing file (`exam_secure::FileWrite`).
    pub fn save(&self, path: &Path) -> Result<(), PackageError> {
        let text = format!("{}\n", self.to_base64());
        exam_secure::FileWrite::PRIVATE.create_new().write(path, text.as_bytes()).map_err(|e| PackageError::io(path, e))
    }
}

/// One key whose approval signatures are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSigner {
    /// The key's name in the policy (e.g. `exam-committee-2025`), or its hex for trust files.
    pub name: String,
    /// The Ed25519 public key.
    pub public_key: PublicKeyHex,
}

impl TrustedSigner {
    /// The key id: SHA-256 of the raw public key (as in policy bundles).
    pub fn key_id(&self) -> Sha256Hex {
        self.public_key.key_id()
    }
}

/// The approval keys a kiosk accepts: the policy's `[[instrument-key]]` entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstrumentTrust {
    signers: Vec<TrustedSigner>,
}

impl InstrumentTrust {
    /// The policy's trusted instrument keys.
    pub fn from_policy(policy: &Policy) -> Self {
        InstrumentTrust {
            signers: policy
                .instrument_keys
                .iter()
                .map(|k| TrustedSigner { name: k.id.clone(), public_key: k.public_key })
                .collect(),
        }
    }

    /// From a trust file's keys (`kioskctl instrument verify --trust`).
    pub fn from_keys(keys: &TrustedKeys) -> Self {
        InstrumentTrust {
            signers: keys
                .keys()
                .iter()
                .map(|k| TrustedSigner { name: k.to_string(), public_key: *k })
                .collect(),
        }
    }

    /// From explicit signers.
    pub fn new(signers: Vec<TrustedSigner>) -> Self {
        InstrumentTrust { signers }
    }

    /// The signer with this key id.
    pub fn find(&self, key_id: &Sha256Hex) -> Option<&TrustedSigner> {
        self.signers.iter().find(|s| s.key_id() == *key_id)
    }

    /// Whether no key is trusted (then every package is refused).
    pub fn is_empty(&self) -> bool {
        self.signers.is_empty()
    }
}
