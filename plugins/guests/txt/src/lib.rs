//! The built-in plain-text extractor: UTF-8, UTF-16 or Windows-1252/Latin-1 bytes to text,
//! with pages split on form feed (`\f`, as `pdftotext` and line printers write them).

use akte_guest_text::{decode, media_type_param};

wit_bindgen::generate!({
    world: "extractor",
    path: "../../../wit",
});

use akte::plugin::log::{Level, log};
use akte::plugin::types::{Failure, Field};
use exports::akte::plugin::extract::{Extraction, Guest, Page};

struct Txt;

impl Guest for Txt {
    fn extract(content: Vec<u8>, media_type: String) -> Result<Extraction, Failure> {
        let charset = media_type_param(&media_type, "charset");
        let decoded = decode(&content, charset.as_deref()).map_err(|e| Failure::Malformed(e.to_string()))?;
        if decoded.replaced > 0 {
            log(Level::Warn, &format!("{} invalid byte sequences replaced by U+FFFD", decoded.replaced));
        }
        // A form feed ends a page. It stays in the text as a line break, so that byte
        // offsets match and words on either side stay apart.
        let mut text = decoded.text;
        let mut pages = Vec::new();
        if text.contains('\u{C}') {
            let mut start = 0;
            for (i, _) in text.match_indices('\u{C}') {
                pages.push(Page { start: offset(start), end: offset(i) });
                start = i + 1;
            }
            if start < text.len() {
                pages.push(Page { start: offset(start), end: offset(text.len()) });
            }
            text = text.replace('\u{C}', "\n");
        }
        let fields = vec![Field { name: "encoding".into(), value: decoded.encoding.label().into() }];
        Ok(Extraction { text, pages, fields, language: None })
    }
}

/// Converts a byte offset; text is bounded by the guest's 4 GiB address space.
fn offset(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

export!(Txt);
