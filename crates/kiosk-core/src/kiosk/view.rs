//! What the UI renders: [`KioskView`] and its parts, built from the kiosk's state.

use super::*;
use crate::session::SessionView;
use serde::Serialize;
use std::collections::BTreeMap;

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
    /// The running instrument (the UI's render model), once started.
    pub instrument: Option<Arc<RunningInstrument>>,
    /// The answers so far.
    pub answers: BTreeMap<String, serde_json::Value>,
    /// The student's scratchpads and highlights so far (item → kind →
    /// value; issue 19), never scored.
    pub notes: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    /// The hub's receipt code after hand-in.
    pub receipt: Option<String>,
    /// Something refused or failing that does not lock the exam (see [`Notice`]).
    pub notice: Option<Notice>,
    /// The exam tools the student has, per item (issue 19).
    pub tools: super::ToolsView,
}

/// Download progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DownloadView {
    /// Bytes done.
    pub done_bytes: u64,
    /// Bytes in all.
    pub total_bytes: u64,
}

impl Kiosk {
    /// The current view.
    pub async fn view(&self) -> KioskView {
        self.inner.lock().await.view()
    }

    pub(super) fn changed(&self, inner: &Inner) -> KioskView {
        let view = inner.view();
        (self.listener)(&view);
        view
    }
}

impl Inner {
    pub(super) fn view(&self) -> KioskView {
        let session: Option<SessionView> = self.ready().map(|r| r.session.view());
        let decision = match &self.started {
            Startup::Ready(ready) => Some(&ready.location),
            Startup::Failed { location, .. } => location.as_ref(),
            Startup::ShutDown => None,
        };
        let location = decision.map(|d| match d {
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
        let (download, download_error) = self.stage.download();
        let status = self.stage.answers().map(|a| a.status());
        let pending = status.as_ref().map_or(0, |st| st.saved_seq.saturating_sub(st.acked_seq));
        let snapshot = self.stage.answers().map(|a| a.snapshot());
        KioskView {
            // A failed startup leaves nothing usable: the UI shows the failure, not a phase.
            phase: session.as_ref().map_or(Phase::Boot, |s| s.phase),
            demo: self.demo,
            test_automation: match &self.started {
                Startup::Ready(ready) => ready.policy.environment.test_automation,
                Startup::Failed { test_automation, .. } => *test_automation,
                Startup::ShutDown => false,
            },
            startup: self.startup.clone(),
            startup_failure: match &self.started {
                Startup::Failed { failure, .. } => Some(failure.clone()),
                Startup::Ready(_) | Startup::ShutDown => None,
            },
            location,
            needs_room_code: self.room_code_pending,
            login_error: self.login_error.clone(),
            // After a crash the assignment comes back only with the resume;
            // until then the saved session says who it is (for the invigilator).
            student: self.stage.assignment().map(|a| StudentView { number: a.student_number.clone(), name: a.student_name.clone() }).or_else(|| {
                let (number, name) = self.ready()?.session.saved_student()?;
                Some(StudentView { number, name: name.unwrap_or_default() })
            }),
            assignment: self.stage.assignment().map(|a| AssignmentView {
                exam: a.exam.clone(),
                room: a.room.clone(),
                duration_minutes: a.duration_minutes,
                total_minutes: a.total_minutes,
                extra_minutes: a.total_minutes.saturating_sub(a.duration_minutes),
                start_ms: a.start_ms,
                accommodations: a.accommodations.clone(),
            }),
            download,
            download_error,
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
            instrument: self.stage.instrument().cloned(),
            notes: snapshot.as_ref().map(|s| s.notes.clone()).unwrap_or_default(),
            answers: snapshot
                .map(|s| s.responses.into_iter().map(|(item, rs)| (item, serde_json::to_value(rs).unwrap_or_default())).collect())
                .unwrap_or_default(),
            receipt: session.and_then(|s| s.receipt),
            notice: self.notice,
            tools: self.tools_view(),
        }
    }
}
