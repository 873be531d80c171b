//! Retention: answers and journals are kept for the period the school sets
//! (`retention-days` in `hub.toml`, from its exam regulations), then
//! deleted; every deletion is recorded in `retention_deletions` (what,
//! whose, how many rows, the cut-off, the rule, when), which the
//! proces-verbaal shows.
//!
//! * **Answers** go per sitting, all at once, when the sitting's last
//!   possible end (start + duration + the longest extra time + the session
//!   grace) is older than the cut-off.
//! * **Journals** go per device, oldest first: the records before the first
//!   one written on or after the cut-off (by the kiosk's clock). The hub's
//!   copy stays a contiguous tail of the chain, and the chain state it
//!   verifies new uploads against is kept, so later uploads still verify.
//!
//! The proces-verbaal's own data (planning, sessions, instructions,
//! remarks, alarms) is not deleted: it is the record of the sitting.

use super::ReportError;
use crate::config::SESSION_GRACE_MS;
use crate::db::Db;

/// `what` of answer deletions.
pub const WHAT_ANSWERS: &str = "antwoorden";
/// `what` of journal deletions.
pub const WHAT_JOURNAL: &str = "logboek";
/// Milliseconds in a day.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// `exam-hub serve` applies the rule this long after starting…
pub const FIRST_RUN_AFTER: std::time::Duration = std::time::Duration::from_secs(5);
/// …and then this often.
pub const RUN_EVERY: std::time::Duration = std::time::Duration::from_secs(6 * 60 * 60);

/// The school's retention rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionRule {
    /// Days answers and journals are kept after the sitting.
    pub days: u32,
}

impl RetentionRule {
    /// How the rule is named in the deletion record.
    pub fn describe(&self) -> String {
        format!("bewaartermijn {} dagen (hub.toml retention-days)", self.days)
    }

    /// The cut-off for `now_ms`: what ended before it is deleted.
    pub fn cutoff_ms(&self, now_ms: i64) -> i64 {
        now_ms - i64::from(self.days) * DAY_MS
    }
}

/// What one run deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionSummary {
    /// Sittings whose answers were deleted.
    pub answer_sittings: u64,
    /// Answer rows deleted.
    pub answer_rows: u64,
    /// Devices whose journal was shortened.
    pub journal_devices: u64,
    /// Journal records deleted.
    pub journal_rows: u64,
}

/// One deletion, as recorded.
struct Deleted<'a> {
    what: &'static str,
    subject: String,
    sitting: Option<&'a str>,
    rows: u64,
}

async fn record(tx: &mut crate::db::WriteTx, d: Deleted<'_>, cutoff: i64, rule: &RetentionRule, now: i64) -> Result<(), sqlx::Error> {
    let deletion = crate::store::records::NewDeletion {
        deletion_id: &crate::random_id(),
        what: d.what,
        subject: &d.subject,
        sitting_id: d.sitting,
        rows_deleted: d.rows as i64,
        older_than_ms: cutoff,
        rule: &rule.describe(),
        deleted_ms: now,
    };
    crate::store::records::insert_deletion(&mut **tx, &deletion).await
}

/// Deletes what is older than the rule allows at `now_ms`; each deletion and
/// its record are one transaction.
pub async fn run_retention(db: &Db, rule: RetentionRule, now_ms: i64) -> Result<RetentionSummary, ReportError> {
    if rule.days == 0 {
        return Err(ReportError::Invalid("a retention period of 0 days would delete today's exams; refused".into()));
    }
    let cutoff = rule.cutoff_ms(now_ms);
    let mut summary = RetentionSummary::default();

    // Sittings with answers whose last possible end is before the cut-off.
    let sittings = crate::store::planning::with_answers(&db.pool).await?;
    for s in sittings {
        let sitting_id = s.sitting_id;
        let start = s.start_ms;
        let started = s.started_ms;
        let duration = s.duration_minutes;
        let extra = s.longest_extra;
        let end = super::records::latest_end_ms(start, started, duration + extra.unwrap_or(0)) + SESSION_GRACE_MS;
        if end >= cutoff {
            continue;
        }
        let mut tx = db.begin_write().await?;
        let candidates = crate::store::answers::students_with_answers(&mut *tx, &sitting_id).await?;
        let deleted = crate::store::answers::delete_of_sitting(&mut *tx, &sitting_id).await?;
        // The changes the answers were rebuilt from go with them.
        crate::store::answers::delete_changes_of_sitting(&mut *tx, &sitting_id).await?;
        crate::store::answers::delete_superseded_of_sitting(&mut *tx, &sitting_id).await?;
        if deleted > 0 {
            let what = Deleted { what: WHAT_ANSWERS, subject: format!("{candidates} kandidaten"), sitting: Some(&sitting_id), rows: deleted };
            record(&mut tx, what, cutoff, &rule, now_ms).await?;
            summary.answer_sittings += 1;
            summary.answer_rows += deleted;
        }
        tx.commit().await?;
    }

    // Journals: per device, the records before the first one on or after the cut-off.
    let cutoff_us = cutoff.saturating_mul(1000);
    let devices = crate::store::journals::devices_with_records_before(&db.pool, cutoff_us).await?;
    for device_id in devices {
        let mut tx = db.begin_write().await?;
        let keep_from = crate::store::journals::first_seq_from(&mut *tx, &device_id, cutoff_us).await?.unwrap_or(i64::MAX);
        let deleted = crate::store::journals::delete_records_before(&mut *tx, &device_id, keep_from).await?;
        if deleted > 0 {
            let what = Deleted { what: WHAT_JOURNAL, subject: device_id.clone(), sitting: None, rows: deleted };
            record(&mut tx, what, cutoff, &rule, now_ms).await?;
            summary.journal_devices += 1;
            summary.journal_rows += deleted;
        }
        tx.commit().await?;
    }
    if summary != RetentionSummary::default() {
        tracing::info!(?summary, rule = %rule.describe(), "retention: deleted expired answers and journals");
    }
    Ok(summary)
}

/// Applies the rule [`FIRST_RUN_AFTER`] the start and then every
/// [`RUN_EVERY`], for as long as the hub serves (`exam-hub serve` runs this
/// when `retention-days` is set). Several hub nodes may run it at once: a
/// deletion and its record are one transaction, so a second node finds
/// nothing left to delete and records nothing.
pub async fn run_periodically(db: Db, rule: RetentionRule) {
    tokio::time::sleep(FIRST_RUN_AFTER).await;
    loop {
        if let Err(err) = run_retention(&db, rule, crate::now_ms()).await {
            tracing::warn!(error = %err, "retention run failed; trying again later");
        }
        tokio::time::sleep(RUN_EVERY).await;
    }
}
