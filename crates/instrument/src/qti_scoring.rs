//! Reads an item's scoring side beyond the response declarations:
//! `qti-outcome-declaration`, `qti-area-mapping` and custom
//! `qti-response-processing`, into exam-protocol's typed rules (issue 18:
//! every accepted item is scored, or marked for a person).
//!
//! Nothing here refuses an item: response processing the importer cannot
//! read (an operator it does not know, such as `qti-random`) makes the item
//! one a person scores (`handmatig beoordelen`, with the reason), never a
//! silent zero. None of this reaches the render model.

use super::xml::{Element, XNode};
use exam_protocol::scoring::{
    Area, AreaMapEntry, AreaMapping, Branch, Cardinality, Expr, ItemSelection, LookupTable, NumberOf, OutcomeDeclaration, Processing,
    RoundingMode, Rule, Shape, ToleranceMode,
};

type Read<T> = Result<T, String>;

fn at(e: &Element, what: impl std::fmt::Display) -> String {
    format!("{what} ({} op regel {})", e.tag(), e.line)
}

fn attr<'e>(e: &'e Element, name: &str) -> Read<&'e str> {
    e.attr(name).ok_or_else(|| at(e, format_args!("{name} ontbreekt")))
}

fn float_attr(e: &Element, name: &str) -> Read<Option<f64>> {
    e.attr(name).map(|v| v.trim().parse::<f64>().map_err(|_| at(e, format_args!("{name}={v:?} is geen getal")))).transpose()
}

fn children(e: &Element) -> Read<Vec<&Element>> {
    if e.children.iter().any(|c| matches!(c, XNode::Text(t) if !t.trim().is_empty())) {
        return Err(at(e, "tekst waar elementen horen"));
    }
    Ok(e.elements().collect())
}

fn cardinality(e: &Element) -> Read<Cardinality> {
    Ok(match attr(e, "cardinality")? {
        "single" => Cardinality::Single,
        "multiple" => Cardinality::Multiple,
        "ordered" => Cardinality::Ordered,
        "record" => Cardinality::Record,
        other => return Err(at(e, format_args!("cardinality {other:?}"))),
    })
}

fn values(e: &Element) -> Read<Vec<String>> {
    children(e)?
        .into_iter()
        .map(|v| if v.name == "qti-value" { Ok(v.text().trim().to_string()) } else { Err(at(v, "verwacht qti-value")) })
        .collect()
}

/// `qti-outcome-declaration`.
pub fn outcome_declaration(e: &Element) -> Read<OutcomeDeclaration> {
    let mut decl = OutcomeDeclaration {
        identifier: attr(e, "identifier")?.to_string(),
        cardinality: cardinality(e)?,
        base_type: e.attr("base-type").map(String::from),
        default: Vec::new(),
        normal_maximum: float_attr(e, "normal-maximum")?,
        normal_minimum: float_attr(e, "normal-minimum")?,
        external_scored: e.attr("external-scored").map(String::from),
        lookup: None,
    };
    for child in children(e)? {
        match child.name.as_str() {
            "qti-default-value" => decl.default = values(child)?,
            "qti-match-table" => {
                let mut entries = Vec::new();
                for entry in children(child)? {
                    let source = attr(entry, "source-value")?;
                    let source = source.trim().parse().map_err(|_| at(entry, format_args!("source-value {source:?} is geen geheel getal")))?;
                    entries.push((source, attr(entry, "target-value")?.to_string()));
                }
                decl.lookup = Some(LookupTable::Match { default: child.attr("default-value").map(String::from), entries });
            }
            "qti-interpolation-table" => {
                let mut entries = Vec::new();
                for entry in children(child)? {
                    let source = float_attr(entry, "source-value")?.ok_or_else(|| at(entry, "source-value ontbreekt"))?;
                    let include = entry.attr("include-boundary").is_none_or(|v| v == "true");
                    entries.push((source, include, attr(entry, "target-value")?.to_string()));
                }
                decl.lookup = Some(LookupTable::Interpolation { default: child.attr("default-value").map(String::from), entries });
            }
            _ => return Err(at(child, "onbekend in qti-outcome-declaration")),
        }
    }
    Ok(decl)
}

fn area(e: &Element) -> Read<Area> {
    let shape = match attr(e, "shape")? {
        "circle" => Shape::Circle,
        "rect" => Shape::Rect,
        "poly" => Shape::Poly,
        "ellipse" => Shape::Ellipse,
        "default" => Shape::Default,
        other => return Err(at(e, format_args!("shape {other:?}"))),
    };
    let coords = e
        .attr("coords")
        .unwrap_or("")
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<f64>().map_err(|_| at(e, format_args!("coords {c:?} is geen getal"))))
        .collect::<Read<Vec<f64>>>()?;
    let needed = match shape {
        Shape::Circle => 3,
        Shape::Rect | Shape::Ellipse => 4,
        Shape::Poly => 6,
        Shape::Default => 0,
    };
    if coords.len() < needed || (shape == Shape::Poly && coords.len() % 2 == 1) {
        return Err(at(e, format_args!("{} coördinaten passen niet bij shape", coords.len())));
    }
    Ok(Area { shape, coords })
}

/// `qti-area-mapping`.
pub fn area_mapping(e: &Element) -> Read<AreaMapping> {
    let mut mapping = AreaMapping {
        default_value: float_attr(e, "default-value")?.unwrap_or(0.0),
        lower_bound: float_attr(e, "lower-bound")?,
        upper_bound: float_attr(e, "upper-bound")?,
        entries: Vec::new(),
    };
    for entry in children(e)? {
        if entry.name != "qti-area-map-entry" {
            return Err(at(entry, "verwacht qti-area-map-entry"));
        }
        let value = float_attr(entry, "mapped-value")?.ok_or_else(|| at(entry, "mapped-value ontbreekt"))?;
        mapping.entries.push(AreaMapEntry { area: area(entry)?, value });
    }
    Ok(mapping)
}

/// Custom `qti-response-processing` (no `template`): its rules, or — when
/// they cannot be read — no rules and the reason a person scores the item.
pub fn custom_processing(e: &Element) -> Processing {
    match rules(e, Level::Item) {
        Ok(rules) => Processing::Custom { rules: Some(rules), manual: None },
        Err(reason) => Processing::Custom { rules: None, manual: Some(reason) },
    }
}

/// The test's `qti-outcome-processing`: its rules, or why they cannot be
/// read (the hub then reports the sum of the item scores, saying so).
pub fn test_processing(e: &Element) -> Read<Vec<Rule>> {
    rules(e, Level::Test)
}

/// Item response processing and test outcome processing have the same
/// rules under other names.
#[derive(Clone, Copy)]
enum Level {
    Item,
    Test,
}

impl Level {
    fn name(self, part: &str) -> String {
        match (self, part) {
            (Level::Item, "exit") => "qti-exit-response".into(),
            (Level::Test, "exit") => "qti-exit-test".into(),
            (Level::Item, _) => format!("qti-response-{part}"),
            (Level::Test, _) => format!("qti-outcome-{part}"),
        }
    }
}

fn rules(e: &Element, level: Level) -> Read<Vec<Rule>> {
    children(e)?.into_iter().map(|r| rule(r, level)).collect()
}

fn rule(e: &Element, level: Level) -> Read<Rule> {
    let name = e.name.as_str();
    Ok(if name == level.name("condition") {
        let mut branches = Vec::new();
        let mut otherwise = Vec::new();
        for (i, part) in children(e)?.into_iter().enumerate() {
            let is = |p: &str| part.name == level.name(p);
            if ((is("if") && i == 0) || (is("else-if") && i > 0)) && otherwise.is_empty() {
                let mut inner = children(part)?.into_iter();
                let when = inner.next().ok_or_else(|| at(part, "zonder voorwaarde"))?;
                branches.push(Branch { when: expr(when)?, rules: inner.map(|r| rule(r, level)).collect::<Read<_>>()? });
            } else if is("else") && i > 0 && otherwise.is_empty() {
                otherwise = rules(part, level)?;
            } else {
                return Err(at(part, format_args!("staat niet op zijn plaats in {}", level.name("condition"))));
            }
        }
        if branches.is_empty() {
            return Err(at(e, format_args!("zonder {}", level.name("if"))));
        }
        Rule::Condition { branches, otherwise }
    } else if name == "qti-set-outcome-value" || name == "qti-lookup-outcome-value" {
        let identifier = attr(e, "identifier")?.to_string();
        let [value] = children(e)?[..] else { return Err(at(e, "heeft precies één expressie nodig")) };
        let value = expr(value)?;
        if name == "qti-set-outcome-value" {
            Rule::SetOutcome { identifier, value }
        } else {
            Rule::LookupOutcome { identifier, value }
        }
    } else if name == level.name("exit") {
        Rule::Exit
    } else if name == level.name("processing-fragment") {
        Rule::Fragment { rules: rules(e, level)? }
    } else {
        return Err(at(e, "onbekende regel"));
    })
}

/// `include-category` / `exclude-category`; a section selection is not
/// supported (the kiosk's sections are not tracked per item here).
fn selection(e: &Element) -> Read<ItemSelection> {
    if e.attr("section-identifier").is_some() {
        return Err(at(e, "section-identifier wordt niet ondersteund"));
    }
    let list = |name: &str| e.attr(name).map(|v| v.split_whitespace().map(String::from).collect()).unwrap_or_default();
    Ok(ItemSelection { include: list("include-category"), exclude: list("exclude-category") })
}

fn ident(e: &Element) -> Read<String> {
    Ok(attr(e, "identifier")?.to_string())
}

fn int_attr<T: std::str::FromStr>(e: &Element, name: &str) -> Read<T> {
    let v = attr(e, name)?;
    v.trim().parse().map_err(|_| at(e, format_args!("{name}={v:?} is geen geheel getal")))
}

fn bool_attr(e: &Element, name: &str, default: bool) -> Read<bool> {
    match e.attr(name) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(v) => Err(at(e, format_args!("{name}={v:?} is geen true/false"))),
    }
}

fn rounding(e: &Element) -> Read<RoundingMode> {
    Ok(match e.attr("rounding-mode").unwrap_or("significantFigures") {
        "significantFigures" => RoundingMode::SignificantFigures,
        "decimalPlaces" => RoundingMode::DecimalPlaces,
        other => return Err(at(e, format_args!("rounding-mode {other:?}"))),
    })
}

fn expr(e: &Element) -> Read<Expr> {
    let args = || -> Read<Vec<Expr>> { children(e)?.into_iter().map(expr).collect() };
    Ok(match e.name.as_str() {
        "qti-base-value" => Expr::BaseValue { base_type: attr(e, "base-type")?.to_string(), value: e.text().trim().to_string() },
        "qti-variable" => Expr::Variable { identifier: ident(e)? },
        "qti-correct" => Expr::Correct { identifier: ident(e)? },
        "qti-default" => Expr::Default { identifier: ident(e)? },
        "qti-map-response" => Expr::MapResponse { identifier: ident(e)? },
        "qti-map-response-point" => Expr::MapResponsePoint { identifier: ident(e)? },
        "qti-null" => Expr::Null,
        "qti-test-variables" => Expr::TestVariables {
            variable: attr(e, "variable-identifier")?.to_string(),
            weight: e.attr("weight-identifier").map(String::from),
            base_type: e.attr("base-type").map(String::from),
            items: selection(e)?,
        },
        "qti-outcome-maximum" | "qti-outcome-minimum" => Expr::OutcomeBound {
            outcome: attr(e, "outcome-identifier")?.to_string(),
            maximum: e.name == "qti-outcome-maximum",
            weight: e.attr("weight-identifier").map(String::from),
            items: selection(e)?,
        },
        "qti-number-selected" => Expr::Number { of: NumberOf::Selected, items: selection(e)? },
        "qti-number-presented" => Expr::Number { of: NumberOf::Presented, items: selection(e)? },
        "qti-number-responded" => Expr::Number { of: NumberOf::Responded, items: selection(e)? },
        "qti-number-correct" => Expr::Number { of: NumberOf::Correct, items: selection(e)? },
        "qti-number-incorrect" => Expr::Number { of: NumberOf::Incorrect, items: selection(e)? },
        "qti-is-null" => Expr::IsNull { args: args()? },
        "qti-match" => Expr::Match { args: args()? },
        "qti-member" => Expr::Member { args: args()? },
        "qti-contains" => Expr::Contains { args: args()? },
        "qti-delete" => Expr::Delete { args: args()? },
        "qti-equal" => {
            let tolerance_mode = match e.attr("tolerance-mode").unwrap_or("exact") {
                "exact" => ToleranceMode::Exact,
                "absolute" => ToleranceMode::Absolute,
                "relative" => ToleranceMode::Relative,
                other => return Err(at(e, format_args!("tolerance-mode {other:?}"))),
            };
            let tolerance = e
                .attr("tolerance")
                .unwrap_or("")
                .split_whitespace()
                .map(|t| t.parse::<f64>().map_err(|_| at(e, format_args!("tolerance {t:?} is geen getal (variabelen in tolerance worden niet ondersteund)"))))
                .collect::<Read<Vec<f64>>>()?;
            if tolerance_mode != ToleranceMode::Exact && tolerance.is_empty() {
                return Err(at(e, "tolerance ontbreekt"));
            }
            Expr::Equal {
                tolerance_mode,
                tolerance,
                include_lower_bound: bool_attr(e, "include-lower-bound", true)?,
                include_upper_bound: bool_attr(e, "include-upper-bound", true)?,
                args: args()?,
            }
        }
        "qti-equal-rounded" => Expr::EqualRounded { rounding_mode: rounding(e)?, figures: int_attr(e, "figures")?, args: args()? },
        "qti-round-to" => Expr::RoundTo { rounding_mode: rounding(e)?, figures: int_attr(e, "figures")?, args: args()? },
        "qti-lt" => Expr::Lt { args: args()? },
        "qti-gt" => Expr::Gt { args: args()? },
        "qti-lte" => Expr::Lte { args: args()? },
        "qti-gte" => Expr::Gte { args: args()? },
        "qti-and" => Expr::And { args: args()? },
        "qti-or" => Expr::Or { args: args()? },
        "qti-not" => Expr::Not { args: args()? },
        "qti-any-n" => Expr::AnyN { min: int_attr(e, "min")?, max: int_attr(e, "max")?, args: args()? },
        "qti-sum" => Expr::Sum { args: args()? },
        "qti-product" => Expr::Product { args: args()? },
        "qti-subtract" => Expr::Subtract { args: args()? },
        "qti-divide" => Expr::Divide { args: args()? },
        "qti-integer-divide" => Expr::IntegerDivide { args: args()? },
        "qti-integer-modulus" => Expr::IntegerModulus { args: args()? },
        "qti-power" => Expr::Power { args: args()? },
        "qti-round" => Expr::Round { args: args()? },
        "qti-truncate" => Expr::Truncate { args: args()? },
        "qti-max" => Expr::Max { args: args()? },
        "qti-min" => Expr::Min { args: args()? },
        "qti-gcd" => Expr::Gcd { args: args()? },
        "qti-lcm" => Expr::Lcm { args: args()? },
        "qti-multiple" => Expr::Multiple { args: args()? },
        "qti-ordered" => Expr::Ordered { args: args()? },
        "qti-container-size" => Expr::ContainerSize { args: args()? },
        "qti-index" => Expr::Index { n: int_attr(e, "n")?, args: args()? },
        "qti-field-value" => Expr::FieldValue { field_identifier: attr(e, "field-identifier")?.to_string(), args: args()? },
        "qti-string-match" => {
            Expr::StringMatch { case_sensitive: bool_attr(e, "case-sensitive", true)?, substring: bool_attr(e, "substring", false)?, args: args()? }
        }
        "qti-substring" => Expr::Substring { case_sensitive: bool_attr(e, "case-sensitive", true)?, args: args()? },
        "qti-inside" => Expr::Inside { area: area(e)?, args: args()? },
        "qti-random" => return Err(at(e, "toeval (qti-random) geeft geen vaste score")),
        "qti-pattern-match" => return Err(at(e, "patronen (qti-pattern-match) worden niet uitgevoerd")),
        _ => return Err(at(e, "onbekende bewerking")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use exam_protocol::scoring::{score, ItemScoring, ResponseDeclaration};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn parse(text: &str) -> Element {
        crate::xml::parse(text.as_bytes(), "t.xml").unwrap()
    }

    /// Kennisnet's ITEM005 (a hotspot on a picture, tests/fixtures/qti/
    /// scoring-parts): its area mapping and processing, read and run. The
    /// interaction itself is not rendered yet, so only the scoring part is read.
    #[test]
    fn kennisnet_item005_area_mapping_and_map_response_point() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/qti/scoring-parts/ITEM005.xml");
        let root = parse(&std::fs::read_to_string(path).unwrap());
        let mut item = ItemScoring {
            ref_identifier: "ITEM005".into(),
            identifier: "ITEM005".into(),
            weights: BTreeMap::new(),
            responses: Vec::new(),
            outcomes: Vec::new(),
            processing: Processing::None,
        };
        for e in root.elements() {
            match e.name.as_str() {
                "qti-response-declaration" => {
                    let mapping = e.elements().find(|m| m.name == "qti-area-mapping").unwrap();
                    item.responses.push(ResponseDeclaration {
                        identifier: e.attr("identifier").unwrap().into(),
                        cardinality: cardinality(e).unwrap(),
                        base_type: e.attr("base-type").map(String::from),
                        correct: Vec::new(),
                        mapping: None,
                        area_mapping: Some(area_mapping(mapping).unwrap()),
                        max_values: None,
                    });
                }
                "qti-outcome-declaration" => item.outcomes.push(outcome_declaration(e).unwrap()),
                "qti-response-processing" => item.processing = custom_processing(e),
                _ => {}
            }
        }
        let area = &item.responses[0].area_mapping.as_ref().unwrap().entries[0];
        assert_eq!((area.area.shape, area.area.coords.as_slice(), area.value), (Shape::Circle, &[685.0, 742.0, 60.0][..], 1.0));
        let given = |v: serde_json::Value| [("RESPONSE".to_string(), v)].into_iter().collect::<BTreeMap<_, _>>();
        assert_eq!(score(&item, &given(json!(["700 750"]))).unwrap().score, 1.0);
        assert_eq!(score(&item, &given(json!(["100 100"]))).unwrap().score, 0.0);
        assert_eq!(score(&item, &given(json!(null))).unwrap().score, 0.0);
        assert_eq!(score(&item, &given(json!([]))).unwrap().max_score, Some(1.0));
    }

    #[test]
    fn unknown_operators_and_broken_rules_are_for_a_person_with_the_reason() {
        let rp = |inner: &str| custom_processing(&parse(&format!("<qti-response-processing>\n{inner}\n</qti-response-processing>")));
        let reason = |p: Processing| match p {
            Processing::Custom { rules: None, manual: Some(reason) } => reason,
            other => panic!("{other:?}"),
        };
        let pattern = reason(rp(r#"<qti-set-outcome-value identifier="SCORE"><qti-pattern-match pattern="a+"><qti-variable identifier="R"/></qti-pattern-match></qti-set-outcome-value>"#));
        assert_eq!(pattern, "patronen (qti-pattern-match) worden niet uitgevoerd (<qti-pattern-match> op regel 2)");
        assert!(reason(rp(r#"<qti-set-outcome-value identifier="SCORE"><qti-custom-operator/></qti-set-outcome-value>"#)).starts_with("onbekende bewerking (<qti-custom-operator>"));
        assert!(reason(rp(r#"<qti-response-condition><qti-response-else/></qti-response-condition>"#)).contains("staat niet op zijn plaats"));
        assert!(reason(rp(r#"<qti-set-outcome-value identifier="SCORE"/>"#)).contains("precies één expressie"));
        assert!(reason(rp(r#"<qti-set-outcome-value identifier="SCORE"><qti-equal tolerance-mode="absolute"><qti-null/><qti-null/></qti-equal></qti-set-outcome-value>"#)).contains("tolerance ontbreekt"));
        // What is read: conditions in order, else-if, else.
        let Processing::Custom { rules: Some(rules), manual: None } = rp(
            r#"<qti-response-condition><qti-response-if><qti-null/></qti-response-if><qti-response-else-if><qti-null/><qti-exit-response/></qti-response-else-if><qti-response-else><qti-response-processing-fragment/></qti-response-else></qti-response-condition>"#,
        ) else {
            panic!()
        };
        let Rule::Condition { branches, otherwise } = &rules[0] else { panic!() };
        assert_eq!((branches.len(), branches[1].rules.as_slice(), otherwise.as_slice()), (2, &[Rule::Exit][..], &[Rule::Fragment { rules: vec![] }][..]));
    }

    #[test]
    fn outcome_declarations_with_defaults_bounds_and_tables() {
        let e = parse(
            r#"<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float" normal-maximum="2" external-scored="human">
            <qti-default-value><qti-value> 1 </qti-value></qti-default-value>
            <qti-match-table default-value="0"><qti-match-table-entry source-value="3" target-value="2"/></qti-match-table></qti-outcome-declaration>"#,
        );
        let d = outcome_declaration(&e).unwrap();
        assert_eq!((d.default.as_slice(), d.normal_maximum, d.external_scored.as_deref()), (&["1".to_string()][..], Some(2.0), Some("human")));
        assert_eq!(d.lookup, Some(LookupTable::Match { default: Some("0".into()), entries: vec![(3, "2".into())] }));
        assert!(outcome_declaration(&parse(r#"<qti-outcome-declaration identifier="X" cardinality="bag"/>"#)).is_err());
    }
}
