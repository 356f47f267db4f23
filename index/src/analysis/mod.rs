//! German analysis: words → lower-case and folded (`ä→a`, `ß→ss`) → Snowball German
//! stem; capitalised words (nouns) also yield the stems of their compound parts at the
//! same position; hyphenated compounds also yield the joined word. Queries are analysed
//! by [`query_tokens`]: the same chain, but one token per word and no parts, so a query
//! word matches documents containing it alone or inside a compound, and a compound in the
//! query matches only that compound (unless no readable text has it: then the query
//! builder asks for its [`compound_parts`]).

pub mod abbrev;
mod compound;
mod fold;
mod words;

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

/// The query token of a folded word (as the exact field holds it).
pub fn token_of(folded: &str) -> QueryToken {
    QueryToken { folded: folded.to_string(), stem: stem(folded) }
}

/// The first word of `text` that is too long to be indexed (see [`MAX_TOKEN_BYTES`]).
pub fn too_long_word(text: &str) -> Option<&str> {
    words(text).find(|w| fold(w.text).len() > MAX_TOKEN_BYTES).map(|w| w.text)
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

/// The leaves of a folded compound as the index holds them (each also indexed on its own,
/// at the compound's position), or nothing when the lexicon cannot split it:
/// `schallgutachten` → `schall`, `gutachten`.
pub fn compound_parts(folded: &str) -> Vec<QueryToken> {
    let Some(leaves) = Lexicon::builtin().split(folded) else { return Vec::new() };
    let last = leaves.len() - 1;
    leaves
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let part = &folded[l.start..if i == last { l.end } else { l.base_end }];
            QueryToken { folded: part.to_string(), stem: stem(part) }
        })
        .collect()
}

/// A folded word of letters and digits run together (`wea5`, `k12`, `b2026`), as the words
/// it is written apart as (`WEA 5`): the runs of letters and of digits, or nothing when the
/// word is not such a mix.
pub fn letters_and_digits(folded: &str) -> Vec<QueryToken> {
    if !folded.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Vec::new();
    }
    let mut runs: Vec<&str> = Vec::new();
    let mut start = 0;
    let bytes = folded.as_bytes();
    for i in 1..bytes.len() {
        if bytes[i].is_ascii_digit() != bytes[i - 1].is_ascii_digit() {
            runs.push(&folded[start..i]);
            start = i;
        }
    }
    if start == 0 {
        return Vec::new();
    }
    runs.push(&folded[start..]);
    runs.into_iter().map(|r| QueryToken { folded: r.to_string(), stem: stem(r) }).collect()
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
    cache: Cache,
}

/// What one folded word yields, remembered per tokenizer: most words of a corpus repeat,
/// and stemming and compound splitting are the bulk of the analysis.
struct Analysed {
    /// The word's stem.
    stem: Box<str>,
    /// Stems of its compound runs other than `stem`; `None` until the word is first seen
    /// capitalised (only nouns are split).
    parts: Option<Box<[Box<str>]>>,
}

type Cache = rustc_hash::FxHashMap<Box<str>, Arc<Analysed>>;

impl GermanTokenizer {
    /// A tokenizer of the given mode.
    pub fn new(mode: Mode) -> GermanTokenizer {
        GermanTokenizer { mode, cache: Cache::default() }
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
            folded: String::new(),
            joined: String::new(),
            current: None,
            pending: Vec::new(),
            token: Token::default(),
            next_position: 0,
            joined_until: 0,
        }
    }
}

/// Where the text of a pending token lives (all of them outlive the current word only).
#[derive(Clone, Copy, Debug)]
enum Source {
    /// The current word, folded.
    Folded,
    /// The joined hyphenated compound, folded (exact mode) or stemmed (index mode).
    Joined,
    /// The current word's stem.
    Stem,
    /// The current word's compound part stem with this index.
    Part(usize),
}

/// Token stream of [`GermanTokenizer`].
pub struct GermanStream<'a> {
    text: &'a str,
    words: words::Words<'a>,
    mode: Mode,
    stemmer: frostem::Stemmer,
    lexicon: &'static Lexicon,
    cache: &'a mut Cache,
    /// The current word, folded (a buffer reused for every word).
    folded: String,
    /// The current word's joined hyphenated compound, if any.
    joined: String,
    /// The current word's analysis (index mode).
    current: Option<Arc<Analysed>>,
    /// Tokens of the current word, in reverse order: (text, from, to).
    pending: Vec<(Source, usize, usize)>,
    token: Token,
    next_position: usize,
    joined_until: usize,
}

impl GermanStream<'_> {
    fn analyse(&mut self, w: Word<'_>) {
        let position = self.next_position;
        self.next_position += 1;
        self.token.position = position;
        self.folded.clear();
        fold_into(w.text, &mut self.folded);
        if self.folded.is_empty() || self.folded.len() > MAX_TOKEN_BYTES {
            return;
        }
        let mut joined_end = None;
        if w.start >= self.joined_until
            && let Some(group) = hyphen_group(self.text, w)
        {
            let last = group.last().expect("two or more segments");
            self.joined_until = last.end;
            self.joined.clear();
            for s in &group {
                fold_into(s.text, &mut self.joined);
            }
            if self.joined.len() <= MAX_TOKEN_BYTES {
                joined_end = Some(last.end);
            }
        }
        match self.mode {
            Mode::Exact => {
                if let Some(end) = joined_end {
                    self.pending.push((Source::Joined, w.start, end));
                }
                self.pending.push((Source::Folded, w.start, w.end));
            }
            Mode::Index => {
                let analysed = self.analysed(w.is_capitalised());
                if w.is_capitalised() {
                    let parts = analysed.parts.as_deref().unwrap_or_default();
                    for i in (0..parts.len()).rev() {
                        self.pending.push((Source::Part(i), w.start, w.end));
                    }
                }
                self.current = Some(analysed);
                if let Some(end) = joined_end {
                    let stem = self.stemmer.stem(&self.joined).into_owned();
                    self.joined = stem;
                    self.pending.push((Source::Joined, w.start, end));
                }
                self.pending.push((Source::Stem, w.start, w.end));
            }
        }
    }

    /// The analysis of the current folded word, from the cache when it was seen before;
    /// with `parts` when the word is `capitalised`.
    fn analysed(&mut self, capitalised: bool) -> Arc<Analysed> {
        if let Some(a) = self.cache.get(self.folded.as_str())
            && (a.parts.is_some() || !capitalised)
        {
            return Arc::clone(a);
        }
        let stem: Box<str> = self.stemmer.stem(&self.folded).into();
        let parts = capitalised.then(|| {
            let mut parts: Vec<Box<str>> = Vec::new();
            for run in self.lexicon.runs(&self.folded, MAX_RUNS) {
                let s: Box<str> = self.stemmer.stem(run).into();
                if s != stem && !parts.contains(&s) {
                    parts.push(s);
                }
            }
            // `WEA5` in a text is also `WEA` and `5`, as a clerk types it (`WEA 5`); the
            // query side already matched `WEA5` typed against `WEA 5` written.
            for run in letters_and_digits(&self.folded) {
                let s: Box<str> = run.stem.into();
                if s != stem && !parts.contains(&s) {
                    parts.push(s);
                }
            }
            parts.into_boxed_slice()
        });
        let analysed = Arc::new(Analysed { stem, parts });
        if self.cache.len() >= CACHE_ENTRIES {
            self.cache.clear();
        }
        self.cache.insert(self.folded.as_str().into(), Arc::clone(&analysed));
        analysed
    }
}

impl TokenStream for GermanStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            if let Some((source, from, to)) = self.pending.pop() {
                let text = match source {
                    Source::Folded => self.folded.as_str(),
                    Source::Joined => self.joined.as_str(),
                    Source::Stem => &self.current.as_ref().expect("an analysed word").stem,
                    Source::Part(i) => {
                        let parts = self.current.as_ref().and_then(|a| a.parts.as_deref()).expect("parts");
                        &parts[i]
                    }
                };
                self.token.text.clear();
                self.token.text.push_str(text);
                self.token.offset_from = from;
                self.token.offset_to = to;
                self.token.position_length = 1;
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
