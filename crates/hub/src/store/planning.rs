//! Statements on sittings, students, candidates, instruments, instrument_scoring.

#[allow(unused_imports)]
use sqlx::{Any, Executor};
