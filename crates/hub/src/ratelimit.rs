//! Sliding-window rate limits, kept in memory per hub node.
//!
//! With several hub nodes behind one address each node counts on its own,
//! so the effective limit is at most the per-node limit times the number of
//! nodes; the lock-outs that must hold across nodes (5 wrong access codes per
//! student and sitting) live in the database instead.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;

/// At most `limit` events per key in any window of `window_ms`.
#[derive(Debug)]
pub struct RateLimiter<K> {
    limit: usize,
    window_ms: i64,
    /// Keys remembered at most; idle keys are forgotten first.
    capacity: usize,
    events: Mutex<HashMap<K, VecDeque<i64>>>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// A limiter of `limit` events per `window_ms` for each of up to
    /// `capacity` keys.
    pub fn new(limit: usize, window_ms: i64, capacity: usize) -> Self {
        Self { limit, window_ms, capacity, events: Mutex::new(HashMap::new()) }
    }

    /// Records an event for `key` at `now_ms`. `Err(seconds)` when the key
    /// is over its limit and must wait that long (the event is then not
    /// counted, so a client that keeps trying is not locked out for ever).
    pub fn check(&self, key: &K, now_ms: i64) -> Result<(), u64> {
        let mut map = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.capacity && !map.contains_key(key) {
            let window = self.window_ms;
            map.retain(|_, times| times.back().is_some_and(|t| now_ms - t < window));
        }
        let times = map.entry(key.clone()).or_default();
        while times.front().is_some_and(|t| now_ms - t >= self.window_ms) {
            times.pop_front();
        }
        if times.len() >= self.limit {
            let oldest = times.front().copied().unwrap_or(now_ms);
            return Err(((oldest + self.window_ms - now_ms).max(1000) as u64).div_ceil(1000));
        }
        times.push_back(now_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_key_within_its_window() {
        let limiter = RateLimiter::new(3, 10_000, 100);
        for t in [0, 1, 2] {
            assert_eq!(limiter.check(&"a", t), Ok(()));
        }
        // The fourth within 10 s waits until the first leaves the window.
        assert_eq!(limiter.check(&"a", 3_000), Err(7));
        // Other keys are not affected.
        assert_eq!(limiter.check(&"b", 3_000), Ok(()));
        // Refused attempts are not counted: once the window moved on, it passes.
        assert_eq!(limiter.check(&"a", 10_000), Ok(()));
        assert_eq!(limiter.check(&"a", 10_001), Ok(()));
        assert_eq!(limiter.check(&"a", 10_002), Ok(()));
        assert!(limiter.check(&"a", 10_003).is_err());
    }

    #[test]
    fn forgets_idle_keys_when_full() {
        let limiter = RateLimiter::new(1, 1_000, 2);
        limiter.check(&1, 0).unwrap();
        limiter.check(&2, 0).unwrap();
        // Both idle by now: a third key makes room instead of growing the map.
        limiter.check(&3, 5_000).unwrap();
        assert_eq!(limiter.events.lock().unwrap().len(), 1);
        // A key still inside its window is kept.
        let limiter = RateLimiter::new(1, 1_000, 1);
        limiter.check(&1, 0).unwrap();
        limiter.check(&2, 10).unwrap();
        assert!(limiter.check(&1, 20).is_err());
    }
}
