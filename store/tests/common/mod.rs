//! Test harness: repositories on memory, file and S3 (Garage) stores, and scenarios that
//! every backend must pass.
#![allow(dead_code, missing_docs)]

use std::{path::PathBuf, sync::OnceLock};

use akte_store::{Change, OpenOptions, Repository, backend::Backend, model::ObjKind};
use futures::StreamExt;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Where a test's repository lives.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub backend: Backend,
}

impl Env {
    pub fn memory() -> Env {
        Env { dir: tempfile::tempdir().unwrap(), backend: Backend::memory() }
    }

    pub fn file() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().join("store").display());
        Env { backend: Backend::create(&url).unwrap(), dir }
    }

    /// A fresh prefix in the shared Garage bucket.
    pub fn s3() -> Env {
        let g = garage();
        let rest = format!("{}/{}", g.bucket, Uuid::new_v4());
        let url = format!("s3://{rest}");
        let backend = Backend::open_s3_with(&url, &rest, g.vars.clone()).unwrap();
        Env { dir: tempfile::tempdir().unwrap(), backend }
    }

    pub fn opts(&self, node: &str) -> OpenOptions {
        OpenOptions {
            data_dir: self.dir.path().join(node),
            store: None,
            identity: Some(self.dir.path().join("identity.txt")),
            actor: format!("test:{node}"),
        }
    }

    /// Initialises the repository with a generated identity; returns node `a` opened.
    pub async fn init(&self) -> Repository {
        Repository::init_on(&self.opts("a"), &[], self.backend.clone()).await.unwrap();
        self.open("a").await
    }

    pub async fn open(&self, node: &str) -> Repository {
        Repository::open_with_backend(&self.opts(node), self.backend.clone()).await.unwrap()
    }

    pub fn node_dir(&self, node: &str) -> PathBuf {
        self.dir.path().join(node)
    }
}

pub struct Garage {
    pub vars: Vec<(String, String)>,
    pub bucket: String,
}

/// The Garage of this test process: the one the test command started (AWS_* and
/// AKTE_S3_BUCKET in the environment), else one started here and stopped with the process.
pub fn garage() -> &'static Garage {
    static G: OnceLock<Garage> = OnceLock::new();
    G.get_or_init(|| {
        let env: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with("AWS_")).collect();
        if let Ok(bucket) = std::env::var("AKTE_S3_BUCKET") {
            return Garage { vars: env, bucket };
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/garage-test-server.sh");
        let dir = std::env::temp_dir().join(format!("akte-garage-{}", std::process::id()));
        let out = std::process::Command::new("bash")
            .arg(script)
            .arg(&dir)
            .env("AKTE_WATCH_PID", std::process::id().to_string())
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("scripts/garage-test-server.sh runs");
        assert!(out.status.success(), "could not start Garage for the S3 tests (scripts/install-garage.sh builds it)");
        let line = String::from_utf8(out.stdout).unwrap();
        let mut vars = Vec::new();
        let mut bucket = String::new();
        for kv in line.trim().trim_start_matches("export ").split_whitespace() {
            let (k, v) = kv.split_once('=').unwrap();
            if k == "AKTE_S3_BUCKET" {
                bucket = v.to_string();
            } else if k.starts_with("AWS_") {
                vars.push((k.to_string(), v.to_string()));
            }
        }
        Garage { vars, bucket }
    })
}

pub fn fields(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

pub async fn create_akte(repo: &mut Repository, az: &str, title: &str) -> Uuid {
    let id = Uuid::now_v7();
    repo.commit(vec![Change::Create {
        kind: ObjKind::Akte,
        id,
        parent: None,
        content: None,
        fields: fields(json!({"aktenzeichen": az, "title": title})),
    }])
    .await
    .unwrap();
    id
}

/// The changes that create a Dokument in `parent` with one version holding `content`;
/// returns (dokument id, version id, changes).
pub fn doc_changes(parent: Uuid, name: &str, content: akte_store::content::ContentRef) -> (Uuid, Uuid, Vec<Change>) {
    let (dok, ver) = (Uuid::now_v7(), Uuid::now_v7());
    let changes = vec![
        Change::Create {
            kind: ObjKind::Dokument,
            id: dok,
            parent: Some(parent),
            content: None,
            fields: fields(json!({"title": name})),
        },
        Change::Create {
            kind: ObjKind::Version,
            id: ver,
            parent: Some(dok),
            content: Some(content),
            fields: fields(json!({"file_name": name})),
        },
    ];
    (dok, ver, changes)
}

/// Adds one Dokument with content `bytes`; returns (dokument id, version id).
pub async fn add_doc(repo: &mut Repository, parent: Uuid, name: &str, bytes: &[u8]) -> (Uuid, Uuid) {
    let content = repo.objects().put_content(&mut &bytes[..], repo.chunk_size, None, |_| {}).await.unwrap();
    let (dok, ver, changes) = doc_changes(parent, name, content);
    repo.commit(changes).await.unwrap();
    (dok, ver)
}

/// Adds a new version with content `bytes` to a Dokument; returns the version id.
pub async fn add_version(repo: &mut Repository, dok: Uuid, name: &str, bytes: &[u8]) -> Uuid {
    let content = repo.objects().put_content(&mut &bytes[..], repo.chunk_size, None, |_| {}).await.unwrap();
    let ver = Uuid::now_v7();
    repo.commit(vec![Change::Create {
        kind: ObjKind::Version,
        id: ver,
        parent: Some(dok),
        content: Some(content),
        fields: fields(json!({"file_name": name})),
    }])
    .await
    .unwrap();
    ver
}

/// The same scenario tests for one backend, as a test binary's body.
#[macro_export]
macro_rules! backend_tests {
    ($env:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn roundtrip() {
            common::scenarios::roundtrip(&$env).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn tamper() {
            common::scenarios::tamper(&$env).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn two_nodes() {
            common::scenarios::two_nodes(&$env).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn uniqueness_conflict() {
            common::scenarios::uniqueness_conflict(&$env).await;
        }
    };
}

pub async fn read_all(repo: &Repository, id: Uuid) -> akte_store::Result<Vec<u8>> {
    let (_, mut stream) = repo.content(&id).await?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
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

/// All object names in the store.
pub async fn list(backend: &Backend) -> Vec<String> {
    backend.list(None).await.unwrap().into_iter().map(|m| m.location.to_string()).collect()
}

pub async fn flip_byte(backend: &Backend, path: &str, at: usize) {
    let p = object_store::path::Path::from(path);
    let mut b = backend.get(&p).await.unwrap().unwrap().to_vec();
    let i = at % b.len();
    b[i] ^= 0x20;
    backend.put(&p, b).await.unwrap();
}
pub mod scenarios;
