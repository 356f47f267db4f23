//! The metadata endpoints: Aktenplan, Akten, Vorgänge, Dokumente, closing (z.d.A.), and
//! the lookups and the commit the other endpoint modules share (accounts and tokens are in
//! `accounts`; the extractors are in `extract`, the views in `views`).

use std::sync::Arc;

use akte_store::{
    Change,
    catalog::{Catalog, Obj},
    model::{self, ObjKind},
};
use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    App,
    auth::{Action, Caller, Principal},
    extract::{Body, Id, Q},
    problem::{ApiError, ApiResult},
    views::{
        AkteView, AktenPage, Created, DokumentView, PlanView, VorgangView, akte_view, dokument_view, etag, plan_view,
        tagged, text, vorgang_view,
    },
};

/// The routes of this module.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/aktenplan", get(list_plan).post(create_plan))
        .route("/aktenplan/{id}", get(get_plan).patch(update_plan))
        .route("/akten", get(list_akten).post(create_akte))
        .route("/akten/{id}", get(get_akte).patch(update_akte).delete(super::retention::delete_akte))
        .route("/akten/{id}/close", post(close_akte))
        .route("/akten/{id}/reopen", post(reopen_akte))
        .route("/akten/{id}/vorgaenge", get(list_vorgaenge).post(create_vorgang))
        .route("/vorgaenge/{id}", get(get_vorgang).patch(update_vorgang))
        .route("/vorgaenge/{id}/close", post(close_vorgang))
        .route("/vorgaenge/{id}/reopen", post(reopen_vorgang))
        .route("/dokumente/{id}", get(get_dokument).patch(update_dokument))
}

// ---------------------------------------------------------------------------------------
// Lookups that respect visibility

/// An object of `kind` the caller may see; otherwise 404 (the same for "absent" and
/// "denied", so nothing leaks), or 410 when it was deleted after its retention and the
/// caller was among its readers (see [`deleted`]).
pub fn visible<'a>(cat: &'a Catalog, who: &Principal, id: Uuid, kind: ObjKind) -> ApiResult<&'a Obj> {
    match cat.get(&id) {
        Some(o) if o.kind == kind && who.sees_obj(cat, o) => Ok(o),
        Some(_) => Err(ApiError::no_object(kind.label(), id)),
        None => Err(deleted(cat, who, id, kind).unwrap_or_else(|| ApiError::no_object(kind.label(), id))),
    }
}

/// 410 for an id that named an Akte deleted after its retention, or something in one,
/// when the caller may see that deletion's evidence (she was among the Akte's readers):
/// a clerk following an old link learns that the Akte is gone for good, not that it
/// never was. `None` for everyone else, who get the 404 of an unknown id.
pub fn deleted(cat: &Catalog, who: &Principal, id: Uuid, kind: ObjKind) -> Option<ApiError> {
    // Erased objects name the deleted Akte they went with (the Akte itself names itself).
    let by = *cat.state.erased.get(&id)?;
    let fits = match kind {
        ObjKind::Akte => by == id,
        ObjKind::Vorgang | ObjKind::Dokument | ObjKind::Version => by != id,
        _ => false,
    };
    let tombstone = cat.state.deleted.get(&by).filter(|_| fits)?;
    // Evidence from before it recorded the Akte's readers tells only records managers.
    let told = match tombstone.evidence.get("readers") {
        Some(_) => who.sees_deletion(tombstone),
        None => who.may(Action::Retention),
    };
    if !told {
        return None;
    }
    let az = tombstone.evidence.get("aktenzeichen").and_then(Value::as_str).unwrap_or("?");
    let day = tombstone.deletion.time.get(..10).unwrap_or(&tombstone.deletion.time);
    Some(ApiError::gone(if by == id {
        format!(
            "The Akte {az} was deleted on {day} after its retention period; only the evidence of its deletion remains"
        )
    } else {
        format!("The {} {id} was deleted with the Akte {az} on {day} after its retention period", kind.label())
    }))
}

/// Refuses new content under `target` when it or anything above it is closed.
pub fn ensure_open(cat: &Catalog, target: Uuid) -> ApiResult<()> {
    let mut at = cat.get(&target);
    while let Some(o) = at {
        if o.text("status") == Some("zda") {
            return Err(ApiError::closed(match o.kind {
                ObjKind::Akte => {
                    format!("Akte {} is closed (z.d.A.); nothing can be added or changed", text(o, "aktenzeichen"))
                }
                _ => format!("The Vorgang {} is closed (z.d.A.); nothing can be added or changed", o.id),
            }));
        }
        at = o.parent.and_then(|p| cat.get(&p));
    }
    Ok(())
}

/// Checks `If-Match` against the object's current ETag.
pub fn check_if_match(headers: &HeaderMap, obj: &Obj) -> ApiResult<()> {
    let Some(want) = headers.get(header::IF_MATCH) else { return Ok(()) };
    let want = want.to_str().map_err(|_| ApiError::bad_request("The If-Match header is not readable"))?;
    let now = etag(obj);
    if want.trim() == "*" || want.split(',').any(|t| t.trim().trim_start_matches("W/") == now) {
        Ok(())
    } else {
        Err(ApiError::stale(format!("The object {} has changed; its current ETag is {now}", obj.id)))
    }
}

/// Validates an update against the caller's role: which fields whom.
fn check_update(who: &Principal, kind: ObjKind, fields: &Map<String, Value>) -> ApiResult<()> {
    if fields.is_empty() {
        return Err(ApiError::invalid("The update names no field"));
    }
    for k in fields.keys() {
        let action = match (kind, k.as_str()) {
            (_, "status") => {
                return Err(ApiError::invalid("The status changes only through …/close and …/reopen"));
            }
            (ObjKind::Akte, "retention_years" | "appraisal" | "legal_hold") => Action::Retention,
            // The Laufzeit: a writer's while the Akte is open, also a records manager's
            // (archivist) to correct after closing.
            (ObjKind::Akte, "laufzeit_beginn" | "laufzeit_ende") if who.may(Action::Retention) => Action::Retention,
            (ObjKind::Akte, "access" | "confidentiality" | "aktenzeichen") => Action::Admin,
            (ObjKind::Aktenplan, _) => Action::Admin,
            _ => Action::Write,
        };
        if !who.may(action) {
            who.require(action).map_err(|_| {
                ApiError::forbidden(format!("The role {} may not change the field {k}", who.roles.join(", ")))
            })?;
        }
    }
    model::validate(kind, fields, false).map_err(ApiError::from)
}

/// `patch` applied to `now` as a JSON merge patch (RFC 7396): an object merges member by
/// member into an object (null removes a member), anything else replaces.
fn merge_patch(now: Option<&Value>, patch: &Value) -> Value {
    let Value::Object(patch) = patch else { return patch.clone() };
    let mut out = match now {
        Some(Value::Object(now)) => now.clone(),
        _ => Map::new(),
    };
    for (k, v) in patch {
        if v.is_null() {
            out.remove(k);
        } else {
            let merged = merge_patch(out.get(k), v);
            out.insert(k.clone(), merged);
        }
    }
    Value::Object(out)
}

pub async fn commit(app: &App, who: &Principal, changes: Vec<Change>) -> ApiResult<()> {
    commit_checked(app, who, changes, |_| Ok(())).await
}

/// [`commit`] after `check` passed on the catalog under the same write lock: a rule such
/// as a unique name cannot be broken by two requests that both checked before either
/// committed (two nodes still can: this node only sees the other's entries later).
pub async fn commit_checked(
    app: &App,
    who: &Principal,
    changes: Vec<Change>,
    check: impl FnOnce(&akte_store::catalog::Catalog) -> ApiResult<()>,
) -> ApiResult<()> {
    commit_built(app, who, |cat| check(cat).map(|()| changes)).await
}

/// [`commit`] of the changes `build` makes from the catalog under the write lock; none:
/// nothing is committed (a PATCH that changes nothing writes no entry).
pub async fn commit_built(
    app: &App,
    who: &Principal,
    build: impl FnOnce(&akte_store::catalog::Catalog) -> ApiResult<Vec<Change>>,
) -> ApiResult<()> {
    let mut repo = app.repo.write().await;
    let changes = build(repo.catalog())?;
    if changes.is_empty() {
        return Ok(());
    }
    repo.actor = who.actor.clone();
    let r = repo.commit(changes).await;
    drop(repo);
    // (A store failure is counted for /metrics where it becomes the answer's problem.)
    r?;
    // Grants decide what search shows: the index follows before the answer goes out.
    if let Err(e) = app.update_index().await {
        tracing::error!(error = %format!("{e:#}"), "search index update failed");
    }
    app.wake_sync();
    Ok(())
}

/// The fields an Akte's change to `status` brings with it (also `akte set status=…`).
/// Closed (`zda`): its Laufzeit ends today, on the German calendar (closed at 00:30 on 1
/// January in Berlin is the new year, not the old one in UTC), unless it has an end, and
/// what it takes from its Aktenplan stays with it. Reopened: its Laufzeit has no end until
/// it is closed again. Nothing for a Vorgang, or for a status it has already.
pub fn status_fields(cat: &akte_store::catalog::Catalog, obj: &Obj, status: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    if obj.kind != ObjKind::Akte || obj.text("status").unwrap_or("offen") == status {
        return fields;
    }
    match status {
        "zda" => {
            if obj.text("laufzeit_ende").is_none() {
                let today = akte_store::hlc::Hlc { ms: akte_store::hlc::Hlc::now_ms(), c: 0 }.german_date();
                fields.insert("laufzeit_ende".into(), json!(today.to_string()));
            }
            fields.extend(akte_store::access::closing_defaults(cat, obj));
        }
        "offen" => {
            fields.insert("laufzeit_ende".into(), Value::Null);
        }
        _ => {}
    }
    fields
}

/// Checks the Laufzeit an Akte would have with `fields` applied to `now`: it cannot end
/// before it begins, nor in the future (the end is the day it was closed, or an earlier
/// one). Retention counts from the end, so a wrong end would make an Akte due too early or
/// keep it too long. Also what `akte set` checks.
pub fn check_laufzeit(now: Option<&akte_store::catalog::Obj>, fields: &Map<String, Value>) -> Result<(), String> {
    let value = |k: &str| -> Option<String> {
        match fields.get(k) {
            Some(v) => v.as_str().map(str::to_string),
            None => now.and_then(|o| o.text(k)).map(str::to_string),
        }
    };
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let date = |k: &str| value(k).and_then(|v| time::Date::parse(&v, &fmt).ok());
    let (begin, end) = (date("laufzeit_beginn"), date("laufzeit_ende"));
    if let (Some(b), Some(e)) = (begin, end)
        && e < b
    {
        return Err(format!("The Laufzeit cannot end ({e}) before it begins ({b})"));
    }
    let today = akte_store::hlc::Hlc { ms: akte_store::hlc::Hlc::now_ms(), c: 0 }.german_date();
    if fields.contains_key("laufzeit_ende")
        && let Some(e) = end
        && e > today
    {
        return Err(format!(
            "The Laufzeit cannot end in the future ({e}); it ends at the latest on the day of closing"
        ));
    }
    Ok(())
}

/// Refuses a new code for an Aktenplan node that another node has, or while Akten are
/// filed under the old one: Akten name their node by its code, and would lose the grants,
/// retention and appraisal they take from it without a word.
pub(crate) fn plan_code_change(
    cat: &akte_store::catalog::Catalog,
    node: &akte_store::catalog::Obj,
    fields: &Map<String, Value>,
) -> ApiResult<()> {
    let (Some(new), Some(old)) = (fields.get("code"), node.text("code")) else { return Ok(()) };
    if new.as_str() == Some(old) {
        return Ok(());
    }
    if let Some(code) = new.as_str()
        && cat.all(ObjKind::Aktenplan).any(|n| n.id != node.id && n.text("code") == Some(code))
    {
        return Err(ApiError::conflict(format!("The Aktenplan code {code} already exists")));
    }
    let filed = cat.all(ObjKind::Akte).filter(|a| a.text("aktenplan") == Some(old)).count();
    if filed > 0 {
        return Err(ApiError::conflict(format!(
            "{filed} Akte(n) are filed under the Aktenplan code {old}, and would lose what they take from it \
             (access, retention, appraisal); file them under another code first"
        )));
    }
    Ok(())
}

/// Refuses a writer's (not an admin's) move of an Akte to another Aktenplan node when the
/// move would change what the Akte takes from its node: who may read it (an Akte without
/// grants of its own has its node's), its retention or its appraisal. Those are an admin's
/// and a records manager's to set; filing it elsewhere must not set them by the back door.
fn refiling_keeps_rules(
    cat: &akte_store::catalog::Catalog,
    who: &Principal,
    akte: &Obj,
    fields: &Map<String, Value>,
) -> ApiResult<()> {
    let Some(code) = fields.get("aktenplan") else { return Ok(()) };
    if who.may(Action::Admin) || akte.fields.get("aktenplan") == Some(code) {
        return Ok(());
    }
    let mut moved = akte.clone();
    match code {
        Value::Null => moved.fields.remove("aktenplan"),
        v => moved.fields.insert("aktenplan".into(), v.clone()),
    };
    use akte_store::access::{inherited, readers_of};
    let same = |k: &str| inherited(cat, akte, k) == inherited(cat, &moved, k);
    if readers_of(cat, akte) != readers_of(cat, &moved) || !same("retention_years") || !same("appraisal") {
        let to = code.as_str().map_or("no Aktenplan node".to_string(), |c| format!("the Aktenplan node {c}"));
        return Err(ApiError::forbidden(format!(
            "Filing the Akte under {to} would change who may read it, or its retention or appraisal; an admin may"
        )));
    }
    Ok(())
}

/// Refuses an Akte filed under an Aktenplan code no node has: its grants and retention
/// come from that node, and a mistyped code would silently give none.
pub(crate) fn known_plan_code(cat: &akte_store::catalog::Catalog, fields: &Map<String, Value>) -> ApiResult<()> {
    match fields.get("aktenplan") {
        Some(Value::String(code)) if cat.plan_node(code).is_none() => Err(ApiError::invalid(format!(
            "There is no Aktenplan node {code}; create it first (POST /aktenplan, or akte aktenplan add)"
        ))),
        _ => Ok(()),
    }
}

/// 201 with the new object's id, and where it is (`Location`).
fn created(id: Uuid, at: &str) -> Response {
    let mut r = (StatusCode::CREATED, Json(Created { id })).into_response();
    if let Ok(v) = HeaderValue::from_str(at) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The codes of the Aktenplan node `code` and of every node below it in the tree (`6`
/// holds `61` and `61.2`, whose codes do not all start with `6.`).
fn codes_below(cat: &akte_store::catalog::Catalog, code: &str) -> std::collections::HashSet<String> {
    let nodes: Vec<&akte_store::catalog::Obj> = cat.all(ObjKind::Aktenplan).collect();
    let mut ids: Vec<Uuid> = nodes.iter().filter(|n| n.text("code") == Some(code)).map(|n| n.id).collect();
    let mut codes: std::collections::HashSet<String> = std::collections::HashSet::from([code.to_string()]);
    let mut seen: std::collections::HashSet<Uuid> = ids.iter().copied().collect();
    while let Some(id) = ids.pop() {
        for child in nodes.iter().filter(|n| n.parent == Some(id)) {
            if seen.insert(child.id) {
                codes.extend(child.text("code").map(str::to_string));
                ids.push(child.id);
            }
        }
    }
    codes
}

fn to_map<T: Serialize>(v: &T) -> Map<String, Value> {
    match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => Map::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Aktenplan

/// A new Aktenplan node.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanCreate {
    /// Code, e.g. `61.2` (unique).
    pub code: String,
    /// Title.
    pub title: String,
    /// The node above (its id).
    pub parent: Option<Uuid>,
    /// Default retention in years.
    pub retention_years: Option<u32>,
    /// Default appraisal: `archivwuerdig`, `bewerten`, `vernichten`.
    pub appraisal: Option<String>,
    /// Grants inherited by Akten filed here that have none of their own.
    #[schema(value_type = Option<Object>)]
    pub access: Option<Value>,
}

/// List the Aktenplan.
///
/// Every node, with its code, title, parent and defaults (access, retention, appraisal).
#[utoipa::path(get, path = "/api/v1/aktenplan", tag = "Aktenplan",
    responses((status = 200, description = "Every node, parents before children", body = Vec<PlanView>)))]
pub async fn list_plan(State(app): State<Arc<App>>, Caller(who): Caller) -> ApiResult<Json<Vec<PlanView>>> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let mut nodes: Vec<&Obj> = repo.catalog().all(ObjKind::Aktenplan).collect();
    nodes.sort_by(|a, b| a.text("code").cmp(&b.text("code")));
    Ok(Json(nodes.into_iter().map(plan_view).collect()))
}

/// Add an Aktenplan node.
///
/// Admin only. Its `access`, `retention_years` and `appraisal` are defaults for the Akten
/// filed under it and below.
#[utoipa::path(post, path = "/api/v1/aktenplan", tag = "Aktenplan", request_body = PlanCreate,
    responses((status = 201, body = Created, headers(("location" = String, description = "The new object")))))]
pub async fn create_plan(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(body): Body<PlanCreate>,
) -> ApiResult<Response> {
    who.require(Action::Admin)?;
    // The parent is the node's place in the tree, not one of its fields.
    let mut fields = to_map(&body);
    fields.remove("parent");
    model::validate(ObjKind::Aktenplan, &fields, true)?;
    let id = Uuid::now_v7();
    // Checked under the commit's lock: two requests with one code cannot both pass.
    let check = |cat: &akte_store::catalog::Catalog| {
        if cat.plan_node(&body.code).is_some() {
            return Err(ApiError::conflict(format!("The Aktenplan code {} already exists", body.code)));
        }
        if let Some(p) = body.parent {
            visible(cat, &who, p, ObjKind::Aktenplan)?;
        }
        Ok(())
    };
    let changes = vec![Change::Create { kind: ObjKind::Aktenplan, id, parent: body.parent, content: None, fields }];
    commit_checked(&app, &who, changes, check).await?;
    Ok(created(id, &format!("/api/v1/aktenplan/{id}")))
}

/// Read an Aktenplan node.
///
/// Its code, title, parent and defaults, with an `ETag` for `If-Match`.
#[utoipa::path(get, path = "/api/v1/aktenplan/{id}", tag = "Aktenplan",
    params(("id" = Uuid, Path, description = "Node id")), responses((status = 200, body = PlanView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn get_plan(State(app): State<Arc<App>>, Caller(who): Caller, Id(id): Id<Uuid>) -> ApiResult<Response> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let p = visible(repo.catalog(), &who, id, ObjKind::Aktenplan)?;
    Ok(tagged(StatusCode::OK, &etag(p), plan_view(p)))
}

/// Change an Aktenplan node.
///
/// Admin only. Send `If-Match` with the node's `ETag` to be told (412) when it changed
/// meanwhile. The code changes only while no Akte is filed under it (409 otherwise): Akten
/// name their node by its code.
#[utoipa::path(patch, path = "/api/v1/aktenplan/{id}", tag = "Aktenplan",
    params(("id" = Uuid, Path, description = "Node id"), ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
    request_body(content = Object, description = "Fields to set; null removes"), responses((status = 200, body = PlanView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn update_plan(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
    Body(fields): Body<Map<String, Value>>,
) -> ApiResult<Response> {
    update(&app, &who, id, ObjKind::Aktenplan, &headers, fields).await?;
    get_plan(State(app), Caller(who), Id(id)).await
}

pub async fn update(
    app: &App,
    who: &Principal,
    id: Uuid,
    kind: ObjKind,
    headers: &HeaderMap,
    fields: Map<String, Value>,
) -> ApiResult<()> {
    check_update(who, kind, &fields)?;
    // Checked under the write lock of the commit: two PATCHes with the same If-Match
    // cannot both pass, nor an update slip in after a close. Fields sent with the value
    // they have are left out; when none is left, nothing is written (no entry, no new
    // ETag that would fail other clients' If-Match for no change).
    let build = |cat: &akte_store::catalog::Catalog| {
        let obj = visible(cat, who, id, kind)?;
        check_if_match(headers, obj)?;
        // Retention, appraisal and hold stay editable after closing, and archivists may
        // correct the Laufzeit of a closed Akte (retention counts from its end).
        let archival = |k: &str| {
            matches!(k, "retention_years" | "appraisal" | "legal_hold")
                || (kind == ObjKind::Akte
                    && who.may(Action::Retention)
                    && matches!(k, "laufzeit_beginn" | "laufzeit_ende"))
        };
        if kind != ObjKind::Aktenplan && !fields.keys().all(|k| archival(k)) {
            ensure_open(cat, id)?;
        }
        if let Some(Value::String(az)) = fields.get("aktenzeichen")
            && let Some(holder) = cat.state.aktenzeichen.get(az)
            && *holder != id
        {
            return Err(ApiError::conflict(format!("The Aktenzeichen {az} is already in use")));
        }
        if kind == ObjKind::Akte {
            known_plan_code(cat, &fields)?;
            refiling_keeps_rules(cat, who, obj, &fields)?;
            check_laufzeit(Some(obj), &fields).map_err(ApiError::invalid)?;
            // An end before the Akte came into the repository is a records manager's
            // correction (a paper Akte filed late); a clerk's would make it due early.
            if let Some(end) = fields.get("laufzeit_ende").and_then(Value::as_str)
                && !who.may(Action::Retention)
                && end < obj.created.german_date().to_string().as_str()
            {
                return Err(ApiError::forbidden(format!(
                    "A Laufzeit that ends ({end}) before the Akte was created is set by an archivist"
                )));
            }
        }
        if kind == ObjKind::Aktenplan {
            plan_code_change(cat, obj, &fields)?;
        }
        // `custom` is merged (RFC 7396): each Fachverfahren sets its own members without
        // knowing, or erasing, the others'; null removes a member.
        let fields: Map<String, Value> = fields
            .iter()
            .map(|(k, v)| match k.as_str() {
                "custom" => (k.clone(), merge_patch(obj.fields.get(k.as_str()), v)),
                _ => (k.clone(), v.clone()),
            })
            .collect();
        let changed: Map<String, Value> = fields
            .iter()
            .filter(|(k, v)| match obj.fields.get(k.as_str()) {
                Some(now) => now != *v,
                None => !v.is_null(),
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(match changed.is_empty() {
            true => Vec::new(),
            false => vec![Change::Update { id, fields: changed }],
        })
    };
    commit_built(app, who, build).await
}

// ---------------------------------------------------------------------------------------
// Akten

/// A new Akte.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AkteCreate {
    /// Aktenzeichen, unique in the repository.
    pub aktenzeichen: String,
    /// Betreff.
    pub title: String,
    /// Aktenplan code.
    pub aktenplan: Option<String>,
    /// Retention in years after closing; absent: its Aktenplan node's (the nearest with
    /// one), else unlimited.
    pub retention_years: Option<u32>,
    /// `archivwuerdig`, `bewerten` or `vernichten`.
    pub appraisal: Option<String>,
    /// `offen`, `vs-nfd`, `vs-vertraulich`, `geheim` (admin only).
    pub confidentiality: Option<String>,
    /// Start of the Laufzeit (`YYYY-MM-DD`).
    pub laufzeit_beginn: Option<String>,
    /// Grants: `{"units": [...], "roles": [...], "users": [...]}` (admin only).
    #[schema(value_type = Option<Object>)]
    pub access: Option<Value>,
    /// Agency-specific fields.
    #[schema(value_type = Option<Object>)]
    pub custom: Option<Value>,
}

/// Filters and paging of the Akten list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AktenQuery {
    /// Only Akten filed under this Aktenplan code or below it.
    pub aktenplan: Option<String>,
    /// Only open or only closed Akten.
    #[param(value_type = Option<super::schema::Status>)]
    pub status: Option<String>,
    /// Aktenzeichen prefix.
    pub aktenzeichen: Option<String>,
    /// Only Akten changed at or after this time (RFC 3339).
    pub changed_since: Option<String>,
    /// The `next` of the previous page.
    pub after: Option<String>,
    /// Page size (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<usize>,
}

/// List the Akten.
///
/// The Akten the caller may read, oldest first, a page at a time (`limit`, `after` = the
/// `next` of the previous page); filters by Aktenplan code (and below), status,
/// Aktenzeichen prefix and change time.
#[utoipa::path(get, path = "/api/v1/akten", tag = "Akten", params(AktenQuery),
    responses((status = 200, body = AktenPage)))]
pub async fn list_akten(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Q(q): Q<AktenQuery>,
) -> ApiResult<Json<AktenPage>> {
    who.require(Action::Read)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("The parameter limit must be between 1 and 500"));
    }
    let since = match &q.changed_since {
        Some(s) => Some(
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::bad_request(format!("changed_since {s:?} is not an RFC 3339 time")))?,
        ),
        None => None,
    };
    let since_ms = since.map(|t| (t.unix_timestamp_nanos() / 1_000_000).max(0) as u64);
    let after = match &q.after {
        Some(a) => Some(a.parse::<Uuid>().map_err(|_| {
            ApiError::bad_request("The parameter after is not a cursor of this list (the next of an earlier page)")
        })?),
        None => None,
    };
    if let Some(s) = &q.status
        && s != "offen"
        && s != "zda"
    {
        return Err(ApiError::bad_request("status is offen or zda"));
    }
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    let mut items = Vec::new();
    let mut next = None;
    let below = q.aktenplan.as_deref().map(|code| codes_below(cat, code));
    // Ids are UUIDv7: the order of creation, and stable under concurrent inserts elsewhere.
    for a in cat
        .state
        .objects
        .range(
            after
                .map(|a| (std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded))
                .unwrap_or((std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)),
        )
        .map(|(_, o)| o)
    {
        if a.kind != ObjKind::Akte || !who.sees(cat, a) {
            continue;
        }
        if let (Some(code), Some(below)) = (&q.aktenplan, &below) {
            let c = a.text("aktenplan").unwrap_or_default();
            let by_name = c == code || c.starts_with(&format!("{code}.")) || c.starts_with(&format!("{code}-"));
            if !by_name && !below.contains(c) {
                continue;
            }
        }
        if q.status.as_deref().is_some_and(|s| a.text("status").unwrap_or("offen") != s) {
            continue;
        }
        if q.aktenzeichen.as_deref().is_some_and(|p| !a.text("aktenzeichen").unwrap_or_default().starts_with(p)) {
            continue;
        }
        if since_ms.is_some_and(|ms| a.updated.ms < ms) {
            continue;
        }
        if items.len() == limit {
            next = items.last().map(|v: &AkteView| v.id.to_string());
            break;
        }
        items.push(akte_view(cat, a));
    }
    Ok(Json(AktenPage { items, next }))
}

/// Create an Akte.
///
/// Answers 201 with its id and `Location`. The Aktenzeichen must be new (409 names the Akte
/// that has it). Takes `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/akten", tag = "Akten", request_body = AkteCreate,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retried request with the same key creates nothing twice")),
    responses((status = 201, body = Created, headers(("location" = String, description = "The new object")))))]
pub async fn create_akte(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    headers: HeaderMap,
    Body(body): Body<AkteCreate>,
) -> ApiResult<Response> {
    who.require(Action::Write)?;
    if (body.access.is_some() || body.confidentiality.is_some()) && !who.may(Action::Admin) {
        return Err(ApiError::forbidden("Only an admin sets access or confidentiality"));
    }
    // As for a change: who may not shorten the retention of an Akte may not create it short.
    if (body.retention_years.is_some() || body.appraisal.is_some()) && !who.may(Action::Retention) {
        return Err(ApiError::forbidden(format!(
            "The role {} may not set retention_years or appraisal; without them the Akte takes its Aktenplan node's",
            who.roles.join(", ")
        )));
    }
    let key = super::idempotency::idempotency_key(&headers, &who, "/akten")?;
    let mut fields = to_map(&body);
    let key = match super::idempotency::claim_key(&app, key, || serde_json::to_string(&fields).unwrap_or_default())? {
        Ok(guard) => guard,
        Err(replay) => return Ok(replay),
    };
    fields.insert("status".into(), json!("offen"));
    model::validate(ObjKind::Akte, &fields, true)?;
    check_laufzeit(None, &fields).map_err(ApiError::invalid)?;
    let id = Uuid::now_v7();
    {
        let mut repo = app.repo.write().await;
        let cat = repo.catalog();
        if let Some(holder) = cat.state.aktenzeichen.get(&body.aktenzeichen) {
            // The holder's id only to who may see it: an id is a handle, and a UUIDv7 tells
            // when the Akte was made.
            let named = cat.get(holder).filter(|a| who.sees(cat, a)).map(|a| format!(" by Akte {}", a.id));
            return Err(ApiError::conflict(format!(
                "The Aktenzeichen {} is already used{}",
                body.aktenzeichen,
                named.unwrap_or_default()
            )));
        }
        known_plan_code(repo.catalog(), &fields)?;
        repo.actor = who.actor.clone();
        repo.commit(vec![Change::Create { kind: ObjKind::Akte, id, parent: None, content: None, fields }]).await?;
    }
    app.wake_sync();
    let r = created(id, &format!("/api/v1/akten/{id}"));
    if let Some(guard) = key {
        guard.answer(StatusCode::CREATED, json!({"id": id}), Some(format!("/api/v1/akten/{id}")), None);
    }
    Ok(r)
}

/// Read an Akte.
///
/// Its metadata, with an `ETag` for `If-Match` on changes.
#[utoipa::path(get, path = "/api/v1/akten/{id}", tag = "Akten",
    params(("id" = Uuid, Path, description = "Akte id")), responses((status = 200, body = AkteView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn get_akte(State(app): State<Arc<App>>, Caller(who): Caller, Id(id): Id<Uuid>) -> ApiResult<Response> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    let a = visible(cat, &who, id, ObjKind::Akte)?;
    app.record_read(&who, id, super::schema::Read::Metadata);
    Ok(tagged(StatusCode::OK, &etag(a), akte_view(cat, a)))
}

/// Change an Akte's metadata.
///
/// JSON merge: the fields sent replace those stored, `null` removes one; `custom` merges
/// member by member (RFC 7396), so clients may each keep their own members. Send
/// `If-Match` with the `ETag` read to be told (412) when it changed meanwhile. Status changes only
/// through …/close and …/reopen.
#[utoipa::path(patch, path = "/api/v1/akten/{id}", tag = "Akten",
    params(("id" = Uuid, Path, description = "Akte id"), ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
    request_body(content = Object, description = "Fields to set; null removes an optional field"),
    responses((status = 200, body = AkteView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn update_akte(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
    Body(fields): Body<Map<String, Value>>,
) -> ApiResult<Response> {
    update(&app, &who, id, ObjKind::Akte, &headers, fields).await?;
    get_akte(State(app), Caller(who), Id(id)).await
}

/// Closes (`zda`) or reopens (`offen`) an Akte or a Vorgang. Checked and built under the
/// commit's lock: a change, or a close of what is above, cannot slip in between, and the
/// Laufzeit's end and the Aktenplan's defaults are those of the moment of closing.
pub async fn set_status(
    app: &App,
    who: &Principal,
    id: Uuid,
    kind: ObjKind,
    status: &str,
    headers: &HeaderMap,
) -> ApiResult<()> {
    let build = |cat: &akte_store::catalog::Catalog| {
        let obj = visible(cat, who, id, kind)?;
        check_if_match(headers, obj)?;
        if obj.text("status").unwrap_or("offen") == status {
            return Err(ApiError::conflict(format!("The {} is already {status}", kind.label())));
        }
        // Reopening needs nothing above closed; a Vorgang of a closed Akte is not closed
        // either (nothing in a closed Akte changes).
        if (status == "offen" || kind == ObjKind::Vorgang)
            && let Some(p) = obj.parent
        {
            ensure_open(cat, p)?;
        }
        let mut fields = status_fields(cat, obj, status);
        fields.insert("status".into(), json!(status));
        Ok(vec![Change::Update { id, fields }])
    };
    commit_built(app, who, build).await
}

/// Close an Akte (z.d.A.).
///
/// Nothing in it can be added or changed afterwards; its Laufzeit ends today unless it was
/// set. Takes `If-Match`.
#[utoipa::path(post, path = "/api/v1/akten/{id}/close", tag = "Akten",
    params(("id" = Uuid, Path, description = "Akte id")), responses((status = 200, body = AkteView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn close_akte(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    who.require(Action::Close)?;
    set_status(&app, &who, id, ObjKind::Akte, "zda", &headers).await?;
    get_akte(State(app), Caller(who), Id(id)).await
}

/// Reopen a closed Akte.
///
/// Admin only. Its Laufzeit has no end until it is closed again. Takes `If-Match`.
#[utoipa::path(post, path = "/api/v1/akten/{id}/reopen", tag = "Akten",
    params(("id" = Uuid, Path, description = "Akte id")), responses((status = 200, body = AkteView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn reopen_akte(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    who.require(Action::Admin)?;
    set_status(&app, &who, id, ObjKind::Akte, "offen", &headers).await?;
    get_akte(State(app), Caller(who), Id(id)).await
}

// ---------------------------------------------------------------------------------------
// Vorgänge

/// A new Vorgang.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VorgangCreate {
    /// Subject.
    pub title: String,
    /// A Vorgang of the same Akte to nest this one in.
    pub parent: Option<Uuid>,
}

/// List an Akte's Vorgänge.
///
/// Whole, or a page at a time with `limit` and `offset` (`X-Total-Count`, `Link:
/// rel="next"`).
#[utoipa::path(get, path = "/api/v1/akten/{id}/vorgaenge", tag = "Vorgänge",
    params(("id" = Uuid, Path, description = "Akte id"), super::paging::Paging),
    responses((status = 200, body = Vec<VorgangView>, headers(("x-total-count" = usize, description = "How many items the whole list has"), ("link" = String, description = "With `limit`, while more follow: `<next page>; rel=\"next\"`")))))]
pub async fn list_vorgaenge(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    super::extract::Q(paging): super::extract::Q<super::paging::Paging>,
) -> ApiResult<Response> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    visible(cat, &who, id, ObjKind::Akte)?;
    let all: Vec<VorgangView> = cat.all(ObjKind::Vorgang).filter(|v| v.akte == Some(id)).map(vorgang_view).collect();
    paging.answer(all, &format!("/api/v1/akten/{id}/vorgaenge"))
}

/// Create a Vorgang in an Akte.
///
/// Optionally nested in another Vorgang of the same Akte (`parent`). Takes
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/akten/{id}/vorgaenge", tag = "Vorgänge", request_body = VorgangCreate,
    params(("id" = Uuid, Path, description = "Akte id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A retried request with the same key creates nothing twice")),
    responses((status = 201, body = Created, headers(("location" = String, description = "The new object")))))]
pub async fn create_vorgang(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(akte): Id<Uuid>,
    headers: HeaderMap,
    Body(body): Body<VorgangCreate>,
) -> ApiResult<Response> {
    who.require(Action::Write)?;
    let key = super::idempotency::idempotency_key(&headers, &who, &format!("/akten/{akte}/vorgaenge"))?;
    let fingerprint = || format!("{}\u{0}{}", body.title, body.parent.map(|p| p.to_string()).unwrap_or_default());
    let key = match super::idempotency::claim_key(&app, key, fingerprint)? {
        Ok(guard) => guard,
        Err(replay) => return Ok(replay),
    };
    let mut fields = Map::new();
    fields.insert("title".into(), json!(body.title));
    model::validate(ObjKind::Vorgang, &fields, true)?;
    let id = Uuid::now_v7();
    // Checked under the commit's lock: an Akte closed (or a grant withdrawn) while this
    // request waited gets no new Vorgang.
    let build = |cat: &akte_store::catalog::Catalog| {
        visible(cat, &who, akte, ObjKind::Akte)?;
        let parent = match body.parent {
            Some(p) => {
                let v = visible(cat, &who, p, ObjKind::Vorgang)?;
                if v.akte != Some(akte) {
                    return Err(ApiError::invalid(format!("The Vorgang {p} is not in Akte {akte}")));
                }
                p
            }
            None => akte,
        };
        ensure_open(cat, parent)?;
        Ok(vec![Change::Create { kind: ObjKind::Vorgang, id, parent: Some(parent), content: None, fields }])
    };
    commit_built(&app, &who, build).await?;
    let at = format!("/api/v1/vorgaenge/{id}");
    if let Some(guard) = key {
        guard.answer(StatusCode::CREATED, json!({"id": id}), Some(at.clone()), None);
    }
    Ok(created(id, &at))
}

/// Read a Vorgang.
///
/// Its title, status, Akte and parent, with an `ETag` for `If-Match`.
#[utoipa::path(get, path = "/api/v1/vorgaenge/{id}", tag = "Vorgänge",
    params(("id" = Uuid, Path, description = "Vorgang id")), responses((status = 200, body = VorgangView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn get_vorgang(State(app): State<Arc<App>>, Caller(who): Caller, Id(id): Id<Uuid>) -> ApiResult<Response> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let v = visible(repo.catalog(), &who, id, ObjKind::Vorgang)?;
    app.record_read(&who, id, super::schema::Read::Metadata);
    Ok(tagged(StatusCode::OK, &etag(v), vorgang_view(v)))
}

/// Change a Vorgang's metadata.
///
/// JSON merge, as for an Akte; takes `If-Match`.
#[utoipa::path(patch, path = "/api/v1/vorgaenge/{id}", tag = "Vorgänge",
    params(("id" = Uuid, Path, description = "Vorgang id"), ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
    request_body(content = Object, description = "Fields to set"), responses((status = 200, body = VorgangView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn update_vorgang(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
    Body(fields): Body<Map<String, Value>>,
) -> ApiResult<Response> {
    update(&app, &who, id, ObjKind::Vorgang, &headers, fields).await?;
    get_vorgang(State(app), Caller(who), Id(id)).await
}

/// Close a Vorgang.
///
/// Nothing can be filed into it afterwards. Not in a closed Akte. Takes `If-Match`.
#[utoipa::path(post, path = "/api/v1/vorgaenge/{id}/close", tag = "Vorgänge",
    params(("id" = Uuid, Path, description = "Vorgang id")), responses((status = 200, body = VorgangView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn close_vorgang(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    who.require(Action::Close)?;
    set_status(&app, &who, id, ObjKind::Vorgang, "zda", &headers).await?;
    get_vorgang(State(app), Caller(who), Id(id)).await
}

/// Reopen a closed Vorgang.
///
/// Admin only; not in a closed Akte. Takes `If-Match`.
#[utoipa::path(post, path = "/api/v1/vorgaenge/{id}/reopen", tag = "Vorgänge",
    params(("id" = Uuid, Path, description = "Vorgang id")), responses((status = 200, body = VorgangView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn reopen_vorgang(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    who.require(Action::Admin)?;
    set_status(&app, &who, id, ObjKind::Vorgang, "offen", &headers).await?;
    get_vorgang(State(app), Caller(who), Id(id)).await
}

// ---------------------------------------------------------------------------------------
// Dokumente (metadata; content is in `content.rs`)

/// Read a Dokument's metadata.
///
/// With its versions' summary and an `ETag` for `If-Match`.
#[utoipa::path(get, path = "/api/v1/dokumente/{id}", tag = "Dokumente",
    params(("id" = Uuid, Path, description = "Dokument id")), responses((status = 200, body = DokumentView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn get_dokument(State(app): State<Arc<App>>, Caller(who): Caller, Id(id): Id<Uuid>) -> ApiResult<Response> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    let d = visible(cat, &who, id, ObjKind::Dokument)?;
    app.record_read(&who, id, super::schema::Read::Metadata);
    Ok(tagged(StatusCode::OK, &etag(d), dokument_view(cat, d)))
}

/// Change a Dokument's metadata.
///
/// JSON merge; takes `If-Match`. Its content changes only by a new version.
#[utoipa::path(patch, path = "/api/v1/dokumente/{id}", tag = "Dokumente",
    params(("id" = Uuid, Path, description = "Dokument id"), ("If-Match" = Option<String>, Header, description = "ETag the change is based on")),
    request_body(content = Object, description = "Fields to set: title, document_type, received, sent, date, sender, recipient, custom"),
    responses((status = 200, body = DokumentView, headers(("etag" = String, description = "The state this answer shows; send it as `If-Match` to change the object")))))]
pub async fn update_dokument(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    headers: HeaderMap,
    Body(fields): Body<Map<String, Value>>,
) -> ApiResult<Response> {
    update(&app, &who, id, ObjKind::Dokument, &headers, fields).await?;
    get_dokument(State(app), Caller(who), Id(id)).await
}
