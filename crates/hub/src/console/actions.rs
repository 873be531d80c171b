//! Invigilator actions. Each one is checked (room, sitting not finished,
//! the version the page saw), journalled on the hub with who and why in the
//! same transaction as its effect, and then delivered to the kiosks through
//! the instruction channel ([`crate::instructions`]).

use super::auth::ConsoleUser;
use super::{Console, ConsoleError};
use crate::db::{Db, WriteTx};
use exam_protocol::{InstructionKind, InstructionScope};
use serde::{Deserialize, Serialize};
use crate::store::rooms::{SeatChange, SittingChange};
use std::sync::Arc;

pub use crate::audit::{Action, MAX_REASON_LEN};

/// Most minutes one add-time action gives.
pub const MAX_ADDED_MINUTES: u32 = 240;

/// `POST /console/api/rooms/{room}/actions` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionRequest {
    /// What to do.
    pub action: Action,
    /// The sitting.
    pub sitting_id: String,
    /// The student (for actions on one seat).
    #[serde(default)]
    pub student_number: Option<String>,
    /// The version of the seat (or, for room-wide actions, the sitting) the page showed.
    pub version: i64,
    /// Why (journalled; shown on the kiosk for instructions).
    #[serde(default)]
    pub reason: String,
    /// Minutes, for `add_time`.
    #[serde(default)]
    pub minutes: Option<u32>,
    /// The PC to move to, for `move`.
    #[serde(default)]
    pub to_device: Option<String>,
}

/// The answer to an action.
#[derive(Debug, Clone, Serialize)]
pub struct ActionResult {
    /// What happened, in Dutch, for the page to announce.
    pub message: String,
    /// The new version of the seat or sitting.
    pub version: i64,
    /// A new access code (`reprint_code` only; shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_code: Option<String>,
    /// Instructions sent to kiosks.
    pub instructions: usize,
}

struct Sitting {
    start_ms: i64,
    started_ms: Option<i64>,
}

pub use crate::enforcement::current_device;

/// The move of a student to `device` authorised from the console, if any
/// (the answer hand-over to the new PC checks this).
pub async fn authorised_move(db: &Db, sitting: &str, student: &str, device: &str) -> Result<Option<String>, sqlx::Error> {
    crate::store::rooms::authorised_move(&db.pool, sitting, student, device).await
}

fn hhmm(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(time::macros::format_description!("[hour]:[minute]:[second] UTC")).ok())
        .unwrap_or_default()
}

/// Who last acted on a seat (or, with no student, the sitting), for the
/// message to the invigilator who lost a race.
async fn last_actor(db: &Db, sitting: &str, student: Option<&str>) -> Result<String, sqlx::Error> {
    let row = match student {
        Some(s) => crate::store::audit::last_on_seat(&db.pool, sitting, s).await?,
        None => crate::store::audit::last_in_sitting(&db.pool, sitting).await?,
    };
    Ok(match row {
        Some(r) => format!(
            "{} deed intussen '{}' om {}",
            r.display_name,
            r.action,
            hhmm(r.at_ms)
        ),
        None => "iemand anders heeft dit intussen gewijzigd".into(),
    })
}

/// Raises a seat's version from `expected`; a conflict when the page was stale.
async fn bump_seat(tx: &mut WriteTx, sitting: &str, student: &str, expected: i64) -> Result<bool, sqlx::Error> {
    crate::store::rooms::ensure_seat(&mut **tx, sitting, student).await?;
    crate::store::rooms::bump_seat_from(&mut **tx, sitting, student, expected).await
}

/// Raises a sitting's version from `expected`; a conflict when the page was stale.
async fn bump_sitting(tx: &mut WriteTx, sitting: &str, expected: i64) -> Result<bool, sqlx::Error> {
    crate::store::rooms::ensure_sitting(&mut **tx, sitting).await?;
    crate::store::rooms::bump_sitting(&mut **tx, sitting, expected).await
}

/// Appends to the hub's journal of console actions.
#[allow(clippy::too_many_arguments)]
#[allow(clippy::too_many_arguments)]
async fn journal(
    tx: &mut WriteTx,
    user: &ConsoleUser,
    room: &str,
    sitting: &str,
    student: Option<&str>,
    action: &str,
    reason: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    let entry = crate::audit::Entry {
        at_ms: crate::now_ms(),
        username: &user.account.username,
        display_name: &user.account.display_name,
        room,
        sitting: Some(sitting),
        student,
        action,
        reason,
        detail,
    };
    crate::audit::record(tx, &entry).await
}

/// Loads the sitting, refusing one of another room or (unless
/// `allow_ended`: a reopen, or an action on a seat reopened after
/// "Beëindigen voor iedereen") one already ended.
async fn load_sitting(db: &Db, room: &str, sitting: &str, allow_ended: bool) -> Result<Sitting, ConsoleError> {
    let row = crate::store::planning::room_and_start(&db.pool, sitting)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("zitting {sitting} bestaat niet")))?;
    if row.room != room {
        return Err(ConsoleError::WrongRoom);
    }
    if let Some(r) = crate::store::rooms::sitting_ended(&db.pool, sitting).await?.filter(|_| !allow_ended) {
        return Err(ConsoleError::Finished(format!(
            "Zitting {sitting} is al beëindigd door {} om {}. Vernieuw de pagina; er kan niets meer aan veranderd worden.",
            r.ended_by.unwrap_or_default(),
            hhmm(r.ended_ms)
        )));
    }
    Ok(Sitting { start_ms: row.start_ms, started_ms: row.started_ms })
}

/// Whether the seat is ended now (no row: not ended).
async fn seat_ended(db: &Db, sitting: &str, student: &str) -> Result<bool, sqlx::Error> {
    crate::store::rooms::seat_ended(&db.pool, sitting, student).await
}

/// `POST /console/api/rooms/{room}/actions`.
pub async fn act(
    axum::extract::State(console): axum::extract::State<Arc<Console>>,
    axum::extract::Path(room): axum::extract::Path<String>,
    user: ConsoleUser,
    super::Body(req): super::Body<ActionRequest>,
) -> Result<axum::Json<ActionResult>, ConsoleError> {
    if !user.account.may_act_in(&room) {
        return Err(ConsoleError::WrongRoom);
    }
    let reason = req.reason.trim().to_string();
    if req.action.needs_reason() || !reason.is_empty() {
        super::check_text("reden", &reason, MAX_REASON_LEN)?;
    }
    let db = &console.hub.db;
    // After an end for everyone: a reopen, and actions on a seat reopened since.
    let allow_ended = match (req.action, req.student_number.as_deref()) {
        (Action::Reopen, _) => true,
        (action, Some(student)) if !action.is_room_wide() => !seat_ended(db, &req.sitting_id, student).await?,
        _ => false,
    };
    let sitting = load_sitting(db, &room, &req.sitting_id, allow_ended).await?;
    let result = if req.action.is_room_wide() {
        room_wide(&console, &user, &room, &sitting, &req, &reason).await?
    } else {
        let student = req.student_number.as_deref().ok_or_else(|| ConsoleError::Invalid("student_number ontbreekt".into()))?;
        seat(&console, &user, &room, &req, student, &reason).await?
    };
    tracing::info!(username = %user.account.username, room = %room, sitting = %req.sitting_id, action = req.action.name(), "console action");
    Ok(axum::Json(result))
}

async fn seat(
    console: &Console,
    user: &ConsoleUser,
    room: &str,
    req: &ActionRequest,
    student: &str,
    reason: &str,
) -> Result<ActionResult, ConsoleError> {
    let db = &console.hub.db;
    let sitting_id = req.sitting_id.as_str();
    let candidate = crate::store::planning::seat_state(&db.pool, sitting_id, student)
        .await?
        .ok_or_else(|| ConsoleError::NotFound(format!("student {student} staat niet in zitting {sitting_id}")))?;
    let name = candidate.name;
    let paused_ms = candidate.paused_ms;
    let ended = candidate.ended_ms.is_some();
    if ended && !matches!(req.action, Action::ReprintCode | Action::Reopen) {
        return Err(ConsoleError::Finished(format!("Het examen van {name} is al beëindigd. Vernieuw de pagina.")));
    }
    if !ended && req.action == Action::Reopen {
        return Err(ConsoleError::Invalid(format!("Het examen van {name} is niet beëindigd; er is niets te heropenen.")));
    }
    let device = current_device(db, sitting_id, student).await?;
    let needs_device = matches!(req.action, Action::Unlock | Action::Lock | Action::Pause | Action::Resume | Action::Move);
    if needs_device && device.is_none() {
        return Err(ConsoleError::Conflict(format!("{name} is nog niet ingelogd op een pc."), None));
    }
    let now = crate::now_ms();
    let by = user.account.display_name.clone();
    let mut kind: Option<InstructionKind> = None;
    let mut detail = String::new();
    let mut instruction_reason = reason.to_string();
    let mut to_device: Option<String> = None;
    match req.action {
        Action::Unlock => kind = Some(InstructionKind::Unlock),
        Action::Lock => kind = Some(InstructionKind::Lock),
        Action::AddTime => {
            let minutes = req.minutes.filter(|m| (1..=MAX_ADDED_MINUTES).contains(m)).ok_or_else(|| {
                ConsoleError::Invalid(format!("extra tijd is 1 tot {MAX_ADDED_MINUTES} minuten"))
            })?;
            kind = Some(InstructionKind::AddTime { minutes });
            detail = format!("{minutes} min");
        }
        Action::Pause if paused_ms.is_some() => return Err(ConsoleError::Invalid(format!("{name} is al gepauzeerd"))),
        Action::Pause => kind = Some(InstructionKind::Pause),
        Action::Resume if paused_ms.is_none() => return Err(ConsoleError::Invalid(format!("{name} is niet gepauzeerd"))),
        Action::Resume => kind = Some(InstructionKind::Resume),
        Action::End => kind = device.as_ref().map(|_| InstructionKind::End),
        Action::Move => {
            let target = req.to_device.as_deref().ok_or_else(|| ConsoleError::Invalid("kies de pc waar de student naartoe gaat".into()))?;
            let hostname = crate::store::devices::hostname_in_room(&db.pool, target, room)
                .await?
                .ok_or_else(|| ConsoleError::Invalid("die pc hoort niet bij dit lokaal".into()))?;
            if device.as_deref() == Some(target) {
                return Err(ConsoleError::Invalid(format!("{name} zit al op die pc")));
            }
            let host = hostname.unwrap_or_else(|| target.to_string());
            detail = format!("van {} naar {host} ({target})", device.as_deref().unwrap_or("-"));
            instruction_reason = format!("Verplaatst naar {host}: {reason}");
            kind = Some(InstructionKind::Lock);
            to_device = Some(target.to_string());
        }
        Action::Reopen => {
            // The session's end (and pause) instructions no PC acknowledged are
            // withdrawn: kept, named here, never delivered (crate::instructions).
            let scope = InstructionScope { sitting_id: sitting_id.to_string(), student_number: student.to_string() };
            let ids = crate::instructions::to_withdraw(db, &scope).await?;
            if !ids.is_empty() {
                detail = format!("ingetrokken instructies: {}", ids.join(", "));
            }
        }
        Action::ResetLockout | Action::ReprintCode => {}
        Action::Start | Action::PauseAll | Action::ResumeAll | Action::EndAll => {
            return Err(ConsoleError::Invalid("dit is een actie voor de hele zitting".into()))
        }
    }
    let mut tx = db.begin_write().await?;
    if !bump_seat(&mut tx, sitting_id, student, req.version).await? {
        drop(tx);
        let who = last_actor(db, sitting_id, Some(student)).await?;
        return Err(ConsoleError::Conflict(format!("Niet uitgevoerd: {who}. De weergave is bijgewerkt; kijk of uw actie nog nodig is."), Some(seat_version(db, sitting_id, student).await?)));
    }
    match req.action {
        Action::AddTime => {
            crate::store::planning::add_minutes(&mut *tx, sitting_id, student, i64::from(req.minutes.unwrap_or(0))).await?;
        }
        Action::Pause => {
            crate::store::rooms::change_seat(&mut *tx, SeatChange::Pause, sitting_id, student, now).await?;
        }
        Action::Resume => {
            crate::store::rooms::change_seat(&mut *tx, SeatChange::Resume, sitting_id, student, now).await?;
        }
        Action::End => {
            crate::store::rooms::change_seat(&mut *tx, SeatChange::End, sitting_id, student, now).await?;
        }
        Action::Move => {
            let authorised = crate::store::rooms::NewMove {
                move_id: &crate::random_id(),
                sitting_id,
                student_number: student,
                from_device: device.as_deref(),
                to_device: to_device.as_deref(),
                authorised_by: &by,
                authorised_ms: now,
            };
            crate::store::rooms::insert_move(&mut *tx, &authorised).await?;
        }
        Action::ResetLockout => {
            crate::store::planning::lift_lock(&mut *tx, sitting_id, student).await?;
            crate::lockout::clear(&mut tx, sitting_id, student).await?;
        }
        Action::Reopen => {
            // The end stays in the hub's journal of actions (and in the
            // classification of what arrived meanwhile); only the seat's state changes.
            // A pause the end overtook ends with the reopen, like a resume.
            crate::store::rooms::change_seat(&mut *tx, SeatChange::Reopen, sitting_id, student, now).await?;
        }
        _ => {}
    }
    journal(&mut tx, user, room, sitting_id, Some(student), req.action.name(), reason, &detail).await?;
    tx.commit().await?;
    let version = req.version + 1;
    let mut sent = 0;
    if let (Some(kind), Some(device)) = (kind, device.as_deref()) {
        let scope = InstructionScope { sitting_id: sitting_id.to_string(), student_number: student.to_string() };
        crate::instructions::issue(db, device, Some(scope), kind, &instruction_reason, &by).await?;
        console.hub.poll_now.notify_one();
        sent = 1;
    }
    let mut access_code = None;
    let message = match req.action {
        Action::Unlock => format!("{name}: ontgrendelen verstuurd naar de pc."),
        Action::Lock => format!("{name}: vergrendelen verstuurd naar de pc."),
        Action::AddTime => format!("{name}: {} minuten extra tijd gegeven.", req.minutes.unwrap_or(0)),
        Action::Pause => format!("{name}: gepauzeerd; de tijd staat stil."),
        Action::Resume => format!("{name}: hervat."),
        Action::End => format!("{name}: examen beëindigd."),
        Action::Move => format!("{name}: verplaatsing goedgekeurd. Laat {name} op de nieuwe pc inloggen met dezelfde toegangscode; de antwoorden gaan mee."),
        Action::ResetLockout => format!("{name}: inlogblokkade opgeheven."),
        Action::Reopen => format!(
            "{name}: examen heropend. {name} kan weer inloggen (met dezelfde toegangscode) en verder werken; wat nu wordt opgeslagen en ingeleverd telt. \
             De eindtijd is niet verschoven: geef zo nodig extra tijd."
        ),
        Action::ReprintCode => {
            let codes = crate::planning::reissue_codes(db, &console.hub.keys, sitting_id, Some(student)).await?;
            let code = codes.into_iter().next().map(|c| c.code).ok_or_else(|| ConsoleError::NotFound(format!("geen code voor {student}")))?;
            access_code = Some(code);
            format!("{name}: nieuwe toegangscode gemaakt (de oude werkt niet meer).")
        }
        _ => String::new(),
    };
    Ok(ActionResult { message, version, access_code, instructions: sent })
}

async fn seat_version(db: &Db, sitting: &str, student: &str) -> Result<i64, sqlx::Error> {
    Ok(crate::store::rooms::seat_version(&db.pool, sitting, student).await?.unwrap_or(0))
}

async fn sitting_version(db: &Db, sitting: &str) -> Result<i64, sqlx::Error> {
    Ok(crate::store::rooms::sitting_version(&db.pool, sitting).await?.unwrap_or(0))
}

async fn room_wide(console: &Console, user: &ConsoleUser, room: &str, sitting: &Sitting, req: &ActionRequest, reason: &str) -> Result<ActionResult, ConsoleError> {
    let db = &console.hub.db;
    let sitting_id = req.sitting_id.as_str();
    let now = crate::now_ms();
    let paused: bool = crate::store::rooms::sitting_paused_ms(&db.pool, sitting_id).await?.flatten().is_some();
    let (kind, message) = match req.action {
        Action::Start if sitting.started_ms.is_some() || now >= sitting.start_ms => {
            return Err(ConsoleError::Invalid(format!("zitting {sitting_id} is al begonnen")))
        }
        Action::Start => (None, format!("Zitting {sitting_id} is gestart; de pc's krijgen de examensleutel.")),
        Action::PauseAll if paused => return Err(ConsoleError::Invalid(format!("zitting {sitting_id} is al gepauzeerd"))),
        Action::PauseAll => (Some(InstructionKind::Pause), format!("Zitting {sitting_id} is gepauzeerd; de tijd staat stil.")),
        Action::ResumeAll if !paused => return Err(ConsoleError::Invalid(format!("zitting {sitting_id} is niet gepauzeerd"))),
        Action::ResumeAll => (Some(InstructionKind::Resume), format!("Zitting {sitting_id} is hervat.")),
        Action::EndAll => (Some(InstructionKind::End), format!("Zitting {sitting_id} is beëindigd voor iedereen.")),
        _ => return Err(ConsoleError::Invalid("dit is een actie voor één student".into())),
    };
    // Everyone logged in who has not handed in gets the instruction, in their session.
    let mut devices = Vec::new();
    for r in crate::store::sessions::open_not_handed_in(&db.pool, sitting_id).await? {
        devices.push((r.device_id, r.student_number));
    }
    let mut tx = db.begin_write().await?;
    if !bump_sitting(&mut tx, sitting_id, req.version).await? {
        drop(tx);
        let who = last_actor(db, sitting_id, None).await?;
        return Err(ConsoleError::Conflict(format!("Niet uitgevoerd: {who}. De weergave is bijgewerkt."), Some(sitting_version(db, sitting_id).await?)));
    }
    crate::store::rooms::ensure_seats_of_sitting(&mut *tx, sitting_id).await?;
    let change = match req.action {
        // The start is the planning's (store::planning::start, below).
        Action::Start => None,
        Action::PauseAll => Some(SittingChange::Pause),
        Action::ResumeAll => Some(SittingChange::Resume),
        _ => Some(SittingChange::End),
    };
    if req.action == Action::Start {
        crate::store::planning::start(&mut *tx, sitting_id, now).await?;
    }
    if let Some(change) = change {
        crate::store::rooms::change_sitting(&mut *tx, change, sitting_id, now).await?;
        crate::store::rooms::change_all_seats(&mut *tx, change, sitting_id, now).await?;
    }
    if req.action == Action::EndAll {
        crate::store::rooms::set_ended_by(&mut *tx, sitting_id, &user.account.display_name).await?;
    }
    // Room-wide actions change every seat: pages acting on a seat with an older version lose.
    crate::store::rooms::bump_seats_of_sitting(&mut *tx, sitting_id).await?;
    let detail = crate::audit::pc_count(devices.len());
    let reason = if reason.is_empty() && req.action == Action::Start { "gezamenlijke start" } else { reason };
    journal(&mut tx, user, room, sitting_id, None, req.action.name(), reason, &detail).await?;
    tx.commit().await?;
    let mut sent = 0;
    if let Some(kind) = kind {
        for (device, student) in &devices {
            let scope = InstructionScope { sitting_id: sitting_id.to_string(), student_number: student.clone() };
            crate::instructions::issue(db, device, Some(scope), kind.clone(), reason, &user.account.display_name).await?;
            sent += 1;
        }
        console.hub.poll_now.notify_one();
    }
    Ok(ActionResult { message, version: req.version + 1, access_code: None, instructions: sent })
}
