//! Compatibility: the format-1 repository committed in `fixtures/compat/v1` still opens,
//! verifies clean, and yields the documents it was written with.

mod common;

use std::path::{Path, PathBuf};

use akte_store::{OpenOptions, Repository, model::ObjKind, verify::verify};
use serde_json::Value;
use sha2::Digest;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/compat/v1")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_1_repository_opens_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture().join("store"), &tmp.path().join("store"));
    let opts = OpenOptions {
        data_dir: tmp.path().join("node"),
        store: Some(format!("file://{}", tmp.path().join("store").display())),
        identity: Some(fixture().join("FIXTURE-ONLY-identity.txt")),
        actor: "compat-test".into(),
    };
    let repo = Repository::open(&opts).await.expect("format 1 repository opens");
    let report = verify(&repo, |_, _| {}).await.unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.unreferenced, 0);

    let expected: Value = serde_json::from_slice(&std::fs::read(fixture().join("expected.json")).unwrap()).unwrap();
    let akten = expected["akten"].as_array().unwrap();
    assert_eq!(repo.catalog().all(ObjKind::Akte).count(), akten.len());
    let mut docs_checked = 0;
    for a in akten {
        let akte = repo.catalog().find_akte(a["aktenzeichen"].as_str().unwrap()).expect("Akte by Aktenzeichen");
        assert_eq!(akte.text("title"), a["title"].as_str());
        assert_eq!(akte.text("status").unwrap_or("offen"), a["status"].as_str().unwrap());
        for d in a["dokumente"].as_array().unwrap() {
            let id: uuid::Uuid = d["id"].as_str().unwrap().parse().unwrap();
            let bytes = common::read_all(&repo, id).await.unwrap();
            assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), d["sha256"].as_str().unwrap());
            assert_eq!(bytes, std::fs::read(fixture().join("content").join(d["file"].as_str().unwrap())).unwrap());
            let version = repo.catalog().latest_version(&id).unwrap();
            assert_eq!(version.number, d["version"].as_u64().map(|n| n as u32));
            docs_checked += 1;
        }
    }
    assert_eq!(docs_checked, 4);
    assert_eq!(report.streams, 2, "entries from two nodes, two builds");
    // The first version of the versioned document is still there.
    let antrag = repo.catalog().all(ObjKind::Dokument).find(|d| d.versions.len() == 2).unwrap();
    let v1 = antrag.versions[0];
    assert_eq!(
        common::read_all(&repo, v1).await.unwrap(),
        std::fs::read(fixture().join("content/antrag.txt")).unwrap()
    );
    // History survived: the closed Akte shows its update with old and new values.
    let closed = repo.catalog().find_akte("61.2-0002/2026").unwrap();
    let h = repo.catalog().history(&closed.id);
    assert!(h.iter().any(|e| { e.changes.iter().any(|c| c.field == "status" && c.new == "zda") }));
}
