//! The store holds only ciphertext under opaque names: after `akte demo` loads a case, no
//! Aktenzeichen, title, file name, run of document text, raw run of any fixture file, or
//! digest of one can be found anywhere in the store's bytes or object names.
//!
//! The scanner is checked against planted plaintext (positive controls), so a scanner that
//! finds nothing because it looks for nothing fails the test.

mod common;

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use common::{Rng, files_below, ok};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Raw windows of fixture files: this long, every `WINDOW` bytes (plus each file's last
/// window), so any leaked run of `2 * WINDOW - 1` = 95 bytes or more contains a whole one.
const WINDOW: usize = 48;
/// Raw windows are found by this prefix, then compared in full.
const PREFIX: usize = 8;

/// The committed demo case.
fn demo_case() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/windpark-hohe-heide"))
}

/// What must never be found, with a label for each pattern.
struct Secrets {
    /// Text patterns (names, titles, text windows, digests): label per pattern.
    text: Vec<(Vec<u8>, String)>,
    /// Raw windows of fixture files: (file, offset, bytes).
    windows: Vec<(String, usize, Vec<u8>)>,
    /// Patterns left out because they are too short to be told from chance.
    skipped_short: Vec<String>,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Long enough that a random match in ciphertext (or in base64/hex text of age headers
/// and object names) is practically impossible.
fn distinctive(p: &[u8]) -> bool {
    let opaque = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_');
    p.len() >= 8 || (p.len() >= 6 && !p.iter().all(opaque))
}

impl Secrets {
    fn new() -> Self {
        Secrets { text: Vec::new(), windows: Vec::new(), skipped_short: Vec::new() }
    }

    fn add(&mut self, s: &str, label: &str) {
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        if !distinctive(s.as_bytes()) {
            self.skipped_short.push(format!("{label}: {s:?}"));
            return;
        }
        self.text.push((s.as_bytes().to_vec(), format!("{label} {s:?}")));
        let lower = s.to_lowercase();
        if lower != s {
            self.text.push((lower.into_bytes(), format!("{label} (lower case) {s:?}")));
        }
    }

    /// Everything the case says about its Akten, Vorgänge and Dokumente.
    fn add_case(&mut self, case: &Value) {
        for p in case["aktenplan"].as_array().into_iter().flatten() {
            self.add(p["title"].as_str().unwrap_or_default(), "Aktenplan title");
        }
        let main = json!({"akte": case["akte"], "vorgaenge": case["vorgaenge"], "dokumente": case["dokumente"]});
        let more = case["weitere_akten"].as_array().cloned().unwrap_or_default();
        for bundle in std::iter::once(&main).chain(more.iter()) {
            let a = &bundle["akte"];
            self.add(a["aktenzeichen"].as_str().expect("an Akte has an Aktenzeichen"), "Aktenzeichen");
            self.add(a["title"].as_str().expect("an Akte has a title"), "Akte title");
            for v in bundle["vorgaenge"].as_array().into_iter().flatten() {
                self.add(v["title"].as_str().unwrap_or_default(), "Vorgang title");
            }
            for d in bundle["dokumente"].as_array().expect("dokumente").iter() {
                self.add(d["title"].as_str().unwrap_or_default(), "Dokument title");
                let file = d["file"].as_str().expect("a Dokument has a file");
                self.add(file, "file path");
                let name = file.rsplit('/').next().unwrap();
                self.add(name, "file name");
                if let Some((stem, _)) = name.rsplit_once('.') {
                    self.add(stem, "file stem");
                }
                for k in ["sender", "recipient"] {
                    self.add(d[k].as_str().unwrap_or_default(), k);
                }
            }
        }
    }

    /// Every 4-word window of every ground-truth text, whitespace-normalised.
    fn add_truth(&mut self, truth: &Value) {
        for (file, text) in truth.as_object().expect("truth.json is an object") {
            let words: Vec<&str> = text.as_str().unwrap_or_default().split_whitespace().collect();
            for w in words.windows(4) {
                self.add(&w.join(" "), &format!("text of {file}:"));
            }
            if words.len() < 4 && !words.is_empty() {
                self.add(&words.join(" "), &format!("text of {file}:"));
            }
        }
    }

    /// Raw windows and digests of every file below `dir`.
    fn add_files(&mut self, dir: &Path) {
        for rel in files_below(dir) {
            let bytes = std::fs::read(dir.join(&rel)).unwrap();
            for digest in [hex(&Sha256::digest(&bytes)), blake3::hash(&bytes).to_hex().to_string()] {
                self.text.push((digest.clone().into_bytes(), format!("digest of {rel}")));
                self.text.push((digest.to_uppercase().into_bytes(), format!("digest (upper case) of {rel}")));
            }
            if bytes.len() < WINDOW {
                if distinctive(&bytes) {
                    self.windows.push((rel.clone(), 0, bytes.clone()));
                }
                continue;
            }
            let mut offsets: Vec<usize> = (0..=bytes.len() - WINDOW).step_by(WINDOW).collect();
            offsets.push(bytes.len() - WINDOW);
            offsets.dedup();
            for o in offsets {
                self.windows.push((rel.clone(), o, bytes[o..o + WINDOW].to_vec()));
            }
        }
    }
}

/// One plaintext found in the store.
#[derive(Debug)]
struct Finding {
    store_path: String,
    offset: usize,
    what: String,
}

/// The automata for one set of secrets, built once.
struct Scanner<'a> {
    secrets: &'a Secrets,
    text: Vec<(Vec<u8>, String)>,
    text_ac: AhoCorasick,
    by_prefix: HashMap<&'a [u8], Vec<usize>>,
    prefixes: Vec<&'a [u8]>,
    raw_ac: AhoCorasick,
}

impl<'a> Scanner<'a> {
    fn new(secrets: &'a Secrets) -> Self {
        let mut text: BTreeMap<Vec<u8>, String> = BTreeMap::new();
        for (p, label) in &secrets.text {
            text.entry(p.clone()).or_insert_with(|| label.clone());
        }
        let text: Vec<(Vec<u8>, String)> = text.into_iter().collect();
        let text_ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(text.iter().map(|(p, _)| p))
            .expect("text automaton builds");
        let mut by_prefix: HashMap<&[u8], Vec<usize>> = HashMap::new();
        for (i, (_, _, w)) in secrets.windows.iter().enumerate() {
            by_prefix.entry(&w[..PREFIX.min(w.len())]).or_default().push(i);
        }
        let prefixes: Vec<&[u8]> = by_prefix.keys().copied().collect();
        let raw_ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&prefixes)
            .expect("window automaton builds");
        Scanner { secrets, text, text_ac, by_prefix, prefixes, raw_ac }
    }

    /// Scans every file below `store` (its bytes and its relative path) for every secret.
    fn scan(&self, store: &Path) -> Vec<Finding> {
        let mut findings = Vec::new();
        let rels = files_below(store);
        // Object names are searched too, as one text of all paths.
        self.search("<object names>", rels.join("\n").as_bytes(), &mut findings);
        for rel in rels {
            let bytes = std::fs::read(store.join(&rel)).unwrap();
            self.search(&rel, &bytes, &mut findings);
        }
        findings
    }

    fn search(&self, path: &str, hay: &[u8], findings: &mut Vec<Finding>) {
        for m in self.text_ac.find_overlapping_iter(hay) {
            let what = self.text[m.pattern().as_usize()].1.clone();
            findings.push(Finding { store_path: path.into(), offset: m.start(), what });
        }
        // Text leaked with other whitespace (line breaks, tabs, double spaces) is found in a
        // whitespace-collapsed copy.
        let collapsed = collapse_whitespace(hay);
        for m in self.text_ac.find_overlapping_iter(&collapsed) {
            let what = format!("{} (whitespace-collapsed)", self.text[m.pattern().as_usize()].1);
            findings.push(Finding { store_path: path.into(), offset: m.start(), what });
        }
        for m in self.raw_ac.find_overlapping_iter(hay) {
            for &i in &self.by_prefix[self.prefixes[m.pattern().as_usize()]] {
                let (file, off, w) = &self.secrets.windows[i];
                if hay.get(m.start()..m.start() + w.len()) == Some(w.as_slice()) {
                    let what = format!("{} raw bytes of {file} at offset {off}", w.len());
                    findings.push(Finding { store_path: path.into(), offset: m.start(), what });
                }
            }
        }
    }
}

/// Replaces every run of ASCII whitespace by one space.
fn collapse_whitespace(hay: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    for &b in hay {
        if b.is_ascii_whitespace() {
            if out.last() != Some(&b' ') {
                out.push(b' ');
            }
        } else {
            out.push(b);
        }
    }
    out
}

fn assert_clean(findings: &[Finding], what: &str) {
    if !findings.is_empty() {
        let shown: Vec<String> =
            findings.iter().take(25).map(|f| format!("  {} @ {}: {}", f.store_path, f.offset, f.what)).collect();
        panic!("{what}: {} plaintext findings in the store, e.g.:\n{}", findings.len(), shown.join("\n"));
    }
}

/// Loads `case_dir` with `akte demo`, scans the store, then checks that the scanner finds
/// plaintext planted into a copy of the store.
fn demo_leaves_only_ciphertext(case_dir: &Path) {
    let case: Value = serde_json::from_slice(&std::fs::read(case_dir.join("case.json")).unwrap_or_else(|e| {
        panic!("the demo case is missing: {} ({e}); generate it with the fixtures crate", case_dir.display())
    }))
    .expect("case.json is JSON");
    let truth: Value = serde_json::from_slice(&std::fs::read(case_dir.join("truth.json")).expect("truth.json"))
        .expect("truth.json is JSON");

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("demo");
    let t0 = Instant::now();
    let r = common::run_with_timeout(
        &data,
        &["demo", "--no-serve", "--fixtures", case_dir.to_str().unwrap()],
        Duration::from_secs(300),
    );
    assert_eq!(r.code, 0, "akte demo loads the case:\n{r}");
    let load_time = t0.elapsed();
    ok(&data, &["verify"]);
    let akten = ok(&data, &["ls", "--json"]).json();
    let expected_akten = 1 + case["weitere_akten"].as_array().map_or(0, Vec::len);
    assert_eq!(akten.as_array().unwrap().len(), expected_akten, "every Akte of the case is loaded: {akten}");
    let main = json!({"akte": case["akte"], "dokumente": case["dokumente"]});
    for bundle in std::iter::once(&main).chain(case["weitere_akten"].as_array().into_iter().flatten()) {
        let az = bundle["akte"]["aktenzeichen"].as_str().unwrap();
        let docs = ok(&data, &["ls", az, "--json"]).json();
        let want = bundle["dokumente"].as_array().unwrap().len();
        assert_eq!(docs.as_array().unwrap().len(), want, "every Dokument of {az} is loaded");
    }

    let t1 = Instant::now();
    let mut secrets = Secrets::new();
    secrets.add_case(&case);
    secrets.add_truth(&truth);
    secrets.add_files(case_dir);
    assert!(secrets.text.len() > 20 && !secrets.windows.is_empty(), "the case yields patterns");
    let store = data.join("store");
    let scanner = Scanner::new(&secrets);
    let built = t1.elapsed();
    assert_clean(&scanner.scan(&store), "after akte demo");
    eprintln!(
        "{}: demo {load_time:?}; {} text patterns, {} raw windows, {} skipped as too short {:?}; built {built:?}, scanned {:?}",
        case_dir.display(),
        secrets.text.len(),
        secrets.windows.len(),
        secrets.skipped_short.len(),
        secrets.skipped_short.iter().take(5).collect::<Vec<_>>(),
        t1.elapsed()
    );

    // Positive controls: plaintext planted into a copy of the store is found, each kind.
    let planted = tmp.path().join("planted");
    common::copy_dir(&store, &planted);
    let objects: Vec<String> = files_below(&planted).into_iter().filter(|p| p.starts_with("objects/")).collect();
    let mut rng = Rng::new(11);
    let mut expect: Vec<(String, &str, String)> = Vec::new();
    let title = case["akte"]["title"].as_str().unwrap().to_string();
    std::fs::write(planted.join("objects/zz-title"), format!("{{\"title\": \"{title}\"}}")).unwrap();
    expect.push(("objects/zz-title".to_string(), "Akte title", "a planted Akte title is found".to_string()));

    let words: Vec<&str> = truth
        .as_object()
        .unwrap()
        .values()
        .filter_map(|t| t.as_str())
        .find(|t| t.split_whitespace().count() >= 12)
        .expect("a document with at least 12 words")
        .split_whitespace()
        .take(12)
        .collect();
    std::fs::write(
        planted.join("objects/zz-text"),
        format!("xx {}\n{} yy", words[..6].join("  "), words[6..].join("\t")),
    )
    .unwrap();
    expect.push(("objects/zz-text".to_string(), "text of", "planted document text is found".to_string()));

    // 95 raw bytes of the largest fixture file, at an odd offset, inside a real object.
    let (biggest, bytes) = files_below(case_dir)
        .into_iter()
        .map(|rel| {
            let b = std::fs::read(case_dir.join(&rel)).unwrap();
            (rel, b)
        })
        .max_by_key(|(_, b)| b.len())
        .unwrap();
    let start = 1 + rng.below((bytes.len() - 200) as u64) as usize;
    let host = &objects[rng.below(objects.len() as u64) as usize];
    let mut object = std::fs::read(planted.join(host)).unwrap();
    let at = rng.below(object.len() as u64) as usize;
    object.splice(at..at, bytes[start..start + 2 * WINDOW - 1].iter().copied());
    std::fs::write(planted.join(host), object).unwrap();
    expect.push((host.to_string(), "raw bytes of", format!("95 planted raw bytes of {biggest} are found in {host}")));

    let sha = hex(&Sha256::digest(&bytes)).to_uppercase();
    std::fs::write(planted.join("objects/zz-sha"), format!("sha256:{sha}")).unwrap();
    expect.push(("objects/zz-sha".to_string(), "digest (upper case)", "a planted SHA-256 is found".to_string()));

    let file_name = case["dokumente"][0]["file"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    std::fs::create_dir_all(planted.join("objects").join(&file_name)).unwrap();
    std::fs::write(planted.join("objects").join(&file_name).join("x"), b"").unwrap();
    expect.push(("<object names>".to_string(), "file name", "a file name used as an object name is found".to_string()));

    let findings = scanner.scan(&planted);
    for (path, what, message) in expect {
        assert!(findings.iter().any(|f| f.store_path == path && f.what.contains(what)), "positive control: {message}");
    }
}

#[test]
fn demo_case_leaves_only_ciphertext_in_the_store() {
    demo_leaves_only_ciphertext(&demo_case());
}

/// The same check on a small case made here, so that the scanner and the demo loader are
/// exercised whatever the committed case holds.
#[test]
fn small_generated_case_leaves_only_ciphertext_in_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("case");
    let mut rng = Rng::new(2026);
    let texts = [
        (
            "01-antrag/antrag-genehmigung.txt",
            "Antrag auf Genehmigung nach § 4 BImSchG für die Errichtung und den Betrieb von fünf Windenergieanlagen am Standort Hohe Heide.",
        ),
        (
            "02-beteiligung/stellungnahme-naturschutz.txt",
            "Die Untere Naturschutzbehörde erhebt Bedenken wegen des Rotmilan-Brutplatzes nordöstlich der geplanten Anlage WEA 3.",
        ),
    ];
    let mut truth = serde_json::Map::new();
    for (file, text) in texts {
        std::fs::create_dir_all(dir.join(file).parent().unwrap()).unwrap();
        std::fs::write(dir.join(file), format!("{text}\n")).unwrap();
        truth.insert(file.into(), json!(text));
    }
    // A binary "scan" of a few MiB (several chunks) and a tiny file.
    std::fs::write(dir.join("02-beteiligung/lageplan-scan.png"), rng.bytes((5 << 20) + 77)).unwrap();
    std::fs::write(dir.join("02-beteiligung/vermerk.txt"), "Vermerk: Ortstermin am 12.03.2026.\n").unwrap();
    truth.insert("02-beteiligung/lageplan-scan.png".into(), json!(""));
    truth.insert("02-beteiligung/vermerk.txt".into(), json!("Vermerk: Ortstermin am 12.03.2026."));
    let dok = |file: &str, title: &str, typ: &str| {
        json!({"file": file, "vorgang": file.split('/').next().unwrap(), "title": title, "document_type": typ,
               "received": "2026-03-02", "sender": "Windkraft Hohe Heide GmbH & Co. KG", "recipient": "Landkreis Heideland, Immissionsschutz"})
    };
    let case = json!({
        "aktenplan": [
            {"code": "6", "title": "Umwelt"},
            {"code": "61", "title": "Immissionsschutz", "parent": "6"},
            {"code": "61.2", "title": "Genehmigungen nach BImSchG", "parent": "61"}
        ],
        "akte": {"aktenzeichen": "61.2-4711/2026", "title": "Windpark Hohe Heide, fünf WEA", "aktenplan": "61.2", "retention_years": 30},
        "vorgaenge": [
            {"key": "01-antrag", "title": "Antragsunterlagen der Vorhabenträgerin"},
            {"key": "02-beteiligung", "title": "Beteiligung Träger öffentlicher Belange"}
        ],
        "dokumente": [
            dok("01-antrag/antrag-genehmigung.txt", "Antrag auf immissionsschutzrechtliche Genehmigung", "Antrag"),
            dok("02-beteiligung/stellungnahme-naturschutz.txt", "Stellungnahme Untere Naturschutzbehörde", "Stellungnahme"),
            dok("02-beteiligung/lageplan-scan.png", "Lageplan mit Abstandsflächen", "Plan"),
            dok("02-beteiligung/vermerk.txt", "Vermerk zum Ortstermin", "Vermerk")
        ],
        "weitere_akten": []
    });
    std::fs::write(dir.join("case.json"), serde_json::to_vec_pretty(&case).unwrap()).unwrap();
    std::fs::write(dir.join("truth.json"), serde_json::to_vec_pretty(&Value::Object(truth)).unwrap()).unwrap();
    demo_leaves_only_ciphertext(&dir);
}

/// Object names are keyed per repository: the same document in two repositories shares no
/// object name (a provider cannot test whether a known document is present), while inside
/// one repository identical content is stored once.
#[test]
fn object_names_are_keyed_per_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = common::write_file(tmp.path(), "gutachten.pdf", &Rng::new(4).bytes((5 << 20) + 3));
    let names = |data: &Path| -> Vec<String> {
        files_below(&data.join("store")).into_iter().filter(|p| p.starts_with("objects/")).collect()
    };
    let mut all = Vec::new();
    for n in ["eins", "zwei"] {
        let data = common::init_repo(tmp.path(), n);
        common::create(&data, "61.2-0001/2026", "Gleiches Dokument");
        common::add(&data, "61.2-0001/2026", std::slice::from_ref(&doc));
        all.push(names(&data));
    }
    let shared: Vec<&String> = all[0].iter().filter(|n| all[1].contains(n)).collect();
    assert!(shared.is_empty(), "two repositories share object names for the same content: {shared:?}");

    let data = tmp.path().join("eins");
    let before = names(&data);
    let again = common::write_file(tmp.path(), "kopie.pdf", &std::fs::read(&doc).unwrap());
    common::add(&data, "61.2-0001/2026", &[again]);
    let after = names(&data);
    let new: Vec<&String> = after.iter().filter(|n| !before.contains(n)).collect();
    // Only records are new (Dokument, Version): no chunk and no manifest is stored twice.
    assert!(new.len() <= 2, "identical content is stored once; new objects: {new:?}");
    let new_bytes: u64 = new.iter().map(|n| std::fs::metadata(data.join("store").join(n)).unwrap().len()).sum();
    assert!(new_bytes < 64 << 10, "the second copy added {new_bytes} bytes");
}
