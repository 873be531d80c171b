//! Reports from the hub's records: the sealed **proces-verbaal** of a
//! sitting (HTML and PDF), the **results export** (CSV for the student
//! information system, QTI 3 results reporting XML) and **retention** of
//! answers and journals. `docs/proces-verbaal.md` and `docs/hub.md` describe
//! the outputs.
//!
//! The console and the CLI call only the functions re-exported here:
//!
//! ```no_run
//! # async fn demo(db: &exam_hub::db::Db, keys: &exam_hub::pki::Keys) -> Result<(), exam_hub::reports::ReportError> {
//! use exam_hub::reports;
//! reports::add_remark(db, "S1", "j.jansen", "Lokaal 12 was 10 minuten te laat open.").await?;
//! let pv = reports::proces_verbaal(db, "S1").await?;
//! let html = pv.to_html();                       // printable page, all text escaped
//! let pdf = pv.to_pdf();                         // PDF with an embedded font
//! let seal = reports::seal(keys, pdf.as_bytes()); // detached Ed25519 signature
//! let results = reports::results(db, "S1").await?;
//! let csv = results.to_csv();
//! let qti = results.qti_documents();           // (student number, assessmentResult XML)
//! # let _ = (html, seal, csv, qti); Ok(()) }
//! ```

pub(crate) mod accommodations;
mod code_slips;
mod files;
mod html;
mod pdf;
mod proces_verbaal;
mod qti_results;
mod records;
mod remarks;
mod results;
pub mod retention;
pub mod scoring;
mod seal;

pub use code_slips::{code_list, code_slips};
pub use files::{verify_sealed_file, write_proces_verbaal, write_results};
pub use pdf::Pdf;
pub use qti_results::{result_file_name, QTI_RESULT_NAMESPACE};
pub(crate) use proces_verbaal::CLI_NAME;
/// Dutch local time (Europe/Amsterdam), also for the console's archive of sittings.
pub(crate) use proces_verbaal::local_time;
pub use proces_verbaal::{proces_verbaal, DeviceJournal, Irregularity, ProcesVerbaal, SeatStatus, SeatSummary, ToolsUsed};
pub use remarks::{add_remark, list_remarks, Remark, MAX_REMARK_LEN};
pub use results::{
    format_score, hand_scores, neutralise_formula, record_hand_score, results, HandScore, HandScored, ResultRow, ResultStatus, SittingResults, CSV_HEADER,
    HAND_SCORE_ACTION,
};
pub use retention::{run_retention, RetentionRule, RetentionSummary};
pub use scoring::import_scoring;
pub use seal::{seal, verify_seal, Seal, SealError, SEAL_DOMAIN};

/// Errors of the reports.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The sitting does not exist.
    #[error("no sitting {0}")]
    UnknownSitting(String),
    /// The instrument does not exist.
    #[error("no instrument {0}")]
    UnknownInstrument(String),
    /// Input refused, with the reason.
    #[error("{0}")]
    Invalid(String),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// A seal does not hold (the file changed, or another key sealed it).
    #[error("seal: {0}")]
    Seal(#[from] SealError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// Escapes text for HTML and XML, in element content and double-quoted
/// attributes alike; drops the control characters XML 1.0 cannot hold and
/// writes line breaks and tabs as character references (so they survive in
/// attributes too).
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push_str(&format!("&#{};", u32::from(c))),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A file name part: ASCII letters, digits, `-` and `_` kept, anything else `_`.
pub(crate) fn file_name_part(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '-') { c } else { '_' }).collect()
}

/// Formats a duration in milliseconds as `H:MM:SS`.
pub(crate) fn format_duration(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings built from the characters that matter to HTML, XML and
    /// spreadsheets, plus controls and non-ASCII, in many combinations.
    fn hostile_strings() -> Vec<String> {
        let alphabet = ['<', '>', '&', '"', '\'', '=', '+', '-', '@', '/', ';', '#', 'a', 'ë', '\n', '\t', '\r', '\u{1}', '\u{1b}', '\u{FFFF}', '€', '王'];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        (0..2_000)
            .map(|_| {
                (0..(state % 24))
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        alphabet[(state % alphabet.len() as u64) as usize]
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn escaped_text_never_contains_markup_or_xml_invalid_characters() {
        for s in hostile_strings() {
            let e = escape_markup(&s);
            assert!(!e.contains(['<', '>', '"', '\'']), "{s:?} -> {e:?}");
            assert!(!e.chars().any(|c| (c as u32) < 0x20 || c == '\u{FFFF}'), "{s:?} -> {e:?}");
            // Every & starts one of the references written here.
            for (i, _) in e.match_indices('&') {
                let rest = &e[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#9;", "&#10;", "&#13;"].iter().any(|r| rest.starts_with(r)),
                    "{s:?} -> {e:?}"
                );
            }
        }
    }

    #[test]
    fn neutralised_cells_never_start_a_formula() {
        for s in hostile_strings() {
            let cell = neutralise_formula(&s);
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{s:?} -> {cell:?}");
            assert!(cell.ends_with(&s));
        }
    }
}

/// A session phase (as the kiosk journals it and reports it in its
/// heartbeat) as the invigilator and the examination board read it.
pub(crate) fn phase_in_dutch(name: &str) -> &str {
    match name {
        "boot" | "starting" => "opstarten",
        "lockdown" => "afschermen",
        "location_check" => "locatiecontrole",
        "login" => "inloggen",
        "assignment" => "examen bevestigen",
        "download" => "examen ophalen",
        "waiting_for_start" => "wacht op de start",
        "in_exam" => "examen bezig",
        "locked" => "vergrendeld",
        "handing_in" => "inleveren",
        "submitted" => "ingeleverd",
        "resume" => "hervatten na herstart",
        other => other,
    }
}
