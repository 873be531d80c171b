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
    let bytes = fixture("qti/unsupported/pci.xml");
    let err = import_item(&bytes, &[]).unwrap_err();
    match err {
        QtiError::Unsupported { construct, line, file, .. } => {
            assert_eq!(construct, "<qti-portable-custom-interaction>");
            assert_eq!(file, "items/item.xml");
            assert_eq!(line, 16);
        }
        other => panic!("{other}"),
    }
    for (body, construct) in [
        // Content MathML inside presentation MathML: named by the element (issue 18).
        ("<p><m:math xmlns:m=\"http://www.w3.org/1998/Math/MathML\"><m:apply><m:ci>x</m:ci></m:apply></m:math></p>", "<m:apply>"),
        ("<script>alert(1)</script>", "<script>"),
        ("<qti-portable-custom-interaction response-identifier=\"RESPONSE\" module=\"m\"/>", "<qti-portable-custom-interaction>"),
        ("<embed src=\"x.swf\"/>", "<embed>"),
        ("<blink>x</blink>", "<blink>"),
    ] {
        let err = import_item(item_with_body(body).as_bytes(), &[]).unwrap_err();
        assert!(matches!(&err, QtiError::Unsupported { construct: c, .. } if c == construct), "{body}: {err}");
    }
}

/// Issue 18: a link (a photo credit, a licence) refused the whole item.
/// Now its text stays, as plain text, and the link goes, with a notice.
#[test]
fn a_links_text_is_kept_and_the_link_removed() {
    let i = import_item(item_with_body("<p>Foto: <a href=\"http://www.flickr.com/people/x/\">euphbass</a>.</p>").as_bytes(), &[]).unwrap();
    let json = i.render_json().unwrap();
    assert!(json.contains(r#"{"type":"text","text":"euphbass"}"#) && !json.contains("flickr"), "{json}");
    assert!(i.test.notices.iter().any(|n| n.construct == "<a>" && n.reason.contains("link is removed")), "{:?}", i.test.notices);
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
    for src in ["https://tracker.example/x.png", "../../x.png", "/../x.png", "//tracker.example/x.png", "/", "data:image/png;base64,AAAA", "file:///etc/passwd"] {
        let body = format!("<p><img src=\"{src}\" alt=\"x\"/></p>{CHOICE}");
        let err = import_item(item_with_body(&body).as_bytes(), &[]).unwrap_err();
        assert!(matches!(err, QtiError::BadReference { .. }), "{src}: {err}");
    }
    let body = format!("<p><img src=\"../img/none.png\" alt=\"x\"/></p>{CHOICE}");
    assert!(matches!(import_item(item_with_body(&body).as_bytes(), &[]), Err(QtiError::MissingFile { .. })));
    // Issue 18: a leading `/` is the package root (Citolab's `/img/…`); the file must be there.
    let body = format!("<p><img src=\"/img/a.png\" alt=\"x\"/></p>{CHOICE}");
    let i = import_item(item_with_body(&body).as_bytes(), &[("img/a.png", b"x")]).unwrap();
    assert!(i.render_json().unwrap().contains(r#""src":"img/a.png""#));
    let err = import_item(item_with_body(&body).as_bytes(), &[]).unwrap_err();
    assert!(matches!(&err, QtiError::MissingFile { path, .. } if path == "img/a.png"), "{err}");
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
        // adaptive="true" is accepted since issue 18 (one attempt); a value that is no boolean is not.
        ("<qti-assessment-item identifier=\"x\" adaptive=\"yes\"><qti-item-body/></qti-assessment-item>".into(), "adaptive=\"yes\" is not a boolean"),
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

/// Issue 19 ("honours `data-qti-suppress-tts`"): the importer dropped the
/// attribute, so read-aloud spoke what the author marked as not to be read.
/// It is kept (lowercased) with QTI 3's values, and another value is
/// dropped with a notice; what the page does with it: ui/dev/content.test.mjs.
#[test]
fn suppress_tts_reaches_the_render_model() {
    let item = r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="x" title="x">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier"/>
  <qti-item-body>
    <span data-qti-suppress-tts="computer-read-aloud">★</span>
    <span data-qti-suppress-tts=" ALL ">✱</span>
    <span data-qti-suppress-tts="screen-reader">x</span>
    <span data-qti-suppress-tts="sometimes">y</span>
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="1"><qti-simple-choice identifier="A">a</qti-simple-choice></qti-choice-interaction>
  </qti-item-body>
</qti-assessment-item>"#;
    let i = import_item(item.as_bytes(), &[]).unwrap();
    let kept: Vec<Option<&str>> = i.items()[0]
        .body
        .iter()
        .filter_map(|n| match n {
            Node::Element { attrs, .. } => Some(attrs.get("data-qti-suppress-tts").map(String::as_str)),
            _ => None,
        })
        .collect();
    assert_eq!(kept, [Some("computer-read-aloud"), Some("all"), Some("screen-reader"), None]);
    let dropped: Vec<&str> = i.test.notices.iter().map(|n| n.construct.as_str()).filter(|c| c.contains("suppress")).collect();
    assert_eq!(dropped, ["attribute data-qti-suppress-tts=\"sometimes\""]);
}

/// The package tests/fixtures/qti/interactions (issue 18): every item of it.
fn interactions_package() -> Instrument {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/qti/interactions");
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for rel in ["imsmanifest.xml", "test.xml", "media/huis.png", "media/toon.wav"]
        .into_iter()
        .map(String::from)
        .chain(["hottext", "associate", "slider", "upload", "drawing", "media", "gapmatch"].iter().map(|i| format!("items/{i}.xml")))
    {
        files.insert(rel.clone(), std::fs::read(root.join(&rel)).unwrap());
    }
    import(&|p: &str| files.get(p).map(Vec::as_slice)).unwrap_or_else(|e| panic!("{e}"))
}

/// Issue 18: hottext, associate, slider, upload, drawing, end attempt and
/// media interactions import (they were refused) into the render model,
/// and nothing of the key reaches it.
#[test]
fn other_interactions_import_with_their_model_and_no_key() {
    use kiosk_core::instrument::qti::{Hottext, HottextInteraction};
    let i = interactions_package();
    let items = i.items();
    let body = |n: usize| &items[n].body;
    let find = |n: usize, kind: &str| -> serde_json::Value {
        let json = serde_json::to_value(body(n)).unwrap();
        json.as_array().unwrap().iter().find(|x| x["type"] == kind).cloned().unwrap_or_else(|| panic!("no {kind} in item {n}"))
    };
    // Hottext: the spans inside the paragraph, limits kept.
    let hottext: &HottextInteraction = body(0).iter().find_map(|n| match n { Node::HottextInteraction(h) => Some(h), _ => None }).unwrap();
    assert_eq!((hottext.max_choices, hottext.min_choices), (2, 1));
    let Node::Element { children, .. } = hottext.content.iter().find(|n| matches!(n, Node::Element { .. })).unwrap() else { unreachable!() };
    let ids: Vec<&str> = children.iter().filter_map(|n| match n { Node::Hottext(Hottext { identifier, .. }) => Some(identifier.as_str()), _ => None }).collect();
    assert_eq!(ids, ["H1", "H2", "H3", "H4"]);
    let associate = find(1, "associate-interaction");
    assert_eq!(associate["max_associations"], 2);
    assert_eq!(associate["choices"].as_array().unwrap().len(), 4);
    assert_eq!(associate["choices"][0]["match_max"], 1);
    let slider = find(2, "slider-interaction");
    assert_eq!((slider["lower_bound"].as_f64(), slider["upper_bound"].as_f64(), slider["step"].as_f64()), (Some(0.0), Some(1000.0), Some(50.0)));
    assert_eq!(slider["step_label"], true);
    assert_eq!(find(3, "upload-interaction")["prompt"][0]["text"], "Lever je spreadsheet in als bestand.");
    let drawing = find(4, "drawing-interaction");
    assert_eq!((drawing["image"]["src"].as_str(), drawing["image"]["alt"].as_str()), (Some("media/huis.png"), Some("Een huis met een puntdak")));
    let media = find(5, "media-interaction");
    assert_eq!(media["kind"], "audio");
    assert_eq!(media["sources"], serde_json::json!([{"src": "media/toon.wav", "mime": "audio/wav"}]));
    assert_eq!((media["min_plays"].as_u64(), media["max_plays"].as_u64()), (Some(1), Some(2)));
    // End attempt: accepted with a notice, never a refusal.
    assert!(i.test.notices.iter().any(|n| n.construct == "<qti-end-attempt-interaction>" && n.file == "items/media.xml"));
    // Upload and drawing: a warning naming the item; a person scores them.
    let warned: Vec<Option<&str>> = i.warnings.iter().map(|w| w.item.as_deref()).collect();
    assert_eq!(warned, [Some("upload"), Some("drawing")]);
    let report = i.report();
    let how: Vec<(Vec<&str>, String)> = report.iter().map(|r| (r.interactions.clone(), r.scoring.to_string())).collect();
    assert_eq!(how[0], (vec!["hottext"], "standaard sjabloon (match_correct)".to_string()));
    let person = "handmatig beoordelen: de kiosk neemt dit antwoord niet af (bestand of tekening)".to_string();
    assert_eq!(how[3], (vec!["upload"], person.clone()));
    assert_eq!(how[4], (vec!["drawing"], person));
    // The hub reads the same from the scoring data: a person scores them, whatever their processing.
    for n in [3, 4] {
        assert!(
            matches!(&i.scoring.items[n].processing, exam_protocol::scoring::Processing::Custom { manual: Some(_), .. }),
            "{:?}",
            i.scoring.items[n].processing
        );
    }
    assert_eq!(how[5].0, ["media", "choice", "end-attempt"]);
    // No key: the correct responses (H2/H4 chosen, "W K", 600, B) are in the scoring data only.
    let json = i.render_json().unwrap();
    for key in ["correct", "\"W K\"", "\"L D\"", "600", "mapping"] {
        assert!(!json.contains(key), "{key} reached the render model");
    }
    assert!(i.scoring.items.iter().any(|s| s.responses.iter().any(|r| r.correct == ["W K", "L D"])));
}

/// Misfitting markup of the new interactions is refused with a reason.
#[test]
fn other_interactions_refuse_what_does_not_fit() {
    for (body, what) in [
        ("<qti-hottext-interaction response-identifier=\"RESPONSE\"><p>geen</p></qti-hottext-interaction>", "without qti-hottext"),
        ("<p><qti-hottext identifier=\"A\">a</qti-hottext></p>", "outside a qti-hottext-interaction"),
        (
            "<qti-hottext-interaction response-identifier=\"RESPONSE\"><p><qti-hottext identifier=\"A\">a</qti-hottext><qti-hottext identifier=\"A\">b</qti-hottext></p></qti-hottext-interaction>",
            "used twice",
        ),
        ("<qti-slider-interaction response-identifier=\"RESPONSE\" lower-bound=\"5\" upper-bound=\"1\"/>", "not below"),
        ("<qti-slider-interaction response-identifier=\"RESPONSE\" lower-bound=\"0\" upper-bound=\"10\" step=\"0\"/>", "does not fit"),
        ("<qti-slider-interaction response-identifier=\"RESPONSE\" upper-bound=\"10\"/>", "needs attribute lower-bound"),
        (
            "<qti-associate-interaction response-identifier=\"RESPONSE\"><qti-simple-associable-choice identifier=\"A\">a</qti-simple-associable-choice></qti-associate-interaction>",
            "at least two",
        ),
        ("<qti-media-interaction response-identifier=\"RESPONSE\"><qti-prompt>x</qti-prompt></qti-media-interaction>", "without an audio or video"),
    ] {
        let err = import_item(item_with_body(body).as_bytes(), &[]).unwrap_err();
        assert!(err.to_string().contains(what), "{body}: {err}");
    }
    // A media file that is not audio or video, and one that is not in the package.
    let media = |src: &str| item_with_body(&format!("<qti-media-interaction response-identifier=\"RESPONSE\"><audio><source src=\"{src}\"/></audio></qti-media-interaction>"));
    let err = import_item(media("a.exe").as_bytes(), &[("items/a.exe", b"MZ")]).unwrap_err();
    assert!(matches!(&err, QtiError::Unsupported { .. }), "{err}");
    let err = import_item(media("a.mp3").as_bytes(), &[]).unwrap_err();
    assert!(matches!(&err, QtiError::MissingFile { .. }), "{err}");
    assert!(import_item(media("a.mp3").as_bytes(), &[("items/a.mp3", b"ID3")]).is_ok());
    // A portable custom interaction stays refused, saying why (security).
    let err = import_item(item_with_body("<qti-portable-custom-interaction response-identifier=\"RESPONSE\" module=\"m\"/>").as_bytes(), &[]).unwrap_err();
    assert!(err.to_string().contains("JavaScript") && err.to_string().contains("security"), "{err}");
}

// ---------------------------------------------------------------------------
// Graphic interactions (issue 18; crates/instrument/src/qti_graphic.rs).

/// Every file of a fixture package directory, by package path.
fn package_dir(rel: &str) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(rel);
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

fn graphic_fixture() -> Instrument {
    let files = package_dir("qti/graphic");
    import(&|p: &str| files.get(p).map(Vec::as_slice)).unwrap()
}

/// The fixture package tests/fixtures/qti/graphic (one item per graphic
/// interaction) imports: images with their size, hotspots with shape,
/// coordinates and label, gap images — and the render model holds none of
/// the keys (correct responses, mappings), which the scoring data does.
#[test]
fn graphic_interactions_import_with_shapes_and_no_key() {
    use kiosk_core::instrument::qti::{GraphicKind, HotspotShape};
    let i = graphic_fixture();
    let mut kinds = Vec::new();
    for item in i.items() {
        for node in &item.body {
            match node {
                Node::GraphicInteraction(g) => kinds.push((item.identifier.as_str(), g.kind.name())),
                Node::PositionObjectStage(s) => {
                    assert_eq!((s.image.width, s.image.height), (400.0, 300.0));
                    assert_eq!(s.interactions[0].max_choices, 2);
                    assert_eq!(s.interactions[0].object.src, "img/vliegveld.svg");
                    kinds.push((item.identifier.as_str(), "position-object"));
                }
                _ => {}
            }
        }
    }
    assert_eq!(
        kinds,
        [("tijdlijn", "graphic-gap-match"), ("stad", "hotspot"), ("steden", "hotspot"), ("punt", "select-point"), ("routes", "graphic-associate"), ("volgorde", "graphic-order"), ("vliegveld", "position-object")]
    );
    let graphic = |id: &str| {
        let item = i.items().into_iter().find(|it| it.identifier == id).unwrap();
        item.body.iter().find_map(|n| match n { Node::GraphicInteraction(g) => Some(g.clone()), _ => None }).unwrap()
    };
    let stad = graphic("stad");
    assert_eq!(stad.kind, GraphicKind::Hotspot);
    assert_eq!((stad.image.src.as_str(), stad.image.width, stad.image.height), ("img/kaart.svg", 400.0, 300.0));
    assert_eq!(stad.image.alt, "Kaart van een land met de steden P, Q, R en S");
    let shapes: Vec<(HotspotShape, usize, Option<&str>)> = stad.hotspots.iter().map(|h| (h.shape, h.coords.len(), h.label.as_deref())).collect();
    assert_eq!(shapes, [(HotspotShape::Circle, 3, Some("Stad P")), (HotspotShape::Circle, 3, Some("Stad Q")), (HotspotShape::Rect, 4, Some("Stad R")), (HotspotShape::Poly, 8, None)]);
    assert_eq!(stad.hotspots[0].coords, [150.0, 110.0, 14.0]);
    let tijdlijn = graphic("tijdlijn");
    let gaps: Vec<&str> = tijdlijn.gap_choices.iter().map(|c| c.identifier.as_str()).collect();
    assert_eq!(gaps, ["auto", "radio", "internet"]);
    assert!(matches!(&tijdlijn.gap_choices[2].content[..], [Node::Image { src, alt, .. }] if src == "img/internet.svg" && alt == "Internet"), "an <object> gap image with its text as alt");
    assert_eq!(tijdlijn.image.alt, "Tijdlijn van 1900 tot 2000 met vier lege vakken", "an <object>'s text is its alt");
    assert_eq!(graphic("punt").max_choices, 2);
    assert_eq!(graphic("routes").max_associations, 2);
    // No key in the render model; the scoring data keeps it.
    let render = i.render_json().unwrap();
    for key in ["auto H1", "radio H2", "internet H4", "P Q", "R S", "mapped", "correct", "mapping"] {
        assert!(!render.contains(key), "{key} reached the render model");
    }
    let scoring = serde_json::to_string(&i.scoring).unwrap();
    assert!(scoring.contains("auto H1") && scoring.contains("R S"), "the key stays in the scoring data");
    // pack's report names each kind.
    let report: Vec<Vec<&str>> = i.report().into_iter().map(|r| r.interactions).collect();
    assert_eq!(report, [["graphic-gap-match"], ["hotspot"], ["hotspot"], ["select-point"], ["graphic-associate"], ["graphic-order"], ["position-object"]]);
}

/// A save that a graphic interaction cannot give is refused: a hotspot it
/// does not offer, more choices than max-choices, a point outside the
/// image or not in whole pixels, a pair of one hotspot with itself or twice
/// (either way round), a gap image and hotspot the wrong way round.
#[test]
fn graphic_answers_refuse_values_the_interaction_cannot_give() {
    use kiosk_core::instrument::answer_ids::{AnswerIdError, AnswerIds};
    use serde_json::json;
    let ids = AnswerIds::of(&graphic_fixture().test);
    let check = |item: &str, value: serde_json::Value| ids.check(item, &[("RESPONSE", &value)]);
    for (item, value) in [
        ("stad", json!("Q")),
        ("stad", json!(["S"])),
        ("steden", json!(["R", "S"])),
        ("punt", json!(["0 0", "400 300"])),
        ("punt", json!("17 250")),
        ("routes", json!(["P Q", "S R"])),
        ("tijdlijn", json!(["auto H1", "internet H4", "radio H2"])),
        ("volgorde", json!(["Q", "P", "R", "S"])),
        ("vliegveld", json!(["120 40", "300 200"])),
    ] {
        assert_eq!(check(item, value.clone()), Ok(()), "{item} = {value}");
    }
    for (item, value) in [
        ("stad", json!("X")),
        ("stad", json!(["P", "Q"])),
        ("steden", json!(["P", "Q", "R"])),
        ("punt", json!("401 10")),
        ("punt", json!("10 301")),
        ("punt", json!("-1 5")),
        ("punt", json!("1.5 2")),
        ("punt", json!("12")),
        ("punt", json!(["1 1", "2 2", "3 3"])),
        ("routes", json!(["P P"])),
        ("routes", json!(["P Q", "Q P"])),
        ("routes", json!(["P Q", "R S", "P S"])),
        ("routes", json!(["P X"])),
        ("tijdlijn", json!("H1 auto")),
        ("tijdlijn", json!("auto Q")),
        ("volgorde", json!(["Q", "Z"])),
        ("volgorde", json!(["Q", "Q"])),
        ("vliegveld", json!(["500 5"])),
    ] {
        assert!(matches!(check(item, value.clone()), Err(AnswerIdError::UnfitValue { .. })), "{item} = {value} must not fit");
    }
    assert_eq!(
        check("punt", json!("401 10")).unwrap_err().to_string(),
        "het antwoord 'RESPONSE' van onderdeel 'punt' past niet bij de vraag (punt '401 10' ligt buiten de afbeelding)"
    );
}

/// The public 1EdTech example "UK Airports" (hotspot; was the fixture for
/// refusal) imports; malformed graphic interactions are refused by name.
#[test]
fn graphic_public_example_imports_and_malformed_ones_are_refused() {
    let bytes = fixture("qti/examples/items/hotspot.xml");
    let i = import_item(&bytes, &[("img/ukair.png", b"\x89PNG")]).unwrap();
    assert!(matches!(&i.items()[0].body[..], [.., Node::GraphicInteraction(g), _] if g.hotspots.len() == 4 && g.image.width == 206.0));
    let img = r#"<img src="../img/k.png" alt="kaart" width="100" height="50"/>"#;
    for (body, says) in [
        (format!(r#"<qti-hotspot-interaction response-identifier="RESPONSE">{img}<qti-hotspot-choice identifier="A" shape="circle" coords="1,2"/></qti-hotspot-interaction>"#), "do not fit shape circle"),
        (format!(r#"<qti-hotspot-interaction response-identifier="RESPONSE"><img src="../img/k.png" alt="k"/><qti-hotspot-choice identifier="A" shape="circle" coords="1,2,3"/></qti-hotspot-interaction>"#), "needs width and height"),
        (format!(r#"<qti-hotspot-interaction response-identifier="RESPONSE">{img}</qti-hotspot-interaction>"#), "without qti-hotspot-choice"),
        (format!(r#"<qti-hotspot-interaction response-identifier="RESPONSE">{img}<qti-hotspot-choice identifier="A" shape="star" coords="1,2,3"/></qti-hotspot-interaction>"#), "shape \"star\""),
        (format!(r#"<qti-graphic-gap-match-interaction response-identifier="RESPONSE">{img}<qti-associable-hotspot identifier="A" shape="default"/></qti-graphic-gap-match-interaction>"#), "without qti-gap-img"),
        (r#"<qti-select-point-interaction response-identifier="RESPONSE"/>"#.to_string(), "without an image"),
        (r#"<qti-hotspot-choice identifier="A" shape="default"/>"#.to_string(), "in the wrong place"),
    ] {
        let err = import_item(item_with_body(&body).as_bytes(), &[("img/k.png", b"\x89PNG")]).unwrap_err().to_string();
        assert!(err.contains(says), "{body}: {err}");
    }
}

/// Public items that were refused: an `<object>` without width and height
/// (1EdTech interactionMixSaxonyV3 Hotspot_278940407: a JPEG) takes the
/// image's own size; a `<picture>` as the picture (1EdTech BPIG
/// example-graphic-assoc-1alt) uses its `<img>`. An SVG without a size
/// cannot be measured and is refused by name.
#[test]
fn graphic_image_size_from_the_file_and_a_picture_element() {
    // A PNG header: 300 × 120.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    png.extend_from_slice(&300u32.to_be_bytes());
    png.extend_from_slice(&120u32.to_be_bytes());
    png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    let spot = r#"<qti-hotspot-choice identifier="A" shape="circle" coords="10,10,5"/>"#;
    let body = format!(r#"<qti-hotspot-interaction response-identifier="RESPONSE"><object data="../img/k.png" type="image/png">Kaart</object>{spot}</qti-hotspot-interaction>"#);
    let i = import_item(item_with_body(&body).as_bytes(), &[("img/k.png", &png)]).unwrap();
    let Node::GraphicInteraction(g) = &i.items()[0].body[0] else { panic!("{:?}", i.items()[0].body) };
    assert_eq!((g.image.width, g.image.height, g.image.alt.as_str()), (300.0, 120.0, "Kaart"));
    let body = format!(r#"<qti-hotspot-interaction response-identifier="RESPONSE"><picture><source srcset="../img/k.svg" type="image/svg"/><img src="../img/k.png" alt="Kaart" width="206" height="280"/></picture>{spot}</qti-hotspot-interaction>"#);
    let i = import_item(item_with_body(&body).as_bytes(), &[("img/k.png", &png)]).unwrap();
    let Node::GraphicInteraction(g) = &i.items()[0].body[0] else { panic!() };
    assert_eq!((g.image.src.as_str(), g.image.width, g.image.height), ("img/k.png", 206.0, 280.0), "the given size wins over the file's");
    let body = format!(r#"<qti-hotspot-interaction response-identifier="RESPONSE"><img src="../img/k.svg" alt="Kaart"/>{spot}</qti-hotspot-interaction>"#);
    let err = import_item(item_with_body(&body).as_bytes(), &[("img/k.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>")]).unwrap_err().to_string();
    assert!(err.contains("needs width and height in pixels (its own size could not be read)"), "{err}");
}
/// Issue 18: content inside item bodies that was refused (MathML, object,
/// audio/video, picture, ruby, companion materials, stimuli, templates,
/// adaptive items, xi:include) — accepted, and safe.
mod content {
    use super::*;
    use kiosk_core::instrument::qti::{MathNode, Media};

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const MP3: &[u8] = b"ID3\x03\0\0\0\0\0\0";
    const VTT: &[u8] = b"WEBVTT\n\n00:00.000 --> 00:01.000\nHallo\n";

    fn body_of(i: &Instrument) -> Vec<Node> {
        i.items()[0].body.clone()
    }

    fn find<'n>(nodes: &'n [Node], pred: &dyn Fn(&Node) -> bool) -> Option<&'n Node> {
        for n in nodes {
            if pred(n) {
                return Some(n);
            }
            if let Node::Element { children, .. } = n {
                if let Some(f) = find(children, pred) {
                    return Some(f);
                }
            }
        }
        None
    }

    #[test]
    fn mathml_is_its_own_node_without_links_events_or_annotations() {
        let body = format!(
            r#"<p>Formule: <math xmlns="http://www.w3.org/1998/Math/MathML" display="block" alttext="E is m c kwadraat" onclick="steal()">
                <semantics>
                  <mrow href="https://evil.example/"><mi onmouseover="x()">E</mi><mo>=</mo><mi>m</mi><msup><mi>c</mi><mn>2</mn></msup><mfrac><mn>1</mn><msqrt><mn>2</mn></msqrt></mfrac></mrow>
                  <annotation encoding="application/x-tex">GEHEIM-TEX</annotation>
                  <annotation-xml encoding="application/xhtml+xml"><p xmlns="http://www.w3.org/1999/xhtml" onclick="a()">GEHEIM-HTML</p></annotation-xml>
                </semantics>
              </math></p>{CHOICE}"#
        );
        let i = import_item(item_with_body(&body).as_bytes(), &[]).unwrap();
        let body = body_of(&i);
        let Some(Node::Math(math)) = find(&body, &|n| matches!(n, Node::Math(_))) else { panic!("no math node: {body:?}") };
        assert_eq!(math.tag, "math");
        assert_eq!(math.attrs.get("alttext").map(String::as_str), Some("E is m c kwadraat"));
        assert_eq!(math.attrs.get("display").map(String::as_str), Some("block"));
        let MathNode::Mathml(sem) = &math.children[0] else { panic!() };
        assert_eq!((sem.tag.as_str(), sem.children.len()), ("semantics", 1), "annotations are left out");
        // The body as the web view gets it (the notices name what was dropped).
        let json = serde_json::to_string(&body).unwrap();
        for bad in ["onclick", "onmouseover", "evil.example", "href", "GEHEIM-TEX", "GEHEIM-HTML", "annotation"] {
            assert!(!json.contains(bad), "{bad} reached the render model: {json}");
        }
        assert!(json.contains(r#""tag":"msqrt""#) && json.contains(r#""text":"E""#), "{json}");
        let dropped: Vec<&str> = i.test.notices.iter().map(|n| n.construct.as_str()).collect();
        assert!(dropped.iter().any(|c| c.contains("onclick")) && dropped.iter().any(|c| c.contains("href")), "{dropped:?}");
    }

    #[test]
    fn script_and_unknown_elements_inside_mathml_are_refused_by_name() {
        for (inner, construct) in [
            ("<mrow><script>alert(1)</script></mrow>", "<script>"),
            ("<maction actiontype=\"toggle\"><mi>a</mi><mi>b</mi></maction>", "<maction>"),
            ("<mi><mglyph src=\"x.png\"/></mi>", "<mglyph>"),
            ("<apply><plus/><ci>a</ci></apply>", "<apply>"),
        ] {
            let body = format!("<p><math>{inner}</math></p>{CHOICE}");
            let err = import_item(item_with_body(&body).as_bytes(), &[]).unwrap_err();
            assert!(matches!(&err, QtiError::Unsupported { construct: c, .. } if c == construct), "{inner}: {err}");
        }
    }

    #[test]
    fn an_object_is_an_image_audio_or_refused() {
        let body = format!(r#"<p><object type="image/png" data="../img/kaart.png" width="200">Kaart van Nederland</object></p>{CHOICE}"#);
        let i = import_item(item_with_body(&body).as_bytes(), &[("img/kaart.png", PNG)]).unwrap();
        let b = body_of(&i);
        let Some(Node::Image { src, alt, width, .. }) = find(&b, &|n| matches!(n, Node::Image { .. })) else { panic!("{b:?}") };
        assert_eq!((src.as_str(), alt.as_str(), width.as_deref()), ("img/kaart.png", "Kaart van Nederland", Some("200")));
        // The content decides, not the declared type: an "image" that is HTML is refused.
        let body = format!(r#"<object type="image/png" data="../img/kaart.png"/>{CHOICE}"#);
        let err = import_item(item_with_body(&body).as_bytes(), &[("img/kaart.png", b"<!DOCTYPE html><html><script>x</script>")]).unwrap_err();
        assert!(matches!(&err, QtiError::Unsupported { construct, reason, .. } if construct == "<object>" && reason.contains("HTML")), "{err}");
        // Audio in an object: a media node.
        let body = format!(r#"<object type="audio/mpeg" data="../media/fragment.mp3" aria-label="Fragment"/>{CHOICE}"#);
        let i = import_item(item_with_body(&body).as_bytes(), &[("media/fragment.mp3", MP3)]).unwrap();
        assert!(matches!(&body_of(&i)[0], Node::Media(Media { kind, label, .. }) if kind == "audio" && label == "Fragment"));
        // Outside the package or on the network: refused (a hard stop).
        for data in ["../../geheim.png", "https://cdn.example/x.png", "//if-cdn.com/SmRN6KT"] {
            let body = format!(r#"<object type="image/png" data="{data}"/>{CHOICE}"#);
            let err = import_item(item_with_body(&body).as_bytes(), &[]).unwrap_err();
            assert!(matches!(&err, QtiError::BadReference { .. }), "{data}: {err}");
        }
    }

    #[test]
    fn audio_and_video_come_from_the_package_with_controls_and_captions() {
        let body = format!(
            r#"<video width="320" autoplay="autoplay" loop="loop" poster="../img/kaart.png"><source src="../media/film.mp4" type="video/mp4"/><track kind="captions" src="../media/film.vtt" srclang="nl" label="Nederlands" default="default"/>Een film over dijken</video>{CHOICE}"#
        );
        let mp4: &[u8] = b"\0\0\0\x18ftypmp42\0\0\0\0";
        let i = import_item(item_with_body(&body).as_bytes(), &[("media/film.mp4", mp4), ("media/film.vtt", VTT), ("img/kaart.png", PNG)]).unwrap();
        let Node::Media(m) = &body_of(&i)[0] else { panic!() };
        assert_eq!((m.kind.as_str(), m.sources[0].src.as_str(), m.sources[0].mime.as_str()), ("video", "media/film.mp4", "video/mp4"));
        assert_eq!((m.tracks[0].src.as_str(), m.tracks[0].kind.as_str(), m.tracks[0].default), ("media/film.vtt", "captions", true));
        assert_eq!((m.poster.as_deref(), m.label.as_str()), (Some("img/kaart.png"), "Een film over dijken"));
        let json = serde_json::to_string(&body_of(&i)).unwrap();
        assert!(!json.contains("autoplay") && !json.contains("loop"), "{json}");
        let err = import_item(item_with_body(&format!(r#"<audio src="https://radio.example/live.mp3"/>{CHOICE}"#)).as_bytes(), &[]).unwrap_err();
        assert!(matches!(&err, QtiError::BadReference { .. }), "{err}");
        let err = import_item(item_with_body(&format!(r#"<audio src="../img/kaart.png"/>{CHOICE}"#)).as_bytes(), &[("img/kaart.png", PNG)]).unwrap_err();
        assert!(matches!(&err, QtiError::Unsupported { reason, .. } if reason.contains("not audio or video")), "{err}");
    }

    #[test]
    fn picture_ruby_and_xinclude() {
        let body = format!(
            r#"<picture><source srcset="../img/groot.webp 2x" type="image/webp"/><img src="../img/kaart.png" alt="Kaart"/></picture>
            <p><ruby><rb>漢</rb><rp>(</rp><rt>kan</rt><rp>)</rp></ruby></p>
            <xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="fragment.xml" parse="xml"/>{CHOICE}"#
        );
        let webp: &[u8] = b"RIFF\0\0\0\0WEBPVP8 ";
        let fragment: &[u8] = b"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Uit het fragment</p></div>";
        let i = import_item(item_with_body(&body).as_bytes(), &[("img/groot.webp", webp), ("img/kaart.png", PNG), ("items/fragment.xml", fragment)]).unwrap();
        let b = body_of(&i);
        assert!(matches!(&b[0], Node::Image { src, alt, .. } if src == "img/groot.webp" && alt == "Kaart"), "{b:?}");
        let json = i.render_json().unwrap();
        assert!(json.contains(r#""tag":"rb""#) && json.contains("Uit het fragment"), "{json}");
        let err = import_item(item_with_body(&format!(r#"<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="../../x.xml"/>{CHOICE}"#)).as_bytes(), &[]).unwrap_err();
        assert!(matches!(&err, QtiError::BadReference { .. }), "{err}");
    }

    fn item_with(decls: &str, body: &str, extra: &str) -> String {
        format!(
            r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="x" title="x" {extra}>
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier"/>
  {decls}
  <qti-item-body>{body}</qti-item-body>
  <qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct"/>
</qti-assessment-item>"#
        )
    }

    #[test]
    fn companion_materials_are_carried_not_refused() {
        let decls = r#"<qti-companion-materials-info>
            <qti-calculator><qti-calculator-type>basic</qti-calculator-type><qti-description/></qti-calculator>
            <qti-rule><qti-description>Liniaal</qti-description><qti-rule-system-si><qti-minimum-length>20</qti-minimum-length><qti-minor-increment unit="mm">1</qti-minor-increment></qti-rule-system-si></qti-rule>
            <qti-protractor><qti-description/></qti-protractor>
            <qti-digital-material label="Periodiek systeem" mime-type="image/png"><qti-file-href>../img/kaart.png</qti-file-href></qti-digital-material>
            <dep-symbolPicker><dep-symbols>€</dep-symbols></dep-symbolPicker>
          </qti-companion-materials-info>"#;
        let i = import_item(item_with(decls, CHOICE, "").as_bytes(), &[("img/kaart.png", PNG)]).unwrap();
        let c = i.items()[0].companion.clone().expect("companion materials");
        assert_eq!((c.calculators[0].kind.as_str(), c.rules[0].kind.as_str(), c.protractors.len()), ("basic", "mm", 1));
        assert_eq!((c.materials[0].label.as_str(), c.materials[0].src.as_str()), ("Periodiek systeem", "img/kaart.png"));
        let report = i.report();
        assert!(report[0].notes.iter().any(|n| n == "hulpmiddelen: rekenmachine (basis), liniaal (mm), geodriehoek, naslag Periodiek systeem"), "{:?}", report[0].notes);
        // A PDF is shown too (pdf.js in the kiosk); another kind of file is
        // listed with what that means.
        let pdf = decls.replace(r#"mime-type="image/png"><qti-file-href>../img/kaart.png"#, r#"mime-type="application/pdf"><qti-file-href>../img/kaart.pdf"#);
        let i = import_item(item_with(&pdf, CHOICE, "").as_bytes(), &[("img/kaart.pdf", b"%PDF-1.4")]).unwrap();
        assert!(i.report()[0].notes.iter().any(|n| n.contains("naslag Periodiek systeem (pdf)")), "{:?}", i.report()[0].notes);
        assert!(i.warnings.is_empty(), "{:?}", i.warnings);
        // Pack says what the kiosk's pdf.js will not show as the committee sees it.
        let long_scan: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Pages /Kids [] /Count 25 >> endobj 2 0 obj << /Filter /JPXDecode >> endobj";
        let i = import_item(item_with(&pdf, CHOICE, "").as_bytes(), &[("img/kaart.pdf", long_scan)]).unwrap();
        let said: Vec<String> = i.warnings.iter().map(ToString::to_string).collect();
        assert!(said.iter().any(|w| w.contains("img/kaart.pdf has 25 pages; the kiosk shows the first 20")), "{said:?}");
        assert!(said.iter().any(|w| w.contains("JPEG 2000 or JBIG2 images")), "{said:?}");
        let i = import_item(item_with(&pdf, CHOICE, "").as_bytes(), &[("img/kaart.pdf", b"PK\x03\x04")]).unwrap();
        assert!(i.warnings.iter().any(|w| w.to_string().contains("is named .pdf but is no PDF")), "{:?}", i.warnings);
        let doc = decls.replace(r#"mime-type="image/png"><qti-file-href>../img/kaart.png"#, r#"><qti-file-href>../img/kaart.docx"#);
        let i = import_item(item_with(&doc, CHOICE, "").as_bytes(), &[("img/kaart.docx", b"PK\x03\x04")]).unwrap();
        assert!(i.report()[0].notes.iter().any(|n| n.contains("naslag Periodiek systeem (geen afbeelding of pdf: de kiosk kan dit niet tonen; geef het op papier)")), "{:?}", i.report()[0].notes);
        // A material outside the package is refused like any reference.
        let bad = decls.replace("../img/kaart.png", "../../etc/passwd");
        assert!(matches!(import_item(item_with(&bad, CHOICE, "").as_bytes(), &[]).unwrap_err(), QtiError::BadReference { .. }));
    }

    /// Issue 19: the accessibility catalog's spoken alternatives reach
    /// read-aloud (in the item's language), only for content the page shows.
    #[test]
    fn the_catalogs_spoken_text_is_kept_for_read_aloud() {
        let decls = r#"<qti-catalog-info>
            <qti-catalog id="water">
              <qti-card support="spoken">
                <qti-card-entry xml:lang="en"><qti-html-content>H two O</qti-html-content></qti-card-entry>
                <qti-card-entry xml:lang="nl" default="true"><qti-html-content>H twee <b>O</b></qti-html-content></qti-card-entry>
              </qti-card>
              <qti-card support="sign-language"><qti-file-href mime-type="video/mp4">gebaar.mp4</qti-file-href></qti-card>
            </qti-catalog>
            <qti-catalog id="sleutel"><qti-card support="spoken"><qti-html-content>verbranding</qti-html-content></qti-card></qti-catalog>
          </qti-catalog-info>"#;
        let body = format!(
            r#"<p>Formule: <span data-catalog-idref="water">H<sub>2</sub>O</span></p>
            <qti-rubric-block view="scorer" use="scoring"><p data-catalog-idref="sleutel">Goed antwoord</p></qti-rubric-block>
            <p data-catalog-idref="bad id!">x</p>{CHOICE}"#
        );
        let i = import_item(item_with(decls, &body, r#"xml:lang="nl-NL""#).as_bytes(), &[]).unwrap();
        let item = &i.items()[0];
        assert_eq!(item.spoken.get("water").map(String::as_str), Some("H twee O"), "the Dutch entry, as plain text");
        assert!(!item.spoken.contains_key("sleutel"), "a removed scorer's block is not spoken: {:?}", item.spoken);
        let json = i.render_json().unwrap();
        assert!(json.contains(r#""data-catalog-idref":"water""#) && !json.contains("verbranding") && !json.contains(r#""data-catalog-idref":"bad id!""#), "{json}");
        assert!(i.test.notices.iter().any(|n| n.construct == "<qti-catalog-info>" && n.reason.contains("only the catalog's spoken text")), "{:?}", i.test.notices);
    }

    #[test]
    fn adaptive_items_are_accepted_and_reported() {
        let i = import_item(item_with("", CHOICE, r#"adaptive="true""#).as_bytes(), &[]).unwrap();
        assert!(i.items()[0].adaptive);
        assert!(i.report()[0].notes[0].contains("de eerste inzending wordt gescoord"), "{:?}", i.report()[0].notes);
    }

    #[test]
    fn a_stimulus_is_resolved_in_the_package_and_shown_with_the_item() {
        let stimulus: &[u8] = br#"<qti-assessment-stimulus xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="st" title="Dijken" xml:lang="nl">
  <qti-stylesheet href="stijl.css" type="text/css"/>
  <qti-stimulus-body><p style="color:red">Nederland ligt voor een deel onder zeeniveau.</p><img src="../img/kaart.png" alt="Kaart"/></qti-stimulus-body>
</qti-assessment-stimulus>"#;
        let decls = r#"<qti-assessment-stimulus-ref identifier="st" href="../stimuli/dijken.xml" title="Dijken"/>"#;
        let extra = [("stimuli/dijken.xml", stimulus), ("stimuli/stijl.css", b"p{}" as &[u8]), ("img/kaart.png", PNG)];
        let i = import_item(item_with(decls, CHOICE, "").as_bytes(), &extra).unwrap();
        let s = &i.items()[0].stimuli[0];
        assert_eq!((s.href.as_str(), s.title.as_str(), s.lang.as_deref(), s.stylesheets.as_slice()), ("stimuli/dijken.xml", "Dijken", Some("nl"), &["stimuli/stijl.css".to_string()][..]));
        let json = i.render_json().unwrap();
        assert!(json.contains("onder zeeniveau") && !json.contains("color:red"), "{json}");
        // An image without alt in the stimulus: the warning names the stimulus file and the item.
        let no_alt = String::from_utf8_lossy(stimulus).replace(r#" alt="Kaart""#, "");
        let extra3 = [("stimuli/dijken.xml", no_alt.as_bytes()), ("stimuli/stijl.css", b"p{}" as &[u8]), ("img/kaart.png", PNG)];
        let w = import_item(item_with(decls, CHOICE, "").as_bytes(), &extra3).unwrap().warnings;
        assert_eq!((w.len(), w[0].file.as_str(), w[0].item.as_deref(), w[0].line), (1, "stimuli/dijken.xml", Some("x"), 3), "{w:?}");
        // Outside the package: refused; an interaction inside a stimulus: refused.
        let bad = decls.replace("../stimuli/dijken.xml", "../../dijken.xml");
        assert!(matches!(import_item(item_with(&bad, CHOICE, "").as_bytes(), &extra).unwrap_err(), QtiError::BadReference { .. }));
        let with_interaction = String::from_utf8_lossy(stimulus).replace("<img ", &format!("{CHOICE}<img "));
        let extra2 = [("stimuli/dijken.xml", with_interaction.as_bytes()), ("stimuli/stijl.css", b"p{}" as &[u8]), ("img/kaart.png", PNG)];
        let err = import_item(item_with(decls, "<p>x</p>", "").as_bytes(), &extra2).unwrap_err();
        assert!(err.to_string().contains("a stimulus holds no interactions"), "{err}");
    }

    #[test]
    fn templates_are_evaluated_at_pack_time_and_keys_never_printed() {
        let decls = r#"<qti-template-declaration identifier="PRIJS" cardinality="single" base-type="float"><qti-default-value><qti-value>2.5</qti-value></qti-default-value></qti-template-declaration>
          <qti-template-declaration identifier="AANTAL" cardinality="single" base-type="integer"/>
          <qti-template-declaration identifier="VARIANT" cardinality="single" base-type="identifier"/>
          <qti-template-declaration identifier="ANTWOORD" cardinality="single" base-type="identifier"/>
          <qti-template-processing>
            <qti-set-template-value identifier="AANTAL"><qti-base-value base-type="integer">4</qti-base-value></qti-set-template-value>
            <qti-set-template-value identifier="VARIANT"><qti-base-value base-type="identifier">kort</qti-base-value></qti-set-template-value>
            <qti-set-template-value identifier="ANTWOORD"><qti-base-value base-type="identifier">B-SLEUTEL</qti-base-value></qti-set-template-value>
            <qti-set-correct-response identifier="RESPONSE"><qti-variable identifier="ANTWOORD"/></qti-set-correct-response>
          </qti-template-processing>"#;
        let body = format!(
            r#"<p>Je koopt <qti-printed-variable identifier="AANTAL"/> pennen van € <qti-printed-variable identifier="PRIJS" format="%.2f"/>.</p>
            <qti-template-block template-identifier="VARIANT" identifier="kort" show-hide="show"><p>Korte uitleg</p></qti-template-block>
            <qti-template-block template-identifier="VARIANT" identifier="kort" show-hide="hide"><p>Lange uitleg</p></qti-template-block>{CHOICE}"#
        );
        let i = import_item(item_with(decls, &body, "").as_bytes(), &[]).unwrap();
        let json = i.render_json().unwrap();
        assert!(json.contains(r#""text":"4""#) && json.contains(r#""text":"2.50""#), "{json}");
        assert!(json.contains("Korte uitleg") && !json.contains("Lange uitleg"), "{json}");
        assert!(!json.contains("B-SLEUTEL"), "a template value that is a key reached the render model: {json}");
        assert_eq!(i.scoring.items[0].responses[0].correct, ["B-SLEUTEL"], "the key goes to the scoring");
        // Printing the key: refused. Random template processing: refused with why.
        let printed = format!(r#"<p><qti-printed-variable identifier="ANTWOORD"/></p>{CHOICE}"#);
        let err = import_item(item_with(decls, &printed, "").as_bytes(), &[]).unwrap_err();
        assert!(matches!(&err, QtiError::Unsupported { reason, .. } if reason.contains("would show the key")), "{err}");
        let outcome = format!(r#"<p><qti-printed-variable identifier="SCORE"/></p>{CHOICE}"#);
        let err = import_item(item_with(decls, &outcome, "").as_bytes(), &[]).unwrap_err();
        assert!(matches!(&err, QtiError::Unsupported { reason, .. } if reason.contains("not a template variable")), "{err}");
    }

    /// Issue 18: the kiosk never applies item stylesheets (it records them),
    /// so one missing from the package is a warning naming item and file;
    /// a missing image or stimulus is still a refusal.
    #[test]
    fn a_missing_stylesheet_is_a_warning_a_missing_image_or_stimulus_a_refusal() {
        let decls = r#"<qti-stylesheet href="../css/weg.css" type="text/css"/><qti-stylesheet href="../css/er.css" type="text/css"/>"#;
        let i = import_item(item_with(decls, CHOICE, "").as_bytes(), &[("css/er.css", b"p{}")]).unwrap();
        assert_eq!(i.items()[0].stylesheets, ["css/er.css"]);
        let w: Vec<String> = i.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("items/item.xml:3:3: item x: stylesheet css/weg.css is not in the package"), "{w:?}");
        // In a stimulus: named by the stimulus file and the item.
        let stimulus: &[u8] = br#"<qti-assessment-stimulus xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="st" title="s">
  <qti-stylesheet href="weg.css" type="text/css"/>
  <qti-stimulus-body><p>Tekst</p></qti-stimulus-body>
</qti-assessment-stimulus>"#;
        let st = r#"<qti-assessment-stimulus-ref identifier="st" href="../stimuli/s.xml"/>"#;
        let i = import_item(item_with(st, CHOICE, "").as_bytes(), &[("stimuli/s.xml", stimulus)]).unwrap();
        let w = &i.warnings;
        assert_eq!((w.len(), w[0].file.as_str(), w[0].item.as_deref(), w[0].line), (1, "stimuli/s.xml", Some("x"), 2), "{w:?}");
        assert!(w[0].message.contains("stylesheet stimuli/weg.css is not in the package"), "{w:?}");
        // A stylesheet reference that leaves the package: still refused.
        let out = r#"<qti-stylesheet href="../../weg.css" type="text/css"/>"#;
        assert!(matches!(import_item(item_with(out, CHOICE, "").as_bytes(), &[]).unwrap_err(), QtiError::BadReference { .. }));
        // A missing image or stimulus: refused, naming the file.
        let img = format!(r#"<p><img src="../img/weg.png" alt="x"/></p>{CHOICE}"#);
        let err = import_item(item_with("", &img, "").as_bytes(), &[]).unwrap_err();
        assert!(matches!(&err, QtiError::MissingFile { path, .. } if path == "img/weg.png"), "{err}");
        let err = import_item(item_with(st, CHOICE, "").as_bytes(), &[]).unwrap_err();
        assert!(matches!(&err, QtiError::MissingFile { path, .. } if path == "stimuli/s.xml"), "{err}");
    }

    /// Random template values (issue 18): evaluated at pack time with draws
    /// seeded by the item file's SHA-256, so the signed instrument is one
    /// fixed variant, the same for every student and on every re-pack.
    #[test]
    fn random_templates_are_one_variant_fixed_by_the_item_content() {
        use kiosk_core::instrument::qti::MathNode;
        let decls = r#"<qti-template-declaration identifier="A" cardinality="single" base-type="integer" math-variable="true"/>
          <qti-template-declaration identifier="B" cardinality="single" base-type="integer"/>
          <qti-template-declaration identifier="MENSEN" cardinality="single" base-type="string"/>
          <qti-template-declaration identifier="TOTAAL" cardinality="single" base-type="integer"/>
          <qti-template-declaration identifier="SLEUTEL" cardinality="single" base-type="identifier"/>
          <qti-template-processing>
            <qti-set-template-value identifier="A"><qti-random-integer min="2" max="40" step="2"/></qti-set-template-value>
            <qti-template-constraint><qti-equal><qti-integer-modulus><qti-variable identifier="A"/><qti-base-value base-type="integer">4</qti-base-value></qti-integer-modulus><qti-base-value base-type="integer">0</qti-base-value></qti-equal></qti-template-constraint>
            <qti-set-template-value identifier="MENSEN"><qti-random><qti-multiple><qti-base-value base-type="string">mannen</qti-base-value><qti-base-value base-type="string">vrouwen</qti-base-value></qti-multiple></qti-random></qti-set-template-value>
            <qti-template-condition>
              <qti-template-if><qti-gt><qti-variable identifier="A"/><qti-base-value base-type="integer">20</qti-base-value></qti-gt>
                <qti-set-template-value identifier="B"><qti-base-value base-type="integer">3</qti-base-value></qti-set-template-value>
                <qti-set-template-value identifier="SLEUTEL"><qti-base-value base-type="identifier">GROOT</qti-base-value></qti-set-template-value></qti-template-if>
              <qti-template-else>
                <qti-set-template-value identifier="B"><qti-base-value base-type="integer">5</qti-base-value></qti-set-template-value>
                <qti-set-template-value identifier="SLEUTEL"><qti-base-value base-type="identifier">KLEIN</qti-base-value></qti-set-template-value></qti-template-else>
            </qti-template-condition>
            <qti-set-template-value identifier="TOTAAL"><qti-product><qti-variable identifier="A"/><qti-variable identifier="B"/></qti-product></qti-set-template-value>
            <qti-set-correct-response identifier="RESPONSE"><qti-variable identifier="SLEUTEL"/></qti-set-correct-response>
          </qti-template-processing>"#;
        let body = format!(
            r#"<p>[<qti-printed-variable identifier="A"/>|<qti-printed-variable identifier="MENSEN"/>|<qti-printed-variable identifier="B"/>|<qti-printed-variable identifier="TOTAAL"/>]</p><p><math xmlns="http://www.w3.org/1998/Math/MathML"><mi>A</mi><mo>+</mo><mi>x</mi></math></p>{CHOICE}"#
        );
        let printed = |i: &Instrument| -> Vec<String> {
            let mut texts = Vec::new();
            fn walk(n: &[Node], out: &mut Vec<String>) {
                for n in n {
                    match n {
                        Node::Text { text } => out.push(text.clone()),
                        Node::Element { children, .. } => walk(children, out),
                        _ => {}
                    }
                }
            }
            walk(&i.items()[0].body, &mut texts);
            let all = texts.concat();
            let inner = all.split_once('[').unwrap().1.split_once(']').unwrap().0;
            inner.split('|').map(String::from).collect()
        };
        let mut seen_a = std::collections::BTreeSet::new();
        for variant in 0..8 {
            // Another item file (its title differs): another seed.
            let item = item_with(decls, &body, "").replace(r#"title="x""#, &format!(r#"title="x{variant}""#));
            let i = import_item(item.as_bytes(), &[]).unwrap();
            // Re-packing the same bytes: the same values, the same key.
            let again = import_item(item.as_bytes(), &[]).unwrap();
            assert_eq!(i.render_json().unwrap(), again.render_json().unwrap());
            assert_eq!(i.scoring, again.scoring);
            let v = printed(&i);
            let (a, b, total): (i64, i64, i64) = (v[0].parse().unwrap(), v[2].parse().unwrap(), v[3].parse().unwrap());
            assert!(a % 4 == 0 && (4..=40).contains(&a), "the constraint holds and the draw is in range: {v:?}");
            assert!(v[1] == "mannen" || v[1] == "vrouwen", "{v:?}");
            assert_eq!((b, total), if a > 20 { (3, a * 3) } else { (5, a * 5) }, "{v:?}");
            // A math variable: <mi>A</mi> shows A's value as a number; another <mi> stays.
            let Node::Element { children, .. } = &i.items()[0].body[1] else { panic!("{:?}", i.items()[0].body) };
            let Node::Math(math) = &children[0] else { panic!("{children:?}") };
            let mi: Vec<(String, String)> = math
                .children
                .iter()
                .map(|c| match c {
                    MathNode::Mathml(m) => (m.tag.clone(), match m.children.as_slice() { [MathNode::Text { text }] => text.clone(), _ => String::new() }),
                    MathNode::Text { text } => (String::new(), text.clone()),
                })
                .collect();
            assert_eq!(mi, [("mn".to_string(), a.to_string()), ("mo".into(), "+".into()), ("mi".into(), "x".into())]);
            let key = if a > 20 { "GROOT" } else { "KLEIN" };
            assert_eq!(i.scoring.items[0].responses[0].correct, [key]);
            let json = i.render_json().unwrap();
            assert!(!json.contains(key), "the key reached the render model: {json}");
            // Pack's report says where the values come from.
            assert!(i.items()[0].template_variant);
            assert!(i.report()[0].notes.iter().any(|n| n == "sjabloon: vaste variant, gekozen bij het inpakken"), "{:?}", i.report()[0].notes);
            seen_a.insert(a);
        }
        assert!(seen_a.len() > 1, "the variant depends on the item's content: {seen_a:?}");
        // Printing the variable the correct response takes unchanged: refused.
        let shows_key = format!(r#"<p><qti-printed-variable identifier="SLEUTEL"/></p>{CHOICE}"#);
        let err = import_item(item_with(decls, &shows_key, "").as_bytes(), &[]).unwrap_err();
        assert!(matches!(&err, QtiError::Unsupported { reason, .. } if reason.contains("would show the key")), "{err}");
        // A constraint that never holds: refused, saying so.
        let impossible = decls.replace("min=\"2\" max=\"40\" step=\"2\"", "min=\"1\" max=\"1\"");
        let err = import_item(item_with(&impossible, &body, "").as_bytes(), &[]).unwrap_err();
        assert!(err.to_string().contains("qti-template-constraint is still not met after 100 draws"), "{err}");
    }

    /// The fixture package tests/fixtures/qti/content (shoot.mjs --instrument
    /// content): every construct together, and no correct answer in the
    /// render model (the template item's key is set by template processing).
    #[test]
    fn the_content_fixture_imports_without_keys() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/qti/content");
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, root, out);
                } else {
                    out.insert(p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"), std::fs::read(&p).unwrap());
                }
            }
        }
        walk(&root, &root, &mut files);
        let i = import(&|p: &str| files.get(p).map(Vec::as_slice)).unwrap();
        assert_eq!(i.test.item_count, 5);
        let items = i.items();
        assert!(items[1].adaptive && items[1].companion.is_some() && items[2].stimuli.len() == 1);
        let bodies = serde_json::to_string(&items.iter().map(|it| (&it.body, &it.stimuli)).collect::<Vec<_>>()).unwrap();
        assert!(bodies.contains(r#""type":"math""#) && bodies.contains(r#""type":"media""#) && bodies.contains("40.00"), "{bodies}");
        let sjabloon = serde_json::to_string(&items[4].body).unwrap();
        assert!(!sjabloon.contains("30"), "the template item's key (30) reached the render model: {sjabloon}");
        assert_eq!(i.scoring.items[4].responses[0].correct, ["30"]);
    }
}
