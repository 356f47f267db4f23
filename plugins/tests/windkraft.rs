//! The windkraft example plugin in Rust, Python and JavaScript (`plugins/examples/`, built
//! by `plugins/build-examples.sh`), through the real host, over every document text of the
//! demo case (`fixtures/windpark-hohe-heide/truth.json`):
//! - the Rust plugin suggests the document type and exactly the fields written below, which
//!   were read off the texts by hand (not by running the plugin);
//! - all three plugins suggest the same on the text production gives them: what the
//!   built-in extractors (`plugins/build-guests.sh`) make of each fixture file, plus OCR of
//!   the scans where tesseract is installed, as the ingest pipeline does;
//! - the Python and JavaScript plugins suggest exactly what the Rust plugin suggests, on the
//!   fixture texts and the extracted ones, on altered copies of them (case, line ends,
//!   no-break spaces, page breaks, cuts in the middle of a character sequence, astral
//!   characters) and on a few hundred generated texts;
//! - all three finish a huge, hostile text within their time limit.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use akte_plugins::{DocumentInfo, Failure, Plugin, PluginError, PluginHost, Suggestion};
use common::{shipped, shipped_manifest, wasm};

const NAMES: [&str; 3] = ["windkraft-rust", "windkraft-py", "windkraft-js"];

/// Fails clearly when `plugins/build-examples.sh` has not run.
fn require_examples() {
    for name in NAMES.iter().chain(&["sdk-template"]) {
        let path = common::guests_dir().join(format!("{name}.wasm"));
        assert!(
            path.is_file(),
            "example component {} is missing.\nBuild the examples first: `bash plugins/build-examples.sh` \
             (it writes to $AKTE_GUESTS_DIR or $CARGO_TARGET_DIR/wasm/components)",
            path.display()
        );
    }
}

/// The host and the three plugins, loaded once for all tests (compiling the Python and
/// JavaScript components takes seconds each).
struct Plugins {
    _dir: tempfile::TempDir,
    _host: PluginHost,
    rust: Plugin,
    py: Plugin,
    js: Plugin,
}

static PLUGINS: LazyLock<Plugins> = LazyLock::new(|| {
    require_examples();
    let (dir, host) = common::host();
    let [rust, py, js] = NAMES.map(|name| {
        let started = Instant::now();
        let plugin = shipped(&host, name);
        eprintln!("{name}: {} bytes, loaded in {:?}", wasm(name).len(), started.elapsed());
        plugin
    });
    Plugins { _dir: dir, _host: host, rust, py, js }
});

/// A document of the demo case: its path in `truth.json`, text and what the host tells.
#[derive(Clone)]
struct Doc {
    path: String,
    text: String,
    info: DocumentInfo,
    /// Where the text comes from: `truth.json`, or the extractor (and OCR) that made it.
    read_by: String,
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/windpark-hohe-heide")
}

/// Every document of `truth.json`, with media type, file name and Akte from `case.json`.
fn fixture_docs() -> Vec<Doc> {
    let dir = fixture_dir();
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
    };
    let (truth, case) = (read("truth.json"), read("case.json"));
    let mut akten = vec![(case["akte"].clone(), case["dokumente"].clone())];
    for weitere in case["weitere_akten"].as_array().unwrap() {
        akten.push((weitere["akte"].clone(), weitere["dokumente"].clone()));
    }
    let mut meta = BTreeMap::new();
    for (akte, dokumente) in &akten {
        for d in dokumente.as_array().unwrap() {
            meta.insert(d["file"].as_str().unwrap().to_string(), (akte.clone(), d.clone()));
        }
    }
    let docs: Vec<Doc> = truth
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, text)| {
            let (akte, d) = meta.get(path).unwrap_or_else(|| panic!("{path} is not in case.json"));
            let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
            let info = DocumentInfo {
                media_type: d["media_type"].as_str().unwrap().into(),
                file_name: path.rsplit('/').next().map(str::to_string),
                size: d["size"].as_u64().unwrap(),
                document_type: None,
                aktenzeichen: s(&akte["aktenzeichen"]),
                akte_title: s(&akte["title"]),
                aktenplan: s(&akte["aktenplan"]),
                fields: Vec::new(),
            };
            Doc { path: path.clone(), text: text.as_str().unwrap().to_string(), info, read_by: "truth.json".into() }
        })
        .collect();
    assert_eq!(docs.len(), 54, "the demo case has 54 documents");
    docs
}

// ---------------------------------------------------------------------------------------
// The text production gives the plugins: the built-in extractors' output, and OCR.

/// The built-in extractors (`plugins/build-guests.sh`); each document goes to the one whose
/// manifest names its media type, as in the ingest pipeline.
const EXTRACTORS: [&str; 4] = ["pdf", "office", "eml", "txt"];

/// The media type the repository gives a file of this name (`akte_store::media_type_for`),
/// for the kinds of file in the demo case.
fn media_type_for(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("pdf") => "application/pdf",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("odt") => "application/vnd.oasis.opendocument.text",
        Some("eml") => "message/rfc822",
        Some("txt") => "text/plain",
        Some("png") => "image/png",
        _ => panic!("{path}: a kind of file the demo case does not have"),
    }
}

/// Whether the OCR the pipeline uses is installed: tesseract with German, and pdftoppm.
fn ocr_available() -> bool {
    let tesseract = Command::new("tesseract").arg("--list-langs").output();
    let german = tesseract.is_ok_and(|o| {
        let out = [o.stdout, o.stderr].concat();
        String::from_utf8_lossy(&out).lines().any(|l| l.trim() == "deu")
    });
    german && Command::new("pdftoppm").arg("-v").output().is_ok()
}

/// The text of an image, recognised as the pipeline does (`tesseract IMAGE stdout -l deu
/// --psm 3`, one thread per process here).
fn ocr_image(image: &Path) -> String {
    let out = Command::new("tesseract")
        .arg(image)
        .args(["stdout", "-l", "deu", "--psm", "3"])
        .env("OMP_THREAD_LIMIT", "1")
        .output()
        .unwrap_or_else(|e| panic!("tesseract {}: {e}", image.display()));
    assert!(out.status.success(), "tesseract {}: {}", image.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// The text of the given pages of a PDF, rendered like the pipeline does (300 dpi, grey)
/// and recognised; one page after the other, separated by a line end.
fn ocr_pdf_pages(pdf: &Path, pages: &[u32]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut texts = Vec::new();
    for page in pages {
        let prefix = dir.path().join(format!("page{page}"));
        let n = page.to_string();
        let status = Command::new("pdftoppm")
            .args(["-r", "300", "-gray", "-png", "-singlefile", "-f", &n, "-l", &n])
            .arg(pdf)
            .arg(&prefix)
            .status()
            .unwrap();
        assert!(status.success(), "pdftoppm {} page {page}", pdf.display());
        texts.push(ocr_image(&prefix.with_extension("png")));
    }
    texts.join("\n")
}

/// Adds `more` to `text` as the pipeline does: a blank line between, nothing for blank text.
fn push_text(text: &mut String, more: &str) {
    if more.trim().is_empty() {
        return;
    }
    if !text.trim().is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(more);
}

static EXTRACTED: tokio::sync::OnceCell<Vec<Doc>> = tokio::sync::OnceCell::const_new();

/// The fixture documents with the text production gives the enrichers, made once for all
/// tests: each file through the built-in extractor for its media type, then OCR of the
/// images and of the PDF pages without a text layer (field `pages-without-text`), appended
/// as the pipeline does. Without tesseract (with German) and pdftoppm the scans are left
/// out: their text exists only through OCR.
async fn extracted_docs() -> &'static [Doc] {
    EXTRACTED
        .get_or_init(|| async {
            let (_dir, host) = common::host();
            let extractors = EXTRACTORS.map(|name| shipped(&host, name));
            let ocr = ocr_available();
            if !ocr {
                eprintln!("tesseract with German or pdftoppm is missing: the scans are left out");
            }
            let mut docs = Vec::new();
            let mut scans = Vec::new();
            for mut doc in fixture_docs() {
                let media_type = media_type_for(&doc.path);
                assert_eq!(media_type, doc.info.media_type, "{}: the media type of case.json", doc.path);
                let file = fixture_dir().join(&doc.path);
                let extractor = extractors.iter().find(|p| p.manifest().media_types.iter().any(|m| m == media_type));
                let (mut text, mut read_by, mut without_text) = (String::new(), Vec::new(), Vec::new());
                if let Some(extractor) = extractor {
                    let bytes = std::fs::read(&file).unwrap();
                    let e = extractor
                        .extract(&bytes, media_type)
                        .await
                        .unwrap_or_else(|e| panic!("{}: {e}", doc.path))
                        .value;
                    text = e.text;
                    read_by.push(extractor.manifest().name.clone());
                    without_text = e
                        .fields
                        .iter()
                        .find(|f| f.name == "pages-without-text")
                        .map(|f| f.value.split(',').filter_map(|n| n.trim().parse::<u32>().ok()).collect())
                        .unwrap_or_default();
                }
                let image = media_type.starts_with("image/");
                if image || !without_text.is_empty() {
                    if !ocr {
                        continue;
                    }
                    read_by.push("OCR".into());
                    scans.push((docs.len(), file, image, without_text));
                }
                assert!(!read_by.is_empty(), "{}: nothing reads this file", doc.path);
                doc.text = text;
                doc.read_by = read_by.join(" + ");
                docs.push(doc);
            }
            // OCR takes seconds a page: two pages at a time.
            let jobs = Mutex::new(scans);
            let texts = Mutex::new(Vec::new());
            std::thread::scope(|s| {
                for _ in 0..2 {
                    s.spawn(|| {
                        loop {
                            let job = jobs.lock().unwrap().pop();
                            let Some((k, file, image, pages)) = job else { break };
                            let text = if image { ocr_image(&file) } else { ocr_pdf_pages(&file, &pages) };
                            texts.lock().unwrap().push((k, text));
                        }
                    });
                }
            });
            for (k, text) in texts.into_inner().unwrap() {
                push_text(&mut docs[k].text, &text);
            }
            docs
        })
        .await
}

// The turbine data of the Windpark Hohe Heide, as the texts state them.
const ANZAHL: (&str, &str) = ("anzahl-wea", "5");
const TYP: (&str, &str) = ("anlagentyp", "Aerovent AV-162");
const NABE: (&str, &str) = ("nabenhoehe-m", "166");
const ROTOR: (&str, &str) = ("rotordurchmesser-m", "162");
const HOEHE: (&str, &str) = ("gesamthoehe-m", "247");
const LEISTUNG: (&str, &str) = ("nennleistung-mw", "6.2");
const GEMARKUNG: (&str, &str) = ("gemarkung", "Hohenheide");
const FLUR: (&str, &str) = ("flur", "3");
/// The turbines' own parcels; never the Baulast parcels 17/3, 22, 34, the access road's 19,
/// 22, 25/1 or the compensation land 40, 41 in Flur 5, which several texts also name.
const PARCELS: (&str, &str) = ("flurstuecke", "17/2, 18, 21/1, 24, 33/4");
const AZ: (&str, &str) = ("aktenzeichen", "61.2-0815/2026");

/// A document type and fields as (name, value).
type Expected = (Option<&'static str>, Vec<(&'static str, &'static str)>);

/// What the plugin must suggest for each document: the document type (the fixture's
/// vocabulary, see `case.json`) and exactly these fields, in this order after
/// `unterlagenart`. Read off the texts: a field is listed where the text states it in a form
/// the rules cover; comments name what a reader sees that the rules do not read.
#[rustfmt::skip]
fn expectations() -> BTreeMap<&'static str, Expected> {
    let u = |v: &'static str| ("unterlagenart", v);
    let all = [ANZAHL, TYP, NABE, ROTOR, HOEHE, LEISTUNG, GEMARKUNG, FLUR, PARCELS];
    let mut e = BTreeMap::new();
    let mut put = |path, doc_type, fields: &[(&'static str, &'static str)]| {
        assert!(e.insert(path, (doc_type, fields.to_vec())).is_none(), "{path} twice");
    };
    // "Antrag auf Erteilung einer Genehmigung …": "von fünf Windenergieanlagen (WEA 1 bis
    // WEA 5)", the data table (Nabenhöhe 166 m …), "Gemarkung: Hohenheide, Flur 3",
    // "Flurstücke: 17/2 (WEA 1), …"; the Zuwegung's Flurstücke 19, 22, 25/1 are not turbines.
    put("antrag/01-antragsformular.pdf", Some("Antrag"), &[&[u("Genehmigungsantrag")][..], &all].concat());
    // Everything but the parcels; "in der Gemarkung Hohenheide, Flur 3".
    put("antrag/02-kurzbeschreibung.docx", Some("Antrag"),
        &[u("Kurzbeschreibung"), ANZAHL, TYP, NABE, ROTOR, HOEHE, LEISTUNG, GEMARKUNG, FLUR]);
    // The Flurstück column of the coordinates table; not the compensation Flurstück 40.
    put("antrag/03-lageplan-standorte.pdf", Some("Plan"), &[u("Lageplan"), PARCELS]);
    put("antrag/04-anschreiben-antragsunterlagen.eml", Some("Schreiben"), &[]);
    // "Az. 61.2-0815/2026"; "für alle fünf Anlagen" names no turbine type word.
    put("antrag/05-vermerk-vollstaendigkeitspruefung.txt", Some("Vermerk"), &[AZ]);
    put("antrag/06-nachforderung-unterlagen.odt", Some("Schreiben"), &[ANZAHL, GEMARKUNG, AZ]);
    // "Für den Anlagentyp Aerovent AV-162"; the heights only as "166 m + 81 m = 247 m".
    put("antrag/07-abstandsflaechen-scan.png", Some("Plan"), &[u("Abstandsflächenplan"), TYP, AZ]);
    put("entscheidung/01-anhoerung-nebenbestimmungen.odt", Some("Schreiben"), &[AZ]);
    // case.json files the applicant's reply as Schreiben; "Wir nehmen dazu fristgerecht wie
    // folgt Stellung" reads as a statement, and the rules say Stellungnahme.
    put("entscheidung/02-aeusserung-antragstellerin.eml", Some("Stellungnahme"), &[]);
    // The decision table gives Gemarkung, Flur and the five parcels (in the PDF's text a
    // table without tabs); 17/3, 22, 34 (Baulasten) and Flur 5, Flurstücke 40, 41
    // (Ablenkflächen, after a line break in the PDF's text) are other land.
    put("entscheidung/03-genehmigungsbescheid.pdf", Some("Bescheid"),
        &[&[u("Genehmigungsbescheid")][..], &all, &[AZ]].concat());
    put("entscheidung/04-zustellungsurkunde-scan.png", Some("Nachweis"), &[u("Zustellungsurkunde"), AZ]);
    put("entscheidung/05-bekanntmachung-genehmigung.docx", Some("Schreiben"),
        &[&[u("Öffentliche Bekanntmachung")][..], &all, &[AZ]].concat());
    put("entscheidung/06-gebuehrenbescheid.pdf", Some("Bescheid"), &[u("Kostenfestsetzungsbescheid"), ANZAHL, AZ]);
    put("eroerterung/01-einladung-eroerterungstermin.eml", Some("Schreiben"), &[]);
    // "fünf Windenergieanlagen Aerovent AV-162" (the type without the word "Typ").
    put("eroerterung/02-niederschrift-eroerterungstermin.pdf", Some("Niederschrift"), &[ANZAHL, AZ]);
    put("eroerterung/03-vermerk-ergebnis-eroerterung.txt", Some("Vermerk"), &[AZ]);
    // "mit 166 m Nabenhöhe" and "Nabenhöhe von 166 m" outweigh the existing turbines'
    // "Nabenhöhe 108 m" (Windpark Kiefernberg, Vorbelastung).
    put("gutachten/01-schallimmissionsprognose.pdf", Some("Gutachten"),
        &[u("Schallgutachten"), ANZAHL, TYP, NABE, LEISTUNG, GEMARKUNG]);
    put("gutachten/02-schattenwurfprognose.pdf", Some("Gutachten"), &[u("Schattenwurfgutachten")]);
    // "5 × Aerovent AV-162, Nabenhöhe 166 m".
    put("gutachten/03-turbulenzgutachten.docx", Some("Gutachten"), &[u("Turbulenzgutachten"), ANZAHL, NABE]);
    // "Typ Aerovent AV-162"; "1,5 × (166 m + 162 m)" is a distance rule, not data.
    put("gutachten/04-eiswurfgutachten.odt", Some("Gutachten"), &[u("Eiswurfgutachten"), TYP]);
    put("naturschutz/01-artenschutzrechtlicher-fachbeitrag.pdf", Some("Gutachten"), &[u("Artenschutzgutachten")]);
    put("naturschutz/02-fledermaus-abschaltkonzept.docx", Some("Gutachten"), &[]);
    // "Die Errichtung der fünf Windenergieanlagen", "Gesamthöhe von 247 m"; Flur 5,
    // Flurstück 40 is compensation land.
    put("naturschutz/03-landschaftspflegerischer-begleitplan.pdf", Some("Gutachten"),
        &[u("Landschaftspflegerischer Begleitplan"), ANZAHL, HOEHE]);
    // The extracted e-mail adds its attachment: "Fundort: Feldgehölz Eschenbusch, Gemarkung
    // Hohenheide, Flur 4" is a red kite's nest, other land.
    put("naturschutz/04-hinweis-rotmilanhorst.eml", Some("Schreiben"), &[]);
    put("oeffentlichkeit/01-oeffentliche-bekanntmachung.pdf", Some("Schreiben"),
        &[&[u("Öffentliche Bekanntmachung")][..], &all].concat());
    put("oeffentlichkeit/02-einwendung-harms-scan.png", Some("Einwendung"), &[]);
    put("oeffentlichkeit/03-einwendung-wolters.eml", Some("Einwendung"), &[]);
    put("oeffentlichkeit/04-einwendung-ahlers-scan.pdf", Some("Einwendung"), &[AZ]);
    put("oeffentlichkeit/05-einwendung-brockmann.txt", Some("Einwendung"), &[]);
    put("oeffentlichkeit/06-sammeleinwendung-buergerinitiative.docx", Some("Einwendung"),
        &[u("Sammeleinwendung"), ANZAHL, TYP, AZ]);
    put("oeffentlichkeit/07-einwendung-rechtsanwaelte-lueders.pdf", Some("Einwendung"), &[AZ]);
    put("oeffentlichkeit/08-einwendungsuebersicht.odt", Some("Vermerk"), &[AZ]);
    // "Windenergieanlage Aerovent AV-162 mit einer Nennleistung von 6,2 MW … Nabenhöhe von
    // 166 m" (the type without the word "Typ").
    put("standsicherheit/01-typenpruefung.pdf", Some("Nachweis"), &[u("Typenprüfung"), NABE, LEISTUNG]);
    put("standsicherheit/02-baugrundgutachten.pdf", Some("Gutachten"), &[u("Baugrundgutachten")]);
    // "WEA 5, Gemarkung Hohenheide, Flur 3, Flurstück 33/4".
    put("standsicherheit/03-pruefbericht-fundament-wea5-scan.png", Some("Nachweis"),
        &[u("Prüfbericht"), GEMARKUNG, FLUR, ("flurstuecke", "33/4"), AZ]);
    put("toeb/01-beteiligungsschreiben.docx", Some("Schreiben"),
        &[ANZAHL, TYP, NABE, ROTOR, HOEHE, LEISTUNG, GEMARKUNG, FLUR, AZ]);
    // "Az. UNB 67.3-112/2026 zu 61.2-0815/2026": the office's own number comes first.
    put("toeb/02-stellungnahme-naturschutzbehoerde.pdf", Some("Stellungnahme"), &[AZ]);
    put("toeb/03-einvernehmen-gemeinde-hohenheide.pdf", Some("Stellungnahme"),
        &[u("Einvernehmen"), ANZAHL, GEMARKUNG, AZ]);
    // "die fünf geplanten Windenergieanlagen mit einer Gesamthöhe von 247 m über Grund".
    put("toeb/04-stellungnahme-luftfahrtbehoerde.eml", Some("Stellungnahme"), &[ANZAHL, HOEHE, AZ]);
    put("toeb/05-stellungnahme-bundeswehr-scan.pdf", Some("Stellungnahme"), &[ANZAHL, HOEHE, AZ]);
    put("toeb/06-stellungnahme-denkmalschutz.odt", Some("Stellungnahme"), &[AZ]);
    put("toeb/07-stellungnahme-wasserbehoerde.txt", Some("Stellungnahme"), &[AZ]);
    // "Az. 63.1-B-0391/2026" is the office's own; "zum Genehmigungsverfahren 61.2-0815/2026".
    put("toeb/08-stellungnahme-bauaufsicht.docx", Some("Stellungnahme"), &[AZ]);
    put("toeb/09-stellungnahme-strassenbaulasttraeger.eml", Some("Stellungnahme"), &[]);
    // "(5 WEA)"; "drei bis weniger als sechs Windkraftanlagen" is the UVPG threshold.
    put("verfahren/01-vermerk-uvp-vorpruefung.docx", Some("Vermerk"), &[ANZAHL, AZ]);
    put("verfahren/02-bekanntgabe-uvp-vorpruefung.pdf", Some("Schreiben"),
        &[u("Öffentliche Bekanntmachung"), ANZAHL, TYP, NABE, ROTOR, LEISTUNG, GEMARKUNG, FLUR, PARCELS]);
    put("verfahren/03-vermerk-verfahrensfristen.txt", Some("Vermerk"), &[AZ]);
    // The personnel file is no wind-energy document (nor its Akte): no opinion at all.
    put("weitere-akten/11.3-0042-2026/einstellung/01-vermerk-stellenbesetzung.txt", None, &[]);
    put("weitere-akten/11.3-0042-2026/einstellung/02-eingruppierung.odt", None, &[]);
    // About a training on wind energy: tagged, but no permit document type.
    put("weitere-akten/11.3-0042-2026/fortbildung/01-fortbildungsantrag.pdf", None, &[AZ]);
    // WEA K2, Windpark Kiefernberg: "Typ Nordstrom NS-82, Nabenhöhe 108 m", "Der
    // Rotordurchmesser bleibt mit 82 m unverändert", "die Nennleistung von 2,0 MW auf
    // 2,3 MW erhöht" (the new value), "Gemarkung Lindenhorst, Flur 7, Flurstück 112".
    put("weitere-akten/61.2-0911-2026/antrag/01-aenderungsantrag.pdf", Some("Antrag"), &[
        u("Änderungsantrag"), ("anlagentyp", "Nordstrom NS-82"), ("nabenhoehe-m", "108"),
        ("rotordurchmesser-m", "82"), ("nennleistung-mw", "2.3"), ("gemarkung", "Lindenhorst"), ("flur", "7"),
        ("flurstuecke", "112"),
    ]);
    put("weitere-akten/61.2-0911-2026/antrag/02-schalltechnische-stellungnahme.txt", Some("Gutachten"),
        &[u("Schallgutachten")]);
    put("weitere-akten/61.2-0911-2026/entscheidung/01-anhoerung.eml", Some("Schreiben"), &[]);
    put("weitere-akten/61.2-0911-2026/entscheidung/02-aenderungsgenehmigung.docx", Some("Bescheid"),
        &[u("Änderungsgenehmigung"), ("nennleistung-mw", "2.3"), ("aktenzeichen", "61.2-0911/2026")]);
    e
}

/// Where the expected type differs from `case.json`'s `document_type`, and why.
const DIFFERS_FROM_CASE: &[(&str, &str)] = &[
    ("entscheidung/02-aeusserung-antragstellerin.eml", "the text is a statement on the Nebenbestimmungen"),
    ("weitere-akten/11.3-0042-2026/einstellung/01-vermerk-stellenbesetzung.txt", "not about wind energy"),
    ("weitere-akten/11.3-0042-2026/einstellung/02-eingruppierung.odt", "not about wind energy"),
    ("weitere-akten/11.3-0042-2026/fortbildung/01-fortbildungsantrag.pdf", "not a permit Antrag"),
];

async fn enrich(plugin: &Plugin, info: &DocumentInfo, text: &str) -> Result<Suggestion, PluginError> {
    plugin.enrich(info, text).await.map(|o| o.value)
}

#[tokio::test]
async fn rust_plugin_reads_type_and_fields_of_every_fixture_document() {
    let docs = fixture_docs();
    let expected = expectations();
    assert_eq!(expected.len(), docs.len(), "one expectation per document");
    let case_types: BTreeMap<String, String> = {
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture_dir().join("case.json")).unwrap()).unwrap();
        let mut all: Vec<serde_json::Value> = case["dokumente"].as_array().unwrap().clone();
        for w in case["weitere_akten"].as_array().unwrap() {
            all.extend(w["dokumente"].as_array().unwrap().iter().cloned());
        }
        all.iter().map(|d| (d["file"].as_str().unwrap().into(), d["document_type"].as_str().unwrap().into())).collect()
    };
    require_examples();
    let (_dir, host) = common::host();
    let rust = shipped(&host, "windkraft-rust");
    let mut failures = Vec::new();
    for doc in &docs {
        let (doc_type, fields) =
            expected.get(doc.path.as_str()).unwrap_or_else(|| panic!("no expectation: {}", doc.path));
        let differs = DIFFERS_FROM_CASE.iter().any(|(p, _)| *p == doc.path);
        assert_eq!(
            *doc_type == Some(case_types[&doc.path].as_str()),
            !differs,
            "{}: case.json says {}",
            doc.path,
            case_types[&doc.path]
        );
        let s = enrich(&rust, &doc.info, &doc.text).await.unwrap_or_else(|e| panic!("{}: {e}", doc.path));
        let got: Vec<(&str, &str)> = s.fields.iter().map(|f| (f.name.as_str(), f.value.as_str())).collect();
        if s.document_type.as_deref() != *doc_type || got != *fields {
            failures.push(format!(
                "{}:\n  expected {doc_type:?} {fields:?}\n  got      {:?} {got:?}",
                doc.path, s.document_type
            ));
        }
        // Tags and confidence: a wind-energy document is tagged and the plugin is the surer
        // the more it found; no wind, no opinion.
        if doc_type.is_none() && fields.is_empty() {
            assert_eq!((s.tags.len(), s.confidence), (0, 0), "{}", doc.path);
        } else {
            assert_eq!(s.tags.first().map(String::as_str), Some("windkraft"), "{}", doc.path);
            assert!((30..=95).contains(&s.confidence), "{}: {}", doc.path, s.confidence);
        }
    }
    assert!(failures.is_empty(), "{} of {} documents differ:\n{}", failures.len(), docs.len(), failures.join("\n"));

    // The Antrag in full, as a reader would check it.
    let antrag = docs.iter().find(|d| d.path == "antrag/01-antragsformular.pdf").unwrap();
    let s = enrich(&rust, &antrag.info, &antrag.text).await.unwrap();
    assert_eq!(s.field_value("anzahl-wea"), Some("5"));
    assert_eq!(s.field_value("nabenhoehe-m"), Some("166"));
    assert_eq!(s.field_value("flurstuecke"), Some("17/2, 18, 21/1, 24, 33/4"));
    assert_eq!(s.tags, ["windkraft", "bimschg"]);
    assert_eq!(s.confidence, 95);
}

/// The expectations hold on the text production gives the plugins too, in every language:
/// what the built-in extractors make of the files (a PDF's table comes out with spaces
/// between the cells, its sentences broken into lines; an e-mail brings its text
/// attachment), plus OCR of the scans where tesseract is installed. No document needs an
/// exception: the rules read tables without tabs and sentences across line breaks, and the
/// attachment of `naturschutz/04-hinweis-rotmilanhorst.eml` ("Fundort: Feldgehölz
/// Eschenbusch, Gemarkung Hohenheide, Flur 4", a red kite's nest) is about other land.
#[tokio::test]
async fn every_plugin_reads_the_fixture_documents_as_extracted() {
    let plugins = &*PLUGINS;
    let docs = extracted_docs().await;
    let expected = expectations();
    let mut failures = Vec::new();
    for doc in docs {
        let (doc_type, fields) = &expected[doc.path.as_str()];
        let rust = enrich(&plugins.rust, &doc.info, &doc.text)
            .await
            .unwrap_or_else(|e| panic!("{} (read by {}): {e}", doc.path, doc.read_by));
        let got: Vec<(&str, &str)> = rust.fields.iter().map(|f| (f.name.as_str(), f.value.as_str())).collect();
        if rust.document_type.as_deref() != *doc_type || got != *fields {
            failures.push(format!(
                "{} (read by {}):\n  expected {doc_type:?} {fields:?}\n  got      {:?} {got:?}",
                doc.path, doc.read_by, rust.document_type
            ));
        }
        for (lang, plugin) in [("python", &plugins.py), ("javascript", &plugins.js)] {
            let other = enrich(plugin, &doc.info, &doc.text).await;
            if other.as_ref().ok() != Some(&rust) {
                failures.push(format!(
                    "{} (read by {}): {lang} differs\n  rust: {rust:?}\n  {lang}: {other:?}",
                    doc.path, doc.read_by
                ));
            }
        }
    }
    let read: Vec<&str> = docs.iter().map(|d| d.read_by.as_str()).collect();
    eprintln!("{} documents read by extractors (and OCR): {read:?}", docs.len());
    let scans = fixture_docs().iter().filter(|d| d.path.contains("-scan.")).count();
    assert!(docs.len() == 54 || (docs.len() == 54 - scans && !ocr_available()), "{} documents", docs.len());
    assert!(failures.is_empty(), "{} of {} documents differ:\n{}", failures.len(), docs.len(), failures.join("\n"));

    // What the ingest pipeline's test checks: the Antrag and the Bescheid (whose PDF table
    // has no tabs, and which names the compensation land Flur 5, Flurstücke 40, 41 in a
    // sentence broken across lines) give the full turbine data and the turbines' parcels.
    for path in ["antrag/01-antragsformular.pdf", "entscheidung/03-genehmigungsbescheid.pdf"] {
        let doc = docs.iter().find(|d| d.path == path).unwrap();
        assert_eq!(doc.read_by, "pdf", "{path}");
        for plugin in [&plugins.rust, &plugins.py, &plugins.js] {
            let s = enrich(plugin, &doc.info, &doc.text).await.unwrap();
            for (name, value) in [ANZAHL, TYP, NABE, ROTOR, HOEHE, LEISTUNG, GEMARKUNG, FLUR, PARCELS] {
                assert_eq!(s.field_value(name), Some(value), "{path}: {name} in {:?}", s.fields);
            }
        }
    }
}

trait FieldValue {
    fn field_value(&self, name: &str) -> Option<&str>;
}

impl FieldValue for Suggestion {
    fn field_value(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.name == name).map(|f| f.value.as_str())
    }
}

/// Altered copies of a text that a port could get wrong: letter case, line ends, no-break
/// spaces, page breaks, tabs, characters outside the BMP, cuts at odd places.
fn variants(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let cut = |n: usize| chars[..n.min(chars.len())].iter().collect::<String>();
    vec![
        text.to_ascii_uppercase(),
        text.replace('\n', "\r\n"),
        text.replace(' ', "\u{a0}"),
        text.replacen('\n', "\u{c}", 3),
        text.replace(", ", "\t"),
        text.replace("e", "𝔢").replacen("WEA", "𝕎EA", 2),
        text.replace("ä", "a\u{308}").replace("ß", "ẞ"),
        format!("\u{feff}İ Σ ǅ \u{2028}{text}"),
        cut(chars.len() / 3),
        cut(chars.len() * 2 / 3),
        text.lines().rev().collect::<Vec<_>>().join("\n"),
        // Layouts of extracted text: cells with spaces, sentences broken at any space, words
        // hyphenated at line ends.
        text.replace('\t', " "),
        text.replace(' ', "\n"),
        text.replacen("n ", "n-\n", 40),
    ]
}

/// A deterministic generator of texts made of the pieces the rules look for.
fn generated(count: usize) -> Vec<String> {
    const PIECES: &[&str] = &[
        "Windpark ",
        "Windenergieanlagen",
        "WEA",
        " WEA ",
        "fünf ",
        "sechs ",
        "als ",
        "bis ",
        "12 ",
        "5 × Aerovent AV-162",
        "Nabenhöhe",
        "Nabenhoehe: ",
        " von ",
        " jeweils ",
        "166",
        "6,2",
        "1.940",
        "123,5",
        " m",
        " Metern",
        " MW",
        "m²",
        "Gesamthöhe ",
        "Rotordurchmesser ",
        "Nennleistung ",
        " auf ",
        "Typ ",
        "des Typs Nordex N-163 ",
        "Anlagentyp\t",
        "Gemarkung ",
        "Gemarkung: Groß-Süd",
        "Hohenheide",
        ", Flur ",
        "3",
        "Flurstück ",
        "Flurstücke: ",
        "17/2 (WEA 1)",
        ", ",
        " und ",
        " sowie ",
        "33/4",
        "Fläche ",
        "Zuwegung ",
        "; ",
        ". ",
        ". Die ",
        "Az. ",
        "61.2-0815/2026",
        " zu ",
        "67.3-112/2026",
        "Sehr geehrte Damen und Herren,",
        "Einwendung",
        "erheben wir ",
        "wie folgt Stellung",
        "Stellungnahme",
        "Genehmigungsbescheid",
        "Vermerk",
        "Antrag auf Genehmigung",
        "Gemarkung\tFlur\tFlurstück",
        "Hohenheide\t3\t18",
        "\nAnlage Gemarkung Flur Flurstück Ostwert\n",
        "\nGemarkung Flur Flurstück\n",
        "\nAnlage Nordwert Flurstück\n",
        "WEA 1 Hohenheide 3 17/2 32 541",
        "WEA 2 5 862 610 18, 21/1\n",
        "Ablenk-\n",
        "flächen",
        "des Typs Aerovent\nAV-162",
        "6,2\nMW",
        "Flurstücke\n",
        " der\n",
        ",\n",
        "-\n",
        "\t",
        "\n",
        "\n",
        "\r\n",
        "\u{a0}",
        "\u{c}",
        "Ä",
        "ÖÜ",
        "ß",
        "ẞ",
        "𝔚",
        "(",
        ")",
        "×",
        "BImSchG",
        "Bundes-Immissionsschutzgesetz",
        "0",
        "99999",
        "1.1.1.1.1",
        "-",
        "/",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..count)
        .map(|_| {
            let len = 5 + (next() % 120) as usize;
            (0..len).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect()
        })
        .collect()
}

#[tokio::test]
async fn python_and_javascript_suggest_exactly_what_rust_suggests() {
    let plugins = &*PLUGINS;
    let docs: Vec<Doc> = fixture_docs().into_iter().chain(extracted_docs().await.iter().cloned()).collect();
    let mut inputs: Vec<(String, DocumentInfo, String)> = Vec::new();
    for doc in &docs {
        let name = format!("{} (read by {})", doc.path, doc.read_by);
        inputs.push((name.clone(), doc.info.clone(), doc.text.clone()));
        for (i, v) in variants(&doc.text).into_iter().enumerate() {
            let mut info = doc.info.clone();
            info.akte_title = None;
            inputs.push((format!("{name} (variant {i})"), info, v));
        }
    }
    for (i, text) in generated(300).into_iter().enumerate() {
        inputs.push((format!("generated {i}"), DocumentInfo::default(), text));
    }
    let mut differences = Vec::new();
    let mut opinions = 0;
    for (name, info, text) in &inputs {
        let rust = enrich(&plugins.rust, info, text).await;
        if matches!(&rust, Ok(s) if s.confidence > 0) {
            opinions += 1;
        }
        for (lang, plugin) in [("python", &plugins.py), ("javascript", &plugins.js)] {
            let other = enrich(plugin, info, text).await;
            let same = match (&rust, &other) {
                (Ok(a), Ok(b)) => a == b,
                (Err(PluginError::Failed { failure: a, .. }), Err(PluginError::Failed { failure: b, .. })) => a == b,
                _ => false,
            };
            if !same {
                differences.push(format!("{name}: {lang} differs\n  rust: {rust:?}\n  {lang}: {other:?}"));
            }
        }
    }
    assert!(opinions > inputs.len() / 2, "most inputs are wind-energy texts: {opinions} of {}", inputs.len());
    assert!(
        differences.is_empty(),
        "{} differences in {} inputs:\n{}",
        differences.len(),
        inputs.len(),
        differences.iter().take(5).cloned().collect::<Vec<_>>().join("\n")
    );
}

#[tokio::test]
async fn empty_text_is_unsupported_in_every_language() {
    let plugins = &*PLUGINS;
    for (plugin, name) in [(&plugins.rust, "rust"), (&plugins.py, "py"), (&plugins.js, "js")] {
        for text in ["", " \n\t\u{a0}\r\n"] {
            let e = enrich(plugin, &DocumentInfo::default(), text).await.unwrap_err();
            assert!(
                matches!(&e, PluginError::Failed { failure: Failure::Unsupported(m), .. } if m.contains("keinen Text")),
                "{name}: {e:?}"
            );
        }
    }
}

/// A 12 MiB text: the Genehmigungsbescheid, then lines made to make a backtracking engine
/// work hard (long digit and dot runs, endless parcel lists, unclosed brackets), then 10 MiB
/// of filler. Every plugin reads only the first 200 000 characters and so finishes well
/// within its limits, with the same answer.
#[tokio::test]
async fn a_huge_hostile_text_ends_in_time_with_the_same_answer() {
    let plugins = &*PLUGINS;
    let docs = fixture_docs();
    let bescheid = &docs.iter().find(|d| d.path == "entscheidung/03-genehmigungsbescheid.pdf").unwrap().text;
    let mut text = bescheid.clone();
    text.push('\n');
    text.push_str(&"1.".repeat(20_000));
    text.push_str("\nFlurstücke ");
    text.push_str(&"1, ".repeat(20_000));
    text.push_str("\nNabenhöhe von von von ");
    text.push_str(&"1".repeat(20_000));
    text.push_str("\n(");
    text.push_str(&"((((Flurstück 1 (".repeat(2_000));
    text.push('\n');
    text.push_str(&"Windenergieanlagen ".repeat(12 * 1024 * 1024 / 19));
    assert!(text.len() > 12 * 1024 * 1024);
    let info = DocumentInfo::default();
    let mut answers = Vec::new();
    for (name, plugin) in NAMES.iter().zip([&plugins.rust, &plugins.py, &plugins.js]) {
        let started = Instant::now();
        let s = enrich(plugin, &info, &text).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let took = started.elapsed();
        eprintln!("{name}: {} MiB in {took:?}", text.len() >> 20);
        let limit = Duration::from_millis(shipped_manifest(name).limits.timeout_ms);
        assert!(took < limit, "{name}: {took:?}, limit {limit:?}");
        answers.push(s);
    }
    assert_eq!(answers[0].document_type.as_deref(), Some("Bescheid"));
    assert_eq!(answers[0], answers[1], "python");
    assert_eq!(answers[0], answers[2], "javascript");
}

/// The SDK's copyable template (`plugins/sdk/template`) builds into a working enricher.
#[tokio::test]
async fn the_sdk_template_is_a_working_enricher() {
    require_examples();
    let (_dir, host) = common::host();
    let template = shipped(&host, "sdk-template");
    let s =
        enrich(&template, &DocumentInfo::default(), "Zwei Windenergieanlagen, eine Windenergieanlage.").await.unwrap();
    assert_eq!(s.tags, ["windkraft"]);
    assert_eq!(s.field_value("erwaehnungen"), Some("2"));
    let s = enrich(&template, &DocumentInfo::default(), "Vermerk").await.unwrap();
    assert_eq!((s.tags.len(), s.confidence), (0, 0));
    let e = enrich(&template, &DocumentInfo::default(), "").await.unwrap_err();
    assert!(matches!(e, PluginError::Failed { failure: Failure::Unsupported(_), .. }), "{e:?}");
}
