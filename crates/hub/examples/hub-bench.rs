//! Load test of exam-hub: N simulated kiosks, each with its own client
//! certificate and its own mutual-TLS connection, against a real release
//! `exam-hub serve` process on 127.0.0.1. Run it with `cargo xtask bench hub`.
//!
//! Phases (all kiosks at once in each): enrolment (setup, reported but not
//! part of the goal), then the exam start — login, assignment, download of
//! the whole package, content key — then the journal upload (every kiosk
//! uploads a 500-event journal of its own, signed under its own enrolled
//! device key: the hub checks that key and verifies every record of every
//! device), then answers and heartbeats.
#![allow(missing_docs)]

use anyhow::{bail, Context as _};
use exam_protocol::*;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Journal records per upload: the kiosk's own batch size (`JOURNAL_BATCH`
/// in kiosk-core), so a 502-record journal goes up in two requests.
const BATCH: usize = 500;

struct Args {
    backend: String,
    database: Option<String>,
    kiosks: usize,
    events: usize,
    package_mb: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args { backend: "sqlite".into(), database: None, kiosks: 1000, events: 500, package_mb: 5 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().context("missing value");
        match a.as_str() {
            "--backend" => args.backend = value()?,
            "--database" => args.database = Some(value()?),
            "--kiosks" => args.kiosks = value()?.parse()?,
            "--events" => args.events = value()?.parse()?,
            "--package-mb" => args.package_mb = value()?.parse()?,
            other => bail!("unknown argument {other}; use --backend sqlite|postgres [--database URL] [--kiosks N] [--events N] [--package-mb N]"),
        }
    }
    Ok(args)
}

fn exam_hub_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/examples/hub-bench -> target/<profile>/exam-hub
    exe.parent().and_then(Path::parent).map(|p| p.join("exam-hub")).expect("binary location")
}

fn cli(data: &Path, database: &Option<String>, args: &[&str]) -> anyhow::Result<String> {
    let mut cmd = Command::new(exam_hub_binary());
    cmd.args(args).arg("--data").arg(data);
    if let Some(db) = database {
        cmd.args(["--database", db]);
    }
    let out = cmd.env("EXAM_HUB_LOG", "warn").output()?;
    if !out.status.success() {
        bail!("exam-hub {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}

fn client(ca_pem: &str, identity: Option<(&str, &str)>) -> anyhow::Result<reqwest::Client> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert?)?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots);
    let config = match identity {
        Some((cert, key)) => builder.with_client_auth_cert(
            CertificateDer::pem_slice_iter(cert.as_bytes()).collect::<Result<Vec<_>, _>>()?,
            PrivateKeyDer::from_pem_slice(key.as_bytes())?,
        )?,
        None => builder.with_no_client_auth(),
    };
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(1)
        .build()?)
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Kiosk {
    client: reqwest::Client,
    student: String,
    code: String,
    /// Its own journal, in upload batches.
    journal: Vec<JournalBatch>,
}

/// A real journal of `events` events under `device_key` (the key the kiosk
/// enrolled with: the hub refuses an epoch certificate of another device),
/// in the kiosk's upload batches.
fn own_journal(device_key: exam_journal::SigningKey, events: usize) -> anyhow::Result<Vec<JournalBatch>> {
    use base64::Engine as _;
    let dir = tempfile::tempdir()?;
    let mut journal = exam_journal::Journal::open(dir.path(), device_key, exam_journal::JournalConfig::default())?;
    let events: Vec<_> = (0..events)
        .map(|i| exam_journal::Event::new("bench.event", &serde_json::json!({ "i": i, "item": i % 40, "what": "answer.saved" })))
        .collect::<Result<_, _>>()?;
    journal.append_batch(&events)?;
    journal.close()?;
    let frames: Vec<Vec<u8>> = exam_journal::read_records(dir.path())?.into_iter().map(|(_, r)| r.frame).collect();
    Ok(frames
        .chunks(BATCH)
        .map(|c| JournalBatch { records: c.iter().map(|f| base64::engine::general_purpose::STANDARD.encode(f)).collect() })
        .collect())
}

async fn check<T: serde::de::DeserializeOwned>(resp: reqwest::Result<reqwest::Response>) -> anyhow::Result<T> {
    let resp = resp?;
    let status = resp.status();
    if !status.is_success() {
        bail!("{status}: {}", resp.text().await.unwrap_or_default());
    }
    Ok(resp.json().await?)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let work = tempfile::tempdir()?;
    let data = work.path().join("hub");
    let database = args.database.clone();
    cli(&data, &database, &["init", "--name", "127.0.0.1", "--listen", "127.0.0.1:0"])?;
    // A real package of about the size asked for (the hub checks it at
    // import): the demo QTI test plus random filler, demo approval key.
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let filler = exam_hub::random_bytes(args.package_mb * 1024 * 1024);
    let (package, key) = exam_instrument::pack_dir(
        &root.join("tests/fixtures/instruments/demo"),
        "bench",
        &root.join("policies/demo-instrument.key"),
        vec![("media/filler.bin".into(), filler)],
    )?;
    let package_path = work.path().join("package.exam");
    std::fs::write(&package_path, &package)?;
    let key_path = work.path().join("package.key");
    std::fs::write(&key_path, key.as_bytes())?;
    let policy = root.join("policies/demo.toml");
    cli(&data, &database, &[
        "import", "instrument", package_path.to_str().unwrap_or_default(), "--id", "bench",
        "--content-key-file", key_path.to_str().unwrap_or_default(), "--policy", policy.to_str().unwrap_or_default(),
    ])?;
    let start = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    let start = start.format(&time::format_description::well_known::Rfc3339)?;
    let mut csv = String::from("student_number,student_name,sitting,exam,instrument,room,start,duration_minutes\n");
    for i in 0..args.kiosks {
        csv.push_str(&format!("{},Student {i},HALL-1,Bench exam,bench,HALL,{start},90\n", 100_000 + i));
    }
    let csv_path = work.path().join("planning.csv");
    std::fs::write(&csv_path, csv)?;
    let codes_path = work.path().join("codes.txt");
    cli(&data, &database, &["import", "planning", csv_path.to_str().unwrap_or_default(), "--codes-out", codes_path.to_str().unwrap_or_default()])?;
    let mut codes = std::collections::HashMap::new();
    for line in std::fs::read_to_string(&codes_path)?.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 3 && words[0].parse::<u64>().is_ok() {
            codes.insert(words[0].to_string(), words[words.len() - 1].to_string());
        }
    }

    // The hub.
    let mut cmd = Command::new(exam_hub_binary());
    cmd.args(["serve", "--data"]).arg(&data).args(["--listen", "127.0.0.1:0"]);
    if let Some(db) = &database {
        cmd.args(["--database", db]);
    }
    let mut child = cmd.env("EXAM_HUB_LOG", "warn").stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn()?;
    let pid = child.id();
    let base = {
        use std::io::BufRead as _;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        line.trim().strip_prefix("exam-hub listening on ").context("hub did not start")?.to_string()
    };
    let result = run(&args, &data, &database, &base, pid, codes).await;
    let _ = child.kill();
    let _ = child.wait();
    result
}

async fn run(
    args: &Args,
    data: &Path,
    database: &Option<String>,
    base: &str,
    pid: u32,
    codes: std::collections::HashMap<String, String>,
) -> anyhow::Result<()> {
    let ca = std::fs::read_to_string(data.join("school-ca.pem"))?;
    let url = match database {
        Some(db) => db.clone(),
        None => exam_hub::db::sqlite_url(data),
    };
    let db = exam_hub::db::Db::connect(&url).await?;
    let rss_idle = rss_kib(pid, "VmRSS:");

    // Setup: enrolment (each kiosk its own key and certificate) and each
    // kiosk's own journal under its device key.
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let anonymous = client(&ca, None)?;
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    for i in 0..args.kiosks {
        let token = exam_hub::admin::create_enrol_token(&db, "HALL", 3_600_000).await?;
        let (anonymous, base, ca, sem) = (anonymous.clone(), base.to_string(), ca.clone(), sem.clone());
        let student = (100_000 + i).to_string();
        let code = codes.get(&student).cloned().context("code missing")?;
        let events = args.events;
        tasks.spawn(async move {
            let _permit = sem.acquire().await?;
            let key = rcgen::KeyPair::generate()?;
            let csr = rcgen::CertificateParams::default().serialize_request(&key)?.pem()?;
            // Proof of possession of a fresh device key over the hub's challenge.
            let challenge: EnrolChallenge =
                check(anonymous.post(format!("{base}{}", paths::ENROL_CHALLENGE)).json(&EnrolChallengeRequest { token: token.clone() }).send().await).await?;
            let (device_key, _) = exam_journal::SigningKey::generate()?;
            let public = device_key.public_key().to_hex();
            let message = enrol_proof_message(&challenge.challenge, &token, &csr, &public).map_err(anyhow::Error::msg)?;
            let req = EnrolRequest {
                token,
                csr_pem: csr,
                device_public_key: Some(public),
                hostname: None,
                challenge: Some(challenge.challenge),
                proof: Some(hex::encode(device_key.sign(&message))),
            };
            let enrolled: EnrolResponse = check(anonymous.post(format!("{base}{}", paths::ENROL)).json(&req).send().await).await?;
            let client = client(&ca, Some((&enrolled.client_certificate_pem, &key.serialize_pem())))?;
            let journal = tokio::task::spawn_blocking(move || own_journal(device_key, events)).await??;
            anyhow::Ok(Kiosk { client, student, code, journal })
        });
    }
    let mut kiosks = Vec::new();
    while let Some(k) = tasks.join_next().await {
        kiosks.push(k??);
    }
    let enrol_time = t.elapsed();

    let records_per_kiosk: usize = kiosks.first().map_or(0, |k| k.journal.iter().map(|b| b.records.len()).sum());

    let kiosks: Vec<Arc<Kiosk>> = kiosks.into_iter().map(Arc::new).collect();
    let base = Arc::new(base.to_string());
    let mut peak_rss = rss_idle;

    // Phase 1: the exam starts — login, assignment, download, content key.
    let t_all = Instant::now();
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, k) in kiosks.iter().enumerate() {
        let (k, base) = (k.clone(), base.clone());
        tasks.spawn(async move {
            let t0 = Instant::now();
            let login: LoginResponse = check(
                k.client
                    .post(format!("{base}{}", paths::LOGIN))
                    .json(&LoginRequest { student_number: k.student.clone(), access_code: k.code.clone() })
                    .send()
                    .await,
            )
            .await?;
            let login_time = t0.elapsed();
            let token = login.session_token;
            let a: Assignment = check(k.client.get(format!("{base}{}", paths::ASSIGNMENT)).bearer_auth(&token).send().await).await?;
            let bytes = k.client.get(format!("{base}{}", a.instrument.path)).bearer_auth(&token).send().await?.bytes().await?;
            if exam_hub::sha256_hex(&bytes) != a.instrument.sha256 {
                bail!("package hash mismatch");
            }
            let _: StartResponse = check(k.client.post(format!("{base}{}", paths::START)).bearer_auth(&token).json(&serde_json::json!({})).send().await).await?;
            anyhow::Ok((index, token, login_time, t0.elapsed()))
        });
    }
    let mut tokens = vec![String::new(); kiosks.len()];
    let mut login_times = Vec::new();
    let mut start_times = Vec::new();
    let mut errors = 0usize;
    let mut first_error = None;
    while let Some(r) = tasks.join_next().await {
        match r? {
            Ok((index, token, login, total)) => {
                tokens[index] = token;
                login_times.push(login);
                start_times.push(total);
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("{e:#}"));
            }
        }
    }
    let phase1 = t.elapsed();

    // Phase 2: journal upload, every kiosk at once.
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for k in &kiosks {
        let (k, base) = (k.clone(), base.clone());
        tasks.spawn(async move {
            for batch in k.journal.iter() {
                let r: JournalReceipt = check(k.client.post(format!("{base}{}", paths::JOURNAL)).json(batch).send().await).await?;
                if r.stored as usize != batch.records.len() {
                    bail!("stored {} of {}", r.stored, batch.records.len());
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r? {
            errors += 1;
            first_error.get_or_insert(format!("{e:#}"));
        }
    }
    let phase2 = t.elapsed();

    // Phase 3: final answers and three heartbeats each.
    let t = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (k, token) in kiosks.iter().zip(tokens.clone()) {
        let (k, base) = (k.clone(), base.clone());
        tasks.spawn(async move {
            let upload = AnswerUpload { sitting_id: "HALL-1".into(), seq: 1, final_submission: true, answers: serde_json::json!({"q": [1, 2, 3]}), changes: vec![] };
            let _: AnswerReceipt = check(k.client.post(format!("{base}{}", paths::ANSWERS)).bearer_auth(&token).json(&upload).send().await).await?;
            for _ in 0..3 {
                let beat = Heartbeat { state: "in_exam".into(), journal_next_seq: None, journal_last_hash: None, answers_pending: 0, journal_damage: None };
                let _: HeartbeatAck = check(k.client.post(format!("{base}{}", paths::HEARTBEAT)).json(&beat).send().await).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        if let Err(e) = r? {
            errors += 1;
            first_error.get_or_insert(format!("{e:#}"));
        }
    }
    let phase3 = t.elapsed();
    let total = t_all.elapsed();
    peak_rss = peak_rss.max(rss_kib(pid, "VmHWM:"));
    let rss_end = rss_kib(pid, "VmRSS:");

    login_times.sort();
    start_times.sort();
    let records = (records_per_kiosk * kiosks.len()) as f64;
    println!("== exam-hub bench: backend {}, {} kiosks (each its own mTLS connection), {} MB package, {} journal records per kiosk in batches of {BATCH}",
        args.backend, kiosks.len(), args.package_mb, records_per_kiosk);
    println!("machine: {} cores, {}", std::thread::available_parallelism().map_or(0, |n| n.get()), cpu_model());
    println!("enrolment + journals (setup): {:>8.2} s", enrol_time.as_secs_f64());
    println!("phase 1 login+assignment+download+key: {:>6.2} s  (login p50 {:.0} ms, p99 {:.0} ms; whole start p50 {:.0} ms, p99 {:.0} ms)",
        phase1.as_secs_f64(),
        percentile(&login_times, 0.5).as_secs_f64() * 1e3,
        percentile(&login_times, 0.99).as_secs_f64() * 1e3,
        percentile(&start_times, 0.5).as_secs_f64() * 1e3,
        percentile(&start_times, 0.99).as_secs_f64() * 1e3);
    println!("phase 2 journal upload:       {:>8.2} s  ({:.0} verified records/s)", phase2.as_secs_f64(), records / phase2.as_secs_f64());
    println!("phase 3 answers+heartbeats:   {:>8.2} s", phase3.as_secs_f64());
    println!("total (phases 1-3):           {:>8.2} s", total.as_secs_f64());
    println!("errors:                       {errors}{}", first_error.map(|e| format!(" (first: {e})")).unwrap_or_default());
    println!("hub memory: idle {} MiB, peak {} MiB, after {} MiB (RSS)", rss_idle / 1024, peak_rss / 1024, rss_end / 1024);
    if errors > 0 {
        bail!("{errors} kiosks failed");
    }
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into())
}
