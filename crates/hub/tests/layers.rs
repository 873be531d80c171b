//! The hub's modules form layers (issue 16 point 4): no module reaches, by
//! `crate::`, into a module that reaches back into it, directly or round
//! about. Read from the source itself (code, not comments), so a new edge
//! that closes a cycle fails here with the cycle named. docs/architecture.md
//! draws the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `.rs` file of a top-level module (`foo.rs` and `foo/**`).
fn files_of(src: &Path, module: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let file = src.join(format!("{module}.rs"));
    if file.exists() {
        out.push(file);
    }
    let mut dirs = vec![src.join(module)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// The top-level modules `text` names as `crate::NAME`, outside comments.
fn named(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            } else if rest.starts_with('{') {
                // `use crate::{a, b::c}`
                let group = &rest[1..rest.find('}').unwrap_or(rest.len())];
                for part in group.split(',') {
                    let name: String = part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() {
                        out.insert(name);
                    }
                }
            }
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut modules = BTreeSet::new();
    for entry in std::fs::read_dir(&src).expect("src").flatten() {
        let name = entry.file_name().to_string_lossy().trim_end_matches(".rs").to_string();
        if name != "lib" && name != "main" {
            modules.insert(name);
        }
    }
    modules
        .iter()
        .map(|m| {
            let mut deps = BTreeSet::new();
            for file in files_of(&src, m) {
                deps.extend(named(&std::fs::read_to_string(&file).expect("source")));
            }
            deps.retain(|d| d != m && modules.contains(d));
            (m.clone(), deps)
        })
        .collect()
}

/// A cycle through `graph`, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &BTreeMap<String, BTreeSet<String>>, done: &mut BTreeSet<String>, path: &mut Vec<String>) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, done, path) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut done, &mut Vec::new()))
}

#[test]
fn the_hub_has_no_module_cycle() {
    let graph = graph();
    assert!(graph.len() > 15, "the hub's modules were not found: {graph:?}");
    if let Some(found) = cycle(&graph) {
        panic!("module cycle: {}\n(each reaches the next by crate::; move the shared part down a layer)", found.join(" -> "));
    }
    // The layers the docs describe: the kiosk API, the console and the
    // router sit on top; nothing below reaches up into them.
    for top in ["api", "answers_api", "web_session", "console", "server"] {
        for (module, deps) in &graph {
            if !["api", "answers_api", "web_session", "console", "server"].contains(&module.as_str()) {
                assert!(!deps.contains(top), "{module} reaches up into {top}");
            }
        }
    }
}

#[test]
fn a_cycle_is_found() {
    let edges = |list: &[(&str, &[&str])]| -> BTreeMap<String, BTreeSet<String>> {
        list.iter().map(|(m, d)| (m.to_string(), d.iter().map(|s| s.to_string()).collect())).collect()
    };
    assert_eq!(cycle(&edges(&[("a", &["b"]), ("b", &["c"]), ("c", &[])])), None);
    assert_eq!(cycle(&edges(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])])), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    assert_eq!(named("use crate::{db::Db, pki};\nlet x = crate::audit::Action::Start; // crate::console"), ["audit", "db", "pki"].map(String::from).into());
}

/// Files that still hold SQL of their own while the store layer is being
/// built (issue 16 point 4). The list only shrinks: a file not on it that
/// writes SQL fails, and so does a file on it that no longer does.
const NOT_YET_IN_THE_STORE: &[&str] = &[];

/// Whether a source text runs SQL of its own (outside comments).
fn writes_sql(text: &str) -> bool {
    text.lines().map(|line| line.split("//").next().unwrap_or("")).any(|code| {
        ["sqlx::query", "query_as(", "query_scalar(", "query_as::<", "query_scalar::<"].iter().any(|call| code.contains(call))
    })
}

#[test]
fn queries_live_in_the_store() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = files_of(&src, "");
    files.retain(|f| f.extension().is_some_and(|e| e == "rs"));
    let mut stray = Vec::new();
    let mut moved = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
        if rel.starts_with("store/") || rel == "db.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source");
        let listed = NOT_YET_IN_THE_STORE.contains(&rel.as_str());
        match (writes_sql(&text), listed) {
            (true, false) => stray.push(rel),
            (false, true) => moved.push(rel),
            _ => {}
        }
    }
    assert!(stray.is_empty(), "SQL outside crate::store in {stray:?}: move it into the store module of its table group");
    assert!(moved.is_empty(), "{moved:?} no longer write SQL: take them off NOT_YET_IN_THE_STORE");
}

#[test]
fn sql_is_found_outside_comments_only() {
    assert!(writes_sql("    let n = sqlx::query(\"SELECT 1\")"));
    assert!(writes_sql("sqlx::query_scalar::<_, i64>(q)"));
    assert!(!writes_sql("    // sqlx::query(\"SELECT 1\") was here"));
    assert!(!writes_sql("store::devices::by_cert(&db.pool, cert)"));
}
