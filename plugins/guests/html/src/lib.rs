//! The built-in HTML extractor: visible text of an HTML document (tags stripped, entities
//! decoded, `script`/`style`/`template` skipped, block elements as line breaks), with the
//! title, `lang` and common `<meta>` values as fields.
//!
//! A hand-written, forgiving scanner in the spirit of the HTML standard's tokenizer: it
//! never fails on bad markup, runs in linear time and keeps no tree, so nesting depth costs
//! nothing.

mod entities;

use akte_guest_text::{Encoding, decode, media_type_param};

wit_bindgen::generate!({
    world: "extractor",
    path: "../../../wit",
});

use akte::plugin::log::Level;
pub use akte::plugin::types::{Failure, Field};
pub use exports::akte::plugin::extract::Extraction;
use exports::akte::plugin::extract::Guest;

struct Html;

impl Guest for Html {
    fn extract(content: Vec<u8>, media_type: String) -> Result<Extraction, Failure> {
        let declared = media_type_param(&media_type, "charset").or_else(|| sniff_meta_charset(&content));
        let decoded = match decode(&content, declared.as_deref()) {
            Ok(d) => d,
            // A wrong <meta charset> is common: fall back to the bytes themselves.
            Err(akte_guest_text::DecodeError::UnknownCharset(c)) => {
                log(Level::Warn, &format!("unknown charset `{c}`, decoding without it"));
                decode(&content, None).map_err(|e| Failure::Malformed(e.to_string()))?
            }
            Err(e) => return Err(Failure::Malformed(e.to_string())),
        };
        let page = scan(&decoded.text);
        let mut fields = vec![Field { name: "encoding".into(), value: decoded.encoding.label().into() }];
        if let Some(title) = page.title.filter(|t| !t.is_empty()) {
            fields.push(Field { name: "title".into(), value: title });
        }
        fields.extend(page.meta);
        Ok(Extraction { text: page.text, pages: Vec::new(), fields, language: page.lang })
    }
}

/// The extractor as a plain function: what the component's `extract` returns, callable
/// natively too (the sandbox-versus-native benchmark, `bench/plugins.sh`).
pub fn extract(content: Vec<u8>, media_type: String) -> Result<Extraction, Failure> {
    Html::extract(content, media_type)
}

/// Records a message in the host's log; natively there is no host and it is dropped.
fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    akte::plugin::log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

#[cfg(target_arch = "wasm32")]
export!(Html);

/// What the scanner found.
struct Page {
    text: String,
    title: Option<String>,
    lang: Option<String>,
    meta: Vec<Field>,
}

/// Elements whose content is not text to show.
const SKIPPED: &[&str] = &["script", "style", "template", "noembed", "svg", "math", "object", "iframe"];
/// Elements that start and end a line.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
    "option",
    "legend",
    "html",
];
/// Elements that leave an empty line around them.
const PARAGRAPHS: &[&str] = &["p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "ul", "ol", "dl"];

fn scan(html: &str) -> Page {
    let mut out = Text::default();
    let mut page = Page { text: String::new(), title: None, lang: None, meta: Vec::new() };
    let mut pre_depth = 0usize;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            out.push(&entities::decode(rest), pre_depth > 0);
            break;
        };
        out.push(&entities::decode(&rest[..lt]), pre_depth > 0);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |i| &after[i + 3..]);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            rest = rest.find('>').map_or("", |i| &rest[i + 1..]);
            continue;
        }
        let Some(tag) = Tag::parse(rest) else {
            out.push("<", pre_depth > 0);
            rest = &rest[1..];
            continue;
        };
        rest = &rest[tag.len..];
        let name = tag.name.as_str();
        if !tag.closing && (SKIPPED.contains(&name) || name == "title" || name == "textarea") {
            let (inner, after) = raw_text(rest, name);
            rest = after;
            if name == "title" && page.title.is_none() {
                page.title = Some(collapse(&entities::decode(inner)));
            } else if name == "textarea" {
                out.push(&entities::decode(inner), false);
            }
            continue;
        }
        match name {
            "br" => out.newline(),
            "td" | "th" if !tag.closing => out.separate(),
            "pre" | "listing" | "xmp" => {
                pre_depth = if tag.closing { pre_depth.saturating_sub(1) } else { pre_depth + 1 };
                out.block(true);
            }
            "html" if !tag.closing => {
                if let Some(lang) = tag.attr("lang").filter(|l| !l.is_empty()) {
                    page.lang = Some(lang);
                }
            }
            "meta" => {
                if let (Some(key), Some(value)) = (tag.attr("name"), tag.attr("content")) {
                    let key = key.to_ascii_lowercase();
                    if matches!(key.as_str(), "description" | "author" | "keywords" | "date" | "generator") {
                        page.meta.push(Field { name: key, value: collapse(&value) });
                    }
                }
            }
            "img" => {
                if let Some(alt) = tag.attr("alt").filter(|a| !a.trim().is_empty()) {
                    out.push(&alt, false);
                }
            }
            _ if BLOCKS.contains(&name) => out.block(PARAGRAPHS.contains(&name)),
            _ => {}
        }
    }
    page.text = out.finish();
    page
}

/// The content of a raw-text element up to its end tag, and what follows the end tag.
fn raw_text<'a>(rest: &'a str, name: &str) -> (&'a str, &'a str) {
    let bytes = rest.as_bytes();
    let mut from = 0;
    while let Some(i) = rest[from..].find("</") {
        let at = from + i;
        let candidate = &bytes[at + 2..];
        if candidate.len() >= name.len() && candidate[..name.len()].eq_ignore_ascii_case(name.as_bytes()) {
            let after_name = &rest[at + 2 + name.len()..];
            if after_name.starts_with(|c: char| c == '>' || c.is_ascii_whitespace() || c == '/') {
                let end = after_name.find('>').map_or(rest.len(), |j| at + 2 + name.len() + j + 1);
                return (&rest[..at], &rest[end..]);
            }
        }
        from = at + 2;
    }
    (rest, "")
}

/// A start or end tag.
struct Tag<'a> {
    name: String,
    closing: bool,
    attrs: &'a str,
    /// Bytes of input the tag spans, `<` to `>`.
    len: usize,
}

impl<'a> Tag<'a> {
    /// Parses a tag at the start of `s` (which starts with `<`); `None` if `<` starts no tag.
    fn parse(s: &'a str) -> Option<Tag<'a>> {
        let body = &s[1..];
        let (closing, body) = match body.strip_prefix('/') {
            Some(b) => (true, b),
            None => (false, body),
        };
        if !body.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return None;
        }
        let name_len = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':')).unwrap_or(body.len());
        let name = body[..name_len].to_ascii_lowercase();
        // Find the closing `>` outside quotes.
        let mut quote = None;
        let mut end = None;
        for (i, c) in body[name_len..].char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '>') => {
                    end = Some(name_len + i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.unwrap_or(body.len().saturating_sub(1).max(name_len));
        let attrs = body.get(name_len..end).unwrap_or("");
        let len = (s.len() - body.len()) + (end + 1).min(body.len());
        Some(Tag { name, closing, attrs, len })
    }

    /// The decoded value of attribute `name`, if present.
    fn attr(&self, name: &str) -> Option<String> {
        let mut rest = self.attrs;
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if rest.is_empty() {
                return None;
            }
            let key_len = rest.find(|c: char| c == '=' || c == '>' || c.is_ascii_whitespace()).unwrap_or(rest.len());
            // A `>` here is one the tag's end was not found at (after an unclosed quote the tag
            // runs to the end of the input): skip it, or this loop would never move on.
            if key_len == 0 && !rest.starts_with('=') {
                rest = &rest[1..];
                continue;
            }
            let key = &rest[..key_len];
            rest = rest[key_len..].trim_start();
            let value = if let Some(after) = rest.strip_prefix('=') {
                let after = after.trim_start();
                let (value, next) = match after.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        let inner = &after[1..];
                        let close = inner.find(q).unwrap_or(inner.len());
                        (&inner[..close], inner.get(close + 1..).unwrap_or(""))
                    }
                    _ => {
                        let stop = after.find(|c: char| c.is_ascii_whitespace()).unwrap_or(after.len());
                        (&after[..stop], &after[stop..])
                    }
                };
                rest = next;
                Some(value)
            } else {
                None
            };
            if key.eq_ignore_ascii_case(name) {
                return Some(entities::decode(value.unwrap_or("")).into_owned());
            }
        }
    }
}

/// Builds the output text: collapses white space, turns blocks into line breaks and keeps at
/// most one empty line in a row.
#[derive(Default)]
struct Text {
    out: String,
    /// A space is due before the next word.
    space: bool,
}

impl Text {
    fn push(&mut self, s: &str, preformatted: bool) {
        if preformatted {
            self.space = false;
            self.out.push_str(s);
            return;
        }
        for c in s.chars() {
            if c.is_whitespace() {
                self.space = true;
            } else {
                if self.space && !self.out.is_empty() && !self.out.ends_with('\n') {
                    self.out.push(' ');
                }
                self.space = false;
                self.out.push(c);
            }
        }
    }

    fn newline(&mut self) {
        self.trim_trailing_spaces();
        self.out.push('\n');
        self.space = false;
    }

    /// Ends the current line; with `paragraph`, leaves an empty line.
    fn block(&mut self, paragraph: bool) {
        self.trim_trailing_spaces();
        self.space = false;
        if self.out.is_empty() {
            return;
        }
        let want = if paragraph { "\n\n" } else { "\n" };
        while !self.out.ends_with(want) {
            if self.out.ends_with("\n\n") {
                break;
            }
            self.out.push('\n');
        }
    }

    /// Separates table cells by a space.
    fn separate(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.space = true;
        }
    }

    fn trim_trailing_spaces(&mut self) {
        let kept = self.out.trim_end_matches([' ', '\t']).len();
        self.out.truncate(kept);
    }

    fn finish(mut self) -> String {
        self.trim_trailing_spaces();
        let kept = self.out.trim_end().len();
        self.out.truncate(kept);
        self.out
    }
}

/// Collapses all white space to single spaces and trims.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Finds `<meta charset="…">` or `<meta http-equiv="content-type" content="…; charset=…">`
/// in the first 1024 bytes, as the HTML standard's prescan does.
fn sniff_meta_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(1024)];
    let head: String =
        head.iter().map(|&b| if b.is_ascii() { char::from(b.to_ascii_lowercase()) } else { ' ' }).collect();
    let at = head.find("charset")?;
    let rest = head[at + "charset".len()..].trim_start().strip_prefix('=')?.trim_start();
    let rest = rest.trim_start_matches(['"', '\'']);
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')).unwrap_or(rest.len());
    let label = &rest[..end];
    // Only labels we can decode count; an unknown one is ignored rather than fatal.
    Encoding::from_label(label).map(|_| label.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_tags_scripts_and_decodes_entities() {
        let p = scan(
            "<html lang=de><head><title>Bescheid &amp; Auflagen</title><style>p{}</style></head>\
             <body><h1>Gr&uuml;&szlig;e</h1><p>Stra&szlig;e&nbsp;7, &#8222;Zitat&#x201C;</p>\
             <script>var x = '<p>nein</p>';</script><ul><li>eins<li>zwei</ul></body></html>",
        );
        assert_eq!(p.title.as_deref(), Some("Bescheid & Auflagen"));
        assert_eq!(p.lang.as_deref(), Some("de"));
        assert_eq!(p.text, "Grüße\n\nStraße 7, „Zitat“\n\neins\nzwei");
    }

    #[test]
    fn odd_markup_does_not_break() {
        assert_eq!(scan("a < b and c<d").text, "a < b and c");
        assert_eq!(scan("x<!-- never closed").text, "x");
        assert_eq!(scan("<pre>  a\n  b</pre>after").text, "  a\n  b\n\nafter");
    }

    #[test]
    fn a_tag_with_an_unclosed_quote_ends() {
        // Found by plugins/guests/mutants: the `>` after `utf-8"` is inside the quote opened
        // last, so the tag runs to the end, and reading its attributes looped at that `>`.
        let html = "<html><head><meta charset=\"=\"=\"=\"utf-8\"><title>T</title></head><body>x</body>";
        // It ends (what the page's rest becomes is secondary: the tag swallows it).
        let p = scan(html);
        assert!(p.meta.is_empty());
        let tag = Tag::parse("<img alt=\"a>b\" x='>' title=\"t\">").unwrap();
        assert_eq!(tag.attr("title").as_deref(), Some("t"));
        assert_eq!(Tag::parse("<a b=\"c>d> e>").unwrap().attr("e"), None);
    }
}
