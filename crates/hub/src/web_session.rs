//! The session nonce of web instruments: the HMAC key of the exam key header
//! (`kiosk_core::instrument::web`). One per sitting, derived from the hub
//! secret, so the hub stores nothing and every hub node of a school gives the
//! same answer. Kiosks get it at `POST /api/v1/web-session` once the sitting
//! started; the supplier gets it through the school (`exam-hub web-nonce`).

use crate::error::ApiError;
use crate::pki::Keys;
use crate::state::Hub;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use exam_protocol::WebSession;
use std::sync::Arc;

/// HMAC domain of session nonces.
pub const WEB_SESSION_DOMAIN: &str = "exam-hub/web-session/v1";

/// The sitting's session nonce, 32 bytes as 64 hex digits.
pub fn session_nonce(keys: &Keys, sitting_id: &str) -> String {
    keys.hmac_hex(WEB_SESSION_DOMAIN, &[sitting_id])
}

/// `POST /api/v1/web-session`: like the content key, only once the sitting
/// started, and not after an end or after the sitting's window.
pub async fn web_session(State(hub): State<Arc<Hub>>, session: crate::api::Session) -> Result<Json<WebSession>, ApiError> {
    let row = crate::store::planning::room_and_start(&hub.db.pool, &session.sitting_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no_assignment", "the sitting is gone"))?;
    let start_ms = row.start_ms;
    let started = row.started_ms.is_some() || crate::now_ms() >= start_ms;
    if !started {
        let mut err = ApiError::new(StatusCode::TOO_EARLY, "not_started", "the sitting has not started yet");
        err.body.starts_at_ms = Some(start_ms);
        return Err(err);
    }
    // The nonce is a web instrument's key: refused like the content key
    // after an end and after the sitting's window.
    crate::enforcement::key_allowed(&hub.db, hub.sitting_grace_ms, &session.sitting_id, &session.student_number, crate::now_ms()).await?;
    Ok(Json(WebSession { session_nonce: session_nonce(&hub.keys, &session.sitting_id), sitting_id: session.sitting_id }))
}
