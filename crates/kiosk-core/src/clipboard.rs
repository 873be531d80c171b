//! The clipboard is cleared when an exam starts and when it ends, so nothing
//! is carried in or out. (During the exam the kiosk is the only program in
//! the session — cage on school PCs — and its web view keeps its own
//! clipboard; see the kiosk.)
//!
//! On Linux the session's clipboard belongs to the display server, so the
//! kiosk asks the standard tools: `wl-copy --clear` on Wayland (cage), and
//! `xsel` on X11 (both the CLIPBOARD and the PRIMARY selection).

use std::process::{Command, Stdio};

/// Why the clipboard could not be cleared.
#[derive(Debug, thiserror::Error)]
pub enum ClipboardError {
    /// No display server to talk to.
    #[error("no display session (neither WAYLAND_DISPLAY nor DISPLAY is set)")]
    NoSession,
    /// The helper tool is missing or failed.
    #[error("{tool}: {reason}")]
    Tool {
        /// The tool.
        tool: &'static str,
        /// What went wrong.
        reason: String,
    },
}

/// Clears the clipboard of the current graphical session.
pub fn clear() -> Result<(), ClipboardError> {
    if std::env::var_os("WAYLAND_DISPLAY").is_some() {
        run("wl-copy", &["--clear"])?;
        run("wl-copy", &["--primary", "--clear"])
    } else if std::env::var_os("DISPLAY").is_some() {
        run("xsel", &["--clipboard", "--clear"])?;
        run("xsel", &["--primary", "--clear"])
    } else {
        Err(ClipboardError::NoSession)
    }
}

fn run(tool: &'static str, args: &[&str]) -> Result<(), ClipboardError> {
    let status = Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| ClipboardError::Tool { tool, reason: e.to_string() })?;
    if status.success() {
        Ok(())
    } else {
        Err(ClipboardError::Tool { tool, reason: format!("exited with {status}") })
    }
}
