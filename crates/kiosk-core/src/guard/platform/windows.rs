//! Windows: process sweeps and termination through `sysinfo` (Toolhelp
//! snapshots and `TerminateProcess`), with the operating system's critical
//! processes never touched. Compiled for `x86_64-pc-windows-gnu`
//! (`cargo xtask check-platforms`); not yet run on Windows.
//!
//! Windows has no unprivileged exec notification comparable to Linux's
//! process connector (ETW / WMI `Win32_ProcessStartTrace` need
//! administrator rights), so the guard sweeps; the policy's sweep interval
//! applies. The keyboard hook (Alt+Tab, Win, Ctrl+Esc, Alt+Esc) and
//! `SetWindowDisplayAffinity(WDA_EXCLUDEFROMCAPTURE)` are window-level and
//! need FFI, which this `unsafe`-free crate does not do: the shell sets
//! capture exclusion through Tauri's `content_protected(true)`, and the hook
//! belongs in a small separate crate (see docs/installer.md, "Windows").

use super::other::SweepOnlyPlatform;
use super::{ExecEvents, ProcessPlatform};
use crate::guard::{Outcome, ProcessInfo};
use std::time::Duration;

/// Processes whose end would crash or log off Windows; the guard treats
/// them like kernel threads and never touches them.
pub const CRITICAL_PROCESSES: &[&str] = &[
    "system",
    "registry",
    "smss.exe",
    "csrss.exe",
    "wininit.exe",
    "winlogon.exe",
    "services.exe",
    "lsass.exe",
    "lsaiso.exe",
    "fontdrvhost.exe",
    "dwm.exe",
    "memory compression",
];

/// The Windows platform.
pub struct WindowsPlatform {
    inner: SweepOnlyPlatform,
}

/// User ids are Unix ideas; Windows scopes the guard by process tree.
pub fn uid_of_user(_name: &str) -> Option<u32> {
    None
}

/// True for the System Idle Process, System and the critical processes.
pub fn is_critical(process: &ProcessInfo) -> bool {
    process.pid <= 4 || CRITICAL_PROCESSES.iter().any(|c| process.name.eq_ignore_ascii_case(c))
}

fn mark(mut process: ProcessInfo) -> ProcessInfo {
    process.kernel_thread |= is_critical(&process);
    process
}

impl WindowsPlatform {
    /// A platform with an empty process table.
    pub fn new() -> std::io::Result<Self> {
        Ok(Self { inner: SweepOnlyPlatform::new()? })
    }
}

impl ProcessPlatform for WindowsPlatform {
    fn snapshot(&mut self) -> Vec<ProcessInfo> {
        self.inner.snapshot().into_iter().map(mark).collect()
    }

    fn inspect(&mut self, pid: u32) -> Option<ProcessInfo> {
        self.inner.inspect(pid).map(mark)
    }

    fn parent_of(&mut self, pid: u32) -> Option<u32> {
        self.inner.parent_of(pid)
    }

    fn uid_of(&mut self, _pid: u32) -> Option<u32> {
        None
    }

    fn exe_sha256(&mut self, process: &ProcessInfo) -> Option<[u8; 32]> {
        self.inner.exe_sha256(process)
    }

    fn terminate(&mut self, process: &ProcessInfo, grace: Duration, confirm: Duration) -> Outcome {
        if is_critical(process) {
            return Outcome::NotEnded { reason: format!("{} is a critical Windows process", process.name) };
        }
        // No SIGTERM on Windows: sysinfo refuses it and the forced end follows.
        self.inner.terminate(process, grace, confirm)
    }

    fn exec_events(&mut self) -> Option<Box<dyn ExecEvents>> {
        None
    }
}
