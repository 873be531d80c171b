//! The operating-system calls the guard needs, behind one trait.

use super::display::{BehaviourWatch, DisplayTargets};
use super::{Outcome, ProcessInfo};
use std::time::Duration;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod linux_display;
#[cfg(target_os = "linux")]
pub use linux::{uid_of_user, LinuxPlatform as NativePlatform};
#[cfg(target_os = "linux")]
pub use linux_display::{exe_trusted, LinuxBehaviour};

#[cfg(not(target_os = "linux"))]
mod other;
#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
pub use other::{uid_of_user, SweepOnlyPlatform as NativePlatform};

// Ends a process with TerminateProcess: `unsafe` at that Win32 call only.
#[cfg(target_os = "windows")]
#[allow(unsafe_code)]
mod windows;
#[cfg(target_os = "windows")]
pub use windows::{current_session, uid_of_user, WindowsPlatform as NativePlatform};

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
pub use macos::{uid_of_user, MacosPlatform as NativePlatform};

/// What waiting for the next exec notification gave.
#[derive(Debug)]
pub enum ExecWait {
    /// A process (thread-group id) executed a new program.
    Exec(u32),
    /// Nothing within the timeout.
    Timeout,
    /// Notifications were dropped (the queue overflowed); sweep now.
    Overflow,
    /// The event source failed and is gone.
    Failed(String),
}

/// A stream of exec notifications.
pub trait ExecEvents: Send {
    /// Waits up to `timeout` for the next notification.
    fn next(&mut self, timeout: Duration) -> ExecWait;
}

/// Process listing, inspection and termination on one platform.
pub trait ProcessPlatform {
    /// Every process now (the sweep).
    fn snapshot(&mut self) -> Vec<ProcessInfo>;
    /// One process, or `None` when it is already gone.
    fn inspect(&mut self, pid: u32) -> Option<ProcessInfo>;
    /// The parent of `pid`, if it still runs.
    fn parent_of(&mut self, pid: u32) -> Option<u32>;
    /// The real user id of `pid`, if it still runs.
    fn uid_of(&mut self, pid: u32) -> Option<u32>;
    /// SHA-256 of the process's executable, when readable.
    fn exe_sha256(&mut self, process: &ProcessInfo) -> Option<[u8; 32]>;
    /// Ends `process`: a polite signal, `grace`, then a forced one, and
    /// confirmation within `confirm` that it is gone.
    fn terminate(&mut self, process: &ProcessInfo, grace: Duration, confirm: Duration) -> Outcome;
    /// Instant exec notifications, when the platform and privileges allow.
    fn exec_events(&mut self) -> Option<Box<dyn ExecEvents>>;
    /// The behaviour watch (display clients, screen capture, input
    /// injection) over `targets`, where the platform has one.
    fn behaviour_watch(&mut self, _targets: &DisplayTargets) -> Option<Box<dyn BehaviourWatch>> {
        None
    }
    /// Who `pid` is now: its start time and executable, cheaply (no full
    /// inspection); `None` when gone or not available here.
    fn identity(&mut self, _pid: u32) -> Option<(u64, String)> {
        None
    }
    /// Every pid now, cheaply (no details).
    fn pids(&mut self) -> Vec<u32> {
        self.snapshot().into_iter().map(|p| p.pid).collect()
    }
}
