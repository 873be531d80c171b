//! Loading a policy from TOML: syntax and type errors from the `toml` crate
//! and semantic errors from [`crate::validate`], all reported as
//! `file:line:column: message`.

use crate::defaults::MAX_POLICY_BYTES;
use crate::model::Policy;
use crate::validate::{validate, Issue, PathSeg};
use serde::Serialize;
use std::fmt;
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One problem in a policy file, with its place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The file (as given by the caller).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

fn join(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_POLICY_BYTES`].
    #[error("{file}: larger than {MAX_POLICY_BYTES} bytes; not a policy")]
    TooLarge {
        /// The file.
        file: String,
    },
    /// Syntax, type or semantic errors, each with its place.
    #[error("{}", join(.0))]
    Invalid(Vec<Diagnostic>),
    /// A signed bundle is malformed or its signature does not verify.
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
}

impl PolicyError {
    /// The diagnostics, if this is an [`PolicyError::Invalid`].
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            PolicyError::Invalid(d) => d,
            _ => &[],
        }
    }
}

/// Reads a file of at most [`MAX_POLICY_BYTES`] as UTF-8.
pub fn read_text(path: &Path) -> Result<String, PolicyError> {
    let file = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|source| PolicyError::Read {
        file: file.clone(),
        source,
    })?;
    let mut buf = Vec::new();
    f.take(MAX_POLICY_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|source| PolicyError::Read {
            file: file.clone(),
            source,
        })?;
    if buf.len() as u64 > MAX_POLICY_BYTES {
        return Err(PolicyError::TooLarge { file });
    }
    String::from_utf8(buf).map_err(|e| {
        let (line, column) = line_col(&String::from_utf8_lossy(e.as_bytes()), e.utf8_error().valid_up_to());
        PolicyError::Invalid(vec![Diagnostic {
            file,
            line,
            column,
            message: "file is not valid UTF-8".into(),
        }])
    })
}

/// Loads and validates a plain TOML policy file. Relative paths in the policy
/// (e.g. `hub.ca-file`) are resolved against the file's directory.
pub fn load_policy_file(path: &Path) -> Result<Policy, PolicyError> {
    let text = read_text(path)?;
    parse_policy(&text, &path.display().to_string(), path.parent())
}

/// Parses and validates policy TOML. `origin` names the source in
/// diagnostics; `base_dir` resolves relative paths (no file checks without it).
pub fn parse_policy(text: &str, origin: &str, base_dir: Option<&Path>) -> Result<Policy, PolicyError> {
    let policy: Policy = toml::from_str(text).map_err(|e| {
        let span = e.span().map(|s| refine_span(text, s, e.message()));
        let (line, column) = span.map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        PolicyError::Invalid(vec![Diagnostic {
            file: origin.to_string(),
            line,
            column,
            message: tidy_message(e.message()),
        }])
    })?;
    let issues = validate(&policy, base_dir);
    if issues.is_empty() {
        return Ok(policy);
    }
    Err(PolicyError::Invalid(locate_issues(text, origin, &issues)))
}

/// Maps semantic issues (found by path) onto file positions.
pub(crate) fn locate_issues(text: &str, origin: &str, issues: &[Issue]) -> Vec<Diagnostic> {
    let doc = DeTable::parse(text).ok();
    issues
        .iter()
        .map(|issue| {
            let offset = doc
                .as_ref()
                .map(|d| span_of_path(d, &issue.path).start)
                .unwrap_or(0);
            let (line, column) = line_col(text, offset);
            Diagnostic {
                file: origin.to_string(),
                line,
                column,
                message: format!("{}: {}", render_path(&issue.path), issue.message),
            }
        })
        .collect()
}

fn render_path(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        out.push_str("policy");
    }
    out
}

/// Finds the span of the deepest element of `path` present in the document.
fn span_of_path(doc: &Spanned<DeTable<'_>>, path: &[PathSeg]) -> Range<usize> {
    let mut span = doc.span();
    let mut table: Option<&DeTable<'_>> = Some(doc.get_ref());
    let mut array: Option<&[Spanned<DeValue<'_>>]> = None;
    for seg in path {
        let next: Option<&Spanned<DeValue<'_>>> = match seg {
            PathSeg::Key(k) => table.and_then(|t| t.get(k.as_str())),
            PathSeg::Index(i) => array.and_then(|a| a.get(*i)),
        };
        let Some(value) = next else { break };
        span = value.span();
        table = value.get_ref().as_table();
        array = value.get_ref().as_array().map(|a| &a[..]);
    }
    span
}

/// toml reports some errors (e.g. unknown fields inside a table) at the
/// table; point at the offending key instead when it can be found.
fn refine_span(text: &str, span: Range<usize>, message: &str) -> Range<usize> {
    // An invalid element inside an array is reported at the array: find the
    // string element the message quotes.
    if let Some(region) = text.get(span.clone()) {
        if region.starts_with('[') {
            if let Ok(array) = DeValue::parse(region) {
                if let Some(items) = array.get_ref().as_array() {
                    // The element the message quotes (`like this`) best; of
                    // several (one name inside another), the longest.
                    let best = items
                        .iter()
                        .filter_map(|item| item.get_ref().as_str().map(|s| (s, item.span())))
                        .filter(|(s, _)| !s.is_empty() && message.contains(s))
                        .max_by_key(|(s, _)| (message.contains(&format!("`{s}`")), s.len()));
                    if let Some((_, inner)) = best {
                        return span.start + inner.start..span.start + inner.end;
                    }
                    // An empty string is named by the message only as such.
                    if message.contains("empty") {
                        if let Some(item) = items.iter().find(|i| i.get_ref().as_str() == Some("")) {
                            let inner = item.span();
                            return span.start + inner.start..span.start + inner.end;
                        }
                    }
                }
            }
        }
    }
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return span;
    };
    let Some(key) = rest.split('`').next() else {
        return span;
    };
    let Some(region) = text.get(span.clone()) else {
        return span;
    };
    let mut search_from = 0;
    while let Some(pos) = region[search_from..].find(key) {
        let at = search_from + pos;
        let before_ok = region[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '{' || c == ',' || c == '"');
        let after = region[at + key.len()..].trim_start_matches([' ', '\t', '"']);
        if before_ok && after.starts_with('=') {
            let start = span.start + at;
            return start..start + key.len();
        }
        search_from = at + key.len();
    }
    span
}

fn tidy_message(message: &str) -> String {
    message.trim_end().replace('\n', "; ")
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 3));
        assert_eq!(line_col(t, 999), (3, 1));
    }
}
