//! Statements on console_actions.

#[allow(unused_imports)]
use sqlx::{Any, Executor};
