//! The node's data directory: its identity (node id, operator key file), the heads of
//! every journal stream it has seen, and derived state (the catalog cache). Only this
//! process may use it at a time (an exclusive file lock).

use std::{
    collections::BTreeMap,
    fs::File,
    io::Write,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    Error, Result,
    catalog::{CATALOG_FORMAT, CEntry, Catalog, Persisted},
    hlc::Hlc,
    journal::{Head, NodeId},
};

/// `node.json`: who this node is and which repository it belongs to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeMeta {
    /// File version.
    pub format: u32,
    /// This node's id (its journal stream).
    pub node: NodeId,
    /// The repository this node belongs to (set at init or first contact).
    pub repository: Option<uuid::Uuid>,
    /// Fingerprint of the repository key seen at first contact.
    pub key_fingerprint: Option<String>,
    /// The store URL used at first contact (the default for later commands).
    pub store: Option<String>,
}

/// `heads.json`: the heads of every stream this node has seen, and its clock.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SeenHeads {
    /// File version.
    pub format: u32,
    /// Highest entry seen per stream, with its MAC.
    pub streams: BTreeMap<NodeId, Head>,
    /// The node's last HLC.
    pub hlc: Hlc,
}

/// The opened, locked data directory.
#[derive(Debug)]
pub struct NodeDir {
    dir: PathBuf,
    _lock: File,
    /// `node.json`.
    pub meta: NodeMeta,
    /// `heads.json`.
    pub heads: SeenHeads,
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Format(format!("The file {} is not readable: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Writes a file atomically and durably: temp file, fsync, rename, fsync the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes)).map(|_| ())
}

/// [`write_atomic`] with the contents written by `write`; returns the file's length.
fn write_atomic_with(path: &Path, write: impl FnOnce(&mut File) -> std::io::Result<()>) -> Result<u64> {
    use std::io::Seek;
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let len = write(&mut f).and_then(|()| f.stream_position()).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
    }
    Ok(len)
}

/// How long opening a data directory waits for a lock held by someone else.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_millis(250);

impl NodeDir {
    /// Opens (creating if needed) and locks a data directory.
    pub fn open(dir: &Path) -> Result<NodeDir> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
        let lock_path = dir.join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        // A lock can outlive its holder for a moment: a child process forked by another
        // thread shares the descriptor until it execs, and a process that just exited may
        // not have been reaped yet. Only a lock held for longer means another user.
        let deadline = std::time::Instant::now() + LOCK_PATIENCE;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => return Err(Error::Busy(dir.to_path_buf())),
                Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&lock_path, e)),
            }
        }
        let meta_path = dir.join("node.json");
        let meta = match read_json::<NodeMeta>(&meta_path)? {
            Some(m) if m.format == 1 => m,
            Some(m) => {
                return Err(Error::Format(format!(
                    "{} has format {}, this build reads 1",
                    meta_path.display(),
                    m.format
                )));
            }
            None => {
                let meta = NodeMeta {
                    format: 1,
                    node: hex::encode(rand::random::<[u8; 16]>()),
                    repository: None,
                    key_fingerprint: None,
                    store: None,
                };
                write_atomic(&meta_path, &serde_json::to_vec_pretty(&meta).expect("meta serializes"))?;
                meta
            }
        };
        let heads =
            read_json::<SeenHeads>(&dir.join("heads.json"))?.unwrap_or(SeenHeads { format: 1, ..Default::default() });
        Ok(NodeDir { dir: dir.to_path_buf(), _lock: lock, meta, heads })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The default operator identity file.
    pub fn identity_path(&self) -> PathBuf {
        self.dir.join("identity.txt")
    }

    /// Saves `node.json`.
    pub fn save_meta(&self) -> Result<()> {
        write_atomic(&self.dir.join("node.json"), &serde_json::to_vec_pretty(&self.meta).expect("meta serializes"))
    }

    /// Saves `heads.json`.
    pub fn save_heads(&self) -> Result<()> {
        write_atomic(&self.dir.join("heads.json"), &serde_json::to_vec_pretty(&self.heads).expect("heads serialize"))
    }

    /// Loads the catalog cache if it is present, readable and of this repository: format 3
    /// (`catalog.json` head and `catalog.log`), or format 2 (one `catalog.json`), which the
    /// next save writes as format 3.
    pub fn load_catalog(&self, repository: uuid::Uuid) -> Option<Catalog> {
        /// Just the version of whatever `catalog.json` holds.
        #[derive(Deserialize)]
        struct Format {
            format: u32,
        }
        let bytes = std::fs::read(self.dir.join(CATALOG_HEAD)).ok()?;
        let mut cat = match serde_json::from_slice::<Format>(&bytes).ok()?.format {
            2 => {
                let mut cat: Catalog = serde_json::from_slice(&bytes).ok()?;
                cat.format = CATALOG_FORMAT;
                cat
            }
            CATALOG_FORMAT => self.load_catalog_log(serde_json::from_slice(&bytes).ok()?)?,
            _ => return None,
        };
        if cat.repository != repository {
            return None;
        }
        cat.entries.sort_by(|a, b| a.key().cmp(&b.key()));
        cat.refold();
        Some(cat)
    }

    /// Reads the entries a format 3 head names: the first `log_len` bytes of the log, one
    /// entry per line (whatever follows is an append that its head never confirmed). The log
    /// is read line by line: at a million Dokumente it is over a gigabyte, which read whole
    /// would sit in memory beside the entries parsed from it.
    fn load_catalog_log(&self, head: CatalogHead) -> Option<Catalog> {
        use std::io::{BufRead, Read};
        let file = File::open(self.dir.join(CATALOG_LOG)).ok()?;
        if file.metadata().ok()?.len() < head.log_len {
            return None;
        }
        let mut log = std::io::BufReader::with_capacity(1 << 20, file).take(head.log_len);
        // No reservation by the head's count: a damaged head must not reserve gigabytes.
        let mut entries: Vec<CEntry> = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            if log.read_until(b'\n', &mut line).ok()? == 0 {
                break;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            if !text.is_empty() {
                entries.push(serde_json::from_slice(text).ok()?);
            }
        }
        if entries.len() as u64 != head.entries {
            return None;
        }
        let persisted = Some(Persisted { seq: seqs(&head.streams), log_len: head.log_len });
        Some(Catalog {
            format: CATALOG_FORMAT,
            repository: head.repository,
            streams: head.streams,
            entries,
            persisted,
            ..Default::default()
        })
    }

    /// Saves the catalog cache: appends the entries the log does not hold yet and then
    /// replaces the head, or, when the catalog must be written whole (new, migrated, or
    /// entries were scrubbed by a deletion), writes a new log first. Either way the head is
    /// written last, so a crash leaves the previous cache or the new one.
    pub fn save_catalog(&self, catalog: &mut Catalog) -> Result<()> {
        let whole = catalog.persisted.is_none();
        let saved = catalog.persisted.take().unwrap_or_default();
        let new = |e: &CEntry| whole || saved.seq.get(&e.node).is_none_or(|seq| e.seq > *seq);
        if !whole && !catalog.entries.iter().any(new) {
            catalog.persisted = Some(saved);
            return Ok(());
        }
        // The lines go straight to the file: a whole log is over a gigabyte at a million
        // Dokumente.
        let write = |f: &mut File| -> std::io::Result<()> {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
            for e in catalog.entries.iter().filter(|e| new(e)) {
                serde_json::to_writer(&mut out, e)?;
                out.write_all(b"\n")?;
            }
            out.flush()
        };
        let log_len = if whole {
            write_atomic_with(&self.dir.join(CATALOG_LOG), write)?
        } else {
            append_at(&self.dir.join(CATALOG_LOG), saved.log_len, write)?
        };
        let head = CatalogHead {
            format: CATALOG_FORMAT,
            repository: catalog.repository,
            streams: catalog.streams.clone(),
            entries: catalog.entries.len() as u64,
            log_len,
        };
        write_atomic(&self.dir.join(CATALOG_HEAD), &serde_json::to_vec(&head).expect("head serializes"))?;
        catalog.persisted = Some(Persisted { seq: seqs(&catalog.streams), log_len });
        Ok(())
    }

    /// Deletes the catalog cache (it is rebuilt from the store).
    pub fn drop_catalog(&self) -> Result<()> {
        for name in [CATALOG_HEAD, CATALOG_LOG] {
            match std::fs::remove_file(self.dir.join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(self.dir.join(name), e)),
                _ => {}
            }
        }
        Ok(())
    }
}

/// The catalog cache's head: what `catalog.log` holds.
const CATALOG_HEAD: &str = "catalog.json";
/// The catalog cache's entries, one JSON line each, in the order they were saved.
const CATALOG_LOG: &str = "catalog.log";

/// `catalog.json` (format 3).
#[derive(Debug, Serialize, Deserialize)]
struct CatalogHead {
    format: u32,
    repository: uuid::Uuid,
    /// Head of every stream as far as the catalog has read.
    streams: BTreeMap<NodeId, Head>,
    /// How many entries the log holds.
    entries: u64,
    /// How many bytes of the log are confirmed.
    log_len: u64,
}

/// The highest entry number of every stream (a catalog's `streams` are the heads of what
/// its entries hold).
fn seqs(streams: &BTreeMap<NodeId, Head>) -> BTreeMap<NodeId, u64> {
    streams.iter().map(|(node, head)| (node.clone(), head.seq)).collect()
}

/// Writes at `offset` of the file what `write` writes (cutting off whatever an unconfirmed
/// append left there), makes it durable and returns the file's new length.
fn append_at(path: &Path, offset: u64, write: impl FnOnce(&mut File) -> std::io::Result<()>) -> Result<u64> {
    use std::io::{Seek, SeekFrom};
    let mut f = File::options().write(true).open(path).map_err(|e| Error::io(path, e))?;
    f.set_len(offset).map_err(|e| Error::io(path, e))?;
    f.seek(SeekFrom::Start(offset)).map_err(|e| Error::io(path, e))?;
    let len = write(&mut f).and_then(|()| f.stream_position()).map_err(|e| Error::io(path, e))?;
    f.sync_data().map_err(|e| Error::io(path, e))?;
    Ok(len)
}
