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
        /// The hub's signing public key (hex, or a file holding it): check the
        /// hub's signed journal receipt and that the journal still holds,
        /// unchanged, every record the hub acknowledged in it.
        #[arg(long)]
        hub_key: Option<String>,
        /// The hub's journal receipt (JSON) to check with --hub-key; default
        /// the one the kiosk kept in the journal's sync-cursor.json.
        #[arg(long, requires = "hub_key")]
        hub_receipt: Option<PathBuf>,
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
    /// Send the records the hub does not hold yet to the hub this device is
    /// enrolled with (mutual TLS with the enrolment's client certificate),
    /// and keep the hub's signed receipt in the journal's sync cursor (what
    /// `verify --hub-key` checks). The kiosk must not be running.
    Sync {
        /// The journal directory.
        #[arg(long)]
        journal: PathBuf,
        /// Where the device key lives: `keyring`, `keyring:ENTRY` or `file:PATH`
        /// (the key the device was enrolled with).
        #[arg(long)]
        store: KeyStore,
        /// The enrolment directory of `kioskctl enrol --data`.
        #[arg(long)]
        enrolment: PathBuf,
    },
}

/// Runs a journal command.
pub fn run(cmd: JournalCommand) -> Outcome {
    let result = match cmd {
        JournalCommand::Append { journal, store, kind, data } => append(&journal, &store, &kind, &data),
        JournalCommand::Verify { dir, device_key, checkpoint, hub_key, hub_receipt, json } => {
            let hub = hub_key.as_deref().map(|key| (key, hub_receipt.as_deref()));
            return verify(&dir, device_key.as_deref(), checkpoint.as_deref(), hub, json);
        }
        JournalCommand::Show { dir, json } => show(&dir, json),
        JournalCommand::Checkpoint { dir } => checkpoint(&dir),
        JournalCommand::Sync { journal, store, enrolment } => sync(&journal, &store, &enrolment),
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

fn verify(
    dir: &Path,
    device_key: Option<&str>,
    checkpoint: Option<&Path>,
    hub: Option<(&str, Option<&Path>)>,
    json: bool,
) -> Outcome {
    let mut options = match verify_options(device_key, checkpoint) {
        Ok(options) => options,
        Err(err) => return exit::error(&err),
    };
    let receipt = match hub.map(|(key, file)| hub_receipt(dir, key, file)).transpose() {
        Ok(receipt) => receipt,
        Err(err) => return exit::error(&err),
    };
    let fail = |reason: String| {
        let failure = exam_journal::VerifyFailure { file: dir.to_owned(), offset: 0, seq: None, reason };
        VerifyError::Failed(failure)
    };
    let result = match &receipt {
        Some(Err(reason)) => Err(fail(reason.clone())),
        Some(Ok((receipt, acknowledged))) => {
            options.acknowledged = *acknowledged;
            verify_journal(dir, &options).and_then(|report| {
                let journal_device = report.device_public_key.as_deref().and_then(|k| PublicKey::from_hex(k).ok());
                match journal_device.map(|k| k.device_id()) {
                    Some(id) if id == receipt.device_id => Ok(report),
                    _ => Err(fail(format!("the hub receipt is for device {}, not this journal's", receipt.device_id))),
                }
            })
        }
        None => verify_journal(dir, &options),
    };
    match result {
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
                match report.hub_acknowledged_through {
                    Some(seq) => outln!("records 0..={seq} are unchanged since the hub acknowledged them (signed receipt)"),
                    None if receipt.is_some() => outln!("the hub had acknowledged no record yet"),
                    None => {}
                }
                for file in &report.quarantined {
                    outln!("quarantined: {} ({} bytes, no complete record)", file.name, file.length);
                }
            }
            Outcome::Ok
        }
        Err(VerifyError::Failed(failure)) => {
            if json {
                // Quarantined bytes are listed whatever the verdict (null when
                // quarantine/ itself cannot be read).
                let quarantined = exam_journal::quarantined_files(dir).ok();
                let value = serde_json::json!({
                    "ok": false, "file": failure.file, "offset": failure.offset,
                    "seq": failure.seq, "reason": failure.reason, "quarantined": quarantined,
                });
                outln!("{value}");
            }
            eprintln!("FAILED: {failure}");
            Outcome::Failed
        }
        Err(VerifyError::Unreadable(err)) => exit::error(&err.into()),
    }
}

/// The hub's journal receipt, its signature checked with `hub_key`: the
/// receipt and the acknowledged (sequence, hash), or why it is not valid
/// (a failed verification). Reading or parsing problems are errors.
type CheckedReceipt = Result<(exam_protocol::JournalReceipt, Option<(u64, [u8; 32])>), String>;

fn hub_receipt(dir: &Path, hub_key: &str, file: Option<&Path>) -> anyhow::Result<CheckedReceipt> {
    let key_path = Path::new(hub_key);
    let key = if key_path.is_file() {
        std::fs::read_to_string(key_path).with_context(|| format!("reading {}", key_path.display()))?
    } else {
        hub_key.to_owned()
    };
    let key = PublicKey::from_hex(&key).context("--hub-key must be 64 hex digits or a file holding them")?.to_hex();
    let receipt: exam_protocol::JournalReceipt = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text).with_context(|| format!("{} is not a hub journal receipt", path.display()))?
        }
        None => {
            // A receipt was demanded: none to check is a failed verification
            // (exit 1), like one that does not verify: deleting it must not
            // look like a usage error.
            let cursor = exam_journal::SyncCursor::load(dir)?;
            let Some(value) = cursor.and_then(|c| c.hub_receipt) else {
                return Ok(Err(format!(
                    "{} keeps no hub receipt, so nothing the hub acknowledged can be checked; give the hub's receipt with --hub-receipt",
                    dir.join("sync-cursor.json").display()
                )));
            };
            serde_json::from_value(value).context("the hub receipt in sync-cursor.json is not a hub journal receipt")?
        }
    };
    if let Err(e) = receipt.verify(&key) {
        return Ok(Err(format!("the hub receipt does not verify with the hub key: {e}")));
    }
    let Some(last) = receipt.next_seq.checked_sub(1) else { return Ok(Ok((receipt, None))) };
    let hash: Option<[u8; 32]> = hex::decode(&receipt.last_hash).ok().and_then(|h| h.try_into().ok());
    Ok(match hash {
        Some(hash) => Ok((receipt, Some((last, hash)))),
        None => Err("the hub receipt's last_hash is not 64 hex digits".into()),
    })
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
    Ok(VerifyOptions { device_key, checkpoint, acknowledged: None })
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

/// Most records sent in one request (the kiosk's own sync sends as many).
const SYNC_BATCH: usize = 500;

fn sync(dir: &Path, store: &KeyStore, enrolment: &Path) -> anyhow::Result<()> {
    use kiosk_core::hub::{self, HubClient};
    let client = HubClient::from_dir(enrolment).with_context(|| format!("cannot load the enrolment in {}", enrolment.display()))?;
    let mut journal = Journal::open(dir, store.load()?, JournalConfig::default())?;
    let mut sent = 0usize;
    let mut last_receipt = None;
    loop {
        let from = journal.sync_cursor().map_or(0, |c| c.acked_seq + 1);
        // The records before a damaged one are sent first (they are evidence
        // too); then the damage ends the sync with an error naming it.
        let read = exam_journal::read_frames_until_damage(&journal.segments_from(from), from, SYNC_BATCH)?;
        let frames = read.frames;
        if frames.is_empty() {
            if let Some(damage) = read.damage {
                journal.close()?;
                anyhow::bail!("the journal cannot be read from record {from} on ({damage}); {sent} records before it were sent to the hub");
            }
            break;
        }
        // upload_journal checks the receipt's signature with the hub key of the enrolment.
        let receipt = hub::block_on(client.upload_journal(&frames))?
            .with_context(|| format!("the hub at {} did not take the journal", client.identity.hub_url))?;
        if receipt.device_id != client.identity.device_id {
            anyhow::bail!("the hub's receipt is for device {}, not {}", receipt.device_id, client.identity.device_id);
        }
        let last = receipt.next_seq.checked_sub(1).context("the hub's receipt acknowledges no record")?;
        let hash: [u8; 32] = hex::decode(&receipt.last_hash)
            .ok()
            .and_then(|h| h.try_into().ok())
            .context("the hub's receipt has no valid last_hash")?;
        if last + 1 < from + frames.len() as u64 {
            anyhow::bail!("the hub acknowledged records up to {last} of the {} sent from {from}", frames.len());
        }
        journal.acknowledge_with_receipt(last, &hash, Some(serde_json::to_value(&receipt)?))?;
        sent += frames.len();
        last_receipt = Some(receipt);
    }
    // Closing writes a checkpoint after what was sent: it goes with the next sync.
    journal.close()?;
    match last_receipt {
        Some(receipt) => outln!(
            "sent {sent} records to {}: the hub holds records 0..={} of device {} (its signed receipt is kept in sync-cursor.json)",
            client.identity.hub_url,
            receipt.next_seq - 1,
            receipt.device_id
        ),
        None => outln!("nothing to send"),
    }
    Ok(())
}
