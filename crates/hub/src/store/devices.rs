//! Statements on devices, enrol_challenges, enrol_tokens.

use sqlx::{Any, Executor};

// --- devices -------------------------------------------------------------

/// An enrolled device as a request over its certificate finds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ByCert {
    /// Device id.
    pub device_id: String,
    /// Its room.
    pub room: String,
    /// Its journal key (hex).
    pub device_public_key: Option<String>,
    /// When it was revoked.
    pub revoked_ms: Option<i64>,
}

/// The device whose client certificate has this SHA-256 (hex).
pub async fn by_cert<'e, E: Executor<'e, Database = Any>>(ex: E, cert_sha256: &str) -> Result<Option<ByCert>, sqlx::Error> {
    sqlx::query_as("SELECT device_id, room, device_public_key, revoked_ms FROM devices WHERE cert_sha256 = $1")
        .bind(cert_sha256)
        .fetch_optional(ex)
        .await
}

/// A device's enrolment as a re-enrolment reads it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Enrolment {
    /// Its room.
    pub room: String,
    /// Its host name.
    pub hostname: Option<String>,
    /// When it was revoked.
    pub revoked_ms: Option<i64>,
    /// When it was re-admitted.
    pub readmitted_ms: Option<i64>,
}

/// The enrolment of a device id, if enrolled.
pub async fn enrolment<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str) -> Result<Option<Enrolment>, sqlx::Error> {
    sqlx::query_as("SELECT room, hostname, revoked_ms, readmitted_ms FROM devices WHERE device_id = $1")
        .bind(device_id)
        .fetch_optional(ex)
        .await
}

/// A new device's enrolment.
#[derive(Debug, Clone, Copy)]
pub struct NewDevice<'a> {
    /// Device id.
    pub device_id: &'a str,
    /// Its room.
    pub room: &'a str,
    /// Its client certificate's SHA-256 (hex).
    pub cert_sha256: &'a str,
    /// Its journal key (hex).
    pub device_public_key: &'a str,
    /// Its host name.
    pub hostname: Option<&'a str>,
    /// When.
    pub enrolled_ms: i64,
}

/// Enrols a new device; 0 rows when the id was enrolled meanwhile.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(ex: E, device: NewDevice<'_>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "INSERT INTO devices (device_id, room, cert_sha256, device_public_key, hostname, enrolled_ms) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (device_id) DO NOTHING",
    )
    .bind(device.device_id)
    .bind(device.room)
    .bind(device.cert_sha256)
    .bind(device.device_public_key)
    .bind(device.hostname)
    .bind(device.enrolled_ms)
    .execute(ex)
    .await?
    .rows_affected())
}

/// Re-enrols a device (new room, certificate, host name) unless it is
/// revoked and not re-admitted since; 0 rows when refused.
pub async fn reenrol<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    device_id: &str,
    room: &str,
    cert_sha256: &str,
    hostname: Option<&str>,
    enrolled_ms: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE devices SET room = $1, cert_sha256 = $2, hostname = $3, enrolled_ms = $4, revoked_ms = NULL WHERE device_id = $5 \
         AND (revoked_ms IS NULL OR (readmitted_ms IS NOT NULL AND readmitted_ms >= revoked_ms))",
    )
    .bind(room)
    .bind(cert_sha256)
    .bind(hostname)
    .bind(enrolled_ms)
    .bind(device_id)
    .execute(ex)
    .await?
    .rows_affected())
}

/// Records a heartbeat: when the device was last seen and its state.
pub async fn seen<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, at_ms: i64, state: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE devices SET last_seen_ms = $1, last_state = $2 WHERE device_id = $3")
        .bind(at_ms)
        .bind(state)
        .bind(device_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Revokes a device; 0 rows when there is none.
pub async fn revoke<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, at_ms: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("UPDATE devices SET revoked_ms = $1 WHERE device_id = $2").bind(at_ms).bind(device_id).execute(ex).await?.rows_affected())
}

/// A device's revocation state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Revocation {
    /// Its room.
    pub room: String,
    /// When it was revoked.
    pub revoked_ms: Option<i64>,
    /// When it was re-admitted.
    pub readmitted_ms: Option<i64>,
}

/// The revocation state of a device, if enrolled.
pub async fn revocation<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str) -> Result<Option<Revocation>, sqlx::Error> {
    sqlx::query_as("SELECT room, revoked_ms, readmitted_ms FROM devices WHERE device_id = $1").bind(device_id).fetch_optional(ex).await
}

/// Re-admits a revoked device.
pub async fn readmit<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, at_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE devices SET readmitted_ms = $1 WHERE device_id = $2").bind(at_ms).bind(device_id).execute(ex).await?;
    Ok(())
}

/// The id of a device that is enrolled and not revoked.
pub async fn active<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT device_id FROM devices WHERE device_id = $1 AND revoked_ms IS NULL").bind(device_id).fetch_optional(ex).await
}

/// The ids of a room's devices that are not revoked, in order.
pub async fn active_of_room<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT device_id FROM devices WHERE room = $1 AND revoked_ms IS NULL ORDER BY device_id").bind(room).fetch_all(ex).await
}

/// The host name of a device of `room` that is not revoked: `None` when
/// there is no such device, `Some(None)` when it has no host name.
pub async fn hostname_in_room<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, room: &str) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar("SELECT hostname FROM devices WHERE device_id = $1 AND room = $2 AND revoked_ms IS NULL")
        .bind(device_id)
        .bind(room)
        .fetch_optional(ex)
        .await
}

/// A device as `exam-hub devices` lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    /// Device id.
    pub device_id: String,
    /// Its room.
    pub room: String,
    /// Its host name.
    pub hostname: Option<String>,
    /// Its last reported state.
    pub last_state: Option<String>,
    /// When it was last seen.
    pub last_seen_ms: Option<i64>,
    /// When it was revoked.
    pub revoked_ms: Option<i64>,
}

/// Every device, by room and id.
pub async fn all<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Listed>, sqlx::Error> {
    sqlx::query_as("SELECT device_id, room, hostname, last_state, last_seen_ms, revoked_ms FROM devices ORDER BY room, device_id").fetch_all(ex).await
}

/// The rooms of devices that are not revoked and of sittings, in order.
pub async fn rooms_with_sittings<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT room FROM devices WHERE revoked_ms IS NULL UNION SELECT DISTINCT room FROM sittings ORDER BY 1")
        .fetch_all(ex)
        .await
}

/// A device of a room as the console shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfRoom {
    /// Device id.
    pub device_id: String,
    /// Its host name.
    pub hostname: Option<String>,
    /// When it was last seen.
    pub last_seen_ms: Option<i64>,
    /// Its last reported state.
    pub last_state: Option<String>,
}

/// A room's devices that are not revoked, by host name and id.
pub async fn of_room<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str) -> Result<Vec<OfRoom>, sqlx::Error> {
    sqlx::query_as("SELECT device_id, hostname, last_seen_ms, last_state FROM devices WHERE room = $1 AND revoked_ms IS NULL ORDER BY hostname, device_id")
        .bind(room)
        .fetch_all(ex)
        .await
}

/// A device as the records of a sitting show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfSitting {
    /// Device id.
    pub device_id: String,
    /// Its room.
    pub room: String,
    /// Its host name.
    pub hostname: Option<String>,
    /// When it was last seen.
    pub last_seen_ms: Option<i64>,
    /// Its last reported state.
    pub last_state: Option<String>,
}

/// The devices a session of the sitting was on.
pub async fn of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<OfSitting>, sqlx::Error> {
    sqlx::query_as(
        "SELECT device_id, room, hostname, last_seen_ms, last_state FROM devices WHERE device_id IN \
         (SELECT DISTINCT device_id FROM sessions WHERE sitting_id = $1)",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}

// --- enrol_tokens ----------------------------------------------------------

/// Stores a one-time enrolment token (its hash) for `room`.
pub async fn insert_token<'e, E: Executor<'e, Database = Any>>(ex: E, token_hash: &str, room: &str, created_ms: i64, expires_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO enrol_tokens (token_hash, room, created_ms, expires_ms) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(room)
        .bind(created_ms)
        .bind(expires_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// An enrolment token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Token {
    /// The room it enrols to.
    pub room: String,
    /// Until when it is valid.
    pub expires_ms: i64,
    /// When it was used.
    pub used_ms: Option<i64>,
}

/// The enrolment token with this hash.
pub async fn token<'e, E: Executor<'e, Database = Any>>(ex: E, token_hash: &str) -> Result<Option<Token>, sqlx::Error> {
    sqlx::query_as("SELECT room, expires_ms, used_ms FROM enrol_tokens WHERE token_hash = $1").bind(token_hash).fetch_optional(ex).await
}

/// Marks an unused token used by `device_id`; 0 rows when it was used already.
pub async fn use_token<'e, E: Executor<'e, Database = Any>>(ex: E, token_hash: &str, device_id: &str, at_ms: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("UPDATE enrol_tokens SET used_ms = $1, device_id = $2 WHERE token_hash = $3 AND used_ms IS NULL")
        .bind(at_ms)
        .bind(device_id)
        .bind(token_hash)
        .execute(ex)
        .await?
        .rows_affected())
}

// --- enrol_challenges ------------------------------------------------------

/// Drops the challenges expired at `now`.
pub async fn drop_expired_challenges<'e, E: Executor<'e, Database = Any>>(ex: E, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM enrol_challenges WHERE expires_ms <= $1").bind(now).execute(ex).await?;
    Ok(())
}

/// How many unused challenges a token has.
pub async fn open_challenges<'e, E: Executor<'e, Database = Any>>(ex: E, token_hash: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) AS n FROM enrol_challenges WHERE token_hash = $1 AND used_ms IS NULL").bind(token_hash).fetch_one(ex).await
}

/// Stores a new challenge for a token.
pub async fn insert_challenge<'e, E: Executor<'e, Database = Any>>(ex: E, challenge: &str, token_hash: &str, created_ms: i64, expires_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO enrol_challenges (challenge, token_hash, created_ms, expires_ms) VALUES ($1, $2, $3, $4)")
        .bind(challenge)
        .bind(token_hash)
        .bind(created_ms)
        .bind(expires_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// Uses a challenge of a token that is unused and unexpired at `now`; 0
/// rows when there is none.
pub async fn use_challenge<'e, E: Executor<'e, Database = Any>>(ex: E, challenge: &str, token_hash: &str, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("UPDATE enrol_challenges SET used_ms = $1 WHERE challenge = $2 AND token_hash = $3 AND used_ms IS NULL AND expires_ms > $1")
        .bind(now)
        .bind(challenge)
        .bind(token_hash)
        .execute(ex)
        .await?
        .rows_affected())
}
