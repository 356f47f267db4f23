//! Search: the request (query string, filters, sort, page), the reader's [`Access`], and
//! the response in the shape of the REST contract
//! `{"total", "hits": [{"dokument_id", "akte_id", "title", "snippet", "score"}], "facets"}`.
//!
//! **Invariant:** the access filter is a required clause of the one query that counts,
//! ranks, facets and snippets, so nothing a reader may not see reaches any of them.

use crate::error::{Error, QueryError};
use crate::limits::{MAX_LIMIT, MAX_OFFSET};
use crate::query::build::{Builder, Highlight};
use crate::query::parse;
use crate::schema::Fields;
use crate::scope::{Scope, ScopeCache};
use crate::{Result, snippet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use tantivy::collector::{Count, FacetCollector, FacetCounts, TopDocs};
use tantivy::query::{AllQuery, EnableScoring, Query, RangeQuery, TermQuery, TermSetQuery};
use tantivy::schema::{Facet, IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Order, Searcher, TantivyDocument, Term};

/// Who is searching: every document (administrators, the CLI) or only documents carrying
/// one of the reader tokens (the server decides the tokens of a user).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Every document.
    All,
    /// Documents with at least one of these reader tokens.
    Readers(BTreeSet<String>),
}

impl Access {
    /// Every document.
    pub fn all() -> Access {
        Access::All
    }

    /// Documents carrying at least one of `tokens`; no tokens means no documents.
    pub fn readers<I, S>(tokens: I) -> Access
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Access::Readers(tokens.into_iter().map(Into::into).collect())
    }

    fn tokens(&self) -> Option<&BTreeSet<String>> {
        match self {
            Access::All => None,
            Access::Readers(t) => Some(t),
        }
    }
}

/// Order of hits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best match first (newest first when nothing in the query scores: no query, or only
    /// filters such as `typ:` and `datum:`).
    #[default]
    Relevance,
    /// Newest document date first.
    DateDesc,
    /// Oldest document date first.
    DateAsc,
}

/// Structured filters (from facets and form fields); all must hold, values of one list
/// are alternatives.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Filters {
    /// Akte ids (search inside one Akte: one id).
    pub akte: Vec<String>,
    /// A Vorgang id.
    pub vorgang: Option<String>,
    /// An Aktenplan node as a path of codes, `6/61/61.2`; matches it and everything below.
    pub aktenplan: Option<String>,
    /// Document types (case-insensitive).
    pub document_type: Vec<String>,
    /// Media types (case-insensitive).
    pub media_type: Vec<String>,
    /// Senders, the whole value (case-insensitive).
    pub sender: Vec<String>,
    /// `offen` or `zda`.
    pub status: Option<String>,
    /// Document date from (inclusive).
    #[serde(with = "crate::dates::option")]
    pub date_from: Option<time::Date>,
    /// Document date to (inclusive).
    #[serde(with = "crate::dates::option")]
    pub date_to: Option<time::Date>,
}

/// A search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchRequest {
    /// The query string (see the crate docs for its syntax); empty lists by filters only.
    pub query: String,
    /// Filters.
    pub filters: Filters,
    /// Order.
    pub sort: Sort,
    /// Hits to skip, at most [`MAX_OFFSET`].
    pub offset: usize,
    /// Hits to return, at most [`MAX_LIMIT`] (larger values are capped).
    pub limit: usize,
    /// Whether to count facets.
    pub facets: bool,
    /// Whether to make snippets.
    pub snippets: bool,
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            query: String::new(),
            filters: Filters::default(),
            sort: Sort::Relevance,
            offset: 0,
            limit: 20,
            facets: true,
            snippets: true,
        }
    }
}

impl SearchRequest {
    /// A request for `query` with the defaults (first 20 hits, facets, snippets).
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest { query: query.into(), ..SearchRequest::default() }
    }
}

/// One hit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Dokument id.
    pub dokument_id: String,
    /// Akte id.
    pub akte_id: String,
    /// Title.
    pub title: String,
    /// HTML: escaped text with `<mark>` around matches.
    pub snippet: String,
    /// Relevance score (BM25 sum).
    pub score: f32,
    /// Aktenzeichen of the Akte.
    pub aktenzeichen: String,
    /// Vorgang id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vorgang_id: Option<String>,
    /// Document type.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub document_type: Option<String>,
    /// Document date `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub date: Option<String>,
    /// Whether only the first part of a very long text was indexed.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub truncated: bool,
}

/// Counts per facet value, over all readable matches (not just the page).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    /// Per document type.
    pub document_type: BTreeMap<String, u64>,
    /// Per media type.
    pub media_type: BTreeMap<String, u64>,
    /// Per Aktenplan node one level below the `aktenplan` filter (or the top level), by
    /// code path `6/61`.
    pub aktenplan: BTreeMap<String, u64>,
    /// Per status.
    pub status: BTreeMap<String, u64>,
    /// Per year of the document date.
    pub year: BTreeMap<String, u64>,
}

/// A word of the query that no readable document has, and what was searched instead, so
/// that a reader can tell approximate hits from hits of her word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Substitution {
    /// The word as analysed (lower case, umlauts folded).
    pub word: String,
    /// What was searched instead.
    pub kind: SubstitutionKind,
    /// The words searched instead.
    pub searched: Vec<String>,
}

/// What a word that no readable document has was searched as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubstitutionKind {
    /// Words within one or two typos of it (in `searched`).
    Similar,
    /// The compound's parts, all of them (in `searched`).
    Parts,
    /// Nothing: the word matches nothing.
    None,
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// Number of readable matches.
    pub total: u64,
    /// The requested page.
    pub hits: Vec<Hit>,
    /// Facet counts (empty when not requested).
    pub facets: Facets,
    /// Words no readable document has, and what was searched instead (omitted when none).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub substitutions: Vec<Substitution>,
}

/// Documents with one of `values` in the keyword `field`. One value is a plain term query:
/// a term set builds a small FST for every search, which costs more than the lookup.
fn keyword_set(field: tantivy::schema::Field, values: &[String]) -> Box<dyn Query> {
    term_or_set(values.iter().map(|v| Term::from_field_text(field, &v.to_lowercase())).collect())
}

/// Documents with one of `terms`: one term is a plain term query (see [`keyword_set`]).
fn term_or_set(terms: Vec<Term>) -> Box<dyn Query> {
    match <[Term; 1]>::try_from(terms) {
        Ok([one]) => Box::new(TermQuery::new(one, IndexRecordOption::Basic)),
        Err(terms) => Box::new(TermSetQuery::new(terms)),
    }
}

fn plan_facet(path: &str) -> Facet {
    Facet::from_path(path.split('/').map(str::trim).filter(|s| !s.is_empty()))
}

fn filter_clauses(searcher: &Searcher, f: &Fields, filters: &Filters) -> Result<Vec<Box<dyn Query>>> {
    let mut out = Vec::new();
    let raw = |field, values: &[String]| -> Box<dyn Query> {
        Box::new(TermSetQuery::new(values.iter().map(|v| Term::from_field_text(field, v))))
    };
    if !filters.akte.is_empty() {
        out.push(raw(f.akte, &filters.akte));
    }
    if let Some(v) = &filters.vorgang {
        out.push(raw(f.vorgang, std::slice::from_ref(v)));
    }
    if let Some(p) = filters.aktenplan.as_deref().filter(|p| !p.trim_matches('/').is_empty()) {
        out.push(Box::new(TermQuery::new(Term::from_facet(f.f_plan, &plan_facet(p)), IndexRecordOption::Basic)));
    }
    // A type as typed matches its recorded inflections, as `typ:` in the query does.
    if !filters.document_type.is_empty() {
        let mut terms = Vec::new();
        for value in &filters.document_type {
            terms.extend(crate::query::build::doctype_terms(searcher, f.doctype_kw, value)?);
        }
        out.push(term_or_set(terms));
    }
    for (field, values) in [(f.media_kw, &filters.media_type), (f.sender_kw, &filters.sender)] {
        if !values.is_empty() {
            out.push(keyword_set(field, values));
        }
    }
    if let Some(s) = &filters.status {
        out.push(keyword_set(f.status_kw, std::slice::from_ref(s)));
    }
    if filters.date_from.is_some() || filters.date_to.is_some() {
        let bound = |d: Option<time::Date>| match d {
            Some(d) => Bound::Included(Term::from_field_i64(f.date, crate::doc::date_key(d))),
            None => Bound::Unbounded,
        };
        out.push(Box::new(RangeQuery::new(bound(filters.date_from), bound(filters.date_to))));
    }
    Ok(out)
}

/// Whether a query has words that score (BM25): words, phrases, and the fields searched as
/// text (`titel:`, `absender:`, `empfänger:`). The other fields, and negations, only filter.
fn scores(node: &parse::Node) -> bool {
    use parse::{FieldName, Node};
    match node {
        Node::Word(_) | Node::Phrase(_) => true,
        Node::Field { name, .. } => matches!(name, FieldName::Titel | FieldName::Absender | FieldName::Empfaenger),
        Node::Not(_) => false,
        Node::And(items) | Node::Or(items) => items.iter().any(scores),
    }
}

/// Runs a search; see [`crate::Index::search`].
pub(crate) fn search(
    searcher: &Searcher,
    f: &Fields,
    scopes: &ScopeCache,
    req: &SearchRequest,
    access: &Access,
) -> Result<SearchResponse> {
    if req.offset > MAX_OFFSET {
        return Err(Error::InvalidRequest(format!("offset {} is past the deepest page ({MAX_OFFSET})", req.offset)));
    }
    let limit = req.limit.min(MAX_LIMIT);
    let scope =
        Scope::evaluate(searcher, scopes, f.readers, access.tokens(), &filter_clauses(searcher, f, &req.filters)?)?;
    let mut builder = Builder {
        searcher,
        fields: f,
        scope: scope.clone(),
        highlight: Highlight::default(),
        substitutions: Vec::new(),
    };
    let parsed = parse::parse(&req.query)?;
    let user = match &parsed {
        // Words that analyse to nothing are left out of a query; a query of nothing else
        // must not turn into "everything".
        Some(node) => Some(builder.node(node, false)?.ok_or(QueryError::NothingToSearch)?),
        None => None,
    };
    // Without words that score (no query, or only filters such as typ:Stellungnahme) every
    // hit would score alike and come in filing order: newest first instead.
    let ranks = parsed.as_ref().is_some_and(scores);
    let sort = if !ranks && req.sort == Sort::Relevance { Sort::DateDesc } else { req.sort };
    // The scope restricts the whole query as well as each leaf: whatever a leaf does,
    // nothing outside the scope is counted, ranked, faceted or snippeted. The builder
    // restricts every leaf that can lead, so the whole query only needs checking (`guard`).
    let query = match (&scope, user) {
        (Some(scope), Some(user)) => scope.guard(user),
        (Some(scope), None) => scope.restrict(Box::new(AllQuery)),
        (None, Some(user)) => user,
        (None, None) => Box::new(AllQuery),
    };

    let facets = req.facets.then(|| facet_collectors(&req.filters));
    let top = TopDocs::with_limit(limit.max(1)).and_offset(req.offset);
    let (total, page, facet_counts) = match sort {
        Sort::Relevance => {
            let (total, hits, fc) = searcher.search(query.as_ref(), &(Count, top.order_by_score(), facets))?;
            (total, hits.into_iter().map(|(s, a)| (a, Some(s))).collect::<Vec<_>>(), fc)
        }
        Sort::DateDesc | Sort::DateAsc => {
            let order = if sort == Sort::DateDesc { Order::Desc } else { Order::Asc };
            let (total, hits, fc) =
                searcher.search(query.as_ref(), &(Count, top.order_by_fast_field::<i64>("date", order), facets))?;
            (total, hits.into_iter().map(|(_, a)| (a, None)).collect(), fc)
        }
    };
    let page: Vec<(DocAddress, Option<f32>)> = page.into_iter().take(limit).collect();
    let scores = scores_of(searcher, query.as_ref(), &page)?;
    let page: Vec<(DocAddress, f32)> = page.iter().map(|(addr, _)| *addr).zip(scores).collect();
    // The hits' stored fields and snippets are made on the search threads too, a share of
    // the page each: a snippet analyses its text up to the query's terms, tens of
    // microseconds for a letter, which for twenty hits was as much as the search itself.
    let hit = |(addr, score): (DocAddress, f32)| -> tantivy::Result<Hit> {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let text = |field| doc.get_first(field).and_then(|v| v.as_str()).map(str::to_string);
        let snippet = if req.snippets {
            let source = doc.get_first(f.snippet_src).and_then(|v| v.as_bytes()).unwrap_or_default();
            let from_text = snippet::snippet(&String::from_utf8_lossy(source), &builder.highlight);
            // A hit that matched in its context (sender, Vorgang, Akte …), not its text,
            // shows the context line that says why.
            match doc.get_first(f.ctx_src).and_then(|v| v.as_bytes()) {
                Some(ctx) if !from_text.contains("<mark>") => {
                    let from_ctx = snippet::snippet(&String::from_utf8_lossy(ctx), &builder.highlight);
                    if from_ctx.contains("<mark>") { from_ctx } else { from_text }
                }
                _ => from_text,
            }
        } else {
            String::new()
        };
        Ok(Hit {
            dokument_id: text(f.id).unwrap_or_default(),
            akte_id: text(f.akte).unwrap_or_default(),
            title: text(f.title).unwrap_or_default(),
            snippet,
            score,
            aktenzeichen: text(f.az).unwrap_or_default(),
            vorgang_id: text(f.vorgang),
            document_type: text(f.doctype),
            date: doc.get_first(f.date).and_then(|v| v.as_i64()).map(date_string),
            truncated: doc.get_first(f.truncated).and_then(|v| v.as_bool()).unwrap_or(false),
        })
    };
    let executor = searcher.index().search_executor();
    let threads = match executor {
        tantivy::Executor::SingleThread => 1,
        tantivy::Executor::ThreadPool(pool) => pool.current_num_threads().max(1),
    };
    let hits: Vec<Hit> = if threads == 1 || page.len() < 2 {
        page.into_iter().map(hit).collect::<tantivy::Result<_>>()?
    } else {
        let share = page.len().div_ceil(threads);
        let parts: Vec<Vec<Hit>> =
            executor.map(|part: &[(DocAddress, f32)]| part.iter().copied().map(hit).collect(), page.chunks(share))?;
        parts.into_iter().flatten().collect()
    };
    let facets = facet_counts.map(|c| facets_from(c, &req.filters)).unwrap_or_default();
    Ok(SearchResponse { total: total as u64, hits, facets, substitutions: builder.substitutions })
}

type FacetCollectors = ((FacetCollector, FacetCollector, FacetCollector), (FacetCollector, FacetCollector));
type FacetFruits = ((FacetCounts, FacetCounts, FacetCounts), (FacetCounts, FacetCounts));

fn facet_collectors(filters: &Filters) -> FacetCollectors {
    let at = |field: &str, facet: Facet| {
        let mut c = FacetCollector::for_field(field);
        c.add_facet(facet);
        c
    };
    let plan = filters.aktenplan.as_deref().map_or_else(Facet::root, plan_facet);
    (
        (at("f_doctype", Facet::root()), at("f_media", Facet::root()), at("f_status", Facet::root())),
        (at("f_year", Facet::root()), at("f_plan", plan)),
    )
}

fn facets_from(((doctype, media, status), (year, plan)): FacetFruits, filters: &Filters) -> Facets {
    let flat = |c: &FacetCounts| -> BTreeMap<String, u64> {
        c.get(Facet::root()).map(|(f, n)| (f.to_path().last().copied().unwrap_or_default().to_string(), n)).collect()
    };
    let plan_root = filters.aktenplan.as_deref().map_or_else(Facet::root, plan_facet);
    Facets {
        document_type: flat(&doctype),
        media_type: flat(&media),
        status: flat(&status),
        year: flat(&year),
        aktenplan: plan.get(plan_root).map(|(f, n)| (f.to_path().join("/"), n)).collect(),
    }
}

/// Relevance scores of the page's documents (also when sorted by date).
fn scores_of(searcher: &Searcher, query: &dyn Query, page: &[(DocAddress, Option<f32>)]) -> Result<Vec<f32>> {
    if page.iter().all(|(_, s)| s.is_some()) {
        return Ok(page.iter().map(|(_, s)| s.unwrap_or_default()).collect());
    }
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let mut out = Vec::with_capacity(page.len());
    for (addr, _) in page {
        let segment = searcher.segment_reader(addr.segment_ord);
        let mut scorer = weight.scorer(segment, 1.0)?;
        out.push(if scorer.seek(addr.doc_id) == addr.doc_id { scorer.score() } else { 0.0 });
    }
    Ok(out)
}

fn date_string(key: i64) -> String {
    format!("{:04}-{:02}-{:02}", key / 10_000, key / 100 % 100, key % 100)
}
