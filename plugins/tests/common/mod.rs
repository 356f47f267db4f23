//! Shared helpers of the plugin host's tests: where the guest components are, a host with a
//! throw-away compile cache, manifests for the test guests.
#![allow(dead_code)]

use std::path::PathBuf;

use akte_plugins::{HostConfig, Limits, Manifest, Plugin, PluginHost, Version, World};

/// The directory `plugins/build-guests.sh` copies the components to.
pub fn guests_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AKTE_GUESTS_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/akte/target")))
        .expect("neither CARGO_TARGET_DIR nor HOME is set");
    target.join("wasm/components")
}

/// The bytes of guest component `name` (e.g. `txt`, `hostile`).
pub fn wasm(name: &str) -> Vec<u8> {
    let path = guests_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "guest component {} is missing ({e}).\nBuild the guests first: `bash plugins/build-guests.sh` \
             (it writes to $AKTE_GUESTS_DIR or $CARGO_TARGET_DIR/wasm/components)",
            path.display()
        )
    })
}

/// The manifest shipped with guest `name`.
pub fn shipped_manifest(name: &str) -> Manifest {
    let path = guests_dir().join(format!("{name}.toml"));
    Manifest::from_file(&path).unwrap_or_else(|e| panic!("{e}; run `bash plugins/build-guests.sh` first"))
}

/// A host whose compile cache lives in a fresh temporary directory.
pub fn host() -> (tempfile::TempDir, PluginHost) {
    let dir = tempfile::tempdir().unwrap();
    let host = PluginHost::new(HostConfig::new(dir.path().join("plugins"))).unwrap();
    (dir, host)
}

/// A guest with the manifest it ships with.
pub fn shipped(host: &PluginHost, name: &str) -> Plugin {
    host.load(shipped_manifest(name), &wasm(name)).unwrap()
}

/// The hostile extractor with the given limits and no capabilities.
pub fn hostile(host: &PluginHost, limits: Limits) -> Plugin {
    let mut manifest = Manifest::new("hostile", Version::new(0, 1, 0), World::Extractor, &["*/*"]);
    manifest.limits = limits;
    host.load(manifest, &wasm("hostile")).unwrap()
}

/// Small limits that make hostile calls end fast.
pub fn tight() -> Limits {
    Limits { memory_mib: 32, timeout_ms: 300, max_output_bytes: 1024 * 1024, max_fields: 256, max_input_bytes: None }
}
