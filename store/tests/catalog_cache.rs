//! The catalog cache in the data directory: a small head (`catalog.json`) and the entries
//! appended to `catalog.log`, so that saving costs what changed, not the whole catalog.

mod common;

use common::Env;

fn log(env: &Env) -> Vec<u8> {
    std::fs::read(env.node_dir("a").join("catalog.log")).unwrap()
}

fn head(env: &Env) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(env.node_dir("a").join("catalog.json")).unwrap()).unwrap()
}

/// Node `a` of a new repository with an Akte `az` holding one Dokument; returns the Akte.
async fn one_document(env: &Env, az: &str) -> (akte_store::Repository, uuid::Uuid) {
    let mut repo = env.init().await;
    let akte = common::create_akte(&mut repo, az, "Windpark").await;
    common::add_doc(&mut repo, akte, "a.txt", b"Text").await;
    (repo, akte)
}

/// The digest a fresh node computes from the store alone.
async fn fresh_digest(env: &Env, node: &str) -> String {
    env.open(node).await.catalog().digest()
}

#[tokio::test]
async fn saving_appends_what_is_new_and_reads_back_the_same_state() {
    let env = Env::memory();
    let mut repo = env.init().await;
    let akte = common::create_akte(&mut repo, "61.2-0815/2026", "Windpark").await;
    for i in 0..3 {
        common::add_doc(&mut repo, akte, &format!("a{i}.txt"), format!("Text {i}").as_bytes()).await;
    }
    drop(repo);
    let first = log(&env);
    assert_eq!(head(&env)["format"], 3);
    assert_eq!(head(&env)["log_len"], first.len());

    let mut repo = env.open("a").await;
    for i in 0..2 {
        common::add_doc(&mut repo, akte, &format!("b{i}.txt"), format!("Mehr {i}").as_bytes()).await;
    }
    let digest = repo.catalog().digest();
    let entries = repo.catalog().entries.len();
    drop(repo);
    let second = log(&env);
    assert!(second.len() > first.len());
    assert_eq!(&second[..first.len()], &first[..], "the earlier entries stay as they were");
    assert_eq!(head(&env)["entries"], entries);

    let reopened = env.open("a").await;
    assert_eq!(reopened.catalog().digest(), digest);
    assert_eq!(reopened.catalog().entries.len(), entries);
    drop(reopened);
    assert_eq!(fresh_digest(&env, "b").await, digest);
}

#[tokio::test]
async fn an_append_its_head_never_confirmed_is_ignored_and_cut_off() {
    let env = Env::memory();
    let (repo, akte) = one_document(&env, "61.2-0816/2026").await;
    drop(repo);
    // A crash after appending but before the head was replaced leaves a tail behind.
    let path = env.node_dir("a").join("catalog.log");
    let mut torn = log(&env);
    let confirmed = torn.len();
    torn.extend_from_slice(b"{\"hlc\": half an entry");
    std::fs::write(&path, &torn).unwrap();

    let mut repo = env.open("a").await;
    assert_eq!(repo.catalog().entries.len(), 2, "the confirmed entries, nothing of the tail");
    common::add_doc(&mut repo, akte, "b.txt", b"Mehr").await;
    let digest = repo.catalog().digest();
    drop(repo);
    let log = log(&env);
    assert!(!log.windows(4).any(|w| w == b"half"), "the tail is gone");
    assert!(log.len() > confirmed);
    assert_eq!(env.open("a").await.catalog().digest(), digest);
    assert_eq!(fresh_digest(&env, "b").await, digest);
}

#[tokio::test]
async fn a_format_2_cache_is_read_and_written_as_format_3() {
    let env = Env::memory();
    let (repo, akte) = one_document(&env, "61.2-0817/2026").await;
    // Format 2 was the whole catalog in one catalog.json.
    let mut v2 = serde_json::to_value(repo.catalog()).unwrap();
    v2["format"] = 2.into();
    let digest = repo.catalog().digest();
    drop(repo);
    let dir = env.node_dir("a");
    std::fs::remove_file(dir.join("catalog.log")).unwrap();
    std::fs::write(dir.join("catalog.json"), serde_json::to_vec(&v2).unwrap()).unwrap();

    let mut repo = env.open("a").await;
    assert_eq!(repo.catalog().digest(), digest);
    common::add_doc(&mut repo, akte, "b.txt", b"Mehr").await;
    let digest = repo.catalog().digest();
    drop(repo);
    assert_eq!(head(&env)["format"], 3);
    assert!(head(&env).get("entries").is_some());
    assert_eq!(env.open("a").await.catalog().digest(), digest);
}

#[tokio::test]
async fn a_head_that_does_not_match_its_log_makes_the_node_read_the_store_again() {
    let env = Env::memory();
    let (repo, _) = one_document(&env, "61.2-0818/2026").await;
    let digest = repo.catalog().digest();
    drop(repo);
    // A log shorter than its head says (lost or truncated by someone else).
    let path = env.node_dir("a").join("catalog.log");
    let log = log(&env);
    std::fs::write(&path, &log[..log.len() / 2]).unwrap();
    assert_eq!(env.open("a").await.catalog().digest(), digest);
}

#[tokio::test]
async fn a_rebuild_reports_every_entry_it_reads() {
    let env = Env::file();
    let mut repo = env.init().await;
    let akte = common::create_akte(&mut repo, "61.2-0815/2026", "Windpark").await;
    for i in 0..4 {
        common::add_doc(&mut repo, akte, &format!("a{i}.txt"), format!("Text {i}").as_bytes()).await;
    }
    let entries = repo.catalog().entries.len() as u64;
    let digest = repo.catalog().digest();
    drop(repo);
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&calls);
    let report: akte_store::RebuildProgress = std::sync::Arc::new(move |read, expected| {
        seen.lock().unwrap().push((read, expected));
    });
    let (repo, read) = akte_store::Repository::open_rebuilt(&env.opts("a"), Some(report)).await.unwrap();
    assert_eq!(read as u64, entries);
    assert_eq!(repo.catalog().digest(), digest, "the same state as before the rebuild");
    let calls = calls.lock().unwrap().clone();
    let want: Vec<(u64, u64)> = (1..=entries).map(|n| (n, entries)).collect();
    assert_eq!(calls, want, "one report per entry, against the entries this node had seen");
}
