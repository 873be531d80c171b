//! The exam kiosk core: everything that is not GUI.
pub mod location;
pub mod guard;
