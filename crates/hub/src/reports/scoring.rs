//! Hub-side scoring: every item's response processing — a standard
//! template (`match_correct`, `map_response`, `map_response_point`, CC2's)
//! or the item's own rules — run by exam-protocol's evaluator
//! ([`exam_protocol::scoring::score`]).
//!
//! The scoring data is the JSON that `kioskctl instrument render --scoring`
//! prints (kiosk-core's `qti::Scoring`): the hub never depends on kiosk-core,
//! so these types read that JSON, and a test checks they read what
//! kiosk-core writes. Items the evaluator cannot score (no processing, e.g.
//! an essay; an operator the importer did not know; SCORE declared
//! `external-scored`) are left unscored: a person scores them
//! (`exam-hub score`), and their maximum may be given in the scoring JSON as
//! the item's `max_score` (the hub's own addition; kioskctl does not write it).

use super::ReportError;
use crate::db::Db;
use exam_protocol::scoring::Value as Q;
use serde_json::Value;
use std::collections::BTreeMap;

pub use exam_protocol::scoring::{
    evaluate_test, scorable, Base, Cardinality, ItemScoring, MapEntry, Mapping, Processing, ResponseDeclaration, Scoring, Template, TestItem, Unscorable,
};

/// The standard template of an item's processing, when it uses one.
pub fn template(processing: &Processing) -> Option<Template> {
    match processing {
        Processing::Template { uri } => Template::from_uri(uri),
        _ => None,
    }
}

/// One item's outcome for a candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemOutcome {
    /// Item reference identifier.
    pub ref_identifier: String,
    /// The candidate's responses by response identifier (as the kiosk sent them).
    pub responses: BTreeMap<String, Value>,
    /// The declared responses: identifier -> (cardinality, base type).
    pub declared: BTreeMap<String, (Cardinality, Option<String>)>,
    /// SCORE, when the hub could score the item.
    pub score: Option<f64>,
    /// MAXSCORE, when known.
    pub max_score: Option<f64>,
    /// Why the hub did not score the item (a person scores it then).
    pub unscored: Option<String>,
    /// Every outcome of its response processing (for the test's outcome
    /// processing); empty when the hub did not score the item.
    pub outcomes: BTreeMap<String, exam_protocol::scoring::Value>,
}

/// Scores the candidate's responses to one item: SCORE of its response
/// processing; the maximum is MAXSCORE when declared or set, else SCORE's
/// `normal-maximum`, else what the template can give.
pub fn score_item(item: &ItemScoring, responses: &BTreeMap<String, Value>) -> ItemOutcome {
    let (score, max_score, unscored, outcomes) = match exam_protocol::scoring::score(item, responses) {
        Ok(result) => (Some(result.score), result.max_score, None, result.outcomes),
        // Rules that fail on this answer: a person scores it, against the
        // maximum the item has without an answer (MAXSCORE, normal-maximum).
        Err(reason) => {
            (None, exam_protocol::scoring::score(item, &BTreeMap::new()).ok().and_then(|r| r.max_score), Some(reason.0), BTreeMap::new())
        }
    };
    let declared = item.responses.iter().map(|d| (d.identifier.clone(), (d.cardinality, d.base_type.clone()))).collect();
    ItemOutcome { ref_identifier: item.ref_identifier.clone(), responses: responses.clone(), declared, score, max_score, unscored, outcomes }
}

/// Parses the scoring JSON, with the position of the first problem.
pub fn parse_scoring(text: &str) -> Result<Scoring, ReportError> {
    serde_json::from_str(text).map_err(|e| ReportError::Invalid(format!("scoring data: {e}")))
}

/// What the hub keeps of an instrument's scoring: kiosk-core's data, and
/// the maximum of items a person scores, by item reference (`max_score`).
#[derive(Debug, Clone, PartialEq)]
pub struct HubScoring {
    /// The scoring data.
    pub scoring: Scoring,
    /// Maximum points of items the hub does not score itself.
    pub hand_max: BTreeMap<String, f64>,
}

impl HubScoring {
    /// Parses the scoring JSON with the items' optional `max_score`
    /// (a finite number from 0; given for an item the hub scores itself,
    /// it is refused: the hub knows that maximum).
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        let scoring = parse_scoring(text)?;
        let value: Value = serde_json::from_str(text).map_err(|e| ReportError::Invalid(format!("scoring data: {e}")))?;
        let mut hand_max = BTreeMap::new();
        for (item, raw) in scoring.items.iter().zip(value.get("items").and_then(Value::as_array).into_iter().flatten()) {
            let Some(max) = raw.get("max_score") else { continue };
            let Some(max) = max.as_f64().filter(|m| m.is_finite() && *m >= 0.0) else {
                return Err(ReportError::Invalid(format!("scoring data: item {}: max_score must be a number from 0", item.ref_identifier)));
            };
            if scorable(item).is_ok() {
                let how = template(&item.processing).map_or("its own response processing", Template::name);
                return Err(ReportError::Invalid(format!(
                    "scoring data: item {} is scored by the hub ({how}); max_score is only for items a person scores",
                    item.ref_identifier,
                )));
            }
            hand_max.insert(item.ref_identifier.clone(), max);
        }
        Ok(Self { scoring, hand_max })
    }

    /// Scores an answer snapshot: as [`score_snapshot`], with the maximum
    /// of items a person scores filled in where the data gives it.
    pub fn score(&self, snapshot: &Value) -> Vec<ItemOutcome> {
        let mut items = score_snapshot(&self.scoring, snapshot);
        for item in items.iter_mut().filter(|i| i.score.is_none()) {
            item.max_score = self.hand_max.get(&item.ref_identifier).copied().or(item.max_score);
        }
        items
    }

    /// The test's score and its maximum by its own outcome processing
    /// (`qti-outcome-processing`), run on the items' outcomes with each
    /// item's SCORE as it stands (a hand score included, of the item's
    /// declared type; an item still waiting for a person has none).
    /// `Ok(None)`: the test has no outcome processing, or it sets no SCORE
    /// — the score is the sum of the items'. `Err`: why the hub could not
    /// run it; the sum is then only provisional.
    pub fn test_score(&self, items: &[ItemOutcome]) -> Result<Option<(f64, Option<f64>)>, String> {
        let Some(test) = self.scoring.test.as_ref().filter(|t| t.rules.is_none() || t.sets("SCORE")) else { return Ok(None) };
        let test_items: Vec<TestItem<'_>> = self
            .scoring
            .items
            .iter()
            .zip(items)
            .map(|(scoring, outcome)| {
                let mut outcomes = outcome.outcomes.clone();
                let integer = scoring.outcomes.iter().any(|o| o.identifier == "SCORE" && o.base_type.as_deref() == Some("integer"));
                match outcome.score {
                    Some(points) if integer && points.fract() == 0.0 => outcomes.insert("SCORE".into(), Q::Single(Base::Int(points as i64))),
                    Some(points) => outcomes.insert("SCORE".into(), Q::Single(Base::Float(points))),
                    None => outcomes.remove("SCORE"),
                };
                TestItem { scoring, responses: &outcome.responses, outcomes }
            })
            .collect();
        let result = evaluate_test(test, &test_items).map_err(|e| e.0)?;
        Ok(result.score.map(|score| (score, result.max_score)))
    }

    /// Whether the hub scores `item` itself (its template or rules are
    /// known and complete: [`scorable`]; no answer changes this).
    pub fn hub_scores(&self, item: &str) -> Option<bool> {
        let found = self.scoring.items.iter().find(|i| i.ref_identifier == item)?;
        Some(scorable(found).is_ok())
    }
}

/// Scores an answer snapshot (`{"responses": {item: {response: value}}}`):
/// one outcome per item, in test order.
pub fn score_snapshot(scoring: &Scoring, snapshot: &Value) -> Vec<ItemOutcome> {
    let responses = snapshot.get("responses");
    scoring
        .items
        .iter()
        .map(|item| {
            let given: BTreeMap<String, Value> = responses
                .and_then(|r| r.get(&item.ref_identifier))
                .and_then(Value::as_object)
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            score_item(item, &given)
        })
        .collect()
}

/// Stores the scoring data of an instrument (replacing earlier data).
/// Refuses text that is not valid scoring JSON and unknown instruments.
pub async fn import_scoring(db: &Db, instrument_id: &str, json: &str) -> Result<usize, ReportError> {
    let scoring = HubScoring::parse(json)?.scoring;
    if !crate::store::planning::instrument_exists(&db.pool, instrument_id).await? {
        return Err(ReportError::UnknownInstrument(instrument_id.to_string()));
    }
    crate::store::planning::upsert_scoring(&db.pool, instrument_id, json, crate::now_ms()).await?;
    Ok(scoring.items.len())
}

/// The stored scoring data of an instrument, if any.
pub async fn load_scoring(db: &Db, instrument_id: &str) -> Result<Option<HubScoring>, ReportError> {
    let scoring = crate::store::planning::scoring(&db.pool, instrument_id).await?;
    scoring.map(|s| HubScoring::parse(&s)).transpose()
}

/// Why a hand score is refused: in English for the command line
/// (`Display`), in Dutch for the console ([`ScoreRefused::dutch`]). The same
/// checks for both: [`super::record_hand_score`] is the only place a hand
/// score is recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum ScoreRefused {
    /// No console account of that name (or it is disabled).
    NoAccount(String),
    /// The account is an invigilator: only the exam office scores.
    NotAdmin(String),
    /// The student is not planned for the sitting.
    NotPlanned {
        /// Student number.
        student: String,
        /// Sitting.
        sitting: String,
    },
    /// The hub has no scoring data for the instrument.
    NoScoringData(String),
    /// The student has no answers that count (absent, deleted, unreadable).
    NothingToScore {
        /// Student number.
        student: String,
        /// Sitting.
        sitting: String,
        /// The results' status.
        status: &'static str,
    },
    /// The instrument has no such item.
    UnknownItem {
        /// The item asked for.
        item: String,
        /// The instrument.
        instrument: String,
        /// Its items.
        items: Vec<String>,
    },
    /// The hub scores the item itself (a template or its own rules).
    ScoredByHub(String),
    /// Not a number from 0 with at most 3 decimals.
    BadPoints(String),
    /// More than the item's maximum.
    OverMaximum {
        /// The item.
        item: String,
        /// The points given.
        points: f64,
        /// The item's maximum.
        max: f64,
    },
    /// The item's maximum is unknown: no score has an upper bound then, so
    /// none is taken until the scoring data gives the item's `max_score`.
    MaximumUnknown {
        /// The item.
        item: String,
        /// The instrument.
        instrument: String,
    },
}

impl std::fmt::Display for ScoreRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoAccount(u) => write!(f, "no console account {u:?} (or it is disabled): exam-hub account list"),
            Self::NotAdmin(u) => write!(f, "account {u} is an invigilator: only an administrator (the exam office) may score work"),
            Self::NotPlanned { student, sitting } => write!(f, "student {student} is not planned for sitting {sitting}"),
            Self::NoScoringData(i) => write!(f, "no scoring data for instrument {i} (exam-hub import scoring)"),
            Self::NothingToScore { student, sitting, status } => write!(f, "student {student} has no answers that count in {sitting} ({status}): nothing to score"),
            Self::UnknownItem { item, instrument, items } => write!(f, "instrument {instrument} has no item {item:?} (its items: {})", items.join(", ")),
            Self::ScoredByHub(item) => write!(f, "item {item} is scored by the hub itself (its response processing); only items the hub cannot score are scored by hand"),
            Self::BadPoints(p) => write!(f, "points {p}: give a number from 0, with at most 3 decimals (e.g. 2.5)"),
            Self::OverMaximum { item, points, max } => write!(f, "points {}: item {item} has at most {}", super::format_score(*points), super::format_score(*max)),
            Self::MaximumUnknown { item, instrument } => write!(
                f,
                "the maximum of item {item} is unknown, so no score can be checked against it: give the item's \"max_score\" in the scoring data of {instrument} and import it again (exam-hub import scoring)"
            ),
        }
    }
}

impl ScoreRefused {
    /// The refusal in Dutch, for the exam office in the console.
    pub fn dutch(&self) -> String {
        match self {
            Self::NoAccount(u) => format!("er is geen (actief) consoleaccount {u}"),
            Self::NotAdmin(u) => format!("{u} is surveillant: alleen het examenbureau (beheerders) beoordeelt werk"),
            Self::NotPlanned { student, sitting } => format!("student {student} staat niet in zitting {sitting}"),
            Self::NoScoringData(i) => format!("de examenserver heeft geen scoregegevens van {i} (exam-hub import scoring)"),
            Self::NothingToScore { student, sitting, status } => format!("student {student} heeft in zitting {sitting} geen antwoorden die tellen ({status}): er is niets te beoordelen"),
            Self::UnknownItem { item, instrument, .. } => format!("{instrument} heeft geen vraag {item}"),
            Self::ScoredByHub(item) => format!("vraag {item} scoort de examenserver zelf; alleen vragen die de examenserver niet kan scoren worden met de hand beoordeeld"),
            Self::BadPoints(p) => format!("{p} punten: geef een getal vanaf 0, met hoogstens 3 decimalen (bijvoorbeeld 2,5)"),
            Self::OverMaximum { item, points, max } => {
                format!("{} punten: vraag {item} heeft hoogstens {} punten", dutch_score(*points), dutch_score(*max))
            }
            Self::MaximumUnknown { item, instrument } => format!(
                "het maximum van vraag {item} is onbekend, dus geen score kan daaraan getoetst worden: laat het maximum (max_score) \
                 in de scoregegevens van {instrument} opnemen en opnieuw importeren (exam-hub import scoring)"
            ),
        }
    }
}

/// A score with a decimal comma, as the exam office writes it ("2,5").
pub fn dutch_score(score: f64) -> String {
    super::format_score(score).replace('.', ",")
}

/// Points as a person types them: "2,5" or "2.5" (surrounding blanks
/// ignored). Only the form is checked here; the range and the decimals are
/// checked where the score is recorded.
pub fn parse_points(text: &str) -> Result<f64, ScoreRefused> {
    let t = text.trim();
    let ok = !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') && t.chars().filter(|c| matches!(c, '.' | ',')).count() <= 1;
    let value = if ok { t.replace(',', ".").parse::<f64>().ok() } else { None };
    value.filter(|v| v.is_finite()).ok_or_else(|| ScoreRefused::BadPoints(t.chars().take(40).collect()))
}

/// A candidate's answer to an item as plain text, for a person to read:
/// the responses' text values, one per line (empty: no answer).
pub fn answer_text(item: &ItemOutcome) -> String {
    item.responses
        .values()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .filter(|v| !v.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// What stopped a hand score: a refusal, or the hub's storage.
#[derive(Debug, thiserror::Error)]
pub enum HandScoreError {
    /// Refused, with the reason.
    #[error("{0}")]
    Refused(ScoreRefused),
    /// The records could not be read or written.
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl From<ScoreRefused> for HandScoreError {
    fn from(r: ScoreRefused) -> Self {
        Self::Refused(r)
    }
}

impl From<sqlx::Error> for HandScoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Report(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decl(cardinality: &str, correct: &[&str], mapping: Option<Mapping>) -> ResponseDeclaration {
        ResponseDeclaration {
            identifier: "RESPONSE".into(),
            cardinality: serde_json::from_value(json!(cardinality)).unwrap(),
            base_type: Some("identifier".into()),
            correct: correct.iter().map(|s| (*s).to_string()).collect(),
            mapping,
            area_mapping: None,
            max_values: None,
        }
    }

    fn item(d: ResponseDeclaration, uri: &str) -> ItemScoring {
        ItemScoring {
            ref_identifier: "i1".into(),
            identifier: "i1".into(),
            weights: BTreeMap::new(),
            responses: vec![d],
            outcomes: Vec::new(),
            processing: Processing::Template { uri: uri.into() },
        }
    }

    fn answer(v: Value) -> BTreeMap<String, Value> {
        BTreeMap::from([("RESPONSE".to_string(), v)])
    }

    const MC: &str = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml";
    const MR: &str = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml";

    #[test]
    fn match_correct_single_multiple_and_ordered() {
        let single = item(decl("single", &["B"], None), MC);
        assert_eq!(score_item(&single, &answer(json!("B"))).score, Some(1.0));
        assert_eq!(score_item(&single, &answer(json!("A"))).score, Some(0.0));
        assert_eq!(score_item(&single, &answer(Value::Null)).score, Some(0.0));
        let multiple = item(decl("multiple", &["A", "C"], None), MC);
        assert_eq!(score_item(&multiple, &answer(json!(["C", "A"]))).score, Some(1.0));
        assert_eq!(score_item(&multiple, &answer(json!(["A"]))).score, Some(0.0));
        let ordered = item(decl("ordered", &["C", "A", "B"], None), MC);
        assert_eq!(score_item(&ordered, &answer(json!(["C", "A", "B"]))).score, Some(1.0));
        assert_eq!(score_item(&ordered, &answer(json!(["A", "C", "B"]))).score, Some(0.0));
    }

    #[test]
    fn map_response_counts_each_value_once_within_bounds() {
        let mapping = Mapping {
            default_value: -0.5,
            lower_bound: Some(0.0),
            upper_bound: Some(2.0),
            entries: vec![
                MapEntry { key: "A".into(), value: 1.0, case_sensitive: true },
                MapEntry { key: "C".into(), value: 1.5, case_sensitive: true },
            ],
        };
        let it = item(decl("multiple", &[], Some(mapping)), MR);
        assert_eq!(score_item(&it, &answer(json!(["A", "A"]))).score, Some(1.0));
        assert_eq!(score_item(&it, &answer(json!(["A", "C"]))).score, Some(2.0), "upper bound");
        assert_eq!(score_item(&it, &answer(json!(["B"]))).score, Some(0.0), "lower bound");
        assert_eq!(score_item(&it, &answer(json!(["A", "B"]))).score, Some(0.5));
        assert_eq!(score_item(&it, &answer(json!([]))).max_score, Some(2.0));
    }

    #[test]
    fn points_as_people_type_them() {
        assert_eq!(parse_points("2,5"), Ok(2.5));
        assert_eq!(parse_points(" 3 "), Ok(3.0));
        assert_eq!(parse_points("0.125"), Ok(0.125));
        for bad in ["", "-1", "2,5,1", "1e3", "drie", "NaN", "inf", "2.5.1"] {
            assert!(matches!(parse_points(bad), Err(ScoreRefused::BadPoints(_))), "{bad:?}");
        }
        assert_eq!(dutch_score(2.5), "2,5");
    }

    #[test]
    fn case_insensitive_text_entry_and_unscored_items() {
        let mapping = Mapping {
            default_value: 0.0,
            lower_bound: None,
            upper_bound: None,
            entries: vec![MapEntry { key: "Amsterdam".into(), value: 2.0, case_sensitive: false }],
        };
        let mut d = decl("single", &["Amsterdam"], Some(mapping));
        d.base_type = Some("string".into());
        let it = item(d.clone(), MR);
        assert_eq!(score_item(&it, &answer(json!("amsterdam"))).score, Some(2.0));
        let essay = ItemScoring { processing: Processing::None, ..item(d, MR) };
        assert_eq!(score_item(&essay, &answer(json!("een verhaal"))).score, None);
    }

    /// `kioskctl instrument pack` tells per item whether the hub scores it
    /// (`exam_instrument::how_scored`, issue 18); this keeps that report
    /// true to what `score_item` does.
    #[test]
    fn the_pack_report_says_what_the_hub_scores() {
        use exam_instrument::how_scored;
        let mapping = Mapping { default_value: 0.0, lower_bound: None, upper_bound: None, entries: vec![] };
        let mut other = decl("single", &["A"], None);
        other.identifier = "R2".into();
        let cases = [
            item(decl("single", &["A"], None), MC),
            item(decl("single", &["A"], None), MR),
            item(decl("single", &[], Some(mapping)), MR),
            item(decl("single", &["A"], None), "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response_point.xml"),
            item(decl("single", &["A"], None), "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/CC2_match_basic.xml"),
            item(decl("single", &["A"], None), "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"),
            item(other, MC),
            ItemScoring { processing: Processing::Custom { rules: None, manual: None }, ..item(decl("single", &["A"], None), MC) },
            ItemScoring {
                processing: Processing::Custom { rules: None, manual: Some("onbekende bewerking (<qti-random> op regel 9)".into()) },
                ..item(decl("single", &["A"], None), MC)
            },
            ItemScoring { processing: Processing::None, ..item(decl("single", &["A"], None), MC) },
            // Scored since the hub runs rules (issue 18): custom rules, CC2_match,
            // map_response_point with an area mapping.
            ItemScoring {
                processing: Processing::Custom { rules: exam_protocol::scoring::template_rules(MC), manual: None },
                ..item(decl("single", &["A"], None), MC)
            },
            item(decl("single", &["A"], None), "https://www.imsglobal.org/question/qti_v3p0/rptemplates/CC2_match.xml"),
            item(
                ResponseDeclaration {
                    area_mapping: Some(exam_protocol::scoring::AreaMapping {
                        default_value: 0.0,
                        lower_bound: None,
                        upper_bound: None,
                        entries: vec![exam_protocol::scoring::AreaMapEntry {
                            area: exam_protocol::scoring::Area { shape: exam_protocol::scoring::Shape::Circle, coords: vec![5.0, 5.0, 3.0] },
                            value: 2.0,
                        }],
                    }),
                    base_type: Some("point".into()),
                    ..decl("single", &[], None)
                },
                "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response_point.xml",
            ),
        ];
        let interactions = [("choice", "RESPONSE".to_string())];
        let mut scored = 0;
        for it in &cases {
            let hub = score_item(it, &answer(json!("A"))).score.is_some();
            let report = how_scored(it, &interactions);
            assert_eq!(hub, report.automatic(), "{:?}: the report says {report}", it.processing);
            scored += usize::from(hub);
        }
        assert_eq!(scored, 6);
    }
}
