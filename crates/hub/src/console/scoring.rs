//! Hand scoring in the console ("Beoordelen"), for the exam office only:
//! the items of a sitting that wait for a person's score (an essay), per
//! student with the answer as text, and the score given through
//! [`crate::reports::record_hand_score`] — the same checks and the same
//! journal entry (`hand_score`) as `exam-hub score set`, with the signed-in
//! account as the scorer: here the session proves who scores.

use super::auth::ConsoleUser;
use super::{Console, ConsoleError};
use crate::reports::scoring::{self, HandScoreError, ScoreRefused};
use crate::reports::{self, ReportError};
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One item that needs a person, for one student.
#[derive(Debug, Serialize)]
pub struct ItemToScore {
    /// Item reference.
    pub item: String,
    /// The student's answer as plain text (empty: no answer).
    pub answer: String,
    /// The item's maximum; `None` when the scoring data does not give it
    /// (then no score is taken).
    pub max_score: Option<f64>,
    /// The points given for the answers that count now, if any.
    pub points: Option<f64>,
    /// Who gave them (the account's name).
    pub by: Option<String>,
}

/// A student with answers that count and items that need a person.
#[derive(Debug, Serialize)]
pub struct StudentToScore {
    /// Student number.
    pub student_number: String,
    /// Name.
    pub name: String,
    /// The results' status (`ingeleverd`, `niet ingeleverd`, …).
    pub status: &'static str,
    /// The score so far (final once `definitive`).
    pub score: Option<f64>,
    /// Whether the score is final: nothing waits for a person and the
    /// test's outcome processing ran ([`crate::reports::ResultRow::is_final`]).
    pub definitive: bool,
    /// Why it is not, in Dutch (empty when it is).
    pub provisional_because: String,
    /// The test's maximum, when known.
    pub max_score: Option<f64>,
    /// Items that still wait.
    pub pending: Vec<String>,
    /// The items a person scores.
    pub items: Vec<ItemToScore>,
}

/// `GET /console/api/sittings/{sitting}/scoring`.
#[derive(Debug, Serialize)]
pub struct ScoringView {
    /// Sitting.
    pub sitting_id: String,
    /// Exam name.
    pub exam: String,
    /// Exam code, when the planning gave one.
    pub exam_code: Option<String>,
    /// Instrument.
    pub instrument_id: String,
    /// Whether the hub has scoring data for the instrument.
    pub scored: bool,
    /// Students with items a person scores, or whose score stays
    /// provisional for another reason (the test's outcome processing could
    /// not run), by student number.
    pub students: Vec<StudentToScore>,
}

/// `POST /console/api/sittings/{sitting}/scores` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoreRequest {
    /// The student.
    pub student_number: String,
    /// The item.
    pub item: String,
    /// Points as typed ("2,5" or "2.5").
    pub points: String,
}

/// The answer to a score.
#[derive(Debug, Serialize)]
pub struct ScoreResult {
    /// What happened, in Dutch, for the page to announce.
    pub message: String,
    /// The points recorded.
    pub points: f64,
    /// The score it replaced, and by whom.
    pub replaced: Option<(f64, String)>,
    /// The student's score after it.
    pub score: Option<f64>,
    /// Items of the student that still wait.
    pub pending: Vec<String>,
}

/// Only the exam office scores (and reads answers for it).
fn admin_only(user: &ConsoleUser) -> Result<(), ConsoleError> {
    if user.account.role == super::accounts::Role::Admin {
        Ok(())
    } else {
        Err(ConsoleError::AdminOnly)
    }
}

impl From<HandScoreError> for ConsoleError {
    fn from(err: HandScoreError) -> Self {
        match err {
            HandScoreError::Report(e) => report_error(e),
            HandScoreError::Refused(r @ (ScoreRefused::NoAccount(_) | ScoreRefused::NotAdmin(_))) => {
                tracing::warn!(refused = %r, "console: hand score by a non-administrator");
                ConsoleError::AdminOnly
            }
            HandScoreError::Refused(r @ (ScoreRefused::NotPlanned { .. } | ScoreRefused::UnknownItem { .. })) => ConsoleError::NotFound(r.dutch()),
            HandScoreError::Refused(r) => ConsoleError::Invalid(r.dutch()),
        }
    }
}

/// An unknown sitting, in Dutch.
fn report_error(err: ReportError) -> ConsoleError {
    match err {
        ReportError::UnknownSitting(sitting) => ConsoleError::NotFound(format!("zitting {sitting} bestaat niet")),
        other => ConsoleError::Report(other),
    }
}

/// `GET /console/api/sittings/{sitting}/scoring`: what waits for a person.
pub async fn view(State(console): State<Arc<Console>>, Path(sitting): Path<String>, user: ConsoleUser) -> Result<axum::Json<ScoringView>, ConsoleError> {
    admin_only(&user)?;
    let db = &console.hub.db;
    let results = reports::results(db, &sitting).await.map_err(report_error)?;
    let scoring = scoring::load_scoring(db, &results.instrument_id).await?;
    let names: BTreeMap<String, String> =
        crate::store::planning::names_of(&db.pool, &sitting).await?.into_iter().map(|s| (s.student_number, s.name)).collect();
    let mut hand = reports::hand_scores(db, &sitting).await?;
    let mut students = Vec::new();
    for row in &results.rows {
        if scoring.is_none() || row.score.is_none() {
            continue;
        }
        let given = hand.remove(&row.student_number).unwrap_or_default();
        let items: Vec<ItemToScore> = row
            .items
            .iter()
            // What the hub did not score for this answer (an essay; rules
            // that failed on it): the same test as the hand score's.
            .filter(|i| i.unscored.is_some())
            .map(|i| {
                // A score counts only for the answers it was given for.
                let current = given.get(&i.ref_identifier).filter(|h| Some(h.answers_seq) == row.counted_seq);
                ItemToScore {
                    item: i.ref_identifier.clone(),
                    answer: scoring::answer_text(i),
                    max_score: i.max_score,
                    points: current.map(|h| h.points),
                    by: current.map(|h| h.by.clone()),
                }
            })
            .collect();
        // A student with nothing to score is listed still when the score
        // stays provisional all the same: the page must not call it final.
        if items.is_empty() && row.test_unscored.is_none() {
            continue;
        }
        students.push(StudentToScore {
            student_number: row.student_number.clone(),
            name: names.get(&row.student_number).cloned().unwrap_or_default(),
            status: row.status.label(),
            score: row.score,
            definitive: row.is_final(),
            provisional_because: row.provisional_because(),
            max_score: row.max_score,
            pending: row.pending.clone(),
            items,
        });
    }
    Ok(axum::Json(ScoringView {
        sitting_id: results.sitting_id,
        exam: results.exam,
        exam_code: results.exam_code,
        instrument_id: results.instrument_id,
        scored: results.scored,
        students,
    }))
}

/// `POST /console/api/sittings/{sitting}/scores`: records a score, by the
/// signed-in administrator (CSRF-checked like every console action).
pub async fn score(
    State(console): State<Arc<Console>>,
    Path(sitting): Path<String>,
    user: ConsoleUser,
    super::Body(req): super::Body<ScoreRequest>,
) -> Result<axum::Json<ScoreResult>, ConsoleError> {
    admin_only(&user)?;
    let points = scoring::parse_points(&req.points).map_err(|r| ConsoleError::Invalid(r.dutch()))?;
    let done = reports::record_hand_score(&console.hub.db, &sitting, &req.student_number, &req.item, points, &user.account.username).await?;
    tracing::info!(username = %user.account.username, sitting = %sitting, student = %req.student_number, item = %req.item, "console hand score");
    let of = done.max_score.map(|m| format!(" van {}", scoring::dutch_score(m))).unwrap_or_default();
    let was = done.replaced.as_ref().map(|r| format!(" (was {} door {})", scoring::dutch_score(r.points), r.by)).unwrap_or_default();
    let row = &done.row;
    let total = row.score.map(scoring::dutch_score).unwrap_or_default();
    let max = row.max_score.map(|m| format!(" van {}", scoring::dutch_score(m))).unwrap_or_default();
    let state = if row.is_final() {
        format!("score {total}{max}: definitief")
    } else {
        format!("score tot nu toe {total}{max}: voorlopig, {}", row.provisional_because())
    };
    let message = format!("{} {}: {} punten{of} opgeslagen{was}; {state}.", req.student_number, req.item, scoring::dutch_score(points));
    Ok(axum::Json(ScoreResult {
        message,
        points,
        replaced: done.replaced.map(|r| (r.points, r.by)),
        score: row.score,
        pending: row.pending.clone(),
    }))
}
