//! Small steps the bad-input scenarios share: into the exam, unlock, hand
//! in, read the journal, and talk to the test's own X display.

use crate::webdriver::Session;
use crate::{bin, Display, Guarded, Student, DEMO_PIN};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long a screen may take to appear on a loaded 2-core machine.
pub const SCREEN: Duration = Duration::from_secs(60);

/// Waits until `script` (a function body) returns `true` in the page.
pub async fn wait_until(session: &Session, script: &str, timeout: Duration) -> Result<(), String> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if session.script(script).await? == serde_json::Value::Bool(true) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("timed out waiting until {script}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Logs `student` in, confirms the assignment (the download) and clicks
/// "start exam".
pub async fn log_in_and_start(session: &Session, student: &Student) -> Result<(), String> {
    session.type_into(&session.wait_for("#student-number", SCREEN).await?, &student.number).await?;
    session.type_into(&session.find("#access-code").await?, &student.code).await?;
    session.click(&session.find("#login-submit").await?).await?;
    session.click(&session.wait_for("#confirm-assignment", SCREEN).await?).await?;
    session.click(&session.wait_for("#start-exam", SCREEN).await?).await
}

/// Logs `student` in, confirms, starts, answers the first item, and waits
/// until the answer reached the shell.
pub async fn into_exam(session: &Session, student: &Student) -> Result<(), String> {
    log_in_and_start(session, student).await?;
    session.click(&session.wait_for("[data-item-id] input[type=radio]", SCREEN).await?).await?;
    session.wait_for("#sync-status[data-local-pending=\"0\"]", SCREEN).await?;
    Ok(())
}

/// The invigilator unlocks the lock screen with the demo PIN.
pub async fn unlock(session: &Session, reason: &str) -> Result<(), String> {
    session.type_into(&session.wait_for("#unlock-pin", SCREEN).await?, DEMO_PIN).await?;
    session.type_into(&session.find("#unlock-reason").await?, reason).await?;
    session.click(&session.find("#unlock-submit").await?).await?;
    session.wait_for("#screen-exam", SCREEN).await.map(|_| ())
}

/// Hands in and returns the receipt code.
pub async fn hand_in(session: &Session) -> Result<String, String> {
    session.click(&session.wait_for("#submit-exam", SCREEN).await?).await?;
    session.click(&session.wait_for("#confirm-submit", SCREEN).await?).await?;
    session.wait_for("#receipt-code:not(:empty)", SCREEN).await?;
    session.text_of("#receipt-code").await
}

/// Every record of a journal as JSON (`kioskctl journal show --json`).
pub fn journal_records(journal: &Path) -> Result<Vec<serde_json::Value>, String> {
    let out = Command::new(bin("kioskctl")).args(["journal", "show", "--json"]).arg(journal).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("kioskctl journal show: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
}

/// Whether `kioskctl journal verify` accepts the journal.
pub fn journal_verifies(journal: &Path) -> bool {
    Command::new(bin("kioskctl")).args(["journal", "verify"]).arg(journal).stdout(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Runs `xdotool` on the test's display; returns its output.
pub fn xdotool(display: &Display, args: &[&str]) -> Result<String, String> {
    let out = Command::new("xdotool").args(args).env("DISPLAY", &display.name).output().map_err(|e| format!("xdotool: {e}"))?;
    if !out.status.success() {
        return Err(format!("xdotool {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The kiosk's X window (titled "Examen"; waits until it is mapped).
pub fn kiosk_window(display: &Display) -> Result<String, String> {
    let ids = xdotool(display, &["search", "--sync", "--onlyvisible", "--name", "^Examen$"])?;
    ids.lines().next().map(str::to_owned).ok_or_else(|| "no kiosk window".into())
}

/// A window manager (openbox) on the test's display: it turns Alt+F4 into
/// a close request and gives focus to the window it activates, as on a
/// desktop. Stopped when dropped.
pub fn window_manager(display: &Display) -> Result<Guarded, String> {
    // openbox occasionally gives up on a display that has only just started: try again.
    let mut last = String::new();
    for _ in 0..3 {
        let child = Command::new("openbox")
            .arg("--sm-disable")
            .env("DISPLAY", &display.name)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("openbox (cargo xtask test installs it): {e}"))?;
        let mut wm = Guarded(child);
        // openbox announces itself on the root window once it manages the screen.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            let out = Command::new("xprop").args(["-root", "_NET_SUPPORTING_WM_CHECK"]).env("DISPLAY", &display.name).output();
            if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("window id")) {
                return Ok(wm);
            }
            if let Ok(Some(status)) = wm.0.try_wait() {
                last = format!("openbox exited: {status}");
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if last.is_empty() {
            last = "openbox did not take the screen within 20 s".into();
        }
    }
    Err(last)
}
