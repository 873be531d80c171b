//! `kioskctl`: the admin and test CLI over the exam-kiosk crates.
//!
//! Exit codes are stable and documented in the README:
//! 0 success, 1 a verification or decision said "no", 2 usage or I/O error.

// First: its `outln!` macro is used by the modules below.
#[macro_use]
mod exit;
mod beacon;
mod device;
mod enrol;
mod guard;
mod instrument;
mod invigilator;
mod journal;
mod location;
mod policy;
mod speak;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Admin and test CLI for exam-kiosk.
#[derive(Parser)]
#[command(name = "kioskctl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The device identity key (create, show).
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// The signed integrity journal (append, verify, show, checkpoint).
    #[command(subcommand)]
    Journal(journal::JournalCommand),
    /// Exam policies (check, sign, verify, schema, keygen).
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Location checks (probe).
    #[command(subcommand)]
    Location(location::LocationCommand),
    /// Location beacons (serve, probe).
    #[command(subcommand)]
    Beacon(beacon::BeaconCommand),
    /// The process guard (scan, watch).
    #[command(subcommand)]
    Guard(guard::GuardCommand),
    /// Invigilators (PIN hashes for the policy's roster).
    #[command(subcommand)]
    Invigilator(invigilator::InvigilatorCommand),
    /// Exam instrument packages (pack, inspect, verify, render).
    #[command(subcommand)]
    Instrument(instrument::InstrumentCommand),
    /// Enrol this device with the school's exam-hub (client certificate, pinned school CA).
    Enrol(enrol::EnrolArgs),
    /// Speak a text into a WAV file with the kiosk's read-aloud engine (espeak-ng).
    Speak(speak::SpeakArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version on stdout with exit 0; errors are usage errors.
            let usage_error = err.use_stderr();
            let _ = err.print();
            return if usage_error { exit::Outcome::Error.into() } else { ExitCode::SUCCESS };
        }
    };
    let outcome = match cli.command {
        Command::Device(cmd) => device::run(cmd),
        Command::Journal(cmd) => journal::run(cmd),
        Command::Policy(cmd) => policy::run(cmd),
        Command::Location(cmd) => location::run(cmd),
        Command::Beacon(cmd) => beacon::run(cmd),
        Command::Guard(cmd) => guard::run(cmd),
        Command::Invigilator(cmd) => invigilator::run(cmd),
        Command::Enrol(args) => enrol::run(args),
        Command::Instrument(cmd) => instrument::run(cmd),
        Command::Speak(args) => speak::run(args),
    };
    outcome.into()
}
