//! Reading an OCFL storage root: every object checked (declaration, inventory against its
//! sidecar, version inventories, every content file against the manifest, nothing
//! missing and nothing extra), its head version read as an Akte directory, its versions
//! kept as provenance.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    path::Path,
};

use akte_store::Repository;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    INVENTORY, LAYOUT, OBJECT_DECLARATION, ROOT_DECLARATION, SIDECAR, hashed_path, inventory::Inventory, object_id,
};
use crate::{
    Error, Format, Report, Result,
    files::{Algs, Entry, check_package_dir, hash_file, read_limited, sha512_hex, walk},
    import::{ContentFile, Expect, Gate, Held, Incoming, Shared, Ungated, commit_all},
    meta::{self, AKTE_FILE, DOKUMENT_FILE, META_LIMIT, VORGANG_FILE},
    names::join,
    provenance::{OcflPast, PROVENANCE_VERSION, Provenance},
};

/// The largest inventory an import reads.
const INVENTORY_LIMIT: u64 = 256 << 20;

#[derive(Deserialize)]
struct LayoutFile {
    extension: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Config0003 {
    extension_name: String,
    #[serde(default = "sha256")]
    digest_algorithm: String,
    #[serde(default = "three")]
    tuple_size: usize,
    #[serde(default = "three")]
    number_of_tuples: usize,
}

fn sha256() -> String {
    "sha256".into()
}

fn three() -> usize {
    3
}

/// Reads a declaration file and checks its content.
fn check_declaration(dir: &Path, shown: &str, (name, content): (&str, &str)) -> Result<()> {
    let path = format!("{shown}{name}");
    let bytes = read_limited(&dir.join(name), &path, 64).map_err(|e| match e {
        Error::Integrity { .. } => Error::invalid(&path, "is missing"),
        e => e,
    })?;
    if bytes != content.as_bytes() {
        return Err(Error::invalid(path, format!("does not hold {content:?}")));
    }
    Ok(())
}

/// Where the storage root's layout puts an object, when it uses one we know.
fn layout_of(root: &Path) -> Result<Option<(usize, usize)>> {
    let file = root.join("ocfl_layout.json");
    if std::fs::symlink_metadata(&file).is_err() {
        return Ok(None);
    }
    let layout: LayoutFile = serde_json::from_slice(&read_limited(&file, "ocfl_layout.json", 1 << 20)?)
        .map_err(|e| Error::invalid("ocfl_layout.json", crate::foreign(e)))?;
    if layout.extension != LAYOUT {
        return Ok(None);
    }
    let shown = format!("extensions/{LAYOUT}/config.json");
    let config = root.join("extensions").join(LAYOUT).join("config.json");
    let config: Config0003 = match std::fs::symlink_metadata(&config) {
        Ok(_) => serde_json::from_slice(&read_limited(&config, &shown, 1 << 20)?)
            .map_err(|e| Error::invalid(&shown, crate::foreign(e)))?,
        Err(_) => {
            Config0003 { extension_name: LAYOUT.into(), digest_algorithm: sha256(), tuple_size: 3, number_of_tuples: 3 }
        }
    };
    if config.extension_name != LAYOUT
        || config.digest_algorithm != "sha256"
        || config.tuple_size == 0
        || config.tuple_size * config.number_of_tuples > 64
    {
        return Err(Error::invalid(shown, "is a configuration of 0003 this build cannot follow"));
    }
    Ok(Some((config.tuple_size, config.number_of_tuples)))
}

/// Reads and checks an inventory and its sidecar in `dir` (`shown` is its path).
fn read_inventory(dir: &Path, shown: &str) -> Result<(Vec<u8>, Inventory)> {
    let inv_shown = format!("{shown}{INVENTORY}");
    let side_shown = format!("{shown}{SIDECAR}");
    let bytes = read_limited(&dir.join(INVENTORY), &inv_shown, INVENTORY_LIMIT)?;
    let sidecar = read_limited(&dir.join(SIDECAR), &side_shown, 1024)?;
    let sidecar = String::from_utf8(sidecar).map_err(|_| Error::invalid(&side_shown, "is not UTF-8"))?;
    let mut words = sidecar.lines().next().unwrap_or_default().split_whitespace();
    let (Some(digest), Some(INVENTORY), None) = (words.next(), words.next(), words.next()) else {
        return Err(Error::invalid(side_shown, "is not `<sha512> inventory.json`"));
    };
    let actual = sha512_hex(&bytes);
    if !digest.eq_ignore_ascii_case(&actual) {
        return Err(Error::integrity(
            inv_shown,
            format!("its SHA-512 is {actual}, but {SIDECAR} says {digest} (truncated or altered)"),
        ));
    }
    let inventory = Inventory::parse(&bytes, &inv_shown)?;
    Ok((bytes, inventory))
}

/// Checks one object and reads its head version as an Akte.
async fn read_object(
    root: &Path,
    rel: &str,
    files: &BTreeSet<String>,
    layout: Option<(usize, usize)>,
) -> Result<Incoming> {
    let dir = join(root, rel)?;
    let shown = format!("{rel}/");
    check_declaration(&dir, &shown, OBJECT_DECLARATION)?;
    let (root_bytes, inv) = read_inventory(&dir, &shown)?;
    let akte = inv
        .id
        .strip_prefix("urn:uuid:")
        .and_then(|u| u.parse::<Uuid>().ok())
        .filter(|u| object_id(*u) == inv.id)
        .ok_or_else(|| {
            Error::invalid(
                format!("{shown}{INVENTORY}"),
                format!("names the object {:?}, not urn:uuid:<Akte id>", inv.id),
            )
        })?;
    if let Some((size, n)) = layout
        && hashed_path(&inv.id, size, n) != rel
    {
        return Err(Error::invalid(
            rel,
            format!("holds {} where the storage layout puts {}", inv.id, hashed_path(&inv.id, size, n)),
        ));
    }

    // Everything in the object is accounted for.
    let names: HashSet<&str> = inv.names.iter().map(String::as_str).collect();
    let content_paths: HashMap<&str, &str> =
        inv.manifest.iter().flat_map(|(d, ps)| ps.iter().map(move |p| (p.as_str(), d.as_str()))).collect();
    let mut version_inventories = BTreeSet::new();
    for f in files {
        let mut parts = f.splitn(3, '/');
        let (first, second, rest) = (parts.next().unwrap_or_default(), parts.next(), parts.next());
        let ok = match (first, second, rest) {
            (OBJECT_DECLARATION_NAME | INVENTORY | SIDECAR, None, None) => true,
            ("extensions" | "logs", Some(_), _) => true,
            (v, Some(INVENTORY | SIDECAR), None) if names.contains(v) => {
                version_inventories.insert(v.to_string());
                true
            }
            (v, Some(c), Some(_)) if names.contains(v) && c == inv.content_directory => {
                if !content_paths.contains_key(f.as_str()) {
                    return Err(Error::integrity(format!("{shown}{f}"), "is in the object but not in its manifest"));
                }
                true
            }
            _ => false,
        };
        if !ok {
            return Err(Error::invalid(format!("{shown}{f}"), "does not belong in an OCFL object"));
        }
    }
    if let Some(p) = content_paths.keys().find(|p| !files.contains(**p)) {
        return Err(Error::integrity(format!("{shown}{p}"), "is in the manifest but missing"));
    }

    // Version inventories: each consistent with the root; the head's identical to it.
    for (i, name) in inv.names.iter().enumerate() {
        if !version_inventories.contains(name) {
            if i + 1 == inv.names.len() {
                return Err(Error::invalid(
                    format!("{shown}{name}/{INVENTORY}"),
                    "is missing (the head version needs it)",
                ));
            }
            continue;
        }
        let (bytes, v) = read_inventory(&dir.join(name), &format!("{shown}{name}/"))?;
        let consistent = v.id == inv.id
            && v.names[..] == inv.names[..=i]
            && v.versions[..] == inv.versions[..=i]
            && v.manifest.iter().all(|(d, ps)| inv.manifest.get(d).is_some_and(|rp| ps.iter().all(|p| rp.contains(p))));
        if !consistent {
            return Err(Error::invalid(format!("{shown}{name}/{INVENTORY}"), "disagrees with the object's inventory"));
        }
        if i + 1 == inv.names.len() && bytes != root_bytes {
            return Err(Error::invalid(format!("{shown}{name}/{INVENTORY}"), "differs from the object's inventory"));
        }
    }

    // The head state is the Akte directory.
    let head = inv.versions.last().expect("at least one version");
    let mut logical: BTreeMap<String, String> = BTreeMap::new();
    for (d, paths) in &head.state {
        for p in paths {
            logical.insert(p.clone(), d.clone());
        }
    }
    let content_of = |digest: &str| -> String { inv.manifest[digest][0].clone() };
    let mut verified: HashSet<String> = HashSet::new();
    let read_checked = |cpath: &str, digest: &str, verified: &mut HashSet<String>| -> Result<Vec<u8>> {
        let s = format!("{shown}{cpath}");
        let bytes = read_limited(&join(&dir, cpath)?, &s, META_LIMIT)?;
        let actual = sha512_hex(&bytes);
        if actual != digest {
            return Err(Error::integrity(s, format!("its SHA-512 is {actual}, but the manifest says {digest}")));
        }
        verified.insert(cpath.to_string());
        Ok(bytes)
    };
    let paths: BTreeSet<String> = logical.keys().cloned().collect();
    let parsed = meta::parse(
        &paths,
        |p| read_checked(&content_of(&logical[p]), &logical[p], &mut verified),
        &format!("{shown}[{}] ", inv.head()),
    )?;

    // Document contents: checked while they are stored.
    let mut contents = HashMap::new();
    let mut documents = BTreeMap::new();
    for obj in &parsed.objects {
        let Some(p) = &obj.file else { continue };
        let digest = &logical[p];
        let cpath = content_of(digest);
        documents.insert(obj.id, digest.clone());
        verified.insert(cpath.clone());
        contents.insert(
            obj.id,
            ContentFile {
                path: join(&dir, &cpath)?,
                shown: format!("{shown}{cpath}"),
                expect: Expect { sha256: None, sha512: Some(digest.clone()) },
            },
        );
    }

    // Earlier versions: their metadata files are kept (as text) so that an export can
    // repeat them; any other content they hold must be a document of the head version.
    let document_digests: HashSet<&str> = documents.values().map(String::as_str).collect();
    let mut past_files = BTreeMap::new();
    for (name, v) in inv.names.iter().zip(&inv.versions) {
        for (d, paths) in &v.state {
            if document_digests.contains(d.as_str()) || past_files.contains_key(d) {
                continue;
            }
            let is_meta = paths.iter().all(|p| {
                let file = p.rsplit('/').next().unwrap_or_default();
                matches!(file, AKTE_FILE | VORGANG_FILE | DOKUMENT_FILE)
            });
            if !is_meta {
                return Err(Error::invalid(
                    format!("{shown}{INVENTORY}"),
                    format!(
                        "{name} holds {} that the head version no longer has; such objects are not imported",
                        paths[0]
                    ),
                ));
            }
            let bytes = read_checked(&content_of(d), d, &mut verified)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::invalid(format!("{shown}{}", content_of(d)), "is metadata but not UTF-8"))?;
            past_files.insert(d.clone(), text);
        }
    }
    // Content files not read above (further copies of a digest) are checked too.
    for (cpath, digest) in &content_paths {
        if !verified.contains(*cpath) {
            let d = hash_file(&join(&dir, cpath)?, &format!("{shown}{cpath}"), Algs::SHA512).await?;
            if d.sha512.as_deref() != Some(*digest) {
                return Err(Error::integrity(format!("{shown}{cpath}"), "does not match its digest in the manifest"));
            }
        }
    }
    if parsed.akte.id != akte {
        return Err(Error::invalid(
            format!("{shown}{INVENTORY}"),
            format!("is the object of Akte {akte}, but its akte.json describes {}", parsed.akte.id),
        ));
    }
    let provenance = Provenance {
        v: PROVENANCE_VERSION,
        akte,
        format: "ocfl".into(),
        source: Some(inv.id.clone()),
        history: BTreeMap::new(),
        ocfl: Some(OcflPast { versions: inv.versions.clone(), files: past_files, documents }),
    };
    Ok(Incoming { parsed, contents, provenance, path: rel.to_string() })
}

const OBJECT_DECLARATION_NAME: &str = OBJECT_DECLARATION.0;

/// Imports an OCFL storage root made by [`export_ocfl`](super::export_ocfl): checks every
/// object first (declarations, each inventory against its sidecar, version inventories,
/// every content file against the manifest, nothing missing or extra, no symbolic link,
/// objects where the layout puts them, valid metadata, new Aktenzeichen and ids), then
/// stores the head versions' contents and commits all Akten as one journal entry. The
/// objects' earlier versions are kept as provenance. On any error nothing becomes
/// visible.
pub async fn import_ocfl(repo: &mut Repository, root_dir: &Path) -> Result<Report> {
    import_ocfl_gated(&Held::new(repo), root_dir, &Ungated).await
}

/// [`import_ocfl`], asking `gate` about every file before anything is stored.
pub async fn import_ocfl_gated(repo: &dyn Shared, root_dir: &Path, gate: &dyn Gate) -> Result<Report> {
    check_package_dir(root_dir)?;
    let entries = walk(root_dir, "")?;
    check_declaration(root_dir, "", ROOT_DECLARATION)?;
    let layout = layout_of(root_dir)?;

    // Objects: the directories that declare one. Files elsewhere are allowed only at
    // the top and below `extensions/`.
    let mut objects: Vec<String> = Vec::new();
    for (p, kind) in &entries {
        if *kind == Entry::File && p.rsplit('/').next() == Some(OBJECT_DECLARATION_NAME) {
            match p.rsplit_once('/') {
                Some((dir, _)) => objects.push(dir.to_string()),
                None => return Err(Error::invalid(p.as_str(), "declares an object at the storage root itself")),
            }
        }
    }
    objects.sort();
    for pair in objects.windows(2) {
        if pair[1].starts_with(&format!("{}/", pair[0])) {
            return Err(Error::invalid(pair[1].as_str(), format!("is an object inside the object {}", pair[0])));
        }
    }
    let mut files_of: BTreeMap<&str, BTreeSet<String>> =
        objects.iter().map(|o| (o.as_str(), BTreeSet::new())).collect();
    for (p, kind) in &entries {
        if *kind != Entry::File || !p.contains('/') || p.starts_with("extensions/") {
            continue;
        }
        let owner = objects.iter().find(|o| p.starts_with(&format!("{o}/")));
        match owner {
            Some(o) => {
                files_of.get_mut(o.as_str()).expect("listed").insert(p[o.len() + 1..].to_string());
            }
            None => return Err(Error::invalid(p.as_str(), "lies outside every OCFL object")),
        }
    }
    if objects.is_empty() {
        return Err(Error::invalid("", "the storage root holds no OCFL object"));
    }
    let mut incoming = Vec::new();
    for (rel, files) in &files_of {
        incoming.push(read_object(root_dir, rel, files, layout).await?);
    }
    commit_all(repo, incoming, Format::Ocfl, root_dir.to_path_buf(), gate).await
}
