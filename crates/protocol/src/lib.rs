//! # exam-protocol
//!
//! The types the exam kiosk and exam-hub exchange, as JSON over HTTPS
//! (TLS 1.3, mutual TLS after enrolment). `docs/protocol.md` describes every
//! endpoint; this crate is the single definition of the bodies.
//!
//! Versioning: the kiosk API lives under [`API_PREFIX`] (`/api/v1`). Within a
//! major version fields are only ever added (never renamed or removed), and
//! readers ignore fields they do not know, so an older kiosk keeps working
//! with a newer hub. A breaking change gets `/api/v2` alongside.
//!
//! Signed statements of the hub ([`SignedHubEcho`], [`JournalReceipt`],
//! [`AnswerReceipt`]) are Ed25519 signatures by the hub signing key over the
//! exact bytes of their `signed_message()` functions, each with its own
//! domain separator so a signature for one can never be replayed as another.

use ring::signature::{UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The protocol version this crate describes.
pub const PROTOCOL_VERSION: u32 = 1;
/// Path prefix of every kiosk endpoint.
pub const API_PREFIX: &str = "/api/v1";
/// Header that carries the session token (`Authorization: Bearer <token>` is used).
pub const AUTHORIZATION_SCHEME: &str = "Bearer";

pub mod events;
pub mod scoring;

/// Request header a kiosk sends (value `1`) on every request while its
/// policy lets a WebDriver drive it (`[environment] test-automation`, the
/// project's own tests). A hub refuses such a kiosk's logins and session
/// requests unless its hub.toml says `accept-test-kiosks = true`: whoever can
/// choose a kiosk's policy file (on BYOD: the student) must not get an exam
/// out of a kiosk that another program can script.
pub const TEST_AUTOMATION_HEADER: &str = "exam-kiosk-test-automation";

/// Paths of the endpoints, relative to the hub's base URL.
pub mod paths {
    /// `GET`: liveness, no client certificate needed.
    pub const HEALTHZ: &str = "/healthz";
    /// `POST` [`super::EnrolRequest`] -> [`super::EnrolResponse`]; no client certificate.
    pub const ENROL: &str = "/api/v1/enrol";
    /// `POST` [`super::EnrolChallengeRequest`] -> [`super::EnrolChallenge`]; no client
    /// certificate. The single-use challenge the enrol request's proof signs.
    pub const ENROL_CHALLENGE: &str = "/api/v1/enrol/challenge";
    /// `POST` [`super::EchoRequest`] -> [`super::SignedHubEcho`].
    pub const ECHO: &str = "/api/v1/echo";
    /// `POST` [`super::LoginRequest`] -> [`super::LoginResponse`].
    pub const LOGIN: &str = "/api/v1/login";
    /// `GET` -> [`super::Assignment`] (session token).
    pub const ASSIGNMENT: &str = "/api/v1/assignment";
    /// `GET` instrument bytes with HTTP range support (session token); append the instrument id.
    pub const INSTRUMENTS: &str = "/api/v1/instruments/";
    /// `POST` -> [`super::StartResponse`] (session token): the content key, once the sitting started.
    pub const START: &str = "/api/v1/start";
    /// `POST` [`super::JournalBatch`] -> [`super::JournalReceipt`].
    pub const JOURNAL: &str = "/api/v1/journal";
    /// `POST` [`super::AnswerUpload`] -> [`super::AnswerReceipt`] (session token).
    pub const ANSWERS: &str = "/api/v1/answers";
    /// `POST` [`super::Heartbeat`] -> [`super::HeartbeatAck`].
    pub const HEARTBEAT: &str = "/api/v1/heartbeat";
    /// `GET`: server-sent events, each an [`super::Instruction`].
    pub const INSTRUCTIONS: &str = "/api/v1/instructions";
    /// `POST` [`super::InstructionAck`]: acknowledges an instruction.
    pub const INSTRUCTIONS_ACK: &str = "/api/v1/instructions/ack";
    /// `GET` -> [`super::LatestAnswers`] (session token): the hub's copy of
    /// the student's answers, for a move to another PC.
    pub const ANSWERS_LATEST: &str = "/api/v1/answers/latest";
    /// `POST` -> [`super::WebSession`] (session token): the session nonce that
    /// keys the exam key header of a web instrument, once the sitting started.
    pub const WEB_SESSION: &str = "/api/v1/web-session";
}

/// Body of every error answer (4xx and 5xx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub error: String,
    /// Human-readable explanation (English), never containing secrets.
    pub message: String,
    /// For `invalid_credentials`: attempts left before the lock-out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_attempts: Option<u32>,
    /// For `journal_gap`: the sequence number the hub expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
    /// For `not_started`: when the sitting starts, unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at_ms: Option<i64>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `ok` when the hub answers.
    pub status: String,
    /// Hub version.
    pub version: String,
    /// Protocol versions served.
    pub protocol: Vec<u32>,
}

/// `POST /api/v1/enrol`: a kiosk asks for a client certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The one-time enrolment token from `exam-hub enrol-token`.
    pub token: String,
    /// PKCS#10 certificate signing request, PEM, for the device's TLS key.
    pub csr_pem: String,
    /// The journal device key (Ed25519, hex), pinned by the hub for journal
    /// verification; the device id is derived from it. Required: the hub
    /// refuses an enrolment without it (`device_key_required`).
    #[serde(default)]
    pub device_public_key: Option<String>,
    /// Host name, for the invigilator's overview only.
    #[serde(default)]
    pub hostname: Option<String>,
    /// The challenge from `POST /api/v1/enrol/challenge` (64 hex digits).
    /// Required (`proof_required` without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// Proof of possession of the device key: its Ed25519 signature (hex)
    /// over [`enrol_proof_message`]. Required (`proof_required` without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<String>,
}

/// `POST /api/v1/enrol/challenge`: ask for a challenge to sign at enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolChallengeRequest {
    /// The one-time enrolment token (only a valid, unused token gets a challenge).
    pub token: String,
}

/// A single-use, short-lived enrolment challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolChallenge {
    /// 32 random bytes, 64 hex digits.
    pub challenge: String,
    /// Hub clock when it stops being accepted, unix ms.
    pub expires_at_ms: i64,
}

/// Domain separator of the enrolment proof of possession.
pub const ENROL_PROOF_DOMAIN: &[u8] = b"exam-kiosk/enrol-proof/v1\0";

/// The bytes the device key signs at enrolment: the domain, then four
/// 32-byte values — the challenge, SHA-256 of the enrolment token (trimmed,
/// as the hub hashes it), SHA-256 of the CSR's PEM text exactly as sent, and
/// the device public key. Fixed lengths, so no separators are needed.
pub fn enrol_proof_message(challenge_hex: &str, token: &str, csr_pem: &str, device_public_key_hex: &str) -> Result<Vec<u8>, String> {
    let fixed = |name: &str, text: &str| -> Result<Vec<u8>, String> {
        hex::decode(text.trim())
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| format!("{name} must be 32 bytes as 64 hex digits"))
    };
    let mut m = ENROL_PROOF_DOMAIN.to_vec();
    m.extend_from_slice(&fixed("challenge", challenge_hex)?);
    m.extend_from_slice(ring::digest::digest(&ring::digest::SHA256, token.trim().as_bytes()).as_ref());
    m.extend_from_slice(ring::digest::digest(&ring::digest::SHA256, csr_pem.as_bytes()).as_ref());
    m.extend_from_slice(&fixed("device_public_key", device_public_key_hex)?);
    Ok(m)
}

/// Answer to a successful enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    /// The device id the hub assigned.
    pub device_id: String,
    /// The room the device is enrolled to.
    pub room: String,
    /// The client certificate, PEM, issued by the hub's device CA.
    pub client_certificate_pem: String,
    /// The device CA certificate, PEM (chain for the client certificate).
    pub device_ca_pem: String,
    /// The school CA certificate, PEM: the only trust anchor for the hub's TLS.
    pub school_ca_pem: String,
    /// The hub signing key (Ed25519, hex) that signs echoes and receipts.
    pub hub_signing_public_key: String,
    /// The signed policy bundle, when the hub has one configured.
    #[serde(default)]
    pub signed_policy: Option<String>,
    /// Protocol version of the hub.
    pub protocol_version: u32,
}

/// `POST /api/v1/echo`: ask the hub to state the source address it sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EchoRequest {
    /// A fresh random nonce, 32 bytes as 64 hex digits.
    pub nonce: String,
}

/// Domain separator of hub echo signatures.
pub const HUB_ECHO_DOMAIN: &[u8] = b"exam-kiosk/hub-echo/v1\0";

/// What the hub states about a connection (identical in bytes and JSON to
/// `kiosk_core::location::HubEcho`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct HubEcho {
    /// The device that asked (from its client certificate).
    pub device_id: String,
    /// The kiosk's nonce, hex (32 bytes).
    pub nonce: String,
    /// The source address the hub saw.
    pub observed: IpAddr,
    /// The hub's clock, unix ms.
    pub time_ms: u64,
}

/// A [`HubEcho`] with the hub's Ed25519 signature (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SignedHubEcho {
    /// The statement.
    pub echo: HubEcho,
    /// Signature over [`HubEcho::signed_message`], hex.
    pub signature: String,
}

impl HubEcho {
    /// The signed bytes: domain, device id (u32 BE length-prefixed), nonce
    /// (its hex text), the address as 16 bytes (IPv4 mapped), time (u64 BE).
    pub fn signed_message(&self) -> Vec<u8> {
        let mut m = HUB_ECHO_DOMAIN.to_vec();
        let id = self.device_id.as_bytes();
        m.extend_from_slice(&(id.len() as u32).to_be_bytes());
        m.extend_from_slice(id);
        m.extend_from_slice(self.nonce.as_bytes());
        let v6 = match self.observed {
            IpAddr::V4(v4) => v4.to_ipv6_mapped(),
            IpAddr::V6(v6) => v6,
        };
        m.extend_from_slice(&v6.octets());
        m.extend_from_slice(&self.time_ms.to_be_bytes());
        m
    }
}

impl SignedHubEcho {
    /// Checks the signature with the hub key (hex), the device and the nonce.
    pub fn verify(&self, hub_key_hex: &str, device_id: &str, nonce: &str) -> Result<(), String> {
        verify_hex_signature(hub_key_hex, &self.echo.signed_message(), &self.signature)
            .map_err(|e| format!("hub echo: {e}"))?;
        if self.echo.device_id != device_id {
            return Err(format!("hub echo is for device `{}`, not this one", self.echo.device_id));
        }
        if !self.echo.nonce.eq_ignore_ascii_case(nonce) {
            return Err("hub echo answers another nonce (replayed)".into());
        }
        Ok(())
    }
}

/// `POST /api/v1/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The student number.
    pub student_number: String,
    /// The one-time access code for this sitting (dashes and case ignored).
    pub access_code: String,
}

/// Answer to a successful login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Opaque session token; valid only with this device's client certificate.
    pub session_token: String,
    /// When the token expires, unix ms.
    pub expires_at_ms: i64,
    /// The assignment the token is for.
    pub assignment: Assignment,
}

/// A student's accommodations ("passend examineren").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Accommodations {
    /// Extra minutes on top of the sitting's duration.
    pub extra_minutes: u32,
    /// Allowed assistive tools (names as in the policy), e.g. `read-aloud`.
    pub tools: Vec<String>,
    /// Text size, e.g. `large`; `None` for the default.
    pub text_size: Option<String>,
    /// Contrast, e.g. `high`; `None` for the default.
    pub contrast: Option<String>,
}

/// The instrument a sitting uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstrumentRef {
    /// Instrument id.
    pub id: String,
    /// SHA-256 of the package bytes, hex.
    pub sha256: String,
    /// Package size in bytes.
    pub size: u64,
    /// Path to download it from (range requests supported).
    pub path: String,
}

/// `GET /api/v1/assignment`: what the logged-in student sits here and now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Sitting id.
    pub sitting_id: String,
    /// Exam name.
    pub exam: String,
    /// Room.
    pub room: String,
    /// Student number.
    pub student_number: String,
    /// Student name.
    pub student_name: String,
    /// Scheduled start, unix ms.
    pub start_ms: i64,
    /// Duration of the sitting in minutes, without extra time.
    pub duration_minutes: u32,
    /// Duration with the student's extra time and any time added by an invigilator.
    pub total_minutes: u32,
    /// Accommodations.
    pub accommodations: Accommodations,
    /// The instrument.
    pub instrument: InstrumentRef,
    /// True once the sitting started (content key available).
    pub started: bool,
}

/// `POST /api/v1/start`: the content key, released only once the sitting started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartResponse {
    /// Sitting id.
    pub sitting_id: String,
    /// The instrument's content key, base64 (32 bytes for AES-256-GCM).
    pub content_key: String,
    /// When the sitting started, unix ms.
    pub started_at_ms: i64,
    /// Minutes the student has, with accommodations and added time.
    pub total_minutes: u32,
    /// The student's time left by the hub's clock when it answered, in ms:
    /// to the end of their time (start, duration, extra and added time, and
    /// the invigilator's pauses). The kiosk's clock counts down from this, so
    /// both end together (absent from hubs before this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_ms: Option<i64>,
}

/// `POST /api/v1/journal`: a batch of journal records, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalBatch {
    /// Complete record frames as stored in the journal, base64, consecutive.
    pub records: Vec<String>,
}

/// Domain separator of journal receipts.
pub const JOURNAL_RECEIPT_DOMAIN: &[u8] = b"exam-hub/journal-receipt/v1\0";

/// The hub's signed statement of how much of a device's journal it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalReceipt {
    /// The device.
    pub device_id: String,
    /// Records held: sequences `0..next_seq` are stored and verified.
    pub next_seq: u64,
    /// Hash of record `next_seq - 1`, hex (empty when none).
    pub last_hash: String,
    /// Records of this batch newly stored.
    pub stored: u64,
    /// Records of this batch the hub already had (duplicates).
    pub duplicates: u64,
    /// Hub clock, unix ms.
    pub time_ms: i64,
    /// Signature over [`JournalReceipt::signed_message`], hex.
    pub signature: String,
}

impl JournalReceipt {
    /// Domain, device id (u32 BE length-prefixed), next_seq (u64 BE),
    /// last_hash text (length-prefixed), time (i64 BE).
    pub fn signed_message(&self) -> Vec<u8> {
        let mut m = JOURNAL_RECEIPT_DOMAIN.to_vec();
        push_str(&mut m, &self.device_id);
        m.extend_from_slice(&self.next_seq.to_be_bytes());
        push_str(&mut m, &self.last_hash);
        m.extend_from_slice(&self.time_ms.to_be_bytes());
        m
    }

    /// Checks the signature with the hub key (hex).
    pub fn verify(&self, hub_key_hex: &str) -> Result<(), String> {
        verify_hex_signature(hub_key_hex, &self.signed_message(), &self.signature)
    }
}

/// `POST /api/v1/answers`: an autosave or the final submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerUpload {
    /// Sitting id (must be the session's).
    pub sitting_id: String,
    /// Per-session counter of the kiosk's saves; the hub keeps the highest.
    pub seq: u64,
    /// True for the final submission.
    #[serde(default)]
    pub final_submission: bool,
    /// The answers, as the instrument defines them (opaque JSON to the hub).
    pub answers: serde_json::Value,
    /// Every change since the last save the hub acknowledged, oldest first,
    /// ending at `seq` (empty from kiosks before this field). A kiosk that
    /// was offline sends them so the hub can rebuild the answers as they
    /// were at each save and count those made in time (docs/protocol.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<AnswerChange>,
}

/// One change to a student's answers, as the kiosk's answer store records it
/// (`AnswerUpload::changes`). Each carries the kiosk's save number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AnswerChange {
    /// A response saved (`null` clears it).
    Save {
        /// Save number.
        seq: u64,
        /// Item id.
        item: String,
        /// Response id.
        response: String,
        /// The value.
        value: serde_json::Value,
    },
    /// An item flagged or unflagged for review.
    Flag {
        /// Save number.
        seq: u64,
        /// Item id.
        item: String,
        /// Flagged or not.
        flagged: bool,
    },
    /// A student's own aid on an item, never scored: the scratchpad's text
    /// or the highlighter's marks (`null` clears it).
    Note {
        /// Save number.
        seq: u64,
        /// Item id.
        item: String,
        /// Which aid.
        note: NoteKind,
        /// Its value ([`note_value_ok`]).
        value: serde_json::Value,
    },
    /// The hand-in mark: nothing changes after it.
    Final {
        /// Save number.
        seq: u64,
    },
}

impl AnswerChange {
    /// Its save number.
    pub fn seq(&self) -> u64 {
        match self {
            Self::Save { seq, .. } | Self::Flag { seq, .. } | Self::Note { seq, .. } | Self::Final { seq } => *seq,
        }
    }
}

/// A student's own aid kept with the answers but never part of them
/// (issue 19): the answers' `notes`, item → kind → value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// The kladblok: the student's text (a string).
    Scratchpad,
    /// The markeerstift: `[[start, end], …]`, character offsets into the
    /// item's text, sorted and not overlapping.
    Highlights,
}

impl NoteKind {
    /// Its name in the answers' `notes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scratchpad => "scratchpad",
            Self::Highlights => "highlights",
        }
    }
}

/// Longest scratchpad text, in characters.
pub const MAX_SCRATCHPAD_CHARS: usize = 10_000;
/// Most highlighted ranges on one item.
pub const MAX_HIGHLIGHTS: usize = 500;
/// Largest note value, in JSON bytes (a scratchpad of control characters
/// takes six bytes a character).
pub const MAX_NOTE_BYTES: usize = 16 * 1024;
/// Highlight offsets stay below this (no item text is a million characters).
pub const MAX_HIGHLIGHT_OFFSET: u64 = 1 << 20;
/// All notes of a student together, in JSON bytes: the answers must always
/// fit in an upload (the hub's body limit) and a record of the answer store.
pub const MAX_NOTES_BYTES: usize = 256 * 1024;

/// Whether `value` is a value a note of `kind` may hold (kiosk store and hub
/// alike): `null` (cleared); a scratchpad's text of at most
/// [`MAX_SCRATCHPAD_CHARS`]; at most [`MAX_HIGHLIGHTS`] `[start, end]`
/// pairs with `start < end`, each after the one before.
pub fn note_value_ok(kind: NoteKind, value: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    if serde_json::to_vec(value).map_or(usize::MAX, |v| v.len()) > MAX_NOTE_BYTES {
        return Err(format!("a note holds at most {MAX_NOTE_BYTES} bytes"));
    }
    match (kind, value) {
        (_, Value::Null) => Ok(()),
        (NoteKind::Scratchpad, Value::String(text)) if text.chars().count() <= MAX_SCRATCHPAD_CHARS => Ok(()),
        (NoteKind::Scratchpad, Value::String(_)) => Err(format!("a scratchpad holds at most {MAX_SCRATCHPAD_CHARS} characters")),
        (NoteKind::Highlights, Value::Array(ranges)) => {
            if ranges.len() > MAX_HIGHLIGHTS {
                return Err(format!("at most {MAX_HIGHLIGHTS} highlights on an item"));
            }
            let mut end_before = None;
            for range in ranges {
                let pair = range.as_array().filter(|p| p.len() == 2);
                let bounds = pair.and_then(|p| Some((p[0].as_u64()?, p[1].as_u64()?)));
                match bounds {
                    Some((start, end)) if start < end && end <= MAX_HIGHLIGHT_OFFSET && end_before.map_or(true, |before| before <= start) => {
                        end_before = Some(end)
                    }
                    _ => return Err("highlights are [start, end] pairs, start before end, in order and not overlapping".into()),
                }
            }
            Ok(())
        }
        (NoteKind::Scratchpad, _) => Err("a scratchpad holds text".into()),
        (NoteKind::Highlights, _) => Err("highlights are a list of [start, end] pairs".into()),
    }
}

/// `format` of the kiosk's answer snapshots (the `answers` of an upload).
pub const ANSWERS_FORMAT: &str = "exam-kiosk-answers/1";
/// Longest item or response identifier in answers (kiosk store and hub alike).
pub const MAX_ANSWER_ID_BYTES: usize = 256;
/// Largest single response value (JSON bytes), e.g. an essay.
pub const MAX_ANSWER_VALUE_BYTES: usize = 256 * 1024;

/// An item or response identifier the kiosk's store and the hub accept:
/// 1 to [`MAX_ANSWER_ID_BYTES`] bytes, no control characters.
pub fn answer_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ANSWER_ID_BYTES && !id.chars().any(char::is_control)
}

/// The answers as they were after `changes`, applied in order to `base` (a
/// snapshot in [`ANSWERS_FORMAT`]: `responses` item → response → value,
/// `flagged` a sorted list of item ids, `seq`, `final_submission`). `None`
/// when `base` is not such a snapshot or the changes do not follow each
/// other from `base`'s `seq`. The kiosk's store and the hub both use this,
/// so a snapshot rebuilt by the hub equals the one the kiosk sent.
pub fn answers_after(base: &serde_json::Value, changes: &[AnswerChange]) -> Option<serde_json::Value> {
    use serde_json::Value;
    let mut out = base.clone();
    let object = out.as_object_mut()?;
    if object.get("format").and_then(Value::as_str) != Some(ANSWERS_FORMAT) {
        return None;
    }
    let mut seq = object.get("seq").and_then(Value::as_u64)?;
    let mut final_submission = object.get("final_submission").and_then(Value::as_bool)?;
    let mut flagged: std::collections::BTreeSet<String> =
        object.get("flagged")?.as_array()?.iter().map(|v| v.as_str().map(str::to_owned)).collect::<Option<_>>()?;
    object.get("responses")?.as_object()?;
    for change in changes {
        if final_submission || seq.checked_add(1) != Some(change.seq()) {
            return None;
        }
        seq = change.seq();
        match change {
            AnswerChange::Save { item, response, value, .. } => {
                let responses = object.get_mut("responses")?.as_object_mut()?;
                let entry = responses.entry(item.clone()).or_insert_with(|| Value::Object(serde_json::Map::new()));
                entry.as_object_mut()?.insert(response.clone(), value.clone());
            }
            AnswerChange::Flag { item, flagged: true, .. } => {
                flagged.insert(item.clone());
            }
            AnswerChange::Flag { item, flagged: false, .. } => {
                flagged.remove(item);
            }
            AnswerChange::Note { item, note, value, .. } => set_note(object, item, *note, value)?,
            AnswerChange::Final { .. } => final_submission = true,
        }
    }
    object.insert("seq".into(), seq.into());
    object.insert("final_submission".into(), final_submission.into());
    object.insert("flagged".into(), flagged.into_iter().map(Value::String).collect());
    Some(out)
}

/// Whether the `notes` of answers (a snapshot in [`ANSWERS_FORMAT`]; absent
/// is none) hold only notes [`note_value_ok`] allows, under item ids
/// [`answer_id_ok`] allows, [`MAX_NOTES_BYTES`] in all.
pub fn notes_ok(answers: &serde_json::Value) -> Result<(), String> {
    let Some(notes) = answers.get("notes") else { return Ok(()) };
    let notes = notes.as_object().ok_or("notes are item → kind → value")?;
    if serde_json::to_vec(notes).map_or(usize::MAX, |v| v.len()) > MAX_NOTES_BYTES {
        return Err(format!("the notes hold at most {MAX_NOTES_BYTES} bytes in all"));
    }
    for (item, of_item) in notes {
        if !answer_id_ok(item) {
            return Err("a note's item id must be 1 to 256 bytes without control characters".into());
        }
        for (kind, value) in of_item.as_object().ok_or("notes are item → kind → value")? {
            let kind: NoteKind = serde_json::from_value(serde_json::Value::String(kind.clone())).map_err(|_| format!("unknown note {kind:?}"))?;
            if value.is_null() {
                return Err("a cleared note is absent, not null".into());
            }
            note_value_ok(kind, value)?;
        }
    }
    Ok(())
}

/// Sets (or, with `null`, clears) a note in a snapshot's `notes`: the
/// field, an item's entry and the note are present only while they hold
/// something, so answers without notes look as they did before notes.
fn set_note(snapshot: &mut serde_json::Map<String, serde_json::Value>, item: &str, kind: NoteKind, value: &serde_json::Value) -> Option<()> {
    use serde_json::Value;
    let notes = snapshot.entry("notes").or_insert_with(|| Value::Object(serde_json::Map::new())).as_object_mut()?;
    let of_item = notes.entry(item.to_owned()).or_insert_with(|| Value::Object(serde_json::Map::new())).as_object_mut()?;
    if value.is_null() {
        of_item.remove(kind.as_str());
    } else {
        of_item.insert(kind.as_str().to_owned(), value.clone());
    }
    if of_item.is_empty() {
        notes.remove(item);
    }
    if notes.is_empty() {
        snapshot.remove("notes");
    }
    Some(())
}

/// Domain separator of answer receipts.
pub const ANSWER_RECEIPT_DOMAIN: &[u8] = b"exam-hub/answer-receipt/v1\0";

/// The hub's signed receipt for answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerReceipt {
    /// Sitting id.
    pub sitting_id: String,
    /// Student number.
    pub student_number: String,
    /// The save this receipt is for.
    pub seq: u64,
    /// SHA-256 of the compact JSON of the answers as received, hex.
    pub answers_sha256: String,
    /// True when this was the final submission.
    pub final_submission: bool,
    /// Hub clock, unix ms.
    pub time_ms: i64,
    /// Short code the student sees (derived from the signature).
    pub receipt_code: String,
    /// Signature over [`AnswerReceipt::signed_message`], hex.
    pub signature: String,
    /// The hub stored these answers **apart**: they came over a session that
    /// a login on another PC ended, and do not count by themselves (the
    /// exam board decides). Absent (false) on every other receipt.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kept_apart: bool,
}

impl AnswerReceipt {
    /// Domain, sitting id, student number (each u32 BE length-prefixed),
    /// seq (u64 BE), answers hash text (length-prefixed), final (1 byte), time
    /// (i64 BE), and — only on a receipt for answers kept apart — the byte
    /// string `kept-apart` (so every other receipt signs as before).
    pub fn signed_message(&self) -> Vec<u8> {
        let mut m = ANSWER_RECEIPT_DOMAIN.to_vec();
        push_str(&mut m, &self.sitting_id);
        push_str(&mut m, &self.student_number);
        m.extend_from_slice(&self.seq.to_be_bytes());
        push_str(&mut m, &self.answers_sha256);
        m.push(u8::from(self.final_submission));
        m.extend_from_slice(&self.time_ms.to_be_bytes());
        if self.kept_apart {
            m.extend_from_slice(b"kept-apart");
        }
        m
    }

    /// Checks the signature with the hub key (hex) and that the code belongs to it.
    pub fn verify(&self, hub_key_hex: &str) -> Result<(), String> {
        verify_hex_signature(hub_key_hex, &self.signed_message(), &self.signature)?;
        let sig = hex::decode(&self.signature).map_err(|_| "signature is not hex".to_string())?;
        if receipt_code(&sig) != self.receipt_code {
            return Err("receipt code does not belong to the signature".into());
        }
        Ok(())
    }
}

/// The short receipt code: the first 40 bits of SHA-256(signature) in
/// Crockford base32, as `XXXX-XXXX`.
pub fn receipt_code(signature: &[u8]) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let digest = ring::digest::digest(&ring::digest::SHA256, signature);
    let bytes = digest.as_ref();
    let mut bits: u64 = 0;
    for b in &bytes[..5] {
        bits = (bits << 8) | u64::from(*b);
    }
    let mut out = String::with_capacity(9);
    for i in 0..8 {
        let idx = ((bits >> (35 - 5 * i)) & 31) as usize;
        out.push(ALPHABET[idx] as char);
        if i == 3 {
            out.push('-');
        }
    }
    out
}

/// `GET /api/v1/answers/latest`: the newest answers the hub holds for the
/// session's student and sitting, from whichever device sent them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestAnswers {
    /// Sitting id.
    pub sitting_id: String,
    /// The save (`seq`) of the snapshot; 0 with `answers: null` when the hub has none.
    pub seq: u64,
    /// The answers exactly as uploaded (the kiosk's `AnswerSnapshot`), or `null`.
    pub answers: serde_json::Value,
    /// The device that sent them (empty when none).
    pub device_id: String,
    /// True when this was the final submission.
    pub final_submission: bool,
    /// The hub's signed receipt for this save, so the kiosk can check it
    /// (hash of `answers`, signature), or `None` when there are no answers.
    #[serde(default)]
    pub receipt: Option<AnswerReceipt>,
}

/// `POST /api/v1/web-session`: what a kiosk needs to key the exam key header
/// of a web instrument (`kiosk_core::instrument::web`). The hub hands the
/// same nonce to the supplier for this sitting (`exam-hub web-nonce`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebSession {
    /// Sitting id.
    pub sitting_id: String,
    /// The session nonce, 32 bytes as 64 hex digits: the HMAC key of the header.
    pub session_nonce: String,
}

/// What the kiosk is doing, reported in heartbeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// Session state name (e.g. `in_exam`, `locked`).
    pub state: String,
    /// Journal records the kiosk has written (next sequence number).
    #[serde(default)]
    pub journal_next_seq: Option<u64>,
    /// Hash of the kiosk's last journal record, hex.
    #[serde(default)]
    pub journal_last_hash: Option<String>,
    /// Answer saves not yet acknowledged by the hub.
    #[serde(default)]
    pub answers_pending: u32,
    /// The kiosk cannot read its journal from this point on (damaged on
    /// disk): the records before it were sent, the rest cannot be. The hub
    /// raises an alarm (`journal.damaged`). Absent when the journal reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal_damage: Option<JournalDamage>,
}

/// Where and why a kiosk's journal cannot be read ([`Heartbeat`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalDamage {
    /// The first record the kiosk cannot read (the hub holds the ones before, once sent).
    pub from_seq: u64,
    /// What is wrong (segment file, offset, reason), for the alarm.
    pub reason: String,
}

/// Answer to a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeartbeatAck {
    /// Hub clock, unix ms (kiosks report clock skew from it).
    pub server_time_ms: i64,
    /// Journal records the hub holds for this device.
    pub journal_next_seq: u64,
    /// Instructions not yet acknowledged (also delivered over the event stream).
    pub pending_instructions: Vec<Instruction>,
}

/// What an instruction asks the kiosk to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InstructionKind {
    /// Lock the session (lock screen).
    Lock,
    /// Unlock a locked session.
    Unlock,
    /// Give the student more time.
    AddTime {
        /// Minutes added.
        minutes: u32,
    },
    /// Pause the timer and lock input.
    Pause,
    /// Resume after a pause.
    Resume,
    /// End the exam: submit what there is.
    End,
}

/// An instruction to one kiosk; re-sent until acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instruction {
    /// Unique id; acknowledge with it. Kiosks apply an id at most once.
    pub id: String,
    /// What to do.
    #[serde(flatten)]
    pub kind: InstructionKind,
    /// Why (for the journal and the lock screen).
    pub reason: String,
    /// Who gave it.
    pub issued_by: String,
    /// When, unix ms.
    pub issued_at_ms: i64,
    /// The session it belongs to. The hub delivers it only while that
    /// session is the device's current one, and a kiosk carries it out only
    /// in that session (another student's instruction is acknowledged as not
    /// applicable and journalled). `None` only for an instruction to a PC
    /// with nobody logged in, which no session carries out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<InstructionScope>,
}

/// The session (sitting and student) an [`Instruction`] belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstructionScope {
    /// Sitting id.
    pub sitting_id: String,
    /// Student number.
    pub student_number: String,
}

/// `POST /api/v1/instructions/ack`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstructionAck {
    /// The instruction id.
    pub id: String,
}

fn push_str(m: &mut Vec<u8>, s: &str) {
    m.extend_from_slice(&(s.len() as u32).to_be_bytes());
    m.extend_from_slice(s.as_bytes());
}

/// SHA-256 of a DER certificate, lower-case hex: how the hub knows a
/// device by its client certificate, and how a kiosk pins the school CA on
/// first contact.
pub fn cert_sha256(der: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, der))
}

/// Verifies a hex Ed25519 signature over `message` with a hex public key.
pub fn verify_hex_signature(public_key_hex: &str, message: &[u8], signature_hex: &str) -> Result<(), String> {
    let key = hex::decode(public_key_hex.trim()).map_err(|_| "public key is not hex".to_string())?;
    let sig = hex::decode(signature_hex).map_err(|_| "signature is not hex".to_string())?;
    UnparsedPublicKey::new(&ED25519, &key)
        .verify(message, &sig)
        .map_err(|_| "signature does not verify with the hub key".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair as _};

    fn key() -> Ed25519KeyPair {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).unwrap();
        Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap()
    }

    #[test]
    fn echo_round_trip_and_tamper() {
        let k = key();
        let pk = hex::encode(k.public_key().as_ref());
        let echo = HubEcho { device_id: "d1".into(), nonce: "ab".repeat(32), observed: "127.0.0.1".parse().unwrap(), time_ms: 5 };
        let signed = SignedHubEcho { signature: hex::encode(k.sign(&echo.signed_message()).as_ref()), echo };
        let json = serde_json::to_string(&signed).unwrap();
        assert!(json.contains("device-id"), "kebab-case like kiosk-core's location::HubEcho: {json}");
        let back: SignedHubEcho = serde_json::from_str(&json).unwrap();
        back.verify(&pk, "d1", &"AB".repeat(32)).unwrap();
        assert!(back.verify(&pk, "d2", &"ab".repeat(32)).is_err());
        let mut forged = back.clone();
        forged.echo.observed = "127.0.0.2".parse().unwrap();
        assert!(forged.verify(&pk, "d1", &"ab".repeat(32)).is_err());
    }

    #[test]
    fn receipts_verify() {
        let k = key();
        let pk = hex::encode(k.public_key().as_ref());
        let mut r = AnswerReceipt {
            sitting_id: "s".into(),
            student_number: "1".into(),
            seq: 3,
            answers_sha256: "00".into(),
            final_submission: true,
            time_ms: 9,
            receipt_code: String::new(),
            signature: String::new(),
            kept_apart: false,
        };
        let sig = k.sign(&r.signed_message());
        r.signature = hex::encode(sig.as_ref());
        r.receipt_code = receipt_code(sig.as_ref());
        assert_eq!(r.receipt_code.len(), 9);
        r.verify(&pk).unwrap();
        assert!(!serde_json::to_string(&r).unwrap().contains("kept_apart"), "other receipts look as before");
        // A receipt for answers kept apart cannot pass for an ordinary one.
        let mut apart = r.clone();
        apart.kept_apart = true;
        assert!(apart.verify(&pk).is_err());
        r.seq = 4;
        assert!(r.verify(&pk).is_err());
    }

    #[test]
    fn instruction_json_shape() {
        let i = Instruction {
            id: "i1".into(),
            kind: InstructionKind::AddTime { minutes: 10 },
            reason: "fire alarm".into(),
            issued_by: "console".into(),
            issued_at_ms: 1,
            session: Some(InstructionScope { sitting_id: "S1".into(), student_number: "1001".into() }),
        };
        let v = serde_json::to_value(&i).unwrap();
        assert_eq!(v["kind"], "add_time");
        assert_eq!(v["minutes"], 10);
        assert_eq!(serde_json::from_value::<Instruction>(v).unwrap(), i);
    }

    #[test]
    fn enrol_proof_binds_every_input() {
        let (c, t, csr, k) = ("ab".repeat(32), " token-1 ", "-----BEGIN CERTIFICATE REQUEST-----\nX\n", "cd".repeat(32));
        let m = enrol_proof_message(&c, t, csr, &k).unwrap();
        assert!(m.starts_with(ENROL_PROOF_DOMAIN));
        assert_eq!(m.len(), ENROL_PROOF_DOMAIN.len() + 4 * 32);
        // The token is hashed trimmed, as the hub hashes it.
        assert_eq!(m, enrol_proof_message(&c, "token-1", csr, &k).unwrap());
        // Any other challenge, token, CSR or key gives other bytes.
        for other in [
            enrol_proof_message(&"ac".repeat(32), t, csr, &k),
            enrol_proof_message(&c, "token-2", csr, &k),
            enrol_proof_message(&c, t, "-----BEGIN CERTIFICATE REQUEST-----\nY\n", &k),
            enrol_proof_message(&c, t, csr, &"ce".repeat(32)),
        ] {
            assert_ne!(other.unwrap(), m);
        }
        // Malformed challenge or key: a clear error, no message.
        assert!(enrol_proof_message("xyz", t, csr, &k).unwrap_err().contains("challenge"));
        assert!(enrol_proof_message(&"ab".repeat(31), t, csr, &k).unwrap_err().contains("challenge"));
        assert!(enrol_proof_message(&c, t, csr, "zz").unwrap_err().contains("device_public_key"));
        // Older kiosks' requests without the new fields still parse (the hub then says what is missing).
        let old: EnrolRequest = serde_json::from_str(r#"{"token":"t","csr_pem":"c"}"#).unwrap();
        assert_eq!((old.challenge, old.proof, old.device_public_key), (None, None, None));
    }

    #[test]
    fn notes_are_kept_apart_from_the_answers_and_vanish_when_cleared() {
        let base = serde_json::json!({"format": ANSWERS_FORMAT, "sitting_id": "S1", "instrument_id": "I", "seq": 1,
            "final_submission": false, "responses": {"A": {"RESPONSE": "x"}}, "flagged": []});
        let note = |seq, note, value| AnswerChange::Note { seq, item: "A".into(), note, value };
        let pad = note(2, NoteKind::Scratchpad, serde_json::json!("12 * 4 = 48"));
        let marks = note(3, NoteKind::Highlights, serde_json::json!([[0, 4], [9, 12]]));
        let after = answers_after(&base, &[pad.clone(), marks.clone()]).unwrap();
        assert_eq!(after["notes"], serde_json::json!({"A": {"scratchpad": "12 * 4 = 48", "highlights": [[0, 4], [9, 12]]}}));
        assert_eq!(after["responses"], base["responses"], "a note is no answer");
        // Cleared again: the answers look as they did before any note.
        let cleared = answers_after(&after, &[note(4, NoteKind::Scratchpad, serde_json::Value::Null), note(5, NoteKind::Highlights, serde_json::Value::Null)]).unwrap();
        let mut expected = base.clone();
        expected["seq"] = 5.into();
        assert_eq!(cleared, expected);
        // The wire form names the kind.
        assert_eq!(serde_json::to_value(&pad).unwrap()["note"], "scratchpad");
    }

    #[test]
    fn a_note_holds_only_what_its_kind_allows() {
        use serde_json::json;
        assert!(note_value_ok(NoteKind::Scratchpad, &json!("tekst")).is_ok());
        assert!(note_value_ok(NoteKind::Scratchpad, &json!(null)).is_ok());
        assert!(note_value_ok(NoteKind::Scratchpad, &json!("x".repeat(MAX_SCRATCHPAD_CHARS))).is_ok());
        assert!(note_value_ok(NoteKind::Scratchpad, &json!("x".repeat(MAX_SCRATCHPAD_CHARS + 1))).is_err());
        assert!(note_value_ok(NoteKind::Scratchpad, &json!({"RESPONSE": "B"})).is_err(), "no answers smuggled in as notes");
        assert!(note_value_ok(NoteKind::Highlights, &json!([[0, 3], [3, 5]])).is_ok());
        for bad in [json!([[3, 3]]), json!([[4, 2]]), json!([[0, 5], [3, 8]]), json!([[5, 8], [0, 2]]), json!([[0, -1]]), json!([[0, 1.5]]), json!([[0]]), json!("0-4")] {
            assert!(note_value_ok(NoteKind::Highlights, &bad).is_err(), "{bad}");
        }
        let many: Vec<_> = (0..=MAX_HIGHLIGHTS as u64).map(|i| json!([i * 2, i * 2 + 1])).collect();
        assert!(note_value_ok(NoteKind::Highlights, &json!(many)).is_err());
        // Sizes in bytes, not only characters (an attacker's scratchpad of control characters).
        assert!(note_value_ok(NoteKind::Scratchpad, &json!("\u{1}".repeat(MAX_SCRATCHPAD_CHARS))).is_err());
        assert!(note_value_ok(NoteKind::Highlights, &json!([[0, u64::MAX]])).is_err());
        // The notes of answers as a whole.
        assert!(notes_ok(&json!({"responses": {}})).is_ok());
        assert!(notes_ok(&json!({"notes": {"A": {"scratchpad": "x", "highlights": [[0, 1]]}}})).is_ok());
        for bad in [json!({"notes": {"A": {"scratchpad": {"RESPONSE": "B"}}}}), json!({"notes": {"A": {"antwoord": "B"}}}), json!({"notes": {"": {"scratchpad": "x"}}}), json!({"notes": {"A": {"scratchpad": null}}}), json!({"notes": []})] {
            assert!(notes_ok(&bad).is_err(), "{bad}");
        }
        let big: serde_json::Map<String, serde_json::Value> = (0..40).map(|i| (format!("I{i}"), json!({"scratchpad": "x".repeat(9_000)}))).collect();
        assert!(notes_ok(&json!({"notes": big})).is_err(), "all notes together are bounded");
    }
}
