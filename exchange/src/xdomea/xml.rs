//! XML in both directions, kept small on purpose: a writer that escapes everything it is
//! given, and a reader that builds a bounded element tree and refuses every DTD.
//!
//! The reader never expands an entity: a `<!DOCTYPE …>` (the only place where entities,
//! internal or external, can be declared) refuses the whole message, and a reference to
//! anything but the five predefined entities or a character reference is an error. So
//! neither entity expansion ("billion laughs") nor external entities can happen.

use quick_xml::events::Event;

/// The namespace of xdomea 3.0.0.
pub const NS: &str = "urn:xoev-de:xdomea:schema:3.0.0";
/// The namespace of our extension element (inside `AnwendungsspezifischeErweiterungXML`).
pub const AKTE_NS: &str = "urn:akte:xdomea:1";
/// The deepest element nesting the reader accepts.
const MAX_DEPTH: usize = 512;

/// Appends `text` to `out`, escaped for element content and attribute values. Characters
/// XML 1.0 cannot carry (control characters other than tab and line feed, U+FFFE, U+FFFF)
/// become U+FFFD; a carriage return is written as a character reference so that it
/// survives end-of-line normalisation.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// What a text becomes after a trip through [`escape_into`] and a parser: the same text
/// with the characters XML cannot carry replaced.
pub fn xml_safe(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// An indenting writer of xdomea elements (all in the `xdomea:` prefix).
pub struct Writer {
    out: String,
    depth: usize,
}

impl Writer {
    /// Starts a document with the root element `name` in the xdomea namespace.
    pub fn new(root: &str) -> Writer {
        let mut w = Writer { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), depth: 0 };
        w.out.push_str(&format!("<xdomea:{root} xmlns:xdomea=\"{NS}\">\n"));
        w.depth = 1;
        w
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    /// Opens `xdomea:name`.
    pub fn open(&mut self, name: &str) {
        self.indent();
        self.out.push_str(&format!("<xdomea:{name}>\n"));
        self.depth += 1;
    }

    /// Closes `xdomea:name`.
    pub fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.out.push_str(&format!("</xdomea:{name}>\n"));
    }

    /// Writes `<xdomea:name>text</xdomea:name>`.
    pub fn text(&mut self, name: &str, text: &str) {
        self.indent();
        self.out.push_str(&format!("<xdomea:{name}>"));
        escape_into(&mut self.out, text);
        self.out.push_str(&format!("</xdomea:{name}>\n"));
    }

    /// Writes the element if there is a text.
    pub fn opt(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.text(name, t);
        }
    }

    /// Writes a code of an XÖV code list: `<xdomea:name listURI=… listVersionID=…><code>…`.
    pub fn code(&mut self, name: &str, list_uri: &str, version: &str, code: &str) {
        self.indent();
        self.out.push_str(&format!(
            "<xdomea:{name} listURI=\"{list_uri}\" listVersionID=\"{version}\"><code>{code}</code></xdomea:{name}>\n"
        ));
    }

    /// Writes our extension: `AnwendungsspezifischeErweiterungXML` holding one
    /// `akte:Objekt` element in our own namespace, whose text is JSON.
    pub fn extension(&mut self, json: &str) {
        self.open("AnwendungsspezifischeErweiterungXML");
        self.indent();
        self.out.push_str(&format!("<akte:Objekt xmlns:akte=\"{AKTE_NS}\">"));
        escape_into(&mut self.out, json);
        self.out.push_str("</akte:Objekt>\n");
        self.close("AnwendungsspezifischeErweiterungXML");
    }

    /// Closes the root and returns the document.
    pub fn finish(mut self, root: &str) -> String {
        self.depth = 0;
        self.out.push_str(&format!("</xdomea:{root}>\n"));
        self.out
    }
}

/// One element of a parsed message: local name, namespace prefix, text, children.
#[derive(Clone, Debug, Default)]
pub struct El {
    /// Local name (without prefix).
    pub name: String,
    /// The prefix as written (empty for none).
    pub prefix: String,
    /// Namespace declarations on this element: prefix (empty for the default) → URI.
    pub ns: Vec<(String, String)>,
    /// The text directly inside (only kept for elements without children).
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<El>,
}

impl El {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children called `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The element at a path of child names.
    pub fn at(&self, path: &[&str]) -> Option<&El> {
        let mut el = self;
        for p in path {
            el = el.child(p)?;
        }
        Some(el)
    }

    /// The text at a path of child names, if it is present and not blank.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path).map(|e| e.text.as_str()).filter(|t| !t.trim().is_empty())
    }

    /// The namespace URI a prefix stands for on this element, if declared here.
    pub fn namespace_of(&self, prefix: &str) -> Option<&str> {
        self.ns.iter().find(|(p, _)| p == prefix).map(|(_, u)| u.as_str())
    }
}

fn split_name(raw: &[u8]) -> Result<(String, String), String> {
    let s = std::str::from_utf8(raw).map_err(|_| "an element name is not UTF-8".to_string())?;
    Ok(match s.split_once(':') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (String::new(), s.to_string()),
    })
}

fn start(e: &quick_xml::events::BytesStart) -> Result<El, String> {
    let (prefix, name) = split_name(e.name().as_ref())?;
    let mut ns = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("bad attribute: {}", crate::foreign(e)))?;
        let key = std::str::from_utf8(a.key.as_ref()).map_err(|_| "an attribute name is not UTF-8")?;
        let declared = match key {
            "xmlns" => Some(String::new()),
            k => k.strip_prefix("xmlns:").map(str::to_string),
        };
        if let Some(p) = declared {
            let uri = std::str::from_utf8(&a.value).map_err(|_| "a namespace is not UTF-8")?;
            ns.push((p, uri.to_string()));
        }
    }
    Ok(El { name, prefix, ns, ..Default::default() })
}

/// Parses a message. Refuses a DOCTYPE, entities other than the predefined ones,
/// encodings other than UTF-8, nesting deeper than 512 levels and anything not
/// well-formed.
pub fn parse(bytes: &[u8]) -> Result<El, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the message is not UTF-8".to_string())?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<El> = Vec::new();
    let mut root: Option<El> = None;
    let push_text = |stack: &mut Vec<El>, t: &str| {
        if let Some(top) = stack.last_mut() {
            top.text.push_str(t);
        }
    };
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("not well-formed XML at byte {}: {}", reader.buffer_position(), crate::foreign(e)))?;
        match ev {
            Event::DocType(_) => {
                return Err("the message has a DOCTYPE; DTDs and entity declarations are refused".into());
            }
            Event::Decl(d) => {
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|e| format!("bad XML declaration: {}", crate::foreign(e)))?;
                    if !enc.eq_ignore_ascii_case(b"utf-8") {
                        return Err(format!(
                            "the message declares the encoding {}; only UTF-8 is read",
                            String::from_utf8_lossy(&enc)
                        ));
                    }
                }
            }
            Event::Start(e) => {
                if root.is_some() {
                    return Err("the message has more than one root element".into());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements are nested deeper than {MAX_DEPTH} levels"));
                }
                stack.push(start(&e)?);
            }
            Event::Empty(e) => {
                let el = start(&e)?;
                match stack.last_mut() {
                    Some(top) => top.children.push(el),
                    None if root.is_none() => root = Some(el),
                    None => return Err("the message has more than one root element".into()),
                }
            }
            Event::End(_) => {
                let mut el = stack.pop().ok_or("an end tag without a start tag")?;
                if !el.children.is_empty() {
                    el.text.clear();
                }
                match stack.last_mut() {
                    Some(top) => top.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                let t = t.xml10_content().map_err(|e| format!("bad text: {}", crate::foreign(e)))?;
                if stack.is_empty() {
                    if !t.trim().is_empty() {
                        return Err("text outside the root element".into());
                    }
                } else {
                    push_text(&mut stack, &t);
                }
            }
            Event::CData(t) => {
                let t = t.decode().map_err(|e| format!("bad CDATA: {}", crate::foreign(e)))?;
                push_text(&mut stack, &t);
            }
            Event::GeneralRef(r) => {
                let c = match r
                    .resolve_char_ref()
                    .map_err(|e| format!("bad character reference: {}", crate::foreign(e)))?
                {
                    Some(c) => c,
                    None => match r.as_ref() {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"quot" => '"',
                        b"apos" => '\'',
                        other => {
                            return Err(format!(
                                "the entity &{}; is not one of XML's predefined entities; entities are not expanded",
                                String::from_utf8_lossy(other)
                            ));
                        }
                    },
                };
                push_text(&mut stack, c.encode_utf8(&mut [0; 4]));
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("the message ends inside an element (truncated?)".into());
    }
    root.ok_or_else(|| "the message has no root element".into())
}
