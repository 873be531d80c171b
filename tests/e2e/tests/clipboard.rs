//! Clipboard isolation during the exam (issue 15 point 6), at the real
//! kiosk window under its own Xvfb, with real X key presses and a real
//! middle click (xdotool) and another X client (xsel) as "the rest of the
//! machine": text another program put on the CLIPBOARD or the PRIMARY
//! selection never reaches an answer (Ctrl+V, Shift+Insert, middle click),
//! an answer never reaches either selection (Ctrl+A, Ctrl+C, Ctrl+X, or just
//! selecting it), and copy/paste inside the exam still works — and what the
//! kiosk saved (the hub's copy, after hand-in) is what the student saw.
//! Screenshots go to target/e2e/clipboard/.

use exam_e2e::scenario::{shot, Observed};
use exam_e2e::steps::{self, outside_owner, read_selection, SCREEN};
use exam_e2e::webdriver::Session;
use exam_e2e::{bin, workspace, Display, Driver, Guarded, Stack, SITTING};
use std::process::Command;
use std::time::Duration;

/// What other programs put on the selections.
const OUTSIDE_CLIPBOARD: &str = "BUITEN-KLEMBORD-7731";
const OUTSIDE_PRIMARY: &str = "BUITEN-SELECTIE-4420";
/// What the student types (and copies) in the exam.
const ANSWER: &str = "Ik bied ANTWOORD-5521 mijn excuses aan";
const ANSWER_MARK: &str = "ANTWOORD-5521";

const TEXT_ENTRY: &str = "[data-item-id=\"ITM-v03\"] input.text-entry";
const EXTENDED_TEXT: &str = "[data-item-id=\"ITM-v04\"] textarea";

/// Focuses the field through WebDriver (a click) and gives the kiosk's X
/// window the keyboard, so that xdotool's key presses reach it.
async fn focus_field(session: &Session, display: &Display, window: &str, css: &str) -> Result<(), String> {
    let field = session.wait_for(css, SCREEN).await?;
    // In the middle of the view, not under the fixed header.
    session.script(&format!("document.querySelector('{}').scrollIntoView({{ block: 'center' }}); return true", css.replace('\'', "\\'"))).await?;
    session.click(&field).await?;
    steps::xdotool(display, &["windowfocus", "--sync", window])?;
    Ok(())
}

/// A real middle click (XTEST) in the middle of the field.
async fn middle_click(session: &Session, display: &Display, css: &str) -> Result<(), String> {
    let rect = session
        .script(&format!(
            "const r = document.querySelector('{}').getBoundingClientRect(); \
             return [Math.round(r.left + r.width / 2 + window.screenX), Math.round(r.top + r.height / 2 + window.screenY)]",
            css.replace('\'', "\\'")
        ))
        .await?;
    let (x, y) = (rect[0].as_i64().unwrap_or(0).to_string(), rect[1].as_i64().unwrap_or(0).to_string());
    steps::xdotool(display, &["mousemove", "--sync", &x, &y])?;
    steps::xdotool(display, &["click", "2"])?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    Ok(())
}

/// Real key presses (XTEST) on the test's display.
fn keys(display: &Display, keys: &[&str]) -> Result<(), String> {
    for key in keys {
        steps::xdotool(display, &["key", "--clearmodifiers", key])?;
        std::thread::sleep(Duration::from_millis(150));
    }
    Ok(())
}

/// Waits until the answers on the page reached the shell.
async fn saved(session: &Session) -> Result<(), String> {
    // Give the page's save a moment to start before looking for "nothing pending".
    tokio::time::sleep(Duration::from_millis(500)).await;
    session.wait_for("#sync-status[data-local-pending=\"0\"]", SCREEN).await.map(|_| ())
}

/// One kiosk window at a time: two WebKit instances on two cores only slow each other down.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exam_clipboard_is_its_own() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    steps::require_tools(&["Xvfb", "xdotool", "xsel", "timeout"]);
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    // The guard watches a quiet process tree, not the developer's session.
    let quiet = Guarded(Command::new("sleep").arg("3600").spawn().unwrap());
    let scope = format!("tree:{}", quiet.0.id());
    let display = Display::start().unwrap();
    // The exam mode (not demo): the shell's clipboard guard is part of it.
    let driver = Driver::start(&display, &stack.kiosk_env(false, Some(scope))).unwrap();
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let out = workspace().join("target/e2e/clipboard");
    let mut observed = Observed::default();
    let result = clipboard_scenario(&session, &stack, &display, &out, &mut observed).await;
    if result.is_err() {
        let _ = shot(&session, &out, &mut observed, "failure").await;
    }
    session.close().await;
    let problems = result.unwrap();
    assert!(problems.is_empty(), "the exam's clipboard is not its own:\n- {}", problems.join("\n- "));

    let journal = stack.kiosk_data.join("journal");
    let records = steps::journal_records(&journal).unwrap();
    let raw = serde_json::to_string(&records).unwrap();
    for text in [ANSWER_MARK, OUTSIDE_CLIPBOARD, OUTSIDE_PRIMARY] {
        assert!(!raw.contains(text), "the journal holds events, never clipboard contents ({text})");
    }
    assert!(
        records.iter().any(|r| r["kind"] == "kiosk.clipboard_isolated"),
        "the journal says the clipboard was isolated during the exam"
    );
    assert!(steps::journal_verifies(&journal));
    drop(quiet);
}

/// The page alone (demo mode: no shell guard, the outside text stays on
/// offer): WebKit sends Ctrl+V, Shift+Insert and a middle click through the
/// `paste` event, which the page cancels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_alone_keeps_outside_text_out() {
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    steps::require_tools(&["Xvfb", "xdotool", "xsel", "timeout"]);
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    let display = Display::start().unwrap();
    let driver = Driver::start(&display, &stack.kiosk_env(true, None)).unwrap();
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let result = async {
        let mut problems = Vec::new();
        steps::into_exam(&session, &stack.students[1]).await?;
        let ids = steps::xdotool(&display, &["search", "--sync", "--onlyvisible", "--name", "^exam-kiosk \\(DEMO\\)$"])?;
        let window = ids.lines().next().ok_or("no demo window")?.to_owned();
        session.wait_for(TEXT_ENTRY, SCREEN).await?;
        outside_text_stays_out(&session, &display, &window, false, &mut problems).await?;
        Ok::<_, String>(problems)
    }
    .await;
    if result.is_err() {
        let out = workspace().join("target/e2e/clipboard");
        let _ = shot(&session, &out, &mut Observed::default(), "demo-failure").await;
    }
    session.close().await;
    let problems = result.unwrap();
    assert!(problems.is_empty(), "the page let outside text in:\n- {}", problems.join("\n- "));
}

/// Returns what did not hold (every check is made, so a run on broken code
/// lists every way out at once).
async fn clipboard_scenario(
    session: &Session,
    stack: &Stack,
    display: &Display,
    out: &std::path::Path,
    observed: &mut Observed,
) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    steps::into_exam(session, &stack.students[0]).await?;
    let window = steps::kiosk_window(display)?;
    session.wait_for(TEXT_ENTRY, SCREEN).await?;

    // 1. Outside → in: other programs own CLIPBOARD and PRIMARY.
    outside_text_stays_out(session, display, &window, true, &mut problems).await?;
    shot(session, out, observed, "after-outside-paste").await?;

    // 2. Answer → out: the student types an answer, selects it and copies it.
    session.type_into(&session.wait_for(EXTENDED_TEXT, SCREEN).await?, ANSWER).await?;
    focus_field(session, display, &window, EXTENDED_TEXT).await?;
    keys(display, &["ctrl+a", "ctrl+c"])?;
    tokio::time::sleep(Duration::from_millis(800)).await;
    for selection in ["clipboard", "primary"] {
        let outside = read_selection(display, selection)?;
        if outside.contains(ANSWER_MARK) {
            problems.push(format!("after Ctrl+A, Ctrl+C in an answer another program reads it from {selection}: {outside:?}"));
        }
    }

    // 3. Inside: Ctrl+V in another answer pastes what was copied in the exam.
    focus_field(session, display, &window, TEXT_ENTRY).await?;
    keys(display, &["ctrl+v"])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pasted = steps::value_of(session, TEXT_ENTRY).await?;
    if pasted != ANSWER {
        problems.push(format!("Ctrl+V inside the exam should paste the copied answer {ANSWER:?}, the field holds {pasted:?}"));
    }
    // Cut: the text leaves the field (a real edit), stays in the exam.
    keys(display, &["ctrl+a"])?;
    // The selection stays (taking PRIMARY from WebKit made it drop the
    // student's selection at once: text could not be selected to replace it).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let selected = session.script("const e = document.activeElement; return [e.selectionStart, e.selectionEnd, e.value.length]").await?;
    if selected[0] != 0 || selected[1] != selected[2] {
        problems.push(format!("Ctrl+A in an answer should keep the whole text selected: [start, end, length] = {selected}"));
    }
    keys(display, &["ctrl+x"])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_cut = steps::value_of(session, TEXT_ENTRY).await?;
    if !after_cut.is_empty() {
        problems.push(format!("Ctrl+X should take the text out of the field, it holds {after_cut:?}"));
    }
    for selection in ["clipboard", "primary"] {
        let outside = read_selection(display, selection)?;
        if outside.contains(ANSWER_MARK) {
            problems.push(format!("after Ctrl+X another program reads the answer from {selection}: {outside:?}"));
        }
    }
    keys(display, &["ctrl+v"])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pasted_again = steps::value_of(session, TEXT_ENTRY).await?;
    if pasted_again != ANSWER {
        problems.push(format!("Ctrl+V after Ctrl+X should paste {ANSWER:?}, the field holds {pasted_again:?}"));
    }
    // Shift+Insert is a paste too (WebKit sends it through the same event).
    steps::clear_field(session, TEXT_ENTRY).await?;
    keys(display, &["shift+Insert"])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let inserted = steps::value_of(session, TEXT_ENTRY).await?;
    if inserted != ANSWER {
        problems.push(format!("Shift+Insert inside the exam should paste {ANSWER:?}, the field holds {inserted:?}"));
    }
    // Once more from outside, now that answers are on the page: a middle
    // click in the long answer must not bring anything in.
    let _late_owner = outside_owner(display, "primary", OUTSIDE_PRIMARY)?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    focus_field(session, display, &window, EXTENDED_TEXT).await?;
    middle_click(session, display, EXTENDED_TEXT).await?;
    let late = steps::value_of(session, EXTENDED_TEXT).await?;
    if late.contains(OUTSIDE_PRIMARY) {
        problems.push(format!("a middle click later in the exam pasted outside text: {late:?}"));
    }
    shot(session, out, observed, "after-inside-paste").await?;

    // 4. What the student sees is what the kiosk saved (the hub's copy after hand-in).
    let seen_entry = steps::value_of(session, TEXT_ENTRY).await?;
    let seen_text = steps::value_of(session, EXTENDED_TEXT).await?;
    saved(session).await?;
    steps::hand_in(session).await?;
    let stored = hub_responses(stack)?;
    for (item, seen) in [("ITM-v03", &seen_entry), ("ITM-v04", &seen_text)] {
        match stored.iter().find(|(id, _)| id == item) {
            Some((_, value)) if value == seen => {}
            Some((_, value)) => problems.push(format!("{item}: the student sees {seen:?}, the hub holds {value:?}")),
            None => problems.push(format!("{item}: the hub holds no answer (the student sees {seen:?}); results: {stored:?}")),
        }
    }
    Ok(problems)
}

/// Other programs put text on CLIPBOARD and PRIMARY; Ctrl+V, Shift+Insert
/// and a middle click in a text answer must not bring it in. With the
/// shell's guard (`guarded`) the other program loses its selection; without
/// it (demo mode) its text stays on offer and only the page keeps it out.
async fn outside_text_stays_out(session: &Session, display: &Display, window: &str, guarded: bool, problems: &mut Vec<String>) -> Result<(), String> {
    let mut clipboard_owner = outside_owner(display, "clipboard", OUTSIDE_CLIPBOARD)?;
    let mut primary_owner = outside_owner(display, "primary", OUTSIDE_PRIMARY)?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for (selection, owner, text) in [("clipboard", &mut clipboard_owner, OUTSIDE_CLIPBOARD), ("primary", &mut primary_owner, OUTSIDE_PRIMARY)] {
        let holds = owner.0.try_wait().map_err(|e| e.to_string())?.is_none();
        if guarded && holds {
            // The kiosk takes both selections from the other program (xsel
            // exits when it loses its selection): its text is gone.
            problems.push(format!("another program still holds the {selection} selection during the exam"));
        }
        if !guarded && (!holds || read_selection(display, selection)? != text) {
            return Err(format!("without the guard the outside text should be on offer on {selection}; the check would prove nothing"));
        }
    }
    focus_field(session, display, window, TEXT_ENTRY).await?;
    for how in ["Ctrl+V", "Shift+Insert", "a middle click"] {
        match how {
            "Ctrl+V" => keys(display, &["ctrl+v"])?,
            "Shift+Insert" => keys(display, &["shift+Insert"])?,
            // A middle click on the field pastes PRIMARY under X11.
            _ => middle_click(session, display, TEXT_ENTRY).await?,
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let value = steps::value_of(session, TEXT_ENTRY).await?;
        if value.contains(OUTSIDE_CLIPBOARD) || value.contains(OUTSIDE_PRIMARY) {
            problems.push(format!("{how} pasted outside text into an answer: {value:?}"));
        }
        // Whatever got in is taken out again, so each way is seen on its own.
        steps::clear_field(session, TEXT_ENTRY).await?;
    }
    Ok(())
}

/// The responses the hub holds for the first student after hand-in, from
/// its QTI results export: (item identifier, text value).
fn hub_responses(stack: &Stack) -> Result<Vec<(String, String)>, String> {
    let hub_data = stack.dir.join("hub");
    let run = |cmd: &mut Command| -> Result<Vec<u8>, String> {
        let out = cmd.output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Ok(out.stdout)
    };
    let scoring = run(Command::new(bin("kioskctl"))
        .args(["instrument", "render"])
        .arg(stack.dir.join("demo.exam"))
        .arg("--trust")
        .arg(workspace().join("policies/demo-instrument.key.pub"))
        .arg("--key")
        .arg(stack.dir.join("demo.exam.key"))
        .arg("--scoring"))?;
    let scoring_file = stack.dir.join("scoring.json");
    std::fs::write(&scoring_file, scoring).map_err(|e| e.to_string())?;
    run(Command::new(bin("exam-hub")).args(["import", "scoring"]).arg(&scoring_file).args(["--id", "demo-instrument", "--data"]).arg(&hub_data))?;
    let qti = stack.dir.join("results-qti");
    run(Command::new(bin("exam-hub"))
        .args(["report", "results", "--sitting", SITTING, "--out"])
        .arg(stack.dir.join("results.csv"))
        .arg("--qti")
        .arg(&qti)
        .arg("--data")
        .arg(&hub_data))?;
    let number = &stack.students[0].number;
    let xml = std::fs::read_to_string(qti.join(format!("result-{number}.xml"))).map_err(|e| e.to_string())?;
    // <itemResult identifier="ITM-v03" …> … <candidateResponse><value>…</value> …
    let mut found = Vec::new();
    for part in xml.split("<itemResult").skip(1) {
        let Some(id) = part.split("identifier=\"").nth(1).and_then(|s| s.split('"').next()) else { continue };
        let value = part
            .split("<candidateResponse>")
            .nth(1)
            .and_then(|s| s.split("</candidateResponse>").next())
            .map(|s| s.split("<value>").skip(1).filter_map(|v| v.split("</value>").next()).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        found.push((id.to_owned(), value));
    }
    Ok(found)
}
