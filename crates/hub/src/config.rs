//! `hub.toml`: the hub's configuration file, and every named limit.

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;

/// Default listen address: this machine only. `exam-hub init --listen`
/// chooses the school network's address (issue 17: the hub listened on
/// every interface unless told otherwise).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8443";
/// Largest JSON body accepted on ordinary endpoints.
pub const MAX_JSON_BODY: usize = 64 * 1024;
/// Largest journal batch body.
pub const MAX_JOURNAL_BODY: usize = 8 * 1024 * 1024;
/// Largest answer upload body.
pub const MAX_ANSWER_BODY: usize = 2 * 1024 * 1024;
/// Accept queue of the listening socket (capped by the kernel's somaxconn).
pub const LISTEN_BACKLOG: u32 = 4096;
/// Journal batches a hub node reads and verifies at the same time.
pub const JOURNAL_CONCURRENCY: usize = 8;
/// Most records in one journal batch.
pub const MAX_BATCH_RECORDS: usize = 5_000;
/// Failed logins before a student is locked for the sitting.
pub const MAX_LOGIN_FAILURES: i64 = 5;
/// A PC with wrong access codes for this many students within
/// [`SUSPECT_WINDOW_MS`] raises an alarm.
pub const SUSPECT_STUDENTS: i64 = 3;
/// The window of [`SUSPECT_STUDENTS`].
pub const SUSPECT_WINDOW_MS: i64 = 10 * 60 * 1000;
/// Requests one device may make per [`DEVICE_RATE_WINDOW_MS`] (a kiosk
/// makes a few every 5 s; a runaway or hostile one is answered 429).
pub const DEVICE_REQUESTS_PER_WINDOW: usize = 600;
/// Login attempts one device may make per [`DEVICE_RATE_WINDOW_MS`], across
/// all student numbers (the per-student lock-out cannot stop a device that
/// tries a few codes for each of many students).
pub const DEVICE_LOGINS_PER_WINDOW: usize = 20;
/// The window of the per-device rate limits.
pub const DEVICE_RATE_WINDOW_MS: i64 = 60 * 1000;
/// Devices the rate limiters remember at most.
pub const RATE_LIMITER_CAPACITY: usize = 100_000;
/// How long before the start a student may log in.
pub const LOGIN_EARLY_MS: i64 = 60 * 60 * 1000;
/// How long after the scheduled end a session stays valid.
pub const SESSION_GRACE_MS: i64 = 60 * 60 * 1000;
/// Validity of an enrolment token.
pub const ENROL_TOKEN_VALIDITY_MS: i64 = 24 * 60 * 60 * 1000;
/// How long an enrolment challenge is accepted.
pub const ENROL_CHALLENGE_VALIDITY_MS: i64 = 5 * 60 * 1000;
/// Open (unused, unexpired) enrolment challenges one token may have.
pub const MAX_ENROL_CHALLENGES_PER_TOKEN: i64 = 16;
/// Unacknowledged instructions are re-sent this often.
pub const INSTRUCTION_RESEND: Duration = Duration::from_secs(3);
/// Pending instructions are read from the database this often.
pub const INSTRUCTION_POLL: Duration = Duration::from_millis(200);
/// TLS handshake must finish within this.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Request headers must arrive within this.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// A request body may take this long before [`MIN_BODY_RATE`] applies.
pub const BODY_GRACE: Duration = Duration::from_secs(10);
/// Bytes per second a request body must arrive at, on average, after
/// [`BODY_GRACE`]; a slower body is cut (`408 body_timeout`).
pub const MIN_BODY_RATE: u64 = 1024;
/// No request body may take longer than this in all (the largest, an 8 MiB
/// journal batch, then needs about 70 KB/s).
pub const MAX_BODY_TIME: Duration = Duration::from_secs(120);
/// Longest accepted text field (names, ids).
pub const MAX_FIELD_LEN: usize = 200;

/// The configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Name of the school, used in certificate names.
    pub school: String,
    /// Address to listen on.
    pub listen: String,
    /// Database URL; empty for SQLite in the data directory.
    #[serde(default)]
    pub database: String,
    /// Names (DNS or IP) in the hub certificate, for reference.
    #[serde(default)]
    pub server_names: Vec<String>,
    /// Days answers and journals are kept after a sitting (the school's exam
    /// regulations decide); `exam-hub retention run` deletes what is older.
    /// Absent: nothing is ever deleted. `0` is refused when the file is
    /// read (it would delete today's exams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<std::num::NonZeroU32>,
    /// Minutes after the end of a student's time (start + duration + extra
    /// time + added time + paused time) during which a first login and the
    /// content key are still given; absent: [`DEFAULT_SITTING_GRACE_MINUTES`].
    /// 0 to [`MAX_SITTING_GRACE_MINUTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sitting_grace_minutes: Option<GraceMinutes>,
    /// The file of the key that wraps content keys and room-code secrets in
    /// the database; keep it outside the data directory and back it up
    /// separately. Absent: [`default_wrap_key_path`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_key_file: Option<std::path::PathBuf>,
    /// Whether kiosks whose policy lets a WebDriver drive them
    /// (`[environment] test-automation`; they say so in every request,
    /// [`exam_protocol::TEST_AUTOMATION_HEADER`]) may log students in and
    /// fetch exams. Only for a test hub: absent or `false`, such a kiosk is
    /// refused (`403 test_kiosk_refused`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub accept_test_kiosks: bool,
}

/// The wrap key file of the hub in `data_dir`: hub.toml's `wrap-key-file`
/// (relative paths are relative to the data directory), or the default
/// beside the data directory when hub.toml does not name one (or cannot be read).
pub fn wrap_key_path(data_dir: &Path) -> std::path::PathBuf {
    match Config::load(data_dir).ok().and_then(|c| c.wrap_key_file) {
        Some(path) => data_dir.join(path),
        None => default_wrap_key_path(data_dir),
    }
}

/// Default of `sitting-grace-minutes`.
pub const DEFAULT_SITTING_GRACE_MINUTES: u32 = 15;
/// Largest `sitting-grace-minutes`.
pub const MAX_SITTING_GRACE_MINUTES: u32 = 120;

/// `sitting-grace-minutes`: a whole number of minutes, 0 to
/// [`MAX_SITTING_GRACE_MINUTES`], checked when hub.toml is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct GraceMinutes(u32);

impl GraceMinutes {
    /// Minutes, checked.
    pub fn new(minutes: u32) -> Result<Self, String> {
        if minutes > MAX_SITTING_GRACE_MINUTES {
            return Err(format!("sitting-grace-minutes must be 0 to {MAX_SITTING_GRACE_MINUTES} minutes, not {minutes}"));
        }
        Ok(Self(minutes))
    }

    /// Milliseconds.
    pub fn ms(self) -> i64 {
        i64::from(self.0) * 60_000
    }
}

impl<'de> Deserialize<'de> for GraceMinutes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let minutes = i64::deserialize(d)?;
        let minutes = u32::try_from(minutes)
            .map_err(|_| serde::de::Error::custom(format!("sitting-grace-minutes must be 0 to {MAX_SITTING_GRACE_MINUTES} minutes, not {minutes}")))?;
        Self::new(minutes).map_err(serde::de::Error::custom)
    }
}

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, with line and column.
        message: String,
    },
}

impl Config {
    /// Reads `hub.toml` from the data directory.
    pub fn load(data_dir: &Path) -> Result<Self, ConfigError> {
        let path = data_dir.join(files::CONFIG);
        let text = std::fs::read_to_string(&path)
            .map_err(|source| ConfigError::Io { path: path.display().to_string(), source })?;
        toml::from_str(&text).map_err(|e| {
            let (line, col) = e
                .span()
                .map(|span| {
                    let before = &text[..span.start.min(text.len())];
                    (before.matches('\n').count() + 1, span.start - before.rfind('\n').map_or(0, |i| i + 1) + 1)
                })
                .unwrap_or((0, 0));
            ConfigError::Invalid { path: format!("{}:{line}:{col}", path.display()), message: e.message().to_string() }
        })
    }

    /// The grace after a student's time, ms.
    pub fn sitting_grace_ms(&self) -> i64 {
        self.sitting_grace_minutes.map_or(i64::from(DEFAULT_SITTING_GRACE_MINUTES) * 60_000, GraceMinutes::ms)
    }

    /// The URL kiosks enrol with: the first server name at the listen
    /// port (`https://HUB:PORT` where hub.toml does not say).
    pub fn kiosk_url(&self) -> String {
        let port = self.listen.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).filter(|p| *p != 0);
        match (self.server_names.first(), port) {
            (Some(name), Some(port)) if name.contains(':') => format!("https://[{name}]:{port}"),
            (Some(name), Some(port)) => format!("https://{name}:{port}"),
            (Some(name), None) => format!("https://{name}:PORT"),
            (None, Some(port)) => format!("https://HUB:{port}"),
            (None, None) => "https://HUB:PORT".to_owned(),
        }
    }

    /// The database URL to use: the configured one, or SQLite in `data_dir`.
    pub fn database_url(&self, data_dir: &Path) -> String {
        if self.database.trim().is_empty() {
            crate::db::sqlite_url(data_dir)
        } else {
            self.database.clone()
        }
    }

    /// The file text, with comments — also for the settings left at their
    /// default, so the exam office sees them (issue 17: without a
    /// `retention-days` line nobody noticed that nothing is ever deleted).
    pub fn to_file_text(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        let mut text = format!(
            "# exam-hub configuration (docs/hub.md).\n\
             # listen: the address kiosks reach; 127.0.0.1 is this machine only.\n\
             # database: empty for SQLite in this directory, or postgres://user@host/db\n{body}"
        );
        if self.retention_days.is_none() {
            text.push_str(
                "\n# Days answers and journals are kept after a sitting, as the exam regulations\n\
                 # say (`exam-hub retention run` and `serve` delete what is older). Not set:\n\
                 # nothing is ever deleted.\n# retention-days = 365\n",
            );
        }
        if self.sitting_grace_minutes.is_none() {
            text.push_str(&format!(
                "\n# Minutes after a student's time in which a first login and the content key are\n\
                 # still given (0 to {MAX_SITTING_GRACE_MINUTES}).\n# sitting-grace-minutes = {DEFAULT_SITTING_GRACE_MINUTES}\n"
            ));
        }
        text
    }
}

/// File names inside the data directory.
pub mod files {
    /// The configuration file.
    pub const CONFIG: &str = "hub.toml";
    /// School CA certificate (give this to kiosks; they pin it).
    pub const SCHOOL_CA_CERT: &str = "school-ca.pem";
    /// School CA private key (needed only to re-issue the hub certificate).
    pub const SCHOOL_CA_KEY: &str = "school-ca.key";
    /// Hub TLS certificate.
    pub const HUB_CERT: &str = "hub.pem";
    /// Hub TLS private key.
    pub const HUB_KEY: &str = "hub.key";
    /// Device CA certificate (issuer of kiosk client certificates).
    pub const DEVICE_CA_CERT: &str = "device-ca.pem";
    /// Device CA private key.
    pub const DEVICE_CA_KEY: &str = "device-ca.key";
    /// Hub signing key, Ed25519 PKCS#8 DER.
    pub const SIGNING_KEY: &str = "hub-signing.pk8";
    /// 32 random bytes (hex) keying the access-code and token HMACs.
    pub const SECRET: &str = "hub-secret.hex";
    /// Optional signed policy bundle handed to kiosks at enrolment.
    pub const POLICY: &str = "policy.signed";
    /// The SQLite database.
    pub const DATABASE: &str = "hub.db";
    /// The wrap key's file name in its own directory (see [`super::WrapKey`]).
    pub const WRAP_KEY: &str = "hub-wrap.key";
}

/// Where the wrap key lives unless hub.toml says otherwise: `hub-wrap.key`
/// in a directory of its own beside the data directory, named after it
/// (`/var/lib/exam-hub` -> `/var/lib/exam-hub.keys/hub-wrap.key`), so that a
/// copy or backup of the data directory does not contain it.
pub fn default_wrap_key_path(data_dir: &Path) -> std::path::PathBuf {
    let name = data_dir.file_name().map_or_else(|| "exam-hub".into(), |n| n.to_string_lossy().into_owned());
    let parent = data_dir.parent().unwrap_or(Path::new(""));
    parent.join(format!("{name}.keys")).join(files::WRAP_KEY)
}

/// The kiosk policy as the hub keeps it (`policy.signed`): a signed bundle
/// or plain TOML. The hub does not hold the committee's key (the kiosks
/// check the signature); it reads the policy for rooms, rosters and
/// accommodations.
pub fn read_hub_policy(text: &str) -> Result<exam_policy::Policy, String> {
    if exam_policy::bundle::is_bundle(text) {
        exam_policy::bundle::parse_bundle(text, "policy.signed")
            .map_err(|e| e.to_string())
            .and_then(|b| exam_policy::bundle::parse_bundle_body(&b, "policy.signed", None).map_err(|e| e.to_string()))
    } else {
        exam_policy::parse_policy(text, "policy.signed", None).map_err(|e| e.to_string())
    }
}
