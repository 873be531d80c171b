//! Harness for the invigilator console's browser tests and benchmark: a real
//! `exam-hub` process over TLS with a planned room, console accounts and a
//! room-code secret; simulated kiosks that are real mutual-TLS clients
//! (kiosk-core's hub client, a real signed journal) and obey instructions
//! like the kiosk does; and headless Chromium driven through `chromedriver`.

pub mod browser;
pub mod kiosk;
pub mod rehearsal;

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub use exam_e2e::Guarded;

/// The room the tests run.
pub const ROOM: &str = "B2.14";
/// Another room (an invigilator of [`ROOM`] may not act there).
pub const OTHER_ROOM: &str = "R9";
/// The sitting in progress.
pub const SITTING: &str = "S1";
/// A sitting later today in [`ROOM`] (for the joint start).
pub const LATER_SITTING: &str = "S2";
/// The sitting in [`OTHER_ROOM`].
pub const OTHER_SITTING: &str = "S3";
/// Password of every test account.
pub const PASSWORD: &str = "correct horse battery staple";

/// A console account of the test hub: (user name, display name, role, rooms).
pub const ACCOUNTS: &[(&str, &str, &str, &[&str])] = &[
    ("j.jansen", "Jan Jansen", "invigilator", &[ROOM]),
    ("p.pietersen", "Pieter Pietersen", "invigilator", &[ROOM]),
    ("admin", "Ada Beheer", "admin", &[]),
];

/// Names another `exam-hub` binary to test (the benchmark uses the release build).
pub const HUB_BIN_ENV: &str = "EXAM_CONSOLE_HUB_BIN";

/// The `exam-hub` binary: `$EXAM_CONSOLE_HUB_BIN`, or the debug build.
pub fn exam_hub_bin() -> PathBuf {
    std::env::var_os(HUB_BIN_ENV).map(PathBuf::from).unwrap_or_else(|| exam_e2e::bin("exam-hub"))
}

/// A running hub with a planned room.
pub struct ConsoleHub {
    /// Everything lives here.
    pub dir: tempfile::TempDir,
    _child: Guarded,
    /// `https://127.0.0.1:PORT`.
    pub base: String,
    /// The school CA (PEM).
    pub school_ca_pem: String,
    /// Access codes by (sitting, student).
    pub codes: HashMap<(String, String), String>,
    /// Student numbers of [`SITTING`], in order.
    pub students: Vec<String>,
    /// The room-code secret of [`ROOM`] as `exam-hub room-code` printed it (base32).
    pub room_secret: String,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).expect("formattable")
}

impl ConsoleHub {
    /// Starts a hub whose room [`ROOM`] has `students` students in
    /// [`SITTING`] (started five minutes ago, 90 minutes), one in
    /// [`LATER_SITTING`] (in two hours) and one in [`OTHER_SITTING`] in
    /// [`OTHER_ROOM`]; the [`ACCOUNTS`]; and a room-code secret for [`ROOM`].
    pub fn start(students: usize) -> Self {
        Self::start_on(students, None)
    }

    /// [`ConsoleHub::start`] on the database at `database` (PostgreSQL), or SQLite for `None`.
    pub fn start_on(students: usize, database: Option<String>) -> Self {
        let now = time::OffsetDateTime::now_utc();
        let started = rfc3339(now - time::Duration::minutes(5));
        let later = rfc3339(now + time::Duration::hours(2));
        let mut csv = String::from("student_number,student_name,sitting,exam,instrument,room,start,duration_minutes,extra_minutes,tools,text_size,contrast\n");
        let mut numbers = Vec::new();
        for i in 0..students {
            let number = format!("{}", 1001 + i);
            // Names with markup and quotes: they must come out escaped everywhere.
            let name = match i {
                0 => "Anna de Vries".to_string(),
                1 => "Bram <b>Jansen</b>".to_string(),
                2 => "Chris O'Neill".to_string(),
                3 => "Dewi Smit".to_string(),
                _ => format!("Student {number}"),
            };
            // Accommodations: extra time for the first, read-aloud and large text for the fourth.
            let (extra, tools, size) = match i {
                0 => ("15", "", ""),
                3 => ("", "read-aloud", "large"),
                _ => ("", "", ""),
            };
            csv.push_str(&format!("{number},{name},{SITTING},Rekenen 2F,rekenen-2f,{ROOM},{started},90,{extra},{tools},{size},\n"));
            numbers.push(number);
        }
        csv.push_str(&format!("2001,Eva Later,{LATER_SITTING},Nederlands 3F,rekenen-2f,{ROOM},{later},60,,,,\n"));
        csv.push_str(&format!("3001,Frank Elders,{OTHER_SITTING},Engels B1,rekenen-2f,{OTHER_ROOM},{started},60,,,,\n"));
        let mut hub = Self::with_planning(&csv, ACCOUNTS, ROOM, database);
        hub.students = numbers;
        hub
    }

    /// A running hub with any planning: `planning` is the planning CSV as the
    /// exam office writes it (any rooms, sittings and students; the
    /// instrument `rekenen-2f`, the demo QTI test, is imported), `accounts`
    /// the console accounts (password [`PASSWORD`]), and `code_room` the room
    /// whose room-code secret is made. [`ConsoleHub::students`] is left empty.
    pub fn with_planning(planning: &str, accounts: &[(&str, &str, &str, &[&str])], code_room: &str, database: Option<String>) -> Self {
        // Every client here (kiosk-core's, reqwest's) uses rustls on ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("hub");
        let database = database.unwrap_or_default();
        run(Command::new(exam_hub_bin()).args(["init", "--data"]).arg(&data).args(["--name", "127.0.0.1", "--listen", "127.0.0.1:0", "--database", &database]));
        let cli = |args: &[&str]| run(Command::new(exam_hub_bin()).args(args).arg("--data").arg(&data));
        // A real package: the hub checks it at import (the demo QTI test, signed with the demo approval key).
        let root = exam_e2e::workspace();
        let (package, key) = exam_instrument::pack_dir(
            &root.join("tests/fixtures/instruments/demo"),
            "rekenen-2f",
            &root.join("policies/demo-instrument.key"),
            Vec::new(),
        )
        .expect("pack the demo instrument");
        let instrument = dir.path().join("instrument.exam");
        std::fs::write(&instrument, package).expect("write instrument");
        let key_file = dir.path().join("instrument.key");
        std::fs::write(&key_file, key.as_bytes()).expect("write content key");
        let policy = root.join("policies/demo.toml");
        cli(&[
            "import", "instrument", instrument.to_str().expect("utf-8 path"), "--id", "rekenen-2f",
            "--content-key-file", key_file.to_str().expect("utf-8 path"), "--policy", policy.to_str().expect("utf-8 path"),
        ]);
        let planning_file = dir.path().join("planning.csv");
        std::fs::write(&planning_file, planning).expect("write planning");
        let codes_file = dir.path().join("codes.txt");
        cli(&["import", "planning", planning_file.to_str().expect("utf-8"), "--codes-out", codes_file.to_str().expect("utf-8")]);
        let codes = parse_codes(&std::fs::read_to_string(&codes_file).expect("codes"));
        for (username, name, role, rooms) in accounts {
            let mut cmd = Command::new(exam_hub_bin());
            cmd.args(["account", "add", "--username", username, "--name", name, "--role", role]).arg("--data").arg(&data);
            for room in *rooms {
                cmd.args(["--room", room]);
            }
            let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::null()).spawn().expect("exam-hub account add");
            std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), format!("{PASSWORD}\n").as_bytes()).expect("password");
            assert!(child.wait().expect("wait").success(), "account add {username}");
        }
        let room_secret = cli(&["room-code", "--room", code_room]).trim().to_string();
        let mut child = Command::new(exam_hub_bin())
            .args(["serve", "--data"])
            .arg(&data)
            .env("EXAM_HUB_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("exam-hub serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("listening line");
        let base = line.trim().strip_prefix("exam-hub listening on ").unwrap_or_else(|| panic!("unexpected: {line:?}")).to_string();
        let school_ca_pem = std::fs::read_to_string(data.join("school-ca.pem")).expect("school CA");
        Self { dir, _child: Guarded(child), base, school_ca_pem, codes, students: Vec::new(), room_secret }
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("hub")
    }

    /// A file in the test directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `exam-hub ARGS --data DIR`; stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        run(Command::new(exam_hub_bin()).args(args).arg("--data").arg(self.data()))
    }

    /// The access code of a student.
    pub fn code(&self, sitting: &str, student: &str) -> String {
        self.codes[&(sitting.to_string(), student.to_string())].clone()
    }

    /// A full URL on the hub.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Base64 SHA-256 of the hub certificate's public key (SPKI), which the
    /// browser is told to trust: real TLS, pinned to exactly this hub.
    pub fn spki_sha256_b64(&self) -> String {
        use base64::Engine as _;
        let key = std::fs::read_to_string(self.data().join("hub.key")).expect("hub key");
        let pair = rcgen::KeyPair::from_pem(&key).expect("hub key parses");
        // The "PUBLIC KEY" PEM is the SubjectPublicKeyInfo in base64.
        let pem = pair.public_key_pem();
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let spki = base64::engine::general_purpose::STANDARD.decode(b64).expect("SPKI base64");
        let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
        base64::engine::general_purpose::STANDARD.encode(digest)
    }

    /// An HTTP client that trusts only the school CA, without a client
    /// certificate, keeping cookies (a second invigilator's browser, or an attacker's).
    pub fn web_client(&self) -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let cert = reqwest::Certificate::from_pem(self.school_ca_pem.as_bytes()).expect("school CA");
        reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(cert)
            .cookie_store(true)
            .no_proxy()
            .build()
            .expect("client")
    }
}

fn parse_codes(text: &str) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    let mut sitting = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("== Zitting ") {
            sitting = rest.split_whitespace().next().unwrap_or_default().to_string();
        } else if line.starts_with("   ") && !line.trim_start().starts_with('(') && !line.trim().is_empty() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let (Some(first), Some(last)) = (words.first(), words.last()) {
                out.insert((sitting.clone(), first.to_string()), last.to_string());
            }
        }
    }
    out
}

/// The environment variable with the PostgreSQL server URL (set by `cargo xtask test`).
pub const POSTGRES_ENV: &str = "EXAM_HUB_TEST_POSTGRES_URL";

/// A fresh PostgreSQL database, or `None` when no server is configured.
pub async fn postgres_database() -> Option<String> {
    let url = std::env::var(POSTGRES_ENV).ok().filter(|u| !u.is_empty())?;
    sqlx::any::install_default_drivers();
    let name = format!("consoletest_{}", exam_hub::random_id());
    let admin = sqlx::AnyPool::connect(&url).await.expect("connect to the test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create test database");
    admin.close().await;
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b).to_string();
    Some(format!("{base}/{name}"))
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Where screenshots of failures go.
pub fn artefacts() -> PathBuf {
    let dir = exam_e2e::workspace().join("target/console-tests");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Polls `check` every 50 ms until it returns `Some`, or panics after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Checks `path` exists (helps error messages when a binary was not built).
pub fn require(path: &Path) {
    assert!(path.exists(), "{} is missing: run `cargo build --workspace` first", path.display());
}
