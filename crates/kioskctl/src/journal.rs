//! `kioskctl journal`: append to, verify, list and checkpoint a journal.

use crate::exit::{self, Outcome};
use anyhow::Context as _;
use clap::Subcommand;
use exam_journal::{
    format::RecordType, latest_checkpoint, read_records, verify_journal, Event, ExportedCheckpoint, Journal,
    JournalConfig, KeyStore, PublicKey, VerifyError, VerifyOptions,
};
use std::path::{Path, PathBuf};

/// Commands on a journal directory.
#[derive(Subcommand)]
pub enum JournalCommand {
    /// Append one event durably (for scripts and tests).
    Append {
        /// The journal directory (created when missing).
        #[arg(long)]
        journal: PathBuf,
        /// Where the device key lives: `keyring`, `keyring:ENTRY` or `file:PATH`.
        #[arg(long)]
        store: KeyStore,
        /// Event kind, e.g. `session.locked` (a-z 0-9 . _ -).
        #[arg(long)]
        kind: String,
        /// JSON payload.
        #[arg(long, default_value = "{}")]
        data: String,
    },
    /// Verify every record, signature, epoch and checkpoint.
    Verify {
        /// The journal directory.
        dir: PathBuf,
        /// The device public key (hex, or a file holding it) every epoch must be certified by.
        #[arg(long)]
        device_key: Option<String>,
        /// A checkpoint file from `journal checkpoint` that the journal must still contain.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the records.
    Show {
        /// The journal directory.
        dir: PathBuf,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the latest signed checkpoint (to hand to `verify --checkpoint` later).
    Checkpoint {
        /// The journal directory.
        dir: PathBuf,
    },
}

/// Runs a journal command.
pub fn run(cmd: JournalCommand) -> Outcome {
    let result = match cmd {
        JournalCommand::Append { journal, store, kind, data } => append(&journal, &store, &kind, &data),
        JournalCommand::Verify { dir, device_key, checkpoint, json } => {
            return verify(&dir, device_key.as_deref(), checkpoint.as_deref(), json)
        }
        JournalCommand::Show { dir, json } => show(&dir, json),
        JournalCommand::Checkpoint { dir } => checkpoint(&dir),
    };
    match result {
        Ok(()) => Outcome::Ok,
        Err(err) => exit::error(&err),
    }
}

fn append(dir: &Path, store: &KeyStore, kind: &str, data: &str) -> anyhow::Result<()> {
    let event = Event::from_json(kind, data)?;
    let key = store.load()?;
    let mut journal = Journal::open(dir, key, JournalConfig::default())?;
    let receipt = journal.append(&event)?;
    // Each run is a writer session; closing it leaves a checkpoint behind.
    journal.close()?;
    outln!("recorded #{} {}", receipt.seq, hex::encode(receipt.hash));
    Ok(())
}

fn verify(dir: &Path, device_key: Option<&str>, checkpoint: Option<&Path>, json: bool) -> Outcome {
    let options = match verify_options(device_key, checkpoint) {
        Ok(options) => options,
        Err(err) => return exit::error(&err),
    };
    match verify_journal(dir, &options) {
        Ok(report) => {
            if json {
                outln!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                outln!(
                    "ok: {} records in {} segments, {} epochs, {} sessions, {} checkpoints",
                    report.records, report.segments, report.epochs, report.sessions, report.checkpoints
                );
                if let Some(key) = &report.device_public_key {
                    let how = if report.device_key_pinned { "pinned" } else { "taken from the journal, not pinned" };
                    outln!("device key: {key} ({how})");
                }
                if let Some(size) = report.external_checkpoint_size {
                    outln!("contains the external checkpoint over {size} records");
                }
            }
            Outcome::Ok
        }
        Err(VerifyError::Failed(failure)) => {
            if json {
                let value = serde_json::json!({
                    "ok": false, "file": failure.file, "offset": failure.offset,
                    "seq": failure.seq, "reason": failure.reason,
                });
                outln!("{value}");
            }
            eprintln!("FAILED: {failure}");
            Outcome::Failed
        }
        Err(VerifyError::Unreadable(err)) => exit::error(&err.into()),
    }
}

fn verify_options(device_key: Option<&str>, checkpoint: Option<&Path>) -> anyhow::Result<VerifyOptions> {
    let device_key = match device_key {
        None => None,
        Some(text) => {
            let path = Path::new(text);
            let hex = if path.is_file() {
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
            } else {
                text.to_owned()
            };
            Some(PublicKey::from_hex(&hex).context("--device-key must be 64 hex digits or a file holding them")?)
        }
    };
    let checkpoint = match checkpoint {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let parsed: ExportedCheckpoint =
                serde_json::from_str(&text).with_context(|| format!("{} is not a journal checkpoint", path.display()))?;
            Some(parsed)
        }
    };
    Ok(VerifyOptions { device_key, checkpoint })
}

fn show(dir: &Path, json: bool) -> anyhow::Result<()> {
    for (_, record) in read_records(dir)? {
        let body = &record.body;
        let payload: serde_json::Value =
            serde_json::from_slice(&body.payload).unwrap_or_else(|_| String::from_utf8_lossy(&body.payload).into());
        let record_type = match body.record_type {
            RecordType::Event => "event",
            RecordType::EpochCertificate => "epoch",
            RecordType::Checkpoint => "checkpoint",
        };
        if json {
            let line = serde_json::json!({
                "seq": body.seq, "type": record_type, "wall_time_us": body.wall_time_us,
                "mono_ns": body.mono_ns, "session": hex::encode(body.session_id), "epoch": body.epoch,
                "kind": body.kind, "payload": payload, "hash": hex::encode(record.hash),
            });
            outln!("{line}");
        } else {
            outln!("{:>6}  {:<10} {:>3}  {:<28} {}", body.seq, record_type, body.epoch, body.kind, payload);
        }
    }
    Ok(())
}

fn checkpoint(dir: &Path) -> anyhow::Result<()> {
    let checkpoint = latest_checkpoint(dir)?.context("the journal has no checkpoint yet")?;
    outln!("{}", serde_json::to_string_pretty(&checkpoint)?);
    Ok(())
}
