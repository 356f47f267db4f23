//! Every bound the index enforces, in one place.

/// Extracted text beyond this many bytes is not indexed; the document is marked truncated.
pub const MAX_INDEXED_TEXT_BYTES: usize = 4 << 20;
/// Snippets are taken from the first this many bytes of the text (stored in the index).
pub const SNIPPET_SOURCE_BYTES: usize = 256 << 10;
/// Longest query string.
pub const MAX_QUERY_BYTES: usize = 8 << 10;
/// Most words, phrase words and field values in one query.
pub const MAX_QUERY_TERMS: usize = 64;
/// Deepest nesting of parentheses.
pub const MAX_QUERY_DEPTH: usize = 8;
/// Letters a wildcard needs before its `*`.
pub const MIN_WILDCARD_PREFIX: usize = 3;
/// Most index terms a `word*` may expand to.
pub const MAX_WILDCARD_TERMS: usize = 1_000;
/// Most words of one query that get the fuzzy fallback (a word nothing readable has is
/// matched with typos allowed): each builds a Levenshtein automaton per field, megabytes
/// for a long word, so a query of many unknown words is bounded in memory.
pub const MAX_FUZZY_WORDS: usize = 4;
/// Most Aktenzeichen an `az:…*` may expand to.
pub const MAX_AZ_PREFIX_TERMS: usize = 10_000;
/// Largest page.
pub const MAX_LIMIT: usize = 100;
/// Deepest offset of a page.
pub const MAX_OFFSET: usize = 10_000;
/// Default memory budget of the index writer.
pub const DEFAULT_WRITER_HEAP_BYTES: usize = 50_000_000;
/// Snippet length in characters (about).
pub const SNIPPET_CHARS: usize = 220;
/// Most threads one search uses.
pub const MAX_SEARCH_THREADS: usize = 4;
