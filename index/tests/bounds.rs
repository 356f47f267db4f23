//! Bounds: every pathological input gets an answer or a clear refusal (timings belong in
//! `examples/bench_search.rs`, not here).

use akte_index::limits::{MAX_FUZZY_WORDS, MAX_INDEXED_TEXT_BYTES, MAX_LIMIT, MAX_QUERY_TERMS, MAX_WILDCARD_TERMS};
use akte_index::{Access, Error, Index, IndexDoc, QueryError, SearchRequest};

fn doc(id: &str, text: String) -> IndexDoc {
    IndexDoc { dokument_id: id.into(), akte_id: "a".into(), title: id.into(), text, ..IndexDoc::default() }
}

fn index_of(docs: Vec<IndexDoc>) -> Index {
    let index = Index::in_memory().unwrap();
    let mut w = index.writer().unwrap();
    for d in &docs {
        w.upsert(d).unwrap();
    }
    w.commit(None).unwrap();
    drop(w);
    index
}

fn query_error(index: &Index, q: &str) -> QueryError {
    match index.search(&SearchRequest::new(q), &Access::all()) {
        Err(Error::Query(e)) => e,
        other => panic!("{q:?}: expected a query error, got {other:?}"),
    }
}

/// Letters-only word number `i` (`aaaa`, `aaab`, …) so that analysis keeps it whole.
fn word(prefix: &str, mut i: usize) -> String {
    let mut s = String::from(prefix);
    for _ in 0..5 {
        s.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
    }
    s
}

#[test]
fn a_query_of_a_thousand_terms_is_refused() {
    let index = index_of(vec![doc("d", "Windpark".into())]);
    let q: Vec<String> = (0..1000).map(|i| word("w", i)).collect();
    assert_eq!(query_error(&index, &q.join(" ")), QueryError::TooManyTerms { max: MAX_QUERY_TERMS });
    let ok: Vec<String> = (0..MAX_QUERY_TERMS).map(|_| "Windpark".to_string()).collect();
    assert_eq!(index.search(&SearchRequest::new(ok.join(" ")), &Access::all()).unwrap().total, 1);
    assert!(matches!(query_error(&index, &"x".repeat(100_000)), QueryError::TooLong { .. }));
}

#[test]
fn a_word_too_long_for_the_index_or_a_query_of_symbols_is_refused_not_dropped() {
    let index = index_of(vec![
        doc("d", "Die Grundstücksverkehrsgenehmigung liegt vor.".into()),
        doc("e", "Rotmilan am Windpark".into()),
    ]);
    // 67 letters: longer words are not indexed, so dropping it would find everything.
    let long = "Grundstücksverkehrsgenehmigungszuständigkeitsübertragungsverordnung";
    for q in [
        long.to_string(),
        format!("Rotmilan {long}"),
        format!("\"Windpark {long}\""),
        format!("Windpark titel:{long}"),
        format!("absender:\"Amt {long}\""),
        "q".repeat(65),
    ] {
        assert!(matches!(query_error(&index, &q), QueryError::WordTooLong(_)), "{q}");
    }
    let total = |q: &str| index.search(&SearchRequest::new(q), &Access::all()).unwrap().total;
    assert_eq!(total(&"q".repeat(64)), 0, "64 letters are a word like any other");
    assert_eq!(total("Grundstücksverkehrsgenehmigung"), 1);
    for q in ["§", "€ .", "😀", "/", "-", "\u{0}", "NOT §"] {
        assert_eq!(query_error(&index, q), QueryError::NothingToSearch, "{q:?}");
    }
    // Symbols beside words are left out, as in the text.
    assert_eq!(total("§ Rotmilan"), 1);
    assert_eq!(total("Windpark -(Rotmilan)"), 0);
    assert_eq!(total("Genehmigung -(Rotmilan OR Windpark)"), 1);
    assert_eq!(total("Genehmigung -\"Rotmilan am Windpark\""), 1);
}

#[test]
fn a_negated_phrase_excludes_exactly_the_documents_with_the_phrase() {
    // Documents with the phrase, with its words apart, with and without a second word, in
    // an order that puts phrase documents before, between and after the others.
    let texts = [
        "Windpark Hohe Heide Gemeinde",
        "Windpark Heide Hohe Gemeinde",
        "Windpark",
        "Hohe Heide",
        "Windpark, Hohe Ufer und Heide",
        "Windpark Gemeinde",
        "Windpark Hohe Heide",
    ];
    let docs: Vec<IndexDoc> =
        (0..60).map(|i| doc(&format!("d{i}"), texts[(i * 7 + i / 5 + 2) % texts.len()].into())).collect();
    let count = |keep: &dyn Fn(&str) -> bool| docs.iter().filter(|d| keep(&d.text)).count();
    let phrase = |t: &str| t.contains("Hohe Heide");
    let without = count(&|t| t.contains("Windpark") && !phrase(t));
    let without_both = count(&|t| t.contains("Windpark") && !(t.contains("Gemeinde") && phrase(t)));
    let index = index_of(docs.clone());
    for (q, want) in [
        ("Windpark -\"Hohe Heide\"", without),
        ("Windpark NOT \"Hohe Heide\"", without),
        ("Windpark -(\"Hohe Heide\")", without),
        // A phrase inside an excluded AND, asked by tantivy's intersection.
        ("Windpark -(Gemeinde \"Hohe Heide\")", without_both),
        ("Windpark NOT (\"Hohe Heide\" Gemeinde)", without_both),
    ] {
        assert_eq!(index.search(&SearchRequest::new(q), &Access::all()).unwrap().total as usize, want, "{q}");
    }
}

#[test]
fn pathological_wildcards_are_refused_or_bounded() {
    let vocabulary: Vec<String> = (0..MAX_WILDCARD_TERMS + 500).map(|i| word("ver", i)).collect();
    let index = index_of(vec![doc("d", vocabulary.join(" ")), doc("e", "Verwaltung".into())]);
    for q in ["*", "a*", "*****x", "ve*", "ver*ung", "?erwaltung", "**"] {
        assert!(matches!(query_error(&index, q), QueryError::UnsupportedWildcard(_)), "{q}");
    }
    assert!(matches!(query_error(&index, "ver*"), QueryError::WildcardTooBroad { .. }));
    assert_eq!(index.search(&SearchRequest::new("verwal*"), &Access::all()).unwrap().total, 1);
    assert_eq!(index.search(&SearchRequest::new("veraaa*"), &Access::all()).unwrap().total, 1);
}

#[test]
fn a_wildcard_is_refused_only_for_words_the_reader_may_read() {
    // The reader's document has as many words with the prefix as a wildcard may expand to;
    // one more is only in a document she may not read. Whether her query is refused must
    // not tell her that it exists.
    let mine: Vec<String> = (0..MAX_WILDCARD_TERMS).map(|i| word("wied", i)).collect();
    let readable = IndexDoc { readers: vec!["mine".into()], ..doc("m", mine.join(" ")) };
    let hidden = IndexDoc { readers: vec!["theirs".into()], ..doc("h", "Der Wiedehopf brütet".into()) };
    let index = index_of(vec![readable, hidden]);
    assert!(matches!(query_error(&index, "wied*"), QueryError::WildcardTooBroad { .. }), "all words count for all");
    let res = index.search(&SearchRequest::new("wied*"), &Access::readers(["mine"])).unwrap();
    assert_eq!((res.total, res.hits[0].dokument_id.as_str()), (1, "m"));
    let res = index.search(&SearchRequest::new("wiedehop*"), &Access::readers(["mine"])).unwrap();
    assert_eq!(res.total, 0);
    assert_eq!(index.search(&SearchRequest::new("wiedehop*"), &Access::all()).unwrap().total, 1);
}

#[test]
fn only_the_first_words_without_a_match_get_the_fuzzy_fallback() {
    let index = index_of(vec![doc("d", "Die Genehmigung wurde erteilt".into())]);
    let unknown: Vec<String> = (0..MAX_FUZZY_WORDS).map(|i| word("qqq", i)).collect();
    let total = |q: String| index.search(&SearchRequest::new(q), &Access::all()).unwrap().total;
    // The typo among the first words is found, past the bound it is not.
    assert_eq!(total(format!("Genehmigug OR {}", unknown.join(" OR "))), 1);
    assert_eq!(total(format!("{} OR Genehmigug", unknown.join(" OR "))), 0);
    assert_eq!(total(format!("{} OR Genehmigung", unknown.join(" OR "))), 1);
}

#[test]
fn a_100_mb_text_is_indexed_up_to_the_bound_and_flagged() {
    let head = "Anfang Schallschutzwand ";
    let filler = "Text ohne Bedeutung für die Suche ";
    let mut text = String::with_capacity(100 << 20);
    text.push_str(head);
    while text.len() < MAX_INDEXED_TEXT_BYTES + 1024 {
        text.push_str(filler);
    }
    text.push_str(" Schlusswort ");
    while text.len() < 100 << 20 {
        text.push_str(filler);
    }
    let index = Index::in_memory().unwrap();
    let mut w = index.writer().unwrap();
    assert!(w.upsert(&doc("big", text)).unwrap().truncated);
    assert!(!w.upsert(&doc("small", "Schallschutzwand".into())).unwrap().truncated);
    w.commit(None).unwrap();
    drop(w);
    let found = index.search(&SearchRequest::new("Schallschutzwand"), &Access::all()).unwrap();
    assert_eq!(found.total, 2);
    let big = found.hits.iter().find(|h| h.dokument_id == "big").unwrap();
    assert!(big.truncated && big.snippet.contains("<mark>Schallschutzwand</mark>"));
    assert_eq!(
        index.search(&SearchRequest::new("Schlusswort"), &Access::all()).unwrap().total,
        0,
        "text past the bound is not indexed"
    );
}

#[test]
fn a_document_with_100_000_distinct_tokens_is_fine() {
    let words: Vec<String> = (0..100_000).map(|i| word("z", i)).collect();
    let index = index_of(vec![doc("many", words.join(" ")), doc("other", "zaaaaa".into())]);
    let res = index.search(&SearchRequest::new(&words[77_777]), &Access::all()).unwrap();
    assert_eq!(res.hits.iter().map(|h| h.dokument_id.as_str()).collect::<Vec<_>>(), ["many"]);
}

#[test]
fn pages_are_capped() {
    let index = index_of((0..150).map(|i| doc(&format!("d{i}"), "Windpark".into())).collect());
    let mut req = SearchRequest::new("Windpark");
    req.limit = 1_000;
    let res = index.search(&req, &Access::all()).unwrap();
    assert_eq!((res.total, res.hits.len()), (150, MAX_LIMIT));
    req.offset = 140;
    assert_eq!(index.search(&req, &Access::all()).unwrap().hits.len(), 10);
    req.offset = 1_000_000;
    assert!(matches!(index.search(&req, &Access::all()), Err(Error::InvalidRequest(_))));
    req.offset = 0;
    req.limit = 0;
    let counted = index.search(&req, &Access::all()).unwrap();
    assert_eq!((counted.total, counted.hits.len()), (150, 0));
}

#[test]
fn a_long_chain_of_negations_is_answered_or_refused_without_deep_recursion() {
    // NOT, - and + nest a query as parentheses do; each gets the same bound. Run on a
    // thread with a small stack, as a server's worker has, so that recursion shows.
    let index = index_of(vec![doc("a", "Genehmigung erteilt".into()), doc("b", "Antrag".into())]);
    let handle = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || {
            // (A sign apart from a word is a word itself, refused beyond 64 terms; before a word
            // only its first one is a sign.)
            for op in ["NOT ", "NICHT ", "NOT -", "NICHT +"] {
                let q = format!("{}Genehmigung", op.repeat(8000 / op.len()).chars().take(8000).collect::<String>());
                match index.search(&SearchRequest::new(&q), &Access::all()) {
                    Ok(_) | Err(Error::Query(_)) => {}
                    Err(e) => panic!("{op:?} chain: {e}"),
                }
            }
        })
        .unwrap();
    handle.join().expect("a chain of negations overflowed a 1 MiB stack");
}
