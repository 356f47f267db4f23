//! The plugin host: one wasmtime `Engine` (pooling allocator, epoch interruption, compile
//! cache), its epoch ticker thread, and loading of plugins.
//!
//! **Architecture invariant:** one host per process is enough and is cheap to share
//! (`Arc<PluginHost>`); a [`Plugin`] keeps the engine and the ticker alive on its own, so
//! dropping the host never leaves a running plugin without its deadline.

use std::path::{Path, PathBuf};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::{enricher::EnricherPre, extractor::ExtractorPre, validator::ValidatorPre};
use crate::cache::CompileCache;
use crate::error::PluginError;
use crate::manifest::{Manifest, ManifestError, World};
use crate::plugin::{Plugin, Pre};
use crate::sandbox::{self, CallState};

/// How a [`PluginHost`] is set up.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Where compiled components are cached: a directory in the node's trusted data
    /// directory, e.g. `<data>/plugins`. Created if missing.
    pub cache_dir: PathBuf,
    /// How many plugin calls may run at once; further calls wait for a free slot. Sizes
    /// the pooling allocator (default 16).
    pub max_concurrent_calls: u32,
    /// The most memory any plugin may be granted, in MiB (default 1024). Manifests asking
    /// for more are refused at load.
    pub max_memory_mib: u32,
    /// How often the epoch ticker advances the engine's epoch (default 10 ms): the
    /// granularity of time limits.
    pub epoch_tick: Duration,
}

impl HostConfig {
    /// The defaults, with compiled components cached in `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> HostConfig {
        HostConfig {
            cache_dir: cache_dir.into(),
            max_concurrent_calls: 16,
            max_memory_mib: 1024,
            epoch_tick: Duration::from_millis(10),
        }
    }
}

/// What every loaded plugin shares: the engine, its ticker and the call slots.
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) epoch_tick: Duration,
    /// One permit per pooled instance slot.
    pub(crate) slots: tokio::sync::Semaphore,
    _ticker: Ticker,
}

/// The plugin host. Cheap to share behind an `Arc`; loading takes `&self`.
pub struct PluginHost {
    shared: Arc<Shared>,
    linker: Linker<CallState>,
    cache: CompileCache,
    max_memory_mib: u32,
}

impl PluginHost {
    /// Sets up the engine, starts the epoch ticker and opens the compile cache.
    pub fn new(config: HostConfig) -> Result<PluginHost, PluginError> {
        if config.max_memory_mib == 0 || config.max_memory_mib > crate::manifest::MAX_MEMORY_MIB {
            return Err(PluginError::Host(format!(
                "max_memory_mib must be 1 to {}; got {}",
                crate::manifest::MAX_MEMORY_MIB,
                config.max_memory_mib
            )));
        }
        let engine = engine(&config).map_err(|e| PluginError::Host(format!("{e:#}")))?;
        let linker = sandbox::linker(&engine).map_err(|e| PluginError::Host(format!("{e:#}")))?;
        let cache = CompileCache::open(&config.cache_dir, &engine)?;
        let ticker = Ticker::start(engine.clone(), config.epoch_tick)?;
        let slots = tokio::sync::Semaphore::new(config.max_concurrent_calls.max(1) as usize);
        let shared = Arc::new(Shared { engine, epoch_tick: config.epoch_tick, slots, _ticker: ticker });
        Ok(PluginHost { shared, linker, cache, max_memory_mib: config.max_memory_mib })
    }

    /// Loads a plugin: validates its manifest against this host, compiles the component
    /// (or maps it from the compile cache), links it and checks that it implements the
    /// manifest's world. Compiling a large component takes seconds: call this from a
    /// blocking context (`spawn_blocking`) in async code.
    pub fn load(&self, manifest: Manifest, wasm: &[u8]) -> Result<Plugin, PluginError> {
        manifest.validate()?;
        if manifest.limits.memory_mib > self.max_memory_mib {
            return Err(ManifestError::Invalid {
                field: "limits.memory-mib",
                problem: format!(
                    "asks for {} MiB; this host allows at most {} MiB",
                    manifest.limits.memory_mib, self.max_memory_mib
                ),
            }
            .into());
        }
        let digest = blake3::hash(wasm);
        let (component, source) = self.cache.load(&self.shared.engine, wasm, &digest, &manifest.name)?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| PluginError::Link { plugin: manifest.name.clone(), reason: format!("{e:#}") })?;
        let mismatch = |e: wasmtime::Error| PluginError::WorldMismatch {
            plugin: manifest.name.clone(),
            world: manifest.world.to_string(),
            reason: format!("{e:#}"),
        };
        let pre = match manifest.world {
            World::Extractor => Pre::Extractor(ExtractorPre::new(instance_pre).map_err(mismatch)?),
            World::Enricher => Pre::Enricher(EnricherPre::new(instance_pre).map_err(mismatch)?),
            World::Validator => Pre::Validator(ValidatorPre::new(instance_pre).map_err(mismatch)?),
        };
        Ok(Plugin::new(manifest, digest, source, pre, Arc::clone(&self.shared)))
    }

    /// Reads the component and its manifest from files, then [`load`](Self::load)s it.
    pub fn load_files(&self, manifest: &Path, wasm: &Path) -> Result<Plugin, PluginError> {
        let manifest = Manifest::from_file(manifest)?;
        let bytes = std::fs::read(wasm).map_err(|source| PluginError::Io { path: wasm.to_owned(), source })?;
        self.load(manifest, &bytes)
    }

    /// The cache file a component with these bytes is compiled to (whether or not it exists).
    pub fn cache_path(&self, wasm: &[u8]) -> PathBuf {
        self.cache.path_for(&blake3::hash(wasm))
    }
}

/// The engine: component model, pooling allocator sized by `config`, epoch interruption.
fn engine(config: &HostConfig) -> wasmtime::Result<Engine> {
    let calls = config.max_concurrent_calls.max(1);
    let mut pool = PoolingAllocationConfig::new();
    // A Rust `wasm32-wasip2` component has one memory, a few core instances (the program
    // and small shims) and a few tables; JavaScript and Python components a few more.
    pool.total_component_instances(calls)
        .total_core_instances(calls * 16)
        .total_memories(calls * 4)
        .total_tables(calls * 8)
        .total_stacks(calls)
        .max_memory_size(config.max_memory_mib as usize * 1024 * 1024);
    // How a slot is made fresh for the next call. By default wasmtime `madvise`s away all
    // the memory a call touched, so every call faults its pages in again (and zeroes them
    // in the kernel): about half of a small call's overhead, and a tenth to a fifth of
    // a large extraction. Where Linux can report which pages were written (the
    // `PAGEMAP_SCAN` ioctl, Linux 6.7+), only those are reset, with `memset`, up to
    // `KEEP_RESIDENT` per memory and the rest decommitted as before. Each call still gets
    // a memory as fresh as a new instance's (zeroes and the component's data), nothing of
    // the previous call; the cost is that up to this much stays resident per memory slot
    // that has been used. Without the ioctl, wasmtime would `memset` the first
    // `KEEP_RESIDENT` of a memory whether touched or not; that is left off.
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        const KEEP_RESIDENT: usize = 64 * 1024 * 1024;
        pool.pagemap_scan(wasmtime::Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT.min(config.max_memory_mib as usize * 1024 * 1024))
            .table_keep_resident(64 * 1024);
    }
    let mut cfg = Config::new();
    cfg.wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&cfg)
}

/// The background thread that advances the engine's epoch every tick; it stops when
/// dropped (the channel closes) and is joined.
struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: Engine, tick: Duration) -> Result<Ticker, PluginError> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("akte-plugin-epoch".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                    engine.increment_epoch();
                }
            })
            .map_err(|e| PluginError::Host(format!("cannot start the epoch ticker thread: {e}")))?;
        Ok(Ticker { stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
