//! The instrument of the running exam, typed: what the kiosk checks saves
//! against and what the UI renders. A QTI test keeps its render model as
//! imported (no JSON built by serialising and parsing back); a web
//! instrument is what the UI needs to show its proxy's start page.

use super::answer_ids::AnswerIds;
use super::qti::AssessmentTest;
use super::web_instrument::WebInstrument;
use serde::Serialize;
use std::collections::BTreeMap;

/// A decrypted instrument, before the exam runs: a web instrument still
/// needs the hub's session nonce and its proxy ([`super::web_start::open`]).
#[derive(Debug)]
pub enum OpenedInstrument {
    /// A QTI test, ready to run.
    Qti(RunningInstrument),
    /// A web instrument's descriptor.
    Web(WebInstrument),
}

/// The instrument of the running exam.
#[derive(Debug, Clone, PartialEq)]
pub enum RunningInstrument {
    /// A QTI test.
    Qti {
        /// The render model (no correct responses).
        test: AssessmentTest,
        /// The URL of each image in the package (the shell's `exammedia:` scheme), by package path.
        media: BTreeMap<String, String>,
        /// Which answers the test can have (a save is checked against it).
        answers: AnswerIds,
    },
    /// A started web instrument.
    Web {
        /// Its title.
        title: String,
        /// Its start page through the kiosk's proxy (`examweb://…`).
        url: String,
        /// The origins it may use, as the kiosk serves them.
        origins: Vec<String>,
    },
}

impl RunningInstrument {
    /// A QTI test as imported, with the URLs of its images.
    /// What the importer left out (`notices`: file, line and kind of each
    /// feedback and scorer's rubric block) is for whoever packs the
    /// instrument, not for the page: where the one piece of feedback sits
    /// can point at the right choice.
    pub fn qti(mut test: AssessmentTest, media: BTreeMap<String, String>) -> Self {
        test.notices.clear();
        let answers = AnswerIds::of(&test);
        Self::Qti { test, media, answers }
    }

    /// The QTI test's render model; `None` for a web instrument.
    pub fn qti_test(&self) -> Option<&AssessmentTest> {
        match self {
            Self::Qti { test, .. } => Some(test),
            Self::Web { .. } => None,
        }
    }

    /// Which answers a QTI test can have; `None` for a web instrument (its
    /// answers go to its supplier, not to the kiosk's store).
    pub fn answer_ids(&self) -> Option<&AnswerIds> {
        match self {
            Self::Qti { answers, .. } => Some(answers),
            Self::Web { .. } => None,
        }
    }
}

/// The UI's form (ui/js: a QTI test's render model with `media`, or
/// `{ "kind": "web", "title", "url", "origins" }`).
impl Serialize for RunningInstrument {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Qti<'a> {
            #[serde(flatten)]
            test: &'a AssessmentTest,
            media: &'a BTreeMap<String, String>,
        }
        #[derive(Serialize)]
        struct Web<'a> {
            kind: &'static str,
            title: &'a str,
            url: &'a str,
            origins: &'a [String],
        }
        match self {
            Self::Qti { test, media, .. } => Qti { test, media }.serialize(serializer),
            Self::Web { title, url, origins } => Web { kind: super::web_start::WEB_KIND, title, url, origins }.serialize(serializer),
        }
    }
}
