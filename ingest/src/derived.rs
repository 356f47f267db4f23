//! The derived-result document: what a producer (an extractor, the OCR engine, an
//! enricher) made of one content. Stored as content (JSON, encrypted like everything else)
//! and recorded by an `Op::Derive` keyed by content root and producer, so that a reindex
//! or a second node never runs the same producer on the same bytes again.

use serde::{Deserialize, Serialize};

/// The version of the result document this build writes.
pub const RESULT_VERSION: u32 = 1;

/// A stored result. (Unknown fields are ignored: serde cannot deny them next to a
/// flattened payload, and a newer minor writer may add some.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// Document version.
    pub v: u32,
    /// The producer, as in the journal op.
    pub producer: String,
    /// What it produced, or why it failed.
    #[serde(flatten)]
    pub payload: Payload,
    /// What the producer logged (plugins' log records, OCR warnings), at most 64 lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
    /// How long it took, in milliseconds.
    pub elapsed_ms: u64,
}

/// The payload of a result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Payload {
    /// Text from an extractor or the OCR engine.
    Text {
        /// The text.
        text: String,
        /// Pages as `[start, end)` byte ranges of `text`; empty when the format has none.
        #[serde(default)]
        pages: Vec<(usize, usize)>,
        /// For OCR: the 1-based page numbers the text's pages came from.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        page_numbers: Vec<u32>,
        /// Fields the format carries (`title`, `author`, `pages-without-text` …).
        #[serde(default)]
        fields: Vec<(String, String)>,
        /// The declared language, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
    },
    /// An enricher's suggestion.
    Suggestion {
        /// Suggested document type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        document_type: Option<String>,
        /// Suggested fields.
        #[serde(default)]
        fields: Vec<(String, String)>,
        /// Suggested tags.
        #[serde(default)]
        tags: Vec<String>,
        /// Confidence, 0 to 100.
        confidence: u8,
    },
    /// The producer failed; the document is stored all the same.
    Failed {
        /// A stable code: `unsupported`, `malformed`, `timeout`, `memory`, `trap`,
        /// `output`, `too-large`, `ocr`, `other`.
        code: String,
        /// A sentence for people.
        message: String,
    },
}

impl Derived {
    /// Parses a stored result, migrating older versions forward.
    pub fn parse(bytes: &[u8]) -> Result<Derived, String> {
        #[derive(Deserialize)]
        struct Versioned {
            v: u32,
        }
        let v = serde_json::from_slice::<Versioned>(bytes).map_err(|e| e.to_string())?.v;
        if v != RESULT_VERSION {
            return Err(format!("derived result version {v} is not supported (this build reads {RESULT_VERSION})"));
        }
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }

    /// The result as stored bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a derived result serializes")
    }

    /// The text, for text results.
    pub fn text(&self) -> Option<&str> {
        match &self.payload {
            Payload::Text { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The failure's code and message, for failed results.
    pub fn failure(&self) -> Option<(&str, &str)> {
        match &self.payload {
            Payload::Failed { code, message } => Some((code, message)),
            _ => None,
        }
    }
}

/// Which stage a producer belongs to, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// `extract:…`
    Extract,
    /// `ocr:…`
    Ocr,
    /// `enrich:…`
    Enrich,
}

impl Stage {
    /// The stage of a producer name, if it has a known prefix.
    pub fn of(producer: &str) -> Option<Stage> {
        match producer.split_once(':')?.0 {
            "extract" => Some(Stage::Extract),
            "ocr" => Some(Stage::Ocr),
            "enrich" => Some(Stage::Enrich),
            _ => None,
        }
    }
}

/// The producer name of a plugin: its stage, name, version and the first 16 hex digits of
/// its component's BLAKE3, so that a rebuilt component with an unchanged version number is
/// still a different producer.
pub fn plugin_producer(stage: &str, name: &str, version: &str, digest: &blake3::Hash) -> String {
    format!("{stage}:{name}@{version}+{}", &digest.to_hex()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_round_trip_and_reject_other_versions() {
        let d = Derived {
            v: RESULT_VERSION,
            producer: "extract:txt@0.1.0+0011223344556677".into(),
            payload: Payload::Text {
                text: "Grüße".into(),
                pages: vec![(0, 7)],
                page_numbers: vec![],
                fields: vec![("encoding".into(), "utf-8".into())],
                language: None,
            },
            logs: vec![],
            elapsed_ms: 3,
        };
        let bytes = d.to_bytes();
        assert_eq!(Derived::parse(&bytes).unwrap(), d);
        let newer = String::from_utf8(bytes).unwrap().replace("\"v\":1", "\"v\":9");
        assert!(Derived::parse(newer.as_bytes()).unwrap_err().contains("version 9"));
        assert_eq!(Stage::of(&d.producer), Some(Stage::Extract));
        assert_eq!(Stage::of("nonsense"), None);
    }
}
