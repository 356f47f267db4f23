//! Indexes N synthetic German documents (`akte-fixtures` corpus) into an index on disk and
//! measures indexing throughput, index size, peak memory and query latency (p50/p99) for
//! a mix of query kinds, with full access and with a reader filter.
//!
//! ```sh
//! cargo run -p akte-index --release --example bench_search -- 10000
//! ```

use akte_fixtures::corpus::generate_doc;
use akte_index::{Access, Index, IndexDoc, PlanNode, SearchRequest, Sort};
use std::time::{Duration, Instant};

const SEED: u64 = 42;
const ROUNDS: usize = 20;

fn to_index_doc(d: akte_fixtures::corpus::CorpusDoc) -> IndexDoc {
    let date = time::Date::parse(&d.date, time::macros::format_description!("[year]-[month]-[day]")).ok();
    let top = d.aktenplan.split('.').next().unwrap_or_default().chars().take(1).collect::<String>();
    IndexDoc {
        dokument_id: d.id.clone(),
        akte_id: format!("akte-{}", d.aktenzeichen),
        readers: vec![format!("akte:{}", d.aktenzeichen)],
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
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| e.metadata().map_or(0, |m| if m.is_dir() { dir_size(&e.path()) } else { m.len() }))
            .sum()
    })
}

fn main() -> anyhow::Result<()> {
    let n: u64 = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let index = Index::open(dir.path())?;

    let start = Instant::now();
    let mut bytes = 0u64;
    let mut aktenzeichen = Vec::new();
    {
        let mut writer = index.writer()?;
        for i in 0..n {
            let d = generate_doc(SEED, i);
            bytes += d.text.len() as u64;
            if aktenzeichen.len() < 50 && !aktenzeichen.contains(&d.aktenzeichen) {
                aktenzeichen.push(d.aktenzeichen.clone());
            }
            writer.upsert(&to_index_doc(d))?;
        }
        writer.commit(Some(&n.to_string()))?;
    }
    let took = start.elapsed();
    println!(
        "indexed {n} docs, {:.1} MB text in {:.1} s: {:.0} docs/s, {:.2} MB/s; index {:.1} MB on disk; peak RSS {:.0} MB",
        bytes as f64 / 1e6,
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64(),
        bytes as f64 / 1e6 / took.as_secs_f64(),
        dir_size(dir.path()) as f64 / 1e6,
        peak_rss_mb().unwrap_or(f64::NAN),
    );

    let sample: Vec<String> = (0..1_000).map(|i| generate_doc(SEED, i).text).collect();
    let t = Instant::now();
    let tokens: usize =
        sample.iter().map(|s| akte_index::analysis::analyse(s, akte_index::analysis::Mode::Index).len()).sum();
    let mb = sample.iter().map(String::len).sum::<usize>() as f64 / 1e6;
    println!("German analysis alone: {:.2} MB/s ({tokens} tokens from {mb:.1} MB)", mb / t.elapsed().as_secs_f64());

    let kinds: Vec<(&str, SearchRequest)> = vec![
        ("word", SearchRequest::new("Genehmigung")),
        ("word, bare", {
            let mut r = SearchRequest::new("Genehmigung");
            (r.facets, r.snippets) = (false, false);
            r
        }),
        ("compound", SearchRequest::new("Windkraftgenehmigung")),
        ("two words", SearchRequest::new("Schall Prognose")),
        ("phrase", SearchRequest::new("\"Sehr geehrte Damen und Herren\"")),
        ("typo", SearchRequest::new("Baugenehmigng")),
        ("wildcard", SearchRequest::new("Immission*")),
        ("field", SearchRequest::new("typ:Bescheid Lärm")),
        ("az prefix", SearchRequest::new("az:61*")),
        ("filters, by date", {
            let mut r = SearchRequest::new("");
            r.filters.document_type = vec!["Bescheid".into()];
            r.sort = Sort::DateDesc;
            r
        }),
    ];
    let user = Access::readers(aktenzeichen.iter().map(|az| format!("akte:{az}")));
    for (who, access) in [("all", Access::all()), ("50 Akten", user)] {
        let mut all = Vec::new();
        for (kind, req) in &kinds {
            let mut times = Vec::with_capacity(ROUNDS);
            let mut total = 0;
            for _ in 0..ROUNDS {
                let t = Instant::now();
                total = index.search(req, &access)?.total;
                times.push(t.elapsed());
            }
            times.sort();
            println!(
                "  [{who}] {kind:<18} total {total:>7}  p50 {:>7.2} ms  p99 {:>7.2} ms",
                percentile(&times, 0.5).as_secs_f64() * 1e3,
                percentile(&times, 0.99).as_secs_f64() * 1e3
            );
            all.extend(times);
        }
        all.sort();
        println!(
            "[{who}] all queries: p50 {:.2} ms, p99 {:.2} ms ({} searches incl. facets and 20 snippets)",
            percentile(&all, 0.5).as_secs_f64() * 1e3,
            percentile(&all, 0.99).as_secs_f64() * 1e3,
            all.len()
        );
    }
    Ok(())
}
