//! Seeded random queries against the fixture case: whatever a user types, search answers
//! or refuses with a query error in one sentence, never panics or fails otherwise, and a
//! user who may read one Akte gets hits of that Akte only and a total no larger than the
//! operator's. The queries are made of pieces that stress the parser and the analysis:
//! operators in both languages, unbalanced quotes and brackets, field prefixes known and
//! unknown, wildcards, dates and ranges (also impossible ones), umlauts, combining marks,
//! control characters, emoji and very long words.
//!
//! `AKTE_RANDOM_QUERIES=N` runs N queries instead of 3,000.

mod common;

use akte_index::{Access, Error, SearchRequest, Sort};
use common::{akte_token, fixture_docs, fixture_index};

/// SplitMix64, so that a failing query is reproducible from its number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Words of the case, inflected, compounded, misspelt: half of the pieces.
const WORDS: &[&str] = &[
    "Genehmigung",
    "genehmigungen",
    "Windkraftanlage",
    "Windkraftanlagengenehmigung",
    "Baugenehmigng",
    "Schallgutachten",
    "Rotmilan",
    "Straße",
    "STRASSE",
    "Nabenhöhe",
    "WEA5",
    "WEA 5",
    "Flurstück",
    "Hohe Heide",
    "Bürgerinitiative",
    "Einwendung",
    "Eiswurf",
    "Bescheid",
    "der",
    "und",
    "in",
];

/// The other half: syntax, fields, numbers, odd characters.
const PIECES: &[&str] = &[
    // Operators and syntax.
    "AND",
    "OR",
    "NOT",
    "UND",
    "ODER",
    "NICHT",
    "and",
    "oder",
    "-",
    "+",
    "&&",
    "||",
    "!",
    "\"",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "~",
    "~2",
    "^3",
    ":",
    "::",
    "\\",
    "/",
    "*",
    "?",
    "**",
    "*?*",
    "a*",
    "ge*",
    "*ung",
    "Wind?raft",
    // Fields, known and unknown, with and without values.
    "az:",
    "az:61.2-08*",
    "akte:",
    "typ:Bescheid",
    "typ:",
    "medium:pdf",
    "medium:image/*",
    "von:",
    "von:Ahlers",
    "an:Landkreis",
    "empfänger:",
    "datum:",
    "datum:2026-03-01",
    "datum:2026-03-01..2026-04-30",
    "datum:..2026",
    "datum:2026..",
    "datum:2026-13-45",
    "datum:31.02.2026",
    "datum:2026-04-30..2026-03-01",
    "status:offen",
    "aktenplan:61",
    "aktenplan:",
    "unbekannt:x",
    "title:",
    "az:\"61.2\"",
    "typ:(Bescheid OR Antrag)",
    // Numbers and dates.
    "2026",
    "01.03.2026",
    "2026-03-01",
    "0",
    "-1",
    "99999999999999999999",
    "1e308",
    "3,5",
    "166,5",
    "17/2",
    // Unicode and control characters.
    "Ärger",
    "ÖL",
    "Üb",
    "ß",
    "ẞ",
    "e\u{301}",
    "\u{200D}",
    "\u{FEFF}",
    "\u{202E}",
    "\u{0}",
    "\t",
    "\n",
    "\r",
    "\u{7F}",
    "🌬️",
    "風力",
    "ﬁ",
    "Ⅻ",
    "\u{10FFFF}",
    "İ",
    "ǅ",
];

/// A random query of one to eight pieces, some glued together, some repeated.
fn query(rng: &mut Rng) -> String {
    let mut q = String::new();
    for _ in 0..1 + rng.below(8) {
        match rng.below(40) {
            0 => q.push_str(&"x".repeat(1 + rng.below(400))),
            1 => q.push_str(&PIECES[rng.below(PIECES.len())].repeat(2 + rng.below(50))),
            n if n % 2 == 0 => q.push_str(WORDS[rng.below(WORDS.len())]),
            _ => q.push_str(PIECES[rng.below(PIECES.len())]),
        }
        match rng.below(4) {
            0 => {}
            1 => q.push_str("  "),
            _ => q.push(' '),
        }
    }
    q
}

#[test]
fn random_queries_are_answered_or_refused_in_one_sentence_and_respect_access() {
    let n: u64 = std::env::var("AKTE_RANDOM_QUERIES").ok().and_then(|n| n.parse().ok()).unwrap_or(3000);
    let index = fixture_index();
    let docs = fixture_docs();
    let reader = akte_token("61.2-0911/2026");
    let readable: std::collections::HashSet<&str> =
        docs.iter().filter(|d| d.readers.contains(&reader)).map(|d| d.dokument_id.as_str()).collect();
    assert!(!readable.is_empty() && readable.len() < docs.len(), "the test needs a partly readable case");
    let one_akte = Access::readers([reader.as_str()]);
    let (mut answered, mut refused, mut with_hits) = (0, 0, 0);
    for i in 0..n {
        let mut rng = Rng(0xA47E ^ i.wrapping_mul(0x1000_0000_01B3));
        let q = query(&mut rng);
        let sort = [Sort::Relevance, Sort::DateDesc, Sort::DateAsc][rng.below(3)];
        let request = SearchRequest { query: q.clone(), sort, ..SearchRequest::default() };
        let run = |access: &Access| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| index.search(&request, access)))
                .unwrap_or_else(|_| panic!("query {i} {q:?}: search panicked"))
        };
        let (all, mine) = (run(&Access::all()), run(&one_akte));
        match (&all, &mine) {
            (Ok(all), Ok(mine)) => {
                answered += 1;
                if !all.hits.is_empty() {
                    with_hits += 1;
                }
                assert!(all.hits.len() as u64 <= all.total, "query {i} {q:?}: more hits than its total");
                assert!(mine.total <= all.total, "query {i} {q:?}: a reader sees more than the operator");
                for hit in &mine.hits {
                    assert!(
                        readable.contains(hit.dokument_id.as_str()),
                        "query {i} {q:?}: a hit outside the reader's Akte: {}",
                        hit.title
                    );
                }
            }
            // Whether a query is refused does not depend on who asks, nor does the reason.
            (Err(Error::Query(e)), Err(Error::Query(same))) if e == same => {
                refused += 1;
                let message = e.to_string();
                if std::env::var_os("AKTE_RANDOM_QUERIES_SHOW").is_some() {
                    println!("refused {q:?}: {message}");
                }
                assert!(
                    !message.is_empty() && message.len() <= 400 && !message.contains('\n'),
                    "query {i} {q:?}: the refusal is not one short sentence: {message:?}"
                );
            }
            (other_all, other_mine) => {
                panic!("query {i} {q:?}: neither an answer nor a query error: {other_all:?} / {other_mine:?}")
            }
        }
    }
    println!("{n} random queries: {answered} answered ({with_hits} with hits), {refused} refused");
    // The generator reaches both paths, and a good share of its queries get hits (their
    // permission checks above test something).
    assert!(refused > 0 && with_hits * 5 > n, "{answered} answered ({with_hits} with hits), {refused} refused");
}
