//! The Rust SDK for Akte plugins: WebAssembly components for `wasm32-wasip2` that implement
//! one world of the WIT package `akte:plugin@0.1.0` (`wit/akte-plugin.wit` in the Akte
//! repository).
//!
//! A plugin is a `cdylib` crate that implements one of three traits and exports its type
//! with the matching macro:
//!
//! | world       | trait          | export macro          | the host calls                      |
//! |-------------|----------------|-----------------------|-------------------------------------|
//! | `enricher`  | [`Enricher`]   | [`export_enricher!`]  | `enrich(document, text)`            |
//! | `extractor` | [`Extractor`]  | [`export_extractor!`] | `extract(content, media_type)`      |
//! | `validator` | [`Validator`]  | [`export_validator!`] | `validate(document, content)`       |
//!
//! ```no_run
//! use akte_plugin_sdk::{DocumentInfo, Enricher, Failure, Field, Suggestion, log};
//!
//! struct Windkraft;
//!
//! impl Enricher for Windkraft {
//!     fn enrich(_document: DocumentInfo, text: String) -> Result<Suggestion, Failure> {
//!         if text.trim().is_empty() {
//!             return Err(Failure::Unsupported("kein Text".into()));
//!         }
//!         log::debug(format!("{} bytes", text.len()));
//!         let mut suggestion = Suggestion::none();
//!         if text.contains("Windenergieanlage") {
//!             suggestion.tags.push("windkraft".into());
//!             suggestion.fields.push(Field::new("zeichen", text.len().to_string()));
//!             suggestion.confidence = 70;
//!         }
//!         Ok(suggestion)
//!     }
//! }
//!
//! akte_plugin_sdk::export_enricher!(Windkraft);
//! ```
//!
//! Export exactly one world per crate: the host loads a component for the world its
//! manifest names and refuses it when the exports do not match.
//!
//! Besides the bindings the SDK has [`log`] (records for `akte plugin test` and the node's
//! log; on a native target, e.g. in unit tests, they go to stderr) and [`text`] (helpers
//! for German administrative text whose results do not depend on Unicode tables, so that
//! ports of a plugin to Python or JavaScript can behave byte for byte the same).
//!
//! How it works: the SDK runs `wit_bindgen::generate!` once per world with
//! `pub_export_macro`, so the bindings live here and an export macro that a plugin crate
//! invokes emits the export glue (and the component-type section naming the exports) in
//! that crate only. Types shared by the worlds (`types`, `log`) are generated once.

// The export macros of `wit_bindgen` refer to this crate by name, also from inside it.
extern crate self as akte_plugin_sdk;

pub mod text;

#[doc(hidden)]
pub use wit_bindgen;

/// The bindings of the `enricher` world; also home of the shared `types` and `log`.
#[doc(hidden)]
pub mod enricher_world {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "akte:plugin/enricher",
        pub_export_macro: true,
        export_macro_name: "export_enricher_world",
        default_bindings_module: "::akte_plugin_sdk::enricher_world",
        runtime_path: "::akte_plugin_sdk::wit_bindgen::rt",
    });
}

/// The bindings of the `extractor` world.
#[doc(hidden)]
pub mod extractor_world {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "akte:plugin/extractor",
        pub_export_macro: true,
        export_macro_name: "export_extractor_world",
        default_bindings_module: "::akte_plugin_sdk::extractor_world",
        runtime_path: "::akte_plugin_sdk::wit_bindgen::rt",
        with: {
            "akte:plugin/types@0.1.0": ::akte_plugin_sdk::enricher_world::akte::plugin::types,
            "akte:plugin/log@0.1.0": ::akte_plugin_sdk::enricher_world::akte::plugin::log,
        },
    });
}

/// The bindings of the `validator` world.
#[doc(hidden)]
pub mod validator_world {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "akte:plugin/validator",
        pub_export_macro: true,
        export_macro_name: "export_validator_world",
        default_bindings_module: "::akte_plugin_sdk::validator_world",
        runtime_path: "::akte_plugin_sdk::wit_bindgen::rt",
        with: {
            "akte:plugin/types@0.1.0": ::akte_plugin_sdk::enricher_world::akte::plugin::types,
            "akte:plugin/log@0.1.0": ::akte_plugin_sdk::enricher_world::akte::plugin::log,
        },
    });
}

pub use enricher_world::akte::plugin::log::Level;
pub use enricher_world::akte::plugin::types::{DocumentInfo, Failure, Field};
/// An enricher: suggests a document type, fields and tags from a document's metadata and
/// extracted text (`enrich: func(document, text) -> result<suggestion, failure>`).
pub use enricher_world::exports::akte::plugin::enrich::Guest as Enricher;
pub use enricher_world::exports::akte::plugin::enrich::Suggestion;
/// An extractor: turns a document's bytes into text, pages and fields
/// (`extract: func(content, media-type) -> result<extraction, failure>`).
pub use extractor_world::exports::akte::plugin::extract::Guest as Extractor;
pub use extractor_world::exports::akte::plugin::extract::{Extraction, Page};
/// A validator: accepts or rejects a document before it is stored
/// (`validate: func(document, content) -> result<verdict, failure>`).
pub use validator_world::exports::akte::plugin::validate::Guest as Validator;
pub use validator_world::exports::akte::plugin::validate::{Rejection, Verdict};

/// The version of the WIT package the SDK's bindings implement.
pub const WIT_PACKAGE: &str = "akte:plugin@0.1.0";

/// Exports `$ty`, which implements [`Enricher`], as the plugin's `akte:plugin/enrich`.
#[macro_export]
macro_rules! export_enricher {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::enricher_world::export_enricher_world!($ty with_types_in $crate::enricher_world);
        // Elsewhere (native unit tests) nothing is exported, but the implementation counts as used.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$ty as $crate::Enricher>::enrich;
        };
    };
}

/// Exports `$ty`, which implements [`Extractor`], as the plugin's `akte:plugin/extract`.
#[macro_export]
macro_rules! export_extractor {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::extractor_world::export_extractor_world!($ty with_types_in $crate::extractor_world);
        // Elsewhere (native unit tests) nothing is exported, but the implementation counts as used.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$ty as $crate::Extractor>::extract;
        };
    };
}

/// Exports `$ty`, which implements [`Validator`], as the plugin's `akte:plugin/validate`.
#[macro_export]
macro_rules! export_validator {
    ($ty:ident) => {
        #[cfg(target_arch = "wasm32")]
        $crate::validator_world::export_validator_world!($ty with_types_in $crate::validator_world);
        // Elsewhere (native unit tests) nothing is exported, but the implementation counts as used.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$ty as $crate::Validator>::validate;
        };
    };
}

impl Field {
    /// A field from name (kebab-case, e.g. `nabenhoehe-m`) and value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Field {
        Field { name: name.into(), value: value.into() }
    }
}

impl Suggestion {
    /// No opinion: no document type, no fields, no tags, confidence 0.
    pub fn none() -> Suggestion {
        Suggestion { document_type: None, fields: Vec::new(), tags: Vec::new(), confidence: 0 }
    }

    /// The value of the first field called `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.name == name).map(|f| f.value.as_str())
    }
}

impl Extraction {
    /// Text only: no pages, no fields, no language.
    pub fn text(text: impl Into<String>) -> Extraction {
        Extraction { text: text.into(), pages: Vec::new(), fields: Vec::new(), language: None }
    }
}

impl Verdict {
    /// A rejection with a sentence for the clerk (German) and a stable kebab-case code.
    pub fn reject(reason: impl Into<String>, code: impl Into<String>) -> Verdict {
        Verdict::Reject(Rejection { reason: reason.into(), code: code.into() })
    }
}

/// Log records for the people who run and write plugins: shown by `akte plugin test`;
/// during ingest an enricher's first 64 records on a document are stored with its result
/// (not shown by the CLI or the API yet). The host keeps at most 256 records of 2 KiB per
/// call and drops the rest, so log per document, not per line.
///
/// On a native target (unit tests of a plugin's logic) records go to stderr instead.
pub mod log {
    use crate::Level;

    /// Records `message` at `level`. Never fails, never blocks.
    pub fn log(level: Level, message: impl AsRef<str>) {
        #[cfg(target_arch = "wasm32")]
        crate::enricher_world::akte::plugin::log::log(level, message.as_ref());
        #[cfg(not(target_arch = "wasm32"))]
        eprintln!("[{level:?}] {}", message.as_ref());
    }

    /// Detail that helps while developing a plugin.
    pub fn debug(message: impl AsRef<str>) {
        log(Level::Debug, message)
    }

    /// A normal event worth recording.
    pub fn info(message: impl AsRef<str>) {
        log(Level::Info, message)
    }

    /// Something unexpected that the plugin worked around.
    pub fn warn(message: impl AsRef<str>) {
        log(Level::Warn, message)
    }

    /// Something failed; the plugin will probably return a failure.
    pub fn error(message: impl AsRef<str>) {
        log(Level::Error, message)
    }
}
