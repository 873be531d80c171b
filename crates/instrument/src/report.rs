//! What `kioskctl instrument pack` says per item: its interaction types and
//! how it will be scored — so whoever packs an instrument sees before the
//! exam which items the hub scores, which a person must score, and which
//! nobody scores automatically (issue 18: 124 of 328 accepted public items
//! used custom response processing, and pack said nothing; the hub now
//! runs it, and says why when it cannot).

use super::qti::{Instrument, Item, Node};
use exam_protocol::scoring::{scorable, ItemScoring, Processing, Template};

/// The response the standard templates score; an item's other responses
/// are scored only by its own response processing.
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
    /// `gap-match`, `hottext`, `associate`, `slider`, `upload`, `drawing`,
    /// `end-attempt`, `media`, and the graphic ones: `hotspot`,
    /// `graphic-gap-match`, `select-point`, `graphic-associate`,
    /// `graphic-order`, `position-object`), with repeats.
    pub interactions: Vec<&'static str>,
    /// How the item will be scored.
    pub scoring: HowScored,
    /// What else whoever packs should know, in Dutch: an adaptive item
    /// (one attempt, the first submission counts), the companion materials
    /// the item allows, its shared stimuli.
    pub notes: Vec<String>,
}

/// How an item will be scored — what the hub does with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HowScored {
    /// The hub scores it with a standard template (`match_correct`,
    /// `map_response`, `map_response_point`, CC2's), on [`SCORED_RESPONSE`].
    Template {
        /// The template's name.
        name: String,
        /// The item's other responses that interactions use: not scored.
        unscored: Vec<String>,
    },
    /// The hub scores it by running its own (custom) response processing.
    Rules,
    /// A person scores it (`handmatig beoordelen`): extended text, or
    /// processing the hub cannot run, with the reason.
    Manual {
        /// Why the hub does not score it (none for extended text).
        reason: Option<String>,
    },
    /// Interactions, but no response processing: a person scores it.
    NoProcessing,
    /// No interaction: nothing to score.
    NothingToScore,
}

impl HowScored {
    /// Whether the hub gives this item a score by itself.
    pub fn automatic(&self) -> bool {
        matches!(self, HowScored::Template { .. } | HowScored::Rules)
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
            HowScored::Rules => f.write_str("eigen verwerking (gescoord door de hub)"),
            HowScored::Manual { reason: None } => f.write_str("handmatig beoordelen"),
            HowScored::Manual { reason: Some(reason) } => write!(f, "handmatig beoordelen: {reason}"),
            HowScored::NoProcessing => f.write_str("handmatig beoordelen: geen responsverwerking"),
            HowScored::NothingToScore => f.write_str("geen interactie — niets te scoren"),
        }
    }
}

/// How the hub scores `scoring`, given the item's interactions: the hub
/// scores an item exactly when `exam_protocol::scoring::scorable` says so
/// (the rules of its template or its own processing are known and
/// complete); otherwise a person does, for the reason given.
pub fn how_scored(scoring: &ItemScoring, interactions: &[(&'static str, String)]) -> HowScored {
    if interactions.is_empty() {
        return HowScored::NothingToScore;
    }
    let essay = interactions.iter().any(|(kind, _)| *kind == "extended-text");
    match (scorable(scoring), &scoring.processing) {
        (Ok(()), Processing::Template { uri }) => {
            let name = Template::from_uri(uri).map_or_else(|| uri.clone(), |t| t.name().to_string());
            let mut unscored: Vec<String> =
                interactions.iter().filter(|(kind, _)| *kind != "end-attempt").map(|(_, r)| r.clone()).filter(|r| r != SCORED_RESPONSE).collect();
            unscored.sort();
            unscored.dedup();
            HowScored::Template { name, unscored }
        }
        (Ok(()), _) => HowScored::Rules,
        // A person scores what the hub does not (extended text).
        (Err(_), _) if essay => HowScored::Manual { reason: None },
        (Err(_), Processing::None) => HowScored::NoProcessing,
        (Err(reason), _) => HowScored::Manual { reason: Some(reason.0) },
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
            Node::HottextInteraction(i) => {
                out.push(("hottext", i.response_identifier.clone()));
                collect(&i.content, out);
            }
            Node::AssociateInteraction(i) => out.push(("associate", i.response_identifier.clone())),
            Node::SliderInteraction(i) => out.push(("slider", i.response_identifier.clone())),
            Node::UploadInteraction(i) => out.push(("upload", i.response_identifier.clone())),
            Node::DrawingInteraction(i) => out.push(("drawing", i.response_identifier.clone())),
            Node::EndAttemptInteraction(i) => out.push(("end-attempt", i.response_identifier.clone())),
            Node::MediaInteraction(i) => out.push(("media", i.response_identifier.clone())),
            Node::GraphicInteraction(i) => out.push((i.kind.name(), i.response_identifier.clone())),
            Node::PositionObjectStage(s) => s.interactions.iter().for_each(|i| out.push(("position-object", i.response_identifier.clone()))),
            Node::Text { .. } | Node::Image { .. } | Node::Gap { .. } | Node::Hottext(_) | Node::Math(_) | Node::Media(_) => {}
        }
    }
}

/// The report's notes for an item (see [`ItemReport::notes`]).
fn notes(item: &Item) -> Vec<String> {
    let mut out = Vec::new();
    if item.adaptive {
        out.push("adaptief item: één poging, de eerste inzending wordt gescoord".to_string());
    }
    if item.template_variant {
        out.push("sjabloon: vaste variant, gekozen bij het inpakken".to_string());
    }
    if let Some(c) = item.companion.as_ref().filter(|c| !c.is_empty()) {
        out.push(format!("hulpmiddelen: {}", c.summary()));
    }
    for s in &item.stimuli {
        out.push(format!("stimulus {}", s.href));
    }
    out
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
                    notes: notes(item),
                }
            })
            .collect()
    }
}
