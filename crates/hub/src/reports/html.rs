//! The proces-verbaal as a printable HTML page: one self-contained file, no
//! scripts, no external resources; every text from the records is escaped.

use super::proces_verbaal::ProcesVerbaal;
use super::{escape_markup as escape, format_time, Pdf};
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:11pt;line-height:1.4;color:#111;background:#fff;max-width:60rem;margin:1.5rem auto;padding:0 1rem}\
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:1.6rem;border-bottom:1px solid #555}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #777;padding:.25rem .4rem;text-align:left;vertical-align:top}\
th{background:#e8e8e8}.id{overflow-wrap:anywhere}.fout{color:#8b0000;font-weight:bold}.opm{white-space:pre-wrap}\
caption{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}\
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}";

impl ProcesVerbaal {
    /// The printable HTML page (UTF-8). Deterministic for the same records
    /// and generation time, so the seal covers exactly these bytes.
    pub fn to_html(&self) -> String {
        let mut h = String::with_capacity(64 * 1024 + self.irregularities.len() * 256);
        let e = escape;
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <title>Proces-verbaal {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>Proces-verbaal van afname</h1>\n",
            e(&self.sitting_id)
        );
        for section in self.sections() {
            let _ = write!(h, "<section aria-labelledby=\"{}\">\n<h2 id=\"{}\">{}</h2>\n", section.id, section.id, e(section.title));
            for p in &section.paragraphs {
                let class = if p.alert { " class=\"fout\"" } else { "" };
                let _ = writeln!(h, "<p{class}>{}</p>", e(&p.text));
            }
            if let Some(table) = &section.table {
                let _ = write!(h, "<table>\n<caption>{}</caption>\n<thead><tr>", e(section.title));
                for head in &table.headers {
                    let _ = write!(h, "<th scope=\"col\">{}</th>", e(head));
                }
                h.push_str("</tr></thead>\n<tbody>\n");
                for row in &table.rows {
                    h.push_str("<tr>");
                    for cell in row {
                        // Only long unbroken tokens (PC ids) may break anywhere.
                        let class = if cell.split_whitespace().any(|w| w.chars().count() > 20) { "opm id" } else { "opm" };
                        let _ = write!(h, "<td class=\"{class}\">{}</td>", e(cell));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody>\n</table>\n");
            }
            h.push_str("</section>\n");
        }
        let _ = write!(
            h,
            "<footer>\n<p>Gegenereerd door de examenserver op {} UTC. Verzegeld met de ondertekeningssleutel van de examenserver: \
             controleer met <code>exam-hub verify-pv</code> (zie docs/proces-verbaal.md).</p>\n</footer>\n</main>\n</body>\n</html>\n",
            e(&format_time(self.generated_ms))
        );
        h
    }

    /// The PDF document (A4, embedded DejaVu Sans).
    pub fn to_pdf(&self) -> Pdf {
        super::pdf::render(self)
    }
}

/// A section of the document, shared by the HTML and PDF renderers so both
/// say the same.
pub(crate) struct Section {
    pub id: &'static str,
    pub title: &'static str,
    pub paragraphs: Vec<Paragraph>,
    pub table: Option<Table>,
}

/// A paragraph; `alert` marks what needs the reader's attention.
pub(crate) struct Paragraph {
    pub text: String,
    pub alert: bool,
}

/// A table.
pub(crate) struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// Relative column widths (for the PDF).
    pub widths: Vec<u32>,
}

fn para(text: impl Into<String>) -> Paragraph {
    Paragraph { text: text.into(), alert: false }
}

fn opt_time(ms: Option<i64>) -> String {
    ms.map_or_else(|| "—".into(), format_time)
}

impl ProcesVerbaal {
    /// The document's content, in order.
    pub(crate) fn sections(&self) -> Vec<Section> {
        let present = self.seats.iter().filter(|s| s.status != super::SeatStatus::Absent).count();
        let submitted = self.seats.iter().filter(|s| s.status == super::SeatStatus::Submitted).count();
        let mut out = vec![Section {
            id: "afname",
            title: "Afname",
            paragraphs: vec![
                para(format!("Zitting: {}", self.sitting_id)),
                para(format!("Examen: {} (instrument {})", self.exam, self.instrument_id)),
                para(format!("Lokaal: {}", self.room)),
                para(format!("Gepland: {} UTC, {} minuten", format_time(self.planned_start_ms), self.duration_minutes)),
                para(format!("Gestart: {}", self.started_ms.map_or_else(|| "niet gestart op de examenserver".into(), |t| format!("{} UTC", format_time(t))))),
                para(format!("Uiterlijk einde (met de langste extra tijd): {} UTC", format_time(self.planned_end_ms))),
                para(match &self.ended {
                    Some((at, by)) => format!("Beëindigd: {} UTC door {}", format_time(*at), by.as_deref().unwrap_or("onbekend")),
                    None => "Beëindigd: niet vanuit de console".into(),
                }),
                para(format!("Laatste inlevering: {}", opt_time(self.last_submission_ms))),
                para(format!(
                    "Surveillanten: {}",
                    if self.invigilators.is_empty() { "geen handelingen geregistreerd".into() } else { self.invigilators.join(", ") }
                )),
                para(format!(
                    "Namen volgens de kiosk (niet gecontroleerd door de examenserver): {}",
                    if self.claimed_by_kiosk.is_empty() { "geen".into() } else { self.claimed_by_kiosk.join(", ") }
                )),
                para(format!("Kandidaten: {} gepland, {} aanwezig, {} afwezig, {} ingeleverd", self.seats.len(), present, self.seats.len() - present, submitted)),
            ],
            table: None,
        }];
        out.push(Section {
            id: "kandidaten",
            title: "Kandidaten",
            paragraphs: Vec::new(),
            table: Some(Table {
                headers: vec!["Studentnummer", "Naam", "Status", "Pc('s)", "Ingelogd", "Ingeleverd", "Bewijscode", "Extra tijd (min)"],
                widths: vec![13, 17, 11, 14, 11, 11, 9, 7],
                rows: self
                    .seats
                    .iter()
                    .map(|s| {
                        vec![
                            s.student_number.clone(),
                            s.name.clone(),
                            s.status.label().into(),
                            s.devices.join(" → "),
                            opt_time(s.first_login_ms),
                            opt_time(s.submitted_ms),
                            s.receipt_code.clone().unwrap_or_else(|| "—".into()),
                            format!("{} + {}", s.extra_minutes, s.added_minutes),
                        ]
                    })
                    .collect(),
            }),
        });
        out.push(Section {
            id: "verloop",
            title: "Verloop en onregelmatigheden",
            paragraphs: if self.irregularities.is_empty() { vec![para("Geen handelingen of onregelmatigheden geregistreerd.")] } else { Vec::new() },
            table: (!self.irregularities.is_empty()).then(|| Table {
                headers: vec!["Tijd (UTC)", "Soort", "Pc", "Student", "Omschrijving", "Bron"],
                widths: vec![12, 11, 12, 9, 48, 7],
                rows: self
                    .irregularities
                    .iter()
                    .map(|i| {
                        vec![
                            format_time(i.time_ms),
                            i.category.into(),
                            i.device_id.clone().unwrap_or_else(|| "—".into()),
                            i.student.clone().unwrap_or_else(|| "—".into()),
                            i.description.clone(),
                            i.source.into(),
                        ]
                    })
                    .collect(),
            }),
        });
        let mut journal_paragraphs = Vec::new();
        for j in &self.journals {
            let host = j.hostname.as_deref().map(|h| format!(" ({h})")).unwrap_or_default();
            journal_paragraphs.push(Paragraph {
                text: format!("Pc {}{host}, gebruikt door {}: {}", j.device_id, j.students.join(", "), j.statement),
                alert: !j.verified,
            });
            for alarm in &j.alarms {
                journal_paragraphs.push(Paragraph { text: format!("Alarm: {alarm}"), alert: true });
            }
        }
        if journal_paragraphs.is_empty() {
            journal_paragraphs.push(para("Geen pc's gebruikt."));
        }
        out.push(Section { id: "logboeken", title: "Logboeken", paragraphs: journal_paragraphs, table: None });
        out.push(Section {
            id: "opmerkingen",
            title: "Opmerkingen van surveillanten",
            paragraphs: if self.remarks.is_empty() { vec![para("Geen opmerkingen.")] } else { Vec::new() },
            table: (!self.remarks.is_empty()).then(|| Table {
                headers: vec!["Tijd (UTC)", "Door", "Opmerking"],
                widths: vec![14, 16, 70],
                rows: self.remarks.iter().map(|r| vec![format_time(r.created_ms), r.author.clone(), r.text.clone()]).collect(),
            }),
        });
        if !self.deletions.is_empty() {
            out.push(Section {
                id: "bewaartermijn",
                title: "Verwijderd na de bewaartermijn",
                paragraphs: self.deletions.iter().map(|d| para(d.clone())).collect(),
                table: None,
            });
        }
        out
    }
}
