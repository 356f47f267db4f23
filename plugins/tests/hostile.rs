//! The zoo of hostile plugins: each misbehaviour ends in the right `PluginError`, in bounded
//! time, and the same plugin serves a good call right after.

mod common;

use std::time::{Duration, Instant};

use akte_plugins::{Limits, Plugin, PluginError};
use common::{host, hostile, tight};

/// Time beyond a limit that a stop may take on a loaded two-core CI machine.
const SLACK: Duration = Duration::from_secs(2);

/// Runs `command`, checks the error with `expected`, then proves the plugin still works.
async fn contained(plugin: &Plugin, command: &str, expected: impl FnOnce(&PluginError) -> bool) -> PluginError {
    let started = Instant::now();
    let error = plugin.extract(command.as_bytes(), "text/plain").await.expect_err(command);
    let took = started.elapsed();
    assert!(expected(&error), "{command}: unexpected error {error:?}");
    assert!(error.is_call_failure(), "{command}: {error:?} should be a call failure");
    let limit = Duration::from_millis(plugin.manifest().limits.timeout_ms);
    assert!(took < limit + SLACK, "{command}: took {took:?}");
    let next = plugin.extract(b"echo still alive", "text/plain").await.expect("the next call works");
    assert_eq!(next.value.text, "echo still alive");
    error
}

#[tokio::test]
async fn an_infinite_loop_times_out() {
    let (_dir, host) = host();
    let plugin = hostile(&host, tight());
    let e = contained(&plugin, "loop", |e| matches!(e, PluginError::Timeout { limit_ms: 300, .. })).await;
    assert!(e.to_string().contains("300 ms"), "{e}");
}

#[tokio::test]
async fn a_sleep_in_a_host_call_is_cut_by_the_wall_clock() {
    let (_dir, host) = host();
    let plugin = hostile(&host, tight());
    contained(&plugin, "sleep", |e| matches!(e, PluginError::Timeout { .. })).await;
}

#[tokio::test]
async fn growing_memory_stops_at_the_limit() {
    let (_dir, host) = host();
    let plugin = hostile(&host, tight());
    contained(&plugin, "memory", |e| matches!(e, PluginError::MemoryExhausted { limit_mib: 32, .. })).await;
}

#[tokio::test]
async fn a_one_gib_allocation_is_refused() {
    let (_dir, host) = host();
    let plugin = hostile(&host, tight());
    contained(&plugin, "alloc-1g", |e| matches!(e, PluginError::MemoryExhausted { .. })).await;
}

#[tokio::test]
async fn deep_recursion_overflows_the_stack() {
    let (_dir, host) = host();
    let plugin = hostile(&host, tight());
    let e = contained(&plugin, "recurse", |e| matches!(e, PluginError::Trap { .. })).await;
    // Rust keeps large locals on a shadow stack in linear memory, which runs out first
    // (an out-of-bounds access); small frames exhaust wasmtime's native stack limit.
    let message = e.to_string();
    assert!(message.contains("out of bounds memory access") || message.contains("call stack exhausted"), "{e}");
}

#[tokio::test]
async fn a_panic_is_a_trap_with_its_message() {
    let (_dir, host) = host();
    let plugin = hostile(&host, tight());
    let e = contained(&plugin, "panic", |e| matches!(e, PluginError::Trap { .. })).await;
    let PluginError::Trap { stderr, .. } = &e else { unreachable!() };
    assert!(stderr.contains("Absichtlicher Absturz"), "the panic message is kept: {stderr:?}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "no advice the sandbox cannot follow: {stderr:?}");
}

#[tokio::test]
async fn unreachable_and_exit_are_traps() {
    let (_dir, host) = host();
    let plugin = hostile(&host, tight());
    let e = contained(&plugin, "unreachable", |e| matches!(e, PluginError::Trap { .. })).await;
    assert!(e.to_string().contains("unreachable"), "{e}");
    let e = contained(&plugin, "exit", |e| matches!(e, PluginError::Trap { .. })).await;
    // WASI 0.2's `exit` carries only success or failure: every non-zero code reads as 1.
    assert!(e.to_string().contains("exited with status 1"), "{e}");
}

#[tokio::test]
async fn giant_output_is_refused() {
    let (_dir, host) = host();
    // Enough memory to build 16 MiB of text; 1 MiB allowed out.
    let plugin = hostile(&host, Limits { memory_mib: 128, ..tight() });
    let e = contained(&plugin, "giant", |e| matches!(e, PluginError::OutputTooLarge { .. })).await;
    let PluginError::OutputTooLarge { actual, limit, .. } = e else { unreachable!() };
    assert_eq!((actual, limit), (16 << 20, 1 << 20));
}

#[tokio::test]
async fn too_many_fields_are_refused() {
    let (_dir, host) = host();
    let plugin = hostile(&host, Limits { memory_mib: 128, ..tight() });
    let e = contained(&plugin, "many-fields", |e| matches!(e, PluginError::OutputTooLarge { .. })).await;
    assert!(e.to_string().contains("number of fields is 100000, the limit is 256"), "{e}");
}

#[tokio::test]
async fn invalid_utf8_and_bad_pages_are_invalid_output() {
    let (_dir, host) = host();
    let plugin = hostile(&host, tight());
    let e = contained(&plugin, "invalid-utf8", |e| matches!(e, PluginError::InvalidOutput { .. })).await;
    assert!(e.to_string().contains("UTF-8"), "{e}");
    let e = contained(&plugin, "bad-pages", |e| matches!(e, PluginError::InvalidOutput { .. })).await;
    assert!(e.to_string().contains("page 1"), "{e}");
}

#[tokio::test]
async fn logs_and_stderr_are_bounded() {
    let (_dir, host) = host();
    let plugin = hostile(&host, tight());
    let outcome = plugin.extract(b"log-flood", "text/plain").await.unwrap();
    assert_eq!(outcome.value.text, "flooded");
    assert_eq!(outcome.logs.len(), akte_plugins::MAX_LOG_RECORDS);
    assert_eq!(outcome.logs_dropped as usize, 10_000 - akte_plugins::MAX_LOG_RECORDS);
}

#[tokio::test]
async fn a_reported_failure_is_not_a_crash() {
    let (_dir, host) = host();
    let plugin = hostile(&host, tight());
    let e = plugin.extract(b"frobnicate", "text/plain").await.unwrap_err();
    assert!(matches!(&e, PluginError::Failed { failure: akte_plugins::Failure::Unsupported(_), .. }), "{e:?}");
}

/// A runaway call yields to the executor every epoch tick, so on a single-threaded runtime a
/// good call next to it finishes long before the runaway's deadline.
#[tokio::test(flavor = "current_thread")]
async fn a_runaway_does_not_starve_other_calls() {
    let (_dir, host) = host();
    let slow = hostile(&host, Limits { timeout_ms: 2_000, ..tight() });
    let good = hostile(&host, tight());
    let started = Instant::now();
    let (runaway, echo) = tokio::join!(slow.extract(b"loop", "text/plain"), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let outcome = good.extract(b"echo hi", "text/plain").await;
        (outcome, started.elapsed())
    });
    assert!(matches!(runaway, Err(PluginError::Timeout { .. })));
    let (outcome, finished_after) = echo;
    assert_eq!(outcome.unwrap().value.text, "echo hi");
    assert!(finished_after < Duration::from_millis(1_500), "the good call waited {finished_after:?}");
}

/// More hostile calls at once than the pool has slots: they queue, all are stopped, and the
/// host still serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runaways_queue_for_slots() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = akte_plugins::HostConfig::new(dir.path());
    config.max_concurrent_calls = 2;
    let host = akte_plugins::PluginHost::new(config).unwrap();
    let plugin = std::sync::Arc::new(hostile(&host, Limits { timeout_ms: 200, ..tight() }));
    let calls: Vec<_> = ["loop", "memory", "loop", "panic", "loop", "recurse"]
        .into_iter()
        .map(|command| {
            let plugin = plugin.clone();
            tokio::spawn(async move { plugin.extract(command.as_bytes(), "text/plain").await })
        })
        .collect();
    for call in calls {
        assert!(call.await.unwrap().unwrap_err().is_call_failure());
    }
    assert_eq!(plugin.extract(b"echo ok", "text/plain").await.unwrap().value.text, "echo ok");
}
