//! The built-in plain-text extractor: UTF-8, UTF-16 or Windows-1252/Latin-1 bytes to text,
//! with pages split on form feed (`\f`, as `pdftotext` and line printers write them).

use akte_guest_text::{decode_owned, media_type_param};

wit_bindgen::generate!({
    world: "extractor",
    path: "../../../wit",
});

use akte::plugin::log::Level;
pub use akte::plugin::types::{Failure, Field};
use exports::akte::plugin::extract::Guest;
pub use exports::akte::plugin::extract::{Extraction, Page};

struct Txt;

/// Bytes of a file that are read. Search indexes the first 4 MiB of a text and the host
/// takes at most the manifest's `max-output-bytes` (64 MiB) from this extractor: a larger
/// file yields its first part, marked, instead of no text at all. The manifest's
/// `max-input-bytes` is the same, so that the host gives no more than this (and marks the
/// result itself); a host that gives more has it cut here.
pub const MAX_INPUT_BYTES: usize = 48 << 20;

/// Whether `content` starts with a UTF-16 byte order mark.
fn utf16(content: &[u8]) -> bool {
    content.starts_with(b"\xFF\xFE") || content.starts_with(b"\xFE\xFF")
}

/// Where to cut `content` at [`MAX_INPUT_BYTES`]: for text that may be UTF-8, before the
/// character the limit falls into (a cut inside one would make the rest look like
/// Windows-1252); UTF-16 (a byte order mark) at an even offset, which the limit is.
fn cut_at(content: &[u8]) -> usize {
    let limit = MAX_INPUT_BYTES.min(content.len());
    let mut end = limit;
    // A UTF-8 character has at most three continuation bytes; further back it is not UTF-8.
    if !utf16(content) {
        while end > limit.saturating_sub(3) && end < content.len() && content[end] & 0xC0 == 0x80 {
            end -= 1;
        }
    }
    end
}

/// Where the last complete UTF-8 character of `content` ends: before a sequence the end
/// of `content` cut short (a host's `max-input-bytes` may cut inside a character), else
/// at the end. Bytes that are not UTF-8 at all are left alone.
fn complete_end(content: &[u8]) -> usize {
    let len = content.len();
    for i in (len.saturating_sub(4)..len).rev() {
        let b = content[i];
        if b & 0xC0 == 0x80 {
            continue;
        }
        let needed = match b {
            0xF0..=0xF7 => 4,
            0xE0..=0xEF => 3,
            0xC2..=0xDF => 2,
            _ => 1,
        };
        return if i + needed > len { i } else { len };
    }
    len
}

impl Guest for Txt {
    fn extract(mut content: Vec<u8>, media_type: String) -> Result<Extraction, Failure> {
        let charset = media_type_param(&media_type, "charset");
        let size = content.len();
        let cut = size > MAX_INPUT_BYTES;
        if cut {
            content.truncate(cut_at(&content));
            // The rest of the copy the host made is given back before decoding copies it.
            content.shrink_to_fit();
            log(Level::Warn, &format!("only the first {} of {size} bytes are read", content.len()));
        } else if size == MAX_INPUT_BYTES && !utf16(&content) {
            // Given exactly the limit: the host may have cut here, perhaps inside a
            // character, which would make the whole text look like Windows-1252.
            content.truncate(complete_end(&content));
        }
        let read = content.len();
        let decoded = decode_owned(content, charset.as_deref()).map_err(|e| Failure::Malformed(e.to_string()))?;
        if decoded.replaced > 0 {
            log(Level::Warn, &format!("{} invalid byte sequences replaced by U+FFFD", decoded.replaced));
        }
        // A form feed ends a page. It stays in the text as a line break, so that byte
        // offsets match and words on either side stay apart.
        let mut text = decoded.text;
        let mut pages = Vec::new();
        let mut start = 0;
        for i in memchr::memchr_iter(b'\x0C', text.as_bytes()) {
            pages.push(Page { start: offset(start), end: offset(i) });
            start = i + 1;
        }
        // Each page but the last ends at its form feed, which becomes a line feed in place
        // (one byte each).
        let feeds = pages.len();
        if feeds > 0 && start < text.len() {
            pages.push(Page { start: offset(start), end: offset(text.len()) });
        }
        for page in &pages[..feeds] {
            let at = page.end as usize;
            text.replace_range(at..=at, "\n");
        }
        let mut fields = vec![Field { name: "encoding".into(), value: decoded.encoding.label().into() }];
        if cut {
            fields.push(Field { name: "read-bytes".into(), value: format!("{read} of {size}") });
        }
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

#[cfg(test)]
mod tests {
    use super::{MAX_INPUT_BYTES, complete_end, cut_at, extract};

    #[test]
    fn a_file_given_cut_at_the_limit_loses_the_character_cut_short() {
        assert_eq!(complete_end("aü".as_bytes()), 3);
        assert_eq!(complete_end(&"aü".as_bytes()[..2]), 1);
        assert_eq!(complete_end(&"a€".as_bytes()[..3]), 1);
        assert_eq!(complete_end(&"a😀".as_bytes()[..4]), 1);
        assert_eq!(complete_end("a😀".as_bytes()), 5);
        assert_eq!(complete_end(b"abc\xFC"), 4, "Latin-1 is left alone");
        // At the limit, a cut ü is left out and the rest still reads as UTF-8.
        let mut content = vec![b'a'; MAX_INPUT_BYTES - 1];
        content.push("ü".as_bytes()[0]);
        let e = extract(content, "text/plain".into()).unwrap();
        assert_eq!(e.text.len(), MAX_INPUT_BYTES - 1);
        assert!(e.fields.iter().any(|f| f.name == "encoding" && f.value == "utf-8"), "still read as UTF-8");
    }

    #[test]
    fn form_feeds_end_pages_after_line_ends_are_normalised() {
        let e = extract(b"Seite 1\r\n\x0CSeite 2\x0C".to_vec(), "text/plain".into()).unwrap();
        assert_eq!(e.text, "Seite 1\n\nSeite 2\n");
        let pages: Vec<(u32, u32)> = e.pages.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(pages, [(0, 8), (9, 16)]);
        // Windows-1252 grows in decoding; the pages are offsets into the decoded text.
        let e = extract(b"Gr\xFC\xDFe\x0Cdanach".to_vec(), "text/plain".into()).unwrap();
        assert_eq!(e.text, "Grüße\ndanach");
        let pages: Vec<(u32, u32)> = e.pages.iter().map(|p| (p.start, p.end)).collect();
        assert_eq!(pages, [(0, 7), (8, 14)]);
    }

    #[test]
    fn a_large_file_is_cut_before_the_character_the_limit_falls_into() {
        let mut content = vec![b'a'; MAX_INPUT_BYTES - 1];
        content.extend_from_slice("ü und mehr".as_bytes());
        assert_eq!(cut_at(&content), MAX_INPUT_BYTES - 1);
        let e = extract(content, "text/plain".into()).unwrap();
        assert_eq!(e.text.len(), MAX_INPUT_BYTES - 1);
        assert!(e.fields.iter().any(|f| f.name == "encoding" && f.value == "utf-8"), "still read as UTF-8");
        assert!(e.fields.iter().any(|f| f.name == "read-bytes"));
        // A small file is read whole and not marked.
        let e = extract("Grüße".as_bytes().to_vec(), "text/plain".into()).unwrap();
        assert!(e.text == "Grüße" && !e.fields.iter().any(|f| f.name == "read-bytes"));
    }
}
