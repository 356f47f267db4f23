//! What an export and an import job do, once the job runner gives them their turn: write
//! a package from the repository, or check and import one into it (holding the repository
//! only to check and to commit, see `akte_exchange::Shared`).

use super::*;

fn job_result(report: &akte_exchange::Report) -> JobResult {
    JobResult {
        akten: report.akten.len(),
        vorgaenge: report.vorgaenge,
        dokumente: report.dokumente,
        versionen: report.versionen,
        bytes: report.bytes,
        akten_ids: report.akten.iter().map(|a| a.id).collect(),
    }
}

pub(super) async fn export(
    app: Arc<App>,
    who: Principal,
    ids: Vec<Uuid>,
    format: ExportFormat,
    dir: PathBuf,
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
) -> Result<(JobResult, Option<ResultFile>), JobError> {
    let stem = format!("akte-{}-{}", format.name(), dir.file_name().and_then(|n| n.to_str()).unwrap_or("export"));
    let tree = dir.join(&stem);
    let report = {
        let repo = app.repo.read().await;
        let cat = repo.catalog();
        // Checked again: grants may have changed while the job waited.
        for id in &ids {
            visible(cat, &who, *id, ObjKind::Akte)
                .map_err(|_| JobError::new("not-found", format!("There is no Akte {id}")))?;
        }
        let content: u64 = cat
            .all(ObjKind::Version)
            .filter(|v| v.akte.is_some_and(|a| ids.contains(&a)))
            .filter_map(|v| v.fields.get("size").and_then(Value::as_u64))
            .sum();
        // Writing the documents, then (except xdomea) packing them into the ZIP.
        let zipped = format != ExportFormat::Xdomea;
        total.store(if zipped { content.saturating_mul(2) } else { content }.max(1), Ordering::Relaxed);
        let watch = {
            let (dir, done) = (dir.clone(), done.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    let d = dir.clone();
                    let n = tokio::task::spawn_blocking(move || tree_size(&d)).await.unwrap_or(0);
                    done.store(n.min(content), Ordering::Relaxed);
                }
            })
        };
        let r = match format {
            ExportFormat::Bagit => akte_exchange::export_bagit(&repo, &ids, &tree).await,
            ExportFormat::Ocfl => akte_exchange::export_ocfl(&repo, &ids, &tree).await,
            ExportFormat::Xdomea => {
                let sender = akte_exchange::Sender {
                    institution: app.config.institution.clone(),
                    ..akte_exchange::Sender::default()
                };
                akte_exchange::export_xdomea_0401(&repo, &ids, &dir, &sender).await
            }
        };
        watch.abort();
        done.store(content, Ordering::Relaxed);
        r.map_err(|e| JobError::exchange(e, &dir))?
    };
    for id in &ids {
        app.record_read(&who, *id, crate::http::schema::Read::Export);
    }
    let result = job_result(&report);
    let (path, name) = match format {
        ExportFormat::Xdomea => {
            let name = report.path.file_name().and_then(|n| n.to_str()).unwrap_or("xdomea.zip").to_string();
            (report.path.clone(), name)
        }
        ExportFormat::Bagit | ExportFormat::Ocfl => {
            let name = format!("{stem}.zip");
            let path = dir.join(&name);
            let (from, to, prefix) = (tree.clone(), path.clone(), stem.clone());
            tokio::task::spawn_blocking(move || zip_tree(&from, &to, &prefix, &done))
                .await
                .map_err(JobError::internal)?
                .map_err(JobError::internal)?;
            // Only the ZIP stays: one plaintext copy on disk, not two.
            remove_dir(&tree);
            (path, name)
        }
    };
    let size = std::fs::metadata(&path).map_err(|e| JobError::internal(format!("{}: {e}", path.display())))?.len();
    Ok((result, Some(ResultFile { path, name, size })))
}

pub(super) async fn import(
    app: Arc<App>,
    who: Principal,
    dir: PathBuf,
    limits: Limits,
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
) -> Result<(JobResult, Option<ResultFile>), JobError> {
    let r = import_inner(&app, &who, &dir, limits, done, total).await;
    // The package is plaintext: it goes as soon as the import has finished.
    let d = dir.clone();
    let _ = tokio::task::spawn_blocking(move || remove_dir(&d)).await;
    r
}

async fn import_inner(
    app: &Arc<App>,
    who: &Principal,
    dir: &Path,
    limits: Limits,
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
) -> Result<(JobResult, Option<ResultFile>), JobError> {
    let jobs = registry(app);
    let id: Uuid = dir.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse().ok()).unwrap_or_default();
    let upload = dir.join("upload.zip");
    let z = upload.clone();
    let package = tokio::task::spawn_blocking(move || inspect(&z)).await.map_err(JobError::internal)??;
    let (format, root) = match package {
        Package::Xdomea => {
            total.store(std::fs::metadata(&upload).map(|m| m.len()).unwrap_or(1).max(1), Ordering::Relaxed);
            ("xdomea", None)
        }
        Package::Folder(prefix) => {
            let dest = dir.join("package");
            let (z, d, l, dn, tt) = (upload.clone(), dest.clone(), limits, done.clone(), total.clone());
            tokio::task::spawn_blocking(move || unpack(&z, &d, &l, &dn, &tt)).await.map_err(JobError::internal)??;
            let _ = std::fs::remove_file(&upload);
            let root = dest.join(prefix.trim_end_matches('/'));
            let format = MARKERS.iter().find(|(m, _)| root.join(m).is_file()).map(|(_, f)| *f).unwrap_or("bagit");
            (format, Some(root))
        }
    };
    jobs.set_format(id, format);
    // The validators see every file first, as for an upload.
    let validators = match app.validator_pipeline().await {
        Ok(pipeline) => pipeline.map(crate::ingest::ValidatorGate::new),
        Err(why) if app.refuses_unvalidated() => {
            let why = format!(
                "Nothing was imported: the validators cannot run on this node ({why}), and this node refuses what is not validated."
            );
            return Err(JobError::new("rejected", why));
        }
        Err(why) => {
            tracing::warn!(reason = %why, "the validators cannot run; the import is not validated");
            None
        }
    };
    let gate: &dyn akte_exchange::Gate = match &validators {
        Some(g) => g,
        None => &akte_exchange::Ungated,
    };
    // The repository is locked only to check and to commit: reads and uploads go on while
    // the package's files are validated and stored.
    let report = {
        let repo = Actor { repo: &app.repo, actor: &who.actor };
        let paperless = akte_exchange::PaperlessOptions::default();
        let r = match (format, &root) {
            ("ocfl", Some(root)) => akte_exchange::import_ocfl_gated(&repo, root, gate).await,
            ("paperless", Some(root)) => akte_exchange::import_paperless_gated(&repo, root, &paperless, gate).await,
            (_, Some(root)) => akte_exchange::import_bagit_gated(&repo, root, gate).await,
            (_, None) => akte_exchange::import_xdomea_gated(&repo, &upload, &limits, gate).await,
        };
        r.map_err(|e| JobError::exchange(e, dir))?
    };
    done.store(total.load(Ordering::Relaxed), Ordering::Relaxed);
    tracing::info!(actor = %who.actor, format, akten = report.akten.len(), "package imported");
    if let Err(e) = app.update_index().await {
        tracing::error!(error = %format!("{e:#}"), "search index update failed");
    }
    app.wake_sync();
    app.ingest_wake.notify_one();
    Ok((job_result(&report), None))
}

/// The server's repository as an import's target: every change it commits is `actor`'s.
struct Actor<'a> {
    repo: &'a tokio::sync::RwLock<akte_store::Repository>,
    actor: &'a str,
}

impl akte_exchange::Shared for Actor<'_> {
    fn read(&self) -> Pin<Box<dyn Future<Output = akte_exchange::ReadGuard<'_>> + Send + '_>> {
        akte_exchange::Shared::read(self.repo)
    }

    fn write(&self) -> Pin<Box<dyn Future<Output = akte_exchange::WriteGuard<'_>> + Send + '_>> {
        Box::pin(async {
            let mut repo = self.repo.write().await;
            repo.actor = self.actor.to_string();
            Box::new(repo) as akte_exchange::WriteGuard<'_>
        })
    }
}
