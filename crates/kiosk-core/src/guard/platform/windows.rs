//! Windows: process sweeps through `sysinfo` (Toolhelp snapshots) and
//! termination with `TerminateProcess` on a handle of our own, with the
//! operating system's critical processes never touched. Run under Wine in
//! `cargo xtask test-windows` (docs/platforms.md), not yet on Windows.
//!
//! `sysinfo` ends a Windows process by starting `taskkill.exe`; a school PC
//! where AppLocker or a software restriction policy blocks `taskkill.exe`
//! (common on exam accounts) would then see every end fail. The guard
//! therefore opens the process itself (`PROCESS_TERMINATE | SYNCHRONIZE`),
//! ends it and waits on the handle for its end.
//!
//! Windows has no unprivileged exec notification comparable to Linux's
//! process connector (ETW / WMI `Win32_ProcessStartTrace` need
//! administrator rights), so the guard sweeps; the policy's sweep interval
//! applies. The keyboard hook and capture exclusion are window-level and
//! live in `crate::lockdown::windows`.

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

/// User ids are Unix ideas: on Windows the guard's "user" is the Windows
/// session (the Remote Desktop Services session id): a student's logon on
/// the PC is one session, its desktop and every program started there; the
/// services run in session 0. A name cannot be turned into a session.
pub fn uid_of_user(_name: &str) -> Option<u32> {
    None
}

/// The Windows session `pid` runs in.
pub fn session_of(pid: u32) -> Option<u32> {
    use windows_sys::Win32::System::RemoteDesktop::ProcessIdToSessionId;
    let mut session = 0u32;
    // SAFETY: an out-pointer to a local.
    (unsafe { ProcessIdToSessionId(pid, &mut session) } != 0).then_some(session)
}

/// The Windows session this program runs in: the scope of "this user's
/// processes" on Windows.
pub fn current_session() -> Option<u32> {
    session_of(std::process::id())
}

/// True for the System Idle Process, System and the critical processes.
pub fn is_critical(process: &ProcessInfo) -> bool {
    process.pid <= 4 || CRITICAL_PROCESSES.iter().any(|c| process.name.eq_ignore_ascii_case(c))
}

fn mark(mut process: ProcessInfo) -> ProcessInfo {
    process.kernel_thread |= is_critical(&process);
    // The session stands in for the uid (see `uid_of_user`); before, no
    // Windows process had one, so a user scope held none and the guard
    // ended nothing, silently.
    process.uid = session_of(process.pid);
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

    fn uid_of(&mut self, pid: u32) -> Option<u32> {
        session_of(pid)
    }

    fn exe_sha256(&mut self, process: &ProcessInfo) -> Option<[u8; 32]> {
        self.inner.exe_sha256(process)
    }

    fn terminate(&mut self, process: &ProcessInfo, grace: Duration, confirm: Duration) -> Outcome {
        if is_critical(process) {
            return Outcome::NotEnded { reason: format!("{} is a critical Windows process", process.name) };
        }
        // No polite end on Windows for a program without a window of ours
        // to close: the forced end right away, confirmed within both waits.
        terminate(process.pid, grace + confirm)
    }

    fn exec_events(&mut self) -> Option<Box<dyn ExecEvents>> {
        None
    }
}

/// Ends process `pid` with `TerminateProcess` and waits up to `wait` for it
/// to be gone.
fn terminate(pid: u32, wait: Duration) -> Outcome {
    use windows_sys::Win32::Foundation::{CloseHandle, GetLastError, ERROR_ACCESS_DENIED, ERROR_INVALID_PARAMETER, WAIT_OBJECT_0};
    use windows_sys::Win32::System::Threading::{
        OpenProcess, TerminateProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE, PROCESS_TERMINATE,
    };
    // SAFETY: OpenProcess takes plain values and returns a handle or null.
    let handle = unsafe { OpenProcess(PROCESS_TERMINATE | PROCESS_SYNCHRONIZE, 0, pid) };
    if handle.is_null() {
        // SAFETY: reads the calling thread's last error.
        return match unsafe { GetLastError() } {
            // No process with that id any more.
            ERROR_INVALID_PARAMETER => Outcome::AlreadyGone,
            ERROR_ACCESS_DENIED => Outcome::NotEnded {
                reason: "access denied: the program runs elevated or as another user".into(),
            },
            code => Outcome::NotEnded { reason: format!("cannot open the process (Windows error {code})") },
        };
    }
    let millis = u32::try_from(wait.as_millis()).unwrap_or(u32::MAX);
    // SAFETY: `handle` is a process handle we opened with PROCESS_TERMINATE
    // and SYNCHRONIZE; it is closed once, below.
    let outcome = unsafe {
        if TerminateProcess(handle, 1) == 0 {
            let code = GetLastError();
            // A process that is ending already refuses with access denied.
            if WaitForSingleObject(handle, 0) == WAIT_OBJECT_0 {
                Outcome::AlreadyGone
            } else {
                Outcome::NotEnded { reason: format!("TerminateProcess was refused (Windows error {code})") }
            }
        } else if WaitForSingleObject(handle, millis) == WAIT_OBJECT_0 {
            Outcome::Ended { signal: "TerminateProcess".into() }
        } else {
            Outcome::NotEnded { reason: "still running after TerminateProcess".into() }
        }
    };
    // SAFETY: opened above, closed once.
    unsafe { CloseHandle(handle) };
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 21: a user scope on Windows is this Windows session and holds
    /// this program (before, no Windows process had a uid, so the kiosk's
    /// guard, scoped to its own user, saw no process at all).
    #[test]
    fn this_session_scope_holds_this_program() {
        let session = current_session().expect("ProcessIdToSessionId");
        let mut platform = WindowsPlatform::new().unwrap();
        let me = platform.inspect(std::process::id()).expect("this process");
        assert_eq!(me.uid, Some(session));
        assert!(crate::guard::Scope::User(session).contains(&me, &mut platform), "{me:?}");
        assert!(platform.snapshot().iter().any(|p| p.pid == std::process::id() && p.uid == Some(session)));
    }
}
