//! Times in the proces-verbaal: Dutch local time (Europe/Amsterdam, with
//! summer time), from the time zone database compiled into the hub (jiff's
//! bundled copy), so the document says the same on a server without
//! `/usr/share/zoneinfo`. The exam office reads "vrijdag 4 december 2026,
//! 16:00", never UTC.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::sync::OnceLock;

/// The time zone of every time in the document.
pub(crate) const ZONE: &str = "Europe/Amsterdam";

const WEEKDAYS: [&str; 7] = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"];
const MONTHS: [&str; 12] =
    ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"];

fn zone() -> &'static TimeZone {
    static TZ: OnceLock<TimeZone> = OnceLock::new();
    // The bundled database always has Europe/Amsterdam (a unit test checks
    // it); the fixed +01:00 is only a guard that never runs.
    TZ.get_or_init(|| TimeZone::get(ZONE).unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(1))))
}

fn civil(ms: i64) -> Option<(DateTime, bool)> {
    let ts = Timestamp::from_millisecond(ms).ok()?;
    let tz = zone();
    Some((tz.to_datetime(ts), tz.to_offset_info(ts).dst().is_dst()))
}

/// The first millisecond of `date` in Dutch local time (for periods a
/// person gives as dates: "from 4 December" starts at 00:00 in Amsterdam).
pub(crate) fn midnight_ms(date: jiff::civil::Date) -> Option<i64> {
    zone().to_timestamp(date.at(0, 0, 0, 0)).ok().map(|t| t.as_millisecond())
}

/// The calendar day of `ms` in Dutch local time, as (year, month, day).
pub(crate) fn day_of(ms: i64) -> Option<(i16, i8, i8)> {
    civil(ms).map(|(t, _)| (t.year(), t.month(), t.day()))
}

/// "vrijdag 4 december 2026".
pub(crate) fn long_date(ms: i64) -> String {
    match civil(ms) {
        Some((t, _)) => format!(
            "{} {} {} {}",
            WEEKDAYS[usize::try_from(t.weekday().to_monday_zero_offset()).unwrap_or(0)],
            t.day(),
            MONTHS[usize::try_from(t.month() - 1).unwrap_or(0)],
            t.year()
        ),
        None => format!("(tijdstip {ms} ms onleesbaar)"),
    }
}

/// "vrijdag 4 december 2026, 16:00".
pub(crate) fn long_date_time(ms: i64) -> String {
    match civil(ms) {
        Some((t, _)) => format!("{}, {:02}:{:02}", long_date(ms), t.hour(), t.minute()),
        None => long_date(ms),
    }
}

/// "16:00" on `day` (the sitting's day); another day also gets its date:
/// "5 december 00:12".
pub(crate) fn hour_minute(ms: i64, day: Option<(i16, i8, i8)>) -> String {
    match civil(ms) {
        Some((t, _)) => format!("{}{:02}:{:02}", other_day(&t, day), t.hour(), t.minute()),
        None => format!("(tijdstip {ms} ms onleesbaar)"),
    }
}

/// "16:12:05" on `day`; another day also gets its date: "5 december 00:12:05".
pub(crate) fn clock(ms: i64, day: Option<(i16, i8, i8)>) -> String {
    match civil(ms) {
        Some((t, _)) => format!("{}{:02}:{:02}:{:02}", other_day(&t, day), t.hour(), t.minute(), t.second()),
        None => format!("(tijdstip {ms} ms onleesbaar)"),
    }
}

fn other_day(t: &DateTime, day: Option<(i16, i8, i8)>) -> String {
    if day == Some((t.year(), t.month(), t.day())) {
        String::new()
    } else {
        let month = MONTHS[usize::try_from(t.month() - 1).unwrap_or(0)];
        if day.is_some_and(|(y, _, _)| y == t.year()) {
            format!("{} {month} ", t.day())
        } else {
            format!("{} {month} {} ", t.day(), t.year())
        }
    }
}

/// "zomertijd" or "wintertijd" at `ms`: which Dutch time the document's times are in.
pub(crate) fn season(ms: i64) -> &'static str {
    match civil(ms) {
        Some((_, true)) => "zomertijd",
        _ => "wintertijd",
    }
}

/// `YYYY-MM-DD HH:MM:SS` in Dutch local time, with the offset (for the
/// appendix and for journal alarms).
pub(crate) fn technical(ms: i64) -> String {
    let Ok(ts) = Timestamp::from_millisecond(ms) else { return format!("@{ms} ms") };
    let tz = zone();
    let t = tz.to_datetime(ts);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} ({})",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        offset(tz.to_offset_info(ts).offset().seconds())
    )
}

fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        rfc3339.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn winter_and_summer_time_in_dutch() {
        // 15:00 UTC on 4 December 2026 is 16:00 in Amsterdam (CET, +01:00).
        let winter = ms("2026-12-04T15:00:00Z");
        assert_eq!(long_date_time(winter), "vrijdag 4 december 2026, 16:00");
        assert_eq!(season(winter), "wintertijd");
        // 14:00 UTC on 15 June 2026 is 16:00 (CEST, +02:00).
        let summer = ms("2026-06-15T14:00:00Z");
        assert_eq!(long_date_time(summer), "maandag 15 juni 2026, 16:00");
        assert_eq!(season(summer), "zomertijd");
        assert_eq!(technical(summer), "2026-06-15 16:00:00 (+02:00)");
    }

    #[test]
    fn the_switch_to_and_from_summer_time() {
        // 29 March 2026: 01:59:59 UTC = 03:59:59 CEST; 00:59:59 UTC = 01:59:59 CET.
        assert_eq!(clock(ms("2026-03-29T00:59:59Z"), None).split(' ').last(), Some("01:59:59"));
        assert_eq!(clock(ms("2026-03-29T01:00:00Z"), None).split(' ').last(), Some("03:00:00"));
        // 25 October 2026: 00:30 UTC and 01:30 UTC are both 02:30 local.
        assert_eq!(clock(ms("2026-10-25T00:30:00Z"), None).split(' ').last(), Some("02:30:00"));
        assert_eq!(clock(ms("2026-10-25T01:30:00Z"), None).split(' ').last(), Some("02:30:00"));
    }

    #[test]
    fn another_day_is_named() {
        let day = day_of(ms("2026-12-04T15:00:00Z"));
        assert_eq!(clock(ms("2026-12-04T15:12:05Z"), day), "16:12:05");
        assert_eq!(clock(ms("2026-12-04T23:12:05Z"), day), "5 december 00:12:05");
        assert_eq!(hour_minute(ms("2027-01-01T10:00:00Z"), day), "1 januari 2027 11:00");
    }
}
