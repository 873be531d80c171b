//! Sliding-window rate limits and growing delays after failures, kept in
//! memory per hub node.
//!
//! With several hub nodes behind one address each node counts on its own,
//! so the effective limit is at most the per-node limit times the number of
//! nodes; the lock-outs that must hold across nodes (5 wrong access codes per
//! student and PC) live in the database instead (`lockout`).

use exam_secure::FailureWindow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// At most `limit` events per key in any window of `window_ms`: an
/// `exam_secure::FailureWindow` per key, on the hub's unix-ms clock.
#[derive(Debug)]
pub struct RateLimiter<K> {
    limit: usize,
    window_ms: i64,
    /// Keys remembered at most; idle keys are forgotten first.
    capacity: usize,
    events: Mutex<HashMap<K, FailureWindow>>,
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
        let now_ms = u64::try_from(now_ms).unwrap_or(0);
        let mut map = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.capacity && !map.contains_key(key) {
            map.retain(|_, window| !window.is_idle(now_ms));
        }
        let (limit, window_ms) = (u32::try_from(self.limit).unwrap_or(u32::MAX), u64::try_from(self.window_ms).unwrap_or(0));
        let window = map.entry(key.clone()).or_insert_with(|| FailureWindow::new(limit, window_ms));
        if let Some(wait_ms) = window.wait_ms(now_ms) {
            return Err(wait_ms.max(1000).div_ceil(1000));
        }
        window.record(now_ms);
        Ok(())
    }
}

/// Growing delays after failures, per key (for the console: per account
/// name and source address). The first [`Backoff::free`] failures cost
/// nothing; each further one makes the key wait twice as long as the one
/// before (from `base_ms`, at most `cap_ms`) before its next attempt is even
/// checked. Nothing is ever locked: the wait ends by itself, and a success
/// clears the key. Callers refuse an attempt with the wait instead of
/// sleeping, so a waiting attacker holds no connection, lock or task.
#[derive(Debug)]
pub struct Backoff<K> {
    free: u32,
    base_ms: i64,
    cap_ms: i64,
    /// Keys remembered at most; keys without a pending wait are forgotten first.
    capacity: usize,
    /// Key -> (failures, next attempt allowed at, unix ms).
    state: Mutex<HashMap<K, (u32, i64)>>,
}

impl<K: Hash + Eq + Clone> Backoff<K> {
    /// `free` failures without delay, then `base_ms`, doubling, at most `cap_ms`.
    pub fn new(free: u32, base_ms: i64, cap_ms: i64, capacity: usize) -> Self {
        Self { free, base_ms, cap_ms, capacity, state: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds)` while `key` must still wait (the attempt is then not
    /// checked and not counted).
    pub fn check(&self, key: &K, now_ms: i64) -> Result<(), u64> {
        let map = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((_, until)) if *until > now_ms => Err(((until - now_ms) as u64).div_ceil(1000).max(1)),
            _ => Ok(()),
        }
    }

    /// Counts a failure of `key`; returns the wait now required, ms.
    pub fn failed(&self, key: &K, now_ms: i64) -> i64 {
        let mut map = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.capacity && !map.contains_key(key) {
            // Forget the oldest waits first; a full map never stops counting.
            map.retain(|_, (_, until)| *until > now_ms);
            if map.len() >= self.capacity {
                let oldest = map.iter().min_by_key(|(_, (_, until))| *until).map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    map.remove(&oldest);
                }
            }
        }
        let entry = map.entry(key.clone()).or_insert((0, now_ms));
        entry.0 = entry.0.saturating_add(1);
        let over = entry.0.saturating_sub(self.free);
        let wait = if over == 0 { 0 } else { self.base_ms.saturating_mul(1i64 << (over - 1).min(40)).min(self.cap_ms) };
        entry.1 = now_ms + wait;
        wait
    }

    /// A success: the key starts afresh.
    pub fn succeeded(&self, key: &K) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_per_key_and_never_locks() {
        let b = Backoff::new(3, 1_000, 8_000, 100);
        for _ in 0..3 {
            assert_eq!(b.check(&"a", 0), Ok(()));
            assert_eq!(b.failed(&"a", 0), 0, "the first three are free");
        }
        assert_eq!(b.failed(&"a", 0), 1_000);
        assert_eq!(b.check(&"a", 500), Err(1));
        // Other keys (the same account from another address) are not slowed.
        assert_eq!(b.check(&"b", 500), Ok(()));
        assert_eq!(b.check(&"a", 1_000), Ok(()));
        assert_eq!(b.failed(&"a", 1_000), 2_000);
        assert_eq!(b.failed(&"a", 3_000), 4_000);
        assert_eq!(b.failed(&"a", 7_000), 8_000);
        assert_eq!(b.failed(&"a", 15_000), 8_000, "capped");
        assert_eq!(b.check(&"a", 20_000), Err(3));
        // The wait ends by itself; a success clears the count.
        assert_eq!(b.check(&"a", 23_000), Ok(()));
        b.succeeded(&"a");
        assert_eq!(b.failed(&"a", 23_000), 0);
    }

    #[test]
    fn backoff_stays_bounded() {
        let b = Backoff::new(0, 1_000, 1_000, 2);
        b.failed(&1, 0);
        b.failed(&2, 0);
        b.failed(&3, 0);
        assert_eq!(b.state.lock().unwrap().len(), 2);
        assert_eq!(b.check(&3, 10), Err(1), "the newest is kept");
    }

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
