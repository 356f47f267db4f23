//! Seeded mutations of documents, for the robustness of the built-in extractors: the
//! test `mutants.rs` runs a few hundred through the components in the sandbox on every CI
//! run, and `plugins/guests/mutants` runs many more natively (outside the sandbox, where a
//! panic or a hang shows at once). Standard library only: both workspaces include this file.
//!
//! A mutant is a fixture document with one to four small damages of the kinds parsers
//! stumble over: flipped bits, cut or doubled ranges, a piece repeated many times (deep
//! nesting), numbers replaced by extreme ones (lengths, offsets, counts), and tokens of
//! the formats spliced in (tags, entities, PDF operators, MIME boundaries). A ZIP-based
//! document (DOCX, ODT, XLSX) is damaged inside one of its parts and packed again with
//! correct checksums, so that the damage reaches the XML parser instead of ending at the
//! archive's CRC check; one in eight also has its archive bytes damaged afterwards.

#![allow(dead_code)]

/// A small deterministic generator (SplitMix64): the same seed gives the same mutants on
/// every machine, so a failure names a seed that reproduces it.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Tokens of the formats under test, spliced in at random places.
const TOKENS: &[&str] = &[
    "<",
    ">",
    "</",
    "/>",
    "<a>",
    "</a>",
    "<w:p>",
    "</w:p>",
    "<text:p>",
    "<text:span>",
    "<c t=\"s\"><v>",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "&#xD800;",
    "&unknown;",
    "<!--",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE x [<!ENTITY a \"aaaaaaaa\">]>",
    "\u{FEFF}",
    "\u{C}",
    "\r",
    "\0",
    " obj ",
    "endobj",
    "stream\n",
    "\nendstream",
    " 0 R",
    "<<",
    ">>",
    "[",
    "]",
    "(",
    ")",
    "\\",
    "/Length 999999999",
    "/Filter /FlateDecode",
    "BT",
    "ET",
    "Tj",
    "TJ",
    "Tf",
    "xref",
    "trailer",
    "startxref",
    "%%EOF",
    "\r\n\r\n",
    "--",
    "boundary=\"",
    "Content-Type: multipart/mixed; boundary=b\r\n",
    "Content-Transfer-Encoding: base64\r\n",
    "=?utf-8?B?",
    "=?",
    "?=",
    "=\r\n",
    "=FF",
    "charset=",
];

/// Numbers that turn lengths, offsets and counts into trouble.
const NUMBERS: &[&str] = &["0", "-1", "1", "65535", "2147483647", "2147483648", "4294967295", "99999999999999999999"];

/// Applies one to four mutations to `data`; returns what was done, for a failure message.
pub fn mutate(data: &mut Vec<u8>, rng: &mut Rng) -> String {
    let n = 1 + rng.below(4);
    (0..n).map(|_| mutate_once(data, rng)).collect::<Vec<_>>().join(", ")
}

fn mutate_once(data: &mut Vec<u8>, rng: &mut Rng) -> String {
    if data.is_empty() {
        data.extend_from_slice(rng.pick(TOKENS).as_bytes());
        return "filled an empty input".into();
    }
    let len = data.len();
    let at = rng.below(len);
    match rng.below(8) {
        0 => {
            let bit = 1u8 << rng.below(8);
            data[at] ^= bit;
            format!("flipped bit {bit:#04x} at {at}")
        }
        1 => {
            let value = *rng.pick(&[0u8, 0x7f, 0x80, 0xff, b'<', b'>', b'"', b'&', b'\n', b'(', b')', b'/', b'%']);
            data[at] = value;
            format!("set byte {at} to {value:#04x}")
        }
        2 => {
            let cut = 1 + rng.below((len - at).min(256));
            data.drain(at..at + cut);
            format!("cut {cut} bytes at {at}")
        }
        3 => {
            let piece = 1 + rng.below((len - at).min(512));
            let copy = data[at..at + piece].to_vec();
            let to = rng.below(len + 1);
            data.splice(to..to, copy);
            format!("copied {piece} bytes from {at} to {to}")
        }
        4 => {
            // Deep nesting or a long run: a short piece many times over (at most 64 KiB).
            let piece = 1 + rng.below((len - at).min(16));
            let times = 1 + rng.below(65536 / piece);
            let copy = data[at..at + piece].repeat(times);
            data.splice(at..at, copy);
            format!("repeated {piece} bytes at {at} {times} times")
        }
        5 => {
            data.truncate(at);
            format!("truncated to {at} bytes")
        }
        6 => {
            // The next run of digits from `at` becomes an extreme number.
            let Some(start) = data[at..].iter().position(u8::is_ascii_digit).map(|p| at + p) else {
                data[at] = b'9';
                return format!("set byte {at} to a digit");
            };
            let end = data[start..].iter().position(|b| !b.is_ascii_digit()).map_or(data.len(), |p| start + p);
            let number = rng.pick(NUMBERS);
            data.splice(start..end, number.bytes());
            format!("replaced the number at {start} by {number}")
        }
        _ => {
            let token = rng.pick(TOKENS);
            data.splice(at..at, token.bytes());
            format!("inserted {token:?} at {at}")
        }
    }
}

/// A mutant of a ZIP-based document given as its parts (name, uncompressed bytes): one
/// part is damaged (`main`, the part with the text, three times in four), then all are
/// packed again, stored, with correct sizes and CRC-32s.
pub fn mutate_parts(parts: &[(String, Vec<u8>)], main: &str, rng: &mut Rng) -> (Vec<u8>, String) {
    let mut parts = parts.to_vec();
    if parts.is_empty() {
        parts.push(("empty".into(), Vec::new()));
    }
    let which = match parts.iter().position(|(name, _)| name == main) {
        Some(i) if rng.below(4) > 0 => i,
        _ => rng.below(parts.len()),
    };
    let what = mutate(&mut parts[which].1, rng);
    let mut zip = stored_zip(&parts);
    let mut done = format!("{}: {what}", parts[which].0);
    if rng.below(8) == 0 {
        done.push_str(&format!("; the archive: {}", mutate(&mut zip, rng)));
    }
    (zip, done)
}

/// A ZIP archive of `parts`, stored without compression.
pub fn stored_zip(parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in parts {
        let offset = out.len() as u32;
        let (crc, size) = (crc32(data), data.len() as u32);
        // Version needed, flags, method (stored), time, date, CRC, sizes, name length, no extra.
        let common = |h: &mut Vec<u8>| {
            for v in [20u16, 0, 0, 0, 0x21] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            for v in [crc, size, size] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        common(&mut central);
        // Comment length, disk, internal and external attributes, offset.
        for v in [0u16, 0, 0] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let directory = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, parts.len() as u16, parts.len() as u16] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&directory.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// CRC-32 (IEEE, as ZIP uses it), bit by bit: the mutants are small.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A document to mutate: its name, media type, built-in extractor, and bytes (or parts).
pub struct Sample {
    pub name: String,
    pub media_type: &'static str,
    pub extractor: &'static str,
    pub body: Body,
}

/// The parts of a ZIP archive: each one's name and uncompressed bytes.
pub type Parts = Vec<(String, Vec<u8>)>;

/// A document's bytes, or the parts of a ZIP-based one with the part that holds the text.
pub enum Body {
    Bytes(Vec<u8>),
    Parts { parts: Parts, main: &'static str },
}

impl Sample {
    /// The seed of this sample's mutant number `k`: a hash of its name plus `k`, so that a
    /// sample's mutants stay the same when other samples come or go.
    pub fn seed(&self, k: u64) -> u64 {
        let fnv =
            self.name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        fnv.wrapping_add(k)
    }

    /// Mutant `seed` of this sample and what was done to it.
    pub fn mutant(&self, seed: u64) -> (Vec<u8>, String) {
        let mut rng = Rng::new(seed);
        match &self.body {
            Body::Bytes(bytes) => {
                let mut bytes = bytes.clone();
                let what = mutate(&mut bytes, &mut rng);
                (bytes, what)
            }
            Body::Parts { parts, main } => mutate_parts(parts, main, &mut rng),
        }
    }
}

/// The samples: every PDF, DOCX, ODT, e-mail and text file of the fixture case in
/// `fixtures` (the directory `fixtures/windpark-hohe-heide`), and a small XLSX and HTML
/// page written here (the case has none). `unzip` lists a ZIP's parts with their bytes.
pub fn samples(fixtures: &std::path::Path, unzip: fn(&[u8]) -> Parts) -> Vec<Sample> {
    const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    const ODT: &str = "application/vnd.oasis.opendocument.text";
    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let mut files = Vec::new();
    let mut dirs = vec![fixtures.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() { dirs.push(path) } else { files.push(path) }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let name = path.strip_prefix(fixtures).unwrap_or(&path).display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let (media_type, extractor, main) = match path.extension().and_then(|e| e.to_str()) {
            Some("pdf") => ("application/pdf", "pdf", None),
            Some("eml") => ("message/rfc822", "eml", None),
            Some("txt") => ("text/plain; charset=utf-8", "txt", None),
            Some("docx") => (DOCX, "office", Some("word/document.xml")),
            Some("odt") => (ODT, "office", Some("content.xml")),
            _ => continue,
        };
        let body = match main {
            Some(main) => Body::Parts { parts: unzip(&bytes), main },
            None => Body::Bytes(bytes),
        };
        out.push(Sample { name, media_type, extractor, body });
    }
    let part = |name: &str, text: &str| (name.to_string(), text.as_bytes().to_vec());
    let xlsx = vec![
        part(
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>"#,
        ),
        part(
            "_rels/.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        part(
            "xl/workbook.xml",
            r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Anlagen" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        part(
            "xl/_rels/workbook.xml.rels",
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
        part(
            "xl/sharedStrings.xml",
            r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3"><si><t>WEA</t></si><si><t>Nabenhöhe</t></si><si><r><t>Flur</t></r><r><t xml:space="preserve">stück</t></r></si></sst>"#,
        ),
        part(
            "xl/worksheets/sheet1.xml",
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>WEA 1</t></is></c><c r="B2"><v>166</v></c><c r="C2" t="str"><f>"17/"&amp;"2"</f><v>17/2</v></c></row></sheetData></worksheet>"#,
        ),
    ];
    out.push(Sample {
        name: "anlagen.xlsx (written here)".into(),
        media_type: XLSX,
        extractor: "office",
        body: Body::Parts { parts: xlsx, main: "xl/worksheets/sheet1.xml" },
    });
    let html = r#"<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Bekanntmachung</title><style>p{margin:0}</style><script>var x = "<p>";</script></head><body><h1>&Ouml;ffentliche Bekanntmachung</h1><p>Antrag der Windpark Hohe Heide GmbH &amp; Co. KG auf Genehmigung von drei Windenergieanlagen (WEA&nbsp;1&ndash;3), Gemarkung Hohe&shy;heide, Flur 3.</p><table><tr><td>Nabenhöhe</td><td>166 m</td></tr></table><!-- Ende --></body></html>"#;
    out.push(Sample {
        name: "bekanntmachung.html (written here)".into(),
        media_type: "text/html; charset=utf-8",
        extractor: "html",
        body: Body::Bytes(html.as_bytes().to_vec()),
    });
    out
}
