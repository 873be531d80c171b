//! The stable exit codes of `kioskctl`.

use std::process::ExitCode;

/// How a command ended; maps one-to-one onto the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: the command did what was asked, or the check passed.
    Ok,
    /// 1: a verification failed or a decision was "refused".
    Failed,
    /// 2: a usage error, or an I/O or configuration error.
    Error,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Ok => ExitCode::from(0),
            Outcome::Failed => ExitCode::from(1),
            Outcome::Error => ExitCode::from(2),
        }
    }
}

/// Prints `error: <chain>` to stderr and returns [`Outcome::Error`].
pub fn error(err: &anyhow::Error) -> Outcome {
    eprintln!("error: {err:#}");
    Outcome::Error
}
