//! The exam kiosk core: everything that is not GUI.
pub mod location;
pub mod clipboard;
pub mod environment;
pub mod guard;
#[cfg(target_os = "linux")]
pub mod helper;
pub mod lockdown;
pub mod hub;
pub mod session;
pub mod instrument;
pub mod answers;
pub mod kiosk;
pub mod events;
// Exam tools (issue 19).
pub mod tools;
