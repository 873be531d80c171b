//! Statements on pv_remarks, retention_deletions.

use sqlx::{Any, Executor};

/// A remark on a sitting's proces-verbaal.
#[derive(Debug, sqlx::FromRow)]
pub struct Remark {
    /// Its id.
    pub remark_id: String,
    /// The sitting.
    pub sitting_id: String,
    /// Who wrote it.
    pub author: String,
    /// What it says.
    pub text: String,
    /// When (unix ms).
    pub created_ms: i64,
}

/// Stores a remark.
pub async fn insert_remark<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    remark_id: &str,
    sitting_id: &str,
    author: &str,
    text: &str,
    created_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO pv_remarks (remark_id, sitting_id, author, text, created_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(remark_id)
        .bind(sitting_id)
        .bind(author)
        .bind(text)
        .bind(created_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// The remarks on a sitting, oldest first.
pub async fn remarks<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<Remark>, sqlx::Error> {
    sqlx::query_as("SELECT remark_id, sitting_id, author, text, created_ms FROM pv_remarks WHERE sitting_id = $1 ORDER BY created_ms, remark_id")
        .bind(sitting)
        .fetch_all(ex)
        .await
}

/// A deletion by the retention rule, to be recorded.
#[derive(Debug)]
pub struct NewDeletion<'a> {
    /// Its id.
    pub deletion_id: &'a str,
    /// What was deleted (answers, journal).
    pub what: &'a str,
    /// Of whom or what (a device, a count of candidates).
    pub subject: &'a str,
    /// The sitting, for answers.
    pub sitting_id: Option<&'a str>,
    /// Rows deleted.
    pub rows_deleted: i64,
    /// The cut-off (unix ms).
    pub older_than_ms: i64,
    /// The rule, described.
    pub rule: &'a str,
    /// When (unix ms).
    pub deleted_ms: i64,
}

/// Records a deletion.
pub async fn insert_deletion<'e, E: Executor<'e, Database = Any>>(ex: E, d: &NewDeletion<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO retention_deletions (deletion_id, what, subject, sitting_id, rows_deleted, older_than_ms, rule, deleted_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(d.deletion_id)
    .bind(d.what)
    .bind(d.subject)
    .bind(d.sitting_id)
    .bind(d.rows_deleted)
    .bind(d.older_than_ms)
    .bind(d.rule)
    .bind(d.deleted_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// Whether something of `what` was deleted from a sitting.
pub async fn deleted_from_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, what: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT deletion_id FROM retention_deletions WHERE sitting_id = $1 AND what = $2")
        .bind(sitting)
        .bind(what)
        .fetch_optional(ex)
        .await?;
    Ok(found.is_some())
}

/// A recorded deletion, as the records show it.
#[derive(Debug, sqlx::FromRow)]
pub struct Deletion {
    /// What was deleted.
    pub what: String,
    /// Of whom or what.
    pub subject: String,
    /// Rows deleted.
    pub rows_deleted: i64,
    /// The rule, described.
    pub rule: String,
    /// When (unix ms).
    pub deleted_ms: i64,
}

/// The deletions of a sitting, and those of `journal_what` of the devices
/// its students logged in on, oldest first.
pub async fn deletions_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, journal_what: &str) -> Result<Vec<Deletion>, sqlx::Error> {
    sqlx::query_as(
        "SELECT what, subject, rows_deleted, rule, deleted_ms FROM retention_deletions WHERE sitting_id = $1 \
         OR (what = $2 AND subject IN (SELECT DISTINCT device_id FROM sessions WHERE sitting_id = $1)) ORDER BY deleted_ms, deletion_id",
    )
    .bind(sitting)
    .bind(journal_what)
    .fetch_all(ex)
    .await
}
