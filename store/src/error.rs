//! The store's error type: storage, integrity, key and input failures kept apart.

use std::path::PathBuf;

/// Everything that can go wrong in the repository layer.
///
/// Integrity failures (`Integrity`) are their own variant: a caller must
/// never treat them as "not found" or retry them away.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object store failed (network, permissions, disk).
    #[error("Object store error at {path}: {source}")]
    Store {
        /// The object name the operation concerned.
        path: String,
        /// What object_store reported.
        #[source]
        source: object_store::Error,
    },
    /// An object is missing, does not decrypt, or its content does not match its name.
    #[error("Integrity error in {object}: {reason}")]
    Integrity {
        /// The object name (as stored) that failed.
        object: String,
        /// Why it failed, in one sentence.
        reason: String,
    },
    /// No identity that was offered unlocks the repository key.
    #[error("The identity does not unlock this repository: {0}")]
    Locked(String),
    /// The repository (or a record in it) has a format version this build cannot read.
    #[error("Unsupported format: {0}")]
    Format(String),
    /// The caller asked for something that does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the repository state (duplicate Aktenzeichen, closed Akte …).
    #[error("{0}")]
    Conflict(String),
    /// The request is malformed (bad field, bad value, bad URL).
    #[error("{0}")]
    Invalid(String),
    /// A local file in the data directory or an input file failed.
    #[error("{path}: {source}")]
    Io {
        /// The local file.
        path: PathBuf,
        /// What the OS reported.
        #[source]
        source: std::io::Error,
    },
    /// The data directory is used by another process.
    #[error(
        "The data directory {0} is in use by another akte process; a server holds it while it runs: stop it, or run this command with a data directory of its own on the same store (--data, --store, --identity)"
    )]
    Busy(PathBuf),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn store(path: &object_store::path::Path, source: object_store::Error) -> Self {
        Error::Store { path: path.to_string(), source }
    }

    /// An integrity error: an object that is damaged, missing or not what it claims.
    pub fn integrity(object: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Integrity { object: object.into(), reason: reason.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// True for integrity failures (tampering, corruption, missing objects that are referenced).
    pub fn is_integrity(&self) -> bool {
        matches!(self, Error::Integrity { .. })
    }
}
