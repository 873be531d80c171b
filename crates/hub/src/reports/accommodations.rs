//! The planning's accommodations in Dutch, as the proces-verbaal and the
//! code slips name them (one list, so both say the same).

/// The Dutch name of an accommodation the planning grants (`tools`), when
/// it is one of the documented ones.
pub(crate) fn tool_in_dutch(id: &str) -> Option<&'static str> {
    match id {
        "read-aloud" => Some("voorleessoftware"),
        "spell-check" => Some("spellingcontrole"),
        "dictionary" => Some("woordenboek"),
        "calculator" => Some("rekenmachine"),
        "screen-reader" => Some("schermlezer"),
        "magnifier" => Some("vergrootsoftware"),
        _ => None,
    }
}

/// Text size and contrast from the planning, in Dutch.
pub(crate) fn presentation(kind: &str, value: &str) -> String {
    match (kind, value) {
        ("text_size", "large") => "grote letters".into(),
        ("text_size", "x-large" | "extra-large") => "extra grote letters".into(),
        ("contrast", "high") => "hoog contrast".into(),
        ("text_size", v) => format!("lettergrootte {v}"),
        (_, v) => format!("contrast {v}"),
    }
}
