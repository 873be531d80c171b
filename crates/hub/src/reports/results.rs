//! The results of a sitting: per candidate the status, the score from the
//! hub's scoring and the responses; exported as CSV for the student
//! information system (RFC 4180, formula-injection safe) and as QTI 3
//! results reporting XML ([`super::qti_results`]).

use super::records;
use crate::enforcement::{ClassifiedSave, Counted, Standing};
use super::scoring::{load_scoring, score_snapshot, ItemOutcome};
use super::ReportError;
use crate::db::Db;
use sqlx::Row as _;

/// A candidate's status in the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultStatus {
    /// Handed in in time (final submission with the hub's receipt, made in
    /// the student's time).
    Submitted,
    /// A hand-in arrived and is stored, but was not made in the student's
    /// time (after an end, after the end time, during a pause, before the
    /// start): it does not count; the last save made in time does.
    HandedInOutsideTime(Standing),
    /// Answers saved but never handed in.
    NotSubmitted,
    /// No answers at all.
    Absent,
    /// The answers were deleted after the retention period.
    Deleted,
}

impl ResultStatus {
    /// The value in the CSV's status column.
    pub fn label(self) -> &'static str {
        match self {
            Self::Submitted => "ingeleverd",
            Self::HandedInOutsideTime(Standing::AfterEnd) => "ingeleverd na beëindiging (telt niet)",
            Self::HandedInOutsideTime(Standing::AfterDeadline) => "ingeleverd na de eindtijd (telt niet)",
            Self::HandedInOutsideTime(Standing::DuringPause) => "ingeleverd tijdens pauze (telt niet)",
            Self::HandedInOutsideTime(Standing::BeforeStart) => "ingeleverd vóór de start (telt niet)",
            Self::HandedInOutsideTime(Standing::OnTime) => "ingeleverd",
            Self::NotSubmitted => "niet ingeleverd",
            Self::Absent => "afwezig",
            Self::Deleted => "verwijderd (bewaartermijn)",
        }
    }
}

/// One candidate's result.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// Student number.
    pub student_number: String,
    /// Status.
    pub status: ResultStatus,
    /// The sum of the item scores, when every item could be scored.
    pub score: Option<f64>,
    /// The sum of the items' maximum scores, when known for every item.
    pub max_score: Option<f64>,
    /// When the answers that count (the last save or hand-in made in time)
    /// reached the hub, unix ms.
    pub received_ms: Option<i64>,
    /// Saves and hand-ins that arrived but were not made in time, described
    /// in Dutch (stored; not counted).
    pub outside_time: Vec<String>,
    /// Per item (empty without scoring data or answers).
    pub items: Vec<ItemOutcome>,
}

/// The results of one sitting.
#[derive(Debug, Clone, PartialEq)]
pub struct SittingResults {
    /// Sitting id.
    pub sitting_id: String,
    /// Exam code.
    pub exam: String,
    /// Instrument id.
    pub instrument_id: String,
    /// Date of the sitting, `YYYY-MM-DD` (UTC).
    pub date: String,
    /// Whether the hub had scoring data for the instrument.
    pub scored: bool,
    /// One row per planned candidate, by student number.
    pub rows: Vec<ResultRow>,
}

/// Collects and scores the results of `sitting_id`.
pub async fn results(db: &Db, sitting_id: &str) -> Result<SittingResults, ReportError> {
    let sitting = records::load_sitting(db, sitting_id).await?;
    let candidates = records::load_candidates(db, sitting_id).await?;
    let saves = crate::enforcement::classify_sitting(&db.pool, sitting_id).await?;
    // Answers a PC sent after the student moved on: shown, not counted.
    let kept_apart = crate::answer_history::superseded_lines(&db.pool, sitting_id).await?;
    let scoring = load_scoring(db, &sitting.instrument_id).await?;
    let deleted = sqlx::query("SELECT deletion_id FROM retention_deletions WHERE sitting_id = $1 AND what = $2")
        .bind(sitting_id)
        .bind(super::retention::WHAT_ANSWERS)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get::<String, _>("deletion_id"))
        .transpose()?
        .is_some();
    let mut rows = Vec::with_capacity(candidates.len());
    for c in &candidates {
        let seat = saves.get(&c.student_number);
        let list = seat.map(|s| s.saves.as_slice());
        // Only the answers that count are read and scored.
        let counted = match list.and_then(|l| Counted::of(l).counted) {
            Some(save) => crate::enforcement::load_answers(&db.pool, sitting_id, &c.student_number, save.seq).await?,
            None => None,
        };
        let mut row = row(&c.student_number, list, counted.as_deref(), scoring.as_ref(), deleted);
        if let Some(ms) = seat.map(|s| s.given_back_ms).filter(|ms| *ms > 0) {
            row.outside_time.push(format!("{} s bij de eindtijd geteld voor een stilstaande examenklok (logboek van de pc)", (ms + 999) / 1000));
        }
        row.outside_time.extend(kept_apart.get(&c.student_number).into_iter().flatten().map(|(_, line)| line.clone()));
        rows.push(row);
    }
    Ok(SittingResults {
        sitting_id: sitting.id,
        exam: sitting.exam,
        instrument_id: sitting.instrument_id,
        date: super::format_time(sitting.started_ms.unwrap_or(sitting.start_ms)).chars().take(10).collect(),
        scored: scoring.is_some(),
        rows,
    })
}

fn row(student: &str, saves: Option<&[ClassifiedSave]>, counted_answers: Option<&str>, scoring: Option<&super::scoring::Scoring>, deleted: bool) -> ResultRow {
    let Some(saves) = saves.filter(|s| !s.is_empty()) else {
        let status = if deleted { ResultStatus::Deleted } else { ResultStatus::Absent };
        return ResultRow {
            student_number: student.into(),
            status,
            score: None,
            max_score: None,
            received_ms: None,
            outside_time: Vec::new(),
            items: Vec::new(),
        };
    };
    let counted = Counted::of(saves);
    let status = match (counted.handed_in(), counted.late_hand_in()) {
        (Some(_), _) => ResultStatus::Submitted,
        (None, Some(late)) => ResultStatus::HandedInOutsideTime(late.standing),
        (None, None) => ResultStatus::NotSubmitted,
    };
    let outside_time = counted.outside.iter().map(|s| s.describe()).collect();
    // Only answers made in time count; without any, nothing is scored.
    let snapshot: serde_json::Value = counted_answers.and_then(|a| serde_json::from_str(a).ok()).unwrap_or(serde_json::Value::Null);
    let items = scoring.map(|s| score_snapshot(s, &snapshot)).unwrap_or_default();
    let all = |f: fn(&ItemOutcome) -> Option<f64>| -> Option<f64> {
        if items.is_empty() {
            return None;
        }
        items.iter().map(f).sum::<Option<f64>>()
    };
    ResultRow {
        student_number: student.into(),
        status,
        // Answers that cannot be read are never scored as if empty.
        score: counted.counted.filter(|_| counted_answers.is_some()).and(all(|i| i.score)),
        max_score: all(|i| i.max_score),
        received_ms: counted.counted.map(|c| c.received_ms),
        outside_time,
        items,
    }
}

/// Makes a cell safe to open in a spreadsheet: text starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return would be read as a formula, so it is
/// prefixed with `'`.
pub fn neutralise_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// A score as text: no exponent, at most 4 decimals, `.` as decimal mark.
pub fn format_score(score: f64) -> String {
    let text = format!("{score:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.to_string() }
}

/// The CSV header.
pub const CSV_HEADER: [&str; 5] = ["studentnummer", "examencode", "datum", "resultaat", "status"];

impl SittingResults {
    /// The CSV for the student information system: UTF-8, comma separated,
    /// CRLF line ends, fields quoted when needed (RFC 4180), formula
    /// characters neutralised. `resultaat` is the score when every item was
    /// scored by the hub, `ingeleverd` when the work needs a person to
    /// score it, empty otherwise.
    pub fn to_csv(&self) -> String {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::new());
        let _ = writer.write_record(CSV_HEADER);
        for row in &self.rows {
            let result = match (row.status, row.score) {
                (ResultStatus::Submitted | ResultStatus::NotSubmitted | ResultStatus::HandedInOutsideTime(_), Some(score)) => format_score(score),
                (ResultStatus::Submitted, None) => "ingeleverd".into(),
                _ => String::new(),
            };
            let cells = [&row.student_number, &self.exam, &self.date, &result, &row.status.label().to_string()];
            // Whatever arrived outside the time is stored and shown, never silently "ingeleverd".
            let _ = writer.write_record(cells.iter().map(|c| neutralise_formula(c)));
        }
        // Writing into a Vec cannot fail.
        let bytes = writer.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_scores_are_plain() {
        assert_eq!(neutralise_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise_formula("+31"), "'+31");
        assert_eq!(neutralise_formula("-1"), "'-1");
        assert_eq!(neutralise_formula("123456"), "123456");
        assert_eq!(format_score(7.0), "7");
        assert_eq!(format_score(7.25), "7.25");
        assert_eq!(format_score(1.0 / 3.0), "0.3333");
        assert_eq!(format_score(-0.0), "0");
    }
}
