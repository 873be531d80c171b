//! Invigilator unlock at the PC: a personal PIN checked against a salted,
//! slow hash (PBKDF2-HMAC-SHA256 from `ring`) in the roster the hub signed,
//! with a lock-out after repeated failures.

use exam_secure::{FailureWindow, PasswordHash};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// PBKDF2 iterations for new PIN hashes (OWASP 2023 guidance for SHA-256).
pub const PIN_HASH_ITERATIONS: u32 = exam_secure::ITERATIONS;
/// Fewest iterations a roster may use; a weaker hash does not parse (one
/// home for the rule: `exam_secure::PasswordHash`, which the policy's
/// invigilator entries are).
pub const MIN_PIN_HASH_ITERATIONS: u32 = exam_secure::MIN_ITERATIONS;
/// Domain separation for roster signatures.
pub const ROSTER_SIGNATURE_DOMAIN: &[u8] = b"exam-kiosk/v1/roster\0";

/// A salted slow hash of a PIN: the workspace's one password-hash type
/// (`pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`, parsed and checked in
/// constant time by `exam_secure`).
pub type PinHash = PasswordHash;

/// One invigilator who may unlock PCs in a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invigilator {
    /// Account id (goes into the journal).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Their PIN's hash.
    pub pin: PinHash,
}

/// The invigilators of one room for one sitting, as the hub signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roster {
    /// Room.
    pub room: String,
    /// Invigilators.
    pub invigilators: Vec<Invigilator>,
}

impl Roster {
    /// The bytes the hub signs: domain || canonical JSON of the roster.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut msg = ROSTER_SIGNATURE_DOMAIN.to_vec();
        msg.extend_from_slice(&serde_json::to_vec(self).unwrap_or_default());
        msg
    }

    /// Verifies the hub's Ed25519 signature over the roster.
    pub fn verify(&self, hub_key: &exam_journal::PublicKey, signature: &[u8; 64]) -> bool {
        hub_key.verify(&self.signed_message(), signature)
    }
}

/// Why an unlock was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnlockError {
    /// The PIN matches nobody on the roster.
    #[error("wrong PIN; {remaining} attempts left")]
    WrongPin {
        /// Attempts left before the lock-out.
        remaining: u32,
    },
    /// Too many wrong PINs; unlocking at this PC is paused.
    #[error("too many wrong PINs; try again in {} s or unlock from the console", .retry_after.as_secs())]
    LockedOut {
        /// When the next attempt is accepted.
        retry_after: Duration,
    },
    /// The policy requires a reason and none was given.
    #[error("give a reason for unlocking")]
    ReasonRequired,
    /// Randomness unavailable.
    #[error("the system random generator failed")]
    Random,
}

/// Checks PINs against a roster, counting failures in a sliding window
/// (`exam_secure::FailureWindow`) on a monotonic clock.
#[derive(Debug)]
pub struct UnlockGate {
    roster: Roster,
    window: Duration,
    failures: FailureWindow,
}

impl UnlockGate {
    /// A gate allowing `max_failures` wrong PINs per `window`.
    pub fn new(roster: Roster, max_failures: u32, window: Duration) -> Self {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        Self { roster, window, failures: FailureWindow::new(max_failures, window_ms) }
    }

    /// The invigilator whose PIN this is, or why not, now
    /// ([`exam_secure::monotonic_ms`]: setting the system clock does not
    /// end a lock-out).
    pub fn check(&mut self, pin: &str) -> Result<&Invigilator, UnlockError> {
        self.check_at(pin, exam_secure::monotonic_ms())
    }

    /// [`Self::check`] at `now_ms` on a monotonic clock. Every PIN hash is
    /// checked, so the time taken does not tell which entry matched.
    pub fn check_at(&mut self, pin: &str, now_ms: u64) -> Result<&Invigilator, UnlockError> {
        if let Some(wait_ms) = self.failures.wait_ms(now_ms) {
            return Err(UnlockError::LockedOut { retry_after: Duration::from_millis(wait_ms) });
        }
        let matches: Vec<bool> = self.roster.invigilators.iter().map(|i| i.pin.verify(pin)).collect();
        match matches.iter().position(|m| *m) {
            Some(index) => {
                self.failures.clear();
                Ok(&self.roster.invigilators[index])
            }
            None => match self.failures.record(now_ms) {
                0 => Err(UnlockError::LockedOut { retry_after: self.window }),
                remaining => Err(UnlockError::WrongPin { remaining }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster() -> Roster {
        // A cheaper hash keeps the test fast; production uses PIN_HASH_ITERATIONS.
        let cheap = |pin: &str| PinHash::derive(pin, &[7u8; 16], MIN_PIN_HASH_ITERATIONS).unwrap();
        Roster {
            room: "B2.14".into(),
            invigilators: vec![
                Invigilator { id: "inv-1".into(), name: "J. de Vries".into(), pin: cheap("4821") },
                Invigilator { id: "inv-2".into(), name: "A. Bakker".into(), pin: cheap("1357") },
            ],
        }
    }

    #[test]
    fn right_pin_names_the_invigilator_and_wrong_pins_lock_out() {
        let mut gate = UnlockGate::new(roster(), 3, Duration::from_secs(60));
        assert_eq!(gate.check_at("1357", 0).unwrap().id, "inv-2");
        assert_eq!(gate.check_at("0000", 0), Err(UnlockError::WrongPin { remaining: 2 }));
        assert_eq!(gate.check_at("0001", 1_000), Err(UnlockError::WrongPin { remaining: 1 }));
        assert_eq!(gate.check_at("0002", 2_000), Err(UnlockError::LockedOut { retry_after: Duration::from_secs(60) }));
        assert_eq!(
            gate.check_at("4821", 30_000),
            Err(UnlockError::LockedOut { retry_after: Duration::from_secs(30) }),
            "even the right PIN waits, until the first failure leaves the window"
        );
        // The clock moves (no sleeping): the first failure has left the window.
        assert_eq!(gate.check_at("4821", 60_000).unwrap().id, "inv-1");
        // A success clears the count.
        assert_eq!(gate.check_at("0003", 60_001), Err(UnlockError::WrongPin { remaining: 2 }));
    }

    #[test]
    fn the_window_slides() {
        let mut gate = UnlockGate::new(roster(), 1, Duration::from_millis(50));
        assert!(matches!(gate.check_at("x", 100), Err(UnlockError::LockedOut { .. })));
        assert_eq!(gate.check_at("4821", 149), Err(UnlockError::LockedOut { retry_after: Duration::from_millis(1) }));
        assert_eq!(gate.check_at("4821", 150).unwrap().id, "inv-1");
        // On the real clock too.
        let mut gate = UnlockGate::new(roster(), 1, Duration::from_secs(60));
        assert!(matches!(gate.check("x"), Err(UnlockError::LockedOut { .. })));
        assert!(matches!(gate.check("4821"), Err(UnlockError::LockedOut { .. })));
    }

    #[test]
    fn weak_or_malformed_hashes_do_not_parse() {
        let weak = PinHash::create("1").unwrap().to_string().replace("$600000$", "$10$");
        assert!(weak.parse::<PinHash>().is_err());
        assert!("pbkdf2-sha256$600000$zz$".parse::<PinHash>().is_err());
        assert!(PinHash::derive("1", &[0; 16], 10).is_err());
    }

    #[test]
    fn pin_hash_text_round_trips() {
        let hash = roster().invigilators[0].pin.clone();
        let parsed: PinHash = hash.to_string().parse().unwrap();
        assert_eq!(parsed, hash);
        assert!(parsed.verify("4821"));
        assert!("md5$1$aa$bb".parse::<PinHash>().is_err());
    }

    #[test]
    fn roster_signatures_bind_the_contents() {
        let (key, _) = exam_journal::SigningKey::generate().unwrap();
        let roster = roster();
        let signature = key.sign(&roster.signed_message());
        assert!(roster.verify(&key.public_key(), &signature));
        let mut changed = roster.clone();
        changed.invigilators.pop();
        assert!(!changed.verify(&key.public_key(), &signature));
    }
}
