//! The built-in PDF and EML extractors through the real host: every PDF and EML of the
//! fixture case against `truth.json` (word recall), scans reported as pages without text,
//! encodings with umlauts, and hostile inputs (truncated, huge declared lengths, reference
//! loops, random bytes, a 50 MB attachment), each answered in time, with the next call
//! working.

mod common;

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use akte_plugins::{Extraction, Failure, Plugin, PluginError};
use common::{host, shipped};

// ---------------------------------------------------------------------------------------
// The fixture case.

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/windpark-hohe-heide")
}

/// Every document of the case (also those of the other Akten) whose file ends in `ext`,
/// with its `scanned` flag.
fn case_documents(ext: &str) -> Vec<(String, bool)> {
    let case: Value = serde_json::from_slice(&std::fs::read(fixture_dir().join("case.json")).unwrap()).unwrap();
    let mut out = Vec::new();
    fn walk(j: &Value, ext: &str, out: &mut Vec<(String, bool)>) {
        match j {
            Value::Object(kv) => {
                if let Some(file) = j.get("file").and_then(Value::as_str)
                    && file.ends_with(ext)
                {
                    out.push((file.to_string(), j.get("scanned") == Some(&Value::Bool(true))));
                }
                kv.values().for_each(|v| walk(v, ext, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, ext, out)),
            _ => {}
        }
    }
    walk(&case, ext, &mut out);
    out.sort();
    out.dedup();
    out
}

fn truth() -> HashMap<String, String> {
    serde_json::from_slice(&std::fs::read(fixture_dir().join("truth.json")).unwrap())
        .expect("truth.json maps files to texts")
}

/// The share of the expected words (split on whitespace, counted with multiplicity) that
/// occur in `got`.
fn recall(expected: &str, got: &str) -> f64 {
    let mut have: HashMap<&str, usize> = HashMap::new();
    for w in got.split_whitespace() {
        *have.entry(w).or_default() += 1;
    }
    let words: Vec<&str> = expected.split_whitespace().collect();
    if words.is_empty() {
        return 1.0;
    }
    let mut found = 0;
    for w in &words {
        if let Some(n) = have.get_mut(w)
            && *n > 0
        {
            *n -= 1;
            found += 1;
        }
    }
    found as f64 / words.len() as f64
}

/// The words of `expected` that `got` lacks, for failure messages.
fn missing<'a>(expected: &'a str, got: &str) -> Vec<&'a str> {
    let have: std::collections::HashSet<&str> = got.split_whitespace().collect();
    expected.split_whitespace().filter(|w| !have.contains(w)).take(20).collect()
}

// ---------------------------------------------------------------------------------------
// Hand-made PDFs.

/// A PDF of the given objects (numbered from 1; object 1 must be the catalog), with a
/// correct cross-reference table and an `/Info` dictionary when `info` is given.
fn make_pdf(objects: &[Vec<u8>], info: Option<usize>) -> Vec<u8> {
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    let info = info.map(|n| format!(" /Info {n} 0 R")).unwrap_or_default();
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut s = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    s.extend_from_slice(data);
    s.extend_from_slice(b"\nendstream");
    s
}

fn obj(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// A one-page PDF showing `content` with font F1 = `font`.
fn one_page(font: &str, content: &[u8]) -> Vec<u8> {
    make_pdf(
        &[
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            obj(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            ),
            stream("", content),
            obj(font),
        ],
        None,
    )
}

// ---------------------------------------------------------------------------------------
// Assertions about how a call ended.

const PDF_TIMEOUT: Duration = Duration::from_secs(60);

/// A hostile input must end in a result or a clean failure, never in a trap or a timeout.
fn assert_contained(name: &str, r: &Result<akte_plugins::Outcome<Extraction>, PluginError>, elapsed: Duration) {
    match r {
        Ok(o) => {
            println!("{name}: ok, {} bytes of text, fields {:?} ({elapsed:?})", o.value.text.len(), o.value.fields)
        }
        Err(PluginError::Failed { failure, .. }) => println!("{name}: failed cleanly: {failure:?} ({elapsed:?})"),
        Err(e @ PluginError::MemoryExhausted { .. }) => println!("{name}: memory cap: {e} ({elapsed:?})"),
        Err(e) => panic!("{name}: not contained: {e:?}"),
    }
    assert!(elapsed < PDF_TIMEOUT, "{name}: took {elapsed:?}");
}

async fn timed(
    p: &Plugin,
    bytes: &[u8],
    media: &str,
) -> (Result<akte_plugins::Outcome<Extraction>, PluginError>, Duration) {
    let t = std::time::Instant::now();
    let r = p.extract(bytes, media).await;
    (r, t.elapsed())
}

// ---------------------------------------------------------------------------------------
// PDF

#[tokio::test]
async fn pdf_fixtures_match_the_truth() {
    let (_dir, host) = host();
    let pdf = shipped(&host, "pdf");
    let truth = truth();
    let docs = case_documents(".pdf");
    assert!(docs.len() >= 20, "only {} PDFs in case.json", docs.len());
    let mut worst = 1.0f64;
    for (file, scanned) in &docs {
        let bytes = std::fs::read(fixture_dir().join(file)).unwrap();
        let out = pdf.extract(&bytes, "application/pdf").await.unwrap_or_else(|e| panic!("{file}: {e}")).value;
        let count: usize = out.field("page-count").unwrap().parse().unwrap();
        assert_eq!(out.pages.len(), count, "{file}: one page per PDF page");
        let without = out.field("pages-without-text").unwrap();
        if *scanned {
            let all: Vec<String> = (1..=count).map(|n| n.to_string()).collect();
            assert_eq!(without, all.join(","), "{file}: a scan has no text layer");
            assert!(out.text.trim().is_empty(), "{file}: text from a scan: {:?}", out.text);
            println!("{file}: scan, {count} page(s) without text: {without}");
            continue;
        }
        let expected = truth.get(file).unwrap_or_else(|| panic!("{file} not in truth.json"));
        let r = recall(expected, &out.text);
        println!(
            "{file}: recall {r:.4}, {count} page(s), {} bytes; missing {:?}",
            out.text.len(),
            missing(expected, &out.text)
        );
        worst = worst.min(r);
        assert!(r >= 0.98, "{file}: recall {r:.4}; missing e.g. {:?}", missing(expected, &out.text));
        assert_eq!(without, "", "{file}: every page of a text PDF has text");
        assert!(out.field("title").is_some_and(|t| !t.is_empty()), "{file}: no title");
        assert!(out.field("creation-date").is_some_and(|d| d.len() >= 10 && d.as_bytes()[4] == b'-'), "{file}");
    }
    println!("worst PDF recall: {worst:.4}");
}

#[tokio::test]
async fn pdf_reads_document_information_and_pages() {
    let (_dir, host) = host();
    let pdf = shipped(&host, "pdf");
    let bytes = std::fs::read(fixture_dir().join("antrag/01-antragsformular.pdf")).unwrap();
    let out = pdf.extract(&bytes, "application/pdf").await.unwrap().value;
    assert_eq!(out.field("title"), Some("Antrag auf Genehmigung nach § 4 BImSchG – Antragsformular"));
    assert_eq!(out.field("author"), Some("Hohe Heide Windenergie GmbH & Co. KG"));
    assert_eq!(out.field("subject"), Some("61.2-0815/2026"));
    assert_eq!(out.field("creator"), Some("akte-fixtures"));
    assert_eq!(out.field("producer"), Some("akte-fixtures PDF writer"));
    assert_eq!(out.field("creation-date"), Some("2026-02-03T09:00:00+01:00"));
    assert_eq!(out.field("page-count"), Some("2"));
    assert_eq!(out.language.as_deref(), Some("de-DE"));
    let pages = out.page_texts();
    assert_eq!(pages.len(), 2);
    assert!(
        pages[0].starts_with(
            "Antrag auf Erteilung einer Genehmigung nach § 4 des\nBundes-Immissionsschutzgesetzes (BImSchG)"
        )
    );
    assert!(pages[0].contains("Untere Immissionsschutzbehörde"));
}

#[tokio::test]
async fn pdf_decodes_winansi_standard_and_differences() {
    let (_dir, host) = host();
    let pdf = shipped(&host, "pdf");
    // WinAnsi: ä ö ü Ä Ö Ü ß § „ “ – €.
    let win = one_page(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"BT /F1 12 Tf 72 700 Td (Gr\\366\\337e \\344\\374 \\304\\326\\334 \\247 4 \\204zitiert\\223 \\226 5 \\200) Tj ET",
    );
    let out = pdf.extract(&win, "application/pdf").await.unwrap().value;
    assert_eq!(out.text, "Größe äü ÄÖÜ § 4 „zitiert“ – 5 €");
    // StandardEncoding: § at 0xA7, ß at 0xFB, typographic quotes; umlauts via /Differences.
    let std = one_page(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding << /Type /Encoding \
         /BaseEncoding /StandardEncoding /Differences [128 /adieresis /odieresis /udieresis /Udieresis /uni20AC] >> >>",
        b"BT /F1 12 Tf 72 700 Td (Stra\\373e \\247 6 M\\202nchen \\203bergang \\204 \\271ja\\272) Tj ET",
    );
    let out = pdf.extract(&std, "application/pdf").await.unwrap().value;
    assert_eq!(out.text, "Straße § 6 München Übergang € „ja”");
    // A composite font with a ToUnicode CMap, two bytes per code; TJ kerning and a word gap.
    let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
        2 beginbfchar <0001> <00C4> <0002> <00DF> endbfchar\n1 beginbfrange <0010> <0014> <0061> endbfrange\nendcmap end end";
    let type0 = make_pdf(
        &[
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            obj(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            ),
            stream("", b"BT /F1 10 Tf 72 700 Td [<00010010> -20 <0011> -600 <00120002>] TJ 0 -14 Td <0013 0014> Tj ET"),
            obj(
                "<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
            ),
            obj("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /DW 500 >>"),
            stream("", cmap),
        ],
        None,
    );
    let out = pdf.extract(&type0, "application/pdf").await.unwrap().value;
    assert_eq!(out.text, "Äab cß\nde");
}

#[tokio::test]
async fn pdf_reports_the_pages_without_text() {
    let (_dir, host) = host();
    let pdf = shipped(&host, "pdf");
    // Pages 1 and 3 show only an image (an XObject), page 2 has text; the tree inherits resources.
    let bytes = crate::make_pdf(
        &[
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj(
                "<< /Type /Pages /Kids [3 0 R 4 0 R 5 0 R] /Count 3 /Resources << /Font << /F1 7 0 R >> /XObject << /Im1 8 0 R >> >> >>",
            ),
            obj("<< /Type /Page /Parent 2 0 R /Contents 6 0 R >>"),
            obj("<< /Type /Page /Parent 2 0 R /Contents 9 0 R >>"),
            obj("<< /Type /Page /Parent 2 0 R /Contents 6 0 R >>"),
            stream("", b"q 500 0 0 700 50 50 cm /Im1 Do Q"),
            obj("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"),
            stream(
                "/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8",
                b"\x80",
            ),
            stream("", b"BT /F1 12 Tf 72 700 Td (Seite zwei) Tj ET"),
        ],
        None,
    );
    let out = pdf.extract(&bytes, "application/pdf").await.unwrap().value;
    assert_eq!(out.field("page-count"), Some("3"));
    assert_eq!(out.field("pages-without-text"), Some("1,3"));
    assert_eq!(out.page_texts(), vec!["", "Seite zwei", ""]);
}

#[tokio::test]
async fn pdf_hostile_inputs_are_contained() {
    let (_dir, host) = host();
    let pdf = shipped(&host, "pdf");
    let good = std::fs::read(fixture_dir().join("entscheidung/06-gebuehrenbescheid.pdf")).unwrap();
    let big = std::fs::read(fixture_dir().join("entscheidung/03-genehmigungsbescheid.pdf")).unwrap();
    let font = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";

    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    cases.push(("truncated", big[..big.len() / 2].to_vec()));
    cases.push(("truncated to the header", big[..40].to_vec()));
    // A content stream that declares 10^12 bytes but holds a few.
    let mut huge = one_page(font, b"BT /F1 12 Tf 72 700 Td (Rest) Tj ET");
    let at = huge.windows(10).position(|w| w == b"/Length 35").expect("length entry");
    huge.splice(at..at + 10, b"/Length 999999999999".iter().copied());
    cases.push(("huge declared length", huge));
    // Reference loops: the page tree contains itself, a Contents chain loops, a form draws itself.
    cases.push((
        "page tree loop",
        make_pdf(
            &[
                obj("<< /Type /Catalog /Pages 2 0 R >>"),
                obj("<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 1 >>"),
                obj("<< /Type /Pages /Kids [2 0 R 3 0 R] /Parent 2 0 R /Count 1 >>"),
            ],
            None,
        ),
    ));
    cases.push((
        "reference chain loop",
        make_pdf(
            &[
                obj("<< /Type /Catalog /Pages 2 0 R >>"),
                obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
                obj("<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources 5 0 R >>"),
                obj("5 0 R"),
                obj("4 0 R"),
            ],
            Some(4),
        ),
    ));
    cases.push((
        "form draws itself",
        make_pdf(
            &[
                obj("<< /Type /Catalog /Pages 2 0 R >>"),
                obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
                obj("<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /XObject << /X 4 0 R >> /Font << /F1 5 0 R >> >> >>"),
                stream("/Type /XObject /Subtype /Form /BBox [0 0 10 10]", b"BT /F1 9 Tf (Schleife) Tj ET /X Do /X Do"),
                obj(font),
            ],
            None,
        ),
    ));
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut random = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect()
    };
    cases.push(("random bytes", random(1 << 20)));
    let mut headed = b"%PDF-1.4\n".to_vec();
    headed.extend(random(1 << 20));
    cases.push(("random bytes after a PDF header", headed));
    // A page whose content is a megabyte of random bytes.
    cases.push(("random content stream", one_page(font, &random(1 << 20))));

    for (name, bytes) in &cases {
        let (r, elapsed) = timed(&pdf, bytes, "application/pdf").await;
        assert_contained(name, &r, elapsed);
        // The next call works.
        let next = pdf.extract(&good, "application/pdf").await.unwrap_or_else(|e| panic!("after {name}: {e}"));
        assert!(next.value.text.contains("Gebühr"), "after {name}");
    }
    let (r, _) = timed(&pdf, b"not a pdf", "application/pdf").await;
    assert!(matches!(r, Err(PluginError::Failed { failure: Failure::Malformed(_), .. })), "{r:?}");
}

// ---------------------------------------------------------------------------------------
// EML

#[tokio::test]
async fn eml_fixtures_match_the_truth() {
    let (_dir, host) = host();
    let eml = shipped(&host, "eml");
    let truth = truth();
    let docs = case_documents(".eml");
    assert!(docs.len() >= 8, "only {} e-mails in case.json", docs.len());
    let mut worst = 1.0f64;
    for (file, _) in &docs {
        let bytes = std::fs::read(fixture_dir().join(file)).unwrap();
        let out = eml.extract(&bytes, "message/rfc822").await.unwrap_or_else(|e| panic!("{file}: {e}")).value;
        let expected = truth.get(file).unwrap_or_else(|| panic!("{file} not in truth.json"));
        let r = recall(expected, &out.text);
        let attachments: Vec<&str> =
            out.fields.iter().filter(|f| f.name == "attachment").map(|f| f.value.as_str()).collect();
        println!(
            "{file}: recall {r:.4}, {} page(s), attachments {attachments:?}; missing {:?}",
            out.pages.len(),
            missing(expected, &out.text)
        );
        worst = worst.min(r);
        assert!(r >= 0.98, "{file}: recall {r:.4}");
        for name in ["subject", "from", "to", "date"] {
            assert!(out.field(name).is_some_and(|v| !v.is_empty()), "{file}: no {name}");
        }
        assert_eq!(out.field("attachment-count"), Some(attachments.len().to_string().as_str()), "{file}");
        let text_attachments = attachments.iter().filter(|a| a.contains("; text/plain; ")).count();
        assert_eq!(out.pages.len(), 1 + text_attachments, "{file}: body plus one page per text attachment");
    }
    println!("worst EML recall: {worst:.4}");
}

#[tokio::test]
async fn eml_reads_fields_attachments_and_text_attachments() {
    let (_dir, host) = host();
    let eml = shipped(&host, "eml");
    let bytes = std::fs::read(fixture_dir().join("antrag/04-anschreiben-antragsunterlagen.eml")).unwrap();
    let out = eml.extract(&bytes, "message/rfc822").await.unwrap().value;
    assert_eq!(out.field("subject"), Some("Einreichung der Antragsunterlagen Windpark Hohe Heide"));
    assert_eq!(out.field("from"), Some("Hohe Heide Windenergie GmbH & Co. KG <projekt@hohe-heide-wind.example>"));
    assert_eq!(out.field("to"), Some("Landkreis Heideland <immissionsschutz@landkreis-heideland.example>"));
    assert_eq!(out.field("date"), Some("2026-02-03T10:42:00+01:00"));
    let att = out.field("attachment").unwrap();
    assert!(att.starts_with("Unterlagenverzeichnis.pdf; application/pdf; "), "{att}");
    assert!(out.text.contains("übersende ich Ihnen heute die Antragsunterlagen für die Genehmigung"), "{}", out.text);
    assert!(out.text.contains("§ 4 BImSchG") && out.text.contains("Grüßen"));

    let bytes = std::fs::read(fixture_dir().join("eroerterung/01-einladung-eroerterungstermin.eml")).unwrap();
    let out = eml.extract(&bytes, "message/rfc822").await.unwrap().value;
    let pages = out.page_texts();
    assert_eq!(pages.len(), 2);
    assert!(out.field("attachment").unwrap().starts_with("Tagesordnung-Eroerterung.txt; text/plain; "));
    assert!(!pages[1].is_empty() && !pages[0].contains(pages[1]), "the attachment is a page of its own");
}

#[tokio::test]
async fn eml_decodes_charsets_encoded_words_and_html() {
    let (_dir, host) = host();
    let eml = shipped(&host, "eml");
    let latin1: &[u8] = b"From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <jm@example.org>\r\n\
To: amt@example.org, =?UTF-8?B?QsO8cmdlcmLDvHJv?= <bb@example.org>\r\n\
Subject: =?iso-8859-1?q?Stellungnahme_zu_=A7_6_-_Gr=FC=DFe?=\r\n\
Date: Mon, 2 Mar 2026 08:15:00 +0100\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=XYZ\r\n\r\n\
--XYZ\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
Sehr geehrte Damen und Herren,=0D=0Adie Stra=DFe wird ge=E4ndert. Sch=F6ne Gr=FC=DFe=\r\n aus K=F6ln.\r\n\
--XYZ\r\nContent-Type: text/plain; charset=windows-1252; name=notiz.txt\r\nContent-Disposition: attachment; filename=notiz.txt\r\n\
Content-Transfer-Encoding: base64\r\n\r\n\
hEFu5G5kZXJ1bmeTIGRlciBNYd9uYWhtZSCAIDUw\r\n--XYZ--\r\n";
    let out = eml.extract(latin1, "message/rfc822").await.unwrap().value;
    assert_eq!(out.field("from"), Some("Jürgen Müller <jm@example.org>"));
    assert_eq!(out.field("to"), Some("amt@example.org, Bürgerbüro <bb@example.org>"));
    assert_eq!(out.field("subject"), Some("Stellungnahme zu § 6 - Grüße"));
    assert_eq!(out.field("date"), Some("2026-03-02T08:15:00+01:00"));
    assert_eq!(
        out.page_texts(),
        vec![
            "Sehr geehrte Damen und Herren,\ndie Straße wird geändert. Schöne Grüße aus Köln.",
            "„Anänderung“ der Maßnahme € 50"
        ]
    );
    assert_eq!(out.field("attachment"), Some("notiz.txt; text/plain; 38"));

    let html: &[u8] =
        b"From: a@example.org\nTo: b@example.org\nSubject: HTML\nContent-Type: text/html; charset=utf-8\n\
Content-Transfer-Encoding: base64\n\n\
PGh0bWw+PGJvZHk+PHA+R3LDvMOfZSBhdXMgPGI+TcO8bmNoZW48L2I+ICZhbXA7IFVtZ2VidW5nPC9wPjwvYm9keT48L2h0bWw+\n";
    let out = eml.extract(html, "message/rfc822").await.unwrap().value;
    assert!(!out.text.contains('<'), "{:?}", out.text);
    assert!(recall("Grüße aus München & Umgebung", &out.text) == 1.0, "{:?}", out.text);
}

#[tokio::test]
async fn eml_hostile_inputs_are_contained() {
    let (_dir, host) = host();
    let eml = shipped(&host, "eml");
    let good = std::fs::read(fixture_dir().join("oeffentlichkeit/03-einwendung-wolters.eml")).unwrap();

    // 50 MB of attachment in base64, 76 characters a line.
    let mut big = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Gross\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAnbei die Daten.\r\n\
--B\r\nContent-Type: application/octet-stream; name=daten.bin\r\nContent-Disposition: attachment; filename=daten.bin\r\n\
Content-Transfer-Encoding: base64\r\n\r\n"
        .to_vec();
    let line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    let lines = 50_000_000 / 57 + 1;
    big.reserve(lines * line.len() + 16);
    for _ in 0..lines {
        big.extend_from_slice(line);
    }
    big.extend_from_slice(b"--B--\r\n");

    let mut rng = 0x9E3779B97F4A7C15u64;
    let random: Vec<u8> = (0..1 << 20)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng as u8
        })
        .collect();
    let mut headed = b"Subject: x\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n".to_vec();
    headed.extend_from_slice(&random);
    let nested: Vec<u8> = {
        // 2,000 nested multiparts.
        let mut m = b"From: a@example.org\r\nSubject: tief\r\n".to_vec();
        for i in 0..2000 {
            m.extend_from_slice(format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes());
        }
        m.extend_from_slice(b"Content-Type: text/plain\r\n\r\ninnen\r\n");
        m
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("50 MB base64 attachment", big),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("random bytes", random),
        ("random body after headers", headed),
        ("2000 nested multiparts", nested),
    ];
    for (name, bytes) in &cases {
        let (r, elapsed) = timed(&eml, bytes, "message/rfc822").await;
        assert_contained(name, &r, elapsed);
        assert!(elapsed < Duration::from_secs(30), "{name}: {elapsed:?}");
        if *name == "50 MB base64 attachment" {
            let out = r.unwrap().value;
            assert_eq!(out.text, "Anbei die Daten.");
            let att = out.field("attachment").unwrap();
            assert!(att.starts_with("daten.bin; application/octet-stream; "), "{att}");
            let size: usize = att.rsplit("; ").next().unwrap().parse().unwrap();
            assert!(size >= 50_000_000, "{att}");
        }
        let next = eml.extract(&good, "message/rfc822").await.unwrap_or_else(|e| panic!("after {name}: {e}"));
        assert!(next.value.field("subject").is_some(), "after {name}");
    }
}
