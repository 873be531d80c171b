//! `kioskctl device`: the device identity key.

use crate::exit::{self, Outcome};
use clap::Subcommand;
use exam_journal::{KeyStore, PublicKey};

/// Commands on the device identity key.
#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Create the device key; prints its device id and public key.
    Init {
        /// Where the key lives: `keyring`, `keyring:ENTRY` or `file:PATH`.
        #[arg(long)]
        store: KeyStore,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the device id and public key.
    Show {
        /// Where the key lives: `keyring`, `keyring:ENTRY` or `file:PATH`.
        #[arg(long)]
        store: KeyStore,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a device command.
pub fn run(cmd: DeviceCommand) -> Outcome {
    let (result, json) = match cmd {
        DeviceCommand::Init { store, json } => (store.create().map(|k| k.public_key()), json),
        DeviceCommand::Show { store, json } => (store.load().map(|k| k.public_key()), json),
    };
    match result {
        Ok(public) => {
            print_identity(&public, json);
            Outcome::Ok
        }
        Err(err) => exit::error(&err.into()),
    }
}

fn print_identity(public: &PublicKey, json: bool) {
    if json {
        outln!("{}", serde_json::json!({"device_id": public.device_id(), "public_key": public.to_hex()}));
    } else {
        outln!("device id:  {}\npublic key: {}", public.device_id(), public.to_hex());
    }
}
