//! `cargo xtask qti-coverage DIR...`: how much of a QTI 3 corpus the kiosk
//! takes (issue 18). Every QTI 3 item under the directories (a `.xml` file
//! whose root element is `<qti-assessment-item>`) is wrapped in a package of
//! its own (manifest, a one-item test, the item and the files it references
//! that exist), packed with the built kioskctl and signed with the demo key,
//! then rendered. Prints the totals, the refusals grouped by construct, the
//! items accepted but scored by nobody and the images without alternative
//! text; writes the per-item results to target/qti-coverage/ (JSON and CSV).
//!
//! Nothing is fetched: the corpus is what the command line names.

use crate::{workspace_root, Result};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// Directories never searched for items.
const SKIP_DIRS: &[&str] = &[".git", "node_modules", "target"];

pub fn qti_coverage(args: &[String]) -> Result {
    if args.is_empty() || args.iter().any(|a| a.starts_with('-')) {
        return Err("usage: cargo xtask qti-coverage DIR... (directories holding QTI 3 items)".into());
    }
    let root = workspace_root();
    // KIOSKCTL, else the debug build in CARGO_TARGET_DIR (as `rehearsal` finds its binaries), else target/.
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t));
    let kioskctl = std::env::var_os("KIOSKCTL").map_or_else(|| target.join("debug/kioskctl"), PathBuf::from);
    if !kioskctl.is_file() {
        return Err(format!("{}: no kioskctl; build it (cargo build -p kioskctl) or set KIOSKCTL", kioskctl.display()));
    }
    let mut items = Vec::new();
    for dir in args {
        let dir = Path::new(dir);
        if !dir.is_dir() {
            return Err(format!("{}: not a directory", dir.display()));
        }
        items.extend(discover(dir)?);
    }
    let out = root.join("target/qti-coverage");
    let work = out.join("packages");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let key = root.join("policies/demo-instrument.key");
    let trust = root.join("policies/demo-instrument.key.pub");
    let mut results = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        let dir = work.join(format!("{n:05}"));
        let result = match wrap(item, &dir) {
            Ok(wrapped) => check(&kioskctl, &key, &trust, item, &dir, &wrapped),
            Err(e) => ItemResult::refused(item, vec![format!("cannot wrap: {e}")]),
        };
        let result = ItemResult { package: dir, ..result };
        results.push(result);
        if (n + 1) % 100 == 0 {
            eprintln!("xtask: {} of {} items", n + 1, items.len());
        }
    }
    let summary = summarize(&results);
    print!("{summary}");
    std::fs::write(out.join("results.json"), to_json(&results)).map_err(|e| e.to_string())?;
    std::fs::write(out.join("results.csv"), to_csv(&results)).map_err(|e| e.to_string())?;
    std::fs::write(out.join("summary.txt"), &summary).map_err(|e| e.to_string())?;
    println!("per item: {0}/results.json, {0}/results.csv; the packages in {0}/packages/", out.display());
    Ok(())
}

/// Every QTI 3 item file under `dir`, sorted.
pub(crate) fn discover(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else { continue };
            let name = entry.file_name();
            if kind.is_dir() {
                if !SKIP_DIRS.iter().any(|s| name == *s) {
                    stack.push(path);
                }
            } else if kind.is_file()
                && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xml"))
                && std::fs::read(&path).is_ok_and(|bytes| root_element(&String::from_utf8_lossy(&bytes)) == Some("qti-assessment-item"))
            {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The name of the first element of an XML text (after the declaration,
/// processing instructions, comments and a doctype).
fn root_element(xml: &str) -> Option<&str> {
    let mut rest = xml;
    loop {
        rest = &rest[rest.find('<')?..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            rest = &rest[rest.find('>')? + 1..];
        } else {
            let name = &rest[1..];
            let end = name.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(name.len());
            return Some(&name[..end]);
        }
    }
}

/// The value of `attr` on the root element.
fn root_attribute<'a>(xml: &'a str, attr: &str) -> Option<&'a str> {
    let name = root_element(xml)?;
    let start = xml.find(&format!("<{name}"))?;
    let tag = &xml[start..start + xml[start..].find('>')?];
    attribute(tag, attr)
}

/// The value of `attr` in one start tag's text.
fn attribute<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(at) = tag[from..].find(attr) {
        let at = from + at;
        from = at + attr.len();
        let before_ok = tag[..at].ends_with(|c: char| c.is_whitespace());
        let rest = tag[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let rest = rest[1..].trim_start();
        let quote = rest.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let value = &rest[1..];
        return value.find(quote).map(|end| &value[..end]);
    }
    None
}

/// Relative file references of an item: `src`, `href` and `data` attribute
/// values that are not URLs, fragments or the XML declaration's schema hints.
fn references(xml: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for (i, _) in xml.match_indices('<') {
        let rest = &xml[i + 1..];
        if rest.starts_with('?') || rest.starts_with('!') || rest.starts_with('/') {
            continue;
        }
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        for attr in ["src", "href", "data"] {
            let Some(value) = attribute(tag, attr) else { continue };
            let value = value.split(['#', '?']).next().unwrap_or("").trim();
            // `/x` is the package root (paths::resolve); `//host/x` is a URL.
            let url = value.contains("://") || value.starts_with("data:") || value.starts_with("mailto:") || value.starts_with("//") || value == "/";
            if !value.is_empty() && !url && !refs.iter().any(|r| r == value) {
                refs.push(value.to_owned());
            }
        }
    }
    refs
}

/// A one-item package made from an item file.
#[derive(Debug)]
pub(crate) struct Wrapped {
    /// The item's path inside the package.
    pub(crate) item_href: String,
    /// Referenced files copied along (package paths).
    pub(crate) copied: Vec<String>,
    /// References that name no file next to the item.
    pub(crate) missing: Vec<String>,
}

/// Writes `dir`: imsmanifest.xml, test.xml, the item and the files it
/// references that exist. The item keeps as many of its parent directories
/// as its references climb out of (`../img/x.png` keeps one), so the
/// references resolve inside the package as they did in the corpus.
pub(crate) fn wrap(item: &Path, dir: &Path) -> Result<Wrapped> {
    let bytes = std::fs::read(item).map_err(|e| format!("{}: {e}", item.display()))?;
    let xml = String::from_utf8_lossy(&bytes);
    let refs = references(&xml);
    let climb = refs
        .iter()
        .map(|r| Path::new(r).components().take_while(|c| matches!(c, Component::ParentDir | Component::CurDir)).filter(|c| *c == Component::ParentDir).count())
        .max()
        .unwrap_or(0);
    let item_dir = item.parent().ok_or("item has no directory")?;
    let kept: Vec<String> = item_dir.components().rev().take(climb).filter_map(|c| c.as_os_str().to_str().map(str::to_owned)).collect();
    if kept.len() < climb {
        return Err(format!("{}: a reference climbs above the file system root", item.display()));
    }
    let mut item_href: Vec<String> = kept.into_iter().rev().map(|c| safe_component(&c)).collect();
    item_href.push(safe_component(&item.file_name().ok_or("item has no file name")?.to_string_lossy()));
    let item_href = item_href.join("/");
    let item_pkg_dir = Path::new(&item_href).parent().unwrap_or(Path::new("")).to_owned();
    std::fs::create_dir_all(dir.join(&item_pkg_dir)).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join(&item_href), &bytes).map_err(|e| e.to_string())?;
    let (mut copied, mut missing) = (Vec::new(), Vec::new());
    for r in &refs {
        // A root reference (`/img/x.png`): the corpora that use it (Citolab)
        // serve the item's directory as the root; in the package it is the package root.
        let (source, target) = match r.strip_prefix('/') {
            Some(rest) => (item_dir.join(rest), normalize(Path::new(rest))),
            None => (item_dir.join(r), normalize(&item_pkg_dir.join(r))),
        };
        let Some(target) = target else {
            missing.push(r.clone());
            continue;
        };
        if source.is_file() {
            let to = dir.join(&target);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::copy(&source, &to).map_err(|e| format!("{}: {e}", source.display()))?;
            let target = target.to_string_lossy().replace('\\', "/");
            if target != item_href && !copied.contains(&target) {
                copied.push(target);
            }
        } else {
            missing.push(r.clone());
        }
    }
    let identifier = root_attribute(&xml, "identifier").unwrap_or("item");
    let files: String = std::iter::once(&item_href).chain(&copied).map(|f| format!("<file href=\"{}\"/>", escape(f))).collect();
    std::fs::write(
        dir.join("imsmanifest.xml"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest xmlns=\"http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1\" identifier=\"MANIFEST_COVERAGE\">\n  <resources>\n    <resource identifier=\"test\" type=\"imsqti_test_xmlv3p0\" href=\"test.xml\"><file href=\"test.xml\"/></resource>\n    <resource identifier=\"item\" type=\"imsqti_item_xmlv3p0\" href=\"{href}\">{files}</resource>\n  </resources>\n</manifest>\n",
            href = escape(&item_href)
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("test.xml"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<qti-assessment-test xmlns=\"http://www.imsglobal.org/xsd/imsqtiasi_v3p0\" identifier=\"coverage\" title=\"coverage\">\n  <qti-test-part identifier=\"p\" navigation-mode=\"nonlinear\" submission-mode=\"simultaneous\">\n    <qti-assessment-section identifier=\"s\" title=\"s\" visible=\"true\">\n      <qti-assessment-item-ref identifier=\"{id}\" href=\"{href}\"/>\n    </qti-assessment-section>\n  </qti-test-part>\n</qti-assessment-test>\n",
            id = escape(identifier),
            href = escape(&item_href)
        ),
    )
    .map_err(|e| e.to_string())?;
    Ok(Wrapped { item_href, copied, missing })
}

/// A path component as a package may hold it (no spaces or odd characters).
fn safe_component(c: &str) -> String {
    c.chars().map(|ch| if ch.is_ascii_alphanumeric() || "._-".contains(ch) { ch } else { '_' }).collect()
}

/// `a/b/../c` -> `a/c`; None when it leaves the package.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// What became of one item.
#[derive(Debug)]
pub(crate) struct ItemResult {
    pub(crate) file: PathBuf,
    /// The one-item package (directory; `.exam` and `.exam.key` beside it when packed).
    pub(crate) package: PathBuf,
    pub(crate) accepted: bool,
    /// The refusal's problems, each once (empty when accepted).
    pub(crate) problems: Vec<String>,
    /// Interactions, from pack's per-item report.
    pub(crate) interactions: String,
    /// How it is scored, from pack's per-item report.
    pub(crate) scoring: String,
    /// Pack's warnings (images without alternative text …).
    pub(crate) warnings: Vec<String>,
    /// References that name no file.
    pub(crate) missing: Vec<String>,
    /// The item's path in the package, and the files copied along with it.
    pub(crate) packaged: Vec<String>,
}

impl ItemResult {
    fn refused(file: &Path, problems: Vec<String>) -> Self {
        ItemResult {
            file: file.to_owned(),
            package: PathBuf::new(),
            accepted: false,
            problems,
            interactions: String::new(),
            scoring: String::new(),
            warnings: Vec::new(),
            missing: Vec::new(),
            packaged: Vec::new(),
        }
    }

    /// Accepted, with interactions, and neither the hub nor a person scores it.
    fn scored_by_nobody(&self) -> bool {
        self.accepted && self.scoring.contains("niet automatisch gescoord")
    }
}

/// Packs and renders one wrapped item.
fn check(kioskctl: &Path, key: &Path, trust: &Path, item: &Path, dir: &Path, wrapped: &Wrapped) -> ItemResult {
    let exam = dir.with_extension("exam");
    let pack = Command::new(kioskctl).args(["instrument", "pack"]).arg(dir).arg("--sign").arg(key).arg("--out").arg(&exam).output();
    let pack = match pack {
        Ok(o) => o,
        Err(e) => return ItemResult::refused(item, vec![format!("cannot run kioskctl: {e}")]),
    };
    let stdout = String::from_utf8_lossy(&pack.stdout);
    let stderr = String::from_utf8_lossy(&pack.stderr);
    let mut result = ItemResult::refused(item, Vec::new());
    result.missing = wrapped.missing.clone();
    result.packaged = std::iter::once(&wrapped.item_href).chain(&wrapped.copied).cloned().collect();
    if !pack.status.success() {
        result.problems = problems(&stderr);
        return result;
    }
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("item ") {
            if let Some((_, report)) = rest.split_once("): ") {
                let (kinds, scoring) = report.split_once(" — ").unwrap_or((report, ""));
                result.interactions = kinds.to_owned();
                result.scoring = scoring.to_owned();
            }
        } else if let Some(w) = line.strip_prefix("warning: ") {
            result.warnings.push(w.to_owned());
        }
    }
    let mut key_file = exam.clone().into_os_string();
    key_file.push(".key");
    let render = Command::new(kioskctl).args(["instrument", "render"]).arg(&exam).arg("--trust").arg(trust).arg("--key").arg(&key_file).output();
    match render {
        Ok(o) if o.status.success() => result.accepted = true,
        Ok(o) => result.problems = problems(&String::from_utf8_lossy(&o.stderr)).into_iter().map(|p| format!("render: {p}")).collect(),
        Err(e) => result.problems = vec![format!("cannot run kioskctl: {e}")],
    }
    result
}

/// The problems of a `REFUSED dir: ...` message, each once, without locations.
fn problems(stderr: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut lines = stderr.lines().filter(|l| !l.trim().is_empty());
    let Some(first) = lines.next() else { return vec!["refused without a message".into()] };
    let head = first.strip_prefix("REFUSED ").and_then(|r| r.split_once(": ")).map_or(first, |(_, what)| what);
    // A list of problems follows its heading ("N problems in ..."); a single problem is the heading.
    let listed: Vec<&str> = lines.map(str::trim).collect();
    let raw: Vec<&str> = if listed.is_empty() { vec![head] } else { listed };
    for p in raw {
        let p = strip_location(p);
        if !out.iter().any(|o| o == p) {
            out.push(p.to_owned());
        }
    }
    out
}

/// `file:12:3: item X: what` -> `what`.
fn strip_location(problem: &str) -> &str {
    let mut p = problem;
    for marker in ["unsupported QTI construct", "invalid QTI", "XML error", "refused", "references ", "error:", "cannot"] {
        if let Some(at) = p.find(marker) {
            p = &p[at..];
            return p;
        }
    }
    p
}

/// The construct a problem is about, for grouping: the unsupported
/// element or attribute, else the kind of problem and its message with
/// quoted names and numbers blanked.
pub(crate) fn construct(problem: &str) -> String {
    let p = problem.strip_prefix("render: ").unwrap_or(problem);
    if let Some(rest) = p.strip_prefix("unsupported QTI construct ") {
        return rest.split_once(": ").map_or(rest, |(c, _)| c).to_owned();
    }
    if p.starts_with("references ") {
        return "references a file that is not in the package".into();
    }
    let mut out = String::new();
    let mut quoted = None;
    for ch in p.chars() {
        match (quoted, ch) {
            (None, '"' | '`') => {
                quoted = Some(ch);
                out.push(ch);
                out.push('…');
            }
            (Some(q), c) if c == q => {
                quoted = None;
                out.push(c);
            }
            (Some(_), _) => {}
            (None, c) if c.is_ascii_digit() => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            (None, c) => out.push(c),
        }
    }
    out.chars().take(160).collect()
}

/// The printed summary.
pub(crate) fn summarize(results: &[ItemResult]) -> String {
    let total = results.len();
    let accepted = results.iter().filter(|r| r.accepted).count();
    let pct = |n: usize| if total == 0 { 0.0 } else { n as f64 * 100.0 / total as f64 };
    let mut s = String::new();
    let _ = writeln!(s, "items: {total}");
    let _ = writeln!(s, "accepted: {accepted} ({:.1} %)", pct(accepted));
    let _ = writeln!(s, "refused: {} ({:.1} %)", total - accepted, pct(total - accepted));
    let mut groups: BTreeMap<String, Vec<&Path>> = BTreeMap::new();
    for r in results.iter().filter(|r| !r.accepted) {
        let mut constructs: Vec<String> = r.problems.iter().map(|p| construct(p)).collect();
        constructs.sort();
        constructs.dedup();
        for c in constructs {
            groups.entry(c).or_default().push(&r.file);
        }
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let _ = writeln!(s, "refusals by construct (items; an item may have several):");
    for (c, files) in &groups {
        let examples: Vec<String> = files.iter().take(2).map(|f| f.display().to_string()).collect();
        let _ = writeln!(s, "  {:4}  {c}\n        e.g. {}", files.len(), examples.join(", "));
    }
    let nobody: Vec<&ItemResult> = results.iter().filter(|r| r.scored_by_nobody()).collect();
    let _ = writeln!(s, "accepted but scored by nobody: {}", nobody.len());
    let mut why: BTreeMap<&str, Vec<&Path>> = BTreeMap::new();
    for r in &nobody {
        why.entry(r.scoring.as_str()).or_default().push(&r.file);
    }
    for (scoring, files) in &why {
        let _ = writeln!(s, "  {:4}  {scoring}\n        e.g. {}", files.len(), files[0].display());
    }
    let no_alt: Vec<&ItemResult> = results.iter().filter(|r| r.accepted && r.warnings.iter().any(|w| w.contains("alt"))).collect();
    let images: usize = no_alt.iter().map(|r| r.warnings.iter().filter(|w| w.contains("alt")).count()).sum();
    let _ = writeln!(s, "images without alt: {images} warnings in {} accepted items", no_alt.len());
    if let Some(r) = no_alt.first() {
        let _ = writeln!(s, "  e.g. {}: {}", r.file.display(), r.warnings[0]);
    }
    let missing = results.iter().filter(|r| !r.missing.is_empty()).count();
    let _ = writeln!(s, "items referencing files absent from the corpus: {missing}");
    s
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|i| json_string(i)).collect::<Vec<_>>().join(", "))
}

fn to_json(results: &[ItemResult]) -> String {
    let rows: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                "  {{\"file\": {}, \"package\": {}, \"accepted\": {}, \"interactions\": {}, \"scoring\": {}, \"scored_by_nobody\": {}, \"problems\": {}, \"warnings\": {}, \"missing_files\": {}, \"packaged_files\": {}}}",
                json_string(&r.file.display().to_string()),
                json_string(&r.package.display().to_string()),
                r.accepted,
                json_string(&r.interactions),
                json_string(&r.scoring),
                r.scored_by_nobody(),
                json_list(&r.problems),
                json_list(&r.warnings),
                json_list(&r.missing),
                json_list(&r.packaged)
            )
        })
        .collect();
    format!("[\n{}\n]\n", rows.join(",\n"))
}

fn csv_field(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn to_csv(results: &[ItemResult]) -> String {
    let mut s = String::from("file,accepted,interactions,scoring,scored_by_nobody,problems,warnings,missing_files\n");
    for r in results {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{}",
            csv_field(&r.file.display().to_string()),
            r.accepted,
            csv_field(&r.interactions),
            csv_field(&r.scoring),
            r.scored_by_nobody(),
            csv_field(&r.problems.join(" | ")),
            csv_field(&r.warnings.join(" | ")),
            csv_field(&r.missing.join(" | "))
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        workspace_root().join("tests/fixtures/qti")
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-qti-coverage-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn discovery_finds_every_item_and_no_test_or_manifest() {
        let root = fixtures();
        let found: Vec<String> =
            discover(&root).unwrap().iter().map(|p| p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/")).collect();
        // Items of every kind of fixture (the list grows with the fixtures),
        // and never a test or a manifest.
        for item in ["examples/items/choice.xml", "examples/items/hotspot.xml", "fidelity/items/rtl.xml", "kennisnet/ITEM002.xml"] {
            assert!(found.iter().any(|f| f == item), "{item} not found in {found:?}");
        }
        for other in ["examples/assessment.xml", "examples/imsmanifest.xml", "kennisnet/AssessmentTest.xml", "fidelity/test.xml"] {
            assert!(!found.iter().any(|f| f == other), "{other} is not an item: {found:?}");
        }
        for path in discover(&root).unwrap() {
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(root_element(&text), Some("qti-assessment-item"), "{}", path.display());
        }
    }

    #[test]
    fn root_element_skips_declaration_instructions_and_comments() {
        assert_eq!(root_element("<?xml version=\"1.0\"?>\n<?xml-model href=\"x\"?><!-- <qti-x> --><qti-assessment-item\n id=\"a\">"), Some("qti-assessment-item"));
        assert_eq!(root_element("<!DOCTYPE x><qti-assessment-test>"), Some("qti-assessment-test"));
        assert_eq!(root_element("no markup"), None);
    }

    #[test]
    fn wrapping_keeps_the_directories_a_reference_climbs_out_of() {
        let dir = scratch("choice");
        let wrapped = wrap(&fixtures().join("examples/items/choice.xml"), &dir).unwrap();
        assert_eq!(wrapped.item_href, "items/choice.xml");
        assert_eq!(wrapped.copied, ["img/sign.png"]);
        assert!(wrapped.missing.is_empty());
        assert_eq!(std::fs::read(dir.join("img/sign.png")).unwrap(), std::fs::read(fixtures().join("examples/img/sign.png")).unwrap());
        let manifest = std::fs::read_to_string(dir.join("imsmanifest.xml")).unwrap();
        assert!(manifest.contains("href=\"items/choice.xml\"><file href=\"items/choice.xml\"/><file href=\"img/sign.png\"/>"), "{manifest}");
        let test = std::fs::read_to_string(dir.join("test.xml")).unwrap();
        assert!(test.contains("<qti-assessment-item-ref identifier=\"choice\" href=\"items/choice.xml\"/>"), "{test}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_root_reference_is_copied_to_the_package_root() {
        let corpus = scratch("root-ref-corpus");
        std::fs::create_dir_all(corpus.join("img")).unwrap();
        std::fs::write(corpus.join("img/map.png"), b"png").unwrap();
        let item = corpus.join("item.xml");
        std::fs::write(&item, r#"<qti-assessment-item identifier="r"><qti-item-body><img src="/img/map.png"/><img src="//cdn.example/x.png"/><a href="/"/></qti-item-body></qti-assessment-item>"#).unwrap();
        assert_eq!(references(&std::fs::read_to_string(&item).unwrap()), ["/img/map.png"]);
        let dir = scratch("root-ref");
        let wrapped = wrap(&item, &dir).unwrap();
        assert_eq!((wrapped.copied.as_slice(), wrapped.missing.len()), (&["img/map.png".to_string()][..], 0));
        assert!(dir.join("img/map.png").is_file());
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&corpus).unwrap();
    }

    #[test]
    fn wrapping_copies_stylesheet_and_images_and_names_what_is_missing() {
        let dir = scratch("kennisnet");
        let wrapped = wrap(&fixtures().join("kennisnet/ITEM002.xml"), &dir).unwrap();
        assert_eq!(wrapped.item_href, "ITEM002.xml");
        assert_eq!(
            wrapped.copied,
            [
                "resources/stylesheet.css",
                "resources/8c571f983f691e42e7b3a0dc2664e51d.png",
                "resources/80378beafd6b12ab7b97899ce39a2b78.jpg",
                "resources/72c4b1f4ea9f7ba5548683c37806580e.png"
            ]
        );
        assert!(wrapped.copied.iter().all(|f| dir.join(f).is_file()));
        std::fs::remove_dir_all(&dir).unwrap();

        // An item whose picture the corpus lacks.
        let source = scratch("missing-source");
        std::fs::create_dir_all(source.join("items")).unwrap();
        let item = r#"<qti-assessment-item identifier="x"><qti-item-body><img src="../img/gone.png" alt="weg"/></qti-item-body></qti-assessment-item>"#;
        std::fs::write(source.join("items/x.xml"), item).unwrap();
        let dir = scratch("missing");
        let wrapped = wrap(&source.join("items/x.xml"), &dir).unwrap();
        assert_eq!(wrapped.missing, ["../img/gone.png"]);
        assert!(wrapped.copied.is_empty());
        let manifest = std::fs::read_to_string(dir.join("imsmanifest.xml")).unwrap();
        assert!(!manifest.contains("gone"), "a missing file is not listed: {manifest}");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&source).unwrap();
    }

    #[test]
    fn refusals_are_grouped_by_construct_without_locations() {
        let stderr = "REFUSED /x/00001: 2 problems in 1 of 1 item:\n  \
            items/a.xml:18:4: item a: unsupported QTI construct <qti-hotspot-interaction>: graphic interactions are not supported\n  \
            items/a.xml:30:2: item a: invalid QTI: response \"RESPONSE_27\" is declared twice\n";
        let found = problems(stderr);
        assert_eq!(
            found,
            [
                "unsupported QTI construct <qti-hotspot-interaction>: graphic interactions are not supported",
                "invalid QTI: response \"RESPONSE_27\" is declared twice"
            ]
        );
        assert_eq!(construct(&found[0]), "<qti-hotspot-interaction>");
        assert_eq!(construct(&found[1]), "invalid QTI: response \"…\" is declared twice");
        let single = problems("REFUSED /x/00002: items/b.xml:3:1: XML error: unexpected end of file at 12\n");
        assert_eq!(single, ["XML error: unexpected end of file at 12"]);
        assert_eq!(construct(&single[0]), "XML error: unexpected end of file at #");
    }
}
