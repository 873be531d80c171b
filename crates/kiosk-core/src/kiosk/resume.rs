//! The invigilator's unlock, and the resume after a crash (the hub asked
//! without the state lock: lock, take, unlock, ask, lock, re-check, adopt).

use super::*;
use super::exam::open_instrument;

impl Kiosk {
    /// An invigilator unlocks (or confirms a resume) with their PIN.
    pub async fn unlock(&self, pin: &str, reason: &str) -> Result<KioskView, UserError> {
        // A resume asks the hub; one at a time (taken before the state lock).
        let resuming = self.starting.try_lock().ok();
        let mut inner = self.inner.lock().await;
        let phase = inner.phase();
        if !matches!(phase, Some(Phase::Locked | Phase::Resume)) {
            return Err(user("Er is niets te ontgrendelen."));
        }
        if reason.trim().is_empty() && inner.ready().is_some_and(|r| r.policy.lock.require_reason) {
            return Err(user("Geef een reden op."));
        }
        let gate = &mut inner.started_mut()?.unlock_gate;
        let invigilator = match gate.check(pin) {
            Ok(i) => i.id.clone(),
            Err(err) => {
                let message = err.to_string();
                inner.journal_event(&KioskEvent::SessionUnlockFailed(ev::Reason::new(message.clone())));
                inner.unlock_error = Some(message.clone());
                self.changed(&inner);
                return Err(user(message));
            }
        };
        inner.unlock_error = None;
        let trigger = if phase == Some(Phase::Resume) {
            if resuming.is_none() {
                return Err(user("Het hervatten loopt al; even geduld."));
            }
            // Lock, take, unlock, ask the hub, lock, re-check, adopt (issue 16).
            let fetched = match inner.resume_inputs() {
                Ok(inputs) => {
                    drop(inner);
                    let fetched = inputs.fetch().await;
                    inner = self.inner.lock().await;
                    fetched
                }
                Err(gone) => Err(gone),
            };
            let restored = match fetched {
                Ok(restored) => restored,
                Err(ResumeError::Retry(e)) => return Err(e),
                Err(ResumeError::SessionGone(why)) => {
                    if inner.phase() != Some(Phase::Resume) {
                        return Err(user("De pc werd vergrendeld terwijl het hervatten liep. Bevestig opnieuw met je pincode."));
                    }
                    return inner.abandon_resume(invigilator, &why).map(|()| self.changed(&inner));
                }
            };
            if inner.phase() != Some(Phase::Resume) {
                *inner.media.write().unwrap_or_else(|p| p.into_inner()) = None;
                *inner.web.write().unwrap_or_else(|p| p.into_inner()) = None;
                return Err(user("De pc werd vergrendeld terwijl het hervatten liep. Bevestig opnieuw met je pincode."));
            }
            let into = inner.adopt_resume(restored);
            Trigger::ResumeConfirmed { by: invigilator, into }
        } else {
            drop(resuming);
            Trigger::Unlock { by: invigilator, reason: reason.trim().to_owned() }
        };
        inner.session_apply(trigger)?;
        // A hand-in whose receipt came while the seat was locked is done now
        // (one still on its way shows as such; the background sync sends it).
        if matches!(inner.phase(), Some(Phase::InExam | Phase::HandingIn)) {
            inner.finish_hand_in()?;
            if inner.phase() == Some(Phase::HandingIn) {
                self.sync_wanted.notify_one();
            }
        }
        Ok(self.changed(&inner))
    }
}

/// Why a resume after a crash could not be done.
enum ResumeError {
    /// Try again (the hub unreachable, a file that could not be opened).
    Retry(UserError),
    /// The student's session from before the crash is gone: no token kept,
    /// or the hub refuses it.
    SessionGone(String),
}

impl From<UserError> for ResumeError {
    fn from(e: UserError) -> Self {
        ResumeError::Retry(e)
    }
}

/// What a resume after a crash needs (taken under the state lock).
struct ResumeInputs {
    hub: HubClient,
    data_dir: PathBuf,
    /// The exam had begun (the clock ran): the instrument is opened again.
    resumed_in: bool,
    policy: Policy,
    media: crate::instrument::media::MediaSlot,
    policy_hash: String,
    web: crate::instrument::web_start::WebSlot,
    key_store: KeyStore,
}

/// What the hub gave for a resume (adopted under the state lock).
struct Restored {
    hub: HubClient,
    assignment: Assignment,
    /// The running instrument and the answers, when the exam had begun.
    running: Option<(RunningInstrument, crate::answers::AnswerStore)>,
}

impl ResumeInputs {
    /// After a crash: the assignment, the instrument (with the content key,
    /// again from the hub) and the answers from the local store — asked of
    /// the hub without the state lock.
    async fn fetch(self) -> Result<Restored, ResumeError> {
        let unreachable = |e: crate::hub::HubError| user(format!("De examenserver is niet bereikbaar ({e}); hervatten kan zodra hij terug is."));
        let hub = self.hub;
        let assignment = match hub.assignment().await {
            Ok(assignment) => assignment,
            Err(crate::hub::HubError::Refused { status: status @ (401 | 403 | 404 | 410), .. }) => {
                return Err(ResumeError::SessionGone(format!("de examenserver kent de sessie niet meer (HTTP {status})")));
            }
            Err(e) => return Err(unreachable(e).into()),
        };
        let package = self.data_dir.join(dirs::INSTRUMENTS).join(format!("{}.exam", assignment.instrument.id));
        // A crash before the first download finished leaves no directory yet.
        std::fs::create_dir_all(package.parent().unwrap_or(Path::new(".")))
            .map_err(|e| user(format!("De map voor de opdracht kan niet worden gemaakt: {e}. Roep de surveillant.")))?;
        hub.download_instrument(&assignment.instrument, &package).await.map_err(unreachable)?;
        if !self.resumed_in {
            return Ok(Restored { hub, assignment, running: None });
        }
        let start = hub.start().await.map_err(unreachable)?;
        let opened = open_instrument(&package, &start.content_key, &self.policy, &self.media).map_err(user)?;
        let instrument = crate::instrument::web_start::open(opened, &hub, &self.policy_hash, &self.web).await.map_err(user)?;
        let key = crate::answers::AnswerKey::from_store(&self.key_store).map_err(user)?;
        let dir = self.data_dir.join(dirs::ANSWERS).join(&assignment.sitting_id);
        let store = crate::answers::AnswerStore::open_or_create(&dir, &key, &assignment.sitting_id, &assignment.instrument.id)
            .map_err(|e| user(format!("De antwoorden van vóór de storing kunnen niet worden geopend: {e}. Roep de surveillant.")))?;
        Ok(Restored { hub, assignment, running: Some((instrument, store)) })
    }
}

impl Inner {
    /// What a resume after a crash needs from the hub, taken under the
    /// state lock (the hub is then asked without it: [`ResumeInputs::fetch`]).
    fn resume_inputs(&self) -> Result<ResumeInputs, ResumeError> {
        let ready = self.started()?;
        let mut hub = ready.hub.clone();
        let token = std::fs::read_to_string(self.data_dir.join(dirs::STATE).join(TOKEN_FILE))
            .map_err(|e| ResumeError::SessionGone(format!("de sessiesleutel van vóór de storing ontbreekt ({e})")))?;
        hub.set_session_token(Some(token.trim().to_owned()));
        Ok(ResumeInputs {
            hub,
            data_dir: self.data_dir.clone(),
            resumed_in: ready.session.view().remaining_secs.is_some(),
            policy: ready.policy.clone(),
            media: self.media.clone(),
            policy_hash: self.policy_hash.clone(),
            web: self.web.clone(),
            key_store: self.answer_key_store.clone(),
        })
    }

    /// The student's session from before the crash is gone (no token kept,
    /// or the hub no longer knows it): with the exam not yet begun, the
    /// invigilator's confirmation leads back to the login (journalled as
    /// `session.resume_abandoned`); once the clock ran, never — a fresh
    /// login would give a new clock — and the exam office must reopen it.
    fn abandon_resume(&mut self, invigilator: String, why: &str) -> Result<(), UserError> {
        let began = self.ready().is_some_and(|r| r.session.view().remaining_secs.is_some());
        if began {
            return Err(user(format!(
                "De sessie van vóór de storing is niet meer bekend bij de examenserver ({why}) en het examen was al begonnen. Roep de examensecretaris: die moet het examen heropenen."
            )));
        }
        self.journal_event(&KioskEvent::SessionResumeAbandoned(ev::ResumeAbandoned { by: invigilator.clone(), reason: why.to_owned() }));
        let _ = std::fs::remove_file(self.data_dir.join(dirs::STATE).join(TOKEN_FILE));
        self.stage = Stage::Idle;
        if let Some(ready) = self.ready_mut() {
            ready.hub.set_session_token(None);
        }
        self.session_apply(Trigger::ResumeConfirmed { by: invigilator, into: Phase::Login })?;
        self.login_error = Some(FormError {
            message: "De sessie van vóór de storing bestaat niet meer. Log opnieuw in met je studentnummer en toegangscode.".into(),
            remaining_attempts: None,
        });
        Ok(())
    }

    /// Adopts what the hub gave for a resume; returns the phase to continue in.
    fn adopt_resume(&mut self, restored: Restored) -> Phase {
        if let Some(ready) = self.ready_mut() {
            ready.hub = restored.hub;
        }
        self.grant_accommodations(&restored.assignment.accommodations.tools);
        let Some((instrument, store)) = restored.running else {
            self.stage = Stage::assigned(restored.assignment);
            return Phase::WaitingForStart;
        };
        // How long the exam clock stood still for the crash (from its last
        // save, or the lock it was in): the hub gives back at most that.
        let clock_stopped_ms = self.ready().map_or(0, |r| r.session.clock_stopped_ms());
        self.journal_event(&KioskEvent::SessionResumed(ev::Resumed {
            answers_saved: store.status().saved_seq,
            clock_stopped_ms: Some(clock_stopped_ms),
            sitting: restored.assignment.sitting_id.clone(),
        }));
        // Handed in before the crash (the upload on its way): the hand-in
        // goes on, it is never taken back to the exam.
        let into = if store.status().submitted { Phase::HandingIn } else { Phase::InExam };
        // The guard allows what the instrument grants everyone too (espeak-ng for its read-aloud).
        self.grant_accommodations(&crate::tools::guard_tools(&restored.assignment.accommodations.tools, instrument.qti_test()));
        self.stage = Stage::Running { assignment: restored.assignment, instrument: Arc::new(instrument), answers: store };
        into
    }
}
