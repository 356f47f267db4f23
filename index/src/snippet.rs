//! Snippets: the window of the stored text with the most distinct query terms, HTML-escaped,
//! matches wrapped in `<mark>`…`</mark>`. Words match by the same analysis as the index
//! (stems of words and compound parts), by wildcard prefix, or fuzzily.

use crate::analysis::{GermanTokenizer, MAX_TOKEN_BYTES, Mode, fold, fold_into, hyphen_group, words};
use crate::limits::SNIPPET_CHARS;
use crate::query::build::Highlight;
use std::cell::RefCell;
use tantivy::tokenizer::{TokenStream, Tokenizer};

/// A matched byte range of the text and the term it matched.
struct Mark {
    from: usize,
    to: usize,
    term: usize,
}

thread_local! {
    /// One analyzer per thread, so its cache of compound splits outlives a search.
    static TOKENIZER: RefCell<GermanTokenizer> = RefCell::new(GermanTokenizer::new(Mode::Index));
}

/// The snippet of `text` for `hl`; the start of the text when nothing matches.
pub(crate) fn snippet(text: &str, hl: &Highlight) -> String {
    let marks = TOKENIZER.with_borrow_mut(|tokenizer| find_marks(text, hl, tokenizer));
    let (from, to) = best_window(text, &marks);
    render(text, from, to, &marks)
}

fn find_marks(text: &str, hl: &Highlight, tokenizer: &mut GermanTokenizer) -> Vec<Mark> {
    let mut marker = Marker::new(text, hl);
    if marker.all_terms == 0 {
        return Vec::new();
    }
    if !hl.prefixes.is_empty() || !hl.fuzzy.is_empty() {
        // Wildcards and fuzzy words are decided on each word's folded form: every word.
        marker.take(tokenizer.token_stream(text), 0);
        marker.keep_phrases();
        return marker.marks;
    }
    // Only stems to find, and most words hold none. The analysis makes of a word the stems
    // of its folded form, of its compound parts (pieces of that form) and of a hyphenated
    // group's joined form. Snowball's German stemmer only cuts suffixes, except that it
    // first turns ae, oe, ue into umlauts, which it writes as a, o, u (`aktuell` stems to
    // `aktull`): a stem is a prefix of what it stems with some `e`s left out. So with every
    // `e` left out of both, a word (or group) that contains none of the query's stems yields
    // no mark; such words are only folded, not analysed, which is most of a snippet's cost.
    let mut folded = String::new();
    let mut group_until = 0;
    let mut analysed_until = 0;
    for w in words(text) {
        if w.start > marker.stop_after {
            break;
        }
        if w.start < analysed_until {
            continue; // inside a hyphenated group analysed whole
        }
        folded.clear();
        fold_into(w.text, &mut folded);
        if folded.is_empty() || folded.len() > MAX_TOKEN_BYTES {
            continue; // the analysis skips it, and starts no group at it
        }
        let mut end = marker.holds(&folded).then_some(w.end);
        // As the analysis does: a group starts at a word not inside an earlier one.
        if w.start >= group_until
            && let Some(group) = hyphen_group(text, w)
        {
            group_until = group.last().expect("two or more segments").end;
            folded.clear();
            for segment in &group {
                fold_into(segment.text, &mut folded);
            }
            if marker.holds(&folded) {
                end = Some(group_until);
            }
        }
        if let Some(end) = end {
            analysed_until = end;
            marker.take(tokenizer.token_stream(&text[w.start..end]), w.start);
        }
    }
    marker.keep_phrases();
    marker.marks
}

/// The marks found so far, and when to stop looking.
struct Marker<'h> {
    text: &'h str,
    hl: &'h Highlight,
    /// The query's stems (a few; compared one by one).
    stems: Vec<&'h str>,
    /// The stems without their `e`s, for [`Marker::holds`].
    stems_without_e: Vec<String>,
    /// A buffer for a folded word without its `e`s.
    without_e: String,
    /// Stems marked so far, by their order of first appearance (the mark's term).
    seen: Vec<&'h str>,
    marks: Vec<Mark>,
    all_terms: usize,
    /// Once a window holds every term, no later window can hold more distinct terms: the
    /// scan ends one window width later (for the marks that window shows), so the cost of
    /// a snippet does not grow with the length of the text.
    stop_after: usize,
    /// Per mark: whether it stays. A word the query has only inside phrases stays only
    /// where its phrase stands (`17/3` marks `17/3`, not every `3`): its mark is confirmed
    /// when the phrase's last word is marked right after the others.
    confirmed: Vec<bool>,
}

/// Whether a stem is one the query has only inside phrases (not searched on its own).
fn phrase_only(hl: &Highlight, stem: &str) -> bool {
    !hl.single.contains(stem) && hl.phrases.iter().any(|p| p.iter().any(|s| s == stem))
}

impl<'h> Marker<'h> {
    fn new(text: &'h str, hl: &'h Highlight) -> Self {
        let stems: Vec<&str> = hl.stems.iter().map(String::as_str).filter(|s| !s.is_empty()).collect();
        Marker {
            text,
            hl,
            stems_without_e: stems.iter().map(|s| s.replace('e', "")).collect(),
            stems,
            without_e: String::new(),
            seen: Vec::new(),
            marks: Vec::new(),
            all_terms: hl.stems.len() + hl.prefixes.len() + hl.fuzzy.len(),
            stop_after: usize::MAX,
            confirmed: Vec::new(),
        }
    }

    /// Whether a folded word (or group) may yield one of the stems: whether, with every `e`
    /// left out, it contains one.
    fn holds(&mut self, folded: &str) -> bool {
        self.without_e.clear();
        self.without_e.extend(folded.chars().filter(|c| *c != 'e'));
        self.stems_without_e.iter().any(|s| self.without_e.contains(s.as_str()))
    }

    /// Marks what the tokens of `stream` match; its offsets start at `base` of the text.
    fn take(&mut self, mut stream: impl TokenStream, base: usize) {
        let hl = self.hl;
        let mut last_position = usize::MAX;
        let mut position_marked = false;
        while stream.advance() {
            let t = stream.token();
            let (from, to) = (base + t.offset_from, base + t.offset_to);
            if from > self.stop_after {
                break;
            }
            if t.position != last_position {
                last_position = t.position;
                position_marked = false;
            }
            if position_marked {
                continue;
            }
            let hit = if let Some(stem) = self.stems.iter().find(|s| **s == t.text) {
                Some(self.seen.iter().position(|s| s == stem).unwrap_or_else(|| {
                    self.seen.push(stem);
                    self.seen.len() - 1
                }))
            } else if !hl.prefixes.is_empty() || !hl.fuzzy.is_empty() {
                let folded = fold(&self.text[from..to]);
                hl.prefixes.iter().position(|p| folded.starts_with(p.as_str())).map(|i| 1_000 + i).or_else(|| {
                    // The folded word as the exact field holds it, or the stem (of the word or
                    // of a compound part) as the German fields do: `Windrat` finds
                    // `Windräder` by its stem `windrad`.
                    hl.fuzzy
                        .iter()
                        .position(|(w, stem, d)| {
                            within(&folded, w, usize::from(*d)) || within(t.text.as_str(), stem, usize::from(*d))
                        })
                        .map(|i| 2_000 + i)
                })
            } else {
                None
            };
            if let Some(term) = hit {
                // a hyphen group's joined token spans several words; mark words, not groups
                if self.marks.last().is_some_and(|m| m.to > from) {
                    continue;
                }
                self.marks.push(Mark { from, to, term });
                self.confirm_last();
                position_marked = true;
                if self.stop_after == usize::MAX && window_has_all(&self.marks, &self.confirmed, self.all_terms) {
                    self.stop_after = to + SNIPPET_CHARS;
                }
            }
        }
    }
}

impl<'h> Marker<'h> {
    /// The stem a mark matched, if it matched a stem (not a wildcard or a similar word).
    fn stem_of(&self, m: &Mark) -> Option<&'h str> {
        self.seen.get(m.term).copied().filter(|_| m.term < 1_000)
    }

    /// Decides whether the mark just made stays: a mark of a word searched on its own
    /// does; one of a word only phrases have does once its phrase stands, which the mark
    /// of the phrase's last word decides for the marks before it. Words of a phrase stand
    /// together when only spaces and punctuation (at most a few bytes) lie between them.
    fn confirm_last(&mut self) {
        let hl = self.hl;
        let last = self.marks.last().expect("a mark was just made");
        let stem = self.stem_of(last);
        self.confirmed.push(stem.is_none_or(|s| !phrase_only(hl, s)));
        // The last word of a phrase (searched alone as well or not) decides for the others.
        let Some(stem) = stem else { return };
        let together = |a: &Mark, b: &Mark| {
            b.from >= a.to && b.from - a.to <= 4 && self.text[a.to..b.from].chars().all(|c| !c.is_alphanumeric())
        };
        let n = self.marks.len();
        let mut stands = Vec::new();
        for phrase in hl.phrases.iter().filter(|p| p.len() > 1 && p.last().is_some_and(|l| l == stem)) {
            let Some(start) = n.checked_sub(phrase.len()) else { continue };
            let run = &self.marks[start..];
            if run.iter().zip(phrase).all(|(m, want)| self.stem_of(m) == Some(want.as_str()))
                && run.windows(2).all(|w| together(&w[0], &w[1]))
            {
                stands.push(start);
            }
        }
        for start in stands {
            self.confirmed[start..].iter_mut().for_each(|c| *c = true);
        }
    }

    /// Drops the marks that were not confirmed (see [`Marker::confirm_last`]).
    fn keep_phrases(&mut self) {
        let mut keep = self.confirmed.iter();
        self.marks.retain(|_| keep.next().copied().unwrap_or(true));
    }
}

/// Whether the confirmed marks within one window width before the last mark hold `all`
/// distinct terms.
fn window_has_all(marks: &[Mark], confirmed: &[bool], all: usize) -> bool {
    let Some(last) = marks.last() else { return false };
    let mut terms: Vec<usize> = marks
        .iter()
        .zip(confirmed)
        .rev()
        .take_while(|(m, _)| m.from + SNIPPET_CHARS >= last.to)
        .filter(|(_, c)| **c)
        .map(|(m, _)| m.term)
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms.len() >= all
}

/// Levenshtein distance of `a` and `b` is at most `max` (both short words).
fn within(a: &str, b: &str, max: usize) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        if cur.iter().min().is_some_and(|&m| m > max) {
            return false;
        }
        prev = cur;
    }
    prev[b.len()] <= max
}

/// Byte range of the window (about [`SNIPPET_CHARS`] long) with the most distinct terms,
/// then the most marks; snapped to word boundaries.
fn best_window(text: &str, marks: &[Mark]) -> (usize, usize) {
    let width = SNIPPET_CHARS;
    let mut best = (0usize, 0usize, 0usize); // (distinct, count, first mark index)
    for (i, m) in marks.iter().enumerate() {
        let in_window: Vec<&Mark> = marks[i..].iter().take_while(|n| n.to <= m.from + width).collect();
        let mut distinct: Vec<usize> = in_window.iter().map(|n| n.term).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let score = (distinct.len(), in_window.len());
        if score > (best.0, best.1) {
            best = (score.0, score.1, i);
        }
    }
    let start = if marks.is_empty() {
        0
    } else {
        // some context before the first mark
        let m = &marks[best.2];
        let back = m.from.saturating_sub(width / 4);
        let mut s = back;
        while !text.is_char_boundary(s) {
            s += 1;
        }
        match text[s..m.from].find(char::is_whitespace) {
            Some(ws) if s > 0 => s + ws + 1,
            _ => s,
        }
    };
    let mut end = (start + width).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    if end < text.len()
        && let Some(ws) = text[start..end].rfind(char::is_whitespace)
        && ws > width / 2
    {
        end = start + ws;
    }
    // never cut a mark in two
    if let Some(m) = marks.iter().find(|m| m.from < end && m.to > end) {
        end = m.to;
    }
    (start, end)
}

fn render(text: &str, from: usize, to: usize, marks: &[Mark]) -> String {
    let mut out = String::with_capacity(to - from + 64);
    if from > 0 {
        out.push('…');
    }
    let mut pos = from;
    for m in marks.iter().filter(|m| m.from >= from && m.to <= to) {
        escape_into(&text[pos..m.from], &mut out);
        out.push_str("<mark>");
        escape_into(&text[m.from..m.to], &mut out);
        out.push_str("</mark>");
        pos = m.to;
    }
    escape_into(&text[pos..to], &mut out);
    if to < text.len() {
        out.push('…');
    }
    out
}

/// HTML-escapes `s` and collapses runs of whitespace to one space.
fn escape_into(s: &str, out: &mut String) {
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
            continue;
        }
        space = false;
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Highlights for query words (analysed like a query).
    fn hl(words: &[&str]) -> Highlight {
        let stems = words.iter().map(|w| crate::analysis::stem(&fold(w))).collect();
        Highlight { stems, ..Highlight::default() }
    }

    #[test]
    fn marks_words_and_compounds_and_escapes_html() {
        let s = snippet("Die <Windkraftanlagengenehmigung> & die Genehmigungen.", &hl(&["Genehmigung"]));
        assert_eq!(s, "Die &lt;<mark>Windkraftanlagengenehmigung</mark>&gt; &amp; die <mark>Genehmigungen</mark>.");
    }

    #[test]
    fn words_only_a_phrase_has_are_marked_where_the_phrase_stands() {
        let text = "Flur 3, Flurstück 17/3 und 17/4; Anzahl 3 Anlagen, vom 12.03.2026.";
        let phrase = |words: &[&str]| {
            let stems: Vec<String> = words.iter().map(|w| crate::analysis::stem(&fold(w))).collect();
            Highlight { stems: stems.iter().cloned().collect(), phrases: vec![stems], ..Highlight::default() }
        };
        assert_eq!(
            snippet(text, &phrase(&["17", "3"])),
            "Flur 3, Flurstück <mark>17</mark>/<mark>3</mark> und 17/4; Anzahl 3 Anlagen, vom 12.03.2026."
        );
        let dated = snippet(text, &phrase(&["12", "03", "2026"]));
        assert!(dated.ends_with("Anzahl 3 Anlagen, vom <mark>12</mark>.<mark>03</mark>.<mark>2026</mark>."), "{dated}");
        assert_eq!(dated.matches("<mark>").count(), 3, "{dated}");
        // A word also searched on its own is marked everywhere.
        let mut both = phrase(&["17", "3"]);
        both.single.insert("3".into());
        let marked = snippet(text, &both);
        assert_eq!(marked.matches("<mark>3</mark>").count(), 3, "{marked}");
        assert_eq!(marked.matches("<mark>17</mark>").count(), 1, "{marked}");
    }

    #[test]
    fn picks_the_window_with_most_distinct_terms() {
        let filler = "Text ohne Bezug. ".repeat(40);
        let text = format!("Rotmilan am Anfang. {filler} Der Rotmilan brütet am Horst im Eschenbusch. {filler}");
        let s = snippet(&text, &hl(&["rotmilan", "horst", "eschenbusch"]));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>Horst</mark>") && s.contains("<mark>Eschenbusch</mark>"), "{s}");
    }

    #[test]
    fn scans_only_until_a_window_holds_every_term() {
        let filler = "Text ohne Bezug. ".repeat(40);
        let text = format!("Der Rotmilan am Horst, der Rotmilan. {filler} Rotmilan und Horst und Rotmilan. {filler}");
        let marks = find_marks(&text, &hl(&["rotmilan", "horst"]), &mut GermanTokenizer::new(Mode::Index));
        assert_eq!(marks.len(), 3, "the marks of the first window with both terms, then stop");
        let s = snippet(&text, &hl(&["rotmilan", "horst"]));
        assert!(s.starts_with("Der <mark>Rotmilan</mark> am <mark>Horst</mark>, der <mark>Rotmilan</mark>."), "{s}");
        // a term that never occurs: the whole text is scanned, as before
        let marks = find_marks(&text, &hl(&["rotmilan", "eschenbusch"]), &mut GermanTokenizer::new(Mode::Index));
        assert_eq!(marks.len(), 4);
    }

    /// The marks of the analysis of every word, as before words without a stem were skipped.
    fn marks_of_every_word(text: &str, hl: &Highlight) -> Vec<(usize, usize, usize)> {
        let mut tokenizer = GermanTokenizer::new(Mode::Index);
        let mut marker = Marker::new(text, hl);
        marker.take(tokenizer.token_stream(text), 0);
        marker.marks.iter().map(|m| (m.from, m.to, m.term)).collect()
    }

    #[test]
    fn skipping_words_without_a_stem_finds_the_same_marks() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/windpark-hohe-heide");
        let mut texts = vec![
            "Die Windkraftanlagengenehmigung für die Windkraft-Anlage am Rotmilan-Horst: Anträge, \
             Genehmigungen, Ortsbesichtigungen; das Bundes-Immissionsschutzgesetz, die Straße, Größe \
             und Maßnahme-Planung der Gemeinde Sandkrug-Süd. Umwelt-Rechtsbehelfsgesetz-Fragen."
                .to_string(),
            // Snowball turns ae, oe, ue into umlauts first: `aktuell` stems to `aktull`.
            "Der aktuelle Stand: Herr Mueller, Frau Müller und die Aerovent GmbH; zuerst die \
             Buerger, dann die Bürger; Poesie, Feuer, quer, Israel, manuelle Duelle."
                .to_string(),
            // A soft hyphen alone, and a word too long to index, before hyphenated groups.
            "\u{ad}-Umwelt-Rechtsbehelfs-Gesetz-Fragen und \
             Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-Wind-Kraft-Anlagen-Genehmigung."
                .to_string(),
        ];
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().map(Result::unwrap) {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "txt" || x == "eml") {
                    texts.push(String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned());
                }
            }
        }
        assert!(texts.len() > 12, "the fixture texts and mails are there");
        let queries: &[&[&str]] = &[
            &["Genehmigung"],
            &["Windkraftanlage"],
            &["Windkraft", "Anlage"],
            &["Antrag", "Straße"],
            &["Immissionsschutz", "Bundes"],
            &["Bundesimmissionsschutzgesetz"],
            &["Horst", "Rotmilan"],
            &["groß", "Maßnahme"],
            &["Umweltrechtsbehelfsgesetzfragen"],
            &["Schall", "Gutachten", "Gemeinde"],
            &["Sehr", "geehrte", "Damen", "und", "Herren"],
            &["Hohe", "Heide", "Windpark"],
            &["Widerspruch", "Frist", "Monat"],
            &["aktuell"],
            &["Müller"],
            &["Mueller", "Buerger"],
            &["Aerovent", "zuerst"],
            &["Poesie", "Feuer", "manuell", "Duell"],
            &["Umweltrechtsbehelfsgesetzfragen"],
            &["Windkraftanlagengenehmigung"],
            &["Kraftanlagengenehmigung"],
        ];
        let mut marked = 0;
        for text in &texts {
            for q in queries {
                let h = hl(q);
                let all = marks_of_every_word(text, &h);
                let skipping = find_marks(text, &h, &mut GermanTokenizer::new(Mode::Index));
                let skipping: Vec<_> = skipping.iter().map(|m| (m.from, m.to, m.term)).collect();
                assert_eq!(skipping, all, "query {q:?} on {:?}…", &text[..text.len().min(60)]);
                marked += all.len();
            }
        }
        assert!(marked > 100, "the queries mark something ({marked})");
    }

    #[test]
    fn fuzzy_distance() {
        assert!(within("baugenehmigng", "baugenehmigung", 1));
        assert!(!within("baugenehmigng", "bauantrag", 2));
        assert!(within("rotmilna", "rotmilan", 2));
    }
}
