//! `exam-hub instruct` against a real `exam-hub` process over real TLS: an
//! end for a room records on the hub what the console's "Beëindigen voor
//! iedereen" records (the sitting ended and by whom, every planned seat
//! ended, one `end_all` line in the journal of actions), compared line by
//! line with a console end of another sitting. Nothing sleeps.
#![allow(missing_docs)]

mod common;

use common::*;
use exam_hub::db::Db;
use exam_protocol::*;
use serde_json::json;
use sqlx::Row as _;
use std::io::Write as _;
use std::process::{Command, Stdio};

async fn open_db(hub: &TestHub) -> Db {
    let url = hub.database.clone().unwrap_or_else(|| exam_hub::db::sqlite_url(&hub.data()));
    Db::connect(&url).await.unwrap()
}

/// Signs in an invigilator of `room` (account `name`) on the console:
/// (client, session cookie, CSRF token).
async fn invigilator(hub: &TestHub, room: &str, name: &str) -> (reqwest::Client, String, String) {
    let mut cmd = Command::new(exe());
    cmd.args(["account", "add", "--username", "piet", "--name", name, "--role", "invigilator", "--room", room, "--data"]).arg(hub.data());
    if let Some(db) = &hub.database {
        cmd.args(["--database", db]);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"een lang genoeg wachtwoord 8\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "account add: {}", String::from_utf8_lossy(&out.stderr));
    let client = hub.anonymous();
    let resp = client.post(hub.url("/console/api/login")).json(&json!({"username": "piet", "password": "een lang genoeg wachtwoord 8"})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let me: serde_json::Value = resp.json().await.unwrap();
    (client, cookie, me["csrf_token"].as_str().unwrap().to_string())
}

/// The console's "Beëindigen voor iedereen" of `sitting` in `room`, with the version the room page shows.
async fn console_end_all(hub: &TestHub, session: &(reqwest::Client, String, String), room: &str, sitting: &str, reason: &str) {
    let (status, text) = console_room_action(hub, session, room, sitting, "end_all", reason).await;
    assert_eq!(status, 200, "{text}");
}

/// A room-wide console action (`end_all`, `pause_all`, `resume_all`) on
/// `sitting` in `room`, with the version the room page shows: (status, body).
async fn console_room_action(hub: &TestHub, session: &(reqwest::Client, String, String), room: &str, sitting: &str, action: &str, reason: &str) -> (u16, String) {
    let (client, cookie, csrf) = session;
    let view: serde_json::Value =
        client.get(hub.url(&format!("/console/api/rooms/{room}"))).header(reqwest::header::COOKIE, cookie).send().await.unwrap().json().await.unwrap();
    let shown = view["sittings"].as_array().unwrap().iter().find(|s| s["sitting_id"] == sitting).unwrap().clone();
    let resp = client
        .post(hub.url(&format!("/console/api/rooms/{room}/actions")))
        .header(reqwest::header::COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .json(&json!({"action": action, "sitting_id": sitting, "version": shown["version"], "reason": reason}))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// The sitting's pause on the hub (`console_sittings.paused_ms` is set).
async fn sitting_paused(db: &Db, sitting: &str) -> bool {
    sqlx::query("SELECT paused_ms FROM console_sittings WHERE sitting_id = $1")
        .bind(sitting)
        .fetch_optional(&db.pool)
        .await
        .unwrap()
        .is_some_and(|r| r.try_get::<Option<i64>, _>("paused_ms").unwrap().is_some())
}

/// The planned students of the sitting whose seat is paused on the hub.
async fn seats_paused(db: &Db, sitting: &str) -> Vec<String> {
    sqlx::query("SELECT student_number FROM console_seats WHERE sitting_id = $1 AND paused_ms IS NOT NULL ORDER BY student_number")
        .bind(sitting)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("student_number").unwrap())
        .collect()
}

/// The sitting's end on the hub: (ended, ended_by, version).
async fn sitting_end(db: &Db, sitting: &str) -> Option<(bool, Option<String>, i64)> {
    sqlx::query("SELECT ended_ms, ended_by, version FROM console_sittings WHERE sitting_id = $1")
        .bind(sitting)
        .fetch_optional(&db.pool)
        .await
        .unwrap()
        .map(|r| (r.try_get::<Option<i64>, _>("ended_ms").unwrap().is_some(), r.try_get("ended_by").unwrap(), r.try_get("version").unwrap()))
}

/// The planned students of the sitting whose seat is not ended on the hub.
async fn seats_not_ended(db: &Db, sitting: &str) -> Vec<String> {
    sqlx::query(
        "SELECT c.student_number FROM candidates c LEFT JOIN console_seats cs ON cs.sitting_id = c.sitting_id AND cs.student_number = c.student_number \
         WHERE c.sitting_id = $1 AND cs.ended_ms IS NULL ORDER BY c.student_number",
    )
    .bind(sitting)
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| r.try_get("student_number").unwrap())
    .collect()
}

/// The sitting's lines in the hub's journal of actions: (student, action, reason, detail).
async fn journal_lines(db: &Db, sitting: &str) -> Vec<(Option<String>, String, String, String)> {
    sqlx::query("SELECT student_number, action, reason, detail FROM console_actions WHERE sitting_id = $1 ORDER BY at_ms, action_id")
        .bind(sitting)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.try_get("student_number").unwrap(), r.try_get("action").unwrap(), r.try_get("reason").unwrap(), r.try_get("detail").unwrap()))
        .collect()
}

/// The instructions stored for a device.
async fn instructions_of(db: &Db, device: &str) -> Vec<Instruction> {
    sqlx::query("SELECT body FROM instructions WHERE device_id = $1 ORDER BY issued_ms, instruction_id")
        .bind(device)
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(&r.try_get::<String, _>("body").unwrap()).unwrap())
        .collect()
}

/// L4: `exam-hub instruct --room R --action end` ends for everyone the
/// sitting of the room a student is logged in to there, as the console's
/// end for everyone does (before, it ended only the seats of the students
/// logged in, one `end` line each, and left the sitting open: the console
/// still offered its actions and the proces-verbaal named no end). A sitting
/// of the room nobody is in is left alone; a seat reopened afterwards is
/// ended alone by the next room end.
async fn a_room_end_is_the_consoles_end_for_everyone(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    // S1 (ROOM): 1001 logged in on a PC of the room, 1002 not logged in.
    // S3 (OTHER_ROOM): 1004 logged in there, ended from the console.
    // S2 (ROOM, later): nobody.
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    let mut other = hub.enrol(OTHER_ROOM).await;
    other.login_ok("1004", &hub.code("S3", "1004")).await;
    let console = invigilator(&hub, OTHER_ROOM, "Piet Surveillant").await;
    console_end_all(&hub, &console, OTHER_ROOM, "S3", "tijd voorbij").await;

    let printed = hub.cli_ok(&["instruct", "--room", ROOM, "--action", "end", "--reason", "tijd voorbij"]);

    let db = open_db(&hub).await;
    assert_eq!(sitting_end(&db, "S3").await, Some((true, Some("Piet Surveillant".into()), 1)));
    assert_eq!(sitting_end(&db, "S1").await, Some((true, Some("exam-hub cli".into()), 1)), "the sitting is ended, by the CLI");
    assert_eq!(seats_not_ended(&db, "S3").await, Vec::<String>::new());
    assert_eq!(seats_not_ended(&db, "S1").await, Vec::<String>::new(), "also the seat of 1002, who never logged in");
    let expected = vec![(None, "end_all".to_string(), "tijd voorbij".to_string(), "1 pc".to_string())];
    assert_eq!(journal_lines(&db, "S3").await, expected, "the console's end for everyone");
    assert_eq!(journal_lines(&db, "S1").await, expected, "the same line as the console's");
    let by: Vec<String> = sqlx::query("SELECT username FROM console_actions WHERE sitting_id = 'S1'")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("username").unwrap())
        .collect();
    assert_eq!(by, [exam_hub::admin::CLI_USER]);
    let pv = exam_hub::reports::proces_verbaal(&db, "S1").await.unwrap();
    // The proces-verbaal names the end; the command line is the exam office (issue 17: not "exam-hub cli").
    assert_eq!(pv.ended.map(|(_, by)| by), Some(Some("examenbureau (opdrachtregel op de examenserver)".to_string())), "the proces-verbaal names the end");
    // The sitting of the room nobody is in is left alone.
    assert_eq!(sitting_end(&db, "S2").await, None);
    assert!(journal_lines(&db, "S2").await.is_empty());
    // The PC got the end in its student's session, and its id was printed.
    let sent = instructions_of(&db, pc.id()).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].kind, InstructionKind::End);
    assert_eq!(sent[0].session, Some(InstructionScope { sitting_id: "S1".into(), student_number: "1001".into() }));
    assert_eq!(printed.lines().collect::<Vec<_>>(), [sent[0].id.as_str()]);

    // Again: the sitting is ended already; nothing more is recorded.
    hub.cli_ok(&["instruct", "--room", ROOM, "--action", "end", "--reason", "nogmaals"]);
    assert_eq!(journal_lines(&db, "S1").await, expected);
    assert_eq!(sitting_end(&db, "S1").await, Some((true, Some("exam-hub cli".into()), 1)));

    // A seat reopened after the end for everyone is ended alone by the next room end.
    hub.cli_ok(&["reopen", "--sitting", "S1", "--student", "1001", "--reason", "brandalarm, nog niet klaar"]);
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    hub.cli_ok(&["instruct", "--room", ROOM, "--action", "end", "--reason", "nu echt klaar"]);
    let lines = journal_lines(&db, "S1").await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!((lines[1].0.as_deref(), lines[1].1.as_str()), (Some("1001"), "reopen"));
    assert_eq!((lines[2].0.as_deref(), lines[2].1.as_str(), lines[2].2.as_str()), (Some("1001"), "end", "nu echt klaar"));
    assert_eq!(seats_not_ended(&db, "S1").await, Vec::<String>::new());
    assert_eq!(sitting_end(&db, "S1").await, Some((true, Some("exam-hub cli".into()), 1)), "the first end for everyone stays");
}
on_both_backends!(a_room_end_is_the_consoles_end_for_everyone);

/// A pause and a resume for a room from the CLI are the console's "Alles
/// pauzeren" and "Alles hervatten": before, the CLI paused only the seats of
/// the students logged in, one `pause` line each, and left the sitting
/// running — the console showed no "Alles hervatten" and refused it
/// ("zitting S1 is niet gepauzeerd"), and the seat of a student not yet
/// logged in kept its clock running through the outage.
async fn a_room_pause_is_the_consoles_pause_for_everyone(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    // S1 (ROOM): 1001 logged in on a PC of the room, 1002 not logged in.
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    let console = invigilator(&hub, ROOM, "Piet Surveillant").await;
    let db = open_db(&hub).await;

    hub.cli_ok(&["instruct", "--room", ROOM, "--action", "pause", "--reason", "stroomstoring"]);
    assert!(sitting_paused(&db, "S1").await, "the sitting is paused on the hub");
    assert_eq!(seats_paused(&db, "S1").await, ["1001", "1002"], "also the seat of 1002, who is not logged in yet");
    let paused = vec![(None, "pause_all".to_string(), "stroomstoring".to_string(), "1 pc".to_string())];
    assert_eq!(journal_lines(&db, "S1").await, paused, "the console's pause for everyone");
    // The console sees a paused sitting: its resume for everyone is taken.
    let (status, text) = console_room_action(&hub, &console, ROOM, "S1", "resume_all", "").await;
    assert_eq!(status, 200, "the console resumes the sitting the CLI paused: {text}");
    assert!(!sitting_paused(&db, "S1").await);
    assert_eq!(seats_paused(&db, "S1").await, Vec::<String>::new());

    // The other way round: paused from the console, resumed from the CLI.
    let (status, text) = console_room_action(&hub, &console, ROOM, "S1", "pause_all", "brandalarm").await;
    assert_eq!(status, 200, "{text}");
    hub.cli_ok(&["instruct", "--room", ROOM, "--action", "resume"]);
    assert!(!sitting_paused(&db, "S1").await, "the CLI resumes the sitting the console paused");
    assert_eq!(seats_paused(&db, "S1").await, Vec::<String>::new());
    let lines: Vec<String> = journal_lines(&db, "S1").await.into_iter().map(|(student, action, _, _)| format!("{student:?} {action}")).collect();
    assert_eq!(lines, ["None pause_all", "None resume_all", "None pause_all", "None resume_all"]);
    let by: Vec<String> = sqlx::query("SELECT username FROM console_actions WHERE sitting_id = 'S1' ORDER BY at_ms, action_id")
        .fetch_all(&db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("username").unwrap())
        .collect();
    assert_eq!(by, [exam_hub::admin::CLI_USER, "piet", "piet", exam_hub::admin::CLI_USER]);
    // The PC got a pause and a resume in its student's session.
    let kinds: Vec<InstructionKind> = instructions_of(&db, pc.id()).await.into_iter().map(|i| i.kind).collect();
    assert_eq!(kinds.iter().filter(|k| **k == InstructionKind::Pause).count(), 2, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == InstructionKind::Resume).count(), 2, "{kinds:?}");
}
on_both_backends!(a_room_pause_is_the_consoles_pause_for_everyone);

/// An end, lock, pause or extra time from the CLI needs a reason, as in the
/// console (resume does not): before, `instruct --action end` without one
/// ended the exam and the proces-verbaal showed an end without a reason.
async fn the_cli_asks_for_a_reason_as_the_console_does(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut pc = hub.enrol(ROOM).await;
    pc.login_ok("1001", &hub.code("S1", "1001")).await;
    let db = open_db(&hub).await;
    for reason in [None, Some("   "), Some("tab\tin")] {
        let mut args = vec!["instruct", "--action", "end", "--sitting", "S1", "--student", "1001"];
        args.extend(reason.iter().flat_map(|r| ["--reason", *r]));
        let out = hub.cli(&args);
        assert!(!out.status.success(), "{reason:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--reason is required"), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(instructions_of(&db, pc.id()).await.is_empty(), "nothing was sent");
    assert!(journal_lines(&db, "S1").await.is_empty(), "nothing was recorded");
    hub.cli_ok(&["instruct", "--action", "pause", "--sitting", "S1", "--student", "1001", "--reason", "brandalarm"]);
    hub.cli_ok(&["instruct", "--action", "resume", "--sitting", "S1", "--student", "1001"]);
}
on_both_backends!(the_cli_asks_for_a_reason_as_the_console_does);
