//! The side of a `NOT`: tantivy's `Exclude` asks the excluded scorer whether it holds each
//! candidate (`seek_danger`), starting with the first candidate, which may come before the
//! excluded scorer's own first document. A phrase scorer asserts that it is never asked
//! about a document before its current one (a debug assertion, tantivy issue #2811; a
//! release build answers correctly), and a phrase inside an excluded `AND` is asked the
//! same by tantivy's intersection after an earlier question moved it ahead. [`Excluded`]
//! answers such questions itself from the bound its last answer gave, before which the
//! scorer holds nothing.

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
        let inner = self.0.scorer(segment, boost)?;
        // Positioned on its first document, the scorer is valid: nothing before it matches.
        let bound = inner.doc();
        Ok(Box::new(ExcludedScorer { inner, bound }))
    }

    fn explain(&self, segment: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(segment, doc)
    }
}

/// The excluded scorer and the first document it may still hold: its first document at
/// the start, then what its last `seek_danger` answered (the target when found, else the
/// lower bound). `doc()` is not asked: after a failed `seek_danger` it means nothing (for
/// an intersection it is its first part's position, while a phrase inside it may stand
/// further on). Nothing the scorer holds lies before the bound, and every part of it stands
/// at or before the bound, so a target from there on may be passed through.
struct ExcludedScorer {
    inner: Box<dyn Scorer>,
    bound: DocId,
}

impl DocSet for ExcludedScorer {
    fn advance(&mut self) -> DocId {
        self.bound = self.inner.advance();
        self.bound
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.bound = self.inner.seek(target.max(self.bound));
        self.bound
    }

    fn seek_danger(&mut self, target: DocId) -> SeekDangerResult {
        if target < self.bound {
            return SeekDangerResult::SeekLowerBound(self.bound);
        }
        let found = self.inner.seek_danger(target);
        self.bound = match found {
            SeekDangerResult::Found => target,
            SeekDangerResult::SeekLowerBound(bound) => bound,
        };
        found
    }

    fn doc(&self) -> DocId {
        self.inner.doc()
    }

    fn size_hint(&self) -> u32 {
        self.inner.size_hint()
    }

    fn cost(&self) -> u64 {
        self.inner.cost()
    }
}

impl Scorer for ExcludedScorer {
    fn score(&mut self) -> Score {
        self.inner.score()
    }
}
