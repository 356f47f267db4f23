//! How long after its deadline a runaway plugin is stopped: the `hostile` test guest spins
//! (`loop`), blocks in a host call (`sleep`) or allocates without end (`memory`) under time
//! limits of 100 ms, 500 ms and 2 s; each case runs `BENCH_RUNS` times (default 20) in a
//! fresh instance, as in production. Prints a Markdown table. Part of `bench/plugins.sh`.
//!
//! ```sh
//! bash plugins/build-guests.sh
//! cargo run -p akte-plugins --release --example bench_runaway
//! ```

use std::time::{Duration, Instant};

use akte_plugins::{HostConfig, Limits, Manifest, PluginError, PluginHost, Version, World};

fn guests_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("AKTE_GUESTS_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/akte/target"));
    target.join("wasm/components")
}

/// What a call ended in, in a word.
fn kind(result: &Result<akte_plugins::Outcome<akte_plugins::Extraction>, PluginError>) -> &'static str {
    match result {
        Ok(_) => "returned",
        Err(PluginError::Timeout { .. }) => "Timeout",
        Err(PluginError::MemoryExhausted { .. }) => "MemoryExhausted",
        Err(PluginError::Trap { .. }) => "Trap",
        Err(_) => "other error",
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(20);
    let cache = tempfile::tempdir()?;
    let host = PluginHost::new(HostConfig::new(cache.path()))?;
    let wasm = std::fs::read(guests_dir().join("hostile.wasm"))?;

    println!(
        "| the guest … | time limit | memory limit | runs | ended in | returned after, p50 / max | beyond the deadline, p50 / max |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (verb, what, memory_mib) in [
        ("loop", "spins (`loop`)", 64),
        ("sleep", "blocks in a host call (`sleep`)", 64),
        ("memory", "allocates 1 MiB blocks without end (`memory`)", 64),
        ("memory", "allocates 1 MiB blocks without end (`memory`)", 1024),
    ] {
        for timeout_ms in [100u64, 500, 2000] {
            let mut manifest = Manifest::new("hostile", Version::new(0, 1, 0), World::Extractor, &["*/*"]);
            manifest.limits = Limits { timeout_ms, memory_mib, ..Limits::default() };
            let plugin = host.load(manifest, &wasm)?;
            let deadline = Duration::from_millis(timeout_ms);
            let mut took = Vec::with_capacity(runs);
            let mut kinds: Vec<&str> = Vec::new();
            for _ in 0..runs {
                let started = Instant::now();
                let result = plugin.extract(verb.as_bytes(), "text/plain").await;
                took.push(started.elapsed());
                kinds.push(kind(&result));
            }
            // The host still serves the same plugin normally afterwards.
            assert!(plugin.extract(b"echo ok", "text/plain").await.is_ok());
            took.sort();
            kinds.sort();
            kinds.dedup();
            let (p50, max) = (took[took.len() / 2], took[took.len() - 1]);
            let beyond = |d: Duration| match d.checked_sub(deadline) {
                Some(over) => ms(over),
                None => "before it".to_string(),
            };
            println!(
                "| {what} | {timeout_ms} ms | {memory_mib} MiB | {runs} | {} | {} / {} | {} / {} |",
                kinds.join(", "),
                ms(p50),
                ms(max),
                beyond(p50),
                beyond(max)
            );
        }
    }
    Ok(())
}
