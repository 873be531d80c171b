//! Answer shapes of the interactions in `qti_inter.rs` (hottext, associate,
//! slider, upload, drawing, end attempt, media). A child module of
//! [`super`] (declared there with `#[path]`).

use super::{clip, ids, interaction_responses, within, Shape};
use crate::qti::{Node, ResponseInfo};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// The values of the responses these interactions give.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum InterShape {
    /// Unordered pairs `"A B"` of one set of choices (associate): `A != B`,
    /// each pair once in either order, each choice in at most its
    /// `match_max` pairs (0: no limit), at most `max` pairs (0: no limit).
    Associations { match_max: HashMap<String, u32>, max: u32 },
    /// One number from `lower` to `upper`, on a step from `lower` (slider);
    /// a whole number when the response is declared `integer`.
    Number { lower: f64, upper: f64, step: Option<f64>, integer: bool },
    /// How often a media file was played: a whole number from 0, at most
    /// `max` (0: no limit).
    PlayCount { max: u32 },
    /// Nothing the kiosk can give (upload, drawing, end attempt): only
    /// `null` fits.
    Nothing { why: &'static str },
}

// A Shape is compared in tests only; f64 bounds are never NaN (the importer
// refuses non-finite numbers).
impl Eq for InterShape {}

impl InterShape {
    /// Applies what the item declares about the response (its base type).
    pub(super) fn declared(&mut self, response: Option<&ResponseInfo>) {
        if let InterShape::Number { integer, .. } = self {
            *integer = response.and_then(|r| r.base_type.as_deref()) == Some("integer");
        }
    }

    /// The most values the response can have (`None`: no limit known).
    pub(super) fn max_values(&self) -> Option<usize> {
        match self {
            InterShape::Nothing { .. } => Some(0),
            InterShape::Number { .. } | InterShape::PlayCount { .. } => Some(1),
            InterShape::Associations { match_max, max } => {
                let n = match_max.len();
                Some(super::limit(*max, n.saturating_mul(n.saturating_sub(1)) / 2))
            }
        }
    }

    pub(super) fn fits(&self, value: &Value) -> Result<(), String> {
        match self {
            InterShape::Nothing { why } => Err((*why).to_owned()),
            InterShape::Number { lower, upper, step, integer } => {
                let x = value.as_f64().ok_or("een getal verwacht")?;
                if x < *lower || x > *upper {
                    return Err(format!("{x} ligt niet tussen {lower} en {upper}"));
                }
                let on = |step: f64| {
                    let n = (x - lower) / step;
                    (n - n.round()).abs() <= 1e-9 * n.abs().max(1.0)
                };
                if *integer && !(value.is_i64() || value.is_u64()) {
                    return Err(format!("{x} is geen geheel getal"));
                }
                match step {
                    Some(s) if !on(*s) => Err(format!("{x} ligt niet op een stap van {s} vanaf {lower}")),
                    _ => Ok(()),
                }
            }
            InterShape::PlayCount { max } => {
                let n = value.as_u64().ok_or("het aantal keer afspelen is geen geheel getal vanaf 0")?;
                if *max > 0 && n > u64::from(*max) {
                    return Err(format!("{n} keer afgespeeld, ten hoogste {max}"));
                }
                Ok(())
            }
            InterShape::Associations { match_max, max } => {
                let values: Vec<&Value> = match value {
                    Value::Array(list) => list.iter().collect(),
                    single => vec![single],
                };
                let mut seen = HashSet::new();
                let mut uses: HashMap<&str, u32> = HashMap::new();
                for v in &values {
                    let pair = v.as_str().ok_or("een paar is geen tekst")?;
                    let (a, b) = pair.split_once(' ').ok_or_else(|| format!("'{}' is geen paar", clip(pair)))?;
                    if a == b || !match_max.contains_key(a) || !match_max.contains_key(b) {
                        return Err(format!("geen paar '{}'", clip(pair)));
                    }
                    let key = if a < b { (a, b) } else { (b, a) };
                    if !seen.insert(key) {
                        return Err(format!("paar '{}' twee keer", clip(pair)));
                    }
                    for id in [a, b] {
                        let used = uses.entry(id).or_default();
                        *used += 1;
                        let limit = match_max[id];
                        if limit > 0 && *used > limit {
                            return Err(format!("'{}' in {used} paren, ten hoogste {limit}", clip(id)));
                        }
                    }
                }
                within(values.len(), *max)
            }
        }
    }
}

/// The responses `node` (one of this module's interactions) gives, with
/// their shapes, and those of interactions inside it.
pub(super) fn responses(node: &Node, out: &mut Vec<(String, Shape)>) {
    let all = |nodes: &[Node], out: &mut Vec<(String, Shape)>| nodes.iter().for_each(|n| interaction_responses(n, out));
    match node {
        Node::HottextInteraction(i) => {
            let mut found = Vec::new();
            crate::qti::hottext_ids(&i.content, &mut found);
            out.push((i.response_identifier.clone(), Shape::Choices { ids: ids(&found), max: i.max_choices, list: true }));
            all(&i.prompt, out);
            all(&i.content, out);
        }
        Node::Hottext(h) => all(&h.content, out),
        Node::AssociateInteraction(i) => {
            let match_max = i.choices.iter().map(|c| (c.identifier.clone(), c.match_max)).collect();
            out.push((i.response_identifier.clone(), Shape::Inter(InterShape::Associations { match_max, max: i.max_associations })));
            all(&i.prompt, out);
            i.choices.iter().for_each(|c| all(&c.content, out));
        }
        Node::SliderInteraction(i) => {
            let shape = InterShape::Number { lower: i.lower_bound, upper: i.upper_bound, step: i.step, integer: false };
            out.push((i.response_identifier.clone(), Shape::Inter(shape)));
            all(&i.prompt, out);
        }
        Node::UploadInteraction(i) => {
            out.push((i.response_identifier.clone(), Shape::Inter(InterShape::Nothing { why: "een bestand kan in deze afname niet" })));
            all(&i.prompt, out);
        }
        Node::DrawingInteraction(i) => {
            out.push((i.response_identifier.clone(), Shape::Inter(InterShape::Nothing { why: "tekenen kan in deze afname niet" })));
            all(&i.prompt, out);
        }
        Node::EndAttemptInteraction(i) => {
            out.push((i.response_identifier.clone(), Shape::Inter(InterShape::Nothing { why: "een poging beëindigen kan in een examen niet" })));
        }
        Node::MediaInteraction(i) => {
            out.push((i.response_identifier.clone(), Shape::Inter(InterShape::PlayCount { max: i.max_plays })));
            all(&i.prompt, out);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::answer_ids::{AnswerIdError, AnswerIds};
    use crate::qti::AssessmentTest;
    use serde_json::json;

    /// One item with each of these interactions, as the render model has it.
    fn model() -> AssessmentTest {
        let associable = |id: &str, max: u32| json!({"identifier": id, "match_max": max, "match_min": 0, "fixed": false, "content": [{"type": "text", "text": id}]});
        let hottext = |id: &str| json!({"type": "hottext", "identifier": id, "content": [{"type": "text", "text": id}]});
        let body = json!([
            {"type": "hottext-interaction", "response_identifier": "HOT", "max_choices": 2, "min_choices": 0, "class": [], "prompt": [],
             "content": [{"type": "element", "tag": "p", "attrs": {}, "children": [hottext("H1"), hottext("H2"), hottext("H3")]}]},
            {"type": "associate-interaction", "response_identifier": "PAIRS", "shuffle": false, "max_associations": 2, "min_associations": 0, "class": [], "prompt": [],
             "choices": [associable("A", 1), associable("B", 1), associable("C", 0), associable("D", 1)]},
            {"type": "slider-interaction", "response_identifier": "INT", "lower_bound": 0.0, "upper_bound": 1000.0, "step": 50.0, "step_label": false, "reverse": false, "class": [], "prompt": []},
            {"type": "slider-interaction", "response_identifier": "FLOAT", "lower_bound": -1.5, "upper_bound": 1.5, "step": 0.1, "step_label": false, "reverse": false, "class": [], "prompt": []},
            {"type": "slider-interaction", "response_identifier": "FREE", "lower_bound": 0.0, "upper_bound": 1.0, "step_label": false, "reverse": false, "class": [], "prompt": []},
            {"type": "upload-interaction", "response_identifier": "FILE", "class": [], "prompt": []},
            {"type": "drawing-interaction", "response_identifier": "DRAW", "class": [], "prompt": []},
            {"type": "end-attempt-interaction", "response_identifier": "END", "title": "Klaar"},
            {"type": "media-interaction", "response_identifier": "PLAYS", "kind": "audio", "sources": [{"src": "a.mp3", "mime": "audio/mpeg"}], "autostart": false,
             "min_plays": 0, "max_plays": 2, "loop": false, "class": [], "prompt": []},
            {"type": "media-interaction", "response_identifier": "ANY", "kind": "video", "sources": [{"src": "a.mp4", "mime": "video/mp4"}], "autostart": false,
             "min_plays": 0, "max_plays": 0, "loop": false, "class": [], "prompt": []}
        ]);
        let responses = json!([{"identifier": "INT", "cardinality": "single", "base_type": "integer"}, {"identifier": "FLOAT", "cardinality": "single", "base_type": "float"}]);
        let item = json!({"kind": "item", "ref_identifier": "ITM", "identifier": "ITM", "href": "i.xml", "title": "i", "categories": [], "required": false,
                          "stylesheets": [], "responses": responses, "body": body});
        let section = json!({"identifier": "S", "title": "S", "visible": true, "keep_together": false, "shuffle": false, "rubric_blocks": [], "parts": [item]});
        serde_json::from_value(json!({"identifier": "T", "title": "T", "item_count": 1, "notices": [], "test_parts": [
            {"identifier": "P", "navigation_mode": "nonlinear", "submission_mode": "simultaneous", "sections": [section]}]}))
        .expect("a test model")
    }

    /// Issue 18: each new interaction's values are checked like the others'
    /// (issue 15): what its UI saves fits, what it cannot give is refused.
    #[test]
    fn values_of_the_other_interactions_are_checked() {
        let ids = AnswerIds::of(&model());
        let fits = |response: &str, value: serde_json::Value| ids.check("ITM", &[(response, &value)]);
        for (response, value) in [
            ("HOT", json!(["H1", "H3"])),
            ("HOT", json!("H2")),
            ("PAIRS", json!(["A B", "C D"])),
            ("PAIRS", json!(["B A", "C D"])),
            ("PAIRS", json!("A C")),
            ("INT", json!(600)),
            ("INT", json!(0)),
            ("INT", json!(1000)),
            ("FLOAT", json!(-1.5)),
            ("FLOAT", json!(0.3)),
            ("FLOAT", json!(1.5)),
            ("FREE", json!(0.123)),
            ("PLAYS", json!(2)),
            ("PLAYS", json!(0)),
            ("ANY", json!(17)),
            ("FILE", json!(null)),
            ("DRAW", json!(null)),
            ("END", json!(null)),
        ] {
            assert_eq!(fits(response, value.clone()), Ok(()), "{response} = {value}");
        }
        for (response, value) in [
            ("HOT", json!(["H1", "H2", "H3"])),
            ("HOT", json!("H9")),
            ("HOT", json!(["H1", "H1"])),
            ("PAIRS", json!(["A B", "B A"])),
            ("PAIRS", json!("A A")),
            ("PAIRS", json!(["A B", "A C"])),
            ("PAIRS", json!(["C A", "C B", "C D"])),
            ("PAIRS", json!("A Z")),
            ("PAIRS", json!("AB")),
            ("PAIRS", json!([{"a": "b"}])),
            ("INT", json!(625)),
            ("INT", json!(1050)),
            ("INT", json!(-50)),
            ("INT", json!(600.5)),
            ("INT", json!("600")),
            ("INT", json!([600])),
            ("FLOAT", json!(0.35)),
            ("FLOAT", json!(1.6)),
            ("FREE", json!(1.01)),
            ("PLAYS", json!(3)),
            ("PLAYS", json!(-1)),
            ("PLAYS", json!(1.5)),
            ("PLAYS", json!("1")),
            ("FILE", json!("C:\\Users\\x.xlsx")),
            ("DRAW", json!("data:image/png;base64,AAAA")),
            ("END", json!(true)),
        ] {
            assert!(matches!(fits(response, value.clone()), Err(AnswerIdError::UnfitValue { .. })), "{response} = {value} must not fit");
        }
        let message = fits("INT", json!(625)).unwrap_err().to_string();
        assert_eq!(message, "het antwoord 'INT' van onderdeel 'ITM' past niet bij de vraag (625 ligt niet op een stap van 50 vanaf 0)");
    }
}
