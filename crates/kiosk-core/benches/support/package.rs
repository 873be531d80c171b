//! The benchmark instrument: a QTI 3.0 test of `items` items, each with a
//! table, a choice interaction and its own image, and `media_bytes` of media
//! in total (bytes from `fill`: random, incompressible like photos). Shared by
//! the criterion bench (`benches/instrument.rs`) and the app benchmark
//! (`tests/e2e/src/bin/first-item-bench.rs`, through `#[path]`).
#![allow(dead_code)]

fn item_xml(n: usize) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="i{n}" title="Vraag {n}" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>B</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
  <qti-item-body>
    <p>Bekijk de afbeelding en de tabel en beantwoord de vraag. Dit is vraag {n} van de toets.</p>
    <p><img src="../media/m{n}.png" alt="Afbeelding bij vraag {n}"/></p>
    <table><thead><tr><th>Artikel</th><th>Prijs</th></tr></thead>
      <tbody><tr><td>Pasta</td><td>1,29</td></tr><tr><td>Rijst</td><td>2,49</td></tr></tbody></table>
    <qti-choice-interaction response-identifier="RESPONSE" shuffle="true" max-choices="1">
      <qti-prompt>Welk antwoord is juist?</qti-prompt>
      <qti-simple-choice identifier="A">Antwoord A</qti-simple-choice>
      <qti-simple-choice identifier="B">Antwoord B</qti-simple-choice>
      <qti-simple-choice identifier="C">Antwoord C</qti-simple-choice>
      <qti-simple-choice identifier="D">Antwoord D</qti-simple-choice>
    </qti-choice-interaction>
  </qti-item-body>
  <qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"/>
</qti-assessment-item>
"#
    )
}

/// The package's files (path, bytes).
pub fn files(items: usize, media_bytes: usize, mut fill: impl FnMut(&mut [u8])) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut resources = String::new();
    let mut refs = String::new();
    for n in 0..items {
        let mut media = vec![0u8; media_bytes / items];
        fill(&mut media);
        files.push((format!("media/m{n}.png"), media));
        files.push((format!("items/i{n}.xml"), item_xml(n).into_bytes()));
        resources.push_str(&format!(
            r#"<resource identifier="i{n}" type="imsqti_item_xmlv3p0" href="items/i{n}.xml"><file href="items/i{n}.xml"/><file href="media/m{n}.png"/></resource>"#
        ));
        refs.push_str(&format!(r#"<qti-assessment-item-ref identifier="ITM-{n}" href="items/i{n}.xml"/>"#));
    }
    files.push((
        "imsmanifest.xml".into(),
        format!(
            r#"<manifest identifier="M"><resources><resource identifier="t" type="imsqti_test_xmlv3p0" href="test.xml"><file href="test.xml"/></resource>{resources}</resources></manifest>"#
        )
        .into_bytes(),
    ));
    files.push((
        "test.xml".into(),
        format!(
            r#"<qti-assessment-test xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="bench" title="Bench"><qti-test-part identifier="p" navigation-mode="nonlinear" submission-mode="simultaneous"><qti-assessment-section identifier="s" title="S" visible="true">{refs}</qti-assessment-section></qti-test-part></qti-assessment-test>"#
        )
        .into_bytes(),
    ));
    files
}
