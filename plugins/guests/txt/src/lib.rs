//! The built-in plain-text extractor: UTF-8, UTF-16 or Windows-1252/Latin-1 bytes to text,
//! with pages split on form feed (`\f`, as `pdftotext` and line printers write them).

use akte_guest_text::{decode, media_type_param};

wit_bindgen::generate!({
    world: "extractor",
    path: "../../../wit",
});

use akte::plugin::log::Level;
pub use akte::plugin::types::{Failure, Field};
use exports::akte::plugin::extract::Guest;
pub use exports::akte::plugin::extract::{Extraction, Page};

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

/// The extractor as a plain function: what the component's `extract` returns, callable
/// natively too (the sandbox-versus-native benchmark, `bench/plugins.sh`).
pub fn extract(content: Vec<u8>, media_type: String) -> Result<Extraction, Failure> {
    Txt::extract(content, media_type)
}

/// Records a message in the host's log; natively there is no host and it is dropped.
fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    akte::plugin::log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

#[cfg(target_arch = "wasm32")]
export!(Txt);
