//! The built-in office extractor (`plugins/guests/office`) through the real host: every DOCX
//! and ODT of the fixture case against its `truth.json`, XLSX and ODS written here, document
//! properties as fields, and hostile archives and XML (zip bombs, `../` names, malformed
//! XML, billion laughs, deep nesting, empty files), each ending in a clean failure or
//! bounded output while the host lives on.

mod common;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use akte_plugins::{Extraction, Failure, Plugin, PluginError};
use common::{host, shipped};
use zip::write::SimpleFileOptions;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const ODT: &str = "application/vnd.oasis.opendocument.text";
const ODS: &str = "application/vnd.oasis.opendocument.spreadsheet";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/windpark-hohe-heide")
}

/// Every file under `dir` whose name ends in one of `extensions`, sorted.
fn files(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, extensions, out);
        } else if extensions.iter().any(|e| path.extension().is_some_and(|x| x == *e)) {
            out.push(path);
        }
    }
    out.sort();
}

/// The share of `truth`'s words (as a multiset, split on whitespace) found in `text`.
fn recall(truth: &str, text: &str) -> f64 {
    let mut have: HashMap<&str, usize> = HashMap::new();
    for w in text.split_whitespace() {
        *have.entry(w).or_default() += 1;
    }
    let (mut found, mut total) = (0usize, 0usize);
    for w in truth.split_whitespace() {
        total += 1;
        if let Some(n) = have.get_mut(w)
            && *n > 0
        {
            *n -= 1;
            found += 1;
        }
    }
    if total == 0 { 1.0 } else { found as f64 / total as f64 }
}

async fn run(plugin: &Plugin, bytes: &[u8], media_type: &str) -> Extraction {
    match plugin.extract(bytes, media_type).await {
        Ok(out) => out.value,
        Err(e) => panic!("extraction failed: {e}"),
    }
}

async fn failure(plugin: &Plugin, bytes: &[u8], media_type: &str) -> Failure {
    match plugin.extract(bytes, media_type).await {
        Err(PluginError::Failed { failure, .. }) => failure,
        other => panic!("expected the plugin's own failure, got {other:?}"),
    }
}

/// Writes a deflated ZIP of `(name, content)` entries.
fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in entries {
        let options = if *name == "mimetype" {
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored)
        } else {
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
        };
        zip.start_file(*name, options).unwrap();
        zip.write_all(content.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// One raw ZIP entry: name, method (0 stored, 8 deflated), data as stored, CRC and the
/// uncompressed size the directory claims.
struct Raw<'a> {
    name: &'a str,
    method: u16,
    data: Vec<u8>,
    crc: u32,
    size: u32,
}

impl Raw<'_> {
    fn stored(name: &str, content: &[u8]) -> Raw<'static> {
        let mut crc = flate2::Crc::new();
        crc.update(content);
        Raw {
            name: Box::leak(name.into()),
            method: 0,
            data: content.to_vec(),
            crc: crc.sum(),
            size: content.len() as u32,
        }
    }
}

/// Writes a ZIP by hand, so that names and sizes may lie as an attacker's would.
fn raw_zip(entries: &[Raw<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            for v in [20u16, 0, e.method, 0, 0] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            for v in [e.crc, e.data.len() as u32, e.size] {
                h.extend_from_slice(&v.to_le_bytes());
            }
            h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            if central {
                for v in [0u16, 0, 0] {
                    h.extend_from_slice(&v.to_le_bytes());
                }
                h.extend_from_slice(&0u32.to_le_bytes());
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(e.name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(&e.data);
        central.extend(header(0x0201_4b50, true));
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, entries.len() as u16, entries.len() as u16] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Raw deflate of `data` ending in a full flush (byte-aligned, no back references), so
/// that such chunks can be concatenated.
fn deflate_chunk(data: &[u8]) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 500 + 1024);
    c.compress_vec(data, &mut out, flate2::FlushCompress::Full).unwrap();
    assert_eq!(c.total_in() as usize, data.len());
    out
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#;
const PACKAGE_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;
const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006""#;

#[tokio::test]
async fn fixture_docx_and_odt_match_the_truth() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let truth: HashMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("truth.json")).unwrap()).unwrap();
    let mut paths = Vec::new();
    files(&fixtures(), &["docx", "odt"], &mut paths);
    assert!(paths.len() >= 10, "fixture documents: {paths:?}");
    let mut worst = 1.0f64;
    for path in &paths {
        let key = path.strip_prefix(fixtures()).unwrap().to_string_lossy().replace('\\', "/");
        let expected = truth.get(&key).unwrap_or_else(|| panic!("{key} is not in truth.json"));
        let media_type = if key.ends_with(".docx") { DOCX } else { ODT };
        let out = run(&office, &std::fs::read(path).unwrap(), media_type).await;
        let r = recall(expected, &out.text);
        println!("{key}: word recall {r:.4} ({} bytes of text)", out.text.len());
        assert!(out.pages.is_empty(), "{key}: text documents have no pages");
        assert!(out.field("title").is_some(), "{key}: no title among {:?}", out.fields);
        worst = worst.min(r);
        assert!(r >= 0.98, "{key}: recall {r:.4}\n--- got:\n{}\n--- expected:\n{expected}", out.text);
    }
    println!("worst recall {worst:.4} over {} documents", paths.len());
}

#[tokio::test]
async fn docx_properties_become_fields() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let bytes = std::fs::read(fixtures().join("antrag/02-kurzbeschreibung.docx")).unwrap();
    let out = run(&office, &bytes, DOCX).await;
    assert_eq!(out.field("title"), Some("Allgemein verständliche Kurzbeschreibung des Vorhabens"));
    assert_eq!(out.field("subject"), Some("61.2-0815/2026"));
    assert_eq!(out.field("creator"), Some("Hohe Heide Windenergie GmbH & Co. KG"));
    assert_eq!(out.field("created"), Some("2026-02-03T09:00:00Z"));
    assert_eq!(out.field("modified"), Some("2026-02-03T09:00:00Z"));
    assert_eq!(out.field("format"), Some("docx"));
    assert_eq!(out.language.as_deref(), Some("de-DE"));
    assert!(out.text.starts_with("Windpark Hohe Heide – Allgemein verständliche Kurzbeschreibung\n"), "{}", out.text);

    let odt = std::fs::read(fixtures().join("antrag/06-nachforderung-unterlagen.odt")).unwrap();
    let out = run(&office, &odt, ODT).await;
    assert_eq!(out.field("title"), Some("Nachforderung von Antragsunterlagen"));
    assert_eq!(out.field("creator"), Some("Landkreis Heideland"));
    assert_eq!(out.field("created"), Some("2026-02-12T09:00:00"));
    assert_eq!(out.field("modified"), Some("2026-02-12T09:00:00"));
    assert_eq!(out.field("format"), Some("odt"));
    assert_eq!(out.language.as_deref(), Some("de-DE"));
}

#[tokio::test]
async fn docx_tables_notes_headers_once_and_no_deleted_text() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>
<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Nabenh</w:t></w:r><w:r><w:t>öhe</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve">166 m</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r></w:p>
<w:p><w:del><w:r><w:delText>gestrichen</w:delText></w:r></w:del><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:t>Seite</w:t><w:br/><w:t>zwei</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Gemarkung</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Hohenheide</w:t></w:r></w:p><w:p><w:r><w:t>Flur 3</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p/></w:tc><w:tc><w:p><w:r><w:t>17/2</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:txbxContent><w:p><w:r><w:t>Textfeld</w:t></w:r></w:p></w:txbxContent></mc:Choice><mc:Fallback><w:txbxContent><w:p><w:r><w:t>Textfeld</w:t></w:r></w:p></w:txbxContent></mc:Fallback></mc:AlternateContent></w:r></w:p>
<w:sectPr/></w:body></w:document>"#
    );
    let rels = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header2.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="/word/footer1.xml"/>
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>
<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.org/" TargetMode="External"/></Relationships>"#;
    let header = format!(r#"<w:hdr {W}><w:p><w:r><w:t>Landkreis Heideland</w:t></w:r></w:p></w:hdr>"#);
    let footer = format!(r#"<w:ftr {W}><w:p><w:r><w:t>Aktenzeichen 61.2-0815/2026</w:t></w:r></w:p></w:ftr>"#);
    let notes = format!(
        r#"<w:footnotes {W}><w:footnote w:id="0"><w:p><w:r><w:separator/></w:r></w:p></w:footnote><w:footnote w:id="1"><w:p><w:r><w:t>Laut Herstellerangabe.</w:t></w:r></w:p></w:footnote></w:footnotes>"#
    );
    let core = r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>Prüfvermerk</dc:title><cp:keywords>Windkraft, Nabenhöhe</cp:keywords><dc:creator>Svenja Harmsen</dc:creator></cp:coreProperties>"#;
    let bytes = zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", PACKAGE_RELS),
        ("word/document.xml", &document),
        ("word/_rels/document.xml.rels", rels),
        ("word/header1.xml", &header),
        ("word/header2.xml", &header),
        ("word/footer1.xml", &footer),
        ("word/footnotes.xml", &notes),
        ("docProps/core.xml", core),
    ]);
    let out = run(&office, &bytes, DOCX).await;
    assert_eq!(
        out.text,
        "Nabenhöhe\t166 m\nSeite\nzwei\nGemarkung\tHohenheide Flur 3\n\t17/2\nTextfeld\n\
         Laut Herstellerangabe.\nLandkreis Heideland\nAktenzeichen 61.2-0815/2026"
    );
    assert_eq!(out.field("keywords"), Some("Windkraft, Nabenhöhe"));
    assert_eq!(out.field("title"), Some("Prüfvermerk"));
    assert_eq!(out.field("creator"), Some("Svenja Harmsen"));
}

#[tokio::test]
async fn xlsx_sheets_become_pages_of_tab_separated_rows() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let rels = r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let workbook = r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Anlagen" sheetId="1" r:id="rId2"/><sheet name="Fristen &amp; Termine" sheetId="2" r:id="rId1"/></sheets></workbook>"#;
    let wb_rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
    let shared = r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>WEA</t></si><si><t>Nabenhöhe</t></si><si><r><t>Flur</t></r><r><t xml:space="preserve">stück</t></r><rPh><t>ふりがな</t></rPh></si><si><t>Erörterung</t></si></sst>"#;
    let sheet1 = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="D1" t="s"><v>2</v></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>WEA 1</t></is></c><c r="B2"><v>166</v></c><c r="C2" t="b"><v>1</v></c><c r="D2" t="str"><f>"17/"&amp;"2"</f><v>17/2</v></c></row>
<row r="5"><c r="B5"><v>166.5</v></c></row></sheetData></worksheet>"#;
    let sheet2 = r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>3</v></c><c r="B1"><v>46100</v></c></row></sheetData></worksheet>"#;
    let core = r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>Anlagenliste</dc:title><dcterms:created>2026-03-01T10:00:00Z</dcterms:created></cp:coreProperties>"#;
    let bytes = zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", rels),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", wb_rels),
        ("xl/sharedStrings.xml", shared),
        ("xl/worksheets/sheet1.xml", sheet1),
        ("xl/worksheets/sheet2.xml", sheet2),
        ("docProps/core.xml", core),
    ]);
    let out = run(&office, &bytes, XLSX).await;
    assert_eq!(
        out.page_texts(),
        vec![
            "Anlagen\nWEA\tNabenhöhe\t\tFlurstück\nWEA 1\t166\tTRUE\t17/2\n\t166.5",
            "Fristen & Termine\nErörterung\t46100"
        ],
        "{}",
        out.text
    );
    assert_eq!(out.field("title"), Some("Anlagenliste"));
    assert_eq!(out.field("created"), Some("2026-03-01T10:00:00Z"));
    assert_eq!(out.field("format"), Some("xlsx"));
}

#[tokio::test]
async fn ods_sheets_become_pages_and_repeats_stay_bounded() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>
<table:table table:name="Einwendungen"><table:table-column table:number-columns-repeated="1024"/>
<table:table-row><table:table-cell office:value-type="string"><text:p>Nr.</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Einwender</text:p></table:table-cell><table:table-cell table:number-columns-repeated="16382"/></table:table-row>
<table:table-row><table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell><table:table-cell office:value-type="string"><text:p>Brockmann<text:s text:c="2"/>(Lärm)</text:p><text:p>zweite Zeile</text:p></table:table-cell></table:table-row>
<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="16384"/></table:table-row>
<table:table-row table:number-rows-repeated="2"><table:table-cell table:number-columns-repeated="2"><text:p>x</text:p></table:table-cell></table:table-row>
</table:table>
<table:table table:name="Leer"/>
<table:table table:name="Summen"><table:table-row><table:table-cell/><table:table-cell office:value-type="float" office:value="3"><text:p>3</text:p></table:table-cell></table:table-row></table:table>
</office:spreadsheet></office:body></office:document-content>"#;
    let meta = r#"<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>Einwendungsübersicht</dc:title><meta:keyword>Lärm</meta:keyword><meta:keyword>Schatten</meta:keyword><meta:initial-creator>Fachdienst 61</meta:initial-creator><dc:creator>Sachbearbeitung</dc:creator></office:meta></office:document-meta>"#;
    let bytes = zip_of(&[("mimetype", ODS), ("content.xml", content), ("meta.xml", meta)]);
    let out = run(&office, &bytes, ODS).await;
    assert_eq!(
        out.page_texts(),
        vec!["Einwendungen\nNr.\tEinwender\n1\tBrockmann  (Lärm) zweite Zeile\nx\tx\nx\tx", "Leer", "Summen\n\t3"],
        "{}",
        out.text
    );
    assert_eq!(out.field("title"), Some("Einwendungsübersicht"));
    assert_eq!(out.field("keywords"), Some("Lärm, Schatten"));
    assert_eq!(out.field("creator"), Some("Fachdienst 61"));
    assert_eq!(out.field("last-modified-by"), Some("Sachbearbeitung"));
    assert_eq!(out.field("format"), Some("ods"));
}

#[tokio::test]
async fn odt_notes_and_headers_come_once_after_the_body() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let ns = r#"xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0""#;
    let content = format!(
        r#"<office:document-content {ns}><office:body><office:text><text:tracked-changes><text:changed-region><text:deletion><text:p>gelöscht</text:p></text:deletion></text:changed-region></text:tracked-changes>
<text:h>Bescheid</text:h><text:p>Die Anlage<text:note text:note-class="footnote"><text:note-citation>1</text:note-citation><text:note-body><text:p>Typ AV-162.</text:p></text:note-body></text:note> wird genehmigt.<text:tab/>Ende<text:line-break/>neue Zeile</text:p>
<table:table><table:table-row><table:table-cell><text:p>A</text:p></table:table-cell><table:covered-table-cell/><table:table-cell><text:p>C</text:p></table:table-cell></table:table-row></table:table>
<office:annotation><text:p>Kommentar</text:p></office:annotation></office:text></office:body></office:document-content>"#
    );
    let styles = format!(
        r#"<office:document-styles {ns}><office:styles><style:style style:name="x"/></office:styles><office:master-styles><style:master-page style:name="Standard"><style:header><text:p>Landkreis Heideland</text:p></style:header><style:footer><text:p>Seite <text:page-number>1</text:page-number></text:p></style:footer></style:master-page><style:master-page style:name="Erste"><style:header><text:p>Landkreis Heideland</text:p></style:header></style:master-page></office:master-styles></office:document-styles>"#
    );
    let bytes = zip_of(&[("mimetype", ODT), ("content.xml", &content), ("styles.xml", &styles)]);
    let out = run(&office, &bytes, ODT).await;
    assert_eq!(
        out.text,
        "Bescheid\nDie Anlage wird genehmigt.\tEnde\nneue Zeile\nA\t\tC\nTyp AV-162.\nLandkreis Heideland\nSeite 1"
    );
}

#[tokio::test]
async fn a_zip_bomb_ends_in_a_failure_and_the_host_lives_on() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let timeout = Duration::from_millis(office.manifest().limits.timeout_ms);
    let prefix = format!(r#"<?xml version="1.0"?><w:document {W}><w:body><w:p><w:r><w:t>"#);
    let zeros = deflate_chunk(&vec![b'0'; 1 << 20]);
    let mut data = deflate_chunk(prefix.as_bytes());
    let chunks = 4000; // 4000 MiB of zeros
    for _ in 0..chunks {
        data.extend_from_slice(&zeros);
    }
    data.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]); // final, empty stored block
    println!("bomb: {} KiB deflating to {} MiB", data.len() >> 10, chunks);
    let entries = |claimed: u32| {
        vec![
            Raw::stored("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            Raw::stored("_rels/.rels", PACKAGE_RELS.as_bytes()),
            Raw { name: "word/document.xml", method: 8, data: data.clone(), crc: 0, size: claimed },
        ]
    };
    // Honest directory: refused before inflating. Lying directory: stopped while inflating.
    for claimed in [u32::MAX - 1, 4096] {
        let bomb = raw_zip(&entries(claimed));
        let started = Instant::now();
        let f = failure(&office, &bomb, DOCX).await;
        let elapsed = started.elapsed();
        println!("bomb claiming {claimed} bytes: {f:?} after {elapsed:?}");
        assert!(elapsed < timeout, "{elapsed:?}");
        assert!(format!("{f:?}").contains("zip bomb") || matches!(f, Failure::Malformed(_)), "{f:?}");
    }
    // The next call is served as usual.
    let good = std::fs::read(fixtures().join("antrag/02-kurzbeschreibung.docx")).unwrap();
    assert!(run(&office, &good, DOCX).await.text.contains("Kurzbeschreibung"));
}

#[tokio::test]
async fn dot_dot_names_are_only_names() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let document = format!(r#"<w:document {W}><w:body><w:p><w:r><w:t>Inhalt</w:t></w:r></w:p></w:body></w:document>"#);
    let evil_rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="../../../../etc/passwd"/></Relationships>"#;
    let bytes = raw_zip(&[
        Raw::stored("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        Raw::stored("_rels/.rels", PACKAGE_RELS.as_bytes()),
        Raw::stored("../../../../tmp/akte-evil.txt", b"boese"),
        Raw::stored("/etc/passwd", b"root:x:0:0"),
        Raw::stored("word/document.xml", document.as_bytes()),
        Raw::stored("word/_rels/document.xml.rels", evil_rels.as_bytes()),
    ]);
    let out = run(&office, &bytes, DOCX).await;
    assert_eq!(out.text, "Inhalt");
    assert!(!Path::new("/tmp/akte-evil.txt").exists());
}

#[tokio::test]
async fn malformed_and_empty_input_fail_cleanly() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    // Empty files, of each kind.
    for media_type in [DOCX, ODT, XLSX, ODS, "application/xml"] {
        assert!(matches!(failure(&office, b"", media_type).await, Failure::Malformed(_)));
    }
    // Not a ZIP at all, and a truncated one.
    assert!(matches!(failure(&office, b"%PDF-1.7 not office", DOCX).await, Failure::Malformed(_)));
    let good = std::fs::read(fixtures().join("antrag/02-kurzbeschreibung.docx")).unwrap();
    assert!(matches!(failure(&office, &good[..good.len() / 2], DOCX).await, Failure::Malformed(_)));
    // Broken XML inside a valid archive.
    let broken = zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", PACKAGE_RELS),
        ("word/document.xml", "<w:document><w:body><w:p></w:body></w:document>"),
    ]);
    let f = failure(&office, &broken, DOCX).await;
    assert!(matches!(&f, Failure::Malformed(m) if m.contains("word/document.xml")), "{f:?}");
    // A plain ZIP that is no office document.
    let other = zip_of(&[("readme.txt", "hallo")]);
    assert!(matches!(failure(&office, &other, DOCX).await, Failure::Unsupported(_)));
    // Malformed XML.
    assert!(matches!(failure(&office, b"<a><b></a>", "application/xml").await, Failure::Malformed(_)));
    assert!(matches!(failure(&office, b"no markup at all", "text/xml").await, Failure::Malformed(_)));
}

#[tokio::test]
async fn character_data_must_be_utf8_but_other_bytes_need_not_be() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let docx = |body: &[u8]| {
        let mut document = format!(r#"<?xml version="1.0" encoding="UTF-8"?><w:document {W}><w:body>"#).into_bytes();
        document.extend_from_slice(body);
        document.extend_from_slice(b"</w:body></w:document>");
        raw_zip(&[
            Raw::stored("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            Raw::stored("_rels/.rels", PACKAGE_RELS.as_bytes()),
            Raw::stored("word/document.xml", &document),
        ])
    };
    // A Latin-1 byte in an attribute nobody reads: the part as a whole is not UTF-8, its
    // character data is, and all of it comes out (empty elements included).
    let out = run(
        &office,
        &docx(b"<w:p w:rsidR=\"\xfc\"><w:r><w:t>G\xc3\xbcltig</w:t><w:tab/><w:t>bis</w:t><w:br/><w:t>2030</w:t></w:r></w:p>"),
        DOCX,
    )
    .await;
    assert_eq!(out.text, "G\u{fc}ltig\tbis\n2030");
    // The same byte in the text: a failure that says so.
    let f = failure(&office, &docx(b"<w:p><w:r><w:t>G\xfcltig</w:t></w:r></w:p>"), DOCX).await;
    assert!(matches!(&f, Failure::Malformed(m) if m.contains("not UTF-8")), "{f:?}");
}

#[tokio::test]
async fn xml_character_data_without_comments_and_pis() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<?xml-stylesheet href=\"x.xsl\"?>\n\
               <!DOCTYPE akte SYSTEM \"akte.dtd\">\n<akte xml:lang=\"de\">\n  <!-- interner Vermerk -->\n  \
               <titel>Gr\u{f6}\u{df}e &amp; Ma\u{df}e</titel>\n  <az>61.2-0815/2026</az><b>&#8222;zitiert&#8220;</b>\n  \
               <text><![CDATA[<roh> & unverändert]]> &lol;</text>\n</akte>\n";
    // The typographic quotes are character references, so Latin-1 holds all the rest.
    let latin1: Vec<u8> = xml.chars().map(|c| u8::try_from(c as u32).unwrap()).collect();
    let out = run(&office, &latin1, "application/xml").await;
    assert_eq!(out.text, "Größe & Maße\n61.2-0815/2026 „zitiert“\n<roh> & unverändert &lol;");
    assert_eq!(out.field("root-element"), Some("akte"));
    assert_eq!(out.field("encoding"), Some("windows-1252"));
    assert_eq!(out.language.as_deref(), Some("de"));
}

#[tokio::test]
async fn billion_laughs_and_deep_nesting_are_refused() {
    let (_dir, host) = host();
    let office = shipped(&host, "office");
    let mut laughs = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
        laughs.push_str(&format!(" <!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
    }
    laughs.push_str("]>\n<lolz>&lol9;</lolz>\n");
    let started = Instant::now();
    let f = failure(&office, laughs.as_bytes(), "application/xml").await;
    assert!(matches!(&f, Failure::Unsupported(m) if m.contains("entities")), "{f:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    // The same inside a DOCX part.
    let bomb = zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", PACKAGE_RELS),
        ("word/document.xml", &laughs),
    ]);
    assert!(matches!(failure(&office, &bomb, DOCX).await, Failure::Unsupported(_)));
    // An external entity (XXE) is refused just the same.
    let xxe = "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>";
    assert!(matches!(failure(&office, xxe.as_bytes(), "text/xml").await, Failure::Unsupported(_)));
    // Nesting far beyond any document: a failure, not a stack overflow.
    let deep = format!("{}{}", "<a>".repeat(200_000), "</a>".repeat(200_000));
    let f = failure(&office, deep.as_bytes(), "application/xml").await;
    assert!(matches!(&f, Failure::Malformed(m) if m.contains("nested")), "{f:?}");
}
