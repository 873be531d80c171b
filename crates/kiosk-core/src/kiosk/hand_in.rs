//! Handing in: *InExam → HandingIn → Submitted* (the hub's receipt); an
//! upload that fails stays handing in and is tried again.

use super::*;

impl Kiosk {
    /// Hands in: the answers become final on this PC and the session goes to
    /// *HandingIn* (saves are refused from then on, with that reason); then
    /// the final upload, and with the hub's signed receipt *Submitted*. An
    /// upload that fails leaves the session handing in — never back in the
    /// exam — and is tried again by the background sync (and by pressing
    /// again); the error says why it has not finished yet.
    pub async fn submit(&self) -> Result<KioskView, UserError> {
        self.hand_in("student").await
    }

    /// [`Kiosk::submit`] for `by` (the student, or an invigilator's end).
    pub(crate) async fn hand_in(&self, by: &str) -> Result<KioskView, UserError> {
        let mut inner = self.inner.lock().await;
        match inner.phase() {
            Some(Phase::InExam) => {
                let store = inner.stage.answers_mut().ok_or_else(|| user("Er is geen examen geopend."))?;
                if !store.status().submitted {
                    store.submit().map_err(|e| user(format!("Inleveren mislukt: {e}. Roep de surveillant.")))?;
                }
                inner.session_apply(Trigger::HandIn { by: by.to_owned() })?;
                self.changed(&inner);
            }
            // The upload failed before: tried again.
            Some(Phase::HandingIn) => {}
            _ => return Err(user("Inleveren kan nu niet.")),
        }
        // The hand-in counts once the hub's signed receipt for the final
        // save is stored: sent without the lock, then checked again.
        drop(inner);
        self.send_answers().await;
        let mut inner = self.inner.lock().await;
        match inner.phase() {
            // Finished meanwhile (the receipt came in, or a remote end handed in).
            Some(Phase::Submitted) => {}
            Some(Phase::HandingIn) => {
                if !inner.finish_hand_in()? {
                    return Err(user(if inner.answers_refused.is_some() {
                        "De examenserver neemt de inlevering niet aan. Je werk blijft op deze pc bewaard; roep de surveillant."
                    } else {
                        "De examenserver is niet bereikbaar. Je werk is bewaard en wordt ingeleverd zodra de server weer bereikbaar is; de pc probeert het steeds opnieuw."
                    }));
                }
            }
            // Locked while the hand-in was on its way: it completes at the unlock.
            _ => return Err(user("De pc is vergrendeld terwijl je inleverde. Je werk is bewaard; de surveillant geeft de pc vrij.")),
        }
        let view = self.changed(&inner);
        drop(inner);
        // Hand the journal over now, too; what fails stays queued for the background sync.
        self.sync().await;
        Ok(view)
    }
}

impl Inner {
    /// The hand-in is done once the hub's signed receipt for the final save
    /// is stored: the session goes to handed in. `false` without it. An
    /// answer store handed in while the session is back in the exam (a
    /// remote end during a lock, unlocked before its receipt) shows as
    /// handing in (`by: earlier`).
    pub(super) fn finish_hand_in(&mut self) -> Result<bool, UserError> {
        let Some(status) = self.stage.answers().map(|a| a.status()).filter(|s| s.submitted) else {
            return Ok(false);
        };
        let receipt = match (self.phase(), status.receipt_code) {
            (Some(Phase::InExam | Phase::HandingIn), Some(receipt)) => receipt,
            (Some(Phase::InExam), None) => {
                self.session_apply(Trigger::HandIn { by: "earlier".into() })?;
                return Ok(false);
            }
            _ => return Ok(false),
        };
        self.session_apply(Trigger::Submitted { receipt })?;
        crate::instrument::web_start::close(&self.web);
        crate::instrument::media::release(&self.media);
        let _ = std::fs::remove_file(self.data_dir.join(dirs::STATE).join(TOKEN_FILE));
        Ok(true)
    }
}
