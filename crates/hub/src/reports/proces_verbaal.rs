//! The proces-verbaal of a sitting as data: built from the hub's records
//! (planning, sessions, instructions, answers), the devices' verified
//! journals and what the hub's data directory says about the school
//! (`hub.toml`'s `school`, the policy's rooms and invigilator roster).
//! Rendering is [`super::html`] and [`super::pdf`]'s job.
//!
//! Every time is Dutch local time ([`local_time`]); PCs are named by their
//! host names, their device ids (and every other long hexadecimal id) go to
//! the appendix.

pub(crate) mod local_time;

use super::accommodations::presentation;
use super::records::{self, JournalEvent, SittingRecords};
use super::remarks::{list_remarks, Remark};
use super::{format_duration, ReportError};
use crate::audit::Action;
use crate::db::Db;
use exam_protocol::events::KioskEvent;
use exam_protocol::InstructionKind;
use local_time::{clock, technical};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How the hub's own command line is named in its records (instructions,
/// actions): `admin` and `main` write this.
pub(crate) const CLI_NAME: &str = "exam-hub cli";
/// How the document names the command line: whoever ran `exam-hub` on the
/// server, the exam office.
pub(crate) const CLI_LABEL: &str = "examenbureau (opdrachtregel op de examenserver)";
/// The `--school` of `exam-hub init` when none is given: no school name.
const DEFAULT_SCHOOL: &str = "School";

/// A name from the hub's records as the document shows it.
pub(crate) fn display_person(name: &str) -> String {
    person(name)
}

fn person(name: &str) -> String {
    if name.trim() == CLI_NAME { CLI_LABEL.to_string() } else { name.trim().to_string() }
}

/// The proces-verbaal of one sitting.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProcesVerbaal {
    /// Sitting id.
    pub sitting_id: String,
    /// The school (`school` in hub.toml), when the hub knows it.
    pub school: Option<String>,
    /// The room's description in the hub's policy (`[[location]]` whose
    /// name is the room), when there is one.
    pub location: Option<String>,
    /// The exam's name (planning `exam`).
    pub exam: String,
    /// The exam's code in the student information system (planning
    /// `exam_code`), when the planning gave one.
    pub exam_code: Option<String>,
    /// Instrument id.
    pub instrument_id: String,
    /// The instrument's title, from its signed package header.
    pub instrument_title: Option<String>,
    /// The instrument's approved version, from its signed package header.
    pub instrument_version: Option<String>,
    /// SHA-256 of the instrument package the hub served, hex.
    pub instrument_sha256: Option<String>,
    /// What the instrument grants everyone and where it switches the
    /// spell-check off (its signed header), in Dutch; `None` when the
    /// instrument is not on the hub.
    pub instrument_tools: Option<String>,
    /// Room.
    pub room: String,
    /// Planned start, unix ms.
    pub planned_start_ms: i64,
    /// Planned duration, minutes (without accommodations).
    pub duration_minutes: i64,
    /// When the sitting was started on the hub (joint start), unix ms.
    pub started_ms: Option<i64>,
    /// The latest possible end: start + duration + the longest extra time, unix ms.
    pub planned_end_ms: i64,
    /// When the sitting was ended from the console, and by whom.
    pub ended: Option<(i64, Option<String>)>,
    /// The last final submission, unix ms.
    pub last_submission_ms: Option<i64>,
    /// Everyone the hub's own records show acting: console actions and
    /// instructions (names of console accounts; the CLI as [`CLI_LABEL`]),
    /// remark authors.
    pub invigilators: Vec<String>,
    /// Who unlocked or confirmed a resume at a PC with their PIN, as the
    /// PC's journal says (`cause.by`, the roster id), with the name from the
    /// hub's policy roster: what the kiosk says, not checked by the hub.
    pub claimed_by_kiosk: Vec<String>,
    /// What the hub could not establish for this document, in Dutch (e.g.
    /// no policy in its data directory): said, not hidden.
    pub notes: Vec<String>,
    /// Every PC named in the document: (name in the document, device id).
    pub pcs: Vec<(String, String)>,
    /// Other long hexadecimal ids in the texts, replaced by `[kenmerk N]`:
    /// (N, the id), for the appendix.
    pub references: Vec<(usize, String)>,
    /// One line per planned candidate.
    pub seats: Vec<SeatSummary>,
    /// Every irregularity and action, in time order.
    pub irregularities: Vec<Irregularity>,
    /// One statement per device.
    pub journals: Vec<DeviceJournal>,
    /// Invigilators' remarks, oldest first.
    pub remarks: Vec<Remark>,
    /// Retention deletions recorded for this sitting (what, when, rule).
    pub deletions: Vec<String>,
    /// When this document was generated, unix ms.
    pub generated_ms: i64,
}

/// Whether a candidate came and handed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatStatus {
    /// Never logged in.
    Absent,
    /// Logged in, did not hand in (answers as last saved are kept).
    Present,
    /// Handed in in time; the hub signed a final receipt.
    Submitted,
    /// A hand-in arrived and is stored, but was not made in the student's
    /// time (see [`crate::enforcement::Standing`]): it does not count.
    HandedInOutsideTime(crate::enforcement::Standing),
}

impl SeatStatus {
    /// The Dutch label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Absent => "afwezig",
            Self::Present => "aanwezig, niet ingeleverd",
            Self::Submitted => "ingeleverd",
            Self::HandedInOutsideTime(standing) => match standing {
                crate::enforcement::Standing::AfterEnd => "inlevering na beëindiging (telt niet)",
                crate::enforcement::Standing::AfterDeadline => "inlevering na de eindtijd (telt niet)",
                crate::enforcement::Standing::DuringPause => "inlevering tijdens pauze (telt niet)",
                crate::enforcement::Standing::BeforeStart => "inlevering vóór de start (telt niet)",
                crate::enforcement::Standing::OnTime => "ingeleverd",
            },
        }
    }
}

/// One candidate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeatSummary {
    /// Student number.
    pub student_number: String,
    /// Name.
    pub name: String,
    /// Present, absent, submitted.
    pub status: SeatStatus,
    /// The devices used, in order (more than one after a move).
    pub devices: Vec<String>,
    /// The same PCs by their names in the document (host names).
    pub pcs: Vec<String>,
    /// When the student's work ended: the counted hand-in, else the end of
    /// their exam from the console or the command line, unix ms.
    pub ended_ms: Option<i64>,
    /// Accommodations granted in the planning, in Dutch (tools, text size, contrast).
    pub accommodations: Vec<String>,
    /// What the candidate used of the exam tools, in counts; `None` for a
    /// candidate who never logged in and has no answers.
    pub tools_used: Option<ToolsUsed>,
    /// First login, unix ms.
    pub first_login_ms: Option<i64>,
    /// Final submission, unix ms.
    pub submitted_ms: Option<i64>,
    /// The receipt code the student saw.
    pub receipt_code: Option<String>,
    /// Planned extra minutes (accommodation).
    pub extra_minutes: i64,
    /// Minutes added during the sitting.
    pub added_minutes: i64,
    /// An invigilator ended this student's exam (per seat, not the end for
    /// everyone), and it was not reopened since: for suspected fraud, for
    /// instance (the reason is among the student's irregularities).
    pub ended_by_invigilator: bool,
}

/// What a candidate used of the exam tools (issue 19): counts, never what
/// was calculated, spoken or written. Calculator and read-aloud from the
/// verified journals of the candidate's PCs (the kiosk journals each use);
/// scratchpad and highlighter from the last answers the hub stored (their
/// `notes`). Whether a calculator was allowed on an item is the
/// instrument's and the planning's business, which the hub cannot tell
/// apart: its use is listed, not judged.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ToolsUsed {
    /// Calculations on the kiosk's calculator: one `tools.calculator_used` each.
    pub calculator_uses: u64,
    /// On how many items (distinct).
    pub calculator_items: usize,
    /// Texts spoken by read-aloud: one `kiosk.read_aloud` each.
    pub read_aloud_uses: u64,
    /// Read-aloud used without the planning's `read-aloud` accommodation.
    /// The kiosk refuses that, so this is evidence of a changed PC.
    pub read_aloud_not_granted: bool,
    /// Checks by the Dutch spell-check: one `tools.spell_check_used` each.
    pub spell_check_uses: u64,
    /// Items with scratchpad (kladblok) text in the last stored answers.
    pub scratchpad_items: usize,
    /// Items with highlights (markeerstift) in the last stored answers.
    pub highlight_items: usize,
    /// Whether the hub holds the journal of the sitting of at least one of
    /// the candidate's PCs: without one, calculator and read-aloud are unknown.
    pub journal_held: bool,
    /// The candidate's PCs (names in the document) of which the hub holds
    /// no journal of the sitting: what was used there is unknown.
    pub pcs_without_journal: Vec<String>,
}

/// The accommodation that grants read-aloud (the planning's and the
/// policy's id; the kiosk's `exam_kiosk_core::READ_ALOUD`).
const READ_ALOUD: &str = "read-aloud";

/// The planning's id for the spell-check.
const SPELL_CHECK: &str = exam_instrument::SPELL_CHECK_WORDS.0;

/// What the instrument grants everyone (its signed header); `None` when
/// the hub cannot tell (the package is gone or its header unreadable).
fn instrument_tools(records: &SittingRecords) -> Option<&exam_instrument::InstrumentTools> {
    records.instrument.as_ref()?.tools.as_ref()
}

/// Whether a candidate planned with `tools` had read-aloud: the
/// accommodation, or the instrument gives it everyone; `None` when the
/// planning does not grant it and the instrument's grant is unknown.
fn read_aloud_granted(records: &SittingRecords, tools: &[String]) -> Option<bool> {
    if tools.iter().any(|t| t == READ_ALOUD) {
        return Some(true);
    }
    instrument_tools(records).map(|t| t.read_aloud)
}

/// Why the kiosk should have refused a spell-check on `item` for a
/// candidate planned with `tools` (not granted, or switched off on that
/// item), `Some(None)` when it was allowed, `None` when the hub cannot
/// tell (the instrument's grant is unknown and the planning grants nothing).
fn spell_check_refusal(records: &SittingRecords, tools: &[String], item: &str) -> Option<Option<String>> {
    let planned = tools.iter().any(|t| t == SPELL_CHECK);
    let Some(granted) = instrument_tools(records) else {
        return if planned { Some(None) } else { None };
    };
    if granted.no_spell_check.contains(item) {
        return Some(Some(format!("bij vraag {item}, waar het examen de spellingcontrole uitzet")));
    }
    Some((!planned && !granted.spell_check).then(|| format!("bij vraag {item} zonder toekenning in de planning of het examen")))
}

impl ToolsUsed {
    /// One line per tool used, in Dutch (`geen hulpmiddelen gebruikt` when
    /// none was); what the hub could not check is said.
    pub fn lines(&self) -> Vec<String> {
        let items = |n: usize| if n == 1 { "1 vraag".to_string() } else { format!("{n} vragen") };
        let mut out = Vec::new();
        if self.calculator_uses > 0 {
            out.push(format!("rekenmachine: {} keer, bij {}", self.calculator_uses, items(self.calculator_items)));
        }
        if self.read_aloud_uses > 0 {
            out.push(format!("voorlezen: {} keer", self.read_aloud_uses));
        }
        if self.read_aloud_not_granted {
            out.push("voorlezen gebruikt zonder toekenning".into());
        }
        if self.spell_check_uses > 0 {
            out.push(format!("spellingcontrole: {} keer", self.spell_check_uses));
        }
        if self.scratchpad_items > 0 {
            out.push(format!("kladblok bij {}", items(self.scratchpad_items)));
        }
        if self.highlight_items > 0 {
            out.push(format!("markeerstift bij {}", items(self.highlight_items)));
        }
        if !self.journal_held {
            out.push("gebruik onbekend: geen logboek ontvangen (rekenmachine, voorlezen, spellingcontrole)".into());
        } else if !self.pcs_without_journal.is_empty() {
            out.push(format!(
                "gebruik op pc {} onbekend: geen logboek ontvangen (rekenmachine, voorlezen, spellingcontrole)",
                self.pcs_without_journal.join(", ")
            ));
        }
        if out.is_empty() {
            out.push("geen hulpmiddelen gebruikt".into());
        }
        out
    }
}

/// Calculator and read-aloud use of one student, as the journals say.
#[derive(Debug, Default)]
struct JournalledUse {
    calculator: u64,
    items: std::collections::BTreeSet<String>,
    read_aloud: u64,
    spell_check: u64,
    /// The first read-aloud: time and device.
    first_read_aloud: Option<(i64, String)>,
    /// Each spell-check: time, device and item.
    spell_checks: Vec<(i64, String, String)>,
}

/// Calculator and read-aloud use per student: each event of the sitting's
/// journals counted for the student logged in on that PC at the time.
fn journalled_use(records: &SittingRecords) -> BTreeMap<String, JournalledUse> {
    let mut out: BTreeMap<String, JournalledUse> = BTreeMap::new();
    for e in &records.events {
        let read = e.read();
        if !matches!(read, Some(KioskEvent::ToolsCalculatorUsed(_) | KioskEvent::KioskReadAloud(_) | KioskEvent::ToolsSpellCheckUsed(_))) {
            continue;
        }
        let Some(student) = student_at(records, &e.device_id, e.time_ms) else { continue };
        let used = out.entry(student).or_default();
        match read {
            Some(KioskEvent::ToolsCalculatorUsed(t)) => {
                used.calculator += 1;
                used.items.insert(t.item);
            }
            Some(KioskEvent::ToolsSpellCheckUsed(t)) => {
                used.spell_check += 1;
                used.spell_checks.push((e.time_ms, e.device_id.clone(), t.item));
            }
            _ => {
                used.read_aloud += 1;
                used.first_read_aloud.get_or_insert_with(|| (e.time_ms, e.device_id.clone()));
            }
        }
    }
    out
}

/// One entry of the course of the sitting.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Irregularity {
    /// When, unix ms (the hub's clock for hub records, the kiosk's for journal events).
    pub time_ms: i64,
    /// What kind, in Dutch (e.g. `proces beëindigd`, `netwerkonderbreking`).
    pub category: &'static str,
    /// The device, when it concerns one.
    pub device_id: Option<String>,
    /// The device's name in the document (host name).
    pub pc: Option<String>,
    /// The student, when known.
    pub student: Option<String>,
    /// What happened, by whom and why.
    pub description: String,
    /// `hub` (the hub's records) or `logboek` (the device's verified journal).
    pub source: &'static str,
}

/// The statement about one device's journal.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceJournal {
    /// Device id.
    pub device_id: String,
    /// The PC's name in the document (host name, numbered when two share one).
    pub label: String,
    /// Host name, when the kiosk reported one.
    pub hostname: Option<String>,
    /// The students who used it.
    pub students: Vec<String>,
    /// Records the hub holds, each verified on arrival.
    pub records: i64,
    /// The newest verified checkpoint: tree size and Merkle root.
    pub checkpoint: Option<(u64, String)>,
    /// Alarms about this journal (rewrite, truncation, invalid record).
    pub alarms: Vec<String>,
    /// True when the journal arrived and no alarm was raised.
    pub verified: bool,
    /// The statement, in Dutch.
    pub statement: String,
}

/// Builds the proces-verbaal of `sitting_id` from the database. The school
/// and the policy come from the hub's data directory, found beside the
/// SQLite database; with PostgreSQL use [`ProcesVerbaal::of_hub`], which
/// also reads them from the hub's keys.
pub async fn proces_verbaal(db: &Db, sitting_id: &str) -> Result<ProcesVerbaal, ReportError> {
    let context = HubContext::discover(db, None);
    load(db, sitting_id, context).await
}

impl ProcesVerbaal {
    /// [`proces_verbaal`] with the hub's keys: the school and the policy
    /// come from the data directory the keys were loaded from, whatever the
    /// database (PostgreSQL included); failing that, from the keys — the
    /// school named in the school CA certificate (`exam-hub init --school`)
    /// and the signed policy the hub hands out.
    pub async fn of_hub(db: &Db, keys: &crate::pki::Keys, sitting_id: &str) -> Result<Self, ReportError> {
        let context = HubContext::discover(db, Some(keys));
        load(db, sitting_id, context).await
    }
}

async fn load(db: &Db, sitting_id: &str, context: HubContext) -> Result<ProcesVerbaal, ReportError> {
    let records = records::load(db, sitting_id).await?;
    let remarks = list_remarks(db, sitting_id).await?;
    let saves = crate::enforcement::classify_sitting(&db.pool, sitting_id).await?;
    let locked_pcs = crate::lockout::locked_pcs(db, sitting_id).await?;
    Ok(build(records, remarks, &saves, &locked_pcs, &context, crate::now_ms()))
}

/// What the hub knows beyond its database.
#[derive(Debug, Clone, Default)]
pub(crate) struct HubContext {
    /// The school's name.
    pub school: Option<String>,
    /// The hub's policy (`policy.signed` in the data directory).
    pub policy: Option<exam_policy::Policy>,
    /// What could not be read, in Dutch.
    pub notes: Vec<String>,
}

impl HubContext {
    /// From the data directory beside a SQLite database, else from `keys`.
    fn discover(db: &Db, keys: Option<&crate::pki::Keys>) -> Self {
        // The hub's keys come from its data directory, whatever the
        // database; without them only a SQLite database says where it is.
        if let Some(keys) = keys.filter(|k| k.data_dir.join(crate::pki::files::CONFIG).exists()) {
            return Self::from_data_dir(&keys.data_dir);
        }
        if let Some(dir) = sqlite_data_dir(db) {
            return Self::from_data_dir(&dir);
        }
        match keys {
            Some(keys) => Self::from_keys(keys),
            None => Self {
                notes: vec![
                    "De gegevensmap van de examenserver was bij het opmaken niet bekend (PostgreSQL-database): school, lokaalomschrijving \
                     en de namen bij pincodes konden niet worden opgezocht."
                        .into(),
                ],
                ..Self::default()
            },
        }
    }

    /// `hub.toml` (`school`) and `policy.signed` of a data directory.
    pub(crate) fn from_data_dir(dir: &Path) -> Self {
        let mut context = Self::default();
        match crate::config::Config::load(dir) {
            Ok(config) => context.school = Some(config.school),
            Err(e) => context.notes.push(format!("hub.toml van de examenserver niet leesbaar ({e}): de schoolnaam ontbreekt.")),
        }
        match std::fs::read_to_string(dir.join(crate::pki::files::POLICY)) {
            Ok(text) => context.read_policy(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => context.no_policy(),
            Err(e) => context.notes.push(format!("Het beleid van de examenserver is niet leesbaar ({e}).")),
        }
        context.check_school();
        context
    }

    fn from_keys(keys: &crate::pki::Keys) -> Self {
        let mut context = Self { school: school_from_ca(&keys.school_ca_pem), ..Self::default() };
        match &keys.signed_policy {
            Some(text) => context.read_policy(text),
            None => context.no_policy(),
        }
        context.check_school();
        context
    }

    fn check_school(&mut self) {
        if self.school.as_deref().is_some_and(|s| s.trim().is_empty() || s.trim() == DEFAULT_SCHOOL) {
            self.school = None;
            self.notes.push(
                "De examenserver heeft geen schoolnaam: zet school = \"…\" in hub.toml (de standaard van exam-hub init is \"School\")."
                    .into(),
            );
        }
    }

    fn no_policy(&mut self) {
        self.notes.push(
            "Er staat geen beleid op de examenserver: de lokaalomschrijving en de namen bij de pincodes van surveillanten \
             konden niet worden opgezocht."
                .into(),
        );
    }

    /// The policy as the hub keeps it: a signed bundle or plain TOML. The
    /// hub does not hold the committee's key; the kiosks check the signature.
    fn read_policy(&mut self, text: &str) {
        let parsed = crate::config::read_hub_policy(text);
        match parsed {
            Ok(policy) => self.policy = Some(policy),
            Err(e) => self.notes.push(format!("Het beleid op de examenserver is niet te lezen ({e}).")),
        }
    }

    /// The room's description in the policy.
    fn location(&self, room: &str) -> Option<String> {
        let location = self.policy.as_ref()?.locations.iter().find(|l| l.name == room)?;
        Some(location.description.clone().unwrap_or_else(|| location.name.clone()))
    }

    /// The roster name of the invigilator id a kiosk journalled.
    fn roster_name(&self, id: &str) -> Option<&str> {
        self.policy.as_ref()?.lock.invigilators.iter().find(|i| i.id == id).map(|i| i.name.as_str())
    }

    /// An accommodation id with the policy's description.
    fn tool(&self, id: &str) -> String {
        let described = self
            .policy
            .as_ref()
            .and_then(|p| p.processes.accommodations.iter().find(|a| a.id == id))
            .and_then(|a| a.description.clone())
            .filter(|d| !d.trim().is_empty());
        let dutch = super::accommodations::tool_in_dutch(id);
        match (dutch, described) {
            (_, Some(d)) => format!("{id} ({d})"),
            (Some(d), None) => format!("{d} ({id})"),
            (None, None) => id.to_string(),
        }
    }
}

/// The school in the school CA certificate's name (`{school} exam school
/// CA`, written by `exam-hub init`): the certificate is self-signed, so the
/// first common name in it (the issuer's) is its own.
fn school_from_ca(pem: &str) -> Option<String> {
    use base64::Engine as _;
    let body: String = pem.lines().skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE")).skip(1).take_while(|l| !l.starts_with("-----END")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body.trim()).ok()?;
    // OID 2.5.4.3 (commonName), then a UTF8String (0x0C) or PrintableString (0x13) of short length.
    let at = der.windows(5).position(|w| w == [0x06, 0x03, 0x55, 0x04, 0x03])? + 5;
    let (tag, len) = (*der.get(at)?, usize::from(*der.get(at + 1)?));
    if !matches!(tag, 0x0C | 0x13) || len >= 0x80 {
        return None;
    }
    let cn = std::str::from_utf8(der.get(at + 2..at + 2 + len)?).ok()?;
    cn.strip_suffix(" exam school CA").map(str::to_string)
}

/// The data directory of a SQLite hub: the directory of its database file
/// (`hub.db`, [`crate::db::sqlite_url`]) when `hub.toml` is beside it.
fn sqlite_data_dir(db: &Db) -> Option<PathBuf> {
    if db.backend != crate::db::Backend::Sqlite {
        return None;
    }
    let url = db.pool.connect_options().database_url.to_string();
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = percent_decode(rest.split('?').next()?);
    let dir = Path::new(&path).parent()?.to_path_buf();
    dir.join(crate::pki::files::CONFIG).is_file().then_some(dir)
}

/// The database path from its URL (the `percent-encoding` crate: the
/// hand-written decoder before it read `%+F` as a byte, as `from_str_radix`
/// takes a sign; an escape that is not two hex digits stays as written).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// The names of the PCs in the document: the host name the kiosk reported
/// at enrolment; numbered (`pc-12 (2)`) when two PCs of the sitting share
/// one; `pc zonder naam N` without one. Ordered by first use.
fn pc_names(records: &SittingRecords, locked: &[crate::lockout::LockedPc]) -> BTreeMap<String, String> {
    let mut order: Vec<(String, Option<String>)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for s in &records.sessions {
        if seen.insert(s.device_id.clone()) {
            order.push((s.device_id.clone(), records.devices.get(&s.device_id).and_then(|d| d.hostname.clone())));
        }
    }
    for (id, device) in &records.devices {
        if seen.insert(id.clone()) {
            order.push((id.clone(), device.hostname.clone()));
        }
    }
    for pc in locked {
        if seen.insert(pc.device_id.clone()) {
            order.push((pc.device_id.clone(), pc.hostname.clone()));
        }
    }
    let host = |h: &Option<String>| h.as_deref().map(str::trim).filter(|h| !h.is_empty()).map(str::to_string);
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for (_, h) in &order {
        if let Some(h) = host(h) {
            *count.entry(h).or_default() += 1;
        }
    }
    let mut numbered: BTreeMap<String, usize> = BTreeMap::new();
    let mut unnamed = 0;
    let mut names = BTreeMap::new();
    for (id, h) in &order {
        let name = match host(h) {
            Some(h) if count[&h] == 1 => h,
            Some(h) => {
                let n = numbered.entry(h.clone()).or_default();
                *n += 1;
                format!("{h} ({n})")
            }
            None => {
                unnamed += 1;
                format!("pc zonder naam {unnamed}")
            }
        };
        names.insert(id.clone(), name);
    }
    names
}

/// Replaces device ids by PC names and other long hexadecimal ids (16 or
/// more hex digits: instruction ids, hashes) by `[kenmerk N]`, so the body
/// of the document has no ids; the appendix lists them.
struct Ids<'a> {
    pcs: &'a BTreeMap<String, String>,
    references: Vec<(usize, String)>,
}

impl Ids<'_> {
    fn hide(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut i = 0;
        while i < chars.len() {
            let (start, c) = chars[i];
            let boundary_before = i == 0 || !chars[i - 1].1.is_alphanumeric();
            if c.is_ascii_hexdigit() && boundary_before {
                let mut j = i;
                while j < chars.len() && chars[j].1.is_ascii_hexdigit() {
                    j += 1;
                }
                let boundary_after = j == chars.len() || !chars[j].1.is_alphanumeric();
                let end = chars.get(j).map_or(text.len(), |(at, _)| *at);
                let token = &text[start..end];
                if boundary_after && j - i >= 16 && token.chars().any(|c| c.is_ascii_digit()) {
                    out.push_str(&self.name(token));
                    i = j;
                    continue;
                }
                out.push_str(token);
                i = j;
                continue;
            }
            out.push(c);
            i += 1;
        }
        out
    }

    fn name(&mut self, id: &str) -> String {
        if let Some(pc) = self.pcs.get(id) {
            return pc.clone();
        }
        let id = id.to_ascii_lowercase();
        let n = match self.references.iter().find(|(_, known)| *known == id) {
            Some((n, _)) => *n,
            None => {
                let n = self.references.len() + 1;
                self.references.push((n, id));
                n
            }
        };
        format!("[kenmerk {n}]")
    }
}

/// The student logged in on `device` at `time_ms` (the latest session
/// created before it; the first one for events before any login).
fn student_at(records: &SittingRecords, device: &str, time_ms: i64) -> Option<String> {
    let on_device = records.sessions.iter().filter(|s| s.device_id == device);
    let mut best: Option<&records::Session> = None;
    for s in on_device {
        if s.created_ms <= time_ms || best.is_none() {
            best = Some(s);
        }
    }
    best.map(|s| s.student_number.clone())
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn with_reason(what: String, reason: &str) -> String {
    if reason.trim().is_empty() {
        what
    } else {
        format!("{what}; reden: {reason}")
    }
}

/// Turns one journal event into an entry (None for routine events). Read
/// through the kiosk's vocabulary ([`KioskEvent`]): a renamed kind or
/// payload field is a compile error here, not a missing line.
fn journal_entry(event: &JournalEvent) -> Option<(&'static str, String)> {
    use KioskEvent as E;
    if event.kind == exam_journal::records::KIND_TORN_TAIL {
        return Some(("logboek hersteld", "onvolledig laatste record na een crash apart gezet".into()));
    }
    let read = event.read()?;
    // Routine events are only counted (the query selects the reported ones).
    if !records::is_reported(&read) {
        return None;
    }
    Some(match read {
        E::GuardProcessEnded(p) => ("proces beëindigd", format!("{} beëindigd (regel {})", p.name, p.rule)),
        E::GuardProcessNotEnded(p) => ("proces niet beëindigd", format!("{} kon niet worden beëindigd (regel {})", p.name, p.rule)),
        E::GuardProcessWouldEnd(p) => ("proces gemeld", format!("{} zou beëindigd zijn (regel {}; alleen gemeld)", p.name, p.rule)),
        E::SessionTransition(t) => {
            let cause = t.cause;
            match text(&cause, "trigger").as_str() {
                "lock" => ("vergrendeld", format!("pc vergrendeld: {}", text(&cause, "reason"))),
                "unlock" => ("ontgrendeld", with_reason(format!("ontgrendeld door {}", text(&cause, "by")), &text(&cause, "reason"))),
                "resume_confirmed" => ("hervat na storing", format!("sessie hervat na herstart, bevestigd door {}", text(&cause, "by"))),
                "unfinished_session_found" => ("herstart", "onafgemaakte sessie gevonden na herstart van de pc".into()),
                _ => return None,
            }
        }
        E::SessionTimeAdded(t) => {
            ("extra tijd", with_reason(format!("{} minuten extra tijd op de pc verwerkt", t.seconds / 60), &t.reason))
        }
        E::SessionUnlockFailed(_) => ("ontgrendeling mislukt", "onjuiste surveillant-pincode ingevoerd".into()),
        E::SessionLoginFailed(_) => return None,
        E::EnvironmentChecked(p) => {
            // What fired, and what the kiosk's platform could not check
            // (`checked: false`): the exam board sees both, never a silent pass.
            let fired: Vec<String> = p
                .get("findings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|f| {
                    let unchecked = f.get("checked").and_then(Value::as_bool) == Some(false);
                    if !unchecked && f.get("detected").and_then(Value::as_bool) != Some(true) {
                        return None;
                    }
                    let evidence: Vec<String> =
                        f.get("evidence").and_then(Value::as_array).into_iter().flatten().filter_map(|e| e.as_str().map(str::to_owned)).collect();
                    let check = text(f, "check");
                    Some(if unchecked {
                        format!("{check} niet gecontroleerd: dit platform kan het niet nagaan ({}; actie {})", evidence.join(", "), text(f, "action"))
                    } else {
                        format!("{check} ({}; actie {})", evidence.join(", "), text(f, "action"))
                    })
                })
                .collect();
            if fired.is_empty() {
                return None;
            }
            ("omgevingsbevinding", fired.join("; "))
        }
        E::LocationRefused(_) => ("locatie geweigerd", "de pc werd niet als examenlokaal herkend".into()),
        E::InstrumentRefused(r) => ("examen geweigerd", format!("het examenpakket werd geweigerd: {}", r.reason)),
        E::SyncJournalRefused(_) => ("logboek geweigerd", "de hub weigerde een deel van het logboek".into()),
        E::SyncJournalDamaged(_) => ("logboek beschadigd", "de pc kon een deel van zijn logboek niet lezen; wat daarna kwam kon niet worden gecontroleerd".into()),
        // Only the project's own tests may let a WebDriver drive the window:
        // in a real sitting the exam board must see it.
        E::KioskTestAutomation(t) => (
            "testmodus",
            format!(
                "het beleid van de pc liet een testprogramma het examenvenster bedienen{}",
                if t.webdriver { ", en een testprogramma deed dat" } else { "" }
            ),
        ),
        E::KioskEnvironmentCleared(c) => ("omgeving opgeschoond", format!("bij de start verwijderd: {}", c.names.join(", "))),
        E::AnswersUploadRefused(u) => ("antwoorden geweigerd", format!("de hub nam antwoorden van de pc niet aan ({})", u.error)),
        E::AnswersKeptApart(_) => ("antwoorden apart", "de pc kreeg bericht dat zijn antwoorden apart bewaard worden (de student logde elders in)".into()),
        _ => return None,
    })
}

fn instruction_label(kind: &InstructionKind) -> (&'static str, String) {
    match kind {
        InstructionKind::Lock => ("vergrendeld", "vergrendeling".into()),
        InstructionKind::Unlock => ("ontgrendeld", "ontgrendeling op afstand".into()),
        InstructionKind::AddTime { minutes } => ("extra tijd", format!("{minutes} minuten extra tijd")),
        InstructionKind::Pause => ("pauze", "pauze (tijd stilgezet)".into()),
        InstructionKind::Resume => ("hervat", "hervatten na pauze".into()),
        InstructionKind::End => ("beëindigd", "einde examen".into()),
    }
}

/// Saves outside the time listed one by one per student; the rest are summed up.
const OUTSIDE_SAVES_LISTED: usize = 5;


#[allow(clippy::too_many_lines)]
fn build(
    records: SittingRecords,
    remarks: Vec<Remark>,
    saves: &std::collections::BTreeMap<String, crate::enforcement::SeatSaves>,
    locked_pcs: &[crate::lockout::LockedPc],
    context: &HubContext,
    generated_ms: i64,
) -> ProcesVerbaal {
    let day = local_time::day_of(records.sitting.started_ms.unwrap_or(records.sitting.start_ms));
    let at = |ms: i64| clock(ms, day);
    let names = pc_names(&records, locked_pcs);
    let mut ids = Ids { pcs: &names, references: Vec::new() };
    let pc = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let mut entries = Vec::new();
    let mut invigilators: Vec<String> = Vec::new();
    let mut claimed_by_kiosk: Vec<String> = Vec::new();
    let mut note_person = |name: &str| {
        let name = person(name);
        if !name.is_empty() && !invigilators.contains(&name) {
            invigilators.push(name);
        }
    };
    // Console actions that are not instructions to a PC (those appear as
    // instructions below, with the same name and reason).
    for a in &records.console_actions {
        let action = Action::from_name(&a.action);
        let what = match action {
            Some(Action::Start) => "gezamenlijke start",
            Some(Action::Move) => "verplaatsing naar een andere pc toegestaan",
            Some(Action::ResetLockout) => "inlogblokkade opgeheven",
            Some(Action::ReprintCode) => "nieuwe toegangscode uitgereikt",
            Some(Action::Reopen) => "beëindigd examen heropend",
            // The sitting's end with its reason: the end instructions below
            // reach only the PCs still in the exam (none, when all handed in).
            Some(Action::EndAll) => "zitting beëindigd voor iedereen",
            _ => continue,
        };
        note_person(&a.by);
        // The CLI writes its own name as the detail; the document names who that is.
        let detail = a.detail.trim().replacen(CLI_NAME, CLI_LABEL, 1);
        let detail = if detail.is_empty() || (detail == CLI_LABEL && person(&a.by) == CLI_LABEL) { String::new() } else { format!(" ({detail})") };
        entries.push(Irregularity {
            time_ms: a.at_ms,
            category: match action {
                Some(Action::Start) => "start",
                Some(Action::EndAll) => "einde",
                _ => "consoleactie",
            },
            device_id: None,
            pc: None,
            student: a.student.clone(),
            description: ids.hide(&with_reason(format!("{what} door {}{detail}", person(&a.by)), &a.reason)),
            source: "hub",
        });
    }
    let console_start = records.console_actions.iter().any(|a| Action::from_name(&a.action) == Some(Action::Start));
    if let Some(started) = records.sitting.started_ms.filter(|_| !console_start) {
        entries.push(Irregularity {
            time_ms: started,
            category: "start",
            device_id: None,
            pc: None,
            student: None,
            description: "gezamenlijke start op de examenserver".into(),
            source: "hub",
        });
    }
    // Instructions to several devices at once (a room) are one entry.
    // (time, kind, by, reason) -> (devices, how many did not acknowledge)
    type Key = (i64, String, String, String);
    let mut grouped: BTreeMap<Key, (Vec<String>, usize)> = BTreeMap::new();
    for i in &records.instructions {
        let ins = &i.instruction;
        let kind = serde_json::to_string(&ins.kind).unwrap_or_default();
        let entry = grouped.entry((ins.issued_at_ms, kind, ins.issued_by.clone(), ins.reason.clone())).or_default();
        entry.0.push(i.device_id.clone());
        entry.1 += usize::from(i.acked_ms.is_none());
    }
    for ((time_ms, kind, by, reason), (devices, unacknowledged)) in grouped {
        let Ok(kind) = serde_json::from_str::<InstructionKind>(&kind) else { continue };
        note_person(&by);
        let (category, what) = instruction_label(&kind);
        let (device_id, student, target) = if devices.len() == 1 {
            let student = student_at(&records, &devices[0], time_ms);
            (Some(devices[0].clone()), student, String::new())
        } else {
            (None, None, format!(" voor {}", crate::audit::pc_count(devices.len())))
        };
        entries.push(Irregularity {
            time_ms,
            category,
            pc: device_id.as_deref().map(pc),
            device_id,
            student,
            description: ids.hide(
                &(with_reason(format!("instructie {what}{target} door {}", person(&by)), &reason)
                    + &if unacknowledged > 0 { format!(" (door {} niet bevestigd)", crate::audit::pc_count(unacknowledged)) } else { String::new() }),
            ),
            source: "hub",
        });
    }
    for (device_id, device) in &records.devices {
        if !device.room.is_empty() && device.room != records.sitting.room {
            entries.push(Irregularity {
                time_ms: records.sessions.iter().find(|s| &s.device_id == device_id).map_or(0, |s| s.created_ms),
                category: "ander lokaal",
                device_id: Some(device_id.clone()),
                pc: Some(pc(device_id)),
                student: None,
                description: ids.hide(&format!("pc is ingeschreven voor lokaal {}, niet voor {}", device.room, records.sitting.room)),
                source: "hub",
            });
        }
    }
    // Moves: a later session of the same student on another device.
    let mut last_device: BTreeMap<&str, &str> = BTreeMap::new();
    for s in &records.sessions {
        if let Some(previous) = last_device.insert(&s.student_number, &s.device_id) {
            if previous != s.device_id {
                entries.push(Irregularity {
                    time_ms: s.created_ms,
                    category: "verplaatst",
                    device_id: Some(s.device_id.clone()),
                    pc: Some(pc(&s.device_id)),
                    student: Some(s.student_number.clone()),
                    description: format!("student verder op pc {} (was {})", pc(&s.device_id), pc(previous)),
                    source: "hub",
                });
            }
        }
    }
    // Lock-outs, one per PC the wrong codes were typed on (the lock holds
    // on that PC only), also when lifted since (see the console actions).
    for c in &records.candidates {
        let mut on_pcs: Vec<(i64, Option<String>, String)> = locked_pcs
            .iter()
            .filter(|l| l.student_number == c.student_number)
            .map(|l| {
                let what = format!("te vaak een onjuiste toegangscode op pc {}; inloggen op die pc geblokkeerd", pc(&l.device_id));
                (l.locked_ms, Some(l.device_id.clone()), what)
            })
            .collect();
        if let Some(locked) = c.login_locked_ms.filter(|_| on_pcs.is_empty()) {
            // Locked before the count was kept per PC: no PC on record.
            on_pcs.push((locked, None, "te vaak een onjuiste toegangscode; inloggen geblokkeerd".into()));
        }
        for (time_ms, device_id, description) in on_pcs {
            entries.push(Irregularity {
                time_ms,
                category: "inlogblokkade",
                pc: device_id.as_deref().map(pc),
                device_id,
                student: Some(c.student_number.clone()),
                description,
                source: "hub",
            });
        }
    }
    // Journal events, and network outages from offline/online pairs.
    let mut offline_since: BTreeMap<&str, i64> = BTreeMap::new();
    for e in &records.events {
        let read = e.read();
        match read {
            Some(KioskEvent::SyncOffline(_)) => {
                offline_since.entry(&e.device_id).or_insert(e.time_ms);
            }
            Some(KioskEvent::SyncOnline(_)) => {
                if let Some(since) = offline_since.remove(e.device_id.as_str()) {
                    entries.push(outage(&records, &names, &e.device_id, since, Some(e.time_ms), day));
                }
            }
            _ => {
                if let Some((category, mut description)) = journal_entry(e) {
                    if let Some(KioskEvent::SessionTransition(t)) = &read {
                        let cause = &t.cause;
                        let id = text(&cause, "by");
                        let id = id.trim();
                        if let Some(name) = id.strip_suffix(exam_protocol::events::BY_REMOTE_SUFFIX) {
                            // From the console (the hub's own records name
                            // who): not a PIN typed at the PC.
                            description = description.replacen(&format!("door {id}"), &format!("op afstand door {name} (via de console)"), 1);
                        } else if !id.is_empty() {
                            // The kiosk journals the roster id of whoever typed the PIN.
                            let named = match context.roster_name(id) {
                                Some(name) if name == id => name.to_string(),
                                Some(name) => format!("{name} ({id})"),
                                None => format!("{id} (niet in het beleid van de examenserver)"),
                            };
                            description = description.replacen(&format!("door {id}"), &format!("door {named} met pincode"), 1);
                            if !claimed_by_kiosk.contains(&named) {
                                claimed_by_kiosk.push(named);
                            }
                        }
                    }
                    entries.push(Irregularity {
                        time_ms: e.time_ms,
                        category,
                        device_id: Some(e.device_id.clone()),
                        pc: Some(pc(&e.device_id)),
                        student: student_at(&records, &e.device_id, e.time_ms),
                        description: ids.hide(&description),
                        source: "logboek",
                    });
                }
            }
        }
    }
    for (device, since) in offline_since {
        entries.push(outage(&records, &names, device, since, None, day));
    }
    // What arrived outside the student's time: stored, shown, not counted
    // (the first few one by one, then how many more: a PC sending thousands
    // cannot bury the document).
    for (student, seat) in saves {
        let outside = crate::enforcement::Counted::of(&seat.saves).outside;
        let shown = outside.len().min(OUTSIDE_SAVES_LISTED);
        for save in &outside[..shown] {
            entries.push(Irregularity {
                time_ms: save.received_ms,
                category: "buiten de tijd",
                device_id: Some(save.device_id.clone()),
                pc: Some(pc(&save.device_id)),
                student: Some(student.clone()),
                description: format!(
                    "{} {} ontvangen {}: {} ({}); opgeslagen, telt niet mee",
                    if save.final_submission { "inlevering" } else { "opslag" },
                    save.seq,
                    at(save.received_ms),
                    save.standing.label(),
                    save.basis.label()
                ),
                source: "hub",
            });
        }
        if let (Some(first), Some(last)) = (outside.get(shown), outside.last()) {
            entries.push(Irregularity {
                time_ms: first.received_ms,
                category: "buiten de tijd",
                device_id: Some(last.device_id.clone()),
                pc: Some(pc(&last.device_id)),
                student: Some(student.clone()),
                description: format!(
                    "en nog {} opslagen buiten de tijd, ontvangen {} tot {}; opgeslagen, tellen niet mee",
                    outside.len() - shown,
                    at(first.received_ms),
                    at(last.received_ms),
                ),
                source: "hub",
            });
        }
        if seat.given_back_ms > 0 {
            entries.push(Irregularity {
                time_ms: seat.saves.last().map_or(generated_ms, |s| s.received_ms),
                category: "tijd teruggegeven",
                device_id: None,
                pc: None,
                student: Some(student.clone()),
                description: format!(
                    "{} s bij de eindtijd geteld: zo lang stond de examenklok van de pc stil voor een vergrendeling of herstart \
                     die een surveillant beëindigde (volgens het logboek van de pc, alleen binnen de sessie en de examentijd)",
                    (seat.given_back_ms + 999) / 1000
                ),
                source: "logboek",
            });
        }
    }
    // Answers a PC sent after the student moved on: shown, never counted.
    for (student, kept) in &records.superseded {
        for k in kept {
            entries.push(Irregularity {
                time_ms: k.first_ms,
                category: "apart bewaard",
                device_id: Some(k.device_id.clone()),
                pc: Some(pc(&k.device_id)),
                student: Some(student.clone()),
                description: format!(
                    "{} opslag(en) tot en met {} van pc {}{}, ontvangen vanaf {} nadat de student om {} op een andere pc inlogde: \
                     apart bewaard, telt niet (ter beoordeling door de examencommissie)",
                    k.saves,
                    k.last_seq,
                    pc(&k.device_id),
                    if k.handed_in { " met een inlevering" } else { "" },
                    at(k.first_ms),
                    at(k.superseded_ms),
                ),
                source: "hub",
            });
        }
    }
    // Read-aloud and the spell-check where neither the planning nor the
    // instrument grants them (or on an item the instrument switched the
    // spell-check off on): the kiosk refuses them, so a journal that has
    // them is evidence of a changed PC. Where the instrument's grant is
    // unknown, the document says it could not check.
    const CHANGED: &str = "een aanwijzing dat de software van de pc is gewijzigd";
    const UNKNOWN: &str = "of het examen het iedereen gaf, is niet na te gaan: het instrumentpakket staat niet (leesbaar) op de examenserver";
    let used = journalled_use(&records);
    for c in &records.candidates {
        let Some(u) = used.get(&c.student_number) else { continue };
        if let (Some((time_ms, device_id)), granted) = (u.first_read_aloud.clone(), read_aloud_granted(&records, &c.tools)) {
            if granted != Some(true) {
                entries.push(Irregularity {
                    time_ms,
                    category: if granted == Some(false) { "voorlezen zonder toekenning" } else { "voorlezen niet na te gaan" },
                    pc: Some(pc(&device_id)),
                    device_id: Some(device_id),
                    student: Some(c.student_number.clone()),
                    description: format!(
                        "voorlezen gebruikt zonder toekenning in de planning ({} keer, voor het eerst op dit tijdstip); {}",
                        u.read_aloud,
                        if granted == Some(false) {
                            format!("het examen geeft het ook niet, en de examensoftware weigert het dan: {CHANGED}")
                        } else {
                            UNKNOWN.to_owned()
                        }
                    ),
                    source: "logboek",
                });
            }
        }
        // Per item the kiosk should have refused (or could not be checked): its count.
        let mut refused: BTreeMap<&str, (i64, &String, Option<String>, u64)> = BTreeMap::new();
        for (time_ms, device_id, item) in &u.spell_checks {
            match spell_check_refusal(&records, &c.tools, item) {
                Some(None) => {}
                why => refused.entry(item.as_str()).or_insert((*time_ms, device_id, why.flatten(), 0)).3 += 1,
            }
        }
        for (item, (time_ms, device_id, why, times)) in refused {
            let (category, description) = match why {
                Some(why) => (
                    "spellingcontrole zonder toekenning",
                    format!("spellingcontrole gebruikt {why} ({times} keer, voor het eerst op dit tijdstip); de examensoftware weigert dat: {CHANGED}"),
                ),
                None => (
                    "spellingcontrole niet na te gaan",
                    format!("spellingcontrole gebruikt bij vraag {item} zonder toekenning in de planning ({times} keer, voor het eerst op dit tijdstip); {UNKNOWN}"),
                ),
            };
            entries.push(Irregularity {
                time_ms,
                category,
                pc: Some(pc(device_id)),
                device_id: Some(device_id.clone()),
                student: Some(c.student_number.clone()),
                description,
                source: "logboek",
            });
        }
    }
    for r in &remarks {
        note_person(&r.author);
    }
    if let Some((_, Some(by))) = &records.ended {
        note_person(by);
    }
    entries.sort_by(|a, b| (a.time_ms, &a.device_id, a.category).cmp(&(b.time_ms, &b.device_id, b.category)));

    let seats = records
        .candidates
        .iter()
        .map(|c| {
            let sessions: Vec<_> = records.sessions.iter().filter(|s| s.student_number == c.student_number).collect();
            let mut devices: Vec<String> = Vec::new();
            for s in &sessions {
                if devices.last() != Some(&s.device_id) {
                    devices.push(s.device_id.clone());
                }
            }
            let answers = records.answers.get(&c.student_number);
            let counted = crate::enforcement::Counted::of(saves.get(&c.student_number).map_or(&[][..], |s| s.saves.as_slice()));
            // Only a hand-in made in the student's time is "ingeleverd".
            let submitted = counted.handed_in();
            let status = match (submitted, sessions.is_empty()) {
                (Some(_), _) => SeatStatus::Submitted,
                (None, _) if counted.late_hand_in().is_some() => {
                    SeatStatus::HandedInOutsideTime(counted.late_hand_in().map_or(crate::enforcement::Standing::AfterDeadline, |s| s.standing))
                }
                (None, false) => SeatStatus::Present,
                (None, true) if answers.is_some() => SeatStatus::Present,
                (None, true) => SeatStatus::Absent,
            };
            // The last per-seat end or reopen decides (the end for everyone is `end_all`).
            let ended_by_invigilator = records
                .console_actions
                .iter()
                .filter(|a| a.student.as_deref() == Some(c.student_number.as_str()))
                .filter_map(|a| match Action::from_name(&a.action) {
                    Some(Action::End) => Some(true),
                    Some(Action::Reopen) => Some(false),
                    _ => None,
                })
                .last()
                .unwrap_or(false);
            let mut accommodations: Vec<String> = c.tools.iter().map(|t| context.tool(t)).collect();
            accommodations.extend(c.text_size.iter().map(|v| presentation("text_size", v)));
            accommodations.extend(c.contrast.iter().map(|v| presentation("contrast", v)));
            let tools_used = (!devices.is_empty() || answers.is_some()).then(|| {
                let journalled = used.get(&c.student_number);
                let held = |d: &&String| records.journals.get(*d).is_some_and(|j| j.in_sitting);
                let read_aloud_uses = journalled.map_or(0, |u| u.read_aloud);
                ToolsUsed {
                    calculator_uses: journalled.map_or(0, |u| u.calculator),
                    calculator_items: journalled.map_or(0, |u| u.items.len()),
                    read_aloud_uses,
                    read_aloud_not_granted: read_aloud_uses > 0 && read_aloud_granted(&records, &c.tools) == Some(false),
                    spell_check_uses: journalled.map_or(0, |u| u.spell_check),
                    scratchpad_items: answers.map_or(0, |a| a.scratchpad_items),
                    highlight_items: answers.map_or(0, |a| a.highlight_items),
                    journal_held: devices.iter().any(|d| held(&d)),
                    pcs_without_journal: devices.iter().filter(|d| !held(d)).map(|d| pc(d)).collect(),
                }
            });
            SeatSummary {
                student_number: c.student_number.clone(),
                name: c.name.clone(),
                status,
                pcs: devices.iter().map(|d| pc(d)).collect(),
                devices,
                first_login_ms: sessions.first().map(|s| s.created_ms),
                submitted_ms: submitted.map(|a| a.received_ms),
                // An absent student has no end (the end for everyone ends every seat).
                ended_ms: submitted
                    .map(|a| a.received_ms)
                    .or_else(|| records.seat_ended.get(&c.student_number).copied().filter(|_| status != SeatStatus::Absent)),
                accommodations,
                tools_used,
                // The code the student saw, also for a hand-in that does not count.
                receipt_code: submitted
                    .and_then(|a| a.receipt_code.clone())
                    .or_else(|| answers.filter(|a| a.final_submission).and_then(|a| a.receipt_code.clone())),
                extra_minutes: c.extra_minutes,
                added_minutes: c.added_minutes,
                ended_by_invigilator,
            }
        })
        .collect::<Vec<_>>();

    let mut journals = records
        .devices
        .iter()
        .map(|(device_id, device)| {
            let state = records.journals.get(device_id).cloned().unwrap_or_default();
            let mut students: Vec<String> =
                records.sessions.iter().filter(|s| &s.device_id == device_id).map(|s| s.student_number.clone()).collect();
            students.dedup();
            let alarms: Vec<String> = state.alarms.iter().map(|(t, kind, detail)| format!("{} {kind}: {detail}", technical(*t))).collect();
            let verified = state.records > 0 && alarms.is_empty();
            let mut statement = journal_statement(&state, &alarms);
            if let Some(seen) = device.last_seen_ms {
                let st = device.last_state.as_deref().map_or("onbekend", super::phase_in_dutch);
                statement.push_str(&format!(" Laatste hartslag: {} (toestand {st}).", at(seen)));
            }
            DeviceJournal {
                device_id: device_id.clone(),
                label: pc(device_id),
                hostname: device.hostname.clone(),
                students,
                records: state.records,
                checkpoint: state.checkpoint,
                alarms,
                verified,
                statement,
            }
        })
        .collect::<Vec<_>>();
    // By PC name, as a reader looks one up (they came in device-id order).
    journals.sort_by(|a, b| a.label.cmp(&b.label).then_with(|| a.device_id.cmp(&b.device_id)));

    let deletions = records
        .deletions
        .iter()
        .map(|d| ids.hide(&format!("{}: {} ({}, {} rijen) verwijderd volgens {}", at(d.deleted_ms), d.what, d.subject, d.rows, d.rule)))
        .collect();
    let planned_end_ms = records.sitting.latest_end_ms(super::records::longest_extra_minutes(&records.candidates));
    let ended = records.ended.clone().map(|(t, by)| (t, by.map(|b| person(&b))));
    let mut pcs: Vec<(String, String)> = names.iter().map(|(id, name)| (name.clone(), id.clone())).collect();
    pcs.sort();
    let references = ids.references;
    let location = context.location(&records.sitting.room);
    let mut notes = context.notes.clone();
    if records.instrument.is_none() {
        notes.push(format!("Het instrument {} staat niet (meer) op de examenserver: versie en pakket-hash zijn niet na te gaan.", records.sitting.instrument_id));
    }
    let instrument = records.instrument.clone();
    let s = records.sitting;
    ProcesVerbaal {
        planned_end_ms,
        ended,
        sitting_id: s.sitting_id,
        school: context.school.clone(),
        location,
        exam: s.exam,
        exam_code: s.exam_code,
        instrument_id: s.instrument_id,
        instrument_title: instrument.as_ref().and_then(|i| i.title.clone()),
        instrument_version: instrument.as_ref().and_then(|i| i.version.clone()),
        instrument_tools: instrument.as_ref().map(|i| match &i.tools {
            Some(tools) if tools.is_empty() => "geen (alleen de voorzieningen per kandidaat)".to_owned(),
            Some(tools) => tools.summary(),
            None => "niet bekend: de kop van het instrumentpakket is niet te lezen".to_owned(),
        }),
        instrument_sha256: instrument.map(|i| i.sha256),
        room: s.room,
        planned_start_ms: s.start_ms,
        duration_minutes: s.duration_minutes,
        started_ms: s.started_ms,
        last_submission_ms: seats.iter().filter_map(|seat| seat.submitted_ms).max(),
        invigilators,
        claimed_by_kiosk,
        notes,
        pcs,
        references,
        seats,
        irregularities: entries,
        journals,
        remarks,
        deletions,
        generated_ms,
    }
}

fn outage(
    records: &SittingRecords,
    names: &BTreeMap<String, String>,
    device: &str,
    since: i64,
    until: Option<i64>,
    day: Option<(i16, i8, i8)>,
) -> Irregularity {
    let description = match until {
        Some(until) => format!(
            "geen verbinding met de examenserver van {} tot {} (duur {}); antwoorden en logboek bleven op de pc bewaard",
            clock(since, day),
            clock(until, day),
            format_duration(until - since)
        ),
        None => format!("geen verbinding met de examenserver vanaf {}; geen herstel gemeld in het logboek", clock(since, day)),
    };
    Irregularity {
        time_ms: since,
        category: "netwerkonderbreking",
        device_id: Some(device.to_string()),
        pc: Some(names.get(device).cloned().unwrap_or_else(|| device.to_string())),
        student: student_at(records, device, since),
        description,
        source: "logboek",
    }
}

/// The statement about one PC's journal in the body of the document; the
/// checkpoint's Merkle root is in the appendix.
fn journal_statement(state: &records::JournalState, alarms: &[String]) -> String {
    if state.records == 0 {
        return "Geen logboek ontvangen: de examenserver heeft van deze pc geen records en kan niets verklaren.".into();
    }
    let mut out = format!(
        "{} records ontvangen en bij aankomst gecontroleerd (handtekeningen, epoch-certificaten, hashketen, volgnummers).",
        state.records
    );
    match &state.checkpoint {
        Some((size, _)) => {
            out.push_str(&format!(" Verankerd aan een checkpoint over records 0..{size} (Merkle-root in de bijlage)."));
            let after = state.records - *size as i64;
            if after > 0 {
                out.push_str(&format!(" {after} latere records vallen (nog) niet onder een checkpoint."));
            }
        }
        None => out.push_str(" Nog geen checkpoint ontvangen: afkappen van het einde is niet uit te sluiten."),
    }
    if alarms.is_empty() {
        out.push_str(" Geen alarmen: het logboek is in orde.");
    } else {
        out.push_str(&format!(" NIET IN ORDE: {} alarm(en), zie de bijlage.", alarms.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_pc_names_or_numbered_references() {
        let pcs: BTreeMap<String, String> = [("0123456789abcdef0123456789abcdef".to_string(), "lokaal-pc-07".to_string())].into();
        let mut ids = Ids { pcs: &pcs, references: Vec::new() };
        let text = "pc 0123456789abcdef0123456789abcdef, instructies: fedcba9876543210fedcba9876543210, \
                    FEDCBA9876543210FEDCBA9876543210; code ABCD-EFGH; deadbeef blijft; cafebabecafebabe zonder cijfer";
        assert_eq!(
            ids.hide(text),
            "pc lokaal-pc-07, instructies: [kenmerk 1], [kenmerk 1]; code ABCD-EFGH; deadbeef blijft; cafebabecafebabe zonder cijfer"
        );
        assert_eq!(ids.references, vec![(1, "fedcba9876543210fedcba9876543210".to_string())]);
    }

    #[test]
    fn the_school_comes_from_the_school_ca_certificate() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name.push(rcgen::DnType::CommonName, "ROC de Eilanden exam school CA");
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(school_from_ca(&cert.pem()).as_deref(), Some("ROC de Eilanden"));
        assert_eq!(school_from_ca("geen certificaat"), None);
    }

    /// A check the kiosk's platform could not make is in the document, as
    /// not checked; one that ran and found nothing is not.
    #[test]
    fn an_environment_check_the_pc_could_not_make_is_named() {
        let event = JournalEvent {
            device_id: "d".into(),
            seq: 1,
            kind: "environment.checked".into(),
            time_ms: 0,
            payload: serde_json::json!({"action": "warn", "findings": [
                {"check": "virtual-machine", "detected": false, "checked": false, "evidence": ["not checked: this platform (windows) does not gather the facts for this check"], "action": "warn"},
                {"check": "screen-capture", "detected": false, "checked": true, "evidence": [], "action": "allow"},
            ]}),
        };
        let (kind, text) = journal_entry(&event).expect("an unchecked check is reported");
        assert_eq!(kind, "omgevingsbevinding");
        assert!(text.starts_with("virtual-machine niet gecontroleerd"), "{text}");
        assert!(!text.contains("screen-capture"), "{text}");
        // Older kiosks wrote no `checked`: what they found, as before.
        let mut older = event;
        older.payload = serde_json::json!({"findings": [{"check": "screen-capture", "detected": false, "evidence": [], "action": "allow"}]});
        assert_eq!(journal_entry(&older), None);
    }

    /// The tools used in Dutch: counts in the singular and plural; a PC of
    /// the student's without a journal is named (after a move), no journal
    /// at all makes calculator and read-aloud unknown, never "none used".
    #[test]
    fn the_tools_used_read_in_dutch() {
        let none = ToolsUsed { journal_held: true, ..ToolsUsed::default() };
        assert_eq!(none.lines(), vec!["geen hulpmiddelen gebruikt"]);
        let once = ToolsUsed { calculator_uses: 1, calculator_items: 1, scratchpad_items: 1, spell_check_uses: 3, ..none.clone() };
        assert_eq!(once.lines(), vec!["rekenmachine: 1 keer, bij 1 vraag", "spellingcontrole: 3 keer", "kladblok bij 1 vraag"]);
        let moved = ToolsUsed { read_aloud_uses: 2, pcs_without_journal: vec!["lokaal-pc-03".into()], ..none.clone() };
        assert_eq!(
            moved.lines(),
            vec!["voorlezen: 2 keer", "gebruik op pc lokaal-pc-03 onbekend: geen logboek ontvangen (rekenmachine, voorlezen, spellingcontrole)"]
        );
        let unknown = ToolsUsed { highlight_items: 3, journal_held: false, ..ToolsUsed::default() };
        assert_eq!(unknown.lines(), vec!["markeerstift bij 3 vragen", "gebruik onbekend: geen logboek ontvangen (rekenmachine, voorlezen, spellingcontrole)"]);
    }

    #[test]
    fn percent_encoded_paths_are_decoded() {
        assert_eq!(percent_decode("/tmp/een%20map/hub.db"), "/tmp/een map/hub.db");
        assert_eq!(percent_decode("/tmp/100%/x%4"), "/tmp/100%/x%4");
        assert_eq!(percent_decode("/tmp/a%+Fb"), "/tmp/a%+Fb", "a sign is not a hex digit");
    }
}
