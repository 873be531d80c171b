//! QTI 3.0 Results Reporting: one `assessmentResult` document per candidate
//! with the candidate's response variables and the hub's SCORE outcomes.
//!
//! Written by hand with escaping, so every value is text in the document
//! and no input can add elements or attributes.

use super::results::{format_score, ResultRow, ResultStatus, SittingResults};
use serde_json::Value;
use std::fmt::Write as _;

/// The QTI 3.0 results reporting namespace.
pub const QTI_RESULT_NAMESPACE: &str = "http://www.imsglobal.org/xsd/imsqti_result_v3p0";

fn response_values(value: &Value) -> (Vec<String>, &'static str) {
    match value {
        Value::Null => (Vec::new(), "single"),
        Value::Array(items) => (
            items
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect(),
            "multiple",
        ),
        Value::String(s) if s.is_empty() => (Vec::new(), "single"),
        Value::String(s) => (vec![s.clone()], "single"),
        other => (vec![other.to_string()], "single"),
    }
}

fn outcome(out: &mut String, indent: &str, identifier: &str, value: Option<f64>) {
    if let Some(v) = value {
        let _ = writeln!(
            out,
            "{indent}<outcomeVariable identifier=\"{identifier}\" cardinality=\"single\" baseType=\"float\"><value>{}</value></outcomeVariable>",
            format_score(v)
        );
    }
}

impl SittingResults {
    /// One QTI 3 `assessmentResult` document per candidate who has answers:
    /// (student number, XML). Absent candidates have no result document.
    pub fn qti_documents(&self) -> Vec<(String, String)> {
        self.rows
            .iter()
            .filter(|r| matches!(r.status, ResultStatus::Submitted | ResultStatus::NotSubmitted | ResultStatus::HandedInOutsideTime(_)))
            .map(|r| (r.student_number.clone(), self.qti_document(r)))
            .collect()
    }

    fn qti_document(&self, row: &ResultRow) -> String {
        let e = super::escape_markup;
        let datestamp = row.received_ms.map(crate::planning::format_ms).unwrap_or_default();
        // Only a hand-in made in time is final; the responses are those made in time.
        let status = if row.status == ResultStatus::Submitted { "final" } else { "pendingSubmission" };
        let mut x = String::with_capacity(1024 + row.items.len() * 512);
        let _ = write!(
            x,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<assessmentResult xmlns=\"{QTI_RESULT_NAMESPACE}\">\n  \
             <context sourcedId=\"{}\">\n    <sessionIdentifier sourceID=\"exam-hub\" identifier=\"{}\"/>\n  </context>\n  \
             <testResult identifier=\"{}\" datestamp=\"{}\">\n",
            e(&row.student_number),
            e(&format!("{}/{}", self.sitting_id, row.student_number)),
            e(&self.instrument_id),
            e(&datestamp),
        );
        // A partial sum is no test score: SCORE only once no item waits for a person.
        outcome(&mut x, "    ", "SCORE", row.score.filter(|_| row.is_final()));
        outcome(&mut x, "    ", "MAXSCORE", row.max_score);
        x.push_str("  </testResult>\n");
        for (index, item) in row.items.iter().enumerate() {
            // An item waiting for a person's score is not final yet.
            let status = if status == "final" && row.pending.contains(&item.ref_identifier) { "pendingResponseProcessing" } else { status };
            let _ = writeln!(
                x,
                "  <itemResult identifier=\"{}\" sequenceIndex=\"{}\" datestamp=\"{}\" sessionStatus=\"{status}\">",
                e(&item.ref_identifier),
                index + 1,
                e(&datestamp)
            );
            // Every declared response (unanswered ones with an empty
            // candidateResponse), then anything else the kiosk sent.
            let mut identifiers: Vec<&String> = item.declared.keys().collect();
            identifiers.extend(item.responses.keys().filter(|k| !item.declared.contains_key(*k)));
            for identifier in identifiers {
                let (values, shape) = response_values(item.responses.get(identifier).unwrap_or(&Value::Null));
                let (cardinality, base_type) = match item.declared.get(identifier) {
                    Some((cardinality, base_type)) => (cardinality.as_str(), base_type.as_deref()),
                    None => (shape, None),
                };
                let base_type = base_type.map(|b| format!(" baseType=\"{}\"", e(b))).unwrap_or_default();
                let _ = writeln!(x, "    <responseVariable identifier=\"{}\" cardinality=\"{}\"{base_type}>", e(identifier), e(cardinality));
                x.push_str("      <candidateResponse>");
                for v in &values {
                    let _ = write!(x, "<value>{}</value>", e(v));
                }
                x.push_str("</candidateResponse>\n    </responseVariable>\n");
            }
            outcome(&mut x, "    ", "SCORE", item.score);
            outcome(&mut x, "    ", "MAXSCORE", item.max_score);
            x.push_str("  </itemResult>\n");
        }
        x.push_str("</assessmentResult>\n");
        x
    }
}

/// A file name for a student's result document (see [`super::file_name_part`]).
pub fn result_file_name(student_number: &str) -> String {
    format!("result-{}.xml", super::file_name_part(student_number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup_and_no_invalid_characters() {
        assert_eq!(super::super::escape_markup("<a href='x'>&\"\u{1}\n"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&#10;");
        assert_eq!(result_file_name("../../etc/passwd"), "result-______etc_passwd.xml");
    }
}
