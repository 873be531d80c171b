//! Statements on console_accounts, console_account_rooms, console_sessions.

#[allow(unused_imports)]
use sqlx::{Any, Executor};
