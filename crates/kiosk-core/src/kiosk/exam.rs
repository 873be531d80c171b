//! The exam's course before the hand-in: the instrument's download, the
//! start, the student's answers and page.

use super::*;

/// The download screen's progress is updated at most this often.
const DOWNLOAD_PROGRESS_EVERY: Duration = Duration::from_millis(200);

impl Kiosk {
    /// The student confirmed the assignment: download the instrument.
    ///
    /// The download waits on the network without the state lock (issue 16:
    /// a slow or stalled hub held up every lock, save and close request):
    /// lock, check the phase, take what the call needs, unlock, download
    /// (progress shown as it comes), lock again, check the phase again, apply.
    pub async fn confirm_assignment(&self) -> Result<KioskView, UserError> {
        // One download at a time; a second press while it runs changes nothing.
        let Ok(_downloading) = self.downloading.try_lock() else {
            return Ok(self.view().await);
        };
        let (hub, assignment, path) = {
            let mut inner = self.inner.lock().await;
            match inner.phase() {
                Some(Phase::Assignment) => {
                    inner.session_apply(Trigger::AssignmentConfirmed)?;
                }
                // A download that failed (hub gone mid-way) is tried again; the
                // hub client resumes the partial file.
                Some(Phase::Download) => inner.journal_event(&KioskEvent::InstrumentDownloadRetried(ev::Empty {})),
                _ => return Err(user("Er is nu geen opdracht om te bevestigen.")),
            }
            let assignment = inner.stage.assignment().cloned().ok_or_else(|| user("Geen opdracht."))?;
            let path = inner.data_dir.join(dirs::INSTRUMENTS).join(format!("{}.exam", assignment.instrument.id));
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).map_err(user)?;
            let have = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let shown = DownloadView { done_bytes: have.min(assignment.instrument.size), total_bytes: assignment.instrument.size };
            inner.stage.set_download(Some(shown), None);
            self.changed(&inner);
            let hub = inner.started()?.hub.clone();
            (hub, assignment, path)
        };
        // Progress as it comes, at most a few times a second, and only when
        // the state is free (a progress bar never waits for the lock).
        let last_shown = Mutex::new(std::time::Instant::now());
        let progress = |done: u64| {
            let mut last = last_shown.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < DOWNLOAD_PROGRESS_EVERY {
                return;
            }
            if let Ok(mut inner) = self.inner.try_lock() {
                if let Stage::Assigned { download: Some(download), .. } = &mut inner.stage {
                    download.done_bytes = done.min(download.total_bytes);
                }
                self.changed(&inner);
                *last = std::time::Instant::now();
            }
        };
        // The hub client resumes a partial download; retry a few times on failure.
        let mut last_error = None;
        for attempt in 0..3u64 {
            match hub.download_instrument_with_progress(&assignment.instrument, &path, &progress).await {
                Ok(()) => {
                    last_error = None;
                    break;
                }
                Err(err) => {
                    last_error = Some(err.to_string());
                    tokio::time::sleep(Duration::from_millis(300 * (attempt + 1))).await;
                }
            }
        }
        let mut inner = self.inner.lock().await;
        if let Some(err) = last_error {
            inner.journal_event(&KioskEvent::InstrumentDownloadFailed(ev::Reason::new(err.clone())));
            let message = format!("Het ophalen van het examen is onderbroken ({err}). Wat al binnen is, blijft bewaard. Probeer het opnieuw of roep de surveillant.");
            inner.stage.set_download(None, Some(message.clone()));
            self.changed(&inner);
            return Err(user(message));
        }
        // While the download ran the session may have moved on (a lock from
        // the guard or the invigilator): the file stays, and once the seat is
        // back on the download screen "try again" finds it complete.
        if inner.phase() != Some(Phase::Download) {
            let message = "Het examen is opgehaald, maar de pc werd intussen vergrendeld. Probeer het opnieuw zodra de surveillant de pc heeft vrijgegeven.";
            inner.stage.set_download(None, Some(message.into()));
            return Ok(self.changed(&inner));
        }
        // Signature and completeness are checked now, before the start, without the key.
        if let Some(ready) = inner.ready() {
            if let Err(e) = verify_instrument(&path, &ready.policy) {
                inner.journal_event(&KioskEvent::InstrumentRefused(ev::InstrumentRefused { instrument: assignment.instrument.id.clone(), reason: e.clone() }));
                let _ = std::fs::remove_file(&path);
                return Err(user(format!("Het gedownloade examen is niet goedgekeurd of beschadigd: {e}. Roep de surveillant.")));
            }
        }
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        inner.stage.set_download(Some(DownloadView { done_bytes: size, total_bytes: assignment.instrument.size }), None);
        inner.journal_event(&KioskEvent::InstrumentDownloaded(ev::InstrumentDownloaded {
            instrument: assignment.instrument.id.clone(),
            sha256: assignment.instrument.sha256.clone(),
        }));
        inner.session_apply(Trigger::DownloadVerified)?;
        Ok(self.changed(&inner))
    }

    /// Starts the exam once the hub releases the content key.
    pub async fn start_exam(&self) -> Result<KioskView, UserError> {
        // One start at a time; a second press while it runs changes nothing.
        let Ok(_starting) = self.starting.try_lock() else {
            return Ok(self.view().await);
        };
        // Lock, check, take what the calls need, unlock: the hub is asked
        // (the start, a web instrument's session, the hub's copy of the
        // answers) without the state lock (issue 16 point 1).
        let (hub, assignment, package, policy, media, policy_hash, web, key_store, dir) = {
            let inner = self.inner.lock().await;
            if inner.phase() != Some(Phase::WaitingForStart) {
                return Err(user("Het examen kan nu niet starten."));
            }
            let (hub, policy) = (inner.started()?.hub.clone(), inner.started()?.policy.clone());
            let assignment = inner.stage.assignment().cloned().ok_or_else(|| user("Geen opdracht."))?;
            let package = inner.data_dir.join(dirs::INSTRUMENTS).join(format!("{}.exam", assignment.instrument.id));
            let dir = inner.data_dir.join(dirs::ANSWERS).join(&assignment.sitting_id);
            (hub, assignment, package, policy, inner.media.clone(), inner.policy_hash.clone(), inner.web.clone(), inner.answer_key_store.clone(), dir)
        };
        let start = hub.start().await.map_err(|e| user(format!("Het examen is nog niet gestart ({e}).")))?;
        // The clock counts down from the hub's time left for the student (so
        // a late start ends with the others), from the moment it answered.
        let answered = std::time::Instant::now();
        let (remaining, clock_source) = crate::session::clock::time_left_at_start(&start);
        let opened = open_instrument(&package, &start.content_key, &policy, &media).map_err(|e| {
            user(format!("Het examen kan niet worden geopend: {e}. Roep de surveillant."))
        })?;
        let instrument = crate::instrument::web_start::open(opened, &hub, &policy_hash, &web)
            .await
            .map_err(|e| user(format!("Het webexamen kan niet worden geopend: {e}. Roep de surveillant.")))?;
        let key = crate::answers::AnswerKey::from_store(&key_store)
            .map_err(|e| user(format!("De sleutel voor je antwoorden is niet beschikbaar: {e}. Roep de surveillant.")))?;
        // The hub's copy too: a student moved from another PC continues with every answer.
        let (store, moved) = crate::answers::open_with_hub_copy(&dir, &key, &assignment.sitting_id, &assignment.instrument.id, &hub)
            .await
            .map_err(|e| user(format!("Je antwoorden kunnen niet worden bewaard: {e}. Roep de surveillant.")))?;
        let mut inner = self.inner.lock().await;
        // Locked (or ended) while the hub was asked: nothing is adopted; the
        // start is asked again once the seat is back (the hub's time left then).
        if inner.phase() != Some(Phase::WaitingForStart) {
            // What the opening put in the shell's slots goes too: nothing of
            // the instrument is served before the exam runs.
            *media.write().unwrap_or_else(|p| p.into_inner()) = None;
            *web.write().unwrap_or_else(|p| p.into_inner()) = None;
            return Err(user("De pc werd vergrendeld terwijl het examen startte. Start opnieuw zodra de surveillant de pc heeft vrijgegeven."));
        }
        inner.journal_event(&KioskEvent::InstrumentOpened(ev::Instrument { instrument: assignment.instrument.id.clone() }));
        // The guard allows what the instrument grants everyone too (espeak-ng
        // for its read-aloud); the journal records the grant.
        inner.grant_accommodations(&crate::tools::guard_tools(&assignment.accommodations.tools, instrument.qti_test()));
        inner.stage = Stage::Running { assignment: assignment.clone(), instrument: Arc::new(instrument), answers: store };
        let session = &mut inner.started_mut()?.session;
        session.set_clock_remaining(remaining.saturating_sub(answered.elapsed()), clock_source).map_err(user)?;
        inner.session_apply(Trigger::ExamStarted)?;
        if let Some(moved) = moved {
            // A move needs the invigilator: the session stays locked until one unlocks it.
            // Saves made here that the hub never acknowledged and that went
            // another way: kept in the local answer log, not sent (docs/answers.md).
            let set_aside = moved.set_aside.map(|(first, last)| ev::SeqRange { first, last });
            inner.journal_event(&KioskEvent::AnswersMovedIn(ev::MovedIn { from_device: moved.from_device.clone(), seq: moved.seq, set_aside }));
            inner.lock_session("Je antwoorden zijn van een andere pc overgezet. De surveillant moet dit toestaan.".into())?;
        }
        Ok(self.changed(&inner))
    }

    /// Saves one item's responses (`{RESPONSE_ID: value}`) durably in the
    /// encrypted answer store — it is on disk when this returns — then sends
    /// the answers to the hub (acknowledged with a signed receipt).
    pub async fn save_answer(&self, item_id: &str, value: serde_json::Value) -> Result<u64, UserError> {
        let mut inner = self.inner.lock().await;
        answers_may_change(&inner)?;
        let responses: Vec<(String, serde_json::Value)> = match value {
            serde_json::Value::Object(map) => map.into_iter().collect(),
            other => vec![("RESPONSE".to_owned(), other)],
        };
        // Only items and responses of the running instrument, with values
        // its interactions can give (a QTI test; a web instrument's answers
        // go to its supplier).
        if let Some(known) = inner.stage.instrument().and_then(|i| i.answer_ids()) {
            let given: Vec<(&str, &serde_json::Value)> = responses.iter().map(|(r, v)| (r.as_str(), v)).collect();
            if let Err(e) = known.check(item_id, &given) {
                let item: String = item_id.chars().take(256).collect();
                inner.journal_event(&KioskEvent::AnswersRefused(ev::ItemReason { item, reason: e.to_string() }));
                return Err(user(format!("Dit antwoord hoort niet bij het examen ({e}) en is niet bewaard. Roep de surveillant.")));
            }
        }
        let store = inner.stage.answers_mut().ok_or_else(|| user("Er is geen examen geopend."))?;
        if store.status().submitted {
            // Handed in (perhaps by an invigilator's end): not a storage failure.
            return Err(user("Je examen is ingeleverd; dit antwoord wordt niet meer bewaard."));
        }
        let mut seq = 0;
        for (response, value) in responses {
            match store.save(item_id, &response, value) {
                Ok(saved) => seq = saved.seq,
                Err(e) => {
                    // Nothing is reported saved: the UI keeps the answer and retries.
                    let message = format!("Opslaan mislukt: {e}. Je antwoord blijft op het scherm staan; roep de surveillant.");
                    inner.journal_event(&KioskEvent::AnswersSaveFailed(ev::ItemReason { item: item_id.to_owned(), reason: e.to_string() }));
                    inner.notice = Some(Notice::StorageFailing);
                    let count = inner.save_failures.as_ref().map_or(0, |(n, _)| *n);
                    inner.save_failures = Some((count + 1, e.to_string()));
                    self.changed(&inner);
                    return Err(user(message));
                }
            }
        }
        if let Some((failures, last_reason)) = inner.save_failures.take() {
            if inner.notice == Some(Notice::StorageFailing) {
                inner.notice = None;
            }
            inner.journal_event(&KioskEvent::AnswersSaveRecovered(ev::SaveRecovered {
                failures: u64::from(failures),
                item: item_id.to_owned(),
                last_reason,
                seq,
            }));
        }
        // On disk now; the upload goes in the background (never under this
        // lock: a slow hub must not hold up the next keystroke's save).
        self.sync_wanted.notify_one();
        self.changed(&inner);
        Ok(seq)
    }

    /// Keeps the student's scratchpad text or highlights of `item` (`null`
    /// clears them) in the encrypted answer store with the answers — on disk
    /// when this returns, sent to the hub with the answers, never scored
    /// (issue 19; docs/answers.md). When answers may change, and only for an
    /// item of the running test.
    pub async fn save_note(&self, item_id: &str, note: exam_protocol::NoteKind, value: serde_json::Value) -> Result<u64, UserError> {
        let mut inner = self.inner.lock().await;
        answers_may_change(&inner)?;
        if let Some(known) = inner.stage.instrument().and_then(|i| i.answer_ids()) {
            known.check(item_id, &[]).map_err(|e| user(format!("Deze aantekening hoort niet bij het examen ({e}).")))?;
        }
        let store = inner.stage.answers_mut().ok_or_else(|| user("Er is geen examen geopend."))?;
        if store.status().submitted {
            return Err(user("Je examen is ingeleverd; je aantekeningen worden niet meer bewaard."));
        }
        let saved = store.note(item_id, note, value).map_err(|e| match e {
            crate::answers::AnswerError::Invalid(why) => user(format!("Deze aantekening kan niet worden bewaard: {why}.")),
            e => user(format!("Opslaan van je aantekening mislukt: {e}. Roep de surveillant.")),
        })?;
        self.sync_wanted.notify_one();
        self.changed(&inner);
        Ok(saved.seq)
    }

    /// The student turned to `page` of the exam (the UI tells): kept with
    /// the session, so a resume after a crash opens the same page. Not
    /// journalled (a page turn is not an event the exam board needs).
    pub async fn exam_position(&self, page: u32) -> Result<(), UserError> {
        let mut inner = self.inner.lock().await;
        let session = &mut inner.started_mut()?.session;
        session.set_page(page).map_err(|e| user(format!("De pagina kon niet worden bewaard: {e}")))
    }
}

/// Whether the student's answers (and notes) may change now: in the exam,
/// also while a lock interrupted it (what the student typed just before the
/// lock must not be lost); not while handing in.
fn answers_may_change(inner: &Inner) -> Result<(), UserError> {
    let (in_exam, handing_in) = match inner.ready().map(|r| r.session.view()) {
        Some(v) => {
            let interrupted = if v.phase == Phase::Locked { v.before_lock } else { Some(v.phase) };
            (interrupted == Some(Phase::InExam), interrupted == Some(Phase::HandingIn))
        }
        None => (false, false),
    };
    if handing_in {
        // Handed in, the upload on its way: not a storage failure.
        return Err(user("Je examen wordt ingeleverd; dit antwoord wordt niet meer bewaard."));
    }
    if !in_exam {
        return Err(user("Antwoorden kunnen nu niet worden opgeslagen."));
    }
    Ok(())
}

/// Verifies a downloaded package against the policy's trusted keys
/// (signature and completeness; no key needed).
pub(super) fn verify_instrument(package: &Path, policy: &Policy) -> Result<crate::instrument::VerifiedPackage, String> {
    use crate::instrument::{InstrumentTrust, SealedPackage};
    let trust = InstrumentTrust::from_policy(policy);
    SealedPackage::read(package).and_then(|p| p.verify(&trust)).map_err(|e| e.to_string())
}

/// Verifies a downloaded package, decrypts it with the content key and
/// imports it; the decrypted package goes to `media` for its images.
pub(super) fn open_instrument(
    package: &Path,
    key: &str,
    policy: &Policy,
    media: &crate::instrument::media::MediaSlot,
) -> Result<OpenedInstrument, String> {
    use crate::instrument::ContentKey;
    let verified = verify_instrument(package, policy)?;
    let key = ContentKey::from_base64(key).map_err(|e| e.to_string())?;
    let contents = verified.decrypt(&key).map_err(|e| e.to_string())?;
    use crate::instrument::WebInstrumentOf as _;
    if let Some(web) = contents.web_instrument().map_err(|e| e.to_string())? {
        return Ok(OpenedInstrument::Web(web));
    }
    let instrument = contents.import().map_err(|e| e.to_string())?;
    // Images (and media interactions' audio and video) are served by the
    // shell's exammedia: scheme from the package in memory; the render model
    // maps each package path to its URL — only the files the render model
    // uses (not an image only a scorer's rubric block shows).
    use crate::instrument::media::{hold, media_urls};
    let urls = media_urls(&instrument.test, &contents);
    hold(media, contents, urls.keys().cloned());
    Ok(OpenedInstrument::Qti(RunningInstrument::qti(instrument.test, urls)))
}
