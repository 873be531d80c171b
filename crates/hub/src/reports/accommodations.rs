//! The planning's accommodations in Dutch, as the proces-verbaal and the
//! code slips name them (one list, so both say the same).

/// The Dutch name of an accommodation the planning grants (`tools`), when
/// it is one of the documented ones: the first Dutch word of the planning's
/// vocabulary (one list for the import and the documents).
pub(crate) fn tool_in_dutch(id: &str) -> Option<&'static str> {
    crate::planning::vocabulary::TOOLS.iter().find(|(known, _)| *known == id).and_then(|(_, words)| words.first().copied())
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

/// The accommodations a candidate's planning row grants besides extra time
/// (`tools` `;`-separated, `text_size`, `contrast`), in Dutch.
pub(crate) fn planned(tools: &str, text_size: Option<&str>, contrast: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> =
        tools.split(';').map(str::trim).filter(|t| !t.is_empty()).map(|t| tool_in_dutch(t).map_or_else(|| t.to_string(), str::to_string)).collect();
    out.extend(text_size.filter(|v| !v.is_empty()).map(|v| presentation("text_size", v)));
    out.extend(contrast.filter(|v| !v.is_empty()).map(|v| presentation("contrast", v)));
    out
}
