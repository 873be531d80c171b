//! Console passwords: PBKDF2-HMAC-SHA256 from `ring` with a random salt,
//! stored as `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX` (the format of the
//! kiosk's invigilator PIN hashes), checked in constant time.

use ring::pbkdf2;
use std::num::NonZeroU32;

/// Iterations for new hashes (OWASP 2023 guidance for PBKDF2-HMAC-SHA256).
pub const ITERATIONS: u32 = 600_000;
/// Fewest iterations a stored hash may use; weaker ones never match.
pub const MIN_ITERATIONS: u32 = 100_000;
/// Shortest password accepted for a new account.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted (bounds the work an attacker can cause).
pub const MAX_PASSWORD_LEN: usize = 256;

/// Why a password cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short or too long.
    #[error("a password is {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters")]
    Length,
}

/// Hashes `password` with a fresh salt.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&chars) {
        return Err(PasswordError::Length);
    }
    Ok(hash_with(password, &crate::random_bytes(16), ITERATIONS))
}

fn hash_with(password: &str, salt: &[u8], iterations: u32) -> String {
    let mut out = [0u8; 32];
    let rounds = NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, rounds, salt, password.as_bytes(), &mut out);
    format!("pbkdf2-sha256${iterations}${}${}", hex::encode(salt), hex::encode(out))
}

/// True when `password` matches `stored`. A malformed or weak stored hash
/// never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let ["pbkdf2-sha256", iterations, salt, hash] = parts.as_slice() else { return false };
    let (Ok(iterations), Ok(salt), Ok(hash)) = (iterations.parse::<u32>(), hex::decode(salt), hex::decode(hash)) else {
        return false;
    };
    let Some(rounds) = NonZeroU32::new(iterations).filter(|n| n.get() >= MIN_ITERATIONS) else { return false };
    password.len() <= MAX_PASSWORD_LEN * 4
        && pbkdf2::verify(pbkdf2::PBKDF2_HMAC_SHA256, rounds, &salt, password.as_bytes(), &hash).is_ok()
}

/// Spends the same work as [`verify`] on a hash that cannot match, so an
/// unknown user name takes as long as a wrong password.
pub fn verify_nothing(password: &str) {
    const NEVER: &str = "pbkdf2-sha256$600000$00000000000000000000000000000000$0000000000000000000000000000000000000000000000000000000000000000";
    let _ = verify(password, NEVER);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("pbkdf2-sha256$600000$"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterY", &stored));
        assert_ne!(stored, hash("correct horse battery").unwrap(), "salted");
        assert_eq!(hash("short"), Err(PasswordError::Length));
        // Weak or malformed stored hashes never match.
        assert!(!verify("pw", &hash_with("pw", b"salt", 1000)));
        for bad in ["", "plain", "pbkdf2-sha256$x$00$00", "md5$1$00$00"] {
            assert!(!verify("pw", bad), "{bad}");
        }
    }
}
