//! The side of a `NOT`: tantivy's `Exclude` asks the excluded scorer whether it holds each
//! candidate (`seek_danger`), starting with the first candidate, which may come before the
//! excluded scorer's own first document. A phrase scorer asserts that it is never asked
//! about a document before its current one (a debug assertion, tantivy issue #2811; a
//! release build answers correctly). [`Excluded`] answers such a question itself: a scorer
//! that has only been moved forward by `seek_danger` holds nothing before its current
//! document, so the answer is "no, look from there".

use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SeekDangerResult, SegmentReader, Term};

/// `inner`, to be used as an excluded clause.
pub(crate) fn excluded(inner: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(Excluded(inner))
}

#[derive(Debug)]
struct Excluded(Box<dyn Query>);

impl Clone for Excluded {
    fn clone(&self) -> Self {
        Excluded(self.0.box_clone())
    }
}

impl Query for Excluded {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(ExcludedWeight(self.0.weight(scoring)?)))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.0.query_terms(visitor);
    }
}

struct ExcludedWeight(Box<dyn Weight>);

impl Weight for ExcludedWeight {
    fn scorer(&self, segment: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(Box::new(ExcludedScorer(self.0.scorer(segment, boost)?)))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(segment, doc)
    }
}

struct ExcludedScorer(Box<dyn Scorer>);

impl DocSet for ExcludedScorer {
    fn advance(&mut self) -> DocId {
        self.0.advance()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if target <= self.0.doc() { self.0.doc() } else { self.0.seek(target) }
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        // `doc()` never passes a document the scorer holds (after a failed `seek_danger` it
        // may stand on one it does not hold, so equality is left to the scorer).
        let current = self.0.doc();
        if target < current { SeekDangerResult::SeekLowerBound(current) } else { self.0.seek_danger(target) }
    }

    fn doc(&self) -> DocId {
        self.0.doc()
    }

    fn size_hint(&self) -> u32 {
        self.0.size_hint()
    }

    fn cost(&self) -> u64 {
        self.0.cost()
    }
}

impl Scorer for ExcludedScorer {
    fn score(&mut self) -> Score {
        self.0.score()
    }
}
