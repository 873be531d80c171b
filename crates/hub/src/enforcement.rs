//! The hub decides from its own records: end, pause and the sitting's window
//! (docs/hub.md, "The hub enforces end, pause and the window").
//!
//! - After an invigilator's *end* (console or CLI) a student gets no new
//!   login on any PC and no content key until an invigilator reopens the
//!   exam with a reason ([`login_allowed`], [`key_allowed`]).
//! - No first login and no content key after the sitting's window: the
//!   start, plus duration, planned extra time, added time and paused time,
//!   plus the configured grace (`sitting-grace-minutes` in hub.toml).
//! - Answers are never thrown away: whatever arrives is stored with its
//!   receipt, and *classified* ([`classify_sitting`]) from the hub's own
//!   records (the journal of actions: end, reopen, pause, resume) and, when
//!   the hub's receive time is outside the time, the kiosk's signed journal
//!   (the failed upload of that save, its time corrected by the clock skew
//!   the kiosk measured against the hub). Only [`Standing::OnTime`] counts.

use crate::db::Db;
use sqlx::AnyPool;
use crate::error::ApiError;
use axum::http::StatusCode;
use exam_journal::ChainVerifier;
use exam_protocol::events::{kinds, KioskEvent};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// A save or hand-in made this long after the end (hub clock) still counts:
/// the hand-in the kiosk makes at its end is in flight for a moment. Also
/// how soon after an invigilator's end the PC must acknowledge the hub's end
/// instruction for what it sent until then to count ([`Basis::EndInstruction`]).
pub const ANSWER_GRACE_MS: i64 = 60_000;


/// When the seat's exam was last reopened by an invigilator, if ever.
pub async fn reopened_ms(pool: &AnyPool, sitting: &str, student: &str) -> Result<Option<i64>, sqlx::Error> {
    crate::store::audit::reopened_ms(pool, sitting, student).await
}
/// How far a journal time (after the skew correction) may lie after the
/// hub's receive time before the two are called inconsistent.
pub const CLOCK_MARGIN_MS: i64 = 5_000;
/// The largest clock skew a kiosk's journal is believed to have measured.
const MAX_SKEW_MS: u64 = 24 * 3600 * 1000;
/// Journal kinds the classification reads (the kiosk's from the shared vocabulary).
const EVIDENCE_KINDS: [&str; 7] = [
    kinds::SESSION_LOGIN,
    kinds::ANSWERS_UPLOAD_FAILED,
    kinds::CLOCK_CHECKED,
    kinds::CLOCK_FAR_OFF,
    kinds::SESSION_TRANSITION,
    exam_journal::records::KIND_EPOCH,
    kinds::SESSION_RESUMED,
];

/// The hub's record of one seat (student in a sitting), now.
#[derive(Debug, Clone)]
pub struct Seat {
    /// The scheduled start, unix ms.
    pub start_ms: i64,
    /// When the key was first released: the console's start, or the scheduled one.
    pub effective_start_ms: i64,
    /// Start + duration + planned extra + added minutes (no pauses), unix ms.
    pub base_end_ms: i64,
    /// When an invigilator ended the exam (and nobody reopened it).
    pub ended_ms: Option<i64>,
    /// Paused since.
    pub paused_ms: Option<i64>,
    /// Pauses that are over, ms.
    pub paused_total_ms: i64,
}

impl Seat {
    /// The end of the student's time at `now`: pauses move it.
    pub fn end_ms(&self, now: i64) -> i64 {
        self.base_end_ms + self.paused_total_ms + self.paused_ms.map_or(0, |p| (now - p).max(0))
    }
}

/// Whether a session that expires at `expires_ms` is still valid at `now`.
/// The expiry set at login is the seat's end then plus
/// [`SESSION_GRACE_MS`](crate::config::SESSION_GRACE_MS); time added and
/// pauses since move the seat's end, and the session with it.
pub async fn session_valid(pool: &AnyPool, sitting: &str, student: &str, expires_ms: i64, now: i64) -> Result<bool, sqlx::Error> {
    if expires_ms >= now {
        return Ok(true);
    }
    let Some(seat) = load_seat(pool, sitting, student).await? else { return Ok(false) };
    if seat.end_ms(now) + crate::config::SESSION_GRACE_MS >= now {
        return Ok(true);
    }
    // The time the PCs' clocks stood still is the student's too (rarely read).
    Ok(end_with_stops_ms(pool, sitting, student, &seat, now).await? + crate::config::SESSION_GRACE_MS >= now)
}

/// Loads a seat; `None` when the student is not planned in the sitting.
pub async fn load_seat(pool: &AnyPool, sitting: &str, student: &str) -> Result<Option<Seat>, sqlx::Error> {
    let Some(r) = crate::store::planning::seat_times(pool, sitting, student).await? else {
        return Ok(None);
    };
    let start_ms = r.start_ms;
    let started_ms = r.started_ms;
    let minutes = r.duration_minutes + r.extra_minutes + r.added_minutes;
    Ok(Some(Seat {
        start_ms,
        effective_start_ms: started_ms.map_or(start_ms, |s| s.min(start_ms)),
        base_end_ms: latest_end_ms(start_ms, started_ms, minutes),
        ended_ms: r.ended_ms,
        paused_ms: r.paused_ms,
        paused_total_ms: r.paused_total_ms.unwrap_or(0),
    }))
}

fn ended_error(at_ms: i64) -> ApiError {
    ApiError::forbidden(
        "exam_ended",
        format!(
            "an invigilator ended this student's exam at {} UTC; only an invigilator can reopen it (with a reason)",
            crate::planning::format_ms(at_ms)
        ),
    )
}

fn over_error(end_ms: i64, grace_ms: i64) -> ApiError {
    ApiError::forbidden(
        "sitting_over",
        format!(
            "the sitting's time ended at {} UTC (with {} minutes' grace); an invigilator can add time",
            crate::planning::format_ms(end_ms),
            grace_ms / 60_000
        ),
    )
}

/// May the student log in now? Refused after an end (on any PC), and a
/// first login after the window (start … end + pauses + grace). Called
/// after the access code was checked (the answer tells of an end); changes nothing.
pub async fn login_allowed(db: &Db, grace_ms: i64, sitting: &str, student: &str, now: i64) -> Result<(), ApiError> {
    let Some(seat) = load_seat(&db.pool, sitting, student).await? else { return Ok(()) };
    if let Some(at) = seat.ended_ms {
        return Err(ended_error(at));
    }
    let earlier = crate::store::sessions::student_logged_in(&db.pool, sitting, student).await?;
    let end = seat.end_ms(now);
    if !earlier && now > end + grace_ms {
        return Err(over_error(end, grace_ms));
    }
    Ok(())
}

/// May the student's session take the content key now? Refused after an
/// end and after the window (end + pauses + grace).
pub async fn key_allowed(db: &Db, grace_ms: i64, sitting: &str, student: &str, now: i64) -> Result<(), ApiError> {
    let seat = load_seat(&db.pool, sitting, student)
        .await?
        .ok_or_else(|| ApiError::not_found("no_assignment", "no assignment for this session"))?;
    if let Some(at) = seat.ended_ms {
        return Err(ended_error(at));
    }
    let end = seat.end_ms(now);
    // A kiosk resuming after a long restart: its clock stood still, so the
    // student's time goes on (rarely read: only past the window).
    if now > end + grace_ms && now > end_with_stops_ms(&db.pool, sitting, student, &seat, now).await? + grace_ms {
        return Err(over_error(end, grace_ms));
    }
    Ok(())
}

/// Refuses a final save before the sitting started (no hand-in can be made
/// before the key was released); other saves are stored and classified.
pub async fn hand_in_allowed(db: &Db, sitting: &str, student: &str, now: i64) -> Result<(), ApiError> {
    let Some(seat) = load_seat(&db.pool, sitting, student).await? else { return Ok(()) };
    if now < seat.effective_start_ms {
        let mut err = ApiError::new(StatusCode::TOO_EARLY, "not_started", "a hand-in before the sitting started is not accepted");
        err.body.starts_at_ms = Some(seat.effective_start_ms);
        return Err(err);
    }
    Ok(())
}

/// Where a save or hand-in stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Made in the student's time: counts.
    OnTime,
    /// Made before the sitting started.
    BeforeStart,
    /// Made after an invigilator ended the exam.
    AfterEnd,
    /// Made after the end of the student's time.
    AfterDeadline,
    /// Made while the student was paused.
    DuringPause,
}

impl Standing {
    /// The Dutch label.
    pub fn label(self) -> &'static str {
        match self {
            Self::OnTime => "op tijd",
            Self::BeforeStart => "vóór de start",
            Self::AfterEnd => "na beëindiging",
            Self::AfterDeadline => "na de eindtijd",
            Self::DuringPause => "tijdens pauze",
        }
    }
}

/// What the classification rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The hub's receive time (it lies in the student's time, or before the start).
    HubReceipt,
    /// The kiosk's signed journal, its time corrected by the measured clock skew.
    Journal,
    /// The journal record is not (yet) on the hub, or its time cannot be
    /// checked: classified by the hub's receive time.
    Unverifiable,
    /// A hand-in that is the first save and holds no responses: nothing in
    /// it was made late.
    NoAnswers,
    /// Sent by the PC after an invigilator's end but before the PC
    /// acknowledged the hub's end instruction (it does so after carrying it
    /// out: the hand-in), and that acknowledgement came within
    /// [`ANSWER_GRACE_MS`] of the end: in flight at the end, counts as made at the end.
    EndInstruction,
    /// Made after the end of the student's time as the hub counts it, but
    /// within the time the PC's clock stood still for a lock or a restart
    /// an invigilator ended (its journal, clipped to its session): the
    /// kiosk gave that time back, so the hub does.
    ClockStopped,
}

impl Basis {
    /// The Dutch label.
    pub fn label(self) -> &'static str {
        match self {
            Self::HubReceipt => "ontvangsttijd van de hub",
            Self::Journal => "volgens het logboek van de pc, klokverschil verrekend",
            Self::Unverifiable => "niet te controleren (logboek van de pc ontbreekt of klopt niet met de ontvangst); naar de ontvangsttijd van de hub",
            Self::NoAnswers => "inlevering zonder antwoorden",
            Self::EndInstruction => "onderweg bij de beëindiging: verstuurd voordat de pc de eind-instructie van de hub bevestigde",
            Self::ClockStopped => {
                "binnen de tijd die de klok van de pc stilstond voor een vergrendeling of herstart (volgens het logboek van de pc, door de surveillant beëindigd)"
            }
        }
    }
}

/// One stored save, classified.
#[derive(Debug, Clone, Serialize)]
pub struct ClassifiedSave {
    /// The kiosk's save number.
    pub seq: i64,
    /// A hand-in.
    pub final_submission: bool,
    /// When the hub received it, unix ms.
    pub received_ms: i64,
    /// The device it came from.
    pub device_id: String,
    /// When it was made, hub clock, as far as the hub can tell.
    pub made_ms: i64,
    /// Where it stands.
    pub standing: Standing,
    /// On what.
    pub basis: Basis,
    /// The answers (the kiosk's snapshot, JSON) — only of a hand-in; the
    /// others are read with [`load_answers`] when needed (the console
    /// classifies often, and answers can be large).
    #[serde(skip)]
    pub answers: String,
    /// The receipt code the kiosk showed.
    pub receipt_code: Option<String>,
}

impl ClassifiedSave {
    /// "hand-in/save N: op tijd (basis)", in Dutch.
    pub fn describe(&self) -> String {
        format!(
            "{} {} ontvangen {} UTC: {} ({})",
            if self.final_submission { "inlevering" } else { "opslag" },
            self.seq,
            crate::planning::format_ms(self.received_ms),
            self.standing.label(),
            self.basis.label()
        )
    }
}

/// The time line of one seat from the journal of actions.
#[derive(Debug, Clone, Default)]
struct Timeline {
    ended: Vec<(i64, Option<i64>)>,
    paused: Vec<(i64, Option<i64>)>,
}

impl Timeline {
    fn inside(spans: &[(i64, Option<i64>)], t: i64) -> bool {
        spans.iter().any(|(from, to)| t >= *from && to.is_none_or(|to| t < to))
    }

    /// The start of the span that holds `t`.
    fn span_start(spans: &[(i64, Option<i64>)], t: i64) -> Option<i64> {
        spans.iter().find(|(from, to)| t >= *from && to.is_none_or(|to| t < to)).map(|(from, _)| *from)
    }

    fn paused_ms(&self, now: i64) -> i64 {
        self.paused.iter().map(|(from, to)| (to.unwrap_or(now) - from).max(0)).sum()
    }
}

async fn timelines(pool: &AnyPool, sitting: &str, students: &[String]) -> Result<HashMap<String, Timeline>, sqlx::Error> {
    let rows = crate::store::audit::of_sitting(pool, sitting).await?;
    let mut out: HashMap<String, Timeline> = students.iter().map(|s| (s.clone(), Timeline::default())).collect();
    for r in rows {
        let at = r.at_ms;
        let who = r.student_number;
        let action = r.action;
        for (student, line) in out.iter_mut() {
            if who.as_ref().is_some_and(|w| w != student) {
                continue;
            }
            let ended = line.ended.last().is_some_and(|(_, to)| to.is_none());
            let paused = line.paused.last().is_some_and(|(_, to)| to.is_none());
            match action.as_str() {
                "end" | "end_all" if !ended => line.ended.push((at, None)),
                "reopen" if ended => {
                    line.ended.last_mut().into_iter().for_each(|e| e.1 = Some(at));
                    // A pause the end overtook ends with the reopen (as in console_seats).
                    line.paused.last_mut().filter(|p| p.1.is_none()).into_iter().for_each(|p| p.1 = Some(at));
                }
                "pause" | "pause_all" if !paused && !ended => line.paused.push((at, None)),
                "resume" | "resume_all" if paused => line.paused.last_mut().into_iter().for_each(|p| p.1 = Some(at)),
                _ => {}
            }
        }
    }
    Ok(out)
}

/// What one device's journal shows, per device.
#[derive(Debug, Default)]
struct Evidence {
    /// The first evidence of a save: (sitting, student, seq) -> (kiosk
    /// time, measured skew kiosk − hub).
    saves: HashMap<(String, String, i64), (i64, Option<i64>)>,
    /// The spans (hub clock, ms) the kiosk's exam clock stood still for a
    /// lock or a crash that an invigilator ended: (sitting, student) -> spans.
    stops: HashMap<(String, String), Vec<(i64, i64)>>,
}

/// Follows a kiosk's `session.transition` records (docs/journal-format.md)
/// for the spans its exam clock stood still: from a lock out of the exam
/// until an invigilator's unlock back into it, and from the last record
/// before a restart (or the lock it was in) until an invigilator confirmed
/// resuming the exam. Times are the kiosk's, in ms.
#[derive(Debug, Default)]
struct Stops {
    locked_since: Option<i64>,
    down_since: Option<i64>,
    /// What the kiosk says its clock stood still for the restart
    /// (`session.resumed`'s `clock_stopped_ms`): never more is given back.
    claimed_ms: Option<i64>,
    spans: Vec<(i64, i64)>,
}

impl Stops {
    fn transition(&mut self, t: i64, from: &str, to: &str, trigger: &str) {
        match (from, to, trigger) {
            ("in_exam", "locked", _) => self.locked_since = self.locked_since.or(Some(t)),
            ("locked", "locked", _) => {}
            ("locked", "in_exam", "unlock") => self.spans.extend(self.locked_since.take().map(|s| (s, t))),
            ("locked", _, _) => self.locked_since = None,
            ("resume", "in_exam", "resume_confirmed") => {
                let claimed = self.claimed_ms.take();
                self.spans.extend(self.down_since.take().map(|s| (claimed.map_or(s, |c| s.max(t - c.max(0))), t)));
            }
            ("resume", _, _) => (self.down_since, self.claimed_ms) = (None, None),
            _ => {}
        }
    }

    /// The kiosk restarted; `last` is the time of its last record before.
    fn restarted(&mut self, last: Option<i64>) {
        // Down again before an invigilator confirmed the resume (a crash on
        // the Resume screen): the clock has stood still since the first.
        self.down_since = self.down_since.or(self.locked_since.take()).or(last);
        self.claimed_ms = None;
    }

    /// The kiosk resumed and says how long its clock stood still.
    fn resumed(&mut self, clock_stopped_ms: Option<i64>) {
        self.claimed_ms = clock_stopped_ms;
    }
}

/// The union of `spans`, sorted, overlaps merged.
fn union(mut spans: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    spans.retain(|(from, to)| to > from);
    spans.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
    for (from, to) in spans {
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}


/// `spans` without `holes` (both unions).
fn minus(spans: &[(i64, i64)], holes: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for &(mut from, to) in spans {
        for &(a, b) in holes {
            if b <= from || a >= to {
                continue;
            }
            if a > from {
                out.push((from, a));
            }
            from = from.max(b);
        }
        if to > from {
            out.push((from, to));
        }
    }
    out
}

/// The time the hub gives back for the kiosks' clocks standing still
/// (`stops`): only outside the hub's own pauses (`paused`, already in the
/// end) and after the start; a stop that began while the student still had
/// time is given back whole (the kiosk's clock stood still all along, so
/// the time left at its start was still left at its end), and the end
/// (`end_ms`, pauses included) moves on with it. Never more in all than the
/// student's whole time (`end_ms - start_ms`): a PC stopped for longer
/// needs an invigilator's pause or added time.
fn give_back(stops: &[(i64, i64)], paused: &[(i64, i64)], start_ms: i64, end_ms: i64) -> i64 {
    let mut end = end_ms;
    for (from, to) in minus(&union(stops.to_vec()), &union(paused.to_vec())) {
        let from = from.max(start_ms);
        if from < end && to > from {
            end = end.saturating_add(to - from);
        }
    }
    (end - end_ms).min(end_ms.saturating_sub(start_ms).max(0))
}

async fn evidence(pool: &AnyPool, device: &str) -> Result<Evidence, sqlx::Error> {
    // With each record the time of the record before it (for a restart:
    // the last record before the kiosk went down), in one query.
    let rows = crate::store::journals::with_time_before(pool, device, &EVIDENCE_KINDS).await?;
    let mut out = Evidence::default();
    let mut session: Option<(String, String)> = None;
    let mut skew: Option<i64> = None;
    let mut stops = Stops::default();
    for r in rows {
        let kind = r.kind;
        let frame = r.frame;
        // Stored frames were verified on arrival; decoding only reads the payload.
        let payload: serde_json::Value = ChainVerifier::decode_frame(&frame)
            .ok()
            .and_then(|(body, _, _)| serde_json::from_slice(&body.payload).ok())
            .unwrap_or(serde_json::Value::Null);
        let time_ms = r.wall_time_us / 1000;
        if kind == exam_journal::records::KIND_EPOCH {
            if payload.get("reason").and_then(serde_json::Value::as_str) == Some("open") {
                stops.restarted(r.before_us.map(|us| us / 1000));
            }
            continue;
        }
        // Through the kiosk's vocabulary: a renamed kind or field does not compile.
        match KioskEvent::read_lenient(&kind, &payload) {
            Some(KioskEvent::SessionLogin(login)) => {
                stops = Stops::default();
                session = Some((login.sitting, login.student)).filter(|(sitting, student)| !sitting.is_empty() && !student.is_empty());
            }
            // A skew beyond a day is no measurement (and would overflow the arithmetic).
            Some(KioskEvent::ClockChecked(clock) | KioskEvent::ClockFarOff(clock)) => {
                // No measurement in the payload (summarised, of another type) is no skew, not 0.
                skew = clock.skew_ms.filter(|s| s.unsigned_abs() <= MAX_SKEW_MS);
            }
            Some(KioskEvent::SessionResumed(resumed)) => stops.resumed(resumed.clock_stopped_ms.and_then(|ms| i64::try_from(ms).ok())),
            Some(KioskEvent::SessionTransition(t)) => {
                let trigger = t.cause.get("trigger").and_then(serde_json::Value::as_str).unwrap_or_default();
                let before = stops.spans.len();
                stops.transition(time_ms, &t.from, &t.to, trigger);
                if let Some(key) = session.clone().filter(|_| stops.spans.len() > before) {
                    let skew = skew.unwrap_or(0);
                    out.stops.entry(key).or_default().extend(stops.spans[before..].iter().map(|(a, b)| (a - skew, b - skew)));
                }
            }
            Some(KioskEvent::AnswersUploadFailed(failed)) => {
                if let (Some((sitting, student)), Ok(seq)) = (&session, i64::try_from(failed.seq)) {
                    out.saves.entry((sitting.clone(), student.clone(), seq)).or_insert((time_ms, skew));
                }
            }
            // Not selected by the query above.
            _ => {}
        }
    }
    Ok(out)
}

/// The PCs a student had a session on in a sitting, each with the spans
/// (unix ms) its sessions were the student's: from the login until a login
/// elsewhere (or a revocation) ended them.
async fn session_spans(pool: &AnyPool, sitting: &str, student: &str) -> Result<BTreeMap<String, Vec<(i64, i64)>>, sqlx::Error> {
    let rows = crate::store::sessions::spans_of_student(pool, sitting, student).await?;
    let mut out: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for r in rows {
        out.entry(r.device_id).or_default().push((r.created_ms, r.revoked_ms.unwrap_or(i64::MAX)));
    }
    Ok(out)
}

/// The time the hub gives back to a seat for its PCs' clocks standing
/// still ([`give_back`]): each PC's stops only while it held the student's
/// session, so a PC the student left gives nothing back.
async fn given_back_ms(
    pool: &AnyPool,
    journals: &mut HashMap<String, Evidence>,
    sitting: &str,
    student: &str,
    seat: &Seat,
    line: &Timeline,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let mut stops = Vec::new();
    for (device, held) in session_spans(pool, sitting, student).await? {
        let evidence = device_evidence(pool, journals, &device).await?;
        let spans = evidence.stops.get(&(sitting.to_string(), student.to_string())).map_or(&[][..], Vec::as_slice);
        for &(from, to) in spans {
            stops.extend(held.iter().map(|&(a, b)| (from.max(a), to.min(b))).filter(|(a, b)| b > a));
        }
    }
    let paused: Vec<(i64, i64)> = line.paused.iter().map(|(from, to)| (*from, to.unwrap_or(now))).collect();
    Ok(give_back(&stops, &paused, seat.effective_start_ms, seat.base_end_ms + line.paused_ms(now).max(seat.paused_total_ms)))
}

/// The end of a seat's time at `now` with the time its PCs' clocks stood
/// still given back: what the hub tells a kiosk is left, and how long it
/// releases the key and keeps the session.
pub async fn end_with_stops_ms(pool: &AnyPool, sitting: &str, student: &str, seat: &Seat, now: i64) -> Result<i64, sqlx::Error> {
    let line = timelines(pool, sitting, &[student.to_string()]).await?.remove(student).unwrap_or_default();
    let mut journals = HashMap::new();
    Ok(seat.end_ms(now) + given_back_ms(pool, &mut journals, sitting, student, seat, &line, now).await?)
}

/// Loads (once) the journal evidence of `device`.
async fn device_evidence<'a>(pool: &AnyPool, journals: &'a mut HashMap<String, Evidence>, device: &str) -> Result<&'a Evidence, sqlx::Error> {
    if !journals.contains_key(device) {
        journals.insert(device.to_string(), evidence(pool, device).await?);
    }
    Ok(&journals[device])
}

/// The end instructions of a sitting that a PC acknowledged: student ->
/// (device, issued, acknowledged), unix ms.
async fn acknowledged_ends(pool: &AnyPool, sitting: &str) -> Result<HashMap<String, Vec<(String, i64, i64)>>, sqlx::Error> {
    let rows = crate::store::instructions::acked_like(pool, "%\"end\"%").await?;
    let mut out: HashMap<String, Vec<(String, i64, i64)>> = HashMap::new();
    for r in rows {
        let Ok(instruction) = serde_json::from_str::<exam_protocol::Instruction>(&r.body) else { continue };
        let Some(scope) = instruction.session.filter(|s| s.sitting_id == sitting) else { continue };
        if instruction.kind == exam_protocol::InstructionKind::End {
            out.entry(scope.student_number).or_default().push((r.device_id, r.issued_ms, r.acked_ms));
        }
    }
    Ok(out)
}

/// One stored save as read.
struct Stored {
    student: String,
    device: String,
    seq: i64,
    final_submission: bool,
    received_ms: i64,
    answers: String,
    receipt_code: Option<String>,
}

/// The journal's time (hub clock) of save `seq` of a student on `device`,
/// when the journal holds its evidence, the kiosk measured its clock skew
/// before it, and it is consistent with the hub's receipt at `received_ms`.
async fn journal_time(
    pool: &AnyPool,
    journals: &mut HashMap<String, Evidence>,
    sitting: &str,
    student: &str,
    device: &str,
    seq: i64,
    received_ms: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let found = device_evidence(pool, journals, device).await?.saves.get(&(sitting.to_string(), student.to_string(), seq)).copied();
    Ok(match found {
        Some((kiosk_ms, Some(skew))) if kiosk_ms - skew <= received_ms + CLOCK_MARGIN_MS => Some((kiosk_ms - skew).min(received_ms)),
        _ => None,
    })
}

/// A student's stored saves, classified ([`classify_sitting`]).
#[derive(Debug, Clone, Default)]
pub struct SeatSaves {
    /// Oldest first.
    pub saves: Vec<ClassifiedSave>,
    /// The time given back for the PCs' clocks standing still (locks and
    /// restarts an invigilator ended), ms; worked out only when a save
    /// arrived after the end without it.
    pub given_back_ms: i64,
}

/// Classifies every stored save of a sitting, per student, oldest first.
///
/// A save is judged by when it was made: the hub's receive time when that
/// lies in the student's time (or before the start), else the journal's
/// evidence of it ([`Basis::Journal`]), else the receive time
/// ([`Basis::Unverifiable`]). A hand-in (save N) holds the answers of save
/// N − 1 (the kiosk's final mark takes its own number), so a hand-in the
/// kiosk makes after an end or at the end time is judged by when save N − 1
/// was made — when the hub holds both and they hold the same work: the
/// answers made in time count, work done after the end does not.
pub async fn classify_sitting(pool: &AnyPool, sitting: &str) -> Result<BTreeMap<String, SeatSaves>, sqlx::Error> {
    let rows = crate::store::answers::of_sitting_for_classification(pool, sitting).await?;
    let mut by_student: BTreeMap<String, Vec<Stored>> = BTreeMap::new();
    for r in rows {
        let stored = Stored {
            student: r.student_number,
            device: r.device_id,
            seq: r.seq,
            final_submission: r.final_submission != 0,
            received_ms: r.received_ms,
            answers: r.answers,
            receipt_code: serde_json::from_str::<exam_protocol::AnswerReceipt>(&r.receipt).ok().map(|r| r.receipt_code),
        };
        by_student.entry(stored.student.clone()).or_default().push(stored);
    }
    // Saves the hub knows from an offline kiosk's changes (answers rebuilt).
    for (student, seq, device, received_ms) in crate::answer_history::saves_without_snapshot(pool, sitting).await? {
        let stored = Stored { student: student.clone(), device, seq, final_submission: false, received_ms, answers: String::new(), receipt_code: None };
        let list = by_student.entry(student).or_default();
        let at = list.partition_point(|s| s.seq < seq);
        list.insert(at, stored);
    }
    let students: Vec<String> = by_student.keys().cloned().collect();
    let lines = timelines(pool, sitting, &students).await?;
    let acked_ends = acknowledged_ends(pool, sitting).await?;
    let now = crate::now_ms();
    let mut journals: HashMap<String, Evidence> = HashMap::new();
    let mut out: BTreeMap<String, SeatSaves> = BTreeMap::new();
    for (student, saves) in by_student {
        let Some(seat) = load_seat(pool, sitting, &student).await? else { continue };
        let mut line = lines.get(&student).cloned().unwrap_or_default();
        // An end recorded before the journal of actions existed for it.
        if let (Some(at), false) = (seat.ended_ms, line.ended.last().is_some_and(|(_, to)| to.is_none())) {
            line.ended.push((at, None));
        }
        // The time the PCs' clocks stood still for a lock or a restart an
        // invigilator ended (their journals), beyond the hub's own pauses:
        // the kiosk gave that time back, so the hub does too.
        // Read only when a save arrived after the end without it (the
        // console classifies often; a save is never made after its receipt).
        let base_deadline = seat.base_end_ms + line.paused_ms(now).max(seat.paused_total_ms) + ANSWER_GRACE_MS;
        let given_back = if saves.iter().any(|s| s.received_ms > base_deadline) {
            given_back_ms(pool, &mut journals, sitting, &student, &seat, &line, now).await?
        } else {
            0
        };
        let deadline = base_deadline + given_back;
        let standing_at = |t: i64| {
            if t < seat.effective_start_ms {
                Standing::BeforeStart
            } else if Timeline::inside(&line.ended, t) {
                Standing::AfterEnd
            } else if Timeline::inside(&line.paused, t) {
                Standing::DuringPause
            } else if t > deadline {
                Standing::AfterDeadline
            } else {
                Standing::OnTime
            }
        };
        let ends = acked_ends.get(&student).map_or(&[][..], Vec::as_slice);
        // Sent after the invigilator's end at `end` but before the PC
        // acknowledged the end instruction (carried out: handed in), when it
        // did so within the grace: in flight at the end (docs/hub.md).
        let in_flight_at_end = |save: &Stored| -> Option<i64> {
            let end = Timeline::span_start(&line.ended, save.received_ms)?;
            ends.iter()
                .any(|(device, issued, acked)| {
                    *device == save.device && *issued >= end && *acked - end <= ANSWER_GRACE_MS && save.received_ms <= *acked
                })
                .then_some(end)
        };
        // Each save by itself.
        let mut judged: Vec<(i64, Standing, Basis)> = Vec::with_capacity(saves.len());
        for save in &saves {
            let by_receipt = standing_at(save.received_ms);
            let at_end = if by_receipt == Standing::AfterEnd { in_flight_at_end(save) } else { None };
            judged.push(if let Some(end) = at_end {
                (end, standing_at(end - 1), Basis::EndInstruction)
            } else if matches!(by_receipt, Standing::OnTime | Standing::BeforeStart) {
                // Made no later than received: the receive time settles it.
                (save.received_ms, by_receipt, Basis::HubReceipt)
            } else {
                match journal_time(pool, &mut journals, sitting, &student, &save.device, save.seq, save.received_ms).await? {
                    Some(made) => (made, standing_at(made), Basis::Journal),
                    None => (save.received_ms, by_receipt, Basis::Unverifiable),
                }
            });
        }
        // A hand-in by its answers: those of save N - 1, when they are the same work.
        for (i, save) in saves.iter().enumerate() {
            if !save.final_submission || judged[i].1 == Standing::OnTime {
                continue;
            }
            if save.seq <= 1 {
                // The first save: no earlier answers. Without responses
                // (what the scoring reads) nothing in it was made late.
                if judged[i].1 != Standing::BeforeStart && !has_responses(&save.answers) {
                    judged[i] = (save.received_ms, Standing::OnTime, Basis::NoAnswers);
                }
                continue;
            }
            let Some(j) = saves.iter().position(|s| s.seq == save.seq - 1) else { continue };
            let before = load_answers(pool, sitting, &student, save.seq - 1).await?;
            if before.is_some_and(|before| crate::answer_history::same_work(&before, &save.answers)) {
                judged[i] = judged[j];
            }
        }
        // In time only thanks to the time given back: the journal says so.
        for j in judged.iter_mut().filter(|j| j.1 == Standing::OnTime && j.0 > base_deadline) {
            j.2 = Basis::ClockStopped;
        }
        let entry = out.entry(student).or_default();
        entry.given_back_ms = given_back;
        for (save, (made_ms, standing, basis)) in saves.into_iter().zip(judged) {
            entry.saves.push(ClassifiedSave {
                seq: save.seq,
                final_submission: save.final_submission,
                received_ms: save.received_ms,
                device_id: save.device,
                made_ms,
                standing,
                basis,
                answers: save.answers,
                receipt_code: save.receipt_code,
            });
        }
    }
    Ok(out)
}

pub use crate::answer_history::load_answers;

/// A seat's current PC: the newest session that was not revoked.
pub async fn current_device(db: &crate::db::Db, sitting: &str, student: &str) -> Result<Option<String>, sqlx::Error> {
    crate::store::sessions::current_device(&db.pool, sitting, student).await
}


/// When the last candidate may still be working: the later of the planned
/// and the actual start, plus `minutes` (the duration plus the longest
/// extra time; without the session grace). The reports' planned end too.
pub(crate) fn latest_end_ms(start_ms: i64, started_ms: Option<i64>, minutes: i64) -> i64 {
    started_ms.unwrap_or(start_ms).max(start_ms) + minutes * 60_000
}

/// Whether a kiosk's answers snapshot holds any response (the `responses`
/// the scoring reads; `exam-kiosk-answers/1`).
fn has_responses(answers: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(answers)
        .ok()
        .and_then(|v| v.get("responses").and_then(serde_json::Value::as_object).map(|m| !m.is_empty()))
        .unwrap_or(false)
}

/// A student's saves as the results and the proces-verbaal count them.
#[derive(Debug, Clone, Default)]
pub struct Counted<'a> {
    /// The newest save made in time: what counts.
    pub counted: Option<&'a ClassifiedSave>,
    /// The newest save of all.
    pub latest: Option<&'a ClassifiedSave>,
    /// Saves not made in time (stored, shown, not counted).
    pub outside: Vec<&'a ClassifiedSave>,
}

impl<'a> Counted<'a> {
    /// Sorts a student's classified saves.
    pub fn of(saves: &'a [ClassifiedSave]) -> Self {
        Self {
            counted: saves.iter().rev().find(|s| s.standing == Standing::OnTime),
            latest: saves.last(),
            outside: saves.iter().filter(|s| s.standing != Standing::OnTime).collect(),
        }
    }

    /// The hand-in that counts (made in time).
    pub fn handed_in(&self) -> Option<&'a ClassifiedSave> {
        self.counted.filter(|s| s.final_submission)
    }

    /// A hand-in that arrived but does not count, and why.
    pub fn late_hand_in(&self) -> Option<&'a ClassifiedSave> {
        self.latest.filter(|s| s.final_submission && s.standing != Standing::OnTime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_snapshot_with_responses_has_answers() {
        assert!(has_responses(r#"{"format":"exam-kiosk-answers/1","responses":{"ITM-1":{"RESPONSE":"B"}}}"#));
        assert!(!has_responses(r#"{"format":"exam-kiosk-answers/1","responses":{}}"#));
        assert!(!has_responses(r#"{"q1":"B"}"#));
        assert!(!has_responses("not json"));
    }

    #[test]
    fn spans_include_their_start_and_exclude_their_end() {
        let spans = [(10, Some(20)), (30, None)];
        assert!(!Timeline::inside(&spans, 9));
        assert!(Timeline::inside(&spans, 10));
        assert!(!Timeline::inside(&spans, 20));
        assert!(Timeline::inside(&spans, 1_000));
        let line = Timeline { ended: Vec::new(), paused: vec![(10, Some(20)), (30, None)] };
        assert_eq!(line.paused_ms(35), 15);
    }

    #[test]
    fn a_stop_counts_only_outside_the_hubs_own_pauses() {
        let back = |stops: &[(i64, i64)], paused: &[(i64, i64)]| give_back(stops, paused, i64::MIN, 1_000);
        assert_eq!(back(&[(0, 10)], &[]), 10);
        assert_eq!(back(&[(0, 10), (5, 15)], &[]), 15, "overlapping stops once");
        assert_eq!(back(&[(0, 10)], &[(5, 20)]), 5, "the pause is counted already");
        assert_eq!(back(&[(0, 10)], &[(0, 10), (2, 3)]), 0);
        assert_eq!(back(&[(0, 30)], &[(10, 20)]), 20, "a pause inside a stop");
        assert_eq!(back(&[(10, 5)], &[]), 0, "a span backwards is nothing");
    }

    #[test]
    fn a_stop_counts_only_inside_the_students_time() {
        // Before the start nothing ran; after the end (as it moves) nothing was left.
        assert_eq!(give_back(&[(0, 100)], &[], 50, 1_000), 50);
        // A lock that began with 100 ms left and lasted past the end: the
        // kiosk's clock stood still, the student still has those 100 ms.
        assert_eq!(give_back(&[(900, 2_000)], &[], 0, 1_000), 1_000, "the whole stop, up to the whole time");
        assert_eq!(give_back(&[(900, 1_500)], &[], 0, 1_000), 600, "the whole stop");
        assert_eq!(give_back(&[(1_500, 2_000)], &[], 0, 1_000), 0, "after the end: nothing");
        // A stop given back moves the end, so a later stop inside the moved end counts.
        assert_eq!(give_back(&[(900, 1_000), (1_050, 1_080)], &[], 0, 1_000), 130);
        // Never more than the student's whole time.
        assert_eq!(give_back(&[(100, 10_000), (20_000, 30_000)], &[], 0, 1_000), 1_000);
        assert_eq!(minus(&[(0, 100)], &[(10, 20), (30, 40)]), [(0, 10), (20, 30), (40, 100)]);
    }

    #[test]
    fn the_kiosks_own_claim_bounds_a_restart() {
        let mut s = Stops::default();
        s.restarted(Some(1_000));
        s.resumed(Some(300));
        s.transition(5_000, "resume", "in_exam", "resume_confirmed");
        assert_eq!(s.spans, [(4_700, 5_000)], "the kiosk said 300 ms");
        s.restarted(Some(6_000));
        s.resumed(Some(60_000));
        s.transition(7_000, "resume", "in_exam", "resume_confirmed");
        assert_eq!(s.spans[1], (6_000, 7_000), "never more than the hub's records show");
        s.restarted(Some(8_000));
        s.transition(9_000, "resume", "in_exam", "resume_confirmed");
        assert_eq!(s.spans[2], (8_000, 9_000), "an older kiosk says nothing: the records decide");
        // A second crash on the Resume screen: still stood still since the first.
        s.restarted(Some(10_000));
        s.transition(10_500, "boot", "resume", "unfinished_session_found");
        s.restarted(Some(10_600));
        s.transition(12_000, "boot", "resume", "unfinished_session_found");
        s.transition(13_000, "resume", "in_exam", "resume_confirmed");
        assert_eq!(s.spans[3], (10_000, 13_000));
    }

    #[test]
    fn stops_end_only_with_an_invigilator() {
        let mut s = Stops::default();
        s.transition(100, "in_exam", "locked", "lock");
        s.transition(150, "locked", "locked", "lock");
        s.transition(200, "locked", "in_exam", "unlock");
        assert_eq!(s.spans, [(100, 200)]);
        // Locked, then the kiosk went down; the invigilator confirmed the resume.
        s.transition(300, "in_exam", "locked", "lock");
        s.restarted(Some(350));
        s.transition(400, "boot", "resume", "unfinished_session_found");
        s.transition(500, "resume", "in_exam", "resume_confirmed");
        assert_eq!(s.spans[1], (300, 500));
        // Down without a lock: from its last record.
        s.restarted(Some(600));
        s.transition(700, "resume", "in_exam", "resume_confirmed");
        assert_eq!(s.spans[2], (600, 700));
        // A lock that ended otherwise (a hand-in) gives nothing.
        s.transition(800, "in_exam", "locked", "lock");
        s.transition(900, "locked", "submitted", "submitted");
        s.transition(950, "resume", "in_exam", "resume_confirmed");
        assert_eq!(s.spans.len(), 3);
    }
}
