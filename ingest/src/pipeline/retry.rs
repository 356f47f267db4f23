//! Which versions need work (nothing recorded yet, or a failure that may pass on another
//! try), and the runs that do it in batches.

use super::*;

impl Pipeline {
    /// The latest versions of all Dokumente that lack a result of this pipeline.
    pub fn pending(&self, catalog: &Catalog) -> Vec<Uuid> {
        let mut out = Vec::new();
        for dok in catalog.all(ObjKind::Dokument) {
            let Some(version) = catalog.latest_version(&dok.id) else { continue };
            let Some(job) = job_of(catalog, version) else { continue };
            let have = catalog.derived(&job.content);
            if self.producers(&job).iter().any(|p| have.is_none_or(|h| !h.contains_key(p))) {
                out.push(version.id);
            }
        }
        out
    }

    /// The latest versions whose recorded results of this pipeline include a failure that
    /// may pass on another try, each with the producers that failed: what
    /// [`retry`](Self::retry) runs again. Retried are timeouts, exhausted memory and OCR
    /// failures (the machine was busy, the disk full); not the failures that would say the
    /// same again (a malformed file, a plugin's own error, too large for this node, input a
    /// producer does not handle). Results are kept per content (an enricher's also per
    /// Dokument metadata): a result shared by several versions is listed once, at one of them.
    /// The built-in extractor's failure counts only where it stood in for an installed
    /// extractor that failed, as in [`view`](Self::view). Reads every recorded result of
    /// every latest version; `progress` gets how many versions of how many are read.
    pub async fn failed(
        &self,
        repo: &Repository,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<Vec<(Uuid, Vec<String>)>> {
        struct Looked {
            version: Uuid,
            recorded: Vec<(String, Name)>,
            /// The installed extractor, and the built-in one's result, when it stood in.
            stand_in: Option<(String, (String, Name))>,
        }
        let catalog = repo.catalog();
        let mut seen: HashSet<(Name, String)> = HashSet::new();
        let mut looked = Vec::new();
        for dok in catalog.all(ObjKind::Dokument) {
            let Some(job) = catalog.latest_version(&dok.id).and_then(|v| job_of(catalog, v)) else { continue };
            let Some(have) = catalog.derived(&job.content) else { continue };
            let mut producers = self.producers(&job);
            // A PDF gets OCR only for its pages without text, so `producers` leaves it out.
            if !ocr::is_image(&job.media_type)
                && let Some(o) = self.wants_ocr(&job.media_type)
            {
                producers.push(o.producer());
            }
            let installed =
                self.extractor_for(job.aktenplan.as_deref(), &job.media_type).filter(|e| e.installed.is_some());
            let stand_in = installed.and_then(|e| {
                let builtin = self.builtin_extractor_for(&job.media_type)?;
                Some((e.producer.clone(), (builtin.producer.clone(), *have.get(&builtin.producer)?)))
            });
            // Once per result: extractors and OCR per content, enrichers per content and
            // metadata (a second Dokument with the same bytes in another Akte has its own).
            let recorded: Vec<(String, Name)> = producers
                .into_iter()
                .filter_map(|p| have.get(&p).map(|r| (p, *r)))
                .filter(|(p, _)| seen.insert((job.content, p.clone())))
                .collect();
            if !recorded.is_empty() {
                looked.push(Looked { version: job.version, recorded, stand_in });
            }
        }
        let total = looked.len();
        let mut read = 0;
        let mut out = Vec::new();
        let mut checks = stream::iter(looked.into_iter().map(|l| async move {
            let retryable =
                |d: &Derived| d.failure().is_some_and(|(code, _)| matches!(code, "timeout" | "memory" | "ocr"));
            let mut failed = Vec::new();
            let mut fell_back = None;
            for (producer, result) in l.recorded {
                let d = load(repo, &result).await?;
                if l.stand_in.as_ref().is_some_and(|(installed, _)| *installed == producer) {
                    fell_back = Some(fell_back_from(&d));
                }
                if retryable(&d) {
                    failed.push(producer);
                }
            }
            if let (Some(true), Some((_, (builtin, result)))) = (fell_back, l.stand_in)
                && retryable(&load(repo, &result).await?)
            {
                failed.push(builtin);
            }
            Ok::<_, Error>((l.version, failed))
        }))
        .buffered(self.limits.jobs.max(1) * 4);
        while let Some(checked) = checks.next().await {
            let (version, failed) = checked?;
            read += 1;
            progress(read, total);
            if !failed.is_empty() {
                out.push((version, failed));
            }
        }
        Ok(out)
    }

    /// Runs extraction, OCR and enrichers on versions, storing every result and committing
    /// them in batches. Results that exist already are reused, not recomputed.
    pub async fn process(
        &self,
        repo: &mut Repository,
        versions: &[Uuid],
        progress: Arc<dyn Fn(Event) + Send + Sync>,
    ) -> Result<Report> {
        let versions: Vec<(Uuid, Vec<String>)> = versions.iter().map(|v| (*v, Vec::new())).collect();
        self.retry(repo, &versions, progress).await
    }

    /// [`process`](Self::process), with the recorded results of the named producers of
    /// each version set aside, so that they are made again (from [`failed`](Self::failed),
    /// after a timeout under load), and what depends on them: enrichers run again when the
    /// text is new. A new result replaces the failure by merge order.
    pub async fn retry(
        &self,
        repo: &mut Repository,
        versions: &[(Uuid, Vec<String>)],
        progress: Arc<dyn Fn(Event) + Send + Sync>,
    ) -> Result<Report> {
        let mut report = Report { versions: versions.len(), ..Report::default() };
        let fresh = self.run_batches(repo, versions, &progress, &mut report).await?;
        // Enricher results are kept per content and document metadata: other Dokumente
        // with a content whose text is new here (OCR that worked this time) still hold
        // results their enrichers made from the old text. They run again, on the new text.
        // Only after a real retry: new uploads have new contents (or reuse text made before),
        // and this pass reads the whole catalog.
        let retried = versions.iter().any(|(_, again)| !again.is_empty());
        if retried && !fresh.is_empty() {
            let listed: HashSet<Uuid> = versions.iter().map(|(v, _)| *v).collect();
            let catalog = repo.catalog();
            let mut follow = Vec::new();
            for dok in catalog.all(ObjKind::Dokument) {
                let Some(latest) = catalog.latest_version(&dok.id) else { continue };
                if latest.content.is_none_or(|c| !fresh.contains(&c)) || listed.contains(&latest.id) {
                    continue;
                }
                let Some(job) = job_of(catalog, latest) else { continue };
                {
                    let enrichers =
                        self.enrichers.iter().filter(|e| e.runs_for(job.aktenplan.as_deref(), &job.media_type));
                    let again: Vec<String> = enrichers.map(|e| e.producer_for(&job)).collect();
                    if !again.is_empty() {
                        follow.push((job.version, again));
                    }
                }
            }
            if !follow.is_empty() {
                report.versions += follow.len();
                self.run_batches(repo, &follow, &progress, &mut report).await?;
            }
        }
        repo.save_catalog()?;
        Ok(report)
    }

    /// Works on `versions` in batches, each committed as one entry; returns the contents
    /// whose text was made anew.
    async fn run_batches(
        &self,
        repo: &mut Repository,
        versions: &[(Uuid, Vec<String>)],
        progress: &Arc<dyn Fn(Event) + Send + Sync>,
        report: &mut Report,
    ) -> Result<HashSet<Name>> {
        let mut fresh = HashSet::new();
        let mut done = 0;
        for batch in versions.chunks(self.limits.batch.max(1)) {
            let jobs: Vec<(Job, &[String])> = batch
                .iter()
                .filter_map(|(id, again)| Some((job_of(repo.catalog(), repo.catalog().get(id)?)?, again.as_slice())))
                .collect();
            let repo_ref: &Repository = repo;
            let results: Vec<Result<Work>> = stream::iter(jobs.iter().map(|(job, again)| {
                let progress = progress.clone();
                async move { self.work(repo_ref, job, again, progress).await }
            }))
            .buffer_unordered(self.limits.jobs.max(1))
            .collect()
            .await;
            let mut changes = Vec::new();
            for r in results {
                let w = r?;
                report.reused += w.reused;
                report.ocr_pages += w.ocr_pages;
                for (stage, producer, change, failure) in w.produced {
                    *report.produced.entry(stage).or_default() += 1;
                    if let Some(message) = failure {
                        report.failures.push((w.version, producer, message));
                    }
                    changes.push(change);
                }
                if w.fresh_text {
                    fresh.insert(w.content);
                }
                done += 1;
                progress(Event::Version { done, total: versions.len() });
            }
            repo.commit(changes).await?;
        }
        Ok(fresh)
    }
}
