//! File paths inside a package: what is accepted, and how QTI references
//! resolve. A path never leaves the package: it is relative, `/`-separated,
//! has no `.`/`..`/empty components, no backslashes, drive letters, NULs or
//! control characters, and is unique even on case-insensitive file systems.

/// Longest accepted path, in bytes.
pub const MAX_PATH_BYTES: usize = 255;
/// Deepest accepted path, in components.
pub const MAX_PATH_DEPTH: usize = 16;

/// Checks a package path; the reason on refusal.
pub fn validate(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("empty path".into());
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(format!("longer than {MAX_PATH_BYTES} bytes"));
    }
    if path.starts_with('/') {
        return Err("absolute path".into());
    }
    if let Some(c) = path.chars().find(|c| c.is_control() || matches!(c, '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')) {
        return Err(format!("forbidden character {c:?}"));
    }
    let mut depth = 0;
    for component in path.split('/') {
        depth += 1;
        match component {
            "" => return Err("empty path component (`//` or trailing `/`)".into()),
            "." | ".." => return Err(format!("`{component}` component escapes or aliases the package")),
            c if c.ends_with('.') || c.ends_with(' ') || c.starts_with(' ') => {
                return Err("component starts/ends with a space or ends with a dot".into())
            }
            _ => {}
        }
    }
    if depth > MAX_PATH_DEPTH {
        return Err(format!("deeper than {MAX_PATH_DEPTH} components"));
    }
    Ok(())
}

/// Resolves a reference found in the file `base` (a package path) to a
/// package path: `../img/a.png` in `items/q1.xml` is `img/a.png`; a leading
/// `/` means the package root (`/img/a.png` is `img/a.png` from any file:
/// the practice of QTI players such as Citolab's, where the package root is
/// the site root). Refuses URLs with a scheme (`https:`, `data:`, ...),
/// network-path references (`//host/x`), `/` alone, fragments and queries,
/// and anything that climbs above the package root (`/../x`).
pub fn resolve(base: &str, reference: &str) -> Result<String, String> {
    if reference.is_empty() {
        return Err("empty reference".into());
    }
    if let Some(colon) = reference.find(':') {
        let scheme = &reference[..colon];
        if !scheme.contains('/') {
            return Err(format!("external or `{scheme}:` references are not allowed in an exam package"));
        }
    }
    if reference.starts_with("//") {
        return Err("a `//host/…` reference names another server; external references are not allowed in an exam package".into());
    }
    let (reference, from_root) = match reference.strip_prefix('/') {
        Some("") => return Err("`/` alone names no file".into()),
        Some(rest) => (rest, true),
        None => (reference, false),
    };
    if reference.contains(['?', '#', '\\']) {
        return Err("queries, fragments and backslashes are not allowed in references".into());
    }
    let decoded = percent_decode(reference)?;
    let mut parts: Vec<&str> = if from_root { Vec::new() } else { base.split('/').collect() };
    if !from_root {
        parts.pop(); // the referencing file itself
    }
    for component in decoded.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("reference climbs above the package root".into());
                }
            }
            c => parts.push(c),
        }
    }
    let joined = parts.join("/");
    validate(&joined)?;
    Ok(joined)
}

/// Decodes `%XX` escapes (UTF-8, with the `percent-encoding` crate); a `%`
/// not followed by two hex digits is refused (that crate would keep it as
/// it is), as is an escape that is not UTF-8.
pub fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices('%') {
        match bytes.get(i + 1..i + 3) {
            None => return Err("truncated %-escape".into()),
            Some(hex) if !hex.iter().all(u8::is_ascii_hexdigit) => return Err("bad %-escape".into()),
            Some(_) => {}
        }
    }
    percent_encoding::percent_decode_str(text).decode_utf8().map(|s| s.into_owned()).map_err(|_| "%-escape is not UTF-8".into())
}

/// The key two paths collide on when the file system ignores case.
pub fn collision_key(path: &str) -> String {
    path.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for p in ["imsmanifest.xml", "items/q1.xml", "media/Figuur 1.png", "a/b/c.d"] {
            assert_eq!(validate(p), Ok(()), "{p}");
        }
    }

    #[test]
    fn refuses_escapes_and_tricks() {
        for p in [
            "", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", "C:/x", "c:x", "a\\b", "a\0b", "a\nb",
            "con.", " a", "a/b /c",
        ] {
            assert!(validate(p).is_err(), "{p:?} accepted");
        }
        assert!(validate("a/".repeat(20).trim_end_matches('/')).is_err());
        assert!(validate(&"x".repeat(300)).is_err());
    }

    #[test]
    fn resolves_relative_references() {
        assert_eq!(resolve("items/q1.xml", "../img/a.png").unwrap(), "img/a.png");
        assert_eq!(resolve("items/q1.xml", "img/a.png").unwrap(), "items/img/a.png");
        assert_eq!(resolve("test.xml", "items/q%201.xml").unwrap(), "items/q 1.xml");
        // Issue 16: the hand-written decoder took "%+F" as an escape (from_str_radix accepts a sign).
        for bad in ["items/q%+F.xml", "items/q%-1.xml", "items/q%2", "items/q%zz.xml", "items/q%C3.xml"] {
            assert!(resolve("test.xml", bad).is_err(), "{bad}");
        }
        assert_eq!(percent_decode("a%+Fb"), Err("bad %-escape".into()));
        // Issue 16: every malformed escape is refused, not kept or guessed.
        for bad in ["%G0", "a%G0b", "%", "a%", "%0", "100%", "%-1", "% 1", "%0g"] {
            assert!(percent_decode(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(percent_decode("%25%2B%2f"), Ok("%+/".into()));
        assert_eq!(percent_decode("caf%C3%A9"), Ok("café".into()));
        for bad in ["../../x.png", "../x.png", "https://evil.example/x.png", "data:image/png;base64,AA", "a.png#f", "file:///etc/passwd"] {
            assert!(resolve("q1.xml", bad).is_err(), "{bad}");
        }
    }

    /// Issue 18: a leading `/` is the package root (Citolab's items use
    /// `/img/…`, `/ref/…`), and stays inside the package.
    #[test]
    fn a_leading_slash_is_the_package_root_and_stays_inside() {
        assert_eq!(resolve("items/deep/q1.xml", "/img/a.png").unwrap(), "img/a.png");
        assert_eq!(resolve("q1.xml", "/ref/stimulus.xml").unwrap(), "ref/stimulus.xml");
        assert_eq!(resolve("items/q1.xml", "/img/../media/a%20b.png").unwrap(), "media/a b.png");
        for (bad, why) in [
            ("/../x.png", "climbs above the package root"),
            ("/img/../../x.png", "climbs above the package root"),
            ("//host/x.png", "names another server"),
            ("//", "names another server"),
            ("/", "`/` alone"),
            ("/a.png?x=1", "queries"),
            ("/C:/x.png", "forbidden character"),
            ("/%2e%2e/x.png", "climbs above the package root"),
        ] {
            let err = resolve("items/q1.xml", bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }
}
