//! All tunable limits of the journal, with their defaults in one place.

use std::time::Duration;

/// Default: records signed by one epoch key before a new epoch starts.
pub const DEFAULT_EPOCH_MAX_RECORDS: u64 = 10_000;
/// Default: longest life of one epoch key.
pub const DEFAULT_EPOCH_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// Default: records between two checkpoints.
pub const DEFAULT_CHECKPOINT_EVERY_RECORDS: u64 = 1_000;
/// Default: longest time between two checkpoints while events arrive.
pub const DEFAULT_CHECKPOINT_EVERY: Duration = Duration::from_secs(60);
/// Default: a segment is closed when the next record would pass this size.
pub const DEFAULT_SEGMENT_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// How often epochs and checkpoints start, and how large segments grow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalConfig {
    /// A new epoch starts after this many records signed by one epoch key.
    pub epoch_max_records: u64,
    /// A new epoch starts when the current one is this old.
    pub epoch_max_age: Duration,
    /// A checkpoint is written after this many records.
    pub checkpoint_every_records: u64,
    /// A checkpoint is written when the last one is this old and a record arrives.
    pub checkpoint_every: Duration,
    /// Segments rotate before they would grow past this many bytes.
    pub segment_max_bytes: u64,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            epoch_max_records: DEFAULT_EPOCH_MAX_RECORDS,
            epoch_max_age: DEFAULT_EPOCH_MAX_AGE,
            checkpoint_every_records: DEFAULT_CHECKPOINT_EVERY_RECORDS,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            segment_max_bytes: DEFAULT_SEGMENT_MAX_BYTES,
        }
    }
}
