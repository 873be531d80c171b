//! Console passwords: the workspace's one password-hash type
//! (`exam_secure::PasswordHash`: PBKDF2-HMAC-SHA256 with a random salt,
//! stored as `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`, the format of the
//! kiosk's invigilator PINs, checked in constant time), with the console's
//! rules for the password itself.

use exam_secure::PasswordHash;

/// Iterations for new hashes (OWASP 2023 guidance for PBKDF2-HMAC-SHA256).
pub const ITERATIONS: u32 = exam_secure::ITERATIONS;
/// Fewest iterations a stored hash may use; weaker ones never match.
pub const MIN_ITERATIONS: u32 = exam_secure::MIN_ITERATIONS;
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
    /// The system random generator failed (making a salt).
    #[error("the system random generator failed")]
    Random,
}

/// Hashes `password` with a fresh salt; the text to store.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&chars) {
        return Err(PasswordError::Length);
    }
    PasswordHash::create(password).map(|h| h.to_string()).map_err(|_| PasswordError::Random)
}

/// True when `password` matches the `stored` text. A malformed or weak
/// stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    password.len() <= MAX_PASSWORD_LEN * 4 && stored.parse::<PasswordHash>().is_ok_and(|h| h.verify(password))
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
        let weak = PasswordHash::derive("pw", &[1; 16], MIN_ITERATIONS).unwrap().to_string().replace("$100000$", "$1000$");
        assert!(!verify("pw", &weak));
        for bad in ["", "plain", "pbkdf2-sha256$x$00$00", "md5$1$00$00"] {
            assert!(!verify("pw", bad), "{bad}");
        }
    }
}
