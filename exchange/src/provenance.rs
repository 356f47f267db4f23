//! Provenance: what an import keeps of an Akte's past so that exporting it again gives the
//! same history (and, for OCFL, the same versions).
//!
//! The repository records the import itself as one journal entry that creates every
//! object. The history the package brought is stored beside it as one JSON content per
//! Akte, recorded by a `derive` op of the producer `akte-exchange:provenance:<akte id>`
//! in the same commit. (The store has no op for provenance yet; a derived result is the
//! nearest thing it has: content-addressed, encrypted, deletable with personal data.)

use std::collections::BTreeMap;

use akte_store::{Change, Repository, catalog::Catalog, object::Objects};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{Error, Result, ocfl::inventory::Version};

/// Version of the provenance document.
pub const PROVENANCE_VERSION: u32 = 1;
/// The largest provenance document an export reads.
const LIMIT: usize = 1 << 30;

/// The producer name under which the provenance of one Akte is recorded.
pub fn producer(akte: Uuid) -> String {
    format!("akte-exchange:provenance:{akte}")
}

/// What an import kept of one Akte's past.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// [`PROVENANCE_VERSION`].
    pub v: u32,
    /// The Akte.
    pub akte: Uuid,
    /// `bagit` or `ocfl`.
    pub format: String,
    /// The source as the package named it (BagIt `External-Identifier`, OCFL object id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The history of every object as the package had it, by id.
    pub history: BTreeMap<Uuid, Vec<Value>>,
    /// For an OCFL import: the object's versions, so that an OCFL export repeats them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocfl: Option<OcflPast>,
}

/// The versions of an imported OCFL object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OcflPast {
    /// `v1` … `vN` as the inventory had them (created, message, user, state).
    pub versions: Vec<Version>,
    /// SHA-512 → text of every metadata file any version holds.
    pub files: BTreeMap<String, String>,
    /// Version object → SHA-512 of its content (every version of the head state).
    pub documents: BTreeMap<Uuid, String>,
}

impl Provenance {
    /// Stores the document and returns the change that records it (commit it with the
    /// import).
    pub async fn store(&self, objects: &Objects, chunk_size: usize) -> Result<Change> {
        let bytes = serde_json::to_vec(self).expect("provenance serializes");
        let chunks = bytes.chunks(chunk_size).map(|c| Ok(bytes::Bytes::copy_from_slice(c))).collect::<Vec<_>>();
        let result = objects.put_chunks(futures::stream::iter(chunks), chunk_size, |_| {}).await?;
        Ok(Change::Derive { content: result.root, producer: producer(self.akte), result })
    }

    /// Reads the provenance recorded for an Akte, if it was imported.
    pub async fn load(repo: &Repository, catalog: &Catalog, akte: Uuid) -> Result<Option<Provenance>> {
        let wanted = producer(akte);
        let Some(root) = catalog.state.derived.values().find_map(|m| m.get(&wanted)) else {
            return Ok(None);
        };
        let bytes = repo.read_bytes(root, LIMIT).await?;
        let p: Provenance = serde_json::from_slice(&bytes)
            .map_err(|e| Error::invalid(format!("provenance of Akte {akte}"), crate::foreign(e)))?;
        if p.v != PROVENANCE_VERSION || p.akte != akte {
            return Err(Error::invalid(
                format!("provenance of Akte {akte}"),
                format!("has version {} for Akte {}; this build reads version {PROVENANCE_VERSION}", p.v, p.akte),
            ));
        }
        Ok(Some(p))
    }
}
