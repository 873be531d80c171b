//! macOS (BYOD): process sweeps and termination through `sysinfo`, user ids
//! from the process table, `launchd` and the kernel never touched.
//! Compiled for `aarch64-apple-darwin` (`cargo xtask check-platforms`); not
//! yet run on a Mac.
//!
//! macOS offers exec notifications only to Endpoint Security clients (an
//! Apple entitlement), so the guard sweeps. Process switching and Force
//! Quit are disabled by the shell's presentation options
//! (`NSApplicationPresentationDisableProcessSwitching`,
//! `...DisableForceQuit`), or by Automatic Assessment Configuration where
//! the entitlement is granted; both are window-level and documented in
//! docs/byod.md.

use super::other::SweepOnlyPlatform;
use super::{ExecEvents, ProcessPlatform};
use crate::guard::{Outcome, ProcessInfo};
use std::time::Duration;

/// The macOS platform.
pub struct MacosPlatform {
    inner: SweepOnlyPlatform,
    system: sysinfo::System,
}

/// The uid of a user name, from `id -u` (Directory Services, not /etc/passwd).
pub fn uid_of_user(name: &str) -> Option<u32> {
    let out = std::process::Command::new("/usr/bin/id").args(["-u", name]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().parse().ok()).flatten()
}

fn mark(mut process: ProcessInfo) -> ProcessInfo {
    // kernel_task (0) and launchd (1).
    process.kernel_thread |= process.pid <= 1;
    process
}

impl MacosPlatform {
    /// A platform with an empty process table.
    pub fn new() -> std::io::Result<Self> {
        let system = sysinfo::System::new().map_err(|e| std::io::Error::other(format!("cannot read the process table: {e}")))?;
        Ok(Self { inner: SweepOnlyPlatform::new()?, system })
    }
}

impl ProcessPlatform for MacosPlatform {
    fn snapshot(&mut self) -> Vec<ProcessInfo> {
        let processes = self.inner.snapshot();
        processes.into_iter().map(|p| mark(ProcessInfo { uid: self.uid_of(p.pid), ..p })).collect()
    }

    fn inspect(&mut self, pid: u32) -> Option<ProcessInfo> {
        let process = self.inner.inspect(pid)?;
        Some(mark(ProcessInfo { uid: self.uid_of(pid), ..process }))
    }

    fn parent_of(&mut self, pid: u32) -> Option<u32> {
        self.inner.parent_of(pid)
    }

    fn uid_of(&mut self, pid: u32) -> Option<u32> {
        let spid = sysinfo::Pid::from_u32(pid);
        let kind = sysinfo::ProcessRefreshKind::nothing().with_user(sysinfo::UpdateKind::Always);
        self.system.refresh_processes_specifics(sysinfo::ProcessesToUpdate::Some(&[spid]), true, kind);
        self.system.process(spid)?.user_id().map(|u| **u)
    }

    fn exe_sha256(&mut self, process: &ProcessInfo) -> Option<[u8; 32]> {
        self.inner.exe_sha256(process)
    }

    fn terminate(&mut self, process: &ProcessInfo, grace: Duration, confirm: Duration) -> Outcome {
        if process.pid <= 1 {
            return Outcome::NotEnded { reason: "kernel_task and launchd are never ended".into() };
        }
        self.inner.terminate(process, grace, confirm)
    }

    fn exec_events(&mut self) -> Option<Box<dyn ExecEvents>> {
        None
    }
}
