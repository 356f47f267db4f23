//! The compile cache: the first load compiles and writes the cache file, a later load (also
//! by a new host on the same directory) maps it; a damaged file is recompiled.

mod common;

use akte_plugins::{HostConfig, LoadSource, PluginHost};
use common::{shipped_manifest, wasm};

#[tokio::test]
async fn the_second_load_maps_the_cached_component() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("plugins");
    let bytes = wasm("txt");

    let host = PluginHost::new(HostConfig::new(&cache)).unwrap();
    let path = host.cache_path(&bytes);
    assert!(!path.exists());
    let first = host.load(shipped_manifest("txt"), &bytes).unwrap();
    assert_eq!(first.load_source(), LoadSource::Compiled);
    assert!(path.is_file(), "the cache file {} was written", path.display());
    assert_eq!(path.parent(), Some(cache.as_path()));

    let again = host.load(shipped_manifest("txt"), &bytes).unwrap();
    assert_eq!(again.load_source(), LoadSource::Cache);

    // A new host (a restarted node) on the same data directory finds it too.
    drop((host, first));
    let restarted = PluginHost::new(HostConfig::new(&cache)).unwrap();
    let plugin = restarted.load(shipped_manifest("txt"), &bytes).unwrap();
    assert_eq!(plugin.load_source(), LoadSource::Cache);
    assert_eq!(plugin.extract("Übung".as_bytes(), "text/plain").await.unwrap().value.text, "Übung");
    assert_eq!(plugin.digest(), blake3::hash(&bytes));
}

#[test]
fn the_key_depends_on_the_bytes_not_on_the_host_instance() {
    let dir = tempfile::tempdir().unwrap();
    let host = PluginHost::new(HostConfig::new(dir.path())).unwrap();
    assert_ne!(host.cache_path(&wasm("txt")), host.cache_path(&wasm("html")));
    // Runtime-only settings (pool size, memory ceiling) do not change compiled code.
    let mut small = HostConfig::new(dir.path());
    small.max_memory_mib = 64;
    small.max_concurrent_calls = 1;
    let other = PluginHost::new(small).unwrap();
    assert_eq!(host.cache_path(&wasm("txt")), other.cache_path(&wasm("txt")));
}

#[tokio::test]
async fn a_damaged_cache_file_is_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let host = PluginHost::new(HostConfig::new(dir.path())).unwrap();
    let bytes = wasm("txt");
    let path = host.cache_path(&bytes);
    std::fs::write(&path, b"not native code").unwrap();
    let plugin = host.load(shipped_manifest("txt"), &bytes).unwrap();
    assert_eq!(plugin.load_source(), LoadSource::Compiled);
    assert_eq!(plugin.extract(b"ok", "text/plain").await.unwrap().value.text, "ok");
    assert_eq!(host.load(shipped_manifest("txt"), &bytes).unwrap().load_source(), LoadSource::Cache);
}

#[tokio::test]
async fn an_unwritable_cache_costs_a_compile_not_the_plugin() {
    let dir = tempfile::tempdir().unwrap();
    // The cache directory cannot be made: its parent is a file (as unwritable as a full
    // disk, also for root).
    let blocker = dir.path().join("kein-verzeichnis");
    std::fs::write(&blocker, b"x").unwrap();
    let host = PluginHost::new(HostConfig::new(blocker.join("plugins"))).unwrap();
    let bytes = wasm("txt");
    let plugin = host.load(shipped_manifest("txt"), &bytes).unwrap();
    assert_eq!(plugin.load_source(), LoadSource::Uncached);
    assert_eq!(plugin.extract("Fläche".as_bytes(), "text/plain").await.unwrap().value.text, "Fläche");
    assert_eq!(std::fs::read(&blocker).unwrap(), b"x", "nothing written beside it");
}
