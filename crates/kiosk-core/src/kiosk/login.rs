//! The student's login at the hub (and, BYOD, the room code before it).

use super::*;

impl Kiosk {
    /// Logs the student in at the hub.
    pub async fn login(&self, student_number: &str, access_code: &str, room_code: Option<&str>) -> Result<KioskView, UserError> {
        // One login at a time, the room code's check included (it takes the
        // room-code verifier out of the state while the hub is asked: a
        // second check at once would find it empty and take a used code).
        let Ok(_logging_in) = self.starting.try_lock() else {
            return Err(user("Even geduld: het inloggen loopt al."));
        };
        let awaits_room_code = {
            let inner = self.inner.lock().await;
            inner.phase() == Some(Phase::LocationCheck) && inner.room_code_pending
        };
        if awaits_room_code {
            if let Err(err) = self.check_room_code(room_code).await {
                let mut inner = self.inner.lock().await;
                inner.login_error = Some(FormError { message: err.message.clone(), remaining_attempts: None });
                self.changed(&inner);
                return Err(err);
            }
        }
        let mut inner = self.inner.lock().await;
        if inner.phase() != Some(Phase::Login) {
            return Err(user("Inloggen kan nu niet."));
        }
        if let Err(message) =
            check_login_field("studentnummer", student_number.trim()).and_then(|()| check_login_field("toegangscode", access_code.trim()))
        {
            let student: String = student_number.chars().take(MAX_LOGIN_FIELD).collect();
            inner.journal_event(&KioskEvent::SessionLoginFailed(ev::LoginFailed {
                reason: message.clone(),
                student,
                student_bytes: Some(student_number.len() as u64),
            }));
            inner.login_error = Some(FormError { message: message.clone(), remaining_attempts: None });
            self.changed(&inner);
            return Err(user(message));
        }
        // The hub is asked without the state lock (issue 16), on a copy of
        // the client that is adopted after a re-check.
        let mut hub = inner.started()?.hub.clone();
        drop(inner);
        let answer = hub.login(student_number.trim(), access_code.trim()).await;
        let mut inner = self.inner.lock().await;
        if inner.phase() != Some(Phase::Login) {
            // Locked (or moved on) while the hub was asked: nothing is adopted.
            return Err(user("De pc werd vergrendeld tijdens het inloggen. Log opnieuw in zodra de surveillant de pc heeft vrijgegeven."));
        }
        match answer {
            Ok(login) => {
                inner.started_mut()?.hub = hub;
                // Kept (owner-only) so a crashed kiosk can resume this session; bound to this device's certificate.
                if let Err(e) = write_private(&inner.data_dir.join(dirs::STATE).join(TOKEN_FILE), login.session_token.as_bytes()) {
                    inner.journal_event(&KioskEvent::SessionTokenNotSaved(ev::Reason::new(e.to_string())));
                }
                let assignment = login.assignment;
                inner.login_error = None;
                inner.journal_event(&KioskEvent::SessionLogin(ev::Login {
                    sitting: assignment.sitting_id.clone(),
                    student: assignment.student_number.clone(),
                }));
                let session = &mut inner.started_mut()?.session;
                session.set_clock(
                    Duration::from_secs(u64::from(assignment.duration_minutes) * 60),
                    Duration::from_secs(u64::from(assignment.total_minutes.saturating_sub(assignment.duration_minutes)) * 60),
                );
                session
                    .apply(Trigger::LoggedIn { student: assignment.student_number.clone(), sitting: assignment.sitting_id.clone() })
                    .map_err(user)?;
                session.remember_student_name(&assignment.student_name).map_err(user)?;
                inner.grant_accommodations(&assignment.accommodations.tools);
                inner.stage = Stage::assigned(assignment);
            }
            Err(err) => {
                let (message, remaining) = describe_login_error(&err);
                inner.journal_event(&KioskEvent::SessionLoginFailed(ev::LoginFailed {
                    reason: message.clone(),
                    student: student_number.to_owned(),
                    student_bytes: None,
                }));
                inner.login_error = Some(FormError { message: message.clone(), remaining_attempts: remaining });
                self.changed(&inner);
                return Err(user(message));
            }
        }
        Ok(self.changed(&inner))
    }
}

fn describe_login_error(err: &crate::hub::HubError) -> (String, Option<u32>) {
    match err {
        crate::hub::HubError::Refused { status, body } => {
            let remaining = body.remaining_attempts;
            let message = match (*status, remaining) {
                (401, Some(n)) => format!("Studentnummer of toegangscode klopt niet. Nog {n} pogingen."),
                (401, None) => "Studentnummer of toegangscode klopt niet.".to_owned(),
                (423, _) => "Te veel foute pogingen: roep je surveillant.".to_owned(),
                (404, _) if body.error == "unknown_student" => {
                    "Dit studentnummer staat niet in de examenplanning. Controleer het nummer of roep de surveillant.".to_owned()
                }
                (404, _) if body.error == "no_sitting_now" => {
                    "Er staat nu geen examen voor je klaar: het is nog niet begonnen of het is al afgelopen. Roep de surveillant.".to_owned()
                }
                (404, _) => "Er staat nu geen examen voor je klaar in dit lokaal.".to_owned(),
                (403, _) if body.error == "wrong_room" => "Je examen is in een ander lokaal. Roep de surveillant.".to_owned(),
                (403, _) if body.error == "exam_ended" => {
                    "Je examen is door de surveillant beëindigd; alleen de surveillant kan het heropenen.".to_owned()
                }
                (403, _) if body.error == "sitting_over" => "De tijd voor dit examen is voorbij. Roep de surveillant.".to_owned(),
                (403, _) if body.error == "test_kiosk_refused" => {
                    "Deze pc staat in testmodus; de examenserver neemt daarmee geen examen af. Roep de surveillant.".to_owned()
                }
                (429, _) => "Te veel pogingen vanaf deze pc. Wacht even en probeer het opnieuw.".to_owned(),
                // The hub's own words are English and for administrators: the
                // student gets Dutch, with the code for the invigilator.
                (status, _) => format!("Inloggen lukt niet (de examenserver antwoordde {status} {}). Roep de surveillant.", error_code(&body.error)),
            };
            (message, remaining)
        }
        crate::hub::HubError::Unreachable(_) => ("De examenserver is niet bereikbaar. Probeer het zo opnieuw of roep de surveillant.".into(), None),
        _ => ("Inloggen lukt niet door een fout in de verbinding met de examenserver. Roep de surveillant.".into(), None),
    }
}

/// A hub error code as shown to a student: the stable code only (letters,
/// digits, `_`), never text a server sent.
fn error_code(code: &str) -> String {
    let code: String = code.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
    if code.is_empty() { "zonder code".into() } else { code }
}

/// The longest student number and access code the hub takes.
const MAX_LOGIN_FIELD: usize = 64;

/// A student number or access code the hub would refuse anyway, said in Dutch
/// before anything is sent.
fn check_login_field(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("Vul je {what} in."));
    }
    if value.chars().count() > MAX_LOGIN_FIELD || value.chars().any(char::is_control) {
        return Err(format!("Je {what} is te lang of bevat tekens die niet kunnen (hoogstens {MAX_LOGIN_FIELD} tekens)."));
    }
    Ok(())
}

#[cfg(test)]
mod login_message_tests {
    use super::*;
    use crate::kiosk::sync::upload_refusal;

    fn refused(status: u16, error: &str, message: &str) -> crate::hub::HubError {
        let body: exam_protocol::ErrorBody = serde_json::from_value(serde_json::json!({"error": error, "message": message})).unwrap();
        crate::hub::HubError::Refused { status, body }
    }

    /// Issue 15 point 9: a 70 KB student number got the hub's raw English
    /// ("Failed to buffer the request body…") and left no journal record.
    #[test]
    fn students_get_dutch_never_the_hubs_own_words() {
        let raw = "Failed to buffer the request body: length limit exceeded";
        for err in [refused(413, "", raw), refused(400, "invalid_field", raw), refused(500, "internal<script>", raw)] {
            let (message, _) = describe_login_error(&err);
            assert!(!message.contains("Failed") && message.contains("Roep de surveillant"), "{message}");
        }
        assert!(describe_login_error(&refused(403, "exam_ended", raw)).0.contains("beëindigd"));
        assert!(describe_login_error(&refused(500, "internal<script>", raw)).0.contains("500 internalscript"));
        assert!(describe_login_error(&crate::hub::HubError::Protocol(raw.into())).0.starts_with("Inloggen lukt niet"));
        assert!(check_login_field("studentnummer", &"1".repeat(70_000)).unwrap_err().contains("te lang"));
        assert!(check_login_field("studentnummer", "").unwrap_err().contains("Vul je studentnummer in"));
        assert!(check_login_field("toegangscode", "AB\u{7}C").is_err());
        assert_eq!(check_login_field("studentnummer", &"1".repeat(64)), Ok(()));
    }

    /// Issue 14 (review of H1): every failed answer upload was taken for
    /// "offline — your work is kept", also when the hub refused the answers
    /// for good (a conflict, changes it cannot place): the student kept
    /// working for nothing and nobody was told.
    #[test]
    fn a_refused_upload_is_not_offline() {
        assert_eq!(upload_refusal(&refused(409, "conflicting_answers", "x")), Some("conflicting_answers"));
        assert_eq!(upload_refusal(&refused(409, "unknown_base", "x")), Some("unknown_base"));
        assert_eq!(upload_refusal(&refused(422, "changes_do_not_match", "x")), Some("changes_do_not_match"));
        assert_eq!(upload_refusal(&refused(413, "", "x")), Some("refused"));
        for later in [refused(429, "rate_limited", "x"), refused(425, "not_started", "x"), refused(503, "unavailable", "x")] {
            assert_eq!(upload_refusal(&later), None, "{later}");
        }
        assert_eq!(upload_refusal(&crate::hub::HubError::Unreachable("timeout".into())), None);
    }
}
