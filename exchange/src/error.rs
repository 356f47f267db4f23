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
    /// The caller asked for something that does not exist, or an output that is in use.
    #[error("{0}")]
    Usage(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub(crate) fn integrity(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Integrity { path: path.into(), reason: reason.into() }
    }

    pub(crate) fn unsafe_path(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::UnsafePath { path: path.into(), reason: reason.into() }
    }

    pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid { path: path.into(), reason: reason.into() }
    }

    /// True when the package itself is bad (digests, paths, structure, metadata), as opposed
    /// to the repository or the local disk failing.
    pub fn is_bad_package(&self) -> bool {
        matches!(self, Error::Integrity { .. } | Error::UnsafePath { .. } | Error::Invalid { .. })
    }
}
