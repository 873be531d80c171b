//! Statements on console_accounts, console_account_rooms, console_sessions.

use sqlx::{Any, Executor};

/// Creates an account, or replaces the name, role and password of an
/// existing one, lifting its lock-out and enabling it again.
pub async fn upsert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    username: &str,
    display_name: &str,
    role: &str,
    password_hash: &str,
    created_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO console_accounts (username, display_name, role, password_hash, created_ms, failures) VALUES ($1, $2, $3, $4, $5, 0) \
         ON CONFLICT (username) DO UPDATE SET display_name = excluded.display_name, role = excluded.role, \
         password_hash = excluded.password_hash, failures = 0, locked_until_ms = NULL, disabled_ms = NULL",
    )
    .bind(username)
    .bind(display_name)
    .bind(role)
    .bind(password_hash)
    .bind(created_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// Clears the lock-out columns of an account; false when there is none.
pub async fn clear_lockout<'e, E: Executor<'e, Database = Any>>(ex: E, username: &str) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE console_accounts SET failures = 0, locked_until_ms = NULL WHERE username = $1").bind(username).execute(ex).await?;
    Ok(r.rows_affected() > 0)
}

/// Disables an account; false when there is none.
pub async fn disable<'e, E: Executor<'e, Database = Any>>(ex: E, username: &str, now_ms: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE console_accounts SET disabled_ms = $1 WHERE username = $2").bind(now_ms).bind(username).execute(ex).await?;
    Ok(r.rows_affected() > 0)
}

/// An enabled account's name and role.
#[derive(Debug, sqlx::FromRow)]
pub struct Enabled {
    /// The name shown in the console and the records.
    pub display_name: String,
    /// `admin` or `invigilator`.
    pub role: String,
}

/// An enabled account (none when it is missing or disabled).
pub async fn enabled<'e, E: Executor<'e, Database = Any>>(ex: E, username: &str) -> Result<Option<Enabled>, sqlx::Error> {
    sqlx::query_as("SELECT display_name, role FROM console_accounts WHERE username = $1 AND disabled_ms IS NULL").bind(username).fetch_optional(ex).await
}

/// The stored password hash of an enabled account.
pub async fn password_hash<'e, E: Executor<'e, Database = Any>>(ex: E, username: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM console_accounts WHERE username = $1 AND disabled_ms IS NULL").bind(username).fetch_optional(ex).await
}

/// All user names, sorted.
pub async fn usernames<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT username FROM console_accounts ORDER BY username").fetch_all(ex).await
}

/// Whether an account is disabled or locked out (the lock-out columns of hub
/// versions before schema 50).
#[derive(Debug, sqlx::FromRow)]
pub struct LockState {
    /// When the account was disabled (unix ms).
    pub disabled_ms: Option<i64>,
    /// Until when wrong passwords locked it out (unix ms).
    pub locked_until_ms: Option<i64>,
}

/// An account's [`LockState`] (none when there is no such account).
pub async fn lock_state<'e, E: Executor<'e, Database = Any>>(ex: E, username: &str) -> Result<Option<LockState>, sqlx::Error> {
    sqlx::query_as("SELECT disabled_ms, locked_until_ms FROM console_accounts WHERE username = $1").bind(username).fetch_optional(ex).await
}

/// Forgets the rooms of an account.
pub async fn clear_rooms<'e, E: Executor<'e, Database = Any>>(ex: E, username: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM console_account_rooms WHERE username = $1").bind(username).execute(ex).await?;
    Ok(())
}

/// Lets an account act on a room.
pub async fn add_room<'e, E: Executor<'e, Database = Any>>(ex: E, username: &str, room: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO console_account_rooms (username, room) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(username).bind(room).execute(ex).await?;
    Ok(())
}

/// The rooms of an account, sorted.
pub async fn rooms<'e, E: Executor<'e, Database = Any>>(ex: E, username: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT room FROM console_account_rooms WHERE username = $1 ORDER BY room").bind(username).fetch_all(ex).await
}

/// Ends every open session of an account.
pub async fn revoke_sessions_of<'e, E: Executor<'e, Database = Any>>(ex: E, username: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE console_sessions SET revoked_ms = $1 WHERE username = $2 AND revoked_ms IS NULL").bind(now_ms).bind(username).execute(ex).await?;
    Ok(())
}

/// A console session as stored (by the SHA-256 of its cookie).
#[derive(Debug, sqlx::FromRow)]
pub struct Session {
    /// The account.
    pub username: String,
    /// The token the page sends in `X-CSRF-Token`.
    pub csrf_token: String,
    /// When it was last used (unix ms).
    pub last_used_ms: i64,
    /// When it ends at the latest (unix ms).
    pub expires_ms: i64,
    /// When it was ended (unix ms).
    pub revoked_ms: Option<i64>,
}

/// The session of a cookie hash.
pub async fn session<'e, E: Executor<'e, Database = Any>>(ex: E, token_hash: &str) -> Result<Option<Session>, sqlx::Error> {
    sqlx::query_as("SELECT username, csrf_token, last_used_ms, expires_ms, revoked_ms FROM console_sessions WHERE token_hash = $1").bind(token_hash).fetch_optional(ex).await
}

/// Marks a session used now.
pub async fn touch_session<'e, E: Executor<'e, Database = Any>>(ex: E, token_hash: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE console_sessions SET last_used_ms = $1 WHERE token_hash = $2").bind(now_ms).bind(token_hash).execute(ex).await?;
    Ok(())
}

/// Marks a session used now if it is neither revoked nor expired; true when it was.
pub async fn touch_live_session<'e, E: Executor<'e, Database = Any>>(ex: E, token_hash: &str, now_ms: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE console_sessions SET last_used_ms = $1 WHERE token_hash = $2 AND revoked_ms IS NULL AND expires_ms > $1")
        .bind(now_ms)
        .bind(token_hash)
        .execute(ex)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes the sessions that expired before `before_ms`.
pub async fn delete_sessions_expired_before<'e, E: Executor<'e, Database = Any>>(ex: E, before_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM console_sessions WHERE expires_ms < $1").bind(before_ms).execute(ex).await?;
    Ok(())
}

/// Stores a new session, used from `now_ms` until `expires_ms`.
pub async fn insert_session<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    token_hash: &str,
    username: &str,
    csrf_token: &str,
    now_ms: i64,
    expires_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO console_sessions (token_hash, username, csrf_token, created_ms, last_used_ms, expires_ms) VALUES ($1, $2, $3, $4, $4, $5)")
        .bind(token_hash)
        .bind(username)
        .bind(csrf_token)
        .bind(now_ms)
        .bind(expires_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// Ends one session.
pub async fn revoke_session<'e, E: Executor<'e, Database = Any>>(ex: E, token_hash: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE console_sessions SET revoked_ms = $1 WHERE token_hash = $2").bind(now_ms).bind(token_hash).execute(ex).await?;
    Ok(())
}
