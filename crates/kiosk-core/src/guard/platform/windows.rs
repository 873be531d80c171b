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

/// The Windows session `pid` runs in, asked of the process itself (it must
/// let us open it). [`Owners`] is asked first.
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

/// Session and owner of every process, from `WTSEnumerateProcessesW`: it
/// lists each process without opening it, so a program that denies us
/// access to itself (a student may start one with such a security
/// descriptor) still has its session and owner.
#[derive(Default)]
struct Owners {
    /// pid -> (session, owned by the user this program runs as).
    by_pid: std::collections::HashMap<u32, (u32, bool)>,
}

impl Owners {
    fn read() -> Self {
        use windows_sys::Win32::Security::EqualSid;
        use windows_sys::Win32::System::RemoteDesktop::{WTSEnumerateProcessesW, WTSFreeMemory, WTS_PROCESS_INFOW};
        let me = CurrentUser::read();
        let mut list: *mut WTS_PROCESS_INFOW = std::ptr::null_mut();
        let mut count = 0u32;
        // SAFETY: the local server (null handle), version 1; the API
        // allocates `list` with `count` entries, freed below.
        if unsafe { WTSEnumerateProcessesW(std::ptr::null_mut(), 0, 1, &mut list, &mut count) } == 0 || list.is_null() {
            return Self::default();
        }
        let mut by_pid = std::collections::HashMap::new();
        // SAFETY: `list` holds `count` entries until WTSFreeMemory.
        unsafe {
            for entry in std::slice::from_raw_parts(list, count as usize) {
                let mine = match (&me, entry.pUserSid.is_null()) {
                    (Some(me), false) => EqualSid(me.sid(), entry.pUserSid) != 0,
                    _ => false,
                };
                by_pid.insert(entry.ProcessId, (entry.SessionId, mine));
            }
            WTSFreeMemory(list.cast());
        }
        Self { by_pid }
    }
}

/// The user this program runs as (its token's user SID).
struct CurrentUser {
    buffer: Vec<u64>,
}

impl CurrentUser {
    fn read() -> Option<Self> {
        use windows_sys::Win32::Foundation::CloseHandle;
        use windows_sys::Win32::Security::{GetTokenInformation, TokenUser, TOKEN_QUERY};
        use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};
        let mut token = std::ptr::null_mut();
        // SAFETY: our own process's token, closed below.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
            return None;
        }
        let mut buffer = vec![0u64; 64];
        let mut needed = 0u32;
        // SAFETY: `buffer` has 512 aligned bytes; a TOKEN_USER with its SID fits.
        let ok = unsafe {
            GetTokenInformation(token, TokenUser, buffer.as_mut_ptr().cast(), (buffer.len() * 8) as u32, &mut needed) != 0
        };
        // SAFETY: opened above.
        unsafe { CloseHandle(token) };
        ok.then_some(Self { buffer })
    }

    fn sid(&self) -> *mut core::ffi::c_void {
        use windows_sys::Win32::Security::TOKEN_USER;
        // SAFETY: GetTokenInformation wrote a TOKEN_USER at the start of the
        // (8-byte aligned) buffer; its SID points inside the buffer.
        unsafe { (*self.buffer.as_ptr().cast::<TOKEN_USER>()).User.Sid }
    }
}

/// True for the System Idle Process and System (pid 4 and below), and for a
/// process with a critical name that is really the system's: not one of
/// this user's own programs, and not started from outside
/// `%SystemRoot%\System32` (a student's `AnyDesk.exe` renamed `dwm.exe`
/// is neither).
pub fn is_critical(process: &ProcessInfo, owned_by_me: bool) -> bool {
    if process.pid <= 4 {
        return true;
    }
    if owned_by_me || !CRITICAL_PROCESSES.iter().any(|c| process.name.eq_ignore_ascii_case(c)) {
        return false;
    }
    let system32 = std::env::var("SystemRoot").unwrap_or_else(|_| r"C:\Windows".into()) + r"\System32\";
    process.exe.as_deref().is_none_or(|exe| exe.get(..system32.len()).is_some_and(|start| start.eq_ignore_ascii_case(&system32)))
}

fn mark(mut process: ProcessInfo, owners: &Owners) -> ProcessInfo {
    let (session, mine) = match owners.by_pid.get(&process.pid) {
        Some(&(session, mine)) => (Some(session), mine),
        None => (session_of(process.pid), false),
    };
    process.kernel_thread |= is_critical(&process, mine);
    // The session stands in for the uid (see `uid_of_user`); before, no
    // Windows process had one, so a user scope held none and the guard
    // ended nothing, silently.
    process.uid = session;
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
        let owners = Owners::read();
        self.inner.snapshot().into_iter().map(|p| mark(p, &owners)).collect()
    }

    fn inspect(&mut self, pid: u32) -> Option<ProcessInfo> {
        let owners = Owners::read();
        self.inner.inspect(pid).map(|p| mark(p, &owners))
    }

    fn parent_of(&mut self, pid: u32) -> Option<u32> {
        self.inner.parent_of(pid)
    }

    fn uid_of(&mut self, pid: u32) -> Option<u32> {
        Owners::read().by_pid.get(&pid).map(|o| o.0).or_else(|| session_of(pid))
    }

    fn exe_sha256(&mut self, process: &ProcessInfo) -> Option<[u8; 32]> {
        self.inner.exe_sha256(process)
    }

    fn terminate(&mut self, process: &ProcessInfo, grace: Duration, confirm: Duration) -> Outcome {
        if process.kernel_thread {
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
        // WTSEnumerateProcessesW knows this process, its session and that it is ours.
        assert_eq!(Owners::read().by_pid.get(&std::process::id()), Some(&(session, true)));
    }

    fn named(name: &str, exe: Option<&str>) -> ProcessInfo {
        ProcessInfo { pid: 4321, name: name.into(), exe: exe.map(str::to_owned), ..ProcessInfo::default() }
    }

    /// A student's program renamed after a critical Windows process is not
    /// spared: a critical name counts only for the system's own copy
    /// (reviewer's finding: `AnyDesk.exe` renamed `dwm.exe` was never touched).
    #[test]
    fn a_critical_name_is_critical_only_for_the_systems_own_process() {
        let system32 = std::env::var("SystemRoot").unwrap_or_else(|_| r"C:\Windows".into()) + r"\System32\dwm.exe";
        assert!(is_critical(&named("dwm.exe", Some(&system32)), false));
        assert!(is_critical(&named("DWM.EXE", Some(&system32.to_lowercase())), false));
        assert!(is_critical(&named("csrss.exe", None), false), "a system process whose path we may not read");
        assert!(!is_critical(&named("dwm.exe", Some(r"C:\Users\zoe\Downloads\dwm.exe")), false));
        assert!(!is_critical(&named("dwm.exe", Some(&system32)), true), "this user's own program is never the system's");
        assert!(!is_critical(&named("dwm.exe", None), true), "unreadable, but ours");
        assert!(!is_critical(&named("notepad.exe", Some(&system32.replace("dwm", "notepad"))), false));
        assert!(!is_critical(&named("anything", None), false));
        assert!(is_critical(&ProcessInfo { pid: 4, ..named("System", None) }, false));
    }
}
