//! The repository: unlock, sync the journal into the catalog, commit changes, store and
//! read content, manage the operators' recipients.

use std::path::PathBuf;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::path::Path;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    Error, Result,
    backend::Backend,
    catalog::{CEntry, Catalog, Fields},
    content::{ContentRef, DEFAULT_CHUNK_SIZE},
    hlc::Hlc,
    journal::{self, Entry, Head, Op, entry_path},
    keys::{self, OperatorIdentity, RepoKey},
    model::{self, ObjKind, Record},
    node::NodeDir,
    object::{Kind, Name, Objects},
};

/// Where the key file lives in the store.
pub const KEY_FILE: &str = "keys/repository";

/// How to reach a repository.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// The node's data directory.
    pub data_dir: PathBuf,
    /// The store URL; default: what the node used before, else `file://<data>/store`.
    pub store: Option<String>,
    /// The operator identity file; default: `<data>/identity.txt`.
    pub identity: Option<PathBuf>,
    /// Who acts (recorded in the journal).
    pub actor: String,
}

/// What `init` did.
#[derive(Clone, Debug)]
pub struct InitInfo {
    /// The new repository's id.
    pub repository: Uuid,
    /// This node's id.
    pub node: String,
    /// The store URL.
    pub store: String,
    /// Where a generated operator identity was written, if one was generated.
    pub identity_file: Option<PathBuf>,
    /// The recipients the repository key is wrapped for.
    pub recipients: Vec<String>,
}

/// How an attempt to commit an entry ended (see [`Repository::commit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Committed {
    Done,
    /// Nothing was committed: a record found already stored had been erased; it is
    /// forgotten now, so another attempt writes it.
    RecordsErased,
}

/// One change to commit.
#[derive(Clone, Debug)]
pub enum Change {
    /// Create an object.
    Create {
        /// Kind.
        kind: ObjKind,
        /// New id (use [`Uuid::now_v7`]).
        id: Uuid,
        /// Containing object.
        parent: Option<Uuid>,
        /// For versions: the stored content.
        content: Option<ContentRef>,
        /// Fields.
        fields: Map<String, Value>,
    },
    /// Change fields of an object (null removes a field).
    Update {
        /// The object.
        id: Uuid,
        /// Fields to set.
        fields: Map<String, Value>,
    },
    /// Record a result derived from a content by one producer (see [`Op::Derive`]).
    Derive {
        /// The content root it was derived from.
        content: Name,
        /// The producer (plugin or OCR engine with its version).
        producer: String,
        /// The stored result (see [`Repository::store_bytes`]).
        result: ContentRef,
    },
    /// Delete an Akte and everything in it (see [`Op::Delete`]); the fields are the
    /// evidence that stays. Use [`Repository::delete`], which also erases the objects.
    Delete {
        /// The Akte.
        id: Uuid,
        /// The evidence (no personal data: Aktenzeichen, basis, dates, counts).
        fields: Map<String, Value>,
    },
    /// Record that someone read an object (the audit trail of reads).
    Read {
        /// The object.
        id: Uuid,
        /// Who read it.
        actor: String,
        /// What was read.
        action: String,
    },
}

/// Heads of other streams that entries record having seen: (entry path, node, head).
type Claims = Vec<(String, String, Head)>;

/// What one `sync` has read so far.
#[derive(Default)]
struct Pulled {
    entries: Vec<CEntry>,
    /// Records found missing: (record name, the object whose op referenced it). Only a
    /// deletion of that object excuses them.
    missing: Vec<(Name, Uuid)>,
    heads: std::collections::BTreeMap<String, Head>,
    macs: std::collections::HashMap<(String, u64), String>,
    claims: Claims,
}

/// An open, unlocked repository bound to one node's data directory.
pub struct Repository {
    node: NodeDir,
    pub(crate) objects: Objects,
    repository: Uuid,
    recipients: Vec<String>,
    operator: OperatorIdentity,
    catalog: Catalog,
    clock: Hlc,
    /// Who the next commits are recorded as (the server sets it per request).
    pub actor: String,
    catalog_dirty: bool,
    /// Chunk size for new content.
    pub chunk_size: usize,
    /// While the catalog is rebuilt: whom to tell of each entry read, how many were read,
    /// and how many this node knows of.
    progress: Option<(RebuildProgress, std::sync::atomic::AtomicU64, u64)>,
    /// Why the heads seen could not be saved to `heads.json` (a full or read-only data
    /// directory), if they could not: see [`Repository::heads_unsaved`].
    heads_unsaved: Option<String>,
}

/// The last failure to save the heads seen in this process, for a command to report when
/// it ends (see [`heads_unsaved_in_process`]).
static HEADS_UNSAVED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Why this process could not save the heads it saw, if it could not (a full or read-only
/// data directory). Not an error of the command; worth a note.
pub fn heads_unsaved_in_process() -> Option<String> {
    HEADS_UNSAVED.lock().expect("heads lock").clone()
}

/// Told, while the catalog is rebuilt from the store, of each journal entry read: the
/// number read so far and the number this node has seen before (more may come from
/// streams written since).
pub type RebuildProgress = std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>;

fn absolute(p: &std::path::Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io(p, e))
}

/// The default store URL for a data directory.
pub fn default_store_url(data_dir: &std::path::Path) -> Result<String> {
    Ok(format!("file://{}", absolute(&data_dir.join("store"))?.display()))
}

/// The store URL a node remembers: none for the default under its own data directory, so
/// that a copied or moved data directory uses the store inside it.
fn remembered_store(data_dir: &std::path::Path, url: &str) -> Result<Option<String>> {
    Ok((url != default_store_url(data_dir)?).then(|| url.to_string()))
}

fn read_identity(path: &std::path::Path) -> Result<OperatorIdentity> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Invalid(format!(
            "No operator identity at {}: pass --identity FILE (or set AKTE_IDENTITY)",
            path.display()
        )),
        _ => Error::io(path, e),
    })?;
    OperatorIdentity::parse(&text)
}

impl Repository {
    /// Creates a new repository in an empty store. Without `recipients`, generates an
    /// operator identity into the data directory and wraps the key for it.
    pub async fn init(opts: &OpenOptions, recipients: &[String]) -> Result<InitInfo> {
        let url = match &opts.store {
            Some(u) => u.clone(),
            None => default_store_url(&opts.data_dir)?,
        };
        Self::init_on(opts, recipients, Backend::create(&url)?).await
    }

    /// `init` on an already opened store.
    pub async fn init_on(opts: &OpenOptions, recipients: &[String], backend: Backend) -> Result<InitInfo> {
        let mut node = NodeDir::open(&opts.data_dir)?;
        if node.meta.repository.is_some() {
            return Err(Error::Conflict(format!(
                "The data directory {} already belongs to a repository",
                opts.data_dir.display()
            )));
        }
        let url = backend.url().to_string();
        if backend.exists(&Path::from(KEY_FILE)).await? {
            return Err(Error::Conflict(format!(
                "The store {url} already holds a repository: join it with --identity instead of running init"
            )));
        }
        // A store with objects but no key file is a repository whose key file is lost (an
        // incomplete restore) or somebody else's data: a new key would make neither readable.
        if let Some(found) = backend.first_object().await? {
            return Err(Error::Conflict(format!(
                "The store {url} is not empty (it holds {found}); akte init starts a repository only on an empty store. \
                 If this is a repository whose keys/repository file is lost, restore that file from a backup"
            )));
        }
        for r in recipients {
            keys::parse_recipient(r)?;
        }
        let (recipients, identity_file) = if recipients.is_empty() {
            let path = opts.identity.clone().unwrap_or_else(|| node.identity_path());
            // An empty file is what an init interrupted by an older build could leave; it
            // protects nothing and is replaced.
            if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
                (read_identity(&path)?.recipients(), None)
            } else {
                let (op, text) = OperatorIdentity::generate();
                write_secret(&path, &text)?;
                (op.recipients(), Some(path))
            }
        } else {
            (recipients.to_vec(), None)
        };
        let key = RepoKey::generate();
        let repository = Uuid::new_v4();
        // Written only if no other init got there first (two nodes provisioned at once):
        // overwriting would lock out the other's identity.
        if !backend.put_new(&Path::from(KEY_FILE), keys::seal_key_file(repository, &key, &recipients)?).await? {
            return Err(Error::Conflict(format!(
                "The store {url} already holds a repository: join it with --identity instead of running init"
            )));
        }
        backend.barrier().await?;
        node.meta.repository = Some(repository);
        node.meta.key_fingerprint = Some(key.fingerprint());
        node.meta.store = remembered_store(&opts.data_dir, &url)?;
        node.save_meta()?;
        Ok(InitInfo { repository, node: node.meta.node.clone(), store: url, identity_file, recipients })
    }

    /// Saves the heads seen to `heads.json`. A failure (a full or read-only data
    /// directory) is not the command's: the entries are read, or the commit is in the
    /// store. It is kept for [`Repository::heads_unsaved`]; until a later save succeeds, a
    /// rollback to before these heads is detected only through other streams' entries.
    fn save_heads(&mut self) {
        self.heads_unsaved = self.node.save_heads().err().map(|e| e.to_string());
        if let Some(why) = &self.heads_unsaved {
            *HEADS_UNSAVED.lock().expect("heads lock") = Some(why.clone());
        }
    }

    /// Why the heads seen could not be saved, when the last save failed.
    pub fn heads_unsaved(&self) -> Option<&str> {
        self.heads_unsaved.as_deref()
    }

    /// Opens a repository: unlocks the key file, checks it is the repository this node
    /// knows, loads the catalog cache and reads new journal entries.
    pub async fn open(opts: &OpenOptions) -> Result<Repository> {
        let mut repo = Self::open_unsynced(opts).await?;
        repo.sync().await?;
        // A node follows the store it was last opened on (the same repository, its journal
        // read without a rollback): after `akte migrate`, one command with --store NEW
        // moves the node, and a later one without --store does not go back to the old.
        let url = repo.objects.backend.url().to_string();
        let store = remembered_store(&opts.data_dir, &url)?;
        if repo.node.meta.store != store {
            repo.node.meta.store = store;
            repo.node.save_meta()?;
        }
        Ok(repo)
    }

    /// Opens without reading the journal (for `verify`, which must work on a broken one).
    pub async fn open_unsynced(opts: &OpenOptions) -> Result<Repository> {
        Self::open_on(opts, None, true).await
    }

    /// Opens with the catalog rebuilt from the store alone ([`Repository::rebuild_catalog`]),
    /// telling `progress` of each entry read; returns it and the number of journal entries
    /// read. The catalog cache, which the rebuild replaces, is not read first: at a million
    /// Dokumente that saves reading and folding 1.16 GB, about 40 s.
    pub async fn open_rebuilt(opts: &OpenOptions, progress: Option<RebuildProgress>) -> Result<(Repository, usize)> {
        let mut repo = Self::open_on(opts, None, false).await?;
        let seen = repo.node.heads.streams.values().map(|h| h.seq).sum();
        repo.progress = progress.map(|p| (p, std::sync::atomic::AtomicU64::new(0), seen));
        let entries = repo.rebuild_catalog().await;
        repo.progress = None;
        Ok((repo, entries?))
    }

    /// Opens on an already opened store (tests share one in-memory store between nodes).
    pub async fn open_with_backend(opts: &OpenOptions, backend: Backend) -> Result<Repository> {
        let mut repo = Self::open_on(opts, Some(backend), true).await?;
        repo.sync().await?;
        Ok(repo)
    }

    async fn open_on(opts: &OpenOptions, backend: Option<Backend>, cache: bool) -> Result<Repository> {
        // A data directory is made by `init`, or for a new node joining a store it names;
        // a mistyped `--data` alone makes nothing (it would leave a node id and a lock).
        if backend.is_none() && opts.store.is_none() && !opts.data_dir.exists() {
            return Err(Error::Invalid(format!(
                "The data directory {} does not exist: `akte init` makes a repository, and --store with --identity joins one as a new node",
                opts.data_dir.display()
            )));
        }
        let mut node = NodeDir::open(&opts.data_dir)?;
        let backend = match backend {
            Some(b) => b,
            None => Backend::open(&match (&opts.store, &node.meta.store) {
                (Some(u), _) => u.clone(),
                (None, Some(u)) => u.clone(),
                (None, None) => default_store_url(&opts.data_dir)?,
            })?,
        };
        let url = backend.url().to_string();
        let identity_path = opts.identity.clone().unwrap_or_else(|| node.identity_path());
        let operator = read_identity(&identity_path)?;
        let sealed = backend
            .get(&Path::from(KEY_FILE))
            .await?
            .ok_or_else(|| Error::NotFound(format!("There is no repository in {url}; run `akte init` first")))?;
        let unlocked = keys::open_key_file(&sealed, &operator)?;
        if let Some(known) = node.meta.repository
            && known != unlocked.repository
        {
            return Err(Error::Conflict(format!(
                "The data directory {} belongs to repository {known}, but {url} holds repository {}",
                opts.data_dir.display(),
                unlocked.repository
            )));
        }
        if let Some(fp) = &node.meta.key_fingerprint
            && *fp != unlocked.key.fingerprint()
        {
            return Err(Error::integrity(
                KEY_FILE,
                "the repository key differs from the one this node knows (key file replaced)",
            ));
        }
        if node.meta.repository.is_none() {
            node.meta.repository = Some(unlocked.repository);
            node.meta.key_fingerprint = Some(unlocked.key.fingerprint());
            node.meta.store = remembered_store(&opts.data_dir, &url)?;
            node.save_meta()?;
        }
        let catalog = cache
            .then(|| node.load_catalog(unlocked.repository))
            .flatten()
            .unwrap_or_else(|| Catalog::new(unlocked.repository));
        let clock = node.heads.hlc.max(catalog.max_hlc());
        let objects = Objects::new(backend, unlocked.key);
        for e in &catalog.entries {
            objects.note_packs(&e.packs);
        }
        Ok(Repository {
            node,
            objects,
            repository: unlocked.repository,
            recipients: unlocked.recipients,
            operator,
            catalog,
            clock,
            actor: if opts.actor.is_empty() { "operator".into() } else { opts.actor.clone() },
            chunk_size: DEFAULT_CHUNK_SIZE,
            catalog_dirty: false,
            heads_unsaved: None,
            progress: None,
        })
    }

    /// The merged state.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.node.meta.node
    }

    /// The repository id.
    pub fn repository_id(&self) -> Uuid {
        self.repository
    }

    /// The object layer (content put/get).
    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    /// The store.
    pub fn backend(&self) -> &Backend {
        &self.objects.backend
    }

    /// The key (for verification).
    pub fn key(&self) -> &RepoKey {
        &self.objects.key
    }

    /// The node's data directory.
    pub fn node_dir(&self) -> &NodeDir {
        &self.node
    }

    /// Reads one stream from `from` on, until the first missing entry. Returns the entries
    /// and, per entry, the heads of other streams it records having seen.
    async fn read_stream(
        &self,
        node: &str,
        from: u64,
        mut prev: Option<String>,
        missing: &mut Vec<(Name, Uuid)>,
    ) -> Result<Vec<(CEntry, Claims)>> {
        let mut out = Vec::new();
        let mut seq = from;
        loop {
            let path = entry_path(node, seq);
            let Some(bytes) = self.objects.backend.get(&path).await? else {
                break;
            };
            let (entry, mac) = journal::open(&self.objects.key, node, seq, &bytes)?;
            if entry.repository != self.repository {
                return Err(Error::integrity(path.to_string(), "entry belongs to another repository"));
            }
            if entry.prev != prev {
                return Err(Error::integrity(path.to_string(), "entry does not chain to its predecessor"));
            }
            // Records may live in the packs this very entry commits.
            self.objects.note_packs(&entry.packs);
            let ops = futures::stream::iter(entry.ops.into_iter().map(|op| async move {
                let Some(name) = op.record().cloned() else {
                    return Ok((op, Map::new(), None));
                };
                let label = crate::object::object_path(&name).to_string();
                let Some(bytes) = self.objects.get_opt(&name, Kind::Record).await? else {
                    // Erased by a deletion, which `sync` checks once every stream is read.
                    return match &op {
                        Op::Create { id, .. } | Op::Update { id, .. } => {
                            let id = *id;
                            Ok((op, Map::new(), Some((name, id))))
                        }
                        _ => Err(Error::integrity(label, "record is missing")),
                    };
                };
                let record = Record::parse(&bytes).map_err(|e| Error::integrity(&label, e))?;
                Ok::<_, Error>((op, record.fields, None))
            }))
            .buffered(16)
            .try_collect::<Vec<_>>()
            .await?;
            let ops = ops
                .into_iter()
                .map(|(op, fields, gone)| {
                    missing.extend(gone);
                    (op, Fields::new(&fields))
                })
                .collect();
            let claims = entry.seen.into_iter().map(|(n, h)| (path.to_string(), n, h)).collect();
            out.push((
                CEntry {
                    hlc: entry.hlc,
                    node: entry.node,
                    seq,
                    mac: mac.clone(),
                    actor: entry.actor,
                    ops,
                    packs: entry.packs,
                },
                claims,
            ));
            prev = Some(mac);
            seq += 1;
            if let Some((report, read, seen)) = &self.progress {
                let read = read.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                report(read, (*seen).max(read));
            }
        }
        Ok(out)
    }

    /// Reads the new entries of one stream into `pulled`.
    async fn pull(&self, node: &str, pulled: &mut Pulled) -> Result<()> {
        let head = pulled.heads.get(node).cloned().unwrap_or_default();
        // The newest entry this node knows must still be there: a store that dropped the
        // tail of a stream (rollback, truncation) is caught on every open.
        if head.seq > 0 && !self.objects.backend.exists(&entry_path(node, head.seq)).await? {
            return Err(Error::integrity(
                entry_path(node, head.seq).to_string(),
                "is missing, but this node has read it before (journal rolled back or truncated)",
            ));
        }
        let prev = (head.seq > 0).then(|| head.mac.clone());
        for (entry, claims) in self.read_stream(node, head.seq + 1, prev, &mut pulled.missing).await? {
            pulled.heads.insert(node.to_string(), Head { seq: entry.seq, mac: entry.mac.clone() });
            pulled.macs.insert((node.to_string(), entry.seq), entry.mac.clone());
            pulled.claims.extend(claims);
            pulled.entries.push(entry);
        }
        Ok(())
    }

    /// Reads once more the records found missing while reading streams entry by entry: a
    /// member that a deletion moved to a new pack is known to be there only once the
    /// entry committing that pack, later in its stream, has been read.
    async fn refetch_missing(&self, pulled: &mut Pulled) -> Result<()> {
        if pulled.missing.is_empty() {
            return Ok(());
        }
        let wanted: std::collections::HashSet<Name> = pulled.missing.iter().map(|(n, _)| *n).collect();
        let mut found = std::collections::HashMap::new();
        for name in wanted {
            if let Some(bytes) = self.objects.get_opt(&name, Kind::Record).await? {
                let record = Record::parse(&bytes)
                    .map_err(|e| Error::integrity(crate::object::object_path(&name).to_string(), e))?;
                found.insert(name, Fields::new(&record.fields));
            }
        }
        for e in &mut pulled.entries {
            for (op, fields) in &mut e.ops {
                if let Some(f) = op.record().and_then(|r| found.get(r)) {
                    *fields = f.clone();
                }
            }
        }
        pulled.missing.retain(|(n, _)| !found.contains_key(n));
        Ok(())
    }

    /// Whether a stream, as read, holds the entry another entry says its writer had seen.
    fn claim_holds(&self, pulled: &Pulled, node: &str, head: &Head) -> bool {
        if head.seq == 0 {
            return true;
        }
        let mac = pulled.macs.get(&(node.to_string(), head.seq)).map(String::as_str).or_else(|| {
            (pulled.heads.get(node).is_some_and(|h| h.seq >= head.seq))
                .then(|| self.catalog.mac_of(node, head.seq))
                .flatten()
        });
        mac == Some(head.mac.as_str())
    }

    /// Reads new entries of every stream into the catalog. Fails when a stream is shorter
    /// than this node, or the writer of any entry, has seen, or an entry was rewritten
    /// (rollback, truncation).
    pub async fn sync(&mut self) -> Result<usize> {
        let dirs = self.objects.backend.list_dirs(&Path::from("journal")).await?;
        let mut nodes: Vec<String> = dirs.iter().filter_map(|p| p.filename().map(str::to_string)).collect();
        for n in self.node.heads.streams.keys() {
            if !nodes.contains(n) {
                nodes.push(n.clone());
            }
        }
        let mut pulled = Pulled { heads: self.catalog.streams.clone(), ..Default::default() };
        for node in &nodes {
            self.pull(node, &mut pulled).await?;
        }
        // A claim may name an entry written after its stream was read here: read those
        // streams once more before calling it a rollback.
        let late: std::collections::BTreeSet<String> = pulled
            .claims
            .iter()
            .filter(|(_, n, h)| !self.claim_holds(&pulled, n, h))
            .map(|(_, n, _)| n.clone())
            .collect();
        for node in &late {
            self.pull(node, &mut pulled).await?;
        }
        if let Some((by, node, head)) = pulled.claims.iter().find(|(_, n, h)| !self.claim_holds(&pulled, n, h)) {
            return Err(Error::integrity(
                entry_path(node, head.seq).to_string(),
                format!("is missing or differs, but {by} records that its node had seen it (journal rolled back)"),
            ));
        }
        let mut count = pulled.entries.len();
        if let Some(max) = pulled.entries.iter().map(|e| e.hlc).max() {
            self.clock = self.clock.observe(max);
        }
        self.refetch_missing(&mut pulled).await?;
        let mut missing = std::mem::take(&mut pulled.missing);
        self.catalog.add(pulled.entries);
        // A record may be missing because a deletion, written before it was erased, sits
        // in a stream read before that entry was written: read every stream once more.
        if missing.iter().any(|(_, id)| !self.catalog.state.erased.contains_key(id)) {
            let mut again = Pulled { heads: self.catalog.streams.clone(), ..Default::default() };
            for node in &nodes {
                self.pull(node, &mut again).await?;
            }
            self.refetch_missing(&mut again).await?;
            count += again.entries.len();
            missing.append(&mut again.missing);
            self.catalog.add(again.entries);
        }
        if let Some((name, id)) = missing.iter().find(|(_, id)| !self.catalog.state.erased.contains_key(id)) {
            return Err(Error::integrity(
                crate::object::object_path(name).to_string(),
                format!("is missing, but no deletion of object {id} erased it"),
            ));
        }
        self.check_heads()?;
        if count > 0 {
            for (node, head) in &self.catalog.streams {
                self.node.heads.streams.insert(node.clone(), head.clone());
            }
            self.node.heads.hlc = self.clock;
            self.save_heads();
            self.catalog_dirty = true;
        }
        Ok(count)
    }

    fn check_heads(&self) -> Result<()> {
        for (node, seen) in &self.node.heads.streams {
            let have = self.catalog.streams.get(node).cloned().unwrap_or_default();
            if have.seq < seen.seq {
                return Err(Error::integrity(
                    entry_path(node, have.seq + 1).to_string(),
                    format!(
                        "is missing, but this node has seen the stream up to entry {} (rolled back or truncated)",
                        seen.seq
                    ),
                ));
            }
            if let Some(mac) = self.catalog.mac_of(node, seen.seq)
                && mac != seen.mac
            {
                return Err(Error::integrity(
                    entry_path(node, seen.seq).to_string(),
                    "differs from the entry this node has seen (rewritten)",
                ));
            }
        }
        Ok(())
    }

    /// Validates and commits changes as one journal entry. Records are written and made
    /// durable first; the entry is the commit point.
    pub async fn commit(&mut self, changes: Vec<Change>) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        // Records are named by their content, so a change of one object may find its record
        // already stored for another (`{"legal_hold": true}`), and a deletion may since have
        // erased it with the Akte that alone used it. The records are then forgotten and
        // written afresh by a second attempt. (A content found stored and erased meanwhile
        // is an error: its bytes are gone, the caller must send them anew.)
        if self.commit_entry(&changes).await? == Committed::RecordsErased
            && self.commit_entry(&changes).await? == Committed::RecordsErased
        {
            return Err(Error::Conflict(
                "A record of this change was erased by a deletion while it was stored, twice; try again".into(),
            ));
        }
        Ok(())
    }

    /// Commits whatever members are staged for packs in an entry without ops (a deletion
    /// repacks the live members of packs it deletes this way).
    pub(crate) async fn commit_staged_packs(&mut self) -> Result<()> {
        self.commit_entry(&[]).await.map(|_| ())
    }

    async fn commit_entry(&mut self, changes: &[Change]) -> Result<Committed> {
        for c in changes {
            match c {
                Change::Create { kind, fields, .. } => model::validate(*kind, fields, true)?,
                Change::Derive { producer, .. } => {
                    if producer.is_empty() || producer.len() > 200 || producer.chars().any(char::is_control) {
                        return Err(Error::Invalid(format!("The producer name {producer:?} is not usable")));
                    }
                }
                Change::Read { actor, action, .. } => {
                    for t in [actor, action] {
                        if t.is_empty() || t.len() > 200 || t.chars().any(char::is_control) {
                            return Err(Error::Invalid(format!("The read record {t:?} is not usable")));
                        }
                    }
                }
                Change::Delete { id, fields } => {
                    if self.catalog.get(id).is_none_or(|o| o.kind != ObjKind::Akte) {
                        return Err(Error::NotFound(format!("There is no Akte {id} to delete")));
                    }
                    if serde_json::to_vec(fields).map_or(0, |v| v.len()) > 64 << 10 {
                        return Err(Error::Invalid("The evidence of a deletion is too large".into()));
                    }
                }
                Change::Update { id, fields } => {
                    let kind = self
                        .catalog
                        .get(id)
                        .map(|o| o.kind)
                        .ok_or_else(|| Error::NotFound(format!("There is no object {id}")))?;
                    model::validate(kind, fields, false)?;
                }
            }
        }
        // The objects of the contents this entry commits stop being pinned once it is
        // durable (they are referenced by the journal from then on).
        let released: Vec<Name> = changes
            .iter()
            .flat_map(|c| match c {
                Change::Create { content: Some(c), .. } | Change::Derive { result: c, .. } => c.objects.clone(),
                _ => Vec::new(),
            })
            .collect();
        let objects = self.objects.clone();
        // (Each change is cloned: a future that borrows from `changes` is not `Send` enough
        // for rustc in a spawned task.)
        let ops = futures::stream::iter(changes.iter().cloned().map(|c| {
            let objects = objects.clone();
            async move {
                let fields = match &c {
                    Change::Create { fields, .. } | Change::Update { fields, .. } | Change::Delete { fields, .. } => {
                        fields.clone()
                    }
                    Change::Derive { content, producer, result } => {
                        let op = Op::Derive { content: *content, producer: producer.clone(), result: result.root };
                        return Ok::<_, Error>((op, Map::new()));
                    }
                    Change::Read { id, actor, action } => {
                        let op = Op::Read { id: *id, actor: actor.clone(), action: action.clone() };
                        return Ok::<_, Error>((op, Map::new()));
                    }
                };
                let record = serde_json::to_vec(&Record { v: model::RECORD_VERSION, fields: fields.clone() })
                    .expect("record serializes");
                let name = objects.put_packed(Kind::Record, record).await?;
                let op = match c {
                    Change::Create { kind, id, parent, content, .. } => {
                        Op::Create { kind, id, parent, record: name, content: content.map(|c| c.root) }
                    }
                    Change::Update { id, .. } => Op::Update { id, record: name },
                    Change::Delete { id, .. } => Op::Delete { id, record: name },
                    Change::Derive { .. } | Change::Read { .. } => unreachable!("these changes return above"),
                };
                Ok::<_, Error>((op, fields))
            }
        }))
        .buffered(16)
        .try_collect::<Vec<_>>()
        .await?;
        // The records, and whatever small contents were stored since the last commit, go
        // out as packs now; the entry lists them.
        let packs = self.objects.take_packs().await?;
        self.objects.backend.barrier().await?;
        // What was found already stored rather than written must still be there: another
        // node's erasure may have removed it while this change was being stored.
        // (Contents first: that error goes to the caller; records the caller cannot store
        // again, so for them `commit` tries once more.)
        self.objects.check_found(&released).await?;
        let records: Vec<Name> = ops.iter().filter_map(|(op, _)| op.record()).cloned().collect();
        match self.objects.check_found(&records).await {
            Err(Error::Conflict(_)) => return Ok(Committed::RecordsErased),
            r => r?,
        }
        let referenced: Vec<Name> = released.iter().chain(&records).cloned().collect();

        let me = self.node.meta.node.clone();
        let head = self.catalog.streams.get(&me).cloned().unwrap_or_default();
        self.clock = self.clock.tick(Hlc::now_ms());
        let seen =
            self.catalog.streams.iter().filter(|(n, _)| **n != me).map(|(n, h)| (n.clone(), h.clone())).collect();
        let mut entry = Entry {
            v: 1,
            repository: self.repository,
            node: me.clone(),
            seq: head.seq + 1,
            prev: (head.seq > 0).then(|| head.mac.clone()),
            hlc: self.clock,
            actor: self.actor.clone(),
            seen,
            ops: ops.iter().map(|(op, _)| op.clone()).collect(),
            packs,
        };
        entry.v = entry.min_version();
        let (sealed, mac) = journal::seal(&self.objects.key, &entry)?;
        let path = entry_path(&me, entry.seq);
        if self.objects.backend.exists(&path).await? {
            return Err(Error::integrity(
                path.to_string(),
                "already exists: another process writes this node's stream",
            ));
        }
        self.objects.backend.put(&path, sealed).await?;
        self.objects.backend.barrier().await?;
        self.objects.note_packs(&entry.packs);
        self.objects.unpin(referenced.iter().chain(entry.packs.iter().map(|p| &p.pack)));
        self.objects.forget_found(&referenced);
        self.catalog.add(vec![CEntry {
            hlc: entry.hlc,
            node: me.clone(),
            seq: entry.seq,
            mac: mac.clone(),
            actor: entry.actor,
            ops: ops.into_iter().map(|(op, fields)| (op, Fields::from(fields))).collect(),
            packs: entry.packs,
        }]);
        self.node.heads.streams.insert(me, Head { seq: entry.seq, mac });
        self.node.heads.hlc = self.clock;
        self.save_heads();
        self.catalog_dirty = true;
        Ok(Committed::Done)
    }

    /// Writes the catalog cache if it changed. Called on drop too; the cache is derived,
    /// so a process that dies first only makes the next open read more of the journal.
    pub fn save_catalog(&mut self) -> Result<()> {
        if self.catalog_dirty {
            self.node.save_catalog(&mut self.catalog)?;
            self.catalog_dirty = false;
        }
        Ok(())
    }

    /// Stores bytes already in memory as content (derived results, plugin components).
    pub async fn store_bytes(&self, bytes: Vec<u8>) -> Result<ContentRef> {
        let chunk_size = self.chunk_size;
        let chunks =
            futures::stream::iter(bytes.chunks(chunk_size).map(|c| Ok(Bytes::copy_from_slice(c))).collect::<Vec<_>>());
        self.objects.put_chunks(chunks, chunk_size, |_| {}).await
    }

    /// Reads a content into memory, refusing one larger than `limit` bytes.
    pub async fn read_bytes(&self, root: &Name, limit: usize) -> Result<Vec<u8>> {
        self.objects.read_bytes(root, limit).await
    }

    /// Streams the content of a version, or of a Dokument's latest version.
    pub async fn content(&self, id: &Uuid) -> Result<(crate::catalog::Obj, BoxStream<'static, Result<Bytes>>)> {
        let obj = self.catalog.get(id).ok_or_else(|| Error::NotFound(format!("There is no Dokument {id}")))?;
        let version = match obj.kind {
            ObjKind::Version => obj,
            ObjKind::Dokument => self
                .catalog
                .latest_version(id)
                .ok_or_else(|| Error::NotFound(format!("Dokument {id} has no version")))?,
            _ => return Err(Error::NotFound(format!("There is no Dokument {id}"))),
        };
        let root = version.content.ok_or_else(|| Error::integrity(id.to_string(), "version has no content"))?;
        Ok((version.clone(), self.objects.read_root(&root).await?))
    }

    /// The recipients the repository key is wrapped for.
    pub fn recipients(&self) -> &[String] {
        &self.recipients
    }

    async fn rewrap(&mut self, recipients: Vec<String>) -> Result<()> {
        let sealed = keys::seal_key_file(self.repository, &self.objects.key, &recipients)?;
        self.objects.backend.put(&Path::from(KEY_FILE), sealed).await?;
        self.objects.backend.barrier().await?;
        self.recipients = recipients;
        Ok(())
    }

    /// Wraps the repository key for one more recipient. Touches only the key file.
    pub async fn add_recipient(&mut self, recipient: &str) -> Result<bool> {
        let r = keys::parse_recipient(recipient)?.to_string();
        if self.recipients.contains(&r) {
            return Ok(false);
        }
        let mut all = self.recipients.clone();
        all.push(r);
        self.rewrap(all).await?;
        Ok(true)
    }

    /// Removes a recipient. Refuses to remove the last one, or the last one this
    /// operator's identity can use (that would lock the operator out).
    pub async fn remove_recipient(&mut self, recipient: &str) -> Result<()> {
        let r = keys::parse_recipient(recipient)?.to_string();
        if !self.recipients.contains(&r) {
            return Err(Error::NotFound(format!("The key is not wrapped for {r}")));
        }
        let rest: Vec<String> = self.recipients.iter().filter(|x| **x != r).cloned().collect();
        if rest.is_empty() {
            return Err(Error::Conflict("The last recipient cannot be removed".into()));
        }
        let mine = self.operator.recipients();
        if !rest.iter().any(|x| mine.contains(x)) {
            return Err(Error::Conflict(
                "Removing this recipient would lock out the identity in use; add another recipient you hold first"
                    .into(),
            ));
        }
        self.rewrap(rest).await
    }

    /// Drops the catalog cache and rebuilds it from the store alone.
    pub async fn rebuild_catalog(&mut self) -> Result<usize> {
        self.node.drop_catalog()?;
        self.catalog = Catalog::new(self.repository);
        self.sync().await?;
        self.catalog_dirty = true;
        self.save_catalog()?;
        Ok(self.catalog.entries.len())
    }
}

impl Drop for Repository {
    fn drop(&mut self) {
        let _ = self.save_catalog();
    }
}

/// Writes a secret file (mode 0600) atomically; refuses to overwrite a non-empty one.
pub fn write_secret(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return Err(Error::Conflict(format!("The file {} exists already; it is not overwritten", path.display())));
    }
    // Written under a temporary name and renamed, so a crash never leaves an empty or
    // half-written identity behind.
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::File::options();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(text.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
