//! BagIt (RFC 8493): one bag per export, every selected Akte a directory of the payload.
//!
//! ```text
//! bagit.txt                 BagIt-Version: 1.0, UTF-8
//! bag-info.txt              source, date, repository id, Payload-Oxum, counts
//! manifest-sha256.txt       every payload file
//! manifest-sha512.txt       every payload file
//! tagmanifest-sha256.txt    bagit.txt, bag-info.txt and both manifests
//! tagmanifest-sha512.txt
//! data/<Aktenzeichen>/akte.json, …   one Akte directory each (see `meta`)
//! ```

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::Path,
};

use akte_store::Repository;
use uuid::Uuid;

use crate::{
    AkteReport, Error, Format, Report, Result,
    files::{
        Algs, Digests, Entry, Staging, check_package_dir, digest_bytes, hash_file, read_limited, walk, write_new,
        write_stream,
    },
    import::{ContentFile, Expect, Gate, Held, Incoming, Shared, Ungated, commit_all},
    meta::{self, History, META_LIMIT},
    names::{Siblings, bagit_decode, bagit_encode, join, safe_component, split_relative},
    provenance::Provenance,
    select_akten,
};

/// The BagIt version we write (and the versions we read).
const BAGIT_TXT: &str = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
/// The largest tag file (manifest, bag-info) an import reads.
const TAG_LIMIT: u64 = 256 << 20;
/// The algorithms we write and read, in manifest order.
const ALGORITHMS: [&str; 2] = ["sha256", "sha512"];

/// What `bag-info.txt` says about the sender.
#[derive(Clone, Debug)]
pub struct BagInfo {
    /// `Source-Organization`: the agency that hands the Akten over.
    pub source_organization: String,
    /// `Contact-Name`, if given.
    pub contact_name: Option<String>,
    /// `Contact-Email`, if given.
    pub contact_email: Option<String>,
    /// `External-Description`, if given.
    pub description: Option<String>,
}

impl Default for BagInfo {
    fn default() -> Self {
        BagInfo { source_organization: "Akte".into(), contact_name: None, contact_email: None, description: None }
    }
}

/// A bag-info value on one line.
fn one_line(value: &str) -> String {
    value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

fn digest_of(d: &Digests, alg: &str) -> String {
    match alg {
        "sha256" => d.sha256.clone(),
        _ => d.sha512.clone(),
    }
    .unwrap_or_default()
}

/// Writes one manifest (`files` sorted by path) and returns its bytes.
fn manifest_text(files: &[(String, Digests)], alg: &str) -> Vec<u8> {
    let mut out = String::new();
    for (path, d) in files {
        out.push_str(&format!("{}  {}\n", digest_of(d, alg), bagit_encode(path)));
    }
    out.into_bytes()
}

/// Exports Akten as one bag in `out_dir` (which must not exist or be empty); with no
/// Akten given, all of them. Uses a default `bag-info.txt` (see [`export_bagit_with`]).
pub async fn export_bagit(repo: &Repository, akten: &[Uuid], out_dir: &Path) -> Result<Report> {
    export_bagit_with(repo, akten, out_dir, &BagInfo::default()).await
}

/// Exports Akten as one bag, with the sender named in `bag-info.txt`. The bag is built
/// beside `out_dir` and moved there when complete.
pub async fn export_bagit_with(repo: &Repository, akten: &[Uuid], out_dir: &Path, info: &BagInfo) -> Result<Report> {
    let catalog = repo.catalog();
    let ids = select_akten(catalog, akten)?;
    let staging = Staging::new(out_dir)?;
    let bag = staging.dir.clone();
    let mut report = Report { format: Format::Bagit, path: out_dir.to_path_buf(), ..Default::default() };
    let mut payload: Vec<(String, Digests)> = Vec::new();
    let mut akte_dirs = Siblings::new(&[]);
    for id in ids {
        let akte = catalog.get(&id).ok_or_else(|| Error::Usage(format!("There is no Akte {id}")))?;
        let az = akte.text("aktenzeichen").unwrap_or_default().to_string();
        let dir = format!("data/{}/", akte_dirs.claim(&safe_component(&az)));
        let provenance = Provenance::load(repo, catalog, id).await?;
        let history = History::new(catalog, provenance.as_ref().map(|p| &p.history), id);
        let layout = meta::layout(&catalog.state, id)?;
        let mut files = BTreeMap::new();
        for f in &layout.files {
            let rel = format!("{dir}{}", f.path);
            let abs = join(&bag, &rel)?;
            let digests = if f.content {
                let (version, stream) = repo.content(&f.id).await?;
                let d = write_stream(&abs, stream, Algs::BOTH).await?;
                check_recorded(&version, &d)?;
                report.files += 1;
                report.bytes += d.size;
                d
            } else {
                let bytes = meta::object_json(&catalog.state, &catalog.state, &history, &layout, f.id)?;
                write_new(&abs, &bytes)?;
                digest_bytes(&bytes, Algs::BOTH)
            };
            files.insert(f.id, f.path.clone());
            payload.push((rel, digests));
        }
        report.vorgaenge += layout.vorgaenge;
        report.dokumente += layout.dokumente;
        report.versionen += layout.versionen;
        report.akten.push(AkteReport {
            id,
            aktenzeichen: az,
            path: dir.trim_end_matches('/').to_string(),
            ocfl_versions: None,
            files,
        });
    }
    payload.sort_by(|a, b| a.0.cmp(&b.0));

    let mut tags: Vec<(String, Vec<u8>)> = vec![("bagit.txt".into(), BAGIT_TXT.as_bytes().to_vec())];
    tags.push(("bag-info.txt".into(), bag_info(repo, info, &report, &payload).into_bytes()));
    for alg in ALGORITHMS {
        tags.push((format!("manifest-{alg}.txt"), manifest_text(&payload, alg)));
    }
    let mut tag_digests = Vec::new();
    for (name, bytes) in &tags {
        write_new(&bag.join(name), bytes)?;
        tag_digests.push((name.clone(), digest_bytes(bytes, Algs::BOTH)));
    }
    tag_digests.sort_by(|a, b| a.0.cmp(&b.0));
    for alg in ALGORITHMS {
        write_new(&bag.join(format!("tagmanifest-{alg}.txt")), &manifest_text(&tag_digests, alg))?;
    }
    staging.finish()?;
    Ok(report)
}

/// A version's content must be what its fields say it is.
fn check_recorded(version: &akte_store::catalog::Obj, d: &Digests) -> Result<()> {
    let sha256 = version.text("sha256");
    let size = version.fields.get("size").and_then(serde_json::Value::as_u64);
    if sha256.is_some_and(|s| Some(s) != d.sha256.as_deref()) || size.is_some_and(|s| s != d.size) {
        return Err(Error::Store(akte_store::Error::integrity(
            version.id.to_string(),
            "the content read differs from the size or SHA-256 the version records",
        )));
    }
    Ok(())
}

fn bag_info(repo: &Repository, info: &BagInfo, report: &Report, payload: &[(String, Digests)]) -> String {
    let today = time::OffsetDateTime::now_utc().date();
    let octets: u64 = payload.iter().map(|(_, d)| d.size).sum();
    let mut lines = vec![("Source-Organization", one_line(&info.source_organization))];
    for (label, value) in [
        ("Contact-Name", &info.contact_name),
        ("Contact-Email", &info.contact_email),
        ("External-Description", &info.description),
    ] {
        if let Some(v) = value {
            lines.push((label, one_line(v)));
        }
    }
    lines.extend([
        ("Bagging-Date", format!("{:04}-{:02}-{:02}", today.year(), u8::from(today.month()), today.day())),
        ("External-Identifier", format!("urn:uuid:{}", repo.repository_id())),
        ("Bag-Software-Agent", format!("akte-exchange {}", env!("CARGO_PKG_VERSION"))),
        ("Payload-Oxum", format!("{octets}.{}", payload.len())),
        ("Bag-Count", "1 of 1".into()),
        ("Akte-Count-Akten", report.akten.len().to_string()),
        ("Akte-Count-Vorgaenge", report.vorgaenge.to_string()),
        ("Akte-Count-Dokumente", report.dokumente.to_string()),
        ("Akte-Count-Versionen", report.versionen.to_string()),
    ]);
    for a in &report.akten {
        lines.push(("Akte-Aktenzeichen", one_line(&a.aktenzeichen)));
    }
    lines.into_iter().map(|(l, v)| format!("{l}: {v}\n")).collect()
}

/// Parses a (tag) manifest: path → lowercase hex digest.
fn parse_manifest(bytes: &[u8], name: &str, alg: &str) -> Result<BTreeMap<String, String>> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::invalid(name, "is not UTF-8"))?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let hex_len = if alg == "sha256" { 64 } else { 128 };
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let (digest, path) = line
            .split_once([' ', '\t'])
            .ok_or_else(|| Error::invalid(name, format!("line {} is not `digest path`", n + 1)))?;
        let path = bagit_decode(path.trim_start_matches([' ', '\t']));
        if digest.len() != hex_len || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid(name, format!("line {} has no {alg} digest", n + 1)));
        }
        split_relative(&path)?;
        if out.insert(path.clone(), digest.to_ascii_lowercase()).is_some() {
            return Err(Error::invalid(name, format!("lists {path} twice")));
        }
    }
    Ok(out)
}

/// The labels of `bag-info.txt` (continuation lines joined).
fn parse_bag_info(bytes: &[u8]) -> Result<Vec<(String, String)>> {
    let text = std::str::from_utf8(bytes).map_err(|_| Error::invalid("bag-info.txt", "is not UTF-8"))?;
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let (label, value) =
            line.split_once(':').ok_or_else(|| Error::invalid("bag-info.txt", format!("{line:?} has no label")))?;
        out.push((label.trim().to_string(), value.trim().to_string()));
    }
    Ok(out)
}

/// Checks the file's digests against every manifest that lists it.
fn check_digests(path: &str, d: &Digests, manifests: &BTreeMap<String, BTreeMap<String, String>>) -> Result<()> {
    for (alg, m) in manifests {
        let stated = m.get(path).ok_or_else(|| Error::integrity(path, format!("is not in manifest-{alg}.txt")))?;
        let actual = digest_of(d, alg);
        if *stated != actual {
            return Err(Error::integrity(path, format!("its {alg} is {actual}, but the manifest says {stated}")));
        }
    }
    Ok(())
}

fn algs_for(manifests: &BTreeMap<String, BTreeMap<String, String>>) -> Algs {
    Algs { sha256: manifests.contains_key("sha256"), sha512: manifests.contains_key("sha512") }
}

/// Imports a bag made by [`export_bagit`]: checks the whole bag first (every manifest
/// digest, no missing or extra payload file, no path leaving the bag, no symbolic link,
/// valid metadata, new Aktenzeichen and ids), then stores the contents and commits all
/// Akten as one journal entry. On any error nothing becomes visible.
pub async fn import_bagit(repo: &mut Repository, bag_dir: &Path) -> Result<Report> {
    import_bagit_gated(&Held::new(repo), bag_dir, &Ungated).await
}

/// [`import_bagit`], asking `gate` about every file before anything is stored.
pub async fn import_bagit_gated(repo: &dyn Shared, bag_dir: &Path, gate: &dyn Gate) -> Result<Report> {
    check_package_dir(bag_dir)?;
    let entries = walk(bag_dir, "")?;
    let bagit = read_limited(&bag_dir.join("bagit.txt"), "bagit.txt", 4096)?;
    let bagit = String::from_utf8(bagit).map_err(|_| Error::invalid("bagit.txt", "is not UTF-8"))?;
    let declared: HashMap<&str, &str> =
        bagit.lines().filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim(), v.trim())).collect();
    if !matches!(declared.get("BagIt-Version"), Some(&("1.0" | "0.97"))) {
        return Err(Error::invalid("bagit.txt", "does not declare BagIt-Version 1.0 (or 0.97)"));
    }
    if declared.get("Tag-File-Character-Encoding").is_none_or(|e| !e.eq_ignore_ascii_case("UTF-8")) {
        return Err(Error::invalid("bagit.txt", "declares a tag file encoding other than UTF-8"));
    }
    if entries.iter().any(|(p, _)| p == "fetch.txt") {
        return Err(Error::invalid("fetch.txt", "names files to fetch; only complete bags are imported"));
    }

    // Manifests: every one we know is read; one we cannot check refuses the bag.
    let mut manifests: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut tag_manifests: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (path, kind) in &entries {
        if *kind != Entry::File || path.contains('/') {
            continue;
        }
        let (target, alg) = if let Some(a) = path.strip_prefix("tagmanifest-").and_then(|r| r.strip_suffix(".txt")) {
            (&mut tag_manifests, a)
        } else if let Some(a) = path.strip_prefix("manifest-").and_then(|r| r.strip_suffix(".txt")) {
            (&mut manifests, a)
        } else {
            continue;
        };
        if !ALGORITHMS.contains(&alg) {
            return Err(Error::invalid(path, format!("uses {alg}; this build checks sha256 and sha512 only")));
        }
        let bytes = read_limited(&bag_dir.join(path), path, TAG_LIMIT)?;
        target.insert(alg.to_string(), parse_manifest(&bytes, path, alg)?);
    }
    if manifests.is_empty() {
        return Err(Error::invalid("", "the bag has no manifest-sha256.txt or manifest-sha512.txt"));
    }

    // Tag files first: they are small and cheap to check.
    let on_disk: BTreeSet<&str> = entries.iter().filter(|(_, k)| *k == Entry::File).map(|(p, _)| p.as_str()).collect();
    for (alg, m) in &tag_manifests {
        for path in m.keys() {
            if path.starts_with("data/") || path.starts_with("tagmanifest-") {
                return Err(Error::invalid(format!("tagmanifest-{alg}.txt"), format!("lists {path}, not a tag file")));
            }
            if !on_disk.contains(path.as_str()) {
                return Err(Error::integrity(path, format!("is listed in tagmanifest-{alg}.txt but missing")));
            }
            let d = hash_file(&join(bag_dir, path)?, path, algs_for(&tag_manifests)).await?;
            check_digests(path, &d, &tag_manifests)?;
        }
    }

    // Payload: exactly the files every manifest lists, no more, no fewer.
    let payload: BTreeSet<&str> = on_disk.iter().copied().filter(|p| p.starts_with("data/")).collect();
    for (alg, m) in &manifests {
        if let Some(p) = m.keys().find(|p| !p.starts_with("data/")) {
            return Err(Error::invalid(format!("manifest-{alg}.txt"), format!("lists {p}, which is outside data/")));
        }
        if let Some(p) = m.keys().find(|p| !payload.contains(p.as_str())) {
            return Err(Error::integrity(p, format!("is listed in manifest-{alg}.txt but missing from the bag")));
        }
        if let Some(p) = payload.iter().find(|p| !m.contains_key(**p)) {
            return Err(Error::integrity(*p, format!("is in the payload but not in manifest-{alg}.txt")));
        }
    }
    let info = match on_disk.contains("bag-info.txt") {
        true => parse_bag_info(&read_limited(&bag_dir.join("bag-info.txt"), "bag-info.txt", TAG_LIMIT)?)?,
        false => Vec::new(),
    };
    if let Some((_, oxum)) = info.iter().find(|(l, _)| l.eq_ignore_ascii_case("Payload-Oxum")) {
        let mut octets = 0;
        for p in &payload {
            let m = std::fs::symlink_metadata(join(bag_dir, p)?).map_err(|e| Error::io(bag_dir.join(p), e))?;
            octets += m.len();
        }
        if *oxum != format!("{octets}.{}", payload.len()) {
            return Err(Error::integrity(
                "bag-info.txt",
                format!("Payload-Oxum says {oxum}, but the payload has {octets}.{}", payload.len()),
            ));
        }
    }
    let source = info.iter().find(|(l, _)| l.eq_ignore_ascii_case("External-Identifier")).map(|(_, v)| v.clone());

    // One Akte per directory below data/.
    let mut akten: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for p in &payload {
        let rest = &p["data/".len()..];
        let (dir, rel) =
            rest.split_once('/').ok_or_else(|| Error::invalid(*p, "lies directly in data/, outside any Akte"))?;
        akten.entry(dir).or_default().insert(rel.to_string());
    }
    if akten.is_empty() {
        return Err(Error::invalid("data", "holds no Akte"));
    }
    let algs = algs_for(&manifests);
    let mut incoming = Vec::new();
    for (dir, rels) in akten {
        let prefix = format!("data/{dir}/");
        let parsed = meta::parse(
            &rels,
            |rel| {
                let shown = format!("{prefix}{rel}");
                let bytes = read_limited(&join(bag_dir, &shown)?, &shown, META_LIMIT)?;
                check_digests(&shown, &digest_bytes(&bytes, algs), &manifests)?;
                Ok(bytes)
            },
            &prefix,
        )?;
        let mut contents = HashMap::new();
        for obj in &parsed.objects {
            let Some(rel) = &obj.file else { continue };
            let shown = format!("{prefix}{rel}");
            let expect = Expect {
                sha256: manifests.get("sha256").and_then(|m| m.get(&shown)).cloned(),
                sha512: manifests.get("sha512").and_then(|m| m.get(&shown)).cloned(),
            };
            contents.insert(obj.id, ContentFile { path: join(bag_dir, &shown)?, shown, expect });
        }
        let provenance = Provenance {
            v: crate::provenance::PROVENANCE_VERSION,
            format: "bagit".into(),
            source: source.clone(),
            ..Default::default()
        };
        incoming.push(Incoming { parsed, contents, provenance, path: prefix });
    }
    commit_all(repo, incoming, Format::Bagit, bag_dir.to_path_buf(), gate).await
}
