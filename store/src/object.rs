//! Objects: the plaintext framing, keyed names, and put/get with integrity checks.
//!
//! Every object's plaintext starts with `AKTE`, the format version and a kind byte. A
//! content-addressed object lives at `objects/<hh>/<name>` where `name` is the keyed BLAKE3
//! of its whole plaintext; on every read the name is recomputed and compared.

use bytes::Bytes;
use object_store::path::Path;

use crate::{Error, Result, backend::Backend, keys::RepoKey};

/// The magic that opens every object plaintext.
pub const MAGIC: &[u8; 4] = b"AKTE";
/// The object framing version.
pub const OBJECT_VERSION: u8 = 1;
/// Length of the framing header.
pub const HEADER_LEN: usize = 6;

/// What an object holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A slice of document content (raw bytes).
    Chunk = 1,
    /// A content manifest (JSON): size, digests, chunk list.
    Manifest = 2,
    /// A record (JSON): the fields of a domain object at one change.
    Record = 3,
    /// A journal entry (JSON followed by a 32-byte MAC).
    Entry = 4,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Chunk,
            2 => Kind::Manifest,
            3 => Kind::Record,
            4 => Kind::Entry,
            _ => return None,
        })
    }
}

/// The name of a content-addressed object (64 lowercase hex digits).
pub type Name = String;

/// The store path of a content-addressed object.
pub fn object_path(name: &str) -> Path {
    Path::from(format!("objects/{}/{}", &name[..2], name))
}

/// The framing header of an object of `kind`.
pub fn header(kind: Kind) -> [u8; HEADER_LEN] {
    [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], OBJECT_VERSION, kind as u8]
}

/// Frames a payload: `AKTE | version | kind | payload`.
pub fn frame(kind: Kind, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER_LEN + payload.len());
    v.extend_from_slice(&header(kind));
    v.extend_from_slice(payload);
    v
}

/// Checks the framing and returns the kind and payload.
pub fn unframe<'a>(object: &str, plain: &'a [u8]) -> Result<(Kind, &'a [u8])> {
    if plain.len() < HEADER_LEN || &plain[..4] != MAGIC {
        return Err(Error::integrity(object, "plaintext does not start with the Akte object header"));
    }
    if plain[4] != OBJECT_VERSION {
        return Err(Error::Format(format!(
            "The object {object} has version {}; this build reads {OBJECT_VERSION}",
            plain[4]
        )));
    }
    let kind = Kind::from_byte(plain[5])
        .ok_or_else(|| Error::integrity(object, format!("unknown object kind {}", plain[5])))?;
    Ok((kind, &plain[HEADER_LEN..]))
}

/// Reads and writes content-addressed objects of one repository.
#[derive(Clone, Debug)]
pub struct Objects {
    pub(crate) backend: Backend,
    pub(crate) key: std::sync::Arc<RepoKey>,
}

impl Objects {
    /// Names, encrypts and stores a framed plaintext unless an object of that name exists.
    /// Returns the name. CPU work runs on the blocking pool.
    pub async fn put(&self, kind: Kind, payload: impl AsRef<[u8]> + Send + 'static) -> Result<Name> {
        let key = self.key.clone();
        let (name, ciphertext) = tokio::task::spawn_blocking(move || -> Result<(Name, Vec<u8>)> {
            // Header and payload are hashed and encrypted as two parts: no framed copy.
            let header = header(kind);
            let payload = payload.as_ref();
            let name = key.name_hasher().update(&header).update(payload).finalize().to_hex().to_string();
            Ok((name, key.encrypt_parts(&[&header, payload])?))
        })
        .await
        .expect("encryption task does not panic")?;
        let path = object_path(&name);
        // Identical content is stored once. A crashed writer never leaves a partial object
        // under its final name (object_store writes are atomic), so existence is enough.
        if !self.backend.exists(&path).await? {
            self.backend.put(&path, ciphertext).await?;
        }
        Ok(name)
    }

    /// Fetches, decrypts and checks an object; returns its payload. A missing object,
    /// a wrong kind or a name mismatch is an integrity error.
    pub async fn get(&self, name: &str, expect: Kind) -> Result<Bytes> {
        self.fetch(name, Some(expect)).await.map(|(_, payload)| payload)
    }

    /// Like [`Objects::get`] for an object of any kind; returns kind and payload.
    pub async fn get_any(&self, name: &str) -> Result<(Kind, Bytes)> {
        self.fetch(name, None).await
    }

    async fn fetch(&self, name: &str, expect: Option<Kind>) -> Result<(Kind, Bytes)> {
        if name.len() != 64 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::integrity(name, "is not a valid object name"));
        }
        let path = object_path(name);
        let ciphertext =
            self.backend.get(&path).await?.ok_or_else(|| Error::integrity(path.to_string(), "object is missing"))?;
        let key = self.key.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || open_object(&key, &name, &ciphertext, expect))
            .await
            .expect("decryption task does not panic")
    }
}

/// Decrypts a content-addressed object, checks framing and name, returns kind and payload.
pub fn open_object(key: &RepoKey, name: &str, ciphertext: &[u8], expect: Option<Kind>) -> Result<(Kind, Bytes)> {
    let label = object_path(name).to_string();
    let plain = key.decrypt(&label, ciphertext)?;
    let (kind, _) = unframe(&label, &plain)?;
    if key.name(&plain).to_hex().as_str() != name {
        return Err(Error::integrity(label, "content does not match its name (tampered or swapped)"));
    }
    if let Some(expect) = expect
        && kind != expect
    {
        return Err(Error::integrity(label, format!("is a {kind:?}, expected a {expect:?}")));
    }
    let mut bytes = Bytes::from(plain);
    Ok((kind, bytes.split_off(HEADER_LEN)))
}
