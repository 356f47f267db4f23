//! Server configuration: a TOML file (`akte serve --config FILE`), then `AKTE_*`
//! environment variables, then command-line flags, each overriding the one before.

use std::{net::SocketAddr, path::Path, time::Duration};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The server's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The largest document upload in bytes.
    pub max_upload_bytes: u64,
    /// The largest JSON body in bytes.
    pub max_json_bytes: usize,
    /// How long a request other than an upload or download may take.
    pub request_timeout: Duration,
    /// How many requests run at once; more wait, and past twice as many get 503.
    pub concurrency: usize,
    /// How often other nodes' entries are read.
    pub sync_interval: Duration,
    /// Log as JSON lines instead of text.
    pub log_json: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".parse().expect("address parses"),
            max_upload_bytes: 16 << 30,
            max_json_bytes: 1 << 20,
            request_timeout: Duration::from_secs(60),
            concurrency: 256,
            sync_interval: Duration::from_secs(1),
            log_json: false,
        }
    }
}

/// The TOML file's shape (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    max_upload_bytes: Option<u64>,
    max_json_bytes: Option<usize>,
    request_timeout_secs: Option<u64>,
    concurrency: Option<usize>,
    sync_interval_ms: Option<u64>,
    log_format: Option<String>,
}

impl Config {
    /// Reads the file (if any) and the environment.
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let mut f: File = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("Cannot read {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("The configuration {} is not valid", p.display()))?
            }
            None => File::default(),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(v) = env("AKTE_LISTEN") {
            f.listen = Some(v);
        }
        if let Some(v) = env("AKTE_MAX_UPLOAD_BYTES") {
            f.max_upload_bytes = Some(v.parse().context("AKTE_MAX_UPLOAD_BYTES must be a number of bytes")?);
        }
        if let Some(v) = env("AKTE_CONCURRENCY") {
            f.concurrency = Some(v.parse().context("AKTE_CONCURRENCY must be a number")?);
        }
        if let Some(v) = env("AKTE_SYNC_INTERVAL_MS") {
            f.sync_interval_ms = Some(v.parse().context("AKTE_SYNC_INTERVAL_MS must be a number")?);
        }
        if let Some(v) = env("AKTE_LOG_FORMAT") {
            f.log_format = Some(v);
        }
        let mut c = Config::default();
        if let Some(l) = f.listen {
            c.listen = l.parse().with_context(|| format!("The listen address {l:?} is not HOST:PORT"))?;
        }
        if let Some(v) = f.max_upload_bytes {
            c.max_upload_bytes = v;
        }
        if let Some(v) = f.max_json_bytes {
            c.max_json_bytes = v;
        }
        if let Some(v) = f.request_timeout_secs {
            c.request_timeout = Duration::from_secs(v.max(1));
        }
        if let Some(v) = f.concurrency {
            if v == 0 {
                bail!("concurrency must be at least 1");
            }
            c.concurrency = v;
        }
        if let Some(v) = f.sync_interval_ms {
            c.sync_interval = Duration::from_millis(v.max(50));
        }
        match f.log_format.as_deref() {
            None | Some("text") => {}
            Some("json") => c.log_json = true,
            Some(other) => bail!("log_format {other:?} is unknown; use text or json"),
        }
        Ok(c)
    }
}
