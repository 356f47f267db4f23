//! The memory cap holds for the host process, not only inside the guest: while hostile
//! plugins try to allocate without end, the process's peak resident memory grows by about
//! their limit, not more. A test binary of its own, so no other test moves the peak.

mod common;

use akte_plugins::{Limits, PluginError};
use common::{host, hostile};

/// The process's peak resident set size in bytes (Linux `VmHWM`).
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[tokio::test]
async fn memory_bombs_stay_within_their_limit() {
    let (_dir, host) = host();
    let limit_mib = 64;
    let plugin = hostile(&host, Limits { memory_mib: limit_mib, timeout_ms: 5_000, ..Limits::default() });
    // Warm up: one good call, so that code and allocator pages are counted before.
    plugin.extract(b"echo warm", "text/plain").await.unwrap();
    let before = peak_rss();
    for command in ["memory", "alloc-1g", "memory"] {
        let e = plugin.extract(command.as_bytes(), "text/plain").await.unwrap_err();
        assert!(matches!(e, PluginError::MemoryExhausted { .. }), "{command}: {e:?}");
    }
    let grown = peak_rss().saturating_sub(before);
    eprintln!("peak RSS grew by {} MiB under a {limit_mib} MiB limit", grown >> 20);
    let allowed = (u64::from(limit_mib) + 48) * 1024 * 1024;
    assert!(grown < allowed, "peak RSS grew by {} MiB, limit {limit_mib} MiB", grown >> 20);
}
