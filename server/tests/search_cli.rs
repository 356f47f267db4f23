//! `akte search` end to end: the demo case through the real pipeline (built-in
//! extractors, OCR of the scans) into the index, the relevance set over it, and freshness:
//! changes, new versions and another node's documents show up without a rebuild; `akte
//! reindex` rebuilds the index from the store alone.

mod common;

use std::collections::BTreeMap;

use common::*;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Query {
    query: String,
    top: Option<String>,
    relevant: Vec<String>,
}

fn search(data: &std::path::Path, args: &[&str]) -> Value {
    let mut all = vec!["search", "--json"];
    all.extend_from_slice(args);
    ok(data, &all).json()
}

fn ids(v: &Value) -> Vec<String> {
    v["hits"].as_array().unwrap().iter().map(|h| h["dokument_id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn the_demo_case_is_found_through_extraction_and_ocr_with_recall_at_3_of_at_least_0_9() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/windpark-hohe-heide");
    let demo = ok(&data, &["demo", "--no-serve", "--fixtures", fixtures]).out();
    // The search the demo suggests finds something.
    let hint = demo.lines().find_map(|l| l.split_once(" search '")).map(|(_, q)| q.trim_end_matches('\'')).unwrap();
    assert!(!ids(&search(&data, &[hint])).is_empty(), "the demo suggests {hint:?}, which finds nothing");

    // Fixture path → Dokument id, through each Akte's listing and the case's file names.
    let case: Value = serde_json::from_slice(&std::fs::read(format!("{fixtures}/case.json")).unwrap()).unwrap();
    let mut by_name: BTreeMap<String, String> = BTreeMap::new();
    for akte in ok(&data, &["ls", "--json"]).json().as_array().unwrap() {
        for d in ok(&data, &["ls", akte["id"].as_str().unwrap(), "--json"]).json().as_array().unwrap() {
            let file = d["file"].as_str().unwrap().to_string();
            assert!(by_name.insert(file.clone(), d["id"].as_str().unwrap().to_string()).is_none(), "{file} twice");
        }
    }
    let mut files: Vec<String> = Vec::new();
    let mut collect = |docs: &Value| {
        for d in docs.as_array().unwrap() {
            files.push(d["file"].as_str().unwrap().to_string());
        }
    };
    collect(&case["dokumente"]);
    for more in case["weitere_akten"].as_array().unwrap() {
        collect(&more["dokumente"]);
    }
    let id_of = |path: &str| -> String {
        let full = files.iter().find(|f| f.as_str() == path || f.ends_with(&format!("/{path}"))).map(String::as_str);
        let name = full.unwrap_or(path).rsplit('/').next().unwrap();
        by_name.get(name).cloned().unwrap_or_else(|| panic!("no Dokument for {path}"))
    };

    let queries: Vec<Query> = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../index/tests/queries.json")).unwrap(),
    )
    .unwrap();
    let mut hits = 0;
    let mut misses = Vec::new();
    for q in &queries {
        let found = ids(&search(&data, &[&q.query, "--limit", "3"]));
        let ok = match &q.top {
            Some(top) => found.contains(&id_of(top)),
            None => {
                let relevant: Vec<String> = q.relevant.iter().map(|r| id_of(r)).collect();
                found.len() >= relevant.len().min(3) && found.iter().all(|f| relevant.contains(f))
            }
        };
        if ok {
            hits += 1;
        } else {
            misses.push(format!("{:?}: got {found:?}", q.query));
        }
    }
    let recall = hits as f64 / queries.len() as f64;
    assert!(recall >= 0.9, "recall@3 = {recall:.3} over {} queries; misses:\n{}", queries.len(), misses.join("\n"));

    // A scan is found by words only OCR could have read.
    let scan = id_of("oeffentlichkeit/02-einwendung-harms-scan.png");
    assert!(ids(&search(&data, &["Schlafzimmer offenem Fenster"])).contains(&scan));
    // Search inside one Akte, and facets over all readable hits.
    let inside = search(&data, &["Windenergieanlage", "--akte", "61.2-0911/2026"]);
    assert!(inside["total"].as_u64().unwrap() >= 1);
    let all = search(&data, &["Windenergieanlage"]);
    assert!(all["total"].as_u64() > inside["total"].as_u64());
    assert!(!all["facets"]["document_type"].as_object().unwrap().is_empty(), "{}", all["facets"]);
    // Below an Aktenplan node: the Akten filed there (the two 61.2 Akten; 11.3 holds the
    // third), and a node holds what is below it.
    let total = |args: &[&str]| search(&data, args)["total"].as_u64().unwrap();
    let below = |code: &str| total(&["Windenergieanlage", "--aktenplan", code]);
    let in_akte = |az: &str| total(&["Windenergieanlage", "--akte", az]);
    assert_eq!(below("61.2"), in_akte("61.2-0815/2026") + in_akte("61.2-0911/2026"));
    assert_eq!(below("6"), below("61.2"));
    assert_eq!(below("1"), in_akte("11.3-0042/2026"));
    assert_eq!(below("6") + below("1"), all["total"].as_u64().unwrap());
    // A code the Aktenplan does not have is refused, not answered with no hits.
    let unknown = run(&data, &["search", "Windenergieanlage", "--aktenplan", "61.2-0815"]).fails_with_sentence();
    assert!(unknown.stderr.contains("The Aktenplan has no node \"61.2-0815\""), "{unknown}");
    // A code without a node but with Akten filed there (as `akte create --aktenplan` and
    // imports leave it) is searched as before.
    assert_eq!(below("61.2"), in_akte("61.2-0815/2026") + in_akte("61.2-0911/2026"));
    // --typ takes an inflected type as typ: does.
    assert!(total(&["typ:Einwendung"]) >= 2);
    assert_eq!(total(&["", "--typ", "Einwendungen"]), total(&["typ:Einwendung"]));
    // The human-readable hits show date and type: the order of --sort date can be seen.
    let listed = ok(&data, &["search", "typ:Einwendung", "--sort", "date-asc"]).out();
    let dates: Vec<&str> =
        listed.lines().filter(|l| l.contains("(Einwendung)")).filter_map(|l| l.split("  ").nth(2)).collect();
    assert!(dates.len() >= 2 && dates.windows(2).all(|w| w[0] <= w[1]), "{listed}");
    // An internal Vermerk has no date of receipt or dispatch; it is found by its own date.
    let vermerk = id_of("antrag/05-vermerk-vollstaendigkeitspruefung.txt");
    assert_eq!(ids(&search(&data, &["datum:2026-02-10 typ:Vermerk"])), [vermerk]);
}

#[test]
fn changes_new_versions_and_another_nodes_documents_are_found_without_a_rebuild() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(tmp.path(), "a");
    let akte = create(&a, "61.2-0100/2026", "Windpark Lindenhorst");
    let f1 = write_file(tmp.path(), "vermerk.txt", "Vermerk zur Ortsbesichtigung am Mühlenberg".as_bytes());
    let dok = add(&a, &akte, &[f1])[0]["id"].as_str().unwrap().to_string();
    assert_eq!(ids(&search(&a, &["Ortsbesichtigung"])), std::slice::from_ref(&dok));

    // Metadata: a new title is searchable at once.
    ok(&a, &["set", &dok, "title=Niederschrift Schattenwurfmessung"]);
    assert_eq!(ids(&search(&a, &["titel:Schattenwurfmessung"])), std::slice::from_ref(&dok));
    // A new version replaces the old text.
    let f2 = write_file(tmp.path(), "vermerk-2.txt", "Geänderter Vermerk: Eiswurfgefahr im Winter".as_bytes());
    ok(&a, &["version", &dok, f2.to_str().unwrap()]);
    assert_eq!(ids(&search(&a, &["Eiswurfgefahr"])), std::slice::from_ref(&dok));
    assert!(ids(&search(&a, &["Ortsbesichtigung"])).is_empty(), "the old version's text is gone");

    // Another node on the same store adds a document; this node finds it after its next sync.
    let store = format!("file://{}", a.join("store").display());
    let identity = a.join("identity.txt");
    let b = tmp.path().join("b");
    let f3 = write_file(tmp.path(), "stellungnahme.txt", "Stellungnahme der Gemeinde zum Rotmilan".as_bytes());
    let out = run(
        &b,
        &["--store", &store, "--identity", identity.to_str().unwrap(), "add", &akte, "--json", f3.to_str().unwrap()],
    )
    .ok()
    .json();
    let from_b = out[0]["id"].as_str().unwrap().to_string();
    assert_eq!(ids(&search(&a, &["Rotmilan"])), std::slice::from_ref(&from_b));

    // The index is derived: without it, search rebuilds it from the store.
    std::fs::remove_dir_all(a.join("index")).unwrap();
    assert_eq!(ids(&search(&a, &["Rotmilan"])), [from_b]);
    let re = ok(&a, &["reindex", "--json"]).json();
    assert_eq!(re["indexed"], 2, "{re}");
    assert_eq!(re["pending_ingest"], 0, "{re}");
    assert_eq!(ids(&search(&a, &["Eiswurfgefahr"])), std::slice::from_ref(&dok));

    // The plain listing says which hits of how many it shows.
    assert!(ok(&a, &["search", "Eiswurfgefahr"]).out().starts_with("1 hit(s)\n"));
    let page = ok(&a, &["search", "Windpark OR Eiswurfgefahr OR Rotmilan", "--limit", "1", "--offset", "1"]).out();
    assert!(page.starts_with("2 hit(s), no. 2 to 2\n"), "{page}");
    assert!(ok(&a, &["search", "Eiswurfgefahr", "--offset", "3"]).out().starts_with("1 hit(s), none from no. 4 on"));

    // A query may start with a minus, also before parentheses and quotes.
    assert_eq!(ids(&search(&a, &["-Rotmilan"])), std::slice::from_ref(&dok));
    assert_eq!(ids(&search(&a, &["-(Rotmilan OR Schattenwurfmessung)"])), Vec::<String>::new());
    assert_eq!(ids(&search(&a, &["-\"Gemeinde zum Rotmilan\""])), std::slice::from_ref(&dok));

    // Bad queries are one sentence, not a crash.
    run(&a, &["search", "\"unbalanced"]).fails_with_sentence();
    run(&a, &["search", "x", "--sort", "sideways"]).fails_with_sentence();
    let symbols = run(&a, &["search", "§ €"]).fails_with_sentence();
    assert!(symbols.stderr.contains("no word to search for"), "{symbols}");
    let long = run(&a, &["search", &"q".repeat(70)]).fails_with_sentence();
    assert!(long.stderr.contains("longer than 64 letters"), "{long}");
    assert_ne!(run(&a, &["search", "x", "--limit", "0"]).code, 0);
    assert_ne!(run(&a, &["search", "x", "--limit", "101"]).code, 0);
}

#[test]
fn a_dokument_without_a_date_sorts_by_the_day_it_was_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(tmp.path(), "a");
    let akte = create(&a, "61.2-0101/2026", "Windpark Lindenhorst");
    let old = write_file(tmp.path(), "alt.txt", "Beobachtung Kranichzug im Herbst".as_bytes());
    let new = write_file(tmp.path(), "neu.txt", "Zweite Beobachtung Kranichzug".as_bytes());
    let added = add(&a, &akte, &[old, new]);
    let (old, new) = (added[0]["id"].as_str().unwrap(), added[1]["id"].as_str().unwrap());
    ok(&a, &["set", old, "date=2020-01-15"]);
    let newest_first = search(&a, &["Kranichzug", "--sort", "date"]);
    assert_eq!(ids(&newest_first), [new, old], "{newest_first}");
    assert_eq!(ids(&search(&a, &["Kranichzug", "--sort", "date-asc"])), [old, new]);
    // Its date is the day it was stored: today, on the German calendar (a test run right at
    // midnight may see the day before or after).
    let date = newest_first["hits"][0]["date"].as_str().unwrap_or_else(|| panic!("{newest_first}")).to_string();
    assert!(date.starts_with("20") && date.len() == 10 && date.as_str() > "2020-01-15", "{date}");
    assert_eq!(ids(&search(&a, &[&format!("Kranichzug datum:{date}")])), [new]);
}

#[test]
fn a_word_no_document_has_is_named_with_what_was_searched_instead() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(tmp.path(), "a");
    let akte = create(&a, "61.2-0102/2026", "Windpark Lindenhorst");
    let files = [
        write_file(
            tmp.path(),
            "einwendung.txt",
            "Einwendung gegen die Windenergieanlage, Einwendung zur Nachtruhe".as_bytes(),
        ),
        write_file(tmp.path(), "vermerk.txt", "Vermerk: eine Einwendung ist eingegangen".as_bytes()),
    ];
    let added = add(&a, &akte, &files);
    // A typo: the similar word is searched as if typed, ranked by its weight, and named.
    let found = search(&a, &["Einwendungn"]);
    assert_eq!(ids(&found)[0], added[0]["id"].as_str().unwrap(), "the document with it twice first: {found}");
    assert_eq!(found["substitutions"][0]["kind"], "similar", "{found}");
    assert_eq!(found["substitutions"][0]["word"], "einwendungn", "{found}");
    let plain = ok(&a, &["search", "Einwendungn"]);
    assert!(plain.stderr.contains("searched for similar words: einwendung"), "{}", plain.stderr);
    // A word nothing is like: said so; a word found as typed: nothing to say.
    let none = ok(&a, &["search", "Quxxelbrumm"]);
    assert!(none.stderr.contains("no document has \"quxxelbrumm\""), "{}", none.stderr);
    assert!(search(&a, &["Einwendung"]).get("substitutions").is_none());
}
