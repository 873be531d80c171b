//! Issue 18: a standard template and the same template written out as
//! custom response processing score the same — both read by the importer,
//! both run by the one evaluator the hub uses. The written-out rules are
//! the templates' published texts (QTI 3 `rptemplates`, Common Cartridge's
//! CC2 templates), in full, feedback parts included.

use exam_instrument::qti::import;
use exam_protocol::scoring::{score, ItemScoring};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const MANIFEST: &str = r#"<manifest identifier="M"><resources><resource identifier="t" type="imsqti_test_xmlv3p0" href="test.xml"><file href="test.xml"/></resource></resources></manifest>"#;
const TEST: &str = r#"<qti-assessment-test identifier="T" title="T"><qti-test-part identifier="P" navigation-mode="linear" submission-mode="individual"><qti-assessment-section identifier="S" title="S"><qti-assessment-item-ref identifier="template" href="template.xml"/><qti-assessment-item-ref identifier="rules" href="rules.xml"/></qti-assessment-section></qti-test-part></qti-assessment-test>"#;

const MATCH_CORRECT: &str = r#"<qti-response-condition><qti-response-if><qti-match><qti-variable identifier="RESPONSE"/><qti-correct identifier="RESPONSE"/></qti-match>
<qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">1</qti-base-value></qti-set-outcome-value></qti-response-if>
<qti-response-else><qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">0</qti-base-value></qti-set-outcome-value></qti-response-else></qti-response-condition>"#;
const MAP_RESPONSE: &str = r#"<qti-response-condition><qti-response-if><qti-is-null><qti-variable identifier="RESPONSE"/></qti-is-null>
<qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">0.0</qti-base-value></qti-set-outcome-value></qti-response-if>
<qti-response-else><qti-set-outcome-value identifier="SCORE"><qti-map-response identifier="RESPONSE"/></qti-set-outcome-value></qti-response-else></qti-response-condition>"#;
const MAP_RESPONSE_POINT: &str = r#"<qti-response-condition><qti-response-if><qti-is-null><qti-variable identifier="RESPONSE"/></qti-is-null>
<qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">0</qti-base-value></qti-set-outcome-value></qti-response-if>
<qti-response-else><qti-set-outcome-value identifier="SCORE"><qti-map-response-point identifier="RESPONSE"/></qti-set-outcome-value></qti-response-else></qti-response-condition>"#;
const CC2_MATCH_BASIC: &str = r#"<qti-response-condition><qti-response-if><qti-match><qti-variable identifier="RESPONSE"/><qti-correct identifier="RESPONSE"/></qti-match>
<qti-set-outcome-value identifier="SCORE"><qti-variable identifier="MAXSCORE"/></qti-set-outcome-value>
<qti-set-outcome-value identifier="FEEDBACKBASIC"><qti-base-value base-type="identifier">correct</qti-base-value></qti-set-outcome-value></qti-response-if>
<qti-response-else><qti-set-outcome-value identifier="FEEDBACKBASIC"><qti-base-value base-type="identifier">incorrect</qti-base-value></qti-set-outcome-value></qti-response-else></qti-response-condition>"#;
const CC2_FEEDBACK: &str = r#"<qti-response-condition><qti-response-if><qti-equal tolerance-mode="exact"><qti-variable identifier="MAXSCORE"/><qti-variable identifier="SCORE"/></qti-equal>
<qti-set-outcome-value identifier="FEEDBACK"><qti-base-value base-type="identifier">correct</qti-base-value></qti-set-outcome-value></qti-response-if>
<qti-response-else><qti-set-outcome-value identifier="FEEDBACK"><qti-base-value base-type="identifier">incorrect</qti-base-value></qti-set-outcome-value></qti-response-else></qti-response-condition>"#;

const OUTCOMES: &str = r#"<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"><qti-default-value><qti-value>0</qti-value></qti-default-value></qti-outcome-declaration>
<qti-outcome-declaration identifier="MAXSCORE" cardinality="single" base-type="float"><qti-default-value><qti-value>3</qti-value></qti-default-value></qti-outcome-declaration>
<qti-outcome-declaration identifier="FEEDBACK" cardinality="single" base-type="identifier"/>
<qti-outcome-declaration identifier="FEEDBACKBASIC" cardinality="single" base-type="identifier"/>"#;

fn item(id: &str, response: &str, body: &str, processing: &str) -> String {
    format!("<qti-assessment-item identifier=\"{id}\" title=\"{id}\">\n{response}\n{OUTCOMES}\n<qti-item-body>{body}</qti-item-body>\n{processing}\n</qti-assessment-item>")
}

/// Imports the template item and its written-out twin.
fn pair(uri: &str, rules: &str, response: &str, body: &str) -> (ItemScoring, ItemScoring) {
    let files: BTreeMap<&str, String> = [
        ("imsmanifest.xml", MANIFEST.to_string()),
        ("test.xml", TEST.to_string()),
        ("template.xml", item("template", response, body, &format!("<qti-response-processing template=\"{uri}\"/>"))),
        ("rules.xml", item("rules", response, body, &format!("<qti-response-processing>{rules}</qti-response-processing>"))),
    ]
    .into_iter()
    .collect();
    let instrument = import(&|p: &str| files.get(p).map(|s| s.as_bytes())).unwrap();
    let mut items = instrument.scoring.items.into_iter();
    (items.next().unwrap(), items.next().unwrap())
}

fn same_scores(uri: &str, rules: &str, response: &str, body: &str, answers: &[Value], expected: &[f64]) {
    let (template, written) = pair(uri, rules, response, body);
    assert!(matches!(written.processing, exam_protocol::scoring::Processing::Custom { rules: Some(_), .. }), "{uri}");
    for (answer, want) in answers.iter().zip(expected) {
        let given: BTreeMap<String, Value> = [("RESPONSE".to_string(), answer.clone())].into_iter().collect();
        let a = score(&template, &given).unwrap_or_else(|e| panic!("{uri}: {e}"));
        let b = score(&written, &given).unwrap_or_else(|e| panic!("{uri} written out: {e}"));
        assert_eq!(a.score, b.score, "{uri} {answer}");
        assert_eq!(a.score, *want, "{uri} {answer}");
        assert_eq!(a.max_score, b.max_score, "{uri} {answer}");
    }
}

const CHOICE: &str = r#"<qti-choice-interaction response-identifier="RESPONSE" max-choices="0"><qti-simple-choice identifier="A">a</qti-simple-choice><qti-simple-choice identifier="B">b</qti-simple-choice><qti-simple-choice identifier="C">c</qti-simple-choice></qti-choice-interaction>"#;
const MULTIPLE: &str = r#"<qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="identifier"><qti-correct-response><qti-value>A</qti-value><qti-value>C</qti-value></qti-correct-response>
<qti-mapping default-value="-1" lower-bound="0" upper-bound="2.5"><qti-map-entry map-key="A" mapped-value="1.5"/><qti-map-entry map-key="C" mapped-value="1"/></qti-mapping></qti-response-declaration>"#;

#[test]
fn every_template_scores_as_its_written_out_rules() {
    let answers = [json!(["A", "C"]), json!(["C", "A"]), json!(["A"]), json!(["A", "B"]), json!(["B"]), json!([]), Value::Null];
    for version in ["https://purl.imsglobal.org/spec/qti/v3p0/rptemplates", "http://www.imsglobal.org/question/qti_v2p1/rptemplates"] {
        let uri = |name: &str| format!("{version}/{name}.xml");
        same_scores(&uri("match_correct"), MATCH_CORRECT, MULTIPLE, CHOICE, &answers, &[1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        same_scores(&uri("map_response"), MAP_RESPONSE, MULTIPLE, CHOICE, &answers, &[2.5, 2.5, 1.5, 0.5, 0.0, 0.0, 0.0]);
    }
    let cc2 = |name: &str| format!("https://www.imsglobal.org/question/qti_v3p0/rptemplates/{name}.xml");
    same_scores(&cc2("CC2_match"), MATCH_CORRECT, MULTIPLE, CHOICE, &answers, &[1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    same_scores(&cc2("CC2_match_basic"), CC2_MATCH_BASIC, MULTIPLE, CHOICE, &answers, &[3.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    same_scores(&cc2("CC2_map_response"), &format!("{MAP_RESPONSE}{CC2_FEEDBACK}"), MULTIPLE, CHOICE, &answers, &[2.5, 2.5, 1.5, 0.5, 0.0, 0.0, 0.0]);
    // map_response_point: an area mapping (the interaction is another's; a
    // choice interaction of two choices carries up to two points here, only
    // the scoring is compared).
    let point = r#"<qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="point"><qti-area-mapping default-value="0" upper-bound="3">
<qti-area-map-entry shape="circle" coords="10,10,5" mapped-value="1"/><qti-area-map-entry shape="rect" coords="50,50,60,60" mapped-value="2.5"/></qti-area-mapping></qti-response-declaration>"#;
    let points = [json!(["10 10"]), json!(["10 10", "55 52"]), json!(["90 90"]), json!([])];
    let body = r#"<qti-choice-interaction response-identifier="RESPONSE" max-choices="0"><qti-simple-choice identifier="A">a</qti-simple-choice><qti-simple-choice identifier="B">b</qti-simple-choice></qti-choice-interaction>"#;
    let (template, _) = pair("https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response_point.xml", MAP_RESPONSE_POINT, point, body);
    assert!(template.responses[0].area_mapping.is_some());
    same_scores("https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response_point.xml", MAP_RESPONSE_POINT, point, body, &points, &[1.0, 3.0, 0.0, 0.0]);
}

/// Response processing that reads a template variable (`2 × A`, A drawn at
/// pack time) scores against the value fixed in the package: the template
/// variables travel in the scoring data as constants. Before, the hub's
/// evaluator found no variable A and the item fell to a person.
#[test]
fn response_processing_reads_the_template_values_fixed_at_pack_time() {
    let item = r#"<qti-assessment-item identifier="twice" title="twice">
<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="integer"/>
<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"><qti-default-value><qti-value>0</qti-value></qti-default-value></qti-outcome-declaration>
<qti-template-declaration identifier="A" cardinality="single" base-type="integer" math-variable="true"/>
<qti-template-processing><qti-set-template-value identifier="A"><qti-random-integer min="3" max="9"/></qti-set-template-value></qti-template-processing>
<qti-item-body><p>Twee keer <qti-printed-variable identifier="A"/> is</p><qti-text-entry-interaction response-identifier="RESPONSE"/></qti-item-body>
<qti-response-processing><qti-response-condition><qti-response-if><qti-equal tolerance-mode="exact"><qti-variable identifier="RESPONSE"/><qti-product><qti-base-value base-type="integer">2</qti-base-value><qti-variable identifier="A"/></qti-product></qti-equal>
<qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">1</qti-base-value></qti-set-outcome-value></qti-response-if></qti-response-condition></qti-response-processing>
</qti-assessment-item>"#;
    let test = TEST.replace(r#"<qti-assessment-item-ref identifier="rules" href="rules.xml"/>"#, "").replace("template.xml", "twice.xml");
    let files: BTreeMap<&str, String> =
        [("imsmanifest.xml", MANIFEST.to_string()), ("test.xml", test), ("twice.xml", item.to_string())].into_iter().collect();
    let instrument = import(&|p: &str| files.get(p).map(|s| s.as_bytes())).unwrap();
    // The value shown to the student is the one the scoring uses.
    let shown = serde_json::to_string(&instrument.test).unwrap();
    let a: i64 = (3..=9).find(|n| shown.contains(&format!("\"{n}\""))).unwrap_or_else(|| panic!("no value of A shown: {shown}"));
    let scoring = &instrument.scoring.items[0];
    let given = |v: i64| -> BTreeMap<String, Value> { [("RESPONSE".to_string(), json!(v.to_string()))].into_iter().collect() };
    assert_eq!(score(scoring, &given(2 * a)).unwrap().score, 1.0);
    assert_eq!(score(scoring, &given(2 * a + 1)).unwrap().score, 0.0);
    // Compared unchanged, A is the answer itself: printing it is refused.
    let keyed = item.replace(r#"<qti-product><qti-base-value base-type="integer">2</qti-base-value><qti-variable identifier="A"/></qti-product>"#, r#"<qti-variable identifier="A"/>"#);
    assert_ne!(keyed, item);
    let files: BTreeMap<&str, String> = files.into_iter().map(|(k, v)| (k, if k == "twice.xml" { keyed.clone() } else { v })).collect();
    let err = import(&|p: &str| files.get(p).map(|s| s.as_bytes())).unwrap_err();
    assert!(err.to_string().contains("would show the key"), "{err}");
}
