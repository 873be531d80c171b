//! Statements on instructions.

use sqlx::{Any, Executor};

/// Stores an instruction to a device (`body` is its JSON).
pub async fn insert<'e, E: Executor<'e, Database = Any>>(ex: E, instruction_id: &str, device_id: &str, body: &str, issued_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO instructions (instruction_id, device_id, body, issued_ms) VALUES ($1, $2, $3, $4)")
        .bind(instruction_id)
        .bind(device_id)
        .bind(body)
        .bind(issued_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// Marks an unacknowledged instruction of a device acknowledged; false when there was none.
pub async fn acknowledge<'e, E: Executor<'e, Database = Any>>(ex: E, instruction_id: &str, device_id: &str, now_ms: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE instructions SET acked_ms = $1 WHERE instruction_id = $2 AND device_id = $3 AND acked_ms IS NULL")
        .bind(now_ms)
        .bind(instruction_id)
        .bind(device_id)
        .execute(ex)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Whether a device has an instruction with this id.
pub async fn exists<'e, E: Executor<'e, Database = Any>>(ex: E, instruction_id: &str, device_id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT instruction_id FROM instructions WHERE instruction_id = $1 AND device_id = $2")
        .bind(instruction_id)
        .bind(device_id)
        .fetch_optional(ex)
        .await?;
    Ok(found.is_some())
}

/// An unacknowledged instruction.
#[derive(Debug, sqlx::FromRow)]
pub struct Unacked {
    /// The device it is for.
    pub device_id: String,
    /// The instruction (JSON).
    pub body: String,
}

/// The unacknowledged instructions, oldest first.
pub async fn unacked<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Unacked>, sqlx::Error> {
    sqlx::query_as("SELECT device_id, body FROM instructions WHERE acked_ms IS NULL ORDER BY issued_ms, instruction_id").fetch_all(ex).await
}

/// The ids of the instructions a device acknowledged at or after `since_ms`.
pub async fn acked_since<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, since_ms: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT instruction_id FROM instructions WHERE device_id = $1 AND acked_ms IS NOT NULL AND acked_ms >= $2")
        .bind(device_id)
        .bind(since_ms)
        .fetch_all(ex)
        .await
}

/// An acknowledged instruction.
#[derive(Debug, sqlx::FromRow)]
pub struct Acked {
    /// The device.
    pub device_id: String,
    /// The instruction (JSON).
    pub body: String,
    /// When it was issued (unix ms).
    pub issued_ms: i64,
    /// When the device acknowledged it (unix ms).
    pub acked_ms: i64,
}

/// The acknowledged instructions whose JSON contains `pattern` (SQL `LIKE`).
pub async fn acked_like<'e, E: Executor<'e, Database = Any>>(ex: E, pattern: &str) -> Result<Vec<Acked>, sqlx::Error> {
    sqlx::query_as("SELECT device_id, body, issued_ms, acked_ms FROM instructions WHERE acked_ms IS NOT NULL AND body LIKE $1").bind(pattern).fetch_all(ex).await
}

/// An instruction as the records show it.
#[derive(Debug, sqlx::FromRow)]
pub struct Issued {
    /// The device.
    pub device_id: String,
    /// The instruction (JSON).
    pub body: String,
    /// When it was issued (unix ms).
    pub issued_ms: i64,
    /// When the device acknowledged it (unix ms).
    pub acked_ms: Option<i64>,
}

/// The instructions issued between `from_ms` and `to_ms` to the devices the
/// sitting's students logged in on, oldest first.
pub async fn of_sitting_devices<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, from_ms: i64, to_ms: i64) -> Result<Vec<Issued>, sqlx::Error> {
    sqlx::query_as(
        "SELECT device_id, body, issued_ms, acked_ms FROM instructions WHERE device_id IN (SELECT DISTINCT device_id FROM sessions WHERE sitting_id = $1) \
         AND issued_ms >= $2 AND issued_ms <= $3 ORDER BY issued_ms, instruction_id",
    )
    .bind(sitting)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(ex)
    .await
}
