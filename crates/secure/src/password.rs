//! Password and PIN hashes: PBKDF2-HMAC-SHA256 (`ring`), stored as
//! `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX` — the console's accounts in
//! the hub's database, the invigilators' PINs in a policy
//! (`kioskctl invigilator pin-hash`). One parser for both, so a hash the
//! policy accepts is one the kiosk can check, and one the kiosk would never
//! match is refused where it is written.

use ring::pbkdf2;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

/// Iterations for new hashes (OWASP 2023 guidance for PBKDF2-HMAC-SHA256).
pub const ITERATIONS: u32 = 600_000;
/// Fewest iterations a stored hash may use; a weaker one does not parse.
pub const MIN_ITERATIONS: u32 = 100_000;
/// Salt length of new hashes, bytes.
pub const SALT_BYTES: usize = 16;
/// Shortest salt a stored hash may have, bytes.
pub const MIN_SALT_BYTES: usize = 8;
/// Length of the derived hash, bytes.
pub const HASH_BYTES: usize = 32;

const SCHEME: &str = "pbkdf2-sha256";

/// Why a text is not a usable password hash, or a hash cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordHashError {
    /// Not four `$`-separated fields starting with the scheme.
    #[error("must be `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`")]
    Format,
    /// The iteration count is not a number.
    #[error("iterations `{0}` is not a whole number")]
    Iterations(String),
    /// Fewer iterations than [`MIN_ITERATIONS`].
    #[error("{0} iterations is too weak: at least {MIN_ITERATIONS}")]
    TooWeak(u32),
    /// The salt is not hex or shorter than [`MIN_SALT_BYTES`].
    #[error("the salt must be at least {MIN_SALT_BYTES} bytes of hex")]
    Salt,
    /// The hash is not [`HASH_BYTES`] bytes of hex.
    #[error("the hash must be {HASH_BYTES} bytes of hex ({} digits)", HASH_BYTES * 2)]
    Hash,
    /// The system random generator failed (making a salt).
    #[error("the system random generator failed")]
    Random,
}

/// A validated PBKDF2-HMAC-SHA256 hash of a password or PIN. It prints
/// (and serialises) as the exact text it was parsed from, so stored hashes,
/// signed policies and databases keep their bytes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PasswordHash {
    text: String,
    iterations: NonZeroU32,
    salt: Vec<u8>,
    hash: [u8; HASH_BYTES],
}

impl PasswordHash {
    /// Parses `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX` (hex in either
    /// case), with at least [`MIN_ITERATIONS`], a salt of at least
    /// [`MIN_SALT_BYTES`] and a hash of [`HASH_BYTES`].
    pub fn parse(text: &str) -> Result<Self, PasswordHashError> {
        let fields: Vec<&str> = text.split('$').collect();
        let [SCHEME, iterations, salt, hash] = fields.as_slice() else {
            return Err(PasswordHashError::Format);
        };
        let iterations = match iterations.parse::<u32>() {
            Ok(n) if iterations.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(PasswordHashError::Iterations((*iterations).to_owned())),
        };
        let iterations = checked_iterations(iterations)?;
        let salt = hex::decode(salt).ok().filter(|s| s.len() >= MIN_SALT_BYTES).ok_or(PasswordHashError::Salt)?;
        let hash = hex::decode(hash).ok().and_then(|h| <[u8; HASH_BYTES]>::try_from(h).ok()).ok_or(PasswordHashError::Hash)?;
        Ok(Self { text: text.to_owned(), iterations, salt, hash })
    }

    /// Hashes `secret` with a fresh random salt and [`ITERATIONS`].
    pub fn create(secret: &str) -> Result<Self, PasswordHashError> {
        let mut salt = [0u8; SALT_BYTES];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt).map_err(|_| PasswordHashError::Random)?;
        Self::derive(secret, &salt, ITERATIONS)
    }

    /// Hashes `secret` with the given salt and iterations (tests use the
    /// fewest allowed, to be quick); the same limits as [`Self::parse`].
    pub fn derive(secret: &str, salt: &[u8], iterations: u32) -> Result<Self, PasswordHashError> {
        let rounds = checked_iterations(iterations)?;
        if salt.len() < MIN_SALT_BYTES {
            return Err(PasswordHashError::Salt);
        }
        let mut hash = [0u8; HASH_BYTES];
        pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, rounds, salt, secret.as_bytes(), &mut hash);
        let text = format!("{SCHEME}${iterations}${}${}", hex::encode(salt), hex::encode(hash));
        Ok(Self { text, iterations: rounds, salt: salt.to_vec(), hash })
    }

    /// True when `secret` is the one hashed; in constant time (ring's
    /// `pbkdf2::verify`).
    pub fn verify(&self, secret: &str) -> bool {
        pbkdf2::verify(pbkdf2::PBKDF2_HMAC_SHA256, self.iterations, &self.salt, secret.as_bytes(), &self.hash).is_ok()
    }

    /// The PBKDF2 iterations.
    pub fn iterations(&self) -> u32 {
        self.iterations.get()
    }

    /// The stored text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn checked_iterations(iterations: u32) -> Result<NonZeroU32, PasswordHashError> {
    NonZeroU32::new(iterations).filter(|n| n.get() >= MIN_ITERATIONS).ok_or(PasswordHashError::TooWeak(iterations))
}

impl FromStr for PasswordHash {
    type Err = PasswordHashError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<String> for PasswordHash {
    type Error = PasswordHashError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<PasswordHash> for String {
    fn from(hash: PasswordHash) -> String {
        hash.text
    }
}

impl fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for PasswordHash {
    /// Scheme and iterations only: a hash is not secret, but has no place in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PasswordHash({SCHEME}, {} iterations)", self.iterations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "pbkdf2-sha256$600000$8b9e1bb698b0900608775a14102f5178$15d61b1803524dd8a9cd79f7e1d4ee0d5b9c868384fd85bdbb296c248892ecdf";

    fn cheap(secret: &str) -> PasswordHash {
        PasswordHash::derive(secret, &[7; 16], MIN_ITERATIONS).unwrap()
    }

    #[test]
    fn round_trips_its_exact_text() {
        let parsed = PasswordHash::parse(GOOD).unwrap();
        assert_eq!(parsed.to_string(), GOOD);
        assert_eq!(parsed.iterations(), 600_000);
        let upper = GOOD.replace("8b9e1bb6", "8B9E1BB6");
        assert_eq!(PasswordHash::parse(&upper).unwrap().to_string(), upper, "the stored bytes stay");
        let json = serde_json::to_string(&parsed).unwrap();
        assert_eq!(json, format!("\"{GOOD}\""));
        assert_eq!(serde_json::from_str::<PasswordHash>(&json).unwrap(), parsed);
    }

    #[test]
    fn verifies_and_refuses() {
        let hash = cheap("4821");
        assert!(hash.verify("4821"));
        assert!(!hash.verify("4822"));
        assert!(!hash.verify(""));
        let again: PasswordHash = hash.to_string().parse().unwrap();
        assert!(again.verify("4821"));
        let fresh = PasswordHash::create("correct horse").unwrap();
        assert!(fresh.as_str().starts_with("pbkdf2-sha256$600000$"));
        assert_ne!(fresh, PasswordHash::create("correct horse").unwrap(), "salted");
    }

    #[test]
    fn says_precisely_what_is_wrong() {
        let cases = [
            ("", PasswordHashError::Format),
            ("plain", PasswordHashError::Format),
            ("md5$1$00$00", PasswordHashError::Format),
            ("pbkdf2-sha256$600000$8b9e1bb698b0900608775a14102f5178", PasswordHashError::Format),
            (&format!("{GOOD}$extra"), PasswordHashError::Format),
            ("pbkdf2-sha256$x$00$00", PasswordHashError::Iterations("x".into())),
            ("pbkdf2-sha256$+600000$8b9e1bb698b0900608775a14102f5178$00", PasswordHashError::Iterations("+600000".into())),
            ("pbkdf2-sha256$1000$8b9e1bb698b0900608775a14102f5178$00", PasswordHashError::TooWeak(1000)),
            ("pbkdf2-sha256$0$8b9e1bb698b0900608775a14102f5178$00", PasswordHashError::TooWeak(0)),
            ("pbkdf2-sha256$600000$8b9e$15d6", PasswordHashError::Salt),
            ("pbkdf2-sha256$600000$zz9e1bb698b0900608775a14102f5178$00", PasswordHashError::Salt),
            ("pbkdf2-sha256$600000$8b9e1bb698b0900608775a14102f5178$15d61b18", PasswordHashError::Hash),
            ("pbkdf2-sha256$600000$8b9e1bb698b0900608775a14102f5178$", PasswordHashError::Hash),
        ];
        for (text, want) in cases {
            assert_eq!(PasswordHash::parse(text), Err(want), "{text}");
        }
        assert_eq!(PasswordHash::derive("x", b"salt", MIN_ITERATIONS), Err(PasswordHashError::Salt));
        assert_eq!(PasswordHash::derive("x", &[0; 16], 10), Err(PasswordHashError::TooWeak(10)));
        assert_eq!(PasswordHashError::Hash.to_string(), "the hash must be 32 bytes of hex (64 digits)");
    }

    #[test]
    fn debug_keeps_the_hash_out_of_logs() {
        let shown = format!("{:?}", PasswordHash::parse(GOOD).unwrap());
        assert!(!shown.contains("15d61b18") && !shown.contains("8b9e"), "{shown}");
    }
}
