//! Operations: `/healthz`, `/readyz`, `/metrics` (Prometheus text), the OpenAPI document
//! and its reference page, the concurrency limit and timeouts, and the answers to
//! unknown routes and panics.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
    routing::get,
};
use serde_json::json;

use super::{App, problem::ApiError};

/// Latency buckets of the request histogram, in seconds.
const BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Route {
    count: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

/// The counters behind `/metrics`.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String), Route>>,
    /// Documents (versions) uploaded.
    pub uploads: AtomicU64,
    /// Bytes received in uploads.
    pub upload_bytes: AtomicU64,
    /// Bytes sent in downloads.
    pub download_bytes: AtomicU64,
    /// Failures talking to the store.
    pub store_errors: AtomicU64,
    /// Entries in the journal (all streams) as this node has read them.
    pub journal_height: AtomicU64,
    /// Requests running now.
    pub in_flight: AtomicUsize,
    /// Requests waiting for a slot.
    pub waiting: AtomicUsize,
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, method: &Method, route: &str, status: StatusCode, took: Duration) {
        let mut routes = self.routes.lock().expect("metrics lock");
        let r = routes.entry((method.to_string(), route.to_string())).or_default();
        *r.count.entry(status.as_u16()).or_default() += 1;
        let s = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                r.buckets[i] += 1;
            }
        }
        r.sum += s;
        r.total += 1;
    }

    fn render(&self, app: &App) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let routes = self.routes.lock().expect("metrics lock");
        out.push_str("# HELP akte_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE akte_http_requests_total counter\n");
        for ((m, route), r) in routes.iter() {
            for (status, n) in &r.count {
                let _ = writeln!(
                    out,
                    "akte_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP akte_http_request_duration_seconds Time to answer, by method and route.\n");
        out.push_str("# TYPE akte_http_request_duration_seconds histogram\n");
        for ((m, route), r) in routes.iter() {
            let labels = format!("method=\"{m}\",route=\"{}\"", escape(route));
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ =
                    writeln!(out, "akte_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}", r.buckets[i]);
            }
            let _ = writeln!(out, "akte_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", r.total);
            let _ = writeln!(out, "akte_http_request_duration_seconds_sum{{{labels}}} {}", r.sum);
            let _ = writeln!(out, "akte_http_request_duration_seconds_count{{{labels}}} {}", r.total);
        }
        let gauge = |out: &mut String, name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        gauge(
            &mut out,
            "akte_uploads_total",
            "counter",
            "Document versions uploaded.",
            self.uploads.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "akte_upload_bytes_total",
            "counter",
            "Bytes received in uploads.",
            self.upload_bytes.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "akte_download_bytes_total",
            "counter",
            "Bytes of content sent.",
            self.download_bytes.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "akte_store_errors_total",
            "counter",
            "Failed operations on the object store (syncs, and requests the store failed).",
            self.store_errors.load(Ordering::Relaxed) + super::problem::STORE_FAILURES.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "akte_integrity_errors_total",
            "counter",
            "Damaged or missing objects met while answering requests (see the log, then akte verify).",
            super::problem::INTEGRITY_ERRORS.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "akte_journal_entries",
            "gauge",
            "Journal entries this node has read.",
            self.journal_height.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "akte_http_requests_in_flight",
            "gauge",
            "Requests being answered now.",
            self.in_flight.load(Ordering::Relaxed) as u64,
        );
        gauge(&mut out, "akte_index_documents", "gauge", "Dokumente in the search index.", app.index.num_docs());
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The routes outside `/api/v1` (and the OpenAPI document inside it).
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/docs", get(reference))
}

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let loaded = app.ready.load(Ordering::SeqCst);
    let store = !app.store_down.load(Ordering::SeqCst);
    let body = Json(json!({"catalog_loaded": loaded, "store_reachable": store}));
    if loaded && store {
        (StatusCode::OK, body).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    app.metrics.journal_height.store(app.repo.read().await.catalog().entries.len() as u64, Ordering::Relaxed);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], app.metrics.render(&app)).into_response()
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], super::openapi::openapi_json()).into_response()
}

/// The API reference: rendered here from the OpenAPI document, no script, no external asset.
async fn reference() -> Html<String> {
    Html(super::openapi::reference_html())
}

/// Unknown routes.
pub async fn fallback(req: Request) -> ApiError {
    ApiError::not_found(format!("There is no resource at {}", req.uri().path()))
}

/// axum answers a method a path does not have with a bare 405; this makes it a problem
/// document like every other error, keeping the `Allow` header that lists the methods.
pub async fn method_problem(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let response = next.run(req).await;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED || response.headers().contains_key(header::CONTENT_TYPE) {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut problem = ApiError::method_not_allowed(format!("{method} is not allowed on {path}")).into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(header::ALLOW, allow);
    }
    problem
}

/// A panic in a handler becomes a 500 problem; the process keeps serving.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("a request handler panicked").into_response()
}

/// Whether a request streams a body or content (no overall timeout applies).
fn streams(req: &Request) -> bool {
    let path = req.uri().path();
    (req.method() == Method::POST
        && (path.ends_with("/dokumente") || path.ends_with("/versions") || path.ends_with("/imports")))
        || path.ends_with("/content")
        || path.ends_with("/result")
}

/// The concurrency limit and request timeout. At most `concurrency` requests run; as
/// many again may wait; beyond that the answer is 503 at once, so an overload cannot
/// pile up memory.
pub async fn limit_concurrency(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if app.metrics.waiting.load(Ordering::SeqCst) >= app.config.concurrency {
        return ApiError::unavailable("The server is busy; try again shortly").into_response();
    }
    app.metrics.waiting.fetch_add(1, Ordering::SeqCst);
    let permit = app.gate.clone().acquire_owned().await;
    app.metrics.waiting.fetch_sub(1, Ordering::SeqCst);
    let Ok(_permit) = permit else {
        return ApiError::unavailable("The server is shutting down").into_response();
    };
    app.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let response = if streams(&req) {
        next.run(req).await
    } else {
        match tokio::time::timeout(app.config.request_timeout, next.run(req)).await {
            Ok(r) => r,
            Err(_) => ApiError::unavailable("The request took too long and was stopped").into_response(),
        }
    };
    app.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    response
}
