//! The journal: one append-only stream of encrypted entries per node, at
//! `journal/<node>/<seq>`. Each entry carries its predecessor's MAC, a hybrid-logical-clock
//! timestamp and the heads of other streams its node has seen.

use std::collections::BTreeMap;

use object_store::path::Path;
use serde::{Deserialize, Serialize};

use crate::{
    Error, Result,
    hlc::Hlc,
    keys::RepoKey,
    model::ObjKind,
    object::{Kind, Name, frame, unframe},
};

/// A node id: 32 lowercase hex digits, random at node creation.
pub type NodeId = String;

/// The store path of entry `seq` of `node`'s stream.
pub fn entry_path(node: &str, seq: u64) -> Path {
    Path::from(format!("journal/{node}/{seq:016x}"))
}

/// Where a stream stands: its last sequence number and that entry's MAC.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Last sequence number (entries count from 1; 0 means empty).
    pub seq: u64,
    /// MAC of that entry (hex), empty for an empty stream.
    pub mac: String,
}

/// One change in an entry. Values live in the referenced record, so that personal data
/// can be deleted while the entry (and the chain) stays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    /// A new object with its first fields.
    Create {
        /// What kind of object.
        kind: ObjKind,
        /// Its id.
        id: uuid::Uuid,
        /// The containing object (Akte, Vorgang, Dokument, Aktenplan node), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent: Option<uuid::Uuid>,
        /// The record object with the fields.
        record: Name,
        /// For versions: the content manifest object.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Name>,
    },
    /// Changed fields of an existing object.
    Update {
        /// The object.
        id: uuid::Uuid,
        /// The record object with the changed fields.
        record: Name,
    },
    /// Derived data (extracted text, OCR, an enricher's suggestion) for a content, made by
    /// one producer (a plugin at one version, or the OCR engine). Entry version 2.
    Derive {
        /// The content root the result was derived from.
        content: Name,
        /// Who made it: `extract:<plugin>@<version>+<digest>`, `ocr:…`, `enrich:…`.
        producer: String,
        /// The content root of the result (a JSON document, see FORMAT.md).
        result: Name,
    },
    /// Someone read an object (metadata, content, text or history). Entry version 3.
    /// Reads are recorded in batches, so one entry holds the reads of many callers.
    Read {
        /// The object read.
        id: uuid::Uuid,
        /// Who read it (`user:…`, `token:…`).
        actor: String,
        /// What was read: `metadata`, `content`, `text` or `history`.
        action: String,
    },
    /// An object and everything below it are deleted (after retention, or handed over to
    /// an archive). The merge treats the object's ops as if they had never been written,
    /// so its records and contents may then be erased from the store; the record of this
    /// op is the evidence that stays (Aktenzeichen, basis, counts). Entry version 4.
    Delete {
        /// The deleted object (an Akte).
        id: uuid::Uuid,
        /// The evidence record.
        record: Name,
    },
}

impl Op {
    /// The record this op references, if it has one.
    pub fn record(&self) -> Option<&Name> {
        match self {
            Op::Create { record, .. } | Op::Update { record, .. } | Op::Delete { record, .. } => Some(record),
            Op::Derive { .. } | Op::Read { .. } => None,
        }
    }

    /// The lowest entry version that can hold this op.
    pub fn min_version(&self) -> u32 {
        match self {
            Op::Delete { .. } => 4,
            Op::Create { kind: ObjKind::Account | ObjKind::Token, .. } | Op::Read { .. } => 3,
            Op::Create { kind: ObjKind::Plugin, .. } | Op::Derive { .. } => 2,
            _ => 1,
        }
    }
}

/// The newest entry version this build reads and writes. Writers use the lowest version
/// that can hold an entry's ops, so repositories without plugins stay readable by builds
/// that only know version 1.
pub const ENTRY_VERSION: u32 = 4;

/// A journal entry (the JSON inside the encrypted object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Entry version.
    pub v: u32,
    /// The repository this entry belongs to.
    pub repository: uuid::Uuid,
    /// The writing node.
    pub node: NodeId,
    /// Position in the node's stream, from 1.
    pub seq: u64,
    /// MAC of entry `seq - 1` (hex); `None` for the first.
    pub prev: Option<String>,
    /// When, in HLC time.
    pub hlc: Hlc,
    /// Who (user, token or `operator@host`).
    pub actor: String,
    /// Heads of the other streams the node had seen when it wrote this entry.
    #[serde(default)]
    pub seen: BTreeMap<NodeId, Head>,
    /// The changes.
    pub ops: Vec<Op>,
    /// The packs this entry commits, with their members (entry version 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<crate::pack::PackRef>,
}

impl Entry {
    /// The lowest entry version that can hold this entry.
    pub fn min_version(&self) -> u32 {
        let ops = self.ops.iter().map(Op::min_version).max().unwrap_or(1);
        if self.packs.is_empty() { ops } else { ops.max(2) }
    }
}

/// Encrypts an entry; returns the ciphertext and the entry's MAC (hex).
pub fn seal(key: &RepoKey, entry: &Entry) -> Result<(Vec<u8>, String)> {
    let body = frame(Kind::Entry, &serde_json::to_vec(entry).expect("entry serializes"));
    let mac = key.journal_mac(&body);
    let mut plain = body;
    plain.extend_from_slice(mac.as_bytes());
    Ok((key.encrypt(&plain)?, mac.to_hex().to_string()))
}

/// Decrypts and checks an entry found at `journal/<node>/<seq>`: MAC, framing, and that
/// it claims the position it was found at. Returns the entry and its MAC.
pub fn open(key: &RepoKey, node: &str, seq: u64, ciphertext: &[u8]) -> Result<(Entry, String)> {
    let label = entry_path(node, seq).to_string();
    let plain = key.decrypt(&label, ciphertext)?;
    if plain.len() < 32 {
        return Err(Error::integrity(label, "entry is too short"));
    }
    let (body, mac) = plain.split_at(plain.len() - 32);
    let expect = key.journal_mac(body);
    if expect.as_bytes() != mac {
        return Err(Error::integrity(label, "entry MAC does not verify (tampered)"));
    }
    let (kind, json) = unframe(&label, body)?;
    if kind != Kind::Entry {
        return Err(Error::integrity(label, "object is not a journal entry"));
    }
    // The version first, so that an entry from a newer build is reported as such and not
    // as damage.
    #[derive(Deserialize)]
    struct Versioned {
        v: u32,
    }
    let v = serde_json::from_slice::<Versioned>(json)
        .map_err(|e| Error::integrity(&label, format!("entry is not readable: {e}")))?
        .v;
    if v == 0 || v > ENTRY_VERSION {
        return Err(Error::Format(format!("The entry {label} has version {v}; this build reads 1 to {ENTRY_VERSION}")));
    }
    let entry: Entry =
        serde_json::from_slice(json).map_err(|e| Error::integrity(&label, format!("entry is not readable: {e}")))?;
    if entry.min_version() > entry.v {
        return Err(Error::integrity(&label, format!("entry version {} cannot hold its ops or packs", entry.v)));
    }
    if entry.node != node || entry.seq != seq {
        return Err(Error::integrity(
            label,
            format!("entry claims to be {} (moved or swapped)", entry_path(&entry.node, entry.seq)),
        ));
    }
    Ok((entry, expect.to_hex().to_string()))
}

/// Parses `journal/<node>/<seq>` into its parts.
pub fn parse_entry_path(path: &str) -> Option<(NodeId, u64)> {
    let rest = path.strip_prefix("journal/")?;
    let (node, seq) = rest.split_once('/')?;
    if node.len() != 32 || !node.bytes().all(|b| b.is_ascii_hexdigit()) || seq.len() != 16 {
        return None;
    }
    Some((node.to_string(), u64::from_str_radix(seq, 16).ok()?))
}
