//! `kioskctl invigilator`: PIN hashes for the policy's invigilator roster.

use crate::exit::{self, Outcome};
use clap::Subcommand;
use kiosk_core::session::unlock::PinHash;
use std::io::BufRead as _;

/// Invigilator roster commands.
#[derive(Subcommand)]
pub enum InvigilatorCommand {
    /// Reads a PIN from standard input (never from the command line, where
    /// other users could see it) and prints its salted PBKDF2 hash for
    /// `[[lock.invigilator]] pin = "..."` in the policy.
    PinHash,
}

/// Runs an invigilator command.
pub fn run(cmd: InvigilatorCommand) -> Outcome {
    match cmd {
        InvigilatorCommand::PinHash => {
            let mut line = String::new();
            if let Err(err) = std::io::stdin().lock().read_line(&mut line) {
                return exit::error(&err.into());
            }
            let pin = line.trim_end_matches(['\r', '\n']);
            if pin.len() < 4 || !pin.chars().all(|c| c.is_ascii_digit()) {
                eprintln!("error: a PIN is at least 4 digits");
                return Outcome::Error;
            }
            match PinHash::create(pin) {
                Ok(hash) => {
                    outln!("{hash}");
                    Outcome::Ok
                }
                Err(err) => exit::error(&anyhow::anyhow!(err)),
            }
        }
    }
}
