//! A student's answers as they were at every save: the snapshots the hub
//! stored (`answers`) and the changes kiosks sent with them
//! (`answer_changes`, `AnswerUpload::changes`).
//!
//! A kiosk that was offline sends, with its newest answers, every change it
//! made since the hub's last receipt. The hub checks that those changes lead
//! from the answers it holds to the answers sent, stores them, and can then
//! rebuild the answers at any save in between — so when the newest save came
//! after an end, the newest save made in time still counts
//! ([`crate::enforcement::classify_sitting`]).

use crate::error::ApiError;
use exam_protocol::{answers_after, AnswerChange, AnswerUpload, ANSWERS_FORMAT};
use sqlx::{AnyConnection, AnyPool, Row as _};

/// Longest item or response id in a change (as the kiosk's answer store).
const MAX_ID_BYTES: usize = 256;

/// The answers before any save, in the shape of `like` (a snapshot of the
/// same sitting: its format, sitting and instrument).
fn empty_like(like: &serde_json::Value) -> Option<serde_json::Value> {
    let mut out = like.as_object()?.clone();
    if out.get("format").and_then(serde_json::Value::as_str) != Some(ANSWERS_FORMAT) {
        return None;
    }
    out.insert("seq".into(), 0.into());
    out.insert("final_submission".into(), false.into());
    out.insert("responses".into(), serde_json::Value::Object(serde_json::Map::new()));
    out.insert("flagged".into(), serde_json::Value::Array(Vec::new()));
    Some(serde_json::Value::Object(out))
}

/// The answers (JSON) of `student` at save `seq`: the stored snapshot of
/// that save, or the nearest earlier one (or none) with the stored changes
/// after it. `None` when neither exists or the changes have a gap.
pub async fn answers_at(conn: &mut AnyConnection, sitting: &str, student: &str, seq: i64) -> Result<Option<String>, sqlx::Error> {
    let stored = sqlx::query("SELECT answers FROM answers WHERE sitting_id = $1 AND student_number = $2 AND seq = $3")
        .bind(sitting)
        .bind(student)
        .bind(seq)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = stored {
        return Ok(Some(row.try_get("answers")?));
    }
    let earlier = sqlx::query(
        "SELECT seq, answers FROM answers WHERE sitting_id = $1 AND student_number = $2 AND seq < $3 ORDER BY seq DESC LIMIT 1",
    )
    .bind(sitting)
    .bind(student)
    .bind(seq)
    .fetch_optional(&mut *conn)
    .await?;
    let base = match earlier {
        Some(row) => serde_json::from_str::<serde_json::Value>(&row.try_get::<String, _>("answers")?).ok(),
        None => {
            // Before the first stored snapshot: empty answers, shaped like a later one.
            let later = sqlx::query("SELECT answers FROM answers WHERE sitting_id = $1 AND student_number = $2 AND seq > $3 ORDER BY seq LIMIT 1")
                .bind(sitting)
                .bind(student)
                .bind(seq)
                .fetch_optional(&mut *conn)
                .await?;
            later.and_then(|r| r.try_get::<String, _>("answers").ok()).and_then(|a| serde_json::from_str(&a).ok()).and_then(|v| empty_like(&v))
        }
    };
    let Some(base) = base else { return Ok(None) };
    let from = base.get("seq").and_then(serde_json::Value::as_i64).unwrap_or(-1);
    let rows = sqlx::query("SELECT body FROM answer_changes WHERE sitting_id = $1 AND student_number = $2 AND seq > $3 AND seq <= $4 ORDER BY seq")
        .bind(sitting)
        .bind(student)
        .bind(from)
        .bind(seq)
        .fetch_all(&mut *conn)
        .await?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in rows {
        match serde_json::from_str::<AnswerChange>(&row.try_get::<String, _>("body")?) {
            Ok(change) => changes.push(change),
            Err(_) => return Ok(None),
        }
    }
    // answers_after refuses a gap, so a partial history rebuilds nothing.
    Ok(answers_after(&base, &changes).filter(|_| changes.last().is_some_and(|c| c.seq() as i64 == seq)).map(|v| v.to_string()))
}

/// [`answers_at`] on a connection of `pool`.
pub async fn load_answers(pool: &AnyPool, sitting: &str, student: &str, seq: i64) -> Result<Option<String>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    answers_at(&mut conn, sitting, student, seq).await
}

fn invalid(message: String) -> ApiError {
    ApiError::bad_request("invalid_changes", message)
}

/// Checks an upload's changes and stores them (in the upload's
/// transaction): they must follow each other and end at the upload's save,
/// ids must be sane, a hand-in mark may only be the last of a hand-in, and —
/// when the hub holds the answers they start from — they must lead from
/// there to exactly the answers sent. A change the hub already holds with
/// other contents is a conflict, as for snapshots.
pub async fn check_and_store(
    conn: &mut AnyConnection,
    sitting: &str,
    student: &str,
    device: &str,
    upload: &AnswerUpload,
    received_ms: i64,
) -> Result<(), ApiError> {
    let changes = &upload.changes;
    let Some(first) = changes.first() else { return Ok(()) };
    if upload.answers.get("format").and_then(serde_json::Value::as_str) != Some(ANSWERS_FORMAT) {
        return Err(invalid(format!("changes can only come with answers in the format {ANSWERS_FORMAT}")));
    }
    if first.seq() == 0 || changes.windows(2).any(|w| w[1].seq() != w[0].seq() + 1) || changes.last().map(AnswerChange::seq) != Some(upload.seq) {
        return Err(invalid(format!("the changes must be numbered one after another and end at save {}", upload.seq)));
    }
    for (i, change) in changes.iter().enumerate() {
        let ids: &[&str] = match change {
            AnswerChange::Save { item, response, .. } => &[item, response],
            AnswerChange::Flag { item, .. } => &[item],
            AnswerChange::Final { .. } => &[],
        };
        if ids.iter().any(|id| id.is_empty() || id.len() > MAX_ID_BYTES || id.chars().any(char::is_control)) {
            return Err(invalid(format!("change {}: ids must be 1 to {MAX_ID_BYTES} bytes without control characters", change.seq())));
        }
        if matches!(change, AnswerChange::Final { .. }) && !(i + 1 == changes.len() && upload.final_submission) {
            return Err(invalid(format!("change {}: a hand-in mark can only be the last change of a hand-in", change.seq())));
        }
    }
    let seq_before = first.seq() as i64 - 1;
    let base = if seq_before == 0 {
        empty_like(&upload.answers)
    } else {
        answers_at(conn, sitting, student, seq_before).await?.and_then(|a| serde_json::from_str(&a).ok())
    };
    // Without the answers they start from (never for a kiosk that keeps to
    // the protocol) the changes are kept unchecked: nothing is thrown away.
    if let Some(base) = base {
        if answers_after(&base, changes).as_ref() != Some(&upload.answers) {
            return Err(ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "changes_do_not_match",
                format!("the changes do not lead from the answers the hub holds at save {seq_before} to the answers sent for save {}", upload.seq),
            ));
        }
    }
    for change in changes {
        let body = serde_json::to_string(change).map_err(|_| invalid("a change cannot be stored".into()))?;
        let seq = change.seq() as i64;
        let held = sqlx::query("SELECT body FROM answer_changes WHERE sitting_id = $1 AND student_number = $2 AND seq = $3")
            .bind(sitting)
            .bind(student)
            .bind(seq)
            .fetch_optional(&mut *conn)
            .await?;
        match held {
            Some(row) if row.try_get::<String, _>("body")? == body => {}
            Some(_) => return Err(ApiError::conflict("conflicting_answers", format!("save {seq} was already received with other contents"))),
            None => {
                sqlx::query(
                    "INSERT INTO answer_changes (sitting_id, student_number, seq, body, device_id, received_ms) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(sitting)
                .bind(student)
                .bind(seq)
                .bind(&body)
                .bind(device)
                .bind(received_ms)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(())
}

/// The saves of a sitting the hub knows only from changes (no snapshot of
/// their own): (student, seq, device, received ms).
pub async fn saves_without_snapshot(pool: &AnyPool, sitting: &str) -> Result<Vec<(String, i64, String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.student_number, c.seq, c.device_id, c.received_ms FROM answer_changes c WHERE c.sitting_id = $1 AND NOT EXISTS \
         (SELECT 1 FROM answers a WHERE a.sitting_id = c.sitting_id AND a.student_number = c.student_number AND a.seq = c.seq) \
         ORDER BY c.student_number, c.seq",
    )
    .bind(sitting)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("student_number")?, r.try_get("seq")?, r.try_get("device_id")?, r.try_get("received_ms")?)))
        .collect()
}

/// Stores answers a PC sent over a session that a login elsewhere ended
/// (`superseded_ms`), apart from the student's answers, and signs the
/// receipt the PC keeps. A retry gets the same receipt; other contents for
/// the same save of that PC are a conflict.
pub async fn store_superseded(
    hub: &crate::server::Hub,
    session: &crate::api::Session,
    upload: &AnswerUpload,
    text: &str,
    sha: &str,
    received_ms: i64,
    superseded_ms: i64,
) -> Result<exam_protocol::AnswerReceipt, ApiError> {
    let internal = || ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error");
    let mut tx = hub.db.begin_write().await?;
    let held = sqlx::query(
        "SELECT answers_sha256, receipt FROM superseded_answers WHERE sitting_id = $1 AND student_number = $2 AND device_id = $3 AND seq = $4",
    )
    .bind(&session.sitting_id)
    .bind(&session.student_number)
    .bind(&session.device.id)
    .bind(upload.seq as i64)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(row) = held {
        if row.try_get::<String, _>("answers_sha256")? != sha {
            return Err(ApiError::conflict("conflicting_answers", format!("save {} was already received with other contents", upload.seq)));
        }
        return serde_json::from_str(&row.try_get::<String, _>("receipt")?).map_err(|_| internal());
    }
    let receipt = crate::api::sign_receipt(hub, session, upload, sha, received_ms);
    sqlx::query(
        "INSERT INTO superseded_answers (sitting_id, student_number, device_id, seq, final_submission, answers, answers_sha256, \
         received_ms, superseded_ms, receipt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&session.sitting_id)
    .bind(&session.student_number)
    .bind(&session.device.id)
    .bind(upload.seq as i64)
    .bind(i64::from(upload.final_submission))
    .bind(text)
    .bind(sha)
    .bind(received_ms)
    .bind(superseded_ms)
    .bind(serde_json::to_string(&receipt).map_err(|_| internal())?)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::warn!(device = %session.device.id, sitting = %session.sitting_id, seq = upload.seq, "answers over a session a login elsewhere ended: kept apart");
    Ok(receipt)
}

/// What the results and the proces-verbaal say about answers kept apart
/// ([`store_superseded`]): per student, one Dutch line per PC.
pub async fn superseded_lines(pool: &AnyPool, sitting: &str) -> Result<std::collections::BTreeMap<String, Vec<String>>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT student_number, device_id, MAX(seq) AS seq, MAX(final_submission) AS handed_in, MIN(received_ms) AS first_ms, \
         MAX(superseded_ms) AS superseded_ms, COUNT(*) AS n FROM superseded_answers WHERE sitting_id = $1 \
         GROUP BY student_number, device_id ORDER BY student_number, device_id",
    )
    .bind(sitting)
    .fetch_all(pool)
    .await?;
    let mut out: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    for r in rows {
        let n: i64 = r.try_get("n")?;
        let handed_in: i64 = r.try_get("handed_in")?;
        out.entry(r.try_get("student_number")?).or_default().push(format!(
            "{n} opslag(en) tot en met {} van pc {}{}, ontvangen vanaf {} UTC nadat de student op {} UTC op een andere pc inlogde: \
             apart bewaard, telt niet (ter beoordeling door de examencommissie)",
            r.try_get::<i64, _>("seq")?,
            r.try_get::<String, _>("device_id")?,
            if handed_in != 0 { " met een inlevering" } else { "" },
            crate::planning::format_ms(r.try_get("first_ms")?),
            crate::planning::format_ms(r.try_get("superseded_ms")?),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_answers_keep_the_sitting_and_drop_the_rest() {
        let like = serde_json::json!({"format": ANSWERS_FORMAT, "sitting_id": "S1", "instrument_id": "I", "seq": 7,
            "final_submission": true, "responses": {"A": {"RESPONSE": "x"}}, "flagged": ["A"]});
        let empty = empty_like(&like).unwrap();
        assert_eq!(empty, serde_json::json!({"format": ANSWERS_FORMAT, "sitting_id": "S1", "instrument_id": "I", "seq": 0,
            "final_submission": false, "responses": {}, "flagged": []}));
        assert!(empty_like(&serde_json::json!({"q1": "B"})).is_none());
    }
}
