//! The interactions that are neither graphic nor the common text/choice
//! ones (issue 18): hottext, associate, slider, upload, drawing, end attempt
//! and media. A child module of [`super`] (declared there with `#[path]`) so
//! it uses the importer's helpers; the render model types are re-exported
//! from `qti`.
//!
//! What the kiosk does with each (docs/instrument-package.md):
//! - hottext, associate, slider, media: rendered and answered;
//! - upload, drawing: accepted, rendered as a Dutch explanation (the kiosk
//!   gives no file picker and has no drawing tool), reported at pack as a
//!   warning and scored by a person (`handmatig beoordelen`);
//! - end attempt: accepted, not rendered (a summative exam has no attempt to
//!   end), reported as a notice;
//! - portable custom interactions stay refused (item JavaScript).

use super::{
    boolean, classes, element_children, float, invalid, no_content, number, required, unexpected, unsupported, AssociableChoice, Importer,
    ItemCtx, Mode, Node, QtiError,
};
use crate::xml::{Element, XNode};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// `qti-hottext-interaction`: text with selectable spans ([`Node::Hottext`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HottextInteraction {
    /// Response variable (identifiers of the chosen hottexts).
    pub response_identifier: String,
    /// Most hottexts chosen (0 = no limit).
    pub max_choices: u32,
    /// Fewest hottexts chosen.
    pub min_choices: u32,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
    /// The text, with [`Node::Hottext`]s in it.
    pub content: Vec<Node>,
}

/// A selectable span of a hottext interaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hottext {
    /// Identifier (the response value).
    pub identifier: String,
    /// Content (inline).
    pub content: Vec<Node>,
}

/// `qti-associate-interaction`: unordered pairs `"A B"` of one set of choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssociateInteraction {
    /// Response variable (base type `pair`).
    pub response_identifier: String,
    /// Shuffle the non-fixed choices.
    pub shuffle: bool,
    /// Most pairs (0 = no limit).
    pub max_associations: u32,
    /// Fewest pairs.
    pub min_associations: u32,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
    /// The associable choices (`match_max`: in how many pairs each may be).
    pub choices: Vec<AssociableChoice>,
}

/// `qti-slider-interaction`: a number from `lower_bound` to `upper_bound`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliderInteraction {
    /// Response variable (base type `integer` or `float`).
    pub response_identifier: String,
    /// Lowest value.
    pub lower_bound: f64,
    /// Highest value.
    pub upper_bound: f64,
    /// Step between values; `None`: any value (1 for an integer response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
    /// Show a label at each step.
    pub step_label: bool,
    /// `horizontal` or `vertical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orientation: Option<String>,
    /// Highest value first.
    pub reverse: bool,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
}

/// `qti-upload-interaction`: accepted, answered outside the kiosk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadInteraction {
    /// Response variable (never given by the kiosk).
    pub response_identifier: String,
    /// Expected file type, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_type: Option<String>,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
}

/// `qti-drawing-interaction`: the picture is shown, drawing is not possible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrawingInteraction {
    /// Response variable (never given by the kiosk).
    pub response_identifier: String,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
    /// The picture to draw on, as an [`Node::Image`] (when it is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Box<Node>>,
}

/// `qti-end-attempt-interaction`: accepted, not rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndAttemptInteraction {
    /// Response variable (never given by the kiosk).
    pub response_identifier: String,
    /// The button's title, as written.
    pub title: String,
}

// A source of the media: the same as a media node's (qti_content.rs).
pub use super::MediaSource;

/// `qti-media-interaction`: audio or video whose plays are counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInteraction {
    /// Response variable: the number of times it was played (integer).
    pub response_identifier: String,
    /// `audio` or `video`.
    pub kind: String,
    /// Sources, the first playable one is used.
    pub sources: Vec<MediaSource>,
    /// Start by itself.
    pub autostart: bool,
    /// Plays the student must make.
    pub min_plays: u32,
    /// Most plays (0 = unlimited).
    pub max_plays: u32,
    /// Play in a loop.
    pub r#loop: bool,
    /// Width as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<String>,
    /// Height as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<String>,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
}

/// The media type of an audio or video file by extension (the one the
/// kiosk serves it with, `package::media_type`).
pub fn audio_video_type(path: &str) -> Option<&'static str> {
    let kind = crate::package::media_type(path);
    (kind.starts_with("audio/") || kind.starts_with("video/")).then_some(kind)
}

impl Importer<'_, '_> {
    /// Children of an interaction: the prompt, and the rest (element by element).
    fn prompt_and<'e>(&mut self, e: &'e Element, ctx: &mut ItemCtx<'_>) -> Result<(Vec<Node>, Vec<&'e Element>), QtiError> {
        let mut prompt = Vec::new();
        let mut rest = Vec::new();
        for child in element_children(ctx.file, e)? {
            if child.name == "qti-prompt" {
                prompt = self.flow(child, ctx, Mode::Body)?;
            } else {
                rest.push(child);
            }
        }
        Ok((prompt, rest))
    }

    pub(super) fn hottext_interaction(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<HottextInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        let mut prompt = Vec::new();
        let mut content = Vec::new();
        for child in &e.children {
            match child {
                XNode::Text(t) => content.push(Node::Text { text: if t.trim().is_empty() { " ".into() } else { t.clone() } }),
                XNode::Element(el) if el.name == "qti-prompt" => prompt = self.flow(el, ctx, Mode::Body)?,
                XNode::Element(el) => {
                    if let Some(node) = self.element(el, ctx, Mode::Hottext)? {
                        content.push(node);
                    }
                }
            }
        }
        let mut ids = Vec::new();
        hottext_ids(&content, &mut ids);
        if ids.is_empty() {
            return Err(invalid(ctx.file, e, "hottext interaction without qti-hottext"));
        }
        let mut seen = HashSet::new();
        if let Some(twice) = ids.iter().find(|id| !seen.insert(*id)) {
            return Err(invalid(ctx.file, e, format!("hottext identifier {twice} is used twice")));
        }
        Ok(HottextInteraction {
            response_identifier,
            max_choices: number(ctx.file, e, "max-choices")?.unwrap_or(1),
            min_choices: number(ctx.file, e, "min-choices")?.unwrap_or(0),
            class: classes(e),
            prompt,
            content,
        })
    }

    pub(super) fn hottext(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<Hottext, QtiError> {
        let identifier = required(ctx.file, e, "identifier")?.to_string();
        // Content of a hottext: inline, never another hottext.
        Ok(Hottext { identifier, content: self.flow(e, ctx, Mode::Body)? })
    }

    pub(super) fn associate_interaction(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<AssociateInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        let (prompt, rest) = self.prompt_and(e, ctx)?;
        let mut choices = Vec::new();
        let mut ids = HashSet::new();
        for child in rest {
            match child.name.as_str() {
                "qti-simple-associable-choice" => choices.push(self.associable(child, ctx, &mut ids)?),
                _ => return Err(unexpected(ctx.file, child, "qti-associate-interaction")),
            }
        }
        if choices.len() < 2 {
            return Err(invalid(ctx.file, e, "an associate interaction needs at least two qti-simple-associable-choices"));
        }
        let shuffle = boolean(ctx.file, e, "shuffle", false)?;
        Ok(AssociateInteraction {
            choices: super::unauthored_order(shuffle, &response_identifier, choices),
            response_identifier,
            shuffle,
            max_associations: number(ctx.file, e, "max-associations")?.unwrap_or(1),
            min_associations: number(ctx.file, e, "min-associations")?.unwrap_or(0),
            class: classes(e),
            prompt,
        })
    }

    pub(super) fn slider_interaction(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<SliderInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        let (prompt, rest) = self.prompt_and(e, ctx)?;
        if let Some(child) = rest.first() {
            return Err(unexpected(ctx.file, child, "qti-slider-interaction"));
        }
        let bound = |name: &str| float(ctx.file, e, name)?.ok_or_else(|| invalid(ctx.file, e, format!("{} needs attribute {name}", e.tag())));
        let (lower_bound, upper_bound) = (bound("lower-bound")?, bound("upper-bound")?);
        if lower_bound >= upper_bound {
            return Err(invalid(ctx.file, e, format!("lower-bound {lower_bound} is not below upper-bound {upper_bound}")));
        }
        let step = float(ctx.file, e, "step")?;
        if let Some(s) = step {
            if s <= 0.0 || s > upper_bound - lower_bound {
                return Err(invalid(ctx.file, e, format!("step {s} does not fit between {lower_bound} and {upper_bound}")));
            }
        }
        Ok(SliderInteraction {
            response_identifier,
            lower_bound,
            upper_bound,
            step,
            step_label: boolean(ctx.file, e, "step-label", false)?,
            orientation: e.attr("orientation").map(String::from),
            reverse: boolean(ctx.file, e, "reverse", false)?,
            class: classes(e),
            prompt,
        })
    }

    pub(super) fn upload_interaction(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<UploadInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        let (prompt, rest) = self.prompt_and(e, ctx)?;
        if let Some(child) = rest.first() {
            return Err(unexpected(ctx.file, child, "qti-upload-interaction"));
        }
        ctx.person_scored.push((
            e.line,
            e.column,
            "asks for a file upload, which the kiosk does not offer (no file picker onto the PC's disk): the student is told to report it to the invigilator, and a person scores the item".into(),
        ));
        Ok(UploadInteraction { response_identifier, file_type: e.attr("type").map(String::from), class: classes(e), prompt })
    }

    pub(super) fn drawing_interaction(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<DrawingInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        let (prompt, rest) = self.prompt_and(e, ctx)?;
        let mut image = None;
        for child in rest {
            match child.name.as_str() {
                "object" if image.is_none() => {
                    let data = required(ctx.file, child, "data")?;
                    let path = self.resolve_existing(ctx.file, child, data)?;
                    let alt = super::content::shown_text(child).trim().to_string();
                    image = Some(Box::new(Node::Image {
                        src: path,
                        alt,
                        width: child.attr("width").map(String::from),
                        height: child.attr("height").map(String::from),
                        class: Vec::new(),
                    }));
                }
                "img" if image.is_none() => image = self.element(child, ctx, Mode::Body)?.map(Box::new),
                _ => return Err(unexpected(ctx.file, child, "qti-drawing-interaction")),
            }
        }
        ctx.person_scored.push((
            e.line,
            e.column,
            "asks for a drawing, which the kiosk cannot take yet: the student is told to report it to the invigilator, and a person scores the item".into(),
        ));
        Ok(DrawingInteraction { response_identifier, class: classes(e), prompt, image })
    }

    pub(super) fn end_attempt_interaction(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<EndAttemptInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        no_content(ctx.file, e)?;
        self.notice(ctx.file, e, "a summative exam has no attempt to end: the end-attempt button is not shown");
        Ok(EndAttemptInteraction { response_identifier, title: e.attr("title").unwrap_or("").to_string() })
    }

    pub(super) fn media_interaction(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<MediaInteraction, QtiError> {
        let response_identifier = self.use_response(e, ctx)?;
        let (prompt, rest) = self.prompt_and(e, ctx)?;
        let mut kind = None;
        let mut sources = Vec::new();
        let (mut width, mut height) = (None, None);
        for child in rest {
            let mut add = |this: &mut Self, el: &Element, reference: &str| -> Result<(), QtiError> {
                let path = this.resolve_existing(ctx.file, el, reference)?;
                let mime = audio_video_type(&path)
                    .ok_or_else(|| unsupported(ctx.file, el, "media type (mp3, m4a, ogg, oga, wav, mp4, m4v, webm or ogv only)"))?;
                if let Some(written) = el.attr("type").filter(|t| !t.trim().is_empty()) {
                    if written.split('/').next() != mime.split('/').next() {
                        return Err(invalid(ctx.file, el, format!("type {written:?} does not match the file {path}")));
                    }
                }
                sources.push(MediaSource { src: path, mime: mime.into() });
                Ok(())
            };
            match child.name.as_str() {
                "object" => {
                    let data = required(ctx.file, child, "data")?;
                    add(self, child, data)?;
                }
                "audio" | "video" => {
                    if let Some(src) = child.attr("src") {
                        add(self, child, src)?;
                    }
                    for s in element_children(ctx.file, child)? {
                        match s.name.as_str() {
                            "source" => add(self, s, required(ctx.file, s, "src")?)?,
                            "track" => {}
                            _ => return Err(unexpected(ctx.file, s, &child.name)),
                        }
                    }
                }
                _ => return Err(unexpected(ctx.file, child, "qti-media-interaction")),
            }
            if kind.is_none() {
                kind = sources.first().map(|s| if s.mime.starts_with("video/") { "video" } else { "audio" });
                width = child.attr("width").map(String::from);
                height = child.attr("height").map(String::from);
            }
        }
        let kind = kind.ok_or_else(|| invalid(ctx.file, e, "media interaction without an audio or video file"))?;
        let min_plays = number(ctx.file, e, "min-plays")?.unwrap_or(0);
        let max_plays = number(ctx.file, e, "max-plays")?.unwrap_or(0);
        if max_plays > 0 && min_plays > max_plays {
            return Err(invalid(ctx.file, e, format!("min-plays {min_plays} is above max-plays {max_plays}")));
        }
        Ok(MediaInteraction {
            response_identifier,
            kind: kind.into(),
            sources,
            autostart: boolean(ctx.file, e, "autostart", false)?,
            min_plays,
            max_plays,
            r#loop: boolean(ctx.file, e, "loop", false)?,
            width,
            height,
            class: classes(e),
            prompt,
        })
    }
}

/// The hottext identifiers in nodes, in order.
pub(crate) fn hottext_ids(nodes: &[Node], out: &mut Vec<String>) {
    for n in nodes {
        match n {
            Node::Hottext(h) => out.push(h.identifier.clone()),
            Node::Element { children, .. } => hottext_ids(children, out),
            _ => {}
        }
    }
}

/// Why a portable custom interaction is refused (and stays refused).
pub(super) const PCI_REASON: &str = "a (portable) custom interaction runs the item's own JavaScript, which the kiosk never runs: its web view allows no item scripts (CSP), and item code must not see the exam, other items or the student's answers (security) — make the item with a standard QTI interaction";
