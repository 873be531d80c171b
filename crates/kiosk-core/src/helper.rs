//! The kiosk's side of the privileged helper (`exam-kiosk-helper`, crate
//! `exam-privhelper`).
//!
//! On a school PC the kiosk runs as the unprivileged `examkiosk` user. What
//! needs root — ending other users' processes, the kernel's process-event
//! connector, the DMI serials, switching SysRq off for the exam — it asks of
//! the helper over its Unix socket, through the narrow, versioned requests
//! of [`exam_privhelper::protocol`]. The guard's Linux platform uses this
//! behind [`crate::guard::platform::ProcessPlatform`]; nothing above it
//! knows whether the kiosk itself or the helper did the work.
//!
//! Root (a developer's test run) needs no helper and does it itself.

use crate::guard::platform::{ExecEvents, ExecWait};
use crate::guard::Outcome;
use exam_privhelper::client::{self, ClientError, DEFAULT_SOCKET};
use exam_privhelper::protocol::{ExecLine, Request, Response};
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Overrides the helper's socket path (tests run a helper on a scratch socket).
pub const SOCKET_ENV: &str = "EXAM_KIOSK_HELPER_SOCKET";

/// Why the helper did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum HelperError {
    /// The socket could not be reached or answered nonsense.
    #[error(transparent)]
    Unreachable(#[from] ClientError),
    /// The helper refused, with its reason.
    #[error("the privileged helper refused: {0}")]
    Refused(String),
}

/// A connection point to the privileged helper.
#[derive(Debug, Clone)]
pub struct Helper {
    socket: PathBuf,
}

impl Helper {
    /// The helper on `socket`.
    pub fn at(socket: impl Into<PathBuf>) -> Self {
        Self { socket: socket.into() }
    }

    /// The helper this kiosk should use: none when running as root (it can
    /// do everything itself), else the one on [`SOCKET_ENV`] or the packaged
    /// socket, when that socket exists.
    pub fn detect() -> Option<Self> {
        if rustix::process::geteuid().is_root() {
            return None;
        }
        let socket = std::env::var_os(SOCKET_ENV).map(PathBuf::from).unwrap_or_else(|| DEFAULT_SOCKET.into());
        socket.exists().then(|| Self::at(socket))
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    fn ask(&self, request: &Request) -> Result<Response, HelperError> {
        let response = client::send(&self.socket, request)?;
        if response.ok {
            Ok(response)
        } else {
            Err(HelperError::Refused(response.error.unwrap_or_else(|| "no reason given".into())))
        }
    }

    /// Asks the helper to end the process `pid` started at `start_ticks`
    /// (SIGTERM, 500 ms, SIGKILL, confirmed; a recycled PID is never hit).
    pub fn end_process(&self, pid: u32, start_ticks: u64) -> Outcome {
        match self.ask(&Request::EndProcess { pid, start_ticks }) {
            Ok(r) if r.result.as_deref() == Some("ended") => {
                Outcome::Ended { signal: r.signal.unwrap_or_else(|| "SIGKILL".into()) }
            }
            Ok(_) => Outcome::AlreadyGone,
            Err(e) => Outcome::NotEnded { reason: e.to_string() },
        }
    }

    /// The machine's DMI identity, serials included.
    pub fn read_dmi(&self) -> Result<BTreeMap<String, String>, HelperError> {
        Ok(self.ask(&Request::ReadDmi)?.dmi.unwrap_or_default())
    }

    /// Switches the magic SysRq key off; returns (value before, value now),
    /// or `None` when the kernel has no SysRq key at all.
    pub fn sysrq_disable(&self) -> Result<Option<(String, String)>, HelperError> {
        let r = self.ask(&Request::SysrqDisable)?;
        Ok(r.sysrq_now.map(|now| (r.sysrq_before.unwrap_or_default(), now)))
    }

    /// Puts SysRq back as it was before [`Helper::sysrq_disable`]; `None`
    /// when there was nothing to restore.
    pub fn sysrq_restore(&self) -> Result<Option<(String, String)>, HelperError> {
        let r = self.ask(&Request::SysrqRestore)?;
        Ok(r.sysrq_now.map(|now| (r.sysrq_before.unwrap_or_default(), now)))
    }

    /// Subscribes to exec notifications through the helper.
    pub fn watch_exec(&self) -> Result<HelperExecEvents, HelperError> {
        let io = |source| ClientError::Io { path: self.socket.display().to_string(), source };
        let mut stream = UnixStream::connect(&self.socket).map_err(io)?;
        stream.set_write_timeout(Some(client::CLIENT_TIMEOUT)).map_err(io)?;
        stream.write_all(Request::WatchExec.to_line().as_bytes()).map_err(io)?;
        stream.set_read_timeout(Some(client::CLIENT_TIMEOUT)).map_err(io)?;
        let mut reader = BufReader::new(stream);
        let mut first = String::new();
        reader.read_line(&mut first).map_err(io)?;
        let response: Response =
            serde_json::from_str(first.trim_end()).map_err(|e| ClientError::BadAnswer(format!("{e}: {first:?}")))?;
        if response.watching != Some(true) {
            return Err(HelperError::Refused(response.error.unwrap_or_else(|| "no watch".into())));
        }
        Ok(HelperExecEvents { reader, partial: Vec::new() })
    }
}

/// Exec notifications streamed by the helper (`watch_exec`).
pub struct HelperExecEvents {
    reader: BufReader<UnixStream>,
    /// A line not yet complete when a wait timed out.
    partial: Vec<u8>,
}

impl ExecEvents for HelperExecEvents {
    fn next(&mut self, timeout: Duration) -> ExecWait {
        // A zero timeout would mean "block forever" to the socket.
        let timeout = timeout.max(Duration::from_millis(1));
        if let Err(e) = self.reader.get_ref().set_read_timeout(Some(timeout)) {
            return ExecWait::Failed(e.to_string());
        }
        match self.reader.read_until(b'\n', &mut self.partial) {
            Ok(0) => ExecWait::Failed("the helper closed the exec stream".into()),
            Ok(_) if self.partial.ends_with(b"\n") => {
                let line = std::mem::take(&mut self.partial);
                match serde_json::from_slice::<ExecLine>(&line) {
                    Ok(ExecLine::Exec { exec }) => ExecWait::Exec(exec),
                    Ok(ExecLine::Overflow { .. }) => ExecWait::Overflow,
                    Err(e) => ExecWait::Failed(format!("unreadable exec line from the helper: {e}")),
                }
            }
            Ok(_) => ExecWait::Failed("the helper closed the exec stream mid-line".into()),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                ExecWait::Timeout
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => ExecWait::Timeout,
            Err(e) => ExecWait::Failed(e.to_string()),
        }
    }
}
