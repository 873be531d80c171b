//! Scoring data of a QTI 3 instrument: what the kiosk's importer reads from
//! the package (response declarations, correct responses, mappings, the
//! response processing) and the hub scores answers with. The kiosk never
//! scores; this never reaches the web view.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// Custom rules (the hub does not run them; such items are not scored).
    Custom,
}

impl Processing {
    /// The standard template's name (`match_correct`, `map_response`, ...)
    /// from its URI, when the item uses one.
    pub fn template_name(&self) -> Option<&str> {
        let Self::Template { uri } = self else { return None };
        Some(uri.rsplit('/').next().unwrap_or(uri).trim_end_matches(".xml"))
    }
}
