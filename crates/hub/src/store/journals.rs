//! Statements on journal_records, journal_state, alarms.

#[allow(unused_imports)]
use sqlx::{Any, Executor};
