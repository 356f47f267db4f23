//! Reading Dokumente: the lists of an Akte's Dokumente and of a Dokument's versions,
//! downloads with `Range`, `ETag` and `Content-Disposition`, and the extracted text.
//! (Uploads are in `content.rs`.)

use std::sync::{Arc, atomic::Ordering};

use akte_store::model::ObjKind;
use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    App,
    api::visible,
    auth::{Action, Caller},
    content::io_err,
    extract::{Id, Q},
    paging::Paging,
    problem::{ApiError, ApiResult},
    schema,
    views::{DokumentView, VersionView, dokument_view, version_view},
};

// ---------------------------------------------------------------------------------------
// Lists

/// List an Akte's Dokumente.
///
/// Whole, or a page at a time with `limit` and `offset` (`X-Total-Count`, `Link:
/// rel="next"`).
#[utoipa::path(get, path = "/api/v1/akten/{id}/dokumente", tag = "Dokumente",
    params(("id" = Uuid, Path, description = "Akte id"), Paging), responses((status = 200, body = Vec<DokumentView>, headers(("x-total-count" = usize, description = "How many items the whole list has"), ("link" = String, description = "With `limit`, while more follow: `<next page>; rel=\"next\"`")))))]
pub async fn list_dokumente(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(akte): Id<Uuid>,
    Q(paging): Q<Paging>,
) -> ApiResult<Response> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    visible(cat, &who, akte, ObjKind::Akte)?;
    // The titles and file names of its Dokumente are the Akte's metadata, read.
    app.record_read(&who, akte, schema::Read::Metadata);
    let all = cat.dokumente_of(&akte);
    // Only the page's views are made.
    let page = |skip, take| all.iter().skip(skip).take(take).map(|d| dokument_view(cat, d)).collect::<Vec<_>>();
    paging.answer_with(all.len(), page, &format!("/api/v1/akten/{akte}/dokumente"))
}

/// List a Dokument's versions.
///
/// Oldest first; pages as the other lists.
#[utoipa::path(get, path = "/api/v1/dokumente/{id}/versions", tag = "Dokumente",
    params(("id" = Uuid, Path, description = "Dokument id"), Paging), responses((status = 200, body = Vec<VersionView>, headers(("x-total-count" = usize, description = "How many items the whole list has"), ("link" = String, description = "With `limit`, while more follow: `<next page>; rel=\"next\"`")))))]
pub async fn list_versions(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(dok): Id<Uuid>,
    Q(paging): Q<Paging>,
) -> ApiResult<Response> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    let d = visible(cat, &who, dok, ObjKind::Dokument)?;
    app.record_read(&who, dok, schema::Read::Metadata);
    let all: Vec<VersionView> = d.versions.iter().filter_map(|v| cat.get(v)).map(version_view).collect();
    paging.answer(all, &format!("/api/v1/dokumente/{dok}/versions"))
}

// ---------------------------------------------------------------------------------------
// Download

/// Which version to read.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// Version number (default: the latest).
    pub version: Option<u32>,
}

/// A single byte range `start..end` (end exclusive) of a content of `size` bytes, or
/// `Ok(None)` where RFC 9110 (§14.2) has the header ignored and the whole content sent: a
/// unit other than bytes, several ranges, a range that is not valid syntax (`5-2`, `x-`).
/// `Err` only for a valid range the content cannot satisfy (416).
fn parse_range(h: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = h.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else { return Ok(None) };
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else { return Ok(None) };
        if n == 0 {
            return Err(());
        }
        (size.saturating_sub(n), size)
    } else {
        let Ok(start) = a.parse::<u64>() else { return Ok(None) };
        let end = if b.is_empty() {
            size
        } else {
            let Ok(last) = b.parse::<u64>() else { return Ok(None) };
            if last < start {
                return Ok(None);
            }
            last.saturating_add(1).min(size)
        };
        (start, end)
    };
    if start >= size || start >= end {
        return Err(());
    }
    Ok(Some((start, end)))
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266).
fn disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut enc = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{enc}")
}

/// Download a Dokument's content.
///
/// The latest version, or `?version=N`; or a version by its own id. `Range`, `If-Range`,
/// `If-None-Match` (304) and `HEAD` work; the `ETag` is the BLAKE3 of the bytes.
#[utoipa::path(get, path = "/api/v1/dokumente/{id}/content", tag = "Dokumente",
    params(("id" = Uuid, Path, description = "Dokument id (or version id)"), VersionQuery,
        ("Range" = Option<String>, Header, description = "One byte range, e.g. bytes=0-1023"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag the client has")),
    responses(
        (status = 200, description = "The content, with its own media type", content_type = "*/*", body = schema::Binary),
        (status = 206, description = "The requested range", content_type = "*/*", body = schema::Binary,
            headers(("content-range" = String, description = "Which bytes of how many: `bytes 0-1023/4096`"))),
        (status = 304, description = "Not modified"),
    ))]
pub async fn download(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    Q(q): Q<VersionQuery>,
    method: axum::http::Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    who.require(Action::Read)?;
    let (objects, root, size, file_name, media, b3, dokument) = {
        let repo = app.repo.read().await;
        let cat = repo.catalog();
        let obj = match cat.get(&id) {
            Some(o) if who.sees_obj(cat, o) => o,
            Some(_) => return Err(ApiError::no_object("Dokument", id)),
            None => {
                let gone = super::api::deleted(cat, &who, id, ObjKind::Dokument);
                return Err(gone.unwrap_or_else(|| ApiError::no_object("Dokument", id)));
            }
        };
        let version = match (obj.kind, q.version) {
            (ObjKind::Version, _) => obj,
            (ObjKind::Dokument, Some(n)) => obj
                .versions
                .get((n as usize).wrapping_sub(1))
                .and_then(|v| cat.get(v))
                .ok_or_else(|| ApiError::not_found(format!("Dokument {id} has no version {n}")))?,
            (ObjKind::Dokument, None) => {
                cat.latest_version(&id).ok_or_else(|| ApiError::not_found(format!("Dokument {id} has no version")))?
            }
            _ => return Err(ApiError::no_object("Dokument", id)),
        };
        let root = version.content.ok_or_else(|| ApiError::integrity("The version has no content"))?;
        (
            repo.objects().clone(),
            root,
            version.fields.get("size").and_then(Value::as_u64).unwrap_or(0),
            version.text("file_name").unwrap_or("content").to_string(),
            version.text("media_type").unwrap_or("application/octet-stream").to_string(),
            version.text("blake3").unwrap_or_default().to_string(),
            version.parent.unwrap_or(id),
        )
    };
    let tag = format!("\"{b3}\"");
    if let Some(inm) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok())
        && (inm.trim() == "*" || inm.split(',').any(|t| t.trim().trim_start_matches("W/") == tag))
    {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(header::ETAG, HeaderValue::from_str(&tag).expect("hex"));
        return Ok(r);
    }
    let range = match headers.get(header::RANGE) {
        Some(h) => {
            let h = h.to_str().map_err(|_| ApiError::bad_request("The Range header is not readable"))?;
            // If-Range: a range only applies to the content the client has.
            let matches = headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()).is_none_or(|v| v.trim() == tag);
            if !matches {
                None
            } else {
                match parse_range(h, size) {
                    Ok(r) => r,
                    Err(()) => {
                        let mut r =
                            ApiError::bad_range(format!("The range {h:?} does not fit a content of {size} bytes"))
                                .into_response();
                        r.headers_mut().insert(
                            header::CONTENT_RANGE,
                            HeaderValue::from_str(&format!("bytes */{size}")).expect("ascii"),
                        );
                        return Ok(r);
                    }
                }
            }
        }
        None => None,
    };
    let (start, end) = range.unwrap_or((0, size));
    // Recorded only when bytes go out: not for HEAD, 304 or 416.
    if method != axum::http::Method::HEAD {
        app.record_read(&who, dokument, schema::Read::Content);
    }
    let stream = objects.read_range(&root, start, end).await?;
    app.metrics.download_bytes.fetch_add(end - start, Ordering::Relaxed);
    let body = Body::from_stream(stream.map_err(|e| {
        tracing::error!(error = %e, "download broke off");
        io_err(e)
    }));
    let mut r = Response::new(body);
    *r.status_mut() = if range.is_some() { StatusCode::PARTIAL_CONTENT } else { StatusCode::OK };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&media).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, HeaderValue::from_str(&tag).expect("hex"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition(&file_name)).expect("ascii"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Uploaded HTML must never run as this site's page.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if range.is_some() {
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end - 1)).expect("ascii"),
        );
    }
    Ok(r)
}

/// What extraction and OCR produced for a Dokument; also what `akte text --json` prints.
#[derive(Serialize, ToSchema)]
pub struct TextView {
    /// The text (extracted, or OCR for scans).
    pub text: String,
    /// Fields the extractors and enrichers found (an enricher's value wins over the
    /// extractor's).
    #[schema(value_type = Object)]
    pub fields: Value,
    /// The document type an enricher suggests (the Dokument's own type is its metadata).
    pub document_type: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Which producers' results these are.
    pub producers: Vec<String>,
    /// Failures by producer.
    #[schema(value_type = Object)]
    pub failures: Value,
    /// Whether any producer has a result for the version (a failure counts; see `state`).
    pub extracted: bool,
    /// Where the text stands: `done`, `pending`, `failed` (every extractor and OCR failed),
    /// `none` (nothing reads this media type) or `partial` (pages of a scan not read: no
    /// OCR on this node, or it failed).
    pub state: schema::TextState,
    /// Producers that have yet to run for the version on this node.
    pub pending: Vec<String>,
}

/// Read a Dokument's extracted text.
///
/// What extraction, OCR and enrichers produced for its latest version, with its state
/// (`done`, `pending`, `partial`, `failed`, `none`) and any failures.
#[utoipa::path(get, path = "/api/v1/dokumente/{id}/text", tag = "Dokumente",
    params(("id" = Uuid, Path, description = "Dokument id")), responses((status = 200, body = TextView)))]
pub async fn text(State(app): State<Arc<App>>, Caller(who): Caller, Id(id): Id<Uuid>) -> ApiResult<Json<TextView>> {
    who.require(Action::Read)?;
    let repo = app.repo.read().await;
    let cat = repo.catalog();
    visible(cat, &who, id, ObjKind::Dokument)?;
    let version =
        cat.latest_version(&id).ok_or_else(|| ApiError::not_found(format!("Dokument {id} has no version")))?;
    app.record_read(&who, id, schema::Read::Text);
    let reader = app.reader(&repo).await.map_err(|e| ApiError::internal(format!("{e:#}")))?;
    let view = reader.view(&repo, &version.id).await.map_err(|e| ApiError::internal(format!("{e:#}")))?;
    Ok(Json(TextView::from(view)))
}

impl From<akte_ingest::View> for TextView {
    fn from(view: akte_ingest::View) -> TextView {
        let mut fields: Map<String, Value> = view.extracted_fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        fields.extend(view.fields.iter().map(|(k, v)| (k.clone(), json!(v))));
        TextView {
            extracted: !view.producers.is_empty(),
            state: view.text_state().into(),
            pending: view.pending,
            text: view.text,
            fields: Value::Object(fields),
            document_type: view.document_type,
            tags: view.tags,
            producers: view.producers,
            failures: Value::Object(view.failures.into_iter().map(|(p, m)| (p, json!(m))).collect()),
        }
    }
}
