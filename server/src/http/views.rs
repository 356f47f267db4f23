//! The JSON views of the metadata objects (Aktenplan node, Akte, Vorgang, Dokument,
//! version), as the endpoints answer with them, and the answer with an `ETag`.

use akte_store::catalog::{Catalog, Obj};
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::schema::Status;

/// An Aktenplan node.
#[derive(Serialize, ToSchema)]
pub struct PlanView {
    /// Id.
    pub id: Uuid,
    /// Code, e.g. `61.2`.
    pub code: String,
    /// Title.
    pub title: String,
    /// The node above, if any.
    pub parent: Option<Uuid>,
    /// Every field.
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// Version tag for `If-Match`.
    pub etag: String,
}

/// An Akte.
#[derive(Serialize, ToSchema)]
pub struct AkteView {
    /// Id.
    pub id: Uuid,
    /// Aktenzeichen.
    pub aktenzeichen: String,
    /// Betreff.
    pub title: String,
    /// Open, or closed (zu den Akten).
    pub status: Status,
    /// Aktenplan code.
    pub aktenplan: Option<String>,
    /// Every field (retention, appraisal, confidentiality, legal hold, access, custom …).
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// Number of Dokumente.
    pub dokumente: usize,
    /// When created (RFC 3339).
    pub created: String,
    /// Who created it.
    pub created_by: String,
    /// When last changed (RFC 3339).
    pub updated: String,
    /// Version tag for `If-Match`.
    pub etag: String,
    /// A conflict a person must settle (duplicate Aktenzeichen from two nodes).
    pub conflict: Option<String>,
}

/// A Vorgang.
#[derive(Serialize, ToSchema)]
pub struct VorgangView {
    /// Id.
    pub id: Uuid,
    /// The Akte.
    pub akte_id: Uuid,
    /// The Akte or Vorgang it is in.
    pub parent_id: Uuid,
    /// Subject.
    pub title: String,
    /// Open, or closed (zu den Akten).
    pub status: Status,
    /// Every field.
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// When created (RFC 3339).
    pub created: String,
    /// When last changed (RFC 3339).
    pub updated: String,
    /// Version tag for `If-Match`.
    pub etag: String,
}

/// One version of a Dokument.
#[derive(Serialize, ToSchema)]
pub struct VersionView {
    /// Version id.
    pub id: Uuid,
    /// Number, from 1.
    #[schema(minimum = 1)]
    pub number: u32,
    /// File name.
    pub file_name: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// BLAKE3 (hex).
    pub blake3: String,
    /// SHA-256 (hex).
    pub sha256: String,
    /// When added (RFC 3339).
    pub created: String,
    /// Who added it.
    pub created_by: String,
}

/// A Dokument with its versions.
#[derive(Serialize, ToSchema)]
pub struct DokumentView {
    /// Id.
    pub id: Uuid,
    /// The Akte.
    pub akte_id: Uuid,
    /// The Vorgang, if it is in one.
    pub vorgang_id: Option<Uuid>,
    /// Title.
    pub title: String,
    /// Every field (document type, dates, sender, recipient, custom).
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// Versions, oldest first.
    pub versions: Vec<VersionView>,
    /// When created (RFC 3339).
    pub created: String,
    /// When last changed (RFC 3339).
    pub updated: String,
    /// Version tag for `If-Match`.
    pub etag: String,
}

/// A page of Akten.
#[derive(Serialize, ToSchema)]
pub struct AktenPage {
    /// The Akten.
    pub items: Vec<AkteView>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

/// The id of something created.
#[derive(Serialize, ToSchema)]
pub struct Created {
    /// Id.
    pub id: Uuid,
}

/// The ETag of an object.
pub fn etag(obj: &Obj) -> String {
    format!("\"{}.{}\"", obj.updated.ms, obj.updated.c)
}

pub(super) fn text(o: &Obj, k: &str) -> String {
    o.text(k).unwrap_or_default().to_string()
}

/// The view of an Akte.
pub fn akte_view(cat: &Catalog, a: &Obj) -> AkteView {
    AkteView {
        id: a.id,
        aktenzeichen: text(a, "aktenzeichen"),
        title: text(a, "title"),
        status: Status::of(a),
        aktenplan: a.text("aktenplan").map(str::to_string),
        fields: a.fields.to_map(),
        dokumente: cat.dokumente_of(&a.id).len(),
        created: a.created.rfc3339(),
        created_by: a.created_by.clone(),
        updated: a.updated.rfc3339(),
        etag: etag(a),
        conflict: a.conflict.clone(),
    }
}

pub(super) fn vorgang_view(v: &Obj) -> VorgangView {
    VorgangView {
        id: v.id,
        akte_id: v.akte.unwrap_or_default(),
        parent_id: v.parent.unwrap_or_default(),
        title: text(v, "title"),
        status: Status::of(v),
        fields: v.fields.to_map(),
        created: v.created.rfc3339(),
        updated: v.updated.rfc3339(),
        etag: etag(v),
    }
}

/// The view of a version.
pub fn version_view(v: &Obj) -> VersionView {
    VersionView {
        id: v.id,
        number: v.number.unwrap_or(0),
        file_name: text(v, "file_name"),
        media_type: v.text("media_type").unwrap_or("application/octet-stream").to_string(),
        size: v.fields.get("size").and_then(Value::as_u64).unwrap_or(0),
        blake3: text(v, "blake3"),
        sha256: text(v, "sha256"),
        created: v.created.rfc3339(),
        created_by: v.created_by.clone(),
    }
}

/// The view of a Dokument.
pub fn dokument_view(cat: &Catalog, d: &Obj) -> DokumentView {
    DokumentView {
        id: d.id,
        akte_id: d.akte.unwrap_or_default(),
        vorgang_id: d.parent.filter(|p| Some(*p) != d.akte),
        title: text(d, "title"),
        fields: d.fields.to_map(),
        versions: d.versions.iter().filter_map(|v| cat.get(v)).map(version_view).collect(),
        created: d.created.rfc3339(),
        updated: d.updated.rfc3339(),
        etag: etag(d),
    }
}

pub(crate) fn plan_view(p: &Obj) -> PlanView {
    PlanView {
        id: p.id,
        code: text(p, "code"),
        title: text(p, "title"),
        parent: p.parent,
        fields: p.fields.to_map(),
        etag: etag(p),
    }
}

/// A JSON answer with an `ETag`.
pub(super) fn tagged<T: Serialize>(status: StatusCode, tag: &str, body: T) -> Response {
    let mut r = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(tag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}
