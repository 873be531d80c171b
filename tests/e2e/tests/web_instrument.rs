//! A web instrument end to end: a local HTTPS "supplier" with its own CA, a
//! web instrument package (URL, allowed origins, the supplier's CA) signed
//! with the demo approval key and served by the real exam-hub, and the real
//! kiosk (WebDriver, Xvfb) loading it through its `examweb:` proxy. The
//! supplier checks the exam key header of every request with the
//! supplier-side verifier; a redirect to another origin and a navigation
//! outside the allowed origins are blocked and journalled.

#[path = "../../../crates/kiosk-core/tests/support/supplier.rs"]
mod supplier;

use exam_e2e::steps::{hand_in, journal_records, journal_verifies, log_in_and_start, SCREEN as WAIT};
use exam_e2e::webdriver::Session;
use exam_e2e::{bin, scenario, workspace, Display, Driver, Stack, Student, SITTING};
use kiosk_core::instrument::web::SupplierVerifier;
use kiosk_core::instrument::web_instrument::{WebInstrument, WEB_INSTRUMENT_FILE, WEB_INSTRUMENT_FORMAT};
use kiosk_core::instrument::web_start::policy_hash;
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
        .arg("--sign")
        .arg(workspace().join("policies/demo-instrument.key"))
        .arg("--out")
        .arg(&package));
    run(Command::new(bin("exam-hub"))
        .args(["import", "instrument"])
        .arg(&package)
        .args(["--id", "demo-instrument", "--content-key-file"])
        .arg(tmp.path().join("web.exam.key"))
        .arg("--data")
        .arg(&hub_data));

    let display = Display::start().unwrap();
    let driver = Driver::start(&display, &stack.kiosk_env(true, None)).unwrap();
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let out = workspace().join("target/e2e/web-instrument");
    let result = web_flow(&session, &stack.students[1], &supplier, &out).await;
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

async fn web_flow(session: &Session, student: &Student, supplier: &supplier::Supplier, out: &Path) -> Result<String, String> {
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
