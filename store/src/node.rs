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
    catalog::{CATALOG_FORMAT, Catalog},
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
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    if let Some(dir) = path.parent() {
        File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
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

    /// Loads the catalog cache if it is present, current and of this repository.
    pub fn load_catalog(&self, repository: uuid::Uuid) -> Option<Catalog> {
        let bytes = std::fs::read(self.dir.join("catalog.json")).ok()?;
        let mut cat: Catalog = serde_json::from_slice(&bytes).ok()?;
        if cat.format != CATALOG_FORMAT || cat.repository != repository {
            return None;
        }
        cat.refold();
        Some(cat)
    }

    /// Saves the catalog cache.
    pub fn save_catalog(&self, catalog: &Catalog) -> Result<()> {
        write_atomic(&self.dir.join("catalog.json"), &serde_json::to_vec(catalog).expect("catalog serializes"))
    }

    /// Deletes the catalog cache (it is rebuilt from the store).
    pub fn drop_catalog(&self) -> Result<()> {
        match std::fs::remove_file(self.dir.join("catalog.json")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(self.dir.join("catalog.json"), e)),
            _ => Ok(()),
        }
    }
}
