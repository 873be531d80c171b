//! Notices: something the student tried or the PC did that was refused or
//! needs attention, without locking the exam. The UI shows each in plain
//! words (its text is in `ui/i18n.js` under `notice.<kind>`); the journal
//! holds the event.

use crate::events::{kinds, Details, KioskEvent};
use serde::Serialize;

/// What the kiosk wants the student (and the invigilator walking by) to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// The window manager or Alt+F4 asked to close the window; refused until hand-in.
    CloseRefused,
    /// The kiosk was started a second time; the second copy was refused.
    SecondInstanceRefused,
    /// An answer could not be written (disk full or failing); it stays on
    /// screen and is retried; nothing was reported as saved.
    StorageFailing,
    /// The window lost focus (reported only: demo mode, or the policy does not lock on it).
    FocusLost,
}

impl Notice {
    /// The journal event kind for this notice.
    pub fn journal_kind(self) -> &'static str {
        match self {
            Notice::CloseRefused => kinds::KIOSK_CLOSE_REFUSED,
            Notice::SecondInstanceRefused => kinds::KIOSK_SECOND_INSTANCE_REFUSED,
            Notice::StorageFailing => kinds::ANSWERS_SAVE_FAILED,
            Notice::FocusLost => kinds::KIOSK_FOCUS_LOST,
        }
    }

    /// The journal event for this notice, with `details` as its payload
    /// (read as the kind's payload; fields it does not have are left out).
    pub fn journal_event(self, details: Details) -> KioskEvent {
        fn read<T: serde::de::DeserializeOwned + Default>(d: Details) -> T {
            serde_json::from_value(serde_json::Value::Object(d)).unwrap_or_default()
        }
        match self {
            Notice::CloseRefused => KioskEvent::KioskCloseRefused(details),
            Notice::SecondInstanceRefused => KioskEvent::KioskSecondInstanceRefused(details),
            Notice::StorageFailing => KioskEvent::AnswersSaveFailed(read(details)),
            Notice::FocusLost => KioskEvent::KioskFocusLost(read(details)),
        }
    }
}
