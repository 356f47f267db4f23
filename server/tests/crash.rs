//! Crash safety: `akte add`, `create`, `set` and `version` killed with SIGKILL at seeded
//! random moments leave a repository that verifies clean, keeps every earlier write intact
//! and byte-identical, commits each `add` (of fewer than 500 files) all or nothing, and
//! still accepts writes afterwards.

mod common;

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use common::{Rng, ok, run};
use serde_json::Value;
use sha2::{Digest, Sha256};

const AZ: &str = "61.2-0815/2026";
const FILES_PER_ADD: usize = 30;
const KILLED_ADDS: usize = 22;
const KILLED_SMALL: usize = 5;

/// A file this test wrote and may expect in the repository: its content is regenerated
/// from the seed, so nothing large is kept in memory.
#[derive(Clone, Debug)]
struct Spec {
    name: String,
    seed: u64,
    size: usize,
}

impl Spec {
    fn bytes(&self) -> Vec<u8> {
        Rng::new(self.seed).bytes(self.size)
    }

    fn sha256(&self) -> String {
        hex(&Sha256::digest(self.bytes()))
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One batch of files for an add: mostly small, a few of some MiB, one empty.
fn batch(rng: &mut Rng, round: usize) -> Vec<Spec> {
    (0..FILES_PER_ADD)
        .map(|i| {
            let size = match i {
                0 => 0,
                1..=3 => (1 << 20) + rng.below(3 << 20) as usize,
                _ => rng.below(48 << 10) as usize + 1,
            };
            Spec { name: format!("r{round:02}-f{i:02}.bin"), seed: rng.next_u64(), size }
        })
        .collect()
}

fn write_batch(dir: &Path, specs: &[Spec]) -> Vec<PathBuf> {
    specs.iter().map(|s| common::write_file(dir, &s.name, &s.bytes())).collect()
}

/// Starts `akte --data DATA ARGS…`, kills it with SIGKILL after `delay` unless it ended
/// before; returns the exit code (None when killed) and stdout.
fn run_and_kill(data: &Path, args: &[&str], delay: Duration) -> (Option<i32>, Vec<u8>, String) {
    let mut all = vec!["--data", data.to_str().unwrap()];
    all.extend_from_slice(args);
    let child = common::akte_cmd(data.parent().unwrap())
        .args(&all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("akte starts");
    std::thread::sleep(delay);
    let mut child = child;
    // On Unix this is SIGKILL; on a child that has already exited it changes nothing.
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    (out.status.code(), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `akte verify` must pass after every crash; returns how many unreferenced objects
/// (left by interrupted writes) it counted.
fn assert_verifies(data: &Path, after: &str) -> u64 {
    let r = run(data, &["verify", "--json"]);
    assert_eq!(r.code, 0, "verify must pass after {after}:\n{r}");
    let v = r.json();
    assert_eq!(v["problems"], Value::Array(vec![]), "{after}: {r}");
    v["unreferenced"].as_u64().unwrap_or(0)
}

/// The Akte's Dokumente by file name: (id, sha256 from the catalog).
fn listing(data: &Path) -> BTreeMap<String, (String, String)> {
    let v = ok(data, &["ls", AZ, "--json"]).json();
    let mut out = BTreeMap::new();
    for d in v.as_array().expect("ls AKTE --json is an array") {
        let file = d["file"].as_str().expect("file").to_string();
        let prev = out.insert(
            file.clone(),
            (d["id"].as_str().unwrap().to_string(), d["sha256"].as_str().unwrap_or_default().to_string()),
        );
        assert!(prev.is_none(), "{file} is listed twice");
    }
    out
}

fn assert_readable(data: &Path, id: &str, spec: &Spec, after: &str) {
    let got = run(data, &["get", id]);
    assert_eq!(got.code, 0, "{after}: {} must be readable:\n{}", spec.name, got.stderr);
    assert!(
        got.stdout == spec.bytes(),
        "{after}: {} came back with other bytes ({} bytes instead of {})",
        spec.name,
        got.stdout.len(),
        spec.size
    );
}

#[test]
fn killed_writes_never_damage_the_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let data = common::init_repo(tmp.path(), "node");
    let akte = common::create(&data, AZ, "Windpark Hohe Heide");
    let mut rng = Rng::new(0x00c0_ffee_2026);
    let files_dir = tmp.path().join("files");
    std::fs::create_dir_all(&files_dir).unwrap();

    // Everything the repository must keep: file name → (Dokument id, spec).
    let mut known: BTreeMap<String, (String, Spec)> = BTreeMap::new();
    let mut specs: BTreeMap<String, Spec> = BTreeMap::new();

    // A first add runs to the end and tells how long an add of this size takes.
    let first = batch(&mut rng, 0);
    let paths = write_batch(&files_dir, &first);
    // Extraction is left out (--no-ingest): it runs after the commit, and its time would
    // push the random kills past the writes this test is about.
    let t0 = Instant::now();
    let mut first_args = vec!["add", AZ, "--no-ingest", "--json"];
    first_args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let rows = common::ok(&data, &first_args).json().as_array().unwrap().clone();
    let typical = t0.elapsed();
    assert_eq!(rows.len(), FILES_PER_ADD);
    for (row, spec) in rows.iter().zip(&first) {
        assert_eq!(row["sha256"].as_str(), Some(spec.sha256().as_str()));
        known.insert(spec.name.clone(), (row["id"].as_str().unwrap().to_string(), spec.clone()));
        specs.insert(spec.name.clone(), spec.clone());
    }
    for p in paths {
        std::fs::remove_file(p).unwrap();
    }

    let mut killed = 0;
    let mut outcomes = Vec::new();
    // Kills that landed while content was being written (they leave unreferenced objects).
    let (mut mid_write, mut orphans) = (0, 0);
    for round in 1..=KILLED_ADDS {
        let specs_now = batch(&mut rng, round);
        let paths = write_batch(&files_dir, &specs_now);
        for s in &specs_now {
            specs.insert(s.name.clone(), s.clone());
        }
        let before = listing(&data);
        let delay = Duration::from_micros(rng.below(typical.as_micros() as u64 + 1));
        let mut args = vec!["add", AZ, "--no-ingest", "--json"];
        args.extend(paths.iter().map(|p| p.to_str().unwrap()));
        let (code, stdout, stderr) = run_and_kill(&data, &args, delay);
        let after = format!("add round {round} killed after {delay:?} (exit {code:?})");
        match code {
            Some(0) => {
                let rows: Value = serde_json::from_slice(&stdout).expect("add --json");
                for (row, spec) in rows.as_array().unwrap().iter().zip(&specs_now) {
                    known.insert(spec.name.clone(), (row["id"].as_str().unwrap().to_string(), spec.clone()));
                }
            }
            None => killed += 1,
            Some(c) => panic!("{after}: add failed by itself with exit {c}: {stderr}"),
        }
        let unreferenced = assert_verifies(&data, &after);
        if unreferenced > orphans {
            mid_write += 1;
            orphans = unreferenced;
        }

        // All or nothing: the killed add's Dokumente are either all there or none is.
        let now = listing(&data);
        let new: Vec<&String> = now.keys().filter(|k| !before.contains_key(*k)).collect();
        assert!(
            new.is_empty() || new.len() == FILES_PER_ADD,
            "{after}: an add of {FILES_PER_ADD} files left {} of them committed",
            new.len()
        );
        assert!(before.keys().all(|k| now.contains_key(k)), "{after}: earlier Dokumente vanished");
        outcomes.push(format!("{}:{}", if code.is_none() { "killed" } else { "done" }, new.len()));
        for name in new {
            // Committed by a killed add: the catalog's digest must match the file.
            let (id, sha) = &now[name];
            assert_eq!(sha, &specs[name].sha256(), "{after}: {name} has the wrong digest");
            known.insert(name.clone(), (id.clone(), specs[name].clone()));
        }
        for (name, (id, spec)) in &known {
            let (listed_id, sha) = now.get(name).unwrap_or_else(|| panic!("{after}: {name} vanished"));
            assert_eq!(listed_id, id, "{after}: {name} changed its id");
            assert_eq!(sha, &spec.sha256(), "{after}: {name} changed its digest");
        }
        // Read back a sample now (all of them at the end): this round's and earlier ones.
        let names: Vec<&String> = known.keys().collect();
        for _ in 0..4 {
            let name = names[rng.below(names.len() as u64) as usize];
            assert_readable(&data, &known[name].0, &known[name].1, &after);
        }
        for p in paths {
            std::fs::remove_file(p).unwrap();
        }
    }
    eprintln!("typical add {typical:?}; {mid_write} kills mid-write; outcome:new Dokumente per round: {outcomes:?}");
    assert!(killed >= KILLED_ADDS / 4, "enough adds must really be killed ({killed} of {KILLED_ADDS}); timing is off");
    assert!(mid_write > 0, "no kill landed while content was written; timing is off");

    // Metadata writes killed midway: create, set, vorgang, version.
    let t0 = Instant::now();
    ok(&data, &["set", &akte, "title=Gemessen"]);
    let typical_small = t0.elapsed();
    let mut titles = vec!["Gemessen".to_string()];
    let version_target = known.values().find(|(_, s)| s.size > 0).unwrap().clone();
    let v2 = Spec { name: "version-2.bin".into(), seed: 77, size: 3 << 20 };
    let v2_path = common::write_file(&files_dir, &v2.name, &v2.bytes());
    let mut version_written = false;
    for k in 0..KILLED_SMALL {
        let az_k = format!("61.2-09{k:02}/2026");
        let title_k = format!("Titel {k}");
        let cases: [(String, Vec<String>); 4] = [
            (
                format!("create {az_k}"),
                vec!["create".into(), "--aktenzeichen".into(), az_k.clone(), "--title".into(), "Gekillt".into()],
            ),
            (format!("set title={title_k}"), vec!["set".into(), akte.clone(), format!("title={title_k}")]),
            (format!("vorgang {k}"), vec!["vorgang".into(), akte.clone(), "--title".into(), format!("Vorgang {k}")]),
            ("version".into(), vec!["version".into(), version_target.0.clone(), v2_path.to_str().unwrap().into()]),
        ];
        for (what, args) in cases {
            let delay = Duration::from_micros(rng.below(2 * typical_small.as_micros() as u64 + 1));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, _, stderr) = run_and_kill(&data, &args, delay);
            let after = format!("{what} killed after {delay:?} (exit {code:?})");
            assert!(code.is_none() || code == Some(0), "{after}: failed by itself: {stderr}");
            assert_verifies(&data, &after);
            if what.starts_with("set") {
                titles.push(title_k.clone());
            }
            if what == "version" && code == Some(0) {
                version_written = true;
            }
        }
        // The Akte still has one of the titles it was given, never anything else.
        let akten = ok(&data, &["ls", "--json"]).json();
        let main = akten.as_array().unwrap().iter().find(|a| a["aktenzeichen"] == AZ).expect("the Akte is listed");
        let title = main["title"].as_str().unwrap().to_string();
        assert!(titles.contains(&title), "title {title:?} is none of {titles:?}");
        // A killed create either made the whole Akte or nothing.
        if let Some(a) = akten.as_array().unwrap().iter().find(|a| a["aktenzeichen"] == az_k.as_str()) {
            assert_eq!(a["title"], "Gekillt");
            assert_eq!(a["dokumente"], 0);
        }
    }
    // The Dokument that got (maybe several) new versions: latest is v2's bytes or the old ones.
    let got = ok(&data, &["get", &version_target.0]).stdout;
    assert!(
        got == v2.bytes() || (!version_written && got == version_target.1.bytes()),
        "after killed versions, the latest content is neither the old nor the new bytes"
    );
    let first_version = ok(&data, &["get", &version_target.0, "--version", "1"]).stdout;
    assert!(first_version == version_target.1.bytes(), "version 1 keeps its bytes");

    // The repository still accepts writes, and everything ever committed reads back.
    let last = batch(&mut rng, 99);
    let paths = write_batch(&files_dir, &last);
    let rows = common::add(&data, AZ, &paths);
    for (row, spec) in rows.iter().zip(&last) {
        known.insert(spec.name.clone(), (row["id"].as_str().unwrap().to_string(), spec.clone()));
    }
    assert_verifies(&data, "the final add");
    let now = listing(&data);
    assert_eq!(now.len(), known.len(), "exactly the committed Dokumente are listed");
    for (name, (id, spec)) in &known {
        if *id == version_target.0 {
            continue; // its latest version was replaced above
        }
        assert_readable(&data, id, spec, &format!("the end ({name})"));
    }
    // A rebuilt catalog agrees with the incrementally built one.
    let digest = ok(&data, &["status", "--json"]).json()["digest"].clone();
    std::fs::remove_file(data.join("catalog.json")).unwrap();
    ok(&data, &["reindex"]);
    assert_eq!(ok(&data, &["status", "--json"]).json()["digest"], digest);
}

/// `akte init` killed at any moment leaves a data directory that a second `akte init` (or,
/// when the first one got far enough, the repository itself) makes usable without repair.
#[test]
fn killed_init_can_be_rerun() {
    let tmp = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    common::init_repo(tmp.path(), "timing");
    let typical = t0.elapsed();
    let mut rng = Rng::new(0x1417);
    for k in 0..12 {
        let data = tmp.path().join(format!("node-{k}"));
        let delay = Duration::from_micros(rng.below(3 * typical.as_micros() as u64 / 2 + 1));
        let (code, _, stderr) = run_and_kill(&data, &["init"], delay);
        assert!(code.is_none() || code == Some(0), "init failed by itself: {stderr}");
        assert_usable_after_init(&data, &format!("init killed after {delay:?} (exit {code:?})"));
    }
}

/// The state a SIGKILL (or a power cut) leaves when it hits `init` between creating the
/// identity file and writing it: an empty `identity.txt`, no repository yet.
#[test]
fn init_interrupted_while_writing_the_identity_can_be_rerun() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("node");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("identity.txt"), b"").unwrap();
    assert_usable_after_init(&data, "init interrupted after creating an empty identity.txt");
}

fn assert_usable_after_init(data: &Path, after: &str) {
    let again = run(data, &["init"]);
    if again.code != 0 {
        let status = run(data, &["status", "--json"]);
        assert_eq!(
            status.code, 0,
            "{after}: neither a second init nor opening the repository works:\n{again}\n{status}"
        );
    }
    let r = run(data, &["create", "--aktenzeichen", AZ, "--title", "Nach dem Absturz"]);
    assert_eq!(r.code, 0, "{after}: the repository accepts writes:\n{r}");
    assert_verifies(data, after);
}
