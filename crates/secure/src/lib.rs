//! The security primitives of exam-kiosk, in one home (issue 16): every
//! crate that hashes a password or PIN, writes a private file, counts
//! failures in a sliding window or compares secrets uses these, so each is
//! written, reviewed and tested once.
//!
//! A crate of its own, below all others, because its users are at every
//! level: `exam-journal` (key files) depends on no other crate of the
//! workspace, `exam-policy` validates PIN hashes, `exam-instrument` writes
//! content keys, and `kiosk-core`, `exam-hub` and `kioskctl` use all of it.
//! Putting these in `exam-policy` would have made the journal depend on the
//! policy model (TOML, JSON Schema) for one file helper. Its dependencies
//! are `ring` (PBKDF2, randomness) and `subtle` (constant time), and on
//! Windows `windows-sys` (file ACLs).
//!
//! - [`PasswordHash`]: the validated `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`
//!   hash of console passwords and invigilator PINs.
//! - [`FileWrite`] / [`write_private`]: write a file atomically and durably,
//!   mode 0600 on Unix, on Windows a protected DACL granting the current
//!   user only (the crate's one `unsafe` module, `acl`, through `windows-sys`).
//! - [`FailureWindow`]: at most N events in a sliding window, with the clock
//!   passed in (`now_ms`), so tests move time instead of sleeping.
//! - [`constant_time_eq`]: `subtle`'s comparison of two byte strings.

// The one module of this crate allowed `unsafe`: Windows' security API
// (every block says why it is sound, `// SAFETY:`).
#[cfg(windows)]
#[allow(unsafe_code)]
mod acl;
mod file;
mod password;
mod window;

pub use file::{sync_dir, write_private, FileWrite};
pub use password::{PasswordHash, PasswordHashError, HASH_BYTES, ITERATIONS, MIN_ITERATIONS, MIN_SALT_BYTES, SALT_BYTES};
pub use window::{monotonic_ms, FailureWindow};

/// True when `a` and `b` are equal, in time that does not depend on where
/// they differ (`subtle`). A different length is unequal at once, and
/// tells only the length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
