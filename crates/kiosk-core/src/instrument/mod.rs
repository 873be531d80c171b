//! Exam instruments in the kiosk: the package format and QTI content live
//! in the `exam-instrument` crate (re-exported here, so
//! `kiosk_core::instrument::…` keeps working); this module adds what only
//! the kiosk does with a running instrument — its images for the
//! `exammedia:` scheme and web instruments with their exam key header.

pub use exam_instrument::*;

pub mod media;
pub mod running;
pub mod web;
pub mod web_instrument;
pub mod web_proxy;
pub mod web_start;

pub use web_instrument::WebInstrumentOf;
