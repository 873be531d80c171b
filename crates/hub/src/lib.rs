//! # exam-hub
//!
//! The school's server for exam-kiosk: enrolment of kiosks (client
//! certificates from the hub's device CA), the planning (students, sittings,
//! accommodations, one-time access codes), login, assignments, instrument
//! delivery with range requests, verified journal sync, answer receipts,
//! heartbeats and instructions to kiosks.
//!
//! HTTPS only (rustls, TLS 1.3, ring); every kiosk request after enrolment is
//! mutual TLS. Storage is SQLite in the data directory, or PostgreSQL for
//! several stateless hub nodes sharing one database. `docs/hub.md` is the
//! operator's guide, `docs/protocol.md` the API.

pub mod accounts;
pub mod admin;
pub mod answer_history;
pub mod answers_api;
pub mod api;
pub mod audit;
pub mod config;
pub mod console;
pub mod db;
pub mod enforcement;
pub mod error;
pub mod instructions;
pub mod journal;
pub mod lockout;
pub mod pki;
pub mod planning;
pub mod ratelimit;
pub mod reports;
pub mod secrets;
pub mod server;
pub mod state;
pub mod store;
pub mod web_session;

/// Current time, unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `len` random bytes from the system generator.
pub fn random_bytes(len: usize) -> Vec<u8> {
    use ring::rand::SecureRandom as _;
    let mut out = vec![0u8; len];
    // The system generator fails only on a broken OS; the all-zero result
    // would then be refused by uniqueness constraints rather than reused.
    let _ = ring::rand::SystemRandom::new().fill(&mut out);
    out
}

/// A random identifier: 16 random bytes, hex.
pub fn random_id() -> String {
    hex::encode(random_bytes(16))
}

/// SHA-256, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// Text from a person (a name, a reason, a remark): 1..=`max` characters, no
/// control characters except line breaks and tabs. The error in Dutch.
pub fn check_text(what: &str, text: &str, max: usize) -> Result<(), String> {
    let ok = !text.trim().is_empty() && text.chars().count() <= max && !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    if ok {
        Ok(())
    } else {
        Err(format!("{what}: 1 tot {max} tekens, zonder stuurtekens"))
    }
}
