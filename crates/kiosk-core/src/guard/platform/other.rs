//! Platforms without a native guard backend yet (Windows and macOS get
//! theirs with the installer issue): sweeps through `sysinfo`, termination
//! through `sysinfo`'s kill, no exec notifications.

use super::{ExecEvents, ProcessPlatform};
use crate::guard::{Outcome, ProcessInfo};
use std::time::{Duration, Instant};
use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

/// Sweep-only platform.
pub struct SweepOnlyPlatform {
    system: System,
}

/// User ids by name are not resolved on this platform.
#[cfg_attr(any(target_os = "windows", target_os = "macos"), allow(dead_code))] // they have their own
pub fn uid_of_user(_name: &str) -> Option<u32> {
    None
}

impl SweepOnlyPlatform {
    /// A platform with an empty process table.
    pub fn new() -> std::io::Result<Self> {
        let system = System::new().map_err(|e| std::io::Error::other(format!("cannot read the process table: {e}")))?;
        Ok(Self { system })
    }

    fn kind() -> ProcessRefreshKind {
        ProcessRefreshKind::nothing().with_exe(UpdateKind::Always).with_cmd(UpdateKind::Always).without_tasks()
    }

    fn info(&self, pid: sysinfo::Pid) -> Option<ProcessInfo> {
        let p = self.system.process(pid)?;
        let exe = p.exe().map(|e| e.to_string_lossy().into_owned());
        let name = exe
            .as_deref()
            .and_then(|e| std::path::Path::new(e).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| p.name().to_string_lossy().into_owned());
        Some(ProcessInfo {
            pid: pid.as_u32(),
            ppid: p.parent().map(|pp| pp.as_u32()),
            name,
            exe,
            cmdline: Some(p.cmd().iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")),
            parent_name: p.parent().and_then(|pp| self.system.process(pp)).map(|pp| pp.name().to_string_lossy().into_owned()),
            ..ProcessInfo::default()
        })
    }
}

impl ProcessPlatform for SweepOnlyPlatform {
    fn snapshot(&mut self) -> Vec<ProcessInfo> {
        self.system.refresh_processes_specifics(ProcessesToUpdate::All, true, Self::kind());
        let pids: Vec<_> = self.system.processes().keys().copied().collect();
        pids.into_iter().filter_map(|pid| self.info(pid)).collect()
    }

    fn inspect(&mut self, pid: u32) -> Option<ProcessInfo> {
        let pid = sysinfo::Pid::from_u32(pid);
        self.system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, Self::kind());
        self.info(pid)
    }

    fn parent_of(&mut self, pid: u32) -> Option<u32> {
        self.inspect(pid).and_then(|p| p.ppid)
    }

    fn uid_of(&mut self, _pid: u32) -> Option<u32> {
        None
    }

    fn exe_sha256(&mut self, process: &ProcessInfo) -> Option<[u8; 32]> {
        let bytes = std::fs::read(process.exe.as_deref()?).ok()?;
        ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref().try_into().ok()
    }

    fn terminate(&mut self, process: &ProcessInfo, grace: Duration, confirm: Duration) -> Outcome {
        let pid = sysinfo::Pid::from_u32(process.pid);
        for (signal, wait, name) in
            [(sysinfo::Signal::Term, grace, "SIGTERM"), (sysinfo::Signal::Kill, confirm, "SIGKILL")]
        {
            match self.system.process(pid).map(|p| p.kill_with(signal)) {
                None => return Outcome::AlreadyGone,
                Some(None | Some(false)) if name == "SIGTERM" => continue,
                Some(None | Some(false)) => return Outcome::NotEnded { reason: "the signal was refused".into() },
                Some(Some(true)) => {}
            }
            let deadline = Instant::now() + wait;
            while Instant::now() < deadline {
                if self.inspect(process.pid).is_none() {
                    return Outcome::Ended { signal: name.into() };
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Outcome::NotEnded { reason: "still running after the forced end".into() }
    }

    fn exec_events(&mut self) -> Option<Box<dyn ExecEvents>> {
        None
    }
}
