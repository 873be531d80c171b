//! The hub's journal of actions (`console_actions`): what invigilators did
//! in the console and the exam office did on the command line — who, when,
//! where, why — written in the same transaction as the action's effect and
//! read back by the proces-verbaal. The console, the CLI (the `admin` module)
//! and the reports share this vocabulary; it depends on none of them.

use crate::db::WriteTx;
use serde::{Deserialize, Serialize};

/// Longest reason or remark text.
pub const MAX_REASON_LEN: usize = 500;

/// What an invigilator does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Start the sitting for everyone now ("gezamenlijke start").
    Start,
    /// Pause every seat of the sitting (time stops).
    PauseAll,
    /// Resume every paused seat of the sitting.
    ResumeAll,
    /// End the sitting for everyone.
    EndAll,
    /// Unlock one student's PC.
    Unlock,
    /// Lock one student's PC.
    Lock,
    /// Give one student extra time.
    AddTime,
    /// Pause one student (time stops).
    Pause,
    /// Resume one paused student.
    Resume,
    /// End one student's exam.
    End,
    /// Authorise moving one student to another PC.
    Move,
    /// Clear one student's login lock-out.
    ResetLockout,
    /// Issue a new access code for one student (the old one stops working).
    ReprintCode,
    /// Reopen one student's ended exam (with a reason): the hub lets the
    /// student log in and take the content key again.
    Reopen,
}

impl Action {
    const ALL: [Action; 14] = [
        Action::Start,
        Action::PauseAll,
        Action::ResumeAll,
        Action::EndAll,
        Action::Unlock,
        Action::Lock,
        Action::AddTime,
        Action::Pause,
        Action::Resume,
        Action::End,
        Action::Move,
        Action::ResetLockout,
        Action::ReprintCode,
        Action::Reopen,
    ];

    /// The action a [`name`](Self::name) in the hub's journal stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The action's name in the hub's journal.
    pub fn name(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::PauseAll => "pause_all",
            Action::ResumeAll => "resume_all",
            Action::EndAll => "end_all",
            Action::Unlock => "unlock",
            Action::Lock => "lock",
            Action::AddTime => "add_time",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::End => "end",
            Action::Move => "move",
            Action::ResetLockout => "reset_lockout",
            Action::ReprintCode => "reprint_code",
            Action::Reopen => "reopen",
        }
    }

    /// Whether it acts on the whole sitting rather than one seat.
    pub fn is_room_wide(self) -> bool {
        matches!(self, Action::Start | Action::PauseAll | Action::ResumeAll | Action::EndAll)
    }

    /// Starting and resuming need no reason; everything else does.
    pub fn needs_reason(self) -> bool {
        !matches!(self, Action::Start | Action::Resume | Action::ResumeAll)
    }
}

/// One line of the journal of actions.
pub use crate::store::audit::Entry;

/// How many PCs an action reached, in Dutch as the proces-verbaal prints it
/// (a room-wide action's detail): "geen pc's", "1 pc", "3 pc's".
pub fn pc_count(n: usize) -> String {
    match n {
        0 => "geen pc's".to_owned(),
        1 => "1 pc".to_owned(),
        n => format!("{n} pc's"),
    }
}

/// Writes `entry` in the transaction of the action's effect.
pub async fn record(tx: &mut WriteTx, entry: &Entry<'_>) -> Result<(), sqlx::Error> {
    crate::store::audit::insert(&mut **tx, &crate::random_id(), entry).await
}
