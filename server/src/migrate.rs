//! `akte migrate --to URL`: copies the repository, as ciphertext, to another object store
//! (file ↔ S3), then verifies the copy as a fresh node would read it.
//!
//! Order keeps the format's rule "objects before the entries that reference them": first
//! every object under `objects/`, then the journal, the key file last, so an interrupted
//! migration never leaves a target that looks complete. A rerun copies only what is
//! missing or of the wrong size (object stores write whole objects, so a name that exists
//! holds a whole object), and the final verification decrypts every object and checks it
//! against its name. The source is only read.

use std::{path::Path, process::ExitCode, time::Instant};

use akte_store::{OpenOptions, Repository, backend::Backend, repo::KEY_FILE};
use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use serde_json::json;

use crate::output::{self, say};

/// Objects copied at once.
const IN_FLIGHT: usize = 16;

/// Copies and verifies; prints a report.
pub async fn run(opts: &OpenOptions, to: &str, json_out: bool) -> Result<ExitCode> {
    if to.trim_start().starts_with("memory:") {
        bail!("A copy into memory:// would be gone when the command ends; give a file:// or s3:// store");
    }
    // Opening the source proves the identity unlocks it and reads the journal once.
    let source = crate::cmd::open(opts).await?;
    let from = source.backend().clone();
    let target = Backend::create(to).with_context(|| format!("Cannot open the target store {to}"))?;
    if target.same_store(&from) {
        bail!("The target {to} is the store the repository already lives in");
    }
    let key_path = object_store::path::Path::from(KEY_FILE);
    let source_key = from.get(&key_path).await?.context("The source store has no key file")?;
    if let Some(existing) = target.get(&key_path).await?
        && existing != source_key
    {
        bail!("The target {to} already holds another repository; migrate into an empty store");
    }
    let started = Instant::now();
    let listing = from.list(None).await?;
    // Objects first, then journal entries, the key file last.
    let rank = |p: &str| {
        if p == KEY_FILE {
            2
        } else if p.starts_with("journal/") {
            1
        } else {
            0
        }
    };
    let mut todo: Vec<_> = listing.into_iter().collect();
    todo.sort_by_key(|m| (rank(m.location.as_ref()), m.location.to_string()));
    let total_bytes: u64 = todo.iter().map(|m| m.size).sum();
    let bar = output::bar(total_bytes, true, "migrating");
    let mut copied = 0usize;
    let mut skipped = 0usize;
    let mut bytes = 0u64;
    for phase in 0..3 {
        let batch: Vec<_> = todo.iter().filter(|m| rank(m.location.as_ref()) == phase).collect();
        let results: Vec<(bool, u64)> = futures::stream::iter(batch.into_iter().map(|m| {
            let (from, target, bar) = (from.clone(), target.clone(), bar.clone());
            async move {
                if let Ok(head) = target.inner().head(&m.location).await
                    && head.size == m.size
                {
                    bar.inc(m.size);
                    return Ok::<_, anyhow::Error>((false, 0));
                }
                let data = from
                    .get(&m.location)
                    .await?
                    .with_context(|| format!("{} vanished from the source during the migration", m.location))?;
                let n = data.len() as u64;
                target.put(&m.location, data.to_vec()).await?;
                bar.inc(m.size);
                Ok((true, n))
            }
        }))
        .buffer_unordered(IN_FLIGHT)
        .try_collect()
        .await?;
        for (was_copied, n) in results {
            if was_copied {
                copied += 1;
                bytes += n;
            } else {
                skipped += 1;
            }
        }
        // Everything of a phase is durable before the next phase starts.
        target.barrier().await?;
    }
    bar.finish_and_clear();
    let copy_secs = started.elapsed().as_secs_f64();

    // Verify the target as a new node would: its own data directory, the same identity.
    let check_dir = opts.data_dir.join(format!("migrate-check-{}", hex::encode(rand::random::<[u8; 6]>())));
    let identity = opts.identity.clone().unwrap_or_else(|| opts.data_dir.join("identity.txt"));
    let report = verify_target(&check_dir, to, &identity).await;
    let _ = std::fs::remove_dir_all(&check_dir);
    let report = report?;
    let secs = started.elapsed().as_secs_f64();
    let ok = report.problems.is_empty();
    if json_out {
        say!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "to": to, "objects": copied + skipped, "copied": copied, "already_there": skipped,
                "bytes_copied": bytes, "copy_seconds": copy_secs, "seconds": secs,
                "verified_objects": report.objects, "problems": report.problems,
            }))?
        );
    } else {
        say!(
            "copied {copied} object(s), {} ({skipped} already there) in {copy_secs:.1} s ({:.1} MiB/s)",
            output::size(bytes),
            bytes as f64 / 1048576.0 / copy_secs.max(0.001)
        );
        say!("verified the target: {} object(s), {} journal entries", report.objects, report.entries);
        for p in &report.problems {
            say!("BAD {}: {}", p.object, p.problem);
        }
        if ok {
            say!("the repository is now also at {to}; point nodes there with --store {to}");
        }
    }
    drop(source);
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn verify_target(dir: &Path, to: &str, identity: &Path) -> Result<akte_store::verify::Report> {
    let opts = OpenOptions {
        data_dir: dir.to_path_buf(),
        store: Some(to.to_string()),
        identity: Some(identity.to_path_buf()),
        actor: "migrate".into(),
    };
    let repo = Repository::open(&opts).await.context("The copy cannot be opened")?;
    Ok(akte_store::verify::verify(&repo, |_, _| {}).await?)
}
