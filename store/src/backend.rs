//! The object store behind a repository: opening `file://`, `s3://` and `memory://` URLs
//! through `object_store`, plus the durability barrier for local disks.

use std::{path::PathBuf, sync::Arc};

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path};

use crate::{Error, Result};

/// An opened object store and what kind it is.
#[derive(Clone, Debug)]
pub struct Backend {
    store: Arc<dyn ObjectStore>,
    /// For `file://` stores, the root directory (used for the durability barrier).
    local_root: Option<PathBuf>,
    /// For `file://` stores, the store itself, for mapping object paths to files when a
    /// large object is written with direct I/O.
    local: Option<Arc<object_store::local::LocalFileSystem>>,
    url: String,
}

impl Backend {
    /// Opens a store URL: `file:///abs/dir`, `s3://bucket[/prefix]` (endpoint, region and
    /// credentials from the usual `AWS_*` variables) or `memory://` (tests only).
    pub fn open(url: &str) -> Result<Self> {
        if let Some(rest) = url.strip_prefix("file://") {
            let root = PathBuf::from(rest);
            if !root.is_absolute() {
                return Err(Error::Invalid(format!("The store URL {url} must name an absolute directory")));
            }
            std::fs::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
            // Object writes skip fsync; `barrier` makes the whole file system durable once
            // before each journal entry is written, which is cheaper than one fsync per object.
            let fs = Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| Error::Invalid(format!("Cannot open {url}: {e}")))?
                    .with_automatic_cleanup(true),
            );
            return Ok(Backend { store: fs.clone(), local_root: Some(root), local: Some(fs), url: url.to_string() });
        }
        if url == "memory://" || url.starts_with("memory://") {
            return Ok(Self::memory());
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            return Self::open_s3(url, rest);
        }
        Err(Error::Invalid(format!("The store URL {url} is not supported (use file:///dir, s3://bucket or memory://)")))
    }

    /// A fresh in-memory store (tests).
    pub fn memory() -> Self {
        Backend {
            store: Arc::new(object_store::memory::InMemory::new()),
            local_root: None,
            local: None,
            url: "memory://".into(),
        }
    }

    /// Wraps an existing object store (tests, migration).
    pub fn from_store(store: Arc<dyn ObjectStore>, url: &str) -> Self {
        Backend { store, local_root: None, local: None, url: url.to_string() }
    }

    fn open_s3(url: &str, rest: &str) -> Result<Self> {
        Self::open_s3_with(url, rest, std::env::vars())
    }

    /// Opens `s3://bucket[/prefix]` with `AWS_*` settings taken from `vars` instead of the
    /// process environment (tests, several stores in one process).
    pub fn open_s3_with(url: &str, rest: &str, vars: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let (bucket, prefix) = match rest.split_once('/') {
            Some((b, p)) => (b, p.trim_matches('/')),
            None => (rest, ""),
        };
        if bucket.is_empty() {
            return Err(Error::Invalid(format!("The store URL {url} names no bucket")));
        }
        let mut builder = AmazonS3Builder::new();
        let mut region = false;
        let mut endpoint = None;
        for (k, v) in vars {
            if !k.starts_with("AWS_") {
                continue;
            }
            region |= k == "AWS_REGION" || k == "AWS_DEFAULT_REGION";
            if k == "AWS_ENDPOINT_URL" || k == "AWS_ENDPOINT" {
                endpoint = Some(v.clone());
            }
            if let Ok(key) = k.to_ascii_lowercase().parse::<AmazonS3ConfigKey>() {
                builder = builder.with_config(key, v);
            }
        }
        builder = builder.with_bucket_name(bucket);
        if let Some(endpoint) = endpoint {
            // Must come after any `with_client_options`, which would reset it.
            builder = builder.with_endpoint(&endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        if !region {
            builder = builder.with_region("garage");
        }
        // Conditional puts stay disabled: Akte never relies on them (FORMAT.md, "Writing").
        let s3 = builder.build().map_err(|e| Error::Invalid(format!("Cannot open {url}: {e}")))?;
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { Arc::new(s3) } else { Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)) };
        Ok(Backend { store, local_root: None, local: None, url: url.to_string() })
    }

    /// The URL this store was opened from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The underlying object store.
    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Reads a whole object; `Ok(None)` when it does not exist.
    pub async fn get(&self, path: &Path) -> Result<Option<Bytes>> {
        match self.store.get(path).await {
            Ok(r) => r.bytes().await.map(Some).map_err(|e| Error::store(path, e)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::store(path, e)),
        }
    }

    /// True when an object exists.
    pub async fn exists(&self, path: &Path) -> Result<bool> {
        match self.store.head(path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(Error::store(path, e)),
        }
    }

    /// Writes an object (overwriting; Akte never writes one name with two contents). On a
    /// `file://` store a large, page-aligned object (a chunk or a pack, see
    /// `keys::encrypt_parts`) bypasses the page cache (`direct`).
    pub async fn put(&self, path: &Path, bytes: impl Into<Bytes>) -> Result<()> {
        let bytes = bytes.into();
        if let Some(local) = &self.local
            && crate::direct::suitable(&bytes)
        {
            let file = local.path_to_filesystem(path).map_err(|e| Error::store(path, e))?;
            return tokio::task::spawn_blocking(move || {
                crate::direct::put(&file, &bytes).map(|_| ()).map_err(|e| Error::io(&file, e))
            })
            .await
            .expect("write task does not panic");
        }
        self.store.put(path, PutPayload::from(bytes)).await.map(|_| ()).map_err(|e| Error::store(path, e))
    }

    /// Deletes an object (missing is fine).
    pub async fn delete(&self, path: &Path) -> Result<()> {
        match self.store.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::store(path, e)),
        }
    }

    /// Lists every object name below `prefix` (or everything).
    pub async fn list(&self, prefix: Option<&Path>) -> Result<Vec<object_store::ObjectMeta>> {
        let at = prefix.cloned().unwrap_or_default();
        self.store.list(prefix).try_collect().await.map_err(|e| Error::store(&at, e))
    }

    /// The immediate "directories" below `prefix`.
    pub async fn list_dirs(&self, prefix: &Path) -> Result<Vec<Path>> {
        let r = self.store.list_with_delimiter(Some(prefix)).await.map_err(|e| Error::store(prefix, e))?;
        Ok(r.common_prefixes)
    }

    /// Makes every earlier write durable. On `file://` stores this is one `syncfs`; S3
    /// acknowledges a PUT only once it is durable, so there it is a no-op.
    pub async fn barrier(&self) -> Result<()> {
        let Some(root) = self.local_root.clone() else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || {
            let dir = std::fs::File::open(&root).map_err(|e| Error::io(&root, e))?;
            rustix::fs::syncfs(&dir).map_err(|e| Error::io(&root, e.into()))
        })
        .await
        .expect("barrier task does not panic")
    }
}
