//! The results of a sitting: per candidate the status, the score from the
//! hub's scoring and the responses; exported as CSV for the student
//! information system (RFC 4180, formula-injection safe) and as QTI 3
//! results reporting XML ([`super::qti_results`]).
//!
//! Items the hub cannot score (an essay: no standard template) do not make
//! the whole test unscored: the others are scored, and those items are
//! listed as waiting for a person (`nog_te_beoordelen`) until a hand score
//! is recorded for them ([`record_hand_score`], `exam-hub score`).

use super::records;
use crate::enforcement::{ClassifiedSave, Counted, Standing};
use super::scoring::{load_scoring, HandScoreError, HubScoring, ItemOutcome, ScoreRefused};
use super::ReportError;
use crate::db::Db;
use std::collections::BTreeMap;

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
    /// The raw score: the sum of the points of the items scored so far (by
    /// the hub, and by hand); `None` without answers that count, without
    /// scoring data, or when the answers cannot be read.
    pub score: Option<f64>,
    /// The test's maximum score: the sum of the items' maxima, when known for
    /// every item (a hand-scored item's from the scoring data's `max_score`).
    pub max_score: Option<f64>,
    /// Items that wait for a person's score (item references, in test
    /// order): until then `score` is provisional.
    pub pending: Vec<String>,
    /// Why the test's own outcome processing could not be run on these
    /// answers: `score` is then the sum of the item scores, provisional.
    pub test_unscored: Option<String>,
    /// The save number of the answers that count (what a hand score is for).
    pub counted_seq: Option<i64>,
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
    /// The exam's name (planning column `exam`).
    pub exam: String,
    /// The exam's code in the student information system (planning column
    /// `exam_code`); `None` when the planning gave none.
    pub exam_code: Option<String>,
    /// Instrument id.
    pub instrument_id: String,
    /// Date of the sitting, `YYYY-MM-DD`, in Dutch local time (Europe/Amsterdam).
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
    let exam_code = sitting.exam_code.clone();
    let hand = hand_scores(db, sitting_id).await?;
    let deleted = crate::store::records::deleted_from_sitting(&db.pool, sitting_id, super::retention::WHAT_ANSWERS).await?;
    let mut rows = Vec::with_capacity(candidates.len());
    for c in &candidates {
        let seat = saves.get(&c.student_number);
        let list = seat.map(|s| s.saves.as_slice());
        // Only the answers that count are read and scored.
        let counted = match list.and_then(|l| Counted::of(l).counted) {
            Some(save) => crate::enforcement::load_answers(&db.pool, sitting_id, &c.student_number, save.seq).await?,
            None => None,
        };
        let none = BTreeMap::new();
        let hand = hand.get(&c.student_number).unwrap_or(&none);
        let mut row = row(&c.student_number, list, counted.as_deref(), scoring.as_ref(), deleted, hand);
        if let Some(ms) = seat.map(|s| s.given_back_ms).filter(|ms| *ms > 0) {
            row.outside_time.push(format!("{} s bij de eindtijd geteld voor een stilstaande examenklok (logboek van de pc)", (ms + 999) / 1000));
        }
        row.outside_time.extend(kept_apart.get(&c.student_number).into_iter().flatten().map(|(_, line)| line.clone()));
        rows.push(row);
    }
    Ok(SittingResults {
        sitting_id: sitting.sitting_id,
        exam: sitting.exam,
        exam_code,
        instrument_id: sitting.instrument_id,
        date: local_date(sitting.started_ms.unwrap_or(sitting.start_ms)),
        scored: scoring.is_some(),
        rows,
    })
}

/// `YYYY-MM-DD` of `ms` in Dutch local time: a sitting at 00:30 in the
/// night is on that day, not on the day before as in UTC.
fn local_date(ms: i64) -> String {
    match super::proces_verbaal::local_time::day_of(ms) {
        Some((y, m, d)) => format!("{y:04}-{m:02}-{d:02}"),
        None => String::new(),
    }
}

/// The test's maximum: the test SCORE's `normal-maximum` when its own
/// outcome processing makes the score (`None` without one: the processing's
/// scale is not the items'), else the sum of the items' maxima.
fn test_maximum(scoring: Option<&HubScoring>) -> Option<f64> {
    if let Some(test) = scoring?.scoring.test.as_ref().filter(|t| t.sets("SCORE")) {
        return test.outcomes.iter().find(|o| o.identifier == "SCORE").and_then(|o| o.normal_maximum);
    }
    items_maximum(scoring)
}

/// The sum of the items' maxima, when known for every item.
fn items_maximum(scoring: Option<&HubScoring>) -> Option<f64> {
    let items = scoring?.score(&serde_json::Value::Null);
    if items.is_empty() {
        return None;
    }
    items.iter().map(|i| i.max_score).sum()
}

fn row(
    student: &str,
    saves: Option<&[ClassifiedSave]>,
    counted_answers: Option<&str>,
    scoring: Option<&HubScoring>,
    deleted: bool,
    hand: &BTreeMap<String, HandScore>,
) -> ResultRow {
    let Some(saves) = saves.filter(|s| !s.is_empty()) else {
        let status = if deleted { ResultStatus::Deleted } else { ResultStatus::Absent };
        return ResultRow {
            student_number: student.into(),
            status,
            score: None,
            max_score: test_maximum(scoring),
            pending: Vec::new(),
            test_unscored: None,
            counted_seq: None,
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
    let mut items = scoring.map(|s| s.score(&snapshot)).unwrap_or_default();
    let counted_seq = counted.counted.map(|c| c.seq);
    // Hand scores count for the answers they were given for; answers that
    // count changed since (a reopened exam) make the item pending again.
    for item in items.iter_mut().filter(|i| i.score.is_none()) {
        if let Some(h) = hand.get(&item.ref_identifier).filter(|h| Some(h.answers_seq) == counted_seq) {
            item.score = Some(h.points);
        }
    }
    // Answers that cannot be read are never scored as if empty.
    let readable = counted.counted.is_some() && counted_answers.is_some() && !items.is_empty();
    let pending = if readable { items.iter().filter(|i| i.score.is_none()).map(|i| i.ref_identifier.clone()).collect() } else { Vec::new() };
    // What can be scored is: one essay does not leave the test unscored.
    let sum: f64 = items.iter().filter_map(|i| i.score).sum();
    // The test's own outcome processing, when it has one, makes the score;
    // when it cannot run, the sum stands as provisional, with the reason.
    let (score, max_score, test_unscored) = match scoring.filter(|_| readable).map(|s| s.test_score(&items)) {
        Some(Ok(Some((test, max)))) => (Some(test), max, None),
        // The sum against the items' maxima: the same scale.
        Some(Err(reason)) => (Some(sum), items_maximum(scoring), Some(reason)),
        Some(Ok(None)) => (Some(sum), items_maximum(scoring), None),
        None => (None, test_maximum(scoring), None),
    };
    ResultRow {
        student_number: student.into(),
        status,
        score,
        max_score,
        pending,
        test_unscored,
        counted_seq,
        received_ms: counted.counted.map(|c| c.received_ms),
        outside_time,
        items,
    }
}

impl ResultRow {
    /// Whether the score is final: no item waits for a person and the
    /// test's outcome processing (if any) ran.
    pub fn is_final(&self) -> bool {
        self.pending.is_empty() && self.test_unscored.is_none()
    }

    /// Why the score is provisional, in Dutch (empty when it is final).
    pub fn provisional_because(&self) -> String {
        let mut why = Vec::new();
        if !self.pending.is_empty() {
            why.push(format!("nog te beoordelen: {}", self.pending.join(", ")));
        }
        if let Some(reason) = &self.test_unscored {
            why.push(format!("de verwerking van de toets kon niet worden uitgevoerd ({reason}); de score is de som van de items"));
        }
        why.join("; ")
    }

    /// How far the score is: `definitief` (every item scored), `voorlopig`
    /// (items wait for a person), `geen scoregegevens` (answers but no
    /// scoring data on the hub), empty without answers that count.
    pub fn assessment(&self, scored: bool) -> &'static str {
        match (self.score, scored) {
            (Some(_), _) if !self.is_final() => "voorlopig",
            (Some(_), _) => "definitief",
            (None, false) if self.counted_seq.is_some() => "geen scoregegevens",
            _ => "",
        }
    }
}

/// A person's score for one item of one student's answers.
#[derive(Debug, Clone, PartialEq)]
pub struct HandScore {
    /// Points.
    pub points: f64,
    /// The save of the answers that were scored.
    pub answers_seq: i64,
    /// Who scored it (the account's name).
    pub by: String,
}

/// The hand scores of a sitting: student -> item -> score.
pub async fn hand_scores(db: &Db, sitting_id: &str) -> Result<BTreeMap<String, BTreeMap<String, HandScore>>, ReportError> {
    let rows = crate::store::answers::hand_scores(&db.pool, sitting_id).await?;
    let mut out: BTreeMap<String, BTreeMap<String, HandScore>> = BTreeMap::new();
    for r in rows {
        let score = HandScore { points: r.points_milli as f64 / 1000.0, answers_seq: r.answers_seq, by: r.display_name };
        out.entry(r.student_number).or_default().insert(r.item, score);
    }
    Ok(out)
}

/// The action name of a hand score in the hub's journal of actions (`console_actions`).
pub const HAND_SCORE_ACTION: &str = "hand_score";

/// What [`record_hand_score`] recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct HandScored {
    /// The item's maximum, when known.
    pub max_score: Option<f64>,
    /// The score it replaced, if any.
    pub replaced: Option<HandScore>,
    /// The student's results after it.
    pub row: ResultRow,
}

/// Records a person's score for one item the hub cannot score itself, of
/// the answers of `student` that count, by the console account `username`
/// — an administrator (the exam office): invigilators do not score.
/// Journalled in the hub's journal of actions in the same transaction. A
/// new score for the item replaces the earlier one (both stay in the journal).
pub async fn record_hand_score(db: &Db, sitting_id: &str, student: &str, item: &str, points: f64, username: &str) -> Result<HandScored, HandScoreError> {
    let account = crate::accounts::load(db, username).await?.ok_or_else(|| ScoreRefused::NoAccount(username.to_string()))?;
    if account.role != crate::accounts::Role::Admin {
        return Err(ScoreRefused::NotAdmin(username.to_string()).into());
    }
    let before = results(db, sitting_id).await?;
    let row = before
        .rows
        .iter()
        .find(|r| r.student_number == student)
        .ok_or_else(|| ScoreRefused::NotPlanned { student: student.to_string(), sitting: sitting_id.to_string() })?;
    let scoring = load_scoring(db, &before.instrument_id).await?.ok_or_else(|| ScoreRefused::NoScoringData(before.instrument_id.clone()))?;
    let Some(outcome) = scoring.score(&serde_json::Value::Null).into_iter().find(|i| i.ref_identifier == item) else {
        let items = scoring.scoring.items.iter().map(|i| i.ref_identifier.clone()).collect();
        return Err(ScoreRefused::UnknownItem { item: item.to_string(), instrument: before.instrument_id.clone(), items }.into());
    };
    // The hub's own score for this student's answer, when it has one: an
    // item whose rules failed on this answer (e.g. a value of another
    // cardinality) waits for a person like an essay, and may be scored by hand.
    let scored_by_hub = match row.items.iter().find(|i| i.ref_identifier == item) {
        Some(counted) => counted.unscored.is_none(),
        None => scoring.hub_scores(item) == Some(true),
    };
    if scored_by_hub {
        return Err(ScoreRefused::ScoredByHub(item.to_string()).into());
    }
    let Some(seq) = row.counted_seq.filter(|_| row.score.is_some()) else {
        return Err(ScoreRefused::NothingToScore { student: student.to_string(), sitting: sitting_id.to_string(), status: row.status.label() }.into());
    };
    let milli = (points * 1000.0).round();
    if !points.is_finite() || points < 0.0 || (milli - points * 1000.0).abs() > 1e-6 {
        return Err(ScoreRefused::BadPoints(points.to_string()).into());
    }
    // Without a maximum a score has no upper bound (a typed 30 for 3 would
    // pass, and the results would have no maximum): refused until the
    // scoring data gives the item's max_score.
    let Some(max) = outcome.max_score else {
        return Err(ScoreRefused::MaximumUnknown { item: item.to_string(), instrument: before.instrument_id.clone() }.into());
    };
    if points > max {
        return Err(ScoreRefused::OverMaximum { item: item.to_string(), points, max }.into());
    }
    let max_score = Some(max);
    let replaced = hand_scores(db, sitting_id).await?.remove(student).and_then(|mut m| m.remove(item));
    let now = crate::now_ms();
    let mut tx = db.begin_write().await?;
    let score = crate::store::answers::NewHandScore {
        sitting_id,
        student_number: student,
        item,
        points_milli: milli as i64,
        answers_seq: seq,
        scored_ms: now,
        username: &account.username,
        display_name: &account.display_name,
    };
    crate::store::answers::upsert_hand_score(&mut *tx, score).await?;
    let room = crate::store::planning::room_of(&mut *tx, sitting_id).await?.ok_or(sqlx::Error::RowNotFound)?;
    let mut detail = format!("{item}: {} punt(en)", format_score(points));
    if let Some(max) = max_score {
        detail.push_str(&format!(" van {}", format_score(max)));
    }
    detail.push_str(&format!(", antwoorden van opslag {seq}"));
    if let Some(old) = &replaced {
        detail.push_str(&format!(" (was {} door {})", format_score(old.points), old.by));
    }
    let entry = crate::audit::Entry {
        at_ms: now,
        username: &account.username,
        display_name: &account.display_name,
        room: &room,
        sitting: Some(sitting_id),
        student: Some(student),
        action: HAND_SCORE_ACTION,
        reason: "",
        detail: &detail,
    };
    crate::audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    let after = results(db, sitting_id).await?;
    let row = after.rows.into_iter().find(|r| r.student_number == student).ok_or_else(|| ScoreRefused::NotPlanned { student: student.to_string(), sitting: sitting_id.to_string() })?;
    Ok(HandScored { max_score, replaced, row })
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
pub const CSV_HEADER: [&str; 10] =
    ["studentnummer", "examencode", "examen", "datum", "score", "score_voorlopig", "maximum", "beoordeling", "nog_te_beoordelen", "status"];

impl SittingResults {
    /// The CSV for the student information system: UTF-8, comma separated,
    /// CRLF line ends, fields quoted when needed (RFC 4180), formula
    /// characters neutralised. Per student: the exam's code and name, the
    /// raw `score` of the answers that count — only once it is final: while
    /// items wait for a person, what is scored so far is in
    /// `score_voorlopig` and `score` is empty, so a student information
    /// system that takes `score` never takes a partial sum for a grade —, the
    /// test's `maximum`,
    /// the `beoordeling` ([`ResultRow::assessment`]), the items waiting for
    /// a person (`;`-separated) and the status.
    pub fn to_csv(&self) -> String {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::new());
        let _ = writer.write_record(CSV_HEADER);
        let exam_code = self.exam_code.clone().unwrap_or_default();
        for row in &self.rows {
            let score = match (row.status, row.score) {
                (ResultStatus::Submitted | ResultStatus::NotSubmitted | ResultStatus::HandedInOutsideTime(_), Some(score)) => format_score(score),
                _ => String::new(),
            };
            let (score, provisional) = if row.is_final() { (score, String::new()) } else { (String::new(), score) };
            let maximum = row.max_score.map(format_score).unwrap_or_default();
            let cells = [
                &row.student_number,
                &exam_code,
                &self.exam,
                &self.date,
                &score,
                &provisional,
                &maximum,
                &row.assessment(self.scored).to_string(),
                &row.pending.join(";"),
                &row.status.label().to_string(),
            ];
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

    /// The date column is the Dutch date: 23:30 UTC on 4 December is 5 December in Amsterdam.
    #[test]
    fn the_date_is_the_dutch_date() {
        let ms = 1_796_427_000_000; // 2026-12-04T23:30:00Z
        assert_eq!(local_date(ms), "2026-12-05");
        assert_eq!(local_date(ms - 3_600_000), "2026-12-04", "22:30 UTC is 23:30 local");
    }

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
