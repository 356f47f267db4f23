//! Permissions inside the query: a user without the token of the VS-NfD personnel file
//! (`11.3-0042/2026`) never sees its documents, in hits, totals, facet counts, snippets,
//! through typos, wildcards or queries that only the restricted documents match.

mod common;

use akte_index::{Access, SearchRequest, SearchResponse, SubstitutionKind};
use common::{akte_token, fixture_docs, fixture_index};

const RESTRICTED: &str = "11.3-0042/2026";

fn clerk() -> Access {
    Access::readers([akte_token("61.2-0815/2026"), akte_token("61.2-0911/2026")])
}

fn restricted_ids() -> Vec<String> {
    fixture_docs().into_iter().filter(|d| d.aktenzeichen == RESTRICTED).map(|d| d.dokument_id).collect()
}

fn assert_nothing_restricted(res: &SearchResponse, what: &str) {
    let restricted = restricted_ids();
    for h in &res.hits {
        assert!(!restricted.contains(&h.dokument_id), "{what}: restricted hit {}", h.dokument_id);
        assert!(!h.aktenzeichen.starts_with("11.3"), "{what}: {}", h.aktenzeichen);
    }
    assert!(!res.facets.aktenplan.contains_key("1"), "{what}: Aktenplan 1 counted: {:?}", res.facets.aktenplan);
}

fn all_hits(query: &str, access: &Access) -> SearchResponse {
    let mut req = SearchRequest::new(query);
    req.limit = 100;
    fixture_index().search(&req, access).unwrap()
}

#[test]
fn queries_that_only_match_the_restricted_file_find_nothing() {
    let index = fixture_index();
    for q in [
        "Entgeltgruppe Probezeit",
        "Entgeltgruppe",
        "Entgeltgrupe",
        "Entgelt*",
        "Auswahlverfahren",
        "az:11.3*",
        "\"Beschäftigte Nr. 4711\"",
    ] {
        let mut req = SearchRequest::new(q);
        req.limit = 100;
        let everyone = index.search(&req, &Access::all()).unwrap();
        assert!(everyone.total > 0, "{q}: the restricted documents must exist for an administrator");
        let res = index.search(&req, &clerk()).unwrap();
        assert_eq!(res.total, 0, "{q}: total leaks");
        assert!(res.hits.is_empty(), "{q}");
        assert_eq!(res.facets, akte_index::Facets::default(), "{q}: facets leak");
    }
}

#[test]
fn totals_facets_and_snippets_count_only_readable_documents() {
    let restricted = restricted_ids();
    // "Immissionsschutz" occurs in the open files and in the restricted training request
    for q in ["", "Immissionsschutz", "Antrag", "Vermerk", "Landkreis Heideland"] {
        let everyone = all_hits(q, &Access::all());
        let user = all_hits(q, &clerk());
        let hidden = everyone.hits.iter().filter(|h| restricted.contains(&h.dokument_id)).count() as u64;
        assert!(q.is_empty() || hidden > 0, "{q}: pick a query that matches a restricted document");
        assert_eq!(user.total, everyone.total - hidden, "{q}: total");
        assert_nothing_restricted(&user, q);
        let typed: u64 = user.facets.document_type.values().sum();
        let years: u64 = user.facets.year.values().sum();
        assert_eq!((typed, years), (user.total, user.total), "{q}: facet counts must add up to the readable total");
        for h in &user.hits {
            assert!(!h.snippet.contains("Entgeltgruppe"), "{q}: snippet {}", h.snippet);
        }
    }
}

#[test]
fn no_tokens_no_documents_and_akte_tokens_scope_search() {
    let index = fixture_index();
    let none = index.search(&SearchRequest::new(""), &Access::readers(Vec::<String>::new())).unwrap();
    assert_eq!((none.total, none.hits.len()), (0, 0));
    let only_restricted = index.search(&SearchRequest::new(""), &Access::readers([akte_token(RESTRICTED)])).unwrap();
    assert_eq!(only_restricted.total, 3);
    let mut in_akte = SearchRequest::new("Rotorblatt");
    in_akte.filters.akte = vec![format!("akte-{RESTRICTED}")];
    assert_eq!(index.search(&in_akte, &clerk()).unwrap().total, 0, "filtering by a foreign Akte reveals nothing");
}

/// The readable documents of each segment are cached between searches; a change of a
/// document's readers, a deletion and a new segment must show in the very next search.
#[test]
fn cached_access_follows_changes_of_readers_and_deletions() {
    let dir = tempfile::tempdir().unwrap();
    let index = akte_index::Index::open(dir.path()).unwrap();
    let doc = |id: &str, reader: &str| akte_index::IndexDoc {
        dokument_id: id.into(),
        akte_id: "a".into(),
        readers: vec![reader.into()],
        text: "Schallimmissionsprognose für den Windpark".into(),
        ..akte_index::IndexDoc::default()
    };
    let ids = |access: &Access| -> Vec<String> {
        let mut ids: Vec<String> = index
            .search(&SearchRequest::new("Schall"), access)
            .unwrap()
            .hits
            .into_iter()
            .map(|h| h.dokument_id)
            .collect();
        ids.sort();
        ids
    };
    let (a, b) = (Access::readers(["akte:a"]), Access::readers(["akte:b"]));
    let mut w = index.writer().unwrap();
    w.upsert(&doc("d1", "akte:a")).unwrap();
    w.upsert(&doc("d2", "akte:a")).unwrap();
    w.commit(None).unwrap();
    assert_eq!((ids(&a), ids(&b)), (vec!["d1".to_string(), "d2".to_string()], Vec::<String>::new()));
    // d1 moves to reader b: a delete in the old segment and a new segment
    w.upsert(&doc("d1", "akte:b")).unwrap();
    w.commit(None).unwrap();
    assert_eq!((ids(&a), ids(&b)), (vec!["d2".to_string()], vec!["d1".to_string()]));
    w.delete("d2");
    w.commit(None).unwrap();
    assert_eq!((ids(&a), ids(&b)), (Vec::<String>::new(), vec!["d1".to_string()]));
    // both tokens at once is another set than either alone
    assert_eq!(ids(&Access::readers(["akte:a", "akte:b"])), vec!["d1".to_string()]);
    assert_eq!(index.search(&SearchRequest::new("Windpark"), &a).unwrap().total, 0);
}

#[test]
fn a_typo_is_corrected_only_to_words_the_reader_may_read() {
    let index = fixture_index();
    // Only the restricted file has "Entgeltgruppe": for the clerk the typo has no similar
    // word (and says so), for the operator it is corrected.
    let req = SearchRequest::new("Entgeltgrupe");
    let clerk_sees = index.search(&req, &clerk()).unwrap();
    assert_eq!(clerk_sees.total, 0);
    let subs = &clerk_sees.substitutions;
    assert!(matches!(&subs[..], [s] if s.kind == SubstitutionKind::None && s.searched.is_empty()), "{subs:?}");
    let operator_sees = index.search(&req, &akte_index::Access::all()).unwrap();
    let subs = &operator_sees.substitutions;
    assert!(
        matches!(&subs[..], [s] if s.kind == SubstitutionKind::Similar && s.searched.contains(&"entgeltgruppe".to_string())),
        "{subs:?}"
    );
    // A word that matches as typed has no substitution.
    assert!(index.search(&SearchRequest::new("Rotmilan"), &clerk()).unwrap().substitutions.is_empty());
}
