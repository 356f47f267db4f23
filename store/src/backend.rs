//! The object store behind a repository: opening `file://`, `s3://` and `memory://` URLs
//! through `object_store`, plus the durability barrier for local disks.

use std::{path::PathBuf, sync::Arc};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
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
    /// For `file://` stores, the root directory's device and inode when it was opened: a
    /// write checks that it is still the same directory (see [`Backend::put`]).
    local_id: Option<(u64, u64)>,
    url: String,
}

impl Backend {
    /// Opens a store URL: `file:///abs/dir` (the directory must exist), `s3://bucket[/prefix]`
    /// (endpoint, region and credentials from the usual `AWS_*` variables) or `memory://`
    /// (tests only).
    pub fn open(url: &str) -> Result<Self> {
        Self::open_or_create(url, false)
    }

    /// Like [`open`](Self::open), but creates a `file://` store's directory if it is missing:
    /// for a new repository (`akte init`) or a migration's target.
    pub fn create(url: &str) -> Result<Self> {
        Self::open_or_create(url, true)
    }

    fn open_or_create(url: &str, create: bool) -> Result<Self> {
        if let Some(rest) = url.strip_prefix("file://") {
            let root = PathBuf::from(rest);
            if !root.is_absolute() {
                return Err(Error::Invalid(format!("The store URL {url} must name an absolute directory")));
            }
            if create {
                std::fs::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
            } else if !root.is_dir() {
                return Err(Error::Invalid(format!(
                    "The store directory {} does not exist (a new repository is made with `akte init`)",
                    root.display()
                )));
            }
            // Object writes skip fsync; `barrier` makes the whole file system durable once
            // before each journal entry is written, which is cheaper than one fsync per object.
            let fs = Arc::new(
                object_store::local::LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| Error::Invalid(format!("Cannot open {url}: {e}")))?
                    .with_automatic_cleanup(true),
            );
            let local_id = Some(dir_id(&root).map_err(|e| Error::io(&root, e))?);
            return Ok(Backend {
                store: fs.clone(),
                local_root: Some(root),
                local: Some(fs),
                local_id,
                url: url.to_string(),
            });
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
            local_id: None,
            url: "memory://".into(),
        }
    }

    /// Wraps an existing object store (tests, migration).
    pub fn from_store(store: Arc<dyn ObjectStore>, url: &str) -> Self {
        Backend { store, local_root: None, local: None, local_id: None, url: url.to_string() }
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
        let vars: Vec<(String, String)> = vars.into_iter().filter(|(k, _)| k.starts_with("AWS_")).collect();
        let set = |name: &str| vars.iter().any(|(k, v)| k == name && !v.trim().is_empty());
        // Sovereignty: Akte talks to the store it was given and to nothing else. Without an
        // endpoint the S3 client would go to Amazon; without static keys it would ask the
        // cloud's metadata service (169.254.169.254) or a web-identity endpoint for them.
        if !set("AWS_ENDPOINT_URL") && !set("AWS_ENDPOINT") {
            return Err(Error::Invalid(format!(
                "The store {url} needs its endpoint in AWS_ENDPOINT_URL (Akte connects to no default S3 service)"
            )));
        }
        if !set("AWS_ACCESS_KEY_ID") || !set("AWS_SECRET_ACCESS_KEY") {
            return Err(Error::Invalid(format!(
                "The store {url} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Akte asks no metadata service for keys)"
            )));
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
        // Every write but one is a plain PUT: Akte's correctness does not rely on
        // conditional writes (FORMAT.md, "Writing"). The one, `init`'s key file
        // (`put_new`), is sent with `If-None-Match: *`, object_store's default for S3.
        let s3 = builder.build().map_err(|e| Error::Invalid(format!("Cannot open {url}: {e}")))?;
        let store: Arc<dyn ObjectStore> =
            if prefix.is_empty() { Arc::new(s3) } else { Arc::new(object_store::prefix::PrefixStore::new(s3, prefix)) };
        Ok(Backend { store, local_root: None, local: None, local_id: None, url: url.to_string() })
    }

    /// Whether `other` is this same store under another spelling (`file:///a/b/` and
    /// `file:///a//b`, a symlink; `s3://bucket/p/` and `s3://bucket/p`).
    pub fn same_store(&self, other: &Backend) -> bool {
        match (&self.local_root, &other.local_root) {
            (Some(a), Some(b)) => match (a.canonicalize(), b.canonicalize()) {
                (Ok(a), Ok(b)) => a == b,
                _ => a == b,
            },
            (None, None) => self.url.trim_end_matches('/') == other.url.trim_end_matches('/'),
            _ => false,
        }
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
        self.check_root()?;
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

    /// A `file://` store's directory that went away (a moved directory) or is another one
    /// now (an unmounted volume leaves its empty mount point) is not written into: the
    /// write would succeed into a tree that no node reads, and the repository would lose it.
    fn check_root(&self) -> Result<()> {
        let (Some(root), Some(id)) = (&self.local_root, self.local_id) else { return Ok(()) };
        match dir_id(root) {
            Ok(now) if now == id => Ok(()),
            Ok(_) => Err(Error::io(
                root,
                std::io::Error::other(
                    "the store directory is another one than when it was opened (a volume unmounted?)",
                ),
            )),
            Err(_) => {
                Err(Error::io(root, std::io::Error::new(std::io::ErrorKind::NotFound, "the store directory is gone")))
            }
        }
    }

    /// Writes an object only if none has its name; `Ok(false)` when one has. File systems
    /// create the file exclusively; S3 gets `If-None-Match: *` (a service that ignores the
    /// header leaves a race of two writers open). Where the client has conditional puts
    /// switched off (`AWS_CONDITIONAL_PUT=disabled`), it looks first, with the same race.
    pub async fn put_new(&self, path: &Path, bytes: impl Into<Bytes>) -> Result<bool> {
        self.check_root()?;
        let payload = PutPayload::from(bytes.into());
        let opts = object_store::PutOptions { mode: object_store::PutMode::Create, ..Default::default() };
        match self.store.put_opts(path, payload.clone(), opts).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
            Err(object_store::Error::NotImplemented { .. }) => {
                if self.exists(path).await? {
                    return Ok(false);
                }
                self.store.put(path, payload).await.map(|_| true).map_err(|e| Error::store(path, e))
            }
            Err(e) => Err(Error::store(path, e)),
        }
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

    /// The name of some object in the store, if it holds any (lists only until the first).
    pub async fn first_object(&self) -> Result<Option<Path>> {
        let at = Path::default();
        match self.store.list(None).next().await {
            Some(Ok(meta)) => Ok(Some(meta.location)),
            Some(Err(e)) => Err(Error::store(&at, e)),
            None => Ok(None),
        }
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

/// A directory's device and inode number.
fn dir_id(dir: &std::path::Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(dir)?;
    if !m.is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a directory"));
    }
    Ok((m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(r: Result<Backend>, what: &str) -> Error {
        match r {
            Ok(_) => panic!("{what}"),
            Err(e) => e,
        }
    }

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn s3_without_endpoint_or_keys_is_refused() {
        let keys = [("AWS_ACCESS_KEY_ID", "GK1"), ("AWS_SECRET_ACCESS_KEY", "s3cr3t")];
        let e = refused(Backend::open_s3_with("s3://akten", "akten", vars(&keys)), "no endpoint");
        assert!(e.to_string().contains("AWS_ENDPOINT_URL"), "{e}");
        let endpoint = [("AWS_ENDPOINT_URL", "http://127.0.0.1:3900")];
        let e = refused(Backend::open_s3_with("s3://akten", "akten", vars(&endpoint)), "no keys");
        assert!(e.to_string().contains("AWS_ACCESS_KEY_ID"), "{e}");
        let all = [endpoint[0], keys[0], keys[1]];
        assert!(Backend::open_s3_with("s3://akten/p", "akten/p", vars(&all)).is_ok());
    }

    #[tokio::test]
    async fn a_file_store_is_made_only_when_asked_and_never_again_by_a_write() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("store");
        let url = format!("file://{}", root.display());
        let e = refused(Backend::open(&url), "a missing directory is not opened");
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(!root.exists(), "opening made nothing");
        let store = Backend::create(&url).unwrap();
        store.put(&Path::from("a/b"), b"eins".to_vec()).await.unwrap();
        // The directory goes away under the running store (an unmounted volume).
        std::fs::rename(&root, tmp.path().join("away")).unwrap();
        let e = store.put(&Path::from("a/c"), b"zwei".to_vec()).await.expect_err("no write into the void");
        assert!(e.to_string().contains("gone"), "{e}");
        assert!(!root.exists(), "the write made no new store");
        let big = vec![7u8; 8 << 20];
        assert!(store.put(&Path::from("a/d"), big).await.is_err());
        assert!(!root.exists());
        // An empty directory in its place (the mount point of an unmounted volume).
        std::fs::create_dir(&root).unwrap();
        let e = store.put(&Path::from("a/e"), b"drei".to_vec()).await.expect_err("not into another directory");
        assert!(e.to_string().contains("another one"), "{e}");
        assert!(store.put_new(&Path::from("a/f"), b"vier".to_vec()).await.is_err());
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0, "nothing written there");
    }

    #[test]
    fn one_store_under_two_spellings_is_the_same_store() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("store");
        let a = Backend::create(&format!("file://{}", dir.display())).unwrap();
        let b = Backend::open(&format!("file://{}/", dir.display())).unwrap();
        let c = Backend::open(&format!("file://{}/../store", dir.display())).unwrap();
        let other = Backend::create(&format!("file://{}", tmp.path().join("other").display())).unwrap();
        assert!(a.same_store(&b) && a.same_store(&c) && !a.same_store(&other));
        let keys =
            [("AWS_ENDPOINT_URL", "http://127.0.0.1:3900"), ("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s")];
        let s3 = |url: &str| Backend::open_s3_with(url, url.trim_start_matches("s3://"), vars(&keys)).unwrap();
        assert!(s3("s3://akten/p").same_store(&s3("s3://akten/p/")));
        assert!(!s3("s3://akten/p").same_store(&s3("s3://akten/q")) && !a.same_store(&s3("s3://akten")));
    }

    #[tokio::test]
    async fn put_new_writes_once() {
        let tmp = tempfile::tempdir().unwrap();
        for store in [Backend::memory(), Backend::create(&format!("file://{}", tmp.path().display())).unwrap()] {
            let name = Path::from("keys/repository");
            assert!(store.put_new(&name, b"erster".to_vec()).await.unwrap());
            assert!(!store.put_new(&name, b"zweiter".to_vec()).await.unwrap());
            assert_eq!(store.get(&name).await.unwrap().unwrap().as_ref(), b"erster");
        }
    }
}
