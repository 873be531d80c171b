//! Statements on sessions (kiosk sessions), login_failures.

#[allow(unused_imports)]
use sqlx::{Any, Executor};
