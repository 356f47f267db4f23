//! Document content: split into fixed-size chunks, each its own encrypted object, tied
//! together by a manifest object. Streams in and out with memory bounded by
//! `chunk size × in-flight chunks`, whatever the document's size.

use std::collections::VecDeque;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::{
    Error, Result,
    object::{Kind, Name, Objects},
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

/// What storing a content returns.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContentRef {
    /// The manifest object's name.
    pub manifest: Name,
    /// Content length in bytes.
    pub size: u64,
    /// Unkeyed BLAKE3 (hex).
    pub blake3: String,
    /// SHA-256 (hex).
    pub sha256: String,
}

/// Reads until `buf` is full or the reader ends; returns how many bytes were read.
async fn fill<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let got = reader.read(&mut buf[n..]).await?;
        if got == 0 {
            break;
        }
        n += got;
    }
    Ok(n)
}

impl Objects {
    /// Stores a content of any size from `reader`; `progress` is called with bytes read so far.
    pub async fn put_content<R: AsyncRead + Unpin>(
        &self,
        reader: &mut R,
        chunk_size: usize,
        mut progress: impl FnMut(u64),
    ) -> Result<ContentRef> {
        assert!(chunk_size > 0 && chunk_size <= MAX_CHUNK_SIZE, "chunk size out of range");
        let mut hashers = Some((sha2::Sha256::new(), blake3::Hasher::new()));
        let mut pending: VecDeque<tokio::task::JoinHandle<Result<Name>>> = VecDeque::new();
        let mut chunks = Vec::new();
        let mut size = 0u64;
        loop {
            let mut buf = vec![0u8; chunk_size];
            let n = fill(reader, &mut buf).await.map_err(|e| Error::io("<input>", e))?;
            if n == 0 {
                break;
            }
            buf.truncate(n);
            size += n as u64;
            let buf = Bytes::from(buf);
            let (mut sha, mut b3) = hashers.take().expect("hashers present");
            let for_hash = buf.clone();
            hashers = Some(
                tokio::task::spawn_blocking(move || {
                    sha.update(&for_hash);
                    b3.update(&for_hash);
                    (sha, b3)
                })
                .await
                .expect("hash task does not panic"),
            );
            while pending.len() >= IN_FLIGHT {
                chunks.push(pending.pop_front().expect("non-empty").await.expect("chunk task does not panic")?);
            }
            let objects = self.clone();
            pending.push_back(tokio::spawn(async move { objects.put(Kind::Chunk, buf.to_vec()).await }));
            progress(size);
            if n < chunk_size {
                break;
            }
        }
        for task in pending {
            chunks.push(task.await.expect("chunk task does not panic")?);
        }
        let (sha, b3) = hashers.expect("hashers present");
        let manifest = Manifest {
            v: 1,
            size,
            blake3: b3.finalize().to_hex().to_string(),
            sha256: hex::encode(sha.finalize()),
            chunk_size: chunk_size as u64,
            chunks,
        };
        let name = self.put(Kind::Manifest, serde_json::to_vec(&manifest).expect("manifest serializes")).await?;
        Ok(ContentRef { manifest: name, size, blake3: manifest.blake3, sha256: manifest.sha256 })
    }

    /// Reads and checks a manifest.
    pub async fn manifest(&self, name: &str) -> Result<Manifest> {
        let bytes = self.get(name, Kind::Manifest).await?;
        let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
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
