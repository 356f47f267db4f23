//! The crate's error type: index failures, corruption and refused queries.

use std::path::PathBuf;

/// Errors of `akte-index`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The query string is malformed or exceeds a bound; the text is meant for the user.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// A request parameter is out of range (e.g. an offset past the deepest page).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The directory holds files that are not an Akte index; nothing was touched.
    #[error("{path} is not empty and holds no Akte index; refusing to wipe it")]
    NotAnIndex {
        /// The directory given to [`crate::Index::open`].
        path: PathBuf,
    },
    /// The index files are damaged; rebuild the index from the store.
    #[error("the search index is damaged ({0}); rebuild it with `akte reindex`")]
    DataCorruption(String),
    /// Reading or writing the index directory failed.
    #[error("index directory {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Any other failure inside tantivy.
    #[error("search engine: {0}")]
    Tantivy(tantivy::TantivyError),
}

impl From<tantivy::TantivyError> for Error {
    fn from(e: tantivy::TantivyError) -> Self {
        match e {
            tantivy::TantivyError::DataCorruption(c) => Error::DataCorruption(format!("{c:?}")),
            other => Error::Tantivy(other),
        }
    }
}

/// A query the user typed that cannot be run. Every variant is a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The query string is longer than [`crate::limits::MAX_QUERY_BYTES`].
    #[error("the query is {len} bytes long; at most {max} are allowed")]
    TooLong {
        /// Its length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// More words, phrase words and field values than [`crate::limits::MAX_QUERY_TERMS`].
    #[error("the query has more than {max} terms; shorten it")]
    TooManyTerms {
        /// The bound.
        max: usize,
    },
    /// Parentheses nested deeper than [`crate::limits::MAX_QUERY_DEPTH`].
    #[error("parentheses are nested more than {max} deep")]
    TooDeep {
        /// The bound.
        max: usize,
    },
    /// A `"` without its partner.
    #[error("a quotation mark is not closed")]
    UnclosedQuote,
    /// A `(` without `)` or the other way round.
    #[error("parentheses do not match")]
    UnbalancedParentheses,
    /// `AND`, `OR`, `NOT`, `-` or `+` without an operand.
    #[error("{0} needs a term {side}", side = if matches!(*.0, "NOT" | "-" | "+") { "after it" } else { "on each side" })]
    DanglingOperator(&'static str),
    /// A field filter without a value, e.g. `typ:`.
    #[error("the field {}: needs a value", clip(.0))]
    EmptyFieldValue(String),
    /// A field filter followed by a group, e.g. `titel:(a OR b)`.
    #[error("the field {f}: takes one word or a \"phrase\", not a group in parentheses; write {f}:a OR {f}:b", f = clip(.0))]
    FieldWithGroup(String),
    /// A wildcard other than a trailing `*` after at least three letters.
    #[error("wildcard {} is not supported: use a trailing * after at least {min} letters, e.g. Windkraft*", quoted(.0), min = crate::limits::MIN_WILDCARD_PREFIX)]
    UnsupportedWildcard(String),
    /// A prefix (`Wind*`, `az:6*`) that expands to too many terms.
    #[error("{}* matches more than {max} different words; type more letters", clip(prefix))]
    WildcardTooBroad {
        /// The prefix.
        prefix: String,
        /// The bound.
        max: usize,
    },
    /// A date that is not `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a range `A..B` of those.
    #[error("{} is not a date or date range (e.g. 01.03.2026 bis 31.03.2026, or 2026-03-01..2026-03-31)", quoted(.0))]
    BadDate(String),
    /// A date range whose end is before its start.
    #[error("the date range {} ends before it begins", quoted(.0))]
    ReversedDates(String),
    /// A `medium:` value that is neither a media type nor a short name for one.
    #[error(
        "{} is not a media type; write e.g. medium:pdf, medium:docx, medium:eml, medium:image or medium:application/pdf", quoted(.0)
    )]
    BadMedium(String),
    /// An unknown status value.
    #[error("{} is not a status (offen, zda)", quoted(.0))]
    BadStatus(String),
    /// A word longer than [`crate::analysis::MAX_TOKEN_BYTES`] (folded): such words are
    /// not indexed, so it could only be dropped, and dropping it widened the query.
    #[error("the word {} is longer than {max} letters and is not in the index; search for a part of it", quoted(.0), max = crate::analysis::MAX_TOKEN_BYTES)]
    WordTooLong(String),
    /// Only punctuation or symbols (`§`, `€`, `.`): nothing that could be in the index.
    #[error("the query has no word to search for, only punctuation or symbols")]
    NothingToSearch,
}

/// At most this many characters of what the user typed are quoted back in a refusal: the
/// query may be 8 KiB of one word, and the answer should stay one readable sentence.
const QUOTED_CHARS: usize = 40;

/// `s` cut to [`QUOTED_CHARS`] characters, with `…` where it was cut.
fn clip(s: &str) -> String {
    match s.char_indices().nth(QUOTED_CHARS) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// `s` clipped and quoted as Rust's `{:?}` does (control characters escaped).
fn quoted(s: &str) -> String {
    match s.char_indices().nth(QUOTED_CHARS) {
        Some((at, _)) => format!("{:?}…", &s[..at]),
        None => format!("{s:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_quotes_at_most_a_short_piece_of_the_query() {
        let long = "ä".repeat(2000);
        for e in [
            QueryError::WordTooLong(long.clone()),
            QueryError::BadDate(long.clone()),
            QueryError::EmptyFieldValue(long.clone()),
            QueryError::WildcardTooBroad { prefix: long.clone(), max: 1 },
        ] {
            let message = e.to_string();
            assert!(message.chars().count() < 200 && message.contains(&"ä".repeat(40)), "{message}");
            assert!(message.contains('…'), "{message}");
        }
        // Short values are quoted whole, control characters escaped.
        assert_eq!(QueryError::BadStatus("of\nfen".into()).to_string(), "\"of\\nfen\" is not a status (offen, zda)");
    }
}
