//! Content in: uploads (multipart, or the raw body) streamed into the store with bounded
//! memory, and new versions. Uploads take an `Idempotency-Key` (`idempotency.rs`). The
//! routes of reading them (lists, downloads, text) are here too; their handlers are in
//! `reading.rs`.

use std::sync::{Arc, atomic::Ordering};

use akte_ingest::document_info;
use akte_store::{
    Change,
    catalog::{FieldMap, Obj},
    content::ContentRef,
    model::{self, ObjKind},
    object::Objects,
};
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, FromRequest, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::map_response,
    response::{IntoResponse, Response},
    routing::get,
};
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    App,
    api::{ensure_open, visible},
    auth::{Action, Caller},
    extract::{Id, Q},
    idempotency::{IdempotencyGuard, UploadKey, idempotency_key},
    problem::{ApiError, ApiResult},
    reading::{download, list_dokumente, list_versions, text},
    schema,
};

/// The routes of this module.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/akten/{id}/dokumente",
            get(list_dokumente).post(upload).layer(DefaultBodyLimit::disable()).layer(map_response(close_on_error)),
        )
        .route(
            "/dokumente/{id}/versions",
            get(list_versions).post(add_version).layer(DefaultBodyLimit::disable()).layer(map_response(close_on_error)),
        )
        .route("/dokumente/{id}/content", get(download))
        .route("/dokumente/{id}/text", get(text))
}

/// An upload refused before its body was read (closed Akte, no access, too large) leaves
/// the rest of the body on the connection: the answer says `Connection: close`, so that a
/// client sends its next request on a new connection instead of one the server is about to
/// drop.
async fn close_on_error(mut r: Response) -> Response {
    if r.status().is_client_error() || r.status().is_server_error() {
        r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

// ---------------------------------------------------------------------------------------
// Upload

/// What is known of an upload when it starts: its query (file name, title, type, Vorgang …)
/// and the kind of body. Not the multipart boundary, which a client draws anew for a
/// retry, nor the length, which a retry may send otherwise (chunked once, with a length
/// the next time); the rest is checked once the body is read ([`upload_rest`]).
fn upload_start(req: &Request) -> String {
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // The query's parameters in a fixed order: a client may send them in another one.
    let mut params: Vec<&str> = req.uri().query().unwrap_or("").split('&').filter(|p| !p.is_empty()).collect();
    params.sort_unstable();
    format!("{}\u{0}{essence}", params.join("&"))
}

/// The rest of an upload's fingerprint, once its body is read: the file's name and type,
/// every field given (in the query or as multipart parts) and the digest of its bytes. A
/// retry under the same key is answered with the first upload's answer only if this is
/// the same; other bytes or fields under a reused key are refused (422), not dropped.
fn upload_rest(content: &ContentRef, file_name: &str, media: &str, meta: &UploadMeta) -> String {
    let fields = serde_json::to_string(&meta.dokument_fields()).unwrap_or_default();
    let (comment, vorgang) = (meta.comment.as_deref().unwrap_or(""), meta.vorgang.map(|v| v.to_string()));
    format!(
        "{file_name}\u{0}{media}\u{0}{fields}\u{0}{comment}\u{0}{}\u{0}{}\u{0}{}",
        vorgang.unwrap_or_default(),
        content.size,
        content.sha256
    )
}

/// Metadata of an upload given in the query (raw body) or as multipart fields.
#[derive(Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadMeta {
    /// The file name (raw body; otherwise from `Content-Disposition` or the multipart part).
    pub file_name: Option<String>,
    /// Title (default: the file name without extension).
    pub title: Option<String>,
    /// Document type (Antrag, Gutachten, Bescheid …).
    pub document_type: Option<String>,
    /// A Vorgang of the Akte to file the Dokument in.
    pub vorgang: Option<Uuid>,
    /// Date received (`YYYY-MM-DD`).
    pub received: Option<String>,
    /// Date sent (`YYYY-MM-DD`).
    pub sent: Option<String>,
    /// The date the document bears (`YYYY-MM-DD`), e.g. of an internal Vermerk.
    pub date: Option<String>,
    /// Sender.
    pub sender: Option<String>,
    /// Recipient.
    pub recipient: Option<String>,
    /// A note on the version.
    pub comment: Option<String>,
}

impl UploadMeta {
    /// The Dokument's fields this upload gives (title, type, dates, sender, recipient).
    fn dokument_fields(&self) -> Map<String, Value> {
        [
            ("title", &self.title),
            ("document_type", &self.document_type),
            ("received", &self.received),
            ("sent", &self.sent),
            ("date", &self.date),
            ("sender", &self.sender),
            ("recipient", &self.recipient),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), json!(v.as_ref()?))))
        .collect()
    }
}

/// What an upload created.
#[derive(Serialize, ToSchema)]
pub struct Uploaded {
    /// The Dokument.
    pub id: Uuid,
    /// The version number.
    pub version: u32,
    /// The version id.
    pub version_id: Uuid,
    /// Size in bytes.
    pub size: u64,
    /// BLAKE3 (hex).
    pub blake3: String,
    /// SHA-256 (hex).
    pub sha256: String,
    /// File name.
    pub file_name: String,
    /// Media type.
    pub media_type: String,
    /// What the clerk should know although the upload was stored: a validator that could
    /// not decide (failed, timed out, or does not load on this node) and was skipped.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
}

/// The multipart upload form.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The document.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Title.
    title: Option<String>,
    /// Document type.
    document_type: Option<String>,
    /// Vorgang id.
    vorgang: Option<Uuid>,
}

pub(super) fn io_err<E: std::fmt::Display>(e: E) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Streams `stream` into the store, at most `max` bytes.
async fn store_stream<S>(
    objects: &Objects,
    chunk_size: usize,
    max: u64,
    stream: S,
    head: &mut Vec<u8>,
    head_limit: usize,
) -> ApiResult<ContentRef>
where
    S: Stream<Item = std::io::Result<Bytes>> + Send + Unpin,
{
    let mut seen = 0u64;
    let limited = stream.map(|r| {
        let b = r?;
        if head.len() < head_limit {
            head.extend_from_slice(&b[..b.len().min(head_limit - head.len())]);
        }
        seen += b.len() as u64;
        if seen > max {
            return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, format!("more than {max} bytes")));
        }
        Ok(b)
    });
    let mut reader = tokio_util::io::StreamReader::new(limited);
    match objects.put_content(&mut reader, chunk_size, None, |_| {}).await {
        Ok(c) => Ok(c),
        Err(akte_store::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::FileTooLarge => {
            Err(ApiError::too_large(format!("A document may have at most {max} bytes")))
        }
        Err(akte_store::Error::Io { source, .. }) => {
            Err(ApiError::bad_request(format!("The upload broke off before its end ({source}); nothing was stored")))
        }
        Err(e) => Err(e.into()),
    }
}

/// The file name from `Content-Disposition: …; filename="…"` (or `filename*=UTF-8''…`).
fn disposition_name(headers: &HeaderMap) -> Option<String> {
    // Clients send UTF-8 file names raw as often as RFC 5987-encoded.
    let v = std::str::from_utf8(headers.get(header::CONTENT_DISPOSITION)?.as_bytes()).ok()?;
    let mut plain = None;
    for part in v.split(';').map(str::trim) {
        if let Some(enc) = part.strip_prefix("filename*=") {
            let enc = enc.trim_matches('"');
            let rest = enc.strip_prefix("UTF-8''").or_else(|| enc.strip_prefix("utf-8''"))?;
            return percent_decode(rest);
        }
        if let Some(n) = part.strip_prefix("filename=") {
            plain = Some(n.trim_matches('"').to_string());
        }
    }
    plain
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Reads an upload (multipart with a `file` part, or the raw body) into the store, and its
/// first [`HEAD_KEPT`] bytes into `head` (for the validators). Returns the content, the
/// file name, the media type (as declared, unless generic; else by the name's extension or
/// the first bytes) and the metadata.
async fn receive(
    app: &Arc<App>,
    objects: Objects,
    chunk_size: usize,
    mut meta: UploadMeta,
    req: Request,
    head: &mut Vec<u8>,
) -> ApiResult<(ContentRef, String, String, UploadMeta)> {
    let max = app.config.max_upload_bytes;
    let ctype = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if ctype.to_ascii_lowercase().starts_with("multipart/form-data") {
        let mut form = axum::extract::Multipart::from_request(req, &())
            .await
            .map_err(|e| ApiError::bad_request(format!("The multipart body is not readable: {}", e.body_text())))?;
        let mut stored = None;
        while let Some(field) =
            form.next_field().await.map_err(|e| ApiError::bad_request(format!("The multipart body is broken: {e}")))?
        {
            let name = field.name().unwrap_or_default().to_string();
            if name == "file" {
                if stored.is_some() {
                    return Err(ApiError::bad_request("Only one file part is allowed per upload"));
                }
                let file_name = field.file_name().map(str::to_string).or(meta.file_name.clone()).unwrap_or_default();
                let declared = field.content_type().map(str::to_string).filter(|m| m != "application/octet-stream");
                if let Some(m) = &declared {
                    check_media_type(m)?;
                }
                let stream = field.map_err(io_err);
                let content = store_stream(&objects, chunk_size, max, Box::pin(stream), head, HEAD_KEPT).await?;
                let media = model::media_type_settled(declared.as_deref(), &file_name, head);
                stored = Some((content, file_name, media));
                continue;
            }
            // Read up to the limit, not whole: a part that never ends must not fill memory.
            let mut field = field;
            let mut bytes = Vec::new();
            while let Some(chunk) =
                field.chunk().await.map_err(|e| ApiError::bad_request(format!("The part {name} is broken: {e}")))?
            {
                if bytes.len() + chunk.len() > MAX_FORM_PART {
                    return Err(ApiError::invalid(format!("The part {name} is longer than {MAX_FORM_PART} bytes")));
                }
                bytes.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(bytes)
                .map_err(|_| ApiError::bad_request(format!("The part {name} is not UTF-8 text")))?;
            let v = Some(value.clone());
            match name.as_str() {
                "file_name" => meta.file_name = v,
                "title" => meta.title = v,
                "document_type" => meta.document_type = v,
                "received" => meta.received = v,
                "sent" => meta.sent = v,
                "date" => meta.date = v,
                "sender" => meta.sender = v,
                "recipient" => meta.recipient = v,
                "comment" => meta.comment = v,
                "vorgang" => {
                    meta.vorgang =
                        Some(value.parse().map_err(|_| ApiError::invalid(format!("vorgang {value:?} is not an id")))?)
                }
                other => return Err(ApiError::invalid(format!("The form has an unknown part {other:?}"))),
            }
        }
        let (content, file_name, media) =
            stored.ok_or_else(|| ApiError::invalid("The multipart body has no part named file"))?;
        return Ok((content, file_name, media, meta));
    }
    let file_name = meta.file_name.clone().or_else(|| disposition_name(req.headers())).unwrap_or_default();
    // Generic types (and curl's default for --data-binary) say nothing about the document.
    let declared = Some(ctype.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty() && m != "application/octet-stream" && m != "application/x-www-form-urlencoded");
    if let Some(m) = &declared {
        check_media_type(m)?;
    }
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && len > max
    {
        return Err(ApiError::too_large(format!("A document may have at most {max} bytes")));
    }
    let stream = req.into_body().into_data_stream().map_err(io_err);
    let content = store_stream(&objects, chunk_size, max, Box::pin(stream), head, HEAD_KEPT).await?;
    let media = model::media_type_settled(declared.as_deref(), &file_name, head);
    Ok((content, file_name, media, meta))
}

/// Refuses a declared media type that is not `type/subtype` (RFC 9110 §8.3.1, tokens of
/// letters, digits and `!#$&-^_.+`): it would be stored and sent back as the
/// download's Content-Type.
fn check_media_type(declared: &str) -> ApiResult<()> {
    let essence = declared.split(';').next().unwrap_or("").trim();
    let token = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c));
    match essence.split_once('/') {
        Some((t, s)) if token(t) && token(s) => Ok(()),
        _ => Err(ApiError::unsupported_media(format!(
            "The Content-Type {:?} is not a media type (type/subtype, such as application/pdf)",
            essence.chars().take(80).collect::<String>()
        ))),
    }
}

fn version_fields(content: &ContentRef, file_name: &str, media: &str, comment: Option<&str>) -> Map<String, Value> {
    let mut f = Map::new();
    f.insert("file_name".into(), json!(file_name));
    f.insert("media_type".into(), json!(media));
    f.insert("size".into(), json!(content.size));
    f.insert("blake3".into(), json!(content.blake3));
    f.insert("sha256".into(), json!(content.sha256));
    if let Some(c) = comment {
        f.insert("comment".into(), json!(c));
    }
    f
}

fn check_file_name(name: &str) -> ApiResult<()> {
    if name.is_empty() {
        return Err(ApiError::invalid(
            "The upload needs a file name (multipart filename, Content-Disposition or ?file_name=)",
        ));
    }
    model::safe_file_name(name).map_err(ApiError::from)
}

/// Upload a Dokument into an Akte.
///
/// A multipart form with a `file` part (and metadata parts), or the raw bytes with
/// `?file_name=`. Streams to the store; the node's validators may refuse it (422
/// `rejected`). Answers 201 with digests and `Location`. Takes `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/akten/{id}/dokumente", tag = "Dokumente",
    params(("id" = Uuid, Path, description = "Akte id"), UploadMeta,
        ("Idempotency-Key" = Option<String>, Header, description = "A retried upload with the same key creates nothing twice and is answered as the first time (its body is read and compared); the key for another request (query, media type, fields or bytes differ) answers 422, a second request while the first runs 409. Remembered by this node for 24 hours, not across restarts or nodes")),
    request_body(content(
        (UploadForm = "multipart/form-data"),
        (schema::Binary = "application/octet-stream"),
    ), description = "The document: a multipart form with a `file` part, or the raw bytes"),
    responses((status = 201, body = Uploaded, headers(("location" = String, description = "The new object")))))]
pub async fn upload(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(akte): Id<Uuid>,
    Q(meta): Q<UploadMeta>,
    req: Request,
) -> ApiResult<Response> {
    who.require(Action::Write)?;
    let key = idempotency_key(req.headers(), &who, &format!("/akten/{akte}/dokumente"))?;
    let key = UploadKey::claim(&app, key, upload_start(&req))?;
    // A retry is answered as the first time, whatever has changed since (the Akte closed).
    let retry = key.is_retry();
    let (objects, chunk_size) = {
        let repo = app.repo.read().await;
        let cat = repo.catalog();
        visible(cat, &who, akte, ObjKind::Akte)?;
        if !retry {
            ensure_open(cat, akte)?;
            // A Vorgang named in the query is checked before the bytes arrive (one named in
            // the form, after; both again at the commit).
            if let Some(v) = meta.vorgang {
                vorgang_in(cat, &who, akte, v)?;
            }
        }
        (repo.objects().clone(), repo.chunk_size)
    };
    let mut head = Vec::new();
    let (content, file_name, media, meta) = receive(&app, objects, chunk_size, meta, req, &mut head).await?;
    let rest = upload_rest(&content, &file_name, &media, &meta);
    let key = match key.settle(&rest)? {
        Ok(guard) => guard,
        Err(replay) => return Ok(replay),
    };
    check_file_name(&file_name)?;
    let mut fields = meta.dokument_fields();
    let stem = file_name.rsplit_once('.').map(|(s, _)| s).filter(|s| !s.is_empty()).unwrap_or(&file_name);
    fields.entry("title").or_insert_with(|| json!(stem));
    model::validate(ObjKind::Dokument, &fields, true)?;
    let vfields = version_fields(&content, &file_name, &media, meta.comment.as_deref());
    model::validate(ObjKind::Version, &vfields, true)?;
    // The Dokument as it will be, for what the validators are told about it.
    let probe = {
        let repo = app.repo.read().await;
        let akte = repo.catalog().get(&akte).ok_or_else(|| ApiError::not_found(format!("There is no Akte {akte}")))?;
        Obj { fields: FieldMap::from(fields.clone()), ..akte.clone() }
    };
    let warnings = validate_upload(&app, &probe, &content, &file_name, &media, &head).await?;
    let (dok, version) = (Uuid::now_v7(), Uuid::now_v7());
    {
        let mut repo = app.repo.write().await;
        let cat = repo.catalog();
        // Checked again: the Akte may have been closed, or the caller's grant withdrawn,
        // while the bytes arrived.
        visible(cat, &who, akte, ObjKind::Akte)?;
        let parent = match meta.vorgang {
            Some(v) => vorgang_in(cat, &who, akte, v)?,
            None => akte,
        };
        ensure_open(cat, parent)?;
        repo.actor = who.actor.clone();
        repo.commit(vec![
            Change::Create { kind: ObjKind::Dokument, id: dok, parent: Some(parent), content: None, fields },
            Change::Create {
                kind: ObjKind::Version,
                id: version,
                parent: Some(dok),
                content: Some(content.clone()),
                fields: vfields,
            },
        ])
        .await?;
    }
    finish_upload(&app, &content);
    let body = Uploaded {
        id: dok,
        version: 1,
        version_id: version,
        size: content.size,
        blake3: content.blake3,
        sha256: content.sha256,
        file_name,
        media_type: media,
        warnings,
    };
    Ok(created(key, rest, format!("/api/v1/dokumente/{dok}"), body))
}

/// The Vorgang `v` an upload goes into: visible to the caller, in Akte `akte`, open.
fn vorgang_in(
    cat: &akte_store::catalog::Catalog,
    who: &super::auth::Principal,
    akte: Uuid,
    v: Uuid,
) -> ApiResult<Uuid> {
    let vg = visible(cat, who, v, ObjKind::Vorgang)?;
    if vg.akte != Some(akte) {
        return Err(ApiError::invalid(format!("The Vorgang {v} is not in Akte {akte}")));
    }
    ensure_open(cat, v)?;
    Ok(v)
}

/// What an upload keeps of its first bytes while it streams into the store: enough to
/// recognise its type, and the whole of a content small enough to be packed, which cannot
/// be read back from the store before its commit. A larger one is read back for the
/// validators ([`validate_upload`]).
const HEAD_KEPT: usize = akte_store::pack::PACK_MEMBER_MAX;
/// The longest metadata part of a multipart upload (a title, a sender, a comment), in bytes.
const MAX_FORM_PART: usize = 10_000;
const _: () = assert!(HEAD_KEPT >= model::SNIFF_BYTES);

/// Runs the installed validators that apply on an upload's start, as `akte add` does
/// before it stores anything. They run for the media type the upload is recorded with
/// and, where its name or first bytes say otherwise, for that type too, so that a
/// declared type does not steer around them. A rejection is a 422 problem naming the
/// validator and its reason; the Dokument or version is not created. (The bytes are in
/// the store by then, streamed there as they arrived, but no journal entry references
/// them.) A validator that cannot decide is logged and named in the answer's `warnings`;
/// it blocks the upload only where the node refuses what is not validated
/// (`AKTE_VALIDATION_UNDECIDED=reject`), as a rejection with the code `undecided`.
async fn validate_upload(
    app: &App,
    dokument: &Obj,
    content: &ContentRef,
    file_name: &str,
    media: &str,
    head: &[u8],
) -> ApiResult<Vec<String>> {
    let pipeline = match app.validator_pipeline().await {
        Ok(Some(pipeline)) => pipeline,
        Ok(None) => return Ok(Vec::new()),
        // No validator can run here: refused by policy, else stored and said so.
        Err(why) if app.refuses_unvalidated() => {
            let reason =
                format!("The validators cannot run on this node ({why}), and this node refuses what is not validated");
            return Err(ApiError::rejected(
                format!("The file {file_name} was not stored: the validators cannot run on this node ({why})"),
                "",
                "undecided",
                &reason,
            ));
        }
        Err(why) => return Ok(vec![format!("the validators could not run and were skipped: {why}")]),
    };
    let mut all_warnings = Vec::new();
    let (aktenplan, info, objects) = {
        let repo = app.repo.read().await;
        let (aktenplan, info) = document_info(repo.catalog(), dokument, media, Some(file_name), content.size);
        (aktenplan, info, repo.objects().clone())
    };
    let mut types = vec![media.to_string()];
    let found = model::media_type_of(file_name, head);
    if found != media && found != "application/octet-stream" {
        types.push(found.to_string());
    }
    types.retain(|t| pipeline.has_validators(aktenplan.as_deref(), t));
    if types.is_empty() {
        return Ok(Vec::new());
    }
    // The start the validators see: kept while streaming, or read back (bounded in size and
    // in how many uploads do it at once).
    let limit = pipeline.limits().max_validate_bytes;
    let read_back;
    let (start, _slot) = if head.len() as u64 >= content.size.min(limit) {
        (head, None)
    } else {
        let slot = app.validation_slots.acquire().await.map_err(ApiError::internal)?;
        let mut bytes = Vec::new();
        let mut stream = objects.read_range(&content.root, 0, limit).await?;
        while let Some(part) = stream.try_next().await? {
            bytes.extend_from_slice(&part);
        }
        read_back = bytes;
        (&read_back[..], Some(slot))
    };
    for media_type in types {
        let info = akte_plugins::DocumentInfo { media_type, ..info.clone() };
        let (rejection, warnings) = pipeline.validate(aktenplan.as_deref(), &info, start).await;
        for w in &warnings {
            tracing::warn!(file = %file_name, "{w}");
        }
        if let Some(r) = rejection {
            return Err(ApiError::rejected(
                format!(
                    "The file {file_name} was rejected by the validator {} ({}): {}",
                    r.plugin,
                    r.code,
                    r.reason.trim_end_matches('.')
                ),
                &r.plugin,
                &r.code,
                &r.reason,
            ));
        }
        all_warnings.extend(warnings);
    }
    Ok(all_warnings)
}

fn finish_upload(app: &App, content: &ContentRef) {
    app.metrics.uploads.fetch_add(1, Ordering::Relaxed);
    app.metrics.upload_bytes.fetch_add(content.size, Ordering::Relaxed);
    app.wake_sync();
    app.ingest_wake.notify_one();
}

fn created(key: Option<IdempotencyGuard<'_>>, rest: String, location: String, body: Uploaded) -> Response {
    let value = serde_json::to_value(&body).expect("serialises");
    if let Some(guard) = key {
        guard.answer(StatusCode::CREATED, value.clone(), Some(location.clone()), Some(rest));
    }
    let mut r = (StatusCode::CREATED, Json(value)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Add a version to a Dokument.
///
/// As an upload; metadata sent with it changes the Dokument in the same commit. Takes
/// `If-Match` (the Dokument's `ETag`) and `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/dokumente/{id}/versions", tag = "Dokumente",
    params(("id" = Uuid, Path, description = "Dokument id"), UploadMeta,
        ("If-Match" = Option<String>, Header, description = "The Dokument's ETag the new version is based on: 412 when another change came first"),
        ("Idempotency-Key" = Option<String>, Header, description = "A retried upload with the same key creates nothing twice and is answered as the first time (its body is read and compared); the key for another request (query, media type, fields or bytes differ) answers 422, a second request while the first runs 409. Remembered by this node for 24 hours, not across restarts or nodes")),
    request_body(content(
        (UploadForm = "multipart/form-data"),
        (schema::Binary = "application/octet-stream"),
    ), description = "The new content"),
    responses((status = 201, body = Uploaded, headers(("location" = String, description = "The new object")))))]
pub async fn add_version(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(dok): Id<Uuid>,
    Q(meta): Q<UploadMeta>,
    req: Request,
) -> ApiResult<Response> {
    who.require(Action::Write)?;
    let key = idempotency_key(req.headers(), &who, &format!("/dokumente/{dok}/versions"))?;
    let key = UploadKey::claim(&app, key, upload_start(&req))?;
    // `If-Match` (the Dokument's ETag) before the bytes are read, and again at the commit:
    // two clients that both add a version to what they saw do not both win.
    let if_match = req.headers().get(header::IF_MATCH).cloned();
    let precondition = |obj: &Obj| {
        let mut h = axum::http::HeaderMap::new();
        if let Some(v) = &if_match {
            h.insert(header::IF_MATCH, v.clone());
        }
        super::api::check_if_match(&h, obj)
    };
    // A retry is answered as the first time: the first request's own version changed the
    // Dokument's ETag, and the Dokument may be closed since.
    let retry = key.is_retry();
    let (objects, chunk_size, last_name) = {
        let repo = app.repo.read().await;
        let cat = repo.catalog();
        let d = visible(cat, &who, dok, ObjKind::Dokument)?;
        if !retry {
            precondition(d)?;
            ensure_open(cat, dok)?;
        }
        let last = cat.latest_version(&dok).and_then(|v| v.text("file_name")).map(str::to_string);
        (repo.objects().clone(), repo.chunk_size, last)
    };
    let mut head = Vec::new();
    let (content, mut file_name, mut media, meta) = receive(&app, objects, chunk_size, meta, req, &mut head).await?;
    let rest = upload_rest(&content, &file_name, &media, &meta);
    let key = match key.settle(&rest)? {
        Ok(guard) => guard,
        Err(replay) => return Ok(replay),
    };
    if file_name.is_empty() {
        file_name = last_name.unwrap_or_default();
        media = model::media_type_settled(None, &file_name, &head);
    }
    check_file_name(&file_name)?;
    let vfields = version_fields(&content, &file_name, &media, meta.comment.as_deref());
    model::validate(ObjKind::Version, &vfields, true)?;
    let dokument = {
        let repo = app.repo.read().await;
        repo.catalog().get(&dok).cloned().ok_or_else(|| ApiError::not_found(format!("There is no Dokument {dok}")))?
    };
    // Metadata given with the new version changes the Dokument in the same commit (a
    // Bescheid replaced by its corrected version, now with a new date). A Dokument does
    // not move to another Vorgang this way.
    if meta.vorgang.is_some_and(|v| Some(v) != dokument.parent) {
        return Err(ApiError::invalid(
            "A new version does not move its Dokument to another Vorgang; vorgang must be left out",
        ));
    }
    let dfields = meta.dokument_fields();
    if !dfields.is_empty() {
        model::validate(ObjKind::Dokument, &dfields, false)?;
    }
    let warnings = validate_upload(&app, &dokument, &content, &file_name, &media, &head).await?;
    let version = Uuid::now_v7();
    let number = {
        let mut repo = app.repo.write().await;
        // Checked again, as for a new Dokument: closed, or no longer visible to the caller.
        visible(repo.catalog(), &who, dok, ObjKind::Dokument)?;
        ensure_open(repo.catalog(), dok)?;
        if let Some(now) = repo.catalog().get(&dok) {
            precondition(now)?;
        }
        repo.actor = who.actor.clone();
        let mut changes = vec![Change::Create {
            kind: ObjKind::Version,
            id: version,
            parent: Some(dok),
            content: Some(content.clone()),
            fields: vfields,
        }];
        if !dfields.is_empty() {
            changes.push(Change::Update { id: dok, fields: dfields });
        }
        repo.commit(changes).await?;
        repo.catalog().get(&version).and_then(|v| v.number).unwrap_or(0)
    };
    finish_upload(&app, &content);
    let body = Uploaded {
        id: dok,
        version: number,
        version_id: version,
        size: content.size,
        blake3: content.blake3,
        sha256: content.sha256,
        file_name,
        media_type: media,
        warnings,
    };
    Ok(created(key, rest, format!("/api/v1/dokumente/{dok}"), body))
}
