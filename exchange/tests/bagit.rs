//! BagIt: export → import into a fresh repository → export gives the same payload byte
//! for byte; `bagit.py --validate` accepts our bags; hostile bags are refused with nothing
//! of them visible afterwards, and so are seeded mutants of a Dokument's metadata
//! (`AKTE_MUTANTS=N` runs N instead of 40).

mod common;

/// The seeded mutations of the extractors' robustness tests, applied to metadata here.
#[path = "../../plugins/tests/common/mutate.rs"]
mod mutate;

use std::path::Path;

use akte_exchange::{Error, export_bagit, import_bagit};
use akte_store::{Repository, model::ObjKind};
use common::*;
use serde_json::Value;

fn data_of(bag: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    tree(bag).into_iter().filter(|(p, _)| p.starts_with("data/")).collect()
}

fn bag_info(bag: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(bag.join("bag-info.txt"))
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn assert_valid(bag: &Path) {
    let (ok, out) = bagit_validate(bag);
    assert!(ok, "bagit.py --validate refused {}:\n{out}", bag.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_is_byte_identical_and_valid() {
    let src = Env::new();
    let mut repo = src.init().await;
    let akten = populate(&mut repo).await;
    let bag1 = src.path("bag1");
    let exported = export_bagit(&repo, &[], &bag1).await.unwrap();
    assert_eq!((exported.akten.len(), exported.vorgaenge, exported.dokumente, exported.versionen), (2, 3, 10, 11));
    assert_valid(&bag1);

    // The payload reads as the tree people expect.
    let data = data_of(&bag1);
    for p in [
        "data/61.2-0815_2026/akte.json",
        "data/61.2-0815_2026/Antrag nach § 4 BImSchG/vorgang.json",
        "data/61.2-0815_2026/Antrag nach § 4 BImSchG/Antrag auf Genehmigung/v1-Antrag.pdf",
        "data/61.2-0815_2026/Antrag nach § 4 BImSchG/Antrag auf Genehmigung/v2-Antrag (korrigiert).pdf",
        "data/61.2-0815_2026/Beteiligung Träger öffentlicher Belange/Stellungnahmen/Stellungnahme Naturschutz/dokument.json",
        "data/61.2-0815_2026/Beteiligung Träger öffentlicher Belange/Stellungnahmen/stellungnahme naturschutz (2)/v1-stellungnahme.txt",
        "data/61.2-0815_2026/Beteiligung Träger öffentlicher Belange/Stellungnahmen/_.._etc_passwd/v1-passwd",
        "data/61.2-0815_2026/Beteiligung Träger öffentlicher Belange/Stellungnahmen/akte.json (2)/v1-akte.json",
        "data/61.2-0815_2026/Vermerk_mit Zeilenumbruch/v1-vermerk 100_.txt",
        "data/61.2-0815_2026/Leeres Dokument/v1-leer.txt",
        "data/61.2-0815_2026/_CON/dokument.json",
        "data/61.2-0816_2026/Anzeige/v1-anzeige.pdf",
    ] {
        assert!(data.contains_key(p), "{p} missing; the bag has {:#?}", data.keys().collect::<Vec<_>>());
    }
    assert_eq!(data["data/61.2-0815_2026/Leeres Dokument/v1-leer.txt"], b"");
    assert_eq!(data["data/61.2-0815_2026/Antrag nach § 4 BImSchG/Lageplan/v1-lageplan.tif"], noise(1, 300_000));
    let akte: Value = serde_json::from_slice(&data["data/61.2-0815_2026/akte.json"]).unwrap();
    assert_eq!(akte["aktenplan"].as_array().unwrap().len(), 3);
    assert_eq!(akte["fields"]["status"], "zda");
    let actions: Vec<&str> =
        akte["history"].as_array().unwrap().iter().map(|h| h["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "update", "update"]);
    let info = bag_info(&bag1);
    let get = |k: &str| info.iter().find(|(l, _)| l == k).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(get("External-Identifier"), format!("urn:uuid:{}", repo.repository_id()));
    assert_eq!(get("Akte-Count-Dokumente"), "10");
    assert_eq!(get("Bag-Count"), "1 of 1");

    // Into a fresh repository …
    let dst = Env::new();
    let mut other = dst.init().await;
    let imported = import_bagit(&mut other, &bag1).await.unwrap();
    assert_eq!((imported.akten.len(), imported.dokumente, imported.versionen, imported.files), (2, 10, 11, 11));
    for id in &akten {
        let (a, b) = (repo.catalog().get(id).unwrap(), other.catalog().get(id).unwrap());
        assert_eq!((&a.fields, a.kind), (&b.fields, b.kind));
    }
    for o in repo.catalog().state.objects.values().filter(|o| o.kind != ObjKind::Aktenplan) {
        let mine = other.catalog().get(&o.id).unwrap_or_else(|| panic!("{} {} not imported", o.kind.label(), o.id));
        assert_eq!(
            (&mine.fields, mine.parent, mine.number, &mine.versions),
            (&o.fields, o.parent, o.number, &o.versions)
        );
    }
    assert_eq!(other.catalog().all(ObjKind::Aktenplan).count(), 3);
    // … the import is one journal entry.
    assert_eq!(other.catalog().entries.len(), 1);

    // … and out again: the same payload, byte for byte (documents and metadata).
    let bag2 = dst.path("bag2");
    export_bagit(&other, &[], &bag2).await.unwrap();
    assert_valid(&bag2);
    assert_same_tree(&data, &data_of(&bag2), "payload after a round trip");
    for m in ["manifest-sha256.txt", "manifest-sha512.txt"] {
        assert_eq!(std::fs::read(bag1.join(m)).unwrap(), std::fs::read(bag2.join(m)).unwrap(), "{m}");
    }

    // History goes on after the import: the next export shows the source's history and
    // then what happened here.
    let a = akten[0];
    update(&mut other, a, serde_json::json!({"legal_hold": true})).await;
    let bag3 = dst.path("bag3");
    export_bagit(&other, &[a], &bag3).await.unwrap();
    let akte3: Value =
        serde_json::from_slice(&std::fs::read(bag3.join("data/61.2-0815_2026/akte.json")).unwrap()).unwrap();
    let h1 = akte["history"].as_array().unwrap();
    let h3 = akte3["history"].as_array().unwrap();
    assert_eq!(&h3[..h1.len()], &h1[..]);
    assert_eq!(h3.len(), h1.len() + 1);
    assert_eq!(h3[h1.len()]["changes"][0]["field"], "legal_hold");
    assert_eq!(h3[h1.len()]["actor"], "test:clerk");
    assert_valid(&bag3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_validator_catches_a_flipped_byte() {
    let env = Env::new();
    let mut repo = env.init().await;
    populate(&mut repo).await;
    let bag = env.path("bag");
    export_bagit(&repo, &[], &bag).await.unwrap();
    let doc = bag.join("data/61.2-0816_2026/Anzeige/v1-anzeige.pdf");
    let mut bytes = std::fs::read(&doc).unwrap();
    bytes[40_000] ^= 1;
    std::fs::write(&doc, bytes).unwrap();
    let (ok, out) = bagit_validate(&bag);
    assert!(!ok, "bagit.py --validate accepted a flipped byte:\n{out}");
}

/// One hostile variation of a good bag.
struct Case {
    name: &'static str,
    tamper: fn(&Path),
    /// A word the error must contain.
    expect: &'static str,
}

const ANZEIGE: &str = "data/61.2-0816_2026/Anzeige/v1-anzeige.pdf";
const ANZEIGE_META: &str = "data/61.2-0816_2026/Anzeige/dokument.json";

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, f(text)).unwrap();
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "manifest lies about a digest",
            tamper: |bag| {
                let real = digest_of(&std::fs::read(bag.join(ANZEIGE)).unwrap(), "sha256");
                edit(&bag.join("manifest-sha256.txt"), |t| t.replace(&real, &digest_of(b"something else", "sha256")));
                rehash_tags(bag);
            },
            expect: "manifest",
        },
        Case {
            name: "flipped byte in a document",
            tamper: |bag| {
                let mut b = std::fs::read(bag.join(ANZEIGE)).unwrap();
                b[65_000] ^= 0x80;
                std::fs::write(bag.join(ANZEIGE), b).unwrap();
            },
            expect: "SHA-256",
        },
        Case {
            name: "flipped byte in metadata",
            tamper: |bag| edit(&bag.join(ANZEIGE_META), |t| t.replacen("Anzeige", "Anzeigf", 1)),
            expect: "manifest says",
        },
        Case {
            name: "missing payload file",
            tamper: |bag| std::fs::remove_file(bag.join(ANZEIGE)).unwrap(),
            expect: "missing",
        },
        Case {
            name: "extra payload file",
            tamper: |bag| std::fs::write(bag.join("data/61.2-0816_2026/Anzeige/extra.txt"), b"x").unwrap(),
            expect: "not in manifest",
        },
        Case {
            name: "extra file that the manifests list but no metadata describes",
            tamper: |bag| {
                std::fs::write(bag.join("data/61.2-0816_2026/Anzeige/v9-extra.txt"), b"x").unwrap();
                rehash_bag(bag);
            },
            expect: "no metadata describes it",
        },
        Case {
            name: "../ in a manifest",
            tamper: |bag| {
                let d = digest_of(b"x", "sha256");
                edit(&bag.join("manifest-sha256.txt"), |t| format!("{t}{d}  data/../../outside.txt\n"));
                rehash_tags(bag);
            },
            expect: "`..`",
        },
        Case {
            name: "absolute path in a manifest",
            tamper: |bag| {
                let d = digest_of(b"x", "sha256");
                edit(&bag.join("manifest-sha256.txt"), |t| format!("{t}{d}  /etc/passwd\n"));
                rehash_tags(bag);
            },
            expect: "absolute",
        },
        Case {
            name: "symbolic link with the right content",
            tamper: |bag| {
                let outside = bag.parent().unwrap().join("outside.pdf");
                std::fs::copy(bag.join(ANZEIGE), &outside).unwrap();
                std::fs::remove_file(bag.join(ANZEIGE)).unwrap();
                std::os::unix::fs::symlink(&outside, bag.join(ANZEIGE)).unwrap();
            },
            expect: "symbolic link",
        },
        Case {
            name: "invalid metadata field",
            tamper: |bag| {
                edit(&bag.join(ANZEIGE_META), |t| t.replacen("\"title\": \"Anzeige\"", "\"colour\": \"red\"", 1));
                rehash_bag(bag);
            },
            expect: "field colour is not known",
        },
        Case {
            name: "metadata lies about a version's digest",
            tamper: |bag| {
                let real = digest_of(&std::fs::read(bag.join(ANZEIGE)).unwrap(), "sha256");
                edit(&bag.join(ANZEIGE_META), |t| t.replace(&real, &digest_of(b"other", "sha256")));
                rehash_bag(bag);
            },
            expect: "version's sha256",
        },
        Case {
            name: "version file name with a path",
            tamper: |bag| {
                edit(&bag.join(ANZEIGE_META), |t| {
                    t.replace("\"file\": \"v1-anzeige.pdf\"", "\"file\": \"../v1-anzeige.pdf\"")
                });
                rehash_bag(bag);
            },
            expect: "`..`",
        },
        Case {
            name: "missing bagit.txt",
            tamper: |bag| std::fs::remove_file(bag.join("bagit.txt")).unwrap(),
            expect: "bagit.txt",
        },
        Case {
            name: "altered bag-info.txt",
            tamper: |bag| edit(&bag.join("bag-info.txt"), |t| t.replace("Bag-Count: 1 of 1", "Bag-Count: 1 of 2")),
            expect: "bag-info.txt",
        },
        Case {
            name: "wrong Payload-Oxum",
            tamper: |bag| {
                edit(&bag.join("bag-info.txt"), |t| {
                    t.lines()
                        .map(|l| if l.starts_with("Payload-Oxum") { "Payload-Oxum: 1.1".into() } else { l.to_string() })
                        .collect::<Vec<_>>()
                        .join("\n")
                        + "\n"
                });
                rehash_tags(bag);
            },
            expect: "Payload-Oxum",
        },
        Case {
            name: "fetch.txt",
            tamper: |bag| std::fs::write(bag.join("fetch.txt"), "https://example.org/x 1 data/x\n").unwrap(),
            expect: "fetch",
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bags_are_refused_and_leave_nothing() {
    let src = Env::new();
    let mut repo = src.init().await;
    populate(&mut repo).await;
    let good = src.path("good");
    export_bagit(&repo, &[], &good).await.unwrap();

    // The target already holds an Akte of its own.
    let dst = Env::new();
    let mut target: Repository = dst.init().await;
    let own =
        create(&mut target, ObjKind::Akte, None, serde_json::json!({"aktenzeichen": "1-1/2026", "title": "Eigene"}))
            .await;
    add_doc(&mut target, own, "Eigenes Dokument", "eigen.txt", b"eigen").await;
    let before_any = snapshot(&target);

    for (i, case) in cases().into_iter().enumerate() {
        let bag = dst.path(&format!("case{i}/bag"));
        copy_tree(&good, &bag);
        (case.tamper)(&bag);
        let before = snapshot(&target);
        let err = import_bagit(&mut target, &bag).await.expect_err(case.name);
        let msg = err.to_string();
        assert!(err.is_bad_package(), "{}: not reported as a bad package: {msg}", case.name);
        assert!(msg.contains(case.expect), "{}: the error does not say {:?}: {msg}", case.name, case.expect);
        assert_eq!(snapshot(&target), before, "{}: the import left something behind", case.name);
    }
    assert_eq!(snapshot(&target), before_any);

    // An Aktenzeichen the repository already has: refused as a conflict.
    let err = import_bagit(&mut repo, &good).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)) && err.to_string().contains("61.2-08"), "{err}");

    // After all that, the good bag still imports, and then cannot be imported twice.
    import_bagit(&mut target, &good).await.unwrap();
    assert_eq!(target.catalog().all(ObjKind::Akte).count(), 3);
    let after = snapshot(&target);
    let err = import_bagit(&mut target, &good).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err}");
    assert_eq!(snapshot(&target), after);

    // Deleted after its retention, the Akte cannot come back under its old ids: the
    // journal keeps the deletion, and an import under them would report Akten that are
    // nowhere.
    let imported: Vec<uuid::Uuid> = target
        .catalog()
        .all(ObjKind::Akte)
        .filter(|a| a.text("aktenzeichen") != Some("1-1/2026"))
        .map(|a| a.id)
        .collect();
    assert!(!imported.is_empty());
    target.delete(imported.iter().map(|id| (*id, serde_json::Map::new())).collect()).await.unwrap();
    let err = import_bagit(&mut target, &good).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)) && err.to_string().contains("was deleted"), "{err}");
    assert_eq!(target.catalog().all(ObjKind::Akte).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_refuses_unknown_akten_and_used_directories() {
    let env = Env::new();
    let mut repo = env.init().await;
    let akten = populate(&mut repo).await;
    let out = env.path("out");
    let err = export_bagit(&repo, &[uuid::Uuid::now_v7()], &out).await.unwrap_err();
    assert!(matches!(err, Error::Usage(_)), "{err}");
    assert!(!out.exists());
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), b"mine").unwrap();
    let err = akte_exchange::export_ocfl(&repo, &akten, &out).await.unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(std::fs::read(out.join("keep.txt")).unwrap(), b"mine");
    // An empty directory is used; nothing is left beside it.
    std::fs::remove_file(out.join("keep.txt")).unwrap();
    let report = export_bagit(&repo, &akten[1..], &out).await.unwrap();
    assert_eq!(report.akten.len(), 1);
    assert_valid(&out);
    let beside: Vec<String> =
        std::fs::read_dir(env.dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert!(beside.iter().all(|n| !n.contains("partial")), "{beside:?}");
}

/// Seeded mutants of a Dokument's `dokument.json` with the payload and tag manifests
/// recomputed, so that the damage reaches the JSON reader and the checks of fields,
/// versions and files behind it: each bag imports, or is refused as a bad package with
/// the catalog unchanged, in a short sentence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutated_metadata_imports_or_is_refused_and_leaves_nothing() {
    let n: u64 = std::env::var("AKTE_MUTANTS").ok().and_then(|n| n.parse().ok()).unwrap_or(40);
    let src = Env::new();
    let mut repo = src.init().await;
    populate(&mut repo).await;
    let good = src.path("good");
    export_bagit(&repo, &[], &good).await.unwrap();
    let original = std::fs::read(good.join(ANZEIGE_META)).unwrap();
    // The unmutated bag imports (a control: the refusals below are the mutations' doing).
    let control = Env::new();
    import_bagit(&mut control.init().await, &good).await.unwrap();
    let mut dst = Env::new();
    let mut target = dst.init().await;
    let mut tally = Mutants::default();
    for k in 0..n {
        let seed = 0xBA61_0000 + k;
        let mut bytes = original.clone();
        let what = mutate::mutate(&mut bytes, &mut mutate::Rng::new(seed));
        let bag = dst.path(&format!("m{k}"));
        copy_tree(&good, &bag);
        std::fs::write(bag.join(ANZEIGE_META), &bytes).unwrap();
        for alg in ["sha256", "sha512"] {
            let (old, new) = (digest_of(&original, alg), digest_of(&bytes, alg));
            edit(&bag.join(format!("manifest-{alg}.txt")), |t| {
                t.replace(&format!("{old}  {ANZEIGE_META}"), &format!("{new}  {ANZEIGE_META}"))
            });
        }
        // The payload's size changed with the mutant: Payload-Oxum says so too.
        edit(&bag.join("bag-info.txt"), |t| {
            t.lines()
                .map(|line| match line.strip_prefix("Payload-Oxum: ").and_then(|v| v.split_once('.')) {
                    Some((octets, files)) => {
                        let octets = octets.parse::<usize>().unwrap() + bytes.len() - original.len();
                        format!("Payload-Oxum: {octets}.{files}\n")
                    }
                    None => format!("{line}\n"),
                })
                .collect()
        });
        rehash_tags(&bag);
        let label = format!("mutant {seed} ({what})");
        let before = snapshot(&target);
        let outcome = within_a_minute(&label, import_bagit(&mut target, &bag)).await;
        std::fs::remove_dir_all(&bag).unwrap();
        if tally.judge(&label, outcome, &before, &target) {
            let fresh = Env::new();
            target = fresh.init().await;
            dst = fresh;
        }
    }
    // The bag's ids and times are new each run, so the same seed damages slightly different
    // bytes: how many import varies, and only that some are refused is certain.
    eprintln!("{n} mutated dokument.json: {} imported, {} refused", tally.imported, tally.refused);
    assert!(tally.refused > 0, "no mutant was refused: the mutations reach nothing");
}

/// A gate that, while an import asks it about a file, uses the repository the import goes
/// into: it reads it, and the first time it creates an Akte with the Aktenzeichen `taken`.
struct Meddler<'a> {
    repo: &'a tokio::sync::RwLock<Repository>,
    taken: Option<&'a str>,
    asked: std::sync::atomic::AtomicUsize,
}

impl akte_exchange::Gate for Meddler<'_> {
    fn check<'a>(
        &'a self,
        _: akte_exchange::Candidate<'a>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            // Not held by the import: a held lock would not be free within a second.
            let free = tokio::time::timeout(std::time::Duration::from_secs(1), self.repo.write()).await;
            let mut repo = free.map_err(|_| "the import holds the repository while it validates".to_string())?;
            if self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0
                && let Some(az) = self.taken
            {
                create(&mut repo, ObjKind::Akte, None, serde_json::json!({"aktenzeichen": az, "title": "Zuvor"})).await;
            }
            Ok(())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_holds_the_repository_only_to_check_and_to_commit() {
    let src = Env::new();
    let mut repo = src.init().await;
    populate(&mut repo).await;
    let bag = src.path("bag");
    export_bagit(&repo, &[], &bag).await.unwrap();

    // Others may read and commit while the files are validated and stored.
    let dst = Env::new();
    let shared = tokio::sync::RwLock::new(dst.init().await);
    let gate = Meddler { repo: &shared, taken: None, asked: Default::default() };
    let report = akte_exchange::import_bagit_gated(&shared, &bag, &gate).await.unwrap();
    assert_eq!(report.akten.len(), 2);
    assert!(gate.asked.load(std::sync::atomic::Ordering::SeqCst) >= 10, "every file was validated");

    // What was committed meanwhile is checked once more at the commit: an Aktenzeichen
    // taken while the files were stored refuses the import, and nothing of it is visible.
    let dst = Env::new();
    let shared = tokio::sync::RwLock::new(dst.init().await);
    let gate = Meddler { repo: &shared, taken: Some("61.2-0816/2026"), asked: Default::default() };
    let err = akte_exchange::import_bagit_gated(&shared, &bag, &gate).await.unwrap_err();
    assert!(matches!(err, Error::Conflict(_)) && err.to_string().contains("61.2-0816/2026"), "{err}");
    let repo = shared.into_inner();
    let akten: Vec<_> = repo.catalog().all(ObjKind::Akte).collect();
    assert_eq!(akten.len(), 1, "only the Akte made meanwhile");
}
