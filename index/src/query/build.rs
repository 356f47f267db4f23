//! Turns a parsed query into a tantivy query. Per word: the stem in title (×3), text and
//! context (×0.5) plus the unstemmed folded word (×0.5, rewards exact forms); when none
//! of these matches a readable document, a compound's parts (all of them, each of four
//! letters or more: the word list's split, else two parts the index has) take their place,
//! and failing that the readable words within a few typos (distance 1 from 5 letters, 2
//! from 8), each searched as if typed, so typos find their word, ranked, without diluting
//! good queries. Each such substitution is reported with the answer. Letters and digits
//! run together (`WEA5`) also match as written apart.

use super::parse::{FieldName, Node};
use crate::Result;
use crate::analysis::{self, QueryToken};
use crate::error::QueryError;
use crate::limits::{MAX_AZ_PREFIX_TERMS, MAX_FUZZY_WORDS, MAX_WILDCARD_TERMS, MIN_WILDCARD_PREFIX};
use crate::query::exclusion::excluded;
use crate::schema::Fields;
use crate::scope::Scope;
use std::collections::{BTreeMap, HashSet};
use std::ops::Bound;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EnableScoring, FuzzyTermQuery, Occur, PhraseQuery, Query, RangeQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Searcher, TERMINATED, Term};

const BOOST_HEAD: f32 = 3.0;
const BOOST_BODY: f32 = 1.0;
const BOOST_CTX: f32 = 0.5;
const BOOST_EXACT: f32 = 0.5;
const BOOST_FUZZY: f32 = 0.5;
/// A document dated the day a query names (a constant score): above one whose text cites
/// the day, whose rare number tokens score about 5 by BM25.
const BOOST_DATED: f32 = 8.0;
/// What a word stands for or abbreviates (`WEA` for `Windenergieanlage`) counts less than
/// the word as typed.
const BOOST_ABBREV: f32 = 0.7;
/// How many of a wildcard's words (the most frequent) score by BM25; all of them match.
const MAX_SCORED_WILDCARD_TERMS: usize = 64;

/// What to mark in snippets.
#[derive(Clone, Debug, Default)]
pub(crate) struct Highlight {
    /// Stems of query words and phrase words.
    pub stems: HashSet<String>,
    /// Stems of the words searched on their own (not only inside a phrase).
    pub single: HashSet<String>,
    /// Phrases (quoted words, and what one word of the query splits into, `17/3` or
    /// `12.03.2026`), as stems: a stem that only phrases have is marked only where the
    /// phrase stands, not at every `3`.
    pub phrases: Vec<Vec<String>>,
    /// Folded prefixes of wildcard words.
    pub prefixes: Vec<String>,
    /// Words matched fuzzily: folded, stemmed, and the distance (the query matches the
    /// folded form in the exact field and the stem in the German fields).
    pub fuzzy: Vec<(String, String, u8)>,
}

/// Builds queries against one searcher.
pub(crate) struct Builder<'a> {
    pub searcher: &'a Searcher,
    pub fields: &'a Fields,
    /// The search's scope (see [`crate::scope`]), joined to every leaf; `None`: everything.
    pub scope: Option<Scope>,
    pub highlight: Highlight,
    /// Words no readable document has, and what was searched instead.
    pub substitutions: Vec<crate::search::Substitution>,
}

/// How many words of the term dictionary one wildcard or one typo may visit, readable or
/// not: the bound on the work a query can cause.
const MAX_TERMS_VISITED: usize = 50_000;

/// How many similar words a word that matches nothing is searched as.
const MAX_CORRECTIONS: usize = 6;
/// How many words of the index a typo's automaton may visit before the best are chosen.
const MAX_CORRECTION_CANDIDATES: usize = 2_000;

type Q = Box<dyn Query>;

fn boost(q: Q, b: f32) -> Q {
    if (b - 1.0).abs() < f32::EPSILON { q } else { Box::new(BoostQuery::new(q, b)) }
}

fn any_of(qs: Vec<Q>) -> Q {
    Box::new(BooleanQuery::new(qs.into_iter().map(|q| (Occur::Should, q)).collect()))
}

fn all_of(qs: Vec<Q>) -> Q {
    Box::new(BooleanQuery::new(qs.into_iter().map(|q| (Occur::Must, q)).collect()))
}

fn term(field: Field, text: &str) -> Q {
    Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::WithFreqs))
}

impl Builder<'_> {
    /// `q` restricted to the scope, so that it is only sought at documents in scope.
    fn scoped(&self, q: Q) -> Q {
        match &self.scope {
            Some(scope) => scope.restrict(q),
            None => q,
        }
    }

    /// Every document in scope.
    fn everything(&self) -> Q {
        self.scope.as_ref().map_or_else(|| Box::new(AllQuery) as Q, Scope::query)
    }

    /// The query for a node; `None` when it analyses to nothing (e.g. only punctuation).
    pub fn node(&mut self, node: &Node, negated: bool) -> Result<Option<Q>> {
        Ok(match node {
            Node::And(items) => {
                let mut clauses = Vec::new();
                let mut positive = false;
                for item in items {
                    match item {
                        Node::Not(inner) => {
                            if let Some(q) = self.node(inner, !negated)? {
                                clauses.push((Occur::MustNot, excluded(q)));
                            }
                        }
                        other => {
                            if let Some(q) = self.node(other, negated)? {
                                clauses.push((Occur::Must, q));
                                positive = true;
                            }
                        }
                    }
                }
                if clauses.is_empty() {
                    return Ok(None);
                }
                if !positive {
                    clauses.push((Occur::Must, self.everything()));
                }
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            Node::Or(items) => {
                let mut alternatives = Vec::new();
                for item in items {
                    alternatives.extend(self.node(item, negated)?);
                }
                (!alternatives.is_empty()).then(|| any_of(alternatives))
            }
            Node::Not(inner) => self.node(inner, !negated)?.map(|q| -> Q {
                Box::new(BooleanQuery::new(vec![(Occur::Must, self.everything()), (Occur::MustNot, excluded(q))]))
            }),
            Node::Word(w) => self.word(w, negated)?,
            Node::Phrase(p) => self.phrase(
                p,
                &[(self.fields.head, BOOST_HEAD), (self.fields.body, BOOST_BODY), (self.fields.ctx, BOOST_CTX)],
                negated,
            )?,
            Node::Field { name, value, quoted } => self.field(*name, value, *quoted, negated)?,
        })
    }

    fn word(&mut self, word: &str, negated: bool) -> Result<Option<Q>> {
        if word.contains(['*', '?']) {
            return self.wildcard(word, negated).map(Some);
        }
        if let Some(long) = analysis::too_long_word(word) {
            return Err(QueryError::WordTooLong(long.to_string()).into());
        }
        // A day as a clerk cites a document (`Bescheid vom 18.09.2026`): also the documents
        // dated that day, above those that only mention it.
        if !negated
            && is_full_date(word)
            && let Ok((lo, hi)) = parse_date_range(word)
            && lo == hi
        {
            let f = self.fields;
            let text = self.text_word(word, negated)?;
            let dated: Q = Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_i64(f.date, lo)),
                Bound::Included(Term::from_field_i64(f.date, hi)),
            ));
            let dated = boost(self.scoped(dated), BOOST_DATED);
            return Ok(Some(match text {
                Some(text) => any_of(vec![text, dated]),
                None => dated,
            }));
        }
        self.text_word(word, negated)
    }

    /// A word searched in the texts (see [`word`](Self::word)).
    fn text_word(&mut self, word: &str, negated: bool) -> Result<Option<Q>> {
        let (tokens, joined) = analysis::query_tokens(word);
        match tokens.len() {
            0 => Ok(None),
            1 => {
                // A word with abbreviations (`WEA`) is searched with them, and not replaced
                // by a similar word or its parts when no readable text has it as typed.
                let others = analysis::abbrev::others(&tokens[0]);
                let typed = match others.is_empty() {
                    true => self.single(&tokens[0], negated)?,
                    false => self.stems(&tokens[0], negated),
                };
                let mut any = vec![typed];
                // `WEA5` also finds `WEA 5`.
                let apart = analysis::letters_and_digits(&tokens[0].folded);
                let f = self.fields;
                let fields = [(f.head, BOOST_HEAD), (f.body, BOOST_BODY), (f.ctx, BOOST_CTX)];
                if !apart.is_empty() {
                    any.push(self.phrase_of(&apart, &fields, negated));
                }
                // `WEA` also finds `Windenergieanlage`, and the other way round.
                for form in others {
                    let q = match (&form.joined, form.tokens.as_slice()) {
                        (None, [one]) => self.stems(one, negated),
                        (joined, words) => {
                            let phrase = self.phrase_of(words, &fields, negated);
                            match joined {
                                Some(j) => any_of(vec![phrase, self.stems(j, negated)]),
                                None => phrase,
                            }
                        }
                    };
                    any.push(boost(q, BOOST_ABBREV));
                }
                Ok(Some(if any.len() == 1 { any.pop().expect("one") } else { any_of(any) }))
            }
            _ => {
                let f = self.fields;
                let phrase =
                    self.phrase_of(&tokens, &[(f.head, BOOST_HEAD), (f.body, BOOST_BODY), (f.ctx, BOOST_CTX)], negated);
                Ok(Some(match joined {
                    Some(j) => any_of(vec![phrase, self.stems(&j, negated)]),
                    None => phrase,
                }))
            }
        }
    }

    /// The stem in the German fields and the folded word in the exact field.
    fn stems(&mut self, t: &QueryToken, negated: bool) -> Q {
        let f = self.fields;
        if !negated {
            self.highlight.stems.insert(t.stem.clone());
            self.highlight.single.insert(t.stem.clone());
        }
        // The exact field holds the folded words of the same texts, cut into words by the
        // same tokenizer, so a document with the folded word also has its stem in one of
        // the German fields: the exact form only adds to the score of a match and need
        // not be sought as a match of its own (its postings are as long as the text's).
        let stems = any_of(vec![
            boost(self.scoped(term(f.head, &t.stem)), BOOST_HEAD),
            boost(self.scoped(term(f.body, &t.stem)), BOOST_BODY),
            boost(self.scoped(term(f.ctx, &t.stem)), BOOST_CTX),
        ]);
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, stems),
            // Not restricted: an optional clause beside a required one is only ever sought
            // at the required clause's documents, which are in scope.
            (Occur::Should, boost(term(f.exact, &t.folded), BOOST_EXACT)),
        ]))
    }

    /// One analysed word, with the fuzzy fallback.
    fn single(&mut self, t: &QueryToken, negated: bool) -> Result<Q> {
        let exact = self.stems(t, negated);
        let distance = match t.folded.chars().count() {
            n if n >= 8 => 2,
            n if n >= 5 => 1,
            _ => 0,
        };
        if distance == 0
            || negated
            || t.folded.bytes().any(|b| b.is_ascii_digit())
            || self.highlight.fuzzy.len() >= MAX_FUZZY_WORDS
        {
            return Ok(exact);
        }
        // `exact` is already restricted to the scope: any match is a readable one.
        if any_match(self.searcher, exact.as_ref())? {
            return Ok(exact);
        }
        // A compound no readable text has as a whole (`Schallgutachten`, where the texts say
        // `Schalltechnisches Gutachten`): the documents that have all its parts. The index
        // holds each part of the compounds it splits, so this also finds the compound's
        // other spellings (`Schall-Gutachten`) and longer compounds with the same parts.
        // Only parts of four letters or more: a typo often splits into a word and a short
        // one (`Windrat`: `wind`, `rat`), which the fuzzy fallback serves better.
        let mut splits = Vec::new();
        let parts = analysis::compound_parts(&t.folded);
        if parts.len() > 1 && parts.iter().all(|p| p.folded.len() >= 4) {
            splits.push(parts);
        }
        // The words of the index itself: `Rotmilanabschaltung` as `rotmilan` + `abschaltung`
        // where the word list splits off only `rot`.
        // (Only splits whose two stems the index has at all are asked of the scope.)
        splits.extend(vocabulary_splits(&t.folded).into_iter().filter(|p| p.iter().all(|t| self.has_stem(&t.stem))));
        for parts in splits {
            let marked = (self.highlight.stems.clone(), self.highlight.single.clone());
            let all_parts = all_of(parts.iter().map(|p| self.stems(p, negated)).collect());
            if any_match(self.searcher, all_parts.as_ref())? {
                self.substitute(
                    &t.folded,
                    crate::search::SubstitutionKind::Parts,
                    parts.iter().map(|p| p.folded.clone()).collect(),
                );
                return Ok(all_parts);
            }
            (self.highlight.stems, self.highlight.single) = marked;
        }
        // Similar words (a typo), each searched as if typed, so that hits rank by BM25 as
        // for the word meant; the most frequent first. Sought among the words as written
        // and among the stems (`Windrat` is two edits from `windrader`, one from its stem).
        // (Also what MAX_FUZZY_WORDS counts, and what snippets mark.)
        self.highlight.fuzzy.push((t.folded.clone(), t.stem.clone(), distance));
        // Per stem: its documents (the most of any form), and the word as written with the
        // most documents, which the reader is shown (else the bare stem).
        let mut by_stem: BTreeMap<String, (u64, Option<(String, u64)>)> = BTreeMap::new();
        for (word, n) in self.similar_words(self.fields.exact, &t.folded, distance)? {
            let token = analysis::token_of(&word);
            let entry = by_stem.entry(token.stem).or_default();
            entry.0 = entry.0.max(n);
            if entry.1.as_ref().is_none_or(|(_, m)| n > *m) {
                entry.1 = Some((word, n));
            }
        }
        for (stem, n) in self.similar_words(self.fields.body, &t.stem, distance)? {
            let entry = by_stem.entry(stem).or_default();
            entry.0 = entry.0.max(n);
        }
        let mut similar: Vec<(QueryToken, u64, bool)> = by_stem
            .into_iter()
            .map(|(stem, (n, word))| match word {
                Some((folded, _)) => (QueryToken { folded, stem }, n, false),
                None => (QueryToken { folded: stem.clone(), stem }, n, true),
            })
            .collect();
        // The most frequent first.
        similar.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)).then_with(|| a.0.folded.cmp(&b.0.folded)));
        similar.truncate(MAX_CORRECTIONS);
        if similar.is_empty() {
            self.substitute(&t.folded, crate::search::SubstitutionKind::None, Vec::new());
            return Ok(exact);
        }
        let alternatives = similar.iter().map(|(tok, _, _)| self.stems(tok, negated)).collect();
        let searched = similar.into_iter().map(|(tok, _, _)| tok.folded).collect();
        self.substitute(&t.folded, crate::search::SubstitutionKind::Similar, searched);
        Ok(boost(any_of(alternatives), BOOST_FUZZY))
    }

    /// Whether any segment has `stem` in the text field (a dictionary lookup, not asked of
    /// the scope: a word no document has is missing for every reader alike).
    fn has_stem(&self, stem: &str) -> bool {
        let term = Term::from_field_text(self.fields.body, stem);
        self.searcher.segment_readers().iter().any(|s| {
            s.inverted_index(self.fields.body).ok().and_then(|i| i.doc_freq(&term).ok()).is_some_and(|n| n > 0)
        })
    }

    fn substitute(&mut self, word: &str, kind: crate::search::SubstitutionKind, searched: Vec<String>) {
        if !self.substitutions.iter().any(|s| s.word == word) {
            self.substitutions.push(crate::search::Substitution { word: word.to_string(), kind, searched });
        }
    }

    /// The terms of `field` within `distance` edits of `word` (a transposition counts one)
    /// that some document in scope has, other than `word`, each with its document count.
    fn similar_words(&self, field: Field, word: &str, distance: u8) -> Result<Vec<(String, u64)>> {
        let automaton = FuzzyTermQuery::new(Term::from_field_text(field, word), distance, true).automaton()?;
        let mut found: BTreeMap<String, (u64, bool)> = BTreeMap::new();
        let mut readable = 0;
        for segment in self.searcher.segment_readers() {
            let docs = self.scope.as_ref().map(|s| s.docs(segment));
            let inverted = segment.inverted_index(field)?;
            let mut stream =
                inverted.terms().search(&automaton).into_stream().map_err(|e| crate::Error::Tantivy(e.into()))?;
            // Only readable words count toward the bound (else whether a readable word is
            // reached would tell how many unreadable ones sort before it); the visit cap
            // bounds the work whatever the access (a residue like `az:…*`'s).
            let mut visited = 0;
            while readable < MAX_CORRECTION_CANDIDATES && visited < MAX_TERMS_VISITED && stream.advance() {
                visited += 1;
                let info = stream.value().clone();
                let entry = found.entry(String::from_utf8_lossy(stream.key()).into_owned()).or_default();
                entry.0 += u64::from(info.doc_freq);
                if !entry.1 {
                    entry.1 = readable_in(segment, &inverted, &info, docs.as_deref())?;
                    readable += usize::from(entry.1);
                }
            }
        }
        Ok(found.into_iter().filter(|(w, (_, r))| *r && w != word).map(|(w, (n, _))| (w, n)).collect())
    }

    fn phrase(&mut self, text: &str, fields: &[(Field, f32)], negated: bool) -> Result<Option<Q>> {
        if let Some(long) = analysis::too_long_word(text) {
            return Err(QueryError::WordTooLong(long.to_string()).into());
        }
        let (tokens, _) = analysis::query_tokens(text);
        Ok(match tokens.len() {
            0 => None,
            1 if fields.len() > 1 => Some(self.stems(&tokens[0], negated)),
            _ => Some(self.phrase_of(&tokens, fields, negated)),
        })
    }

    fn phrase_of(&mut self, tokens: &[QueryToken], fields: &[(Field, f32)], negated: bool) -> Q {
        if !negated {
            self.highlight.stems.extend(tokens.iter().map(|t| t.stem.clone()));
            match tokens {
                // A quoted single word (`absender:"Lindqvist"`) is marked as a word.
                [one] => {
                    self.highlight.single.insert(one.stem.clone());
                }
                _ => self.highlight.phrases.push(tokens.iter().map(|t| t.stem.clone()).collect()),
            }
        }
        any_of(
            fields
                .iter()
                .map(|&(field, b)| {
                    let q: Q = if tokens.len() == 1 {
                        term(field, &tokens[0].stem)
                    } else {
                        Box::new(PhraseQuery::new(
                            tokens.iter().map(|t| Term::from_field_text(field, &t.stem)).collect(),
                        ))
                    };
                    boost(self.scoped(q), b)
                })
                .collect(),
        )
    }

    fn wildcard(&mut self, word: &str, negated: bool) -> Result<Q> {
        let prefix = word.strip_suffix('*').filter(|p| !p.contains(['*', '?']));
        let folded = prefix.map(analysis::fold).unwrap_or_default();
        if folded.chars().count() < MIN_WILDCARD_PREFIX || !folded.chars().all(char::is_alphanumeric) {
            return Err(QueryError::UnsupportedWildcard(word.to_string()).into());
        }
        let mut counted =
            expand_prefix_counted(self.searcher, self.fields.exact, &folded, MAX_WILDCARD_TERMS, self.scope.as_ref())?;
        if negated {
            return Ok(self.scoped(Box::new(TermSetQuery::new(counted.into_iter().map(|(t, _)| t)))));
        }
        self.highlight.prefixes.push(folded);
        // The words score by BM25, so that a document full of Schall… words ranks above one
        // that has one of them once (a term set alone ranked every hit alike). Up to
        // MAX_SCORED_WILDCARD_TERMS words are one union; beyond, the set decides what matches
        // and its most frequent words (by the whole index's counts, as BM25's are) score
        // beside it.
        let scored = |terms: Vec<(Term, u64)>| -> Q {
            any_of(
                terms
                    .into_iter()
                    .map(|(t, _)| Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as Q)
                    .collect(),
            )
        };
        if counted.len() <= MAX_SCORED_WILDCARD_TERMS {
            return Ok(self.scoped(scored(counted)));
        }
        let matching: Q = Box::new(TermSetQuery::new(counted.iter().map(|(t, _)| t.clone())));
        counted.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        counted.truncate(MAX_SCORED_WILDCARD_TERMS);
        Ok(self.scoped(Box::new(BooleanQuery::new(vec![(Occur::Must, matching), (Occur::Should, scored(counted))]))))
    }

    fn field(&mut self, name: FieldName, value: &str, quoted: bool, negated: bool) -> Result<Option<Q>> {
        let f = self.fields;
        let value = value.trim();
        let q: Q = match name {
            FieldName::Typ => Box::new(TermSetQuery::new(doctype_terms(self.searcher, f.doctype_kw, value)?)),
            FieldName::Medium => {
                let v = value.to_lowercase();
                let types: Vec<Term> = if v.contains('/') {
                    vec![Term::from_field_text(f.media_kw, &v)]
                } else if let Some(known) = media_alias(&v) {
                    known.iter().map(|m| Term::from_field_text(f.media_kw, m)).collect()
                } else if matches!(v.as_str(), "application" | "audio" | "image" | "message" | "text" | "video") {
                    expand_prefix(self.searcher, f.media_kw, &format!("{v}/"), MAX_AZ_PREFIX_TERMS)?
                } else {
                    return Err(QueryError::BadMedium(value.to_string()).into());
                };
                Box::new(TermSetQuery::new(types))
            }
            // An Akte by its id, or by its Aktenzeichen as a clerk knows it (`--akte` takes
            // both); no id is an Aktenzeichen.
            FieldName::Akte => any_of(vec![term(f.akte, value), term(f.az, &value.to_lowercase())]),
            FieldName::Status => term(f.status_kw, &parse_status(value)?),
            FieldName::Datum => {
                let (lo, hi) = parse_date_range(value)?;
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(f.date, lo)),
                    Bound::Included(Term::from_field_i64(f.date, hi)),
                ))
            }
            FieldName::Az => {
                let v = value.to_lowercase();
                match v.strip_suffix('*') {
                    Some(prefix) if !prefix.contains('*') && !prefix.is_empty() => {
                        Box::new(TermSetQuery::new(expand_prefix(self.searcher, f.az, prefix, MAX_AZ_PREFIX_TERMS)?))
                    }
                    Some(_) => return Err(QueryError::UnsupportedWildcard(value.to_string()).into()),
                    // The Aktenzeichen itself, or, when no Akte the user may read has it, every
                    // one that begins with it: `az:61.2-0815` finds 61.2-0815/2026 as a clerk
                    // expects. Asked of readable Akten only, or the answer would tell whether
                    // an Akte one may not read has exactly this Aktenzeichen.
                    None => {
                        if any_match(self.searcher, self.scoped(term(f.az, &v)).as_ref())? {
                            term(f.az, &v)
                        } else {
                            Box::new(TermSetQuery::new(expand_prefix(self.searcher, f.az, &v, MAX_AZ_PREFIX_TERMS)?))
                        }
                    }
                }
            }
            FieldName::Absender | FieldName::Empfaenger | FieldName::Titel => {
                let field = match name {
                    FieldName::Absender => f.sender,
                    FieldName::Empfaenger => f.recipient,
                    _ => f.head,
                };
                if quoted {
                    return self.phrase(value, &[(field, 1.0)], negated);
                }
                if let Some(long) = analysis::too_long_word(value) {
                    return Err(QueryError::WordTooLong(long.to_string()).into());
                }
                let (tokens, _) = analysis::query_tokens(value);
                if tokens.is_empty() {
                    return Ok(None);
                }
                if !negated {
                    self.highlight.stems.extend(tokens.iter().map(|t| t.stem.clone()));
                    self.highlight.single.extend(tokens.iter().map(|t| t.stem.clone()));
                }
                all_of(tokens.iter().map(|t| term(field, &t.stem)).collect())
            }
        };
        Ok(Some(self.scoped(q)))
    }
}

/// Whether any live document matches.
pub(crate) fn any_match(searcher: &Searcher, query: &dyn Query) -> Result<bool> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    for segment in searcher.segment_readers() {
        let mut scorer = weight.scorer(segment, 1.0)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if !segment.is_deleted(doc) {
                return Ok(true);
            }
            doc = scorer.advance();
        }
    }
    Ok(false)
}

/// The recorded document types that differ from `value` only by inflection (`Bescheide`
/// finds type Bescheid): their German stems are the same. `typ:` in a query and the
/// document-type filter (`--typ`, the API's `typ=`) both take these.
pub(crate) fn doctype_terms(searcher: &Searcher, field: Field, value: &str) -> Result<Vec<Term>> {
    let v = value.to_lowercase();
    let want = analysis::stem(&analysis::fold(&v));
    let start: String = v.chars().take(2).collect();
    let mut types: Vec<Term> = expand_prefix(searcher, field, &start, MAX_AZ_PREFIX_TERMS)?
        .into_iter()
        .filter(|t| t.value().as_str().is_some_and(|s| analysis::stem(&analysis::fold(s)) == want))
        .collect();
    if types.is_empty() {
        types.push(Term::from_field_text(field, &v));
    }
    Ok(types)
}

/// All terms of `field` starting with `prefix`, refused beyond `max`.
fn expand_prefix(searcher: &Searcher, field: Field, prefix: &str, max: usize) -> Result<Vec<Term>> {
    Ok(expand_prefix_counted(searcher, field, prefix, max, None)?.into_iter().map(|(t, _)| t).collect())
}

/// [`expand_prefix`] with each term's number of documents (over all segments, deleted
/// ones included, as the term dictionary counts them).
///
/// With a `scope`, only the words some document in it has count and are returned: whether
/// a prefix is refused as too broad must not depend on words only documents the reader may
/// not read contain (else a reader could test for a word by planting `max` words beside
/// it). Counts are of the whole index (as BM25's statistics are).
fn expand_prefix_counted(
    searcher: &Searcher,
    field: Field,
    prefix: &str,
    max: usize,
    scope: Option<&Scope>,
) -> Result<Vec<(Term, u64)>> {
    let mut upper = prefix.as_bytes().to_vec();
    // UTF-8 never contains 0xFF, so this bound is above every extension of the prefix.
    upper.push(0xFF);
    // Per word: documents in the whole index, and whether one in scope has it.
    let mut found: BTreeMap<String, (u64, bool)> = BTreeMap::new();
    let mut readable = 0;
    let mut visited = 0;
    for segment in searcher.segment_readers() {
        let docs = scope.map(|s| s.docs(segment));
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted
            .terms()
            .range()
            .ge(prefix.as_bytes())
            .lt(&upper)
            .into_stream()
            .map_err(|e| crate::Error::Tantivy(e.into()))?;
        while stream.advance() {
            visited += 1;
            if visited > MAX_TERMS_VISITED {
                // The work is bounded whatever the access; whether a prefix passes this
                // depends on all words of the index (a residue, like `az:…*`'s bound).
                return Err(QueryError::WildcardTooBroad { prefix: prefix.to_string(), max }.into());
            }
            let info = stream.value().clone();
            let entry = found.entry(String::from_utf8_lossy(stream.key()).into_owned()).or_default();
            entry.0 += u64::from(info.doc_freq);
            if entry.1 {
                continue;
            }
            entry.1 = readable_in(segment, &inverted, &info, docs.as_deref())?;
            if entry.1 {
                readable += 1;
                if readable > max {
                    return Err(QueryError::WildcardTooBroad { prefix: prefix.to_string(), max }.into());
                }
            }
        }
    }
    Ok(found.into_iter().filter(|(_, (_, r))| *r).map(|(k, (n, _))| (Term::from_field_text(field, &k), n)).collect())
}

/// Whether a term of `segment` (its `info` in `inverted`) is in a live document of the
/// scope's `docs`, or, without a scope, in any live document.
fn readable_in(
    segment: &tantivy::SegmentReader,
    inverted: &tantivy::InvertedIndexReader,
    info: &tantivy::postings::TermInfo,
    docs: Option<&[tantivy::DocId]>,
) -> Result<bool> {
    let postings = inverted
        .read_postings_from_terminfo(info, IndexRecordOption::Basic)
        .map_err(|e| crate::Error::Tantivy(e.into()))?;
    Ok(match docs {
        None => crate::scope::has_live(postings, segment),
        Some(docs) => crate::scope::has_any(postings, docs),
    })
}

/// Whether `word` is one day with a four-digit year, `18.09.2026` or `2026-09-18` (not a
/// section number such as `2.1.10`).
fn is_full_date(word: &str) -> bool {
    let german: Vec<&str> = word.split('.').collect();
    let iso: Vec<&str> = word.split('-').collect();
    let digits =
        |p: &str, n: std::ops::RangeInclusive<usize>| n.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    matches!(german[..], [d, m, y] if digits(d, 1..=2) && digits(m, 1..=2) && digits(y, 4..=4))
        || matches!(iso[..], [y, m, d] if digits(y, 4..=4) && digits(m, 2..=2) && digits(d, 2..=2))
}

/// Two-part splits of a compound the word list does not split well, each part of four
/// letters or more, longest first part first (`rotmilan|abschaltung` before
/// `rotmilanab|schaltung`): whether the index has the parts is for the caller to ask.
/// A linking `s` (`Artenschutzgutachten`, `Schallschutzmaßnahmen`) is tried without.
fn vocabulary_splits(folded: &str) -> Vec<Vec<QueryToken>> {
    let chars: Vec<(usize, char)> = folded.char_indices().collect();
    if chars.len() < 8 || !chars.iter().all(|(_, c)| c.is_alphabetic()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for i in (4..=chars.len() - 4).rev() {
        let at = chars[i].0;
        let (left, right) = folded.split_at(at);
        out.push(vec![analysis::token_of(left), analysis::token_of(right)]);
        if let Some(base) = left.strip_suffix('s').filter(|b| b.chars().count() >= 4) {
            out.push(vec![analysis::token_of(base), analysis::token_of(right)]);
        }
    }
    out
}

/// The media types a short name in `medium:` stands for (a file name extension, or what a
/// clerk calls the kind of file).
fn media_alias(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "pdf" => &["application/pdf"],
        "docx" | "word" => {
            &["application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/msword"]
        }
        "doc" => &["application/msword"],
        "xlsx" | "excel" => {
            &["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.ms-excel"]
        }
        "xls" => &["application/vnd.ms-excel"],
        "odt" => &["application/vnd.oasis.opendocument.text"],
        "ods" => &["application/vnd.oasis.opendocument.spreadsheet"],
        "eml" | "mail" | "email" | "e-mail" => &["message/rfc822"],
        "txt" => &["text/plain"],
        "html" | "htm" => &["text/html"],
        "xml" => &["application/xml", "text/xml"],
        "png" => &["image/png"],
        "jpg" | "jpeg" => &["image/jpeg"],
        "tif" | "tiff" => &["image/tiff"],
        "bild" => &["image/png", "image/jpeg", "image/tiff"],
        _ => return None,
    })
}

fn parse_status(value: &str) -> Result<String, QueryError> {
    match value.to_lowercase().replace('.', "").as_str() {
        "offen" | "open" => Ok("offen".into()),
        "zda" | "closed" | "geschlossen" => Ok("zda".into()),
        _ => Err(QueryError::BadStatus(value.to_string())),
    }
}

/// `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `DD.MM.YYYY`, or `A..B` of those (either side may be
/// empty), as inclusive `YYYYMMDD` bounds.
pub(crate) fn parse_date_range(value: &str) -> Result<(i64, i64), QueryError> {
    let bad = || QueryError::BadDate(value.to_string());
    let (lo, hi) = match value.split_once("..") {
        Some((a, b)) => {
            let lo = if a.is_empty() { 0 } else { date_bounds(a).ok_or_else(bad)?.0 };
            let hi = if b.is_empty() { 99_999_999 } else { date_bounds(b).ok_or_else(bad)?.1 };
            if a.is_empty() && b.is_empty() {
                return Err(bad());
            }
            (lo, hi)
        }
        None => date_bounds(value).ok_or_else(bad)?,
    };
    if lo > hi {
        return Err(QueryError::ReversedDates(value.to_string()));
    }
    Ok((lo, hi))
}

/// The year of a date written with two of its digits (`26`): this century's, unless that is
/// more than ten years ahead (`98` is 1998), as files reach back decades and not forward.
fn two_digit_year(yy: i64) -> i64 {
    let now = i64::from(time::OffsetDateTime::now_utc().year());
    let this_century = now - now % 100 + yy;
    if this_century > now + 10 { this_century - 100 } else { this_century }
}

fn date_bounds(s: &str) -> Option<(i64, i64)> {
    let nums = |parts: &[&str]| -> Option<Vec<i64>> {
        parts.iter().map(|p| (!p.is_empty() && p.len() <= 4).then(|| p.parse().ok()).flatten()).collect()
    };
    let (y, m, d) = if s.contains('.') {
        let parts: Vec<&str> = s.split('.').collect();
        let p = nums(&parts)?;
        match p.as_slice() {
            // German dates often carry two digits of the year (1.3.26), only in the full
            // form (`1.12` is no month of 2012): the nearest year that is at most ten ahead.
            [d, m, y] if parts[2].len() == 2 => (two_digit_year(*y), Some(*m), Some(*d)),
            [d, m, y] => (*y, Some(*m), Some(*d)),
            [m, y] => (*y, Some(*m), None),
            _ => return None,
        }
    } else {
        let p = nums(&s.split('-').collect::<Vec<_>>())?;
        match p.as_slice() {
            [y] => (*y, None, None),
            [y, m] => (*y, Some(*m), None),
            [y, m, d] => (*y, Some(*m), Some(*d)),
            _ => return None,
        }
    };
    if !(1000..=9999).contains(&y)
        || m.is_some_and(|m| !(1..=12).contains(&m))
        || d.is_some_and(|d| !(1..=31).contains(&d))
    {
        return None;
    }
    // A day the month does not have (2026-02-30) is no date, not an empty day.
    if let (Some(m), Some(d)) = (m, d) {
        let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
        time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()?;
    }
    let base = y * 10_000;
    Some(match (m, d) {
        (None, _) => (base + 101, base + 1231),
        (Some(m), None) => (base + m * 100 + 1, base + m * 100 + 31),
        (Some(m), Some(d)) => (base + m * 100 + d, base + m * 100 + d),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_ranges() {
        assert_eq!(parse_date_range("2026"), Ok((20260101, 20261231)));
        assert_eq!(parse_date_range("2026-03"), Ok((20260301, 20260331)));
        assert_eq!(parse_date_range("2026-01-01..2026-03-31"), Ok((20260101, 20260331)));
        assert_eq!(parse_date_range("01.02.2026..").map(|r| r.0), Ok(20260201));
        assert_eq!(parse_date_range("2024-02-29"), Ok((20240229, 20240229)), "a leap day");
        assert_eq!(parse_date_range("..2025").map(|r| r.1), Ok(20251231));
        // Two digits of the year, as German dates often carry them: this century's.
        assert_eq!(parse_date_range("1.3.26"), parse_date_range("01.03.2026"));
        assert_eq!(parse_date_range("1.3.98"), parse_date_range("01.03.1998"), "not 2098");
        assert!(parse_date_range("1.3.026").is_err(), "three digits are no year");
        assert!(parse_date_range("1.12").is_err(), "a day and a month are no month of 2012");
        assert_eq!(
            parse_date_range("2026-03-31..2026-03-01"),
            Err(QueryError::ReversedDates("2026-03-31..2026-03-01".into()))
        );
        for bad in
            ["2026-13", "gestern", "..", "2026-03-01..2026-01-01", "1.2.3.4", "2026-02-30", "31.04.2026", "2025-02-29"]
        {
            assert!(parse_date_range(bad).is_err(), "{bad}");
        }
    }
}
