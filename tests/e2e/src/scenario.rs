//! The exam, from login to receipt, as a student and an invigilator would
//! do it, through the real window.

use crate::webdriver::Session;
use crate::{Stack, DEMO_PIN};
use std::path::Path;
use std::time::Duration;

const SCREEN: Duration = Duration::from_secs(30);

/// What the scenario observed.
#[derive(Debug, Default)]
pub struct Observed {
    /// Text of the login error after a wrong code.
    pub wrong_code_message: String,
    /// Text of the lock screen's reason.
    pub lock_reason: String,
    /// The receipt code shown after hand-in.
    pub receipt: String,
    /// Screenshots written.
    pub screenshots: Vec<String>,
}

/// axe-core (MPL-2.0), the copy the console tests vendor (tests/console/vendor/axe-core/).
const AXE: &str = include_str!("../../console/vendor/axe-core/axe.min.js");

/// Runs axe-core in the kiosk's own web view on the screen shown; `Err`
/// lists the serious and critical violations (issue 19: every tool passes
/// axe in the kiosk).
pub async fn axe(session: &Session, screen: &str) -> Result<(), String> {
    let loaded = session.script(&format!("{AXE}\n;return typeof axe;")).await?;
    if loaded != serde_json::json!("object") {
        return Err(format!("axe-core did not load in the kiosk ({loaded})"));
    }
    let script = "const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations), (e) => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));";
    let violations = session.script_async(script, vec![]).await?;
    let serious: Vec<String> = violations
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| format!("{} ({}): {} — {}", v["id"], v["impact"], v["help"], v["nodes"].as_array().map(|n| n.iter().map(|n| n["html"].to_string()).collect::<Vec<_>>().join(" | ")).unwrap_or_default()))
        .collect();
    if serious.is_empty() {
        Ok(())
    } else {
        Err(format!("axe: {} serious/critical violations on {screen}:\n{}", serious.len(), serious.join("\n")))
    }
}

/// Saves a screenshot of the current screen as `out/NN-name.png`.
pub async fn shot(session: &Session, out: &Path, observed: &mut Observed, name: &str) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let file = format!("{:02}-{name}.png", observed.screenshots.len() + 1);
    std::fs::write(out.join(&file), session.screenshot().await?).map_err(|e| e.to_string())?;
    observed.screenshots.push(file);
    Ok(())
}

/// Login (a wrong code first, when asked) → assignment → download → start
/// → answer → (when given) `start_offender` runs a prohibited program, the
/// session locks and the invigilator unlocks with the PIN → submit → receipt.
pub async fn exam_flow(
    session: &Session,
    stack: &Stack,
    out: &Path,
    wrong_code_first: bool,
    start_offender: Option<&mut dyn FnMut() -> Result<(), String>>,
) -> Result<Observed, String> {
    let mut observed = Observed::default();
    let student = stack.students.first().ok_or("no students in the demo planning")?.clone();

    let number = session.wait_for("#student-number", SCREEN).await?;
    shot(session, out, &mut observed, "login").await?;
    session.type_into(&number, &student.number).await?;
    if wrong_code_first {
        session.type_into(&session.find("#access-code").await?, "WRONG-CODE").await?;
        session.click(&session.find("#login-submit").await?).await?;
        session.wait_for("#login-error:not(:empty)", SCREEN).await?;
        observed.wrong_code_message = session.text_of("#login-error").await?;
        shot(session, out, &mut observed, "login-wrong-code").await?;
    }

    session.type_into(&session.find("#access-code").await?, &student.code).await?;
    session.click(&session.find("#login-submit").await?).await?;
    let confirm = session.wait_for("#confirm-assignment", SCREEN).await?;
    shot(session, out, &mut observed, "assignment").await?;
    session.click(&confirm).await?;

    let start = session.wait_for("#start-exam", SCREEN).await?;
    shot(session, out, &mut observed, "waiting-for-start").await?;
    session.click(&start).await?;

    session.wait_for("#screen-exam", SCREEN).await?;
    let first_choice = session.wait_for("[data-item-id] input[type=radio]", SCREEN).await?;
    session.click(&first_choice).await?;
    // Saved at once, and acknowledged by the hub in the background.
    session.wait_for("#sync-status[data-local-pending=\"0\"][data-state=\"saved\"]", SCREEN).await?;
    shot(session, out, &mut observed, "exam").await?;

    if let Some(start_offender) = start_offender {
        start_offender()?;
        session.wait_for("#screen-locked", SCREEN).await?;
        observed.lock_reason = session.text_of("#lock-reason").await?;
        shot(session, out, &mut observed, "locked").await?;
        session.type_into(&session.find("#unlock-pin").await?, DEMO_PIN).await?;
        session.type_into(&session.find("#unlock-reason").await?, "programma gestopt, student gesproken").await?;
        session.click(&session.find("#unlock-submit").await?).await?;
    }

    let submit = session.wait_for("#submit-exam", SCREEN).await?;
    session.click(&submit).await?;
    let confirm = session.wait_for("#confirm-submit", SCREEN).await?;
    shot(session, out, &mut observed, "confirm-submit").await?;
    session.click(&confirm).await?;
    session.wait_for("#receipt-code:not(:empty)", SCREEN).await?;
    observed.receipt = session.text_of("#receipt-code").await?;
    shot(session, out, &mut observed, "submitted").await?;
    Ok(observed)
}

