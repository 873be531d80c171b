//! Issue 18: no key ever reaches the web view. Every QTI package among the
//! fixtures is packed, opened and imported as the kiosk does it; the known
//! answer strings are read from its XML (text correct responses and mapping
//! keys, string values of response processing and outcome declarations,
//! template values the scoring uses, interpretations, and the text of
//! scorers' rubric blocks and of feedback); none of them may occur in the
//! render model the UI gets (with its media map), nor in any file the
//! shell's `exammedia:` scheme would serve for that instrument.

use exam_policy::SigningKey;
use kiosk_core::instrument::media::{hold, lookup, media_url, media_urls, MediaSlot};
use kiosk_core::instrument::running::RunningInstrument;
use kiosk_core::instrument::{pack, ContentKey, InstrumentTrust, PackInput, PackageContents, SealedPackage, TrustedSigner};
use quick_xml::events::{BytesStart, Event};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// Every directory with an `imsmanifest.xml` under `qti/` and `instruments/`.
fn packages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        if dir.join("imsmanifest.xml").is_file() {
            out.push(dir.to_path_buf());
        }
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
        entries.sort();
        for d in entries {
            walk(&d, out);
        }
    }
    let mut out = Vec::new();
    walk(&fixtures().join("qti"), &mut out);
    walk(&fixtures().join("instruments"), &mut out);
    out
}

/// Packed, verified and decrypted like the kiosk does at the start.
fn open(dir: &Path) -> PackageContents {
    open_files(PackInput::from_dir(dir).unwrap(), &dir.display().to_string())
}

fn open_files(files: Vec<(String, Vec<u8>)>, name: &str) -> PackageContents {
    let input = PackInput { instrument_id: String::new(), title: String::new(), version: "2026.1".into(), files, ..Default::default() };
    let signer = SigningKey::generate().unwrap();
    let key = ContentKey::generate().unwrap();
    let (bytes, _) = pack(&input, &signer, &key).unwrap_or_else(|e| panic!("{name}: {e}"));
    let trust = InstrumentTrust::new(vec![TrustedSigner { name: "examencommissie".into(), public_key: signer.public_key() }]);
    SealedPackage::parse(bytes).unwrap().verify(&trust).unwrap().decrypt(&key).unwrap()
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn local(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    name.rsplit(':').next().unwrap_or(&name).to_string()
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes().flatten().find(|a| local(a.key.as_ref()) == name).map(|a| a.unescape_value().map(|v| v.into_owned()).unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned()))
}

/// Elements whose whole content is for the scoring or for someone other
/// than the candidate.
fn is_secret(name: &str, e: &BytesStart<'_>) -> bool {
    match name {
        "qti-rubric-block" => !attr(e, "view").unwrap_or_default().split_whitespace().any(|v| v == "candidate"),
        "qti-feedback-block" | "qti-feedback-inline" | "qti-modal-feedback" | "qti-test-feedback" | "qti-response-declaration"
        | "qti-outcome-declaration" | "qti-response-processing" | "qti-outcome-processing" | "qti-template-processing"
        | "qti-template-declaration" => true,
        _ => false,
    }
}

/// What one XML file says in secret, and what it shows the candidate.
#[derive(Default)]
struct Read {
    /// Secret strings (answers, rubric and feedback text).
    secrets: BTreeSet<String>,
    /// Text outside secret parts (a secret that is also shown is no leak).
    visible: String,
    /// Template variable values by identifier.
    template_values: BTreeMap<String, Vec<String>>,
    /// Template variable copies: (to, from) of `qti-set-template-value` from a variable.
    copies: Vec<(String, String)>,
    /// Variables read by response processing or set as a correct response.
    scoring_vars: BTreeSet<String>,
}

/// Text `raw` found in the innermost of the open elements `stack`.
fn text(stack: &[Open], raw: &str, out: &mut Read) {
    let text = normalise(raw);
    if text.is_empty() {
        return;
    }
    let (name, secret, base_type, _) = stack.last().cloned().unwrap_or_default();
    let in_template = stack.iter().rev().find_map(|s| s.3.clone());
    if let Some(id) = in_template.filter(|_| matches!(name.as_str(), "qti-value" | "qti-base-value")) {
        out.template_values.entry(id).or_default().push(text.clone());
    }
    let in_rubric_or_feedback = stack
        .iter()
        .any(|s| matches!(s.0.as_str(), "qti-rubric-block" | "qti-feedback-block" | "qti-feedback-inline" | "qti-modal-feedback" | "qti-test-feedback"));
    if !secret {
        out.visible.push_str(&text);
        out.visible.push('\n');
    } else if in_rubric_or_feedback
        || (matches!(base_type.as_deref(), Some("string" | "point"))
            && matches!(name.as_str(), "qti-value" | "qti-base-value")
            && !stack.iter().any(|s| matches!(s.0.as_str(), "qti-template-declaration" | "qti-set-template-value")))
    {
        out.secrets.insert(text);
    }
}

/// An open element: local name, inside a secret part, base type in scope,
/// template variable set there.
type Open = (String, bool, Option<String>, Option<String>);

fn read_xml(bytes: &[u8]) -> Read {
    let mut out = Read::default();
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut stack: Vec<Open> = Vec::new();
    let mut buf = Vec::new();
    // Text of the current element so far: quick-xml gives text, CDATA and
    // each entity reference as events of their own.
    let mut pending = String::new();
    loop {
        let event = reader.read_event_into(&mut buf).unwrap();
        match &event {
            Event::Text(t) => pending.push_str(&t.decode().map(|c| c.into_owned()).unwrap_or_default()),
            Event::CData(t) => pending.push_str(&String::from_utf8_lossy(t)),
            Event::GeneralRef(r) => match r.resolve_char_ref() {
                Ok(Some(c)) => pending.push(c),
                _ => pending.push_str(match &**r {
                    b"amp" => "&",
                    b"lt" => "<",
                    b"gt" => ">",
                    b"quot" => "\"",
                    b"apos" => "'",
                    _ => " ",
                }),
            },
            _ => text(&stack, &std::mem::take(&mut pending), &mut out),
        }
        if matches!(event, Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)) {
            buf.clear();
            continue;
        }
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone().into_owned()), false),
            Event::Empty(e) => (Some(e.clone().into_owned()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = local(e.name().as_ref());
            let secret = stack.last().is_some_and(|s| s.1) || is_secret(&name, &e);
            let base_type = attr(&e, "base-type").or_else(|| stack.last().and_then(|s| s.2.clone()));
            let textual = base_type.as_deref() == Some("string");
            if secret {
                if textual {
                    if let Some(key) = attr(&e, "map-key") {
                        out.secrets.insert(key);
                    }
                }
                // Interpretations and lookup tables' values of outcomes.
                for a in ["interpretation", "target-value"] {
                    out.secrets.extend(attr(&e, a));
                }
                if matches!(name.as_str(), "qti-match-table" | "qti-interpolation-table") {
                    out.secrets.extend(attr(&e, "default-value"));
                }
                // An area mapping's areas are where the answer is.
                if name == "qti-area-map-entry" {
                    out.secrets.extend(attr(&e, "coords"));
                }
            }
            // What the candidate is shown in attributes (an item's title, an
            // image's alt), and the identifiers of what the body offers
            // (choices, hottexts, gaps…): the render model carries them by
            // design, the kiosk answers with them.
            let in_body = stack.iter().any(|s| s.0 == "qti-item-body");
            if in_body && !secret {
                if let Some(v) = attr(&e, "identifier") {
                    out.visible.push_str(&normalise(&v));
                    out.visible.push('\n');
                }
            }
            if !secret {
                for a in ["title", "alt", "aria-label", "label"] {
                    if let Some(v) = attr(&e, a) {
                        out.visible.push_str(&normalise(&v));
                        out.visible.push('\n');
                    }
                }
            }
            let in_tp = stack.iter().any(|s| s.0 == "qti-template-processing");
            let in_scoring = stack.iter().any(|s| matches!(s.0.as_str(), "qti-response-processing" | "qti-set-correct-response" | "qti-set-default-value"));
            if name == "qti-variable" {
                if let Some(id) = attr(&e, "identifier") {
                    if in_scoring {
                        out.scoring_vars.insert(id.clone());
                    }
                    if in_tp {
                        if let Some(target) = stack.iter().rev().find(|s| s.0 == "qti-set-template-value") {
                            out.copies.push((target.3.clone().unwrap_or_default(), id));
                        }
                    }
                }
            }
            if !empty {
                let tid = matches!(name.as_str(), "qti-set-template-value" | "qti-template-declaration").then(|| attr(&e, "identifier")).flatten();
                stack.push((name, secret, base_type, tid));
            }
            buf.clear();
            continue;
        }
        match event {
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    // Template variables the scoring uses, and every variable copied to or from one.
    let mut keys = out.scoring_vars.clone();
    loop {
        let before = keys.len();
        for (to, from) in &out.copies {
            if keys.contains(to) || keys.contains(from) {
                keys.insert(to.clone());
                keys.insert(from.clone());
            }
        }
        if keys.len() == before {
            break;
        }
    }
    for id in keys {
        out.secrets.extend(out.template_values.get(&id).cloned().unwrap_or_default());
    }
    out
}

/// The known answer strings of a package: secrets of its XML files that are
/// long enough to mean something (choice identifiers and short numbers are
/// in the render model by design) and that the candidate is not shown anyway.
fn known_answers(contents: &PackageContents) -> BTreeSet<String> {
    let mut secrets = BTreeSet::new();
    let mut visible = String::new();
    for path in contents.paths().filter(|p| p.ends_with(".xml")) {
        let read = read_xml(contents.file(path).unwrap());
        secrets.extend(read.secrets);
        visible.push_str(&read.visible);
    }
    secrets.into_iter().map(|s| normalise(&s)).filter(|s| s.chars().count() >= 5 && !visible.contains(s.as_str())).collect()
}

/// Everything the web view can read for this instrument: the strings of
/// what the UI gets (render model and media map), and the bytes of every
/// file of the package the `exammedia:` scheme serves.
fn web_view_can_read(contents: PackageContents) -> Vec<(String, String)> {
    let instrument = contents.import().unwrap();
    let urls = media_urls(&instrument.test, &contents);
    let paths: Vec<String> = contents.paths().map(String::from).collect();
    let ui = serde_json::to_value(RunningInstrument::qti(instrument.test, urls.clone())).unwrap();
    let mut out = Vec::new();
    // Object keys are the model's field names, attribute names and — in the
    // media map — package paths; only the last are content.
    fn strings(v: &serde_json::Value, in_media: bool, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::String(s) => out.push(("render model".into(), normalise(s))),
            serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, false, out)),
            serde_json::Value::Object(m) => m.iter().for_each(|(k, v)| {
                if in_media {
                    out.push(("media map key".into(), k.clone()));
                }
                strings(v, k == "media", out)
            }),
            _ => {}
        }
    }
    strings(&ui, false, &mut out);
    // The render model's strings side by side too (an answer split over inline elements).
    let all = out.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join("");
    out.push(("render model text".into(), normalise(&all)));
    let slot = MediaSlot::default();
    hold(&slot, contents, urls.into_keys());
    for path in paths {
        if let Some((bytes, _)) = lookup(&slot, &media_url(&path)) {
            out.push((format!("exammedia: {path}"), normalise(&String::from_utf8_lossy(&bytes))));
        }
    }
    out
}

fn leaks(dir: &Path) -> (usize, Vec<String>) {
    let answers = known_answers(&open(dir));
    let readable = web_view_can_read(open(dir));
    let mut found = Vec::new();
    for answer in &answers {
        for (place, text) in &readable {
            if text.contains(answer.as_str()) {
                found.push(format!("{}: {answer:?} in {place}", dir.display()));
            }
        }
    }
    (answers.len(), found)
}

#[test]
fn no_known_answer_reaches_the_web_view_for_any_fixture_package() {
    let dirs = packages();
    assert!(dirs.len() >= 8, "fixture packages found: {dirs:?}");
    let mut total = 0;
    let mut found = Vec::new();
    for dir in &dirs {
        let (n, mut l) = leaks(dir);
        total += n;
        found.append(&mut l);
    }
    assert!(found.is_empty(), "keys reach the web view:\n{}", found.join("\n"));
    // The test means something: the fixtures carry many known answers.
    assert!(total >= 20, "only {total} known answers in the fixtures");
}

/// The same check over packages made elsewhere: `ANSWER_KEYS_PACKAGES` names
/// a directory of package directories, e.g. the ones `cargo xtask
/// qti-coverage` wraps from a public corpus (target/qti-coverage/packages).
/// Packages the importer refuses are skipped. Without it (CI: the corpus
/// is not part of the repository) it runs on the fixture packages.
#[test]
fn no_known_answer_reaches_the_web_view_for_any_corpus_package() {
    // Without a corpus (CI): the packages among the fixtures, through pack's own refusals too.
    let root = std::env::var_os("ANSWER_KEYS_PACKAGES").map(PathBuf::from).unwrap_or_else(|| fixtures().join("qti"));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.join("imsmanifest.xml").is_file()).collect();
    dirs.sort();
    let (mut imported, mut with_answers, mut total, mut found) = (0, 0, 0, Vec::new());
    for dir in &dirs {
        let Ok(files) = PackInput::from_dir(dir) else { continue };
        let input = PackInput { instrument_id: String::new(), title: String::new(), version: "2026.1".into(), files, ..Default::default() };
        let signer = SigningKey::generate().unwrap();
        let key = ContentKey::generate().unwrap();
        if pack(&input, &signer, &key).is_err() {
            continue;
        }
        imported += 1;
        let (n, mut l) = leaks(dir);
        total += n;
        with_answers += usize::from(n > 0);
        found.append(&mut l);
    }
    eprintln!("{imported} of {} packages imported; {with_answers} with known answers, {total} in all", dirs.len());
    assert!(found.is_empty(), "keys reach the web view:\n{}", found.join("\n"));
    assert!(imported > 0, "no package of {} imports", root.display());
}

/// The keys fixture exercises every place a key hides: its known answers
/// are found (so the test above would see them leak).
#[test]
fn the_keys_fixture_has_a_known_answer_in_every_hiding_place() {
    let answers = known_answers(&open(&fixtures().join("qti/keys")));
    for expected in [
        "Rotterdam",                                          // string correct response and map key
        "Port of Rotterdam",                                  // map key
        "Rotterdam & Schiedam",                               // map key with an entity
        "Half goed: Rijnmond & Botlek (<ook> goed)",          // rubric text with an entity and CDATA
        "Roterdam (spelfout)",                                // string in response processing
        "Europoort ligt in Rotterdam",                        // outcome default value
        "Een punt voor de havenstad aan de Maas",             // interpretation
        "havenstad aan de Nieuwe Maas",                       // lookup table of an outcome
        "geen havenstad",                                     // its default
        "Goed is: de Maasvlakte bij Rotterdam",               // scorer rubric block (and the image only it shows)
        "Goed zo, de Maasstad.",                              // inline feedback
        "Niet goed: het is de stad met de Erasmusbrug.",      // feedback block
        "Juist: Rotterdam heeft de grootste haven.",          // modal feedback
        "twaalfduizend containers",                           // template value set as the correct response
        "Bedoeld zijn de Kreekraksluizen bij Rilland.",       // scorer rubric in a stimulus
        "Ook goed: sluizen bij Kreekrak.",                    // scorer rubric in an xi:include'd fragment
        "Denk aan de sluizen bij Rilland",                    // feedback in an <object>'s fallback text
        "Correctievoorschrift: geef voor elk juist havennaam-antwoord een punt.", // section rubric for scorers
        "312 187",                                            // correct point of a select-point interaction
        "nog niet beoordeeld door de corrector",              // test outcome default value
    ] {
        assert!(answers.contains(expected), "{expected:?} not among {answers:?}");
    }
    assert!(!answers.iter().any(|a| a.contains("Schrijf de naam")), "the candidate's rubric is no secret");
}

/// A real item (Cito, biology): its scorer's rubric block holds the
/// expected answer, which is a known answer the web view never gets.
#[test]
fn a_real_items_scorer_rubric_is_a_known_answer() {
    let answers = known_answers(&open(&fixtures().join("qti/keys-cito")));
    assert!(answers.contains("(een) indicator"), "{answers:?}");
}

/// An image only a scorer's rubric block shows (here: a worked answer) is
/// in the package but not served, nor in the media map; the item's own
/// image is.
#[test]
fn an_image_only_a_scorers_rubric_shows_is_not_served() {
    let contents = open(&fixtures().join("qti/keys"));
    let instrument = contents.import().unwrap();
    let urls = media_urls(&instrument.test, &contents);
    assert_eq!(urls.keys().map(String::as_str).collect::<Vec<_>>(), ["img/haven.png"]);
    let slot = MediaSlot::default();
    hold(&slot, contents, urls.into_keys());
    assert!(lookup(&slot, &media_url("img/haven.png")).is_some());
    assert_eq!(lookup(&slot, &media_url("img/uitwerking.png")), None);
}

/// Regression (issue 18): `exammedia:` served a file by its name; an XML
/// file (here a key list) that an `<img>` names `.png`, or an unused `.vtt`,
/// was served to the web view as it is.
#[test]
fn a_file_whose_content_is_not_its_name_is_not_served() {
    let dir = fixtures().join("qti/keys");
    let mut files: Vec<(String, Vec<u8>)> = PackInput::from_dir(&dir).unwrap();
    let keys = b"<?xml version=\"1.0\"?><sleutels><qti-value>Rotterdam</qti-value></sleutels>".to_vec();
    for (path, bytes) in &mut files {
        if path == "items/tekst.xml" {
            *bytes = String::from_utf8_lossy(bytes).replace("../img/haven.png", "../img/sleutels.png").into_bytes();
        }
    }
    files.push(("img/sleutels.png".into(), keys.clone()));
    files.push(("media/sleutels.vtt".into(), keys));
    let contents = open_files(files, "keys with an XML image");
    let instrument = contents.import().unwrap();
    assert!(instrument.render_json().unwrap().contains("img/sleutels.png"), "the item names it as an image");
    let urls = media_urls(&instrument.test, &contents);
    assert_eq!(urls.keys().map(String::as_str).collect::<Vec<_>>(), ["img/haven.png"]);
    let slot = MediaSlot::default();
    hold(&slot, contents, ["img/sleutels.png".to_string(), "media/sleutels.vtt".to_string()]);
    for path in ["img/sleutels.png", "media/sleutels.vtt"] {
        assert_eq!(lookup(&slot, &media_url(path)), None, "{path}");
    }
}

mod refused {
    //! Constructs that would put a key in the render model are refused, naming why.
    use kiosk_core::instrument::qti::{import, Instrument, QtiError};
    use std::collections::BTreeMap;

    const MANIFEST: &str = r#"<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="M">
  <resources><resource identifier="t" type="imsqti_test_xmlv3p0" href="test.xml"><file href="test.xml"/></resource></resources>
</manifest>"#;
    const TEST: &str = r#"<qti-assessment-test xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="T" title="T">
  <qti-test-part identifier="P" navigation-mode="linear" submission-mode="individual">
    <qti-assessment-section identifier="S" title="S" visible="true"><qti-assessment-item-ref identifier="I1" href="items/item.xml"/></qti-assessment-section>
  </qti-test-part>
</qti-assessment-test>"#;

    fn import_item(item: &str, extra: &[(&str, &[u8])]) -> Result<Instrument, QtiError> {
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        files.insert("imsmanifest.xml".into(), MANIFEST.into());
        files.insert("test.xml".into(), TEST.into());
        files.insert("items/item.xml".into(), item.into());
        for (p, b) in extra {
            files.insert((*p).into(), b.to_vec());
        }
        import(&|p: &str| files.get(p).map(Vec::as_slice)).map_err(|e| match e {
            QtiError::Items { mut problems, .. } if problems.len() == 1 => problems.remove(0).error,
            e => e,
        })
    }

    /// An item whose correct response is the template variable ANTWOORD,
    /// with `processing` and `shown` (what the body prints).
    fn template_item(processing: &str, shown: &str) -> String {
        format!(
            r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="x" title="x">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>
  <qti-template-declaration identifier="ANTWOORD" cardinality="single" base-type="string"/>
  <qti-template-declaration identifier="BASIS" cardinality="single" base-type="string"/>
  <qti-template-declaration identifier="KOPIE" cardinality="single" base-type="string"/>
  <qti-template-declaration identifier="GETAL" cardinality="single" base-type="integer"/>
  <qti-template-processing>
    <qti-set-template-value identifier="GETAL"><qti-base-value base-type="integer">7</qti-base-value></qti-set-template-value>
    {processing}
    <qti-set-correct-response identifier="RESPONSE"><qti-variable identifier="ANTWOORD"/></qti-set-correct-response>
  </qti-template-processing>
  <qti-item-body><p>{shown} <qti-text-entry-interaction response-identifier="RESPONSE"/></p></qti-item-body>
</qti-assessment-item>"#
        )
    }

    /// Regression (issue 18): a template variable copied from or into the
    /// correct response's variable holds the key too; printing it, or
    /// showing a block by it, was accepted and put the key in the render model.
    #[test]
    fn a_copy_of_a_template_key_is_a_key() {
        let base = r#"<qti-set-template-value identifier="BASIS"><qti-base-value base-type="string">zevenenveertig</qti-base-value></qti-set-template-value>"#;
        let to_key = format!(r#"{base}<qti-set-template-value identifier="ANTWOORD"><qti-variable identifier="BASIS"/></qti-set-template-value>"#);
        let from_key = r#"<qti-set-template-value identifier="ANTWOORD"><qti-base-value base-type="string">zevenenveertig</qti-base-value></qti-set-template-value>
            <qti-set-template-value identifier="KOPIE"><qti-variable identifier="ANTWOORD"/></qti-set-template-value>"#;
        for (processing, shown) in [
            (to_key.as_str(), r#"<qti-printed-variable identifier="BASIS"/>"#),
            (from_key, r#"<qti-printed-variable identifier="KOPIE"/>"#),
            (from_key, r#"<qti-template-inline template-identifier="KOPIE" identifier="zevenenveertig" show-hide="show">ja</qti-template-inline>"#),
            (from_key, r#"<qti-printed-variable identifier="ANTWOORD"/>"#),
        ] {
            let err = import_item(&template_item(processing, shown), &[]).unwrap_err();
            assert!(
                matches!(&err, QtiError::Unsupported { reason, .. } if reason.contains("used by the scoring")),
                "{shown} with {processing}: {err}"
            );
        }
        // A variable the scoring does not use is printed.
        let i = import_item(&template_item(from_key, r#"<qti-printed-variable identifier="GETAL" format="%d"/> maal zes"#), &[]).unwrap();
        let json = i.render_json().unwrap();
        assert!(json.contains(r#""text":"7""#) && !json.contains("zevenenveertig"), "{json}");
    }

    /// Regression (review of the key rule): a key reaches a printed
    /// variable through `qti-correct` or `qti-default` in template
    /// processing, through an outcome response processing compares with
    /// (`T := A`, RESPONSE matched with T), or through an operator that keeps
    /// the value (`integer-to-float`, `round`, a one-operand `sum`). Each was
    /// printed before.
    #[test]
    fn a_key_copied_by_correct_default_an_outcome_or_a_conversion_is_a_key() {
        let set_key = r#"<qti-set-template-value identifier="ANTWOORD"><qti-base-value base-type="string">zevenenveertig</qti-base-value></qti-set-template-value>"#;
        let cases = [
            format!(r#"{set_key}<qti-set-template-value identifier="KOPIE"><qti-correct identifier="RESPONSE"/></qti-set-template-value>"#),
            format!(r#"{set_key}<qti-set-template-value identifier="KOPIE"><qti-default identifier="ANTWOORD"/></qti-set-template-value>"#),
        ];
        for processing in &cases {
            let err = import_item(&template_item(processing, r#"<qti-printed-variable identifier="KOPIE"/>"#), &[]).unwrap_err();
            assert!(matches!(&err, QtiError::Unsupported { reason, .. } if reason.contains("used by the scoring")), "{processing}: {err}");
        }
        let scored = |rp: &str| {
            format!(
                r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="x" title="x">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="float"/>
  <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
  <qti-outcome-declaration identifier="T" cardinality="single" base-type="float"/>
  <qti-template-declaration identifier="A" cardinality="single" base-type="integer"/>
  <qti-template-processing><qti-set-template-value identifier="A"><qti-base-value base-type="integer">47</qti-base-value></qti-set-template-value></qti-template-processing>
  <qti-item-body><p>(<qti-printed-variable identifier="A"/>) <qti-text-entry-interaction response-identifier="RESPONSE"/></p></qti-item-body>
  <qti-response-processing>{rp}</qti-response-processing>
</qti-assessment-item>"#
            )
        };
        let hit = r#"<qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">1</qti-base-value></qti-set-outcome-value>"#;
        for rp in [
            format!(r#"<qti-set-outcome-value identifier="T"><qti-variable identifier="A"/></qti-set-outcome-value><qti-response-condition><qti-response-if><qti-match><qti-variable identifier="RESPONSE"/><qti-variable identifier="T"/></qti-match>{hit}</qti-response-if></qti-response-condition>"#),
            format!(r#"<qti-response-condition><qti-response-if><qti-equal tolerance-mode="exact"><qti-variable identifier="RESPONSE"/><qti-integer-to-float><qti-variable identifier="A"/></qti-integer-to-float></qti-equal>{hit}</qti-response-if></qti-response-condition>"#),
            // Review (session 17): floor and a one-operand gcd keep the value as round does; they were not counted.
            format!(r#"<qti-response-condition><qti-response-if><qti-equal tolerance-mode="exact"><qti-variable identifier="RESPONSE"/><qti-math-operator name="floor"><qti-variable identifier="A"/></qti-math-operator></qti-equal>{hit}</qti-response-if></qti-response-condition>"#),
            format!(r#"<qti-response-condition><qti-response-if><qti-equal tolerance-mode="exact"><qti-variable identifier="RESPONSE"/><qti-gcd><qti-variable identifier="A"/></qti-gcd></qti-equal>{hit}</qti-response-if></qti-response-condition>"#),
        ] {
            let err = import_item(&scored(&rp), &[]).unwrap_err();
            assert!(matches!(&err, QtiError::Unsupported { reason, .. } if reason.contains("used by the scoring")), "{rp}: {err}");
        }
        // A value computed from A (2 × A) is the question's, and A is shown.
        let computed = format!(r#"<qti-response-condition><qti-response-if><qti-equal tolerance-mode="exact"><qti-variable identifier="RESPONSE"/><qti-product><qti-base-value base-type="integer">2</qti-base-value><qti-variable identifier="A"/></qti-product></qti-equal>{hit}</qti-response-if></qti-response-condition>"#);
        let i = import_item(&scored(&computed), &[]).unwrap();
        assert!(i.render_json().unwrap().contains(r#""text":"47""#));
    }

    /// Regression (issue 18): response processing may name a template
    /// variable in an attribute (`pattern="{ANTWOORD}"`, a tolerance, a
    /// number of figures) instead of a `qti-variable`; such a variable holds
    /// the key as well and was printed.
    #[test]
    fn a_template_variable_referenced_by_an_attribute_of_the_scoring_is_a_key() {
        for reference in ["{ANTWOORD}", "ANTWOORD"] {
            let item = format!(
                r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="x" title="x">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>
  <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
  <qti-template-declaration identifier="ANTWOORD" cardinality="single" base-type="string"/>
  <qti-template-processing>
    <qti-set-template-value identifier="ANTWOORD"><qti-base-value base-type="string">Kre+kraksluizen</qti-base-value></qti-set-template-value>
  </qti-template-processing>
  <qti-item-body><p>Noem de sluizen (<qti-printed-variable identifier="ANTWOORD"/>). <qti-text-entry-interaction response-identifier="RESPONSE"/></p></qti-item-body>
  <qti-response-processing>
    <qti-response-condition><qti-response-if>
      <qti-pattern-match pattern="{reference}"><qti-variable identifier="RESPONSE"/></qti-pattern-match>
      <qti-set-outcome-value identifier="SCORE"><qti-base-value base-type="float">1</qti-base-value></qti-set-outcome-value>
    </qti-response-if></qti-response-condition>
  </qti-response-processing>
</qti-assessment-item>"#
            );
            let err = import_item(&item, &[]).unwrap_err();
            assert!(matches!(&err, QtiError::Unsupported { reason, .. } if reason.contains("used by the scoring")), "{reference}: {err}");
        }
    }

    /// Regression (issue 18): `xi:include parse="text"` of an XML file
    /// showed that file as text — an item's correct response included.
    #[test]
    fn an_xml_file_included_as_text_is_refused() {
        let other = r#"<?xml version="1.0"?>
<qti-assessment-item identifier="y"><qti-response-declaration identifier="R" cardinality="single" base-type="string"><qti-correct-response><qti-value>Kreekraksluizen</qti-value></qti-correct-response></qti-response-declaration></qti-assessment-item>"#;
        let item = |href: &str| {
            format!(
                r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" xmlns:xi="http://www.w3.org/2001/XInclude" identifier="x" title="x">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>
  <qti-item-body><p><xi:include href="{href}" parse="text"/> <qti-text-entry-interaction response-identifier="RESPONSE"/></p></qti-item-body>
</qti-assessment-item>"#
            )
        };
        let err = import_item(&item("ander.xml"), &[("items/ander.xml", other.as_bytes())]).unwrap_err();
        assert!(
            matches!(&err, QtiError::Unsupported { construct, reason, .. } if construct == "<xi:include>" && reason.contains("items/ander.xml")),
            "{err}"
        );
        // Plain text is still included as text.
        let i = import_item(&item("zin.txt"), &[("items/zin.txt", b"Een zin uit een bestand.")]).unwrap();
        assert!(i.render_json().unwrap().contains("Een zin uit een bestand."));
    }

    /// Regression (issue 18): the check above looked only at the first
    /// character after a UTF-8 byte order mark: an item's XML in UTF-16, or
    /// a text file with the markup after its first line, was included as
    /// text (the key readable between the NULs of UTF-16).
    #[test]
    fn markup_included_as_text_is_refused_whatever_its_encoding_or_first_line() {
        let xml = r#"<?xml version="1.0" encoding="UTF-16"?><qti-assessment-item identifier="y"><qti-correct-response><qti-value>Kreekraksluizen</qti-value></qti-correct-response></qti-assessment-item>"#;
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        let mut utf16_without_bom = Vec::new();
        utf16_without_bom.extend(xml.encode_utf16().flat_map(u16::to_be_bytes));
        let later = format!("Antwoorden bij de toets\n{xml}");
        let item = r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" xmlns:xi="http://www.w3.org/2001/XInclude" identifier="x" title="x">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>
  <qti-item-body><p><xi:include href="ander.txt" parse="text"/> <qti-text-entry-interaction response-identifier="RESPONSE"/></p></qti-item-body>
</qti-assessment-item>"#;
        for (what, bytes) in [("UTF-16LE", utf16), ("UTF-16BE without BOM", utf16_without_bom), ("markup after a line", later.into_bytes())] {
            match import_item(item, &[("items/ander.txt", &bytes)]) {
                Err(QtiError::Unsupported { construct, .. }) if construct == "<xi:include>" => {}
                Err(e) => panic!("{what}: {e}"),
                Ok(i) => panic!("{what}: included: {}", i.render_json().unwrap()),
            }
        }
        // Text with a comparison in it is text.
        let i = import_item(item, &[("items/ander.txt", "Als a < b en b > c, dan …".as_bytes())]).unwrap();
        assert!(i.render_json().unwrap().contains("Als a < b en b > c"));
    }

    /// Regression (issue 18): the fallback text of an `<object>` or
    /// `<audio>` became its accessible name with everything in it — a
    /// feedback or a scorer's rubric block holding the answer included.
    #[test]
    fn feedback_inside_an_object_or_audio_never_becomes_its_label() {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        const MP3: &[u8] = b"ID3\x03\0\0\0\0\0\0";
        let item = |body: &str| {
            format!(
                r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="x" title="x">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>
  <qti-item-body>{body}<p><qti-text-entry-interaction response-identifier="RESPONSE"/></p></qti-item-body>
</qti-assessment-item>"#
            )
        };
        let feedback = r#"<qti-feedback-inline outcome-identifier="FB" identifier="goed" show-hide="show">Het antwoord is Zwolle</qti-feedback-inline><qti-rubric-block view="scorer"><p>Alleen Zwolle goed rekenen</p></qti-rubric-block>"#;
        for body in [
            format!(r#"<p><object type="image/png" data="kaart.png">Kaart {feedback}</object></p>"#),
            format!(r#"<p><object type="audio/mpeg" data="geluid.mp3">Kaart {feedback}</object></p>"#),
            format!(r#"<audio src="geluid.mp3"><span>Kaart</span> {feedback}</audio>"#),
        ] {
            let i = import_item(&item(&body), &[("items/kaart.png", PNG), ("items/geluid.mp3", MP3)]).unwrap();
            let json = i.render_json().unwrap();
            assert!(json.contains("Kaart") && !json.contains("Zwolle"), "{body}: {json}");
        }
    }

    /// Review (session 17): the render model kept an interaction's choices
    /// in their authored order, and an order interaction is written in its
    /// correct order when the kiosk shuffles it: the model carried the key.
    /// Now shuffled choices leave the importer in an order of their own
    /// (fixed ones in place), and the page shuffles per student from it.
    #[test]
    fn shuffled_choices_do_not_keep_their_authored_order() {
        let ids = ["stap1", "stap2", "stap3", "stap4", "stap5", "stap6"];
        let item = |shuffle: bool| {
            let choices: String = ids
                .iter()
                .map(|id| format!(r#"<qti-simple-choice identifier="{id}"{}>{id}</qti-simple-choice>"#, if *id == "stap6" { r#" fixed="true""# } else { "" }))
                .collect();
            format!(
                r#"<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0" identifier="x" title="x">
  <qti-response-declaration identifier="RESPONSE" cardinality="ordered" base-type="identifier"><qti-correct-response>{}</qti-correct-response></qti-response-declaration>
  <qti-item-body><qti-order-interaction response-identifier="RESPONSE" shuffle="{shuffle}">{choices}</qti-order-interaction></qti-item-body>
</qti-assessment-item>"#,
                ids.iter().map(|id| format!("<qti-value>{id}</qti-value>")).collect::<String>()
            )
        };
        let order = |shuffle: bool| {
            let json: serde_json::Value = serde_json::from_str(&import_item(&item(shuffle), &[]).unwrap().render_json().unwrap()).unwrap();
            let text = json.to_string();
            ids.iter().map(|id| (text.find(&format!(r#""identifier":"{id}""#)).unwrap(), *id)).collect::<std::collections::BTreeMap<_, _>>().into_values().collect::<Vec<_>>()
        };
        let shuffled = order(true);
        assert_ne!(shuffled, ids, "the authored (correct) order reached the render model");
        assert_eq!(shuffled.last(), Some(&"stap6"), "a fixed choice keeps its place");
        assert_eq!(order(true), shuffled, "the same package gives the same order");
        assert_eq!(order(false), ids, "not shuffled: the order is the author's, as shown");
    }
}

/// Review (session 17): the render model the page gets carried the
/// importer's notices — file, line and kind of every feedback and scorer's
/// rubric block left out — so where the one piece of feedback sat could
/// point at the right choice. They are for whoever packs the instrument.
#[test]
fn what_the_importer_left_out_is_not_told_to_the_page() {
    let contents = open(&fixtures().join("qti/keys"));
    let instrument = contents.import().unwrap();
    assert!(instrument.test.notices.iter().any(|n| n.construct.contains("feedback")), "{:?}", instrument.test.notices);
    let ui = serde_json::to_value(RunningInstrument::qti(instrument.test, BTreeMap::new())).unwrap();
    assert_eq!(ui["notices"], serde_json::json!([]), "{}", ui["notices"]);
}
