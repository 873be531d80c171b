//! Exam instruments: signed, encrypted QTI 3.0 packages (`.exam`).
//!
//! Its own crate (issue 17) so the hub checks a package at import with the
//! same code the kiosk opens it with, without depending on the kiosk.
//!
//! The life of a package in the kiosk:
//!
//! 1. [`SealedPackage::read`] parses the container (sizes checked before
//!    anything is allocated) and exposes the signed [`PackageHeader`];
//! 2. [`SealedPackage::verify`] checks the approval signature against the
//!    trusted instrument keys of the policy ([`InstrumentTrust`]) and that the
//!    ciphertext is complete and unchanged — all *before* the start, without
//!    the content key;
//! 3. at the start, [`VerifiedPackage::decrypt`] opens the payload with the
//!    [`ContentKey`] the hub releases and checks every file against the signed
//!    manifest;
//! 4. [`PackageContents::import`] parses the QTI 3.0 content package into a
//!    [`qti::Instrument`]: a render model (serialisable to JSON for the web
//!    view, without correct answers) and the scoring data (for the hub).
//!
//! Every step refuses hostile input with a reason ([`PackageError`],
//! [`qti::QtiError`]) and never returns part of a package.
//!
//! ```no_run
//! use exam_instrument::{ContentKey, InstrumentTrust, SealedPackage};
//!
//! fn open(policy: &exam_policy::Policy, key_base64: &str) -> Result<String, Box<dyn std::error::Error>> {
//!     let trust = InstrumentTrust::from_policy(policy);
//!     // Before the start: signature and completeness.
//!     let verified = SealedPackage::read("sitting.exam".as_ref())?.verify(&trust)?;
//!     // At the start, with the key the hub released:
//!     let contents = verified.decrypt(&ContentKey::from_base64(key_base64)?)?;
//!     let instrument = contents.import()?;
//!     Ok(instrument.render_json()?)
//! }
//! ```


pub mod answer_ids;
mod error;
mod grants;
mod keys;
mod package;
pub mod paths;
pub mod qti;
mod qti_scoring;
mod report;
mod xml;

pub use error::PackageError;
pub use report::{how_scored, interactions, HowScored, ItemReport, SCORED_RESPONSE};
pub use grants::{InstrumentTool, InstrumentTools, MAX_NO_SPELL_CHECK, READ_ALOUD_WORDS, SPELL_CHECK_WORDS};
pub use keys::{ContentKey, InstrumentTrust, TrustedSigner};
pub use package::{
    build_payload, media_type, pack, pack_dir, seal_files, seal_payload, PackInput, PackageContents, PackageHeader, SealedPackage, VerifiedPackage,
    CIPHER, FORMAT_VERSION, HEADER_SIGN_DOMAIN, MAGIC, MAX_FILES, MAX_FILE_BYTES, MAX_HEADER_BYTES, MAX_PACKAGE_BYTES,
    MAX_PATH_BYTES, PAYLOAD_AAD_DOMAIN, PAYLOAD_MAGIC,
};
