//! Statements on console_sittings, console_seats, console_moves, console_room_codes.

use sqlx::{Any, Executor};

/// Gives a sitting its console row (version 0) if it has none.
pub async fn ensure_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO console_sittings (sitting_id, version) VALUES ($1, 0) ON CONFLICT DO NOTHING").bind(sitting).execute(ex).await?;
    Ok(())
}

/// Raises a sitting's version from `expected`; false when it was another.
pub async fn bump_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, expected: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE console_sittings SET version = version + 1 WHERE sitting_id = $1 AND version = $2")
        .bind(sitting)
        .bind(expected)
        .execute(ex)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A room-wide change of a sitting and its seats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SittingChange {
    /// Pause everyone.
    Pause,
    /// Resume everyone.
    Resume,
    /// End for everyone.
    End,
}

/// The console's room-wide change of the sitting's row at `now_ms` (its
/// version was raised before).
pub async fn change_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, change: SittingChange, sitting: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    let update = match change {
        SittingChange::Pause => "UPDATE console_sittings SET paused_ms = $1 WHERE sitting_id = $2",
        SittingChange::Resume => "UPDATE console_sittings SET paused_ms = NULL WHERE sitting_id = $2 AND paused_ms <= $1",
        SittingChange::End => "UPDATE console_sittings SET ended_ms = $1 WHERE sitting_id = $2",
    };
    sqlx::query(update).bind(now_ms).bind(sitting).execute(ex).await?;
    Ok(())
}

/// The command line's room-wide change of the sitting's row at `now_ms`,
/// raising its version: only when it changes something (not ended twice,
/// paused twice, resumed when not paused); false otherwise. `by` names who
/// ended it.
pub async fn change_sitting_once<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    change: SittingChange,
    sitting: &str,
    now_ms: i64,
    by: &str,
) -> Result<bool, sqlx::Error> {
    let r = match change {
        SittingChange::End => sqlx::query("UPDATE console_sittings SET ended_ms = $1, ended_by = $2, version = version + 1 WHERE sitting_id = $3 AND ended_ms IS NULL")
            .bind(now_ms)
            .bind(by)
            .bind(sitting),
        SittingChange::Pause => {
            sqlx::query("UPDATE console_sittings SET paused_ms = $1, version = version + 1 WHERE sitting_id = $2 AND paused_ms IS NULL AND ended_ms IS NULL")
                .bind(now_ms)
                .bind(sitting)
        }
        SittingChange::Resume => {
            sqlx::query("UPDATE console_sittings SET paused_ms = NULL, version = version + 1 WHERE sitting_id = $1 AND paused_ms IS NOT NULL").bind(sitting)
        }
    }
    .execute(ex)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// Names who ended a sitting for everyone.
pub async fn set_ended_by<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, by: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE console_sittings SET ended_by = $1 WHERE sitting_id = $2").bind(by).bind(sitting).execute(ex).await?;
    Ok(())
}

/// When and by whom a sitting was ended for everyone.
#[derive(Debug, sqlx::FromRow)]
pub struct Ended {
    /// When (unix ms).
    pub ended_ms: i64,
    /// Who (the console's display name, or the CLI's `--by`).
    pub ended_by: Option<String>,
}

/// The end of a sitting, if it was ended for everyone.
pub async fn sitting_ended<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Option<Ended>, sqlx::Error> {
    sqlx::query_as("SELECT ended_ms, ended_by FROM console_sittings WHERE sitting_id = $1 AND ended_ms IS NOT NULL").bind(sitting).fetch_optional(ex).await
}

/// A sitting's console version (none without a console row).
pub async fn sitting_version<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM console_sittings WHERE sitting_id = $1").bind(sitting).fetch_optional(ex).await
}

/// Whether a sitting is paused for everyone (none without a console row).
pub async fn sitting_paused_ms<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Option<Option<i64>>, sqlx::Error> {
    sqlx::query_scalar("SELECT paused_ms FROM console_sittings WHERE sitting_id = $1").bind(sitting).fetch_optional(ex).await
}

/// Gives a seat its console row (version 0) if it has none.
pub async fn ensure_seat<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO console_seats (sitting_id, student_number, version, paused_total_ms) VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING")
        .bind(sitting)
        .bind(student)
        .execute(ex)
        .await?;
    Ok(())
}

/// Gives every candidate of a sitting a console seat row if they have none.
pub async fn ensure_seats_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO console_seats (sitting_id, student_number, version, paused_total_ms) SELECT sitting_id, student_number, 0, 0 FROM candidates WHERE sitting_id = $1 ON CONFLICT DO NOTHING",
    )
    .bind(sitting)
    .execute(ex)
    .await?;
    Ok(())
}

/// Raises a seat's version from `expected`; false when it was another.
pub async fn bump_seat_from<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, expected: i64) -> Result<bool, sqlx::Error> {
    let r = sqlx::query("UPDATE console_seats SET version = version + 1 WHERE sitting_id = $1 AND student_number = $2 AND version = $3")
        .bind(sitting)
        .bind(student)
        .bind(expected)
        .execute(ex)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Raises a seat's version.
pub async fn bump_seat<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE console_seats SET version = version + 1 WHERE sitting_id = $1 AND student_number = $2").bind(sitting).bind(student).execute(ex).await?;
    Ok(())
}

/// Raises the version of every seat of a sitting.
pub async fn bump_seats_of_sitting<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE console_seats SET version = version + 1 WHERE sitting_id = $1").bind(sitting).execute(ex).await?;
    Ok(())
}

/// A change of one seat's state at a time `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatChange {
    /// Paused now (the console, whose version check decides).
    Pause,
    /// Paused now, unless paused or ended already (the command line).
    PauseIfRunning,
    /// The pause (if any) ends now; the paused time is added up.
    Resume,
    /// Ended now (the console, whose version check decides).
    End,
    /// Ended now, unless ended already (the command line).
    EndIfRunning,
    /// The end is lifted (if it was no later than now), and a pause the end
    /// overtook ends as if resumed now.
    Reopen,
}

/// Changes one seat at `now_ms`; the number of rows changed (0 or 1).
pub async fn change_seat<'e, E: Executor<'e, Database = Any>>(ex: E, change: SeatChange, sitting: &str, student: &str, now_ms: i64) -> Result<u64, sqlx::Error> {
    let update = match change {
        SeatChange::Pause => "UPDATE console_seats SET paused_ms = $1 WHERE sitting_id = $2 AND student_number = $3",
        SeatChange::PauseIfRunning => "UPDATE console_seats SET paused_ms = $1 WHERE sitting_id = $2 AND student_number = $3 AND paused_ms IS NULL AND ended_ms IS NULL",
        SeatChange::Resume => {
            "UPDATE console_seats SET paused_total_ms = paused_total_ms + ($1 - paused_ms), paused_ms = NULL \
             WHERE sitting_id = $2 AND student_number = $3 AND paused_ms IS NOT NULL"
        }
        SeatChange::End => "UPDATE console_seats SET ended_ms = $1 WHERE sitting_id = $2 AND student_number = $3",
        SeatChange::EndIfRunning => "UPDATE console_seats SET ended_ms = $1 WHERE sitting_id = $2 AND student_number = $3 AND ended_ms IS NULL",
        SeatChange::Reopen => {
            "UPDATE console_seats SET ended_ms = NULL, \
             paused_total_ms = paused_total_ms + CASE WHEN paused_ms IS NULL THEN 0 ELSE $1 - paused_ms END, paused_ms = NULL \
             WHERE sitting_id = $2 AND student_number = $3 AND ended_ms <= $1"
        }
    };
    Ok(sqlx::query(update).bind(now_ms).bind(sitting).bind(student).execute(ex).await?.rows_affected())
}

/// The room-wide change of every seat of a sitting at `now_ms` (seats that
/// are ended are not paused; ended seats keep their end).
pub async fn change_all_seats<'e, E: Executor<'e, Database = Any>>(ex: E, change: SittingChange, sitting: &str, now_ms: i64) -> Result<(), sqlx::Error> {
    let update = match change {
        SittingChange::Pause => "UPDATE console_seats SET paused_ms = $1 WHERE sitting_id = $2 AND paused_ms IS NULL AND ended_ms IS NULL",
        SittingChange::Resume => "UPDATE console_seats SET paused_total_ms = paused_total_ms + ($1 - paused_ms), paused_ms = NULL WHERE sitting_id = $2 AND paused_ms IS NOT NULL",
        SittingChange::End => "UPDATE console_seats SET ended_ms = $1 WHERE sitting_id = $2 AND ended_ms IS NULL",
    };
    sqlx::query(update).bind(now_ms).bind(sitting).execute(ex).await?;
    Ok(())
}

/// Whether a seat is ended now (no row: not ended).
pub async fn seat_ended<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<bool, sqlx::Error> {
    let ended: Option<Option<i64>> = sqlx::query_scalar("SELECT ended_ms FROM console_seats WHERE sitting_id = $1 AND student_number = $2 AND ended_ms IS NOT NULL")
        .bind(sitting)
        .bind(student)
        .fetch_optional(ex)
        .await?;
    Ok(ended.is_some())
}

/// A seat's console version (none without a console row).
pub async fn seat_version<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT version FROM console_seats WHERE sitting_id = $1 AND student_number = $2").bind(sitting).bind(student).fetch_optional(ex).await
}

/// A seat ended by an invigilator.
#[derive(Debug, sqlx::FromRow)]
pub struct EndedSeat {
    /// The student.
    pub student_number: String,
    /// When (unix ms).
    pub ended_ms: i64,
}

/// The seats of a sitting that are ended now.
pub async fn ended_seats<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str) -> Result<Vec<EndedSeat>, sqlx::Error> {
    sqlx::query_as("SELECT student_number, ended_ms FROM console_seats WHERE sitting_id = $1 AND ended_ms IS NOT NULL").bind(sitting).fetch_all(ex).await
}

/// A move of a student to another PC, authorised from the console.
#[derive(Debug)]
pub struct NewMove<'a> {
    /// Its id.
    pub move_id: &'a str,
    /// The sitting.
    pub sitting_id: &'a str,
    /// The student.
    pub student_number: &'a str,
    /// The PC the student leaves, if known.
    pub from_device: Option<&'a str>,
    /// The PC the student moves to.
    pub to_device: Option<&'a str>,
    /// Who authorised it.
    pub authorised_by: &'a str,
    /// When (unix ms).
    pub authorised_ms: i64,
}

/// Stores an authorised move.
pub async fn insert_move<'e, E: Executor<'e, Database = Any>>(ex: E, m: &NewMove<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO console_moves (move_id, sitting_id, student_number, from_device, to_device, authorised_by, authorised_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(m.move_id)
    .bind(m.sitting_id)
    .bind(m.student_number)
    .bind(m.from_device)
    .bind(m.to_device)
    .bind(m.authorised_by)
    .bind(m.authorised_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// The newest move of a student to `device` authorised from the console (its id).
pub async fn authorised_move<'e, E: Executor<'e, Database = Any>>(ex: E, sitting: &str, student: &str, device: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT move_id FROM console_moves WHERE sitting_id = $1 AND student_number = $2 AND to_device = $3 ORDER BY authorised_ms DESC")
        .bind(sitting)
        .bind(student)
        .bind(device)
        .fetch_optional(ex)
        .await
}

/// A move, as the room view shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct Move {
    /// The sitting.
    pub sitting_id: String,
    /// The student.
    pub student_number: String,
    /// The PC the student moves to.
    pub to_device: String,
}

/// The moves in the sittings of `room` that start between `from_ms` and `to_ms`, oldest first.
pub async fn moves_in_room<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, from_ms: i64, to_ms: i64) -> Result<Vec<Move>, sqlx::Error> {
    sqlx::query_as(
        "SELECT m.sitting_id, m.student_number, m.to_device FROM console_moves m JOIN sittings s ON s.sitting_id = m.sitting_id \
         WHERE s.room = $1 AND s.start_ms >= $2 AND s.start_ms <= $3 ORDER BY m.authorised_ms",
    )
    .bind(room)
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(ex)
    .await
}

/// A room's TOTP secret (wrapped) and its parameters.
#[derive(Debug, sqlx::FromRow)]
pub struct RoomCode {
    /// The secret, as stored (wrapped, or hex from before wrapping).
    pub secret_hex: String,
    /// Seconds per code.
    pub step_secs: i64,
    /// Digits per code.
    pub digits: i64,
}

/// The room-code secret of `room`.
pub async fn room_code<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str) -> Result<Option<RoomCode>, sqlx::Error> {
    sqlx::query_as("SELECT secret_hex, step_secs, digits FROM console_room_codes WHERE room = $1").bind(room).fetch_optional(ex).await
}

/// Creates or replaces the room-code secret of `room`.
pub async fn upsert_room_code<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    room: &str,
    secret_hex: &str,
    step_secs: i64,
    digits: i64,
    created_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO console_room_codes (room, secret_hex, step_secs, digits, created_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (room) DO UPDATE SET secret_hex = excluded.secret_hex, step_secs = excluded.step_secs, digits = excluded.digits, created_ms = excluded.created_ms",
    )
    .bind(room)
    .bind(secret_hex)
    .bind(step_secs)
    .bind(digits)
    .bind(created_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// A room's stored secret.
#[derive(Debug, sqlx::FromRow)]
pub struct RoomSecret {
    /// The room.
    pub room: String,
    /// The secret, as stored.
    pub secret_hex: String,
}

/// Every room's stored secret, by room.
pub async fn room_secrets<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<RoomSecret>, sqlx::Error> {
    sqlx::query_as("SELECT room, secret_hex FROM console_room_codes ORDER BY room").fetch_all(ex).await
}

/// Replaces a room's stored secret if it is still `old`.
pub async fn replace_room_secret<'e, E: Executor<'e, Database = Any>>(ex: E, room: &str, old: &str, new: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE console_room_codes SET secret_hex = $1 WHERE room = $2 AND secret_hex = $3").bind(new).bind(room).bind(old).execute(ex).await?;
    Ok(())
}
