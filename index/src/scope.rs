//! The scope of a search: the documents a reader may read, narrowed by the request's
//! filters, as a sorted list of document ids per segment.
//!
//! The scope is evaluated once per search and then joins the query twice: as a required
//! clause of the whole query (so counts, ranking, facets and snippets never see anything
//! outside it), and inside every leaf of the user's query that can lead (each term and
//! phrase is intersected with it before the leaves are combined; an optional clause beside
//! a required one is only sought at the required clause's documents). The second use is for speed: a
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
use tantivy::{DocId, DocSet, Opstamp, Score, Searcher, SeekDangerResult, SegmentReader, TERMINATED, Term};

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

/// Whether `postings` has any of `docs` (sorted ids of live documents): the shorter side
/// leads, so the cost is about the smaller of the two lengths.
pub(crate) fn has_any(mut postings: tantivy::postings::SegmentPostings, docs: &[DocId]) -> bool {
    if (postings.doc_freq() as usize) < docs.len() {
        let mut d = postings.doc();
        while d != TERMINATED {
            if docs.binary_search(&d).is_ok() {
                return true;
            }
            d = postings.advance();
        }
        false
    } else {
        for &d in docs {
            if postings.doc() > d {
                continue;
            }
            match postings.seek(d) {
                TERMINATED => return false,
                found if found == d => return true,
                _ => {}
            }
        }
        false
    }
}

/// Whether `postings` has a document `segment` has not deleted (a word only deleted
/// documents still hold is gone for every reader).
pub(crate) fn has_live(mut postings: tantivy::postings::SegmentPostings, segment: &SegmentReader) -> bool {
    let mut d = postings.doc();
    while d != TERMINATED {
        if !segment.is_deleted(d) {
            return true;
        }
        d = postings.advance();
    }
    false
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
        // The filters of each segment are evaluated on the index's search threads.
        let per_segment = searcher.index().search_executor().map(
            |(i, segment): (usize, &SegmentReader)| {
                let mut docs: Option<Docs> = match (access, &readable) {
                    (Some(_), Some(lists)) => Some(Arc::clone(&lists[i])),
                    (Some(_), None) => Some(Arc::from(Vec::new())),
                    (None, _) => None,
                };
                for weight in &filter_weights {
                    let mut scorer = weight.scorer(segment, 1.0)?;
                    docs = Some(live_docs(segment, scorer.as_mut(), docs.as_deref()));
                }
                Ok((segment.segment_id(), docs.unwrap_or_else(|| Arc::from(Vec::new()))))
            },
            searcher.segment_readers().iter().enumerate(),
        )?;
        let segments: FxMap<SegmentId, Docs> = per_segment.into_iter().collect();
        Ok(Some(Scope { segments: Arc::new(segments) }))
    }

    /// The scope as a query that matches its documents with score 0.
    pub fn query(&self) -> Box<dyn Query> {
        Box::new(ScopeQuery(self.clone()))
    }

    /// `inner` restricted to the scope, scored by `inner` alone. Its scorer walks the id
    /// list and `inner` side by side and lets whichever is ahead pull the other: a common
    /// term is only sought at documents in scope, a rare one only gallops through the list.
    pub fn restrict(&self, inner: Box<dyn Query>) -> Box<dyn Query> {
        Box::new(Restricted { inner, scope: self.clone(), lead: Lead::Sparser })
    }

    /// `inner` restricted to the scope, for a query whose leaves are all restricted
    /// already: `inner` always leads and the list only checks each of its documents. The
    /// answer is the same as [`Scope::restrict`]'s; the check costs a step along the list
    /// per match, where probing a union of restricted leaves at every id in scope would
    /// repeat the leaves' own work.
    pub fn guard(&self, inner: Box<dyn Query>) -> Box<dyn Query> {
        Box::new(Restricted { inner, scope: self.clone(), lead: Lead::Inner })
    }

    /// The ids in scope of a segment (none for a segment the scope was not evaluated for,
    /// i.e. another searcher's).
    pub(crate) fn docs(&self, segment: &SegmentReader) -> Docs {
        self.segments.get(&segment.segment_id()).cloned().unwrap_or_else(|| Arc::from(Vec::new()))
    }
}

/// Which side of a [`RestrictedScorer`] leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lead {
    /// The one with fewer documents.
    Sparser,
    /// Always the inner scorer.
    Inner,
}

#[derive(Debug)]
struct Restricted {
    inner: Box<dyn Query>,
    scope: Scope,
    lead: Lead,
}

impl Clone for Restricted {
    fn clone(&self) -> Self {
        Restricted { inner: self.inner.box_clone(), scope: self.scope.clone(), lead: self.lead }
    }
}

impl Query for Restricted {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(RestrictedWeight {
            inner: self.inner.weight(scoring)?,
            scope: self.scope.clone(),
            lead: self.lead,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

struct RestrictedWeight {
    inner: Box<dyn Weight>,
    scope: Scope,
    lead: Lead,
}

impl Weight for RestrictedWeight {
    fn scorer(&self, segment: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let docs = self.scope.docs(segment);
        if docs.is_empty() {
            return Ok(Box::new(tantivy::query::EmptyScorer));
        }
        Ok(Box::new(RestrictedScorer::new(self.inner.scorer(segment, boost)?, docs, self.lead)))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.scope.docs(segment).binary_search(&doc).is_err() {
            return Err(tantivy::TantivyError::InvalidArgument(format!("document {doc} is outside the scope")));
        }
        self.inner.explain(segment, doc)
    }
}

/// The documents of `inner` whose ids are in `docs`. Whichever is sparser leads: a rare
/// `inner` is advanced and the list galloped after it; otherwise the list is walked and
/// `inner` is only asked whether it matches each id (`seek_danger`), so a phrase, say, is
/// only checked at documents in scope, never at those between them.
struct RestrictedScorer {
    inner: Box<dyn Scorer>,
    docs: Docs,
    /// Position in `docs`: no id before it is at or after the current document.
    at: usize,
    doc: DocId,
    inner_leads: bool,
}

impl RestrictedScorer {
    fn new(inner: Box<dyn Scorer>, docs: Docs, lead: Lead) -> RestrictedScorer {
        let inner_leads = lead == Lead::Inner || inner.cost() < docs.len() as u64;
        let mut scorer = RestrictedScorer { inner, docs, at: 0, doc: 0, inner_leads };
        scorer.doc = scorer.align();
        scorer
    }

    /// The first document at or after both cursors that is in both. `inner` is valid (not
    /// left behind by a failed `seek_danger`) when this is called and when it returns a
    /// document.
    fn align(&mut self) -> DocId {
        loop {
            let Some(&want) = self.docs.get(self.at) else { return TERMINATED };
            let d = self.inner.doc();
            if d == want || d == TERMINATED {
                return d;
            }
            if d > want {
                self.at = gallop(&self.docs, self.at, d);
                continue;
            }
            let mut want = want;
            loop {
                match self.inner.seek_danger(want) {
                    SeekDangerResult::Found => return want,
                    SeekDangerResult::SeekLowerBound(bound) if bound == TERMINATED => return TERMINATED,
                    SeekDangerResult::SeekLowerBound(bound) => {
                        // `inner` may now only be asked again, for a larger id
                        self.at = gallop(&self.docs, self.at, bound);
                        match self.docs.get(self.at) {
                            Some(&next) => want = next,
                            None => return TERMINATED,
                        }
                    }
                }
            }
        }
    }
}

/// The first index at or after `from` whose id is at least `target` (`docs.len()` if none).
fn gallop(docs: &[DocId], from: usize, target: DocId) -> usize {
    let rest = &docs[from..];
    if rest.first().is_none_or(|&d| d >= target) {
        return from;
    }
    let mut bound = 1;
    while bound < rest.len() && rest[bound] < target {
        bound *= 2;
    }
    let lo = bound / 2;
    let hi = bound.min(rest.len());
    from + lo + rest[lo..hi].partition_point(|&d| d < target)
}

impl DocSet for RestrictedScorer {
    fn advance(&mut self) -> DocId {
        if self.doc == TERMINATED {
            return TERMINATED;
        }
        self.at += 1;
        if self.inner_leads {
            self.inner.advance();
        }
        self.doc = self.align();
        self.doc
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        self.at = gallop(&self.docs, self.at, target);
        self.doc = self.align();
        self.doc
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.inner.size_hint().min((self.docs.len() - self.at.min(self.docs.len())) as u32)
    }

    fn cost(&self) -> u64 {
        self.inner.cost().min((self.docs.len() - self.at.min(self.docs.len())) as u64)
    }
}

impl Scorer for RestrictedScorer {
    fn score(&mut self) -> Score {
        self.inner.score()
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

impl Weight for ScopeWeight {
    fn scorer(&self, segment: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(DocsScorer { docs: self.0.docs(segment), at: 0 }))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.0.docs(segment).binary_search(&doc).is_ok() {
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
        self.at = gallop(&self.docs, self.at, target);
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

    /// A pseudo-random sorted set of ids below `max` with about `per_mille` of them.
    fn set(seed: u64, max: u32, per_mille: u64) -> Vec<DocId> {
        let mut x = seed;
        (0..max)
            .filter(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % 1000 < per_mille
            })
            .collect()
    }

    fn restricted(inner: &[DocId], scope: &[DocId], lead: Lead) -> RestrictedScorer {
        let inner = DocsScorer { docs: inner.to_vec().into(), at: 0 };
        RestrictedScorer::new(Box::new(inner), scope.to_vec().into(), lead)
    }

    #[test]
    fn a_restricted_scorer_yields_exactly_the_intersection() {
        let cases = [(1, 500, 50), (2, 50, 500), (3, 900, 900), (4, 5, 5), (5, 0, 300), (6, 300, 0)];
        // `guard` (the inner side always leads) must give the same answer, also when the
        // inner side is not within the scope at all.
        for ((seed, a, b), lead) in cases.into_iter().flat_map(|c| [(c, Lead::Sparser), (c, Lead::Inner)]) {
            let (inner, scope) = (set(seed, 20_000, a), set(seed * 7 + 1, 20_000, b));
            let want: Vec<DocId> = inner.iter().copied().filter(|d| scope.binary_search(d).is_ok()).collect();
            let mut s = restricted(&inner, &scope, lead);
            let mut got = Vec::new();
            while s.doc() != TERMINATED {
                got.push(s.doc());
                s.advance();
            }
            assert_eq!(got, want, "walk, seed {seed}");
            for step in [1u32, 37, 1_000] {
                let mut s = restricted(&inner, &scope, lead);
                let mut target = 0;
                while s.doc() != TERMINATED {
                    target = (target + step).max(s.doc());
                    let expected = want.iter().copied().find(|&d| d >= target).unwrap_or(TERMINATED);
                    assert_eq!(s.seek(target), expected, "seek {target}, seed {seed}, step {step}");
                }
            }
        }
    }

    /// A scorer whose failed `seek_danger` leaves it invalid, as a phrase scorer's may: it
    /// panics if used for anything but another `seek_danger` before it found a document.
    struct Dangerous {
        docs: Vec<DocId>,
        at: usize,
        valid: bool,
    }

    impl DocSet for Dangerous {
        fn advance(&mut self) -> DocId {
            assert!(self.valid, "advance after a failed seek_danger");
            self.at += 1;
            self.doc()
        }
        fn doc(&self) -> DocId {
            assert!(self.valid, "doc after a failed seek_danger");
            self.docs.get(self.at).copied().unwrap_or(TERMINATED)
        }
        fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
            self.at = gallop(&self.docs, self.at, target);
            match self.docs.get(self.at) {
                Some(&d) if d == target => {
                    self.valid = true;
                    SeekDangerResult::Found
                }
                // a lower bound only: just past the target, not the next document
                Some(_) => {
                    self.valid = false;
                    SeekDangerResult::SeekLowerBound(target + 1)
                }
                None => SeekDangerResult::SeekLowerBound(TERMINATED),
            }
        }
        fn size_hint(&self) -> u32 {
            self.docs.len() as u32
        }
    }

    impl Scorer for Dangerous {
        fn score(&mut self) -> Score {
            1.0
        }
    }

    #[test]
    fn a_dense_inner_is_only_probed_at_ids_in_scope() {
        let (inner, scope) = (set(11, 20_000, 700), set(12, 20_000, 50));
        let want: Vec<DocId> = inner.iter().copied().filter(|d| scope.binary_search(d).is_ok()).collect();
        let dangerous = Dangerous { docs: inner, at: 0, valid: true };
        let mut s = RestrictedScorer::new(Box::new(dangerous), scope.into(), Lead::Sparser);
        assert!(!s.inner_leads);
        let mut got = Vec::new();
        while s.doc() != TERMINATED {
            got.push(s.doc());
            s.advance();
        }
        assert_eq!(got, want);
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
