//! Device identity keys, epoch keys, and where device keys are stored.
//!
//! The device key is long-lived and lives in the OS keyring (or, as an
//! explicit option for tests and headless machines, a file readable only by
//! its owner). It signs nothing but epoch certificates. Every record is signed
//! by a short-lived epoch key that exists only in memory and is dropped when
//! its epoch ends.

use crate::format::SIGNATURE_LEN;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use std::fmt;
use std::path::{Path, PathBuf};

/// Length of an Ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Keyring service under which the device key is stored.
pub const KEYRING_SERVICE: &str = "exam-kiosk";
/// Default keyring entry name for the device key.
pub const DEFAULT_KEYRING_ENTRY: &str = "device-signing-key";
/// First line of a device key file.
const KEY_FILE_HEADER: &str = "exam-kiosk device key v1 (PKCS#8 Ed25519, base64)";

/// Errors about keys and key stores.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The store holds no device key yet.
    #[error("no device key in {0}; create one with `kioskctl device init --store ...`")]
    Missing(String),
    /// A key already exists and would be overwritten.
    #[error("a device key already exists in {0}; refusing to overwrite it")]
    AlreadyExists(String),
    /// The stored bytes are not a valid key.
    #[error("the device key in {store} is damaged: {reason}")]
    Damaged {
        /// Which store.
        store: String,
        /// What is wrong.
        reason: String,
    },
    /// A public key given by the user is malformed.
    #[error("invalid public key: {0}")]
    InvalidPublicKey(String),
    /// Reading or writing a key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The OS keyring refused or is unavailable.
    #[error("OS keyring ({entry}): {reason}")]
    Keyring {
        /// The entry name.
        entry: String,
        /// The keyring's message.
        reason: String,
    },
    /// The system random generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// An Ed25519 public key with its derived device id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub [u8; PUBLIC_KEY_LEN]);

impl PublicKey {
    /// Parses 64 hex digits (surrounding whitespace allowed).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|e| KeyError::InvalidPublicKey(e.to_string()))?;
        let array: [u8; PUBLIC_KEY_LEN] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| KeyError::InvalidPublicKey(format!("{} bytes, expected 32", b.len())))?;
        Ok(Self(array))
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The device id: the first 16 bytes of SHA-256 over the public key, hex.
    pub fn device_id(&self) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, &self.0);
        hex::encode(&digest.as_ref()[..16])
    }

    /// True when the key is not a point of the curve, or is a point of small
    /// order (the identity among them). Such a key has no secret behind it:
    /// with it, a signature like `R` = identity, `S` = 0 verifies for every
    /// message under the cofactored ZIP 215 equation. Weak keys verify nothing.
    pub fn is_weak(&self) -> bool {
        curve25519_dalek_ng::edwards::CompressedEdwardsY(self.0).decompress().is_none_or(|point| point.is_small_order())
    }

    /// Verifies an Ed25519 signature over `message` (ZIP 215 rules, see
    /// [`SignatureBatch`]). A weak key ([`PublicKey::is_weak`]) verifies nothing.
    pub fn verify(&self, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
        if self.is_weak() {
            return false;
        }
        match ed25519_consensus::VerificationKey::try_from(self.0) {
            Ok(key) => key.verify(&ed25519_consensus::Signature::from(*signature), message).is_ok(),
            Err(_) => false,
        }
    }
}

/// Signatures collected to be verified together.
///
/// Batch verification is several times faster than one check per signature
/// (a hub verifies hundreds of thousands of journal records at an exam start).
/// Single and batch checks both follow ZIP 215 (canonical `S`, cofactored
/// equation), so a batch passes exactly when every signature in it would
/// pass [`PublicKey::verify`]; a failed batch does not say which signature
/// failed, so callers then check one by one.
#[derive(Default)]
pub struct SignatureBatch {
    verifier: ed25519_consensus::batch::Verifier,
    len: usize,
    /// A key that is not a valid curve point fails the whole batch.
    invalid_key: bool,
}

impl SignatureBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one signature to check.
    pub fn queue(&mut self, key: &PublicKey, message: &[u8], signature: &[u8; SIGNATURE_LEN]) {
        match ed25519_consensus::VerificationKeyBytes::try_from(key.0.as_slice()) {
            Ok(_) if key.is_weak() => self.invalid_key = true,
            Ok(key) => self.verifier.queue((key, ed25519_consensus::Signature::from(*signature), message)),
            Err(_) => self.invalid_key = true,
        }
        self.len += 1;
    }

    /// How many signatures are queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether every queued signature verifies (an empty batch does).
    pub fn verify(self) -> bool {
        // The random weights keep a forger from making bad signatures cancel out.
        !self.invalid_key && self.verifier.verify(rand_core::OsRng).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// An Ed25519 signing key. Its private half never leaves this type.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    public: PublicKey,
}

impl SigningKey {
    /// Generates a fresh key; returns it with its PKCS#8 encoding.
    pub fn generate() -> Result<(Self, Vec<u8>), KeyError> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Random)?;
        let key = Self::from_pkcs8(pkcs8.as_ref()).map_err(|reason| KeyError::Damaged { store: "memory".into(), reason })?;
        Ok((key, pkcs8.as_ref().to_vec()))
    }

    /// The key of a fixed 32-byte seed (RFC 8032 private key). Only for
    /// deterministic test vectors: a device or epoch key is always generated.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).expect("any 32 bytes are an Ed25519 seed");
        let public = PublicKey(pair.public_key().as_ref().try_into().expect("Ed25519 public keys are 32 bytes"));
        Self { pair, public }
    }

    /// Loads a key from PKCS#8 bytes.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, String> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|e| format!("not an Ed25519 PKCS#8 key ({e})"))?;
        let public = PublicKey(pair.public_key().as_ref().try_into().map_err(|_| "public key length".to_string())?);
        Ok(Self { pair, public })
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.pair.sign(message).as_ref().try_into().expect("Ed25519 signatures are 64 bytes")
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print private material.
        write!(f, "SigningKey(public={})", self.public.to_hex())
    }
}

/// Where the device key lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyStore {
    /// The OS keyring (Secret Service, Windows Credential Manager, macOS
    /// Keychain), under service [`KEYRING_SERVICE`] and the given entry.
    Keyring {
        /// Entry (user) name; [`DEFAULT_KEYRING_ENTRY`] by default.
        entry: String,
    },
    /// A file readable only by its owner; for tests and headless machines.
    File(PathBuf),
}

impl std::str::FromStr for KeyStore {
    type Err = String;

    /// Parses `keyring`, `keyring:ENTRY` or `file:PATH`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text == "keyring" {
            Ok(Self::Keyring { entry: DEFAULT_KEYRING_ENTRY.into() })
        } else if let Some(entry) = text.strip_prefix("keyring:").filter(|e| !e.is_empty()) {
            Ok(Self::Keyring { entry: entry.into() })
        } else if let Some(path) = text.strip_prefix("file:").filter(|p| !p.is_empty()) {
            Ok(Self::File(PathBuf::from(path)))
        } else {
            Err(format!("{text:?} is not a key store; expected `keyring`, `keyring:ENTRY` or `file:PATH`"))
        }
    }
}

impl fmt::Display for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keyring { entry } => write!(f, "keyring:{entry}"),
            Self::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

impl KeyStore {
    /// Creates a new device key in this store; refuses to overwrite one.
    pub fn create(&self) -> Result<SigningKey, KeyError> {
        let (key, pkcs8) = SigningKey::generate()?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&pkcs8);
        match self {
            Self::File(path) => write_key_file(path, &encoded)?,
            Self::Keyring { entry } => keyring_store::create(entry, &encoded)?,
        }
        Ok(key)
    }

    /// Loads the device key from this store.
    pub fn load(&self) -> Result<SigningKey, KeyError> {
        let encoded = match self {
            Self::File(path) => read_key_file(path)?,
            Self::Keyring { entry } => keyring_store::load(entry)?,
        };
        let damaged = |reason: String| KeyError::Damaged { store: self.to_string(), reason };
        let pkcs8 = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| damaged(format!("not base64 ({e})")))?;
        SigningKey::from_pkcs8(&pkcs8).map_err(damaged)
    }

    /// Removes the device key from this store (used by tests and uninstall).
    pub fn delete(&self) -> Result<(), KeyError> {
        match self {
            Self::File(path) => std::fs::remove_file(path).map_err(|source| KeyError::Io { path: path.clone(), source }),
            Self::Keyring { entry } => keyring_store::delete(entry),
        }
    }
}

/// First line of a secret file written by [`KeyStore::create_secret`].
const SECRET_FILE_HEADER: &str = "exam-kiosk secret v1 (32 bytes, base64)";

impl KeyStore {
    /// Creates a new random 32-byte secret (e.g. the answer-store key) in
    /// this store; refuses to overwrite an existing one. A store holds either
    /// a device key or a secret, so use a separate entry or file.
    pub fn create_secret(&self) -> Result<[u8; 32], KeyError> {
        use ring::rand::SecureRandom as _;
        let mut secret = [0u8; 32];
        SystemRandom::new().fill(&mut secret).map_err(|_| KeyError::Random)?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(secret);
        match self {
            Self::File(path) => write_secret_file(path, &encoded)?,
            Self::Keyring { entry } => keyring_store::create(entry, &encoded)?,
        }
        Ok(secret)
    }

    /// Loads a secret created by [`KeyStore::create_secret`].
    pub fn load_secret(&self) -> Result<[u8; 32], KeyError> {
        let encoded = match self {
            Self::File(path) => read_secret_file(path)?,
            Self::Keyring { entry } => keyring_store::load(entry)?,
        };
        let damaged = |reason: String| KeyError::Damaged { store: self.to_string(), reason };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|e| damaged(format!("not base64 ({e})")))?;
        bytes.try_into().map_err(|b: Vec<u8>| damaged(format!("{} bytes, expected 32", b.len())))
    }

    /// Loads the secret, creating it first when the store has none.
    pub fn load_or_create_secret(&self) -> Result<[u8; 32], KeyError> {
        match self.load_secret() {
            Err(KeyError::Missing(_)) => match self.create_secret() {
                Err(KeyError::AlreadyExists(_)) => self.load_secret(),
                other => other,
            },
            other => other,
        }
    }
}

fn write_secret_file(path: &Path, encoded: &str) -> Result<(), KeyError> {
    write_new_private(path, &format!("{SECRET_FILE_HEADER}\n{encoded}\n"))
}

/// A new key file, 0600, never overwriting one: written whole or not at all
/// (`exam_secure::FileWrite`), so a crash never leaves half a key.
fn write_new_private(path: &Path, text: &str) -> Result<(), KeyError> {
    exam_secure::FileWrite::PRIVATE.create_new().write(path, text.as_bytes()).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::AlreadyExists(format!("file:{}", path.display()))
        } else {
            KeyError::Io { path: path.to_owned(), source }
        }
    })
}

fn read_secret_file(path: &Path) -> Result<String, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            KeyError::Missing(format!("file:{}", path.display()))
        } else {
            KeyError::Io { path: path.to_owned(), source }
        }
    })?;
    let mut lines = text.lines();
    if lines.next() != Some(SECRET_FILE_HEADER) {
        return Err(KeyError::Damaged {
            store: format!("file:{}", path.display()),
            reason: format!("first line is not {SECRET_FILE_HEADER:?}"),
        });
    }
    Ok(lines.collect())
}

fn write_key_file(path: &Path, encoded: &str) -> Result<(), KeyError> {
    write_new_private(path, &format!("{KEY_FILE_HEADER}\n{encoded}\n"))
}

fn read_key_file(path: &Path) -> Result<String, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            KeyError::Missing(format!("file:{}", path.display()))
        } else {
            KeyError::Io { path: path.to_owned(), source }
        }
    })?;
    let mut lines = text.lines();
    if lines.next() != Some(KEY_FILE_HEADER) {
        return Err(KeyError::Damaged {
            store: format!("file:{}", path.display()),
            reason: format!("first line is not {KEY_FILE_HEADER:?}"),
        });
    }
    Ok(lines.collect())
}

#[cfg(feature = "keyring-store")]
mod keyring_store {
    use super::{KeyError, KEYRING_SERVICE};

    fn entry(name: &str) -> Result<keyring::Entry, KeyError> {
        keyring::Entry::new(KEYRING_SERVICE, name).map_err(|e| err(name, e))
    }

    fn err(name: &str, e: keyring::Error) -> KeyError {
        KeyError::Keyring { entry: name.to_owned(), reason: e.to_string() }
    }

    pub fn create(name: &str, encoded: &str) -> Result<(), KeyError> {
        let entry = entry(name)?;
        match entry.get_password() {
            Ok(_) => return Err(KeyError::AlreadyExists(format!("keyring:{name}"))),
            Err(keyring::Error::NoEntry) => {}
            Err(e) => return Err(err(name, e)),
        }
        entry.set_password(encoded).map_err(|e| err(name, e))
    }

    pub fn load(name: &str) -> Result<String, KeyError> {
        match entry(name)?.get_password() {
            Ok(secret) => Ok(secret),
            Err(keyring::Error::NoEntry) => Err(KeyError::Missing(format!("keyring:{name}"))),
            Err(e) => Err(err(name, e)),
        }
    }

    pub fn delete(name: &str) -> Result<(), KeyError> {
        entry(name)?.delete_credential().map_err(|e| err(name, e))
    }
}

#[cfg(not(feature = "keyring-store"))]
mod keyring_store {
    use super::KeyError;

    fn unavailable(name: &str) -> KeyError {
        KeyError::Keyring { entry: name.to_owned(), reason: "built without the keyring-store feature".into() }
    }
    pub fn create(name: &str, _: &str) -> Result<(), KeyError> {
        Err(unavailable(name))
    }
    pub fn load(name: &str) -> Result<String, KeyError> {
        Err(unavailable(name))
    }
    pub fn delete(name: &str) -> Result<(), KeyError> {
        Err(unavailable(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_round_trip_and_no_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let store: KeyStore = format!("file:{}", dir.path().join("k").display()).parse().unwrap();
        assert!(matches!(store.load(), Err(KeyError::Missing(_))));
        let key = store.create().unwrap();
        assert_eq!(store.load().unwrap().public_key(), key.public_key());
        assert!(matches!(store.create(), Err(KeyError::AlreadyExists(_))));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("k")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn damaged_key_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, format!("{KEY_FILE_HEADER}\nnot-base64!")).unwrap();
        assert!(matches!(KeyStore::File(path).load(), Err(KeyError::Damaged { .. })));
    }

    #[test]
    fn secret_store_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::File(dir.path().join("s"));
        assert!(matches!(store.load_secret(), Err(KeyError::Missing(_))));
        let a = store.load_or_create_secret().unwrap();
        assert_eq!(store.load_or_create_secret().unwrap(), a);
        assert!(matches!(store.create_secret(), Err(KeyError::AlreadyExists(_))));
        // A device key file is not a secret file.
        let dev = KeyStore::File(dir.path().join("d"));
        dev.create().unwrap();
        assert!(matches!(dev.load_secret(), Err(KeyError::Damaged { .. })));
    }

    #[test]
    fn store_syntax() {
        assert_eq!("keyring".parse::<KeyStore>().unwrap(), KeyStore::Keyring { entry: DEFAULT_KEYRING_ENTRY.into() });
        assert!("keyring:".parse::<KeyStore>().is_err());
        assert!("disk:/x".parse::<KeyStore>().is_err());
    }

    #[test]
    fn weak_keys_verify_nothing() {
        // The identity point (y = 1): with R = identity and S = 0 the cofactored
        // equation holds for every message.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut forged = [0u8; SIGNATURE_LEN];
        forged[0] = 1;
        let weak = PublicKey(identity);
        assert!(weak.is_weak());
        assert!(!weak.verify(b"anything", &forged));
        let mut batch = SignatureBatch::new();
        batch.queue(&weak, b"anything", &forged);
        assert!(!batch.verify());
        // A point of order 2 (y = -1) is weak too; a real key is not.
        let mut order_two = [0xffu8; 32];
        order_two[0] = 0xec;
        order_two[31] = 0x7f;
        assert!(PublicKey(order_two).is_weak());
        let (key, _) = SigningKey::generate().unwrap();
        assert!(!key.public_key().is_weak());
        assert!(!key.public_key().verify(b"anything", &forged));
    }

    #[test]
    fn signatures_verify_only_for_their_message() {
        let (key, _) = SigningKey::generate().unwrap();
        let sig = key.sign(b"abc");
        assert!(key.public_key().verify(b"abc", &sig));
        assert!(!key.public_key().verify(b"abd", &sig));
        assert_eq!(key.public_key().device_id().len(), 32);
    }
}
