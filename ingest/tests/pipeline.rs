//! The ingest pipeline end to end on a memory store: the fixture case through the built-in
//! extractors, OCR and an enricher; results reused instead of recomputed; hostile
//! documents and a runaway plugin that never cost the document.

use std::{collections::BTreeMap, path::PathBuf, sync::Arc};

use akte_ingest::{Derived, Ocr, OcrConfig, Payload, Pipeline, PipelineLimits, registry};
use akte_plugins::{HostConfig, Manifest, PluginHost};
use akte_store::{Change, OpenOptions, Repository, backend::Backend, model::ObjKind};
use serde_json::{Map, Value, json};
use uuid::Uuid;

struct Env {
    dir: tempfile::TempDir,
    backend: Backend,
}

impl Env {
    fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap(), backend: Backend::memory() }
    }

    fn opts(&self, node: &str) -> OpenOptions {
        OpenOptions {
            data_dir: self.dir.path().join(node),
            store: None,
            identity: Some(self.dir.path().join("identity.txt")),
            actor: format!("test:{node}"),
        }
    }

    async fn init(&self) -> Repository {
        Repository::init_on(&self.opts("a"), &[], self.backend.clone()).await.unwrap();
        self.open("a").await
    }

    async fn open(&self, node: &str) -> Repository {
        Repository::open_with_backend(&self.opts(node), self.backend.clone()).await.unwrap()
    }

    fn host(&self) -> PluginHost {
        PluginHost::new(HostConfig::new(self.dir.path().join("plugin-cache"))).unwrap()
    }

    async fn ocr(&self) -> Option<Ocr> {
        Some(
            Ocr::detect(OcrConfig::new(self.dir.path().join("tmp"))).await.expect("tesseract with German is installed"),
        )
    }
}

fn fields(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/windpark-hohe-heide"))
}

fn guests_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AKTE_GUESTS_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/akte/target")))
        .unwrap();
    target.join("wasm/components")
}

/// Installs a guest component from `plugins/build-guests.sh`'s output with `manifest`.
async fn install(repo: &mut Repository, name: &str, manifest: &str) {
    let wasm = std::fs::read(guests_dir().join(format!("{name}.wasm")))
        .unwrap_or_else(|e| panic!("guest {name} missing ({e}); run `bash plugins/build-guests.sh`"));
    let parsed = Manifest::from_toml(manifest).unwrap();
    let digest = blake3::hash(&wasm);
    let size = wasm.len() as u64;
    let content = repo.store_bytes(wasm).await.unwrap();
    let (_, changes) = registry::install(repo.catalog(), &parsed, manifest, &content, &digest, size).unwrap();
    repo.commit(changes).await.unwrap();
}

async fn create_akte(repo: &mut Repository, az: &str, aktenplan: &str) -> Uuid {
    let id = Uuid::now_v7();
    repo.commit(vec![Change::Create {
        kind: ObjKind::Akte,
        id,
        parent: None,
        content: None,
        fields: fields(json!({"aktenzeichen": az, "title": "Windpark Hohe Heide", "aktenplan": aktenplan})),
    }])
    .await
    .unwrap();
    id
}

/// Adds a Dokument; returns its version's id.
async fn add(repo: &mut Repository, akte: Uuid, name: &str, bytes: Vec<u8>) -> Uuid {
    let size = bytes.len();
    let content = repo.store_bytes(bytes).await.unwrap();
    let (dok, ver) = (Uuid::now_v7(), Uuid::now_v7());
    repo.commit(vec![
        Change::Create {
            kind: ObjKind::Dokument,
            id: dok,
            parent: Some(akte),
            content: None,
            fields: fields(json!({"title": name})),
        },
        Change::Create {
            kind: ObjKind::Version,
            id: ver,
            parent: Some(dok),
            content: Some(content),
            fields: fields(
                json!({"file_name": name, "media_type": akte_store::model::media_type_for(name), "size": size}),
            ),
        },
    ])
    .await
    .unwrap();
    ver
}

fn quiet() -> Arc<dyn Fn(akte_ingest::Event) + Send + Sync> {
    Arc::new(|_| {})
}

/// Lower-cased words of at least four letters.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() >= 4).map(str::to_lowercase).collect()
}

/// The share of the truth's words that the extracted text contains.
fn word_recall(truth: &str, got: &str) -> f64 {
    let got: std::collections::HashSet<String> = words(got).into_iter().collect();
    let want = words(truth);
    if want.is_empty() {
        return 1.0;
    }
    want.iter().filter(|w| got.contains(*w)).count() as f64 / want.len() as f64
}

/// The hostile guest as the extractor for text/plain (it echoes `echo …`, loops on `loop`,
/// allocates without end on `memory`).
const HOSTILE_TXT: &str = r#"
name = "hostile"
version = "0.1.0"
world = "extractor"
media-types = ["text/plain"]
[limits]
memory-mib = 32
timeout-ms = 300
"#;

const KEYWORDS: &str = r#"
name = "keywords"
version = "0.1.0"
world = "enricher"
media-types = ["*/*"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_case_gets_text_from_every_document_and_scans_via_ocr() {
    let env = Env::new();
    let mut repo = env.init().await;
    install(&mut repo, "keywords", KEYWORDS).await;
    // The windkraft example in its three languages, with the manifests they ship with.
    for lang in ["rust", "py", "js"] {
        let name = format!("windkraft-{lang}");
        let manifest = std::fs::read_to_string(guests_dir().join(format!("{name}.toml")))
            .unwrap_or_else(|e| panic!("{name}.toml missing ({e}); run `bash plugins/build-examples.sh`"));
        install(&mut repo, &name, &manifest).await;
    }
    let akte = create_akte(&mut repo, "61.2-0815/2026", "61.2").await;
    let truth: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(fixtures().join("truth.json")).unwrap()).unwrap();
    let mut versions = BTreeMap::new();
    for path in truth.keys() {
        let bytes = std::fs::read(fixtures().join(path)).unwrap();
        let name = path.rsplit('/').next().unwrap();
        versions.insert(path.clone(), add(&mut repo, akte, name, bytes).await);
    }
    assert!(truth.keys().any(|p| p.ends_with("-scan.png")) && truth.keys().any(|p| p.ends_with("-scan.pdf")));

    let host = env.host();
    let pipeline = Pipeline::load(&host, &repo, env.ocr().await, PipelineLimits::default()).await.unwrap();
    assert_eq!(pipeline.pending(repo.catalog()).len(), truth.len());
    let ids: Vec<Uuid> = versions.values().copied().collect();
    let report = pipeline.process(&mut repo, &ids, quiet()).await.unwrap();
    assert!(report.failures.is_empty(), "failures: {:?}", report.failures);
    // Images have no extractor, only OCR.
    let images = truth.keys().filter(|p| p.ends_with(".png")).count();
    assert_eq!(report.produced.get("extract"), Some(&(truth.len() - images)), "{report:?}");
    assert_eq!(report.produced.get("enrich"), Some(&(4 * truth.len())), "{report:?}");
    assert!(report.ocr_pages >= 6, "{report:?}");

    let mut weak = Vec::new();
    for (path, version) in &versions {
        let view = pipeline.view(&repo, version).await.unwrap();
        let recall = word_recall(&truth[path], &view.text);
        // Text layers must come out (nearly) word for word; OCR of the scans may miss a few.
        let needed = if path.contains("-scan.") { 0.85 } else { 0.97 };
        if recall < needed {
            weak.push(format!("{path}: word recall {recall:.3} < {needed}"));
        }
        assert!(view.fields.contains_key("wortanzahl"), "{path}: the enricher's field is missing: {view:?}");
    }
    assert!(weak.is_empty(), "documents whose text did not come through:\n{}", weak.join("\n"));
    // The windkraft plugin's fields sit on the right documents, read from the extracted
    // text, and Python and JavaScript suggest exactly what Rust does, document by document.
    for path in ["antrag/01-antragsformular.pdf", "entscheidung/03-genehmigungsbescheid.pdf"] {
        let view = pipeline.view(&repo, &versions[path]).await.unwrap();
        for (k, v) in [("anzahl-wea", "5"), ("nabenhoehe-m", "166"), ("gemarkung", "Hohenheide"), ("flur", "3")] {
            assert_eq!(view.fields.get(k).map(String::as_str), Some(v), "{path}: {k} in {:?}", view.fields);
        }
        assert_eq!(view.fields.get("flurstuecke").map(String::as_str), Some("17/2, 18, 21/1, 24, 33/4"), "{path}");
    }
    let lettre = pipeline.view(&repo, &versions["antrag/04-anschreiben-antragsunterlagen.eml"]).await.unwrap();
    assert!(!lettre.fields.contains_key("anzahl-wea"), "a covering letter has no turbine data: {:?}", lettre.fields);
    for (path, version) in &versions {
        let content = repo.catalog().get(version).unwrap().content.unwrap();
        let results = repo.catalog().derived(&content).unwrap().clone();
        let mut suggestions = Vec::new();
        for lang in ["rust", "py", "js"] {
            let (_, result) = results
                .iter()
                .find(|(p, _)| p.starts_with(&format!("enrich:windkraft-{lang}@")))
                .unwrap_or_else(|| panic!("{path}: no windkraft-{lang} result"));
            let d = Derived::parse(&repo.read_bytes(result, 1 << 20).await.unwrap()).unwrap();
            suggestions.push(d.payload);
        }
        assert_eq!(suggestions[0], suggestions[1], "{path}: Python differs from Rust");
        assert_eq!(suggestions[0], suggestions[2], "{path}: JavaScript differs from Rust");
    }

    // The keywords enricher saw the text too: the noise forecast is recognised by its
    // keyword (the view shows windkraft's more confident "Gutachten").
    let schall = versions.iter().find(|(p, _)| p.contains("schallimmissionsprognose")).unwrap().1;
    let content = repo.catalog().get(schall).unwrap().content.unwrap();
    let (_, result) =
        repo.catalog().derived(&content).unwrap().iter().find(|(p, _)| p.starts_with("enrich:keywords@")).unwrap();
    let d = Derived::parse(&repo.read_bytes(result, 1 << 20).await.unwrap()).unwrap();
    assert!(
        matches!(&d.payload, Payload::Suggestion { document_type: Some(t), .. } if t == "Schallgutachten"),
        "{d:?}"
    );
    assert_eq!(pipeline.view(&repo, schall).await.unwrap().document_type.as_deref(), Some("Gutachten"));

    // Nothing is recomputed: not on this node, and not on a second node that reads the
    // results from the journal (as a reindex does).
    assert!(pipeline.pending(repo.catalog()).is_empty());
    let again = pipeline.process(&mut repo, &ids, quiet()).await.unwrap();
    assert!(again.produced.is_empty(), "{again:?}");
    assert!(again.reused >= 5 * truth.len());
    drop(repo);
    let repo_b = env.open("b").await;
    let pipeline_b = Pipeline::load(&env.host(), &repo_b, env.ocr().await, PipelineLimits::default()).await.unwrap();
    assert!(pipeline_b.pending(repo_b.catalog()).is_empty());
    let scan = versions.iter().find(|(p, _)| p.ends_with("-scan.png")).unwrap();
    assert!(word_recall(&truth[scan.0], &pipeline_b.view(&repo_b, scan.1).await.unwrap().text) >= 0.85);
    let report = akte_store::verify::verify(&repo_b, |_, _| {}).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

fn zip_bomb_docx() -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("[Content_Types].xml", opts).unwrap();
    zip.write_all(b"<?xml version=\"1.0\"?><Types/>").unwrap();
    zip.start_file("word/document.xml", opts).unwrap();
    zip.write_all(b"<w:document><w:body><w:p><w:r><w:t>").unwrap();
    let block = vec![b'A'; 1 << 20];
    for _ in 0..400 {
        zip.write_all(&block).unwrap();
    }
    zip.write_all(b"</w:t></w:r></w:p></w:body></w:document>").unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_documents_end_in_bounded_results_and_stay_stored() {
    let env = Env::new();
    let mut repo = env.init().await;
    let akte = create_akte(&mut repo, "61.2-0001/2026", "61.2").await;
    let mut big = Vec::with_capacity(100 << 20);
    while big.len() < 100 << 20 {
        big.extend_from_slice("Windenergieanlage Genehmigung Schallgutachten Rotmilan Flurstück 17/3\n".as_bytes());
    }
    let big_size = big.len();
    let docs: Vec<(&str, Vec<u8>)> = vec![
        ("kaputt.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\ntrailer << /Root 1 0 R >>".to_vec()),
        ("schleife.pdf", b"%PDF-1.4\n1 0 obj << /Type /Pages /Kids [1 0 R] /Count 1 >> endobj\n2 0 obj << /Type /Catalog /Pages 1 0 R >> endobj\ntrailer << /Root 2 0 R >>\n%%EOF".to_vec()),
        ("bombe.docx", zip_bomb_docx()),
        ("lachen.xml", BILLION_LAUGHS.as_bytes().to_vec()),
        ("gross.txt", big),
        ("kein-bild.png", b"this is not an image at all".to_vec()),
    ];
    let mut ids = Vec::new();
    let mut originals = Vec::new();
    for (name, bytes) in docs {
        originals.push(blake3::hash(&bytes));
        ids.push(add(&mut repo, akte, name, bytes).await);
    }
    let pipeline = Pipeline::load(&env.host(), &repo, env.ocr().await, PipelineLimits::default()).await.unwrap();
    let report = pipeline.process(&mut repo, &ids, quiet()).await.unwrap();
    assert_eq!(report.versions, ids.len());
    for (id, original) in ids.iter().zip(&originals) {
        // The document itself is intact.
        let (_, stream) = repo.content(id).await.unwrap();
        let mut h = blake3::Hasher::new();
        futures::StreamExt::for_each(stream, |part| {
            h.update(&part.unwrap());
            async {}
        })
        .await;
        assert_eq!(&h.finalize(), original);
        // And what was derived is bounded text or a recorded failure.
        let view = pipeline.view(&repo, id).await.unwrap();
        assert!(!view.producers.is_empty(), "{id}: nothing was recorded");
        assert!(view.text.len() <= 64 << 20, "{id}: {} bytes of text", view.text.len());
        if view.text.is_empty() {
            assert!(!view.failures.is_empty(), "{id}: no text and no failure: {view:?}");
        }
    }
    // The broken image is an OCR failure with tesseract's reason, not a crash.
    let png = pipeline.view(&repo, &ids[5]).await.unwrap();
    assert!(png.failures.iter().any(|(p, m)| p.starts_with("ocr:") && m.contains("OCR failed")), "{png:?}");
    // The bomb's text, if any, is bounded far below what it inflates to.
    let bomb = pipeline.view(&repo, &ids[2]).await.unwrap();
    assert!(bomb.text.len() < 100 << 20);
    // The 100 MB text gives its first part, marked as such, not nothing.
    let big = pipeline.view(&repo, &ids[4]).await.unwrap();
    assert!(big.failures.is_empty() && big.text.len() > 32 << 20, "{:?}", big.failures);
    assert!(big.text.starts_with("Windenergieanlage"));
    // The host gave the extractor only the start its manifest asks for, and says so.
    let given = big.extracted_fields.iter().find(|(k, _)| k == "input-bytes").map(|(_, v)| v.as_str());
    assert_eq!(given, Some(format!("{} of {big_size}", 48 << 20).as_str()), "{:?}", big.extracted_fields);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_plugin_is_recorded_as_failed_and_the_next_document_works() {
    let env = Env::new();
    let mut repo = env.init().await;
    install(&mut repo, "hostile", HOSTILE_TXT).await;
    let akte = create_akte(&mut repo, "61.2-0002/2026", "61.2").await;
    let looping = add(&mut repo, akte, "loop.txt", b"loop".to_vec()).await;
    let memory = add(&mut repo, akte, "memory.txt", b"memory".to_vec()).await;
    let fine = add(&mut repo, akte, "echo.txt", b"echo Windpark".to_vec()).await;
    let pipeline = Pipeline::load(&env.host(), &repo, None, PipelineLimits::default()).await.unwrap();
    let report = pipeline.process(&mut repo, &[looping, memory, fine], quiet()).await.unwrap();
    assert_eq!(report.failures.len(), 2, "{report:?}");
    let failed = |id: Uuid| {
        let r = &report.failures;
        r.iter().find(|(v, _, _)| *v == id).map(|(_, p, m)| (p.clone(), m.clone()))
    };
    let (producer, message) = failed(looping).expect("the loop is recorded");
    assert!(producer.starts_with("extract:hostile@0.1.0+"), "{producer}");
    assert!(message.contains("time"), "{message}");
    assert!(failed(memory).is_some());
    assert_eq!(pipeline.view(&repo, &fine).await.unwrap().text, "echo Windpark");
    // The failure itself is a stored, readable result with a stable code.
    let content = repo.catalog().get(&looping).unwrap().content.unwrap();
    let result = *repo.catalog().derived(&content).unwrap().values().next().unwrap();
    let d = Derived::parse(&repo.read_bytes(&result, 1 << 20).await.unwrap()).unwrap();
    assert!(matches!(d.payload, Payload::Failed { ref code, .. } if code == "timeout"), "{d:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrichers_run_again_when_the_text_they_saw_is_replaced() {
    let env = Env::new();
    let mut repo = env.init().await;
    // An extractor that times out on this document, for a type no built-in extractor
    // reads (so nothing stands in for it), and an enricher.
    let for_any_file = |name: &str| {
        format!(
            "name = \"{name}\"\nversion = \"0.1.0\"\nworld = \"extractor\"\n\
             media-types = [\"application/octet-stream\"]\n[limits]\ntimeout-ms = 300\n"
        )
    };
    install(&mut repo, "hostile", &for_any_file("hostile")).await;
    install(&mut repo, "keywords", KEYWORDS).await;
    let akte = create_akte(&mut repo, "61.2-0003/2026", "61.2").await;
    let doc =
        add(&mut repo, akte, "gutachten.dat", b"loop Schallimmissionsprognose der Windenergieanlage".to_vec()).await;
    let pipeline = Pipeline::load(&env.host(), &repo, None, PipelineLimits::default()).await.unwrap();
    pipeline.process(&mut repo, &[doc], quiet()).await.unwrap();
    let before = pipeline.view(&repo, &doc).await.unwrap();
    assert_eq!(before.document_type, None, "the enricher saw no text: {before:?}");
    assert!(before.failures.iter().any(|(p, _)| p.starts_with("extract:hostile@")), "{before:?}");

    // Another extractor replaces it (the plain-text component, installed for this type);
    // the enricher's recorded result was made without text and is made again, with it.
    let hostile = registry::find(repo.catalog(), "hostile").unwrap();
    repo.commit(vec![registry::remove(&hostile)]).await.unwrap();
    install(&mut repo, "txt", &for_any_file("txt")).await;
    let pipeline = Pipeline::load(&env.host(), &repo, None, PipelineLimits::default()).await.unwrap();
    assert_eq!(pipeline.pending(repo.catalog()), [doc]);
    let report = pipeline.process(&mut repo, &[doc], quiet()).await.unwrap();
    assert_eq!(report.produced.get("enrich"), Some(&1), "{report:?}");
    let after = pipeline.view(&repo, &doc).await.unwrap();
    assert!(after.text.contains("Schallimmissionsprognose"), "{after:?}");
    assert_eq!(after.document_type.as_deref(), Some("Schallgutachten"), "{after:?}");
    assert!(after.failures.is_empty(), "{after:?}");
    // Nothing is left to do, and another run reuses everything.
    assert!(pipeline.pending(repo.catalog()).is_empty());
}

/// The log lines of the `keywords` enricher's result the view of `version` shows.
async fn enricher_logs(pipeline: &Pipeline, repo: &Repository, version: Uuid) -> String {
    let view = pipeline.view(repo, &version).await.unwrap();
    let producer = view.producers.iter().find(|p| p.starts_with("enrich:keywords@")).cloned().unwrap();
    let content = repo.catalog().get(&version).unwrap().content.unwrap();
    let result = *repo.catalog().derived(&content).unwrap().get(&producer).unwrap();
    Derived::parse(&repo.read_bytes(&result, 1 << 20).await.unwrap()).unwrap().logs.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enricher_result_is_not_reused_for_another_documents_metadata() {
    let env = Env::new();
    let mut repo = env.init().await;
    install(&mut repo, "keywords", KEYWORDS).await;
    let (a, b) = (
        create_akte(&mut repo, "61.2-0004/2026", "61.2").await,
        create_akte(&mut repo, "63.1-0001/2026", "63.1").await,
    );
    let bytes = b"Stellungnahme zur Windenergieanlage WEA 3".to_vec();
    let first = add(&mut repo, a, "stellungnahme-gemeinde.txt", bytes.clone()).await;
    let pipeline = Pipeline::load(&env.host(), &repo, None, PipelineLimits::default()).await.unwrap();
    pipeline.process(&mut repo, &[first], quiet()).await.unwrap();

    // The same bytes in another Akte under another name: the text is reused, the enricher
    // (which is told the Akte, the file name, the type) runs again.
    let second = add(&mut repo, b, "kopie-fuer-63.txt", bytes).await;
    assert_eq!(pipeline.pending(repo.catalog()), [second]);
    let report = pipeline.process(&mut repo, &[second], quiet()).await.unwrap();
    assert_eq!((report.produced.get("enrich"), report.produced.get("extract")), (Some(&1), None), "{report:?}");
    let second_logs = enricher_logs(&pipeline, &repo, second).await;
    assert!(second_logs.contains("kopie-fuer-63.txt"), "{second_logs}");
    assert!(enricher_logs(&pipeline, &repo, first).await.contains("stellungnahme-gemeinde.txt"));

    // A clerk retypes the first Dokument: its enricher runs again, with the new type.
    let dokument = repo.catalog().get(&first).unwrap().parent.unwrap();
    repo.commit(vec![Change::Update { id: dokument, fields: fields(json!({"document_type": "Vermerk"})) }])
        .await
        .unwrap();
    assert_eq!(pipeline.pending(repo.catalog()), [first]);
    pipeline.process(&mut repo, &[first], quiet()).await.unwrap();
    assert!(pipeline.pending(repo.catalog()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_does_not_load_here_is_left_out_and_its_validations_are_undecided() {
    let env = Env::new();
    let mut repo = env.init().await;
    // Installed by a node that gives plugins 2 GiB; this one gives 1 GiB (the default).
    let validator = "name = \"basic-validator\"\nversion = \"0.1.0\"\nworld = \"validator\"\n\
                     media-types = [\"*/*\"]\n[limits]\nmemory-mib = 2048\n";
    install(&mut repo, "basic-validator", validator).await;
    install(&mut repo, "keywords", KEYWORDS).await;
    let akte = create_akte(&mut repo, "61.2-0006/2026", "61.2").await;
    let doc = add(&mut repo, akte, "vermerk.txt", b"Stellungnahme zur Schallimmissionsprognose".to_vec()).await;
    let roomy = || {
        let mut config = HostConfig::new(env.dir.path().join("plugin-cache"));
        config.max_memory_mib = 2048;
        PluginHost::new(config).unwrap()
    };
    // Extraction, enrichment and views go on without it, and it is named.
    let pipeline = Pipeline::load(&env.host(), &repo, None, PipelineLimits::default()).await.unwrap();
    let left_out: Vec<(&str, &str)> = pipeline.unloadable().collect();
    assert!(matches!(&left_out[..], [("basic-validator", why)] if why.contains("2048")), "{left_out:?}");
    pipeline.process(&mut repo, &[doc], quiet()).await.unwrap();
    let view = pipeline.view(&repo, &doc).await.unwrap();
    assert_eq!(view.document_type.as_deref(), Some("Schallgutachten"), "{view:?}");

    // An empty file, which the validator would refuse: it cannot decide here. By default
    // the file is accepted with a warning; a node that refuses what is not validated says
    // so with the code `undecided`.
    let info = akte_plugins::DocumentInfo { media_type: "text/plain".into(), ..Default::default() };
    assert!(pipeline.has_validators(Some("61.2"), "text/plain"));
    let (rejection, warnings) = pipeline.validate(Some("61.2"), &info, b"").await;
    assert!(rejection.is_none(), "{rejection:?}");
    assert!(
        matches!(&warnings[..], [w] if w.contains("basic-validator") && w.contains("could not decide")),
        "{warnings:?}"
    );
    let strict = PipelineLimits { reject_undecided: true, ..PipelineLimits::default() };
    let pipeline = Pipeline::load(&env.host(), &repo, None, strict).await.unwrap();
    let (rejection, _) = pipeline.validate(Some("61.2"), &info, b"").await;
    let rejection = rejection.expect("refused");
    assert_eq!((rejection.plugin.as_str(), rejection.code.as_str()), ("basic-validator", "undecided"));
    assert!(rejection.reason.contains("does not load on this node"), "{rejection:?}");
    // Where it loads, it decides.
    let pipeline = Pipeline::load(&roomy(), &repo, None, strict).await.unwrap();
    assert_eq!(pipeline.unloadable().count(), 0);
    let (rejection, _) = pipeline.validate(Some("61.2"), &info, b"").await;
    assert_eq!(rejection.expect("refused").code, "empty-file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_installed_extractor_is_stood_in_for_by_the_built_in_one() {
    let env = Env::new();
    let mut repo = env.init().await;
    install(&mut repo, "hostile", HOSTILE_TXT).await;
    install(&mut repo, "keywords", KEYWORDS).await;
    let akte = create_akte(&mut repo, "61.2-0004/2026", "61.2").await;
    let looping =
        add(&mut repo, akte, "gutachten.txt", b"loop Schallimmissionsprognose der Windenergieanlage".to_vec()).await;
    let fine = add(&mut repo, akte, "echo.txt", b"echo Windpark".to_vec()).await;
    let pipeline = Pipeline::load(&env.host(), &repo, None, PipelineLimits::default()).await.unwrap();
    let report = pipeline.process(&mut repo, &[looping, fine], quiet()).await.unwrap();
    assert_eq!(report.produced.get("extract"), Some(&3), "the hostile one twice, the built-in once: {report:?}");

    // The document has the built-in extractor's text, the enricher saw it, and the
    // installed extractor's failure is still shown.
    let v = pipeline.view(&repo, &looping).await.unwrap();
    assert!(v.text.starts_with("loop Schallimmissionsprognose"), "{v:?}");
    assert_eq!(v.document_type.as_deref(), Some("Schallgutachten"), "{v:?}");
    assert!(v.failures.iter().any(|(p, m)| p.starts_with("extract:hostile@") && m.contains("time")), "{v:?}");
    assert!(v.producers.iter().any(|p| p.starts_with("extract:txt@")), "{v:?}");
    // Where the installed extractor works, only its text counts.
    let v = pipeline.view(&repo, &fine).await.unwrap();
    assert_eq!(v.text, "echo Windpark");
    assert!(!v.producers.iter().any(|p| p.starts_with("extract:txt@")), "{v:?}");
    assert!(pipeline.pending(repo.catalog()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_switch_installed_plugins_per_aktenplan_code_and_media_type() {
    let env = Env::new();
    let mut repo = env.init().await;
    install(&mut repo, "keywords", KEYWORDS).await;
    let p = registry::find(repo.catalog(), "keywords").unwrap();
    assert!(p.runs_for(Some("61.2"), "text/plain"));
    repo.commit(vec![registry::switch(&p, false, Some("61"), None)]).await.unwrap();
    let p = registry::find(repo.catalog(), "keywords").unwrap();
    repo.commit(vec![registry::switch(&p, true, Some("61.2"), Some("application/pdf"))]).await.unwrap();
    let p = registry::find(repo.catalog(), "keywords").unwrap();
    assert!(!p.runs_for(Some("61.2"), "text/plain"), "off below 61");
    assert!(!p.runs_for(Some("61"), "application/pdf"), "61 itself is off");
    assert!(p.runs_for(Some("61.2"), "application/pdf"), "the more specific rule wins");
    assert!(p.runs_for(Some("61.2.1"), "application/pdf"), "rules cover the codes below");
    assert!(p.runs_for(Some("610"), "application/pdf"), "61 does not cover 610");
    assert!(p.runs_for(Some("11.3"), "text/plain"), "elsewhere the switch decides");
    repo.commit(vec![registry::switch(&p, false, None, None)]).await.unwrap();
    let p = registry::find(repo.catalog(), "keywords").unwrap();
    assert!(!p.runs_for(Some("11.3"), "text/plain"));
    assert!(!p.runs_for(Some("61.2"), "application/pdf"), "off without a scope pauses: runs nowhere");
    assert!(p.paused && p.rules.len() == 2, "the rules are kept for resuming: {:?}", p.rules);
    // Removing keeps history and stops it; reinstalling keeps the switch and the rules.
    repo.commit(vec![registry::remove(&p)]).await.unwrap();
    assert!(registry::find(repo.catalog(), "keywords").is_err());
    assert_eq!(repo.catalog().history(&p.id).len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_result_is_named_by_verify_and_never_shown() {
    let env = Env::new();
    let mut repo = env.init().await;
    let akte = create_akte(&mut repo, "61.2-0003/2026", "61.2").await;
    let version = add(&mut repo, akte, "vermerk.txt", "Vermerk: Ortstermin am Windpark".as_bytes().to_vec()).await;
    let pipeline = Pipeline::load(&env.host(), &repo, None, PipelineLimits::default()).await.unwrap();
    pipeline.process(&mut repo, &[version], quiet()).await.unwrap();
    assert!(pipeline.view(&repo, &version).await.unwrap().text.contains("Ortstermin"));

    let content = repo.catalog().get(&version).unwrap().content.unwrap();
    let result = *repo.catalog().derived(&content).unwrap().values().next().unwrap();
    // A small result lives in the pack its entry committed.
    let holder = repo
        .catalog()
        .entries
        .iter()
        .flat_map(|e| &e.packs)
        .find(|p| p.members.contains(&result))
        .map(|p| p.pack)
        .unwrap_or(result);
    let path = akte_store::object::object_path(&holder);
    let mut bytes = env.backend.get(&path).await.unwrap().unwrap().to_vec();
    let n = bytes.len() - 20;
    bytes[n] ^= 0x40;
    env.backend.put(&path, bytes).await.unwrap();

    // A fresh process (this one keeps the packs it has read, already checked, in memory).
    drop(repo);
    let repo = env.open("a").await;
    let report = akte_store::verify::verify(&repo, |_, _| {}).await.unwrap();
    let named: Vec<&str> = report.problems.iter().map(|p| p.object.as_str()).collect();
    assert_eq!(named, [path.as_ref()], "{:?}", report.problems);
    let err = pipeline.view(&repo, &version).await.unwrap_err();
    assert!(err.to_string().to_lowercase().contains("integrity"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_runs_again_what_failed_and_nothing_else() {
    let env = Env::new();
    let mut repo = env.init().await;
    install(&mut repo, "keywords", KEYWORDS).await;
    let akte = create_akte(&mut repo, "61.2-0005/2026", "61.2").await;
    let png = std::fs::read(fixtures().join("entscheidung/04-zustellungsurkunde-scan.png")).unwrap();
    let scan = add(&mut repo, akte, "zustellungsurkunde.png", png.clone()).await;
    // The same scan as a second Dokument: its text is the first one's (kept per content).
    let copy = add(&mut repo, akte, "zustellungsurkunde-kopie.png", png).await;
    let pdf = std::fs::read(fixtures().join("toeb/05-stellungnahme-bundeswehr-scan.pdf")).unwrap();
    let pdf = add(&mut repo, akte, "bundeswehr.pdf", pdf).await;
    let fine = add(&mut repo, akte, "vermerk.txt", "Vermerk zur Schallimmissionsprognose".as_bytes().to_vec()).await;
    let big = add(&mut repo, akte, "gross.txt", vec![b'a'; 2 << 20]).await;
    // OCR fails while its temporary directory is gone (a cleaned-up /tmp, a full disk),
    // and the plain-text extractor refuses a content over a small limit.
    let ocr = env.ocr().await;
    let tmp = env.dir.path().join("tmp");
    std::fs::remove_dir_all(&tmp).unwrap();
    let limits = PipelineLimits { max_extract_bytes: 1 << 20, ..PipelineLimits::default() };
    let pipeline = Pipeline::load(&env.host(), &repo, ocr, limits).await.unwrap();
    let first = pipeline.process(&mut repo, &[scan, copy, pdf, fine, big], quiet()).await.unwrap();
    // OCR of the image (once for both copies) and of the PDF, the plain-text extractor,
    // and the enricher on the documents without text.
    assert!(first.failures.iter().filter(|(_, p, _)| p.starts_with("ocr:")).count() >= 2, "{first:?}");
    assert!(pipeline.view(&repo, &scan).await.unwrap().text.is_empty());
    let enriched_before = pipeline.view(&repo, &fine).await.unwrap();
    assert!(pipeline.pending(repo.catalog()).is_empty(), "a failure is a result: nothing is missing");

    // Listed are the OCR failures, the image's once: the text file worked, the large one
    // would be refused as too large again, and the enricher said it had no text to look at.
    let failed = pipeline.failed(&repo, &|_, _| {}).await.unwrap();
    let listed: Vec<Uuid> = failed.iter().map(|(v, _)| *v).collect();
    assert_eq!(listed.len(), 2, "{failed:?}");
    assert!(listed.contains(&pdf) && (listed.contains(&scan) ^ listed.contains(&copy)), "{failed:?}");
    assert!(failed.iter().all(|(_, p)| matches!(&p[..], [p] if p.starts_with("ocr:"))), "{failed:?}");

    // A retry while the directory is still gone fails once more: the text is as it was, so
    // the enrichers are not run again.
    let failing = pipeline.retry(&mut repo, &failed, quiet()).await.unwrap();
    assert_eq!(failing.produced.get("ocr"), Some(&2), "{failing:?}");
    assert_eq!(failing.produced.get("enrich"), None, "{failing:?}");
    assert_eq!(pipeline.failed(&repo, &|_, _| {}).await.unwrap().len(), 2);

    // With the directory back, the retry recognises the scans, and the enricher, which saw
    // no text before, runs again on the new text: for the PDF, and for both copies of the
    // scan (its result depends on each Dokument's metadata, though OCR ran once for the
    // shared content); nothing else is made again.
    std::fs::create_dir_all(&tmp).unwrap();
    let again = pipeline.retry(&mut repo, &failed, quiet()).await.unwrap();
    assert!(again.failures.is_empty(), "{again:?}");
    assert_eq!(again.produced.get("ocr"), Some(&2), "{again:?}");
    assert_eq!(again.produced.get("enrich"), Some(&3), "{again:?}");
    assert_eq!(again.produced.len(), 2, "{again:?}");
    for (id, word) in [(scan, "Zustell"), (copy, "Zustell"), (pdf, "Bundeswehr")] {
        let view = pipeline.view(&repo, &id).await.unwrap();
        assert!(view.text.contains(word), "{view:?}");
        assert!(view.failures.is_empty(), "the new result replaces the failure: {view:?}");
    }
    assert_eq!(pipeline.view(&repo, &fine).await.unwrap().producers, enriched_before.producers);
    assert!(pipeline.failed(&repo, &|_, _| {}).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enricher_that_timed_out_is_retried_for_every_dokument_sharing_the_content() {
    let env = Env::new();
    let mut repo = env.init().await;
    // The hostile component as an enricher: it spins on the text "loop".
    let manifest = "name = \"hostile\"\nversion = \"0.1.0\"\nworld = \"enricher\"\n\
                    media-types = [\"text/plain\"]\n[limits]\ntimeout-ms = 300\n";
    install(&mut repo, "hostile", manifest).await;
    let first = create_akte(&mut repo, "61.2-0011/2026", "61.2").await;
    let second = create_akte(&mut repo, "61.2-0012/2026", "61.2").await;
    // The same bytes in two Akten: one text, but an enricher's result per Dokument's metadata.
    let a = add(&mut repo, first, "schleife.txt", b"loop".to_vec()).await;
    let b = add(&mut repo, second, "schleife.txt", b"loop".to_vec()).await;
    let pipeline = Pipeline::load(&env.host(), &repo, None, PipelineLimits::default()).await.unwrap();
    let report = pipeline.process(&mut repo, &[a, b], quiet()).await.unwrap();
    let timed_out: Vec<Uuid> = report
        .failures
        .iter()
        .filter(|(_, p, m)| p.starts_with("enrich:hostile@") && m.contains("time"))
        .map(|f| f.0)
        .collect();
    assert_eq!(timed_out.len(), 2, "{report:?}");

    let failed = pipeline.failed(&repo, &|_, _| {}).await.unwrap();
    let mut listed: Vec<Uuid> = failed.iter().map(|(v, _)| *v).collect();
    listed.sort();
    let mut both = vec![a, b];
    both.sort();
    assert_eq!(listed, both, "each Dokument's own enricher result is retried: {failed:?}");
    for (_, producers) in &failed {
        assert!(matches!(&producers[..], [p] if p.starts_with("enrich:hostile@")), "{failed:?}");
    }
    // The retry times out again for both, and lists both again.
    let again = pipeline.retry(&mut repo, &failed, quiet()).await.unwrap();
    assert_eq!(again.produced.get("enrich"), Some(&2), "{again:?}");
    assert_eq!(pipeline.failed(&repo, &|_, _| {}).await.unwrap().len(), 2);
}
