//! The plugin manifest (`plugin.toml`): what a plugin is, which world it implements, which
//! media types it handles, its limits and the capabilities it is granted.
//!
//! ```toml
//! name = "windkraft"
//! version = "1.2.0"
//! world = "enricher"
//! description = "Erkennt Unterlagen einer BImSchG-Genehmigung für Windenergieanlagen"
//! media-types = ["text/*", "application/pdf"]
//! capabilities = []          # none by default; only "clock" can be granted
//!
//! [limits]
//! memory-mib = 64            # linear memory cap
//! timeout-ms = 5000          # per call, including instantiation
//! max-output-bytes = 1048576 # text + fields + tags, in bytes
//! max-fields = 256           # number of fields (and of tags)
//! max-input-bytes = 50331648 # optional, extractors: read only the start of a file
//! ```
//!
//! Parsing rejects unknown keys, so a typo (`memroy-mib`) is an error, not a silent default.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The highest memory limit a manifest may state, in MiB. A host may cap lower.
pub const MAX_MEMORY_MIB: u32 = 4096;
/// The highest time limit a manifest may state: ten minutes.
pub const MAX_TIMEOUT_MS: u64 = 600_000;
/// The highest output limit a manifest may state: 256 MiB.
pub const MAX_OUTPUT_BYTES: u64 = 256 * 1024 * 1024;
/// The highest field-count limit a manifest may state.
pub const MAX_FIELDS: u32 = 100_000;
/// The highest input limit a manifest may state: 1 GiB.
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// An error in a plugin manifest.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The manifest file could not be read.
    #[error("plugin manifest {}: {source}", path.display())]
    Read {
        /// The manifest's path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The manifest is not valid TOML or has unknown, missing or mistyped keys.
    #[error("plugin manifest is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    /// A value is out of range or malformed.
    #[error("plugin manifest: `{field}` {problem}")]
    Invalid {
        /// The key, e.g. `limits.memory-mib`.
        field: &'static str,
        /// What is wrong, for a person to read.
        problem: String,
    },
}

/// The world a plugin implements: what the host calls it for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    /// `akte:plugin/extractor`: bytes and media type to text, pages and fields.
    Extractor,
    /// `akte:plugin/enricher`: metadata and text to a suggested type, fields and tags.
    Enricher,
    /// `akte:plugin/validator`: accept a document, or reject it with a reason.
    Validator,
}

impl World {
    /// The world's name in the WIT package.
    pub fn as_str(self) -> &'static str {
        match self {
            World::Extractor => "extractor",
            World::Enricher => "enricher",
            World::Validator => "validator",
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a plugin can reach beyond the `log` interface, if its manifest is granted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    /// The real wall clock and monotonic clock. Without it both read zero.
    Clock,
    /// Named so that a manifest asking for it gets a clear refusal: never granted.
    Filesystem,
    /// Named so that a manifest asking for it gets a clear refusal: never granted.
    Network,
}

/// The per-call limits of a plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Limits {
    /// The cap on the plugin's linear memory, in MiB (default 64).
    pub memory_mib: u32,
    /// The time limit of one call, instantiation included, in milliseconds (default 5000).
    pub timeout_ms: u64,
    /// The cap on the output: text, page table, fields and tags, in bytes (default 16 MiB).
    pub max_output_bytes: u64,
    /// The cap on the number of fields, and separately of tags (default 256).
    pub max_fields: u32,
    /// For an extractor that reads only the start of a file (plain text): the host gives
    /// it at most this many bytes of a larger file, and records that it did (the field
    /// `input-bytes`, "given of size"). A file of any size then gets the text of its start,
    /// and neither host nor plugin holds more of it. None (the default): the whole file,
    /// up to the node's limit for extraction.
    pub max_input_bytes: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_mib: 64,
            timeout_ms: 5_000,
            max_output_bytes: 16 * 1024 * 1024,
            max_fields: 256,
            max_input_bytes: None,
        }
    }
}

/// A parsed, validated plugin manifest.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// The plugin's name: lowercase ASCII letters, digits and `-`, starting with a letter,
    /// at most 64 bytes.
    pub name: String,
    /// The plugin's version (semver). Extraction results are keyed by it.
    pub version: semver::Version,
    /// The world the plugin implements.
    pub world: World,
    /// A one-line description for people.
    #[serde(default)]
    pub description: Option<String>,
    /// The media types the plugin handles: `type/subtype`, `type/*` or `*/*` (in any case;
    /// kept lower-case, as media types compare without case).
    pub media_types: Vec<String>,
    /// Capabilities granted beyond logging. None by default.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// Per-call limits.
    #[serde(default)]
    pub limits: Limits,
}

impl Manifest {
    /// A manifest with default limits and no capabilities, already valid if the
    /// arguments are.
    pub fn new(name: &str, version: semver::Version, world: World, media_types: &[&str]) -> Manifest {
        Manifest {
            name: name.to_string(),
            version,
            world,
            description: None,
            media_types: media_types.iter().map(|m| m.to_string()).collect(),
            capabilities: Vec::new(),
            limits: Limits::default(),
        }
    }

    /// Parses and validates a manifest from TOML text.
    pub fn from_toml(text: &str) -> Result<Manifest, ManifestError> {
        let mut manifest: Manifest = toml::from_str(text)?;
        manifest.media_types = manifest.media_types.iter().map(|m| m.trim().to_ascii_lowercase()).collect();
        manifest.validate()?;
        Ok(manifest)
    }

    /// Reads, parses and validates a manifest file.
    pub fn from_file(path: &Path) -> Result<Manifest, ManifestError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ManifestError::Read { path: path.to_owned(), source })?;
        Manifest::from_toml(&text)
    }

    /// Checks every rule stated on the fields. The host calls it again when loading.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let invalid = |field, problem: String| Err(ManifestError::Invalid { field, problem });
        if !valid_name(&self.name) {
            return invalid(
                "name",
                format!(
                    "must be 1 to 64 lowercase ASCII letters, digits or `-`, starting with a letter; got {:?}",
                    self.name
                ),
            );
        }
        if self.media_types.is_empty() {
            return invalid("media-types", "must name at least one media type (`*/*` for all)".into());
        }
        if let Some(bad) = self.media_types.iter().find(|m| !valid_media_range(m)) {
            return invalid("media-types", format!("{bad:?} is not a media type like `text/plain`, `text/*` or `*/*`"));
        }
        if let Some(c) = self.capabilities.iter().find(|c| **c != Capability::Clock) {
            let name = if *c == Capability::Filesystem { "filesystem" } else { "network" };
            return invalid(
                "capabilities",
                format!(
                    "`{name}` cannot be granted: plugins never reach the file system or the network; \
                     only `clock` can be granted"
                ),
            );
        }
        let l = &self.limits;
        if !(1..=MAX_MEMORY_MIB).contains(&l.memory_mib) {
            return invalid("limits.memory-mib", format!("must be 1 to {MAX_MEMORY_MIB}; got {}", l.memory_mib));
        }
        if !(1..=MAX_TIMEOUT_MS).contains(&l.timeout_ms) {
            return invalid("limits.timeout-ms", format!("must be 1 to {MAX_TIMEOUT_MS}; got {}", l.timeout_ms));
        }
        if !(1..=MAX_OUTPUT_BYTES).contains(&l.max_output_bytes) {
            return invalid(
                "limits.max-output-bytes",
                format!("must be 1 to {MAX_OUTPUT_BYTES}; got {}", l.max_output_bytes),
            );
        }
        if let Some(n) = l.max_input_bytes
            && !(1..=MAX_INPUT_BYTES).contains(&n)
        {
            return invalid("limits.max-input-bytes", format!("must be 1 to {MAX_INPUT_BYTES}; got {n}"));
        }
        if l.max_input_bytes.is_some() && self.world != World::Extractor {
            return invalid(
                "limits.max-input-bytes",
                "is for extractors; validators get the start of a file anyway".into(),
            );
        }
        if l.max_fields > MAX_FIELDS {
            return invalid("limits.max-fields", format!("must be at most {MAX_FIELDS}; got {}", l.max_fields));
        }
        Ok(())
    }

    /// Whether the manifest grants `capability`.
    pub fn grants(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    /// Whether the plugin handles `media_type` (parameters such as `charset` are ignored,
    /// case does not matter).
    pub fn handles(&self, media_type: &str) -> bool {
        let essence = media_type.split(';').next().unwrap_or("").trim();
        self.media_types.iter().any(|range| range_covers(range, essence).is_some())
    }
}

/// Whether the media range `range` takes every type `other` (a media type or range) stands
/// for, and how narrowly: 0 for `*/*`, 1 for `text/*` over `text/…`, 2 for the same type or
/// range. `None` when it does not, or either is no `type/subtype`. Case does not matter.
/// The one comparison of media ranges for manifests, rules and overlaps.
pub fn range_covers(range: &str, other: &str) -> Option<u8> {
    let (rt, rs) = range.split_once('/')?;
    let (ot, _) = other.split_once('/')?;
    if range.eq_ignore_ascii_case(other) {
        Some(2)
    } else if rt == "*" && rs == "*" {
        Some(0)
    } else if rs == "*" && rt.eq_ignore_ascii_case(ot) {
        Some(1)
    } else {
        None
    }
}

/// Whether `text` is a media type or range as a manifest or a rule may name it: `type/subtype`,
/// `type/*` or `*/*` of RFC 9110 token characters, in any case.
pub fn is_media_range(text: &str) -> bool {
    valid_media_range(&text.to_ascii_lowercase())
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn valid_media_range(range: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$&-^_.+".contains(&b))
    };
    match range.split_once('/') {
        Some(("*", "*")) => true,
        Some((ty, "*")) => token(ty),
        Some((ty, sub)) => token(ty) && token(sub),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_ranges() {
        let mut m = Manifest::new("t", semver::Version::new(1, 0, 0), World::Extractor, &["text/*", "application/pdf"]);
        assert!(m.handles("text/plain; charset=utf-8"));
        assert!(m.handles("Application/PDF"));
        assert!(!m.handles("image/png"));
        assert!(!m.handles("nonsense"));
        m.media_types = vec!["*/*".into()];
        assert!(m.handles("image/png"));
        assert!(!m.handles("nonsense"));
        // How narrowly a range covers a type or another range.
        assert_eq!(range_covers("*/*", "text/*"), Some(0));
        assert_eq!(range_covers("text/*", "TEXT/plain"), Some(1));
        assert_eq!(range_covers("Text/Plain", "text/plain"), Some(2));
        assert_eq!(range_covers("text/plain", "text/*"), None);
        assert_eq!(range_covers("text/*", "image/png"), None);
        assert!(is_media_range("Text/*") && is_media_range("*/*") && !is_media_range("pdf"));
    }

    #[test]
    fn defaults_are_valid() {
        let m =
            Manifest::from_toml("name = \"a\"\nversion = \"0.1.0\"\nworld = \"validator\"\nmedia-types = [\"*/*\"]")
                .unwrap();
        assert_eq!(m.limits, Limits::default());
        assert!(m.capabilities.is_empty());
    }
}
