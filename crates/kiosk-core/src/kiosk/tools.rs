//! The exam tools as the kiosk grants them (issue 19): which calculator the
//! student has on which item ([`ToolsView`], from the instrument and the
//! accommodations, never from the page) and the calculation itself.

use super::*;
use crate::tools::{self, AngleUnit, CalcResult, CalculatorKind};
use std::collections::BTreeMap;

/// The tools the UI may offer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ToolsView {
    /// The calculator per item (by its reference identifier, as answers are
    /// saved); items without one are absent.
    pub calculators: BTreeMap<String, CalculatorKind>,
    /// The Dutch spell-check on the student's typed answers (the
    /// spell-check accommodation, or the instrument grants it everyone)…
    pub spell_check: bool,
    /// …except on these items, where the instrument switched it off for
    /// everyone (a question that tests spelling).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub no_spell_check: Vec<String>,
    /// Read-aloud (the read-aloud accommodation, or the instrument grants
    /// it everyone).
    pub read_aloud: bool,
}

impl Inner {
    /// The tools of the running QTI instrument for the assigned student.
    pub(super) fn tools_view(&self) -> ToolsView {
        match (self.stage.assignment(), self.stage.instrument().map(|i| &**i)) {
            (Some(assignment), Some(RunningInstrument::Qti { test, .. })) => ToolsView {
                calculators: tools::calculators(test, &assignment.accommodations.tools),
                spell_check: test.tools.spell_check || tools::spell_check_granted(&assignment.accommodations.tools),
                no_spell_check: test.tools.no_spell_check.iter().cloned().collect(),
                read_aloud: tools::read_aloud_on(Some(test), &assignment.accommodations.tools),
            },
            _ => ToolsView::default(),
        }
    }

    /// The calculator the student has on `item`, or why none.
    fn calculator_on(&self, item: &str) -> Result<CalculatorKind, UserError> {
        let (Some(assignment), Some(RunningInstrument::Qti { test, .. })) = (self.stage.assignment(), self.stage.instrument().map(|i| &**i)) else {
            return Err(user("Er is geen examen geopend."));
        };
        tools::calculator_on(test, &assignment.accommodations.tools, item).map_err(user)
    }
}

impl Kiosk {
    /// Computes `expression` on the calculator the student has on `item`
    /// (refused when the item allows none, and a scientific function on a
    /// basic one). Only during the exam. The journal gets a count per item
    /// (`tools.calculator_used`), never the expression or its result.
    pub async fn calculate(&self, item: &str, expression: &str, angle: AngleUnit) -> Result<CalcResult, UserError> {
        let mut inner = self.inner.lock().await;
        if inner.phase() != Some(Phase::InExam) {
            return Err(user("De rekenmachine werkt alleen tijdens het examen."));
        }
        let kind = inner.calculator_on(item)?;
        let result = tools::evaluate(expression, kind, angle).map_err(user)?;
        let count = {
            let n = inner.calculator_uses.entry(item.to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        let kind = match kind {
            CalculatorKind::Basic => "basic",
            CalculatorKind::Scientific => "scientific",
        };
        inner.journal_event(&KioskEvent::ToolsCalculatorUsed(ev::ToolUsed { item: item.to_owned(), kind: kind.to_owned(), count }));
        Ok(result)
    }

    /// The words of the student's typed answer on `item` — as the answer
    /// store holds it, never a text the page sends — that the Dutch
    /// dictionary does not know, with suggestions: only for a student with
    /// the spell-check accommodation or on an instrument that grants it
    /// everyone, never on an item the instrument switched it off on, and
    /// only during the exam. (Before, the page sent the text: a word of an
    /// item with the spell-check off could be checked by sending it with
    /// another item's id.) The journal gets a count per item for each check
    /// made (`tools.spell_check_used`), never the text. The dictionary is
    /// read and the text checked outside the state lock; a check asked for
    /// while one runs is refused.
    pub async fn spell_check(&self, item: &str) -> Result<Vec<tools::Misspelling>, UserError> {
        let text = {
            let inner = self.inner.lock().await;
            if inner.phase() != Some(Phase::InExam) {
                return Err(user("De spellingcontrole werkt alleen tijdens het examen."));
            }
            let (Some(assignment), Some(RunningInstrument::Qti { test, .. })) = (inner.stage.assignment(), inner.stage.instrument().map(|i| &**i)) else {
                return Err(user("Er is geen examen geopend."));
            };
            tools::spell_check_on(test, &assignment.accommodations.tools, item).map_err(user)?;
            // Only this item's saved responses, not a copy of the whole store.
            let store = inner.stage.answers();
            tools::typed_text(test, item, |response| store.and_then(|a| a.response(item, response)).map(|r| &r.value))
        };
        if text.chars().count() > tools::MAX_SPELL_CHARS {
            return Err(user("Deze tekst is te lang om in één keer te controleren."));
        }
        let owned = text.to_owned();
        let checked = tokio::task::spawn_blocking(move || tools::SpellChecker::dutch().and_then(|nl| nl.misspellings(&owned)))
            .await
            .map_err(|e| user(format!("De spellingcontrole is vastgelopen: {e}")))?;
        let found = checked.map_err(|e| match e {
            tools::SpellError::TooLong(_) => user("Deze tekst is te lang om in één keer te controleren."),
            tools::SpellError::Busy => user("De spellingcontrole is nog bezig. Probeer het zo opnieuw."),
            e => user(format!("De spellingcontrole werkt niet op deze pc ({e}). Roep de surveillant.")),
        })?;
        // Counted once it was made (lock, re-check nothing: a count only).
        let mut inner = self.inner.lock().await;
        let count = {
            let n = inner.spell_check_uses.entry(item.to_owned()).or_insert(0);
            *n += 1;
            *n
        };
        inner.journal_event(&KioskEvent::ToolsSpellCheckUsed(ev::ToolUsed { item: item.to_owned(), kind: "nl".into(), count }));
        Ok(found)
    }
}
