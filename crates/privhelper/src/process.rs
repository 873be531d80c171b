//! Linux process primitives shared by the helper and the kiosk's guard
//! (`kiosk_core::guard::platform`): `/proc` fields, termination through a
//! pidfd, and the kernel's process-event connector. One copy, so the helper
//! and an unprivileged guard end processes and read exec events the same way.

use netlink_sys::{protocols::NETLINK_CONNECTOR, Socket, SocketAddr};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags, Signal};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

/// `PF_KTHREAD` in `/proc/PID/stat`'s flags.
const PF_KTHREAD: u64 = 0x0020_0000;

/// The fields of `/proc/PID/stat` after the command name (field 3 onwards).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name (field 2) may hold spaces and parentheses: fields start after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    Some(rest.split(' ').map(str::to_owned).collect())
}

/// Start time of `pid` in clock ticks since boot (field 22 of `/proc/PID/stat`).
pub fn start_ticks(pid: u32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// The parent of `pid` (field 4), if it still runs and has one.
pub fn parent_pid(pid: u32) -> Option<u32> {
    stat_fields(pid)?.get(1)?.parse().ok().filter(|p| *p > 0)
}

/// True for kernel threads (`PF_KTHREAD`, or children of kthreadd).
pub fn is_kernel_thread(pid: u32) -> Option<bool> {
    let fields = stat_fields(pid)?;
    let flags: u64 = fields.get(6)?.parse().ok()?;
    let ppid: u32 = fields.get(1)?.parse().ok()?;
    Some(flags & PF_KTHREAD != 0 || pid == 2 || ppid == 2)
}

/// The real uid of `pid` (first field of `Uid:` in `/proc/PID/status`).
pub fn real_uid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The uid of a user name, from `/etc/passwd`.
pub fn uid_of_user(name: &str) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then(|| fields.nth(1)?.parse().ok()).flatten()
    })
}

/// How ending a process went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It exited after this signal (`SIGTERM` or `SIGKILL`).
    BySignal(&'static str),
    /// It was gone already, or its identity no longer matched (a recycled PID).
    AlreadyGone,
    /// The kernel refused the signal (another user's process, no `CAP_KILL`).
    NotPermitted,
    /// It could not be ended, and why.
    Failed(String),
}

/// Ends `pid`: SIGTERM, `grace`, SIGKILL, and confirmation within `confirm`.
///
/// A pidfd pins the exact process before anything is sent; `still_the_same`
/// is checked *after* opening it (e.g. the start time), so a PID recycled
/// in between is never signalled.
pub fn end_process(pid: u32, still_the_same: impl FnOnce() -> bool, grace: Duration, confirm: Duration) -> Ended {
    let Some(raw) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return Ended::Failed(format!("invalid pid {pid}"));
    };
    let pidfd = match pidfd_open(raw, PidfdFlags::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::SRCH) => return Ended::AlreadyGone,
        Err(e) => return Ended::Failed(format!("cannot open pidfd: {e}")),
    };
    if !still_the_same() {
        return Ended::AlreadyGone;
    }
    for (signal, wait, name) in [(Signal::TERM, grace, "SIGTERM"), (Signal::KILL, confirm, "SIGKILL")] {
        match pidfd_send_signal(&pidfd, signal) {
            Ok(()) => {}
            Err(rustix::io::Errno::SRCH) => return Ended::AlreadyGone,
            Err(rustix::io::Errno::PERM) => return Ended::NotPermitted,
            Err(e) => return Ended::Failed(format!("{name} failed: {e}")),
        }
        if wait_for_exit(&pidfd, wait) {
            return Ended::BySignal(name);
        }
    }
    Ended::Failed(format!("still running {} ms after SIGKILL", confirm.as_millis()))
}

/// A pidfd becomes readable when its process has exited.
fn wait_for_exit(pidfd: &OwnedFd, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
        match poll(&mut fds, Some(&timespec(left))) {
            Ok(n) if n > 0 => return true,
            Ok(_) => return false,
            Err(rustix::io::Errno::INTR) if !left.is_zero() => continue,
            Err(_) => return false,
        }
    }
}

/// A duration as poll's timeout.
pub fn timespec(d: Duration) -> Timespec {
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: i64::from(d.subsec_nanos()) }
}

// --- The process-event connector -------------------------------------------

/// Netlink multicast group and value of the process-event connector.
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const PROC_CN_MCAST_IGNORE: u32 = 2;
const PROC_EVENT_EXEC: u32 = 0x0000_0002;
const NLMSG_HDRLEN: usize = 16;
const CN_MSG_LEN: usize = 20;
const NLMSG_DONE: u16 = 3;
/// Receive buffer for bursts (a fork bomb of prohibited names).
const EVENT_SOCKET_BUFFER: usize = 4 * 1024 * 1024;

/// What one read from the connector gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Processes (thread-group ids) that executed a new program; may be empty.
    Execs(Vec<u32>),
    /// The kernel dropped events (the receive queue overflowed).
    Overflow,
}

/// A subscription to the kernel's process-event connector. Needs
/// `CAP_NET_ADMIN` (root); unsubscribes when dropped. Poll it (it is
/// [`AsFd`]) and call [`ProcConnector::receive`] when readable.
pub struct ProcConnector {
    socket: Socket,
    buffer: Vec<u8>,
}

impl ProcConnector {
    /// Opens and subscribes.
    pub fn subscribe() -> std::io::Result<Self> {
        let mut socket = Socket::new(NETLINK_CONNECTOR)?;
        // Port 0: the kernel picks a unique port, so several subscribers can coexist.
        socket.bind(&SocketAddr::new(0, CN_IDX_PROC))?;
        let _ = socket.set_rx_buf_sz(EVENT_SOCKET_BUFFER);
        let connector = Self { socket, buffer: Vec::with_capacity(64 * 1024) };
        connector.control(PROC_CN_MCAST_LISTEN)?;
        Ok(connector)
    }

    fn control(&self, op: u32) -> std::io::Result<()> {
        let mut msg = Vec::with_capacity(NLMSG_HDRLEN + CN_MSG_LEN + 4);
        msg.extend_from_slice(&((NLMSG_HDRLEN + CN_MSG_LEN + 4) as u32).to_ne_bytes());
        msg.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        msg.extend_from_slice(&0u16.to_ne_bytes()); // flags
        msg.extend_from_slice(&0u32.to_ne_bytes()); // seq
        msg.extend_from_slice(&0u32.to_ne_bytes()); // port: filled in by the kernel
        msg.extend_from_slice(&CN_IDX_PROC.to_ne_bytes());
        msg.extend_from_slice(&CN_VAL_PROC.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes()); // seq
        msg.extend_from_slice(&0u32.to_ne_bytes()); // ack
        msg.extend_from_slice(&4u16.to_ne_bytes()); // len
        msg.extend_from_slice(&0u16.to_ne_bytes()); // flags
        msg.extend_from_slice(&op.to_ne_bytes());
        self.socket.send(&msg, 0).map(|_| ())
    }

    /// Reads one datagram (blocks until one arrives: poll first).
    pub fn receive(&mut self) -> std::io::Result<Received> {
        self.buffer.clear();
        match self.socket.recv(&mut self.buffer, 0) {
            Ok(_) => Ok(Received::Execs(parse_exec_events(&self.buffer))),
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOBUFS.raw_os_error()) => Ok(Received::Overflow),
            Err(e) => Err(e),
        }
    }
}

impl AsFd for ProcConnector {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl Drop for ProcConnector {
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
        // proc_event: what u32, cpu u32, timestamp u64, then for exec: pid u32, tgid u32.
        if event.len() >= 24 && u32::from_ne_bytes(event[0..4].try_into().expect("4 bytes")) == PROC_EVENT_EXEC {
            out.push(u32::from_ne_bytes(event[20..24].try_into().expect("4 bytes")));
        }
        pos += (len + 3) & !3;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_stat_fields_are_readable() {
        let me = std::process::id();
        assert!(start_ticks(me).is_some());
        assert!(parent_pid(me).is_some());
        assert_eq!(is_kernel_thread(me), Some(false));
        assert_eq!(real_uid(me), Some(rustix::process::getuid().as_raw()));
        assert_eq!(uid_of_user("root"), Some(0));
    }

    #[test]
    fn exec_event_parsing_ignores_garbage() {
        assert!(parse_exec_events(&[]).is_empty());
        assert!(parse_exec_events(&[0xff; 7]).is_empty());
        assert!(parse_exec_events(&[0xff; 100]).is_empty());
        let mut msg = vec![0u8; 16 + 20 + 24];
        let len = msg.len() as u32;
        msg[0..4].copy_from_slice(&len.to_ne_bytes());
        msg[36..40].copy_from_slice(&PROC_EVENT_EXEC.to_ne_bytes());
        msg[56..60].copy_from_slice(&4242u32.to_ne_bytes());
        assert_eq!(parse_exec_events(&msg), vec![4242]);
    }

    #[test]
    fn ending_a_child_reports_the_signal_and_a_gone_one_is_already_gone() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let ticks = start_ticks(pid);
        let wrong = end_process(pid, || false, Duration::from_millis(500), Duration::from_secs(1));
        assert_eq!(wrong, Ended::AlreadyGone, "a changed identity is never signalled");
        assert!(child.try_wait().unwrap().is_none());
        let ended = end_process(pid, || start_ticks(pid) == ticks, Duration::from_secs(2), Duration::from_secs(2));
        assert_eq!(ended, Ended::BySignal("SIGTERM"));
        let _ = child.wait();
        // Reaped: gone (a recycled PID would have another start time).
        assert_eq!(end_process(pid, || start_ticks(pid) == ticks, Duration::ZERO, Duration::ZERO), Ended::AlreadyGone);
    }
}
