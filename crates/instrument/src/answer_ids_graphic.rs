//! The values graphic interactions give (qti_graphic.rs): hotspot ids
//! offered (hotspot, graphic order), `gapImg hotspot` pairs (graphic gap
//! match), pairs of two different hotspots (graphic associate, unordered),
//! and points `x y` inside the image (select point, position object).
//! A child module of answer_ids (`#[path]`), in its own file.

use super::{clip, ids, Shape};
use crate::qti::{GraphicImage, GraphicInteraction, GraphicKind};
use serde_json::Value;
use std::collections::HashSet;

/// Shapes only graphic interactions give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum GraphicShape {
    /// Points `"x y"` (whole numbers, QTI's point) with `0 <= x <= width`
    /// and `0 <= y <= height` of the image, at most `max` (0: no limit).
    Points { width: u32, height: u32, max: u32 },
    /// Unordered pairs `"A B"` of two different hotspots, each pair once
    /// (`"B A"` is the same pair), at most `max` (0: no limit).
    HotspotPairs { ids: HashSet<String>, max: u32 },
}

/// The shape of a graphic interaction's response.
pub(super) fn shape(i: &GraphicInteraction) -> Shape {
    let hotspots = ids(i.hotspots.iter().map(|h| &h.identifier));
    match i.kind {
        GraphicKind::Hotspot => Shape::Choices { ids: hotspots, max: i.max_choices, list: true },
        GraphicKind::GraphicOrder => Shape::Choices { ids: hotspots, max: i.max_choices, list: true },
        GraphicKind::GraphicGapMatch => {
            let first = ids(i.gap_choices.iter().map(|c| &c.identifier));
            let most = first.len().saturating_mul(hotspots.len());
            Shape::Pairs { first, second: hotspots, max: i.max_associations, most }
        }
        GraphicKind::GraphicAssociate => Shape::Graphic(GraphicShape::HotspotPairs { ids: hotspots, max: i.max_associations }),
        GraphicKind::SelectPoint => points(&i.image, i.max_choices),
    }
}

/// Points on `image`, at most `max`.
pub(super) fn points(image: &GraphicImage, max: u32) -> Shape {
    // The image's size in whole pixels (a point is whole numbers).
    Shape::Graphic(GraphicShape::Points { width: image.width.floor() as u32, height: image.height.floor() as u32, max })
}

impl GraphicShape {
    /// The most values the response can have (`None`: no limit known).
    pub(super) fn max_values(&self) -> Option<usize> {
        match self {
            GraphicShape::Points { max: 0, .. } => None,
            GraphicShape::Points { max, .. } => usize::try_from(*max).ok(),
            GraphicShape::HotspotPairs { ids, max } => Some(super::limit(*max, ids.len().saturating_mul(ids.len().saturating_sub(1)) / 2)),
        }
    }

    pub(super) fn fits(&self, values: &[&Value], within: fn(usize, u32) -> Result<(), String>) -> Result<(), String> {
        match self {
            GraphicShape::Points { width, height, max } => {
                for v in values {
                    let text = v.as_str().ok_or("een punt is geen tekst")?;
                    let mut parts = text.split(' ');
                    let (Some(x), Some(y), None) = (parts.next(), parts.next(), parts.next()) else {
                        return Err(format!("'{}' is geen punt", clip(text)));
                    };
                    let (Ok(x), Ok(y)) = (x.parse::<u32>(), y.parse::<u32>()) else {
                        return Err(format!("'{}' is geen punt", clip(text)));
                    };
                    if x > *width || y > *height {
                        return Err(format!("punt '{}' ligt buiten de afbeelding", clip(text)));
                    }
                }
                within(values.len(), *max)
            }
            GraphicShape::HotspotPairs { ids, max } => {
                let mut seen = HashSet::new();
                for v in values {
                    let pair = v.as_str().ok_or("een koppeling is geen tekst")?;
                    let (a, b) = pair.split_once(' ').ok_or_else(|| format!("'{}' is geen koppeling", clip(pair)))?;
                    if !ids.contains(a) || !ids.contains(b) || a == b {
                        return Err(format!("geen koppeling '{}'", clip(pair)));
                    }
                    if !seen.insert(if a < b { (a, b) } else { (b, a) }) {
                        return Err(format!("koppeling '{}' twee keer", clip(pair)));
                    }
                }
                within(values.len(), *max)
            }
        }
    }
}
