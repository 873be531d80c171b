//! Is the kiosk's clock close enough to the hub's?
//!
//! Exam times, journal wall-clock stamps and location evidence (beacon and
//! hub-echo ages) all assume the kiosk's clock is right. A clock far off is
//! refused at startup with a message an invigilator can act on ("set the
//! clock"), instead of failing later in a way nobody can explain. The hub's
//! time comes from its signed echo (fresh nonce), so it cannot be replayed.

use serde::Serialize;
use std::time::Duration;

/// The largest accepted difference between the kiosk's and the hub's clock.
/// Two minutes: NTP keeps school PCs within a second; a laptop that was
/// asleep for a week is often a minute off; an hour is a wrong time zone or
/// a tampered clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(120);

/// One comparison of the two clocks (goes into the journal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockComparison {
    /// The kiosk's clock, unix ms.
    pub kiosk_ms: u64,
    /// The hub's clock from its signed echo, unix ms.
    pub hub_ms: u64,
    /// `kiosk_ms - hub_ms`: positive when the kiosk is ahead.
    pub skew_ms: i64,
    /// The tolerance it was held against, ms.
    pub tolerance_ms: u64,
}

impl ClockComparison {
    /// Compares the clocks.
    pub fn new(kiosk_ms: u64, hub_ms: u64, tolerance: Duration) -> Self {
        let skew_ms = i64::try_from(i128::from(kiosk_ms) - i128::from(hub_ms)).unwrap_or(i64::MAX);
        Self { kiosk_ms, hub_ms, skew_ms, tolerance_ms: u64::try_from(tolerance.as_millis()).unwrap_or(u64::MAX) }
    }

    /// Whether the kiosk's clock is within the tolerance.
    pub fn within_tolerance(&self) -> bool {
        self.skew_ms.unsigned_abs() <= self.tolerance_ms
    }

    /// In plain Dutch, for the startup screen: how far off, which way, and what to do.
    pub fn describe(&self) -> String {
        let direction = if self.skew_ms > 0 { "voor op" } else { "achter op" };
        format!(
            "de klok van deze pc loopt {} {direction} de examenserver (toegestaan: {}); laat de surveillant of de ICT-afdeling de klok gelijkzetten en start opnieuw",
            dutch_duration(self.skew_ms.unsigned_abs()),
            dutch_duration(self.tolerance_ms),
        )
    }
}

/// "2 uur en 5 minuten", "3 minuten", "40 seconden".
fn dutch_duration(ms: u64) -> String {
    let secs = ms / 1000;
    // Whole minutes, rounded: a clock read a second late is not "1 uur en 59 minuten".
    let secs = if secs >= 60 { (secs + 30) / 60 * 60 } else { secs };
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    let unit = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let parts: Vec<String> = [
        (days, unit(days, "dag", "dagen")),
        (hours, unit(hours, "uur", "uur")),
        (minutes, unit(minutes, "minuut", "minuten")),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(_, s)| s)
    .collect();
    match parts.as_slice() {
        [] => unit(secs, "seconde", "seconden"),
        [one] => one.clone(),
        [init @ .., last] => format!("{} en {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_and_beyond_the_tolerance() {
        let hub = 1_800_000_000_000;
        assert!(ClockComparison::new(hub + 119_000, hub, MAX_CLOCK_SKEW).within_tolerance());
        assert!(ClockComparison::new(hub - 120_000, hub, MAX_CLOCK_SKEW).within_tolerance());
        assert!(!ClockComparison::new(hub + 120_001, hub, MAX_CLOCK_SKEW).within_tolerance());
        assert!(!ClockComparison::new(hub - 7_200_000, hub, MAX_CLOCK_SKEW).within_tolerance());
        assert!(!ClockComparison::new(0, u64::MAX, MAX_CLOCK_SKEW).within_tolerance(), "no overflow");
    }

    #[test]
    fn the_message_says_how_far_and_which_way() {
        let hub = 1_800_000_000_000;
        let behind = ClockComparison::new(hub - 7_500_000, hub, MAX_CLOCK_SKEW).describe();
        assert!(behind.contains("2 uur en 5 minuten achter op"), "{behind}");
        assert!(behind.contains("toegestaan: 2 minuten"), "{behind}");
        let ahead = ClockComparison::new(hub + 90_061_000, hub, MAX_CLOCK_SKEW).describe();
        assert!(ahead.contains("1 dag, 1 uur en 1 minuut voor op"), "{ahead}");
    }
}
