//! Benchmark of the proces-verbaal: a 300-seat sitting with realistic
//! records per seat, generated (records read, document built, HTML, PDF,
//! both sealed) several times. Run it with `cargo xtask bench pv`; the goal
//! is ≤ 2 s per proces-verbaal.
//!
//! Set-up goes through the hub's own code where it exists: the planning
//! import, journal ingest (every record of every device verified and stored
//! as an upload would be), instructions. Sessions and answer saves are rows
//! as the API writes them (the API needs a TLS client per seat; `bench hub`
//! measures that path).
#![allow(missing_docs)]

use anyhow::{bail, Context as _};
use exam_hub::db::Db;
use exam_hub::journal::DeviceRef;
use exam_hub::pki::Keys;
use exam_hub::reports;
use exam_protocol::{InstructionKind, JournalBatch};
use serde_json::json;
use std::time::{Duration, Instant};

struct Args {
    database: Option<String>,
    seats: usize,
    routine_events: usize,
    saves: usize,
    runs: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args { database: None, seats: 300, routine_events: 250, saves: 60, runs: 5 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().context("missing value");
        match a.as_str() {
            "--database" => args.database = Some(value()?),
            "--seats" => args.seats = value()?.parse()?,
            "--events" => args.routine_events = value()?.parse()?,
            "--saves" => args.saves = value()?.parse()?,
            "--runs" => args.runs = value()?.parse()?,
            other => bail!("unknown argument {other}; use [--database postgres://...] [--seats N] [--events N] [--saves N] [--runs N]"),
        }
    }
    Ok(args)
}

/// The events of one seat's journal: the startup, the exam with routine
/// acknowledgements, and for some seats a process ended, a lock and unlock,
/// a network outage, extra time.
fn seat_events(seat: usize, routine: usize) -> Vec<exam_journal::Event> {
    let e = |kind: &str, payload: serde_json::Value| exam_journal::Event::new(kind, &payload).expect("event");
    let mut out = vec![
        e("environment.checked", json!({"findings": [
            {"check": "virtual_machine", "detected": seat.is_multiple_of(50), "evidence": if seat.is_multiple_of(50) { vec!["QEMU"] } else { vec![] }, "action": "warn"},
            {"check": "remote_session", "detected": false, "evidence": [], "action": "allow"}], "action": "allow"})),
        e("location.approved", json!({"location": "B2.14"})),
        e("session.transition", json!({"from": "login", "to": "assignment", "cause": {"trigger": "logged_in", "student": format!("{seat}"), "sitting": "BENCH"}})),
        e("session.transition", json!({"from": "assignment", "to": "download", "cause": {"trigger": "assignment_confirmed"}})),
        e("instrument.downloaded", json!({"bytes": 5_000_000})),
        e("session.transition", json!({"from": "waiting_for_start", "to": "in_exam", "cause": {"trigger": "exam_started"}})),
    ];
    for i in 0..routine {
        out.push(e("answers.acknowledged", json!({"seq": i, "receipt": "AB12-CD34"})));
        if i == routine / 3 && seat.is_multiple_of(10) {
            out.push(e("guard.process_ended", json!({"pid": 4000 + seat, "name": "firefox-esr", "rule": "deny:browser", "detected_by": "exec", "outcome": {"ended": {}}, "handling_us": 800})));
            out.push(e("session.transition", json!({"from": "in_exam", "to": "locked", "cause": {"trigger": "lock", "reason": "proces beëindigd"}})));
            out.push(e("session.transition", json!({"from": "locked", "to": "in_exam", "cause": {"trigger": "unlock", "by": "Mevr. de Wit", "reason": "browser per ongeluk gestart"}})));
        }
        if i == routine / 2 && seat.is_multiple_of(7) {
            out.push(e("sync.offline", json!({})));
        }
        if i == routine / 2 + 20 && seat.is_multiple_of(7) {
            out.push(e("sync.online", json!({})));
        }
    }
    if seat.is_multiple_of(20) {
        out.push(e("session.time_added", json!({"seconds": 600, "reason": "storing"})));
    }
    out.push(e("session.transition", json!({"from": "in_exam", "to": "submitted", "cause": {"trigger": "submitted", "receipt": "AB12-CD34"}})));
    out
}

async fn seed(db: &Db, keys: &Keys, dir: &std::path::Path, args: &Args) -> anyhow::Result<()> {
    let start = time::OffsetDateTime::now_utc() - time::Duration::minutes(30);
    let start = start.format(&time::format_description::well_known::Rfc3339)?;
    let mut csv = String::from("student_number,student_name,sitting,exam,instrument,room,start,duration_minutes,extra_minutes\n");
    for seat in 0..args.seats {
        csv.push_str(&format!("{},Student {seat} van der Berg,BENCH,Rekenen 2F,inst,B2.14,{start},90,{}\n", 100_000 + seat, if seat.is_multiple_of(8) { 30 } else { 0 }));
    }
    exam_hub::planning::import_instrument(db, keys.wrap_key()?, "inst", &[0u8; 1024], None).await?;
    exam_hub::planning::import_planning(db, keys, &csv, "bench.csv", false).await?;
    exam_hub::admin::start_sitting(db, "BENCH").await?;
    let now = exam_hub::now_ms();
    let b64 = base64::engine::general_purpose::STANDARD;
    for seat in 0..args.seats {
        let (key, pkcs8) = exam_journal::SigningKey::generate()?;
        let device = key.public_key().device_id();
        sqlx::query("INSERT INTO devices (device_id, room, cert_sha256, device_public_key, hostname, enrolled_ms, last_seen_ms, last_state) VALUES ($1, 'B2.14', $2, $3, $4, $5, $5, 'submitted')")
            .bind(&device)
            .bind(exam_hub::sha256_hex(device.as_bytes()))
            .bind(key.public_key().to_hex())
            .bind(format!("lokaal-b214-pc{seat:03}"))
            .bind(now)
            .execute(&db.pool)
            .await?;
        let student = format!("{}", 100_000 + seat);
        sqlx::query("INSERT INTO sessions (token_hash, device_id, sitting_id, student_number, created_ms, expires_ms) VALUES ($1, $2, 'BENCH', $3, $4, $5)")
            .bind(exam_hub::random_id())
            .bind(&device)
            .bind(&student)
            .bind(now - 25 * 60_000)
            .bind(now + 3_600_000)
            .execute(&db.pool)
            .await?;
        let journal_dir = dir.join(format!("journal-{seat}"));
        let mut journal = exam_journal::Journal::open(&journal_dir, exam_journal::SigningKey::from_pkcs8(&pkcs8).map_err(anyhow::Error::msg)?, Default::default())?;
        journal.append_batch(&seat_events(seat, args.routine_events))?;
        journal.close()?;
        let frames: Vec<String> = exam_journal::read_records(&journal_dir)?
            .into_iter()
            .map(|(_, r)| base64::Engine::encode(&b64, r.frame))
            .collect();
        for chunk in frames.chunks(500) {
            let public = key.public_key().to_hex();
            exam_hub::journal::ingest(db, DeviceRef { id: &device, public_key: Some(&public) }, &JournalBatch { records: chunk.to_vec() })
                .await
                .map_err(|e| anyhow::anyhow!("ingest: {}", e.body.message))?;
        }
        for save in 1..=args.saves {
            let final_submission = save == args.saves && seat % 30 != 29;
            let answers = json!({"format": "exam-kiosk-answers/1", "sitting_id": "BENCH", "seq": save, "final_submission": final_submission,
                "responses": (1..=40).map(|i| (format!("ITM-{i:02}"), json!({"RESPONSE": if i <= save { "B" } else { "" }}))).collect::<serde_json::Map<_, _>>()});
            let receipt = json!({"sitting_id": "BENCH", "student_number": student, "seq": save, "answers_sha256": "00", "final_submission": final_submission, "time_ms": now, "receipt_code": "AB12-CD34", "signature": ""});
            sqlx::query("INSERT INTO answers (sitting_id, student_number, seq, final_submission, answers, answers_sha256, device_id, received_ms, receipt) VALUES ('BENCH', $1, $2, $3, $4, '00', $5, $6, $7)")
                .bind(&student)
                .bind(save as i64)
                .bind(i64::from(final_submission))
                .bind(answers.to_string())
                .bind(&device)
                .bind(now - 20 * 60_000 + save as i64 * 1000)
                .bind(receipt.to_string())
                .execute(&db.pool)
                .await?;
        }
        let scope = exam_protocol::InstructionScope { sitting_id: "BENCH".into(), student_number: student.clone() };
        if seat.is_multiple_of(25) {
            exam_hub::instructions::issue(db, &device, Some(scope.clone()), InstructionKind::AddTime { minutes: 10 }, "storing", "Dhr. Bos").await?;
        }
        exam_hub::instructions::issue(db, &device, Some(scope), InstructionKind::End, "einde zitting", "Mevr. de Wit").await?;
    }
    for i in 0..5 {
        reports::add_remark(db, "BENCH", "Mevr. de Wit", &format!("Opmerking {i}: de zitting verliep rustig; één student kwam 5 minuten te laat.")).await?;
    }
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let dir = tempfile::tempdir()?;
    let summary = exam_hub::pki::init(&dir.path().join("hub"), &["localhost".into()], "Bench")?;
    let keys = Keys::load(&dir.path().join("hub"))?;
    let url = args.database.clone().unwrap_or_else(|| exam_hub::db::sqlite_url(dir.path()));
    let backend = if args.database.is_some() { "postgres" } else { "sqlite" };
    let db = Db::connect(&url).await?;
    let t = Instant::now();
    seed(&db, &keys, dir.path(), &args).await?;
    let records: i64 = sqlx::Row::try_get(&sqlx::query("SELECT COUNT(*) AS n FROM journal_records").fetch_one(&db.pool).await?, "n")?;
    let saves: i64 = sqlx::Row::try_get(&sqlx::query("SELECT COUNT(*) AS n FROM answers").fetch_one(&db.pool).await?, "n")?;
    println!(
        "pv-bench ({backend}): {} seats, {records} verified journal records, {saves} answer saves; set-up {:.1} s",
        args.seats,
        t.elapsed().as_secs_f64()
    );
    let (mut load, mut html, mut pdf, mut total) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut sizes = (0, 0, 0, 0, 0);
    for _ in 0..args.runs {
        let t0 = Instant::now();
        let pv = reports::proces_verbaal(&db, "BENCH").await?;
        let t1 = Instant::now();
        let h = pv.to_html();
        let t2 = Instant::now();
        let p = pv.to_pdf();
        let t3 = Instant::now();
        let seals = (reports::seal(&keys, h.as_bytes()), reports::seal(&keys, p.as_bytes()));
        let t4 = Instant::now();
        reports::verify_seal(&summary.signing_public_key, p.as_bytes(), &seals.1)?;
        load.push(t1 - t0);
        html.push(t2 - t1);
        pdf.push(t3 - t2);
        total.push(t4 - t0);
        let pages = p.as_bytes().windows(11).filter(|w| w == b"/Type /Page").count() - 1;
        sizes = (h.len(), p.as_bytes().len(), pv.irregularities.len(), pv.seats.len(), pages);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "proces-verbaal: {} seats, {} entries; HTML {} KB, PDF {} KB, {} pages; first run (compresses the embedded font once) {:.0} ms",
        sizes.3,
        sizes.2,
        sizes.0 / 1024,
        sizes.1 / 1024,
        sizes.4,
        ms(total[0])
    );
    println!(
        "median of {} runs: records + build {:.0} ms, HTML {:.0} ms, PDF {:.0} ms; total with both seals {:.0} ms (max {:.0} ms; goal ≤ 2000 ms)",
        args.runs,
        ms(median(load)),
        ms(median(html)),
        ms(median(pdf)),
        ms(median(total.clone())),
        ms(*total.iter().max().unwrap_or(&Duration::ZERO))
    );
    Ok(())
}
