//! Opening a sitting's answer store together with the hub's copy, so a
//! student moved to another PC continues with every answer the hub signed for.

use super::{AnswerError, AnswerKey, AnswerSnapshot, AnswerStore};
use crate::hub::{HubClient, HubError};
use std::path::Path;

/// Why the answers could not be brought together.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The hub did not answer, refused, or sent answers its receipt does not cover.
    #[error("the hub's copy of the answers: {0}")]
    Hub(#[from] HubError),
    /// The hub's copy is not an answer snapshot of this sitting and instrument.
    #[error("the hub's copy of the answers is not for this exam: {0}")]
    Mismatch(String),
    /// The local store refused.
    #[error(transparent)]
    Store(#[from] AnswerError),
}

/// Answers that came from another PC (the invigilator must allow the move).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedIn {
    /// The device that sent them to the hub.
    pub from_device: String,
    /// The last save they include.
    pub seq: u64,
    /// Saves made on this PC that the hub never acknowledged and that went
    /// another way than the hub's copy (first, last): kept in the local
    /// log, not sent ([`AnswerStore::restore_reporting`]).
    pub set_aside: Option<(u64, u64)>,
}

/// Opens (or creates) the answer store in `dir` and, when the hub holds newer
/// answers for this session's sitting and student than this PC, records them
/// ([`AnswerStore::restore_reporting`]). Says when they came from another
/// device, so the kiosk can ask the invigilator before the student continues.
pub async fn open_with_hub_copy(
    dir: &Path,
    key: &AnswerKey,
    sitting_id: &str,
    instrument_id: &str,
    hub: &HubClient,
) -> Result<(AnswerStore, Option<MovedIn>), TransferError> {
    // Verified by the client against the hub's signed receipt.
    let latest = hub.latest_answers().await?;
    if latest.answers.is_null() {
        return Ok((AnswerStore::open_or_create(dir, key, sitting_id, instrument_id)?, None));
    }
    let mut snapshot: AnswerSnapshot = serde_json::from_value(latest.answers).map_err(|e| TransferError::Mismatch(e.to_string()))?;
    // A hand-in an invigilator reopened: the student goes on from it.
    snapshot.final_submission &= latest.final_submission;
    if snapshot.sitting_id != sitting_id || snapshot.instrument_id != instrument_id {
        return Err(TransferError::Mismatch(format!(
            "sitting {} ({}), expected {sitting_id} ({instrument_id})",
            snapshot.sitting_id, snapshot.instrument_id
        )));
    }
    let elsewhere = latest.device_id != hub.identity.device_id;
    let (store, restore) = AnswerStore::restore_reporting(dir, key, &snapshot, elsewhere)?;
    let moved = (restore.recorded && elsewhere).then_some(MovedIn { from_device: latest.device_id, seq: snapshot.seq, set_aside: restore.set_aside });
    Ok((store, moved))
}
