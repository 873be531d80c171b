//! Statements on devices, enrol_challenges, enrol_tokens.

#[allow(unused_imports)]
use sqlx::{Any, Executor};
