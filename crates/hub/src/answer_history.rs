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
use exam_protocol::{answers_after, AnswerChange, AnswerUpload, ANSWERS_FORMAT, MAX_ANSWER_ID_BYTES, MAX_ANSWER_VALUE_BYTES};
use crate::store;
use sqlx::{AnyConnection, AnyPool};


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
    // No notes before the first save either (they would be taken unchecked).
    out.remove("notes");
    Some(serde_json::Value::Object(out))
}

/// The answers (JSON) of `student` at save `seq`: the stored snapshot of
/// that save, or the nearest earlier one (or none) with the stored changes
/// after it. `None` when neither exists or the changes have a gap.
pub async fn answers_at(conn: &mut AnyConnection, sitting: &str, student: &str, seq: i64) -> Result<Option<String>, sqlx::Error> {
    if let Some(answers) = store::answers::snapshot_at(&mut *conn, sitting, student, seq).await? {
        return Ok(Some(answers));
    }
    let base = match store::answers::snapshot_before(&mut *conn, sitting, student, seq).await? {
        Some(answers) => serde_json::from_str::<serde_json::Value>(&answers).ok(),
        None => {
            // Before the first stored snapshot: empty answers, shaped like a later one.
            let later = store::answers::snapshot_after(&mut *conn, sitting, student, seq).await?;
            later.and_then(|a| serde_json::from_str(&a).ok()).and_then(|v| empty_like(&v))
        }
    };
    let Some(mut base) = base else { return Ok(None) };
    let from = base.get("seq").and_then(serde_json::Value::as_i64).unwrap_or(-1);
    let bodies = store::answers::change_bodies_between(&mut *conn, sitting, student, from, seq).await?;
    let mut changes = Vec::with_capacity(bodies.len());
    for body in bodies {
        match serde_json::from_str::<AnswerChange>(&body) {
            Ok(change) => changes.push(change),
            Err(_) => return Ok(None),
        }
    }
    // Changes after a hand-in: an invigilator reopened the exam, and the
    // student went on from the handed-in answers.
    if !changes.is_empty() {
        reopened(&mut base);
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

/// Most changes one upload may carry: the kiosk sends at most 512 KiB of
/// changes at once, a few thousand (docs/protocol.md).
pub const MAX_CHANGES_PER_UPLOAD: usize = 10_000;
/// Most changes the hub keeps of one student in one sitting: a save every
/// 100 ms for almost three hours.
pub const MAX_CHANGES_PER_STUDENT: i64 = 100_000;
/// Most bytes of changes and snapshots the hub keeps of one student in one
/// sitting. With [`MAX_CHANGES_PER_STUDENT`] and the largest value a change
/// may hold ([`MAX_ANSWER_VALUE_BYTES`]) no kiosk can fill the hub's disk; a
/// hand-in is always taken (one per exam, within the request size limit).
pub const MAX_BYTES_PER_STUDENT: i64 = 256 * 1024 * 1024;

/// Two snapshots hold the same work: equal but for their save number and
/// hand-in mark (a hand-in holds the answers of the save before it).
pub fn same_work(a: &str, b: &str) -> bool {
    let strip = |text: &str| {
        let mut value: serde_json::Value = serde_json::from_str(text).ok()?;
        let object = value.as_object_mut()?;
        object.remove("seq");
        object.remove("final_submission");
        Some(value)
    };
    matches!((strip(a), strip(b)), (Some(a), Some(b)) if a == b)
}

/// Checks an upload against the history the hub holds and stores its
/// changes (in the upload's transaction):
///
/// - a snapshot in [`ANSWERS_FORMAT`] carries its own save number and hand-in mark;
/// - the changes follow each other and end at the upload's save, ids are
///   sane, a hand-in ends with its hand-in mark (and only a hand-in has one);
/// - they lead from the answers the hub holds at the save before them to
///   exactly the answers sent — so the hub must hold those answers (the
///   kiosk starts its changes at its last receipt): changes over answers
///   the hub never saw are refused, as they could never be checked;
/// - a save the hub already knows from earlier changes must be sent with
///   the same answers; a change it holds with other contents is a conflict.
pub async fn check_and_store(
    conn: &mut AnyConnection,
    sitting: &str,
    student: &str,
    device: &str,
    upload: &AnswerUpload,
    received_ms: i64,
) -> Result<(), ApiError> {
    let conflict = |seq: u64| ApiError::conflict("conflicting_answers", format!("save {seq} was already received with other contents"));
    let ours = upload.answers.get("format").and_then(serde_json::Value::as_str) == Some(ANSWERS_FORMAT);
    if ours
        && (upload.answers.get("seq").and_then(serde_json::Value::as_u64) != Some(upload.seq)
            || upload.answers.get("final_submission").and_then(serde_json::Value::as_bool) != Some(upload.final_submission))
    {
        return Err(ApiError::bad_request("invalid_field", "the answers' seq and final_submission must be the upload's"));
    }
    // The student's notes, also in a snapshot without changes: only what a
    // kiosk can write (never a scored answer, never beyond the limits).
    if ours {
        exam_protocol::notes_ok(&upload.answers).map_err(|e| ApiError::bad_request("invalid_field", format!("answers: {e}")))?;
    }
    let changes = &upload.changes;
    let Some(first) = changes.first() else {
        // A snapshot by itself: when the hub knows this save from changes,
        // it must be the same answers.
        if let Some(known) = answers_at(conn, sitting, student, upload.seq as i64).await? {
            if serde_json::from_str::<serde_json::Value>(&known).ok().as_ref() != Some(&upload.answers) {
                return Err(conflict(upload.seq));
            }
        }
        return Ok(());
    };
    if !ours {
        return Err(invalid(format!("changes can only come with answers in the format {ANSWERS_FORMAT}")));
    }
    if changes.len() > MAX_CHANGES_PER_UPLOAD {
        return Err(invalid(format!("at most {MAX_CHANGES_PER_UPLOAD} changes per upload")));
    }
    if first.seq() == 0
        || changes.windows(2).any(|w| w[0].seq().checked_add(1) != Some(w[1].seq()))
        || changes.last().map(AnswerChange::seq) != Some(upload.seq)
    {
        return Err(invalid(format!("the changes must be numbered one after another from 1 up and end at save {}", upload.seq)));
    }
    for (i, change) in changes.iter().enumerate() {
        let ids: &[&str] = match change {
            AnswerChange::Save { item, response, .. } => &[item, response],
            AnswerChange::Flag { item, .. } | AnswerChange::Note { item, .. } => &[item],
            AnswerChange::Final { .. } => &[],
        };
        if !ids.iter().all(|id| exam_protocol::answer_id_ok(id)) {
            return Err(invalid(format!("change {}: ids must be 1 to {MAX_ANSWER_ID_BYTES} bytes without control characters", change.seq())));
        }
        if let AnswerChange::Save { value, .. } = change {
            if serde_json::to_vec(value).map_or(usize::MAX, |v| v.len()) > MAX_ANSWER_VALUE_BYTES {
                return Err(invalid(format!("change {}: a value holds at most {MAX_ANSWER_VALUE_BYTES} bytes", change.seq())));
            }
        }
        if let AnswerChange::Note { note, value, .. } = change {
            exam_protocol::note_value_ok(*note, value).map_err(|e| invalid(format!("change {}: {e}", change.seq())))?;
        }
        let is_final = matches!(change, AnswerChange::Final { .. });
        let last = i + 1 == changes.len();
        if is_final != (last && upload.final_submission) {
            return Err(invalid(format!("change {}: a hand-in ends with its hand-in mark, and only a hand-in has one", change.seq())));
        }
    }
    let seq_before = first.seq() as i64 - 1;
    let base = if seq_before == 0 {
        empty_like(&upload.answers)
    } else {
        answers_at(conn, sitting, student, seq_before).await?.and_then(|a| serde_json::from_str(&a).ok())
    };
    let Some(mut base) = base else {
        return Err(ApiError::conflict(
            "unknown_base",
            format!("the hub holds no answers at save {seq_before}, where these changes start; send them from the last receipt"),
        ));
    };
    // A hand-in as the base: the caller found no hand-in since the newest
    // reopen, so this one was reopened and the student goes on from it.
    reopened(&mut base);
    if answers_after(&base, changes).as_ref() != Some(&upload.answers) {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "changes_do_not_match",
            format!("the changes do not lead from the answers the hub holds at save {seq_before} to the answers sent for save {}", upload.seq),
        ));
    }
    let held = store::answers::change_count(&mut *conn, sitting, student).await?;
    if !upload.final_submission && held + changes.len() as i64 > MAX_CHANGES_PER_STUDENT {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_changes",
            format!("the hub keeps at most {MAX_CHANGES_PER_STUDENT} changes per student and sitting"),
        ));
    }
    // The changes the hub already holds in this range must be these.
    let rows = store::answers::changes_in(&mut *conn, sitting, student, first.seq() as i64, upload.seq as i64).await?;
    let mut bodies = Vec::with_capacity(changes.len());
    for change in changes {
        bodies.push(serde_json::to_string(change).map_err(|_| invalid("a change cannot be stored".into()))?);
    }
    let mut known = std::collections::HashSet::with_capacity(rows.len());
    for row in rows {
        let seq = row.seq;
        let index = (seq - first.seq() as i64) as usize;
        if bodies.get(index) != Some(&row.body) {
            return Err(conflict(seq as u64));
        }
        known.insert(index);
    }
    // New rows in a few statements (not one per change); a row another
    // node wrote meanwhile is skipped here and compared below.
    let fresh: Vec<usize> = (0..changes.len()).filter(|i| !known.contains(i)).collect();
    for chunk in fresh.chunks(store::answers::INSERT_CHANGE_ROWS) {
        let rows: Vec<(i64, &str)> = chunk.iter().map(|&i| (changes[i].seq() as i64, bodies[i].as_str())).collect();
        let inserted = store::answers::insert_changes(&mut *conn, sitting, student, device, received_ms, &rows).await?;
        if inserted != chunk.len() as u64 {
            // Another upload of the same saves won the race: they must agree.
            for &i in chunk {
                let body = store::answers::change_body(&mut *conn, sitting, student, changes[i].seq() as i64).await?;
                if body != bodies[i] {
                    return Err(conflict(changes[i].seq()));
                }
            }
        }
    }
    Ok(())
}

/// Answers of a hand-in an invigilator reopened, as the student goes on
/// from them: no longer handed in.
fn reopened(answers: &mut serde_json::Value) {
    if let Some(object) = answers.as_object_mut() {
        object.insert("final_submission".into(), false.into());
    }
}

/// Refuses an upload (not a hand-in) that would take the student's stored
/// changes and snapshots of the sitting beyond [`MAX_BYTES_PER_STUDENT`].
pub async fn check_room(conn: &mut AnyConnection, sitting: &str, student: &str, upload: &AnswerUpload, snapshot_bytes: usize) -> Result<(), ApiError> {
    if upload.final_submission {
        return Ok(());
    }
    let held = store::answers::snapshot_bytes(&mut *conn, sitting, student).await? + store::answers::change_bytes(&mut *conn, sitting, student).await?;
    let adding = snapshot_bytes + upload.changes.iter().map(|c| serde_json::to_vec(c).map_or(0, |v| v.len())).sum::<usize>();
    if held.saturating_add(adding as i64) > MAX_BYTES_PER_STUDENT {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too_much_data",
            format!("the hub keeps at most {} MiB of answers per student and sitting; a hand-in is still taken", MAX_BYTES_PER_STUDENT >> 20),
        ));
    }
    Ok(())
}

/// The saves of a sitting the hub knows only from changes (no snapshot of
/// their own): (student, seq, device, received ms).
pub async fn saves_without_snapshot(pool: &AnyPool, sitting: &str) -> Result<Vec<(String, i64, String, i64)>, sqlx::Error> {
    let rows = store::answers::saves_without_snapshot(pool, sitting).await?;
    Ok(rows.into_iter().map(|r| (r.student_number, r.seq, r.device_id, r.received_ms)).collect())
}

/// A student's seat on one PC: whose answers, from which PC.
#[derive(Debug, Clone, Copy)]
pub struct SeatOfDevice<'a> {
    /// Sitting id.
    pub sitting_id: &'a str,
    /// Student number.
    pub student_number: &'a str,
    /// The PC's device id.
    pub device_id: &'a str,
}

/// Stores answers a PC sent over a session that a login elsewhere ended
/// (`superseded_ms`), apart from the student's answers, and signs the
/// receipt the PC keeps. A retry gets the same receipt; other contents for
/// the same save of that PC are a conflict. `sign` makes the receipt (the
/// kiosk API's signing key and session), only for a save not held yet.
#[allow(clippy::too_many_arguments)]
pub async fn store_superseded(
    db: &crate::db::Db,
    seat: SeatOfDevice<'_>,
    upload: &AnswerUpload,
    text: &str,
    sha: &str,
    received_ms: i64,
    superseded_ms: i64,
    sign: impl FnOnce() -> exam_protocol::AnswerReceipt,
) -> Result<exam_protocol::AnswerReceipt, ApiError> {
    let internal = || ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error");
    let mut tx = db.begin_write().await?;
    let held = store::answers::superseded_held(&mut *tx, seat.sitting_id, seat.student_number, seat.device_id, upload.seq as i64).await?;
    if let Some(row) = held {
        if row.answers_sha256 != sha {
            return Err(ApiError::conflict("conflicting_answers", format!("save {} was already received with other contents", upload.seq)));
        }
        return serde_json::from_str(&row.receipt).map_err(|_| internal());
    }
    let receipt = sign();
    let receipt_text = serde_json::to_string(&receipt).map_err(|_| internal())?;
    let save = store::answers::NewSave {
        sitting_id: seat.sitting_id,
        student_number: seat.student_number,
        seq: upload.seq as i64,
        final_submission: i64::from(upload.final_submission),
        answers: text,
        answers_sha256: sha,
        device_id: seat.device_id,
        received_ms,
        receipt: &receipt_text,
    };
    store::answers::insert_superseded(&mut *tx, save, superseded_ms).await?;
    tx.commit().await?;
    tracing::warn!(device = %seat.device_id, sitting = %seat.sitting_id, seq = upload.seq, "answers over a session a login elsewhere ended: kept apart");
    Ok(receipt)
}

/// What the results and the proces-verbaal say about answers kept apart
/// ([`store_superseded`]): per student, one Dutch line per PC, with the
/// time the first of them arrived.
pub async fn superseded_lines(pool: &AnyPool, sitting: &str) -> Result<std::collections::BTreeMap<String, Vec<(i64, String)>>, sqlx::Error> {
    let rows = store::answers::superseded_per_pc(pool, sitting).await?;
    let mut out: std::collections::BTreeMap<String, Vec<(i64, String)>> = std::collections::BTreeMap::new();
    for r in rows {
        let (n, handed_in, first_ms) = (r.n, r.handed_in, r.first_ms);
        out.entry(r.student_number).or_default().push((first_ms, format!(
            "{n} opslag(en) tot en met {} van pc {}{}, ontvangen vanaf {} UTC nadat de student op {} UTC op een andere pc inlogde: \
             apart bewaard, telt niet (ter beoordeling door de examencommissie)",
            r.seq,
            r.device_id,
            if handed_in != 0 { " met een inlevering" } else { "" },
            crate::planning::format_ms(first_ms),
            crate::planning::format_ms(r.superseded_ms),
        )));
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
