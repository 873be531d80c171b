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

struct LineCounter<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
}

impl LineCounter<'_> {
    /// Line and column (1-based; the column in characters) of byte `pos`.
    fn at(&mut self, pos: usize) -> (usize, usize) {
        let line = self.line_at(pos);
        let pos = pos.min(self.src.len());
        let start = self.src[..pos].iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        // Characters, not bytes: UTF-8 continuation bytes do not count.
        let column = 1 + self.src[start..pos].iter().filter(|b| (**b & 0xC0) != 0x80).count();
        (line, column)
    }

    fn line_at(&mut self, pos: usize) -> usize {
        let pos = pos.min(self.src.len());
        if pos >= self.pos {
            self.line += self.src[self.pos..pos].iter().filter(|b| **b == b'\n').count();
        } else {
            self.line = 1 + self.src[..pos].iter().filter(|b| **b == b'\n').count();
        }
        self.pos = pos;
        self.line
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
    let mut lines = LineCounter { src, pos: 0, line: 1 };
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
