//! The backend scenarios on the s3 store.

mod common;

use common::{Env, scenarios};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roundtrip() {
    scenarios::roundtrip(&Env::s3()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tamper() {
    scenarios::tamper(&Env::s3()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes() {
    scenarios::two_nodes(&Env::s3()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uniqueness_conflict() {
    scenarios::uniqueness_conflict(&Env::s3()).await;
}
