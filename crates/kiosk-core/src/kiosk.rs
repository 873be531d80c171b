//! The kiosk: the startup checklist, the session, the hub, the guard —
//! everything the Tauri shell calls. The shell only maps commands onto
//! these methods and forwards [`KioskView`] to the web view.

use crate::guard::platform::NativePlatform;
use crate::guard::{Enforcement, Guard, GuardConfig, GuardEvent, Scope};
use crate::hub::HubClient;
use crate::location::{self, Decision, ProbeInput, RoomCodeVerifier};
use crate::session::checklist::{Applied, Checklist, Revert, Step, StepEvent};
use crate::session::unlock::UnlockGate;
use crate::session::skew::{ClockComparison, MAX_CLOCK_SKEW};
use crate::session::{LockTime, Notice, Phase, Session, SessionView, Trigger};
use exam_journal::{Event, Journal, JournalConfig, KeyStore, SigningKey};
use exam_policy::{Policy, ProcessMode};
use exam_protocol::Assignment;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub mod remote;

/// The hub session token, kept for a resume after a crash.
const TOKEN_FILE: &str = "hub-token";
/// Room codes used and wrong attempts, so a restart does not reset either.
const ROOM_CODE_STATE_FILE: &str = "room-codes.json";

/// Writes a file only its owner can read, durably.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// How long the window may be without focus before the exam locks. A
/// window manager's keyboard grab (a shortcut such as Alt+F4, an input
/// method) takes the focus for a few milliseconds; a student switching to
/// another window to read it stays away far longer.
pub const FOCUS_GRACE: Duration = Duration::from_secs(1);

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

/// Sub-directories of the kiosk's data directory.
pub mod dirs {
    /// The integrity journal.
    pub const JOURNAL: &str = "journal";
    /// Session state for resume.
    pub const STATE: &str = "state";
    /// Downloaded instruments.
    pub const INSTRUMENTS: &str = "instruments";
    /// The hub enrolment (written by `kioskctl enrol`).
    pub const HUB: &str = "hub";
    /// Encrypted answer stores, one per sitting.
    pub const ANSWERS: &str = "answers";
}

/// How the kiosk is started.
#[derive(Debug, Clone)]
pub struct KioskOptions {
    /// Data directory: journal, state, instruments, hub enrolment.
    pub data_dir: PathBuf,
    /// The policy file.
    pub policy: PathBuf,
    /// Where the device key lives.
    pub key_store: KeyStore,
    /// Demo mode: windowed, guard reports only, no clipboard changes.
    pub demo: bool,
    /// Which processes the guard watches; `None`: the current user's.
    pub guard_scope: Option<Scope>,
}

/// One line of the startup checklist as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepStatus {
    /// Step name.
    pub step: String,
    /// `running`, `done` or `failed`.
    pub state: &'static str,
}

/// The location decision as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocationView {
    /// Approved?
    pub approved: bool,
    /// The approved location.
    pub location: Option<String>,
    /// Every failed requirement, in words.
    pub failed: Vec<String>,
}

/// The assignment as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentView {
    /// Exam name.
    pub exam: String,
    /// Room.
    pub room: String,
    /// Minutes without extra time.
    pub duration_minutes: u32,
    /// Minutes including extra time.
    pub total_minutes: u32,
    /// Extra minutes.
    pub extra_minutes: u32,
    /// Scheduled start, unix ms.
    pub start_ms: i64,
    /// Accommodations (text size, contrast, tools).
    pub accommodations: exam_protocol::Accommodations,
}

/// A student as the UI shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StudentView {
    /// Student number.
    pub number: String,
    /// Name.
    pub name: String,
}

/// An error to show next to a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormError {
    /// The message.
    pub message: String,
    /// Attempts left, when the hub says.
    pub remaining_attempts: Option<u32>,
}

/// Whether the student's work is safe at the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncView {
    /// `saved`, `syncing`, `offline`, or `refused` (the hub refuses the
    /// answers: they stay on this PC; the student calls the invigilator).
    pub state: &'static str,
    /// Saves not yet acknowledged by the hub.
    pub pending: u64,
}

/// Everything the UI renders. It holds no secrets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KioskView {
    /// The session phase.
    pub phase: Phase,
    /// Demo mode.
    pub demo: bool,
    /// The policy lets a WebDriver drive this window (the project's own
    /// tests; `[environment] test-automation`): the UI says so on every screen.
    pub test_automation: bool,
    /// The startup checklist.
    pub startup: Vec<StepStatus>,
    /// Why startup failed.
    pub startup_failure: Option<crate::session::checklist::StartupFailure>,
    /// The location decision.
    pub location: Option<LocationView>,
    /// Whether the login form asks for the room code (BYOD).
    pub needs_room_code: bool,
    /// The last login error.
    pub login_error: Option<FormError>,
    /// The logged-in student.
    pub student: Option<StudentView>,
    /// The assignment.
    pub assignment: Option<AssignmentView>,
    /// Download progress: (done, total) bytes.
    pub download: Option<DownloadView>,
    /// Why the last download attempt failed (the download screen offers to try again).
    pub download_error: Option<String>,
    /// Seconds left.
    pub remaining_secs: Option<u64>,
    /// The exam page the student was last on (a resume opens it).
    pub page: Option<u32>,
    /// Why the clock stands still.
    pub clock_paused: Option<crate::session::PauseReason>,
    /// Why the session is locked.
    pub lock_reason: Option<String>,
    /// The last unlock error.
    pub unlock_error: Option<String>,
    /// Sync status.
    pub sync: SyncView,
    /// The instrument's render model, once started.
    pub instrument: Option<serde_json::Value>,
    /// The answers so far.
    pub answers: BTreeMap<String, serde_json::Value>,
    /// The hub's receipt code after hand-in.
    pub receipt: Option<String>,
    /// Something refused or failing that does not lock the exam (see [`Notice`]).
    pub notice: Option<Notice>,
}

/// Download progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DownloadView {
    /// Bytes done.
    pub done_bytes: u64,
    /// Bytes in all.
    pub total_bytes: u64,
}

/// A refusal the UI shows next to the action (wrong code, hub unreachable, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{message}")]
pub struct UserError {
    /// In words.
    pub message: String,
}

fn user(message: impl std::fmt::Display) -> UserError {
    UserError { message: message.to_string() }
}

/// What the steps build up while the kiosk starts.
#[derive(Default)]
struct StartContext {
    policy: Option<Policy>,
    device_key: Option<SigningKey>,
    journal: Option<Arc<Mutex<Journal>>>,
    session: Option<Session>,
    guard: Option<GuardHandle>,
    location: Option<Decision>,
    hub: Option<HubClient>,
    /// An environment check asked for a lock (applied once startup is done).
    environment_lock: Option<String>,
    /// The location holds only once the student types the room code (BYOD).
    room_code_pending: bool,
}

/// The guard running on its own thread.
struct GuardHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    events: Mutex<std::sync::mpsc::Receiver<GuardEvent>>,
}

impl GuardHandle {
    fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Inner {
    policy: Option<Policy>,
    session: Option<Session>,
    journal: Option<Arc<Mutex<Journal>>>,
    hub: Option<HubClient>,
    guard: Option<GuardHandle>,
    applied: Option<Applied>,
    startup: Vec<StepStatus>,
    startup_failure: Option<crate::session::checklist::StartupFailure>,
    location: Option<Decision>,
    assignment: Option<Assignment>,
    download: Option<DownloadView>,
    download_error: Option<String>,
    login_error: Option<FormError>,
    unlock_error: Option<String>,
    unlock_gate: Option<UnlockGate>,
    instrument: Option<serde_json::Value>,
    /// The encrypted, durable answer store of the running sitting.
    answers: Option<crate::answers::AnswerStore>,
    /// Where the answer store's key lives (beside the device key).
    answer_key_store: KeyStore,
    /// The running web instrument's proxy (shared with [`Kiosk::web_proxy`]).
    web: crate::instrument::web_start::WebSlot,
    /// SHA-256 of the policy file, for the exam key header of web instruments.
    policy_hash: String,
    /// The running QTI instrument's package, for its images (shared with [`Kiosk::instrument_media`]).
    media: crate::instrument::media::MediaSlot,
    offline: bool,
    /// The last `offline` the journal was told of (`sync.offline`/`sync.online`).
    offline_journalled: bool,
    /// The hub answered the last answer upload with a refusal (its error
    /// code): not offline — retrying will not help; the invigilator must look.
    answers_refused: Option<String>,
    demo: bool,
    data_dir: PathBuf,
    policy_path: PathBuf,
    notice: Option<Notice>,
    /// The location check waits for the room code typed at login.
    room_code_pending: bool,
    /// Room codes already used and wrong attempts (kept across restarts).
    room_codes: RoomCodeVerifier,
    /// Answer saves that failed since the last one that worked, and the last
    /// reason: journalled again once saving works, in case the journal (on
    /// the same full disk) could not take the failure itself.
    save_failures: Option<(u32, String)>,
}

/// The running kiosk.
pub struct Kiosk {
    inner: tokio::sync::Mutex<Inner>,
    /// Since when the window has been without focus (outside `inner`: the
    /// shell updates it synchronously, in event order).
    focus_lost_at: Mutex<Option<std::time::Instant>>,
    listener: Box<dyn Fn(&KioskView) + Send + Sync>,
    web: crate::instrument::web_start::WebSlot,
    media: crate::instrument::media::MediaSlot,
    /// One answer upload at a time (taken before the state lock, never
    /// while holding it: uploads wait on the network, the state does not).
    uploading: tokio::sync::Mutex<()>,
    /// One journal upload at a time (like `uploading`).
    journal_uploading: tokio::sync::Mutex<()>,
    /// Wakes the background sync: a save wants its upload now.
    sync_wanted: tokio::sync::Notify,
    /// When the background sync last sent the journal.
    journal_synced: Mutex<Option<std::time::Instant>>,
    /// When the background sync last sent answers.
    answers_synced: Mutex<Option<std::time::Instant>>,
}

impl Kiosk {
    /// Runs the startup checklist. A failure is not an error here: the kiosk
    /// then shows the failing step and its reason, with everything reverted.
    pub fn start(options: KioskOptions, listener: Box<dyn Fn(&KioskView) + Send + Sync>) -> Self {
        let mut context = StartContext::default();
        let mut statuses: Vec<StepStatus> = Vec::new();
        let result = checklist(&options).run(&mut context, |event| {
            match event {
                StepEvent::Started { step } => statuses.push(StepStatus { step: step.clone(), state: "running" }),
                StepEvent::Applied { step } => set_state(&mut statuses, step, "done"),
                StepEvent::Failed { step, .. } => set_state(&mut statuses, step, "failed"),
                StepEvent::Reverted { .. } => {}
            }
        });
        let (applied, failure) = match result {
            Ok(applied) => (Some(applied), None),
            Err(failure) => (None, Some(failure)),
        };
        let StartContext { policy, journal, mut session, guard, location, hub, environment_lock, room_code_pending, .. } = context;
        if let (Some(reason), Some(session), None) = (environment_lock, session.as_mut(), failure.as_ref()) {
            let _ = session.apply(Trigger::Lock { reason });
        }
        let unlock_gate = policy.as_ref().map(|p| {
            UnlockGate::new(
                crate::session::unlock::Roster { room: String::new(), invigilators: p.lock.invigilators.iter().filter_map(to_invigilator).collect() },
                p.lock.max_failed_unlocks,
                Duration::from_secs(u64::from(p.lock.failed_unlock_window_secs)),
            )
        });
        let web = crate::instrument::web_start::WebSlot::default();
        let media = crate::instrument::media::MediaSlot::default();
        let inner = Inner {
            policy,
            session,
            journal,
            hub,
            guard,
            applied,
            startup: statuses,
            startup_failure: failure,
            location,
            assignment: None,
            download: None,
            download_error: None,
            login_error: None,
            unlock_error: None,
            unlock_gate,
            instrument: None,
            answers: None,
            answer_key_store: answer_key_store(&options.key_store),
            web: web.clone(),
            media: media.clone(),
            policy_hash: crate::instrument::web_start::policy_hash(&options.policy),
            offline: false,
            offline_journalled: false,
            answers_refused: None,
            demo: options.demo,
            room_codes: RoomCodeVerifier::load(&options.data_dir.join(dirs::STATE).join(ROOM_CODE_STATE_FILE)).unwrap_or_default(),
            data_dir: options.data_dir,
            policy_path: options.policy,
            notice: None,
            room_code_pending,
            save_failures: None,
        };
        Self {
            inner: tokio::sync::Mutex::new(inner),
            focus_lost_at: Mutex::new(None),
            listener,
            web,
            media,
            uploading: tokio::sync::Mutex::new(()),
            sync_wanted: tokio::sync::Notify::new(),
            journal_uploading: tokio::sync::Mutex::new(()),
            journal_synced: Mutex::new(None),
            answers_synced: Mutex::new(None),
        }
    }

    /// An image of the running instrument for the shell's `exammedia:`
    /// handler: bytes and media type (never waits for the kiosk's other work).
    pub fn instrument_media(&self, url: &str) -> Option<(Vec<u8>, &'static str)> {
        crate::instrument::media::lookup(&self.media, url)
    }

    /// The proxy of the running web instrument, for the shell's `examweb:`
    /// handler and navigation check (never waits for the kiosk's other work).
    pub fn web_proxy(&self) -> Option<Arc<crate::instrument::web_proxy::WebProxy>> {
        crate::instrument::web_start::current(&self.web)
    }

    /// The current view.
    pub async fn view(&self) -> KioskView {
        self.inner.lock().await.view()
    }

    fn changed(&self, inner: &Inner) -> KioskView {
        let view = inner.view();
        (self.listener)(&view);
        view
    }

    /// Handles what the guard reported since the last call: journals it
    /// (done by the guard thread's sink) and locks when a process could not
    /// be ended; saves the running exam clock when due. Call periodically
    /// (the shell does, every 250 ms).
    pub async fn poll_guard(&self) {
        let mut inner = self.inner.lock().await;
        // The running exam clock is saved every ~2 s (not only at
        // transitions), so a crash gives back at most that (issue 15).
        if let Some(Err(e)) = inner.session.as_mut().map(Session::save_clock_if_due) {
            inner.journal_event("session.clock_not_saved", &serde_json::json!({"reason": e.to_string()}));
        }
        let events: Vec<GuardEvent> = match &inner.guard {
            Some(guard) => guard.events.lock().unwrap_or_else(|p| p.into_inner()).try_iter().collect(),
            None => return,
        };
        let mut changed = false;
        let in_exam = matches!(inner.phase(), Some(Phase::InExam | Phase::Locked));
        for event in events {
            // A process that could not be ended always locks; one that was
            // ended locks during the exam, so the invigilator sees the attempt.
            let reason = match &event.outcome {
                crate::guard::Outcome::NotEnded { .. } => {
                    Some(format!("Het programma '{}' mag niet draaien en kon niet worden gestopt.", event.name))
                }
                crate::guard::Outcome::Ended { .. } if in_exam => {
                    Some(format!("Het programma '{}' is gestart. Het is gestopt; de surveillant moet de pc vrijgeven.", event.name))
                }
                _ => None,
            };
            if let Some(reason) = reason {
                if inner.lock_session(reason).is_ok() {
                    changed = true;
                }
            }
        }
        if changed {
            self.changed(&inner);
        }
    }

    /// Logs the student in at the hub.
    pub async fn login(&self, student_number: &str, access_code: &str, room_code: Option<&str>) -> Result<KioskView, UserError> {
        let mut inner = self.inner.lock().await;
        if inner.phase() == Some(Phase::LocationCheck) && inner.room_code_pending {
            if let Err(err) = inner.check_room_code(room_code).await {
                inner.login_error = Some(FormError { message: err.message.clone(), remaining_attempts: None });
                self.changed(&inner);
                return Err(err);
            }
        }
        if inner.phase() != Some(Phase::Login) {
            return Err(user("Inloggen kan nu niet."));
        }
        if let Err(message) =
            check_login_field("studentnummer", student_number.trim()).and_then(|()| check_login_field("toegangscode", access_code.trim()))
        {
            let student: String = student_number.chars().take(MAX_LOGIN_FIELD).collect();
            inner.journal_event(
                "session.login_failed",
                &serde_json::json!({"student": student, "student_bytes": student_number.len(), "reason": message}),
            );
            inner.login_error = Some(FormError { message: message.clone(), remaining_attempts: None });
            self.changed(&inner);
            return Err(user(message));
        }
        let hub = inner.hub.as_mut().ok_or_else(|| user("Geen verbinding met de examenserver."))?;
        match hub.login(student_number.trim(), access_code.trim()).await {
            Ok(login) => {
                // Kept (owner-only) so a crashed kiosk can resume this session; bound to this device's certificate.
                if let Err(e) = write_private(&inner.data_dir.join(dirs::STATE).join(TOKEN_FILE), login.session_token.as_bytes()) {
                    inner.journal_event("session.token_not_saved", &serde_json::json!({"reason": e.to_string()}));
                }
                let assignment = login.assignment;
                inner.login_error = None;
                inner.journal_event("session.login", &serde_json::json!({"student": assignment.student_number, "sitting": assignment.sitting_id}));
                let session = inner.session.as_mut().ok_or_else(|| user("Geen sessie."))?;
                session.set_clock(
                    Duration::from_secs(u64::from(assignment.duration_minutes) * 60),
                    Duration::from_secs(u64::from(assignment.total_minutes.saturating_sub(assignment.duration_minutes)) * 60),
                );
                session
                    .apply(Trigger::LoggedIn { student: assignment.student_number.clone(), sitting: assignment.sitting_id.clone() })
                    .map_err(user)?;
                inner.assignment = Some(assignment);
            }
            Err(err) => {
                let (message, remaining) = describe_login_error(&err);
                inner.journal_event("session.login_failed", &serde_json::json!({"student": student_number, "reason": message}));
                inner.login_error = Some(FormError { message: message.clone(), remaining_attempts: remaining });
                self.changed(&inner);
                return Err(user(message));
            }
        }
        Ok(self.changed(&inner))
    }

    /// The student confirmed the assignment: download the instrument.
    pub async fn confirm_assignment(&self) -> Result<KioskView, UserError> {
        let mut inner = self.inner.lock().await;
        match inner.phase() {
            Some(Phase::Assignment) => {
                inner.session_apply(Trigger::AssignmentConfirmed)?;
            }
            // A download that failed (hub gone mid-way) is tried again; the
            // hub client resumes the partial file.
            Some(Phase::Download) => inner.journal_event("instrument.download_retried", &serde_json::json!({})),
            _ => return Err(user("Er is nu geen opdracht om te bevestigen.")),
        }
        inner.download_error = None;
        let assignment = inner.assignment.clone().ok_or_else(|| user("Geen opdracht."))?;
        let path = inner.data_dir.join(dirs::INSTRUMENTS).join(format!("{}.exam", assignment.instrument.id));
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).map_err(user)?;
        inner.download = Some(DownloadView { done_bytes: 0, total_bytes: assignment.instrument.size });
        self.changed(&inner);
        let hub = inner.hub.clone().ok_or_else(|| user("Geen verbinding met de examenserver."))?;
        // The hub client resumes a partial download; retry a few times on failure.
        let mut last_error = None;
        for attempt in 0..3u64 {
            match hub.download_instrument(&assignment.instrument, &path).await {
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
        if let Some(err) = last_error {
            inner.journal_event("instrument.download_failed", &serde_json::json!({"reason": err}));
            let message = format!("Het ophalen van het examen is onderbroken ({err}). Wat al binnen is, blijft bewaard. Probeer het opnieuw of roep de surveillant.");
            inner.download_error = Some(message.clone());
            self.changed(&inner);
            return Err(user(message));
        }
        // Signature and completeness are checked now, before the start, without the key.
        if let Some(policy) = inner.policy.as_ref() {
            if let Err(e) = open_instrument(&path, None, policy, &inner.media) {
                inner.journal_event("instrument.refused", &serde_json::json!({"instrument": assignment.instrument.id, "reason": e}));
                let _ = std::fs::remove_file(&path);
                return Err(user(format!("Het gedownloade examen is niet goedgekeurd of beschadigd: {e}. Roep de surveillant.")));
            }
        }
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        inner.download = Some(DownloadView { done_bytes: size, total_bytes: assignment.instrument.size });
        inner.journal_event("instrument.downloaded", &serde_json::json!({"instrument": assignment.instrument.id, "sha256": assignment.instrument.sha256}));
        inner.session_apply(Trigger::DownloadVerified)?;
        Ok(self.changed(&inner))
    }

    /// Starts the exam once the hub releases the content key.
    pub async fn start_exam(&self) -> Result<KioskView, UserError> {
        let mut inner = self.inner.lock().await;
        if inner.phase() != Some(Phase::WaitingForStart) {
            return Err(user("Het examen kan nu niet starten."));
        }
        let hub = inner.hub.clone().ok_or_else(|| user("Geen verbinding met de examenserver."))?;
        let start = hub.start().await.map_err(|e| user(format!("Het examen is nog niet gestart ({e}).")))?;
        // The clock counts down from the hub's time left for the student (so
        // a late start ends with the others), from the moment it answered.
        let answered = std::time::Instant::now();
        let (remaining, clock_source) = crate::session::clock::time_left_at_start(&start);
        let assignment = inner.assignment.clone().ok_or_else(|| user("Geen opdracht."))?;
        let package = inner.data_dir.join(dirs::INSTRUMENTS).join(format!("{}.exam", assignment.instrument.id));
        let policy = inner.policy.as_ref().ok_or_else(|| user("Geen beleid."))?;
        let opened = open_instrument(&package, Some(&start.content_key), policy, &inner.media).map_err(|e| {
            user(format!("Het examen kan niet worden geopend: {e}. Roep de surveillant."))
        })?;
        inner.journal_event("instrument.opened", &serde_json::json!({"instrument": assignment.instrument.id}));
        inner.instrument = crate::instrument::web_start::open(opened, &hub, &inner.policy_hash, &inner.web)
            .await
            .map_err(|e| user(format!("Het webexamen kan niet worden geopend: {e}. Roep de surveillant.")))?;
        let key = crate::answers::AnswerKey::from_store(&inner.answer_key_store)
            .map_err(|e| user(format!("De sleutel voor je antwoorden is niet beschikbaar: {e}. Roep de surveillant.")))?;
        let dir = inner.data_dir.join(dirs::ANSWERS).join(&assignment.sitting_id);
        // The hub's copy too: a student moved from another PC continues with every answer.
        let (store, moved) = crate::answers::open_with_hub_copy(&dir, &key, &assignment.sitting_id, &assignment.instrument.id, &hub)
            .await
            .map_err(|e| user(format!("Je antwoorden kunnen niet worden bewaard: {e}. Roep de surveillant.")))?;
        inner.answers = Some(store);
        let session = inner.session.as_mut().ok_or_else(|| user("Geen sessie."))?;
        session.set_clock_remaining(remaining.saturating_sub(answered.elapsed()), clock_source).map_err(user)?;
        inner.session_apply(Trigger::ExamStarted)?;
        if let Some(moved) = moved {
            // A move needs the invigilator: the session stays locked until one unlocks it.
            // Saves made here that the hub never acknowledged and that went
            // another way: kept in the local answer log, not sent (docs/answers.md).
            let set_aside = moved.set_aside.map(|(first, last)| serde_json::json!({"first": first, "last": last}));
            inner.journal_event("answers.moved_in", &serde_json::json!({"from_device": moved.from_device, "seq": moved.seq, "set_aside": set_aside}));
            inner.lock_session("Je antwoorden zijn van een andere pc overgezet. De surveillant moet dit toestaan.".into())?;
        }
        Ok(self.changed(&inner))
    }

    /// Saves one item's responses (`{RESPONSE_ID: value}`) durably in the
    /// encrypted answer store — it is on disk when this returns — then sends
    /// the answers to the hub (acknowledged with a signed receipt).
    pub async fn save_answer(&self, item_id: &str, value: serde_json::Value) -> Result<u64, UserError> {
        let mut inner = self.inner.lock().await;
        // Also while a lock interrupted the exam: what the student typed just
        // before the lock must not be lost.
        let in_exam = match inner.session.as_ref().map(Session::view) {
            Some(v) => v.phase == Phase::InExam || (v.phase == Phase::Locked && v.before_lock == Some(Phase::InExam)),
            None => false,
        };
        if !in_exam {
            return Err(user("Antwoorden kunnen nu niet worden opgeslagen."));
        }
        let responses: Vec<(String, serde_json::Value)> = match value {
            serde_json::Value::Object(map) => map.into_iter().collect(),
            other => vec![("RESPONSE".to_owned(), other)],
        };
        // Only items and responses of the running instrument (a QTI test;
        // a web instrument's answers go to its supplier).
        if let Some(model) = inner.instrument.as_ref().filter(|m| m.get("test_parts").is_some()) {
            let ids: Vec<&str> = responses.iter().map(|(r, _)| r.as_str()).collect();
            if let Err(e) = crate::instrument::answer_ids::check(model, item_id, &ids) {
                let item: String = item_id.chars().take(256).collect();
                inner.journal_event("answers.refused", &serde_json::json!({"item": item, "reason": e.to_string()}));
                return Err(user(format!("Dit antwoord hoort niet bij het examen ({e}) en is niet bewaard. Roep de surveillant.")));
            }
        }
        let store = inner.answers.as_mut().ok_or_else(|| user("Er is geen examen geopend."))?;
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
                    inner.journal_event(Notice::StorageFailing.journal_kind(), &serde_json::json!({"item": item_id, "reason": e.to_string()}));
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
            inner.journal_event("answers.save_recovered", &serde_json::json!({"item": item_id, "seq": seq, "failures": failures, "last_reason": last_reason}));
        }
        // On disk now; the upload goes in the background (never under this
        // lock: a slow hub must not hold up the next keystroke's save).
        self.sync_wanted.notify_one();
        self.changed(&inner);
        Ok(seq)
    }

    /// The student turned to `page` of the exam (the UI tells): kept with
    /// the session, so a resume after a crash opens the same page. Not
    /// journalled (a page turn is not an event the exam board needs).
    pub async fn exam_position(&self, page: u32) -> Result<(), UserError> {
        let mut inner = self.inner.lock().await;
        let session = inner.session.as_mut().ok_or_else(|| user("Er is geen examen geopend."))?;
        session.set_page(page).map_err(|e| user(format!("De pagina kon niet worden bewaard: {e}")))
    }

    /// Hands in: the final upload, and the hub's signed receipt.
    pub async fn submit(&self) -> Result<KioskView, UserError> {
        let mut inner = self.inner.lock().await;
        if inner.phase() != Some(Phase::InExam) {
            return Err(user("Inleveren kan nu niet."));
        }
        let store = inner.answers.as_mut().ok_or_else(|| user("Er is geen examen geopend."))?;
        if !store.status().submitted {
            store.submit().map_err(|e| user(format!("Inleveren mislukt: {e}. Roep de surveillant.")))?;
        }
        // The hand-in counts once the hub's signed receipt for the final
        // save is stored: sent without the lock, then checked again.
        drop(inner);
        self.send_answers().await;
        let mut inner = self.inner.lock().await;
        match inner.phase() {
            // Finished meanwhile (the receipt came in, or a remote end handed in).
            Some(Phase::Submitted) => {}
            Some(Phase::InExam) => {
                if !inner.finish_hand_in()? {
                    return Err(user(if inner.answers_refused.is_some() {
                        "De examenserver neemt de inlevering niet aan. Je werk blijft op deze pc bewaard; roep de surveillant."
                    } else {
                        "De examenserver is niet bereikbaar. Je werk is bewaard en ingeleverd zodra de server weer bereikbaar is; probeer het zo opnieuw."
                    }));
                }
            }
            // Locked while the hand-in was on its way: it completes at the unlock.
            _ => return Err(user("De pc is vergrendeld terwijl je inleverde. Je werk is bewaard; de surveillant geeft de pc vrij.")),
        }
        let view = self.changed(&inner);
        drop(inner);
        // Hand the journal over now, too; what fails stays queued for the background sync.
        self.sync().await;
        Ok(view)
    }

    /// An invigilator unlocks (or confirms a resume) with their PIN.
    pub async fn unlock(&self, pin: &str, reason: &str) -> Result<KioskView, UserError> {
        let mut inner = self.inner.lock().await;
        let phase = inner.phase();
        if !matches!(phase, Some(Phase::Locked | Phase::Resume)) {
            return Err(user("Er is niets te ontgrendelen."));
        }
        if reason.trim().is_empty() && inner.policy.as_ref().is_some_and(|p| p.lock.require_reason) {
            return Err(user("Geef een reden op."));
        }
        let gate = inner.unlock_gate.as_mut().ok_or_else(|| user("Geen surveillanten bekend in het beleid."))?;
        let invigilator = match gate.check(pin) {
            Ok(i) => i.id.clone(),
            Err(err) => {
                let message = err.to_string();
                inner.journal_event("session.unlock_failed", &serde_json::json!({"reason": message}));
                inner.unlock_error = Some(message.clone());
                self.changed(&inner);
                return Err(user(message));
            }
        };
        inner.unlock_error = None;
        let trigger = if phase == Some(Phase::Resume) {
            let into = inner.restore_after_crash().await?;
            Trigger::ResumeConfirmed { by: invigilator, into }
        } else {
            Trigger::Unlock { by: invigilator, reason: reason.trim().to_owned() }
        };
        inner.session_apply(trigger)?;
        // A hand-in whose receipt came while the seat was locked is done now.
        if inner.phase() == Some(Phase::InExam) {
            inner.finish_hand_in()?;
        }
        Ok(self.changed(&inner))
    }

    /// Locks the session (guard, environment, focus loss, hub instruction).
    pub async fn lock(&self, reason: &str) -> Result<KioskView, UserError> {
        let mut inner = self.inner.lock().await;
        inner.lock_session(reason.to_owned())?;
        Ok(self.changed(&inner))
    }

    /// The window gained (`true`) or lost the focus. Synchronous, so the
    /// shell can call it in event order; returns how long the window was
    /// without focus when it comes back. Whether a loss locks is decided by
    /// [`Kiosk::poll_focus`] once [`FOCUS_GRACE`] has passed.
    pub fn focus_changed(&self, focused: bool) -> Option<Duration> {
        let mut lost_at = self.focus_lost_at.lock().unwrap_or_else(|p| p.into_inner());
        if focused {
            lost_at.take().map(|t| t.elapsed())
        } else {
            lost_at.get_or_insert_with(std::time::Instant::now);
            None
        }
    }

    /// Journals a focus change reported by [`Kiosk::focus_changed`].
    pub async fn journal_focus(&self, focused: bool, away: Option<Duration>) {
        let inner = self.inner.lock().await;
        let phase = inner.phase();
        match (focused, away) {
            (false, _) => inner.journal_event(Notice::FocusLost.journal_kind(), &serde_json::json!({"phase": phase})),
            (true, Some(away)) => {
                inner.journal_event("kiosk.focus_regained", &serde_json::json!({"phase": phase, "after_ms": away.as_millis() as u64}))
            }
            (true, None) => {}
        }
    }

    /// Locks the session when the window has been without focus for longer
    /// than [`FOCUS_GRACE`] during the exam and the policy says so
    /// (`lock-on-focus-loss`); demo mode, or a policy that does not lock,
    /// only shows a notice. Call periodically (the shell does, every 250 ms).
    pub async fn poll_focus(&self) {
        let mut inner = self.inner.lock().await;
        let mut lost_at = self.focus_lost_at.lock().unwrap_or_else(|p| p.into_inner());
        let Some(lost) = *lost_at else { return };
        if lost.elapsed() < FOCUS_GRACE || inner.phase() != Some(Phase::InExam) {
            return;
        }
        // Counted once: the next loss starts a new count.
        *lost_at = None;
        drop(lost_at);
        let policy_locks = inner.policy.as_ref().is_some_and(|p| p.lock.lock_on_focus_loss);
        let locks = policy_locks && !inner.demo;
        inner.journal_event("kiosk.focus_away", &serde_json::json!({"away_ms": lost.elapsed().as_millis() as u64, "locks": locks, "policy_locks": policy_locks, "demo": inner.demo}));
        if locks {
            let reason = "Het examenvenster was niet meer actief: een ander venster of programma kreeg de aandacht. De surveillant moet de pc vrijgeven.";
            let _ = inner.lock_session(reason.to_owned());
        } else {
            inner.notice = Some(Notice::FocusLost);
        }
        self.changed(&inner);
    }

    /// Something was refused that the student should see (a close request,
    /// a second copy of the kiosk): journalled, and shown as a notice.
    pub async fn refused(&self, notice: Notice, payload: serde_json::Value) {
        let mut inner = self.inner.lock().await;
        let phase = inner.phase();
        let mut payload = payload;
        if let Some(object) = payload.as_object_mut() {
            object.insert("phase".into(), serde_json::to_value(phase).unwrap_or_default());
        }
        inner.journal_event(notice.journal_kind(), &payload);
        inner.notice = Some(notice);
        self.changed(&inner);
    }

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
                let hub = inner.hub.clone()?;
                let Some(store) = inner.answers.as_ref() else { break };
                let Some(upload) = store.pending_upload() else { break };
                (hub, upload, store.status().saved_seq)
            };
            let result = hub.upload_answers(&upload).await;
            let mut inner = self.inner.lock().await;
            // Another sitting's store by now (a new login): nothing to apply.
            if inner.answers.as_ref().map(|a| a.sitting_id().to_owned()) != Some(upload.sitting_id.clone()) {
                break;
            }
            let acknowledged = inner.uploaded(&upload, result);
            // A hand-in's receipt finishes the exam, also when it came in the background.
            if acknowledged.is_some() && inner.phase() == Some(Phase::InExam) {
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
        let Some(hub) = self.inner.lock().await.hub.clone() else { return };
        self.send_answers().await;
        let journal = self.inner.lock().await.journal.clone();
        // One journal upload at a time; it also waits on the network:
        // without the state lock, what it learns applied under it afterwards.
        let _one_at_a_time = self.journal_uploading.lock().await;
        let mut journal_offline = None;
        let mut refused = None;
        if let Some(journal) = journal {
            let (dir, from) = {
                let j = journal.lock().unwrap_or_else(|p| p.into_inner());
                (j.dir().to_owned(), j.sync_cursor().map_or(0, |c| c.acked_seq + 1))
            };
            let frames: Vec<Vec<u8>> = exam_journal::read_records(&dir)
                .map(|records| {
                    records.into_iter().map(|(_, r)| r).filter(|r| r.body.seq >= from).take(JOURNAL_BATCH).map(|r| r.frame).collect()
                })
                .unwrap_or_default();
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
            inner.journal_event("sync.journal_refused", &serde_json::json!({"reason": reason}));
        }
        if inner.offline != inner.offline_journalled {
            inner.journal_event(if inner.offline { "sync.offline" } else { "sync.online" }, &serde_json::json!({}));
            inner.offline_journalled = inner.offline;
            self.changed(&inner);
        }
    }

    /// Whether closing the window may be allowed now.
    pub async fn may_exit(&self) -> bool {
        let inner = self.inner.lock().await;
        inner.demo || matches!(inner.phase(), Some(Phase::Submitted) | None) || inner.startup_failure.is_some()
    }

    /// Journals an event from the shell (close refused, focus lost, ...).
    pub async fn record(&self, kind: &str, payload: serde_json::Value) {
        self.inner.lock().await.journal_event(kind, &payload);
    }

    /// Stops the guard and undoes every startup step, in reverse order.
    pub async fn shutdown(&self) {
        let mut inner = self.inner.lock().await;
        if let Some(mut guard) = inner.guard.take() {
            guard.stop();
        }
        if let Some(mut applied) = inner.applied.take() {
            applied.unwind();
        }
    }
}

/// Verifies a downloaded package against the policy's trusted keys and,
/// with the content key, decrypts and imports it into the render model; the
/// decrypted package goes to `media` for its images.
fn open_instrument(
    package: &Path,
    key_base64: Option<&str>,
    policy: &Policy,
    media: &crate::instrument::media::MediaSlot,
) -> Result<Option<serde_json::Value>, String> {
    use crate::instrument::{ContentKey, InstrumentTrust, SealedPackage};
    let trust = InstrumentTrust::from_policy(policy);
    let verified = SealedPackage::read(package).and_then(|p| p.verify(&trust)).map_err(|e| e.to_string())?;
    let Some(key) = key_base64 else { return Ok(None) };
    let key = ContentKey::from_base64(key).map_err(|e| e.to_string())?;
    let contents = verified.decrypt(&key).map_err(|e| e.to_string())?;
    if let Some(web) = contents.web_instrument().map_err(|e| e.to_string())? {
        return Ok(Some(crate::instrument::web_start::descriptor_view(&web)));
    }
    let instrument = contents.import().map_err(|e| e.to_string())?;
    let json = instrument.render_json().map_err(|e| e.to_string())?;
    let mut model: serde_json::Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    // Images are served by the shell's exammedia: scheme from the package in
    // memory; the render model maps each package path to its URL.
    use crate::instrument::media::{hold, is_image, media_url};
    let urls: serde_json::Map<String, serde_json::Value> =
        contents.paths().filter(|p| is_image(p)).map(|p| (p.to_owned(), serde_json::Value::String(media_url(p)))).collect();
    if let Some(object) = model.as_object_mut() {
        object.insert("media".into(), serde_json::Value::Object(urls));
    }
    hold(media, contents);
    Ok(Some(model))
}

/// Asks the hub to echo, signed, the address it sees us at (location
/// evidence a local change of IP cannot fake) and its clock. `None` when not
/// enrolled or unreachable: the requirement then fails with that reason.
/// Blocking: for the startup steps, which run before the async runtime.
fn fetch_hub_echo(hub_dir: &Path) -> Option<(location::SignedHubEcho, String)> {
    let client = HubClient::from_dir(hub_dir).ok()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    runtime.block_on(hub_echo(&client))
}

/// [`fetch_hub_echo`] with a client the kiosk already has.
async fn hub_echo(client: &HubClient) -> Option<(location::SignedHubEcho, String)> {
    // 32 fresh random bytes: the echo cannot be replayed from an earlier check.
    let mut nonce = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce).ok()?;
    let nonce = hex::encode(nonce);
    let echo = client.echo(&nonce).await.ok()?;
    Some((echo, nonce))
}

/// Whether a refused location would hold if the student typed the current
/// code of one of the policy's rooms (everything else already holds).
fn would_hold_with_room_code(policy: &Policy, evidence: &location::Evidence) -> bool {
    if evidence.room_code != location::RoomCodeEvidence::NotEntered {
        return false;
    }
    let mut rooms = Vec::new();
    for loc in &policy.locations {
        for requirement in &loc.evidence {
            requirement.walk(&mut |r| {
                if let exam_policy::Requirement::RoomCode(rc) = r {
                    rooms.push(rc.room.clone());
                }
            });
        }
    }
    rooms.into_iter().any(|room| {
        let mut with_code = evidence.clone();
        with_code.room_code = location::RoomCodeEvidence::Accepted { room };
        location::decide(policy, &with_code).is_approved()
    })
}

/// Appends one event to the journal, if it is open (startup steps).
fn journal_to(journal: Option<&Arc<Mutex<Journal>>>, kind: &str, payload: &serde_json::Value) {
    // Too large for one record (a 70 KB student number): summarised, never dropped.
    if let (Some(journal), Ok(event)) = (journal, Event::new_or_summary(kind, payload)) {
        let _ = journal.lock().unwrap_or_else(|p| p.into_inner()).append(&event);
    }
}

/// The real uid of this process (the guard never enforces an allow-list on it).
#[cfg(unix)]
fn current_uid() -> u32 {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap_or(0)
}

/// Other platforms have no uid; user scopes are not used there.
#[cfg(not(unix))]
fn current_uid() -> u32 {
    0
}

/// The answer-store key lives beside the device key: the keyring entry
/// `answer-store-key`, or `PATH.answers` next to a key file.
fn answer_key_store(device: &KeyStore) -> KeyStore {
    match device {
        KeyStore::Keyring { .. } => KeyStore::Keyring { entry: crate::answers::DEFAULT_KEY_ENTRY.into() },
        KeyStore::File(path) => KeyStore::File(path.with_extension("answers")),
    }
}

fn set_state(statuses: &mut [StepStatus], step: &str, state: &'static str) {
    if let Some(s) = statuses.iter_mut().rev().find(|s| s.step == step) {
        s.state = state;
    }
}

fn to_invigilator(entry: &exam_policy::InvigilatorEntry) -> Option<crate::session::unlock::Invigilator> {
    Some(crate::session::unlock::Invigilator { id: entry.id.clone(), name: entry.name.clone(), pin: entry.pin.parse().ok()? })
}

fn describe_login_error(err: &crate::hub::HubError) -> (String, Option<u32>) {
    match err {
        crate::hub::HubError::Refused { status, body } => {
            let remaining = body.remaining_attempts;
            let message = match (*status, remaining) {
                (401, Some(n)) => format!("Studentnummer of toegangscode klopt niet. Nog {n} pogingen."),
                (401, None) => "Studentnummer of toegangscode klopt niet.".to_owned(),
                (423, _) => "Te veel foute pogingen: roep je surveillant.".to_owned(),
                (404, _) if body.error == "unknown_student" => {
                    "Dit studentnummer staat niet in de examenplanning. Controleer het nummer of roep de surveillant.".to_owned()
                }
                (404, _) if body.error == "no_sitting_now" => {
                    "Er staat nu geen examen voor je klaar: het is nog niet begonnen of het is al afgelopen. Roep de surveillant.".to_owned()
                }
                (404, _) => "Er staat nu geen examen voor je klaar in dit lokaal.".to_owned(),
                (403, _) if body.error == "wrong_room" => "Je examen is in een ander lokaal. Roep de surveillant.".to_owned(),
                (403, _) if body.error == "exam_ended" => {
                    "Je examen is door de surveillant beëindigd; alleen de surveillant kan het heropenen.".to_owned()
                }
                (403, _) if body.error == "sitting_over" => "De tijd voor dit examen is voorbij. Roep de surveillant.".to_owned(),
                (429, _) => "Te veel pogingen vanaf deze pc. Wacht even en probeer het opnieuw.".to_owned(),
                // The hub's own words are English and for administrators: the
                // student gets Dutch, with the code for the invigilator.
                (status, _) => format!("Inloggen lukt niet (de examenserver antwoordde {status} {}). Roep de surveillant.", error_code(&body.error)),
            };
            (message, remaining)
        }
        crate::hub::HubError::Unreachable(_) => ("De examenserver is niet bereikbaar. Probeer het zo opnieuw of roep de surveillant.".into(), None),
        _ => ("Inloggen lukt niet door een fout in de verbinding met de examenserver. Roep de surveillant.".into(), None),
    }
}

/// A hub error code as shown to a student: the stable code only (letters,
/// digits, `_`), never text a server sent.
fn error_code(code: &str) -> String {
    let code: String = code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
    if code.is_empty() { "zonder code".into() } else { code }
}

/// The longest student number and access code the hub takes.
const MAX_LOGIN_FIELD: usize = 64;

/// A student number or access code the hub would refuse anyway, said in Dutch
/// before anything is sent.
fn check_login_field(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("Vul je {what} in."));
    }
    if value.chars().count() > MAX_LOGIN_FIELD || value.chars().any(char::is_control) {
        return Err(format!("Je {what} is te lang of bevat tekens die niet kunnen (hoogstens {MAX_LOGIN_FIELD} tekens)."));
    }
    Ok(())
}

impl Inner {
    /// After a crash: the assignment, the instrument (with the content key,
    /// again from the hub) and the answers from the local store. Returns the
    /// phase to continue in.
    async fn restore_after_crash(&mut self) -> Result<Phase, UserError> {
        let unreachable = |e: crate::hub::HubError| user(format!("De examenserver is niet bereikbaar ({e}); hervatten kan zodra hij terug is."));
        let mut hub = self.hub.clone().ok_or_else(|| user("Geen verbinding met de examenserver."))?;
        let token = std::fs::read_to_string(self.data_dir.join(dirs::STATE).join(TOKEN_FILE))
            .map_err(|_| user("De sessie van vóór de storing is niet meer te vinden; de student moet opnieuw inloggen."))?;
        hub.set_session_token(Some(token.trim().to_owned()));
        let assignment = hub.assignment().await.map_err(unreachable)?;
        self.hub = Some(hub.clone());
        let package = self.data_dir.join(dirs::INSTRUMENTS).join(format!("{}.exam", assignment.instrument.id));
        hub.download_instrument(&assignment.instrument, &package).await.map_err(unreachable)?;
        let resumed_in = self.session.as_ref().map(Session::view).and_then(|v| v.remaining_secs).is_some();
        self.assignment = Some(assignment.clone());
        if !resumed_in {
            return Ok(Phase::WaitingForStart);
        }
        let start = hub.start().await.map_err(unreachable)?;
        let policy = self.policy.as_ref().ok_or_else(|| user("Geen beleid."))?;
        let opened = open_instrument(&package, Some(&start.content_key), policy, &self.media).map_err(user)?;
        self.instrument = crate::instrument::web_start::open(opened, &hub, &self.policy_hash, &self.web).await.map_err(user)?;
        let key = crate::answers::AnswerKey::from_store(&self.answer_key_store).map_err(user)?;
        let dir = self.data_dir.join(dirs::ANSWERS).join(&assignment.sitting_id);
        let store = crate::answers::AnswerStore::open_or_create(&dir, &key, &assignment.sitting_id, &assignment.instrument.id)
            .map_err(|e| user(format!("De antwoorden van vóór de storing kunnen niet worden geopend: {e}. Roep de surveillant.")))?;
        // How long the exam clock stood still for the crash (from its last
        // save, or the lock it was in): the hub gives back at most that.
        let clock_stopped_ms = self.session.as_ref().map_or(0, Session::clock_stopped_ms);
        self.journal_event(
            "session.resumed",
            &serde_json::json!({"sitting": assignment.sitting_id, "answers_saved": store.status().saved_seq, "clock_stopped_ms": clock_stopped_ms}),
        );
        self.answers = Some(store);
        Ok(Phase::InExam)
    }

    fn phase(&self) -> Option<Phase> {
        self.session.as_ref().map(Session::phase)
    }

    /// BYOD: the location holds once the student types the room's current
    /// code. Checks the whole location again with the code (and a fresh hub
    /// echo), journals the decision, and moves the session on to the login.
    async fn check_room_code(&mut self, room_code: Option<&str>) -> Result<(), UserError> {
        let code = room_code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| user("Vul de lokaalcode in die de surveillant laat zien."))?
            .to_owned();
        let policy = self.policy.clone().ok_or_else(|| user("Geen beleid."))?;
        let echo = match &self.hub {
            Some(hub) => hub_echo(hub).await,
            None => None,
        };
        let device_id = self.device_id();
        let policy_dir = self.policy_path.parent().map(Path::to_path_buf);
        let mut verifier = std::mem::take(&mut self.room_codes);
        // Gathering may challenge beacons (blocking UDP with timeouts): off the async threads.
        let (decision, entered, verifier) = tokio::task::spawn_blocking(move || {
            let input = ProbeInput {
                device_id,
                room_code: Some(code),
                room_codes: &mut verifier,
                hub_echo: echo.as_ref().map(|(e, _)| e.clone()),
                hub_echo_nonce: echo.map(|(_, nonce)| nonce),
                policy_dir,
            };
            let evidence = location::gather(&policy, location::platform::native().as_ref(), input);
            (location::decide(&policy, &evidence), evidence.room_code, verifier)
        })
        .await
        .map_err(user)?;
        self.room_codes = verifier;
        if let Err(e) = self.room_codes.save(&self.data_dir.join(dirs::STATE).join(ROOM_CODE_STATE_FILE)) {
            self.journal_event("location.room_code_state_not_saved", &serde_json::json!({"reason": e.to_string()}));
        }
        self.journal_event(if decision.is_approved() { "location.approved" } else { "location.refused" }, &serde_json::to_value(&decision).unwrap_or_default());
        let approved = match &decision {
            Decision::Approved { location, .. } => Some(location.clone()),
            Decision::Refused { .. } => None,
        };
        self.location = Some(decision);
        let Some(location) = approved else {
            return Err(user(match entered {
                location::RoomCodeEvidence::Refused(location::RoomCodeError::RateLimited { retry_after_secs }) => {
                    format!("Te veel foute lokaalcodes. Probeer het over {retry_after_secs} seconden opnieuw.")
                }
                location::RoomCodeEvidence::Refused(location::RoomCodeError::Reused { .. }) => {
                    "Deze lokaalcode is al gebruikt. Wacht op de volgende code op het scherm van de surveillant.".to_owned()
                }
                location::RoomCodeEvidence::Accepted { .. } => {
                    "De lokaalcode klopt, maar deze pc staat niet in een goedgekeurd examenlokaal. Roep de surveillant.".to_owned()
                }
                _ => "De lokaalcode klopt niet of is verlopen. Kijk op het scherm van de surveillant en probeer het opnieuw.".to_owned(),
            }));
        };
        self.room_code_pending = false;
        self.session_apply(Trigger::LocationApproved { location })?;
        Ok(())
    }

    fn device_id(&self) -> String {
        self.journal.as_ref().map(|j| j.lock().unwrap_or_else(|p| p.into_inner()).device_public_key().device_id()).unwrap_or_default()
    }

    fn journal_event(&self, kind: &str, payload: &serde_json::Value) {
        journal_to(self.journal.as_ref(), kind, payload);
    }

    fn session_apply(&mut self, trigger: Trigger) -> Result<Phase, UserError> {
        self.session.as_mut().ok_or_else(|| user("Geen sessie."))?.apply(trigger).map_err(user)
    }

    fn lock_session(&mut self, reason: String) -> Result<(), UserError> {
        match self.phase() {
            None | Some(Phase::Submitted) => Ok(()),
            Some(_) => self.session_apply(Trigger::Lock { reason }).map(|_| ()),
        }
    }

    /// Sends what the hub has not acknowledged yet; returns the receipt code
    /// of the hub's acknowledgement, if it gave one.
    /// The hand-in is done once the hub's signed receipt for the final save
    /// is stored: the session goes to handed in. `false` without it.
    fn finish_hand_in(&mut self) -> Result<bool, UserError> {
        let Some(receipt) = self.answers.as_ref().map(|a| a.status()).filter(|s| s.submitted).and_then(|s| s.receipt_code) else {
            return Ok(false);
        };
        self.session_apply(Trigger::Submitted { receipt })?;
        crate::instrument::web_start::close(&self.web);
        crate::instrument::media::release(&self.media);
        let _ = std::fs::remove_file(self.data_dir.join(dirs::STATE).join(TOKEN_FILE));
        Ok(true)
    }

    /// Applies the hub's answer to one answer upload ([`Kiosk::send_answers`]):
    /// the receipt is recorded, a refusal or an unreachable hub is noted and
    /// journalled. `Some(receipt code)` when the upload was acknowledged.
    fn uploaded(&mut self, upload: &exam_protocol::AnswerUpload, result: Result<exam_protocol::AnswerReceipt, crate::hub::HubError>) -> Option<String> {
        match result {
            Ok(receipt) if receipt.kept_apart => {
                // The student logged in on another PC: the hub keeps
                // these answers apart and they do not count. Not an
                // acknowledgement the student may rely on.
                self.offline = false;
                if self.answers_refused.as_deref() != Some(KEPT_APART) {
                    self.journal_event("answers.kept_apart", &serde_json::json!({"seq": receipt.seq, "final": receipt.final_submission, "sha256": receipt.answers_sha256}));
                    self.answers_refused = Some(KEPT_APART.into());
                }
                None
            }
            Ok(receipt) => {
                self.offline = false;
                self.answers_refused = None;
                let acked = self.answers.as_mut()?.ack(&receipt);
                self.journal_event(
                    "answers.acknowledged",
                    &serde_json::json!({"seq": receipt.seq, "final": receipt.final_submission, "sha256": receipt.answers_sha256, "stored": acked.is_ok()}),
                );
                acked.ok().map(|()| receipt.receipt_code)
            }
            Err(err) => {
                // The newest save made so far: the journal's evidence
                // that it existed by now (the hub reads it to judge saves
                // it receives late, docs/hub.md).
                let saved = self.answers.as_ref().map_or(upload.seq, |a| a.status().saved_seq);
                let refusal = upload_refusal(&err);
                // A refusal repeated every sync is journalled once (below).
                if refusal.is_none() || self.answers_refused.as_deref() != refusal {
                    self.journal_event("answers.upload_failed", &serde_json::json!({"seq": saved, "reason": err.to_string()}));
                }
                match refusal {
                    // The hub is there and says no: the invigilator must
                    // know (journalled once per reason; the answers stay here).
                    Some(code) => {
                        self.offline = false;
                        if self.answers_refused.as_deref() != Some(code) {
                            self.journal_event(
                                "answers.upload_refused",
                                &serde_json::json!({"seq": upload.seq, "saved": saved, "error": code, "reason": err.to_string()}),
                            );
                            self.answers_refused = Some(code.to_string());
                        }
                    }
                    None => self.offline = true,
                }
                None
            }
        }
    }

    fn view(&self) -> KioskView {
        let session: Option<SessionView> = self.session.as_ref().map(Session::view);
        let location = self.location.as_ref().map(|d| match d {
            Decision::Approved { location, .. } => LocationView { approved: true, location: Some(location.clone()), failed: vec![] },
            Decision::Refused { locations } => LocationView {
                approved: false,
                location: None,
                failed: locations
                    .iter()
                    .flat_map(|l| l.failed.iter().map(move |c| format!("{}: {} — {}", l.location, c.requirement, c.detail)))
                    .collect(),
            },
        });
        let status = self.answers.as_ref().map(|a| a.status());
        let pending = status.as_ref().map_or(0, |st| st.saved_seq.saturating_sub(st.acked_seq));
        let snapshot = self.answers.as_ref().map(|a| a.snapshot());
        KioskView {
            // A failed startup leaves nothing usable: the UI shows the failure, not a phase.
            phase: if self.startup_failure.is_some() { Phase::Boot } else { session.as_ref().map_or(Phase::Boot, |s| s.phase) },
            demo: self.demo,
            test_automation: self.policy.as_ref().is_some_and(|p| p.environment.test_automation),
            startup: self.startup.clone(),
            startup_failure: self.startup_failure.clone(),
            location,
            needs_room_code: self.room_code_pending,
            login_error: self.login_error.clone(),
            student: self.assignment.as_ref().map(|a| StudentView { number: a.student_number.clone(), name: a.student_name.clone() }),
            assignment: self.assignment.as_ref().map(|a| AssignmentView {
                exam: a.exam.clone(),
                room: a.room.clone(),
                duration_minutes: a.duration_minutes,
                total_minutes: a.total_minutes,
                extra_minutes: a.total_minutes.saturating_sub(a.duration_minutes),
                start_ms: a.start_ms,
                accommodations: a.accommodations.clone(),
            }),
            download: self.download,
            download_error: self.download_error.clone(),
            remaining_secs: session.as_ref().and_then(|s| s.remaining_secs),
            page: session.as_ref().and_then(|s| s.page),
            clock_paused: session.as_ref().and_then(|s| s.clock_paused),
            lock_reason: session.as_ref().and_then(|s| s.lock_reason.clone()),
            unlock_error: self.unlock_error.clone(),
            sync: SyncView {
                state: if self.answers_refused.is_some() {
                    "refused"
                } else if self.offline {
                    "offline"
                } else if pending > 0 {
                    "syncing"
                } else {
                    "saved"
                },
                pending,
            },
            instrument: self.instrument.clone(),
            answers: snapshot
                .map(|s| s.responses.into_iter().map(|(item, rs)| (item, serde_json::to_value(rs).unwrap_or_default())).collect())
                .unwrap_or_default(),
            receipt: session.and_then(|s| s.receipt),
            notice: self.notice,
        }
    }
}

/// The startup checklist, in order.
fn checklist(options: &KioskOptions) -> Checklist<StartContext> {
    let o = options.clone();
    let policy_path = o.policy.clone();
    let store = o.key_store.clone();
    let data_dir = o.data_dir.clone();
    let demo = o.demo;
    let scope = o.guard_scope;
    let echo_dir = o.data_dir.join(dirs::HUB);
    Checklist::new()
        .step(Step::new("beleid gecontroleerd", move |c: &mut StartContext| {
            c.policy = Some(exam_policy::load_policy_file(&policy_path).map_err(|e| e.to_string())?);
            Ok(None)
        }))
        .step(Step::new("apparaatsleutel geladen", move |c: &mut StartContext| {
            c.device_key = Some(store.load().map_err(|e| e.to_string())?);
            Ok(None)
        }))
        .step(Step::new("logboek geopend", {
            let data_dir = data_dir.clone();
            move |c: &mut StartContext| {
                let key = c.device_key.take().ok_or("no device key")?;
                let journal = Journal::open(&data_dir.join(dirs::JOURNAL), key, JournalConfig::default()).map_err(|e| e.to_string())?;
                let journal = Arc::new(Mutex::new(journal));
                let session = Session::boot(journal.clone(), &data_dir.join(dirs::STATE), LockTime::Pauses).map_err(|e| e.to_string())?;
                c.session = Some(session);
                c.journal = Some(journal.clone());
                Ok(Some(Box::new(move || {
                    // The last step undone: the closing checkpoint, after which
                    // the journal takes nothing more (so it ends with it).
                    let mut journal = journal.lock().unwrap_or_else(|p| p.into_inner());
                    journal.seal().map(|_| ()).map_err(|e| e.to_string())
                }) as Revert))
            }
        }))
        .step(Step::new("afscherming toegepast", move |c: &mut StartContext| {
            let session = c.session.as_mut().ok_or("no session")?;
            if session.phase() == Phase::Boot {
                session.apply(Trigger::LockdownStarted).map_err(|e| e.to_string())?;
            }
            if demo {
                return Ok(None);
            }
            crate::clipboard::clear().map_err(|e| e.to_string())?;
            // SysRq off through the helper (Linux), keyboard hook (Windows); see crate::lockdown.
            let journal = c.journal.clone();
            let events = journal.clone();
            let lockdown = crate::lockdown::Lockdown::engage(move |event| {
                journal_to(events.as_ref(), "lockdown.event", &serde_json::json!({ "event": format!("{event:?}") }));
            })
            .map_err(|e| e.to_string())?;
            journal_to(journal.as_ref(), "lockdown.engaged", &serde_json::json!({ "applied": lockdown.applied() }));
            Ok(Some(Box::new(move || {
                let released = lockdown.release().map_err(|e| e.to_string());
                journal_to(journal.as_ref(), "lockdown.released", &serde_json::json!({ "released": released }));
                crate::clipboard::clear().map_err(|e| e.to_string())?;
                released.map(|_| ())
            }) as Revert))
        }))
        .step(Step::new("procesbewaking gestart", move |c: &mut StartContext| {
            let policy = c.policy.clone().ok_or("no policy")?;
            let journal = c.journal.clone().ok_or("no journal")?;
            let own_uid = current_uid();
            let scope = scope.unwrap_or(Scope::User(own_uid));
            // Demo mode, or an allow-list aimed at a developer's own session: report only.
            let enforcement = if demo || (policy.process_mode() == ProcessMode::AllowList && matches!(scope, Scope::User(u) if u == own_uid)) {
                Enforcement::ReportOnly
            } else {
                Enforcement::Enforce
            };
            let config = GuardConfig::from_policy(&policy, scope, enforcement, vec![]);
            let platform = NativePlatform::new().map_err(|e| e.to_string())?;
            let stop = Arc::new(AtomicBool::new(false));
            let (tx, rx) = std::sync::mpsc::channel();
            let thread_stop = stop.clone();
            let thread = std::thread::Builder::new()
                .name("guard".into())
                .spawn(move || {
                    let mut guard = Guard::new(policy, config, platform);
                    guard.run(&thread_stop, None, |event| {
                        if let Ok(e) = Event::new(event.journal_kind(), &event) {
                            let _ = journal.lock().unwrap_or_else(|p| p.into_inner()).append(&e);
                        }
                        let _ = tx.send(event);
                    });
                })
                .map_err(|e| e.to_string())?;
            c.guard = Some(GuardHandle { stop: stop.clone(), thread: Some(thread), events: Mutex::new(rx) });
            Ok(Some(Box::new(move || {
                stop.store(true, Ordering::Relaxed);
                Ok(())
            }) as Revert))
        }))
        .step(Step::new("omgeving gecontroleerd", move |c: &mut StartContext| {
            use exam_policy::Action;
            let policy = c.policy.as_ref().ok_or("no policy")?;
            let report = crate::environment::evaluate(&crate::environment::gather(), &policy.environment);
            let fired: Vec<String> =
                report.findings.iter().filter(|f| f.detected).flat_map(|f| f.evidence.iter().cloned()).collect();
            journal_to(c.journal.as_ref(), "environment.checked", &serde_json::to_value(&report).unwrap_or_default());
            match report.action {
                Action::Allow | Action::Warn => Ok(None),
                Action::Lock => {
                    c.environment_lock = Some(format!("Deze pc voldoet niet aan de examenregels: {}.", fired.join("; ")));
                    Ok(None)
                }
                Action::RefuseStart => Err(format!("deze pc mag geen examen starten: {}", fired.join("; "))),
            }
        }))
        .step(Step::new("klok gecontroleerd", {
            let hub_dir = o.data_dir.join(dirs::HUB);
            move |c: &mut StartContext| {
                // Without an enrolment or a reachable hub there is no time to
                // compare with; the hub step says why.
                let Some((echo, _)) = fetch_hub_echo(&hub_dir) else {
                    journal_to(c.journal.as_ref(), "clock.unchecked", &serde_json::json!({"reason": "the hub did not answer"}));
                    return Ok(None);
                };
                let comparison = ClockComparison::new(location::beacon::unix_ms(), echo.echo.time_ms, MAX_CLOCK_SKEW);
                let ok = comparison.within_tolerance();
                journal_to(c.journal.as_ref(), if ok { "clock.checked" } else { "clock.far_off" }, &serde_json::to_value(comparison).unwrap_or_default());
                if ok { Ok(None) } else { Err(comparison.describe()) }
            }
        }))
        .step(Step::new("locatie gecontroleerd", move |c: &mut StartContext| {
            let policy = c.policy.as_ref().ok_or("no policy")?;
            let session = c.session.as_mut().ok_or("no session")?;
            if session.phase() == Phase::Lockdown {
                session.apply(Trigger::LockdownApplied).map_err(|e| e.to_string())?;
            }
            let mut room_codes = RoomCodeVerifier::new();
            // The hub's signed view of our source address, when enrolled and reachable.
            let echo = fetch_hub_echo(&echo_dir);
            let device_id = c.journal.as_ref().map(|j| j.lock().unwrap_or_else(|p| p.into_inner()).device_public_key().device_id()).unwrap_or_default();
            let input = ProbeInput {
                device_id,
                room_code: None,
                room_codes: &mut room_codes,
                hub_echo: echo.as_ref().map(|(e, _)| e.clone()),
                hub_echo_nonce: echo.map(|(_, nonce)| nonce),
                policy_dir: o.policy.parent().map(Path::to_path_buf),
            };
            let evidence = location::gather(policy, location::platform::native().as_ref(), input);
            let decision = location::decide(policy, &evidence);
            // BYOD: when the room code is all that is missing, the login form asks for it.
            let awaits_code = !decision.is_approved() && would_hold_with_room_code(policy, &evidence);
            let kind = match (decision.is_approved(), awaits_code) {
                (true, _) => "location.approved",
                (false, true) => "location.awaiting_room_code",
                (false, false) => "location.refused",
            };
            journal_to(c.journal.as_ref(), kind, &serde_json::to_value(&decision).unwrap_or_default());
            if awaits_code {
                c.location = Some(decision);
                c.room_code_pending = true;
                return Ok(None);
            }
            let approved = match &decision {
                Decision::Approved { location, .. } => Some(location.clone()),
                Decision::Refused { .. } => None,
            };
            c.location = Some(decision);
            match approved {
                Some(location) => {
                    if session.phase() == Phase::LocationCheck {
                        session.apply(Trigger::LocationApproved { location }).map_err(|e| e.to_string())?;
                    }
                    Ok(None)
                }
                None => Err("deze pc staat niet in een goedgekeurd examenlokaal".into()),
            }
        }))
        .step(Step::new("examenserver bereikt", move |c: &mut StartContext| {
            let hub_dir = data_dir.join(dirs::HUB);
            let probe = HubClient::from_dir(&hub_dir).map_err(|e| e.to_string())?;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            runtime.block_on(probe.health()).map_err(|e| e.to_string())?;
            // A fresh client: the probe's pooled connections belong to the runtime above.
            c.hub = Some(HubClient::from_dir(&hub_dir).map_err(|e| e.to_string())?);
            Ok(None)
        }))
}

/// Why answers are not accepted when the hub kept them apart (a login on
/// another PC ended this PC's session).
const KEPT_APART: &str = "kept_apart";

/// The hub's error code when it refused an answer upload for good (it
/// holds other answers, the changes do not fit, the session is unknown…):
/// sending the same again will not help. `None` for an unreachable hub and
/// for answers that say "later" (408, 425, 429, 5xx).
fn upload_refusal(err: &crate::hub::HubError) -> Option<&str> {
    match err {
        crate::hub::HubError::Refused { status, body } if (400..500).contains(status) && ![408, 425, 429].contains(status) => {
            Some(if body.error.is_empty() { "refused" } else { body.error.as_str() })
        }
        _ => None,
    }
}

#[cfg(test)]
mod login_message_tests {
    use super::*;

    fn refused(status: u16, error: &str, message: &str) -> crate::hub::HubError {
        let body: exam_protocol::ErrorBody = serde_json::from_value(serde_json::json!({"error": error, "message": message})).unwrap();
        crate::hub::HubError::Refused { status, body }
    }

    /// Issue 15 point 9: a 70 KB student number got the hub's raw English
    /// ("Failed to buffer the request body…") and left no journal record.
    #[test]
    fn students_get_dutch_never_the_hubs_own_words() {
        let raw = "Failed to buffer the request body: length limit exceeded";
        for err in [refused(413, "", raw), refused(400, "invalid_field", raw), refused(500, "internal<script>", raw)] {
            let (message, _) = describe_login_error(&err);
            assert!(!message.contains("Failed") && message.contains("Roep de surveillant"), "{message}");
        }
        assert!(describe_login_error(&refused(403, "exam_ended", raw)).0.contains("beëindigd"));
        assert!(describe_login_error(&refused(500, "internal<script>", raw)).0.contains("500 internalscript"));
        assert!(describe_login_error(&crate::hub::HubError::Protocol(raw.into())).0.starts_with("Inloggen lukt niet"));
        assert!(check_login_field("studentnummer", &"1".repeat(70_000)).unwrap_err().contains("te lang"));
        assert!(check_login_field("studentnummer", "").unwrap_err().contains("Vul je studentnummer in"));
        assert!(check_login_field("toegangscode", "AB\u{7}C").is_err());
        assert_eq!(check_login_field("studentnummer", &"1".repeat(64)), Ok(()));
    }

    /// Issue 14 (review of H1): every failed answer upload was taken for
    /// "offline — your work is kept", also when the hub refused the answers
    /// for good (a conflict, changes it cannot place): the student kept
    /// working for nothing and nobody was told.
    #[test]
    fn a_refused_upload_is_not_offline() {
        assert_eq!(upload_refusal(&refused(409, "conflicting_answers", "x")), Some("conflicting_answers"));
        assert_eq!(upload_refusal(&refused(409, "unknown_base", "x")), Some("unknown_base"));
        assert_eq!(upload_refusal(&refused(422, "changes_do_not_match", "x")), Some("changes_do_not_match"));
        assert_eq!(upload_refusal(&refused(413, "", "x")), Some("refused"));
        for later in [refused(429, "rate_limited", "x"), refused(425, "not_started", "x"), refused(503, "unavailable", "x")] {
            assert_eq!(upload_refusal(&later), None, "{later}");
        }
        assert_eq!(upload_refusal(&crate::hub::HubError::Unreachable("timeout".into())), None);
    }
}
