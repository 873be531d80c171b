//! A small blocking client for the helper, for the kiosk and for IT
//! (`exam-kiosk-helper request`).

use crate::protocol::{Request, Response};
use std::path::Path;
use std::time::Duration;

/// Where the packaged helper listens.
pub const DEFAULT_SOCKET: &str = "/run/exam-kiosk-helper/helper.sock";
/// How long a client waits for an answer (an `end_process` takes at most
/// the grace period plus the kill confirmation).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Connecting, sending or receiving failed.
    #[error("helper socket {path}: {source}")]
    Io {
        /// The socket.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The answer was not a response line.
    #[error("helper answered something unreadable: {0}")]
    BadAnswer(String),
    /// No Unix sockets on this platform.
    #[error("the privileged helper exists on Linux only")]
    Unsupported,
}

/// Sends `request` as one line and returns the helper's answer.
#[cfg(unix)]
pub fn send(socket: &Path, request: &Request) -> Result<Response, ClientError> {
    send_raw(socket, request.to_line().as_bytes())
}

/// Sends raw bytes (for tests and diagnostics) and returns the answer.
#[cfg(unix)]
pub fn send_raw(socket: &Path, bytes: &[u8]) -> Result<Response, ClientError> {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let io = |source| ClientError::Io { path: socket.display().to_string(), source };
    let mut stream = std::os::unix::net::UnixStream::connect(socket).map_err(io)?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT)).map_err(io)?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT)).map_err(io)?;
    // The helper may answer (refuse) before it read everything we send.
    let _ = stream.write_all(bytes);
    let _ = stream.flush();
    let mut line = String::new();
    BufReader::new(stream).take(crate::protocol::MAX_REQUEST_BYTES as u64 * 64).read_line(&mut line).map_err(io)?;
    serde_json::from_str(line.trim_end()).map_err(|e| ClientError::BadAnswer(format!("{e}: {line:?}")))
}

/// Not available off Unix.
#[cfg(not(unix))]
pub fn send(_socket: &Path, _request: &Request) -> Result<Response, ClientError> {
    Err(ClientError::Unsupported)
}

/// Not available off Unix.
#[cfg(not(unix))]
pub fn send_raw(_socket: &Path, _bytes: &[u8]) -> Result<Response, ClientError> {
    Err(ClientError::Unsupported)
}
