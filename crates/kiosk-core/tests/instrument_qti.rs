//! QTI import: real items, and hostile or unsupported XML refused by name.

use kiosk_core::instrument::qti::{import, Instrument, Node, QtiError};
use std::collections::BTreeMap;
use std::path::Path;

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel)).unwrap()
}

const MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="M">
  <resources><resource identifier="t" type="imsqti_test_xmlv3p0" href="test.xml"><file href="test.xml"/></resource></resources>
</manifest>"#;

const TEST: &str = r#"<qti-assessment-test xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="T" title="T">
  <qti-test-part identifier="P" navigation-mode="linear" submission-mode="individual">
    <qti-assessment-section identifier="S" title="S" visible="true">
      <qti-assessment-item-ref identifier="I1" href="items/item.xml"/>
    </qti-assessment-section>
  </qti-test-part>
</qti-assessment-test>"#;

/// Imports one item (plus extra files) wrapped in a minimal package.
fn import_item(item: &[u8], extra: &[(&str, &[u8])]) -> Result<Instrument, QtiError> {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert("imsmanifest.xml".into(), MANIFEST.as_bytes().to_vec());
    files.insert("test.xml".into(), TEST.as_bytes().to_vec());
    files.insert("items/item.xml".into(), item.to_vec());
    for (p, b) in extra {
        files.insert((*p).into(), b.to_vec());
    }
    // One item: its one problem (problems in items come as QtiError::Items,
    // each naming its item; exam-instrument's tests/qti_messages.rs checks that).
    import(&|p: &str| files.get(p).map(Vec::as_slice)).map_err(|e| match e {
        QtiError::Items { mut problems, .. } if problems.len() == 1 => problems.remove(0).error,
        e => e,
    })
}

fn item_with_body(body: &str) -> String {
    format!(
        r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="x" title="x">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier"/>
  <qti-item-body>{body}</qti-item-body>
</qti-assessment-item>"#
    )
}

const CHOICE: &str = r#"<qti-choice-interaction response-identifier="RESPONSE" max-choices="1"><qti-simple-choice identifier="A">a</qti-simple-choice></qti-choice-interaction>"#;

#[test]
fn each_real_example_item_imports() {
    let png: &[u8] = b"\x89PNG";
    for name in ["choice", "choice_multiple", "extended_text", "text_entry", "gap_match", "inline_choice", "match", "order"] {
        let bytes = fixture(&format!("qti/examples/items/{name}.xml"));
        let extra = [("img/sign.png", png), ("img/postcard.png", png)];
        let instrument = import_item(&bytes, &extra).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(instrument.test.item_count, 1);
        assert!(!instrument.scoring.items[0].responses.is_empty());
    }
}

#[test]
fn unsupported_interactions_are_named_with_their_line() {
    let bytes = fixture("qti/unsupported/hotspot.xml");
    let err = import_item(&bytes, &[("img/ukair.png", b"x")]).unwrap_err();
    match err {
        QtiError::Unsupported { construct, line, file, .. } => {
            assert_eq!(construct, "<qti-hotspot-interaction>");
            assert_eq!(file, "items/item.xml");
            assert_eq!(line, 16);
        }
        other => panic!("{other}"),
    }
    for (body, construct) in [
        ("<p><m:math xmlns:m=\"http://www.w3.org/1998/Math/MathML\"><m:mi>x</m:mi></m:math></p>", "<m:math>"),
        ("<p><a href=\"https://example.org\">x</a></p>", "<a>"),
        ("<script>alert(1)</script>", "<script>"),
        ("<qti-slider-interaction response-identifier=\"RESPONSE\" lower-bound=\"0\" upper-bound=\"1\"/>", "<qti-slider-interaction>"),
        ("<object data=\"x.mp4\"/>", "<object>"),
        ("<blink>x</blink>", "<blink>"),
    ] {
        let err = import_item(item_with_body(body).as_bytes(), &[]).unwrap_err();
        assert!(matches!(&err, QtiError::Unsupported { construct: c, .. } if c == construct), "{body}: {err}");
    }
}

#[test]
fn dtds_and_entities_are_refused() {
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<qti-assessment-item identifier="x"><qti-item-body><p>&lol2;</p></qti-item-body></qti-assessment-item>"#;
    let err = import_item(billion_laughs.as_bytes(), &[]).unwrap_err();
    assert!(matches!(&err, QtiError::Forbidden { what, .. } if what.contains("DOCTYPE")), "{err}");
    let xxe = item_with_body("<p>&xxe;</p>");
    let err = import_item(xxe.as_bytes(), &[]).unwrap_err();
    assert!(matches!(&err, QtiError::Forbidden { what, .. } if what.contains("&xxe;")), "{err}");
    let html_entity = item_with_body("<p>caf&eacute;</p>");
    assert!(matches!(import_item(html_entity.as_bytes(), &[]), Err(QtiError::Forbidden { .. })));
    // The five XML entities and character references are fine.
    let ok = item_with_body(&format!("<p>&lt;b&gt; &amp; &quot; &apos; &#233; &#x20AC;</p>{CHOICE}"));
    let i = import_item(ok.as_bytes(), &[]).unwrap();
    let json = i.render_json().unwrap();
    assert!(json.contains("<b> & \\\" ' é €"), "{json}");
}

#[test]
fn references_that_leave_the_package_are_refused() {
    for src in ["https://tracker.example/x.png", "../../x.png", "/etc/x.png", "data:image/png;base64,AAAA", "file:///etc/passwd"] {
        let body = format!("<p><img src=\"{src}\" alt=\"x\"/></p>{CHOICE}");
        let err = import_item(item_with_body(&body).as_bytes(), &[]).unwrap_err();
        assert!(matches!(err, QtiError::BadReference { .. }), "{src}: {err}");
    }
    let body = format!("<p><img src=\"../img/none.png\" alt=\"x\"/></p>{CHOICE}");
    assert!(matches!(import_item(item_with_body(&body).as_bytes(), &[]), Err(QtiError::MissingFile { .. })));
    let body = format!("<p><img src=\"../img/a.png\"/></p>{CHOICE}");
    // Without alt text: accepted (issue 18: pack warns, naming item and file).
    let instrument = import_item(item_with_body(&body).as_bytes(), &[("img/a.png", b"x")]).unwrap();
    assert!(instrument.warnings[0].to_string().contains("item x: image img/a.png has no alternative text"), "{:?}", instrument.warnings);
}

#[test]
fn malformed_qti_is_refused_with_a_reason() {
    let cases: Vec<(String, &str)> = vec![
        ("<qti-assessment-item identifier=\"x\"><qti-item-body><p>unclosed</qti-item-body></qti-assessment-item>".into(), "XML"),
        (item_with_body("<qti-choice-interaction response-identifier=\"NOPE\"><qti-simple-choice identifier=\"A\">a</qti-simple-choice></qti-choice-interaction>"), "not declared"),
        (item_with_body("<qti-choice-interaction response-identifier=\"RESPONSE\"/>"), "without choices"),
        (item_with_body("<qti-choice-interaction response-identifier=\"RESPONSE\"><qti-simple-choice identifier=\"A\">a</qti-simple-choice><qti-simple-choice identifier=\"A\">b</qti-simple-choice></qti-choice-interaction>"), "twice"),
        (item_with_body("<p><qti-gap identifier=\"G\"/></p>"), "outside"),
        (item_with_body("<qti-choice-interaction response-identifier=\"RESPONSE\" max-choices=\"many\"><qti-simple-choice identifier=\"A\">a</qti-simple-choice></qti-choice-interaction>"), "number"),
        ("<assessmentItem identifier=\"x\"/>".into(), "QTI 2.x"),
        ("<qti-assessment-item identifier=\"x\" adaptive=\"true\"><qti-item-body/></qti-assessment-item>".into(), "adaptive"),
        ("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><qti-assessment-item/>".into(), "UTF-8"),
        ("".into(), "root"),
    ];
    for (xml, needle) in cases {
        let err = import_item(xml.as_bytes(), &[]).unwrap_err();
        assert!(err.to_string().contains(needle), "{xml}\n=> {err}");
    }
    let deep = format!("{}{}", "<div>".repeat(200), "</div>".repeat(200));
    assert!(matches!(import_item(item_with_body(&deep).as_bytes(), &[]), Err(QtiError::TooLarge { .. })));
}

#[test]
fn style_attributes_are_dropped_with_a_notice() {
    let body = format!("<p style=\"color:red\" onclick=\"x()\" class=\"k\">t</p>{CHOICE}");
    let i = import_item(item_with_body(&body).as_bytes(), &[]).unwrap();
    let Node::Element { attrs, .. } = &i.items()[0].body[0] else { panic!("expected <p>") };
    assert_eq!(attrs.keys().collect::<Vec<_>>(), ["class"]);
    let dropped: Vec<&str> = i.test.notices.iter().map(|n| n.construct.as_str()).collect();
    assert!(dropped.contains(&"attribute style") && dropped.contains(&"attribute onclick"), "{dropped:?}");
}

mod fuzzish {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary bytes as an item never panic.
        #[test]
        fn arbitrary_item_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = import_item(&bytes, &[]);
        }

        /// XML-ish soup built from QTI and HTML fragments never panics.
        #[test]
        fn xmlish_soup_never_panics(parts in proptest::collection::vec(prop::sample::select(vec![
            "<p>", "</p>", "<qti-item-body>", "</qti-item-body>", "<qti-choice-interaction response-identifier=\"RESPONSE\">",
            "</qti-choice-interaction>", "<qti-simple-choice identifier=\"A\">", "</qti-simple-choice>", "<qti-gap identifier=\"G\"/>",
            "<qti-gap-match-interaction response-identifier=\"RESPONSE\">", "</qti-gap-match-interaction>", "&amp;", "&x;", "<!DOCTYPE x>",
            "<![CDATA[<]]>", "<img src=\"../a.png\" alt=\"\"/>", "text", "<br/>", "<table><tr><td>", "</td></tr></table>", "\u{0}",
        ]), 0..40)) {
            let body: String = parts.concat();
            let _ = import_item(item_with_body(&body).as_bytes(), &[("a.png", b"x")]);
        }
    }
}

#[test]
fn one_big_item_referenced_many_times_hits_the_total_xml_limit() {
    // ~1 MB item, referenced 100 times: 100 MB of XML to parse is refused.
    let big = item_with_body(&format!("<p>{}</p>{CHOICE}", "x".repeat(1024 * 1024)));
    let refs: String = (0..100).map(|i| format!("<qti-assessment-item-ref identifier=\"I{i}\" href=\"items/item.xml\"/>")).collect();
    let test = TEST.replace("<qti-assessment-item-ref identifier=\"I1\" href=\"items/item.xml\"/>", &refs);
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert("imsmanifest.xml".into(), MANIFEST.as_bytes().to_vec());
    files.insert("test.xml".into(), test.into_bytes());
    files.insert("items/item.xml".into(), big.into_bytes());
    let err = import(&|p: &str| files.get(p).map(Vec::as_slice)).unwrap_err();
    assert!(matches!(err, QtiError::TooLarge { what: "XML of all items together", .. }), "{err}");
}

/// Issue 18: a scorer's rubric block (the expected answer, the scoring
/// criteria) was kept in the render model the kiosk sends to its web view —
/// 8 public items carried answers such as "verbranding". Only blocks for the
/// candidate are kept; the others are named in a notice, and their content
/// is not even read (a construct the kiosk cannot show does not refuse the item).
#[test]
fn a_scorers_rubric_never_reaches_the_candidate() {
    let body = format!(
        r#"<qti-rubric-block view="candidate" use="instructions"><qti-content-body><p>Lees de tekst.</p></qti-content-body></qti-rubric-block>
        <qti-rubric-block view="scorer"><qti-content-body><p>Goed antwoord: verbranding</p><qti-hotspot-interaction response-identifier="X"/></qti-content-body></qti-rubric-block>
        <qti-rubric-block view="proctor tutor"><p>Antwoord: eierstok</p></qti-rubric-block>
        <qti-rubric-block view="scorer candidate"><p>Voor iedereen</p></qti-rubric-block>
        {CHOICE}"#
    );
    let instrument = import_item(item_with_body(&body).as_bytes(), &[]).expect("imports without the scorer's blocks");
    let json = instrument.render_json().unwrap();
    assert!(!json.contains("verbranding") && !json.contains("eierstok"), "an answer key in the render model: {json}");
    assert!(json.contains("Lees de tekst.") && json.contains("Voor iedereen"), "{json}");
    let left_out: Vec<&str> = instrument.test.notices.iter().map(|n| n.reason.as_str()).filter(|r| r.contains("rubric block for")).collect();
    assert_eq!(left_out.len(), 2, "{:?}", instrument.test.notices);
    assert!(left_out[0].contains("scorer") && left_out[1].contains("proctor, tutor"), "{left_out:?}");
}

/// Issue 18 (fidelity): `aria-label` was dropped (with a notice) and an
/// item's `dir` was lost, so an RTL item came out left to right. The
/// accessibility attributes and the writing direction now reach the render
/// model; the UI makes the ids safe and unique (ui/dev/unit.test.mjs).
#[test]
fn accessibility_attributes_and_direction_reach_the_render_model() {
    let item = r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="x" title="x" xml:lang="ar">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier"/>
  <qti-item-body dir="rtl">
    <p id="uitleg" lang="ar" dir="rtl">نص</p>
    <table aria-label="Prijzen" aria-describedby="uitleg"><tr><td>1</td></tr></table>
    <span aria-labelledby="uitleg" dir="sideways">x</span>
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="1"><qti-simple-choice identifier="A">a</qti-simple-choice></qti-choice-interaction>
  </qti-item-body>
</qti-assessment-item>"#;
    let i = import_item(item.as_bytes(), &[]).unwrap();
    let it = i.items()[0];
    assert_eq!((it.lang.as_deref(), it.dir.as_deref()), (Some("ar"), Some("rtl")));
    let attrs: Vec<&BTreeMap<String, String>> = it.body.iter().filter_map(|n| match n { Node::Element { attrs, .. } => Some(attrs), _ => None }).collect();
    assert_eq!(attrs[0].get("id").map(String::as_str), Some("uitleg"));
    assert_eq!((attrs[0].get("lang").map(String::as_str), attrs[0].get("dir").map(String::as_str)), (Some("ar"), Some("rtl")));
    assert_eq!(attrs[1].get("aria-label").map(String::as_str), Some("Prijzen"));
    assert_eq!(attrs[1].get("aria-describedby").map(String::as_str), Some("uitleg"));
    assert_eq!(attrs[2].get("aria-labelledby").map(String::as_str), Some("uitleg"));
    assert_eq!(attrs[2].get("dir"), None, "a direction HTML does not know is not passed on");
    let dropped: Vec<&str> = i.test.notices.iter().map(|n| n.construct.as_str()).filter(|c| c.contains("aria")).collect();
    assert!(dropped.is_empty(), "aria attributes reported as dropped: {dropped:?}");
}
