//! Which answers the running instrument can have: a save names an item of
//! the test (its reference identifier), responses that item declares or one
//! of its interactions uses, and for each a value of the shape that
//! interaction gives (issue 15: commands check ids against the running
//! instrument and values against the interaction). Computed once from the
//! typed render model when the test opens ([`AnswerIds::of`]); each save is
//! then a lookup and a check of its value.

use crate::qti::{AssessmentTest, Node, Section, SectionPart};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

#[path = "answer_ids_inter.rs"]
mod inter;
#[path = "answer_ids_graphic.rs"]
mod graphic;

/// Why a save does not fit the running instrument (Dutch, for the student,
/// who never sees these from the kiosk's own pages; the journal keeps them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerIdError {
    /// No item with that reference identifier.
    #[error("onderdeel '{0}' hoort niet bij dit examen")]
    UnknownItem(String),
    /// The item has no such response.
    #[error("onderdeel '{item}' heeft geen antwoord '{response}'")]
    UnknownResponse {
        /// Item reference identifier.
        item: String,
        /// Response identifier.
        response: String,
    },
    /// The value is not one the item's interaction can give: a choice it
    /// does not offer, more choices than it allows, a pair of unknown
    /// parts, an object where text belongs.
    #[error("het antwoord '{response}' van onderdeel '{item}' past niet bij de vraag ({why})")]
    UnfitValue {
        /// Item reference identifier.
        item: String,
        /// Response identifier.
        response: String,
        /// What does not fit (no part of the value itself beyond an id).
        why: String,
    },
}

/// The values one response can take, from the interaction that gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// Declared without an interaction, or typed text: text or numbers, or
    /// a list of them (multiple cardinality), never an object.
    Text,
    /// Identifiers of the interaction's choices, each at most once, at most
    /// `max` of them (0: no limit); `list` allows a list (a single id
    /// always fits).
    Choices { ids: HashSet<String>, max: u32, list: bool },
    /// Pairs `"first second"` (QTI's pair and directedPair), each pair at
    /// most once, at most `max` of them (0: no limit). `most`: how many the
    /// choices' `match-max` allow at all (a gap holds one choice), which
    /// the hub checks (`max_values`).
    Pairs { first: HashSet<String>, second: HashSet<String>, max: u32, most: usize },
    /// Other interactions' shapes (hottext's are [`Shape::Choices`]).
    Inter(inter::InterShape),
    /// Graphic interactions' points and hotspot pairs (qti_graphic.rs).
    Graphic(graphic::GraphicShape),
}

/// Which answers each item of a test can have, computed once when the test
/// opens (a save is then one lookup): the item's reference identifier, with
/// the responses it declares and those its interactions use, and the shape
/// of each response's value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerIds {
    /// Item reference identifier → response identifier → shape.
    items: HashMap<String, HashMap<String, Shape>>,
}

impl AnswerIds {
    /// The answers `test` can have.
    pub fn of(test: &AssessmentTest) -> Self {
        let mut items = HashMap::new();
        for part in &test.test_parts {
            for section in &part.sections {
                collect(section, &mut items);
            }
        }
        Self { items }
    }

    /// Whether `responses` (response identifier and value) of `item` fit
    /// the test: the item exists, each response is one it has, and each
    /// value is one its interaction can give (`null` clears an answer and
    /// always fits).
    pub fn check(&self, item: &str, responses: &[(&str, &Value)]) -> Result<(), AnswerIdError> {
        let known = self.items.get(item).ok_or_else(|| AnswerIdError::UnknownItem(item.to_owned()))?;
        for (response, value) in responses {
            let shape = known.get(*response).ok_or_else(|| AnswerIdError::UnknownResponse { item: item.to_owned(), response: (*response).to_owned() })?;
            shape.fits(value).map_err(|why| AnswerIdError::UnfitValue { item: item.to_owned(), response: (*response).to_owned(), why })?;
        }
        Ok(())
    }

    /// The most values `response` of `item` can have (`None`: no limit
    /// known, e.g. typed text), for the hub's own check
    /// (`ResponseDeclaration::max_values`).
    pub fn max_values(&self, item: &str, response: &str) -> Option<usize> {
        self.items.get(item)?.get(response)?.max_values()
    }
}

/// How many pairs `choices` can be in, each at most its `match-max` times
/// (0: with every one of the `other` side).
fn pairs_allowed(choices: &[crate::qti::AssociableChoice], other: usize) -> usize {
    choices.iter().map(|c| if c.match_max == 0 { other } else { usize::try_from(c.match_max).unwrap_or(usize::MAX).min(other) }).fold(0, usize::saturating_add)
}

/// `max` when it limits (not 0), else `all`.
fn limit(max: u32, all: usize) -> usize {
    if max == 0 {
        all
    } else {
        usize::try_from(max).unwrap_or(usize::MAX).min(all)
    }
}

impl Shape {
    fn max_values(&self) -> Option<usize> {
        match self {
            Shape::Text => None,
            Shape::Choices { list: false, .. } => Some(1),
            Shape::Choices { ids, max, .. } => Some(limit(*max, ids.len())),
            Shape::Pairs { max, most, .. } => Some(limit(*max, *most)),
            Shape::Inter(shape) => shape.max_values(),
            Shape::Graphic(shape) => shape.max_values(),
        }
    }

    fn fits(&self, value: &Value) -> Result<(), String> {
        let values: Vec<&Value> = match value {
            Value::Null => return Ok(()),
            Value::Array(list) => list.iter().collect(),
            single => vec![single],
        };
        let listed = value.is_array();
        match self {
            Shape::Text => match values.iter().find(|v| !(v.is_string() || v.is_number())) {
                Some(_) => Err("tekst verwacht".to_owned()),
                None => Ok(()),
            },
            Shape::Choices { ids, max, list } => {
                if listed && !list {
                    return Err("één keuze verwacht".to_owned());
                }
                let mut seen = HashSet::new();
                for v in &values {
                    let id = v.as_str().ok_or("een keuze is geen tekst")?;
                    if !ids.contains(id) {
                        return Err(format!("geen keuze '{}'", clip(id)));
                    }
                    if !seen.insert(id) {
                        return Err(format!("keuze '{}' twee keer", clip(id)));
                    }
                }
                within(values.len(), *max)
            }
            Shape::Inter(shape) => shape.fits(value),
            Shape::Pairs { first, second, max, .. } => {
                let mut seen = HashSet::new();
                for v in &values {
                    let pair = v.as_str().ok_or("een koppeling is geen tekst")?;
                    let (a, b) = pair.split_once(' ').ok_or_else(|| format!("'{}' is geen koppeling", clip(pair)))?;
                    if !first.contains(a) || !second.contains(b) {
                        return Err(format!("geen koppeling '{}'", clip(pair)));
                    }
                    if !seen.insert(pair) {
                        return Err(format!("koppeling '{}' twee keer", clip(pair)));
                    }
                }
                within(values.len(), *max)
            }
            Shape::Graphic(shape) => shape.fits(&values, within),
        }
    }
}

/// At most `max` values (0: no limit).
fn within(count: usize, max: u32) -> Result<(), String> {
    if max > 0 && count > max as usize {
        return Err(format!("{count} gekozen, ten hoogste {max}"));
    }
    Ok(())
}

/// An identifier as the journal may show it (ids come from the student's
/// side: bounded).
fn clip(id: &str) -> String {
    id.chars().take(64).collect()
}

fn collect(section: &Section, items: &mut HashMap<String, HashMap<String, Shape>>) {
    for part in &section.parts {
        match part {
            SectionPart::Section(sub) => collect(sub, items),
            SectionPart::Item(item) => {
                let mut known: HashMap<String, Shape> = item.responses.iter().map(|r| (r.identifier.clone(), Shape::Text)).collect();
                let mut given = Vec::new();
                item.body.iter().for_each(|node| interaction_responses(node, &mut given));
                // An interaction's shape replaces the declaration's; the
                // first interaction of a response decides.
                let mut decided = HashSet::new();
                for (response, mut shape) in given {
                    if let Shape::Inter(inter) = &mut shape {
                        inter.declared(item.responses.iter().find(|r| r.identifier == response));
                    }
                    if decided.insert(response.clone()) {
                        known.insert(response, shape);
                    }
                }
                items.insert(item.ref_identifier.clone(), known);
            }
        }
    }
}

fn ids<'a>(list: impl IntoIterator<Item = &'a String>) -> HashSet<String> {
    list.into_iter().cloned().collect()
}

/// The gaps of a gap-match interaction's content.
fn gaps(nodes: &[Node], out: &mut HashSet<String>) {
    for node in nodes {
        match node {
            Node::Gap { identifier, .. } => {
                out.insert(identifier.clone());
            }
            Node::Element { children, .. } => gaps(children, out),
            _ => {}
        }
    }
}

fn interaction_responses(node: &Node, out: &mut Vec<(String, Shape)>) {
    let all = |nodes: &[Node], out: &mut Vec<(String, Shape)>| nodes.iter().for_each(|n| interaction_responses(n, out));
    match node {
        Node::Text { .. } | Node::Image { .. } | Node::Gap { .. } | Node::Math(_) | Node::Media(_) => {}
        Node::HottextInteraction(_)
        | Node::Hottext(_)
        | Node::AssociateInteraction(_)
        | Node::SliderInteraction(_)
        | Node::UploadInteraction(_)
        | Node::DrawingInteraction(_)
        | Node::EndAttemptInteraction(_)
        | Node::MediaInteraction(_) => inter::responses(node, out),
        Node::GraphicInteraction(i) => {
            out.push((i.response_identifier.clone(), graphic::shape(i)));
            all(&i.prompt, out);
            i.gap_choices.iter().for_each(|c| all(&c.content, out));
        }
        Node::PositionObjectStage(stage) => {
            for i in &stage.interactions {
                out.push((i.response_identifier.clone(), graphic::points(&stage.image, i.max_choices)));
            }
        }
        Node::Element { children, .. } => all(children, out),
        Node::RubricBlock(block) => all(&block.content, out),
        Node::ChoiceInteraction(i) => {
            let ids = ids(i.choices.iter().map(|c| &c.identifier));
            out.push((i.response_identifier.clone(), Shape::Choices { ids, max: i.max_choices, list: true }));
            all(&i.prompt, out);
            i.choices.iter().for_each(|c| all(&c.content, out));
        }
        Node::OrderInteraction(i) => {
            let ids = ids(i.choices.iter().map(|c| &c.identifier));
            out.push((i.response_identifier.clone(), Shape::Choices { ids, max: 0, list: true }));
            all(&i.prompt, out);
            i.choices.iter().for_each(|c| all(&c.content, out));
        }
        Node::TextEntryInteraction(i) => out.push((i.response_identifier.clone(), Shape::Text)),
        Node::ExtendedTextInteraction(i) => {
            out.push((i.response_identifier.clone(), Shape::Text));
            all(&i.prompt, out);
        }
        Node::MatchInteraction(i) => {
            let (first, second) = (ids(i.source.iter().map(|c| &c.identifier)), ids(i.target.iter().map(|c| &c.identifier)));
            let most = (first.len() * second.len()).min(pairs_allowed(&i.source, second.len())).min(pairs_allowed(&i.target, first.len()));
            out.push((i.response_identifier.clone(), Shape::Pairs { first, second, max: i.max_associations, most }));
            all(&i.prompt, out);
            i.source.iter().chain(&i.target).for_each(|c| all(&c.content, out));
        }
        Node::InlineChoiceInteraction(i) => {
            let ids = ids(i.choices.iter().map(|c| &c.identifier));
            out.push((i.response_identifier.clone(), Shape::Choices { ids, max: 1, list: false }));
            i.choices.iter().for_each(|c| all(&c.content, out));
        }
        Node::GapMatchInteraction(i) => {
            let mut second = HashSet::new();
            gaps(&i.content, &mut second);
            let first = ids(i.gap_choices.iter().map(|c| &c.identifier));
            // Each gap holds one choice.
            let most = second.len().min(pairs_allowed(&i.gap_choices, second.len()));
            out.push((i.response_identifier.clone(), Shape::Pairs { first, second, max: i.max_associations, most }));
            all(&i.prompt, out);
            i.gap_choices.iter().for_each(|c| all(&c.content, out));
            all(&i.content, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A test with an item in a section and one in a subsection whose only
    /// response is used by an inline interaction deep in its body.
    fn test() -> AssessmentTest {
        let item = |id: &str, responses: serde_json::Value, body: serde_json::Value| {
            json!({"kind": "item", "ref_identifier": id, "identifier": id, "href": format!("{id}.xml"), "title": id,
                   "categories": [], "required": false, "stylesheets": [], "responses": responses, "body": body})
        };
        let section = |parts: Vec<serde_json::Value>| {
            json!({"identifier": "S", "title": "S", "visible": true, "keep_together": false, "shuffle": false, "rubric_blocks": [], "parts": parts})
        };
        let mut sub = section(vec![item("ITM-2", json!([]), json!([{"type": "element", "tag": "p", "attrs": {}, "children": [
            {"type": "text-entry-interaction", "response_identifier": "GAP-1", "class": []}]}]))]);
        sub["kind"] = json!("section");
        let outer = section(vec![item("ITM-1", json!([{"identifier": "RESPONSE", "cardinality": "single"}]), json!([])), sub]);
        serde_json::from_value(json!({"identifier": "T", "title": "T", "item_count": 2, "notices": [], "test_parts": [
            {"identifier": "P", "navigation_mode": "nonlinear", "submission_mode": "simultaneous", "sections": [outer]}]}))
        .expect("a test model")
    }

    #[test]
    fn only_items_and_responses_of_the_instrument() {
        let ids = AnswerIds::of(&test());
        let text = json!("iets");
        assert_eq!(ids.check("ITM-1", &[("RESPONSE", &text)]), Ok(()));
        assert_eq!(ids.check("ITM-2", &[("GAP-1", &text)]), Ok(()), "used by an interaction in a subsection");
        assert_eq!(ids.check("../../../../tmp/x", &[("RESPONSE", &text)]), Err(AnswerIdError::UnknownItem("../../../../tmp/x".into())));
        assert_eq!(ids.check("NOT-AN-ITEM", &[]), Err(AnswerIdError::UnknownItem("NOT-AN-ITEM".into())));
        assert!(matches!(ids.check("ITM-1", &[("RESPONSE", &text), ("X", &text)]), Err(AnswerIdError::UnknownResponse { .. })));
        assert!(matches!(AnswerIds::default().check("ITM-1", &[]), Err(AnswerIdError::UnknownItem(_))));
    }

    /// One item with every kind of interaction, as the render model has it.
    fn every_interaction() -> AssessmentTest {
        let choice = |id: &str| json!({"identifier": id, "fixed": false, "content": [{"type": "text", "text": id}]});
        let associable = |id: &str| json!({"identifier": id, "match_max": 1, "match_min": 0, "fixed": false, "content": [{"type": "text", "text": id}]});
        let body = json!([
            {"type": "choice-interaction", "response_identifier": "ONE", "shuffle": false, "max_choices": 1, "min_choices": 0, "class": [], "prompt": [], "choices": [choice("A"), choice("B")]},
            {"type": "choice-interaction", "response_identifier": "TWO", "shuffle": false, "max_choices": 2, "min_choices": 0, "class": [], "prompt": [], "choices": [choice("A"), choice("B"), choice("C")]},
            {"type": "order-interaction", "response_identifier": "ORDER", "shuffle": false, "class": [], "prompt": [], "choices": [choice("X"), choice("Y")]},
            {"type": "text-entry-interaction", "response_identifier": "TEXT", "class": []},
            {"type": "match-interaction", "response_identifier": "MATCH", "shuffle": false, "max_associations": 2, "min_associations": 0, "class": [], "prompt": [],
             "source": [associable("S1"), associable("S2")], "target": [associable("T1"), associable("T2")]},
            {"type": "inline-choice-interaction", "response_identifier": "INLINE", "shuffle": false, "required": false, "class": [], "choices": [choice("ja"), choice("nee")]},
            {"type": "gap-match-interaction", "response_identifier": "GAPS", "shuffle": false, "max_associations": 0, "min_associations": 0, "class": [], "prompt": [],
             "gap_choices": [associable("W1"), associable("W2")],
             "content": [{"type": "element", "tag": "p", "attrs": {}, "children": [{"type": "gap", "identifier": "G1", "required": false}, {"type": "gap", "identifier": "G2", "required": false}]}]}
        ]);
        let item = json!({"kind": "item", "ref_identifier": "ITM", "identifier": "ITM", "href": "i.xml", "title": "i", "categories": [], "required": false,
                          "stylesheets": [], "responses": [{"identifier": "ONE", "cardinality": "single"}, {"identifier": "SPARE", "cardinality": "single"}], "body": body});
        let section = json!({"identifier": "S", "title": "S", "visible": true, "keep_together": false, "shuffle": false, "rubric_blocks": [], "parts": [item]});
        serde_json::from_value(json!({"identifier": "T", "title": "T", "item_count": 1, "notices": [], "test_parts": [
            {"identifier": "P", "navigation_mode": "nonlinear", "submission_mode": "simultaneous", "sections": [section]}]}))
        .expect("a test model")
    }

    /// Issue 15: a save with a value the interaction cannot give (a choice
    /// it does not offer, too many choices, a pair of unknown parts, an
    /// object for text) is refused; every value the kiosk's own UI sends
    /// fits, and `null` (a cleared answer) always does.
    #[test]
    fn values_are_checked_against_the_interaction() {
        let ids = AnswerIds::of(&every_interaction());
        let fits = |response: &str, value: serde_json::Value| ids.check("ITM", &[(response, &value)]);
        for (response, value) in [
            ("ONE", json!("A")),
            ("ONE", json!(["B"])),
            ("ONE", json!(null)),
            ("TWO", json!(["A", "C"])),
            ("ORDER", json!(["Y", "X"])),
            ("TEXT", json!("vrije tekst, ook \"NOT-A-CHOICE\"")),
            ("TEXT", json!(["regel", 3])),
            ("MATCH", json!(["S1 T2", "S2 T1"])),
            ("MATCH", json!("S1 T1")),
            ("INLINE", json!("nee")),
            ("GAPS", json!(["W1 G2", "W2 G1"])),
            ("SPARE", json!("gedeclareerd zonder interactie")),
        ] {
            assert_eq!(fits(response, value.clone()), Ok(()), "{response} = {value}");
        }
        for (response, value) in [
            ("ONE", json!("Z")),
            ("ONE", json!(["A", "B"])),
            ("TWO", json!(["A", "B", "C"])),
            ("TWO", json!(["A", "A"])),
            ("TWO", json!([{"id": "A"}])),
            ("ORDER", json!(["X", "Q"])),
            ("TEXT", json!({"op": "iets"})),
            ("TEXT", json!([[1]])),
            ("MATCH", json!(["S1 T1", "S2 T2", "S1 T2"])),
            ("MATCH", json!("T1 S1")),
            ("MATCH", json!("S1")),
            ("INLINE", json!(["ja"])),
            ("INLINE", json!("misschien")),
            ("GAPS", json!("G1 W1")),
            ("GAPS", json!(["W1 G1", "W1 G1"])),
        ] {
            assert!(matches!(fits(response, value.clone()), Err(AnswerIdError::UnfitValue { .. })), "{response} = {value} must not fit");
        }
        let message = fits("ONE", json!("Z")).unwrap_err().to_string();
        assert_eq!(message, "het antwoord 'ONE' van onderdeel 'ITM' past niet bij de vraag (geen keuze 'Z')");
    }

    /// The most values each response can have, for the hub's own check
    /// (session 17): a gap holds one choice, so two gaps take two pairs
    /// even with `max-associations` 0 (was: every choice in every gap).
    #[test]
    fn the_most_values_each_interaction_gives() {
        let ids = AnswerIds::of(&every_interaction());
        let most = |response: &str| ids.max_values("ITM", response);
        assert_eq!(
            [most("ONE"), most("TWO"), most("ORDER"), most("TEXT"), most("MATCH"), most("INLINE"), most("GAPS"), most("SPARE")],
            [Some(1), Some(2), Some(2), None, Some(2), Some(1), Some(2), None]
        );
    }
}
