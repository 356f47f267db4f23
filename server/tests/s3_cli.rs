//! The CLI against a real S3 server (Garage on 127.0.0.1): `--store s3://bucket/prefix`
//! with endpoint and credentials from the `AWS_*` variables, as an operator would run it.
//! Init, add, get, verify, a second node joining the same store, and a tampered object
//! named by verify.

mod common;

use std::{path::Path, process::Command, sync::OnceLock};

use common::{Run, bin, write_file};

/// AWS_* variables and the bucket of a Garage: the one the test command started, else one
/// started here (scripts/garage-test-server.sh) that stops when this test process ends.
fn garage() -> &'static (Vec<(String, String)>, String) {
    static G: OnceLock<(Vec<(String, String)>, String)> = OnceLock::new();
    G.get_or_init(|| {
        if let Ok(bucket) = std::env::var("AKTE_S3_BUCKET") {
            return (std::env::vars().filter(|(k, _)| k.starts_with("AWS_")).collect(), bucket);
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/garage-test-server.sh");
        let dir = std::env::temp_dir().join(format!("akte-garage-cli-{}", std::process::id()));
        let out = Command::new("bash")
            .arg(script)
            .arg(&dir)
            .env("AKTE_WATCH_PID", std::process::id().to_string())
            .output()
            .expect("scripts/garage-test-server.sh runs");
        assert!(out.status.success(), "Garage did not start: {}", String::from_utf8_lossy(&out.stderr));
        let line = String::from_utf8(out.stdout).unwrap();
        let mut vars = Vec::new();
        let mut bucket = String::new();
        for kv in line.trim().trim_start_matches("export ").split_whitespace() {
            let (k, v) = kv.split_once('=').unwrap();
            match k {
                "AKTE_S3_BUCKET" => bucket = v.to_string(),
                k if k.starts_with("AWS_") => vars.push((k.to_string(), v.to_string())),
                _ => {}
            }
        }
        (vars, bucket)
    })
}

/// Runs `akte --data DATA --store STORE [--identity ID] ARGS` with the Garage's variables.
fn s3(data: &Path, store: &str, identity: Option<&Path>, args: &[&str]) -> Run {
    let (vars, _) = garage();
    let mut c = common::akte_cmd(data.parent().unwrap());
    c.env_remove("AWS_ENDPOINT")
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .arg("--data")
        .arg(data)
        .arg("--store")
        .arg(store);
    if let Some(id) = identity {
        c.arg("--identity").arg(id);
    }
    let out = c.args(args).output().expect("akte runs");
    Run {
        cmd: format!("{} --store {store} {}", bin(), args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn cli_round_trip_two_nodes_and_tamper_on_s3() {
    let (vars, bucket) = garage();
    let tmp = tempfile::tempdir().unwrap();
    let store = format!("s3://{bucket}/cli-{}", std::process::id());
    let a = tmp.path().join("a");
    s3(&a, &store, None, &["init"]).ok();
    s3(&a, &store, None, &["create", "--aktenzeichen", "61.2-0815/2026", "--title", "Windpark Hohe Heide"]).ok();
    let big: Vec<u8> = (0..9_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let files = [
        write_file(tmp.path(), "gutachten.pdf", &big),
        write_file(tmp.path(), "stellungnahme.txt", "Keine Bedenken gegen die Windkraftanlagen.".as_bytes()),
    ];
    let f: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    let added = s3(&a, &store, None, &["add", "61.2-0815/2026", f[0], f[1], "--json"]).ok().json();
    let ids: Vec<String> = added.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(s3(&a, &store, None, &["verify"]).ok().code, 0);

    // A second node with the same identity joins without init and reads everything.
    let b = tmp.path().join("b");
    let identity = a.join("identity.txt");
    let listed = s3(&b, &store, Some(&identity), &["ls", "61.2-0815/2026", "--json"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    for (id, file) in ids.iter().zip(&files) {
        let got = s3(&b, &store, Some(&identity), &["get", id]).ok().stdout;
        assert_eq!(got, std::fs::read(file).unwrap(), "node b reads {id} from S3");
    }
    s3(&b, &store, Some(&identity), &["set", "61.2-0815/2026", "status=zda"]).ok();
    let status_a = s3(&a, &store, None, &["status", "--json"]).ok().json();
    let status_b = s3(&b, &store, Some(&identity), &["status", "--json"]).ok().json();
    assert_eq!(status_a["digest"], status_b["digest"], "both nodes compute the same state");
    assert_eq!(status_a["streams"], 2);

    // Flip a byte of one stored object through the S3 API: verify names it, get refuses.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rest = store.trim_start_matches("s3://");
    let backend = akte_store::backend::Backend::open_s3_with(&store, rest, vars.clone()).unwrap();
    let victim = rt.block_on(async {
        let objects: Vec<String> = backend
            .list(Some(&object_store::path::Path::from("objects")))
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.size < 1000)
            .map(|m| m.location.to_string())
            .collect();
        objects[0].clone()
    });
    rt.block_on(async {
        let p = object_store::path::Path::from(victim.as_str());
        let mut bytes = backend.get(&p).await.unwrap().unwrap().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        backend.put(&p, bytes).await.unwrap();
    });
    let report = s3(&a, &store, None, &["verify", "--json"]);
    assert_eq!(report.code, 1, "{report}");
    let problems = report.json()["problems"].as_array().unwrap().clone();
    assert!(problems.iter().any(|p| p["object"] == victim.as_str()), "{victim} not named: {problems:?}");
}
