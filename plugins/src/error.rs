//! `PluginError`: everything that can go wrong loading or calling a plugin, as one typed enum.
//!
//! Every failure of a plugin — a trap, a timeout, an exhausted memory, an oversize or
//! malformed output, a failure the plugin reports itself — ends here, never in a panic of
//! the host. The variants say whose fault it was, so the ingest pipeline can record it on
//! the document version and go on.

use std::path::PathBuf;

use crate::manifest::ManifestError;
use crate::types::Failure;

/// An error loading or calling a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The manifest is missing, unparsable or invalid, or asks for more than this host allows.
    #[error(transparent)]
    Manifest(#[from] ManifestError),

    /// Reading or writing a file (the component, the compile cache) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// The host could not be set up (engine configuration, epoch ticker).
    #[error("plugin host: {0}")]
    Host(String),

    /// The bytes are not a valid WebAssembly component, or compiling them failed.
    #[error("plugin `{plugin}`: not a valid WebAssembly component: {reason}")]
    InvalidComponent {
        /// The plugin's name from its manifest.
        plugin: String,
        /// What the compiler said.
        reason: String,
    },

    /// The component imports something this host does not provide (or the manifest does
    /// not grant): it cannot be instantiated.
    #[error("plugin `{plugin}` needs an import the host does not grant: {reason}")]
    Link {
        /// The plugin's name.
        plugin: String,
        /// Which import is missing, as wasmtime names it.
        reason: String,
    },

    /// The component does not export what the manifest's world requires.
    #[error("plugin `{plugin}` does not implement the `{world}` world of akte:plugin@0.1.0: {reason}")]
    WorldMismatch {
        /// The plugin's name.
        plugin: String,
        /// The world its manifest names.
        world: String,
        /// What is missing or of the wrong type.
        reason: String,
    },

    /// The plugin was called through a world it does not implement
    /// (e.g. `extract` on an enricher).
    #[error("plugin `{plugin}` implements the `{actual}` world and cannot be called as `{called}`")]
    WrongWorld {
        /// The plugin's name.
        plugin: String,
        /// The world of its manifest.
        actual: String,
        /// The world of the call.
        called: String,
    },

    /// The plugin ran past its time limit and was stopped.
    #[error("plugin `{plugin}` exceeded its time limit of {limit_ms} ms and was stopped")]
    Timeout {
        /// The plugin's name.
        plugin: String,
        /// The limit from the manifest.
        limit_ms: u64,
    },

    /// The plugin tried to grow its memory past its limit.
    #[error("plugin `{plugin}` exceeded its memory limit of {limit_mib} MiB and was stopped")]
    MemoryExhausted {
        /// The plugin's name.
        plugin: String,
        /// The limit from the manifest.
        limit_mib: u32,
    },

    /// The plugin trapped: a panic, an `unreachable`, a stack overflow, an out-of-bounds
    /// access, an explicit exit.
    #[error("plugin `{plugin}` crashed: {reason}{}", stderr_suffix(stderr))]
    Trap {
        /// The plugin's name.
        plugin: String,
        /// The trap, e.g. "wasm `unreachable` instruction executed".
        reason: String,
        /// The end of what the plugin wrote to stderr (a Rust panic message lands here).
        stderr: String,
    },

    /// The plugin returned more than its manifest allows.
    #[error("plugin `{plugin}` returned too much: {what} is {actual}, the limit is {limit}")]
    OutputTooLarge {
        /// The plugin's name.
        plugin: String,
        /// What was too large, e.g. "output size in bytes" or "number of fields".
        what: &'static str,
        /// The size it had.
        actual: u64,
        /// The limit.
        limit: u64,
    },

    /// The plugin returned something malformed: invalid UTF-8, out-of-bounds pointers,
    /// page ranges outside the text.
    #[error("plugin `{plugin}` returned invalid output: {reason}")]
    InvalidOutput {
        /// The plugin's name.
        plugin: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The plugin ran and reported that it could not handle this input.
    #[error("plugin `{plugin}` failed on this input: {failure}")]
    Failed {
        /// The plugin's name.
        plugin: String,
        /// The plugin's own account.
        failure: Failure,
    },
}

impl PluginError {
    /// Whether the error is the plugin's fault on one call (a trap, a timeout, an
    /// exhausted limit, bad output, or a failure it reported) rather than a problem of
    /// loading or of the host. After such an error the plugin stays usable.
    pub fn is_call_failure(&self) -> bool {
        matches!(
            self,
            PluginError::Timeout { .. }
                | PluginError::MemoryExhausted { .. }
                | PluginError::Trap { .. }
                | PluginError::OutputTooLarge { .. }
                | PluginError::InvalidOutput { .. }
                | PluginError::Failed { .. }
        )
    }
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() { String::new() } else { format!(" (stderr: {})", stderr.trim_end()) }
}
