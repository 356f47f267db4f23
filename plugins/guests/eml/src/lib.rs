//! The built-in e-mail extractor (RFC 5322, `message/rfc822`): the message body as text,
//! the main headers as fields, the attachments listed, and text attachments as pages.
//!
//! Parsing (MIME structure, RFC 2047 encoded words, quoted-printable and base64, charsets)
//! is done by `mail-parser` (Apache-2.0 OR MIT). The body is the `text/plain` part(s); a
//! message with only an HTML body gets its HTML as text with the tags stripped.
//!
//! Pages: the first is the body; each `text/plain` attachment follows as a page of its own.
//! Fields: `subject`, `from`, `to`, `cc`, `date` (ISO 8601), `message-id`, one
//! `attachment` per attachment (`name; media type; size in bytes`), `attachment-count`,
//! and `truncated` = `true` when the text hit the output budget.

use mail_parser::{Address, Message, MessageParser, MessagePart, MimeHeaders, PartType};

wit_bindgen::generate!({
    world: "extractor",
    path: "../../../wit",
});

use akte::plugin::log::Level;
pub use akte::plugin::types::{Failure, Field};
use exports::akte::plugin::extract::Guest;
pub use exports::akte::plugin::extract::{Extraction, Page};

/// The most text a message may produce (the manifest allows 64 MiB of output).
const MAX_TEXT: usize = 48 << 20;
/// The most attachments listed; more are counted.
const MAX_LISTED: usize = 200;

struct Eml;

impl Guest for Eml {
    fn extract(content: Vec<u8>, _media_type: String) -> Result<Extraction, Failure> {
        if !looks_like_mail(&content) {
            return Err(Failure::Malformed("not an e-mail: no header lines found".into()));
        }
        let message = MessageParser::default()
            .parse(&content)
            .ok_or_else(|| Failure::Malformed("the e-mail cannot be parsed".into()))?;
        Ok(read_message(&message))
    }
}

/// Whether the bytes start with something like a header field (`Name: value`).
fn looks_like_mail(b: &[u8]) -> bool {
    let head = &b[..b.len().min(4096)];
    let line = head.split(|&c| c == b'\n').find(|l| !l.iter().all(u8::is_ascii_whitespace)).unwrap_or(&[]);
    let line = line.strip_prefix(b"From ").map_or(line, |_| b"Mbox: x".as_slice());
    match line.iter().position(|&c| c == b':') {
        Some(n) if n > 0 => line[..n].iter().all(|&c| c.is_ascii_graphic() && c != b':'),
        _ => false,
    }
}

fn read_message(message: &Message<'_>) -> Extraction {
    let mut fields = Vec::new();
    let mut field = |name: &str, value: String| {
        let value = value.trim().to_string();
        if !value.is_empty() {
            fields.push(Field { name: name.into(), value: value.chars().take(4096).collect() });
        }
    };
    field("subject", message.subject().unwrap_or_default().to_string());
    field("from", addresses(message.from()));
    field("to", addresses(message.to()));
    field("cc", addresses(message.cc()));
    if let Some(date) = message.date() {
        field("date", date.to_rfc3339());
    }
    field("message-id", message.message_id().unwrap_or_default().to_string());

    let mut out = Text { text: String::new(), pages: Vec::new(), truncated: false };
    let body: Vec<String> = (0..message.text_body_count())
        .filter_map(|i| {
            let html = message.text_part(i as u32).is_some_and(MessagePart::is_text_html);
            let text = message.body_text(i)?;
            Some(if html { entities(&text) } else { text.into_owned() })
        })
        .collect();
    // Room for the body and the text attachments at once: growing by doubling copies the
    // text each time, a real copy in WebAssembly (natively `realloc` can remap pages).
    let attached: usize = message
        .attachments()
        .filter_map(|part| match &part.body {
            PartType::Text(text) if media_type(part) == "text/plain" => Some(text.len() + 1),
            _ => None,
        })
        .sum();
    let bodies: usize = body.iter().map(|b| b.len() + 1).sum();
    out.text.reserve(bodies.saturating_add(attached).min(MAX_TEXT));
    out.page(&body.join("\n"));

    let mut count = 0usize;
    for part in message.attachments() {
        if matches!(part.body, PartType::Multipart(_)) {
            continue;
        }
        count += 1;
        let media = media_type(part);
        if count <= MAX_LISTED {
            let name = part.attachment_name().unwrap_or("(ohne Namen)").replace(';', ",");
            field("attachment", format!("{name}; {media}; {}", part.len()));
        }
        if media == "text/plain"
            && let PartType::Text(text) = &part.body
        {
            out.page(text);
        }
    }
    if count > MAX_LISTED {
        log(Level::Warn, &format!("{count} attachments, {MAX_LISTED} listed"));
    }
    field("attachment-count", count.to_string());
    if out.truncated {
        log(Level::Warn, "text truncated at the output budget");
        field("truncated", "true".into());
    }
    let language = message.root_part().content_language().as_text().map(str::to_string);
    Extraction { text: out.text, pages: out.pages, fields, language }
}

/// The text and its pages, within [`MAX_TEXT`].
struct Text {
    text: String,
    pages: Vec<Page>,
    truncated: bool,
}

impl Text {
    fn page(&mut self, raw: &str) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        let start = self.text.len();
        // Normalised straight into the text, then cut to the room there was.
        normalise_into(raw, &mut self.text);
        let room = MAX_TEXT.saturating_sub(start);
        if self.text.len() - start > room {
            let mut cut = start + room;
            while !self.text.is_char_boundary(cut) {
                cut -= 1;
            }
            self.text.truncate(cut);
            self.truncated = true;
        }
        self.pages.push(Page { start: offset(start), end: offset(self.text.len()) });
    }
}

/// Decodes the character references that `mail-parser`'s HTML-to-text conversion leaves:
/// numeric ones and the named ones of German text.
fn entities(s: &str) -> String {
    const NAMED: [(&str, &str); 24] = [
        ("amp", "&"),
        ("lt", "<"),
        ("gt", ">"),
        ("quot", "\""),
        ("apos", "'"),
        ("nbsp", " "),
        ("auml", "ä"),
        ("ouml", "ö"),
        ("uuml", "ü"),
        ("Auml", "Ä"),
        ("Ouml", "Ö"),
        ("Uuml", "Ü"),
        ("szlig", "ß"),
        ("sect", "§"),
        ("euro", "€"),
        ("bdquo", "„"),
        ("ldquo", "“"),
        ("rdquo", "”"),
        ("sbquo", "‚"),
        ("lsquo", "‘"),
        ("ndash", "–"),
        ("mdash", "—"),
        ("laquo", "«"),
        ("raquo", "»"),
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest[1..].find(|c: char| !c.is_ascii_alphanumeric() && c != '#').map(|e| e + 1);
        let decoded = end.filter(|&e| rest[e..].starts_with(';')).and_then(|e| {
            let name = &rest[1..e];
            let text = if let Some(num) = name.strip_prefix('#') {
                let n = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok(),
                    None => num.parse().ok(),
                };
                n.and_then(char::from_u32).map(String::from)
            } else {
                NAMED.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_string())
            };
            text.map(|t| (t, e + 1))
        });
        match decoded {
            Some((t, len)) => {
                out.push_str(&t);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Appends `s` to `out` with line breaks as `\n` and no trailing blanks on lines or at the
/// end (what `str::lines` and `str::trim_end` make of it). Lines that need no change are
/// copied in runs, not one by one.
fn normalise_into(s: &str, out: &mut String) {
    let start = out.len();
    out.reserve(s.len());
    let bytes = s.as_bytes();
    // The part of `s` not yet copied.
    let mut run = 0;
    let mut line = 0;
    for nl in memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len())) {
        let end = line + trim_end(&s[line..nl]).len();
        if end < nl || nl == bytes.len() {
            out.push_str(&s[run..end]);
            if nl < bytes.len() {
                out.push('\n');
            }
            run = nl + 1;
        }
        line = nl + 1;
    }
    let kept = start + trim_end(&out[start..]).len();
    out.truncate(kept);
}

/// `str::trim_end`, without its work for a line that ends in a visible ASCII character.
fn trim_end(s: &str) -> &str {
    match s.as_bytes().last() {
        Some(&b) if b.is_ascii() && !matches!(b, b' ' | b'\t'..=b'\r') => s,
        _ => s.trim_end(),
    }
}

fn media_type(part: &MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
        None if part.is_message() => "message/rfc822".into(),
        None => "text/plain".into(),
    }
}

/// `Name <address>, …`, groups flattened.
fn addresses(a: Option<&Address<'_>>) -> String {
    let Some(a) = a else { return String::new() };
    a.iter()
        .map(|addr| match (addr.name(), addr.address()) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (None, Some(e)) => e.to_string(),
            (Some(n), None) => n.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Converts a byte offset; text is bounded by [`MAX_TEXT`].
fn offset(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The extractor as a plain function: what the component's `extract` returns, callable
/// natively too (the sandbox-versus-native benchmark, `bench/plugins.sh`).
pub fn extract(content: Vec<u8>, media_type: String) -> Result<Extraction, Failure> {
    Eml::extract(content, media_type)
}

/// Records a message in the host's log; natively there is no host and it is dropped.
fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    akte::plugin::log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

#[cfg(target_arch = "wasm32")]
export!(Eml);
