//! The backend scenarios on the file store.

mod common;

backend_tests!(common::Env::file());
