//! The proces-verbaal, results export and retention against a real
//! `exam-hub` process over real TLS (kiosks enrolled with client
//! certificates, real signed journals), on SQLite and on PostgreSQL.
#![allow(missing_docs)]

mod common;

use common::*;
use exam_hub::db::Db;
use exam_hub::pki::Keys;
use exam_hub::reports;
use exam_protocol::*;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A sitting with hostile names and codes, in the common test room.
const SITTING: &str = "PV1";
/// Script in a name must stay text everywhere.
const SCRIPT_NAME: &str = "<script>alert('pv')</script> de Vries";
const DUTCH_NAME: &str = "Zoë \"O'Brien\" & Bakker";
/// An exam code that a spreadsheet would run as a formula, with a comma and quotes for RFC 4180.
const FORMULA_EXAM: &str = "=cmd|\"/C calc\",A0";
const PROCESS_NAME: &str = "<script>alert(1)</script>.exe";
const REMARK: &str = "<img src=x onerror=alert(1)> Zoë had een storing; één pc vervangen.";

async fn open_db(hub: &TestHub) -> Db {
    let url = hub.database.clone().unwrap_or_else(|| exam_hub::db::sqlite_url(&hub.data()));
    Db::connect(&url).await.unwrap()
}

/// Imports the sitting; returns the access codes by student number.
async fn plan(db: &Db, keys: &Keys) -> HashMap<String, String> {
    plan_with(db, keys, "inst-a").await
}

/// [`plan`] with the sitting on `instrument`.
async fn plan_with(db: &Db, keys: &Keys, instrument: &str) -> HashMap<String, String> {
    let start = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
    let start = start.format(&time::format_description::well_known::Rfc3339).unwrap();
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record([
        "student_number", "student_name", "sitting", "exam", "instrument", "room", "start", "duration_minutes", "extra_minutes", "tools",
        "text_size", "contrast",
    ])
    .unwrap();
    for (number, name) in [("2001", SCRIPT_NAME), ("2002", DUTCH_NAME), ("2003", "Chris Afwezig"), ("=2004", "Formule Student")] {
        // 2001 has accommodations (no extra time: the latest end below is 90 + 10 added).
        let (tools, size) = if number == "2001" { ("read-aloud;spell-check", "large") } else { ("", "") };
        csv.write_record([number, name, SITTING, FORMULA_EXAM, instrument, ROOM, start.as_str(), "90", "", tools, size, ""]).unwrap();
    }
    let text = String::from_utf8(csv.into_inner().unwrap()).unwrap();
    let summary = exam_hub::planning::import_planning(db, keys, &text, "pv.csv", false).await.unwrap();
    summary.codes.into_iter().map(|c| (c.student_number, c.code)).collect()
}

/// Appends events (kind, payload) to a kiosk's journal, sleeping where the
/// kind is "sleep"; returns all frames.
fn journal(dir: &Path, pkcs8: &[u8], events: &[(&str, serde_json::Value)]) -> Vec<Vec<u8>> {
    let key = exam_journal::SigningKey::from_pkcs8(pkcs8).unwrap();
    let config = exam_journal::JournalConfig { checkpoint_every_records: 4, ..Default::default() };
    let mut j = exam_journal::Journal::open(dir, key, config).unwrap();
    for (kind, payload) in events {
        if *kind == "sleep" {
            std::thread::sleep(Duration::from_millis(payload.as_u64().unwrap()));
            continue;
        }
        j.append(&exam_journal::Event::new(kind, payload).unwrap()).unwrap();
    }
    j.close().unwrap();
    exam_journal::read_records(dir).unwrap().into_iter().map(|(_, r)| r.frame).collect()
}

async fn upload(kiosk: &Kiosk, frames: &[Vec<u8>]) {
    let resp = kiosk.post(paths::JOURNAL, &b64(frames)).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}


/// The scoring data as `kioskctl instrument render --scoring` prints it.
fn scoring_json() -> String {
    const MC: &str = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml";
    const MR: &str = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml";
    json!({"items": [
        {"ref_identifier": "ITM-1", "identifier": "q1", "weights": {}, "processing": {"kind": "template", "uri": MC},
         "responses": [{"identifier": "RESPONSE", "cardinality": "single", "base_type": "identifier", "correct": ["B"]}]},
        {"ref_identifier": "ITM-2", "identifier": "q2", "weights": {}, "processing": {"kind": "template", "uri": MR},
         "responses": [{"identifier": "RESPONSE", "cardinality": "multiple", "base_type": "identifier", "correct": ["A", "C"],
           "mapping": {"default_value": 0.0, "upper_bound": 2.0, "entries": [
             {"key": "A", "value": 1.0, "case_sensitive": true}, {"key": "C", "value": 1.5, "case_sensitive": true}]}}]},
        {"ref_identifier": "ITM-3", "identifier": "q3", "weights": {}, "processing": {"kind": "template", "uri": MR},
         "responses": [{"identifier": "RESPONSE", "cardinality": "single", "base_type": "string", "correct": ["Amsterdam"],
           "mapping": {"default_value": 0.0, "entries": [{"key": "Amsterdam", "value": 2.0, "case_sensitive": false}]}}]}
    ]})
    .to_string()
}

/// `exam-hub verify-pv ARGS`, trusting the hub's data directory unless `--key` is given.
fn verify_pv(args: &[&str], hub: &TestHub) -> std::process::Output {
    let mut cmd = Command::new(exe());
    cmd.arg("verify-pv").args(args);
    if !args.contains(&"--key") {
        cmd.arg("--data").arg(hub.data());
    }
    cmd.output().unwrap()
}

fn text_without_whitespace(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The school's name in hub.toml, and a policy with the room and the
/// invigilator roster in the hub's data directory (what a school sets up).
fn school_setup(hub: &TestHub) {
    let config = hub.data().join("hub.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("school = \"School\""), "{text}");
    std::fs::write(&config, text.replace("school = \"School\"", &format!("school = \"{SCHOOL}\""))).unwrap();
    let policy = std::fs::read_to_string(workspace().join("policies/demo.toml"))
        .unwrap()
        .replace("name = \"demo-room\"\ndescription = \"loopback only (no beacon needed)\"", &format!("name = \"{ROOM}\"\ndescription = \"{LOCATION}\""))
        .replace("id = \"demo-surveillant\"\nname = \"Demo Surveillant\"", "id = \"wit\"\nname = \"Mevr. de Wit\"");
    assert!(policy.contains(LOCATION) && policy.contains("id = \"wit\""));
    std::fs::write(hub.data().join("policy.signed"), policy).unwrap();
}

const SCHOOL: &str = "ROC Testland, vestiging Amersfoort";
const LOCATION: &str = "Examenlokaal B2.14, vleugel B";

/// Enrols a kiosk with its own host name.
async fn enrol_named(hub: &TestHub, hostname: &str) -> Kiosk {
    let (device_key, pkcs8) = exam_journal::SigningKey::generate().unwrap();
    hub.enrol_key(ROOM, &device_key, pkcs8, hostname).await
}

/// Text of a PDF page range, as pdftotext gives it (`-raw`: content-stream order).
fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext").args(["-raw", "-enc", "UTF-8"]).arg(pdf).arg("-").output().expect("pdftotext (apt poppler-utils)");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Issue 17: what the exam office found in the PDF of a real morning, read
/// back with pdftotext. `body` is the text before the appendix.
fn assert_signable(pdf: &str, pv: &reports::ProcesVerbaal, device_ids: &[&str], receipt: &str) {
    let (body, appendix) = pdf.split_once("Bijlage A. Technische verantwoording").expect("the evidence is in an appendix at the end");
    assert!(!appendix.contains("Ondertekening") && body.contains("Ondertekening"), "the appendix comes after the signatures");
    // Local time: the planned start as the clock in the room showed it, the date in Dutch; UTC nowhere.
    let start = jiff::Timestamp::from_millisecond(pv.planned_start_ms).unwrap().to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap());
    let hm = format!("{:02}:{:02}", start.hour(), start.minute());
    let months = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"];
    let date = format!("{} {} {}", start.day(), months[(start.month() - 1) as usize], start.year());
    let body_flat = text_without_whitespace(body);
    let has = |needle: &str| body_flat.contains(&text_without_whitespace(needle));
    assert!(has(&format!("Gepland: {hm} tot")), "planned start {hm} local: {body}");
    assert!(has(&date), "the date in Dutch ({date})");
    assert!(!body.contains("UTC"), "no UTC in the document (the appendix gives offsets)");
    // School, location, room, instrument version and package hash.
    for needle in ["Lokaal: B2.14", "versie 1", "Pakket (SHA-256):"] {
        assert!(has(needle), "the body lacks {needle:?}");
    }
    assert!(has(SCHOOL) && has(LOCATION), "school and location (PostgreSQL too: the keys know the data directory): {body}");
    let hash = pv.instrument_sha256.as_deref().unwrap();
    assert!(has(hash), "the package hash");
    // PCs by host name; no device id (nor any 32-hex id) outside the appendix.
    for name in ["lokaal-pc-01", "lokaal-pc-02", "lokaal-pc-03"] {
        assert!(body.contains(name), "PC {name} by name");
    }
    for id in device_ids {
        assert!(!body_flat.contains(id), "device id {id} in the body");
        assert!(text_without_whitespace(appendix).contains(id), "device id {id} in the appendix");
    }
    let hex_run = body.as_bytes().split(|b| !b.is_ascii_hexdigit()).map(<[u8]>::len).max().unwrap_or(0);
    assert!(hex_run < 32, "a hexadecimal id of {hex_run} digits in the body");
    // The CLI is the exam office, not "exam-hub cli".
    assert!(!pdf.contains("exam-hub cli") && body.contains("examenbureau (opdrachtregel"));
    // Accommodations granted, a signature block with names, place, date.
    for needle in ["voorleessoftware", "spellingcontrole", "grote letters", "Handtekening", "Plaats:", "Datum:", "namens de examencommissie", "Mevr. de Wit"] {
        assert!(has(needle), "the body lacks {needle:?}");
    }
    // No word or code broken across lines: the receipt code and long words each on one line.
    for word in [receipt, "netwerkonderbreking", "omgevingsbevinding", "voorleessoftware"] {
        assert!(pdf.lines().any(|l| l.split_whitespace().any(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-') == word)), "{word} is not whole on a line");
    }
    // The signature block is not separated from its heading by a page break.
    let signing_page = pdf.split('\u{c}').find(|page| page.lines().any(|l| l.ends_with(". Ondertekening"))).expect("a signing section");
    assert!(signing_page.contains("Handtekening") && signing_page.contains("Plaats:"), "heading and signature block on one page: {signing_page}");
    // No pointer into a source repository.
    assert!(!pdf.contains("docs/") && !pdf.contains(".md"), "no reference to a repository file");
}

async fn proces_verbaal_and_results(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    let keys = Keys::load(&hub.data()).unwrap();
    let codes = plan(&db, &keys).await;
    school_setup(&hub);
    let mut a = enrol_named(&hub, "lokaal-pc-01").await;
    let mut b = enrol_named(&hub, "lokaal-pc-02").await;
    let mut c = enrol_named(&hub, "lokaal-pc-03").await;
    a.login_ok("2001", &codes["2001"]).await;
    b.login_ok("2002", &codes["2002"]).await;
    hub.cli_ok(&["start", "--sitting", SITTING]);

    // Kiosk A: environment finding, a process ended, lock, unlock by an
    // invigilator, a network outage of at least 2 s, extra time.
    let a_frames = journal(
        &hub.path("journal-a"),
        &a.device_pkcs8,
        &[
            ("environment.checked", json!({"findings": [
                {"check": "virtual_machine", "detected": true, "evidence": ["VirtualBox <b>"], "action": "warn"},
                {"check": "remote_session", "detected": false, "evidence": [], "action": "allow"}], "action": "warn"})),
            ("session.transition", json!({"from": "login", "to": "assignment", "cause": {"trigger": "logged_in", "student": "2001", "sitting": SITTING}})),
            ("guard.process_ended", json!({"pid": 4242, "name": PROCESS_NAME, "exe": null, "rule": "deny:browser", "detected_by": "exec", "outcome": {"ended": {"signal": "SIGKILL"}}, "handling_us": 900})),
            ("session.transition", json!({"from": "in_exam", "to": "locked", "cause": {"trigger": "lock", "reason": "proces beëindigd"}})),
            ("session.unlock_failed", json!({})),
            ("session.transition", json!({"from": "locked", "to": "in_exam", "cause": {"trigger": "unlock", "by": "wit", "reason": "student meldde storing"}})),
            ("sync.offline", json!({})),
            ("sleep", json!(2200)),
            ("sync.online", json!({})),
            ("session.time_added", json!({"seconds": 600, "reason": "storing"})),
        ],
    );
    upload(&a, &a_frames).await;
    // Kiosk B: a clean journal, then a rewritten history (an alarm).
    let b_frames = journal(&hub.path("journal-b"), &b.device_pkcs8, &[("sync.offline", json!({}))]);
    upload(&b, &b_frames).await;
    let rewritten = journal(&hub.path("journal-b2"), &b.device_pkcs8, &[("session.login", json!({}))]);
    assert_eq!(b.post(paths::JOURNAL, &b64(&rewritten)).await.status(), 409);

    // Hub instructions, then 2002 moves to kiosk C (C sends no journal).
    hub.cli_ok(&["instruct", "--action", "add-time", "--minutes", "10", "--sitting", SITTING, "--student", "2002", "--reason", "storing <pc>"]);
    hub.cli_ok(&["instruct", "--action", "lock", "--device", b.id(), "--reason", "verplaatsen"]);
    tokio::time::sleep(Duration::from_millis(20)).await;
    c.login_ok("2002", &codes["2002"]).await;

    // Answers: 2001 hands in, 2002 only saved; 2003 and =2004 are absent.
    let resp = c.post(paths::ANSWERS, &snapshot(SITTING, 1, false, json!({"ITM-1": {"RESPONSE": "A"}}))).await;
    assert_eq!(resp.status(), 200);
    let given = json!({"ITM-1": {"RESPONSE": "B"}, "ITM-2": {"RESPONSE": ["A", "C"]}, "ITM-3": {"RESPONSE": "amsterdam"}});
    let receipt: AnswerReceipt = a.post(paths::ANSWERS, &snapshot(SITTING, 3, true, given)).await.json().await.unwrap();

    reports::add_remark(&db, SITTING, "Mevr. de Wit", REMARK).await.unwrap();
    hub.cli_ok(&["report", "remark", "--sitting", SITTING, "--author", "Dhr. <b>Bos</b>", "--text", "Lokaal om 09:02 open."]);
    assert!(matches!(reports::add_remark(&db, "NOPE", "x", "y").await, Err(reports::ReportError::UnknownSitting(_))));
    assert!(matches!(reports::add_remark(&db, SITTING, "x", "a\u{7}b").await, Err(reports::ReportError::Invalid(_))));

    // Console actions as the console journals them (the console's own tests drive it in a browser).
    for (action, student, reason) in [("start", None, ""), ("reset_lockout", Some("2003"), "typefout <code>")] {
        sqlx::query("INSERT INTO console_actions (action_id, at_ms, username, display_name, room, sitting_id, student_number, action, reason, detail) VALUES ($1, $2, 'wit', 'Mevr. de Wit', $3, $4, $5, $6, $7, '')")
            .bind(exam_hub::random_id())
            .bind(exam_hub::now_ms())
            .bind(ROOM)
            .bind(SITTING)
            .bind(student)
            .bind(action)
            .bind(reason)
            .execute(&db.pool)
            .await
            .unwrap();
    }

    sqlx::query("INSERT INTO console_sittings (sitting_id, version, ended_ms, ended_by) VALUES ($1, 3, $2, 'Mevr. de Wit')")
        .bind(SITTING)
        .bind(exam_hub::now_ms())
        .execute(&db.pool)
        .await
        .unwrap();

    // The proces-verbaal as data.
    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    assert_eq!(pv.ended.as_ref().and_then(|(_, by)| by.as_deref()), Some("Mevr. de Wit"));
    assert_eq!(pv.planned_end_ms - pv.started_ms.unwrap().max(pv.planned_start_ms), 100 * 60_000, "90 minutes and 10 added");
    let status: HashMap<&str, reports::SeatStatus> = pv.seats.iter().map(|s| (s.student_number.as_str(), s.status)).collect();
    assert_eq!(status["2001"], reports::SeatStatus::Submitted);
    assert_eq!(status["2002"], reports::SeatStatus::Present);
    assert_eq!(status["2003"], reports::SeatStatus::Absent);
    let seat = |n: &str| pv.seats.iter().find(|s| s.student_number == n).unwrap();
    assert_eq!(seat("2001").receipt_code.as_deref(), Some(receipt.receipt_code.as_str()));
    assert_eq!(seat("2002").devices, vec![b.id().to_string(), c.id().to_string()], "the move shows");
    assert_eq!(seat("2002").added_minutes, 10);
    let of = |category: &str| pv.irregularities.iter().filter(|i| i.category == category).collect::<Vec<_>>();
    let outage = &of("netwerkonderbreking");
    assert_eq!(outage.len(), 2, "A's outage, and B's that never ended: {outage:?}");
    let a_outage = outage.iter().find(|o| o.device_id.as_deref() == Some(a.id())).unwrap();
    let secs: i64 = a_outage.description.split("duur 0:00:").nth(1).unwrap()[..2].parse().unwrap();
    assert!(secs >= 2, "{}", a_outage.description);
    assert_eq!(a_outage.student.as_deref(), Some("2001"));
    assert!(of("proces beëindigd")[0].description.contains(PROCESS_NAME));
    // The kiosk journals the roster id; the hub's policy gives the name
    // (read from the data directory; on PostgreSQL the running hub's keys
    // give it, ProcesVerbaal::of_hub, see pv_console.rs).
    let pv = if hub.database.is_some() { reports::ProcesVerbaal::of_hub(&db, &Keys::load(&hub.data()).unwrap(), SITTING).await.unwrap() } else { pv };
    let of = |category: &str| pv.irregularities.iter().filter(|i| i.category == category).collect::<Vec<_>>();
    let seat = |n: &str| pv.seats.iter().find(|s| s.student_number == n).unwrap();
    assert!(of("ontgrendeld").iter().any(|u| u.description.contains("ontgrendeld door Mevr. de Wit (wit) met pincode; reden: student meldde storing")));
    assert_eq!(pv.claimed_by_kiosk, vec!["Mevr. de Wit (wit)".to_string()]);
    assert!(of("extra tijd")
        .iter()
        .any(|e| e.description.contains("instructie 10 minuten extra tijd door examenbureau (opdrachtregel op de examenserver); reden: storing <pc>")));
    assert_eq!(of("verplaatst")[0].description, "student verder op pc lokaal-pc-03 (was lokaal-pc-02)", "PCs by host name");
    assert_eq!(seat("2002").pcs, vec!["lokaal-pc-02".to_string(), "lokaal-pc-03".to_string()]);
    // On PostgreSQL too: the hub's keys say where its data directory (hub.toml, the policy) is.
    assert_eq!(pv.school.as_deref(), Some(SCHOOL));
    assert!(pv.notes.is_empty(), "{:?}", pv.notes);
    assert_eq!(pv.location.as_deref(), Some(LOCATION));
    assert_eq!(pv.instrument_version.as_deref(), Some("1"));
    assert_eq!(seat("2001").accommodations, vec!["voorleessoftware (read-aloud)", "spellingcontrole (spell-check)", "grote letters"]);
    assert_eq!(seat("2001").ended_ms, seat("2001").submitted_ms);
    assert_eq!(of("omgevingsbevinding").len(), 1);
    assert_eq!(of("start").len(), 1, "the console's start names who started");
    assert_eq!(of("start")[0].description, "gezamenlijke start door Mevr. de Wit");
    assert_eq!(of("consoleactie")[0].description, "inlogblokkade opgeheven door Mevr. de Wit; reden: typefout <code>");
    assert!(pv.invigilators.contains(&"Mevr. de Wit".to_string()) && pv.invigilators.contains(&"examenbureau (opdrachtregel op de examenserver)".to_string()));
    let journal_of = |id: &str| pv.journals.iter().find(|j| j.device_id == id).unwrap();
    let ja = journal_of(a.id());
    assert!(ja.verified && ja.records == a_frames.len() as i64, "{ja:?}");
    let (size, root) = ja.checkpoint.clone().expect("A's journal has checkpoints");
    assert!(ja.statement.contains(&format!("checkpoint over records 0..{size} (Merkle-root in de bijlage)")), "{}", ja.statement);
    assert!(!ja.statement.contains(&root), "the root is in the appendix, not in the body");
    let jb = journal_of(b.id());
    assert!(!jb.verified && jb.alarms.iter().any(|a| a.contains("journal.rewrite")), "{jb:?}");
    assert!(!journal_of(c.id()).verified && journal_of(c.id()).statement.starts_with("Geen logboek ontvangen"));

    // Written, sealed, verified, and a one-byte change shows.
    let out = hub.path("pv");
    let listed = hub.cli_ok(&["report", "proces-verbaal", "--sitting", SITTING, "--out", out.to_str().unwrap()]);
    assert_eq!(listed.lines().count(), 4, "{listed}");
    let html_path = out.join("proces-verbaal-PV1.html");
    let pdf_path = out.join("proces-verbaal-PV1.pdf");
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>"), "markup from the records is escaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;pv&#39;)&lt;/script&gt; de Vries"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; Zoë had een storing; één pc vervangen."));
    assert!(html.contains("Zoë &quot;O&#39;Brien&quot; &amp; Bakker"));
    assert!(html.contains("Dhr. &lt;b&gt;Bos&lt;/b&gt;"));
    for needle in ["afwezig", "ingeleverd", "netwerkonderbreking", "Geen logboek ontvangen", "NIET IN ORDE", "gezamenlijke start door", "typefout &lt;code&gt;", "door Mevr. de Wit", "Uiterlijk einde", "Ondertekening", "Bijlage A"] {
        assert!(html.contains(needle), "HTML lacks {needle}");
    }
    assert!(!html.contains("UTC") && !html.contains(a.id()) && !html.contains("docs/"), "local time, no ids, no repository files in the HTML");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&pdf_path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // -raw: in content-stream order, so a table cell's wrapped lines stay together.
    let raw_text = pdf_text(&pdf_path);
    let pv_now = reports::proces_verbaal(&db, SITTING).await.unwrap();
    assert_signable(&raw_text, &pv_now, &[a.id(), b.id(), c.id()], &receipt.receipt_code);
    if let Some(dir) = std::env::var_os("EXAM_HUB_PV_KEEP") {
        // For looking at the result: pdftoppm -png -r 60 FILE.pdf page
        std::fs::copy(&pdf_path, Path::new(&dir).join("proces-verbaal-PV1.pdf")).unwrap();
    }
    let pdf_text = text_without_whitespace(&raw_text);
    for literal in [SCRIPT_NAME, DUTCH_NAME, REMARK, PROCESS_NAME, FORMULA_EXAM, "Dhr. <b>Bos</b>", "Proces-verbaal van afname", "netwerkonderbreking"] {
        assert!(pdf_text.contains(&text_without_whitespace(literal)), "the PDF text lacks {literal:?}");
    }
    let info = Command::new("pdfinfo").arg(&pdf_path).output().unwrap();
    assert!(info.status.success(), "pdfinfo: {}", String::from_utf8_lossy(&info.stderr));
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    assert!(info.lines().any(|l| l.starts_with("Title:") && l.ends_with("Proces-verbaal PV1")), "{info}");

    for file in [&html_path, &pdf_path] {
        let sig = format!("{}.sig", file.display());
        let ok = verify_pv(&[file.to_str().unwrap(), &sig], &hub);
        assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
        assert!(String::from_utf8_lossy(&ok.stdout).contains("seal OK"));
        // One byte changed, anywhere: the seal fails (exit 1).
        let mut bytes = std::fs::read(file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        let changed = hub.path("changed");
        std::fs::write(&changed, &bytes).unwrap();
        let bad = verify_pv(&[changed.to_str().unwrap(), &sig], &hub);
        assert_eq!(bad.status.code(), Some(1), "{}", String::from_utf8_lossy(&bad.stderr));
        assert!(String::from_utf8_lossy(&bad.stderr).contains("changed after sealing"));
        std::fs::remove_file(&changed).unwrap();
        // A damaged seal file is a failed verification, not a pass.
        let damaged = hub.path("damaged.sig");
        std::fs::write(&damaged, std::fs::read_to_string(&sig).unwrap().replace("signature: ", "signature: 00")).unwrap();
        assert_eq!(verify_pv(&[file.to_str().unwrap(), damaged.to_str().unwrap()], &hub).status.code(), Some(1));
        // Another key (a forger's) is refused even when its own signature holds.
        let other_key = hex::encode([7u8; 32]);
        let wrong = verify_pv(&[file.to_str().unwrap(), &sig, "--key", &other_key], &hub);
        assert_eq!(wrong.status.code(), Some(1));
    }
    // A second run never overwrites a sealed report.
    let again = hub.cli(&["report", "proces-verbaal", "--sitting", SITTING, "--out", out.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));

    // The same PC then serves another sitting (S1): what happens there is S1's, not PV1's.
    a.login_ok("1001", &hub.code("S1", "1001")).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let later = journal(&hub.path("journal-a"), &a.device_pkcs8, &[("guard.process_ended", json!({"name": "other-sitting.exe", "rule": "deny:x"}))]);
    upload(&a, &later[a_frames.len()..]).await;
    // An instruction to that PC during S1 is S1's too.
    hub.cli_ok(&["instruct", "--action", "lock", "--device", a.id(), "--reason", "instructie van S1"]);
    let ours = reports::proces_verbaal(&db, SITTING).await.unwrap();
    assert!(ours.irregularities.iter().all(|i| !i.description.contains("other-sitting.exe")));
    assert!(ours.irregularities.iter().all(|i| !i.description.contains("instructie van S1")), "S1's instruction stays out of PV1's");
    assert_eq!(ours.irregularities.iter().filter(|i| i.category == "proces beëindigd").count(), 1);
    let theirs = reports::proces_verbaal(&db, "S1").await.unwrap();
    assert!(theirs.irregularities.iter().any(|i| i.description.contains("other-sitting.exe") && i.student.as_deref() == Some("1001")));
    assert!(theirs.irregularities.iter().any(|i| i.description.contains("instructie van S1")), "{:?}", theirs.irregularities);
    assert!(theirs.irregularities.iter().all(|i| !i.description.contains(PROCESS_NAME)), "PV1's events stay out of S1's");

    // Results: scoring on the hub, CSV back with the right rows, QTI well-formed.
    let scoring = hub.path("scoring.json");
    std::fs::write(&scoring, scoring_json()).unwrap();
    // Bad scoring data and unknown names are refused precisely, storing nothing.
    let broken = hub.path("broken.json");
    std::fs::write(&broken, "{\"items\": [{\"ref_identifier\": 1}]}").unwrap();
    let refused = hub.cli(&["import", "scoring", broken.to_str().unwrap(), "--id", "inst-a"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("scoring data: invalid type: integer `1`, expected a string at line 1"));
    let unknown = hub.cli(&["import", "scoring", scoring.to_str().unwrap(), "--id", "nope"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no instrument nope"));
    let nothing = hub.cli(&["report", "results", "--sitting", "NOPE", "--out", hub.path("x.csv").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no sitting NOPE") && !hub.path("x.csv").exists());
    hub.cli_ok(&["import", "scoring", scoring.to_str().unwrap(), "--id", "inst-a"]);
    let csv_path = hub.path("results.csv");
    let qti_dir = hub.path("qti");
    hub.cli_ok(&["report", "results", "--sitting", SITTING, "--out", csv_path.to_str().unwrap(), "--qti", qti_dir.to_str().unwrap()]);
    let raw = std::fs::read_to_string(&csv_path).unwrap();
    assert!(raw.contains("\r\n") && raw.contains("\"'=cmd|\"\"/C calc\"\",A0\""), "RFC 4180 quoting and a neutralised formula: {raw}");
    let mut reader = csv::Reader::from_reader(raw.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), reports::CSV_HEADER.to_vec());
    let mut rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
    rows.sort();
    let date = &rows[0][3];
    assert_eq!(date.len(), 10);
    // The exam's name (a formula, neutralised); this planning gave no exam code.
    let exam = format!("'{FORMULA_EXAM}");
    let expect = |n: &str, score: &str, assessment: &str, status: &str| {
        vec![n.to_string(), String::new(), exam.clone(), date.clone(), score.to_string(), String::new(), "5".into(), assessment.to_string(), String::new(), status.to_string()]
    };
    assert_eq!(
        rows,
        vec![
            expect("'=2004", "", "", "afwezig"),
            expect("2001", "5", "definitief", "ingeleverd"),
            expect("2002", "0", "definitief", "niet ingeleverd"),
            expect("2003", "", "", "afwezig"),
        ],
        "rows sorted by their text"
    );
    let mut documents = std::fs::read_dir(&qti_dir).unwrap().map(|e| e.unwrap().path()).collect::<Vec<_>>();
    documents.sort();
    assert_eq!(documents.len(), 2, "one assessmentResult per candidate with answers: {documents:?}");
    let xml = std::fs::read_to_string(qti_dir.join("result-2001.xml")).unwrap();
    let parsed = parse_xml(&xml);
    assert_eq!(parsed.root, "assessmentResult");
    assert_eq!(parsed.namespace, reports::QTI_RESULT_NAMESPACE);
    assert_eq!(parsed.count("itemResult"), 3);
    assert_eq!(parsed.count("responseVariable"), 3);
    assert_eq!(parsed.attr("context", "sourcedId"), Some("2001".to_string()));
    assert_eq!(parsed.values, vec!["5", "5", "B", "1", "1", "A", "C", "2", "2", "amsterdam", "2", "2"]);
    assert!(xml.contains("sessionStatus=\"final\""));
    let multiple = parsed.elements.iter().filter(|(n, _)| n == "responseVariable").nth(1).unwrap();
    assert!(multiple.1.contains(&("cardinality".into(), "multiple".into())) && multiple.1.contains(&("baseType".into(), "identifier".into())));
    // 2002 answered one item: every declared response is still reported.
    let saved = parse_xml(&std::fs::read_to_string(qti_dir.join("result-2002.xml")).unwrap());
    assert_eq!(saved.count("responseVariable"), 3);
    assert_eq!(saved.attr("itemResult", "sessionStatus"), Some("pendingSubmission".to_string()));
}

/// Scoring JSON as `kioskctl instrument render --scoring` writes it (the
/// types are shared, `exam_protocol::scoring`) is read by `import scoring`,
/// and a `map_response` item keeps to its lower bound.
#[test]
fn map_response_scoring_read_from_json_keeps_to_its_lower_bound() {
    use exam_protocol::scoring as qti;
    let written = qti::Scoring {
        test: None,
        items: vec![qti::ItemScoring {
            ref_identifier: "ITM-1".into(),
            identifier: "q1".into(),
            weights: Default::default(),
            responses: vec![qti::ResponseDeclaration {
                identifier: "RESPONSE".into(),
                cardinality: qti::Cardinality::Multiple,
                base_type: Some("identifier".into()),
                correct: vec!["A".into(), "C".into()],
                mapping: Some(qti::Mapping {
                    default_value: -1.0,
                    lower_bound: Some(0.0),
                    upper_bound: None,
                    entries: vec![qti::MapEntry { key: "A".into(), value: 1.0, case_sensitive: true }],
                }),
                area_mapping: None,
                max_values: None,
            }],
            outcomes: Vec::new(),
            processing: qti::Processing::Template { uri: "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml".into() },
        }],
    };
    let read = reports::scoring::parse_scoring(&serde_json::to_string(&written).unwrap()).unwrap();
    let item = &read.items[0];
    assert_eq!((item.ref_identifier.as_str(), item.responses[0].cardinality.as_str()), ("ITM-1", "multiple"));
    assert_eq!(item.responses[0].mapping.as_ref().unwrap().default_value, -1.0);
    assert_eq!(reports::scoring::template(&item.processing), Some(reports::scoring::Template::MapResponse));
    let outcome = reports::scoring::score_item(item, &[("RESPONSE".to_string(), json!(["A", "B"]))].into_iter().collect());
    assert_eq!(outcome.score, Some(0.0), "1 - 1, not below the lower bound");
}
on_both_backends!(proces_verbaal_and_results);

/// What the XML check found.
struct ParsedXml {
    root: String,
    namespace: String,
    elements: Vec<(String, Vec<(String, String)>)>,
    values: Vec<String>,
}

impl ParsedXml {
    fn count(&self, name: &str) -> usize {
        self.elements.iter().filter(|(n, _)| n == name).count()
    }

    fn attr(&self, element: &str, attr: &str) -> Option<String> {
        self.elements.iter().find(|(n, _)| n == element)?.1.iter().find(|(k, _)| k == attr).map(|(_, v)| v.clone())
    }
}

/// Parses with quick-xml (fails on anything not well-formed) and collects
/// element names, attributes and the text of `value` elements.
fn parse_xml(xml: &str) -> ParsedXml {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut parsed = ParsedXml { root: String::new(), namespace: String::new(), elements: Vec::new(), values: Vec::new() };
    let mut in_value = false;
    let mut depth = 0usize;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("not well-formed at {}: {e}", reader.buffer_position())) {
            Event::Start(e) => {
                depth += 1;
                in_value = element(&mut parsed, &e) == "value";
            }
            Event::Empty(e) => {
                element(&mut parsed, &e);
            }
            Event::Text(t) if in_value => parsed.values.push(t.decode().unwrap().into_owned()),
            Event::End(_) => {
                in_value = false;
                depth -= 1;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
    parsed
}

/// Records an element's name and attributes; returns the name.
fn element(parsed: &mut ParsedXml, e: &quick_xml::events::BytesStart<'_>) -> String {
    let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
    let attrs: Vec<(String, String)> = e
        .attributes()
        .map(|a| {
            let a = a.unwrap();
            (String::from_utf8(a.key.as_ref().to_vec()).unwrap(), a.unescape_value().unwrap().into_owned())
        })
        .collect();
    if parsed.root.is_empty() {
        parsed.root = name.clone();
        parsed.namespace = attrs.iter().find(|(k, _)| k == "xmlns").map(|(_, v)| v.clone()).unwrap_or_default();
    }
    parsed.elements.push((name.clone(), attrs));
    name
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Stores a journal record row as journal ingest would (fixture for times
/// long past, which a real kiosk cannot produce today).
async fn journal_row(db: &Db, device: &str, seq: i64, wall_ms: i64) {
    sqlx::query("INSERT INTO journal_records (device_id, seq, hash, record_type, kind, wall_time_us, frame) VALUES ($1, $2, $3, 1, 'test.event', $4, $5)")
        .bind(device)
        .bind(seq)
        .bind(format!("{seq:064x}"))
        .bind(wall_ms * 1000)
        .bind(vec![0u8; 16])
        .execute(&db.pool)
        .await
        .unwrap();
}

async fn count(db: &Db, sql: &str, bind: &str) -> i64 {
    use sqlx::Row as _;
    sqlx::query(sql).bind(bind).fetch_one(&db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

async fn retention(backend: Backend) {
    let Some(mut hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    let now = exam_hub::now_ms();
    // An exam of 400 days ago with answers, planned like any other.
    sqlx::query("INSERT INTO sittings (sitting_id, exam, instrument_id, room, start_ms, duration_minutes, started_ms) VALUES ('OLD1', 'Rekenen 2F', 'inst-a', $1, $2, 90, NULL)")
        .bind(ROOM)
        .bind(now - 400 * DAY_MS)
        .execute(&db.pool)
        .await
        .unwrap();
    for (student, seq, final_submission) in [("1001", 1, 0), ("1001", 2, 1), ("1002", 1, 0)] {
        sqlx::query("INSERT INTO candidates (sitting_id, student_number, extra_minutes, tools, code_hmac, failures, added_minutes) VALUES ('OLD1', $1, 0, '', 'x', 0, 0) ON CONFLICT (sitting_id, student_number) DO NOTHING")
            .bind(student)
            .execute(&db.pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO answers (sitting_id, student_number, seq, final_submission, answers, answers_sha256, device_id, received_ms, receipt) VALUES ('OLD1', $1, $2, $3, '{}', 'x', 'old-device', $4, '{}')")
            .bind(student)
            .bind(seq)
            .bind(final_submission)
            .bind(now - 400 * DAY_MS)
            .execute(&db.pool)
            .await
            .unwrap();
    }
    // Today's exam through the real API: an answer and a journal.
    let mut kiosk = hub.enrol(ROOM).await;
    kiosk.login_ok("1001", &hub.code("S1", "1001")).await;
    let save = AnswerUpload { sitting_id: "S1".into(), seq: 1, final_submission: false, answers: json!({"responses": {}}), changes: vec![] };
    assert_eq!(kiosk.post(paths::ANSWERS, &save).await.status(), 200);
    let frames = kiosk.make_journal(&hub.path("journal"), 30);
    upload(&kiosk, &frames).await;
    // An old device, and one whose clock went back once (seq 6).
    for seq in 0..5 {
        journal_row(&db, "old-device", seq, now - 500 * DAY_MS).await;
    }
    for (seq, age_days) in [(0, 500), (1, 500), (2, 450), (3, 450), (4, 400), (5, 10), (6, 700), (7, 9), (8, 8), (9, 0)] {
        journal_row(&db, "mixed-device", seq, now - age_days * DAY_MS).await;
    }

    // Without a period set, nothing is deleted.
    let refused = hub.cli(&["retention", "run"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no retention-days"));
    assert!(matches!(
        reports::run_retention(&db, reports::RetentionRule { days: 0 }, now).await,
        Err(reports::ReportError::Invalid(_))
    ));

    let config = hub.data().join("hub.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    // 0 days is refused where hub.toml is read (so `serve` refuses it too), at its line.
    std::fs::write(&config, format!("{text}retention-days = 0\n")).unwrap();
    let zero = hub.cli(&["retention", "run"]);
    let zero_err = String::from_utf8_lossy(&zero.stderr);
    let line = text.lines().count() + 1;
    assert!(!zero.status.success() && zero_err.contains(&format!("hub.toml:{line}:")) && zero_err.contains("nonzero"), "{zero_err}");
    std::fs::write(&config, format!("{text}retention-days = 365\n")).unwrap();
    let out = hub.cli_ok(&["retention", "run"]);
    assert!(
        out.contains("bewaartermijn 365 dagen (hub.toml retention-days): answers of 1 sittings (3 saves) and 10 journal records of 2 devices deleted"),
        "{out}"
    );
    let answers = "SELECT COUNT(*) FROM answers WHERE sitting_id = $1";
    let records = "SELECT COUNT(*) FROM journal_records WHERE device_id = $1";
    assert_eq!(count(&db, answers, "OLD1").await, 0);
    assert_eq!(count(&db, answers, "S1").await, 1, "within the period: untouched");
    assert_eq!(count(&db, records, kiosk.id()).await, frames.len() as i64, "within the period: untouched");
    assert_eq!(count(&db, records, "old-device").await, 0);
    assert_eq!(count(&db, records, "mixed-device").await, 5, "a contiguous tail stays, the record with the odd clock too");
    assert_eq!(count(&db, "SELECT MIN(seq) FROM journal_records WHERE device_id = $1", "mixed-device").await, 5);
    // Every deletion is recorded, with the rule.
    assert_eq!(count(&db, "SELECT COUNT(*) FROM retention_deletions WHERE rule = $1", "bewaartermijn 365 dagen (hub.toml retention-days)").await, 3);
    assert_eq!(count(&db, "SELECT rows_deleted FROM retention_deletions WHERE sitting_id = $1", "OLD1").await, 3);
    assert_eq!(count(&db, "SELECT rows_deleted FROM retention_deletions WHERE subject = $1", "mixed-device").await, 5);
    // A second run finds nothing more.
    let again = hub.cli_ok(&["retention", "run"]);
    assert!(again.contains("answers of 0 sittings (0 saves) and 0 journal records of 0 devices deleted"), "{again}");
    // The hub still takes the kiosk's journal where it left off.
    let more = append_journal(&hub.path("journal"), &kiosk.device_pkcs8, 3);
    upload(&kiosk, &more[frames.len()..]).await;

    // The proces-verbaal and the results say what was deleted.
    let pv = reports::proces_verbaal(&db, "OLD1").await.unwrap();
    assert_eq!(pv.deletions.len(), 1, "{:?}", pv.deletions);
    assert!(pv.deletions[0].contains("antwoorden (2 kandidaten, 3 rijen) verwijderd volgens bewaartermijn 365 dagen"));
    assert!(pv.to_html().contains("Verwijderd na de bewaartermijn"));
    let results = reports::results(&db, "OLD1").await.unwrap();
    assert!(results.rows.iter().all(|r| r.status == reports::ResultStatus::Deleted));

    // `exam-hub serve` applies the rule by itself shortly after it starts.
    sqlx::query("INSERT INTO answers (sitting_id, student_number, seq, final_submission, answers, answers_sha256, device_id, received_ms, receipt) VALUES ('OLD1', '1001', 9, 1, '{}', 'x', 'old-device', $1, '{}')")
        .bind(now - 400 * DAY_MS)
        .execute(&db.pool)
        .await
        .unwrap();
    hub.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while count(&db, answers, "OLD1").await > 0 {
        assert!(std::time::Instant::now() < deadline, "serve did not apply the retention rule within 60 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(count(&db, "SELECT COUNT(*) FROM retention_deletions WHERE sitting_id = $1", "OLD1").await, 2);
    assert_eq!(count(&db, answers, "S1").await, 1);
}
on_both_backends!(retention);

/// A hub with [`SITTING`] planned and student 2001 logged in on one kiosk
/// of the room.
async fn one_kiosk_logged_in(backend: Backend) -> Option<(TestHub, Db, Kiosk)> {
    let hub = TestHub::start(backend).await?;
    let db = open_db(&hub).await;
    let codes = plan(&db, &Keys::load(&hub.data()).unwrap()).await;
    let mut kiosk = hub.enrol(ROOM).await;
    kiosk.login_ok("2001", &codes["2001"]).await;
    Some((hub, db, kiosk))
}

/// Issue 14 point 7: a batch that carries one record twice (byte-identical
/// copies) is not a rewritten history: the copy counts as a duplicate, no
/// alarm is raised and the proces-verbaal calls the journal in order.
async fn identical_copies_in_one_batch_are_duplicates(backend: Backend) {
    let Some((hub, db, kiosk)) = one_kiosk_logged_in(backend).await else { return };
    let frames = journal(&hub.path("journal"), &kiosk.device_pkcs8, &[("sync.offline", json!({})), ("sync.online", json!({})), ("session.login", json!({}))]);
    assert!(frames.len() >= 4, "{}", frames.len());
    // Records 0, 1, 2, 2, 3, ...: the third record twice, byte for byte.
    let mut batch = frames.clone();
    batch.insert(3, frames[2].clone());
    let resp = kiosk.post(paths::JOURNAL, &b64(&batch)).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let receipt: JournalReceipt = resp.json().await.unwrap();
    assert_eq!((receipt.stored, receipt.duplicates, receipt.next_seq), (frames.len() as u64, 1, frames.len() as u64));
    // Uploading the same doubled batch again: all duplicates.
    let again: JournalReceipt = kiosk.post(paths::JOURNAL, &b64(&batch)).await.json().await.unwrap();
    assert_eq!((again.stored, again.duplicates), (0, batch.len() as u64));
    let alarms = hub.cli_ok(&["alarms"]);
    assert!(!alarms.contains(kiosk.id()), "no alarm for the kiosk: {alarms}");
    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    let j = pv.journals.iter().find(|j| j.device_id == kiosk.id()).unwrap();
    assert!(j.verified && j.alarms.is_empty() && j.statement.contains("het logboek is in orde"), "{j:?}");
    assert!(!pv.to_html().contains("NIET IN ORDE"));
}
on_both_backends!(identical_copies_in_one_batch_are_duplicates);

/// Issue 14 point 8: a name a kiosk writes into its journal (`cause.by` of
/// an unlock) is not listed as an invigilator: those come from the hub's
/// own records; the kiosk's names are listed apart, marked as unchecked.
async fn names_a_kiosk_claims_are_not_invigilators(backend: Backend) {
    let Some((hub, db, kiosk)) = one_kiosk_logged_in(backend).await else { return };
    const CLAIMED: &str = "Piet Nep";
    let frames = journal(
        &hub.path("journal"),
        &kiosk.device_pkcs8,
        &[
            ("session.transition", json!({"from": "in_exam", "to": "locked", "cause": {"trigger": "lock", "reason": "test"}})),
            ("session.transition", json!({"from": "locked", "to": "in_exam", "cause": {"trigger": "unlock", "by": CLAIMED, "reason": "zelf gedaan"}})),
        ],
    );
    upload(&kiosk, &frames).await;
    // An instruction from the hub: its issuer is on record.
    hub.cli_ok(&["instruct", "--action", "add-time", "--minutes", "5", "--sitting", SITTING, "--student", "2001", "--reason", "storing"]);
    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    assert!(!pv.invigilators.iter().any(|n| n == CLAIMED), "a kiosk's claim listed as invigilator: {:?}", pv.invigilators);
    assert!(pv.invigilators.iter().any(|n| n == "examenbureau (opdrachtregel op de examenserver)"), "{:?}", pv.invigilators);
    // Not in the policy's roster (this hub has no policy): the id as the kiosk wrote it, marked.
    let claimed = format!("{CLAIMED} (niet in het beleid van de examenserver)");
    assert_eq!(pv.claimed_by_kiosk, vec![claimed.clone()]);
    let html = pv.to_html();
    let line = |prefix: &str| html.lines().find(|l| l.contains(prefix)).unwrap_or_else(|| panic!("no {prefix} in the HTML")).to_string();
    assert!(!line("<dt>Volgens de examenserver</dt>").contains(CLAIMED), "{}", line("<dt>Volgens de examenserver</dt>"));
    assert!(line("<dt>Met pincode op een pc</dt>").contains(&claimed));
    assert!(html.contains("de pincode controleert de pc, niet de examenserver"));
}
on_both_backends!(names_a_kiosk_claims_are_not_invigilators);

/// Found by the rehearsal (issue 17): an unlock from the console reaches
/// the PC as an instruction, and the kiosk journals it `by: "NAME (op
/// afstand)"`; the proces-verbaal called that an unlock "met pincode" and
/// listed the invigilator among the PIN holders the hub cannot check.
async fn a_remote_unlock_is_not_a_pin(backend: Backend) {
    let Some((hub, db, kiosk)) = one_kiosk_logged_in(backend).await else { return };
    let frames = journal(
        &hub.path("journal"),
        &kiosk.device_pkcs8,
        &[
            ("session.transition", json!({"from": "in_exam", "to": "locked", "cause": {"trigger": "lock", "reason": "Proces beëindigd: discord"}})),
            ("session.transition", json!({"from": "locked", "to": "in_exam", "cause": {"trigger": "unlock", "by": "Marieke de Wit (op afstand)", "reason": "stond nog open"}})),
        ],
    );
    upload(&kiosk, &frames).await;
    // The PC's last heartbeat: its state in Dutch (the rehearsal's PDF said "toestand submitted").
    let beat = exam_protocol::Heartbeat { state: "in_exam".into(), journal_next_seq: None, journal_last_hash: None, answers_pending: 0, journal_damage: None };
    assert_eq!(kiosk.post(paths::HEARTBEAT, &beat).await.status(), 200);
    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    let statement = &pv.journals.iter().find(|j| j.device_id == kiosk.id()).expect("the PC's journal").statement;
    assert!(statement.contains("(toestand examen bezig)"), "{statement}");
    let unlock = pv.irregularities.iter().find(|i| i.source == "logboek" && i.category == "ontgrendeld").expect("the unlock from the PC's journal");
    assert!(unlock.description.contains("op afstand door Marieke de Wit (via de console)"), "{}", unlock.description);
    assert!(!unlock.description.contains("pincode"), "{}", unlock.description);
    assert!(pv.claimed_by_kiosk.is_empty(), "a console user listed as a PIN holder: {:?}", pv.claimed_by_kiosk);
}
on_both_backends!(a_remote_unlock_is_not_a_pin);

/// Found by the rehearsal (issue 17): "Beëindigen voor iedereen" after every
/// student handed in sends no instruction, and its reason was nowhere in the
/// proces-verbaal (only when and by whom). The end is an entry of its own.
async fn the_end_for_everyone_gives_its_reason(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    plan(&db, &Keys::load(&hub.data()).unwrap()).await;
    // No PC in the exam: the console's end, as the invigilator clicks it.
    let console = common::console_sign_in(&hub, "m.dewit", "Marieke de Wit", "invigilator", &[ROOM]).await;
    let resp = console
        .client
        .post(hub.url(&format!("/console/api/rooms/{ROOM}/actions")))
        .header(reqwest::header::COOKIE, &console.cookie)
        .header("x-csrf-token", &console.csrf)
        .json(&json!({"action": "end_all", "sitting_id": SITTING, "version": 0, "reason": "Einde van de afname"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    let end = pv.irregularities.iter().find(|i| i.category == "einde").unwrap_or_else(|| panic!("no end entry: {:?}", pv.irregularities));
    assert!(end.description.contains("zitting beëindigd voor iedereen") && end.description.contains("Einde van de afname"), "{}", end.description);
    assert!(pv.to_html().contains("Einde van de afname"));
    // No PC was in the exam: said in Dutch ("(0 pc's)" before).
    assert!(end.description.contains("(geen pc's)") && !end.description.contains("0 pc"), "{}", end.description);
}
on_both_backends!(the_end_for_everyone_gives_its_reason);

/// Found by the rehearsal (issue 17): a student whose exam an invigilator
/// ended for suspected fraud read as a plain "aanwezig, ingeleverd"; an
/// absent student got an end time from the end for everyone; a sitting that
/// began on time without a joint start read "niet gestart op de
/// examenserver" while students worked.
async fn an_ended_exam_and_an_absentee_read_as_they_happened(backend: Backend) {
    let Some((hub, db, kiosk)) = one_kiosk_logged_in(backend).await else { return };
    let console = common::console_sign_in(&hub, "m.dewit", "Marieke de Wit", "invigilator", &[ROOM]).await;
    let act = |body: serde_json::Value| {
        let console = &console;
        let hub = &hub;
        async move {
            let resp = console
                .client
                .post(hub.url(&format!("/console/api/rooms/{ROOM}/actions")))
                .header(reqwest::header::COOKIE, &console.cookie)
                .header("x-csrf-token", &console.csrf)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        }
    };
    act(json!({"action": "end", "sitting_id": SITTING, "student_number": "2001", "version": 0, "reason": "Vermoeden van fraude: telefoon"})).await;
    // The kiosk hands in as the end tells it to.
    assert_eq!(kiosk.post(paths::ANSWERS, &snapshot(SITTING, 1, true, json!({}))).await.status(), 200);
    act(json!({"action": "end_all", "sitting_id": SITTING, "version": 0, "reason": "Einde van de afname"})).await;
    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    let seat = |n: &str| pv.seats.iter().find(|s| s.student_number == n).unwrap();
    assert!(seat("2001").ended_by_invigilator, "{:?}", seat("2001"));
    assert_eq!(seat("2003").status, reports::SeatStatus::Absent);
    assert_eq!(seat("2003").ended_ms, None, "an absentee has no end");
    let html = pv.to_html();
    assert!(html.contains("aanwezig, examen beëindigd door de surveillant, ingeleverd"), "the fraud end is not in section 3");
    assert!(html.contains("op de geplande tijd, zonder gezamenlijke start (eerste aanmelding"), "the start line");
    assert!(!html.contains("niet gestart op de examenserver"));
}
on_both_backends!(an_ended_exam_and_an_absentee_read_as_they_happened);

/// Issue 14 point 3: the lock holds on the PC the wrong codes were typed
/// on, so the proces-verbaal's lock-out entry names that PC — one entry per
/// PC, by its host name (its id in the appendix) — and stays silent about PCs with fewer
/// wrong codes. The lock lifted, the entries stay: it happened.
async fn the_lock_out_names_the_pc(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    let codes = plan(&db, &Keys::load(&hub.data()).unwrap()).await;
    let mut pcs = Vec::new();
    for (host, wrong) in [("B214-PC07", 5), ("B214-PC08", 5), ("B214-PC09", 4)] {
        let (key, pkcs8) = exam_journal::SigningKey::generate().unwrap();
        let mut pc = hub.enrol_key(ROOM, &key, pkcs8, host).await;
        for _ in 0..wrong {
            let status = pc.login("2003", "WRNG-CODE").await.status();
            assert!(status == 401 || status == 423, "{status}");
        }
        pcs.push((host, pc));
    }
    let locks = |pv: &reports::ProcesVerbaal| -> Vec<reports::Irregularity> {
        pv.irregularities.iter().filter(|i| i.category == "inlogblokkade").cloned().collect()
    };
    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    let locked = locks(&pv);
    assert_eq!(locked.len(), 2, "{locked:?}");
    for ((host, pc), entry) in pcs.iter().zip(&locked) {
        assert_eq!((entry.device_id.as_deref(), entry.student.as_deref()), (Some(pc.id()), Some("2003")));
        // The PC by its host name; its id is in the appendix.
        assert_eq!(entry.description, format!("te vaak een onjuiste toegangscode op pc {host}; inloggen op die pc geblokkeerd"));
        assert_eq!(entry.pc.as_deref(), Some(*host));
        assert!(pv.to_html().contains(&entry.description), "{}", entry.description);
        assert!(pv.pcs.contains(&(host.to_string(), pc.id().to_string())), "{:?}", pv.pcs);
    }
    // The invigilator lifts the lock: the student logs in on PC07, and the
    // proces-verbaal still says where and when the student was locked.
    hub.cli_ok(&["reset-lock", "--sitting", SITTING, "--student", "2003"]);
    pcs[0].1.login_ok("2003", &codes["2003"]).await;
    let pv_after = reports::proces_verbaal(&db, SITTING).await.unwrap();
    // Who lifted it, and when (before: the CLI's reset-lock left no trace in the document).
    let lifted: Vec<_> = pv_after.irregularities.iter().filter(|i| i.student.as_deref() == Some("2003") && i.description.starts_with("inlogblokkade opgeheven door examenbureau")).collect();
    assert_eq!(lifted.len(), 1, "{:?}", pv_after.irregularities);
    assert!(pv_after.to_html().contains(&lifted[0].description));
    let after = locks(&pv_after);
    assert_eq!(after.iter().map(|i| (i.time_ms, &i.description)).collect::<Vec<_>>(), locked.iter().map(|i| (i.time_ms, &i.description)).collect::<Vec<_>>());
}
on_both_backends!(the_lock_out_names_the_pc);

/// Issue 15 point 5 (review): a kiosk whose policy let a WebDriver drive
/// the exam window, and answers the hub refused or kept apart, are named in
/// the proces-verbaal (before, only the kiosk's own screen said TESTMODUS).
async fn test_automation_and_refused_answers_are_in_the_proces_verbaal(backend: Backend) {
    let Some((hub, db, kiosk)) = one_kiosk_logged_in(backend).await else { return };
    let frames = journal(
        &hub.path("journal"),
        &kiosk.device_pkcs8,
        &[
            ("session.login", json!({"student": "2001", "sitting": SITTING})),
            ("kiosk.test_automation", json!({"webdriver": true})),
            ("answers.upload_refused", json!({"seq": 3, "saved": 4, "error": "conflicting_answers", "reason": "x"})),
        ],
    );
    upload(&kiosk, &frames).await;
    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    let kinds: Vec<(&str, &str)> = pv.irregularities.iter().map(|i| (i.category, i.description.as_str())).collect();
    assert!(kinds.iter().any(|(c, d)| *c == "testmodus" && d.contains("deed dat")), "{kinds:?}");
    assert!(kinds.iter().any(|(c, d)| *c == "antwoorden geweigerd" && d.contains("conflicting_answers")), "{kinds:?}");
    // For the eye: target/report-shots/ (pdftoppm -png turns it into pictures).
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-shots");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::write(shots.join(format!("pv-test-automation-{}.pdf", if hub.database.is_some() { "postgres" } else { "sqlite" })), pv.to_pdf().into_bytes()).unwrap();
}
on_both_backends!(test_automation_and_refused_answers_are_in_the_proces_verbaal);

/// Issue 19: the proces-verbaal lists per candidate what they used of the
/// exam tools, next to what was granted, in counts only: the calculator
/// and read-aloud from the PC's journal, the scratchpad and the highlighter
/// from the last stored answers. Without a journal it says what it cannot
/// know; read-aloud without the accommodation (the kiosk refuses it) is
/// flagged. What the student wrote in the scratchpad is never in it.
async fn the_tools_each_candidate_used_are_counted(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    let codes = plan(&db, &Keys::load(&hub.data()).unwrap()).await;
    const SCRATCHPAD: &str = "Geheime kladblok-tekst van Zoë: 17 x 3 = 51";
    let calculated = |item: &str, count: u64| ("tools.calculator_used", json!({"item": item, "kind": "basic", "count": count}));
    let spoken = ("kiosk.read_aloud", json!({"audio_ms": 5200, "chars": 98, "rate": 165, "words": 17}));
    // 2001 (read-aloud granted): the calculator 3 times on 2 items, read-aloud twice.
    // 2002: a journal without tool use. 2003: no journal at all. =2004: read-aloud, not granted.
    let mut journals: HashMap<&str, Vec<(&str, serde_json::Value)>> = HashMap::new();
    let spelled = ("tools.spell_check_used", json!({"item": "ITM-3", "kind": "nl", "count": 1}));
    journals.insert("2001", vec![calculated("ITM-1", 1), spoken.clone(), calculated("ITM-1", 2), spelled, calculated("ITM-2", 1), spoken.clone()]);
    journals.insert("2002", vec![("session.login", json!({"student": "2002", "sitting": SITTING}))]);
    journals.insert("=2004", vec![spoken.clone()]);
    // The last stored answers: 2001 with a scratchpad on 1 item and highlights on 2, 2003 with highlights on 1.
    let notes: HashMap<&str, serde_json::Value> = [
        ("2001", json!({"ITM-1": {"scratchpad": SCRATCHPAD, "highlights": [[0, 4]]}, "ITM-3": {"highlights": [[2, 5], [9, 12]]}})),
        ("2003", json!({"ITM-2": {"highlights": [[1, 3]]}})),
    ]
    .into();
    for (n, student) in ["2001", "2002", "2003", "=2004"].into_iter().enumerate() {
        let mut pc = enrol_named(&hub, &format!("lokaal-pc-1{n}")).await;
        pc.login_ok(student, &codes[student]).await;
        if let Some(events) = journals.get(student) {
            upload(&pc, &journal(&hub.path(&format!("journal-{n}")), &pc.device_pkcs8, events)).await;
        }
        let mut save = snapshot(SITTING, 1, true, json!({"ITM-1": {"RESPONSE": "B"}}));
        if let Some(notes) = notes.get(student) {
            save.answers["notes"] = notes.clone();
        }
        assert_eq!(pc.post(paths::ANSWERS, &save).await.status(), 200);
    }

    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    // Section 3, per candidate: one tool a line, next to what was granted.
    let html = pv.to_html();
    for (student, used) in [
        ("2001", "rekenmachine: 3 keer, bij 2 vragen\nvoorlezen: 2 keer\nspellingcontrole: 1 keer\nkladblok bij 1 vraag\nmarkeerstift bij 2 vragen"),
        ("2002", "geen hulpmiddelen gebruikt"),
        ("2003", "markeerstift bij 1 vraag\ngebruik onbekend: geen logboek ontvangen (rekenmachine, voorlezen, spellingcontrole)"),
        ("=2004", "voorlezen: 1 keer\nvoorlezen gebruikt zonder toekenning"),
    ] {
        // The first such row is section 3's; a cell's line breaks are escaped (`&#10;`, kept by `pre-wrap`).
        let used = used.replace('\n', "&#10;");
        let start = html.find(&format!("<tr><td class=\"opm\">{student} ")).unwrap_or_else(|| panic!("no row of {student}"));
        let row = &html[start..start + html[start..].find("</tr>").unwrap()];
        // The row's cells end: …, granted, used, receipt code.
        assert!(row.contains(&format!("</td><td class=\"opm\">{used}</td><td class=\"opm\">")), "{student}: {row}");
    }
    assert!(html.contains("<th scope=\"col\">Voorzieningen</th><th scope=\"col\">Gebruikt</th>"), "granted and used side by side");
    // Read-aloud the kiosk should have refused: flagged, and among the candidate's particulars.
    assert!(html.contains("<p class=\"fout\">Kandidaat =2004 Formule Student: voorlezen gebruikt zonder toekenning."), "the flag above the table");
    let flagged: Vec<_> = pv.irregularities.iter().filter(|i| i.category == "voorlezen zonder toekenning").collect();
    assert_eq!(flagged.len(), 1, "only =2004, 2001 has the accommodation: {flagged:?}");
    assert_eq!((flagged[0].student.as_deref(), flagged[0].pc.as_deref(), flagged[0].source), (Some("=2004"), Some("lokaal-pc-13"), "logboek"));
    // Counts, never what was written: not in the document nor in its data.
    assert!(!html.contains("Geheime kladblok") && !serde_json::to_string(&pv).unwrap().contains("Geheime kladblok"));

    // The PDF says the same.
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-shots");
    std::fs::create_dir_all(&shots).unwrap();
    let pdf_path = shots.join(format!("pv-tools-used-{}.pdf", if hub.database.is_some() { "postgres" } else { "sqlite" }));
    std::fs::write(&pdf_path, pv.to_pdf().into_bytes()).unwrap();
    let text = pdf_text(&pdf_path);
    assert!(!text_without_whitespace(&text).contains(&text_without_whitespace(SCRATCHPAD)) && !text.contains("Geheime"), "{text}");
    // -raw: a row's cells in order; the rows after the table's header (its
    // paragraphs come first; on a new page the header comes again), one candidate each.
    let flat = text_without_whitespace(&text);
    let section = &flat[flat.find("3.Kandidaten").unwrap()..flat.find("4.Bijzonderheden").unwrap()];
    const HEADER: &str = "KandidaatStatusPcStartEindeExtratijdVoorzieningenGebruiktBewijscode";
    let table = section[section.find(HEADER).expect("the table's header")..].replace(HEADER, "");
    let starts: Vec<usize> = ["2001<script>", "2002Zoë", "2003Chris", "=2004Formule"].iter().map(|s| table.find(s).unwrap_or_else(|| panic!("no row {s}: {table}"))).collect();
    let row = |i: usize| &table[starts[i]..starts.get(i + 1).copied().unwrap_or(table.len())];
    for (i, lines) in [
        (0, &["rekenmachine:3keer,bij2vragen", "voorlezen:2keer", "spellingcontrole:1keer", "kladblokbij1vraag", "markeerstiftbij2vragen"][..]),
        (1, &["geenhulpmiddelengebruikt"][..]),
        (2, &["markeerstiftbij1vraag", "gebruikonbekend:geenlogboekontvangen(rekenmachine,voorlezen,spellingcontrole)"][..]),
        (3, &["voorlezen:1keer", "voorlezengebruiktzondertoekenning"][..]),
    ] {
        for line in lines {
            assert!(row(i).contains(line), "row {i} lacks {line}: {}", row(i));
        }
    }
    assert!(!row(0).contains("zondertoekenning") && !row(1).contains("rekenmachine:") && !row(2).contains("geenhulpmiddelen"));
}
on_both_backends!(the_tools_each_candidate_used_are_counted);

/// Issue 19: an instrument packed with `--tool voorlezen` gives everyone
/// read-aloud: a candidate without the accommodation who used it is not
/// flagged, and the proces-verbaal says what the instrument grants (and
/// where it switches the spell-check off), from the package's signed header.
async fn the_instruments_own_tools_are_in_the_proces_verbaal(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    let mut input = exam_instrument::PackInput {
        instrument_id: "inst-t".into(),
        version: "1".into(),
        files: exam_instrument::PackInput::from_dir(&workspace().join("tests/fixtures/instruments/demo")).unwrap(),
        ..Default::default()
    };
    input.tools.grant(exam_instrument::InstrumentTool::ReadAloud);
    input.tools.no_spell_check.insert("ITM-v10".into());
    let signer = exam_policy::SigningKey::load(&workspace().join("policies/demo-instrument.key")).unwrap();
    let key = exam_instrument::ContentKey::generate().unwrap();
    let (bytes, _) = exam_instrument::pack(&input, &signer, &key).unwrap();
    std::fs::write(hub.path("tools.exam"), bytes).unwrap();
    std::fs::write(hub.path("tools.key"), key.as_bytes()).unwrap();
    let policy = workspace().join("policies/demo.toml");
    let (inst, key_file) = (hub.path("tools.exam"), hub.path("tools.key"));
    hub.cli_ok(&["import", "instrument", inst.to_str().unwrap(), "--id", "inst-t", "--content-key-file", key_file.to_str().unwrap(), "--policy", policy.to_str().unwrap()]);
    let codes = plan_with(&db, &Keys::load(&hub.data()).unwrap(), "inst-t").await;
    // =2004 has no accommodation and used read-aloud, which the instrument
    // grants, and the spell-check, which nothing grants him. 2001 (planned
    // with the spell-check) checked item 4, and item 10, where the
    // instrument switched it off. The kiosk refuses the last two: a journal
    // that has them is evidence of a changed PC.
    let spoken = ("kiosk.read_aloud", json!({"audio_ms": 5200, "chars": 98, "rate": 165, "words": 17}));
    let spelled = |item: &str, count: u64| ("tools.spell_check_used", json!({"item": item, "kind": "nl", "count": count}));
    for (n, (student, events)) in [("=2004", vec![spoken, spelled("ITM-v04", 1)]), ("2001", vec![spelled("ITM-v04", 1), spelled("ITM-v10", 1)])].into_iter().enumerate() {
        let mut pc = enrol_named(&hub, &format!("lokaal-pc-2{n}")).await;
        pc.login_ok(student, &codes[student]).await;
        upload(&pc, &journal(&hub.path(&format!("journal-t{n}")), &pc.device_pkcs8, &events)).await;
        assert_eq!(pc.post(paths::ANSWERS, &snapshot(SITTING, 1, true, json!({"ITM-v01": {"RESPONSE": "B"}}))).await.status(), 200);
    }

    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    assert!(pv.irregularities.iter().all(|i| i.category != "voorlezen zonder toekenning"), "{:?}", pv.irregularities);
    let spelling: Vec<_> = pv.irregularities.iter().filter(|i| i.category == "spellingcontrole zonder toekenning").map(|i| (i.student.clone().unwrap(), i.description.clone())).collect();
    assert_eq!(spelling.len(), 2, "{spelling:?}");
    assert!(spelling.iter().any(|(s, d)| s == "=2004" && d.starts_with("spellingcontrole gebruikt bij vraag ITM-v04 zonder toekenning in de planning of het examen (1 keer")), "{spelling:?}");
    assert!(spelling.iter().any(|(s, d)| s == "2001" && d.starts_with("spellingcontrole gebruikt bij vraag ITM-v10, waar het examen de spellingcontrole uitzet (1 keer")), "{spelling:?}");
    assert_eq!(pv.instrument_tools.as_deref(), Some("voorlezen voor iedereen; spellingcontrole uit bij ITM-v10"));
    let html = pv.to_html();
    assert!(!html.contains("voorlezen gebruikt zonder toekenning"), "no read-aloud flag: the instrument grants it");
    assert!(html.contains("Hulpmiddelen examen") && html.contains("voorlezen voor iedereen; spellingcontrole uit bij ITM-v10"));
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-shots");
    std::fs::create_dir_all(&shots).unwrap();
    let pdf_path = shots.join(format!("pv-instrument-tools-{}.pdf", if hub.database.is_some() { "postgres" } else { "sqlite" }));
    std::fs::write(&pdf_path, pv.to_pdf().into_bytes()).unwrap();
    let flat = text_without_whitespace(&pdf_text(&pdf_path));
    assert!(flat.contains("Hulpmiddelenexamen:voorlezenvooriedereen;spellingcontroleuitbijITM-v10"), "{flat}");

    // The package's header cannot be read (here: damaged in the database):
    // the document says the grant is unknown and that it could not check
    // the read-aloud, instead of "geen" and a tampering flag.
    sqlx::query("UPDATE instruments SET data = $1 WHERE instrument_id = 'inst-t'").bind(b"not a package".to_vec()).execute(&db.pool).await.unwrap();
    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    assert_eq!(pv.instrument_tools.as_deref(), Some("niet bekend: de kop van het instrumentpakket is niet te lezen"));
    assert!(pv.irregularities.iter().all(|i| !i.category.ends_with("zonder toekenning")), "nothing accused when unknown: {:?}", pv.irregularities);
    let read_aloud: Vec<_> = pv.irregularities.iter().filter(|i| i.category == "voorlezen niet na te gaan").collect();
    assert_eq!(read_aloud.len(), 1, "{:?}", pv.irregularities);
    assert!(pv.irregularities.iter().any(|i| i.category == "spellingcontrole niet na te gaan" && i.student.as_deref() == Some("=2004")), "{:?}", pv.irregularities);
    assert!(read_aloud[0].description.contains("niet na te gaan") && !read_aloud[0].description.contains("gewijzigd"), "{}", read_aloud[0].description);
    assert!(!pv.to_html().contains("<p class=\"fout\">Kandidaat =2004"), "no flag above the table when unknown");
}
on_both_backends!(the_instruments_own_tools_are_in_the_proces_verbaal);

/// Scoring data with an item the hub cannot score: ITM-4 is an essay (no
/// response processing), for which the data gives `max_score` 4.
fn scoring_with_essay_json() -> String {
    const MC: &str = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml";
    const MR: &str = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml";
    json!({"items": [
        {"ref_identifier": "ITM-1", "identifier": "q1", "weights": {}, "processing": {"kind": "template", "uri": MC},
         "responses": [{"identifier": "RESPONSE", "cardinality": "single", "base_type": "identifier", "correct": ["B"]}]},
        {"ref_identifier": "ITM-2", "identifier": "q2", "weights": {}, "processing": {"kind": "template", "uri": MR},
         "responses": [{"identifier": "RESPONSE", "cardinality": "multiple", "base_type": "identifier", "correct": ["A", "C"],
           "mapping": {"default_value": 0.0, "upper_bound": 2.0, "entries": [
             {"key": "A", "value": 1.0, "case_sensitive": true}, {"key": "C", "value": 1.5, "case_sensitive": true}]}}]},
        {"ref_identifier": "ITM-4", "identifier": "v04", "weights": {}, "processing": {"kind": "none"}, "max_score": 4,
         "responses": [{"identifier": "RESPONSE", "cardinality": "single", "base_type": "string"}]}
    ]})
    .to_string()
}

/// The results CSV, by student number (the header checked).
fn results_rows(hub: &TestHub, name: &str) -> HashMap<String, Vec<String>> {
    let path = hub.path(name);
    hub.cli_ok(&["report", "results", "--sitting", SITTING, "--out", path.to_str().unwrap()]);
    let raw = std::fs::read_to_string(&path).unwrap();
    let mut reader = csv::Reader::from_reader(raw.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["studentnummer", "examencode", "examen", "datum", "score", "score_voorlopig", "maximum", "beoordeling", "nog_te_beoordelen", "status"]
    );
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>()).map(|r| (r[0].clone(), r)).collect()
}

/// Issue 17, results: `examencode` held the exam's name, and one open
/// (hand-scored) item made the whole test unscored (`resultaat=ingeleverd`
/// for everyone), with no maximum and no way to score the item. Now: the
/// planning's exam code, the raw score of what the hub can score, the
/// test's maximum, which items wait for a person — and a hand score, by an
/// administrator only, journalled, after which the score is final.
async fn results_the_sis_can_take(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    let keys = Keys::load(&hub.data()).unwrap();
    let start = (time::OffsetDateTime::now_utc() - time::Duration::minutes(5)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let csv = format!(
        "student_number;student_name;sitting;exam;exam_code;instrument;room;start;duration_minutes\n\
         3001;Ömer Yılmaz;{SITTING};Verkoop niveau 2;VK2-KT1;inst-a;{ROOM};{start};90\n\
         3002;Eline van der Berg-de Vries;{SITTING};Verkoop niveau 2;VK2-KT1;inst-a;{ROOM};{start};90\n\
         3003;Sem Afwezig;{SITTING};Verkoop niveau 2;VK2-KT1;inst-a;{ROOM};{start};90\n"
    );
    let summary = exam_hub::planning::import_planning(&db, &keys, &csv, "vk2.csv", false).await.unwrap();
    assert!(summary.without_exam_code.is_empty(), "{:?}", summary.without_exam_code);
    let codes: HashMap<String, String> = summary.codes.into_iter().map(|c| (c.student_number, c.code)).collect();
    let scoring = hub.path("scoring.json");
    std::fs::write(&scoring, scoring_with_essay_json()).unwrap();
    hub.cli_ok(&["import", "scoring", scoring.to_str().unwrap(), "--id", "inst-a"]);

    let mut a = hub.enrol(ROOM).await;
    let mut b = hub.enrol(ROOM).await;
    a.login_ok("3001", &codes["3001"]).await;
    b.login_ok("3002", &codes["3002"]).await;
    hub.cli_ok(&["start", "--sitting", SITTING]);
    const ESSAY: &str = "Ik bied mijn excuses aan en ruil de waterkoker om.";
    let handed_in = json!({"ITM-1": {"RESPONSE": "B"}, "ITM-2": {"RESPONSE": ["A"]}, "ITM-4": {"RESPONSE": ESSAY}});
    assert_eq!(a.post(paths::ANSWERS, &snapshot(SITTING, 1, true, handed_in)).await.status(), 200);
    assert_eq!(b.post(paths::ANSWERS, &snapshot(SITTING, 1, false, json!({"ITM-1": {"RESPONSE": "A"}}))).await.status(), 200);

    // What can be scored is; the essay waits for a person (before: the whole test unscored).
    let rows = results_rows(&hub, "results-1.csv");
    let date = rows["3001"][3].clone();
    // While an item waits, the partial sum is only in score_voorlopig: an SIS that takes `score` takes no partial sum.
    let row = |n: &str, score: &str, assessment: &str, pending: &str, status: &str| {
        let (score, provisional) = if pending.is_empty() { (score, "") } else { ("", score) };
        let date = date.clone();
        vec![n.to_string(), "VK2-KT1".into(), "Verkoop niveau 2".into(), date, score.into(), provisional.into(), "7".into(), assessment.into(), pending.into(), status.into()]
    };
    assert_eq!(rows["3001"], row("3001", "2", "voorlopig", "ITM-4", "ingeleverd"), "1 + 1 of 1 + 2 + 4");
    assert_eq!(rows["3002"], row("3002", "0", "voorlopig", "ITM-4", "niet ingeleverd"));
    assert_eq!(rows["3003"], row("3003", "", "", "", "afwezig"));
    // The QTI result says the essay is not final yet.
    let qti = hub.path("qti");
    hub.cli_ok(&["report", "results", "--sitting", SITTING, "--out", hub.path("r.csv").to_str().unwrap(), "--qti", qti.to_str().unwrap()]);
    let xml = std::fs::read_to_string(qti.join("result-3001.xml")).unwrap();
    assert!(xml.contains("<itemResult identifier=\"ITM-4\" sequenceIndex=\"3\"") && xml.contains("sessionStatus=\"pendingResponseProcessing\""), "{xml}");
    assert_eq!(xml.matches("sessionStatus=\"final\"").count(), 2, "{xml}");
    let test_result = &xml[xml.find("<testResult").unwrap()..xml.find("</testResult>").unwrap()];
    assert!(!test_result.contains("\"SCORE\"") && test_result.contains("\"MAXSCORE\""), "no test SCORE while an item waits for a person: {xml}");

    // The exam office lists what waits, with the answer to read.
    let pending = hub.cli_ok(&["score", "pending", "--sitting", SITTING]);
    assert!(pending.contains("3001  ITM-4  (at most 4)") && pending.contains(ESSAY), "{pending}");
    assert!(pending.contains("3002  ITM-4") && pending.contains("(no answer)"), "{pending}");
    assert!(pending.contains("3001  ITM-4  (at most 4)\n    why a person scores it: geen responsverwerking\n"), "{pending}");

    // Who may score, and what.
    use exam_hub::accounts::{self, Role};
    accounts::add(&db, "bureau", "Mevr. Bakker (examenbureau)", Role::Admin, &[], "examenbureau-wachtwoord-2026").await.unwrap();
    accounts::add(&db, "wit", "Mevr. de Wit", Role::Invigilator, &[ROOM.to_string()], "surveillant-wachtwoord-2026").await.unwrap();
    let set = |student: &str, item: &str, points: &str, by: &str| {
        hub.cli(&["score", "set", "--sitting", SITTING, "--student", student, "--item", item, "--points", points, "--by", by])
    };
    for (student, item, points, by, says) in [
        ("3001", "ITM-4", "3", "wit", "only an administrator"),
        ("3001", "ITM-4", "3", "nobody", "no console account"),
        ("3001", "ITM-4", "5", "bureau", "item ITM-4 has at most 4"),
        ("3001", "ITM-4", "-1", "bureau", "give a number from 0"),
        ("3001", "ITM-1", "1", "bureau", "scored by the hub itself"),
        ("3001", "ITM-9", "1", "bureau", "has no item \"ITM-9\""),
        ("3003", "ITM-4", "1", "bureau", "nothing to score"),
        ("9999", "ITM-4", "1", "bureau", "not planned"),
    ] {
        let out = set(student, item, points, by);
        assert_eq!(out.status.code(), Some(2), "{student} {item} {points} {by} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{says:?}: {err}");
    }
    assert!(results_rows(&hub, "results-2.csv")["3001"][8] == "ITM-4", "refusals store nothing");
    let out = set("3001", "ITM-4", "3", "bureau");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("3001 ITM-4: 3 of 4 points") && said.contains("score 5 of 7: final"), "{said}");
    let rows = results_rows(&hub, "results-3.csv");
    assert_eq!(rows["3001"], row("3001", "5", "definitief", "", "ingeleverd"));
    assert_eq!(rows["3002"], row("3002", "0", "voorlopig", "ITM-4", "niet ingeleverd"), "3002's essay still waits");
    // A second score replaces the first; both are in the hub's journal of actions, by name.
    let out = set("3001", "ITM-4", "2.5", "bureau");
    assert!(String::from_utf8_lossy(&out.stdout).contains("(was 3 by Mevr. Bakker (examenbureau))"));
    assert_eq!(results_rows(&hub, "results-4.csv")["3001"][4], "4.5");
    let journalled = journalled_actions(&db, SITTING, "3001", reports::HAND_SCORE_ACTION).await;
    assert_eq!(journalled.len(), 2, "{journalled:?}");
    assert_eq!(journalled[0], ("bureau".into(), "Mevr. Bakker (examenbureau)".into(), "ITM-4: 3 punt(en) van 4, antwoorden van opslag 1".into()));
    assert!(journalled[1].2.ends_with("(was 3 door Mevr. Bakker (examenbureau))"), "{journalled:?}");
    // A score is for the answers it was given for: when those that count change, the item waits again.
    assert!(set("3002", "ITM-4", "0", "bureau").status.success());
    assert_eq!(results_rows(&hub, "results-5.csv")["3002"], row("3002", "0", "definitief", "", "niet ingeleverd"));
    let later = json!({"ITM-1": {"RESPONSE": "B"}, "ITM-4": {"RESPONSE": "Toch nog een antwoord."}});
    assert_eq!(b.post(paths::ANSWERS, &snapshot(SITTING, 2, false, later)).await.status(), 200);
    assert_eq!(results_rows(&hub, "results-6.csv")["3002"], row("3002", "1", "voorlopig", "ITM-4", "niet ingeleverd"));
    // The proces-verbaal is not about scores: a hand score is no irregularity of the sitting.
    let pv = reports::proces_verbaal(&db, SITTING).await.unwrap();
    // It names the exam by its code too (issue 17; it gave only the name).
    assert_eq!(pv.exam_code.as_deref(), Some("VK2-KT1"));
    assert!(pv.to_html().contains("VK2-KT1"), "the proces-verbaal names the exam code");
    assert!(pv.irregularities.iter().all(|i| !i.description.contains("ITM-4")), "{:?}", pv.irregularities);
}
on_both_backends!(results_the_sis_can_take);

/// Issue 18: an item with its own response processing is scored by the
/// hub; when its rules fail on one student's answer (here a single value
/// matched against a container: an error in QTI), that item waits for a
/// person for that student only — never a silent 0 — and the exam office
/// may score it by hand, which it may not for a student the hub scored.
async fn rules_that_fail_on_an_answer_leave_it_to_a_person(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let db = open_db(&hub).await;
    let keys = Keys::load(&hub.data()).unwrap();
    let start = (time::OffsetDateTime::now_utc() - time::Duration::minutes(5)).format(&time::format_description::well_known::Rfc3339).unwrap();
    let csv = format!(
        "student_number;student_name;sitting;exam;exam_code;instrument;room;start;duration_minutes\n\
         3001;Ömer Yılmaz;{SITTING};Verkoop niveau 2;VK2-KT1;inst-a;{ROOM};{start};90\n\
         3002;Eline van der Berg-de Vries;{SITTING};Verkoop niveau 2;VK2-KT1;inst-a;{ROOM};{start};90\n"
    );
    let summary = exam_hub::planning::import_planning(&db, &keys, &csv, "vk2.csv", false).await.unwrap();
    let codes: HashMap<String, String> = summary.codes.into_iter().map(|c| (c.student_number, c.code)).collect();
    let bv = |t: &str, v: &str| json!({"op": "base-value", "base_type": t, "value": v});
    let var = json!({"op": "variable", "identifier": "RESPONSE"});
    // SCORE = 2 when RESPONSE is B; RESPONSE matched against (A) — a container — when it is C.
    let when = |value: serde_json::Value, then: f64| json!({"when": value, "rules": [{"rule": "set-outcome", "identifier": "SCORE", "value": bv("float", &then.to_string())}]});
    let rules = json!([{"rule": "condition", "branches": [
        when(json!({"op": "match", "args": [var, bv("identifier", "B")]}), 2.0),
        when(json!({"op": "and", "args": [
            json!({"op": "match", "args": [var, bv("identifier", "C")]}),
            json!({"op": "match", "args": [var, {"op": "multiple", "args": [bv("identifier", "A")]}]})]}), 1.0)
    ]}]);
    let scoring = json!({"items": [{"ref_identifier": "ITM-1", "identifier": "q1", "weights": {},
        "responses": [{"identifier": "RESPONSE", "cardinality": "single", "base_type": "identifier", "correct": ["B"]}],
        "outcomes": [{"identifier": "SCORE", "cardinality": "single", "base_type": "float"},
                     {"identifier": "MAXSCORE", "cardinality": "single", "base_type": "float", "default": ["2"]}],
        "processing": {"kind": "custom", "rules": rules}}]});
    let path = hub.path("scoring.json");
    std::fs::write(&path, scoring.to_string()).unwrap();
    hub.cli_ok(&["import", "scoring", path.to_str().unwrap(), "--id", "inst-a"]);

    let mut a = hub.enrol(ROOM).await;
    let mut b = hub.enrol(ROOM).await;
    a.login_ok("3001", &codes["3001"]).await;
    b.login_ok("3002", &codes["3002"]).await;
    hub.cli_ok(&["start", "--sitting", SITTING]);
    assert_eq!(a.post(paths::ANSWERS, &snapshot(SITTING, 1, true, json!({"ITM-1": {"RESPONSE": "B"}}))).await.status(), 200);
    assert_eq!(b.post(paths::ANSWERS, &snapshot(SITTING, 1, true, json!({"ITM-1": {"RESPONSE": "C"}}))).await.status(), 200);
    let rows = results_rows(&hub, "results-1.csv");
    assert_eq!((rows["3001"][4].as_str(), rows["3001"][6].as_str(), rows["3001"][7].as_str()), ("2", "2", "definitief"), "{:?}", rows["3001"]);
    assert_eq!((rows["3002"][4].as_str(), rows["3002"][5].as_str(), rows["3002"][8].as_str()), ("", "0", "ITM-1"), "{:?}", rows["3002"]);
    let pending = hub.cli_ok(&["score", "pending", "--sitting", SITTING]);
    assert!(pending.contains("3002  ITM-1  (at most 2)\n    why a person scores it: qti-match vergelijkt waarden van verschillende cardinaliteit"), "{pending}");
    assert!(!pending.contains("3001"), "{pending}");

    use exam_hub::accounts::{self, Role};
    accounts::add(&db, "bureau", "Mevr. Bakker (examenbureau)", Role::Admin, &[], "examenbureau-wachtwoord-2026").await.unwrap();
    let set = |student: &str, points: &str| hub.cli(&["score", "set", "--sitting", SITTING, "--student", student, "--item", "ITM-1", "--points", points, "--by", "bureau"]);
    let refused = set("3001", "1");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("scored by the hub itself"), "{refused:?}");
    let out = set("3002", "1");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = results_rows(&hub, "results-2.csv");
    assert_eq!((rows["3002"][4].as_str(), rows["3002"][7].as_str(), rows["3002"][8].as_str()), ("1", "definitief", ""), "{:?}", rows["3002"]);
}
on_both_backends!(rules_that_fail_on_an_answer_leave_it_to_a_person);

/// Issue 17: the access codes came as one English list; the exam office
/// needs one Dutch slip per student, with the accommodations granted. The
/// slips are read back with pdftotext: names as written (Ö, ı, a hyphenated
/// double surname on one line), date and time in Dutch local time (summer
/// time here: 07:00 UTC is 09:00), the code, the accommodations in Dutch.
async fn code_slips_in_dutch(backend: Backend) {
    let Some(hub) = TestHub::start(backend).await else { return };
    let mut csv = String::from("student_number,student_name,sitting,exam,exam_code,instrument,room,start,duration_minutes,extra_minutes,tools,text_size,contrast\n");
    let mut names = vec![("4001", "Ömer Yılmaz"), ("4002", "Eline van der Berg-de Vries")];
    let more = ["Anouk Jansen", "Bram de Jong", "Chaimae El Idrissi", "Daan Visser", "Emma Smit", "Fleur Meijer", "Gijs Mulder", "Hatice Öztürk"];
    let numbers: Vec<String> = (3..=10).map(|i| format!("40{i:02}")).collect();
    names.extend(numbers.iter().map(String::as_str).zip(more));
    for (number, name) in &names {
        let (extra, tools, size, contrast) = match *number {
            "4001" => ("30", "read-aloud;spell-check", "large", ""),
            "4002" => ("", "", "", "high"),
            _ => ("", "", "", ""),
        };
        csv.push_str(&format!("{number},{name},VK2,Verkoop niveau 2,VK2-KT1,inst-a,B1.12,2027-06-14T07:00:00Z,90,{extra},{tools},{size},{contrast}\n"));
    }
    std::fs::write(hub.path("vk2.csv"), csv).unwrap();
    let (pdf, list) = (hub.path("slips.pdf"), hub.path("vk2-codes.txt"));
    let planning = hub.path("vk2.csv");
    hub.cli_ok(&["import", "planning", planning.to_str().unwrap(), "--codes-pdf", pdf.to_str().unwrap(), "--codes-out", list.to_str().unwrap()]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&pdf).unwrap().permissions().mode() & 0o777, 0o600, "private, like the list");
    }
    let codes: HashMap<String, String> = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("   ") && !l.trim_start().starts_with('('))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words[0].to_string(), words.last().unwrap().to_string())
        })
        .collect();
    assert_eq!(codes.len(), 10);
    // The list is the exam office's too: Dutch, with the local date and time
    // (issue 17: it was English, with the start in UTC).
    let listed = std::fs::read_to_string(&list).unwrap();
    assert!(
        listed.contains("== Zitting VK2 — Verkoop niveau 2 — lokaal B1.12 — maandag 14 juni 2027 om 09:00\n")
            && listed.contains("(eenmalige toegangscodes: geef elke student alleen de eigen code)")
            && listed.contains("Ömer Yılmaz"),
        "{listed}"
    );
    let text = pdf_text(&pdf);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for (number, name) in &names {
        assert!(lines.contains(name), "{name} whole on a line: {text}");
        assert!(lines.iter().any(|l| l.ends_with(&format!("Studentnummer {number}")) || *l == format!("Studentnummer {number}")), "{number}: {text}");
        assert!(lines.contains(&codes[*number].as_str()), "the code of {number} on its own line: {text}");
    }
    // Wrapped lines joined: a value may take two lines of its slip.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "Examen Verkoop niveau 2 (VK2-KT1)",
        "Lokaal B1.12",
        "Zitting VK2",
        "Datum maandag 14 juni 2027",
        "Tijd 09:00 tot 10:30",
        "Voorzieningen 30 minuten extra tijd (tot 11:00), voorleessoftware, spellingcontrole, grote letters",
        "Voorzieningen hoog contrast",
        "Voorzieningen geen",
        "Toegangscode",
        "Log op de examen-pc in met je studentnummer en deze toegangscode.",
    ] {
        assert!(flat.contains(needle), "the slips lack {needle:?}: {text}");
    }
    assert!(!text.contains("UTC") && !text.contains("07:00") && !text.contains('?'), "{text}");
    let info = String::from_utf8(Command::new("pdfinfo").arg(&pdf).output().unwrap().stdout).unwrap();
    assert!(info.lines().any(|l| l.starts_with("Pages:") && l.ends_with(" 2")), "10 slips, 8 a sheet: {info}");
    let fonts = String::from_utf8(Command::new("pdffonts").arg(&pdf).output().unwrap().stdout).unwrap();
    assert!(fonts.contains("DejaVuSansMono") && fonts.contains("DejaVuSans "), "the code in a monospace font: {fonts}");
    // For the eye: pdftoppm -png -r 60 target/report-shots/code-slips-*.pdf
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-shots");
    std::fs::create_dir_all(&shots).unwrap();
    std::fs::copy(&pdf, shots.join(format!("code-slips-{}.pdf", if hub.database.is_some() { "postgres" } else { "sqlite" }))).unwrap();
    // Imported again: no new codes, so no (empty) sheet of slips.
    let none = hub.path("none.pdf");
    let out = hub.cli(&["import", "planning", planning.to_str().unwrap(), "--codes-pdf", none.to_str().unwrap()]);
    assert!(out.status.success() && !none.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no new access codes, so no code slips"));
    // A file that exists is never overwritten, and then nothing is imported or changed.
    let again = hub.cli(&["reissue-codes", "--sitting", "VK2", "--student", "4001", "--pdf", pdf.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
    // A reissued code gets its slip too.
    let one = hub.path("4001.pdf");
    hub.cli_ok(&["reissue-codes", "--sitting", "VK2", "--student", "4001", "--pdf", one.to_str().unwrap()]);
    let text = pdf_text(&one);
    assert!(text.contains("Ömer Yılmaz") && !text.contains(&codes["4001"]) && !text.contains("Eline"), "{text}");
    // Slips that cannot be written (a folder that is not there) lose no
    // code: the reissue has voided the old one, so the new one is printed
    // (before, the command failed with nothing printed and the student had
    // no code that worked).
    let nowhere = hub.path("no-such-folder/4002.pdf");
    let failed = hub.cli(&["reissue-codes", "--sitting", "VK2", "--student", "4002", "--pdf", nowhere.to_str().unwrap()]);
    assert!(!failed.status.success());
    let said = String::from_utf8_lossy(&failed.stderr);
    assert!(said.contains("printed above") && said.contains("no-such-folder"), "{said}");
    let printed = String::from_utf8_lossy(&failed.stdout);
    let line = printed.lines().find(|l| l.trim_start().starts_with("4002")).unwrap_or_else(|| panic!("the new code of 4002 is printed: {printed}"));
    let new_code = line.split_whitespace().last().unwrap();
    assert_ne!(new_code, codes["4002"], "a new code: {printed}");
}
on_both_backends!(code_slips_in_dutch);
