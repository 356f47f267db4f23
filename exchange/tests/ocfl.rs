//! OCFL 1.1: export → import into a fresh repository → export gives the same storage root
//! byte for byte (versions included); `ocfl-validate.py` accepts the root and every
//! object; BagIt and OCFL carry the same Akte; hostile roots are refused with nothing of
//! them visible afterwards, and so are seeded mutants of an object's inventory
//! (`AKTE_MUTANTS=N` runs N instead of 40).

mod common;

/// The seeded mutations of the extractors' robustness tests, applied to inventories here.
#[path = "../../plugins/tests/common/mutate.rs"]
mod mutate;

use std::path::{Path, PathBuf};

use akte_exchange::{
    Error, export_bagit, export_ocfl, import_bagit, import_ocfl,
    ocfl::{object_id, object_path},
};
use akte_store::model::ObjKind;
use common::*;
use serde_json::Value;
use uuid::Uuid;

fn assert_valid(root: &Path) {
    let objects = object_dirs(root);
    assert!(!objects.is_empty(), "no objects in {}", root.display());
    // Each object on its own: the whole-root mode passes roots with broken objects.
    for obj in objects.iter().map(PathBuf::as_path).chain([root]) {
        let (ok, out) = ocfl_validate(obj);
        assert!(ok, "ocfl-validate.py refused {}:\n{out}", obj.display());
    }
}

fn inventory(obj: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(obj.join("inventory.json")).unwrap()).unwrap()
}

/// The head state of an object as logical path → bytes.
fn head_files(obj: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let inv = inventory(obj);
    let head = inv["head"].as_str().unwrap();
    let mut out = std::collections::BTreeMap::new();
    for (digest, paths) in inv["versions"][head]["state"].as_object().unwrap() {
        let content = inv["manifest"][digest][0].as_str().unwrap();
        for p in paths.as_array().unwrap() {
            out.insert(p.as_str().unwrap().to_string(), std::fs::read(obj.join(content)).unwrap());
        }
    }
    out
}

/// The bag's Akte directory as path → bytes.
fn bag_akte(bag: &Path, dir: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let prefix = format!("data/{dir}/");
    tree(bag).into_iter().filter_map(|(p, b)| p.strip_prefix(&prefix).map(|r| (r.to_string(), b))).collect()
}

fn obj_dir(root: &Path, akte: Uuid) -> PathBuf {
    root.join(object_path(&object_id(akte)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_is_byte_identical_and_valid() {
    let src = Env::new();
    let mut repo = src.init().await;
    let akten = populate(&mut repo).await;
    let root1 = src.path("ocfl1");
    let report = export_ocfl(&repo, &[], &root1).await.unwrap();
    assert_eq!((report.akten.len(), report.dokumente, report.versionen), (2, 10, 11));
    assert_valid(&root1);

    let a = obj_dir(&root1, akten[0]);
    let inv = inventory(&a);
    assert_eq!(inv["id"], format!("urn:uuid:{}", akten[0]));
    assert_eq!(inv["digestAlgorithm"], "sha512");
    let versions = inv["versions"].as_object().unwrap();
    // One version per journal entry that touched the Akte.
    assert_eq!(versions.len(), 20, "{:#?}", versions.keys().collect::<Vec<_>>());
    assert!(versions["v1"]["message"].as_str().unwrap().starts_with("create 1 Akte"), "{}", versions["v1"]);
    assert_eq!(versions["v1"]["user"]["name"], "test:clerk");
    assert_eq!(report.akten[0].ocfl_versions, Some(20));
    // The two Dokumente with identical content share one content file; every document
    // content is stored once even though it is in many versions.
    let stored: usize = inv["manifest"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|p| p.as_array().unwrap())
        .filter(|p| {
            !["akte.json", "vorgang.json", "dokument.json"].contains(&p.as_str().unwrap().rsplit('/').next().unwrap())
        })
        .count();
    assert_eq!(stored, 9, "contents in the manifest");

    // BagIt and OCFL carry the same Akte directory.
    let bag = src.path("bag");
    export_bagit(&repo, &[], &bag).await.unwrap();
    assert_same_tree(&bag_akte(&bag, "61.2-0815_2026"), &head_files(&a), "bag vs. OCFL head");

    // Round trip: the whole storage root comes back byte for byte, versions included.
    let dst = Env::new();
    let mut other = dst.init().await;
    let imported = import_ocfl(&mut other, &root1).await.unwrap();
    assert_eq!((imported.akten.len(), imported.dokumente, imported.versionen), (2, 10, 11));
    assert_eq!(other.catalog().entries.len(), 1, "the import is one journal entry");
    let root2 = dst.path("ocfl2");
    export_ocfl(&other, &[], &root2).await.unwrap();
    assert_valid(&root2);
    assert_same_tree(&tree(&root1), &tree(&root2), "storage root after a round trip");

    // A change after the import is one more version on top of the imported ones.
    update(&mut other, akten[0], serde_json::json!({"legal_hold": true})).await;
    let root3 = dst.path("ocfl3");
    export_ocfl(&other, &[akten[0]], &root3).await.unwrap();
    assert_valid(&root3);
    let inv3 = inventory(&obj_dir(&root3, akten[0]));
    let v3 = inv3["versions"].as_object().unwrap();
    assert_eq!(v3.len(), 21);
    for (k, v) in versions {
        assert_eq!(&v3[k], v, "version {k} changed");
    }
    assert!(v3["v21"]["message"].as_str().unwrap().starts_with("update 1 Akte"), "{}", v3["v21"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bagit_and_ocfl_import_each_other() {
    let src = Env::new();
    let mut repo = src.init().await;
    let akten = populate(&mut repo).await;
    let bag1 = src.path("bag1");
    export_bagit(&repo, &[], &bag1).await.unwrap();
    let root1 = src.path("ocfl1");
    export_ocfl(&repo, &[], &root1).await.unwrap();

    // OCFL in, BagIt out: the same payload as the original bag.
    let e1 = Env::new();
    let mut r1 = e1.init().await;
    import_ocfl(&mut r1, &root1).await.unwrap();
    let bag2 = e1.path("bag2");
    export_bagit(&r1, &[], &bag2).await.unwrap();
    let data = |b: &Path| tree(b).into_iter().filter(|(p, _)| p.starts_with("data/")).collect();
    assert_same_tree(&data(&bag1), &data(&bag2), "BagIt payload via OCFL");

    // BagIt in, OCFL out: one version (the import), holding the same Akte directory.
    let e2 = Env::new();
    let mut r2 = e2.init().await;
    import_bagit(&mut r2, &bag1).await.unwrap();
    let root2 = e2.path("ocfl2");
    export_ocfl(&r2, &[], &root2).await.unwrap();
    assert_valid(&root2);
    let obj = obj_dir(&root2, akten[0]);
    let inv = inventory(&obj);
    assert_eq!(inv["head"], "v1");
    let msg = inv["versions"]["v1"]["message"].as_str().unwrap();
    assert!(msg.starts_with(&format!("import from bagit urn:uuid:{}", repo.repository_id())), "{msg}");
    assert_same_tree(&bag_akte(&bag1, "61.2-0815_2026"), &head_files(&obj), "OCFL via BagIt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validator_catches_a_flipped_byte() {
    let env = Env::new();
    let mut repo = env.init().await;
    let akten = populate(&mut repo).await;
    let root = env.path("ocfl");
    export_ocfl(&repo, &[], &root).await.unwrap();
    let obj = obj_dir(&root, akten[1]);
    let doc = find(&obj, "v1-anzeige.pdf");
    let mut bytes = std::fs::read(&doc).unwrap();
    bytes[12_345] ^= 1;
    std::fs::write(&doc, bytes).unwrap();
    let (ok, out) = ocfl_validate(&obj);
    assert!(!ok, "ocfl-validate.py accepted a flipped byte:\n{out}");
}

/// The one file below `dir` whose name ends with `suffix`.
fn find(dir: &Path, suffix: &str) -> PathBuf {
    let hits: Vec<String> = tree(dir).into_keys().filter(|p| p.ends_with(suffix)).collect();
    assert_eq!(hits.len(), 1, "{suffix}: {hits:?}");
    dir.join(&hits[0])
}

/// Rewrites every inventory of an object and recomputes its sidecars.
fn rewrite_inventories(obj: &Path, f: impl Fn(String) -> String) {
    for (rel, bytes) in tree(obj) {
        if rel.ends_with("inventory.json") {
            let path = obj.join(&rel);
            let text = f(String::from_utf8(bytes).unwrap());
            std::fs::write(&path, &text).unwrap();
            let sidecar = format!("{} inventory.json\n", digest_of(text.as_bytes(), "sha512"));
            std::fs::write(path.with_file_name("inventory.json.sha512"), sidecar).unwrap();
        }
    }
}

struct Case {
    name: &'static str,
    /// Gets the root and the object directory of the small Akte.
    tamper: fn(&Path, &Path),
    expect: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "truncated inventory",
            tamper: |_, obj| {
                let inv = std::fs::read(obj.join("inventory.json")).unwrap();
                std::fs::write(obj.join("inventory.json"), &inv[..inv.len() / 2]).unwrap();
            },
            expect: "truncated or altered",
        },
        Case {
            name: "flipped byte in a document",
            tamper: |_, obj| {
                let doc = find(obj, "v1-anzeige.pdf");
                let mut b = std::fs::read(&doc).unwrap();
                b[100] ^= 4;
                std::fs::write(doc, b).unwrap();
            },
            expect: "SHA-512",
        },
        Case {
            name: "flipped byte in metadata",
            tamper: |_, obj| {
                let meta = find(obj, "v1/content/akte.json");
                edit(&meta, |t| t.replacen("Biogas", "Biogaz", 1));
            },
            expect: "manifest says",
        },
        Case {
            name: "inventory lies about a digest",
            tamper: |_, obj| {
                let real = digest_of(&std::fs::read(find(obj, "v1-anzeige.pdf")).unwrap(), "sha512");
                let fake = digest_of(b"something else", "sha512");
                rewrite_inventories(obj, |t| t.replace(&real, &fake));
            },
            expect: "SHA-512",
        },
        Case {
            name: "missing content file",
            tamper: |_, obj| std::fs::remove_file(find(obj, "v1-anzeige.pdf")).unwrap(),
            expect: "missing",
        },
        Case {
            name: "extra file in a content directory",
            tamper: |_, obj| std::fs::write(obj.join("v1/content/extra.txt"), b"x").unwrap(),
            expect: "not in its manifest",
        },
        Case {
            name: "extra file in the object",
            tamper: |_, obj| std::fs::write(obj.join("notes.txt"), b"x").unwrap(),
            expect: "does not belong",
        },
        Case {
            name: "symbolic link with the right content",
            tamper: |root, obj| {
                let doc = find(obj, "v1-anzeige.pdf");
                let outside = root.parent().unwrap().join("outside.pdf");
                std::fs::copy(&doc, &outside).unwrap();
                std::fs::remove_file(&doc).unwrap();
                std::os::unix::fs::symlink(&outside, &doc).unwrap();
            },
            expect: "symbolic link",
        },
        Case {
            name: "../ in a manifest path",
            tamper: |_, obj| {
                let doc = find(obj, "v1-anzeige.pdf");
                let rel = doc.strip_prefix(obj).unwrap().to_str().unwrap().to_string();
                rewrite_inventories(obj, |t| t.replace(&format!("\"{rel}\""), "\"v2/content/../../../outside.pdf\""));
            },
            expect: "`..`",
        },
        Case {
            name: "missing sidecar",
            tamper: |_, obj| std::fs::remove_file(obj.join("inventory.json.sha512")).unwrap(),
            expect: "inventory.json.sha512",
        },
        Case {
            name: "head version inventory differs",
            tamper: |_, obj| {
                let inv = inventory(obj);
                let head = inv["head"].as_str().unwrap().to_string();
                let p = obj.join(&head).join("inventory.json");
                let text = std::fs::read_to_string(&p).unwrap().replacen("\"created\"", " \"created\"", 1);
                std::fs::write(&p, &text).unwrap();
                let sidecar = format!("{} inventory.json\n", digest_of(text.as_bytes(), "sha512"));
                std::fs::write(p.with_file_name("inventory.json.sha512"), sidecar).unwrap();
            },
            expect: "differs from the object's inventory",
        },
        Case {
            name: "object where the layout does not put it",
            tamper: |root, obj| {
                let moved = root.join("000/000/000/elsewhere");
                std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
                std::fs::rename(obj, moved).unwrap();
            },
            expect: "storage layout",
        },
        Case {
            name: "missing storage root declaration",
            tamper: |root, _| std::fs::remove_file(root.join("0=ocfl_1.1")).unwrap(),
            expect: "0=ocfl_1.1",
        },
        Case {
            name: "an object in an unsupported version of OCFL",
            tamper: |_, obj| {
                rewrite_inventories(obj, |t| {
                    t.replace("https://ocfl.io/1.1/spec/#inventory", "https://ocfl.io/9.9/spec/#inventory")
                })
            },
            expect: "this build reads",
        },
    ]
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(text)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_roots_are_refused_and_leave_nothing() {
    let src = Env::new();
    let mut repo = src.init().await;
    let akten = populate(&mut repo).await;
    let good = src.path("good");
    export_ocfl(&repo, &[], &good).await.unwrap();
    let small = PathBuf::from(object_path(&object_id(akten[1])));

    let dst = Env::new();
    let mut target = dst.init().await;
    let own =
        create(&mut target, ObjKind::Akte, None, serde_json::json!({"aktenzeichen": "1-1/2026", "title": "Eigene"}))
            .await;
    add_doc(&mut target, own, "Eigenes Dokument", "eigen.txt", b"eigen").await;
    let before_any = snapshot(&target);

    for (i, case) in cases().into_iter().enumerate() {
        let root = dst.path(&format!("case{i}/root"));
        copy_tree(&good, &root);
        (case.tamper)(&root, &root.join(&small));
        let before = snapshot(&target);
        let err = import_ocfl(&mut target, &root).await.expect_err(case.name);
        let msg = err.to_string();
        assert!(err.is_bad_package(), "{}: not reported as a bad package: {msg}", case.name);
        assert!(msg.contains(case.expect), "{}: the error does not say {:?}: {msg}", case.name, case.expect);
        assert_eq!(snapshot(&target), before, "{}: the import left something behind", case.name);
    }
    assert_eq!(snapshot(&target), before_any);

    let err = import_ocfl(&mut repo, &good).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");

    import_ocfl(&mut target, &good).await.unwrap();
    assert_eq!(target.catalog().all(ObjKind::Akte).count(), 3);
}

/// Seeded mutants of an object's inventory (its root and head copies, with sidecars
/// recomputed so that the damage reaches the JSON reader and the checks behind it; the
/// older versions' inventories stay as they are): each root imports,
/// or is refused as a bad package with the catalog unchanged, in a short sentence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_inventories_import_or_are_refused_and_leave_nothing() {
    let n: u64 = std::env::var("AKTE_MUTANTS").ok().and_then(|n| n.parse().ok()).unwrap_or(40);
    let src = Env::new();
    let mut repo = src.init().await;
    let akten = populate(&mut repo).await;
    let good = src.path("good");
    export_ocfl(&repo, &[], &good).await.unwrap();
    let small = PathBuf::from(object_path(&object_id(akten[1])));
    let inventory = std::fs::read(good.join(&small).join("inventory.json")).unwrap();
    // The object's inventory is kept twice, at its root and in its head version's
    // directory; the older versions' inventories must stay as they are, or every mutant
    // would be refused for disagreeing with them.
    let head = serde_json::from_slice::<Value>(&inventory).unwrap()["head"].as_str().unwrap().to_string();
    let copies = [small.join("inventory.json"), small.join(&head).join("inventory.json")];
    // The unmutated root imports (a control: the refusals below are the mutations' doing).
    let control = Env::new();
    import_ocfl(&mut control.init().await, &good).await.unwrap();
    let mut dst = Env::new();
    let mut target = dst.init().await;
    let mut tally = Mutants::default();
    for k in 0..n {
        let seed = 0x0CF1_0000 + k;
        let mut bytes = inventory.clone();
        let what = mutate::mutate(&mut bytes, &mut mutate::Rng::new(seed));
        let root = dst.path(&format!("m{k}"));
        copy_tree(&good, &root);
        for copy in &copies {
            let path = root.join(copy);
            std::fs::write(&path, &bytes).unwrap();
            let sidecar = format!("{} inventory.json\n", digest_of(&bytes, "sha512"));
            std::fs::write(path.with_file_name("inventory.json.sha512"), sidecar).unwrap();
        }
        let label = format!("mutant {seed} ({what})");
        let before = snapshot(&target);
        let outcome = within_a_minute(&label, import_ocfl(&mut target, &root)).await;
        std::fs::remove_dir_all(&root).unwrap();
        if tally.judge(&label, outcome, &before, &target) {
            let fresh = Env::new();
            target = fresh.init().await;
            dst = fresh;
        }
    }
    eprintln!("{n} mutated inventories: {} imported, {} refused", tally.imported, tally.refused);
    assert!(tally.refused > 0, "no mutant was refused: the mutations reach nothing");
}
