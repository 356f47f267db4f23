//! The catalog: the repository state as the deterministic merge of all journal streams.
//!
//! Entries are applied in (HLC, node, seq) order. Field changes are last-writer-wins; every
//! change, the losing ones included, stays in the history. A uniqueness conflict (one
//! Aktenzeichen created on two nodes) resolves the same way on every node: the earlier
//! create keeps it, the later Akte is marked with a conflict for a person to settle.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    hlc::Hlc,
    journal::{Head, NodeId, Op},
    model::ObjKind,
    object::Name,
};

/// A journal entry as the catalog keeps it: ops with their records resolved.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CEntry {
    /// HLC timestamp.
    pub hlc: Hlc,
    /// Writing node.
    pub node: NodeId,
    /// Position in the node's stream.
    pub seq: u64,
    /// The entry's MAC (hex).
    pub mac: String,
    /// Actor.
    pub actor: String,
    /// Ops, each with the fields of its record.
    pub ops: Vec<(Op, Map<String, Value>)>,
    /// The packs the entry committed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<crate::pack::PackRef>,
}

impl CEntry {
    /// The merge order: (HLC, node, seq).
    pub(crate) fn key(&self) -> (Hlc, &str, u64) {
        (self.hlc, &self.node, self.seq)
    }
}

/// One domain object in the merged state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Obj {
    /// Kind.
    pub kind: ObjKind,
    /// Id.
    pub id: Uuid,
    /// Containing object.
    pub parent: Option<Uuid>,
    /// The Akte this object belongs to (itself for an Akte).
    pub akte: Option<Uuid>,
    /// Current fields.
    pub fields: Map<String, Value>,
    /// For versions: the content manifest.
    pub content: Option<Name>,
    /// For versions: the version number within its Dokument, from 1.
    pub number: Option<u32>,
    /// For Dokumente: their versions, oldest first.
    pub versions: Vec<Uuid>,
    /// When created.
    pub created: Hlc,
    /// Who created it.
    pub created_by: String,
    /// When last changed.
    pub updated: Hlc,
    /// A conflict a person must settle, if any.
    pub conflict: Option<String>,
}

impl Obj {
    /// A text field.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }
}

/// One field change in the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Field name.
    pub field: String,
    /// Value before (null if unset).
    pub old: Value,
    /// Value after.
    pub new: Value,
}

/// One history entry: who did what when to which object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When (HLC).
    pub at: Hlc,
    /// When, as RFC 3339.
    pub time: String,
    /// Node that recorded it.
    pub node: NodeId,
    /// Who.
    pub actor: String,
    /// `create`, `update` or `add-version`.
    pub action: String,
    /// Object the action concerned (for `add-version`, the new version).
    pub object: Uuid,
    /// Field changes.
    pub changes: Vec<Change>,
}

/// What stays of a deleted object: the evidence of its deletion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tombstone {
    /// The deleted object's id.
    pub id: Uuid,
    /// The deletion as a history entry (actor, time; the evidence fields as changes).
    pub deletion: HistoryEntry,
    /// The evidence (Aktenzeichen, basis, counts) from the delete op's record.
    pub evidence: Map<String, Value>,
    /// Ids of everything deleted with it (Vorgänge, Dokumente, Versionen), for the
    /// derived state (search index) to drop.
    pub objects: Vec<Uuid>,
}

/// The merged repository state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// All objects by id.
    pub objects: BTreeMap<Uuid, Obj>,
    /// History per object (for versions: on their Dokument).
    pub history: BTreeMap<Uuid, Vec<HistoryEntry>>,
    /// Children per parent, in creation order.
    pub children: BTreeMap<Uuid, Vec<Uuid>>,
    /// Aktenzeichen → the Akte that holds it.
    pub aktenzeichen: BTreeMap<String, Uuid>,
    /// Problems found while merging (ops on unknown objects, duplicates).
    pub conflicts: Vec<String>,
    /// Derived results per content root and producer (the last in merge order wins).
    #[serde(default)]
    pub derived: BTreeMap<Name, BTreeMap<String, Name>>,
    /// Deleted objects by id.
    #[serde(default)]
    pub deleted: BTreeMap<Uuid, Tombstone>,
    /// Ids that some delete op in the merged entries names (known before the fold).
    #[serde(skip)]
    doomed: HashSet<Uuid>,
    /// Objects whose ops are void because they or an ancestor are deleted → the deleted
    /// ancestor.
    #[serde(skip)]
    pub erased: BTreeMap<Uuid, Uuid>,
    /// Content roots of live versions and plugins, with how many reference each.
    #[serde(skip)]
    live_contents: HashMap<Name, u32>,
    /// Content roots of erased versions.
    #[serde(skip)]
    dead_contents: HashSet<Name>,
}

impl State {
    fn apply(&mut self, entry: &CEntry) {
        for (op, fields) in &entry.ops {
            match op {
                Op::Create { kind, id, parent, content, .. } => {
                    // Deletion voids every op of the object and of what is below it, as if
                    // they had never been written: the state does not depend on records
                    // that deletion erases.
                    let doomed_by = if self.doomed.contains(id) {
                        Some(*id)
                    } else {
                        parent.and_then(|p| self.erased.get(&p).copied())
                    };
                    if let Some(by) = doomed_by {
                        self.erased.insert(*id, by);
                        if let Some(c) = content {
                            self.dead_contents.insert(c.clone());
                        }
                        continue;
                    }
                    if let Some(c) = content {
                        *self.live_contents.entry(c.clone()).or_default() += 1;
                    }
                    self.create(entry, *kind, *id, *parent, content.clone(), fields)
                }
                Op::Update { id, .. } if self.erased.contains_key(id) => {}
                Op::Update { id, .. } => self.update(entry, *id, fields),
                Op::Derive { content, producer, result } => {
                    // A result for a content that only deleted versions hold is void (its
                    // objects are erased with them).
                    if self.dead_contents.contains(content) && !self.live_contents.contains_key(content) {
                        continue;
                    }
                    // The history an import brought for an Akte goes with the Akte.
                    if provenance_of(producer).is_some_and(|id| self.erased.contains_key(&id)) {
                        continue;
                    }
                    self.derived.entry(content.clone()).or_default().insert(producer.clone(), result.clone());
                }
                Op::Delete { id, .. } => self.delete(entry, *id, fields),
                Op::Read { id, .. } if self.erased.contains_key(id) => {}
                Op::Read { id, actor, action } => {
                    if self.objects.contains_key(id) {
                        let mut h = State::history_entry(entry, action, *id, Vec::new());
                        h.actor = actor.clone();
                        self.history.entry(*id).or_default().push(h);
                    }
                }
            }
        }
    }

    fn delete(&mut self, entry: &CEntry, id: Uuid, fields: &Map<String, Value>) {
        if self.deleted.contains_key(&id) {
            return;
        }
        if !self.erased.contains_key(&id) {
            self.conflicts.push(format!("deletion of unknown object {id} ignored"));
            return;
        }
        let objects = self.erased.iter().filter(|(o, by)| **by == id && **o != id).map(|(o, _)| *o).collect();
        let changes =
            fields.iter().map(|(k, v)| Change { field: k.clone(), old: Value::Null, new: v.clone() }).collect();
        let deletion = State::history_entry(entry, "delete", id, changes);
        self.deleted.insert(id, Tombstone { id, deletion, evidence: fields.clone(), objects });
    }

    fn history_entry(entry: &CEntry, action: &str, object: Uuid, changes: Vec<Change>) -> HistoryEntry {
        HistoryEntry {
            at: entry.hlc,
            time: entry.hlc.rfc3339(),
            node: entry.node.clone(),
            actor: entry.actor.clone(),
            action: action.into(),
            object,
            changes,
        }
    }

    fn create(
        &mut self,
        entry: &CEntry,
        kind: ObjKind,
        id: Uuid,
        parent: Option<Uuid>,
        content: Option<Name>,
        fields: &Map<String, Value>,
    ) {
        if self.objects.contains_key(&id) {
            self.conflicts.push(format!("{} {id} created twice; the later create was ignored", kind.label()));
            return;
        }
        let parent_obj = parent.and_then(|p| self.objects.get(&p));
        if parent.is_some() && parent_obj.is_none() {
            self.conflicts.push(format!("{} {id} names an unknown parent", kind.label()));
        }
        let akte = match kind {
            ObjKind::Akte => Some(id),
            ObjKind::Aktenplan => None,
            _ => parent_obj.and_then(|p| p.akte),
        };
        let mut obj = Obj {
            kind,
            id,
            parent,
            akte,
            fields: Map::new(),
            content,
            number: None,
            versions: Vec::new(),
            created: entry.hlc,
            created_by: entry.actor.clone(),
            updated: entry.hlc,
            conflict: None,
        };
        let changes = set_fields(&mut obj.fields, fields);
        let mut history_on = id;
        let mut action = "create";
        if kind == ObjKind::Version
            && let Some(dok) = parent.and_then(|p| self.objects.get_mut(&p))
        {
            dok.versions.push(id);
            dok.updated = entry.hlc;
            obj.number = Some(dok.versions.len() as u32);
            history_on = dok.id;
            action = "add-version";
        }
        if kind == ObjKind::Akte
            && let Some(az) = obj.text("aktenzeichen").map(str::to_string)
        {
            self.claim_aktenzeichen(&mut obj, &az);
        }
        if let Some(p) = parent {
            self.children.entry(p).or_default().push(id);
        }
        self.history.entry(history_on).or_default().push(Self::history_entry(entry, action, id, changes));
        self.objects.insert(id, obj);
    }

    fn claim_aktenzeichen(&mut self, obj: &mut Obj, az: &str) {
        match self.aktenzeichen.get(az) {
            Some(holder) if *holder != obj.id => {
                obj.conflict = Some(format!("Aktenzeichen {az} is already used by Akte {holder}"));
            }
            _ => {
                self.aktenzeichen.insert(az.to_string(), obj.id);
                obj.conflict = None;
            }
        }
    }

    fn update(&mut self, entry: &CEntry, id: Uuid, fields: &Map<String, Value>) {
        let Some(mut obj) = self.objects.remove(&id) else {
            self.conflicts.push(format!("update of unknown object {id} ignored"));
            return;
        };
        let old_az = obj.text("aktenzeichen").map(str::to_string);
        let changes = set_fields(&mut obj.fields, fields);
        obj.updated = obj.updated.max(entry.hlc);
        if obj.kind == ObjKind::Akte {
            let new_az = obj.text("aktenzeichen").map(str::to_string);
            if new_az != old_az
                && let Some(new_az) = new_az
            {
                if let Some(old) = old_az
                    && self.aktenzeichen.get(&old) == Some(&id)
                {
                    self.aktenzeichen.remove(&old);
                }
                self.claim_aktenzeichen(&mut obj, &new_az);
            }
        }
        self.history.entry(id).or_default().push(Self::history_entry(entry, "update", id, changes));
        self.objects.insert(id, obj);
    }
}

/// The Akte a provenance result belongs to (producer `akte-exchange:provenance:<id>`).
fn provenance_of(producer: &str) -> Option<Uuid> {
    producer.strip_prefix("akte-exchange:provenance:")?.parse().ok()
}

/// Sets fields (null removes) and returns the changes.
fn set_fields(target: &mut Map<String, Value>, fields: &Map<String, Value>) -> Vec<Change> {
    let mut changes = Vec::new();
    for (k, v) in fields {
        let old = target.get(k).cloned().unwrap_or(Value::Null);
        if &old == v {
            continue;
        }
        if v.is_null() {
            target.remove(k);
        } else {
            target.insert(k.clone(), v.clone());
        }
        changes.push(Change { field: k.clone(), old, new: v.clone() });
    }
    changes
}

/// The catalog: all entries seen, the heads of every stream, and the merged state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// Cache format version.
    pub format: u32,
    /// Repository id.
    pub repository: Uuid,
    /// Head of every stream as far as this catalog has read.
    pub streams: BTreeMap<NodeId, Head>,
    /// Every entry, sorted by (HLC, node, seq).
    pub entries: Vec<CEntry>,
    /// The merged state (derived; not serialized).
    #[serde(skip)]
    pub state: State,
    /// What of the entries the cache in the data directory holds (`node::NodeDir::
    /// save_catalog`); `None` when it must be written whole (new, or entries were scrubbed).
    #[serde(skip)]
    pub(crate) persisted: Option<Persisted>,
}

/// What a catalog cache on disk holds of a catalog: every entry up to `seq` per stream, in
/// `log_len` bytes of `catalog.log`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Persisted {
    pub(crate) seq: BTreeMap<NodeId, u64>,
    pub(crate) log_len: u64,
}

/// The catalog cache format this build writes (3: a small `catalog.json` head and the
/// entries appended to `catalog.log`; 2 was one `catalog.json` with every entry).
pub const CATALOG_FORMAT: u32 = 3;

impl Catalog {
    /// An empty catalog for a repository.
    pub fn new(repository: Uuid) -> Self {
        Catalog { format: CATALOG_FORMAT, repository, ..Default::default() }
    }

    /// Adds entries read from the store (each stream in order) and updates the state:
    /// incrementally when they all sort after what is there, by a full re-merge otherwise.
    pub fn add(&mut self, new: Vec<CEntry>) {
        if new.is_empty() {
            return;
        }
        let mut sorted: Vec<CEntry> = Vec::with_capacity(new.len());
        for e in new {
            let head = self.streams.entry(e.node.clone()).or_default();
            if e.seq > head.seq {
                *head = Head { seq: e.seq, mac: e.mac.clone() };
            }
            sorted.push(e);
        }
        sorted.sort_by(|a, b| a.key().cmp(&b.key()));
        let in_order = self.entries.last().is_none_or(|last| last.key() < sorted[0].key());
        // A deletion voids earlier ops: it always re-merges from the start.
        let deletes = sorted.iter().any(|e| e.ops.iter().any(|(op, _)| matches!(op, Op::Delete { .. })));
        if in_order && !deletes {
            for e in &sorted {
                self.state.apply(e);
            }
            let from = self.entries.len();
            self.entries.extend(sorted);
            self.scrub(from);
        } else {
            self.entries.extend(sorted);
            self.entries.sort_by(|a, b| a.key().cmp(&b.key()));
            self.refold();
        }
    }

    /// Recomputes the state from all entries.
    pub fn refold(&mut self) {
        let mut state = State { doomed: self.doomed_ids(), ..Default::default() };
        for e in &self.entries {
            state.apply(e);
        }
        self.state = state;
        self.scrub(0);
    }

    /// Every id a delete op names.
    fn doomed_ids(&self) -> HashSet<Uuid> {
        self.entries
            .iter()
            .flat_map(|e| &e.ops)
            .filter_map(|(op, _)| match op {
                Op::Delete { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    }

    /// Forgets the fields of deleted objects' ops, so that the catalog cache holds no more
    /// of them than the store does.
    /// Entries that were already in the cache and lost fields here make the cache on disk
    /// be written whole at the next save, so that it keeps nothing of them either.
    fn scrub(&mut self, from: usize) {
        if self.state.erased.is_empty() {
            return;
        }
        let mut scrubbed = false;
        for e in &mut self.entries[from..] {
            for (op, fields) in &mut e.ops {
                if let Op::Create { id, .. } | Op::Update { id, .. } = op
                    && self.state.erased.contains_key(id)
                    && !fields.is_empty()
                {
                    fields.clear();
                    scrubbed = true;
                }
            }
        }
        if scrubbed {
            self.persisted = None;
        }
    }

    /// The object names the deletion of `id` allows to erase: records of the ops on it and
    /// below it, the contents of its versions and the results derived from them (content
    /// roots; chunks behind manifests are the caller's to expand); and every name live
    /// objects reference, which must stay even when the deleted Akte used it too.
    pub fn erasable(&self, id: &Uuid) -> (BTreeSet<Name>, BTreeSet<Name>) {
        let mut candidates = BTreeSet::new();
        let mut live = BTreeSet::new();
        let mut dead_contents = BTreeSet::new();
        for e in &self.entries {
            for (op, _) in &e.ops {
                let target = match op {
                    Op::Create { id, .. } | Op::Update { id, .. } => Some(id),
                    Op::Delete { .. } | Op::Derive { .. } | Op::Read { .. } => None,
                };
                let by = target.and_then(|t| self.state.erased.get(t));
                if by.is_some_and(|by| by != id) {
                    continue; // another deletion's business
                }
                let doomed = by.is_some();
                let set = if doomed { &mut candidates } else { &mut live };
                if let Some(r) = op.record() {
                    set.insert(r.clone());
                }
                if let Op::Create { content: Some(c), .. } = op {
                    if doomed {
                        dead_contents.insert(c.clone());
                    } else {
                        live.insert(c.clone());
                    }
                }
            }
        }
        for (content, results) in &self.state.derived {
            live.insert(content.clone());
            live.extend(results.values().cloned());
        }
        for c in dead_contents {
            if !live.contains(&c) {
                candidates.insert(c);
            }
        }
        // Results derived from erased contents, and the provenance an import recorded for
        // the Akte: their derive ops are void.
        for e in &self.entries {
            for (op, _) in &e.ops {
                if let Op::Derive { content, result, producer } = op {
                    if provenance_of(producer).is_some_and(|a| self.state.erased.get(&a) == Some(id)) {
                        candidates.insert(content.clone());
                        candidates.insert(result.clone());
                    } else if candidates.contains(content) {
                        candidates.insert(result.clone());
                    }
                }
            }
        }
        (candidates, live)
    }

    /// The MAC of entry `seq` of `node`, if the catalog holds it.
    pub fn mac_of(&self, node: &str, seq: u64) -> Option<&str> {
        self.entries.iter().rev().find(|e| e.node == node && e.seq == seq).map(|e| e.mac.as_str())
    }

    /// The latest HLC in any entry.
    pub fn max_hlc(&self) -> Hlc {
        self.entries.iter().map(|e| e.hlc).max().unwrap_or_default()
    }

    /// A digest of the merged state: equal on every node that has read the same streams.
    pub fn digest(&self) -> String {
        let bytes = serde_json::to_vec(&self.state).expect("state serializes");
        blake3::hash(&bytes).to_hex().to_string()
    }

    /// The derived results recorded for a content root, by producer.
    pub fn derived(&self, content: &str) -> Option<&BTreeMap<String, Name>> {
        self.state.derived.get(content)
    }

    /// An object by id.
    pub fn get(&self, id: &Uuid) -> Option<&Obj> {
        self.state.objects.get(id)
    }

    /// All objects of a kind.
    pub fn all(&self, kind: ObjKind) -> impl Iterator<Item = &Obj> {
        self.state.objects.values().filter(move |o| o.kind == kind)
    }

    /// Direct children of an object.
    pub fn children(&self, id: &Uuid) -> impl Iterator<Item = &Obj> {
        self.state.children.get(id).into_iter().flatten().filter_map(|c| self.state.objects.get(c))
    }

    /// All Dokumente in an Akte (in all its Vorgänge), in creation order.
    pub fn dokumente_of(&self, akte: &Uuid) -> Vec<&Obj> {
        let mut out: Vec<&Obj> = self.all(ObjKind::Dokument).filter(|d| d.akte == Some(*akte)).collect();
        out.sort_by_key(|d| d.created);
        out
    }

    /// Finds an Akte by id or Aktenzeichen.
    pub fn find_akte(&self, key: &str) -> Option<&Obj> {
        if let Ok(id) = key.parse::<Uuid>()
            && let Some(o) = self.get(&id).filter(|o| o.kind == ObjKind::Akte)
        {
            return Some(o);
        }
        self.state.aktenzeichen.get(key).and_then(|id| self.get(id))
    }

    /// The newest version of a Dokument.
    pub fn latest_version(&self, dokument: &Uuid) -> Option<&Obj> {
        self.get(dokument)?.versions.last().and_then(|v| self.get(v))
    }
}
