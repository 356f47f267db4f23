//! The built-in PDF extractor: the text of every page (one `page` per PDF page), the
//! document information as fields, and `pages-without-text`, the 1-based numbers of the
//! pages that carry no text layer (scans), which the ingest pipeline sends to OCR.
//!
//! The file structure (cross-reference tables and streams, object streams, filters, the
//! standard security handler with an empty user password, repair of damaged xref data) is
//! read by `lopdf` (MIT), which bounds the decompressed size of every stream and the depth
//! of reference chains. The text is read by this crate's own interpreter (`content.rs`,
//! fonts and encodings in `font.rs`), which never fails on a page: a page it cannot read
//! counts as a page without text.
//!
//! Fields: `title`, `author`, `subject`, `keywords`, `creator`, `producer`,
//! `creation-date` and `modification-date` (ISO 8601), `pdf-version`, `page-count`,
//! `pages-without-text` (e.g. `1,3`; empty when every page has text), and `truncated` =
//! `true` when the work or output budget ran out and the text is incomplete.

mod content;
mod font;

use std::collections::HashSet;

use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId, Stream};

use content::{Budget, FontCache, PageText};
use font::{resolve, text_string};

wit_bindgen::generate!({
    world: "extractor",
    path: "../../../wit",
});

use akte::plugin::log::Level;
pub use akte::plugin::types::{Failure, Field};
use exports::akte::plugin::extract::Guest;
pub use exports::akte::plugin::extract::{Extraction, Page};

/// The most any single stream may decompress to.
const MAX_STREAM: usize = 64 << 20;
/// The most text a document may produce (the manifest allows 64 MiB of output).
const MAX_TEXT: usize = 48 << 20;
/// The most content-stream tokens a document may cost.
const MAX_TOKENS: u64 = 60_000_000;
/// The most pages read; more are counted but not read.
const MAX_PAGES: usize = 100_000;
/// How deep the page tree may nest.
const MAX_TREE_DEPTH: usize = 64;

struct Pdf;

impl Guest for Pdf {
    fn extract(content: Vec<u8>, _media_type: String) -> Result<Extraction, Failure> {
        // lopdf quotes dictionary keys and names from the file, as long as the file.
        extract_unbounded(content).map_err(|f| akte_guest_text::bounded!(f, Failure))
    }
}

/// [`Guest::extract`] before its failures' messages are bounded.
fn extract_unbounded(content: Vec<u8>) -> Result<Extraction, Failure> {
    let head = &content[..content.len().min(1024)];
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(Failure::Malformed("not a PDF: the %PDF- header is missing".into()));
    }
    let options = LoadOptions { max_decompressed_size: Some(MAX_STREAM), ..LoadOptions::default() };
    let mut doc = Document::load_mem_with_options(&content, options)
        .map_err(|e| Failure::Malformed(format!("the PDF cannot be read: {e}")))?;
    drop(content);
    let mut fields = Vec::new();
    if doc.is_encrypted() {
        doc.decrypt("")
            .map_err(|_| Failure::Unsupported("the PDF is encrypted with a password and cannot be read".into()))?;
        field(&mut fields, "encrypted", "true".into());
    }
    read_document(&doc, fields)
}

fn read_document(doc: &Document, mut fields: Vec<Field>) -> Result<Extraction, Failure> {
    let catalog = match resolve(doc, doc.trailer.get(b"Root").ok()) {
        Some(Object::Dictionary(d)) => d,
        _ => return Err(Failure::Malformed("the PDF has no catalog (/Root)".into())),
    };
    let (pages, counted) = page_list(doc, catalog);
    if pages.is_empty() {
        return Err(Failure::Malformed("the PDF has no readable pages".into()));
    }
    info_fields(doc, &mut fields);
    field(&mut fields, "pdf-version", doc.version.clone());

    let mut budget = Budget { tokens: MAX_TOKENS, text: MAX_TEXT, exhausted: false };
    let mut fonts = FontCache::new();
    let mut text = String::new();
    let mut ranges = Vec::new();
    let mut without = Vec::new();
    for (number, (page, resources)) in pages.iter().enumerate() {
        if !text.is_empty() {
            text.push('\n');
        }
        let start = text.len();
        if !budget.exhausted {
            let mut run = PageText::new(doc, &mut fonts, &mut budget);
            for bytes in page_contents(doc, page) {
                run.run(&bytes, *resources, 0);
            }
            text.push_str(&run.finish());
        }
        if text[start..].trim().is_empty() {
            text.truncate(start);
            without.push((number + 1).to_string());
        }
        ranges.push(Page { start: offset(start), end: offset(text.len()) });
    }
    // Pages beyond what was read have no text either, as far as anyone can tell.
    without.extend((pages.len() + 1..=counted).map(|n| n.to_string()));
    field(&mut fields, "page-count", counted.to_string());
    field(&mut fields, "pages-without-text", without.join(","));
    if budget.exhausted || counted > pages.len() {
        log(Level::Warn, "budget exhausted: text truncated");
        field(&mut fields, "truncated", "true".into());
    }
    let language = match resolve(doc, catalog.get(b"Lang").ok()) {
        Some(Object::String(s, _)) => {
            Some(text_string(s).trim().to_string()).filter(|l| !l.is_empty() && l.len() <= 35)
        }
        _ => None,
    };
    Ok(Extraction { text, pages: ranges, fields, language })
}

/// The pages in order with their (possibly inherited) resources, and how many page
/// objects the tree holds (more than the list when [`MAX_PAGES`] cut it).
fn page_list<'a>(doc: &'a Document, catalog: &'a Dictionary) -> (Vec<(&'a Dictionary, Option<&'a Dictionary>)>, usize) {
    let mut out = Vec::new();
    let mut counted = 0usize;
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let Ok(root) = catalog.get(b"Pages") else { return (out, 0) };
    let mut stack: Vec<(&Object, Option<&Dictionary>, usize)> = vec![(root, None, 0)];
    while let Some((node, inherited, depth)) = stack.pop() {
        if let Object::Reference(id) = node
            && !seen.insert(*id)
        {
            log(Level::Warn, &format!("page tree visits object {} {} twice; skipped", id.0, id.1));
            continue;
        }
        let Some(Object::Dictionary(dict)) = resolve(doc, Some(node)) else { continue };
        let resources = match resolve(doc, dict.get(b"Resources").ok()) {
            Some(Object::Dictionary(r)) => Some(r),
            _ => inherited,
        };
        match resolve(doc, dict.get(b"Kids").ok()) {
            Some(Object::Array(kids)) => {
                if depth >= MAX_TREE_DEPTH {
                    log(Level::Warn, "page tree nests too deep; rest skipped");
                    continue;
                }
                for kid in kids.iter().rev() {
                    stack.push((kid, resources, depth + 1));
                }
            }
            _ => {
                counted += 1;
                if out.len() < MAX_PAGES {
                    out.push((dict, resources));
                }
            }
        }
    }
    (out, counted)
}

/// The decoded content streams of a page, in order.
fn page_contents(doc: &Document, page: &Dictionary) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    match resolve(doc, page.get(b"Contents").ok()) {
        Some(Object::Stream(s)) => out.extend(stream_bytes(s)),
        Some(Object::Array(parts)) => {
            for part in parts.iter().take(10_000) {
                if let Some(Object::Stream(s)) = resolve(doc, Some(part)) {
                    match stream_bytes(s) {
                        Some(mut b) => {
                            b.push(b'\n');
                            out.push(b);
                        }
                        None => log(Level::Warn, "a content stream could not be decoded"),
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// A stream's decoded bytes, or none when a filter fails or the output would pass
/// [`MAX_STREAM`].
pub(crate) fn stream_bytes(s: &Stream) -> Option<Vec<u8>> {
    if s.dict.get(b"Filter").is_err() {
        return Some(s.content.clone());
    }
    match s.decompressed_content_with_limit(MAX_STREAM) {
        Ok(b) => Some(b),
        Err(e) => {
            log(Level::Warn, &format!("stream not decoded: {e}"));
            None
        }
    }
}

fn info_fields(doc: &Document, fields: &mut Vec<Field>) {
    let Some(Object::Dictionary(info)) = resolve(doc, doc.trailer.get(b"Info").ok()) else { return };
    const KEYS: [(&[u8], &str); 8] = [
        (b"Title", "title"),
        (b"Author", "author"),
        (b"Subject", "subject"),
        (b"Keywords", "keywords"),
        (b"Creator", "creator"),
        (b"Producer", "producer"),
        (b"CreationDate", "creation-date"),
        (b"ModDate", "modification-date"),
    ];
    for (key, name) in KEYS {
        let Some(Object::String(raw, _)) = resolve(doc, info.get(key).ok()) else { continue };
        let value = text_string(raw);
        let value = if name.ends_with("-date") { pdf_date(&value) } else { value.trim().to_string() };
        if !value.is_empty() {
            field(fields, name, value.chars().take(4096).collect());
        }
    }
}

/// `D:20260203090000+01'00'` → `2026-02-03T09:00:00+01:00`; as much as the string holds.
fn pdf_date(raw: &str) -> String {
    let s = raw.trim().trim_start_matches("D:");
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return raw.trim().to_string();
    }
    let part = |a: usize, b: usize, default: &'static str| digits.get(a..b).unwrap_or(default).to_string();
    let date = format!("{}-{}-{}", &digits[..4], part(4, 6, "01"), part(6, 8, "01"));
    if digits.len() < 10 {
        return date;
    }
    let time = format!("{}:{}:{}", part(8, 10, "00"), part(10, 12, "00"), part(12, 14, "00"));
    let rest = &s[digits.len()..];
    let zone = match rest.chars().next() {
        Some('Z') => "Z".to_string(),
        Some(sign @ ('+' | '-')) => {
            let z: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
            match z.len() {
                n if n >= 4 => format!("{sign}{}:{}", &z[..2], &z[2..4]),
                2 => format!("{sign}{z}:00"),
                _ => String::new(),
            }
        }
        _ => String::new(),
    };
    format!("{date}T{time}{zone}")
}

fn field(fields: &mut Vec<Field>, name: &str, value: String) {
    fields.push(Field { name: name.into(), value });
}

/// Converts a byte offset; text is bounded by [`MAX_TEXT`].
fn offset(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The extractor as a plain function: what the component's `extract` returns, callable
/// natively too (the sandbox-versus-native benchmark, `bench/plugins.sh`).
pub fn extract(content: Vec<u8>, media_type: String) -> Result<Extraction, Failure> {
    Pdf::extract(content, media_type)
}

/// Records a message in the host's log; natively there is no host and it is dropped.
fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    akte::plugin::log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

#[cfg(target_arch = "wasm32")]
export!(Pdf);
