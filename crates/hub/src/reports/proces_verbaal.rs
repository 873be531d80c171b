//! The proces-verbaal of a sitting as data: built from the hub's records
//! (planning, sessions, instructions, answers) and the devices' verified
//! journals. Rendering is [`super::html`] and [`super::pdf`]'s job.

use super::records::{self, JournalEvent, SittingRecords};
use super::remarks::{list_remarks, Remark};
use super::{format_duration, format_time, ReportError};
use crate::console::actions::Action;
use crate::db::Db;
use exam_protocol::InstructionKind;
use serde_json::Value;
use std::collections::BTreeMap;

/// The proces-verbaal of one sitting.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProcesVerbaal {
    /// Sitting id.
    pub sitting_id: String,
    /// Exam code.
    pub exam: String,
    /// Instrument id.
    pub instrument_id: String,
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
    /// instructions (names of console accounts and of the CLI).
    pub invigilators: Vec<String>,
    /// Names a kiosk's journal gives for an unlock or a confirmed resume
    /// (`cause.by`): what the kiosk says, not checked by the hub.
    pub claimed_by_kiosk: Vec<String>,
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

/// Builds the proces-verbaal of `sitting_id` from the database.
pub async fn proces_verbaal(db: &Db, sitting_id: &str) -> Result<ProcesVerbaal, ReportError> {
    let records = records::load(db, sitting_id).await?;
    let remarks = list_remarks(db, sitting_id).await?;
    let saves = crate::enforcement::classify_sitting(&db.pool, sitting_id).await?;
    // Answers a PC sent after the student moved on: shown, never counted.
    let kept_apart = crate::answer_history::superseded_lines(&db.pool, sitting_id).await?;
    let locked_pcs = crate::lockout::locked_pcs(db, sitting_id).await?;
    Ok(build(records, remarks, &saves, &kept_apart, &locked_pcs, crate::now_ms()))
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

/// Turns one journal event into an entry (None for routine events).
fn journal_entry(event: &JournalEvent) -> Option<(&'static str, String)> {
    let p = &event.payload;
    Some(match event.kind.as_str() {
        "guard.process_ended" => ("proces beëindigd", format!("{} beëindigd (regel {})", text(p, "name"), text(p, "rule"))),
        "guard.process_not_ended" => {
            ("proces niet beëindigd", format!("{} kon niet worden beëindigd (regel {})", text(p, "name"), text(p, "rule")))
        }
        "guard.process_would_end" => ("proces gemeld", format!("{} zou beëindigd zijn (regel {}; alleen gemeld)", text(p, "name"), text(p, "rule"))),
        "session.transition" => {
            let cause = p.get("cause").cloned().unwrap_or(Value::Null);
            match text(&cause, "trigger").as_str() {
                "lock" => ("vergrendeld", format!("pc vergrendeld: {}", text(&cause, "reason"))),
                "unlock" => ("ontgrendeld", with_reason(format!("ontgrendeld door {}", text(&cause, "by")), &text(&cause, "reason"))),
                "resume_confirmed" => ("hervat na storing", format!("sessie hervat na herstart, bevestigd door {}", text(&cause, "by"))),
                "unfinished_session_found" => ("herstart", "onafgemaakte sessie gevonden na herstart van de pc".into()),
                _ => return None,
            }
        }
        "session.time_added" => {
            let seconds = p.get("seconds").and_then(Value::as_i64).unwrap_or(0);
            ("extra tijd", with_reason(format!("{} minuten extra tijd op de pc verwerkt", seconds / 60), &text(p, "reason")))
        }
        "session.unlock_failed" => ("ontgrendeling mislukt", "onjuiste surveillant-pincode ingevoerd".into()),
        "session.login_failed" => return None,
        "environment.checked" => {
            let fired: Vec<String> = p
                .get("findings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|f| f.get("detected").and_then(Value::as_bool) == Some(true))
                .map(|f| {
                    let evidence: Vec<String> =
                        f.get("evidence").and_then(Value::as_array).into_iter().flatten().filter_map(|e| e.as_str().map(str::to_owned)).collect();
                    format!("{} ({}; actie {})", text(f, "check"), evidence.join(", "), text(f, "action"))
                })
                .collect();
            if fired.is_empty() {
                return None;
            }
            ("omgevingsbevinding", fired.join("; "))
        }
        "location.refused" => ("locatie geweigerd", "de pc werd niet als examenlokaal herkend".into()),
        "instrument.refused" => ("examen geweigerd", format!("het examenpakket werd geweigerd: {}", text(p, "reason"))),
        "journal.torn_tail" => ("logboek hersteld", "onvolledig laatste record na een crash apart gezet".into()),
        "sync.journal_refused" => ("logboek geweigerd", "de hub weigerde een deel van het logboek".into()),
        // Only the project's own tests may let a WebDriver drive the window:
        // in a real sitting the exam board must see it.
        "kiosk.test_automation" => (
            "testmodus",
            format!(
                "het beleid van de pc liet een testprogramma het examenvenster bedienen{}",
                if p.get("webdriver").and_then(Value::as_bool) == Some(true) { ", en een testprogramma deed dat" } else { "" }
            ),
        ),
        "kiosk.environment_cleared" => {
            let names: Vec<String> = p.get("names").and_then(Value::as_array).into_iter().flatten().filter_map(|n| n.as_str().map(str::to_owned)).collect();
            ("omgeving opgeschoond", format!("bij de start verwijderd: {}", names.join(", ")))
        }
        "answers.upload_refused" => ("antwoorden geweigerd", format!("de hub nam antwoorden van de pc niet aan ({})", text(p, "error"))),
        "answers.kept_apart" => ("antwoorden apart", "de pc kreeg bericht dat zijn antwoorden apart bewaard worden (de student logde elders in)".into()),
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

fn build(
    records: SittingRecords,
    remarks: Vec<Remark>,
    saves: &std::collections::BTreeMap<String, crate::enforcement::SeatSaves>,
    kept_apart: &std::collections::BTreeMap<String, Vec<(i64, String)>>,
    locked_pcs: &[crate::lockout::LockedPc],
    generated_ms: i64,
) -> ProcesVerbaal {
    let mut entries = Vec::new();
    let mut invigilators: Vec<String> = Vec::new();
    let mut claimed_by_kiosk: Vec<String> = Vec::new();
    let mut note_person = |name: &str| {
        let name = name.trim();
        if !name.is_empty() && !invigilators.iter().any(|n| n == name) {
            invigilators.push(name.to_string());
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
            _ => continue,
        };
        note_person(&a.by);
        let detail = if a.detail.trim().is_empty() { String::new() } else { format!(" ({})", a.detail) };
        entries.push(Irregularity {
            time_ms: a.at_ms,
            category: if action == Some(Action::Start) { "start" } else { "consoleactie" },
            device_id: None,
            student: a.student.clone(),
            description: with_reason(format!("{what} door {}{detail}", a.by), &a.reason),
            source: "hub",
        });
    }
    let console_start = records.console_actions.iter().any(|a| Action::from_name(&a.action) == Some(Action::Start));
    if let Some(started) = records.sitting.started_ms.filter(|_| !console_start) {
        entries.push(Irregularity {
            time_ms: started,
            category: "start",
            device_id: None,
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
            (None, None, format!(" voor {} pc's", devices.len()))
        };
        entries.push(Irregularity {
            time_ms,
            category,
            device_id,
            student,
            description: with_reason(format!("instructie {what}{target} door {by}"), &reason)
                + &if unacknowledged > 0 { format!(" (door {unacknowledged} pc('s) niet bevestigd)") } else { String::new() },
            source: "hub",
        });
    }
    for (device_id, device) in &records.devices {
        if !device.room.is_empty() && device.room != records.sitting.room {
            entries.push(Irregularity {
                time_ms: records.sessions.iter().find(|s| &s.device_id == device_id).map_or(0, |s| s.created_ms),
                category: "ander lokaal",
                device_id: Some(device_id.clone()),
                student: None,
                description: format!("pc is ingeschreven voor lokaal {}, niet voor {}", device.room, records.sitting.room),
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
                    student: Some(s.student_number.clone()),
                    description: format!("student verder op pc {} (was {previous})", s.device_id),
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
            .filter(|pc| pc.student_number == c.student_number)
            .map(|pc| {
                let host = pc.hostname.as_deref().map(|h| format!(" ({h})")).unwrap_or_default();
                let what = format!("te vaak een onjuiste toegangscode op pc {}{host}; inloggen op die pc geblokkeerd", pc.device_id);
                (pc.locked_ms, Some(pc.device_id.clone()), what)
            })
            .collect();
        if let Some(locked) = c.login_locked_ms.filter(|_| on_pcs.is_empty()) {
            // Locked before the count was kept per PC: no PC on record.
            on_pcs.push((locked, None, "te vaak een onjuiste toegangscode; inloggen geblokkeerd".into()));
        }
        for (time_ms, device_id, description) in on_pcs {
            entries.push(Irregularity { time_ms, category: "inlogblokkade", device_id, student: Some(c.student_number.clone()), description, source: "hub" });
        }
    }
    // Journal events, and network outages from offline/online pairs.
    let mut offline_since: BTreeMap<&str, i64> = BTreeMap::new();
    for e in &records.events {
        match e.kind.as_str() {
            "sync.offline" => {
                offline_since.entry(&e.device_id).or_insert(e.time_ms);
            }
            "sync.online" => {
                if let Some(since) = offline_since.remove(e.device_id.as_str()) {
                    entries.push(outage(&records, &e.device_id, since, Some(e.time_ms)));
                }
            }
            _ => {
                if let Some((category, description)) = journal_entry(e) {
                    if e.kind == "session.transition" {
                        let cause = e.payload.get("cause").cloned().unwrap_or(Value::Null);
                        let name = text(&cause, "by");
                        let name = name.trim();
                        if !name.is_empty() && !claimed_by_kiosk.iter().any(|n| n == name) {
                            claimed_by_kiosk.push(name.to_string());
                        }
                    }
                    entries.push(Irregularity {
                        time_ms: e.time_ms,
                        category,
                        device_id: Some(e.device_id.clone()),
                        student: student_at(&records, &e.device_id, e.time_ms),
                        description,
                        source: "logboek",
                    });
                }
            }
        }
    }
    for (device, since) in offline_since {
        entries.push(outage(&records, device, since, None));
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
                student: Some(student.clone()),
                description: format!("{}; opgeslagen, telt niet mee", save.describe()),
                source: "hub",
            });
        }
        if let (Some(first), Some(last)) = (outside.get(shown), outside.last()) {
            entries.push(Irregularity {
                time_ms: first.received_ms,
                category: "buiten de tijd",
                device_id: Some(last.device_id.clone()),
                student: Some(student.clone()),
                description: format!(
                    "en nog {} opslagen buiten de tijd, ontvangen {} tot {}; opgeslagen, tellen niet mee",
                    outside.len() - shown,
                    crate::planning::format_ms(first.received_ms),
                    crate::planning::format_ms(last.received_ms),
                ),
                source: "hub",
            });
        }
        if seat.given_back_ms > 0 {
            entries.push(Irregularity {
                time_ms: seat.saves.last().map_or(generated_ms, |s| s.received_ms),
                category: "tijd teruggegeven",
                device_id: None,
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
    for (student, lines) in kept_apart {
        for (time_ms, line) in lines {
            entries.push(Irregularity {
                time_ms: *time_ms,
                category: "apart bewaard",
                device_id: None,
                student: Some(student.clone()),
                description: line.clone(),
                source: "hub",
            });
        }
    }
    for r in &remarks {
        note_person(&r.author);
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
            SeatSummary {
                student_number: c.student_number.clone(),
                name: c.name.clone(),
                status,
                devices,
                first_login_ms: sessions.first().map(|s| s.created_ms),
                submitted_ms: submitted.map(|a| a.received_ms),
                // The code the student saw, also for a hand-in that does not count.
                receipt_code: submitted
                    .and_then(|a| a.receipt_code.clone())
                    .or_else(|| answers.filter(|a| a.final_submission).and_then(|a| a.receipt_code.clone())),
                extra_minutes: c.extra_minutes,
                added_minutes: c.added_minutes,
            }
        })
        .collect::<Vec<_>>();

    let journals = records
        .devices
        .iter()
        .map(|(device_id, device)| {
            let state = records.journals.get(device_id).cloned().unwrap_or_default();
            let mut students: Vec<String> =
                records.sessions.iter().filter(|s| &s.device_id == device_id).map(|s| s.student_number.clone()).collect();
            students.dedup();
            let alarms: Vec<String> =
                state.alarms.iter().map(|(t, kind, detail)| format!("{} {kind}: {detail}", format_time(*t))).collect();
            let verified = state.records > 0 && alarms.is_empty();
            let mut statement = journal_statement(&state, &alarms);
            if let Some(seen) = device.last_seen_ms {
                let st = device.last_state.as_deref().unwrap_or("onbekend");
                statement.push_str(&format!(" Laatste hartslag: {} UTC (toestand {st}).", format_time(seen)));
            }
            DeviceJournal {
                device_id: device_id.clone(),
                hostname: device.hostname.clone(),
                students,
                records: state.records,
                checkpoint: state.checkpoint,
                alarms,
                verified,
                statement,
            }
        })
        .collect();

    let deletions = records
        .deletions
        .iter()
        .map(|d| format!("{}: {} ({}, {} rijen) verwijderd volgens {}", format_time(d.deleted_ms), d.what, d.subject, d.rows, d.rule))
        .collect();
    let planned_end_ms = records.sitting.latest_end_ms(super::records::longest_extra_minutes(&records.candidates));
    let ended = records.ended.clone();
    let s = records.sitting;
    ProcesVerbaal {
        planned_end_ms,
        ended,
        sitting_id: s.id,
        exam: s.exam,
        instrument_id: s.instrument_id,
        room: s.room,
        planned_start_ms: s.start_ms,
        duration_minutes: s.duration_minutes,
        started_ms: s.started_ms,
        last_submission_ms: seats.iter().filter_map(|seat| seat.submitted_ms).max(),
        invigilators,
        claimed_by_kiosk,
        seats,
        irregularities: entries,
        journals,
        remarks,
        deletions,
        generated_ms,
    }
}

fn outage(records: &SittingRecords, device: &str, since: i64, until: Option<i64>) -> Irregularity {
    let description = match until {
        Some(until) => format!(
            "geen verbinding met de examenserver van {} tot {} (duur {}); antwoorden en logboek bleven op de pc bewaard",
            format_time(since),
            format_time(until),
            format_duration(until - since)
        ),
        None => format!("geen verbinding met de examenserver vanaf {}; geen herstel gemeld in het logboek", format_time(since)),
    };
    Irregularity {
        time_ms: since,
        category: "netwerkonderbreking",
        device_id: Some(device.to_string()),
        student: student_at(records, device, since),
        description,
        source: "logboek",
    }
}

fn journal_statement(state: &records::JournalState, alarms: &[String]) -> String {
    if state.records == 0 {
        return "Geen logboek ontvangen: de hub heeft van deze pc geen records en kan niets verklaren.".into();
    }
    let mut out = format!(
        "{} records ontvangen en bij aankomst geverifieerd (handtekeningen, epoch-certificaten, hashketen, volgnummers).",
        state.records
    );
    match &state.checkpoint {
        Some((size, root)) => {
            out.push_str(&format!(" Verankerd aan checkpoint over records 0..{size} (Merkle-root {root})."));
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
        out.push_str(&format!(" NIET IN ORDE: {} alarm(en), zie hieronder.", alarms.len()));
    }
    out
}
