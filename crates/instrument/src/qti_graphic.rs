//! Graphic interactions (issue 18): `qti-hotspot-interaction`,
//! `qti-graphic-gap-match-interaction`, `qti-select-point-interaction`,
//! `qti-graphic-associate-interaction`, `qti-graphic-order-interaction` and
//! `qti-position-object-stage` with its `qti-position-object-interaction`s.
//!
//! The render model holds the background image (package path, alternative
//! text, width and height: the coordinate space of the hotspots and of
//! every point a student places), the hotspots' shapes and coordinates with
//! their labels, and the gap images — never a key: correct responses and
//! area mappings stay in the response declarations, which only the hub gets.
//!
//! Declared as a child module of `qti` (`#[path]` in qti.rs) so it can use
//! the importer's own helpers; its file is a sibling of qti.rs.

use super::{
    boolean, classes, element_children, invalid, is_blank, no_content, number, required, unexpected, unsupported, AssociableChoice,
    Importer, ItemCtx, Mode, Node, QtiError,
};
use crate::xml::Element;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Which graphic interaction (the value each saves, see answer_ids.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GraphicKind {
    /// `qti-hotspot-interaction`: hotspot identifiers.
    Hotspot,
    /// `qti-graphic-gap-match-interaction`: pairs `gapImg hotspot`.
    GraphicGapMatch,
    /// `qti-select-point-interaction`: points `x y` on the image.
    SelectPoint,
    /// `qti-graphic-associate-interaction`: pairs of hotspots.
    GraphicAssociate,
    /// `qti-graphic-order-interaction`: hotspot identifiers in order.
    GraphicOrder,
}

impl GraphicKind {
    /// The interaction's name in pack's report.
    pub fn name(self) -> &'static str {
        match self {
            GraphicKind::Hotspot => "hotspot",
            GraphicKind::GraphicGapMatch => "graphic-gap-match",
            GraphicKind::SelectPoint => "select-point",
            GraphicKind::GraphicAssociate => "graphic-associate",
            GraphicKind::GraphicOrder => "graphic-order",
        }
    }

    fn of(element: &str) -> Option<Self> {
        Some(match element {
            "qti-hotspot-interaction" => GraphicKind::Hotspot,
            "qti-graphic-gap-match-interaction" => GraphicKind::GraphicGapMatch,
            "qti-select-point-interaction" => GraphicKind::SelectPoint,
            "qti-graphic-associate-interaction" => GraphicKind::GraphicAssociate,
            "qti-graphic-order-interaction" => GraphicKind::GraphicOrder,
            _ => return None,
        })
    }
}

/// An image of a graphic interaction (`<img>` or `<object>` of an image type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphicImage {
    /// Package path.
    pub src: String,
    /// Alternative text (`alt`, or an `<object>`'s text).
    pub alt: String,
    /// Width in the image's own pixels (the hotspots' coordinate space).
    pub width: f64,
    /// Height in the image's own pixels.
    pub height: f64,
}

/// A hotspot's shape (QTI's `shape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HotspotShape {
    /// `x1,y1,x2,y2`.
    Rect,
    /// `cx,cy,r`.
    Circle,
    /// `cx,cy,rx,ry`.
    Ellipse,
    /// `x1,y1,x2,y2,…` (at least three points).
    Poly,
    /// The whole image.
    Default,
}

/// `qti-hotspot-choice` or `qti-associable-hotspot`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hotspot {
    /// Identifier (the response value).
    pub identifier: String,
    /// Shape.
    pub shape: HotspotShape,
    /// Coordinates in the image's pixels, as the shape needs them.
    pub coords: Vec<f64>,
    /// Accessible name (`hotspot-label`, else `aria-label`); the UI says
    /// "Gebied n" without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// How often it may be used in associations (0 = unlimited).
    pub match_max: u32,
    /// How often it must be used.
    pub match_min: u32,
}

/// A graphic interaction with its image and hotspots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphicInteraction {
    /// Which one.
    pub kind: GraphicKind,
    /// Response variable.
    pub response_identifier: String,
    /// Fewest choices or points (hotspot, select point, graphic order).
    pub min_choices: u32,
    /// Most choices or points (0 = no limit).
    pub max_choices: u32,
    /// Fewest associations (graphic associate, graphic gap match).
    pub min_associations: u32,
    /// Most associations (0 = no limit).
    pub max_associations: u32,
    /// Classes.
    pub class: Vec<String>,
    /// Prompt.
    pub prompt: Vec<Node>,
    /// The background image.
    pub image: GraphicImage,
    /// Hotspots in document order (none for select point).
    pub hotspots: Vec<Hotspot>,
    /// Graphic gap match: the images (and texts) to place on hotspots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gap_choices: Vec<AssociableChoice>,
}

/// `qti-position-object-stage`: an image and the objects to place on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionObjectStage {
    /// The stage's image (the points' coordinate space).
    pub image: GraphicImage,
    /// Its `qti-position-object-interaction`s.
    pub interactions: Vec<PositionObject>,
}

/// `qti-position-object-interaction`: places copies of an object (points `x y` on the stage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionObject {
    /// Response variable.
    pub response_identifier: String,
    /// Fewest placements.
    pub min_choices: u32,
    /// Most placements (0 = no limit).
    pub max_choices: u32,
    /// The object placed.
    pub object: GraphicImage,
    /// The object's point that lands on the chosen spot (`center-point`), else its centre.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub center_point: Option<(f64, f64)>,
}

/// A number or a whole length in pixels (`"206"`, `"206px"`).
fn pixels(value: &str) -> Option<f64> {
    let v = value.trim();
    let v = v.strip_suffix("px").unwrap_or(v);
    v.parse::<f64>().ok().filter(|n| n.is_finite() && *n > 0.0)
}

fn coords(file: &str, e: &Element, shape: HotspotShape) -> Result<Vec<f64>, QtiError> {
    let text = e.attr("coords").unwrap_or("");
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<f64>() {
            Ok(n) if n.is_finite() => out.push(n),
            _ => return Err(unsupported(file, e, &format!("coords {text:?}: only numbers in the image's pixels are supported"))),
        }
    }
    let fits = match shape {
        HotspotShape::Rect | HotspotShape::Ellipse => out.len() == 4,
        HotspotShape::Circle => out.len() == 3,
        HotspotShape::Poly => out.len() >= 6 && out.len() % 2 == 0,
        HotspotShape::Default => true,
    };
    if !fits {
        return Err(invalid(file, e, format!("coords {text:?} do not fit shape {}", e.attr("shape").unwrap_or(""))));
    }
    Ok(out)
}

impl<'r, 'a> Importer<'r, 'a> {
    /// A graphic interaction, or `None` when `e` is not one.
    pub(super) fn graphic(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<Option<Node>, QtiError> {
        if e.name == "qti-position-object-stage" {
            return self.position_stage(e, ctx).map(|s| Some(Node::PositionObjectStage(s)));
        }
        let Some(kind) = GraphicKind::of(&e.name) else { return Ok(None) };
        let file = ctx.file;
        let response_identifier = self.use_response(e, ctx)?;
        let mut prompt = Vec::new();
        let mut image = None;
        let mut hotspots = Vec::new();
        let mut gap_choices = Vec::new();
        let mut ids = HashSet::new();
        let hotspot_element = match kind {
            GraphicKind::Hotspot | GraphicKind::GraphicOrder => "qti-hotspot-choice",
            _ => "qti-associable-hotspot",
        };
        for child in element_children(file, e)? {
            match child.name.as_str() {
                "qti-prompt" => prompt = self.flow(child, ctx, Mode::Body)?,
                "img" | "object" if image.is_none() => image = Some(self.graphic_image(child, ctx)?),
                "picture" if image.is_none() => image = Some(self.graphic_picture(child, ctx)?),
                name if name == hotspot_element && kind != GraphicKind::SelectPoint => {
                    hotspots.push(hotspot(file, child, &mut ids)?);
                }
                "qti-gap-img" | "qti-gap-text" if kind == GraphicKind::GraphicGapMatch => {
                    gap_choices.push(self.gap_choice(child, ctx, &mut ids)?);
                }
                _ => return Err(unexpected(file, child, &e.name)),
            }
        }
        let image = image.ok_or_else(|| invalid(file, e, format!("{} without an image (<img> or <object>)", e.tag())))?;
        if kind != GraphicKind::SelectPoint && hotspots.is_empty() {
            return Err(invalid(file, e, format!("{} without {}", e.tag(), hotspot_element)));
        }
        if kind == GraphicKind::GraphicGapMatch && gap_choices.is_empty() {
            return Err(invalid(file, e, "qti-graphic-gap-match-interaction without qti-gap-img"));
        }
        let one = matches!(kind, GraphicKind::Hotspot | GraphicKind::SelectPoint);
        Ok(Some(Node::GraphicInteraction(GraphicInteraction {
            kind,
            response_identifier,
            min_choices: number(file, e, "min-choices")?.unwrap_or(0),
            // hotspot and select point: one unless said otherwise; graphic order: all.
            max_choices: number(file, e, "max-choices")?.unwrap_or(if one { 1 } else { 0 }),
            min_associations: number(file, e, "min-associations")?.unwrap_or(0),
            max_associations: number(file, e, "max-associations")?
                .unwrap_or(if kind == GraphicKind::GraphicAssociate { 1 } else { 0 }),
            class: classes(e),
            prompt,
            image,
            hotspots,
            gap_choices,
        })))
    }

    /// `<img>` or `<object data type>` of an image type, with its size.
    fn graphic_image(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<GraphicImage, QtiError> {
        let file = ctx.file;
        let (src, alt) = if e.name == "img" {
            match self.element(e, ctx, Mode::Body)? {
                Some(Node::Image { src, alt, .. }) => (src, alt),
                _ => return Err(invalid(file, e, "not an image")),
            }
        } else {
            let data = required(file, e, "data")?;
            let path = self.resolve_existing(file, e, data)?;
            let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
            if !matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp") {
                return Err(unsupported(file, e, &format!("object type .{ext} in a graphic interaction (png, jpg, gif, svg or webp only)")));
            }
            if e.elements().next().is_some() {
                return Err(unsupported(file, e, "an <object> in a graphic interaction may hold only text (its alternative)"));
            }
            let alt = e.attr("alt").map(String::from).unwrap_or_else(|| e.text().split_whitespace().collect::<Vec<_>>().join(" "));
            if alt.trim().is_empty() {
                ctx.missing_alt.push((e.line, e.column, path.clone()));
            }
            (path, alt)
        };
        let size = |name: &str| e.attr(name).and_then(pixels);
        match (size("width"), size("height")) {
            (Some(width), Some(height)) => Ok(GraphicImage { src, alt, width, height }),
            // Not given: the image's own size (hotspots are then in its pixels).
            (None, None) => match (self.read)(&src).and_then(|bytes| imagesize::blob_size(bytes).ok()) {
                Some(own) if own.width > 0 && own.height > 0 => Ok(GraphicImage { src, alt, width: own.width as f64, height: own.height as f64 }),
                _ => Err(unsupported(file, e, "the image of a graphic interaction needs width and height in pixels (its own size could not be read): hotspots and points are in its coordinates")),
            },
            _ => Err(unsupported(file, e, "the image of a graphic interaction needs width and height in pixels: hotspots and points are in its coordinates")),
        }
    }

    /// A `<picture>`: its `<img>` (the sources are alternatives the kiosk does not need).
    fn graphic_picture(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<GraphicImage, QtiError> {
        let file = ctx.file;
        let mut img = None;
        for child in element_children(file, e)? {
            match child.name.as_str() {
                "source" => {}
                "img" if img.is_none() => img = Some(child),
                _ => return Err(unexpected(file, child, "picture")),
            }
        }
        let img = img.ok_or_else(|| invalid(file, e, "a <picture> without <img>"))?;
        self.graphic_image(img, ctx)
    }

    /// `qti-gap-img` (an image) or `qti-gap-text` of a graphic gap match.
    fn gap_choice(&mut self, e: &Element, ctx: &mut ItemCtx<'_>, ids: &mut HashSet<String>) -> Result<AssociableChoice, QtiError> {
        let file = ctx.file;
        if e.name == "qti-gap-text" {
            return self.associable(e, ctx, ids);
        }
        let identifier = required(file, e, "identifier")?.to_string();
        if !ids.insert(identifier.clone()) {
            return Err(invalid(file, e, format!("identifier {identifier} is used twice")));
        }
        let inner: Vec<&Element> = element_children(file, e)?;
        let [picture] = inner.as_slice() else {
            return Err(invalid(file, e, "a qti-gap-img holds one <img> or <object>"));
        };
        if !matches!(picture.name.as_str(), "img" | "object") {
            return Err(unexpected(file, picture, "qti-gap-img"));
        }
        let image = if picture.name == "img" {
            self.element(picture, ctx, Mode::Body)?.ok_or_else(|| invalid(file, picture, "not an image"))?
        } else {
            let g = self.graphic_image_any_size(picture, ctx)?;
            Node::Image { src: g.0, alt: g.1, width: picture.attr("width").map(String::from), height: picture.attr("height").map(String::from), class: Vec::new() }
        };
        Ok(AssociableChoice {
            identifier,
            match_max: number(file, e, "match-max")?.unwrap_or(1),
            match_min: number(file, e, "match-min")?.unwrap_or(0),
            fixed: boolean(file, e, "fixed", false)?,
            content: vec![image],
        })
    }

    /// An `<object>` image without a required size: (path, alt).
    fn graphic_image_any_size(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<(String, String), QtiError> {
        let mut sized = e.clone();
        for (name, dflt) in [("width", "1"), ("height", "1")] {
            if e.attr(name).and_then(pixels).is_none() {
                sized.attrs.retain(|(k, _)| k != name);
                sized.attrs.push((name.to_string(), dflt.to_string()));
            }
        }
        let g = self.graphic_image(&sized, ctx)?;
        Ok((g.src, g.alt))
    }

    fn position_stage(&mut self, e: &Element, ctx: &mut ItemCtx<'_>) -> Result<PositionObjectStage, QtiError> {
        let file = ctx.file;
        let mut image = None;
        let mut interactions = Vec::new();
        for child in element_children(file, e)? {
            match child.name.as_str() {
                "img" | "object" if image.is_none() => image = Some(self.graphic_image(child, ctx)?),
                "picture" if image.is_none() => image = Some(self.graphic_picture(child, ctx)?),
                "qti-position-object-interaction" => {
                    let response_identifier = self.use_response(child, ctx)?;
                    let parts = element_children(file, child)?;
                    let [object] = parts.as_slice() else {
                        return Err(invalid(file, child, "a qti-position-object-interaction holds one <img> or <object>"));
                    };
                    if !matches!(object.name.as_str(), "img" | "object") {
                        return Err(unexpected(file, object, "qti-position-object-interaction"));
                    }
                    let center_point = match child.attr("center-point") {
                        None => None,
                        Some(text) => {
                            let n: Vec<f64> = text.split_whitespace().filter_map(|p| p.parse().ok()).collect();
                            match n.as_slice() {
                                [x, y] => Some((*x, *y)),
                                _ => return Err(invalid(file, child, format!("center-point {text:?}: two numbers expected"))),
                            }
                        }
                    };
                    interactions.push(PositionObject {
                        response_identifier,
                        min_choices: number(file, child, "min-choices")?.unwrap_or(0),
                        max_choices: number(file, child, "max-choices")?.unwrap_or(1),
                        object: self.graphic_image(object, ctx)?,
                        center_point,
                    });
                }
                _ => return Err(unexpected(file, child, "qti-position-object-stage")),
            }
        }
        let image = image.ok_or_else(|| invalid(file, e, "qti-position-object-stage without an image"))?;
        if interactions.is_empty() {
            return Err(invalid(file, e, "qti-position-object-stage without qti-position-object-interaction"));
        }
        Ok(PositionObjectStage { image, interactions })
    }
}

fn hotspot(file: &str, e: &Element, ids: &mut HashSet<String>) -> Result<Hotspot, QtiError> {
    let identifier = required(file, e, "identifier")?.to_string();
    if !ids.insert(identifier.clone()) {
        return Err(invalid(file, e, format!("identifier {identifier} is used twice")));
    }
    let shape = match required(file, e, "shape")? {
        "rect" => HotspotShape::Rect,
        "circle" => HotspotShape::Circle,
        "ellipse" => HotspotShape::Ellipse,
        "poly" => HotspotShape::Poly,
        "default" => HotspotShape::Default,
        other => return Err(invalid(file, e, format!("shape {other:?}"))),
    };
    let coords = coords(file, e, shape)?;
    // A hotspot is an area, never content; its label is an attribute.
    if !e.children.iter().all(is_blank) {
        no_content(file, e)?;
    }
    let label = e.attr("hotspot-label").or_else(|| e.attr("aria-label")).map(str::trim).filter(|l| !l.is_empty()).map(String::from);
    Ok(Hotspot {
        identifier,
        shape,
        coords,
        label,
        match_max: number(file, e, "match-max")?.unwrap_or(1),
        match_min: number(file, e, "match-min")?.unwrap_or(0),
    })
}
