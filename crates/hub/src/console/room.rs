//! The room view: every seat of a room's sittings of the day with the
//! student, state, end time, last heartbeat and latest integrity events,
//! the sittings' console state, the room's PCs and the BYOD room code —
//! built from the hub's tables, so every hub node shows the same.

use crate::db::Db;
use sqlx::AnyPool;
use exam_journal::format::{split_frame, RecordBody};
use exam_protocol::events::{kinds, KioskEvent};
use serde::Serialize;
use std::collections::HashMap;

/// Sittings shown are those starting within this long before or after now.
pub const VIEW_WINDOW_MS: i64 = 18 * 60 * 60 * 1000;
/// A PC that has not sent a heartbeat for this long is shown offline.
pub const OFFLINE_AFTER_MS: i64 = 30_000;
/// Integrity events shown per seat.
pub const EVENTS_PER_SEAT: i64 = 3;
/// How many of a device's latest records are looked at for those (routine ones are folded).
const EVENTS_LOOKED_AT: i64 = 60;

/// What a seat is doing, as the console shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatState {
    /// Not logged in, before the sitting started.
    NotLoggedIn,
    /// Logged in, not yet working on the exam (confirming, downloading,
    /// waiting for the start).
    Waiting,
    /// Not logged in after the sitting started (issue 17: such a student
    /// stayed "Niet begonnen", like one who was waiting, and never became
    /// absent).
    Absent,
    /// Working on the exam.
    InExam,
    /// The kiosk is locked (guard, environment, invigilator, pause).
    Locked,
    /// Logged in, and the PC's heartbeats stopped [`OFFLINE_AFTER_MS`] ago.
    Offline,
    /// Handed in in time (the hub holds the final submission, made in the student's time).
    Submitted,
    /// A hand-in arrived but was not made in the student's time (after an
    /// end, after the end time, during a pause): stored, does not count;
    /// [`Seat::answers_note`] says why.
    HandedInOutsideTime,
}

/// One integrity event of a seat's PC, summarised in Dutch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatEvent {
    /// When (kiosk clock, unix ms).
    pub time_ms: i64,
    /// The journal kind, e.g. `session.transition`.
    pub kind: String,
    /// Short description.
    pub text: String,
}

/// One student in one sitting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seat {
    /// `sitting/student`, unique in the view.
    pub key: String,
    /// Sitting id.
    pub sitting_id: String,
    /// Student number.
    pub student_number: String,
    /// Student name.
    pub name: String,
    /// State.
    pub state: SeatState,
    /// The kiosk's own phase (e.g. `waiting_for_start`): from its last
    /// heartbeat, or, for a kiosk that sends none, from its latest journalled
    /// session transition.
    pub phase: Option<String>,
    /// The PC of the student's current session.
    pub device_id: Option<String>,
    /// That PC's host name.
    pub hostname: Option<String>,
    /// Last heartbeat of that PC (hub clock, unix ms).
    pub last_heartbeat_ms: Option<i64>,
    /// When the time is up (hub clock, unix ms), counting extra time and
    /// pauses; `None` before the sitting started, while paused, or once
    /// handed in or ended.
    pub end_ms: Option<i64>,
    /// Minutes of time the student has in all (duration + extra + added).
    pub total_minutes: i64,
    /// Minutes added by invigilators.
    pub added_minutes: i64,
    /// Paused from the console.
    pub paused: bool,
    /// While paused: the time that was left when the pause began, ms.
    pub paused_remaining_ms: Option<i64>,
    /// Ended from the console.
    pub ended: bool,
    /// Reopened by an invigilator after an end, and not ended since.
    pub reopened: bool,
    /// Locked out of login after wrong access codes.
    pub login_locked: bool,
    /// A move to another PC was authorised and the student has not logged in there yet.
    pub moving_to: Option<String>,
    /// Version for optimistic concurrency (actions name the version they saw).
    pub version: i64,
    /// Latest integrity events of the PC, newest first.
    pub events: Vec<SeatEvent>,
    /// The accommodations the planning grants, in Dutch (extra time first).
    pub accommodations: Vec<String>,
    /// Saves or a hand-in that arrived outside the student's time, in Dutch
    /// (e.g. "inlevering 12 ontvangen …: na beëindiging (…)"); `None` when
    /// everything that arrived was made in time.
    pub answers_note: Option<String>,
}

/// A sitting in the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SittingView {
    /// Sitting id.
    pub sitting_id: String,
    /// Exam name.
    pub exam: String,
    /// Scheduled start (unix ms).
    pub start_ms: i64,
    /// Scheduled duration, minutes.
    pub duration_minutes: i64,
    /// Started (by the clock, or together from the console).
    pub started: bool,
    /// Paused for everyone from the console.
    pub paused: bool,
    /// Ended for everyone from the console (unix ms).
    pub ended_ms: Option<i64>,
    /// Version for optimistic concurrency of room-wide actions.
    pub version: i64,
}

/// An enrolled PC of the room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceView {
    /// Device id.
    pub device_id: String,
    /// Host name.
    pub hostname: Option<String>,
    /// Online (a heartbeat within [`OFFLINE_AFTER_MS`]).
    pub online: bool,
    /// A student's current session is on it.
    pub in_use: bool,
    /// Alarms about the PC within the view's window, newest first, in Dutch
    /// (for example wrong access codes for several students typed on it).
    pub alarms: Vec<String>,
}

/// The BYOD room code now on screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomCode {
    /// The code.
    pub code: String,
    /// When the next code starts (unix ms).
    pub valid_until_ms: i64,
    /// Seconds per code.
    pub step_secs: i64,
}

/// The whole room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoomView {
    /// Room name.
    pub room: String,
    /// Hub clock when built (unix ms); pages correct their clock with it.
    pub server_now_ms: i64,
    /// The room code, when the room has a secret.
    pub room_code: Option<RoomCode>,
    /// Sittings of the day, by start.
    pub sittings: Vec<SittingView>,
    /// Seats, by sitting and name.
    pub seats: Vec<Seat>,
    /// PCs enrolled to the room.
    pub devices: Vec<DeviceView>,
}

/// What a device's journal says, re-read only when the journal grew.
#[derive(Debug, Clone, Default)]
struct JournalFacts {
    /// Records held (the cache key).
    size: i64,
    /// Latest events, newest first.
    events: Vec<SeatEvent>,
    /// The phase of the latest `session.transition` (`to`).
    phase: Option<String>,
}

/// Latest events per device, re-read only when the device's journal grew.
#[derive(Debug, Default)]
pub struct EventCache {
    by_device: HashMap<String, JournalFacts>,
}

/// The current room code of `room`, if it has a secret (stored wrapped,
/// [`crate::secrets`]; one that cannot be opened shows no code and is logged).
pub async fn room_code(pool: &AnyPool, keys: &crate::pki::Keys, room: &str, now_ms: i64) -> Result<Option<RoomCode>, sqlx::Error> {
    let Some(row) = crate::store::rooms::room_code(pool, room).await? else {
        return Ok(None);
    };
    let secret = match crate::secrets::open_room_secret(keys, room, &row.secret_hex) {
        Ok(secret) => secret,
        Err(err) => {
            tracing::error!(room, error = %err, "room-code secret cannot be opened");
            return Ok(None);
        }
    };
    let step: i64 = row.step_secs.max(1);
    let digits = row.digits.clamp(6, 8) as u8;
    let secs = now_ms.max(0) / 1000;
    Ok(Some(RoomCode {
        code: exam_policy::totp::totp(&secret, exam_policy::TotpAlgorithm::Sha1, secs as u64, step as u64, digits),
        valid_until_ms: (secs / step + 1) * step * 1000,
        step_secs: step,
    }))
}

/// Creates (or replaces) the TOTP secret of `room`; returns it in base32 for
/// the policy's room-code secret file. Stored wrapped with the hub's wrap key.
pub async fn create_room_secret(db: &Db, wrap: &crate::pki::WrapKey, room: &str, step_secs: u32, digits: u8) -> Result<String, super::ConsoleError> {
    super::check_text("room", room, crate::config::MAX_FIELD_LEN)?;
    if !(6..=8).contains(&digits) || !(10..=600).contains(&step_secs) {
        return Err(super::ConsoleError::Invalid("a room code has 6 to 8 digits and changes every 10 to 600 seconds".into()));
    }
    let secret = crate::random_bytes(20);
    let wrapped = crate::secrets::wrap_room_secret(wrap, room, &secret);
    crate::store::rooms::upsert_room_code(&db.pool, room, &wrapped, i64::from(step_secs), i64::from(digits), crate::now_ms()).await?;
    Ok(exam_policy::totp::base32_encode(&secret))
}

/// Summarises a journal event for the room view, in Dutch
/// ([`super::event_text`]); `None` for a routine event, folded there. A kind
/// the vocabulary does not know (another kiosk version's) is shown by its kind.
pub fn describe(kind: &str, payload: &serde_json::Value) -> Option<String> {
    match KioskEvent::read_lenient(kind, payload) {
        Some(event) => super::event_text::in_dutch(&event),
        None => Some(format!("Melding van een andere kioskversie: {kind}")),
    }
}

fn payload(frame: &[u8]) -> serde_json::Value {
    split_frame(frame)
        .ok()
        .flatten()
        .and_then(|f| RecordBody::decode(f.body).ok())
        .and_then(|b| serde_json::from_slice(&b.payload).ok())
        .unwrap_or(serde_json::Value::Null)
}

async fn journal_facts(pool: &AnyPool, device_id: &str, size: i64) -> Result<JournalFacts, sqlx::Error> {
    let phase = crate::store::journals::last_frame_of_kind(pool, device_id, kinds::SESSION_TRANSITION)
        .await?
        .and_then(|frame| match KioskEvent::read_lenient(kinds::SESSION_TRANSITION, &payload(&frame)) {
            Some(KioskEvent::SessionTransition(t)) if !t.to.is_empty() => Some(t.to),
            _ => None,
        });
    Ok(JournalFacts { size, events: device_events(pool, device_id).await?, phase })
}

async fn device_events(pool: &AnyPool, device_id: &str) -> Result<Vec<SeatEvent>, sqlx::Error> {
    // Routine events are folded: the last few that need attention are
    // looked for among the device's latest records.
    let rows = crate::store::journals::latest_events(pool, device_id, EVENTS_LOOKED_AT).await?;
    let mut events = Vec::new();
    for row in rows {
        let kind = row.kind;
        let payload = payload(&row.frame);
        if let Some(text) = describe(&kind, &payload) {
            events.push(SeatEvent { time_ms: row.wall_time_us / 1000, text, kind });
        }
        if events.len() as i64 >= EVENTS_PER_SEAT {
            break;
        }
    }
    Ok(events)
}

struct DeviceRow {
    hostname: Option<String>,
    last_seen_ms: Option<i64>,
    last_state: Option<String>,
}

/// Builds the view of `room` at `now_ms` (read-only queries on `pool`).
pub async fn load(pool: &AnyPool, keys: &crate::pki::Keys, room: &str, now_ms: i64, cache: &mut EventCache) -> Result<RoomView, sqlx::Error> {
    let (from, to) = (now_ms - VIEW_WINDOW_MS, now_ms + VIEW_WINDOW_MS);
    let mut sittings = Vec::new();
    let mut sitting_facts: HashMap<String, (i64, i64, Option<i64>, Option<i64>)> = HashMap::new();
    for r in crate::store::planning::room_sittings(pool, room, from, to).await? {
        let start_ms = r.start_ms;
        let started_ms = r.started_ms;
        let paused_ms = r.paused_ms;
        let ended_ms = r.ended_ms;
        let view = SittingView {
            sitting_id: r.sitting_id,
            exam: r.exam,
            start_ms,
            duration_minutes: r.duration_minutes,
            started: started_ms.is_some() || now_ms >= start_ms,
            paused: paused_ms.is_some(),
            ended_ms,
            version: r.version.unwrap_or(0),
        };
        let effective_start = started_ms.unwrap_or(start_ms);
        sitting_facts.insert(view.sitting_id.clone(), (effective_start, view.duration_minutes, ended_ms, started_ms.or((now_ms >= start_ms).then_some(start_ms))));
        sittings.push(view);
    }

    let mut devices: HashMap<String, DeviceRow> = HashMap::new();
    let mut device_order = Vec::new();
    for r in crate::store::devices::of_room(pool, room).await? {
        device_order.push(r.device_id.clone());
        devices.insert(r.device_id, DeviceRow { hostname: r.hostname, last_seen_ms: r.last_seen_ms, last_state: r.last_state });
    }
    let online = |d: &DeviceRow| d.last_seen_ms.is_some_and(|t| now_ms - t <= OFFLINE_AFTER_MS);

    // The current session of each candidate: the newest one not revoked.
    let mut current: HashMap<(String, String), String> = HashMap::new();
    for r in crate::store::sessions::open_of_room(pool, room, from, to).await? {
        current.insert((r.sitting_id, r.student_number), r.device_id);
    }
    let mut reopened = std::collections::HashSet::new();
    for r in crate::store::audit::reopened_seats_in_room(pool, room, from, to).await? {
        reopened.insert((r.sitting_id, r.student_number));
    }
    let mut submitted = std::collections::HashSet::new();
    for r in crate::store::answers::handed_in_seats_of_room(pool, room, from, to).await? {
        submitted.insert((r.sitting_id, r.student_number));
    }
    // What arrived outside the time, classified from the hub's records and
    // the kiosks' journals: only for sittings where something was handed in
    // or an end or pause was recorded.
    let mut notes: HashMap<(String, String), (bool, String)> = HashMap::new();
    let mut classified = std::collections::HashSet::new();
    for sitting in crate::store::answers::sittings_of_room_to_classify(pool, room, from, to).await? {
        if !classified.insert(sitting.clone()) {
            continue;
        }
        for (student, seat) in crate::enforcement::classify_sitting(pool, &sitting).await? {
            let counted = crate::enforcement::Counted::of(&seat.saves);
            let in_time = counted.handed_in().is_some();
            if let Some(last) = counted.outside.last() {
                let more = counted.outside.len() - 1;
                let text = if more > 0 { format!("{} (en {more} eerder)", last.describe()) } else { last.describe() };
                notes.insert((sitting.clone(), student), (in_time, text));
            }
        }
    }
    // Answers from a PC the student left (a login elsewhere ended its session): kept apart, not counted.
    for r in crate::store::answers::superseded_of_room(pool, room, from, to).await? {
        let key = (r.sitting_id, r.student_number);
        let text = format!("{} opslag(en) van een pc die de student verliet: apart bewaard, telt niet", r.n);
        let note = notes.entry(key).or_insert((true, String::new()));
        note.1 = if note.1.is_empty() { text } else { format!("{} · {text}", note.1) };
    }
    let mut moves: HashMap<(String, String), String> = HashMap::new();
    for r in crate::store::rooms::moves_in_room(pool, room, from, to).await? {
        moves.insert((r.sitting_id, r.student_number), r.to_device);
    }

    // Events: re-read a device's latest records only when its journal grew.
    let mut journal_sizes: HashMap<String, i64> = HashMap::new();
    for r in crate::store::journals::sizes_in_room(pool, room).await? {
        journal_sizes.insert(r.device_id, r.next_seq);
    }
    let in_use: std::collections::HashSet<&String> = current.values().collect();
    for device in current.values() {
        let size = journal_sizes.get(device).copied().unwrap_or(0);
        if cache.by_device.get(device).is_none_or(|cached| cached.size != size) {
            let facts = if size == 0 { JournalFacts::default() } else { journal_facts(pool, device, size).await? };
            cache.by_device.insert(device.clone(), facts);
        }
    }

    let mut seats = Vec::new();
    for r in crate::store::planning::room_seats(pool, room, from, to).await? {
        let sitting_id = r.sitting_id.clone();
        let student_number = r.student_number.clone();
        let key = (sitting_id.clone(), student_number.clone());
        let (start, duration, sitting_ended, actual_start) = sitting_facts.get(&sitting_id).copied().unwrap_or((0, 0, None, None));
        let added = r.added_minutes;
        let extra = r.extra_minutes;
        let total = duration + extra + added;
        let mut accommodations = Vec::new();
        if extra > 0 {
            accommodations.push(format!("{extra} min extra tijd"));
        }
        accommodations.extend(crate::reports::accommodations::planned(&r.tools, r.text_size.as_deref(), r.contrast.as_deref()));
        let paused_ms = r.paused_ms;
        let paused_total = r.paused_total_ms.unwrap_or(0);
        // The seat's own end; the sitting's end only for a seat without a row
        // (an end for everyone writes every seat's, and a reopen lifts one).
        let seat_row = r.version.is_some();
        let ended = r.ended_ms.is_some() || (sitting_ended.is_some() && !seat_row);
        let device_id = current.get(&key).cloned();
        let device = device_id.as_ref().and_then(|d| devices.get(d));
        let note = notes.get(&key);
        let is_submitted = submitted.contains(&key);
        // A hand-in that does not count is shown as such, never as "ingeleverd".
        let outside = is_submitted && note.is_some_and(|(in_time, _)| !in_time);
        let journal = device_id.as_ref().and_then(|d| cache.by_device.get(d));
        // The phase from the heartbeat; a kiosk that never sent one is judged
        // by its journal (and never called offline: its liveness is unknown).
        let phase = match device {
            Some(d) if d.last_seen_ms.is_some() => d.last_state.clone(),
            Some(_) => journal.and_then(|j| j.phase.clone()),
            None => None,
        };
        let state = if outside {
            SeatState::HandedInOutsideTime
        } else if is_submitted {
            SeatState::Submitted
        } else if device.is_some_and(|d| d.last_seen_ms.is_some() && !online(d)) {
            SeatState::Offline
        } else if device.is_none() {
            if actual_start.is_some() {
                SeatState::Absent
            } else {
                SeatState::NotLoggedIn
            }
        } else {
            match phase.as_deref() {
                // Handing in: still the exam's until the receipt is stored.
                Some("in_exam" | "handing_in") => SeatState::InExam,
                Some("locked") => SeatState::Locked,
                Some("submitted") => SeatState::Submitted,
                _ => SeatState::Waiting,
            }
        };
        // While paused the end moves with the clock, so the view carries the
        // frozen remainder instead (and stays unchanged until resumed).
        let running = actual_start.is_some() && !is_submitted && !ended;
        let scheduled_end = start + total * 60_000 + paused_total;
        let (end_ms, paused_remaining_ms) = match (running, paused_ms) {
            (true, None) => (Some(scheduled_end), None),
            (true, Some(p)) => (None, Some((scheduled_end - p).max(0))),
            (false, _) => (None, None),
        };
        let moving_to = moves.get(&key).filter(|to| device_id.as_ref() != Some(*to)).cloned();
        seats.push(Seat {
            key: format!("{sitting_id}/{student_number}"),
            name: r.name.clone(),
            state,
            phase,
            hostname: device.and_then(|d| d.hostname.clone()),
            last_heartbeat_ms: device.and_then(|d| d.last_seen_ms),
            events: journal.map(|j| j.events.clone()).unwrap_or_default(),
            answers_note: note.map(|(_, text)| text.clone()),
            device_id,
            end_ms,
            total_minutes: total,
            added_minutes: added,
            paused: paused_ms.is_some(),
            paused_remaining_ms,
            ended,
            reopened: !ended && reopened.contains(&key),
            login_locked: r.locked_ms.is_some(),
            moving_to,
            version: r.version.unwrap_or(0),
            accommodations,
            sitting_id,
            student_number,
        });
    }
    let mut alarms: HashMap<String, Vec<String>> = HashMap::new();
    for r in crate::store::journals::alarms_of_room(pool, room, from).await? {
        alarms.entry(r.device_id).or_default().push(alarm_text(&r.kind, &r.detail));
    }
    let devices = device_order
        .iter()
        .map(|id| {
            let d = &devices[id];
            DeviceView {
                device_id: id.clone(),
                hostname: d.hostname.clone(),
                online: online(d),
                in_use: in_use.contains(id),
                alarms: alarms.remove(id).unwrap_or_default(),
            }
        })
        .collect();
    Ok(RoomView { room: room.to_string(), server_now_ms: now_ms, room_code: room_code(pool, keys, room, now_ms).await?, sittings, seats, devices })
}

/// An alarm in the invigilator's words (the detail as the hub wrote it).
fn alarm_text(kind: &str, detail: &str) -> String {
    use crate::journal::alarm;
    let what = match kind {
        crate::lockout::alarm::MANY_STUDENTS => "onjuiste toegangscodes voor meerdere studenten op deze pc — ga kijken",
        alarm::REWRITE => "logboek herschreven",
        alarm::TRUNCATION => "logboek ingekort",
        alarm::INVALID => "ongeldig record in het logboek",
        alarm::DAMAGED => "logboek van de pc beschadigd: wat daarna kwam is niet te controleren",
        crate::journal::alarm::REENROLMENT => "pc opnieuw ingeschreven",
        other => other,
    };
    format!("Alarm: {what} ({detail})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn journal_events_in_words() {
        let lock = json!({"from": "in_exam", "to": "locked", "cause": {"trigger": "lock", "reason": "Proces beëindigd: chat"}});
        let said = |kind: &str, payload: &serde_json::Value| describe(kind, payload).unwrap_or_else(|| "(opgevouwen)".into());
        assert_eq!(said("session.transition", &lock), "Vergrendeld: Proces beëindigd: chat");
        let unlock = json!({"from": "locked", "to": "in_exam", "cause": {"trigger": "unlock", "by": "J. Jansen", "reason": "ok"}});
        assert_eq!(said("session.transition", &unlock), "Ontgrendeld door J. Jansen: ok");
        let hand_in = json!({"from": "in_exam", "to": "handing_in", "cause": {"trigger": "hand_in", "by": "student"}});
        assert_eq!(said("session.transition", &hand_in), "Inleveren gestart door de kandidaat");
        assert_eq!(said("session.time_added", &json!({"seconds": 600, "reason": "storing"})), "Extra tijd: 10 min (storing)");
        // Issue 17: the console showed raw codes ("guard.process_ended", "sync.offline",
        // "download → waiting_for_start (download_verified)").
        assert_eq!(said("guard.process_ended", &json!({"name": "discord"})), "Programma afgesloten: discord");
        assert_eq!(said("sync.offline", &json!({})), "Geen verbinding met de server");
        let downloaded = json!({"from": "download", "to": "waiting_for_start", "cause": {"trigger": "download_verified"}});
        assert_eq!(said("session.transition", &downloaded), "examen ophalen → wacht op de start");
        // Routine events are folded; a kind from another kiosk version is named as such.
        assert_eq!(describe("clock.checked", &json!({"skew_ms": 20})), None);
        assert_eq!(said("session.boot", &json!({})), "Melding van een andere kioskversie: session.boot");
        // A malformed payload is not an error, just less informative.
        assert_eq!(said("session.transition", &serde_json::Value::Null), " → ");
    }
}
