//! A screenshot of a whole X screen, read from the X server itself.
//!
//! The kiosk's screenshots are taken this way rather than with WebDriver's
//! screenshot command: WebKitWebDriver's screenshot never answers on some
//! screens (seen on the lock and receipt screens, and on every exam screen
//! once WebKit's DMA-BUF renderer is off, as the kiosk ships it; where in
//! WebKit it waits was not pinned down). The X server always has the
//! pixels. It is
//! also the truer picture: the whole screen as the student sees it, with
//! anything that is not the kiosk's web view (another window, a gap
//! around a window that is not full screen) in it too.

use x11rb::connection::Connection as _;
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, ImageOrder};

/// The pixels of a screen, 8-bit RGB, row by row.
#[derive(PartialEq, Eq)]
pub struct Capture {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// `width × height × 3` bytes.
    pub rgb: Vec<u8>,
}

/// Captures the root window of `display` (`:N`) as a PNG.
pub fn capture_png(display: &str) -> Result<Vec<u8>, String> {
    capture(display)?.to_png()
}

/// Captures the screen once its picture is still: two captures in a row
/// alike (at most `tries`), so a repaint under way is not caught half done.
pub fn capture_settled_png(display: &str, tries: usize) -> Result<Vec<u8>, String> {
    let mut last = capture(display)?;
    for _ in 1..tries {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let next = capture(display)?;
        if next == last {
            break;
        }
        last = next;
    }
    last.to_png()
}

/// Captures the root window of `display` (`:N`).
///
/// Supports the TrueColor visuals Xvfb and real X servers use (24 or 32
/// bits per pixel, 8 bits per channel); anything else is an error rather
/// than a wrong picture.
pub fn capture(display: &str) -> Result<Capture, String> {
    let (conn, screen_num) = x11rb::connect(Some(display)).map_err(|e| format!("X display {display}: {e}"))?;
    let setup = conn.setup();
    let screen = &setup.roots[screen_num];
    let (width, height) = (screen.width_in_pixels, screen.height_in_pixels);
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, screen.root, 0, 0, width, height, !0)
        .map_err(|e| format!("X GetImage: {e}"))?
        .reply()
        .map_err(|e| format!("X GetImage: {e}"))?;
    let visual = screen
        .allowed_depths
        .iter()
        .flat_map(|d| d.visuals.iter())
        .find(|v| v.visual_id == image.visual)
        .ok_or("X GetImage: the root window's visual is not listed")?;
    let format = setup
        .pixmap_formats
        .iter()
        .find(|f| f.depth == image.depth)
        .ok_or_else(|| format!("X: no pixmap format for depth {}", image.depth))?;
    let bytes_per_pixel = usize::from(format.bits_per_pixel / 8);
    if !(format.bits_per_pixel == 24 || format.bits_per_pixel == 32) {
        return Err(format!("X: {} bits per pixel is not supported", format.bits_per_pixel));
    }
    let pad = usize::from(format.scanline_pad / 8).max(1);
    let stride = (usize::from(width) * bytes_per_pixel).div_ceil(pad) * pad;
    let (width_px, height_px) = (usize::from(width), usize::from(height));
    if image.data.len() < stride * height_px {
        return Err(format!("X GetImage: {} bytes for a {width}×{height} screen", image.data.len()));
    }
    let channel = |mask: u32| -> Result<u32, String> {
        if mask.count_ones() != 8 {
            return Err(format!("X: colour mask {mask:#x} is not 8 bits"));
        }
        Ok(mask.trailing_zeros())
    };
    let (red, green, blue) = (channel(visual.red_mask)?, channel(visual.green_mask)?, channel(visual.blue_mask)?);
    let little_endian = setup.image_byte_order == ImageOrder::LSB_FIRST;

    let mut rgb = Vec::with_capacity(width_px * height_px * 3);
    for row in image.data.chunks_exact(stride).take(height_px) {
        for px in row.chunks_exact(bytes_per_pixel).take(width_px) {
            let mut word = [0u8; 4];
            word[..bytes_per_pixel].copy_from_slice(px);
            let value = if little_endian {
                u32::from_le_bytes(word)
            } else {
                u32::from_be_bytes(word) >> (8 * (4 - bytes_per_pixel))
            };
            rgb.extend([red, green, blue].map(|shift| (value >> shift) as u8));
        }
    }
    Ok(Capture { width, height, rgb })
}

impl Capture {
    /// Encodes the pixels as PNG.
    pub fn to_png(&self) -> Result<Vec<u8>, String> {
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, u32::from(self.width), u32::from(self.height));
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| format!("PNG: {e}"))?;
        writer.write_image_data(&self.rgb).map_err(|e| format!("PNG: {e}"))?;
        writer.finish().map_err(|e| format!("PNG: {e}"))?;
        Ok(png)
    }
}

#[cfg(test)]
mod tests {
    use super::capture_png;
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::{ConnectionExt as _, CreateWindowAux, WindowClass};
    use x11rb::wrapper::ConnectionExt as _;

    #[test]
    fn a_missing_display_is_a_clear_error() {
        let err = capture_png(":4711").unwrap_err();
        assert!(err.contains(":4711"), "{err}");
    }

    /// A window of a known colour on our own Xvfb comes out at its place,
    /// in its colour, and the rest of the screen does not.
    #[test]
    fn captures_what_is_on_the_screen() {
        if std::process::Command::new("Xvfb").arg("-help").output().is_err() {
            panic!("Xvfb is required: run `cargo xtask test` (it installs it)");
        }
        let display = crate::Display::start().unwrap();
        let (conn, screen_num) = x11rb::connect(Some(&display.name)).unwrap();
        let screen = &conn.setup().roots[screen_num];
        let window = conn.generate_id().unwrap();
        // An orange the root window's black or weave never has.
        let orange = 0x00ff_8000;
        conn.create_window(
            screen.root_depth,
            window,
            screen.root,
            100,
            50,
            200,
            120,
            0,
            WindowClass::INPUT_OUTPUT,
            0,
            &CreateWindowAux::new().background_pixel(orange).override_redirect(1),
        )
        .unwrap();
        conn.map_window(window).unwrap();
        conn.clear_area(false, window, 0, 0, 0, 0).unwrap();
        conn.sync().unwrap();

        let png = capture_png(&display.name).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height), (1366, 768));
        let at = |x: usize, y: usize| {
            let i = (y * info.width as usize + x) * 3;
            [pixels[i], pixels[i + 1], pixels[i + 2]]
        };
        assert_eq!(at(100, 50), [0xff, 0x80, 0x00]);
        assert_eq!(at(299, 169), [0xff, 0x80, 0x00]);
        assert_ne!(at(99, 50), [0xff, 0x80, 0x00]);
        assert_ne!(at(300, 170), [0xff, 0x80, 0x00]);
    }
}
