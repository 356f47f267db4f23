//! The exchange error type: what was wrong with a package, kept apart from repository and
//! file-system failures so that the caller can tell "this bag is bad" from "the disk is".

use std::path::PathBuf;

/// Everything that can go wrong while exporting or importing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository failed (storage, integrity of stored objects, invalid fields).
    #[error(transparent)]
    Store(#[from] akte_store::Error),
    /// A local file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS reported.
        #[source]
        source: std::io::Error,
    },
    /// A file of the package does not match its digest, or a file is missing or extra.
    #[error("Integrity error in {path}: {reason}")]
    Integrity {
        /// The file, relative to the package root.
        path: String,
        /// Why, in one sentence.
        reason: String,
    },
    /// A path in the package tries to leave it (`..`, absolute paths, symbolic links,
    /// special files).
    #[error("Unsafe path {path}: {reason}")]
    UnsafePath {
        /// The path as the package states it.
        path: String,
        /// Why it is refused.
        reason: String,
    },
    /// The package is not well-formed (structure, syntax, metadata fields).
    #[error("Invalid package at {path}: {reason}")]
    Invalid {
        /// The file, relative to the package root (empty for the package itself).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The package contradicts the repository (an Aktenzeichen or id that already exists).
    #[error("{0}")]
    Conflict(String),
    /// A file of the package was refused by a [`crate::import::Gate`] (a validator);
    /// nothing was imported.
    #[error("{0}")]
    Rejected(String),
    /// The caller asked for something that does not exist, or an output that is in use.
    #[error("{0}")]
    Usage(String),
}

/// A package's names and the parsers' accounts of its faults quote what the package holds,
/// and a hostile or damaged one holds names of 64 KiB (seeded mutants of a message made
/// XML errors of that length). The parsers' accounts are cut where they are quoted
/// ([`foreign`]); these bounds are the net behind that, above our own longest reason (two
/// SHA-512 digests and their wording, about 330 characters), so that an error stays one
/// sentence on the CLI and in the API's problem detail.
const MAX_PATH_CHARS: usize = 160;
const MAX_REASON_CHARS: usize = 480;

/// At most this many characters of a parser's account (quick-xml, serde_json) are quoted.
const MAX_FOREIGN_CHARS: usize = 200;

/// A parser's account of a fault in the package, cut to [`MAX_FOREIGN_CHARS`].
pub(crate) fn foreign(e: impl std::fmt::Display) -> String {
    clip(e.to_string(), MAX_FOREIGN_CHARS)
}

/// `s` cut to `max` characters, with `…` where it was cut.
fn clip(mut s: String, max: usize) -> String {
    if let Some((at, _)) = s.char_indices().nth(max) {
        s.truncate(at);
        s.push('…');
    }
    s
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub(crate) fn integrity(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Integrity { path: clip(path.into(), MAX_PATH_CHARS), reason: clip(reason.into(), MAX_REASON_CHARS) }
    }

    pub(crate) fn unsafe_path(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::UnsafePath { path: clip(path.into(), MAX_PATH_CHARS), reason: clip(reason.into(), MAX_REASON_CHARS) }
    }

    pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid { path: clip(path.into(), MAX_PATH_CHARS), reason: clip(reason.into(), MAX_REASON_CHARS) }
    }

    /// True when the package itself is bad (digests, paths, structure, metadata), as opposed
    /// to the repository or the local disk failing.
    pub fn is_bad_package(&self) -> bool {
        matches!(self, Error::Integrity { .. } | Error::UnsafePath { .. } | Error::Invalid { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_quotes_at_most_a_short_piece_of_the_package() {
        let e = Error::invalid("ä".repeat(1000), format!("expected `</a>`, but `</{}>` was found", "b".repeat(65_536)));
        let message = e.to_string();
        assert!(message.chars().count() < 700, "{} characters", message.chars().count());
        assert!(message.starts_with(&format!("Invalid package at {}…: expected `</a>`", "ä".repeat(160))), "{message}");
        assert_eq!(Error::integrity("a.txt", "missing").to_string(), "Integrity error in a.txt: missing");
        let parser = foreign(format!("expected `</a>`, but `</{}>` was found", "b".repeat(65_536)));
        assert_eq!(parser.chars().count(), 201);
        // Our own longest reasons, with two SHA-512 digests, stay whole.
        let digest = "f".repeat(128);
        let reason = format!("its SHA-512 is {digest}, but inventory.json.sha512 says {digest} (truncated or altered)");
        assert!(Error::integrity("inventory.json", reason).to_string().ends_with("(truncated or altered)"));
    }
}
