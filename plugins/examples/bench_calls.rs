//! A quick benchmark of the plugin host (not a test): compile versus cache-load time, the
//! per-call overhead (fresh store + instantiation + call + checks) and how long after its
//! deadline a runaway plugin is stopped.
//!
//! ```sh
//! bash plugins/build-guests.sh
//! cargo run -p akte-plugins --release --example bench_calls
//! # quicker, with the dev profile's optimised dependencies and only this crate re-optimised:
//! cargo --config 'profile.dev.package.akte-plugins.opt-level=3' run -p akte-plugins --example bench_calls
//! ```

use std::time::{Duration, Instant};

use akte_plugins::{HostConfig, Limits, Manifest, PluginHost, Version, World};

fn guests_dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("AKTE_GUESTS_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/akte/target"));
    target.join("wasm/components")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    println!(
        "{name:<44} n={:<5} mean {:>9.1?}  p50 {:>9.1?}  p99 {:>9.1?}",
        samples.len(),
        mean,
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let host = PluginHost::new(HostConfig::new(dir.path()))?;
    let read = |name: &str| std::fs::read(guests_dir().join(format!("{name}.wasm")));
    let manifest = |name: &str, world| Manifest::new(name, Version::new(0, 1, 0), world, &["*/*"]);

    for name in ["txt", "html", "hostile"] {
        let bytes = read(name)?;
        let t = Instant::now();
        host.load(manifest(name, World::Extractor), &bytes)?;
        let compiled = t.elapsed();
        let t = Instant::now();
        host.load(manifest(name, World::Extractor), &bytes)?;
        println!(
            "load {name:<8} ({:>4} KiB): compile {compiled:>9.1?}, from cache {:>9.1?}",
            bytes.len() / 1024,
            t.elapsed()
        );
    }

    let txt = host.load(manifest("txt", World::Extractor), &read("txt")?)?;
    let hostile = host.load(manifest("hostile", World::Extractor), &read("hostile")?)?;
    let kib: Vec<u8> = "Grüße aus der Windkraft-Genehmigung. ".bytes().cycle().take(1024).collect();
    let mib: Vec<u8> = "Grüße aus der Windkraft-Genehmigung.\n".bytes().cycle().take(1 << 20).collect();

    for (name, plugin, input, n) in [
        ("hostile `echo` (tiny in, tiny out)", &hostile, b"echo".to_vec(), 5_000),
        ("txt, 1 KiB in and out", &txt, kib, 5_000),
        ("txt, 1 MiB in and out", &txt, mib.clone(), 200),
    ] {
        for _ in 0..50 {
            plugin.extract(&input, "text/plain").await?;
        }
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            plugin.extract(&input, "text/plain").await?;
            samples.push(t.elapsed());
        }
        report(name, samples);
    }
    let mb_s = {
        let t = Instant::now();
        for _ in 0..50 {
            txt.extract(&mib, "text/plain").await?;
        }
        50.0 / t.elapsed().as_secs_f64()
    };
    println!("txt throughput on 1 MiB inputs: {mb_s:.0} MiB/s");

    for timeout_ms in [100u64, 500] {
        let mut m = manifest("runaway", World::Extractor);
        m.limits = Limits { timeout_ms, ..Limits::default() };
        let runaway = host.load(m, &read("hostile")?)?;
        let mut samples = Vec::new();
        for command in ["loop", "loop", "loop", "loop", "loop", "sleep", "sleep", "sleep"] {
            let t = Instant::now();
            let e = runaway.extract(command.as_bytes(), "text/plain").await.unwrap_err();
            assert!(matches!(e, akte_plugins::PluginError::Timeout { .. }));
            let over = t.elapsed().saturating_sub(Duration::from_millis(timeout_ms));
            println!("runaway `{command}` with {timeout_ms} ms limit stopped {over:.1?} after its deadline");
            samples.push(over);
        }
        report(&format!("stop delay beyond a {timeout_ms} ms deadline"), samples);
    }
    Ok(())
}
