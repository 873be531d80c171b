//! Administrative operations the `exam-hub` CLI (and later the console)
//! performs directly on the database: enrolment tokens, revocation,
//! lock-out resets, starting a sitting, instructions, listings.

use crate::audit::Action;
use crate::db::Db;
use crate::store;
use crate::store::rooms::{SeatChange, SittingChange};
use exam_protocol::{InstructionKind, InstructionScope};
use std::collections::BTreeSet;

/// Errors of admin operations.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The thing named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is not valid in the current state (nothing was changed).
    #[error("{0}")]
    Invalid(String),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// Creates a one-time enrolment token for `room`; returns the token (shown once).
pub async fn create_enrol_token(db: &Db, room: &str, validity_ms: i64) -> Result<String, AdminError> {
    let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, crate::random_bytes(18));
    let now = crate::now_ms();
    store::devices::insert_token(&db.pool, &crate::sha256_hex(token.as_bytes()), room, now, now + validity_ms).await?;
    Ok(token)
}

/// Revokes a device: its certificate is refused and its sessions end.
pub async fn revoke_device(db: &Db, device_id: &str) -> Result<(), AdminError> {
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    if store::devices::revoke(&mut *tx, device_id, now).await? == 0 {
        return Err(AdminError::NotFound(format!("no device {device_id}")));
    }
    store::sessions::revoke_of_device(&mut *tx, device_id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The user name the hub's journal of actions (`console_actions.username`)
/// gives actions from the `exam-hub` CLI.
pub const CLI_USER: &str = "exam-hub-cli";
/// Action name of a re-admission in `console_actions`.
pub const READMIT_ACTION: &str = "device_readmit";

/// Re-admits a revoked device by its id: its revocation stays in force (its
/// old certificate stays refused) until the device enrols again with a new
/// token and proof of its device key. Journalled with who and why in the
/// hub's action journal (`console_actions`), in the same transaction.
pub async fn readmit_device(db: &Db, device_id: &str, reason: &str) -> Result<(), AdminError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control) {
        return Err(AdminError::Invalid("--reason must be 1 to 500 printable characters: why may this PC enrol again?".into()));
    }
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    let row = store::devices::revocation(&mut *tx, device_id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no device {device_id} (exam-hub devices lists them)")))?;
    let (revoked, readmitted) = (row.revoked_ms, row.readmitted_ms);
    match revoked {
        None => return Err(AdminError::Invalid(format!("device {device_id} is not revoked; nothing to re-admit"))),
        Some(r) if readmitted.is_some_and(|a| a >= r) => {
            return Err(AdminError::Invalid(format!("device {device_id} was already re-admitted; it may enrol again with a new token")))
        }
        Some(_) => {}
    }
    store::devices::readmit(&mut *tx, device_id, now).await?;
    let entry = crate::audit::Entry {
        username: CLI_USER,
        at_ms: now,
        display_name: "exam-hub CLI (beheer)",
        room: &row.room,
        sitting: None,
        student: None,
        action: READMIT_ACTION,
        reason,
        detail: &format!("device {device_id} re-admitted: it may enrol again with a new token and proof of its device key"),
    };
    crate::audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Clears a student's lock-out for a sitting (the code stays valid),
/// journalled in the hub's journal of actions as the console's *lift
/// lock-out* is, so the proces-verbaal says who lifted it and when.
pub async fn reset_lock(db: &Db, sitting: &str, student: &str) -> Result<(), AdminError> {
    let mut tx = db.begin_write().await?;
    if store::planning::lift_lock(&mut *tx, sitting, student).await? == 0 {
        return Err(AdminError::NotFound(format!("student {student} is not planned for sitting {sitting}")));
    }
    crate::lockout::clear(&mut tx, sitting, student).await?;
    let room = store::planning::room_of(&mut *tx, sitting).await?.ok_or(sqlx::Error::RowNotFound)?;
    let entry = crate::audit::Entry {
        username: CLI_USER,
        at_ms: crate::now_ms(),
        display_name: crate::reports::CLI_NAME,
        room: &room,
        sitting: Some(sitting),
        student: Some(student),
        action: Action::ResetLockout.name(),
        reason: "",
        detail: "",
    };
    crate::audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// `exam-hub account unlock`: clears the lock-out columns older hub versions
/// set after wrong console passwords (sign-in no longer reads or sets them;
/// it slows wrong passwords in the running hub instead, which this does not
/// touch). True when such a lock-out was still in force.
pub async fn unlock_account(db: &Db, username: &str) -> Result<bool, AdminError> {
    let locked_until = crate::store::accounts::lock_state(&db.pool, username)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no account {username}")))?
        .locked_until_ms;
    crate::accounts::unlock(db, username).await.map_err(|e| AdminError::Invalid(e.to_string()))?;
    Ok(locked_until.is_some_and(|t| t > crate::now_ms()))
}

/// Starts a sitting now (releases the content key before the scheduled time).
pub async fn start_sitting(db: &Db, sitting: &str) -> Result<(), AdminError> {
    if store::planning::start(&db.pool, sitting, crate::now_ms()).await? == 0 {
        if !store::planning::sitting_exists(&db.pool, sitting).await? {
            return Err(AdminError::NotFound(format!("no sitting {sitting}")));
        }
    }
    Ok(())
}

/// Who an instruction goes to.
#[derive(Debug, Clone)]
pub enum Target {
    /// One device.
    Device(String),
    /// Every enrolled device in a room.
    Room(String),
    /// The device of a student's current session in a sitting.
    Student {
        /// Sitting id.
        sitting: String,
        /// Student number.
        student: String,
    },
}

/// Issues an instruction to the target's devices, each in the session of the
/// student logged in there; returns the instruction ids. `AddTime` for a
/// student also extends their time on the hub; `End`, `Pause` and `Resume`
/// for a student are recorded on the hub (the seat's state and the journal
/// of actions, like the console's), so the hub enforces them even when no PC
/// receives the instruction. `End`, `Pause` and `Resume` for a room act for
/// everyone in each sitting of that room a student is logged in to on one of
/// its PCs, as the console's room-wide buttons do ([`for_everyone`]);
/// a seat of another room's sitting, or one reopened after an end for
/// everyone, or a sitting already paused (or not paused, for a resume), is
/// changed seat by seat.
pub async fn instruct(db: &Db, target: &Target, kind: InstructionKind, reason: &str, by: &str) -> Result<Vec<String>, AdminError> {
    // As in the console: resuming needs no reason, everything else does.
    let reason = checked_reason(reason, kind != InstructionKind::Resume)?;
    let mut devices: Vec<(String, Option<InstructionScope>)> = Vec::new();
    let mut recorded = 0;
    match target {
        Target::Device(id) => {
            if let Some(device) = store::devices::active(&db.pool, id).await? {
                let scope = crate::instructions::current_session(db, &device).await?;
                devices.push((device, scope));
            }
        }
        Target::Room(room) => {
            let rows = store::devices::active_of_room(&db.pool, room).await?;
            let current = crate::instructions::current_sessions(db).await?;
            for device in rows {
                let scope = current.get(&device).cloned();
                devices.push((device, scope));
            }
        }
        Target::Student { sitting, student } => {
            ensure_planned(db, sitting, student).await?;
            if let InstructionKind::AddTime { minutes } = &kind {
                store::planning::add_minutes(&db.pool, sitting, student, i64::from(*minutes)).await?;
            }
            let scope = InstructionScope { sitting_id: sitting.clone(), student_number: student.clone() };
            if record_seat(db, &scope, &kind, reason, by).await? {
                recorded += 1;
            }
            let device = crate::enforcement::current_device(db, sitting, student).await?;
            devices.extend(device.map(|d| (d, Some(scope))));
        }
    }
    let mut whole_sittings = BTreeSet::new();
    if let (Target::Room(room), InstructionKind::End | InstructionKind::Pause | InstructionKind::Resume) = (target, &kind) {
        let sittings: BTreeSet<String> = devices.iter().filter_map(|(_, s)| s.as_ref()).map(|s| s.sitting_id.clone()).collect();
        for sitting in sittings {
            if let Some(sessions) = for_everyone(db, room, &sitting, &kind, reason, by).await? {
                // The console's instructions go to every session of the sitting, also on PCs of other rooms.
                for (device, scope) in sessions {
                    if !devices.iter().any(|(d, s)| *d == device && s.as_ref() == Some(&scope)) {
                        devices.push((device, Some(scope)));
                    }
                }
                recorded += 1;
                whole_sittings.insert(sitting);
            }
        }
    }
    if !matches!(target, Target::Student { .. }) {
        for scope in devices.iter().filter_map(|(_, s)| s.as_ref()).filter(|s| !whole_sittings.contains(&s.sitting_id)) {
            record_seat(db, scope, &kind, reason, by).await?;
        }
    }
    if devices.is_empty() && recorded == 0 {
        return Err(AdminError::NotFound("no (non-revoked) device matches the target".into()));
    }
    let mut ids = Vec::new();
    for (device, scope) in devices {
        ids.push(crate::instructions::issue(db, &device, scope, kind.clone(), reason, by).await?.id);
    }
    Ok(ids)
}

/// Refuses a student who is not planned for the sitting.
async fn ensure_planned(db: &Db, sitting: &str, student: &str) -> Result<(), AdminError> {
    if store::planning::is_candidate(&db.pool, sitting, student).await? {
        Ok(())
    } else {
        Err(AdminError::NotFound(format!("student {student} is not planned for sitting {sitting}")))
    }
}

/// Ends, pauses or resumes `sitting` of `room` for everyone on the hub,
/// recording what the console's "Beëindigen voor iedereen", "Alles
/// pauzeren" and "Alles hervatten" (`end_all`, `pause_all`, `resume_all`)
/// record, in one
/// transaction: the sitting's state (`console_sittings`: ended when and by
/// `by`, or paused since when; a new version), every planned seat changed
/// (also of students not logged in) with a new version, and one line in the
/// journal of actions with the number of PCs told. Returns the sessions the
/// console would instruct (every session of the sitting not revoked and not
/// handed in), or `None` when the sitting is of another room, or was already
/// ended (or already paused, or not paused for a resume): nothing written.
async fn for_everyone(
    db: &Db,
    room: &str,
    sitting: &str,
    kind: &InstructionKind,
    reason: &str,
    by: &str,
) -> Result<Option<Vec<(String, InstructionScope)>>, AdminError> {
    let action = match kind {
        InstructionKind::End => Action::EndAll,
        InstructionKind::Pause => Action::PauseAll,
        InstructionKind::Resume => Action::ResumeAll,
        _ => return Ok(None),
    };
    let of_room = store::planning::room_of(&db.pool, sitting).await?;
    if of_room.as_deref() != Some(room) {
        return Ok(None);
    }
    let mut sessions = Vec::new();
    for r in store::sessions::open_not_handed_in(&db.pool, sitting).await? {
        let scope = InstructionScope { sitting_id: sitting.to_string(), student_number: r.student_number };
        sessions.push((r.device_id, scope));
    }
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    let change = match action {
        Action::EndAll => SittingChange::End,
        Action::PauseAll => SittingChange::Pause,
        _ => SittingChange::Resume,
    };
    store::rooms::ensure_sitting(&mut *tx, sitting).await?;
    if !store::rooms::change_sitting_once(&mut *tx, change, sitting, now, by).await? {
        return Ok(None);
    }
    store::rooms::ensure_seats_of_sitting(&mut *tx, sitting).await?;
    // The same seat changes as the console's room-wide actions.
    store::rooms::change_all_seats(&mut *tx, change, sitting, now).await?;
    // Console pages acting on a seat with an older version lose their race.
    store::rooms::bump_seats_of_sitting(&mut *tx, sitting).await?;
    let detail = crate::audit::pc_count(sessions.len());
    let entry = crate::audit::Entry {
        username: CLI_USER,
        at_ms: now,
        display_name: by,
        room,
        sitting: Some(sitting),
        student: None,
        action: action.name(),
        reason,
        detail: &detail,
    };
    crate::audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Some(sessions))
}

/// Records an end, pause or resume of one seat from the CLI on the hub: the
/// seat's state and a line in the journal of actions (as the console does).
/// False when there was nothing to change (already ended, already paused,
/// not paused) or the instruction is of another kind.
async fn record_seat(db: &Db, scope: &InstructionScope, kind: &InstructionKind, reason: &str, by: &str) -> Result<bool, AdminError> {
    let (change, action) = match kind {
        InstructionKind::End => (SeatChange::EndIfRunning, Action::End),
        InstructionKind::Pause => (SeatChange::PauseIfRunning, Action::Pause),
        InstructionKind::Resume => (SeatChange::Resume, Action::Resume),
        _ => return Ok(false),
    };
    seat_change(db, scope, change, action, reason, by, "exam-hub cli").await
}

/// Changes one seat and journals the action in the same transaction; false
/// when the change changed nothing.
async fn seat_change(db: &Db, scope: &InstructionScope, change: SeatChange, action: Action, reason: &str, by: &str, detail: &str) -> Result<bool, AdminError> {
    let now = crate::now_ms();
    let room = store::planning::room_of(&db.pool, &scope.sitting_id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no sitting {}", scope.sitting_id)))?;
    let mut tx = db.begin_write().await?;
    store::rooms::ensure_seat(&mut *tx, &scope.sitting_id, &scope.student_number).await?;
    if store::rooms::change_seat(&mut *tx, change, &scope.sitting_id, &scope.student_number, now).await? == 0 {
        return Ok(false);
    }
    // Console pages that show the seat's older state lose their race.
    store::rooms::bump_seat(&mut *tx, &scope.sitting_id, &scope.student_number).await?;
    let entry = crate::audit::Entry {
        username: CLI_USER,
        at_ms: now,
        display_name: by,
        room: &room,
        sitting: Some(&scope.sitting_id),
        student: Some(&scope.student_number),
        action: action.name(),
        reason,
        detail,
    };
    crate::audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(true)
}

/// A reason as the console takes it: trimmed, at most
/// [`MAX_REASON_LEN`](crate::audit::MAX_REASON_LEN) printable
/// characters, and not empty when `required`.
fn checked_reason(reason: &str, required: bool) -> Result<&str, AdminError> {
    let reason = reason.trim();
    if (required && reason.is_empty()) || reason.chars().count() > crate::audit::MAX_REASON_LEN || reason.chars().any(char::is_control) {
        return Err(AdminError::Invalid(format!(
            "--reason is {}: 1 to {} printable characters (it is journalled, and in the proces-verbaal)",
            if required { "required" } else { "too long or not printable" },
            crate::audit::MAX_REASON_LEN
        )));
    }
    Ok(reason)
}

/// Reopens a student's ended exam (`exam-hub reopen`): the hub lets the
/// student log in and take the content key again. The reason is required and
/// journalled like the console's action; the end stays in the journal.
pub async fn reopen(db: &Db, sitting: &str, student: &str, reason: &str, by: &str) -> Result<(), AdminError> {
    let reason = checked_reason(reason, true)?;
    ensure_planned(db, sitting, student).await?;
    let scope = InstructionScope { sitting_id: sitting.to_string(), student_number: student.to_string() };
    // The session's unacknowledged end and pause instructions are withdrawn
    // (kept, named in the journal of actions, never delivered).
    let withdrawn = crate::instructions::to_withdraw(db, &scope).await?;
    let detail = if withdrawn.is_empty() { "exam-hub cli".to_string() } else { format!("exam-hub cli; ingetrokken instructies: {}", withdrawn.join(", ")) };
    if !seat_change(db, &scope, SeatChange::Reopen, Action::Reopen, reason, by, &detail).await? {
        return Err(AdminError::Invalid(format!("the exam of {student} in {sitting} was not ended; nothing to reopen")));
    }
    Ok(())
}

/// Writes a consistent copy of the SQLite database to `out` (`VACUUM INTO`),
/// safe while the hub runs. PostgreSQL is backed up with its own tools.
pub async fn backup_sqlite(db: &Db, out: &std::path::Path) -> Result<(), AdminError> {
    if db.backend != crate::db::Backend::Sqlite {
        return Err(AdminError::NotFound("the database is PostgreSQL: back it up with pg_dump (docs/hub.md)".into()));
    }
    if out.exists() {
        return Err(AdminError::NotFound(format!("{} exists; refusing to overwrite it", out.display())));
    }
    // Data at rest: created empty with mode 0600 first (VACUUM INTO accepts
    // an empty file), so the copy is never readable by others, whatever the umask.
    exam_secure::FileWrite::PRIVATE.create_new().write(out, b"").map_err(|e| AdminError::Invalid(format!("{}: {e}", out.display())))?;
    if let Err(err) = db.vacuum_into(&out.display().to_string()).await {
        let _ = std::fs::remove_file(out);
        return Err(err.into());
    }
    Ok(())
}

/// One line per device: id, room, state, last seen, revoked.
pub async fn list_devices(db: &Db) -> Result<Vec<String>, AdminError> {
    let rows = store::devices::all(&db.pool).await?;
    let mut out = Vec::new();
    for r in rows {
        out.push(format!(
            "{}  room={}  host={}  state={}  last-seen={}{}",
            r.device_id,
            r.room,
            r.hostname.unwrap_or_else(|| "-".into()),
            r.last_state.unwrap_or_else(|| "-".into()),
            r.last_seen_ms.map_or("never".into(), crate::planning::format_ms),
            if r.revoked_ms.is_some() { "  REVOKED" } else { "" }
        ));
    }
    Ok(out)
}

/// One line per alarm, newest first.
pub async fn list_alarms(db: &Db) -> Result<Vec<String>, AdminError> {
    let mut out = Vec::new();
    for r in crate::store::journals::all_alarms(&db.pool).await? {
        out.push(format!("{}  {}  device={}  {}", crate::planning::format_ms(r.created_ms), r.kind, r.device_id.unwrap_or_default(), r.detail));
    }
    Ok(out)
}
