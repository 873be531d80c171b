//! Room codes: RFC 6238 TOTP (`exam_policy::totp`, shared with the hub's
//! invigilator console), with a verifier
//! that accepts ±1 step of clock skew, never accepts a code twice, and
//! rate-limits wrong codes.

use exam_policy::{RoomCodeReq, SecretRef, TotpAlgorithm};
use exam_secure::FailureWindow;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Steps of clock skew accepted on either side of the current step.
pub const ROOM_CODE_SKEW_STEPS: u64 = 1;
/// Wrong codes allowed per window before further attempts are refused.
pub const ROOM_CODE_MAX_FAILURES: usize = 5;
/// The rate-limit window, ms.
pub const ROOM_CODE_FAILURE_WINDOW_MS: u64 = 60_000;

pub use exam_policy::totp::{base32_decode, hotp, totp};

/// Reads a room secret: base32 text, or `hex:` followed by hex digits.
pub fn resolve_secret(secret: &SecretRef, base_dir: Option<&Path>) -> Result<Vec<u8>, String> {
    let text = match secret {
        SecretRef::File(p) => {
            let path = match base_dir {
                Some(dir) => dir.join(p),
                None => Path::new(p).to_path_buf(),
            };
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read room secret {}: {e}", path.display()))?
        }
        SecretRef::Env(name) => std::env::var(name).map_err(|_| format!("room secret variable {name} is not set"))?,
    };
    let text = text.trim();
    let bytes = match text.strip_prefix("hex:") {
        Some(h) => hex::decode(h.trim()).map_err(|_| "room secret: invalid hex".to_string())?,
        None => base32_decode(text).ok_or_else(|| "room secret: invalid base32".to_string())?,
    };
    if bytes.len() < 10 {
        return Err("room secret is shorter than 80 bits".into());
    }
    Ok(bytes)
}

/// One room's code parameters with its secret resolved.
#[derive(Clone)]
pub struct RoomSecret {
    /// The room.
    pub room: String,
    /// The TOTP secret.
    pub secret: Vec<u8>,
    /// Seconds per code.
    pub step_secs: u32,
    /// Digits per code.
    pub digits: u8,
    /// HMAC function.
    pub algorithm: TotpAlgorithm,
}

impl std::fmt::Debug for RoomSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RoomSecret({}, <secret>)", self.room)
    }
}

impl RoomSecret {
    /// Resolves a policy requirement's secret.
    pub fn from_req(req: &RoomCodeReq, base_dir: Option<&Path>) -> Result<Self, String> {
        Ok(RoomSecret {
            room: req.room.clone(),
            secret: resolve_secret(&req.secret, base_dir)?,
            step_secs: req.step_secs,
            digits: req.digits,
            algorithm: req.algorithm,
        })
    }

    /// The code for unix time `unix_secs` (what the invigilator's screen shows).
    pub fn code_at(&self, unix_secs: u64) -> String {
        totp(&self.secret, self.algorithm, unix_secs, u64::from(self.step_secs), self.digits)
    }
}

/// Why a room code was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum RoomCodeError {
    /// Too many wrong codes recently.
    #[error("too many wrong room codes; try again in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the next attempt is allowed.
        retry_after_secs: u64,
    },
    /// Not a code of the expected form.
    #[error("a room code is 6 to 8 digits")]
    Malformed,
    /// No room's current code.
    #[error("wrong or expired room code")]
    Wrong,
    /// Valid, but already used.
    #[error("room code for {room} was already used; wait for the next code")]
    Reused {
        /// The room.
        room: String,
    },
}

/// Verifier state: per room the last accepted step; recent failure times.
/// Serialisable so a kiosk can keep it across restarts (the failures as a
/// list of unix ms, `failures_ms`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomCodeVerifier {
    last_accepted_step: BTreeMap<String, u64>,
    #[serde(rename = "failures_ms", with = "failure_times")]
    failures: FailureWindow,
}

fn failure_window() -> FailureWindow {
    FailureWindow::new(ROOM_CODE_MAX_FAILURES as u32, ROOM_CODE_FAILURE_WINDOW_MS)
}

/// The failure window as the list of its times, as saved before it had a type.
mod failure_times {
    use exam_secure::FailureWindow;
    use serde::{Deserialize as _, Deserializer, Serialize as _, Serializer};

    pub fn serialize<S: Serializer>(window: &FailureWindow, s: S) -> Result<S::Ok, S::Error> {
        window.times_ms().collect::<Vec<u64>>().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FailureWindow, D::Error> {
        let times = Vec::<u64>::deserialize(d)?;
        Ok(FailureWindow::with_times(super::ROOM_CODE_MAX_FAILURES as u32, super::ROOM_CODE_FAILURE_WINDOW_MS, times))
    }
}

impl Default for RoomCodeVerifier {
    fn default() -> Self {
        Self { last_accepted_step: BTreeMap::new(), failures: failure_window() }
    }
}

impl RoomCodeVerifier {
    /// A fresh verifier.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks `code` against the rooms' codes at `now_ms` (unix ms). On
    /// success returns the room and marks that step as used.
    pub fn verify(&mut self, code: &str, rooms: &[RoomSecret], now_ms: u64) -> Result<String, RoomCodeError> {
        if let Some(wait_ms) = self.failures.wait_ms(now_ms) {
            return Err(RoomCodeError::RateLimited { retry_after_secs: wait_ms.div_ceil(1000) });
        }
        let code: String = code.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
        if !(6..=8).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
            self.failures.record(now_ms);
            return Err(RoomCodeError::Malformed);
        }
        let now_secs = now_ms / 1000;
        let mut reused = None;
        for room in rooms {
            if usize::from(room.digits) != code.len() {
                continue;
            }
            let step = u64::from(room.step_secs.max(1));
            let current = now_secs / step;
            let first = current.saturating_sub(ROOM_CODE_SKEW_STEPS);
            for counter in first..=current + ROOM_CODE_SKEW_STEPS {
                let expected = format!(
                    "{:0width$}",
                    hotp(&room.secret, room.algorithm, counter, room.digits),
                    width = usize::from(room.digits)
                );
                if exam_secure::constant_time_eq(expected.as_bytes(), code.as_bytes()) {
                    let last = self.last_accepted_step.get(&room.room).copied();
                    if last.is_some_and(|l| counter <= l) {
                        reused = Some(room.room.clone());
                        continue;
                    }
                    self.last_accepted_step.insert(room.room.clone(), counter);
                    return Ok(room.room.clone());
                }
            }
        }
        self.failures.record(now_ms);
        Err(match reused {
            Some(room) => RoomCodeError::Reused { room },
            None => RoomCodeError::Wrong,
        })
    }

    /// Loads state saved by [`RoomCodeVerifier::save`]; a missing file is a fresh state.
    pub fn load(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    /// Saves the state, atomically and durably, readable by the kiosk's
    /// user only (`exam_secure::write_private`).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let json = serde_json::to_vec(self).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        exam_secure::write_private(path, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1_SEED: &[u8] = b"12345678901234567890";

    fn room(name: &str) -> RoomSecret {
        RoomSecret {
            room: name.into(),
            secret: SHA1_SEED.to_vec(),
            step_secs: 30,
            digits: 6,
            algorithm: TotpAlgorithm::Sha1,
        }
    }

    #[test]
    fn accepts_skew_and_never_twice() {
        let rooms = [room("B2.04")];
        let now = 1_234_567_890_000u64;
        let mut v = RoomCodeVerifier::new();
        let current = rooms[0].code_at(now / 1000);
        assert_eq!(v.verify(&current, &rooms, now), Ok("B2.04".into()));
        assert_eq!(v.verify(&current, &rooms, now + 1000), Err(RoomCodeError::Reused { room: "B2.04".into() }));
        // The previous step's code is now also spent (steps only go forward).
        let previous = rooms[0].code_at(now / 1000 - 30);
        assert!(v.verify(&previous, &rooms, now + 2000).is_err());
        // The next step (clock skew) is accepted once.
        let next = rooms[0].code_at(now / 1000 + 30);
        assert_eq!(v.verify(&next, &rooms, now + 3000), Ok("B2.04".into()));
        // Two steps away is not.
        let mut fresh = RoomCodeVerifier::new();
        let far = rooms[0].code_at(now / 1000 + 60);
        assert_eq!(fresh.verify(&far, &rooms, now), Err(RoomCodeError::Wrong));
        let old = rooms[0].code_at(now / 1000 - 30);
        assert_eq!(fresh.verify(&old, &rooms, now), Ok("B2.04".into()));
    }

    #[test]
    fn rate_limits_wrong_codes() {
        let rooms = [room("B2.04")];
        let now = 1_700_000_000_000u64;
        let mut v = RoomCodeVerifier::new();
        let right = rooms[0].code_at(now / 1000);
        let wrong = if right == "000000" { "111111" } else { "000000" };
        for i in 0..ROOM_CODE_MAX_FAILURES as u64 {
            assert_eq!(v.verify(wrong, &rooms, now + i), Err(RoomCodeError::Wrong));
        }
        // Even the right code is refused while rate-limited.
        assert!(matches!(v.verify(&right, &rooms, now + 10), Err(RoomCodeError::RateLimited { retry_after_secs: 60 })));
        assert_eq!(v.verify("abc", &rooms, now + 10).unwrap_err().to_string(), "too many wrong room codes; try again in 60 s");
        // After the window it works again.
        let later = now + ROOM_CODE_FAILURE_WINDOW_MS + 5;
        let code = rooms[0].code_at(later / 1000);
        assert_eq!(v.verify(&code, &rooms, later), Ok("B2.04".into()));
    }

    #[test]
    fn malformed_codes_count_as_failures() {
        let mut v = RoomCodeVerifier::new();
        for bad in ["", "12", "abcdef", "١٢٣٤٥٦", "123456789"] {
            assert_eq!(v.verify(bad, &[room("x")], 1000), Err(RoomCodeError::Malformed), "{bad}");
        }
        assert!(matches!(v.verify("123456", &[room("x")], 1000), Err(RoomCodeError::RateLimited { .. })));
    }

    #[test]
    fn state_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut v = RoomCodeVerifier::load(&path).unwrap();
        let rooms = [room("r")];
        v.verify(&rooms[0].code_at(1000), &rooms, 1_000_000).unwrap();
        v.save(&path).unwrap();
        let mut again = RoomCodeVerifier::load(&path).unwrap();
        assert_eq!(again, v);
        assert!(matches!(again.verify(&rooms[0].code_at(1000), &rooms, 1_000_500), Err(RoomCodeError::Reused { .. })));
        // Wrong codes survive a restart, in the file format from before
        // the failure window had a type (a list of unix ms).
        let saved = r#"{"last_accepted_step":{},"failures_ms":[1000,1001,1002,1003,1004]}"#;
        std::fs::write(&path, saved).unwrap();
        let mut restarted = RoomCodeVerifier::load(&path).unwrap();
        assert_eq!(restarted.verify("123456", &rooms, 2_000), Err(RoomCodeError::RateLimited { retry_after_secs: 59 }));
        assert_eq!(serde_json::to_string(&restarted).unwrap(), saved);
    }
}
