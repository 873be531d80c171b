//! Statements on sessions (kiosk sessions), login_failures.

use sqlx::{Any, Executor};

// --- sessions --------------------------------------------------------------

/// A session as a request with its token finds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ByToken {
    /// The device it was created on.
    pub device_id: String,
    /// The client certificate it was issued over (SHA-256, hex).
    pub cert_sha256: Option<String>,
    /// Sitting id.
    pub sitting_id: String,
    /// Student number.
    pub student_number: String,
    /// Until when it is valid.
    pub expires_ms: i64,
    /// When a login elsewhere (or a revocation) ended it.
    pub revoked_ms: Option<i64>,
}

/// The session whose token has this hash.
pub async fn by_token<'e, E: Executor<'e, Database = Any>>(ex: E, token_hash: &str) -> Result<Option<ByToken>, sqlx::Error> {
    sqlx::query_as("SELECT device_id, cert_sha256, sitting_id, student_number, expires_ms, revoked_ms FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(ex)
        .await
}

/// A new session.
#[derive(Debug, Clone, Copy)]
pub struct NewSession<'a> {
    /// SHA-256 of its token (hex).
    pub token_hash: &'a str,
    /// The device.
    pub device_id: &'a str,
    /// Sitting id.
    pub sitting_id: &'a str,
    /// Student number.
    pub student_number: &'a str,
    /// When.
    pub created_ms: i64,
    /// Until when.
    pub expires_ms: i64,
    /// The client certificate it is issued over (SHA-256, hex).
    pub cert_sha256: &'a str,
}

/// Stores a new session.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(ex: E, session: NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO sessions (token_hash, device_id, sitting_id, student_number, created_ms, expires_ms, cert_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(session.token_hash)
        .bind(session.device_id)
        .bind(session.sitting_id)
        .bind(session.student_number)
        .bind(session.created_ms)
        .bind(session.expires_ms)
        .bind(session.cert_sha256)
        .execute(ex)
        .await?;
    Ok(())
}

/// Ends the sessions of a device that are not ended.
pub async fn revoke_of_device<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, at_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET revoked_ms = $1 WHERE device_id = $2 AND revoked_ms IS NULL").bind(at_ms).bind(device_id).execute(ex).await?;
    Ok(())
}

/// Ends the sessions of a student in a sitting that are not ended.
pub async fn revoke_of_student<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, at_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE sessions SET revoked_ms = $1 WHERE sitting_id = $2 AND student_number = $3 AND revoked_ms IS NULL")
        .bind(at_ms)
        .bind(sitting)
        .bind(student)
        .execute(ex)
        .await?;
    Ok(())
}

/// Whether a student ever had a session in a sitting.
pub async fn student_logged_in<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, String>("SELECT token_hash FROM sessions WHERE sitting_id = $1 AND student_number = $2")
        .bind(sitting)
        .bind(student)
        .fetch_optional(ex)
        .await?
        .is_some())
}

/// Whether anyone ever had a session in a sitting.
pub async fn sitting_logged_in<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT 1 AS one FROM sessions WHERE sitting_id = $1 LIMIT 1").bind(sitting).fetch_optional(ex).await?.is_some())
}

/// A session of a student: on which PC, from when, until when it was ended.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Span {
    /// The PC.
    pub device_id: String,
    /// The login.
    pub created_ms: i64,
    /// When a login elsewhere (or a revocation) ended it.
    pub revoked_ms: Option<i64>,
}

/// The sessions of a student in a sitting.
pub async fn spans_of_student<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Vec<Span>, sqlx::Error> {
    sqlx::query_as("SELECT device_id, created_ms, revoked_ms FROM sessions WHERE sitting_id = $1 AND student_number = $2")
        .bind(sitting)
        .bind(student)
        .fetch_all(ex)
        .await
}

/// A seat's current PC: the device of the newest session that was not revoked.
pub async fn current_device<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT device_id FROM sessions WHERE sitting_id = $1 AND student_number = $2 AND revoked_ms IS NULL ORDER BY created_ms DESC")
        .bind(sitting)
        .bind(student)
        .fetch_optional(ex)
        .await
}

/// A session not revoked, as the instructions read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Open {
    /// The device.
    pub device_id: String,
    /// Sitting id.
    pub sitting_id: String,
    /// Student number.
    pub student_number: String,
    /// Until when it is valid.
    pub expires_ms: i64,
}

/// The sessions not revoked that expire after `after_ms`, of one device
/// (or of all when `device` is empty), oldest first.
pub async fn open<'e, E: Executor<'e, Database = Any>>(ex: E, after_ms: i64, device: &str) -> Result<Vec<Open>, sqlx::Error> {
    sqlx::query_as(
        "SELECT device_id, sitting_id, student_number, expires_ms FROM sessions \
         WHERE revoked_ms IS NULL AND expires_ms > $1 AND ($2 = '' OR device_id = $2) ORDER BY created_ms, token_hash",
    )
    .bind(after_ms)
    .bind(device)
    .fetch_all(ex)
    .await
}

/// A PC and the student whose session is on it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceOfStudent {
    /// The PC.
    pub device_id: String,
    /// Student number.
    pub student_number: String,
}

/// The sessions of a sitting not revoked of students who have not handed
/// in: who gets an instruction for everyone.
pub async fn open_not_handed_in<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<DeviceOfStudent>, sqlx::Error> {
    sqlx::query_as(
        "SELECT DISTINCT se.device_id, se.student_number FROM sessions se WHERE se.sitting_id = $1 AND se.revoked_ms IS NULL AND NOT EXISTS \
         (SELECT 1 FROM answers a WHERE a.sitting_id = se.sitting_id AND a.student_number = se.student_number AND a.final_submission = 1)",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}

/// A seat's session in a room.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfRoom {
    /// Sitting id.
    pub sitting_id: String,
    /// Student number.
    pub student_number: String,
    /// The PC.
    pub device_id: String,
}

/// The sessions not revoked of a room's sittings starting in `[from, to]`,
/// oldest first.
pub async fn open_of_room<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, from: i64, to: i64) -> Result<Vec<OfRoom>, sqlx::Error> {
    sqlx::query_as(
        "SELECT se.sitting_id, se.student_number, se.device_id FROM sessions se JOIN sittings s ON s.sitting_id = se.sitting_id \
         WHERE s.room = $1 AND s.start_ms >= $2 AND s.start_ms <= $3 AND se.revoked_ms IS NULL ORDER BY se.created_ms",
    )
    .bind(room)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await
}

/// A login of a sitting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Login {
    /// The PC.
    pub device_id: String,
    /// Student number.
    pub student_number: String,
    /// When.
    pub created_ms: i64,
}

/// Every session of a sitting, oldest first.
pub async fn of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<Login>, sqlx::Error> {
    sqlx::query_as("SELECT device_id, student_number, created_ms FROM sessions WHERE sitting_id = $1 ORDER BY created_ms, device_id")
        .bind(sitting)
        .fetch_all(ex)
        .await
}

/// A login on a PC.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginOnDevice {
    /// The PC.
    pub device_id: String,
    /// When.
    pub created_ms: i64,
}

/// The logins of other sittings in `[from, to]` on the PCs a session of
/// `sitting` was on.
pub async fn others_on_devices_of<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, from: i64, to: i64) -> Result<Vec<LoginOnDevice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT device_id, created_ms FROM sessions WHERE sitting_id <> $1 AND device_id IN \
         (SELECT DISTINCT device_id FROM sessions WHERE sitting_id = $1) AND created_ms >= $2 AND created_ms <= $3",
    )
    .bind(sitting)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await
}

// --- login_failures ----------------------------------------------------------

/// Makes sure a (student, PC) count exists, at 0 when new.
pub async fn ensure_failures<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, device: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_failures (sitting_id, student_number, device_id, attempts) VALUES ($1, $2, $3, 0) \
         ON CONFLICT (sitting_id, student_number, device_id) DO NOTHING",
    )
    .bind(sitting)
    .bind(student)
    .bind(device)
    .execute(ex)
    .await?;
    Ok(())
}

/// Counts one more attempt unless `limit` attempts are counted; the count
/// after it, or `None` at the limit.
pub async fn count_attempt<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, device: &str, limit: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE login_failures SET attempts = attempts + 1 \
         WHERE sitting_id = $1 AND student_number = $2 AND device_id = $3 AND attempts < $4 \
         RETURNING attempts",
    )
    .bind(sitting)
    .bind(student)
    .bind(device)
    .bind(limit)
    .fetch_optional(ex)
    .await
}

/// Gives one attempt back (never below zero).
pub async fn give_back_attempt<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, device: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE login_failures SET attempts = attempts - 1 \
         WHERE sitting_id = $1 AND student_number = $2 AND device_id = $3 AND attempts > 0",
    )
    .bind(sitting)
    .bind(student)
    .bind(device)
    .execute(ex)
    .await?;
    Ok(())
}

/// Starts a (student, PC) count again.
pub async fn reset_attempts<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, device: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_failures SET attempts = 0 WHERE sitting_id = $1 AND student_number = $2 AND device_id = $3")
        .bind(sitting)
        .bind(student)
        .bind(device)
        .execute(ex)
        .await?;
    Ok(())
}

/// Starts a student's counts on every PC again.
pub async fn reset_all_attempts<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE login_failures SET attempts = 0 WHERE sitting_id = $1 AND student_number = $2")
        .bind(sitting)
        .bind(student)
        .execute(ex)
        .await?;
    Ok(())
}

/// Records a wrong code at `at_ms`; with `locks`, the (student, PC) lock too.
pub async fn record_failure<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    sitting: &str,
    student: &str,
    device: &str,
    at_ms: i64,
    locks: bool,
) -> Result<(), sqlx::Error> {
    let sql = if locks {
        "UPDATE login_failures SET last_failure_ms = $1, locked_ms = $1 WHERE sitting_id = $2 AND student_number = $3 AND device_id = $4"
    } else {
        "UPDATE login_failures SET last_failure_ms = $1 WHERE sitting_id = $2 AND student_number = $3 AND device_id = $4"
    };
    sqlx::query(sql).bind(at_ms).bind(sitting).bind(student).bind(device).execute(ex).await?;
    Ok(())
}

/// How many students a PC typed wrong codes for after `since_ms`.
pub async fn students_failed_on<'e, E: Executor<'e, Database = Any>>(ex: E, device: &str, since_ms: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(DISTINCT student_number) AS n FROM login_failures WHERE device_id = $1 AND last_failure_ms > $2")
        .bind(device)
        .bind(since_ms)
        .fetch_one(ex)
        .await
}

/// A (student, PC) lock of a sitting.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Lock {
    /// Student number.
    pub student_number: String,
    /// The PC.
    pub device_id: String,
    /// Its host name.
    pub hostname: Option<String>,
    /// When (the latest).
    pub locked_ms: i64,
}

/// The (student, PC) locks of a sitting, oldest first.
pub async fn locks_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<Lock>, sqlx::Error> {
    sqlx::query_as(
        "SELECT f.student_number, f.device_id, d.hostname, f.locked_ms FROM login_failures f \
         LEFT JOIN devices d ON d.device_id = f.device_id \
         WHERE f.sitting_id = $1 AND f.locked_ms IS NOT NULL ORDER BY f.locked_ms, f.device_id",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}
