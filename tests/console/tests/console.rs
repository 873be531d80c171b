//! An invigilator runs a whole sitting from the console in real headless
//! Chromium: sign in, watch simulated kiosks (real mutual-TLS clients)
//! change state live, unlock, add time, lose a race to a colleague, move a
//! student, reset a lock-out and reprint a code, start a room together,
//! pause and resume, end for all, and download the proces-verbaal and the
//! results — with an axe-core check of every page.
#![allow(missing_docs)]

use exam_console_tests::browser::{self, Browser};
use exam_console_tests::kiosk::SimKiosk;
use exam_console_tests::*;
use exam_protocol::InstructionKind;
use kiosk_core::location::{RoomCodeVerifier, RoomSecret};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn seat(student: &str) -> String {
    format!("#seat-rows li[data-seat=\"{SITTING}/{student}\"]")
}

async fn seat_state(b: &Browser, student: &str, state: &str) {
    b.wait_until(&format!("{student} shows {state}"), &format!("document.querySelector('{}')?.dataset.state === '{state}'", seat(student))).await;
}

async fn seat_text(b: &Browser, student: &str, text: &str) {
    let text = text.replace('\'', "\\'");
    b.wait_until(&format!("{student} shows {text:?}"), &format!("document.querySelector('{}')?.textContent.includes('{text}')", seat(student))).await;
}

/// Opens the seat's action dialog, picks `action`, fills the reason and confirms.
async fn seat_action(b: &Browser, student: &str, action: &str, reason: &str) {
    b.click(&format!("{} button.seat-actions", seat(student))).await;
    b.click(&format!("#seat-actions button[data-action=\"{action}\"]")).await;
    // The dialog shows only its own fields (issue 17: every confirmation
    // showed the fields of extra time and move to PC — a class's display
    // rule overrode `hidden`).
    let shown = b
        .eval(
            "['confirm-minutes-field', 'confirm-kind-field', 'confirm-device-field']\
             .filter(id => getComputedStyle(document.getElementById(id)).display !== 'none')",
        )
        .await;
    let own: &[&str] = match action {
        "add_time" => &["confirm-minutes-field", "confirm-kind-field"],
        "move" => &["confirm-device-field"],
        _ => &[],
    };
    assert_eq!(shown, serde_json::json!(own), "fields shown in the {action} dialog");
    b.type_into("#confirm-reason", reason).await;
    b.shoot(&format!("dialog-{action}")).await;
}

async fn confirm(b: &Browser) {
    b.click("#confirm-ok").await;
}

async fn status_says(b: &Browser, text: &str) {
    let text = text.replace('\'', "\\'");
    b.wait_until(&format!("status {text:?}"), &format!("document.getElementById('status').textContent.includes('{text}')")).await;
}

async fn notice_says(b: &Browser, text: &str) {
    let text = text.replace('\'', "\\'");
    b.wait_until(
        &format!("notice {text:?}"),
        &format!("!document.getElementById('notice').hidden && document.getElementById('notice').textContent.includes('{text}')"),
    )
    .await;
}

async fn received<F: Fn(&exam_protocol::Instruction) -> bool>(kiosk: &SimKiosk, what: &str, matches: F) -> exam_protocol::Instruction {
    eventually(what, WAIT, || {
        let found = kiosk.received().into_iter().find(|i| matches(i));
        async move { found }
    })
    .await
}

async fn run_sitting(hub: ConsoleHub) {
    let [s1, s2, s3, s4]: [String; 4] = hub.students.clone().try_into().expect("four students");
    let mut kiosks = Vec::new();
    for i in 1..=5 {
        kiosks.push(SimKiosk::enrol(&hub, ROOM, &format!("pc-0{i}")).await);
    }
    for (kiosk, student) in kiosks.iter_mut().zip([&s1, &s2, &s3]) {
        kiosk.login(student, &hub.code(SITTING, student)).await.expect("login");
        kiosk.sync_journal().await;
        kiosk.run(Duration::from_secs(2));
    }
    kiosks[3].run(Duration::from_secs(2));
    kiosks[4].run(Duration::from_secs(2));

    let b = Browser::start(&hub).await;
    // Sign-in page: accessible; a wrong password says so and signs nobody in.
    b.open("/console/").await;
    b.wait("#login-form").await;
    b.assert_accessible("login").await;
    b.sign_in("j.jansen", "wrong password!!").await;
    b.wait_until("login error", "!document.getElementById('login-error').hidden").await;
    assert!(b.eval("document.getElementById('login-error').textContent").await.as_str().unwrap_or("").contains("onjuiste"));
    // An invigilator with one room lands in it.
    b.sign_in("j.jansen", PASSWORD).await;
    b.wait_until("room page", "location.pathname === '/console/room.html'").await;
    b.wait_until("live", "document.getElementById('connection').dataset.live === 'true'").await;
    seat_state(&b, &s1, "in_exam").await;
    // Issue 17: a student not logged in after the start is absent (was
    // "not_started", like one logged in and waiting); the room's counts and
    // each seat's accommodations are shown; a seat that needs the
    // invigilator comes first.
    seat_state(&b, &s4, "absent").await;
    seat_text(&b, &s4, "Afwezig").await;
    seat_text(&b, &s4, "Voorzieningen: voorleessoftware, grote letters").await;
    seat_text(&b, &s1, "Voorzieningen: 15 min extra tijd").await;
    b.wait_until(
        "the room's counts",
        &format!(
            "document.querySelector('#seat-summary [data-sitting={SITTING}] [data-count=verwacht]')?.textContent === '4' \
             && document.querySelector('#seat-summary [data-sitting={SITTING}] [data-count=afwezig]')?.textContent === '1' \
             && document.querySelector('#seat-summary [data-sitting={SITTING}] [data-count=ingelogd]')?.textContent === '3'"
        ),
    )
    .await;
    // Names are text, never markup.
    seat_text(&b, &s2, "Bram <b>Jansen</b>").await;
    assert_eq!(b.eval("document.querySelectorAll('#seat-rows b').length").await, json!(0));
    // The room code is large and is the code of now.
    // The room code on screen is one the kiosk's own verifier accepts for this room.
    let code = b.eval("document.getElementById('room-code').textContent").await.as_str().expect("room code").to_string();
    let secret = RoomSecret {
        room: ROOM.into(),
        secret: kiosk_core::location::totp::base32_decode(&hub.room_secret).expect("base32 secret"),
        step_secs: 30,
        digits: 6,
        algorithm: exam_policy::TotpAlgorithm::Sha1,
    };
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as u64;
    assert_eq!(RoomCodeVerifier::new().verify(&code, &[secret], now_ms), Ok(ROOM.to_string()), "room code {code}");
    b.assert_accessible("room").await;
    // On a tablet (820 × 1180): nothing wider than the screen, still accessible.
    b.session.set_window_size(820, 1180).await.expect("tablet size");
    b.wait_until("no horizontal scrolling", "document.documentElement.scrollWidth <= window.innerWidth").await;
    b.assert_accessible("room on a tablet").await;
    b.shoot("room-tablet").await;
    b.session.set_window_size(1280, 1000).await.expect("desktop size");
    // Keyboard only: Enter on a seat's button opens its actions with the focus inside;
    // Escape closes them and the focus returns to the button.
    let button = b.wait(&format!("{} button.seat-actions", seat(&s1))).await;
    b.session.keys(&button, "\u{E007}").await.expect("enter");
    b.wait_until("dialog open, focus inside", "document.getElementById('seat-dialog').open && document.getElementById('seat-dialog').contains(document.activeElement)").await;
    let first = b.wait("#seat-actions button").await;
    b.session.keys(&first, "\u{E00C}").await.expect("escape");
    b.wait_until("dialog closed, focus back", "!document.getElementById('seat-dialog').open && document.activeElement.classList.contains('seat-actions')").await;

    // Live: a kiosk locks itself (the guard ended a process); the row follows.
    kiosks[0].lock("Proces beëindigd: chat-app");
    kiosks[0].sync_journal().await;
    kiosks[0].heartbeat().await;
    seat_state(&b, &s1, "locked").await;
    seat_text(&b, &s1, "Vergrendeld: Proces beëindigd: chat-app").await;
    b.wait_until("the locked seat first", &format!("document.querySelector('#seat-rows > li')?.dataset.seat === '{SITTING}/{s1}'")).await;
    // The page's own order rule: a locked or offline seat before one in the exam, whatever its name.
    b.eval(
        "import('/console/view.js').then((m) => { window.seatOrderSeen = m.seatOrder([{ key: 'a', state: 'in_exam' }, \
         { key: 'b', state: 'absent' }, { key: 'c', state: 'offline' }, { key: 'd', state: 'locked' }]).map((s) => s.key).join(','); }); true",
    )
    .await;
    b.wait_until("seats that need attention first", "window.seatOrderSeen === 'c,d,a,b'").await;
    b.shoot("room-locked-seat").await;

    // Remote unlock, confirmed with a reason; the kiosk gets it with who and why.
    seat_action(&b, &s1, "unlock", "Proces was onschuldig").await;
    b.assert_accessible("action dialog").await;
    confirm(&b).await;
    status_says(&b, "ontgrendelen verstuurd").await;
    let unlock = received(&kiosks[0], "unlock at pc-01", |i| i.kind == InstructionKind::Unlock).await;
    assert_eq!((unlock.issued_by.as_str(), unlock.reason.as_str()), ("Jan Jansen", "Proces was onschuldig"));
    seat_state(&b, &s1, "in_exam").await;

    // An unlock with the PIN at the PC shows too.
    kiosks[1].lock("Tweede beeldscherm aangesloten");
    kiosks[1].unlock_with_pin("Pieter Pietersen (pincode)", "Scherm losgekoppeld");
    kiosks[1].sync_journal().await;
    seat_text(&b, &s2, "Ontgrendeld door Pieter Pietersen (pincode): Scherm losgekoppeld").await;

    // Extra time after a failure.
    seat_action(&b, &s2, "add_time", "Pc liep vast").await;
    b.type_into("#confirm-minutes", "10").await;
    confirm(&b).await;
    status_says(&b, "10 minuten extra tijd").await;
    let added = received(&kiosks[1], "add time at pc-02", |i| matches!(i.kind, InstructionKind::AddTime { .. })).await;
    assert_eq!((added.kind, added.reason.as_str()), (InstructionKind::AddTime { minutes: 10 }, "Storing: Pc liep vast"));
    seat_text(&b, &s2, "Extra tijd: 10 min").await;

    // Two invigilators at once: Pieter locks pc-03 while Jan's dialog is open; Jan's lock loses and says why.
    seat_action(&b, &s3, "lock", "Telefoon op tafel").await;
    let version: i64 = b.eval(&format!("Number(document.querySelector('{}').dataset.version)", seat(&s3))).await.as_i64().expect("version");
    let pieter = hub.web_client();
    let me: serde_json::Value = pieter
        .post(hub.url("/console/api/login"))
        .json(&json!({"username": "p.pietersen", "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("me");
    let csrf = me["csrf_token"].as_str().expect("csrf").to_string();
    let response = pieter
        .post(hub.url(&format!("/console/api/rooms/{ROOM}/actions")))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"action": "lock", "sitting_id": SITTING, "student_number": s3, "version": version, "reason": "Telefoon gezien"}))
        .send()
        .await
        .expect("act");
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());
    confirm(&b).await;
    notice_says(&b, "Pieter Pietersen deed intussen 'lock'").await;
    seat_state(&b, &s3, "locked").await;
    assert_eq!(kiosks[2].received().iter().filter(|i| i.kind == InstructionKind::Lock).count(), 1, "only the winner's lock was sent");

    // Move Chris to pc-05: authorised here, the old PC locks, the student logs in there with the same code.
    seat_action(&b, &s3, "move", "Pc-03 defect").await;
    b.wait("#confirm-device").await;
    let target = kiosks[4].device_id.clone();
    b.session.script(&format!("document.getElementById('confirm-device').value = '{target}'; return true;")).await.expect("select");
    confirm(&b).await;
    status_says(&b, "verplaatsing goedgekeurd").await;
    received(&kiosks[2], "move lock at pc-03", |i| i.kind == InstructionKind::Lock && i.reason.starts_with("Verplaatst naar pc-05")).await;
    b.wait_until("moving badge", &format!("document.querySelector('{}').textContent.includes('wordt verplaatst')", seat(&s3))).await;
    {
        let kiosk = &mut kiosks[4];
        kiosk.login(&s3, &hub.code(SITTING, &s3)).await.expect("login on the new PC");
        kiosk.heartbeat().await;
    }
    seat_text(&b, &s3, "pc-05").await;
    seat_state(&b, &s3, "in_exam").await;

    // Dewi typed wrong codes at pc-04 until locked out; the invigilator lifts it and prints a new code.
    for _ in 0..5 {
        let _ = kiosks[3].client.login(&s4, "AAAA-AAAA").await;
    }
    seat_text(&b, &s4, "inlogblokkade").await;
    seat_action(&b, &s4, "reset_lockout", "Typfouten").await;
    confirm(&b).await;
    status_says(&b, "inlogblokkade opgeheven").await;
    seat_action(&b, &s4, "reprint_code", "Briefje kwijt").await;
    confirm(&b).await;
    b.wait("#code-value").await;
    let new_code = b.eval("document.getElementById('code-value').textContent").await.as_str().expect("code").to_string();
    b.assert_accessible("new access code").await;
    b.click("#seat-dialog-close").await;
    assert!(kiosks[3].client.clone().login(&s4, &hub.code(SITTING, &s4)).await.is_err(), "the old code stopped working");
    kiosks[3].login(&s4, &new_code).await.expect("login with the new code");
    kiosks[3].heartbeat().await;
    seat_state(&b, &s4, "in_exam").await;

    // A remark with markup is being typed while the later sitting starts together:
    // the live update keeps the half-written remark; it is stored as text.
    // (Downloads and remarks are folded under the sitting, so the seats stay on the screen.)
    b.click(&format!("section[data-sitting=\"{SITTING}\"] details.more summary")).await;
    b.type_into(&format!("#remark-{SITTING}"), "<script>alert(1)</script> Lokaal was te warm").await;
    b.click(&format!("button[data-action=\"start\"][data-sitting=\"{LATER_SITTING}\"]")).await;
    confirm(&b).await;
    status_says(&b, "is gestart").await;
    b.wait_until("S2 started", &format!("document.querySelector('section[data-sitting=\"{LATER_SITTING}\"] .sitting-state').textContent.startsWith('Gestart')")).await;
    assert_eq!(b.eval(&format!("document.getElementById('remark-{SITTING}').value")).await, json!("<script>alert(1)</script> Lokaal was te warm"));
    b.click(&format!("section[data-sitting=\"{SITTING}\"] form.remark button")).await;
    status_says(&b, "Opmerking opgeslagen").await;

    // Pause and resume the room (a network failure): every PC gets both.
    b.click(&format!("button[data-action=\"pause_all\"][data-sitting=\"{SITTING}\"]")).await;
    b.type_into("#confirm-reason", "Netwerkstoring").await;
    confirm(&b).await;
    status_says(&b, "gepauzeerd").await;
    seat_text(&b, &s1, "(gepauzeerd)").await;
    let before = b.eval(&format!("document.querySelector('{}').dataset.version", seat(&s4))).await;
    b.click(&format!("button[data-action=\"resume_all\"][data-sitting=\"{SITTING}\"]")).await;
    confirm(&b).await;
    status_says(&b, "hervat").await;
    // A room-wide action changes every seat's version; the page has the new ones at once.
    assert_ne!(b.eval(&format!("document.querySelector('{}').dataset.version", seat(&s4))).await, before, "seat version after resume_all");
    for kiosk in [&kiosks[0], &kiosks[1], &kiosks[3], &kiosks[4]] {
        received(kiosk, "pause", |i| i.kind == InstructionKind::Pause).await;
        received(kiosk, "resume", |i| i.kind == InstructionKind::Resume).await;
    }

    // End for one student: Dewi's PC hands in.
    seat_action(&b, &s4, "end", "Klaar, wil inleveren").await;
    confirm(&b).await;
    status_says(&b, "examen beëindigd").await;
    let end = received(&kiosks[3], "end at pc-04", |i| i.kind == InstructionKind::End).await;
    assert_eq!(end.reason, "Klaar, wil inleveren");
    seat_state(&b, &s4, "submitted").await;

    // A stale page (opened before the end) acts after the sitting ended: clear message.
    seat_action(&b, &s1, "lock", "Nog even").await;
    let end = pieter
        .post(hub.url(&format!("/console/api/rooms/{ROOM}/actions")))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"action": "end_all", "sitting_id": SITTING, "version": current_sitting_version(&b).await, "reason": "Tijd om"}))
        .send()
        .await
        .expect("end all");
    assert_eq!(end.status(), 200, "{}", end.text().await.unwrap_or_default());
    confirm(&b).await;
    notice_says(&b, "al beëindigd door Pieter Pietersen").await;
    for (kiosk, student) in [(&kiosks[0], &s1), (&kiosks[1], &s2), (&kiosks[3], &s4), (&kiosks[4], &s3)] {
        received(kiosk, "end", |i| i.kind == InstructionKind::End).await;
        seat_state(&b, student, "submitted").await;
    }

    // The proces-verbaal, downloaded with the browser's session, names what happened and is sealed.
    let (status, headers, html) = b.fetch(&format!("/console/api/sittings/{SITTING}/proces-verbaal.html")).await;
    assert_eq!(status, 200);
    let html = String::from_utf8(html).expect("utf-8");
    for expected in ["Jan Jansen", "Pieter Pietersen", "Proces was onschuldig", "Pc liep vast", "Anna de Vries", "Lokaal was te warm", "&lt;script&gt;"] {
        assert!(html.contains(expected), "proces-verbaal lacks {expected:?}");
    }
    assert!(!html.contains("<script>alert"), "a remark came out as markup");
    assert!(!html.contains("<b>Jansen</b>"), "a name came out as markup");
    let seal_text = headers["exam-hub-seal"].as_str().expect("seal header").replace("; ", "\n");
    let seal = exam_hub::reports::Seal::parse(&seal_text).expect("seal parses");
    exam_hub::reports::verify_seal(&seal.public_key, html.as_bytes(), &seal).expect("the seal covers the downloaded page");
    let (status, _, pdf) = b.fetch(&format!("/console/api/sittings/{SITTING}/proces-verbaal.pdf")).await;
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    let (status, _, csv) = b.fetch(&format!("/console/api/sittings/{SITTING}/results.csv")).await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).expect("utf-8");
    for student in [&s1, &s2, &s3, &s4] {
        assert!(csv.lines().any(|l| l.starts_with(student.as_str())), "results lack {student}: {csv}");
    }

    // The rooms page (administrator) is accessible too.
    b.click("#logout").await;
    b.wait("#login-form").await;
    b.sign_in("admin", PASSWORD).await;
    b.wait_until("rooms page", "location.pathname === '/console/rooms.html' && document.querySelectorAll('#rooms li').length >= 2").await;
    b.assert_accessible("rooms").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invigilator_runs_a_sitting_in_the_browser_sqlite() {
    browser::tools().unwrap_or_else(|why| panic!("{why}"));
    require(&exam_hub_bin());
    run_sitting(ConsoleHub::start(4)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invigilator_runs_a_sitting_in_the_browser_postgres() {
    browser::tools().unwrap_or_else(|why| panic!("{why}"));
    require(&exam_hub_bin());
    let Some(database) = postgres_database().await else {
        eprintln!("{POSTGRES_ENV} is not set: PostgreSQL variant not run here (cargo xtask test runs it)");
        return;
    };
    run_sitting(ConsoleHub::start_on(4, Some(database))).await;
}

/// Issue 17: "about 4 students fit on a 1366×900 screen". A room of 30 (and
/// a later sitting's student), some in the exam, two locked with long
/// reasons: once the invigilator is at the seats (the skip link goes there),
/// every seat is on a 1366×768 laptop screen — measured against the height a
/// browser leaves there (768 minus about 110 for the taskbar, tabs and
/// address bar), without scrolling sideways.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_seats_fit_on_a_laptop_screen() {
    browser::tools().unwrap_or_else(|why| panic!("{why}"));
    require(&exam_hub_bin());
    let hub = ConsoleHub::start(30);
    let mut kiosks = Vec::new();
    for (i, student) in hub.students.iter().take(12).enumerate() {
        let mut kiosk = SimKiosk::enrol(&hub, ROOM, &format!("lokaal-b214-pc-{:02}", i + 1)).await;
        kiosk.login(student, &hub.code(SITTING, student)).await.expect("login");
        kiosk.sync_journal().await;
        kiosk.run(Duration::from_secs(2));
        kiosks.push(kiosk);
    }
    for kiosk in &mut kiosks[4..6] {
        kiosk.lock("Proces beëindigd: een programma voor schermopnames dat niet is toegestaan");
        kiosk.sync_journal().await;
        kiosk.heartbeat().await;
    }
    let b = Browser::start(&hub).await;
    b.session.set_window_size(1366, 768).await.expect("laptop size");
    b.sign_in("j.jansen", PASSWORD).await;
    b.wait_until("room page", "location.pathname === '/console/room.html'").await;
    b.wait_until("31 seats, two locked first", "document.querySelectorAll('#seat-rows > li').length === 31 \
        && document.querySelectorAll('#seat-rows > li[data-state=locked]').length === 2 \
        && document.querySelector('#seat-rows > li').dataset.state === 'locked'").await;
    b.eval("document.getElementById('seats-heading').scrollIntoView(), true").await;
    let fit = b
        .eval(
            "(() => { const top = document.getElementById('seats-heading').getBoundingClientRect().top; \
              const cards = [...document.querySelectorAll('#seat-rows > li')]; \
              return { height: Math.max(...cards.map((c) => c.getBoundingClientRect().bottom)) - top, \
                       columns: new Set(cards.map((c) => Math.round(c.getBoundingClientRect().left))).size, \
                       sideways: document.documentElement.scrollWidth > window.innerWidth }; })()",
        )
        .await;
    b.shoot("room-30-seats-1366x768").await;
    eprintln!("30 seats at 1366×768: {fit}");
    assert_eq!(fit["sideways"], json!(false), "{fit}");
    assert!(fit["height"].as_f64().is_some_and(|h| h <= 658.0), "the seats need more than a laptop screen: {fit}");
    // The card shortens; the seat's dialog says it in full.
    let locked = b.eval("document.querySelector('#seat-rows > li').dataset.seat").await;
    let locked = locked.as_str().expect("seat key").to_string();
    b.click(&format!("#seat-rows li[data-seat=\"{locked}\"] button.seat-actions")).await;
    b.wait_until("the seat in full", "document.getElementById('seat-detail').textContent.includes('een programma voor schermopnames dat niet is toegestaan') \
        && document.getElementById('seat-detail').textContent.includes('Pc: lokaal-b214-pc-0')").await;
    b.assert_accessible("seat dialog with its events").await;
    b.shoot("room-30-seats-dialog").await;
}

/// The version of the sitting as the page shows it (via the API the page uses).
async fn current_sitting_version(b: &Browser) -> i64 {
    let (_, _, body) = b.fetch(&format!("/console/api/rooms/{ROOM}")).await;
    let view: serde_json::Value = serde_json::from_slice(&body).expect("room view");
    view["sittings"].as_array().and_then(|s| s.iter().find(|s| s["sitting_id"] == SITTING)).and_then(|s| s["version"].as_i64()).expect("version")
}
