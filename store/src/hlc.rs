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
    pub fn rfc3339(self) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(self.ms as i128 * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_is_monotonic_when_the_clock_goes_back() {
        let a = Hlc { ms: 1000, c: 0 };
        let b = a.tick(900);
        assert!(b > a);
        assert_eq!(b, Hlc { ms: 1000, c: 1 });
        assert_eq!(b.tick(2000), Hlc { ms: 2000, c: 0 });
        assert_eq!(a.observe(Hlc { ms: 5000, c: 3 }).tick(10), Hlc { ms: 5000, c: 4 });
    }
}
