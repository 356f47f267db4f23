//! Plain XML (`application/xml`, `text/xml`, `…+xml`): the character data of all elements,
//! without markup, comments or processing instructions; attributes are left out.
//!
//! Whitespace-only text between elements (indentation) becomes a line break, an element
//! boundary a space where there is none, so `<a>x</a><b>y</b>` reads "x y". The encoding is
//! taken from a byte order mark, the media type's `charset` or the XML declaration (UTF-8,
//! UTF-16, Windows-1252/ISO-8859-1, ISO-8859-15). A DOCTYPE without entity declarations is
//! ignored; one that declares entities is refused, so a billion-laughs file ends in a
//! `Failure` at once and nothing but the predefined entities is ever expanded.

use akte_guest_text::decode;

use crate::akte::plugin::log::Level;
use crate::akte::plugin::types::{Failure, Field};
use crate::log;
use crate::walk::{Ev, Flow, attr, local, walk};
use crate::writer::Writer;

/// What comes before the next text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Gap {
    None,
    Space,
    Line,
}

/// Extracts the character data of an XML document.
pub fn extract(content: &[u8], charset: Option<&str>) -> Result<(Writer, Vec<Field>, Option<String>), Failure> {
    let declared = charset.map(str::to_string).or_else(|| declared_encoding(content));
    let decoded = decode(content, declared.as_deref()).map_err(|e| Failure::Malformed(e.to_string()))?;
    if decoded.replaced > 0 {
        log(Level::Warn, &format!("{} invalid byte sequences replaced by U+FFFD", decoded.replaced));
    }
    // The declaration may name an encoding the text no longer has: the reader ignores it.
    let text = decoded.text;
    let mut writer = Writer::new(crate::TEXT_CAP);
    let mut gap = Gap::None;
    let mut root: Option<String> = None;
    let mut language: Option<String> = None;
    walk(text.as_bytes(), "XML", true, &mut |ev| {
        match ev {
            Ev::Start(e) => {
                if root.is_none() {
                    root = Some(String::from_utf8_lossy(local(e)).into_owned());
                    language = attr(e, b"lang").filter(|l| !l.trim().is_empty());
                }
                gap = gap.max_with(Gap::Space);
            }
            Ev::End(_) => gap = gap.max_with(Gap::Space),
            Ev::Text(t) => {
                if t.trim().is_empty() {
                    if t.contains('\n') {
                        gap = Gap::Line;
                    } else if !t.is_empty() {
                        gap = gap.max_with(Gap::Space);
                    }
                    return Flow::Go;
                }
                match gap {
                    Gap::Line => writer.paragraph_end(),
                    Gap::Space if !t.starts_with(char::is_whitespace) && !writer.ends_in_space() => writer.text(" "),
                    _ => {}
                }
                gap = Gap::None;
                let mut lines = t.split('\n').peekable();
                while let Some(line) = lines.next() {
                    // Indentation at the start of a line goes; trailing blanks go with the line.
                    writer.text(if writer.ends_in_space() { line.trim_start() } else { line });
                    if lines.peek().is_some() {
                        writer.paragraph_end();
                    }
                }
            }
        }
        if writer.full() { Flow::Stop } else { Flow::Go }
    })?;
    let Some(root) = root else {
        return Err(Failure::Malformed("XML without a root element".into()));
    };
    let fields = vec![
        Field { name: "format".into(), value: "xml".into() },
        Field { name: "root-element".into(), value: root },
        Field { name: "encoding".into(), value: decoded.encoding.label().into() },
    ];
    Ok((writer, fields, language))
}

impl Gap {
    fn max_with(self, other: Gap) -> Gap {
        let rank = |g: Gap| match g {
            Gap::None => 0,
            Gap::Space => 1,
            Gap::Line => 2,
        };
        if rank(other) > rank(self) { other } else { self }
    }
}

/// The `encoding` of an XML declaration at the very start of `content` (ASCII-compatible
/// encodings only; UTF-16 comes with a byte order mark).
fn declared_encoding(content: &[u8]) -> Option<String> {
    let head = content.get(..content.len().min(256))?;
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..].trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_string())
}
