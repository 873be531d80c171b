//! A small, bounded XML tree built with quick-xml. No DTDs, no entity
//! expansion beyond the five predefined entities and character references;
//! limits on size, depth and node count; UTF-8 only.

use super::qti::QtiError;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Largest XML file accepted.
pub const MAX_XML_BYTES: usize = 4 * 1024 * 1024;
/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Most nodes (elements + text runs) per file.
pub const MAX_NODES: usize = 200_000;
/// Most attributes per element.
pub const MAX_ATTRS: usize = 64;

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum XNode {
    /// An element.
    Element(Element),
    /// Character data (text and CDATA, references resolved).
    Text(String),
}

/// An element: local name, attributes (qualified names, namespace
/// declarations dropped), children and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    /// Local name (prefix dropped).
    pub name: String,
    /// Namespace prefix, if any (e.g. `m` of `m:math`).
    pub prefix: Option<String>,
    /// Attributes in document order, by qualified name.
    pub attrs: Vec<(String, String)>,
    /// Child nodes.
    pub children: Vec<XNode>,
    /// Line of the start tag.
    pub line: usize,
    /// Column (1-based, in characters) of the start tag's `<`.
    pub column: usize,
}

impl Element {
    /// An attribute by qualified name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            XNode::Element(e) => Some(e),
            XNode::Text(_) => None,
        })
    }

    /// All text below this element, concatenated.
    pub fn text(&self) -> String {
        let mut out = String::new();
        fn collect(e: &Element, out: &mut String) {
            for c in &e.children {
                match c {
                    XNode::Text(t) => out.push_str(t),
                    XNode::Element(e) => collect(e, out),
                }
            }
        }
        collect(self, &mut out);
        out
    }

    /// The display name with prefix, e.g. `<m:math>`.
    pub fn tag(&self) -> String {
        match &self.prefix {
            Some(p) => format!("<{p}:{}>", self.name),
            None => format!("<{}>", self.name),
        }
    }
}

fn split_name(raw: &[u8]) -> Result<(Option<String>, String), String> {
    let name = std::str::from_utf8(raw).map_err(|_| "name is not UTF-8".to_string())?;
    Ok(match name.split_once(':') {
        Some((p, l)) => (Some(p.to_string()), l.to_string()),
        None => (None, name.to_string()),
    })
}

/// Line and column of byte positions, for positions that (almost always)
/// only move forward: each call costs the bytes since the previous one, so a
/// 4 MiB document on one line with 200,000 elements stays linear.
struct LineCounter<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
    /// 1-based column (in characters) at `pos`.
    column: usize,
}

/// Characters in UTF-8 bytes: continuation bytes do not count.
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b & 0xC0) != 0x80).count()
}

impl LineCounter<'_> {
    fn new(src: &[u8]) -> LineCounter<'_> {
        LineCounter { src, pos: 0, line: 1, column: 1 }
    }

    /// Line and column (1-based; the column in characters) of byte `pos`.
    fn at(&mut self, pos: usize) -> (usize, usize) {
        let pos = pos.min(self.src.len());
        if pos < self.pos {
            // Backwards (an error position): count again from the start.
            (self.pos, self.line, self.column) = (0, 1, 1);
        }
        let delta = &self.src[self.pos..pos];
        match delta.iter().rposition(|b| *b == b'\n') {
            Some(last) => {
                self.line += delta.iter().filter(|b| **b == b'\n').count();
                self.column = 1 + chars(&delta[last + 1..]);
            }
            None => self.column += chars(delta),
        }
        self.pos = pos;
        (self.line, self.column)
    }
}

/// Parses a whole document into its root element.
pub fn parse(src: &[u8], file: &str) -> Result<Element, QtiError> {
    if src.len() > MAX_XML_BYTES {
        return Err(QtiError::TooLarge { file: file.into(), what: "XML file", limit: MAX_XML_BYTES as u64 });
    }
    let src = src.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(src);
    let text = std::str::from_utf8(src).map_err(|e| QtiError::Xml {
        file: file.into(),
        line: 1 + src[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count(),
        column: 0,
        message: "not UTF-8 (only UTF-8 is accepted)".into(),
    })?;
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = false;
    let mut lines = LineCounter::new(src);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut nodes = 0usize;

    let err = |(line, column): (usize, usize), message: String| QtiError::Xml { file: file.into(), line, column, message };
    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let at = lines.at(reader.error_position() as usize);
                return Err(err(at, e.to_string()));
            }
        };
        let line = lines.at(before);
        nodes += 1;
        if nodes > MAX_NODES {
            return Err(QtiError::TooLarge { file: file.into(), what: "XML node count", limit: MAX_NODES as u64 });
        }
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let is_empty = matches!(event, Event::Empty(_));
                let (prefix, name) = split_name(start.name().as_ref()).map_err(|m| err(line, m))?;
                let mut attrs = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| err(line, format!("attribute: {e}")))?;
                    let key = std::str::from_utf8(attr.key.as_ref()).map_err(|_| err(line, "attribute name is not UTF-8".into()))?;
                    if key == "xmlns" || key.starts_with("xmlns:") || key.starts_with("xsi:") {
                        continue;
                    }
                    let value = attr.unescape_value().map_err(|e| QtiError::Forbidden {
                        file: file.into(),
                        line: line.0,
                        column: line.1,
                        what: format!("attribute {key}: {e} (only the five XML entities and character references are allowed)"),
                    })?;
                    attrs.push((key.to_string(), value.into_owned()));
                    if attrs.len() > MAX_ATTRS {
                        return Err(err(line, format!("more than {MAX_ATTRS} attributes")));
                    }
                }
                let element = Element { name, prefix, attrs, children: Vec::new(), line: line.0, column: line.1 };
                if stack.len() >= MAX_DEPTH {
                    return Err(QtiError::TooLarge { file: file.into(), what: "XML nesting depth", limit: MAX_DEPTH as u64 });
                }
                if root.is_some() {
                    return Err(err(line, "content after the root element".into()));
                }
                stack.push(element);
                if is_empty {
                    close(&mut stack, &mut root);
                }
            }
            Event::End(_) => close(&mut stack, &mut root),
            Event::Text(t) => {
                let s = t.xml_content().map_err(|e| err(line, e.to_string()))?;
                push_text(&mut stack, &s, line, file)?;
            }
            Event::CData(t) => {
                let s = t.xml_content().map_err(|e| err(line, e.to_string()))?;
                push_text(&mut stack, &s, line, file)?;
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| err(line, e.to_string()))?
                } else {
                    let name = r.decode().map_err(|e| err(line, e.to_string()))?;
                    match name.as_ref() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        other => {
                            return Err(QtiError::Forbidden {
                                file: file.into(),
                                line: line.0,
                                column: line.1,
                                what: format!("entity reference &{other}; (no DTDs or custom entities; use the character itself or &#...;)"),
                            })
                        }
                    }
                };
                let c = resolved.ok_or_else(|| err(line, "invalid character reference".into()))?;
                push_text(&mut stack, c.encode_utf8(&mut [0u8; 4]), line, file)?;
            }
            Event::DocType(_) => {
                return Err(QtiError::Forbidden {
                    file: file.into(),
                    line: line.0,
                    column: line.1,
                    what: "<!DOCTYPE> (DTDs and entity declarations are refused)".into(),
                })
            }
            Event::Decl(decl) => {
                if let Some(Ok(enc)) = decl.encoding() {
                    if !enc.eq_ignore_ascii_case(b"utf-8") {
                        return Err(err(line, format!("encoding {:?}: only UTF-8 is accepted", String::from_utf8_lossy(&enc))));
                    }
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(err(lines.at(src.len()), "document ends inside an element".into()));
    }
    root.ok_or_else(|| err((1, 0), "no root element".into()))
}

fn close(stack: &mut Vec<Element>, root: &mut Option<Element>) {
    if let Some(done) = stack.pop() {
        match stack.last_mut() {
            Some(parent) => parent.children.push(XNode::Element(done)),
            None => *root = Some(done),
        }
    }
}

fn push_text(stack: &mut [Element], s: &str, (line, column): (usize, usize), file: &str) -> Result<(), QtiError> {
    match stack.last_mut() {
        Some(parent) => {
            if let Some(XNode::Text(prev)) = parent.children.last_mut() {
                prev.push_str(s);
            } else {
                parent.children.push(XNode::Text(s.to_string()));
            }
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None => Err(QtiError::Xml { file: file.into(), line, column, message: "text outside the root element".into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters() {
        let root = parse("<a>\n  <b/>é€<c/>\n<d/></a>".as_bytes(), "x.xml").unwrap();
        let at: Vec<(String, usize, usize)> = root.elements().map(|e| (e.name.clone(), e.line, e.column)).collect();
        assert_eq!(at, [("b".into(), 2, 3), ("c".into(), 2, 9), ("d".into(), 3, 1)]);
        let mut lines = LineCounter::new("ab\ncd".as_bytes());
        assert_eq!(lines.at(4), (2, 2));
        assert_eq!(lines.at(1), (1, 2), "backwards");
    }

    #[test]
    fn a_document_on_one_line_is_positioned_in_linear_time() {
        // 190,000 elements on one line (760 kB, under the node limit):
        // scanning back to the start of the line for every element would
        // read about 72 GB.
        let doc = format!("<a>{}</a>", "<b/>".repeat(190_000));
        let started = std::time::Instant::now();
        let root = parse(doc.as_bytes(), "x.xml").unwrap();
        assert_eq!(root.elements().last().map(|e| e.column), Some(4 + 4 * (190_000 - 1)));
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    }
}
