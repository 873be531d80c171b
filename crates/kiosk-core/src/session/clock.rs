//! The exam clock: duration plus extra time, pauses, and what a lock does
//! to the time.
//!
//! Time is counted on the monotonic clock, so changing the PC's wall clock
//! neither adds nor removes exam time. The clock's state is plain data so a
//! resumed session continues with the same remaining time; the state also
//! says when (wall clock) the clock last counted, so a resume can tell how
//! long the clock stood still for the crash.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Why the clock stands still.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// The invigilator paused for a technical failure.
    Invigilator,
    /// The session is locked and the policy stops time while locked.
    Locked,
}

/// Remaining-time bookkeeping for one sitting.
#[derive(Debug, Clone)]
pub struct ExamClock {
    /// Total allowed time: duration plus all extra time granted so far.
    allowed: Duration,
    /// Time used while running, up to the last pause.
    used_before: Duration,
    /// Since when the clock runs; `None` while paused or not started.
    running_since: Option<Instant>,
    pause: Option<PauseReason>,
    /// Wall clock (unix ms) when the clock stopped counting: at a pause, or
    /// the save a restored clock continues from; 0 when unknown.
    stopped_at_ms: u64,
}

/// A clock's state as saved for a resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockState {
    /// Allowed seconds (duration + extra), rounded up.
    pub allowed_secs: u64,
    /// Used seconds, rounded down.
    pub used_secs: u64,
    /// Allowed time in ms (absent in files from before: then `allowed_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_ms: Option<u64>,
    /// Used time in ms (absent in files from before: then `used_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_ms: Option<u64>,
    /// Wall clock (unix ms) up to which the used time counts: the moment of
    /// the save while the clock ran, or when it stopped before; 0 when
    /// unknown (files from before).
    #[serde(default)]
    pub saved_at_ms: u64,
}

/// The time left at the start and where it comes from (`"hub"`: the hub's
/// `remaining_ms`, its end of the student's time minus its now, so a late
/// start ends with the others; `"assignment"`: the total minutes, from a hub
/// that does not send it). Time already over is zero.
pub fn time_left_at_start(start: &exam_protocol::StartResponse) -> (Duration, &'static str) {
    match start.remaining_ms {
        Some(ms) => (Duration::from_millis(u64::try_from(ms).unwrap_or(0)), "hub"),
        None => (Duration::from_secs(u64::from(start.total_minutes) * 60), "assignment"),
    }
}

/// The wall clock in unix ms (0 before 1970).
pub fn now_unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl ExamClock {
    /// A clock for `duration` plus `extra` (accommodation), not yet started.
    pub fn new(duration: Duration, extra: Duration) -> Self {
        Self { allowed: duration + extra, used_before: Duration::ZERO, running_since: None, pause: None, stopped_at_ms: 0 }
    }

    /// A clock continuing from a saved state, paused until [`ExamClock::start`].
    pub fn restore(state: ClockState) -> Self {
        Self {
            allowed: state.allowed_ms.map_or(Duration::from_secs(state.allowed_secs), Duration::from_millis),
            used_before: state.used_ms.map_or(Duration::from_secs(state.used_secs), Duration::from_millis),
            running_since: None,
            pause: None,
            stopped_at_ms: state.saved_at_ms,
        }
    }

    /// Starts (or continues) counting.
    pub fn start(&mut self) {
        if self.running_since.is_none() {
            self.running_since = Some(Instant::now());
            self.pause = None;
        }
    }

    /// Stops counting for `reason`.
    pub fn pause(&mut self, reason: PauseReason) {
        if let Some(since) = self.running_since.take() {
            self.used_before += since.elapsed();
            self.stopped_at_ms = now_unix_ms();
        }
        self.pause = Some(reason);
    }

    /// True while the clock counts.
    pub fn is_running(&self) -> bool {
        self.running_since.is_some()
    }

    /// How long (wall clock, ms) a clock that does not run has stood still
    /// since it last counted — for a restored clock, since the last save
    /// before the crash. 0 while it runs or when unknown.
    pub fn stopped_ms(&self) -> u64 {
        if self.is_running() || self.stopped_at_ms == 0 {
            return 0;
        }
        now_unix_ms().saturating_sub(self.stopped_at_ms)
    }

    /// Why the clock stands still, if it is paused.
    pub fn paused(&self) -> Option<PauseReason> {
        self.pause
    }

    /// Adds extra time (an invigilator after a failure, or an accommodation).
    pub fn add_time(&mut self, extra: Duration) {
        self.allowed += extra;
    }

    /// Time used so far.
    pub fn used(&self) -> Duration {
        self.used_before + self.running_since.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// Time left; zero when it is up.
    pub fn remaining(&self) -> Duration {
        self.allowed.saturating_sub(self.used())
    }

    /// True when no time is left.
    pub fn is_up(&self) -> bool {
        self.remaining().is_zero()
    }

    /// The state to save for a resume: in ms, and in whole seconds for
    /// older readers (rounded so the student loses nothing).
    pub fn state(&self) -> ClockState {
        let used = self.used();
        ClockState {
            allowed_secs: self.allowed.as_millis().div_ceil(1000) as u64,
            used_secs: used.as_secs(),
            allowed_ms: Some(self.allowed.as_millis() as u64),
            used_ms: Some(used.as_millis() as u64),
            saved_at_ms: if self.is_running() { now_unix_ms() } else { self.stopped_at_ms },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_stop_time_and_extra_time_adds() {
        let mut clock = ExamClock::new(Duration::from_secs(60), Duration::from_secs(15));
        assert_eq!(clock.remaining(), Duration::from_secs(75));
        clock.start();
        std::thread::sleep(Duration::from_millis(30));
        clock.pause(PauseReason::Locked);
        let used = clock.used();
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(clock.used(), used, "no time passes while paused");
        assert_eq!(clock.paused(), Some(PauseReason::Locked));
        clock.add_time(Duration::from_secs(5));
        assert!(clock.remaining() > Duration::from_secs(79));
        clock.start();
        assert_eq!(clock.paused(), None);
    }

    #[test]
    fn a_restored_clock_keeps_the_remaining_time() {
        let old = |allowed_secs, used_secs| ClockState { allowed_secs, used_secs, allowed_ms: None, used_ms: None, saved_at_ms: 0 };
        let clock = ExamClock::restore(old(90, 30));
        assert_eq!(clock.remaining(), Duration::from_secs(60));
        assert_eq!(clock.stopped_ms(), 0, "unknown in files from before");
        let done = ExamClock::restore(old(10, 30));
        assert!(done.is_up());
        // A file from before the ms fields still loads.
        let state: ClockState = serde_json::from_str(r#"{"allowed_secs": 90, "used_secs": 30}"#).unwrap();
        assert_eq!(state, old(90, 30));
    }

    #[test]
    fn the_start_counts_from_the_hubs_time_left() {
        let start = |remaining_ms| exam_protocol::StartResponse {
            sitting_id: "NED-2F-0900".into(),
            content_key: String::new(),
            started_at_ms: 0,
            total_minutes: 90,
            remaining_ms,
        };
        // Started ten minutes late: ten minutes less than the total.
        assert_eq!(time_left_at_start(&start(Some(80 * 60_000))), (Duration::from_secs(80 * 60), "hub"));
        assert_eq!(time_left_at_start(&start(Some(-5_000))), (Duration::ZERO, "hub"), "already over");
        assert_eq!(time_left_at_start(&start(None)), (Duration::from_secs(90 * 60), "assignment"), "an older hub");
    }

    #[test]
    fn the_saved_state_says_when_the_clock_last_counted() {
        let mut clock = ExamClock::new(Duration::from_millis(90_500), Duration::ZERO);
        clock.start();
        let before = now_unix_ms();
        let running = clock.state();
        assert!(running.saved_at_ms >= before, "a running clock counts up to the save");
        assert_eq!(running.allowed_ms, Some(90_500));
        assert_eq!(running.allowed_secs, 91, "rounded up: the student loses nothing");
        clock.pause(PauseReason::Locked);
        let paused_at = clock.state().saved_at_ms;
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(clock.state().saved_at_ms, paused_at, "a paused clock counted last when it stopped");
        assert!(clock.stopped_ms() >= 20);
        // Restored after a crash: it stood still since that save.
        let crashed_at = now_unix_ms() - 5_000;
        let restored = ExamClock::restore(ClockState { saved_at_ms: crashed_at, ..running });
        assert!((5_000..6_000).contains(&restored.stopped_ms()), "{}", restored.stopped_ms());
        assert_eq!(restored.state().saved_at_ms, crashed_at, "saved again before it runs: still the time before the crash");
        assert!(restored.remaining() <= Duration::from_millis(90_500) && restored.remaining() > Duration::from_secs(89));
    }
}
