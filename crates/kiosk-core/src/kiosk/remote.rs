//! How the invigilator console reaches this PC: the hub's instructions
//! (lock, unlock, add time, pause, resume, end) and the kiosk's heartbeats.
//!
//! Instructions arrive over the hub's event stream within a second, and
//! again in every heartbeat's answer until acknowledged; each id is carried
//! out once (the ids done are kept on disk, so a restart does not add the
//! same extra time twice) and then acknowledged.
//!
//! An instruction belongs to one session (sitting and student): one for
//! another session — e.g. queued for this PC while it was off, before the
//! next student logged in here — is not carried out, but journalled and
//! acknowledged as not applicable. A remote *end* on a locked seat keeps it
//! locked until the hand-in has the hub's receipt.

use super::{Inner, Kiosk};
use crate::events::{vocabulary as ev, KioskEvent};
use crate::hub::HubClient;
use crate::session::{Phase, Trigger};
use exam_protocol::{Heartbeat, Instruction, InstructionKind};
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

/// How often the kiosk reports to the hub (the console shows its last report).
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// First wait before reopening a closed or failed instruction stream.
const RECONNECT_FIRST: Duration = Duration::from_secs(1);
/// Longest wait between attempts to reopen it.
const RECONNECT_MAX: Duration = Duration::from_secs(30);
/// The ids of instructions carried out, one per line (in the state directory).
const DONE_FILE: &str = "instructions-done";

/// What became of an instruction, for the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Carried out.
    Done,
    /// Nothing to do in this phase (e.g. unlock while not locked); acknowledged.
    NotApplicable(&'static str),
    /// Could not be carried out; the reason is journalled and the hub is told
    /// it was received (re-sending would not help).
    Failed(String),
    /// Not carried out yet (an end whose hand-in did not reach the hub): not
    /// acknowledged and not remembered, so it is carried out when it comes again.
    Retry(String),
}

impl Kiosk {
    /// Follows the hub's instruction stream for as long as the kiosk runs,
    /// reopening it with a growing pause when it fails or closes. Spawn it
    /// once; it never returns.
    pub async fn follow_instructions(&self) {
        let mut wait = RECONNECT_FIRST;
        loop {
            let hub = self.inner.lock().await.ready().map(|r| r.hub.clone());
            if let Some(hub) = hub {
                if let Ok(mut stream) = hub.instructions().await {
                    wait = RECONNECT_FIRST;
                    while let Ok(Some(instruction)) = stream.next().await {
                        self.carry_out(&hub, &instruction).await;
                    }
                }
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(RECONNECT_MAX);
        }
    }

    /// Reports the session's state to the hub; instructions still pending
    /// in the answer are carried out too (when the stream is broken).
    /// The shell calls it every [`HEARTBEAT_EVERY`].
    pub async fn heartbeat(&self) {
        let (hub, beat) = {
            let inner = self.inner.lock().await;
            let Some(hub) = inner.ready().map(|r| r.hub.clone()) else { return };
            (hub, heartbeat_of(&inner))
        };
        if let Ok(ack) = hub.heartbeat(&beat).await {
            for instruction in &ack.pending_instructions {
                self.carry_out(&hub, instruction).await;
            }
        }
    }

    async fn carry_out(&self, hub: &HubClient, instruction: &Instruction) {
        if let Some(Outcome::Retry(_)) = self.apply_instruction(instruction).await {
            return;
        }
        // A lost acknowledgement only means the instruction comes again,
        // and an id already carried out is then only acknowledged.
        let _ = hub.acknowledge(&instruction.id).await;
    }

    /// Carries out one instruction from the hub, once per id, and journals
    /// what it did. Returns `None` for an id already carried out.
    pub async fn apply_instruction(&self, instruction: &Instruction) -> Option<Outcome> {
        let mut inner = self.inner.lock().await;
        let done_file = inner.data_dir.join(super::dirs::STATE).join(DONE_FILE);
        if already_done(&done_file, &instruction.id) {
            return None;
        }
        let by = format!("{}{}", instruction.issued_by, exam_protocol::events::BY_REMOTE_SUFFIX);
        let reason = instruction.reason.trim();
        let mut hand_in = false;
        let mut hand_in_locked = false;
        let current = inner.stage.assignment().map(|a| (a.sitting_id.as_str(), a.student_number.as_str()));
        let scope = instruction.session.as_ref().map(|s| (s.sitting_id.as_str(), s.student_number.as_str()));
        let outcome = match &instruction.kind {
            // Another student's instruction (or one for no session) is not carried out.
            _ if scope != current => Outcome::NotApplicable("for another session"),
            InstructionKind::Lock => match inner.phase() {
                None | Some(Phase::Submitted) => Outcome::NotApplicable("no session to lock"),
                Some(_) => {
                    let text = if reason.is_empty() {
                        "De surveillant heeft het examen vergrendeld.".to_owned()
                    } else {
                        format!("De surveillant heeft het examen vergrendeld: {reason}")
                    };
                    result(inner.lock_session(text))
                }
            },
            InstructionKind::Unlock => unlock(&mut inner, by.clone(), reason),
            InstructionKind::AddTime { minutes } => match inner.ready_mut().map(|r| &mut r.session) {
                Some(session) => result(session.add_time(Duration::from_secs(u64::from(*minutes) * 60), reason)),
                None => Outcome::NotApplicable("no session yet: the assignment carries the added time"),
            },
            InstructionKind::Pause => match inner.phase() {
                Some(Phase::InExam | Phase::Locked) => {
                    let text = if reason.is_empty() {
                        "Het examen is gepauzeerd door de surveillant; de tijd staat stil.".to_owned()
                    } else {
                        format!("Het examen is gepauzeerd door de surveillant ({reason}); de tijd staat stil.")
                    };
                    match inner.lock_session(text) {
                        Ok(()) => result(inner.ready_mut().map_or(Ok(()), |r| r.session.pause_clock(reason))),
                        Err(err) => Outcome::Failed(err.message),
                    }
                }
                _ => Outcome::NotApplicable("no exam running"),
            },
            // Unlocking ends the pause and lets the clock run again.
            InstructionKind::Resume => unlock(&mut inner, by.clone(), reason),
            InstructionKind::End => match inner.phase() {
                // A hand-in already on its way is tried again.
                Some(Phase::InExam | Phase::HandingIn) => {
                    hand_in = true;
                    Outcome::Done
                }
                // Handed in while the lock stays: unlocked only with the receipt.
                Some(Phase::Locked) if inner.ready().and_then(|r| r.session.view().before_lock).is_some_and(Phase::is_exam_underway) => {
                    hand_in_locked = true;
                    Outcome::Done
                }
                _ => Outcome::NotApplicable("no exam running"),
            },
        };
        let payload = ev::InstructionApplied {
            by: instruction.issued_by.clone(),
            id: instruction.id.clone(),
            instruction: serde_json::to_value(&instruction.kind).unwrap_or_default(),
            outcome: describe(&outcome),
            reason: instruction.reason.clone(),
            session: serde_json::to_value(&instruction.session).unwrap_or_default(),
        };
        inner.journal_event(&KioskEvent::InstructionApplied(payload));
        if !hand_in && !hand_in_locked {
            remember(&mut inner, &done_file, &instruction.id);
        }
        self.changed(&inner);
        drop(inner);
        if hand_in {
            // The same hand-in as the student's own: final save, the hub's receipt.
            if let Err(err) = self.hand_in(&by).await {
                self.record(KioskEvent::InstructionEndFailed(ev::InstructionEndFailed {
                    id: instruction.id.clone(),
                    reason: err.message.clone(),
                    still_locked: None,
                }))
                .await;
                return Some(Outcome::Retry(err.message));
            }
            remember(&mut *self.inner.lock().await, &done_file, &instruction.id);
        }
        if hand_in_locked {
            if let Err(why) = self.hand_in_locked(by, reason.to_owned()).await {
                self.record(KioskEvent::InstructionEndFailed(ev::InstructionEndFailed {
                    id: instruction.id.clone(),
                    reason: why.clone(),
                    still_locked: Some(true),
                }))
                .await;
                return Some(Outcome::Retry(why));
            }
            remember(&mut *self.inner.lock().await, &done_file, &instruction.id);
        }
        Some(outcome)
    }

    /// A remote end on a locked seat: the final save and its upload while
    /// the lock stays; only with the hub's receipt does the session leave
    /// the lock, straight on to handed in (one step under the kiosk's lock,
    /// so no unlocked exam is ever shown). Without a receipt the seat stays
    /// locked and the end comes again.
    async fn hand_in_locked(&self, by: String, reason: String) -> Result<(), String> {
        let mut inner = self.inner.lock().await;
        let store = inner.stage.answers_mut().ok_or_else(|| "er is geen examen geopend".to_owned())?;
        if !store.status().submitted {
            store.submit().map_err(|e| format!("inleveren mislukt: {e}"))?;
        }
        // Sent without the state lock; the seat stays locked meanwhile.
        drop(inner);
        self.send_answers().await;
        let mut inner = self.inner.lock().await;
        match inner.phase() {
            // Unlocked meanwhile and the receipt finished the hand-in.
            Some(Phase::Submitted) => return Ok(()),
            Some(Phase::Locked) => {}
            _ => return Err("de pc is niet meer vergrendeld; de inlevering gaat zoals bij de student zelf".to_owned()),
        }
        let receipt = inner
            .stage
            .answers()
            .and_then(|a| a.status().receipt_code)
            .ok_or_else(|| "de examenserver heeft de inlevering nog niet bevestigd; de pc blijft vergrendeld".to_owned())?;
        inner.unlock_error = None;
        inner.session_apply(Trigger::Unlock { by, reason }).map_err(|e| e.message)?;
        inner.session_apply(Trigger::Submitted { receipt }).map_err(|e| e.message)?;
        crate::instrument::web_start::close(&inner.web);
        crate::instrument::media::release(&inner.media);
        let _ = std::fs::remove_file(inner.data_dir.join(super::dirs::STATE).join(super::TOKEN_FILE));
        self.changed(&inner);
        drop(inner);
        self.sync().await;
        Ok(())
    }
}

/// Keeps `id` as carried out; a failure to keep it is journalled.
fn remember(inner: &mut Inner, done_file: &Path, id: &str) {
    if let Err(err) = remember_done(done_file, id) {
        inner.journal_event(&KioskEvent::InstructionNotRemembered(ev::InstructionReason { id: id.to_owned(), reason: err.to_string() }));
    }
}

fn unlock(inner: &mut Inner, by: String, reason: &str) -> Outcome {
    if inner.phase() != Some(Phase::Locked) {
        return Outcome::NotApplicable("not locked");
    }
    inner.unlock_error = None;
    result(inner.session_apply(Trigger::Unlock { by, reason: reason.to_owned() }).map(|_| ()))
}

fn result<E: std::fmt::Display>(done: Result<(), E>) -> Outcome {
    match done {
        Ok(()) => Outcome::Done,
        Err(err) => Outcome::Failed(err.to_string()),
    }
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Done => "done".to_owned(),
        Outcome::NotApplicable(why) => format!("not applicable: {why}"),
        Outcome::Failed(why) => format!("failed: {why}"),
        Outcome::Retry(why) => format!("not yet: {why}"),
    }
}

fn heartbeat_of(inner: &Inner) -> Heartbeat {
    // The hub's console knows `in_exam`, `locked` and `submitted` (and
    // showed a seat handing in as `in_exam` before this phase existed): a
    // hand-in on its way is reported as the exam it ends.
    let state = inner
        .phase()
        .map(|p| if p == Phase::HandingIn { Phase::InExam } else { p })
        .and_then(|p| serde_json::to_value(p).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "starting".to_owned());
    let last = inner.ready().and_then(|r| r.journal.lock().unwrap_or_else(|p| p.into_inner()).last());
    let answers_pending = inner
        .stage
        .answers()
        .map(|a| a.status())
        .map_or(0, |s| u32::try_from(s.saved_seq.saturating_sub(s.acked_seq)).unwrap_or(u32::MAX));
    Heartbeat {
        state,
        journal_next_seq: last.as_ref().map(|r| r.seq + 1),
        journal_last_hash: last.map(|r| hex::encode(r.hash)),
        answers_pending,
        journal_damage: inner.journal_damage.clone(),
    }
}

fn already_done(file: &Path, id: &str) -> bool {
    std::fs::read_to_string(file).is_ok_and(|text| text.lines().any(|line| line == id))
}

fn remember_done(file: &Path, id: &str) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut out = std::fs::OpenOptions::new().create(true).append(true).open(file)?;
    // Ids are the hub's random hex; a line break in one would split it.
    writeln!(out, "{}", id.replace(['\n', '\r'], ""))?;
    out.sync_all()
}
