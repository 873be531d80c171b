//! The access-code lock-out, counted per (student, PC) in the database.
//!
//! Every code that is going to be checked first reserves an attempt with one
//! atomic `UPDATE … WHERE attempts < limit RETURNING attempts`, so however
//! many wrong codes arrive at once, at most [`MAX_LOGIN_FAILURES`] are
//! checked before a correct one (or the invigilator) resets the count; the
//! others are answered `423 locked` unchecked. The count belongs to the PC
//! the codes were typed on: wrong codes on PC X never lock the student on
//! PC Y, so one PC cannot lock a room of students out. A PC with wrong codes
//! for [`SUSPECT_STUDENTS`] or more students within [`SUSPECT_WINDOW_MS`]
//! raises the alarm [`alarm::MANY_STUDENTS`].
//!
//! A reservation is an [`Attempt`]: only a wrong code keeps it counted, a
//! right one resets the count once its transaction is committed. Any other
//! way out of the login — the kiosk hangs up while the hub checks, an error
//! — gives the attempt back when the `Attempt` is dropped, so only wrong
//! codes ever lock a student.
//!
//! A PC is locked for a student while its count is at the limit. The wrong
//! code that reached the limit dates the lock on that PC
//! (`login_failures.locked_ms`: the proces-verbaal names the PC, see
//! [`locked_pcs`], also after the lock was lifted) and on the seat
//! (`candidates.locked_ms`: the console shows the seat as locked). The
//! invigilator's unlock and a new access code clear the seat's and [`clear`]
//! the per-PC counts.

use crate::config::{MAX_LOGIN_FAILURES, SUSPECT_STUDENTS, SUSPECT_WINDOW_MS};
use crate::db::Db;
use crate::error::ApiError;
use axum::http::StatusCode;
use crate::store;

/// Alarm kinds.
pub mod alarm {
    /// One PC typed wrong access codes for several students.
    pub const MANY_STUDENTS: &str = "login.many_students";
}

/// An attempt reserved for one (sitting, student, PC): the code may now be
/// checked once. Dropped without [`Attempt::wrong_code`] or
/// [`Attempt::committed`] (the request was dropped, or failed on the way),
/// it gives the attempt back.
#[derive(Debug)]
#[must_use = "a reserved attempt is settled with `wrong_code`, or `succeeded` and `committed`; dropped, it is given back"]
pub struct Attempt {
    db: Db,
    sitting: String,
    student: String,
    device: String,
    /// Attempts counted on this PC, this one included.
    attempts: i64,
    /// The outcome is recorded: nothing to give back.
    settled: bool,
}

fn locked() -> ApiError {
    ApiError::new(StatusCode::LOCKED, "locked", "too many wrong access codes on this workstation: ask the invigilator to unlock")
}

/// Reserves one check of an access code for `student` of `sitting` on
/// `device`; `423 locked` when this PC has used up its attempts.
pub async fn reserve(db: &Db, sitting: &str, student: &str, device: &str) -> Result<Attempt, ApiError> {
    store::sessions::ensure_failures(&db.pool, sitting, student, device).await?;
    match store::sessions::count_attempt(&db.pool, sitting, student, device, MAX_LOGIN_FAILURES).await? {
        Some(attempts) => Ok(Attempt {
            db: db.clone(),
            sitting: sitting.to_string(),
            student: student.to_string(),
            device: device.to_string(),
            attempts,
            settled: false,
        }),
        None => Err(locked()),
    }
}

impl Attempt {
    /// The code was wrong: the attempt stays counted, the PC is locked for
    /// this student at the limit, and a PC trying several students raises
    /// an alarm. Recorded to the end even when the kiosk hangs up meanwhile
    /// (the console and the proces-verbaal must see the lock). Returns the
    /// answer for the kiosk.
    pub async fn wrong_code(mut self, now: i64) -> ApiError {
        self.settled = true;
        match tokio::spawn(async move { self.record_wrong(now).await }).await {
            Ok(Ok(err) | Err(err)) => err,
            Err(join) => {
                tracing::error!(error = %join, "recording a wrong access code failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
            }
        }
    }

    /// The code was right: this PC's count for the student starts again
    /// (inside the login's transaction; call [`Attempt::committed`] once
    /// that transaction is committed).
    pub async fn succeeded(&self, tx: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
        store::sessions::reset_attempts(tx, &self.sitting, &self.student, &self.device).await
    }

    /// The transaction with [`Attempt::succeeded`] is committed: the
    /// attempt is settled.
    pub fn committed(mut self) {
        self.settled = true;
    }

    async fn record_wrong(&self, now: i64) -> Result<ApiError, ApiError> {
        let db = &self.db;
        let at_limit = self.attempts >= MAX_LOGIN_FAILURES;
        let mut tx = db.begin_write().await?;
        // The last of the limit locks: when, on record for the proces-verbaal.
        store::sessions::record_failure(&mut *tx, &self.sitting, &self.student, &self.device, now, at_limit).await?;
        if at_limit {
            // Shown on the console's seat.
            store::planning::mark_locked(&mut *tx, &self.sitting, &self.student, now).await?;
        }
        tx.commit().await?;
        tracing::info!(device = %self.device, sitting = %self.sitting, attempts = self.attempts, "login refused: wrong access code");
        self.suspect_device(now).await?;
        if at_limit {
            return Ok(locked());
        }
        let mut err = ApiError::unauthorized("wrong access code");
        err.body.error = "invalid_credentials".into();
        err.body.remaining_attempts = Some((MAX_LOGIN_FAILURES - self.attempts).max(0) as u32);
        Ok(err)
    }

    /// Raises [`alarm::MANY_STUDENTS`] (once per window) when this PC typed
    /// wrong codes for several students recently.
    async fn suspect_device(&self, now: i64) -> Result<(), ApiError> {
        let db = &self.db;
        let since = now - SUSPECT_WINDOW_MS;
        let students = store::sessions::students_failed_on(&db.pool, &self.device, since).await?;
        if students < SUSPECT_STUDENTS {
            return Ok(());
        }
        let recent = store::journals::recent_alarm(&db.pool, &self.device, alarm::MANY_STUDENTS, since).await?;
        if recent.is_none() {
            // Shown to the invigilator on the room page: in Dutch.
            let detail = format!("{students} studenten binnen {} minuten", SUSPECT_WINDOW_MS / 60_000);
            crate::journal::raise_alarm(db, &self.device, alarm::MANY_STUDENTS, &detail).await;
        }
        Ok(())
    }
}

impl Drop for Attempt {
    /// Gives an unsettled attempt back. `Drop` cannot wait for the
    /// database: the release runs as a task of its own. It never takes the
    /// count below zero, so a release after a reset (a commit whose answer
    /// was lost) changes nothing.
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(device = %self.device, sitting = %self.sitting, "login attempt not given back: no runtime");
            return;
        };
        let (db, sitting, student, device) =
            (self.db.clone(), std::mem::take(&mut self.sitting), std::mem::take(&mut self.student), std::mem::take(&mut self.device));
        runtime.spawn(async move {
            let released = store::sessions::give_back_attempt(&db.pool, &sitting, &student, &device).await;
            match released {
                Ok(_) => tracing::info!(device = %device, sitting = %sitting, "login attempt given back: the code's check did not finish"),
                Err(err) => tracing::error!(device = %device, sitting = %sitting, error = %err, "login attempt not given back"),
            }
        });
    }
}

/// Clears a student's counts, and so the locks, on every PC (the
/// invigilator's unlock, `exam-hub reset-lock`, a new access code). When
/// and where the student was locked stays on record for the
/// proces-verbaal.
pub async fn clear(tx: &mut sqlx::AnyConnection, sitting: &str, student: &str) -> Result<(), sqlx::Error> {
    store::sessions::reset_all_attempts(tx, sitting, student).await
}

/// A PC on which a student was locked out (the lock may have been lifted
/// since): the proces-verbaal names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPc {
    /// The student.
    pub student_number: String,
    /// The PC the wrong codes were typed on.
    pub device_id: String,
    /// Its host name, when the kiosk reported one at enrolment.
    pub hostname: Option<String>,
    /// When the limit was reached (the latest time), unix ms.
    pub locked_ms: i64,
}

/// The (student, PC) locks of `sitting`, oldest first; of a PC locked
/// again after an unlock, the latest.
pub async fn locked_pcs(db: &Db, sitting: &str) -> Result<Vec<LockedPc>, sqlx::Error> {
    let rows = store::sessions::locks_of_sitting(&db.pool, sitting).await?;
    Ok(rows
        .into_iter()
        .map(|r| LockedPc {
            student_number: r.student_number,
            device_id: r.device_id,
            hostname: r.hostname.filter(|h| !h.trim().is_empty()),
            locked_ms: r.locked_ms,
        })
        .collect())
}
