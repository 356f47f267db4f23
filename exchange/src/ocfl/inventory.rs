//! The OCFL inventory: written in a fixed order (so that equal objects give equal bytes)
//! and read with every rule an import relies on checked.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize, ser::SerializeMap};

use crate::{Error, Result, names::split_relative};

/// The inventory type of OCFL 1.1.
pub const INVENTORY_TYPE: &str = "https://ocfl.io/1.1/spec/#inventory";
/// The digest algorithm we write and read.
pub const DIGEST_ALGORITHM: &str = "sha512";
/// The content directory (the default; we write none other).
pub const CONTENT_DIRECTORY: &str = "content";

/// Who made a version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Name.
    pub name: String,
    /// A URI for the agent, when one is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// One version block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// When (RFC 3339).
    pub created: String,
    /// What changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Digest → logical paths.
    pub state: BTreeMap<String, Vec<String>>,
}

/// An inventory. `versions[0]` is `v1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Inventory {
    /// The object id.
    pub id: String,
    /// Digest → content paths.
    pub manifest: BTreeMap<String, Vec<String>>,
    /// The versions, oldest first.
    pub versions: Vec<Version>,
    /// Version directory names as the inventory spells them (`v1` or `v001` …).
    pub names: Vec<String>,
    /// The content directory inside each version directory.
    pub content_directory: String,
}

struct Versions<'a>(&'a Inventory);

impl Serialize for Versions<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.versions.len()))?;
        for (name, v) in self.0.names.iter().zip(&self.0.versions) {
            m.serialize_entry(name, v)?;
        }
        m.end()
    }
}

impl Serialize for Inventory {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("type", INVENTORY_TYPE)?;
        m.serialize_entry("digestAlgorithm", DIGEST_ALGORITHM)?;
        m.serialize_entry("head", self.names.last().map(String::as_str).unwrap_or("v0"))?;
        if self.content_directory != CONTENT_DIRECTORY {
            m.serialize_entry("contentDirectory", &self.content_directory)?;
        }
        m.serialize_entry("manifest", &self.manifest)?;
        m.serialize_entry("versions", &Versions(self))?;
        m.end()
    }
}

#[derive(Deserialize)]
struct Raw {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "digestAlgorithm")]
    digest_algorithm: String,
    head: String,
    #[serde(rename = "contentDirectory", default)]
    content_directory: Option<String>,
    manifest: BTreeMap<String, Vec<String>>,
    versions: BTreeMap<String, Version>,
}

impl Inventory {
    /// A new inventory without versions.
    pub fn new(id: String) -> Self {
        Inventory {
            id,
            manifest: BTreeMap::new(),
            versions: Vec::new(),
            names: Vec::new(),
            content_directory: CONTENT_DIRECTORY.into(),
        }
    }

    /// The inventory's bytes: pretty JSON in a fixed key order, final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("inventory serializes");
        out.push(b'\n');
        out
    }

    /// The head version's name.
    pub fn head(&self) -> &str {
        self.names.last().map(String::as_str).unwrap_or("v0")
    }

    /// Reads and checks an inventory (`shown` names it in errors): type, digest
    /// algorithm, versions `v1…vN` without gaps and `head` the last, digests in hex,
    /// content paths inside a version's content directory and used once, every state
    /// digest in the manifest, logical paths safe and no path a directory of another.
    pub fn parse(bytes: &[u8], shown: &str) -> Result<Inventory> {
        let bad = |reason: String| Error::invalid(shown, reason);
        let raw: Raw = serde_json::from_slice(bytes)
            .map_err(|e| bad(format!("is not a readable inventory: {}", crate::foreign(e))))?;
        if raw.kind != INVENTORY_TYPE {
            return Err(bad(format!("has type {:?}; this build reads {INVENTORY_TYPE}", raw.kind)));
        }
        if raw.digest_algorithm != DIGEST_ALGORITHM {
            return Err(bad(format!("uses {}; this build reads sha512 objects", raw.digest_algorithm)));
        }
        let content_directory = raw.content_directory.unwrap_or_else(|| CONTENT_DIRECTORY.into());
        if content_directory.is_empty()
            || content_directory.contains('/')
            || matches!(content_directory.as_str(), "." | "..")
        {
            return Err(bad(format!("has the content directory {content_directory:?}")));
        }

        // Versions: v1…vN, all padded alike or none.
        let mut numbered: Vec<(u32, String, Version)> = Vec::new();
        for (name, v) in raw.versions {
            let digits = name.strip_prefix('v').unwrap_or_default();
            let n: u32 = match digits.parse() {
                Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => n,
                _ => return Err(bad(format!("has a version named {name:?}"))),
            };
            numbered.push((n, name, v));
        }
        numbered.sort_by_key(|(n, _, _)| *n);
        if numbered.is_empty() || numbered.iter().enumerate().any(|(i, (n, _, _))| *n != i as u32 + 1) {
            return Err(bad("does not have versions v1 … vN without gaps".into()));
        }
        let padded = numbered[0].1.starts_with("v0");
        let width = numbered[0].1.len();
        if numbered.iter().any(|(_, name, _)| padded && name.len() != width || !padded && name.starts_with("v0")) {
            return Err(bad("mixes padded and unpadded version names".into()));
        }
        let names: Vec<String> = numbered.iter().map(|(_, n, _)| n.clone()).collect();
        if raw.head != *names.last().expect("one version at least") {
            return Err(bad(format!("names head {} but its last version is {}", raw.head, names.last().unwrap())));
        }

        // Manifest: digests in hex, each once; content paths in a version's content
        // directory, each once.
        let mut manifest = BTreeMap::new();
        let mut content_paths = HashSet::new();
        for (digest, paths) in raw.manifest {
            let d = digest.to_ascii_lowercase();
            if d.len() != 128 || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad(format!("has a manifest digest that is not SHA-512: {digest}")));
            }
            if paths.is_empty() {
                return Err(bad(format!("lists no content for {digest}")));
            }
            for p in &paths {
                let parts = split_relative(p)?;
                if parts.len() < 3 || !names.iter().any(|n| n == parts[0]) || parts[1] != content_directory {
                    return Err(bad(format!("has the content path {p} outside every version's content directory")));
                }
                if !content_paths.insert(p.clone()) {
                    return Err(bad(format!("lists the content path {p} twice")));
                }
            }
            if manifest.insert(d, paths).is_some() {
                return Err(bad(format!("lists the digest {digest} twice")));
            }
        }
        let mut versions = Vec::new();
        for (_, name, mut v) in numbered {
            let mut state = BTreeMap::new();
            let mut logical: BTreeSet<String> = BTreeSet::new();
            for (digest, paths) in v.state {
                let d = digest.to_ascii_lowercase();
                if !manifest.contains_key(&d) {
                    return Err(bad(format!("{name} names the digest {digest}, which is not in the manifest")));
                }
                for p in &paths {
                    split_relative(p)?;
                    if !logical.insert(p.clone()) {
                        return Err(bad(format!("{name} lists the logical path {p} twice")));
                    }
                }
                state.insert(d, paths);
            }
            // No logical path may be a directory of another.
            for p in &logical {
                let dir = format!("{p}/");
                if logical.range(dir.clone()..).next().is_some_and(|q| q.starts_with(&dir)) {
                    return Err(bad(format!("{name} has {p} both as a file and as a directory")));
                }
            }
            v.state = state;
            versions.push(v);
        }
        Ok(Inventory { id: raw.id, manifest, versions, names, content_directory })
    }
}
