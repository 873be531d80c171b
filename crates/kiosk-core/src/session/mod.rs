//! The exam session: its phases, clock, lock and unlock, journalled and
//! saved so that a crash can be resumed.
//!
//! The session is the one place that decides what happens; the UI renders
//! [`SessionView`] and sends the student's and invigilator's actions here.

pub mod checklist;
pub mod clock;
pub mod notice;
pub mod phase;
pub mod skew;
pub mod unlock;

pub use clock::{now_unix_ms, ClockState, ExamClock, PauseReason};
pub use notice::Notice;
pub use phase::{Phase, TransitionError, Trigger};

use crate::events::{journal_event, vocabulary as ev, KioskEvent};
use exam_journal::{Journal, JournalError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// File in the state directory that holds the unfinished session.
pub const SESSION_FILE: &str = "session.json";

/// How often the running exam clock is saved (with the shell polling every
/// 250 ms: at most every 1.75 s), so a crash gives back at most that.
pub const CLOCK_SAVE_EVERY: Duration = Duration::from_millis(1500);

/// What a lock does to the exam time (from the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockTime {
    /// Time stops while locked (a technical failure is not the student's loss).
    Pauses,
    /// Time runs on while locked.
    RunsOn,
}

/// A phase as the journal names it (snake_case).
fn phase_name(phase: Phase) -> String {
    serde_json::to_value(phase).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The transition is not allowed from this phase.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The journal refused the record; the transition did not happen.
    #[error("the journal could not record the transition: {0}")]
    Journal(#[from] JournalError),
    /// The session file could not be written.
    #[error("saving the session to {path}: {source}")]
    Save {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// What a resumed session needs to continue; saved at every transition and,
/// while the exam clock runs, every [`CLOCK_SAVE_EVERY`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedSession {
    /// The phase at the last save (never `Locked` or `Resume`: the phase the
    /// lock or the crash interrupted, so a crash on the lock or resume
    /// screen comes back to the same resume).
    pub phase: Phase,
    /// The approved location.
    pub location: Option<String>,
    /// Student number.
    pub student: Option<String>,
    /// The student's name as the hub gave it at login, so the Resume
    /// screen tells the invigilator who is confirmed (before the hub is
    /// asked again).
    #[serde(default)]
    pub student_name: Option<String>,
    /// Sitting id.
    pub sitting: Option<String>,
    /// The clock, once the exam started.
    pub clock: Option<ClockState>,
    /// The page of the exam the student was on, so a resume comes back to it.
    #[serde(default)]
    pub page: Option<u32>,
}

/// What the UI shows: the phase and what belongs to it. Never secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    /// The current phase.
    pub phase: Phase,
    /// The phase a lock interrupted.
    pub before_lock: Option<Phase>,
    /// Why the session is locked, in plain words.
    pub lock_reason: Option<String>,
    /// The approved location.
    pub location: Option<String>,
    /// Student number.
    pub student: Option<String>,
    /// Sitting id.
    pub sitting: Option<String>,
    /// Seconds left, once the exam started.
    pub remaining_secs: Option<u64>,
    /// The exam page the student was last on (kept across a crash).
    pub page: Option<u32>,
    /// Why the clock stands still.
    pub clock_paused: Option<PauseReason>,
    /// The hub's receipt code after hand-in.
    pub receipt: Option<String>,
}

/// One exam session.
pub struct Session {
    phase: Phase,
    before_lock: Option<Phase>,
    lock_reason: Option<String>,
    saved: SavedSession,
    clock: Option<ExamClock>,
    lock_time: LockTime,
    receipt: Option<String>,
    journal: Arc<Mutex<Journal>>,
    state_dir: PathBuf,
    /// When the session was last saved (tried), for [`Session::save_clock_if_due`].
    last_save: Option<Instant>,
    /// Saving the running clock failed, and that was reported.
    clock_save_failing: bool,
}

impl Session {
    /// Starts at `Boot`. When `state_dir` holds an unfinished session (the
    /// kiosk crashed or lost power during an exam) the session goes to
    /// `Resume` and waits for an invigilator to confirm.
    pub fn boot(journal: Arc<Mutex<Journal>>, state_dir: &Path, lock_time: LockTime) -> Result<Self, SessionError> {
        let mut session = Self {
            phase: Phase::Boot,
            before_lock: None,
            lock_reason: None,
            saved: SavedSession { phase: Phase::Boot, location: None, student: None, student_name: None, sitting: None, clock: None, page: None },
            clock: None,
            lock_time,
            receipt: None,
            journal,
            state_dir: state_dir.to_owned(),
            last_save: None,
            clock_save_failing: false,
        };
        if let Some(mut saved) = load_saved(state_dir)? {
            // `Resume` is in files from kiosks that saved the resume screen
            // itself (and with it no clock): continue from the start again.
            if saved.phase == Phase::Resume {
                saved.phase = if saved.clock.is_some() { Phase::InExam } else { Phase::WaitingForStart };
            }
            // Any phase from the login on: the student's session exists at
            // the hub (the token is kept), so a crash never sends them back
            // to a login that would start afresh without the invigilator.
            // A crash during a hand-in resumes like one in the exam (into
            // the hand-in: the answer store knows it was handed in).
            if matches!(saved.phase, Phase::Assignment | Phase::Download | Phase::WaitingForStart | Phase::InExam | Phase::HandingIn) {
                session.clock = saved.clock.map(ExamClock::restore);
                session.saved = saved;
                session.apply(Trigger::UnfinishedSessionFound)?;
            }
        }
        Ok(session)
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Applies `trigger`: checks the transition, journals it (durably)
    /// *before* adopting it, updates the clock and saves the session.
    pub fn apply(&mut self, trigger: Trigger) -> Result<Phase, SessionError> {
        let to = self.phase.next(&trigger, self.before_lock)?;
        // Back to the login after a crash only while the exam has not begun:
        // a fresh login must never give a student whose clock ran a new one.
        if matches!(trigger, Trigger::ResumeConfirmed { into: Phase::Login, .. }) && self.clock.is_some() {
            return Err(TransitionError { from: self.phase, trigger: "resume_confirmed (login, clock ran)".into() }.into());
        }
        let record = ev::Transition { cause: serde_json::to_value(&trigger).unwrap_or_default(), from: phase_name(self.phase), to: phase_name(to) };
        let event = journal_event(&KioskEvent::SessionTransition(record))?;
        {
            let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
            journal.append(&event)?;
            if to == Phase::Submitted {
                // The session ends: a checkpoint covers everything up to the
                // hand-in. Best effort: the hand-in is recorded already, and
                // the closing checkpoint at shutdown tries again.
                let _ = journal.checkpoint();
            }
        }
        let from = self.phase;
        match &trigger {
            Trigger::LocationApproved { location } => self.saved.location = Some(location.clone()),
            Trigger::ResumeConfirmed { into: Phase::Login, .. } => {
                self.saved.student = None;
                self.saved.student_name = None;
                self.saved.sitting = None;
                self.saved.page = None;
            }
            Trigger::LoggedIn { student, sitting } => {
                self.saved.student = Some(student.clone());
                self.saved.student_name = None;
                self.saved.sitting = Some(sitting.clone());
                self.saved.page = None;
            }
            Trigger::Lock { reason } => {
                if from != Phase::Locked {
                    self.before_lock = Some(from);
                }
                self.lock_reason = Some(reason.clone());
                if self.lock_time == LockTime::Pauses {
                    if let Some(clock) = &mut self.clock {
                        clock.pause(PauseReason::Locked);
                    }
                }
            }
            Trigger::Unlock { .. } => {
                self.before_lock = None;
                self.lock_reason = None;
                // Unlocking ends a pause too (the invigilator's, or the lock's).
                if to == Phase::InExam {
                    if let Some(clock) = self.clock.as_mut().filter(|c| c.paused().is_some()) {
                        clock.start();
                    }
                }
            }
            Trigger::ExamStarted | Trigger::ResumeConfirmed { into: Phase::InExam, .. } => {
                if let Some(clock) = &mut self.clock {
                    clock.start();
                }
            }
            // Handed in: the student's time is over (kept for a resume).
            Trigger::HandIn { .. } => {
                if let Some(clock) = &mut self.clock {
                    clock.pause(PauseReason::Invigilator);
                }
            }
            Trigger::Submitted { receipt } => {
                self.receipt = Some(receipt.clone());
                if let Some(clock) = &mut self.clock {
                    clock.pause(PauseReason::Invigilator);
                }
            }
            _ => {}
        }
        self.phase = to;
        if !matches!(to, Phase::Locked | Phase::Resume) {
            self.saved.phase = to;
        }
        self.save()?;
        Ok(to)
    }

    /// Keeps the logged-in student's name with the session (shown on the
    /// Resume screen after a crash); saved with the next save.
    pub fn remember_student_name(&mut self, name: &str) -> Result<(), SessionError> {
        self.saved.student_name = Some(name.chars().take(200).collect());
        self.save()
    }

    /// The saved student (number, name if known): who a resume is for.
    pub fn saved_student(&self) -> Option<(String, Option<String>)> {
        self.saved.student.clone().map(|n| (n, self.saved.student_name.clone()))
    }

    /// Sets the exam clock (at login, from the assignment: duration + extra time).
    pub fn set_clock(&mut self, duration: Duration, extra: Duration) {
        self.clock = Some(ExamClock::new(duration, extra));
    }

    /// Sets the exam clock to `remaining` at the start, journalled as
    /// `session.clock_set` with `remaining_ms` and `source` (`hub`: the
    /// hub's time left for the student, so both end together; `assignment`:
    /// the total minutes, from a hub that does not say).
    pub fn set_clock_remaining(&mut self, remaining: Duration, source: &str) -> Result<(), SessionError> {
        let payload = ev::ClockSet { remaining_ms: remaining.as_millis() as u64, source: source.to_owned() };
        let event = journal_event(&KioskEvent::SessionClockSet(payload))?;
        self.journal.lock().unwrap_or_else(|p| p.into_inner()).append(&event)?;
        self.clock = Some(ExamClock::new(remaining, Duration::ZERO));
        Ok(())
    }

    /// How long (wall clock, ms) the restored clock has stood still since it
    /// last counted before the crash: the last save while it ran, or the
    /// pause (a lock) it was in. 0 while it runs or when unknown.
    pub fn clock_stopped_ms(&self) -> u64 {
        self.clock.as_ref().map_or(0, ExamClock::stopped_ms)
    }

    /// Saves the session when the exam clock runs and the last save is
    /// [`CLOCK_SAVE_EVERY`] ago (cheap otherwise), so a crash gives back at
    /// most that much time. True when it saved; a failure is returned once,
    /// until a save works again (tried again every [`CLOCK_SAVE_EVERY`]).
    pub fn save_clock_if_due(&mut self) -> Result<bool, SessionError> {
        let running = self.saved.phase == Phase::InExam && self.clock.as_ref().is_some_and(ExamClock::is_running);
        if !running || self.last_save.is_some_and(|at| at.elapsed() < CLOCK_SAVE_EVERY) {
            return Ok(false);
        }
        match self.save() {
            Ok(()) => {
                self.clock_save_failing = false;
                Ok(true)
            }
            Err(e) if !std::mem::replace(&mut self.clock_save_failing, true) => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// The student turned to `page` of the exam: kept (saved durably, a few
    /// ms) so a resume after a crash opens the same page. Only in the exam.
    pub fn set_page(&mut self, page: u32) -> Result<(), SessionError> {
        if self.saved.phase != Phase::InExam || self.saved.page == Some(page) {
            return Ok(());
        }
        self.saved.page = Some(page);
        self.save()
    }

    /// Adds extra time (invigilator instruction), journalled.
    pub fn add_time(&mut self, extra: Duration, reason: &str) -> Result<(), SessionError> {
        let event = journal_event(&KioskEvent::SessionTimeAdded(ev::TimeAdded { reason: reason.to_owned(), seconds: extra.as_secs() }))?;
        self.journal.lock().unwrap_or_else(|p| p.into_inner()).append(&event)?;
        if let Some(clock) = &mut self.clock {
            clock.add_time(extra);
        }
        self.save()
    }

    /// Stops the exam clock for an invigilator's pause (a technical
    /// failure: time lost to it is not the student's), journalled.
    pub fn pause_clock(&mut self, reason: &str) -> Result<(), SessionError> {
        let event = journal_event(&KioskEvent::SessionClockPaused(ev::Reason::new(reason)))?;
        self.journal.lock().unwrap_or_else(|p| p.into_inner()).append(&event)?;
        if let Some(clock) = &mut self.clock {
            clock.pause(PauseReason::Invigilator);
        }
        self.save()
    }

    /// What the UI shows.
    pub fn view(&self) -> SessionView {
        SessionView {
            phase: self.phase,
            before_lock: self.before_lock,
            lock_reason: self.lock_reason.clone(),
            location: self.saved.location.clone(),
            student: self.saved.student.clone(),
            sitting: self.saved.sitting.clone(),
            // Rounded up: the display shows 70:00 at the start, 0:00 only when time is up.
            remaining_secs: self.clock.as_ref().map(|c| c.remaining().as_millis().div_ceil(1000) as u64),
            page: self.saved.page,
            clock_paused: self.clock.as_ref().and_then(|c| c.paused()),
            receipt: self.receipt.clone(),
        }
    }

    /// Saves what a resume needs; removes it once the exam is handed in.
    pub fn save(&mut self) -> Result<(), SessionError> {
        self.last_save = Some(Instant::now());
        let path = self.state_dir.join(SESSION_FILE);
        let err = |source| SessionError::Save { path: path.clone(), source };
        if self.phase == Phase::Submitted {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(err(e)),
                _ => Ok(()),
            };
        }
        self.saved.clock = self.clock.as_ref().filter(|_| self.saved.phase.is_exam_underway()).map(ExamClock::state);
        std::fs::create_dir_all(&self.state_dir).map_err(err)?;
        let bytes = serde_json::to_vec_pretty(&self.saved).unwrap_or_default();
        exam_secure::write_private(&path, &bytes).map_err(err)
    }
}

fn load_saved(state_dir: &Path) -> Result<Option<SavedSession>, SessionError> {
    let path = state_dir.join(SESSION_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| SessionError::Save {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SessionError::Save { path, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use exam_journal::{read_records, JournalConfig, SigningKey};

    fn journal(dir: &Path, pkcs8: &[u8]) -> Arc<Mutex<Journal>> {
        let key = SigningKey::from_pkcs8(pkcs8).unwrap();
        Arc::new(Mutex::new(Journal::open(&dir.join("journal"), key, JournalConfig::default()).unwrap()))
    }

    fn to_exam(session: &mut Session) {
        for trigger in [
            Trigger::LockdownStarted,
            Trigger::LockdownApplied,
            Trigger::LocationApproved { location: "B2.14".into() },
            Trigger::LoggedIn { student: "200123".into(), sitting: "NED-2F-0900".into() },
            Trigger::AssignmentConfirmed,
            Trigger::DownloadVerified,
        ] {
            session.apply(trigger).unwrap();
        }
        session.set_clock(Duration::from_secs(3600), Duration::from_secs(600));
        session.apply(Trigger::ExamStarted).unwrap();
    }

    #[test]
    fn every_transition_is_journalled_with_its_cause_and_invalid_ones_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, pkcs8) = SigningKey::generate().unwrap();
        let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
        assert!(session.apply(Trigger::ExamStarted).is_err());
        to_exam(&mut session);
        assert_eq!(session.view().remaining_secs, Some(4200));
        session.apply(Trigger::Lock { reason: "AnyDesk could not be ended".into() }).unwrap();
        assert_eq!(session.view().clock_paused, Some(PauseReason::Locked));
        session.apply(Trigger::Unlock { by: "inv-1".into(), reason: "process gone".into() }).unwrap();
        assert_eq!(session.phase(), Phase::InExam);
        assert_eq!(session.view().clock_paused, None);
        session.apply(Trigger::Submitted { receipt: "K7Q-4MZ".into() }).unwrap();
        assert!(!tmp.path().join(SESSION_FILE).exists(), "a handed-in session leaves nothing to resume");
        drop(session);
        let records = read_records(&tmp.path().join("journal")).unwrap();
        let transitions: Vec<_> = records.iter().filter(|(_, r)| r.body.kind == crate::events::kinds::SESSION_TRANSITION).collect();
        assert_eq!(transitions.len(), 10);
        let last: serde_json::Value = serde_json::from_slice(&transitions[9].1.body.payload).unwrap();
        assert_eq!(last["cause"]["trigger"], "submitted");
        // The session's end is covered by a checkpoint right after it.
        let (_, after) = records.iter().find(|(_, r)| r.body.seq == transitions[9].1.body.seq + 1).unwrap();
        assert_eq!(after.body.record_type, exam_journal::format::RecordType::Checkpoint);
    }

    #[test]
    fn a_crash_during_the_exam_resumes_with_the_same_student_and_time() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, pkcs8) = SigningKey::generate().unwrap();
        {
            let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
            to_exam(&mut session);
            session.add_time(Duration::from_secs(300), "failure").unwrap();
            // The kiosk dies here: no clean shutdown.
        }
        let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
        assert_eq!(session.phase(), Phase::Resume);
        let view = session.view();
        assert_eq!(view.student.as_deref(), Some("200123"));
        assert!(view.remaining_secs.unwrap() >= 4499, "{view:?}");
        session.apply(Trigger::ResumeConfirmed { by: "inv-1".into(), into: Phase::InExam }).unwrap();
        assert_eq!(session.phase(), Phase::InExam);
    }

    fn saved(dir: &Path) -> SavedSession {
        serde_json::from_slice(&std::fs::read(dir.join(SESSION_FILE)).unwrap()).unwrap()
    }

    /// Issue 15 point 2: the running clock is saved every few seconds, not
    /// only at transitions, so a crash gives back at most that much time.
    #[test]
    fn the_running_clock_is_saved_so_a_crash_gives_back_at_most_two_seconds() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, pkcs8) = SigningKey::generate().unwrap();
        let live_remaining = {
            let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
            to_exam(&mut session);
            let at_start = saved(tmp.path()).clock.unwrap();
            assert!(!session.save_clock_if_due().unwrap(), "just saved by the start: not due");
            let deadline = Instant::now() + Duration::from_secs(10);
            while !session.save_clock_if_due().unwrap() {
                assert!(Instant::now() < deadline, "the running clock was never saved again");
                std::thread::sleep(Duration::from_millis(50));
            }
            let mid_run = saved(tmp.path()).clock.unwrap();
            assert!(mid_run.used_ms.unwrap() >= at_start.used_ms.unwrap() + CLOCK_SAVE_EVERY.as_millis() as u64, "{mid_run:?}");
            assert!(mid_run.saved_at_ms > at_start.saved_at_ms);
            session.clock.as_ref().unwrap().remaining()
            // The kiosk dies here: no clean shutdown.
        };
        let session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
        assert_eq!(session.phase(), Phase::Resume);
        let restored = session.clock.as_ref().unwrap().remaining();
        assert!(restored <= Duration::from_secs(4200) - CLOCK_SAVE_EVERY, "the time counted before the save stays used: {restored:?}");
        assert!(restored >= live_remaining && restored <= live_remaining + Duration::from_secs(2), "{restored:?} vs {live_remaining:?}");
        assert!(session.clock_stopped_ms() < 2_000, "{}", session.clock_stopped_ms());
    }

    /// The Resume screen names the student for the invigilator (before, it
    /// showed no one: the name came only with the hub's assignment, which
    /// is fetched at the resume), also after a second crash.
    #[test]
    fn the_resumed_session_knows_whose_it_is() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, pkcs8) = SigningKey::generate().unwrap();
        {
            let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
            to_exam(&mut session);
            session.remember_student_name("Ömer Yılmaz").unwrap();
        }
        for _ in 0..2 {
            let session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
            assert_eq!(session.phase(), Phase::Resume);
            let (number, name) = session.saved_student().expect("the student is known");
            assert!(!number.is_empty());
            assert_eq!(name.as_deref(), Some("Ömer Yılmaz"));
        }
    }

    /// Issue 15: a crash before the exam began (the assignment shown, the
    /// download running) resumes too — before, the next start showed the
    /// login, where the same code started afresh without the invigilator.
    #[test]
    fn a_crash_after_the_login_before_the_start_resumes() {
        for phase in [Phase::Assignment, Phase::Download] {
            let tmp = tempfile::tempdir().unwrap();
            let (_, pkcs8) = SigningKey::generate().unwrap();
            {
                let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
                for trigger in [
                    Trigger::LockdownStarted,
                    Trigger::LockdownApplied,
                    Trigger::LocationApproved { location: "B1.12".into() },
                    Trigger::LoggedIn { student: "1001".into(), sitting: "S1".into() },
                ] {
                    session.apply(trigger).unwrap();
                }
                if phase == Phase::Download {
                    session.apply(Trigger::AssignmentConfirmed).unwrap();
                }
                assert_eq!(session.phase(), phase);
            }
            let session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
            assert_eq!(session.phase(), Phase::Resume, "a crash in {phase:?}");
            assert_eq!(session.view().student.as_deref(), Some("1001"));
        }
    }

    /// Issue 15 point 1: a crash on the resume screen comes back to the
    /// resume screen, with the same student and clock, and the time the
    /// clock stood still still counts from before the first crash.
    #[test]
    fn a_second_crash_on_the_resume_screen_still_resumes() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, pkcs8) = SigningKey::generate().unwrap();
        {
            let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
            to_exam(&mut session);
        }
        // The first crash happened a minute ago.
        let mut file = saved(tmp.path());
        file.clock.as_mut().unwrap().saved_at_ms -= 60_000;
        let clock = file.clock.unwrap();
        std::fs::write(tmp.path().join(SESSION_FILE), serde_json::to_vec(&file).unwrap()).unwrap();
        let first = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
        assert_eq!(first.phase(), Phase::Resume);
        drop(first); // crashes again on the resume screen
        let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
        assert_eq!(session.phase(), Phase::Resume, "the second boot must resume too");
        let view = session.view();
        assert_eq!(view.student.as_deref(), Some("200123"));
        assert_eq!(view.sitting.as_deref(), Some("NED-2F-0900"));
        assert_eq!(session.saved.clock, Some(clock), "the same clock, still from before the first crash");
        assert!(session.clock_stopped_ms() >= 60_000, "{}", session.clock_stopped_ms());
        session.apply(Trigger::ResumeConfirmed { by: "inv-1".into(), into: Phase::InExam }).unwrap();
        assert_eq!(session.phase(), Phase::InExam);
        assert_eq!(session.clock_stopped_ms(), 0, "it runs again");
    }

    /// Issue 15 point 3: after a resume the student was back on the first
    /// page, not the one they were on.
    #[test]
    fn a_resume_opens_the_page_the_student_was_on() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, pkcs8) = SigningKey::generate().unwrap();
        {
            let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
            session.set_page(3).unwrap(); // not in the exam yet: nothing kept
            assert_eq!(session.view().page, None);
            to_exam(&mut session);
            session.set_page(4).unwrap();
            assert_eq!(session.view().page, Some(4));
        }
        let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
        assert_eq!((session.phase(), session.view().page), (Phase::Resume, Some(4)));
        session.apply(Trigger::ResumeConfirmed { by: "inv-1".into(), into: Phase::InExam }).unwrap();
        assert_eq!(saved(tmp.path()).page, Some(4));
        // An older kiosk's file has no page: the first.
        let old = r#"{"phase":"in_exam","location":"B2.14","student":"200123","sitting":"NED-2F-0900","clock":null}"#;
        assert_eq!(serde_json::from_str::<SavedSession>(old).unwrap().page, None);
    }

    /// Issue 16 point 2: a crash while handing in (the upload on its way)
    /// resumes into the hand-in, with the clock kept (the exam had begun)
    /// and stopped; a lock during it comes back to it.
    #[test]
    fn a_crash_while_handing_in_resumes_into_the_hand_in() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, pkcs8) = SigningKey::generate().unwrap();
        {
            let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
            to_exam(&mut session);
            session.apply(Trigger::HandIn { by: "student".into() }).unwrap();
            assert_eq!(session.phase(), Phase::HandingIn);
            assert_eq!(session.view().clock_paused, Some(PauseReason::Invigilator), "handed in: the time stops");
            session.apply(Trigger::Lock { reason: "x".into() }).unwrap();
            session.apply(Trigger::Unlock { by: "inv-1".into(), reason: "ok".into() }).unwrap();
            assert_eq!(session.phase(), Phase::HandingIn);
            assert!(session.view().clock_paused.is_some(), "an unlock does not start the clock of a hand-in");
            // The kiosk dies here.
        }
        assert_eq!(saved(tmp.path()).phase, Phase::HandingIn);
        assert!(saved(tmp.path()).clock.is_some(), "the exam had begun");
        let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
        assert_eq!(session.phase(), Phase::Resume);
        assert!(session.view().remaining_secs.is_some());
        session.apply(Trigger::ResumeConfirmed { by: "inv-1".into(), into: Phase::HandingIn }).unwrap();
        assert_eq!(session.phase(), Phase::HandingIn);
        assert!(session.apply(Trigger::ExamStarted).is_err());
        session.apply(Trigger::Submitted { receipt: "K7Q-4MZ".into() }).unwrap();
        assert!(!tmp.path().join(SESSION_FILE).exists());
        drop(session);
        let records = read_records(&tmp.path().join("journal")).unwrap();
        let hops: Vec<(String, String)> = records
            .iter()
            .filter(|(_, r)| r.body.kind == crate::events::kinds::SESSION_TRANSITION)
            .map(|(_, r)| serde_json::from_slice::<serde_json::Value>(&r.body.payload).unwrap())
            .map(|t| (t["from"].as_str().unwrap().to_owned(), t["to"].as_str().unwrap().to_owned()))
            .collect();
        assert!(hops.contains(&("in_exam".into(), "handing_in".into())), "{hops:?}");
        assert_eq!(hops.last(), Some(&("handing_in".into(), "submitted".into())), "{hops:?}");
    }

    #[test]
    fn a_file_saved_on_the_resume_screen_by_an_older_kiosk_still_resumes() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, pkcs8) = SigningKey::generate().unwrap();
        let old = r#"{"phase":"resume","location":"B2.14","student":"200123","sitting":"NED-2F-0900","clock":null}"#;
        std::fs::write(tmp.path().join(SESSION_FILE), old).unwrap();
        let session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
        assert_eq!(session.phase(), Phase::Resume);
        assert_eq!(session.view().student.as_deref(), Some("200123"));
        assert_eq!(saved(tmp.path()).phase, Phase::WaitingForStart, "no clock: the start gives it again");
    }

    #[test]
    fn the_clock_set_at_the_start_is_journalled_with_its_source() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, pkcs8) = SigningKey::generate().unwrap();
        let mut session = Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).unwrap();
        session.set_clock_remaining(Duration::from_millis(3_000_500), "hub").unwrap();
        assert_eq!(session.view().remaining_secs, Some(3001));
        drop(session);
        let records = read_records(&tmp.path().join("journal")).unwrap();
        let (_, set) = records.iter().find(|(_, r)| r.body.kind == crate::events::kinds::SESSION_CLOCK_SET).unwrap();
        let payload: serde_json::Value = serde_json::from_slice(&set.body.payload).unwrap();
        assert_eq!(payload, serde_json::json!({"remaining_ms": 3_000_500, "source": "hub"}));
    }

    #[test]
    fn a_damaged_session_file_is_an_error_not_a_fresh_start() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(SESSION_FILE), b"{not json").unwrap();
        let (_, pkcs8) = SigningKey::generate().unwrap();
        assert!(Session::boot(journal(tmp.path(), &pkcs8), tmp.path(), LockTime::Pauses).is_err());
        assert_eq!(std::fs::read(tmp.path().join(SESSION_FILE)).unwrap(), b"{not json", "kept for the invigilator");
    }
}
