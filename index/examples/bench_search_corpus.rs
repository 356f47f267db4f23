//! The akte side of the search benchmark of issue 4 (`bench/search.sh` runs it next to
//! SQLite FTS5 and PostgreSQL on the same documents and queries).
//!
//! ```sh
//! bench_search_corpus index   --corpus corpus.jsonl --dir DIR [--akten 1000] [--rebuild]
//! bench_search_corpus index   --corpus corpus.jsonl --in-memory --queries Q [query options]
//! bench_search_corpus query   --dir DIR --queries bench/search/queries.json
//!                             [--akten 1000] [--readable 50] [--rounds 20] [--budget-s 60]
//!                             [--variants bare,served]
//! ```
//!
//! `index` reads a `gen-corpus --format jsonl` file (`-`: standard input) and indexes every
//! document with the default writer (50 MB heap, one thread), then commits once. With
//! `--rebuild` it opens the existing index, deletes everything and indexes the corpus again,
//! as `akte reindex` does. Document `i` belongs to Akte `i % akten` and carries the reader
//! token of that Akte. Prints one JSON object: throughput, index size, segments, peak RSS.
//!
//! With `--in-memory` (no `--dir`) the index is built in RAM and `--queries` are run on it in
//! the same process (for corpora whose index does not fit on the disk at hand; RSS then
//! includes the whole index).
//!
//! `query` runs the query kinds of the query file with the permission filter of a user who
//! may read every `akten / readable`-th Akte (`readable` of them), in two variants: `bare`
//! (total and the top 20 only; facets for the facetted kind) and `served` (what the
//! server asks for: facets and 20 snippets always). Each query runs once to warm up, then in
//! rounds over all queries of a kind, until `rounds` rounds or until the kind took longer
//! than `budget-s` (at least 3 rounds). Prints one JSON object with p50/p99 per kind.

use akte_index::{Access, Index, IndexDoc, PlanNode, SearchRequest};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Deserialize)]
struct CorpusDoc {
    id: String,
    aktenzeichen: String,
    aktenplan: String,
    document_type: String,
    date: String,
    sender: String,
    title: String,
    text: String,
}

fn to_index_doc(d: CorpusDoc, akten: u64) -> Result<IndexDoc> {
    let n: u64 = d.id.parse().context("document id")?;
    let akte = n % akten;
    let date = time::Date::parse(&d.date, time::macros::format_description!("[year]-[month]-[day]")).ok();
    let top = d.aktenplan.chars().take(1).collect::<String>();
    Ok(IndexDoc {
        dokument_id: d.id,
        akte_id: format!("akte-{akte}"),
        readers: vec![format!("akte:{akte}")],
        aktenzeichen: d.aktenzeichen,
        aktenplan: vec![
            PlanNode { code: top, title: String::new() },
            PlanNode { code: d.aktenplan, title: String::new() },
        ],
        title: d.title,
        document_type: Some(d.document_type),
        media_type: Some("application/pdf".into()),
        sender: Some(d.sender),
        date,
        status: Some("offen".into()),
        text: d.text,
        ..IndexDoc::default()
    })
}

/// Peaks of the anonymous and the file-backed part of the RSS (tantivy maps its segment
/// files; those pages count in VmHWM but are page cache the kernel can drop), sampled every
/// 20 ms by a thread.
#[derive(Clone, Default)]
struct RssSampler {
    anon_kib: Arc<AtomicU64>,
    file_kib: Arc<AtomicU64>,
}

impl RssSampler {
    fn start() -> RssSampler {
        let s = RssSampler::default();
        let t = s.clone();
        std::thread::spawn(move || {
            loop {
                if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
                    let kib = |key: &str| {
                        status
                            .lines()
                            .find(|l| l.starts_with(key))
                            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                            .unwrap_or(0)
                    };
                    t.anon_kib.fetch_max(kib("RssAnon:"), Ordering::Relaxed);
                    t.file_kib.fetch_max(kib("RssFile:") + kib("RssShmem:"), Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        s
    }

    fn anon_mib(&self) -> f64 {
        self.anon_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }

    fn file_mib(&self) -> f64 {
        self.file_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// User + system CPU seconds of this process, all threads (Linux counts in 1/100 s).
fn cpu_s() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let f: Vec<u64> =
                s.rsplit_once(')')?.1.split_whitespace().skip(11).take(2).filter_map(|v| v.parse().ok()).collect();
            Some((f.first()? + f.get(1)?) as f64 / 100.0)
        })
        .unwrap_or(f64::NAN)
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| e.metadata().map_or(0, |m| if m.is_dir() { dir_size(&e.path()) } else { m.len() }))
            .sum()
    })
}

fn segments(dir: &Path) -> usize {
    std::fs::read(dir.join("meta.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|v| v["segments"].as_array().map(Vec::len))
        .unwrap_or(0)
}

struct Args {
    cmd: String,
    corpus: Option<PathBuf>,
    dir: Option<PathBuf>,
    queries: Option<PathBuf>,
    akten: u64,
    readable: u64,
    rounds: usize,
    budget: Duration,
    rebuild: bool,
    in_memory: bool,
    variants: Vec<String>,
}

fn args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let cmd = it.next().context("usage: bench_search_corpus index|query …")?;
    let mut a = Args {
        cmd,
        corpus: None,
        dir: None,
        queries: None,
        akten: 1000,
        readable: 50,
        rounds: 20,
        budget: Duration::from_secs(60),
        rebuild: false,
        variants: vec!["bare".into(), "served".into()],
        in_memory: false,
    };
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--corpus" => a.corpus = Some(val()?.into()),
            "--dir" => a.dir = Some(val()?.into()),
            "--queries" => a.queries = Some(val()?.into()),
            "--akten" => a.akten = val()?.parse()?,
            "--readable" => a.readable = val()?.parse()?,
            "--rounds" => a.rounds = val()?.parse()?,
            "--budget-s" => a.budget = Duration::from_secs_f64(val()?.parse()?),
            "--rebuild" => a.rebuild = true,
            "--in-memory" => a.in_memory = true,
            "--variants" => a.variants = val()?.split(',').map(str::to_string).collect(),
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(a)
}

fn main() -> Result<()> {
    let a = args()?;
    match a.cmd.as_str() {
        "index" => index(&a),
        "query" => query(&a),
        other => bail!("unknown command {other:?} (index or query)"),
    }
}

fn index(a: &Args) -> Result<()> {
    let rss = RssSampler::start();
    let dir = match (a.in_memory, a.dir.as_deref()) {
        (true, _) => None,
        (false, Some(d)) => Some(d),
        (false, None) => bail!("--dir or --in-memory"),
    };
    let corpus = a.corpus.as_deref().context("--corpus")?;
    let input: Box<dyn BufRead> = if corpus == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(corpus).with_context(|| format!("opening {}", corpus.display()))?,
        ))
    };
    let start = Instant::now();
    let index = match dir {
        Some(dir) => Index::open(dir)?,
        None => Index::in_memory()?,
    };
    if a.rebuild && index.num_docs() == 0 {
        bail!("--rebuild needs an index with documents in --dir");
    }
    if !a.rebuild && index.num_docs() > 0 {
        bail!("the --dir already holds an index; use --rebuild or an empty directory");
    }
    let (mut docs, mut text_bytes, mut input_bytes) = (0u64, 0u64, 0u64);
    {
        let mut writer = index.writer()?;
        if a.rebuild {
            writer.delete_all()?;
        }
        for line in input.lines() {
            let line = line?;
            input_bytes += line.len() as u64 + 1;
            let d: CorpusDoc = serde_json::from_str(&line)?;
            text_bytes += d.text.len() as u64;
            // An empty index or one just emptied: each document once, as `akte reindex` does.
            writer.insert(&to_index_doc(d, a.akten)?)?;
            docs += 1;
        }
        writer.commit(Some(&docs.to_string()))?;
    }
    let secs = start.elapsed().as_secs_f64();
    let out = json!({
        "system": "akte",
        "phase": if a.rebuild { "rebuild" } else { "index" },
        "in_memory": a.in_memory,
        "docs": docs,
        "text_bytes": text_bytes,
        "input_bytes": input_bytes,
        "seconds": secs,
        "docs_per_s": docs as f64 / secs,
        "text_mb_per_s": text_bytes as f64 / 1e6 / secs,
        "index_bytes": dir.map(dir_size),
        "segments": dir.map(segments),
        "peak_rss_mib": peak_rss_mib(),
        "peak_rss_anon_mib": rss.anon_mib(),
        "peak_rss_file_mib": rss.file_mib(),
        "cpu_s": cpu_s(),
    });
    println!("{out}");
    if a.in_memory && a.queries.is_some() {
        run_queries(&index, a, None)?;
    }
    Ok(())
}

/// One query of the query file: `words` (all must match) or `phrase`, and an optional
/// document `type` filter (the facetted kind).
#[derive(Deserialize)]
struct Q {
    #[serde(default)]
    words: Option<String>,
    #[serde(default)]
    phrase: Option<String>,
    #[serde(default, rename = "type")]
    doc_type: Option<String>,
}

#[derive(Deserialize)]
struct Kind {
    kind: String,
    facets: bool,
    queries: Vec<Q>,
}

fn request(q: &Q, facets: bool, served: bool) -> SearchRequest {
    let text = match (&q.words, &q.phrase) {
        (_, Some(p)) => format!("\"{p}\""),
        (Some(w), None) => w.clone(),
        (None, None) => String::new(),
    };
    let mut r = SearchRequest::new(text);
    r.limit = 20;
    r.facets = facets || served;
    r.snippets = served;
    if let Some(t) = &q.doc_type {
        r.filters.document_type = vec![t.clone()];
    }
    r
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

fn query(a: &Args) -> Result<()> {
    let dir = a.dir.as_deref().context("--dir")?;
    run_queries(&Index::open(dir)?, a, Some(dir))
}

fn run_queries(index: &Index, a: &Args, dir: Option<&Path>) -> Result<()> {
    let file = a.queries.as_deref().context("--queries")?;
    let kinds: Vec<Kind> = serde_json::from_slice::<Value>(&std::fs::read(file)?)
        .map(|v| serde_json::from_value(v["kinds"].clone()))??;
    let step = (a.akten / a.readable.max(1)).max(1);
    let access =
        Access::readers((0..a.akten).step_by(step as usize).take(a.readable as usize).map(|k| format!("akte:{k}")));
    let mut results = serde_json::Map::new();
    for variant in a.variants.iter().map(String::as_str) {
        let served = variant == "served";
        let mut per_kind = serde_json::Map::new();
        for kind in &kinds {
            let reqs: Vec<SearchRequest> = kind.queries.iter().map(|q| request(q, kind.facets, served)).collect();
            let mut totals = Vec::new();
            for r in &reqs {
                totals.push(index.search(r, &access)?.total);
            }
            let mut times = Vec::new();
            let mut per_query = vec![Vec::new(); reqs.len()];
            let t0 = Instant::now();
            let mut rounds = 0;
            while rounds < a.rounds && (rounds < 3 || t0.elapsed() < a.budget) {
                for (i, r) in reqs.iter().enumerate() {
                    let t = Instant::now();
                    std::hint::black_box(index.search(r, &access)?);
                    times.push(t.elapsed());
                    per_query[i].push(t.elapsed());
                }
                rounds += 1;
            }
            times.sort();
            let query_p50: Vec<f64> = per_query
                .iter_mut()
                .map(|t| {
                    t.sort();
                    percentile(t, 0.5)
                })
                .collect();
            per_kind.insert(
                kind.kind.clone(),
                json!({
                    "p50_ms": percentile(&times, 0.5),
                    "p99_ms": percentile(&times, 0.99),
                    "max_ms": percentile(&times, 1.0),
                    "mean_ms": times.iter().map(Duration::as_secs_f64).sum::<f64>() * 1e3 / times.len() as f64,
                    "n": times.len(),
                    "rounds": rounds,
                    "totals": totals,
                    "query_p50_ms": query_p50,
                }),
            );
        }
        results.insert(variant.to_string(), Value::Object(per_kind));
    }
    let out = json!({
        "system": "akte",
        "phase": "query",
        "in_memory": dir.is_none(),
        "docs": index.num_docs(),
        "segments": dir.map(segments),
        "readable_akten": a.readable,
        "akten": a.akten,
        "variants": results,
        "peak_rss_mib": peak_rss_mib(),
    });
    println!("{out}");
    Ok(())
}
