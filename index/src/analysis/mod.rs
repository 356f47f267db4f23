//! German analysis: words → lower-case and folded (`ä→a`, `ß→ss`) → Snowball German
//! stem; capitalised words (nouns) also yield the stems of their compound parts at the
//! same position; hyphenated compounds also yield the joined word. Queries are analysed
//! by [`query_tokens`]: the same chain, but one token per word and no parts, so a query
//! word matches documents containing it alone or inside a compound, and a compound in the
//! query matches only that compound.

mod compound;
mod fold;
mod words;

use std::collections::HashMap;
use std::sync::Arc;
use tantivy::tokenizer::{LowerCaser, RawTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer};

pub use compound::{Leaf, Lexicon};
pub use fold::{fold, fold_into};
pub use words::{Word, hyphen_group, words};

/// Name of the index-time German analyzer (stems of words and compound parts).
pub const GERMAN: &str = "akte_de";
/// Name of the analyzer of the exact field (folded words, no stemming, no parts).
pub const FOLDED: &str = "akte_fold";
/// Name of the keyword analyzer (the whole value, lower-cased).
pub const KEYWORD: &str = "akte_kw";

/// Longer words (folded bytes) are not indexed: base64, hashes, OCR garbage.
pub const MAX_TOKEN_BYTES: usize = 64;
/// Most compound runs indexed per word.
const MAX_RUNS: usize = 20;
/// Decompositions remembered per tokenizer before the cache is cleared.
const CACHE_ENTRIES: usize = 50_000;

/// Registers Akte's analyzers with an index.
pub fn register(index: &tantivy::Index) {
    let manager = index.tokenizers();
    manager.register(GERMAN, TextAnalyzer::from(GermanTokenizer::new(Mode::Index)));
    manager.register(FOLDED, TextAnalyzer::from(GermanTokenizer::new(Mode::Exact)));
    manager.register(KEYWORD, TextAnalyzer::builder(RawTokenizer::default()).filter(LowerCaser).build());
}

/// The Snowball German stem of a folded word.
pub fn stem(folded: &str) -> String {
    stemmer().stem(folded).into_owned()
}

fn stemmer() -> frostem::Stemmer {
    frostem::Stemmer::new(frostem::Algorithm::German)
}

/// One word of a query, analysed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryToken {
    /// Folded, unstemmed (for the exact field and fuzzy matching).
    pub folded: String,
    /// Folded and stemmed (for the German fields).
    pub stem: String,
}

/// Analyses query text: one token per word, no compound parts. Also returns the joined
/// form of a hyphenated compound (`Umwelt-Rechtsbehelfsgesetz` → `umweltrechtsbehelfsgesetz`).
pub fn query_tokens(text: &str) -> (Vec<QueryToken>, Option<QueryToken>) {
    let st = stemmer();
    let token = |folded: String| QueryToken { stem: st.stem(&folded).into_owned(), folded };
    let mut tokens = Vec::new();
    let mut joined = None;
    for w in words(text) {
        let folded = fold(w.text);
        if folded.is_empty() || folded.len() > MAX_TOKEN_BYTES {
            continue;
        }
        if tokens.is_empty()
            && let Some(group) = hyphen_group(text, w)
            && group.last().is_some_and(|l| l.end == text.trim_end().len())
        {
            joined = Some(token(group.iter().map(|s| fold(s.text)).collect()));
        }
        tokens.push(token(folded));
    }
    (tokens, joined)
}

/// What a [`GermanTokenizer`] emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Stems of whole words and of their compound parts.
    Index,
    /// Folded whole words, unstemmed.
    Exact,
}

/// The tokenizer behind [`GERMAN`] and [`FOLDED`].
#[derive(Clone)]
pub struct GermanTokenizer {
    mode: Mode,
    cache: HashMap<Box<str>, Arc<[Box<str>]>>,
}

impl GermanTokenizer {
    /// A tokenizer of the given mode.
    pub fn new(mode: Mode) -> GermanTokenizer {
        GermanTokenizer { mode, cache: HashMap::new() }
    }
}

impl Tokenizer for GermanTokenizer {
    type TokenStream<'a> = GermanStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> GermanStream<'a> {
        GermanStream {
            text,
            words: words(text),
            mode: self.mode,
            stemmer: stemmer(),
            lexicon: Lexicon::builtin(),
            cache: &mut self.cache,
            pending: Vec::new(),
            token: Token::default(),
            next_position: 0,
            joined_until: 0,
        }
    }
}

/// Token stream of [`GermanTokenizer`].
pub struct GermanStream<'a> {
    text: &'a str,
    words: words::Words<'a>,
    mode: Mode,
    stemmer: frostem::Stemmer,
    lexicon: &'static Lexicon,
    cache: &'a mut HashMap<Box<str>, Arc<[Box<str>]>>,
    /// Tokens of the current word, in reverse order.
    pending: Vec<Token>,
    token: Token,
    next_position: usize,
    joined_until: usize,
}

impl GermanStream<'_> {
    fn push(&mut self, text: String, from: usize, to: usize, position: usize) {
        self.pending.push(Token { offset_from: from, offset_to: to, position, text, position_length: 1 });
    }

    fn analyse(&mut self, w: Word<'_>) {
        let position = self.next_position;
        self.next_position += 1;
        let folded = fold(w.text);
        if folded.is_empty() || folded.len() > MAX_TOKEN_BYTES {
            return;
        }
        let joined = if w.start >= self.joined_until {
            hyphen_group(self.text, w).map(|group| {
                let last = group.last().expect("two or more segments");
                self.joined_until = last.end;
                (group.iter().map(|s| fold(s.text)).collect::<String>(), last.end)
            })
        } else {
            None
        };
        match self.mode {
            Mode::Exact => {
                if let Some((j, end)) = joined.filter(|(j, _)| j.len() <= MAX_TOKEN_BYTES) {
                    self.push(j, w.start, end, position);
                }
                self.push(folded, w.start, w.end, position);
            }
            Mode::Index => {
                let whole = self.stemmer.stem(&folded).into_owned();
                if w.is_capitalised() {
                    let parts = self.parts(&folded);
                    for p in parts.iter().rev().filter(|p| ***p != *whole) {
                        self.push(p.to_string(), w.start, w.end, position);
                    }
                }
                if let Some((j, end)) = joined.filter(|(j, _)| j.len() <= MAX_TOKEN_BYTES) {
                    let j = self.stemmer.stem(&j).into_owned();
                    self.push(j, w.start, end, position);
                }
                self.push(whole, w.start, w.end, position);
            }
        }
    }

    /// Stems of the compound runs of a folded word (cached).
    fn parts(&mut self, folded: &str) -> Arc<[Box<str>]> {
        if let Some(p) = self.cache.get(folded) {
            return p.clone();
        }
        let mut stems: Vec<Box<str>> = Vec::new();
        for run in self.lexicon.runs(folded, MAX_RUNS) {
            let s: Box<str> = self.stemmer.stem(run).into();
            if !stems.contains(&s) {
                stems.push(s);
            }
        }
        let stems: Arc<[Box<str>]> = stems.into();
        if self.cache.len() >= CACHE_ENTRIES {
            self.cache.clear();
        }
        self.cache.insert(folded.into(), stems.clone());
        stems
    }
}

impl TokenStream for GermanStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            if let Some(t) = self.pending.pop() {
                self.token = t;
                return true;
            }
            let Some(w) = self.words.next() else { return false };
            self.analyse(w);
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// All tokens of `text` under `mode`, as (position, text) pairs; for tests and tools.
pub fn analyse(text: &str, mode: Mode) -> Vec<(usize, String)> {
    let mut tokenizer = GermanTokenizer::new(mode);
    let mut stream = tokenizer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push((stream.token().position, stream.token().text.clone()));
    }
    out
}
