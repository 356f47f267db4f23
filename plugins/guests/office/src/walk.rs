//! The one XML event loop every format shares: a `quick-xml` reader over a bounded, inflated
//! part (parsed in place), with DTDs refused, entity references resolved only for the five predefined
//! entities and character references, and nesting depth capped.
//!
//! Nothing here recurses: elements are tracked by a depth counter, so a hostile nesting of a
//! million elements ends in a `Failure`, never in a stack overflow.

use std::borrow::Cow;
use std::cell::Cell;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use crate::akte::plugin::types::Failure;
use akte_guest_text::clip;

/// Deepest element nesting accepted; office documents stay far below (nested tables ~50).
pub const MAX_DEPTH: usize = 1024;

/// What a handler sees: element starts (empty elements arrive as start + end), ends (local
/// name) and character data (text, CDATA and resolved references).
pub enum Ev<'a> {
    /// An element starts; use [`local`] and [`attr`] on it.
    Start(&'a BytesStart<'a>),
    /// An element ends; its local name.
    End(&'a [u8]),
    /// Character data.
    Text(&'a str),
}

/// Whether the walk goes on.
#[derive(PartialEq, Eq)]
pub enum Flow {
    /// Read the next event.
    Go,
    /// Stop reading (output full, or the handler has what it needs).
    Stop,
}

/// The local name (without prefix) of an element.
pub fn local<'a>(e: &'a BytesStart<'_>) -> &'a [u8] {
    let name = e.name().into_inner();
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The value of the attribute whose local name is `name`, unescaped where possible.
pub fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    attr_cow(e, name).map(Cow::into_owned)
}

/// [`attr`] without the copy where the value needs no unescaping or normalisation.
///
/// Plain `key="value"` lists, the usual case, are scanned here; at the first thing that is
/// not plain (a reference or line break in the wanted value, no quotes, blanks around `=`,
/// invalid UTF-8) the question goes to `quick-xml`'s attribute reader, as before, so the
/// answer is the same either way.
pub fn attr_cow<'a>(e: &'a BytesStart<'_>, name: &[u8]) -> Option<Cow<'a, str>> {
    match plain_attr(e.attributes_raw(), name) {
        Plain::Found(value) => Some(Cow::Borrowed(value)),
        Plain::Absent => None,
        Plain::Unsure => attr_slow(e, name),
    }
}

/// What [`plain_attr`] found.
enum Plain<'a> {
    Found(&'a str),
    Absent,
    Unsure,
}

/// Looks for `name` in a plain attribute list (`key="value"` or `key='value'` pairs).
fn plain_attr<'a>(raw: &'a [u8], name: &[u8]) -> Plain<'a> {
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let mut i = 0;
    loop {
        while i < raw.len() && blank(raw[i]) {
            i += 1;
        }
        if i == raw.len() {
            return Plain::Absent;
        }
        let key_start = i;
        while i < raw.len() && raw[i] != b'=' && !blank(raw[i]) {
            i += 1;
        }
        if i + 1 >= raw.len() || raw[i] != b'=' {
            return Plain::Unsure;
        }
        let key = &raw[key_start..i];
        let quote = raw[i + 1];
        if quote != b'"' && quote != b'\'' {
            return Plain::Unsure;
        }
        let value_start = i + 2;
        let Some(len) = memchr::memchr(quote, &raw[value_start..]) else { return Plain::Unsure };
        let value = &raw[value_start..value_start + len];
        i = value_start + len + 1;
        // The local name as `quick-xml` takes it: after the first `:`.
        let local = match memchr::memchr(b':', key) {
            Some(c) => &key[c + 1..],
            None => key,
        };
        if local == name {
            if value.iter().any(|&b| matches!(b, b'&' | b'\t' | b'\r' | b'\n')) {
                return Plain::Unsure;
            }
            return match std::str::from_utf8(value) {
                Ok(v) => Plain::Found(v),
                Err(_) => Plain::Unsure,
            };
        }
    }
}

/// The attribute through `quick-xml`'s reader: references resolved, blanks normalised.
fn attr_slow<'a>(e: &'a BytesStart<'_>, name: &[u8]) -> Option<Cow<'a, str>> {
    for a in e.attributes().with_checks(false).flatten() {
        if a.key.local_name().as_ref() == name {
            return Some(match a.normalized_value(quick_xml::XmlVersion::default()) {
                Ok(v) => Cow::Owned(v.into_owned()),
                Err(_) => Cow::Owned(String::from_utf8_lossy(&a.value).into_owned()),
            });
        }
    }
    None
}

/// Streams the XML in `source` through `handler`. `part` names the source in failures;
/// `allow_doctype` admits a DOCTYPE without entity declarations (plain XML); a DOCTYPE that
/// declares entities is always refused, so no custom entity is ever expanded.
pub fn walk(
    source: &[u8],
    part: &str,
    allow_doctype: bool,
    handler: &mut impl FnMut(Ev<'_>) -> Flow,
) -> Result<(), Failure> {
    // Parsed in place: the events borrow from `source`, nothing is copied per event.
    let mut reader = Reader::from_reader(source);
    let config = reader.config_mut();
    // Empty elements come as `Event::Empty` and are handed on as a start and an end
    // here: the reader's own expansion copies each one's name into a fresh allocation.
    config.expand_empty_elements = false;
    config.check_end_names = true;
    config.trim_text(false);
    // The part is checked as UTF-8 once, with SIMD; each piece of character data is then
    // cut out of it as `str` by position, without a check of its own.
    let whole = simdutf8::basic::from_utf8(source).ok();
    let mut depth = 0usize;
    let malformed = |what: String| Failure::Malformed(format!("{part}: {what}"));
    loop {
        let event = reader.read_event().map_err(|e| match e {
            quick_xml::Error::Io(io) => Failure::Other(format!("{part}: {io}")),
            other => {
                malformed(format!("invalid XML at byte {}: {}", reader.error_position(), clip(other.to_string(), 200)))
            }
        })?;
        let flow = match &event {
            Event::Start(e) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(malformed(format!("elements nested deeper than {MAX_DEPTH}")));
                }
                handler(Ev::Start(e))
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                handler(Ev::End(e.local_name().into_inner()))
            }
            Event::Empty(e) => {
                if depth + 1 > MAX_DEPTH {
                    return Err(malformed(format!("elements nested deeper than {MAX_DEPTH}")));
                }
                match handler(Ev::Start(e)) {
                    Flow::Go => handler(Ev::End(e.local_name().into_inner())),
                    Flow::Stop => Flow::Stop,
                }
            }
            Event::Text(t) => {
                let s = text_of(whole, source, t)
                    .map_or_else(|| t.decode(), Ok)
                    .map_err(|e| malformed(format!("not UTF-8: {e}")))?;
                let s = if memchr::memchr(b'\r', s.as_bytes()).is_some() {
                    Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
                } else {
                    s
                };
                handler(Ev::Text(&s))
            }
            Event::CData(t) => {
                let s = text_of(whole, source, t)
                    .map_or_else(|| t.decode(), Ok)
                    .map_err(|e| malformed(format!("not UTF-8: {e}")))?;
                handler(Ev::Text(&s))
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| malformed(format!("not UTF-8: {e}")))?;
                if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => handler(Ev::Text(c.encode_utf8(&mut [0; 4]))),
                        _ => return Err(malformed(clip(format!("invalid character reference &{name};"), 200))),
                    }
                } else if let Some(s) = resolve_predefined_entity(&name) {
                    handler(Ev::Text(s))
                } else {
                    // Never expanded: without a DTD (refused above) no entity can be defined.
                    handler(Ev::Text(&format!("&{name};")))
                }
            }
            Event::DocType(d) => {
                let dtd = String::from_utf8_lossy(d.as_ref());
                if dtd.contains("<!ENTITY") || dtd.contains("ENTITY ") {
                    return Err(Failure::Unsupported(format!(
                        "{part}: the document type declaration defines entities; \
                         they are not expanded, for safety (billion laughs, external entities)"
                    )));
                }
                if !allow_doctype {
                    return Err(Failure::Unsupported(format!("{part}: office XML must not carry a DTD")));
                }
                Flow::Go
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => Flow::Go,
            Event::Eof => break,
        };
        if flow == Flow::Stop {
            break;
        }
    }
    Ok(())
}

/// Character data as text, cut out of the part checked whole (`whole`, the text of
/// `source`) where `piece` lies in `source`, as the reader's events over a byte slice do.
/// `None` otherwise (the part is not UTF-8, or the piece was copied), and `quick-xml`
/// decodes and words any error, as before. In WebAssembly the standard library checks
/// UTF-8 four bytes at a time; checking every piece of character data that way took a
/// tenth of an ODT's extraction in the sandbox.
fn text_of<'s>(whole: Option<&'s str>, source: &[u8], piece: &[u8]) -> Option<Cow<'s, str>> {
    let start = (piece.as_ptr() as usize).checked_sub(source.as_ptr() as usize)?;
    let end = start.checked_add(piece.len())?;
    whole?.get(start..end).map(Cow::Borrowed)
}

/// Decompressed bytes a document may yield in total, across all parts read.
pub struct Budget {
    /// Bytes still allowed.
    pub left: Cell<u64>,
}

impl Budget {
    /// A budget of `total` bytes.
    pub fn new(total: u64) -> Budget {
        Budget { left: Cell::new(total) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_quotes_at_most_a_short_piece_of_the_part() {
        let xml = format!("<w:p><w:t>Text</w:{}></w:p>", "x".repeat(65_536));
        let Err(Failure::Malformed(message)) = walk(xml.as_bytes(), "word/document.xml", false, &mut |_| Flow::Go)
        else {
            panic!("a mismatched end tag is malformed XML")
        };
        assert!(message.starts_with("word/document.xml: invalid XML at byte "), "{message}");
        assert!(message.contains("expected `</w:t>`"), "{message}");
        assert!(message.len() < 300 && message.ends_with('…'), "{} bytes: {message}", message.len());
        let reference = format!("<a>&#{};</a>", "9".repeat(10_000));
        let Err(Failure::Malformed(message)) = walk(reference.as_bytes(), "content.xml", false, &mut |_| Flow::Go)
        else {
            panic!("an out-of-range character reference is malformed")
        };
        assert!(message.len() < 300, "{} bytes: {message}", message.len());
    }
}
