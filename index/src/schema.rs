//! The tantivy schema and its version. Changing a field, an analyzer or the lexicon in a
//! way that changes tokens means bumping [`SCHEMA_VERSION`]: an index of another version
//! is wiped on open and rebuilt by the caller.

use crate::analysis::{FOLDED, GERMAN, KEYWORD};
use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

/// Version of the schema, the analyzers and the lexicon. 2: the snippet source became a
/// bytes field (and segments were sorted by a `cluster` field, taken back again); 3: the
/// same schema without `cluster`, so that an index of either kind of version 2 is rebuilt;
/// 4: the server dates every Dokument (its own date, else the day it was stored), so that
/// an older index's undated Dokumente get a date; the context is stored for snippets
/// (`ctx_src`), and the recipient has a field of its own (`empfänger:`); 5: a capitalised
/// word of letters and digits (`WEA5`) also stands for its runs (`wea`, `5`).
pub const SCHEMA_VERSION: u32 = 5;

/// Handles of all fields.
#[derive(Clone, Debug)]
pub(crate) struct Fields {
    /// Dokument id (raw, stored): the upsert/delete key.
    pub id: Field,
    /// Akte id (raw, stored).
    pub akte: Field,
    /// Vorgang id (raw, stored).
    pub vorgang: Field,
    /// Reader tokens (raw).
    pub readers: Field,
    /// Version/content hash (raw, stored).
    pub hash: Field,
    /// Aktenzeichen (keyword, lower-cased, stored).
    pub az: Field,
    /// Keyword fields for filters (lower-cased).
    pub doctype_kw: Field,
    pub media_kw: Field,
    pub sender_kw: Field,
    pub status_kw: Field,
    /// Facet fields for counts and drill-down.
    pub f_doctype: Field,
    pub f_media: Field,
    pub f_status: Field,
    pub f_year: Field,
    pub f_plan: Field,
    /// German text: title and file name.
    pub head: Field,
    /// German text: extracted text.
    pub body: Field,
    /// German text: Akte, Vorgang, sender, recipient, type, fields, tags.
    pub ctx: Field,
    /// German text: sender only (for `absender:`).
    pub sender: Field,
    /// German text: recipient only (for `empfänger:`).
    pub recipient: Field,
    /// Folded unstemmed words of all text (exact bonus, fuzzy fallback).
    pub exact: Field,
    /// Stored only.
    pub title: Field,
    pub doctype: Field,
    /// The first [`crate::limits::SNIPPET_SOURCE_BYTES`] of the text, as UTF-8 bytes: a
    /// bytes field, so that fetching a hit without a snippet does not validate it.
    pub snippet_src: Field,
    /// The context as labelled lines (sender, recipient, Vorgang, Akte, type, tags, fields):
    /// the snippet of a hit that matched there and not in its text (stored only).
    pub ctx_src: Field,
    /// Document date as `YYYYMMDD` (indexed, fast, stored).
    pub date: Field,
    /// Whether the indexed text was cut at the bound.
    pub truncated: Field,
}

/// Builds the schema of [`SCHEMA_VERSION`].
pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let german = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(GERMAN).set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let folded = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(FOLDED).set_index_option(IndexRecordOption::WithFreqs),
    );
    let keyword = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(KEYWORD).set_index_option(IndexRecordOption::Basic),
    );
    let facet = FacetOptions::default();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        akte: b.add_text_field("akte", STRING | STORED),
        vorgang: b.add_text_field("vorgang", STRING | STORED),
        readers: b.add_text_field("readers", STRING),
        hash: b.add_text_field("hash", STRING | STORED),
        az: b.add_text_field("az", keyword.clone() | STORED),
        doctype_kw: b.add_text_field("doctype_kw", keyword.clone()),
        media_kw: b.add_text_field("media_kw", keyword.clone()),
        sender_kw: b.add_text_field("sender_kw", keyword.clone()),
        status_kw: b.add_text_field("status_kw", keyword),
        f_doctype: b.add_facet_field("f_doctype", facet.clone()),
        f_media: b.add_facet_field("f_media", facet.clone()),
        f_status: b.add_facet_field("f_status", facet.clone()),
        f_year: b.add_facet_field("f_year", facet.clone()),
        f_plan: b.add_facet_field("f_plan", facet),
        head: b.add_text_field("head", german.clone()),
        body: b.add_text_field("body", german.clone()),
        ctx: b.add_text_field("ctx", german.clone()),
        sender: b.add_text_field("sender", german.clone()),
        recipient: b.add_text_field("recipient", german),
        exact: b.add_text_field("exact", folded),
        title: b.add_text_field("title", STORED),
        doctype: b.add_text_field("doctype", STORED),
        snippet_src: b.add_bytes_field("snippet_src", STORED),
        ctx_src: b.add_bytes_field("ctx_src", STORED),
        date: b.add_i64_field("date", INDEXED | FAST | STORED),
        truncated: b.add_bool_field("truncated", STORED),
    };
    (b.build(), fields)
}
