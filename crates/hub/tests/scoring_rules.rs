//! Issue 18, "every accepted item is scored, or marked for a person": real
//! public items with custom response processing (tests/fixtures/qti/scoring,
//! tests/fixtures/qti/kennisnet; sources in tests/fixtures/qti/SOURCES.md)
//! go through the importer, the scoring JSON the hub imports, and the hub's
//! `score_item`, answered right and wrong as the kiosk saves answers.

use exam_hub::reports::scoring::{score_item, HubScoring, ItemOutcome};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn files(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(root, &path, out);
        } else {
            let name = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.insert(name, std::fs::read(&path).unwrap());
        }
    }
}

/// The hub's view of a fixture package: imported, written as the scoring
/// JSON (`kioskctl instrument render --scoring`), read back by the hub.
fn hub_scoring(fixture: &str) -> HubScoring {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/qti").join(fixture);
    let mut all = BTreeMap::new();
    files(&root, &root, &mut all);
    let instrument = exam_instrument::qti::import(&|p: &str| all.get(p).map(Vec::as_slice)).unwrap();
    for item in instrument.report() {
        assert!(item.scoring.automatic(), "{}: {}", item.identifier, item.scoring);
        assert_eq!(item.scoring.to_string(), "eigen verwerking (gescoord door de hub)");
    }
    HubScoring::parse(&serde_json::to_string(&instrument.scoring).unwrap()).unwrap()
}

fn score(scoring: &HubScoring, item: &str, responses: Value) -> ItemOutcome {
    let found = scoring.scoring.items.iter().find(|i| i.ref_identifier == item).unwrap();
    let responses: BTreeMap<String, Value> = responses.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    score_item(found, &responses)
}

fn points(scoring: &HubScoring, item: &str, responses: Value) -> f64 {
    let outcome = score(scoring, item, responses);
    let score = outcome.score.unwrap_or_else(|| panic!("{item}: not scored: {:?}", outcome.unscored));
    (score * 1e9).round() / 1e9
}

#[test]
fn kennisnet_sesamstraat_match_with_custom_processing() {
    let s = hub_scoring("kennisnet");
    assert_eq!(points(&s, "ITEM002", json!({"RESPONSE": ["A1 B1", "A2 B2", "A3 B3"]})), 1.0);
    assert_eq!(points(&s, "ITEM002", json!({"RESPONSE": ["A1 B1", "A2 B3", "A3 B2"]})), 0.0);
    assert_eq!(points(&s, "ITEM002", json!({})), 0.0);
    assert_eq!(score(&s, "ITEM002", json!({})).max_score, Some(1.0), "MAXSCORE's default");
    assert_eq!(s.hub_scores("ITEM002"), Some(true));
}

#[test]
fn public_items_with_custom_processing_score_right_and_wrong() {
    let s = hub_scoring("scoring");
    // Order: 3 right, 1 otherwise (the item's own rule; no answer too).
    let right = ["_7277e44510f33087d07f4066d0ce308b", "_1295359046aa972a407e41a1350316e7", "_97094d4eb5162950ed0f771abed47e4d", "_1815d0886d3fddd35b602bc0054b868d", "_ec46da4638d1a6bc9c7d601efcb88bd2"];
    let mut swapped = right;
    swapped.swap(0, 2);
    assert_eq!(points(&s, "order", json!({"RESPONSE": right})), 3.0);
    assert_eq!(points(&s, "order", json!({"RESPONSE": swapped})), 1.0);
    assert_eq!(points(&s, "order", json!({})), 1.0);
    assert_eq!(score(&s, "order", json!({})).max_score, Some(3.0));
    // Gap match: SCORE = 0 + map × 0.2, no lower bound in the item.
    let all = ["W1 G1", "W2 G2", "W3 G3", "W4 G4", "W5 G5"];
    assert_eq!(points(&s, "gaps", json!({"RESPONSE": all})), 1.0);
    assert_eq!(points(&s, "gaps", json!({"RESPONSE": ["W1 G1", "W2 G2", "W3 G3", "W4 G5", "W5 G4"]})), 0.2);
    assert_eq!(points(&s, "gaps", json!({"RESPONSE": ["W1 G2"]})), -0.2);
    // Gap match: 1 point only when all four are right (map - 3 when map >= 4).
    assert_eq!(points(&s, "planets", json!({"RESPONSE": ["s1 t1", "s5 t2", "s2 t3", "s3 t4"]})), 1.0);
    assert_eq!(points(&s, "planets", json!({"RESPONSE": ["s1 t1", "s5 t2", "s2 t3", "s2 t4"]})), 0.0);
    assert_eq!(points(&s, "planets", json!({"RESPONSE": null})), 0.0);
    assert_eq!(score(&s, "planets", json!({})).max_score, None, "no MAXSCORE, no normal-maximum: unknown");
    // Multiple choice mapped, bounded 0..2.
    assert_eq!(points(&s, "choices", json!({"RESPONSE": ["choice1", "choice2", "choice3"]})), 2.0);
    assert_eq!(points(&s, "choices", json!({"RESPONSE": ["choice1", "choice3"]})), 1.333333333);
    assert_eq!(points(&s, "choices", json!({"RESPONSE": []})), 0.0);
    // Our own item: integer, rounding, string match, interpolation table.
    assert_eq!(points(&s, "rekenen", json!({"PRODUCT": "56", "PI": "3,14", "STAD": "utrecht"})), 2.0);
    assert_eq!(points(&s, "rekenen", json!({"PRODUCT": "56", "PI": "3.2", "STAD": "Utrecht"})), 1.0);
    assert_eq!(points(&s, "rekenen", json!({"PRODUCT": "56", "PI": "3.2", "STAD": "Amersfoort"})), 0.0);
    assert_eq!(points(&s, "rekenen", json!({"PRODUCT": "zesenvijftig"})), 0.0, "not an integer: no answer");
    assert_eq!(score(&s, "rekenen", json!({})).max_score, Some(2.0));
    // Every item is the hub's: a hand score for one is refused.
    assert!(s.scoring.items.iter().all(|i| s.hub_scores(&i.ref_identifier) == Some(true)));
}

/// Scoring JSON from before the rules were kept (`{"kind": "custom"}`)
/// still reads; such an item waits for a person, never a silent 0.
#[test]
fn old_custom_scoring_json_reads_and_waits_for_a_person() {
    let old = r#"{"items": [{"ref_identifier": "i1", "identifier": "i1", "responses": [{"identifier": "RESPONSE", "cardinality": "single", "base_type": "identifier", "correct": ["A"]}], "processing": {"kind": "custom"}, "max_score": 2}]}"#;
    let s = HubScoring::parse(old).unwrap();
    let outcome = score(&s, "i1", json!({"RESPONSE": "A"}));
    assert_eq!(outcome.score, None);
    assert!(outcome.unscored.unwrap().contains("zonder regels"));
    assert_eq!(s.hub_scores("i1"), Some(false));
    assert_eq!(s.score(&json!({"responses": {"i1": {"RESPONSE": "A"}}}))[0].max_score, Some(2.0), "the hand maximum");
}

/// Issue 18, "outcome processing of the test": the test's own
/// `qti-outcome-processing` makes the test score — weights, categories,
/// counts — run by the hub on the items' outcomes, hand scores included.
/// Before, the importer dropped it with a notice and the hub reported the
/// plain sum (3 here, not the weighted 5).
#[test]
fn the_tests_outcome_processing_makes_the_test_score() {
    let choice = |id: &str| {
        format!(
            r#"<qti-assessment-item identifier="{id}" title="{id}">
<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier"><qti-correct-response><qti-value>A</qti-value></qti-correct-response></qti-response-declaration>
<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float" normal-maximum="1"/>
<qti-item-body><qti-choice-interaction response-identifier="RESPONSE" max-choices="1"><qti-simple-choice identifier="A">a</qti-simple-choice><qti-simple-choice identifier="B">b</qti-simple-choice></qti-choice-interaction></qti-item-body>
<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"/>
</qti-assessment-item>"#
        )
    };
    let essay = r#"<qti-assessment-item identifier="essay" title="essay">
<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>
<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float" normal-maximum="2"/>
<qti-item-body><qti-extended-text-interaction response-identifier="RESPONSE"/></qti-item-body>
</qti-assessment-item>"#;
    let processing = r#"<qti-outcome-processing>
<qti-set-outcome-value identifier="SCORE"><qti-sum><qti-test-variables variable-identifier="SCORE" weight-identifier="W"/></qti-sum></qti-set-outcome-value>
<qti-set-outcome-value identifier="GOED"><qti-number-correct exclude-category="oefen"/></qti-set-outcome-value>
<qti-outcome-condition><qti-outcome-if><qti-gte><qti-variable identifier="SCORE"/><qti-base-value base-type="float">4</qti-base-value></qti-gte>
<qti-set-outcome-value identifier="GESLAAGD"><qti-base-value base-type="boolean">true</qti-base-value></qti-set-outcome-value></qti-outcome-if></qti-outcome-condition>
</qti-outcome-processing>"#;
    let test = |processing: &str| {
        format!(
            r#"<qti-assessment-test identifier="T" title="T">
<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float" normal-maximum="7"/>
<qti-outcome-declaration identifier="GOED" cardinality="single" base-type="integer"/>
<qti-outcome-declaration identifier="GESLAAGD" cardinality="single" base-type="boolean"><qti-default-value><qti-value>false</qti-value></qti-default-value></qti-outcome-declaration>
<qti-test-part identifier="P" navigation-mode="nonlinear" submission-mode="simultaneous"><qti-assessment-section identifier="S" title="S">
<qti-assessment-item-ref identifier="oefen" href="oefen.xml" category="oefen"/>
<qti-assessment-item-ref identifier="zwaar" href="zwaar.xml"><qti-weight identifier="W" value="3"/></qti-assessment-item-ref>
<qti-assessment-item-ref identifier="essay" href="essay.xml"/>
</qti-assessment-section></qti-test-part>
{processing}
</qti-assessment-test>"#
        )
    };
    let manifest = r#"<manifest identifier="M"><resources><resource identifier="t" type="imsqti_test_xmlv3p0" href="test.xml"><file href="test.xml"/></resource></resources></manifest>"#;
    let hub = |processing: &str| {
        let files: BTreeMap<&str, String> = [
            ("imsmanifest.xml", manifest.to_string()),
            ("test.xml", test(processing)),
            ("oefen.xml", choice("oefen")),
            ("zwaar.xml", choice("zwaar")),
            ("essay.xml", essay.to_string()),
        ]
        .into_iter()
        .collect();
        let instrument = exam_instrument::qti::import(&|p: &str| files.get(p).map(|s| s.as_bytes())).unwrap();
        HubScoring::parse(&serde_json::to_string(&instrument.scoring).unwrap()).unwrap()
    };
    let s = hub(processing);
    let answers = json!({"responses": {"oefen": {"RESPONSE": "A"}, "zwaar": {"RESPONSE": "A"}, "essay": {"RESPONSE": "Mijn betoog"}}});
    let mut items = s.score(&answers);
    // The essay waits for a person: it counts as absent, not as 0 points.
    assert_eq!(s.test_score(&items), Ok(Some((4.0, Some(7.0)))), "1 + 3 × 1, the essay not yet scored; the test's own normal-maximum");
    items[2].score = Some(1.0); // the hand score
    assert_eq!(s.test_score(&items), Ok(Some((5.0, Some(7.0)))), "1 + 3 × 1 + 1");
    let test_scoring = s.scoring.test.as_ref().unwrap();
    let outcome_items: Vec<exam_hub::reports::scoring::TestItem<'_>> = s
        .scoring
        .items
        .iter()
        .zip(&items)
        .map(|(scoring, o)| {
            let mut outcomes = o.outcomes.clone();
            outcomes.insert("SCORE".into(), exam_protocol::scoring::Value::Single(exam_protocol::scoring::Base::Float(o.score.unwrap())));
            exam_hub::reports::scoring::TestItem { scoring, responses: &o.responses, outcomes }
        })
        .collect();
    let result = exam_protocol::scoring::evaluate_test(test_scoring, &outcome_items).unwrap();
    use exam_protocol::scoring::{Base, Value as Q};
    assert_eq!(result.outcomes["GOED"], Q::Single(Base::Int(1)), "number-correct leaves out the 'oefen' category");
    assert_eq!(result.outcomes["GESLAAGD"], Q::Single(Base::Bool(true)));
    // A wrong answer on the weighted item: 1 + 0 + 1.
    let wrong = json!({"responses": {"oefen": {"RESPONSE": "A"}, "zwaar": {"RESPONSE": "B"}, "essay": {"RESPONSE": "x"}}});
    let mut items = s.score(&wrong);
    items[2].score = Some(1.0);
    assert_eq!(s.test_score(&items), Ok(Some((2.0, Some(7.0)))));
    // Processing the hub cannot run: the reason, never a silent sum as final.
    let unknown = hub(&processing.replace("<qti-number-correct exclude-category=\"oefen\"/>", "<qti-number-correct section-identifier=\"S\"/>"));
    let err = unknown.test_score(&unknown.score(&answers)).unwrap_err();
    assert!(err.contains("section-identifier"), "{err}");
    // Without outcome processing the sum it is.
    assert_eq!(hub("").test_score(&items), Ok(None));

    // Review of this change, each of which gave a wrong score as final:
    // (a) processing that declares SCORE but never sets it: the sum, not
    // everyone's default 0.
    let no_score = hub(r#"<qti-outcome-processing><qti-set-outcome-value identifier="GOED"><qti-number-correct/></qti-set-outcome-value></qti-outcome-processing>"#);
    assert_eq!(no_score.test_score(&items), Ok(None));
    // (b) a percentage over the items' MAXSCORE defaults: a hand-scored
    // essay brings its MAXSCORE too, not only its SCORE (was 100 × 3/2).
    let pct = r#"<qti-outcome-processing><qti-set-outcome-value identifier="SCORE"><qti-product><qti-base-value base-type="float">100</qti-base-value>
<qti-divide><qti-sum><qti-test-variables variable-identifier="SCORE"/></qti-sum><qti-sum><qti-test-variables variable-identifier="MAXSCORE"/></qti-sum></qti-divide></qti-product></qti-set-outcome-value></qti-outcome-processing>"#;
    let with_max = |xml: String| {
        xml.replace(
            r#"<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float" normal-maximum="1"/>"#,
            r#"<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float" normal-maximum="1"/><qti-outcome-declaration identifier="MAXSCORE" cardinality="single" base-type="float"><qti-default-value><qti-value>1</qti-value></qti-default-value></qti-outcome-declaration>"#,
        )
        .replace(
            r#"<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float" normal-maximum="2"/>"#,
            r#"<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float" normal-maximum="2"/><qti-outcome-declaration identifier="MAXSCORE" cardinality="single" base-type="float"><qti-default-value><qti-value>2</qti-value></qti-default-value></qti-outcome-declaration>"#,
        )
    };
    let files: BTreeMap<&str, String> = [
        ("imsmanifest.xml", manifest.to_string()),
        ("test.xml", test(pct).replace(r#" normal-maximum="7""#, r#" normal-maximum="100""#)),
        ("oefen.xml", with_max(choice("oefen"))),
        ("zwaar.xml", with_max(choice("zwaar"))),
        ("essay.xml", with_max(essay.to_string())),
    ]
    .into_iter()
    .collect();
    let instrument = exam_instrument::qti::import(&|p: &str| files.get(p).map(|s| s.as_bytes())).unwrap();
    let p = HubScoring::parse(&serde_json::to_string(&instrument.scoring).unwrap()).unwrap();
    let mut items = p.score(&answers);
    items[2].score = Some(1.0);
    assert_eq!(p.test_score(&items), Ok(Some((75.0, Some(100.0)))), "100 × (1 + 1 + 1) / (1 + 1 + 2)");
    // (c) without SCORE's normal-maximum the maximum is what the processing
    // computes as MAXSCORE, or unknown — never the unweighted sum of the
    // items' maxima against a weighted score (was "5 van 4").
    let unbounded = |processing: &str| {
        let files: BTreeMap<&str, String> = [
            ("imsmanifest.xml", manifest.to_string()),
            ("test.xml", test(processing).replace(r#" normal-maximum="7""#, "").replace(
                r#"<qti-outcome-declaration identifier="GOED""#,
                r#"<qti-outcome-declaration identifier="MAXSCORE" cardinality="single" base-type="float"/><qti-outcome-declaration identifier="GOED""#,
            )),
            ("oefen.xml", choice("oefen")),
            ("zwaar.xml", choice("zwaar")),
            ("essay.xml", essay.to_string()),
        ]
        .into_iter()
        .collect();
        let instrument = exam_instrument::qti::import(&|p: &str| files.get(p).map(|s| s.as_bytes())).unwrap();
        HubScoring::parse(&serde_json::to_string(&instrument.scoring).unwrap()).unwrap()
    };
    let mut items = unbounded(processing).score(&answers);
    items[2].score = Some(1.0);
    assert_eq!(unbounded(processing).test_score(&items), Ok(Some((5.0, None))));
    let computed = processing.replace(
        "<qti-outcome-condition>",
        r#"<qti-set-outcome-value identifier="MAXSCORE"><qti-sum><qti-outcome-maximum outcome-identifier="SCORE" weight-identifier="W"/></qti-sum></qti-set-outcome-value><qti-outcome-condition>"#,
    );
    assert_eq!(unbounded(&computed).test_score(&items), Ok(Some((5.0, Some(6.0)))), "1 + 3 × 1 + 2");
    // (d) base-type="integer" selects the items declared integer, a hand
    // score included (the hub wrote every SCORE as a float: all left out).
    let int = |xml: String| xml.replace(r#"identifier="SCORE" cardinality="single" base-type="float""#, r#"identifier="SCORE" cardinality="single" base-type="integer""#);
    let typed = processing.replace(r#"<qti-test-variables variable-identifier="SCORE" weight-identifier="W"/>"#, r#"<qti-test-variables variable-identifier="SCORE" base-type="integer"/>"#);
    let files: BTreeMap<&str, String> = [
        ("imsmanifest.xml", manifest.to_string()),
        ("test.xml", test(&typed)),
        ("oefen.xml", int(choice("oefen"))),
        ("zwaar.xml", choice("zwaar")),
        ("essay.xml", int(essay.to_string())),
    ]
    .into_iter()
    .collect();
    let instrument = exam_instrument::qti::import(&|p: &str| files.get(p).map(|s| s.as_bytes())).unwrap();
    let t = HubScoring::parse(&serde_json::to_string(&instrument.scoring).unwrap()).unwrap();
    let mut items = t.score(&answers);
    items[2].score = Some(2.0);
    assert_eq!(t.test_score(&items), Ok(Some((3.0, Some(7.0)))), "oefen 1 + essay 2; zwaar is a float item");
    // (e) an unreadable test outcome declaration without any processing:
    // nothing to run, the sum stands (it stayed provisional for ever).
    let bad_decl = hub("").scoring.clone();
    assert!(bad_decl.test.is_none());
    let files: BTreeMap<&str, String> = [
        ("imsmanifest.xml", manifest.to_string()),
        ("test.xml", test("").replace(r#"cardinality="single" base-type="integer"/>"#, r#"cardinality="sometimes" base-type="integer"/>"#)),
        ("oefen.xml", choice("oefen")),
        ("zwaar.xml", choice("zwaar")),
        ("essay.xml", essay.to_string()),
    ]
    .into_iter()
    .collect();
    assert!(exam_instrument::qti::import(&|p: &str| files.get(p).map(|s| s.as_bytes())).unwrap().scoring.test.is_none());
}

/// Review (session 17), "the server decides": the hub scored whatever
/// answer arrived. A match interaction scored with `map_response` (default
/// 0) answered with every pair — which the kiosk's page never sends, but a
/// changed kiosk could — got every point. The scoring data now carries the
/// most values each response's interaction gives, and an answer with more
/// goes to a person, who sees it.
#[test]
fn an_answer_with_more_values_than_the_interaction_gives_is_left_to_a_person() {
    let item = r#"<qti-assessment-item identifier="koppel" title="koppel">
<qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="directedPair">
  <qti-correct-response><qti-value>A X</qti-value><qti-value>B Y</qti-value><qti-value>C Z</qti-value></qti-correct-response>
  <qti-mapping default-value="0"><qti-map-entry map-key="A X" mapped-value="1"/><qti-map-entry map-key="B Y" mapped-value="1"/><qti-map-entry map-key="C Z" mapped-value="1"/></qti-mapping>
</qti-response-declaration>
<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
<qti-item-body><qti-match-interaction response-identifier="RESPONSE" max-associations="3">
  <qti-simple-match-set><qti-simple-associable-choice identifier="A" match-max="1">a</qti-simple-associable-choice><qti-simple-associable-choice identifier="B" match-max="1">b</qti-simple-associable-choice><qti-simple-associable-choice identifier="C" match-max="1">c</qti-simple-associable-choice></qti-simple-match-set>
  <qti-simple-match-set><qti-simple-associable-choice identifier="X" match-max="1">x</qti-simple-associable-choice><qti-simple-associable-choice identifier="Y" match-max="1">y</qti-simple-associable-choice><qti-simple-associable-choice identifier="Z" match-max="1">z</qti-simple-associable-choice></qti-simple-match-set>
</qti-match-interaction></qti-item-body>
<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml"/>
</qti-assessment-item>"#;
    let test = r#"<qti-assessment-test identifier="T" title="T"><qti-test-part identifier="P" navigation-mode="nonlinear" submission-mode="simultaneous">
<qti-assessment-section identifier="S" title="S"><qti-assessment-item-ref identifier="koppel" href="koppel.xml"/></qti-assessment-section></qti-test-part></qti-assessment-test>"#;
    let manifest = r#"<manifest identifier="M"><resources><resource identifier="t" type="imsqti_test_xmlv3p0" href="test.xml"><file href="test.xml"/></resource></resources></manifest>"#;
    let files: BTreeMap<&str, &str> = [("imsmanifest.xml", manifest), ("test.xml", test), ("koppel.xml", item)].into_iter().collect();
    let instrument = exam_instrument::qti::import(&|p: &str| files.get(p).map(|s| s.as_bytes())).unwrap();
    let s = HubScoring::parse(&serde_json::to_string(&instrument.scoring).unwrap()).unwrap();
    assert_eq!(s.scoring.items[0].responses[0].max_values, Some(3), "max-associations");
    assert_eq!(points(&s, "koppel", json!({"RESPONSE": ["A X", "B Y", "C Y"]})), 2.0);
    let every_pair: Vec<String> = ["A", "B", "C"].iter().flat_map(|a| ["X", "Y", "Z"].iter().map(move |b| format!("{a} {b}"))).collect();
    let forged = score(&s, "koppel", json!({ "RESPONSE": every_pair }));
    assert_eq!(forged.score, None, "nine pairs scored as {:?}", forged.score);
    assert!(forged.unscored.as_deref().unwrap_or("").contains("hoogstens 3"), "{:?}", forged.unscored);
}
