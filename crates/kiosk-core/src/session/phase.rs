//! The phases of an exam session and the only transitions between them.
//!
//! ```text
//! Boot → Lockdown → LocationCheck → Login → Assignment → Download
//!      → WaitingForStart → InExam → Submitted
//! Locked: from every phase but Submitted, back to the phase it interrupted.
//! Boot → Resume (an unfinished session was found) → InExam / WaitingForStart.
//! ```
//!
//! [`Phase::next`] is the whole table: anything not in it is refused with a
//! [`TransitionError`], never applied.

use serde::{Deserialize, Serialize};

/// Where a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The program started.
    Boot,
    /// Lockdown steps are being applied.
    Lockdown,
    /// Checking that this PC is in an approved exam location.
    LocationCheck,
    /// Waiting for the student to log in.
    Login,
    /// Showing the assignment for the student to confirm.
    Assignment,
    /// Downloading the instrument.
    Download,
    /// Instrument ready; waiting for the start.
    WaitingForStart,
    /// The exam runs.
    InExam,
    /// Handed in; the hub's receipt is shown.
    Submitted,
    /// Locked until an invigilator unlocks.
    Locked,
    /// An unfinished session was found after a crash; an invigilator confirms.
    Resume,
}

/// What moves a session from one phase to another; journalled as the cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "trigger")]
pub enum Trigger {
    /// The startup checklist began applying lockdown.
    LockdownStarted,
    /// Every lockdown step is in place.
    LockdownApplied,
    /// The location decision approved this PC.
    LocationApproved {
        /// The matched location.
        location: String,
    },
    /// The student logged in.
    LoggedIn {
        /// Student number.
        student: String,
        /// Sitting id.
        sitting: String,
    },
    /// The student confirmed the assignment.
    AssignmentConfirmed,
    /// The instrument is downloaded and verified.
    DownloadVerified,
    /// The exam started (the start time came, or the invigilator started the room).
    ExamStarted,
    /// The student handed in and the hub signed a receipt.
    Submitted {
        /// The receipt's short code.
        receipt: String,
    },
    /// Something requires an invigilator.
    Lock {
        /// Why, in words for the lock screen and the journal.
        reason: String,
    },
    /// An invigilator unlocked.
    Unlock {
        /// Who.
        by: String,
        /// Why.
        reason: String,
    },
    /// An unfinished session was found at boot.
    UnfinishedSessionFound,
    /// An invigilator confirmed resuming the unfinished session.
    ResumeConfirmed {
        /// Who.
        by: String,
        /// The phase to continue in (`in_exam` or `waiting_for_start`).
        into: Phase,
    },
}

/// A transition the table does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{trigger} is not possible in phase {from:?}")]
pub struct TransitionError {
    /// The phase the session was in.
    pub from: Phase,
    /// The trigger's name.
    pub trigger: String,
}

impl Trigger {
    /// The trigger's name, as in the journal.
    pub fn name(&self) -> &'static str {
        match self {
            Trigger::LockdownStarted => "lockdown_started",
            Trigger::LockdownApplied => "lockdown_applied",
            Trigger::LocationApproved { .. } => "location_approved",
            Trigger::LoggedIn { .. } => "logged_in",
            Trigger::AssignmentConfirmed => "assignment_confirmed",
            Trigger::DownloadVerified => "download_verified",
            Trigger::ExamStarted => "exam_started",
            Trigger::Submitted { .. } => "submitted",
            Trigger::Lock { .. } => "lock",
            Trigger::Unlock { .. } => "unlock",
            Trigger::UnfinishedSessionFound => "unfinished_session_found",
            Trigger::ResumeConfirmed { .. } => "resume_confirmed",
        }
    }
}

impl Phase {
    /// The phase `trigger` leads to from `self`. `before_lock` is the phase a
    /// lock interrupted (needed only to leave [`Phase::Locked`]).
    pub fn next(self, trigger: &Trigger, before_lock: Option<Phase>) -> Result<Phase, TransitionError> {
        use Phase::*;
        let to = match (self, trigger) {
            (Boot, Trigger::LockdownStarted) => Lockdown,
            (Boot, Trigger::UnfinishedSessionFound) => Resume,
            (Lockdown, Trigger::LockdownApplied) => LocationCheck,
            (LocationCheck, Trigger::LocationApproved { .. }) => Login,
            (Login, Trigger::LoggedIn { .. }) => Assignment,
            (Assignment, Trigger::AssignmentConfirmed) => Download,
            (Download, Trigger::DownloadVerified) => WaitingForStart,
            (WaitingForStart, Trigger::ExamStarted) => InExam,
            (InExam, Trigger::Submitted { .. }) => Submitted,
            (Resume, Trigger::ResumeConfirmed { into: into @ (InExam | WaitingForStart), .. }) => *into,
            (Locked, Trigger::Lock { .. }) => Locked,
            (Submitted, Trigger::Lock { .. }) => return Err(self.refuse(trigger)),
            (_, Trigger::Lock { .. }) => Locked,
            (Locked, Trigger::Unlock { .. }) => before_lock.filter(|p| *p != Locked).ok_or_else(|| self.refuse(trigger))?,
            _ => return Err(self.refuse(trigger)),
        };
        Ok(to)
    }

    fn refuse(self, trigger: &Trigger) -> TransitionError {
        TransitionError { from: self, trigger: trigger.name().to_owned() }
    }

    /// True once the student may be working on answers (time runs).
    pub fn is_exam_running(self) -> bool {
        self == Phase::InExam
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [Phase; 11] = [
        Phase::Boot,
        Phase::Lockdown,
        Phase::LocationCheck,
        Phase::Login,
        Phase::Assignment,
        Phase::Download,
        Phase::WaitingForStart,
        Phase::InExam,
        Phase::Submitted,
        Phase::Locked,
        Phase::Resume,
    ];

    fn triggers() -> Vec<Trigger> {
        vec![
            Trigger::LockdownStarted,
            Trigger::LockdownApplied,
            Trigger::LocationApproved { location: "B2.14".into() },
            Trigger::LoggedIn { student: "1".into(), sitting: "s".into() },
            Trigger::AssignmentConfirmed,
            Trigger::DownloadVerified,
            Trigger::ExamStarted,
            Trigger::Submitted { receipt: "R".into() },
            Trigger::Lock { reason: "x".into() },
            Trigger::Unlock { by: "inv".into(), reason: "ok".into() },
            Trigger::UnfinishedSessionFound,
            Trigger::ResumeConfirmed { by: "inv".into(), into: Phase::InExam },
            Trigger::ResumeConfirmed { by: "inv".into(), into: Phase::Submitted },
        ]
    }

    #[test]
    fn the_happy_path() {
        let mut phase = Phase::Boot;
        for trigger in [
            Trigger::LockdownStarted,
            Trigger::LockdownApplied,
            Trigger::LocationApproved { location: "B2.14".into() },
            Trigger::LoggedIn { student: "1".into(), sitting: "s".into() },
            Trigger::AssignmentConfirmed,
            Trigger::DownloadVerified,
            Trigger::ExamStarted,
            Trigger::Submitted { receipt: "R".into() },
        ] {
            phase = phase.next(&trigger, None).unwrap();
        }
        assert_eq!(phase, Phase::Submitted);
    }

    #[test]
    fn lock_from_everywhere_but_submitted_and_back() {
        for phase in ALL {
            let locked = phase.next(&Trigger::Lock { reason: "r".into() }, None);
            if phase == Phase::Submitted {
                assert!(locked.is_err());
                continue;
            }
            assert_eq!(locked.unwrap(), Phase::Locked);
            if phase != Phase::Locked {
                let back = Phase::Locked.next(&Trigger::Unlock { by: "i".into(), reason: "r".into() }, Some(phase));
                assert_eq!(back.unwrap(), phase);
            }
        }
        assert!(Phase::Locked.next(&Trigger::Unlock { by: "i".into(), reason: "r".into() }, None).is_err());
    }

    #[test]
    fn resume_only_into_a_running_phase() {
        let bad = Trigger::ResumeConfirmed { by: "i".into(), into: Phase::Submitted };
        assert!(Phase::Resume.next(&bad, None).is_err());
    }

    proptest! {
        /// From any phase, a random sequence of triggers never reaches
        /// Submitted without passing InExam, never leaves Submitted, and
        /// every refused trigger leaves the phase unchanged.
        #[test]
        fn random_walks_keep_the_invariants(start in 0usize..11, picks in proptest::collection::vec(0usize..13, 0..60)) {
            let all = triggers();
            let mut phase = ALL[start];
            let mut before_lock = None;
            let mut was_in_exam = phase == Phase::InExam;
            for pick in picks {
                let trigger = &all[pick];
                match phase.next(trigger, before_lock) {
                    Ok(next) => {
                        prop_assert!(phase != Phase::Submitted, "left Submitted via {:?}", trigger);
                        if next == Phase::Submitted { prop_assert!(was_in_exam || phase == Phase::InExam); }
                        if next == Phase::Locked && phase != Phase::Locked { before_lock = Some(phase); }
                        if phase == Phase::Locked && next != Phase::Locked { before_lock = None; }
                        phase = next;
                        was_in_exam |= phase == Phase::InExam;
                    }
                    Err(e) => prop_assert_eq!(e.from, phase),
                }
            }
        }
    }
}
