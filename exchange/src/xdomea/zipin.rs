//! Reading a ZIP defensively: entry names checked, sizes and ratios bounded before
//! anything is unpacked, every entry read no further than its declared size and checked
//! against its CRC. The xdomea import unpacks entries to files named by their index, so no
//! name from the archive reaches the file system; [`ZipIn::unpack_tree`] unpacks a zipped
//! folder (a bag, a storage root) under its checked names for the server's import jobs.

use std::{
    collections::BTreeMap,
    fs::File,
    io::{Read, Write},
    path::Path,
};

use sha2::Digest;
use zip::ZipArchive;

use super::Limits;
use crate::{Error, Result, names::split_relative};

/// One entry of the archive.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// Its index in the archive.
    pub index: usize,
    /// Its declared uncompressed size.
    pub size: u64,
}

/// What one unpacked entry turned out to be.
#[derive(Clone, Debug)]
pub struct Unpacked {
    /// Bytes.
    pub size: u64,
    /// SHA-256 (hex).
    pub sha256: String,
    /// BLAKE3 (hex).
    pub blake3: String,
}

/// An opened, checked message ZIP.
pub struct ZipIn {
    archive: ZipArchive<File>,
    /// The file entries by name (directories left out).
    pub entries: BTreeMap<String, Entry>,
    /// The directory entries (without the trailing `/`).
    pub dirs: Vec<String>,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::invalid("", reason)
}

/// Opens a ZIP and checks its directory against `limits` (nothing is unpacked yet).
pub fn open(path: &Path, limits: &Limits) -> Result<ZipIn> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::Usage(format!("{} is not a regular file", path.display())));
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut archive =
        ZipArchive::new(file).map_err(|e| bad(format!("is not a complete ZIP archive (truncated?): {e}")))?;
    if archive.len() > limits.max_entries {
        return Err(bad(format!("has {} entries; at most {} are read", archive.len(), limits.max_entries)));
    }
    let mut entries = BTreeMap::new();
    let mut dirs = Vec::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let f = archive.by_index_raw(index).map_err(|e| bad(format!("entry {index} is unreadable: {e}")))?;
        let name = f.name().to_string();
        if f.encrypted() {
            return Err(Error::invalid(&name, "is encrypted"));
        }
        if f.is_symlink() {
            return Err(Error::unsafe_path(&name, "is a symbolic link"));
        }
        if name.chars().any(char::is_control) {
            return Err(Error::unsafe_path(&name, "has a control character in its name"));
        }
        let trimmed = if f.is_dir() { name.trim_end_matches('/') } else { name.as_str() };
        if name.starts_with('/') || name.contains('\\') || trimmed.split('/').next().is_some_and(|c| c.ends_with(':')) {
            return Err(Error::unsafe_path(&name, "is absolute or names a drive"));
        }
        split_relative(trimmed)?;
        if f.is_dir() {
            dirs.push(trimmed.to_string());
            continue;
        }
        let (size, compressed) = (f.size(), f.compressed_size());
        if size > limits.max_entry {
            return Err(Error::invalid(
                &name,
                format!("unpacks to {size} bytes; at most {} are read", limits.max_entry),
            ));
        }
        if size > 1 << 20 && size / compressed.max(1) > limits.max_ratio {
            return Err(Error::invalid(
                &name,
                format!(
                    "is compressed {}:1; more than {}:1 is refused as a zip bomb",
                    size / compressed.max(1),
                    limits.max_ratio
                ),
            ));
        }
        total = total.saturating_add(size);
        if total > limits.max_total {
            return Err(bad(format!("unpacks to more than {} bytes", limits.max_total)));
        }
        if entries.insert(name.clone(), Entry { index, size }).is_some() {
            return Err(Error::invalid(&name, "is in the archive twice"));
        }
    }
    Ok(ZipIn { archive, entries, dirs })
}

impl ZipIn {
    /// Reads one entry through `sink`, refusing more bytes than declared and a bad CRC.
    fn read_entry(&mut self, name: &str, mut sink: impl FnMut(&[u8]) -> Result<()>) -> Result<u64> {
        let entry = *self.entries.get(name).ok_or_else(|| Error::integrity(name, "is missing from the ZIP"))?;
        let f =
            self.archive.by_index(entry.index).map_err(|e| Error::integrity(name, format!("cannot be read: {e}")))?;
        let mut f = f.take(entry.size + 1);
        let mut buf = vec![0u8; 1 << 16];
        let mut n_total: u64 = 0;
        loop {
            let n = f.read(&mut buf).map_err(|e| Error::integrity(name, format!("is damaged: {e}")))?;
            if n == 0 {
                break;
            }
            n_total += n as u64;
            if n_total > entry.size {
                return Err(Error::integrity(name, "unpacks to more bytes than the ZIP declares (zip bomb?)"));
            }
            sink(&buf[..n])?;
        }
        if n_total != entry.size {
            return Err(Error::integrity(name, format!("unpacks to {n_total} bytes, the ZIP declares {}", entry.size)));
        }
        Ok(n_total)
    }

    /// Reads a small entry whole (at most `limit` bytes).
    pub fn read_small(&mut self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let size = self.entries.get(name).map(|e| e.size).unwrap_or(0);
        if size > limit {
            return Err(Error::invalid(name, format!("is larger than {limit} bytes")));
        }
        let mut out = Vec::with_capacity(size as usize);
        self.read_entry(name, |b| {
            out.extend_from_slice(b);
            Ok(())
        })?;
        Ok(out)
    }

    /// Unpacks every entry under `dest` (created here; it must not exist) by its checked
    /// name, never overwriting a file; `progress` gets the bytes of each piece written.
    pub fn unpack_tree(&mut self, dest: &Path, mut progress: impl FnMut(u64)) -> Result<()> {
        std::fs::create_dir(dest).map_err(|e| Error::io(dest, e))?;
        for d in &self.dirs {
            let target = dest.join(d);
            std::fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
        }
        let names: Vec<String> = self.entries.keys().cloned().collect();
        for name in names {
            let target = dest.join(&name);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            let file = File::create_new(&target).map_err(|e| Error::io(&target, e))?;
            let mut out = std::io::BufWriter::new(file);
            self.read_entry(&name, |b| {
                progress(b.len() as u64);
                out.write_all(b).map_err(|e| Error::io(&target, e))
            })?;
            out.flush().map_err(|e| Error::io(&target, e))?;
        }
        Ok(())
    }

    /// Unpacks an entry to `dest` (a new file), hashing it on the way.
    pub fn unpack(&mut self, name: &str, dest: &Path) -> Result<Unpacked> {
        let file = File::create_new(dest).map_err(|e| Error::io(dest, e))?;
        let mut out = std::io::BufWriter::new(file);
        let mut sha = sha2::Sha256::new();
        let mut b3 = blake3::Hasher::new();
        let size = self.read_entry(name, |b| {
            sha.update(b);
            b3.update(b);
            out.write_all(b).map_err(|e| Error::io(dest, e))
        })?;
        out.flush().map_err(|e| Error::io(dest, e))?;
        Ok(Unpacked { size, sha256: hex::encode(sha.finalize()), blake3: b3.finalize().to_hex().to_string() })
    }
}
