//! What happens around the exam: the guard's reports, locks, the window's
//! focus and shape, refusals, and the end of the kiosk.

use super::*;
use crate::guard::GuardEvent;

impl Kiosk {
    /// Handles what the guard reported since the last call: journals it
    /// (done by the guard thread's sink) and locks when a process could not
    /// be ended; saves the running exam clock when due. Call periodically
    /// (the shell does, every 250 ms).
    pub async fn poll_guard(&self) {
        let mut inner = self.inner.lock().await;
        // The running exam clock is saved every ~2 s (not only at
        // transitions), so a crash gives back at most that (issue 15).
        if let Some(Err(e)) = inner.ready_mut().map(|r| r.session.save_clock_if_due()) {
            inner.journal_event(&KioskEvent::SessionClockNotSaved(ev::Reason::new(e.to_string())));
        }
        let events: Vec<GuardEvent> = match inner.ready() {
            Some(ready) => ready.guard.events.lock().unwrap_or_else(|p| p.into_inner()).try_iter().collect(),
            None => return,
        };
        let mut changed = false;
        let in_exam = matches!(inner.phase(), Some(Phase::InExam | Phase::HandingIn | Phase::Locked));
        for event in events {
            // A process that could not be ended always locks; one that was
            // ended locks during the exam, so the invigilator sees the attempt.
            let reason = match &event.outcome {
                crate::guard::Outcome::NotEnded { .. } => {
                    Some(format!("Het programma '{}' mag niet draaien en kon niet worden gestopt.", event.name))
                }
                // A trusted program ended only as a display client not on the
                // desktop list (the desktop starts those on its own) is
                // journalled, not locked for.
                crate::guard::Outcome::Ended { .. } if in_exam && event.locks_when_ended() => {
                    Some(format!("Het programma '{}' is gestart. Het is gestopt; de surveillant moet de pc vrijgeven.", event.name))
                }
                _ => None,
            };
            if let Some(reason) = reason {
                if inner.lock_session(reason).is_ok() {
                    changed = true;
                }
            }
        }
        if changed {
            self.changed(&inner);
        }
    }

    /// Locks the session (guard, environment, focus loss, hub instruction).
    pub async fn lock(&self, reason: &str) -> Result<KioskView, UserError> {
        let mut inner = self.inner.lock().await;
        inner.lock_session(reason.to_owned())?;
        Ok(self.changed(&inner))
    }

    /// The window gained (`true`) or lost the focus. Synchronous, so the
    /// shell can call it in event order; returns how long the window was
    /// without focus when it comes back. Whether a loss locks is decided by
    /// [`Kiosk::poll_focus`] once [`FOCUS_GRACE`] has passed.
    pub fn focus_changed(&self, focused: bool) -> Option<Duration> {
        let mut lost_at = self.focus_lost_at.lock().unwrap_or_else(|p| p.into_inner());
        if focused {
            lost_at.take().map(|t| t.elapsed())
        } else {
            lost_at.get_or_insert_with(std::time::Instant::now);
            None
        }
    }

    /// Journals a focus change reported by [`Kiosk::focus_changed`].
    pub async fn journal_focus(&self, focused: bool, away: Option<Duration>) {
        let inner = self.inner.lock().await;
        let phase = inner.phase();
        match (focused, away) {
            (false, _) => inner.journal_event(&KioskEvent::KioskFocusLost(ev::Phase { phase: phase_name(phase) })),
            (true, Some(away)) => inner.journal_event(&KioskEvent::KioskFocusRegained(ev::FocusRegained {
                after_ms: away.as_millis() as u64,
                phase: phase_name(phase),
            })),
            (true, None) => {}
        }
    }

    /// Locks the session when the window has been without focus for longer
    /// than [`FOCUS_GRACE`] during the exam and the policy says so
    /// (`lock-on-focus-loss`); demo mode, or a policy that does not lock,
    /// only shows a notice. Call periodically (the shell does, every 250 ms).
    pub async fn poll_focus(&self) {
        let mut inner = self.inner.lock().await;
        let mut lost_at = self.focus_lost_at.lock().unwrap_or_else(|p| p.into_inner());
        let Some(lost) = *lost_at else { return };
        if lost.elapsed() < FOCUS_GRACE || !inner.phase().is_some_and(Phase::is_exam_underway) {
            return;
        }
        // Counted once: the next loss starts a new count.
        *lost_at = None;
        drop(lost_at);
        let policy_locks = inner.ready().is_some_and(|r| r.policy.lock.lock_on_focus_loss);
        let locks = policy_locks && !inner.demo;
        inner.journal_event(&KioskEvent::KioskFocusAway(ev::FocusAway {
            away_ms: lost.elapsed().as_millis() as u64,
            demo: inner.demo,
            locks,
            policy_locks,
        }));
        if locks {
            let reason = "Het examenvenster was niet meer actief: een ander venster of programma kreeg de aandacht. De surveillant moet de pc vrijgeven.";
            let _ = inner.lock_session(reason.to_owned());
        } else {
            inner.notice = Some(Notice::FocusLost);
        }
        self.changed(&inner);
    }

    /// The exam window was resized, moved, hidden or iconified by something
    /// other than the kiosk (the shell puts it back, `payload` says what
    /// happened): journalled as `kiosk.window_disturbed`, and during the
    /// exam it locks as a focus loss does (policy `lock-on-focus-loss`, not
    /// in demo mode): the student could have seen something else than the exam.
    pub async fn window_disturbed(&self, payload: crate::events::Details) {
        let mut inner = self.inner.lock().await;
        let phase = inner.phase();
        let policy_locks = inner.ready().is_some_and(|r| r.policy.lock.lock_on_focus_loss);
        let locks = policy_locks && !inner.demo && phase.is_some_and(Phase::is_exam_underway);
        let mut payload = payload;
        payload.insert("phase".into(), serde_json::to_value(phase).unwrap_or_default());
        payload.insert("locks".into(), serde_json::Value::Bool(locks));
        inner.journal_event(&KioskEvent::KioskWindowDisturbed(payload));
        if locks {
            let reason = "Het examenvenster werd verkleind, verplaatst of verborgen. De surveillant moet de pc vrijgeven.";
            let _ = inner.lock_session(reason.to_owned());
            self.changed(&inner);
        }
    }

    /// Something was refused that the student should see (a close request,
    /// a second copy of the kiosk): journalled, and shown as a notice.
    pub async fn refused(&self, notice: Notice, payload: crate::events::Details) {
        let mut inner = self.inner.lock().await;
        let phase = inner.phase();
        let mut payload = payload;
        payload.insert("phase".into(), serde_json::to_value(phase).unwrap_or_default());
        inner.journal_event(&notice.journal_event(payload));
        inner.notice = Some(notice);
        self.changed(&inner);
    }

    /// Whether closing the window may be allowed now.
    pub async fn may_exit(&self) -> bool {
        let inner = self.inner.lock().await;
        // Not started (a failed step: nothing to protect) or shut down: no session.
        inner.demo || matches!(inner.phase(), Some(Phase::Submitted) | None)
    }

    /// Journals an event from the shell (a window restored, a picker refused, ...).
    pub async fn record(&self, event: KioskEvent) {
        self.inner.lock().await.journal_event(&event);
    }

    /// Stops the guard and undoes every startup step, in reverse order.
    pub async fn shutdown(&self) {
        let mut inner = self.inner.lock().await;
        // A failed start stays as it is (its screen says why); nothing to undo.
        if matches!(inner.started, Startup::Ready(_)) {
            if let Startup::Ready(ready) = std::mem::replace(&mut inner.started, Startup::ShutDown) {
                let Ready { mut guard, mut applied, .. } = *ready;
                guard.stop();
                applied.unwind();
            }
        }
    }
}
