//! The phases of an exam session and the only transitions between them.
//!
//! ```text
//! Boot → Lockdown → LocationCheck → Login → Assignment → Download
//!      → WaitingForStart → InExam → HandingIn → Submitted
//! InExam → Submitted: a hand-in whose receipt was in hand already (a
//!      remote end on a locked seat: the lock goes only with the receipt).
//! Locked: from every phase but Submitted, back to the phase it interrupted.
//! Boot → Resume (an unfinished session was found) → InExam / HandingIn /
//!      WaitingForStart (or Login, while the exam had not begun).
//! ```
//!
//! *HandingIn* is a hand-in on its way: the answers are final on this PC
//! (no more saves), the hub's receipt has not come. A failed upload stays
//! here and is tried again; a hand-in is never taken back to *InExam*.
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
    /// Handed in on this PC (the answers are final); waiting for the hub's
    /// receipt, the upload tried again until it comes.
    HandingIn,
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
    /// The answers were handed in on this PC (final); the upload to the hub
    /// follows.
    HandIn {
        /// Who: `student`, the invigilator's end (`NAME (op afstand)`), or
        /// `earlier` (the answer store was already handed in, e.g. before a
        /// crash or during a lock).
        by: String,
    },
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
        /// The phase to continue in (`in_exam`, `handing_in` or
        /// `waiting_for_start`; or
        /// `login` when the student's session before the crash is gone at
        /// the hub and the exam had not begun — the session refuses it once
        /// the clock ran).
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
            Trigger::HandIn { .. } => "hand_in",
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
            (InExam, Trigger::HandIn { .. }) => HandingIn,
            (HandingIn, Trigger::Submitted { .. }) => Submitted,
            // The receipt already in hand (a remote end on a locked seat).
            (InExam, Trigger::Submitted { .. }) => Submitted,
            (Resume, Trigger::ResumeConfirmed { into: into @ (InExam | HandingIn | WaitingForStart | Login), .. }) => *into,
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

    /// True from the start until the hub's receipt: the exam or its
    /// hand-in (the guard, focus and window rules of the exam apply).
    pub fn is_exam_underway(self) -> bool {
        matches!(self, Phase::InExam | Phase::HandingIn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [Phase; 12] = [
        Phase::Boot,
        Phase::Lockdown,
        Phase::LocationCheck,
        Phase::Login,
        Phase::Assignment,
        Phase::Download,
        Phase::WaitingForStart,
        Phase::InExam,
        Phase::HandingIn,
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
            Trigger::HandIn { by: "student".into() },
            Trigger::ResumeConfirmed { by: "inv".into(), into: Phase::HandingIn },
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
            Trigger::HandIn { by: "student".into() },
            Trigger::Submitted { receipt: "R".into() },
        ] {
            phase = phase.next(&trigger, None).unwrap();
        }
        assert_eq!(phase, Phase::Submitted);
    }

    /// Issue 16 point 2: a hand-in has its own phase. It ends only with the
    /// receipt (or a lock, which comes back to it); it never goes back to
    /// the exam; a crash during it resumes into it.
    #[test]
    fn handing_in_ends_only_with_the_receipt() {
        let hand_in = Trigger::HandIn { by: "student".into() };
        assert_eq!(Phase::InExam.next(&hand_in, None).unwrap(), Phase::HandingIn);
        for phase in ALL.into_iter().filter(|p| *p != Phase::InExam) {
            assert!(phase.next(&hand_in, None).is_err(), "hand_in from {phase:?}");
        }
        let receipt = Trigger::Submitted { receipt: "R".into() };
        assert_eq!(Phase::HandingIn.next(&receipt, None).unwrap(), Phase::Submitted);
        let locked = Phase::HandingIn.next(&Trigger::Lock { reason: "r".into() }, None).unwrap();
        assert_eq!(locked, Phase::Locked);
        let unlock = Trigger::Unlock { by: "i".into(), reason: "r".into() };
        assert_eq!(locked.next(&unlock, Some(Phase::HandingIn)).unwrap(), Phase::HandingIn);
        for trigger in triggers() {
            assert_ne!(Phase::HandingIn.next(&trigger, None).ok(), Some(Phase::InExam), "{trigger:?}");
        }
        let resume = Trigger::ResumeConfirmed { by: "i".into(), into: Phase::HandingIn };
        assert_eq!(Phase::Resume.next(&resume, None).unwrap(), Phase::HandingIn);
        assert!(Phase::Locked.next(&receipt, Some(Phase::HandingIn)).is_err(), "the receipt does not end a lock");
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
        /// Submitted without passing InExam, nor from any phase but InExam
        /// and HandingIn; enters HandingIn only from InExam, its lock or a
        /// resume; never goes from a hand-in back to InExam; never leaves
        /// Submitted; and every refused trigger leaves the phase unchanged.
        #[test]
        fn random_walks_keep_the_invariants(start in 0usize..12, picks in proptest::collection::vec(0usize..15, 0..60)) {
            let all = triggers();
            let mut phase = ALL[start];
            let mut before_lock = None;
            let mut was_in_exam = phase == Phase::InExam;
            let mut handed_in = phase == Phase::HandingIn;
            for pick in picks {
                let trigger = &all[pick];
                match phase.next(trigger, before_lock) {
                    Ok(next) => {
                        prop_assert!(phase != Phase::Submitted, "left Submitted via {:?}", trigger);
                        if next == Phase::Submitted {
                            prop_assert!(was_in_exam || handed_in || phase == Phase::InExam);
                            prop_assert!(matches!(phase, Phase::InExam | Phase::HandingIn), "submitted from {:?}", phase);
                        }
                        if next == Phase::HandingIn && phase != Phase::HandingIn {
                            prop_assert!(matches!(phase, Phase::InExam | Phase::Locked | Phase::Resume), "handing in from {:?}", phase);
                        }
                        if next == Phase::InExam { prop_assert!(!handed_in, "back in the exam after the hand-in via {:?}", trigger); }
                        handed_in |= next == Phase::HandingIn;
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
