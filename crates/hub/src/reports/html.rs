//! The proces-verbaal as a printable HTML page: one self-contained file, no
//! scripts, no external resources; every text from the records is escaped.
//! [`ProcesVerbaal::sections`] is the document's content, shared with the
//! PDF renderer so both say the same.

use super::escape_markup as escape;
use super::proces_verbaal::local_time::{self, clock, hour_minute, long_date, long_date_time};
use super::proces_verbaal::ProcesVerbaal;
use super::{Pdf, SeatStatus};
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:11pt;line-height:1.4;color:#111;background:#fff;max-width:60rem;margin:1.5rem auto;padding:0 1rem}\
h1{font-size:1.6rem;margin-bottom:.2rem}.school{font-size:1.1rem;margin-top:0}h2{font-size:1.2rem;margin-top:1.6rem;border-bottom:1px solid #555}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #777;padding:.25rem .4rem;text-align:left;vertical-align:top}\
th{background:#e8e8e8}td{overflow-wrap:normal;word-break:normal;hyphens:manual}.fout{color:#8b0000;font-weight:bold}.opm{white-space:pre-wrap}\
dl{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem}dt{font-weight:bold}dd{margin:0}\
.teken td{height:3.2rem}.bijlage{break-before:page;font-size:.9rem}\
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
             <title>Proces-verbaal {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n<p class=\"school\">{}</p>\n",
            e(&self.sitting_id),
            e(TITLE),
            e(&self.subtitle())
        );
        for section in self.sections() {
            let class = if section.appendix { " class=\"bijlage\"" } else { "" };
            let _ = write!(h, "<section{class} aria-labelledby=\"{}\">\n<h2 id=\"{}\">{}</h2>\n", section.id, section.id, e(&section.title));
            if !section.facts.is_empty() {
                h.push_str("<dl>\n");
                for (label, value) in &section.facts {
                    let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", e(label), e(value));
                }
                h.push_str("</dl>\n");
            }
            for p in &section.paragraphs {
                let class = if p.alert { " class=\"fout\"" } else { "" };
                let _ = writeln!(h, "<p{class}>{}</p>", e(&p.text));
            }
            if let Some(table) = &section.table {
                let _ = write!(h, "<table>\n<caption>{}</caption>\n<thead><tr>", e(&section.title));
                for head in &table.headers {
                    let _ = write!(h, "<th scope=\"col\">{}</th>", e(head));
                }
                h.push_str("</tr></thead>\n<tbody>\n");
                for row in &table.rows {
                    h.push_str("<tr>");
                    for cell in row {
                        let _ = write!(h, "<td class=\"opm\">{}</td>", e(cell));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody>\n</table>\n");
            }
            if let Some(sig) = &section.signatures {
                h.push_str("<table class=\"teken\">\n<caption>Ondertekening</caption>\n<thead><tr><th scope=\"col\">Naam</th><th scope=\"col\">Functie</th><th scope=\"col\">Handtekening</th></tr></thead>\n<tbody>\n");
                for (name, role) in &sig.people {
                    let _ = writeln!(h, "<tr><td>{}</td><td>{}</td><td></td></tr>", e(name), e(role));
                }
                h.push_str("</tbody>\n</table>\n");
                let _ = writeln!(h, "<p>Plaats: {}</p>\n<p>Datum: {}</p>", e(&sig.place), e(&sig.date));
            }
            h.push_str("</section>\n");
        }
        let _ = write!(h, "<footer>\n<p>{}</p>\n</footer>\n</main>\n</body>\n</html>\n", e(&self.footer()));
        h
    }

    /// The PDF document (A4, embedded DejaVu Sans).
    pub fn to_pdf(&self) -> Pdf {
        super::pdf::render(self)
    }

    /// The line under the title: school, location, date.
    pub(crate) fn subtitle(&self) -> String {
        let mut parts = Vec::new();
        if let Some(school) = &self.school {
            parts.push(school.clone());
        }
        parts.push(format!("lokaal {}", self.room));
        parts.push(long_date(self.planned_start_ms));
        parts.join(" — ")
    }

    /// The footer of every page (the PDF adds the page number).
    pub(crate) fn footer(&self) -> String {
        format!("Proces-verbaal {} — opgemaakt door de examenserver op {}", self.sitting_id, long_date_time(self.generated_ms))
    }
}

/// The document's title.
pub(crate) const TITLE: &str = "Proces-verbaal van afname";

/// A section of the document, shared by the HTML and PDF renderers so both
/// say the same.
pub(crate) struct Section {
    pub id: &'static str,
    pub title: String,
    /// Label and value lines (the form part of the document).
    pub facts: Vec<(&'static str, String)>,
    pub paragraphs: Vec<Paragraph>,
    pub table: Option<Table>,
    pub signatures: Option<Signatures>,
    /// An appendix: starts on a new page.
    pub appendix: bool,
}

impl Section {
    pub(crate) fn new(id: &'static str, title: impl Into<String>) -> Self {
        Self { id, title: title.into(), facts: Vec::new(), paragraphs: Vec::new(), table: None, signatures: None, appendix: false }
    }
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
    /// Relative column widths (for the PDF; each column is at least as wide
    /// as its widest word).
    pub widths: Vec<u32>,
}

/// The signature block: who signs (name, role), place and date lines.
pub(crate) struct Signatures {
    pub people: Vec<(String, &'static str)>,
    pub place: String,
    pub date: String,
}

fn para(text: impl Into<String>) -> Paragraph {
    Paragraph { text: text.into(), alert: false }
}

/// A hexadecimal hash in groups of eight, so it wraps between groups.
pub(crate) fn grouped(hex: &str) -> String {
    hex.as_bytes().chunks(8).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

const DASH: &str = "—";

impl ProcesVerbaal {
    fn day(&self) -> Option<(i16, i8, i8)> {
        local_time::day_of(self.started_ms.unwrap_or(self.planned_start_ms))
    }

    fn at(&self, ms: i64) -> String {
        clock(ms, self.day())
    }

    fn hm(&self, ms: i64) -> String {
        hour_minute(ms, self.day())
    }

    fn opt_hm(&self, ms: Option<i64>) -> String {
        ms.map_or_else(|| DASH.into(), |t| self.hm(t))
    }

    fn student_label(&self, number: &str) -> String {
        match self.seats.iter().find(|s| s.student_number == number) {
            Some(s) if !s.name.trim().is_empty() => format!("{number} {}", s.name),
            _ => number.to_string(),
        }
    }

    /// The document's content, in order.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn sections(&self) -> Vec<Section> {
        let present = self.seats.iter().filter(|s| s.status != SeatStatus::Absent).count();
        let submitted = self.seats.iter().filter(|s| s.status == SeatStatus::Submitted).count();
        let mut out = Vec::new();

        let mut afname = Section::new("afname", "1. Afname");
        let instrument = {
            let mut text = self.instrument_id.clone();
            if let Some(title) = &self.instrument_title {
                text.push_str(&format!(" — {title}"));
            }
            match &self.instrument_version {
                Some(v) => text.push_str(&format!(", versie {v}")),
                None => text.push_str(", versie niet bekend"),
            }
            text
        };
        let start = self.started_ms.unwrap_or(self.planned_start_ms).max(self.planned_start_ms);
        afname.facts = vec![
            ("School", self.school.clone().unwrap_or_else(|| "niet bekend bij de examenserver (zie hieronder)".into())),
            ("Locatie", self.location.clone().unwrap_or_else(|| "geen omschrijving in het beleid van de examenserver".into())),
            ("Lokaal", self.room.clone()),
            ("Examen", self.exam.clone()),
            ("Examencode", self.exam_code.clone().unwrap_or_else(|| "niet opgegeven in de planning".into())),
            ("Instrument", instrument),
            ("Hulpmiddelen examen", self.instrument_tools.clone().unwrap_or_else(|| "niet bekend: het instrument staat niet op de examenserver".into())),
            ("Pakket (SHA-256)", self.instrument_sha256.as_deref().map_or_else(|| "niet bekend".into(), grouped)),
            ("Zitting", self.sitting_id.clone()),
            ("Datum", long_date(self.planned_start_ms)),
            (
                "Gepland",
                format!(
                    "{} tot {} ({} minuten)",
                    self.hm(self.planned_start_ms),
                    self.hm(self.planned_start_ms + self.duration_minutes * 60_000),
                    self.duration_minutes
                ),
            ),
            (
                "Gestart",
                // Without a joint start the sitting began on time, at each login.
                match (self.started_ms, self.seats.iter().filter_map(|s| s.first_login_ms).min()) {
                    (Some(t), _) => format!("{} (gezamenlijke start)", self.hm(t)),
                    (None, Some(first)) => format!("op de geplande tijd, zonder gezamenlijke start (eerste aanmelding {})", self.hm(first)),
                    (None, None) => "niet gestart: geen student meldde zich aan".into(),
                },
            ),
            (
                "Uiterlijk einde",
                format!("{} (start {} + {} minuten + de langste extra tijd)", self.hm(self.planned_end_ms), self.hm(start), self.duration_minutes),
            ),
            (
                "Beëindigd",
                match &self.ended {
                    Some((at, by)) => format!("{} door {}", self.hm(*at), by.as_deref().unwrap_or("onbekend")),
                    None => "niet vanuit de console".into(),
                },
            ),
            ("Laatste inlevering", self.opt_hm(self.last_submission_ms)),
            ("Kandidaten", format!("{} gepland, {} aanwezig, {} afwezig, {} ingeleverd", self.seats.len(), present, self.seats.len() - present, submitted)),
            ("Tijden", format!("Nederlandse tijd ({})", local_time::season(self.planned_start_ms))),
        ];
        for note in &self.notes {
            afname.paragraphs.push(Paragraph { text: format!("Niet vastgesteld: {note}"), alert: true });
        }
        out.push(afname);

        let mut people = Section::new("surveillanten", "2. Surveillanten en examenbureau");
        people.facts = vec![
            (
                "Volgens de examenserver",
                if self.invigilators.is_empty() { "geen handelingen geregistreerd".into() } else { self.invigilators.join(", ") },
            ),
            (
                "Met pincode op een pc",
                if self.claimed_by_kiosk.is_empty() { "niemand".into() } else { self.claimed_by_kiosk.join(", ") },
            ),
        ];
        people.paragraphs.push(para(
            "Volgens de examenserver: wie in de console of op de opdrachtregel van de examenserver handelde of een opmerking schreef. \
             Met pincode op een pc: wie een pc ontgrendelde of een hervatting bevestigde, zoals het logboek van die pc het zegt; \
             de pincode controleert de pc, niet de examenserver.",
        ));
        out.push(people);

        let mut candidates = Section::new("kandidaten", "3. Kandidaten");
        candidates.table = Some(Table {
            headers: vec!["Kandidaat", "Status", "Pc", "Start", "Einde", "Extra tijd", "Voorzieningen", "Gebruikt", "Bewijscode"],
            widths: vec![15, 11, 10, 6, 6, 9, 13, 21, 9],
            rows: self
                .seats
                .iter()
                .map(|s| {
                    let status = match (s.status, s.ended_by_invigilator) {
                        (SeatStatus::Submitted, false) => "aanwezig, ingeleverd".to_string(),
                        (SeatStatus::Submitted, true) => "aanwezig, examen beëindigd door de surveillant, ingeleverd".to_string(),
                        (SeatStatus::Present, true) => "aanwezig, examen beëindigd door de surveillant".to_string(),
                        (other, _) => other.label().to_string(),
                    };
                    let extra = match (s.extra_minutes, s.added_minutes) {
                        (0, 0) => DASH.to_string(),
                        (planned, 0) => format!("{planned} min"),
                        (0, added) => format!("{added} min tijdens de afname"),
                        (planned, added) => format!("{planned} min + {added} min tijdens de afname"),
                    };
                    vec![
                        format!("{} {}", s.student_number, s.name),
                        status,
                        if s.pcs.is_empty() { DASH.into() } else { s.pcs.join(" → ") },
                        self.opt_hm(s.first_login_ms),
                        self.opt_hm(s.ended_ms),
                        extra,
                        if s.accommodations.is_empty() { DASH.into() } else { s.accommodations.join(", ") },
                        // One tool a line: granted and used side by side.
                        s.tools_used.as_ref().map_or_else(|| DASH.into(), |t| t.lines().join("\n")),
                        s.receipt_code.clone().unwrap_or_else(|| DASH.into()),
                    ]
                })
                .collect(),
        });
        candidates.paragraphs.push(para(
            "Start: eerste aanmelding op een pc. Einde: inlevering, of de beëindiging van het examen van de kandidaat. \
             Gebruikt: wat de kandidaat van de hulpmiddelen van het examen gebruikte, alleen in aantallen (nooit wat er berekend, \
             voorgelezen of geschreven werd): rekenmachine, voorlezen en spellingcontrole volgens het logboek van de pc, kladblok en markeerstift \
             volgens de laatst opgeslagen antwoorden. Bewijscode: de code die de kandidaat bij het inleveren zag.",
        ));
        for s in self.seats.iter().filter(|s| s.tools_used.as_ref().is_some_and(|t| t.read_aloud_not_granted)) {
            candidates.paragraphs.push(Paragraph {
                text: format!(
                    "Kandidaat {}: voorlezen gebruikt zonder toekenning. De examensoftware weigert dat; zie de bijzonderheden per kandidaat.",
                    self.student_label(&s.student_number)
                ),
                alert: true,
            });
        }
        out.push(candidates);

        let mut per_student = Section::new("bijzonderheden", "4. Bijzonderheden per kandidaat");
        let mut rows = Vec::new();
        for seat in &self.seats {
            let mut first = true;
            for i in self.irregularities.iter().filter(|i| i.student.as_deref() == Some(seat.student_number.as_str())) {
                rows.push(vec![
                    if first { self.student_label(&seat.student_number) } else { String::new() },
                    self.at(i.time_ms),
                    i.category.into(),
                    i.pc.clone().unwrap_or_else(|| DASH.into()),
                    i.description.clone(),
                    i.source.into(),
                ]);
                first = false;
            }
        }
        // Students named in entries but not planned in this sitting.
        for i in self.irregularities.iter().filter(|i| i.student.as_deref().is_some_and(|n| !self.seats.iter().any(|s| s.student_number == n))) {
            rows.push(vec![
                self.student_label(i.student.as_deref().unwrap_or_default()),
                self.at(i.time_ms),
                i.category.into(),
                i.pc.clone().unwrap_or_else(|| DASH.into()),
                i.description.clone(),
                i.source.into(),
            ]);
        }
        if rows.is_empty() {
            per_student.paragraphs.push(para("Geen bijzonderheden bij kandidaten geregistreerd."));
        } else {
            per_student.paragraphs.push(para(
                "Bron hub: de registratie van de examenserver zelf; bron logboek: het gecontroleerde logboek van de pc (tijd van de klok van die pc).",
            ));
            per_student.table = Some(Table { headers: vec!["Kandidaat", "Tijd", "Soort", "Pc", "Omschrijving", "Bron"], widths: vec![14, 8, 12, 10, 48, 8], rows });
        }
        out.push(per_student);

        let mut course = Section::new("verloop", "5. Verloop van de afname");
        let general: Vec<_> = self.irregularities.iter().filter(|i| i.student.is_none()).collect();
        if general.is_empty() {
            course.paragraphs.push(para("Geen handelingen of onregelmatigheden buiten die bij kandidaten geregistreerd."));
        } else {
            course.table = Some(Table {
                headers: vec!["Tijd", "Soort", "Pc", "Omschrijving", "Bron"],
                widths: vec![9, 13, 11, 59, 8],
                rows: general
                    .iter()
                    .map(|i| {
                        vec![self.at(i.time_ms), i.category.into(), i.pc.clone().unwrap_or_else(|| DASH.into()), i.description.clone(), i.source.into()]
                    })
                    .collect(),
            });
        }
        out.push(course);

        let mut journals = Section::new("logboeken", "6. Logboeken van de pc's");
        if self.journals.is_empty() {
            journals.paragraphs.push(para("Geen pc's gebruikt."));
        } else {
            for j in self.journals.iter().filter(|j| !j.verified) {
                journals.paragraphs.push(Paragraph {
                    text: format!("Pc {}: het logboek is niet (volledig) gecontroleerd, zie de verklaring hieronder.", j.label),
                    alert: true,
                });
            }
            journals.table = Some(Table {
                headers: vec!["Pc", "Gebruikt door", "Verklaring van de examenserver"],
                widths: vec![14, 16, 70],
                rows: self
                    .journals
                    .iter()
                    .map(|j| {
                        let students: Vec<String> = j.students.iter().map(|s| self.student_label(s)).collect();
                        vec![j.label.clone(), if students.is_empty() { DASH.into() } else { students.join(", ") }, j.statement.clone()]
                    })
                    .collect(),
            });
        }
        out.push(journals);

        let mut remarks = Section::new("opmerkingen", "7. Opmerkingen van surveillanten");
        if self.remarks.is_empty() {
            remarks.paragraphs.push(para("Geen opmerkingen."));
        } else {
            remarks.table = Some(Table {
                headers: vec!["Tijd", "Door", "Opmerking"],
                widths: vec![10, 18, 72],
                rows: self.remarks.iter().map(|r| vec![self.at(r.created_ms), super::proces_verbaal::display_person(&r.author), r.text.clone()]).collect(),
            });
        }
        out.push(remarks);

        let mut number = 8;
        if !self.deletions.is_empty() {
            let mut deleted = Section::new("bewaartermijn", format!("{number}. Verwijderd na de bewaartermijn"));
            deleted.paragraphs = self.deletions.iter().map(|d| para(d.clone())).collect();
            out.push(deleted);
            number += 1;
        }

        let mut signing = Section::new("ondertekening", format!("{number}. Ondertekening"));
        signing.paragraphs.push(para(format!(
            "Aldus naar waarheid opgemaakt over de afname van {} op {} in lokaal {}{}.",
            self.exam,
            long_date(self.planned_start_ms),
            self.room,
            self.school.as_deref().map(|s| format!(" van {s}")).unwrap_or_default()
        )));
        let mut signers: Vec<(String, &'static str)> = Vec::new();
        for name in &self.invigilators {
            if name == super::proces_verbaal::CLI_LABEL {
                continue;
            }
            signers.push((name.clone(), "surveillant"));
        }
        for name in &self.claimed_by_kiosk {
            // The roster name, without the id and remarks in brackets.
            let plain = name.split(" (").next().unwrap_or(name).to_string();
            if !signers.iter().any(|(n, _)| *n == plain) {
                signers.push((plain, "surveillant (pincode)"));
            }
        }
        signers.push((String::new(), "surveillant"));
        signers.push((String::new(), "namens de examencommissie"));
        signing.signatures = Some(Signatures { people: signers, place: String::new(), date: String::new() });
        out.push(signing);

        out.extend(self.appendix());
        out
    }

    /// Bijlage A: the evidence for whoever wants to check it: ids, hashes,
    /// Merkle roots, alarms, how to check the seal.
    fn appendix(&self) -> Vec<Section> {
        let mut a = Section::new("bijlage", "Bijlage A. Technische verantwoording");
        a.appendix = true;
        a.paragraphs.push(para(
            "Voor wie het bewijs wil narekenen. Tijden in deze bijlage met hun verschil met de wereldtijd; hashes in groepen van acht tekens.",
        ));
        a.facts = vec![
            ("Instrumentpakket", format!("{} — SHA-256 {}", self.instrument_id, self.instrument_sha256.as_deref().map_or_else(|| "niet bekend".into(), grouped))),
            ("Opgemaakt", local_time::technical(self.generated_ms)),
        ];
        if self.journals.is_empty() && self.pcs.is_empty() {
            a.paragraphs.push(para("Geen pc's."));
        } else {
            let rows = self
                .pcs
                .iter()
                .map(|(name, id)| {
                    let journal = self.journals.iter().find(|j| &j.device_id == id);
                    let log = match journal {
                        Some(j) if j.records > 0 => match &j.checkpoint {
                            Some((size, root)) => format!("{} records; checkpoint over records 0..{size}, Merkle-root {}", j.records, grouped(root)),
                            None => format!("{} records; geen checkpoint", j.records),
                        },
                        Some(_) => "geen logboek ontvangen".into(),
                        None => "niet gebruikt in deze zitting".into(),
                    };
                    let alarms = journal.map(|j| j.alarms.join("; ")).filter(|a| !a.is_empty()).unwrap_or_else(|| DASH.into());
                    vec![name.clone(), grouped(id), log, alarms]
                })
                .collect();
            a.table = Some(Table { headers: vec!["Pc", "Apparaat-id", "Logboek", "Alarmen"], widths: vec![13, 20, 37, 30], rows });
        }
        let mut out = vec![a];
        if !self.references.is_empty() {
            let mut refs = Section::new("kenmerken", "Kenmerken in de tekst");
            refs.appendix = true;
            refs.table = Some(Table {
                headers: vec!["Kenmerk", "Waarde"],
                widths: vec![15, 85],
                rows: self.references.iter().map(|(n, id)| vec![format!("[kenmerk {n}]"), grouped(id)]).collect(),
            });
            out.push(refs);
        }
        let mut seal = Section::new("zegel", "Verzegeling");
        seal.appendix = true;
        seal.paragraphs.push(para(format!(
            "Dit bestand is verzegeld met de ondertekeningssleutel van de examenserver; het zegel staat in het bestand met dezelfde naam en .sig erachter \
             (proces-verbaal-{id}.pdf.sig bij de PDF). Controle door de examencommissie, met de openbare sleutel die de school bekendmaakte: \
             exam-hub verify-pv proces-verbaal-{id}.pdf proces-verbaal-{id}.pdf.sig --key SLEUTEL. Zonder dat programma: het zegel is een \
             Ed25519-handtekening over de tekst \"exam-hub/report-seal/v1\", een nulbyte en daarna de bytes van dit bestand.",
            id = super::file_name_part(&self.sitting_id)
        )));
        out.push(seal);
        out
    }
}
