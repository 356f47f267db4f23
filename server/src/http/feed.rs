//! What happened and what is there: per-object history, the change feed for
//! Fachverfahren, and search. Each shows only what the caller may see.

use std::{collections::BTreeMap, sync::Arc};

use akte_store::{
    catalog::{Catalog, HistoryEntry, Obj},
    journal::Op,
    model::ObjKind,
};
use axum::{Json, Router, extract::State, response::Response, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    App,
    auth::{Action, Caller, Principal},
    extract::{Id, Q},
    paging::Paging,
    problem::{ApiError, ApiResult},
    schema::{ChangeAction, Kind},
};

/// The routes of this module.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/akten/{id}/history", get(history))
        .route("/akten/{id}/provenance", get(provenance))
        .route("/vorgaenge/{id}/history", get(history_vorgang))
        .route("/dokumente/{id}/history", get(history_dokument))
        .route("/changes", get(changes))
        .route("/search", get(search))
}

/// Fields whose values never leave the server (nor the CLI's history).
pub(crate) const SECRET_FIELDS: [&str; 2] = ["password_hash", "hash"];

fn redact(fields: &mut Map<String, Value>) {
    for k in SECRET_FIELDS {
        if let Some(v) = fields.get_mut(k) {
            *v = Value::String("(hidden)".into());
        }
    }
}

/// One field change.
#[derive(Serialize, ToSchema)]
pub struct FieldChange {
    /// Field.
    pub field: String,
    /// Before (any JSON value; null when unset).
    pub old: Value,
    /// After (any JSON value).
    pub new: Value,
}

/// One history entry.
#[derive(Serialize, ToSchema)]
pub struct HistoryItem {
    /// When (RFC 3339).
    pub time: String,
    /// Who.
    pub actor: String,
    /// What happened: a write (`create`, `update`, `add-version`) or a read.
    #[schema(value_type = super::schema::HistoryAction)]
    pub action: String,
    /// The object concerned (for `add-version`, the version).
    pub object: Uuid,
    /// The node that recorded it.
    pub node: String,
    /// Field changes.
    pub changes: Vec<FieldChange>,
}

fn history_item(h: &HistoryEntry) -> HistoryItem {
    HistoryItem {
        time: h.time.clone(),
        actor: h.actor.clone(),
        action: h.action.clone(),
        object: h.object,
        node: h.node.clone(),
        changes: h
            .changes
            .iter()
            .map(|c| {
                let secret = SECRET_FIELDS.contains(&c.field.as_str());
                let hide =
                    |v: &Value| if secret && !v.is_null() { Value::String("(hidden)".into()) } else { v.clone() };
                FieldChange { field: c.field.clone(), old: hide(&c.old), new: hide(&c.new) }
            })
            .collect(),
    }
}

/// Options of an Akte's history.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AkteHistoryQuery {
    /// `true`: the whole Akte, its Vorgänge and Dokumente (with their versions) too, in the
    /// order things happened; each entry names its object.
    pub all: Option<bool>,
    /// At most this many entries (1–1000); absent: all of them.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Entries to skip (default 0).
    pub offset: Option<usize>,
}

/// Read an Akte's history.
///
/// Who did what when: its own entries, or with `all=true` those of its Vorgänge, Dokumente
/// and versions too. Reads are entries as well. Pages with `limit` and `offset`.
#[utoipa::path(get, path = "/api/v1/akten/{id}/history", tag = "Verlauf",
    params(("id" = Uuid, Path, description = "Akte id"), AkteHistoryQuery),
    responses((status = 200, body = Vec<HistoryItem>, headers(("x-total-count" = usize, description = "How many items the whole list has"), ("link" = String, description = "With `limit`, while more follow: `<next page>; rel=\"next\"`")))))]
pub async fn history(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    Q(q): Q<AkteHistoryQuery>,
) -> ApiResult<Response> {
    let paging = Paging { limit: q.limit, offset: q.offset };
    let path = format!("/api/v1/akten/{id}/history");
    if q.all != Some(true) {
        return history_of(&app, &who, id, ObjKind::Akte, paging, &path).await;
    }
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    super::api::visible(cat, &who, id, ObjKind::Akte)?;
    app.record_read(&who, id, super::schema::Read::History);
    let all = cat.history_of_akte(&id);
    let page = |skip, take| all.iter().skip(skip).take(take).map(history_item).collect::<Vec<_>>();
    paging.answer_with(all.len(), page, &format!("{path}?all=true"))
}

/// What an import kept of an Akte's past.
#[derive(Serialize, ToSchema)]
pub struct ProvenanceView {
    /// The package's format: `bagit`, `ocfl`, `xdomea` or `paperless`.
    pub format: String,
    /// The source as the package named it (BagIt `External-Identifier`, OCFL object id,
    /// the Paperless-ngx version and manifest digest).
    pub source: Option<String>,
    /// The history of each object (the Akte, its Vorgänge, Dokumente and versions) as
    /// the package had it, by object id: who did what when, before the import. The
    /// repository's own history of them starts with the import.
    #[schema(value_type = Object)]
    pub history: BTreeMap<Uuid, Vec<Value>>,
    /// For an OCFL import: the object's versions as its inventory had them (created,
    /// message, user).
    #[schema(value_type = Option<Vec<Object>>)]
    pub ocfl_versions: Option<Value>,
}

/// Read what an import kept of an Akte's past.
///
/// For an Akte that came in by import (xdomea, BagIt, OCFL, Paperless-ngx): the history
/// the package brought of each of its objects, from before the import. 404 for an Akte
/// made here.
#[utoipa::path(get, path = "/api/v1/akten/{id}/provenance", tag = "Verlauf",
    params(("id" = Uuid, Path, description = "Akte id")), responses((status = 200, body = ProvenanceView)))]
pub async fn provenance(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
) -> ApiResult<Json<ProvenanceView>> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    super::api::visible(cat, &who, id, ObjKind::Akte)?;
    app.record_read(&who, id, super::schema::Read::History);
    let found = akte_exchange::provenance::Provenance::load(&repo, cat, id).await.map_err(|e| match e {
        akte_exchange::Error::Store(e) => ApiError::from(e),
        e => ApiError::integrity(format!("The provenance of Akte {id} cannot be read: {e}")),
    })?;
    let p = found
        .ok_or_else(|| ApiError::not_found(format!("Akte {id} was not imported; its history is GET …/history")))?;
    Ok(Json(ProvenanceView {
        format: p.format,
        source: p.source,
        history: p.history,
        ocfl_versions: p.ocfl.map(|o| serde_json::to_value(o.versions).unwrap_or(Value::Null)),
    }))
}

/// Read a Vorgang's history.
///
/// Pages with `limit` and `offset`.
#[utoipa::path(get, path = "/api/v1/vorgaenge/{id}/history", tag = "Verlauf",
    params(("id" = Uuid, Path, description = "Vorgang id"), Paging), responses((status = 200, body = Vec<HistoryItem>, headers(("x-total-count" = usize, description = "How many items the whole list has"), ("link" = String, description = "With `limit`, while more follow: `<next page>; rel=\"next\"`")))))]
pub async fn history_vorgang(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    Q(paging): Q<Paging>,
) -> ApiResult<Response> {
    history_of(&app, &who, id, ObjKind::Vorgang, paging, &format!("/api/v1/vorgaenge/{id}/history")).await
}

/// Read a Dokument's history.
///
/// Its versions' entries included. Pages with `limit` and `offset`.
#[utoipa::path(get, path = "/api/v1/dokumente/{id}/history", tag = "Verlauf",
    params(("id" = Uuid, Path, description = "Dokument id"), Paging), responses((status = 200, body = Vec<HistoryItem>, headers(("x-total-count" = usize, description = "How many items the whole list has"), ("link" = String, description = "With `limit`, while more follow: `<next page>; rel=\"next\"`")))))]
pub async fn history_dokument(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    Q(paging): Q<Paging>,
) -> ApiResult<Response> {
    history_of(&app, &who, id, ObjKind::Dokument, paging, &format!("/api/v1/dokumente/{id}/history")).await
}

async fn history_of(
    app: &App,
    who: &Principal,
    id: Uuid,
    kind: ObjKind,
    paging: Paging,
    path: &str,
) -> ApiResult<Response> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    let obj = super::api::visible(cat, who, id, kind)?;
    app.record_read(who, id, super::schema::Read::History);
    let all = cat.history(&obj.id);
    let page = |skip, take| all.iter().skip(skip).take(take).map(history_item).collect::<Vec<_>>();
    paging.answer_with(all.len(), page, path)
}

// ---------------------------------------------------------------------------------------
// Change feed

/// Where a reader of the change feed stands: the last entry seen per journal stream.
/// Where a reader of the feed stands, per node's journal: the last entry read whole, and
/// how many ops of the node's next entry were read already (a page may end inside a large
/// entry, such as an import). Written `node-seq` or `node-seq.ops`, joined by `_`.
type Cursor = BTreeMap<String, (u64, usize)>;

fn parse_cursor(s: &str) -> ApiResult<Cursor> {
    let bad = || {
        ApiError::bad_request("The parameter since is not a cursor of the change feed (the next of an earlier page)")
    };
    let mut out = BTreeMap::new();
    for part in s.split('_').filter(|p| !p.is_empty()) {
        let (node, at) = part.split_once('-').ok_or_else(bad)?;
        let (seq, ops) = match at.split_once('.') {
            Some((seq, ops)) => (seq, ops.parse().map_err(|_| bad())?),
            None => (at, 0),
        };
        let seq = seq.parse().map_err(|_| bad())?;
        if node.is_empty() || node.len() > 64 || !node.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        out.insert(node.to_string(), (seq, ops));
    }
    Ok(out)
}

fn format_cursor(c: &Cursor) -> String {
    c.iter()
        .map(|(n, (s, ops))| if *ops == 0 { format!("{n}-{s}") } else { format!("{n}-{s}.{ops}") })
        .collect::<Vec<_>>()
        .join("_")
}

/// Paging of the change feed.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangesQuery {
    /// The `next` of the previous answer; absent: from the beginning.
    pub since: Option<String>,
    /// At most this many changes (1–1000, default 100). A page may end inside one journal
    /// entry (an import of many Dokumente is one); a derived result whose content several
    /// Dokumente share counts once but shows once per Dokument.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// One change in the feed.
#[derive(Serialize, ToSchema)]
pub struct ChangeItem {
    /// When (RFC 3339).
    pub time: String,
    /// Who.
    pub actor: String,
    /// What happened. For `derive`, the object is the Dokument whose content the result
    /// is of, and `fields.producer` names the producer.
    pub action: ChangeAction,
    /// The object's kind (plugins, accounts and tokens only for admins).
    pub kind: Kind,
    /// The object.
    pub object: Uuid,
    /// Its Akte, if any.
    pub akte_id: Option<Uuid>,
    /// What it is in: a version's Dokument, a Dokument's Vorgang or Akte, a Vorgang's
    /// Akte or Vorgang, an Aktenplan node's parent node.
    pub parent_id: Option<Uuid>,
    /// The fields set.
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

/// A page of the change feed.
#[derive(Serialize, ToSchema)]
pub struct ChangesPage {
    /// Changes, oldest first.
    pub changes: Vec<ChangeItem>,
    /// Pass as `since` to continue.
    pub next: String,
    /// Whether more changes are waiting now.
    pub more: bool,
}

fn feed_visible<'c>(who: &Principal, cat: &'c Catalog, id: &Uuid) -> Option<&'c Obj> {
    let o = cat.get(id)?;
    who.sees_obj(cat, o).then_some(o)
}

/// Follow the change feed.
///
/// Every create, update, delete and derived result the caller may see, oldest first. Pass
/// the answer's `next` as `since` to continue; at most `limit` changes a page.
#[utoipa::path(get, path = "/api/v1/changes", tag = "Verlauf", params(ChangesQuery),
    responses((status = 200, body = ChangesPage)))]
pub async fn changes(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Q(q): Q<ChangesQuery>,
) -> ApiResult<Json<ChangesPage>> {
    who.require(Action::Read)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("The parameter limit must be between 1 and 1000"));
    }
    let mut cursor = parse_cursor(q.since.as_deref().unwrap_or(""))?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    let mut out = Vec::new();
    // Derived results name a content, not a Dokument: they are kept in place as (position,
    // time, actor, content, producer) and turned into one change per Dokument with that
    // content once the page is read (one pass over the versions, only if there are any).
    let mut derived: Vec<(usize, akte_store::hlc::Hlc, String, akte_store::name::Name, String)> = Vec::new();
    let mut more = false;
    // Changes counted towards the limit (a derived result once).
    let mut counted = 0;
    'entries: for e in &cat.entries {
        let (done, read) = cursor.get(&e.node).copied().unwrap_or((0, 0));
        if e.seq <= done {
            continue;
        }
        for (i, (op, fields)) in e.ops.iter().enumerate().skip(read) {
            if counted >= limit {
                // The rest of this entry (or the next one) on the next page.
                cursor.insert(e.node.clone(), (done, i));
                more = true;
                break 'entries;
            }
            let before = out.len() + derived.len();
            let (id, action) = match op {
                Op::Create { id, .. } => (id, ChangeAction::Create),
                Op::Update { id, .. } => (id, ChangeAction::Update),
                // A deletion shows to those who may delete: the Akte's grants are gone with
                // it, so nobody else can be shown to have seen it.
                Op::Delete { id, .. } => {
                    if who.may(Action::Retention) && cat.state.deleted.get(id).is_some_and(|t| who.sees_deletion(t)) {
                        out.push(ChangeItem {
                            time: e.hlc.rfc3339(),
                            actor: e.actor.clone(),
                            action: ChangeAction::Delete,
                            kind: Kind::Akte,
                            object: *id,
                            akte_id: Some(*id),
                            parent_id: None,
                            fields: fields.map(),
                        });
                    }
                    counted += out.len() + derived.len() - before;
                    continue;
                }
                Op::Derive { content, producer, .. } => {
                    if akte_ingest::Stage::of(producer).is_some() {
                        derived.push((out.len(), e.hlc, e.actor.clone(), *content, producer.clone()));
                        counted += 1;
                    }
                    continue;
                }
                Op::Read { .. } => continue,
            };
            let Some(obj) = feed_visible(&who, cat, id) else { continue };
            counted += 1;
            let mut fields = fields.map();
            redact(&mut fields);
            out.push(ChangeItem {
                time: e.hlc.rfc3339(),
                actor: e.actor.clone(),
                action,
                kind: obj.kind.into(),
                object: *id,
                akte_id: obj.akte,
                parent_id: obj.parent,
                fields,
            });
        }
        cursor.insert(e.node.clone(), (e.seq, 0));
    }
    if !derived.is_empty() {
        let contents: std::collections::HashSet<akte_store::name::Name> = derived.iter().map(|d| d.3).collect();
        // Each content's Dokumente, with when their version of it was made.
        let mut holders: BTreeMap<akte_store::name::Name, Vec<(Uuid, akte_store::hlc::Hlc)>> = BTreeMap::new();
        for v in cat.all(ObjKind::Version) {
            if let (Some(c), Some(dok)) = (v.content, v.parent)
                && contents.contains(&c)
            {
                let list = holders.entry(c).or_default();
                match list.iter_mut().find(|(d, _)| *d == dok) {
                    Some((_, at)) => *at = (*at).min(v.created),
                    None => list.push((dok, v.created)),
                }
            }
        }
        // Inserted from the last position back, so earlier positions stay right. A result
        // is shown for the Dokumente that had its content when it was recorded, not for
        // those that came later with the same bytes (their `create` comes after it; the
        // result was ready for them when they were made).
        for (at, hlc, actor, content, producer) in derived.into_iter().rev() {
            let time = hlc.rfc3339();
            let items: Vec<ChangeItem> = holders
                .get(&content)
                .into_iter()
                .flatten()
                .filter(|(_, made)| *made <= hlc)
                .filter_map(|(dok, _)| feed_visible(&who, cat, dok))
                .map(|dok| ChangeItem {
                    time: time.clone(),
                    actor: actor.clone(),
                    action: ChangeAction::Derive,
                    kind: dok.kind.into(),
                    object: dok.id,
                    akte_id: dok.akte,
                    parent_id: dok.parent,
                    fields: [("producer".to_string(), Value::String(producer.clone()))].into_iter().collect(),
                })
                .collect();
            out.splice(at..at, items);
        }
    }
    Ok(Json(ChangesPage { changes: out, next: format_cursor(&cursor), more }))
}

// ---------------------------------------------------------------------------------------
// Search

/// A search. Read by [`SearchQuery::parse`], not by serde: `typ` may repeat, a parameter
/// that is not one of these is refused (a misspelt filter would otherwise search
/// everything), and so is a value that is not UTF-8.
#[derive(Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The query: words, "phrases", OR, NOT, Windkraft*, typ:, absender:, empfänger:, az:, datum:, status:, medium:, titel:.
    pub q: Option<String>,
    /// Only inside this Akte: its id or its Aktenzeichen.
    pub akte: Option<String>,
    /// Only these document types, also inflected (`Bescheide` finds type Bescheid); repeat the parameter for several.
    pub typ: Option<Vec<String>>,
    /// Only below this Aktenplan node (its code, e.g. `61.2`).
    pub aktenplan: Option<String>,
    /// Hits per page (1–100, default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
    /// Hits to skip (at most 10,000).
    pub offset: Option<usize>,
    /// `relevance` (default), `date` or `date-asc`.
    pub sort: Option<String>,
}

/// One hit.
#[derive(Serialize, ToSchema)]
pub struct HitView {
    /// The Dokument.
    pub dokument_id: String,
    /// Its Akte.
    pub akte_id: String,
    /// Title.
    pub title: String,
    /// HTML, escaped, with `<mark>` around matches.
    pub snippet: String,
    /// Relevance.
    pub score: f32,
    /// Aktenzeichen.
    pub aktenzeichen: String,
    /// The Vorgang the Dokument is filed in, if any.
    pub vorgang_id: Option<String>,
    /// Document type.
    pub document_type: Option<String>,
    /// The Dokument's date: received, sent or its own date, else the day it was stored.
    pub date: Option<String>,
    /// Whether only part of the Dokument's text was searched (the index keeps the first
    /// MiBs of a very long text): a word beyond it is not found.
    pub truncated: bool,
}

/// Search results.
#[derive(Serialize, ToSchema)]
pub struct SearchView {
    /// Readable matches in all.
    pub total: u64,
    /// This page.
    pub hits: Vec<HitView>,
    /// Counts per document type, media type, Aktenplan node, status and year.
    #[schema(value_type = Object)]
    pub facets: Value,
    /// Words of the query no readable document has, and what was searched instead (so a
    /// client can say "Einwendungn: showing einwendungen"): `kind` is `similar` (words
    /// within one or two typos), `parts` (the compound's parts) or `none`. Omitted when
    /// every word matched as typed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub substitutions: Vec<akte_index::Substitution>,
}

impl SearchQuery {
    /// The parameters of a raw query string. A blank value counts as absent.
    fn parse(raw: Option<&str>) -> Result<SearchQuery, ApiError> {
        let mut q = SearchQuery::default();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().map(|c| c.into_owned())
            };
            let name =
                decode(name).map_err(|_| ApiError::bad_request("A query parameter's name is not valid UTF-8."))?;
            let value = decode(value)
                .map_err(|_| ApiError::bad_request(format!("The query parameter {name} is not valid UTF-8.")))?;
            const KNOWN: [&str; 7] = ["q", "akte", "typ", "aktenplan", "limit", "offset", "sort"];
            if !KNOWN.contains(&name.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "The query parameter {name:?} is unknown; a search takes q, akte, typ, aktenplan, limit, offset and sort."
                )));
            }
            if value.trim().is_empty() && name != "q" {
                continue;
            }
            let number = |min: usize, max: usize| {
                value.trim().parse::<usize>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "The query parameter {name} must be a whole number from {min} to {max}."
                    ))
                })
            };
            let once = |slot: &Option<String>| match slot {
                Some(_) => Err(ApiError::bad_request(format!("The query parameter {name} is given more than once."))),
                None => Ok(Some(value.clone())),
            };
            match name.as_str() {
                "q" => q.q = once(&q.q)?,
                "akte" => q.akte = once(&q.akte)?,
                "typ" => q.typ.get_or_insert_with(Vec::new).push(value.clone()),
                "aktenplan" => q.aktenplan = once(&q.aktenplan)?,
                "sort" => q.sort = once(&q.sort)?,
                "limit" if q.limit.is_none() => q.limit = Some(number(1, 100)?),
                "offset" if q.offset.is_none() => q.offset = Some(number(0, 10_000)?),
                _ => {
                    return Err(ApiError::bad_request(format!("The query parameter {name} is given more than once.")));
                }
            }
        }
        Ok(q)
    }
}

/// Search.
///
/// German full-text search over what the caller may read: words, "phrases", OR, NOT,
/// `Windkraft*`, field filters (`typ:`, `absender:`, `az:`, `datum:` …). Totals, facets and
/// snippets count only readable Dokumente.
#[utoipa::path(get, path = "/api/v1/search", tag = "Suche", params(SearchQuery),
    responses((status = 200, body = SearchView)))]
pub async fn search(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> ApiResult<Json<SearchView>> {
    who.require(Action::Read)?;
    let q = SearchQuery::parse(raw.as_deref())?;
    let mut request = akte_index::SearchRequest::new(q.q.unwrap_or_default());
    // Both checked by `parse`.
    request.limit = q.limit.unwrap_or(10);
    request.offset = q.offset.unwrap_or(0);
    request.sort = match q.sort.as_deref().unwrap_or("relevance") {
        "relevance" => akte_index::Sort::Relevance,
        "date" => akte_index::Sort::DateDesc,
        "date-asc" => akte_index::Sort::DateAsc,
        other => {
            return Err(ApiError::bad_request(format!("sort {other:?} is unknown; use relevance, date or date-asc")));
        }
    };
    if let Some(a) = q.akte {
        // An Aktenzeichen no Akte has searches an Akte that does not exist, like an unknown
        // id: nothing is found, and nothing tells whether it exists.
        let id = match a.parse::<Uuid>() {
            Ok(id) => id,
            Err(_) => app.repo.read().await.catalog().find_akte(&a).map_or(Uuid::nil(), |akte| akte.id),
        };
        request.filters.akte = vec![id.to_string()];
    }
    request.filters.document_type = q.typ.unwrap_or_default();
    if let Some(code) = q.aktenplan.as_deref() {
        request.filters.aktenplan = Some(crate::search::aktenplan_filter(app.repo.read().await.catalog(), code));
    }
    let access = who.search_access();
    let app2 = app.clone();
    let found = tokio::task::spawn_blocking(move || app2.index.search(&request, &access))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            akte_index::Error::Query(m) => ApiError::bad_request(format!("The query is not valid: {m}")),
            akte_index::Error::InvalidRequest(m) => ApiError::bad_request(m),
            e => ApiError::internal(e),
        })?;
    // The index follows grants within moments; the catalog is authoritative now, so every
    // hit is checked against it and one the caller may no longer see is dropped.
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    let before = found.hits.len();
    let hits: Vec<akte_index::Hit> = found
        .hits
        .into_iter()
        .filter(|h| h.akte_id.parse::<Uuid>().ok().and_then(|a| cat.get(&a)).is_some_and(|a| who.sees(cat, a)))
        .collect();
    let dropped = (before - hits.len()) as u64;
    // What a hit shows (its title, a snippet of its text) is a read of the Dokument: the
    // history says who was shown it.
    for h in &hits {
        if let Ok(id) = h.dokument_id.parse::<Uuid>() {
            app.record_read(&who, id, super::schema::Read::Search);
        }
    }
    Ok(Json(SearchView {
        total: found.total.saturating_sub(dropped),
        hits: hits
            .into_iter()
            .map(|h| HitView {
                dokument_id: h.dokument_id,
                akte_id: h.akte_id,
                title: h.title,
                snippet: h.snippet,
                score: h.score,
                aktenzeichen: h.aktenzeichen,
                vorgang_id: h.vorgang_id,
                document_type: h.document_type,
                date: h.date,
                truncated: h.truncated,
            })
            .collect(),
        facets: serde_json::to_value(&found.facets).map_err(ApiError::internal)?,
        substitutions: found.substitutions,
    }))
}

#[cfg(test)]
mod tests {
    use super::SearchQuery;

    #[test]
    fn search_parameters_are_decoded_and_checked() {
        let q =
            SearchQuery::parse(Some("q=Windpark+Hohe%20Heide%2B&typ=Bescheid&typ=&typ=Vermerk&akte=&limit=5")).unwrap();
        assert_eq!(q.q.as_deref(), Some("Windpark Hohe Heide+"));
        assert_eq!(q.typ, Some(vec!["Bescheid".to_string(), "Vermerk".to_string()]));
        assert_eq!((q.akte, q.limit, q.offset), (None, Some(5), None));
        let empty = SearchQuery::parse(None).unwrap();
        assert!(empty.q.is_none() && empty.typ.is_none());
        for bad in
            ["q=a&q=b", "limit=1&limit=2", "offset=-1", "limit=101", "limit=0", "q=%FF", "foo=bar", "foo=", "%FF=1"]
        {
            assert!(SearchQuery::parse(Some(bad)).is_err(), "{bad}");
        }
    }
}
