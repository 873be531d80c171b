//! Small steps the bad-input scenarios share: into the exam, unlock, hand
//! in, read the journal, and talk to the test's own X display.

use crate::webdriver::Session;
use crate::{bin, Display, Guarded, Student, DEMO_PIN};
use std::io::Write as _;
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

/// Another program on the display owns `selection` (`clipboard` or
/// `primary`) with `text`: xsel in the foreground (`--nodetach`), so it is
/// ended with the test (and it exits by itself when it loses the selection).
pub fn outside_owner(display: &Display, selection: &str, text: &str) -> Result<Guarded, String> {
    let mut child = Guarded(
        Command::new("xsel")
            .args(["--nodetach", "--input", &format!("--{selection}")])
            .env("DISPLAY", &display.name)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("xsel: {e}"))?,
    );
    let mut stdin = child.0.stdin.take().ok_or("no stdin")?;
    stdin.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    drop(stdin);
    Ok(child)
}

/// What another program reads from `selection` right now (xsel, 3 s at most).
pub fn read_selection(display: &Display, selection: &str) -> Result<String, String> {
    let out = Command::new("timeout")
        .args(["10", "xsel", "--output", &format!("--{selection}"), "--selectionTimeout", "3000"])
        .env("DISPLAY", &display.name)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("xsel: {e}"))?;
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
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("openbox (cargo xtask test installs it): {e}"))?;
        let mut wm = Guarded(child);
        // What openbox says is read by a thread (a full pipe must never stop
        // it); once openbox has exited, the thread ends and hands it over.
        let said = wm.0.stderr.take().map(|mut stderr| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
                text
            })
        });
        // openbox announces itself on the root window once it manages the screen.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            let out = Command::new("xprop").args(["-root", "_NET_SUPPORTING_WM_CHECK"]).env("DISPLAY", &display.name).output();
            if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("window id")) {
                return Ok(wm);
            }
            if let Ok(Some(status)) = wm.0.try_wait() {
                let said = said.and_then(|reader| reader.join().ok()).unwrap_or_default();
                last = format!("openbox exited: {status}: {}", said.trim());
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

/// Fails the test, with how to get them, when programs it needs are missing
/// (tauri-driver included).
pub fn require_tools(tools: &[&str]) {
    for tool in tools {
        let found = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).exists()));
        assert!(found, "{tool} is required: run `cargo xtask test` (it installs it) or `cargo xtask e2e`");
    }
    assert!(crate::tauri_driver().is_some(), "tauri-driver is required: run `cargo xtask test`");
}

/// A process for the guard to watch instead of the whole session (nothing
/// prohibited runs under it), so the guard enforces without touching the
/// developer's programs. Ended when dropped.
pub fn quiet_scope() -> (Guarded, String) {
    let child = Command::new("sleep").arg("3600").spawn().expect("sleep");
    let scope = format!("tree:{}", child.id());
    (Guarded(child), scope)
}

/// The value of a form field on the page.
pub async fn value_of(session: &Session, css: &str) -> Result<String, String> {
    let v = session.script(&format!("return document.querySelector('{}').value", css.replace('\'', "\\'"))).await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

/// Empties a form field as the student would (the page saves on `input`).
pub async fn clear_field(session: &Session, css: &str) -> Result<(), String> {
    let css = css.replace('\'', "\\'");
    session.script(&format!("const e = document.querySelector('{css}'); e.value = ''; e.dispatchEvent(new Event('input', {{ bubbles: true }})); return true")).await?;
    Ok(())
}
