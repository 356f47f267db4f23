//! Hybrid logical clocks: wall-clock milliseconds plus a counter, so that every node's
//! entries get timestamps that respect causality even when clocks drift.

use serde::{Deserialize, Serialize};

/// A hybrid-logical-clock timestamp. Ordered by `ms`, then `c`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Hlc {
    /// Milliseconds since the Unix epoch (physical part).
    pub ms: u64,
    /// Logical counter within one millisecond.
    pub c: u32,
}

impl Hlc {
    /// The next timestamp after `self`, given the wall clock `now_ms`: never goes backwards.
    pub fn tick(self, now_ms: u64) -> Hlc {
        if now_ms > self.ms { Hlc { ms: now_ms, c: 0 } } else { Hlc { ms: self.ms, c: self.c + 1 } }
    }

    /// Merges a timestamp seen from another node: the result is at least both.
    pub fn observe(self, seen: Hlc) -> Hlc {
        self.max(seen)
    }

    /// The wall-clock now in milliseconds.
    pub fn now_ms() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }

    /// RFC 3339 rendering of the physical part (UTC).
    ///
    /// Always with three digits of milliseconds and `Z`, so that the times sort as text
    /// (`…05.180Z` before `…05.188Z`; trimmed, `.18Z` sorted after `.188Z`).
    pub fn rfc3339(self) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(self.ms as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        let fmt =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        t.format(&fmt).unwrap_or_default()
    }

    /// The day of the physical part on the German civil calendar (CET/CEST): what a clerk
    /// calls the day it happened.
    pub fn german_date(self) -> time::Date {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(self.ms as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        at.to_offset(german_offset(at)).date()
    }
}

/// The offset of German civil time at an instant: CEST (+2) from 01:00 UTC on the last
/// Sunday of March to 01:00 UTC on the last Sunday of October, CET (+1) otherwise.
pub fn german_offset(at: time::OffsetDateTime) -> time::UtcOffset {
    use time::{Month, PrimitiveDateTime, Time};
    let at = at.to_offset(time::UtcOffset::UTC);
    let switch = |month: Month| {
        let last = time::Date::from_calendar_date(at.year(), month, time::util::days_in_month(month, at.year()))
            .expect("the last day of a month is a date");
        let sunday = last - time::Duration::days(i64::from(last.weekday().number_days_from_sunday()));
        PrimitiveDateTime::new(sunday, Time::from_hms(1, 0, 0).expect("01:00 is a time")).assume_utc()
    };
    let hours = if at >= switch(Month::March) && at < switch(Month::October) { 2 } else { 1 };
    time::UtcOffset::from_hms(hours, 0, 0).expect("one or two hours is an offset")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_three_digits_of_milliseconds_and_sort_as_text() {
        let at = |ms: u64| Hlc { ms, ..Hlc::default() }.rfc3339();
        assert_eq!(at(1_795_000_000_180), "2026-11-18T11:06:40.180Z");
        assert_eq!(at(1_795_000_000_000), "2026-11-18T11:06:40.000Z");
        let mut times = [at(1_795_000_000_188), at(1_795_000_000_180), at(1_795_000_000_018)];
        times.sort();
        assert_eq!(times, [at(1_795_000_000_018), at(1_795_000_000_180), at(1_795_000_000_188)]);
    }

    #[test]
    fn tick_is_monotonic_when_the_clock_goes_back() {
        let a = Hlc { ms: 1000, c: 0 };
        let b = a.tick(900);
        assert!(b > a);
        assert_eq!(b, Hlc { ms: 1000, c: 1 });
        assert_eq!(b.tick(2000), Hlc { ms: 2000, c: 0 });
        assert_eq!(a.observe(Hlc { ms: 5000, c: 3 }).tick(10), Hlc { ms: 5000, c: 4 });
    }

    #[test]
    fn the_german_day_follows_cet_and_cest() {
        let day = |utc: time::OffsetDateTime| {
            let ms = (utc.unix_timestamp_nanos() / 1_000_000) as u64;
            Hlc { ms, c: 0 }.german_date().to_string()
        };
        use time::macros::datetime;
        assert_eq!(day(datetime!(2026-01-15 22:59 UTC)), "2026-01-15", "CET, before midnight");
        assert_eq!(day(datetime!(2026-01-15 23:00 UTC)), "2026-01-16", "CET, midnight");
        assert_eq!(day(datetime!(2026-07-01 21:59 UTC)), "2026-07-01", "CEST, before midnight");
        assert_eq!(day(datetime!(2026-07-01 22:00 UTC)), "2026-07-02", "CEST, midnight");
        assert_eq!(day(datetime!(2026-12-31 23:30 UTC)), "2027-01-01", "the new year");
    }
}
