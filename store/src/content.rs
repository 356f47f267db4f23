//! Document content: split into fixed-size chunks, each its own encrypted object, tied
//! together by a manifest object; content of at most one chunk is that chunk alone. Streams
//! in and out with memory bounded by `chunk size × in-flight chunks`, whatever its size.

use std::collections::VecDeque;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt, stream::BoxStream};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::{
    Error, Result,
    object::{Kind, Name, Objects},
    pack::PACK_MEMBER_MAX,
};

/// The chunk size Akte writes (4 MiB; see docs/BENCHMARKS.md for why).
pub const DEFAULT_CHUNK_SIZE: usize = 4 << 20;
/// The largest chunk size a reader accepts.
pub const MAX_CHUNK_SIZE: usize = 64 << 20;
/// How many chunks are encrypted and uploaded at once.
const IN_FLIGHT: usize = 3;

/// The manifest object of one content: what a reader needs to reassemble and check it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    /// Manifest version.
    pub v: u32,
    /// Content length in bytes.
    pub size: u64,
    /// Unkeyed BLAKE3 of the content (hex), as shown to users.
    pub blake3: String,
    /// SHA-256 of the content (hex), as shown to users and used by exchange formats.
    pub sha256: String,
    /// Size of every chunk but the last.
    pub chunk_size: u64,
    /// Names of the chunk objects, in order.
    pub chunks: Vec<Name>,
}

/// A small content named and hashed, ready for [`Objects::put_prepared`].
#[derive(Debug)]
pub struct PreparedSmall {
    name: Name,
    framed: Bytes,
    size: u64,
    blake3: String,
    sha256: String,
}

/// What storing a content returns.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContentRef {
    /// The content's root object: a manifest, or for content of at most one chunk the
    /// chunk itself (the object's kind byte tells which).
    pub root: Name,
    /// Content length in bytes.
    pub size: u64,
    /// Unkeyed BLAKE3 (hex).
    pub blake3: String,
    /// SHA-256 (hex).
    pub sha256: String,
    /// Every object this content was stored as (chunks, manifest), pinned against erasure
    /// by this process until a commit references the content (see `Objects::unpin`).
    #[serde(skip)]
    pub objects: Vec<Name>,
}

/// Reads up to `limit` bytes (fewer only at the end of the input).
async fn read_chunk<R: AsyncRead + Unpin>(reader: &mut R, limit: usize, capacity: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(capacity.min(limit));
    reader.take(limit as u64).read_to_end(&mut buf).await?;
    Ok(buf)
}

impl Objects {
    /// Stores a content of any size from `reader`; `size_hint` (the expected length, if
    /// known) only sizes buffers; `progress` is called with bytes read so far.
    pub async fn put_content<R: AsyncRead + Unpin>(
        &self,
        reader: &mut R,
        chunk_size: usize,
        size_hint: Option<u64>,
        progress: impl FnMut(u64),
    ) -> Result<ContentRef> {
        let chunks = futures::stream::unfold((reader, 0u64, false), move |(reader, read, done)| async move {
            if done {
                return None;
            }
            let capacity = size_hint.map_or(chunk_size, |h| (h.saturating_sub(read) as usize).max(1));
            match read_chunk(reader, chunk_size, capacity).await {
                Ok(buf) => {
                    let n = buf.len();
                    Some((Ok(Bytes::from(buf)), (reader, read + n as u64, n < chunk_size)))
                }
                Err(e) => Some((Err(e), (reader, read, true))),
            }
        });
        self.put_chunks(chunks, chunk_size, progress).await
    }

    /// Stores a small content already in memory (at most [`PACK_MEMBER_MAX`] bytes) into
    /// the next pack, hashing on the calling thread: the fast path for many small
    /// documents, where thread hand-offs would cost more than the work.
    pub async fn put_small(&self, bytes: Bytes) -> Result<ContentRef> {
        let prepared = self.prepare_small(crate::object::frame(Kind::Chunk, &bytes))?;
        self.put_prepared(prepared).await
    }

    /// Names and hashes a small content given framed as a chunk (`object::frame`), without
    /// storing it: on any thread, for example the one that read the file, so that the
    /// task staging many small documents into packs does not hash them all itself.
    pub fn prepare_small(&self, framed: Vec<u8>) -> Result<PreparedSmall> {
        let payload = crate::object::unframe("<content>", &framed)
            .ok()
            .filter(|(kind, _)| *kind == Kind::Chunk)
            .map(|(_, payload)| payload)
            .ok_or_else(|| Error::Invalid("prepare_small takes a framed chunk".into()))?;
        if payload.len() > PACK_MEMBER_MAX {
            return Err(Error::Invalid(format!("A small content has at most {PACK_MEMBER_MAX} bytes")));
        }
        Ok(PreparedSmall {
            size: payload.len() as u64,
            blake3: blake3::hash(payload).to_hex().to_string(),
            sha256: hex::encode(sha2::Sha256::digest(payload)),
            name: self.name_of(&framed),
            framed: Bytes::from(framed),
        })
    }

    /// Stages a prepared small content into the next pack.
    pub async fn put_prepared(&self, p: PreparedSmall) -> Result<ContentRef> {
        let root = self.stage_packed(p.name, p.framed).await?;
        Ok(ContentRef { objects: vec![root], root, size: p.size, blake3: p.blake3, sha256: p.sha256 })
    }

    /// Stores a content given as a stream of chunks of exactly `chunk_size` bytes (the last
    /// one may be shorter or empty). Three stages overlap: producing chunk n+1 (the caller's
    /// stream: a reader thread, a network body), hashing chunk n into the whole-content
    /// digests (sequential by nature; SHA-256 and BLAKE3 as two tasks), and encrypting and
    /// uploading up to IN_FLIGHT chunks.
    pub async fn put_chunks(
        &self,
        chunks: impl Stream<Item = std::io::Result<Bytes>>,
        chunk_size: usize,
        mut progress: impl FnMut(u64),
    ) -> Result<ContentRef> {
        assert!(chunk_size > 0 && chunk_size <= MAX_CHUNK_SIZE, "chunk size out of range");
        let mut sha_task = tokio::task::spawn_blocking(sha2::Sha256::new);
        let mut b3_task = tokio::task::spawn_blocking(blake3::Hasher::new);
        let mut pending: VecDeque<tokio::task::JoinHandle<Result<Name>>> = VecDeque::new();
        let mut names = Vec::new();
        let mut size = 0u64;
        let mut short = false;
        let mut chunks = std::pin::pin!(chunks);
        while let Some(buf) = chunks.next().await {
            let buf = buf.map_err(|e| Error::io("<input>", e))?;
            let n = buf.len();
            if n == 0 && (size > 0 || !pending.is_empty() || !names.is_empty()) {
                continue;
            }
            if short || n > chunk_size {
                return Err(Error::Invalid("Content chunks must have the chunk size, but for the last".into()));
            }
            short = n < chunk_size;
            size += n as u64;
            let mut sha = sha_task.await.expect("hash task does not panic");
            let mut b3 = b3_task.await.expect("hash task does not panic");
            let (for_sha, for_b3) = (buf.clone(), buf.clone());
            sha_task = tokio::task::spawn_blocking(move || {
                sha.update(&for_sha);
                sha
            });
            b3_task = tokio::task::spawn_blocking(move || {
                b3.update(&for_b3);
                b3
            });
            while pending.len() >= IN_FLIGHT {
                names.push(pending.pop_front().expect("non-empty").await.expect("chunk task does not panic")?);
            }
            let objects = self.clone();
            // A small content of one chunk (the first chunk is already the short last one)
            // goes into a pack with the records of its commit.
            let small = short && n <= PACK_MEMBER_MAX && pending.is_empty() && names.is_empty();
            pending.push_back(tokio::spawn(async move {
                if small { objects.put_packed(Kind::Chunk, buf).await } else { objects.put(Kind::Chunk, buf).await }
            }));
            progress(size);
        }
        if pending.is_empty() && names.is_empty() {
            // No chunk at all: an empty content is one empty chunk.
            let objects = self.clone();
            pending.push_back(tokio::spawn(async move { objects.put_packed(Kind::Chunk, Bytes::new()).await }));
        }
        for task in pending {
            names.push(task.await.expect("chunk task does not panic")?);
        }
        let mut chunks = names;
        let sha = sha_task.await.expect("hash task does not panic");
        let b3 = b3_task.await.expect("hash task does not panic");
        let blake3 = b3.finalize().to_hex().to_string();
        let sha256 = hex::encode(sha.finalize());
        if chunks.len() == 1 {
            // One chunk (or an empty content): the chunk is the root, no manifest needed.
            let root = chunks.pop().expect("one chunk");
            return Ok(ContentRef { objects: vec![root], root, size, blake3, sha256 });
        }
        let mut objects = chunks.clone();
        let manifest = Manifest { v: 1, size, blake3, sha256, chunk_size: chunk_size as u64, chunks };
        let root = self.put(Kind::Manifest, serde_json::to_vec(&manifest).expect("manifest serializes")).await?;
        objects.push(root);
        Ok(ContentRef { root, size, blake3: manifest.blake3, sha256: manifest.sha256, objects })
    }

    /// Streams the content whose root object is `root` (a manifest or a single chunk).
    pub async fn read_root(&self, root: &Name) -> Result<BoxStream<'static, Result<Bytes>>> {
        let (kind, bytes) = self.get_any(root).await?;
        match kind {
            Kind::Chunk => Ok(futures::stream::once(async move { Ok(bytes) }).boxed()),
            Kind::Manifest => Ok(self.read_content(parse_manifest(root, &bytes)?).boxed()),
            other => Err(Error::integrity(
                crate::object::object_path(root).to_string(),
                format!("is a {other:?}, not content"),
            )),
        }
    }

    /// Reads the content whose root object is `root` into memory, refusing one larger than
    /// `limit` bytes.
    pub async fn read_bytes(&self, root: &Name, limit: usize) -> Result<Vec<u8>> {
        let mut stream = self.read_root(root).await?;
        let mut out = Vec::new();
        while let Some(part) = stream.try_next().await? {
            if out.len() + part.len() > limit {
                return Err(Error::Invalid(format!("The content {root} is larger than {limit} bytes")));
            }
            out.extend_from_slice(&part);
        }
        Ok(out)
    }

    /// Streams bytes `start..end` of the content whose root object is `root`, fetching and
    /// checking only the chunks that hold them. `end` is clamped to the content's length.
    pub async fn read_range(&self, root: &Name, start: u64, end: u64) -> Result<BoxStream<'static, Result<Bytes>>> {
        let (kind, bytes) = self.get_any(root).await?;
        let manifest = match kind {
            Kind::Chunk => {
                let end = (end as usize).min(bytes.len());
                let start = (start as usize).min(end);
                return Ok(futures::stream::once(async move { Ok(bytes.slice(start..end)) }).boxed());
            }
            Kind::Manifest => parse_manifest(root, &bytes)?,
            other => {
                return Err(Error::integrity(
                    crate::object::object_path(root).to_string(),
                    format!("is a {other:?}, not content"),
                ));
            }
        };
        let end = end.min(manifest.size);
        if start >= end {
            return Ok(futures::stream::empty().boxed());
        }
        let cs = manifest.chunk_size;
        let (first, last) = ((start / cs) as usize, ((end - 1) / cs) as usize);
        let n = manifest.chunks.len();
        let total = manifest.size;
        let objects = self.clone();
        let wanted: Vec<(usize, Name)> =
            manifest.chunks.into_iter().enumerate().skip(first).take(last + 1 - first).collect();
        Ok(futures::stream::iter(wanted)
            .map(move |(i, name)| {
                let objects = objects.clone();
                async move {
                    let bytes = objects.get(&name, Kind::Chunk).await?;
                    let want = if i + 1 == n { total - cs * (n as u64 - 1) } else { cs };
                    if bytes.len() as u64 != want {
                        return Err(Error::integrity(
                            crate::object::object_path(&name).to_string(),
                            "chunk has the wrong length",
                        ));
                    }
                    let at = cs * i as u64;
                    let from = start.saturating_sub(at) as usize;
                    let to = ((end - at) as usize).min(bytes.len());
                    Ok(bytes.slice(from..to))
                }
            })
            .buffered(IN_FLIGHT)
            .boxed())
    }

    /// Streams a content's bytes; each chunk is checked against its name before it is
    /// yielded, so no unverified byte leaves this function.
    pub fn read_content(&self, manifest: Manifest) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let objects = self.clone();
        let last = manifest.chunks.len().saturating_sub(1);
        let chunk_size = manifest.chunk_size;
        let total = manifest.size;
        futures::stream::iter(manifest.chunks.into_iter().enumerate())
            .map(move |(i, name)| {
                let objects = objects.clone();
                async move {
                    let bytes = objects.get(&name, Kind::Chunk).await?;
                    let want = if i == last { total - chunk_size * last as u64 } else { chunk_size };
                    if bytes.len() as u64 != want {
                        return Err(Error::integrity(
                            crate::object::object_path(&name).to_string(),
                            "chunk has the wrong length",
                        ));
                    }
                    Ok(bytes)
                }
            })
            .buffered(IN_FLIGHT)
    }
}

/// Parses and checks a manifest's payload.
pub fn parse_manifest(name: &Name, bytes: &[u8]) -> Result<Manifest> {
    let m: Manifest = serde_json::from_slice(bytes).map_err(|e| {
        Error::integrity(crate::object::object_path(name).to_string(), format!("manifest is not readable: {e}"))
    })?;
    if m.v != 1 {
        return Err(Error::Format(format!("Content manifest version {} is not supported", m.v)));
    }
    let expected_chunks = if m.size == 0 { 0 } else { m.size.div_ceil(m.chunk_size.max(1)) };
    if m.chunk_size == 0 || m.chunk_size > MAX_CHUNK_SIZE as u64 || m.chunks.len() as u64 != expected_chunks {
        return Err(Error::integrity(
            crate::object::object_path(name).to_string(),
            "manifest chunk list does not fit its size",
        ));
    }
    Ok(m)
}
