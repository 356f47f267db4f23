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
/// length as a 4-byte little-endian integer, then the member.
pub fn encode(members: &[(Name, Bytes)]) -> Vec<u8> {
    let len = members.iter().map(|(_, m)| 4 + m.len()).sum();
    let mut out = Vec::with_capacity(len);
    for (_, m) in members {
        out.extend_from_slice(&(m.len() as u32).to_le_bytes());
        out.extend_from_slice(m);
    }
    out
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
        let name = key.name(member).to_hex().to_string();
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

/// Members waiting for their pack, and packs written but not yet committed.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) members: Vec<(Name, Bytes)>,
    pub(crate) bytes: usize,
    pub(crate) written: Vec<PackRef>,
    /// Names of all members above, waiting or written.
    pub(crate) names: std::collections::HashSet<Name>,
}
