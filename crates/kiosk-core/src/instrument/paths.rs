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
/// package path: `../img/a.png` in `items/q1.xml` is `img/a.png`. Refuses
/// URLs with a scheme (`https:`, `data:`, ...), absolute paths, fragments
/// and queries, and anything that climbs above the package root.
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
    if reference.starts_with('/') {
        return Err("absolute reference".into());
    }
    if reference.contains(['?', '#', '\\']) {
        return Err("queries, fragments and backslashes are not allowed in references".into());
    }
    let decoded = percent_decode(reference)?;
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop(); // the referencing file itself
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

/// Decodes `%XX` escapes (UTF-8); what is wrong with a bad escape otherwise.
pub(crate) fn percent_decode(text: &str) -> Result<String, String> {
    if !text.contains('%') {
        return Ok(text.to_string());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or("truncated %-escape")?;
            let s = std::str::from_utf8(hex).map_err(|_| "bad %-escape")?;
            out.push(u8::from_str_radix(s, 16).map_err(|_| "bad %-escape")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "%-escape is not UTF-8".into())
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
        for bad in ["../../x.png", "../x.png", "https://evil.example/x.png", "data:image/png;base64,AA", "/x", "a.png#f", "file:///etc/passwd"] {
            assert!(resolve("q1.xml", bad).is_err(), "{bad}");
        }
    }
}
