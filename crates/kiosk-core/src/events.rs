//! The kiosk's journal events: the typed vocabulary of
//! [`exam_protocol::events`] turned into [`exam_journal::Event`]s. The
//! kiosk writes its journal only through [`KioskEvent`] (no kind strings of
//! its own); this is the one place that joins the two crates (exam-protocol
//! does not depend on exam-journal, nor the other way round).

pub use exam_protocol::events::{self as vocabulary, details, kinds, Details, KioskEvent};
use exam_journal::{Event, JournalError};

/// The journal event for `event`; an oversized payload is an error
/// (the session's own records, which must be written whole).
pub fn journal_event(event: &KioskEvent) -> Result<Event, JournalError> {
    Event::new(event.kind(), &event.payload())
}

/// The journal event for `event`; a payload too large for one record is
/// summarised ([`Event::new_or_summary`]), never dropped.
pub fn journal_event_or_summary(event: &KioskEvent) -> Result<Event, JournalError> {
    Event::new_or_summary(event.kind(), &event.payload())
}
