//! The backend scenarios on the memory store.

mod common;

backend_tests!(common::Env::memory());
