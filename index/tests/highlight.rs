//! What a query marks in snippets, and what a word is also searched as: phrases of numbers,
//! quoted single words in a field, abbreviations.

use akte_index::{Access, Index, IndexDoc, SearchRequest, SearchResponse};

fn doc(id: &str, text: &str) -> IndexDoc {
    IndexDoc { dokument_id: id.into(), akte_id: "a".into(), title: id.into(), text: text.into(), ..IndexDoc::default() }
}

fn index(docs: &[IndexDoc]) -> (tempfile::TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    let mut w = index.writer().unwrap();
    for d in docs {
        w.upsert(d).unwrap();
    }
    w.commit(Some("c")).unwrap();
    drop(w);
    (dir, index)
}

fn search(index: &Index, q: &str) -> SearchResponse {
    index.search(&SearchRequest::new(q), &Access::all()).unwrap()
}

#[test]
fn a_number_is_marked_where_it_stands_even_after_its_parts_stood_alone() {
    let filler = "Der Vorhabenträger hat die Unterlagen vollständig eingereicht. ".repeat(20);
    let text =
        format!("Flur 17, Abschnitt 3 der Karte. {filler}Betroffen ist das Flurstück 17/3 in der Gemarkung Heide.");
    let (_dir, index) = index(&[doc("d1", &text)]);
    let r = search(&index, "17/3");
    assert_eq!(r.total, 1);
    let snippet = &r.hits[0].snippet;
    assert!(snippet.contains("<mark>17</mark>/<mark>3</mark>"), "{snippet}");
    assert!(!snippet.contains("Flur <mark>17</mark>,"), "{snippet}");
}

#[test]
fn a_quoted_word_in_a_field_is_marked() {
    let mut d = doc("d1", "Anbei die Schallimmissionsprognose.");
    d.sender = Some("Akustikbüro Lindqvist".into());
    let (_dir, index) = index(&[d]);
    let r = search(&index, "absender:\"Lindqvist\"");
    assert_eq!(r.total, 1);
    assert!(r.hits[0].snippet.contains("<mark>Lindqvist</mark>"), "{}", r.hits[0].snippet);
}

#[test]
fn an_abbreviation_finds_what_it_stands_for_and_back() {
    let (_dir, index) = index(&[
        doc("kurz", "Die WEA 4 und die WEA 5 liegen in der Schutzzone IIIB."),
        doc("lang", "Jede Windenergieanlage erhält eine Befeuerung."),
        doc("verordnung", "Nach der 4. BImSchV ist die Anlage genehmigungsbedürftig."),
    ]);
    let ids = |r: &SearchResponse| {
        let mut v: Vec<String> = r.hits.iter().map(|h| h.dokument_id.clone()).collect();
        v.sort();
        v
    };
    let r = search(&index, "Windenergieanlage");
    assert_eq!(ids(&r), ["kurz", "lang"]);
    assert_eq!(r.hits[0].dokument_id, "lang", "the word as typed ranks first");
    assert!(r.hits.iter().any(|h| h.snippet.contains("<mark>WEA</mark>")), "{:?}", r.hits);
    assert_eq!(ids(&search(&index, "WEA")), ["kurz", "lang"]);
    assert_eq!(ids(&search(&index, "Windenergieanlagen Schutzzone")), ["kurz"]);
    // No readable text has BImSchG: it is not taken for the similar BImSchV.
    let r = search(&index, "BImSchG");
    assert_eq!(r.total, 0, "{:?}", r.hits);
    assert!(r.substitutions.is_empty(), "{:?}", r.substitutions);
}
