//! The CLI's side of the ingest pipeline: building it for this node, running it with
//! progress, validating files before `add`, and the `akte plugin …` commands.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use akte_ingest::{Event, Ocr, OcrConfig, Pipeline, PipelineLimits, Report, document_info, registry};
use akte_plugins::{HostConfig, Manifest, PluginHost, World};
use akte_store::{Repository, catalog::Obj, model};
use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::output::{self, say};

/// Where compiled components are cached: `AKTE_PLUGIN_CACHE`, else `<data>/cache/plugins`.
fn cache_dir(data: &Path) -> PathBuf {
    std::env::var_os("AKTE_PLUGIN_CACHE").map(PathBuf::from).unwrap_or_else(|| data.join("cache/plugins"))
}

/// The plugin host of this node. `AKTE_PLUGIN_MAX_MEMORY_MIB` (1 to 4096, default 1024)
/// sets the most memory a plugin's manifest may ask for here.
pub fn host(data: &Path) -> Result<PluginHost> {
    let mut config = HostConfig::new(cache_dir(data));
    if let Ok(v) = std::env::var("AKTE_PLUGIN_MAX_MEMORY_MIB") {
        config.max_memory_mib = v
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=4096).contains(n))
            .ok_or_else(|| anyhow::anyhow!("AKTE_PLUGIN_MAX_MEMORY_MIB must be a number of MiB from 1 to 4096"))?;
    }
    Ok(PluginHost::new(config)?)
}

/// OCR on this node, unless `AKTE_OCR=off`; `None` with a note on stderr when tesseract
/// with German is missing.
async fn ocr(data: &Path, quiet: bool) -> Option<Ocr> {
    if std::env::var("AKTE_OCR").is_ok_and(|v| on_off(&v) == Some(false)) {
        return None;
    }
    match Ocr::detect(OcrConfig::new(data.join("tmp"))).await {
        Ok(o) => Some(o),
        Err(e) => {
            if !quiet {
                eprintln!("akte: OCR is not available, scans stay without text: {e}.");
            }
            None
        }
    }
}

/// The pipeline's limits and policy on this node: `AKTE_VALIDATION_UNDECIDED=reject`
/// refuses a document a validator could not decide on (default `accept`: stored, with a
/// warning).
pub fn limits() -> Result<PipelineLimits> {
    let mut limits = PipelineLimits::default();
    match std::env::var("AKTE_VALIDATION_UNDECIDED").as_deref() {
        Err(_) | Ok("accept") => {}
        Ok("reject") => limits.reject_undecided = true,
        Ok(other) => bail!("AKTE_VALIDATION_UNDECIDED must be `accept` or `reject`, not `{other}`"),
    }
    Ok(limits)
}

/// The pipeline of this node.
pub async fn pipeline(data: &Path, repo: &Repository, quiet: bool) -> Result<Pipeline> {
    let host = host(data)?;
    let ocr = ocr(data, quiet).await;
    let pipeline = Pipeline::load(&host, repo, ocr, limits()?).await?;
    name_unloadable(&pipeline, quiet);
    Ok(pipeline)
}

/// A pipeline for reading recorded results only (`Pipeline::view`): it never runs OCR, so
/// it does not look for tesseract (three subprocesses per command otherwise).
pub async fn reader(data: &Path, repo: &Repository, quiet: bool) -> Result<Pipeline> {
    let pipeline = Pipeline::load(&host(data)?, repo, None, limits()?).await?;
    name_unloadable(&pipeline, quiet);
    Ok(pipeline)
}

/// Logs (and unless `quiet` prints) the installed plugins this node leaves out because
/// they do not load here.
fn name_unloadable(pipeline: &Pipeline, quiet: bool) {
    for (name, reason) in pipeline.unloadable() {
        tracing::warn!(plugin = %name, %reason, "a plugin does not load on this node and is left out");
        if !quiet {
            eprintln!(
                "akte: note: the plugin {name} does not load on this node and is left out: {}",
                output::sentence(&anyhow::anyhow!("{reason}"))
            );
        }
    }
}

/// Runs the pipeline over versions with progress bars; prints a summary unless `quiet`.
pub async fn run(pipeline: &Pipeline, repo: &mut Repository, versions: &[Uuid], quiet: bool) -> Result<Report> {
    let versions: Vec<(Uuid, Vec<String>)> = versions.iter().map(|v| (*v, Vec::new())).collect();
    retry(pipeline, repo, &versions, quiet).await
}

/// The latest versions with failed results of this pipeline (see [`Pipeline::failed`]),
/// with a progress bar of the results read.
pub async fn failed(pipeline: &Pipeline, repo: &Repository) -> Result<Vec<(Uuid, Vec<String>)>> {
    let bar = output::bar(0, false, "reading the recorded results");
    let progress = |read: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(read as u64);
    };
    let failed = pipeline.failed(repo, &progress).await;
    bar.finish_and_clear();
    Ok(failed?)
}

/// Runs the pipeline over versions with progress bars, the named producers of each again
/// (none: what is missing); prints a summary unless `quiet`.
pub async fn retry(
    pipeline: &Pipeline,
    repo: &mut Repository,
    versions: &[(Uuid, Vec<String>)],
    quiet: bool,
) -> Result<Report> {
    if versions.is_empty() {
        return Ok(Report::default());
    }
    let bar = output::bar(versions.len() as u64, false, "extracting");
    let progress = {
        let bar = bar.clone();
        Arc::new(move |e: Event| match e {
            Event::Version { done, .. } => bar.set_position(done as u64),
            Event::OcrPage { page, .. } => bar.set_message(format!("extracting (OCR page {page})")),
        })
    };
    let report = pipeline.retry(repo, versions, progress).await?;
    bar.finish_and_clear();
    if !quiet {
        let produced: Vec<String> = report.produced.iter().map(|(k, v)| format!("{v} {k}")).collect();
        if !produced.is_empty() || !report.failures.is_empty() {
            eprintln!(
                "akte: ingest of {} version(s): {}{}; {} failure(s) recorded.",
                report.versions,
                if produced.is_empty() { "nothing new".to_string() } else { produced.join(", ") },
                if report.ocr_pages > 0 { format!(" ({} OCR page(s))", report.ocr_pages) } else { String::new() },
                report.failures.len()
            );
        }
        for (version, producer, message) in &report.failures {
            let file = repo.catalog().get(version).and_then(|v| v.text("file_name"));
            let on = file.map_or_else(|| format!("version {version}"), |f| format!("{f} (version {version})"));
            eprintln!("akte: {producer} on {on}: {}", output::sentence(&anyhow::anyhow!("{message}")));
        }
    }
    Ok(report)
}

/// Runs the validators that apply to files about to be added under an Akte filed at
/// `aktenplan`. Fails naming every rejected file; prints validator failures as warnings.
pub async fn validate_files(data: &Path, repo: &Repository, akte: &Obj, files: &[PathBuf]) -> Result<()> {
    let has_validators = registry::installed(repo.catalog())?.iter().any(|p| p.manifest.world == World::Validator);
    if !has_validators {
        return Ok(());
    }
    let pipeline = pipeline(data, repo, true).await?;
    let aktenplan = akte.text("aktenplan");
    let mut rejected = Vec::new();
    for file in files {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let media_type = &crate::add::media_type_of_file(file, name);
        if !pipeline.has_validators(aktenplan, media_type) {
            continue;
        }
        let size = std::fs::metadata(file).with_context(|| format!("Cannot read {}", file.display()))?.len();
        let head = read_head(file, 64 << 20)?;
        let probe = Obj { fields: Default::default(), ..akte.clone() };
        let (_, mut info) = document_info(repo.catalog(), &probe, media_type, Some(name), size);
        info.document_type = None;
        let (rejection, warnings) = pipeline.validate(aktenplan, &info, &head).await;
        for w in warnings {
            eprintln!("akte: {w}");
        }
        if let Some(r) = rejection {
            rejected.push(format!("{} was rejected by {}: {} ({})", file.display(), r.plugin, r.reason, r.code));
        }
    }
    match rejected.as_slice() {
        [] => {}
        [one] => bail!("Nothing was added: {one}"),
        // Each reason on its own line: joined into one sentence, the net that cuts a message
        // at 600 characters would drop the later files' reasons.
        several => {
            for r in several {
                eprintln!("akte: {r}");
            }
            bail!("Nothing was added: {} files were rejected (above)", several.len());
        }
    }
    Ok(())
}

/// The node's validators as the gate of an import (`akte import`, `POST /imports`): every
/// file of the package is checked as an upload would be, before anything is stored.
pub struct ValidatorGate {
    pipeline: Arc<Pipeline>,
}

impl ValidatorGate {
    /// A gate of the validators of `pipeline`.
    pub fn new(pipeline: Arc<Pipeline>) -> ValidatorGate {
        ValidatorGate { pipeline }
    }

    /// The gate of this node, `None` when no validator is installed.
    pub async fn of(data: &Path, repo: &Repository) -> Result<Option<ValidatorGate>> {
        if !registry::installed(repo.catalog())?.iter().any(|p| p.manifest.world == World::Validator) {
            return Ok(None);
        }
        Ok(Some(ValidatorGate::new(Arc::new(pipeline(data, repo, true).await?))))
    }
}

impl akte_exchange::Gate for ValidatorGate {
    fn check<'a>(
        &'a self,
        f: akte_exchange::Candidate<'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::result::Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let text = |m: &'a serde_json::Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str);
            let aktenplan = text(f.akte, "aktenplan");
            let media_type = text(f.version, "media_type")
                .map(|m| m.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
                .unwrap_or_else(|| "application/octet-stream".into());
            let file_name = text(f.version, "file_name").unwrap_or("");
            let head = read_head(f.path, self.pipeline.limits().max_validate_bytes)
                .map_err(|e| format!("{} cannot be read: {e:#}", f.shown))?;
            // As for an upload: also for the type the name and first bytes say, so that a
            // declared type does not steer around the validators.
            let mut types = vec![media_type];
            let found = model::media_type_of(file_name, &head);
            if found != types[0] && found != "application/octet-stream" {
                types.push(found.to_string());
            }
            types.retain(|t| self.pipeline.has_validators(aktenplan, t));
            let size = std::fs::metadata(f.path).map_err(|e| format!("{} cannot be read: {e}", f.shown))?.len();
            for media_type in types {
                self.check_as(&f, aktenplan, media_type, size, &head).await?;
            }
            Ok(())
        })
    }
}

impl ValidatorGate {
    /// Runs the validators for `f` as a document of `media_type`.
    async fn check_as(
        &self,
        f: &akte_exchange::Candidate<'_>,
        aktenplan: Option<&str>,
        media_type: String,
        size: u64,
        head: &[u8],
    ) -> std::result::Result<(), String> {
        let text = |m: &serde_json::Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        let info = akte_plugins::DocumentInfo {
            media_type,
            file_name: text(f.version, "file_name"),
            size,
            document_type: f.dokument.and_then(|d| text(d, "document_type")),
            aktenzeichen: text(f.akte, "aktenzeichen"),
            akte_title: text(f.akte, "title"),
            aktenplan: aktenplan.map(str::to_string),
            fields: f.dokument.map(|d| akte_ingest::plugin_fields(d.iter())).unwrap_or_default(),
        };
        let (rejection, warnings) = self.pipeline.validate(aktenplan, &info, head).await;
        for w in warnings {
            tracing::warn!(file = %f.shown, "{w}");
            eprintln!("akte: {}: {w}", f.shown);
        }
        match rejection {
            Some(r) => Err(format!("{} was rejected by {}: {} ({})", f.shown, r.plugin, r.reason, r.code)),
            None => Ok(()),
        }
    }
}

fn read_head(file: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(file).with_context(|| format!("Cannot read {}", file.display()))?;
    let mut head = Vec::new();
    f.take(limit).read_to_end(&mut head).with_context(|| format!("Cannot read {}", file.display()))?;
    Ok(head)
}

/// Whether `add` runs the pipeline afterwards (`AKTE_INGEST=off` turns it off).
pub fn enabled() -> bool {
    !std::env::var("AKTE_INGEST").is_ok_and(|v| on_off(&v) == Some(false))
}

/// An on/off variable's value: `on`, `true`, `1`, `yes`, `ja` (and `an`) or the opposites,
/// in any case; `None` for anything else (the command refuses to start then).
pub fn on_off(value: &str) -> Option<bool> {
    match value.trim().to_lowercase().as_str() {
        "on" | "true" | "1" | "yes" | "ja" | "an" => Some(true),
        "off" | "false" | "0" | "no" | "nein" | "aus" => Some(false),
        _ => None,
    }
}

/// The manifest given, or for a component given without `--manifest`: `NAME.toml` beside
/// `NAME.wasm`, else `plugin.toml` beside it, else `plugin.toml` in the current directory (a
/// plugin's crate, whose component cargo puts under `target/`).
fn manifest_of(wasm: &Path, given: Option<&Path>) -> Result<PathBuf> {
    if let Some(m) = given {
        return Ok(m.to_path_buf());
    }
    let named = wasm.with_extension("toml");
    let plain = wasm.with_file_name("plugin.toml");
    let here = PathBuf::from("plugin.toml");
    [named.clone(), plain.clone(), here].into_iter().find(|p| p.is_file()).ok_or_else(|| {
        anyhow::anyhow!(
            "There is no manifest for {}: neither {} nor {} nor ./plugin.toml exists; pass it with --manifest",
            wasm.display(),
            named.display(),
            plain.display()
        )
    })
}

/// `akte plugin add`.
/// `akte plugin add`. `start`: run it only for an Aktenplan code and/or media type from
/// the start, or (neither given) install it paused.
pub async fn add(
    repo: &mut Repository,
    data: &Path,
    wasm: &Path,
    manifest: Option<&Path>,
    start: Option<(Option<&str>, Option<&str>)>,
    json_out: bool,
) -> Result<()> {
    let manifest = &manifest_of(wasm, manifest)?;
    let text = std::fs::read_to_string(manifest).with_context(|| format!("Cannot read {}", manifest.display()))?;
    let parsed = Manifest::from_toml(&text)
        .map_err(|e| anyhow::anyhow!("The manifest {} is not usable: {e}", manifest.display()))?;
    let bytes = std::fs::read(wasm).with_context(|| format!("Cannot read {}", wasm.display()))?;
    // Compiling it proves it is a component of the right world before anything is stored
    // (and fills this node's cache).
    let plugin = host(data)?.load(parsed.clone(), &bytes)?;
    let digest = plugin.digest();
    if let Some((aktenplan, media_type)) = start {
        check_scope(repo, &parsed, aktenplan, media_type)?;
    }
    // The same again (a deployment script run twice): nothing to do, and no error.
    if let Some(same) = registry::installed_as(repo.catalog(), &parsed, &digest) {
        // The same component again with a scope or --paused: the scope is what was asked for.
        if let Some((aktenplan, media_type)) = start {
            let fields = registry::start_scoped(aktenplan, media_type);
            repo.commit(vec![akte_store::Change::Update { id: same.id, fields }]).await?;
            let scope = match (aktenplan, media_type) {
                (None, None) => format!("paused: it runs nowhere until `akte plugin enable {}`", parsed.name),
                (a, m) => format!("runs only {}", scope_words(a, m)),
            };
            say!("{} {} is installed already; now it {scope}", parsed.name, parsed.version);
            return Ok(());
        }
        if json_out {
            say!(
                "{}",
                json!({"id": same.id, "name": parsed.name, "version": parsed.version.to_string(), "world": parsed.world.as_str(), "blake3": digest.to_hex().to_string(), "replaced": null, "unchanged": true})
            );
        } else {
            say!(
                "{} {} is installed already with this component and manifest; nothing changed",
                parsed.name,
                parsed.version
            );
        }
        return Ok(());
    }
    registry::check_new_version(repo.catalog(), &parsed, &digest)?;
    let size = bytes.len() as u64;
    let content = repo.store_bytes(bytes).await?;
    let replaced = registry::find(repo.catalog(), &parsed.name).ok().map(|old| old.manifest.version.to_string());
    let (id, mut changes) = registry::install(repo.catalog(), &parsed, &text, &content, &digest, size)?;
    // In the object as created, so that no node runs it more widely in between.
    if let Some((aktenplan, media_type)) = start
        && let Some(akte_store::Change::Create { fields, .. }) = changes.first_mut()
    {
        fields.extend(registry::start_scoped(aktenplan, media_type));
    }
    repo.commit(changes).await?;
    if parsed.world == World::Extractor {
        for (other, shared) in shared_media_types(&registry::installed(repo.catalog())?, &parsed) {
            let first = if other.as_str() < parsed.name.as_str() { &other } else { &parsed.name };
            eprintln!(
                "akte: note: the extractor {other} also takes {shared}; a document both may take goes to {first} \
                 (installed extractors are tried in name order; `akte plugin disable` narrows one)"
            );
        }
    }
    if json_out {
        say!(
            "{}",
            json!({"id": id, "name": parsed.name, "version": parsed.version.to_string(), "world": parsed.world.as_str(), "blake3": digest.to_hex().to_string(), "replaced": replaced})
        );
    } else {
        let replacing = replaced.map(|v| format!(", replacing version {v}")).unwrap_or_default();
        let scope = match start {
            None => String::new(),
            Some((None, None)) => format!("; paused: it runs nowhere until `akte plugin enable {}`", parsed.name),
            Some((a, m)) => format!("; runs only {}", scope_words(a, m)),
        };
        say!("installed {} {} ({}) as {id}{replacing}{scope}", parsed.name, parsed.version, parsed.world);
    }
    Ok(())
}

/// The other installed extractors whose media types overlap those of `new`, each with the
/// overlap as written (`text/plain`, `text/*`).
fn shared_media_types(installed: &[registry::Installed], new: &Manifest) -> Vec<(String, String)> {
    // Two ranges overlap when one covers the other; the narrower names the overlap.
    let overlap = |a: &str, b: &str| -> Option<String> {
        if akte_plugins::range_covers(a, b).is_some() {
            Some(b.to_string())
        } else if akte_plugins::range_covers(b, a).is_some() {
            Some(a.to_string())
        } else {
            None
        }
    };
    installed
        .iter()
        .filter(|p| p.manifest.world == World::Extractor && p.manifest.name != new.name)
        .filter_map(|p| {
            let shared: Vec<String> = p
                .manifest
                .media_types
                .iter()
                .flat_map(|a| new.media_types.iter().filter_map(move |b| overlap(a, b)))
                .collect();
            (!shared.is_empty()).then(|| (p.manifest.name.clone(), shared.join(", ")))
        })
        .collect()
}

/// `akte plugin list`.
pub async fn list(data: &Path, repo: &Repository, json_out: bool) -> Result<()> {
    let plugins = registry::installed(repo.catalog())?;
    // Whether each loads on this node (its memory limit within this node's, its component
    // compiles); compiled components come from the compile cache.
    let pipeline = if plugins.is_empty() { None } else { Some(reader(data, repo, true).await?) };
    let unloadable: BTreeMap<&str, &str> = pipeline.iter().flat_map(|p| p.unloadable()).collect();
    if json_out {
        let v: Vec<Value> = plugins
            .iter()
            .map(|p| {
                let load_error = unloadable.get(p.manifest.name.as_str());
                json!({"id": p.id, "name": p.manifest.name, "version": p.manifest.version.to_string(),
                    "world": p.manifest.world.as_str(), "media_types": p.manifest.media_types,
                    "enabled": p.enabled, "paused": p.paused, "rules": p.rules, "blake3": p.blake3, "size": p.size,
                    "installed": p.installed, "installed_by": p.installed_by,
                    "loads": load_error.is_none(), "load_error": load_error})
            })
            .collect();
        say!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    if plugins.is_empty() {
        say!("no plugins installed (the built-in extractors always run: txt, html, office, pdf, eml)");
    }
    for p in &plugins {
        let rules: Vec<String> = p
            .rules
            .iter()
            .map(|r| {
                format!(
                    "{} for {}{}",
                    if r.enabled { "on" } else { "off" },
                    r.aktenplan.as_deref().map(|a| format!("Aktenplan {a}")).unwrap_or_else(|| "all".into()),
                    r.media_type.as_deref().map(|m| format!(" {m}")).unwrap_or_default()
                )
            })
            .collect();
        say!(
            "{}\t{}\t{}\t{}\t{}{}{}",
            p.manifest.name,
            p.manifest.version,
            p.manifest.world,
            if p.paused {
                "paused"
            } else if p.enabled {
                "enabled"
            } else {
                "disabled"
            },
            p.manifest.media_types.join(","),
            if rules.is_empty() { String::new() } else { format!("\t{}", rules.join("; ")) },
            match unloadable.get(p.manifest.name.as_str()) {
                Some(reason) => format!("\tdoes not load on this node: {reason}"),
                None => String::new(),
            }
        );
    }
    Ok(())
}

/// `akte plugin enable|disable`.
pub async fn switch(
    repo: &mut Repository,
    name: &str,
    on: bool,
    aktenplan: Option<&str>,
    media_type: Option<&str>,
) -> Result<()> {
    let p = registry::find(repo.catalog(), name)?;
    check_scope(repo, &p.manifest, aktenplan, media_type)?;
    repo.commit(vec![registry::switch(&p, on, aktenplan, media_type)]).await?;
    match (aktenplan, media_type, on, p.paused) {
        (None, None, false, _) => {
            say!("{name} paused: it runs nowhere; its rules are kept, `akte plugin enable {name}` resumes them")
        }
        (None, None, true, true) => say!("{name} resumed{}", rules_words(&p)),
        (None, None, true, false) => say!("{name} enabled everywhere (narrower rules removed)"),
        (a, m, on, paused) => say!(
            "{name} {} {}{}",
            if on { "enabled" } else { "disabled" },
            scope_words(a, m),
            if paused { format!(" (still paused; `akte plugin enable {name}` resumes it)") } else { String::new() }
        ),
    }
    Ok(())
}

/// Refuses a scope the plugin cannot have: a media type it does not handle, or an
/// Aktenplan code nothing is filed under.
fn check_scope(
    repo: &Repository,
    manifest: &Manifest,
    aktenplan: Option<&str>,
    media_type: Option<&str>,
) -> Result<()> {
    let name = &manifest.name;
    if let Some(m) = media_type {
        if !akte_plugins::is_media_range(m) {
            bail!("{m:?} is not a media type (such as application/pdf or text/*)");
        }
        if !manifest.handles(m) {
            bail!("The plugin {name} does not handle {m} (it handles {})", manifest.media_types.join(", "));
        }
    }
    if aktenplan.is_some_and(|c| c.trim().is_empty()) {
        bail!("--aktenplan needs an Aktenplan code, such as 61.2");
    }
    if let Some(code) = aktenplan
        && !aktenplan_known(repo.catalog(), code)
    {
        bail!("The Aktenplan has no node {code} or below it, and no Akte is filed there; check the code");
    }
    Ok(())
}

fn scope_words(aktenplan: Option<&str>, media_type: Option<&str>) -> String {
    format!(
        "for {}{}",
        aktenplan.map(|a| format!("Aktenplan {a}")).unwrap_or_else(|| "all Aktenplan codes".into()),
        media_type.map(|m| format!(" and {m}")).unwrap_or_default()
    )
}

/// How a plugin's switch and rules read, for a message: `: on for Aktenplan 61.2 …`.
fn rules_words(p: &registry::Installed) -> String {
    let mut parts = vec![if p.enabled { "on by default".to_string() } else { "off by default".to_string() }];
    for r in &p.rules {
        parts.push(format!(
            "{} {}",
            if r.enabled { "on" } else { "off" },
            scope_words(r.aktenplan.as_deref(), r.media_type.as_deref())
        ));
    }
    format!(": {}", parts.join("; "))
}

/// Whether a rule for `code` can apply: the repository keeps no Aktenplan (codes are
/// free), or some Aktenplan node or Akte has `code` or a code below it (`61` covers
/// `61.2`, as in the rules).
pub fn aktenplan_known(catalog: &akte_store::catalog::Catalog, code: &str) -> bool {
    use akte_store::model::ObjKind;
    let at_or_below = |c: &str| c == code || c.strip_prefix(code).is_some_and(|rest| rest.starts_with('.'));
    let mut nodes = catalog.all(ObjKind::Aktenplan).filter_map(|n| n.text("code")).peekable();
    if nodes.peek().is_none() {
        return true;
    }
    nodes.any(at_or_below) || catalog.all(ObjKind::Akte).filter_map(|a| a.text("aktenplan")).any(at_or_below)
}

/// `akte plugin remove`.
pub async fn remove(repo: &mut Repository, name: &str) -> Result<()> {
    let p = registry::find(repo.catalog(), name)?;
    repo.commit(vec![registry::remove(&p)]).await?;
    say!("removed {name} (its results stay stored, no longer shown or searched)");
    Ok(())
}

/// `akte plugin test FILE.wasm DOCUMENT`: runs a component on a local file and prints
/// what it would produce, storing nothing.
pub async fn test(
    data: &Path,
    wasm: &Path,
    manifest: Option<&Path>,
    document: &Path,
    media_type: Option<&str>,
    context: &crate::TestContext,
    json_out: bool,
) -> Result<()> {
    // As the repository passes a Dokument's fields (`_` as `-`, names a plugin field may have).
    let mut given = serde_json::Map::new();
    for f in &context.fields {
        let Some((name, value)) = f.split_once('=') else {
            bail!("--field takes NAME=VALUE, not {f:?}");
        };
        given.insert(name.trim().to_string(), Value::String(value.to_string()));
    }
    let fields = akte_ingest::plugin_fields(given.iter());
    let manifest_path = manifest_of(wasm, manifest)?;
    let manifest = Manifest::from_file(&manifest_path).map_err(|e| {
        let hint = if manifest.is_none() { " (pass --manifest FILE)" } else { "" };
        anyhow::anyhow!("The manifest {} is not usable{hint}: {e}", manifest_path.display())
    })?;
    let bytes = std::fs::read(wasm).with_context(|| format!("Cannot read {}", wasm.display()))?;
    let content = std::fs::read(document).with_context(|| format!("Cannot read {}", document.display()))?;
    let name = document.file_name().and_then(|n| n.to_str()).unwrap_or("document");
    let media_type = media_type.unwrap_or_else(|| model::media_type_of(name, &content)).to_string();
    if !manifest.handles(&media_type) {
        eprintln!(
            "akte: note: the manifest lists {} but not {media_type}, so in the repository this plugin would not run on this file.",
            manifest.media_types.join(", ")
        );
    }
    let host = host(data)?;
    let plugin = host.load(manifest.clone(), &bytes)?;
    let info = akte_plugins::DocumentInfo {
        media_type: media_type.clone(),
        file_name: Some(name.to_string()),
        size: content.len() as u64,
        document_type: context.document_type.clone(),
        aktenzeichen: context.aktenzeichen.clone(),
        akte_title: context.akte_title.clone(),
        aktenplan: context.aktenplan.clone(),
        fields,
    };
    let called = match manifest.world {
        World::Extractor => plugin.extract_logged(&content, &media_type).await.map(|o| {
            let pages: Vec<_> = o.value.pages.iter().map(|r| [r.start, r.end]).collect();
            let fields: Vec<_> = o.value.fields.iter().map(|f| json!({"name": f.name, "value": f.value})).collect();
            let v = json!({"text": o.value.text, "pages": pages, "fields": fields, "language": o.value.language});
            (v, o.logs, o.logs_dropped, o.elapsed)
        }),
        World::Enricher => {
            // An enricher gets text: the built-in extractor's (and OCR's) for the file.
            let text = extract_locally(&host, data, &content, &media_type).await?;
            plugin.enrich_logged(&info, &text).await.map(|o| {
                let fields: Vec<_> = o.value.fields.iter().map(|f| json!({"name": f.name, "value": f.value})).collect();
                let v = json!({"document_type": o.value.document_type, "fields": fields, "tags": o.value.tags, "confidence": o.value.confidence});
                (v, o.logs, o.logs_dropped, o.elapsed)
            })
        }
        // As a node gives it: the start of the content, at most `max_validate_bytes`.
        World::Validator => plugin
            .validate_logged(
                &info,
                &content[..content.len().min(PipelineLimits::default().max_validate_bytes as usize)],
            )
            .await
            .map(|o| {
                let v = match o.value {
                    akte_plugins::Verdict::Accept => json!({"verdict": "accept"}),
                    akte_plugins::Verdict::Reject { reason, code } => {
                        json!({"verdict": "reject", "reason": reason, "code": code})
                    }
                };
                (v, o.logs, o.logs_dropped, o.elapsed)
            }),
    };
    let lines = |logs: &[akte_plugins::LogRecord], dropped: u32| -> Vec<String> {
        let mut out: Vec<String> = logs.iter().map(|l| format!("{:?}: {}", l.level, l.message)).collect();
        if dropped > 0 {
            out.push(format!(
                "{dropped} further record(s) dropped (at most {} are kept per call)",
                akte_plugins::MAX_LOG_RECORDS
            ));
        }
        out
    };
    let (value, logs, elapsed) = match called {
        Ok((value, logs, dropped, elapsed)) => (value, lines(&logs, dropped), elapsed),
        // The log is most wanted when the call fails: what the plugin logged before it.
        Err(failed) => {
            let logs = lines(&failed.logs, failed.logs_dropped);
            if json_out {
                say!(
                    "{}",
                    serde_json::to_string_pretty(
                        &json!({"plugin": manifest.name, "world": manifest.world.as_str(), "error": failed.error.to_string(), "logs": logs})
                    )?
                );
            } else {
                for l in &logs {
                    eprintln!("log {l}");
                }
            }
            return Err(failed.error.into());
        }
    };
    if json_out {
        say!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"plugin": manifest.name, "world": manifest.world.as_str(), "result": value, "logs": logs, "elapsed_ms": elapsed.as_millis() as u64})
            )?
        );
    } else {
        say!(
            "{} {} ({}) on {name} ({media_type}), {} ms:",
            manifest.name,
            manifest.version,
            manifest.world,
            elapsed.as_millis()
        );
        say!("{}", serde_json::to_string_pretty(&value)?);
        for l in logs {
            say!("log {l}");
        }
    }
    Ok(())
}

async fn extract_locally(host: &PluginHost, data: &Path, content: &[u8], media_type: &str) -> Result<String> {
    let mut text = String::new();
    let mut why = None;
    // Pages of a PDF without a text layer (a scan), which a node gives to OCR.
    let mut without_text: Vec<u32> = Vec::new();
    // As a node would: at most what it gives to extraction.
    let limit = PipelineLimits::default().max_extract_bytes;
    if content.len() as u64 > limit {
        why = Some(format!("the file has {} bytes; a node gives at most {limit} bytes to extraction", content.len()));
    } else {
        for plugin in akte_ingest::builtin_extractors(host)? {
            if plugin.manifest().handles(media_type) {
                match plugin.extract(content, media_type).await {
                    Ok(o) => {
                        let pages = o.value.fields.iter().find(|f| f.name == "pages-without-text");
                        without_text = pages
                            .map(|f| f.value.split(',').filter_map(|n| n.trim().parse().ok()).collect())
                            .unwrap_or_default();
                        text = o.value.text;
                    }
                    Err(e) => why = Some(e.to_string()),
                }
            }
        }
    }
    let scanned_pdf = media_type == "application/pdf" && !without_text.is_empty();
    if (akte_ingest::ocr::is_image(media_type) || scanned_pdf)
        && let Some(o) = ocr(data, true).await
    {
        let read = if scanned_pdf {
            o.pdf_pages(content, &without_text, |_| {}).await.map(|pages| {
                let ocr_text: Vec<String> = pages.into_iter().map(|(_, t)| t).collect();
                ocr_text.join("\n")
            })
        } else {
            o.image(content).await
        };
        match read {
            // A PDF's text layer first, then what OCR read of its scanned pages, as a node
            // puts them together.
            Ok(t) if scanned_pdf && !text.trim().is_empty() => text = format!("{text}\n\n{t}"),
            Ok(t) => text = t,
            Err(e) => why = Some(e.to_string()),
        }
    }
    if text.is_empty() {
        let why = why.map(|w| format!(" ({})", w.trim_end_matches('.'))).unwrap_or_default();
        eprintln!("akte: note: no text could be extracted from the document{why}; the enricher gets an empty text.");
    }
    Ok(text)
}
