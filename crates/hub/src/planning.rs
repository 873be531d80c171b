//! Planning import (students, sittings, accommodations) from CSV, one-time
//! access codes, and instrument import.
//!
//! The planning file has one row per student per sitting (what TEL and
//! OnTrac export), with the header
//! `student_number,student_name,sitting,exam,instrument,room,start,duration_minutes`
//! and optionally `exam_code,extra_minutes,tools,text_size,contrast` (tools
//! separated by `;`; `exam_code` is the exam's code in the student
//! information system, which the results export gives back). Columns are separated by `,` or — as Excel writes it with Dutch
//! settings — by `;` (told apart by the header line); a UTF-8 byte-order
//! mark is skipped, and a file that is not UTF-8 is read as Windows-1252
//! (Excel's "CSV" on Dutch Windows) and said so ([`decode_planning`]).
//! Every row is checked first; any error, reported as `file: line N` with N
//! the file's own line, means nothing is imported. The import is one transaction.

use crate::config::MAX_FIELD_LEN;
use crate::db::Db;
use crate::pki::Keys;
use crate::store;
use std::collections::{BTreeMap, HashMap};
use time::format_description::well_known::Rfc3339;

/// Characters of access codes: no 0/O, 1/I/L, to be read aloud and typed safely.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in an access code (without the dash).
pub const CODE_LEN: usize = 8;
/// HMAC domain of access codes.
pub const CODE_DOMAIN: &str = "exam-hub/access-code/v1";
/// Longest sitting, minutes.
const MAX_DURATION_MINUTES: i64 = 24 * 60;
/// Most extra minutes.
const MAX_EXTRA_MINUTES: i64 = 12 * 60;

/// Errors of an import.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Rows with errors; nothing was imported.
    #[error("{} error(s), nothing imported:\n{}", .0.len(), .0.join("\n"))]
    Rows(Vec<String>),
    /// The file could not be read.
    #[error("{0}")]
    Io(String),
    /// The database failed; the transaction was rolled back.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// A newly issued access code, for the printable list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    /// Sitting id.
    pub sitting: String,
    /// Exam name.
    pub exam: String,
    /// Room.
    pub room: String,
    /// Start, Unix ms.
    pub start_ms: i64,
    /// Student number.
    pub student_number: String,
    /// Student name.
    pub student_name: String,
    /// The code, `XXXX-XXXX`.
    pub code: String,
}

/// What an import did.
#[derive(Debug, Clone, Default)]
pub struct ImportSummary {
    /// Rows read.
    pub rows: usize,
    /// Distinct students.
    pub students: usize,
    /// Distinct sittings.
    pub sittings: usize,
    /// Codes issued to candidates that had none.
    pub codes: Vec<IssuedCode>,
    /// Sittings of the file that have no exam code (none in the file, none
    /// stored from before): their results have an empty `examencode`.
    pub without_exam_code: Vec<String>,
    /// What the import changes (or, with `dry_run`, would change) on the hub, one line each.
    pub changes: Vec<String>,
}

/// A fresh random access code, `XXXX-XXXX`.
pub fn new_access_code() -> String {
    let mut out = String::with_capacity(CODE_LEN + 1);
    while out.len() < CODE_LEN + 1 {
        for b in crate::random_bytes(16) {
            // Rejection sampling keeps every character equally likely.
            if (b as usize) < CODE_ALPHABET.len() * (256 / CODE_ALPHABET.len()) && out.len() < CODE_LEN + 1 {
                out.push(CODE_ALPHABET[b as usize % CODE_ALPHABET.len()] as char);
                if out.len() == CODE_LEN / 2 {
                    out.push('-');
                }
            }
        }
    }
    out
}

/// Normalises what a student typed: upper case, no dashes or spaces.
pub fn normalise_code(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect()
}

/// The stored form of an access code: HMAC under the hub secret.
pub fn code_hmac(keys: &Keys, sitting: &str, student: &str, code: &str) -> String {
    keys.hmac_hex(CODE_DOMAIN, &[sitting, student, &normalise_code(code)])
}

/// The planning's accommodation vocabulary (docs/hub.md, *Import the
/// planning*): the ids the kiosk and the reports understand, each with the
/// Dutch words an exam office types for it. An import stores the id.
pub mod vocabulary {
    /// `tools`: an id and its Dutch words.
    pub const TOOLS: &[(&str, &[&str])] = &[
        // The two an instrument can also grant (`kioskctl instrument pack --tool`).
        exam_instrument::READ_ALOUD_WORDS,
        exam_instrument::SPELL_CHECK_WORDS,
        ("dictionary", &["woordenboek"]),
        ("calculator", &["rekenmachine"]),
        ("screen-reader", &["schermlezer"]),
        ("magnifier", &["vergrootsoftware", "vergroting", "loep"]),
    ];
    /// `text_size`.
    pub const TEXT_SIZES: &[(&str, &[&str])] =
        &[("large", &["groot", "grote letters"]), ("x-large", &["extra-large", "extra groot", "extra grote letters"])];
    /// `contrast`.
    pub const CONTRASTS: &[(&str, &[&str])] = &[("high", &["hoog", "hoog contrast"])];

    /// The id `value` stands for in `list` (an id or one of its Dutch words, any case).
    pub fn canonical(list: &[(&'static str, &[&'static str])], value: &str) -> Option<&'static str> {
        let value = value.trim().to_lowercase();
        list.iter().find(|(id, words)| *id == value || words.contains(&value.as_str())).map(|(id, _)| *id)
    }

    /// `list` for an error message: `large (groot, grote letters), …`.
    pub fn described(list: &[(&str, &[&str])]) -> String {
        list.iter().map(|(id, words)| format!("{id} ({})", words.join(", "))).collect::<Vec<_>>().join(", ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Sitting {
    exam: String,
    /// The exam's code in the student information system; `None` when the
    /// file has no `exam_code` column (a re-import then keeps the stored one).
    exam_code: Option<String>,
    instrument: String,
    room: String,
    start_ms: i64,
    start_text: String,
    duration: i64,
    line: u64,
}

#[derive(Debug, Clone)]
struct Candidate {
    sitting: String,
    student: String,
    extra: i64,
    tools: String,
    text_size: Option<String>,
    contrast: Option<String>,
}

fn check_field(errors: &mut Vec<String>, line: u64, name: &str, value: &str, required: bool) {
    if required && value.is_empty() {
        errors.push(format!("line {line}: {name} is empty"));
    } else if value.len() > MAX_FIELD_LEN {
        errors.push(format!("line {line}: {name} is longer than {MAX_FIELD_LEN} characters"));
    } else if value.chars().any(char::is_control) {
        errors.push(format!("line {line}: {name} contains control characters"));
    }
}

/// A planning file's text: UTF-8 (a byte-order mark is dropped), or else
/// Windows-1252, which Excel on Dutch Windows writes — then with a note to
/// show the user (`Some`), because a wrong guess would misspell names.
pub fn decode_planning(bytes: &[u8]) -> (String, Option<String>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), None),
        Err(e) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            let note = format!(
                "the file is not UTF-8 (first at line {line}); it was read as Windows-1252, as Excel saves CSV on Dutch Windows: check the names below (save as \"CSV UTF-8\" to avoid this)"
            );
            (text.into_owned(), Some(note))
        }
    }
}

/// The column separator of a planning file: `;` when its header line has
/// more of those than commas (Excel with Dutch settings), else `,`.
fn separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    }
}

/// The file's own line number (from 1) at byte `offset` — the csv reader's
/// own count is off by one on files with `\r\n` line ends (Excel's).
fn line_at(text: &str, offset: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut end = (offset as usize).min(bytes.len());
    // With `\r\n` the reader's record starts at the previous line's `\n`.
    while end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
        end += 1;
    }
    bytes[..end].iter().filter(|b| **b == b'\n').count() as u64 + 1
}

/// The fields in which two rows of one sitting differ.
fn differing(a: &Sitting, b: &Sitting) -> Vec<String> {
    let mut out = Vec::new();
    for (name, x, y) in [("exam", &a.exam, &b.exam), ("instrument", &a.instrument, &b.instrument), ("room", &a.room, &b.room)] {
        if x != y {
            out.push(format!("{name} {y:?} (there {x:?})"));
        }
    }
    if a.exam_code != b.exam_code {
        out.push(format!("exam_code {:?} (there {:?})", b.exam_code.as_deref().unwrap_or_default(), a.exam_code.as_deref().unwrap_or_default()));
    }
    if a.start_ms != b.start_ms {
        out.push(format!("start {:?} (there {:?})", b.start_text, a.start_text));
    }
    if a.duration != b.duration {
        out.push(format!("duration_minutes {} (there {})", b.duration, a.duration));
    }
    out
}

/// Longest exam code.
pub const MAX_EXAM_CODE_LEN: usize = 40;

/// Why `code` cannot be an exam code of the student information system, if
/// it cannot: empty, too long, or a character a code never has — in
/// particular a first `=`, `+`, `-` or `@`, which a spreadsheet reads as a
/// formula (the export would have to change the code to keep it text).
fn exam_code_problem(code: &str) -> Option<String> {
    if code.is_empty() {
        return Some("is empty: give every row of the file the exam's code in the student information system".into());
    }
    if code.chars().count() > MAX_EXAM_CODE_LEN {
        return Some(format!("is longer than {MAX_EXAM_CODE_LEN} characters"));
    }
    if code.starts_with(['=', '+', '-', '@']) {
        return Some("starts with a character a spreadsheet reads as a formula".into());
    }
    if let Some(c) = code.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ' '))) {
        return Some(format!("has {c:?}: an exam code is letters, digits, spaces and - _ . /"));
    }
    None
}

/// Imports a planning CSV (all or nothing); issues codes to new candidates.
pub async fn import_planning(db: &Db, keys: &Keys, csv_text: &str, file_name: &str, dry_run: bool) -> Result<ImportSummary, ImportError> {
    // The policy's own accommodations are known ids too (a school's tool).
    let policy_tools: Vec<String> = keys
        .signed_policy
        .as_deref()
        .and_then(|text| crate::config::read_hub_policy(text).ok())
        .map(|p| p.processes.accommodations.iter().map(|a| a.id.clone()).filter(|id| id != exam_policy::KIOSK_READ_ALOUD).collect())
        .unwrap_or_default();
    let required = ["student_number", "student_name", "sitting", "exam", "instrument", "room", "start", "duration_minutes"];
    let optional = ["exam_code", "extra_minutes", "tools", "text_size", "contrast"];
    let csv_text = csv_text.strip_prefix('\u{feff}').unwrap_or(csv_text);
    let mut reader =
        csv::ReaderBuilder::new().trim(csv::Trim::All).delimiter(separator(csv_text)).from_reader(csv_text.as_bytes());
    let headers = reader.headers().map_err(|e| ImportError::Rows(vec![format!("{file_name}: line 1: {e}")]))?.clone();
    let mut column = HashMap::new();
    let mut errors = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        if !required.contains(&h) && !optional.contains(&h) {
            errors.push(format!("{file_name}: line 1: unknown column {h:?} (expected {})", required.join(",")));
        }
        column.insert(h.to_string(), i);
    }
    for r in required {
        if !column.contains_key(r) {
            errors.push(format!("{file_name}: line 1: missing column {r:?}"));
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let mut students: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut sittings: BTreeMap<String, Sitting> = BTreeMap::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    let mut rows = 0;
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(csv_text, p.byte()));
                errors.push(format!("{file_name}: line {line}: {e}"));
                continue;
            }
        };
        rows += 1;
        let line = record.position().map_or(0, |p| line_at(csv_text, p.byte()));
        let get = |name: &str| column.get(name).and_then(|i| record.get(*i)).unwrap_or("").to_string();
        let before = errors.len();
        for name in required {
            check_field(&mut errors, line, name, &get(name), true);
        }
        for name in optional {
            check_field(&mut errors, line, name, &get(name), false);
        }
        let start_text = get("start");
        let start_ms = match time::OffsetDateTime::parse(&start_text, &Rfc3339) {
            Ok(t) => (t.unix_timestamp_nanos() / 1_000_000) as i64,
            Err(_) => {
                errors.push(format!("line {line}: start {start_text:?} is not an RFC 3339 time like 2026-06-01T09:00:00+02:00"));
                0
            }
        };
        let number = |name: &str, max: i64, default: Option<i64>| -> Result<i64, String> {
            let text = get(name);
            if text.is_empty() {
                if let Some(d) = default {
                    return Ok(d);
                }
            }
            match text.parse::<i64>() {
                Ok(n) if (0..=max).contains(&n) => Ok(n),
                _ => Err(format!("line {line}: {name} {text:?} must be a whole number from 0 to {max}")),
            }
        };
        let duration = number("duration_minutes", MAX_DURATION_MINUTES, None).unwrap_or_else(|e| {
            errors.push(e);
            0
        });
        if duration == 0 && errors.len() == before {
            errors.push(format!("line {line}: duration_minutes must be at least 1"));
        }
        let extra = number("extra_minutes", MAX_EXTRA_MINUTES, Some(0)).unwrap_or_else(|e| {
            errors.push(e);
            0
        });
        // Accommodations: a documented id, one of its Dutch words, or an
        // accommodation of the hub's policy; anything else would be imported
        // and then ignored by the kiosk (issue 17: "groot", "voorleessoftware").
        let mut tools: Vec<String> = Vec::new();
        for tool in get("tools").split(';').map(str::trim).filter(|t| !t.is_empty()) {
            match vocabulary::canonical(vocabulary::TOOLS, tool) {
                Some(id) => tools.push(id.to_string()),
                // The kiosk grants it itself, for an instrument that gives read-aloud to everyone.
                None if tool == exam_policy::KIOSK_READ_ALOUD => errors.push(format!(
                    "line {line}: tools: {tool:?} is not for the planning: the exam software grants it itself when the instrument gives \
                     read-aloud to everyone; plan read-aloud (voorlezen) for a student who has it"
                )),
                None if policy_tools.iter().any(|p| p == tool) => tools.push(tool.to_string()),
                None => errors.push(format!(
                    "line {line}: tools: unknown accommodation {tool:?} (known: {}{}; separate several with ';')",
                    vocabulary::described(vocabulary::TOOLS),
                    if policy_tools.is_empty() { String::new() } else { format!("; from the policy: {}", policy_tools.join(", ")) }
                )),
            }
        }
        let mut presentation = |field: &str, list: &[(&'static str, &[&'static str])]| -> Option<String> {
            let value = get(field);
            if value.is_empty() {
                return None;
            }
            let id = vocabulary::canonical(list, &value);
            if id.is_none() {
                errors.push(format!("line {line}: {field}: unknown value {value:?} (known: {})", vocabulary::described(list)));
            }
            id.map(str::to_string)
        };
        let text_size = presentation("text_size", vocabulary::TEXT_SIZES);
        let contrast = presentation("contrast", vocabulary::CONTRASTS);
        let exam_code = column.contains_key("exam_code").then(|| get("exam_code"));
        if let Some(code) = &exam_code {
            if let Some(problem) = exam_code_problem(code) {
                errors.push(format!("line {line}: exam_code {code:?} {problem}"));
            }
        }
        let student = get("student_number");
        let name = get("student_name");
        let sitting_id = get("sitting");
        if errors.len() > before {
            continue;
        }
        match students.get(&student) {
            Some((other, first)) if *other != name => {
                errors.push(format!("line {line}: student {student} is called {name:?} here but {other:?} on line {first}"))
            }
            Some(_) => {}
            None => {
                students.insert(student.clone(), (name, line));
            }
        }
        let sitting = Sitting {
            exam: get("exam"),
            exam_code,
            instrument: get("instrument"),
            room: get("room"),
            start_ms,
            start_text,
            duration,
            line,
        };
        match sittings.get(&sitting_id).map(|first| (first.line, differing(first, &sitting))) {
            Some((first, fields)) if !fields.is_empty() => errors.push(format!(
                "line {line}: sitting {sitting_id} differs from line {first} in {}: every row of a sitting must agree",
                fields.join(", ")
            )),
            Some(_) => {}
            None => {
                sittings.insert(sitting_id.clone(), sitting);
            }
        }
        if let Some(first) = seen.insert((sitting_id.clone(), student.clone()), line) {
            errors.push(format!("line {line}: student {student} is already planned for sitting {sitting_id} on line {first}"));
        }
        candidates.push(Candidate { sitting: sitting_id, student, extra, tools: tools.join(";"), text_size, contrast });
    }
    // Instruments must be imported first.
    for (id, sitting) in &sittings {
        if !store::planning::instrument_exists(&db.pool, &sitting.instrument).await? {
            errors.push(format!(
                "line {}: sitting {id} uses instrument {:?}, which is not imported (exam-hub import instrument)",
                sitting.line, sitting.instrument
            ));
        }
    }
    if rows == 0 && errors.is_empty() {
        errors.push(format!("{file_name}: no rows"));
    }
    let changes = if errors.is_empty() { changes_against_the_hub(db, &sittings, &students, &candidates, &mut errors).await? } else { Vec::new() };
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors.into_iter().map(|e| if e.starts_with(file_name) { e } else { format!("{file_name}: {e}") }).collect()));
    }
    if dry_run {
        return Ok(ImportSummary { rows, students: students.len(), sittings: sittings.len(), codes: Vec::new(), without_exam_code: Vec::new(), changes });
    }

    let mut tx = db.begin_write().await?;
    for (number, (name, _)) in &students {
        store::planning::upsert_student(&mut *tx, number, name).await?;
    }
    for (id, s) in &sittings {
        let new = store::planning::NewSitting {
            sitting_id: id,
            exam: &s.exam,
            instrument_id: &s.instrument,
            room: &s.room,
            start_ms: s.start_ms,
            duration_minutes: s.duration,
            exam_code: s.exam_code.as_deref(),
        };
        store::planning::upsert_sitting(&mut *tx, new).await?;
    }
    let mut codes = Vec::new();
    for c in &candidates {
        let new = store::planning::NewCandidate {
            sitting_id: &c.sitting,
            student_number: &c.student,
            extra_minutes: c.extra,
            tools: &c.tools,
            text_size: c.text_size.as_deref(),
            contrast: c.contrast.as_deref(),
        };
        if store::planning::is_candidate(&mut *tx, &c.sitting, &c.student).await? {
            store::planning::update_granted(&mut *tx, new).await?;
            continue;
        }
        let code = new_access_code();
        store::planning::insert_candidate(&mut *tx, new, &code_hmac(keys, &c.sitting, &c.student, &code)).await?;
        let s = &sittings[&c.sitting];
        codes.push(IssuedCode {
            sitting: c.sitting.clone(),
            exam: s.exam.clone(),
            room: s.room.clone(),
            start_ms: s.start_ms,
            student_number: c.student.clone(),
            student_name: students[&c.student].0.clone(),
            code,
        });
    }
    let mut without_exam_code = Vec::new();
    for id in sittings.keys() {
        if store::planning::exam_code(&mut *tx, id).await?.is_none() {
            without_exam_code.push(id.clone());
        }
    }
    tx.commit().await?;
    Ok(ImportSummary { rows, students: students.len(), sittings: sittings.len(), codes, without_exam_code, changes })
}

/// What importing would change on the hub, one line each (new and changed
/// sittings, students and candidates; unchanged rows say nothing). A sitting
/// that has begun — started from the console, a PC logged in, or its start
/// passed — keeps its day and time, room, duration and instrument: a
/// change to those is an error (issue 17: a re-import silently moved a
/// sitting that had already run); its name and code may be corrected.
async fn changes_against_the_hub(
    db: &Db,
    sittings: &BTreeMap<String, Sitting>,
    students: &BTreeMap<String, (String, u64)>,
    candidates: &[Candidate],
    errors: &mut Vec<String>,
) -> Result<Vec<String>, sqlx::Error> {
    let now = crate::now_ms();
    let mut changes = Vec::new();
    for (id, s) in sittings {
        let Some(row) = store::planning::sitting(&db.pool, id).await? else {
            changes.push(format!("new sitting {id}: {} in room {} at {}, {} minutes", s.exam, s.room, s.start_text, s.duration));
            continue;
        };
        let (room, start_ms, duration, instrument) = (row.room, row.start_ms, row.duration_minutes, row.instrument_id);
        let mut moves = Vec::new();
        if room != s.room {
            moves.push(format!("room {room} -> {}", s.room));
        }
        if start_ms != s.start_ms {
            moves.push(format!("start {} -> {}", format_ms(start_ms), s.start_text));
        }
        if duration != s.duration {
            moves.push(format!("duration {duration} -> {} minutes", s.duration));
        }
        if instrument != s.instrument {
            moves.push(format!("instrument {instrument} -> {}", s.instrument));
        }
        let mut fields = moves.clone();
        let exam = row.exam;
        if exam != s.exam {
            fields.push(format!("exam {exam:?} -> {:?}", s.exam));
        }
        let code = row.exam_code;
        if s.exam_code.is_some() && code != s.exam_code {
            fields.push(format!("exam_code {} -> {}", code.as_deref().unwrap_or("(none)"), s.exam_code.as_deref().unwrap_or("")));
        }
        if fields.is_empty() {
            continue;
        }
        if !moves.is_empty() {
            let started = row.started_ms;
            let logged_in = store::sessions::sitting_logged_in(&db.pool, id).await?;
            let begun = if let Some(at) = started {
                Some(format!("started at {}", format_ms(at)))
            } else if logged_in {
                Some("students have logged in".to_owned())
            } else {
                (now >= start_ms).then(|| format!("its start {} has passed", format_ms(start_ms)))
            };
            if let Some(why) = begun {
                errors.push(format!(
                    "line {}: sitting {id} has begun ({why}): {} cannot change; plan a new sitting with another id instead",
                    s.line,
                    moves.join(", ")
                ));
            }
        }
        changes.push(format!("sitting {id}: {}", fields.join(", ")));
    }
    for (number, (name, _)) in students {
        match store::planning::student_name(&db.pool, number).await? {
            None => changes.push(format!("new student {number} {name}")),
            Some(old) if &old != name => changes.push(format!("student {number}: name {old:?} -> {name:?}")),
            Some(_) => {}
        }
    }
    for c in candidates {
        let row = store::planning::granted(&db.pool, &c.sitting, &c.student).await?;
        let granted = |extra: i64, tools: &str, size: Option<&str>, contrast: Option<&str>| {
            format!("extra {extra} min, tools [{tools}], text_size {}, contrast {}", size.unwrap_or("-"), contrast.unwrap_or("-"))
        };
        let new = granted(c.extra, &c.tools, c.text_size.as_deref(), c.contrast.as_deref());
        match row {
            None => changes.push(format!("new candidate {} in sitting {} (a new access code): {new}", c.student, c.sitting)),
            Some(row) => {
                let old = granted(row.extra_minutes, &row.tools, row.text_size.as_deref(), row.contrast.as_deref());
                if old != new {
                    changes.push(format!("candidate {} in sitting {}: {old} -> {new}", c.student, c.sitting));
                }
            }
        }
    }
    Ok(changes)
}

/// Issues new codes for a sitting (all candidates, or one), replacing the old
/// ones and clearing lock-outs; returns them for printing.
pub async fn reissue_codes(db: &Db, keys: &Keys, sitting: &str, student: Option<&str>) -> Result<Vec<IssuedCode>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let rows = store::planning::to_reissue(&mut *tx, sitting).await?;
    let mut codes = Vec::new();
    for row in rows {
        let number = row.student_number;
        if student.is_some_and(|s| s != number) {
            continue;
        }
        let code = new_access_code();
        store::planning::set_code(&mut *tx, sitting, &number, &code_hmac(keys, sitting, &number, &code)).await?;
        crate::lockout::clear(&mut tx, sitting, &number).await?;
        codes.push(IssuedCode {
            sitting: sitting.to_string(),
            exam: row.exam,
            room: row.room,
            start_ms: row.start_ms,
            student_number: number,
            student_name: row.name,
            code,
        });
    }
    tx.commit().await?;
    Ok(codes)
}

/// Unix ms as RFC 3339 (UTC).
pub fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// Registers (or replaces) an instrument package: opaque bytes, their hash,
/// and the content key released at the start (random when not given),
/// stored wrapped with the hub's wrap key ([`crate::secrets`]).
pub async fn import_instrument(db: &Db, wrap: &crate::pki::WrapKey, id: &str, bytes: &[u8], content_key: Option<Vec<u8>>) -> Result<String, sqlx::Error> {
    let sha = crate::sha256_hex(bytes);
    let key = content_key.unwrap_or_else(|| crate::random_bytes(32));
    let content_key = crate::secrets::wrap_content_key(wrap, id, &key);
    let new = store::planning::NewInstrument { instrument_id: id, sha256: &sha, content_key: &content_key, data: bytes, imported_ms: crate::now_ms() };
    store::planning::upsert_instrument(&db.pool, new).await?;
    Ok(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_the_files_own() {
        for text in ["a;b\r\n1;2\r\n3;4\r\n", "a;b\n1;2\n3;4\n"] {
            let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).delimiter(b';').from_reader(text.as_bytes());
            let lines: Vec<u64> = reader.records().map(|r| line_at(text, r.unwrap().position().unwrap().byte())).collect();
            assert_eq!(lines, [2, 3], "{text:?}");
        }
    }

    #[test]
    fn codes_are_well_formed() {
        for _ in 0..200 {
            let c = new_access_code();
            assert_eq!(c.len(), 9, "{c}");
            assert_eq!(&c[4..5], "-");
            assert!(c.bytes().filter(|b| *b != b'-').all(|b| CODE_ALPHABET.contains(&b)));
        }
        assert_eq!(normalise_code(" abcd-efgh "), "ABCDEFGH");
    }
}

/// What [`check_instrument_package`] found in a good package.
#[derive(Debug)]
pub struct CheckedInstrument {
    /// The approved version label.
    pub version: String,
    /// The title.
    pub title: String,
    /// What it holds, in words ("12 items", "a web instrument").
    pub content: String,
}

/// Checks an instrument package at import as a kiosk will open it: the
/// container (magic, header), the approval signature against the
/// `[[instrument-key]]`s of `policy_file`, that `id` is the package's own id,
/// that `content_key` opens it (every file against the signed manifest) and
/// that its content imports (QTI 3.0; or a web instrument's descriptor).
/// Before (issue 17): any bytes were stored, with a random key when none was
/// given, and the exam could not be opened at 9:00.
pub fn check_instrument_package(
    file: &std::path::Path,
    id: &str,
    content_key: &[u8],
    policy_file: &std::path::Path,
) -> Result<CheckedInstrument, ImportError> {
    use exam_instrument::{ContentKey, InstrumentTrust, SealedPackage};
    let bad = |what: String| ImportError::Io(format!("{}: {what}", file.display()));
    let policy = exam_policy::load_policy_file(policy_file).map_err(|e| ImportError::Io(format!("{}: {e}", policy_file.display())))?;
    let sealed = SealedPackage::read(file).map_err(|e| bad(format!("not an instrument package that a kiosk accepts: {e}")))?;
    let header = sealed.header().clone();
    if header.instrument_id != id {
        return Err(bad(format!("the package is instrument {:?}, not --id {id:?}", header.instrument_id)));
    }
    let verified = sealed
        .verify(&InstrumentTrust::from_policy(&policy))
        .map_err(|e| bad(format!("its approval does not hold against {}: {e}", policy_file.display())))?;
    let key: [u8; 32] = content_key.try_into().map_err(|_| bad("a content key is 32 bytes".into()))?;
    let contents = verified
        .decrypt(&ContentKey::from_bytes(key))
        .map_err(|e| bad(format!("the content key does not open it ({e}): the exam could not be started with it")))?;
    let content = if contents.file("web-instrument.json").is_some() {
        // The kiosk's read-aloud and spell-check are for QTI items; a web
        // instrument carrying them would have the proces-verbaal say what
        // the kiosk never gave (kioskctl's pack refuses it too).
        if !header.tools.is_empty() {
            return Err(bad(format!("a web instrument cannot carry the kiosk's tools ({})", header.tools.summary())));
        }
        "a web instrument".to_owned()
    } else {
        let instrument = contents.import().map_err(|e| bad(format!("its content does not import: {e}")))?;
        format!("{} items", instrument.test.item_count)
    };
    Ok(CheckedInstrument { version: header.version, title: header.title, content })
}
