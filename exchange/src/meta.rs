//! Our metadata as JSON beside the documents, shared by BagIt and OCFL.
//!
//! An exported Akte is a directory tree (the *Akte directory*):
//!
//! ```text
//! akte.json                          the Akte: fields, Aktenplan path, history
//! <Vorgang>/vorgang.json             a Vorgang (nested Vorgänge nest directories)
//! <Vorgang>/<Dokument>/dokument.json a Dokument with its versions' fields and history
//! <Vorgang>/<Dokument>/v1-<file>     the content of version 1, as uploaded
//! ```
//!
//! Directory names come from titles ([`crate::names::safe_component`]), unique among
//! siblings; the metadata records ids, parents and positions, so names carry no meaning
//! on import. Every JSON file is pretty-printed with sorted keys: the same state always
//! gives the same bytes, which is what makes export → import → export byte-identical.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use akte_store::{
    catalog::{Catalog, State},
    hlc::Hlc,
    model::{self, ObjKind},
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    Error, Result,
    names::{Siblings, safe_component, split_relative},
};

/// The format marker every metadata file carries; readers refuse others.
pub const FORMAT: &str = "akte-exchange/1";
/// The Akte's metadata file, at the root of the Akte directory.
pub const AKTE_FILE: &str = "akte.json";
/// A Vorgang's metadata file, in its directory.
pub const VORGANG_FILE: &str = "vorgang.json";
/// A Dokument's metadata file, in its directory.
pub const DOKUMENT_FILE: &str = "dokument.json";
const RESERVED: [&str; 3] = [AKTE_FILE, VORGANG_FILE, DOKUMENT_FILE];
/// The largest metadata file an import reads.
pub const META_LIMIT: u64 = 64 << 20;
/// The deepest nesting of Vorgänge an export writes or an import reads.
const MAX_DEPTH: usize = 200;

/// One Aktenplan node on the path from the plan's root to the Akte's node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanNode {
    /// The node's id.
    pub id: Uuid,
    /// Its parent node (null for a root).
    pub parent: Option<Uuid>,
    /// Its fields (code, title, retention …).
    pub fields: Map<String, Value>,
}

/// The content of `akte.json`, `vorgang.json` or `dokument.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjDoc {
    /// Always [`FORMAT`].
    pub format: String,
    /// `akte`, `vorgang` or `dokument`.
    pub kind: ObjKind,
    /// The object's id (kept on import).
    pub id: Uuid,
    /// The containing Akte or Vorgang (not for an Akte).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Uuid>,
    /// Position among the parent's Vorgänge and Dokumente, from 0 (not for an Akte).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// For an Akte: its Aktenplan node and that node's ancestors, root first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aktenplan: Option<Vec<PlanNode>>,
    /// The object's fields as the repository holds them.
    pub fields: Map<String, Value>,
    /// Who changed what when (see the crate docs on how history survives an import).
    pub history: Vec<Value>,
    /// For a Dokument: its versions, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<VersionDoc>>,
}

/// One version inside `dokument.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionDoc {
    /// The version's id.
    pub id: Uuid,
    /// Its number within the Dokument, from 1.
    pub number: u32,
    /// Its content's file name in the Dokument's directory.
    pub file: String,
    /// Its fields (file name, media type, size, digests …).
    pub fields: Map<String, Value>,
    /// Changes made to the version after it was added (its addition is in the
    /// Dokument's history).
    pub history: Vec<Value>,
}

/// Where the exported history of an object comes from: the history an import brought
/// (kept verbatim), then this repository's own entries without those of the import.
#[derive(Clone, Debug)]
pub struct History<'a> {
    /// The catalog whose history is exported.
    pub catalog: &'a Catalog,
    /// The history recorded at import, by object id.
    pub imported: Option<&'a BTreeMap<Uuid, Vec<Value>>>,
    /// `(time, node)` of the import's journal entry: its own entries are left out.
    pub mark: Option<(Hlc, &'a str)>,
}

impl<'a> History<'a> {
    /// The history of Akte `akte` in `catalog`, after what an import brought
    /// (`imported`, the import's own entry being the Akte's first).
    pub fn new(catalog: &'a Catalog, imported: Option<&'a BTreeMap<Uuid, Vec<Value>>>, akte: Uuid) -> Self {
        let mark = imported.and(catalog.history_start(&akte));
        History { catalog, imported, mark }
    }

    /// The exported history of one object.
    pub fn of(&self, id: Uuid) -> Result<Vec<Value>> {
        let mut out = self.imported.and_then(|h| h.get(&id)).cloned().unwrap_or_default();
        for e in self.catalog.history(&id) {
            if self.mark.is_some_and(|(at, node)| e.at == at && e.node == node) {
                continue;
            }
            out.push(serde_json::to_value(e).map_err(|e| Error::invalid("history", e.to_string()))?);
        }
        Ok(out)
    }
}

/// One file of an Akte directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LFile {
    /// Path relative to the Akte directory.
    pub path: String,
    /// The object it belongs to: the one described (metadata) or the version (content).
    pub id: Uuid,
    /// True for a version's content, false for a metadata file.
    pub content: bool,
}

/// Where everything of one Akte goes.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Every file, sorted by path.
    pub files: Vec<LFile>,
    /// Version id → its file name in the Dokument's directory.
    pub version_file: HashMap<Uuid, String>,
    /// Vorgang or Dokument id → position among its parent's Vorgänge and Dokumente.
    pub position: HashMap<Uuid, u32>,
    /// How many Vorgänge.
    pub vorgaenge: usize,
    /// How many Dokumente.
    pub dokumente: usize,
    /// How many versions.
    pub versionen: usize,
    /// Content bytes of all versions.
    pub bytes: u64,
}

fn missing(id: Uuid) -> Error {
    Error::Store(akte_store::Error::integrity(id.to_string(), "is named in the catalog but missing from it"))
}

/// The Vorgänge and Dokumente directly inside an Akte or Vorgang, in creation order.
fn containees(state: &State, id: Uuid) -> Vec<Uuid> {
    state
        .children
        .get(&id)
        .into_iter()
        .flatten()
        .filter(|c| state.objects.get(c).is_some_and(|o| matches!(o.kind, ObjKind::Vorgang | ObjKind::Dokument)))
        .copied()
        .collect()
}

/// Lays out one Akte of a state: directory names from titles, unique among siblings.
pub fn layout(state: &State, akte: Uuid) -> Result<Layout> {
    let mut out = Layout::default();
    out.files.push(LFile { path: AKTE_FILE.into(), id: akte, content: false });
    let mut todo = vec![(akte, String::new(), 0usize)];
    while let Some((id, dir, depth)) = todo.pop() {
        if depth > MAX_DEPTH {
            return Err(Error::Usage(format!("Vorgänge in Akte {akte} are nested deeper than {MAX_DEPTH} levels")));
        }
        let mut siblings = Siblings::new(&RESERVED);
        for (i, child) in containees(state, id).into_iter().enumerate() {
            let obj = state.objects.get(&child).ok_or_else(|| missing(child))?;
            out.position.insert(child, i as u32);
            let title = obj.text("title").map(safe_component).unwrap_or_else(|| child.to_string());
            let cdir = format!("{dir}{}/", siblings.claim(&title));
            if obj.kind == ObjKind::Vorgang {
                out.vorgaenge += 1;
                out.files.push(LFile { path: format!("{cdir}{VORGANG_FILE}"), id: child, content: false });
                todo.push((child, cdir, depth + 1));
                continue;
            }
            out.dokumente += 1;
            out.files.push(LFile { path: format!("{cdir}{DOKUMENT_FILE}"), id: child, content: false });
            let mut names = Siblings::new(&RESERVED);
            for (j, v) in obj.versions.iter().enumerate() {
                let version = state.objects.get(v).ok_or_else(|| missing(*v))?;
                let number = version.number.unwrap_or(j as u32 + 1);
                let file_name = version.text("file_name").map(safe_component).unwrap_or_else(|| "content".into());
                let file = names.claim(&format!("v{number}-{file_name}"));
                out.files.push(LFile { path: format!("{cdir}{file}"), id: *v, content: true });
                out.version_file.insert(*v, file);
                out.versionen += 1;
                out.bytes += version.fields.get("size").and_then(Value::as_u64).unwrap_or(0);
            }
        }
    }
    out.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The Aktenplan path of a node code: the node and its ancestors, root first.
pub fn aktenplan_chain(plan: &State, code: Option<&str>) -> Vec<PlanNode> {
    let Some(code) = code else { return Vec::new() };
    let mut node = plan.plan_node(code);
    let mut chain = Vec::new();
    while let Some(n) = node {
        if chain.len() > MAX_DEPTH || chain.iter().any(|c: &PlanNode| c.id == n.id) {
            break;
        }
        chain.push(PlanNode { id: n.id, parent: n.parent, fields: n.fields.to_map() });
        node = n.parent.and_then(|p| plan.objects.get(&p)).map(|p| &**p).filter(|p| p.kind == ObjKind::Aktenplan);
    }
    chain.reverse();
    chain
}

/// Serializes a metadata document canonically: sorted keys, two-space indent, final
/// newline.
pub fn to_bytes<T: Serialize>(doc: &T) -> Vec<u8> {
    let value = serde_json::to_value(doc).expect("metadata serializes");
    let mut out = serde_json::to_vec_pretty(&value).expect("metadata serializes");
    out.push(b'\n');
    out
}

/// Renders the metadata file of one Akte, Vorgang or Dokument.
pub fn object_json(state: &State, plan: &State, history: &History, layout: &Layout, id: Uuid) -> Result<Vec<u8>> {
    let obj = state.objects.get(&id).ok_or_else(|| missing(id))?;
    let mut doc = ObjDoc {
        format: FORMAT.into(),
        kind: obj.kind,
        id,
        parent: None,
        position: None,
        aktenplan: None,
        fields: obj.fields.to_map(),
        history: history.of(id)?,
        versions: None,
    };
    match obj.kind {
        ObjKind::Akte => doc.aktenplan = Some(aktenplan_chain(plan, obj.text("aktenplan"))),
        ObjKind::Vorgang | ObjKind::Dokument => {
            doc.parent = obj.parent;
            doc.position = layout.position.get(&id).copied();
        }
        other => return Err(Error::Usage(format!("A {} is not exported on its own", other.label()))),
    }
    if obj.kind == ObjKind::Dokument {
        let mut versions = Vec::new();
        for (j, v) in obj.versions.iter().enumerate() {
            let version = state.objects.get(v).ok_or_else(|| missing(*v))?;
            versions.push(VersionDoc {
                id: *v,
                number: version.number.unwrap_or(j as u32 + 1),
                file: layout.version_file.get(v).cloned().ok_or_else(|| missing(*v))?,
                fields: version.fields.to_map(),
                history: history.of(*v)?,
            });
        }
        doc.versions = Some(versions);
    }
    Ok(to_bytes(&doc))
}

/// One object of an import, in creation order.
#[derive(Clone, Debug)]
pub struct PObj {
    /// Vorgang, Dokument or Version.
    pub kind: ObjKind,
    /// Its id.
    pub id: Uuid,
    /// Its parent.
    pub parent: Uuid,
    /// Its fields (validated).
    pub fields: Map<String, Value>,
    /// For a version: its content's path relative to the Akte directory.
    pub file: Option<String>,
}

/// One Akte read from a package, checked.
#[derive(Clone, Debug)]
pub struct Parsed {
    /// The Akte's metadata.
    pub akte: ObjDoc,
    /// Vorgänge, Dokumente and versions, parents before children, siblings in order.
    pub objects: Vec<PObj>,
    /// The history of every object, by id.
    pub history: BTreeMap<Uuid, Vec<Value>>,
    /// The metadata files (paths relative to the Akte directory).
    pub meta_files: Vec<String>,
    /// How many Vorgänge.
    pub vorgaenge: usize,
    /// How many Dokumente.
    pub dokumente: usize,
    /// How many versions.
    pub versionen: usize,
}

/// The metadata file a path names, if it is one: `(directory with trailing '/', kind)`.
fn meta_kind(path: &str) -> Option<(String, ObjKind)> {
    let (dir, name) = match path.rsplit_once('/') {
        Some((d, n)) => (format!("{d}/"), n),
        None => (String::new(), path),
    };
    match name {
        AKTE_FILE if dir.is_empty() => Some((dir, ObjKind::Akte)),
        VORGANG_FILE if !dir.is_empty() => Some((dir, ObjKind::Vorgang)),
        DOKUMENT_FILE if !dir.is_empty() => Some((dir, ObjKind::Dokument)),
        _ => None,
    }
}

/// The parent directory of an object directory (`a/b/` → `a/`, `a/` → ``).
fn parent_dir(dir: &str) -> String {
    match dir.trim_end_matches('/').rsplit_once('/') {
        Some((p, _)) => format!("{p}/"),
        None => String::new(),
    }
}

fn check_history(shown: &str, history: &[Value]) -> Result<()> {
    if let Some(bad) = history.iter().find(|e| !e.is_object()) {
        return Err(Error::invalid(shown, format!("a history entry is not an object: {bad}")));
    }
    Ok(())
}

fn check_fields(shown: &str, kind: ObjKind, fields: &Map<String, Value>) -> Result<()> {
    model::validate(kind, fields, true).map_err(|e| Error::invalid(shown, e.to_string()))
}

/// Reads and checks one Akte directory: `paths` are all its files (relative to it),
/// `read` returns a metadata file's bytes (already checked against its digest), `prefix`
/// is put before paths in errors. Every file must be a metadata file or a version's
/// content named by one; every object must sit in its parent's directory.
pub fn parse(paths: &BTreeSet<String>, mut read: impl FnMut(&str) -> Result<Vec<u8>>, prefix: &str) -> Result<Parsed> {
    let shown = |p: &str| format!("{prefix}{p}");
    let mut docs: BTreeMap<String, (String, ObjDoc)> = BTreeMap::new();
    let mut others: BTreeSet<&str> = BTreeSet::new();
    for p in paths {
        split_relative(p)?;
        let Some((dir, kind)) = meta_kind(p) else {
            others.insert(p);
            continue;
        };
        let bytes = read(p)?;
        let doc: ObjDoc = serde_json::from_slice(&bytes).map_err(|e| Error::invalid(shown(p), crate::foreign(e)))?;
        if doc.format != FORMAT {
            return Err(Error::invalid(shown(p), format!("has format {:?}; this build reads {FORMAT:?}", doc.format)));
        }
        if doc.kind != kind {
            return Err(Error::invalid(shown(p), format!("describes a {}, not a {}", doc.kind.label(), kind.label())));
        }
        let is_akte = kind == ObjKind::Akte;
        if doc.parent.is_some() == is_akte || doc.position.is_some() == is_akte || doc.aktenplan.is_some() != is_akte {
            return Err(Error::invalid(shown(p), "has parent/position/aktenplan where its kind does not allow them"));
        }
        if doc.versions.is_some() != (kind == ObjKind::Dokument) {
            return Err(Error::invalid(shown(p), "has versions but is no Dokument, or is a Dokument without them"));
        }
        check_fields(&shown(p), kind, &doc.fields)?;
        check_history(&shown(p), &doc.history)?;
        if let Some((_, other)) = docs.get(&dir) {
            return Err(Error::invalid(shown(p), format!("shares its directory with {}", other.kind.label())));
        }
        docs.insert(dir, (p.clone(), doc));
    }
    let (akte_path, akte) = docs.get("").cloned().ok_or_else(|| Error::invalid(shown(AKTE_FILE), "is missing"))?;

    // Aktenplan path: root first, each node the parent of the next.
    let chain = akte.aktenplan.as_deref().unwrap_or_default();
    for (i, node) in chain.iter().enumerate() {
        let expected = if i == 0 { None } else { Some(chain[i - 1].id) };
        if node.parent != expected || chain[..i].iter().any(|n| n.id == node.id) {
            return Err(Error::invalid(shown(&akte_path), "its aktenplan is not a path from a root node"));
        }
        check_fields(&shown(&akte_path), ObjKind::Aktenplan, &node.fields)?;
    }

    // Ids unique; every object in its parent's directory; versions name their files.
    let mut ids: HashSet<Uuid> = HashSet::new();
    let mut history = BTreeMap::new();
    let mut children: BTreeMap<Uuid, Vec<(u32, String)>> = BTreeMap::new();
    let mut versions_of: HashMap<Uuid, Vec<PObj>> = HashMap::new();
    let (mut vorgaenge, mut dokumente, mut versionen) = (0, 0, 0);
    for (dir, (path, doc)) in &docs {
        if !ids.insert(doc.id) {
            return Err(Error::invalid(shown(path), format!("repeats the id {}", doc.id)));
        }
        if !doc.history.is_empty() {
            history.insert(doc.id, doc.history.clone());
        }
        if doc.kind == ObjKind::Akte {
            continue;
        }
        let pdir = parent_dir(dir);
        let parent = match docs.get(&pdir) {
            Some((_, p)) if matches!(p.kind, ObjKind::Akte | ObjKind::Vorgang) => p.id,
            _ => return Err(Error::invalid(shown(path), "is not inside the directory of an Akte or Vorgang")),
        };
        if doc.parent != Some(parent) {
            return Err(Error::invalid(shown(path), format!("names parent {:?}, but sits in {parent}", doc.parent)));
        }
        children.entry(parent).or_default().push((doc.position.unwrap_or_default(), dir.clone()));
        if doc.kind == ObjKind::Vorgang {
            vorgaenge += 1;
            continue;
        }
        dokumente += 1;
        let mut list = Vec::new();
        for (j, v) in doc.versions.iter().flatten().enumerate() {
            if v.number != j as u32 + 1 {
                return Err(Error::invalid(shown(path), format!("version {} is not numbered {}", v.id, j + 1)));
            }
            if split_relative(&v.file)?.len() != 1 {
                return Err(Error::unsafe_path(shown(&format!("{dir}{}", v.file)), "is not a plain file name"));
            }
            let file = format!("{dir}{}", v.file);
            if !others.remove(file.as_str()) {
                return Err(Error::invalid(shown(&file), "is named by a version, but is not in the package"));
            }
            if !ids.insert(v.id) {
                return Err(Error::invalid(shown(path), format!("repeats the id {}", v.id)));
            }
            check_fields(&shown(path), ObjKind::Version, &v.fields)?;
            check_history(&shown(path), &v.history)?;
            if !v.history.is_empty() {
                history.insert(v.id, v.history.clone());
            }
            list.push(PObj {
                kind: ObjKind::Version,
                id: v.id,
                parent: doc.id,
                fields: v.fields.clone(),
                file: Some(file),
            });
            versionen += 1;
        }
        versions_of.insert(doc.id, list);
    }
    if let Some(extra) = others.first() {
        return Err(Error::invalid(shown(extra), "is in the package, but no metadata describes it"));
    }

    // Creation order: parents first, siblings by position (which must run 0, 1, 2 …).
    for (parent, list) in &mut children {
        list.sort();
        if list.iter().enumerate().any(|(i, (pos, _))| *pos != i as u32) {
            return Err(Error::invalid(prefix, format!("the positions inside {parent} do not run 0, 1, 2 …")));
        }
    }
    let mut objects = Vec::new();
    let mut todo: Vec<(Uuid, usize)> = vec![(akte.id, 0)];
    while let Some((id, depth)) = todo.pop() {
        if depth > MAX_DEPTH {
            return Err(Error::invalid(prefix, format!("Vorgänge are nested deeper than {MAX_DEPTH} levels")));
        }
        // Reversed onto the stack so that the first child is created first.
        let mut next = Vec::new();
        for (_, dir) in children.get(&id).into_iter().flatten() {
            let (_, doc) = &docs[dir];
            objects.push(PObj { kind: doc.kind, id: doc.id, parent: id, fields: doc.fields.clone(), file: None });
            if doc.kind == ObjKind::Vorgang {
                next.push((doc.id, depth + 1));
            } else {
                objects.extend(versions_of.remove(&doc.id).unwrap_or_default());
            }
        }
        todo.extend(next.into_iter().rev());
    }
    let meta_files = docs.values().map(|(p, _)| p.clone()).collect();
    Ok(Parsed { akte, objects, history, meta_files, vorgaenge, dokumente, versionen })
}
