//! The ingest pipeline (BRIEF, decision 8): what happens to a document version besides
//! being stored.
//!
//! 1. **Validators** (installed plugins of the `validator` world) run before a document is
//!    stored; a rejection stores nothing and tells the client why. A validator that fails
//!    (trap, timeout) does not block the upload; the failure is reported.
//! 2. After the version is committed, **extraction** runs: an installed extractor enabled
//!    for the document's Aktenplan code and media type, else the built-in one (`txt`,
//!    `html`, `office`, `pdf`, `eml`, embedded in this crate as components).
//! 3. **OCR** (tesseract, a bounded subprocess) reads images and the PDF pages the
//!    extractor found without a text layer.
//! 4. **Enrichers** (installed plugins) suggest a document type, fields and tags from the
//!    metadata and the text.
//!
//! Every result, failures included, is stored as an encrypted content and recorded by a
//! journal op keyed by content root and producer (plugin name, version and component
//! digest, or the OCR engine's version), so a reindex or another node never repeats work.
//!
//! Code map: `pipeline` (the stages; `pipeline::retry` what is missing or failed, run in
//! batches; `pipeline::view` a version's results put together), `registry` (plugins installed in the repository),
//! `ocr` (the subprocess), `derived` (the stored result document), `builtin` (the
//! embedded extractors).

mod builtin;
pub mod derived;
pub mod ocr;
mod pipeline;
pub mod registry;

pub use builtin::builtin_extractors;
pub use derived::{Derived, Payload, Stage};
pub use ocr::{Ocr, OcrConfig};
pub use pipeline::{Event, Pipeline, PipelineLimits, Rejection, Report, TextState, View, document_info, plugin_fields};

/// What can go wrong in the pipeline itself (plugin failures are results, not errors).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository failed (I/O, integrity).
    #[error(transparent)]
    Store(#[from] akte_store::Error),
    /// The plugin host failed, or a plugin could not be loaded.
    #[error(transparent)]
    Plugin(#[from] akte_plugins::PluginError),
    /// Bad input from the caller.
    #[error("{0}")]
    Invalid(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
}

/// Result with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
