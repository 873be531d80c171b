//! The clipboard is cleared when an exam starts and when it ends, so nothing
//! is carried in or out across the exam's edges.
//!
//! During the exam (issue 15 point 6: under X11 another program's text was
//! pasted into answers, and Ctrl+C put an answer on the system clipboard
//! and PRIMARY), the kiosk shares no clipboard with the session:
//!
//! * the page keeps its own clipboard (`ui/js/lockdown.js`): copy, cut and
//!   paste work between the student's own answers and never read or write
//!   the session's clipboard or primary selection;
//! * in exam mode (not demo) the shell's clipboard guard
//!   (`src-tauri/src/clipboard_guard.rs`, GTK main thread) refuses every
//!   other program's request for CLIPBOARD or PRIMARY (what WebKitGTK puts
//!   there itself, such as selected text, stays in the kiosk) and takes
//!   both back, with empty text, from any other program that owns them;
//!   journalled once as `kiosk.clipboard_isolated`, never with content.
//!
//! E2e `clipboard` checks both at the real window under Xvfb. On Linux the
//! session's clipboard belongs to the display server, so this module asks
//! the standard tools: `wl-copy --clear` on Wayland (cage), and `xsel` on
//! X11 (both the CLIPBOARD and the PRIMARY selection). The tools are run by
//! absolute path ([`XSEL`], [`WL_COPY`]), never looked up through `PATH`:
//! on a student's own device the student controls `PATH`, and a program the
//! kiosk starts itself is exempt from the guard's rules.

#[cfg(not(windows))]
use std::path::Path;
#[cfg(not(windows))]
use std::process::{Command, Stdio};

/// The X11 clipboard tool (Debian/Ubuntu package `xsel`).
pub const XSEL: &str = "/usr/bin/xsel";
/// The Wayland clipboard tool (Debian/Ubuntu package `wl-clipboard`).
pub const WL_COPY: &str = "/usr/bin/wl-copy";

/// What `wl-copy --primary` says when the compositor offers Wayland
/// clients no primary selection protocol.
#[cfg(not(windows))]
const NO_PRIMARY_SELECTION: &str = "does not seem to support primary selection";

/// Why the clipboard could not be cleared.
#[derive(Debug, thiserror::Error)]
pub enum ClipboardError {
    /// No display server to talk to.
    #[error("no display session (neither WAYLAND_DISPLAY nor DISPLAY is set)")]
    NoSession,
    /// The Windows clipboard could not be opened or emptied.
    #[error("the Windows clipboard: {0}")]
    Windows(std::io::Error),
    /// The helper tool is missing or failed.
    #[error("{tool}: {reason}")]
    Tool {
        /// The tool.
        tool: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// Clears the clipboard of the current graphical session: on Windows
/// through Win32 (`lockdown::windows::clear_clipboard`), elsewhere with the
/// tools above.
pub fn clear() -> Result<(), ClipboardError> {
    #[cfg(windows)]
    {
        crate::lockdown::windows::clear_clipboard().map_err(ClipboardError::Windows)
    }
    #[cfg(not(windows))]
    clear_with_tools()
}

#[cfg(not(windows))]
fn clear_with_tools() -> Result<(), ClipboardError> {
    if std::env::var_os("WAYLAND_DISPLAY").is_some() {
        run(WL_COPY, "wl-clipboard", &["--clear"])?;
        match run(WL_COPY, "wl-clipboard", &["--primary", "--clear"]) {
            // A compositor without a primary selection (cage 0.1.4, the
            // Debian 12 kiosk session) has none to clear; this failed the
            // exam's start there (e2e wayland_clipboard).
            Err(ClipboardError::Tool { reason, .. }) if reason.contains(NO_PRIMARY_SELECTION) => Ok(()),
            other => other,
        }
    } else if std::env::var_os("DISPLAY").is_some() {
        run(XSEL, "xsel", &["--clipboard", "--clear"])?;
        run(XSEL, "xsel", &["--primary", "--clear"])
    } else {
        Err(ClipboardError::NoSession)
    }
}

/// Runs `tool` (an absolute path; `package` installs it) with `args`.
#[cfg(not(windows))]
fn run(tool: &'static str, package: &str, args: &[&str]) -> Result<(), ClipboardError> {
    debug_assert!(Path::new(tool).is_absolute());
    if !Path::new(tool).is_file() {
        return Err(ClipboardError::Tool { tool, reason: format!("not installed (install the package {package}); the kiosk never looks it up through PATH") });
    }
    let out = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| ClipboardError::Tool { tool, reason: e.to_string() })?;
    if out.status.success() {
        Ok(())
    } else {
        let said = String::from_utf8_lossy(&out.stderr);
        Err(ClipboardError::Tool { tool, reason: format!("exited with {}: {}", out.status, said.trim()) })
    }
}

// The tests are about the Linux tools; Windows has its own in lockdown::windows.
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Issue: `xsel`/`wl-copy` were looked up through PATH, so a program of
    /// the student's named `xsel` early in PATH ran as the kiosk's child.
    #[cfg(unix)]
    #[test]
    fn a_tool_of_the_same_name_on_path_is_never_run() {
        if std::env::var_os("EXAM_CLIPBOARD_PATH_CHILD").is_some() {
            // The child: whatever the real tools say (no such display).
            let _ = clear();
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        for name in ["xsel", "wl-copy"] {
            let fake = dir.path().join(name);
            std::fs::write(&fake, format!("#!/bin/sh\necho {name} >> '{}'\n", marker.display())).unwrap();
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        for (var, value) in [("DISPLAY", ":65000"), ("WAYLAND_DISPLAY", "exam-kiosk-no-such-display")] {
            let mut child = Command::new(std::env::current_exe().unwrap());
            child
                .args(["--exact", "clipboard::tests::a_tool_of_the_same_name_on_path_is_never_run"])
                .env("EXAM_CLIPBOARD_PATH_CHILD", "1")
                .env("PATH", dir.path())
                .env_remove("DISPLAY")
                .env_remove("WAYLAND_DISPLAY")
                .env(var, value)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            assert!(child.status().unwrap().success());
        }
        assert!(!marker.exists(), "a tool from PATH ran: {:?}", std::fs::read_to_string(&marker));
    }

    /// The tool's own words are in the error (the Wayland clear tells a
    /// compositor without a primary selection by them).
    #[cfg(unix)]
    #[test]
    fn a_failing_tool_is_reported_with_what_it_said() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("wl-copy");
        std::fs::write(&fake, "#!/bin/sh\necho 'The compositor does not seem to support primary selection' >&2\nexit 1\n").unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tool: &'static str = Box::leak(fake.display().to_string().into_boxed_str());
        match run(tool, "wl-clipboard", &["--primary", "--clear"]) {
            Err(ClipboardError::Tool { reason, .. }) => assert!(reason.contains(NO_PRIMARY_SELECTION), "{reason}"),
            other => panic!("expected the tool's failure, got {other:?}"),
        }
    }

    /// The Linux tools' paths (`/usr/bin/xsel`) are not absolute on Windows,
    /// where the clipboard is not cleared with tools.
    #[cfg(unix)]
    #[test]
    fn a_missing_tool_is_named_with_its_package() {
        match run("/nonexistent/exam-kiosk/xsel", "xsel", &["--clear"]) {
            Err(ClipboardError::Tool { reason, .. }) => assert!(reason.contains("install the package xsel"), "{reason}"),
            other => panic!("expected a missing tool, got {other:?}"),
        }
    }
}
