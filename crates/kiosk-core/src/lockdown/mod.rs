//! Operating-system lockdown for the exam, beyond the kiosk's own window:
//! what the kiosk switches off when the exam starts and back on after.
//!
//! | platform | while engaged |
//! |---|---|
//! | Linux (school PC, `examkiosk`) | the magic SysRq key off, through the privileged helper (`sysrq_disable`, restored by `sysrq_restore`) |
//! | Windows | a low-level keyboard hook swallowing Alt+Tab, Win, Ctrl+Esc, Alt+Esc ([`keys`]); a watch for the secure desktop (Ctrl+Alt+Del cannot be blocked: it is detected and reported); the user's clipboard history (Win+V) and cloud clipboard off, their settings restored after |
//! | macOS | presentation options: no process switching, no Force Quit, no Dock or menu bar, no session termination |
//!
//! The window-level part (capture exclusion on Windows, presentation options
//! on macOS) needs the shell's window or main thread: [`windows`] and
//! [`macos`] offer those calls for the shell.
//!
//! On Linux the kiosk never changes SysRq itself: without the helper (a
//! developer's machine, or the kiosk running as root) nothing is touched.

pub mod keys;
// The only modules allowed `unsafe`: the operating system's C/Objective-C
// boundary. Every block says why it is sound (`// SAFETY:`).
#[cfg(target_os = "macos")]
#[allow(unsafe_code)]
pub mod macos;
#[cfg(target_os = "windows")]
#[allow(unsafe_code)]
pub mod windows;

/// Something that happened to the lockdown while engaged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockdownEvent {
    /// The secure desktop (Ctrl+Alt+Del, UAC, the lock screen) took the
    /// screen from the kiosk; the kiosk should lock.
    SecureDesktop,
    /// Back on the kiosk's desktop.
    KioskDesktop,
}

/// Why the lockdown could not be engaged or released.
#[derive(Debug, thiserror::Error)]
pub enum LockdownError {
    /// The privileged helper refused or could not be reached.
    #[cfg(target_os = "linux")]
    #[error("SysRq: {0}")]
    Helper(#[from] crate::helper::HelperError),
    /// An operating-system call failed.
    #[error("{what}: {reason}")]
    Os {
        /// The call.
        what: &'static str,
        /// The error.
        reason: String,
    },
}

/// The engaged lockdown; [`Lockdown::release`] undoes it (dropping it
/// without releasing releases what can be released silently).
pub struct Lockdown {
    applied: Vec<String>,
    #[cfg(target_os = "linux")]
    helper: Option<crate::helper::Helper>,
    #[cfg(target_os = "windows")]
    windows: Option<windows::Engaged>,
}

impl Lockdown {
    /// Engages what this platform offers; `on_event` hears about
    /// [`LockdownEvent`]s from a background thread.
    pub fn engage(on_event: impl Fn(LockdownEvent) + Send + 'static) -> Result<Self, LockdownError> {
        #[cfg(target_os = "linux")]
        {
            let _ = on_event;
            let helper = crate::helper::Helper::detect();
            let mut applied = Vec::new();
            if let Some(helper) = &helper {
                applied.push(match helper.sysrq_disable()? {
                    Some((before, now)) => format!("SysRq {before} -> {now} (privileged helper)"),
                    None => "SysRq: this kernel has none".into(),
                });
            }
            Ok(Self { applied, helper })
        }
        #[cfg(target_os = "windows")]
        {
            let engaged = windows::Engaged::start(on_event)?;
            Ok(Self { applied: engaged.applied(), windows: Some(engaged) })
        }
        #[cfg(not(any(target_os = "linux", target_os = "windows")))]
        {
            // macOS: presentation options are set by the shell on its main thread.
            let _ = on_event;
            Ok(Self { applied: Vec::new() })
        }
    }

    /// What was switched off, for the journal.
    pub fn applied(&self) -> &[String] {
        &self.applied
    }

    /// Switches everything back on.
    pub fn release(mut self) -> Result<Vec<String>, LockdownError> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> Result<Vec<String>, LockdownError> {
        #[cfg_attr(not(any(target_os = "linux", target_os = "windows")), allow(unused_mut))]
        let mut released = Vec::new();
        #[cfg(target_os = "linux")]
        if let Some(helper) = self.helper.take() {
            if let Some((before, now)) = helper.sysrq_restore()? {
                released.push(format!("SysRq {before} -> {now} (privileged helper)"));
            }
        }
        #[cfg(target_os = "windows")]
        if let Some(engaged) = self.windows.take() {
            released.extend(engaged.stop()?);
        }
        self.applied.clear();
        Ok(released)
    }
}

impl Drop for Lockdown {
    fn drop(&mut self) {
        let _ = self.release_inner();
    }
}
