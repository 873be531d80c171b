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
    eprintln!("error: {}", chain(err));
    Outcome::Error
}

/// The error and its causes joined with `: `, each said once: a cause whose
/// text its wrapper already shows (`QTI: X` over `X`) is not repeated.
pub fn chain(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let message = cause.to_string();
        if text.ends_with(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

/// `println!` for every command: when stdout is a closed pipe
/// (`kioskctl journal show DIR | head -1`) the process ends quietly with
/// exit code 2 (an I/O error) instead of panicking with a backtrace.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::exit::write_line(format_args!($($arg)*))
    };
}

/// Writes one line to stdout; see [`outln!`].
pub fn write_line(args: std::fmt::Arguments<'_>) {
    if let Err(err) = try_write_line(args) {
        report_stdout_error(&err);
        std::process::exit(2);
    }
}

/// Writes one line to stdout and flushes it, returning the error instead of
/// ending the process: for commands that must finish their own work (journal
/// what happened, close the journal) before they end on a closed stdout.
pub fn try_write_line(args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_fmt(args).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush())
}

/// Says why stdout could not be written (nothing for a closed pipe: the
/// reader went away on purpose, `| head -1`).
pub fn report_stdout_error(err: &std::io::Error) {
    if err.kind() != std::io::ErrorKind::BrokenPipe {
        eprintln!("error: writing to stdout: {err}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cause_already_shown_is_not_repeated() {
        // How kiosk-core's PackageError::Qti wraps its cause: the text
        // includes the source's, and the source is reported again below it.
        let inner = std::io::Error::other("x.xml: references y.png, which is not in the package");
        let err = anyhow::Error::new(Wrapper(inner)).context("packing");
        assert_eq!(super::chain(&err), "packing: QTI: x.xml: references y.png, which is not in the package");
    }

    #[derive(Debug)]
    struct Wrapper(std::io::Error);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "QTI: {}", self.0)
        }
    }

    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}
