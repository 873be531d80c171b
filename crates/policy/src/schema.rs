//! The JSON Schema of the policy, generated from the model with `schemars`.

use crate::model::Policy;

/// The command that regenerates the checked-in schema.
pub const REGENERATE_COMMAND: &str = "cargo run -p kioskctl -- policy schema > policies/policy.schema.json";

/// The policy's JSON Schema as pretty-printed JSON with a trailing newline,
/// exactly as checked in at `policies/policy.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Policy);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
