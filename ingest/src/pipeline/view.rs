//! What is derived for a version, put together for the index, the API and the CLI.

use super::*;

/// Everything derived for one version, as the index and the API show it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct View {
    /// Extracted text followed by OCR text.
    pub text: String,
    /// Fields from the extractor.
    pub extracted_fields: Vec<(String, String)>,
    /// The document type suggested with the highest confidence.
    pub document_type: Option<String>,
    /// Fields suggested by enrichers, by field name (first enricher in name order wins).
    pub fields: BTreeMap<String, String>,
    /// Tags suggested by enrichers.
    pub tags: Vec<String>,
    /// Producers whose results are included.
    pub producers: Vec<String>,
    /// Failures: producer and message.
    pub failures: Vec<(String, String)>,
    /// Producers this node's pipeline would still run for the version (OCR of a PDF's
    /// pages without text included once the extraction has named them).
    pub pending: Vec<String>,
}

/// Where a version's text stands, from its [`View`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TextState {
    /// An extractor or OCR has produced text (it may be empty: an empty document).
    Done,
    /// Nothing has produced text yet, and an extractor or OCR is still to run.
    Pending,
    /// Every extractor and OCR that ran failed, and none is left to run.
    Failed,
    /// No extractor takes the media type, and no OCR either.
    None,
    /// An extractor produced text, but named pages without a text layer (a scan) that no
    /// OCR has read and none is still to run: this node has no OCR, or it failed.
    Partial,
}

impl View {
    /// Where the text stands: done as soon as any extractor or OCR produced text.
    pub fn text_state(&self) -> TextState {
        let text_stage = |p: &String| matches!(Stage::of(p), Some(Stage::Extract | Stage::Ocr));
        let failed = |p: &String| self.failures.iter().any(|(f, _)| f == p);
        if self.producers.iter().filter(|p| text_stage(p)).any(|p| !failed(p)) {
            let unread_pages =
                self.extracted_fields.iter().any(|(k, v)| k == "pages-without-text" && !v.trim().is_empty());
            let ocr_read = self.producers.iter().any(|p| Stage::of(p) == Some(Stage::Ocr) && !failed(p));
            if unread_pages && !ocr_read && !self.pending.iter().any(text_stage) {
                TextState::Partial
            } else {
                TextState::Done
            }
        } else if self.pending.iter().any(text_stage) {
            TextState::Pending
        } else if self.producers.iter().any(text_stage) {
            TextState::Failed
        } else {
            TextState::None
        }
    }
}

impl Pipeline {
    /// What is derived for a version: this pipeline's producers first, then any other
    /// text result (from an earlier plugin version) when this pipeline has none.
    pub async fn view(&self, repo: &Repository, version: &Uuid) -> Result<View> {
        let catalog = repo.catalog();
        let obj = catalog.get(version).ok_or_else(|| Error::NotFound(format!("There is no version {version}")))?;
        let Some(job) = job_of(catalog, obj) else { return Ok(View::default()) };
        let current = self.producers(&job);
        let Some(have) = catalog.derived(&job.content) else { return Ok(View { pending: current, ..View::default() }) };
        let mut pending: Vec<String> = current.iter().filter(|p| !have.contains_key(p)).cloned().collect();
        let mut chosen: Vec<&String> = current.iter().filter(|p| have.contains_key(p)).collect();
        // OCR of PDF pages is not in `producers` (it depends on the extraction); take any.
        let ocr: Vec<&String> =
            have.keys().filter(|p| Stage::of(p) == Some(Stage::Ocr) && !chosen.contains(p)).collect();
        chosen.extend(ocr);
        if !chosen.iter().any(|p| Stage::of(p) == Some(Stage::Extract))
            && let Some(p) = have.keys().rev().find(|p| Stage::of(p) == Some(Stage::Extract))
        {
            chosen.insert(0, p);
        }
        // The built-in extractor's text where an installed extractor failed (see `work`).
        if let Some(ex) =
            self.extractor_for(job.aktenplan.as_deref(), &job.media_type).filter(|e| e.installed.is_some())
            && let Some(builtin) = self.builtin_extractor_for(&job.media_type)
            && let (Some(primary), Some(_)) = (have.get(&ex.producer), have.get(&builtin.producer))
            && fell_back_from(&load(repo, primary).await?)
        {
            chosen.push(&builtin.producer);
        }
        chosen.sort_by_key(|p| Stage::of(p));
        let mut view = View::default();
        let mut best_confidence = 0;
        for producer in chosen {
            let d = load(repo, &have[producer]).await?;
            view.producers.push(producer.clone());
            match d.payload {
                Payload::Text { text, fields, .. } => {
                    push_text(&mut view.text, &text);
                    if Stage::of(producer) == Some(Stage::Extract) {
                        // A PDF's pages without text wait for OCR, when this node has it.
                        let without_text =
                            fields.iter().any(|(k, v)| k == "pages-without-text" && !v.trim().is_empty());
                        if without_text
                            && let Some(o) = self.wants_ocr(&job.media_type)
                            && !have.contains_key(&o.producer())
                            && !pending.contains(&o.producer())
                        {
                            pending.push(o.producer());
                        }
                        view.extracted_fields = fields;
                    }
                }
                Payload::Suggestion { document_type, fields, tags, confidence } => {
                    if let Some(t) = document_type
                        && (view.document_type.is_none() || confidence > best_confidence)
                    {
                        view.document_type = Some(t);
                        best_confidence = confidence;
                    }
                    for (k, v) in fields {
                        view.fields.entry(k).or_insert(v);
                    }
                    for t in tags {
                        if !view.tags.contains(&t) {
                            view.tags.push(t);
                        }
                    }
                }
                Payload::Failed { message, .. } => view.failures.push((producer.clone(), message)),
            }
        }
        view.pending = pending;
        Ok(view)
    }
}
