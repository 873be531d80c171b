//! Bad input at the real kiosk window: Alt+F4 under a window manager, a
//! second start of the kiosk, another window taking the focus mid-exam, a
//! kiosk clock far off the hub's, and a disk that fills up mid-exam. Each
//! gets a clear Dutch screen and a journal event, and nothing is lost.
//! Screenshots go to target/e2e/bad-input/.

use exam_e2e::scenario::{shot, Observed};
use exam_e2e::steps::{self, SCREEN};
use exam_e2e::webdriver::Session;
use exam_e2e::{bin, workspace, Display, Driver, Guarded, Stack};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One kiosk window at a time: two WebKit instances on two cores only slow each other down.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn require_tools(tools: &[&str]) {
    for tool in tools {
        let found = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).exists()));
        assert!(found, "{tool} is required: run `cargo xtask test` (it installs it) or `cargo xtask e2e`");
    }
    assert!(exam_e2e::tauri_driver().is_some(), "tauri-driver is required: run `cargo xtask test`");
}

/// A process for the guard to watch instead of the whole session (nothing
/// prohibited runs under it), so the guard enforces without touching the
/// developer's programs.
fn quiet_scope() -> (Guarded, String) {
    let child = Command::new("sleep").arg("3600").spawn().unwrap();
    let scope = format!("tree:{}", child.id());
    (Guarded(child), scope)
}

fn kinds(records: &[serde_json::Value]) -> Vec<String> {
    records.iter().map(|r| r["kind"].as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alt_f4_a_second_start_and_lost_focus_are_refused_shown_and_journalled() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    require_tools(&["Xvfb", "openbox", "xdotool", "xmessage", "xprop"]);
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    let (_quiet, scope) = quiet_scope();
    let display = Display::start().unwrap();
    let _wm = steps::window_manager(&display).unwrap();
    let env = stack.kiosk_env(false, Some(scope));
    let driver = Driver::start(&display, &env).unwrap();
    let session = Session::new(&driver.url, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let out = workspace().join("target/e2e/bad-input");
    let mut observed = Observed::default();
    let result = window_and_focus(&session, &stack, &display, &env, &out, &mut observed).await;
    if result.is_err() {
        let _ = shot(&session, &out, &mut observed, "failure").await;
    }
    session.close().await;
    let (second_exit, receipt) = result.unwrap();
    assert_eq!(second_exit, Some(3), "the second start exits with 3");
    assert!(receipt.trim().len() >= 6, "handed in after all that: {receipt:?}");

    let journal = stack.kiosk_data.join("journal");
    let records = steps::journal_records(&journal).unwrap();
    let kinds = kinds(&records);
    for kind in ["kiosk.close_refused", "kiosk.second_instance_refused", "kiosk.focus_lost", "answers.acknowledged"] {
        assert!(kinds.iter().any(|k| k == kind), "journal lacks {kind}: {kinds:?}");
    }
    let focus_lock = records.iter().find(|r| r["kind"] == "kiosk.focus_away" && r["payload"]["locks"] == true);
    assert!(focus_lock.is_some(), "a focus loss in the exam locked (policy lock-on-focus-loss): {kinds:?}");
    assert!(steps::journal_verifies(&journal));
}

/// Returns the second instance's exit code and the receipt.
async fn window_and_focus(
    session: &Session,
    stack: &Stack,
    display: &Display,
    env: &[(String, String)],
    out: &std::path::Path,
    observed: &mut Observed,
) -> Result<(Option<i32>, String), String> {
    steps::into_exam(session, &stack.students[0]).await?;
    let kiosk = steps::kiosk_window(display)?;

    // Alt+F4: the window manager asks the window to close; refused during the exam.
    steps::xdotool(display, &["windowactivate", "--sync", &kiosk])?;
    steps::xdotool(display, &["key", "--clearmodifiers", "alt+F4"])?;
    session.wait_for("#notice[data-kind=\"close_refused\"]", SCREEN).await?;
    shot(session, out, observed, "close-refused").await?;
    if steps::xdotool(display, &["search", "--onlyvisible", "--name", "^Examen$"])?.trim().is_empty() {
        return Err("the kiosk window is gone after Alt+F4".into());
    }

    // A second start against the same data directory: refused, the first runs on.
    let mut second = Command::new(bin("exam-kiosk"));
    second.env("DISPLAY", &display.name).stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in env {
        second.env(k, v);
    }
    let mut second = Guarded(second.spawn().map_err(|e| e.to_string())?);
    let deadline = Instant::now() + SCREEN;
    let status = loop {
        if let Some(status) = second.0.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            return Err("the second exam-kiosk did not exit".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(second.0.stderr.as_mut().ok_or("no stderr")?, &mut stderr).map_err(|e| e.to_string())?;
    if !stderr.contains("draait al") {
        return Err(format!("the second start should say the kiosk runs already: {stderr:?}"));
    }
    session.wait_for("#notice[data-kind=\"second_instance_refused\"]", SCREEN).await?;
    shot(session, out, observed, "second-instance-refused").await?;
    session.wait_for("#screen-exam", SCREEN).await?;

    // Another window takes the focus mid-exam: the session locks.
    let mut other = Guarded(
        Command::new("xmessage")
            .args(["-name", "ander-venster", "-center", "Een ander programma"])
            .env("DISPLAY", &display.name)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?,
    );
    let other_window = steps::xdotool(display, &["search", "--sync", "--onlyvisible", "--classname", "ander-venster"])?;
    let other_window = other_window.lines().next().ok_or("no xmessage window")?.to_owned();
    steps::xdotool(display, &["windowactivate", "--sync", &other_window])?;
    session.wait_for("#screen-locked", SCREEN).await?;
    let reason = session.text_of("#lock-reason").await?;
    if !reason.contains("niet meer actief") {
        return Err(format!("the lock screen should say the window lost focus: {reason:?}"));
    }
    shot(session, out, observed, "locked-focus-lost").await?;
    let _ = other.0.kill();
    steps::xdotool(display, &["windowactivate", "--sync", &kiosk])?;
    steps::unlock(session, "ander venster gesloten, student gesproken").await?;
    let receipt = steps::hand_in(session).await?;
    shot(session, out, observed, "submitted").await?;
    Ok((status.code(), receipt))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_clock_far_off_the_hub_stops_startup_with_the_reason() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    require_tools(&["Xvfb", "faketime"]);
    let tmp = tempfile::tempdir().unwrap();
    let mut stack = Stack::start(tmp.path()).unwrap();
    // The hub runs two hours ahead (libfaketime shifts its wall clock only;
    // its certificates stay valid): seen from the hub, the kiosk is 2 h behind.
    stack.stop_hub();
    let _hub = serve_hub_under_faketime(&stack, "+2h");
    let display = Display::start().unwrap();
    let driver = Driver::start(&display, &stack.kiosk_env(true, None)).unwrap();
    let session = Session::new(&driver.url, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let out = workspace().join("target/e2e/bad-input");
    let mut observed = Observed::default();
    let failure = session.wait_for("#startup-failure:not(:empty)", SCREEN).await;
    let text = session.text_of("#startup-failure").await.unwrap_or_default();
    let _ = shot(&session, &out, &mut observed, "clock-far-off").await;
    session.close().await;
    failure.unwrap();
    assert!(text.contains("klok van deze pc loopt 2 uur achter op de examenserver"), "{text}");

    let records = steps::journal_records(&stack.kiosk_data.join("journal")).unwrap();
    let far_off = records.iter().find(|r| r["kind"] == "clock.far_off").expect("clock.far_off in the journal");
    let skew = far_off["payload"]["skew_ms"].as_i64().unwrap();
    assert!((-7_300_000..=-7_100_000).contains(&skew), "about -2 h: {skew}");
    assert!(!kinds(&records).iter().any(|k| k == "location.approved"), "startup stopped before the location check");
}

/// `exam-hub serve` on the stack's address under libfaketime.
fn serve_hub_under_faketime(stack: &Stack, offset: &str) -> Guarded {
    let addr = stack.hub_url.trim_start_matches("https://").trim_end_matches('/').to_owned();
    let mut child = Command::new("faketime")
        .args(["-f", offset])
        .arg(bin("exam-hub"))
        .args(["serve", "--data"])
        .arg(stack.dir.join("hub"))
        .args(["--listen", &addr])
        .env("EXAM_HUB_LOG", "warn")
        // Timers and timeouts keep the real monotonic clock.
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    assert!(line.contains("listening on"), "hub under faketime: {line:?}");
    Guarded(child)
}
