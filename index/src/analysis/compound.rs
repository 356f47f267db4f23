//! Compound splitting: "windkraftanlagengenehmigung" → wind | kraft | anlage(n) |
//! genehmigung, by dynamic programming over a lexicon of nouns (Wikidata Lexemes, CC0)
//! plus Akte's own verb stems, adjectives, prefixes and stop words (`data/`), with the
//! linking elements (Fugen) `s es n en e er ns ens` between parts and an inflection
//! ending after the last one. The split with the fewest parts wins (ties: nouns over
//! modifiers, no Fuge over a Fuge, long parts over short ones); each part is split
//! again, so the leaves are the finest parts the lexicon knows.
//!
//! The analyzer indexes every contiguous run of leaves (windkraft, kraftanlage,
//! anlagengenehmigung …) at the position of the whole word, so a query word matches
//! any compound that contains it, and phrase queries still line up.

use fst::raw::{Fst, Output};
use std::collections::BTreeMap;
use std::sync::OnceLock;

const NOUNS: &str = include_str!("../../data/nouns-wikidata.txt");
const OWN: &str = include_str!("../../data/own-lexicon.txt");

/// A part that may end a compound (and stand anywhere).
const NOUN: u64 = 1;
/// A verb stem, adjective or numeral: only before another part.
const MODIFIER: u64 = 2;
/// A prefix such as `neben`, `haupt`: only before a part of at least four letters.
const PREFIX: u64 = 4;

/// Words shorter than this (folded bytes) are never split.
pub const MIN_COMPOUND_LEN: usize = 6;
/// Words longer than this are never split (binary junk, chemical names).
pub const MAX_COMPOUND_LEN: usize = 64;
/// At most this many leaves; a longer analysis keeps only its top-level parts.
const MAX_LEAVES: usize = 6;
/// How often a part is split again.
const MAX_DEPTH: usize = 3;

const FUGEN: [&str; 9] = ["", "s", "es", "n", "en", "e", "er", "ns", "ens"];
const ENDINGS: [&str; 13] = ["", "e", "n", "en", "s", "es", "er", "ern", "ns", "ens", "nen", "se", "sen"];
/// Shortest prefix part's right-hand remainder.
const PREFIX_REMAINDER: usize = 4;
/// Shortest noun stem that may lose its final `e` (`Wochenend|haus`, `Grenz|wert`).
const ELISION_MIN: usize = 5;

const COST_PART: u32 = 100;
const COST_SHORT: u32 = 30;
const COST_MODIFIER: u32 = 10;
const COST_PREFIX: u32 = 20;
const COST_ELISION: u32 = 20;
const COST_FUGE: u32 = 10;

/// The lexicon: folded words with flags, in a finite-state transducer.
pub struct Lexicon {
    fst: Fst<Vec<u8>>,
}

/// One leaf of a split: `base` is `word[start..base_end]`; `word[base_end..end]` is the
/// Fuge (or, for the last leaf, the inflection ending).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// First byte.
    pub start: usize,
    /// End of the base form.
    pub base_end: usize,
    /// End including Fuge or ending.
    pub end: usize,
}

impl Lexicon {
    /// The built-in lexicon, built on first use (about 0.2 s, 5 MB).
    pub fn builtin() -> &'static Lexicon {
        static LEXICON: OnceLock<Lexicon> = OnceLock::new();
        LEXICON.get_or_init(|| Lexicon::from_lists(NOUNS, OWN))
    }

    /// Builds a lexicon from a noun list (one per line) and a sectioned list in the format
    /// of `data/own-lexicon.txt`.
    pub fn from_lists(nouns: &str, own: &str) -> Lexicon {
        let mut words: BTreeMap<String, u64> = BTreeMap::new();
        let mut add = |w: &str, flag: u64| {
            let f = super::fold(w);
            if f.bytes().all(|b| b.is_ascii_lowercase()) && f.len() >= 2 {
                *words.entry(f).or_default() |= flag;
            }
        };
        for line in nouns.lines().filter(|l| !l.starts_with('#')) {
            add(line.trim(), NOUN);
        }
        let mut stop = Vec::new();
        let mut section = "";
        for line in own.lines().map(|l| l.split('#').next().unwrap_or("").trim()) {
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = match name {
                    "nouns" | "modifiers" | "prefixes" | "stop" => name,
                    other => panic!("own lexicon: unknown section [{other}]"),
                };
                continue;
            }
            for w in line.split_whitespace() {
                match section {
                    "nouns" => add(w, NOUN),
                    "modifiers" => add(w, MODIFIER),
                    "prefixes" => add(w, PREFIX),
                    "stop" => stop.push(super::fold(w)),
                    _ => panic!("own lexicon: {w:?} before the first section"),
                }
            }
        }
        for s in stop {
            if let Some(flags) = words.get_mut(&s) {
                *flags &= !NOUN;
            }
        }
        words.retain(|_, flags| *flags != 0);
        let map = fst::Map::from_iter(words).expect("sorted, unique keys");
        Lexicon { fst: map.into_fst() }
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.fst.len()
    }

    /// Whether the lexicon is empty.
    pub fn is_empty(&self) -> bool {
        self.fst.len() == 0
    }

    fn flags(&self, word: &[u8]) -> u64 {
        self.fst.get(word).map_or(0, |o| o.value())
    }

    /// Calls `f(end, flags, elided)` for every lexicon word that starts at `word[i..]`;
    /// `elided` marks a noun whose final `e` is missing here.
    fn entries_at(&self, word: &[u8], i: usize, mut f: impl FnMut(usize, u64, bool)) {
        let mut node = self.fst.root();
        let mut out = Output::zero();
        for (k, &b) in word[i..].iter().enumerate() {
            let Some(t) = node.find_input(b) else { return };
            let tr = node.transition(t);
            out = out.cat(tr.out);
            node = self.fst.node(tr.addr);
            let end = i + k + 1;
            if node.is_final() {
                f(end, out.cat(node.final_output()).value(), false);
            }
            if end - i >= ELISION_MIN
                && word.get(end) != Some(&b'e')
                && let Some(te) = node.find_input(b'e')
            {
                let tr = node.transition(te);
                let after = self.fst.node(tr.addr);
                if after.is_final() && out.cat(tr.out).cat(after.final_output()).value() & NOUN != 0 {
                    f(end, NOUN, true);
                }
            }
        }
    }

    /// The finest split of a folded word into leaves, or `None` when it is not a compound
    /// the lexicon can explain. `word` must be lower-case ASCII letters.
    pub fn split(&self, word: &str) -> Option<Vec<Leaf>> {
        let w = word.as_bytes();
        if !(MIN_COMPOUND_LEN..=MAX_COMPOUND_LEN).contains(&w.len()) || !w.iter().all(u8::is_ascii_lowercase) {
            return None;
        }
        let top = self.best_split(w)?;
        let mut leaves = Vec::with_capacity(top.len() * 2);
        for part in &top {
            self.refine(w, *part, MAX_DEPTH, &mut leaves);
        }
        if leaves.len() > MAX_LEAVES {
            return Some(top);
        }
        Some(leaves)
    }

    /// Pushes the finest split of `part` (its base form, split again up to `depth` levels).
    fn refine(&self, w: &[u8], part: Leaf, depth: usize, leaves: &mut Vec<Leaf>) {
        let sub = if depth == 0 { None } else { self.best_split(&w[part.start..part.base_end]) };
        let Some(sub) = sub else {
            leaves.push(part);
            return;
        };
        let last = sub.len() - 1;
        for (k, s) in sub.into_iter().enumerate() {
            let end = if k == last { part.end } else { part.start + s.end };
            let leaf = Leaf { start: part.start + s.start, base_end: part.start + s.base_end, end };
            self.refine(w, leaf, depth - 1, leaves);
        }
    }

    /// The cheapest split of `w` into at least two parts.
    fn best_split(&self, w: &[u8]) -> Option<Vec<Leaf>> {
        if w.len() < MIN_COMPOUND_LEN {
            return None;
        }
        let n = w.len();
        // best[i]: cheapest cover of w[i..] whose last part is a noun with an ending, as
        // (cost, end of this part's base, end of this part including Fuge or ending).
        let mut best: Vec<Option<(u32, usize, usize)>> = vec![None; n + 1];
        for i in (0..n).rev() {
            let mut here: Option<(u32, usize, usize)> = None;
            let mut consider = |cost: u32, base_end: usize, end: usize| {
                // on ties the later candidate, i.e. the longer left part, wins: German
                // compounds branch to the left ([[Wind|kraft]|anlage])
                if here.is_none_or(|(c, _, _)| cost <= c) {
                    here = Some((cost, base_end, end));
                }
            };
            if i > 0 {
                for ending in ENDINGS {
                    if n - i > ending.len() && w[i..].ends_with(ending.as_bytes()) {
                        let base = &w[i..n - ending.len()];
                        if self.flags(base) & NOUN != 0 {
                            consider(COST_PART + short(base.len()) + ending.len() as u32, n - ending.len(), n);
                        }
                    }
                }
            }
            self.entries_at(w, i, |j, flags, elided| {
                if j >= n {
                    return;
                }
                let kind = if elided {
                    COST_ELISION
                } else if flags & NOUN != 0 {
                    0
                } else if flags & MODIFIER != 0 {
                    COST_MODIFIER
                } else if flags & PREFIX != 0 && n - j >= PREFIX_REMAINDER {
                    COST_PREFIX
                } else {
                    return;
                };
                for fuge in FUGEN {
                    let k = j + fuge.len();
                    if k < n
                        && w[j..].starts_with(fuge.as_bytes())
                        && let Some((rest, _, _)) = best[k]
                    {
                        let fuge_cost = if fuge.is_empty() { 0 } else { COST_FUGE + fuge.len() as u32 };
                        consider(COST_PART + kind + fuge_cost + short(j - i) + rest, j, k);
                    }
                }
            });
            best[i] = here;
        }
        let mut leaves = Vec::new();
        let mut i = 0;
        while i < n {
            let (_, base_end, end) = best[i]?;
            leaves.push(Leaf { start: i, base_end, end });
            i = end;
        }
        (leaves.len() > 1).then_some(leaves)
    }

    /// The contiguous runs of leaves of a folded word, except the whole word: each run is
    /// the text from its first leaf to its last leaf's base (the last leaf of the word
    /// keeps its ending). At most `max` runs, shortest first.
    pub fn runs<'w>(&self, word: &'w str, max: usize) -> Vec<&'w str> {
        let Some(leaves) = self.split(word) else { return Vec::new() };
        let last = leaves.len() - 1;
        let mut runs = Vec::new();
        for len in 1..=last {
            for first in 0..=(leaves.len() - len) {
                let l = first + len - 1;
                let end = if l == last { leaves[l].end } else { leaves[l].base_end };
                runs.push(&word[leaves[first].start..end]);
                if runs.len() == max {
                    return runs;
                }
            }
        }
        runs
    }
}

fn short(len: usize) -> u32 {
    if len <= 3 { COST_SHORT } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(word: &str) -> Vec<String> {
        let w = crate::analysis::fold(word);
        match Lexicon::builtin().split(&w) {
            Some(l) => l.iter().map(|l| w[l.start..l.base_end].to_string()).collect(),
            None => vec![w],
        }
    }

    #[test]
    fn splits_administrative_compounds() {
        assert_eq!(leaves("Windkraftanlagengenehmigung"), ["wind", "kraft", "anlage", "genehmigung"]);
        assert_eq!(leaves("Schallimmissionsprognose"), ["schall", "immission", "prognose"]);
        assert_eq!(leaves("Bundesimmissionsschutzgesetz"), ["bund", "immission", "schutz", "gesetz"]);
        assert_eq!(leaves("Rotorblatttausch"), ["rotor", "blatt", "tausch"]);
        assert_eq!(leaves("Eingangsstempel"), ["eingang", "stempel"]);
        assert_eq!(leaves("Abschaltzeiten"), ["abschalt", "zeit"]);
        assert_eq!(leaves("Wochenendhauses"), ["wochenend", "haus"]);
        assert_eq!(leaves("Landesamt"), ["land", "amt"]);
    }

    #[test]
    fn leaves_simple_words_and_derivations_alone() {
        for w in ["Genehmigung", "Verwaltung", "Beteiligung", "Einwendung", "Unterlagen", "Gutachten", "Mitglieder"] {
            assert_eq!(leaves(w), [crate::analysis::fold(w)], "{w}");
        }
    }

    #[test]
    fn runs_cover_every_contiguous_part_sequence() {
        let runs = Lexicon::builtin().runs("windkraftanlagengenehmigung", 32);
        for r in ["wind", "kraft", "anlage", "genehmigung", "windkraft", "windkraftanlage", "anlagengenehmigung"] {
            assert!(runs.contains(&r), "{r} missing from {runs:?}");
        }
        assert!(!runs.contains(&"windkraftanlagengenehmigung"), "the whole word is not a run");
    }
}
