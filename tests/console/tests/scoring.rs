//! The exam office scores an essay in the console ("Beoordelen") in real
//! headless Chromium, by keyboard: from the room page's link to the page
//! listing what waits, the student's answer shown as text (markup in it
//! stays text), a score typed with a decimal comma and saved with Enter, a
//! score over the maximum refused with the hub's Dutch reason, a re-score
//! that shows the earlier one — and the results CSV then has the final score.
//! An invigilator gets no link and no page. axe-core on the page; a
//! screenshot at 1366×768 in target/console-tests/.
#![allow(missing_docs)]

use exam_console_tests::browser::Browser;
use exam_console_tests::kiosk::SimKiosk;
use exam_console_tests::*;
use exam_protocol::AnswerUpload;
use serde_json::json;
use std::collections::BTreeMap;

/// The essay, with markup and a line break: it must stay text.
const ESSAY: &str = "Ik bied mijn <b>excuses</b> aan & ruil de waterkoker om.\nDaarna bel ik de klant terug.";

/// The demo instrument's own scoring data (what `kioskctl instrument render
/// --scoring` prints), with the essay's maximum (ITM-v04: 4 points) added as
/// the hub expects it.
fn demo_scoring() -> String {
    let files = exam_instrument::PackInput::from_dir(&exam_e2e::workspace().join("tests/fixtures/instruments/demo")).expect("demo files");
    let by_path: BTreeMap<&str, &[u8]> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    let instrument = exam_instrument::qti::import(&|p: &str| by_path.get(p).copied()).expect("demo instrument imports");
    let mut scoring = serde_json::to_value(&instrument.scoring).expect("scoring data");
    let essay = scoring["items"].as_array_mut().expect("items").iter_mut().find(|i| i["ref_identifier"] == "ITM-v04").expect("the essay item");
    essay["max_score"] = json!(4);
    scoring.to_string()
}

/// Moves the focus with Tab until `expression` holds for the focused element (at most `tabs` presses).
async fn tab_to(b: &Browser, what: &str, expression: &str, tabs: usize) {
    for _ in 0..tabs {
        if b.eval(&format!("(() => {{ const e = document.activeElement; return !!({expression}); }})()")).await == json!(true) {
            return;
        }
        press(b, "\u{E004}").await;
    }
    b.shoot("scoring-tab").await;
    panic!("Tab never reached {what}");
}

/// Sends keys to the focused element.
async fn press(b: &Browser, keys: &str) {
    b.eval("(document.querySelectorAll('[data-kbd]').forEach(e => e.removeAttribute('data-kbd')), (document.activeElement || document.body).setAttribute('data-kbd', '1'))").await;
    let focused = b.wait("[data-kbd='1']").await;
    b.session.keys(&focused, keys).await.expect("keys");
}

async fn scores_an_essay(hub: ConsoleHub) {
    let scoring = hub.path("scoring.json");
    std::fs::write(&scoring, demo_scoring()).expect("write scoring");
    hub.cli(&["import", "scoring", scoring.to_str().expect("utf-8"), "--id", "rekenen-2f"]);
    // Anna hands in: one choice item (scored by the hub) and the essay.
    let s1 = hub.students[0].clone();
    let mut kiosk = SimKiosk::enrol(&hub, ROOM, "pc-01").await;
    kiosk.login(&s1, &hub.code(SITTING, &s1)).await.expect("login");
    let answers = json!({
        "format": "exam-kiosk-answers/1", "sitting_id": SITTING, "instrument_id": "rekenen-2f", "seq": 1, "final_submission": true,
        "responses": {"ITM-v01": {"RESPONSE": "B"}, "ITM-v04": {"RESPONSE": ESSAY}}, "flagged": []
    });
    kiosk
        .client
        .upload_answers(&AnswerUpload { sitting_id: SITTING.into(), seq: 1, final_submission: true, answers, changes: vec![] })
        .await
        .expect("hand in");

    let b = Browser::start(&hub).await;
    b.session.set_window_size(1366, 768).await.expect("laptop size");
    // An invigilator: no link on the room page, and the page says it is not theirs.
    b.sign_in("j.jansen", PASSWORD).await;
    b.wait_until("room page", "location.pathname === '/console/room.html'").await;
    b.wait_until("the sitting's downloads", &format!("document.querySelector('section[data-sitting=\"{SITTING}\"] a[data-download=\"csv\"]')")).await;
    assert_eq!(b.eval("document.querySelectorAll('a[data-link=\"scoring\"]').length").await, json!(0), "no Beoordelen link for an invigilator");
    b.open(&format!("/console/scoring.html?sitting={SITTING}")).await;
    b.wait_until("refusal", "!document.getElementById('notice').hidden && document.getElementById('notice').textContent.includes('alleen voor het examenbureau')").await;
    assert_eq!(b.eval("document.querySelectorAll('#students form').length").await, json!(0));
    b.click("#logout").await;
    b.wait_until("signed out", "location.pathname === '/console/'").await;

    // The exam office: from the room's downloads to Beoordelen.
    b.sign_in("admin", PASSWORD).await;
    b.wait_until("rooms page", "location.pathname === '/console/rooms.html'").await;
    b.open(&format!("/console/room.html?room={ROOM}")).await;
    b.click(&format!("section[data-sitting=\"{SITTING}\"] details.more summary")).await;
    b.click(&format!("section[data-sitting=\"{SITTING}\"] a[data-link=\"scoring\"]")).await;
    b.wait_until("scoring page", "location.pathname === '/console/scoring.html'").await;
    let item = format!("{s1}-ITM-v04");
    b.wait(&format!("form[data-score=\"{item}\"]")).await;
    // The answer as the student wrote it: markup stays text, the line break is kept.
    let shown = b.eval(&format!("document.querySelector('[data-answer=\"{item}\"]').textContent")).await;
    assert_eq!(shown, json!(ESSAY));
    assert_eq!(b.eval("document.querySelectorAll('#students b').length").await, json!(0), "no markup from the answer");
    assert!(b.eval("document.getElementById('scoring-summary').textContent").await.as_str().unwrap_or("").starts_with("1 antwoord wacht"));
    assert_eq!(b.eval("document.querySelectorAll('#students article').length").await, json!(1), "only the essay: the hub scores the rest");
    b.assert_accessible("scoring").await;
    b.shoot("scoring-before-1366x768").await;

    // Keyboard only: Tab to the points, type, Enter.
    let input = format!("points-{item}");
    b.eval("document.activeElement && document.activeElement.blur()").await;
    tab_to(&b, "the points field", &format!("e && e.id === '{input}'"), 40).await;
    press(&b, "5").await;
    press(&b, "\u{E007}").await;
    let error = format!("error-{item}");
    b.wait_until("over the maximum refused", &format!("!document.getElementById('{error}').hidden && document.getElementById('{error}').textContent.includes('hoogstens 4 punten')")).await;
    b.wait_until("focus back in the field", &format!("document.activeElement.id === '{input}'")).await;
    press(&b, "\u{E003}2,5").await; // Backspace, then the score.
    press(&b, "\u{E007}").await;
    b.wait_until("saved", "document.getElementById('status').textContent.includes('2,5 punten van 4 opgeslagen')").await;
    b.wait_until(
        "the score and its scorer",
        &format!("document.querySelector('[data-given=\"{item}\"]')?.textContent === 'Huidige score: 2,5 punten, gegeven door Ada Beheer.'"),
    )
    .await;
    b.wait_until("focus kept after the save", &format!("document.activeElement.id === '{input}'")).await;
    b.wait_until("final now", &format!("document.querySelector('[data-summary=\"{s1}\"]').textContent.includes('(definitief)')")).await;
    assert_eq!(b.eval("document.getElementById('scoring-summary').textContent").await, json!("Alles is beoordeeld (1 student)."));
    b.assert_accessible("scoring after a save").await;
    b.shoot("scoring-1366x768").await;

    // Re-scoring: the field holds the earlier score; the new one replaces it and says what it was.
    assert_eq!(b.eval(&format!("document.getElementById('{input}').value")).await, json!("2,5"));
    press(&b, "\u{E003}\u{E003}\u{E003}3").await;
    press(&b, "\u{E007}").await;
    b.wait_until("re-scored", "document.getElementById('status').textContent.includes('(was 2,5 door Ada Beheer)')").await;

    // Scoring happens after the day too: the archive links every sitting's Beoordelen.
    b.open("/console/archive.html").await;
    b.click(&format!("a[data-link=\"scoring\"][href=\"/console/scoring.html?sitting={SITTING}\"]")).await;
    b.wait_until("scoring page from the archive", &format!("document.querySelector('[data-given=\"{item}\"]')?.textContent.includes('3 punten')")).await;

    // The results CSV of the sitting has the final score: 1 (the hub's) + 3 (the exam office's).
    let (status, _, body) = b.fetch(&format!("/console/api/sittings/{SITTING}/results.csv")).await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(body).expect("utf-8");
    let row: Vec<&str> = csv.lines().find(|l| l.starts_with(&format!("{s1},"))).expect("Anna's row").split(',').collect();
    let header: Vec<&str> = csv.lines().next().expect("header").split(',').collect();
    let cell = |name: &str| row[header.iter().position(|h| *h == name).expect(name)];
    assert_eq!((cell("score"), cell("score_voorlopig"), cell("beoordeling"), cell("nog_te_beoordelen")), ("4", "", "definitief", ""), "{csv}");

    // A test whose own outcome processing the hub cannot run: nothing is
    // left to score, and still the page says the score is provisional, and
    // why (before: "(definitief)", as the CSV said "voorlopig").
    let mut unrunnable: serde_json::Value = serde_json::from_str(&demo_scoring()).expect("scoring json");
    unrunnable["test"] = json!({"manual": "de toets selecteert vragen op sectie"});
    std::fs::write(&scoring, unrunnable.to_string()).expect("write scoring");
    hub.cli(&["import", "scoring", scoring.to_str().expect("utf-8"), "--id", "rekenen-2f"]);
    b.open(&format!("/console/scoring.html?sitting={SITTING}")).await;
    b.wait_until("provisional, with the reason", &format!("document.querySelector('[data-provisional=\"{s1}\"]')?.textContent.includes('selecteert vragen op sectie')")).await;
    assert!(b.eval(&format!("document.querySelector('[data-summary=\"{s1}\"]').textContent")).await.as_str().unwrap_or("").contains("(voorlopig)"));
    assert!(b.eval("document.getElementById('scoring-summary').textContent").await.as_str().unwrap_or("").contains("blijft voorlopig"));
    b.assert_accessible("scoring, provisional").await;
    b.shoot("scoring-provisional-1366x768").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exam_office_scores_an_essay_by_keyboard() {
    scores_an_essay(ConsoleHub::start(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exam_office_scores_an_essay_by_keyboard_on_postgres() {
    let Some(database) = postgres_database().await else {
        eprintln!("{POSTGRES_ENV} is not set: PostgreSQL variant not run here (cargo xtask test runs it)");
        return;
    };
    scores_an_essay(ConsoleHub::start_on(3, Some(database))).await;
}
