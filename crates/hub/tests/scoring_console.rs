//! Hand scoring from the console (issue 17: "items that need a person are
//! listed for hand scoring in the console, by a role allowed to score"),
//! against a real `exam-hub` over real TLS, on SQLite and PostgreSQL: the
//! exam office lists what waits and scores it through the API, with the
//! signed-in account as the scorer; invigilators may not; CSRF is refused;
//! and no score is taken for an item whose maximum is unknown (before, `score
//! set` took any number for it).
#![allow(missing_docs)]

mod common;

use common::*;
use exam_protocol::*;
use serde_json::{json, Value};

const SITTING: &str = "S1";
const ESSAY: &str = "Ik bied <b>excuses</b> aan & ruil de waterkoker om.\nDaarna bel ik de klant.";

/// Scoring data: ITM-1 the hub scores; ITM-4 is an essay with a maximum of
/// 4; ITM-5 is an essay whose maximum the data does not give (`max5`: now it does).
fn scoring_json(max5: Option<f64>) -> String {
    const MC: &str = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml";
    let mut itm5 = json!({"ref_identifier": "ITM-5", "identifier": "v05", "weights": {}, "processing": {"kind": "none"},
         "responses": [{"identifier": "RESPONSE", "cardinality": "single", "base_type": "string"}]});
    if let Some(max) = max5 {
        itm5["max_score"] = json!(max);
    }
    json!({"items": [
        {"ref_identifier": "ITM-1", "identifier": "q1", "weights": {}, "processing": {"kind": "template", "uri": MC},
         "responses": [{"identifier": "RESPONSE", "cardinality": "single", "base_type": "identifier", "correct": ["B"]}]},
        {"ref_identifier": "ITM-4", "identifier": "v04", "weights": {}, "processing": {"kind": "none"}, "max_score": 4,
         "responses": [{"identifier": "RESPONSE", "cardinality": "single", "base_type": "string"}]},
        itm5
    ]})
    .to_string()
}


async fn sign_in(hub: &TestHub, username: &str, name: &str, role: &str) -> ConsoleSession {
    console_sign_in(hub, username, name, role, if role == "invigilator" { &[ROOM] } else { &[] }).await
}

/// `POST …/scores` with the session's CSRF token.
trait Scores {
    async fn score(&self, hub: &TestHub, student: &str, item: &str, points: &str) -> reqwest::Response;
}

impl Scores for ConsoleSession {
    async fn score(&self, hub: &TestHub, student: &str, item: &str, points: &str) -> reqwest::Response {
        self.client
            .post(hub.url(&format!("/console/api/sittings/{SITTING}/scores")))
            .header(reqwest::header::COOKIE, &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&json!({"student_number": student, "item": item, "points": points}))
            .send()
            .await
            .unwrap()
    }
}

async fn refused(resp: reqwest::Response, status: u16, code: &str, says: &str) {
    let got = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!((got, body["error"].as_str().unwrap_or("")), (status, code), "{body}");
    assert!(body["message"].as_str().unwrap_or("").contains(says), "{says:?}: {body}");
}

/// The results CSV as the console serves it, by student number.
async fn csv_rows(hub: &TestHub, session: &ConsoleSession) -> std::collections::HashMap<String, Vec<String>> {
    let resp = session.get(hub, &format!("/console/api/sittings/{SITTING}/results.csv")).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().nth(8), Some("nog_te_beoordelen"));
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>()).map(|r| (r[0].clone(), r)).collect()
}

async fn the_exam_office_scores_in_the_console(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let scoring = hub.path("scoring.json");
    std::fs::write(&scoring, scoring_json(None)).unwrap();
    hub.cli_ok(&["import", "scoring", scoring.to_str().unwrap(), "--id", "inst-a"]);
    let mut a = hub.enrol(ROOM).await;
    a.login_ok("1001", &hub.code(SITTING, "1001")).await;
    hub.cli_ok(&["start", "--sitting", SITTING]);
    let handed_in = json!({"ITM-1": {"RESPONSE": "B"}, "ITM-4": {"RESPONSE": ESSAY}, "ITM-5": {"RESPONSE": "Kort antwoord."}});
    assert_eq!(a.post(paths::ANSWERS, &snapshot(SITTING, 1, true, handed_in)).await.status(), 200);

    let office = sign_in(&hub, "bureau", "Mevr. Bakker (examenbureau)", "admin").await;
    let invigilator = sign_in(&hub, "wit", "Mevr. de Wit", "invigilator").await;

    // Invigilators do not score, and do not read answers for it.
    refused(invigilator.get(&hub, &format!("/console/api/sittings/{SITTING}/scoring")).await, 403, "admin_only", "examenbureau").await;
    refused(invigilator.score(&hub, "1001", "ITM-4", "3").await, 403, "admin_only", "examenbureau").await;

    // The exam office sees what waits: the answer as it was given (text), the maximum, no score yet.
    let resp = office.get(&hub, &format!("/console/api/sittings/{SITTING}/scoring")).await;
    assert_eq!(resp.status(), 200);
    let view: Value = resp.json().await.unwrap();
    let students = view["students"].as_array().unwrap();
    assert_eq!(students.len(), 1, "only 1001 has answers that count: {view}");
    assert_eq!(students[0]["student_number"], "1001");
    assert_eq!(students[0]["name"], "Anna de Vries");
    assert_eq!(students[0]["pending"], json!(["ITM-4", "ITM-5"]));
    let items = students[0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "ITM-1 is scored by the hub: {view}");
    assert_eq!((&items[0]["item"], &items[0]["answer"], &items[0]["max_score"], &items[0]["points"]), (&json!("ITM-4"), &json!(ESSAY), &json!(4.0), &Value::Null));
    assert_eq!(items[1]["max_score"], Value::Null, "ITM-5's maximum is unknown");

    // Without the session's CSRF token, or from another site: refused, nothing stored.
    let no_token = office
        .client
        .post(hub.url(&format!("/console/api/sittings/{SITTING}/scores")))
        .header(reqwest::header::COOKIE, &office.cookie)
        .json(&json!({"student_number": "1001", "item": "ITM-4", "points": "3"}))
        .send()
        .await
        .unwrap();
    refused(no_token, 403, "csrf", "vernieuw de pagina").await;
    let cross_site = office
        .client
        .post(hub.url(&format!("/console/api/sittings/{SITTING}/scores")))
        .header(reqwest::header::COOKIE, &office.cookie)
        .header("x-csrf-token", &office.csrf)
        .header(reqwest::header::ORIGIN, "https://evil.example")
        .json(&json!({"student_number": "1001", "item": "ITM-4", "points": "3"}))
        .send()
        .await
        .unwrap();
    refused(cross_site, 403, "csrf", "vernieuw de pagina").await;
    // Bad input: a clear Dutch answer each.
    refused(office.score(&hub, "1001", "ITM-4", "5").await, 400, "invalid", "vraag ITM-4 heeft hoogstens 4 punten").await;
    refused(office.score(&hub, "1001", "ITM-4", "-1").await, 400, "invalid", "geef een getal vanaf 0").await;
    refused(office.score(&hub, "1001", "ITM-4", "1,2345").await, 400, "invalid", "hoogstens 3 decimalen").await;
    refused(office.score(&hub, "1001", "ITM-4", "drie").await, 400, "invalid", "geef een getal vanaf 0").await;
    refused(office.score(&hub, "1001", "ITM-1", "1").await, 400, "invalid", "scoort de examenserver zelf").await;
    refused(office.score(&hub, "1001", "ITM-9", "1").await, 404, "not_found", "geen vraag ITM-9").await;
    refused(office.score(&hub, "9999", "ITM-4", "1").await, 404, "not_found", "staat niet in zitting").await;
    refused(office.score(&hub, "1002", "ITM-4", "1").await, 400, "invalid", "niets te beoordelen").await;
    // The defect: an item whose maximum is unknown took any number (a typed 30 for 3). Now refused, in the console …
    refused(office.score(&hub, "1001", "ITM-5", "30").await, 400, "invalid", "maximum van vraag ITM-5 is onbekend").await;
    // … and on the command line alike.
    let out = hub.cli(&["score", "set", "--sitting", SITTING, "--student", "1001", "--item", "ITM-5", "--points", "30", "--by", "bureau"]);
    assert_eq!(out.status.code(), Some(2), "score set took a score without a maximum: {}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the maximum of item ITM-5 is unknown"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(hub.cli_ok(&["score", "pending", "--sitting", SITTING]).contains("1001  ITM-5  (maximum unknown: cannot be scored"));
    assert_eq!(csv_rows(&hub, &office).await["1001"][8], "ITM-4;ITM-5", "refusals store nothing");

    // The exam office scores, with a decimal comma; the session names the scorer.
    let resp = office.score(&hub, "1001", "ITM-4", "2,5").await;
    assert_eq!(resp.status(), 200);
    let done: Value = resp.json().await.unwrap();
    assert!(done["message"].as_str().unwrap().contains("1001 ITM-4: 2,5 punten van 4 opgeslagen"), "{done}");
    assert_eq!(done["pending"], json!(["ITM-5"]));
    let rows = csv_rows(&hub, &office).await;
    assert_eq!((rows["1001"][4].as_str(), rows["1001"][5].as_str(), rows["1001"][8].as_str()), ("", "3.5", "ITM-5"), "1 + 2.5, provisional: {:?}", rows["1001"]);

    // Re-scoring shows the earlier score, and replaces it.
    let view: Value = office.get(&hub, &format!("/console/api/sittings/{SITTING}/scoring")).await.json().await.unwrap();
    let item = &view["students"][0]["items"][0];
    assert_eq!((&item["points"], &item["by"]), (&json!(2.5), &json!("Mevr. Bakker (examenbureau)")));
    let done: Value = office.score(&hub, "1001", "ITM-4", "3").await.json().await.unwrap();
    assert_eq!(done["replaced"], json!([2.5, "Mevr. Bakker (examenbureau)"]));

    // Once the scoring data gives ITM-5's maximum, it is scored like any other; then the score is final.
    std::fs::write(&scoring, scoring_json(Some(2.0))).unwrap();
    hub.cli_ok(&["import", "scoring", scoring.to_str().unwrap(), "--id", "inst-a"]);
    refused(office.score(&hub, "1001", "ITM-5", "30").await, 400, "invalid", "vraag ITM-5 heeft hoogstens 2 punten").await;
    let done: Value = office.score(&hub, "1001", "ITM-5", "2").await.json().await.unwrap();
    assert_eq!(done["pending"], json!([]), "{done}");
    let rows = csv_rows(&hub, &office).await;
    assert_eq!(&rows["1001"][4..9], ["6", "", "7", "definitief", ""], "{:?}", rows["1001"]);

    // A score the test's own outcome processing cannot make stays
    // provisional, and the page says so: before, a student with no item
    // left to score dropped off the page while the CSV said "voorlopig",
    // and the page called such a score "definitief".
    let mut unrunnable: Value = serde_json::from_str(&scoring_json(Some(2.0))).unwrap();
    unrunnable["test"] = json!({"manual": "de toets selecteert op sectie-identifier"});
    std::fs::write(&scoring, unrunnable.to_string()).unwrap();
    hub.cli_ok(&["import", "scoring", scoring.to_str().unwrap(), "--id", "inst-a"]);
    let view: Value = office.get(&hub, &format!("/console/api/sittings/{SITTING}/scoring")).await.json().await.unwrap();
    let student = &view["students"][0];
    assert_eq!((&student["student_number"], &student["definitive"], &student["pending"]), (&json!("1001"), &json!(false), &json!([])), "{view}");
    assert!(student["provisional_because"].as_str().unwrap().contains("sectie-identifier"), "{view}");
    assert_eq!(&csv_rows(&hub, &office).await["1001"][4..8], ["", "6", "7", "voorlopig"]);
    std::fs::write(&scoring, scoring_json(Some(2.0))).unwrap();
    hub.cli_ok(&["import", "scoring", scoring.to_str().unwrap(), "--id", "inst-a"]);
    let view: Value = office.get(&hub, &format!("/console/api/sittings/{SITTING}/scoring")).await.json().await.unwrap();
    assert_eq!((&view["students"][0]["definitive"], &view["students"][0]["provisional_because"]), (&json!(true), &json!("")), "{view}");

    // The hub's journal of actions names the signed-in account, every time.
    let db = exam_hub::db::Db::connect(&hub.database.clone().unwrap_or_else(|| exam_hub::db::sqlite_url(&hub.data()))).await.unwrap();
    let journalled = journalled_actions(&db, SITTING, "1001", exam_hub::reports::HAND_SCORE_ACTION).await;
    assert_eq!(journalled.len(), 3, "{journalled:?}");
    assert!(journalled.iter().all(|(u, n, _)| u == "bureau" && n == "Mevr. Bakker (examenbureau)"), "{journalled:?}");
    assert_eq!(journalled[0].2, "ITM-4: 2.5 punt(en) van 4, antwoorden van opslag 1");
    assert!(journalled[1].2.ends_with("(was 2.5 door Mevr. Bakker (examenbureau))"), "{journalled:?}");

    // Signed out: nothing.
    let anonymous = hub.anonymous().get(hub.url(&format!("/console/api/sittings/{SITTING}/scoring"))).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let unknown = office.get(&hub, "/console/api/sittings/S9/scoring").await;
    refused(unknown, 404, "not_found", "zitting S9 bestaat niet").await;
}
on_both_backends!(the_exam_office_scores_in_the_console);
