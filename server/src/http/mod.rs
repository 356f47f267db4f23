//! `akte serve`: the REST API (`/api/v1`), health, readiness and metrics on axum.
//!
//! One process is one node. It holds the repository (catalog in memory) behind a lock:
//! reads share it, a commit takes it for the moment of writing the journal entry. Content
//! is streamed into the store before the lock is taken, so a long upload never blocks
//! anyone. A background task reads other nodes' entries every `sync_interval` and keeps
//! the search index in step; extraction and OCR run in a second, private node (its own
//! data directory under this one) so that a slow scan never holds the repository.

pub mod accounts;
pub mod api;
pub mod auth;
pub mod config;
pub mod content;
pub mod extract;
pub mod feed;
pub mod idempotency;
pub mod jobs;
pub mod oidc;
pub mod openapi;
pub mod ops;
pub mod paging;
pub mod problem;
pub mod reading;
pub mod retention;
pub mod schema;
pub mod views;

use std::{
    future::IntoFuture,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use akte_index::Index;
use akte_ingest::Pipeline;
use akte_store::{OpenOptions, Repository};
use anyhow::{Context, Result};
use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    middleware::{self, Next},
    response::Response,
};
use tokio::sync::{Notify, RwLock};
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;

pub use config::Config;

/// The server's state, shared by every request.
pub struct App {
    /// The repository (this node).
    pub repo: RwLock<Repository>,
    /// The node's data directory.
    pub data: PathBuf,
    /// The search index.
    pub index: Index,
    /// Serialises index updates (one tantivy writer at a time).
    pub index_lock: tokio::sync::Mutex<()>,
    /// Reads recorded extraction results for the index and `…/text`, with the state of
    /// the installed plugins it was loaded for ([`App::reader`]).
    pub reader: tokio::sync::Mutex<(PluginsState, Arc<Pipeline>)>,
    /// The pipeline that runs the installed validators on uploads, with the state of the
    /// installed plugins it was loaded for; loaded again when that changes.
    pub validators: tokio::sync::Mutex<Option<(String, Arc<Pipeline>)>>,
    /// Uploads whose validation reads their start back from the store (up to 64 MiB each)
    /// at once: bounds that memory.
    pub validation_slots: tokio::sync::Semaphore,
    /// Browser sessions.
    pub sessions: auth::Sessions,
    /// Answers to POSTs with an `Idempotency-Key`.
    pub idempotency: idempotency::Idempotency,
    /// Counters for `/metrics`.
    pub metrics: ops::Metrics,
    /// Reads not yet in the journal: (object, actor, what). Flushed every sync tick.
    pub reads: std::sync::Mutex<Vec<(uuid::Uuid, String, String)>>,
    /// Wakes the ingest worker.
    pub ingest_wake: Arc<Notify>,
    /// Wakes the sync task (after the ingest worker committed).
    pub sync_wake: Arc<Notify>,
    /// How often the sync task was woken (see `sync_loop`: a burst is paced).
    pub sync_wakes: std::sync::atomic::AtomicU64,
    /// Slots for running requests (the concurrency limit).
    pub gate: Arc<tokio::sync::Semaphore>,
    /// Set once the catalog is loaded and the index is current.
    pub ready: AtomicBool,
    /// Set when the last sync with the store failed.
    pub store_down: AtomicBool,
    /// The configuration.
    pub config: Config,
    /// Checks OIDC bearer tokens, when `[oidc]` is configured.
    pub oidc: Option<oidc::Verifier>,
}

impl App {
    /// Notes that `who` read `id` (`metadata`, `content`, `text`, `history`); the sync task
    /// writes the reads to the journal within one sync interval.
    pub fn record_read(&self, who: &auth::Principal, id: uuid::Uuid, how: schema::Read) {
        self.reads.lock().expect("reads lock").push((id, recordable(&who.actor), how.as_str().to_string()));
    }

    /// Commits the noted reads as one journal entry.
    pub async fn flush_reads(&self) -> akte_store::Result<()> {
        let mut reads = std::mem::take(&mut *self.reads.lock().expect("reads lock"));
        if reads.is_empty() {
            return Ok(());
        }
        // The same caller reading the same object the same way within one interval is one
        // read in the history (a client polling a Dokument does not flood the journal).
        let mut seen = std::collections::HashSet::new();
        reads.retain(|r| seen.insert(r.clone()));
        let changes = reads
            .iter()
            .map(|(id, actor, action)| akte_store::Change::Read {
                id: *id,
                actor: actor.clone(),
                action: action.clone(),
            })
            .collect();
        let mut repo = self.repo.write().await;
        repo.actor = "audit".into();
        let r = repo.commit(changes).await;
        match &r {
            // Refused as such (never here, with `recordable` actors): trying the same batch
            // again would block every later read behind it.
            Err(akte_store::Error::Invalid(why)) => {
                tracing::error!(error = %why, reads = reads.len(), "reads refused by the store; they are not recorded");
            }
            // Kept for the next try: a read is never silently unrecorded.
            Err(_) => self.reads.lock().expect("reads lock").extend(reads),
            Ok(_) => {}
        }
        r
    }

    /// The pipeline that reads recorded results, for the plugins installed now: loaded
    /// again after an install, a switch or a removal (on any node), so that `…/text` and
    /// the index show what `akte text` shows.
    pub async fn reader(&self, repo: &Repository) -> Result<Arc<Pipeline>> {
        let key = akte_ingest::registry::state_key(repo.catalog());
        let mut slot = self.reader.lock().await;
        if slot.0 != key {
            slot.1 = Arc::new(crate::ingest::reader(&self.data, repo, true).await?);
            slot.0 = key;
        }
        Ok(slot.1.clone())
    }

    /// The pipeline with the validators installed now, `Ok(None)` when there are none.
    /// Loaded once per state of the installed validators (an install, a rule, a removal),
    /// without holding the repository: their components are read from the store and
    /// compiled on a blocking thread. Uploads wait for a reload only among themselves. A
    /// validator whose component cannot be read or does not load is logged and undecided
    /// ([`Pipeline::validate`]). When no validator can run at all (the registry cannot be
    /// read, the plugin host does not start), the error says why; a caller then stores
    /// with a warning, or refuses where the node refuses what is not validated
    /// ([`App::refuses_unvalidated`]).
    pub async fn validator_pipeline(&self) -> std::result::Result<Option<Arc<Pipeline>>, String> {
        let (validators, objects) = {
            let repo = self.repo.read().await;
            let installed = match akte_ingest::registry::installed(repo.catalog()) {
                Ok(i) => i,
                Err(e) => {
                    tracing::error!(error = %e, "the installed plugins cannot be read; uploads are not validated");
                    return Err(format!("the installed plugins cannot be read: {e}"));
                }
            };
            let validators: Vec<_> =
                installed.into_iter().filter(|p| p.manifest.world == akte_plugins::World::Validator).collect();
            (validators, repo.objects().clone())
        };
        if validators.is_empty() {
            return Ok(None);
        }
        let key = format!("{validators:?}");
        let mut slot = self.validators.lock().await;
        if let Some((k, p)) = slot.as_ref()
            && *k == key
        {
            return Ok(Some(p.clone()));
        }
        let mut plugins = Vec::new();
        for p in validators {
            // At most 256 MiB, as the pipeline reads a component.
            let wasm = objects.read_bytes(&p.content, 256 << 20).await.map_err(|e| {
                tracing::error!(plugin = %p.manifest.name, error = %e, "a validator's component cannot be read");
                e.to_string()
            });
            plugins.push((p, wasm));
        }
        let data = self.data.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let host = crate::ingest::host(&data)?;
            anyhow::Ok(Pipeline::validators_only(&host, plugins, crate::ingest::limits()?))
        })
        .await;
        let pipeline = match loaded {
            Ok(Ok((pipeline, failed))) => {
                for (name, e) in failed {
                    tracing::error!(plugin = %name, error = %e, "a validator does not load; it is left out");
                }
                Arc::new(pipeline)
            }
            Ok(Err(e)) => {
                tracing::error!(error = %format!("{e:#}"), "the plugin host cannot start; uploads are not validated");
                return Err(format!("the plugin host cannot start: {e:#}"));
            }
            Err(e) => {
                tracing::error!(error = %e, "loading the validators failed; uploads are not validated");
                return Err(format!("loading the validators failed: {e}"));
            }
        };
        *slot = Some((key, pipeline.clone()));
        Ok(Some(pipeline))
    }

    /// Whether this node refuses what no validator could decide on
    /// (`AKTE_VALIDATION_UNDECIDED=reject`). A value that cannot be read refuses.
    pub fn refuses_unvalidated(&self) -> bool {
        crate::ingest::limits().map_or(true, |l| l.reject_undecided)
    }

    /// Brings the search index up to date with the catalog.
    /// Wakes the sync task (a commit to index, entries of other nodes to read).
    pub fn wake_sync(&self) {
        self.sync_wakes.fetch_add(1, Ordering::Relaxed);
        self.sync_wake.notify_one();
    }

    pub async fn update_index(&self) -> Result<usize> {
        let _writer = self.index_lock.lock().await;
        let repo = self.repo.read().await;
        let reader = self.reader(&repo).await?;
        Ok(crate::search::sync_with(&self.index, &reader, &repo, false).await?.indexed)
    }
}

/// Opens the node and serves until SIGINT or SIGTERM; running requests (uploads) finish
/// first. `banner` is printed once the socket listens.
pub async fn serve(opts: &OpenOptions, config: Config, banner: impl FnOnce(&std::net::SocketAddr)) -> Result<()> {
    ignore_hangup();
    let repo = crate::cmd::open(opts).await?;
    let data = opts.data_dir.clone();
    let index = Index::open(&crate::search::index_dir(&data)).context("Cannot open the search index")?;
    let reader =
        (akte_ingest::registry::state_key(repo.catalog()), Arc::new(crate::ingest::reader(&data, &repo, true).await?));
    let app = Arc::new(App {
        repo: RwLock::new(repo),
        data: data.clone(),
        index,
        index_lock: tokio::sync::Mutex::new(()),
        reader: tokio::sync::Mutex::new(reader),
        validators: tokio::sync::Mutex::new(None),
        validation_slots: tokio::sync::Semaphore::new(VALIDATIONS_AT_ONCE),
        sessions: auth::Sessions::default(),
        idempotency: idempotency::Idempotency::default(),
        metrics: ops::Metrics::default(),
        reads: std::sync::Mutex::new(Vec::new()),
        ingest_wake: Arc::new(Notify::new()),
        sync_wake: Arc::new(Notify::new()),
        sync_wakes: std::sync::atomic::AtomicU64::new(0),
        gate: Arc::new(tokio::sync::Semaphore::new(config.concurrency)),
        ready: AtomicBool::new(false),
        store_down: AtomicBool::new(false),
        config: config.clone(),
        oidc: config.oidc.clone().map(oidc::Verifier::new).transpose()?,
    });
    let indexed = app.update_index().await?;
    if indexed > 0 {
        tracing::info!(dokumente = indexed, "search index brought up to date");
    }
    // Listening first: a port in use ends the start here, before any task runs (and the
    // ingest worker then logs no error for being cancelled).
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("Cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    app.ready.store(true, Ordering::SeqCst);

    let shutdown = CancellationToken::new();
    let sync_task = tokio::spawn(sync_loop(app.clone(), shutdown.clone()));
    let worker = if crate::ingest::enabled() {
        // The pipeline's future is not `Send` (its job stream borrows across awaits), so
        // the worker runs on a blocking thread that drives it on this runtime.
        let (app, opts, shutdown) = (app.clone(), opts.clone(), shutdown.clone());
        let handle = tokio::runtime::Handle::current();
        Some(tokio::task::spawn_blocking(move || handle.block_on(ingest_loop(app, opts, shutdown))))
    } else {
        None
    };

    {
        let repo = app.repo.read().await;
        tracing::info!(
            %addr,
            version = env!("CARGO_PKG_VERSION"),
            commit = env!("AKTE_COMMIT"),
            node = repo.node_id(),
            store = %repo.backend().url(),
            data = %data.display(),
            "listening"
        );
    }
    banner(&addr);
    let router = router(app.clone());
    let signalled = CancellationToken::new();
    let server = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown({
            let signalled = signalled.clone();
            async move {
                shutdown_signal().await;
                tracing::info!(grace_secs = SHUTDOWN_GRACE.as_secs(), "shutting down: finishing running requests");
                signalled.cancel();
            }
        })
        .into_future();
    // Running requests get SHUTDOWN_GRACE to finish; a second signal or the end of the
    // grace stops the server without them (an upload cut off commits nothing).
    tokio::select! {
        served = server => served?,
        () = async {
            signalled.cancelled().await;
            tokio::select! {
                () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
                () = shutdown_signal() => {}
            }
        } => tracing::warn!("stopping with requests still running (grace period over, or a second signal)"),
    }
    // A token, not a notification: a task busy when the signal comes still sees it.
    shutdown.cancel();
    // Writing the last reads, waiting for the sync and the ingest worker (an OCR batch, an
    // S3 retry) and saving the catalog cache may take long too: bounded like the requests,
    // and a signal ends the wait. What is skipped then is a cache (rebuilt from the
    // journal at the next start) and the reads of the last second.
    let finish = async {
        if let Err(e) = app.flush_reads().await {
            tracing::error!(error = %e, "the last reads could not be written to the journal");
        }
        let _ = sync_task.await;
        if let Some(w) = worker {
            let _ = w.await;
        }
        app.repo.write().await.save_catalog()
    };
    tokio::select! {
        saved = finish => saved?,
        () = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("stopping before the last reads and the catalog cache were saved (grace period over)"),
        () = shutdown_signal() => tracing::warn!("stopping before the last reads and the catalog cache were saved (another signal)"),
    }
    Ok(())
}

/// How long running requests may take to finish after SIGINT or SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// SIGHUP (what `logrotate` sends) would end the process at once; Akte logs to stderr and
/// has nothing to reopen, so it notes the signal and goes on.
fn ignore_hangup() {
    #[cfg(unix)]
    if let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP ignored: logs go to stderr, nothing to reopen; SIGTERM stops the server");
            }
        });
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The longest the sync loop waits after a run before the next (see there): an upload is
/// searchable after at most about this much plus a run.
const SYNC_GAP: Duration = Duration::from_millis(200);

/// Reads other nodes' entries and keeps the index current.
async fn sync_loop(app: Arc<App>, shutdown: CancellationToken) {
    let mut saved = std::time::Instant::now();
    // When the last run ended, how long it took, and whether it was woken more than once
    // while it ran (a burst).
    let (mut last_end, mut last_took, mut busy) = (std::time::Instant::now(), Duration::ZERO, false);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(app.config.sync_interval) => {},
            _ = app.sync_wake.notified() => {},
            _ = shutdown.cancelled() => return,
        }
        // Every upload wakes this loop. A run takes the repository's write lock (to read
        // other nodes' entries) and commits the search index, which writes a segment. On a
        // quiet node a run starts at once, so an upload is searchable within moments. When
        // the last run was woken more than once while it ran (a burst of uploads), the next
        // waits until three times its length have passed (at most SYNC_GAP), so that one
        // run takes in many uploads and they have the lock and the cores meanwhile.
        if busy && let Some(wait) = (last_took * 3).min(SYNC_GAP).checked_sub(last_end.elapsed()) {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {},
                _ = shutdown.cancelled() => return,
            }
        }
        let started = std::time::Instant::now();
        let wakes = app.sync_wakes.load(Ordering::Relaxed);
        if let Err(e) = app.flush_reads().await {
            app.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "reads could not be written to the journal; retrying");
        }
        let synced = {
            let mut repo = app.repo.write().await;
            let r = repo.sync().await;
            if r.is_ok() && saved.elapsed() > Duration::from_secs(60) {
                saved = std::time::Instant::now();
                if let Err(e) = repo.save_catalog() {
                    tracing::warn!(error = %e, "cannot save the catalog cache");
                }
                if let Some(why) = repo.heads_unsaved() {
                    tracing::warn!(error = %why, "cannot save the journal heads seen; rollback detection misses them");
                }
            }
            r
        };
        match synced {
            Ok(n) => {
                app.store_down.store(false, Ordering::SeqCst);
                app.metrics
                    .journal_height
                    .store(app.repo.read().await.catalog().entries.len() as u64, Ordering::Relaxed);
                if n > 0 {
                    app.ingest_wake.notify_one();
                }
            }
            Err(e) => {
                app.store_down.store(true, Ordering::SeqCst);
                app.metrics.store_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "sync with the store failed");
                continue;
            }
        }
        if let Err(e) = app.update_index().await {
            tracing::error!(error = %format!("{e:#}"), "search index update failed");
        }
        busy = app.sync_wakes.load(Ordering::Relaxed) > wakes + 1;
        (last_end, last_took) = (std::time::Instant::now(), started.elapsed());
    }
}

/// An actor as a read record can hold it (one line of at most 200 bytes, as the store
/// checks): a caller's name is checked where it is made, and this keeps one that slipped
/// through (an old token's name) from making every read of the node unrecordable.
fn recordable(actor: &str) -> String {
    let mut out: String = actor.chars().map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect();
    if out.len() > 200 {
        let mut end = 197;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
    }
    if out.is_empty() { "unknown".into() } else { out }
}

/// The ingest worker: a private node in `<data>/ingest-node` that extracts text (plugins,
/// OCR) from new versions and commits the results in its own journal stream.
async fn ingest_loop(app: Arc<App>, opts: OpenOptions, shutdown: CancellationToken) {
    let store = app.repo.read().await.backend().url().to_string();
    let worker_opts = OpenOptions {
        data_dir: ingest_node_dir(&app.data),
        store: Some(store),
        identity: Some(opts.identity.clone().unwrap_or_else(|| app.data.join("identity.txt"))),
        actor: "ingest".into(),
    };
    let mut repo = match Repository::open(&worker_opts).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "the ingest worker cannot open its node; extraction is off");
            return;
        }
    };
    let mut installed = akte_ingest::registry::state_key(repo.catalog());
    let mut pipeline = match crate::ingest::pipeline(&worker_opts.data_dir, &repo, true).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "the ingest pipeline cannot load; extraction is off");
            return;
        }
    };
    // Each version once between two rests, so that one that stays pending (whatever the
    // reason) cannot keep the worker from resting.
    let mut tried = std::collections::HashSet::new();
    // What was pending when the worker last looked, and when that was.
    let mut waiting: Vec<uuid::Uuid> = Vec::new();
    let mut looked: Option<std::time::Instant> = None;
    loop {
        // Looking costs a listing of the store and a pass over every Dokument's results:
        // at most once a second while work waits, not after every batch of a bulk upload.
        if looked.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            looked = Some(std::time::Instant::now());
            waiting.clear();
            match repo.sync().await {
                Err(e) => tracing::error!(error = %e, "ingest worker: sync failed"),
                Ok(_) => {
                    // A plugin installed, switched or removed (on any node): the pipeline follows.
                    let now = akte_ingest::registry::state_key(repo.catalog());
                    if now != installed {
                        match crate::ingest::pipeline(&worker_opts.data_dir, &repo, true).await {
                            Ok(p) => {
                                pipeline = p;
                                installed = now;
                                tracing::info!("the installed plugins changed; the ingest pipeline is loaded again");
                            }
                            Err(e) => tracing::error!(
                                error = %format!("{e:#}"),
                                "the changed plugins cannot load; the old pipeline runs"
                            ),
                        }
                    }
                    waiting = pipeline.pending(repo.catalog());
                }
            }
        }
        // One small batch, then look again (within a second): an upload that arrived
        // meanwhile is weighed against what is still waiting. Cheap work first, scans one
        // at a time, so that a text uploaded behind a dozen scans is searchable within a
        // second, not after their OCR (the QA pass as an integrator measured 15.8 s before).
        waiting.retain(|v| !tried.contains(v));
        let catalog = repo.catalog();
        let batch = next_batch(&waiting, |v| {
            catalog.get(v).and_then(|o| o.text("media_type")).is_some_and(akte_ingest::ocr::is_image)
        });
        tried.extend(batch.iter().copied());
        if !batch.is_empty() {
            if shutdown.is_cancelled() {
                return;
            }
            match pipeline.process(&mut repo, &batch, Arc::new(|_| {})).await {
                Ok(report) => {
                    for (version, producer, message) in &report.failures {
                        let file = repo.catalog().get(version).and_then(|v| v.text("file_name")).unwrap_or("");
                        tracing::warn!(%version, file, %producer, %message, "a plugin or OCR failed on a document");
                    }
                    app.wake_sync();
                    continue;
                }
                Err(e) => tracing::error!(error = %format!("{e:#}"), "ingest batch failed"),
            }
        }
        tried.clear();
        looked = None;
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {},
            _ = app.ingest_wake.notified() => {},
            _ = shutdown.cancelled() => return,
        }
    }
}

/// The next versions for the ingest worker: up to four that need no OCR as images do, in
/// the order they came; else one image (its OCR takes seconds).
fn next_batch(pending: &[uuid::Uuid], is_image: impl Fn(&uuid::Uuid) -> bool) -> Vec<uuid::Uuid> {
    let cheap: Vec<uuid::Uuid> = pending.iter().filter(|v| !is_image(v)).take(4).copied().collect();
    if cheap.is_empty() { pending.iter().take(1).copied().collect() } else { cheap }
}

/// The installed plugins' state a pipeline was loaded for (`registry::state_key`).
type PluginsState = Vec<(uuid::Uuid, akte_store::hlc::Hlc)>;

/// Uploads validated at once whose start must be read back from the store.
const VALIDATIONS_AT_ONCE: usize = 2;

/// The data directory of this node's ingest worker.
pub fn ingest_node_dir(data: &Path) -> PathBuf {
    data.join("ingest-node")
}

/// Records metrics per request.
async fn track(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "other".into());
    let method = req.method().clone();
    let peer = req.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let response = next.run(req).await;
    let took = start.elapsed();
    app.metrics.observe(&method, &route, response.status(), took);
    // The access log: the route as a template (no ids, no query: a query may hold search
    // words), the status, the time and the client's address (for blocking a guesser at the
    // firewall). Probes and scrapes only at debug.
    let status = response.status().as_u16();
    let ms = took.as_secs_f64() * 1000.0;
    let peer = peer.map(|p| p.to_string()).unwrap_or_default();
    if matches!(route.as_str(), "/healthz" | "/readyz" | "/metrics") {
        tracing::debug!(target: "akte::access", %method, %route, status, ms, %peer, "request");
    } else {
        tracing::info!(target: "akte::access", %method, %route, status, ms, %peer, "request");
    }
    response
}

/// The whole router.
pub fn router(app: Arc<App>) -> Router {
    let api = api::routes()
        .merge(accounts::routes())
        .merge(content::routes())
        .merge(feed::routes())
        .merge(retention::routes());
    let api = api.merge(jobs::routes(&app));
    let limits = ServiceBuilder::new()
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(ops::panic_response))
        .layer(middleware::from_fn_with_state(app.clone(), ops::limit_concurrency));
    Router::new()
        .nest("/api/v1", api)
        .merge(ops::routes())
        .fallback(ops::fallback)
        .layer(middleware::from_fn(ops::method_problem))
        .layer(DefaultBodyLimit::max(app.config.max_json_bytes))
        .layer(limits)
        .layer(middleware::from_fn_with_state(app.clone(), track))
        .with_state(app)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_actor_becomes_a_recordable_one() {
        assert_eq!(super::recordable("token:fv"), "token:fv");
        assert_eq!(super::recordable("token:a\tb"), "token:a\u{FFFD}b");
        assert_eq!(super::recordable(""), "unknown");
        let long = super::recordable(&format!("oidc:{}", "ä".repeat(200)));
        assert!(long.len() <= 200 && long.ends_with('…'), "{long}");
    }

    #[test]
    fn the_ingest_worker_takes_cheap_work_first_and_scans_one_at_a_time() {
        let ids: Vec<uuid::Uuid> = (0..8).map(|_| uuid::Uuid::now_v7()).collect();
        // Versions 0..6 are scans, 6 and 7 texts uploaded after them.
        let scan = |v: &uuid::Uuid| ids[..6].contains(v);
        assert_eq!(next_batch(&ids, scan), ids[6..].to_vec());
        assert_eq!(next_batch(&ids[..6], scan), ids[..1].to_vec());
        assert_eq!(next_batch(&ids, |_| false), ids[..4].to_vec());
        assert!(next_batch(&[], scan).is_empty());
    }
}
