//! The exam key header for web instruments of certified suppliers.
//!
//! The kiosk adds to every request it proxies to a web instrument:
//!
//! ```text
//! X-Exam-Key: v1; t=<unix seconds>; n=<32 hex request nonce>; mac=<64 hex>
//! ```
//!
//! `mac` is HMAC-SHA256, keyed with the hub's session nonce for this sitting
//! (32 random bytes the hub hands to the kiosk at login and to the supplier
//! through its own back channel), over [`exam_key_message`]: the kiosk build
//! hash, the policy hash, the time, the request nonce and the full request
//! URL. The supplier recomputes it for every approved build hash; it rejects
//! times more than [`MAX_CLOCK_SKEW_SECS`] away and request nonces it has
//! already seen within that window, so a captured header replays neither on
//! another URL, nor in another sitting, nor twice. `docs/instrument-package.md`
//! documents it for suppliers, with test vectors.

use ring::hmac;

/// The header's name.
pub const HEADER_NAME: &str = "X-Exam-Key";
/// Domain separator at the start of the MAC'd message.
pub const EXAM_KEY_DOMAIN: &[u8] = b"exam-kiosk/exam-key/v1\0";
/// How far a supplier should accept the header's time from its own clock.
pub const MAX_CLOCK_SKEW_SECS: u64 = 120;

/// The inputs of one header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExamKeyInput<'a> {
    /// SHA-256 of the kiosk build (hex, as published in the approved-builds list).
    pub build_hash: &'a str,
    /// SHA-256 of the signed policy text (hex).
    pub policy_hash: &'a str,
    /// The hub's session nonce for this sitting (raw bytes; the HMAC key).
    pub session_nonce: &'a [u8],
    /// Unix seconds of the request.
    pub time_secs: u64,
    /// 16 random bytes per request.
    pub request_nonce: [u8; 16],
    /// The full request URL, exactly as sent (scheme, host, path and query).
    pub url: &'a str,
}

fn push(m: &mut Vec<u8>, field: &[u8]) {
    m.extend_from_slice(&(field.len() as u32).to_be_bytes());
    m.extend_from_slice(field);
}

/// The MAC'd message: domain, then build hash, policy hash (each u32-BE
/// length-prefixed UTF-8), time (u64 BE), request nonce (16 bytes), URL
/// (length-prefixed).
pub fn exam_key_message(input: &ExamKeyInput<'_>) -> Vec<u8> {
    let mut m = EXAM_KEY_DOMAIN.to_vec();
    push(&mut m, input.build_hash.as_bytes());
    push(&mut m, input.policy_hash.as_bytes());
    m.extend_from_slice(&input.time_secs.to_be_bytes());
    m.extend_from_slice(&input.request_nonce);
    push(&mut m, input.url.as_bytes());
    m
}

/// The header value, `v1; t=...; n=...; mac=...`.
pub fn exam_key_header(input: &ExamKeyInput<'_>) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, input.session_nonce);
    let tag = hmac::sign(&key, &exam_key_message(input));
    format!("v1; t={}; n={}; mac={}", input.time_secs, hex::encode(input.request_nonce), hex::encode(tag.as_ref()))
}

/// A parsed header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedExamKey {
    /// Unix seconds.
    pub time_secs: u64,
    /// Request nonce.
    pub request_nonce: [u8; 16],
    /// The MAC.
    pub mac: [u8; 32],
}

/// Parses a header value (what a supplier does first).
pub fn parse_exam_key_header(value: &str) -> Result<ParsedExamKey, String> {
    let mut parts = value.split(';').map(str::trim);
    if parts.next() != Some("v1") {
        return Err("unknown exam key version".into());
    }
    let (mut t, mut n, mut mac) = (None, None, None);
    for part in parts {
        let (k, v) = part.split_once('=').ok_or("expected key=value")?;
        match k {
            "t" => t = Some(v.parse::<u64>().map_err(|_| "t is not a number")?),
            "n" => n = Some(hex::decode(v).ok().and_then(|b| b.try_into().ok()).ok_or("n is not 32 hex digits")?),
            "mac" => mac = Some(hex::decode(v).ok().and_then(|b| b.try_into().ok()).ok_or("mac is not 64 hex digits")?),
            _ => return Err(format!("unknown field {k}")),
        }
    }
    Ok(ParsedExamKey {
        time_secs: t.ok_or("missing t")?,
        request_nonce: n.ok_or("missing n")?,
        mac: mac.ok_or("missing mac")?,
    })
}

/// What a supplier does: recompute and compare in constant time, and check
/// the clock window. (Remembering nonces within the window is up to the caller.)
pub fn verify_exam_key_header(
    value: &str,
    build_hash: &str,
    policy_hash: &str,
    session_nonce: &[u8],
    url: &str,
    now_secs: u64,
) -> Result<ParsedExamKey, String> {
    let parsed = parse_exam_key_header(value)?;
    if parsed.time_secs.abs_diff(now_secs) > MAX_CLOCK_SKEW_SECS {
        return Err("exam key time outside the accepted window".into());
    }
    let input = ExamKeyInput { build_hash, policy_hash, session_nonce, time_secs: parsed.time_secs, request_nonce: parsed.request_nonce, url };
    let key = hmac::Key::new(hmac::HMAC_SHA256, session_nonce);
    hmac::verify(&key, &exam_key_message(&input), &parsed.mac).map_err(|_| "exam key does not verify".to_string())?;
    Ok(parsed)
}

/// What a supplier runs for one sitting: checks every request's header
/// against the approved kiosk builds, the policy and the sitting's session
/// nonce, and refuses a request nonce it has seen within the clock window
/// (so a captured request cannot be replayed, not even to the same URL).
#[derive(Debug)]
pub struct SupplierVerifier {
    approved_builds: Vec<String>,
    policy_hash: String,
    session_nonce: Vec<u8>,
    /// Request nonces seen, with their header time, pruned as the window passes.
    seen: std::collections::HashMap<[u8; 16], u64>,
}

/// Most request nonces remembered; beyond it the verifier refuses (fail closed).
pub const MAX_REMEMBERED_NONCES: usize = 1_000_000;

impl SupplierVerifier {
    /// A verifier for one sitting.
    pub fn new(approved_builds: Vec<String>, policy_hash: String, session_nonce: Vec<u8>) -> Self {
        Self { approved_builds, policy_hash, session_nonce, seen: std::collections::HashMap::new() }
    }

    /// Verifies the header of a request for `url` (as the supplier received
    /// it, full URL) at `now_secs`. Returns the approved build it came from.
    pub fn verify(&mut self, header: Option<&str>, url: &str, now_secs: u64) -> Result<String, String> {
        let header = header.ok_or_else(|| format!("no {HEADER_NAME} header"))?;
        let build = self
            .approved_builds
            .iter()
            .find(|b| verify_exam_key_header(header, b, &self.policy_hash, &self.session_nonce, url, now_secs).is_ok())
            .cloned();
        // One more parse for the nonce and a precise reason when nothing matched.
        let parsed = match &build {
            Some(b) => verify_exam_key_header(header, b, &self.policy_hash, &self.session_nonce, url, now_secs)?,
            None => {
                let first = self.approved_builds.first().map_or("", String::as_str);
                verify_exam_key_header(header, first, &self.policy_hash, &self.session_nonce, url, now_secs)?;
                return Err("exam key does not verify".into());
            }
        };
        self.seen.retain(|_, t| t.abs_diff(now_secs) <= MAX_CLOCK_SKEW_SECS);
        if self.seen.len() >= MAX_REMEMBERED_NONCES {
            return Err("too many requests in the clock window".into());
        }
        if self.seen.insert(parsed.request_nonce, parsed.time_secs).is_some() {
            return Err("exam key replayed (request nonce already seen)".into());
        }
        Ok(build.unwrap_or_default())
    }
}

/// A fresh random request nonce.
pub fn request_nonce() -> Result<[u8; 16], ring::error::Unspecified> {
    use ring::rand::SecureRandom as _;
    let mut n = [0u8; 16];
    ring::rand::SystemRandom::new().fill(&mut n)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn vector_input(url: &str) -> ExamKeyInput<'_> {
        ExamKeyInput {
            build_hash: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            policy_hash: "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9",
            session_nonce: b"0123456789abcdef0123456789abcdef",
            time_secs: 1_767_261_600,
            request_nonce: *b"fedcba9876543210",
            url,
        }
    }

    /// The vectors in docs/instrument-package.md, computed independently
    /// (Python `hmac`) from the documented message layout.
    #[test]
    fn test_vectors() {
        let n = "66656463626139383736353433323130";
        for (url, mac) in [
            ("https://toets.leverancier.example/item/3?lang=nl", "f676d3f40c1a1fc46d4a9453dfa6c339c4fbbdd628deba0b9dd3d48451e780c3"),
            ("https://toets.leverancier.example/item/4", "ffa2094bed33042d0e84cd060ddf4feec2d592644c7d91bfaf02ad69007d55e2"),
        ] {
            assert_eq!(exam_key_header(&vector_input(url)), format!("v1; t=1767261600; n={n}; mac={mac}"));
        }
    }

    #[test]
    fn round_trip_and_binding() {
        let input = vector_input("https://toets.leverancier.example/item/3?lang=nl");
        let header = exam_key_header(&input);
        let ok = verify_exam_key_header(&header, input.build_hash, input.policy_hash, input.session_nonce, input.url, input.time_secs + 5);
        assert!(ok.is_ok(), "{ok:?}");
        // Another URL, session, build, or a stale time: refused.
        assert!(verify_exam_key_header(&header, input.build_hash, input.policy_hash, input.session_nonce, "https://toets.leverancier.example/item/4", input.time_secs).is_err());
        assert!(verify_exam_key_header(&header, input.build_hash, input.policy_hash, b"another session nonce", input.url, input.time_secs).is_err());
        assert!(verify_exam_key_header(&header, "00", input.policy_hash, input.session_nonce, input.url, input.time_secs).is_err());
        assert!(verify_exam_key_header(&header, input.build_hash, input.policy_hash, input.session_nonce, input.url, input.time_secs + 1000).is_err());
        assert!(parse_exam_key_header("v2; t=1").is_err());

        // The supplier's verifier: any approved build, and each request nonce once.
        let mut verifier = SupplierVerifier::new(
            vec!["11".repeat(32), input.build_hash.to_string()],
            input.policy_hash.to_string(),
            input.session_nonce.to_vec(),
        );
        assert_eq!(verifier.verify(Some(&header), input.url, input.time_secs).as_deref(), Ok(input.build_hash));
        assert_eq!(verifier.verify(Some(&header), input.url, input.time_secs), Err("exam key replayed (request nonce already seen)".into()));
        assert!(verifier.verify(None, input.url, input.time_secs).unwrap_err().contains("no X-Exam-Key"));
        let mut other_build = SupplierVerifier::new(vec!["22".repeat(32)], input.policy_hash.to_string(), input.session_nonce.to_vec());
        assert_eq!(other_build.verify(Some(&header), input.url, input.time_secs), Err("exam key does not verify".into()));
        assert!(parse_exam_key_header("v1; t=x; n=00; mac=00").is_err());
    }
}
