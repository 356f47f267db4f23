//! Large reads and writes with direct I/O: writing the chunks and packs of a local store,
//! reading the files `akte add` stores and writing the files `akte get` restores.
//!
//! A buffered `write` copies every byte into the page cache, and the kernel later writes
//! the dirty pages out on threads of its own; for the chunks of a large document that copy
//! was a fifth of the CPU time of `akte add` (docs/BENCHMARKS.md). With `O_DIRECT` the disk
//! reads the ciphertext straight from our buffer, so neither copy happens, and the data is
//! already on its way to the disk when the journal's barrier (`syncfs`) comes.
//!
//! The file is written the way `object_store`'s `LocalFileSystem` writes one, so both read
//! and list the result alike: into a staging file `NAME#N` (which its listing skips), then
//! renamed to its name, which is atomic. Direct I/O needs the buffer's address, the file
//! offset and the length to be multiples of the device's block size; the page-aligned bulk
//! goes direct, the tail of less than a page buffered. Where the file system refuses
//! direct I/O (tmpfs, some network file systems) everything is written buffered.
//!
//! Reading a file to store it is the same copy the other way (a sixth of the CPU time of
//! `akte add` of a large file): `read_chunk` reads page-aligned into a page-aligned
//! buffer with `O_DIRECT`, falling back to the page cache where direct I/O is refused.
//! A file another program has just written is still read correctly: the kernel writes its
//! dirty pages out before a direct read of them.

use std::{
    fs::{File, OpenOptions},
    io::{self, ErrorKind},
    os::unix::fs::{FileExt, OpenOptionsExt},
    path::{Path, PathBuf},
};

use rustix::fs::OFlags;

use crate::keys::IO_ALIGN;

/// `O_DIRECT` where the platform has it; elsewhere nothing, and every write is buffered.
#[cfg(target_os = "linux")]
const DIRECT: OFlags = OFlags::DIRECT;
#[cfg(not(target_os = "linux"))]
const DIRECT: OFlags = OFlags::empty();

/// Objects from this size on are written with direct I/O (the 4 MiB chunks and 8 MiB packs
/// of a large document; small writes gain nothing from skipping the page cache).
pub const DIRECT_FROM: usize = 1024 * 1024;

/// True when `bytes` can go to the disk directly: large enough and page-aligned in memory.
pub fn suitable(bytes: &[u8]) -> bool {
    bytes.len() >= DIRECT_FROM && (bytes.as_ptr() as usize).is_multiple_of(IO_ALIGN)
}

/// Writes `bytes` to `dest` atomically (staging file, then rename); direct where possible.
/// Returns whether the bulk went direct.
pub fn put(dest: &Path, bytes: &[u8]) -> io::Result<bool> {
    let (file, staging, direct) = staging_file(dest)?;
    let mut out = Output { file, offset: 0, direct };
    let written = out.write(bytes).and_then(|()| std::fs::rename(&staging, dest));
    if written.is_err() {
        let _ = std::fs::remove_file(&staging);
    }
    written.map(|()| out.direct)
}

/// Creates `dest#N` for the first free N, with `O_DIRECT` when the file system takes it.
fn staging_file(dest: &Path) -> io::Result<(File, PathBuf, bool)> {
    let mut direct = true;
    let mut n = 1u32;
    loop {
        let mut staging = dest.as_os_str().to_owned();
        staging.push(format!("#{n}"));
        let staging = PathBuf::from(staging);
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        if direct {
            opts.custom_flags(DIRECT.bits() as i32);
        }
        match opts.open(&staging) {
            Ok(f) => return Ok((f, staging, direct)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => n += 1,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let parent = dest.parent().ok_or(e)?;
                std::fs::create_dir_all(parent)?;
            }
            Err(e) if direct && refused(&e) => direct = false,
            Err(e) => return Err(e),
        }
    }
}

/// Turns direct I/O on for `file`; false where the file system refuses it.
pub fn try_direct(file: &File) -> bool {
    !DIRECT.is_empty() && set_direct(file, true).is_ok()
}

/// Sets or clears `O_DIRECT` on an open file.
fn set_direct(file: &File, on: bool) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(file)?;
    let wanted = if on { flags | DIRECT } else { flags - DIRECT };
    if wanted != flags {
        rustix::fs::fcntl_setfl(file, wanted)?;
    }
    Ok(())
}

/// Whether an I/O error is the file system refusing a direct transfer.
fn refused(e: &io::Error) -> bool {
    e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error())
}

/// Reads up to `len` bytes of `file` from `offset` (fewer only at its end) into a fresh
/// buffer of about `hint` bytes (what the file's size says is left), growing it should the
/// file be longer. With `*direct` (see [`try_direct`]) `offset` and `len` must be
/// multiples of [`IO_ALIGN`]; should the file system refuse a direct read, `*direct` turns
/// false and the rest is read through the page cache.
pub fn read_chunk(file: &File, offset: u64, len: usize, hint: u64, direct: &mut bool) -> io::Result<bytes::Bytes> {
    let align = if *direct { IO_ALIGN } else { 1 };
    debug_assert!(len.is_multiple_of(align) && offset.is_multiple_of(align as u64));
    let cap = (hint.clamp(1, len as u64) as usize).next_multiple_of(align).min(len);
    let mut buf: Vec<u8> = Vec::with_capacity(cap + align - 1);
    let start = buf.as_ptr().align_offset(align).min(align - 1);
    buf.resize(start + cap, 0);
    let mut filled = 0;
    while filled < cap {
        match file.read_at(&mut buf[start + filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) if *direct && !(filled + n).is_multiple_of(IO_ALIGN) && filled + n < cap => {
                // A short direct read before the end leaves an unaligned position: the rest
                // of this chunk is read through the page cache.
                filled += n;
                filled += buffered(file, |f| read_full(f, &mut buf[start + filled..], offset + filled as u64))?;
                break;
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if *direct && refused(&e) => {
                set_direct(file, false)?;
                *direct = false;
            }
            Err(e) => return Err(e),
        }
    }
    if filled == cap && cap < len {
        // The file is longer than its size said (it grows while it is stored): read on to
        // a full chunk or its end.
        buf.resize(start + len, 0);
        filled += buffered(file, |f| read_full(f, &mut buf[start + filled..], offset + filled as u64))?;
    }
    buf.truncate(start + filled);
    Ok(bytes::Bytes::from(buf).slice(start..))
}

/// A file written front to back: every piece that starts page-aligned in memory and in the
/// file goes to the disk directly (the chunks `Objects::read_content` yields are aligned,
/// see `RepoKey::decrypt_framed`), the rest through the page cache. Like `cp`, it leaves
/// durability to the file system (no `fsync`: restoring 10,000 small files with one each
/// took twice as long).
pub struct Output {
    file: File,
    offset: u64,
    direct: bool,
}

impl Output {
    /// Creates (or truncates) `path`, with direct I/O where the file system takes it.
    pub fn create(path: &Path) -> io::Result<Output> {
        let file = File::create(path)?;
        let direct = try_direct(&file);
        Ok(Output { file, offset: 0, direct })
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        let aligned = self.direct
            && self.offset.is_multiple_of(IO_ALIGN as u64)
            && (bytes.as_ptr() as usize).is_multiple_of(IO_ALIGN);
        let bulk = if aligned { bytes.len() / IO_ALIGN * IO_ALIGN } else { 0 };
        let mut at = 0;
        while at < bulk && self.direct {
            match self.file.write_at(&bytes[at..bulk], self.offset + at as u64) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => at += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if refused(&e) => self.direct = false,
                Err(e) => return Err(e),
            }
        }
        if at < bytes.len() {
            let offset = self.offset + at as u64;
            buffered(&self.file, |f| f.write_all_at(&bytes[at..], offset))?;
        }
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Closes the file, reporting a size that does not add up (it cannot, short of a bug).
    pub fn finish(self) -> io::Result<()> {
        let written = self.file.metadata()?.len();
        if written != self.offset {
            return Err(io::Error::other(format!("wrote {} bytes but the file has {written}", self.offset)));
        }
        Ok(())
    }
}

/// Runs `f` with `O_DIRECT` off for `file`, restoring the flags afterwards.
fn buffered<T>(file: &File, f: impl FnOnce(&File) -> io::Result<T>) -> io::Result<T> {
    let flags = rustix::fs::fcntl_getfl(file)?;
    if !flags.contains(DIRECT) || DIRECT.is_empty() {
        return f(file);
    }
    rustix::fs::fcntl_setfl(file, flags - DIRECT)?;
    let r = f(file);
    rustix::fs::fcntl_setfl(file, flags)?;
    r
}

/// Reads into all of `buf` from `offset`, or to the end of the file; returns the count.
fn read_full(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page-aligned buffer of `len` bytes with a recognisable pattern.
    fn aligned(len: usize) -> bytes::Bytes {
        let mut v: Vec<u8> = Vec::with_capacity(len + IO_ALIGN);
        let start = v.as_ptr().align_offset(IO_ALIGN);
        v.resize(start, 0);
        v.extend((0..len).map(|i| (i * 7 + i / 4096) as u8));
        bytes::Bytes::from(v).slice(start..)
    }

    /// Whether the file system under `dir` takes direct I/O at all (tmpfs before Linux 6.6
    /// and some others do not; there everything must still work, buffered).
    fn supports_direct(dir: &Path) -> bool {
        let probe = dir.join("probe");
        std::fs::write(&probe, b"").unwrap();
        try_direct(&File::open(&probe).unwrap())
    }

    #[test]
    fn writes_whole_pages_and_a_tail_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let supported = supports_direct(dir.path());
        for len in [DIRECT_FROM, DIRECT_FROM + 1, DIRECT_FROM + IO_ALIGN - 1, 3 * DIRECT_FROM + 517] {
            let bytes = aligned(len);
            assert!(suitable(&bytes));
            let dest = dir.path().join(format!("sub/dir/{len}"));
            assert_eq!(put(&dest, &bytes).unwrap(), supported, "length {len} went direct");
            assert_eq!(std::fs::read(&dest).unwrap(), &bytes[..], "length {len}");
        }
        // Nothing staged is left behind.
        let left: Vec<_> =
            std::fs::read_dir(dir.path().join("sub/dir")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left.len(), 4, "{left:?}");
    }

    #[test]
    fn reads_a_file_in_chunks_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let supported = supports_direct(dir.path());
        for len in [0, 1, IO_ALIGN, 3 * IO_ALIGN + 5, DIRECT_FROM + 517] {
            let content = aligned(len);
            let path = dir.path().join(format!("f{len}"));
            std::fs::write(&path, &content).unwrap();
            let file = File::open(&path).unwrap();
            let mut direct = try_direct(&file);
            let chunk = 2 * IO_ALIGN;
            let mut back = Vec::new();
            loop {
                let left = len as u64 - back.len() as u64;
                let part = read_chunk(&file, back.len() as u64, chunk, left, &mut direct).unwrap();
                back.extend_from_slice(&part);
                if part.len() < chunk {
                    break;
                }
            }
            assert_eq!(back, &content[..], "length {len}");
            assert_eq!(direct, supported, "length {len}: direct reads stayed on where supported");
        }
    }

    #[test]
    fn a_file_longer_than_its_hint_is_read_to_a_full_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let content = aligned(5 * IO_ALIGN + 3);
        let path = dir.path().join("grown");
        std::fs::write(&path, &content).unwrap();
        let file = File::open(&path).unwrap();
        for hint in [0, 1, IO_ALIGN as u64, 4 * IO_ALIGN as u64] {
            let mut direct = try_direct(&file);
            let part = read_chunk(&file, 0, 4 * IO_ALIGN, hint, &mut direct).unwrap();
            assert_eq!(&part[..], &content[..4 * IO_ALIGN], "hint {hint}");
            let rest = read_chunk(&file, 4 * IO_ALIGN as u64, 4 * IO_ALIGN, hint, &mut direct).unwrap();
            assert_eq!(&rest[..], &content[4 * IO_ALIGN..], "hint {hint}");
        }
    }

    #[test]
    fn output_takes_aligned_and_unaligned_pieces_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let supported = supports_direct(dir.path());
        let big = aligned(3 * IO_ALIGN);
        // aligned, aligned with a tail, unaligned in memory, then aligned again at an
        // unaligned offset: every piece must land where it belongs.
        let pieces: Vec<&[u8]> = vec![&big[..IO_ALIGN], &big[..2 * IO_ALIGN + 9], &big[1..100], &big[..IO_ALIGN]];
        let path = dir.path().join("out");
        let mut out = Output::create(&path).unwrap();
        let mut expected = Vec::new();
        for p in pieces {
            out.write(p).unwrap();
            expected.extend_from_slice(p);
        }
        assert_eq!(out.direct, supported);
        out.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), expected);
    }

    #[test]
    fn an_unaligned_or_small_buffer_is_not_suitable() {
        let bytes = aligned(DIRECT_FROM + 1);
        assert!(!suitable(&bytes.slice(1..)));
        assert!(!suitable(&bytes[..DIRECT_FROM - 1]));
    }

    #[test]
    fn a_taken_staging_name_is_skipped_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("obj");
        std::fs::write(dir.path().join("obj#1"), b"someone else's upload").unwrap();
        put(&dest, &aligned(DIRECT_FROM)).unwrap();
        assert_eq!(std::fs::read(dir.path().join("obj#1")).unwrap(), b"someone else's upload");
        assert_eq!(std::fs::read(&dest).unwrap().len(), DIRECT_FROM);
    }

    #[test]
    fn overwrites_an_existing_object_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("obj");
        std::fs::write(&dest, b"old").unwrap();
        let bytes = aligned(DIRECT_FROM + 3);
        put(&dest, &bytes).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), &bytes[..]);
    }
}
