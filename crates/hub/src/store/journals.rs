//! Statements on journal_records, journal_state, alarms.

use sqlx::{Any, Executor};

/// Stores an alarm.
pub async fn insert_alarm<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    alarm_id: &str,
    device_id: &str,
    kind: &str,
    detail: &str,
    created_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO alarms (alarm_id, device_id, kind, detail, created_ms) VALUES ($1, $2, $3, $4, $5)")
        .bind(alarm_id)
        .bind(device_id)
        .bind(kind)
        .bind(detail)
        .bind(created_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// An alarm of `kind` on a device raised after `after_ms` (its id), if any.
pub async fn recent_alarm<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, kind: &str, after_ms: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT alarm_id FROM alarms WHERE device_id = $1 AND kind = $2 AND created_ms > $3")
        .bind(device_id)
        .bind(kind)
        .bind(after_ms)
        .fetch_optional(ex)
        .await
}

/// An alarm as listed on the command line.
#[derive(Debug, sqlx::FromRow)]
pub struct Alarm {
    /// The device.
    pub device_id: Option<String>,
    /// What kind of alarm.
    pub kind: String,
    /// What happened.
    pub detail: String,
    /// When (unix ms).
    pub created_ms: i64,
}

/// Every alarm, newest first.
pub async fn all_alarms<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Alarm>, sqlx::Error> {
    sqlx::query_as("SELECT device_id, kind, detail, created_ms FROM alarms ORDER BY created_ms DESC").fetch_all(ex).await
}

/// An alarm of a device in a room.
#[derive(Debug, sqlx::FromRow)]
pub struct RoomAlarm {
    /// The device.
    pub device_id: String,
    /// What kind of alarm.
    pub kind: String,
    /// What happened.
    pub detail: String,
}

/// The alarms of the devices in `room` raised after `after_ms`, newest first.
pub async fn alarms_of_room<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, after_ms: i64) -> Result<Vec<RoomAlarm>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.device_id, a.kind, a.detail FROM alarms a JOIN devices d ON d.device_id = a.device_id \
         WHERE d.room = $1 AND a.created_ms > $2 ORDER BY a.created_ms DESC, a.alarm_id",
    )
    .bind(room)
    .bind(after_ms)
    .fetch_all(ex)
    .await
}

/// An alarm of a device that served a sitting.
#[derive(Debug, sqlx::FromRow)]
pub struct SittingAlarm {
    /// The device.
    pub device_id: String,
    /// When (unix ms).
    pub created_ms: i64,
    /// What kind of alarm.
    pub kind: String,
    /// What happened.
    pub detail: String,
}

/// The alarms of the devices the sitting's students logged in on, other
/// than of the two kinds `except`, oldest first.
pub async fn alarms_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, except: [&str; 2]) -> Result<Vec<SittingAlarm>, sqlx::Error> {
    sqlx::query_as(
        "SELECT device_id, created_ms, kind, detail FROM alarms WHERE device_id IN (SELECT DISTINCT device_id FROM sessions WHERE sitting_id = $1) \
         AND kind <> $2 AND kind <> $3 ORDER BY created_ms, alarm_id",
    )
    .bind(sitting)
    .bind(except[0])
    .bind(except[1])
    .fetch_all(ex)
    .await
}

/// A device's stored chain state (JSON).
pub async fn chain_state<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT state FROM journal_state WHERE device_id = $1").bind(device_id).fetch_optional(ex).await
}

/// The sequence number of the next record the hub expects from a device
/// (the number it holds); none before its first upload.
pub async fn next_seq<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT next_seq FROM journal_state WHERE device_id = $1").bind(device_id).fetch_optional(ex).await
}

/// Stores a device's chain state after an upload.
pub async fn save_state<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    device_id: &str,
    state_json: &str,
    next_seq: i64,
    checkpoint_size: i64,
    updated_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO journal_state (device_id, state, next_seq, checkpoint_size, updated_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (device_id) DO UPDATE SET state = excluded.state, next_seq = excluded.next_seq, \
         checkpoint_size = excluded.checkpoint_size, updated_ms = excluded.updated_ms",
    )
    .bind(device_id)
    .bind(state_json)
    .bind(next_seq)
    .bind(checkpoint_size)
    .bind(updated_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// How many records a device's journal holds.
#[derive(Debug, sqlx::FromRow)]
pub struct Size {
    /// The device.
    pub device_id: String,
    /// The next sequence number (the number of records held).
    pub next_seq: i64,
}

/// The journal sizes of the devices in `room`.
pub async fn sizes_in_room<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str) -> Result<Vec<Size>, sqlx::Error> {
    sqlx::query_as("SELECT j.device_id, j.next_seq FROM journal_state j JOIN devices d ON d.device_id = j.device_id WHERE d.room = $1").bind(room).fetch_all(ex).await
}

/// The journal sizes of the devices the sitting's students logged in on.
pub async fn sizes_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<Size>, sqlx::Error> {
    sqlx::query_as("SELECT device_id, next_seq FROM journal_state WHERE device_id IN (SELECT DISTINCT device_id FROM sessions WHERE sitting_id = $1)")
        .bind(sitting)
        .fetch_all(ex)
        .await
}

/// A verified record, to be stored.
#[derive(Debug)]
pub struct NewRecord {
    /// Sequence number.
    pub seq: i64,
    /// Its hash (hex).
    pub hash: String,
    /// Record type (1 event, 3 checkpoint, …).
    pub record_type: i64,
    /// Event kind.
    pub kind: String,
    /// The kiosk's wall time (unix µs).
    pub wall_time_us: i64,
    /// The signed frame.
    pub frame: Vec<u8>,
}

/// Stores records of a device in one statement (keep `rows` short: 7
/// parameters each).
pub async fn insert_records<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, rows: &[NewRecord]) -> Result<(), sqlx::Error> {
    let mut sql = String::from("INSERT INTO journal_records (device_id, seq, hash, record_type, kind, wall_time_us, frame) VALUES ");
    for i in 0..rows.len() {
        let b = i * 7;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("(${}, ${}, ${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7));
    }
    let mut query = sqlx::query(&sql);
    for row in rows {
        query = query
            .bind(device_id)
            .bind(row.seq)
            .bind(row.hash.as_str())
            .bind(row.record_type)
            .bind(row.kind.as_str())
            .bind(row.wall_time_us)
            .bind(row.frame.as_slice());
    }
    query.execute(ex).await?;
    Ok(())
}

/// A stored record's sequence number and hash.
#[derive(Debug, sqlx::FromRow)]
pub struct SeqHash {
    /// Sequence number.
    pub seq: i64,
    /// Hash (hex).
    pub hash: String,
}

/// The hashes of a device's records from `from_seq` up to (not including) `to_seq`.
pub async fn hashes<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, from_seq: i64, to_seq: i64) -> Result<Vec<SeqHash>, sqlx::Error> {
    sqlx::query_as("SELECT seq, hash FROM journal_records WHERE device_id = $1 AND seq >= $2 AND seq < $3")
        .bind(device_id)
        .bind(from_seq)
        .bind(to_seq)
        .fetch_all(ex)
        .await
}

/// The frame of a device's newest record of `kind`.
pub async fn last_frame_of_kind<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, kind: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT frame FROM journal_records WHERE device_id = $1 AND kind = $2 ORDER BY seq DESC LIMIT 1")
        .bind(device_id)
        .bind(kind)
        .fetch_optional(ex)
        .await
}

/// An event record.
#[derive(Debug, sqlx::FromRow)]
pub struct Event {
    /// Event kind.
    pub kind: String,
    /// The kiosk's wall time (unix µs).
    pub wall_time_us: i64,
    /// The signed frame.
    pub frame: Vec<u8>,
}

/// A device's newest `limit` event records (type 1), newest first.
pub async fn latest_events<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, limit: i64) -> Result<Vec<Event>, sqlx::Error> {
    sqlx::query_as("SELECT kind, wall_time_us, frame FROM journal_records WHERE device_id = $1 AND record_type = 1 ORDER BY seq DESC LIMIT $2")
        .bind(device_id)
        .bind(limit)
        .fetch_all(ex)
        .await
}

/// A record with the wall time of the record before it.
#[derive(Debug, sqlx::FromRow)]
pub struct WithBefore {
    /// Sequence number.
    pub seq: i64,
    /// Event kind.
    pub kind: String,
    /// The kiosk's wall time (unix µs).
    pub wall_time_us: i64,
    /// The signed frame.
    pub frame: Vec<u8>,
    /// The wall time of the record before (unix µs); none for the first.
    pub before_us: Option<i64>,
}

/// A device's records of the seven `kinds`, oldest first, each with the time
/// of the record before it (of any kind), in one query.
pub async fn with_time_before<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, kinds: &[&str; 7]) -> Result<Vec<WithBefore>, sqlx::Error> {
    let mut query = sqlx::query_as(
        "SELECT r.seq, r.kind, r.wall_time_us, r.frame, p.before_us FROM journal_records r JOIN \
         (SELECT seq, LAG(wall_time_us) OVER (ORDER BY seq) AS before_us FROM journal_records WHERE device_id = $1) p ON p.seq = r.seq \
         WHERE r.device_id = $1 AND r.kind IN ($2, $3, $4, $5, $6, $7, $8) ORDER BY r.seq",
    )
    .bind(device_id);
    for kind in kinds {
        query = query.bind(*kind);
    }
    query.fetch_all(ex).await
}

/// An event record of a device.
#[derive(Debug, sqlx::FromRow)]
pub struct DeviceEvent {
    /// The device.
    pub device_id: String,
    /// Sequence number.
    pub seq: i64,
    /// Event kind.
    pub kind: String,
    /// The kiosk's wall time (unix µs).
    pub wall_time_us: i64,
    /// The signed frame.
    pub frame: Vec<u8>,
}

/// The records of `kinds` between `from_us` and `to_us` (kiosk wall time) of
/// the devices the sitting's students logged in on.
pub async fn events_of_sitting<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    sitting: &str,
    from_us: i64,
    to_us: i64,
    kinds: &[&str],
) -> Result<Vec<DeviceEvent>, sqlx::Error> {
    let placeholders = (0..kinds.len()).map(|i| format!("${}", i + 4)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT device_id, seq, kind, wall_time_us, frame FROM journal_records WHERE device_id IN (SELECT DISTINCT device_id FROM sessions WHERE sitting_id = $1) \
         AND wall_time_us >= $2 AND wall_time_us <= $3 AND kind IN ({placeholders})"
    );
    let mut query = sqlx::query_as(&sql).bind(sitting).bind(from_us).bind(to_us);
    for kind in kinds {
        query = query.bind(*kind);
    }
    query.fetch_all(ex).await
}

/// The first and last record of a device within a window.
#[derive(Debug, sqlx::FromRow)]
pub struct Span {
    /// The device.
    pub device_id: String,
    /// The kiosk's wall time of its first record in the window (unix µs).
    pub first_us: i64,
    /// The kiosk's wall time of its last record in the window (unix µs).
    pub last_us: i64,
}

/// Per device the sitting's students logged in on, the first and last
/// record between `from_us` and `to_us` (kiosk wall time), of any kind; a
/// device without records there is absent.
pub async fn spans_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, from_us: i64, to_us: i64) -> Result<Vec<Span>, sqlx::Error> {
    sqlx::query_as(
        "SELECT device_id, MIN(wall_time_us) AS first_us, MAX(wall_time_us) AS last_us FROM journal_records \
         WHERE device_id IN (SELECT DISTINCT device_id FROM sessions WHERE sitting_id = $1) \
         AND wall_time_us >= $2 AND wall_time_us <= $3 GROUP BY device_id",
    )
    .bind(sitting)
    .bind(from_us)
    .bind(to_us)
    .fetch_all(ex)
    .await
}

/// A device's record frame.
#[derive(Debug, sqlx::FromRow)]
pub struct DeviceFrame {
    /// The device.
    pub device_id: String,
    /// The signed frame.
    pub frame: Vec<u8>,
}

/// The newest checkpoint record (type 3) of each device the sitting's students logged in on.
pub async fn checkpoints_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<DeviceFrame>, sqlx::Error> {
    sqlx::query_as(
        "SELECT j.device_id, j.frame FROM journal_records j JOIN (SELECT device_id, MAX(seq) AS seq FROM journal_records \
         WHERE record_type = 3 AND device_id IN (SELECT DISTINCT device_id FROM sessions WHERE sitting_id = $1) GROUP BY device_id) m \
         ON m.device_id = j.device_id AND m.seq = j.seq",
    )
    .bind(sitting)
    .fetch_all(ex)
    .await
}

/// The devices with records older than `before_us` (kiosk wall time), sorted.
pub async fn devices_with_records_before<'e, E: Executor<'e, Database = Any>>(ex: E, before_us: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT device_id FROM journal_records WHERE wall_time_us < $1 ORDER BY device_id").bind(before_us).fetch_all(ex).await
}

/// The first sequence number of a device's records at or after `from_us`.
pub async fn first_seq_from<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, from_us: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT MIN(seq) AS seq FROM journal_records WHERE device_id = $1 AND wall_time_us >= $2").bind(device_id).bind(from_us).fetch_one(ex).await
}

/// Deletes a device's records before `seq`; the number deleted.
pub async fn delete_records_before<'e, E: Executor<'e, Database = Any>>(ex: E, device_id: &str, seq: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM journal_records WHERE device_id = $1 AND seq < $2").bind(device_id).bind(seq).execute(ex).await?.rows_affected())
}
