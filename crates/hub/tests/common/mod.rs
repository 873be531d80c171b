//! Test harness: a real `exam-hub` process over real TLS on 127.0.0.1, on
//! SQLite or (when `EXAM_HUB_TEST_POSTGRES_URL` is set) on a fresh
//! PostgreSQL database, and kiosks with real client certificates.
#![allow(dead_code, missing_docs)]

use exam_protocol::*;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// The environment variable with the PostgreSQL server URL (set by `cargo xtask test`).
pub const POSTGRES_ENV: &str = "EXAM_HUB_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const ROOM: &str = "B2.14";
pub const OTHER_ROOM: &str = "R9";

pub struct TestHub {
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    pub base: String,
    pub database: Option<String>,
    pub school_ca_pem: String,
    pub content_key: Vec<u8>,
    pub instrument: Vec<u8>,
    pub codes: std::collections::HashMap<(String, String), String>,
}

/// The workspace root.
pub fn workspace() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_exam-hub")
}

/// A fresh PostgreSQL database for one test, or `None` when no server is configured.
pub async fn postgres_database() -> Option<String> {
    let url = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())?;
    sqlx::any::install_default_drivers();
    let name = format!("hubtest_{}", exam_hub::random_id());
    let admin = sqlx::AnyPool::connect(&url).await.expect("connect to the test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create test database");
    admin.close().await;
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b).to_string();
    Some(format!("{base}/{name}"))
}

/// A fresh, migrated database of `backend` with no hub around it (the temp
/// dir keeps a SQLite file alive); `None` when no PostgreSQL server is
/// configured.
pub async fn fresh_db(backend: Backend) -> Option<(exam_hub::db::Db, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = match backend {
        Backend::Sqlite => exam_hub::db::sqlite_url(dir.path()),
        Backend::Postgres => postgres_database().await?,
    };
    Some((exam_hub::db::Db::connect(&url).await.expect("connect"), dir))
}

impl TestHub {
    /// Starts a hub with demo planning; `None` when the backend is unavailable.
    pub async fn start(backend: Backend) -> Option<Self> {
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => match postgres_database().await {
                Some(url) => Some(url),
                None => {
                    eprintln!("{POSTGRES_ENV} is not set: PostgreSQL variant not run here (cargo xtask test runs it)");
                    return None;
                }
            },
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("hub");
        let out = Command::new(exe())
            .args(["init", "--data"])
            .arg(&data)
            .args(["--name", "127.0.0.1", "--name", "localhost", "--listen", "127.0.0.1:0"])
            .args(["--database", database.as_deref().unwrap_or("")])
            .output()
            .unwrap();
        assert!(out.status.success(), "init: {}", String::from_utf8_lossy(&out.stderr));
        let school_ca_pem = std::fs::read_to_string(data.join("school-ca.pem")).unwrap();
        // A real package (the hub checks it at import): the demo QTI test,
        // signed with the demo approval key, with 300 kB of filler so the
        // package is larger than a resumable download's first part.
        let filler: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let (instrument, content_key) = exam_instrument::pack_dir(
            &workspace().join("tests/fixtures/instruments/demo"),
            "inst-a",
            &workspace().join("policies/demo-instrument.key"),
            vec![("media/filler.bin".into(), filler)],
        )
        .unwrap();
        let content_key = content_key.as_bytes().to_vec();
        let mut hub = Self {
            dir,
            child: None,
            base: String::new(),
            database,
            school_ca_pem,
            content_key,
            instrument,
            codes: Default::default(),
        };
        std::fs::write(hub.path("instrument.bin"), &hub.instrument).unwrap();
        std::fs::write(hub.path("content.key"), &hub.content_key).unwrap();
        let inst = hub.path("instrument.bin");
        let key = hub.path("content.key");
        let policy = workspace().join("policies/demo.toml");
        hub.cli_ok(&[
            "import", "instrument", inst.to_str().unwrap(), "--id", "inst-a", "--content-key-file", key.to_str().unwrap(),
            "--policy", policy.to_str().unwrap(),
        ]);
        let now = time::OffsetDateTime::now_utc();
        let fmt = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
        let started = fmt(now - time::Duration::minutes(5));
        let later = fmt(now + time::Duration::minutes(30));
        let csv = format!(
            "student_number,student_name,sitting,exam,instrument,room,start,duration_minutes,extra_minutes,tools,text_size,contrast\n\
             1001,Anna de Vries,S1,Rekenen 2F,inst-a,{ROOM},{started},90,15,read-aloud;spell-check,large,high\n\
             1002,Bram Jansen,S1,Rekenen 2F,inst-a,{ROOM},{started},90,,,,\n\
             1003,Chris Bakker,S2,Nederlands 3F,inst-a,{ROOM},{later},60,,,,\n\
             1004,Dewi Smit,S3,Engels B1,inst-a,{OTHER_ROOM},{started},60,,,,\n"
        );
        std::fs::write(hub.path("planning.csv"), csv).unwrap();
        let codes_file = hub.path("codes.txt");
        let planning = hub.path("planning.csv");
        hub.cli_ok(&["import", "planning", planning.to_str().unwrap(), "--codes-out", codes_file.to_str().unwrap()]);
        hub.codes = parse_codes(&std::fs::read_to_string(&codes_file).unwrap());
        assert_eq!(hub.codes.len(), 4, "codes: {:?}", hub.codes.keys());
        hub.launch();
        Some(hub)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("hub")
    }

    pub fn code(&self, sitting: &str, student: &str) -> String {
        self.codes[&(sitting.to_string(), student.to_string())].clone()
    }

    /// Runs `exam-hub ARGS --data DIR [--database URL]`.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(exe());
        cmd.args(args).arg("--data").arg(self.data());
        if let Some(db) = &self.database {
            cmd.args(["--database", db]);
        }
        cmd.output().unwrap()
    }

    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(out.status.success(), "exam-hub {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Starts `exam-hub serve` and waits for its address.
    pub fn launch(&mut self) {
        let (child, base) = self.serve();
        self.base = base;
        self.child = Some(child);
    }

    /// Starts another hub node on the same data directory and database
    /// (several stateless nodes sharing one database).
    pub fn another_node(&self) -> HubNode {
        let (child, base) = self.serve();
        HubNode { child, base }
    }

    /// Stops the hub and starts it again with an extra environment
    /// variable (e.g. a debug build's `EXAM_HUB_TEST_PAUSE_AFTER_RESERVE_MS`).
    pub fn relaunch_with_env(&mut self, key: &str, value: &str) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let (child, base) = self.serve_with(&[(key, value)]);
        self.base = base;
        self.child = Some(child);
    }

    fn serve(&self) -> (Child, String) {
        self.serve_with(&[])
    }

    fn serve_with(&self, env: &[(&str, &str)]) -> (Child, String) {
        let mut cmd = Command::new(exe());
        cmd.envs(env.iter().copied());
        cmd.args(["serve", "--data"]).arg(self.data()).args(["--listen", "127.0.0.1:0"]);
        if let Some(db) = &self.database {
            cmd.args(["--database", db]);
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).env("EXAM_HUB_LOG", "warn").spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("exam-hub listening on ").unwrap_or_else(|| panic!("unexpected: {line:?}"));
        (child, addr.to_string())
    }

    /// Kills the hub process (like a crash) and starts it again.
    pub fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.launch();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SHA-256 of the school CA certificate (hex): what IT gives `kioskctl
    /// enrol` to pin the hub on first contact.
    pub fn school_ca_sha256(&self) -> String {
        let der: rustls::pki_types::CertificateDer<'static> =
            rustls::pki_types::pem::PemObject::from_pem_slice(self.school_ca_pem.as_bytes()).unwrap();
        exam_hub::pki::cert_sha256(der.as_ref())
    }

    /// A client without a client certificate (only the pinned school CA).
    pub fn anonymous(&self) -> reqwest::Client {
        client(&self.school_ca_pem, None)
    }

    /// Adds a console account (`role` "admin" or "invigilator" of `rooms`)
    /// with `exam-hub account add` and signs it in: (client, session cookie).
    pub async fn console_sign_in(&self, username: &str, role: &str, rooms: &[&str]) -> (reqwest::Client, String) {
        let session = console_sign_in(self, username, "Mevr. de Wit", role, rooms).await;
        (session.client, session.cookie)
    }

    /// Enrols a new kiosk in `room`.
    pub async fn enrol(&self, room: &str) -> Kiosk {
        let (device_key, pkcs8) = exam_journal::SigningKey::generate().unwrap();
        self.enrol_key(room, &device_key, pkcs8, "test-pc").await
    }

    /// Enrols a kiosk in `room` with the given journal device key (a new
    /// TLS key and certificate each time), proving possession of the key.
    pub async fn enrol_key(&self, room: &str, device_key: &exam_journal::SigningKey, pkcs8: Vec<u8>, hostname: &str) -> Kiosk {
        let token = self.cli_ok(&["enrol-token", "--room", room]).trim().to_string();
        let tls_key = rcgen::KeyPair::generate().unwrap();
        let csr = rcgen::CertificateParams::default().serialize_request(&tls_key).unwrap().pem().unwrap();
        let req = self.proven_enrol_request(&token, device_key, &csr, Some(hostname)).await;
        let resp = self.anonymous().post(self.url(paths::ENROL)).json(&req).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        let enrolled: EnrolResponse = resp.json().await.unwrap();
        assert_eq!(enrolled.device_id, device_key.public_key().device_id());
        let client = client(&enrolled.school_ca_pem, Some((&enrolled.client_certificate_pem, &tls_key.serialize_pem())));
        Kiosk { client, enrolled, device_pkcs8: pkcs8, base: self.base.clone(), token: None }
    }

    /// `POST /api/v1/enrol/challenge` for `token`.
    pub async fn challenge(&self, token: &str) -> reqwest::Response {
        self.anonymous().post(self.url(paths::ENROL_CHALLENGE)).json(&EnrolChallengeRequest { token: token.into() }).send().await.unwrap()
    }

    /// An enrol request for `csr` with a fresh challenge for `token`, signed
    /// by `device_key` (proof of possession).
    pub async fn proven_enrol_request(&self, token: &str, device_key: &exam_journal::SigningKey, csr: &str, hostname: Option<&str>) -> EnrolRequest {
        let resp = self.challenge(token).await;
        assert_eq!(resp.status(), 200, "challenge: {}", resp.text().await.unwrap());
        let challenge: EnrolChallenge = resp.json().await.unwrap();
        let public = device_key.public_key().to_hex();
        let message = enrol_proof_message(&challenge.challenge, token, csr, &public).unwrap();
        EnrolRequest {
            token: token.into(),
            csr_pem: csr.into(),
            device_public_key: Some(public),
            hostname: hostname.map(str::to_string),
            challenge: Some(challenge.challenge),
            proof: Some(hex::encode(device_key.sign(&message))),
        }
    }
}

/// A further `exam-hub serve` process of the same hub; stopped when dropped.
pub struct HubNode {
    child: Child,
    pub base: String,
}

impl Drop for HubNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn parse_codes(text: &str) -> std::collections::HashMap<(String, String), String> {
    let mut out = std::collections::HashMap::new();
    let mut sitting = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("== Zitting ") {
            sitting = rest.split_whitespace().next().unwrap().to_string();
        } else if line.starts_with("   ") && !line.trim_start().starts_with('(') && !line.trim().is_empty() {
            let words: Vec<&str> = line.split_whitespace().collect();
            out.insert((sitting.clone(), words[0].to_string()), words.last().unwrap().to_string());
        }
    }
    out
}

/// A reqwest client over rustls (ring, TLS 1.3) trusting only `ca_pem`.
pub fn client(ca_pem: &str, identity: Option<(&str, &str)>) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        Some((cert, key)) => {
            let certs = CertificateDer::pem_slice_iter(cert.as_bytes()).collect::<Result<Vec<_>, _>>().unwrap();
            builder.with_client_auth_cert(certs, PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap()).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(1)
        .build()
        .unwrap()
}

pub struct Kiosk {
    pub client: reqwest::Client,
    pub enrolled: EnrolResponse,
    pub device_pkcs8: Vec<u8>,
    pub base: String,
    pub token: Option<String>,
}

impl Kiosk {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn id(&self) -> &str {
        &self.enrolled.device_id
    }

    pub async fn post<T: serde::Serialize>(&self, path: &str, body: &T) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn login(&mut self, student: &str, code: &str) -> reqwest::Response {
        let resp = self
            .post(paths::LOGIN, &LoginRequest { student_number: student.into(), access_code: code.into() })
            .await;
        resp
    }

    pub async fn login_ok(&mut self, student: &str, code: &str) -> LoginResponse {
        let resp = self.login(student, code).await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        let login: LoginResponse = resp.json().await.unwrap();
        self.token = Some(login.session_token.clone());
        login
    }

    /// A journal with this kiosk's device key and `events` events.
    pub fn make_journal(&self, dir: &Path, events: usize) -> Vec<Vec<u8>> {
        append_journal(dir, &self.device_pkcs8, events)
    }
}

/// Appends `events` events to the journal at `dir` (opening a new session) and
/// returns all its frames.
pub fn append_journal(dir: &Path, pkcs8: &[u8], events: usize) -> Vec<Vec<u8>> {
    let key = exam_journal::SigningKey::from_pkcs8(pkcs8).unwrap();
    let config = exam_journal::JournalConfig { checkpoint_every_records: 25, epoch_max_records: 40, ..Default::default() };
    let mut journal = exam_journal::Journal::open(dir, key, config).unwrap();
    let batch: Vec<_> = (0..events)
        .map(|i| exam_journal::Event::new("test.event", &serde_json::json!({ "i": i, "note": "O'Brien'; DROP TABLE students; --" })).unwrap())
        .collect();
    for chunk in batch.chunks(50) {
        journal.append_batch(chunk).unwrap();
    }
    journal.close().unwrap();
    exam_journal::read_records(dir).unwrap().into_iter().map(|(_, r)| r.frame).collect()
}

pub fn b64(frames: &[Vec<u8>]) -> JournalBatch {
    use base64::Engine as _;
    JournalBatch { records: frames.iter().map(|f| base64::engine::general_purpose::STANDARD.encode(f)).collect() }
}

pub async fn error_of(resp: reqwest::Response) -> (u16, ErrorBody) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body: ErrorBody = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not an error body ({e}): {text}"));
    (status, body)
}

/// Defines a SQLite and a PostgreSQL variant of an async scenario `fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($scenario:ident) => {
        mod $scenario {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$scenario(super::common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$scenario(super::common::Backend::Postgres).await;
            }
        }
    };
}

/// A signed-in console session: the client, the session cookie, the CSRF token.
pub struct ConsoleSession {
    pub client: reqwest::Client,
    pub cookie: String,
    pub csrf: String,
}

impl ConsoleSession {
    pub async fn get(&self, hub: &TestHub, path: &str) -> reqwest::Response {
        self.client.get(hub.url(path)).header(reqwest::header::COOKIE, &self.cookie).send().await.unwrap()
    }
}

/// Adds a console account (`exam-hub account add`, the password on stdin)
/// with `role` and `rooms`, and signs it in over the console's API.
pub async fn console_sign_in(hub: &TestHub, username: &str, name: &str, role: &str, rooms: &[&str]) -> ConsoleSession {
    use std::io::Write as _;
    let password = "een lang genoeg wachtwoord 8";
    let mut cmd = Command::new(exe());
    cmd.args(["account", "add", "--username", username, "--name", name, "--role", role, "--data"]).arg(hub.data());
    for room in rooms {
        cmd.args(["--room", room]);
    }
    if let Some(db) = &hub.database {
        cmd.args(["--database", db]);
    }
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "account add: {}", String::from_utf8_lossy(&out.stderr));
    let client = hub.anonymous();
    let resp = client.post(hub.url("/console/api/login")).json(&serde_json::json!({"username": username, "password": password})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let me: serde_json::Value = resp.json().await.unwrap();
    ConsoleSession { client, cookie, csrf: me["csrf_token"].as_str().unwrap().to_string() }
}

/// The hub's journal of actions for one student and action: (user name, display name, detail), oldest first.
pub async fn journalled_actions(db: &exam_hub::db::Db, sitting: &str, student: &str, action: &str) -> Vec<(String, String, String)> {
    use sqlx::Row as _;
    sqlx::query(
        "SELECT username, display_name, detail FROM console_actions WHERE sitting_id = $1 AND student_number = $2 AND action = $3 ORDER BY at_ms, detail",
    )
    .bind(sitting)
    .bind(student)
    .bind(action)
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get("username"), r.get("display_name"), r.get("detail")))
    .collect()
}

/// The answers for `sitting` as a kiosk uploads them (instrument `inst-a`).
#[allow(dead_code)]
pub fn snapshot(sitting: &str, seq: u64, final_submission: bool, responses: serde_json::Value) -> AnswerUpload {
    AnswerUpload {
        sitting_id: sitting.into(),
        seq,
        final_submission,
        answers: serde_json::json!({
            "format": "exam-kiosk-answers/1", "sitting_id": sitting, "instrument_id": "inst-a", "seq": seq,
            "final_submission": final_submission, "responses": responses, "flagged": []
        }),
        changes: vec![],
    }
}
