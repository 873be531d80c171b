//! Issue 18, "Messages" and the per-item report: every problem of a package
//! once, each naming item id, file, line and column; hard stops; images
//! without alternative text; how each item will be scored. Items written
//! for these tests.

use exam_instrument::qti::{import, Instrument, QtiError};
use exam_instrument::HowScored;
use std::collections::BTreeMap;

const MANIFEST: &str = r#"<manifest identifier="M">
  <resources><resource identifier="t" type="imsqti_test_xmlv3p0" href="test.xml"><file href="test.xml"/></resource></resources>
</manifest>"#;

/// A test referencing `items/{ref}.xml` for every ref, in order.
fn test_xml(refs: &[String]) -> String {
    let mut t = String::from(
        "<qti-assessment-test identifier=\"T\" title=\"T\">\n<qti-test-part identifier=\"P\" navigation-mode=\"linear\" submission-mode=\"individual\">\n<qti-assessment-section identifier=\"S\" title=\"S\">\n",
    );
    for r in refs {
        t.push_str(&format!("<qti-assessment-item-ref identifier=\"ref-{r}\" href=\"items/{r}.xml\"/>\n"));
    }
    t.push_str("</qti-assessment-section>\n</qti-test-part>\n</qti-assessment-test>");
    t
}

/// An item whose body (line 5, column 1) is `body`.
fn item(id: &str, processing: &str, decls: &str, body: &str) -> String {
    format!(
        "<qti-assessment-item identifier=\"{id}\" title=\"{id}\">\n\
         <qti-response-declaration identifier=\"RESPONSE\" cardinality=\"single\" base-type=\"identifier\"/>\n{decls}\n\
         <qti-item-body>\n{body}\n</qti-item-body>\n{processing}\n</qti-assessment-item>"
    )
}

const CHOICE: &str = r#"<qti-choice-interaction response-identifier="RESPONSE" max-choices="1"><qti-simple-choice identifier="A">a</qti-simple-choice></qti-choice-interaction>"#;
const MATCH_CORRECT: &str = r#"<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"/>"#;

fn import_files(files: &BTreeMap<String, Vec<u8>>) -> Result<Instrument, QtiError> {
    import(&|p: &str| files.get(p).map(Vec::as_slice))
}

fn package(items: &[(String, Option<String>)]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert("imsmanifest.xml".to_string(), MANIFEST.as_bytes().to_vec());
    let refs: Vec<String> = items.iter().map(|(r, _)| r.clone()).collect();
    files.insert("test.xml".to_string(), test_xml(&refs).into_bytes());
    for (r, xml) in items {
        if let Some(xml) = xml {
            files.insert(format!("items/{r}.xml"), xml.clone().into_bytes());
        }
    }
    files
}

#[test]
fn a_package_with_31_problems_in_40_items_reports_all_31_once() {
    // Issue 18: a published 40-item set reported 1 of its 31 problems.
    let mut items = Vec::new();
    let mut expected = Vec::new(); // (item name in the message, location)
    for n in 0..40 {
        let id = format!("q{n:02}");
        let (xml, problem) = match n % 8 {
            0 | 1 => (Some(item(&id, MATCH_CORRECT, "", "<qti-portable-custom-interaction response-identifier=\"RESPONSE\"/>")), true),
            2 => (Some(item(&id, MATCH_CORRECT, "", &format!("<p>x <embed>x</embed></p>{CHOICE}"))), true),
            3 => (None, true),                                              // the file is missing
            4 => (Some(format!("<qti-assessment-item identifier=\"{id}\">\n<p>")), true), // not well-formed
            5 => (Some(item(&id, MATCH_CORRECT, "", "<qti-choice-interaction response-identifier=\"RESPONSE\"/>")), true),
            _ => (Some(item(&id, MATCH_CORRECT, "", CHOICE)), false),
        };
        // 40 items, 6 of every 8 with a problem = 30; one more below.
        items.push((id.clone(), xml));
        if problem {
            expected.push(id);
        }
    }
    // The 31st: an otherwise good item whose stimulus is not in the package.
    items[7].1 = Some(item("q07", MATCH_CORRECT, "<qti-assessment-stimulus-ref identifier=\"s\" href=\"s.xml\"/>", CHOICE));
    expected.push("q07".into());
    let err = import_files(&package(&items)).unwrap_err();
    let QtiError::Items { item_count, problems, stopped } = &err else { panic!("{err}") };
    assert_eq!((*item_count, problems.len(), *stopped), (40, 31, false), "{err}");
    let text = err.to_string();
    assert!(text.starts_with("31 problems in 31 of 40 items:"), "{text}");
    for id in &expected {
        let name = if ["q03", "q11", "q19", "q27", "q35"].contains(&id.as_str()) {
            // A missing file: named by the test's reference (and the test's line).
            format!("item (test reference ref-{id}): references items/{id}.xml")
        } else if ["q04", "q12", "q20", "q28", "q36"].contains(&id.as_str()) {
            format!("item (test reference ref-{id}): XML error")
        } else {
            format!("item {id}: ")
        };
        assert_eq!(text.matches(&name).count(), 1, "{name} in\n{text}");
    }
    // Each names the file, line and column.
    assert!(text.contains("\n  items/q00.xml:5:1: item q00: unsupported QTI construct <qti-portable-custom-interaction>"), "{text}");
    assert!(text.contains("\n  items/q02.xml:5:6: item q02: unsupported QTI construct <embed>"), "{text}");
    assert!(text.contains("\n  items/q05.xml:5:1: item q05: invalid QTI: <qti-choice-interaction> without choices"), "{text}");
    assert!(text.contains("\n  items/q07.xml:3:1: item q07: references items/s.xml, which is not in the package"), "{text}");
    // The test's own line for a missing item (line 4 is the first item ref).
    assert!(text.contains("\n  test.xml:7:1: item (test reference ref-q03): references items/q03.xml, which is not in the package"), "{text}");
    assert_eq!(text.lines().count(), 32);
}

#[test]
fn every_problem_inside_one_item_is_reported() {
    let body = format!("<p><embed/></p>\n<qti-portable-custom-interaction response-identifier=\"R2\"/>\n<p><embed/></p>{CHOICE}");
    let items = vec![("a".to_string(), Some(item("a", MATCH_CORRECT, "", &body)))];
    let err = import_files(&package(&items)).unwrap_err();
    let problems = err.problems();
    assert_eq!(problems.len(), 3, "{err}");
    let lines: Vec<String> = problems.iter().map(|(p, _)| p.unwrap().to_string()).collect();
    assert_eq!(
        lines,
        [
            "items/a.xml:5:4: item a: unsupported QTI construct <embed>: embedded pages and plug-ins are not allowed in an exam (images, audio and video from the package are)",
            "items/a.xml:6:1: item a: unsupported QTI construct <qti-portable-custom-interaction>: a (portable) custom interaction runs the item's own JavaScript, which the kiosk never runs: its web view allows no item scripts (CSP), and item code must not see the exam, other items or the student's answers (security) — make the item with a standard QTI interaction",
            "items/a.xml:7:4: item a: unsupported QTI construct <embed>: embedded pages and plug-ins are not allowed in an exam (images, audio and video from the package are)",
        ]
    );
}

#[test]
fn problems_outside_the_body_do_not_hide_those_in_it() {
    // Template processing the importer cannot evaluate and a broken area mapping before the body, an embed in it: all three.
    let decls = "<qti-template-processing><qti-lookup-outcome-value identifier=\"X\"/></qti-template-processing>\n\
                 <qti-response-declaration identifier=\"R2\" cardinality=\"single\" base-type=\"point\"><qti-area-mapping default-value=\"0\"><qti-area-map-entry shape=\"star\" coords=\"1\" mapped-value=\"1\"/></qti-area-mapping></qti-response-declaration>";
    let body = format!("<p><embed/></p>{CHOICE}<qti-text-entry-interaction response-identifier=\"R2\"/>");
    let items = vec![("a".to_string(), Some(item("a", MATCH_CORRECT, decls, &body)))];
    let err = import_files(&package(&items)).unwrap_err();
    let lines: Vec<String> = err.problems().iter().map(|(p, _)| p.unwrap().to_string()).collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(lines[0].starts_with("items/a.xml:3:26: item a: unsupported QTI construct <qti-lookup-outcome-value>"), "{err}");
    assert!(lines[1].starts_with("items/a.xml:4:82: item a: "), "{err}");
    assert!(lines[1].contains("shape \"star\""), "{err}");
    assert!(lines[2].starts_with("items/a.xml:6:4: item a: unsupported QTI construct <embed>"), "{err}");
}

#[test]
fn xml_safety_refusals_stop_at_once_with_what_came_before() {
    let doctype = "<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY a \"b\">]>\n<qti-assessment-item identifier=\"b\"/>".to_string();
    let hot = |id: &str| Some(item(id, MATCH_CORRECT, "", "<qti-portable-custom-interaction response-identifier=\"RESPONSE\"/>"));
    let items = vec![("a".to_string(), hot("a")), ("b".to_string(), Some(doctype)), ("c".to_string(), hot("c"))];
    let err = import_files(&package(&items)).unwrap_err();
    let QtiError::Items { item_count, problems, stopped } = &err else { panic!("{err}") };
    assert!(*stopped);
    assert_eq!((*item_count, problems.len()), (2, 2), "c is never read: {err}");
    assert!(matches!(problems[1].error, QtiError::Forbidden { line: 2, .. }), "{err}");
    assert!(err.to_string().contains("items/b.xml:2:1: item (test reference ref-b): refused <!DOCTYPE>"), "{err}");
    assert!(err.is_hard_stop());
}

#[test]
fn a_hard_stop_inside_an_item_keeps_the_problems_found_before_it() {
    let body = format!("<p><embed/></p>\n<p><img src=\"https://tracker.example/x.png\" alt=\"x\"/></p>{CHOICE}");
    let hot = item("b", MATCH_CORRECT, "", "<qti-portable-custom-interaction response-identifier=\"RESPONSE\"/>");
    let items = vec![("a".to_string(), Some(item("a", MATCH_CORRECT, "", &body))), ("b".to_string(), Some(hot))];
    let err = import_files(&package(&items)).unwrap_err();
    let QtiError::Items { problems, stopped: true, .. } = &err else { panic!("{err}") };
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 2, "b is never read: {err}");
    assert!(lines[0].starts_with("items/a.xml:5:4: item a: unsupported QTI construct <embed>"), "{err}");
    assert!(lines[1].starts_with("items/a.xml:6:4: item a: refused reference \"https://tracker.example/x.png\""), "{err}");
}

#[test]
fn problems_of_the_test_itself_come_with_those_of_the_items() {
    let hot = item("a", MATCH_CORRECT, "", "<qti-portable-custom-interaction response-identifier=\"RESPONSE\"/>");
    let mut files = package(&[("a".to_string(), Some(hot))]);
    let test = String::from_utf8(files["test.xml"].clone()).unwrap();
    // Random selection in the section (test.xml line 4), after the item reference.
    let test = test.replace("</qti-assessment-section>", "<qti-selection select=\"1\"/>\n</qti-assessment-section>");
    files.insert("test.xml".into(), test.into_bytes());
    let err = import_files(&files).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("2 problems in 1 of 1 item and in the test itself:"), "{text}");
    assert!(text.contains("\n  items/a.xml:5:1: item a: unsupported QTI construct <qti-portable-custom-interaction>"), "{text}");
    assert!(text.contains("\n  test.xml:5:1: unsupported QTI construct <qti-selection>: random item selection"), "{text}");
    // A test-level problem that ends the import still comes with the items' problems.
    let test = String::from_utf8(files["test.xml"].clone()).unwrap().replace("<qti-selection select=\"1\"/>", "<qti-assessment-item-ref identifier=\"ref-a\" href=\"items/b.xml\"/>");
    files.insert("test.xml".into(), test.into_bytes());
    let err = import_files(&files).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("item a: unsupported QTI construct <qti-portable-custom-interaction>"), "{text}");
    assert!(text.contains("\n  test.xml:5:1: invalid QTI: item reference identifier ref-a is used twice"), "{text}");
}

#[test]
fn images_without_alternative_text_are_accepted_with_a_warning_naming_item_and_file() {
    let body = "<p><img src=\"../img/a.png\" alt=\"\"/> <img src=\"../img/b.png\"/> <img src=\"../img/c.png\" alt=\"Een kassa\"/></p>";
    let items = vec![("pic".to_string(), Some(item("pic-1", MATCH_CORRECT, "", &format!("{body}{CHOICE}"))))];
    let mut files = package(&items);
    for f in ["a", "b", "c"] {
        files.insert(format!("img/{f}.png"), b"\x89PNG".to_vec());
    }
    let instrument = import_files(&files).unwrap();
    let warnings: Vec<String> = instrument.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("items/pic.xml:5:4: item pic-1: image img/a.png has no alternative text"), "{warnings:?}");
    assert!(warnings[1].starts_with("items/pic.xml:5:37: item pic-1: image img/b.png has no alternative text"), "{warnings:?}");
}

#[test]
fn the_report_says_how_each_item_is_scored_as_the_hub_does() {
    let template = |name: &str| format!("<qti-response-processing template=\"https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/{name}.xml\"/>");
    let custom = "<qti-response-processing><qti-set-outcome-value identifier=\"SCORE\"><qti-base-value base-type=\"float\">1</qti-base-value></qti-set-outcome-value></qti-response-processing>";
    let mapping = r#"<qti-response-declaration identifier="R2" cardinality="single" base-type="string"><qti-mapping default-value="0"><qti-map-entry map-key="x" mapped-value="1"/></qti-mapping></qti-response-declaration>"#;
    let essay = r#"<qti-response-declaration identifier="ESSAY" cardinality="single" base-type="string"/>
<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float" external-scored="human"/>"#;
    let maxscore = r#"<qti-outcome-declaration identifier="MAXSCORE" cardinality="single" base-type="float"><qti-default-value><qti-value>2</qti-value></qti-default-value></qti-outcome-declaration>"#;
    // An operator the importer does not run: not a refusal, not a zero — a person scores it.
    let random = "<qti-response-processing>\n<qti-set-outcome-value identifier=\"SCORE\"><qti-random><qti-multiple/></qti-random></qti-set-outcome-value></qti-response-processing>";
    let essay_body = r#"<qti-extended-text-interaction response-identifier="ESSAY"/>"#;
    let text_r2 = r#"<p><qti-text-entry-interaction response-identifier="R2"/></p>"#;
    let cases: Vec<(&str, String, &str, String, &str)> = vec![
        ("mc", template("match_correct"), "", CHOICE.into(), "choice — standaard sjabloon (match_correct)"),
        ("mr-no-map", template("map_response"), "", CHOICE.into(), "choice — handmatig beoordelen: RESPONSE heeft geen qti-mapping"),
        ("cc2", template("CC2_match_basic"), "", CHOICE.into(), "choice — handmatig beoordelen: variabele MAXSCORE is niet gedeclareerd"),
        ("cc2-max", template("CC2_match_basic"), maxscore, CHOICE.into(), "choice — standaard sjabloon (CC2_match_basic)"),
        ("custom", custom.into(), "", CHOICE.into(), "choice — eigen verwerking (gescoord door de hub)"),
        ("essay", String::new(), essay, essay_body.into(), "extended-text — handmatig beoordelen"),
        ("random", random.into(), "", CHOICE.into(), "choice — handmatig beoordelen: toeval (qti-random) geeft geen vaste score (<qti-random> op regel 8)"),
        ("two", template("match_correct"), mapping, format!("{CHOICE}{text_r2}"), "choice, text-entry — standaard sjabloon (match_correct) voor RESPONSE; niet gescoord: R2 (de hub scoort alleen RESPONSE)"),
        ("none", String::new(), "", CHOICE.into(), "choice — handmatig beoordelen: geen responsverwerking"),
        ("info", String::new(), "", "<p>Lees de tekst.</p>".into(), "no interaction — geen interactie — niets te scoren"),
    ];
    let items: Vec<(String, Option<String>)> =
        cases.iter().map(|(id, rp, decls, body, _)| (id.to_string(), Some(item(id, rp, decls, body)))).collect();
    let instrument = import_files(&package(&items)).unwrap();
    let report = instrument.report();
    assert_eq!(report.len(), cases.len());
    for (r, (id, _, _, _, expected)) in report.iter().zip(&cases) {
        assert_eq!(r.identifier, *id);
        let kinds = if r.interactions.is_empty() { "no interaction".to_string() } else { r.interactions.join(", ") };
        let line = format!("{kinds} — {}", r.scoring);
        assert!(line.ends_with(expected), "{id}: {line}");
    }
    assert!(matches!(report[0].scoring, HowScored::Template { .. }) && report[0].scoring.automatic());
    assert_eq!(report[5].scoring, HowScored::Manual { reason: None });
    assert!(report[4].scoring.automatic() && !report[6].scoring.automatic());
}
