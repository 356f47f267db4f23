//! The backend scenarios on the s3 store.

mod common;

backend_tests!(common::Env::s3());
