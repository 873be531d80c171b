//! The helper itself: a Unix-socket server that serves one user.
//!
//! Every connection is checked with `SO_PEERCRED` before a byte is read;
//! every request is parsed by [`crate::protocol::parse_request`]; every
//! refusal is logged (to stderr, which systemd puts in the journal) with the
//! peer's pid and uid and the reason. Requests and answers never contain
//! secrets, so they may be logged.

use crate::protocol::{parse_request, ExecLine, Request, RequestError, Response, DMI_FIELDS, MAX_REQUEST_BYTES};
use netlink_sys::{protocols::NETLINK_CONNECTOR, Socket, SocketAddr};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags, Signal};
use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
/// File in the state directory holding the SysRq value from before the exam.
pub const SYSRQ_SAVED: &str = "sysrq.saved";
/// `PF_KTHREAD` in `/proc/PID/stat`'s flags.
const PF_KTHREAD: u64 = 0x0020_0000;

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

/// The fields of `/proc/PID/stat` after the command name.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    Some(rest.split(' ').map(str::to_owned).collect())
}

/// Start time in clock ticks since boot (field 22).
pub fn start_ticks(pid: u32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

fn real_uid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn end_process(config: &ServerConfig, pid: u32, expected_ticks: u64) -> Response {
    if pid <= 2 || pid == std::process::id() {
        return Response::refused(format!("pid {pid} is never ended"));
    }
    let Some(fields) = stat_fields(pid) else {
        return Response { result: Some("already_gone".into()), ..Response::ok() };
    };
    let flags: u64 = fields.get(6).and_then(|f| f.parse().ok()).unwrap_or(0);
    let ppid: u32 = fields.get(1).and_then(|f| f.parse().ok()).unwrap_or(0);
    if flags & PF_KTHREAD != 0 || ppid == 2 {
        return Response::refused(format!("pid {pid} is a kernel thread"));
    }
    let Some(uid) = real_uid(pid) else {
        return Response { result: Some("already_gone".into()), ..Response::ok() };
    };
    if uid == 0 {
        return Response::refused(format!("pid {pid} belongs to root; the helper never ends root's processes"));
    }
    if uid < config.min_target_uid && uid != config.allowed_uid {
        return Response::refused(format!(
            "pid {pid} belongs to system user {uid} (below {}); not ended",
            config.min_target_uid
        ));
    }
    let Some(raw) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return Response::refused(format!("invalid pid {pid}"));
    };
    // A pidfd pins this exact process; checking the start time after opening
    // it proves the pidfd refers to the process the kiosk meant.
    let pidfd = match pidfd_open(raw, PidfdFlags::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::SRCH) => return Response { result: Some("already_gone".into()), ..Response::ok() },
        Err(e) => return Response::refused(format!("cannot open pidfd: {e}")),
    };
    if start_ticks(pid) != Some(expected_ticks) {
        return Response { result: Some("already_gone".into()), ..Response::ok() };
    }
    for (signal, wait, name) in [(Signal::TERM, KILL_GRACE, "SIGTERM"), (Signal::KILL, KILL_CONFIRM, "SIGKILL")] {
        match pidfd_send_signal(&pidfd, signal) {
            Ok(()) => {}
            Err(rustix::io::Errno::SRCH) => return Response { result: Some("already_gone".into()), ..Response::ok() },
            Err(e) => return Response::refused(format!("{name} failed: {e}")),
        }
        if wait_for_exit(&pidfd, wait) {
            return Response { result: Some("ended".into()), signal: Some(name.into()), ..Response::ok() };
        }
    }
    Response::refused(format!("pid {pid} still runs {} ms after SIGKILL", KILL_CONFIRM.as_millis()))
}

/// A pidfd becomes readable when its process has exited.
fn wait_for_exit(pidfd: &OwnedFd, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let spec = Timespec { tv_sec: left.as_secs() as i64, tv_nsec: i64::from(left.subsec_nanos()) };
        let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
        match poll(&mut fds, Some(&spec)) {
            Ok(n) if n > 0 => return true,
            Ok(_) => return false,
            Err(rustix::io::Errno::INTR) if !left.is_zero() => continue,
            Err(_) => return false,
        }
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

// --- The process-event connector -------------------------------------------

const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const PROC_CN_MCAST_IGNORE: u32 = 2;
const PROC_EVENT_EXEC: u32 = 0x0000_0002;
const NLMSG_HDRLEN: usize = 16;
const CN_MSG_LEN: usize = 20;
const NLMSG_DONE: u16 = 3;
const EVENT_SOCKET_BUFFER: usize = 4 * 1024 * 1024;
/// How often a watch checks whether its client has gone.
const WATCH_POLL: Duration = Duration::from_millis(500);

struct Connector {
    socket: Socket,
}

impl Connector {
    fn subscribe() -> std::io::Result<Self> {
        let mut socket = Socket::new(NETLINK_CONNECTOR)?;
        socket.bind(&SocketAddr::new(0, CN_IDX_PROC))?;
        let _ = socket.set_rx_buf_sz(EVENT_SOCKET_BUFFER);
        let connector = Self { socket };
        connector.control(PROC_CN_MCAST_LISTEN)?;
        Ok(connector)
    }

    fn control(&self, op: u32) -> std::io::Result<()> {
        let mut msg = Vec::with_capacity(NLMSG_HDRLEN + CN_MSG_LEN + 4);
        msg.extend_from_slice(&((NLMSG_HDRLEN + CN_MSG_LEN + 4) as u32).to_ne_bytes());
        msg.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        msg.extend_from_slice(&0u16.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        msg.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&4u16.to_ne_bytes());
        msg.extend_from_slice(&0u16.to_ne_bytes());
        msg.extend_from_slice(&op.to_ne_bytes());
        self.socket.send(&msg, 0).map(|_| ())
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        let _ = self.control(PROC_CN_MCAST_IGNORE);
    }
}

/// Exec events (thread-group ids) in one netlink datagram.
pub fn parse_exec_events(datagram: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut pos = 0;
    while datagram.len() >= pos + NLMSG_HDRLEN {
        let len = u32::from_ne_bytes(datagram[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        if len < NLMSG_HDRLEN || pos + len > datagram.len() {
            break;
        }
        let event = &datagram[pos + NLMSG_HDRLEN + CN_MSG_LEN.min(len - NLMSG_HDRLEN)..pos + len];
        if event.len() >= 24 && u32::from_ne_bytes(event[0..4].try_into().expect("4 bytes")) == PROC_EVENT_EXEC {
            out.push(u32::from_ne_bytes(event[20..24].try_into().expect("4 bytes")));
        }
        pos += (len + 3) & !3;
    }
    out
}

fn watch_exec(mut stream: UnixStream, peer_pid: i32) {
    let connector = match Connector::subscribe() {
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
    let mut buffer = Vec::with_capacity(64 * 1024);
    loop {
        let spec = Timespec { tv_sec: 0, tv_nsec: WATCH_POLL.as_nanos() as i64 };
        let mut fds = [PollFd::new(&connector.socket, PollFlags::IN), PollFd::new(&stream, PollFlags::IN)];
        match poll(&mut fds, Some(&spec)) {
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
        buffer.clear();
        let lines: Vec<ExecLine> = match connector.socket.recv(&mut buffer, 0) {
            Ok(_) => parse_exec_events(&buffer).into_iter().map(|exec| ExecLine::Exec { exec }).collect(),
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOBUFS.raw_os_error()) => {
                vec![ExecLine::Overflow { overflow: true }]
            }
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

/// The uid of a user name, from `/etc/passwd`.
pub fn uid_of_user(name: &str) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then(|| fields.nth(1)?.parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_start_ticks_are_readable() {
        assert!(start_ticks(std::process::id()).is_some());
    }

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
        assert!(!read_dmi(&config.dmi_dir).ok);
    }

    #[test]
    fn garbage_datagrams_yield_no_events() {
        assert!(parse_exec_events(&[]).is_empty());
        assert!(parse_exec_events(&[0xff; 40]).is_empty());
    }
}
