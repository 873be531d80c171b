//! A sliding window of failures (or any events): at most `max` in any
//! `window_ms`. The clock is the caller's: every call takes `now_ms`, so
//! the hub passes unix milliseconds, the kiosk's PIN gate a monotonic clock
//! ([`monotonic_ms`]), the room-code verifier the wall clock it persists
//! across restarts, and tests move time by hand instead of sleeping.

use std::collections::VecDeque;
use std::sync::OnceLock;
use std::time::Instant;

/// Milliseconds since this process first asked: a monotonic clock for
/// windows that must not move when the system clock is set.
pub fn monotonic_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// At most `max` events in any `window_ms`. An event older than the window
/// leaves it; one later than `now_ms` (the clock was set back) is
/// forgotten, so a clock set back never locks for longer than the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureWindow {
    max: u32,
    window_ms: u64,
    times_ms: VecDeque<u64>,
}

impl FailureWindow {
    /// An empty window of at most `max` (at least 1) events per `window_ms`.
    pub fn new(max: u32, window_ms: u64) -> Self {
        Self { max: max.max(1), window_ms, times_ms: VecDeque::new() }
    }

    /// A window holding the given event times (for state kept across
    /// restarts, see [`Self::times_ms`]).
    pub fn with_times(max: u32, window_ms: u64, times_ms: impl IntoIterator<Item = u64>) -> Self {
        Self { times_ms: times_ms.into_iter().collect(), ..Self::new(max, window_ms) }
    }

    /// The event times held, oldest recorded first.
    pub fn times_ms(&self) -> impl Iterator<Item = u64> + '_ {
        self.times_ms.iter().copied()
    }

    fn prune(&mut self, now_ms: u64) {
        let window = self.window_ms;
        self.times_ms.retain(|t| *t <= now_ms && now_ms - t < window);
    }

    /// `Some(ms)` while the window is full: how long until its oldest event
    /// leaves it and another is allowed. `None` when one more may happen.
    pub fn wait_ms(&mut self, now_ms: u64) -> Option<u64> {
        self.prune(now_ms);
        if self.times_ms.len() < self.max as usize {
            return None;
        }
        let oldest = self.times_ms.iter().min().copied().unwrap_or(now_ms);
        Some((oldest + self.window_ms).saturating_sub(now_ms).max(1))
    }

    /// Counts an event at `now_ms`; returns how many more the window takes
    /// (0: it is full now).
    pub fn record(&mut self, now_ms: u64) -> u32 {
        self.prune(now_ms);
        self.times_ms.push_back(now_ms);
        while self.times_ms.len() > self.max as usize {
            self.times_ms.pop_front();
        }
        self.remaining_after_prune()
    }

    /// How many more events the window takes at `now_ms`.
    pub fn remaining(&mut self, now_ms: u64) -> u32 {
        self.prune(now_ms);
        self.remaining_after_prune()
    }

    fn remaining_after_prune(&self) -> u32 {
        self.max.saturating_sub(u32::try_from(self.times_ms.len()).unwrap_or(u32::MAX))
    }

    /// True when no event is in the window at `now_ms` (the window can be
    /// forgotten).
    pub fn is_idle(&mut self, now_ms: u64) -> bool {
        self.prune(now_ms);
        self.times_ms.is_empty()
    }

    /// Forgets every event (a success).
    pub fn clear(&mut self) {
        self.times_ms.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_waits_and_slides_with_the_clock_moved_by_hand() {
        let mut w = FailureWindow::new(3, 10_000);
        assert_eq!(w.wait_ms(0), None);
        assert_eq!(w.record(0), 2);
        assert_eq!(w.record(1_000), 1);
        assert_eq!(w.wait_ms(2_000), None);
        assert_eq!(w.record(2_000), 0, "full now");
        assert_eq!(w.wait_ms(2_500), Some(7_500), "until the first leaves");
        assert_eq!(w.wait_ms(9_999), Some(1));
        // The first event leaves the window at 10 s: one more is allowed.
        assert_eq!(w.wait_ms(10_000), None);
        assert_eq!(w.remaining(10_000), 1);
        assert_eq!(w.remaining(12_000), 3, "all three left");
        assert!(w.is_idle(12_000));
    }

    #[test]
    fn a_clock_set_back_forgets_future_events() {
        let mut w = FailureWindow::new(1, 60_000);
        w.record(10_000_000);
        assert!(w.wait_ms(10_000_500).is_some());
        // The clock jumps back an hour: the lock does not last an hour.
        assert_eq!(w.wait_ms(10_000_000 - 3_600_000 + 10), None);
    }

    #[test]
    fn clear_and_restore() {
        let mut w = FailureWindow::with_times(2, 1_000, [5, 7]);
        assert_eq!(w.wait_ms(10), Some(995));
        assert_eq!(w.times_ms().collect::<Vec<_>>(), [5, 7]);
        w.clear();
        assert_eq!(w.wait_ms(10), None);
        // Never holds more than `max` (a restored list may be longer).
        let mut w = FailureWindow::with_times(2, 1_000, [1, 2, 3, 4]);
        w.record(5);
        assert_eq!(w.times_ms().count(), 2);
        assert_eq!(FailureWindow::new(0, 1).remaining(0), 1, "max is at least 1");
    }

    #[test]
    fn the_monotonic_clock_does_not_go_back() {
        let a = monotonic_ms();
        assert!(monotonic_ms() >= a);
    }
}
