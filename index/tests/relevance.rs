//! Relevance over the demo case: every query of `tests/queries.json` (the generated
//! `fixtures/windpark-hohe-heide/queries.json` plus queries for compound parts, inflected
//! forms, typos, scans and field filters, each with the reason a clerk expects its
//! documents) is run with full access.
//!
//! **recall@3**, as measured here: a query with a `top` document succeeds when that
//! document is among the first three hits; a query without one (several documents are
//! equally good) succeeds when the first min(3, |relevant|) hits are all relevant.
//! The test asserts recall@3 ≥ 0.9 and prints every miss.

mod common;

use akte_index::{Access, SearchRequest};
use serde::Deserialize;

#[derive(Deserialize)]
struct Query {
    query: String,
    top: Option<String>,
    relevant: Vec<String>,
    reason: String,
}

fn queries() -> Vec<Query> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/queries.json")).expect("queries.json");
    serde_json::from_str(&text).expect("valid queries.json")
}

#[test]
fn recall_at_3_over_the_demo_case_is_at_least_0_9() {
    let index = common::fixture_index();
    let queries = queries();
    assert!(queries.len() >= 45, "only {} queries", queries.len());
    let mut hits = 0;
    let mut reciprocal = 0.0;
    let mut misses = Vec::new();
    for q in &queries {
        assert!(!q.reason.trim().is_empty(), "{}: no reason", q.query);
        let mut req = SearchRequest::new(&q.query);
        req.limit = 10;
        let res = index.search(&req, &Access::all()).unwrap_or_else(|e| panic!("{}: {e}", q.query));
        let ids: Vec<&str> = res.hits.iter().map(|h| h.dokument_id.as_str()).collect();
        let ok = match &q.top {
            Some(top) => {
                let rank = ids.iter().position(|id| id == top);
                reciprocal += rank.map_or(0.0, |r| 1.0 / (r + 1) as f64);
                rank.is_some_and(|r| r < 3)
            }
            None => {
                let want = q.relevant.len().min(3);
                reciprocal += if ids.first().is_some_and(|id| q.relevant.iter().any(|r| r == id)) { 1.0 } else { 0.0 };
                ids.len() >= want && ids[..want].iter().all(|id| q.relevant.iter().any(|r| r == id))
            }
        };
        if ok {
            hits += 1;
        } else {
            misses.push(format!(
                "  {:?} (expected {}; reason: {})\n    got {:?}",
                q.query,
                q.top.as_deref().unwrap_or("any relevant"),
                q.reason,
                &ids[..ids.len().min(5)]
            ));
        }
    }
    let recall = hits as f64 / queries.len() as f64;
    let mrr = reciprocal / queries.len() as f64;
    println!("recall@3 = {recall:.3} ({hits}/{}), MRR = {mrr:.3}", queries.len());
    if !misses.is_empty() {
        println!("misses:\n{}", misses.join("\n"));
    }
    assert!(recall >= 0.9, "recall@3 = {recall:.3} < 0.9; misses:\n{}", misses.join("\n"));
}

/// The generated fixture queries are all part of the extended set, unchanged.
#[test]
fn extended_queries_contain_the_generated_ones() {
    #[derive(Deserialize)]
    struct Generated {
        query: String,
        top: Option<String>,
        relevant: Vec<String>,
    }
    let path = akte_fixtures::committed_case_dir().join("queries.json");
    let generated: Vec<Generated> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let ours = queries();
    for g in generated {
        let q = ours
            .iter()
            .find(|q| q.query == g.query)
            .unwrap_or_else(|| panic!("{:?} missing from tests/queries.json", g.query));
        assert_eq!((&q.top, &q.relevant), (&g.top, &g.relevant), "{:?} differs from the fixture", g.query);
    }
}
