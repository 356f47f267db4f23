//! Scenarios every backend must pass: round trip, tampering, two nodes, conflicts.

use std::collections::BTreeMap;

use akte_store::{Change, object::Kind, object::open_object, verify::verify};
use serde_json::json;
use uuid::Uuid;

use super::*;

/// Create, add (sizes around chunk boundaries), version and update; read everything back
/// on this node and on a fresh node that rebuilds its catalog from the store alone.
pub async fn roundtrip(env: &Env) {
    let mut repo = env.init().await;
    repo.chunk_size = 1024;
    let a = create_akte(&mut repo, "61.2-0001/2026", "Erste Akte").await;
    let b = create_akte(&mut repo, "61.2-0002/2026", "Zweite Akte").await;
    let mut expect: BTreeMap<Uuid, Vec<u8>> = BTreeMap::new();
    for (i, len) in [0usize, 1, 1023, 1024, 1025, 5000, 70_000].into_iter().enumerate() {
        let data = bytes(i as u64, len);
        let (dok, ver) = add_doc(&mut repo, if i % 2 == 0 { a } else { b }, &format!("d{i}.bin"), &data).await;
        expect.insert(ver, data.clone());
        expect.insert(dok, data);
    }
    // Identical content is stored once: the same manifest.
    let (_, v1) = add_doc(&mut repo, a, "same1.bin", &bytes(99, 3000)).await;
    let (_, v2) = add_doc(&mut repo, a, "same2.bin", &bytes(99, 3000)).await;
    assert_eq!(repo.catalog().get(&v1).unwrap().content, repo.catalog().get(&v2).unwrap().content);
    // A second version.
    let dok = *expect.keys().find(|k| repo.catalog().get(k).unwrap().kind == ObjKind::Dokument).unwrap();
    let newer = bytes(7, 4321);
    let ver = add_version(&mut repo, dok, "neu.bin", &newer).await;
    expect.insert(ver, newer.clone());
    expect.insert(dok, newer);
    repo.commit(vec![Change::Update {
        id: a,
        fields: fields(json!({"title": "Erste Akte (geändert)", "retention_years": 30})),
    }])
    .await
    .unwrap();

    for (id, data) in &expect {
        assert_eq!(&read_all(&repo, *id).await.unwrap(), data, "read back {id}");
    }
    let digest = repo.catalog().digest();
    drop(repo);
    let fresh = env.open("fresh").await;
    assert_eq!(fresh.catalog().digest(), digest, "a fresh node computes the same state");
    assert_eq!(fresh.catalog().get(&a).unwrap().text("title"), Some("Erste Akte (geändert)"));
    assert_eq!(fresh.catalog().get(&dok).unwrap().versions.len(), 2);
    for (id, data) in &expect {
        assert_eq!(&read_all(&fresh, *id).await.unwrap(), data, "fresh node reads {id}");
    }
    let report = verify(&fresh, |_, _| {}).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.unreferenced, 0);
}

/// Every single flipped byte, deleted object and swapped pair is detected and named; no
/// read ever returns wrong bytes.
pub async fn tamper(env: &Env) {
    let mut repo = env.init().await;
    repo.chunk_size = 4096;
    let a = create_akte(&mut repo, "T-1", "Tamper").await;
    let big = bytes(1, 10_000);
    let small = bytes(2, 100);
    let (d1, _) = add_doc(&mut repo, a, "big.bin", &big).await;
    let (d2, _) = add_doc(&mut repo, a, "small.bin", &small).await;
    let docs = [(d1, big), (d2, small)];
    let names = list(&env.backend).await;
    assert!(verify(&repo, |_, _| {}).await.unwrap().ok());
    let mut kinds_seen = std::collections::BTreeSet::new();
    for (i, path) in names.iter().enumerate() {
        if path == "keys/repository" {
            continue;
        }
        let p = object_store::path::Path::from(path.as_str());
        let original = env.backend.get(&p).await.unwrap().unwrap();
        let kind = match path.strip_prefix("objects/") {
            Some(rest) => open_object(repo.key(), &rest[3..].parse().unwrap(), &original, None).unwrap().0,
            None => Kind::Entry,
        };
        kinds_seen.insert(kind as u8);
        flip_byte(&env.backend, path, 1 + i * 7919).await;
        let report = verify(&repo, |_, _| {}).await.unwrap();
        assert!(!report.ok(), "flipped byte in {path} not detected");
        assert!(report.problems.iter().any(|pr| pr.object == *path), "{path} not named: {:?}", report.problems);
        let mut failed = 0;
        for (id, data) in &docs {
            match read_all(&repo, *id).await {
                Ok(got) => assert_eq!(&got, data, "wrong bytes served after tampering with {path}"),
                Err(e) => {
                    assert!(e.is_integrity(), "{e}");
                    failed += 1;
                }
            }
        }
        if matches!(kind, Kind::Chunk | Kind::Manifest) {
            assert!(failed > 0, "reading the document whose {kind:?} {path} was flipped must fail");
        }
        env.backend.put(&p, original.to_vec()).await.unwrap();
    }
    assert_eq!(kinds_seen.len(), 4, "every kind of object was tampered with");
    assert!(verify(&repo, |_, _| {}).await.unwrap().ok(), "restored repository verifies");

    // A deleted object.
    let victim = names.iter().find(|n| n.starts_with("objects/")).unwrap().clone();
    let p = object_store::path::Path::from(victim.as_str());
    let saved = env.backend.get(&p).await.unwrap().unwrap();
    env.backend.delete(&p).await.unwrap();
    let report = verify(&repo, |_, _| {}).await.unwrap();
    assert!(
        report.problems.iter().any(|pr| pr.object == victim && pr.problem.contains("missing")),
        "{:?}",
        report.problems
    );
    env.backend.put(&p, saved.to_vec()).await.unwrap();

    // Two swapped objects.
    let objs: Vec<&String> = names.iter().filter(|n| n.starts_with("objects/")).collect();
    let (x, y) = (object_store::path::Path::from(objs[0].as_str()), object_store::path::Path::from(objs[1].as_str()));
    let (bx, by) = (env.backend.get(&x).await.unwrap().unwrap(), env.backend.get(&y).await.unwrap().unwrap());
    env.backend.put(&x, by.to_vec()).await.unwrap();
    env.backend.put(&y, bx.to_vec()).await.unwrap();
    let report = verify(&repo, |_, _| {}).await.unwrap();
    for o in [objs[0], objs[1]] {
        assert!(report.problems.iter().any(|pr| pr.object == *o), "swapped {o} not named: {:?}", report.problems);
    }
    env.backend.put(&x, bx.to_vec()).await.unwrap();
    env.backend.put(&y, by.to_vec()).await.unwrap();
    assert!(verify(&repo, |_, _| {}).await.unwrap().ok());

    // Truncation: the newest entry of the stream disappears.
    let mut entries: Vec<&String> = names.iter().filter(|n| n.starts_with("journal/")).collect();
    entries.sort();
    let last = entries.last().unwrap().to_string();
    env.backend.delete(&object_store::path::Path::from(last.as_str())).await.unwrap();
    let report = verify(&repo, |_, _| {}).await.unwrap();
    assert!(report.problems.iter().any(|pr| pr.object == last), "truncation not named: {:?}", report.problems);
    drop(repo);
    let err = Repository::open_with_backend(&env.opts("a"), env.backend.clone())
        .await
        .err()
        .expect("node refuses a truncated journal");
    assert!(err.is_integrity(), "{err}");
}

/// Two nodes write concurrently (documents, and metadata of one shared Akte); after both
/// sync they hold the same state, nothing is lost, and every chain holds.
pub async fn two_nodes(env: &Env) {
    let mut a = env.init().await;
    let shared = create_akte(&mut a, "61.2-0815/2026", "Windpark").await;
    let b = env.open("b").await;
    let work = |mut repo: Repository, tag: &'static str| async move {
        let mut docs = Vec::new();
        for i in 0..8u64 {
            let data = bytes(i + if tag == "a" { 100 } else { 200 }, 500 + i as usize * 37);
            let (dok, _) = add_doc(&mut repo, shared, &format!("{tag}{i}.txt"), &data).await;
            docs.push((dok, data));
            repo.commit(vec![Change::Update {
                id: shared,
                fields: fields(json!({"title": format!("Titel von {tag} #{i}"), "custom": {tag: i}})),
            }])
            .await
            .unwrap();
            if i % 3 == 0 {
                repo.sync().await.unwrap();
            }
        }
        (repo, docs)
    };
    let (ra, rb) = tokio::join!(tokio::spawn(work(a, "a")), tokio::spawn(work(b, "b")));
    let (mut a, docs_a) = ra.unwrap();
    let (mut b, docs_b) = rb.unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    assert_eq!(a.catalog().digest(), b.catalog().digest(), "both nodes compute the same state");
    assert_eq!(a.catalog().dokumente_of(&shared).len(), 16, "no document lost");
    for (dok, data) in docs_a.iter().chain(docs_b.iter()) {
        assert_eq!(&read_all(&a, *dok).await.unwrap(), data);
        assert_eq!(&read_all(&b, *dok).await.unwrap(), data);
    }
    // Every title change is in the history; the winner is the latest in HLC order.
    let history = a.catalog().history(&shared);
    assert_eq!(history, b.catalog().history(&shared), "both nodes replay the same history");
    let title_changes: Vec<_> = history.iter().filter(|h| h.changes.iter().any(|c| c.field == "title")).collect();
    assert_eq!(title_changes.len(), 17, "1 create + 16 updates");
    let last = title_changes.last().unwrap();
    let winner = last.changes.iter().find(|c| c.field == "title").unwrap().new.clone();
    assert_eq!(a.catalog().get(&shared).unwrap().fields["title"], winner);
    let report = verify(&a, |_, _| {}).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.streams, 2);
    // A third node, from the store alone, agrees.
    drop((a, b));
    let c = env.open("c").await;
    let a = env.open("a").await;
    assert_eq!(c.catalog().digest(), a.catalog().digest());
}

/// One Aktenzeichen created on two nodes that had not seen each other: both nodes settle
/// it the same way and flag the loser.
pub async fn uniqueness_conflict(env: &Env) {
    let mut a = env.init().await;
    let mut b = env.open("b").await;
    let x = create_akte(&mut a, "61.2-0999/2026", "von a").await;
    let y = create_akte(&mut b, "61.2-0999/2026", "von b").await;
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    assert_eq!(a.catalog().digest(), b.catalog().digest());
    let holder = a.catalog().state.aktenzeichen["61.2-0999/2026"];
    let loser = if holder == x { y } else { x };
    assert_eq!(b.catalog().state.aktenzeichen["61.2-0999/2026"], holder);
    assert!(a.catalog().get(&loser).unwrap().conflict.is_some());
    assert!(a.catalog().get(&holder).unwrap().conflict.is_none());
    // The earlier create wins.
    assert!(a.catalog().get(&holder).unwrap().created <= a.catalog().get(&loser).unwrap().created);
}
