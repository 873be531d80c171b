//! The live room view: one watcher task per watched room (on this hub node)
//! rebuilds the view every [`ROOM_POLL`] from the database — so changes made
//! through any hub node show — and publishes it when it changed; each
//! console page gets a server-sent event stream: the whole view first, then
//! only what changed.

use super::room::{self, EventCache, RoomView, Seat};
use super::Console;
use axum::response::sse::Event;
use serde::Serialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How often a watched room's view is rebuilt.
pub const ROOM_POLL: Duration = Duration::from_millis(200);
/// How often a live page's session is re-checked (sign-out ends the stream).
pub const SESSION_CHECK: Duration = Duration::from_secs(30);

type Published = Option<Arc<RoomView>>;

/// The watched rooms of this node.
#[derive(Debug, Default)]
pub struct Watchers {
    rooms: Mutex<HashMap<String, watch::Sender<Published>>>,
}

impl Watchers {
    /// Subscribes to `room`, starting its watcher when nobody watched it.
    pub fn subscribe(&self, console: &Arc<Console>, room: &str) -> watch::Receiver<Published> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = rooms.get(room) {
            return tx.subscribe();
        }
        let (tx, rx) = watch::channel(None);
        rooms.insert(room.to_string(), tx.clone());
        tokio::spawn(watch_room(console.clone(), room.to_string(), tx));
        rx
    }
}

/// Views are compared without their build time.
fn same(a: &RoomView, b: &RoomView) -> bool {
    a.room_code == b.room_code && a.sittings == b.sittings && a.seats == b.seats && a.devices == b.devices
}

async fn watch_room(console: Arc<Console>, room: String, tx: watch::Sender<Published>) {
    let mut cache = EventCache::default();
    let mut failed = false;
    // A rebuild that takes long eats into the period instead of adding to it.
    let mut ticks = tokio::time::interval(ROOM_POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        {
            // Stop when the last page went away (checked under the registry's lock,
            // so a new subscriber either finds this sender alive or starts a new one).
            let mut rooms = console.watchers.rooms.lock().unwrap_or_else(|p| p.into_inner());
            if tx.receiver_count() == 0 {
                rooms.remove(&room);
                return;
            }
        }
        match room::load(console.read_pool().await, &console.hub.keys, &room, crate::now_ms(), &mut cache).await {
            Ok(view) => {
                failed = false;
                tx.send_if_modified(|current| {
                    if current.as_deref().is_some_and(|c| same(c, &view)) {
                        return false;
                    }
                    *current = Some(Arc::new(view));
                    true
                });
            }
            Err(err) if !failed => {
                tracing::warn!(%room, error = %err, "cannot build the room view; retrying");
                failed = true;
            }
            Err(_) => {}
        }
    }
}

/// What changed between two views (the `patch` event).
#[derive(Debug, Serialize)]
pub struct Patch<'a> {
    /// Hub clock.
    pub server_now_ms: i64,
    /// The room code, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_code: Option<&'a Option<room::RoomCode>>,
    /// All sittings, when any changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sittings: Option<&'a [room::SittingView]>,
    /// All PCs, when any changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices: Option<&'a [room::DeviceView]>,
    /// Seats that are new or changed.
    pub seats: Vec<&'a Seat>,
    /// Keys of seats no longer in the view.
    pub removed: Vec<&'a str>,
}

/// The patch from `old` to `new`; `None` when nothing a page shows changed.
pub fn diff<'a>(old: &'a RoomView, new: &'a RoomView) -> Option<Patch<'a>> {
    let before: HashMap<&str, &Seat> = old.seats.iter().map(|s| (s.key.as_str(), s)).collect();
    let after: std::collections::HashSet<&str> = new.seats.iter().map(|s| s.key.as_str()).collect();
    let seats: Vec<&Seat> = new.seats.iter().filter(|s| before.get(s.key.as_str()) != Some(s)).collect();
    let removed: Vec<&str> = old.seats.iter().map(|s| s.key.as_str()).filter(|k| !after.contains(k)).collect();
    let patch = Patch {
        server_now_ms: new.server_now_ms,
        room_code: (old.room_code != new.room_code).then_some(&new.room_code),
        sittings: (old.sittings != new.sittings).then_some(new.sittings.as_slice()),
        devices: (old.devices != new.devices).then_some(new.devices.as_slice()),
        seats,
        removed,
    };
    let empty = patch.room_code.is_none() && patch.sittings.is_none() && patch.devices.is_none() && patch.seats.is_empty() && patch.removed.is_empty();
    (!empty).then_some(patch)
}

struct Stream {
    rx: watch::Receiver<Published>,
    last: Option<Arc<RoomView>>,
    console: Arc<Console>,
    token_hash: String,
    check: tokio::time::Interval,
    done: bool,
}

fn json_event(name: &str, value: &impl Serialize) -> Event {
    Event::default().event(name).json_data(value).unwrap_or_else(|_| Event::default().comment("unencodable"))
}

/// The event stream of one page: `snapshot` (the whole view), then `patch`
/// events; `signed_out` and the end when the session ended.
pub fn stream(console: Arc<Console>, room: &str, token_hash: String) -> impl futures_util::Stream<Item = Result<Event, Infallible>> {
    let rx = console.watchers.subscribe(&console, room);
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = Stream { rx, last: None, console, token_hash, check, done: false };
    futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            let current = st.rx.borrow_and_update().clone();
            if let Some(view) = current {
                match &st.last {
                    None => {
                        st.last = Some(view.clone());
                        return Some((Ok(json_event("snapshot", &*view)), st));
                    }
                    Some(last) if !Arc::ptr_eq(last, &view) => {
                        let event = diff(last, &view).map(|p| json_event("patch", &p));
                        st.last = Some(view);
                        if let Some(event) = event {
                            return Some((Ok(event), st));
                        }
                    }
                    Some(_) => {}
                }
            }
            tokio::select! {
                changed = st.rx.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                _ = st.check.tick() => {
                    if !super::auth::session_alive(&st.console.hub.db, &st.token_hash).await {
                        st.done = true;
                        return Some((Ok(Event::default().event("signed_out").data("{}")), st));
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::room::{SeatState, SittingView};

    fn seat(key: &str, state: SeatState) -> Seat {
        Seat {
            key: key.into(),
            sitting_id: "S1".into(),
            student_number: key.into(),
            name: "N".into(),
            state,
            phase: None,
            device_id: None,
            hostname: None,
            last_heartbeat_ms: None,
            end_ms: None,
            total_minutes: 90,
            added_minutes: 0,
            paused: false,
            paused_remaining_ms: None,
            ended: false,
            reopened: false,
            login_locked: false,
            moving_to: None,
            version: 0,
            events: Vec::new(),
            accommodations: Vec::new(),
            answers_note: None,
        }
    }

    fn view(seats: Vec<Seat>) -> RoomView {
        RoomView { room: "R".into(), server_now_ms: 1, room_code: None, sittings: Vec::new(), seats, devices: Vec::new() }
    }

    #[test]
    fn patches_carry_only_what_changed() {
        let old = view(vec![seat("a", SeatState::InExam), seat("b", SeatState::InExam), seat("c", SeatState::NotLoggedIn)]);
        let mut new = view(vec![seat("a", SeatState::InExam), seat("b", SeatState::Locked), seat("d", SeatState::NotLoggedIn)]);
        new.server_now_ms = 2;
        let patch = diff(&old, &new).expect("changed");
        assert_eq!(patch.seats.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), ["b", "d"]);
        assert_eq!(patch.removed, ["c"]);
        assert!(patch.sittings.is_none() && patch.room_code.is_none() && patch.devices.is_none());
        // The build time alone is no change.
        assert!(diff(&new, &view(new.seats.clone())).is_none());
        assert!(same(&new, &view(new.seats.clone())));
        let mut with_sitting = view(new.seats.clone());
        with_sitting.sittings.push(SittingView {
            sitting_id: "S1".into(),
            exam: "E".into(),
            start_ms: 0,
            duration_minutes: 90,
            started: true,
            paused: false,
            ended_ms: None,
            version: 1,
        });
        let patch = diff(&new, &with_sitting).expect("sitting changed");
        assert_eq!(patch.sittings.map(<[_]>::len), Some(1));
        assert!(patch.seats.is_empty());
    }
}
