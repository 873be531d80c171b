//! The exam tools of issue 19: pure logic (calculator) and the read-aloud
//! engine here, the grant in [`crate::kiosk`], the UI in ui/js/tools-*.js
//! and ui/js/read-aloud.js.

// --- calculator ---
pub mod calculator;
pub use calculator::{evaluate, AngleUnit, CalcError, CalcResult, CalculatorKind};

// --- read-aloud (espeak-ng, an external program the guard allows only as
// the kiosk's child with the read-aloud accommodation) ---
mod speak;
pub use speak::{
    phonemes, synthesize, voice_for, word_weights, Lang, LangError, Pcm, Rate, RateError, SpeakError, Speech, Voice, WavError, ESPEAK_NG,
    MAX_SPEAK_CHARS, SPEAK_TIMEOUT,
};

// --- spell-check (hunspell-nl, read by the kiosk; accommodation only) ---
mod spell;
pub use spell::{
    spell_check_granted, Misspelling, SpellChecker, SpellError, HUNSPELL_DIR, MAX_MISSPELLINGS, MAX_SPELL_CHARS, MAX_SUGGESTED_WORDS, MAX_SUGGESTIONS,
    MAX_SUGGEST_CHARS, MAX_WORD_CHARS,
};

use exam_instrument::qti::{AssessmentTest, CompanionMaterials, Item};
use std::collections::BTreeMap;

/// The accommodation ids (planning `tools`) that grant a calculator on
/// every item: the planning's id and its Dutch word.
pub const CALCULATOR_ACCOMMODATIONS: &[&str] = &["calculator", "rekenmachine"];

/// Which calculator a student has on an item, decided here and never by the
/// page: the item's own (`qti-calculator`, the highest kind it names; a kind
/// the kiosk does not know counts as basic) and the student's accommodation
/// (a basic calculator on every item); the more capable of the two. `None`:
/// no calculator on this item.
pub fn calculator_for(companion: Option<&CompanionMaterials>, accommodations: &[String]) -> Option<CalculatorKind> {
    let from_item = companion.and_then(|c| c.calculators.iter().map(|t| CalculatorKind::from_qti(&t.kind).unwrap_or(CalculatorKind::Basic)).max());
    let granted = accommodations.iter().any(|a| CALCULATOR_ACCOMMODATIONS.contains(&a.trim().to_lowercase().as_str())).then_some(CalculatorKind::Basic);
    from_item.max(granted)
}

/// The calculator on every item of `test` that has one, by the item's
/// reference (as the UI and the answer store name it).
pub fn calculators(test: &AssessmentTest, accommodations: &[String]) -> BTreeMap<String, CalculatorKind> {
    items(test).into_iter().filter_map(|item| Some((item_ref(item).to_owned(), calculator_for(item.companion.as_ref(), accommodations)?))).collect()
}

/// The calculator the student has on the item `reference` of `test`, or
/// why none (in Dutch, for the student).
pub fn calculator_on(test: &AssessmentTest, accommodations: &[String], reference: &str) -> Result<CalculatorKind, String> {
    let item = items(test).into_iter().find(|i| item_ref(i) == reference).ok_or_else(|| "Deze vraag hoort niet bij het examen.".to_owned())?;
    calculator_for(item.companion.as_ref(), accommodations).ok_or_else(|| "Bij deze vraag mag je geen rekenmachine gebruiken.".to_owned())
}

/// Whether the student has the Dutch spell-check on the item `reference`
/// of `test`, or why not (in Dutch, for the student): the spell-check
/// accommodation or the instrument's grant to everyone, never on an item
/// the instrument switched it off on.
pub fn spell_check_on(test: &AssessmentTest, accommodations: &[String], reference: &str) -> Result<(), String> {
    let accommodation = spell_check_granted(accommodations);
    if !accommodation && !test.tools.spell_check {
        return Err("Je hebt geen spellingcontrole bij dit examen.".to_owned());
    }
    if !items(test).into_iter().any(|i| item_ref(i) == reference) {
        return Err("Deze vraag hoort niet bij het examen.".to_owned());
    }
    if !test.tools.spell_check_on(reference, accommodation) {
        return Err("Bij deze vraag staat de spellingcontrole uit.".to_owned());
    }
    Ok(())
}

/// What the student typed on the item `reference` of `test`: the saved
/// values of its string responses (`saved`: a response id's saved value),
/// one per line, in the item's order of responses; choice ids are never
/// included.
pub fn typed_text<'v>(test: &AssessmentTest, reference: &str, saved: impl Fn(&str) -> Option<&'v serde_json::Value>) -> String {
    let Some(item) = items(test).into_iter().find(|i| item_ref(i) == reference) else { return String::new() };
    item.responses
        .iter()
        .filter(|r| r.base_type.as_deref() == Some("string"))
        .filter_map(|r| saved(&r.identifier)?.as_str())
        .filter(|t| !t.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the student has read-aloud: the read-aloud accommodation, or a
/// QTI instrument that grants it everyone (a web instrument cannot).
pub fn read_aloud_on(test: Option<&AssessmentTest>, accommodations: &[String]) -> bool {
    crate::kiosk::read_aloud_granted(accommodations) || test.is_some_and(|t| t.tools.read_aloud)
}

/// The accommodation id the kiosk grants its guard itself when the
/// instrument gives read-aloud to everyone: the kiosk's own engine only
/// (built into the policy crate), never the planning's `read-aloud` set of
/// third-party readers.
pub use exam_policy::KIOSK_READ_ALOUD;

/// What the process guard allows for while `test` runs: the student's
/// accommodations, and [`KIOSK_READ_ALOUD`] when the instrument gives
/// read-aloud to everyone (without it a student given read-aloud by the
/// instrument alone would have the engine ended by the guard and the
/// session locked). The spell-check runs inside the kiosk: no grant.
pub fn guard_tools(accommodations: &[String], test: Option<&AssessmentTest>) -> Vec<String> {
    let mut out = accommodations.to_vec();
    if test.is_some_and(|t| t.tools.read_aloud) {
        out.push(KIOSK_READ_ALOUD.to_owned());
    }
    out.sort();
    out.dedup();
    out
}

/// Every item of `test`, in order.
fn items(test: &AssessmentTest) -> Vec<&Item> {
    let mut out = Vec::new();
    test.test_parts.iter().flat_map(|p| &p.sections).for_each(|s| s.items_into(&mut out));
    out
}

/// How the UI and the answer store name an item: the test's
/// `qti-assessment-item-ref` identifier (the item's own when it has none).
fn item_ref(item: &Item) -> &str {
    if item.ref_identifier.is_empty() { &item.identifier } else { &item.ref_identifier }
}

#[cfg(test)]
mod grant_tests {
    use super::*;
    use exam_instrument::qti::Tool;

    fn item(kinds: &[&str]) -> CompanionMaterials {
        CompanionMaterials { calculators: kinds.iter().map(|k| Tool { kind: (*k).into(), description: String::new() }).collect(), ..Default::default() }
    }

    #[test]
    fn the_item_and_the_accommodation_decide() {
        let none: Vec<String> = vec![];
        let granted = vec!["read-aloud".to_owned(), "Rekenmachine".to_owned()];
        let b = Some(CalculatorKind::Basic);
        let s = Some(CalculatorKind::Scientific);
        assert_eq!(calculator_for(None, &none), None);
        assert_eq!(calculator_for(Some(&CompanionMaterials::default()), &none), None);
        assert_eq!(calculator_for(Some(&item(&["basic"])), &none), b);
        assert_eq!(calculator_for(Some(&item(&["scientific"])), &none), s);
        assert_eq!(calculator_for(Some(&item(&["basic", "scientific"])), &none), s);
        assert_eq!(calculator_for(Some(&item(&["graphing"])), &none), s);
        assert_eq!(calculator_for(Some(&item(&["financial"])), &none), b);
        assert_eq!(calculator_for(None, &granted), b);
        assert_eq!(calculator_for(None, &["calculator".to_owned()]), b);
        assert_eq!(calculator_for(Some(&item(&["scientific"])), &granted), s);
        // Other tools grant nothing.
        assert_eq!(calculator_for(None, &["read-aloud".to_owned(), "spell-check".to_owned()]), None);
    }

    /// The fixture package tests/fixtures/qti/content: only `hulpmiddelen`
    /// has a (basic) calculator; the accommodation gives every item one; the
    /// refusal names why; and a basic calculator refuses a square root.
    #[test]
    fn a_real_test_grants_per_item() {
        use std::collections::BTreeMap as Map;
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/qti/content");
        let mut files: Map<String, Vec<u8>> = Map::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.insert(path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"), std::fs::read(&path).unwrap());
                }
            }
        }
        let test = exam_instrument::qti::import(&|p: &str| files.get(p).map(Vec::as_slice)).unwrap().test;
        let none: Vec<String> = vec![];
        let b = CalculatorKind::Basic;
        assert_eq!(calculators(&test, &none), Map::from([("hulpmiddelen".to_owned(), b)]));
        assert_eq!(calculator_on(&test, &none, "hulpmiddelen"), Ok(b));
        assert_eq!(calculator_on(&test, &none, "wiskunde").unwrap_err(), "Bij deze vraag mag je geen rekenmachine gebruiken.");
        assert_eq!(calculator_on(&test, &none, "nergens").unwrap_err(), "Deze vraag hoort niet bij het examen.");
        let granted = vec!["calculator".to_owned()];
        let all = calculators(&test, &granted);
        assert_eq!(all.len(), items(&test).len());
        assert!(all.values().all(|k| *k == b));
        assert_eq!(calculator_on(&test, &granted, "wiskunde"), Ok(b));
        let refused = evaluate("sqrt(16)", calculator_on(&test, &granted, "wiskunde").unwrap(), AngleUnit::Degrees).unwrap_err();
        assert_eq!(refused.message, "Deze functie zit niet op de basisrekenmachine");
    }

    /// Read-aloud and the spell-check: the accommodation or the instrument
    /// grants them; the instrument switches the spell-check off per item,
    /// for everyone.
    #[test]
    fn the_instrument_grants_read_aloud_and_the_spell_check_and_switches_it_off_per_item() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/instruments/demo");
        let files = exam_instrument::PackInput::from_dir(&root).unwrap();
        let by_path: BTreeMap<&str, &[u8]> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
        let mut test = exam_instrument::qti::import(&|p: &str| by_path.get(p).copied()).unwrap().test;
        let none: Vec<String> = vec![];
        let accommodation = vec!["spell-check".to_owned(), "read-aloud".to_owned()];
        // Nothing from the instrument: the accommodation decides.
        assert!(!read_aloud_on(Some(&test), &none));
        assert!(read_aloud_on(Some(&test), &accommodation));
        assert!(read_aloud_on(None, &accommodation));
        assert_eq!(spell_check_on(&test, &none, "ITM-v04").unwrap_err(), "Je hebt geen spellingcontrole bij dit examen.");
        assert_eq!(spell_check_on(&test, &accommodation, "ITM-v04"), Ok(()));
        assert_eq!(spell_check_on(&test, &accommodation, "ITM-v99").unwrap_err(), "Deze vraag hoort niet bij het examen.");
        // The instrument gives everyone both and switches the spell-check off on v10.
        assert_eq!(guard_tools(&["large-print".to_owned()], Some(&test)), vec!["large-print".to_owned()]);
        test.tools.read_aloud = true;
        test.tools.spell_check = true;
        test.tools.no_spell_check.insert("ITM-v10".into());
        assert!(read_aloud_on(Some(&test), &none));
        // The guard then allows the kiosk's own engine for everyone, not the
        // accommodation's third-party readers; the spell-check needs no program.
        assert_eq!(guard_tools(&none, Some(&test)), vec![KIOSK_READ_ALOUD.to_owned()]);
        assert_eq!(guard_tools(&accommodation, Some(&test)), vec![KIOSK_READ_ALOUD.to_owned(), "read-aloud".to_owned(), "spell-check".to_owned()]);
        assert_eq!(guard_tools(&accommodation, None), vec!["read-aloud".to_owned(), "spell-check".to_owned()]);
        assert_eq!(spell_check_on(&test, &none, "ITM-v04"), Ok(()));
        let off = "Bij deze vraag staat de spellingcontrole uit.";
        assert_eq!(spell_check_on(&test, &none, "ITM-v10").unwrap_err(), off);
        // Off also for a student with the accommodation.
        assert_eq!(spell_check_on(&test, &accommodation, "ITM-v10").unwrap_err(), off);
        test.tools.spell_check = false;
        assert_eq!(spell_check_on(&test, &accommodation, "ITM-v10").unwrap_err(), off);
        assert_eq!(spell_check_on(&test, &none, "ITM-v04").unwrap_err(), "Je hebt geen spellingcontrole bij dit examen.");
        // What is checked is the saved typed answer of that item, never choice ids.
        let saved: BTreeMap<String, serde_json::Value> = [("RESPONSE".to_owned(), serde_json::json!("het exsamen"))].into();
        assert_eq!(typed_text(&test, "ITM-v04", |r| saved.get(r)), "het exsamen");
        let choice = serde_json::json!("B");
        assert_eq!(typed_text(&test, "ITM-v01", |r| (r == "RESPONSE").then_some(&choice)), "", "a choice");
        assert_eq!(typed_text(&test, "ITM-v99", |r| saved.get(r)), "");
    }
}
