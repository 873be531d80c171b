//! Statements on instructions.

#[allow(unused_imports)]
use sqlx::{Any, Executor};
