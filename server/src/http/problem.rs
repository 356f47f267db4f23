//! Errors as `application/problem+json` (RFC 9457). Every problem has a stable `type`
//! (`urn:akte:problem:<slug>`) that clients can branch on; `title` is fixed per type,
//! `detail` is one plain sentence about this occurrence.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A problem document (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem, `urn:akte:problem:<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem (the same for every occurrence).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong this time, in one sentence.
    pub detail: String,
    /// For `rejected`: the validator that refused the document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    /// For `rejected`: the validator's machine code (`undecided` when it could not decide
    /// and the node refuses what is not validated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// For `rejected`: the validator's own sentence for the clerk, as it gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An error a handler returns; rendered as problem+json.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: String,
    /// A rejecting validator: plugin, code, reason.
    rejection: Option<Box<(String, String, String)>>,
    /// Seconds for `Retry-After`, when not the default of the status.
    retry_after: Option<u64>,
}

/// Result of a handler.
pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl ApiError {
    fn new(status: StatusCode, slug: &'static str, title: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, slug, title, detail: detail.into(), rejection: None, retry_after: None }
    }

    /// Says when to try again (`Retry-After`, whole seconds, at least one).
    pub fn retry_after(mut self, wait: std::time::Duration) -> ApiError {
        self.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        self
    }

    /// The sentence about this occurrence.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// 400: the request cannot be read (malformed JSON, bad header, bad parameter).
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-request", "The request is malformed", detail)
    }

    /// 401: no or invalid credentials.
    pub fn unauthenticated(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication is required", detail)
    }

    /// 403: the caller's role does not allow this.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", "The role does not allow this", detail)
    }

    /// 404: no such object, or one the caller may not see (the same answer, so that a
    /// denied object's existence and title do not leak).
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 404 for an object id.
    pub fn no_object(what: &str, id: impl std::fmt::Display) -> ApiError {
        ApiError::not_found(format!("There is no {what} {id}"))
    }

    /// 410: the object was deleted after its retention period (told only to those who
    /// were among its readers; everyone else gets the 404 of an unknown id).
    pub fn gone(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::GONE, "gone", "The object was deleted after its retention period", detail)
    }

    /// 409: the same request (its Idempotency-Key) is still being answered; retry after a
    /// moment (`Retry-After: 1`). Unlike `conflict`, a retry will succeed.
    pub fn in_progress(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "in-progress", "The same request is still being processed", detail)
    }

    /// 422: an Idempotency-Key sent again with another request. Unlike `invalid`, the
    /// request itself may be fine: it needs a key of its own.
    pub fn key_reused(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "The Idempotency-Key belongs to another request",
            detail,
        )
    }

    /// 409: the request contradicts the state (duplicate Aktenzeichen, closed Akte …).
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", "The request conflicts with the repository state", detail)
    }

    /// 409 for new content under a closed Akte or Vorgang.
    pub fn closed(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "closed", "The Akte or Vorgang is closed (z.d.A.)", detail)
    }

    /// 409: deletion refused (retention runs, legal hold, not closed).
    pub fn retention(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "retention", "The Akte may not be deleted", detail)
    }
    /// 412: `If-Match` names a state that is no longer current.
    pub fn stale(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PRECONDITION_FAILED, "stale", "The object changed since it was read", detail)
    }

    /// 413: the body is larger than allowed.
    pub fn too_large(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "The request body is too large", detail)
    }

    /// 415: the body's media type is not accepted here.
    pub fn unsupported_media(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type", detail)
    }

    /// 416: the `Range` cannot be served.
    pub fn bad_range(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range", "The range cannot be served", detail)
    }

    /// 422: a validator plugin refused the document; nothing was committed. The problem
    /// also carries the validator's name, code and reason as members of their own.
    pub fn rejected(detail: impl Into<String>, plugin: &str, code: &str, reason: &str) -> ApiError {
        let mut e =
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", "A validator rejected the document", detail);
        e.rejection = Some(Box::new((plugin.to_string(), code.to_string(), reason.to_string())));
        e
    }

    /// 405: the path exists, the method does not.
    pub fn method_not_allowed(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed", detail)
    }

    /// 422: well-formed, but a field is invalid.
    pub fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", "A field is invalid", detail)
    }

    /// 500: damage found in the store. Never served as data.
    pub fn integrity(detail: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "integrity",
            "The repository found damaged or missing data",
            detail,
        )
    }

    /// 429: the caller has too much under way (jobs); `Retry-After` says when to try again.
    pub fn too_many(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too-many", "Too much is under way for this caller", detail)
    }

    /// 503: the store or the node is not available.
    pub fn unavailable(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The service is not available", detail)
    }

    /// 500: anything else; the detail is logged, the client sees a generic sentence.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "The server could not complete the request; the log has the details",
        )
    }
}

/// Damaged or missing objects met while answering (`/metrics`: `akte_integrity_errors_total`).
pub static INTEGRITY_ERRORS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
/// Store operations that failed while answering (part of `akte_store_errors_total`).
pub static STORE_FAILURES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl From<akte_store::Error> for ApiError {
    fn from(e: akte_store::Error) -> ApiError {
        use akte_store::Error as E;
        use std::sync::atomic::Ordering::Relaxed;
        let detail = crate::output::sentence(&anyhow::anyhow!("{e}"));
        match e {
            E::NotFound(_) => ApiError::not_found(detail),
            E::Conflict(_) => ApiError::conflict(detail),
            E::Invalid(_) => ApiError::invalid(detail),
            E::Integrity { .. } => {
                // Logged whole: the detail for the client is cut at 600 characters.
                tracing::error!(error = %e, "integrity error");
                INTEGRITY_ERRORS.fetch_add(1, Relaxed);
                ApiError::integrity(detail)
            }
            E::Store { .. } | E::Busy(_) => {
                tracing::error!(error = %detail, "store unavailable");
                STORE_FAILURES.fetch_add(1, Relaxed);
                // (Unreachable, refusing — permission denied, full — or slow: the log says which.)
                ApiError::unavailable("The object store could not be reached or refused the operation; try again later")
            }
            E::Locked(_) | E::Format(_) | E::Io { .. } => ApiError::internal(detail),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        match e.downcast::<akte_store::Error>() {
            Ok(e) => e.into(),
            Err(e) => ApiError::internal(format!("{e:#}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("urn:akte:problem:{}", self.slug),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: crate::output::sentence(&anyhow::anyhow!("{}", self.detail)),
            // No plugin is named when no validator could run at all.
            plugin: self.rejection.as_ref().map(|r| r.0.clone()).filter(|p| !p.is_empty()),
            code: self.rejection.as_ref().map(|r| r.1.clone()),
            reason: self.rejection.as_ref().map(|r| r.2.clone()),
        };
        let mut r = (self.status, axum::Json(body)).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.slug == "in-progress" {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        // A busy node (jobs, the store slow or away) is worth asking again shortly.
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        } else if self.slug == "too-many" || self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §11.6.1: a 401 names the scheme to authenticate with.
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// Turns axum's own rejections (bad JSON, bad path, bad query) into problems, in words
/// for a client: without the deserializer's preamble and its line and column.
pub fn rejection(e: impl std::fmt::Display, status: StatusCode) -> ApiError {
    let text = e.to_string();
    let text = text.strip_prefix("Failed to deserialize the JSON body into the target type: ").unwrap_or(&text);
    let text = match text.rfind(" at line ") {
        Some(i) if text[i + 9..].split(" column ").all(|n| n.trim().chars().all(|c| c.is_ascii_digit())) => &text[..i],
        _ => text,
    };
    let detail = match text.split_once(": ") {
        // `foo: unknown field …`: which field the body got wrong.
        Some((field, why))
            if !field.is_empty() && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') =>
        {
            format!("The body's field {field} {}", akte_store::model::plainly(why))
        }
        _ => text.to_string(),
    };
    let detail = crate::output::sentence(&anyhow::anyhow!("{detail}"));
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::too_large(detail),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::unsupported_media(detail),
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::invalid(detail),
        _ => ApiError::bad_request(detail),
    }
}
