//! A small PDF 1.7 writer for the proces-verbaal and the access-code slips:
//! A4 pages, text and rules only, embedded TrueType fonts (DejaVu Sans,
//! which covers Dutch and most Latin, Greek and Cyrillic names; DejaVu Sans
//! Mono for the access codes on the slips).
//!
//! Why this is injection-proof by construction: every piece of text is
//! written as a hex string of glyph ids (`<0041...> Tj`), never as a PDF
//! literal string, so no character in a name or remark can end a string or
//! add an operator. The font is a Type 0 font (Identity-H) with a ToUnicode
//! map, so copying or `pdftotext` gives back the original characters.

use super::html::{Section, Signatures, Table, TITLE};
use super::proces_verbaal::ProcesVerbaal;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;

/// The embedded font (Bitstream Vera licence, `fonts/LICENSE-DejaVu.txt`).
const FONT: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");
/// The PostScript name used in the document.
const FONT_NAME: &str = "DejaVuSans";
/// The monospace font of the access codes (same family and licence).
const MONO: &[u8] = include_bytes!("fonts/DejaVuSansMono.ttf");
/// Its PostScript name.
const MONO_NAME: &str = "DejaVuSansMono";

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 42.0;
const BODY_SIZE: f32 = 9.5;
const TABLE_SIZE: f32 = 7.5;
const HEADING_SIZE: f32 = 12.5;
const TITLE_SIZE: f32 = 17.0;
const CELL_PAD: f32 = 2.5;
/// Height of a row of the signature block (room to sign).
const SIGNATURE_ROW: f32 = 34.0;
/// The most of the page width a column's widest word may claim.
const MAX_MIN_SHARE: f32 = 0.45;

/// A finished PDF document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdf(Vec<u8>);

impl Pdf {
    /// The file's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The file's bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// A font file, compressed once per process (it is the same every time).
fn compressed_font(data: &'static [u8]) -> &'static [u8] {
    static SANS: OnceLock<Vec<u8>> = OnceLock::new();
    static MONOSPACE: OnceLock<Vec<u8>> = OnceLock::new();
    let cache = if std::ptr::eq(data, MONO) { &MONOSPACE } else { &SANS };
    cache.get_or_init(|| deflate(data))
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(bytes.len() / 2), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Glyph lookup and metrics, remembering which glyphs the document uses.
struct Font<'a> {
    /// The font file.
    data: &'static [u8],
    face: ttf_parser::Face<'a>,
    units_per_em: f32,
    /// char -> (glyph id, advance in font units)
    cache: BTreeMap<char, (u16, u16)>,
    /// glyph id -> (advance, the character it shows) for the widths and ToUnicode map
    used: BTreeMap<u16, (u16, char)>,
    fallback: (u16, u16),
}

impl<'a> Font<'a> {
    fn new() -> Self {
        Self::of(FONT)
    }

    fn of(data: &'static [u8]) -> Self {
        // The fonts are compiled in and known to parse (a unit test checks it).
        let face = ttf_parser::Face::parse(data, 0).expect("the embedded font parses");
        let units_per_em = f32::from(face.units_per_em());
        let q = face.glyph_index('?').map_or(0, |g| g.0);
        let fallback = (q, face.glyph_hor_advance(ttf_parser::GlyphId(q)).unwrap_or(0));
        Self { data, face, units_per_em, cache: BTreeMap::new(), used: BTreeMap::new(), fallback }
    }

    /// The glyph and advance for `c`; characters the font lacks show as `?`.
    fn glyph(&mut self, c: char) -> (u16, u16) {
        if let Some(g) = self.cache.get(&c) {
            return *g;
        }
        let g = match self.face.glyph_index(c) {
            Some(id) if id.0 != 0 => (id.0, self.face.glyph_hor_advance(id).unwrap_or(0)),
            _ => self.fallback,
        };
        self.cache.insert(c, g);
        g
    }

    fn width(&mut self, text: &str, size: f32) -> f32 {
        let units: u32 = text.chars().map(|c| u32::from(self.glyph(c).1)).sum();
        units as f32 * size / self.units_per_em
    }

    /// `text` as a hex string of glyph ids.
    fn encode(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() * 4 + 2);
        out.push('<');
        for c in text.chars() {
            let (gid, advance) = self.glyph(c);
            let shown = if self.face.glyph_index(c).is_some_and(|g| g.0 == gid) { c } else { '?' };
            self.used.entry(gid).or_insert((advance, shown));
            let _ = write!(out, "{gid:04X}");
        }
        out.push('>');
        out
    }

    /// Splits `text` into lines no wider than `width`, at spaces only: a
    /// word that does not fit on the line goes whole to the next one. Only
    /// a word wider than a whole line is divided, at defined places (see
    /// [`Font::pieces`]). Line breaks in the text are kept; other control
    /// characters become spaces.
    fn wrap(&mut self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let paragraph: String = paragraph.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            let mut line = String::new();
            for word in paragraph.split(' ') {
                let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
                if self.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if self.width(word, size) <= width {
                    line = word.to_string();
                    continue;
                }
                for piece in self.pieces(word, size, width) {
                    let joined = format!("{line}{piece}");
                    if !line.is_empty() && self.width(&joined, size) > width {
                        lines.push(std::mem::replace(&mut line, piece));
                    } else {
                        line = joined;
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// A word wider than a line, in pieces that each fit: first after a
    /// hyphen, slash, underscore, full stop, comma, colon, semicolon or
    /// arrow (`ABCD-` `EFGH`); a piece still too wide in groups of
    /// [`GROUP`] characters counted from its start (as hashes are printed);
    /// only a group wider than the whole line (a column of a few
    /// millimetres) in single characters.
    fn pieces(&mut self, word: &str, size: f32, width: f32) -> Vec<String> {
        let mut segments = Vec::new();
        let mut current = String::new();
        for c in word.chars() {
            current.push(c);
            if BREAK_AFTER.contains(&c) {
                segments.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            segments.push(current);
        }
        let mut out = Vec::new();
        for segment in segments {
            if self.width(&segment, size) <= width {
                out.push(segment);
                continue;
            }
            let chars: Vec<char> = segment.chars().collect();
            for group in chars.chunks(GROUP) {
                let group: String = group.iter().collect();
                if self.width(&group, size) <= width {
                    out.push(group);
                } else {
                    out.extend(group.chars().map(String::from));
                }
            }
        }
        out
    }

    /// The widest word of `text` (the narrowest a column can be without
    /// dividing a word).
    fn widest_word(&mut self, text: &str, size: f32) -> f32 {
        text.split(['\n', ' ']).map(|w| self.width(w, size)).fold(0.0, f32::max)
    }
}

/// Where [`Font::pieces`] may divide a word that is wider than a line.
const BREAK_AFTER: &[char] = &['-', '/', '_', '.', ',', ':', ';', '→'];
/// The group size for dividing a word without such a place (hashes are printed in groups of eight).
const GROUP: usize = 8;

/// Lays out pages: a cursor from the top, a new page when the next block does not fit.
struct Layout<'a> {
    font: Font<'a>,
    pages: Vec<String>,
    y: f32,
    footer: String,
    in_appendix: bool,
}

impl<'a> Layout<'a> {
    fn new(footer: String) -> Self {
        let mut layout = Self { font: Font::new(), pages: Vec::new(), y: 0.0, footer, in_appendix: false };
        layout.new_page();
        layout
    }

    fn new_page(&mut self) {
        self.pages.push(String::new());
        self.y = PAGE_HEIGHT - MARGIN;
    }

    fn ensure(&mut self, height: f32) {
        if self.y - height < MARGIN + 14.0 {
            self.new_page();
        }
    }

    fn page(&mut self) -> &mut String {
        // There is always a page: `new` creates the first one.
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn text_at(&mut self, x: f32, baseline: f32, size: f32, text: &str) {
        let encoded = self.font.encode(text);
        let _ = writeln!(self.page(), "BT /F1 {size:.2} Tf {x:.2} {baseline:.2} Td {encoded} Tj ET");
    }

    fn paragraph(&mut self, text: &str, size: f32, gap_after: f32) {
        let leading = size * 1.3;
        for line in self.font.wrap(text, size, PAGE_WIDTH - 2.0 * MARGIN) {
            self.ensure(leading);
            self.y -= leading;
            self.text_at(MARGIN, self.y + size * 0.25, size, &line);
        }
        self.y -= gap_after;
    }

    fn heading(&mut self, text: &str) {
        self.ensure(HEADING_SIZE * 4.0);
        self.y -= HEADING_SIZE * 0.8;
        self.paragraph(text, HEADING_SIZE, 2.0);
        let y = self.y;
        let _ = writeln!(self.page(), "0.5 w {MARGIN:.2} {y:.2} m {:.2} {y:.2} l S", PAGE_WIDTH - MARGIN);
        self.y -= 5.0;
    }

    /// Column widths: in proportion to `table.widths`, but each column at
    /// least as wide as its widest word (up to [`MAX_MIN_SHARE`] of the page),
    /// so no word is divided where the page has room for it.
    fn column_widths(&mut self, table: &Table) -> Vec<f32> {
        let usable = PAGE_WIDTH - 2.0 * MARGIN;
        let columns = table.widths.len();
        let mut min = vec![0.0f32; columns];
        for (i, m) in min.iter_mut().enumerate() {
            let header = table.headers.get(i).map_or(0.0, |h| self.font.widest_word(h, TABLE_SIZE));
            let cells = table.rows.iter().filter_map(|r| r.get(i)).map(|c| self.font.widest_word(c, TABLE_SIZE)).fold(0.0, f32::max);
            *m = (header.max(cells) + 2.0 * CELL_PAD + 0.5).min(usable * MAX_MIN_SHARE);
        }
        if min.iter().sum::<f32>() > usable {
            let scale = usable / min.iter().sum::<f32>();
            return min.iter().map(|m| m * scale).collect();
        }
        // Columns below their minimum get it; the rest share what is left in proportion.
        let mut fixed = vec![false; columns];
        loop {
            let left = usable - min.iter().zip(&fixed).filter(|(_, f)| **f).map(|(m, _)| m).sum::<f32>();
            let share: u32 = table.widths.iter().zip(&fixed).filter(|(_, f)| !**f).map(|(w, _)| *w).sum();
            let widths: Vec<f32> = (0..columns)
                .map(|i| if fixed[i] { min[i] } else { table.widths[i] as f32 / share.max(1) as f32 * left })
                .collect();
            let mut changed = false;
            for i in 0..columns {
                if !fixed[i] && widths[i] < min[i] {
                    fixed[i] = true;
                    changed = true;
                }
            }
            if !changed {
                return widths;
            }
        }
    }

    /// The height of a table's header and first row: what must fit below
    /// whatever comes just before it.
    fn table_start_height(&mut self, table: &Table) -> f32 {
        let widths = self.column_widths(table);
        let headers: Vec<String> = table.headers.iter().map(|h| (*h).to_string()).collect();
        let (_, header_height) = self.wrap_row(&headers, &widths);
        let first_height = table.rows.first().map_or(0.0, |row| self.wrap_row(row, &widths).1);
        header_height + first_height
    }

    fn table(&mut self, table: &Table) {
        let widths = self.column_widths(table);
        let headers: Vec<String> = table.headers.iter().map(|h| (*h).to_string()).collect();
        // Never leave a header alone at the foot of a page.
        let (_, header_height) = self.wrap_row(&headers, &widths);
        let start = self.table_start_height(table);
        self.ensure(start.min(PAGE_HEIGHT - 2.0 * MARGIN - 14.0));
        self.row(&headers, &widths, true);
        for row in &table.rows {
            let (mut cells, mut height) = self.wrap_row(row, &widths);
            // A row taller than what is left goes on a new page; taller than
            // a whole page, it continues there (nothing is cut off).
            loop {
                if self.y - height >= MARGIN + 14.0 {
                    self.draw_row(&cells, &widths, height, false);
                    break;
                }
                let fresh = (self.y - MARGIN - 14.0 - 2.0 * CELL_PAD) / (TABLE_SIZE * 1.25);
                if height > PAGE_HEIGHT - 2.0 * MARGIN - 14.0 - header_height && fresh >= 3.0 {
                    let fit = fresh as usize;
                    let rest: Vec<Vec<String>> = cells.iter_mut().map(|c| c.split_off(fit.min(c.len()))).collect();
                    self.draw_row(&cells, &widths, fit as f32 * TABLE_SIZE * 1.25 + 2.0 * CELL_PAD, false);
                    let lines = rest.iter().map(Vec::len).max().unwrap_or(0);
                    cells = rest;
                    height = lines as f32 * TABLE_SIZE * 1.25 + 2.0 * CELL_PAD;
                }
                self.new_page();
                self.row(&headers, &widths, true);
            }
        }
        self.y -= 6.0;
    }

    fn wrap_row(&mut self, row: &[String], widths: &[f32]) -> (Vec<Vec<String>>, f32) {
        let cells: Vec<Vec<String>> =
            row.iter().zip(widths).map(|(cell, w)| self.font.wrap(cell, TABLE_SIZE, w - 2.0 * CELL_PAD)).collect();
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        (cells, lines as f32 * TABLE_SIZE * 1.25 + 2.0 * CELL_PAD)
    }

    fn row(&mut self, row: &[String], widths: &[f32], header: bool) {
        let (cells, height) = self.wrap_row(row, widths);
        self.ensure(height);
        self.draw_row(&cells, widths, height, header);
    }

    fn draw_row(&mut self, cells: &[Vec<String>], widths: &[f32], height: f32, header: bool) {
        let top = self.y;
        let mut x = MARGIN;
        for (lines, w) in cells.iter().zip(widths) {
            if header {
                let _ = writeln!(self.page(), "0.9 g {x:.2} {:.2} {w:.2} {height:.2} re f 0 g", top - height);
            }
            let _ = writeln!(self.page(), "0.4 w {x:.2} {:.2} {w:.2} {height:.2} re S", top - height);
            let mut baseline = top - CELL_PAD - TABLE_SIZE;
            for line in lines {
                self.text_at(x + CELL_PAD, baseline, TABLE_SIZE, line);
                baseline -= TABLE_SIZE * 1.25;
            }
            x += w;
        }
        self.y = top - height;
    }

    fn section(&mut self, section: &Section) {
        if section.appendix && !self.in_appendix {
            self.in_appendix = true;
            self.new_page();
        }
        if let Some(sig) = &section.signatures {
            // The signature block stays with its heading and text on one page.
            let lines: usize = section.paragraphs.iter().map(|p| self.font.wrap(&p.text, BODY_SIZE, PAGE_WIDTH - 2.0 * MARGIN).len()).sum();
            let height = HEADING_SIZE * 3.0 + lines as f32 * BODY_SIZE * 1.3 + TABLE_SIZE * 1.25 + 2.0 * CELL_PAD + SIGNATURE_ROW * sig.people.len() as f32 + 60.0;
            self.ensure(height.min(PAGE_HEIGHT - 2.0 * MARGIN - 14.0));
        }
        if let Some(table) = section.table.as_ref().filter(|_| section.facts.is_empty() && section.paragraphs.is_empty()) {
            // A heading right above a table goes with the table's first row
            // (the rehearsal's proces-verbaal ended a page on a bare heading).
            let height = HEADING_SIZE * 3.0 + self.table_start_height(table);
            self.ensure(height.min(PAGE_HEIGHT - 2.0 * MARGIN - 14.0));
        }
        self.heading(&section.title);
        self.facts(&section.facts);
        for p in &section.paragraphs {
            let text = if p.alert { format!("!! {}", p.text) } else { p.text.clone() };
            self.paragraph(&text, BODY_SIZE, 2.0);
        }
        if let Some(table) = &section.table {
            self.table(table);
        }
        if let Some(signatures) = &section.signatures {
            self.signatures(signatures);
        }
    }

    /// Label and value lines: labels in a column as wide as the longest.
    fn facts(&mut self, facts: &[(&'static str, String)]) {
        if facts.is_empty() {
            return;
        }
        let usable = PAGE_WIDTH - 2.0 * MARGIN;
        let label_width = facts.iter().map(|(l, _)| self.font.width(&format!("{l}:"), BODY_SIZE)).fold(0.0, f32::max).min(usable * 0.35) + 8.0;
        let leading = BODY_SIZE * 1.3;
        for (label, value) in facts {
            let labels = self.font.wrap(&format!("{label}:"), BODY_SIZE, label_width - 8.0);
            let values = self.font.wrap(value, BODY_SIZE, usable - label_width);
            for i in 0..labels.len().max(values.len()) {
                self.ensure(leading);
                self.y -= leading;
                let baseline = self.y + BODY_SIZE * 0.25;
                if let Some(l) = labels.get(i) {
                    self.text_at(MARGIN, baseline, BODY_SIZE, l);
                }
                if let Some(v) = values.get(i) {
                    self.text_at(MARGIN + label_width, baseline, BODY_SIZE, v);
                }
            }
        }
        self.y -= 4.0;
    }

    /// The signature block: per person a row with name, role and a box to
    /// sign in; then lines for place and date. Kept on one page.
    fn signatures(&mut self, sig: &Signatures) {
        let usable = PAGE_WIDTH - 2.0 * MARGIN;
        let widths = [usable * 0.34, usable * 0.26, usable * 0.40];
        let row = SIGNATURE_ROW;
        let header = TABLE_SIZE * 1.25 + 2.0 * CELL_PAD;
        self.ensure(header + row * sig.people.len() as f32 + 60.0);
        let headers = ["Naam".to_string(), "Functie".to_string(), "Handtekening".to_string()];
        self.row(&headers, &widths, true);
        for (name, role) in &sig.people {
            let cells: Vec<Vec<String>> = vec![
                self.font.wrap(name, BODY_SIZE, widths[0] - 2.0 * CELL_PAD),
                self.font.wrap(role, TABLE_SIZE, widths[1] - 2.0 * CELL_PAD),
                Vec::new(),
            ];
            let top = self.y;
            let mut x = MARGIN;
            for (i, (lines, w)) in cells.iter().zip(widths).enumerate() {
                let _ = writeln!(self.page(), "0.4 w {x:.2} {:.2} {w:.2} {row:.2} re S", top - row);
                let size = if i == 0 { BODY_SIZE } else { TABLE_SIZE };
                let mut baseline = top - CELL_PAD - size;
                for line in lines {
                    self.text_at(x + CELL_PAD, baseline, size, line);
                    baseline -= size * 1.25;
                }
                x += w;
            }
            self.y = top - row;
        }
        self.y -= 22.0;
        let baseline = self.y;
        let place = if sig.place.is_empty() { "Plaats:".to_string() } else { format!("Plaats: {}", sig.place) };
        let date = if sig.date.is_empty() { "Datum:".to_string() } else { format!("Datum: {}", sig.date) };
        self.text_at(MARGIN, baseline, BODY_SIZE, &place);
        let x1 = MARGIN + self.font.width(&place, BODY_SIZE) + 4.0;
        let _ = writeln!(self.page(), "0.5 w {x1:.2} {:.2} m {:.2} {:.2} l S", baseline - 2.0, MARGIN + usable * 0.45, baseline - 2.0);
        let dx = MARGIN + usable * 0.52;
        self.text_at(dx, baseline, BODY_SIZE, &date);
        let x2 = dx + self.font.width(&date, BODY_SIZE) + 4.0;
        let _ = writeln!(self.page(), "0.5 w {x2:.2} {:.2} m {:.2} {:.2} l S", baseline - 2.0, MARGIN + usable, baseline - 2.0);
        self.y -= 10.0;
    }

    /// Adds page numbers and the footer, then returns the content streams.
    fn finish(mut self) -> (Font<'a>, Vec<String>) {
        let count = self.pages.len();
        for i in 0..count {
            let text = format!("{} — pagina {} van {count}", self.footer, i + 1);
            let encoded = self.font.encode(&text);
            let _ = writeln!(self.pages[i], "BT /F1 7 Tf {MARGIN:.2} {:.2} Td {encoded} Tj ET", MARGIN - 14.0);
        }
        (self.font, self.pages)
    }
}

/// UTF-16BE hex string with BOM, for document information text.
fn utf16_hex(text: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

/// Assembles numbered objects into a file with a cross-reference table.
struct Writer {
    out: Vec<u8>,
    offsets: Vec<usize>,
}

impl Writer {
    fn object(&mut self, id: usize, dict: &str, stream: Option<&[u8]>) {
        debug_assert_eq!(id, self.offsets.len() + 1, "objects are written in order");
        self.offsets.push(self.out.len());
        let _ = write!(self.out, "{id} 0 obj\n{dict}\n");
        if let Some(data) = stream {
            self.out.extend_from_slice(b"stream\n");
            self.out.extend_from_slice(data);
            self.out.extend_from_slice(b"\nendstream\n");
        }
        self.out.extend_from_slice(b"endobj\n");
    }

    /// The cross-reference table and trailer; `info` is the information object.
    fn finish(mut self, info: usize) -> Pdf {
        let xref = self.out.len();
        let _ = write!(self.out, "xref\n0 {}\n0000000000 65535 f \n", self.offsets.len() + 1);
        for offset in &self.offsets {
            let _ = writeln!(self.out, "{offset:010} 00000 n ");
        }
        let _ = write!(self.out, "trailer\n<< /Size {} /Root 1 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n%%EOF\n", self.offsets.len() + 1);
        Pdf(self.out)
    }
}

/// Renders the proces-verbaal as a PDF.
pub(crate) fn render(pv: &ProcesVerbaal) -> Pdf {
    let mut layout = Layout::new(pv.footer());
    layout.paragraph(TITLE, TITLE_SIZE, 2.0);
    layout.paragraph(&pv.subtitle(), BODY_SIZE + 1.5, 6.0);
    for section in pv.sections() {
        layout.section(&section);
    }
    let (font, pages) = layout.finish();

    // Objects: 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor,
    // 6 font file, 7 ToUnicode, 8 info, then per page: page, content.
    let mut w = Writer { out: Vec::with_capacity(compressed_font(FONT).len() + 64 * 1024), offsets: Vec::new() };
    w.out.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
    let first_page = 9;
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", first_page + 2 * i)).collect();
    w.object(1, "<< /Type /Catalog /Pages 2 0 R /Lang (nl-NL) >>", None);
    w.object(2, &format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()), None);
    write_font(&mut w, 3, &font, FONT_NAME);
    w.object(
        8,
        &format!(
            "<< /Title {} /Producer (exam-hub) /CreationDate ({}) >>",
            utf16_hex(&format!("Proces-verbaal {}", pv.sitting_id)),
            pdf_date(pv.generated_ms)
        ),
        None,
    );
    for (i, content) in pages.iter().enumerate() {
        let page_id = first_page + 2 * i;
        w.object(
            page_id,
            &format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                page_id + 1
            ),
            None,
        );
        let data = deflate(content.as_bytes());
        w.object(page_id + 1, &format!("<< /Length {} /Filter /FlateDecode >>", data.len()), Some(&data));
    }
    w.finish(8)
}

/// Writes a font as five objects from `base`: the Type 0 font, its CID
/// font, the descriptor, the (compressed) font file and the ToUnicode map.
fn write_font(w: &mut Writer, base: usize, font: &Font<'_>, name: &str) {
    let (cid, descriptor, file, to_unicode_id) = (base + 1, base + 2, base + 3, base + 4);
    w.object(
        base,
        &format!("<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H /DescendantFonts [{cid} 0 R] /ToUnicode {to_unicode_id} 0 R >>"),
        None,
    );
    let scale = 1000.0 / font.units_per_em;
    let mut widths = String::new();
    for (gid, (advance, _)) in &font.used {
        let _ = write!(widths, "{gid} [{}] ", (f32::from(*advance) * scale).round() as i64);
    }
    w.object(
        cid,
        &format!(
            "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> \
             /FontDescriptor {descriptor} 0 R /CIDToGIDMap /Identity /DW {} /W [{widths}] >>",
            (f32::from(font.fallback.1) * scale).round() as i64
        ),
        None,
    );
    let face = &font.face;
    let bbox = face.global_bounding_box();
    let s = |v: i16| (f32::from(v) * scale).round() as i64;
    let flags = if face.is_monospaced() { 33 } else { 32 };
    w.object(
        descriptor,
        &format!(
            "<< /Type /FontDescriptor /FontName /{name} /Flags {flags} /FontBBox [{} {} {} {}] /ItalicAngle 0 /Ascent {} /Descent {} \
             /CapHeight {} /StemV 80 /FontFile2 {file} 0 R >>",
            s(bbox.x_min),
            s(bbox.y_min),
            s(bbox.x_max),
            s(bbox.y_max),
            s(face.ascender()),
            s(face.descender()),
            s(face.capital_height().unwrap_or(face.ascender()))
        ),
        None,
    );
    let font_file = compressed_font(font.data);
    w.object(file, &format!("<< /Length {} /Length1 {} /Filter /FlateDecode >>", font_file.len(), font.data.len()), Some(font_file));
    let cmap = to_unicode(&font.used);
    let cmap = deflate(cmap.as_bytes());
    w.object(to_unicode_id, &format!("<< /Length {} /Filter /FlateDecode >>", cmap.len()), Some(&cmap));
}

/// One access-code slip, its text ready (in Dutch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlipText {
    /// Slips of another group (a sitting) start on a new sheet.
    pub group: String,
    /// The student's name, at the top.
    pub name: String,
    /// Label and value lines (studentnummer, examen, lokaal, ...).
    pub rows: Vec<(String, String)>,
    /// The label above the code.
    pub code_label: String,
    /// The access code, in the monospace font.
    pub code: String,
    /// The instruction at the foot of the slip.
    pub instruction: String,
}

/// Slips per row and rows per sheet: eight slips on an A4 sheet.
const SLIP_COLUMNS: usize = 2;
const SLIP_ROWS: usize = 4;
const SLIP_MARGIN: f32 = 28.0;
const SLIP_PAD: f32 = 11.0;
const SLIP_NAME_SIZE: f32 = 12.5;
const SLIP_CODE_SIZE: f32 = 24.0;
/// Body sizes tried, largest first, until the slip's text fits.
const SLIP_BODY_SIZES: [f32; 6] = [8.5, 8.0, 7.5, 7.0, 6.5, 6.0];

/// The size of one slip (width, height).
fn slip_size() -> (f32, f32) {
    ((PAGE_WIDTH - 2.0 * SLIP_MARGIN) / SLIP_COLUMNS as f32, (PAGE_HEIGHT - 2.0 * SLIP_MARGIN) / SLIP_ROWS as f32)
}

/// A slip laid out at one body size: lines with their font, size and place.
struct SlipLines {
    /// (x offset, y offset from the slip's top, size, monospace, grey, text)
    texts: Vec<(f32, f32, f32, bool, bool, String)>,
    /// The code's box: (x offset, y offset of its top, width, height).
    code_box: (f32, f32, f32, f32),
    /// The height used.
    height: f32,
}

fn lay_out_slip(sans: &mut Font<'_>, mono: &mut Font<'_>, slip: &SlipText, size: f32) -> SlipLines {
    let (width, _) = slip_size();
    let inner = width - 2.0 * SLIP_PAD;
    let mut texts = Vec::new();
    let mut y = SLIP_PAD;
    for line in sans.wrap(&slip.name, SLIP_NAME_SIZE, inner) {
        y += SLIP_NAME_SIZE * 1.15;
        texts.push((SLIP_PAD, y, SLIP_NAME_SIZE, false, false, line));
    }
    y += 3.0;
    let label_width = slip.rows.iter().map(|(l, _)| l).chain([&slip.code_label]).map(|l| sans.width(l, size)).fold(0.0, f32::max) + 6.0;
    for (label, value) in &slip.rows {
        let lines = sans.wrap(value, size, inner - label_width);
        for (i, line) in lines.into_iter().enumerate() {
            y += size * 1.22;
            if i == 0 {
                texts.push((SLIP_PAD, y, size, false, true, label.clone()));
            }
            texts.push((SLIP_PAD + label_width, y, size, false, false, line));
        }
    }
    // The code in its box, aligned with the values, its label beside it.
    let box_top = y + size * 0.8;
    let box_height = SLIP_CODE_SIZE * 1.3;
    let box_x = SLIP_PAD + label_width;
    texts.push((SLIP_PAD, box_top + box_height / 2.0 + size * 0.35, size, false, true, slip.code_label.clone()));
    let code_width = mono.width(&slip.code, SLIP_CODE_SIZE);
    texts.push((box_x + 8.0, box_top + SLIP_CODE_SIZE, SLIP_CODE_SIZE, true, false, slip.code.clone()));
    y = box_top + box_height + 2.0;
    let small = size - 0.5;
    for line in sans.wrap(&slip.instruction, small, inner) {
        y += small * 1.22;
        texts.push((SLIP_PAD, y, small, false, false, line));
    }
    SlipLines { texts, code_box: (box_x, box_top, code_width + 16.0, box_height), height: y + SLIP_PAD * 0.4 }
}

/// Renders access-code slips: eight per A4 sheet with dashed cut lines;
/// each group (sitting) starts on a new sheet. The body text is made
/// smaller, down to 6 pt, when a slip's text would not fit — on every
/// slip alike, so they all look the same.
pub(crate) fn render_slips(slips: &[SlipText], title: &str, footer: &str, created_ms: i64) -> Pdf {
    let mut sans = Font::new();
    let mut mono = Font::of(MONO);
    let (width, height) = slip_size();
    let per_page = SLIP_COLUMNS * SLIP_ROWS;
    // Sheets: slips of one group together, a new sheet for the next group.
    let mut sheets: Vec<Vec<&SlipText>> = Vec::new();
    for slip in slips {
        match sheets.last_mut() {
            Some(sheet) if sheet.len() < per_page && sheet[0].group == slip.group => sheet.push(slip),
            _ => sheets.push(vec![slip]),
        }
    }
    if sheets.is_empty() {
        sheets.push(Vec::new());
    }
    let size = SLIP_BODY_SIZES
        .into_iter()
        .find(|size| slips.iter().all(|slip| lay_out_slip(&mut sans, &mut mono, slip, *size).height <= height))
        .unwrap_or(SLIP_BODY_SIZES[SLIP_BODY_SIZES.len() - 1]);
    let count = sheets.len();
    let mut pages = Vec::with_capacity(count);
    for (index, sheet) in sheets.iter().enumerate() {
        let mut page = String::new();
        let top = PAGE_HEIGHT - SLIP_MARGIN;
        // Cut lines: around and between the slips of this sheet.
        let rows = sheet.len().div_ceil(SLIP_COLUMNS).max(1);
        let bottom = top - rows as f32 * height;
        let _ = writeln!(page, "q [4 3] 0 d 0.5 w 0.45 G");
        for r in 0..=rows {
            let y = top - r as f32 * height;
            let _ = writeln!(page, "{SLIP_MARGIN:.2} {y:.2} m {:.2} {y:.2} l S", PAGE_WIDTH - SLIP_MARGIN);
        }
        for c in 0..=SLIP_COLUMNS {
            let x = SLIP_MARGIN + c as f32 * width;
            let _ = writeln!(page, "{x:.2} {top:.2} m {x:.2} {bottom:.2} l S");
        }
        let _ = writeln!(page, "Q");
        for r in 0..=rows {
            let y = top - r as f32 * height;
            let encoded = sans.encode("\u{2702}");
            let _ = writeln!(page, "BT /F1 9 Tf {:.2} {:.2} Td {encoded} Tj ET", SLIP_MARGIN - 13.0, y - 3.2);
        }
        for (i, slip) in sheet.iter().enumerate() {
            let x0 = SLIP_MARGIN + (i % SLIP_COLUMNS) as f32 * width;
            let y0 = top - (i / SLIP_COLUMNS) as f32 * height;
            let laid = lay_out_slip(&mut sans, &mut mono, slip, size);
            let (box_x, box_top, box_width, box_height) = laid.code_box;
            let _ = writeln!(page, "0.93 g {:.2} {:.2} {box_width:.2} {box_height:.2} re f 0 g", x0 + box_x, y0 - box_top - box_height);
            for (dx, dy, size, monospace, grey, text) in &laid.texts {
                let (font, encoded) = if *monospace { ("F2", mono.encode(text)) } else { ("F1", sans.encode(text)) };
                let colour = if *grey { "0.35 g " } else { "" };
                let _ = writeln!(page, "BT {colour}/{font} {size:.2} Tf {:.2} {:.2} Td {encoded} Tj ET{}", x0 + dx, y0 - dy, if *grey { " 0 g" } else { "" });
            }
        }
        let text = format!("{footer} — blad {} van {count}", index + 1);
        let encoded = sans.encode(&text);
        let _ = writeln!(page, "BT /F1 7 Tf {SLIP_MARGIN:.2} {:.2} Td {encoded} Tj ET", SLIP_MARGIN - 16.0);
        pages.push(page);
    }

    // Objects: 1 catalog, 2 pages, 3-7 sans, 8-12 mono, 13 info, then per page: page, content.
    let mut w = Writer { out: Vec::with_capacity(compressed_font(FONT).len() + compressed_font(MONO).len() + 64 * 1024), offsets: Vec::new() };
    w.out.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
    let first_page = 14;
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", first_page + 2 * i)).collect();
    w.object(1, "<< /Type /Catalog /Pages 2 0 R /Lang (nl-NL) >>", None);
    w.object(2, &format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()), None);
    write_font(&mut w, 3, &sans, FONT_NAME);
    write_font(&mut w, 8, &mono, MONO_NAME);
    w.object(13, &format!("<< /Title {} /Producer (exam-hub) /CreationDate ({}) >>", utf16_hex(title), pdf_date(created_ms)), None);
    for (i, content) in pages.iter().enumerate() {
        let page_id = first_page + 2 * i;
        w.object(
            page_id,
            &format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] /Resources << /Font << /F1 3 0 R /F2 8 0 R >> >> /Contents {} 0 R >>",
                page_id + 1
            ),
            None,
        );
        let data = deflate(content.as_bytes());
        w.object(page_id + 1, &format!("<< /Length {} /Filter /FlateDecode >>", data.len()), Some(&data));
    }
    w.finish(13)
}

/// The ToUnicode CMap: glyph id -> the character it shows.
fn to_unicode(used: &BTreeMap<u16, (u16, char)>) -> String {
    let mut out = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<_> = used.iter().collect();
    for chunk in entries.chunks(100) {
        let _ = writeln!(out, "{} beginbfchar", chunk.len());
        for (gid, (_, c)) in chunk {
            let mut units = [0u16; 2];
            let hex: String = c.encode_utf16(&mut units).iter().map(|u| format!("{u:04X}")).collect();
            let _ = writeln!(out, "<{gid:04X}> <{hex}>");
        }
        out.push_str("endbfchar\n");
    }
    out.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    out
}

/// A PDF date string, `D:YYYYMMDDHHmmSSZ`.
fn pdf_date(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(time::macros::format_description!("D:[year][month][day][hour][minute][second]Z")).ok())
        .unwrap_or_else(|| "D:19700101000000Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_parses_and_covers_dutch_text() {
        let mut font = Font::new();
        for c in "àáâäèéêëïíóöúüçñ€ĳ ÀÉËÏÖÜ'\"<>&\\()".chars() {
            assert!(font.face.glyph_index(c).is_some(), "the font lacks {c:?}");
        }
        assert!(font.width("Proces-verbaal", 10.0) > 10.0);
    }

    #[test]
    fn a_row_taller_than_a_page_continues_on_the_next() {
        let long: String = (0..1500).map(|i| format!("regel{i} ")).collect();
        let mut layout = Layout::new("test".into());
        layout.table(&Table { headers: vec!["A", "B"], rows: vec![vec!["kort".into(), long.clone()]], widths: vec![1, 1] });
        let (mut font, pages) = layout.finish();
        assert!(pages.len() >= 2, "{} pages", pages.len());
        let all: String = pages.concat();
        for word in ["regel0", "regel750", "regel1499"] {
            let encoded = font.encode(word);
            assert!(all.contains(&encoded[1..encoded.len() - 1]), "{word} is missing");
        }
        for page in &pages {
            for line in page.lines().filter(|l| l.contains(" Td ")) {
                let y: f32 = line.split_whitespace().nth(5).unwrap().parse().unwrap();
                assert!((MARGIN - 14.0 - 0.01..=PAGE_HEIGHT).contains(&y), "text outside the page at y={y}");
            }
        }
    }

    #[test]
    fn wrapping_keeps_every_character_and_fits_the_width() {
        let mut font = Font::new();
        let text = "Een heel lang woord: Kwaliteitszorgmedewerkersbijeenkomstenverslagen en nog wat tekst\nnieuwe regel";
        let lines = font.wrap(text, 10.0, 80.0);
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(font.width(line, 10.0) <= 80.0 + 0.01 || line.chars().count() == 1, "{line:?} is too wide");
        }
        let joined: String = lines.concat().chars().filter(|c| !c.is_whitespace()).collect();
        let original: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(joined, original);
    }

    /// Issue 17: "netwerkonde/rbreking", receipt codes cut in two. Every
    /// word that fits on a line stays whole on one line, whatever the width.
    #[test]
    fn no_word_that_fits_a_line_is_divided() {
        let mut font = Font::new();
        let words = [
            "netwerkonderbreking", "omgevingsbevinding", "ABCD-EFGH", "7K2M-9XQP", "ingeleverd", "Bewijscode", "lokaal-pc-07",
            "16:12:05", "3f5c1a2b", "beëindigd", "Zoë", "(telt", "niet)", "→", "a", "de", "examencommissie",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..400 {
            let count = 1 + next(30);
            let text: Vec<&str> = (0..count).map(|_| words[next(words.len())]).collect();
            let text = text.join(" ");
            let size = [7.5, 9.5][next(2)];
            let widest = text.split(' ').map(|w| font.width(w, size)).fold(0.0, f32::max);
            let width = widest + next(200) as f32;
            let lines = font.wrap(&text, size, width);
            for line in &lines {
                assert!(font.width(line, size) <= width + 0.01, "{line:?} wider than {width}");
                assert!(!line.starts_with(' ') && !line.ends_with(' '), "{line:?}");
            }
            // Joined at the breaks with a space, the lines are the text: every break was a space.
            assert_eq!(lines.join(" "), text, "at width {width}");
        }
    }

    /// A word wider than the whole line is divided only after a hyphen (and
    /// the like) or in groups of eight characters, never anywhere else.
    #[test]
    fn a_word_wider_than_the_line_is_divided_at_defined_places() {
        let mut font = Font::new();
        let code = "ABCD-EFGH";
        let width = font.width("ABCD-", 9.5) + 1.0;
        assert_eq!(font.wrap(code, 9.5, width), vec!["ABCD-", "EFGH"]);
        let hash = "3f5c1a2b9d0e4f1177aa55cc33ee0011";
        let sixteen = font.width("3f5c1a2b9d0e4f11", 7.5).max(font.width("77aa55cc33ee0011", 7.5)) + 1.0;
        let lines = font.wrap(hash, 7.5, sixteen);
        assert_eq!(lines, vec!["3f5c1a2b9d0e4f11", "77aa55cc33ee0011"]);
        let eight = ["3f5c1a2b", "9d0e4f11", "77aa55cc", "33ee0011"].iter().map(|g| font.width(g, 7.5)).fold(0.0, f32::max) + 1.0;
        let lines = font.wrap(hash, 7.5, eight);
        assert_eq!(lines, vec!["3f5c1a2b", "9d0e4f11", "77aa55cc", "33ee0011"]);
        for line in &lines {
            assert_eq!(line.len() % GROUP, 0, "{line:?}");
        }
    }

    /// A slip with a long name and every accommodation still fits its
    /// box (the body text gets smaller), and no line runs past its edge.
    #[test]
    fn a_slip_with_long_text_stays_inside_its_box() {
        let (width, height) = slip_size();
        let slip = SlipText {
            group: "S".into(),
            name: "Maria-Fernanda Alexandra van der Berg-de Vries-Çelik Yılmaz-Öztürk".into(),
            rows: vec![
                ("Studentnummer".into(), "123456789012".into()),
                ("Examen".into(), "Verkoop en klantcontact in de detailhandel niveau 2, keuzedeel (VK2-KT1-2027/B)".into()),
                ("Zitting".into(), "VK2-2027-06-14-ochtend".into()),
                ("Lokaal".into(), "B1.12 (vleugel B, tweede verdieping)".into()),
                ("Datum".into(), "woensdag 30 september 2027".into()),
                ("Tijd".into(), "09:00 tot 12:00".into()),
                (
                    "Voorzieningen".into(),
                    "60 minuten extra tijd (tot 13:00), voorleessoftware, spellingcontrole, woordenboek, rekenmachine, schermlezer, \
                     vergrootsoftware, extra grote letters, hoog contrast"
                        .into(),
                ),
            ],
            code_label: "Toegangscode".into(),
            code: "ABCD-EFGH".into(),
            instruction: super::super::code_slips::INSTRUCTION.into(),
        };
        let mut sans = Font::new();
        let mut mono = Font::of(MONO);
        let laid = SLIP_BODY_SIZES.iter().map(|size| lay_out_slip(&mut sans, &mut mono, &slip, *size)).find(|l| l.height <= height);
        let laid = laid.expect("fits at one of the sizes");
        for (x, y, size, monospace, _, text) in &laid.texts {
            let w = if *monospace { mono.width(text, *size) } else { sans.width(text, *size) };
            assert!(x + w <= width - SLIP_PAD + 0.01, "{text:?} runs past the edge");
            assert!(*y <= height, "{text:?} below the slip");
        }
        let (box_x, _, box_width, _) = laid.code_box;
        assert!(box_x + box_width <= width - SLIP_PAD + 0.01, "the code's box runs past the edge");
        // The mono font is monospaced, and the code's characters are all in it.
        assert!(mono.face.is_monospaced());
        for c in "23456789ABCDEFGHJKMNPQRSTUVWXYZ-".chars() {
            assert!(mono.face.glyph_index(c).is_some(), "{c}");
        }
        assert!(sans.face.glyph_index('\u{2702}').is_some(), "scissors on the cut lines");
    }

    /// A heading right above a table never stays alone at the foot of a
    /// page (the rehearsal's proces-verbaal ended page 2 on "6. Logboeken
    /// van de pc's" with its table on page 3): with room for the heading but
    /// not for the table's first row, both go to the next page.
    #[test]
    fn a_heading_goes_with_its_table() {
        let mut layout = Layout::new("test".into());
        let row = |n: usize| vec![format!("pc-{n:02}"), "3 records ontvangen en bij aankomst gecontroleerd (handtekeningen, epoch-certificaten, hashketen, volgnummers). Nog geen checkpoint ontvangen: afkappen van het einde is niet uit te sluiten.".into()];
        let table = Table { headers: vec!["Pc", "Verklaring van de examenserver"], rows: (1..=3).map(row).collect(), widths: vec![15, 85] };
        let table_again = Table { headers: table.headers.clone(), rows: table.rows.clone(), widths: table.widths.clone() };
        let mut section = super::super::html::Section::new("logboeken", "6. Logboeken van de pc's");
        section.table = Some(table_again);
        // Room for the heading (and more), not for the heading and the first row.
        let start = layout.table_start_height(&table);
        layout.y = MARGIN + 14.0 + HEADING_SIZE * 4.0 + start * 0.5;
        layout.section(&section);
        assert_eq!(layout.pages.len(), 2, "the section moved to a new page");
        assert!(!layout.pages[0].contains(&layout.font.encode("6. Logboeken van de pc's")), "the heading stayed alone at the foot of page 1");
    }

    /// A table column is at least as wide as its widest word.
    #[test]
    fn columns_make_room_for_their_widest_word() {
        let mut layout = Layout::new("test".into());
        let table = Table {
            headers: vec!["Tijd", "Soort", "Omschrijving"],
            rows: vec![vec!["16:12:05".into(), "netwerkonderbreking".into(), "geen verbinding met de examenserver".into()]],
            widths: vec![5, 5, 90],
        };
        let widths = layout.column_widths(&table);
        assert!((widths.iter().sum::<f32>() - (PAGE_WIDTH - 2.0 * MARGIN)).abs() < 0.1, "{widths:?}");
        let need = layout.font.width("netwerkonderbreking", TABLE_SIZE) + 2.0 * CELL_PAD;
        assert!(widths[1] >= need, "{widths:?} < {need}");
        let (cells, _) = layout.wrap_row(&table.rows[0], &widths);
        assert_eq!(cells[1], vec!["netwerkonderbreking"]);
    }
}
