//! The standard response-processing templates as rules, so a template and
//! its written-out rules score the same (one evaluator for both), and the
//! item-level entry point the hub calls: [`score`].

use super::eval::{evaluate, ItemResult, Unscorable};
use super::rules::{Branch, Expr, Rule};
use super::{Cardinality, ItemScoring, Processing};
use std::collections::BTreeMap;

/// The standard templates (QTI 3, QTI 2.x and Common Cartridge's CC2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// `match_correct`: SCORE 1 when RESPONSE matches its correct response, else 0.
    MatchCorrect,
    /// `map_response`: SCORE is RESPONSE mapped (0 without a response).
    MapResponse,
    /// `map_response_point`: SCORE is RESPONSE's points area-mapped.
    MapResponsePoint,
    /// `CC2_match`: as `match_correct`.
    Cc2Match,
    /// `CC2_match_basic`: SCORE is MAXSCORE when RESPONSE matches.
    Cc2MatchBasic,
    /// `CC2_map_response`: as `map_response` (its feedback part left out:
    /// feedback is not shown in an exam).
    Cc2MapResponse,
}

impl Template {
    /// All templates.
    pub const ALL: [Template; 6] =
        [Template::MatchCorrect, Template::MapResponse, Template::MapResponsePoint, Template::Cc2Match, Template::Cc2MatchBasic, Template::Cc2MapResponse];

    /// The template's name (the last part of its URI).
    pub fn name(self) -> &'static str {
        match self {
            Template::MatchCorrect => "match_correct",
            Template::MapResponse => "map_response",
            Template::MapResponsePoint => "map_response_point",
            Template::Cc2Match => "CC2_match",
            Template::Cc2MatchBasic => "CC2_match_basic",
            Template::Cc2MapResponse => "CC2_map_response",
        }
    }

    /// The template of a URI: QTI 3's
    /// (`https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml`,
    /// also `www.imsglobal.org/question/qti_v3p0/...`), QTI 2.x's
    /// (`http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct`)
    /// and a package's own copy (`rptemplates/CC2_match.xml`): by the last
    /// part, with or without `.xml`.
    pub fn from_uri(uri: &str) -> Option<Template> {
        let last = uri.trim().rsplit('/').next()?;
        let name = last.strip_suffix(".xml").unwrap_or(last);
        Template::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The template written out as rules (as in the template files).
    pub fn rules(self) -> Vec<Rule> {
        let var = |id: &str| Expr::Variable { identifier: id.into() };
        let float = |v: &str| Expr::BaseValue { base_type: "float".into(), value: v.into() };
        let set = |value: Expr| Rule::SetOutcome { identifier: "SCORE".into(), value };
        let matched = Expr::Match { args: vec![var("RESPONSE"), Expr::Correct { identifier: "RESPONSE".into() }] };
        let if_null_else = |mapped: Expr| Rule::Condition {
            branches: vec![Branch { when: Expr::IsNull { args: vec![var("RESPONSE")] }, rules: vec![set(float("0.0"))] }],
            otherwise: vec![set(mapped)],
        };
        match self {
            Template::MatchCorrect | Template::Cc2Match => {
                vec![Rule::Condition { branches: vec![Branch { when: matched, rules: vec![set(float("1"))] }], otherwise: vec![set(float("0"))] }]
            }
            Template::Cc2MatchBasic => {
                vec![Rule::Condition { branches: vec![Branch { when: matched, rules: vec![set(var("MAXSCORE"))] }], otherwise: vec![] }]
            }
            Template::MapResponse | Template::Cc2MapResponse => vec![if_null_else(Expr::MapResponse { identifier: "RESPONSE".into() })],
            Template::MapResponsePoint => vec![if_null_else(Expr::MapResponsePoint { identifier: "RESPONSE".into() })],
        }
    }
}

/// The rules of a template URI, when it is a standard template.
pub fn template_rules(uri: &str) -> Option<Vec<Rule>> {
    Template::from_uri(uri).map(Template::rules)
}

/// The rules the hub runs for an item, or why a person scores it.
fn item_rules(item: &ItemScoring) -> Result<(Vec<Rule>, Option<Template>), Unscorable> {
    match &item.processing {
        Processing::Template { uri } => match Template::from_uri(uri) {
            Some(t) => Ok((t.rules(), Some(t))),
            None => Err(Unscorable(format!("onbekend sjabloon {uri}"))),
        },
        Processing::Custom { rules: Some(rules), .. } => Ok((rules.clone(), None)),
        Processing::Custom { rules: None, manual } => {
            Err(Unscorable(manual.clone().unwrap_or_else(|| "eigen verwerking zonder regels in de scoregegevens (pak het toetsbestand opnieuw in)".into())))
        }
        Processing::None => Err(Unscorable("geen responsverwerking".into())),
    }
}

/// What the rules need that no answer changes: declared responses and
/// outcomes, mappings for `qti-map-response(-point)`. Checked before the
/// rules run, so whether the hub scores an item never depends on a
/// candidate's answer taking a branch.
fn check(item: &ItemScoring, rules: &[Rule]) -> Result<(), Unscorable> {
    let response = |id: &str| item.responses.iter().find(|d| d.identifier == id);
    let declared = |id: &str| response(id).is_some() || item.outcomes.iter().any(|o| o.identifier == id) || matches!(id, "SCORE" | "numAttempts");
    fn walk_expr(e: &Expr, f: &mut dyn FnMut(&Expr) -> Result<(), Unscorable>) -> Result<(), Unscorable> {
        f(e)?;
        e.args().iter().try_for_each(|a| walk_expr(a, f))
    }
    fn walk(rules: &[Rule], f: &mut dyn FnMut(&Expr) -> Result<(), Unscorable>) -> Result<(), Unscorable> {
        for rule in rules {
            match rule {
                Rule::Condition { branches, otherwise } => {
                    for b in branches {
                        walk_expr(&b.when, f)?;
                        walk(&b.rules, f)?;
                    }
                    walk(otherwise, f)?;
                }
                Rule::SetOutcome { value, .. } | Rule::LookupOutcome { value, .. } => walk_expr(value, f)?,
                Rule::Exit => {}
                Rule::Fragment { rules } => walk(rules, f)?,
            }
        }
        Ok(())
    }
    if let Some(out) = item.outcomes.iter().find(|o| o.identifier == "SCORE" && o.external_scored.is_some()) {
        return Err(Unscorable(format!("SCORE wordt buiten de verwerking gegeven (external-scored=\"{}\")", out.external_scored.as_deref().unwrap_or(""))));
    }
    walk(rules, &mut |e| match e {
        Expr::Variable { identifier } if !declared(identifier) => Err(Unscorable(format!("variabele {identifier} is niet gedeclareerd"))),
        Expr::Correct { identifier } | Expr::MapResponse { identifier } | Expr::MapResponsePoint { identifier } => {
            let Some(d) = response(identifier) else { return Err(Unscorable(format!("response {identifier} is niet gedeclareerd"))) };
            match e {
                Expr::MapResponse { .. } if d.mapping.is_none() => Err(Unscorable(format!("{identifier} heeft geen qti-mapping"))),
                Expr::MapResponsePoint { .. } if d.area_mapping.is_none() => Err(Unscorable(format!("{identifier} heeft geen qti-area-mapping"))),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    })
}

/// Whether the hub can score `item` (its rules are known and complete);
/// `Err` says why a person scores it.
pub fn scorable(item: &ItemScoring) -> Result<(), Unscorable> {
    let (rules, _) = item_rules(item)?;
    check(item, &rules)
}

/// Scores one item: its template or custom rules run on the candidate's
/// responses. The maximum is MAXSCORE when the processing or its default
/// gives it, else SCORE's `normal-maximum`, else what the template can give
/// (1 for the match templates; the mapping's best for the map templates).
pub fn score(item: &ItemScoring, responses: &BTreeMap<String, serde_json::Value>) -> Result<ItemResult, Unscorable> {
    let (rules, template) = item_rules(item)?;
    check(item, &rules)?;
    let mut result = evaluate(item, &rules, responses)?;
    if result.max_score.is_none() {
        result.max_score = template.and_then(|t| template_max(item, t));
    }
    Ok(result)
}

fn template_max(item: &ItemScoring, template: Template) -> Option<f64> {
    let decl = item.responses.iter().find(|d| d.identifier == "RESPONSE")?;
    let single = decl.cardinality == Cardinality::Single;
    let best = |values: Vec<f64>, default: f64, upper: Option<f64>| {
        let max = if single { values.iter().copied().fold(default.max(0.0), f64::max) } else { values.iter().map(|v| v.max(0.0)).sum() };
        upper.map_or(max, |u| max.min(u))
    };
    match template {
        Template::MatchCorrect | Template::Cc2Match => Some(1.0),
        Template::Cc2MatchBasic => None,
        Template::MapResponse | Template::Cc2MapResponse => {
            let m = decl.mapping.as_ref()?;
            Some(best(m.entries.iter().map(|e| e.value).collect(), m.default_value, m.upper_bound))
        }
        Template::MapResponsePoint => {
            let m = decl.area_mapping.as_ref()?;
            Some(best(m.entries.iter().map(|e| e.value).collect(), m.default_value, m.upper_bound))
        }
    }
}
