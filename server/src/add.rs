//! Storing local files as Dokumente and versions (`akte add`, `akte version`, `akte create`,
//! the demo): files read and stored in batches, each batch one journal entry.

use std::path::Path;

use akte_store::{
    Change, Repository,
    catalog::Catalog,
    model::{self, ObjKind},
};
use anyhow::{Result, anyhow, bail};
use futures::{StreamExt, TryStreamExt};
use indicatif::ProgressBar;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::output;

/// How many files one journal entry commits at most during `add`. Full packs (8 MiB) are
/// written in the background while the batch is read; only the last one of a batch is
/// written at its commit, so larger batches wait less (10,000 small files, interleaved
/// runs: 2,000 per entry took 0.63-0.75 s against 0.72-0.81 s at 500).
const ADD_BATCH: usize = 2000;
/// How many files `add` hands to the blocking pool at once: small ones are opened, read,
/// framed and hashed there in one go (`Repository::store_small_files`). One hand-off per
/// file made the thread wake-ups a tenth of the staging thread's time.
const FILE_GROUP: usize = 4;
/// How many groups `add` stores at once: up to 128 small files (at most 64 MiB) in memory.
/// Many groups, each small, keep many reads queued at the disk when the files are not in
/// the page cache. 10,000 small files, caches dropped, three runs each: groups of 4 with
/// 32 in flight 0.62-0.69 s; one file per hand-off (before) 0.75-0.87 s; 32 with 4 in
/// flight 0.82-0.92 s. From the page cache the shapes are all within 0.42-0.48 s.
const GROUPS_IN_FLIGHT: usize = 32;

pub async fn create_akte(repo: &mut Repository, fields: Map<String, Value>) -> Result<Uuid> {
    let az = fields.get("aktenzeichen").and_then(Value::as_str).unwrap_or_default().to_string();
    if let Some(holder) = repo.catalog().state.aktenzeichen.get(&az) {
        bail!("The Aktenzeichen {az} is already used by Akte {holder}");
    }
    let id = Uuid::now_v7();
    repo.commit(vec![Change::Create { kind: ObjKind::Akte, id, parent: None, content: None, fields }]).await?;
    Ok(id)
}

/// Stores a file as a new version of `dokument`; returns the change and the JSON line.
pub async fn version_change(repo: &Repository, dokument: Uuid, file: &Path) -> Result<(Change, Value)> {
    let len = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    let bar = output::bar(len, true, &file.display().to_string());
    let r = store_version(repo, dokument, file, &bar).await;
    bar.finish_and_clear();
    r
}

/// Stores a file as a new version of `dokument`, advancing `bar` by the bytes read.
async fn store_version(repo: &Repository, dokument: Uuid, file: &Path, bar: &ProgressBar) -> Result<(Change, Value)> {
    let name = file_name_of(file)?;
    let content = repo.store_file(file, advance(bar)).await?;
    Ok(version_of(dokument, file, name, content))
}

/// A progress callback that advances `bar` by the bytes read since its last call.
fn advance(bar: &ProgressBar) -> impl FnMut(u64) + '_ {
    let mut last = 0;
    move |n| {
        bar.inc(n - last);
        last = n;
    }
}

/// A file's name, checked to be usable as a Dokument's file name.
fn file_name_of(file: &Path) -> Result<String> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("The path {} has no usable file name", file.display()))?
        .to_string();
    model::safe_file_name(&name)?;
    Ok(name)
}

/// The media type of a local file: by its name's extension, else by its first bytes; and
/// by its first bytes whenever they say for certain that it is another
/// ([`model::media_type_settled`]).
pub fn media_type_of_file(file: &Path, name: &str) -> String {
    use std::io::Read;
    let mut head = Vec::new();
    if let Ok(f) = std::fs::File::open(file) {
        // Unreadable now, it was read a moment ago: then nothing is known of it.
        let _ = f.take(model::SNIFF_BYTES as u64).read_to_end(&mut head);
    }
    model::media_type_settled(None, name, &head)
}

/// The create of a Version of `dokument` with a stored file's content, and what to report.
fn version_of(dokument: Uuid, file: &Path, name: String, content: akte_store::content::ContentRef) -> (Change, Value) {
    let id = Uuid::now_v7();
    let mut fields = Map::new();
    fields.insert("media_type".into(), json!(media_type_of_file(file, &name)));
    fields.insert("file_name".into(), json!(name));
    fields.insert("size".into(), json!(content.size));
    fields.insert("blake3".into(), json!(content.blake3));
    fields.insert("sha256".into(), json!(content.sha256));
    let info = json!({"id": id, "dokument": dokument, "file": file.display().to_string(), "size": content.size, "blake3": content.blake3, "sha256": content.sha256});
    (Change::Create { kind: ObjKind::Version, id, parent: Some(dokument), content: Some(content), fields }, info)
}

pub async fn add_files(
    repo: &mut Repository,
    parent: Uuid,
    files: &[std::path::PathBuf],
    document_type: Option<&str>,
) -> Result<Vec<Value>> {
    add_files_with(repo, parent, files, |_, f| {
        if let Some(t) = document_type {
            f.insert("document_type".into(), json!(t));
        }
    })
    .await
}

/// Like `add_files`, with a hook that sets each Dokument's fields.
pub async fn add_files_with(
    repo: &mut Repository,
    parent: Uuid,
    files: &[std::path::PathBuf],
    mut fields_for: impl FnMut(usize, &mut Map<String, Value>),
) -> Result<Vec<Value>> {
    // The total size only matters to a visible progress bar.
    let total = if output::progress_visible() {
        files.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum()
    } else {
        0
    };
    let bar = output::bar(total, true, "adding");
    let mut out = Vec::with_capacity(files.len());
    for (n, batch_files) in files.chunks(ADD_BATCH).enumerate() {
        // Several files are stored at once (small documents are latency-bound); each
        // batch is one journal entry.
        let stored: Vec<Vec<(Uuid, Change, Value)>> =
            futures::stream::iter(batch_files.chunks(FILE_GROUP).map(|files| {
                let bar = &bar;
                let repo = &*repo;
                async move {
                    let names = files.iter().map(|f| file_name_of(f)).collect::<Result<Vec<_>>>()?;
                    // Ids are made before anything is awaited, as the groups start in order:
                    // Dokumente sort by id (UUIDv7, time first) in the order of the files.
                    let doks: Vec<Uuid> = files.iter().map(|_| Uuid::now_v7()).collect();
                    let small = repo.store_small_files(files).await;
                    let mut out = Vec::with_capacity(files.len());
                    for (((file, name), content), dok) in files.iter().zip(names).zip(small).zip(doks) {
                        let content = match content? {
                            Some(content) => {
                                bar.inc(content.size);
                                content
                            }
                            None => repo.store_large_file(file, advance(bar)).await?,
                        };
                        let (version, info) = version_of(dok, file, name, content);
                        out.push((dok, version, info));
                    }
                    Ok::<_, anyhow::Error>(out)
                }
            }))
            .buffered(GROUPS_IN_FLIGHT)
            .try_collect()
            .await?;
        let mut batch = Vec::with_capacity(2 * batch_files.len());
        for (i, ((dok, version, info), file)) in stored.into_iter().flatten().zip(batch_files).enumerate() {
            let mut fields = Map::new();
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("Dokument");
            fields.insert("title".into(), json!(stem));
            fields_for(n * ADD_BATCH + i, &mut fields);
            batch.push(Change::Create {
                kind: ObjKind::Dokument,
                id: dok,
                parent: Some(parent),
                content: None,
                fields,
            });
            batch.push(version);
            out.push(json!({"id": dok, "file": info["file"], "size": info["size"], "blake3": info["blake3"], "sha256": info["sha256"]}));
        }
        repo.commit(batch).await?;
    }
    bar.finish_and_clear();
    Ok(out)
}

/// For each Dokument just added (`added` as `add_files` returns it) whose content another
/// Dokument of the same Akte has already (added earlier, or twice in this run): its file,
/// the other Dokument (the first one with it) and that one's title. Duplicates are kept (a
/// letter that came twice came twice); the clerk is told.
pub fn same_content(catalog: &Catalog, akte: Uuid, added: &[Value]) -> Vec<(String, Uuid, String)> {
    let ours: std::collections::HashSet<Uuid> = added.iter().filter_map(|a| a["id"].as_str()?.parse().ok()).collect();
    let mut first: std::collections::HashMap<String, Uuid> = std::collections::HashMap::new();
    for dok in catalog.dokumente_of(&akte) {
        let hash = catalog.latest_version(&dok.id).and_then(|v| v.text("blake3"));
        if let Some(h) = hash
            && !ours.contains(&dok.id)
        {
            first.entry(h.to_string()).or_insert(dok.id);
        }
    }
    let mut out = Vec::new();
    for a in added {
        let (Some(hash), Some(id)) = (a["blake3"].as_str(), a["id"].as_str().and_then(|i| i.parse::<Uuid>().ok()))
        else {
            continue;
        };
        match first.get(hash) {
            Some(other) => {
                let title = catalog.get(other).and_then(|o| o.text("title")).unwrap_or_default().to_string();
                out.push((a["file"].as_str().unwrap_or_default().to_string(), *other, title));
            }
            None => {
                first.insert(hash.to_string(), id);
            }
        }
    }
    out
}

/// The version ids of Dokumente just added (their only version).
pub fn new_versions(repo: &Repository, added: &[Value]) -> Vec<Uuid> {
    added
        .iter()
        .filter_map(|a| a["id"].as_str()?.parse::<Uuid>().ok())
        .filter_map(|d| repo.catalog().latest_version(&d).map(|v| v.id))
        .collect()
}
