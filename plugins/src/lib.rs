//! The sandboxed WebAssembly plugin host: loads components written against the WIT
//! package `akte:plugin@0.1.0` (in `wit/`) and calls them under hard limits.
//!
//! Every parser of uploaded bytes runs here (BRIEF, decision 8). A plugin is a component
//! plus a [`Manifest`]; [`PluginHost::load`] compiles it once (cached in the node's data
//! directory), links it against a deliberately empty sandbox and pre-instantiates it.
//! Each call ([`Plugin::extract`], [`Plugin::enrich`], [`Plugin::validate`]) then runs in a
//! fresh store and instance with an epoch deadline, a wall-clock timeout, a memory cap and
//! output caps; whatever the guest does ends in an [`Outcome`] or a [`PluginError`].
//!
//! ```no_run
//! # async fn run() -> Result<(), akte_plugins::PluginError> {
//! use akte_plugins::{HostConfig, Manifest, PluginHost};
//! let host = PluginHost::new(HostConfig::new("akte-data/plugins"))?;
//! let manifest = Manifest::from_toml(r#"
//!     name = "txt"
//!     version = "0.1.0"
//!     world = "extractor"
//!     media-types = ["text/plain"]
//! "#)?;
//! let plugin = host.load(manifest, &std::fs::read("akte_guest_txt.wasm").unwrap())?;
//! let outcome = plugin.extract("Grüße".as_bytes(), "text/plain").await?;
//! assert_eq!(outcome.value.text, "Grüße");
//! # Ok(()) }
//! ```
//!
//! Code map: `manifest` (plugin.toml), `host` (engine, ticker, loading), `cache` (compiled
//! components on disk), `sandbox` (what a guest can reach, limits per call), `plugin`
//! (calls and error classification), `types` (inputs, outputs and their checks),
//! `bindings` (generated from the WIT), `error`.
//!
//! **Architecture invariant:** this crate knows nothing of the store, HTTP or the index;
//! the ingest pipeline (elsewhere) decides what to do with outcomes and errors.

mod bindings;
mod cache;
mod error;
mod host;
mod manifest;
mod plugin;
mod sandbox;
mod types;

pub use cache::LoadSource;
pub use error::PluginError;
pub use host::{HostConfig, PluginHost};
pub use manifest::{
    Capability, Limits, MAX_FIELDS, MAX_MEMORY_MIB, MAX_OUTPUT_BYTES, MAX_TIMEOUT_MS, Manifest, ManifestError, World,
    is_media_range, range_covers,
};
pub use plugin::{CallError, Plugin};
pub use sandbox::{MAX_LOG_BYTES, MAX_LOG_RECORDS, MAX_STDERR_BYTES};
pub use semver::Version;
pub use types::{DocumentInfo, Extraction, Failure, Field, LogLevel, LogRecord, Outcome, Suggestion, Verdict};

/// The version of the WIT package this host implements.
pub const WIT_PACKAGE: &str = "akte:plugin@0.1.0";
