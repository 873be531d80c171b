//! Images, audio and video of the running QTI instrument for the web view, by URL instead of
//! inside the render model: the decrypted package stays in a [`MediaSlot`]
//! and the shell's `exammedia:` URI scheme serves its images from there. The
//! render model's `media` map then holds short `exammedia://localhost/PATH`
//! URLs, so starting an exam sends kilobytes to the web view, not the
//! base64 of every image, and the web view loads only the images it shows.

use super::{media_type, PackageContents};
use super::paths::percent_decode;
use super::qti::AssessmentTest;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

/// The URI scheme the shell registers for instrument images.
pub const MEDIA_SCHEME: &str = "exammedia";

/// The decrypted package of the running exam with the files the web view
/// may load from it, if any.
pub type MediaSlot = Arc<RwLock<Option<Arc<Held>>>>;

/// A package held for the shell: its contents and the paths it serves.
pub struct Held {
    contents: PackageContents,
    served: BTreeSet<String>,
}

/// Characters kept as they are in a media URL's path; all others are %-encoded.
fn keep(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
}

/// `exammedia://localhost/PATH` for a package path (%-encoded).
pub fn media_url(path: &str) -> String {
    let mut url = format!("{MEDIA_SCHEME}://localhost/");
    for b in path.bytes() {
        if keep(b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

/// Whether a package file is an image the web view may load.
pub fn is_image(path: &str) -> bool {
    media_type(path).starts_with("image/")
}

/// Whether a package file is served to the web view: images, and (issue
/// 18) audio, video and their WebVTT caption tracks, and (issue 19) a PDF
/// that is an item's reference material — never XML, CSS or anything else
/// of the package.
pub fn is_media(path: &str) -> bool {
    let kind = media_type(path);
    kind.starts_with("image/") || kind.starts_with("audio/") || kind.starts_with("video/") || kind == "text/vtt" || kind == PDF
}

const PDF: &str = "application/pdf";

/// The package paths of every item's reference material (companion
/// materials): the only PDFs the web view may load.
fn reference_materials(test: &AssessmentTest) -> BTreeSet<&str> {
    let mut items = Vec::new();
    test.test_parts.iter().flat_map(|p| &p.sections).for_each(|s| s.items_into(&mut items));
    items.iter().filter_map(|i| i.companion.as_ref()).flat_map(|c| &c.materials).map(|m| m.src.as_str()).collect()
}

/// The media files the render model of `test` uses (images, audio, video,
/// caption tracks, posters — any string of the render model that names a
/// media file of the package), with their `exammedia:` URLs. Only these are
/// served (issue 18): an image only a scorer's rubric block, a feedback
/// block or another removed part shows (often the worked answer) is in the
/// package but never reaches the web view.
pub fn media_urls(test: &AssessmentTest, contents: &PackageContents) -> BTreeMap<String, String> {
    fn strings<'v>(value: &'v serde_json::Value, out: &mut BTreeSet<&'v str>) {
        match value {
            serde_json::Value::String(s) => {
                out.insert(s);
            }
            serde_json::Value::Array(values) => values.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }
    // The render model serialises infallibly (plain data); an error would leave nothing served.
    let model = serde_json::to_value(test).unwrap_or_default();
    let mut used = BTreeSet::new();
    strings(&model, &mut used);
    let references = reference_materials(test);
    contents
        .paths()
        .filter(|p| is_media(p) && used.contains(p) && (media_type(p) != PDF || references.contains(p)))
        .filter(|p| contents.file(p).is_some_and(|bytes| content_fits(p, bytes)))
        .map(|p| (p.to_owned(), media_url(p)))
        .collect()
}

/// Whether a file's content is what its name says (the web view gets the
/// media type of the name): an item's XML named `.vtt` or `.png` is not
/// served, whatever the render model says.
fn content_fits(path: &str, bytes: &[u8]) -> bool {
    use super::qti::{sniff, Sniffed};
    let named = media_type(path);
    match sniff(bytes) {
        Sniffed::Image(_) => named.starts_with("image/"),
        // An .ogv or .webm may hold audio only, an .ogg video.
        Sniffed::Audio(_) | Sniffed::Video(_) => named.starts_with("audio/") || named.starts_with("video/"),
        Sniffed::Other("WebVTT") => named == "text/vtt",
        Sniffed::Other("PDF") => named == PDF,
        // `sniff` knows an SVG by its document element (comments and a
        // doctype before it included): anything else named .svg is not one.
        Sniffed::Other(_) => false,
    }
}

/// The media file (image, audio, video, caption track, PDF reference
/// material) behind a `exammedia://localhost/PATH` URL of the running
/// instrument, with its media type; `None` for anything else (no
/// instrument, another host, not media, not used by the render model).
pub fn lookup(slot: &MediaSlot, url: &str) -> Option<(Vec<u8>, &'static str)> {
    let rest = url.strip_prefix(MEDIA_SCHEME)?.strip_prefix("://localhost/")?;
    let path = percent_decode(rest.split(['?', '#']).next()?).ok()?;
    if !is_media(&path) {
        return None;
    }
    let held = slot.read().unwrap_or_else(|p| p.into_inner()).clone()?;
    if !held.served.contains(&path) {
        return None;
    }
    held.contents.media(&path).map(|(bytes, mime)| (bytes.to_vec(), mime))
}

/// Keeps `contents` for the shell (at the start of the exam), serving only
/// the media files in `served` (the paths of [`media_urls`]) whose content
/// is what their name says.
pub fn hold(slot: &MediaSlot, contents: PackageContents, served: impl IntoIterator<Item = String>) {
    let served = served.into_iter().filter(|p| is_media(p) && contents.file(p).is_some_and(|bytes| content_fits(p, bytes))).collect();
    *slot.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(Held { contents, served }));
}

/// Forgets the package (after hand-in).
pub fn release(slot: &MediaSlot) {
    *slot.write().unwrap_or_else(|p| p.into_inner()) = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_round_trip_and_only_media_are_served() {
        let url = media_url("media/schap 1 (ø).png");
        assert_eq!(url, "exammedia://localhost/media/schap%201%20%28%C3%B8%29.png");
        assert_eq!(percent_decode(url.strip_prefix("exammedia://localhost/").unwrap()).as_deref(), Ok("media/schap 1 (ø).png"));
        assert!(is_image("a/b.JPG") && is_image("x.svg") && !is_image("items/i1.xml") && !is_image("imsmanifest.xml"));
        assert!(is_media("a/b.JPG") && is_media("media/boom.mp3") && is_media("v/film.webm") && !is_media("items/i1.xml") && !is_image("media/boom.mp3"));
        assert!(is_media("m/a.mp3") && is_media("m/film.MP4") && is_media("m/film.vtt") && is_media("a.png"));
        assert!(!is_media("items/i1.xml") && !is_media("style.css") && !is_media("page.html") && !is_media("x.docx"));
        // A PDF is media only as an item's reference material (media_urls checks that).
        assert!(is_media("img/formulekaart.pdf"));
        let empty = MediaSlot::default();
        assert_eq!(lookup(&empty, &media_url("media/a.png")), None);
        assert_eq!(lookup(&empty, "https://localhost/media/a.png"), None);
        assert!(percent_decode("%4").is_err());
    }
}
