//! A loaded plugin and its calls: every call gets a fresh store and a fresh instance from
//! the plugin's `InstancePre`, runs under the manifest's limits, and ends in a checked
//! [`Outcome`] or a typed [`PluginError`]. Nothing of one call survives into the next.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Store, Trap, UpdateDeadline};

use crate::bindings::{enricher::EnricherPre, extractor::ExtractorPre, validator::ValidatorPre};
use crate::cache::LoadSource;
use crate::error::PluginError;
use crate::host::Shared;
use crate::manifest::{Manifest, World};
use crate::sandbox::CallState;
use crate::types::{self, DocumentInfo, Extraction, Outcome, OutputProblem, Suggestion, Verdict};

/// The pre-linked component, by world.
pub(crate) enum Pre {
    Extractor(ExtractorPre<CallState>),
    Enricher(EnricherPre<CallState>),
    Validator(ValidatorPre<CallState>),
}

/// A loaded plugin, ready to be called any number of times, also concurrently.
pub struct Plugin {
    manifest: Manifest,
    digest: blake3::Hash,
    source: LoadSource,
    pre: Pre,
    shared: Arc<Shared>,
}

/// The raw result of one guest call, before the host's checks.
type Raw<T> = Result<T, crate::bindings::extractor::akte::plugin::types::Failure>;

impl Plugin {
    pub(crate) fn new(
        manifest: Manifest,
        digest: blake3::Hash,
        source: LoadSource,
        pre: Pre,
        shared: Arc<Shared>,
    ) -> Self {
        Plugin { manifest, digest, source, pre, shared }
    }

    /// The plugin's manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The BLAKE3 hash of the component's bytes (with the manifest's version, what the
    /// ingest pipeline keys stored results by).
    pub fn digest(&self) -> blake3::Hash {
        self.digest
    }

    /// Whether the native code was compiled by this load or mapped from the compile cache.
    pub fn load_source(&self) -> LoadSource {
        self.source
    }

    /// Runs an extractor on `content` of type `media_type`.
    pub async fn extract(&self, content: &[u8], media_type: &str) -> Result<Outcome<Extraction>, PluginError> {
        self.extract_logged(content, media_type).await.map_err(|e| e.error)
    }

    /// [`extract`](Self::extract), keeping what the guest logged when the call fails.
    pub async fn extract_logged(&self, content: &[u8], media_type: &str) -> Result<Outcome<Extraction>, CallError> {
        let Pre::Extractor(pre) = &self.pre else { return Err(self.wrong_world(World::Extractor).into()) };
        let _slot = self.slot().await?;
        let (mut store, started) = self.store();
        let result = {
            let call = async {
                let instance = pre.instantiate_async(&mut store).await?;
                instance.akte_plugin_extract().call_extract(&mut store, content, media_type).await
            };
            tokio::time::timeout(self.wall_limit(), call).await
        };
        self.finish(store, started, result, types::extraction)
    }

    /// Runs an enricher on a document's metadata and extracted text.
    pub async fn enrich(&self, document: &DocumentInfo, text: &str) -> Result<Outcome<Suggestion>, PluginError> {
        self.enrich_logged(document, text).await.map_err(|e| e.error)
    }

    /// [`enrich`](Self::enrich), keeping what the guest logged when the call fails.
    pub async fn enrich_logged(&self, document: &DocumentInfo, text: &str) -> Result<Outcome<Suggestion>, CallError> {
        let Pre::Enricher(pre) = &self.pre else { return Err(self.wrong_world(World::Enricher).into()) };
        let document = types::document_info(document);
        let _slot = self.slot().await?;
        let (mut store, started) = self.store();
        let result = {
            let call = async {
                let instance = pre.instantiate_async(&mut store).await?;
                instance.akte_plugin_enrich().call_enrich(&mut store, &document, text).await
            };
            tokio::time::timeout(self.wall_limit(), call).await
        };
        self.finish(store, started, result, types::suggestion)
    }

    /// Runs a validator on a document before it is stored.
    pub async fn validate(&self, document: &DocumentInfo, content: &[u8]) -> Result<Outcome<Verdict>, PluginError> {
        self.validate_logged(document, content).await.map_err(|e| e.error)
    }

    /// [`validate`](Self::validate), keeping what the guest logged when the call fails.
    pub async fn validate_logged(
        &self,
        document: &DocumentInfo,
        content: &[u8],
    ) -> Result<Outcome<Verdict>, CallError> {
        let Pre::Validator(pre) = &self.pre else { return Err(self.wrong_world(World::Validator).into()) };
        let document = types::document_info(document);
        let _slot = self.slot().await?;
        let (mut store, started) = self.store();
        let result = {
            let call = async {
                let instance = pre.instantiate_async(&mut store).await?;
                instance.akte_plugin_validate().call_validate(&mut store, &document, content).await
            };
            tokio::time::timeout(self.wall_limit(), call).await
        };
        self.finish(store, started, result, |v, limits, _| types::verdict(v, limits))
    }

    /// Waits for a free instance slot of the pool.
    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, PluginError> {
        self.shared.slots.acquire().await.map_err(|_| PluginError::Host("the plugin host is shutting down".into()))
    }

    /// A fresh store for one call: empty sandbox, memory limiter, and an epoch callback that
    /// yields to the executor every tick and interrupts the guest once the deadline passed.
    fn store(&self) -> (Store<CallState>, Instant) {
        let started = Instant::now();
        let deadline = started + self.timeout();
        let mut store = Store::new(&self.shared.engine, CallState::new(&self.manifest));
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |mut ctx| {
            if Instant::now() >= deadline {
                ctx.data_mut().timed_out = true;
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        (store, started)
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.manifest.limits.timeout_ms)
    }

    /// The wall-clock backstop: the epoch deadline stops running guest code within a tick;
    /// this also ends a call blocked in a host function (a guest sleeping), a little later.
    fn wall_limit(&self) -> Duration {
        self.timeout() + (self.shared.epoch_tick * 2).max(Duration::from_millis(50))
    }

    /// Turns the result of a call (or of its wall-clock timeout) into the guest's raw
    /// result or a typed error.
    fn settle<T>(
        &self,
        result: Result<wasmtime::Result<T>, tokio::time::error::Elapsed>,
        store: &Store<CallState>,
    ) -> Result<T, PluginError> {
        match result {
            Err(_) => Err(self.timed_out()),
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.classify(error, store.data())),
        }
    }

    fn timed_out(&self) -> PluginError {
        PluginError::Timeout { plugin: self.manifest.name.clone(), limit_ms: self.manifest.limits.timeout_ms }
    }

    fn classify(&self, error: wasmtime::Error, state: &CallState) -> PluginError {
        let plugin = self.manifest.name.clone();
        if state.timed_out {
            return self.timed_out();
        }
        if state.limiter.exhausted {
            return PluginError::MemoryExhausted { plugin, limit_mib: self.manifest.limits.memory_mib };
        }
        if let Some(trap) = error.downcast_ref::<Trap>() {
            return match trap {
                Trap::Interrupt => self.timed_out(),
                Trap::StringOutOfBounds
                | Trap::ListOutOfBounds
                | Trap::InvalidDiscriminant
                | Trap::InvalidChar
                | Trap::UnalignedPointer => PluginError::InvalidOutput { plugin, reason: trap.to_string() },
                _ => PluginError::Trap { plugin, reason: trap.to_string(), stderr: state.stderr.contents() },
            };
        }
        if let Some(e) = error.downcast_ref::<std::str::Utf8Error>() {
            return PluginError::InvalidOutput { plugin, reason: format!("a string is not valid UTF-8: {e}") };
        }
        if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return PluginError::Trap {
                plugin,
                reason: format!("exited with status {}", exit.0),
                stderr: state.stderr.contents(),
            };
        }
        if let Some(e) = error.downcast_ref::<wasmtime::PoolConcurrencyLimitError>() {
            return PluginError::Host(format!("no free instance slot for plugin `{plugin}`: {e}"));
        }
        let reason = error.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ");
        PluginError::Trap { plugin, reason, stderr: state.stderr.contents() }
    }

    /// Settles the call (or its wall-clock timeout), applies the guest's own failure and the
    /// host's output checks, and collects the logs, also those of a call that failed.
    fn finish<R, T>(
        &self,
        mut store: Store<CallState>,
        started: Instant,
        result: Result<wasmtime::Result<Raw<R>>, tokio::time::error::Elapsed>,
        check: impl FnOnce(R, &crate::manifest::Limits, &mut Vec<types::LogRecord>) -> Result<T, OutputProblem>,
    ) -> Result<Outcome<T>, CallError> {
        let plugin = self.manifest.name.clone();
        let settled = self.settle(result, &store).and_then(|raw| {
            raw.map_err(|f| PluginError::Failed { plugin: plugin.clone(), failure: types::failure(f) })
        });
        let state = store.data_mut();
        let mut logs = std::mem::take(&mut state.logs);
        let logs_dropped = state.logs_dropped;
        let checked = settled.and_then(|raw| {
            check(raw, &self.manifest.limits, &mut logs).map_err(|problem| match problem {
                OutputProblem::TooLarge { what, actual, limit } => {
                    PluginError::OutputTooLarge { plugin: plugin.clone(), what, actual, limit }
                }
                OutputProblem::Invalid(reason) => PluginError::InvalidOutput { plugin: plugin.clone(), reason },
            })
        });
        match checked {
            Ok(value) => Ok(Outcome { value, logs, logs_dropped, elapsed: started.elapsed() }),
            Err(error) => Err(CallError { error, logs, logs_dropped }),
        }
    }

    fn wrong_world(&self, called: World) -> PluginError {
        PluginError::WrongWorld {
            plugin: self.manifest.name.clone(),
            actual: self.manifest.world.to_string(),
            called: called.to_string(),
        }
    }
}

/// A call that failed, with what the guest logged before (for `akte plugin test`, where
/// the log is most wanted when the call fails).
#[derive(Debug)]
pub struct CallError {
    /// Why it failed.
    pub error: PluginError,
    /// The log records of the call (at most 256).
    pub logs: Vec<types::LogRecord>,
    /// How many further log records were dropped.
    pub logs_dropped: u32,
}

impl From<PluginError> for CallError {
    fn from(error: PluginError) -> CallError {
        CallError { error, logs: Vec::new(), logs_dropped: 0 }
    }
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.manifest.name)
            .field("version", &self.manifest.version)
            .field("world", &self.manifest.world)
            .field("digest", &self.digest.to_hex().as_str())
            .field("source", &self.source)
            .finish()
    }
}
