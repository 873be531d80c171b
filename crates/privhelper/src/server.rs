//! The helper itself: a Unix-socket server that serves one user.
//!
//! Every connection is checked with `SO_PEERCRED` before a byte is read;
//! every request is parsed by [`crate::protocol::parse_request`]; every
//! refusal is logged (to stderr, which systemd puts in the journal) with the
//! peer's pid and uid and the reason. Requests and answers never contain
//! secrets, so they may be logged.

use crate::protocol::{parse_request, ExecLine, Request, RequestError, Response, DMI_FIELDS, MAX_REQUEST_BYTES};
use crate::process::{self, Ended, ProcConnector, Received};
use rustix::event::{poll, PollFd, PollFlags};
use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Longest a client may take to send its request.
pub const REQUEST_READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Connections served at the same time; more are refused.
pub const MAX_CONNECTIONS: usize = 16;
/// Time between SIGTERM and SIGKILL for `end_process`.
pub const KILL_GRACE: Duration = Duration::from_millis(500);
/// Longest the helper waits for a process to die after SIGKILL.
pub const KILL_CONFIRM: Duration = Duration::from_secs(1);
/// Users below this uid are system accounts whose processes the helper never ends.
pub const DEFAULT_MIN_TARGET_UID: u32 = 1000;
/// Where the packaged helper keeps what it must restore (the SysRq value).
pub const DEFAULT_STATE_DIR: &str = "/var/lib/exam-kiosk-helper";
/// The kernel's SysRq switch.
pub const SYSRQ_FILE: &str = "/proc/sys/kernel/sysrq";
/// The kernel's DMI identity.
pub const DMI_DIR: &str = "/sys/class/dmi/id";
/// `sysrq_disable`'s result on a kernel without the magic SysRq key.
pub const NO_SYSRQ: &str = "no magic SysRq in this kernel";
/// File in the state directory holding the SysRq value from before the exam.
pub const SYSRQ_SAVED: &str = "sysrq.saved";

/// How the helper runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The socket path (its directory must exist).
    pub socket: PathBuf,
    /// The one user id served (the kiosk user).
    pub allowed_uid: u32,
    /// Processes of users below this uid are never ended (except the kiosk user's own).
    pub min_target_uid: u32,
    /// Where the SysRq value from before the exam is kept.
    pub state_dir: PathBuf,
    /// The SysRq switch (a test points this at a scratch file).
    pub sysrq_file: PathBuf,
    /// The DMI directory (a test points this at a scratch directory).
    pub dmi_dir: PathBuf,
}

/// Why the helper could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The socket could not be set up.
    #[error("cannot listen on {path}: {source}")]
    Listen {
        /// The socket path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Writes one log line (systemd adds time and unit).
pub fn log(level: &str, message: &str) {
    eprintln!("exam-kiosk-helper {level}: {message}");
}

/// Serves until the process is ended.
pub fn serve(config: ServerConfig) -> Result<(), ServerError> {
    let listen_err = |source| ServerError::Listen { path: config.socket.clone(), source };
    match std::fs::remove_file(&config.socket) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(listen_err(e)),
        _ => {}
    }
    let listener = UnixListener::bind(&config.socket).map_err(listen_err)?;
    // Anyone may connect, so that a stranger is refused *and logged*; who is
    // served is decided by the kernel-reported peer uid, never by file modes.
    std::fs::set_permissions(&config.socket, std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .map_err(listen_err)?;
    log(
        "info",
        &format!(
            "listening on {} (protocol v{}, serving uid {})",
            config.socket.display(),
            crate::protocol::PROTOCOL_VERSION,
            config.allowed_uid
        ),
    );
    let config = Arc::new(config);
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let mut stream = match stream {
            Ok(s) => s,
            Err(e) => {
                log("warn", &format!("accept failed: {e}"));
                continue;
            }
        };
        if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            active.fetch_sub(1, Ordering::SeqCst);
            log("warn", "refused a connection: too many at once");
            let _ = stream.write_all(Response::refused("busy").to_line().as_bytes());
            continue;
        }
        let (config, active) = (Arc::clone(&config), Arc::clone(&active));
        std::thread::spawn(move || {
            handle(stream, &config);
            active.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}

fn answer(stream: &mut UnixStream, response: &Response) {
    let _ = stream.write_all(response.to_line().as_bytes());
}

/// Serves one connection.
fn handle(mut stream: UnixStream, config: &ServerConfig) {
    let peer = match rustix::net::sockopt::socket_peercred(&stream) {
        Ok(cred) => cred,
        Err(e) => {
            log("warn", &format!("refused a connection: no peer credentials ({e})"));
            answer(&mut stream, &Response::refused("no peer credentials"));
            return;
        }
    };
    let (peer_pid, peer_uid) = (peer.pid.as_raw_nonzero().get(), peer.uid.as_raw());
    if peer_uid != config.allowed_uid {
        log("warn", &format!("refused peer pid {peer_pid} uid {peer_uid}: not the kiosk user"));
        answer(&mut stream, &Response::refused(format!("uid {peer_uid} is not served")));
        return;
    }
    let line = match read_line(&mut stream) {
        Ok(line) => line,
        Err(e) => {
            log("warn", &format!("refused request from pid {peer_pid} uid {peer_uid}: {e}"));
            answer(&mut stream, &Response::refused(e.to_string()));
            return;
        }
    };
    let request = match parse_request(&line) {
        Ok(r) => r,
        Err(e) => {
            log("warn", &format!("refused request from pid {peer_pid} uid {peer_uid}: {e}"));
            answer(&mut stream, &Response::refused(e.to_string()));
            return;
        }
    };
    let response = match &request {
        Request::Ping => Response { version: Some(crate::protocol::PROTOCOL_VERSION), ..Response::ok() },
        Request::EndProcess { pid, start_ticks } => end_process(config, *pid, *start_ticks),
        Request::ReadDmi => read_dmi(&config.dmi_dir),
        Request::SysrqDisable => sysrq_disable(config),
        Request::SysrqRestore => sysrq_restore(config),
        Request::WatchExec => {
            watch_exec(stream, peer_pid);
            return;
        }
    };
    let level = if response.ok { "info" } else { "warn" };
    let detail = response.error.as_deref().or(response.result.as_deref()).unwrap_or("ok");
    log(level, &format!("{} from pid {peer_pid}: {detail}", describe(&request)));
    answer(&mut stream, &response);
}

fn describe(request: &Request) -> String {
    match request {
        Request::EndProcess { pid, start_ticks } => format!("end_process pid {pid} start {start_ticks}"),
        other => other.op().to_owned(),
    }
}

/// Reads one request line, refusing more than [`MAX_REQUEST_BYTES`].
fn read_line(stream: &mut UnixStream) -> Result<Vec<u8>, RequestError> {
    let _ = stream.set_read_timeout(Some(REQUEST_READ_TIMEOUT));
    let mut line = Vec::with_capacity(256);
    let mut chunk = [0u8; 256];
    loop {
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(e) => return Err(RequestError::Malformed(format!("no complete request line: {e}"))),
        };
        if n == 0 {
            return Ok(line);
        }
        if let Some(end) = chunk[..n].iter().position(|b| *b == b'\n') {
            line.extend_from_slice(&chunk[..end]);
            return if line.len() >= MAX_REQUEST_BYTES { Err(RequestError::Oversized) } else { Ok(line) };
        }
        line.extend_from_slice(&chunk[..n]);
        if line.len() >= MAX_REQUEST_BYTES {
            return Err(RequestError::Oversized);
        }
    }
}

fn end_process(config: &ServerConfig, pid: u32, expected_ticks: u64) -> Response {
    let gone = || Response { result: Some("already_gone".into()), ..Response::ok() };
    if pid <= 2 || pid == std::process::id() {
        return Response::refused(format!("pid {pid} is never ended"));
    }
    match process::is_kernel_thread(pid) {
        None => return gone(),
        Some(true) => return Response::refused(format!("pid {pid} is a kernel thread")),
        Some(false) => {}
    }
    let Some(uid) = process::real_uid(pid) else { return gone() };
    if uid == 0 {
        return Response::refused(format!("pid {pid} belongs to root; the helper never ends root's processes"));
    }
    if uid < config.min_target_uid && uid != config.allowed_uid {
        return Response::refused(format!(
            "pid {pid} belongs to system user {uid} (below {}); not ended",
            config.min_target_uid
        ));
    }
    // The start time, checked after the pidfd pinned the process, proves it
    // is the process the kiosk meant.
    match process::end_process(pid, || process::start_ticks(pid) == Some(expected_ticks), KILL_GRACE, KILL_CONFIRM) {
        Ended::BySignal(signal) => Response { result: Some("ended".into()), signal: Some(signal.into()), ..Response::ok() },
        Ended::AlreadyGone => gone(),
        Ended::NotPermitted => Response::refused(format!("the kernel refused to signal pid {pid}")),
        Ended::Failed(reason) => Response::refused(format!("pid {pid}: {reason}")),
    }
}

fn read_dmi(dir: &Path) -> Response {
    let dmi: BTreeMap<String, String> = DMI_FIELDS
        .iter()
        .filter_map(|field| {
            let value = std::fs::read_to_string(dir.join(field)).ok()?;
            Some(((*field).to_owned(), value.trim().chars().take(128).collect()))
        })
        .collect();
    if dmi.is_empty() {
        return Response::refused(format!("no DMI data under {}", dir.display()));
    }
    Response { dmi: Some(dmi), ..Response::ok() }
}

fn read_trimmed(path: &Path) -> std::io::Result<String> {
    Ok(std::fs::read_to_string(path)?.trim().to_owned())
}

/// Switches SysRq off, remembering the old value (kept from the first
/// disable: a second disable does not overwrite it with 0).
fn sysrq_disable(config: &ServerConfig) -> Response {
    if !config.sysrq_file.exists() {
        // A kernel built without CONFIG_MAGIC_SYSRQ: nothing to switch off.
        return Response { result: Some(NO_SYSRQ.into()), ..Response::ok() };
    }
    let saved = config.state_dir.join(SYSRQ_SAVED);
    let result = (|| -> std::io::Result<(String, String)> {
        let before = read_trimmed(&config.sysrq_file)?;
        if !saved.exists() {
            std::fs::create_dir_all(&config.state_dir)?;
            let tmp = config.state_dir.join(format!("{SYSRQ_SAVED}.tmp"));
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(before.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &saved)?;
        }
        std::fs::write(&config.sysrq_file, b"0\n")?;
        Ok((before, read_trimmed(&config.sysrq_file)?))
    })();
    match result {
        Ok((before, now)) => Response { sysrq_before: Some(before), sysrq_now: Some(now), ..Response::ok() },
        Err(e) => Response::refused(format!("cannot switch SysRq off: {e}")),
    }
}

fn sysrq_restore(config: &ServerConfig) -> Response {
    match restore_sysrq(&config.state_dir, &config.sysrq_file) {
        Ok(Some((before, now))) => Response { sysrq_before: Some(before), sysrq_now: Some(now), ..Response::ok() },
        Ok(None) => Response { result: Some("nothing to restore".into()), ..Response::ok() },
        Err(e) => Response::refused(format!("cannot restore SysRq: {e}")),
    }
}

/// Puts back the SysRq value saved by a disable, if any (also run by the
/// unit's `ExecStopPost` and the package's removal, so a crash or an
/// uninstall never leaves SysRq off). Returns (value before, value now).
pub fn restore_sysrq(state_dir: &Path, sysrq_file: &Path) -> std::io::Result<Option<(String, String)>> {
    let saved = state_dir.join(SYSRQ_SAVED);
    let value = match read_trimmed(&saved) {
        Ok(v) => v,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("saved value {value:?} is not a number")));
    }
    let before = read_trimmed(sysrq_file)?;
    std::fs::write(sysrq_file, format!("{value}\n"))?;
    std::fs::remove_file(&saved)?;
    Ok(Some((before, read_trimmed(sysrq_file)?)))
}

/// How often a watch checks whether its client has gone.
const WATCH_POLL: Duration = Duration::from_millis(500);

fn watch_exec(mut stream: UnixStream, peer_pid: i32) {
    let mut connector = match ProcConnector::subscribe() {
        Ok(c) => c,
        Err(e) => {
            log("warn", &format!("watch_exec from pid {peer_pid}: cannot subscribe: {e}"));
            answer(&mut stream, &Response::refused(format!("cannot subscribe to process events: {e}")));
            return;
        }
    };
    log("info", &format!("watch_exec from pid {peer_pid}: streaming"));
    answer(&mut stream, &Response { watching: Some(true), ..Response::ok() });
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    loop {
        let mut fds = [PollFd::new(&connector, PollFlags::IN), PollFd::new(&stream, PollFlags::IN)];
        match poll(&mut fds, Some(&process::timespec(WATCH_POLL))) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => break,
        }
        // The client never sends after its request: readability means it hung up.
        if !fds[1].revents().is_empty() {
            break;
        }
        if fds[0].revents().is_empty() {
            continue;
        }
        let lines: Vec<ExecLine> = match connector.receive() {
            Ok(Received::Execs(pids)) => pids.into_iter().map(|exec| ExecLine::Exec { exec }).collect(),
            Ok(Received::Overflow) => vec![ExecLine::Overflow { overflow: true }],
            Err(_) => break,
        };
        let mut out = String::new();
        for line in lines {
            out.push_str(&serde_json::to_string(&line).unwrap_or_default());
            out.push('\n');
        }
        if !out.is_empty() && stream.write_all(out.as_bytes()).is_err() {
            break;
        }
    }
    log("info", &format!("watch_exec from pid {peer_pid}: ended"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysrq_disable_and_restore_round_trip_on_a_scratch_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = ServerConfig {
            socket: dir.path().join("s"),
            allowed_uid: 0,
            min_target_uid: DEFAULT_MIN_TARGET_UID,
            state_dir: dir.path().join("state"),
            sysrq_file: dir.path().join("sysrq"),
            dmi_dir: dir.path().join("dmi"),
        };
        std::fs::write(&config.sysrq_file, "438\n").unwrap();
        let r = sysrq_disable(&config);
        assert_eq!((r.sysrq_before.as_deref(), r.sysrq_now.as_deref()), (Some("438"), Some("0")));
        // A second disable keeps the original value.
        assert!(sysrq_disable(&config).ok);
        let r = sysrq_restore(&config);
        assert_eq!((r.sysrq_before.as_deref(), r.sysrq_now.as_deref()), (Some("0"), Some("438")));
        assert_eq!(sysrq_restore(&config).result.as_deref(), Some("nothing to restore"));
        std::fs::remove_file(&config.sysrq_file).unwrap();
        assert_eq!(sysrq_disable(&config).result.as_deref(), Some(NO_SYSRQ), "no SysRq is not an error");
        assert!(!read_dmi(&config.dmi_dir).ok);
    }
}
