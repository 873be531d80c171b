//! `kioskctl beacon`: run a location beacon, or challenge one.

use crate::exit::{self, Outcome};
use anyhow::Context;
use clap::Subcommand;
use exam_policy::{BeaconReq, PublicKeyHex, SigningKey};
use kiosk_core::location::beacon::{self, BeaconServer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

/// Location beacons.
#[derive(Subcommand)]
pub enum BeaconCommand {
    /// Answer challenges on the exam LAN until killed.
    Serve {
        /// The beacon's signing key (from `kioskctl policy keygen`).
        #[arg(long)]
        key: PathBuf,
        /// UDP address to listen on, e.g. 10.20.4.2:7207.
        #[arg(long)]
        listen: SocketAddr,
        /// The beacon's identity (policies may require it).
        #[arg(long, default_value = "beacon")]
        id: String,
        /// Testing only: skew the beacon's clock by this many ms.
        #[arg(long, default_value_t = 0, allow_hyphen_values = true, hide = true)]
        time_offset_ms: i64,
    },
    /// Challenge a beacon once (exit 0 valid answer, 1 failed).
    Probe {
        /// The beacon's address.
        #[arg(long)]
        address: SocketAddr,
        /// The beacon's public key (64 hex).
        #[arg(long)]
        public_key: PublicKeyHex,
        /// The id to present.
        #[arg(long, default_value = "kioskctl")]
        device_id: String,
        /// Timeout, ms.
        #[arg(long, default_value_t = 500)]
        timeout_ms: u32,
    },
}

/// Runs a `beacon` subcommand.
pub fn run(cmd: BeaconCommand) -> Outcome {
    match cmd {
        BeaconCommand::Serve { key, listen, id, time_offset_ms } => {
            serve(key, listen, &id, time_offset_ms).unwrap_or_else(|e| exit::error(&e))
        }
        BeaconCommand::Probe { address, public_key, device_id, timeout_ms } => {
            let req = BeaconReq {
                address,
                public_key,
                id: None,
                max_age_ms: exam_policy::defaults::BEACON_MAX_AGE_MS,
                timeout_ms,
            };
            match beacon::probe(&req, &device_id) {
                Ok(p) => {
                    outln!("ok: {} answered in {:.2} ms, clock skew {} ms", p.beacon_id, p.rtt_us as f64 / 1000.0, p.clock_skew_ms);
                    Outcome::Ok
                }
                Err(e) => {
                    outln!("failed: {e}");
                    Outcome::Failed
                }
            }
        }
    }
}

fn serve(key: PathBuf, listen: SocketAddr, id: &str, offset: i64) -> anyhow::Result<Outcome> {
    let key = SigningKey::load(&key)?;
    let public = key.public_key();
    let mut server = BeaconServer::bind(listen, key, id).with_context(|| format!("cannot listen on {listen}"))?;
    server.time_offset_ms = offset;
    // Printed so scripts and tests know it is ready.
    outln!("beacon {id} listening on {} (public key {public})", server.local_addr()?);
    let stop = AtomicBool::new(false);
    server.serve(&stop).context("beacon stopped")?;
    Ok(Outcome::Ok)
}
