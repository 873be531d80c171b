//! Which answers the running instrument can have: a save names an item of
//! the test (its reference identifier) and responses that item declares or
//! one of its interactions uses. Read from the render model the kiosk holds
//! ([`super::qti::Instrument::render_json`]): only the test's outline and
//! the one item saved are walked, so a check costs little per save.

use serde_json::Value;

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

/// Checks that `item` is an item of the test in `model` and that each of
/// `responses` is declared by it or used by one of its interactions.
pub fn check(model: &Value, item: &str, responses: &[&str]) -> Result<(), AnswerIdError> {
    let found = model
        .get("test_parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|part| part.get("sections").and_then(Value::as_array).into_iter().flatten())
        .find_map(|section| find_item(section, item));
    let Some(found) = found else { return Err(AnswerIdError::UnknownItem(item.to_owned())) };
    let mut known: Vec<&str> = found
        .get("responses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("identifier").and_then(Value::as_str))
        .collect();
    if let Some(body) = found.get("body") {
        interaction_responses(body, &mut known);
    }
    match responses.iter().find(|r| !known.contains(r)) {
        Some(response) => Err(AnswerIdError::UnknownResponse { item: item.to_owned(), response: (*response).to_owned() }),
        None => Ok(()),
    }
}

/// The item `reference` in a section (or its subsections).
fn find_item<'a>(section: &'a Value, reference: &str) -> Option<&'a Value> {
    section.get("parts").and_then(Value::as_array)?.iter().find_map(|part| match part.get("kind").and_then(Value::as_str) {
        Some("item") => (part.get("ref_identifier").and_then(Value::as_str) == Some(reference)).then_some(part),
        Some("section") => find_item(part, reference),
        _ => None,
    })
}

/// Every `response_identifier` in an item's body.
fn interaction_responses<'a>(node: &'a Value, out: &mut Vec<&'a str>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("response_identifier", Value::String(id)) => out.push(id),
                    _ => interaction_responses(value, out),
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|v| interaction_responses(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn model() -> Value {
        json!({"test_parts": [{"sections": [{"parts": [
            {"kind": "item", "ref_identifier": "ITM-1", "responses": [{"identifier": "RESPONSE"}], "body": []},
            {"kind": "section", "parts": [
                {"kind": "item", "ref_identifier": "ITM-2", "responses": [],
                 "body": [{"kind": "element", "children": [{"kind": "text-entry-interaction", "response_identifier": "GAP-1"}]}]}
            ]}
        ]}]}]})
    }

    #[test]
    fn only_items_and_responses_of_the_instrument() {
        assert_eq!(check(&model(), "ITM-1", &["RESPONSE"]), Ok(()));
        assert_eq!(check(&model(), "ITM-2", &["GAP-1"]), Ok(()), "used by an interaction in a subsection");
        assert_eq!(check(&model(), "../../../../tmp/x", &["RESPONSE"]), Err(AnswerIdError::UnknownItem("../../../../tmp/x".into())));
        assert_eq!(check(&model(), "NOT-AN-ITEM", &[]), Err(AnswerIdError::UnknownItem("NOT-AN-ITEM".into())));
        assert!(matches!(check(&model(), "ITM-1", &["RESPONSE", "X"]), Err(AnswerIdError::UnknownResponse { .. })));
        assert!(matches!(check(&json!({}), "ITM-1", &[]), Err(AnswerIdError::UnknownItem(_))));
    }
}
