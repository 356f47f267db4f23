//! Objects: the plaintext framing, keyed names, and put/get with integrity checks.
//!
//! Every object's plaintext starts with `AKTE`, the format version and a kind byte. A
//! content-addressed object lives at `objects/<hh>/<name>` where `name` is the keyed BLAKE3
//! of its whole plaintext; on every read the name is recomputed and compared.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, RwLock},
};

use bytes::Bytes;
use futures::FutureExt;
use object_store::path::Path;

use crate::{
    Error, Result,
    backend::Backend,
    keys::RepoKey,
    pack::{self, PACK_TARGET, PackRef, Pending, Writing},
};

/// The magic that opens every object plaintext.
pub const MAGIC: &[u8; 4] = b"AKTE";
/// The object framing version.
pub const OBJECT_VERSION: u8 = 1;
/// Length of the framing header.
pub const HEADER_LEN: usize = 6;

/// What an object holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A slice of document content (raw bytes).
    Chunk = 1,
    /// A content manifest (JSON): size, digests, chunk list.
    Manifest = 2,
    /// A record (JSON): the fields of a domain object at one change.
    Record = 3,
    /// A journal entry (JSON followed by a 32-byte MAC).
    Entry = 4,
    /// A pack of small objects (see `pack`).
    Pack = 5,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Chunk,
            2 => Kind::Manifest,
            3 => Kind::Record,
            4 => Kind::Entry,
            5 => Kind::Pack,
            _ => return None,
        })
    }
}

pub use crate::name::Name;

/// The store path of a content-addressed object.
pub fn object_path(name: &Name) -> Path {
    let hex = name.hex();
    Path::from(format!("objects/{}/{}", &hex[..2], &*hex))
}

/// The framing header of an object of `kind`.
pub fn header(kind: Kind) -> [u8; HEADER_LEN] {
    [MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], OBJECT_VERSION, kind as u8]
}

/// Frames a payload: `AKTE | version | kind | payload`.
pub fn frame(kind: Kind, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(HEADER_LEN + payload.len());
    v.extend_from_slice(&header(kind));
    v.extend_from_slice(payload);
    v
}

/// Checks the framing and returns the kind and payload.
pub fn unframe<'a>(object: &str, plain: &'a [u8]) -> Result<(Kind, &'a [u8])> {
    if plain.len() < HEADER_LEN || &plain[..4] != MAGIC {
        return Err(Error::integrity(object, "plaintext does not start with the Akte object header"));
    }
    if plain[4] != OBJECT_VERSION {
        return Err(Error::Format(format!(
            "The object {object} has version {}; this build reads {OBJECT_VERSION}",
            plain[4]
        )));
    }
    let kind = Kind::from_byte(plain[5])
        .ok_or_else(|| Error::integrity(object, format!("unknown object kind {}", plain[5])))?;
    Ok((kind, &plain[HEADER_LEN..]))
}

/// Reads and writes content-addressed objects of one repository.
#[derive(Clone, Debug)]
pub struct Objects {
    pub(crate) backend: Backend,
    pub(crate) key: std::sync::Arc<RepoKey>,
    /// Committed pack members: member name → the packs that hold it, newest known last
    /// (a member is in two packs when a deletion repacked it).
    pub(crate) packed: Arc<RwLock<PackMap>>,
    /// Members waiting for their pack, and packs not yet committed.
    pub(crate) pending: Arc<Mutex<Pending>>,
    /// The last few packs read, decrypted and split into members.
    cache: Arc<Mutex<VecDeque<(Name, Members)>>>,
    /// Packs being read, each with a lock its readers queue on: concurrent readers of
    /// members of one pack (a catalog rebuild asks for 16 records at a time, mostly from
    /// the same pack) wait for one fetch and decryption instead of each doing their own.
    loading: Arc<Mutex<HashMap<Name, Arc<tokio::sync::Mutex<()>>>>>,
    /// Names stored (or found already stored) by this process that no commit references
    /// yet, with how many stores are waiting and since when: an erasure leaves them alone,
    /// so that an upload of the same bytes as a deleted Akte's keeps its objects.
    pins: Arc<Mutex<HashMap<Name, (u32, std::time::Instant)>>>,
    /// Names this process found already stored instead of writing them, with the stored
    /// object they depend on (themselves, or their pack): checked again right before the
    /// commit, since another node's erasure may have removed them meanwhile.
    found: Arc<Mutex<HashMap<Name, Name>>>,
}

/// Where committed pack members are: member name → the packs that hold it, newest known
/// last. A node keeps one entry per small object in the repository (every record, small
/// content and derived text), so the entry is kept small: the member's name as its 32
/// bytes, the pack as a number into a table of pack names (a pack holds hundreds to
/// thousands of members). A member is in a second pack only when a deletion repacked it.
#[derive(Debug, Default)]
pub(crate) struct PackMap {
    /// Member → the first pack that holds it.
    first: foldhash::HashMap<Name, u32>,
    /// Member → the packs after the first, oldest first (repacked members only).
    more: foldhash::HashMap<Name, Vec<u32>>,
    /// Pack number → name; `None` once forgotten.
    names: Vec<Option<Name>>,
    /// Pack name → number.
    numbers: foldhash::HashMap<Name, u32>,
}

impl PackMap {
    /// Records that `pack` holds `members`.
    fn insert_pack<'a>(&mut self, pack: &Name, members: impl IntoIterator<Item = &'a Name>) {
        let number = self.number(pack);
        for m in members {
            self.insert_numbered(m, number);
        }
    }

    /// Records that `pack` holds `member`.
    #[cfg(test)]
    fn insert(&mut self, member: &Name, pack: &Name) {
        let number = self.number(pack);
        self.insert_numbered(member, number);
    }

    /// The number of a pack, given one if it is new.
    fn number(&mut self, pack: &Name) -> u32 {
        match self.numbers.get(pack) {
            Some(n) => *n,
            None => {
                let n = u32::try_from(self.names.len()).expect("fewer than 2^32 packs");
                self.names.push(Some(*pack));
                self.numbers.insert(*pack, n);
                n
            }
        }
    }

    fn insert_numbered(&mut self, member: &Name, number: u32) {
        let key = *member;
        match self.first.entry(key) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(number);
            }
            std::collections::hash_map::Entry::Occupied(o) if *o.get() == number => {}
            std::collections::hash_map::Entry::Occupied(_) => {
                let more = self.more.entry(key).or_default();
                if !more.contains(&number) {
                    more.push(number);
                }
            }
        }
    }

    /// Whether some committed pack holds `member`.
    fn contains(&self, member: &Name) -> bool {
        self.first.contains_key(member)
    }

    /// The packs that hold `member`, newest known last.
    fn packs_of(&self, member: &Name) -> Vec<Name> {
        let first = self.first.get(member).into_iter();
        let more = self.more.get(member).into_iter().flatten();
        first.chain(more).filter_map(|n| self.names[*n as usize]).collect()
    }

    /// Forgets removed packs; a member no pack holds any more is forgotten too.
    fn forget(&mut self, packs: &std::collections::BTreeSet<Name>) {
        let gone: std::collections::HashSet<u32> = packs.iter().filter_map(|p| self.numbers.remove(p)).collect();
        if gone.is_empty() {
            return;
        }
        for n in &gone {
            self.names[*n as usize] = None;
        }
        self.more.retain(|_, more| {
            more.retain(|n| !gone.contains(n));
            !more.is_empty()
        });
        let more = &mut self.more;
        self.first.retain(|key, first| {
            if !gone.contains(first) {
                return true;
            }
            // The oldest remaining pack becomes the first.
            match more.get_mut(key) {
                Some(rest) => {
                    *first = rest.remove(0);
                    if rest.is_empty() {
                        more.remove(key);
                    }
                    true
                }
                None => false,
            }
        });
    }
}

/// How long a stored name stays pinned when no commit releases it (an upload that failed).
pub const PIN_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// A decrypted pack: member name → member plaintext.
type Members = Arc<HashMap<Name, Bytes>>;

/// Payloads up to this size are hashed on the calling thread.
const INLINE_HASH: usize = 64 << 10;

/// How many decrypted packs a reader keeps (each at most a little over `PACK_TARGET`).
const PACK_CACHE: usize = 4;
/// How many full packs are written in the background at once while staging goes on.
const PACKS_IN_FLIGHT: usize = 2;

impl Objects {
    /// Objects of one repository on `backend` under `key`.
    pub(crate) fn new(backend: Backend, key: RepoKey) -> Objects {
        Objects {
            backend,
            key: Arc::new(key),
            packed: Arc::default(),
            pending: Arc::default(),
            cache: Arc::default(),
            loading: Arc::default(),
            pins: Arc::default(),
            found: Arc::default(),
        }
    }

    /// Learns where the members of committed packs are.
    pub(crate) fn note_packs(&self, packs: &[PackRef]) {
        if packs.is_empty() {
            return;
        }
        let mut map = self.packed.write().expect("pack map lock");
        for p in packs {
            map.insert_pack(&p.pack, &p.members);
        }
    }

    /// Forgets removed packs: their cached members and their place in the member map.
    pub(crate) fn forget_packs(&self, packs: &std::collections::BTreeSet<Name>) {
        self.cache.lock().expect("cache lock").retain(|(n, _)| !packs.contains(n));
        self.packed.write().expect("pack map lock").forget(packs);
    }

    /// Whether an object of this name is stored or waiting in a pack.
    fn known_packed(&self, name: &Name) -> bool {
        self.packed.read().expect("pack map lock").contains(name)
            || self.pending.lock().expect("pending lock").names.contains(name)
    }

    /// Adds a small object to the next pack (written when it is full, or by
    /// [`Objects::take_packs`] at the next commit). Returns the object's name.
    pub async fn put_packed(&self, kind: Kind, payload: impl AsRef<[u8]> + Send + 'static) -> Result<Name> {
        // Hashing a few KiB costs less than handing it to another thread.
        let (name, framed) = if payload.as_ref().len() <= INLINE_HASH {
            self.frame_and_name(kind, payload.as_ref())
        } else {
            let objects = self.clone();
            tokio::task::spawn_blocking(move || objects.frame_and_name(kind, payload.as_ref()))
                .await
                .expect("hash task does not panic")
        };
        self.stage_packed(name, framed).await
    }

    fn frame_and_name(&self, kind: Kind, payload: &[u8]) -> (Name, Bytes) {
        let framed = frame(kind, payload);
        (self.name_of(&framed), Bytes::from(framed))
    }

    /// The name of a framed plaintext.
    pub(crate) fn name_of(&self, framed: &[u8]) -> Name {
        Name::from_hash(self.key.name(framed))
    }

    /// Pins a name against erasure by this process until [`Objects::unpin`] or [`PIN_TTL`].
    fn pin(&self, name: &Name) {
        let mut pins = self.pins.lock().expect("pins lock");
        let now = std::time::Instant::now();
        if pins.len() > 100_000 {
            pins.retain(|_, (_, at)| now.duration_since(*at) < PIN_TTL);
        }
        let e = pins.entry(*name).or_insert((0, now));
        e.0 += 1;
        e.1 = now;
    }

    /// Releases pins: a commit now references these names.
    pub(crate) fn unpin<'a>(&self, names: impl IntoIterator<Item = &'a Name>) {
        let mut pins = self.pins.lock().expect("pins lock");
        for n in names {
            if let Some(e) = pins.get_mut(n) {
                e.0 = e.0.saturating_sub(1);
                if e.0 == 0 {
                    pins.remove(n);
                }
            }
        }
    }

    /// Whether a name was stored (or found stored) by this process for a commit that has
    /// not happened yet (within [`PIN_TTL`]).
    pub fn pinned(&self, name: &Name) -> bool {
        self.pins.lock().expect("pins lock").get(name).is_some_and(|(_, at)| at.elapsed() < PIN_TTL)
    }

    /// Fails when an object this process found already stored (instead of writing it) is
    /// gone now: another node's erasure removed it after it was found. The caller stores
    /// the content again; this process has forgotten the object meanwhile.
    pub(crate) async fn check_found<'a>(&self, names: impl IntoIterator<Item = &'a Name>) -> Result<()> {
        let deps: Vec<(Name, Name)> = {
            let found = self.found.lock().expect("found lock");
            names.into_iter().filter_map(|n| found.get(n).map(|d| (*n, *d))).collect()
        };
        let mut gone = Vec::new();
        for (name, dep) in deps {
            // A packed member may have moved to a new pack (a deletion repacked it): any
            // pack that lists it will do.
            let mut at = if dep == name { vec![name] } else { self.packs_of(&name) };
            if at.is_empty() {
                at.push(dep);
            }
            let mut there = false;
            for o in &at {
                if self.backend.exists(&object_path(o)).await? {
                    there = true;
                    break;
                }
            }
            if !there {
                gone.push((name, at));
            }
        }
        let Some((first, _)) = gone.first().cloned() else {
            return Ok(());
        };
        // Forget every missing one, so that storing the content again writes them afresh.
        let mut found = self.found.lock().expect("found lock");
        let mut packs = std::collections::BTreeSet::new();
        for (name, at) in gone {
            found.remove(&name);
            packs.extend(at.into_iter().filter(|p| *p != name));
        }
        drop(found);
        self.forget_packs(&packs);
        Err(Error::Conflict(format!(
            "The object {first} was erased by a deletion while this change was stored; send the document again"
        )))
    }

    /// Forgets found names once a commit references them.
    pub(crate) fn forget_found<'a>(&self, names: impl IntoIterator<Item = &'a Name>) {
        let mut found = self.found.lock().expect("found lock");
        for n in names {
            found.remove(n);
        }
    }

    pub(crate) async fn stage_packed(&self, name: Name, framed: Bytes) -> Result<Name> {
        self.pin(&name);
        if self.known_packed(&name) {
            if let Some(pack) = self.packs_of(&name).pop() {
                self.found.lock().expect("found lock").insert(name, pack);
            }
            return Ok(name);
        }
        let full = {
            let mut pending = self.pending.lock().expect("pending lock");
            if !pending.names.insert(name) {
                return Ok(name);
            }
            pending.bytes += framed.len() + 4;
            pending.members.push((name, framed));
            if pending.bytes >= PACK_TARGET {
                pending.bytes = 0;
                let members = std::mem::take(&mut pending.members);
                // Registered as being written under the same lock, so that a commit
                // never sees these members neither waiting nor being written.
                let (done, finished) = tokio::sync::oneshot::channel::<()>();
                let id = pending.next_write;
                pending.next_write += 1;
                pending.writing.push_back((id, finished.shared()));
                Some((members, id, done))
            } else {
                None
            }
        };
        if let Some((members, id, done)) = full {
            self.write_in_background(members, id, done);
            // Past PACKS_IN_FLIGHT the stager waits for the oldest write, which bounds the
            // memory held by packs being written.
            loop {
                let oldest = {
                    let pending = self.pending.lock().expect("pending lock");
                    if pending.writing.len() <= PACKS_IN_FLIGHT {
                        break;
                    }
                    pending.writing.front().cloned()
                };
                if let Some(oldest) = oldest {
                    self.wait_for_writes(vec![oldest]).await;
                }
            }
        }
        Ok(name)
    }

    /// Waits until these background writes have finished. One that ended without
    /// recording its outcome (its task panicked) counts as failed.
    async fn wait_for_writes(&self, writes: Vec<(u64, Writing)>) {
        let ids: Vec<u64> = writes.iter().map(|(id, _)| *id).collect();
        futures::future::join_all(writes.into_iter().map(|(_, w)| w)).await;
        let mut pending = self.pending.lock().expect("pending lock");
        let before = pending.writing.len();
        pending.writing.retain(|(id, _)| !ids.contains(id));
        if pending.writing.len() != before {
            pending.failed.get_or_insert_with(|| "a background write ended without a result".into());
        }
    }

    /// Encrypts and writes a full pack on a task of its own while staging goes on; `id`
    /// and `done` belong to its entry, already in `writing`. The task itself records the
    /// outcome: the pack into `written`, for the next commit (`take_packs` waits for every
    /// write under way), or the failure, which fails that commit.
    fn write_in_background(&self, members: Vec<(Name, Bytes)>, id: u64, done: tokio::sync::oneshot::Sender<()>) {
        let objects = self.clone();
        tokio::spawn(async move {
            let result = objects.write_pack(members).await;
            let mut pending = objects.pending.lock().expect("pending lock");
            match result {
                Ok(written) => pending.written.push(written),
                Err(e) => {
                    pending.failed.get_or_insert_with(|| e.to_string());
                }
            }
            pending.writing.retain(|(w, _)| *w != id);
            drop(pending);
            drop(done);
        });
    }

    /// Stages a packed member again, into the next pack, even though a committed pack
    /// holds it: a deletion does this for the live members of a pack it is about to
    /// delete. Returns false when the member could not be read.
    pub async fn repack(&self, name: &Name) -> Result<bool> {
        let Some((kind, payload)) = self.fetch_opt(name, None).await? else {
            return Ok(false);
        };
        let framed = Bytes::from(frame(kind, &payload));
        let mut pending = self.pending.lock().expect("pending lock");
        if pending.names.insert(*name) {
            pending.bytes += framed.len() + 4;
            pending.members.push((*name, framed));
        }
        Ok(true)
    }

    /// Writes the waiting members as a pack, waits for the packs still being written in
    /// the background, and returns every pack written since the last call: the packs the
    /// next journal entry commits. The caller makes them durable.
    pub async fn take_packs(&self) -> Result<Vec<PackRef>> {
        let (members, writing) = {
            let mut pending = self.pending.lock().expect("pending lock");
            pending.bytes = 0;
            let writing: Vec<(u64, Writing)> = pending.writing.iter().cloned().collect();
            (std::mem::take(&mut pending.members), writing)
        };
        let last = (!members.is_empty()).then(|| self.write_pack(members));
        // The packs being written in the background and the last one, together. Every
        // member staged so far is then in a pack this entry lists: in the server another
        // request may have filled the pack that holds this request's content.
        let (_, last) = futures::join!(self.wait_for_writes(writing), async {
            match last {
                Some(w) => w.await.map(Some),
                None => Ok(None),
            }
        });
        let mut pending = self.pending.lock().expect("pending lock");
        let failed = pending.failed.take();
        pending.written.extend(last?);
        if let Some(why) = failed {
            return Err(Error::io("a pack written in the background", std::io::Error::other(why)));
        }
        // Only the names of what is handed over: members staged meanwhile (by another
        // request of the server) stay known as waiting.
        let written = std::mem::take(&mut pending.written);
        for name in written.iter().flat_map(|p| &p.members) {
            pending.names.remove(name);
        }
        Ok(written)
    }

    /// Writes members as a pack. When that fails, their names are forgotten, so that a
    /// retry stages them again instead of taking them for waiting or written.
    async fn write_pack(&self, members: Vec<(Name, Bytes)>) -> Result<PackRef> {
        let names: Vec<Name> = members.iter().map(|(n, _)| *n).collect();
        match self.put_parts(Kind::Pack, pack::encode(members)).await {
            Ok(pack) => Ok(PackRef { pack, members: names }),
            Err(e) => {
                let mut pending = self.pending.lock().expect("pending lock");
                for n in &names {
                    pending.names.remove(n);
                }
                Err(e)
            }
        }
    }

    /// A pack's members, decrypted and checked, from the cache or the store; `None` when
    /// the pack is not in the store.
    async fn pack_members(&self, pack: &Name) -> Result<Option<Arc<HashMap<Name, Bytes>>>> {
        let cached = || self.cache.lock().expect("cache lock").iter().find(|(n, _)| n == pack).map(|(_, m)| m.clone());
        if let Some(m) = cached() {
            return Ok(Some(m));
        }
        let gate = Arc::clone(self.loading.lock().expect("loading lock").entry(*pack).or_default());
        let loaded = {
            let _turn = gate.lock().await;
            match cached() {
                Some(m) => Ok(Some(m)),
                None => self.load_pack(pack).await,
            }
        };
        // The last one through takes the gate away (the map holds one reference).
        let mut loading = self.loading.lock().expect("loading lock");
        if Arc::strong_count(&gate) == 2 {
            loading.remove(pack);
        }
        loaded
    }

    /// Fetches, decrypts and splits a pack and puts it into the cache.
    async fn load_pack(&self, pack: &Name) -> Result<Option<Arc<HashMap<Name, Bytes>>>> {
        let Some((_, payload)) = self.fetch_object_opt(pack, Some(Kind::Pack)).await? else {
            return Ok(None);
        };
        let key = self.key.clone();
        let label = object_path(pack).to_string();
        let members = tokio::task::spawn_blocking(move || pack::decode(&key, &label, &payload))
            .await
            .expect("pack task does not panic")?;
        let members = Arc::new(members);
        let mut cache = self.cache.lock().expect("cache lock");
        if cache.len() >= PACK_CACHE {
            cache.pop_front();
        }
        cache.push_back((*pack, members.clone()));
        Ok(Some(members))
    }

    /// Names, encrypts and stores a framed plaintext unless an object of that name exists.
    /// Returns the name. CPU work runs on the blocking pool.
    pub async fn put(&self, kind: Kind, payload: impl AsRef<[u8]> + Send + 'static) -> Result<Name> {
        self.put_parts(kind, vec![payload]).await
    }

    /// Like [`Objects::put`], for a payload that is the concatenation of `parts`: they are
    /// hashed and encrypted one after the other on the blocking pool, never joined in
    /// memory (a pack of thousands of members costs no copy on the calling task).
    async fn put_parts<P: AsRef<[u8]> + Send + 'static>(&self, kind: Kind, parts: Vec<P>) -> Result<Name> {
        let key = self.key.clone();
        let (name, ciphertext) = tokio::task::spawn_blocking(move || -> Result<(Name, Bytes)> {
            let header = header(kind);
            let mut all: Vec<&[u8]> = Vec::with_capacity(parts.len() + 1);
            all.push(&header);
            all.extend(parts.iter().map(|p| p.as_ref()));
            let mut hasher = key.name_hasher();
            for part in &all {
                hasher.update(part);
            }
            let name = Name::from_hash(hasher.finalize());
            Ok((name, key.encrypt_parts(&all)?))
        })
        .await
        .expect("encryption task does not panic")?;
        let path = object_path(&name);
        self.pin(&name);
        // Identical content is stored once. A crashed writer never leaves a partial object
        // under its final name (object_store writes are atomic), so existence is enough.
        if self.backend.exists(&path).await? {
            self.found.lock().expect("found lock").insert(name, name);
        } else {
            self.backend.put(&path, ciphertext).await?;
        }
        Ok(name)
    }

    /// Fetches, decrypts and checks an object; returns its payload. A missing object,
    /// a wrong kind or a name mismatch is an integrity error.
    pub async fn get(&self, name: &Name, expect: Kind) -> Result<Bytes> {
        self.fetch(name, Some(expect)).await.map(|(_, payload)| payload)
    }

    /// Like [`Objects::get`] for an object of any kind; returns kind and payload.
    pub async fn get_any(&self, name: &Name) -> Result<(Kind, Bytes)> {
        self.fetch(name, None).await
    }

    async fn fetch(&self, name: &Name, expect: Option<Kind>) -> Result<(Kind, Bytes)> {
        let path = object_path(name);
        match self.fetch_opt(name, expect).await? {
            Some(found) => Ok(found),
            None => Err(Error::integrity(path.to_string(), "object is missing")),
        }
    }

    /// Like [`Objects::get`], but a missing object (or a member whose every pack is
    /// missing) is `None` rather than an error: for objects a deletion may have erased.
    pub async fn get_opt(&self, name: &Name, expect: Kind) -> Result<Option<Bytes>> {
        Ok(self.fetch_opt(name, Some(expect)).await?.map(|(_, payload)| payload))
    }

    /// The packs known to hold a member, newest known last.
    pub fn packs_of(&self, name: &Name) -> Vec<Name> {
        self.packed.read().expect("pack map lock").packs_of(name)
    }

    async fn fetch_opt(&self, name: &Name, expect: Option<Kind>) -> Result<Option<(Kind, Bytes)>> {
        let path = object_path(name);
        let packs = self.packs_of(name);
        // A member repacked by a deletion is in a newer pack too, and its old pack may be
        // gone: try each.
        for pack in packs.iter().rev() {
            let Some(members) = self.pack_members(pack).await? else {
                continue;
            };
            let framed = members.get(name).ok_or_else(|| {
                Error::integrity(object_path(pack).to_string(), format!("pack does not hold the member {name}"))
            })?;
            return pack::member(path.as_ref(), framed, expect).map(Some);
        }
        if !packs.is_empty() {
            return Ok(None);
        }
        self.fetch_object_opt(name, expect).await
    }

    /// Fetches an object stored under its own name; `None` when it is not there.
    async fn fetch_object_opt(&self, name: &Name, expect: Option<Kind>) -> Result<Option<(Kind, Bytes)>> {
        let path = object_path(name);
        let Some(ciphertext) = self.backend.get(&path).await? else {
            return Ok(None);
        };
        let key = self.key.clone();
        let name = *name;
        tokio::task::spawn_blocking(move || open_object(&key, &name, &ciphertext, expect))
            .await
            .expect("decryption task does not panic")
            .map(Some)
    }
}

/// Decrypts a content-addressed object, checks framing and name, returns kind and payload.
pub fn open_object(key: &RepoKey, name: &Name, ciphertext: &[u8], expect: Option<Kind>) -> Result<(Kind, Bytes)> {
    let label = object_path(name).to_string();
    let (buf, start) = key.decrypt_framed(&label, ciphertext, HEADER_LEN)?;
    let plain = &buf[start..];
    let (kind, _) = unframe(&label, plain)?;
    if Name::from_hash(key.name(plain)) != *name {
        return Err(Error::integrity(label, "content does not match its name (tampered or swapped)"));
    }
    if let Some(expect) = expect
        && kind != expect
    {
        return Err(Error::integrity(label, format!("is a {kind:?}, expected a {expect:?}")));
    }
    Ok((kind, Bytes::from(buf).slice(start + HEADER_LEN..)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(i: u8) -> Name {
        Name::from_hash(blake3::hash(&[i]))
    }

    #[test]
    fn the_pack_map_finds_every_pack_of_a_member_and_forgets_removed_packs() {
        let (m1, m2, m3) = (name(1), name(2), name(3));
        let (p1, p2, p3) = (name(101), name(102), name(103));
        let mut map = PackMap::default();
        map.insert(&m1, &p1);
        map.insert(&m2, &p1);
        map.insert(&m3, &p2);
        // A deletion repacked m1 and m3 into p3; noting a pack twice changes nothing.
        map.insert(&m1, &p3);
        map.insert(&m3, &p3);
        map.insert(&m1, &p3);
        map.insert(&m1, &p1);
        assert_eq!(map.packs_of(&m1), vec![p1, p3]);
        assert_eq!(map.packs_of(&m2), vec![p1]);
        assert_eq!(map.packs_of(&m3), vec![p2, p3]);
        assert!(map.contains(&m2));
        assert!(!map.contains(&name(4)));

        map.forget(&[p1].into_iter().collect());
        assert_eq!(map.packs_of(&m1), vec![p3], "the newer pack is left");
        assert!(!map.contains(&m2), "a member of only removed packs is forgotten");
        assert_eq!(map.packs_of(&m3), vec![p2, p3]);
        map.forget(&[p3, name(200)].into_iter().collect());
        assert!(!map.contains(&m1));
        assert_eq!(map.packs_of(&m3), vec![p2]);
        // A removed pack noted again is known again.
        map.insert(&m2, &p1);
        assert_eq!(map.packs_of(&m2), vec![p1]);
    }
}
