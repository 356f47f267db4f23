//! Retention and deletion: when an Akte may go, deleting it, and the evidence that stays.
//!
//! `DELETE /akten/{id}` is refused (409 `retention`) unless the Akte is closed, its
//! retention period has ended and no legal hold is set (`akte_store::erase`). A deletion
//! removes the Akte and everything in it from every view and erases from the store what
//! only it used; its tombstone (Aktenzeichen, dates, counts, who and when, no title) is
//! shown under `/deletions` to those who may delete.

use std::sync::Arc;

use akte_store::{access, catalog::Tombstone, erase, model::ObjKind};
use axum::{Json, Router, extract::State, routing::get};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    App,
    api::visible,
    auth::{Action, Caller},
    extract::{Id, Q},
    problem::{ApiError, ApiResult},
};

/// The routes of this module.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/akten/{id}/retention", get(retention))
        .route("/deletions", get(list_deletions))
        .route("/deletions/{id}", get(get_deletion))
}

/// Where an Akte stands with its retention.
#[derive(Serialize, ToSchema)]
pub struct RetentionView {
    /// The Akte.
    pub akte_id: Uuid,
    /// The day it was closed (`laufzeit_ende`, else the day of closing), if closed.
    pub closed: Option<String>,
    /// Retention in years after the end of the year of closing: the Akte's own, else its
    /// Aktenplan node's default; absent: kept for ever.
    pub retention_years: Option<u64>,
    /// Where `retention_years` comes from: `akte` or `aktenplan`.
    pub retention_from: Option<String>,
    /// The appraisal (`archivwuerdig`, `bewerten`, `vernichten`): the Akte's own, else its
    /// Aktenplan node's.
    pub appraisal: Option<String>,
    /// The last day of retention.
    pub retention_end: Option<String>,
    /// Whether a legal hold is set.
    pub legal_hold: bool,
    /// Whether it may be deleted today.
    pub deletable: bool,
    /// Why not, in one sentence.
    pub refusal: Option<String>,
}

/// Read an Akte's retention.
///
/// When its retention ends (its own period, else its Aktenplan node's), whether it may be
/// deleted today, and why not.
#[utoipa::path(get, path = "/api/v1/akten/{id}/retention", tag = "Aussonderung",
    params(("id" = Uuid, Path, description = "Akte id")), responses((status = 200, body = RetentionView)))]
pub async fn retention(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
) -> ApiResult<Json<RetentionView>> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    let a = visible(cat, &who, id, ObjKind::Akte)?;
    let check = erase::check_destroyable(cat, a, today());
    let retention_years = access::inherited(cat, a, "retention_years");
    Ok(Json(RetentionView {
        akte_id: id,
        closed: erase::closed_on(cat, a).map(|d| d.to_string()),
        retention_years: retention_years.and_then(Value::as_u64),
        retention_from: retention_years.map(|_| {
            let own = a.fields.get("retention_years").is_some_and(|v| !v.is_null());
            (if own { "akte" } else { "aktenplan" }).to_string()
        }),
        appraisal: access::inherited(cat, a, "appraisal").and_then(Value::as_str).map(str::to_string),
        retention_end: erase::retention_end(cat, a).map(|d| d.to_string()),
        legal_hold: a.fields.get("legal_hold").and_then(Value::as_bool) == Some(true),
        deletable: check.is_ok(),
        refusal: check.err().map(|r| sentence(&r)),
    }))
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

fn sentence(r: &erase::Refusal) -> String {
    let s = r.to_string();
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Why an Akte is deleted.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// A note for the evidence (at most 500 characters; no personal data).
    pub reason: Option<String>,
}

/// A deletion: its evidence and what was erased.
#[derive(Serialize, ToSchema)]
pub struct DeletionView {
    /// The deleted Akte's id.
    pub akte_id: Uuid,
    /// When (RFC 3339).
    pub time: String,
    /// Who.
    pub actor: String,
    /// The evidence: Aktenzeichen, Aktenplan, basis, reason, closed, retention_end,
    /// counts of Vorgänge, Dokumente, Versionen and bytes.
    #[schema(value_type = Object)]
    pub evidence: Map<String, Value>,
    /// How many objects were deleted with the Akte.
    pub objects: usize,
    /// What the erasure removed from the store (only in the answer to the deletion).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub erased: Option<Value>,
}

fn deletion_view(t: &Tombstone) -> DeletionView {
    DeletionView {
        akte_id: t.id,
        time: t.deletion.time.clone(),
        actor: t.deletion.actor.clone(),
        evidence: t.evidence.clone(),
        objects: t.objects.len(),
        erased: None,
    }
}

/// Delete an Akte after its retention.
///
/// Archivist or admin; only a closed Akte without legal hold whose retention has ended.
/// Erases its contents; a tombstone keeps the evidence.
#[utoipa::path(delete, path = "/api/v1/akten/{id}", tag = "Aussonderung",
    params(("id" = Uuid, Path, description = "Akte id"), DeleteQuery),
    responses((status = 200, body = DeletionView)))]
pub async fn delete_akte(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    Q(q): Q<DeleteQuery>,
) -> ApiResult<Json<DeletionView>> {
    who.require(Action::Retention)?;
    if let Some(r) = &q.reason
        && (r.chars().count() > 500 || r.chars().any(char::is_control))
    {
        return Err(ApiError::invalid("The reason must be at most 500 characters on one line"));
    }
    let mut repo = app.repo.write().await;
    let cat = repo.catalog();
    let a = visible(cat, &who, id, ObjKind::Akte)?;
    if let Err(r) = erase::check_destroyable(cat, a, today()) {
        let az = a.text("aktenzeichen").unwrap_or_default();
        return Err(ApiError::retention(format!("Akte {az} may not be deleted: {r}")));
    }
    let evidence = erase::evidence(cat, a, "retention", q.reason.as_deref());
    repo.actor = who.actor.clone();
    let erased = repo.delete(vec![(id, evidence)]).await?;
    super::jobs::forget_deleted(&app, |a| *a == id);
    let mut view = repo
        .catalog()
        .state
        .deleted
        .get(&id)
        .map(deletion_view)
        .ok_or_else(|| ApiError::internal("the deletion left no tombstone"))?;
    view.erased = serde_json::to_value(&erased).ok();
    drop(repo);
    tracing::info!(akte = %id, actor = %who.actor, objects = erased.objects, "Akte deleted");
    if let Err(e) = app.update_index().await {
        tracing::error!(error = %format!("{e:#}"), "search index update failed");
    }
    app.wake_sync();
    Ok(Json(view))
}

/// List the deletions.
///
/// The tombstones the caller may see, with their evidence.
#[utoipa::path(get, path = "/api/v1/deletions", tag = "Aussonderung",
    responses((status = 200, body = Vec<DeletionView>)))]
pub async fn list_deletions(State(app): State<Arc<App>>, Caller(who): Caller) -> ApiResult<Json<Vec<DeletionView>>> {
    who.require(Action::Retention)?;
    let repo = app.repo.read().await;
    let mut out: Vec<DeletionView> =
        repo.catalog().state.deleted.values().filter(|t| who.sees_deletion(t)).map(deletion_view).collect();
    out.sort_by(|a, b| a.time.cmp(&b.time));
    Ok(Json(out))
}

/// Read a deletion's evidence.
///
/// For those who may delete and could read the Akte: what made it due, who deleted it
/// when, and what was erased.
#[utoipa::path(get, path = "/api/v1/deletions/{id}", tag = "Aussonderung",
    params(("id" = Uuid, Path, description = "The deleted Akte's id")),
    responses((status = 200, body = DeletionView)))]
pub async fn get_deletion(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
) -> ApiResult<Json<DeletionView>> {
    who.require(Action::Retention)?;
    let repo = app.repo.read().await;
    repo.catalog()
        .state
        .deleted
        .get(&id)
        .filter(|t| who.sees_deletion(t))
        .map(|t| Json(deletion_view(t)))
        .ok_or_else(|| ApiError::no_object("deletion", id))
}
