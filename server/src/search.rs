//! Search for the CLI (and, later, the server): keeping this node's index in step with
//! the journal, rebuilding it, and `akte search`.
//!
//! The index is derived state in `<data>/index`. Its commit carries a cursor: the sequence
//! number of every journal stream it has seen. Bringing it up to date reads the entries
//! after the cursor, collects the Dokumente they touch (a change to an Akte or Vorgang
//! touches every Dokument in it, a derived result every Dokument with that content) and
//! re-indexes just those, from the catalog and the recorded ingest results; no plugin or
//! OCR runs again.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::{Path, PathBuf},
};

use akte_index::{Access, Index, IndexDoc, PlanNode};
use akte_ingest::Pipeline;
use akte_store::{
    Repository,
    catalog::{Catalog, Obj},
    journal::Op,
    model::ObjKind,
};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::output;

/// Where this node's index lives.
pub fn index_dir(data: &Path) -> PathBuf {
    data.join("index")
}

/// What the index has seen of the journal.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Cursor {
    v: u32,
    /// Stream → last sequence number indexed.
    streams: BTreeMap<String, u64>,
}

impl Cursor {
    fn of(catalog: &Catalog) -> Cursor {
        Cursor { v: 1, streams: catalog.streams.iter().map(|(n, h)| (n.clone(), h.seq)).collect() }
    }
}

pub use akte_store::access::readers_of;

/// The search filter for an Aktenplan code: the path of codes from the root (`6/61/61.2`),
/// as the index files each Dokument; it matches the node and everything below.
pub fn aktenplan_filter(catalog: &Catalog, code: &str) -> String {
    Plan::of(catalog).path(code.trim()).iter().map(|n| n.code.as_str()).collect::<Vec<_>>().join("/")
}

/// The Aktenplan nodes by code, read once per index update.
struct Plan<'a> {
    catalog: &'a Catalog,
    nodes: HashMap<&'a str, &'a Obj>,
}

impl<'a> Plan<'a> {
    fn of(catalog: &'a Catalog) -> Plan<'a> {
        let nodes = catalog.all(ObjKind::Aktenplan).filter_map(|o| Some((o.text("code")?, o))).collect();
        Plan { catalog, nodes }
    }

    /// The path of a code, root first.
    fn path(&self, code: &str) -> Vec<PlanNode> {
        let mut path = Vec::new();
        let mut at = self.nodes.get(code).copied();
        while let Some(node) = at {
            path.push(PlanNode {
                code: node.text("code").unwrap_or_default().to_string(),
                title: node.text("title").unwrap_or_default().to_string(),
            });
            at = node.parent.and_then(|p| self.catalog.get(&p)).filter(|p| p.kind == ObjKind::Aktenplan);
            if path.len() > 32 {
                break;
            }
        }
        if path.is_empty() && !code.is_empty() {
            path.push(PlanNode { code: code.to_string(), title: String::new() });
        }
        path.reverse();
        path
    }
}

/// What the index holds for one Dokument, or `None` when it has no version.
async fn index_doc(repo: &Repository, pipeline: &Pipeline, plan: &Plan<'_>, dok: &Obj) -> Result<Option<IndexDoc>> {
    let catalog = repo.catalog();
    let Some(version) = catalog.latest_version(&dok.id) else { return Ok(None) };
    let Some(akte) = dok.akte.and_then(|a| catalog.get(&a)) else { return Ok(None) };
    let view = pipeline.view(repo, &version.id).await?;
    let vorgang = dok.parent.and_then(|p| catalog.get(&p)).filter(|p| p.kind == ObjKind::Vorgang);
    // Received or sent is the date of the registry; an internal document has only its own;
    // one without any (an upload that gave none) has the day it was stored, so that it sorts
    // among the others by date instead of after all of them.
    let date = dok
        .text("received")
        .or_else(|| dok.text("sent"))
        .or_else(|| dok.text("date"))
        .and_then(|d| time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok())
        .or_else(|| Some(dok.created.german_date()));
    let mut fields: Vec<(String, String)> = view.fields.into_iter().collect();
    // The file's own metadata, labelled as a clerk reads the context line of a snippet.
    fields.extend(view.extracted_fields.into_iter().filter_map(|(k, v)| {
        let label = match k.as_str() {
            "title" => "Titel",
            "subject" => "Betreff",
            "author" => "Verfasser",
            "from" => "Von",
            "to" => "An",
            _ => return None,
        };
        Some((label.to_string(), v))
    }));
    Ok(Some(IndexDoc {
        dokument_id: dok.id.to_string(),
        akte_id: akte.id.to_string(),
        aktenzeichen: akte.text("aktenzeichen").unwrap_or_default().to_string(),
        akte_title: akte.text("title").unwrap_or_default().to_string(),
        aktenplan: plan.path(akte.text("aktenplan").unwrap_or_default()),
        vorgang_id: vorgang.map(|v| v.id.to_string()),
        vorgang_title: vorgang.and_then(|v| v.text("title")).map(str::to_string),
        title: dok.text("title").unwrap_or_default().to_string(),
        file_name: version.text("file_name").map(str::to_string),
        document_type: dok.text("document_type").map(str::to_string).or(view.document_type),
        media_type: version.text("media_type").map(str::to_string),
        sender: dok.text("sender").map(str::to_string),
        recipient: dok.text("recipient").map(str::to_string),
        date,
        status: Some(akte.text("status").unwrap_or("offen").to_string()),
        text: view.text,
        page_texts: Vec::new(),
        fields,
        tags: view.tags,
        readers: readers_of(catalog, akte),
        content_hash: version.text("blake3").map(str::to_string),
    }))
}

/// The Dokumente touched by the entries after `cursor` (all of them when it is `None`).
fn touched(catalog: &Catalog, cursor: Option<&Cursor>) -> BTreeSet<Uuid> {
    let Some(cursor) = cursor else {
        return catalog.all(ObjKind::Dokument).map(|d| d.id).collect();
    };
    let mut out = BTreeSet::new();
    let mut contents = BTreeSet::new();
    let mut containers = BTreeSet::new();
    for e in &catalog.entries {
        if e.seq <= cursor.streams.get(&e.node).copied().unwrap_or(0) {
            continue;
        }
        for (op, _) in &e.ops {
            match op {
                Op::Create { id, parent, .. } => {
                    out.insert(*id);
                    out.extend(*parent);
                }
                Op::Update { id, .. } => {
                    out.insert(*id);
                }
                Op::Derive { content, .. } => {
                    contents.insert(*content);
                }
                Op::Read { .. } => {}
                // Everything deleted with an Akte leaves the index.
                Op::Delete { id, .. } => {
                    if let Some(t) = catalog.state.deleted.get(id) {
                        out.extend(t.objects.iter().copied());
                    }
                }
            }
        }
    }
    for id in out.clone() {
        match catalog.get(&id).map(|o| o.kind) {
            Some(ObjKind::Akte | ObjKind::Vorgang) => {
                containers.insert(id);
            }
            // A changed Aktenplan title shows on every Dokument filed below it.
            Some(ObjKind::Aktenplan) => return catalog.all(ObjKind::Dokument).map(|d| d.id).collect(),
            // A new version changes its Dokument.
            Some(ObjKind::Version) => out.extend(catalog.get(&id).and_then(|v| v.parent)),
            // A plugin installed, switched or removed changes what the Dokumente with its
            // results show (a removed enricher's type and tags are no longer theirs).
            Some(ObjKind::Plugin) => {
                if let Some(name) = catalog.get(&id).and_then(|p| p.text("name")) {
                    let tag = format!(":{name}@");
                    for (content, producers) in &catalog.state.derived {
                        if producers.iter().any(|(p, _)| p.contains(&tag)) {
                            contents.insert(*content);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if !contents.is_empty() {
        for v in catalog.all(ObjKind::Version) {
            if v.content.as_ref().is_some_and(|c| contents.contains(c)) {
                out.extend(v.parent);
            }
        }
    }
    for d in catalog.all(ObjKind::Dokument) {
        let mut at = d.parent;
        while let Some(p) = at {
            if containers.contains(&p) {
                out.insert(d.id);
                break;
            }
            at = catalog.get(&p).and_then(|o| o.parent);
        }
    }
    // Deleted objects stay in the set, so that `sync_with` drops them from the index.
    out.retain(|id| catalog.get(id).map_or(catalog.state.erased.contains_key(id), |o| o.kind == ObjKind::Dokument));
    out
}

/// Brings the index up to date with the catalog; `full` re-indexes everything. Returns
/// the number of Dokumente (re-)indexed.
pub async fn sync(data: &Path, repo: &Repository, full: bool, quiet: bool) -> Result<usize> {
    let index = Index::open(&index_dir(data)).context("Cannot open the search index")?;
    let pipeline = crate::ingest::reader(data, repo, quiet).await?;
    let synced = sync_with(&index, &pipeline, repo, full).await?;
    let n = synced.indexed;
    if !quiet && n > 100 {
        eprintln!("akte: search index updated: {n} Dokumente.");
    }
    if !quiet {
        const NAMED: usize = 5;
        let mib = akte_index::limits::MAX_INDEXED_TEXT_BYTES >> 20;
        for id in synced.truncated.iter().take(NAMED) {
            let title = repo.catalog().get(id).and_then(|d| d.text("title")).unwrap_or_default();
            eprintln!(
                "akte: note: only the first {mib} MiB of the text of Dokument {id} ({title}) can be found by search"
            );
        }
        if synced.truncated.len() > NAMED {
            eprintln!("akte: note: and of {} more Dokumente", synced.truncated.len() - NAMED);
        }
    }
    Ok(n)
}

/// What an index update did.
pub struct Synced {
    /// Dokumente (re-)indexed.
    pub indexed: usize,
    /// Those of them whose text was longer than the index keeps.
    pub truncated: Vec<Uuid>,
}

/// Brings an open index up to date, reading recorded results through `pipeline` (the
/// server keeps both open).
pub async fn sync_with(index: &Index, pipeline: &Pipeline, repo: &Repository, full: bool) -> Result<Synced> {
    let cursor: Option<Cursor> = if full || index.needs_full_rebuild() {
        None
    } else {
        index.cursor()?.and_then(|c| serde_json::from_str(&c).ok())
    };
    let now = Cursor::of(repo.catalog());
    if cursor.as_ref() == Some(&now) {
        return Ok(Synced { indexed: 0, truncated: Vec::new() });
    }
    let docs = touched(repo.catalog(), cursor.as_ref());
    let plan = Plan::of(repo.catalog());
    let mut writer = index.writer()?;
    if cursor.is_none() {
        writer.delete_all()?;
    }
    let bar = output::bar(docs.len() as u64, false, "indexing");
    let mut truncated = Vec::new();
    // Dokumente gone from the catalog (their Akte deleted): their text must leave the
    // disk too, not only the answers.
    let gone: Vec<String> =
        docs.iter().filter(|id| repo.catalog().get(id).is_none()).map(|id| id.to_string()).collect();
    let purge = if cursor.is_some() && !gone.is_empty() { writer.segments_holding(&gone)? } else { Vec::new() };
    for id in &docs {
        let Some(dok) = repo.catalog().get(id) else {
            writer.delete(&id.to_string());
            bar.inc(1);
            continue;
        };
        let done = match index_doc(repo, pipeline, &plan, dok).await? {
            // After `delete_all` every Dokument is new (`touched` names each once).
            Some(doc) if cursor.is_none() => Some(writer.insert(&doc)?),
            Some(doc) => Some(writer.upsert(&doc)?),
            None => {
                writer.delete(&id.to_string());
                None
            }
        };
        // Named only for what changed: a rebuild would name every long text again.
        if cursor.is_some() && done.is_some_and(|d| d.truncated) {
            truncated.push(*id);
        }
        bar.inc(1);
    }
    writer.commit(Some(&serde_json::to_string(&now)?))?;
    writer.purge(&purge)?;
    bar.finish_and_clear();
    Ok(Synced { indexed: docs.len(), truncated })
}

/// The index, brought up to date first.
pub async fn open_current(data: &Path, repo: &Repository) -> Result<Index> {
    sync(data, repo, false, true).await?;
    Ok(Index::open(&index_dir(data))?)
}

/// The operator at the command line reads everything.
pub fn operator() -> Access {
    Access::all()
}

/// A snippet's HTML for a terminal: marks as `*…*`, entities decoded.
pub fn plain_snippet(html: &str) -> String {
    html.replace("<mark>", "*")
        .replace("</mark>", "*")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}
