//! Statements on pv_remarks, retention_deletions.

#[allow(unused_imports)]
use sqlx::{Any, Executor};
