//! The per-call sandbox: the store data of one plugin call (an empty WASI context, the
//! resource limiter, captured logs and stderr) and the linker that defines what a guest
//! can import.
//!
//! **What a guest can reach** is exactly what [`linker`] adds:
//! - `akte:plugin/log`: bounded log records, returned to the caller;
//! - WASI 0.2 (`wasi:cli`, `wasi:io`, `wasi:clocks`, `wasi:random`, `wasi:filesystem`,
//!   `wasi:sockets`), so that ordinary `wasm32-wasip2` programs link, but backed by a
//!   context that holds nothing: no preopened directory (every path fails to open), no
//!   environment variables, no arguments, stdin empty, stdout discarded, stderr's last
//!   4 KiB kept for error reports, TCP, UDP and name lookup disabled, and both clocks
//!   frozen at zero unless the manifest grants `clock`. Random numbers are real: they
//!   reveal nothing and Rust's `HashMap` needs them. A guest can still wait on a timer
//!   (`sleep`): that takes real time, and the call's wall-clock timeout bounds it.
//!
//! Any other import (`wasi:http`, anything custom) makes loading fail with
//! [`PluginError::Link`](crate::PluginError::Link).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::AsyncWrite;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use crate::bindings::extractor::akte::plugin::log;
use crate::manifest::{Capability, Manifest};
use crate::types::{LogLevel, LogRecord};

/// At most this many log records are kept per call.
pub const MAX_LOG_RECORDS: usize = 256;
/// Each log record is cut to this many bytes.
pub const MAX_LOG_BYTES: usize = 2048;
/// At most this much of a guest's stderr is kept per call.
pub const MAX_STDERR_BYTES: usize = 4096;

/// The data of one store, i.e. of one plugin call.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: CallLimiter,
    pub(crate) logs: Vec<LogRecord>,
    pub(crate) logs_dropped: u32,
    pub(crate) stderr: Capture,
    /// Set by the epoch callback when the call's deadline has passed.
    pub(crate) timed_out: bool,
}

impl CallState {
    /// A fresh, empty sandbox for one call of the plugin described by `manifest`.
    pub(crate) fn new(manifest: &Manifest) -> CallState {
        let stderr = Capture::new(MAX_STDERR_BYTES);
        let mut wasi = WasiCtx::builder();
        wasi.stderr(stderr.clone()).allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
        if !manifest.grants(Capability::Clock) {
            wasi.wall_clock(FrozenClock).monotonic_clock(FrozenClock);
        }
        CallState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: CallLimiter::new(manifest.limits.memory_mib),
            logs: Vec::new(),
            logs_dropped: 0,
            stderr,
            timed_out: false,
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl log::Host for CallState {
    fn log(&mut self, level: log::Level, mut message: String) {
        if self.logs.len() >= MAX_LOG_RECORDS {
            self.logs_dropped = self.logs_dropped.saturating_add(1);
            return;
        }
        truncate_at_char(&mut message, MAX_LOG_BYTES);
        let level = match level {
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        };
        self.logs.push(LogRecord { level, message });
    }
}

/// The linker shared by all plugins: the `log` interface and the empty WASI described in
/// the module documentation.
pub(crate) fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    log::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)?;
    Ok(linker)
}

/// Cuts `s` to at most `max` bytes, at a character boundary.
pub(crate) fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

/// The resource limiter of one call: wasmtime's [`StoreLimits`] for tables and instances,
/// plus a cap on the sum of all linear memories, and a note of whether a memory limit
/// refused a growth (so that the trap that usually follows is reported as
/// [`PluginError::MemoryExhausted`](crate::PluginError::MemoryExhausted)).
pub(crate) struct CallLimiter {
    inner: StoreLimits,
    cap: usize,
    used: usize,
    pub(crate) exhausted: bool,
}

impl CallLimiter {
    fn new(memory_mib: u32) -> CallLimiter {
        let cap = usize::try_from(memory_mib).unwrap_or(usize::MAX).saturating_mul(1024 * 1024);
        let inner = StoreLimitsBuilder::new()
            .memory_size(cap)
            .memories(4)
            .tables(16)
            .table_elements(100_000)
            .instances(32)
            .build();
        CallLimiter { inner, cap, used: 0, exhausted: false }
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let grow = desired.saturating_sub(current);
        if self.used.saturating_add(grow) > self.cap {
            self.exhausted = true;
            return Ok(false);
        }
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        if allowed {
            self.used += grow;
        } else {
            self.exhausted = true;
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        // The pooling allocator's per-memory maximum refused it: the same for the guest.
        self.exhausted = true;
        Ok(())
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// A clock that always reads zero: 1970-01-01T00:00:00Z and a monotonic instant of 0.
/// A guest without the `clock` capability can neither read the time nor measure it.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// A bounded stderr: keeps the last `cap` bytes (where a Rust panic message ends up) and
/// accepts and drops the rest, so that a chatty guest neither fills host memory nor fails
/// on a full pipe.
#[derive(Clone)]
pub(crate) struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
    cap: usize,
}

impl Capture {
    fn new(cap: usize) -> Capture {
        Capture { buf: Arc::new(Mutex::new(Vec::new())), cap }
    }

    /// What was captured, lossily decoded.
    pub(crate) fn contents(&self) -> String {
        let buf = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        // Rust's panic message advises an environment variable the sandbox never passes.
        String::from_utf8_lossy(&buf)
            .lines()
            .filter(|l| !l.starts_with("note: run with `RUST_BACKTRACE=1`"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl IsTerminal for Capture {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Capture {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for Capture {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let mut buf = self.buf.lock().unwrap_or_else(|p| p.into_inner());
        let tail = &data[data.len().saturating_sub(self.cap)..];
        let overflow = (buf.len() + tail.len()).saturating_sub(self.cap);
        buf.drain(..overflow);
        buf.extend_from_slice(tail);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
