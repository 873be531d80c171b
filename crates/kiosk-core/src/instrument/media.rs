//! Images of the running QTI instrument for the web view, by URL instead of
//! inside the render model: the decrypted package stays in a [`MediaSlot`]
//! and the shell's `exammedia:` URI scheme serves its images from there. The
//! render model's `media` map then holds short `exammedia://localhost/PATH`
//! URLs, so starting an exam sends kilobytes to the web view, not the
//! base64 of every image, and the web view loads only the images it shows.

use super::{media_type, PackageContents};
use super::paths::percent_decode;
use std::sync::{Arc, RwLock};

/// The URI scheme the shell registers for instrument images.
pub const MEDIA_SCHEME: &str = "exammedia";

/// The decrypted package of the running exam, if any.
pub type MediaSlot = Arc<RwLock<Option<Arc<PackageContents>>>>;

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

/// The image behind a `exammedia://localhost/PATH` URL of the running
/// instrument, with its media type; `None` for anything else (no instrument,
/// another host, not an image, not in the package).
pub fn lookup(slot: &MediaSlot, url: &str) -> Option<(Vec<u8>, &'static str)> {
    let rest = url.strip_prefix(MEDIA_SCHEME)?.strip_prefix("://localhost/")?;
    let path = percent_decode(rest.split(['?', '#']).next()?).ok()?;
    if !is_image(&path) {
        return None;
    }
    let contents = slot.read().unwrap_or_else(|p| p.into_inner()).clone()?;
    contents.media(&path).map(|(bytes, mime)| (bytes.to_vec(), mime))
}

/// Keeps `contents` for the shell (at the start of the exam).
pub fn hold(slot: &MediaSlot, contents: PackageContents) {
    *slot.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(contents));
}

/// Forgets the package (after hand-in).
pub fn release(slot: &MediaSlot) {
    *slot.write().unwrap_or_else(|p| p.into_inner()) = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_round_trip_and_only_images_are_served() {
        let url = media_url("media/schap 1 (ø).png");
        assert_eq!(url, "exammedia://localhost/media/schap%201%20%28%C3%B8%29.png");
        assert_eq!(percent_decode(url.strip_prefix("exammedia://localhost/").unwrap()).as_deref(), Ok("media/schap 1 (ø).png"));
        assert!(is_image("a/b.JPG") && is_image("x.svg") && !is_image("items/i1.xml") && !is_image("imsmanifest.xml"));
        let empty = MediaSlot::default();
        assert_eq!(lookup(&empty, &media_url("media/a.png")), None);
        assert_eq!(lookup(&empty, "https://localhost/media/a.png"), None);
        assert!(percent_decode("%4").is_err());
    }
}
