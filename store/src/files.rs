//! Storing the content of local files: small ones whole into packs, large ones streamed in
//! chunks with direct I/O (`direct`), read ahead of the hashing and encryption.

use bytes::Bytes;

use crate::{Error, Result, content::ContentRef, repo::Repository};

impl Repository {
    /// Stores a local file's content (streaming, bounded memory): a small one whole into a
    /// pack ([`Repository::store_small_files`]), a large one in chunks.
    pub async fn store_file(&self, path: &std::path::Path, mut progress: impl FnMut(u64)) -> Result<ContentRef> {
        let small = self.store_small_files(&[path.to_path_buf()]).await.pop().expect("one result per file");
        if let Some(r) = small? {
            progress(r.size);
            return Ok(r);
        }
        self.store_large_file(path, progress).await
    }

    /// Stores a local file in chunks (streaming, bounded memory), for a file
    /// [`Repository::store_small_files`] has already found too large for a pack.
    pub async fn store_large_file(&self, path: &std::path::Path, progress: impl FnMut(u64)) -> Result<ContentRef> {
        let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        self.store_stream(path, f, progress).await
    }

    /// Stores those of several local files that are small enough for a pack, in order, and
    /// returns `None` for the others (the caller streams them with [`Repository::
    /// store_large_file`], which reports progress as it reads). The small ones are opened, read,
    /// framed and hashed on the blocking pool in one hand-off for all of `paths`: with one
    /// hand-off per file, the thread wake-ups cost as much as the staging of the files.
    pub async fn store_small_files(&self, paths: &[std::path::PathBuf]) -> Vec<Result<Option<ContentRef>>> {
        let small = crate::pack::PACK_MEMBER_MAX.min(self.chunk_size);
        let objects = self.objects.clone();
        let owned = paths.to_vec();
        let prepared = tokio::task::spawn_blocking(move || {
            let prepare = |path: &std::path::PathBuf| -> Result<Option<crate::content::PreparedSmall>> {
                use std::io::Read;
                let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
                let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
                if len > small as u64 {
                    return Ok(None);
                }
                let mut framed = Vec::with_capacity(crate::object::HEADER_LEN + len as usize);
                framed.extend_from_slice(&crate::object::header(crate::object::Kind::Chunk));
                f.take(small as u64 + 1).read_to_end(&mut framed).map_err(|e| Error::io(path, e))?;
                if framed.len() - crate::object::HEADER_LEN > small {
                    // It grew while we looked: the caller streams it.
                    return Ok(None);
                }
                objects.prepare_small(framed).map(Some)
            };
            owned.iter().map(prepare).collect::<Vec<_>>()
        })
        .await
        .expect("read task does not panic");
        let mut out = Vec::with_capacity(paths.len());
        for p in prepared {
            out.push(match p {
                Ok(Some(p)) => self.objects.put_prepared(p).await.map(Some),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            });
        }
        out
    }

    async fn store_stream(
        &self,
        path: &std::path::Path,
        f: std::fs::File,
        progress: impl FnMut(u64),
    ) -> Result<ContentRef> {
        let chunks = read_ahead(f, self.chunk_size);
        self.objects.put_chunks(chunks, self.chunk_size, progress).await.map_err(|e| match e {
            Error::Io { path: p, source } if p.as_os_str() == "<input>" => Error::io(path, source),
            e => e,
        })
    }
}

/// Reads a file in chunks on a thread of its own, two chunks ahead of the consumer, so that
/// reading overlaps hashing and encryption; buffers are sized by the file, not the chunk.
/// The file is read with direct I/O where it can be (`direct::read_chunk`).
fn read_ahead(file: std::fs::File, chunk_size: usize) -> impl futures::Stream<Item = std::io::Result<Bytes>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(2);
    tokio::task::spawn_blocking(move || {
        let size = file.metadata().map(|m| m.len()).unwrap_or(chunk_size as u64);
        let mut direct = chunk_size.is_multiple_of(crate::keys::IO_ALIGN) && crate::direct::try_direct(&file);
        let mut offset = 0u64;
        loop {
            // Buffers are sized by what the file's size says is left, so that a file of
            // 600 KiB does not take a 4 MiB buffer.
            let left = size.saturating_sub(offset);
            let read = crate::direct::read_chunk(&file, offset, chunk_size, left, &mut direct);
            let last = !matches!(&read, Ok(b) if b.len() == chunk_size);
            if let Ok(b) = &read {
                offset += b.len() as u64;
            }
            if tx.blocking_send(read).is_err() || last {
                break;
            }
        }
    });
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
