//! Exam policy: the model of what a kiosk enforces, loaded from TOML with
//! errors that name file, line and column; semantic validation; the JSON
//! Schema; and Ed25519-signed policy bundles (crypto through `ring` only).
//!
//! ```no_run
//! use exam_policy::{load_policy_file, load_for_exam, TrustedKeys};
//! use std::path::Path;
//! // Development: a plain TOML policy.
//! let policy = load_policy_file(Path::new("policies/demo.toml"))?;
//! // Exam mode: only a bundle signed by an enrolled key.
//! let trusted = TrustedKeys::load(Path::new("/etc/exam-kiosk/policy-keys"))?;
//! let verified = load_for_exam(Path::new("/etc/exam-kiosk/policy.bundle"), &trusted)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bundle;
pub mod defaults;
pub mod load;
pub mod model;
pub mod pem;
pub mod process;
pub mod schema;
pub mod totp;
pub mod types;
pub mod validate;

pub use bundle::{
    is_bundle, load_for_exam, parse_bundle, parse_bundle_body, sign_policy, verify_bundle, verify_signature,
    BundleError, SigningKey, TrustedKeys, VerifiedPolicy,
};
pub use load::{load_policy_file, parse_policy, read_text, Diagnostic, PolicyError};
pub use model::*;
pub use process::{default_deny_rules, kiosk_read_aloud_rule, DisplayVerdict, ProcessFacts, ProcessVerdict, KIOSK_READ_ALOUD};
pub use schema::{schema_json, REGENERATE_COMMAND};
/// An invigilator's PIN hash (`InvigilatorEntry::pin`): the one password-hash type.
pub use exam_secure::PasswordHash;
pub use types::{canonical_ip, Cidr, DesktopProgram, MacAddr, PublicKeyHex, SecretRef, Sha256Hex};
