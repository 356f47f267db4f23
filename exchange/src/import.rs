//! The part of an import all formats share: check the Akten against the repository,
//! store their contents while checking every digest once more, and commit everything as
//! one journal entry. Nothing becomes visible before that commit, so an import that fails
//! anywhere leaves the catalog as it was (at most unreferenced, encrypted objects remain).
//!
//! The repository is a [`Shared`] one: the import holds it only to read the catalog and to
//! commit, not while it reads, validates and stores the package's files, so that a server
//! keeps answering reads and uploads during a large import.

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    io::Read,
    path::{Path, PathBuf},
    pin::Pin,
};

use akte_store::{Change, Repository, content::ContentRef, model::ObjKind, object::Objects};
use bytes::Bytes;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    AkteReport, Error, Format, Report, Result,
    files::{Algs, Digests, Hasher, open_regular},
    meta::Parsed,
    provenance::Provenance,
};

/// A repository an import writes to: one held for the whole import ([`Held`], the CLI)
/// or one shared with requests (a server's `tokio::sync::RwLock<Repository>`). An import
/// takes [`write`](Shared::write) to sync and check the catalog, and again to commit
/// (checking once more: the catalog may have changed in between), and
/// [`read`](Shared::read) for a moment to plan; it holds neither while it reads,
/// validates and stores files.
pub trait Shared: Sync {
    /// Waits for the repository, to read it.
    fn read(&self) -> Pin<Box<dyn Future<Output = ReadGuard<'_>> + Send + '_>>;
    /// Waits for the repository, to change it.
    fn write(&self) -> Pin<Box<dyn Future<Output = WriteGuard<'_>> + Send + '_>>;
}

/// The repository, read: a guard of a [`Shared`] one.
pub type ReadGuard<'a> = Box<dyn std::ops::Deref<Target = Repository> + Send + Sync + 'a>;
/// The repository, to change: a guard of a [`Shared`] one.
pub type WriteGuard<'a> = Box<dyn std::ops::DerefMut<Target = Repository> + Send + Sync + 'a>;

impl Shared for tokio::sync::RwLock<Repository> {
    fn read(&self) -> Pin<Box<dyn Future<Output = ReadGuard<'_>> + Send + '_>> {
        Box::pin(async { Box::new(tokio::sync::RwLock::read(self).await) as ReadGuard<'_> })
    }

    fn write(&self) -> Pin<Box<dyn Future<Output = WriteGuard<'_>> + Send + '_>> {
        Box::pin(async { Box::new(tokio::sync::RwLock::write(self).await) as WriteGuard<'_> })
    }
}

/// A repository this import alone uses (a command line run): `&Held::new(&mut repo)`.
pub struct Held<'r>(tokio::sync::Mutex<&'r mut Repository>);

impl<'r> Held<'r> {
    /// Wraps a repository held for the whole import.
    pub fn new(repo: &'r mut Repository) -> Held<'r> {
        Held(tokio::sync::Mutex::new(repo))
    }

    async fn lock(&self) -> tokio::sync::MappedMutexGuard<'_, Repository> {
        tokio::sync::MutexGuard::map(self.0.lock().await, |r| &mut **r)
    }
}

impl Shared for Held<'_> {
    fn read(&self) -> Pin<Box<dyn Future<Output = ReadGuard<'_>> + Send + '_>> {
        Box::pin(async { Box::new(self.lock().await) as ReadGuard<'_> })
    }

    fn write(&self) -> Pin<Box<dyn Future<Output = WriteGuard<'_>> + Send + '_>> {
        Box::pin(async { Box::new(self.lock().await) as WriteGuard<'_> })
    }
}

/// One file of a package about to be imported, as a [`Gate`] sees it: before anything of
/// the package is stored.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    /// The Akte's fields (`aktenzeichen`, `title`, `aktenplan`, …).
    pub akte: &'a Map<String, Value>,
    /// The Dokument's fields (`title`, `document_type`, …).
    pub dokument: Option<&'a Map<String, Value>>,
    /// The version's fields (`file_name`, `media_type`, `size`, …).
    pub version: &'a Map<String, Value>,
    /// The file on disk.
    pub path: &'a Path,
    /// Its path inside the package, for messages.
    pub shown: &'a str,
}

/// A check of every file of a package before an import stores anything: the server and
/// the CLI run the node's validators through it, as for an upload. `Err` carries the
/// sentence saying why the file is refused; one refusal refuses the whole import.
pub trait Gate: Sync {
    /// Checks one file.
    fn check<'a>(
        &'a self,
        file: Candidate<'a>,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send + 'a>>;
}

/// Lets every file in.
pub struct Ungated;

impl Gate for Ungated {
    fn check<'a>(
        &'a self,
        _: Candidate<'a>,
    ) -> Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send + 'a>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Asks `gate` about every content file of `incoming`; the refusals, each a sentence.
async fn gate_all(gate: &dyn Gate, incoming: &[Incoming]) -> Result<()> {
    let mut refused = Vec::new();
    for inc in incoming {
        let parsed = &inc.parsed;
        for obj in parsed.objects.iter().filter(|o| o.file.is_some()) {
            let Some(cf) = inc.contents.get(&obj.id) else { continue };
            let dokument = parsed.objects.iter().find(|d| d.id == obj.parent).map(|d| &d.fields);
            let candidate = Candidate {
                akte: &parsed.akte.fields,
                dokument,
                version: &obj.fields,
                path: &cf.path,
                shown: &cf.shown,
            };
            if let Err(why) = gate.check(candidate).await {
                refused.push(why);
            }
        }
    }
    match refused.len() {
        0 => Ok(()),
        1 => Err(Error::Rejected(format!("Nothing was imported: {}", refused.remove(0)))),
        n => Err(Error::Rejected(format!(
            "Nothing was imported: {n} files were refused, the first: {}",
            refused.remove(0)
        ))),
    }
}

/// What a version's content must hash to (from the package's manifests).
#[derive(Clone, Debug, Default)]
pub struct Expect {
    /// SHA-256, when the package states it.
    pub sha256: Option<String>,
    /// SHA-512, when the package states it.
    pub sha512: Option<String>,
}

/// A version's content in the package.
#[derive(Clone, Debug)]
pub struct ContentFile {
    /// The file on disk.
    pub path: PathBuf,
    /// Its path inside the package, for errors.
    pub shown: String,
    /// Its digests as the package states them.
    pub expect: Expect,
}

/// One Akte of a package, read and checked, ready to import.
#[derive(Clone, Debug)]
pub struct Incoming {
    /// The Akte's metadata.
    pub parsed: Parsed,
    /// Version id → its content.
    pub contents: HashMap<Uuid, ContentFile>,
    /// What to keep of its past (history filled in here).
    pub provenance: Provenance,
    /// The Akte's place in the package, for the report.
    pub path: String,
}

/// Stores one content from a package file, hashing it on the way (one read of the file).
async fn store_verified(objects: &Objects, chunk: usize, cf: &ContentFile) -> Result<(ContentRef, Digests)> {
    let file = open_regular(&cf.path, &cf.shown)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let algs = Algs { sha256: false, sha512: cf.expect.sha512.is_some() };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        let mut hasher = Hasher::new(algs);
        let mut file = file;
        let mut left = len;
        loop {
            let mut buf = Vec::with_capacity((left as usize).clamp(1, chunk));
            match (&mut file).take(chunk as u64).read_to_end(&mut buf) {
                Ok(n) => {
                    hasher.update(&buf);
                    left = left.saturating_sub(n as u64);
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() || n < chunk {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
        hasher.finish()
    });
    let chunks = futures::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let stored = objects.put_chunks(chunks, chunk, |_| {}).await;
    let digests = reader.await.expect("the reader does not panic");
    let stored = stored.map_err(|e| match e {
        akte_store::Error::Io { source, .. } => Error::io(&cf.path, source),
        e => Error::Store(e),
    })?;
    Ok((stored, digests))
}

/// Checks a stored content against the package's digests and the version's own fields.
fn check_content(
    cf: &ContentFile,
    stored: &ContentRef,
    digests: &Digests,
    fields: &serde_json::Map<String, Value>,
) -> Result<()> {
    let mismatch = |what: &str, stated: &str, actual: &str| {
        Error::integrity(&cf.shown, format!("{what} is {stated}, but the file's is {actual}"))
    };
    if let Some(s) = &cf.expect.sha256
        && *s != stored.sha256
    {
        return Err(mismatch("the manifest's SHA-256", s, &stored.sha256));
    }
    if let (Some(s), Some(actual)) = (&cf.expect.sha512, &digests.sha512)
        && s != actual
    {
        return Err(mismatch("the manifest's SHA-512", s, actual));
    }
    if let Some(size) = fields.get("size").and_then(Value::as_u64)
        && size != stored.size
    {
        return Err(mismatch("the version's size", &size.to_string(), &stored.size.to_string()));
    }
    for (field, actual) in [("sha256", &stored.sha256), ("blake3", &stored.blake3)] {
        if let Some(s) = fields.get(field).and_then(Value::as_str)
            && s != actual
        {
            return Err(mismatch(&format!("the version's {field}"), s, actual));
        }
    }
    Ok(())
}

/// Refuses Akten that clash with the repository or with each other.
fn check_conflicts(repo: &Repository, incoming: &[Incoming]) -> Result<()> {
    let catalog = repo.catalog();
    let mut ids = HashSet::new();
    let mut azs = HashSet::new();
    for inc in incoming {
        let akte = &inc.parsed.akte;
        let az = akte.fields.get("aktenzeichen").and_then(Value::as_str).unwrap_or_default();
        if let Some(holder) = catalog.state.aktenzeichen.get(az) {
            return Err(Error::Conflict(format!("The Aktenzeichen {az} is already used by Akte {holder}")));
        }
        if !azs.insert(az.to_string()) {
            return Err(Error::Conflict(format!("The package holds the Aktenzeichen {az} twice")));
        }
        for id in std::iter::once(akte.id).chain(inc.parsed.objects.iter().map(|o| o.id)) {
            if catalog.get(&id).is_some() {
                return Err(Error::Conflict(format!(
                    "Akte {az}: the object {id} already exists in this repository (imported before?)"
                )));
            }
            // A deleted object's id stays void (the journal keeps the deletion): imported
            // under it, the Akte would be reported as imported and be nowhere.
            if let Some(by) = catalog.state.erased.get(&id) {
                let day = catalog.state.deleted.get(by).map_or("", |t| t.deletion.time.get(..10).unwrap_or(""));
                return Err(Error::Conflict(format!(
                    "Akte {az}: the object {id} was deleted from this repository (with its Akte, on {day}); \
                     a deleted Akte cannot be imported again under its old ids"
                )));
            }
            if !ids.insert(id) {
                return Err(Error::Conflict(format!("Akte {az}: the package holds the object {id} twice")));
            }
        }
    }
    Ok(())
}

/// The Aktenplan nodes the Akten name that the repository lacks (same code): created with
/// their ids and fields, under the node that stands for their parent.
fn aktenplan_changes(repo: &Repository, incoming: &[Incoming]) -> Vec<Change> {
    let catalog = repo.catalog();
    let mut mapped: HashMap<Uuid, Uuid> = HashMap::new();
    let mut changes = Vec::new();
    for node in incoming.iter().flat_map(|i| i.parsed.akte.aktenplan.iter().flatten()) {
        if mapped.contains_key(&node.id) {
            continue;
        }
        let code = node.fields.get("code").and_then(Value::as_str);
        let existing = catalog.get(&node.id).filter(|o| o.kind == ObjKind::Aktenplan).map(|o| o.id).or_else(|| {
            catalog.all(ObjKind::Aktenplan).find(|o| code.is_some() && o.text("code") == code).map(|o| o.id)
        });
        let target = match existing {
            Some(id) => id,
            None if catalog.get(&node.id).is_none() => {
                changes.push(Change::Create {
                    kind: ObjKind::Aktenplan,
                    id: node.id,
                    parent: node.parent.and_then(|p| mapped.get(&p).copied()),
                    content: None,
                    fields: node.fields.clone(),
                });
                node.id
            }
            // The id is taken by something else: the node is not created; the Akte still
            // names its code.
            None => continue,
        };
        mapped.insert(node.id, target);
    }
    changes
}

/// Imports checked Akten: conflicts, the gate, contents, one commit. The repository is
/// held only to check and to commit (see [`Shared`]).
pub async fn commit_all(
    shared: &dyn Shared,
    incoming: Vec<Incoming>,
    format: Format,
    path: PathBuf,
    gate: &dyn Gate,
) -> Result<Report> {
    let (objects, chunk) = {
        let mut repo = shared.write().await;
        repo.sync().await?;
        check_conflicts(&repo, &incoming)?;
        (repo.objects().clone(), repo.chunk_size)
    };
    gate_all(gate, &incoming).await?;
    let mut changes = Vec::new();
    let mut report = Report { format, path, ..Default::default() };
    for inc in &incoming {
        let parsed = &inc.parsed;
        let akte = &parsed.akte;
        let az = akte.fields.get("aktenzeichen").and_then(Value::as_str).unwrap_or_default().to_string();
        changes.push(Change::Create {
            kind: ObjKind::Akte,
            id: akte.id,
            parent: None,
            content: None,
            fields: akte.fields.clone(),
        });
        let mut files = std::collections::BTreeMap::new();
        for obj in &parsed.objects {
            let content = match &obj.file {
                Some(rel) => {
                    let cf = inc
                        .contents
                        .get(&obj.id)
                        .ok_or_else(|| Error::invalid(format!("{}{rel}", inc.path), "has no content in the package"))?;
                    let (stored, digests) = store_verified(&objects, chunk, cf).await?;
                    check_content(cf, &stored, &digests, &obj.fields)?;
                    report.files += 1;
                    report.bytes += stored.size;
                    files.insert(obj.id, rel.clone());
                    Some(stored)
                }
                None => None,
            };
            changes.push(Change::Create {
                kind: obj.kind,
                id: obj.id,
                parent: Some(obj.parent),
                content,
                fields: obj.fields.clone(),
            });
        }
        let mut provenance = inc.provenance.clone();
        provenance.akte = akte.id;
        provenance.history = parsed.history.clone();
        changes.push(provenance.store(&objects, chunk).await?);
        report.vorgaenge += parsed.vorgaenge;
        report.dokumente += parsed.dokumente;
        report.versionen += parsed.versionen;
        report.akten.push(AkteReport {
            id: akte.id,
            aktenzeichen: az,
            path: inc.path.trim_end_matches('/').to_string(),
            ocfl_versions: provenance.ocfl.as_ref().map(|o| o.versions.len()),
            files,
        });
    }
    // Under the lock again: what another node or request committed meanwhile is checked
    // once more, and the Aktenplan nodes the Akten lack are made against the catalog as it
    // is now.
    let mut repo = shared.write().await;
    repo.sync().await?;
    check_conflicts(&repo, &incoming)?;
    let mut all = aktenplan_changes(&repo, &incoming);
    all.append(&mut changes);
    repo.commit(all).await?;
    repo.save_catalog()?;
    Ok(report)
}
