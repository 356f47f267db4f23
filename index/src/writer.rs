//! Writing: upsert and delete by Dokument id, commit with the caller's cursor.

use crate::doc::IndexDoc;
use crate::limits::DEFAULT_WRITER_HEAP_BYTES;
use crate::{Index, Result};
use tantivy::index::SegmentId;
use tantivy::{IndexWriter, TantivyDocument, Term};

/// Memory and threads of a [`Writer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterOptions {
    /// Memory budget of the indexing buffers, shared by all threads (at least 15 MB per
    /// thread); segments are flushed when it fills.
    pub heap_bytes: usize,
    /// Indexing threads.
    pub threads: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { heap_bytes: DEFAULT_WRITER_HEAP_BYTES, threads: 1 }
    }
}

/// What [`Writer::upsert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upserted {
    /// The text was longer than [`crate::limits::MAX_INDEXED_TEXT_BYTES`]; only its start
    /// is searchable.
    pub truncated: bool,
}

/// Adds, replaces and deletes documents; nothing is visible to searches until
/// [`Writer::commit`]. Only one writer per index at a time (tantivy holds a lock file).
pub struct Writer<'a> {
    index: &'a Index,
    writer: IndexWriter<TantivyDocument>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(index: &'a Index, options: WriterOptions) -> Result<Writer<'a>> {
        let writer = index.inner.writer_with_num_threads(options.threads.max(1), options.heap_bytes)?;
        Ok(Writer { index, writer })
    }

    /// Adds the document, replacing any document with the same `dokument_id`.
    pub fn upsert(&mut self, doc: &IndexDoc) -> Result<Upserted> {
        let (d, truncated) = doc.to_document(&self.index.fields);
        self.writer.delete_term(Term::from_field_text(self.index.fields.id, &doc.dokument_id));
        self.writer.add_document(d)?;
        Ok(Upserted { truncated })
    }

    /// Adds a document the index does not hold: after [`Writer::delete_all`] or into a new
    /// index, each `dokument_id` once. Unlike [`Writer::upsert`] it queues no deletion, and
    /// tantivy keeps every queued deletion (about 1 KB each) until the next commit, so a
    /// rebuild of a million documents would hold a gigabyte for deletions that find nothing.
    pub fn insert(&mut self, doc: &IndexDoc) -> Result<Upserted> {
        let (d, truncated) = doc.to_document(&self.index.fields);
        self.writer.add_document(d)?;
        Ok(Upserted { truncated })
    }

    /// Removes the document with this id (nothing happens when there is none).
    pub fn delete(&mut self, dokument_id: &str) {
        self.writer.delete_term(Term::from_field_text(self.index.fields.id, dokument_id));
    }

    /// Removes every document (for a rebuild from scratch).
    pub fn delete_all(&mut self) -> Result<()> {
        self.writer.delete_all_documents()?;
        Ok(())
    }

    /// Makes all changes durable and visible, and stores `cursor` (the caller's "indexed
    /// up to" position, e.g. its journal heads) with them; [`Index::cursor`] returns it.
    /// `None` keeps the cursor of the previous commit.
    pub fn commit(&mut self, cursor: Option<&str>) -> Result<()> {
        let cursor = match cursor {
            Some(c) => Some(c.to_string()),
            None => self.index.cursor()?,
        };
        let mut prepared = self.writer.prepare_commit()?;
        if let Some(c) = &cursor {
            prepared.set_payload(c);
        }
        prepared.commit()?;
        self.index.reader.reload()?;
        Ok(())
    }

    /// The segments that hold any of `dokument_ids` (as of the last commit). A deletion only
    /// marks a document deleted; [`Writer::purge`] rewrites these segments without it.
    pub fn segments_holding(&self, dokument_ids: &[String]) -> Result<Vec<SegmentId>> {
        let searcher = self.index.reader.searcher();
        let mut out = Vec::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(self.index.fields.id)?;
            for id in dokument_ids {
                if inverted
                    .doc_freq(&Term::from_field_text(self.index.fields.id, id))
                    .map_err(|e| crate::Error::Tantivy(e.into()))?
                    > 0
                {
                    out.push(segment.segment_id());
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Rewrites `segments` (after a commit) without their deleted documents and removes the
    /// old files, so that the text of an erased Dokument is gone from the disk, not only
    /// from the answers. A merge, as costly as the segments are large.
    pub fn purge(&mut self, segments: &[SegmentId]) -> Result<()> {
        let live: std::collections::HashSet<SegmentId> =
            self.index.inner.searchable_segment_ids()?.into_iter().collect();
        let ids: Vec<SegmentId> = segments.iter().copied().filter(|s| live.contains(s)).collect();
        if !ids.is_empty() {
            self.writer.merge(&ids).wait()?;
        }
        self.writer.garbage_collect_files().wait()?;
        self.index.reader.reload()?;
        Ok(())
    }

    /// Drops the changes since the last commit.
    pub fn rollback(&mut self) -> Result<()> {
        self.writer.rollback()?;
        Ok(())
    }
}
