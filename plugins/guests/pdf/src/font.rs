//! Fonts as far as text extraction needs them: how the bytes of a shown string split into
//! character codes, which Unicode text each code stands for, and how far each glyph advances.
//!
//! Unicode comes, in this order, from the font's `ToUnicode` CMap, from the glyph names of
//! its `/Differences`, and from its base encoding (`WinAnsiEncoding`, `MacRomanEncoding`,
//! `StandardEncoding`; a simple font without one is read as WinAnsi, which is what German
//! office software writes). Composite (`Type0`) fonts without a `ToUnicode` map yield
//! nothing: their codes are glyph ids that carry no meaning by themselves.

use std::collections::HashMap;

use lopdf::{Dictionary, Document, Object};

/// Most entries a `ToUnicode` map may expand to; the rest is ignored.
const MAX_CMAP_ENTRIES: usize = 1 << 17;

/// A font, reduced to what text extraction needs.
pub struct Font {
    /// Code → text, from `ToUnicode`.
    to_unicode: HashMap<u32, String>,
    /// The byte lengths of codes, from `ToUnicode`'s codespace: (low, high, bytes).
    codespace: Vec<(u32, u32, usize)>,
    /// One-byte code → character, for simple fonts.
    simple: Option<[char; 256]>,
    /// Glyph widths in 1/1000 text-space units.
    widths: HashMap<u32, f64>,
    default_width: f64,
    /// Codes per string unit: 1 for simple fonts, 2 for composite fonts by default.
    composite: bool,
    /// For a simple font without `/Widths` (the standard 14): Helvetica's metrics times this.
    builtin: Option<f64>,
}

impl Font {
    /// A font for a `Tf` that names no known font: bytes as WinAnsi.
    pub fn fallback() -> Font {
        Font {
            to_unicode: HashMap::new(),
            codespace: Vec::new(),
            simple: Some(table(Base::WinAnsi)),
            widths: HashMap::new(),
            default_width: 500.0,
            composite: false,
            builtin: Some(1.0),
        }
    }

    /// Reads a font dictionary. Never fails: what cannot be read falls back to defaults.
    pub fn load(doc: &Document, dict: &Dictionary) -> Font {
        let subtype = name(doc, dict.get(b"Subtype").ok());
        let composite = subtype.as_deref() == Some(b"Type0".as_slice());
        let mut font = Font {
            to_unicode: HashMap::new(),
            codespace: Vec::new(),
            simple: None,
            widths: HashMap::new(),
            default_width: if composite { 1000.0 } else { 500.0 },
            composite,
            builtin: None,
        };
        if let Some(Object::Stream(s)) = resolve(doc, dict.get(b"ToUnicode").ok())
            && let Some(bytes) = crate::stream_bytes(s)
        {
            font.read_cmap(&bytes);
        }
        if composite {
            font.read_cid_widths(doc, dict);
        } else {
            font.simple = Some(simple_table(doc, dict));
            font.read_simple_widths(doc, dict);
            if font.widths.is_empty() {
                let base = name(doc, dict.get(b"BaseFont").ok()).unwrap_or_default();
                let base = String::from_utf8_lossy(&base).to_ascii_lowercase();
                font.builtin = Some(if base.contains("courier") {
                    0.0
                } else if base.contains("times") {
                    0.9
                } else if base.contains("bold") {
                    1.05
                } else {
                    1.0
                });
            }
        }
        font
    }

    /// Splits `bytes` into codes and calls `each(text, width, is_single_byte_space)`.
    pub fn decode(&self, bytes: &[u8], mut each: impl FnMut(&str, f64, bool)) {
        let mut i = 0;
        let mut buf = [0u8; 4];
        while i < bytes.len() {
            let n = self.code_len(&bytes[i..]);
            let code = bytes[i..i + n].iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
            i += n;
            let space = n == 1 && code == 32;
            let text: &str = if let Some(text) = self.to_unicode.get(&code) {
                text
            } else if let (Some(table), true) = (&self.simple, n == 1) {
                let c = table[code as usize];
                if c == '\0' { "" } else { c.encode_utf8(&mut buf) }
            } else {
                ""
            };
            let width = match (self.widths.get(&code), self.builtin) {
                (Some(w), _) => *w,
                (None, Some(0.0)) => 600.0,
                (None, Some(scale)) => helvetica(text.chars().next().unwrap_or(' ')) * scale,
                (None, None) => self.default_width,
            };
            each(text, width, space);
        }
    }

    fn code_len(&self, rest: &[u8]) -> usize {
        if !self.composite {
            return 1;
        }
        if !self.codespace.is_empty() {
            for len in 1..=4.min(rest.len()) {
                let code = rest[..len].iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
                if self.codespace.iter().any(|&(lo, hi, n)| n == len && code >= lo && code <= hi) {
                    return len;
                }
            }
        }
        2.min(rest.len())
    }

    fn read_simple_widths(&mut self, doc: &Document, dict: &Dictionary) {
        let first = resolve(doc, dict.get(b"FirstChar").ok()).and_then(number).unwrap_or(0.0) as u32;
        if let Some(Object::Array(ws)) = resolve(doc, dict.get(b"Widths").ok()) {
            for (i, w) in ws.iter().take(256).enumerate() {
                if let Some(w) = resolve(doc, Some(w)).and_then(number) {
                    self.widths.insert(first + i as u32, w);
                }
            }
        }
    }

    fn read_cid_widths(&mut self, doc: &Document, dict: &Dictionary) {
        let Some(Object::Array(desc)) = resolve(doc, dict.get(b"DescendantFonts").ok()) else { return };
        let Some(Object::Dictionary(cid)) = desc.first().and_then(|d| resolve(doc, Some(d))) else { return };
        if let Some(dw) = resolve(doc, cid.get(b"DW").ok()).and_then(number) {
            self.default_width = dw;
        }
        let Some(Object::Array(w)) = resolve(doc, cid.get(b"W").ok()) else { return };
        let mut i = 0;
        while i + 1 < w.len() && self.widths.len() < MAX_CMAP_ENTRIES {
            let Some(first) = resolve(doc, Some(&w[i])).and_then(number) else { break };
            match resolve(doc, Some(&w[i + 1])) {
                Some(Object::Array(list)) => {
                    for (k, x) in list.iter().enumerate() {
                        if let Some(x) = resolve(doc, Some(x)).and_then(number) {
                            self.widths.insert(first as u32 + k as u32, x);
                        }
                    }
                    i += 2;
                }
                Some(last) => {
                    let (Some(last), Some(x)) =
                        (number(last), w.get(i + 2).and_then(|x| resolve(doc, Some(x))).and_then(number))
                    else {
                        break;
                    };
                    let (a, b) = (first as u32, (last as u32).min(first as u32 + 65535));
                    for c in a..=b {
                        self.widths.insert(c, x);
                    }
                    i += 3;
                }
                None => break,
            }
        }
    }

    /// Parses the parts of a CMap that matter: `codespacerange`, `bfchar` and `bfrange`.
    fn read_cmap(&mut self, bytes: &[u8]) {
        let tokens = cmap_tokens(bytes);
        let mut i = 0;
        let mut mode = "";
        while i < tokens.len() && self.to_unicode.len() < MAX_CMAP_ENTRIES {
            match &tokens[i] {
                Tok::Word(w) => {
                    mode = match w.as_str() {
                        "begincodespacerange" => "space",
                        "beginbfchar" => "char",
                        "beginbfrange" => "range",
                        _ => "",
                    };
                    i += 1;
                }
                Tok::Hex(lo) if mode == "space" => {
                    if let Some(Tok::Hex(hi)) = tokens.get(i + 1) {
                        self.codespace.push((be(lo), be(hi), lo.len().clamp(1, 4)));
                    }
                    i += 2;
                }
                Tok::Hex(src) if mode == "char" => {
                    if let Some(Tok::Hex(dst)) = tokens.get(i + 1) {
                        self.to_unicode.insert(be(src), utf16(dst));
                    }
                    i += 2;
                }
                Tok::Hex(lo) if mode == "range" => {
                    let (Some(Tok::Hex(hi)), Some(dst)) = (tokens.get(i + 1), tokens.get(i + 2)) else { break };
                    let (lo, hi) = (be(lo), be(hi));
                    let hi = hi.min(lo.saturating_add(MAX_CMAP_ENTRIES as u32));
                    match dst {
                        Tok::Hex(base) => {
                            for (k, code) in (lo..=hi).enumerate() {
                                let mut d = base.clone();
                                add_to_last(&mut d, k as u32);
                                self.to_unicode.insert(code, utf16(&d));
                            }
                        }
                        Tok::Array(list) => {
                            for (code, d) in (lo..=hi).zip(list) {
                                self.to_unicode.insert(code, utf16(d));
                            }
                        }
                        Tok::Word(_) => {}
                    }
                    i += 3;
                }
                _ => i += 1,
            }
        }
        // A code space of one byte in a simple font is the default anyway.
        self.codespace.retain(|&(_, _, n)| n <= 4);
    }
}

enum Tok {
    Hex(Vec<u8>),
    Array(Vec<Vec<u8>>),
    Word(String),
}

fn cmap_tokens(b: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut array: Option<Vec<Vec<u8>>> = None;
    while i < b.len() {
        match b[i] {
            b'<' if b.get(i + 1) != Some(&b'<') => {
                let end = b[i..].iter().position(|&c| c == b'>').map_or(b.len(), |p| i + p);
                let hex = hex_bytes(&b[i + 1..end]);
                match &mut array {
                    Some(a) => a.push(hex),
                    None => out.push(Tok::Hex(hex)),
                }
                i = end + 1;
            }
            b'[' => {
                array = Some(Vec::new());
                i += 1;
            }
            b']' => {
                if let Some(a) = array.take() {
                    out.push(Tok::Array(a));
                }
                i += 1;
            }
            b'%' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() => {
                let start = i;
                while i < b.len() && b[i].is_ascii_alphanumeric() {
                    i += 1;
                }
                out.push(Tok::Word(String::from_utf8_lossy(&b[start..i]).into_owned()));
            }
            _ => i += 1,
        }
    }
    out
}

/// The bytes of a hex string body; an odd last digit counts as followed by 0.
pub fn hex_bytes(s: &[u8]) -> Vec<u8> {
    let digits: Vec<u8> = s.iter().filter_map(|c| (*c as char).to_digit(16).map(|d| d as u8)).collect();
    digits.chunks(2).map(|p| (p[0] << 4) | p.get(1).copied().unwrap_or(0)).collect()
}

fn be(b: &[u8]) -> u32 {
    b.iter().take(4).fold(0u32, |acc, x| (acc << 8) | u32::from(*x))
}

fn add_to_last(d: &mut [u8], k: u32) {
    let n = d.len();
    if n == 0 {
        return;
    }
    let last = if n >= 2 { u32::from(d[n - 2]) << 8 | u32::from(d[n - 1]) } else { u32::from(d[0]) };
    let v = last.wrapping_add(k);
    if n >= 2 {
        d[n - 2] = (v >> 8) as u8;
        d[n - 1] = v as u8;
    } else {
        d[0] = v as u8;
    }
}

fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> =
        b.chunks(2).map(|p| u16::from(p[0]) << 8 | u16::from(p.get(1).copied().unwrap_or(0))).collect();
    char::decode_utf16(units).filter_map(Result::ok).filter(|c| *c != '\0').collect()
}

/// Decodes a PDF text string (document information, `/Lang`): UTF-16BE or UTF-8 with a
/// byte order mark, otherwise PDFDocEncoding.
pub fn text_string(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest);
    }
    if let Some(rest) = b.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    b.iter().map(|&c| pdfdoc(c)).filter(|c| *c != '\0').collect()
}

fn pdfdoc(c: u8) -> char {
    const HIGH: &str = "•†‡…—–ƒ⁄‹›−‰„“”‘’‚™ﬁﬂŁŒŠŸŽıłœšž\0€";
    const LOW: &str = "˘ˇˆ˙˝˛˚˜";
    match c {
        0x18..=0x1F => LOW.chars().nth(usize::from(c - 0x18)).unwrap_or('\0'),
        0x80..=0xA0 => HIGH.chars().nth(usize::from(c - 0x80)).unwrap_or('\0'),
        0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0xA1..=0xFF => char::from(c),
        _ => '\0',
    }
}

#[derive(Clone, Copy)]
enum Base {
    WinAnsi,
    MacRoman,
    Standard,
}

/// The code → character table of a simple font: base encoding plus `/Differences`.
fn simple_table(doc: &Document, dict: &Dictionary) -> [char; 256] {
    let enc = resolve(doc, dict.get(b"Encoding").ok());
    let base_name = match enc {
        Some(Object::Name(n)) => Some(n.as_slice()),
        Some(Object::Dictionary(d)) => match resolve(doc, d.get(b"BaseEncoding").ok()) {
            Some(Object::Name(n)) => Some(n.as_slice()),
            _ => None,
        },
        _ => None,
    };
    let base = match base_name {
        Some(b"MacRomanEncoding") => Base::MacRoman,
        Some(b"StandardEncoding") => Base::Standard,
        _ => Base::WinAnsi,
    };
    let mut t = table(base);
    if let Some(Object::Dictionary(d)) = enc
        && let Some(Object::Array(diffs)) = resolve(doc, d.get(b"Differences").ok())
    {
        let mut code = 0usize;
        for item in diffs {
            match resolve(doc, Some(item)) {
                Some(Object::Integer(n)) => code = (*n).clamp(0, 255) as usize,
                Some(Object::Name(glyph)) => {
                    if code < 256 {
                        t[code] = glyph_char(glyph).unwrap_or(t[code]);
                    }
                    code += 1;
                }
                _ => {}
            }
        }
    }
    t
}

fn table(base: Base) -> [char; 256] {
    let mut t = ['\0'; 256];
    for (i, slot) in t.iter_mut().enumerate() {
        let b = [i as u8];
        *slot = match base {
            Base::WinAnsi => single(encoding_rs::WINDOWS_1252, &b),
            Base::MacRoman => single(encoding_rs::MACINTOSH, &b),
            Base::Standard => standard(i as u8),
        };
    }
    // In PDF's WinAnsi both 0xA0 and 0x20 are a space, and 0xAD is a visible hyphen.
    if matches!(base, Base::WinAnsi) {
        t[0xA0] = ' ';
        t[0xAD] = '-';
    }
    for c in t.iter_mut().take(32) {
        if !matches!(*c, '\t' | '\n' | '\r') {
            *c = '\0';
        }
    }
    t
}

fn single(enc: &'static encoding_rs::Encoding, b: &[u8]) -> char {
    let (s, _) = enc.decode_without_bom_handling(b);
    s.chars().next().filter(|c| *c != '\u{FFFD}' && !('\u{80}'..='\u{9F}').contains(c)).unwrap_or('\0')
}

/// Adobe StandardEncoding: ASCII with typographic quotes, and its own upper half.
fn standard(c: u8) -> char {
    const UPPER: [(u8, char); 56] = [
        (0xA1, '¡'),
        (0xA2, '¢'),
        (0xA3, '£'),
        (0xA4, '⁄'),
        (0xA5, '¥'),
        (0xA6, 'ƒ'),
        (0xA7, '§'),
        (0xA8, '¤'),
        (0xA9, '\''),
        (0xAA, '“'),
        (0xAB, '«'),
        (0xAC, '‹'),
        (0xAD, '›'),
        (0xAE, 'ﬁ'),
        (0xAF, 'ﬂ'),
        (0xB1, '–'),
        (0xB2, '†'),
        (0xB3, '‡'),
        (0xB4, '·'),
        (0xB6, '¶'),
        (0xB7, '•'),
        (0xB8, '‚'),
        (0xB9, '„'),
        (0xBA, '”'),
        (0xBB, '»'),
        (0xBC, '…'),
        (0xBD, '‰'),
        (0xBF, '¿'),
        (0xC1, '`'),
        (0xC2, '´'),
        (0xC3, 'ˆ'),
        (0xC4, '˜'),
        (0xC5, '¯'),
        (0xC6, '˘'),
        (0xC7, '˙'),
        (0xC8, '¨'),
        (0xCA, '˚'),
        (0xCB, '¸'),
        (0xCD, '˝'),
        (0xCE, '˛'),
        (0xCF, 'ˇ'),
        (0xD0, '—'),
        (0xE1, 'Æ'),
        (0xE3, 'ª'),
        (0xE8, 'Ł'),
        (0xE9, 'Ø'),
        (0xEA, 'Œ'),
        (0xEB, 'º'),
        (0xF1, 'æ'),
        (0xF5, 'ı'),
        (0xF8, 'ł'),
        (0xF9, 'ø'),
        (0xFA, 'œ'),
        (0xFB, 'ß'),
        (0x27, '’'),
        (0x60, '‘'),
    ];
    if let Some((_, ch)) = UPPER.iter().find(|(k, _)| *k == c) {
        return *ch;
    }
    if (0x20..0x7F).contains(&c) { char::from(c) } else { '\0' }
}

/// Glyph names of ASCII 0x20–0x7E, in code order.
const ASCII_NAMES: [&str; 95] = [
    "space",
    "exclam",
    "quotedbl",
    "numbersign",
    "dollar",
    "percent",
    "ampersand",
    "quotesingle",
    "parenleft",
    "parenright",
    "asterisk",
    "plus",
    "comma",
    "hyphen",
    "period",
    "slash",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "colon",
    "semicolon",
    "less",
    "equal",
    "greater",
    "question",
    "at",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "H",
    "I",
    "J",
    "K",
    "L",
    "M",
    "N",
    "O",
    "P",
    "Q",
    "R",
    "S",
    "T",
    "U",
    "V",
    "W",
    "X",
    "Y",
    "Z",
    "bracketleft",
    "backslash",
    "bracketright",
    "asciicircum",
    "underscore",
    "grave",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "v",
    "w",
    "x",
    "y",
    "z",
    "braceleft",
    "bar",
    "braceright",
    "asciitilde",
];

/// Glyph names of U+00A0–U+00FF, in code order.
const LATIN1_NAMES: [&str; 96] = [
    "nbspace",
    "exclamdown",
    "cent",
    "sterling",
    "currency",
    "yen",
    "brokenbar",
    "section",
    "dieresis",
    "copyright",
    "ordfeminine",
    "guillemotleft",
    "logicalnot",
    "sfthyphen",
    "registered",
    "macron",
    "degree",
    "plusminus",
    "twosuperior",
    "threesuperior",
    "acute",
    "mu",
    "paragraph",
    "periodcentered",
    "cedilla",
    "onesuperior",
    "ordmasculine",
    "guillemotright",
    "onequarter",
    "onehalf",
    "threequarters",
    "questiondown",
    "Agrave",
    "Aacute",
    "Acircumflex",
    "Atilde",
    "Adieresis",
    "Aring",
    "AE",
    "Ccedilla",
    "Egrave",
    "Eacute",
    "Ecircumflex",
    "Edieresis",
    "Igrave",
    "Iacute",
    "Icircumflex",
    "Idieresis",
    "Eth",
    "Ntilde",
    "Ograve",
    "Oacute",
    "Ocircumflex",
    "Otilde",
    "Odieresis",
    "multiply",
    "Oslash",
    "Ugrave",
    "Uacute",
    "Ucircumflex",
    "Udieresis",
    "Yacute",
    "Thorn",
    "germandbls",
    "agrave",
    "aacute",
    "acircumflex",
    "atilde",
    "adieresis",
    "aring",
    "ae",
    "ccedilla",
    "egrave",
    "eacute",
    "ecircumflex",
    "edieresis",
    "igrave",
    "iacute",
    "icircumflex",
    "idieresis",
    "eth",
    "ntilde",
    "ograve",
    "oacute",
    "ocircumflex",
    "otilde",
    "odieresis",
    "divide",
    "oslash",
    "ugrave",
    "uacute",
    "ucircumflex",
    "udieresis",
    "yacute",
    "thorn",
    "ydieresis",
];

/// Other glyph names that occur in German documents.
const OTHER_NAMES: [(&str, char); 34] = [
    ("quoteright", '’'),
    ("quoteleft", '‘'),
    ("quotedblleft", '“'),
    ("quotedblright", '”'),
    ("quotedblbase", '„'),
    ("quotesinglbase", '‚'),
    ("endash", '–'),
    ("emdash", '—'),
    ("bullet", '•'),
    ("ellipsis", '…'),
    ("Euro", '€'),
    ("trademark", '™'),
    ("dagger", '†'),
    ("daggerdbl", '‡'),
    ("perthousand", '‰'),
    ("fi", 'ﬁ'),
    ("fl", 'ﬂ'),
    ("minus", '−'),
    ("Scaron", 'Š'),
    ("scaron", 'š'),
    ("Zcaron", 'Ž'),
    ("zcaron", 'ž'),
    ("OE", 'Œ'),
    ("oe", 'œ'),
    ("Ydieresis", 'Ÿ'),
    ("florin", 'ƒ'),
    ("circumflex", 'ˆ'),
    ("tilde", '˜'),
    ("guilsinglleft", '‹'),
    ("guilsinglright", '›'),
    ("dotlessi", 'ı'),
    ("Lslash", 'Ł'),
    ("lslash", 'ł'),
    ("fraction", '⁄'),
];

/// The character an Adobe glyph name stands for (`adieresis`, `uni00E4`, `u1F600`).
pub fn glyph_char(name: &[u8]) -> Option<char> {
    let name = std::str::from_utf8(name).ok()?;
    let name = name.split('.').next().unwrap_or(name);
    if let Some(i) = ASCII_NAMES.iter().position(|n| *n == name) {
        return Some(char::from(0x20 + i as u8));
    }
    if let Some(i) = LATIN1_NAMES.iter().position(|n| *n == name) {
        return char::from_u32(0xA0 + i as u32).map(|c| if c == '\u{A0}' { ' ' } else { c });
    }
    if let Some((_, c)) = OTHER_NAMES.iter().find(|(n, _)| *n == name) {
        return Some(*c);
    }
    let hex = name
        .strip_prefix("uni")
        .filter(|h| h.len() == 4)
        .or_else(|| name.strip_prefix('u').filter(|h| (4..=6).contains(&h.len())))?;
    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
}

/// Helvetica's advance widths (1/1000 em) from its AFM; accented letters as their base.
fn helvetica(c: char) -> f64 {
    const ASCII: [u16; 95] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556,
        556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667,
        556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556,
        556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722,
        500, 500, 500, 334, 260, 334, 584,
    ];
    let base = match c {
        'ä' | 'á' | 'à' | 'â' => 'a',
        'ö' | 'ó' | 'ò' | 'ô' => 'o',
        'ü' | 'ú' | 'ù' | 'û' => 'u',
        'é' | 'è' | 'ê' => 'e',
        'Ä' => 'A',
        'Ö' => 'O',
        'Ü' => 'U',
        'ß' => return 611.0,
        '§' | '€' | '–' => return 556.0,
        '—' => return 1000.0,
        '„' | '“' | '”' => return 333.0,
        c => c,
    };
    match u32::from(base) {
        n @ 0x20..=0x7E => f64::from(ASCII[(n - 0x20) as usize]),
        _ => 556.0,
    }
}

/// Follows references (bounded by lopdf) to the object itself.
pub fn resolve<'a>(doc: &'a Document, o: Option<&'a Object>) -> Option<&'a Object> {
    doc.dereference(o?).ok().map(|(_, o)| o)
}

fn name(doc: &Document, o: Option<&Object>) -> Option<Vec<u8>> {
    match resolve(doc, o) {
        Some(Object::Name(n)) => Some(n.clone()),
        _ => None,
    }
}

/// An integer or real as `f64`.
pub fn number(o: &Object) -> Option<f64> {
    match o {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}
