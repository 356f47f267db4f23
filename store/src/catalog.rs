//! The catalog: the repository state as the deterministic merge of all journal streams.
//!
//! Entries are applied in (HLC, node, seq) order. Field changes are last-writer-wins; every
//! change, the losing ones included, stays in the history. A uniqueness conflict (one
//! Aktenzeichen created on two nodes) resolves the same way on every node: the earlier
//! create keeps it, the later Akte is marked with a conflict for a person to settle.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use foldhash::{HashMap as FastMap, HashSet as FastSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, value::RawValue};
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
    pub ops: Vec<(Op, Fields)>,
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

/// The fields of an op's record as the catalog keeps them: their JSON text, parsed when
/// the state is folded. A parsed map of a few fields takes about a kilobyte (a B-tree node,
/// a string per key and value); the text takes what it is long. The catalog holds every
/// entry for as long as it lives, so this is most of what an entry costs.
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct Fields(Box<RawValue>);

impl Fields {
    /// The text of a map of fields.
    pub fn new(map: &Map<String, Value>) -> Self {
        Fields(serde_json::value::to_raw_value(map).expect("a JSON map serializes"))
    }

    /// No fields.
    pub fn empty() -> Self {
        Fields(RawValue::from_string("{}".into()).expect("valid JSON"))
    }

    /// The fields, parsed.
    pub fn map(&self) -> Map<String, Value> {
        // Checked to be an object when made or read.
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.get() == "{}"
    }
}

impl Default for Fields {
    fn default() -> Self {
        Fields::empty()
    }
}

impl From<Map<String, Value>> for Fields {
    fn from(map: Map<String, Value>) -> Self {
        Fields::new(&map)
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        let Some(inside) = raw.get().trim().strip_prefix('{') else {
            return Err(serde::de::Error::custom("the fields of an op must be a JSON object"));
        };
        // An empty object in the one form `is_empty` compares with.
        if inside.trim_start() == "}" {
            return Ok(Fields::empty());
        }
        Ok(Fields(raw))
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
    pub fields: FieldMap,
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
    /// All objects by id. Boxed: ids arrive mostly in ascending order, which leaves a
    /// B-tree's nodes about half full, and a node of boxes wastes 8 bytes where a node of
    /// objects in place wasted an `Obj` (about 230 bytes): heaptrack of `akte ls` at 20,000
    /// Dokumente, 511 bytes per object for the tree of objects in place.
    pub objects: BTreeMap<Uuid, Box<Obj>>,
    /// Where each object's history is: the ops that made an entry of it, in merge order
    /// (for versions: on their Dokument). The history itself is replayed from these ops
    /// when asked for ([`Catalog::history`]): kept whole, it took a third of the memory of
    /// the state.
    #[serde(skip)]
    touched: FastMap<Uuid, Vec<Touch>>,
    /// Children per parent, in creation order.
    pub children: BTreeMap<Uuid, Vec<Uuid>>,
    /// Aktenzeichen → the Akte that holds it.
    pub aktenzeichen: BTreeMap<String, Uuid>,
    /// The ids of the objects of the few kinds ([`FEW_KINDS`]: Aktenplan nodes, accounts,
    /// tokens, plugins), per kind: hundreds among a million objects, looked up on every
    /// request (a bearer token by its hash; an Akte's grants from its Aktenplan node).
    #[serde(skip)]
    few: [BTreeSet<Uuid>; FEW_KINDS.len()],
    /// Problems found while merging (ops on unknown objects, duplicates).
    pub conflicts: Vec<String>,
    /// Derived results per content root and producer (the last in merge order wins).
    #[serde(default)]
    pub derived: BTreeMap<Name, VecMap<Name>>,
    /// Deleted objects by id.
    #[serde(default)]
    pub deleted: BTreeMap<Uuid, Tombstone>,
    /// Ids that some delete op in the merged entries names (known before the fold).
    #[serde(skip)]
    doomed: FastSet<Uuid>,
    /// Objects whose ops are void because they or an ancestor are deleted → the deleted
    /// ancestor.
    #[serde(skip)]
    pub erased: BTreeMap<Uuid, Uuid>,
    /// Content roots of live versions and plugins, with how many reference each.
    #[serde(skip)]
    live_contents: FastMap<Name, u32>,
    /// Content roots of erased versions.
    #[serde(skip)]
    dead_contents: FastSet<Name>,
}

/// The kinds of which a repository holds few objects, each kind listed on its own in the
/// state ([`State::all`]); the case data (Akten, Vorgänge, Dokumente, Versionen) is found
/// through its parents or by a scan.
const FEW_KINDS: [ObjKind; 4] = [ObjKind::Aktenplan, ObjKind::Account, ObjKind::Token, ObjKind::Plugin];

fn few_index(kind: ObjKind) -> Option<usize> {
    FEW_KINDS.iter().position(|k| *k == kind)
}

/// An op that made a history entry: the entry's place in the catalog and the op's in it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Touch {
    entry: u32,
    op: u32,
}

impl State {
    /// All objects of a kind, in id order (that of [`State::objects`]). Those of the few
    /// kinds come from their own lists, the rest from a scan of every object.
    pub fn all(&self, kind: ObjKind) -> impl Iterator<Item = &Obj> {
        let few = few_index(kind).map(|i| self.few[i].iter().filter_map(|id| self.objects.get(id)).map(|o| &**o));
        let rest =
            few_index(kind).is_none().then(|| self.objects.values().map(|o| &**o).filter(move |o| o.kind == kind));
        few.into_iter().flatten().chain(rest.into_iter().flatten())
    }

    /// The Aktenplan's nodes, in id order.
    pub fn plan_nodes(&self) -> impl Iterator<Item = &Obj> {
        self.all(ObjKind::Aktenplan)
    }

    /// The Aktenplan node with `code`; of two with the same code (written at the same time
    /// on two nodes), the one with the lower id.
    pub fn plan_node(&self, code: &str) -> Option<&Obj> {
        self.plan_nodes().find(|n| n.text("code") == Some(code))
    }

    /// Applies the entry at `at` in the catalog's merge order.
    fn apply(&mut self, entry: &CEntry, at: usize) {
        let at = u32::try_from(at).expect("fewer than 2^32 entries");
        for (i, (op, fields)) in entry.ops.iter().enumerate() {
            let touch = Touch { entry: at, op: i as u32 };
            match op {
                Op::Create { kind, id, .. } if self.objects.contains_key(id) || self.erased.contains_key(id) => {
                    // Ids are unique: a second create is a conflict and changes nothing,
                    // whatever parent it names (one that names a deleted parent must not
                    // void the live object; one of a deleted object must not revive it).
                    if self.objects.contains_key(id) {
                        self.conflicts
                            .push(format!("{} {id} created twice; the later create was ignored", kind.label()));
                    }
                }
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
                            self.dead_contents.insert(*c);
                        }
                        continue;
                    }
                    if let Some(c) = content {
                        *self.live_contents.entry(*c).or_default() += 1;
                    }
                    self.create(entry, touch, *kind, *id, *parent, *content, fields.map())
                }
                Op::Update { id, .. } if self.erased.contains_key(id) => {}
                Op::Update { id, .. } => self.update(entry, touch, *id, fields.map()),
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
                    let results = self.derived.entry(*content).or_default();
                    results.insert(producer.clone(), *result);
                    results.shrink();
                }
                Op::Delete { id, .. } => self.delete(entry, *id, fields.map()),
                Op::Read { id, .. } if self.erased.contains_key(id) => {}
                Op::Read { id, .. } => {
                    if self.objects.contains_key(id) {
                        self.touched.entry(*id).or_default().push(touch);
                    }
                }
            }
        }
    }

    fn delete(&mut self, entry: &CEntry, id: Uuid, fields: Map<String, Value>) {
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
        self.deleted.insert(id, Tombstone { id, deletion, evidence: fields, objects });
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

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        entry: &CEntry,
        touch: Touch,
        kind: ObjKind,
        id: Uuid,
        parent: Option<Uuid>,
        content: Option<Name>,
        fields: Map<String, Value>,
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
            fields: FieldMap::new(),
            content,
            number: None,
            versions: Vec::new(),
            created: entry.hlc,
            created_by: entry.actor.clone(),
            updated: entry.hlc,
            conflict: None,
        };
        assign_fields(&mut obj.fields, fields);
        let mut history_on = id;
        if kind == ObjKind::Version
            && let Some(dok) = parent.and_then(|p| self.objects.get_mut(&p))
        {
            dok.versions.push(id);
            dok.updated = entry.hlc;
            obj.number = Some(dok.versions.len() as u32);
            history_on = dok.id;
        }
        if kind == ObjKind::Akte
            && let Some(az) = obj.text("aktenzeichen").map(str::to_string)
        {
            self.claim_aktenzeichen(&mut obj, &az);
        }
        if let Some(i) = few_index(kind) {
            self.few[i].insert(id);
        }
        if let Some(p) = parent {
            self.children.entry(p).or_default().push(id);
        }
        self.touched.entry(history_on).or_default().push(touch);
        self.objects.insert(id, Box::new(obj));
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

    fn update(&mut self, entry: &CEntry, touch: Touch, id: Uuid, fields: Map<String, Value>) {
        let Some(mut obj) = self.objects.remove(&id) else {
            self.conflicts.push(format!("update of unknown object {id} ignored"));
            return;
        };
        let old_az = obj.text("aktenzeichen").map(str::to_string);
        assign_fields(&mut obj.fields, fields);
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
        self.touched.entry(id).or_default().push(touch);
        self.objects.insert(id, obj);
    }
}

/// The Akte a provenance result belongs to (producer `akte-exchange:provenance:<id>`).
fn provenance_of(producer: &str) -> Option<Uuid> {
    producer.strip_prefix("akte-exchange:provenance:")?.parse().ok()
}

/// Sets fields (null removes); the fold's way, which keeps no changes (the history replays
/// them with [`set_fields`]).
fn assign_fields(target: &mut FieldMap, fields: Map<String, Value>) {
    for (k, v) in fields {
        if v.is_null() {
            target.remove(&k);
        } else {
            target.insert(k, v);
        }
    }
    target.shrink();
}

/// Sets fields (null removes) and returns the changes.
fn set_fields(target: &mut Map<String, Value>, fields: Map<String, Value>) -> Vec<Change> {
    let mut changes = Vec::new();
    for (k, v) in fields {
        let old = target.get(&k).cloned().unwrap_or(Value::Null);
        if old == v {
            continue;
        }
        if v.is_null() {
            target.remove(&k);
        } else {
            target.insert(k.clone(), v.clone());
        }
        changes.push(Change { field: k, old, new: v });
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
            let from = self.entries.len();
            for (i, e) in sorted.iter().enumerate() {
                self.state.apply(e, from + i);
            }
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
        for (i, e) in self.entries.iter().enumerate() {
            state.apply(e, i);
        }
        self.state = state;
        self.scrub(0);
    }

    /// Every id a delete op names.
    fn doomed_ids(&self) -> FastSet<Uuid> {
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
                    *fields = Fields::empty();
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
                    set.insert(*r);
                }
                if let Op::Create { content: Some(c), .. } = op {
                    if doomed {
                        dead_contents.insert(*c);
                    } else {
                        live.insert(*c);
                    }
                }
            }
        }
        for (content, results) in &self.state.derived {
            live.insert(*content);
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
                        candidates.insert(*content);
                        candidates.insert(*result);
                    } else if candidates.contains(content) {
                        candidates.insert(*result);
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
    /// It covers the state and the entries it was merged from, in merge order (each by its
    /// place in its stream and MAC), and so the history replayed from them.
    pub fn digest(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&serde_json::to_vec(&self.state).expect("state serializes"));
        for e in &self.entries {
            h.update(&serde_json::to_vec(&(e.key(), &e.mac)).expect("entry key serializes"));
        }
        h.finalize().to_hex().to_string()
    }

    /// The op a touch points at.
    fn op_at(&self, t: &Touch) -> Option<&(Op, Fields)> {
        self.entries.get(t.entry as usize)?.ops.get(t.op as usize)
    }

    /// When and on which node an object's history begins (its first entry's `at` and
    /// `node`), without replaying it.
    pub fn history_start(&self, id: &Uuid) -> Option<(Hlc, &str)> {
        let t = self.state.touched.get(id)?.first()?;
        let entry = self.entries.get(t.entry as usize)?;
        Some((entry.hlc, entry.node.as_str()))
    }

    /// The history of an object (for a Dokument: with the versions added to it), oldest
    /// first: every create, update, added version and recorded read, each with the field
    /// changes, old and new value. Replayed from the entries' ops.
    pub fn history(&self, id: &Uuid) -> Vec<HistoryEntry> {
        let Some(touches) = self.state.touched.get(id) else {
            return Vec::new();
        };
        // The object's fields as the replay has set them so far, for the old values. A
        // version's create is in its Dokument's history, not in its own: its updates start
        // from the fields it was created with.
        let mut fields = Map::new();
        let creates_itself = |t: &Touch| matches!(self.op_at(t), Some((Op::Create { id: c, .. }, _)) if c == id);
        if !touches.first().is_some_and(creates_itself)
            && let Some(parent) = self.state.objects.get(id).and_then(|o| o.parent)
            && let Some(create) = self.state.touched.get(&parent).and_then(|t| t.iter().find(|t| creates_itself(t)))
            && let Some((_, created_with)) = self.op_at(create)
        {
            set_fields(&mut fields, created_with.map());
        }
        touches
            .iter()
            .filter_map(|t| {
                let entry = self.entries.get(t.entry as usize)?;
                let (op, op_fields) = self.op_at(t)?;
                Some(match op {
                    Op::Create { id: created, .. } if created == id => {
                        State::history_entry(entry, "create", *id, set_fields(&mut fields, op_fields.map()))
                    }
                    Op::Create { id: version, .. } => State::history_entry(
                        entry,
                        "add-version",
                        *version,
                        set_fields(&mut Map::new(), op_fields.map()),
                    ),
                    Op::Update { .. } => {
                        State::history_entry(entry, "update", *id, set_fields(&mut fields, op_fields.map()))
                    }
                    Op::Read { actor, action, .. } => {
                        let mut h = State::history_entry(entry, action, *id, Vec::new());
                        h.actor = actor.clone();
                        h
                    }
                    Op::Delete { .. } | Op::Derive { .. } => return None,
                })
            })
            .collect()
    }

    /// The history of an Akte with everything in it: its own, and that of each Vorgang and
    /// Dokument below it (versions are in their Dokument's), merged in the order they
    /// happened. Each entry names its object.
    pub fn history_of_akte(&self, akte: &Uuid) -> Vec<HistoryEntry> {
        let mut out = self.history(akte);
        let mut stack: Vec<Uuid> = self.children(akte).map(|o| o.id).collect();
        while let Some(id) = stack.pop() {
            let Some(obj) = self.get(&id) else { continue };
            if matches!(obj.kind, ObjKind::Vorgang | ObjKind::Dokument) {
                out.extend(self.history(&id));
                stack.extend(self.children(&id).map(|o| o.id));
            }
        }
        // Stable: one object's entries keep their order at equal times.
        out.sort_by_key(|h| h.at);
        out
    }

    /// The derived results recorded for a content root, by producer.
    pub fn derived(&self, content: &Name) -> Option<&VecMap<Name>> {
        self.state.derived.get(content)
    }

    /// An object by id.
    pub fn get(&self, id: &Uuid) -> Option<&Obj> {
        self.state.objects.get(id).map(|o| &**o)
    }

    /// All objects of a kind, in id order ([`State::all`]).
    pub fn all(&self, kind: ObjKind) -> impl Iterator<Item = &Obj> {
        self.state.all(kind)
    }

    /// The Aktenplan node with `code` ([`State::plan_node`]).
    pub fn plan_node(&self, code: &str) -> Option<&Obj> {
        self.state.plan_node(code)
    }

    /// Direct children of an object.
    pub fn children(&self, id: &Uuid) -> impl Iterator<Item = &Obj> {
        self.state.children.get(id).into_iter().flatten().filter_map(|c| self.get(c))
    }

    /// All Dokumente in an Akte (in all its Vorgänge), in creation order.
    pub fn dokumente_of(&self, akte: &Uuid) -> Vec<&Obj> {
        // A walk of the Akte's tree, not a scan of every object: listing the Akten of a
        // repository asks this of each. An object's Akte is its parent's, fixed at
        // creation, so the Dokumente of an Akte are in its tree.
        let mut out = Vec::new();
        let mut stack = vec![*akte];
        let mut seen = HashSet::new();
        while let Some(p) = stack.pop() {
            if !seen.insert(p) {
                continue; // only a journal whose parents form a cycle gets here
            }
            for o in self.children(&p) {
                if o.kind == ObjKind::Dokument && o.akte == Some(*akte) {
                    out.push(o);
                }
                // The model puts Dokumente under Akten and Vorgänge, but the merge takes any
                // parent; the walk goes everywhere below, as the scan did.
                stack.push(o.id);
            }
        }
        out.sort_by_key(|d| (d.created, d.id));
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

mod field_map;
pub use field_map::{FieldMap, VecMap};

#[cfg(test)]
mod tests;
