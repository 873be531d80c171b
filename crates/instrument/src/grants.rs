//! What an instrument itself allows everyone who sits it (issue 19): the
//! Dutch read-aloud and spell-check, beside each student's own
//! accommodations from the planning; and the items on which the
//! spell-check is off for everyone, accommodation or not (a question that
//! tests spelling).
//!
//! QTI 3 has no companion material for either, so the exam office sets them
//! when it packs (`kioskctl instrument pack --tool voorlezen --tool
//! spellingcontrole --no-spell-check ITEM`); they travel in the signed
//! header ([`crate::PackageHeader::tools`]), so nobody changes them without
//! breaking the approval signature, and a package without them is byte for
//! byte what it was before.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The planning's id for read-aloud and the Dutch words an exam office
/// types for it (the hub's planning vocabulary uses the same).
pub const READ_ALOUD_WORDS: (&str, &[&str]) = ("read-aloud", &["voorleessoftware", "voorlezen", "voorleesfunctie"]);
/// The planning's id for the Dutch spell-check and its Dutch words.
pub const SPELL_CHECK_WORDS: (&str, &[&str]) = ("spell-check", &["spellingcontrole", "spellingscontrole"]);

/// Most items an instrument can switch the spell-check off on (the signed
/// header's own limit of 64 KiB may come first with long identifiers).
pub const MAX_NO_SPELL_CHECK: usize = 1_000;

/// A tool an instrument can grant everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstrumentTool {
    /// Read-aloud (the kiosk's espeak-ng).
    ReadAloud,
    /// The Dutch spell-check on typed answers.
    SpellCheck,
}

impl std::str::FromStr for InstrumentTool {
    type Err = String;

    /// The planning's id or one of its Dutch words, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let value = s.trim().to_lowercase();
        let is = |(id, words): (&str, &[&str])| id == value || words.contains(&value.as_str());
        if is(READ_ALOUD_WORDS) {
            Ok(InstrumentTool::ReadAloud)
        } else if is(SPELL_CHECK_WORDS) {
            Ok(InstrumentTool::SpellCheck)
        } else {
            let described = [READ_ALOUD_WORDS, SPELL_CHECK_WORDS].iter().map(|(id, words)| format!("{id} ({})", words.join(", "))).collect::<Vec<_>>();
            Err(format!("unknown tool {s:?}: an instrument can grant {}", described.join(" or ")))
        }
    }
}

/// What the instrument allows everyone, and where the spell-check is off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentTools {
    /// Read-aloud for everyone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_aloud: bool,
    /// The Dutch spell-check for everyone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spell_check: bool,
    /// Items (by their reference in the test, as answers are keyed) where
    /// the spell-check is off for everyone, also for a student with the
    /// spell-check accommodation.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub no_spell_check: BTreeSet<String>,
}

impl InstrumentTools {
    /// Nothing granted, nothing switched off (the header leaves the field out).
    pub fn is_empty(&self) -> bool {
        !self.read_aloud && !self.spell_check && self.no_spell_check.is_empty()
    }

    /// Grants `tool` to everyone.
    pub fn grant(&mut self, tool: InstrumentTool) {
        match tool {
            InstrumentTool::ReadAloud => self.read_aloud = true,
            InstrumentTool::SpellCheck => self.spell_check = true,
        }
    }

    /// Whether a student has the spell-check on item `item_ref`: granted by
    /// the instrument or by the student's `accommodation`, and not switched
    /// off on that item.
    pub fn spell_check_on(&self, item_ref: &str, accommodation: bool) -> bool {
        (self.spell_check || accommodation) && !self.no_spell_check.contains(item_ref)
    }

    /// The limits a signed header is held to (checked before anything uses it).
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.no_spell_check.len() > MAX_NO_SPELL_CHECK {
            return Err(format!("tools.no_spell_check names {} items; at most {MAX_NO_SPELL_CHECK}", self.no_spell_check.len()));
        }
        if let Some(bad) = self.no_spell_check.iter().find(|i| i.is_empty() || i.chars().count() > 128 || i.chars().any(char::is_control)) {
            return Err(format!("tools.no_spell_check: item {bad:?} must be 1..128 characters without control characters"));
        }
        Ok(())
    }

    /// Every item the spell-check is switched off on is one of `item_refs`
    /// (the test's item references): a typo there would leave the
    /// spell-check on where the exam office meant it off.
    pub fn check_items<'a>(&self, item_refs: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
        let known: BTreeSet<&str> = item_refs.into_iter().collect();
        let unknown: Vec<&str> = self.no_spell_check.iter().map(String::as_str).filter(|i| !known.contains(i)).collect();
        if unknown.is_empty() {
            return Ok(());
        }
        Err(format!(
            "the spell-check is switched off on {}, which the test does not have (its items: {})",
            unknown.join(", "),
            known.into_iter().collect::<Vec<_>>().join(", ")
        ))
    }

    /// In Dutch, for pack, inspect and the exam office: `voorlezen,
    /// spellingcontrole (uit bij: spelling-1)`; empty when [`Self::is_empty`].
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.read_aloud {
            parts.push("voorlezen voor iedereen".to_owned());
        }
        if self.spell_check {
            parts.push("spellingcontrole voor iedereen".to_owned());
        }
        if !self.no_spell_check.is_empty() {
            parts.push(format!("spellingcontrole uit bij {}", self.no_spell_check.iter().cloned().collect::<Vec<_>>().join(", ")));
        }
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_named_as_the_planning_names_them() {
        for word in ["read-aloud", "Voorlezen", " voorleessoftware ", "voorleesfunctie"] {
            assert_eq!(word.parse::<InstrumentTool>(), Ok(InstrumentTool::ReadAloud), "{word}");
        }
        for word in ["spell-check", "SPELLINGCONTROLE", "spellingscontrole"] {
            assert_eq!(word.parse::<InstrumentTool>(), Ok(InstrumentTool::SpellCheck), "{word}");
        }
        let err = "rekenmachine".parse::<InstrumentTool>().unwrap_err();
        assert!(err.contains("\"rekenmachine\"") && err.contains("read-aloud (voorleessoftware") && err.contains("spell-check (spellingcontrole"), "{err}");
    }

    #[test]
    fn an_item_can_switch_the_spell_check_off_for_everyone() {
        let mut tools = InstrumentTools::default();
        assert!(tools.is_empty());
        assert!(!tools.spell_check_on("a", false));
        assert!(tools.spell_check_on("a", true));
        tools.no_spell_check.insert("spelling".into());
        // Off on that item even for a student with the accommodation.
        assert!(!tools.spell_check_on("spelling", true));
        assert!(tools.spell_check_on("a", true));
        tools.grant(InstrumentTool::SpellCheck);
        assert!(tools.spell_check_on("a", false));
        assert!(!tools.spell_check_on("spelling", false));
        assert_eq!(tools.summary(), "spellingcontrole voor iedereen; spellingcontrole uit bij spelling");
        assert!(tools.check_items(["a", "spelling"]).is_ok());
        let err = tools.check_items(["a", "b"]).unwrap_err();
        assert!(err.contains("switched off on spelling, which the test does not have (its items: a, b)"), "{err}");
    }

    #[test]
    fn the_header_field_is_absent_when_empty_and_strict_when_present() {
        #[derive(Serialize, Deserialize)]
        struct H {
            #[serde(default, skip_serializing_if = "InstrumentTools::is_empty")]
            tools: InstrumentTools,
        }
        assert_eq!(serde_json::to_string(&H { tools: InstrumentTools::default() }).unwrap(), "{}");
        let granted = H { tools: InstrumentTools { read_aloud: true, ..Default::default() } };
        assert_eq!(serde_json::to_string(&granted).unwrap(), r#"{"tools":{"read_aloud":true}}"#);
        assert!(serde_json::from_str::<InstrumentTools>(r#"{"read_aloud":true,"calculator":true}"#).is_err());
        let long = InstrumentTools { no_spell_check: ["x".repeat(129)].into(), ..Default::default() };
        assert!(long.check().is_err());
        let many = InstrumentTools { no_spell_check: (0..=MAX_NO_SPELL_CHECK).map(|i| i.to_string()).collect(), ..Default::default() };
        assert!(many.check().is_err());
    }
}
