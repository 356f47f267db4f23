//! Deletion: when an Akte may be deleted (retention, legal hold), the delete op that
//! records it, and the erasure of what only it used.
//!
//! A deletion is two steps. First one journal entry with a `delete` op per Akte: from then
//! on the merge treats every op on the Akte and on what is below it as void, and the op's
//! record keeps the evidence (no personal data). Then the erasure, which may be repeated
//! until it has run to the end: every record, content, chunk and derived result that only
//! the deleted Akte used is removed from the store. A pack that also holds live members is
//! not rewritten in place (no object is ever rewritten): its live members go into a new
//! pack committed by an entry without ops, then the old pack is removed. Content the Akte
//! shares with a live object (the same file in two Akten) stays, since it is still in use.
//!
//! An upload in the same process that stored (or found already stored) an object the
//! erasure would remove, and has not committed yet, pins it: the erasure keeps it. An
//! upload on another node checks right before its commit that what it found already
//! stored is still there, and is refused with a conflict otherwise (docs/FORMAT.md,
//! "Deletion", names the window that remains).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    Change, Error, Repository, Result,
    catalog::{Catalog, Obj},
    content::Manifest,
    model::ObjKind,
    object::{Kind, Name, object_path},
    pack::PACK_MEMBER_MAX,
};

/// Why an Akte may not be deleted (yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// It is not closed (z.d.A.).
    Open,
    /// It has no retention period, so it is kept for ever.
    Unlimited,
    /// The retention period runs until the end of that day.
    Running(time::Date),
    /// A legal hold is set.
    Hold,
    /// Appraised as worth archiving (`archivwuerdig`), or not appraised yet (`bewerten`):
    /// it goes to the archive through the Aussonderung, not by deletion.
    Archival(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Open => write!(f, "the Akte is not closed (z.d.A.)"),
            Refusal::Unlimited => write!(f, "the Akte has no retention period and is kept for ever"),
            Refusal::Running(d) => write!(f, "its retention period runs until {d}"),
            Refusal::Hold => write!(f, "a legal hold is set"),
            Refusal::Archival(a) if a == "archivwuerdig" => write!(
                f,
                "it is appraised archivwuerdig and goes to the archive through the Aussonderung (akte aussonderung offer)"
            ),
            Refusal::Archival(a) => write!(
                f,
                "its appraisal is {a}: the archive decides first, through the Aussonderung (akte aussonderung offer)"
            ),
        }
    }
}

/// The day an Akte was closed: its `laufzeit_ende` if set, else the day of the last change
/// of its status to `zda`.
pub fn closed_on(catalog: &Catalog, akte: &Obj) -> Option<time::Date> {
    if akte.text("status") != Some("zda") {
        return None;
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Some(d) = akte.text("laufzeit_ende").and_then(|d| time::Date::parse(d, &fmt).ok()) {
        return Some(d);
    }
    catalog
        .history(&akte.id)
        .iter()
        .rev()
        .find(|h| h.changes.iter().any(|c| c.field == "status" && c.new == "zda"))
        .and_then(|h| time::OffsetDateTime::from_unix_timestamp((h.at.ms / 1000) as i64).ok())
        .map(|t| t.date())
}

/// The last day of an Akte's retention: the retention period counts in whole years from
/// the end of the year it was closed in (the usual rule for German files). `None` when it
/// is not closed or kept for ever.
pub fn retention_end(catalog: &Catalog, akte: &Obj) -> Option<time::Date> {
    let closed = closed_on(catalog, akte)?;
    // The Akte's own period, else its Aktenplan node's default.
    let years = crate::access::inherited(catalog, akte, "retention_years").and_then(Value::as_u64)?;
    let year = closed.year().saturating_add(i32::try_from(years).unwrap_or(9000)).min(9999);
    time::Date::from_calendar_date(year, time::Month::December, 31).ok()
}

/// Whether an Akte may be deleted on `today`.
pub fn check_deletable(catalog: &Catalog, akte: &Obj, today: time::Date) -> std::result::Result<(), Refusal> {
    if akte.fields.get("legal_hold").and_then(Value::as_bool) == Some(true) {
        return Err(Refusal::Hold);
    }
    if akte.text("status") != Some("zda") {
        return Err(Refusal::Open);
    }
    match retention_end(catalog, akte) {
        None => Err(Refusal::Unlimited),
        Some(end) if end >= today => Err(Refusal::Running(end)),
        Some(_) => Ok(()),
    }
}

/// Whether an Akte may be deleted directly on `today` (`DELETE /akten/{id}`, `akte
/// delete`): as [`check_deletable`], and not if its appraisal (its own, or its
/// Aktenplan's) sends it to the archive: `archivwuerdig`, or `bewerten` (the archive has
/// not decided). Such an Akte leaves through the Aussonderung, which offers what
/// `check_deletable` allows and deletes after the archive's answer.
pub fn check_destroyable(catalog: &Catalog, akte: &Obj, today: time::Date) -> std::result::Result<(), Refusal> {
    check_deletable(catalog, akte, today)?;
    match crate::access::inherited(catalog, akte, "appraisal").and_then(Value::as_str) {
        Some(a @ ("archivwuerdig" | "bewerten")) => Err(Refusal::Archival(a.to_string())),
        _ => Ok(()),
    }
}

/// The fields that decide whether and when an Akte may be deleted.
const RETENTION_FIELDS: [&str; 6] =
    ["status", "retention_years", "laufzeit_beginn", "laufzeit_ende", "legal_hold", "appraisal"];

/// At most this many changes of [`RETENTION_FIELDS`] go into the evidence (the latest).
const MAX_RETENTION_CHANGES: usize = 100;

/// The evidence a deletion keeps about an Akte: no title or names, only what an auditor
/// needs to see that the deletion was due (Aktenzeichen, Aktenplan code, dates, counts).
pub fn evidence(catalog: &Catalog, akte: &Obj, basis: &str, reason: Option<&str>) -> Map<String, Value> {
    let mut f = Map::new();
    for k in ["aktenzeichen", "aktenplan", "retention_years", "appraisal", "laufzeit_beginn", "laufzeit_ende"] {
        if let Some(v) = akte.fields.get(k) {
            f.insert(k.into(), v.clone());
        }
    }
    // A period or appraisal taken from the Aktenplan, and that it was.
    for (k, v) in crate::access::closing_defaults(catalog, akte) {
        f.insert(format!("{k}_from"), json!("aktenplan"));
        f.insert(k, v);
    }
    f.insert("basis".into(), json!(basis));
    if let Some(r) = reason {
        f.insert("reason".into(), json!(r));
    }
    if let Some(d) = closed_on(catalog, akte) {
        f.insert("closed".into(), json!(d.to_string()));
    }
    if let Some(d) = retention_end(catalog, akte) {
        f.insert("retention_end".into(), json!(d.to_string()));
    }
    // The Akte's history goes with it; what made it deletable stays: when and by whom it was
    // really closed (`laufzeit_ende` may have been corrected since), and every change of
    // the fields that decide retention, with old and new value.
    let history = catalog.history(&akte.id);
    if let Some(h) = history.iter().rev().find(|h| h.changes.iter().any(|c| c.field == "status" && c.new == "zda")) {
        f.insert("zda_recorded".into(), json!({ "time": h.time, "actor": h.actor }));
    }
    // Who could read it (units, roles, or everyone), so that the evidence is shown to the
    // same people; named persons (`user:…`) are personal data and stay out.
    let readers: Vec<String> = crate::access::readers_of(catalog, akte)
        .into_iter()
        .filter(|t| !t.starts_with("akte:") && !t.starts_with("user:"))
        .collect();
    f.insert("readers".into(), json!(readers));
    let retention_changes: Vec<Value> = history
        .iter()
        .flat_map(|h| {
            h.changes
                .iter()
                .filter(|c| RETENTION_FIELDS.contains(&c.field.as_str()) && c.old != c.new)
                .map(|c| json!({ "time": h.time, "actor": h.actor, "field": c.field, "old": c.old, "new": c.new }))
        })
        .collect();
    // Bounded: the most recent ones, should an Akte's retention have been edited thousands
    // of times.
    let skip = retention_changes.len().saturating_sub(MAX_RETENTION_CHANGES);
    f.insert("retention_changes".into(), Value::Array(retention_changes.into_iter().skip(skip).collect()));
    let (mut vorgaenge, mut dokumente, mut versionen, mut bytes) = (0u64, 0u64, 0u64, 0u64);
    for o in catalog.state.objects.values().filter(|o| o.akte == Some(akte.id)) {
        match o.kind {
            ObjKind::Vorgang => vorgaenge += 1,
            ObjKind::Dokument => dokumente += 1,
            ObjKind::Version => {
                versionen += 1;
                bytes += o.fields.get("size").and_then(Value::as_u64).unwrap_or(0);
            }
            _ => {}
        }
    }
    f.insert("vorgaenge".into(), json!(vorgaenge));
    f.insert("dokumente".into(), json!(dokumente));
    f.insert("versionen".into(), json!(versionen));
    f.insert("bytes".into(), json!(bytes));
    f
}

/// What a deletion did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Erased {
    /// The deleted Akten.
    pub akten: Vec<Uuid>,
    /// Objects removed from the store (records, chunks, manifests, results; packed
    /// members counted one by one).
    pub objects: usize,
    /// Packs removed.
    pub packs: usize,
    /// Live members moved out of removed packs into new ones.
    pub repacked: usize,
    /// Objects kept because a live object uses them too.
    pub shared: usize,
}

impl Repository {
    /// Deletes Akten: one entry with a `delete` op per Akte (the commit point), then the
    /// erasure of everything only they used. The caller checks the policy
    /// ([`check_deletable`]) and supplies the evidence ([`evidence`]). An Akte already
    /// deleted is only erased again, so an interrupted deletion completes on a rerun.
    pub async fn delete(&mut self, akten: Vec<(Uuid, Map<String, Value>)>) -> Result<Erased> {
        let ids: Vec<Uuid> = akten.iter().map(|(id, _)| *id).collect();
        let changes: Vec<Change> = akten
            .into_iter()
            .filter(|(id, _)| !self.catalog().state.deleted.contains_key(id))
            .map(|(id, fields)| Change::Delete { id, fields })
            .collect();
        for id in &ids {
            if !self.catalog().state.deleted.contains_key(id)
                && self.catalog().get(id).is_none_or(|o| o.kind != ObjKind::Akte)
            {
                return Err(Error::NotFound(format!("There is no Akte {id}")));
            }
        }
        self.commit(changes).await?;
        self.erase(&ids).await
    }

    /// Removes from the store what only deleted Akten used (see the module docs).
    pub async fn erase(&mut self, akten: &[Uuid]) -> Result<Erased> {
        // What other nodes committed meanwhile may use the same objects.
        self.sync().await?;
        let mut report = Erased { akten: akten.to_vec(), ..Default::default() };
        let mut doomed: BTreeSet<Name> = BTreeSet::new();
        let mut live: BTreeSet<Name> = BTreeSet::new();
        for id in akten {
            if !self.catalog().state.deleted.contains_key(id) {
                return Err(Error::Invalid(format!("The Akte {id} is not deleted; nothing to erase")));
            }
            let (d, l) = self.catalog().erasable(id);
            doomed.extend(d);
            live = l;
        }
        // Content roots stand for their chunks: expand the doomed manifests, and when they
        // list chunks, the live manifests that could list the same chunks (contents above
        // the pack limit, plugins, derived results), so that shared chunks stay.
        let objects = self.objects().clone();
        let mut chunks = BTreeSet::new();
        for root in &doomed {
            chunks.extend(manifest_chunks(&objects, root).await?);
        }
        let mut live_chunks = BTreeSet::new();
        if !chunks.is_empty() {
            let state = &self.catalog().state;
            let mut roots: BTreeSet<&Name> = state
                .objects
                .values()
                .filter(|o| {
                    o.kind == ObjKind::Plugin
                        || o.fields.get("size").and_then(Value::as_u64).is_none_or(|s| s > PACK_MEMBER_MAX as u64)
                })
                .filter_map(|o| o.content.as_ref())
                .collect();
            roots.extend(state.derived.values().flat_map(|r| r.values()));
            for root in roots {
                live_chunks.extend(manifest_chunks(&objects, root).await?.into_iter().filter(|c| chunks.contains(c)));
            }
        }
        let all: BTreeSet<Name> = doomed.into_iter().chain(chunks).collect();
        // An upload in this process that stored (or found) the same object and has not
        // committed yet keeps it too.
        let keep = |n: &Name| live.contains(n) || live_chunks.contains(n) || objects.pinned(n);
        report.shared = all.iter().filter(|n| keep(n)).count();
        let erase: BTreeSet<Name> = all.iter().filter(|n| !keep(n)).cloned().collect();

        // Packs that hold something to erase: move their other members to a new pack.
        let mut members_of: BTreeMap<Name, Vec<Name>> = BTreeMap::new();
        for e in &self.catalog().entries {
            for p in &e.packs {
                members_of.entry(p.pack).or_insert_with(|| p.members.clone());
            }
        }
        let mut packs: BTreeSet<Name> = BTreeSet::new();
        for name in &erase {
            packs.extend(objects.packs_of(name));
        }
        // Packs a previous run already removed need nothing more.
        let mut present = BTreeSet::new();
        for p in packs {
            if objects.backend.exists(&object_path(&p)).await? {
                present.insert(p);
            }
        }
        let packs = present;
        let mut moved = 0;
        for pack in &packs {
            for m in members_of.get(pack).into_iter().flatten() {
                if !erase.contains(m) && objects.repack(m).await? {
                    moved += 1;
                }
            }
        }
        if moved > 0 {
            self.commit_staged_packs().await?;
        }
        report.repacked = moved;
        for name in &erase {
            if objects.packs_of(name).is_empty() {
                objects.backend.delete(&object_path(name)).await?;
            }
        }
        for pack in &packs {
            objects.backend.delete(&object_path(pack)).await?;
        }
        objects.forget_packs(&packs);
        report.packs = packs.len();
        report.objects = erase.len();
        objects.backend.barrier().await?;
        self.save_catalog()?;
        Ok(report)
    }
}

/// The chunks behind a content root that is a manifest (nothing for a single chunk or an
/// object already gone).
async fn manifest_chunks(objects: &crate::object::Objects, root: &Name) -> Result<Vec<Name>> {
    match objects.get_opt(root, Kind::Manifest).await {
        Ok(Some(bytes)) => {
            let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
                Error::integrity(object_path(root).to_string(), format!("manifest is not readable: {e}"))
            })?;
            Ok(m.chunks)
        }
        Ok(None) | Err(Error::Integrity { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}
