//! Export and import jobs: Akten out of the repository as BagIt, OCFL or xdomea, and
//! packages into it, as background jobs with status, progress and a result download.
//!
//! `POST /exports` (admin, archivist) and `POST /imports` (admin) answer 202 with a job;
//! `GET /jobs/{id}` tells how far it got, `GET /jobs/{id}/result` serves an export as one
//! ZIP, `DELETE /jobs/{id}` removes a finished job and its files. One job runs at a time;
//! the others wait in the order they came. An export holds the repository's read lock
//! while it writes, an import its write lock (an import is one commit, all or nothing).
//!
//! **Jobs live in this process.** Their state is kept in memory and does not survive a
//! restart; the files of every job are under `<data>/jobs/<id>/` (a directory only this
//! user may read), and the whole `<data>/jobs/` is wiped when the server starts. Exports
//! are plaintext outside the encrypted store, so a finished job and its files are removed
//! by `DELETE`, and [`RESULT_TTL`] (24 hours) after it finished at the latest. An import
//! removes its uploaded package as soon as it has finished, whether it succeeded or not.
//!
//! **Untrusted packages.** An import is a ZIP: an xdomea message (read by
//! `akte_exchange::import_xdomea_with` with its own checks), or a zipped BagIt bag, OCFL
//! storage root or Paperless-ngx export folder — at the top of the ZIP or in one folder.
//! Such a ZIP is unpacked into the job's directory only after every entry name has been
//! checked (no `..`, no absolute names or drive letters, no backslashes, no duplicates, no
//! symbolic links or encrypted entries) and the counts and sizes are within [`Limits`]
//! (entries, per-entry and total uncompressed size, compression ratio); each entry is read
//! no further than its declared size and checked against its CRC.

use std::{
    collections::HashMap,
    future::Future,
    path::{Path, PathBuf},
    pin::Pin,
    sync::{
        Arc, LazyLock, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use akte_exchange::Limits;
use akte_store::model::ObjKind;
use axum::{
    Json, Router,
    body::Body,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;
use uuid::Uuid;

mod package;
mod work;

use package::{MARKERS, Package, inspect, tree_size, unpack, zip_tree};
use work::{export, import};

use super::{
    App,
    api::visible,
    auth::{Caller, Principal},
    extract::{Body as JsonBody, Id},
    problem::{ApiError, ApiResult},
};

/// How long a finished job and its files are kept.
pub const RESULT_TTL: Duration = Duration::from_secs(24 * 3600);
/// How often old jobs are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// How many jobs may be queued or running at once (beyond: 503).
const MAX_PENDING: usize = 32;
/// How many of them one caller may have (beyond: 429), so that one client sending job
/// after job does not keep the others waiting or out.
const MAX_PENDING_PER_CALLER: usize = 8;
/// Most entries a zipped package may have.
const MAX_ENTRIES: usize = 100_000;
/// Largest ratio of uncompressed to compressed size for an entry above 1 MiB.
const MAX_RATIO: u64 = 200;
/// A package may unpack to at most this many times the upload limit.
const UNPACK_FACTOR: u64 = 4;

/// The routes of this module. Wipes what jobs of an earlier run left in `<data>/jobs/`
/// (jobs do not survive a restart) and starts the task that removes old jobs.
pub fn routes(app: &Arc<App>) -> Router<Arc<App>> {
    let jobs = registry(app);
    if let Err(e) = std::fs::remove_dir_all(&jobs.dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::error!(error = %e, dir = %jobs.dir.display(), "cannot remove the files of earlier jobs");
    }
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        let weak = Arc::downgrade(&jobs);
        rt.spawn(async move {
            loop {
                tokio::time::sleep(SWEEP_EVERY).await;
                let Some(jobs) = weak.upgrade() else { return };
                jobs.sweep();
            }
        });
    }
    Router::new()
        .route("/exports", post(create_export))
        .route("/imports", post(create_import).layer(DefaultBodyLimit::disable()))
        .route("/jobs", get(list_jobs))
        .route("/jobs/{id}", get(get_job).delete(delete_job))
        .route("/jobs/{id}/result", get(result))
}

// ---------------------------------------------------------------------------------------
// Views

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Akten out of the repository.
    Export,
    /// A package into the repository.
    Import,
}

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for the job before it.
    Queued,
    /// Working.
    Running,
    /// Finished; an export's result can be downloaded.
    Done,
    /// Stopped with an error; nothing of an import is visible.
    Failed,
}

/// The formats of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// One BagIt bag (RFC 8493), served as a ZIP.
    Bagit,
    /// An OCFL 1.1 storage root, one object per Akte, served as a ZIP.
    Ocfl,
    /// An xdomea 3.0.0 Abgabe (message 0401), a ZIP of its own.
    Xdomea,
}

impl ExportFormat {
    fn name(self) -> &'static str {
        match self {
            ExportFormat::Bagit => "bagit",
            ExportFormat::Ocfl => "ocfl",
            ExportFormat::Xdomea => "xdomea",
        }
    }
}

/// A new export.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// The format.
    pub format: ExportFormat,
    /// The Akten (each must be visible to the caller); absent or empty: every Akte the
    /// caller may see.
    #[serde(default)]
    pub akten: Option<Vec<Uuid>>,
}

/// How far a job got. The unit is bytes: of document contents written (export), then of
/// files packed into the ZIP; of the package unpacked (import). A job that cannot tell
/// shows 0 until it is done.
#[derive(Serialize, ToSchema)]
pub struct Progress {
    /// Done so far.
    pub done: u64,
    /// All there is to do (0: not known yet).
    pub total: u64,
}

/// What a finished job exported or imported.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct JobResult {
    /// Akten.
    pub akten: usize,
    /// Vorgänge.
    pub vorgaenge: usize,
    /// Dokumente.
    pub dokumente: usize,
    /// Versions.
    pub versionen: usize,
    /// Bytes of document content.
    pub bytes: u64,
    /// The ids of the Akten.
    pub akten_ids: Vec<Uuid>,
}

/// An export or import job.
#[derive(Serialize, ToSchema)]
pub struct JobView {
    /// Id.
    pub id: Uuid,
    /// `export` or `import`.
    pub kind: JobKind,
    /// `bagit`, `ocfl`, `xdomea` or `paperless`; for an import known once it runs.
    pub format: Option<String>,
    /// `queued`, `running`, `done` or `failed`.
    pub state: JobState,
    /// How far it got.
    pub progress: Progress,
    /// Why it failed, in one sentence.
    pub error: Option<String>,
    /// The problem type of the failure (`urn:akte:problem:<slug>`), as an answer would have it.
    pub error_type: Option<String>,
    /// What it exported or imported, once done.
    pub result: Option<JobResult>,
    /// When it was created (RFC 3339).
    pub created: String,
    /// When it started running.
    pub started: Option<String>,
    /// When it finished.
    pub finished: Option<String>,
    /// Where a finished export is downloaded.
    pub download: Option<String>,
    /// The size of the download in bytes.
    pub download_size: Option<u64>,
    /// When the job and its files are removed at the latest (RFC 3339).
    pub expires: Option<String>,
}

// ---------------------------------------------------------------------------------------
// The registry

/// The finished export, as served.
#[derive(Clone, Debug)]
struct ResultFile {
    path: PathBuf,
    name: String,
    size: u64,
}

#[derive(Debug)]
struct Job {
    id: Uuid,
    /// `Principal::id` of whoever created it.
    owner: String,
    kind: JobKind,
    format: Option<String>,
    state: JobState,
    error: Option<(&'static str, String)>,
    result: Option<JobResult>,
    created: OffsetDateTime,
    started: Option<OffsetDateTime>,
    finished: Option<OffsetDateTime>,
    finished_at: Option<Instant>,
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
    file: Option<ResultFile>,
    dir: PathBuf,
}

/// A time as everywhere else in the API (`Hlc::rfc3339`: UTC, three digits of milliseconds).
fn rfc3339(t: OffsetDateTime) -> String {
    let ms = u64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    akte_store::hlc::Hlc { ms, c: 0 }.rfc3339()
}

impl Job {
    fn view(&self) -> JobView {
        let done = self.state == JobState::Done;
        let total = self.total.load(Ordering::Relaxed);
        JobView {
            id: self.id,
            kind: self.kind,
            format: self.format.clone(),
            state: self.state,
            progress: Progress { done: if done { total } else { self.done.load(Ordering::Relaxed).min(total) }, total },
            error: self.error.as_ref().map(|(_, d)| d.clone()),
            error_type: self.error.as_ref().map(|(slug, _)| format!("urn:akte:problem:{slug}")),
            result: self.result.clone(),
            created: rfc3339(self.created),
            started: self.started.map(rfc3339),
            finished: self.finished.map(rfc3339),
            download: self.file.as_ref().map(|_| format!("/api/v1/jobs/{}/result", self.id)),
            download_size: self.file.as_ref().map(|f| f.size),
            expires: self.finished.map(|f| rfc3339(f + RESULT_TTL)),
        }
    }
}

/// The jobs of one node (one data directory).
struct Jobs {
    /// `<data>/jobs`.
    dir: PathBuf,
    jobs: Mutex<HashMap<Uuid, Job>>,
    /// One job at a time; tokio's semaphore is fair, so jobs run in the order they came.
    slot: Arc<tokio::sync::Semaphore>,
}

/// The registries by data directory (one per `App`; a process normally has one).
static REGISTRIES: LazyLock<Mutex<HashMap<PathBuf, Arc<Jobs>>>> = LazyLock::new(Default::default);

fn registry(app: &App) -> Arc<Jobs> {
    REGISTRIES
        .lock()
        .expect("jobs registry lock")
        .entry(app.data.clone())
        .or_insert_with(|| {
            Arc::new(Jobs {
                dir: app.data.join("jobs"),
                jobs: Mutex::new(HashMap::new()),
                slot: Arc::new(tokio::sync::Semaphore::new(1)),
            })
        })
        .clone()
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Job>> {
        self.jobs.lock().expect("jobs lock")
    }

    /// A new job's private directory.
    fn new_dir(&self, id: Uuid) -> ApiResult<PathBuf> {
        let dir = self.dir.join(id.to_string());
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&dir).map_err(|e| ApiError::internal(format!("cannot create {}: {e}", dir.display())))?;
        Ok(dir)
    }

    /// Refuses a new job when the caller has too many waiting (429), or the node has (503).
    fn check_room(&self, who: &Principal) -> ApiResult<()> {
        let jobs = self.lock();
        let waiting: Vec<&Job> =
            jobs.values().filter(|j| matches!(j.state, JobState::Queued | JobState::Running)).collect();
        let own = waiting.iter().filter(|j| j.owner == who.id).count();
        if own >= MAX_PENDING_PER_CALLER {
            return Err(ApiError::too_many(format!(
                "You have {own} jobs waiting or running; try again when one has finished"
            )));
        }
        let pending = waiting.len();
        if pending >= MAX_PENDING {
            return Err(ApiError::unavailable(format!(
                "{pending} jobs are waiting or running; try again when some have finished"
            )));
        }
        Ok(())
    }

    fn add(&self, id: Uuid, owner: &Principal, kind: JobKind, format: Option<&str>, dir: PathBuf) -> JobView {
        let job = Job {
            id,
            owner: owner.id.clone(),
            kind,
            format: format.map(str::to_string),
            state: JobState::Queued,
            error: None,
            result: None,
            created: OffsetDateTime::now_utc(),
            started: None,
            finished: None,
            finished_at: None,
            done: Arc::new(AtomicU64::new(0)),
            total: Arc::new(AtomicU64::new(0)),
            file: None,
            dir,
        };
        let view = job.view();
        self.lock().insert(id, job);
        view
    }

    /// Marks a job running; false if it was deleted while queued.
    fn start(&self, id: Uuid) -> Option<(Arc<AtomicU64>, Arc<AtomicU64>)> {
        let mut map = self.lock();
        let job = map.get_mut(&id)?;
        job.state = JobState::Running;
        job.started = Some(OffsetDateTime::now_utc());
        Some((job.done.clone(), job.total.clone()))
    }

    fn set_format(&self, id: Uuid, format: &str) {
        if let Some(j) = self.lock().get_mut(&id) {
            j.format = Some(format.to_string());
        }
    }

    fn finish(&self, id: Uuid, outcome: Result<(JobResult, Option<ResultFile>), JobError>) {
        let mut map = self.lock();
        let Some(job) = map.get_mut(&id) else { return };
        job.finished = Some(OffsetDateTime::now_utc());
        job.finished_at = Some(Instant::now());
        match outcome {
            Ok((result, file)) => {
                job.state = JobState::Done;
                job.result = Some(result);
                job.file = file;
            }
            Err(e) => {
                job.state = JobState::Failed;
                job.error = Some((e.slug, e.detail));
            }
        }
    }

    /// The job, if the caller may see it (its creator, or an admin); else 404.
    fn visible_job<T>(&self, who: &Principal, id: Uuid, f: impl FnOnce(&Job) -> T) -> ApiResult<T> {
        let map = self.lock();
        map.get(&id).filter(|j| j.owner == who.id || who.has("admin")).map(f).ok_or_else(|| no_job(id))
    }

    /// Removes jobs that finished more than [`RESULT_TTL`] ago, with their files.
    fn sweep(&self) {
        let old: Vec<Job> = {
            let mut map = self.lock();
            let ids: Vec<Uuid> = map
                .values()
                .filter(|j| j.finished_at.is_some_and(|f| f.elapsed() >= RESULT_TTL))
                .map(|j| j.id)
                .collect();
            ids.iter().filter_map(|id| map.remove(id)).collect()
        };
        for job in old {
            remove_dir(&job.dir);
            tracing::info!(job = %job.id, "expired job removed");
        }
    }
}

/// Removes every finished job whose result holds one of `akten` (an export's ZIP and
/// plaintext tree on the node's disk), after those Akten were deleted: a deletion leaves
/// no copy of them behind. Called by a deletion on this node, and before a result is
/// served (a deletion on another node, or one while an export was being zipped, after
/// the tree was written under the read lock). A job that has not run yet finds the Akten
/// gone when it checks.
pub fn forget_deleted(app: &App, deleted: impl Fn(&Uuid) -> bool) {
    let jobs = registry(app);
    let gone: Vec<Job> = {
        let mut map = jobs.lock();
        let doomed: Vec<Uuid> = map
            .values()
            .filter(|j| j.result.as_ref().is_some_and(|r| r.akten_ids.iter().any(&deleted)))
            .map(|j| j.id)
            .collect();
        doomed.iter().filter_map(|id| map.remove(id)).collect()
    };
    for job in gone {
        remove_dir(&job.dir);
        tracing::info!(job = %job.id, "job removed: an Akte in its result was deleted");
    }
}

/// [`forget_deleted`] for every Akte the catalog knows to be deleted: an Akte in a result
/// deleted since (on another node, or here while the export was being zipped) takes the
/// result with it, and the answer is that there is no such job.
async fn forget_deleted_since(app: &App) {
    let repo = app.repo.read().await;
    let deleted = &repo.catalog().state.deleted;
    if !deleted.is_empty() {
        forget_deleted(app, |a| deleted.contains_key(a));
    }
}

fn remove_dir(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::error!(error = %e, dir = %dir.display(), "cannot remove a job's files");
    }
}

fn no_job(id: Uuid) -> ApiError {
    ApiError::no_object("job", id)
}

/// Why a job failed: a problem slug and one sentence.
#[derive(Debug)]
struct JobError {
    slug: &'static str,
    detail: String,
}

impl JobError {
    fn new(slug: &'static str, detail: impl std::fmt::Display) -> JobError {
        JobError { slug, detail: crate::output::sentence(&anyhow::anyhow!("{detail}")) }
    }

    fn internal(detail: impl std::fmt::Display) -> JobError {
        tracing::error!(error = %detail, "job failed");
        JobError::new("internal", "The job could not be completed because of a server error; the log has the details")
    }

    /// From an exchange error; `dir` (the job's directory) is taken out of the sentence.
    fn exchange(e: akte_exchange::Error, dir: &Path) -> JobError {
        use akte_exchange::Error as E;
        use akte_store::Error as S;
        let shown = |e: &dyn std::fmt::Display| {
            let text = e.to_string();
            let prefix = format!("{}/", dir.display());
            text.replace(&prefix, "").replace(&dir.display().to_string(), "the package")
        };
        match &e {
            E::Invalid { path, reason } if path.is_empty() => {
                JobError::new("invalid", format!("The package is invalid: {}", shown(reason)))
            }
            E::Integrity { .. } | E::UnsafePath { .. } | E::Invalid { .. } | E::Usage(_) => {
                JobError::new("invalid", shown(&e))
            }
            E::Conflict(_) => JobError::new("conflict", shown(&e)),
            E::Rejected(_) => JobError::new("rejected", shown(&e)),
            E::Store(S::Invalid(_)) => JobError::new("invalid", shown(&e)),
            E::Store(S::Conflict(_)) => JobError::new("conflict", shown(&e)),
            E::Store(S::NotFound(_)) => JobError::new("not-found", shown(&e)),
            E::Store(S::Integrity { .. }) => {
                tracing::error!(error = %e, "integrity error during a job");
                JobError::new("integrity", shown(&e))
            }
            E::Store(S::Store { .. } | S::Busy(_)) => {
                tracing::error!(error = %e, "store unavailable during a job");
                JobError::new("unavailable", "The object store could not be reached; try again later")
            }
            _ => JobError::internal(&e),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Handlers

fn accepted(view: JobView) -> Response {
    let location = format!("/api/v1/jobs/{}", view.id);
    let mut r = (StatusCode::ACCEPTED, Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Start an export job.
///
/// Admin or archivist. BagIt, OCFL or xdomea (0401) of the Akten named; answers 202 with
/// the job. Download its result from `GET /jobs/{id}/result`.
#[utoipa::path(post, path = "/api/v1/exports", tag = "Austausch",
    request_body = ExportRequest,
    responses((status = 202, description = "The job; `Location` names it", body = JobView)))]
pub async fn create_export(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    JsonBody(req): JsonBody<ExportRequest>,
) -> ApiResult<Response> {
    if !(who.has("admin") || who.has("archivist")) {
        return Err(ApiError::forbidden("Only an admin or an archivist may export Akten"));
    }
    let ids = {
        let repo = app.repo.read().await;
        let cat = repo.catalog();
        match req.akten.as_deref() {
            Some(list) if !list.is_empty() => {
                let mut ids = Vec::new();
                for id in list {
                    visible(cat, &who, *id, ObjKind::Akte)?;
                    if !ids.contains(id) {
                        ids.push(*id);
                    }
                }
                ids
            }
            _ => {
                let mut all: Vec<(&str, Uuid)> = cat
                    .all(ObjKind::Akte)
                    .filter(|a| who.sees(cat, a))
                    .map(|a| (a.text("aktenzeichen").unwrap_or_default(), a.id))
                    .collect();
                all.sort();
                all.into_iter().map(|(_, id)| id).collect()
            }
        }
    };
    if ids.is_empty() {
        return Err(ApiError::invalid("There is no Akte to export"));
    }
    let jobs = registry(&app);
    jobs.check_room(&who)?;
    let id = Uuid::now_v7();
    let dir = jobs.new_dir(id)?;
    let view = jobs.add(id, &who, JobKind::Export, Some(req.format.name()), dir.clone());
    tracing::info!(job = %id, actor = %who.actor, format = req.format.name(), akten = ids.len(), "export queued");
    let format = req.format;
    tokio::spawn(run(app, jobs, id, move |app, done, total| export(app, who, ids, format, dir, done, total)));
    Ok(accepted(view))
}

/// Start an import job.
///
/// Admin only. The package ZIP as the raw body: xdomea, or a zipped BagIt bag, OCFL root or
/// Paperless-ngx export. Every file passes the node's validators first; the import is all
/// or nothing.
#[utoipa::path(post, path = "/api/v1/imports", tag = "Austausch",
    request_body(content = super::schema::Binary, content_type = "application/octet-stream",
        description = "One ZIP as the raw body (application/zip or application/octet-stream): an xdomea message, or a zipped BagIt bag, OCFL storage root or Paperless-ngx export"),
    responses((status = 202, description = "The job; `Location` names it", body = JobView)))]
pub async fn create_import(State(app): State<Arc<App>>, Caller(who): Caller, req: Request) -> ApiResult<Response> {
    if !who.has("admin") {
        return Err(ApiError::forbidden("Only an admin may import packages"));
    }
    let max = app.config.max_upload_bytes;
    let ctype = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ctype.to_ascii_lowercase().starts_with("multipart/") {
        return Err(ApiError::unsupported_media("Send the package as the request body itself (application/zip)"));
    }
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && len > max
    {
        return Err(ApiError::too_large(format!("A package may have at most {max} bytes")));
    }
    let jobs = registry(&app);
    jobs.check_room(&who)?;
    let id = Uuid::now_v7();
    let dir = jobs.new_dir(id)?;
    let upload = dir.join("upload.zip");
    if let Err(e) = receive(req.into_body(), &upload, max).await {
        remove_dir(&dir);
        return Err(e);
    }
    let view = jobs.add(id, &who, JobKind::Import, None, dir.clone());
    tracing::info!(job = %id, actor = %who.actor, "import queued");
    let limits = limits(&app);
    tokio::spawn(run(app, jobs, id, move |app, done, total| import(app, who, dir, limits, done, total)));
    Ok(accepted(view))
}

/// Streams a request body to a new file, at most `max` bytes.
async fn receive(body: Body, path: &Path, max: u64) -> ApiResult<()> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", path.display())))?;
    let mut stream = body.into_data_stream();
    let mut seen = 0u64;
    while let Some(chunk) = stream.try_next().await.map_err(|e| {
        ApiError::bad_request(format!("The upload broke off before its end ({e}); nothing was imported"))
    })? {
        seen += chunk.len() as u64;
        if seen > max {
            return Err(ApiError::too_large(format!("A package may have at most {max} bytes")));
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| ApiError::internal(format!("cannot write {}: {e}", path.display())))?;
    }
    file.flush().await.map_err(|e| ApiError::internal(format!("cannot write {}: {e}", path.display())))?;
    if seen == 0 {
        return Err(ApiError::invalid("The request body is empty; send the package as a ZIP"));
    }
    Ok(())
}

/// The bounds for unpacking an uploaded package.
fn limits(app: &App) -> Limits {
    let total = app.config.max_upload_bytes.saturating_mul(UNPACK_FACTOR);
    Limits {
        max_entries: MAX_ENTRIES,
        max_entry: total,
        max_total: total,
        max_xml: Limits::default().max_xml.min(total),
        max_ratio: MAX_RATIO,
    }
}

/// List the jobs.
///
/// The caller's own; an admin sees every job.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "Austausch",
    responses((status = 200, description = "The caller's jobs (an admin's: all), oldest first", body = Vec<JobView>)))]
pub async fn list_jobs(State(app): State<Arc<App>>, Caller(who): Caller) -> ApiResult<Json<Vec<JobView>>> {
    let jobs = registry(&app);
    let map = jobs.lock();
    let mut out: Vec<&Job> = map.values().filter(|j| j.owner == who.id || who.has("admin")).collect();
    out.sort_by_key(|j| (j.created, j.id));
    Ok(Json(out.into_iter().map(Job::view).collect()))
}

/// Read a job.
///
/// Its state, progress and, when done, its result or error.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "Austausch",
    params(("id" = Uuid, Path, description = "Job id")), responses((status = 200, body = JobView)))]
pub async fn get_job(State(app): State<Arc<App>>, Caller(who): Caller, Id(id): Id<Uuid>) -> ApiResult<Json<JobView>> {
    forget_deleted_since(&app).await;
    registry(&app).visible_job(&who, id, Job::view).map(Json)
}

/// Delete a job.
///
/// A waiting or finished job: cancelled if waiting, its files removed. A running job
/// answers 409.
#[utoipa::path(delete, path = "/api/v1/jobs/{id}", tag = "Austausch",
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 204, description = "The job and its files are removed (a queued job does not run)")))]
pub async fn delete_job(State(app): State<Arc<App>>, Caller(who): Caller, Id(id): Id<Uuid>) -> ApiResult<StatusCode> {
    let jobs = registry(&app);
    let job = {
        let mut map = jobs.lock();
        let state = map.get(&id).filter(|j| j.owner == who.id || who.has("admin")).map(|j| j.state);
        match state {
            None => return Err(no_job(id)),
            Some(JobState::Running) => {
                return Err(ApiError::conflict(format!("The job {id} is running; delete it when it has finished")));
            }
            Some(_) => map.remove(&id).expect("present"),
        }
    };
    // A queued job's task finds it gone and removes the directory itself once it gets its
    // turn; removing it here too does no harm.
    remove_dir(&job.dir);
    tracing::info!(job = %id, actor = %who.actor, "job deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Download a job's result.
///
/// An export's ZIP, once the job is done.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/result", tag = "Austausch",
    params(("id" = Uuid, Path, description = "Job id")),
    responses((status = 200, description = "The export as one ZIP", content_type = "application/zip", body = super::schema::Binary)))]
pub async fn result(State(app): State<Arc<App>>, Caller(who): Caller, Id(id): Id<Uuid>) -> ApiResult<Response> {
    forget_deleted_since(&app).await;
    let (kind, state, file) = registry(&app).visible_job(&who, id, |j| (j.kind, j.state, j.file.clone()))?;
    let file = match (kind, state, file) {
        (JobKind::Import, ..) => {
            return Err(ApiError::not_found(format!("The job {id} is an import; it has no result")));
        }
        (_, JobState::Failed, _) => return Err(ApiError::conflict(format!("The job {id} failed; it has no result"))),
        (_, JobState::Done, Some(f)) => f,
        _ => return Err(ApiError::conflict(format!("The job {id} has not finished yet; try again later"))),
    };
    let handle = tokio::fs::File::open(&file.path).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            no_job(id)
        } else {
            ApiError::internal(format!("cannot open {}: {e}", file.path.display()))
        }
    })?;
    let stream = tokio_util::io::ReaderStream::with_capacity(handle, 1 << 16);
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(file.size));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(r)
}

// ---------------------------------------------------------------------------------------
// Running jobs

/// Waits for the job's turn, runs it and records the outcome.
async fn run<F, Fut>(app: Arc<App>, jobs: Arc<Jobs>, id: Uuid, work: F)
where
    F: FnOnce(Arc<App>, Arc<AtomicU64>, Arc<AtomicU64>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(JobResult, Option<ResultFile>), JobError>> + Send + 'static,
{
    let Ok(_turn) = jobs.slot.clone().acquire_owned().await else { return };
    let Some((done, total)) = jobs.start(id) else {
        // Deleted while it waited.
        remove_dir(&jobs.dir.join(id.to_string()));
        return;
    };
    // The job as a task of its own, so that a panic is a failed job, not a lost one.
    let outcome = match tokio::spawn(work(app, done, total)).await {
        Ok(o) => o,
        Err(e) => Err(JobError::internal(format!("the job stopped: {e}"))),
    };
    match &outcome {
        Ok((r, _)) => tracing::info!(job = %id, akten = r.akten, bytes = r.bytes, "job done"),
        Err(e) => tracing::warn!(job = %id, error = %e.detail, "job failed"),
    }
    jobs.finish(id, outcome);
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;

    fn caller(id: &str) -> Principal {
        Principal {
            id: id.to_string(),
            actor: format!("token:{id}"),
            name: id.to_string(),
            roles: vec!["admin".to_string()],
            units: Vec::new(),
            user: None,
        }
    }

    fn jobs() -> Jobs {
        Jobs {
            dir: PathBuf::from("/nonexistent"),
            jobs: Mutex::new(HashMap::new()),
            slot: Arc::new(tokio::sync::Semaphore::new(1)),
        }
    }

    /// The status and `Retry-After` of a refusal.
    fn refusal(r: ApiResult<()>) -> (u16, Option<String>) {
        let response = r.expect_err("refused").into_response();
        let retry = response.headers().get(axum::http::header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_string());
        (response.status().as_u16(), retry)
    }

    #[test]
    fn a_caller_has_at_most_eight_jobs_waiting_and_the_node_thirty_two() {
        let jobs = jobs();
        let (a, b) = (caller("token:a"), caller("token:b"));
        for _ in 0..MAX_PENDING_PER_CALLER {
            jobs.check_room(&a).unwrap();
            jobs.add(Uuid::now_v7(), &a, JobKind::Export, Some("xdomea"), PathBuf::new());
        }
        // The ninth of one caller waits for one of the eight; another caller is not held up.
        assert_eq!(refusal(jobs.check_room(&a)), (429, Some("5".to_string())));
        jobs.check_room(&b).unwrap();
        // A finished job no longer counts.
        let first = *jobs.lock().keys().next().unwrap();
        jobs.lock().get_mut(&first).unwrap().state = JobState::Done;
        jobs.check_room(&a).unwrap();
        // The node's bound holds across callers.
        for i in 0..MAX_PENDING {
            let who = caller(&format!("token:c{i}"));
            if jobs.check_room(&who).is_ok() {
                jobs.add(Uuid::now_v7(), &who, JobKind::Import, None, PathBuf::new());
            }
        }
        let (status, retry) = refusal(jobs.check_room(&caller("token:late")));
        assert_eq!(status, 503);
        assert!(retry.is_some(), "a busy node says when to come back");
    }
}
