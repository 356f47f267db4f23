//! A minimal enricher: tags documents that mention a keyword and counts the mentions.
//! Replace the logic in `enrich`; keep the shape (a unit struct, the trait, the macro).

use akte_plugin_sdk::{DocumentInfo, Enricher, Failure, Field, Suggestion, log, text};

/// The plugin. It has no state: the host calls every document in a fresh instance.
struct Plugin;

/// The keyword to look for, lower-case (the text is compared after [`text::fold`]).
const KEYWORD: &str = "windenergieanlage";

impl Enricher for Plugin {
    fn enrich(document: DocumentInfo, text: String) -> Result<Suggestion, Failure> {
        if text::is_blank(&text) {
            return Err(Failure::Unsupported("Das Dokument enthält keinen Text.".into()));
        }
        // Bounded work, whatever the size of the input.
        let folded = text::fold(text::prefix_chars(&text, 200_000));
        let mentions = folded.matches(KEYWORD).count();
        log::debug(format!("{mentions} mentions in {:?}", document.file_name.unwrap_or_default()));
        if mentions == 0 {
            return Ok(Suggestion::none());
        }
        Ok(Suggestion {
            document_type: None,
            fields: vec![Field::new("erwaehnungen", mentions.to_string())],
            tags: vec!["windkraft".into()],
            confidence: 50,
        })
    }
}

akte_plugin_sdk::export_enricher!(Plugin);
