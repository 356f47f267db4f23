//! The Akte repository: encrypted, content-addressed objects on any `object_store`, the
//! e-file domain model, and one journal stream per node merged into a catalog.
//!
//! **Architecture invariant:** this crate knows nothing of HTTP, tantivy or wasmtime, and
//! no plaintext leaves it towards the object store: every byte written is age ciphertext
//! under a name that is a keyed hash or an opaque id. See `docs/FORMAT.md`.
//!
//! Layers, bottom up: [`backend`] (the store), [`keys`] (repository key, derived keys),
//! [`object`] (framing, names, checked get/put), [`content`] (chunked streaming content),
//! [`journal`] (per-node streams), [`catalog`] (deterministic merge), [`repo`] (the API),
//! [`verify`] (the full check).

pub mod access;
pub mod backend;
pub mod catalog;
pub mod content;
pub mod direct;
pub mod erase;
mod error;
mod files;
pub mod hlc;
pub mod journal;
pub mod keys;
pub mod model;
pub mod name;
pub mod node;
pub mod object;
pub mod pack;
pub mod repo;
pub mod verify;

pub use error::{Error, Result};
pub use name::Name;
pub use repo::{Change, OpenOptions, RebuildProgress, Repository};
