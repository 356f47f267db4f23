//! The compile cache: each component is compiled to native code once, written to the node's
//! data directory, and later mapped from there (about a millisecond instead of seconds).
//!
//! Layout: `<cache dir>/<key>.cwasm`, where `key` is the BLAKE3 hash of a format tag, the
//! engine's compatibility hash (wasmtime's version, target, compiler flags, tunables and
//! enabled wasm features: [`wasmtime::Engine::precompile_compatibility_hash`]) and the
//! BLAKE3 hash of the component's bytes. A new wasmtime, another engine configuration or
//! other bytes therefore give another key; stale files are never read, only left behind
//! (**weak:** nothing prunes them yet; deleting the directory is always safe).
//!
//! Files are written to a temporary name and renamed, so a reader sees a whole file or
//! none, and two nodes or threads compiling the same component at once do no harm.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::PluginError;

/// Changes when the cache's layout or keying changes.
const FORMAT_TAG: &[u8] = b"akte-plugins compile cache v1\0";

/// Where a loaded component's native code came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadSource {
    /// Compiled now (and written to the cache).
    Compiled,
    /// Compiled now and kept in memory only: the cache could not be written (a full or
    /// read-only data directory). The next load compiles again.
    Uncached,
    /// Mapped from a file in the cache that an earlier load wrote.
    Cache,
}

/// The compile cache in one directory, for one engine configuration.
pub(crate) struct CompileCache {
    dir: PathBuf,
    engine_hash: [u8; 32],
}

impl CompileCache {
    /// Opens (creating if needed) the cache directory `dir` for `engine`.
    pub(crate) fn open(dir: &Path, engine: &Engine) -> Result<CompileCache, PluginError> {
        // A directory that cannot be made (a full or read-only disk) leaves the cache
        // unwritable, not the host unusable: `load` then compiles into memory.
        let _ = std::fs::create_dir_all(dir);
        let mut hasher = Blake3Hasher(blake3::Hasher::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(CompileCache { dir: dir.to_owned(), engine_hash: *hasher.0.finalize().as_bytes() })
    }

    /// The path of the cache file for a component whose BLAKE3 hash is `digest`.
    pub(crate) fn path_for(&self, digest: &blake3::Hash) -> PathBuf {
        let mut key = blake3::Hasher::new();
        key.update(FORMAT_TAG).update(&self.engine_hash).update(digest.as_bytes());
        self.dir.join(format!("{}.cwasm", key.finalize().to_hex()))
    }

    /// Loads the component `wasm` (whose hash is `digest`) from the cache, or compiles it
    /// and fills the cache. `plugin` names it in errors.
    pub(crate) fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
        digest: &blake3::Hash,
        plugin: &str,
    ) -> Result<(Component, LoadSource), PluginError> {
        let path = self.path_for(digest);
        if path.is_file() {
            // An unreadable or incompatible file (wasmtime checks the header) is compiled
            // anew and replaced, as if it were missing.
            if let Ok(component) = deserialize(engine, &path) {
                return Ok((component, LoadSource::Cache));
            }
        }
        let native = engine.precompile_component(wasm).map_err(|e| {
            // A core module (`\0asm`, version 1) where a component (layer 1) belongs: the
            // usual mistake is the build target.
            let reason = if wasm.starts_with(b"\0asm\x01\0\0\0") {
                "this is a core WebAssembly module, not a component; build it for the target wasm32-wasip2 \
                 (or wrap it with `wasm-tools component new`)"
                    .to_string()
            } else {
                format!("{e:#}")
            };
            PluginError::InvalidComponent { plugin: plugin.to_string(), reason }
        })?;
        if write_atomically(&path, &native).is_err() {
            // The cache is an optimisation: a disk that is full or read-only costs a compile
            // per load, not the plugin.
            let component = deserialize_bytes(engine, &native).map_err(|e| {
                PluginError::Host(format!("cannot load the component just compiled for {plugin}: {e:#}"))
            })?;
            return Ok((component, LoadSource::Uncached));
        }
        let component = deserialize(engine, &path).map_err(|e| {
            PluginError::Host(format!("cannot load the component just compiled to {}: {e:#}", path.display()))
        })?;
        Ok((component, LoadSource::Compiled))
    }
}

/// Maps a precompiled component from the cache.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> wasmtime::Result<Component> {
    // SAFETY: `Component::deserialize_file` trusts the file to be native code that
    // `Engine::precompile_component` produced; a forged file could run arbitrary code in
    // this process. The file is in the node's trusted data directory (BRIEF, "the node's
    // trusted local directory": the same place that holds the operator key), only this
    // module writes it — atomically, from `precompile_component`'s output — and its name
    // is derived from the BLAKE3 hash of the component and of the engine configuration,
    // so a file is never used for other bytes or another engine. Wasmtime additionally
    // checks the header (wasmtime version, target, flags) and refuses a mismatch. The
    // file must not be modified while mapped; this module never rewrites a file in place.
    unsafe { Component::deserialize_file(engine, path) }
}

/// Loads native code `Engine::precompile_component` just produced, from memory.
#[allow(unsafe_code)]
fn deserialize_bytes(engine: &Engine, native: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: the bytes come straight from `precompile_component` of this engine, in this
    // process, and were never out of its memory (see `deserialize` for the file case).
    unsafe { Component::deserialize(engine, native) }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PluginError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("component");
    let tmp = path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let io = |source, path: &Path| PluginError::Io { path: path.to_owned(), source };
    std::fs::write(&tmp, bytes).map_err(|e| {
        // A write cut short (no space left) leaves no partial file behind.
        let _ = std::fs::remove_file(&tmp);
        io(e, &tmp)
    })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e, path)
    })
}

/// Feeds a [`Hash`] implementation into BLAKE3, so the engine's compatibility hash becomes
/// a stable 256-bit key (std's `DefaultHasher` is neither stable nor wide enough).
struct Blake3Hasher(blake3::Hasher);

impl Hasher for Blake3Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let hash = self.0.finalize();
        u64::from_le_bytes(hash.as_bytes()[..8].try_into().unwrap_or([0; 8]))
    }
}
