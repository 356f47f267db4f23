//! Unit tests of the catalog: op fields, history replay, duplicate creates.

use super::*;

/// The record name of every op here (the catalog does not read records).
const R: Name = Name::from_bytes([7; 32]);

#[test]
fn fields_keep_their_json_text_and_parse_back_to_the_same_map() {
    let mut map = Map::new();
    map.insert("title".into(), Value::from("Schallimmissionsprognose"));
    map.insert("size".into(), Value::from(18_432));
    map.insert("tags".into(), serde_json::json!(["a", {"b": null}]));
    let fields = Fields::new(&map);
    assert_eq!(fields.map(), map);
    assert!(!fields.is_empty());
    // Written into the cache as the object itself, and read back the same.
    let text = serde_json::to_string(&fields).unwrap();
    assert_eq!(text, serde_json::to_string(&map).unwrap());
    let back: Fields = serde_json::from_str(&text).unwrap();
    assert_eq!(back.map(), map);
}

#[test]
fn fields_are_empty_however_the_empty_object_is_written() {
    assert!(Fields::empty().is_empty());
    assert!(Fields::new(&Map::new()).is_empty());
    for text in ["{}", "{ }", " {\n} "] {
        let f: Fields = serde_json::from_str(text).unwrap();
        assert!(f.is_empty(), "{text:?}");
        assert_eq!(serde_json::to_string(&f).unwrap(), "{}");
    }
}

fn entry(ms: u64, node: &str, seq: u64, actor: &str, ops: Vec<(Op, Value)>) -> CEntry {
    CEntry {
        hlc: Hlc { ms, c: 0 },
        node: node.into(),
        seq,
        mac: format!("mac-{node}-{seq}"),
        actor: actor.into(),
        ops: ops.into_iter().map(|(op, f)| (op, Fields::new(f.as_object().unwrap()))).collect(),
        packs: Vec::new(),
    }
}

fn create(kind: ObjKind, id: Uuid, parent: Option<Uuid>) -> Op {
    Op::Create { kind, id, parent, record: R, content: None }
}

/// (action, actor, object, changes as (field, old, new)) per history entry.
type Summary = Vec<(String, String, Uuid, Vec<(String, Value, Value)>)>;

fn summary(h: &[HistoryEntry]) -> Summary {
    h.iter()
        .map(|e| {
            let changes = e.changes.iter().map(|c| (c.field.clone(), c.old.clone(), c.new.clone())).collect();
            (e.action.clone(), e.actor.clone(), e.object, changes)
        })
        .collect()
}

#[test]
fn history_is_replayed_with_old_values_versions_and_reads() {
    use serde_json::json;
    let (akte, dok, v1, v2, stray, ghost) = (
        Uuid::from_u128(1),
        Uuid::from_u128(2),
        Uuid::from_u128(3),
        Uuid::from_u128(4),
        Uuid::from_u128(5),
        Uuid::from_u128(6),
    );
    let mut cat = Catalog::new(Uuid::from_u128(99));
    cat.add(vec![
        entry(
            1,
            "a",
            1,
            "anna",
            vec![
                (create(ObjKind::Akte, akte, None), json!({"aktenzeichen": "61.2-1", "title": "Windpark"})),
                (create(ObjKind::Dokument, dok, Some(akte)), json!({"title": "Antrag"})),
                (create(ObjKind::Version, v1, Some(dok)), json!({"file_name": "a.pdf", "size": 3})),
            ],
        ),
        // An update of an object nobody created and a version of an unknown Dokument.
        entry(
            2,
            "b",
            1,
            "ben",
            vec![
                (Op::Update { id: ghost, record: R }, json!({"title": "x"})),
                (create(ObjKind::Version, stray, Some(ghost)), json!({"file_name": "s.txt"})),
            ],
        ),
        entry(
            3,
            "a",
            2,
            "anna",
            vec![
                (Op::Update { id: akte, record: R }, json!({"title": "Windpark Hohe Heide", "status": "offen"})),
                (Op::Read { id: dok, actor: "user:carla".into(), action: "content".into() }, json!({})),
            ],
        ),
        entry(
            4,
            "b",
            2,
            "ben",
            vec![
                (create(ObjKind::Version, v2, Some(dok)), json!({"file_name": "a2.pdf"})),
                // Created twice: the later create is ignored, in the history too.
                (create(ObjKind::Dokument, dok, Some(akte)), json!({"title": "Doppelt"})),
                (Op::Update { id: akte, record: R }, json!({"status": null, "title": "Windpark Hohe Heide"})),
            ],
        ),
    ]);
    let null = Value::Null;
    assert_eq!(
        summary(&cat.history(&akte)),
        vec![
            (
                "create".into(),
                "anna".into(),
                akte,
                vec![
                    ("aktenzeichen".into(), null.clone(), json!("61.2-1")),
                    ("title".into(), null.clone(), json!("Windpark")),
                ]
            ),
            (
                "update".into(),
                "anna".into(),
                akte,
                vec![
                    ("status".into(), null.clone(), json!("offen")),
                    ("title".into(), json!("Windpark"), json!("Windpark Hohe Heide")),
                ]
            ),
            ("update".into(), "ben".into(), akte, vec![("status".into(), json!("offen"), null.clone())]),
        ]
    );
    assert_eq!(
        summary(&cat.history(&dok)),
        vec![
            ("create".into(), "anna".into(), dok, vec![("title".into(), null.clone(), json!("Antrag"))]),
            (
                "add-version".into(),
                "anna".into(),
                v1,
                vec![("file_name".into(), null.clone(), json!("a.pdf")), ("size".into(), null.clone(), json!(3)),]
            ),
            ("content".into(), "user:carla".into(), dok, vec![]),
            ("add-version".into(), "ben".into(), v2, vec![("file_name".into(), null.clone(), json!("a2.pdf"))]),
        ]
    );
    assert!(cat.history(&v1).is_empty(), "a version's history is on its Dokument");
    assert!(cat.history(&ghost).is_empty());
    assert_eq!(
        summary(&cat.history(&stray)),
        vec![("create".into(), "ben".into(), stray, vec![("file_name".into(), null.clone(), json!("s.txt"))])]
    );
    // Times and nodes come from the entries.
    let h = cat.history(&akte);
    assert_eq!((h[1].at, h[1].node.as_str(), h[2].node.as_str()), (Hlc { ms: 3, c: 0 }, "a", "b"));
    // An entry that sorts before the others refolds the state; the history follows.
    cat.add(vec![entry(
        0,
        "c",
        1,
        "dora",
        vec![(Op::Read { id: akte, actor: "user:dora".into(), action: "metadata".into() }, json!({}))],
    )]);
    assert_eq!(cat.history(&akte).len(), 3, "a read of an object not yet created is not recorded");
    cat.add(vec![entry(
        2,
        "c",
        2,
        "dora",
        vec![(Op::Update { id: akte, record: R }, json!({"title": "Zwischentitel"}))],
    )]);
    let titles: Vec<_> = cat
        .history(&akte)
        .iter()
        .flat_map(|e| e.changes.iter().filter(|c| c.field == "title").map(|c| (c.old.clone(), c.new.clone())))
        .collect();
    assert_eq!(
        titles,
        vec![
            (null.clone(), json!("Windpark")),
            (json!("Windpark"), json!("Zwischentitel")),
            (json!("Zwischentitel"), json!("Windpark Hohe Heide")),
        ]
    );
    // A version's own history holds its updates, whose old values are the fields it was
    // created with (its create is on the Dokument); a value set again is no change.
    cat.add(vec![entry(
        5,
        "a",
        3,
        "anna",
        vec![(Op::Update { id: v1, record: R }, json!({"file_name": "a-final.pdf", "size": 3}))],
    )]);
    assert_eq!(
        summary(&cat.history(&v1)),
        vec![("update".into(), "anna".into(), v1, vec![("file_name".into(), json!("a.pdf"), json!("a-final.pdf"))])]
    );
    assert_eq!(cat.history_start(&akte), Some((Hlc { ms: 1, c: 0 }, "a")));
    assert_eq!(cat.history_start(&ghost), None);
}

#[test]
fn a_second_create_neither_voids_a_live_object_nor_revives_a_deleted_one() {
    use serde_json::json;
    let [a, b, c, x, y] = [1u128, 2, 3, 4, 5].map(Uuid::from_u128);
    let mut cat = Catalog::new(Uuid::from_u128(99));
    cat.add(vec![
        entry(
            1,
            "a",
            1,
            "anna",
            vec![
                (create(ObjKind::Akte, a, None), json!({"aktenzeichen": "A-1", "title": "A"})),
                (create(ObjKind::Akte, b, None), json!({"aktenzeichen": "B-1", "title": "B"})),
                (create(ObjKind::Akte, c, None), json!({"aktenzeichen": "C-1", "title": "C"})),
                (create(ObjKind::Dokument, x, Some(a)), json!({"title": "X"})),
                (create(ObjKind::Dokument, y, Some(c)), json!({"title": "Y"})),
            ],
        ),
        entry(2, "a", 2, "anna", vec![(Op::Update { id: x, record: R }, json!({"title": "X2"}))]),
        entry(
            3,
            "a",
            3,
            "anna",
            vec![
                (Op::Delete { id: b, record: R }, json!({"basis": "test"})),
                (Op::Delete { id: c, record: R }, json!({"basis": "test"})),
            ],
        ),
        // X again, under the deleted B; Y again, under the live A.
        entry(
            4,
            "b",
            1,
            "ben",
            vec![
                (create(ObjKind::Dokument, x, Some(b)), json!({"title": "dup"})),
                (create(ObjKind::Dokument, y, Some(a)), json!({"title": "Y revived"})),
            ],
        ),
    ]);
    for cat in [cat.clone(), {
        let mut again = cat.clone();
        again.refold();
        again
    }] {
        assert_eq!(cat.get(&x).and_then(|o| o.text("title")), Some("X2"));
        assert!(!cat.state.erased.contains_key(&x));
        let titles: Vec<_> = cat.history(&x).iter().flat_map(|e| e.changes.clone()).map(|c| c.new).collect();
        assert_eq!(titles, vec![json!("X"), json!("X2")]);
        assert!(cat.get(&y).is_none(), "a deleted Dokument stays deleted");
        assert_eq!(cat.dokumente_of(&a).iter().map(|d| d.id).collect::<Vec<_>>(), vec![x]);
        assert!(cat.state.conflicts.iter().any(|c| c.contains(&x.to_string()) && c.contains("created twice")));
    }
}

#[test]
fn fields_that_are_not_an_object_are_refused() {
    for text in ["[]", "\"title\"", "null", "3", "{\"a\":", "{} x"] {
        assert!(serde_json::from_str::<Fields>(text).is_err(), "{text:?}");
    }
}

#[test]
fn the_few_kinds_are_listed_as_a_scan_would_find_them() {
    use serde_json::json;
    let id = Uuid::from_u128;
    let mut cat = Catalog::new(id(99));
    // Two Aktenplan nodes with one code (written at once on two nodes), created in the
    // opposite order of their ids; an account, a token, a plugin; and case data.
    cat.add(vec![
        entry(1, "a", 1, "anna", vec![(create(ObjKind::Aktenplan, id(20), None), json!({"code": "61", "title": "B"}))]),
        entry(2, "b", 1, "bert", vec![(create(ObjKind::Aktenplan, id(10), None), json!({"code": "61", "title": "A"}))]),
        entry(
            3,
            "a",
            2,
            "anna",
            vec![
                (create(ObjKind::Aktenplan, id(30), Some(id(10))), json!({"code": "61.2"})),
                (create(ObjKind::Account, id(40), None), json!({"name": "anna"})),
                (create(ObjKind::Token, id(41), None), json!({"name": "fv", "hash": "ab"})),
                (create(ObjKind::Plugin, id(42), None), json!({"name": "windkraft"})),
                (create(ObjKind::Akte, id(1), None), json!({"aktenzeichen": "1/2026", "aktenplan": "61.2"})),
                (create(ObjKind::Dokument, id(2), Some(id(1))), json!({"title": "Antrag"})),
            ],
        ),
        // The code moves from one node to another: the lookup follows.
        entry(4, "a", 3, "anna", vec![(Op::Update { id: id(30), record: R }, json!({"code": "61.3"}))]),
    ]);
    for kind in [
        ObjKind::Aktenplan,
        ObjKind::Account,
        ObjKind::Token,
        ObjKind::Plugin,
        ObjKind::Akte,
        ObjKind::Dokument,
        ObjKind::Version,
    ] {
        let listed: Vec<Uuid> = cat.all(kind).map(|o| o.id).collect();
        let scanned: Vec<Uuid> = cat.state.objects.values().filter(|o| o.kind == kind).map(|o| o.id).collect();
        assert_eq!(listed, scanned, "{kind:?}");
    }
    assert_eq!(cat.all(ObjKind::Aktenplan).count(), 3);
    // Of two nodes with one code, the lower id.
    assert_eq!(cat.plan_node("61").map(|n| n.id), Some(id(10)));
    assert_eq!(cat.plan_node("61.3").map(|n| n.id), Some(id(30)));
    assert!(cat.plan_node("61.2").is_none());
}
