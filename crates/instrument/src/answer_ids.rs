//! Which answers the running instrument can have: a save names an item of
//! the test (its reference identifier) and responses that item declares or
//! one of its interactions uses. Computed once from the typed render model
//! when the test opens ([`AnswerIds::of`]); each save is then a lookup.

use crate::qti::{AssessmentTest, Node, Section, SectionPart};
use std::collections::HashMap;

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
}

/// Which answers each item of a test can have, computed once when the test
/// opens (a save is then one lookup): the item's reference identifier, with
/// the responses it declares and those its interactions use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswerIds {
    items: HashMap<String, Vec<String>>,
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

    /// Checks that `item` is an item of the test and that each of
    /// `responses` is declared by it or used by one of its interactions.
    pub fn check(&self, item: &str, responses: &[&str]) -> Result<(), AnswerIdError> {
        let known = self.items.get(item).ok_or_else(|| AnswerIdError::UnknownItem(item.to_owned()))?;
        match responses.iter().find(|r| !known.iter().any(|k| k == *r)) {
            Some(response) => Err(AnswerIdError::UnknownResponse { item: item.to_owned(), response: (*response).to_owned() }),
            None => Ok(()),
        }
    }
}

fn collect(section: &Section, items: &mut HashMap<String, Vec<String>>) {
    for part in &section.parts {
        match part {
            SectionPart::Section(sub) => collect(sub, items),
            SectionPart::Item(item) => {
                let mut known: Vec<String> = item.responses.iter().map(|r| r.identifier.clone()).collect();
                item.body.iter().for_each(|node| interaction_responses(node, &mut known));
                items.insert(item.ref_identifier.clone(), known);
            }
        }
    }
}

/// Every interaction's response identifier in `node` and below. One arm per
/// kind of node, without a catch-all: a new interaction does not compile
/// until it says which response it uses.
fn interaction_responses(node: &Node, out: &mut Vec<String>) {
    let all = |nodes: &[Node], out: &mut Vec<String>| nodes.iter().for_each(|n| interaction_responses(n, out));
    match node {
        Node::Text { .. } | Node::Image { .. } | Node::Gap { .. } => {}
        Node::Element { children, .. } => all(children, out),
        Node::RubricBlock(block) => all(&block.content, out),
        Node::ChoiceInteraction(i) => {
            out.push(i.response_identifier.clone());
            all(&i.prompt, out);
            i.choices.iter().for_each(|c| all(&c.content, out));
        }
        Node::OrderInteraction(i) => {
            out.push(i.response_identifier.clone());
            all(&i.prompt, out);
            i.choices.iter().for_each(|c| all(&c.content, out));
        }
        Node::TextEntryInteraction(i) => out.push(i.response_identifier.clone()),
        Node::ExtendedTextInteraction(i) => {
            out.push(i.response_identifier.clone());
            all(&i.prompt, out);
        }
        Node::MatchInteraction(i) => {
            out.push(i.response_identifier.clone());
            all(&i.prompt, out);
            i.source.iter().chain(&i.target).for_each(|c| all(&c.content, out));
        }
        Node::InlineChoiceInteraction(i) => {
            out.push(i.response_identifier.clone());
            i.choices.iter().for_each(|c| all(&c.content, out));
        }
        Node::GapMatchInteraction(i) => {
            out.push(i.response_identifier.clone());
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
        assert_eq!(ids.check("ITM-1", &["RESPONSE"]), Ok(()));
        assert_eq!(ids.check("ITM-2", &["GAP-1"]), Ok(()), "used by an interaction in a subsection");
        assert_eq!(ids.check("../../../../tmp/x", &["RESPONSE"]), Err(AnswerIdError::UnknownItem("../../../../tmp/x".into())));
        assert_eq!(ids.check("NOT-AN-ITEM", &[]), Err(AnswerIdError::UnknownItem("NOT-AN-ITEM".into())));
        assert!(matches!(ids.check("ITM-1", &["RESPONSE", "X"]), Err(AnswerIdError::UnknownResponse { .. })));
        assert!(matches!(AnswerIds::default().check("ITM-1", &[]), Err(AnswerIdError::UnknownItem(_))));
    }
}
