//! The background sync: answers and journal to the hub, never holding the
//! state lock while the hub answers (lock, copy, unlock, send, lock, check, apply).

use super::*;

/// Most journal records sent to the hub in one batch.
const JOURNAL_BATCH: usize = 500;

/// Answer uploads sent one after another at most (a backlog after a time
/// offline; each carries at most `answers::MAX_UPLOAD_CHANGES_BYTES` of changes).
const MAX_UPLOADS_AT_ONCE: usize = 16;

/// The background sync sends the journal at most this often.
pub const JOURNAL_SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The background sync sends answers at most this often: every change is
/// on disk at once, and a student typing makes many a second; each upload
/// carries all changes since the last receipt (a hand-in goes at once).
pub const ANSWERS_SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

impl Kiosk {
    /// Sends what the hub does not hold yet — after a time offline in
    /// several uploads ([`MAX_UPLOADS_AT_ONCE`] now, the rest at the next
    /// sync) — never holding the state lock while the hub answers: lock,
    /// copy the upload, unlock, send, lock, check the store is still the
    /// one it came from, apply. The receipt code of the last acknowledged upload.
    pub(crate) async fn send_answers(&self) -> Option<String> {
        let _one_at_a_time = self.uploading.lock().await;
        let mut code = None;
        for _ in 0..MAX_UPLOADS_AT_ONCE {
            let (hub, upload, saved) = {
                let inner = self.inner.lock().await;
                let hub = inner.ready()?.hub.clone();
                let Some(store) = inner.stage.answers() else { break };
                let Some(upload) = store.pending_upload() else { break };
                (hub, upload, store.status().saved_seq)
            };
            let result = hub.upload_answers(&upload).await;
            let mut inner = self.inner.lock().await;
            // Another sitting's store by now (a new login): nothing to apply.
            if inner.stage.answers().map(|a| a.sitting_id().to_owned()) != Some(upload.sitting_id.clone()) {
                break;
            }
            let acknowledged = inner.uploaded(&upload, result);
            // A hand-in's receipt finishes the exam, also when it came in the background.
            if acknowledged.is_some() && matches!(inner.phase(), Some(Phase::InExam | Phase::HandingIn)) {
                let _ = inner.finish_hand_in();
            }
            self.changed(&inner);
            match acknowledged {
                Some(receipt_code) => code = Some(receipt_code),
                None => break,
            }
            // Saves made while this one was on its way wait for the next
            // round (at most every 2 s); only a backlog cut by size goes on.
            if upload.seq >= saved {
                break;
            }
        }
        code
    }

    /// Waits until a save wants its upload, or `at_most` passes: the shell's
    /// background sync calls this between two [`Kiosk::background_sync`]s.
    pub async fn sync_due(&self, at_most: std::time::Duration) {
        let _ = tokio::time::timeout(at_most, self.sync_wanted.notified()).await;
    }

    /// The shell's background sync: the answers not yet acknowledged at
    /// most every [`ANSWERS_SYNC_EVERY`], the journal (read from disk) at
    /// most every [`JOURNAL_SYNC_EVERY`] — a student typing saves many
    /// times a second. Waits (holding nothing) until answers are due.
    pub async fn background_sync(&self) {
        let wait = {
            let mut last = self.answers_synced.lock().unwrap_or_else(|p| p.into_inner());
            let wait = last.map_or(std::time::Duration::ZERO, |at| ANSWERS_SYNC_EVERY.saturating_sub(at.elapsed()));
            *last = Some(std::time::Instant::now() + wait);
            wait
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let journal_due = {
            let mut last = self.journal_synced.lock().unwrap_or_else(|p| p.into_inner());
            let due = last.is_none_or(|at| at.elapsed() >= JOURNAL_SYNC_EVERY);
            if due {
                *last = Some(std::time::Instant::now());
            }
            due
        };
        if journal_due {
            self.sync().await;
        } else {
            self.send_answers().await;
        }
    }

    /// A whole sync: answers the hub has not acknowledged, and journal
    /// records after the sync cursor. Offline, everything stays queued on
    /// disk and the UI says so.
    pub async fn sync(&self) {
        let Some(hub) = self.inner.lock().await.ready().map(|r| r.hub.clone()) else { return };
        self.send_answers().await;
        let journal = self.inner.lock().await.ready().map(|r| r.journal.clone());
        // One journal upload at a time; it also waits on the network:
        // without the state lock, what it learns applied under it afterwards.
        let _one_at_a_time = self.journal_uploading.lock().await;
        let mut journal_offline = None;
        let mut refused = None;
        let mut damage = None;
        if let Some(journal) = journal {
            // Only the segments holding what the hub has not acknowledged are
            // read (before, the whole journal, every few seconds), and
            // without the journal's lock: the guard keeps appending.
            let (segments, from) = {
                let j = journal.lock().unwrap_or_else(|p| p.into_inner());
                let from = j.sync_cursor().map_or(0, |c| c.acked_seq + 1);
                (j.segments_from(from), from)
            };
            // Damage does not hide what comes before it (evidence too), and
            // is never silent: before, a damaged record made the read fail
            // and the sync sent nothing and said nothing, at every tick.
            let (frames, found) = read_until_damage(&segments, from);
            damage = found;
            if !frames.is_empty() {
                match hub.upload_journal(&frames).await {
                    Ok(receipt) => {
                        journal_offline = Some(false);
                        let hash: Option<[u8; 32]> = hex::decode(&receipt.last_hash).ok().and_then(|h| h.try_into().ok());
                        if let (Some(last), Some(hash)) = (receipt.next_seq.checked_sub(1), hash) {
                            // The signed receipt is kept with the cursor: proof of what the hub holds.
                            let kept = serde_json::to_value(&receipt).ok();
                            let _ = journal.lock().unwrap_or_else(|p| p.into_inner()).acknowledge_with_receipt(last, &hash, kept);
                        }
                    }
                    Err(crate::hub::HubError::Unreachable(_)) => journal_offline = Some(true),
                    Err(err) => refused = Some(err.to_string()),
                }
            }
        }
        let mut inner = self.inner.lock().await;
        if let Some(offline) = journal_offline {
            inner.offline = offline;
        }
        if let Some(reason) = refused {
            inner.journal_event(&KioskEvent::SyncJournalRefused(ev::Reason::new(reason)));
        }
        if let Some(found) = damage {
            if inner.journal_damage.as_ref() != Some(&found) {
                inner.journal_event(&KioskEvent::SyncJournalDamaged(ev::Reason::new(format!("from record {}: {}", found.from_seq, found.reason))));
                inner.journal_damage = Some(found);
            }
        }
        if inner.offline != inner.offline_journalled {
            inner.journal_event(&if inner.offline { KioskEvent::SyncOffline(ev::Empty {}) } else { KioskEvent::SyncOnline(ev::Empty {}) });
            inner.offline_journalled = inner.offline;
            self.changed(&inner);
        }
    }
}

/// The records to send from `from` on, and where the journal cannot be
/// read any more (the first record after the frames read), if it cannot.
/// A file that cannot be opened at all counts as damage at `from`.
pub(crate) fn read_until_damage(segments: &[std::path::PathBuf], from: u64) -> (Vec<Vec<u8>>, Option<exam_protocol::JournalDamage>) {
    match exam_journal::read_frames_until_damage(segments, from, JOURNAL_BATCH) {
        Ok(read) => {
            let from_seq = from + read.frames.len() as u64;
            let damage = read.damage.map(|e| exam_protocol::JournalDamage { from_seq, reason: e.to_string() });
            (read.frames, damage)
        }
        Err(e) => (Vec::new(), Some(exam_protocol::JournalDamage { from_seq: from, reason: e.to_string() })),
    }
}

impl Inner {
    /// Applies the hub's answer to one answer upload ([`Kiosk::send_answers`]):
    /// the receipt is recorded, a refusal or an unreachable hub is noted and
    /// journalled. `Some(receipt code)` when the upload was acknowledged.
    pub(super) fn uploaded(&mut self, upload: &exam_protocol::AnswerUpload, result: Result<exam_protocol::AnswerReceipt, crate::hub::HubError>) -> Option<String> {
        match result {
            Ok(receipt) if receipt.kept_apart => {
                // The student logged in on another PC: the hub keeps
                // these answers apart and they do not count. Not an
                // acknowledgement the student may rely on.
                self.offline = false;
                if self.answers_refused.as_deref() != Some(KEPT_APART) {
                    self.journal_event(&KioskEvent::AnswersKeptApart(ev::AnswersReceipt {
                        final_submission: receipt.final_submission,
                        seq: receipt.seq,
                        sha256: receipt.answers_sha256.clone(),
                    }));
                    self.answers_refused = Some(KEPT_APART.into());
                }
                None
            }
            Ok(receipt) => {
                self.offline = false;
                self.answers_refused = None;
                let acked = self.stage.answers_mut()?.ack(&receipt);
                self.journal_event(&KioskEvent::AnswersAcknowledged(ev::AnswersAcknowledged {
                    final_submission: receipt.final_submission,
                    seq: receipt.seq,
                    sha256: receipt.answers_sha256.clone(),
                    stored: acked.is_ok(),
                }));
                acked.ok().map(|()| receipt.receipt_code)
            }
            Err(err) => {
                // The newest save made so far: the journal's evidence
                // that it existed by now (the hub reads it to judge saves
                // it receives late, docs/hub.md).
                let saved = self.stage.answers().map_or(upload.seq, |a| a.status().saved_seq);
                let refusal = upload_refusal(&err);
                // A refusal repeated every sync is journalled once (below).
                if refusal.is_none() || self.answers_refused.as_deref() != refusal {
                    self.journal_event(&KioskEvent::AnswersUploadFailed(ev::UploadFailed { reason: err.to_string(), seq: saved }));
                }
                match refusal {
                    // The hub is there and says no: the invigilator must
                    // know (journalled once per reason; the answers stay here).
                    Some(code) => {
                        self.offline = false;
                        if self.answers_refused.as_deref() != Some(code) {
                            self.journal_event(&KioskEvent::AnswersUploadRefused(ev::UploadRefused {
                                error: code.to_owned(),
                                reason: err.to_string(),
                                saved,
                                seq: upload.seq,
                            }));
                            self.answers_refused = Some(code.to_string());
                        }
                    }
                    None => self.offline = true,
                }
                None
            }
        }
    }
}

/// Why answers are not accepted when the hub kept them apart (a login on
/// another PC ended this PC's session).
const KEPT_APART: &str = "kept_apart";

/// The hub's error code when it refused an answer upload for good (it
/// holds other answers, the changes do not fit, the session is unknown…):
/// sending the same again will not help. `None` for an unreachable hub and
/// for answers that say "later" (408, 425, 429, 5xx).
pub(super) fn upload_refusal(err: &crate::hub::HubError) -> Option<&str> {
    match err {
        crate::hub::HubError::Refused { status, body } if (400..500).contains(status) && ![408, 425, 429].contains(status) => {
            Some(if body.error.is_empty() { "refused" } else { body.error.as_str() })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::read_until_damage;
    use exam_journal::{Event, Journal, JournalConfig, SigningKey};

    /// A damaged record in the journal: the sync sends the records before
    /// it and knows where reading stops (journalled once and told to the
    /// hub in heartbeats). Before, the read failed and the sync sent
    /// nothing and said nothing.
    #[test]
    fn a_damaged_record_ends_the_read_without_hiding_what_came_before() {
        let tmp = tempfile::tempdir().unwrap();
        let (key, _) = SigningKey::generate().unwrap();
        let mut journal = Journal::open(&tmp.path().join("j"), key, JournalConfig::default()).unwrap();
        for i in 0..6 {
            journal.append(&Event::new("test.event", &serde_json::json!({ "i": i })).unwrap()).unwrap();
        }
        let segments = journal.segments_from(0);
        let (whole, damage) = read_until_damage(&segments, 0);
        assert_eq!((whole.len(), damage), (7, None), "the epoch record and six events");
        // Flip a byte inside the fifth record (seq 4).
        let last = segments.last().unwrap();
        let mut bytes = std::fs::read(last).unwrap();
        let at = bytes.windows(whole[4].len()).position(|w| w == whole[4].as_slice()).expect("the frame is stored as read");
        let offset = at + whole[4].len() / 2;
        bytes[offset] ^= 0xff;
        std::fs::write(last, bytes).unwrap();
        let (frames, damage) = read_until_damage(&segments, 0);
        assert_eq!(frames, whole[..4]);
        let damage = damage.expect("the damage is reported");
        assert_eq!(damage.from_seq, 4);
        assert!(damage.reason.contains("damaged"), "{}", damage.reason);
        // From after the records the hub acknowledged: nothing to send, the damage still named.
        let (frames, damage) = read_until_damage(&segments, 4);
        assert!(frames.is_empty());
        assert_eq!(damage.map(|d| d.from_seq), Some(4));
    }
}
