//! The exam-morning rehearsal (issue 17, `cargo xtask rehearsal`): one real
//! exam-hub over TLS, three rooms, 60 students, simulated mutual-TLS kiosks
//! with real signed journals, invigilators acting through the console (the
//! real browser for the unlock and the extra time, the console API for the
//! rest), and then a check of what the exam office gets: the proces-verbaal
//! of every sitting (PDF, read back with `pdftotext`, rendered with
//! `pdftoppm`), the results CSV, and a screenshot of each room's console at
//! its busiest. Everything lands in [`output_dir`] (`target/rehearsal/`).
//!
//! What is played (times relative to the start, ten minutes ago):
//!
//! * B1.12, *Verkoop niveau 2* (VK2), 24 students + a spare PC: Ömer
//!   Yılmaz's PC locks itself (the guard ended Discord) and Marieke de Wit
//!   unlocks it in the browser; Eline van der Berg-de Vries (15 min extra
//!   time and read-aloud from the planning) gets 10 minutes more after her
//!   PC froze (browser); a student moves from b112-pc-03 to the spare
//!   b112-pc-25; a remark.
//! * B1.14, *Nederlands 3F* (NL3), 20 students: one absent; the room is
//!   paused for a power failure and resumed; one exam is ended for suspected
//!   fraud, with the reason.
//! * B2.01, *Engels A2* (EN2), 16 students: one absent; b201-pc-01 loses
//!   the network, the room is ended without it, and its hand-in arrives
//!   late.
//!
//! Everyone else saves and hands in; the three sittings are ended for
//! everyone.

use crate::browser::Browser;
use crate::kiosk::SimKiosk;
use crate::{eventually, ConsoleHub, PASSWORD};
use exam_protocol::InstructionKind;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// A room of the morning: (room, sitting, exam, exam code, students, hostname prefix).
struct Room {
    room: &'static str,
    sitting: &'static str,
    exam: &'static str,
    code: &'static str,
    students: usize,
    prefix: &'static str,
}

const ROOMS: [Room; 3] = [
    Room { room: "B1.12", sitting: "VK2", exam: "Verkoop niveau 2", code: "25190-VK2", students: 24, prefix: "b112-pc" },
    Room { room: "B1.14", sitting: "NL3", exam: "Nederlands 3F", code: "NL-3F-2027", students: 20, prefix: "b114-pc" },
    Room { room: "B2.01", sitting: "EN2", exam: "Engels A2", code: "EN-A2-2027", students: 16, prefix: "b201-pc" },
];

/// Console accounts: one invigilator per room and the exam office.
const ACCOUNTS: &[(&str, &str, &str, &[&str])] = &[
    ("m.dewit", "Marieke de Wit", "invigilator", &["B1.12"]),
    ("r.bakker", "Rachid Bakker", "invigilator", &["B1.14"]),
    ("s.visser", "Sanne Visser", "invigilator", &["B2.01"]),
    ("examenbureau", "Examenbureau", "admin", &[]),
];

const FIRST: &[&str] = &[
    "Ömer", "Eline", "Daan", "Sanne", "Mohamed", "Lotte", "Sem", "Fleur", "Noah", "Yasmina", "Luuk", "Iris", "Thijs", "Noor", "Bram", "Zeynep",
    "Jesse", "Femke", "Ruben", "Amira", "Milan", "Sophie", "Kevin", "Lieke", "Stijn", "Anouk", "Mees", "Priya", "Julian", "Demi",
];
const LAST: &[&str] = &[
    "Yılmaz", "van der Berg-de Vries", "de Jong", "Jansen", "El Amrani", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot",
    "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit", "Dijkstra", "Kaya", "Verhoeven", "Postma", "Kuipers",
    "Öztürk", "van Dijk", "Hoekstra", "Koster", "Prins",
];

/// Student numbers of the special parts.
const LOCKED: &str = "1001"; // Ömer Yılmaz, VK2
const EXTRA_TIME: &str = "1002"; // Eline van der Berg-de Vries, VK2
const MOVED: &str = "1003"; // VK2, b112-pc-03 → b112-pc-25
const FRAUD: &str = "1026"; // NL3
const ABSENT: [&str; 2] = ["1031", "1052"]; // NL3, EN2
const OFFLINE: &str = "1045"; // EN2, b201-pc-01

const GUARD_REASON: &str = "Proces beëindigd: discord";
const UNLOCK_REASON: &str = "Discord stond nog open van thuis, geen contact gehad";
const EXTRA_REASON: &str = "Pc liep vast";
const MOVE_REASON: &str = "Toetsenbord van b112-pc-03 defect";
const PAUSE_REASON: &str = "Stroomstoring in de vleugel, pc's vielen uit";
const FRAUD_REASON: &str = "Vermoeden van fraude: telefoon onder de tafel";
const END_REASON: &str = "Einde van de afname";
const REMARK: &str = "Lokaal B1.12 was om 9:00 nog niet open; iedereen zat om 9:05.";

fn name(i: usize) -> String {
    format!("{} {}", FIRST[i % FIRST.len()], LAST[(i + i / LAST.len()) % LAST.len()])
}

/// The name of a student number.
fn name_of(student: &str) -> String {
    name(student.parse::<usize>().expect("a student number") - 1001)
}

fn number(i: usize) -> String {
    (1001 + i).to_string()
}

/// The planning as the exam office exports it, with accommodations.
fn planning(start: &str) -> String {
    let mut csv = String::from("student_number,student_name,sitting,exam,exam_code,instrument,room,start,duration_minutes,extra_minutes,tools,text_size,contrast\n");
    let mut i = 0;
    for room in &ROOMS {
        for _ in 0..room.students {
            let (extra, tools, size, contrast) = match number(i).as_str() {
                EXTRA_TIME => ("15", "read-aloud", "", ""),
                "1004" => ("", "", "large", "high"),
                "1027" => ("30", "spell-check", "", ""),
                "1047" => ("15", "", "large", ""),
                _ => ("", "", "", ""),
            };
            let _ = writeln!(
                csv,
                "{},{},{},{},{},rekenen-2f,{},{start},90,{extra},{tools},{size},{contrast}",
                number(i),
                name(i),
                room.sitting,
                room.exam,
                room.code,
                room.room
            );
            i += 1;
        }
    }
    csv
}

/// Where the outputs go: `$CARGO_TARGET_DIR/rehearsal`, or `target/rehearsal` in the workspace.
pub fn output_dir() -> PathBuf {
    let root = exam_e2e::workspace();
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).map_or_else(|| root.join("target"), |t| root.join(t));
    target.join("rehearsal")
}

/// A console account signed in over the console API (its own cookie jar).
struct Console {
    client: reqwest::Client,
    csrf: String,
    base: String,
}

impl Console {
    async fn sign_in(hub: &ConsoleHub, username: &str) -> Self {
        let client = hub.web_client();
        let me: Value = client
            .post(hub.url("/console/api/login"))
            .json(&json!({"username": username, "password": PASSWORD}))
            .send()
            .await
            .expect("sign in")
            .json()
            .await
            .expect("signed-in account");
        let csrf = me["csrf_token"].as_str().unwrap_or_else(|| panic!("sign-in of {username}: {me}")).to_string();
        Self { client, csrf, base: hub.base.clone() }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let response = self.client.get(format!("{}{path}", self.base)).send().await.expect("GET");
        assert!(response.status().is_success(), "GET {path}: {}", response.status());
        response
    }

    async fn view(&self, room: &str) -> Value {
        self.get(&format!("/console/api/rooms/{room}")).await.json().await.expect("room view")
    }

    /// An action as the console page sends it, with the version the room view shows now.
    async fn act(&self, room: &str, sitting: &str, student: Option<&str>, action: &str, reason: &str, extra: Value) -> Value {
        let view = self.view(room).await;
        let version = match student {
            Some(s) => view["seats"].as_array().and_then(|seats| seats.iter().find(|x| x["key"] == format!("{sitting}/{s}"))).map(|x| x["version"].clone()),
            None => view["sittings"].as_array().and_then(|all| all.iter().find(|x| x["sitting_id"] == sitting)).map(|x| x["version"].clone()),
        }
        .unwrap_or_else(|| panic!("{sitting}/{student:?} not in the view of {room}"));
        let mut body = json!({"action": action, "sitting_id": sitting, "version": version, "reason": reason});
        if let Some(s) = student {
            body["student_number"] = json!(s);
        }
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let response = self
            .client
            .post(format!("{}/console/api/rooms/{room}/actions", self.base))
            .header("X-CSRF-Token", &self.csrf)
            .json(&body)
            .send()
            .await
            .expect("action");
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "{action} in {room} ({sitting}/{student:?}): {status} {answer}");
        answer
    }
}

/// A PC of the morning and who sits at it.
struct Seat {
    kiosk: SimKiosk,
    student: String,
    sitting: &'static str,
}

async fn received(kiosk: &SimKiosk, what: &str, matches: impl Fn(&exam_protocol::Instruction) -> bool) {
    eventually(what, WAIT, || {
        let found = kiosk.received().iter().any(&matches).then_some(());
        async move { found }
    })
    .await;
}

fn answers(student: &str) -> Value {
    // Different answers per student (the instrument's items v01..v10).
    let pick = |n: usize| ["A", "B", "C", "D"][(student.bytes().map(usize::from).sum::<usize>() + n) % 4];
    json!({"v01": {"RESPONSE": pick(1)}, "v02": {"RESPONSE": pick(2)}, "v03": {"RESPONSE": pick(3)}})
}

/// What the rehearsal left and what it played.
pub struct Outcome {
    /// The output directory.
    pub dir: PathBuf,
    /// The files written there.
    pub files: Vec<PathBuf>,
    /// How long it took.
    pub took: Duration,
}

/// Plays the morning and checks what it left; panics with what differs.
pub async fn run() -> Outcome {
    let began = Instant::now();
    let out = output_dir();
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("create the output directory");
    let mut log = Vec::<String>::new();
    let mut note = |line: String| {
        eprintln!("rehearsal: {line}");
        log.push(line);
    };

    let start = time::OffsetDateTime::now_utc() - time::Duration::minutes(10);
    let start_text = start.format(&time::format_description::well_known::Rfc3339).expect("formattable");
    let hub = ConsoleHub::with_planning(&planning(&start_text), ACCOUNTS, ROOMS[0].room, None);
    school_and_policy(&hub);
    note(format!("hub {} with 3 rooms, 60 students; sittings started at {start_text} (90 min)", hub.base));

    // Every PC enrols in its room; every present student logs in and saves.
    let mut seats: Vec<Seat> = Vec::new();
    let mut i = 0;
    for room in &ROOMS {
        for pc in 1..=room.students {
            let student = number(i);
            i += 1;
            if ABSENT.contains(&student.as_str()) {
                continue;
            }
            let mut kiosk = SimKiosk::enrol(&hub, room.room, &format!("{}-{pc:02}", room.prefix)).await;
            kiosk.login(&student, &hub.code(room.sitting, &student)).await.unwrap_or_else(|e| panic!("login {student}: {e}"));
            if student != FRAUD {
                kiosk.save(1, answers(&student), false).await.unwrap_or_else(|e| panic!("save of {student}: {e}"));
            }
            kiosk.sync_journal().await;
            kiosk.heartbeat().await;
            if student == OFFLINE {
                // The network goes: the kiosk journals it and sends nothing until it is back.
                kiosk.record("sync.offline", json!({}));
            } else {
                kiosk.run(Duration::from_secs(5));
            }
            seats.push(Seat { kiosk, student, sitting: room.sitting });
        }
    }
    let spare = SimKiosk::enrol(&hub, ROOMS[0].room, "b112-pc-25").await;
    spare.run(Duration::from_secs(5));
    note(format!("58 students logged in on their PCs and saved answers; absent: {} and {}; b112-pc-25 is a spare PC", ABSENT[0], ABSENT[1]));
    let seat = |student: &str| seats.iter().find(|s| s.student == student).unwrap_or_else(|| panic!("no seat for {student}"));
    let dewit = Console::sign_in(&hub, "m.dewit").await;
    let bakker = Console::sign_in(&hub, "r.bakker").await;
    let visser = Console::sign_in(&hub, "s.visser").await;
    let office = Console::sign_in(&hub, "examenbureau").await;

    // B1.12 in the browser: a guard lock, the unlock, extra time.
    let b = Browser::start(&hub).await;
    // A laptop screen: the page gets 1366 × 768 (the window is that plus the browser's own bars).
    b.session.set_window_size(1366, 768).await.expect("laptop size");
    let bars = b.eval("window.outerHeight - window.innerHeight").await.as_u64().unwrap_or(0);
    b.session.set_window_size(1366, 768 + u32::try_from(bars).unwrap_or(0)).await.expect("laptop size");
    b.sign_in("m.dewit", PASSWORD).await;
    b.wait_until("room page", "location.pathname === '/console/room.html'").await;
    b.wait_until("live", "document.getElementById('connection').dataset.live === 'true'").await;
    let locked = seat(LOCKED);
    locked.kiosk.lock(GUARD_REASON);
    locked.kiosk.sync_journal().await;
    locked.kiosk.heartbeat().await;
    seat_state(&b, "VK2", LOCKED, "locked").await;
    b.wait_until("23 in the exam", "document.querySelectorAll('#seat-rows > li[data-state=in_exam]').length === 23").await;
    shoot(&b, &out.join("console-B1.12.png")).await;
    b.assert_accessible("room B1.12 with a locked seat").await;
    note(format!("B1.12: {LOCKED} ({}) locked by the guard: {GUARD_REASON:?}; screenshot console-B1.12.png", name_of(LOCKED)));
    seat_action(&b, "VK2", LOCKED, "unlock", UNLOCK_REASON).await;
    b.click("#confirm-ok").await;
    status_says(&b, "ontgrendelen verstuurd").await;
    received(&locked.kiosk, "the unlock", |i| i.kind == InstructionKind::Unlock).await;
    seat_state(&b, "VK2", LOCKED, "in_exam").await;
    note(format!("B1.12: Marieke de Wit unlocked {LOCKED} in the browser: {UNLOCK_REASON:?}"));
    seat_action(&b, "VK2", EXTRA_TIME, "add_time", EXTRA_REASON).await;
    b.type_into("#confirm-minutes", "10").await;
    b.click("#confirm-ok").await;
    status_says(&b, "10 minuten extra tijd").await;
    received(&seat(EXTRA_TIME).kiosk, "the extra time", |i| i.kind == InstructionKind::AddTime { minutes: 10 }).await;
    note(format!("B1.12: 10 min extra time for {EXTRA_TIME} ({}) in the browser: {EXTRA_REASON:?}", name_of(EXTRA_TIME)));

    // B1.12 over the API: a move to the spare PC, a remark.
    dewit.act("B1.12", "VK2", Some(MOVED), "move", MOVE_REASON, json!({"to_device": spare.device_id})).await;
    received(&seat(MOVED).kiosk, "the move's lock", |i| i.kind == InstructionKind::Lock).await;
    let mut spare = spare;
    spare.login(MOVED, &hub.code("VK2", MOVED)).await.expect("login on the spare PC");
    spare.save(1, answers(MOVED), false).await.expect("save on the spare PC");
    spare.sync_journal().await;
    spare.heartbeat().await;
    seat_text(&b, "VK2", MOVED, "b112-pc-25").await;
    note(format!("B1.12: {MOVED} moved from b112-pc-03 to b112-pc-25: {MOVE_REASON:?}"));
    let remark = dewit.client.post(format!("{}/console/api/sittings/VK2/remarks", hub.base)).header("X-CSRF-Token", &dewit.csrf).json(&json!({"text": REMARK})).send().await.expect("remark");
    assert!(remark.status().is_success(), "remark: {}", remark.status());
    note(format!("B1.12: remark {REMARK:?}"));

    // B1.14: a power failure pauses the room; then resumed; an end for suspected fraud.
    b.click("#logout").await;
    b.wait("#login-form").await;
    b.sign_in("examenbureau", PASSWORD).await;
    b.wait_until("rooms page", "location.pathname === '/console/rooms.html'").await;
    bakker.act("B1.14", "NL3", None, "pause_all", PAUSE_REASON, json!({})).await;
    let nl3: Vec<&Seat> = seats.iter().filter(|s| s.sitting == "NL3").collect();
    for s in &nl3 {
        received(&s.kiosk, "the pause", |i| i.kind == InstructionKind::Pause).await;
    }
    b.open("/console/room.html?room=B1.14").await;
    b.wait_until("live", "document.getElementById('connection').dataset.live === 'true'").await;
    b.wait_until("19 paused PCs", "document.querySelectorAll('#seat-rows > li[data-state=locked]').length === 19").await;
    seat_state(&b, "NL3", ABSENT[0], "absent").await;
    shoot(&b, &out.join("console-B1.14.png")).await;
    b.assert_accessible("room B1.14 paused").await;
    note(format!("B1.14: Rachid Bakker paused the room: {PAUSE_REASON:?}; screenshot console-B1.14.png"));
    bakker.act("B1.14", "NL3", None, "resume_all", "", json!({})).await;
    for s in &nl3 {
        received(&s.kiosk, "the resume", |i| i.kind == InstructionKind::Resume).await;
    }
    note("B1.14: resumed".into());
    bakker.act("B1.14", "NL3", Some(FRAUD), "end", FRAUD_REASON, json!({})).await;
    received(&seat(FRAUD).kiosk, "the end", |i| i.kind == InstructionKind::End).await;
    seat_state(&b, "NL3", FRAUD, "submitted").await;
    note(format!("B1.14: exam of {FRAUD} ({}) ended: {FRAUD_REASON:?}", name_of(FRAUD)));

    // B2.01: the PC without network shows offline.
    b.open("/console/room.html?room=B2.01").await;
    b.wait_until("live", "document.getElementById('connection').dataset.live === 'true'").await;
    let selector = format!("#seat-rows li[data-seat=\"EN2/{OFFLINE}\"]");
    eventually("b201-pc-01 offline on the console", Duration::from_secs(90), || {
        let b = &b;
        let script = format!("document.querySelector('{selector}')?.dataset.state === 'offline'");
        async move { (b.eval(&script).await == json!(true)).then_some(()) }
    })
    .await;
    seat_state(&b, "EN2", ABSENT[1], "absent").await;
    shoot(&b, &out.join("console-B2.01.png")).await;
    b.assert_accessible("room B2.01 with an offline PC").await;
    note(format!("B2.01: {OFFLINE} on b201-pc-01 offline (no signal for 30 s); screenshot console-B2.01.png"));

    // Everyone else hands in; each sitting is ended for everyone.
    for s in seats.iter().filter(|s| ![FRAUD, OFFLINE, MOVED].contains(&s.student.as_str())) {
        s.kiosk.save(2, answers(&s.student), true).await.unwrap_or_else(|e| panic!("hand-in of {}: {e}", s.student));
    }
    spare.save(2, answers(MOVED), true).await.expect("hand-in on the spare PC");
    note("the other 56 students handed in (one of them on b112-pc-25)".into());
    for (console, room) in [(&dewit, &ROOMS[0]), (&bakker, &ROOMS[1]), (&visser, &ROOMS[2])] {
        console.act(room.room, room.sitting, None, "end_all", END_REASON, json!({})).await;
    }
    note(format!("every sitting ended for everyone: {END_REASON:?}"));

    // b201-pc-01 has the network back: its hand-in arrives after the end.
    let offline = &seat(OFFLINE).kiosk;
    offline.record("sync.online", json!({}));
    // The student did not see the end and kept working: one more answer, then the hand-in.
    let mut late = answers(OFFLINE);
    late["v04"] = json!({"RESPONSE": "A"});
    offline.save(2, late.clone(), false).await.expect("the late save is stored");
    offline.save(3, late, true).await.expect("the late hand-in is stored");
    offline.sync_journal().await;
    note(format!("B2.01: b201-pc-01 back online; {OFFLINE} kept working after the end (one more answer) and handed in late"));
    drop(b);

    // What the exam office downloads.
    let mut files = Vec::new();
    let mut csv_all = String::new();
    let mut pv_text = std::collections::HashMap::new();
    for room in &ROOMS {
        let response = office.get(&format!("/console/api/sittings/{}/proces-verbaal.pdf", room.sitting)).await;
        let seal = response.headers().get("exam-hub-seal").and_then(|v| v.to_str().ok()).map(|s| s.replace("; ", "\n"));
        let pdf = response.bytes().await.expect("PDF");
        assert!(pdf.starts_with(b"%PDF-"), "the proces-verbaal of {} is not a PDF", room.sitting);
        let pdf_path = out.join(format!("proces-verbaal-{}.pdf", room.sitting));
        std::fs::write(&pdf_path, &pdf).expect("write PDF");
        files.push(pdf_path.clone());
        if let Some(seal) = seal {
            let sig = out.join(format!("proces-verbaal-{}.pdf.sig", room.sitting));
            std::fs::write(&sig, seal + "\n").expect("write seal");
            files.push(sig);
        }
        let prefix = out.join(format!("proces-verbaal-{}", room.sitting));
        tool(Command::new("pdftoppm").args(["-r", "80", "-png"]).arg(&pdf_path).arg(&prefix));
        // As laid out (for people), and in the order written (cells whole, for the checks).
        let layout = tool(Command::new("pdftotext").args(["-layout"]).arg(&pdf_path).arg("-"));
        std::fs::write(out.join(format!("proces-verbaal-{}.txt", room.sitting)), &layout).expect("write text");
        pv_text.insert(room.sitting, tool(Command::new("pdftotext").args(["-raw"]).arg(&pdf_path).arg("-")));
        let csv = String::from_utf8(office.get(&format!("/console/api/sittings/{}/results.csv", room.sitting)).await.bytes().await.expect("CSV").to_vec()).expect("UTF-8 CSV");
        let mut lines = csv.lines();
        let header = lines.next().unwrap_or_default();
        if csv_all.is_empty() {
            csv_all.push_str(header);
            csv_all.push_str("\r\n");
        }
        for line in lines.filter(|l| !l.is_empty()) {
            csv_all.push_str(line);
            csv_all.push_str("\r\n");
        }
    }
    let results = out.join("resultaten.csv");
    std::fs::write(&results, &csv_all).expect("write results");
    files.push(results);
    for entry in std::fs::read_dir(&out).expect("outputs") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "png") {
            files.push(path);
        }
    }
    files.sort();

    // Checks: the documents say what was played.
    let mut problems = Vec::new();
    check_results(&csv_all, &mut problems);
    check_pv(&pv_text, &mut problems);
    let took = began.elapsed();
    let mut summary = String::from("Generale repetitie van een examenochtend (cargo xtask rehearsal)\n\n");
    for line in &log {
        let _ = writeln!(summary, "- {line}");
    }
    let _ = writeln!(summary, "\nChecked against the proces-verbaal (pdftotext) and the results: {}", if problems.is_empty() { "all as played".to_string() } else { format!("{} problem(s):\n  {}", problems.len(), problems.join("\n  ")) });
    let _ = writeln!(summary, "\nOutputs ({:.0} s):", took.as_secs_f64());
    for f in &files {
        let _ = writeln!(summary, "  {}", f.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    }
    let summary_path = out.join("summary.txt");
    std::fs::write(&summary_path, &summary).expect("write summary");
    files.push(summary_path);
    assert!(problems.is_empty(), "the rehearsal's documents do not say what was played (see {}):\n{}", out.display(), problems.join("\n"));
    Outcome { dir: out, files, took }
}

/// What the exam office sets before the morning and the proces-verbaal
/// reads: the school's name in hub.toml and the hub's policy with the three
/// rooms described (the demo policy with these rooms as its locations).
fn school_and_policy(hub: &ConsoleHub) {
    let config = hub.data().join("hub.toml");
    let text = std::fs::read_to_string(&config).expect("hub.toml");
    std::fs::write(&config, text.replace("school = \"School\"", "school = \"ROC Voorbeeld, vestiging Amersfoort\"")).expect("write hub.toml");
    let demo = std::fs::read_to_string(exam_e2e::workspace().join("policies/demo.toml")).expect("demo policy");
    let (head, rest) = demo.split_once("[[location]]").expect("the demo policy has locations");
    let tail = &rest[rest.find("[processes]").expect("the demo policy has [processes]")..];
    let mut policy = head.replace("name = \"exam-kiosk demo (loopback)\"", "name = \"Generale repetitie (loopback)\"");
    for (room, description) in [("B1.12", "gebouw B, eerste verdieping, lokaal 12"), ("B1.14", "gebouw B, eerste verdieping, lokaal 14"), ("B2.01", "gebouw B, tweede verdieping, lokaal 1")] {
        let _ = writeln!(policy, "[[location]]\nname = \"{room}\"\ndescription = \"{description}\"\nevidence = [ {{ interface = {{ cidrs = [\"127.0.0.0/8\"] }} }} ]\n");
    }
    policy.push_str(tail);
    std::fs::write(hub.data().join("policy.signed"), policy).expect("write the hub's policy");
}

fn tool(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e} (apt install poppler-utils; cargo xtask test installs it)"));
    assert!(output.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The results: one row per planned student, the right status for each.
fn check_results(csv: &str, problems: &mut Vec<String>) {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().trim_start_matches('\u{feff}').split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let (Some(number), Some(status), Some(code)) = (column("studentnummer"), column("status"), column("examencode")) else {
        problems.push(format!("results: columns studentnummer, status, examencode expected, header is {header:?}"));
        return;
    };
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    if rows.len() != 60 {
        problems.push(format!("results: {} rows, 60 students were planned", rows.len()));
    }
    for row in &rows {
        let (Some(n), Some(s)) = (row.get(number), row.get(status)) else {
            problems.push(format!("results: short row {row:?}"));
            continue;
        };
        let expected = if ABSENT.contains(n) {
            "afwezig"
        } else if *n == OFFLINE {
            "ingeleverd na beëindiging (telt niet)"
        } else {
            "ingeleverd"
        };
        if *s != expected {
            problems.push(format!("results: {n} has status {s:?}, expected {expected:?}"));
        }
        let sitting = ROOMS.iter().scan(0, |first, r| {
            let range = *first..*first + r.students;
            *first += r.students;
            Some((range, r.code))
        });
        if let Some((_, exam_code)) = sitting.into_iter().find(|(range, _)| n.parse::<usize>().is_ok_and(|x| range.contains(&(x - 1001)))) {
            if row.get(code) != Some(&exam_code) {
                problems.push(format!("results: {n} has examencode {:?}, expected {exam_code:?}", row.get(code)));
            }
        }
    }
}

/// Text with every run of white space (line and column breaks) made one space.
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The proces-verbaal of each sitting names what happened there.
fn check_pv(text: &std::collections::HashMap<&str, String>, problems: &mut Vec<String>) {
    let expect = |sitting: &str, what: &str, needle: &str, problems: &mut Vec<String>| {
        if !flat(&text[sitting]).contains(&flat(needle)) {
            problems.push(format!("proces-verbaal {sitting}: lacks {what} ({needle:?})"));
        }
    };
    // A student's row in "3. Kandidaten": number, name, status.
    for (sitting, student) in [("NL3", ABSENT[0]), ("EN2", ABSENT[1])] {
        expect(sitting, "an absentee as absent", &format!("{student} {} afwezig", name_of(student)), problems);
    }
    expect("EN2", "the late hand-in as not counting", &format!("{OFFLINE} {} inlevering na beëindiging (telt niet)", name_of(OFFLINE)), problems);
    expect("EN2", "the network outage", "netwerkonderbreking b201-pc-01 geen verbinding met de examenserver", problems);
    expect("VK2", "the guard's lock", GUARD_REASON, problems);
    expect("VK2", "the unlock's reason", UNLOCK_REASON, problems);
    expect("VK2", "who unlocked", "Marieke de Wit", problems);
    expect("VK2", "the extra time's reason", EXTRA_REASON, problems);
    expect("VK2", "the move (old and new PC)", "b112-pc-03 → b112-pc-25", problems);
    expect("VK2", "the move's reason", MOVE_REASON, problems);
    expect("VK2", "the remark", REMARK, problems);
    expect("VK2", "a student's name with diacritics", "Ömer Yılmaz", problems);
    expect("VK2", "the school", "ROC Voorbeeld, vestiging Amersfoort", problems);
    expect("VK2", "the room's description from the policy", "gebouw B, eerste verdieping, lokaal 12", problems);
    expect("VK2", "the console's unlock as one from afar", "ontgrendeld op afstand door Marieke de Wit", problems);
    for sitting in ["VK2", "NL3"] {
        // Every unlock and resume came from the console: no PIN was used at a PC.
        expect(sitting, "no PIN holders", "Met pincode op een pc: niemand", problems);
    }
    expect("VK2", "a double surname", "Eline van der Berg-de Vries", problems);
    expect("VK2", "the planned accommodation", "voorleessoftware", problems);
    expect("NL3", "the pause's reason", PAUSE_REASON, problems);
    expect("NL3", "the end for suspected fraud", FRAUD_REASON, problems);
    expect("NL3", "who acted", "Rachid Bakker", problems);
    expect("EN2", "the late hand-in", "na beëindiging", problems);
    // The one PC that did not acknowledge the end, counted in Dutch.
    expect("EN2", "an unacknowledged end counted in Dutch", "(door 1 pc niet bevestigd)", problems);
    for room in &ROOMS {
        let whole = flat(&text[room.sitting]);
        if whole.contains("pc('s)") || whole.contains("1 pc's") || whole.contains("0 pc's") {
            problems.push(format!("proces-verbaal {}: counts PCs as \"pc('s)\", \"1 pc's\" or \"0 pc's\"", room.sitting));
        }
        // "6. Logboeken van de pc's" lists the PCs by name.
        let journals = whole.split("6. Logboeken van de pc's").nth(1).and_then(|rest| rest.split("7. Opmerkingen").next()).unwrap_or("");
        let mut listed: Vec<&str> = journals.split_whitespace().filter(|w| w.contains("-pc-")).collect();
        listed.dedup();
        let mut sorted = listed.clone();
        sorted.sort();
        if listed.len() < 2 || listed != sorted {
            problems.push(format!("proces-verbaal {}: section 6 does not list its PCs by name: {listed:?}", room.sitting));
        }
    }
    for room in &ROOMS {
        expect(room.sitting, "the exam code", room.code, problems);
        expect(room.sitting, "the reason of the end for everyone", END_REASON, problems);
        // The end for everyone, by whom.
        let by = ACCOUNTS.iter().find(|a| a.3.contains(&room.room)).map_or("", |a| a.1);
        let ended = flat(&text[room.sitting]);
        if !ended.split("Beëindigd:").nth(1).is_some_and(|rest| rest.split(" door ").nth(1).is_some_and(|who| who.starts_with(by))) {
            problems.push(format!("proces-verbaal {}: lacks the end for everyone by {by}", room.sitting));
        }
    }
}

/// A screenshot of the room page from its sittings down (the seats and their counts).
async fn shoot(b: &Browser, path: &Path) {
    b.eval("document.getElementById('sittings-heading').scrollIntoView(), true").await;
    let png = b.session.screenshot().await.expect("screenshot");
    std::fs::write(path, png).expect("write screenshot");
}

fn seat_css(sitting: &str, student: &str) -> String {
    format!("#seat-rows li[data-seat=\"{sitting}/{student}\"]")
}

async fn seat_state(b: &Browser, sitting: &str, student: &str, state: &str) {
    b.wait_until(&format!("{student} shows {state}"), &format!("document.querySelector('{}')?.dataset.state === '{state}'", seat_css(sitting, student))).await;
}

async fn seat_text(b: &Browser, sitting: &str, student: &str, text: &str) {
    b.wait_until(&format!("{student} shows {text:?}"), &format!("document.querySelector('{}')?.textContent.includes('{text}')", seat_css(sitting, student))).await;
}

async fn status_says(b: &Browser, text: &str) {
    b.wait_until(&format!("status {text:?}"), &format!("document.getElementById('status').textContent.includes('{text}')")).await;
}

/// Opens a seat's actions in the browser, picks `action` and types the reason.
async fn seat_action(b: &Browser, sitting: &str, student: &str, action: &str, reason: &str) {
    b.click(&format!("{} button.seat-actions", seat_css(sitting, student))).await;
    b.click(&format!("#seat-actions button[data-action=\"{action}\"]")).await;
    b.type_into("#confirm-reason", reason).await;
}
