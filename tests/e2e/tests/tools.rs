//! Issue 19: every exam tool in the real exam-kiosk (WebKitGTK under Xvfb,
//! WebDriver clicks, a real hub over TLS), each through axe-core in the
//! kiosk's own web view, with a screenshot in target/e2e/tools/. The
//! student (1004) has the calculator and the spell-check from the planning,
//! typed as an exam office types them (*rekenmachine*, *spellingcontrole*).
//! Read-aloud (*voorlezen*) is spoken by the kiosk's espeak-ng; whether the
//! web view can play it depends on an audio device, which this harness may
//! not have: the test asks the kiosk to speak and checks the controls and
//! the caption while it reads; the audio itself is checked by tests/speak.rs.
//! The instrument switches the spell-check off on item 10 (a spelling
//! question), for her too.

use exam_e2e::webdriver::Session;
use exam_e2e::{bin, scenario, workspace, Display, Driver, Stack};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_works_in_the_kiosk_by_keyboard_and_passes_axe() {
    let tmp = tempfile::tempdir().unwrap();
    let stack = Stack::start(tmp.path()).unwrap();
    let display = Display::start().unwrap();
    // DEMO mode keeps the guard out of this scenario (kiosk.rs covers it).
    let driver = Driver::start(&display, &stack.kiosk_env(true, None)).unwrap();
    let out = workspace().join("target/e2e/tools");
    let _ = std::fs::remove_dir_all(&out);
    let mut observed = Default::default();
    let wait = Duration::from_secs(30);
    let session = Session::new(&driver, bin("exam-kiosk").to_str().unwrap()).await.unwrap();
    let dina = stack.students.iter().find(|s| s.number == "1004").expect("1004 is planned").clone();
    session.type_into(&session.wait_for("#student-number", wait).await.unwrap(), &dina.number).await.unwrap();
    session.type_into(&session.find("#access-code").await.unwrap(), &dina.code).await.unwrap();
    session.click(&session.find("#login-submit").await.unwrap()).await.unwrap();
    session.wait_for("#confirm-assignment", wait).await.unwrap();
    // The student is told, in Dutch, which tools she has.
    let granted = session.text_of("#assignment-accommodations").await.unwrap();
    assert!(granted.contains("rekenmachine") && granted.contains("spellingcontrole") && granted.contains("voorlezen"), "{granted}");
    let everyone = session.text_of("#assignment-tools-all").await.unwrap();
    assert!(everyone.contains("kladblok") && everyone.contains("markeerstift"), "{everyone}");
    scenario::shot(&session, &out, &mut observed, "assignment").await.unwrap();
    scenario::axe(&session, "opdracht").await.unwrap();
    session.click(&session.find("#confirm-assignment").await.unwrap()).await.unwrap();
    session.click(&session.wait_for("#start-exam", wait).await.unwrap()).await.unwrap();
    session.wait_for("[data-item-id] .item-heading", wait).await.unwrap();

    // Calculator (granted by the planning on every item): exact decimals.
    session.click(&session.find("[data-item-id] .calc-open").await.unwrap()).await.unwrap();
    let field = session.wait_for("#calc-input", wait).await.unwrap();
    session.type_keys(&field, "0,1+0,2\u{E007}").await.unwrap(); // U+E007: WebDriver's Enter
    let shown = "return (document.querySelector('#calc-display') || {}).textContent";
    let mut display_text = serde_json::Value::Null;
    for _ in 0..50 {
        display_text = session.script(shown).await.unwrap();
        if display_text == serde_json::json!("= 0,3") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(display_text, serde_json::json!("= 0,3"), "kiosk-core computed 0,1 + 0,2");
    scenario::shot(&session, &out, &mut observed, "calculator").await.unwrap();
    scenario::axe(&session, "rekenmachine").await.unwrap();
    session.script("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))").await.unwrap();

    // Read-aloud: the kiosk speaks the first item (espeak-ng, Dutch); while
    // it reads, the part is shown with the spoken word marked.
    session.click(&session.find("[data-item-id] .read-aloud").await.unwrap()).await.unwrap();
    let reading = session.wait_for("#read-aloud-caption mark.spoken", wait).await;
    scenario::shot(&session, &out, &mut observed, "read-aloud").await.unwrap();
    scenario::axe(&session, "voorlezen").await.unwrap();
    let failed = session.text_of("#live-assertive, #live-polite").await.unwrap_or_default();
    assert!(reading.is_ok() || failed.contains("Voorlezen"), "the caption shows while reading, or the kiosk says why it could not play: {failed}");
    if session.script("return !document.getElementById('read-aloud-caption').hidden").await.unwrap() == serde_json::Value::Bool(true) {
        session.click(&session.find("[data-item-id] .read-aloud").await.unwrap()).await.unwrap();
    }

    // Leesliniaal and larger text (every student).
    session.click(&session.find("#line-focus-toggle").await.unwrap()).await.unwrap();
    session.click(&session.find("#text-bigger").await.unwrap()).await.unwrap();
    scenario::shot(&session, &out, &mut observed, "line-focus-and-text-size").await.unwrap();
    scenario::axe(&session, "leesliniaal en tekstgrootte").await.unwrap();
    session.click(&session.find("#line-focus-toggle").await.unwrap()).await.unwrap();
    session.click(&session.find("#text-smaller").await.unwrap()).await.unwrap();

    // Spell-check on a typed answer (item 4 of the demo test is an open question).
    session.click(&session.find("[data-review=\"ITM-v04\"]").await.unwrap()).await.unwrap();
    let essay = session.wait_for("[data-item-id=\"ITM-v04\"] textarea", wait).await.unwrap();
    session.type_keys(&essay, "Ik kijk eerst naar de kasabon en dan naar het exsamen.").await.unwrap();
    session.wait_for("#sync-status[data-local-pending=\"0\"]", wait).await.unwrap();
    session.click(&session.find("[data-item-id=\"ITM-v04\"] .spell-open").await.unwrap()).await.unwrap();
    session.wait_for("[data-item-id=\"ITM-v04\"] .spell-list li", wait).await.unwrap();
    let listed = session.text_of("[data-item-id=\"ITM-v04\"] .spell-list").await.unwrap();
    assert!(listed.contains("kasabon") && listed.contains("exsamen") && listed.contains("examen"), "hunspell-nl through the kiosk: {listed}");
    assert!(!listed.contains("kijk"), "known words are not listed: {listed}");
    scenario::shot(&session, &out, &mut observed, "spell-check").await.unwrap();
    scenario::axe(&session, "spellingcontrole").await.unwrap();
    // Item 10: the instrument switched the spell-check off there (the
    // stack packs it with --no-spell-check ITM-v10), for her too. The item
    // says so, has no button, and the kiosk refuses a check asked for anyway.
    session.click(&session.find("[data-review=\"ITM-v10\"]").await.unwrap()).await.unwrap();
    session.wait_for("[data-item-id=\"ITM-v10\"] .spell-off", wait).await.unwrap();
    assert!(session.find("[data-item-id=\"ITM-v10\"] .spell-open").await.is_err(), "no spell-check button on item 10");
    let refused = session
        .script_async(
            "const done = arguments[arguments.length - 1]; \
             window.__TAURI__.core.invoke('spell_check', {itemId: 'ITM-v10', text: 'exsamen'}).then(v => done('checked: ' + JSON.stringify(v)), e => done('refused: ' + e))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(refused, serde_json::json!("refused: Bij deze vraag staat de spellingcontrole uit."));
    // Nor through another item: the kiosk checks the answer it holds for
    // the item named, never a text the page sends (the review found the
    // word of an item with the spell-check off checked with item 4's id).
    let smuggled = session
        .script_async(
            "const done = arguments[arguments.length - 1]; \
             window.__TAURI__.core.invoke('spell_check', {itemId: 'ITM-v04', text: 'fietsenstaling'}).then(v => done(v.map(m => m.word)), e => done('refused: ' + e))",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(smuggled, serde_json::json!(["kasabon", "exsamen"]), "item 4's own saved answer, not the page's text");
    scenario::shot(&session, &out, &mut observed, "spell-check-off").await.unwrap();
    scenario::axe(&session, "spellingcontrole uit").await.unwrap();

    // Naslag that is a PDF (item 10's formula sheet): pdf.js draws its two
    // pages in the kiosk's own web view (its CSP, its frozen prototypes).
    session.click(&session.find("[data-item-id=\"ITM-v10\"] .reference-open").await.unwrap()).await.unwrap();
    let state = "return JSON.stringify(Object.assign({}, (document.querySelector('[data-item-id=\"ITM-v10\"] .reference-pages') || {dataset: {}}).dataset))";
    let mut drawn = serde_json::Value::Null;
    for _ in 0..150 {
        drawn = session.script(state).await.ok().and_then(|v| serde_json::from_str(v.as_str()?).ok()).unwrap_or_default();
        if drawn["rendered"] == "true" || drawn["rendered"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(drawn["rendered"], "true", "pdf.js in the kiosk: {drawn}");
    let pages = session
        .script("return [...document.querySelectorAll('[data-item-id=\"ITM-v10\"] canvas.reference-page')].map(c => c.getAttribute('aria-label') + ' ' + c.width)")
        .await
        .unwrap();
    let pages: Vec<String> = serde_json::from_value(pages).unwrap();
    assert_eq!(pages.len(), 2, "both pages of the PDF are drawn: {pages:?}");
    assert!(pages[0].starts_with("Formulekaart, pagina 1 van 2 "), "{pages:?}");
    let text = session.text_of("[data-item-id=\"ITM-v10\"] .reference-status").await.unwrap_or_default();
    assert!(!text.contains("kan niet worden getoond"), "{text}");
    scenario::shot(&session, &out, &mut observed, "reference-pdf").await.unwrap();
    scenario::axe(&session, "naslag pdf").await.unwrap();
    session.close().await;

    // The journal counts the uses, never what was typed.
    let records = exam_e2e::steps::journal_records(&stack.kiosk_data.join("journal")).unwrap();
    let kinds: Vec<&str> = records.iter().filter_map(|r| r["kind"].as_str()).collect();
    assert!(kinds.contains(&"tools.calculator_used") && kinds.contains(&"tools.spell_check_used") && kinds.contains(&"kiosk.read_aloud"), "{kinds:?}");
    let text = serde_json::to_string(&records).unwrap();
    assert!(!text.contains("exsamen") && !text.contains("0,1+0,2"), "the journal holds no typed text");
}
