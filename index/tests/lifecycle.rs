//! Opening, schema-version rebuilds, incremental upserts and deletes, the cursor.

use akte_index::{Access, Error, Index, IndexDoc, OpenStatus, SCHEMA_VERSION, SearchRequest};

fn doc(id: &str, text: &str, hash: &str) -> IndexDoc {
    IndexDoc {
        dokument_id: id.into(),
        akte_id: "a".into(),
        title: id.into(),
        text: text.into(),
        content_hash: Some(hash.into()),
        ..IndexDoc::default()
    }
}

fn total(index: &Index, q: &str) -> u64 {
    index.search(&SearchRequest::new(q), &Access::all()).unwrap().total
}

#[test]
fn reopening_keeps_documents_and_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    assert_eq!(index.status(), OpenStatus::Created);
    assert!(index.needs_full_rebuild());
    let mut w = index.writer().unwrap();
    w.upsert(&doc("d1", "Windpark Hohe Heide", "h1")).unwrap();
    w.commit(Some("node-a:17")).unwrap();
    drop(w);
    // The same open index (a server's): after the first commit with a cursor, updates are
    // incremental, although it was opened as a new one.
    assert!(!index.needs_full_rebuild());
    drop(index);
    let index = Index::open(dir.path()).unwrap();
    assert_eq!(index.status(), OpenStatus::Opened);
    assert!(!index.needs_full_rebuild());
    assert_eq!(index.cursor().unwrap().as_deref(), Some("node-a:17"));
    assert_eq!(total(&index, "Windpark"), 1);
}

#[test]
fn an_index_of_another_schema_version_is_wiped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let index = Index::open(dir.path()).unwrap();
    let mut w = index.writer().unwrap();
    w.upsert(&doc("d1", "Windpark", "h1")).unwrap();
    w.commit(Some("cursor")).unwrap();
    drop(w);
    drop(index);
    let old = SCHEMA_VERSION - 1;
    std::fs::write(dir.path().join("akte-index.json"), format!("{{\"schema_version\":{old}}}")).unwrap();
    let index = Index::open(dir.path()).unwrap();
    assert_eq!(index.status(), OpenStatus::Rebuilt { found: Some(old) });
    assert!(index.needs_full_rebuild());
    assert_eq!((index.num_docs(), index.cursor().unwrap()), (0, None));
    drop(index);
    assert_eq!(Index::open(dir.path()).unwrap().status(), OpenStatus::Opened);
}

#[test]
fn an_index_of_this_version_but_another_schema_is_wiped_too() {
    let dir = tempfile::tempdir().unwrap();
    drop(Index::open(dir.path()).unwrap());
    // Another schema under this version's marker, as a build between two versions wrote.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != "akte-index.json") {
            std::fs::remove_file(path).unwrap();
        }
    }
    let mut other = tantivy::schema::Schema::builder();
    other.add_text_field("id", tantivy::schema::STRING | tantivy::schema::STORED);
    tantivy::Index::create_in_dir(dir.path(), other.build()).unwrap();
    let index = Index::open(dir.path()).unwrap();
    assert_eq!(index.status(), OpenStatus::Rebuilt { found: Some(SCHEMA_VERSION) });
    let mut w = index.writer().unwrap();
    w.upsert(&doc("d1", "Windpark", "h1")).unwrap();
    w.commit(None).unwrap();
    assert_eq!(total(&index, "Windpark"), 1);
}

#[test]
fn a_damaged_index_is_wiped_and_rebuilt() {
    // Each way an index of this version can be unreadable: a segment's files gone, or
    // tantivy's own meta.json cut short.
    for damage in ["segment files", "meta.json"] {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let mut w = index.writer().unwrap();
        w.upsert(&doc("d1", "Windpark", "h1")).unwrap();
        w.commit(Some("cursor")).unwrap();
        drop(w);
        drop(index);
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            match damage {
                "segment files" if name.ends_with(".idx") || name.ends_with(".term") => {
                    std::fs::remove_file(&path).unwrap()
                }
                "meta.json" if name == "meta.json" => std::fs::write(&path, "{").unwrap(),
                _ => {}
            }
        }
        let index = Index::open(dir.path()).unwrap_or_else(|e| panic!("{damage}: {e}"));
        assert_eq!(index.status(), OpenStatus::Damaged, "{damage}");
        assert!(index.needs_full_rebuild());
        assert_eq!((index.num_docs(), index.cursor().unwrap()), (0, None), "{damage}");
        let mut w = index.writer().unwrap();
        w.upsert(&doc("d1", "Windpark", "h1")).unwrap();
        w.commit(None).unwrap();
        assert_eq!(total(&index, "Windpark"), 1, "{damage}");
    }
}

#[test]
fn a_directory_with_other_files_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("catalog.json"), "{}").unwrap();
    assert!(matches!(Index::open(dir.path()), Err(Error::NotAnIndex { .. })));
    assert!(dir.path().join("catalog.json").exists());
}

#[test]
fn upsert_replaces_delete_removes_and_commit_publishes() {
    let index = Index::in_memory().unwrap();
    let mut w = index.writer().unwrap();
    w.upsert(&doc("d1", "Schallgutachten", "h1")).unwrap();
    w.upsert(&doc("d2", "Eiswurfgutachten", "h2")).unwrap();
    assert_eq!(total(&index, "Gutachten"), 0, "nothing is visible before the commit");
    w.commit(Some("1")).unwrap();
    assert_eq!(total(&index, "Gutachten"), 2);
    assert_eq!(index.indexed_hash("d1").unwrap().as_deref(), Some("h1"));

    w.upsert(&doc("d1", "Schattenwurfprognose", "h1b")).unwrap();
    w.delete("d2");
    w.delete("never-indexed");
    w.commit(None).unwrap();
    assert_eq!(index.cursor().unwrap().as_deref(), Some("1"), "a commit without cursor keeps the last one");
    assert_eq!((total(&index, "Gutachten"), total(&index, "Schattenwurf"), index.num_docs()), (0, 1, 1));
    assert_eq!(index.indexed_hash("d1").unwrap().as_deref(), Some("h1b"));
    assert_eq!(index.indexed_hash("d2").unwrap(), None);

    w.upsert(&doc("d3", "Verworfen", "h3")).unwrap();
    w.rollback().unwrap();
    w.commit(Some("2")).unwrap();
    assert_eq!(total(&index, "Verworfen"), 0);
    w.delete_all().unwrap();
    w.commit(Some("3")).unwrap();
    assert_eq!((index.num_docs(), index.cursor().unwrap().as_deref()), (0, Some("3")));
}

#[test]
fn a_rebuild_by_insert_replaces_everything_and_later_upserts_still_replace() {
    let index = Index::in_memory().unwrap();
    let mut w = index.writer().unwrap();
    w.upsert(&doc("d1", "Rotmilan", "h1")).unwrap();
    w.upsert(&doc("d2", "Rotmilan Horst", "h2")).unwrap();
    w.commit(None).unwrap();
    w.delete_all().unwrap();
    w.insert(&doc("d1", "Rotmilan Schwarzstorch", "h3")).unwrap();
    w.commit(Some("rebuilt")).unwrap();
    assert_eq!((total(&index, "Rotmilan"), total(&index, "Horst"), total(&index, "Schwarzstorch")), (1, 0, 1));
    assert_eq!(index.indexed_hash("d1").unwrap().as_deref(), Some("h3"));
    // an inserted document is replaced by a later upsert like any other
    w.upsert(&doc("d1", "Seeadler", "h4")).unwrap();
    w.commit(None).unwrap();
    assert_eq!((total(&index, "Schwarzstorch"), total(&index, "Seeadler")), (0, 1));
    assert_eq!(index.num_docs(), 1);
}
