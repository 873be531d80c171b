//! QTI 3.0 import: the content package (`imsmanifest.xml`, assessment test,
//! items, media) into a render model for the kiosk UI and scoring data for
//! the hub.
//!
//! The importer is strict: every element is either understood, or omitted by
//! design with a [`Notice`] (feedback, which a summative exam never shows),
//! or refused with [`QtiError::Unsupported`] naming the construct and where
//! it is. Nothing is rendered half-understood.
//!
//! The render model ([`AssessmentTest`]) holds no correct responses or
//! mappings; those are in [`Scoring`], which never needs to reach the web view.

use super::paths;
use super::xml::{self, Element, XNode};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
#[path = "qti_content.rs"]
mod content;
pub use content::{sniff, CompanionMaterials, Material, MathElement, MathNode, Media, MediaSource, MediaTrack, Sniffed, Stimulus, Tool, MATHML_ATTRIBUTES, MATHML_ELEMENTS};
pub use exam_protocol::scoring::{Cardinality, ItemScoring, MapEntry, Mapping, Processing, ResponseDeclaration, Scoring, TestScoring};
pub use inter::{
    audio_video_type, AssociateInteraction, DrawingInteraction, EndAttemptInteraction, Hottext, HottextInteraction, MediaInteraction,
    SliderInteraction, UploadInteraction,
};

pub(crate) use inter::hottext_ids;

#[path = "qti_inter.rs"]
mod inter;
pub use graphic::{GraphicImage, GraphicInteraction, GraphicKind, Hotspot, HotspotShape, PositionObject, PositionObjectStage};

#[path = "qti_graphic.rs"]
mod graphic;
#[path = "qti_template.rs"]
mod template;
pub use template::{MAX_CONSTRAINT_TRIES, MAX_VALUES as MAX_TEMPLATE_VALUES};

/// Most items in one test.
pub const MAX_ITEMS: usize = 2_000;
/// Most XML bytes parsed for one test (an item referenced many times counts each time).
pub const MAX_TOTAL_XML_BYTES: u64 = 64 * 1024 * 1024;
/// The content package manifest.
pub const MANIFEST_PATH: &str = "imsmanifest.xml";
/// Resource type of a QTI 3.0 assessment test in the manifest.
pub const TEST_RESOURCE_TYPE: &str = "imsqti_test_xmlv3p0";

/// Why QTI content was refused.
///
/// Every problem names the package file, the line and (where known) the
/// column; problems inside items are collected into [`QtiError::Items`], each
/// naming its item, so one refusal lists all of a package's problems, each
/// once. Displayed as `file:line:column: what` (no [`std::error::Error::source`]:
/// the text is the whole message, so an error chain never repeats it).
#[derive(Debug, Clone, PartialEq)]
pub enum QtiError {
    /// Not well-formed XML.
    Xml {
        /// Package path.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column in characters; 0 when unknown.
        column: usize,
        /// What.
        message: String,
    },
    /// DTDs, entity declarations or undefined entities.
    Forbidden {
        /// Package path.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column; 0 when unknown.
        column: usize,
        /// What.
        what: String,
    },
    /// A QTI construct this kiosk does not render.
    Unsupported {
        /// Package path.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column; 0 when unknown.
        column: usize,
        /// The construct, e.g. `<qti-hotspot-interaction>`.
        construct: String,
        /// Why or what instead.
        reason: String,
    },
    /// Valid XML, invalid QTI.
    Invalid {
        /// Package path.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column; 0 when unknown.
        column: usize,
        /// What.
        message: String,
    },
    /// A referenced file is not in the package.
    MissingFile {
        /// The referencing file.
        file: String,
        /// 1-based line of the reference; 0 when there is none (the manifest itself).
        line: usize,
        /// 1-based column; 0 when unknown.
        column: usize,
        /// The missing package path.
        path: String,
    },
    /// A reference that would leave the package or go to the network.
    BadReference {
        /// Package path.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column; 0 when unknown.
        column: usize,
        /// The reference as written.
        reference: String,
        /// Why.
        reason: String,
    },
    /// A size limit.
    TooLarge {
        /// Package path.
        file: String,
        /// What.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// Problems in items: all of them, in test order, each once. The
    /// package is refused as a whole.
    Items {
        /// Items in the test (read so far, when `stopped`).
        item_count: usize,
        /// The problems.
        problems: Vec<ItemProblem>,
        /// The last problem was a hard stop ([`QtiError::is_hard_stop`]):
        /// the rest of the package was not read.
        stopped: bool,
    },
}

/// A problem in one item, or in the test file outside any item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemProblem {
    /// The item reference's identifier in the test; `None` for a problem
    /// of the test itself (a section, a test part).
    pub ref_identifier: Option<String>,
    /// The item's own `identifier`, when its file could be read that far.
    pub identifier: Option<String>,
    /// What is wrong, where.
    pub error: QtiError,
}

impl ItemProblem {
    /// How the item is named: its `identifier`, or the test's reference to
    /// it; `None` outside items.
    pub fn item_name(&self) -> Option<String> {
        match (&self.identifier, &self.ref_identifier) {
            (Some(id), _) => Some(id.clone()),
            (None, Some(r)) => Some(format!("(test reference {r})")),
            (None, None) => None,
        }
    }
}

impl std::fmt::Display for ItemProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.item_name() {
            Some(item) => write!(f, "{}: item {item}: {}", self.error.location(), self.error.what()),
            None => write!(f, "{}", self.error),
        }
    }
}

impl QtiError {
    /// `file:line:column` (line and column as far as known).
    pub fn location(&self) -> String {
        let (file, line, column) = match self {
            QtiError::Xml { file, line, column, .. }
            | QtiError::Forbidden { file, line, column, .. }
            | QtiError::Unsupported { file, line, column, .. }
            | QtiError::Invalid { file, line, column, .. }
            | QtiError::MissingFile { file, line, column, .. }
            | QtiError::BadReference { file, line, column, .. } => (file.as_str(), *line, *column),
            QtiError::TooLarge { file, .. } => (file.as_str(), 0, 0),
            QtiError::Items { problems, .. } => {
                return problems.first().map(|p| p.error.location()).unwrap_or_default();
            }
        };
        match (line, column) {
            (0, _) => file.to_string(),
            (l, 0) => format!("{file}:{l}"),
            (l, c) => format!("{file}:{l}:{c}"),
        }
    }

    /// What is wrong, without the location.
    pub fn what(&self) -> String {
        match self {
            QtiError::Xml { message, .. } => format!("XML error: {message}"),
            QtiError::Forbidden { what, .. } => format!("refused {what}"),
            QtiError::Unsupported { construct, reason, .. } => format!("unsupported QTI construct {construct}: {reason}"),
            QtiError::Invalid { message, .. } => format!("invalid QTI: {message}"),
            QtiError::MissingFile { path, .. } => format!("references {path}, which is not in the package"),
            QtiError::BadReference { reference, reason, .. } => format!("refused reference {reference:?}: {reason}"),
            QtiError::TooLarge { what, limit, .. } => format!("{what} exceeds the limit of {limit}"),
            QtiError::Items { item_count, problems, stopped } => {
                let items = problems.iter().filter_map(|p| p.ref_identifier.as_ref()).collect::<HashSet<_>>().len();
                let mut text = format!(
                    "{} problem{} in {items} of {item_count} item{}{}{}:",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    if *item_count == 1 { "" } else { "s" },
                    if problems.iter().any(|p| p.ref_identifier.is_none()) { " and in the test itself" } else { "" },
                    if *stopped { " (stopped at the last one: the rest of the package was not read)" } else { "" },
                );
                for p in problems {
                    text.push_str("\n  ");
                    text.push_str(&p.to_string());
                }
                text
            }
        }
    }

    /// Every problem, each once: the item problems of [`QtiError::Items`],
    /// or this error itself.
    pub fn problems(&self) -> Vec<(Option<&ItemProblem>, &QtiError)> {
        match self {
            QtiError::Items { problems, .. } => problems.iter().map(|p| (Some(p), &p.error)).collect(),
            other => vec![(None, other)],
        }
    }

    /// Whether import must stop at this problem instead of going on to the
    /// next item: refusals that protect the machine (a DTD or entity, a
    /// reference leaving the package, a size limit) end the import at once;
    /// what is merely not supported or not valid is collected per item.
    pub fn is_hard_stop(&self) -> bool {
        match self {
            QtiError::Forbidden { .. } | QtiError::BadReference { .. } | QtiError::TooLarge { .. } => true,
            QtiError::Items { stopped, .. } => *stopped,
            _ => false,
        }
    }
}

impl std::fmt::Display for QtiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QtiError::Items { .. } => f.write_str(&self.what()),
            _ => write!(f, "{}: {}", self.location(), self.what()),
        }
    }
}

impl std::error::Error for QtiError {}

/// A construct left out by design (reported, never silent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Package path.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The construct, e.g. `<qti-feedback-block>`.
    pub construct: String,
    /// Why it is left out.
    pub reason: String,
}

/// An imported instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Instrument {
    /// What the kiosk renders (no correct responses).
    pub test: AssessmentTest,
    /// Response declarations and processing, for the hub.
    pub scoring: Scoring,
    /// What the packer should fix but the kiosk accepts (images without
    /// alternative text); not part of the render model.
    pub warnings: Vec<Warning>,
}

/// Something accepted that should be fixed, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The item's identifier; `None` outside items (a section's rubric block).
    pub item: Option<String>,
    /// Package path.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub column: usize,
    /// What.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)?;
        if self.column > 0 {
            write!(f, ":{}", self.column)?;
        }
        match &self.item {
            Some(item) => write!(f, ": item {item}: {}", self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

impl Instrument {
    /// The render model as JSON, for the web view.
    pub fn render_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&self.test)
    }

    /// All items in test order.
    pub fn items(&self) -> Vec<&Item> {
        let mut out = Vec::new();
        for part in &self.test.test_parts {
            for s in &part.sections {
                s.collect_items(&mut out);
            }
        }
        out
    }
}

/// The assessment test: what the kiosk renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentTest {
    /// Test identifier.
    pub identifier: String,
    /// Title.
    pub title: String,
    /// Language (`xml:lang`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Test-level time limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limits: Option<TimeLimits>,
    /// Test parts in order.
    pub test_parts: Vec<TestPart>,
    /// Number of items.
    pub item_count: usize,
    /// Constructs left out by design.
    pub notices: Vec<Notice>,
    /// What the instrument allows everyone and where the spell-check is off
    /// (from the signed package header: [`crate::PackageContents::import`]).
    #[serde(default, skip_serializing_if = "crate::InstrumentTools::is_empty")]
    pub tools: crate::InstrumentTools,
}

/// Linear (one way) or nonlinear (free) navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NavigationMode {
    /// Items in order, no going back.
    Linear,
    /// Any order, back and forth.
    Nonlinear,
}

/// When responses are submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubmissionMode {
    /// Per item.
    Individual,
    /// All at the end of the part.
    Simultaneous,
}

/// A test part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestPart {
    /// Identifier.
    pub identifier: String,
    /// Navigation mode.
    pub navigation_mode: NavigationMode,
    /// Submission mode.
    pub submission_mode: SubmissionMode,
    /// Session control defaults for the part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_session_control: Option<ItemSessionControl>,
    /// Time limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limits: Option<TimeLimits>,
    /// Sections.
    pub sections: Vec<Section>,
}

/// A section: rubric blocks, then items and subsections in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Identifier.
    pub identifier: String,
    /// Title.
    pub title: String,
    /// Whether the section is shown as a unit (heading) to the candidate.
    pub visible: bool,
    /// Keep items on one page (scrolling) rather than one at a time.
    pub keep_together: bool,
    /// `qti-ordering shuffle="true"`: the kiosk shuffles the children (seeded per candidate).
    pub shuffle: bool,
    /// Session control for the section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_session_control: Option<ItemSessionControl>,
    /// Time limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limits: Option<TimeLimits>,
    /// Rubric blocks (instructions) shown with the section.
    pub rubric_blocks: Vec<RubricBlock>,
    /// Items and subsections in order.
    pub parts: Vec<SectionPart>,
}

impl Section {
    /// Its items, subsections' included, in order, appended to `out`.
    pub fn items_into<'a>(&'a self, out: &mut Vec<&'a Item>) {
        self.collect_items(out);
    }

    fn collect_items<'a>(&'a self, out: &mut Vec<&'a Item>) {
        for p in &self.parts {
            match p {
                SectionPart::Item(i) => out.push(i),
                SectionPart::Section(s) => s.collect_items(out),
            }
        }
    }
}

/// A child of a section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SectionPart {
    /// A subsection.
    Section(Section),
    /// An item.
    Item(Box<Item>),
}

/// `qti-item-session-control`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSessionControl {
    /// Maximum attempts (0 = unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Whether the candidate may review items after submitting them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_review: Option<bool>,
    /// Whether items may be left unanswered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_skipping: Option<bool>,
    /// Whether responses must be valid (min/max choices) before moving on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_responses: Option<bool>,
    /// Whether the candidate may leave a comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_comment: Option<bool>,
}

/// `qti-time-limits`, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeLimits {
    /// Minimum time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_time: Option<f64>,
    /// Maximum time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_time: Option<f64>,
    /// Whether a late submission is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_late_submission: Option<bool>,
}

/// An item as the test references it, with its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Identifier of the item reference in the test (unique in the test; answers are keyed by it).
    pub ref_identifier: String,
    /// The item's own identifier.
    pub identifier: String,
    /// Package path of the item file.
    pub href: String,
    /// Title.
    pub title: String,
    /// Label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Language (`xml:lang` of the item, or of its `qti-item-body`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Writing direction (`dir` of the item body or the item: `ltr`, `rtl`,
    /// `auto`): the UI sets it on the item's content only, never on the
    /// kiosk's own texts around and inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    /// Categories from the item reference (e.g. `dep-informational`).
    pub categories: Vec<String>,
    /// Whether the item must be answered.
    pub required: bool,
    /// Session control for this item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_session_control: Option<ItemSessionControl>,
    /// Time limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_limits: Option<TimeLimits>,
    /// Package paths of the item's stylesheets.
    pub stylesheets: Vec<String>,
    /// `adaptive="true"`: a summative exam gives one attempt, the first
    /// submission is scored (pack's report says so).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adaptive: bool,
    /// What the student may use with this item (`qti-companion-materials-info`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub companion: Option<CompanionMaterials>,
    /// Template processing drew random values: the item is one variant,
    /// fixed at pack time from the item file's content (`qti_template.rs`),
    /// the same for every student.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub template_variant: bool,
    /// Shared stimuli (`qti-assessment-stimulus-ref`), shown before the body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stimuli: Vec<Stimulus>,
    /// The accessibility catalog's spoken alternatives (`qti-catalog-info`,
    /// cards with `support="spoken"`): catalog id → the text read-aloud says
    /// instead of an element marked `data-catalog-idref` (e.g. "H twee O"
    /// for H₂O). Text only; other supports and audio files are not used.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub spoken: BTreeMap<String, String>,
    /// The item's response variables (shape only; no correct values).
    pub responses: Vec<ResponseInfo>,
    /// The item body.
    pub body: Vec<Node>,
}

/// What the UI needs to know about a response variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseInfo {
    /// Identifier, e.g. `RESPONSE`.
    pub identifier: String,
    /// Cardinality.
    pub cardinality: Cardinality,
    /// Base type (`identifier`, `string`, `directedPair`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_type: Option<String>,
}

/// A node of rendered content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Node {
    /// Text.
    Text {
        /// The text (whitespace-only runs collapse to one space).
        text: String,
    },
    /// An XHTML element from the allowed subset (see [`ALLOWED_HTML`]).
    Element {
        /// Tag name.
        tag: String,
        /// Allowed attributes (see [`ALLOWED_ATTRIBUTES`]).
        attrs: BTreeMap<String, String>,
        /// Children.
        children: Vec<Node>,
    },
    /// An image from the package.
    Image {
        /// Package path (the UI serves it from the decrypted package).
        src: String,
        /// Alternative text.
        alt: String,
        /// Width as written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        width: Option<String>,
        /// Height as written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        height: Option<String>,
        /// Classes.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        class: Vec<String>,
    },
    /// Instructions in an item body.
    RubricBlock(RubricBlock),
    /// `qti-choice-interaction`.
    ChoiceInteraction(ChoiceInteraction),
    /// `qti-order-interaction`.
    OrderInteraction(OrderInteraction),
    /// `qti-text-entry-interaction` (inline).
    TextEntryInteraction(TextEntryInteraction),
    /// `qti-extended-text-interaction`.
    ExtendedTextInteraction(ExtendedTextInteraction),
    /// `qti-match-interaction`.
    MatchInteraction(MatchInteraction),
    /// `qti-inline-choice-interaction` (inline).
    InlineChoiceInteraction(InlineChoiceInteraction),
    /// `qti-gap-match-interaction`.
    GapMatchInteraction(GapMatchInteraction),
    /// A graphic interaction (hotspot, graphic gap match, select point,
    /// graphic associate, graphic order): see qti_graphic.rs.
    GraphicInteraction(GraphicInteraction),
    /// `qti-position-object-stage` with its position-object interactions.
    PositionObjectStage(PositionObjectStage),
    /// MathML (presentation), from the `math` element down.
    Math(MathElement),
    /// Audio or video from the package.
    Media(Media),
    /// A gap inside a gap-match interaction's content.
    Gap {
        /// Gap identifier.
        identifier: String,
        /// Whether it must be filled.
        required: bool,
    },
    /// `qti-hottext-interaction`.
    HottextInteraction(HottextInteraction),
    /// A hottext inside a hottext interaction's content.
    Hottext(Hottext),
    /// `qti-associate-interaction`.
    AssociateInteraction(AssociateInteraction),
    /// `qti-slider-interaction`.
    SliderInteraction(SliderInteraction),
    /// `qti-upload-interaction` (explained, scored by a person).
    UploadInteraction(UploadInteraction),
    /// `qti-drawing-interaction` (explained, scored by a person).
    DrawingInteraction(DrawingInteraction),
    /// `qti-end-attempt-interaction` (not shown).
    EndAttemptInteraction(EndAttemptInteraction),
    /// `qti-media-interaction`.
    MediaInteraction(MediaInteraction),
}

/// `qti-rubric-block`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RubricBlock {
    /// Who sees it; always includes `candidate` (blocks only for a scorer,
    /// proctor, author or tutor are left out at import).
    pub view: Vec<String>,
    /// The `use` attribute (e.g. `instructions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#use: Option<String>,
    /// Content.
    pub content: Vec<Node>,
}

/// A simple choice (choice, order, inline choice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Identifier (the response value).
    pub identifier: String,
    /// Keeps its place when shuffling.
    pub fixed: bool,
    /// Content.
    pub content: Vec<Node>,
}

/// `qti-choice-interaction`: single (`max_choices == 1`) or multiple choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceInteraction {
    /// Response variable.
    pub response_identifier: String,
    /// Shuffle the non-fixed choices.
    pub shuffle: bool,
    /// Most choices (0 = no limit).
    pub max_choices: u32,
    /// Fewest choices.
    pub min_choices: u32,
    /// `horizontal` or `vertical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation: Option<String>,
    /// Classes (shared vocabulary, e.g. `qti-labels-upper-alpha`).
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
    /// Choices in document order; when `shuffle`, in the importer's own order (`unauthored_order`).
    pub choices: Vec<Choice>,
}

/// `qti-order-interaction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderInteraction {
    /// Response variable.
    pub response_identifier: String,
    /// Shuffle the non-fixed choices.
    pub shuffle: bool,
    /// Fewest choices to order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_choices: Option<u32>,
    /// Most choices to order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_choices: Option<u32>,
    /// `horizontal` or `vertical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation: Option<String>,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
    /// Choices in document order; when `shuffle`, in the importer's own order (`unauthored_order`).
    pub choices: Vec<Choice>,
}

/// `qti-text-entry-interaction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextEntryInteraction {
    /// Response variable.
    pub response_identifier: String,
    /// Expected length in characters (a width hint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_length: Option<u32>,
    /// Regular expression the response should match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_mask: Option<String>,
    /// Placeholder text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Classes.
    pub class: Vec<String>,
}

/// `qti-extended-text-interaction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtendedTextInteraction {
    /// Response variable.
    pub response_identifier: String,
    /// Expected length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_length: Option<u32>,
    /// Expected lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_lines: Option<u32>,
    /// `plain`, `preformatted` or `xhtml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Regular expression the response should match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_mask: Option<String>,
    /// Placeholder text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
}

/// A choice of a match or gap-match interaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssociableChoice {
    /// Identifier.
    pub identifier: String,
    /// How often it may be used (0 = unlimited).
    pub match_max: u32,
    /// How often it must be used.
    pub match_min: u32,
    /// Keeps its place when shuffling.
    pub fixed: bool,
    /// Content.
    pub content: Vec<Node>,
}

/// `qti-match-interaction`: pairs `source target` (directedPair).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchInteraction {
    /// Response variable.
    pub response_identifier: String,
    /// Shuffle the non-fixed choices.
    pub shuffle: bool,
    /// Most associations (0 = unlimited).
    pub max_associations: u32,
    /// Fewest associations.
    pub min_associations: u32,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
    /// The first match set (sources).
    pub source: Vec<AssociableChoice>,
    /// The second match set (targets).
    pub target: Vec<AssociableChoice>,
}

/// `qti-inline-choice-interaction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineChoiceInteraction {
    /// Response variable.
    pub response_identifier: String,
    /// Shuffle the non-fixed choices.
    pub shuffle: bool,
    /// Whether a choice must be made.
    pub required: bool,
    /// Classes.
    pub class: Vec<String>,
    /// Choices.
    pub choices: Vec<Choice>,
}

/// `qti-gap-match-interaction`: pairs `choice gap` (directedPair).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapMatchInteraction {
    /// Response variable.
    pub response_identifier: String,
    /// Shuffle the non-fixed choices.
    pub shuffle: bool,
    /// Fewest associations.
    pub min_associations: u32,
    /// Most associations (0 = unlimited).
    pub max_associations: u32,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
    /// The gap texts and images.
    pub gap_choices: Vec<AssociableChoice>,
    /// The content with [`Node::Gap`]s.
    pub content: Vec<Node>,
}

/// XHTML elements rendered as [`Node::Element`].
pub const ALLOWED_HTML: &[&str] = &[
    "p", "div", "span", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "sub", "sup",
    "small", "big", "code", "pre", "kbd", "samp", "var", "cite", "q", "abbr", "acronym", "dfn", "blockquote", "address",
    "ul", "ol", "li", "dl", "dt", "dd", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "col",
    "colgroup", "figure", "figcaption", "ruby", "rb", "rt", "rtc", "rp", "bdo", "bdi", "mark", "s", "del", "ins", "label", "section",
    "article", "aside", "header", "footer",
];

/// Attributes kept on [`Node::Element`]s (others are dropped with a [`Notice`]).
pub const ALLOWED_ATTRIBUTES: &[&str] = &[
    "class", "id", "lang", "dir", "title", "colspan", "rowspan", "headers", "scope", "abbr", "span", "start", "type",
    "reversed", "value", "summary", "aria-label", "aria-describedby", "aria-labelledby",
];

/// Attributes dropped without a notice: presentation hints with no meaning for content.
const QUIET_ATTRIBUTES: &[&str] = &["label"];

/// QTI 3's `data-qti-suppress-tts`: content that text-to-speech must not
/// read (a decorative character, a formula spelled out elsewhere). Kept on
/// the element, lowercased, when its value is one of these; the kiosk's
/// read-aloud skips `computer-read-aloud` and `all`, and the page hides
/// `screen-reader` and `all` from screen readers. Another value is dropped
/// with a notice.
pub const SUPPRESS_TTS: &str = "data-qti-suppress-tts";
const SUPPRESS_TTS_VALUES: &[&str] = &["computer-read-aloud", "screen-reader", "all"];

/// QTI 3's link from content to the item's accessibility catalog.
pub const CATALOG_IDREF: &str = "data-catalog-idref";
/// Longest spoken alternative kept, in characters.
const MAX_SPOKEN_CHARS: usize = 2_000;

/// The spoken cards of a `qti-catalog-info`: catalog id → text (the entry
/// in the item's language, else the default one, else the first), and
/// whether the catalog held anything else (other supports, audio files).
fn spoken_catalog(info: &Element, lang: Option<&str>) -> (BTreeMap<String, String>, bool) {
    let mut spoken = BTreeMap::new();
    let mut unused = false;
    let plain = |e: &Element| e.text().split_whitespace().collect::<Vec<_>>().join(" ").chars().take(MAX_SPOKEN_CHARS).collect::<String>();
    let base = |l: &str| l.split(['-', '_']).next().unwrap_or(l).to_ascii_lowercase();
    for catalog in info.elements().filter(|e| e.name == "qti-catalog") {
        let Some(id) = catalog.attr("id") else { continue };
        for card in catalog.elements().filter(|e| e.name == "qti-card") {
            if card.attr("support") != Some("spoken") {
                unused = true;
                continue;
            }
            let direct = card.elements().find(|e| e.name == "qti-html-content");
            let entries: Vec<&Element> = card.elements().filter(|e| e.name == "qti-card-entry").collect();
            let entry = entries
                .iter()
                .find(|e| lang.is_some_and(|l| e.attr("xml:lang").is_some_and(|el| base(el) == base(l))))
                .or_else(|| entries.iter().find(|e| e.attr("default") == Some("true")))
                .or_else(|| entries.first());
            let content = direct.or_else(|| entry.and_then(|e| e.elements().find(|c| c.name == "qti-html-content")));
            match content.map(plain).filter(|t| !t.is_empty()) {
                Some(text) => {
                    spoken.entry(id.to_string()).or_insert(text);
                }
                None => unused = true,
            }
        }
    }
    (spoken, unused)
}

/// The catalog ids the render model's nodes refer to.
fn catalog_refs(body: &[Node]) -> std::collections::BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(id)) = map.get(CATALOG_IDREF) {
                    out.insert(id.clone());
                }
                map.values().for_each(|v| walk(v, out));
            }
            serde_json::Value::Array(values) => values.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = std::collections::BTreeSet::new();
    // Plain data: serialising cannot fail; an error would keep nothing spoken.
    walk(&serde_json::to_value(body).unwrap_or_default(), &mut out);
    out
}

/// A choice an interaction may shuffle (`fixed` ones keep their place).
pub(crate) trait Shufflable {
    /// Its identifier.
    fn id(&self) -> &str;
    /// `fixed="true"`.
    fn is_fixed(&self) -> bool;
}

impl Shufflable for Choice {
    fn id(&self) -> &str {
        &self.identifier
    }
    fn is_fixed(&self) -> bool {
        self.fixed
    }
}

impl Shufflable for AssociableChoice {
    fn id(&self) -> &str {
        &self.identifier
    }
    fn is_fixed(&self) -> bool {
        self.fixed
    }
}

/// The choices of an interaction that shuffles, in an order that says
/// nothing of the authored one: the non-fixed choices sorted by a hash of
/// their identifier, fixed ones in place. The page shuffles per student
/// from this order. Before, the render model kept the authored order, and
/// an order interaction written in its correct order (as authors do when
/// the kiosk shuffles) carried its key to the web view.
pub(crate) fn unauthored_order<T: Shufflable>(shuffle: bool, response: &str, choices: Vec<T>) -> Vec<T> {
    if !shuffle {
        return choices;
    }
    let key = |c: &T| ring::digest::digest(&ring::digest::SHA256, format!("{response}\0{}", c.id()).as_bytes()).as_ref().to_vec();
    let (fixed, mut free): (Vec<(usize, T)>, Vec<(usize, T)>) = choices.into_iter().enumerate().partition(|(_, c)| c.is_fixed());
    free.sort_by_cached_key(|(_, c)| key(c));
    let mut fixed = fixed.into_iter().peekable();
    let mut free = free.into_iter().map(|(_, c)| c);
    let mut out = Vec::new();
    let total = fixed.len() + free.len();
    for at in 0..total {
        match fixed.next_if(|(i, _)| *i == at) {
            Some((_, c)) => out.push(c),
            None => out.extend(free.next()),
        }
    }
    out
}

/// Constructs the kiosk refuses, with the reason shown to whoever packs the instrument.
fn unsupported_reason(name: &str) -> Option<&'static str> {
    Some(match name {
        "qti-custom-interaction" | "qti-portable-custom-interaction" => inter::PCI_REASON,
        "iframe" | "embed" | "applet" => "embedded pages and plug-ins are not allowed in an exam (images, audio and video from the package are)",
        "script" | "style" | "form" | "input" | "button" | "select" | "textarea" => "active content is not allowed",
        "qti-template-default" => "template defaults of a test are not supported",
        "qti-assessment-section-ref" => "external section references are not supported",
        "qti-selection" => "random item selection is not supported (the approved instrument must be fixed)",
        "qti-pre-condition" | "qti-branch-rule" => "adaptive test routing is not supported",
        "qti-context-declaration" | "qti-variable-mapping" => "not supported",
        _ => return None,
    })
}

type Reader<'r, 'a> = &'r dyn Fn(&str) -> Option<&'a [u8]>;

/// Imports a QTI 3.0 content package; `read` returns a package file's bytes.
pub fn import<'a>(read: Reader<'_, 'a>) -> Result<Instrument, QtiError> {
    let manifest_bytes = read(MANIFEST_PATH).ok_or_else(|| QtiError::MissingFile { file: "(package)".into(), line: 0, column: 0, path: MANIFEST_PATH.into() })?;
    let manifest = xml::parse(manifest_bytes, MANIFEST_PATH)?;
    let (test_path, test_line, test_column) = test_from_manifest(&manifest, read)?;
    let test_bytes = read(&test_path).ok_or_else(|| QtiError::MissingFile { file: MANIFEST_PATH.into(), line: test_line, column: test_column, path: test_path.clone() })?;
    let root = xml::parse(test_bytes, &test_path)?;
    let mut importer = Importer {
        read,
        notices: Vec::new(),
        scoring: Vec::new(),
        test_scoring: None,
        test_processing_seen: false,
        item_count: 0,
        ref_ids: HashSet::new(),
        xml_bytes: (manifest_bytes.len() + test_bytes.len()) as u64,
        problems: Vec::new(),
        warnings: Vec::new(),
    };
    let test = match importer.test(&root, &test_path) {
        Ok(test) => test,
        Err(error @ QtiError::Items { .. }) => return Err(error),
        Err(error) if importer.problems.is_empty() => return Err(error),
        // A problem that ends the import after problems in items: all of them.
        Err(error) => {
            let mut problems = std::mem::take(&mut importer.problems);
            problems.push(ItemProblem { ref_identifier: None, identifier: None, error });
            return Err(QtiError::Items { item_count: importer.item_count, problems, stopped: true });
        }
    };
    // Declarations without processing: nothing to run (the sum it is), even
    // when one of them could not be read.
    let seen = importer.test_processing_seen;
    let mut instrument = Instrument { test, scoring: Scoring { items: importer.scoring, test: None }, warnings: importer.warnings };
    // What the kiosk checks of each answer's size, the hub checks again.
    let answers = super::answer_ids::AnswerIds::of(&instrument.test);
    for item in &mut instrument.scoring.items {
        for response in &mut item.responses {
            response.max_values = answers.max_values(&item.ref_identifier, &response.identifier);
        }
    }
    instrument.scoring.test = importer.test_scoring.filter(|_| seen).map(|mut t| {
        if t.manual.is_some() {
            t.rules = None;
        }
        t.categories = instrument.items().into_iter().filter(|i| !i.categories.is_empty()).map(|i| (i.ref_identifier.clone(), i.categories.clone())).collect();
        t
    });
    Ok(instrument)
}

/// The test's path, and the line and column of its resource in the manifest.
fn test_from_manifest(manifest: &Element, read: Reader<'_, '_>) -> Result<(String, usize, usize), QtiError> {
    let file = MANIFEST_PATH;
    if manifest.name != "manifest" {
        return Err(invalid(file, manifest, format!("root is {}, expected <manifest>", manifest.tag())));
    }
    let mut tests = Vec::new();
    for resources in manifest.elements().filter(|e| e.name == "resources") {
        for resource in resources.elements().filter(|e| e.name == "resource") {
            let kind = resource.attr("type").unwrap_or("");
            if kind.starts_with("imsqti_item_xmlv2") || kind.starts_with("imsqti_test_xmlv2") || kind == "imsqti_xmlv1p2" {
                return Err(QtiError::Unsupported {
                    file: file.into(),
                    line: resource.line,
                    column: resource.column,
                    construct: format!("resource type {kind}"),
                    reason: "only QTI 3.0 packages are accepted; convert older QTI first".into(),
                });
            }
            // Completeness: every file the manifest lists must be in the package.
            for f in resource.elements().filter(|e| e.name == "file") {
                if let Some(href) = f.attr("href") {
                    let path = paths::resolve(file, href).map_err(|reason| QtiError::BadReference {
                        file: file.into(),
                        line: f.line,
                        column: f.column,
                        reference: href.into(),
                        reason,
                    })?;
                    if read(&path).is_none() {
                        return Err(QtiError::MissingFile { file: file.into(), line: f.line, column: f.column, path });
                    }
                }
            }
            if kind == TEST_RESOURCE_TYPE {
                let href = resource.attr("href").ok_or_else(|| invalid(file, resource, "test resource without href"))?;
                let path = paths::resolve(file, href).map_err(|reason| QtiError::BadReference {
                    file: file.into(),
                    line: resource.line,
                    column: resource.column,
                    reference: href.into(),
                    reason,
                })?;
                tests.push((path, resource.line, resource.column));
            }
        }
    }
    match tests.len() {
        1 => Ok(tests.remove(0)),
        0 => Err(invalid(file, manifest, format!("no resource of type {TEST_RESOURCE_TYPE} (an instrument is one QTI 3.0 assessment test)"))),
        _ => Err(QtiError::Invalid {
            file: file.into(),
            line: tests[1].1,
            column: tests[1].2,
            message: "more than one assessment test in the package".into(),
        }),
    }
}

struct Importer<'r, 'a> {
    read: Reader<'r, 'a>,
    notices: Vec<Notice>,
    scoring: Vec<ItemScoring>,
    /// The test's outcome declarations and processing (`None`: it has none).
    test_scoring: Option<TestScoring>,
    /// Whether the test has a `qti-outcome-processing` (read or not).
    test_processing_seen: bool,
    item_count: usize,
    ref_ids: HashSet<String>,
    xml_bytes: u64,
    /// Problems of the items read so far (the import goes on to the next item).
    problems: Vec<ItemProblem>,
    warnings: Vec<Warning>,
}

fn invalid(file: &str, e: &Element, message: impl Into<String>) -> QtiError {
    QtiError::Invalid { file: file.into(), line: e.line, column: e.column, message: message.into() }
}

fn unsupported(file: &str, e: &Element, reason: &str) -> QtiError {
    QtiError::Unsupported { file: file.into(), line: e.line, column: e.column, construct: e.tag(), reason: reason.into() }
}

fn unexpected(file: &str, e: &Element, parent: &str) -> QtiError {
    match unsupported_reason(&e.name) {
        Some(reason) => unsupported(file, e, reason),
        None => unsupported(file, e, &format!("not supported inside <{parent}>")),
    }
}

fn required<'e>(file: &str, e: &'e Element, name: &str) -> Result<&'e str, QtiError> {
    e.attr(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| invalid(file, e, format!("{} needs attribute {name}", e.tag())))
}

fn boolean(file: &str, e: &Element, name: &str, default: bool) -> Result<bool, QtiError> {
    match e.attr(name).map(str::trim) {
        None => Ok(default),
        Some("true") | Some("1") => Ok(true),
        Some("false") | Some("0") => Ok(false),
        Some(other) => Err(invalid(file, e, format!("{name}={other:?} is not a boolean"))),
    }
}

fn number<T: std::str::FromStr>(file: &str, e: &Element, name: &str) -> Result<Option<T>, QtiError> {
    match e.attr(name) {
        None => Ok(None),
        Some(v) => v.trim().parse().map(Some).map_err(|_| invalid(file, e, format!("{name}={v:?} is not a valid number"))),
    }
}

fn float(file: &str, e: &Element, name: &str) -> Result<Option<f64>, QtiError> {
    let v: Option<f64> = number(file, e, name)?;
    match v {
        Some(x) if !x.is_finite() => Err(invalid(file, e, format!("{name} is not finite"))),
        other => Ok(other),
    }
}

fn classes(e: &Element) -> Vec<String> {
    e.attr("class").map(|c| c.split_whitespace().map(String::from).collect()).unwrap_or_default()
}

fn lang(e: &Element) -> Option<String> {
    e.attr("xml:lang").or_else(|| e.attr("lang")).map(String::from)
}

/// `dir` when it is one HTML knows (anything else is left to the content's parent).
fn direction(e: &Element) -> Option<String> {
    e.attr("dir").map(|d| d.trim().to_ascii_lowercase()).filter(|d| matches!(d.as_str(), "ltr" | "rtl" | "auto"))
}

fn is_blank(node: &XNode) -> bool {
    matches!(node, XNode::Text(t) if t.trim().is_empty())
}

/// The element children, refusing non-blank text where only elements belong.
fn element_children<'e>(file: &str, e: &'e Element) -> Result<Vec<&'e Element>, QtiError> {
    let mut out = Vec::new();
    for c in &e.children {
        match c {
            XNode::Element(el) => out.push(el),
            t if is_blank(t) => {}
            XNode::Text(t) => {
                return Err(invalid(file, e, format!("unexpected text {:?} in {}", t.trim().chars().take(40).collect::<String>(), e.tag())))
            }
        }
    }
    Ok(out)
}

fn cardinality(file: &str, e: &Element) -> Result<Cardinality, QtiError> {
    Ok(match required(file, e, "cardinality")? {
        "single" => Cardinality::Single,
        "multiple" => Cardinality::Multiple,
        "ordered" => Cardinality::Ordered,
        "record" => Cardinality::Record,
        other => return Err(invalid(file, e, format!("cardinality {other:?}"))),
    })
}

fn session_control(file: &str, e: &Element) -> Result<ItemSessionControl, QtiError> {
    Ok(ItemSessionControl {
        max_attempts: number(file, e, "max-attempts")?,
        allow_review: e.attr("allow-review").map(|_| boolean(file, e, "allow-review", true)).transpose()?,
        allow_skipping: e.attr("allow-skipping").map(|_| boolean(file, e, "allow-skipping", true)).transpose()?,
        validate_responses: e.attr("validate-responses").map(|_| boolean(file, e, "validate-responses", false)).transpose()?,
        allow_comment: e.attr("allow-comment").map(|_| boolean(file, e, "allow-comment", false)).transpose()?,
    })
}

fn time_limits(file: &str, e: &Element) -> Result<TimeLimits, QtiError> {
    Ok(TimeLimits {
        min_time: float(file, e, "min-time")?,
        max_time: float(file, e, "max-time")?,
        allow_late_submission: e.attr("allow-late-submission").map(|_| boolean(file, e, "allow-late-submission", false)).transpose()?,
    })
}

/// Per-item state while converting a body.
struct ItemCtx<'f> {
    file: &'f str,
    declared: HashSet<String>,
    used: HashSet<String>,
    dropped_attrs: Vec<(usize, String)>,
    /// Problems found so far that did not end the conversion.
    problems: Vec<QtiError>,
    /// Images without alternative text: line, column, package path.
    missing_alt: Vec<(usize, usize, String)>,
    /// Interactions the kiosk explains and a person scores (upload, drawing): line, column, what.
    person_scored: Vec<(usize, usize, String)>,
    /// Template variables, evaluated at pack time (`qti_content.rs`).
    templates: content::Templates,
    /// Correct responses set by template processing: (response, values).
    template_correct: Vec<(String, Vec<String>)>,
    /// `xi:include`s followed so far.
    includes: usize,
    /// The item's identifier, once known (warnings from stimuli and included files name it).
    item_id: Option<String>,
}

impl<'f> ItemCtx<'f> {
    fn new(file: &'f str) -> Self {
        ItemCtx {
            file,
            declared: HashSet::new(),
            used: HashSet::new(),
            dropped_attrs: Vec::new(),
            problems: Vec::new(),
            missing_alt: Vec::new(),
            person_scored: Vec::new(),
            templates: Default::default(),
            template_correct: Vec::new(),
            includes: 0,
            item_id: None,
        }
    }
}

impl<'r, 'a> Importer<'r, 'a> {
    fn notice(&mut self, file: &str, e: &Element, reason: &str) {
        self.notices.push(Notice { file: file.into(), line: e.line, construct: e.tag(), reason: reason.into() });
    }

    fn test(&mut self, root: &Element, file: &str) -> Result<AssessmentTest, QtiError> {
        if root.name == "assessmentTest" {
            return Err(unsupported(file, root, "this is QTI 2.x; only QTI 3.0 is accepted"));
        }
        if root.name != "qti-assessment-test" {
            return Err(invalid(file, root, format!("root is {}, expected <qti-assessment-test>", root.tag())));
        }
        let mut test = AssessmentTest {
            identifier: required(file, root, "identifier")?.to_string(),
            title: root.attr("title").unwrap_or("").to_string(),
            lang: lang(root),
            time_limits: None,
            test_parts: Vec::new(),
            item_count: 0,
            notices: Vec::new(),
            tools: Default::default(),
        };
        for child in element_children(file, root)? {
            match child.name.as_str() {
                "qti-stylesheet" => {}
                // For the hub (scoring data), never the render model. A
                // declaration or processing the importer cannot read does not
                // refuse the test: the hub reports the sum of the item scores
                // then, and pack says why.
                "qti-outcome-declaration" => {
                    let t = self.test_scoring.get_or_insert_with(TestScoring::default);
                    match super::qti_scoring::outcome_declaration(child) {
                        Ok(decl) => t.outcomes.push(decl),
                        Err(reason) => t.manual = t.manual.take().or(Some(reason)),
                    }
                }
                "qti-outcome-processing" => {
                    self.test_processing_seen = true;
                    let t = self.test_scoring.get_or_insert_with(TestScoring::default);
                    match super::qti_scoring::test_processing(child) {
                        Ok(rules) => t.rules = Some(rules),
                        Err(reason) => t.manual = t.manual.take().or(Some(reason)),
                    }
                }
                "qti-test-feedback" => self.notice(file, child, "feedback is not shown during a summative exam"),
                "qti-time-limits" => test.time_limits = Some(time_limits(file, child)?),
                "qti-test-part" => {
                    let part = self.test_part(child, file)?;
                    test.test_parts.push(part);
                }
                _ => self.test_problem(unexpected(file, child, "qti-assessment-test")),
            }
        }
        if test.test_parts.is_empty() {
            return Err(invalid(file, root, "the test has no qti-test-part"));
        }
        test.item_count = self.item_count;
        if !self.problems.is_empty() {
            return Err(QtiError::Items { item_count: self.item_count, problems: std::mem::take(&mut self.problems), stopped: false });
        }
        if test.item_count == 0 {
            return Err(invalid(file, root, "the test has no items"));
        }
        test.notices = std::mem::take(&mut self.notices);
        Ok(test)
    }

    fn test_part(&mut self, e: &Element, file: &str) -> Result<TestPart, QtiError> {
        let navigation_mode = match required(file, e, "navigation-mode")? {
            "linear" => NavigationMode::Linear,
            "nonlinear" => NavigationMode::Nonlinear,
            other => return Err(invalid(file, e, format!("navigation-mode {other:?}"))),
        };
        let submission_mode = match required(file, e, "submission-mode")? {
            "individual" => SubmissionMode::Individual,
            "simultaneous" => SubmissionMode::Simultaneous,
            other => return Err(invalid(file, e, format!("submission-mode {other:?}"))),
        };
        let mut part = TestPart {
            identifier: required(file, e, "identifier")?.to_string(),
            navigation_mode,
            submission_mode,
            item_session_control: None,
            time_limits: None,
            sections: Vec::new(),
        };
        for child in element_children(file, e)? {
            match child.name.as_str() {
                "qti-item-session-control" => part.item_session_control = Some(session_control(file, child)?),
                "qti-time-limits" => part.time_limits = Some(time_limits(file, child)?),
                "qti-assessment-section" => {
                    let s = self.section(child, file)?;
                    part.sections.push(s);
                }
                "qti-test-feedback" => self.notice(file, child, "feedback is not shown during a summative exam"),
                _ => self.test_problem(unexpected(file, child, "qti-test-part")),
            }
        }
        Ok(part)
    }

    fn section(&mut self, e: &Element, file: &str) -> Result<Section, QtiError> {
        let mut section = Section {
            identifier: required(file, e, "identifier")?.to_string(),
            title: e.attr("title").unwrap_or("").to_string(),
            visible: boolean(file, e, "visible", true)?,
            keep_together: boolean(file, e, "keep-together", true)?,
            shuffle: false,
            item_session_control: None,
            time_limits: None,
            rubric_blocks: Vec::new(),
            parts: Vec::new(),
        };
        for child in element_children(file, e)? {
            match child.name.as_str() {
                "qti-item-session-control" => section.item_session_control = Some(session_control(file, child)?),
                "qti-time-limits" => section.time_limits = Some(time_limits(file, child)?),
                "qti-ordering" => section.shuffle = boolean(file, child, "shuffle", false)?,
                "qti-rubric-block" => {
                    let mut ctx = ItemCtx::new(file);
                    if let Some(block) = self.rubric_block(child, &mut ctx)? {
                        section.rubric_blocks.push(block);
                    }
                    for problem in ctx.problems.drain(..) {
                        self.test_problem(problem);
                    }
                    self.report_dropped(&mut ctx);
                    self.report_missing_alt(&mut ctx, None);
                }
                "qti-assessment-section" => {
                    let s = self.section(child, file)?;
                    section.parts.push(SectionPart::Section(s));
                }
                "qti-assessment-item-ref" => {
                    if let Some(item) = self.item_ref(child, file)? {
                        section.parts.push(SectionPart::Item(Box::new(item)));
                    }
                }
                _ => self.test_problem(unexpected(file, child, "qti-assessment-section")),
            }
        }
        Ok(section)
    }

    fn report_dropped(&mut self, ctx: &mut ItemCtx<'_>) {
        let mut seen = HashSet::new();
        for (line, attr) in ctx.dropped_attrs.drain(..) {
            if seen.insert(attr.clone()) {
                self.notices.push(Notice {
                    file: ctx.file.into(),
                    line,
                    construct: format!("attribute {attr}"),
                    reason: "presentation attribute not applied by the kiosk (the kiosk's own styles and accommodations apply)".into(),
                });
            }
        }
    }

    fn item_ref(&mut self, e: &Element, test_file: &str) -> Result<Option<Item>, QtiError> {
        let ref_identifier = required(test_file, e, "identifier")?.to_string();
        if !self.ref_ids.insert(ref_identifier.clone()) {
            return Err(invalid(test_file, e, format!("item reference identifier {ref_identifier} is used twice")));
        }
        self.item_count += 1;
        if self.item_count > MAX_ITEMS {
            return Err(QtiError::TooLarge { file: test_file.into(), what: "number of items", limit: MAX_ITEMS as u64 });
        }
        let href = required(test_file, e, "href")?;
        let path = paths::resolve(test_file, href).map_err(|reason| QtiError::BadReference {
            file: test_file.into(),
            line: e.line,
            column: e.column,
            reference: href.into(),
            reason,
        })?;
        let mut weights = BTreeMap::new();
        let mut isc = None;
        let mut limits = None;
        for child in element_children(test_file, e)? {
            match child.name.as_str() {
                "qti-item-session-control" => isc = Some(session_control(test_file, child)?),
                "qti-time-limits" => limits = Some(time_limits(test_file, child)?),
                "qti-weight" => {
                    let id = required(test_file, child, "identifier")?.to_string();
                    let value = float(test_file, child, "value")?.ok_or_else(|| invalid(test_file, child, "qti-weight needs value"))?;
                    weights.insert(id, value);
                }
                _ => return Err(unexpected(test_file, child, "qti-assessment-item-ref")),
            }
        }
        let categories = e.attr("category").map(|c| c.split_whitespace().map(String::from).collect()).unwrap_or_default();
        let required_item = boolean(test_file, e, "required", false)?;
        // From here on a problem is the item's: collected, and the import
        // goes on with the next item (unless it is a hard stop).
        let mut problems = Vec::new();
        let mut identifier = None;
        let result = match (self.read)(&path) {
            None => Err(QtiError::MissingFile { file: test_file.into(), line: e.line, column: e.column, path: path.clone() }),
            Some(bytes) => {
                self.xml_bytes += bytes.len() as u64;
                if self.xml_bytes > MAX_TOTAL_XML_BYTES {
                    return Err(QtiError::TooLarge { file: test_file.into(), what: "XML of all items together", limit: MAX_TOTAL_XML_BYTES });
                }
                xml::parse(bytes, &path)
                    .and_then(|root| self.item(&root, &path, ref_identifier.clone(), weights, &mut identifier, &mut problems))
            }
        };
        let mut stopped = false;
        match result {
            Ok((mut item, scoring)) if problems.is_empty() => {
                item.categories = categories;
                item.required = required_item;
                item.item_session_control = isc;
                item.time_limits = limits;
                self.scoring.push(scoring);
                return Ok(Some(item));
            }
            Ok(_) => {}
            Err(error) => {
                stopped = error.is_hard_stop();
                problems.push(error);
            }
        }
        self.problems.extend(problems.into_iter().map(|error| ItemProblem {
            ref_identifier: Some(ref_identifier.clone()),
            identifier: identifier.clone(),
            error,
        }));
        if stopped {
            return Err(QtiError::Items { item_count: self.item_count, problems: std::mem::take(&mut self.problems), stopped });
        }
        Ok(None)
    }

    /// A problem of the test itself (not of an item): collected like an item's.
    fn test_problem(&mut self, error: QtiError) {
        self.problems.push(ItemProblem { ref_identifier: None, identifier: None, error });
    }

    /// Warnings for images without alternative text, named by item.
    fn report_missing_alt(&mut self, ctx: &mut ItemCtx<'_>, item: Option<&str>) {
        for (line, column, src) in ctx.missing_alt.drain(..) {
            self.warnings.push(Warning {
                item: item.map(String::from),
                file: ctx.file.into(),
                line,
                column,
                message: format!("image {src} has no alternative text (alt is empty or missing): a student using a screen reader gets nothing"),
            });
        }
        for (line, column, message) in ctx.person_scored.drain(..) {
            self.warnings.push(Warning { item: item.map(String::from), file: ctx.file.into(), line, column, message });
        }
    }

    /// One item file; problems that do not end the item go to `problems`,
    /// and `identifier` is set as soon as the item's own id is known.
    fn item(
        &mut self,
        root: &Element,
        file: &str,
        ref_identifier: String,
        weights: BTreeMap<String, f64>,
        identifier_out: &mut Option<String>,
        problems: &mut Vec<QtiError>,
    ) -> Result<(Item, ItemScoring), QtiError> {
        let mut ctx = ItemCtx::new(file);
        let result = self.item_content(root, file, ref_identifier, weights, identifier_out, &mut ctx);
        // Also when the item ended early (a hard stop): what was found before it is said.
        problems.append(&mut ctx.problems);
        result
    }

    fn item_content(
        &mut self,
        root: &Element,
        file: &str,
        ref_identifier: String,
        weights: BTreeMap<String, f64>,
        identifier_out: &mut Option<String>,
        ctx: &mut ItemCtx<'_>,
    ) -> Result<(Item, ItemScoring), QtiError> {
        if root.name == "assessmentItem" {
            return Err(unsupported(file, root, "this is QTI 2.x; only QTI 3.0 is accepted"));
        }
        if root.name != "qti-assessment-item" {
            return Err(invalid(file, root, format!("root is {}, expected <qti-assessment-item>", root.tag())));
        }
        let identifier = required(file, root, "identifier")?.to_string();
        *identifier_out = Some(identifier.clone());
        ctx.item_id = Some(identifier.clone());
        let mut item = Item {
            ref_identifier: ref_identifier.clone(),
            identifier: identifier.clone(),
            href: file.to_string(),
            title: root.attr("title").unwrap_or("").to_string(),
            label: root.attr("label").map(String::from),
            lang: lang(root),
            dir: direction(root),
            categories: Vec::new(),
            required: false,
            item_session_control: None,
            time_limits: None,
            stylesheets: Vec::new(),
            adaptive: boolean(file, root, "adaptive", false)?,
            companion: None,
            template_variant: false,
            stimuli: Vec::new(),
            spoken: BTreeMap::new(),
            responses: Vec::new(),
            body: Vec::new(),
        };
        (item.stimuli, item.companion) = self.item_prelude(root, ctx)?;
        item.template_variant = ctx.templates.random();
        let mut scoring =
            ItemScoring { ref_identifier, identifier, weights, responses: Vec::new(), outcomes: Vec::new(), processing: Processing::None };
        let mut body = None;
        let mut unreadable_outcome: Option<String> = None;
        for child in element_children(file, root)? {
            match child.name.as_str() {
                "qti-response-declaration" => {
                    let decl = match response_declaration(file, child) {
                        Ok(decl) => decl,
                        Err(problem) if !problem.is_hard_stop() => {
                            // Counted as declared: its interaction is not reported again.
                            if let Some(id) = child.attr("identifier") {
                                ctx.declared.insert(id.to_string());
                            }
                            ctx.problems.push(problem);
                            continue;
                        }
                        Err(problem) => return Err(problem),
                    };
                    if !ctx.declared.insert(decl.identifier.clone()) {
                        return Err(invalid(file, child, format!("response {} declared twice", decl.identifier)));
                    }
                    item.responses.push(ResponseInfo {
                        identifier: decl.identifier.clone(),
                        cardinality: decl.cardinality,
                        base_type: decl.base_type.clone(),
                    });
                    scoring.responses.push(decl);
                }
                "qti-outcome-declaration" => match super::qti_scoring::outcome_declaration(child) {
                    Ok(decl) => scoring.outcomes.push(decl),
                    // Not a refusal: a person scores the item (below).
                    Err(reason) => unreadable_outcome = unreadable_outcome.or(Some(reason)),
                },
                // Read by `item_prelude` (qti_content.rs).
                "qti-template-declaration" | "qti-template-processing" | "qti-assessment-stimulus-ref" | "qti-companion-materials-info" => {}
                "qti-stylesheet" => item.stylesheets.extend(self.stylesheet(file, child, Some(&item.identifier))?),
                "qti-item-body" => {
                    if body.is_some() {
                        return Err(invalid(file, child, "more than one qti-item-body"));
                    }
                    body = Some(child);
                }
                "qti-response-processing" => {
                    scoring.processing = match child.attr("template") {
                        Some(uri) => Processing::Template { uri: uri.to_string() },
                        None if child.elements().next().is_none() => Processing::None,
                        None => super::qti_scoring::custom_processing(child),
                    };
                }
                "qti-modal-feedback" => self.notice(file, child, "feedback is not shown during a summative exam"),
                "qti-catalog-info" => {
                    let (spoken, unused) = spoken_catalog(child, item.lang.as_deref());
                    item.spoken.extend(spoken);
                    if unused {
                        self.notice(file, child, "only the catalog's spoken text is used (for read-aloud); the kiosk applies the student's other accommodations itself");
                    }
                }
                // Collected: the body's problems are reported too.
                _ => ctx.problems.push(unexpected(file, child, "qti-assessment-item")),
            }
        }
        if let (Some(reason), Processing::Template { .. } | Processing::Custom { .. }) = (unreadable_outcome, &scoring.processing) {
            scoring.processing = Processing::Custom { rules: None, manual: Some(reason) };
        }
        let body = body.ok_or_else(|| invalid(file, root, "item without qti-item-body"))?;
        item.lang = lang(body).or(item.lang);
        item.dir = direction(body).or(item.dir);
        item.body = self.flow(body, ctx, Mode::Body)?;
        // Only what the page shows may be spoken: an entry for content that
        // was removed (a scorer's rubric block) never reaches the web view.
        let shown = catalog_refs(&item.body);
        item.spoken.retain(|id, _| shown.contains(id.as_str()));
        for constant in ctx.templates.scoring_constants() {
            if !scoring.outcomes.iter().any(|o| o.identifier == constant.identifier) {
                scoring.outcomes.push(constant);
            }
        }
        for (id, values) in std::mem::take(&mut ctx.template_correct) {
            match scoring.responses.iter_mut().find(|d| d.identifier == id) {
                Some(decl) => decl.correct = values,
                None => ctx.problems.push(invalid(file, root, format!("template processing sets the correct response of {id}, which is not declared"))),
            }
        }
        let mut undeclared: Vec<String> = ctx.used.iter().filter(|id| !ctx.declared.contains(*id)).cloned().collect();
        undeclared.sort();
        for id in undeclared {
            ctx.problems.push(invalid(file, body, format!("interaction uses response {id}, which is not declared")));
        }
        if !ctx.person_scored.is_empty() {
            // Upload and drawing: the kiosk takes no answer for them, so
            // whatever the item's processing, a person scores it — in pack's
            // report and at the hub alike.
            scoring.processing = Processing::Custom {
                rules: None,
                manual: Some("de kiosk neemt dit antwoord niet af (bestand of tekening)".into()),
            };
        }
        self.report_dropped(ctx);
        self.report_missing_alt(ctx, Some(&item.identifier));
        Ok((item, scoring))
    }

    fn resolve_existing(&self, file: &str, e: &Element, reference: &str) -> Result<String, QtiError> {
        let path = paths::resolve(file, reference).map_err(|reason| QtiError::BadReference {
            file: file.into(),
            line: e.line,
            column: e.column,
            reference: reference.into(),
            reason,
        })?;
        if (self.read)(&path).is_none() {
            return Err(QtiError::MissingFile { file: file.into(), line: e.line, column: e.column, path });
        }
        Ok(path)
    }

    /// A rubric block for the candidate; `None` (with a notice) for one
    /// only for others — a scorer's block holds expected answers and
    /// scoring criteria, which must never reach the kiosk's web view
    /// (issue 18: 8 public items carried them in the render model). Its
    /// content is not even read.
    fn rubric_block(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<Option<RubricBlock>, QtiError> {
        let view: Vec<String> = required(ctx.file, e, "view")?.split_whitespace().map(String::from).collect();
        if !view.iter().any(|v| v == "candidate") {
            let reason = format!("a rubric block for {} only is left out: the candidate never gets it", view.join(", "));
            self.notice(ctx.file, e, &reason);
            return Ok(None);
        }
        // QTI 3 wraps rubric content in qti-content-body; accept bare content too.
        let wrapped: Vec<&Element> = e.elements().filter(|c| c.name == "qti-content-body").collect();
        let content = match wrapped.as_slice() {
            [body] => self.flow(body, ctx, Mode::Body)?,
            [] => self.flow(e, ctx, Mode::Body)?,
            _ => return Err(invalid(ctx.file, e, "more than one qti-content-body")),
        };
        Ok(Some(RubricBlock { view, r#use: e.attr("use").map(String::from), content }))
    }

    /// Converts the children of `e` as flow content.
    fn flow(&mut self, e: &Element, ctx: &mut ItemCtx<'_>, mode: Mode) -> Result<Vec<Node>, QtiError> {
        let mut out = Vec::new();
        for child in &e.children {
            match child {
                XNode::Text(t) => {
                    let text = if t.trim().is_empty() { " ".to_string() } else { t.clone() };
                    out.push(Node::Text { text });
                }
                XNode::Element(el) => match self.element(el, ctx, mode) {
                    Ok(Some(node)) => out.push(node),
                    Ok(None) => {}
                    // Collected: the item's other problems are reported too.
                    Err(problem) if !problem.is_hard_stop() => ctx.problems.push(problem),
                    Err(problem) => return Err(problem),
                },
            }
        }
        Ok(out)
    }

    fn element(&mut self, e: &Element, ctx: &mut ItemCtx<'_>, mode: Mode) -> Result<Option<Node>, QtiError> {
        let file = ctx.file;
        let name = e.name.as_str();
        if name == "a" && e.prefix.is_none() {
            // A link (a photographer's credit, a licence, a source): its
            // text is content, its target is the web, which an exam has
            // none of. The text stays, the link goes — with a notice.
            self.notice(ctx.file, e, "the link is removed, its text is kept (no web in an exam)");
            let children = self.flow(e, ctx, mode)?;
            return Ok(Some(Node::Element { tag: "span".to_string(), attrs: BTreeMap::new(), children }));
        }
        if ALLOWED_HTML.contains(&name) && e.prefix.is_none() {
            let mut attrs = BTreeMap::new();
            for (k, v) in &e.attrs {
                let key = if k == "xml:lang" { "lang" } else { k.as_str() };
                if key == "dir" {
                    // Only a direction HTML knows; anything else would be a guess in the UI.
                    match direction(e) {
                        Some(d) => {
                            attrs.insert("dir".to_string(), d);
                        }
                        None => ctx.dropped_attrs.push((e.line, "dir".to_string())),
                    }
                } else if ALLOWED_ATTRIBUTES.contains(&key) {
                    attrs.insert(key.to_string(), v.clone());
                } else if key == SUPPRESS_TTS {
                    let value = v.trim().to_ascii_lowercase();
                    if SUPPRESS_TTS_VALUES.contains(&value.as_str()) {
                        attrs.insert(key.to_string(), value);
                    } else {
                        ctx.dropped_attrs.push((e.line, format!("{key}=\"{v}\"")));
                    }
                } else if key == CATALOG_IDREF {
                    // A catalog id (the item's own catalog says what it stands for).
                    let id = v.trim();
                    if !id.is_empty() && id.len() <= 128 && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
                        attrs.insert(key.to_string(), id.to_string());
                    } else {
                        ctx.dropped_attrs.push((e.line, format!("{key}=\"{v}\"")));
                    }
                } else if !QUIET_ATTRIBUTES.contains(&key) && !key.starts_with("data-") {
                    ctx.dropped_attrs.push((e.line, key.to_string()));
                }
            }
            let children = self.flow(e, ctx, mode)?;
            return Ok(Some(Node::Element { tag: name.to_string(), attrs, children }));
        }
        if let Some(result) = self.content_element(e, ctx, mode) {
            return result;
        }
        Ok(Some(match name {
            "img" => {
                let src = required(file, e, "src")?;
                let path = self.resolve_existing(file, e, src)?;
                let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
                if !matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp") {
                    return Err(unsupported(file, e, &format!("image type .{ext} (png, jpg, gif, svg or webp only)")));
                }
                let alt = e.attr("alt").unwrap_or("");
                if alt.trim().is_empty() {
                    ctx.missing_alt.push((e.line, e.column, path.clone()));
                }
                Node::Image {
                    src: path,
                    alt: alt.to_string(),
                    width: e.attr("width").map(String::from),
                    height: e.attr("height").map(String::from),
                    class: classes(e),
                }
            }
            "qti-rubric-block" => match self.rubric_block(e, ctx)? {
                Some(block) => Node::RubricBlock(block),
                None => return Ok(None),
            },
            "qti-feedback-block" | "qti-feedback-inline" => {
                self.notice(file, e, "feedback is not shown during a summative exam");
                return Ok(None);
            }
            "qti-choice-interaction" => Node::ChoiceInteraction(self.choice(e, ctx)?),
            "qti-order-interaction" => Node::OrderInteraction(self.order(e, ctx)?),
            "qti-text-entry-interaction" => {
                let response_identifier = self.use_response(e, ctx)?;
                no_content(file, e)?;
                Node::TextEntryInteraction(TextEntryInteraction {
                    response_identifier,
                    expected_length: number(file, e, "expected-length")?,
                    pattern_mask: e.attr("pattern-mask").map(String::from),
                    placeholder: e.attr("placeholder-text").map(String::from),
                    class: classes(e),
                })
            }
            "qti-extended-text-interaction" => {
                let response_identifier = self.use_response(e, ctx)?;
                let mut prompt = Vec::new();
                for child in element_children(file, e)? {
                    match child.name.as_str() {
                        "qti-prompt" => prompt = self.flow(child, ctx, Mode::Body)?,
                        _ => return Err(unexpected(file, child, "qti-extended-text-interaction")),
                    }
                }
                Node::ExtendedTextInteraction(ExtendedTextInteraction {
                    response_identifier,
                    expected_length: number(file, e, "expected-length")?,
                    expected_lines: number(file, e, "expected-lines")?,
                    format: e.attr("format").map(String::from),
                    pattern_mask: e.attr("pattern-mask").map(String::from),
                    placeholder: e.attr("placeholder-text").map(String::from),
                    class: classes(e),
                    prompt,
                })
            }
            "qti-match-interaction" => Node::MatchInteraction(self.match_interaction(e, ctx)?),
            "qti-inline-choice-interaction" => {
                let response_identifier = self.use_response(e, ctx)?;
                let mut choices = Vec::new();
                let mut ids = HashSet::new();
                for child in element_children(file, e)? {
                    match child.name.as_str() {
                        "qti-inline-choice" => choices.push(self.simple_choice(child, ctx, &mut ids)?),
                        _ => return Err(unexpected(file, child, "qti-inline-choice-interaction")),
                    }
                }
                if choices.is_empty() {
                    return Err(invalid(file, e, "inline choice interaction without choices"));
                }
                let shuffle = boolean(file, e, "shuffle", false)?;
                Node::InlineChoiceInteraction(InlineChoiceInteraction {
                    choices: unauthored_order(shuffle, &response_identifier, choices),
                    response_identifier,
                    shuffle,
                    required: boolean(file, e, "required", false)?,
                    class: classes(e),
                })
            }
            "qti-gap-match-interaction" => Node::GapMatchInteraction(self.gap_match(e, ctx)?),
            "qti-hotspot-interaction" | "qti-graphic-gap-match-interaction" | "qti-select-point-interaction"
            | "qti-graphic-associate-interaction" | "qti-graphic-order-interaction" | "qti-position-object-stage" => {
                return self.graphic(e, ctx)
            }
            "qti-gap" if mode == Mode::GapContent => {
                no_content(file, e)?;
                Node::Gap { identifier: required(file, e, "identifier")?.to_string(), required: boolean(file, e, "required", false)? }
            }
            "qti-gap" => return Err(invalid(file, e, "<qti-gap> outside a qti-gap-match-interaction")),
            "qti-hottext-interaction" => Node::HottextInteraction(self.hottext_interaction(e, ctx)?),
            "qti-hottext" if mode == Mode::Hottext => Node::Hottext(self.hottext(e, ctx)?),
            "qti-hottext" => return Err(invalid(file, e, "<qti-hottext> outside a qti-hottext-interaction")),
            "qti-associate-interaction" => Node::AssociateInteraction(self.associate_interaction(e, ctx)?),
            "qti-slider-interaction" => Node::SliderInteraction(self.slider_interaction(e, ctx)?),
            "qti-upload-interaction" => Node::UploadInteraction(self.upload_interaction(e, ctx)?),
            "qti-drawing-interaction" => Node::DrawingInteraction(self.drawing_interaction(e, ctx)?),
            "qti-end-attempt-interaction" => Node::EndAttemptInteraction(self.end_attempt_interaction(e, ctx)?),
            "qti-media-interaction" => Node::MediaInteraction(self.media_interaction(e, ctx)?),
            "qti-prompt" | "qti-simple-choice" | "qti-inline-choice" | "qti-gap-text" | "qti-gap-img" | "qti-simple-match-set"
            | "qti-simple-associable-choice" | "qti-content-body" | "qti-hotspot-choice" | "qti-associable-hotspot"
            | "qti-position-object-interaction" => {
                return Err(invalid(file, e, format!("{} in the wrong place", e.tag())))
            }
            _ => {
                let reason = unsupported_reason(name).unwrap_or("not a QTI 3.0 item body element the kiosk renders");
                return Err(unsupported(file, e, reason));
            }
        }))
    }

    fn use_response(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<String, QtiError> {
        let id = required(ctx.file, e, "response-identifier")?.to_string();
        if !ctx.used.insert(id.clone()) {
            return Err(invalid(ctx.file, e, format!("two interactions use response {id}")));
        }
        Ok(id)
    }

    fn simple_choice(&mut self, e: &Element, ctx: &mut ItemCtx<'_>, ids: &mut HashSet<String>) -> Result<Choice, QtiError> {
        let identifier = required(ctx.file, e, "identifier")?.to_string();
        if !ids.insert(identifier.clone()) {
            return Err(invalid(ctx.file, e, format!("choice identifier {identifier} is used twice")));
        }
        Ok(Choice { identifier, fixed: boolean(ctx.file, e, "fixed", false)?, content: self.flow(e, ctx, Mode::Body)? })
    }

    fn choices(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<(Vec<Node>, Vec<Choice>), QtiError> {
        let mut prompt = Vec::new();
        let mut choices = Vec::new();
        let mut ids = HashSet::new();
        for child in element_children(ctx.file, e)? {
            match child.name.as_str() {
                "qti-prompt" => prompt = self.flow(child, ctx, Mode::Body)?,
                "qti-simple-choice" => choices.push(self.simple_choice(child, ctx, &mut ids)?),
                _ => return Err(unexpected(ctx.file, child, &e.name)),
            }
        }
        if choices.is_empty() {
            return Err(invalid(ctx.file, e, format!("{} without choices", e.tag())));
        }
        Ok((prompt, choices))
    }

    fn choice(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<ChoiceInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        let (prompt, choices) = self.choices(e, ctx)?;
        let shuffle = boolean(ctx.file, e, "shuffle", false)?;
        let choices = unauthored_order(shuffle, &response_identifier, choices);
        Ok(ChoiceInteraction {
            response_identifier,
            shuffle,
            max_choices: number(ctx.file, e, "max-choices")?.unwrap_or(1),
            min_choices: number(ctx.file, e, "min-choices")?.unwrap_or(0),
            orientation: e.attr("orientation").map(String::from),
            class: classes(e),
            prompt,
            choices,
        })
    }

    fn order(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<OrderInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        let (prompt, choices) = self.choices(e, ctx)?;
        let shuffle = boolean(ctx.file, e, "shuffle", false)?;
        let choices = unauthored_order(shuffle, &response_identifier, choices);
        Ok(OrderInteraction {
            response_identifier,
            shuffle,
            min_choices: number(ctx.file, e, "min-choices")?,
            max_choices: number(ctx.file, e, "max-choices")?,
            orientation: e.attr("orientation").map(String::from),
            class: classes(e),
            prompt,
            choices,
        })
    }

    fn associable(&mut self, e: &Element, ctx: &mut ItemCtx<'_>, ids: &mut HashSet<String>) -> Result<AssociableChoice, QtiError> {
        let identifier = required(ctx.file, e, "identifier")?.to_string();
        if !ids.insert(identifier.clone()) {
            return Err(invalid(ctx.file, e, format!("choice identifier {identifier} is used twice")));
        }
        Ok(AssociableChoice {
            identifier,
            match_max: number(ctx.file, e, "match-max")?.unwrap_or(1),
            match_min: number(ctx.file, e, "match-min")?.unwrap_or(0),
            fixed: boolean(ctx.file, e, "fixed", false)?,
            content: self.flow(e, ctx, Mode::Body)?,
        })
    }

    fn match_interaction(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<MatchInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        let mut prompt = Vec::new();
        let mut sets = Vec::new();
        let mut ids = HashSet::new();
        for child in element_children(ctx.file, e)? {
            match child.name.as_str() {
                "qti-prompt" => prompt = self.flow(child, ctx, Mode::Body)?,
                "qti-simple-match-set" => {
                    let mut set = Vec::new();
                    for c in element_children(ctx.file, child)? {
                        match c.name.as_str() {
                            "qti-simple-associable-choice" => set.push(self.associable(c, ctx, &mut ids)?),
                            _ => return Err(unexpected(ctx.file, c, "qti-simple-match-set")),
                        }
                    }
                    sets.push(set);
                }
                _ => return Err(unexpected(ctx.file, child, "qti-match-interaction")),
            }
        }
        if sets.len() != 2 || sets.iter().any(Vec::is_empty) {
            return Err(invalid(ctx.file, e, "a match interaction needs exactly two non-empty qti-simple-match-sets"));
        }
        let shuffle = boolean(ctx.file, e, "shuffle", false)?;
        let target = unauthored_order(shuffle, &response_identifier, sets.pop().unwrap_or_default());
        let source = unauthored_order(shuffle, &response_identifier, sets.pop().unwrap_or_default());
        Ok(MatchInteraction {
            response_identifier,
            shuffle,
            max_associations: number(ctx.file, e, "max-associations")?.unwrap_or(1),
            min_associations: number(ctx.file, e, "min-associations")?.unwrap_or(0),
            class: classes(e),
            prompt,
            source,
            target,
        })
    }

    fn gap_match(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<GapMatchInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        let mut prompt = Vec::new();
        let mut gap_choices = Vec::new();
        let mut content = Vec::new();
        let mut ids = HashSet::new();
        for child in &e.children {
            let el = match child {
                XNode::Element(el) => el,
                XNode::Text(t) => {
                    content.push(Node::Text { text: if t.trim().is_empty() { " ".into() } else { t.clone() } });
                    continue;
                }
            };
            match el.name.as_str() {
                "qti-prompt" => prompt = self.flow(el, ctx, Mode::Body)?,
                "qti-gap-text" => gap_choices.push(self.associable(el, ctx, &mut ids)?),
                "qti-gap-img" => {
                    let choice = self.associable(el, ctx, &mut ids)?;
                    if !choice.content.iter().any(|n| matches!(n, Node::Image { .. })) {
                        return Err(unsupported(ctx.file, el, "a qti-gap-img must hold an <img>"));
                    }
                    gap_choices.push(choice);
                }
                _ => {
                    if let Some(node) = self.element(el, ctx, Mode::GapContent)? {
                        content.push(node);
                    }
                }
            }
        }
        if gap_choices.is_empty() {
            return Err(invalid(ctx.file, e, "gap match interaction without gap choices"));
        }
        let mut gaps = HashSet::new();
        collect_gaps(&content, &mut gaps);
        if gaps.is_empty() {
            return Err(invalid(ctx.file, e, "gap match interaction without qti-gap"));
        }
        for gap in &gaps {
            if ids.contains(gap) {
                return Err(invalid(ctx.file, e, format!("identifier {gap} is both a gap and a choice")));
            }
        }
        let shuffle = boolean(ctx.file, e, "shuffle", false)?;
        Ok(GapMatchInteraction {
            gap_choices: unauthored_order(shuffle, &response_identifier, gap_choices),
            response_identifier,
            shuffle,
            min_associations: number(ctx.file, e, "min-associations")?.unwrap_or(0),
            max_associations: number(ctx.file, e, "max-associations")?.unwrap_or(0),
            class: classes(e),
            prompt,
            content,
        })
    }
}

fn collect_gaps(nodes: &[Node], out: &mut HashSet<String>) {
    for n in nodes {
        match n {
            Node::Gap { identifier, .. } => {
                out.insert(identifier.clone());
            }
            Node::Element { children, .. } => collect_gaps(children, out),
            _ => {}
        }
    }
}

fn no_content(file: &str, e: &Element) -> Result<(), QtiError> {
    if e.children.iter().all(is_blank) {
        Ok(())
    } else {
        Err(invalid(file, e, format!("{} must be empty", e.tag())))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Body,
    GapContent,
    /// Inside a hottext interaction: `qti-hottext` allowed.
    Hottext,
}

fn response_declaration(file: &str, e: &Element) -> Result<ResponseDeclaration, QtiError> {
    let mut decl = ResponseDeclaration {
        identifier: required(file, e, "identifier")?.to_string(),
        cardinality: cardinality(file, e)?,
        base_type: e.attr("base-type").map(String::from),
        correct: Vec::new(),
        mapping: None,
        area_mapping: None,
        max_values: None,
    };
    for child in element_children(file, e)? {
        match child.name.as_str() {
            "qti-correct-response" => {
                for v in element_children(file, child)? {
                    if v.name != "qti-value" {
                        return Err(unexpected(file, v, "qti-correct-response"));
                    }
                    decl.correct.push(v.text().trim().to_string());
                }
            }
            "qti-default-value" => {}
            "qti-mapping" => {
                let mut mapping = Mapping {
                    default_value: float(file, child, "default-value")?.unwrap_or(0.0),
                    lower_bound: float(file, child, "lower-bound")?,
                    upper_bound: float(file, child, "upper-bound")?,
                    entries: Vec::new(),
                };
                for entry in element_children(file, child)? {
                    if entry.name != "qti-map-entry" {
                        return Err(unexpected(file, entry, "qti-mapping"));
                    }
                    mapping.entries.push(MapEntry {
                        key: required(file, entry, "map-key")?.to_string(),
                        value: float(file, entry, "mapped-value")?.ok_or_else(|| invalid(file, entry, "qti-map-entry needs mapped-value"))?,
                        case_sensitive: boolean(file, entry, "case-sensitive", true)?,
                    });
                }
                decl.mapping = Some(mapping);
            }
            "qti-area-mapping" => {
                decl.area_mapping = Some(super::qti_scoring::area_mapping(child).map_err(|reason| invalid(file, child, reason))?);
            }
            _ => return Err(unexpected(file, child, "qti-response-declaration")),
        }
    }
    Ok(decl)
}
