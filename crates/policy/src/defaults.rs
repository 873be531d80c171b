//! Every default and limit of the policy, in one place.
//!
//! The functions exist because serde's `default = "..."` needs a function;
//! each returns the constant of the same name.

use crate::model::{Action, UnlockMethod};

/// The only policy format version this crate reads.
pub const POLICY_VERSION: u32 = 1;

/// Default maximum age of a hub source-address echo, seconds.
pub const HUB_ECHO_MAX_AGE_SECS: u32 = 60;
/// Default beacon clock tolerance, ms.
pub const BEACON_MAX_AGE_MS: u32 = 5_000;
/// Default beacon answer timeout, ms.
pub const BEACON_TIMEOUT_MS: u32 = 500;
/// Largest beacon timeout a policy may set, ms.
pub const BEACON_TIMEOUT_MAX_MS: u32 = 10_000;
/// Default room-code step, seconds.
pub const ROOM_CODE_STEP_SECS: u32 = 30;
/// Allowed room-code steps, seconds (inclusive).
pub const ROOM_CODE_STEP_RANGE: std::ops::RangeInclusive<u32> = 30..=60;
/// Default room-code length.
pub const ROOM_CODE_DIGITS: u8 = 6;
/// Allowed room-code lengths (inclusive).
pub const ROOM_CODE_DIGITS_RANGE: std::ops::RangeInclusive<u8> = 6..=8;
/// Default process sweep interval, ms.
pub const SWEEP_INTERVAL_MS: u32 = 2_000;
/// Default grace between SIGTERM and SIGKILL, ms.
pub const KILL_GRACE_MS: u32 = 500;
/// Default VM action (warn: false positives on real PCs are common).
pub const VM_ACTION: Action = Action::Warn;
/// Default remote-session action.
pub const REMOTE_SESSION_ACTION: Action = Action::Lock;
/// Default too-many-displays action.
pub const DISPLAYS_ACTION: Action = Action::Lock;
/// Default maximum number of displays.
pub const MAX_DISPLAYS: u8 = 1;
/// Default screen-capture action.
pub const SCREEN_CAPTURE_ACTION: Action = Action::Lock;
/// Default wrong unlock attempts per window.
pub const MAX_FAILED_UNLOCKS: u32 = 5;
/// Default unlock-attempt window, seconds.
pub const FAILED_UNLOCK_WINDOW_SECS: u32 = 60;
/// Default records per journal epoch.
pub const EPOCH_RECORDS: u64 = 10_000;
/// Default minutes per journal epoch.
pub const EPOCH_MINUTES: u32 = 60;
/// Default records between journal checkpoints.
pub const CHECKPOINT_RECORDS: u64 = 100;
/// Default seconds between journal checkpoints.
pub const CHECKPOINT_SECONDS: u32 = 60;
/// Default journal segment size, bytes.
pub const SEGMENT_BYTES: u64 = 8 * 1024 * 1024;
/// Smallest journal segment size a policy may set, bytes.
pub const SEGMENT_BYTES_MIN: u64 = 4 * 1024;
/// Largest policy file or bundle accepted, bytes.
pub const MAX_POLICY_BYTES: u64 = 1024 * 1024;

pub(crate) fn yes() -> bool {
    true
}
pub(crate) fn hub_echo_max_age_secs() -> u32 {
    HUB_ECHO_MAX_AGE_SECS
}
pub(crate) fn beacon_max_age_ms() -> u32 {
    BEACON_MAX_AGE_MS
}
pub(crate) fn beacon_timeout_ms() -> u32 {
    BEACON_TIMEOUT_MS
}
pub(crate) fn room_code_step_secs() -> u32 {
    ROOM_CODE_STEP_SECS
}
pub(crate) fn room_code_digits() -> u8 {
    ROOM_CODE_DIGITS
}
pub(crate) fn sweep_interval_ms() -> u32 {
    SWEEP_INTERVAL_MS
}
pub(crate) fn kill_grace_ms() -> u32 {
    KILL_GRACE_MS
}
pub(crate) fn vm_action() -> Action {
    VM_ACTION
}
pub(crate) fn remote_session_action() -> Action {
    REMOTE_SESSION_ACTION
}
pub(crate) fn displays_action() -> Action {
    DISPLAYS_ACTION
}
pub(crate) fn max_displays() -> u8 {
    MAX_DISPLAYS
}
pub(crate) fn screen_capture_action() -> Action {
    SCREEN_CAPTURE_ACTION
}
pub(crate) fn unlock_methods() -> Vec<UnlockMethod> {
    vec![UnlockMethod::Hub]
}
pub(crate) fn max_failed_unlocks() -> u32 {
    MAX_FAILED_UNLOCKS
}
pub(crate) fn failed_unlock_window_secs() -> u32 {
    FAILED_UNLOCK_WINDOW_SECS
}
pub(crate) fn epoch_records() -> u64 {
    EPOCH_RECORDS
}
pub(crate) fn epoch_minutes() -> u32 {
    EPOCH_MINUTES
}
pub(crate) fn checkpoint_records() -> u64 {
    CHECKPOINT_RECORDS
}
pub(crate) fn checkpoint_seconds() -> u32 {
    CHECKPOINT_SECONDS
}
pub(crate) fn segment_bytes() -> u64 {
    SEGMENT_BYTES
}
