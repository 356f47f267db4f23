//! The scope of a search: the documents a reader may read, narrowed by the request's
//! filters, as a sorted list of document ids per segment.
//!
//! The scope is evaluated once per search and then joins the query twice: as a required
//! clause of the whole query (so counts, ranking, facets and snippets never see anything
//! outside it), and inside every leaf of the user's query (each term and phrase is
//! intersected with it before the leaves are combined). The second use is for speed: a
//! union of terms otherwise scores every posting of every term in windows of 4,096
//! documents, also where the reader may read one document in twenty; led by the scope,
//! each leaf only seeks to the documents in scope.
//!
//! The access part (a reader's tokens) repeats from search to search, so its lists are
//! kept in a [`ScopeCache`] per segment, keyed by the segment, its deletions and the exact
//! set of tokens: a new commit adds segments and only those are evaluated again.

use crate::Result;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use tantivy::index::SegmentId;
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, TermSetQuery, Weight};
use tantivy::{DocId, DocSet, Opstamp, Score, Searcher, SegmentReader, TERMINATED, Term};

/// Bytes of document id lists the cache keeps (least recently used go first).
const CACHE_BYTES: usize = 64 << 20;

/// Sorted, deduplicated ids of live documents of one segment.
type Docs = Arc<[DocId]>;

/// A segment as of its deletions.
type SegmentKey = (SegmentId, Option<Opstamp>);
type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;
/// The lists of one token set, per segment, with when each was last used.
type Lists = FxMap<SegmentKey, (Docs, u64)>;

/// Per-segment document lists of readers' access, shared by all searches of an index.
#[derive(Default)]
pub(crate) struct ScopeCache {
    inner: Mutex<CacheInner>,
}

#[derive(Default)]
struct CacheInner {
    /// Per token set, per segment: the list and when it was last used.
    entries: FxMap<Arc<BTreeSet<String>>, Lists>,
    bytes: usize,
    clock: u64,
}

fn cost(docs: &[DocId]) -> usize {
    std::mem::size_of_val(docs) + 128
}

impl CacheInner {
    fn evict_oldest(&mut self) -> bool {
        let oldest = self
            .entries
            .iter()
            .flat_map(|(tokens, segs)| segs.iter().map(move |(seg, (_, used))| (*used, tokens, *seg)))
            .min_by_key(|(used, _, _)| *used)
            .map(|(_, tokens, seg)| (Arc::clone(tokens), seg));
        let Some((tokens, seg)) = oldest else { return false };
        if let Some(segs) = self.entries.get_mut(&tokens) {
            if let Some((gone, _)) = segs.remove(&seg) {
                self.bytes -= cost(&gone);
            }
            if segs.is_empty() {
                self.entries.remove(&tokens);
            }
        }
        true
    }
}

impl ScopeCache {
    /// For each of `segments`, its live documents that carry one of `tokens`.
    fn access(
        &self,
        segments: &[SegmentReader],
        field: tantivy::schema::Field,
        tokens: &BTreeSet<String>,
    ) -> Result<Vec<Docs>> {
        let keys: Vec<SegmentKey> = segments.iter().map(|s| (s.segment_id(), s.delete_opstamp())).collect();
        let mut found: Vec<Option<Docs>> = {
            let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.clock += 1;
            let now = inner.clock;
            match inner.entries.get_mut(tokens) {
                Some(segs) => keys
                    .iter()
                    .map(|k| {
                        segs.get_mut(k).map(|(docs, used)| {
                            *used = now;
                            Arc::clone(docs)
                        })
                    })
                    .collect(),
                None => vec![None; keys.len()],
            }
        };
        if found.iter().all(Option::is_some) {
            return Ok(found.into_iter().flatten().collect());
        }
        let query = TermSetQuery::new(tokens.iter().map(|t| Term::from_field_text(field, t)));
        let mut fresh = Vec::new();
        for (i, segment) in segments.iter().enumerate() {
            if found[i].is_none() {
                let weight = query.weight(EnableScoring::disabled_from_schema(segment.schema()))?;
                let docs = live_docs(segment, weight.scorer(segment, 1.0)?.as_mut(), None);
                found[i] = Some(Arc::clone(&docs));
                fresh.push((keys[i], docs));
            }
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let tokens = Arc::new(tokens.clone());
        for (key, docs) in fresh {
            let size = cost(&docs);
            if size > CACHE_BYTES / 4 {
                continue;
            }
            while inner.bytes + size > CACHE_BYTES && inner.evict_oldest() {}
            inner.clock += 1;
            let now = inner.clock;
            if inner.entries.entry(Arc::clone(&tokens)).or_default().insert(key, (docs, now)).is_none() {
                inner.bytes += size;
            }
        }
        Ok(found.into_iter().flatten().collect())
    }

    /// Number of cached lists (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).entries.values().map(|s| s.len()).sum()
    }
}

/// The documents of `scorer` that are alive in `segment` (and in `within`, when given).
fn live_docs(segment: &SegmentReader, scorer: &mut dyn Scorer, within: Option<&[DocId]>) -> Docs {
    let mut out = Vec::new();
    match within {
        None => {
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                if !segment.is_deleted(doc) {
                    out.push(doc);
                }
                doc = scorer.advance();
            }
        }
        Some(within) => {
            for &d in within {
                if scorer.doc() > d {
                    continue;
                }
                let found = scorer.seek(d);
                if found == TERMINATED {
                    break;
                }
                if found == d {
                    out.push(d);
                }
            }
        }
    }
    out.into()
}

/// A search's scope, evaluated for every segment of one searcher.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    segments: Arc<FxMap<SegmentId, Docs>>,
}

impl Scope {
    /// The scope of `access` (`None`: every document) narrowed by `filters` (all must hold),
    /// or `None` when neither restricts anything.
    pub fn evaluate(
        searcher: &Searcher,
        cache: &ScopeCache,
        readers: tantivy::schema::Field,
        access: Option<&BTreeSet<String>>,
        filters: &[Box<dyn Query>],
    ) -> Result<Option<Scope>> {
        if access.is_none() && filters.is_empty() {
            return Ok(None);
        }
        let filter_weights = filters
            .iter()
            .map(|q| q.weight(EnableScoring::disabled_from_searcher(searcher)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let readable = match access {
            Some(t) if !t.is_empty() => Some(cache.access(searcher.segment_readers(), readers, t)?),
            _ => None,
        };
        let mut segments = FxMap::default();
        for (i, segment) in searcher.segment_readers().iter().enumerate() {
            let mut docs: Option<Docs> = match (access, &readable) {
                (Some(_), Some(lists)) => Some(Arc::clone(&lists[i])),
                (Some(_), None) => Some(Arc::from(Vec::new())),
                (None, _) => None,
            };
            for weight in &filter_weights {
                let mut scorer = weight.scorer(segment, 1.0)?;
                docs = Some(live_docs(segment, scorer.as_mut(), docs.as_deref()));
            }
            segments.insert(segment.segment_id(), docs.unwrap_or_else(|| Arc::from(Vec::new())));
        }
        Ok(Some(Scope { segments: Arc::new(segments) }))
    }

    /// The scope as a query that matches its documents with score 0.
    pub fn query(&self) -> Box<dyn Query> {
        Box::new(ScopeQuery(self.clone()))
    }
}

#[derive(Clone, Debug)]
struct ScopeQuery(Scope);

impl Query for ScopeQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(ScopeWeight(self.0.clone())))
    }
}

struct ScopeWeight(Scope);

impl ScopeWeight {
    /// A segment the scope was not evaluated for (another searcher's) has nothing in scope.
    fn docs(&self, segment: &SegmentReader) -> Docs {
        self.0.segments.get(&segment.segment_id()).cloned().unwrap_or_else(|| Arc::from(Vec::new()))
    }
}

impl Weight for ScopeWeight {
    fn scorer(&self, segment: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(DocsScorer { docs: self.docs(segment), at: 0 }))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.docs(segment).binary_search(&doc).is_ok() {
            Ok(Explanation::new("in the reader's scope", 0.0))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} is outside the scope")))
        }
    }
}

/// Walks a sorted id list; seeks by galloping, so a leader far ahead costs log steps.
struct DocsScorer {
    docs: Docs,
    at: usize,
}

impl DocSet for DocsScorer {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        let rest = &self.docs[self.at..];
        if rest.first().is_none_or(|&d| d >= target) {
            return self.doc();
        }
        let mut bound = 1;
        while bound < rest.len() && rest[bound] < target {
            bound *= 2;
        }
        let lo = bound / 2;
        let hi = bound.min(rest.len());
        self.at += lo + rest[lo..hi].partition_point(|&d| d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.at) as u32
    }
}

impl Scorer for DocsScorer {
    fn score(&mut self) -> Score {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeks_like_a_linear_walk() {
        let docs: Docs = (0..2000u32).filter(|d| d % 7 == 0 || d % 13 == 0).collect::<Vec<_>>().into();
        for start in [0u32, 1, 5, 500, 1999] {
            for step in [1u32, 2, 3, 50, 700] {
                let mut s = DocsScorer { docs: docs.clone(), at: 0 };
                s.seek(start);
                let mut target = start;
                while s.doc() != TERMINATED {
                    target += step;
                    let want = docs.iter().copied().find(|&d| d >= target.max(s.doc())).unwrap_or(TERMINATED);
                    assert_eq!(s.seek(target), want, "seek {target} from {start} by {step}");
                }
            }
        }
        let mut s = DocsScorer { docs: Arc::from(Vec::new()), at: 0 };
        assert_eq!((s.doc(), s.advance(), s.seek(10)), (TERMINATED, TERMINATED, TERMINATED));
    }

    #[test]
    fn cache_is_keyed_by_the_whole_token_set_and_bounded() {
        let cache = ScopeCache::default();
        let index = crate::Index::in_memory().expect("index");
        let mut w = index.writer().expect("writer");
        for (id, reader) in [("d1", "akte:1"), ("d2", "akte:2")] {
            w.upsert(&crate::IndexDoc {
                dokument_id: id.into(),
                readers: vec![reader.into()],
                text: "Windpark".into(),
                ..crate::IndexDoc::default()
            })
            .expect("upsert");
        }
        w.commit(None).expect("commit");
        let searcher = index.reader.searcher();
        let segs = searcher.segment_readers();
        let one = BTreeSet::from(["akte:1".to_string()]);
        let both = BTreeSet::from(["akte:1".to_string(), "akte:2".to_string()]);
        assert_eq!(cache.access(segs, index.fields.readers, &one).expect("docs")[0].len(), 1);
        assert_eq!(cache.access(segs, index.fields.readers, &both).expect("docs")[0].len(), 2);
        assert_eq!(cache.access(segs, index.fields.readers, &one).expect("docs")[0].len(), 1);
        assert_eq!(cache.len(), 2);
    }
}
