//! # akte-index: German full-text search for Akte
//!
//! A tantivy index of Dokumente with German analysis (folding, Snowball stemming,
//! compound splitting), a query language for clerks, filters and facets, highlighted
//! snippets, and permissions applied inside the query.
//!
//! **Architecture invariant:** this crate knows nothing of the store, HTTP or wasmtime.
//! Its input is [`IndexDoc`], filled by the caller; its state is derived and can always be
//! rebuilt: [`Index::open`] wipes an index of another [`SCHEMA_VERSION`] and says so in
//! [`Index::status`], and [`Index::cursor`] returns the position the caller stored with
//! its last commit, so it can index incrementally from its journal.
//!
//! ```
//! use akte_index::{Access, Index, IndexDoc, SearchRequest};
//!
//! # fn main() -> Result<(), akte_index::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! let index = Index::open(dir.path())?;
//! let mut writer = index.writer()?;
//! writer.upsert(&IndexDoc {
//!     dokument_id: "d1".into(),
//!     akte_id: "a1".into(),
//!     aktenzeichen: "61.2-0815/2026".into(),
//!     title: "Genehmigungsbescheid".into(),
//!     text: "Die Windkraftanlagengenehmigung wird erteilt.".into(),
//!     readers: vec!["akte:a1".into()],
//!     ..IndexDoc::default()
//! })?;
//! writer.commit(Some("journal-cursor-42"))?;
//!
//! let found = index.search(&SearchRequest::new("Windkraft Genehmigung"), &Access::readers(["akte:a1"]))?;
//! assert_eq!(found.total, 1);
//! assert!(found.hits[0].snippet.contains("<mark>Windkraftanlagengenehmigung</mark>"));
//! assert_eq!(index.cursor()?.as_deref(), Some("journal-cursor-42"));
//! # Ok(()) }
//! ```
//!
//! Query syntax: words (all must match), `"phrases"`, `OR`/`ODER`, `AND`/`UND`,
//! `NOT`/`NICHT`/`-word` (also `-(a OR b)`, `-"a b"`), parentheses, `Windkraft*`, and the
//! fields `typ:` (also inflected: `typ:Bescheide`), `absender:`, `empfänger:`, `az:` (exact;
//! every Aktenzeichen beginning with it when none is exact; or a prefix
//! `az:61.2-08*`), `datum:` (`2026`, `2026-03`, `2026-01-01..2026-03-31`, also with spaces
//! around `..`, `01.02.2026..`), `status:`, `medium:` (a media type, a short name such as
//! `pdf`, `docx`, `eml`, or a top-level type such as `image`), `akte:` (id or Aktenzeichen), `titel:` (also `betreff:`); a space may stand
//! between a field and its value, as in a pasted header line (`Betreff: Einwendung`). Bounds are in [`limits`]. Symbols between words (`§`, `€`) are left out as in
//! the text; a query of nothing else, or with a word longer than
//! [`analysis::MAX_TOKEN_BYTES`] (which the index does not hold), is refused rather than
//! widened to everything. The Aktenplan node is a filter ([`Filters::aktenplan`]), not a
//! field of the query language.

#![deny(missing_docs)]

pub mod analysis;
mod dates;
mod doc;
mod error;
pub mod limits;
mod query;
mod schema;
mod scope;
mod search;
mod snippet;
mod writer;

pub use doc::{IndexDoc, PlanNode};
pub use error::{Error, QueryError};
pub use schema::SCHEMA_VERSION;
pub use search::{Access, Facets, Filters, Hit, SearchRequest, SearchResponse, Sort, Substitution, SubstitutionKind};
pub use writer::{Upserted, Writer, WriterOptions};

use schema::Fields;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tantivy::directory::MmapDirectory;
use tantivy::schema::Value;
use tantivy::{IndexReader, ReloadPolicy, TantivyDocument, Term};

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The marker file that says a directory holds an Akte index, and of which version.
const MARKER: &str = "akte-index.json";

#[derive(Serialize, Deserialize)]
struct Marker {
    schema_version: u32,
}

/// How [`Index::open`] found the directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenStatus {
    /// The directory was empty: a new, empty index.
    Created,
    /// An index of this schema version: ready, continue from [`Index::cursor`].
    Opened,
    /// An index of another schema version (`None`: unknown), or of this version with another
    /// schema, was wiped: index everything.
    Rebuilt {
        /// The version found.
        found: Option<u32>,
    },
    /// An index of this version that could not be read (a segment file missing, a damaged
    /// `meta.json`) was wiped: index everything.
    Damaged,
}

/// The search index of one node.
pub struct Index {
    inner: tantivy::Index,
    reader: IndexReader,
    fields: Fields,
    status: OpenStatus,
    scopes: scope::ScopeCache,
}

impl Index {
    /// Opens the index in `dir`, creating it when `dir` is empty or missing. An index of
    /// another schema version, or whose schema differs from this version's, is wiped and
    /// recreated ([`OpenStatus::Rebuilt`]); a directory holding anything else is refused
    /// ([`Error::NotAnIndex`]).
    pub fn open(dir: &Path) -> Result<Index> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let marker_path = dir.join(MARKER);
        let found = match std::fs::read(&marker_path) {
            Ok(bytes) => Some(serde_json::from_slice::<Marker>(&bytes).ok().map(|m| m.schema_version)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&marker_path)(e)),
        };
        let (schema, fields) = schema::build();
        let status = match found {
            Some(Some(SCHEMA_VERSION)) => match tantivy::Index::open_in_dir(dir) {
                Ok(inner) if inner.schema() == schema => {
                    match Index::ready(inner, fields.clone(), OpenStatus::Opened) {
                        Ok(index) => return Ok(index),
                        Err(e) => damaged(dir, e)?,
                    }
                }
                Ok(inner) => {
                    // Written by another build that called its schema by this version (a
                    // development build, say): derived state, so rebuilt like an old version.
                    drop(inner);
                    wipe(dir)?;
                    OpenStatus::Rebuilt { found: Some(SCHEMA_VERSION) }
                }
                Err(e) => damaged(dir, e.into())?,
            },
            Some(version) => {
                wipe(dir)?;
                OpenStatus::Rebuilt { found: version }
            }
            None if dir.join("meta.json").exists() => {
                wipe(dir)?;
                OpenStatus::Rebuilt { found: None }
            }
            None => {
                if std::fs::read_dir(dir).map_err(io(dir))?.next().is_some() {
                    return Err(Error::NotAnIndex { path: dir.to_path_buf() });
                }
                OpenStatus::Created
            }
        };
        let directory = MmapDirectory::open(dir).map_err(|e| Error::Tantivy(e.into()))?;
        let inner = tantivy::Index::create(directory, schema, tantivy::IndexSettings::default())?;
        let marker = serde_json::to_vec(&Marker { schema_version: SCHEMA_VERSION }).expect("serialisable");
        let tmp = dir.join(format!("{MARKER}.tmp"));
        std::fs::write(&tmp, marker).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &marker_path).map_err(io(&marker_path))?;
        Index::ready(inner, fields, status)
    }

    /// An index in memory (tests, benchmarks).
    pub fn in_memory() -> Result<Index> {
        let (schema, fields) = schema::build();
        Index::ready(tantivy::Index::create_in_ram(schema), fields, OpenStatus::Created)
    }

    fn ready(mut inner: tantivy::Index, fields: Fields, status: OpenStatus) -> Result<Index> {
        analysis::register(&inner);
        // The segments of one search are searched in parallel, one thread per core (at
        // most MAX_SEARCH_THREADS): a search then takes about as long as its largest share.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(limits::MAX_SEARCH_THREADS);
        if threads > 1 {
            inner.set_multithread_executor(threads)?;
        }
        let reader = inner.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Index { inner, reader, fields, status, scopes: scope::ScopeCache::default() })
    }

    /// How the index was found when it was opened.
    pub fn status(&self) -> OpenStatus {
        self.status
    }

    /// Whether the caller must index every document: no commit has recorded a cursor yet
    /// (a new or wiped index has none). Decided by the cursor alone, not by how the index
    /// was opened: a server keeps one index open, and once its first full rebuild has
    /// committed a cursor, later updates are incremental.
    pub fn needs_full_rebuild(&self) -> bool {
        self.cursor().ok().flatten().is_none()
    }

    /// A writer with the default memory budget (50 MB, one thread).
    pub fn writer(&self) -> Result<Writer<'_>> {
        Writer::new(self, WriterOptions::default())
    }

    /// A writer with explicit options.
    pub fn writer_with(&self, options: WriterOptions) -> Result<Writer<'_>> {
        Writer::new(self, options)
    }

    /// The cursor stored with the last commit.
    pub fn cursor(&self) -> Result<Option<String>> {
        Ok(self.inner.load_metas()?.payload)
    }

    /// Number of documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The `content_hash` indexed for a Dokument, or `None` when it is not indexed (lets the
    /// caller skip documents that did not change).
    pub fn indexed_hash(&self, dokument_id: &str) -> Result<Option<String>> {
        let searcher = self.reader.searcher();
        let query = tantivy::query::TermQuery::new(
            Term::from_field_text(self.fields.id, dokument_id),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let top = searcher.search(&query, &tantivy::collector::TopDocs::with_limit(1).order_by_score())?;
        let Some((_, addr)) = top.first() else { return Ok(None) };
        let doc: TantivyDocument = searcher.doc(*addr)?;
        Ok(doc.get_first(self.fields.hash).and_then(|v| v.as_str()).map(str::to_string))
    }

    /// Searches what `access` may read.
    pub fn search(&self, request: &SearchRequest, access: &Access) -> Result<SearchResponse> {
        search::search(&self.reader.searcher(), &self.fields, &self.scopes, request, access)
    }
}

/// Removes everything in an index directory (only called when a marker or tantivy's
/// `meta.json` proves it is one).
/// An index whose files are missing or damaged is derived state: wiped, to be rebuilt.
/// Any other failure (too many open files, no memory, a thread not started, files of
/// another user) is the error, and the index stays: it would open again next time. When
/// wiping fails, the reason the index could not be read is the error.
fn damaged(dir: &Path, error: Error) -> Result<OpenStatus> {
    if !is_damage(&error) {
        return Err(error);
    }
    wipe(dir).map_err(|_| error)?;
    Ok(OpenStatus::Damaged)
}

/// Whether an error opening an index says its files are missing or damaged.
fn is_damage(error: &Error) -> bool {
    use tantivy::{TantivyError as T, directory::error::OpenReadError as R};
    let damaged_io = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
        )
    };
    match error {
        Error::DataCorruption(_) => true,
        Error::Tantivy(t) => match t {
            T::DataCorruption(_) | T::IncompatibleIndex(_) => true,
            T::OpenReadError(R::FileDoesNotExist(_) | R::IncompatibleIndex(_)) => true,
            T::OpenReadError(R::IoError { io_error, .. }) => damaged_io(io_error),
            T::IoError(e) => damaged_io(e),
            _ => false,
        },
        _ => false,
    }
}

fn wipe(dir: &Path) -> Result<()> {
    let io = |path: PathBuf| move |source| Error::Io { path, source };
    for entry in std::fs::read_dir(dir).map_err(io(dir.to_path_buf()))? {
        let path = entry.map_err(io(dir.to_path_buf()))?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(io(path.clone()))?;
        } else {
            std::fs::remove_file(&path).map_err(io(path.clone()))?;
        }
    }
    Ok(())
}
