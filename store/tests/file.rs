//! The backend scenarios on the file store.

mod common;

use common::{Env, scenarios};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roundtrip() {
    scenarios::roundtrip(&Env::file()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tamper() {
    scenarios::tamper(&Env::file()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes() {
    scenarios::two_nodes(&Env::file()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uniqueness_conflict() {
    scenarios::uniqueness_conflict(&Env::file()).await;
}
