//! German analysis end to end: folding, stemming, compounds in both directions, phrase
//! positions, hyphenated compounds, typos, field syntax.

use akte_index::analysis::{Mode, analyse};
use akte_index::{Access, Index, IndexDoc, PlanNode, SearchRequest};

fn doc(id: &str, text: &str) -> IndexDoc {
    IndexDoc {
        dokument_id: id.into(),
        akte_id: "a1".into(),
        aktenzeichen: "61.2-0815/2026".into(),
        title: format!("Dokument {id}"),
        text: text.into(),
        readers: vec!["akte:a1".into()],
        ..IndexDoc::default()
    }
}

fn index_of(docs: &[IndexDoc]) -> Index {
    let index = Index::in_memory().unwrap();
    let mut w = index.writer().unwrap();
    for d in docs {
        w.upsert(d).unwrap();
    }
    w.commit(None).unwrap();
    drop(w);
    index
}

/// Ids found for `query`, best first.
fn ids(index: &Index, query: &str) -> Vec<String> {
    index.search(&SearchRequest::new(query), &Access::all()).unwrap().hits.into_iter().map(|h| h.dokument_id).collect()
}

macro_rules! finds {
    ($index:expr, $query:expr, [$($id:expr),*]) => {{
        let mut got = ids(&$index, $query);
        got.sort();
        let mut want: Vec<String> = vec![$($id.to_string()),*];
        want.sort();
        assert_eq!(got, want, "query {:?}", $query);
    }};
}

#[test]
fn folding_makes_umlauts_and_sharp_s_optional() {
    let index = index_of(&[doc("d1", "Die Straßenbaulastträgerin prüft die Größe der Flächen.")]);
    finds!(index, "Strassenbaulasttragerin", ["d1"]);
    finds!(index, "GRÖSSE flachen", ["d1"]);
    finds!(index, "Straßenbaulastträgerin", ["d1"]);
}

#[test]
fn stemming_joins_inflected_forms_and_umlaut_plurals() {
    let index = index_of(&[
        doc("d1", "Die Genehmigungen wurden erteilt."),
        doc("d2", "Mehrere Anträge auf Rotorblätter."),
        doc("d3", "Des Gutachtens wegen."),
    ]);
    finds!(index, "Genehmigung", ["d1"]);
    finds!(index, "Antrag Rotorblatt", ["d2"]);
    finds!(index, "Gutachten", ["d3"]);
}

#[test]
fn compound_parts_find_the_compound_and_compounds_find_only_themselves() {
    let index = index_of(&[
        doc("whole", "Die Windkraftanlagengenehmigung liegt vor."),
        doc("prognose", "Die Schallimmissionsprognose ist plausibel."),
        doc("separate", "Der Schall und die Prognose, getrennt geschrieben."),
    ]);
    for part in ["Windkraft", "Anlage", "Genehmigung", "Windkraftanlage", "Anlagengenehmigung", "windkraft"] {
        finds!(index, part, ["whole"]);
    }
    finds!(index, "Windkraftanlagengenehmigung", ["whole"]);
    // the compound query word is not turned into an OR (or AND) of its parts
    finds!(index, "Schallimmissionsprognose", ["prognose"]);
    finds!(index, "Schall Prognose", ["prognose", "separate"]);
}

#[test]
fn a_compound_no_text_has_finds_the_documents_with_all_its_parts() {
    let index = index_of(&[
        doc("prognose", "Die Schallimmissionsprognose ist plausibel."),
        doc("separate", "Der Schall und die Prognose, getrennt geschrieben."),
        doc("half", "Nur der Schall, sonst nichts."),
    ]);
    finds!(index, "Schallprognose", ["prognose", "separate"]);
    finds!(index, "schallprognose", ["prognose", "separate"]);
    let hit = &index.search(&SearchRequest::new("Schallprognose"), &Access::all()).unwrap().hits;
    assert!(hit.iter().any(|h| h.snippet.contains("<mark>Schall</mark>")), "{hit:?}");
    // Not when one part is missing, and not for a negated word.
    finds!(index, "Schallgutachten", []);
    finds!(index, "Schall -Schallprognose", ["half", "prognose", "separate"]);
}

#[test]
fn compound_parts_stand_at_the_position_of_the_whole_word() {
    let tokens = analyse("Die Windkraftanlagengenehmigung wird erteilt", Mode::Index);
    let at = |p: usize| tokens.iter().filter(|(pos, _)| *pos == p).map(|(_, t)| t.as_str()).collect::<Vec<_>>();
    assert_eq!(at(0), ["die"]);
    assert!(
        at(1).contains(&"windkraftanlagengenehm") && at(1).contains(&"windkraft") && at(1).contains(&"genehm"),
        "{:?}",
        at(1)
    );
    assert_eq!(at(2), ["wird"]);
    let index = index_of(&[
        doc("d1", "Die Genehmigung der Windkraftanlage wird erteilt."),
        doc("d2", "Die Anlage der Genehmigung."),
    ]);
    finds!(index, "\"Genehmigung der Windkraftanlage\"", ["d1"]);
    finds!(index, "\"der Anlage wird\"", ["d1"]);
    finds!(index, "\"Genehmigung der Anlage\"", ["d1"]);
    finds!(index, "\"Anlage der Genehmigung\"", ["d2"]);
}

#[test]
fn hyphenated_compounds_match_the_joined_word_both_ways() {
    let index = index_of(&[
        doc("hyph", "nach dem Umwelt-Rechtsbehelfsgesetz"),
        doc("joined", "nach dem Bundesimmissionsschutzgesetz"),
    ]);
    finds!(index, "Umweltrechtsbehelfsgesetz", ["hyph"]);
    finds!(index, "Umwelt-Rechtsbehelfsgesetz", ["hyph"]);
    finds!(index, "Bundes-Immissionsschutzgesetz", ["joined"]);
}

#[test]
fn letters_and_digits_run_together_find_them_written_apart() {
    let index = index_of(&[
        doc("apart", "Der Turm der WEA 5 steht auf dem Flurstück 12."),
        doc("together", "Prüfbericht Fundament WEA5"),
        doc("other", "Die WEA 3 ist 5 Meter höher."),
    ]);
    finds!(index, "WEA5", ["apart", "together"]);
    finds!(index, "wea5 Turm", ["apart"]);
    finds!(index, "\"WEA 5\"", ["apart"]);
    finds!(index, "Fundament -WEA5", []);
    // And the other way: typed apart, it finds the word written together (an OCR'd table
    // reads WEA1 … WEA5), though not as a phrase.
    finds!(index, "WEA 5 Fundament", ["together"]);
    finds!(index, "Prüfbericht WEA 5", ["together"]);
    let hits = index.search(&SearchRequest::new("WEA5 Turm"), &Access::all()).unwrap().hits;
    assert!(hits[0].snippet.contains("<mark>WEA</mark> <mark>5</mark>"), "{}", hits[0].snippet);
}

#[test]
fn typos_fall_back_to_fuzzy_matching() {
    let index = index_of(&[doc("d1", "Die Baugenehmigung ist erteilt."), doc("d2", "Der Bauantrag ist vollständig.")]);
    finds!(index, "Baugenehmigng", ["d1"]);
    finds!(index, "Baugenehmigungg", ["d1"]);
    finds!(index, "Bauantarg", ["d2"]);
    // short words are not fuzzed: "Bau" stays exact (it is a part of both compounds)
    finds!(index, "Bau", ["d1", "d2"]);
    // an exact match suppresses the fuzzy fallback
    finds!(index, "Bauantrag", ["d2"]);
    let found = index.search(&SearchRequest::new("Baugenehmigng"), &Access::all()).unwrap();
    assert!(found.hits[0].snippet.contains("<mark>Baugenehmigung</mark>"), "{}", found.hits[0].snippet);
    // The reader is told the word as written, not its stem.
    assert_eq!(found.substitutions[0].searched, ["baugenehmigung"], "{:?}", found.substitutions);
    // A typo close to an inflected form's stem, not to the form itself: the snippet marks
    // the word the stem came from.
    // (`Windrat` would split into `wind` and `rat`: a typo is not taken for a compound of
    // a short part.)
    let index = index_of(&[
        doc("d1", "Zur Sache. Die Windräder drehen sich nachts langsamer."),
        doc("d2", "Der Landrat hat zum Wind im Kreis nichts gesagt."),
    ]);
    let hits = index.search(&SearchRequest::new("Windrat"), &Access::all()).unwrap().hits;
    assert_eq!(hits.iter().map(|h| h.dokument_id.as_str()).collect::<Vec<_>>(), ["d1"]);
    assert!(hits[0].snippet.contains("<mark>Windräder</mark>"), "{}", hits[0].snippet);
}

#[test]
fn wildcards_operators_and_fields() {
    let mut a = doc("a", "Schallgutachten zur Windkraftanlage");
    a.document_type = Some("Gutachten".into());
    a.sender = Some("Akustikbüro Lindqvist & Partner".into());
    a.date = Some(time::macros::date!(2026 - 03 - 15));
    a.aktenplan = vec![
        PlanNode { code: "6".into(), title: "Umwelt".into() },
        PlanNode { code: "61".into(), title: "Immissionsschutz".into() },
    ];
    let mut b = doc("b", "Bescheid über die Windkraftanlage");
    b.document_type = Some("Bescheid".into());
    b.title = "Änderungsbescheid WEA K2".into();
    b.aktenzeichen = "61.2-0911/2026".into();
    b.date = Some(time::macros::date!(2026 - 07 - 02));
    b.status = Some("zda".into());
    b.recipient = Some("Bundesamt für Infrastruktur der Bundeswehr".into());
    a.media_type = Some("application/pdf".into());
    b.media_type = Some("application/vnd.oasis.opendocument.text".into());
    let index = index_of(&[a, b]);
    finds!(index, "Windkraft*", ["a", "b"]);
    finds!(index, "Schallgut*", ["a"]);
    // A wildcard's words score: the document with more of them ranks first.
    let mut many = doc("m", "Schallleistung, Schallschutz, Schallimmissionsprognose und Schallgutachten");
    many.title = "Prognose".into();
    let one = doc("o", "Ein Satz über vieles, auch Schallschutz, und noch viel mehr Text dazu");
    let ranked = index_of(&[one, many]);
    assert_eq!(ids(&ranked, "Schall*"), ["m", "o"]);
    let scores: Vec<f32> =
        ranked.search(&SearchRequest::new("Schall*"), &Access::all()).unwrap().hits.iter().map(|h| h.score).collect();
    assert!(scores[0] > scores[1], "{scores:?}");
    finds!(index, "Windkraftanlage -Bescheid", ["a"]);
    finds!(index, "Windkraftanlage NICHT Bescheid", ["a"]);
    finds!(index, "Schallgutachten OR Bescheid", ["a", "b"]);
    finds!(index, "typ:bescheid", ["b"]);
    // A type in another inflection, and media types by their short names.
    finds!(index, "typ:Bescheide", ["b"]);
    finds!(index, "typ:Gutachtens", ["a"]);
    finds!(index, "typ:Beschwerde", []);
    // The type filter (--typ, the API's typ=) takes inflections as typ: does.
    let mut by_filter = SearchRequest::new("Windkraftanlage");
    by_filter.filters.document_type = vec!["Bescheide".into()];
    let hits = index.search(&by_filter, &Access::all()).unwrap().hits;
    assert_eq!(hits.iter().map(|h| h.dokument_id.as_str()).collect::<Vec<_>>(), ["b"]);
    finds!(index, "medium:application/pdf", ["a"]);
    finds!(index, "medium:PDF", ["a"]);
    finds!(index, "medium:odt", ["b"]);
    finds!(index, "medium:application", ["a", "b"]);
    finds!(index, "medium:eml", []);
    // Only filters, nothing that scores: newest first, as with no query at all.
    assert_eq!(ids(&index, "medium:application"), ["b", "a"]);
    assert_eq!(ids(&index, "datum:2026"), ["b", "a"]);
    // A hit that matched in its context, not its text, shows that context in its snippet.
    let by_sender = &index.search(&SearchRequest::new("Lindqvist"), &Access::all()).unwrap().hits[0];
    assert_eq!(
        by_sender.snippet,
        "Absender: Akustikbüro <mark>Lindqvist</mark> &amp; Partner · Dokumenttyp: Gutachten · Akte: 61.2-0815/2026",
        "{by_sender:?}"
    );
    let by_text = &index.search(&SearchRequest::new("Windkraftanlage"), &Access::all()).unwrap().hits[0];
    assert!(by_text.snippet.contains("<mark>Windkraftanlage</mark>") && !by_text.snippet.contains("Absender"));
    let refused = index.search(&SearchRequest::new("medium:kaputt"), &Access::all()).unwrap_err().to_string();
    assert!(refused.contains("not a media type"), "{refused}");
    finds!(index, "absender:Lindqvist", ["a"]);
    finds!(index, "empfänger:Bundeswehr", ["b"]);
    finds!(index, "an:\"Infrastruktur der Bundeswehr\"", ["b"]);
    finds!(index, "absender:Bundeswehr", []);
    finds!(index, "absender:\"Lindqvist & Partner\"", ["a"]);
    finds!(index, "az:61.2-08*", ["a"]);
    finds!(index, "az:61.2-0911/2026", ["b"]);
    finds!(index, "az:61.2*", ["a", "b"]);
    // Without `*`: the Aktenzeichen itself, or every one beginning with what was typed when
    // none is exactly that; `akte:` takes an Aktenzeichen as well as an id.
    finds!(index, "az:61.2-0815", ["a"]);
    finds!(index, "az:61.2", ["a", "b"]);
    finds!(index, "az:61.2-09", ["b"]);
    finds!(index, "az:61.2-0815/2026", ["a"]);
    finds!(index, "akte:61.2-0911/2026", ["b"]);
    finds!(index, "akte:a1", ["a", "b"]);
    // A letter's header lines as pasted, a space after the colon; German date ranges.
    finds!(index, "Aktenzeichen: 61.2-0911/2026", ["b"]);
    finds!(index, "Betreff: K2", ["b"]);
    finds!(index, "datum:01.03.2026 bis 31.03.2026", ["a"]);
    finds!(index, "Datum: 2.7.26", ["b"]);
    finds!(index, "datum:2026-01-01..2026-03-31", ["a"]);
    finds!(index, "datum:07.2026", ["b"]);
    finds!(index, "datum:2026-07..", ["b"]);
    finds!(index, "status:z.d.A.", ["b"]);
    finds!(index, "Windkraftanlage titel:Bescheid", ["b"]);
    finds!(index, "titel:\"WEA K2\"", ["b"]);
    let all = index.search(&SearchRequest::new("Windkraftanlage"), &Access::all()).unwrap();
    assert_eq!(all.facets.document_type.get("Bescheid"), Some(&1));
    assert_eq!(all.facets.aktenplan.get("6"), Some(&1));
    assert_eq!(all.facets.year.get("2026"), Some(&2));
    let mut drill = SearchRequest::new("Windkraftanlage");
    drill.filters.aktenplan = Some("6".into());
    let drilled = index.search(&drill, &Access::all()).unwrap();
    assert_eq!((drilled.total, drilled.facets.aktenplan.get("6/61")), (1, Some(&1)));
}

#[test]
fn az_without_a_star_decides_exact_or_prefix_by_readable_akten_only() {
    // One may read Akte 7-1/2026-B1, not 7-1/2026: `az:7-1/2026` must answer as if the
    // unreadable Akte did not exist (its prefix finds the readable one), not with nothing.
    let mut mine = doc("mine", "Teilakte Bauantrag");
    mine.akte_id = "a-mine".into();
    mine.aktenzeichen = "7-1/2026-B1".into();
    mine.readers = vec!["akte:mine".into()];
    let mut hidden = doc("hidden", "Hauptakte Bauantrag");
    hidden.akte_id = "a-hidden".into();
    hidden.aktenzeichen = "7-1/2026".into();
    hidden.readers = vec!["akte:hidden".into()];
    let index = index_of(&[mine, hidden]);
    let reader = Access::readers(["akte:mine"]);
    let found = index.search(&SearchRequest::new("az:7-1/2026"), &reader).unwrap();
    assert_eq!(found.hits.iter().map(|h| h.dokument_id.as_str()).collect::<Vec<_>>(), ["mine"]);
    // The operator, who reads both, gets the exact one.
    assert_eq!(ids(&index, "az:7-1/2026"), ["hidden"]);
}

#[test]
fn a_day_in_the_query_also_finds_the_documents_dated_that_day() {
    let dated = IndexDoc {
        date: Some(time::macros::date!(2026 - 09 - 18)),
        ..doc("bescheid", "Die Genehmigung wird erteilt.")
    };
    let index = index_of(&[
        dated,
        doc("urkunde", "Zugestellt wurde der Bescheid vom 18.09.2026."),
        doc("anderes", "Ein Vermerk vom 19.09.2026."),
    ]);
    let hits = index.search(&SearchRequest::new("18.09.2026"), &Access::all()).unwrap().hits;
    let ids: Vec<&str> = hits.iter().map(|h| h.dokument_id.as_str()).collect();
    assert_eq!(ids, ["bescheid", "urkunde"], "the dated document first, then the one that cites it");
    // Written the ISO way: the dated document (the text writes the day the German way).
    let iso = index.search(&SearchRequest::new("2026-09-18"), &Access::all()).unwrap().hits;
    assert_eq!(iso.iter().map(|h| h.dokument_id.as_str()).collect::<Vec<_>>(), ["bescheid"]);
    // A section number is not a day (only a four-digit year makes one).
    let section = IndexDoc { date: Some(time::macros::date!(2010 - 01 - 02)), ..doc("alt", "Ein Vermerk.") };
    let numbered = index_of(&[section]);
    assert_eq!(numbered.search(&SearchRequest::new("2.1.10"), &Access::all()).unwrap().total, 0);
    // Excluding the day excludes what mentions it, not what is dated then (as before).
    assert_eq!(index.search(&SearchRequest::new("Genehmigung -18.09.2026"), &Access::all()).unwrap().total, 1);
}

#[test]
fn a_typo_is_not_corrected_to_a_word_only_deleted_documents_had() {
    let index = index_of(&[doc("weg", "Die Baugenehmigung ist erteilt."), doc("da", "Der Bauantrag liegt vor.")]);
    let mut w = index.writer().unwrap();
    w.delete("weg");
    w.commit(None).unwrap();
    drop(w);
    let found = index.search(&SearchRequest::new("Baugenehmigng"), &Access::all()).unwrap();
    assert_eq!(found.total, 0);
    assert!(found.substitutions.iter().all(|s| s.searched.is_empty()), "{:?}", found.substitutions);
}
