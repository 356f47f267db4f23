//! Tampering, truncation and rollback of the store are detected by `akte verify`, which
//! names exactly the bad object, and never served by `akte get`.
//!
//! Every case works on a fresh copy of one small repository (an Akte with a multi-chunk
//! document, a small one, one in a Vorgang with two versions, a metadata change) and runs
//! the real `akte` binary against it.

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use common::{Rng, Run, copy_dir, files_below, ok, run, write_file};
use tempfile::TempDir;

/// A document version the tests read back, with the bytes it must have.
#[derive(Clone, Debug)]
struct Readable {
    label: &'static str,
    dok: String,
    version: Option<u32>,
    bytes: Vec<u8>,
}

/// The repository every case starts from.
struct Base {
    tmp: TempDir,
    data: PathBuf,
    readables: Vec<Readable>,
}

const AZ: &str = "61.2-0001/2026";

/// Builds the base repository: 6 journal entries, 3 chunks and a manifest for the big
/// document, 6 packs (records and the small contents of each commit).
fn base() -> Base {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = common::init_repo(tmp.path(), "base");
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let mut rng = Rng::new(0x7a3b_e1d0);
    let big = rng.bytes((9 << 20) + 12_345); // 4 MiB + 4 MiB + a remainder: three chunks
    let small = b"Kleines Dokument: Stellungnahme der Gemeinde Hohe Heide.\n".to_vec();
    let medium = rng.bytes(200_000);
    let medium2 = rng.bytes(150_001);

    common::create(&data, AZ, "Tamper-Test");
    let vorgang =
        ok(&data, &["vorgang", AZ, "--title", "Beteiligung", "--json"]).json()["id"].as_str().unwrap().to_string();
    // Without the ingest pipeline, so that the store holds exactly the objects counted
    // below; derived results are tampered with in the ingest crate's tests.
    let (big_file, small_file) = (write_file(&files, "big.bin", &big), write_file(&files, "small.txt", &small));
    let added =
        ok(&data, &["add", AZ, "--no-ingest", "--json", big_file.to_str().unwrap(), small_file.to_str().unwrap()])
            .json();
    let big_id = added[0]["id"].as_str().unwrap().to_string();
    let small_id = added[1]["id"].as_str().unwrap().to_string();
    let m = ok(
        &data,
        &[
            "add",
            AZ,
            "--no-ingest",
            "--vorgang",
            &vorgang,
            "--json",
            write_file(&files, "medium.dat", &medium).to_str().unwrap(),
        ],
    )
    .json();
    let medium_id = m[0]["id"].as_str().unwrap().to_string();
    ok(&data, &["set", &small_id, "title=Neuer Titel"]);
    ok(&data, &["version", &medium_id, "--no-ingest", write_file(&files, "medium-v2.dat", &medium2).to_str().unwrap()]);

    let readables = vec![
        Readable { label: "big", dok: big_id, version: None, bytes: big },
        Readable { label: "small", dok: small_id, version: None, bytes: small },
        Readable { label: "medium v1", dok: medium_id.clone(), version: Some(1), bytes: medium },
        Readable { label: "medium v2", dok: medium_id, version: None, bytes: medium2 },
    ];
    for r in &readables {
        assert_eq!(get_args(&data, r, None).ok().stdout, r.bytes, "base repository serves {}", r.label);
    }
    Base { tmp, data, readables }
}

impl Base {
    /// A fresh copy of the data directory (store included) for one case.
    fn copy(&self, name: &str) -> PathBuf {
        let dst = self.tmp.path().join("cases").join(name);
        assert!(!dst.exists(), "case {name} used twice");
        common::copy_node(&self.data, &dst);
        dst
    }

    /// Store paths of every object and journal entry (not the key file).
    fn store_objects(&self) -> Vec<String> {
        let all = files_below(&self.data.join("store"));
        let objs: Vec<String> =
            all.into_iter().filter(|p| p.starts_with("objects/") || p.starts_with("journal/")).collect();
        assert!(objs.iter().any(|p| p.starts_with("journal/")), "the base repository has journal entries");
        objs
    }
}

fn get_args(data: &Path, r: &Readable, out: Option<&Path>) -> Run {
    let mut args = vec!["get".to_string(), r.dok.clone()];
    if let Some(v) = r.version {
        args.extend(["--version".into(), v.to_string()]);
    }
    if let Some(o) = out {
        args.extend(["-o".into(), o.to_str().unwrap().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(data, &args)
}

/// `akte verify --json` on a data directory: exit code and the problem objects.
fn verify(data: &Path) -> (Run, BTreeMap<String, Vec<String>>) {
    let r = run(data, &["verify", "--json"]);
    assert!(r.code == 0 || r.code == 1, "verify exits 0 or 1:\n{r}");
    let v = r.json();
    let mut problems: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in v["problems"].as_array().unwrap_or_else(|| panic!("verify --json has a problems list:\n{r}")) {
        problems
            .entry(p["object"].as_str().unwrap().to_string())
            .or_default()
            .push(p["problem"].as_str().unwrap().to_string());
    }
    assert_eq!(r.code == 0, problems.is_empty(), "verify exits 0 exactly when it reports no problem:\n{r}");
    (r, problems)
}

/// Asserts that verify fails and names exactly `expected` (as a set of store paths).
fn assert_verify_names(data: &Path, expected: &[&str], case: &str) -> BTreeMap<String, Vec<String>> {
    let (r, problems) = verify(data);
    assert_ne!(r.code, 0, "{case}: verify must fail:\n{r}");
    let named: BTreeSet<&str> = problems.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = expected.iter().copied().collect();
    assert_eq!(named, want, "{case}: verify must name exactly the bad objects:\n{r}");
    // The human-readable report names them too.
    let human = run(data, &["verify"]);
    assert_ne!(human.code, 0, "{case}: verify (no --json) must fail too:\n{human}");
    for p in expected {
        assert!(human.out().contains(p) || human.stderr.contains(p), "{case}: verify output names {p}:\n{human}");
    }
    problems
}

/// `akte get` of an affected version must fail, say "integrity", and write no wrong byte:
/// the `-o` target keeps its previous content (or stays absent), no partial file is left,
/// and whatever reached stdout is a prefix of the true content.
fn assert_get_refused(data: &Path, r: &Readable, case: &str, previous: Option<&[u8]>) {
    let out_dir = data.parent().unwrap().join(format!("out-{}", data.file_name().unwrap().to_str().unwrap()));
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let target = out_dir.join("dokument.bin");
    if let Some(p) = previous {
        std::fs::write(&target, p).unwrap();
    }
    let g = get_args(data, r, Some(&target));
    assert_ne!(g.code, 0, "{case}: get {} must fail:\n{g}", r.label);
    assert!(
        g.stderr.to_lowercase().contains("integrity"),
        "{case}: get {} must report an integrity error:\n{g}",
        r.label
    );
    common::assert_error_sentence(&g);
    match previous {
        Some(p) => assert_eq!(
            std::fs::read(&target).ok().as_deref(),
            Some(p),
            "{case}: -o target must keep its previous content"
        ),
        None => assert!(!target.exists(), "{case}: -o target must not be written"),
    }
    let left: Vec<String> = files_below(&out_dir).into_iter().filter(|f| f != "dokument.bin").collect();
    assert!(left.is_empty(), "{case}: get left files behind: {left:?}");

    let s = get_args(data, r, None);
    assert_ne!(s.code, 0, "{case}: get {} to stdout must fail:\n{}", r.label, s.stderr);
    assert!(
        r.bytes.starts_with(&s.stdout),
        "{case}: get {} wrote {} bytes to stdout that are not a prefix of its content",
        r.label,
        s.stdout.len()
    );
}

/// Either a refusal with an integrity error, or exactly the right bytes.
fn assert_get_right_or_refused(data: &Path, r: &Readable, case: &str) {
    let g = get_args(data, r, None);
    if g.code == 0 {
        assert!(g.stdout == r.bytes, "{case}: get {} served wrong bytes", r.label);
    } else {
        assert!(
            g.stderr.to_lowercase().contains("integrity"),
            "{case}: get {} failed without an integrity error:\n{g}",
            r.label
        );
        assert!(r.bytes.starts_with(&g.stdout), "{case}: get {} wrote wrong bytes before failing", r.label);
    }
}

/// What an object is, found by deleting it and watching what breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    /// A content chunk of a multi-chunk content (its referrer is a manifest object).
    Chunk,
    /// Referenced by the journal and needed to read a content: a manifest, or a pack that
    /// holds the single chunk of a small content.
    Manifest,
    /// Referenced by the journal, not needed by content reads: a pack of records only.
    Record,
    /// A journal entry.
    Entry,
}

#[derive(Clone, Debug)]
struct ObjectInfo {
    path: String,
    role: Role,
    /// Indexes into `Base::readables` whose content needs this object.
    affects: Vec<usize>,
}

/// Deletes each object in turn (case (b)): verify must name exactly it; records who
/// referred to it and which reads break, which classifies every object.
fn delete_each(b: &Base) -> Vec<ObjectInfo> {
    let mut infos = Vec::new();
    for (i, path) in b.store_objects().into_iter().enumerate() {
        let data = b.copy(&format!("del-{i}"));
        std::fs::remove_file(data.join("store").join(&path)).unwrap();
        let problems = assert_verify_names(&data, &[&path], &format!("delete {path}"));
        let text = problems[&path].join(" ");
        let role = if path.starts_with("journal/") {
            Role::Entry
        } else if text.contains("referenced by journal/") {
            Role::Manifest // or Record: decided below by whether a content read breaks
        } else {
            // A chunk's referrer is its manifest object.
            assert!(text.contains("referenced by"), "delete {path}: verify says who referenced it: {text}");
            Role::Chunk
        };
        let mut affects = Vec::new();
        if role != Role::Entry {
            for (k, r) in b.readables.iter().enumerate() {
                let g = get_args(&data, r, None);
                if g.code != 0 {
                    affects.push(k);
                } else {
                    assert_eq!(g.stdout, r.bytes, "delete {path}: get {} served wrong bytes", r.label);
                }
            }
        }
        let role = match role {
            Role::Manifest if affects.is_empty() => Role::Record,
            r => r,
        };
        if matches!(role, Role::Chunk | Role::Manifest) {
            assert!(!affects.is_empty(), "delete {path}: a {role:?} is needed by some read");
            for &k in &affects {
                assert_get_refused(&data, &b.readables[k], &format!("delete {path}"), Some(b"previous content"));
            }
        }
        std::fs::remove_dir_all(&data).unwrap();
        infos.push(ObjectInfo { path, role, affects });
    }
    let count = |r: Role| infos.iter().filter(|i| i.role == r).count();
    assert_eq!(count(Role::Chunk), 3, "the big document's three chunks, behind its manifest: {infos:#?}");
    // Small contents and all records travel in packs, one per commit: the three commits
    // that store a small content have a pack that reads need (like a content root), the
    // other three (Akte, Vorgang, the update) a pack of records only.
    assert_eq!(count(Role::Manifest), 4, "the big manifest and three packs with small contents: {infos:#?}");
    assert_eq!(count(Role::Record), 3, "packs of records only: {infos:#?}");
    assert_eq!(count(Role::Entry), 6, "six journal entries: {infos:#?}");
    let big_chunks = infos.iter().filter(|i| i.role == Role::Chunk && i.affects == [0]).count();
    assert_eq!(big_chunks, 3, "the 9 MiB document has three chunks of its own: {infos:#?}");
    infos
}

#[test]
fn untouched_repository_verifies_clean() {
    let b = base();
    let (r, problems) = verify(&b.data);
    assert_eq!(r.code, 0, "an untouched repository verifies clean:\n{r}");
    assert!(problems.is_empty());
    let v = r.json();
    assert_eq!(v["entries"], 6, "{r}");
    assert_eq!(v["unreferenced"], 0, "{r}");
    let human = ok(&b.data, &["verify"]);
    assert!(human.out().contains("all good"), "{human}");
    // A fresh copy (another path, same store bytes) verifies too: nothing depends on paths.
    let copy = b.copy("untouched");
    assert_eq!(verify(&copy).0.code, 0);
}

#[test]
fn deleted_object_of_every_kind_is_named_and_never_served() {
    let b = base();
    delete_each(&b);
}

#[test]
fn flipped_byte_in_every_object_is_named_and_never_served() {
    let b = base();
    let infos = delete_each(&b);
    let mut rng = Rng::new(0xf11b);
    for (i, info) in infos.iter().enumerate() {
        let len = std::fs::metadata(b.data.join("store").join(&info.path)).unwrap().len() as usize;
        // In the age header, somewhere in the body, and the very last byte.
        // The age version line ("age-encryption.org/v1"), the recipient stanza, somewhere in
        // the encrypted body, and the very last byte.
        let positions = [
            rng.below(21) as usize,
            21 + rng.below(len.min(150) as u64 - 21) as usize,
            len / 2 + rng.below((len / 2) as u64) as usize,
            len - 1,
        ];
        for (j, pos) in positions.into_iter().enumerate() {
            let case = format!("flip bit of byte {pos} of {} ({:?}, {len} bytes)", info.path, info.role);
            let data = b.copy(&format!("flip-{i}-{j}"));
            let file = data.join("store").join(&info.path);
            let mut bytes = std::fs::read(&file).unwrap();
            bytes[pos] ^= 1 << rng.below(8);
            std::fs::write(&file, &bytes).unwrap();
            assert_verify_names(&data, &[&info.path], &case);
            match info.role {
                Role::Chunk | Role::Manifest => {
                    for (n, &k) in info.affects.iter().enumerate() {
                        let previous: Option<&[u8]> = if n % 2 == 0 { None } else { Some(b"previous content") };
                        assert_get_refused(&data, &b.readables[k], &case, previous);
                    }
                }
                Role::Record | Role::Entry => {
                    for r in &b.readables {
                        assert_get_right_or_refused(&data, r, &case);
                    }
                    // Rebuilding from the store must not accept the tampered object …
                    let re = run(&data, &["reindex"]);
                    assert_ne!(re.code, 0, "{case}: reindex must refuse a tampered {:?}:\n{re}", info.role);
                    assert!(
                        re.stderr.to_lowercase().contains("integrity"),
                        "{case}: reindex names an integrity error:\n{re}"
                    );
                    // … and nothing is served from a store that does not verify.
                    for r in &b.readables {
                        assert_get_right_or_refused(&data, r, &format!("{case}, after reindex"));
                    }
                }
            }
            std::fs::remove_dir_all(&data).unwrap();
        }
    }
}

#[test]
fn swapped_objects_are_both_named_and_never_served() {
    let b = base();
    let infos = delete_each(&b);
    let of = |role: Role| infos.iter().filter(move |i| i.role == role);
    let big_chunks: Vec<&ObjectInfo> = of(Role::Chunk).filter(|i| i.affects == [0]).collect();
    let big_size = |i: &&ObjectInfo| std::fs::metadata(b.data.join("store").join(&i.path)).unwrap().len();
    // Two full 4 MiB chunks of the same document: same length, only their order differs.
    let mut full: Vec<&ObjectInfo> = big_chunks.iter().copied().filter(|i| big_size(i) > 4 << 20).collect();
    full.sort_by_key(|i| i.path.clone());
    assert_eq!(full.len(), 2, "two full chunks: {big_chunks:#?}");
    // The big document's manifest, and the single-chunk root of a small document.
    let manifest = of(Role::Manifest).find(|i| i.affects.contains(&0)).unwrap();
    let small_chunk = of(Role::Manifest).find(|i| !i.affects.contains(&0)).unwrap();
    let records: Vec<&ObjectInfo> = of(Role::Record).collect();
    let entries: Vec<&ObjectInfo> = of(Role::Entry).collect();
    let pairs: Vec<(&ObjectInfo, &ObjectInfo)> = vec![
        (full[0], full[1]),
        (small_chunk, manifest),
        (records[0], records[1]),
        (entries[1], entries[2]),
        (manifest, records[2]),
    ];
    for (n, (x, y)) in pairs.into_iter().enumerate() {
        let case = format!("swap {} ({:?}) with {} ({:?})", x.path, x.role, y.path, y.role);
        let data = b.copy(&format!("swap-{n}"));
        let (px, py) = (data.join("store").join(&x.path), data.join("store").join(&y.path));
        let (bx, by) = (std::fs::read(&px).unwrap(), std::fs::read(&py).unwrap());
        std::fs::write(&px, by).unwrap();
        std::fs::write(&py, bx).unwrap();
        assert_verify_names(&data, &[&x.path, &y.path], &case);
        let affected: BTreeSet<usize> = x.affects.iter().chain(&y.affects).copied().collect();
        for k in affected {
            assert_get_refused(&data, &b.readables[k], &case, Some(b"previous content"));
        }
        for r in &b.readables {
            assert_get_right_or_refused(&data, r, &case);
        }
    }
}

/// The journal stream of the base repository, oldest first.
fn stream(data: &Path) -> Vec<String> {
    let entries: Vec<String> =
        files_below(&data.join("store")).into_iter().filter(|p| p.starts_with("journal/")).collect();
    assert_eq!(entries.len(), 6);
    entries
}

#[test]
fn truncated_journal_is_named_and_nothing_is_served() {
    let b = base();
    let entries = stream(&b.data);
    let newest = entries.last().unwrap().clone();
    let data = b.copy("truncate");
    std::fs::remove_file(data.join("store").join(&newest)).unwrap();
    let problems = assert_verify_names(&data, &[&newest], "truncate the newest entry");
    assert!(problems[&newest].iter().any(|p| p.contains("missing")), "{problems:?}");
    // The last entry added medium v2: reading it must be refused, not answered from v1.
    assert_get_refused(&data, &b.readables[3], "truncate the newest entry", None);
    for r in &b.readables {
        assert_get_right_or_refused(&data, r, "truncate the newest entry");
    }
    // A later write must not paper over the gap by re-using the missing sequence number.
    let w = run(&data, &["create", "--aktenzeichen", "61.2-0002/2026", "--title", "Nach Kürzung"]);
    assert_ne!(w.code, 0, "a node must not write on top of a truncated stream:\n{w}");
    assert!(!data.join("store").join(&newest).exists(), "the missing entry was rewritten by a later command");
    // Rebuilding the catalog from the truncated store must not accept it either.
    std::fs::remove_file(data.join("catalog.json")).unwrap();
    let re = run(&data, &["reindex"]);
    assert_ne!(re.code, 0, "reindex must refuse a stream shorter than this node has seen:\n{re}");
    assert_get_refused(&data, &b.readables[3], "truncate, then reindex", Some(b"previous content"));
}

#[test]
fn journal_entry_replaced_by_older_copy_is_named() {
    let b = base();
    let entries = stream(&b.data);
    for (n, (older, newer)) in [(4usize, 5usize), (0, 5), (2, 3)].into_iter().enumerate() {
        let case = format!("replace {} with a copy of {}", entries[newer], entries[older]);
        let data = b.copy(&format!("rollback-{n}"));
        std::fs::copy(data.join("store").join(&entries[older]), data.join("store").join(&entries[newer])).unwrap();
        let problems = assert_verify_names(&data, &[&entries[newer]], &case);
        assert!(!problems.is_empty());
        for r in &b.readables {
            assert_get_right_or_refused(&data, r, &case);
        }
        let re = run(&data, &["reindex"]);
        assert_ne!(re.code, 0, "{case}: reindex must refuse the rolled-back stream:\n{re}");
    }
}

#[test]
fn store_rolled_back_to_an_older_snapshot_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let data = common::init_repo(tmp.path(), "node");
    let mut rng = Rng::new(5);
    let f1 = write_file(tmp.path(), "eins.bin", &rng.bytes(10_000));
    let f2 = write_file(tmp.path(), "zwei.bin", &rng.bytes(10_000));
    common::create(&data, AZ, "Rollback");
    common::add(&data, AZ, &[f1]);
    let snapshot = tmp.path().join("snapshot");
    copy_dir(&data.join("store"), &snapshot);
    let added = common::add(&data, AZ, std::slice::from_ref(&f2));
    let id2 = added[0]["id"].as_str().unwrap().to_string();
    ok(&data, &["verify"]);
    // The provider restores yesterday's store: a consistent, older state.
    std::fs::remove_dir_all(data.join("store")).unwrap();
    copy_dir(&snapshot, &data.join("store"));
    let node = files_below(&data.join("store")).into_iter().find(|p| p.starts_with("journal/")).unwrap();
    let missing = format!("{}/{:016x}", node.rsplit_once('/').unwrap().0, 3);
    assert_verify_names(&data, &[&missing], "store rolled back by one entry");
    let r = Readable { label: "zwei", dok: id2, version: None, bytes: std::fs::read(&f2).unwrap() };
    assert_get_refused(&data, &r, "store rolled back", None);
}

#[test]
fn fresh_node_detects_truncation_through_another_nodes_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let a = common::init_repo(tmp.path(), "a");
    let store_url = format!("file://{}", a.join("store").display());
    let identity = a.join("identity.txt");
    let join = |name: &str| -> (PathBuf, Vec<String>) {
        let d = tmp.path().join(name);
        (
            d,
            vec![
                "--store".to_string(),
                store_url.clone(),
                "--identity".to_string(),
                identity.to_str().unwrap().to_string(),
            ],
        )
    };
    let on = |d: &Path, flags: &[String], args: &[&str]| -> Run {
        let mut all: Vec<&str> = flags.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        run(d, &all)
    };
    common::create(&a, AZ, "Zwei Knoten");
    let mut rng = Rng::new(9);
    common::add(&a, AZ, &[write_file(tmp.path(), "a.bin", &rng.bytes(5000))]);
    let a_entries: Vec<String> =
        files_below(&a.join("store")).into_iter().filter(|p| p.starts_with("journal/")).collect();
    assert_eq!(a_entries.len(), 2);
    // Node B reads A's stream and writes one entry of its own, recording A's head.
    let (b, bflags) = join("b");
    on(&b, &bflags, &["create", "--aktenzeichen", "61.2-0003/2026", "--title", "Von B"]).ok();
    // A's newest entry disappears from the store.
    std::fs::remove_file(a.join("store").join(&a_entries[1])).unwrap();
    // A brand-new node C (no heads of its own) must still notice, through B's entry.
    let (c, cflags) = join("c");
    let r = on(&c, &cflags, &["verify", "--json"]);
    assert_ne!(r.code, 0, "a fresh node must detect the truncation recorded in another stream:\n{r}");
    let named: BTreeSet<String> =
        r.json()["problems"].as_array().unwrap().iter().map(|p| p["object"].as_str().unwrap().to_string()).collect();
    assert_eq!(named, BTreeSet::from([a_entries[1].clone()]), "{r}");
    // And A itself, which has seen its own head.
    let (ra, _) = verify(&a);
    assert_ne!(ra.code, 0);
}

/// A rollback that only another node's entries can prove: node B changed the Akte's title,
/// node A wrote after seeing that change, then B's entry vanished from the store. A fresh
/// node C has no heads of its own, but A's entry records B's head; C must refuse to serve
/// the rolled-back state (the old title), as A does, not only report it in `verify`.
#[test]
fn fresh_node_refuses_a_state_rolled_back_behind_another_nodes_record() {
    let tmp = tempfile::tempdir().unwrap();
    let a = common::init_repo(tmp.path(), "a");
    let store = a.join("store");
    let url = format!("file://{}", store.display());
    let identity = a.join("identity.txt");
    let on = |name: &str, args: &[&str]| -> Run {
        let mut all = vec!["--store", url.as_str(), "--identity", identity.to_str().unwrap()];
        all.extend_from_slice(args);
        run(&tmp.path().join(name), &all)
    };
    common::create(&a, AZ, "Alter Titel");
    on("b", &["set", AZ, "title=Neuer Titel von B", "legal_hold:=true"]).ok();
    let b_stream: Vec<String> =
        files_below(&store).into_iter().filter(|p| p.starts_with("journal/") && !p.contains(&node_id(&a))).collect();
    assert_eq!(b_stream.len(), 1, "B wrote one entry: {b_stream:?}");
    // A sees B's change and writes on top of it (recording B's head in its entry).
    ok(&a, &["vorgang", AZ, "--title", "Nach der Änderung"]);
    assert_eq!(ok(&a, &["ls", "--json"]).json()[0]["title"], "Neuer Titel von B");
    std::fs::remove_file(store.join(&b_stream[0])).unwrap();

    let (r, _) = verify(&a);
    assert_ne!(r.code, 0, "A has seen B's entry itself:\n{r}");
    let c_verify = on("c", &["verify", "--json"]);
    assert_ne!(c_verify.code, 0, "C finds the rollback through A's entry:\n{c_verify}");
    let ls = on("d", &["ls", "--json"]);
    assert_ne!(
        ls.code, 0,
        "a fresh node must not serve a state that the journal proves rolled back (B's title and legal hold gone):\n{ls}"
    );
    assert!(ls.stderr.to_lowercase().contains("integrity"), "{ls}");
}

fn node_id(data: &Path) -> String {
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(data.join("node.json")).unwrap()).unwrap();
    meta["node"].as_str().unwrap().to_string()
}

#[test]
fn planted_and_renamed_objects_are_named() {
    let b = base();
    let objects: Vec<String> = b.store_objects().into_iter().filter(|p| p.starts_with("objects/")).collect();
    // A valid object copied under another well-formed name (same directory rule).
    let data = b.copy("renamed");
    let src = &objects[0];
    let fake_name = format!("{}{}", &src[8..10], "0".repeat(62));
    let fake = format!("objects/{}/{fake_name}", &src[8..10]);
    std::fs::copy(data.join("store").join(src), data.join("store").join(&fake)).unwrap();
    assert_verify_names(&data, &[&fake], "object copied under another name");
    // A file Akte never writes.
    let data = b.copy("planted");
    std::fs::create_dir_all(data.join("store/objects/zz")).unwrap();
    std::fs::write(data.join("store/objects/zz/readme.txt"), b"hello").unwrap();
    assert_verify_names(&data, &["objects/zz/readme.txt"], "planted file");
    // A journal entry of the same stream copied beyond its end (a forged append).
    let data = b.copy("forged-append");
    let entries = stream(&data);
    let (node_dir, _) = entries[0].rsplit_once('/').unwrap();
    let forged = format!("{node_dir}/{:016x}", 7);
    std::fs::copy(data.join("store").join(&entries[5]), data.join("store").join(&forged)).unwrap();
    assert_verify_names(&data, &[&forged], "entry copied to the next sequence number");
    for r in &b.readables {
        assert_get_right_or_refused(&data, r, "forged append");
    }
}

#[test]
fn tampered_key_file_is_refused() {
    let b = base();
    let data = b.copy("keyfile");
    let key = data.join("store/keys/repository");
    let mut bytes = std::fs::read(&key).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x20;
    std::fs::write(&key, &bytes).unwrap();
    let r = run(&data, &["verify"]);
    assert_ne!(r.code, 0, "verify must fail on a tampered key file:\n{r}");
    // The operator must learn that the key file is damaged, not that their (right)
    // identity is wrong.
    assert!(
        r.out().contains("keys/repository") || r.stderr.contains("keys/repository"),
        "verify names the damaged key file keys/repository:\n{r}"
    );
    assert!(!r.stderr.contains("does not unlock"), "a damaged key file is not a wrong identity:\n{r}");
    for rd in &b.readables {
        let g = get_args(&data, rd, None);
        assert_ne!(g.code, 0, "get must fail on a tampered key file");
        assert!(g.stdout.is_empty());
    }
}
