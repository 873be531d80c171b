//! Access-code slips: one slip per student, eight on an A4 sheet with cut
//! lines, in Dutch — name, student number, exam, sitting, room, the date
//! and time in Dutch local time (Europe/Amsterdam), the accommodations
//! granted, the access code in a large monospace font and what to do with
//! it. Written by `exam-hub import planning --codes-pdf` and
//! `exam-hub reissue-codes --pdf` (mode 0600, like the list).

use super::accommodations;
use super::pdf::{render_slips, SlipText};
use super::proces_verbaal::local_time::{hour_minute, long_date};
use super::{Pdf, ReportError};
use crate::db::Db;
use crate::planning::IssuedCode;

/// What the student reads at the foot of the slip.
pub const INSTRUCTION: &str = "Log op de examen-pc in met je studentnummer en deze toegangscode. \
     De code is alleen voor jou: laat hem niemand zien. Lever dit briefje na het examen in bij de surveillant.";


/// The printable list of `codes` for the exam office, in Dutch: per sitting
/// a heading (exam, room, the date and time in Dutch local time), then one
/// line per student — number, name, code. The slips ([`code_slips`]) are
/// what each student gets; this list is the exam office's overview.
pub fn code_list(codes: &[IssuedCode]) -> String {
    let mut out = String::new();
    let mut current = None;
    for c in codes {
        if current != Some(&c.sitting) {
            let day = super::proces_verbaal::local_time::day_of(c.start_ms);
            out.push_str(&format!(
                "\n== Zitting {} — {} — lokaal {} — {} om {}\n   (eenmalige toegangscodes: geef elke student alleen de eigen code)\n\n",
                c.sitting,
                c.exam,
                c.room,
                long_date(c.start_ms),
                hour_minute(c.start_ms, day)
            ));
            current = Some(&c.sitting);
        }
        out.push_str(&format!("   {:<14} {:<40} {}\n", c.student_number, c.student_name, c.code));
    }
    out
}

/// The slips of `codes` (as the planning import or a reissue made them),
/// with what the hub stores of each sitting and candidate.
pub async fn code_slips(db: &Db, codes: &[IssuedCode]) -> Result<Pdf, ReportError> {
    let mut slips = Vec::with_capacity(codes.len());
    for c in codes {
        let row = crate::store::planning::slip(&db.pool, &c.sitting, &c.student_number)
            .await?
            .ok_or_else(|| ReportError::UnknownSitting(format!("{} (student {})", c.sitting, c.student_number)))?;
        let start_ms = row.start_ms;
        let duration = row.duration_minutes;
        let extra = row.extra_minutes;
        let exam = row.exam;
        let exam_code = row.exam_code;
        let day = super::proces_verbaal::local_time::day_of(start_ms);
        let end_ms = start_ms + duration * 60_000;
        let mut accommodations = Vec::new();
        if extra > 0 {
            accommodations.push(format!("{extra} minuten extra tijd (tot {})", hour_minute(end_ms + extra * 60_000, day)));
        }
        accommodations.extend(accommodations::planned(&row.tools, row.text_size.as_deref(), row.contrast.as_deref()));
        let exam = match exam_code {
            Some(code) => format!("{exam} ({code})"),
            None => exam,
        };
        let accommodations = if accommodations.is_empty() { "geen".to_owned() } else { accommodations.join(", ") };
        slips.push(SlipText {
            group: c.sitting.clone(),
            name: c.student_name.clone(),
            rows: vec![
                ("Studentnummer".into(), c.student_number.clone()),
                ("Examen".into(), exam),
                ("Zitting".into(), c.sitting.clone()),
                ("Lokaal".into(), row.room.clone()),
                ("Datum".into(), long_date(start_ms)),
                ("Tijd".into(), format!("{} tot {}", hour_minute(start_ms, day), hour_minute(end_ms, day))),
                ("Voorzieningen".into(), accommodations),
            ],
            code_label: "Toegangscode".into(),
            code: c.code.clone(),
            instruction: INSTRUCTION.into(),
        });
    }
    let footer = "Toegangscodes — vertrouwelijk: knip de briefjes los, geef ieder alleen het eigen briefje en vernietig de rest";
    Ok(render_slips(&slips, "Toegangscodes", footer, crate::now_ms()))
}
