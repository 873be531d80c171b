//! The store layer (issue 16 point 4): every SQL statement of the hub lives
//! here, once, in the module of the table group it reads or writes; handlers,
//! the console, the reports and the CLI call these functions and never write
//! SQL themselves (`tests/layers.rs` `queries_live_in_the_store` checks it).
//!
//! Conventions:
//! - One module per table group (below). A statement that joins groups
//!   belongs to the group of the table it selects from or writes to.
//! - A function takes any executor, so it runs on the pool or inside a
//!   caller's transaction (`&mut *tx` for a [`crate::db::WriteTx`]):
//!   `pub async fn by_cert<'e, E: Executor<'e, Database = Any>>(ex: E, …)`.
//! - Rows come back as `#[derive(sqlx::FromRow)]` structs with the table's
//!   column names (or plain scalars), never as raw `AnyRow`s to the caller.
//! - Values are always bound (`$1`, `$2`…), never formatted into SQL; the
//!   statements are portable between SQLite and PostgreSQL (the hub's tests
//!   run on both).
//! - Names say what is asked, not how: `devices::by_cert`, `answers::upsert`,
//!   `sittings::start`.
//!
//! Table groups:
//! - [`devices`]: devices, enrol_challenges, enrol_tokens
//! - [`sessions`]: sessions (kiosk sessions), login_failures
//! - [`planning`]: sittings, students, candidates, instruments, instrument_scoring
//! - [`answers`]: answers, answer_changes, superseded_answers, hand_scores
//! - [`journals`]: journal_records, journal_state, alarms
//! - [`instructions`]: instructions
//! - [`accounts`]: console_accounts, console_account_rooms, console_sessions
//! - [`rooms`]: console_sittings, console_seats, console_moves, console_room_codes
//! - [`audit`]: console_actions
//! - [`records`]: pv_remarks, retention_deletions
//!
//! `crate::db` keeps the pool, the transactions and the migrations.

pub mod devices;
pub mod sessions;
pub mod planning;
pub mod answers;
pub mod journals;
pub mod instructions;
pub mod accounts;
pub mod rooms;
pub mod audit;
pub mod records;
