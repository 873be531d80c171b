//! Scoring data of a QTI 3 instrument: what the kiosk's importer reads from
//! the package (response declarations, correct responses, mappings, the
//! response processing) and the hub scores answers with. The kiosk never
//! scores; this never reaches the web view.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod eval;
mod rules;
mod templates;

pub use eval::{evaluate, evaluate_test, inside, response_texts, round_to, Base, ItemResult, TestItem, TestResult, Unscorable, Value, MAX_RESPONSE_VALUES};
pub use rules::{
    Area, AreaMapEntry, AreaMapping, Branch, Expr, ItemSelection, LookupTable, NumberOf, OutcomeDeclaration, RoundingMode, Rule, Shape,
    ToleranceMode,
};
pub use templates::{score, scorable, template_rules, Template};

/// Response cardinality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cardinality {
    /// One value.
    Single,
    /// A set of values.
    Multiple,
    /// A sequence of values.
    Ordered,
    /// A record.
    Record,
}

impl Cardinality {
    /// The QTI attribute value (`single`, `multiple`, `ordered`, `record`).
    pub fn as_str(self) -> &'static str {
        match self {
            Cardinality::Single => "single",
            Cardinality::Multiple => "multiple",
            Cardinality::Ordered => "ordered",
            Cardinality::Record => "record",
        }
    }
}

/// Scoring data of an instrument.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scoring {
    /// Per item, in test order.
    pub items: Vec<ItemScoring>,
    /// The test's outcome processing, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<TestScoring>,
}

/// The test's outcome declarations and `qti-outcome-processing`, which the
/// hub runs on the items' outcomes ([`evaluate_test`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TestScoring {
    /// The test's `qti-outcome-declaration`s.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<OutcomeDeclaration>,
    /// The rules; `None` when they could not be read (`manual` says why):
    /// the hub then reports the sum of the item scores and says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<Rule>>,
    /// Why the rules could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual: Option<String>,
    /// Each item reference's categories (`category`), for the
    /// include/exclude selections.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories: BTreeMap<String, Vec<String>>,
}

/// Scoring data of one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemScoring {
    /// The item reference identifier (answers are keyed by it).
    pub ref_identifier: String,
    /// The item identifier.
    pub identifier: String,
    /// Weights from the item reference.
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// Response declarations.
    pub responses: Vec<ResponseDeclaration>,
    /// Outcome declarations (`qti-outcome-declaration`); without them
    /// `SCORE` is a float starting at 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<OutcomeDeclaration>,
    /// Response processing.
    pub processing: Processing,
}

/// `qti-response-declaration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseDeclaration {
    /// Identifier, e.g. `RESPONSE`.
    pub identifier: String,
    /// Cardinality.
    pub cardinality: Cardinality,
    /// Base type (`identifier`, `string`, `directedPair`, `pair`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_type: Option<String>,
    /// Correct response values.
    #[serde(default)]
    pub correct: Vec<String>,
    /// Mapping (`map_response`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<Mapping>,
    /// Area mapping (`map_response_point`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_mapping: Option<AreaMapping>,
    /// The most values the response's interaction can give (its
    /// `max-choices`, `max-associations`, the number of its choices or
    /// pairs); `None`: no limit known (typed text, older scoring data). The
    /// hub leaves an answer with more values to a person: the kiosk never
    /// sends one, so it was made some other way — e.g. every pair of a
    /// match interaction, which `map_response` would give every point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_values: Option<usize>,
}

/// `qti-mapping`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    /// Value for unmapped keys.
    pub default_value: f64,
    /// Lower bound of the sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower_bound: Option<f64>,
    /// Upper bound of the sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper_bound: Option<f64>,
    /// Entries.
    pub entries: Vec<MapEntry>,
}

/// `qti-map-entry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapEntry {
    /// Key.
    pub key: String,
    /// Value.
    pub value: f64,
    /// Case-sensitive comparison (strings).
    pub case_sensitive: bool,
}

/// Response processing of an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Processing {
    /// None (e.g. human-scored extended text).
    None,
    /// A standard template (`match_correct`, `map_response`, ...).
    Template {
        /// The template URI.
        uri: String,
    },
    /// Custom rules, which the hub runs with [`evaluate`]. Scoring data
    /// from before the rules were kept (`{"kind": "custom"}`) reads as
    /// custom processing without rules: a person scores such an item.
    Custom {
        /// The rules; `None` when they are not known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rules: Option<Vec<Rule>>,
        /// Why the rules could not be read (an operator the importer does
        /// not know): a person scores the item (`handmatig beoordelen`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        manual: Option<String>,
    },
}

impl TestScoring {
    /// Whether its processing sets the outcome `identifier` anywhere.
    pub fn sets(&self, identifier: &str) -> bool {
        fn any(rules: &[Rule], id: &str) -> bool {
            rules.iter().any(|r| match r {
                Rule::SetOutcome { identifier, .. } | Rule::LookupOutcome { identifier, .. } => identifier == id,
                Rule::Condition { branches, otherwise } => branches.iter().any(|b| any(&b.rules, id)) || any(otherwise, id),
                Rule::Fragment { rules } => any(rules, id),
                Rule::Exit => false,
            })
        }
        self.rules.as_deref().is_some_and(|r| any(r, identifier))
    }
}

impl Processing {
    /// The standard template's name (`match_correct`, `map_response`, ...)
    /// from its URI, when the item uses one.
    pub fn template_name(&self) -> Option<&str> {
        let Self::Template { uri } = self else { return None };
        Some(uri.rsplit('/').next().unwrap_or(uri).trim_end_matches(".xml"))
    }
}

#[cfg(test)]
mod tests;
