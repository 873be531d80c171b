//! A web instrument end to end: a local HTTPS "supplier" with its own CA, a
//! web instrument package (URL, allowed origins, the supplier's CA) signed
//! with the demo approval key and served by the real exam-hub, and the real
//! kiosk (WebDriver, Xvfb) loading it through its `examweb:` proxy. The
//! supplier checks the exam key header of every request with the
//! supplier-side verifier; a redirect to another origin and a navigation
//! outside the allowed origins are blocked and journalled. Text another
//! program holds on CLIPBOARD and PRIMARY (xsel on the test's own Xvfb) is
//! not pasted into a field in the instrument's frame by real keys and a
//! real middle click (xdotool).

#[path = "../../../crates/kiosk-core/tests/support/supplier.rs"]
mod supplier;

use exam_e2e::steps::{hand_in, journal_records, journal_verifies, log_in_and_start, outside_owner, read_selection, SCREEN as WAIT};
use exam_e2e::webdriver::Session;
use exam_e2e::{bin, scenario, workspace, Display, Driver, Stack, Student, SITTING};
use kiosk_core::instrument::web::SupplierVerifier;
use kiosk_core::instrument::web_instrument::{WebInstrument, WEB_INSTRUMENT_FILE, WEB_INSTRUMENT_FORMAT};
use kiosk_core::instrument::web_start::policy_hash;
use exam_e2e::steps;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_instrument_runs_through_the_kiosk_proxy() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    let hub_data = tmp.path().join("hub");

    // The supplier knows the approved build, the policy and — from the school — the sitting's nonce.
    let nonce = run(Command::new(bin("exam-hub")).args(["web-nonce", "--sitting", SITTING, "--data"]).arg(&hub_data));
    let verifier = SupplierVerifier::new(
        vec![policy_hash(&bin("exam-kiosk"))],
        policy_hash(&stack.policy),
        hex::decode(nonce.trim()).unwrap(),
    );
    let supplier = supplier::Supplier::start(verifier).await;

    // The exam committee approves the web instrument; the hub serves it for the sitting.
    let web_dir = tmp.path().join("web");
    std::fs::create_dir_all(&web_dir).unwrap();
    let descriptor = WebInstrument {
        format: WEB_INSTRUMENT_FORMAT.into(),
        title: "Rekenen 3F (leverancier)".into(),
        url: format!("{}/start", supplier.origin()),
        allowed_origins: vec![supplier.origin()],
        supplier_ca_pem: supplier.ca_pem.clone(),
    };
    std::fs::write(web_dir.join(WEB_INSTRUMENT_FILE), serde_json::to_vec_pretty(&descriptor).unwrap()).unwrap();
    let package = tmp.path().join("web.exam");
    run(Command::new(bin("kioskctl"))
        .args(["instrument", "pack"])
        .arg(&web_dir)
        .args(["--id", "demo-instrument"])
        .arg("--sign")
        .arg(workspace().join("policies/demo-instrument.key"))
        .arg("--out")
        .arg(&package));
    run(Command::new(bin("exam-hub"))
        .args(["import", "instrument"])
        .arg(&package)
        .args(["--id", "demo-instrument", "--content-key-file"])
        .arg(tmp.path().join("web.exam.key"))
        .arg("--policy")
        .arg(workspace().join("policies/demo.toml"))
        .arg("--data")
        .arg(&hub_data));

    let display = Display::start().unwrap();
    let driver = Driver::start(&display, &stack.kiosk_env(true, None)).unwrap();
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let out = workspace().join("target/e2e/web-instrument");
    let result = web_flow(&session, &display, &stack.students[1], &supplier, &out).await;
    if result.is_err() {
        let _ = scenario::shot(&session, &out, &mut Default::default(), "failure").await;
        // Mid-exam the kiosk refuses to close: end it, or closing the session waits forever.
        let _ = stack.kill_kiosk();
    }
    session.close().await;
    let receipt = result.unwrap();
    assert!(receipt.trim().len() >= 9, "{receipt:?}");

    // Every request reached the supplier with a valid exam key, none replayed.
    let seen = supplier.seen();
    assert!(seen.len() >= 4, "{seen:?}");
    for r in &seen {
        assert!(r.verdict.is_ok(), "{} {}: {:?}", r.method, r.url, r.verdict);
    }
    assert!(seen.iter().any(|r| r.url.ends_with("/item/2") && r.cookie.as_deref() == Some("sessie=abc123")), "{seen:?}");
    assert!(!seen.iter().any(|r| r.url.contains("example.org")));

    // The journal holds the blocked redirect and the blocked navigation, and verifies.
    let journal = stack.kiosk_data.join("journal");
    let records = journal_records(&journal).unwrap();
    let blocked: Vec<&serde_json::Value> =
        records.iter().filter(|v| v["kind"] == "web_instrument.blocked").map(|v| &v["payload"]).collect();
    assert!(
        blocked.iter().any(|b| b["reason"] == "foreign_redirect" && b["to"] == "https://example.org/stolen"),
        "{blocked:?}"
    );
    assert!(blocked.iter().any(|b| b["reason"] == "foreign_origin" && b["url"].as_str().unwrap_or("").contains("example.net")), "{blocked:?}");
    assert!(journal_verifies(&journal));
}

/// What another program puts on the selections.
const OUTSIDE_CLIPBOARD: &str = "BUITEN-KLEMBORD-8812";
const OUTSIDE_PRIMARY: &str = "BUITEN-SELECTIE-3307";

/// The field the test adds to the supplier's page, inside the frame.
const FRAME_FIELD: &str = "paste-target";

/// Outside text is not pasted into a text field in the instrument's frame
/// (Ctrl+V, Shift+Insert, a middle click: real X input). The kiosk runs in
/// demo mode here, without the shell's clipboard guard, so the outside text
/// stays on offer the whole time — as it is most of the time in exam mode
/// against a program that keeps retaking the selection. Called with the
/// session switched to the frame; leaves it there.
async fn outside_text_stays_out_of_the_frame(session: &Session, display: &Display, frame: &exam_e2e::webdriver::Element) -> Result<(), String> {
    for tool in ["xsel", "xdotool", "timeout"] {
        if Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().map(|o| !o.status.success()).unwrap_or(true) {
            return Err(format!("{tool} is required: run `cargo xtask test` (it installs it)"));
        }
    }
    // A text field at the top of the supplier's page (inside the frame).
    session
        .script(&format!(
            "const i = document.createElement('input'); i.id = '{FRAME_FIELD}'; \
             i.style.cssText = 'position:fixed;left:0;top:0;width:100%;height:60px;z-index:99999'; \
             document.body.prepend(i); return true"
        ))
        .await?;
    let _clipboard = outside_owner(display, "clipboard", OUTSIDE_CLIPBOARD)?;
    let _primary = outside_owner(display, "primary", OUTSIDE_PRIMARY)?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for (selection, text) in [("clipboard", OUTSIDE_CLIPBOARD), ("primary", OUTSIDE_PRIMARY)] {
        if read_selection(display, selection)? != text {
            return Err(format!("the outside text should be on offer on {selection}; the check would prove nothing"));
        }
    }
    // The frame's place on the screen (from the kiosk's page).
    session.switch_to_frame(None).await?;
    let ids = steps::xdotool(display, &["search", "--sync", "--onlyvisible", "--name", "^exam-kiosk \\(DEMO\\)$"])?;
    let window = ids.lines().next().ok_or("no kiosk window")?.to_owned();
    let at = session
        .script(
            "const r = document.getElementById('web-instrument-frame').getBoundingClientRect(); \
             return [Math.round(r.left + 40 + window.screenX), Math.round(r.top + 30 + window.screenY)]",
        )
        .await?;
    let (x, y) = (at[0].as_i64().unwrap_or(0).to_string(), at[1].as_i64().unwrap_or(0).to_string());
    session.switch_to_frame(Some(frame)).await?;
    let value = || async move { session.script(&format!("return document.getElementById('{FRAME_FIELD}').value")).await.map(|v| v.as_str().unwrap_or_default().to_owned()) };
    let mut problems = Vec::new();
    for how in ["Ctrl+V", "Shift+Insert", "a middle click"] {
        session.click(&session.find(&format!("#{FRAME_FIELD}")).await?).await?;
        steps::xdotool(display, &["windowfocus", "--sync", &window])?;
        match how {
            "Ctrl+V" => {
                steps::xdotool(display, &["key", "--clearmodifiers", "ctrl+v"])?;
            }
            "Shift+Insert" => {
                steps::xdotool(display, &["key", "--clearmodifiers", "shift+Insert"])?;
            }
            _ => {
                steps::xdotool(display, &["mousemove", "--sync", &x, &y])?;
                steps::xdotool(display, &["click", "2"])?;
            }
        }
        tokio::time::sleep(Duration::from_millis(800)).await;
        let got = value().await?;
        if got.contains(OUTSIDE_CLIPBOARD) || got.contains(OUTSIDE_PRIMARY) {
            problems.push(format!("{how} pasted outside text into the web instrument's frame: {got:?}"));
        }
        session.script(&format!("document.getElementById('{FRAME_FIELD}').value = ''; return true")).await?;
    }
    // The check reached the field at all: typed keys arrive.
    session.click(&session.find(&format!("#{FRAME_FIELD}")).await?).await?;
    steps::xdotool(display, &["windowfocus", "--sync", &window])?;
    steps::xdotool(display, &["type", "--delay", "50", "abc"])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    if value().await? != "abc" {
        problems.push(format!("typed keys did not reach the frame's field ({:?}); the check proves nothing", value().await?));
    }
    session.script(&format!("document.getElementById('{FRAME_FIELD}').remove(); return true")).await?;
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

async fn web_flow(session: &Session, display: &Display, student: &Student, supplier: &supplier::Supplier, out: &Path) -> Result<String, String> {
    let mut observed = Default::default();
    log_in_and_start(session, student).await?;

    // The supplier's start page, through the proxy, in the kiosk's frame.
    let frame = session.wait_for("#web-instrument-frame", WAIT).await?;
    let src = session.script("return document.getElementById('web-instrument-frame').getAttribute('src')").await?;
    if src.as_str() != Some(&format!("examweb://127.0.0.1:{}/start", supplier.port)) {
        return Err(format!("frame source {src}"));
    }
    session.switch_to_frame(Some(&frame)).await?;
    session.wait_for("#supplier-title", WAIT).await?;
    scenario::shot(session, out, &mut observed, "web-start").await?;
    outside_text_stays_out_of_the_frame(session, display, &frame).await?;

    // A link within the instrument, and an absolute one (rewritten to go through the proxy).
    session.click(&session.find("#next").await?).await?;
    session.wait_for("#item-2", WAIT).await?;
    session.click(&session.find("#back").await?).await?;
    session.click(&session.wait_for("#absolute", WAIT).await?).await?;
    session.wait_for("#item-2", WAIT).await?;
    session.click(&session.find("#back").await?).await?;

    // Popups get nothing; a navigation outside the allowed origins is refused (and journalled).
    let popup = session.script("return window.open('examweb://127.0.0.1:1/x') === null").await?;
    if popup != serde_json::Value::Bool(true) {
        return Err(format!("a popup opened: {popup}"));
    }
    session.click(&session.find("#foreign").await?).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let url = session.script("return location.href").await?;
    if !url.as_str().unwrap_or("").starts_with("examweb:") {
        return Err(format!("the frame left the instrument: {url}"));
    }
    session.wait_for("#supplier-title", WAIT).await?;

    // The supplier redirects to another origin: blocked.
    session.click(&session.wait_for("#away", WAIT).await?).await?;
    session.wait_for("main[role=alert]", WAIT).await?;
    scenario::shot(session, out, &mut observed, "web-redirect-blocked").await?;

    // Back in the kiosk's page: hand in, the hub's receipt.
    session.switch_to_frame(None).await?;
    let receipt = hand_in(session).await?;
    scenario::shot(session, out, &mut observed, "web-submitted").await?;
    Ok(receipt)
}
