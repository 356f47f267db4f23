//! A small demonstration enricher: recognises a few document types of a permit procedure
//! by keywords, tags wind-energy documents and counts words. (The real windkraft enricher,
//! with turbine counts and parcels, is an SDK example of its own.)

wit_bindgen::generate!({
    world: "enricher",
    path: "../../../wit",
});

use akte::plugin::log::{Level, log};
use akte::plugin::types::{DocumentInfo, Failure, Field};
use exports::akte::plugin::enrich::{Guest, Suggestion};

struct Keywords;

/// Keywords in the text, the document type they indicate, checked in order.
const TYPES: &[(&str, &str)] = &[
    ("schallimmissionsprognose", "Schallgutachten"),
    ("schallgutachten", "Schallgutachten"),
    ("genehmigungsbescheid", "Bescheid"),
    ("bescheid", "Bescheid"),
    ("antrag auf", "Antrag"),
    ("stellungnahme", "Stellungnahme"),
];

impl Guest for Keywords {
    fn enrich(document: DocumentInfo, text: String) -> Result<Suggestion, Failure> {
        if text.trim().is_empty() {
            return Err(Failure::Unsupported("the document has no extracted text".into()));
        }
        let lower = text.to_lowercase();
        let document_type = TYPES.iter().find(|(k, _)| lower.contains(k)).map(|(_, t)| t.to_string());
        let mut tags = Vec::new();
        if lower.contains("windenergieanlage") || lower.contains("windkraft") {
            tags.push("windkraft".to_string());
        }
        if lower.contains("bimschg") || lower.contains("bundes-immissionsschutzgesetz") {
            tags.push("bimschg".to_string());
        }
        let words = text.split_whitespace().count();
        log(Level::Debug, &format!("{words} words in {:?}", document.file_name.unwrap_or_default()));
        let confidence = if document_type.is_some() { 60 } else { 0 };
        let fields = vec![Field { name: "wortanzahl".into(), value: words.to_string() }];
        Ok(Suggestion { document_type, fields, tags, confidence })
    }
}

export!(Keywords);
