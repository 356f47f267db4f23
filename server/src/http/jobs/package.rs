//! The ZIP side of export and import jobs: an export's tree zipped in a fixed order, an
//! upload told apart (an xdomea message, or a zipped BagIt, OCFL or Paperless folder) and
//! unpacked with the checks of the xdomea import.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use akte_exchange::Limits;

use super::JobError;

/// Bytes of the regular files below `dir`.
pub(super) fn tree_size(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// Counts bytes read into `done`.
struct Counting<'a, R> {
    inner: R,
    done: &'a AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Writes the tree below `from` into a new ZIP `to`, every name under `prefix/`, in a
/// fixed order (directories and files sorted by name).
pub(super) fn zip_tree(from: &Path, to: &Path, prefix: &str, done: &AtomicU64) -> std::io::Result<()> {
    use zip::{CompressionMethod, write::SimpleFileOptions};
    fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, Option<PathBuf>)>) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().into_string().map_err(|n| std::io::Error::other(format!("{n:?} is not UTF-8")))?;
            let rel = format!("{rel}/{name}");
            let t = e.file_type()?;
            if t.is_dir() {
                out.push((format!("{rel}/"), None));
                walk(&e.path(), &rel, out)?;
            } else if t.is_file() {
                out.push((rel, Some(e.path())));
            } else {
                return Err(std::io::Error::other(format!("{} is not a regular file", e.path().display())));
            }
        }
        Ok(())
    }
    let mut entries = vec![(format!("{prefix}/"), None)];
    walk(from, prefix, &mut entries)?;
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(to)?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let base = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, path) in entries {
        match path {
            None => zip.add_directory(name, base.unix_permissions(0o755)).map_err(std::io::Error::other)?,
            Some(p) => {
                let f = std::fs::File::open(&p)?;
                let large = f.metadata()?.len() >= u64::from(u32::MAX);
                zip.start_file(name, base.unix_permissions(0o644).large_file(large)).map_err(std::io::Error::other)?;
                std::io::copy(&mut Counting { inner: f, done }, &mut zip)?;
            }
        }
    }
    zip.finish().map_err(std::io::Error::other)?.flush()
}

/// What an uploaded ZIP holds.
pub(super) enum Package {
    /// An xdomea message: the ZIP itself is the package.
    Xdomea,
    /// A zipped folder; the path of its root inside the ZIP (`""` or `name/`).
    Folder(String),
}

/// The marker file of each folder format.
pub(super) const MARKERS: [(&str, &str); 3] =
    [("bagit.txt", "bagit"), ("0=ocfl_1.1", "ocfl"), ("manifest.json", "paperless")];

/// Tells an xdomea message from a zipped folder by the entry names.
pub(super) fn inspect(zip: &Path) -> Result<Package, JobError> {
    let file = std::fs::File::open(zip).map_err(|e| JobError::internal(format!("{}: {e}", zip.display())))?;
    let archive = zip::ZipArchive::new(file)
        .map_err(|e| JobError::new("invalid", format!("The upload is not a readable ZIP archive ({e})")))?;
    let names: Vec<&str> = archive.file_names().collect();
    for (marker, _) in MARKERS {
        if names.contains(&marker) {
            return Ok(Package::Folder(String::new()));
        }
    }
    let mut roots: Vec<String> = names
        .iter()
        .filter_map(|n| {
            let (top, rest) = n.split_once('/')?;
            MARKERS.iter().any(|(m, _)| rest == *m).then(|| format!("{top}/"))
        })
        .collect();
    roots.sort();
    roots.dedup();
    match roots.len() {
        0 => Ok(Package::Xdomea),
        1 => Ok(Package::Folder(roots.remove(0))),
        _ => Err(JobError::new("invalid", "The ZIP holds more than one package; send one at a time")),
    }
}

/// Unpacks a zipped folder into `dest` (created here) with the checks the xdomea import
/// applies to a message ZIP (`akte_exchange::xdomea::zipin`): names, links, encryption,
/// entry count, sizes and ratios before anything is written, then every entry no further
/// than declared and against its CRC.
pub(super) fn unpack(
    zip: &Path,
    dest: &Path,
    limits: &Limits,
    done: &AtomicU64,
    total: &AtomicU64,
) -> Result<(), JobError> {
    let job_dir = dest.parent().unwrap_or(dest);
    let mut archive = akte_exchange::xdomea::zipin::open(zip, limits).map_err(|e| JobError::exchange(e, job_dir))?;
    total.store(archive.entries.values().map(|e| e.size).sum::<u64>().max(1), Ordering::Relaxed);
    archive
        .unpack_tree(dest, |n| {
            done.fetch_add(n, Ordering::Relaxed);
        })
        .map_err(|e| JobError::exchange(e, job_dir))
}
