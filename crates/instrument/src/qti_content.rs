//! Content inside item bodies beyond the XHTML subset (issue 18): MathML,
//! `<object>`, audio and video, `<picture>`, companion materials, shared
//! stimuli, templates and printed variables, `xi:include`.
//!
//! A child module of [`super`] (declared in `qti.rs` with `#[path]`), so it
//! extends the importer without widening its API. The rules are the
//! importer's: every construct is understood, left out by design with a
//! notice, or refused naming it; nothing that reveals the key (a template
//! value the scoring depends on) enters the render model.

use super::xml::{self, Element, XNode};
use super::{
    classes, element_children, invalid, is_blank, required, unsupported, ItemCtx, Mode, Node, QtiError, Importer,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

// ---------------------------------------------------------------------------
// MathML

/// MathML presentation elements copied into the render model. Content
/// MathML (`apply`, `ci`, …), `maction` (interactive), `mglyph` (loads an
/// image) and every other element are refused, naming the element.
pub const MATHML_ELEMENTS: &[&str] = &[
    "math", "mi", "mn", "mo", "ms", "mtext", "mspace", "mrow", "mfrac", "msqrt", "mroot", "mstyle", "merror", "mpadded",
    "mphantom", "mfenced", "menclose", "msub", "msup", "msubsup", "munder", "mover", "munderover", "mmultiscripts",
    "mprescripts", "none", "mtable", "mtr", "mlabeledtr", "mtd", "maligngroup", "malignmark", "semantics",
];

/// Token elements: their text is content; elsewhere blank text is layout.
const MATHML_TOKENS: &[&str] = &["mi", "mn", "mo", "ms", "mtext"];

/// Attributes kept on MathML elements (no `href`, no event handlers, no
/// `style`, no `src`; others are dropped with a notice).
pub const MATHML_ATTRIBUTES: &[&str] = &[
    "display", "alttext", "aria-label", "dir", "lang", "mathvariant", "mathsize", "mathcolor", "mathbackground",
    "displaystyle", "scriptlevel", "form", "fence", "separator", "lspace", "rspace", "stretchy", "symmetric", "maxsize",
    "minsize", "largeop", "movablelimits", "accent", "accentunder", "linethickness", "numalign", "denomalign",
    "bevelled", "notation", "open", "close", "separators", "width", "height", "depth", "voffset", "columnalign",
    "rowalign", "columnspan", "rowspan", "columnlines", "rowlines", "frame", "framespacing", "equalrows",
    "equalcolumns", "columnspacing", "rowspacing", "align", "side", "subscriptshift", "superscriptshift", "lquote",
    "rquote", "linebreak", "class", "intent", "arg",
];

/// A node inside a [`Node::Math`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum MathNode {
    /// Text of a token element.
    Text {
        /// The text.
        text: String,
    },
    /// A MathML presentation element ([`MATHML_ELEMENTS`]).
    Mathml(MathElement),
}

/// A MathML element: tag, allowed attributes, children.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MathElement {
    /// Local name, e.g. `mfrac`.
    pub tag: String,
    /// Allowed attributes ([`MATHML_ATTRIBUTES`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
    /// Children.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<MathNode>,
}

// ---------------------------------------------------------------------------
// Audio and video

/// Audio or video from the package (`<audio>`, `<video>`, or an `<object>`
/// whose file is audio or video). Always with controls, never autoplay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    /// `audio` or `video`.
    pub kind: String,
    /// Package paths with their media type, in order of preference.
    pub sources: Vec<MediaSource>,
    /// Caption and subtitle tracks (WebVTT from the package).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracks: Vec<MediaTrack>,
    /// A video's poster image (package path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poster: Option<String>,
    /// Accessible name (`aria-label`, `title`, or the fallback text).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Width as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<String>,
    /// Height as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<String>,
    /// Classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class: Vec<String>,
}

/// One source of a [`Media`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaSource {
    /// Package path.
    pub src: String,
    /// Media type from the file's content, e.g. `audio/mpeg`.
    pub mime: String,
}

/// A `<track>` of a [`Media`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaTrack {
    /// Package path of the WebVTT file.
    pub src: String,
    /// `captions`, `subtitles` or `descriptions`.
    pub kind: String,
    /// Language of the track.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srclang: Option<String>,
    /// Label shown in the player's menu.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Whether it is on by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
}

/// What a file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// An image the kiosk shows (`image/…`).
    Image(&'static str),
    /// Audio (`audio/…`).
    Audio(&'static str),
    /// Video (`video/…`).
    Video(&'static str),
    /// Something else: named for the message.
    Other(&'static str),
}

/// The file type from its content (magic numbers), never from its name.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let starts = |m: &[u8]| bytes.starts_with(m);
    let at = |offset: usize, m: &[u8]| bytes.get(offset..offset + m.len()) == Some(m);
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Image("image/png");
    }
    if starts(b"\xFF\xD8\xFF") {
        return Sniffed::Image("image/jpeg");
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Sniffed::Image("image/gif");
    }
    if starts(b"RIFF") && at(8, b"WEBP") {
        return Sniffed::Image("image/webp");
    }
    if starts(b"RIFF") && at(8, b"WAVE") {
        return Sniffed::Audio("audio/wav");
    }
    if starts(b"OggS") {
        // Theora/VP8 in Ogg is rare in items; an .ogv is still played as video by its element.
        return Sniffed::Audio("audio/ogg");
    }
    if starts(b"ID3") || (bytes.len() > 1 && bytes[0] == 0xFF && (bytes[1] & 0xE0) == 0xE0) {
        return Sniffed::Audio("audio/mpeg");
    }
    if starts(b"fLaC") {
        return Sniffed::Audio("audio/flac");
    }
    if at(4, b"ftyp") {
        // M4A is audio in an MP4 container.
        if at(8, b"M4A ") {
            return Sniffed::Audio("audio/mp4");
        }
        return Sniffed::Video("video/mp4");
    }
    if starts(b"\x1A\x45\xDF\xA3") {
        return Sniffed::Video("video/webm");
    }
    if starts(b"%PDF") {
        return Sniffed::Other("PDF");
    }
    if starts(b"FWS") || starts(b"CWS") || starts(b"ZWS") {
        return Sniffed::Other("Flash (SWF)");
    }
    if svg_root(bytes) {
        return Sniffed::Image("image/svg+xml");
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<body") {
        return Sniffed::Other("HTML");
    }
    if head.starts_with("webvtt") {
        return Sniffed::Other("WebVTT");
    }
    Sniffed::Other("an unknown file type")
}

/// Whether the document element of an XML file is `<svg>` (or `<x:svg>`),
/// after an XML declaration, comments, processing instructions and a
/// doctype, within its first 4 KiB. Before, "`<?xml` and `<svg` somewhere in
/// the first KiB" was an SVG image, so an item's XML with `<svg>` in a
/// comment, named `.svg`, was served to the page with its keys.
pub fn svg_root(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).into_owned();
    let mut rest = head.trim_start_matches('\u{feff}').trim_start();
    loop {
        let skip_to = |rest: &str, end: &str| rest.find(end).map(|i| i + end.len());
        let next = if rest.starts_with("<?") {
            skip_to(rest, "?>")
        } else if rest.starts_with("<!--") {
            skip_to(rest, "-->")
        } else if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case("<!doctype") {
            // An internal subset ends with "]>".
            match (rest.find('['), rest.find('>')) {
                (Some(open), Some(close)) if open < close => skip_to(rest, "]>"),
                _ => skip_to(rest, ">"),
            }
        } else {
            let Some(tag) = rest.strip_prefix('<') else { return false };
            let name: String = tag.chars().take_while(|c| !c.is_whitespace() && !matches!(c, '>' | '/')).collect();
            let local = name.rsplit(':').next().unwrap_or_default();
            return local.eq_ignore_ascii_case("svg");
        };
        let Some(at) = next else { return false };
        rest = rest[at..].trim_start();
    }
}

/// Extensions the kiosk serves audio and video by (`package::media_type`).
const AUDIO_VIDEO_EXTENSIONS: &[&str] = &["mp3", "m4a", "ogg", "oga", "ogv", "wav", "mp4", "m4v", "webm", "flac"];
const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg", "gif", "svg", "webp"];

fn extension(path: &str) -> String {
    path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Companion materials

/// Most pages of a PDF the kiosk draws (ui/js/tools-reference.js, `MAX_PDF_PAGES`).
pub const MAX_PDF_PAGES: usize = 20;

/// What pack should say about a PDF reference material the kiosk shows
/// with pdf.js: not a PDF at all (never served), more pages than the kiosk
/// draws, or images in formats the kiosk's pdf.js may leave blank (JPEG 2000
/// and JBIG2, typical of scans: their decoders are not shipped).
fn pdf_warnings(path: &str, bytes: &[u8]) -> Vec<String> {
    if !bytes.starts_with(b"%PDF") {
        return vec![format!("reference material {path} is named .pdf but is no PDF: the kiosk will not show it")];
    }
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    let mut out = Vec::new();
    // The page tree's /Count is the number of pages (the largest is the root's).
    let pages = bytes
        .windows(6)
        .enumerate()
        .filter(|(_, w)| *w == b"/Count")
        .filter_map(|(i, _)| {
            let rest = &bytes[i + 6..bytes.len().min(i + 20)];
            let digits: String = rest.iter().skip_while(|b| b.is_ascii_whitespace()).take_while(|b| b.is_ascii_digit()).map(|b| char::from(*b)).collect();
            digits.parse::<usize>().ok()
        })
        .max();
    if let Some(n) = pages.filter(|n| *n > MAX_PDF_PAGES) {
        out.push(format!("reference material {path} has {n} pages; the kiosk shows the first {MAX_PDF_PAGES} (and says so): split it or give it on paper"));
    }
    if has(b"/JPXDecode") || has(b"/JBIG2Decode") {
        out.push(format!("reference material {path} has JPEG 2000 or JBIG2 images (a scan?): the kiosk may show them blank; save it with JPEG or PNG images"));
    }
    out
}

/// `qti-companion-materials-info`: what the student may use with this item.
/// The kiosk shows it (in Dutch) and the tools themselves are the kiosk's
/// own (issue 19); nothing here is refused for being a tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompanionMaterials {
    /// Calculators: `basic`, `standard`, `scientific`, `graphing` (as written otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calculators: Vec<Tool>,
    /// Rules (rulers): the description holds the system and unit (`cm`, `in`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Tool>,
    /// Protractors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protractors: Vec<Tool>,
    /// Files from the package the student may open (reading passages,
    /// digital materials such as a periodic table).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<Material>,
    /// Physical materials, as described (e.g. "een atlas").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub physical: Vec<String>,
}

impl CompanionMaterials {
    /// Whether nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.calculators.is_empty() && self.rules.is_empty() && self.protractors.is_empty() && self.materials.is_empty() && self.physical.is_empty()
    }

    /// In Dutch for pack's report, e.g. `rekenmachine (basis), liniaal (cm)`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for c in &self.calculators {
            parts.push(match calculator_nl(&c.kind) {
                Some(kind) => format!("rekenmachine ({kind})"),
                None => format!("rekenmachine ({})", c.kind),
            });
        }
        for r in &self.rules {
            parts.push(if r.kind.is_empty() { "liniaal".to_string() } else { format!("liniaal ({})", r.kind) });
        }
        for _ in &self.protractors {
            parts.push("geodriehoek".to_string());
        }
        for m in &self.materials {
            let label = if m.label.is_empty() { &m.src } else { &m.label };
            match crate::package::media_type(&m.src) {
                kind if kind.starts_with("image/") => parts.push(format!("naslag {label}")),
                "application/pdf" => parts.push(format!("naslag {label} (pdf)")),
                // The kiosk shows reference material as an image or a PDF (docs/ui.md, Naslag).
                _ => parts.push(format!("naslag {label} (geen afbeelding of pdf: de kiosk kan dit niet tonen; geef het op papier)")),
            }
        }
        for p in &self.physical {
            parts.push(p.clone());
        }
        parts.join(", ")
    }
}

fn calculator_nl(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "basic" | "simple" => "basis",
        "standard" => "standaard",
        "scientific" => "wetenschappelijk",
        "graphing" => "grafisch",
        _ => return None,
    })
}

/// A tool of [`CompanionMaterials`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Calculator type, or a rule's unit (`cm`, `mm`, `in`), or empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The item's description of it, if any.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A file from the package the student may open with the item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Material {
    /// Label (`label` attribute, or the file name).
    pub label: String,
    /// Package path.
    pub src: String,
    /// Declared media type, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

// ---------------------------------------------------------------------------
// Stimuli

/// A shared stimulus (`qti-assessment-stimulus-ref`), resolved in the
/// package and shown with the item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stimulus {
    /// The reference's identifier.
    pub identifier: String,
    /// Package path of the stimulus file.
    pub href: String,
    /// Title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Language of the stimulus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// Stylesheets (package paths; not applied, like the item's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stylesheets: Vec<String>,
    /// The stimulus body.
    pub body: Vec<Node>,
}

// ---------------------------------------------------------------------------
// Templates

/// Template variables of one item, evaluated at pack time.
#[derive(Debug, Clone, Default)]
pub(super) struct Templates {
    /// Values by identifier (single or multiple values as strings).
    values: HashMap<String, Vec<String>>,
    /// Declared template variables.
    declared: HashSet<String>,
    /// Template variables the scoring depends on (set a correct response or
    /// read by response processing): their values never enter the render model.
    keys: HashSet<String>,
    /// Correct responses of the response declarations (`qti-correct` reads them).
    correct: HashMap<String, Vec<String>>,
    /// Whether template processing drew random values (pack's report says
    /// the item is a variant fixed at pack time).
    random: bool,
    /// Declared with `math-variable="true"`: an `<mi>` of that name in
    /// MathML shows the variable's value.
    math: HashSet<String>,
    /// The declarations as the scoring data's outcome declarations (see
    /// `scoring_constants`); unreadable ones are left out.
    scoring: Vec<exam_protocol::scoring::OutcomeDeclaration>,
}

impl Templates {
    /// Whether template processing drew random values.
    pub(super) fn random(&self) -> bool {
        self.random
    }

    /// The template variables with the values fixed at pack time, for the
    /// scoring data: response processing may read them (`qti-variable`), and
    /// the hub's evaluator reads them as outcomes whose default is that value
    /// — nothing in response processing can set a template variable, so the
    /// default is what it reads. Never part of the render model.
    pub(super) fn scoring_constants(&self) -> Vec<exam_protocol::scoring::OutcomeDeclaration> {
        let mut out = self.scoring.clone();
        for d in &mut out {
            d.default = self.values.get(&d.identifier).cloned().unwrap_or_default();
        }
        out
    }
}

/// An attribute may name a template variable instead of a value
/// (`pattern="{ANTWOORD}"`, a tolerance, figures): any attribute value of
/// the scoring's elements that is a variable's name counts as a key. Not
/// `identifier`: a `qti-variable`'s reference is judged by what the
/// expression does with it (`passed_through`).
fn named_in_attributes(all: &[&Element], keys: &mut HashSet<String>) {
    for (_, value) in all.iter().flat_map(|e| e.attrs.iter()).filter(|(name, _)| name != "identifier") {
        keys.insert(value.trim().trim_start_matches('{').trim_end_matches('}').to_string());
    }
}

/// Response-processing operators that compare their operands: a template
/// variable passed to one unchanged is what the response must be (or lie
/// near, or contain), so its value is the key.
const COMPARISONS: &[&str] = &[
    "qti-match",
    "qti-equal",
    "qti-equal-rounded",
    "qti-string-match",
    "qti-member",
    "qti-contains",
    "qti-substring",
    "qti-lt",
    "qti-gt",
    "qti-lte",
    "qti-gte",
    "qti-inside",
    "qti-stats-operator",
];

/// The template variables whose values an expression passes on unchanged
/// (the expression itself, a container or random choice of them, an index
/// into them): set as a correct response, their values ARE the key. A
/// variable the key is computed from (`120 / B`) is a parameter of the
/// question and may be shown.
///
/// `qti-default` passes its variable's (default) value on; `qti-correct`
/// passes a correct response on, which is the key itself ([`CORRECT`]).
/// Operators that keep the value, or nearly (a conversion, rounding,
/// floor, ceiling, absolute value, a record's field, a repeat, one operand
/// of a sum, product, maximum, minimum, gcd or lcm), pass it on too:
/// printing `A` when the key is `round(A)` or `floor(A)` shows the key.
fn passed_through<'e>(e: &'e Element, out: &mut Vec<&'e str>) {
    match e.name.as_str() {
        "qti-variable" | "qti-default" => out.extend(e.attr("identifier")),
        "qti-correct" => out.push(CORRECT),
        "qti-multiple" | "qti-ordered" | "qti-random" | "qti-index" | "qti-integer-to-float" | "qti-round" | "qti-round-to"
        | "qti-truncate" | "qti-field-value" | "qti-repeat" => {
            for c in e.elements() {
                passed_through(c, out);
            }
        }
        // floor, ceil and abs keep the value as nearly as rounding does.
        "qti-math-operator" if matches!(e.attr("name"), Some("floor" | "ceil" | "abs")) => {
            for c in e.elements() {
                passed_through(c, out);
            }
        }
        "qti-sum" | "qti-product" | "qti-max" | "qti-min" | "qti-gcd" | "qti-lcm" if e.elements().count() == 1 => {
            for c in e.elements() {
                passed_through(c, out);
            }
        }
        _ => {}
    }
}

/// Stands for "a correct response" among the variables a value is copied
/// from (`qti-correct`): always a key, so whatever copies it is one.
const CORRECT: &str = "\u{0}qti-correct";


fn descendants<'e>(e: &'e Element, out: &mut Vec<&'e Element>) {
    for c in e.elements() {
        out.push(c);
        descendants(c, out);
    }
}

/// A QTI `format` (printf subset: `%d`, `%i`, `%s`, `%f`, `%.Nf`, `%e`, `%%`).
fn format_value(format: Option<&str>, value: &str) -> String {
    let Some(format) = format else { return value.to_string() };
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&n) = chars.peek() {
            chars.next();
            if n.is_ascii_alphabetic() || n == '%' {
                spec.push(n);
                break;
            }
            spec.push(n);
        }
        let conv = spec.chars().last().unwrap_or('s');
        // At most 20 decimals: a format from the package must not make the importer allocate gigabytes.
        let precision = spec.split_once('.').and_then(|(_, p)| p.trim_end_matches(char::is_alphabetic).parse::<usize>().ok()).map(|p| p.min(20));
        let number = value.trim().parse::<f64>().ok();
        match (conv, number) {
            ('%', _) => out.push('%'),
            ('d' | 'i', Some(x)) => out.push_str(&format!("{}", x.round() as i64)),
            ('f', Some(x)) => out.push_str(&format!("{:.*}", precision.unwrap_or(6), x)),
            ('e' | 'E', Some(x)) => out.push_str(&format!("{:.*e}", precision.unwrap_or(6), x)),
            ('g' | 'G', Some(x)) => out.push_str(&format!("{x}")),
            _ => out.push_str(value),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The importer's part.

impl<'r, 'a> Importer<'r, 'a> {
    /// The item's parts before its body that this module handles: template
    /// declarations and processing (evaluated now), stimulus references,
    /// companion materials. Returns the stimuli and companion materials.
    pub(super) fn item_prelude(&mut self, root: &Element, ctx: &mut ItemCtx<'_>) -> Result<(Vec<Stimulus>, Option<CompanionMaterials>), QtiError> {
        let mut stimuli = Vec::new();
        let mut companion = None;
        // Keys first: which template variables the scoring reads.
        let mut set_from: Vec<(String, Vec<String>)> = Vec::new();
        for child in root.elements() {
            let mut all = Vec::new();
            descendants(child, &mut all);
            match child.name.as_str() {
                "qti-template-processing" => {
                    let mut direct = Vec::new();
                    for e in all.iter().filter(|e| matches!(e.name.as_str(), "qti-set-correct-response" | "qti-set-default-value")) {
                        e.elements().for_each(|x| passed_through(x, &mut direct));
                    }
                    ctx.templates.keys.extend(direct.into_iter().map(String::from));
                    for e in all.iter().filter(|e| e.name == "qti-set-template-value") {
                        let mut from = Vec::new();
                        e.elements().for_each(|x| passed_through(x, &mut from));
                        set_from.extend(e.attr("identifier").map(|id| (id.to_string(), from.into_iter().map(String::from).collect::<Vec<_>>())));
                    }
                }
                "qti-response-declaration" => {
                    if let Some(id) = child.attr("identifier") {
                        let values = all.iter().filter(|e| e.name == "qti-correct-response").flat_map(|c| c.elements().filter(|v| v.name == "qti-value")).map(|v| v.text().trim().to_string()).collect();
                        ctx.templates.correct.insert(id.to_string(), values);
                    }
                    for v in all.iter().filter(|e| e.name == "qti-variable") {
                        if let Some(id) = v.attr("identifier") {
                            ctx.templates.keys.insert(id.to_string());
                        }
                    }
                    named_in_attributes(&all, &mut ctx.templates.keys);
                }
                "qti-response-processing" => {
                    // What a response is compared with unchanged is the key;
                    // a variable the compared value is computed from
                    // (`2 × A`) is a parameter of the question.
                    let mut compared = Vec::new();
                    for e in all.iter().filter(|e| COMPARISONS.contains(&e.name.as_str())) {
                        e.elements().for_each(|x| passed_through(x, &mut compared));
                    }
                    ctx.templates.keys.extend(compared.into_iter().map(String::from));
                    // An outcome set from a template variable (`T := A`,
                    // then RESPONSE compared with T) carries it on.
                    for e in all.iter().filter(|e| matches!(e.name.as_str(), "qti-set-outcome-value" | "qti-lookup-outcome-value")) {
                        let mut from = Vec::new();
                        e.elements().for_each(|x| passed_through(x, &mut from));
                        set_from.extend(e.attr("identifier").map(|id| (id.to_string(), from.into_iter().map(String::from).collect::<Vec<_>>())));
                    }
                    named_in_attributes(&all, &mut ctx.templates.keys);
                }
                _ => {}
            }
        }
        ctx.templates.keys.insert(CORRECT.to_string());
        ctx.templates.keys = key_closure(&set_from, std::mem::take(&mut ctx.templates.keys));
        for child in root.elements() {
            // Collected like the item's other problems: the body's are reported too.
            match self.prelude_part(child, ctx, &mut stimuli, &mut companion) {
                Err(problem) if !problem.is_hard_stop() => ctx.problems.push(problem),
                other => other?,
            }
        }
        Ok((stimuli, companion.filter(|c: &CompanionMaterials| !c.is_empty())))
    }

    fn prelude_part(&mut self, child: &Element, ctx: &mut ItemCtx<'_>, stimuli: &mut Vec<Stimulus>, companion: &mut Option<CompanionMaterials>) -> Result<(), QtiError> {
        let file = ctx.file;
        {
            match child.name.as_str() {
                "qti-template-declaration" => {
                    let id = required(file, child, "identifier")?.to_string();
                    let mut values = Vec::new();
                    for d in child.elements().filter(|d| d.name == "qti-default-value") {
                        for v in d.elements().filter(|v| v.name == "qti-value") {
                            values.push(v.text().trim().to_string());
                        }
                    }
                    ctx.templates.declared.insert(id.clone());
                    ctx.templates.scoring.extend(crate::qti_scoring::outcome_declaration(child).ok());
                    if child.attr("math-variable") == Some("true") {
                        ctx.templates.math.insert(id.clone());
                    }
                    if !values.is_empty() {
                        ctx.templates.values.insert(id, values);
                    }
                }
                "qti-template-processing" => self.template_processing(child, ctx)?,
                "qti-assessment-stimulus-ref" => stimuli.push(self.stimulus(child, ctx)?),
                "qti-companion-materials-info" => *companion = Some(self.companion(child, ctx)?),
                _ => {}
            }
        }
        Ok(())
    }

    /// Template processing, evaluated now (`qti_template.rs`): random
    /// operators draw from a generator seeded with the item file's SHA-256,
    /// so the package holds one fixed variant, the same for every student
    /// and on every re-pack.
    fn template_processing(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<(), QtiError> {
        let file = ctx.file;
        let bytes = (self.read)(file).unwrap_or_default();
        let inputs = super::template::Inputs {
            defaults: &ctx.templates.values,
            declared: &ctx.templates.declared,
            correct: &ctx.templates.correct,
        };
        let outcome = super::template::run(file, e, &inputs, super::template::seed(bytes))?;
        ctx.templates.values = outcome.values;
        ctx.templates.random |= outcome.random;
        // Scoring data: the declaration's correct response is set after the body (see `item`).
        ctx.template_correct.extend(outcome.correct);
        Ok(())
    }

    /// A `qti-stylesheet` of an item or stimulus in `file`: its package path.
    /// The kiosk records stylesheets but never applies them (its own styles
    /// and the student's accommodations apply), so one missing from the
    /// package is a warning naming the item and the file, not a refusal
    /// (`None`); a reference that leaves the package is still refused.
    pub(super) fn stylesheet(&mut self, file: &str, e: &Element, item: Option<&str>) -> Result<Option<String>, QtiError> {
        let href = required(file, e, "href")?;
        match self.resolve_existing(file, e, href) {
            Ok(path) => Ok(Some(path)),
            Err(QtiError::MissingFile { path, .. }) => {
                self.warnings.push(super::Warning {
                    item: item.map(String::from),
                    file: file.into(),
                    line: e.line,
                    column: e.column,
                    message: format!("stylesheet {path} is not in the package; the kiosk does not apply item stylesheets, so nothing changes for the student"),
                });
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    fn stimulus(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<Stimulus, QtiError> {
        let file = ctx.file;
        let identifier = required(file, e, "identifier")?.to_string();
        let href = required(file, e, "href")?;
        let path = self.resolve_existing(file, e, href)?;
        let bytes = (self.read)(&path).unwrap_or_default();
        self.xml_bytes += bytes.len() as u64;
        if self.xml_bytes > super::MAX_TOTAL_XML_BYTES {
            return Err(QtiError::TooLarge { file: file.into(), what: "XML of all items together", limit: super::MAX_TOTAL_XML_BYTES });
        }
        let root = xml::parse(bytes, &path)?;
        if root.name != "qti-assessment-stimulus" {
            return Err(invalid(&path, &root, format!("root is {}, expected <qti-assessment-stimulus>", root.tag())));
        }
        let mut sctx = ItemCtx::new(&path);
        let mut stimulus = Stimulus {
            identifier,
            href: path.clone(),
            title: e.attr("title").or(root.attr("title")).unwrap_or("").to_string(),
            lang: super::lang(&root),
            stylesheets: Vec::new(),
            body: Vec::new(),
        };
        let mut body = None;
        for child in element_children(&path, &root)? {
            match child.name.as_str() {
                "qti-stylesheet" => stimulus.stylesheets.extend(self.stylesheet(&path, child, ctx.item_id.as_deref())?),
                "qti-stimulus-body" if body.is_none() => body = Some(child),
                "qti-stimulus-body" => return Err(invalid(&path, child, "more than one qti-stimulus-body")),
                "qti-catalog-info" => self.notice(&path, child, "accessibility catalogs are not used; the kiosk applies the student's accommodations itself"),
                _ => return Err(super::unexpected(&path, child, "qti-assessment-stimulus")),
            }
        }
        let body = body.ok_or_else(|| invalid(&path, &root, "stimulus without qti-stimulus-body"))?;
        stimulus.body = self.flow(body, &mut sctx, Mode::Body)?;
        if let Some(id) = sctx.used.iter().next() {
            return Err(invalid(&path, body, format!("a stimulus holds no interactions (it uses response {id})")));
        }
        ctx.problems.append(&mut sctx.problems);
        self.report_dropped(&mut sctx);
        // Named by the stimulus file and the item.
        self.report_missing_alt(&mut sctx, ctx.item_id.as_deref());
        Ok(stimulus)
    }

    fn companion(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<CompanionMaterials, QtiError> {
        let file = ctx.file;
        let mut out = CompanionMaterials::default();
        let text_of = |e: &Element, name: &str| {
            e.elements().find(|c| c.name == name).map(|c| c.text().split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default()
        };
        for child in element_children(file, e)? {
            if child.prefix.is_some() || !child.name.starts_with("qti-") {
                // Vendor extensions (e.g. Cito's dep:dep-calculator, a symbol picker).
                self.notice(file, child, "a vendor extension of companion materials: the kiosk shows only the QTI 3 materials");
                continue;
            }
            match child.name.as_str() {
                "qti-calculator" => out.calculators.push(Tool {
                    kind: text_of(child, "qti-calculator-type").to_ascii_lowercase(),
                    description: text_of(child, "qti-description"),
                }),
                "qti-rule" => {
                    let system = child.elements().find(|c| c.name.starts_with("qti-rule-system"));
                    let unit = system
                        .and_then(|s| s.elements().find_map(|c| c.attr("unit").map(String::from)))
                        .unwrap_or_else(|| match system.map(|s| s.name.as_str()) {
                            Some("qti-rule-system-us") => "in".into(),
                            Some(_) => "cm".into(),
                            None => String::new(),
                        });
                    out.rules.push(Tool { kind: unit, description: text_of(child, "qti-description") });
                }
                "qti-protractor" => out.protractors.push(Tool { kind: String::new(), description: text_of(child, "qti-description") }),
                "qti-reading-passage" | "qti-digital-material" => {
                    let href_el = child.elements().find(|c| c.name == "qti-file-href").ok_or_else(|| invalid(file, child, format!("{} needs qti-file-href", child.tag())))?;
                    let src = self.resolve_existing(file, href_el, href_el.text().trim())?;
                    let label = child.attr("label").map(String::from).unwrap_or_else(|| src.rsplit('/').next().unwrap_or(&src).to_string());
                    if crate::package::media_type(&src) == "application/pdf" {
                        let bytes = (self.read)(&src).unwrap_or_default();
                        for message in pdf_warnings(&src, bytes) {
                            self.warnings.push(super::Warning { item: ctx.item_id.clone(), file: file.into(), line: child.line, column: child.column, message });
                        }
                    }
                    out.materials.push(Material { label, src, mime_type: child.attr("mime-type").map(String::from) });
                }
                "qti-physical-material" => {
                    let text = child.text().split_whitespace().collect::<Vec<_>>().join(" ");
                    if !text.is_empty() {
                        out.physical.push(text);
                    }
                }
                _ => return Err(super::unexpected(file, child, "qti-companion-materials-info")),
            }
        }
        Ok(out)
    }

    /// The elements of this module inside a body: `Some(result)` when `e` is
    /// one of them, `None` to let the importer handle it.
    pub(super) fn content_element(&mut self, e: &Element, ctx: &mut ItemCtx<'_>, mode: Mode) -> Option<Result<Option<Node>, QtiError>> {
        let name = e.name.as_str();
        Some(match name {
            "math" => self.math(e, ctx).map(Some),
            "object" if e.prefix.is_none() => self.object(e, ctx),
            "audio" | "video" if e.prefix.is_none() => self.media(e, ctx).map(|m| Some(Node::Media(m))),
            "picture" if e.prefix.is_none() => self.picture(e, ctx).map(Some),
            "qti-printed-variable" => self.printed_variable(e, ctx).map(Some),
            "qti-template-block" | "qti-template-inline" => self.template_block(e, ctx, mode),
            "include" if e.prefix.as_deref() == Some("xi") => self.include(e, ctx, mode),
            _ => return None,
        })
    }

    fn math(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<Node, QtiError> {
        let root = self.math_element(e, ctx)?;
        Ok(Node::Math(root))
    }

    fn math_element(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<MathElement, QtiError> {
        let file = ctx.file;
        let name = e.name.as_str();
        if !MATHML_ELEMENTS.contains(&name) {
            let reason = match name {
                "apply" | "ci" | "cn" | "csymbol" | "bind" | "share" | "cerror" | "cbytes" | "cs" => "Content MathML is not rendered; use presentation MathML",
                "maction" => "interactive MathML (maction) is not allowed in an exam",
                "mglyph" => "mglyph loads an image; use an <img> outside the formula",
                "mstack" | "mlongdiv" | "msgroup" | "msrow" | "mscarries" | "mscarry" | "msline" => "elementary-math layout (mstack, mlongdiv) is not rendered by the kiosk's web view",
                _ => "not a MathML presentation element the kiosk renders",
            };
            return Err(unsupported(file, e, reason));
        }
        let mut attrs = BTreeMap::new();
        for (k, v) in &e.attrs {
            let key = if k == "xml:lang" { "lang" } else { k.as_str() };
            if MATHML_ATTRIBUTES.contains(&key) {
                let value = if key == "class" {
                    v.split_whitespace().filter(|c| c.starts_with("qti-")).collect::<Vec<_>>().join(" ")
                } else {
                    v.clone()
                };
                if !value.is_empty() {
                    attrs.insert(key.to_string(), value);
                }
            } else {
                // href, on*, style, xlink:*, id, …: never reach the web view.
                self.notices.push(super::Notice {
                    file: file.into(),
                    line: e.line,
                    construct: format!("attribute {key} on {}", e.tag()),
                    reason: "MathML keeps only presentation attributes (no links, event handlers, styles or ids)".into(),
                });
            }
        }
        let mut children = Vec::new();
        if name == "semantics" {
            // The presentation is the first child; annotations (TeX, Content
            // MathML, annotation-xml with HTML) are left out unread.
            if let Some(first) = e.elements().find(|c| !matches!(c.name.as_str(), "annotation" | "annotation-xml")) {
                children.push(MathNode::Mathml(self.math_element(first, ctx)?));
            }
            return Ok(MathElement { tag: name.to_string(), attrs, children });
        }
        let token = MATHML_TOKENS.contains(&name);
        if name == "mi" && ctx.templates.math.contains(e.text().trim()) {
            // A math variable: its value (never a key: `template_value` refuses those).
            let values = self.template_value(e, ctx, e.text().trim())?;
            let text = values.join(",");
            let tag = if values.iter().all(|v| v.trim().parse::<f64>().is_ok()) { "mn" } else { "mi" };
            return Ok(MathElement { tag: tag.to_string(), attrs, children: vec![MathNode::Text { text }] });
        }
        for c in &e.children {
            match c {
                XNode::Text(t) if token => children.push(MathNode::Text { text: t.clone() }),
                t if is_blank(t) => {}
                XNode::Text(t) => children.push(MathNode::Text { text: t.trim().to_string() }),
                XNode::Element(el) if token && el.name == "mglyph" => return Err(unsupported(file, el, "mglyph loads an image; use an <img> outside the formula")),
                XNode::Element(el) => match self.math_element(el, ctx) {
                    Ok(m) => children.push(MathNode::Mathml(m)),
                    Err(p) if !p.is_hard_stop() => ctx.problems.push(p),
                    Err(p) => return Err(p),
                },
            }
        }
        Ok(MathElement { tag: name.to_string(), attrs, children })
    }

    /// A package file and what its content is.
    fn sniffed(&self, file: &str, e: &Element, reference: &str) -> Result<(String, Sniffed), QtiError> {
        let path = self.resolve_existing(file, e, reference)?;
        let kind = sniff((self.read)(&path).unwrap_or_default());
        Ok((path, kind))
    }

    fn object(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<Option<Node>, QtiError> {
        let file = ctx.file;
        let data = required(file, e, "data")?;
        let (path, kind) = self.sniffed(file, e, data)?;
        let text = shown_text(e).split_whitespace().collect::<Vec<_>>().join(" ");
        let label = e.attr("aria-label").or(e.attr("alt")).map(String::from).filter(|a| !a.trim().is_empty()).unwrap_or(text);
        match kind {
            Sniffed::Image(_) => {
                if !IMAGE_EXTENSIONS.contains(&extension(&path).as_str()) {
                    return Err(unsupported(file, e, &format!("{path} is an image, but its name does not end in .png, .jpg, .gif, .svg or .webp (the kiosk serves files by their extension)")));
                }
                if label.trim().is_empty() {
                    ctx.missing_alt.push((e.line, e.column, path.clone()));
                }
                Ok(Some(Node::Image {
                    src: path,
                    alt: label,
                    width: e.attr("width").map(String::from),
                    height: e.attr("height").map(String::from),
                    class: classes(e),
                }))
            }
            Sniffed::Audio(mime) | Sniffed::Video(mime) => {
                let is_video = matches!(kind, Sniffed::Video(_)) || e.attr("type").is_some_and(|t| t.starts_with("video/"));
                self.check_av_extension(file, e, &path)?;
                Ok(Some(Node::Media(Media {
                    kind: if is_video { "video" } else { "audio" }.into(),
                    sources: vec![MediaSource { src: path, mime: mime.into() }],
                    tracks: Vec::new(),
                    poster: None,
                    label,
                    width: e.attr("width").map(String::from),
                    height: e.attr("height").map(String::from),
                    class: classes(e),
                })))
            }
            Sniffed::Other(what) => Err(unsupported(
                file,
                e,
                &format!("{path} is {what}: an <object> may hold an image, audio or video from the package only (no web pages, PDF or plug-ins)"),
            )),
        }
    }

    fn check_av_extension(&self, file: &str, e: &Element, path: &str) -> Result<(), QtiError> {
        if AUDIO_VIDEO_EXTENSIONS.contains(&extension(path).as_str()) {
            Ok(())
        } else {
            Err(unsupported(file, e, &format!("{path}: audio and video must end in .mp3, .m4a, .ogg, .wav, .mp4, .webm or .flac (the kiosk serves files by their extension)")))
        }
    }

    fn media(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<Media, QtiError> {
        let file = ctx.file;
        let is_video = e.name == "video";
        let mut sources = Vec::new();
        let mut tracks = Vec::new();
        let mut add_source = |this: &Self, el: &Element, src: &str| -> Result<(), QtiError> {
            let (path, kind) = this.sniffed(file, el, src)?;
            match kind {
                Sniffed::Audio(mime) | Sniffed::Video(mime) => {
                    this.check_av_extension(file, el, &path)?;
                    sources.push(MediaSource { src: path, mime: mime.into() });
                    Ok(())
                }
                Sniffed::Image(_) | Sniffed::Other(_) => Err(unsupported(file, el, &format!("{path} is not audio or video"))),
            }
        };
        if let Some(src) = e.attr("src") {
            add_source(self, e, src)?;
        }
        let mut fallback = String::new();
        for c in &e.children {
            match c {
                XNode::Element(el) if el.name == "source" => add_source(self, el, required(file, el, "src")?)?,
                XNode::Element(el) if el.name == "track" => {
                    let path = self.resolve_existing(file, el, required(file, el, "src")?)?;
                    let kind = el.attr("kind").unwrap_or("subtitles").to_string();
                    if !matches!(kind.as_str(), "captions" | "subtitles" | "descriptions" | "chapters") {
                        return Err(invalid(file, el, format!("track kind {kind:?}")));
                    }
                    if sniff((self.read)(&path).unwrap_or_default()) != Sniffed::Other("WebVTT") || extension(&path) != "vtt" {
                        return Err(unsupported(file, el, &format!("{path}: a track must be a WebVTT file (.vtt)")));
                    }
                    tracks.push(MediaTrack {
                        src: path,
                        kind,
                        srclang: el.attr("srclang").map(String::from),
                        label: el.attr("label").map(String::from),
                        default: el.attr("default").is_some(),
                    });
                }
                XNode::Element(el) if !is_hidden_from_candidate(el) => fallback.push_str(&shown_text(el)),
                XNode::Element(_) => {}
                XNode::Text(t) => fallback.push_str(t),
            }
        }
        if sources.is_empty() {
            return Err(invalid(file, e, format!("{} without a source", e.tag())));
        }
        let poster = match e.attr("poster").filter(|_| is_video) {
            Some(p) => {
                let (path, kind) = self.sniffed(file, e, p)?;
                if !matches!(kind, Sniffed::Image(_)) || !IMAGE_EXTENSIONS.contains(&extension(&path).as_str()) {
                    return Err(unsupported(file, e, &format!("poster {path} is not a png, jpg, gif, svg or webp image")));
                }
                Some(path)
            }
            None => None,
        };
        if ["autoplay", "loop", "muted"].iter().any(|a| e.attr(a).is_some()) {
            self.notice(file, e, "autoplay, loop and muted are left out: audio and video play only when the student starts them, with controls");
        }
        let label = e.attr("aria-label").or(e.attr("title")).map(String::from).unwrap_or_else(|| fallback.split_whitespace().collect::<Vec<_>>().join(" "));
        Ok(Media {
            kind: if is_video { "video" } else { "audio" }.into(),
            sources,
            tracks,
            poster,
            label,
            width: e.attr("width").map(String::from),
            height: e.attr("height").map(String::from),
            class: classes(e),
        })
    }

    /// `<picture>`: the first `<source>` that is a package image the kiosk
    /// shows, else its `<img>`; rendered as that image.
    fn picture(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<Node, QtiError> {
        let file = ctx.file;
        let img = e.elements().find(|c| c.name == "img").ok_or_else(|| invalid(file, e, "<picture> without <img>"))?;
        let alt = img.attr("alt").unwrap_or("").to_string();
        for source in e.elements().filter(|c| c.name == "source") {
            let Some(srcset) = source.attr("srcset") else { continue };
            // The first candidate of the srcset (descriptors dropped).
            let Some(candidate) = srcset.split(',').next().and_then(|c| c.split_whitespace().next()) else { continue };
            let (path, kind) = self.sniffed(file, source, candidate)?;
            if matches!(kind, Sniffed::Image(_)) && IMAGE_EXTENSIONS.contains(&extension(&path).as_str()) {
                if alt.trim().is_empty() {
                    ctx.missing_alt.push((img.line, img.column, path.clone()));
                }
                return Ok(Node::Image {
                    src: path,
                    alt,
                    width: img.attr("width").map(String::from),
                    height: img.attr("height").map(String::from),
                    class: classes(img),
                });
            }
        }
        match self.element(img, ctx, Mode::Body)? {
            Some(node) => Ok(node),
            None => Err(invalid(file, img, "<picture> without a usable image")),
        }
    }

    fn template_value(&self, e: &Element, ctx: &ItemCtx<'_>, id: &str) -> Result<Vec<String>, QtiError> {
        let file = ctx.file;
        if ctx.templates.keys.contains(id) {
            return Err(unsupported(file, e, &format!("template variable {id} is used by the scoring (a correct response or response processing): showing it would show the key")));
        }
        if !ctx.templates.declared.contains(id) {
            return Err(unsupported(file, e, &format!("{id} is not a template variable: only template values are printed (never responses or outcomes)")));
        }
        Ok(ctx.templates.values.get(id).cloned().unwrap_or_default())
    }

    fn printed_variable(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<Node, QtiError> {
        let id = required(ctx.file, e, "identifier")?;
        let values = self.template_value(e, ctx, id)?;
        let sep = e.attr("delimiter").unwrap_or(";");
        let text = values.iter().map(|v| format_value(e.attr("format"), v)).collect::<Vec<_>>().join(sep);
        Ok(Node::Text { text })
    }

    fn template_block(&mut self, e: &Element, ctx: &mut ItemCtx<'_>, mode: Mode) -> Result<Option<Node>, QtiError> {
        let file = ctx.file;
        let var = required(file, e, "template-identifier")?;
        let id = required(file, e, "identifier")?;
        let show = match e.attr("show-hide").unwrap_or("show") {
            "show" => true,
            "hide" => false,
            other => return Err(invalid(file, e, format!("show-hide={other:?}"))),
        };
        let values = self.template_value(e, ctx, var)?;
        if values.iter().any(|v| v == id) != show {
            return Ok(None);
        }
        let children = self.flow(e, ctx, mode)?;
        let tag = if e.name == "qti-template-block" { "div" } else { "span" };
        Ok(Some(Node::Element { tag: tag.into(), attrs: BTreeMap::new(), children }))
    }

    /// `xi:include parse="xml"` of a fragment in the package: its content
    /// is read as if written here. `parse="text"` includes the text.
    fn include(&mut self, e: &Element, ctx: &mut ItemCtx<'_>, mode: Mode) -> Result<Option<Node>, QtiError> {
        let file = ctx.file;
        let href = required(file, e, "href")?;
        let path = self.resolve_existing(file, e, href)?;
        if ctx.includes >= MAX_INCLUDES {
            return Err(QtiError::TooLarge { file: file.into(), what: "xi:include count in one item", limit: MAX_INCLUDES as u64 });
        }
        ctx.includes += 1;
        let bytes = (self.read)(&path).unwrap_or_default();
        self.xml_bytes += bytes.len() as u64;
        if self.xml_bytes > super::MAX_TOTAL_XML_BYTES {
            return Err(QtiError::TooLarge { file: file.into(), what: "XML of all items together", limit: super::MAX_TOTAL_XML_BYTES });
        }
        match e.attr("parse").unwrap_or("xml") {
            "text" => match included_text(bytes) {
                Ok(text) => Ok(Some(Node::Text { text: text.trim_start_matches('\u{feff}').to_string() })),
                Err(why) => Err(unsupported(file, e, &format!("xi:include parse=\"text\" of {path}: {why}"))),
            },
            "xml" => {
                let root = xml::parse(bytes, &path)?;
                // Problems inside the fragment name the fragment's file and line.
                let mut fctx = ItemCtx::new(&path);
                fctx.includes = ctx.includes;
                fctx.templates = ctx.templates.clone();
                fctx.item_id = ctx.item_id.clone();
                let node = self.element(&root, &mut fctx, mode);
                ctx.includes = fctx.includes;
                ctx.problems.append(&mut fctx.problems);
                // Named by the included file and the item.
                self.report_missing_alt(&mut fctx, ctx.item_id.as_deref());
                for id in fctx.used.drain() {
                    if !ctx.used.insert(id.clone()) {
                        return Err(invalid(file, e, format!("two interactions use response {id}")));
                    }
                }
                self.report_dropped(&mut fctx);
                node
            }
            other => Err(invalid(file, e, format!("xi:include parse={other:?}"))),
        }
    }
}

/// The text of a file `xi:include parse="text"` shows, or why it is not
/// shown. Markup as text would show everything in it — an item's or a
/// fragment's correct responses and scorer rubrics included (issue 18) — so
/// the file must be UTF-8 plain text: no markup anywhere (not only at the
/// start), no NULs or other control characters (UTF-16 read as UTF-8 shows
/// its text between NULs).
fn included_text(bytes: &[u8]) -> Result<&str, &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text (an XML file in UTF-16 would be shown as text with all it holds, keys included)")?;
    if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return Err("the file holds control characters: it is not plain text");
    }
    let markup = text.as_bytes().windows(2).any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'?' | b'!' | b'/')));
    if markup {
        return Err("the file holds XML or HTML and would be shown as text with all it holds, keys included; use parse=\"xml\" for a fragment");
    }
    Ok(text)
}

/// The template variables that hold a key: those the scoring reads
/// (`keys`), and every variable copied to or from one of them by
/// `qti-set-template-value` unchanged (issue 18: `KOPIE := ANTWOORD`
/// printed would show the correct response as well as `ANTWOORD` itself).
/// A variable computed from a key (`2 × ANTWOORD`) is not a copy.
fn key_closure(copies: &[(String, Vec<String>)], mut keys: HashSet<String>) -> HashSet<String> {
    loop {
        let before = keys.len();
        for (to, from) in copies {
            if keys.contains(to) || from.iter().any(|f| keys.contains(f)) {
                keys.insert(to.clone());
                keys.extend(from.iter().cloned());
            }
        }
        if keys.len() == before {
            return keys;
        }
    }
}

/// Most `xi:include`s followed in one item (a fragment may include others).
pub const MAX_INCLUDES: usize = 32;

/// The text of `e` as the candidate may see it, for an accessible name or
/// alternative: like [`Element::text`] but without feedback and rubric
/// blocks that are not for the candidate (issue 18: an `<object>`'s
/// fallback holding a feedback with the answer became its `alt`).
pub(super) fn shown_text(e: &Element) -> String {
    fn collect(e: &Element, out: &mut String) {
        for c in &e.children {
            match c {
                XNode::Text(t) => out.push_str(t),
                XNode::Element(el) if is_hidden_from_candidate(el) => {}
                XNode::Element(el) => collect(el, out),
            }
        }
    }
    let mut out = String::new();
    collect(e, &mut out);
    out
}

fn is_hidden_from_candidate(e: &Element) -> bool {
    match e.name.as_str() {
        "qti-feedback-inline" | "qti-feedback-block" | "qti-modal-feedback" | "annotation" | "annotation-xml" => true,
        "qti-rubric-block" => !e.attr("view").unwrap_or("").split_whitespace().any(|v| v == "candidate"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_known_by_their_content_not_their_name() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Sniffed::Image("image/png"));
        assert_eq!(sniff(b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), Sniffed::Image("image/svg+xml"));
        assert_eq!(sniff(b"ID3\x03\0"), Sniffed::Audio("audio/mpeg"));
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42"), Sniffed::Video("video/mp4"));
        assert_eq!(sniff(b"<!DOCTYPE html><html>"), Sniffed::Other("HTML"));
        assert_eq!(sniff(b"%PDF-1.4"), Sniffed::Other("PDF"));
        assert_eq!(sniff(b"CWS\x0a"), Sniffed::Other("Flash (SWF)"));
        assert_eq!(sniff(b"WEBVTT\n\n"), Sniffed::Other("WebVTT"));
        // An SVG is known by its document element, after comments and a doctype.
        let doctype = b"<?xml version=\"1.0\"?><!-- made by hand --><!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\" [ <!ENTITY a \"b\"> ]>\n<svg:svg xmlns:svg=\"http://www.w3.org/2000/svg\"/>";
        assert_eq!(sniff(doctype), Sniffed::Image("image/svg+xml"));
        // Review: an item's XML with "<svg" in a comment was an SVG image,
        // and an item named q.svg was served to the page with its key.
        let item = b"<?xml version=\"1.0\"?><!-- <svg> --><qti-assessment-item identifier=\"q\"><qti-correct-response><qti-value>Kreekraksluizen</qti-value></qti-correct-response></qti-assessment-item>";
        assert_eq!(sniff(item), Sniffed::Other("an unknown file type"));
        assert!(!svg_root(b"<html><svg/></html>"));
    }

    #[test]
    fn printed_values_follow_the_format() {
        assert_eq!(format_value(Some("%.2f"), "3.14159"), "3.14");
        assert_eq!(format_value(Some("%d cm"), "12"), "12 cm");
        assert_eq!(format_value(Some("%s%%"), "5"), "5%");
        assert_eq!(format_value(None, "abc"), "abc");
        assert_eq!(format_value(Some("%d"), "abc"), "abc");
        // A hostile precision is capped (%.999999999f would build a string of about 1 GB).
        assert_eq!(format_value(Some("%.999999999f"), "1"), format!("1.{}", "0".repeat(20)));
    }
}
