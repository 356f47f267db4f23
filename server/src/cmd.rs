//! The CLI commands, each a thin layer over `akte_store::Repository`.

use std::{path::Path, process::ExitCode};

use akte_store::{Change, OpenOptions, Repository, catalog::Obj, model::ObjKind};
use anyhow::{Context, Result, anyhow, bail};
use futures::StreamExt;
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::{
    AuditCommand, Cli, Command, KeyCommand, PluginCommand,
    add::{add_files, create_akte, new_versions, version_change},
    demo, http, ingest, output,
    output::say,
    search,
};

/// Opens the repository; `AKTE_CHUNK_SIZE` (bytes) overrides the chunk size for new
/// content (benchmarks and test fixtures only).
pub async fn open(opts: &OpenOptions) -> Result<Repository> {
    let repo = Repository::open(opts).await?;
    with_chunk_size(repo)
}

/// Opens the repository with its catalog rebuilt from the store alone (`reindex`, `audit
/// verify`), with a progress bar of the journal entries read; also returns their number.
pub async fn open_rebuilt(opts: &OpenOptions) -> Result<(Repository, usize)> {
    // Made at the first entry, when its length is known.
    let bar = std::sync::Arc::new(std::sync::OnceLock::<indicatif::ProgressBar>::new());
    let report: akte_store::RebuildProgress = {
        let bar = std::sync::Arc::clone(&bar);
        std::sync::Arc::new(move |read, expected| {
            let bar = bar.get_or_init(|| output::bar(expected, false, "reading the journal"));
            if bar.length() != Some(expected) {
                bar.set_length(expected);
            }
            bar.set_position(read);
        })
    };
    let opened = Repository::open_rebuilt(opts, Some(report)).await;
    if let Some(bar) = bar.get() {
        bar.finish_and_clear();
    }
    let (repo, entries) = opened?;
    Ok((with_chunk_size(repo)?, entries))
}

/// Says on stderr that what a command stored is stored, though a step after it (extraction,
/// indexing) failed; that step catches up later.
fn stored_but(e: &anyhow::Error) {
    eprintln!(
        "akte: note: stored, but extraction or indexing failed ({}); `akte ingest` and `akte reindex` catch up.",
        output::sentence(e).trim_end_matches('.')
    );
}

fn with_chunk_size(mut repo: Repository) -> Result<Repository> {
    if let Ok(v) = std::env::var("AKTE_CHUNK_SIZE") {
        repo.chunk_size = v
            .parse()
            .ok()
            .filter(|n| *n > 0 && *n <= akte_store::content::MAX_CHUNK_SIZE)
            .ok_or_else(|| anyhow!("AKTE_CHUNK_SIZE must be a number of bytes between 1 and 64 MiB"))?;
    }
    Ok(repo)
}

pub fn options(cli: &Cli) -> OpenOptions {
    let user = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    OpenOptions {
        data_dir: cli.data.clone(),
        store: cli.store.clone(),
        identity: cli.identity.clone(),
        actor: format!("cli:{user}"),
    }
}

pub fn print_json(v: &impl serde::Serialize) {
    say!("{}", serde_json::to_string_pretty(v).expect("json serializes"));
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    check_environment()?;
    let opts = options(&cli);
    match &cli.command {
        Command::Init { recipients } => {
            let info = Repository::init(&opts, recipients).await?;
            if cli.json {
                print_json(&json!({"repository": info.repository, "node": info.node, "store": info.store,
                    "identity_file": info.identity_file, "recipients": info.recipients}));
            } else {
                say!("initialised repository {} in {}", info.repository, info.store);
                say!("node {}", info.node);
                if let Some(f) = &info.identity_file {
                    say!("operator identity written to {} (keep a copy offline)", f.display());
                }
                for r in &info.recipients {
                    say!("repository key wrapped for {r}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { fixtures, no_serve, listen } => {
            let listen = http::config::listen_address(listen)?;
            let code = demo::run(&opts, fixtures.clone(), cli.json, (!no_serve).then_some(listen)).await?;
            if *no_serve {
                return Ok(code);
            }
            let mut config = http::Config::load(None)?;
            config.listen = listen;
            serve(&opts, config, cli.json).await
        }
        Command::Serve { listen, config } => {
            let mut config = http::Config::load(config.as_deref())?;
            if let Some(l) = listen {
                config.listen = http::config::listen_address(l)?;
            }
            serve(&opts, config, cli.json).await
        }
        Command::Token { command } => crate::admin::token(&opts, command, cli.json).await,
        Command::Aktenplan { command } => crate::admin::aktenplan(&opts, command, cli.json).await,
        Command::Delete { akten, reason } => crate::admin::delete(&opts, akten, reason.as_deref(), cli.json).await,
        Command::Export { format, akten, out, institution } => {
            crate::transfer::export(&opts, format, akten, out, institution, cli.json).await
        }
        Command::Import { path } => crate::transfer::import(&opts, path, cli.json).await,
        Command::Aussonderung { command } => crate::transfer::aussonderung(&opts, command, cli.json).await,
        Command::Migrate { to } => crate::migrate::run(&opts, to, cli.json).await,
        Command::Audit { command: AuditCommand::Verify } => crate::admin::audit_verify(&opts, cli.json).await,
        Command::Account { command } => crate::admin::account(&opts, command, cli.json).await,
        Command::Create { aktenzeichen, title, aktenplan, retention_years } => {
            let mut repo = open(&opts).await?;
            let mut fields = Map::new();
            fields.insert("aktenzeichen".into(), json!(aktenzeichen));
            fields.insert("title".into(), json!(title));
            if let Some(a) = aktenplan {
                fields.insert("aktenplan".into(), json!(a));
            }
            if let Some(r) = retention_years {
                fields.insert("retention_years".into(), json!(r));
            }
            fields.insert("status".into(), json!("offen"));
            // As POST /akten: a code no node has would give the Akte no grants, retention
            // or appraisal without a word.
            crate::http::api::known_plan_code(repo.catalog(), &fields).map_err(|e| anyhow!("{}", e.detail()))?;
            let id = create_akte(&mut repo, fields).await?;
            if cli.json {
                print_json(&json!({"id": id}))
            } else {
                say!("{id}")
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Vorgang { akte, title, parent } => {
            let mut repo = open(&opts).await?;
            let akte = find_akte(&repo, akte)?.id;
            let parent = match parent {
                Some(p) => {
                    let v = find(&repo, p)?;
                    if v.kind != ObjKind::Vorgang || v.akte != Some(akte) {
                        bail!("The object {p} is not a Vorgang of this Akte");
                    }
                    v.id
                }
                None => akte,
            };
            ensure_open(&repo, parent)?;
            let id = Uuid::now_v7();
            let mut fields = Map::new();
            fields.insert("title".into(), json!(title));
            repo.commit(vec![Change::Create {
                kind: ObjKind::Vorgang,
                id,
                parent: Some(parent),
                content: None,
                fields,
            }])
            .await?;
            if cli.json {
                print_json(&json!({"id": id}))
            } else {
                say!("{id}")
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Add { akte, files, vorgang, document_type, no_ingest } => {
            let mut repo = open(&opts).await?;
            let akte = find_akte(&repo, akte)?.clone();
            let parent = match vorgang {
                Some(v) => {
                    let v = find(&repo, v)?;
                    if v.kind != ObjKind::Vorgang || v.akte != Some(akte.id) {
                        bail!(
                            "The object {} is not a Vorgang of Akte {}",
                            v.id,
                            akte.text("aktenzeichen").unwrap_or_default()
                        );
                    }
                    v.id
                }
                None => akte.id,
            };
            ensure_open(&repo, parent)?;
            for f in files {
                let meta = std::fs::metadata(f).with_context(|| format!("Cannot read {}", f.display()))?;
                if !meta.is_file() {
                    bail!("Cannot add {}: it is not a regular file", f.display());
                }
            }
            ingest::validate_files(&cli.data, &repo, &akte, files).await?;
            let added = add_files(&mut repo, parent, files, document_type.as_deref()).await?;
            for (file, other, title) in crate::add::same_content(repo.catalog(), akte.id, &added) {
                eprintln!("akte: note: {file} has the same content as Dokument {other} ({title}) in this Akte");
            }
            // The files are stored (committed) now. What follows is derived and catches up
            // later; its failure must not hide the ids, or a retry would add them twice.
            let follow_up: Result<()> = async {
                if !no_ingest && ingest::enabled() {
                    let versions = new_versions(&repo, &added);
                    if !versions.is_empty() {
                        let pipeline = ingest::pipeline(&cli.data, &repo, cli.json).await?;
                        ingest::run(&pipeline, &mut repo, &versions, cli.json).await?;
                    }
                    search::sync(&cli.data, &repo, false, cli.json).await?;
                }
                Ok(())
            }
            .await;
            if let Err(e) = follow_up {
                stored_but(&e);
            }
            if cli.json {
                print_json(&added);
            } else {
                output::emit_lines(added.iter().map(|a| {
                    format!(
                        "{}  {}  {}",
                        a["id"].as_str().unwrap_or_default(),
                        output::size(a["size"].as_u64().unwrap_or(0)),
                        a["file"].as_str().unwrap_or_default()
                    )
                }));
            }
            close(repo)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Version { dokument, file, no_ingest } => {
            let mut repo = open(&opts).await?;
            let dok = find(&repo, dokument)?.clone();
            if dok.kind != ObjKind::Dokument {
                bail!("The object {dokument} is not a Dokument");
            }
            ensure_open(&repo, dok.id)?;
            if let Some(akte) = dok.akte.and_then(|a| repo.catalog().get(&a)).cloned() {
                ingest::validate_files(&cli.data, &repo, &akte, std::slice::from_ref(file)).await?;
            }
            let (change, info) = version_change(&repo, dok.id, file).await?;
            repo.commit(vec![change]).await?;
            let follow_up: Result<()> = async {
                if !no_ingest && ingest::enabled() {
                    let id = info["id"].as_str().and_then(|s| s.parse::<Uuid>().ok()).into_iter().collect::<Vec<_>>();
                    let pipeline = ingest::pipeline(&cli.data, &repo, cli.json).await?;
                    ingest::run(&pipeline, &mut repo, &id, cli.json).await?;
                }
                Ok(())
            }
            .await;
            if let Err(e) = follow_up {
                stored_but(&e);
            }
            if cli.json {
                print_json(&info)
            } else {
                say!("{}", info["id"].as_str().unwrap_or_default())
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Set { object, fields } => {
            let mut repo = open(&opts).await?;
            let obj = find(&repo, object)?;
            let id = obj.id;
            match obj.kind {
                // A version's fields record its content as stored (size, hashes, file name):
                // the download, its ETag and every export check the content against them.
                ObjKind::Version => {
                    bail!(
                        "A version's fields record its content as stored and cannot be changed; add a new version instead"
                    )
                }
                ObjKind::Token | ObjKind::Account | ObjKind::Plugin => {
                    bail!(
                        "The {} {object} is changed through `akte token`, `akte account` or `akte plugin`",
                        obj.kind.label()
                    )
                }
                _ => {}
            }
            let mut map = Map::new();
            for f in fields {
                map.insert(k_of(f)?.to_string(), v_of(f)?);
            }
            if let Some(Value::String(az)) = map.get("aktenzeichen")
                && let Some(holder) = repo.catalog().state.aktenzeichen.get(az)
                && *holder != id
            {
                bail!("The Aktenzeichen {az} is already used by Akte {holder}");
            }
            // The API's rules: nothing in a closed Akte changes but its retention, hold and
            // Laufzeit, and its status (closing and reopening); an Akte names an existing
            // Aktenplan code, and a code in use stays; the Laufzeit is consistent.
            let cat = repo.catalog();
            let api_rule = |e: crate::http::problem::ApiError| anyhow!("{}", e.detail());
            let archival = |k: &str| {
                matches!(
                    k,
                    "retention_years" | "appraisal" | "legal_hold" | "laufzeit_beginn" | "laufzeit_ende" | "status"
                )
            };
            if obj.kind != ObjKind::Aktenplan && !map.keys().all(|k| archival(k)) {
                crate::http::api::ensure_open(cat, id).map_err(api_rule)?;
            }
            match obj.kind {
                ObjKind::Akte => {
                    crate::http::api::known_plan_code(cat, &map).map_err(api_rule)?;
                    crate::http::api::check_laufzeit(Some(obj), &map).map_err(|e| anyhow!(e))?;
                }
                ObjKind::Aktenplan => crate::http::api::plan_code_change(cat, obj, &map).map_err(api_rule)?,
                _ => {}
            }
            // Closing and reopening bring what the API's close and reopen bring; values given
            // with them win.
            if let Some(status) = map.get("status").and_then(Value::as_str) {
                for (k, v) in crate::http::api::status_fields(cat, obj, status) {
                    map.entry(k).or_insert(v);
                }
            }
            // Fields set to the value they have are left out; nothing left, nothing written.
            map.retain(|k, v| match obj.fields.get(k.as_str()) {
                Some(now) => now != v,
                None => !v.is_null(),
            });
            if map.is_empty() {
                if cli.json {
                    print_json(&json!({"id": id, "changed": false}))
                } else {
                    say!("unchanged {id}: every field already has that value")
                }
                return Ok(ExitCode::SUCCESS);
            }
            repo.commit(vec![Change::Update { id, fields: map }]).await?;
            if cli.json {
                print_json(&json!({"id": id}))
            } else {
                say!("updated {id}")
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ls { akte } => {
            let repo = open(&opts).await?;
            match akte {
                None => list_akten(&repo, cli.json),
                Some(a) => list_dokumente(&repo, find_akte(&repo, a)?, cli.json),
            }
            close(repo)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Get { dokumente, output, version } => {
            let repo = open(&opts).await?;
            let mut ids = Vec::with_capacity(dokumente.len());
            for dokument in dokumente {
                let mut id = find(&repo, dokument)?.id;
                if let Some(n) = version {
                    let dok = repo
                        .catalog()
                        .get(&id)
                        .filter(|d| d.kind == ObjKind::Dokument)
                        .ok_or_else(|| anyhow!("The object {dokument} is not a Dokument"))?;
                    id = *dok
                        .versions
                        .get((*n as usize).wrapping_sub(1))
                        .ok_or_else(|| anyhow!("Dokument {dokument} has no version {n}"))?;
                }
                ids.push(id);
            }
            if ids.len() == 1 && !output.as_deref().is_some_and(Path::is_dir) {
                get(&repo, ids[0], output.as_deref()).await?;
                return Ok(ExitCode::SUCCESS);
            }
            let dir = output.as_deref().ok_or_else(|| anyhow!("Several Dokumente need -o DIR"))?;
            std::fs::create_dir_all(dir).with_context(|| format!("Cannot create {}", dir.display()))?;
            let bar = output::bar(ids.len() as u64, false, "reading");
            for id in ids {
                let cat = repo.catalog();
                let version = cat.get(&id).filter(|o| o.kind == ObjKind::Version).or_else(|| cat.latest_version(&id));
                let name = version.and_then(|v| v.text("file_name")).unwrap_or("content").to_string();
                get(&repo, id, Some(&dir.join(format!("{id}-{name}")))).await?;
                bar.inc(1);
            }
            bar.finish_and_clear();
            close(repo)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::History { object, all } => {
            let repo = open(&opts).await?;
            let cat = repo.catalog();
            // Deleted Akten with this id or Aktenzeichen: their history is gone with them,
            // the deletion's evidence stays.
            let stones: Vec<&akte_store::catalog::Tombstone> = cat
                .state
                .deleted
                .values()
                .filter(|t| t.id.to_string() == *object || t.evidence.get("aktenzeichen") == Some(&json!(object)))
                .collect();
            let history = match find(&repo, object) {
                Ok(obj) => {
                    for t in &stones {
                        eprintln!(
                            "akte: note: an earlier Akte {object} ({}) was deleted on {}; `akte history {}` shows the evidence.",
                            t.id, t.deletion.time, t.id
                        );
                    }
                    if *all && obj.kind == ObjKind::Akte { cat.history_of_akte(&obj.id) } else { cat.history(&obj.id) }
                }
                Err(_) if !stones.is_empty() => stones.iter().map(|t| t.deletion.clone()).collect(),
                Err(e) => return Err(e),
            };
            // Password and token hashes are shown as the API shows them: not at all.
            let mut history = history;
            for c in history.iter_mut().flat_map(|h| h.changes.iter_mut()) {
                if crate::http::feed::SECRET_FIELDS.contains(&c.field.as_str()) {
                    for v in [&mut c.old, &mut c.new] {
                        if !v.is_null() {
                            *v = json!("(hidden)");
                        }
                    }
                }
            }
            if cli.json {
                print_json(&history);
            } else {
                for h in history {
                    let changes: Vec<String> =
                        h.changes.iter().map(|c| format!("{}: {} → {}", c.field, c.old, c.new)).collect();
                    if *all {
                        say!("{}  {}  {}  {}  {}", h.time, h.object, h.actor, h.action, changes.join("; "));
                    } else {
                        say!("{}  {}  {}  {}", h.time, h.actor, h.action, changes.join("; "));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status => {
            let repo = open(&opts).await?;
            let cat = repo.catalog();
            let conflicts: Vec<String> = cat
                .all(ObjKind::Akte)
                .filter_map(|a| a.conflict.clone())
                .chain(cat.state.conflicts.iter().cloned())
                .collect();
            let v = json!({
                "repository": repo.repository_id(), "node": repo.node_id(), "store": repo.backend().url(),
                "akten": cat.all(ObjKind::Akte).count(), "dokumente": cat.all(ObjKind::Dokument).count(),
                "versionen": cat.all(ObjKind::Version).count(), "entries": cat.entries.len(),
                "streams": cat.streams.len(), "digest": cat.digest(), "conflicts": conflicts,
            });
            if cli.json {
                print_json(&v);
            } else {
                for (k, val) in v.as_object().expect("object") {
                    say!("{k}: {}", val.as_str().map(str::to_string).unwrap_or_else(|| val.to_string()));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify => {
            let repo = Repository::open(&opts).await;
            let repo = match repo {
                Ok(r) => r,
                Err(e) if e.is_integrity() => {
                    // Open failed on a broken journal; verify without reading it into the catalog.
                    eprintln!("akte: {}", output::sentence(&anyhow!(e)));
                    return verify_raw(&cli).await;
                }
                Err(e) => return Err(e.into()),
            };
            report_verify(&repo, cli.json).await
        }
        Command::Reindex => {
            let (repo, n) = open_rebuilt(&opts).await?;
            let indexed = search::sync(&cli.data, &repo, true, true).await?;
            let pending = ingest::pipeline(&cli.data, &repo, true).await?.pending(repo.catalog()).len();
            if cli.json {
                print_json(
                    &json!({"entries": n, "digest": repo.catalog().digest(), "indexed": indexed, "pending_ingest": pending}),
                )
            } else {
                say!("catalog rebuilt from the store: {n} journal entries");
                say!("search index rebuilt: {indexed} Dokumente");
                if pending > 0 {
                    say!("{pending} Dokument(e) lack extracted text; `akte ingest` extracts them");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Search { query, akte, aktenplan, document_type, limit, offset, sort } => {
            let repo = open(&opts).await?;
            let mut request = akte_index::SearchRequest::new(query.clone());
            request.limit = usize::from(*limit);
            request.offset = *offset;
            request.sort = match sort.as_str() {
                "relevance" => akte_index::Sort::Relevance,
                "date" => akte_index::Sort::DateDesc,
                "date-asc" => akte_index::Sort::DateAsc,
                other => bail!("The sort order {other:?} is unknown; use relevance, date or date-asc"),
            };
            if let Some(a) = akte {
                request.filters.akte = vec![find_akte(&repo, a)?.id.to_string()];
            }
            // A blank type counts as none given, as in the API.
            request.filters.document_type = document_type.iter().filter(|t| !t.trim().is_empty()).cloned().collect();
            if let Some(code) = aktenplan.as_deref().filter(|c| !ingest::aktenplan_known(repo.catalog(), c.trim())) {
                bail!("The Aktenplan has no node {code:?}, and no Akte is filed at or below it");
            }
            request.filters.aktenplan = aktenplan.as_deref().map(|c| search::aktenplan_filter(repo.catalog(), c));
            let index = search::open_current(&cli.data, &repo).await?;
            let found = index.search(&request, &search::operator())?;
            if cli.json {
                print_json(&found);
            } else {
                for s in &found.substitutions {
                    let instead = s.searched.join(", ");
                    match s.kind {
                        akte_index::SubstitutionKind::Similar => {
                            eprintln!("akte: note: no document has {:?}; searched for similar words: {instead}", s.word)
                        }
                        akte_index::SubstitutionKind::Parts => {
                            eprintln!("akte: note: no document has {:?}; searched for its parts: {instead}", s.word)
                        }
                        akte_index::SubstitutionKind::None => eprintln!("akte: note: no document has {:?}", s.word),
                    }
                }
                let shown = found.hits.len();
                match (request.offset, shown) {
                    (0, n) if n as u64 == found.total => say!("{} hit(s)", found.total),
                    (_, 0) => say!("{} hit(s), none from no. {} on", found.total, request.offset + 1),
                    (from, n) => say!("{} hit(s), no. {} to {}", found.total, from + 1, from + n),
                }
                for h in &found.hits {
                    // Id, Aktenzeichen, date, title and type: enough to tell the hits apart
                    // and to see the order of --sort date.
                    let mut line = vec![h.dokument_id.as_str(), h.aktenzeichen.as_str()];
                    line.extend(h.date.as_deref());
                    line.push(h.title.as_str());
                    let typ = h.document_type.as_deref().map(|t| format!("  ({t})")).unwrap_or_default();
                    let cut = if h.truncated { "  (only the start of its text was searched)" } else { "" };
                    say!("{}{typ}{cut}", line.join("  "));
                    if !h.snippet.is_empty() {
                        say!("    {}", search::plain_snippet(&h.snippet));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Ingest { retry_failed } => {
            let mut repo = open(&opts).await?;
            let pipeline = ingest::pipeline(&cli.data, &repo, cli.json).await?;
            let pending = pipeline.pending(repo.catalog());
            // What is missing, and (asked for) what failed: one run, in which a version
            // can have both.
            let mut work: Vec<(Uuid, Vec<String>)> = pending.iter().map(|v| (*v, Vec::new())).collect();
            let mut retried = 0;
            if *retry_failed {
                let at: std::collections::HashMap<Uuid, usize> =
                    pending.iter().enumerate().map(|(i, v)| (*v, i)).collect();
                for (version, again) in ingest::failed(&pipeline, &repo).await? {
                    retried += 1;
                    match at.get(&version) {
                        Some(&i) => work[i].1 = again,
                        None => work.push((version, again)),
                    }
                }
            }
            let report = ingest::retry(&pipeline, &mut repo, &work, cli.json).await?;
            search::sync(&cli.data, &repo, false, cli.json).await?;
            if cli.json {
                print_json(&report);
            } else if pending.is_empty() && retried == 0 {
                say!(
                    "nothing to do: every Dokument has the results of this node's pipeline{}",
                    if *retry_failed { ", and none failed" } else { "" }
                );
            } else {
                let tried = if *retry_failed { format!(", {retried} retried") } else { String::new() };
                say!(
                    "{} Dokument(e) lacking results processed{tried}; {} failure(s) recorded",
                    pending.len(),
                    report.failures.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Text { dokument } => {
            let repo = open(&opts).await?;
            let obj = find(&repo, dokument)?;
            let version = match obj.kind {
                ObjKind::Version => obj.id,
                ObjKind::Dokument => {
                    repo.catalog()
                        .latest_version(&obj.id)
                        .ok_or_else(|| anyhow!("Dokument {dokument} has no version"))?
                        .id
                }
                _ => bail!("The object {dokument} is not a Dokument"),
            };
            let view = ingest::reader(&cli.data, &repo, cli.json).await?.view(&repo, &version).await?;
            if cli.json {
                // The shape of GET /api/v1/dokumente/{id}/text.
                print_json(&crate::http::reading::TextView::from(view));
            } else if view.text_state() == akte_ingest::TextState::None {
                bail!("No extractor on this node reads the media type of {dokument}, so it has no text");
            } else if view.producers.is_empty() {
                bail!("Nothing has been extracted from {dokument} yet; run `akte ingest`");
            } else {
                say!("{}", view.text);
                for (producer, message) in &view.failures {
                    eprintln!("akte: {producer} failed: {}", output::sentence(&anyhow!("{message}")));
                }
                if view.text_state() == akte_ingest::TextState::Partial {
                    let pages = view.extracted_fields.iter().find(|(k, _)| k == "pages-without-text");
                    let pages = pages.map_or("", |(_, v)| v.as_str());
                    let which = if pages.contains(',') {
                        format!("pages {pages} have no text layer and were")
                    } else {
                        format!("page {pages} has no text layer and was")
                    };
                    eprintln!("akte: note: {which} not read: this node has no OCR, or it failed.");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Plugin { command } => {
            if let PluginCommand::Test { wasm, document, manifest, media_type, context } = command {
                let (m, t) = (manifest.as_deref(), media_type.as_deref());
                ingest::test(&cli.data, wasm, m, document, t, context, cli.json).await?;
                return Ok(ExitCode::SUCCESS);
            }
            let mut repo = open(&opts).await?;
            match command {
                PluginCommand::Add { wasm, manifest, aktenplan, media_type, paused } => {
                    let start = match (paused, aktenplan.as_deref(), media_type.as_deref()) {
                        (false, None, None) => None,
                        (_, a, m) => Some((a, m)),
                    };
                    ingest::add(&mut repo, &cli.data, wasm, manifest.as_deref(), start, cli.json).await?
                }
                PluginCommand::List => ingest::list(&cli.data, &repo, cli.json).await?,
                PluginCommand::Enable { name, aktenplan, media_type } => {
                    ingest::switch(&mut repo, name, true, aktenplan.as_deref(), media_type.as_deref()).await?
                }
                PluginCommand::Disable { name, aktenplan, media_type } => {
                    ingest::switch(&mut repo, name, false, aktenplan.as_deref(), media_type.as_deref()).await?
                }
                PluginCommand::Remove { name } => ingest::remove(&mut repo, name).await?,
                PluginCommand::Test { .. } => unreachable!("handled above"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Key { command } => {
            let mut repo = open(&opts).await?;
            match command {
                KeyCommand::List => {}
                KeyCommand::AddRecipient { recipient } => {
                    if !repo.add_recipient(recipient).await? {
                        eprintln!("akte: the key is already wrapped for {recipient}.");
                    }
                }
                KeyCommand::RemoveRecipient { recipient } => repo.remove_recipient(recipient).await?,
            }
            if cli.json {
                print_json(&json!({"recipients": repo.recipients()}));
            } else {
                for r in repo.recipients() {
                    say!("{r}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Verification when the journal is too broken to open normally: read only the key.
async fn verify_raw(cli: &Cli) -> Result<ExitCode> {
    let mut opts = options(cli);
    opts.actor = "verify".into();
    let repo = Repository::open_unsynced(&opts).await?;
    report_verify(&repo, cli.json).await
}

async fn report_verify(repo: &Repository, json_out: bool) -> Result<ExitCode> {
    let bar = output::bar(0, false, "verifying");
    let report = akte_store::verify::verify(repo, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish_and_clear();
    if json_out {
        print_json(&report);
    } else {
        for p in &report.problems {
            say!("BAD {}: {}", p.object, p.problem);
        }
        say!(
            "{} objects ({}), {} journal entries in {} streams, {} unreferenced: {}",
            report.objects,
            output::size(report.bytes),
            report.entries,
            report.streams,
            report.unreferenced,
            if report.ok() { "all good".to_string() } else { format!("{} problems", report.problems.len()) }
        );
    }
    Ok(if report.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The field name of `FIELD=TEXT` or `FIELD:=JSON`.
fn k_of(arg: &str) -> Result<&str> {
    let (k, _) = arg.split_once('=').ok_or_else(|| anyhow!("{arg:?} is neither FIELD=TEXT nor FIELD:=JSON"))?;
    Ok(k.strip_suffix(':').unwrap_or(k))
}

/// The value of `FIELD=TEXT` (always text; empty removes the field) or `FIELD:=JSON`.
fn v_of(arg: &str) -> Result<Value> {
    let (k, v) = arg.split_once('=').ok_or_else(|| anyhow!("{arg:?} is neither FIELD=TEXT nor FIELD:=JSON"))?;
    if let Some(name) = k.strip_suffix(':') {
        return serde_json::from_str(v).map_err(|_| anyhow!("The value of {name} is not valid JSON"));
    }
    Ok(if v.is_empty() { Value::Null } else { json!(v) })
}

pub fn find<'a>(repo: &'a Repository, key: &str) -> Result<&'a Obj> {
    if let Ok(id) = key.parse::<Uuid>()
        && let Some(o) = repo.catalog().get(&id)
    {
        return Ok(o);
    }
    repo.catalog().find_akte(key).ok_or_else(|| anyhow!("There is no object {key}"))
}

pub fn find_akte<'a>(repo: &'a Repository, key: &str) -> Result<&'a Obj> {
    if key.trim().is_empty() {
        bail!("An Akte is named by its id or its Aktenzeichen, and none was given");
    }
    repo.catalog().find_akte(key).ok_or_else(|| anyhow!("There is no Akte {key}"))
}

/// Refuses new content under `target` when it, or any Vorgang or Akte above it, is closed.
fn ensure_open(repo: &Repository, target: Uuid) -> Result<()> {
    let mut at = repo.catalog().get(&target);
    while let Some(obj) = at {
        if obj.text("status") == Some("zda") {
            match obj.kind {
                ObjKind::Akte => bail!(
                    "Akte {} is closed (z.d.A.); nothing can be added",
                    obj.text("aktenzeichen").unwrap_or_default()
                ),
                _ => bail!(
                    "The Vorgang {} is closed (z.d.A.); nothing can be added",
                    obj.text("title").unwrap_or_default()
                ),
            }
        }
        at = obj.parent.and_then(|p| repo.catalog().get(&p));
    }
    Ok(())
}

/// Serves until a signal; logs to stderr (JSON lines when configured).
async fn serve(opts: &OpenOptions, config: http::Config, json_out: bool) -> Result<ExitCode> {
    init_logging(config.log_json);
    http::serve(opts, config, |addr| {
        if json_out {
            say!("{}", json!({"listening": addr.to_string()}));
        } else {
            say!("serving on http://{addr}/  (API reference: http://{addr}/api/v1/docs; stop with Ctrl-C)");
        }
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// Refuses switches and a log filter it would otherwise misread: `AKTE_OCR=nein` must not
/// leave OCR on without a word, nor a mistyped `AKTE_LOG` fall back to `info` unnoticed.
fn check_environment() -> Result<()> {
    for var in ["AKTE_OCR", "AKTE_INGEST"] {
        if let Ok(v) = std::env::var(var) {
            ingest::on_off(&v)
                .ok_or_else(|| anyhow!("{var} is on or off (also true/false, 1/0, yes/no, ja/nein), not {v:?}"))?;
        }
    }
    if let Ok(v) = std::env::var("AKTE_LOG") {
        tracing_subscriber::EnvFilter::try_new(&v)
            .map_err(|e| anyhow!("AKTE_LOG {v:?} is not a log filter such as info or akte=debug,warn: {e}"))?;
    }
    Ok(())
}

fn init_logging(json_lines: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AKTE_LOG").unwrap_or_else(|_| "info".into());
    // Colours only for a person at a terminal: a log file or journald gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = if json_lines { builder.json().try_init() } else { builder.try_init() };
}

/// Ends a command's use of the repository: writes the catalog cache (reporting a failure,
/// which dropping would swallow) and then leaves the catalog to the end of the process
/// instead of freeing it object by object, which takes a tenth of a second at 10,000
/// Dokumente for memory the operating system reclaims at once anyway. Only for the last
/// step of a CLI command: the data directory's lock, too, is released only when the
/// process ends.
fn close(mut repo: Repository) -> Result<()> {
    // The catalog cache only saves the next command reading the journal again: a full or
    // read-only data directory is a note, not the command's failure.
    if let Err(e) = repo.save_catalog() {
        eprintln!("akte: note: the catalog cache could not be saved ({e}); the next command reads the journal again.");
    }
    std::mem::forget(repo);
    Ok(())
}

/// Adds files as new Dokumente under `parent` (an Akte or Vorgang), committing in batches.
fn list_akten(repo: &Repository, json_out: bool) {
    let cat = repo.catalog();
    let mut akten: Vec<&Obj> = cat.all(ObjKind::Akte).collect();
    akten.sort_by(|a, b| a.text("aktenzeichen").cmp(&b.text("aktenzeichen")));
    if json_out {
        let v: Vec<Value> = akten
            .iter()
            .map(|a| {
                json!({"id": a.id, "aktenzeichen": a.text("aktenzeichen"), "title": a.text("title"),
                       "status": a.text("status").unwrap_or("offen"), "aktenplan": a.text("aktenplan"),
                       "dokumente": cat.dokumente_of(&a.id).len(), "conflict": a.conflict})
            })
            .collect();
        print_json(&v);
        return;
    }
    for a in akten {
        let conflict = a.conflict.as_ref().map(|c| format!("  [CONFLICT: {c}]")).unwrap_or_default();
        say!(
            "{}  {:<18} {}  ({} Dokumente, {}){conflict}",
            a.id,
            a.text("aktenzeichen").unwrap_or_default(),
            a.text("title").unwrap_or_default(),
            cat.dokumente_of(&a.id).len(),
            a.text("status").unwrap_or("offen")
        );
    }
}

fn list_dokumente(repo: &Repository, akte: &Obj, json_out: bool) {
    let cat = repo.catalog();
    let docs = cat.dokumente_of(&akte.id);
    let rows: Vec<Value> = docs
        .iter()
        .map(|d| {
            let v = cat.latest_version(&d.id);
            let vorgang = d.parent.filter(|p| *p != akte.id).and_then(|p| cat.get(&p));
            json!({"id": d.id, "title": d.text("title"), "document_type": d.text("document_type"),
                   "vorgang": vorgang.map(|v| json!({"id": v.id, "title": v.text("title")})),
                   "version": v.and_then(|v| v.number), "file": v.and_then(|v| v.text("file_name")),
                   "media_type": v.and_then(|v| v.text("media_type")), "size": v.and_then(|v| v.fields.get("size")),
                   "blake3": v.and_then(|v| v.text("blake3")), "sha256": v.and_then(|v| v.text("sha256"))})
        })
        .collect();
    if json_out {
        print_json(&rows);
        return;
    }
    say!("{}  {}", akte.text("aktenzeichen").unwrap_or_default(), akte.text("title").unwrap_or_default());
    for r in rows {
        say!(
            "{}  v{}  {:>9}  {:<28} {}",
            r["id"].as_str().unwrap_or_default(),
            r["version"],
            output::size(r["size"].as_u64().unwrap_or(0)),
            r["vorgang"]["title"].as_str().unwrap_or("-").chars().take(28).collect::<String>(),
            r["file"].as_str().unwrap_or_default()
        );
    }
}

async fn get(repo: &Repository, id: Uuid, out: Option<&Path>) -> Result<()> {
    let (_version, mut stream) = repo.content(&id).await?;
    // A device or a pipe (`-o /dev/null`, `-o >(sha256sum)`) is written into as it is: the
    // temporary file renamed over it would replace the device node with a file.
    let special = out.and_then(|p| std::fs::metadata(p).ok()).is_some_and(|m| !m.is_file() && !m.is_dir());
    match out {
        Some(path) if special => {
            let mut f = tokio::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .await
                .with_context(|| format!("Cannot write {}", path.display()))?;
            while let Some(chunk) = stream.next().await {
                f.write_all(&chunk?).await.with_context(|| format!("Cannot write {}", path.display()))?;
            }
            f.flush().await.with_context(|| format!("Cannot write {}", path.display()))?;
        }
        Some(path) => {
            let tmp = path.with_file_name(format!(
                ".{}.akte-partial",
                path.file_name().and_then(|n| n.to_str()).unwrap_or("out")
            ));
            // Chunks are written on the blocking pool while the next ones are fetched and
            // decrypted; large ones go to the disk directly (`direct::Output`).
            let t = tmp.clone();
            let mut f = tokio::task::spawn_blocking(move || akte_store::direct::Output::create(&t))
                .await?
                .with_context(|| format!("Cannot write {}", path.display()))?;
            let result: Result<()> = async {
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk?;
                    f = tokio::task::spawn_blocking(move || f.write(&chunk).map(|()| f)).await??;
                }
                tokio::task::spawn_blocking(move || f.finish()).await??;
                Ok(())
            }
            .await;
            if let Err(e) = result {
                let _ = tokio::fs::remove_file(&tmp).await;
                return Err(e);
            }
            tokio::fs::rename(&tmp, path).await.with_context(|| format!("Cannot write {}", path.display()))?;
        }
        None => {
            let mut stdout = tokio::io::stdout();
            let written: std::io::Result<()> = async {
                while let Some(chunk) = stream.next().await {
                    stdout.write_all(&chunk.map_err(std::io::Error::other)?).await?;
                }
                stdout.flush().await
            }
            .await;
            match written {
                // The reader went away (`akte get X | head`): not our failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => match e.downcast::<akte_store::Error>() {
                    Ok(store_error) => return Err(store_error.into()),
                    Err(e) => return Err(e.into()),
                },
                Ok(()) => {}
            }
        }
    }
    Ok(())
}
