//! `GET /api/v1/answers/latest`: the hub's copy of a student's answers, so a
//! student moved to another PC of the room continues with every answer the
//! hub signed for (`kiosk_core::answers::AnswerStore::restore`).
//!
//! Bound to the session like every kiosk endpoint: mutual TLS with an enrolled
//! device, and a session token created on *that* device by the student's
//! login (which ended the old PC's session). Only the session's own sitting
//! and student are ever returned.

use crate::error::ApiError;
use crate::state::Hub;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use exam_protocol::{AnswerReceipt, LatestAnswers};
use std::sync::Arc;

/// `GET /api/v1/answers/latest`.
pub async fn latest(State(hub): State<Arc<Hub>>, session: crate::api::Session) -> Result<Json<LatestAnswers>, ApiError> {
    let row = crate::store::answers::latest(&hub.db.pool, &session.sitting_id, &session.student_number).await?;
    let Some(row) = row else {
        return Ok(Json(LatestAnswers {
            sitting_id: session.sitting_id,
            seq: 0,
            answers: serde_json::Value::Null,
            device_id: String::new(),
            final_submission: false,
            receipt: None,
        }));
    };
    // Both columns were written by the hub itself from valid JSON; failing to
    // read them back is damage, not bad input.
    let damaged = || ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "stored answers cannot be read");
    let answers: serde_json::Value = serde_json::from_str(&row.answers).map_err(|_| damaged())?;
    let receipt: AnswerReceipt = serde_json::from_str(&row.receipt).map_err(|_| damaged())?;
    // A hand-in an invigilator's reopen overtook no longer closes the exam:
    // the kiosk continues from its answers (its receipt stays as signed).
    let mut final_submission = row.final_submission != 0;
    if final_submission {
        let reopened = crate::enforcement::reopened_ms(&hub.db.pool, &session.sitting_id, &session.student_number).await?;
        final_submission = reopened.is_none_or(|at| receipt.time_ms > at);
    }
    tracing::info!(device = %session.device.id, sitting = %session.sitting_id, seq = receipt.seq, "answers handed to a kiosk");
    Ok(Json(LatestAnswers {
        sitting_id: session.sitting_id,
        seq: row.seq.max(0) as u64,
        answers,
        device_id: row.device_id,
        final_submission,
        receipt: Some(receipt),
    }))
}
