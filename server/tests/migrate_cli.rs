//! `akte migrate --to URL`: a migration killed with SIGKILL and started again completes,
//! the target verifies clean and serves the same documents, and the source is untouched.

mod common;

use std::{collections::BTreeMap, path::Path, time::Duration};

use common::{create, init_repo, ok, run};

fn snapshot(root: &Path) -> BTreeMap<String, blake3::Hash> {
    // A write cut by SIGKILL may leave object_store's staging file (`name#n`); it is not an object.
    common::files_below(root)
        .into_iter()
        .filter(|f| !f.contains('#'))
        .map(|f| (f.clone(), blake3::hash(&std::fs::read(root.join(&f)).unwrap())))
        .collect()
}

#[test]
fn a_killed_migration_resumes_and_the_copy_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(tmp.path(), "a");
    let akte = create(&a, "1-1/2026", "Umzug");
    // Many small chunks, so that the copy takes long enough to be interrupted.
    let files: Vec<_> = (0..4)
        .map(|i| {
            let f = tmp.path().join(format!("teil-{i}.bin"));
            std::fs::write(&f, common::Rng::new(i + 1).bytes(6 << 20)).unwrap();
            f
        })
        .collect();
    let mut args = vec!["add", akte.as_str(), "--no-ingest", "--json"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let mut cmd = common::akte_cmd(tmp.path());
    let out = cmd.env("AKTE_CHUNK_SIZE", "8192").args(["--data", a.to_str().unwrap()]).args(&args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let added: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let source = a.join("store");
    let before = snapshot(&source);
    assert!(before.len() > 2000, "enough objects to interrupt: {}", before.len());

    let target = tmp.path().join("target");
    let to = format!("file://{}", target.display());
    let mut child = common::akte_cmd(tmp.path())
        .args(["--data", a.to_str().unwrap(), "migrate", "--to", &to])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while common::files_below(&target).len() < 200 {
        assert!(start.elapsed() < Duration::from_secs(60), "the migration does not start");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!target.join("keys/repository").exists(), "killed before it finished: the key file comes last");

    let report = ok(&a, &["migrate", "--to", &to, "--json"]).json();
    assert!(report["already_there"].as_u64().unwrap() >= 200, "{report}");
    assert_eq!(report["problems"], serde_json::json!([]), "{report}");
    assert_eq!(snapshot(&source), before, "the source is untouched");
    assert_eq!(snapshot(&target), before, "the target holds exactly the source's objects");

    // A node on the target reads the same documents.
    let c = tmp.path().join("c");
    let identity = a.join("identity.txt");
    for (f, row) in files.iter().zip(added.as_array().unwrap()) {
        let id = row["id"].as_str().unwrap();
        let got = ok(&c, &["--store", &to, "--identity", identity.to_str().unwrap(), "get", id]);
        assert_eq!(got.stdout, std::fs::read(f).unwrap());
    }

    // A store that holds another repository is refused.
    let other = init_repo(tmp.path(), "other");
    let r = run(&a, &["migrate", "--to", &format!("file://{}", other.join("store").display())]);
    r.fails_with_sentence();
}
