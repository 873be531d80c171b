//! The exam kiosk core: everything that is not GUI.
pub mod location;
pub mod environment;
pub mod guard;
pub mod hub;
