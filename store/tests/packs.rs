//! Small objects travel in packs: many documents, few stored objects, every byte back on
//! a fresh node, and a damaged pack named by verify.

mod common;

use akte_store::{Change, model::ObjKind};
use common::{Env, fields};
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn many_small_documents_become_a_few_packs_and_read_back_on_a_fresh_node() {
    let env = Env::memory();
    let mut repo = env.init().await;
    let akte = common::create_akte(&mut repo, "61.2-0815/2026", "Windpark").await;
    let mut expected = Vec::new();
    let mut changes = Vec::new();
    for i in 0..3000u64 {
        // 1 to 12 KiB each, ~19 MiB in all: more than two packs' worth.
        let bytes = common::bytes(i, 1024 + (i as usize * 7919) % (11 * 1024));
        let content = repo.objects().put_small(bytes.clone().into()).await.unwrap();
        let (dok, ver) = (Uuid::now_v7(), Uuid::now_v7());
        changes.push(Change::Create {
            kind: ObjKind::Dokument,
            id: dok,
            parent: Some(akte),
            content: None,
            fields: fields(json!({"title": format!("Dokument {i}")})),
        });
        changes.push(Change::Create {
            kind: ObjKind::Version,
            id: ver,
            parent: Some(dok),
            content: Some(content),
            fields: fields(json!({"file_name": format!("d{i}.bin")})),
        });
        expected.push((dok, bytes));
    }
    repo.commit(changes).await.unwrap();
    let stored = env.backend.list(None).await.unwrap();
    let objects = stored.iter().filter(|m| m.location.as_ref().starts_with("objects/")).count();
    // 3000 contents and 6001 records in packs of 8 MiB: a handful of objects, not 9000.
    assert!(objects <= 6, "{objects} objects for 3000 small documents");
    let entry = &repo.catalog().entries.last().unwrap();
    assert!(entry.packs.len() >= 3, "{:?}", entry.packs.iter().map(|p| p.members.len()).collect::<Vec<_>>());
    drop(repo);

    let fresh = env.open("b").await;
    for (dok, bytes) in expected.iter().step_by(97) {
        assert_eq!(&common::read_all(&fresh, *dok).await.unwrap(), bytes);
    }
    let report = akte_store::verify::verify(&fresh, |_, _| {}).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.unreferenced, 0);
}

#[tokio::test]
async fn a_damaged_pack_is_named_alone_and_its_documents_are_refused() {
    let env = Env::memory();
    let mut repo = env.init().await;
    let akte = common::create_akte(&mut repo, "61.2-0001/2026", "Packs").await;
    let (dok, _) = common::add_doc(&mut repo, akte, "klein.txt", b"Kleines Dokument").await;
    let pack = repo.catalog().entries.last().unwrap().packs[0].pack;
    drop(repo);
    let path = akte_store::object::object_path(&pack);
    let mut bytes = env.backend.get(&path).await.unwrap().unwrap().to_vec();
    let n = bytes.len() / 2;
    bytes[n] ^= 1;
    env.backend.put(&path, bytes).await.unwrap();

    // A node that has the catalog cached still refuses the content …
    let repo = env.open("a").await;
    let err = common::read_all(&repo, dok).await.unwrap_err();
    assert!(err.is_integrity(), "{err}");
    // … and verify names the pack, not each member in it.
    let report = akte_store::verify::verify(&repo, |_, _| {}).await.unwrap();
    let named: Vec<&str> = report.problems.iter().map(|p| p.object.as_str()).collect();
    assert_eq!(named, [path.as_ref()], "{:?}", report.problems);
}

#[tokio::test]
async fn a_content_prepared_elsewhere_is_the_content_put_small_stores() {
    let env = Env::memory();
    let repo = env.init().await;
    let objects = repo.objects();
    let bytes = common::bytes(7, 5000);
    let framed = akte_store::object::frame(akte_store::object::Kind::Chunk, &bytes);
    let prepared = objects.prepare_small(framed).unwrap();
    let via_prepared = objects.put_prepared(prepared).await.unwrap();
    let via_small = objects.put_small(bytes.clone().into()).await.unwrap();
    assert_eq!(via_prepared, via_small);
    assert_eq!(via_prepared.size, 5000);
    assert_eq!(via_prepared.blake3, blake3::hash(&bytes).to_hex().to_string());

    // Anything but a framed chunk of at most PACK_MEMBER_MAX bytes is refused.
    let record = akte_store::object::frame(akte_store::object::Kind::Record, &bytes);
    assert!(objects.prepare_small(record).is_err());
    let big = common::bytes(8, akte_store::pack::PACK_MEMBER_MAX + 1);
    assert!(objects.prepare_small(akte_store::object::frame(akte_store::object::Kind::Chunk, &big)).is_err());
    assert!(objects.prepare_small(vec![1, 2]).is_err());
}

#[tokio::test]
async fn a_pack_that_cannot_be_written_fails_the_commit_and_a_retry_stores_everything() {
    let env = Env::file();
    let mut repo = env.init().await;
    let akte = common::create_akte(&mut repo, "61.2-0002/2026", "Packs").await;
    // Every object write fails: each `objects/<hh>` is a plain file, so nothing can be
    // created below it (this holds for root, too).
    let objects = env.dir.path().join("store/objects");
    let moved = env.dir.path().join("objects-moved");
    std::fs::rename(&objects, &moved).unwrap();
    std::fs::create_dir(&objects).unwrap();
    for hh in 0..=255u8 {
        std::fs::write(objects.join(format!("{hh:02x}")), b"").unwrap();
    }
    // 20 contents of 500 KiB: the first 8 MiB go out as a pack written in the background
    // while staging goes on; it fails there, not in any put.
    let contents: Vec<Vec<u8>> = (0..20u64).map(|i| common::bytes(100 + i, 500 << 10)).collect();
    let mut changes = Vec::new();
    for (i, bytes) in contents.iter().enumerate() {
        let content = repo.objects().put_small(bytes.clone().into()).await.unwrap();
        changes.extend(common::doc_changes(akte, &format!("d{i}.bin"), content).2);
    }
    let err = repo.commit(changes).await.unwrap_err();
    assert!(err.to_string().contains("background") || err.to_string().contains("objects"), "{err}");

    // The store works again; the same contents are staged again, not taken for waiting.
    std::fs::remove_dir_all(&objects).unwrap();
    std::fs::rename(&moved, &objects).unwrap();
    let mut expected = Vec::new();
    let mut changes = Vec::new();
    for (i, bytes) in contents.iter().enumerate() {
        let content = repo.objects().put_small(bytes.clone().into()).await.unwrap();
        let (dok, _, c) = common::doc_changes(akte, &format!("d{i}.bin"), content);
        changes.extend(c);
        expected.push((dok, bytes));
    }
    repo.commit(changes).await.unwrap();
    drop(repo);

    let fresh = env.open("b").await;
    for (dok, bytes) in &expected {
        assert_eq!(&&common::read_all(&fresh, *dok).await.unwrap(), bytes);
    }
    let report = akte_store::verify::verify(&fresh, |_, _| {}).await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}
