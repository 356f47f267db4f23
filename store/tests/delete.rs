//! Deletion after retention: the delete op voids an Akte in the merge, the erasure removes
//! what only it used (records, contents, chunks, derived results, packs) and keeps what a
//! live Akte shares, and every node, a fresh one included, agrees; `verify` stays clean.

mod common;

use std::collections::BTreeSet;

use akte_store::{
    Change, Name,
    erase::{self, Refusal},
    journal::Op,
    model::ObjKind,
    object::Kind,
    verify,
};
use common::{Env, fields};
use serde_json::json;
use uuid::Uuid;

fn names(listing: &[object_store::ObjectMeta]) -> BTreeSet<Name> {
    listing
        .iter()
        .filter_map(|m| m.location.as_ref().strip_prefix("objects/").map(|r| r[3..].parse().unwrap()))
        .collect()
}

async fn close(repo: &mut akte_store::Repository, akte: Uuid, laufzeit_ende: &str, years: u32) {
    repo.commit(vec![Change::Update {
        id: akte,
        fields: fields(json!({"status": "zda", "laufzeit_ende": laufzeit_ende, "retention_years": years})),
    }])
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_akte_erases_what_only_it_used_and_keeps_what_others_share() {
    let env = Env::file();
    let mut repo = env.init().await;
    repo.chunk_size = 256 << 10;
    let a = common::create_akte(&mut repo, "61.2-0001/2010", "Windpark Nord, Antrag Erika Mustermann").await;
    let b = common::create_akte(&mut repo, "61.2-0002/2020", "Windpark Süd").await;

    // Unique small and large content in A; a small and a large content shared with B.
    let (_, small_a) = common::add_doc(&mut repo, a, "gutachten.txt", b"nur in Akte A").await;
    let large_a = common::bytes(1, 1_100_000);
    let (_, large_a_ver) = common::add_doc(&mut repo, a, "plan.bin", &large_a).await;
    let shared_large = common::bytes(2, 900_000);
    common::add_doc(&mut repo, a, "karte.bin", &shared_large).await;
    common::add_doc(&mut repo, a, "gemeinsam.txt", b"in beiden Akten").await;
    let (_, b_large) = common::add_doc(&mut repo, b, "karte-kopie.bin", &shared_large).await;
    let (_, b_small) = common::add_doc(&mut repo, b, "gemeinsam.txt", b"in beiden Akten").await;
    // One commit touching both Akten: their records share a pack.
    let (da, db) = (Uuid::now_v7(), Uuid::now_v7());
    repo.commit(vec![
        Change::Create {
            kind: ObjKind::Dokument,
            id: da,
            parent: Some(a),
            content: None,
            fields: fields(json!({"title": "Vermerk A"})),
        },
        Change::Create {
            kind: ObjKind::Dokument,
            id: db,
            parent: Some(b),
            content: None,
            fields: fields(json!({"title": "Vermerk B"})),
        },
    ])
    .await
    .unwrap();
    // A derived result (extracted text) of A's unique small content.
    let small_root = repo.catalog().get(&small_a).unwrap().content.unwrap();
    let text = repo.store_bytes(br#"{"text":"nur in Akte A"}"#.to_vec()).await.unwrap();
    let text_root = text.root;
    repo.commit(vec![Change::Derive { content: small_root, producer: "extract:test@1".into(), result: text }])
        .await
        .unwrap();
    // The history an import brought for A (see FORMAT.md, "Provenance").
    let prov = repo.store_bytes(br#"{"history":"Import von Erika Mustermann"}"#.to_vec()).await.unwrap();
    let prov_root = prov.root;
    repo.commit(vec![Change::Derive {
        content: prov_root,
        producer: format!("akte-exchange:provenance:{a}"),
        result: prov,
    }])
    .await
    .unwrap();
    assert!(repo.catalog().derived(&prov_root).is_some());
    let large_root = repo.catalog().get(&large_a_ver).unwrap().content.unwrap();
    close(&mut repo, a, "2010-12-31", 10).await;
    // After closing: a legal hold set and lifted, the Laufzeit corrected. The history goes
    // with the Akte; the evidence keeps these changes.
    for f in [json!({"legal_hold": true}), json!({"legal_hold": false, "laufzeit_ende": "2010-06-30"})] {
        repo.commit(vec![Change::Update { id: a, fields: fields(f) }]).await.unwrap();
    }

    // Everything A's ops reference, by name.
    let a_ids: BTreeSet<Uuid> =
        repo.catalog().state.objects.values().filter(|o| o.akte == Some(a)).map(|o| o.id).collect();
    let records_of = |repo: &akte_store::Repository, mine: bool| -> BTreeSet<Name> {
        repo.catalog()
            .entries
            .iter()
            .flat_map(|e| &e.ops)
            .filter_map(|(op, _)| match op {
                Op::Create { id, record, .. } | Op::Update { id, record } if a_ids.contains(id) == mine => {
                    Some(*record)
                }
                _ => None,
            })
            .collect()
    };
    // Records with the same fields are stored once: B's "gemeinsam.txt" shares A's.
    let others = records_of(&repo, false);
    let a_records: Vec<Name> = records_of(&repo, true).difference(&others).cloned().collect();
    assert!(records_of(&repo, true).intersection(&others).count() >= 2);
    let large_chunks: Vec<Name> = {
        let m = repo.objects().get(&large_root, Kind::Manifest).await.unwrap();
        let m: serde_json::Value = serde_json::from_slice(&m).unwrap();
        m["chunks"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().parse().unwrap()).collect()
    };
    assert!(large_chunks.len() >= 4, "the large content is chunked");

    let today = time::OffsetDateTime::now_utc().date();
    let akte_a = repo.catalog().get(&a).unwrap().clone();
    assert_eq!(erase::check_deletable(repo.catalog(), &akte_a, today), Ok(()));
    let evidence = erase::evidence(repo.catalog(), &akte_a, "retention", Some("Frist abgelaufen"));
    assert!(!serde_json::to_string(&evidence).unwrap().contains("Mustermann"), "evidence holds no title");
    let year = today.year().to_string();
    assert!(evidence["zda_recorded"]["time"].as_str().unwrap().starts_with(&year), "{evidence:?}");
    assert_eq!(evidence["closed"], "2010-06-30", "the Laufzeit as corrected");
    let changes: Vec<(&str, &serde_json::Value, &serde_json::Value)> = evidence["retention_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["field"].as_str().unwrap(), &c["old"], &c["new"]))
        .collect();
    for expected in [
        ("status", &serde_json::Value::Null, &json!("zda")),
        ("legal_hold", &serde_json::Value::Null, &json!(true)),
        ("legal_hold", &json!(true), &json!(false)),
        ("laufzeit_ende", &json!("2010-12-31"), &json!("2010-06-30")),
    ] {
        assert!(changes.contains(&expected), "{expected:?} in {changes:?}");
    }
    let report = repo.delete(vec![(a, evidence)]).await.unwrap();
    assert!(report.objects > 0 && report.packs > 0, "{report:?}");
    assert!(report.repacked > 0, "B's record shared a pack with A's: {report:?}");
    assert!(report.shared >= 2, "shared contents are kept: {report:?}");

    // The merged state: A is gone, its tombstone holds the evidence, B is whole.
    let cat = repo.catalog();
    assert!(cat.get(&a).is_none() && cat.find_akte("61.2-0001/2010").is_none());
    assert!(a_ids.iter().all(|id| cat.get(id).is_none()));
    let stone = &cat.state.deleted[&a];
    assert_eq!(stone.evidence["aktenzeichen"], "61.2-0001/2010");
    assert_eq!(stone.evidence["dokumente"], 5);
    assert_eq!(stone.objects.len(), a_ids.len() - 1);
    assert!(cat.history(&a).is_empty());
    assert!(cat.derived(&small_root).is_none(), "results of erased content are void");
    assert_eq!(cat.get(&db).unwrap().text("title"), Some("Vermerk B"));
    // The catalog cache forgets A's fields too.
    let cache = serde_json::to_string(&cat.entries).unwrap();
    assert!(!cache.contains("Mustermann") && !cache.contains("Vermerk A"));

    // The store: A's unique objects are gone; what B shares is not.
    let after = names(&env.backend.list(None).await.unwrap());
    for n in large_chunks.iter().chain([&large_root]) {
        assert!(!after.contains(n), "chunk or manifest {n} of A's own content is erased");
    }
    for r in &a_records {
        let left = repo.objects().get_opt(r, Kind::Record).await.unwrap();
        assert!(
            left.is_none(),
            "record {r} is erased: {:?} in packs {:?}",
            left.map(|b| String::from_utf8_lossy(&b).to_string()),
            repo.objects().packs_of(r)
        );
    }
    assert!(repo.objects().get_opt(&small_root, Kind::Chunk).await.unwrap().is_none());
    assert!(repo.objects().get_opt(&text_root, Kind::Chunk).await.unwrap().is_none());
    assert!(repo.objects().get_opt(&prov_root, Kind::Chunk).await.unwrap().is_none(), "provenance goes too");
    assert!(repo.catalog().derived(&prov_root).is_none());
    assert_eq!(common::read_all(&repo, b_large).await.unwrap(), shared_large);
    assert_eq!(common::read_all(&repo, b_small).await.unwrap(), b"in beiden Akten");

    let report = verify::verify(&repo, |_, _| {}).await.unwrap();
    assert!(report.ok(), "verify after deletion: {:?}", report.problems);

    // A fresh node rebuilds the same state from the store alone.
    let digest = repo.catalog().digest();
    drop(repo);
    let fresh = env.open("fresh").await;
    assert_eq!(fresh.catalog().digest(), digest);
    assert_eq!(fresh.catalog().get(&db).unwrap().text("title"), Some("Vermerk B"));
    assert_eq!(common::read_all(&fresh, b_large).await.unwrap(), shared_large);
    assert!(fresh.catalog().state.deleted.contains_key(&a));

    // Rerunning the deletion (as after an interruption) only erases again.
    let mut repo = env.open("a").await;
    let again = repo.delete(vec![(a, serde_json::Map::new())]).await.unwrap();
    assert_eq!(again.repacked, 0);
    assert_eq!(repo.catalog().digest(), digest);
}

#[tokio::test]
async fn retention_and_legal_hold_decide_whether_an_akte_may_go() {
    let env = Env::memory();
    let mut repo = env.init().await;
    let today = time::macros::date!(2026 - 11 - 27);
    let akte = common::create_akte(&mut repo, "1-1/2000", "x").await;
    let check = |repo: &akte_store::Repository| {
        erase::check_deletable(repo.catalog(), repo.catalog().get(&akte).unwrap(), today)
    };
    assert_eq!(check(&repo), Err(Refusal::Open));
    repo.commit(vec![Change::Update { id: akte, fields: fields(json!({"status": "zda"})) }]).await.unwrap();
    assert_eq!(check(&repo), Err(Refusal::Unlimited));
    close(&mut repo, akte, "2015-06-30", 10).await;
    // Counted from the end of 2015: ten years end on 2025-12-31.
    assert_eq!(check(&repo), Ok(()));
    close(&mut repo, akte, "2016-01-01", 10).await;
    assert_eq!(check(&repo), Err(Refusal::Running(time::macros::date!(2026 - 12 - 31))));
    close(&mut repo, akte, "2000-01-01", 1).await;
    repo.commit(vec![Change::Update { id: akte, fields: fields(json!({"legal_hold": true})) }]).await.unwrap();
    assert_eq!(check(&repo), Err(Refusal::Hold));
    // Without laufzeit_ende the day of closing counts: this year, so not yet.
    repo.commit(vec![Change::Update {
        id: akte,
        fields: fields(json!({"legal_hold": false, "laufzeit_ende": null, "retention_years": 0})),
    }])
    .await
    .unwrap();
    let year = time::OffsetDateTime::now_utc().year();
    assert_eq!(
        erase::check_deletable(repo.catalog(), repo.catalog().get(&akte).unwrap(), time::macros::date!(2026 - 01 - 01)),
        Err(Refusal::Running(time::Date::from_calendar_date(year, time::Month::December, 31).unwrap()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_record_without_a_deletion_is_damage() {
    let env = Env::file();
    let mut repo = env.init().await;
    let akte = common::create_akte(&mut repo, "1-2/2000", "x").await;
    let packs: Vec<Name> = repo.catalog().entries.iter().flat_map(|e| &e.packs).map(|p| p.pack).collect();
    assert!(!packs.is_empty());
    drop(repo);
    for p in &packs {
        env.backend.delete(&akte_store::object::object_path(p)).await.unwrap();
    }
    let err = akte_store::Repository::open_with_backend(&env.opts("fresh"), env.backend.clone()).await.err().unwrap();
    assert!(err.to_string().contains("no deletion"), "{err}");
    let _ = akte;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_node_sees_the_deletion_and_both_agree() {
    let env = Env::memory();
    let mut a = env.init().await;
    let akte = common::create_akte(&mut a, "1-3/2000", "x").await;
    common::add_doc(&mut a, akte, "d.txt", b"inhalt").await;
    close(&mut a, akte, "2000-12-31", 1).await;
    let mut b = env.open("b").await;
    assert!(b.catalog().get(&akte).is_some());
    let ev = erase::evidence(a.catalog(), a.catalog().get(&akte).unwrap(), "retention", None);
    a.delete(vec![(akte, ev)]).await.unwrap();
    b.sync().await.unwrap();
    assert!(b.catalog().get(&akte).is_none());
    assert_eq!(a.catalog().digest(), b.catalog().digest());
    // An update on the deleted Akte from a node that had not seen the deletion is void.
    assert!(b.commit(vec![Change::Update { id: akte, fields: fields(json!({"title": "y"})) }]).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_erased_with_a_deleted_akte_is_written_afresh_for_another() {
    let env = Env::file();
    let mut repo = env.init().await;
    let old = common::create_akte(&mut repo, "1-1/2000", "alt").await;
    // Records only this Akte uses, whose bytes another Akte's changes will repeat.
    let held = fields(json!({"legal_hold": true}));
    for f in [held.clone(), fields(json!({"legal_hold": false}))] {
        repo.commit(vec![Change::Update { id: old, fields: f }]).await.unwrap();
    }
    close(&mut repo, old, "2000-12-31", 1).await;
    let ev = erase::evidence(repo.catalog(), repo.catalog().get(&old).unwrap(), "retention", None);
    repo.delete(vec![(old, ev)]).await.unwrap();
    let new = common::create_akte(&mut repo, "1-2/2026", "neu").await;
    // The same process: the first attempt stores the record again.
    repo.commit(vec![Change::Update { id: new, fields: held.clone() }]).await.unwrap();
    // A new process, whose pack map comes from the journal and still lists the erased
    // record: the same.
    repo.commit(vec![Change::Update { id: new, fields: fields(json!({"legal_hold": false})) }]).await.unwrap();
    drop(repo);
    let mut repo = env.open("a").await;
    repo.commit(vec![Change::Update { id: new, fields: held }]).await.unwrap();
    close(&mut repo, new, "2000-12-31", 1).await;
    assert_eq!(repo.catalog().get(&new).unwrap().fields.get("legal_hold"), Some(&json!(true)));
    // And what was committed reads back: the store is whole.
    let report = akte_store::verify::verify(&repo, |_, _| {}).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[tokio::test]
async fn the_evidence_says_which_period_and_appraisal_came_from_the_aktenplan() {
    let env = Env::memory();
    let mut repo = env.init().await;
    let today = time::macros::date!(2026 - 11 - 28);
    // A node 6 with the defaults, and 6.1 below it without any.
    let (top, below) = (Uuid::now_v7(), Uuid::now_v7());
    repo.commit(vec![
        Change::Create {
            kind: ObjKind::Aktenplan,
            id: top,
            parent: None,
            content: None,
            fields: fields(json!({"code": "6", "title": "Bauen", "retention_years": 5, "appraisal": "vernichten"})),
        },
        Change::Create {
            kind: ObjKind::Aktenplan,
            id: below,
            parent: Some(top),
            content: None,
            fields: fields(json!({"code": "6.1", "title": "Windenergie"})),
        },
    ])
    .await
    .unwrap();
    let akte = common::create_akte(&mut repo, "6.1-1/2015", "Altanlage").await;
    let own = common::create_akte(&mut repo, "6.1-2/2015", "Eigene Frist").await;
    for id in [akte, own] {
        repo.commit(vec![Change::Update { id, fields: fields(json!({"aktenplan": "6.1"})) }]).await.unwrap();
    }
    // Closed as before closing wrote the defaults: the status and the end of the Laufzeit only.
    repo.commit(vec![Change::Update {
        id: akte,
        fields: fields(json!({"status": "zda", "laufzeit_ende": "2015-03-31"})),
    }])
    .await
    .unwrap();
    close(&mut repo, own, "2015-03-31", 30).await;
    let get = |repo: &akte_store::Repository, id| repo.catalog().get(&id).unwrap().clone();
    // Five years from the Aktenplan, counted from the end of 2015: due since 2021.
    assert_eq!(erase::check_destroyable(repo.catalog(), &get(&repo, akte), today), Ok(()));
    let ev = erase::evidence(repo.catalog(), &get(&repo, akte), "retention", None);
    assert_eq!(ev["retention_years"], json!(5));
    assert_eq!(ev["retention_years_from"], json!("aktenplan"));
    assert_eq!(ev["appraisal"], json!("vernichten"));
    assert_eq!(ev["appraisal_from"], json!("aktenplan"));
    assert_eq!(ev["retention_end"], json!("2020-12-31"));
    // An Akte's own period is its own: no `_from`; the appraisal still comes from above.
    let ev = erase::evidence(repo.catalog(), &get(&repo, own), "retention", None);
    assert_eq!(ev["retention_years"], json!(30));
    assert!(ev.get("retention_years_from").is_none(), "{ev:?}");
    assert_eq!(ev["appraisal_from"], json!("aktenplan"));
    // When the Aktenplan sends its Akten to the archive, the inherited appraisal refuses a
    // direct deletion.
    repo.commit(vec![Change::Update { id: top, fields: fields(json!({"appraisal": "archivwuerdig"})) }]).await.unwrap();
    assert_eq!(
        erase::check_destroyable(repo.catalog(), &get(&repo, akte), today),
        Err(Refusal::Archival("archivwuerdig".to_string()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_of_the_same_bytes_during_the_erasure_keeps_its_objects() {
    let env = Env::file();
    let mut repo = env.init().await;
    repo.chunk_size = 64 << 10;
    let old = common::create_akte(&mut repo, "1-4/2000", "alt").await;
    let new = common::create_akte(&mut repo, "1-5/2026", "neu").await;
    let large = common::bytes(5, 300_000);
    common::add_doc(&mut repo, old, "plan.bin", &large).await;
    common::add_doc(&mut repo, old, "notiz.txt", b"kurz").await;
    close(&mut repo, old, "2000-12-31", 1).await;
    // Another upload stores the same bytes (finding every object already there) but has
    // not committed when the deletion runs.
    let big = repo.objects().put_content(&mut &large[..], repo.chunk_size, None, |_| {}).await.unwrap();
    let small = repo.objects().put_small(bytes::Bytes::from_static(b"kurz")).await.unwrap();
    let ev = erase::evidence(repo.catalog(), repo.catalog().get(&old).unwrap(), "retention", None);
    let report = repo.delete(vec![(old, ev)]).await.unwrap();
    assert!(report.shared >= big.objects.len(), "the pinned objects are kept: {report:?}");
    let mut ids = Vec::new();
    for (name, content) in [("plan.bin", big), ("notiz.txt", small)] {
        let (dok, _, changes) = common::doc_changes(new, name, content);
        repo.commit(changes).await.unwrap();
        ids.push(dok);
    }
    assert_eq!(common::read_all(&repo, ids[0]).await.unwrap(), large);
    assert_eq!(common::read_all(&repo, ids[1]).await.unwrap(), b"kurz");
    let report = verify::verify(&repo, |_, _| {}).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    // Once committed, nothing stays pinned.
    let root = repo.catalog().latest_version(&ids[0]).unwrap().content.unwrap();
    assert!(!repo.objects().pinned(&root));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_on_another_node_that_found_erased_objects_is_refused_and_succeeds_when_repeated() {
    let env = Env::file();
    let mut a = env.init().await;
    a.chunk_size = 64 << 10;
    let old = common::create_akte(&mut a, "1-6/2000", "alt").await;
    let large = common::bytes(6, 200_000);
    common::add_doc(&mut a, old, "plan.bin", &large).await;
    common::add_doc(&mut a, old, "notiz.txt", b"kurz und gleich").await;
    close(&mut a, old, "2000-12-31", 1).await;
    let mut b = env.open("b").await;
    b.chunk_size = 64 << 10;
    let new = common::create_akte(&mut b, "1-7/2026", "neu").await;
    // Node b stores the same bytes: every object is already there, so it writes nothing.
    let big = b.objects().put_content(&mut &large[..], b.chunk_size, None, |_| {}).await.unwrap();
    let small = b.objects().put_small(bytes::Bytes::from_static(b"kurz und gleich")).await.unwrap();
    // Node a deletes the old Akte meanwhile; b's pins are not a's.
    let ev = erase::evidence(a.catalog(), a.catalog().get(&old).unwrap(), "retention", None);
    a.delete(vec![(old, ev)]).await.unwrap();
    b.sync().await.unwrap();
    for (name, bytes, content) in [("plan.bin", &large[..], big), ("notiz.txt", &b"kurz und gleich"[..], small)] {
        let (dok, _, changes) = common::doc_changes(new, name, content);
        let err = b.commit(changes).await.unwrap_err();
        assert!(matches!(err, akte_store::Error::Conflict(_)), "{err}");
        assert!(b.catalog().get(&dok).is_none(), "nothing was committed");
        // Stored again, the same bytes are written afresh and the commit holds.
        let content = b.objects().put_content(&mut &bytes[..], b.chunk_size, None, |_| {}).await.unwrap();
        let (dok, _, changes) = common::doc_changes(new, name, content);
        b.commit(changes).await.unwrap();
        assert_eq!(common::read_all(&b, dok).await.unwrap(), bytes);
    }
    let report = verify::verify(&b, |_, _| {}).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
}
