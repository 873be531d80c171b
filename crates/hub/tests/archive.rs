//! The exam office's archive (issue 17: "the exam office sees only sittings
//! within ±18 h (no archive, no `sittings list`)"): every sitting, past and
//! planned, paged, filtered by period and room, the search by student, in
//! the console's API (admins only) and in `exam-hub sittings list`.
#![allow(missing_docs)]

mod common;

use common::*;
use serde_json::{json, Value};

const PAST: &str = "P-OLD";
const NEXT: &str = "P-NEXT";

async fn get(hub: &TestHub, session: &(reqwest::Client, String), path: &str) -> (u16, Value) {
    let resp = session.0.get(hub.url(path)).header(reqwest::header::COOKIE, &session.1).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// `GET /console/api/archive?QUERY` as the admin: the page.
async fn page(hub: &TestHub, admin: &(reqwest::Client, String), query: &str) -> Value {
    let (status, body) = get(hub, admin, &format!("/console/api/archive?{query}")).await;
    assert_eq!(status, 200, "archive?{query}: {body}");
    body
}

fn ids(page: &Value) -> Vec<String> {
    page["rows"].as_array().unwrap().iter().map(|r| r["sitting_id"].as_str().unwrap().to_string()).collect()
}

fn row<'a>(page: &'a Value, sitting: &str) -> &'a Value {
    page["rows"].as_array().unwrap().iter().find(|r| r["sitting_id"] == sitting).unwrap_or_else(|| panic!("{sitting} not in {page}"))
}

fn utc(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap()
}

async fn the_exam_office_finds_every_sitting(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    // The demo planning has S1 (started 5 minutes ago) and S2 (in 30
    // minutes) in B2.14 and S3 in R9 (started 5 minutes ago). Add a sitting
    // three weeks ago and one next month: both outside the room page's ±18 h.
    let today = time::OffsetDateTime::now_utc().replace_time(time::Time::from_hms(10, 0, 0).unwrap());
    let past = today - time::Duration::days(21);
    let next = today + time::Duration::days(31);
    let csv = format!(
        "student_number,student_name,sitting,exam,exam_code,instrument,room,start,duration_minutes\n\
         1001,Anna de Vries,{PAST},Verkoop niveau 2,VK2-KT1,inst-a,{ROOM},{p},90\n\
         1005,Ömer Yılmaz,{PAST},Verkoop niveau 2,VK2-KT1,inst-a,{ROOM},{p},90\n\
         1006,Eline van der Berg-de Vries,{PAST},Verkoop niveau 2,VK2-KT1,inst-a,{ROOM},{p},90\n\
         1005,Ömer Yılmaz,{NEXT},Engels B1,ENG-B1,inst-a,{OTHER_ROOM},{n},60\n",
        p = utc(past),
        n = utc(next)
    );
    std::fs::write(hub.path("archive.csv"), csv).unwrap();
    let codes = hub.path("archive-codes.txt");
    hub.cli_ok(&["import", "planning", hub.path("archive.csv").to_str().unwrap(), "--codes-out", codes.to_str().unwrap()]);

    // Anna hands in in S1; Bram never logs in.
    let mut kiosk = hub.enrol(ROOM).await;
    kiosk.login_ok("1001", &hub.code("S1", "1001")).await;
    hub.cli_ok(&["start", "--sitting", "S1"]);
    let upload = exam_protocol::AnswerUpload {
        sitting_id: "S1".into(),
        seq: 1,
        final_submission: true,
        answers: json!({"format": "exam-kiosk-answers/1", "sitting_id": "S1", "instrument_id": "inst-a", "seq": 1,
                        "final_submission": true, "responses": {"ITM-1": {"RESPONSE": "A"}}, "flagged": []}),
        changes: vec![],
    };
    let resp = kiosk.post(exam_protocol::paths::ANSWERS, &upload).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());

    let admin = hub.console_sign_in("examenbureau", "admin", &[]).await;

    // Everything, newest first, with the facts per sitting.
    let all = page(&hub, &admin, "").await;
    assert_eq!(ids(&all), [NEXT, "S2", "S3", "S1", PAST], "{all}");
    assert!(all["next"].is_null());
    let old = row(&all, PAST);
    assert_eq!(old["room"], ROOM);
    assert_eq!(old["exam"], "Verkoop niveau 2");
    assert_eq!(old["exam_code"], "VK2-KT1");
    assert_eq!(old["date"], format!("{}", past.date()));
    // 10:00 UTC is 11:00 (winter) or 12:00 (summer) in Amsterdam.
    assert!(matches!(old["time"].as_str(), Some("11:00" | "12:00")), "{old}");
    assert!(old["day"].as_str().unwrap().ends_with(&past.year().to_string()), "{old}");
    assert_eq!((old["expected"].as_i64(), old["logged_in"].as_i64(), old["handed_in"].as_i64(), old["absent"].as_i64()), (Some(3), Some(0), Some(0), Some(3)));
    let s1 = row(&all, "S1");
    assert_eq!((s1["expected"].as_i64(), s1["logged_in"].as_i64(), s1["handed_in"].as_i64(), s1["absent"].as_i64()), (Some(2), Some(1), Some(1), Some(1)));
    // A planned sitting has nobody absent yet.
    let planned = row(&all, NEXT);
    assert_eq!(planned["started"], false);
    assert!(planned["absent"].is_null(), "{planned}");
    assert!(planned["exam_code"] == "ENG-B1");

    // Paging: the boundary falls between S3 and S1, which start at the same
    // millisecond; nothing is lost or repeated, and a full last page has no next.
    let first = page(&hub, &admin, "limit=3").await;
    assert_eq!(ids(&first), [NEXT, "S2", "S3"]);
    let after = first["next"].as_str().expect("a next page").to_string();
    let second = page(&hub, &admin, &format!("limit=3&after={after}")).await;
    assert_eq!(ids(&second), ["S1", PAST]);
    assert!(second["next"].is_null());
    let exact = page(&hub, &admin, "limit=5").await;
    assert_eq!(ids(&exact).len(), 5);
    assert!(exact["next"].is_null(), "a page that holds the rest has no next: {exact}");
    let four = page(&hub, &admin, "limit=4").await;
    let last = page(&hub, &admin, &format!("limit=4&after={}", four["next"].as_str().unwrap())).await;
    assert_eq!(ids(&last), [PAST]);

    // Period (Dutch days, both ends included) and room (case does not matter).
    let day = past.date().to_string();
    assert_eq!(ids(&page(&hub, &admin, &format!("from={day}&to={day}")).await), [PAST]);
    let today_local = row(&all, "S1")["date"].as_str().unwrap().to_string();
    assert_eq!(ids(&page(&hub, &admin, &format!("from={today_local}")).await), [NEXT, "S2", "S3", "S1"]);
    // S2 starts in 30 minutes: after 23:30 in Amsterdam that is tomorrow there.
    let s2_today = row(&all, "S2")["date"].as_str() == Some(today_local.as_str());
    let expected: &[&str] = if s2_today { &["S2", "S1", PAST] } else { &["S1", PAST] };
    assert_eq!(ids(&page(&hub, &admin, &format!("to={today_local}&room=b2.14")).await), expected);
    assert_eq!(ids(&page(&hub, &admin, "room=R9").await), [NEXT, "S3"]);

    // Search by student: part of the name, without case or accents.
    let omer = page(&hub, &admin, "student=omer").await;
    assert_eq!(omer["students_matched"], 1);
    assert_eq!(ids(&omer), [NEXT, PAST]);
    assert_eq!(row(&omer, PAST)["student"], json!({"number": "1005", "name": "Ömer Yılmaz", "status": "afwezig", "status_text": "Afwezig"}));
    assert_eq!(row(&omer, NEXT)["student"]["status"], "gepland");
    let eline = page(&hub, &admin, "student=BERG-DE%20%20vries").await;
    assert_eq!(ids(&eline), [PAST]);
    assert_eq!(row(&eline, PAST)["student"]["number"], "1006");
    let anna = page(&hub, &admin, "student=1001").await;
    assert_eq!(ids(&anna), ["S1", PAST]);
    assert_eq!(row(&anna, "S1")["student"]["status"], "ingeleverd");
    assert_eq!(row(&anna, PAST)["student"]["status"], "afwezig");
    // Several students in one sitting page by student too.
    let de = page(&hub, &admin, "student=vries&limit=1").await;
    assert_eq!(de["students_matched"], 2, "Anna de Vries and Eline van der Berg-de Vries: {de}");
    let mut seen = vec![];
    let mut next = Some(de);
    while let Some(p) = next {
        for r in p["rows"].as_array().unwrap() {
            seen.push(format!("{}/{}", r["sitting_id"].as_str().unwrap(), r["student"]["number"].as_str().unwrap()));
        }
        next = match p["next"].as_str() {
            Some(after) => Some(page(&hub, &admin, &format!("student=vries&limit=1&after={after}")).await),
            None => None,
        };
    }
    assert_eq!(seen, ["S1/1001", &format!("{PAST}/1006"), &format!("{PAST}/1001")]);
    let nobody = page(&hub, &admin, "student=zzz").await;
    assert_eq!((ids(&nobody).len(), nobody["students_matched"].as_i64()), (0, Some(0)));

    // Bad input gets a clear error.
    for (query, says) in [
        ("from=2026-13-01", "is geen datum"),
        ("to=4-12-2026", "is geen datum"),
        ("from=2026-12-05&to=2026-12-04", "eindigt vóór ze begint"),
        ("student=a", "2 tot 100 tekens"),
        ("limit=0", "limit"),
        ("after=nonsense", "paginaverwijzing"),
    ] {
        let (status, body) = get(&hub, &admin, &format!("/console/api/archive?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["message"].as_str().unwrap().contains(says), "{query}: {body}");
    }

    // The rooms for the filter.
    assert_eq!(get(&hub, &admin, "/console/api/archive/rooms").await.1, json!([ROOM, OTHER_ROOM]));

    // An invigilator gets neither the archive nor its rooms; signed out, nothing.
    let invigilator = hub.console_sign_in("surveillant", "invigilator", &[ROOM]).await;
    for path in ["/console/api/archive", "/console/api/archive?student=omer", "/console/api/archive/rooms"] {
        let (status, body) = get(&hub, &invigilator, path).await;
        assert_eq!((status, body["error"].as_str()), (403, Some("admin_only")), "{path}");
    }
    assert_eq!(hub.anonymous().get(hub.url("/console/api/archive")).send().await.unwrap().status(), 401);

    // The same facts from the CLI, one tab-separated line per sitting.
    let out = hub.cli_ok(&["sittings", "list"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "datum\ttijd\tzitting\tlokaal\texamen\texamencode\tverwacht\tingelogd\tingeleverd\tafwezig");
    let order: Vec<&str> = lines[1..].iter().map(|l| l.split('\t').nth(2).unwrap()).collect();
    assert_eq!(order, [NEXT, "S2", "S3", "S1", PAST]);
    let old_line = lines.iter().find(|l| l.contains(PAST)).unwrap();
    let old_fields: Vec<&str> = old_line.split('\t').collect();
    assert_eq!(old_fields[0], day);
    assert_eq!(&old_fields[2..], [PAST, ROOM, "Verkoop niveau 2", "VK2-KT1", "3", "0", "0", "3"]);
    assert!(lines.iter().any(|l| l.ends_with(&format!("\t{NEXT}\t{OTHER_ROOM}\tEngels B1\tENG-B1\t1\t0\t0\t-"))), "{out}");
    assert!(lines.iter().any(|l| l.ends_with("\tS2\tB2.14\tNederlands 3F\t-\t1\t0\t0\t-")), "{out}");
    let period = hub.cli_ok(&["sittings", "list", "--from", &day, "--to", &day]);
    assert_eq!(period.lines().count(), 2, "{period}");
    assert_eq!(hub.cli_ok(&["sittings", "list", "--room", OTHER_ROOM]).lines().count(), 3);
    let student = hub.cli_ok(&["sittings", "list", "--student", "1005"]);
    let student_lines: Vec<&str> = student.lines().collect();
    assert!(student_lines[0].ends_with("\tstudentnummer\tnaam\tstatus"), "{student}");
    assert_eq!(student_lines.len(), 3, "{student}");
    assert!(student_lines[1].contains(NEXT) && student_lines[1].ends_with("\t1005\tÖmer Yılmaz\tgepland"), "{student}");
    assert!(student_lines[2].contains(PAST) && student_lines[2].ends_with("\t1005\tÖmer Yılmaz\tafwezig"), "{student}");
    for (args, says) in [
        (vec!["--from", "2026-13-01"], "--from \"2026-13-01\" is not a date"),
        (vec!["--to", "morgen"], "--to \"morgen\" is not a date"),
        (vec!["--from", "2026-12-05", "--to", "2026-12-04"], "eindigt vóór ze begint"),
    ] {
        let out = hub.cli(&[&["sittings", "list"][..], &args].concat());
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
on_both_backends!(the_exam_office_finds_every_sitting);
