//! `exam-hub`: the school's server for exam-kiosk. See `docs/hub.md`.

use anyhow::{bail, Context as _};
use clap::{Args, Parser, Subcommand, ValueEnum};
use exam_hub::admin::{self, Target};
use exam_hub::console;
use exam_hub::config::{Config, DEFAULT_LISTEN, ENROL_TOKEN_VALIDITY_MS};
use exam_hub::db::Db;
use exam_hub::pki::{self, files, Keys};
use exam_hub::planning;
use exam_hub::reports::{self, ReportError};
use exam_protocol::InstructionKind;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// exam-hub: enrolment, planning, login, instruments, journal and answer sync for exam kiosks.
#[derive(Parser)]
#[command(name = "exam-hub", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Data {
    /// The hub's data directory (keys, config, SQLite database).
    #[arg(long)]
    data: PathBuf,
    /// Database URL (overrides hub.toml): sqlite://FILE or postgres://USER@HOST/DB.
    #[arg(long, env = "EXAM_HUB_DATABASE")]
    database: Option<String>,
}

impl Data {
    fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database {
            return Ok(url.clone());
        }
        Ok(Config::load(&self.data)?.database_url(&self.data))
    }

    async fn db(&self) -> anyhow::Result<Db> {
        Db::connect(&self.database_url()?).await.context("cannot open the database")
    }
}

/// One student in one sitting.
#[derive(Args)]
struct Seat {
    /// Sitting id.
    #[arg(long)]
    sitting: String,
    /// Student number.
    #[arg(long)]
    student: String,
}

#[derive(Subcommand)]
enum Command {
    /// Create the data directory: school CA, hub certificate, device CA, signing key, config.
    Init {
        /// The data directory to create.
        #[arg(long)]
        data: PathBuf,
        /// DNS name or IP address kiosks use to reach the hub (repeatable).
        #[arg(long = "name", default_values = ["localhost", "127.0.0.1"])]
        names: Vec<String>,
        /// The school's name, used in certificate names.
        #[arg(long, default_value = "School")]
        school: String,
        /// Address to listen on: the school network's address kiosks reach
        /// (e.g. 10.20.0.5:8443); the default is this machine only.
        #[arg(long, default_value = DEFAULT_LISTEN)]
        listen: String,
        /// Database URL; empty for SQLite in the data directory.
        #[arg(long, default_value = "")]
        database: String,
    },
    /// Serve HTTPS (TLS 1.3; mutual TLS for kiosks).
    Serve {
        #[command(flatten)]
        data: Data,
        /// Address to listen on (overrides hub.toml), e.g. 0.0.0.0:8443.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Create a one-time enrolment token for a room.
    EnrolToken {
        #[command(flatten)]
        data: Data,
        /// The room the device will be enrolled to.
        #[arg(long)]
        room: String,
        /// Hours the token stays valid.
        #[arg(long, default_value_t = ENROL_TOKEN_VALIDITY_MS / 3_600_000)]
        hours: i64,
        /// Tokens to make, one per PC of the room (one per line), 1 to 500.
        #[arg(long, default_value_t = 1)]
        count: u32,
    },
    /// Import a planning CSV or an instrument package.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Issue new access codes for a sitting (replacing the old ones) and print them.
    ReissueCodes {
        #[command(flatten)]
        data: Data,
        /// Sitting id.
        #[arg(long)]
        sitting: String,
        /// Only this student.
        #[arg(long)]
        student: Option<String>,
        /// Write the printable list here (mode 0600) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also write a PDF with one code slip per student (in Dutch, eight per A4 sheet, mode 0600).
        #[arg(long)]
        pdf: Option<PathBuf>,
    },
    /// Revoke a device: its certificate is refused from now on.
    Revoke {
        #[command(flatten)]
        data: Data,
        /// Device id.
        #[arg(long)]
        device: String,
    },
    /// Clear a student's lock-out after too many wrong access codes.
    ResetLock {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        seat: Seat,
    },
    /// Reopen a student's ended exam: the hub lets the student log in and
    /// take the content key again (journalled with the reason).
    Reopen {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        seat: Seat,
        /// Why (required; journalled and in the proces-verbaal).
        #[arg(long)]
        reason: String,
    },
    /// Start a sitting now: kiosks may fetch the content key.
    Start {
        #[command(flatten)]
        data: Data,
        /// Sitting id.
        #[arg(long)]
        sitting: String,
    },
    /// Print a sitting's web-instrument session nonce (hex), for the supplier.
    WebNonce {
        #[command(flatten)]
        data: Data,
        /// Sitting id.
        #[arg(long)]
        sitting: String,
    },
    /// Send an instruction to kiosks (re-sent until acknowledged).
    Instruct {
        #[command(flatten)]
        data: Data,
        /// What to do.
        #[arg(long, value_enum)]
        action: Action,
        /// Minutes, for add-time.
        #[arg(long, default_value_t = 0)]
        minutes: u32,
        /// One device.
        #[arg(long, conflicts_with_all = ["room", "sitting"])]
        device: Option<String>,
        /// Every device in a room; with --action end also the end for everyone of each
        /// sitting of that room a student is logged in to there (as the console's
        /// "Beëindigen voor iedereen": also the seats of students not logged in).
        #[arg(long, conflicts_with = "sitting")]
        room: Option<String>,
        /// The sitting of --student.
        #[arg(long, requires = "student")]
        sitting: Option<String>,
        /// A student (with --sitting): the device of their session.
        #[arg(long, requires = "sitting")]
        student: Option<String>,
        /// Why (required except for resume, as in the console; shown on the kiosk,
        /// kept in its journal and in the proces-verbaal).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Device identity: re-admit a revoked device.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// List enrolled devices.
    Devices {
        #[command(flatten)]
        data: Data,
    },
    /// List alarms (journal rewrites, truncations, invalid records).
    Alarms {
        #[command(flatten)]
        data: Data,
    },
    /// Invigilator console accounts (docs/console.md).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Hand scoring: items the hub cannot score itself (an essay), scored by the exam office (docs/hub.md, Results).
    #[command(subcommand)]
    Score(ScoreCommand),
    /// Create (or replace) a room's BYOD room-code secret; prints it in base32 for the policy.
    RoomCode {
        #[command(flatten)]
        data: Data,
        /// The room.
        #[arg(long)]
        room: String,
        /// Seconds per code.
        #[arg(long, default_value_t = 30)]
        step: u32,
        /// Digits per code.
        #[arg(long, default_value_t = 6)]
        digits: u8,
    },
    /// Proces-verbaal, results export and invigilators' remarks (docs/proces-verbaal.md).
    #[command(subcommand)]
    Report(ReportCommand),
    /// Check a sealed report (proces-verbaal) against the hub signing key: exit 0 intact, 1 changed.
    VerifyPv {
        /// The report file (HTML or PDF).
        file: PathBuf,
        /// Its seal file (FILE.sig).
        sig: PathBuf,
        /// The hub's data directory, for its signing key.
        #[arg(long, required_unless_present = "key", conflicts_with = "key")]
        data: Option<PathBuf>,
        /// The hub signing public key (hex), e.g. as the school published it.
        #[arg(long)]
        key: Option<String>,
    },
    /// Delete answers and journals older than the retention period in hub.toml.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// The exam office's archive of sittings (docs/hub.md, "The exam office's archive").
    #[command(subcommand)]
    Sittings(SittingsCommand),
    /// Copy the SQLite database consistently while the hub runs (PostgreSQL: use pg_dump).
    Backup {
        #[command(flatten)]
        data: Data,
        /// The backup file to create.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Allow a revoked device to enrol again (with a new token and proof of its
    /// device key); its old certificate stays refused. Journalled with the reason.
    Readmit {
        /// Device id (as `exam-hub devices` lists it).
        device: String,
        #[command(flatten)]
        data: Data,
        /// Why this PC may enrol again (kept in the hub's action journal).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import students, sittings and accommodations; issues access codes.
    Planning {
        #[command(flatten)]
        data: Data,
        /// The CSV file.
        file: PathBuf,
        /// Where to write the printable list of new access codes (mode 0600).
        #[arg(long)]
        codes_out: Option<PathBuf>,
        /// Where to write a PDF with one code slip per student with a new code
        /// (in Dutch: name, exam, room, date and time, accommodations; eight per A4 sheet, mode 0600).
        #[arg(long)]
        codes_pdf: Option<PathBuf>,
        /// Check the file and show what it would change on the hub (new and changed
        /// sittings, students, candidates), import nothing and issue no codes.
        #[arg(long)]
        dry_run: bool,
    },
    /// Register an instrument package (opaque bytes; its hash is served to kiosks).
    Instrument {
        #[command(flatten)]
        data: Data,
        /// The package file.
        file: PathBuf,
        /// Instrument id used in the planning; must be the package's own.
        #[arg(long)]
        id: String,
        /// File with the content key: 32 raw bytes, or their base64 as
        /// `kioskctl instrument pack` writes it beside the package.
        #[arg(long)]
        content_key_file: PathBuf,
        /// The policy the kiosks run: its `[[instrument-key]]`s are the
        /// approval keys the package's signature is checked against.
        #[arg(long)]
        policy: PathBuf,
    },
    /// Register an instrument's scoring data (`kioskctl instrument render --scoring`), used by `report results`.
    Scoring {
        #[command(flatten)]
        data: Data,
        /// The scoring JSON file.
        file: PathBuf,
        /// Instrument id.
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Write the sealed proces-verbaal of a sitting (HTML, PDF and their .sig files).
    ProcesVerbaal {
        #[command(flatten)]
        data: Data,
        /// Sitting id.
        #[arg(long)]
        sitting: String,
        /// Directory to write into (created when missing; files are never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the results of a sitting: CSV for the student information system, optionally QTI 3 results XML.
    Results {
        #[command(flatten)]
        data: Data,
        /// Sitting id.
        #[arg(long)]
        sitting: String,
        /// The CSV file to create.
        #[arg(long)]
        out: PathBuf,
        /// Directory for one QTI 3 assessmentResult document per candidate.
        #[arg(long)]
        qti: Option<PathBuf>,
    },
    /// Add an invigilator's remark to a sitting's proces-verbaal.
    Remark {
        #[command(flatten)]
        data: Data,
        /// Sitting id.
        #[arg(long)]
        sitting: String,
        /// Who writes it.
        #[arg(long)]
        author: String,
        /// The remark.
        #[arg(long)]
        text: String,
    },
}

#[derive(Subcommand)]
enum ScoreCommand {
    /// List the items that wait for a person's score, with each student's answer.
    Pending {
        #[command(flatten)]
        data: Data,
        /// Sitting id.
        #[arg(long)]
        sitting: String,
        /// Only this student.
        #[arg(long)]
        student: Option<String>,
    },
    /// Record the points for one item of one student's answers (replaces an
    /// earlier score of that item; journalled with who scored it).
    Set {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        seat: Seat,
        /// The item, as `score pending` and the results' nog_te_beoordelen name it.
        #[arg(long)]
        item: String,
        /// Points, from 0 (at most 3 decimals, e.g. 2.5).
        #[arg(long, allow_negative_numbers = true)]
        points: f64,
        /// The console account of who scores: an administrator (the exam office); invigilators do not score.
        #[arg(long)]
        by: String,
    },
}

#[derive(Subcommand)]
enum SittingsCommand {
    /// Every sitting, past and planned, newest first: a header, then one
    /// tab-separated line per sitting (date and time in Dutch local time,
    /// sitting, room, exam, exam code, verwacht, ingelogd, ingeleverd, afwezig).
    List {
        #[command(flatten)]
        data: Data,
        /// First day, YYYY-MM-DD (Dutch local time).
        #[arg(long)]
        from: Option<String>,
        /// Last day, YYYY-MM-DD, included.
        #[arg(long)]
        to: Option<String>,
        /// Only this room.
        #[arg(long)]
        room: Option<String>,
        /// Only this student's sittings (student number, or part of the name), with the student's status.
        #[arg(long)]
        student: Option<String>,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Delete what is older than retention-days (hub.toml) and record each deletion.
    Run {
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account, or replace its password, name, role and rooms. The password is read from standard input.
    Add {
        #[command(flatten)]
        data: Data,
        /// Login name.
        #[arg(long)]
        username: String,
        /// Full name, shown in the console and the proces-verbaal.
        #[arg(long)]
        name: String,
        /// invigilator (of --room) or admin (every room).
        #[arg(long, value_enum)]
        role: ConsoleRole,
        /// A room the invigilator runs (repeatable).
        #[arg(long = "room")]
        rooms: Vec<String>,
    },
    /// Clear the lock-out an older hub version recorded after wrong passwords
    /// (`account list` shows LOCKED). Sign-in no longer locks accounts: wrong
    /// passwords slow further attempts of that name from that address (at most
    /// 5 minutes; the wait ends by itself), and this does not shorten that wait.
    Unlock {
        #[command(flatten)]
        data: Data,
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// Disable an account and end its sessions.
    Disable {
        #[command(flatten)]
        data: Data,
        /// Login name.
        #[arg(long)]
        username: String,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        data: Data,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ConsoleRole {
    Invigilator,
    Admin,
}

#[derive(Clone, Copy, ValueEnum)]
enum Action {
    Lock,
    Unlock,
    AddTime,
    Pause,
    Resume,
    End,
}

fn main() -> std::process::ExitCode {
    // Data at rest: whatever this process creates (the database and the
    // files SQLite makes beside it, backups, reports, directories) is private
    // to the hub's user, also files created by libraries that take no mode.
    // Files and directories that must be private are also created with
    // explicit modes, so this does not depend on the umask alone.
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EXAM_HUB_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a log file
        // or the journal of a service (issue 17).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return std::process::ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            // A seal that does not hold is a verification result, not a usage error.
            if matches!(err.downcast_ref::<ReportError>(), Some(ReportError::Seal(_))) {
                return std::process::ExitCode::from(1);
            }
            std::process::ExitCode::from(2)
        }
    }
}

/// Gives the exam office the new access codes: the text list (to `out`;
/// printed when neither `out` nor a PDF is asked for), then the code slips
/// (`pdf`). The codes are already changed on the hub, so a list or PDF that
/// cannot be made or written never loses them: the list is then printed on
/// standard output and the error says so (before, a failed PDF left the exam
/// office without the new codes, and a reissue had already voided the old).
async fn hand_out_codes(db: &exam_hub::db::Db, codes: &[planning::IssuedCode], out: Option<&Path>, pdf: Option<&Path>) -> anyhow::Result<()> {
    let list = reports::code_list(codes);
    let kept = |e: anyhow::Error| {
        print!("{list}");
        e.context("the new access codes are printed above (they are changed on the hub): hand them out from there")
    };
    match out {
        Some(path) => {
            write_private(path, &list).map_err(kept)?;
            eprintln!("printable code list: {} (print it, then delete it)", path.display());
        }
        None if pdf.is_some() => {}
        None => print!("{list}"),
    }
    if let Some(path) = pdf {
        let made = match reports::code_slips(db, codes).await {
            Ok(doc) => write_private_bytes(path, doc.as_bytes()),
            Err(e) => Err(e.into()),
        };
        made.map_err(|e| if out.is_some() { e.context(format!("the new access codes are in the list {}", out.map(|p| p.display().to_string()).unwrap_or_default())) } else { kept(e) })?;
        eprintln!("code slips (PDF): {} ({} slips; print them, then delete the file)", path.display(), codes.len());
    }
    Ok(())
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    write_private_bytes(path, text.as_bytes())
}

fn write_private_bytes(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    match exam_secure::FileWrite::PRIVATE.create_new().write(path, bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!("{} exists; refusing to overwrite a code list", path.display()),
        other => other.with_context(|| format!("cannot write {}", path.display())),
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Init { data, names, school, listen, database } => {
            let summary = pki::init(&data, &names, &school)?;
            let config = Config { school, listen, database, server_names: names, retention_days: None, sitting_grace_minutes: None, wrap_key_file: None, accept_test_kiosks: false };
            pki::write_file(&data.join(files::CONFIG), config.to_file_text().as_bytes(), false)?;
            // Create (and migrate) the database now, so problems show at once.
            Db::connect(&config.database_url(&data)).await.context("cannot create the database")?;
            println!("exam-hub initialised in {}", data.display());
            println!("school CA:           {} (sha256 {})", data.join(files::SCHOOL_CA_CERT).display(), summary.school_ca_sha256);
            println!("hub signing key:     {} (put this in the policy as the hub echo key)", summary.signing_public_key);
            let listen = &config.listen;
            if listen == DEFAULT_LISTEN {
                println!("listens on:          {listen} (this machine only; for kiosks set `listen` in hub.toml, or init with --listen ADDRESS:8443)");
            } else {
                println!("listens on:          {listen}");
            }
            println!("next: exam-hub serve --data {}", data.display());
        }
        Command::Serve { data, listen } => {
            let config = Config::load(&data.data)?;
            // A data directory from before 0700 was the rule is made private at start.
            pki::private_dir(&data.data)?;
            let listen = listen.unwrap_or(config.listen.clone());
            let url = data.database_url()?;
            let hub = exam_hub::state::build(&data.data, &url).await?;
            if let Some(days) = config.retention_days {
                tokio::spawn(reports::retention::run_periodically(hub.db.clone(), reports::RetentionRule { days: days.get() }));
            }
            let listener = listen_on(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, backend = ?hub.db.backend, "serving");
            println!("exam-hub listening on https://{addr}");
            std::io::stdout().flush()?;
            exam_hub::server::serve(listener, hub, shutdown_signal()).await;
            tracing::info!("stopped");
        }
        Command::EnrolToken { data, room, hours, count } => {
            if hours <= 0 {
                bail!("--hours must be positive");
            }
            if !(1..=500).contains(&count) {
                bail!("--count must be 1 to 500");
            }
            let db = data.db().await?;
            let mut tokens = Vec::new();
            for _ in 0..count {
                tokens.push(admin::create_enrol_token(&db, &room, hours * 3_600_000).await?);
            }
            for token in &tokens {
                println!("{token}");
            }
            if let Ok(fingerprint) = pki::school_ca_sha256(&data.data) {
                // The address kiosks use, from hub.toml (issue 17: the hint said HUB:PORT).
                let hub_url = Config::load(&data.data).ok().map_or_else(|| "https://HUB:PORT".to_owned(), |c| c.kiosk_url());
                let each = if count == 1 { "once" } else { "each token once, on one PC" };
                eprintln!("enrol {count} kiosk(s) in {room} (valid {hours} h, {each}):");
                for token in &tokens {
                    eprintln!("  kioskctl enrol --hub {hub_url} --token {token} --ca-sha256 {fingerprint} --data DIR");
                }
            }
        }
        Command::Import(ImportCommand::Planning { data, file, codes_out, codes_pdf, dry_run }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let (text, note) = planning::decode_planning(&bytes);
            if let Some(note) = note {
                eprintln!("{}: {note}", file.display());
            }
            let keys = Keys::load(&data.data)?;
            // Refused before anything is imported: the codes are shown only once.
            for path in codes_out.iter().chain(&codes_pdf) {
                if path.exists() {
                    bail!("{} exists; refusing to overwrite a code list (nothing imported)", path.display());
                }
            }
            let db = data.db().await?;
            let summary = planning::import_planning(&db, &keys, &text, &file.display().to_string(), dry_run).await?;
            // A dry run's answer is the list (standard output); an import's
            // standard output may be the code list, so its changes go to stderr.
            for change in &summary.changes {
                if dry_run {
                    println!("would change: {change}");
                } else {
                    eprintln!("changed: {change}");
                }
            }
            if dry_run {
                eprintln!(
                    "dry run: {} rows checked, {} change(s); nothing imported, no codes issued",
                    summary.rows,
                    summary.changes.len()
                );
                return Ok(());
            }
            eprintln!(
                "imported {} rows: {} students, {} sittings; {} new access codes",
                summary.rows,
                summary.students,
                summary.sittings,
                summary.codes.len()
            );
            if !summary.without_exam_code.is_empty() {
                eprintln!(
                    "note: no exam code for sitting(s) {}: their results will have an empty examencode; add a column exam_code \
                     (the exam's code in the student information system) and import the file again",
                    summary.without_exam_code.join(", ")
                );
            }
            let pdf = match &codes_pdf {
                Some(path) if summary.codes.is_empty() => {
                    eprintln!("no new access codes, so no code slips: {} not written (exam-hub reissue-codes --pdf makes new ones)", path.display());
                    None
                }
                other => other.as_deref(),
            };
            hand_out_codes(&db, &summary.codes, codes_out.as_deref(), pdf).await?;
        }
        Command::Import(ImportCommand::Instrument { data, file, id, content_key_file, policy }) => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let path = content_key_file;
            let raw = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            // Either the 32 raw bytes, or their base64 as `kioskctl instrument pack` writes it.
            let key = if raw.len() == 32 {
                raw
            } else {
                let text = String::from_utf8_lossy(&raw);
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text.trim())
                    .with_context(|| format!("{}: neither 32 raw bytes nor base64", path.display()))?
            };
            if key.len() != 32 {
                bail!("{}: a content key is 32 bytes, this file holds {}", path.display(), key.len());
            }
            // Fails the day before, not at 9:00 (issue 17): the package is
            // read, its approval checked, opened with this key and its content
            // imported exactly as a kiosk will at the start.
            let checked = planning::check_instrument_package(&file, &id, &key, &policy)?;
            let key = Some(key);
            let db = data.db().await?;
            let mut keys = Keys::load(&data.data)?;
            exam_hub::secrets::prepare(&db, &mut keys).await?;
            let sha = planning::import_instrument(&db, keys.wrap_key()?, &id, &bytes, key).await?;
            println!("instrument {id} version {}: {:?}, {}; {} bytes, sha256 {sha}", checked.version, checked.title, checked.content, bytes.len());
        }
        Command::ReissueCodes { data, sitting, student, out, pdf } => {
            let keys = Keys::load(&data.data)?;
            for path in out.iter().chain(&pdf) {
                if path.exists() {
                    bail!("{} exists; refusing to overwrite a code list (no codes changed)", path.display());
                }
            }
            let db = data.db().await?;
            let codes = planning::reissue_codes(&db, &keys, &sitting, student.as_deref()).await?;
            if codes.is_empty() {
                bail!("no candidates found for sitting {sitting}");
            }
            hand_out_codes(&db, &codes, out.as_deref(), pdf.as_deref()).await?;
        }
        Command::Revoke { data, device } => {
            admin::revoke_device(&data.db().await?, &device).await?;
            println!("device {device} revoked");
        }
        Command::ResetLock { data, seat: Seat { sitting, student } } => {
            admin::reset_lock(&data.db().await?, &sitting, &student).await?;
            println!("lock-out cleared for {student} in {sitting}");
        }
        Command::Reopen { data, seat: Seat { sitting, student }, reason } => {
            admin::reopen(&data.db().await?, &sitting, &student, &reason, "exam-hub cli").await?;
            println!("exam of {student} in {sitting} reopened");
        }
        Command::Start { data, sitting } => {
            admin::start_sitting(&data.db().await?, &sitting).await?;
            println!("sitting {sitting} started");
        }
        Command::WebNonce { data, sitting } => {
            println!("{}", exam_hub::web_session::session_nonce(&Keys::load(&data.data)?, &sitting));
        }
        Command::Instruct { data, action, minutes, device, room, sitting, student, reason } => {
            let target = match (device, room, sitting, student) {
                (Some(d), None, None, None) => Target::Device(d),
                (None, Some(r), None, None) => Target::Room(r),
                (None, None, Some(sitting), Some(student)) => Target::Student { sitting, student },
                _ => bail!("give exactly one target: --device, --room, or --sitting with --student"),
            };
            let kind = match action {
                Action::Lock => InstructionKind::Lock,
                Action::Unlock => InstructionKind::Unlock,
                Action::AddTime if minutes == 0 => bail!("add-time needs --minutes"),
                Action::AddTime => InstructionKind::AddTime { minutes },
                Action::Pause => InstructionKind::Pause,
                Action::Resume => InstructionKind::Resume,
                Action::End => InstructionKind::End,
            };
            let ids = admin::instruct(&data.db().await?, &target, kind, &reason, "exam-hub cli").await?;
            if ids.is_empty() {
                eprintln!("recorded on the hub; no PC is logged in to send it to");
            }
            for id in ids {
                println!("{id}");
            }
        }
        Command::Device(DeviceCommand::Readmit { device, data, reason }) => {
            admin::readmit_device(&data.db().await?, &device, &reason).await?;
            println!("device {device} re-admitted: it may enrol again with a new token (exam-hub enrol-token)");
        }
        Command::Devices { data } => {
            for line in admin::list_devices(&data.db().await?).await? {
                println!("{line}");
            }
        }
        Command::Import(ImportCommand::Scoring { data, file, id }) => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let items = reports::import_scoring(&data.db().await?, &id, &text).await?;
            println!("instrument {id}: scoring data for {items} items");
        }
        Command::Report(ReportCommand::ProcesVerbaal { data, sitting, out }) => {
            let keys = Keys::load(&data.data)?;
            for path in reports::write_proces_verbaal(&data.db().await?, &keys, &sitting, &out).await? {
                println!("{}", path.display());
            }
        }
        Command::Report(ReportCommand::Results { data, sitting, out, qti }) => {
            let results = reports::write_results(&data.db().await?, &sitting, &out, qti.as_deref()).await?;
            if !results.scored {
                eprintln!("note: no scoring data for instrument {}: results have no score (exam-hub import scoring)", results.instrument_id);
            }
            if results.exam_code.is_none() {
                eprintln!("note: the planning gave sitting {sitting} no exam code: examencode is empty (planning column exam_code)");
            }
            let pending: usize = results.rows.iter().map(|r| r.pending.len()).sum();
            if pending > 0 {
                eprintln!("note: {pending} item(s) wait for a person's score: their scores are provisional (exam-hub score pending)");
            }
            for row in results.rows.iter().filter(|r| r.test_unscored.is_some()) {
                eprintln!(
                    "note: {}: the test's outcome processing could not run ({}): the score is the sum of the items, provisional",
                    row.student_number,
                    row.test_unscored.as_deref().unwrap_or_default()
                );
            }
            println!("{}: {} candidates", out.display(), results.rows.len());
        }
        Command::Score(ScoreCommand::Pending { data, sitting, student }) => {
            let results = reports::results(&data.db().await?, &sitting).await?;
            if !results.scored {
                bail!("no scoring data for instrument {}: exam-hub import scoring first", results.instrument_id);
            }
            let rows: Vec<_> = results.rows.iter().filter(|r| student.as_deref().is_none_or(|s| s == r.student_number)).collect();
            if rows.is_empty() {
                bail!("student {} is not planned for sitting {sitting}", student.unwrap_or_default());
            }
            let mut count = 0;
            for row in rows {
                for item in row.items.iter().filter(|i| row.pending.contains(&i.ref_identifier)) {
                    count += 1;
                    let max = item.max_score.map_or_else(
                        || "maximum unknown: cannot be scored until the scoring data gives its max_score".to_owned(),
                        |m| format!("at most {}", reports::format_score(m)),
                    );
                    println!("{}  {}  ({max})", row.student_number, item.ref_identifier);
                    if let Some(why) = &item.unscored {
                        println!("    why a person scores it: {why}");
                    }
                    let answer = reports::scoring::answer_text(item);
                    if answer.is_empty() {
                        println!("    (no answer)");
                    }
                    for line in answer.lines() {
                        println!("    {line}");
                    }
                }
            }
            eprintln!("{count} item(s) wait for a score (exam-hub score set)");
        }
        Command::Score(ScoreCommand::Set { data, seat: Seat { sitting, student }, item, points, by }) => {
            let done = reports::record_hand_score(&data.db().await?, &sitting, &student, &item, points, &by).await?;
            let of = done.max_score.map(|m| format!(" of {}", reports::format_score(m))).unwrap_or_default();
            let was = done.replaced.map(|r| format!(" (was {} by {})", reports::format_score(r.points), r.by)).unwrap_or_default();
            println!("{student} {item}: {}{of} points{was}", reports::format_score(points));
            let row = &done.row;
            let total = row.score.map(reports::format_score).unwrap_or_default();
            let max = row.max_score.map(|m| format!(" of {}", reports::format_score(m))).unwrap_or_default();
            if row.is_final() {
                println!("score {total}{max}: final, every item is scored");
            } else {
                let mut why = Vec::new();
                if !row.pending.is_empty() {
                    why.push(format!("still to score: {}", row.pending.join(", ")));
                }
                if let Some(reason) = &row.test_unscored {
                    why.push(format!("the test's outcome processing could not run ({reason}): the sum of the items"));
                }
                println!("score so far {total}{max}: provisional, {}", why.join("; "));
            }
        }
        Command::Report(ReportCommand::Remark { data, sitting, author, text }) => {
            let remark = reports::add_remark(&data.db().await?, &sitting, &author, &text).await?;
            println!("remark {} added", remark.id);
        }
        Command::VerifyPv { file, sig, data, key } => {
            let trusted = match (key, data) {
                (Some(key), _) => key,
                (None, Some(dir)) => Keys::load(&dir)?.signing_public_hex.clone(),
                (None, None) => bail!("give --data or --key"),
            };
            let seal = reports::verify_sealed_file(&file, &sig, &trusted)?;
            println!("{}: seal OK (hub key {}, sha256 {})", file.display(), seal.public_key, seal.sha256);
        }
        Command::Sittings(SittingsCommand::List { data, from, to, room, student }) => {
            let query = console::archive::ArchiveQuery {
                from: from.unwrap_or_default(),
                to: to.unwrap_or_default(),
                room: room.unwrap_or_default(),
                student: student.unwrap_or_default(),
                ..Default::default()
            };
            for (flag, day) in [("--from", &query.from), ("--to", &query.to)] {
                if !day.is_empty() && console::archive::day_start_ms(day).is_none() {
                    bail!("{flag} {day:?} is not a date: use YYYY-MM-DD, e.g. 2026-12-04");
                }
            }
            let filter = console::archive::filter_of(&query)?;
            for line in console::archive::tsv(&data.db().await?.pool, &filter, exam_hub::now_ms()).await? {
                println!("{line}");
            }
        }
        Command::Retention(RetentionCommand::Run { data }) => {
            let config = Config::load(&data.data)?;
            let Some(days) = config.retention_days else {
                bail!("hub.toml sets no retention-days: nothing is deleted (docs/hub.md, Retention)");
            };
            let rule = reports::RetentionRule { days: days.get() };
            let done = reports::run_retention(&data.db().await?, rule, exam_hub::now_ms()).await?;
            println!(
                "{}: answers of {} sittings ({} saves) and {} journal records of {} devices deleted",
                rule.describe(),
                done.answer_sittings,
                done.answer_rows,
                done.journal_rows,
                done.journal_devices
            );
        }
        Command::Backup { data, out } => {
            // One clear error before anything is opened (issue 17: a missing
            // directory gave SQLite's "unable to open database" three times).
            let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            if !parent.is_dir() {
                bail!("{}: the directory for the backup does not exist; create it first", parent.display());
            }
            let db = data.db().await?;
            // Secrets still in plain text (a database from before wrapping,
            // backed up before the first start of this version) are wrapped
            // first, so what this says of the backup is true.
            let mut keys = Keys::load(&data.data)?;
            exam_hub::secrets::prepare(&db, &mut keys).await?;
            admin::backup_sqlite(&db, &out).await?;
            println!("backup written to {} (mode 0600)", out.display());
            println!("it holds the whole database: planning, access-code hashes, instruments, journals, answers, console accounts;");
            println!("content keys and room-code secrets in it are wrapped: they open only with the hub wrap key,");
            println!("which is NOT in the backup: {}", exam_hub::config::wrap_key_path(&data.data).display());
            println!("back that key file up separately (another medium, kept apart): without it, the instruments' content keys and the room codes in this backup cannot be used.");
        }
        Command::Account(AccountCommand::Add { data, username, name, role, rooms }) => {
            // At a terminal the password is asked without echo (issue 17: it
            // was shown as typed); from a pipe it is the first line.
            let password = if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                ask_password(&format!("password for {username}: ")).context("cannot read the password")?
            } else {
                let mut password = String::new();
                std::io::stdin().read_line(&mut password).context("cannot read the password from standard input")?;
                password.trim_end_matches(['\r', '\n']).to_owned()
            };
            let password = password.as_str();
            let role = match role {
                ConsoleRole::Invigilator => exam_hub::accounts::Role::Invigilator,
                ConsoleRole::Admin => exam_hub::accounts::Role::Admin,
            };
            let db = data.db().await?;
            let policy_rooms: Vec<String> = Keys::load(&data.data)
                .ok()
                .and_then(|k| k.signed_policy)
                .and_then(|text| exam_hub::config::read_hub_policy(&text).ok())
                .map(|p| p.locations.iter().map(|l| l.name.clone()).collect())
                .unwrap_or_default();
            for note in exam_hub::accounts::check_rooms(&db, &policy_rooms, &rooms).await? {
                eprintln!("{note}");
            }
            exam_hub::accounts::add(&db, &username, &name, role, &rooms, password).await?;
            println!("account {username} saved");
        }
        Command::Account(AccountCommand::Unlock { data, username }) => {
            let cleared = admin::unlock_account(&data.db().await?, &username).await?;
            println!("{}", unlock_message(&username, cleared));
        }
        Command::Account(AccountCommand::Disable { data, username }) => {
            exam_hub::accounts::disable(&data.db().await?, &username).await?;
            println!("account {username} disabled");
        }
        Command::Account(AccountCommand::List { data }) => {
            for line in exam_hub::accounts::list(&data.db().await?).await? {
                println!("{line}");
            }
        }
        Command::RoomCode { data, room, step, digits } => {
            let db = data.db().await?;
            let mut keys = Keys::load(&data.data)?;
            exam_hub::secrets::prepare(&db, &mut keys).await?;
            let secret = console::room::create_room_secret(&db, keys.wrap_key()?, &room, step, digits).await?;
            println!("{secret}");
            eprintln!("room {room}: put this base32 secret in the policy's room-code secret file (algorithm sha1, step {step} s, {digits} digits)");
        }
        Command::Alarms { data } => {
            for line in admin::list_alarms(&data.db().await?).await? {
                println!("{line}");
            }
        }
    }
    Ok(())
}

/// What `account unlock` did: sign-in itself never locks an account, so only
/// a lock-out an older hub version recorded can have been cleared.
fn unlock_message(username: &str, cleared: bool) -> String {
    let what = if cleared { "the lock-out an older hub version recorded was cleared" } else { "there was no lock-out to clear" };
    format!(
        "account {username}: {what}; sign-in does not lock accounts, wrong passwords only slow further attempts \
         of that name from that address (at most {} minutes; the wait ends by itself)",
        console::auth::MAX_DELAY_MS / 60_000
    )
}

/// Listens with a deep accept queue: at 9:00 a whole hall connects at once.
async fn listen_on(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    let addr = tokio::net::lookup_host(addr).await?.next().context("the address resolves to nothing")?;
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket.listen(exam_hub::config::LISTEN_BACKLOG)?)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    /// `account unlock` says what it clears: sign-in slows wrong passwords
    /// (per name and address), it does not lock accounts, and this command
    /// does not change that wait.
    #[test]
    fn account_unlock_tells_what_it_clears() {
        let mut cli = Cli::command();
        let unlock = cli.find_subcommand_mut("account").and_then(|a| a.find_subcommand_mut("unlock")).unwrap();
        let help = unlock.render_long_help().to_string();
        assert!(!help.contains("Lift a lock-out after wrong passwords"), "{help}");
        assert!(help.contains("older hub version") && help.contains("no longer locks") && help.contains("does not shorten"), "{help}");
        let nothing = unlock_message("jan", false);
        assert!(nothing.contains("no lock-out to clear") && nothing.contains("does not lock accounts"), "{nothing}");
        assert!(!nothing.contains("unlocked"), "{nothing}");
        assert!(unlock_message("jan", true).contains("older hub version recorded was cleared"));
    }
}

/// Asks for a password at the terminal without echo. The echo goes off
/// before the prompt is shown: rpassword's `prompt_password` shows the
/// prompt first and only then turns the echo off, so what is typed (or
/// pasted) at once after the prompt appeared could still be shown
/// (`defaults::a_password_typed_at_a_terminal_is_not_shown` saw it about
/// one run in three).
#[cfg(unix)]
fn ask_password(prompt: &str) -> std::io::Result<String> {
    use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions, Termios};
    use std::io::{BufRead as _, Write as _};
    /// Puts the terminal back as it was, also on an error.
    struct Restore<'a>(&'a std::fs::File, Termios);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = tcsetattr(self.0, OptionalActions::Now, &self.1);
        }
    }
    let tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty")?;
    let before = tcgetattr(&tty)?;
    let mut quiet = before.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    // The Enter still moves to the next line.
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&tty, OptionalActions::Now, &quiet)?;
    let _restore = Restore(&tty, before);
    (&tty).write_all(prompt.as_bytes())?;
    (&tty).flush()?;
    let mut line = String::new();
    std::io::BufReader::new(&tty).read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[cfg(not(unix))]
fn ask_password(prompt: &str) -> std::io::Result<String> {
    rpassword::prompt_password(prompt)
}
