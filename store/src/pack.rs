//! Packs: many small objects (records, small contents, derived results) in one stored
//! object, so that a batch of small documents costs one encryption and one write instead
//! of three per document.
//!
//! A member keeps the name it would have as an object of its own (the keyed BLAKE3 of its
//! framed plaintext), so every reference stays a plain name; the journal entry that commits
//! a pack lists its members, and readers map member names to packs from the journal. On
//! every read the member's name is re-derived from its plaintext, as for any object.

use std::collections::HashMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::{
    Error, Result,
    keys::RepoKey,
    object::{Kind, Name, unframe},
};

/// A content of one chunk up to this size goes into a pack rather than an object of its own.
pub const PACK_MEMBER_MAX: usize = 512 << 10;
/// A pack is written once its members reach this size.
pub const PACK_TARGET: usize = 8 << 20;

/// A pack committed by a journal entry, with the names of its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackRef {
    /// The pack object's name.
    pub pack: Name,
    /// The members' names, in the order they are stored.
    pub members: Vec<Name>,
}

/// Encodes members (each a framed plaintext) into a pack payload: for each member its
/// length as a 4-byte little-endian integer, then the member. The payload is returned as
/// parts to be hashed and encrypted one after the other (`Objects::put_parts`), so that it
/// is never copied together: the lengths share one buffer, the members are the callers'.
pub fn encode(members: Vec<(Name, Bytes)>) -> Vec<Bytes> {
    let mut lens = Vec::with_capacity(4 * members.len());
    for (_, m) in &members {
        lens.extend_from_slice(&(m.len() as u32).to_le_bytes());
    }
    let lens = Bytes::from(lens);
    let mut parts = Vec::with_capacity(2 * members.len());
    for (i, (_, m)) in members.into_iter().enumerate() {
        parts.push(lens.slice(4 * i..4 * i + 4));
        parts.push(m);
    }
    parts
}

/// Decodes a pack payload into its members, keyed by the name each one's plaintext
/// yields. `label` names the pack in errors.
pub fn decode(key: &RepoKey, label: &str, payload: &Bytes) -> Result<HashMap<Name, Bytes>> {
    let mut out = HashMap::new();
    let mut at = 0usize;
    while at < payload.len() {
        let Some(len) = payload.get(at..at + 4) else {
            return Err(Error::integrity(label, "pack ends inside a member length"));
        };
        let len = u32::from_le_bytes(len.try_into().expect("four bytes")) as usize;
        let start = at + 4;
        let Some(member) = payload.get(start..start + len) else {
            return Err(Error::integrity(label, "pack ends inside a member"));
        };
        unframe(label, member)?;
        let name = Name::from_hash(key.name(member));
        out.insert(name, payload.slice(start..start + len));
        at = start + len;
    }
    Ok(out)
}

/// Takes a member's framed plaintext apart into kind and payload, checking the kind.
pub fn member(label: &str, framed: &Bytes, expect: Option<Kind>) -> Result<(Kind, Bytes)> {
    let (kind, _) = unframe(label, framed)?;
    if kind == Kind::Pack || kind == Kind::Entry {
        return Err(Error::integrity(label, format!("a pack must not hold a {kind:?}")));
    }
    if let Some(expect) = expect
        && kind != expect
    {
        return Err(Error::integrity(label, format!("is a {kind:?}, expected a {expect:?}")));
    }
    Ok((kind, framed.slice(crate::object::HEADER_LEN..)))
}

/// Resolves once a background pack write has finished (its task drops the sender).
pub(crate) type Writing = futures::future::Shared<tokio::sync::oneshot::Receiver<()>>;

/// Members waiting for their pack, and packs written but not yet committed.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) members: Vec<(Name, Bytes)>,
    pub(crate) bytes: usize,
    pub(crate) written: Vec<PackRef>,
    /// Full packs being encrypted and written in the background, oldest first: each
    /// resolves when its task has put its pack into `written` (or recorded `failed`) and
    /// removed itself from here. Waiting on one never takes it away, so a waiter that
    /// is cancelled loses nothing.
    pub(crate) writing: std::collections::VecDeque<(u64, Writing)>,
    /// The number the next background write gets.
    pub(crate) next_write: u64,
    /// Why a background write failed, until the next `take_packs` reports it.
    pub(crate) failed: Option<String>,
    /// Names of all members above, waiting, being written or written.
    pub(crate) names: std::collections::HashSet<Name>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{frame, header};

    #[test]
    fn encoded_parts_decode_to_the_members() {
        let key = RepoKey::generate();
        let members: Vec<(Name, Bytes)> = [&b"eins"[..], b"", &[7u8; 70_000]]
            .iter()
            .map(|p| {
                let framed = frame(Kind::Chunk, p);
                (Name::from_hash(key.name(&framed)), Bytes::from(framed))
            })
            .collect();
        let parts = encode(members.clone());
        assert_eq!(parts.len(), 2 * members.len());
        let payload = Bytes::from(parts.concat());
        assert_eq!(&payload[..4], &(header(Kind::Chunk).len() as u32 + 4).to_le_bytes());
        let decoded = decode(&key, "pack", &payload).unwrap();
        assert_eq!(decoded.len(), members.len());
        for (name, framed) in &members {
            assert_eq!(decoded.get(name), Some(framed));
        }
        // A payload cut inside a member is refused, not read short.
        let cut = payload.slice(..payload.len() - 1);
        assert!(decode(&key, "pack", &cut).is_err());
    }
}
