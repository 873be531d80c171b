//! Linux: `sysinfo` sweeps, `/proc` details, the process-event connector
//! (netlink `CN_PROC`) for instant exec notifications, and `pidfd` for
//! termination that cannot hit a recycled PID.

use super::{ExecEvents, ExecWait, ProcessPlatform};
use crate::guard::{Outcome, ProcessInfo};
use netlink_sys::{protocols::NETLINK_CONNECTOR, Socket, SocketAddr};
use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags, Signal};
use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::{Duration, Instant};
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

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

/// The Linux platform: one reused `sysinfo::System` for sweeps.
pub struct LinuxPlatform {
    system: System,
    hash_cache: HashMap<(String, u64, i64), [u8; 32]>,
}

impl LinuxPlatform {
    /// A platform with an empty process table; fails when `/proc` is unusable.
    pub fn new() -> std::io::Result<Self> {
        let system = System::new().map_err(|e| std::io::Error::other(format!("cannot read the process table: {e}")))?;
        Ok(Self { system, hash_cache: HashMap::new() })
    }

    fn refresh_kind() -> ProcessRefreshKind {
        // Only what the rules need; tasks (threads) are not processes here.
        ProcessRefreshKind::nothing()
            .with_exe(UpdateKind::Always)
            .with_cmd(UpdateKind::Always)
            .with_user(UpdateKind::OnlyIfNotSet)
            .without_tasks()
    }

    fn info(&self, pid: sysinfo::Pid) -> Option<ProcessInfo> {
        let process = self.system.process(pid)?;
        let exe = process.exe().map(|p| p.to_string_lossy().into_owned()).filter(|e| !e.is_empty());
        let cmd: Vec<String> = process.cmd().iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let ppid = process.parent().map(|p| p.as_u32());
        let name = display_name(exe.as_deref(), cmd.first().map(String::as_str), &process.name().to_string_lossy());
        let parent_name = process.parent().and_then(|pp| self.system.process(pp)).map(|pp| {
            let exe = pp.exe().map(|p| p.to_string_lossy().into_owned());
            let argv0 = pp.cmd().first().map(|a| a.to_string_lossy().into_owned());
            display_name(exe.as_deref(), argv0.as_deref(), &pp.name().to_string_lossy())
        });
        Some(ProcessInfo {
            pid: pid.as_u32(),
            ppid,
            uid: process.user_id().map(|u| **u),
            start_ticks: None,
            name,
            exe,
            cmdline: (!cmd.is_empty()).then(|| cmd.join(" ")),
            parent_name,
            kernel_thread: pid.as_u32() == 2 || ppid == Some(2),
        })
    }
}

/// Executable base name, else argv\[0\]'s, else the kernel's (15-byte) name.
fn display_name(exe: Option<&str>, argv0: Option<&str>, comm: &str) -> String {
    let base = |s: &str| Path::new(s.trim_end_matches(" (deleted)")).file_name().map(|n| n.to_string_lossy().into_owned());
    exe.and_then(base).or_else(|| argv0.filter(|a| !a.is_empty()).and_then(base)).unwrap_or_else(|| comm.to_owned())
}

/// Start time of `pid` in clock ticks since boot (field 22 of `/proc/PID/stat`).
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name (field 2) may hold spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

fn parent_from_stat(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(1)?.parse().ok().filter(|p| *p > 0)
}

/// The uid of a user name, from `/etc/passwd`.
pub fn uid_of_user(name: &str) -> Option<u32> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then(|| fields.nth(1)?.parse().ok()).flatten()
    })
}

impl ProcessPlatform for LinuxPlatform {
    fn snapshot(&mut self) -> Vec<ProcessInfo> {
        self.system.refresh_processes_specifics(ProcessesToUpdate::All, true, Self::refresh_kind());
        let pids: Vec<sysinfo::Pid> = self.system.processes().keys().copied().collect();
        pids.into_iter().filter_map(|pid| self.info(pid)).collect()
    }

    fn inspect(&mut self, pid: u32) -> Option<ProcessInfo> {
        // Read the start time first: if the PID is reused afterwards, the
        // terminate step sees a different start time and leaves it alone.
        let ticks = start_ticks(pid)?;
        let spid = sysinfo::Pid::from_u32(pid);
        self.system.refresh_processes_specifics(ProcessesToUpdate::Some(&[spid]), true, Self::refresh_kind());
        if let Some(parent) = self.system.process(spid).and_then(|p| p.parent()) {
            if self.system.process(parent).is_none() {
                self.system.refresh_processes_specifics(ProcessesToUpdate::Some(&[parent]), false, Self::refresh_kind());
            }
        }
        let mut info = self.info(spid)?;
        info.start_ticks = Some(ticks);
        Some(info)
    }

    fn parent_of(&mut self, pid: u32) -> Option<u32> {
        parent_from_stat(pid)
    }

    fn uid_of(&mut self, pid: u32) -> Option<u32> {
        // The real uid is the first field of `Uid:` in /proc/PID/status.
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|v| v.split_whitespace().next()?.parse().ok())
    }

    fn exe_sha256(&mut self, process: &ProcessInfo) -> Option<[u8; 32]> {
        // Read through /proc so a replaced or deleted file still hashes as what runs.
        let proc_exe = format!("/proc/{}/exe", process.pid);
        let meta = std::fs::metadata(&proc_exe).ok()?;
        let key = (process.exe.clone().unwrap_or_default(), meta.len(), std::os::unix::fs::MetadataExt::mtime(&meta));
        if let Some(hash) = self.hash_cache.get(&key) {
            return Some(*hash);
        }
        let bytes = std::fs::read(&proc_exe).ok()?;
        let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
        let hash: [u8; 32] = digest.as_ref().try_into().ok()?;
        self.hash_cache.insert(key, hash);
        Some(hash)
    }

    fn terminate(&mut self, process: &ProcessInfo, grace: Duration, confirm: Duration) -> Outcome {
        let Some(pid) = i32::try_from(process.pid).ok().and_then(Pid::from_raw) else {
            return Outcome::NotEnded { reason: format!("invalid pid {}", process.pid) };
        };
        // A pidfd pins this exact process: signals through it can never
        // reach a later process that happens to get the same PID.
        let pidfd = match pidfd_open(pid, PidfdFlags::empty()) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::SRCH) => return Outcome::AlreadyGone,
            Err(e) => return Outcome::NotEnded { reason: format!("cannot open pidfd: {e}") },
        };
        let identity_holds = match process.start_ticks {
            Some(expected) => start_ticks(process.pid) == Some(expected),
            None => {
                let exe = std::fs::read_link(format!("/proc/{}/exe", process.pid)).ok();
                exe.map(|e| e.to_string_lossy().into_owned()) == process.exe || process.exe.is_none()
            }
        };
        if !identity_holds {
            return Outcome::AlreadyGone;
        }
        for (signal, wait, name) in [(Signal::TERM, grace, "SIGTERM"), (Signal::KILL, confirm, "SIGKILL")] {
            match pidfd_send_signal(&pidfd, signal) {
                Ok(()) => {}
                Err(rustix::io::Errno::SRCH) => return Outcome::AlreadyGone,
                Err(rustix::io::Errno::PERM) => {
                    return Outcome::NotEnded { reason: "not permitted to signal it (another user's process?)".into() }
                }
                Err(e) => return Outcome::NotEnded { reason: format!("{name} failed: {e}") },
            }
            if wait_for_exit(&pidfd, wait) {
                return Outcome::Ended { signal: name.into() };
            }
        }
        Outcome::NotEnded { reason: format!("still running {} ms after SIGKILL", confirm.as_millis()) }
    }

    fn exec_events(&mut self) -> Option<Box<dyn ExecEvents>> {
        ProcConnector::subscribe().ok().map(|c| Box::new(c) as Box<dyn ExecEvents>)
    }
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

/// A subscription to the kernel's process-event connector. Needs
/// `CAP_NET_ADMIN` (root); unsubscribes when dropped.
pub struct ProcConnector {
    socket: Socket,
    buffer: Vec<u8>,
    pending: std::collections::VecDeque<u32>,
}

impl ProcConnector {
    /// Opens and subscribes.
    pub fn subscribe() -> std::io::Result<Self> {
        let mut socket = Socket::new(NETLINK_CONNECTOR)?;
        // Port 0: the kernel picks a unique port, so several guards can coexist.
        socket.bind(&SocketAddr::new(0, CN_IDX_PROC))?;
        let _ = socket.set_rx_buf_sz(EVENT_SOCKET_BUFFER);
        let connector = Self { socket, buffer: Vec::with_capacity(64 * 1024), pending: Default::default() };
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
}

/// Exec events (thread-group ids) in one netlink datagram.
pub(crate) fn parse_exec_events(datagram: &[u8]) -> Vec<u32> {
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

impl ExecEvents for ProcConnector {
    fn next(&mut self, timeout: Duration) -> ExecWait {
        if let Some(pid) = self.pending.pop_front() {
            return ExecWait::Exec(pid);
        }
        let spec = Timespec { tv_sec: timeout.as_secs() as i64, tv_nsec: i64::from(timeout.subsec_nanos()) };
        let mut fds = [PollFd::new(&self.socket, PollFlags::IN)];
        match poll(&mut fds, Some(&spec)) {
            Ok(0) => return ExecWait::Timeout,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return ExecWait::Timeout,
            Err(e) => return ExecWait::Failed(e.to_string()),
        }
        self.buffer.clear();
        match self.socket.recv(&mut self.buffer, 0) {
            Ok(_) => {
                self.pending.extend(parse_exec_events(&self.buffer));
                self.pending.pop_front().map_or(ExecWait::Timeout, ExecWait::Exec)
            }
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NOBUFS.raw_os_error()) => ExecWait::Overflow,
            Err(e) => ExecWait::Failed(e.to_string()),
        }
    }
}

impl Drop for ProcConnector {
    fn drop(&mut self) {
        let _ = self.control(PROC_CN_MCAST_IGNORE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_survive_odd_names() {
        let me = std::process::id();
        assert!(start_ticks(me).is_some());
        assert!(parent_from_stat(me).is_some());
    }

    #[test]
    fn display_name_prefers_the_executable() {
        assert_eq!(display_name(Some("/opt/AnyDesk/AnyDesk"), Some("x"), "AnyDesk-short"), "AnyDesk");
        assert_eq!(display_name(Some("/tmp/obs (deleted)"), None, "o"), "obs");
        assert_eq!(display_name(None, Some("/usr/bin/discord"), "Discord"), "discord");
        assert_eq!(display_name(None, None, "kworker/0:1"), "kworker/0:1");
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
}
