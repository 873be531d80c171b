//! Statements on console_actions.

use sqlx::{Any, Executor};

/// One line of the journal of actions, as written.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// When.
    pub at_ms: i64,
    /// The console account, or the CLI's fixed user name.
    pub username: &'a str,
    /// Who, as the proces-verbaal names them.
    pub display_name: &'a str,
    /// The room.
    pub room: &'a str,
    /// The sitting, when the action concerns one.
    pub sitting: Option<&'a str>,
    /// The student, for an action on one seat.
    pub student: Option<&'a str>,
    /// The action's name (`crate::audit::Action::name`, or another journalled name such as a hand score's).
    pub action: &'a str,
    /// Why (in the proces-verbaal).
    pub reason: &'a str,
    /// What exactly (minutes, the new PC, …).
    pub detail: &'a str,
}

/// Writes `entry` under `action_id`.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(ex: E, action_id: &str, entry: &Entry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO console_actions (action_id, at_ms, username, display_name, room, sitting_id, student_number, action, reason, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(action_id)
    .bind(entry.at_ms)
    .bind(entry.username)
    .bind(entry.display_name)
    .bind(entry.room)
    .bind(entry.sitting)
    .bind(entry.student)
    .bind(entry.action)
    .bind(entry.reason)
    .bind(entry.detail)
    .execute(ex)
    .await?;
    Ok(())
}

/// Who did what when (the newest action of a seat or sitting).
#[derive(Debug, sqlx::FromRow)]
pub struct LastAction {
    /// Who.
    pub display_name: String,
    /// The action's name.
    pub action: String,
    /// When (unix ms).
    pub at_ms: i64,
}

/// The newest action on a seat or on its whole sitting.
pub async fn last_on_seat<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Option<LastAction>, sqlx::Error> {
    sqlx::query_as(
        "SELECT display_name, action, at_ms FROM console_actions WHERE sitting_id = $1 AND (student_number = $2 OR student_number IS NULL) ORDER BY at_ms DESC",
    )
    .bind(sitting)
    .bind(student)
    .fetch_optional(ex)
    .await
}

/// The newest action on a sitting or any of its seats.
pub async fn last_in_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Option<LastAction>, sqlx::Error> {
    sqlx::query_as("SELECT display_name, action, at_ms FROM console_actions WHERE sitting_id = $1 ORDER BY at_ms DESC").bind(sitting).fetch_optional(ex).await
}

/// When a seat was last reopened.
pub async fn reopened_ms<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT MAX(at_ms) AS at_ms FROM console_actions WHERE sitting_id = $1 AND student_number = $2 AND action = 'reopen'")
        .bind(sitting)
        .bind(student)
        .fetch_one(ex)
        .await
}

/// The newest reopen of a seat.
#[derive(Debug, sqlx::FromRow)]
pub struct Reopen {
    /// The sitting.
    pub sitting_id: String,
    /// The student.
    pub student_number: String,
    /// When (unix ms).
    pub at_ms: i64,
}

/// The newest reopen of every seat that was ever reopened.
pub async fn last_reopens<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Reopen>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sitting_id, student_number, MAX(at_ms) AS at_ms FROM console_actions WHERE action = 'reopen' AND student_number IS NOT NULL \
         GROUP BY sitting_id, student_number",
    )
    .fetch_all(ex)
    .await
}

/// A seat (sitting and student).
#[derive(Debug, sqlx::FromRow)]
pub struct Seat {
    /// The sitting.
    pub sitting_id: String,
    /// The student.
    pub student_number: String,
}

/// The seats ever reopened in the sittings of `room` that start between `from_ms` and `to_ms`.
pub async fn reopened_seats_in_room<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, from_ms: i64, to_ms: i64) -> Result<Vec<Seat>, sqlx::Error> {
    sqlx::query_as(
        "SELECT DISTINCT ca.sitting_id, ca.student_number FROM console_actions ca JOIN sittings s ON s.sitting_id = ca.sitting_id \
         WHERE s.room = $1 AND s.start_ms >= $2 AND s.start_ms <= $3 AND ca.action = 'reopen' AND ca.student_number IS NOT NULL",
    )
    .bind(room)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(ex)
    .await
}

/// A journalled action as the records read it.
#[derive(Debug, sqlx::FromRow)]
pub struct Logged {
    /// When (unix ms).
    pub at_ms: i64,
    /// Who.
    pub display_name: String,
    /// The student, for an action on one seat.
    pub student_number: Option<String>,
    /// The action's name.
    pub action: String,
    /// Why.
    pub reason: String,
    /// What exactly.
    pub detail: String,
}

/// The actions on a sitting and its seats, oldest first.
pub async fn of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<Logged>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at_ms, display_name, student_number, action, reason, detail FROM console_actions WHERE sitting_id = $1 ORDER BY at_ms, action_id",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}
