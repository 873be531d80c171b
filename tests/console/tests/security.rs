//! The console's defences, over real TLS against a real exam-hub, on SQLite
//! and PostgreSQL: no client certificate needed for the console while the
//! kiosk API keeps requiring one; cookie attributes; CSRF token and
//! same-origin checks; sign-in delays (no lock-out) and per-address rate limit; rooms
//! an invigilator does not run; hostile and stale input.
#![allow(missing_docs)]

use exam_console_tests::*;
use serde_json::{json, Value};

struct Signed {
    client: reqwest::Client,
    csrf: String,
    /// The session cookie's value (for requests on a connection of their own).
    token: String,
}

async fn sign_in(hub: &ConsoleHub, username: &str) -> Signed {
    let client = hub.web_client();
    let resp = client.post(hub.url("/console/api/login")).json(&json!({"username": username, "password": PASSWORD})).send().await.expect("login");
    assert_eq!(resp.status(), 200, "login {username}");
    let cookie = resp.headers()["set-cookie"].to_str().expect("cookie").to_string();
    let token = cookie.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_string()).expect("token");
    let me: Value = resp.json().await.expect("json");
    Signed { client, csrf: me["csrf_token"].as_str().expect("csrf").to_string(), token }
}

async fn act(hub: &ConsoleHub, s: &Signed, room: &str, body: Value) -> (u16, Value) {
    let resp = s
        .client
        .post(hub.url(&format!("/console/api/rooms/{room}/actions")))
        .header("X-CSRF-Token", &s.csrf)
        .json(&body)
        .send()
        .await
        .expect("action");
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn login_status(hub: &ConsoleHub, username: &str, password: &str) -> (u16, Value) {
    let resp = hub.web_client().post(hub.url("/console/api/login")).json(&json!({"username": username, "password": password})).send().await.expect("login");
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut body: Value = resp.json().await.unwrap_or(Value::Null);
    if let Some(r) = retry {
        body["retry_after"] = json!(r);
    }
    (status, body)
}

async fn defences(hub: ConsoleHub) {
    let anonymous = hub.web_client();
    // The console needs no client certificate; its pages carry a strict CSP.
    let page = anonymous.get(hub.url("/console/")).send().await.expect("console page");
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().expect("csp").to_string();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(page.text().await.expect("html").contains("<html lang=\"nl\">"));
    // The kiosk API still requires the device's certificate.
    let kiosk_api = anonymous.get(hub.url("/api/v1/assignment")).send().await.expect("kiosk api");
    assert_eq!(kiosk_api.status(), 401);
    assert_eq!(kiosk_api.json::<Value>().await.expect("json")["error"], "client_certificate_required");
    // Without a session nothing is shown.
    let me = anonymous.get(hub.url("/console/api/me")).send().await.expect("me");
    assert_eq!(me.status(), 401);

    // The session cookie: host-only, Secure, HttpOnly, SameSite=Strict; no token in the body.
    let resp = hub.web_client().post(hub.url("/console/api/login")).json(&json!({"username": "j.jansen", "password": PASSWORD})).send().await.expect("login");
    let cookie = resp.headers()["set-cookie"].to_str().expect("cookie").to_string();
    for part in ["__Host-exam-console=", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    let token = cookie.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_string()).expect("token");
    assert!(!resp.text().await.expect("body").contains(&token));

    let jan = sign_in(&hub, "j.jansen").await;
    let view: Value = jan.client.get(hub.url(&format!("/console/api/rooms/{ROOM}"))).send().await.expect("view").json().await.expect("json");
    let version = |student: &str| view["seats"].as_array().and_then(|s| s.iter().find(|s| s["student_number"] == student)).map(|s| s["version"].clone()).expect("seat");
    let s1 = hub.students[0].clone();
    let lock = json!({"action": "reset_lockout", "sitting_id": SITTING, "student_number": s1, "version": version(&s1), "reason": "test"});

    // CSRF: no token, a wrong token, a cross-site request — all refused before anything happens.
    let url = hub.url(&format!("/console/api/rooms/{ROOM}/actions"));
    let no_token = jan.client.post(&url).json(&lock).send().await.expect("post");
    assert_eq!(no_token.status(), 403);
    assert_eq!(no_token.json::<Value>().await.expect("json")["error"], "csrf");
    let wrong = jan.client.post(&url).header("X-CSRF-Token", "0".repeat(32)).json(&lock).send().await.expect("post");
    assert_eq!(wrong.status(), 403);
    let foreign = jan.client.post(&url).header("X-CSRF-Token", &jan.csrf).header("Origin", "https://evil.example").json(&lock).send().await.expect("post");
    assert_eq!(foreign.status(), 403);
    let cross_site = jan.client.post(&url).header("X-CSRF-Token", &jan.csrf).header("Sec-Fetch-Site", "cross-site").json(&lock).send().await.expect("post");
    assert_eq!(cross_site.status(), 403);
    let (status, body) = act(&hub, &jan, ROOM, lock.clone()).await;
    assert_eq!(status, 200, "{body}");
    // The same version again: someone (here: the same page) already acted.
    let (status, body) = act(&hub, &jan, ROOM, lock.clone()).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{body}");
    assert!(body["message"].as_str().unwrap_or("").contains("Jan Jansen deed intussen 'reset_lockout'"), "{body}");
    assert_eq!(body["version"], json!(version(&s1).as_i64().unwrap_or(0) + 1));

    // Another room: neither its view nor its sittings.
    let other = jan.client.get(hub.url(&format!("/console/api/rooms/{OTHER_ROOM}"))).send().await.expect("other room");
    assert_eq!(other.status(), 403);
    let (status, body) = act(&hub, &jan, OTHER_ROOM, json!({"action": "end_all", "sitting_id": OTHER_SITTING, "version": 0, "reason": "x"})).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("wrong_room")));
    // ... not even through the own room's path.
    let (status, body) = act(&hub, &jan, ROOM, json!({"action": "end_all", "sitting_id": OTHER_SITTING, "version": 0, "reason": "x"})).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("wrong_room")));
    let pv = jan.client.get(hub.url(&format!("/console/api/sittings/{OTHER_SITTING}/proces-verbaal.html"))).send().await.expect("pv");
    assert_eq!(pv.status(), 403);

    // Hostile input: precise refusals, nothing changed.
    let s2 = hub.students[1].clone();
    for (body, code) in [
        (json!({"action": "add_time", "sitting_id": SITTING, "student_number": s2, "version": 0, "reason": "x", "minutes": 0}), 400),
        (json!({"action": "add_time", "sitting_id": SITTING, "student_number": s2, "version": 0, "reason": "x", "minutes": 100000}), 400),
        (json!({"action": "unlock", "sitting_id": SITTING, "student_number": s2, "version": 0, "reason": ""}), 400),
        (json!({"action": "unlock", "sitting_id": SITTING, "student_number": s2, "version": 0, "reason": "a\u{0007}b"}), 400),
        (json!({"action": "unlock", "sitting_id": SITTING, "student_number": s2, "version": 0, "reason": "x".repeat(501)}), 400),
        (json!({"action": "format_disk", "sitting_id": SITTING, "version": 0}), 400),
        (json!({"action": "unlock", "sitting_id": SITTING, "student_number": s2, "version": 0, "reason": "x", "extra": 1}), 400),
        (json!({"action": "unlock", "sitting_id": SITTING, "student_number": "9999' OR 1=1 --", "version": 0, "reason": "x"}), 404),
        (json!({"action": "unlock", "sitting_id": "nope", "student_number": s2, "version": 0, "reason": "x"}), 404),
        (json!({"action": "unlock", "sitting_id": SITTING, "student_number": s2, "version": 0, "reason": "nog niet ingelogd"}), 409),
        (json!({"action": "start", "sitting_id": SITTING, "version": 0}), 400),
    ] {
        let (status, answer) = act(&hub, &jan, ROOM, body.clone()).await;
        assert_eq!(status, code, "{body} -> {answer}");
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
    }
    // An oversized body, on a connection of its own: the hub may answer and close
    // before the client finished writing, which ends that connection.
    let big = hub
        .web_client()
        .post(&url)
        .header("Cookie", format!("__Host-exam-console={}", jan.token))
        .header("X-CSRF-Token", &jan.csrf)
        .header("Content-Type", "application/json")
        .body(vec![b' '; 64 * 1024])
        .send()
        .await;
    assert!(big.as_ref().map_or(true, |r| r.status() == 400 || r.status() == 413), "{big:?}");

    // A finished sitting: a clear message for whoever comes later.
    let sitting_version = view["sittings"].as_array().and_then(|s| s.iter().find(|s| s["sitting_id"] == SITTING)).map(|s| s["version"].clone()).expect("sitting");
    let (status, body) = act(&hub, &jan, ROOM, json!({"action": "end_all", "sitting_id": SITTING, "version": sitting_version, "reason": "Tijd om"})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = act(&hub, &jan, ROOM, json!({"action": "add_time", "sitting_id": SITTING, "student_number": s2, "version": 5, "reason": "x", "minutes": 5})).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("sitting_finished")));
    assert!(body["message"].as_str().unwrap_or("").contains("al beëindigd door Jan Jansen"), "{body}");

    // Sign-out ends the session for good, also for a copied cookie.
    let out = jan.client.post(hub.url("/console/api/logout")).header("X-CSRF-Token", &jan.csrf).send().await.expect("logout");
    assert_eq!(out.status(), 200);
    assert_eq!(jan.client.get(hub.url("/console/api/me")).send().await.expect("me").status(), 401);
    let replay = hub.web_client().get(hub.url("/console/api/me")).header("Cookie", format!("__Host-exam-console={token}")).send().await.expect("me");
    assert_eq!(replay.status(), 200, "the other session is still valid");

    // Brute force on one account: slowed (not locked) after three wrong passwords from this address.
    for attempt in 1..=4 {
        let (status, body) = login_status(&hub, "p.pietersen", "not the password").await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_credentials")), "attempt {attempt}: {body}");
    }
    let (status, body) = login_status(&hub, "p.pietersen", "not the password").await;
    assert_eq!((status, body["error"].as_str(), body["retry_after"].as_str()), (429, Some("rate_limited"), Some("1")), "{body}");
    // Unknown user names look like wrong passwords (and are slowed alike, see crates/hub/tests/lockout.rs).
    for _ in 0..2 {
        let (status, body) = login_status(&hub, "nobody", PASSWORD).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_credentials")));
    }
    // After the wait the hub named (not polling: every attempt counts against the address), the right password works.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let (status, _) = login_status(&hub, "p.pietersen", PASSWORD).await;
    assert_eq!(status, 200);
    // ... and on the address: at most 10 sign-in attempts a minute (this test made 10 by now).
    let (status, body) = login_status(&hub, "admin", "still not it").await;
    assert_eq!((status, body["error"].as_str()), (429, Some("rate_limited")), "{body}");
    assert!(body["retry_after"].as_str().and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| (1..=60).contains(&s)), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_defences_sqlite() {
    require(&exam_hub_bin());
    defences(ConsoleHub::start(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_defences_postgres() {
    require(&exam_hub_bin());
    let Some(database) = postgres_database().await else {
        eprintln!("{POSTGRES_ENV} is not set: PostgreSQL variant not run here (cargo xtask test runs it)");
        return;
    };
    defences(ConsoleHub::start_on(3, Some(database))).await;
}

/// Issue 14 point 3: a PC that types wrong access codes for several
/// students raises an alarm the invigilator sees on the room page (the
/// students are locked on that PC only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_for_several_students_show_an_alarm_on_the_room_page() {
    require(&exam_hub_bin());
    let hub = ConsoleHub::start(4);
    let mut suspect = exam_console_tests::kiosk::SimKiosk::enrol(&hub, ROOM, "pc-09").await;
    let mut honest = exam_console_tests::kiosk::SimKiosk::enrol(&hub, ROOM, "pc-10").await;
    for student in ["1001", "1002", "1003"] {
        assert!(suspect.login(student, "AAAA-AAAA").await.is_err());
    }
    // The right code still works on another PC.
    honest.login("1001", &hub.code(SITTING, "1001")).await.expect("login on another PC");
    let jan = sign_in(&hub, "j.jansen").await;
    let view: Value = jan.client.get(hub.url(&format!("/console/api/rooms/{ROOM}"))).send().await.expect("view").json().await.expect("json");
    let devices = view["devices"].as_array().expect("devices");
    let alarms_of = |host: &str| -> Vec<String> {
        let d = devices.iter().find(|d| d["hostname"] == host).unwrap_or_else(|| panic!("no {host} in {view}"));
        d["alarms"].as_array().map(|a| a.iter().filter_map(|t| t.as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    let suspect_alarms = alarms_of("pc-09");
    assert_eq!(suspect_alarms.len(), 1, "{suspect_alarms:?}");
    assert!(suspect_alarms[0].contains("onjuiste toegangscodes voor meerdere studenten op deze pc"), "{suspect_alarms:?}");
    assert!(alarms_of("pc-10").is_empty());
    // The room page shows it to the invigilator: seen, and accessible.
    let b = exam_console_tests::browser::Browser::start(&hub).await;
    b.open("/console/").await;
    b.wait("#login-form").await;
    b.sign_in("j.jansen", PASSWORD).await;
    b.wait_until("room page", "location.pathname === '/console/room.html'").await;
    b.wait_until("alarms shown", "!document.getElementById('alarms-panel').hidden").await;
    let shown = b.eval("document.getElementById('alarms').textContent").await;
    let shown = shown.as_str().unwrap_or("");
    assert!(shown.starts_with("pc-09: ") && shown.contains("onjuiste toegangscodes voor meerdere studenten"), "{shown}");
    assert!(shown.contains("(3 studenten binnen 10 minuten)"), "in Dutch, with the count: {shown}");
    b.shoot("room-alarms").await;
    b.assert_accessible("room-alarms").await;
}
