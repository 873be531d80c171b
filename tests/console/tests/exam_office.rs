//! The exam office's archive in real headless Chromium (issue 17: "the exam
//! office sees only sittings within ±18 h"): the admin goes from the rooms
//! page to the archive, finds a sitting of three weeks ago by its period,
//! downloads its proces-verbaal (a PDF, with its seal), searches a student
//! by part of the name without the accent, and an invigilator reaches
//! neither the page nor its API; axe-core on the page, a screenshot at
//! 1366×768.
#![allow(missing_docs)]

use exam_console_tests::browser::{self, Browser};
use exam_console_tests::*;

const PAST: &str = "P-OLD";
const NEXT: &str = "P-NEXT";

fn utc(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).expect("formattable")
}

/// Plans a sitting three weeks ago in [`ROOM`] (with Ömer Yılmaz) and one
/// next month in [`OTHER_ROOM`]; returns the past sitting's date (UTC date,
/// the same day in Amsterdam at 10:00 UTC).
fn plan_past_and_next(hub: &ConsoleHub) -> String {
    let today = time::OffsetDateTime::now_utc().replace_time(time::Time::from_hms(10, 0, 0).expect("a time"));
    let past = today - time::Duration::days(21);
    let next = today + time::Duration::days(31);
    let csv = format!(
        "student_number,student_name,sitting,exam,exam_code,instrument,room,start,duration_minutes\n\
         1001,Anna de Vries,{PAST},Verkoop niveau 2,VK2-KT1,rekenen-2f,{ROOM},{p},90\n\
         4005,Ömer Yılmaz,{PAST},Verkoop niveau 2,VK2-KT1,rekenen-2f,{ROOM},{p},90\n\
         4006,Eline van der Berg-de Vries,{PAST},Verkoop niveau 2,VK2-KT1,rekenen-2f,{ROOM},{p},90\n\
         4005,Ömer Yılmaz,{NEXT},Engels B1,ENG-B1,rekenen-2f,{OTHER_ROOM},{n},60\n",
        p = utc(past),
        n = utc(next)
    );
    let file = hub.path("archive.csv");
    std::fs::write(&file, csv).expect("write planning");
    let codes = hub.path("archive-codes.txt");
    hub.cli(&["import", "planning", file.to_str().expect("utf-8"), "--codes-out", codes.to_str().expect("utf-8")]);
    past.date().to_string()
}

fn rows_are(ids: &[&str]) -> String {
    let want: Vec<String> = ids.iter().map(|i| format!("'{i}'")).collect();
    format!("JSON.stringify([...document.querySelectorAll('#rows tr[data-sitting]')].map((r) => r.dataset.sitting)) === JSON.stringify([{}])", want.join(","))
}

async fn exam_office_archive(hub: ConsoleHub) {
    let past_day = plan_past_and_next(&hub);
    let b = Browser::start(&hub).await;
    b.session.set_window_size(1366, 768).await.expect("laptop size");

    // From the rooms page to the archive: every sitting, newest first.
    b.sign_in("admin", PASSWORD).await;
    b.wait("#archive-link").await;
    b.assert_accessible("rooms-admin").await;
    b.shoot("rooms-admin-1366x768").await;
    b.click("#archive-link").await;
    b.wait_until("the archive", &format!("document.body.dataset.ready === 'true' && {}", rows_are(&[NEXT, LATER_SITTING, OTHER_SITTING, SITTING, PAST]))).await;
    b.assert_accessible("archive").await;
    b.shoot("archive-1366x768").await;

    // The sitting of three weeks ago, by its day.
    b.eval(&format!("(document.getElementById('from').value = '{past_day}', document.getElementById('to').value = '{past_day}')")).await;
    b.click("#search").await;
    b.wait_until("only the past sitting", &rows_are(&[PAST])).await;
    let row = b.session.text_of(&format!("#rows tr[data-sitting='{PAST}']")).await.expect("row text");
    for text in ["Verkoop niveau 2", "VK2-KT1", ROOM] {
        assert!(row.contains(text), "{text:?} in {row:?}");
    }
    assert!(!row.contains("nog niet begonnen"), "a sitting of three weeks ago has started: {row}");

    // Its proces-verbaal from the archive's own link: a PDF, and its seal.
    let href = b.eval(&format!("document.querySelector(\"#rows tr[data-sitting='{PAST}'] a[data-download='pv-pdf']\").getAttribute('href')")).await;
    let href = href.as_str().expect("a link").to_string();
    let (status, headers, body) = b.fetch(&href).await;
    assert_eq!(status, 200, "{href}");
    assert_eq!(headers["content-type"], "application/pdf");
    assert!(body.starts_with(b"%PDF-"), "not a PDF: {:?}", &body[..body.len().min(16)]);
    let sig = b.eval(&format!("document.querySelector(\"#rows tr[data-sitting='{PAST}'] a[data-download='pv-pdf-sig']\").getAttribute('href')")).await;
    let (status, _, seal) = b.fetch(sig.as_str().expect("a seal link")).await;
    assert_eq!(status, 200);
    exam_hub::reports::Seal::parse(&String::from_utf8_lossy(&seal)).expect("the seal of the PDF just downloaded");

    // A student, by part of the name and without the accent.
    b.click("#clear").await;
    b.wait_until("everything again", &rows_are(&[NEXT, LATER_SITTING, OTHER_SITTING, SITTING, PAST])).await;
    b.type_into("#student", "omer").await;
    b.click("#search").await;
    b.wait_until("Ömer's sittings", &rows_are(&[NEXT, PAST])).await;
    b.wait_until("the student column", "!document.getElementById('student-column').hidden").await;
    let past_row = b.session.text_of(&format!("#rows tr[data-sitting='{PAST}']")).await.expect("row text");
    assert!(past_row.contains("Ömer Yılmaz (4005)") && past_row.contains("Afwezig"), "{past_row}");
    let next_row = b.session.text_of(&format!("#rows tr[data-sitting='{NEXT}']")).await.expect("row text");
    assert!(next_row.contains("Gepland") && next_row.contains("ENG-B1"), "{next_row}");
    b.assert_accessible("archive-student").await;
    b.shoot("archive-student-1366x768").await;

    // The remarks of a sitting open under it.
    b.click(&format!("#rows tr[data-sitting='{PAST}'] button[aria-expanded]")).await;
    b.wait_until("the remarks", &format!("document.querySelector('.remarks-row')?.textContent.includes('Geen opmerkingen bij zitting {PAST}')")).await;

    // An invigilator: no link, no page, no API.
    b.click("#logout").await;
    b.wait_until("signed out", "location.pathname === '/console/'").await;
    b.sign_in("j.jansen", PASSWORD).await;
    b.wait_until("the invigilator's room", "location.pathname === '/console/room.html'").await;
    assert_eq!(b.eval("document.getElementById('archive-link') === null").await, serde_json::Value::Bool(true));
    for path in ["/console/api/archive", "/console/api/archive?student=omer", "/console/api/archive/rooms"] {
        let (status, _, body) = b.fetch(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(String::from_utf8_lossy(&body).contains("admin_only"), "{path}");
    }
    b.open("/console/archive.html").await;
    b.wait_until("the refusal", "document.getElementById('error').textContent.includes('alleen voor het examenbureau')").await;
    assert_eq!(b.eval("document.getElementById('filter').hidden && document.querySelectorAll('#rows tr').length === 0").await, serde_json::Value::Bool(true));
    b.shoot("archive-invigilator-refused").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exam_office_finds_sittings_and_students_sqlite() {
    browser::tools().unwrap_or_else(|why| panic!("{why}"));
    require(&exam_hub_bin());
    exam_office_archive(ConsoleHub::start(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exam_office_finds_sittings_and_students_postgres() {
    browser::tools().unwrap_or_else(|why| panic!("{why}"));
    require(&exam_hub_bin());
    let Some(database) = postgres_database().await else {
        eprintln!("{POSTGRES_ENV} is not set: PostgreSQL variant not run here (cargo xtask test runs it)");
        return;
    };
    exam_office_archive(ConsoleHub::start_on(3, Some(database))).await;
}
