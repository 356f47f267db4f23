//! `akte verify`: decrypt every object, re-derive every name, walk every journal chain,
//! check every reference and every head this node or any other has recorded.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::StreamExt;
use serde::Serialize;

use crate::{
    Repository, Result,
    content::Manifest,
    journal::{self, Head, NodeId, Op, entry_path, parse_entry_path},
    object::{Kind, Name, object_path, open_object},
    pack::{self, PackRef},
    repo::KEY_FILE,
};

/// One bad object.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// The object name as stored (or expected).
    pub object: String,
    /// What is wrong, in one sentence.
    pub problem: String,
}

/// The result of a verification.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Objects read and checked.
    pub objects: usize,
    /// Bytes read.
    pub bytes: u64,
    /// Journal entries checked.
    pub entries: usize,
    /// Journal streams.
    pub streams: usize,
    /// Valid objects nothing refers to (left by interrupted writes; harmless).
    pub unreferenced: usize,
    /// Everything that is wrong.
    pub problems: Vec<Problem>,
}

impl Report {
    /// True when nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn bad(&mut self, object: impl Into<String>, problem: impl Into<String>) {
        self.problems.push(Problem { object: object.into(), problem: problem.into() });
    }
}

/// Verifies the whole repository. `progress(done, total)` counts objects.
pub async fn verify(repo: &Repository, progress: impl Fn(u64, u64)) -> Result<Report> {
    let backend = repo.backend();
    let key = repo.key();
    let listing = backend.list(None).await?;
    let total = listing.len() as u64;
    let mut report = Report::default();
    let mut objects = Vec::new();
    let mut entries: BTreeMap<NodeId, Vec<u64>> = BTreeMap::new();
    for meta in &listing {
        let p = meta.location.as_ref();
        if p == KEY_FILE {
            continue;
        }
        if let Some((node, seq)) = parse_entry_path(p) {
            entries.entry(node).or_default().push(seq);
            continue;
        }
        let written = p.strip_prefix("objects/").and_then(|r| r.split_once('/'));
        match written.filter(|(hh, name)| hh.len() == 2 && name.starts_with(hh)).and_then(|(_, n)| Name::parse(n)) {
            Some(name) => objects.push(name),
            None => report.bad(p, "is not a name Akte writes (planted or misplaced object)"),
        }
    }

    // Content-addressed objects: decrypt, check name, remember kind and chunk references.
    let mut kinds: HashMap<Name, Kind> = HashMap::with_capacity(objects.len());
    let mut chunk_refs: Vec<(Name, Name)> = Vec::new();
    // Pack name → the members found in it.
    let mut in_pack: HashMap<Name, HashSet<Name>> = HashMap::new();
    let mut done = 0u64;
    let mut checks = futures::stream::iter(objects.into_iter().map(|name| async move {
        let path = object_path(&name);
        let res = match backend.get(&path).await {
            Ok(Some(bytes)) => {
                let len = bytes.len() as u64;
                let key = key;
                let r = open_object(key, &name, &bytes, None).and_then(|(kind, payload)| {
                    let label = path.to_string();
                    let mut found = vec![(name, kind, manifest_chunks(&label, kind, &payload)?)];
                    if kind == Kind::Pack {
                        // Each member is checked like an object of its own.
                        for (member, framed) in pack::decode(key, &label, &payload)? {
                            let (kind, payload) = pack::member(&label, &framed, None)?;
                            let chunks = manifest_chunks(&label, kind, &payload)?;
                            found.push((member, kind, chunks));
                        }
                    }
                    Ok(found)
                });
                (len, r)
            }
            Ok(None) => (0, Err(crate::Error::integrity(path.to_string(), "vanished while verifying"))),
            Err(e) => (0, Err(e)),
        };
        (name, res)
    }))
    .buffer_unordered(4);
    while let Some((name, (len, res))) = checks.next().await {
        done += 1;
        progress(done, total);
        report.objects += 1;
        report.bytes += len;
        match res {
            Ok(found) => {
                for (member, kind, chunks) in found {
                    for c in chunks {
                        chunk_refs.push((c, member));
                    }
                    if member != name {
                        in_pack.entry(name).or_default().insert(member);
                    }
                    kinds.insert(member, kind);
                }
            }
            Err(crate::Error::Integrity { object, reason }) => report.bad(object, reason),
            Err(e) => report.bad(object_path(&name).to_string(), e.to_string()),
        }
    }
    drop(checks);

    // Journal streams: contiguous from 1, each entry authentic and chained.
    // (name, kinds it may be, referenced by, whether a deletion excuses its absence).
    let mut refs: Vec<(Name, &[Kind], String, bool)> = Vec::new();
    let state = &repo.catalog().state;
    let void = |id: &uuid::Uuid| state.erased.contains_key(id);
    let mut macs: HashMap<(NodeId, u64), String> = HashMap::new();
    let mut claims: Vec<(String, NodeId, Head)> = Vec::new();
    let mut member_of: HashMap<Name, Name> = HashMap::new();
    let mut packs_listed: Vec<(PackRef, String)> = Vec::new();
    report.streams = entries.len();
    for (node, mut seqs) in entries {
        seqs.sort_unstable();
        let mut prev: Option<String> = None;
        let mut expect = 1u64;
        for seq in seqs {
            while expect < seq {
                report.bad(entry_path(&node, expect).to_string(), "journal entry is missing (stream has a gap)");
                prev = None;
                expect += 1;
            }
            expect = seq + 1;
            let path = entry_path(&node, seq);
            done += 1;
            progress(done, total);
            let Some(bytes) = backend.get(&path).await? else {
                report.bad(path.to_string(), "vanished while verifying");
                continue;
            };
            report.bytes += bytes.len() as u64;
            report.entries += 1;
            match journal::open(key, &node, seq, &bytes) {
                Ok((entry, mac)) => {
                    if seq > 1 && prev.is_some() && entry.prev != prev {
                        report.bad(path.to_string(), "does not chain to its predecessor");
                    }
                    if entry.repository != repo.repository_id() {
                        report.bad(path.to_string(), "belongs to another repository");
                    }
                    for p in &entry.packs {
                        // Its reference is added below, once it is known whether a live
                        // reference needs a member (a deletion may have removed the pack
                        // after moving its live members on).
                        for m in &p.members {
                            member_of.insert(*m, p.pack);
                        }
                        packs_listed.push((p.clone(), path.to_string()));
                    }
                    for op in &entry.ops {
                        let erased = match op {
                            Op::Create { id, .. } | Op::Update { id, .. } => void(id),
                            Op::Derive { content, .. } => !state.derived.contains_key(content),
                            Op::Delete { .. } | Op::Read { .. } => false,
                        };
                        if let Some(record) = op.record() {
                            refs.push((*record, &[Kind::Record], path.to_string(), erased));
                        }
                        match op {
                            Op::Create { content: Some(c), .. } => {
                                refs.push((*c, &[Kind::Manifest, Kind::Chunk], path.to_string(), erased));
                            }
                            Op::Derive { content, result, .. } => {
                                let at = path.to_string();
                                refs.push((*content, &[Kind::Manifest, Kind::Chunk], at.clone(), erased));
                                refs.push((*result, &[Kind::Manifest, Kind::Chunk], at, erased));
                            }
                            _ => {}
                        }
                    }
                    for (other, head) in entry.seen {
                        claims.push((path.to_string(), other, head));
                    }
                    macs.insert((node.clone(), seq), mac.clone());
                    prev = Some(mac);
                }
                Err(e) => {
                    report.bad(path.to_string(), reason(e));
                    prev = None;
                }
            }
        }
    }

    // Heads: what this node has seen, and what every entry says its node had seen.
    for (node, head) in &repo.node_dir().heads.streams {
        check_head(&mut report, &macs, node, head, "this node");
    }
    for (by, node, head) in claims {
        check_head(&mut report, &macs, &node, &head, &by);
    }

    // References.
    let mut referenced: HashSet<Name> = HashSet::new();
    // Every member an entry lists must be in the pack it names.
    for (p, by) in &packs_listed {
        if let Some(found) = in_pack.get(&p.pack)
            && let Some(m) = p.members.iter().find(|m| !found.contains(*m))
        {
            report.bad(object_path(&p.pack).to_string(), format!("does not hold the member {m} that {by} lists"));
        }
    }
    // A manifest that only deleted objects use may outlive its chunks for as long as an
    // erasure is interrupted.
    let needed: HashSet<Name> = refs.iter().filter(|r| !r.3).map(|r| r.0).collect();
    // Packs first, so that a missing pack is named rather than each of its members.
    let refs: Vec<(Name, &[Kind], String, bool)> = packs_listed
        .iter()
        .map(|(p, by)| {
            let excused = !p.members.iter().any(|m| needed.contains(m) && !in_other_pack(&in_pack, &p.pack, m));
            (p.pack, &[Kind::Pack][..], by.clone(), excused)
        })
        .chain(refs)
        .collect();
    for (name, want, by, excused) in refs
        .iter()
        .map(|(n, k, b, e)| (n, *k, b.clone(), *e))
        .chain(chunk_refs.iter().map(|(n, b)| (n, &[Kind::Chunk][..], b.to_string(), !needed.contains(b))))
    {
        referenced.insert(*name);
        match kinds.get(name) {
            Some(k) if want.contains(k) => {}
            Some(k) => {
                report.bad(object_path(name).to_string(), format!("is a {k:?} but {by} refers to it as {want:?}"))
            }
            None if excused => {}
            None => {
                // A member of a pack that is itself bad or missing is reported as the pack.
                let at = member_of.get(name).map(object_path).unwrap_or_else(|| object_path(name));
                if !report.problems.iter().any(|p| p.object == at.to_string()) {
                    report.bad(object_path(name).to_string(), format!("is missing (referenced by {by})"));
                }
            }
        }
    }
    report.unreferenced = kinds.keys().filter(|k| !referenced.contains(*k)).count();
    report.problems.sort_by(|a, b| a.object.cmp(&b.object));
    report.problems.dedup();
    Ok(report)
}

/// Whether a member is found in a pack other than `pack` (a deletion repacked it).
fn in_other_pack(in_pack: &HashMap<Name, HashSet<Name>>, pack: &Name, member: &Name) -> bool {
    in_pack.iter().any(|(p, members)| p != pack && members.contains(member))
}

/// The chunk names of a manifest; nothing for other kinds.
fn manifest_chunks(label: &str, kind: Kind, payload: &[u8]) -> Result<Vec<Name>> {
    if kind != Kind::Manifest {
        return Ok(Vec::new());
    }
    let m: Manifest = serde_json::from_slice(payload)
        .map_err(|e| crate::Error::integrity(label, format!("manifest is not readable: {e}")))?;
    Ok(m.chunks)
}

fn reason(e: crate::Error) -> String {
    match e {
        crate::Error::Integrity { reason, .. } => reason,
        e => e.to_string(),
    }
}

fn check_head(report: &mut Report, macs: &HashMap<(NodeId, u64), String>, node: &str, head: &Head, by: &str) {
    if head.seq == 0 {
        return;
    }
    let path = entry_path(node, head.seq).to_string();
    match macs.get(&(node.to_string(), head.seq)) {
        None => report.bad(path, format!("is missing, but {by} has seen it (journal rolled back or truncated)")),
        Some(mac) if *mac != head.mac => report.bad(path, format!("differs from the entry {by} has seen (rewritten)")),
        Some(_) => {}
    }
}
