//! What `kioskctl instrument pack` says per item: its interaction types and
//! how it will be scored — so whoever packs an instrument sees before the
//! exam which items the hub scores, which a person must score, and which
//! nobody scores automatically (issue 18: 124 of 328 accepted public items
//! used custom response processing, and pack said nothing).

use super::qti::{Instrument, Item, Node};
use exam_protocol::scoring::{ItemScoring, Processing};

/// The response the hub's standard templates score (crates/hub
/// `reports::scoring::score_item`); other responses of an item are not
/// scored by the hub.
pub const SCORED_RESPONSE: &str = "RESPONSE";

/// One item of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemReport {
    /// The item reference's identifier in the test.
    pub ref_identifier: String,
    /// The item's own identifier.
    pub identifier: String,
    /// Package path of the item file.
    pub href: String,
    /// Interaction types in body order (`choice`, `choice-multiple`,
    /// `text-entry`, `extended-text`, `order`, `match`, `inline-choice`,
    /// `gap-match`), with repeats.
    pub interactions: Vec<&'static str>,
    /// How the item will be scored.
    pub scoring: HowScored,
}

/// How an item will be scored — what the hub does with it today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HowScored {
    /// The hub scores it with a standard template it runs (`match_correct`,
    /// `map_response`), on [`SCORED_RESPONSE`] only.
    Template {
        /// The template's name.
        name: String,
        /// The item's other responses that interactions use: not scored.
        unscored: Vec<String>,
    },
    /// A person scores it (extended text): `handmatig beoordelen`.
    Manual,
    /// Custom response processing, which the hub does not run.
    Custom,
    /// A template the hub does not run (e.g. `map_response_point`, CC2's
    /// templates), or one it cannot run on this item.
    NotRun {
        /// The template's name.
        name: String,
        /// Why not.
        why: String,
    },
    /// Interactions, but no response processing.
    NoProcessing,
    /// No interaction: nothing to score.
    NothingToScore,
}

impl HowScored {
    /// Whether the hub gives this item a score by itself.
    pub fn automatic(&self) -> bool {
        matches!(self, HowScored::Template { .. })
    }
}

impl std::fmt::Display for HowScored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HowScored::Template { name, unscored } if unscored.is_empty() => write!(f, "standaard sjabloon ({name})"),
            HowScored::Template { name, unscored } => write!(
                f,
                "standaard sjabloon ({name}) voor {SCORED_RESPONSE}; niet gescoord: {} (de hub scoort alleen {SCORED_RESPONSE})",
                unscored.join(", ")
            ),
            HowScored::Manual => f.write_str("handmatig beoordelen"),
            HowScored::Custom => f.write_str("eigen verwerking — niet automatisch gescoord"),
            HowScored::NotRun { name, why } => write!(f, "sjabloon {name} — niet automatisch gescoord ({why})"),
            HowScored::NoProcessing => f.write_str("geen responsverwerking — niet automatisch gescoord"),
            HowScored::NothingToScore => f.write_str("geen interactie — niets te scoren"),
        }
    }
}

/// How the hub scores `scoring`, given the item's interactions: the same
/// rules as the hub's `score_item` (template by name, the declaration of
/// [`SCORED_RESPONSE`], a mapping for `map_response`).
pub fn how_scored(scoring: &ItemScoring, interactions: &[(&'static str, String)]) -> HowScored {
    if interactions.is_empty() {
        return HowScored::NothingToScore;
    }
    let decl = scoring.responses.iter().find(|d| d.identifier == SCORED_RESPONSE);
    let manual = interactions.iter().any(|(kind, _)| *kind == "extended-text");
    let not_run = |name: &str, why: &str| HowScored::NotRun { name: name.to_string(), why: why.to_string() };
    let template = match (&scoring.processing, scoring.processing.template_name()) {
        (Processing::Template { .. }, Some(name)) => match (name, decl) {
            ("match_correct", Some(_)) => Ok(name),
            ("map_response", Some(d)) if d.mapping.is_some() => Ok(name),
            ("map_response", Some(_)) => Err(not_run(name, "RESPONSE heeft geen qti-mapping")),
            ("match_correct" | "map_response", None) => Err(not_run(name, "het item heeft geen RESPONSE")),
            (other, _) => Err(not_run(other, "de hub kent alleen match_correct en map_response")),
        },
        (Processing::Custom, _) => Err(HowScored::Custom),
        _ => Err(HowScored::NoProcessing),
    };
    match template {
        Ok(name) => {
            let mut unscored: Vec<String> =
                interactions.iter().map(|(_, r)| r.clone()).filter(|r| r != SCORED_RESPONSE).collect();
            unscored.sort();
            unscored.dedup();
            HowScored::Template { name: name.to_string(), unscored }
        }
        // A person scores what the hub does not (extended text).
        Err(_) if manual => HowScored::Manual,
        Err(other) => other,
    }
}

/// The interactions of an item body in order: (type, response identifier).
pub fn interactions(item: &Item) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    collect(&item.body, &mut out);
    out
}

fn collect(nodes: &[Node], out: &mut Vec<(&'static str, String)>) {
    for node in nodes {
        match node {
            Node::Element { children, .. } => collect(children, out),
            Node::RubricBlock(b) => collect(&b.content, out),
            Node::ChoiceInteraction(i) => {
                out.push((if i.max_choices == 1 { "choice" } else { "choice-multiple" }, i.response_identifier.clone()));
            }
            Node::OrderInteraction(i) => out.push(("order", i.response_identifier.clone())),
            Node::TextEntryInteraction(i) => out.push(("text-entry", i.response_identifier.clone())),
            Node::ExtendedTextInteraction(i) => out.push(("extended-text", i.response_identifier.clone())),
            Node::MatchInteraction(i) => out.push(("match", i.response_identifier.clone())),
            Node::InlineChoiceInteraction(i) => out.push(("inline-choice", i.response_identifier.clone())),
            Node::GapMatchInteraction(i) => {
                out.push(("gap-match", i.response_identifier.clone()));
                collect(&i.content, out);
            }
            Node::Text { .. } | Node::Image { .. } | Node::Gap { .. } => {}
        }
    }
}

impl Instrument {
    /// Per item, in test order: interaction types and how it will be scored.
    pub fn report(&self) -> Vec<ItemReport> {
        self.items()
            .into_iter()
            .map(|item| {
                let found = interactions(item);
                let scoring = self
                    .scoring
                    .items
                    .iter()
                    .find(|s| s.ref_identifier == item.ref_identifier)
                    .map_or(HowScored::NoProcessing, |s| how_scored(s, &found));
                ItemReport {
                    ref_identifier: item.ref_identifier.clone(),
                    identifier: item.identifier.clone(),
                    href: item.href.clone(),
                    interactions: found.into_iter().map(|(kind, _)| kind).collect(),
                    scoring,
                }
            })
            .collect()
    }
}
