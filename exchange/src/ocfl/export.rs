//! Writing OCFL objects: the versions an import brought first (from its provenance), then
//! one version per journal entry that touched the Akte, replayed in merge order.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    path::{Path, PathBuf},
};

use akte_store::{
    Repository,
    catalog::{CEntry, Catalog, State},
    journal::Op,
    model::ObjKind,
};
use bytes::Bytes;
use serde_json::json;
use uuid::Uuid;

use super::{
    INVENTORY, LAYOUT, OBJECT_DECLARATION, ROOT_DECLARATION, SIDECAR,
    inventory::{Inventory, User, Version},
    object_id, object_path, sidecar_text,
};
use crate::{
    AkteReport, Error, Format, Report, Result,
    files::{Algs, Staging, remove_and_prune, sha512_hex, write_new, write_stream},
    meta::{self, History, Layout, to_bytes},
    names::join,
    provenance::Provenance,
    select_akten,
};

/// Where a file of a version comes from.
#[derive(Clone, Debug)]
enum Source {
    /// Bytes in memory (metadata).
    Bytes(Bytes),
    /// The content of a version object.
    Version(Uuid),
}

/// One file of a version's state.
struct VFile {
    path: String,
    source: Source,
    /// The digest the file must have (versions repeated from provenance).
    expect: Option<String>,
}

/// Who made a version, as OCFL wants it: a name, and a URI when the actor is one (or
/// an e-mail address).
fn user(actor: &str) -> User {
    let scheme = actor.split_once(':').filter(|(s, rest)| {
        !rest.is_empty()
            && s.len() >= 3
            && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    let address = if scheme.is_some() && !actor.contains(char::is_whitespace) {
        Some(actor.to_string())
    } else if actor.contains('@') && !actor.contains(char::is_whitespace) {
        Some(format!("mailto:{actor}"))
    } else {
        None
    };
    User { name: actor.to_string(), address }
}

/// Builds one object version by version.
struct ObjectWriter {
    dir: PathBuf,
    inventory: Inventory,
    /// Version object → SHA-512 of its content, once known.
    digests: HashMap<Uuid, String>,
    files: usize,
    bytes: u64,
}

impl ObjectWriter {
    fn new(dir: PathBuf, id: String) -> Self {
        ObjectWriter { dir, inventory: Inventory::new(id), digests: HashMap::new(), files: 0, bytes: 0 }
    }

    /// Adds a version with this state unless it equals the previous one. New content is
    /// written under `vN/content/<the first logical path that has it>`.
    async fn add_version(&mut self, repo: &Repository, mut files: Vec<VFile>, meta: Version) -> Result<bool> {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let name = format!("v{}", self.inventory.versions.len() + 1);
        let vdir = self.dir.join(&name);
        let mut state: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut new: BTreeMap<String, String> = BTreeMap::new();
        for f in files {
            let cpath = format!("{name}/{}/{}", self.inventory.content_directory, f.path);
            let known = |d: &str, new: &BTreeMap<String, String>| {
                self.inventory.manifest.contains_key(d) || new.contains_key(d)
            };
            let digest = match f.source {
                Source::Bytes(b) => {
                    // A digest computed before (cached metadata) is not computed again.
                    let d = match &f.expect {
                        Some(e) if known(e, &new) => e.clone(),
                        _ => sha512_hex(&b),
                    };
                    if !known(&d, &new) {
                        write_new(&join(&self.dir, &cpath)?, &b)?;
                        new.insert(d.clone(), cpath);
                    }
                    d
                }
                Source::Version(id) => match self.digests.get(&id).or(f.expect.as_ref()) {
                    Some(d) if known(d, &new) => d.clone(),
                    _ => {
                        let abs = join(&self.dir, &cpath)?;
                        let (_, stream) = repo.content(&id).await?;
                        let written = write_stream(&abs, stream, Algs::SHA512).await?;
                        let d = written.sha512.expect("asked for SHA-512");
                        self.digests.insert(id, d.clone());
                        if known(&d, &new) {
                            remove_and_prune(&abs, &self.dir)?;
                        } else {
                            new.insert(d.clone(), cpath);
                            self.files += 1;
                            self.bytes += written.size;
                        }
                        d
                    }
                },
            };
            if let Some(e) = &f.expect
                && *e != digest
            {
                return Err(Error::Store(akte_store::Error::integrity(
                    f.path,
                    format!("has SHA-512 {digest} here, but {e} in the imported OCFL version {name}"),
                )));
            }
            state.entry(digest).or_default().push(f.path);
        }
        if self.inventory.versions.last().is_some_and(|v| v.state == state) {
            debug_assert!(new.is_empty(), "an unchanged state brings no new content");
            if vdir.exists() {
                std::fs::remove_dir_all(&vdir).map_err(|e| Error::io(&vdir, e))?;
            }
            return Ok(false);
        }
        for (d, p) in new {
            self.inventory.manifest.entry(d).or_default().push(p);
        }
        self.inventory.versions.push(Version { state, ..meta });
        self.inventory.names.push(name);
        let bytes = self.inventory.to_bytes();
        write_new(&vdir.join(INVENTORY), &bytes)?;
        write_new(&vdir.join(SIDECAR), sidecar_text(&bytes).as_bytes())?;
        Ok(true)
    }

    /// Writes the head inventory at the object root.
    fn finish(&self) -> Result<()> {
        if self.inventory.versions.is_empty() {
            return Err(Error::Usage(format!("The object {} has no version", self.inventory.id)));
        }
        let bytes = self.inventory.to_bytes();
        write_new(&self.dir.join(INVENTORY), &bytes)?;
        write_new(&self.dir.join(SIDECAR), sidecar_text(&bytes).as_bytes())
    }
}

/// A version's message: what the entry changed in this Akte, and where in the journal.
fn summary(entry: &CEntry, state: &State, akte: Uuid, import: Option<&Provenance>) -> String {
    let mut counts: BTreeMap<(u8, ObjKind), usize> = BTreeMap::new();
    for (op, _) in &entry.ops {
        let (verb, id) = match op {
            Op::Create { id, .. } => (0, id),
            Op::Update { id, .. } => (1, id),
            _ => continue,
        };
        if let Some(o) = state.objects.get(id).filter(|o| o.akte == Some(akte)) {
            *counts.entry((verb, o.kind)).or_default() += 1;
        }
    }
    let mut parts: Vec<String> = Vec::new();
    for verb in [0u8, 1] {
        let list: Vec<String> =
            counts.iter().filter(|((v, _), _)| *v == verb).map(|((_, k), n)| format!("{n} {}", k.label())).collect();
        if !list.is_empty() {
            parts.push(format!("{} {}", if verb == 0 { "create" } else { "update" }, list.join(", ")));
        }
    }
    let what = parts.join("; ");
    let origin = import.map(|p| {
        format!("import from {}{}: ", p.format, p.source.as_deref().map(|s| format!(" {s}")).unwrap_or_default())
    });
    format!("{}{what} (journal {} #{})", origin.unwrap_or_default(), entry.node, entry.seq)
}

/// Drops the cached metadata of the objects an entry changed (a version's change shows
/// in its Dokument's file).
fn invalidate(cache: &mut HashMap<Uuid, (Bytes, String)>, entry: &CEntry, state: &State) {
    for (op, _) in &entry.ops {
        let id = match op {
            Op::Create { id, .. } | Op::Update { id, .. } => *id,
            _ => continue,
        };
        cache.remove(&id);
        if let Some(o) = state.objects.get(&id).filter(|o| o.kind == ObjKind::Version) {
            o.parent.map(|p| cache.remove(&p));
        }
    }
}

/// Writes the object of one Akte.
async fn export_object(
    repo: &Repository,
    akte: Uuid,
    entries: &[usize],
    root: &Path,
) -> Result<(AkteReport, Layout, ObjectWriter)> {
    let catalog = repo.catalog();
    let az = catalog.get(&akte).and_then(|o| o.text("aktenzeichen")).unwrap_or_default().to_string();
    let id = object_id(akte);
    let rel = object_path(&id);
    let dir = join(root, &rel)?;
    write_new(&dir.join(OBJECT_DECLARATION.0), OBJECT_DECLARATION.1.as_bytes())?;
    let provenance = Provenance::load(repo, catalog, akte).await?;
    let mut w = ObjectWriter::new(dir, id);

    // The versions the object had before it was imported here.
    if let Some(past) = provenance.as_ref().and_then(|p| p.ocfl.as_ref()) {
        let mut by_digest: HashMap<&str, Uuid> = HashMap::new();
        for (version, digest) in &past.documents {
            by_digest.entry(digest.as_str()).or_insert(*version);
            w.digests.insert(*version, digest.clone());
        }
        for v in &past.versions {
            let mut files = Vec::new();
            for (digest, paths) in &v.state {
                let source = if let Some(text) = past.files.get(digest) {
                    Source::Bytes(Bytes::from(text.clone().into_bytes()))
                } else if let Some(version) = by_digest.get(digest.as_str()) {
                    Source::Version(*version)
                } else {
                    return Err(Error::invalid(
                        format!("provenance of Akte {akte}"),
                        format!("names the digest {digest} without its content"),
                    ));
                };
                for p in paths {
                    files.push(VFile { path: p.clone(), source: source.clone(), expect: Some(digest.clone()) });
                }
            }
            w.add_version(repo, files, v.clone()).await?;
        }
    }

    // Then every journal entry that touched the Akte, replayed.
    let mut scratch = Catalog::new(catalog.repository);
    let mut cache: HashMap<Uuid, (Bytes, String)> = HashMap::new();
    let mut layout = Layout::default();
    for &i in entries {
        let entry = &catalog.entries[i];
        scratch.add(vec![entry.clone()]);
        invalidate(&mut cache, entry, &scratch.state);
        if scratch.get(&akte).is_none() {
            continue;
        }
        let history = History::new(&scratch, provenance.as_ref().map(|p| &p.history), akte);
        layout = meta::layout(&scratch.state, akte)?;
        let mut files = Vec::new();
        for f in &layout.files {
            if f.content {
                files.push(VFile { path: f.path.clone(), source: Source::Version(f.id), expect: None });
                continue;
            }
            let (b, d) = match cache.entry(f.id) {
                std::collections::hash_map::Entry::Occupied(e) => e.get().clone(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let b = Bytes::from(meta::object_json(&scratch.state, &catalog.state, &history, &layout, f.id)?);
                    let d = sha512_hex(&b);
                    e.insert((b, d)).clone()
                }
            };
            files.push(VFile { path: f.path.clone(), source: Source::Bytes(b), expect: Some(d) });
        }
        let imported = history.mark == Some((entry.hlc, entry.node.as_str()));
        let meta = Version {
            created: entry.hlc.rfc3339(),
            message: Some(summary(entry, &scratch.state, akte, provenance.as_ref().filter(|_| imported))),
            user: Some(user(&entry.actor)),
            state: BTreeMap::new(),
        };
        w.add_version(repo, files, meta).await?;
    }
    w.finish()?;
    let files = layout.files.iter().map(|f| (f.id, f.path.clone())).collect();
    let report =
        AkteReport { id: akte, aktenzeichen: az, path: rel, ocfl_versions: Some(w.inventory.versions.len()), files };
    Ok((report, layout, w))
}

/// Exports Akten as an OCFL 1.1 storage root in `root_dir` (which must not exist or be
/// empty); with no Akten given, all of them. Each Akte becomes the object
/// `urn:uuid:<id>`; each journal entry that touched it, one version. The root is built
/// beside `root_dir` and moved there when complete.
pub async fn export_ocfl(repo: &Repository, akten: &[Uuid], root_dir: &Path) -> Result<Report> {
    let catalog = repo.catalog();
    let ids = select_akten(catalog, akten)?;
    let staging = Staging::new(root_dir)?;
    let root = staging.dir.clone();
    write_new(&root.join(ROOT_DECLARATION.0), ROOT_DECLARATION.1.as_bytes())?;
    let description = "OCFL Community Extension 0003: hashed truncated n-tuple trees with object id encapsulating \
                       directory (SHA-256, three tuples of three characters)";
    write_new(&root.join("ocfl_layout.json"), &to_bytes(&json!({"extension": LAYOUT, "description": description})))?;
    let config = json!({"extensionName": LAYOUT, "digestAlgorithm": "sha256", "tupleSize": 3, "numberOfTuples": 3});
    write_new(&root.join("extensions").join(LAYOUT).join("config.json"), &to_bytes(&config))?;

    // Which journal entries touch which exported Akte.
    let wanted: HashSet<Uuid> = ids.iter().copied().collect();
    let owner: HashMap<Uuid, Uuid> = catalog
        .state
        .objects
        .values()
        .filter_map(|o| o.akte.filter(|a| wanted.contains(a)).map(|a| (o.id, a)))
        .collect();
    let mut entries_of: HashMap<Uuid, Vec<usize>> = HashMap::new();
    for (i, e) in catalog.entries.iter().enumerate() {
        let touched: BTreeSet<Uuid> = e
            .ops
            .iter()
            .filter_map(|(op, _)| match op {
                Op::Create { id, .. } | Op::Update { id, .. } => owner.get(id).copied(),
                _ => None,
            })
            .collect();
        for a in touched {
            entries_of.entry(a).or_default().push(i);
        }
    }

    let mut report = Report { format: Format::Ocfl, path: root_dir.to_path_buf(), ..Default::default() };
    for id in ids {
        let (akte, layout, writer) =
            export_object(repo, id, entries_of.get(&id).map_or(&[][..], Vec::as_slice), &root).await?;
        report.vorgaenge += layout.vorgaenge;
        report.dokumente += layout.dokumente;
        report.versionen += layout.versionen;
        report.files += writer.files;
        report.bytes += writer.bytes;
        report.akten.push(akte);
    }
    staging.finish()?;
    Ok(report)
}
