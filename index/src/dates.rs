//! `Option<time::Date>` as `"YYYY-MM-DD"` in JSON (the workspace's `time` has no
//! human-readable serde format).

use serde::{Deserialize, Deserializer, Serializer};
use time::macros::format_description;

const YMD: &[time::format_description::BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Formats a date as `YYYY-MM-DD`.
pub(crate) fn format(d: time::Date) -> String {
    d.format(YMD).unwrap_or_else(|_| d.to_string())
}

/// Parses `YYYY-MM-DD`.
pub(crate) fn parse(s: &str) -> Option<time::Date> {
    time::Date::parse(s, YMD).ok()
}

/// Serde for `Option<time::Date>` as `"YYYY-MM-DD"` or `null`.
pub(crate) mod option {
    use super::*;

    /// Serializes.
    pub fn serialize<S: Serializer>(d: &Option<time::Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format(*d)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<time::Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => {
                parse(&s).map(Some).ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a date (YYYY-MM-DD)")))
            }
        }
    }
}
