//! The exam clock: duration plus extra time, pauses, and what a lock does
//! to the time.
//!
//! Time is counted on the monotonic clock, so changing the PC's wall clock
//! neither adds nor removes exam time. The clock's state is plain data so a
//! resumed session continues with the same remaining time.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

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
}

/// A clock's state as saved for a resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockState {
    /// Allowed seconds (duration + extra).
    pub allowed_secs: u64,
    /// Used seconds.
    pub used_secs: u64,
}

impl ExamClock {
    /// A clock for `duration` plus `extra` (accommodation), not yet started.
    pub fn new(duration: Duration, extra: Duration) -> Self {
        Self { allowed: duration + extra, used_before: Duration::ZERO, running_since: None, pause: None }
    }

    /// A clock continuing from a saved state, paused until [`ExamClock::start`].
    pub fn restore(state: ClockState) -> Self {
        Self {
            allowed: Duration::from_secs(state.allowed_secs),
            used_before: Duration::from_secs(state.used_secs),
            running_since: None,
            pause: None,
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
        }
        self.pause = Some(reason);
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

    /// The state to save for a resume (whole seconds, rounded so the student loses nothing).
    pub fn state(&self) -> ClockState {
        ClockState { allowed_secs: self.allowed.as_secs(), used_secs: self.used().as_secs() }
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
        let clock = ExamClock::restore(ClockState { allowed_secs: 90, used_secs: 30 });
        assert_eq!(clock.remaining(), Duration::from_secs(60));
        let done = ExamClock::restore(ClockState { allowed_secs: 10, used_secs: 30 });
        assert!(done.is_up());
    }
}
