//! Instructions to kiosks (lock, unlock, add time, pause, resume, end).
//!
//! Instructions are rows in the database, so any hub node (or the admin
//! CLI) can issue them and any node can deliver them. Each node runs one
//! poller that reads the unacknowledged instructions every
//! [`INSTRUCTION_POLL`](crate::config::INSTRUCTION_POLL) and publishes a
//! snapshot; each kiosk's event stream sends what is new at once and re-sends
//! what is still unacknowledged every
//! [`INSTRUCTION_RESEND`](crate::config::INSTRUCTION_RESEND).
//!
//! An instruction belongs to a session (sitting + student,
//! [`InstructionScope`]): it is delivered only while that session is the
//! device's current one (the newest session on the device that was not
//! revoked and has not expired), so one queued for a PC that was off never
//! reaches the next student who logs in there. It expires with the session:
//! still in the table (evidence), never delivered again.
//!
//! An invigilator's reopen withdraws the session's end and pause
//! instructions issued before it that no PC acknowledged ([`withdrawn`]):
//! they stay in the table, the reopen's entry in the hub's journal of
//! actions names them, and they are never delivered (a PC that was off at
//! the end would otherwise hand in when it comes back, after the reopen).

use crate::config::INSTRUCTION_POLL;
use crate::db::Db;
use exam_protocol::{Instruction, InstructionKind, InstructionScope};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// Unacknowledged instructions by device.
#[derive(Debug, Default)]
pub struct Pending {
    by_device: HashMap<String, Vec<Instruction>>,
}

impl Pending {
    /// The pending instructions of one device, oldest first.
    pub fn for_device(&self, device_id: &str) -> &[Instruction] {
        self.by_device.get(device_id).map_or(&[], Vec::as_slice)
    }
}

/// How long past its expiry at login a session is still looked at: time
/// added and pauses since may have moved it (see
/// [`session_valid`](crate::enforcement::session_valid)).
const EXTENDED_SESSION_LOOKBACK_MS: i64 = 24 * 60 * 60 * 1000;

/// The current session of every device that has one: the newest session
/// that was not revoked and is still valid (its expiry moves with time added
/// and pauses).
pub async fn current_sessions(db: &Db) -> Result<HashMap<String, InstructionScope>, sqlx::Error> {
    current(db, None).await
}

/// The current session of one device (see [`current_sessions`]).
pub async fn current_session(db: &Db, device_id: &str) -> Result<Option<InstructionScope>, sqlx::Error> {
    Ok(current(db, Some(device_id)).await?.remove(device_id))
}

async fn current(db: &Db, device: Option<&str>) -> Result<HashMap<String, InstructionScope>, sqlx::Error> {
    let now = crate::now_ms();
    let rows = crate::store::sessions::open(&db.pool, now - EXTENDED_SESSION_LOOKBACK_MS, device.unwrap_or("")).await?;
    let mut current = HashMap::new();
    for row in rows {
        let scope = InstructionScope { sitting_id: row.sitting_id, student_number: row.student_number };
        let device_id = row.device_id;
        let expires_ms = row.expires_ms;
        // Ordered oldest first: the newest session of a device wins, and a
        // newer session that is no longer valid still ends an older one's turn.
        if crate::enforcement::session_valid(&db.pool, &scope.sitting_id, &scope.student_number, expires_ms, now).await? {
            current.insert(device_id, scope);
        } else {
            current.remove(&device_id);
        }
    }
    Ok(current)
}

/// Whether `instruction` may be delivered to a device whose current session
/// is `current`: only in its own session; one without a session only to a
/// device nobody is logged in on.
pub fn deliverable(instruction: &Instruction, current: Option<&InstructionScope>) -> bool {
    instruction.session.as_ref() == current
}

/// Whether an invigilator's reopen at `reopened_ms` of the instruction's
/// session withdrew it: an end or pause issued no later than the reopen.
pub fn withdrawn(instruction: &Instruction, reopened_ms: Option<i64>) -> bool {
    matches!(instruction.kind, InstructionKind::End | InstructionKind::Pause) && reopened_ms.is_some_and(|at| instruction.issued_at_ms <= at)
}

/// The newest reopen of every seat that was ever reopened.
async fn reopens(db: &Db) -> Result<HashMap<(String, String), i64>, sqlx::Error> {
    Ok(crate::store::audit::last_reopens(&db.pool).await?.into_iter().map(|r| ((r.sitting_id, r.student_number), r.at_ms)).collect())
}

/// The ids of a session's unacknowledged end and pause instructions, which a
/// reopen now withdraws (journalled with the reopen).
pub async fn to_withdraw(db: &Db, scope: &InstructionScope) -> Result<Vec<String>, sqlx::Error> {
    let rows = crate::store::instructions::unacked(&db.pool).await?;
    let mut out = Vec::new();
    for row in rows {
        if let Ok(instruction) = serde_json::from_str::<Instruction>(&row.body) {
            if instruction.session.as_ref() == Some(scope) && withdrawn(&instruction, Some(i64::MAX)) {
                out.push(instruction.id);
            }
        }
    }
    Ok(out)
}

/// Reads all unacknowledged instructions that are deliverable now.
pub async fn load_pending(db: &Db) -> Result<Pending, sqlx::Error> {
    let rows = crate::store::instructions::unacked(&db.pool).await?;
    let current = current_sessions(db).await?;
    let reopened = reopens(db).await?;
    let mut pending = Pending::default();
    for row in rows {
        let device = row.device_id;
        let body = row.body;
        match serde_json::from_str::<Instruction>(&body) {
            Ok(instruction)
                if deliverable(&instruction, current.get(&device))
                    && !withdrawn(&instruction, instruction.session.as_ref().and_then(|s| reopened.get(&(s.sitting_id.clone(), s.student_number.clone()))).copied()) =>
            {
                pending.by_device.entry(device).or_default().push(instruction)
            }
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "stored instruction is not valid; skipped"),
        }
    }
    Ok(pending)
}

/// Publishes the pending instructions until the receivers are gone.
pub async fn poller(db: Db, tx: watch::Sender<Arc<Pending>>, poll_now: Arc<Notify>) {
    let mut last_error_logged = false;
    loop {
        match load_pending(&db).await {
            Ok(pending) => {
                last_error_logged = false;
                if tx.send(Arc::new(pending)).is_err() {
                    return;
                }
            }
            Err(err) if !last_error_logged => {
                tracing::warn!(error = %err, "cannot read pending instructions; retrying");
                last_error_logged = true;
            }
            Err(_) => {}
        }
        tokio::select! {
            () = tokio::time::sleep(INSTRUCTION_POLL) => {}
            () = poll_now.notified() => {}
        }
    }
}

/// Stores an instruction for a device in a session (`None`: nobody is
/// logged in on it); returns it.
pub async fn issue(
    db: &Db,
    device_id: &str,
    session: Option<InstructionScope>,
    kind: InstructionKind,
    reason: &str,
    issued_by: &str,
) -> Result<Instruction, sqlx::Error> {
    let instruction = Instruction {
        id: crate::random_id(),
        kind,
        reason: reason.to_string(),
        issued_by: issued_by.to_string(),
        issued_at_ms: crate::now_ms(),
        session,
    };
    let body = serde_json::to_string(&instruction).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    crate::store::instructions::insert(&db.pool, &instruction.id, device_id, &body, instruction.issued_at_ms).await?;
    Ok(instruction)
}

/// Marks an instruction of `device_id` acknowledged. False when there is no such instruction.
pub async fn acknowledge(db: &Db, device_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    if crate::store::instructions::acknowledge(&db.pool, id, device_id, crate::now_ms()).await? {
        return Ok(true);
    }
    // Acknowledging twice is fine; an unknown id is not.
    crate::store::instructions::exists(&db.pool, id, device_id).await
}
