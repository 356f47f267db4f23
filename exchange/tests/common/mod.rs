//! Test harness: repositories on memory stores, a generated case with the awkward parts
//! (nested Vorgänge, repeated and hostile titles, empty and multi-chunk documents,
//! identical contents, updates), the third-party validators, and tree comparison.
#![allow(dead_code, missing_docs)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use akte_exchange::files::{Algs, digest_bytes};
use akte_store::{Change, OpenOptions, Repository, backend::Backend, model::ObjKind};
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Small chunks, so that a document of a few hundred KiB is stored as several.
pub const CHUNK: usize = 64 << 10;

/// A repository on its own memory store.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub backend: Backend,
}

impl Env {
    pub fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap(), backend: Backend::memory() }
    }

    pub fn opts(&self) -> OpenOptions {
        OpenOptions {
            data_dir: self.dir.path().join("node"),
            store: None,
            identity: Some(self.dir.path().join("identity.txt")),
            actor: "test:clerk".into(),
        }
    }

    pub async fn init(&self) -> Repository {
        Repository::init_on(&self.opts(), &[], self.backend.clone()).await.unwrap();
        let mut repo = Repository::open_with_backend(&self.opts(), self.backend.clone()).await.unwrap();
        repo.chunk_size = CHUNK;
        repo
    }

    /// A scratch directory inside the environment.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

pub fn fields(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// Deterministic bytes that do not compress.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub async fn create(repo: &mut Repository, kind: ObjKind, parent: Option<Uuid>, f: Value) -> Uuid {
    let id = Uuid::now_v7();
    repo.commit(vec![Change::Create { kind, id, parent, content: None, fields: fields(f) }]).await.unwrap();
    id
}

/// Adds a Dokument with its first version (one commit); returns (dokument, version).
pub async fn add_doc(repo: &mut Repository, parent: Uuid, title: &str, file: &str, bytes: &[u8]) -> (Uuid, Uuid) {
    let content = repo.objects().put_content(&mut &bytes[..], repo.chunk_size, None, |_| {}).await.unwrap();
    let (dok, ver) = (Uuid::now_v7(), Uuid::now_v7());
    let vf = json!({"file_name": file, "media_type": akte_store::model::media_type_for(file), "size": content.size,
        "blake3": content.blake3, "sha256": content.sha256});
    repo.commit(vec![
        Change::Create {
            kind: ObjKind::Dokument,
            id: dok,
            parent: Some(parent),
            content: None,
            fields: fields(json!({"title": title, "document_type": "Schreiben"})),
        },
        Change::Create {
            kind: ObjKind::Version,
            id: ver,
            parent: Some(dok),
            content: Some(content),
            fields: fields(vf),
        },
    ])
    .await
    .unwrap();
    (dok, ver)
}

pub async fn add_version(repo: &mut Repository, dok: Uuid, file: &str, bytes: &[u8]) -> Uuid {
    let content = repo.objects().put_content(&mut &bytes[..], repo.chunk_size, None, |_| {}).await.unwrap();
    let ver = Uuid::now_v7();
    let vf = json!({"file_name": file, "size": content.size, "sha256": content.sha256, "blake3": content.blake3});
    repo.commit(vec![Change::Create {
        kind: ObjKind::Version,
        id: ver,
        parent: Some(dok),
        content: Some(content),
        fields: fields(vf),
    }])
    .await
    .unwrap();
    ver
}

pub async fn update(repo: &mut Repository, id: Uuid, f: Value) {
    repo.commit(vec![Change::Update { id, fields: fields(f) }]).await.unwrap();
}

/// The generated case: two Akten under a three-level Aktenplan. Returns their ids.
pub async fn populate(repo: &mut Repository) -> Vec<Uuid> {
    let root = Uuid::now_v7();
    let mid = Uuid::now_v7();
    let leaf = Uuid::now_v7();
    repo.commit(vec![
        Change::Create {
            kind: ObjKind::Aktenplan,
            id: root,
            parent: None,
            content: None,
            fields: fields(json!({"code": "6", "title": "Umwelt"})),
        },
        Change::Create {
            kind: ObjKind::Aktenplan,
            id: mid,
            parent: Some(root),
            content: None,
            fields: fields(json!({"code": "61", "title": "Immissionsschutz", "retention_years": 30})),
        },
        Change::Create {
            kind: ObjKind::Aktenplan,
            id: leaf,
            parent: Some(mid),
            content: None,
            fields: fields(
                json!({"code": "61.2", "title": "Genehmigungen nach BImSchG", "appraisal": "archivwuerdig"}),
            ),
        },
    ])
    .await
    .unwrap();

    let a = create(
        repo,
        ObjKind::Akte,
        None,
        json!({"aktenzeichen": "61.2-0815/2026", "title": "Windpark Hohe Heide", "aktenplan": "61.2",
            "status": "offen", "laufzeit_beginn": "2026-01-15", "retention_years": 30, "appraisal": "archivwuerdig",
            "confidentiality": "vs-nfd", "legal_hold": false,
            "access": {"units": ["61"], "roles": ["sachbearbeitung"], "users": []},
            "custom": {"anlagen": 7, "leistung_mw": 33.6, "gemeinde": "Hohe Heide"}}),
    )
    .await;
    let antrag = create(repo, ObjKind::Vorgang, Some(a), json!({"title": "Antrag"})).await;
    let (d1, _) = add_doc(repo, antrag, "Antrag auf Genehmigung", "Antrag.pdf", b"%PDF-1.7 Antrag v1\n").await;
    add_version(repo, d1, "Antrag (korrigiert).pdf", b"%PDF-1.7 Antrag v2, korrigiert\n").await;
    add_doc(repo, antrag, "Lageplan", "lageplan.tif", &noise(1, 300_000)).await;
    let toeb =
        create(repo, ObjKind::Vorgang, Some(a), json!({"title": "Beteiligung Träger öffentlicher Belange"})).await;
    let stellung = create(repo, ObjKind::Vorgang, Some(toeb), json!({"title": "Stellungnahmen"})).await;
    let same = b"Stellungnahme: keine Bedenken.\n";
    add_doc(repo, stellung, "Stellungnahme Naturschutz", "stellungnahme.txt", same).await;
    add_doc(repo, stellung, "stellungnahme naturschutz", "stellungnahme.txt", same).await;
    add_doc(repo, stellung, "../../etc/passwd", "passwd", b"root:x:0:0\n").await;
    add_doc(repo, stellung, "akte.json", "akte.json", b"{\"not\": \"metadata\"}\n").await;
    let (vermerk, v1) = add_doc(repo, a, "Vermerk\nmit Zeilenumbruch", "vermerk 100%.txt", b"Vermerk\n").await;
    add_doc(repo, a, "Leeres Dokument", "leer.txt", b"").await;
    add_doc(repo, a, "CON", "nul.txt", b"reserved names\n").await;

    update(repo, a, json!({"title": "Windpark Hohe Heide (7 Anlagen)"})).await;
    update(repo, stellung, json!({"status": "zda"})).await;
    update(repo, vermerk, json!({"document_type": "Vermerk", "received": "2026-02-01", "sender": "Bürgeramt"})).await;
    update(repo, v1, json!({"comment": "eingescannt"})).await;
    update(repo, antrag, json!({"title": "Antrag nach § 4 BImSchG"})).await;

    let b = create(
        repo,
        ObjKind::Akte,
        None,
        json!({"aktenzeichen": "61.2-0816/2026", "title": "Biogasanlage Moordorf", "aktenplan": "61.2"}),
    )
    .await;
    add_doc(repo, b, "Anzeige", "anzeige.pdf", &noise(2, 70_000)).await;
    // One entry that touches both Akten.
    repo.commit(vec![
        Change::Update { id: a, fields: fields(json!({"status": "zda", "laufzeit_ende": "2026-11-30"})) },
        Change::Update { id: b, fields: fields(json!({"status": "zda"})) },
    ])
    .await
    .unwrap();
    vec![a, b]
}

/// Every file below `dir` by relative path.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                todo.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_str().unwrap().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Asserts two trees hold the same files with the same bytes, naming the first difference.
pub fn assert_same_tree(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>, what: &str) {
    let ka: Vec<&String> = a.keys().collect();
    let kb: Vec<&String> = b.keys().collect();
    assert_eq!(ka, kb, "{what}: the file lists differ");
    for (path, bytes) in a {
        if b[path] != *bytes {
            panic!(
                "{what}: {path} differs:\n--- first\n{}\n--- second\n{}",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&b[path])
            );
        }
    }
}

/// What must not change when an import is refused.
pub fn snapshot(repo: &Repository) -> (String, usize, usize) {
    let c = repo.catalog();
    (c.digest(), c.entries.len(), c.state.objects.len())
}

/// The bin directory of the Python validators (installed on first use); panics when they
/// cannot be installed, so that a missing validator fails the suite instead of skipping.
pub fn tools() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/install-py-tools.sh");
        let out = Command::new("bash").arg(script).output().expect("bash runs scripts/install-py-tools.sh");
        assert!(
            out.status.success(),
            "scripts/install-py-tools.sh failed; the validators are required:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        for t in ["bagit.py", "ocfl-validate.py"] {
            assert!(bin.join(t).is_file(), "the validator {t} is missing from {}", bin.display());
        }
        bin
    })
}

/// Runs a validator; returns whether it passed and what it said.
pub fn run_tool(tool: &str, args: &[&str], path: &Path) -> (bool, String) {
    let out = Command::new(tools().join(tool)).args(args).arg(path).output().expect("the validator runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// `bagit.py --validate` (the full check: every digest, never `--fast`).
pub fn bagit_validate(bag: &Path) -> (bool, String) {
    run_tool("bagit.py", &["--validate"], bag)
}

/// `ocfl-validate.py` on one path (an object directory or a storage root).
pub fn ocfl_validate(path: &Path) -> (bool, String) {
    run_tool("ocfl-validate.py", &[], path)
}

/// The object directories of a storage root.
pub fn object_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = tree(root)
        .keys()
        .filter(|p| p.ends_with("0=ocfl_object_1.1"))
        .map(|p| root.join(p).parent().unwrap().to_path_buf())
        .collect();
    out.sort();
    out
}

/// Rewrites a bag's manifests and tag manifests from the files on disk (to make a
/// tampered bag consistent, so that only the check under test can catch it).
pub fn rehash_bag(bag: &Path) {
    let all = tree(bag);
    for alg in ["sha256", "sha512"] {
        let mut text = String::new();
        for (p, bytes) in all.iter().filter(|(p, _)| p.starts_with("data/")) {
            text.push_str(&format!("{}  {p}\n", digest_of(bytes, alg)));
        }
        std::fs::write(bag.join(format!("manifest-{alg}.txt")), text).unwrap();
    }
    let payload: Vec<&Vec<u8>> = all.iter().filter(|(p, _)| p.starts_with("data/")).map(|(_, b)| b).collect();
    let oxum = format!("Payload-Oxum: {}.{}", payload.iter().map(|b| b.len()).sum::<usize>(), payload.len());
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    let info: String = info
        .lines()
        .map(|l| if l.starts_with("Payload-Oxum:") { format!("{oxum}\n") } else { format!("{l}\n") })
        .collect();
    std::fs::write(bag.join("bag-info.txt"), info).unwrap();
    rehash_tags(bag);
}

/// Rewrites a bag's tag manifests only.
pub fn rehash_tags(bag: &Path) {
    for alg in ["sha256", "sha512"] {
        let mut text = String::new();
        for name in ["bag-info.txt", "bagit.txt", "manifest-sha256.txt", "manifest-sha512.txt"] {
            let bytes = std::fs::read(bag.join(name)).unwrap();
            text.push_str(&format!("{}  {name}\n", digest_of(&bytes, alg)));
        }
        std::fs::write(bag.join(format!("tagmanifest-{alg}.txt")), text).unwrap();
    }
}

pub fn digest_of(bytes: &[u8], alg: &str) -> String {
    let d = digest_bytes(bytes, Algs::BOTH);
    if alg == "sha256" { d.sha256.unwrap() } else { d.sha512.unwrap() }
}

/// Copies a directory tree (files and directories only).
pub fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in tree(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

/// Ends the test process when `import` takes longer than a minute (a hang on hostile
/// input), naming `label`. A watchdog thread, because parsing runs inside the future
/// without yielding, where a timer of the runtime would never fire.
pub async fn within_a_minute<T>(label: &str, import: impl std::future::Future<Output = T>) -> T {
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let label = label.to_string();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(std::time::Duration::from_secs(60)) {
            eprintln!("{label}: the import did not end within a minute");
            std::process::abort();
        }
    });
    let out = import.await;
    drop(done);
    out
}

/// What the mutant tests of xdomea.rs, bagit.rs and ocfl.rs saw.
#[derive(Default)]
pub struct Mutants {
    pub imported: usize,
    pub refused: usize,
}

impl Mutants {
    /// Judges the import of one mutant (`label` names it in failures): a refusal must be a
    /// bad package, in under 600 characters, with the catalog as it was `before`. Returns
    /// whether it imported; the caller then starts a fresh repository, since the next
    /// mutant of the same package would be a second copy of it.
    pub fn judge<T>(
        &mut self,
        label: &str,
        outcome: Result<T, akte_exchange::Error>,
        before: &(String, usize, usize),
        repo: &Repository,
    ) -> bool {
        let Err(err) = outcome else {
            self.imported += 1;
            return true;
        };
        self.refused += 1;
        let message = err.to_string();
        assert!(err.is_bad_package(), "{label}: refused, but not as a bad package: {message}");
        assert!(message.chars().count() < 600, "{label}: a refusal of {} characters", message.chars().count());
        assert_eq!(&snapshot(repo), before, "{label}: the catalog changed");
        if std::env::var_os("AKTE_MUTANTS_SHOW").is_some() {
            eprintln!("{label}: {message}");
        }
        false
    }
}
