//! The operating-system calls the guard needs, behind one trait.

use super::{Outcome, ProcessInfo};
use std::time::Duration;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::{uid_of_user, LinuxPlatform as NativePlatform};

#[cfg(not(target_os = "linux"))]
mod other;
#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
pub use other::{uid_of_user, SweepOnlyPlatform as NativePlatform};

#[cfg(target_os = "windows")]
mod windows;
#[cfg(target_os = "windows")]
pub use windows::{uid_of_user, WindowsPlatform as NativePlatform};

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
}
