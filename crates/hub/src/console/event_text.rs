//! Every journal event a kiosk writes, in plain Dutch for the invigilator's
//! room view (issue 17). One `match` over the whole vocabulary, without a
//! catch-all: a new kind of event does not compile until it has its Dutch
//! text or is marked routine. Routine events (the kiosk doing what it
//! should: a clock check, an acknowledged save, the lockdown at start) are
//! folded: they stay in the journal and the proces-verbaal's evidence, but
//! do not push what needs attention out of a seat's few lines.

use exam_protocol::events::KioskEvent;
use serde_json::Value;

use crate::reports::phase_in_dutch as phase;

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

/// With a detail in brackets when there is one.
fn with(what: &str, detail: &str) -> String {
    if detail.trim().is_empty() {
        what.to_string()
    } else {
        format!("{what} ({detail})")
    }
}

/// The event in Dutch, or `None` for a routine event (folded in the room view).
pub fn in_dutch(event: &KioskEvent) -> Option<String> {
    use KioskEvent as E;
    Some(match event {
        E::SessionTransition(t) => {
            let cause = &t.cause;
            match text(&cause["trigger"]) {
                "lock" => format!("Vergrendeld: {}", text(&cause["reason"])),
                "unlock" => format!("Ontgrendeld door {}: {}", text(&cause["by"]), text(&cause["reason"])),
                "exam_started" => "Examen gestart".into(),
                "hand_in" => match text(&cause["by"]) {
                    "student" => "Inleveren gestart door de kandidaat".into(),
                    "earlier" => "Inleveren gaat door".into(),
                    by => format!("Inleveren gestart door {by}"),
                },
                "submitted" => "Ingeleverd".into(),
                "logged_in" => "Ingelogd".into(),
                "resume_confirmed" => format!("Hervat na herstart (door {})", text(&cause["by"])),
                // The start-up steps before the login.
                "lockdown_started" | "lockdown_applied" | "location_approved" => return None,
                _ => format!("{} → {}", phase(&t.from), phase(&t.to)),
            }
        }
        E::SessionTimeAdded(t) => format!("Extra tijd: {} min ({})", t.seconds / 60, t.reason),
        E::SessionClockPaused(r) => with("Klok gepauzeerd", &r.reason),
        E::SessionUnlockFailed(r) => with("Ontgrendelen mislukt", &r.reason),
        E::SessionResumeAbandoned(r) => with("Hervatten afgebroken", &r.reason),
        E::SessionResumed(_) => "Pc herstart: sessie hervat".into(),
        E::SessionLoginFailed(f) => with("Inloggen mislukt", &f.reason),
        E::SessionTokenNotSaved(r) => with("Sessie niet bewaard op de pc", &r.reason),
        E::SessionClockNotSaved(r) => with("Kloktijd niet bewaard op de pc", &r.reason),
        E::SessionLockRequested(_) => "Vergrendeling gevraagd".into(),
        E::GuardProcessEnded(p) => format!("Programma afgesloten: {}", p.name),
        E::GuardProcessWouldEnd(p) => format!("Verboden programma (oefenmodus, niet afgesloten): {}", p.name),
        E::GuardProcessExited(p) => format!("Programma zelf gestopt: {}", p.name),
        E::GuardProcessNotEnded(p) => format!("Programma kon niet worden afgesloten: {}", p.name),
        E::GuardRestartFailed(r) => with("Bewaking kon niet herstarten", &r.reason),
        E::SyncJournalRefused(r) => with("Logboek door de server geweigerd", &r.reason),
        E::SyncJournalDamaged(r) => with("Logboek van de pc beschadigd", &r.reason),
        E::SyncOffline(_) => "Geen verbinding met de server".into(),
        E::SyncOnline(_) => "Verbinding met de server hersteld".into(),
        E::AnswersKeptApart(_) => "Antwoorden apart bewaard (telt niet)".into(),
        E::AnswersUploadFailed(f) => with("Antwoorden nog niet op de server", &f.reason),
        E::AnswersUploadRefused(r) => with("Antwoorden door de server geweigerd", &r.reason),
        E::AnswersMovedIn(m) => format!("Antwoorden overgenomen van pc {}", m.from_device.chars().take(8).collect::<String>()),
        E::AnswersRefused(r) => format!("Antwoord geweigerd: {} ({})", r.item, r.reason),
        E::AnswersSaveFailed(r) => format!("Antwoord niet opgeslagen: {} ({})", r.item, r.reason),
        E::AnswersSaveRecovered(r) => format!("Opslaan werkt weer ({})", r.item),
        E::InstructionApplied(i) => with("Opdracht van de surveillant uitgevoerd", &i.reason),
        E::InstructionEndFailed(i) => with("Beëindigen op de pc mislukt", &i.reason),
        E::InstructionNotRemembered(i) => with("Opdracht niet bewaard op de pc", &i.reason),
        E::InstrumentDownloadFailed(r) => with("Examen ophalen mislukt", &r.reason),
        E::InstrumentRefused(r) => with("Examen geweigerd", &r.reason),
        E::LocationRefused(_) => "Locatie niet goedgekeurd".into(),
        E::LocationAwaitingRoomCode(_) => "Wacht op de lokaalcode".into(),
        E::LocationRoomCodeStateNotSaved(r) => with("Lokaalcode niet bewaard op de pc", &r.reason),
        E::ClockUnchecked(r) => with("Klok van de pc niet gecontroleerd", &r.reason),
        E::ClockFarOff(c) => match c.skew_ms {
            Some(ms) => format!("Klok van de pc loopt {} s {}", ms.unsigned_abs() / 1000, if ms > 0 { "voor" } else { "achter" }),
            None => "Klok van de pc loopt ver af".into(),
        },
        E::KioskFocusLost(_) => "Examenvenster niet meer actief".into(),
        E::KioskFocusRegained(f) => format!("Examenvenster weer actief (na {:.1} s)", f.after_ms as f64 / 1000.0),
        E::KioskFocusAway(f) => format!("Examenvenster {:.1} s niet actief", f.away_ms as f64 / 1000.0),
        E::KioskWindowDisturbed(_) => "Examenvenster verkleind, verplaatst of verborgen".into(),
        E::KioskWindowRestored(_) => "Examenvenster hersteld".into(),
        E::KioskCloseRefused(_) => "Poging het examen te sluiten geweigerd".into(),
        E::KioskSecondInstanceRefused(_) => "Tweede examenprogramma geweigerd".into(),
        E::KioskKeyboardGrabFailed(_) => "Toetsenbord niet in handen van het examen".into(),
        E::KioskWindowCovered(_) => "Ander venster over het examen".into(),
        E::KioskWindowUncovered(_) => "Ander venster weg".into(),
        E::KioskPickerRefused(p) => with("Keuzevenster geweigerd", &p.picker),
        E::KioskEnvironmentCleared(e) => format!("Omgeving opgeschoond ({} instellingen)", e.names.len()),
        E::KioskTestAutomation(_) => "TESTMODUS: een testprogramma bedient de pc".into(),
        E::KioskSignal(s) => with("Examenprogramma kreeg een stopsignaal", &s.signal),
        E::KioskClipboardRetaken(c) => with("Klembord teruggenomen", &c.selection),
        E::WebInstrumentBlocked(_) => "Pagina buiten het examen geblokkeerd".into(),
        // Routine: the kiosk doing what it should.
        E::SessionClockSet(_)
        | E::SessionLogin(_)
        | E::GuardAccommodationsGranted(_)
        | E::GuardStarted(_)
        | E::GuardStopped(_)
        | E::AnswersAcknowledged(_)
        | E::InstrumentDownloadRetried(_)
        | E::InstrumentDownloaded(_)
        | E::InstrumentOpened(_)
        | E::LocationApproved(_)
        | E::LockdownEvent(_)
        | E::LockdownEngaged(_)
        | E::LockdownReleased(_)
        | E::EnvironmentChecked(_)
        | E::ClockChecked(_)
        | E::KioskKeyboardGrabTaken(_)
        | E::KioskDeveloperExtrasOff(_)
        | E::KioskUiReady(_)
        | E::KioskClipboardIsolated(_)
        | E::ToolsCalculatorUsed(_)
        | E::ToolsSpellCheckUsed(_)
        | E::KioskReadAloud(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind is Dutch or routine; none is shown as its code.
    #[test]
    fn every_kind_in_dutch_or_folded() {
        let mut routine = Vec::new();
        for event in KioskEvent::examples() {
            match in_dutch(&event) {
                Some(text) => {
                    assert!(!text.is_empty(), "{}", event.kind());
                    assert!(!text.contains(event.kind()), "{} is shown as its code: {text}", event.kind());
                    assert!(!text.contains('_'), "{}: {text}", event.kind());
                }
                None => routine.push(event.kind()),
            }
        }
        // What needs attention is never folded.
        for shown in ["guard.process_ended", "sync.offline", "kiosk.focus_lost", "kiosk.window_disturbed", "answers.save_failed", "clock.far_off"] {
            assert!(!routine.contains(&shown), "{shown} is folded");
        }
        assert!(routine.contains(&"clock.checked") && routine.contains(&"answers.acknowledged"), "{routine:?}");
    }
}
