//! Linux: `sysinfo` sweeps, `/proc` details, the process-event connector
//! (netlink `CN_PROC`) for instant exec notifications, and `pidfd` for
//! termination that cannot hit a recycled PID — the primitives shared with
//! the privileged helper (`exam_privhelper::process`).
//!
//! Not root (the installed `examkiosk` user), the kiosk cannot signal other
//! users' processes or subscribe to the connector: with a privileged
//! helper ([`crate::helper`]) those two go through it, everything else
//! (reading `/proc`) stays here.

use super::{ExecEvents, ExecWait, ProcessPlatform};
use crate::guard::display::{BehaviourWatch, DisplayTargets};
use crate::guard::{Outcome, ProcessInfo};
use crate::helper::Helper;
use exam_privhelper::process::{self, Ended, ProcConnector, Received};
use rustix::event::{poll, PollFd, PollFlags};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

pub use exam_privhelper::process::uid_of_user;

/// The Linux platform: one reused `sysinfo::System` for sweeps, and the
/// privileged helper when the kiosk is not root.
pub struct LinuxPlatform {
    system: System,
    hash_cache: HashMap<(String, u64, i64), [u8; 32]>,
    helper: Option<Helper>,
    own_uid: u32,
}

impl LinuxPlatform {
    /// A platform with an empty process table, using the privileged helper
    /// when not root and the helper's socket exists ([`Helper::detect`]);
    /// fails when `/proc` is unusable.
    pub fn new() -> std::io::Result<Self> {
        Self::with_helper(Helper::detect())
    }

    /// A platform that asks `helper` (if any) to end other users' processes
    /// and for exec notifications.
    pub fn with_helper(helper: Option<Helper>) -> std::io::Result<Self> {
        let system = System::new().map_err(|e| std::io::Error::other(format!("cannot read the process table: {e}")))?;
        let own_uid = rustix::process::getuid().as_raw();
        Ok(Self { system, hash_cache: HashMap::new(), helper, own_uid })
    }

    /// The helper this platform uses, if any.
    pub fn helper(&self) -> Option<&Helper> {
        self.helper.as_ref()
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

impl ProcessPlatform for LinuxPlatform {
    fn snapshot(&mut self) -> Vec<ProcessInfo> {
        self.system.refresh_processes_specifics(ProcessesToUpdate::All, true, Self::refresh_kind());
        let pids: Vec<sysinfo::Pid> = self.system.processes().keys().copied().collect();
        pids.into_iter().filter_map(|pid| self.info(pid)).collect()
    }

    fn inspect(&mut self, pid: u32) -> Option<ProcessInfo> {
        // Read the start time first: if the PID is reused afterwards, the
        // terminate step sees a different start time and leaves it alone.
        let ticks = process::start_ticks(pid)?;
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
        process::parent_pid(pid)
    }

    fn uid_of(&mut self, pid: u32) -> Option<u32> {
        process::real_uid(pid)
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

    fn terminate(&mut self, info: &ProcessInfo, grace: Duration, confirm: Duration) -> Outcome {
        // Identity: the start time the guard saw, else the executable.
        let pid = info.pid;
        let expected_ticks = info.start_ticks.or_else(|| {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
            let same_exe = exe.map(|e| e.to_string_lossy().into_owned()) == info.exe || info.exe.is_none();
            same_exe.then(|| process::start_ticks(pid)).flatten()
        });
        let Some(expected_ticks) = expected_ticks else { return Outcome::AlreadyGone };
        if let Some(helper) = &self.helper {
            if process::real_uid(pid).is_some_and(|uid| uid != self.own_uid) {
                return helper.end_process(pid, expected_ticks);
            }
        }
        match process::end_process(pid, || process::start_ticks(pid) == Some(expected_ticks), grace, confirm) {
            Ended::BySignal(signal) => Outcome::Ended { signal: signal.into() },
            Ended::AlreadyGone => Outcome::AlreadyGone,
            Ended::NotPermitted => {
                Outcome::NotEnded { reason: "not permitted to signal it (another user's process, and no privileged helper)".into() }
            }
            Ended::Failed(reason) => Outcome::NotEnded { reason },
        }
    }

    fn behaviour_watch(&mut self, targets: &DisplayTargets) -> Option<Box<dyn BehaviourWatch>> {
        Some(Box::new(super::linux_display::LinuxBehaviour::new(targets)))
    }

    fn identity(&mut self, pid: u32) -> Option<(u64, String)> {
        let ticks = process::start_ticks(pid)?;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
        Some((ticks, exe))
    }

    fn pids(&mut self) -> Vec<u32> {
        let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
        dir.flatten().filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok())).collect()
    }

    fn exec_events(&mut self) -> Option<Box<dyn ExecEvents>> {
        // Not root: the helper subscribes for us. (An unprivileged socket may
        // bind to the connector, but the kernel ignores its subscription: it
        // sees events only while some root process has them switched on.)
        if let Some(helper) = &self.helper {
            return helper.watch_exec().ok().map(|events| Box::new(events) as Box<dyn ExecEvents>);
        }
        let connector = ProcConnector::subscribe().ok()?;
        Some(Box::new(KernelExecEvents { connector, pending: Default::default() }))
    }
}

/// Exec notifications straight from the kernel's connector (root).
struct KernelExecEvents {
    connector: ProcConnector,
    pending: std::collections::VecDeque<u32>,
}

impl ExecEvents for KernelExecEvents {
    fn next(&mut self, timeout: Duration) -> ExecWait {
        if let Some(pid) = self.pending.pop_front() {
            return ExecWait::Exec(pid);
        }
        let mut fds = [PollFd::new(&self.connector, PollFlags::IN)];
        match poll(&mut fds, Some(&process::timespec(timeout))) {
            Ok(0) => return ExecWait::Timeout,
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return ExecWait::Timeout,
            Err(e) => return ExecWait::Failed(e.to_string()),
        }
        match self.connector.receive() {
            Ok(Received::Execs(pids)) => {
                self.pending.extend(pids);
                self.pending.pop_front().map_or(ExecWait::Timeout, ExecWait::Exec)
            }
            Ok(Received::Overflow) => ExecWait::Overflow,
            Err(e) => ExecWait::Failed(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_prefers_the_executable() {
        assert_eq!(display_name(Some("/opt/AnyDesk/AnyDesk"), Some("x"), "AnyDesk-short"), "AnyDesk");
        assert_eq!(display_name(Some("/tmp/obs (deleted)"), None, "o"), "obs");
        assert_eq!(display_name(None, Some("/usr/bin/discord"), "Discord"), "discord");
        assert_eq!(display_name(None, None, "kworker/0:1"), "kworker/0:1");
    }
}
