//! Character decoding for the text-based built-in extractors: UTF-8, UTF-16 (with a byte
//! order mark), Windows-1252 / ISO-8859-1 and ISO-8859-15, plus media-type parameters.
//!
//! German documents that are not UTF-8 are almost always Windows-1252 (a superset of
//! ISO-8859-1 in its printable range, with `„“€` where ISO-8859-1 has C1 controls), so
//! undeclared text that is not valid UTF-8 is read as Windows-1252, as browsers do.

/// Characters 0x80..=0x9F of Windows-1252. The five bytes it leaves undefined map to the
/// C1 control of the same number, as the WHATWG encoding standard does.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}', '\u{90}', '‘', '’',
    '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

/// An encoding this crate can decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (a byte order mark is dropped).
    Utf8,
    /// UTF-16, little endian.
    Utf16Le,
    /// UTF-16, big endian.
    Utf16Be,
    /// Windows-1252; also used for ISO-8859-1 and US-ASCII labels.
    Windows1252,
    /// ISO-8859-15 (Latin-9: ISO-8859-1 with `€`, `Š`, `Œ` …).
    Iso8859_15,
}

impl Encoding {
    /// The encoding's canonical label, as reported in the `encoding` field.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Windows1252 => "windows-1252",
            Encoding::Iso8859_15 => "iso-8859-15",
        }
    }

    /// The encoding for a charset label (case-insensitive), or `None` when unknown.
    pub fn from_label(label: &str) -> Option<Encoding> {
        let label = label.trim().trim_matches(|c| c == '"' || c == '\'').to_ascii_lowercase();
        Some(match label.as_str() {
            "utf-8" | "utf8" | "unicode-1-1-utf-8" => Encoding::Utf8,
            "utf-16le" | "utf-16" => Encoding::Utf16Le,
            "utf-16be" => Encoding::Utf16Be,
            "windows-1252" | "cp1252" | "x-cp1252" | "iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1"
            | "us-ascii" | "ascii" | "iso-ir-100" => Encoding::Windows1252,
            "iso-8859-15" | "iso8859-15" | "latin-9" | "latin9" | "l9" => Encoding::Iso8859_15,
            _ => return None,
        })
    }
}

/// Why bytes could not be decoded as text.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The declared charset is not one this crate knows.
    UnknownCharset(String),
    /// The bytes look like binary data, not text.
    Binary,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::UnknownCharset(c) => write!(f, "unknown charset `{c}`"),
            DecodeError::Binary => f.write_str("the content contains NUL bytes: binary data, not text"),
        }
    }
}

/// Decoded text and how it was decoded.
#[derive(Debug)]
pub struct Decoded {
    /// The text, with line ends normalised to `\n`.
    pub text: String,
    /// The encoding used.
    pub encoding: Encoding,
    /// How many invalid sequences were replaced by U+FFFD.
    pub replaced: usize,
}

/// At most this many characters of a failure's message leave an extractor: a damaged
/// document can make a parser quote 64 KiB of itself (a tag name, a part name from a
/// relationship, a dictionary key), and the clerk reads the message in one line.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// `message` cut to `max` characters, with `…` where it was cut.
pub fn clip(mut message: String, max: usize) -> String {
    if let Some((at, _)) = message.char_indices().nth(max) {
        message.truncate(at);
        message.push('…');
    }
    message
}

/// A guest's `Failure` (each guest has its own, from its WIT bindings) with its message
/// cut to [`MAX_MESSAGE_CHARS`].
#[macro_export]
macro_rules! bounded {
    ($failure:expr, $Failure:ident) => {{
        let clip = |m| $crate::clip(m, $crate::MAX_MESSAGE_CHARS);
        match $failure {
            $Failure::Unsupported(m) => $Failure::Unsupported(clip(m)),
            $Failure::Malformed(m) => $Failure::Malformed(clip(m)),
            $Failure::Other(m) => $Failure::Other(clip(m)),
        }
    }};
}

/// Returns the value of parameter `name` of a media type such as
/// `text/plain; charset="ISO-8859-1"`, without quotes.
pub fn media_type_param(media_type: &str, name: &str) -> Option<String> {
    media_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Decodes `bytes`: a byte order mark wins, then `declared` (a charset label), then UTF-8
/// when the bytes are valid UTF-8, else Windows-1252. Line ends become `\n`.
pub fn decode(bytes: &[u8], declared: Option<&str>) -> Result<Decoded, DecodeError> {
    let (encoding, body) = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        (Encoding::Utf8, rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        (Encoding::Utf16Le, rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        (Encoding::Utf16Be, rest)
    } else if let Some(label) = declared {
        (Encoding::from_label(label).ok_or_else(|| DecodeError::UnknownCharset(label.to_string()))?, bytes)
    } else if std::str::from_utf8(bytes).is_ok() {
        (Encoding::Utf8, bytes)
    } else {
        (Encoding::Windows1252, bytes)
    };
    let utf16 = matches!(encoding, Encoding::Utf16Le | Encoding::Utf16Be);
    if !utf16 && body.iter().take(64 * 1024).any(|&b| b == 0) {
        return Err(DecodeError::Binary);
    }
    let (raw, replaced) = match encoding {
        Encoding::Utf8 => utf8_lossy(body),
        Encoding::Utf16Le | Encoding::Utf16Be => utf16_lossy(body, encoding == Encoding::Utf16Be),
        Encoding::Windows1252 => (body.iter().map(|&b| cp1252(b)).collect(), 0),
        Encoding::Iso8859_15 => (body.iter().map(|&b| latin9(b)).collect(), 0),
    };
    Ok(Decoded { text: normalise_newlines(raw), encoding, replaced })
}

/// Decodes `bytes` as [`decode`] does, reusing their buffer where it can: UTF-8, the common
/// case, is checked once and becomes the text without a copy, and the line ends of 8-bit
/// text are normalised in place. An extractor that owns the file's bytes (txt) then holds
/// one copy of its text instead of three or four: a 48 MiB file with CRLF line ends fits
/// the extractor's memory cap, and the sandbox copies less.
pub fn decode_owned(mut bytes: Vec<u8>, declared: Option<&str>) -> Result<Decoded, DecodeError> {
    let (encoding, bom) = if bytes.starts_with(b"\xEF\xBB\xBF") {
        (Some(Encoding::Utf8), 3)
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return decode(&bytes, declared);
    } else if let Some(label) = declared {
        (Some(Encoding::from_label(label).ok_or_else(|| DecodeError::UnknownCharset(label.to_string()))?), 0)
    } else {
        (None, 0)
    };
    if matches!(encoding, Some(Encoding::Utf16Le | Encoding::Utf16Be)) {
        return decode(&bytes, declared);
    }
    if bytes[bom..].iter().take(64 * 1024).any(|&b| b == 0) {
        return Err(DecodeError::Binary);
    }
    // `\r` and `\n` are the same byte in every 8-bit encoding here and never part of a
    // multi-byte UTF-8 character, so the line ends can be normalised before decoding.
    normalise_newlines_in_place(&mut bytes);
    match encoding {
        Some(Encoding::Windows1252) => Ok(Decoded {
            text: bytes.iter().map(|&b| cp1252(b)).collect(),
            encoding: Encoding::Windows1252,
            replaced: 0,
        }),
        Some(Encoding::Iso8859_15) => Ok(Decoded {
            text: bytes.iter().map(|&b| latin9(b)).collect(),
            encoding: Encoding::Iso8859_15,
            replaced: 0,
        }),
        _ => {
            if bom > 0 {
                bytes.drain(..bom);
            }
            match String::from_utf8(bytes) {
                Ok(text) => Ok(Decoded { text, encoding: Encoding::Utf8, replaced: 0 }),
                Err(e) if encoding.is_some() => {
                    let (text, replaced) = utf8_lossy(e.as_bytes());
                    Ok(Decoded { text, encoding: Encoding::Utf8, replaced })
                }
                // Undeclared and not UTF-8: Windows-1252, as `decode` reads it.
                Err(e) => Ok(Decoded {
                    text: e.as_bytes().iter().map(|&b| cp1252(b)).collect(),
                    encoding: Encoding::Windows1252,
                    replaced: 0,
                }),
            }
        }
    }
}

/// Turns `\r\n` and lone `\r` into `\n` in 8-bit text, in place.
fn normalise_newlines_in_place(bytes: &mut Vec<u8>) {
    let Some(first) = memchr::memchr(b'\r', bytes) else { return };
    let len = bytes.len();
    let (mut read, mut write) = (first, first);
    while read < len {
        // Here `bytes[read]` is a `\r`.
        bytes[write] = b'\n';
        write += 1;
        read += 1;
        if bytes.get(read) == Some(&b'\n') {
            read += 1;
        }
        let next = memchr::memchr(b'\r', &bytes[read..]).map_or(len, |i| read + i);
        bytes.copy_within(read..next, write);
        write += next - read;
        read = next;
    }
    bytes.truncate(write);
}

fn utf8_lossy(bytes: &[u8]) -> (String, usize) {
    let mut out = String::with_capacity(bytes.len());
    let mut replaced = 0;
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            out.push('\u{FFFD}');
            replaced += 1;
        }
    }
    (out, replaced)
}

fn utf16_lossy(bytes: &[u8], big_endian: bool) -> (String, usize) {
    let units = bytes
        .chunks_exact(2)
        .map(|c| if big_endian { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) });
    let mut replaced = usize::from(bytes.len() % 2 == 1);
    let mut out: String = char::decode_utf16(units)
        .map(|r| {
            r.unwrap_or_else(|_| {
                replaced += 1;
                '\u{FFFD}'
            })
        })
        .collect();
    if bytes.len() % 2 == 1 {
        out.push('\u{FFFD}');
    }
    (out, replaced)
}

fn cp1252(b: u8) -> char {
    match b {
        0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

fn latin9(b: u8) -> char {
    match b {
        0xA4 => '€',
        0xA6 => 'Š',
        0xA8 => 'š',
        0xB4 => 'Ž',
        0xB8 => 'ž',
        0xBC => 'Œ',
        0xBD => 'œ',
        0xBE => 'Ÿ',
        _ => char::from(b),
    }
}

/// Turns `\r\n` and lone `\r` into `\n`.
fn normalise_newlines(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_and_latin1_give_the_same_umlauts() {
        let utf8 = decode("Größe: Übermaß".as_bytes(), None).unwrap();
        let latin1 = decode(b"Gr\xF6\xDFe: \xDCberma\xDF", None).unwrap();
        assert_eq!(utf8.text, latin1.text);
        assert_eq!(latin1.encoding, Encoding::Windows1252);
    }

    #[test]
    fn cp1252_quotes_and_euro() {
        assert_eq!(decode(b"\x84Zitat\x93 \x80", None).unwrap().text, "„Zitat“ €");
    }

    #[test]
    fn declared_charset_and_bom() {
        assert_eq!(decode(b"\xA4", Some("ISO-8859-15")).unwrap().text, "€");
        assert_eq!(decode(b"\xFF\xFEa\x00\xE4\x00", None).unwrap().text, "aä");
        assert!(matches!(decode(b"x", Some("koi8-r")), Err(DecodeError::UnknownCharset(_))));
    }

    #[test]
    fn decoding_owned_bytes_reads_as_decoding_borrowed_ones() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"plain ascii", None),
            ("Größe\r\nÜbermaß\rEnde\r\n\r".as_bytes(), None),
            (b"\xEF\xBB\xBFmit BOM\r\nzwei", None),
            (b"Gr\xF6\xDFe\r\n\x84Zitat\x93 \x80\r", None),
            (b"\xA4\r\n", Some("ISO-8859-15")),
            (b"\xA4\r\n", Some("latin1")),
            (b"kaputt \xFF\r\n\xFE ende", Some("utf-8")),
            (b"\xFF\xFEa\x00\r\x00\n\x00\xE4\x00", None),
            (b"a\x00b", None),
            (b"x", Some("koi8-r")),
            (b"", None),
            (b"\r\r\n\n\r", None),
        ];
        for (bytes, declared) in cases {
            let owned = decode_owned(bytes.to_vec(), *declared);
            let borrowed = decode(bytes, *declared);
            match (owned, borrowed) {
                (Ok(o), Ok(b)) => assert!(
                    (o.text.as_str(), o.encoding, o.replaced) == (b.text.as_str(), b.encoding, b.replaced),
                    "{bytes:?}: {o:?} against {b:?}"
                ),
                (Err(o), Err(b)) => assert_eq!(o, b, "{bytes:?}"),
                (o, b) => panic!("{bytes:?}: {o:?} against {b:?}"),
            }
        }
    }

    #[test]
    fn params() {
        assert_eq!(media_type_param("text/plain; Charset=\"ISO-8859-1\"", "charset").as_deref(), Some("ISO-8859-1"));
        assert_eq!(media_type_param("text/plain", "charset"), None);
    }
}
