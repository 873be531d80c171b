//! The kiosk API handlers (`/api/v1/...`, `/healthz`).

use crate::config::{self, LOGIN_EARLY_MS, SESSION_GRACE_MS};
use crate::error::{ApiError, ApiJson};
use crate::state::{CachedInstrument, ConnInfo, Hub};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use exam_protocol::*;
use exam_secure::constant_time_eq;
use std::collections::{HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

type HubState = State<Arc<Hub>>;

/// An enrolled, non-revoked device, identified by its client certificate.
#[derive(Debug, Clone)]
pub struct Device {
    /// Device id.
    pub id: String,
    /// Room it is enrolled to.
    pub room: String,
    /// Pinned journal device key, hex.
    pub public_key: Option<String>,
    /// SHA-256 (hex) of the client certificate of this connection; session
    /// tokens are bound to it.
    pub cert_sha256: String,
    /// Source address of the connection.
    pub remote: SocketAddr,
    /// The kiosk says its policy lets a WebDriver drive it
    /// ([`exam_protocol::TEST_AUTOMATION_HEADER`]).
    pub test_automation: bool,
}

impl Device {
    /// Refuses a kiosk that another program can script (its policy allows
    /// test automation) unless this hub accepts test kiosks: a student who
    /// chose such a policy gets neither a login nor an exam. Its journal is
    /// still taken (the evidence of what it did).
    fn refuse_test_kiosk(&self, hub: &Hub) -> Result<(), ApiError> {
        if self.test_automation && !hub.accept_test_kiosks {
            tracing::warn!(device = %self.id, "refused a kiosk in test automation");
            return Err(ApiError::forbidden(
                "test_kiosk_refused",
                "this kiosk's policy lets a WebDriver drive it ([environment] test-automation); this hub does not accept test kiosks (hub.toml: accept-test-kiosks)",
            ));
        }
        Ok(())
    }
}

impl FromRequestParts<Arc<Hub>> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        let info = parts
            .extensions
            .get::<ConnInfo>()
            .ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "connection facts missing"))?;
        let Some(fingerprint) = &info.client_cert_sha256 else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "client_certificate_required",
                "this endpoint needs the device's client certificate; enrol the device first",
            ));
        };
        let row = crate::store::devices::by_cert(&hub.db.pool, fingerprint)
            .await?
            .ok_or_else(|| ApiError::forbidden("unknown_device", "this client certificate does not belong to an enrolled device"))?;
        if row.revoked_ms.is_some() {
            return Err(ApiError::forbidden("device_revoked", "this device's enrolment was revoked"));
        }
        let id = row.device_id;
        hub.device_requests.check(&id, crate::now_ms()).map_err(|s| ApiError::rate_limited("requests from this device", s))?;
        Ok(Device {
            id,
            room: row.room,
            public_key: row.device_public_key,
            cert_sha256: fingerprint.clone(),
            remote: info.remote,
            test_automation: parts.headers.contains_key(exam_protocol::TEST_AUTOMATION_HEADER),
        })
    }
}

/// A valid student session on the device that created it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The device.
    pub device: Device,
    /// Sitting id.
    pub sitting_id: String,
    /// Student number.
    pub student_number: String,
    /// When a login elsewhere (the student moved to another PC) ended this
    /// session; only an [`AnswerSession`] is ever taken over such a session.
    pub superseded_ms: Option<i64>,
}

impl FromRequestParts<Arc<Hub>> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        Session::from_parts(parts, hub, Expiry::Enforced).await
    }
}

/// Whether a session past its expiry time is still accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expiry {
    /// Refused once expired (everything but answers).
    Enforced,
    /// Accepted after expiry: answers an offline kiosk kept are never
    /// thrown away; the hub classifies them from its records and the journal.
    Ignored,
}

/// A session whose answers are taken also after it expired, and after a
/// login on another PC ended it (never from another device or certificate,
/// nor from a revoked device): an offline PC that comes back hours later, or
/// after the student moved on, still delivers what it kept — stored and
/// shown, counted only when made in time on the PC the student was on.
#[derive(Debug, Clone)]
pub struct AnswerSession(pub Session);

impl FromRequestParts<Arc<Hub>> for AnswerSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        Session::from_parts(parts, hub, Expiry::Ignored).await.map(AnswerSession)
    }
}

impl Session {
    async fn from_parts(parts: &mut Parts, hub: &Arc<Hub>, expiry: Expiry) -> Result<Self, ApiError> {
        let device = Device::from_request_parts(parts, hub).await?;
        device.refuse_test_kiosk(hub)?;
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix(AUTHORIZATION_SCHEME))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 128)
            .ok_or_else(|| ApiError::unauthorized("a session token is needed: Authorization: Bearer <token>"))?;
        let row = crate::store::sessions::by_token(&hub.db.pool, &crate::sha256_hex(token.as_bytes()))
            .await?
            .ok_or_else(|| ApiError::unauthorized("unknown session token"))?;
        if row.device_id != device.id {
            return Err(ApiError::unauthorized("this session belongs to another device"));
        }
        // Bound to the certificate it was issued over: after a re-enrolment
        // (or with a copied token) another certificate of the same device id
        // does not inherit it.
        let bound = row.cert_sha256;
        if !bound.is_some_and(|b| constant_time_eq(b.as_bytes(), device.cert_sha256.as_bytes())) {
            return Err(ApiError::unauthorized("this session was issued over another client certificate; log in again"));
        }
        let superseded_ms = row.revoked_ms;
        if superseded_ms.is_some() && expiry == Expiry::Enforced {
            return Err(ApiError::unauthorized("this session ended (the student logged in elsewhere, or it was revoked)"));
        }
        let session = Session { device, sitting_id: row.sitting_id, student_number: row.student_number, superseded_ms };
        if expiry == Expiry::Enforced {
            let expires_ms = row.expires_ms;
            let valid = crate::enforcement::session_valid(&hub.db.pool, &session.sitting_id, &session.student_number, expires_ms, crate::now_ms());
            if !valid.await? {
                return Err(ApiError::unauthorized("this session expired"));
            }
        }
        Ok(session)
    }
}

/// `GET /healthz`.
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into(), protocol: vec![PROTOCOL_VERSION] })
}

/// Fallback: JSON 404.
pub async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such endpoint")
}


fn check_len(name: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.is_empty() || value.len() > max || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request("invalid_field", format!("{name} must be 1 to {max} printable characters")));
    }
    Ok(())
}

/// `POST /api/v1/enrol/challenge`: a single-use challenge for the enrolment
/// with `token` (only a valid, unused token gets one).
pub async fn enrol_challenge(State(hub): HubState, ApiJson(req): ApiJson<EnrolChallengeRequest>) -> Result<Json<EnrolChallenge>, ApiError> {
    check_len("token", &req.token, 128)?;
    let token_hash = crate::sha256_hex(req.token.trim().as_bytes());
    let now = crate::now_ms();
    valid_enrol_token(&hub, &token_hash, now).await?;
    let challenge = hex::encode(crate::random_bytes(32));
    let expires = now + config::ENROL_CHALLENGE_VALIDITY_MS;
    let mut tx = hub.db.begin_write().await?;
    // Expired challenges are worthless (not evidence): dropped as new ones come.
    crate::store::devices::drop_expired_challenges(&mut *tx, now).await?;
    let open = crate::store::devices::open_challenges(&mut *tx, &token_hash).await?;
    if open >= config::MAX_ENROL_CHALLENGES_PER_TOKEN {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_challenges",
            "too many open enrolment challenges for this token; use one, or wait until they expire",
        ));
    }
    crate::store::devices::insert_challenge(&mut *tx, &challenge, &token_hash, now, expires).await?;
    tx.commit().await?;
    Ok(Json(EnrolChallenge { challenge, expires_at_ms: expires }))
}

/// The room of a valid (known, unused, unexpired) enrolment token.
async fn valid_enrol_token(hub: &Hub, token_hash: &str, now: i64) -> Result<String, ApiError> {
    let row = crate::store::devices::token(&hub.db.pool, token_hash).await?;
    match row {
        Some(row) if row.used_ms.is_none() && row.expires_ms > now => Ok(row.room),
        _ => Err(ApiError::forbidden("invalid_token", "the enrolment token is unknown, used or expired")),
    }
}

/// `POST /api/v1/enrol`: a client certificate for a device that proves it
/// holds its journal device key (a signature over a hub challenge, the token,
/// the CSR and the key). A device id already enrolled is re-enrolled only
/// with that proof, and a revoked one only after `exam-hub device readmit`.
pub async fn enrol(State(hub): HubState, ApiJson(req): ApiJson<EnrolRequest>) -> Result<Json<EnrolResponse>, ApiError> {
    check_len("token", &req.token, 128)?;
    if let Some(h) = &req.hostname {
        check_len("hostname", h, config::MAX_FIELD_LEN)?;
    }
    let Some(key_hex) = req.device_public_key.as_deref() else {
        return Err(ApiError::bad_request(
            "device_key_required",
            "enrolment needs the device's journal key (device_public_key) and its proof of possession; update the kiosk",
        ));
    };
    let device_key = exam_journal::PublicKey::from_hex(key_hex)
        .map_err(|e| ApiError::bad_request("invalid_device_key", format!("device_public_key: {e}")))?;
    let (Some(challenge), Some(proof)) = (req.challenge.as_deref(), req.proof.as_deref()) else {
        return Err(ApiError::bad_request(
            "proof_required",
            "enrolment needs a challenge from POST /api/v1/enrol/challenge and the device key's signature over it (proof); update the kiosk",
        ));
    };
    if req.csr_pem.len() > 16 * 1024 {
        return Err(ApiError::bad_request("invalid_csr", "the certificate request is too large"));
    }
    let message = enrol_proof_message(challenge, &req.token, &req.csr_pem, key_hex)
        .map_err(|e| ApiError::bad_request("invalid_challenge", e))?;
    let signature: [u8; 64] = hex::decode(proof.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::bad_request("invalid_proof", "proof must be an Ed25519 signature, 64 bytes as 128 hex digits"))?;
    if !device_key.verify(&message, &signature) {
        return Err(ApiError::forbidden(
            "invalid_proof",
            "the proof does not verify with device_public_key: only the holder of the device key can enrol it",
        ));
    }
    let token_hash = crate::sha256_hex(req.token.trim().as_bytes());
    let now = crate::now_ms();
    let room = valid_enrol_token(&hub, &token_hash, now).await?;
    let device_id = device_key.device_id();
    let (cert_pem, cert_sha) = hub
        .keys
        .issue_device_certificate(&req.csr_pem, &device_id)
        .map_err(|e| ApiError::bad_request("invalid_csr", format!("the certificate request is not usable: {e}")))?;
    // Every refusal below returns before the commit: the challenge and the
    // token stay unused, the device record unchanged.
    let mut tx = hub.db.begin_write().await?;
    let consumed = crate::store::devices::use_challenge(&mut *tx, &challenge.trim().to_ascii_lowercase(), &token_hash, now).await?;
    if consumed != 1 {
        return Err(ApiError::forbidden(
            "invalid_challenge",
            "the challenge is unknown, already used, expired or for another token: ask for a new one",
        ));
    }
    let used = crate::store::devices::use_token(&mut *tx, &token_hash, &device_id, now).await?;
    if used != 1 {
        return Err(ApiError::forbidden("invalid_token", "the enrolment token is unknown, used or expired"));
    }
    let existing = crate::store::devices::enrolment(&mut *tx, &device_id).await?;
    match existing {
        None => {
            let key_hex = device_key.to_hex();
            let new = crate::store::devices::NewDevice {
                device_id: &device_id,
                room: &room,
                cert_sha256: &cert_sha,
                device_public_key: &key_hex,
                hostname: req.hostname.as_deref(),
                enrolled_ms: now,
            };
            let inserted = crate::store::devices::insert(&mut *tx, new).await?;
            if inserted != 1 {
                return Err(ApiError::conflict("enrolment_in_progress", "this device is being enrolled at the same moment; try again"));
            }
        }
        Some(row) => {
            let (revoked, readmitted) = (row.revoked_ms, row.readmitted_ms);
            if revoked.is_some_and(|r| readmitted.is_none_or(|a| a < r)) {
                return Err(ApiError::forbidden(
                    "device_revoked",
                    "this device's enrolment was revoked; an administrator must re-admit it first (exam-hub device readmit)",
                ));
            }
            let old_room = row.room;
            let old_host = row.hostname;
            // The same key, proven: a reinstalled PC. Its old certificate and
            // the sessions issued over it stop working; nothing else moves.
            // The revocation check is repeated in the update itself: a
            // revocation committed since the read above (PostgreSQL reads
            // committed) is never undone.
            let updated = crate::store::devices::reenrol(&mut *tx, &device_id, &room, &cert_sha, req.hostname.as_deref(), now).await?;
            if updated != 1 {
                return Err(ApiError::forbidden(
                    "device_revoked",
                    "this device's enrolment was revoked; an administrator must re-admit it first (exam-hub device readmit)",
                ));
            }
            crate::store::sessions::revoke_of_device(&mut *tx, &device_id, now).await?;
            let detail = format!(
                "device re-enrolled with proof of its device key{}: room {old_room} -> {room}, host {} -> {}; its previous certificate and sessions are no longer accepted",
                if revoked.is_some() { " after re-admission" } else { "" },
                old_host.as_deref().unwrap_or("-"),
                req.hostname.as_deref().unwrap_or("-"),
            );
            crate::store::journals::insert_alarm(&mut *tx, &crate::random_id(), &device_id, crate::journal::alarm::REENROLMENT, &detail, now).await?;
            tracing::warn!(device = %device_id, %detail, "device re-enrolled");
        }
    }
    tx.commit().await?;
    tracing::info!(device = %device_id, room = %room, "device enrolled");
    Ok(Json(EnrolResponse {
        device_id,
        room,
        client_certificate_pem: cert_pem,
        device_ca_pem: hub.keys.device_ca_pem.clone(),
        school_ca_pem: hub.keys.school_ca_pem.clone(),
        hub_signing_public_key: hub.keys.signing_public_hex.clone(),
        signed_policy: hub.keys.signed_policy.clone(),
        protocol_version: PROTOCOL_VERSION,
    }))
}

/// `POST /api/v1/echo`.
pub async fn echo(State(hub): HubState, device: Device, ApiJson(req): ApiJson<EchoRequest>) -> Result<Json<SignedHubEcho>, ApiError> {
    if req.nonce.len() != 64 || !req.nonce.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request("invalid_nonce", "nonce must be 32 bytes as 64 hex digits"));
    }
    let echo = HubEcho {
        device_id: device.id,
        nonce: req.nonce.to_ascii_lowercase(),
        observed: device.remote.ip().to_canonical(),
        time_ms: crate::now_ms().max(0) as u64,
    };
    let signature = hub.keys.sign_hex(&echo.signed_message());
    Ok(Json(SignedHubEcho { echo, signature }))
}

/// Builds the assignment of a candidate.
pub async fn load_assignment(hub: &Hub, sitting: &str, student: &str) -> Result<Assignment, ApiError> {
    let row = crate::store::planning::assignment(&hub.db.pool, sitting, student)
        .await?
        .ok_or_else(|| ApiError::not_found("no_assignment", "no assignment for this session"))?;
    let duration = row.duration_minutes;
    let extra = row.extra_minutes;
    let added = row.added_minutes;
    let start_ms = row.start_ms;
    let started_ms = row.started_ms;
    let instrument_id = row.instrument_id;
    let tools = row.tools;
    Ok(Assignment {
        sitting_id: sitting.to_string(),
        exam: row.exam,
        room: row.room,
        student_number: student.to_string(),
        student_name: row.name,
        start_ms,
        duration_minutes: duration as u32,
        total_minutes: (duration + extra + added) as u32,
        accommodations: Accommodations {
            extra_minutes: extra as u32,
            tools: tools.split(';').filter(|t| !t.is_empty()).map(str::to_string).collect(),
            text_size: row.text_size,
            contrast: row.contrast,
        },
        instrument: InstrumentRef {
            path: format!("{}{}", paths::INSTRUMENTS, instrument_id),
            id: instrument_id,
            sha256: row.sha256,
            size: row.size.max(0) as u64,
        },
        started: started_ms.is_some() || crate::now_ms() >= start_ms,
    })
}

/// `POST /api/v1/login`.
pub async fn login(State(hub): HubState, device: Device, ApiJson(req): ApiJson<LoginRequest>) -> Result<Json<LoginResponse>, ApiError> {
    // Once the request is read, the login runs to the end in a task of its
    // own, even when the kiosk hangs up: otherwise a hang-up at the wrong
    // moment (the attempt reserved, the wrong code not yet recorded) left
    // the fifth wrong code counted but no lock on record for the console and
    // the proces-verbaal (seen once in CI under load: lockout
    // `a_wrong_code_the_kiosk_hung_up_on_still_locks`).
    tokio::spawn(login_to_the_end(hub, device, req)).await.map_err(|e| {
        tracing::error!(error = %e, "a login task failed");
        internal()
    })?
}

async fn login_to_the_end(hub: Arc<Hub>, device: Device, req: LoginRequest) -> Result<Json<LoginResponse>, ApiError> {
    device.refuse_test_kiosk(&hub)?;
    let student = req.student_number.trim().to_string();
    check_len("student_number", &student, 64)?;
    check_len("access_code", &req.access_code, 64)?;
    let now = crate::now_ms();
    hub.device_logins.check(&device.id, now).map_err(|s| ApiError::rate_limited("login attempts from this workstation", s))?;
    let rows = crate::store::planning::logins_of_student(&hub.db.pool, &student).await?;
    // Compute the HMAC even when nothing matches, so timing does not tell
    // whether a student number exists.
    let mut current = Vec::new();
    for row in &rows {
        let start = row.start_ms;
        let minutes = row.duration_minutes + row.extra_minutes + row.added_minutes;
        let end = start + minutes * 60_000 + SESSION_GRACE_MS;
        if now >= start - LOGIN_EARLY_MS && now <= end {
            current.push((row, end));
        }
    }
    let _ = crate::planning::code_hmac(&hub.keys, "-", &student, &req.access_code);
    if rows.is_empty() {
        return Err(ApiError::not_found("unknown_student", "this student number is not in the planning"));
    }
    if current.is_empty() {
        return Err(ApiError::not_found("no_sitting_now", "this student has no sitting now"));
    }
    let here: Vec<_> = current.iter().filter(|(row, _)| row.room == device.room).collect();
    let Some((row, end)) = here.first() else {
        return Err(ApiError::forbidden(
            "wrong_room",
            "this student's sitting is in another room than the one this workstation is enrolled to",
        ));
    };
    let sitting = row.sitting_id.clone();
    // Counted per (student, PC), reserved before the check: see `lockout`.
    let attempt = crate::lockout::reserve(&hub.db, &sitting, &student, &device.id).await?;
    pause_after_reserve_for_tests().await;
    let expected = &row.code_hmac;
    let given = crate::planning::code_hmac(&hub.keys, &sitting, &student, &req.access_code);
    if !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(attempt.wrong_code(now).await);
    }
    // Then the hub's own records: an ended exam, a sitting whose time is over
    // (only after the code, so a student number alone tells nobody of an end).
    // The right code does not count against the PC's attempts.
    if let Err(refused) = crate::enforcement::login_allowed(&hub.db, hub.sitting_grace_ms, &sitting, &student, now).await {
        let mut tx = hub.db.begin_write().await?;
        attempt.succeeded(&mut tx).await?;
        tx.commit().await?;
        attempt.committed();
        return Err(refused);
    }
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, crate::random_bytes(32));
    let mut tx = hub.db.begin_write().await?;
    attempt.succeeded(&mut tx).await?;
    // A new login (e.g. after moving to another PC) ends earlier sessions.
    crate::store::sessions::revoke_of_student(&mut *tx, &sitting, &student, now).await?;
    let token_hash = crate::sha256_hex(token.as_bytes());
    let new = crate::store::sessions::NewSession {
        token_hash: &token_hash,
        device_id: &device.id,
        sitting_id: &sitting,
        student_number: &student,
        created_ms: now,
        expires_ms: *end,
        cert_sha256: &device.cert_sha256,
    };
    crate::store::sessions::insert(&mut *tx, new).await?;
    tx.commit().await?;
    attempt.committed();
    tracing::info!(device = %device.id, sitting = %sitting, "student logged in");
    // Instructions belong to the device's current session: re-read them now.
    hub.poll_now.notify_one();
    let assignment = load_assignment(&hub, &sitting, &student).await?;
    Ok(Json(LoginResponse { session_token: token, expires_at_ms: *end, assignment }))
}

/// Debug builds only: `EXAM_HUB_TEST_PAUSE_AFTER_RESERVE_MS` holds a login
/// between reserving its attempt and checking the code, so the lockout
/// tests can hang up or hold the database at exactly that moment instead of
/// racing for it (they lost the race half the time). A release build has
/// no such pause and reads no such variable.
async fn pause_after_reserve_for_tests() {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("EXAM_HUB_TEST_PAUSE_AFTER_RESERVE_MS").ok().and_then(|v| v.parse::<u64>().ok()) {
        tokio::time::sleep(std::time::Duration::from_millis(ms.min(5_000))).await;
    }
}

/// `GET /api/v1/assignment`.
pub async fn assignment(State(hub): HubState, session: Session) -> Result<Json<Assignment>, ApiError> {
    Ok(Json(load_assignment(&hub, &session.sitting_id, &session.student_number).await?))
}

/// The instrument's bytes from memory, loaded once; reloaded when it was
/// re-imported (another hash) since.
async fn cached_instrument(hub: &Hub, id: &str, sha256: &str) -> Result<Arc<CachedInstrument>, ApiError> {
    if let Some(found) = hub.instruments.lock().map_err(|_| internal())?.get(id) {
        if found.sha256 == sha256 {
            return Ok(found.clone());
        }
    }
    let row = crate::store::planning::package(&hub.db.pool, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no_instrument", "the instrument is not on the hub"))?;
    let cached = Arc::new(CachedInstrument { sha256: row.sha256, bytes: Bytes::from(row.data) });
    hub.instruments.lock().map_err(|_| internal())?.insert(id.to_string(), cached.clone());
    Ok(cached)
}

fn internal() -> ApiError {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
}

/// Why a range cannot be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

/// Parses a single `bytes=` range against `len`: `Ok(None)` for no (or an
/// unusable) header, [`Unsatisfiable`] when it starts past the end.
pub fn parse_range(value: Option<&str>, len: u64) -> Result<Option<(u64, u64)>, Unsatisfiable> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else { return Ok(None) };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let Ok(suffix) = b.parse::<u64>() else { return Ok(None) };
        if suffix == 0 || len == 0 {
            return Err(Unsatisfiable);
        }
        (len.saturating_sub(suffix), len - 1)
    } else {
        let Ok(start) = a.parse::<u64>() else { return Ok(None) };
        let end = if b.is_empty() {
            len.saturating_sub(1)
        } else {
            match b.parse::<u64>() {
                Ok(end) if end >= start => end.min(len.saturating_sub(1)),
                _ => return Ok(None),
            }
        };
        if start >= len {
            return Err(Unsatisfiable);
        }
        (start, end)
    };
    Ok(Some(range))
}

/// `GET /api/v1/instruments/{id}`, with `Range` support.
pub async fn instrument(State(hub): HubState, session: Session, Path(id): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let assignment = load_assignment(&hub, &session.sitting_id, &session.student_number).await?;
    if assignment.instrument.id != id {
        return Err(ApiError::forbidden("not_assigned", "this instrument is not assigned to this session"));
    }
    let inst = cached_instrument(&hub, &id, &assignment.instrument.sha256).await?;
    let len = inst.bytes.len() as u64;
    let etag = format!("\"{}\"", inst.sha256);
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let if_range_ok = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()).is_none_or(|v| v == etag);
    let mut response = match parse_range(range.filter(|_| if_range_ok), len) {
        Err(Unsatisfiable) => {
            let mut r = ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable", format!("the package has {len} bytes"))
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
        Ok(None) => (StatusCode::OK, Body::from(inst.bytes.clone())).into_response(),
        Ok(Some((start, end))) => {
            let body = inst.bytes.slice(start as usize..=end as usize);
            let mut r = (StatusCode::PARTIAL_CONTENT, Body::from(body)).into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            r
        }
    };
    let h = response.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    Ok(response)
}

/// `POST /api/v1/start`: releases the content key once the sitting started.
pub async fn start(State(hub): HubState, session: Session) -> Result<Json<StartResponse>, ApiError> {
    let row = crate::store::planning::start_with_instrument(&hub.db.pool, &session.sitting_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no_assignment", "the sitting is gone"))?;
    let (start_ms, started_ms) = (row.start_ms, row.started_ms);
    let now = crate::now_ms();
    let started_at = match started_ms {
        Some(t) => t,
        None if now >= start_ms => start_ms,
        None => {
            let mut err = ApiError::new(StatusCode::TOO_EARLY, "not_started", "the sitting has not started yet");
            err.body.starts_at_ms = Some(start_ms);
            return Err(err);
        }
    };
    crate::enforcement::key_allowed(&hub.db, hub.sitting_grace_ms, &session.sitting_id, &session.student_number, now).await?;
    let assignment = load_assignment(&hub, &session.sitting_id, &session.student_number).await?;
    // What is left of the student's time, the time the PCs' clocks stood
    // still given back: the kiosk's clock starts from it.
    let remaining_ms = match crate::enforcement::load_seat(&hub.db.pool, &session.sitting_id, &session.student_number).await? {
        Some(seat) => Some((crate::enforcement::end_with_stops_ms(&hub.db.pool, &session.sitting_id, &session.student_number, &seat, now).await? - now).max(0)),
        None => None,
    };
    tracing::info!(device = %session.device.id, sitting = %session.sitting_id, "content key released");
    Ok(Json(StartResponse {
        sitting_id: session.sitting_id,
        content_key: crate::secrets::sitting_content_key(&hub.db, &hub.keys, &assignment.sitting_id).await?,
        started_at_ms: started_at,
        total_minutes: assignment.total_minutes,
        remaining_ms,
    }))
}

/// `POST /api/v1/journal`.
pub async fn journal(State(hub): HubState, device: Device, ApiJson(batch): ApiJson<JournalBatch>) -> Result<Json<JournalReceipt>, ApiError> {
    let fields = crate::journal::ingest(
        &hub.db,
        crate::journal::DeviceRef { id: &device.id, public_key: device.public_key.as_deref() },
        &batch,
    )
    .await?;
    Ok(Json(crate::journal::receipt(&hub.keys, &device.id, fields)))
}

/// `POST /api/v1/answers`.
pub async fn answers(
    State(hub): HubState,
    AnswerSession(session): AnswerSession,
    ApiJson(upload): ApiJson<AnswerUpload>,
) -> Result<Json<AnswerReceipt>, ApiError> {
    if upload.sitting_id != session.sitting_id {
        return Err(ApiError::forbidden("wrong_sitting", "answers must be for the session's sitting"));
    }
    if upload.seq == 0 || upload.seq > i64::MAX as u64 {
        return Err(ApiError::bad_request("invalid_field", format!("seq must be 1 to {}", i64::MAX)));
    }
    // Received now: taken before waiting for the write lock, so a save that
    // arrived before an end but queued behind it is not "after the end".
    let received_ms = crate::now_ms();
    // Every save is stored (and classified in the reports from the hub's
    // records and the kiosk's journal); only a hand-in before the start is refused.
    if upload.final_submission {
        crate::enforcement::hand_in_allowed(&hub.db, &session.sitting_id, &session.student_number, received_ms).await?;
    }
    let text = serde_json::to_string(&upload.answers).map_err(|_| internal())?;
    let sha = crate::sha256_hex(text.as_bytes());
    if let Some(moved_ms) = session.superseded_ms {
        // The student moved on to another PC: kept apart, with a receipt.
        let seat = crate::answer_history::SeatOfDevice {
            sitting_id: &session.sitting_id,
            student_number: &session.student_number,
            device_id: &session.device.id,
        };
        let sign = || sign_receipt_as(&hub, &session, &upload, &sha, received_ms, true);
        let receipt = crate::answer_history::store_superseded(&hub.db, seat, &upload, &text, &sha, received_ms, moved_ms, sign).await?;
        return Ok(Json(receipt));
    }
    let mut tx = hub.db.begin_write().await?;
    if let Some(receipt) = held_receipt(&mut tx, &session, upload.seq, &sha).await? {
        return Ok(Json(receipt));
    }
    // A hand-in closes the exam, unless an invigilator reopened it since
    // (the earlier hand-in stays stored and is classified like any save).
    let hand_ins = crate::store::answers::hand_ins_since_reopen(&mut *tx, &session.sitting_id, &session.student_number).await?;
    if !hand_ins.is_empty() {
        return Err(ApiError::conflict("already_submitted", "the exam was already handed in"));
    }
    crate::answer_history::check_room(&mut tx, &session.sitting_id, &session.student_number, &upload, text.len()).await?;
    // The changes since the last receipt: checked against what the hub
    // holds and kept, so the answers at every save can be rebuilt.
    crate::answer_history::check_and_store(&mut *tx, &session.sitting_id, &session.student_number, &session.device.id, &upload, received_ms)
        .await?;
    let receipt = sign_receipt(&hub, &session, &upload, &sha, received_ms);
    // A copy of this upload that another hub node stored meanwhile (the
    // check above ran before it committed) is a retry, not an error.
    let receipt_text = serde_json::to_string(&receipt).map_err(|_| internal())?;
    let save = crate::store::answers::NewSave {
        sitting_id: &session.sitting_id,
        student_number: &session.student_number,
        seq: upload.seq as i64,
        final_submission: i64::from(upload.final_submission),
        answers: &text,
        answers_sha256: &sha,
        device_id: &session.device.id,
        received_ms: receipt.time_ms,
        receipt: &receipt_text,
    };
    let inserted = crate::store::answers::insert(&mut *tx, save).await?;
    if inserted == 0 {
        return held_receipt(&mut tx, &session, upload.seq, &sha).await?.map(Json).ok_or_else(internal);
    }
    tx.commit().await?;
    if upload.final_submission {
        tracing::info!(device = %session.device.id, sitting = %session.sitting_id, "final submission received");
    }
    Ok(Json(receipt))
}

/// The receipt the hub holds for save `seq` of the session's student: the
/// same answers (`sha`) get it again (a retry), other answers are a
/// conflict; `None` when the save is not held.
async fn held_receipt(conn: &mut sqlx::AnyConnection, session: &Session, seq: u64, sha: &str) -> Result<Option<AnswerReceipt>, ApiError> {
    let Some(row) = crate::store::answers::held(&mut *conn, &session.sitting_id, &session.student_number, seq as i64).await? else {
        return Ok(None);
    };
    if row.answers_sha256 != sha {
        return Err(ApiError::conflict("conflicting_answers", format!("save {seq} was already received with other contents")));
    }
    serde_json::from_str(&row.receipt).map(Some).map_err(|_| internal())
}

/// The hub's signed receipt for `upload` (its answers hash to `sha`).
pub(crate) fn sign_receipt(hub: &Hub, session: &Session, upload: &AnswerUpload, sha: &str, received_ms: i64) -> AnswerReceipt {
    sign_receipt_as(hub, session, upload, sha, received_ms, false)
}

/// [`sign_receipt`], marked as a receipt for answers kept apart when `kept_apart`.
pub(crate) fn sign_receipt_as(hub: &Hub, session: &Session, upload: &AnswerUpload, sha: &str, received_ms: i64, kept_apart: bool) -> AnswerReceipt {
    let mut receipt = AnswerReceipt {
        sitting_id: session.sitting_id.clone(),
        student_number: session.student_number.clone(),
        seq: upload.seq,
        answers_sha256: sha.to_string(),
        final_submission: upload.final_submission,
        time_ms: received_ms,
        receipt_code: String::new(),
        signature: String::new(),
        kept_apart,
    };
    let signature = hub.keys.sign(&receipt.signed_message());
    receipt.receipt_code = receipt_code(&signature);
    receipt.signature = hex::encode(&signature);
    receipt
}

/// `POST /api/v1/heartbeat`.
pub async fn heartbeat(State(hub): HubState, device: Device, ApiJson(beat): ApiJson<Heartbeat>) -> Result<Json<HeartbeatAck>, ApiError> {
    check_len("state", &beat.state, 64)?;
    let now = crate::now_ms();
    crate::store::devices::seen(&hub.db.pool, &device.id, now, &beat.state).await?;
    let held = crate::journal::held(&hub.db, &device.id).await?;
    if let Some(reported) = beat.journal_next_seq {
        if reported < held {
            let recent = crate::store::journals::recent_alarm(&hub.db.pool, &device.id, crate::journal::alarm::TRUNCATION, now - 10 * 60_000).await?;
            if recent.is_none() {
                let detail = format!("the kiosk reports {reported} journal records, but the hub already holds {held} (journal truncated or replaced)");
                crate::journal::raise_alarm(&hub.db, &device.id, crate::journal::alarm::TRUNCATION, &detail).await;
            }
        }
    }
    if let Some(damage) = &beat.journal_damage {
        check_len("journal_damage.reason", &damage.reason, 1024)?;
        // Once per ten minutes, like truncation: the kiosk says so at every beat.
        let recent = crate::store::journals::recent_alarm(&hub.db.pool, &device.id, crate::journal::alarm::DAMAGED, now - 10 * 60_000).await?;
        if recent.is_none() {
            let detail = format!(
                "the kiosk cannot read its journal from record {} on ({}); the hub holds records up to {held}: what the kiosk recorded after that cannot be checked",
                damage.from_seq, damage.reason
            );
            crate::journal::raise_alarm(&hub.db, &device.id, crate::journal::alarm::DAMAGED, &detail).await;
        }
    }
    let mut pending = hub.pending.borrow().for_device(&device.id).to_vec();
    if !pending.is_empty() {
        // The shared list is refreshed by a poller, a moment after an
        // acknowledgement: what this PC acknowledged is not repeated to it.
        let acked: HashSet<String> = crate::store::instructions::acked_since(&hub.db.pool, &device.id, now - 60_000).await?.into_iter().collect();
        pending.retain(|i| !acked.contains(&i.id));
    }
    Ok(Json(HeartbeatAck { server_time_ms: now, journal_next_seq: held, pending_instructions: pending }))
}

struct StreamState {
    rx: tokio::sync::watch::Receiver<Arc<crate::instructions::Pending>>,
    device: String,
    sent: HashSet<String>,
    queue: VecDeque<Instruction>,
    resend: tokio::time::Interval,
}

/// `GET /api/v1/instructions`: server-sent events, one `instruction` event
/// per instruction, re-sent until acknowledged.
pub async fn instructions(State(hub): HubState, device: Device) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let mut rx = hub.pending.clone();
    let initial: Vec<Instruction> = rx.borrow_and_update().for_device(&device.id).to_vec();
    let mut resend = tokio::time::interval(config::INSTRUCTION_RESEND);
    resend.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = StreamState {
        rx,
        device: device.id,
        sent: initial.iter().map(|i| i.id.clone()).collect(),
        queue: initial.into(),
        resend,
    };
    // The first tick of an interval is immediate; the initial queue covers it.
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(instruction) = st.queue.pop_front() {
                let event = Event::default()
                    .event("instruction")
                    .id(instruction.id.clone())
                    .json_data(&instruction)
                    .unwrap_or_else(|_| Event::default().comment("unencodable instruction"));
                return Some((Ok(event), st));
            }
            tokio::select! {
                changed = st.rx.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                    let snapshot = st.rx.borrow_and_update().clone();
                    for i in snapshot.for_device(&st.device) {
                        if st.sent.insert(i.id.clone()) {
                            st.queue.push_back(i.clone());
                        }
                    }
                }
                _ = st.resend.tick() => {
                    let snapshot = st.rx.borrow().clone();
                    st.queue.extend(snapshot.for_device(&st.device).iter().cloned());
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
}

/// `POST /api/v1/instructions/ack`.
pub async fn instruction_ack(State(hub): HubState, device: Device, ApiJson(ack): ApiJson<InstructionAck>) -> Result<Json<serde_json::Value>, ApiError> {
    check_len("id", &ack.id, 64)?;
    if !crate::instructions::acknowledge(&hub.db, &device.id, &ack.id).await? {
        return Err(ApiError::not_found("unknown_instruction", "no such instruction for this device"));
    }
    hub.poll_now.notify_one();
    Ok(Json(serde_json::json!({ "acknowledged": ack.id })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-4"), 10), Ok(Some((0, 4))));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Ok(Some((5, 9))));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Ok(Some((5, 9))));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=-0"), 10), Err(Unsatisfiable));
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Err(Unsatisfiable));
        for ignored in ["bytes=5-3", "bytes=a-b", "items=0-1", "bytes=0-1,3-4", "bytes=", "bytes=18446744073709551616-"] {
            assert_eq!(parse_range(Some(ignored), 10), Ok(None), "{ignored}");
        }
    }
}
