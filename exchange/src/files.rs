//! Local files: hashing and writing in bounded memory, reading without following symbolic
//! links, walking a package, and an output directory that appears only when complete.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
};

use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use sha2::Digest;
use tokio::io::AsyncWriteExt;

use crate::{Error, Result};

/// Read buffer for hashing files.
const BUF: usize = 1 << 20;

/// Which digests to compute.
#[derive(Clone, Copy, Debug)]
pub struct Algs {
    /// SHA-256.
    pub sha256: bool,
    /// SHA-512.
    pub sha512: bool,
}

impl Algs {
    /// Both digests.
    pub const BOTH: Algs = Algs { sha256: true, sha512: true };
    /// SHA-512 only (OCFL).
    pub const SHA512: Algs = Algs { sha256: false, sha512: true };
}

/// The size and digests (lowercase hex) of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Digests {
    /// Length in bytes.
    pub size: u64,
    /// SHA-256, if asked for.
    pub sha256: Option<String>,
    /// SHA-512, if asked for.
    pub sha512: Option<String>,
}

/// Hashes bytes as they pass.
pub struct Hasher {
    size: u64,
    sha256: Option<sha2::Sha256>,
    sha512: Option<sha2::Sha512>,
}

impl Hasher {
    /// A hasher for `algs`.
    pub fn new(algs: Algs) -> Self {
        Hasher { size: 0, sha256: algs.sha256.then(sha2::Sha256::new), sha512: algs.sha512.then(sha2::Sha512::new) }
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.size += bytes.len() as u64;
        if let Some(h) = &mut self.sha256 {
            h.update(bytes);
        }
        if let Some(h) = &mut self.sha512 {
            h.update(bytes);
        }
    }

    /// The size and digests of everything added.
    pub fn finish(self) -> Digests {
        Digests {
            size: self.size,
            sha256: self.sha256.map(|h| hex::encode(h.finalize())),
            sha512: self.sha512.map(|h| hex::encode(h.finalize())),
        }
    }
}

/// The digests of bytes in memory.
pub fn digest_bytes(bytes: &[u8], algs: Algs) -> Digests {
    let mut h = Hasher::new(algs);
    h.update(bytes);
    h.finish()
}

/// SHA-512 of bytes in memory (lowercase hex).
pub fn sha512_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha512::digest(bytes))
}

/// `(device, inode)` of a file, to tell whether two looks at a path saw the same file.
#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Opens a regular file for reading without following a symbolic link: the path itself
/// must be a regular file, and the opened file must be the one that was looked at.
/// `shown` names the file in errors (its path inside the package).
pub fn open_regular(path: &Path, shown: &str) -> Result<std::fs::File> {
    let before = std::fs::symlink_metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::integrity(shown, "is missing"),
        _ => Error::io(path, e),
    })?;
    if before.file_type().is_symlink() {
        return Err(Error::unsafe_path(shown, "is a symbolic link"));
    }
    if !before.is_file() {
        return Err(Error::unsafe_path(shown, "is not a regular file"));
    }
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let after = f.metadata().map_err(|e| Error::io(path, e))?;
    if identity(&before) != identity(&after) || !after.is_file() {
        return Err(Error::unsafe_path(shown, "was replaced while it was read"));
    }
    Ok(f)
}

/// Hashes a file of the package (streaming, on the blocking pool).
pub async fn hash_file(path: &Path, shown: &str, algs: Algs) -> Result<Digests> {
    let (path, shown) = (path.to_path_buf(), shown.to_string());
    tokio::task::spawn_blocking(move || {
        let mut f = open_regular(&path, &shown)?;
        let mut h = Hasher::new(algs);
        let mut buf = vec![0u8; BUF];
        loop {
            let n = f.read(&mut buf).map_err(|e| Error::io(&path, e))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(h.finish())
    })
    .await
    .expect("hashing does not panic")
}

/// Reads a small file of the package whole, refusing one larger than `limit` bytes.
pub fn read_limited(path: &Path, shown: &str, limit: u64) -> Result<Vec<u8>> {
    let f = open_regular(path, shown)?;
    let mut out = Vec::new();
    f.take(limit + 1).read_to_end(&mut out).map_err(|e| Error::io(path, e))?;
    if out.len() as u64 > limit {
        return Err(Error::invalid(shown, format!("is larger than {limit} bytes")));
    }
    Ok(out)
}

/// Creates the parent directories of a file.
fn parents(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

/// Writes bytes to a new file (creating its directories).
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    parents(path)?;
    let mut f = std::fs::File::create_new(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))
}

/// Writes a stream of content to a new file, hashing it on the way; memory stays at one
/// chunk of the stream.
pub async fn write_stream(
    path: &Path,
    stream: impl Stream<Item = akte_store::Result<Bytes>>,
    algs: Algs,
) -> Result<Digests> {
    parents(path)?;
    let mut f = tokio::fs::File::create_new(path).await.map_err(|e| Error::io(path, e))?;
    let mut h = Hasher::new(algs);
    let mut stream = std::pin::pin!(stream);
    while let Some(chunk) = stream.try_next().await? {
        h.update(&chunk);
        f.write_all(&chunk).await.map_err(|e| Error::io(path, e))?;
    }
    f.flush().await.map_err(|e| Error::io(path, e))?;
    f.sync_all().await.map_err(|e| Error::io(path, e))?;
    Ok(h.finish())
}

/// Removes a file and then every directory above it, up to `stop`, that became empty.
pub fn remove_and_prune(path: &Path, stop: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == stop || !d.starts_with(stop) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// What a walk found at one path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entry {
    /// A regular file.
    File,
    /// A directory.
    Dir,
}

/// Lists everything below `dir` as `/`-separated paths relative to it (sorted), refusing
/// symbolic links, special files and names that are not UTF-8. `shown` prefixes paths in
/// errors.
pub fn walk(dir: &Path, shown: &str) -> Result<Vec<(String, Entry)>> {
    let mut out = Vec::new();
    let mut todo = vec![(dir.to_path_buf(), String::new())];
    while let Some((abs, rel)) = todo.pop() {
        let rd = std::fs::read_dir(&abs).map_err(|e| Error::io(&abs, e))?;
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(&abs, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(Error::unsafe_path(
                    format!("{shown}{rel}{}", name.to_string_lossy()),
                    "has a name that is not UTF-8",
                ));
            };
            let path = if rel.is_empty() { name.to_string() } else { format!("{rel}/{name}") };
            let ft = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            if ft.is_symlink() {
                return Err(Error::unsafe_path(format!("{shown}{path}"), "is a symbolic link"));
            } else if ft.is_dir() {
                out.push((path.clone(), Entry::Dir));
                todo.push((entry.path(), path));
            } else if ft.is_file() {
                out.push((path, Entry::File));
            } else {
                return Err(Error::unsafe_path(format!("{shown}{path}"), "is not a regular file or directory"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Checks that a package directory is a real directory (not a symbolic link).
pub fn check_package_dir(dir: &Path) -> Result<()> {
    let m = std::fs::symlink_metadata(dir).map_err(|e| Error::io(dir, e))?;
    if m.file_type().is_symlink() {
        return Err(Error::unsafe_path(dir.display().to_string(), "is a symbolic link"));
    }
    if !m.is_dir() {
        return Err(Error::Usage(format!("{} is not a directory", dir.display())));
    }
    Ok(())
}

/// An output directory built under a temporary name beside its target and renamed into
/// place when complete, so that a failed export leaves nothing that looks finished.
pub struct Staging {
    /// Where the output is built.
    pub dir: PathBuf,
    target: PathBuf,
    done: bool,
}

impl Staging {
    /// Prepares to build `target`, which must not exist or be an empty directory.
    pub fn new(target: &Path) -> Result<Staging> {
        match std::fs::read_dir(target) {
            Ok(mut rd) => {
                if rd.next().is_some() {
                    return Err(Error::Usage(format!("The output directory {} is not empty", target.display())));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(target, e)),
        }
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::Usage(format!("The output path {} has no usable name", target.display())))?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let dir = parent.join(format!(".{name}.partial-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Staging { dir, target: target.to_path_buf(), done: false })
    }

    /// Moves the finished output into place.
    pub fn finish(mut self) -> Result<PathBuf> {
        if std::fs::symlink_metadata(&self.target).is_ok() {
            // Checked empty at the start; `remove_dir` refuses a directory filled since.
            std::fs::remove_dir(&self.target).map_err(|e| Error::io(&self.target, e))?;
        }
        std::fs::rename(&self.dir, &self.target).map_err(|e| Error::io(&self.target, e))?;
        self.done = true;
        Ok(self.target.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
