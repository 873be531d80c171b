//! `kioskctl enrol`: enrol this device with the school's exam-hub.

use crate::exit::{self, Outcome};
use anyhow::Context as _;
use clap::Args;
use exam_journal::KeyStore;
use kiosk_core::hub::{self, Bootstrap, EnrolOptions};
use std::path::PathBuf;

/// Arguments of `kioskctl enrol`.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("anchor").required(true).args(["ca", "ca_sha256"]))]
pub struct EnrolArgs {
    /// The hub's base URL, e.g. https://hub.school.example:8443.
    #[arg(long)]
    hub: String,
    /// The one-time enrolment token from `exam-hub enrol-token` (it may start with `-`).
    #[arg(long, allow_hyphen_values = true)]
    token: String,
    /// Directory for the enrolment: client certificate and key, pinned school CA, hub.json.
    #[arg(long)]
    data: PathBuf,
    /// The school CA certificate (PEM) to trust for enrolment.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Or: the SHA-256 fingerprint of the school CA (printed by `exam-hub init`).
    #[arg(long)]
    ca_sha256: Option<String>,
    /// The journal device key (`keyring`, `keyring:ENTRY` or `file:PATH`, made
    /// by `kioskctl device init`): the hub registers it and it signs the
    /// enrolment's proof of possession.
    #[arg(long)]
    store: KeyStore,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `kioskctl enrol`.
pub fn run(args: EnrolArgs) -> Outcome {
    match enrol(&args) {
        Ok(identity) => {
            if args.json {
                outln!("{}", serde_json::to_string(&identity).unwrap_or_default());
            } else {
                outln!("enrolled as device {} in room {}", identity.device_id, identity.room);
                outln!("hub:         {}", identity.hub_url);
                outln!("enrolment:   {}", args.data.display());
            }
            Outcome::Ok
        }
        Err(err) => exit::error(&err),
    }
}

fn enrol(args: &EnrolArgs) -> anyhow::Result<hub::HubIdentity> {
    let bootstrap = match (&args.ca, &args.ca_sha256) {
        (Some(path), _) => Bootstrap::CaPem(std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?),
        (None, Some(sha)) => Bootstrap::CaSha256(sha.clone()),
        (None, None) => anyhow::bail!("give --ca FILE or --ca-sha256 FINGERPRINT"),
    };
    let device_key = std::sync::Arc::new(
        args.store.load().with_context(|| format!("cannot load the journal device key from {} (kioskctl device init)", args.store))?,
    );
    let hostname = std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty());
    let options = EnrolOptions { hub_url: args.hub.clone(), token: args.token.clone(), bootstrap, device_key, hostname };
    hub::enrol_blocking(&options, &args.data).context("enrolment failed")
}
