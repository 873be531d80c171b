//! Invigilator unlock at the PC: a personal PIN checked against a salted,
//! slow hash (PBKDF2-HMAC-SHA256 from `ring`) in the roster the hub signed,
//! with a lock-out after repeated failures.

use ring::pbkdf2;
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// PBKDF2 iterations for new PIN hashes (OWASP 2023 guidance for SHA-256).
pub const PIN_HASH_ITERATIONS: u32 = 600_000;
/// Fewest iterations a roster may use; weaker hashes are refused (the
/// policy's own check, one home: `exam_policy::check_pin_hash`).
pub use exam_policy::MIN_PIN_HASH_ITERATIONS;
/// Domain separation for roster signatures.
pub const ROSTER_SIGNATURE_DOMAIN: &[u8] = b"exam-kiosk/v1/roster\0";

/// A salted slow hash of a PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinHash {
    /// Random salt, hex.
    pub salt: String,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// The derived 32 bytes, hex.
    pub hash: String,
}

impl PinHash {
    /// Hashes `pin` with a fresh random salt.
    pub fn create(pin: &str) -> Result<Self, UnlockError> {
        let mut salt = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt).map_err(|_| UnlockError::Random)?;
        let iterations = NonZeroU32::new(PIN_HASH_ITERATIONS).expect("non-zero constant");
        let mut out = [0u8; 32];
        pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, pin.as_bytes(), &mut out);
        Ok(Self { salt: hex::encode(salt), iterations: PIN_HASH_ITERATIONS, hash: hex::encode(out) })
    }

    /// Checks `pin` in constant time (ring's `pbkdf2::verify`).
    pub fn matches(&self, pin: &str) -> bool {
        let (Ok(salt), Ok(hash)) = (hex::decode(&self.salt), hex::decode(&self.hash)) else { return false };
        let Some(iterations) = NonZeroU32::new(self.iterations).filter(|n| n.get() >= MIN_PIN_HASH_ITERATIONS) else {
            return false;
        };
        pbkdf2::verify(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, pin.as_bytes(), &hash).is_ok()
    }
}

impl std::str::FromStr for PinHash {
    type Err = String;

    /// Parses `pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX`, checked as a
    /// policy's roster is (`exam_policy::check_pin_hash`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        exam_policy::check_pin_hash(text)?;
        let parts: Vec<&str> = text.split('$').collect();
        match parts.as_slice() {
            ["pbkdf2-sha256", iterations, salt, hash] => Ok(Self {
                salt: (*salt).to_owned(),
                iterations: iterations.parse().map_err(|_| format!("iterations {iterations:?} is not a number"))?,
                hash: (*hash).to_owned(),
            }),
            _ => Err("expected pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX".into()),
        }
    }
}

impl std::fmt::Display for PinHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pbkdf2-sha256${}${}${}", self.iterations, self.salt, self.hash)
    }
}

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

/// Checks PINs against a roster, counting failures in a sliding window.
#[derive(Debug)]
pub struct UnlockGate {
    roster: Roster,
    max_failures: u32,
    window: Duration,
    failures: Vec<Instant>,
}

impl UnlockGate {
    /// A gate allowing `max_failures` wrong PINs per `window`.
    pub fn new(roster: Roster, max_failures: u32, window: Duration) -> Self {
        Self { roster, max_failures: max_failures.max(1), window, failures: Vec::new() }
    }

    /// The invigilator whose PIN this is, or why not. Every PIN hash is
    /// checked, so the time taken does not tell which entry matched.
    pub fn check(&mut self, pin: &str) -> Result<&Invigilator, UnlockError> {
        let now = Instant::now();
        self.failures.retain(|t| now.duration_since(*t) < self.window);
        if self.failures.len() as u32 >= self.max_failures {
            let oldest = self.failures[0];
            return Err(UnlockError::LockedOut { retry_after: self.window.saturating_sub(now.duration_since(oldest)) });
        }
        let matches: Vec<bool> = self.roster.invigilators.iter().map(|i| i.pin.matches(pin)).collect();
        match matches.iter().position(|m| *m) {
            Some(index) => {
                self.failures.clear();
                Ok(&self.roster.invigilators[index])
            }
            None => {
                self.failures.push(now);
                let remaining = self.max_failures.saturating_sub(self.failures.len() as u32);
                if remaining == 0 {
                    Err(UnlockError::LockedOut { retry_after: self.window })
                } else {
                    Err(UnlockError::WrongPin { remaining })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster() -> Roster {
        // A cheaper hash keeps the test fast; production uses PIN_HASH_ITERATIONS.
        let cheap = |pin: &str| {
            let salt = [7u8; 16];
            let mut out = [0u8; 32];
            let n = NonZeroU32::new(MIN_PIN_HASH_ITERATIONS).unwrap();
            pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, n, &salt, pin.as_bytes(), &mut out);
            PinHash { salt: hex::encode(salt), iterations: MIN_PIN_HASH_ITERATIONS, hash: hex::encode(out) }
        };
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
        assert_eq!(gate.check("1357").unwrap().id, "inv-2");
        assert_eq!(gate.check("0000"), Err(UnlockError::WrongPin { remaining: 2 }));
        assert_eq!(gate.check("0001"), Err(UnlockError::WrongPin { remaining: 1 }));
        assert!(matches!(gate.check("0002"), Err(UnlockError::LockedOut { .. })));
        assert!(matches!(gate.check("4821"), Err(UnlockError::LockedOut { .. })), "even the right PIN waits");
    }

    #[test]
    fn the_window_slides() {
        let mut gate = UnlockGate::new(roster(), 1, Duration::from_millis(50));
        assert!(matches!(gate.check("x"), Err(UnlockError::LockedOut { .. })));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(gate.check("4821").unwrap().id, "inv-1");
    }

    #[test]
    fn weak_or_malformed_hashes_never_match() {
        let mut weak = PinHash::create("1").unwrap();
        assert!(weak.matches("1"));
        weak.iterations = 10;
        assert!(!weak.matches("1"));
        let garbage = PinHash { salt: "zz".into(), iterations: PIN_HASH_ITERATIONS, hash: "".into() };
        assert!(!garbage.matches(""));
    }

    #[test]
    fn pin_hash_text_round_trips() {
        let hash = roster().invigilators[0].pin.clone();
        let parsed: PinHash = hash.to_string().parse().unwrap();
        assert_eq!(parsed, hash);
        assert!(parsed.matches("4821"));
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
