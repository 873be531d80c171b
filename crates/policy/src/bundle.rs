//! Ed25519 keys and signed policy bundles (all crypto through `ring`).
//!
//! A bundle is text: a fixed header, an empty line, and the policy TOML
//! verbatim (see `docs/policy.md`):
//!
//! ```text
//! exam-kiosk-policy-bundle: 1
//! key-id: <64 hex: SHA-256 of the signer's raw public key>
//! signature: <base64 Ed25519 signature>
//!
//! <policy TOML>
//! ```
//!
//! The signature covers `DOMAIN || key-id (32 bytes) || u64-BE(len(body)) || body`.

use crate::load::{parse_policy, Diagnostic, PolicyError};
use crate::model::Policy;
use crate::pem;
use crate::types::{PublicKeyHex, Sha256Hex};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use std::path::Path;

/// Domain separator of policy-bundle signatures.
pub const BUNDLE_DOMAIN: &[u8] = b"exam-kiosk/policy-bundle/v1\0";
/// First line of every bundle.
pub const BUNDLE_MAGIC: &str = "exam-kiosk-policy-bundle: 1";
const PEM_LABEL: &str = "PRIVATE KEY";

/// Problems with keys and bundles.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The text is not a bundle (no magic line), i.e. an unsigned policy.
    #[error("{file}: not a signed policy bundle (unsigned policies are refused in exam mode; sign it with `kioskctl policy sign`)")]
    Unsigned {
        /// The file.
        file: String,
    },
    /// The bundle header is malformed.
    #[error("{file}:{line}:1: malformed bundle header: {message}")]
    Malformed {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The signer's key is not among the trusted keys.
    #[error("{file}: signed by key {key_id}, which is not a trusted policy key")]
    UntrustedKey {
        /// The file.
        file: String,
        /// The key id in the bundle.
        key_id: Sha256Hex,
    },
    /// The signature does not verify: the policy was changed or the signature forged.
    #[error("{file}: BAD SIGNATURE: the policy does not match its signature (changed after signing, or not signed by key {key_id})")]
    BadSignature {
        /// The file.
        file: String,
        /// The key id in the bundle.
        key_id: Sha256Hex,
    },
    /// A key file or key text is invalid.
    #[error("{0}")]
    Key(String),
}

/// An Ed25519 signing key (PKCS#8 in a PEM `PRIVATE KEY` block on disk).
pub struct SigningKey {
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(public={})", self.public_key())
    }
}

impl SigningKey {
    /// Generates a new random key.
    pub fn generate() -> Result<Self, BundleError> {
        let rng = SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| BundleError::Key("cannot generate an Ed25519 key".into()))?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a key from PKCS#8 DER (v1 or v2).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, BundleError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| BundleError::Key(format!("not an Ed25519 PKCS#8 key: {e}")))?;
        Ok(SigningKey {
            pair,
            pkcs8: der.to_vec(),
        })
    }

    /// Parses a PEM `PRIVATE KEY` block.
    pub fn from_pem(text: &str) -> Result<Self, BundleError> {
        let der = pem::decode_block(text, PEM_LABEL).map_err(BundleError::Key)?;
        Self::from_pkcs8(&der)
    }

    /// Reads a key file written by [`SigningKey::to_pem`].
    pub fn load(path: &Path) -> Result<Self, BundleError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BundleError::Key(format!("{}: cannot read key: {e}", path.display())))?;
        Self::from_pem(&text).map_err(|e| BundleError::Key(format!("{}: {e}", path.display())))
    }

    /// The key as a PEM `PRIVATE KEY` block (PKCS#8).
    pub fn to_pem(&self) -> String {
        pem::encode_block(&self.pkcs8, PEM_LABEL)
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKeyHex {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        PublicKeyHex(out)
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        let sig = self.pair.sign(msg);
        let mut out = [0u8; 64];
        out.copy_from_slice(sig.as_ref());
        out
    }
}

/// Verifies an Ed25519 signature.
pub fn verify_signature(public_key: &PublicKeyHex, msg: &[u8], sig: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, &public_key.0)
        .verify(msg, sig)
        .is_ok()
}

/// The set of keys whose policy bundles are accepted (installed at enrolment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: Vec<PublicKeyHex>,
}

impl TrustedKeys {
    /// From a list of keys.
    pub fn new(keys: impl IntoIterator<Item = PublicKeyHex>) -> Self {
        TrustedKeys {
            keys: keys.into_iter().collect(),
        }
    }

    /// Parses a trust file: one 64-hex public key per line, optionally
    /// followed by a comment; `#` starts a comment line.
    pub fn parse(text: &str, origin: &str) -> Result<Self, BundleError> {
        let mut keys = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let first = line.split_whitespace().next().unwrap_or("");
            let key: PublicKeyHex = first
                .parse()
                .map_err(|e| BundleError::Key(format!("{origin}:{}:1: {e}", i + 1)))?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(BundleError::Key(format!("{origin}: no trusted keys in file")));
        }
        Ok(TrustedKeys { keys })
    }

    /// Reads a trust file.
    pub fn load(path: &Path) -> Result<Self, BundleError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BundleError::Key(format!("{}: cannot read: {e}", path.display())))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The key with this id.
    pub fn find(&self, key_id: &Sha256Hex) -> Option<&PublicKeyHex> {
        self.keys.iter().find(|k| k.key_id() == *key_id)
    }

    /// The keys.
    pub fn keys(&self) -> &[PublicKeyHex] {
        &self.keys
    }
}

fn signed_message(key_id: &Sha256Hex, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(BUNDLE_DOMAIN.len() + 40 + body.len());
    msg.extend_from_slice(BUNDLE_DOMAIN);
    msg.extend_from_slice(&key_id.0);
    msg.extend_from_slice(&(body.len() as u64).to_be_bytes());
    msg.extend_from_slice(body);
    msg
}

/// Signs policy TOML text into a bundle. The policy is validated first
/// (`origin` and `base_dir` as for [`parse_policy`]): nobody signs a broken policy.
pub fn sign_policy(
    text: &str,
    origin: &str,
    base_dir: Option<&Path>,
    key: &SigningKey,
) -> Result<String, PolicyError> {
    parse_policy(text, origin, base_dir)?;
    let key_id = key.public_key().key_id();
    let sig = key.sign(&signed_message(&key_id, text.as_bytes()));
    let sig_b64 = base64::engine::general_purpose::STANDARD.encode(sig);
    Ok(format!(
        "{BUNDLE_MAGIC}\nkey-id: {key_id}\nsignature: {sig_b64}\n\n{text}"
    ))
}

/// Whether the text looks like a bundle (starts with the magic line).
pub fn is_bundle(text: &str) -> bool {
    text.starts_with(BUNDLE_MAGIC)
}

/// A parsed (not yet verified) bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle<'a> {
    /// The signer's key id.
    pub key_id: Sha256Hex,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
    /// The policy TOML.
    pub body: &'a str,
    /// Number of header lines before the body (for diagnostics).
    pub body_line_offset: usize,
}

/// Splits a bundle into header fields and body.
pub fn parse_bundle<'a>(text: &'a str, origin: &str) -> Result<Bundle<'a>, BundleError> {
    if !is_bundle(text) {
        return Err(BundleError::Unsigned {
            file: origin.to_string(),
        });
    }
    let malformed = |line: usize, message: &str| BundleError::Malformed {
        file: origin.to_string(),
        line,
        message: message.to_string(),
    };
    let mut rest = text;
    let mut header = Vec::new();
    for n in 1..=4 {
        let (line, tail) = rest
            .split_once('\n')
            .ok_or_else(|| malformed(n, "header is not followed by an empty line and the policy"))?;
        rest = tail;
        header.push(line.strip_suffix('\r').unwrap_or(line));
    }
    if header[0] != BUNDLE_MAGIC {
        return Err(malformed(1, "unsupported bundle version"));
    }
    let key_id = header[1]
        .strip_prefix("key-id: ")
        .ok_or_else(|| malformed(2, "expected `key-id: <64 hex>`"))?
        .parse::<Sha256Hex>()
        .map_err(|e| malformed(2, &e))?;
    let sig_b64 = header[2]
        .strip_prefix("signature: ")
        .ok_or_else(|| malformed(3, "expected `signature: <base64>`"))?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sig_b64.trim())
        .map_err(|_| malformed(3, "signature is not base64"))?;
    let signature: [u8; 64] = sig
        .try_into()
        .map_err(|_| malformed(3, "an Ed25519 signature has 64 bytes"))?;
    if !header[3].is_empty() {
        return Err(malformed(4, "expected an empty line after the header"));
    }
    Ok(Bundle {
        key_id,
        signature,
        body: rest,
        body_line_offset: 4,
    })
}

/// A policy whose bundle signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPolicy {
    /// The policy.
    pub policy: Policy,
    /// Who signed it.
    pub signer: PublicKeyHex,
    /// SHA-256 of the signed policy text (for the journal).
    pub policy_sha256: Sha256Hex,
}

/// Verifies a bundle against the trusted keys, then parses and validates the
/// policy inside. Diagnostics point at lines of the bundle file.
pub fn verify_bundle(
    text: &str,
    origin: &str,
    base_dir: Option<&Path>,
    trusted: &TrustedKeys,
) -> Result<VerifiedPolicy, PolicyError> {
    let bundle = parse_bundle(text, origin)?;
    let signer = *trusted.find(&bundle.key_id).ok_or(BundleError::UntrustedKey {
        file: origin.to_string(),
        key_id: bundle.key_id,
    })?;
    let msg = signed_message(&bundle.key_id, bundle.body.as_bytes());
    if !verify_signature(&signer, &msg, &bundle.signature) {
        return Err(BundleError::BadSignature {
            file: origin.to_string(),
            key_id: bundle.key_id,
        }
        .into());
    }
    let policy = parse_bundle_body(&bundle, origin, base_dir)?;
    Ok(VerifiedPolicy {
        policy,
        signer,
        policy_sha256: Sha256Hex::digest(bundle.body.as_bytes()),
    })
}

/// Parses a bundle's policy without checking the signature (for `policy
/// check` without trusted keys). Never use this in exam mode.
pub fn parse_bundle_body(bundle: &Bundle<'_>, origin: &str, base_dir: Option<&Path>) -> Result<Policy, PolicyError> {
    parse_policy(bundle.body, origin, base_dir).map_err(|e| match e {
        PolicyError::Invalid(diags) => PolicyError::Invalid(
            diags
                .into_iter()
                .map(|d| Diagnostic {
                    line: d.line + bundle.body_line_offset,
                    ..d
                })
                .collect(),
        ),
        other => other,
    })
}

/// Loads a policy for exam mode: the file must be a bundle signed by a trusted key.
pub fn load_for_exam(path: &Path, trusted: &TrustedKeys) -> Result<VerifiedPolicy, PolicyError> {
    let text = crate::load::read_text(path)?;
    verify_bundle(&text, &path.display().to_string(), path.parent(), trusted)
}
