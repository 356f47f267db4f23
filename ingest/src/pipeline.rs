//! The stages of the pipeline and the work on one document version.

use std::{
    collections::{BTreeMap, HashSet},
    sync::Arc,
    time::Instant,
};

use akte_plugins::{DocumentInfo, Field, Outcome, Plugin, PluginError, PluginHost, Verdict, World};
use akte_store::{
    Change, Name, Repository,
    catalog::{Catalog, Obj, VecMap},
    model::ObjKind,
};
use futures::{StreamExt, stream};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

mod retry;
mod view;

pub use view::{TextState, View};

use crate::{
    Error, Result,
    derived::{Derived, Payload, RESULT_VERSION, Stage, plugin_producer},
    ocr::{self, Ocr},
    registry::{self, Installed},
};

/// Limits of the pipeline (plugins have their own, from their manifests).
#[derive(Clone, Copy, Debug)]
pub struct PipelineLimits {
    /// Contents larger than this are not given to extractors (recorded as `too-large`).
    pub max_extract_bytes: u64,
    /// Validators see at most this many bytes (the start of the content).
    pub max_validate_bytes: u64,
    /// Contents larger than this are not given to OCR.
    pub max_ocr_bytes: u64,
    /// Versions worked on at once.
    pub jobs: usize,
    /// Versions per journal entry of results.
    pub batch: usize,
    /// Whether a document is refused when a validator that applies to it cannot decide
    /// (it failed, timed out, or does not load on this node). Off by default: a failed
    /// plugin does not block storing, and the failure is reported as a warning.
    pub reject_undecided: bool,
}

impl Default for PipelineLimits {
    fn default() -> Self {
        PipelineLimits {
            max_extract_bytes: 256 << 20,
            max_validate_bytes: 64 << 20,
            max_ocr_bytes: 512 << 20,
            jobs: 2,
            batch: 32,
            reject_undecided: false,
        }
    }
}

/// A plugin ready to run, with its producer name.
struct Loaded {
    plugin: Plugin,
    producer: String,
    installed: Option<Installed>,
}

impl Loaded {
    fn new(plugin: Plugin, installed: Option<Installed>) -> Loaded {
        let m = plugin.manifest();
        let stage = match m.world {
            World::Extractor => "extract",
            World::Enricher => "enrich",
            World::Validator => "validate",
        };
        let producer = plugin_producer(stage, &m.name, &m.version.to_string(), &plugin.digest());
        Loaded { plugin, producer, installed }
    }

    /// The producer name of this plugin's result for `job`: an enricher's also names the
    /// document metadata it was given (see [`info_digest`]).
    fn producer_for(&self, job: &Job) -> String {
        if self.plugin.manifest().world == World::Enricher {
            format!("{}+{}", self.producer, job.info_digest)
        } else {
            self.producer.clone()
        }
    }

    fn runs_for(&self, aktenplan: Option<&str>, media_type: &str) -> bool {
        match &self.installed {
            Some(i) => i.runs_for(aktenplan, media_type),
            None => self.plugin.manifest().handles(media_type),
        }
    }
}

/// Why a validator refused a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// The validator's name.
    pub plugin: String,
    /// Its sentence for the clerk.
    pub reason: String,
    /// Its machine code.
    pub code: String,
}

/// Progress of [`Pipeline::process`].
#[derive(Clone, Debug)]
pub enum Event {
    /// A version is done (`done` of `total`).
    Version {
        /// Versions done.
        done: usize,
        /// Versions to do.
        total: usize,
    },
    /// One page went through OCR.
    OcrPage {
        /// The version.
        version: Uuid,
        /// The 1-based page number.
        page: u32,
    },
}

/// What [`Pipeline::process`] did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Versions looked at.
    pub versions: usize,
    /// Results produced now, by stage (`extract`, `ocr`, `enrich`).
    pub produced: BTreeMap<String, usize>,
    /// Results that existed already and were reused.
    pub reused: usize,
    /// Pages recognised by OCR.
    pub ocr_pages: usize,
    /// Failures recorded: (version, producer, message).
    pub failures: Vec<(Uuid, String, String)>,
}

/// The ingest pipeline of one node: the plugins to run and the OCR engine, if any.
pub struct Pipeline {
    extractors: Vec<Loaded>,
    enrichers: Vec<Loaded>,
    validators: Vec<Loaded>,
    ocr: Option<Ocr>,
    limits: PipelineLimits,
    /// Installed plugins that do not load on this node, with the reason.
    unloadable: Vec<(Installed, String)>,
}

/// One version to work on, with what the plugins are told about it.
struct Job {
    version: Uuid,
    content: Name,
    media_type: String,
    size: u64,
    aktenplan: Option<String>,
    info: DocumentInfo,
    /// [`info_digest`] of `info`.
    info_digest: String,
}

impl Pipeline {
    /// A pipeline with the built-in extractors, the plugins installed in the repository
    /// (components read from the store, compiled through the host's cache) and OCR if given.
    pub async fn load(host: &PluginHost, repo: &Repository, ocr: Option<Ocr>, limits: PipelineLimits) -> Result<Self> {
        let mut extractors = Vec::new();
        let mut enrichers = Vec::new();
        let mut validators = Vec::new();
        let mut unloadable = Vec::new();
        // A plugin that does not load here (its manifest asks for more memory than this
        // node gives, its component cannot be read or compiled) is left out and named, so
        // that one plugin does not stop ingest, search and text on the node.
        for p in registry::installed(repo.catalog())? {
            let loaded = match repo.read_bytes(&p.content, 256 << 20).await {
                Ok(wasm) => host.load(p.manifest.clone(), &wasm).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            let plugin = match loaded {
                Ok(plugin) => plugin,
                Err(reason) => {
                    unloadable.push((p, reason));
                    continue;
                }
            };
            let loaded = Loaded::new(plugin, Some(p));
            match loaded.plugin.manifest().world {
                World::Extractor => extractors.push(loaded),
                World::Enricher => enrichers.push(loaded),
                World::Validator => validators.push(loaded),
            }
        }
        // Installed extractors first: they replace the built-in one for their media types.
        for plugin in crate::builtin_extractors(host)? {
            extractors.push(Loaded::new(plugin, None));
        }
        Ok(Pipeline { extractors, enrichers, validators, ocr, limits, unloadable })
    }

    /// Installed plugins that do not load on this node (left out), each with the reason.
    pub fn unloadable(&self) -> impl Iterator<Item = (&str, &str)> {
        self.unloadable.iter().map(|(p, reason)| (p.manifest.name.as_str(), reason.as_str()))
    }

    /// A pipeline of validators only, from installed validator plugins and their
    /// components' bytes (for a server, which reads those without holding the repository
    /// and compiles them away from its request threads), or why a component could not be
    /// read. A plugin that does not load is left out and named in the returned list, so
    /// that one broken plugin does not stop the others; like one whose component could not
    /// be read, it is undecided in [`validate`](Self::validate).
    pub fn validators_only(
        host: &PluginHost,
        plugins: Vec<(Installed, std::result::Result<Vec<u8>, String>)>,
        limits: PipelineLimits,
    ) -> (Self, Vec<(String, Error)>) {
        let mut validators = Vec::new();
        let mut failed = Vec::new();
        let mut unloadable = Vec::new();
        for (p, wasm) in plugins.into_iter().filter(|(p, _)| p.manifest.world == World::Validator) {
            // A component that cannot be read is undecided like one that does not load.
            let wasm = match wasm {
                Ok(wasm) => wasm,
                Err(e) => {
                    unloadable.push((p, format!("its component cannot be read: {e}")));
                    continue;
                }
            };
            match host.load(p.manifest.clone(), &wasm) {
                Ok(plugin) => validators.push(Loaded::new(plugin, Some(p))),
                Err(e) => {
                    failed.push((p.manifest.name.clone(), Error::from(e)));
                    unloadable.push((p, failed.last().map(|(_, e)| e.to_string()).unwrap_or_default()));
                }
            }
        }
        let pipeline =
            Pipeline { extractors: Vec::new(), enrichers: Vec::new(), validators, ocr: None, limits, unloadable };
        (pipeline, failed)
    }

    /// The pipeline's limits.
    pub fn limits(&self) -> &PipelineLimits {
        &self.limits
    }

    /// The OCR engine, if this node has one.
    pub fn ocr(&self) -> Option<&Ocr> {
        self.ocr.as_ref()
    }

    /// Runs the validators that apply to a document before it is stored. `head` is the
    /// start of the content (at most [`PipelineLimits::max_validate_bytes`]; `info.size`
    /// has the full size). A validator that cannot decide (it fails, or does not load on
    /// this node) does not block unless [`PipelineLimits::reject_undecided`] is set; then
    /// it rejects with the code `undecided`. Otherwise its failure is returned as a warning.
    pub async fn validate(
        &self,
        aktenplan: Option<&str>,
        info: &DocumentInfo,
        head: &[u8],
    ) -> (Option<Rejection>, Vec<String>) {
        let mut warnings = Vec::new();
        let head = &head[..head.len().min(self.limits.max_validate_bytes as usize)];
        let mut undecided = Vec::new();
        for (p, reason) in self.unloadable.iter().filter(|(p, _)| p.manifest.world == World::Validator) {
            if p.runs_for(aktenplan, &info.media_type) {
                undecided.push((p.manifest.name.clone(), format!("it does not load on this node: {reason}")));
            }
        }
        for v in self.validators.iter().filter(|v| v.runs_for(aktenplan, &info.media_type)) {
            match v.plugin.validate(info, head).await {
                Ok(Outcome { value: Verdict::Accept, .. }) => {}
                Ok(Outcome { value: Verdict::Reject { reason, code }, .. }) => {
                    return (Some(Rejection { plugin: v.plugin.manifest().name.clone(), reason, code }), warnings);
                }
                Err(e) => undecided.push((v.plugin.manifest().name.clone(), e.to_string())),
            }
        }
        for (plugin, why) in undecided {
            if self.limits.reject_undecided {
                let reason = format!(
                    "The validator could not decide, and this node refuses what is not validated ({})",
                    why.trim_end_matches('.')
                );
                return (Some(Rejection { plugin, reason, code: "undecided".into() }), warnings);
            }
            warnings.push(format!("validator {plugin} could not decide and was skipped: {why}"));
        }
        (None, warnings)
    }

    /// Whether any validator would look at a document of this media type here.
    pub fn has_validators(&self, aktenplan: Option<&str>, media_type: &str) -> bool {
        self.validators.iter().any(|v| v.runs_for(aktenplan, media_type))
            || self
                .unloadable
                .iter()
                .any(|(p, _)| p.manifest.world == World::Validator && p.runs_for(aktenplan, media_type))
    }

    fn extractor_for(&self, aktenplan: Option<&str>, media_type: &str) -> Option<&Loaded> {
        self.extractors.iter().find(|e| e.runs_for(aktenplan, media_type))
    }

    fn wants_ocr(&self, media_type: &str) -> Option<&Ocr> {
        self.ocr.as_ref().filter(|_| ocr::is_image(media_type) || media_type == "application/pdf")
    }

    /// The producers this pipeline would run for a version, in order.
    fn producers(&self, job: &Job) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = self.extractor_for(job.aktenplan.as_deref(), &job.media_type) {
            out.push(e.producer.clone());
        }
        if let Some(o) = self.wants_ocr(&job.media_type)
            && ocr::is_image(&job.media_type)
        {
            out.push(o.producer());
        }
        for e in self.enrichers.iter().filter(|e| e.runs_for(job.aktenplan.as_deref(), &job.media_type)) {
            out.push(e.producer_for(job));
        }
        out
    }

    /// The built-in extractor for a media type.
    fn builtin_extractor_for(&self, media_type: &str) -> Option<&Loaded> {
        self.extractors.iter().find(|e| e.installed.is_none() && e.runs_for(None, media_type))
    }

    /// The result of extractor `ex` for the job: recorded, or made now and stored.
    #[allow(clippy::too_many_arguments)]
    async fn extract(
        &self,
        repo: &Repository,
        job: &Job,
        ex: &Loaded,
        have: &VecMap<Name>,
        work: &mut Work,
        content: &mut Option<Vec<u8>>,
        fresh_text: &mut bool,
    ) -> Result<Option<Derived>> {
        if let Some(result) = have.get(&ex.producer) {
            work.reused += 1;
            return Ok(Some(load(repo, result).await?));
        }
        let started = Instant::now();
        // An extractor that reads only the start of a file gets only that (its manifest's
        // `max-input-bytes`), however large the file.
        // At most the node's limit for extraction, whatever the manifest says.
        let start_only = ex
            .plugin
            .manifest()
            .limits
            .max_input_bytes
            .map(|n| n.min(self.limits.max_extract_bytes))
            .filter(|n| job.size > *n);
        let payload = if start_only.is_none() && job.size > self.limits.max_extract_bytes {
            too_large(job.size, self.limits.max_extract_bytes)
        } else {
            let bytes = match start_only {
                Some(n) => read_start(repo, &job.content, n).await?,
                None => content_of(repo, job, content, self.limits.max_extract_bytes).await?,
            };
            let r = ex.plugin.extract(&bytes, &job.media_type).await;
            if start_only.is_none() {
                *content = Some(bytes);
            }
            match r {
                Ok(o) => {
                    let e = o.value;
                    let mut fields: Vec<(String, String)> = e.fields.into_iter().map(|f| (f.name, f.value)).collect();
                    if let Some(n) = start_only {
                        fields.push(("input-bytes".into(), format!("{n} of {}", job.size)));
                    }
                    Payload::Text {
                        pages: e.pages.iter().map(|r| (r.start, r.end)).collect(),
                        text: e.text,
                        page_numbers: Vec::new(),
                        fields,
                        language: e.language,
                    }
                }
                Err(e) => failed(&e),
            }
        };
        let d = derived(&ex.producer, payload, Vec::new(), started);
        work.store(repo, job, Stage::Extract, &ex.producer, &d).await?;
        // A failure made again (a retry that failed once more) leaves the text as it was.
        *fresh_text |= d.text().is_some();
        Ok(Some(d))
    }

    async fn work(
        &self,
        repo: &Repository,
        job: &Job,
        again: &[String],
        progress: Arc<dyn Fn(Event) + Send + Sync>,
    ) -> Result<Work> {
        let mut work = Work {
            version: job.version,
            content: job.content,
            fresh_text: false,
            produced: Vec::new(),
            reused: 0,
            ocr_pages: 0,
        };
        let mut have = repo.catalog().derived(&job.content).cloned().unwrap_or_default();
        for producer in again {
            have.remove(producer);
        }
        let mut content: Option<Vec<u8>> = None;
        let aktenplan = job.aktenplan.as_deref();

        // Extraction.
        let mut text = String::new();
        let mut without_text: Vec<u32> = Vec::new();
        // Whether the text enrichers see is new in this run (an extractor or OCR ran): then
        // their recorded results were made from other text (none, after an extractor that
        // failed; an older extractor's) and are made again.
        let mut fresh_text = false;
        if let Some(ex) = self.extractor_for(aktenplan, &job.media_type) {
            let mut derived = self.extract(repo, job, ex, &have, &mut work, &mut content, &mut fresh_text).await?;
            // An installed extractor that failed on the document: the built-in one for its
            // type, if there is one, so that the document still gets text (the failure
            // stays recorded and shown).
            if ex.installed.is_some()
                && derived.as_ref().is_some_and(fell_back_from)
                && let Some(builtin) = self.builtin_extractor_for(&job.media_type)
            {
                derived = self.extract(repo, job, builtin, &have, &mut work, &mut content, &mut fresh_text).await?;
            }
            if let Some(Derived { payload: Payload::Text { text: t, fields, .. }, .. }) = derived {
                text = t;
                without_text = fields
                    .iter()
                    .find(|(k, _)| k == "pages-without-text")
                    .map(|(_, v)| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
                    .unwrap_or_default();
            }
        }

        // OCR: images, and the PDF pages without a text layer.
        if let Some(engine) = self.wants_ocr(&job.media_type)
            && (ocr::is_image(&job.media_type) || !without_text.is_empty())
        {
            let producer = engine.producer();
            match have.get(&producer) {
                Some(result) => {
                    work.reused += 1;
                    if let Some(t) = load(repo, result).await?.text() {
                        push_text(&mut text, t);
                    }
                }
                None => {
                    let started = Instant::now();
                    let payload = if job.size > self.limits.max_ocr_bytes {
                        too_large(job.size, self.limits.max_ocr_bytes)
                    } else {
                        let bytes = content_of(repo, job, &mut content, self.limits.max_ocr_bytes).await?;
                        let version = job.version;
                        let result = if ocr::is_image(&job.media_type) {
                            let r = engine.image(&bytes).await.map(|t| vec![(1, t)]);
                            progress(Event::OcrPage { version, page: 1 });
                            r
                        } else {
                            engine
                                .pdf_pages(&bytes, &without_text, |page| progress(Event::OcrPage { version, page }))
                                .await
                        };
                        content = Some(bytes);
                        match result {
                            Ok(pages) => {
                                work.ocr_pages += pages.len();
                                ocr_payload(pages)
                            }
                            Err(e) => Payload::Failed { code: "ocr".into(), message: e.to_string() },
                        }
                    };
                    let d = derived(&producer, payload, Vec::new(), started);
                    if let Some(t) = d.text() {
                        push_text(&mut text, t);
                    }
                    work.store(repo, job, Stage::Ocr, &producer, &d).await?;
                    fresh_text |= d.text().is_some();
                }
            }
        }
        drop(content);

        // Enrichers.
        for en in self.enrichers.iter().filter(|e| e.runs_for(aktenplan, &job.media_type)) {
            let producer = en.producer_for(job);
            if have.contains_key(&producer) && !fresh_text {
                work.reused += 1;
                continue;
            }
            let started = Instant::now();
            let (payload, logs) = match en.plugin.enrich(&job.info, &text).await {
                Ok(o) => {
                    let s = o.value;
                    let logs = o.logs.iter().take(64).map(|l| format!("{:?}: {}", l.level, l.message)).collect();
                    (
                        Payload::Suggestion {
                            document_type: s.document_type,
                            fields: s.fields.into_iter().map(|f| (f.name, f.value)).collect(),
                            tags: s.tags,
                            confidence: s.confidence,
                        },
                        logs,
                    )
                }
                Err(e) => (failed(&e), Vec::new()),
            };
            let d = derived(&producer, payload, logs, started);
            work.store(repo, job, Stage::Enrich, &producer, &d).await?;
        }
        work.fresh_text = fresh_text;
        Ok(work)
    }
}

struct Work {
    version: Uuid,
    content: Name,
    /// Whether an extractor or OCR made text for the content in this run.
    fresh_text: bool,
    produced: Vec<(String, String, Change, Option<String>)>,
    reused: usize,
    ocr_pages: usize,
}

impl Work {
    async fn store(&mut self, repo: &Repository, job: &Job, stage: Stage, producer: &str, d: &Derived) -> Result<()> {
        let result = repo.store_bytes(d.to_bytes()).await?;
        let stage = match stage {
            Stage::Extract => "extract",
            Stage::Ocr => "ocr",
            Stage::Enrich => "enrich",
        };
        let failure = d.failure().map(|(_, m)| m.to_string());
        let change = Change::Derive { content: job.content, producer: producer.to_string(), result };
        self.produced.push((stage.into(), producer.to_string(), change, failure));
        Ok(())
    }
}

/// The job's content: what an earlier stage read (taken from `read`), else at most `limit`
/// bytes from the store.
async fn content_of(repo: &Repository, job: &Job, read: &mut Option<Vec<u8>>, limit: u64) -> Result<Vec<u8>> {
    match read.take() {
        Some(bytes) => Ok(bytes),
        None => Ok(repo.read_bytes(&job.content, limit as usize).await?),
    }
}

/// The first `n` bytes of a content.
async fn read_start(repo: &Repository, root: &Name, n: u64) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(n as usize);
    let mut parts = repo.objects().read_range(root, 0, n).await?;
    while let Some(part) = parts.next().await {
        out.extend_from_slice(&part?);
    }
    Ok(out)
}

async fn load(repo: &Repository, result: &Name) -> Result<Derived> {
    let bytes = repo.read_bytes(result, 512 << 20).await?;
    Derived::parse(&bytes)
        .map_err(|e| Error::Store(akte_store::Error::integrity(akte_store::object::object_path(result).to_string(), e)))
}

fn derived(producer: &str, payload: Payload, logs: Vec<String>, started: Instant) -> Derived {
    Derived {
        v: RESULT_VERSION,
        producer: producer.to_string(),
        payload,
        logs,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}

fn push_text(text: &mut String, more: &str) {
    if more.trim().is_empty() {
        return;
    }
    if !text.trim().is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(more);
}

/// Whether an installed extractor's result calls for the built-in extractor: it failed, but
/// not because the content is too large for this node (the built-in one gets no more).
fn fell_back_from(d: &Derived) -> bool {
    matches!(&d.payload, Payload::Failed { code, .. } if code != "too-large")
}

fn too_large(size: u64, limit: u64) -> Payload {
    Payload::Failed {
        code: "too-large".into(),
        message: format!("The content has {size} bytes; this node gives at most {limit} bytes to this stage"),
    }
}

fn ocr_payload(pages: Vec<(u32, String)>) -> Payload {
    let mut text = String::new();
    let mut ranges = Vec::new();
    let mut numbers = Vec::new();
    for (n, t) in pages {
        if !text.is_empty() {
            text.push('\n');
        }
        let start = text.len();
        text.push_str(&t);
        ranges.push((start, text.len()));
        numbers.push(n);
    }
    Payload::Text { text, pages: ranges, page_numbers: numbers, fields: Vec::new(), language: Some("de".into()) }
}

/// A plugin error as a stored failure.
fn failed(e: &PluginError) -> Payload {
    let code = match e {
        PluginError::Timeout { .. } => "timeout",
        PluginError::MemoryExhausted { .. } => "memory",
        PluginError::Trap { .. } => "trap",
        PluginError::OutputTooLarge { .. } | PluginError::InvalidOutput { .. } => "output",
        PluginError::Failed { failure: akte_plugins::Failure::Unsupported(_), .. } => "unsupported",
        PluginError::Failed { failure: akte_plugins::Failure::Malformed(_), .. } => "malformed",
        _ => "other",
    };
    Payload::Failed { code: code.into(), message: e.to_string() }
}

/// What plugins are told about a document, from the catalog: the Dokument's metadata and
/// its Akte's Aktenzeichen, title and Aktenplan code.
pub fn document_info(
    catalog: &Catalog,
    dokument: &Obj,
    media_type: &str,
    file_name: Option<&str>,
    size: u64,
) -> (Option<String>, DocumentInfo) {
    let akte = dokument.akte.and_then(|a| catalog.get(&a));
    let aktenplan = akte.and_then(|a| a.text("aktenplan")).map(str::to_string);
    let fields = plugin_fields(dokument.fields.iter());
    let info = DocumentInfo {
        media_type: media_type.to_string(),
        file_name: file_name.map(str::to_string),
        size,
        document_type: dokument.text("document_type").map(str::to_string),
        aktenzeichen: akte.and_then(|a| a.text("aktenzeichen")).map(str::to_string),
        akte_title: akte.and_then(|a| a.text("title")).map(str::to_string),
        aktenplan: aktenplan.clone(),
        fields,
    };
    (aktenplan, info)
}

/// The first 16 hex digits of the BLAKE3 of what an enricher is told about a document
/// besides its text. Results are kept per content; an enricher's result also depends on
/// this, so its producer name carries it ([`Loaded::producer_for`]): the same bytes filed
/// in another Akte, or a Dokument whose type or fields changed, are enriched again with
/// their own metadata instead of reusing another document's result.
fn info_digest(info: &DocumentInfo) -> String {
    let mut h = blake3::Hasher::new();
    let mut text = |s: Option<&str>| match s {
        None => {
            h.update(&[0]);
        }
        Some(s) => {
            h.update(&[1]);
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
    };
    text(Some(&info.media_type));
    text(info.file_name.as_deref());
    text(Some(&info.size.to_string()));
    text(info.document_type.as_deref());
    text(info.aktenzeichen.as_deref());
    text(info.akte_title.as_deref());
    text(info.aktenplan.as_deref());
    for f in &info.fields {
        text(Some(&f.name));
        text(Some(&f.value));
    }
    h.finalize().to_hex()[..16].to_string()
}

/// A Dokument's fields as plugins are told them: scalar values as text, names with `-`
/// for `_`, names a plugin field may have only.
pub fn plugin_fields<'a>(fields: impl Iterator<Item = (&'a String, &'a Value)>) -> Vec<Field> {
    let mut out = Vec::new();
    for (k, v) in fields {
        let value = match v {
            Value::String(s) => s.clone(),
            Value::Object(_) | Value::Array(_) => continue,
            other => other.to_string(),
        };
        let name = k.replace('_', "-");
        if name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            out.push(Field::new(name, value));
        }
    }
    out
}

fn job_of(catalog: &Catalog, version: &Obj) -> Option<Job> {
    if version.kind != ObjKind::Version {
        return None;
    }
    let dokument = catalog.get(&version.parent?)?;
    let media_type = version
        .text("media_type")
        .map(|m| m.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_else(|| "application/octet-stream".into());
    let size = version.fields.get("size").and_then(Value::as_u64).unwrap_or(0);
    let (aktenplan, info) = document_info(catalog, dokument, &media_type, version.text("file_name"), size);
    let info_digest = info_digest(&info);
    Some(Job { version: version.id, content: version.content?, media_type, size, aktenplan, info, info_digest })
}

#[cfg(test)]
mod tests {
    use super::{TextState, View};

    fn view(producers: &[&str], failed: &[&str], pending: &[&str]) -> View {
        let strings = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        View {
            producers: strings(producers),
            failures: failed.iter().map(|p| (p.to_string(), "kaputt".to_string())).collect(),
            pending: strings(pending),
            ..View::default()
        }
    }

    #[test]
    fn text_state_follows_the_text_producers() {
        let (pdf, ocr, enrich) = ("extract:pdf@0.1.0", "ocr:tesseract@5", "enrich:keywords@0.1.0");
        assert_eq!(view(&[], &[], &[pdf, enrich]).text_state(), TextState::Pending);
        assert_eq!(view(&[pdf], &[], &[enrich]).text_state(), TextState::Done);
        // The extractor failed, OCR of the pages is still to come.
        assert_eq!(view(&[pdf], &[pdf], &[ocr]).text_state(), TextState::Pending);
        assert_eq!(view(&[pdf, ocr], &[pdf], &[]).text_state(), TextState::Done);
        assert_eq!(view(&[pdf, ocr, enrich], &[pdf, ocr], &[]).text_state(), TextState::Failed);
        // An enricher's result or failure says nothing about the text.
        assert_eq!(view(&[enrich], &[enrich], &[]).text_state(), TextState::None);
        assert_eq!(view(&[], &[], &[enrich]).text_state(), TextState::None);
    }

    #[test]
    fn a_scan_nobody_read_is_partial() {
        let (pdf, ocr) = ("extract:pdf@0.1.0", "ocr:tesseract@5");
        let scan = |producers: &[&str], failed: &[&str], pending: &[&str], pages: &str| View {
            extracted_fields: vec![("pages-without-text".to_string(), pages.to_string())],
            ..view(producers, failed, pending)
        };
        // No OCR on this node: the scanned pages stay unread.
        assert_eq!(scan(&[pdf], &[], &[], "2,3").text_state(), TextState::Partial);
        // OCR failed on them.
        assert_eq!(scan(&[pdf, ocr], &[ocr], &[], "2").text_state(), TextState::Partial);
        // OCR is queued, or has read them.
        assert_eq!(scan(&[pdf], &[], &[ocr], "2").text_state(), TextState::Done);
        assert_eq!(scan(&[pdf, ocr], &[], &[], "2").text_state(), TextState::Done);
        // Every page had text.
        assert_eq!(scan(&[pdf], &[], &[], "").text_state(), TextState::Done);
    }
}
