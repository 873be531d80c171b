//! Issue 18, "every accepted item is scored, or marked for a person",
//! measured on a public QTI 3 corpus (not part of the repository):
//!
//! ```text
//! QTI_CORPUS=/work/corpus cargo test -p exam-instrument --test qti_corpus_scoring -- --nocapture
//! ```
//!
//! Without `QTI_CORPUS` (as in CI) it runs on the project's own QTI
//! fixtures (tests/fixtures/qti, public items with their licences noted).
//!
//! Every item file is packed alone; for each accepted item it prints how it
//! is scored, and checks that the hub's evaluator scores every item the
//! report calls automatic — with its correct responses at least as high as
//! with no answer.

use exam_instrument::qti::import;
use exam_instrument::HowScored;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn items(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            items(&path, out);
        } else if path.extension().is_some_and(|e| e == "xml") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.contains("<qti-assessment-item") {
                out.push(path);
            }
        }
    }
}

#[test]
fn every_accepted_corpus_item_is_scored_or_marked_for_a_person() {
    let root = std::env::var_os("QTI_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/qti"));
    let mut files = Vec::new();
    items(&root, &mut files);
    files.sort();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut accepted = 0;
    let mut problems = Vec::new();
    for file in &files {
        let dir = file.parent().unwrap().to_path_buf();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let manifest = r#"<manifest identifier="M"><resources><resource identifier="t" type="imsqti_test_xmlv3p0" href="corpus-test.xml"><file href="corpus-test.xml"/></resource></resources></manifest>"#;
        let test = format!(
            "<qti-assessment-test identifier=\"T\" title=\"T\"><qti-test-part identifier=\"P\" navigation-mode=\"linear\" submission-mode=\"individual\"><qti-assessment-section identifier=\"S\" title=\"S\"><qti-assessment-item-ref identifier=\"r\" href=\"{name}\"/></qti-assessment-section></qti-test-part></qti-assessment-test>"
        );
        let cache: std::cell::RefCell<BTreeMap<String, &'static [u8]>> = Default::default();
        let read = |p: &str| -> Option<&'static [u8]> {
            match p {
                "imsmanifest.xml" => Some(Box::leak(manifest.as_bytes().to_vec().into_boxed_slice())),
                "corpus-test.xml" => Some(Box::leak(test.clone().into_bytes().into_boxed_slice())),
                _ => {
                    if let Some(b) = cache.borrow().get(p) {
                        return Some(b);
                    }
                    let bytes: &'static [u8] = Box::leak(std::fs::read(dir.join(p)).ok()?.into_boxed_slice());
                    cache.borrow_mut().insert(p.to_string(), bytes);
                    Some(bytes)
                }
            }
        };
        let Ok(instrument) = import(&read) else { continue };
        accepted += 1;
        let report = instrument.report();
        let scoring = &instrument.scoring.items[0];
        let how = &report[0].scoring;
        let kind = match how {
            HowScored::Template { name, .. } => format!("template {name}"),
            HowScored::Rules => "rules".into(),
            HowScored::Manual { reason: Some(r) } => {
                let key = r.split(" (<").next().unwrap_or(r).to_string();
                *reasons.entry(key).or_default() += 1;
                println!("manual: {}: {r}", file.display());
                "manual (reason)".into()
            }
            other => format!("{other}"),
        };
        *counts.entry(kind).or_default() += 1;
        if how.automatic() {
            let none = exam_protocol::scoring::score(scoring, &BTreeMap::new()).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let correct: BTreeMap<String, serde_json::Value> =
                scoring.responses.iter().map(|d| (d.identifier.clone(), serde_json::json!(d.correct))).collect();
            match exam_protocol::scoring::score(scoring, &correct) {
                Ok(r) => {
                    if r.score < none.score {
                        problems.push(format!("lower with the key: {}: {} < {}", file.display(), r.score, none.score));
                    }
                    println!("scored: {}: empty {} key {} max {:?}", file.display(), none.score, r.score, r.max_score);
                }
                Err(e) => problems.push(format!("key not scorable: {}: {e}", file.display())),
            }
        }
    }
    println!("{accepted} of {} item files accepted", files.len());
    for (k, v) in &counts {
        println!("{v:4} {k}");
    }
    for (k, v) in &reasons {
        println!("{v:4} manual because: {k}");
    }
    for p in &problems {
        println!("{p}");
    }
    // The project's own fixtures (CI) must hold without exception; a public
    // corpus has items whose key scores lower by the item's own rules.
    if std::env::var_os("QTI_CORPUS").is_none() {
        assert!(accepted >= 20, "only {accepted} fixture items accepted");
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
