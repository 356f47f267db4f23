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

    // Node a moves to the copy with one command naming it, and stays there: a write there,
    // then a command without --store reads the new store (the old one lacks the write and
    // would be refused as rolled back).
    let made = ok(&a, &["--store", &to, "create", "--aktenzeichen", "1-9/2026", "--title", "Nach dem Umzug", "--json"]);
    let moved = made.json()["id"].as_str().unwrap().to_string();
    let listed = ok(&a, &["ls", "--json"]).json();
    assert!(listed.to_string().contains(&moved), "{listed}");

    // A store that holds another repository is refused.
    let other = init_repo(tmp.path(), "other");
    let r = run(&a, &["migrate", "--to", &format!("file://{}", other.join("store").display())]);
    r.fails_with_sentence();
}

/// The S3 server of this test run: the one the test command started (`AWS_*` and
/// `AKTE_S3_BUCKET` in the environment), else a Garage started here for this process.
fn s3_env() -> (Vec<(String, String)>, String) {
    let mut vars: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("AWS_")).collect();
    if let Ok(bucket) = std::env::var("AKTE_S3_BUCKET") {
        return (vars, bucket);
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/garage-test-server.sh");
    let dir = std::env::temp_dir().join(format!("akte-garage-migrate-{}", std::process::id()));
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg(&dir)
        .env("AKTE_WATCH_PID", std::process::id().to_string())
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("scripts/garage-test-server.sh runs");
    assert!(out.status.success(), "could not start Garage (scripts/install-garage.sh builds it)");
    let mut bucket = String::new();
    vars.clear();
    for kv in String::from_utf8(out.stdout).unwrap().trim().trim_start_matches("export ").split_whitespace() {
        let (k, v) = kv.split_once('=').unwrap();
        if k == "AKTE_S3_BUCKET" {
            bucket = v.to_string();
        } else if k.starts_with("AWS_") {
            vars.push((k.to_string(), v.to_string()));
        }
    }
    (vars, bucket)
}

#[test]
fn a_repository_moves_from_disk_to_s3_and_back() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(tmp.path(), "a");
    let akte = create(&a, "1-2/2026", "Umzug zu S3");
    let file = common::write_file(tmp.path(), "bescheid.bin", &common::Rng::new(9).bytes(5 << 20));
    let added = common::add(&a, &akte, std::slice::from_ref(&file));
    let id = added[0]["id"].as_str().unwrap().to_string();
    let (vars, bucket) = s3_env();
    let prefix = uuid::Uuid::new_v4();
    let s3 = format!("s3://{bucket}/{prefix}");
    let with_s3 = |data: &Path, args: &[&str]| {
        let out = common::akte_cmd(tmp.path())
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .args(["--data", data.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "akte {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let report: serde_json::Value = serde_json::from_slice(&with_s3(&a, &["migrate", "--to", &s3, "--json"])).unwrap();
    assert_eq!(report["problems"], serde_json::json!([]), "{report}");
    // A node on S3 reads the document and verifies the store; then back to a new disk.
    let identity = a.join("identity.txt");
    let b = tmp.path().join("b");
    let ident = identity.to_str().unwrap();
    assert_eq!(with_s3(&b, &["--store", &s3, "--identity", ident, "get", &id]), std::fs::read(&file).unwrap());
    with_s3(&b, &["--store", &s3, "--identity", ident, "verify"]);
    let back = format!("file://{}", tmp.path().join("back").display());
    with_s3(&b, &["--store", &s3, "--identity", ident, "migrate", "--to", &back]);
    let c = tmp.path().join("c");
    assert_eq!(ok(&c, &["--store", &back, "--identity", ident, "get", &id]).stdout, std::fs::read(&file).unwrap());
}
