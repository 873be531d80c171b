//! Journal ingest: every uploaded record is verified against the device's
//! chain (signature, epoch certificate, hash link, sequence) before it is
//! stored; duplicates (of stored records or of records earlier in the same
//! batch) are recognised by device + sequence + hash; a different
//! record at an already-stored sequence (rewritten history) or a kiosk that
//! reports fewer records than the hub holds (truncation) raises an alarm.

use crate::db::Db;
use crate::error::ApiError;
use axum::http::StatusCode;
use base64::Engine as _;
use exam_journal::{ChainState, ChainVerifier, PublicKey};
use exam_protocol::{JournalBatch, JournalReceipt};
use crate::store;
use std::collections::HashMap;

/// Rows per multi-row INSERT (7 parameters each). Kept small: binding a
/// parameter by position looks up its name in a list that SQLite walks from
/// the start, so the cost of one statement grows with the square of its
/// parameters (at 500 rows this lookup was 7 % of the hub's CPU time).
const INSERT_CHUNK: usize = 50;

/// Alarm kinds.
pub mod alarm {
    /// A record at an already-stored sequence differs (history rewritten).
    pub const REWRITE: &str = "journal.rewrite";
    /// The kiosk reports fewer records than the hub holds.
    pub const TRUNCATION: &str = "journal.truncation";
    /// A record failed verification (signature, chain, certificate).
    pub const INVALID: &str = "journal.invalid";
    /// The kiosk reports that it cannot read its own journal from some
    /// record on (heartbeat): the records after it never reach the hub.
    pub const DAMAGED: &str = "journal.damaged";
    /// An already enrolled device id enrolled again (with proof of its device key).
    pub const REENROLMENT: &str = "device.reenrolled";
}

/// The device a batch comes from.
#[derive(Debug, Clone)]
pub struct DeviceRef<'a> {
    /// Device id.
    pub id: &'a str,
    /// The journal device key pinned at enrolment, hex.
    pub public_key: Option<&'a str>,
}

/// Records an alarm (outside any transaction).
pub async fn raise_alarm(db: &Db, device_id: &str, kind: &str, detail: &str) {
    tracing::warn!(device = device_id, kind, detail, "ALARM");
    let result = store::journals::insert_alarm(&db.pool, &crate::random_id(), device_id, kind, detail, crate::now_ms()).await;
    if let Err(err) = result {
        tracing::error!(error = %err, "could not store alarm");
    }
}

/// A verified record, to be stored.
type Row = store::journals::NewRecord;

/// Why a batch stopped early: the answer, and the alarm to raise (kind, detail).
type Failure = (ApiError, Option<(&'static str, String)>);

/// The result of checking a batch against a chain state, before storing.
struct Checked {
    verifier: ChainVerifier,
    rows: Vec<Row>,
    duplicates: u64,
    failure: Option<Failure>,
}

/// Attempts when another upload for the same device changed the chain meanwhile.
const INGEST_ATTEMPTS: usize = 3;

async fn load_verifier(db: &Db, device: &DeviceRef<'_>) -> Result<ChainVerifier, ApiError> {
    match store::journals::chain_state(&db.pool, device.id).await? {
        Some(text) => {
            let state: ChainState = serde_json::from_str(&text)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "state_damaged", format!("stored chain state: {e}")))?;
            ChainVerifier::resume(&state).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "state_damaged", e))
        }
        None => Ok(ChainVerifier::new(device.public_key.and_then(|k| PublicKey::from_hex(k).ok()))),
    }
}

/// Verifies frames in order against `verifier` (CPU only: run it off the async workers).
///
/// Records the hub already holds are recognised as duplicates; each run of
/// new records is verified with one batch signature check
/// ([`ChainVerifier::push_frames`]), with exactly the results of checking
/// them one by one.
fn check_batch(mut verifier: ChainVerifier, frames: &[Vec<u8>], stored: &HashMap<i64, String>) -> Checked {
    let mut rows = Vec::new();
    let mut duplicates = 0u64;
    let mut failure: Option<Failure> = None;
    let invalid = |verifier: &ChainVerifier, detail: String| -> Failure {
        let mut err = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "journal_invalid", detail.clone());
        err.body.expected_seq = Some(verifier.next_seq());
        (err, Some((alarm::INVALID, detail)))
    };
    let mut i = 0;
    while i < frames.len() {
        let (seq, hash) = match ChainVerifier::decode_frame(&frames[i]) {
            Ok((body, hash, _)) => (body.seq, hash),
            Err(reason) => {
                failure = Some(invalid(&verifier, format!("record {i} of the batch: {reason}")));
                break;
            }
        };
        if seq < verifier.next_seq() {
            // Held already: stored before, or earlier in this very batch (a
            // kiosk may send one record twice; an identical copy is a duplicate).
            let in_batch = rows.first().and_then(|first: &Row| usize::try_from(seq as i64 - first.seq).ok()).and_then(|at| rows.get(at));
            let held = in_batch.map(|row| row.hash.as_str()).or_else(|| stored.get(&(seq as i64)).map(String::as_str));
            if held == Some(hex::encode(hash).as_str()) {
                duplicates += 1;
                i += 1;
                continue;
            }
            let detail = format!("record {seq} differs from the one the hub already holds (history rewritten or journal replaced)");
            failure = Some((ApiError::conflict("history_rewritten", detail.clone()), Some((alarm::REWRITE, detail))));
            break;
        }
        if seq > verifier.next_seq() {
            let mut err = ApiError::conflict(
                "journal_gap",
                format!("record {seq} arrived, but the hub holds records up to {}; send from there", verifier.next_seq()),
            );
            err.body.expected_seq = Some(verifier.next_seq());
            failure = Some((err, None));
            break;
        }
        // The run of consecutive new records starting here.
        let mut end = i + 1;
        while end < frames.len()
            && ChainVerifier::decode_frame(&frames[end]).is_ok_and(|(body, _, _)| body.seq == seq + (end - i) as u64)
        {
            end += 1;
        }
        let run = &frames[i..end];
        let (verified, failed) = verifier.push_frames(run);
        for (record, frame) in verified.into_iter().zip(run) {
            rows.push(Row {
                seq: record.body.seq as i64,
                hash: hex::encode(record.hash),
                record_type: record.body.record_type as i64,
                kind: record.body.kind,
                wall_time_us: record.body.wall_time_us,
                frame: frame.clone(),
            });
        }
        if let Some((_, reason)) = failed {
            failure = Some(invalid(&verifier, format!("record {}: {reason}", verifier.next_seq())));
            break;
        }
        i = end;
    }
    Checked { verifier, rows, duplicates, failure }
}

/// Verifies and stores a batch; returns the receipt fields (unsigned):
/// (next_seq, last_hash, stored, duplicates).
///
/// Verification runs outside the write transaction (on the blocking pool,
/// so uploads of many devices verify in parallel); the transaction then
/// stores the rows only if the device's chain did not move meanwhile
/// (optimistic concurrency), else the batch is checked again.
pub async fn ingest(db: &Db, device: DeviceRef<'_>, batch: &JournalBatch) -> Result<(u64, String, u64, u64), ApiError> {
    if batch.records.len() > crate::config::MAX_BATCH_RECORDS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            format!("at most {} records per batch", crate::config::MAX_BATCH_RECORDS),
        ));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut frames = Vec::with_capacity(batch.records.len());
    for (i, text) in batch.records.iter().enumerate() {
        let frame = b64
            .decode(text)
            .map_err(|e| ApiError::bad_request("malformed_record", format!("record {i} of the batch is not base64: {e}")))?;
        frames.push(frame);
    }
    // The lowest sequence number the batch claims (for the duplicate check).
    let lowest = frames.iter().filter_map(|f| ChainVerifier::decode_frame(f).ok()).map(|(b, _, _)| b.seq).min();
    let frames = std::sync::Arc::new(frames);
    for _ in 0..INGEST_ATTEMPTS {
        let verifier = load_verifier(db, &device).await?;
        let start_seq = verifier.next_seq();
        let mut stored = HashMap::new();
        if let Some(low) = lowest.filter(|low| *low < start_seq) {
            for row in store::journals::hashes(&db.pool, device.id, low as i64, start_seq as i64).await? {
                stored.insert(row.seq, row.hash);
            }
        }
        let work = frames.clone();
        let checked = tokio::task::spawn_blocking(move || check_batch(verifier, &work, &stored))
            .await
            .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "verification failed unexpectedly"))?;
        let Checked { verifier, rows, duplicates, failure } = checked;
        if !rows.is_empty() {
            let mut tx = db.begin_write().await?;
            let current = store::journals::next_seq(&mut *tx, device.id).await?.unwrap_or(0);
            if current != start_seq as i64 {
                // Another upload for this device was stored meanwhile: check again.
                drop(tx);
                continue;
            }
            let state = serde_json::to_string(&verifier.state())
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
            let stored = match store_rows(&mut tx, device.id, &rows, &verifier.state(), &state).await {
                Ok(()) => tx.commit().await,
                Err(err) => Err(err),
            };
            match stored {
                Ok(()) => {}
                // Another node stored the same records between our check and
                // our insert (PostgreSQL lets both read the old position):
                // check again against what is stored now.
                Err(err) if crate::db::is_unique_violation(&err) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        let state = verifier.state();
        if let Some((err, alarm)) = failure {
            if let Some((kind, detail)) = alarm {
                raise_alarm(db, device.id, kind, &detail).await;
            }
            return Err(err);
        }
        return Ok((state.next_seq, state.last_hash, rows.len() as u64, duplicates));
    }
    Err(ApiError::conflict("conflict", "concurrent uploads for this device; retry"))
}

async fn store_rows(
    tx: &mut crate::db::WriteTx,
    device_id: &str,
    rows: &[Row],
    state: &ChainState,
    state_json: &str,
) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        store::journals::insert_records(&mut **tx, device_id, chunk).await?;
    }
    store::journals::save_state(&mut **tx, device_id, state_json, state.next_seq as i64, state.last_checkpoint_size as i64, crate::now_ms()).await
}

/// The number of records the hub holds for a device.
pub async fn held(db: &Db, device_id: &str) -> Result<u64, sqlx::Error> {
    Ok(match store::journals::next_seq(&db.pool, device_id).await? {
        Some(next_seq) => next_seq.max(0) as u64,
        None => 0,
    })
}

/// Builds the signed receipt.
pub fn receipt(keys: &crate::pki::Keys, device_id: &str, fields: (u64, String, u64, u64)) -> JournalReceipt {
    let (next_seq, last_hash, stored, duplicates) = fields;
    let mut receipt = JournalReceipt {
        device_id: device_id.to_string(),
        next_seq,
        last_hash,
        stored,
        duplicates,
        time_ms: crate::now_ms(),
        signature: String::new(),
    };
    receipt.signature = keys.sign_hex(&receipt.signed_message());
    receipt
}
