//! The CLI contract, end to end through the real binary: the `--json` shapes, errors as
//! one sentence with exit 1, operator keys, a second node on the same store, `reindex`
//! and versions.

mod common;

use std::path::{Path, PathBuf};

use common::{Rng, Run, create, init_repo, ok, public_key, run, run_in, write_file};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const AZ: &str = "61.2-0815/2026";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn is_hex64(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 36 && s.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12])
}

fn keys_of(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("a JSON object").keys().cloned().collect();
    k.sort();
    k
}

/// `akte --data D --store URL --identity ID ARGS…`: a node that joins `store` with `identity`.
fn on_node(data: &Path, store: &Path, identity: &Path, args: &[&str]) -> Run {
    let url = format!("file://{}", store.display());
    let mut all = vec!["--store", url.as_str(), "--identity", identity.to_str().unwrap()];
    all.extend_from_slice(args);
    run(data, &all)
}

/// A repository with one Akte and two documents; returns (tmp, data, [(id, bytes)]).
fn repo_with_documents() -> (tempfile::TempDir, PathBuf, Vec<(String, Vec<u8>)>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "node");
    create(&data, AZ, "Windpark Hohe Heide");
    let mut rng = Rng::new(42);
    let a = rng.bytes(5 << 20);
    let b = "Stellungnahme der Unteren Naturschutzbehörde\n".as_bytes().to_vec();
    let rows = common::add(
        &data,
        AZ,
        &[write_file(tmp.path(), "gutachten.pdf", &a), write_file(tmp.path(), "stellungnahme.txt", &b)],
    );
    let docs = vec![(rows[0]["id"].as_str().unwrap().to_string(), a), (rows[1]["id"].as_str().unwrap().to_string(), b)];
    (tmp, data, docs)
}

#[test]
fn json_shapes_of_create_add_and_ls() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "node");

    let c = ok(&data, &["create", "--aktenzeichen", AZ, "--title", "Windpark Hohe Heide", "--json"]).json();
    assert_eq!(keys_of(&c), ["id"], "create --json is {{\"id\": …}}: {c}");
    assert!(is_uuid(&c["id"]), "{c}");
    let akte_id = c["id"].as_str().unwrap().to_string();
    // Without --json: just the id, for scripts.
    let plain = ok(&data, &["create", "--aktenzeichen", "61.2-0816/2026", "--title", "Zweite"]).out();
    assert!(is_uuid(&Value::String(plain.trim().to_string())), "create prints the id: {plain:?}");

    let mut rng = Rng::new(1);
    let files: Vec<(PathBuf, Vec<u8>)> = [("antrag.pdf", 6_000_000usize), ("leer.txt", 0), ("brief.eml", 1234)]
        .into_iter()
        .map(|(name, n)| {
            let bytes = rng.bytes(n);
            (write_file(tmp.path(), name, &bytes), bytes)
        })
        .collect();
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    // Added by Aktenzeichen once, by id once.
    let mut rows = common::add(&data, AZ, &paths[..2]);
    rows.extend(common::add(&data, &akte_id, &paths[2..]));
    assert_eq!(rows.len(), 3);
    for (row, (path, bytes)) in rows.iter().zip(&files) {
        assert_eq!(keys_of(row), ["blake3", "file", "id", "sha256", "size"], "add --json row: {row}");
        assert!(is_uuid(&row["id"]), "{row}");
        assert_eq!(row["file"].as_str(), path.to_str(), "{row}");
        assert_eq!(row["size"].as_u64(), Some(bytes.len() as u64), "{row}");
        assert!(is_hex64(&row["blake3"]), "{row}");
        assert_eq!(row["sha256"].as_str(), Some(hex(&Sha256::digest(bytes)).as_str()), "{row}");
        assert_eq!(common::get(&data, row["id"].as_str().unwrap()), *bytes);
    }
    assert_ne!(rows[0]["blake3"], rows[1]["blake3"]);

    let akten = ok(&data, &["ls", "--json"]).json();
    let akten = akten.as_array().expect("ls --json is an array");
    assert_eq!(akten.len(), 2);
    let a = akten.iter().find(|a| a["id"] == akte_id.as_str()).expect("the Akte is listed");
    assert_eq!(a["aktenzeichen"], AZ);
    assert_eq!(a["title"], "Windpark Hohe Heide");
    assert_eq!(a["dokumente"], 3);

    for key in [AZ, akte_id.as_str()] {
        let docs = ok(&data, &["ls", key, "--json"]).json();
        let docs = docs.as_array().expect("ls AKTE --json is an array");
        assert_eq!(docs.len(), 3);
        for (row, d) in rows.iter().zip(docs) {
            assert_eq!(d["id"], row["id"], "ls lists in the order added: {d}");
            assert_eq!(d["sha256"], row["sha256"]);
            assert_eq!(d["blake3"], row["blake3"]);
            assert_eq!(d["size"], row["size"]);
            assert_eq!(d["file"].as_str(), Path::new(row["file"].as_str().unwrap()).file_name().unwrap().to_str());
            assert_eq!(d["version"], 1);
        }
    }
    // Lines for people mention the Aktenzeichen and every file.
    let human = ok(&data, &["ls", AZ]).out();
    assert!(human.contains(AZ) && human.contains("antrag.pdf") && human.contains("brief.eml"), "{human}");
}

#[test]
fn errors_are_one_sentence_and_exit_1() {
    let (tmp, data, docs) = repo_with_documents();
    let file = write_file(tmp.path(), "neu.txt", b"neu");
    let f = file.to_str().unwrap();

    let r = run(&data, &["add", "99.9-0000/1999", f]).fails_with_sentence();
    assert!(r.stderr.contains("99.9-0000/1999"), "names the unknown Akte: {}", r.stderr);
    // With --json the failure is JSON too: one object on stderr, the same sentence.
    let j = run(&data, &["add", "99.9-0000/1999", f, "--json"]);
    assert_eq!(j.code, 1, "{j}");
    assert!(j.stdout.is_empty(), "{j}");
    let error: Value = serde_json::from_str(j.stderr.trim()).unwrap_or_else(|e| panic!("{e}: {j}"));
    assert_eq!(keys_of(&error), ["error"], "{j}");
    assert_eq!(format!("akte: {}", error["error"].as_str().unwrap()), r.stderr.trim(), "the same sentence");
    run(&data, &["ls", "99.9-0000/1999"]).fails_with_sentence();
    run(&data, &["vorgang", "99.9-0000/1999", "--title", "X"]).fails_with_sentence();
    let r = run(&data, &["search", "Windpark", "--akte", ""]).fails_with_sentence();
    assert!(r.stderr.contains("none was given"), "{}", r.stderr);

    let r = run(&data, &["create", "--aktenzeichen", AZ, "--title", "Doppelt"]).fails_with_sentence();
    assert!(r.stderr.contains(AZ), "names the Aktenzeichen: {}", r.stderr);
    assert_eq!(ok(&data, &["ls", "--json"]).json().as_array().unwrap().len(), 1, "no second Akte");

    let missing = tmp.path().join("gibt-es-nicht.pdf");
    let r = run(&data, &["add", AZ, f, missing.to_str().unwrap()]).fails_with_sentence();
    assert!(r.stderr.contains("gibt-es-nicht.pdf"), "names the missing file: {}", r.stderr);
    let dir = tmp.path().join("ordner");
    std::fs::create_dir_all(&dir).unwrap();
    let r = run(&data, &["add", AZ, f, dir.to_str().unwrap()]).fails_with_sentence();
    assert!(r.stderr.contains("ordner"), "names the directory: {}", r.stderr);
    assert_eq!(
        ok(&data, &["ls", AZ, "--json"]).json().as_array().unwrap().len(),
        2,
        "a refused add adds nothing, not even the good files"
    );

    let r = run(&data, &["set", AZ, "farbe=rot"]).fails_with_sentence();
    assert!(r.stderr.contains("farbe"), "names the bad field: {}", r.stderr);

    // The demo pointed one directory too high says where the case is.
    let fixtures = tmp.path().join("fixtures");
    std::fs::create_dir_all(fixtures.join("windpark-hohe-heide")).unwrap();
    let r = run(&data, &["demo", "--no-serve", "--fixtures", fixtures.to_str().unwrap()]).fails_with_sentence();
    assert!(r.stderr.contains("pass the demo case's directory"), "{}", r.stderr);
    std::fs::write(fixtures.join("windpark-hohe-heide/case.json"), b"{}").unwrap();
    let r = run(&data, &["demo", "--no-serve", "--fixtures", fixtures.to_str().unwrap()]).fails_with_sentence();
    assert!(r.stderr.contains("the demo case is in") && r.stderr.contains("windpark-hohe-heide"), "{}", r.stderr);
    // The real case, into a repository with an Akte of its own: refused, nothing loaded.
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/windpark-hohe-heide");
    let r = run(&data, &["demo", "--no-serve", "--fixtures", case.to_str().unwrap()]).fails_with_sentence();
    assert!(r.stderr.contains("holds Akten of its own") && r.stderr.contains(AZ), "{}", r.stderr);
    assert_eq!(ok(&data, &["ls", "--json"]).json().as_array().unwrap().len(), 1, "no demo Akte");
    run(&data, &["set", AZ, "retention_years=zehn"]).fails_with_sentence();
    run(&data, &["set", AZ, "laufzeit_beginn=2026-13-01"]).fails_with_sentence();
    run(&data, &["set", AZ, "title="]).fails_with_sentence();
    run(&data, &["set", AZ, "ohne-gleichheitszeichen"]).fails_with_sentence();
    run(&data, &["set", &docs[0].0, "file_name=x.pdf"]).fails_with_sentence();
    ok(&data, &["set", AZ, "retention_years:=30", "appraisal=archivwuerdig"]);

    run(&data, &["get", "00000000-0000-0000-0000-000000000000"]).fails_with_sentence();
    run(&data, &["get", &docs[0].0, "--version", "2"]).fails_with_sentence();
    run(&data, &["get", &docs[0].0, "--version", "0"]).fails_with_sentence();
    run(&data, &["history", "nichts"]).fails_with_sentence();

    // init twice: refused, and the repository is untouched.
    let digest = ok(&data, &["status", "--json"]).json()["digest"].clone();
    let id_before = std::fs::read(data.join("identity.txt")).unwrap();
    run(&data, &["init"]).fails_with_sentence();
    assert_eq!(std::fs::read(data.join("identity.txt")).unwrap(), id_before, "init twice keeps the identity");
    assert_eq!(ok(&data, &["status", "--json"]).json()["digest"], digest);
    // init of a fresh data directory on a store that already holds a repository.
    let store = data.join("store");
    let r = run(&tmp.path().join("other-node"), &["--store", &format!("file://{}", store.display()), "init"])
        .fails_with_sentence();
    assert!(!r.stderr.is_empty());
    assert_eq!(common::get(&data, &docs[1].0), docs[1].1, "the repository still opens with its own identity");
    // A store whose key file is lost (an incomplete restore) is not initialised anew: a new
    // key would read none of its objects. Nor is a directory of somebody else's files.
    let restored = tmp.path().join("restored-store");
    common::copy_dir(&store, &restored);
    std::fs::remove_file(restored.join("keys/repository")).unwrap();
    let url = format!("file://{}", restored.display());
    let r = run(&tmp.path().join("restore-node"), &["--store", &url, "init"]).fails_with_sentence();
    assert!(r.stderr.contains("not empty") && r.stderr.contains("keys/repository"), "{}", r.stderr);
    assert!(!restored.join("keys/repository").exists(), "no new key was written");
    let foreign = tmp.path().join("fremd");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notizen.txt"), b"nicht von akte").unwrap();
    let url = format!("file://{}", foreign.display());
    run(&tmp.path().join("foreign-node"), &["--store", &url, "init"]).fails_with_sentence();

    // A second, unrelated operator identity does not unlock this repository.
    let stranger = init_repo(tmp.path(), "stranger");
    let stranger_id = stranger.join("identity.txt");
    let r = run(&data, &["--identity", stranger_id.to_str().unwrap(), "ls"]).fails_with_sentence();
    assert!(r.stderr.contains("does not unlock"), "says the identity does not unlock: {}", r.stderr);
    let r =
        on_node(&tmp.path().join("join-stranger"), &store, &stranger_id, &["get", &docs[1].0]).fails_with_sentence();
    assert!(r.stderr.contains("does not unlock"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing is served to a wrong identity");
    let r = run(&data, &["--identity", tmp.path().join("keine.txt").to_str().unwrap(), "ls"]).fails_with_sentence();
    assert!(r.stderr.contains("keine.txt"), "names the missing identity file: {}", r.stderr);
    let garbage = write_file(tmp.path(), "kaputt.txt", b"AGE-SECRET-KEY-1NOTAKEY\n");
    run(&data, &["--identity", garbage.to_str().unwrap(), "ls"]).fails_with_sentence();

    // No repository at all.
    run_in(tmp.path(), &["--data", tmp.path().join("leer").to_str().unwrap(), "ls"]).fails_with_sentence();
    // Nothing above changed the repository.
    ok(&data, &["verify"]);
}

#[test]
fn key_recipients_round_trip() {
    let (tmp, data, docs) = repo_with_documents();
    let store = data.join("store");
    let own = public_key(&data.join("identity.txt"));
    let other = init_repo(tmp.path(), "escrow");
    let other_id = other.join("identity.txt");
    let other_pk = public_key(&other_id);
    assert!(other_pk.starts_with("age1"), "{other_pk}");

    let list = ok(&data, &["key", "list", "--json"]).json();
    assert_eq!(list["recipients"], serde_json::json!([own]), "{list}");
    assert!(ok(&data, &["key", "list"]).out().contains(&own));

    // Before it is added, the escrow identity cannot open the repository.
    let node2 = tmp.path().join("node2");
    let r = on_node(&node2, &store, &other_id, &["ls"]).fails_with_sentence();
    assert!(r.stderr.contains("does not unlock"), "{}", r.stderr);

    ok(&data, &["key", "add-recipient", &other_pk]);
    let list = ok(&data, &["key", "list", "--json"]).json();
    let mut got: Vec<String> = serde_json::from_value(list["recipients"].clone()).unwrap();
    got.sort();
    let mut want = vec![own.clone(), other_pk.clone()];
    want.sort();
    assert_eq!(got, want, "{list}");
    // Adding twice changes nothing.
    let again = run(&data, &["key", "add-recipient", &other_pk]);
    assert!(again.code == 0 || again.code == 1, "{again}");
    assert_eq!(ok(&data, &["key", "list", "--json"]).json()["recipients"].as_array().unwrap().len(), 2);
    run(&data, &["key", "add-recipient", "age1nichtgueltig"]).fails_with_sentence();

    // The escrow identity now opens it, on its own node and with --identity on this one.
    let node3 = tmp.path().join("node3");
    assert_eq!(on_node(&node3, &store, &other_id, &["get", &docs[0].0]).ok().stdout, docs[0].1);
    ok(&data, &["--identity", other_id.to_str().unwrap(), "verify"]);

    // The escrow operator may not remove the key they are using while it is their only one.
    on_node(&node3, &store, &other_id, &["key", "remove-recipient", &other_pk]).fails_with_sentence();

    ok(&data, &["key", "remove-recipient", &other_pk]);
    assert_eq!(ok(&data, &["key", "list", "--json"]).json()["recipients"], serde_json::json!([own]));
    let r = on_node(&tmp.path().join("node4"), &store, &other_id, &["get", &docs[0].0]).fails_with_sentence();
    assert!(r.stderr.contains("does not unlock"), "after remove-recipient: {}", r.stderr);
    assert!(r.stdout.is_empty());
    let r = on_node(&node3, &store, &other_id, &["ls"]).fails_with_sentence();
    assert!(r.stderr.contains("does not unlock"), "a node that knew the key must not keep access: {}", r.stderr);

    // The last recipient cannot be removed; neither can an unknown one.
    let r = run(&data, &["key", "remove-recipient", &own]).fails_with_sentence();
    assert!(r.stderr.contains("last") || r.stderr.contains("lock"), "{}", r.stderr);
    run(&data, &["key", "remove-recipient", &other_pk]).fails_with_sentence();
    assert_eq!(common::get(&data, &docs[1].0), docs[1].1);
    ok(&data, &["verify"]);
}

#[test]
fn second_node_on_the_same_store() {
    let (tmp, data, docs) = repo_with_documents();
    let store = data.join("store");
    let identity = data.join("identity.txt");
    let node2 = tmp.path().join("node2");

    let listed = on_node(&node2, &store, &identity, &["ls", AZ, "--json"]).ok().json();
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, docs.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>());
    for (id, bytes) in &docs {
        assert_eq!(on_node(&node2, &store, &identity, &["get", id]).ok().stdout, *bytes);
    }
    // Both nodes compute the same state.
    let d1 = ok(&data, &["status", "--json"]).json();
    let d2 = on_node(&node2, &store, &identity, &["status", "--json"]).ok().json();
    assert_eq!(d1["digest"], d2["digest"]);
    assert_eq!(d1["repository"], d2["repository"]);
    assert_ne!(d1["node"], d2["node"], "each data directory is its own node");

    // The second node writes; the first sees it. A node remembers its store after first contact.
    let f = write_file(tmp.path(), "von-knoten-zwei.txt", b"geschrieben auf Knoten 2\n");
    let rows = on_node(&node2, &store, &identity, &["add", AZ, "--json", f.to_str().unwrap()]).ok().json();
    let id = rows[0]["id"].as_str().unwrap().to_string();
    assert_eq!(common::get(&data, &id), b"geschrieben auf Knoten 2\n");
    assert_eq!(
        ok(&node2, &["--identity", identity.to_str().unwrap(), "get", &id]).stdout,
        b"geschrieben auf Knoten 2\n"
    );
    ok(&data, &["set", AZ, "title=Geändert auf Knoten 1"]);
    let akten = on_node(&node2, &store, &identity, &["ls", "--json"]).ok().json();
    assert_eq!(akten[0]["title"], "Geändert auf Knoten 1");
    assert_eq!(
        ok(&data, &["status", "--json"]).json()["digest"],
        on_node(&node2, &store, &identity, &["status", "--json"]).ok().json()["digest"]
    );
    let s = ok(&data, &["status", "--json"]).json();
    assert_eq!(s["streams"], 2, "{s}");
    ok(&data, &["verify"]);
    on_node(&node2, &store, &identity, &["verify"]).ok();
    // The same Aktenzeichen is still refused, whichever node asks.
    on_node(&node2, &store, &identity, &["create", "--aktenzeichen", AZ, "--title", "Doppelt"]).fails_with_sentence();
}

#[test]
fn reindex_rebuilds_the_same_state() {
    let (tmp, data, docs) = repo_with_documents();
    ok(&data, &["vorgang", AZ, "--title", "Beteiligung Träger öffentlicher Belange"]);
    ok(&data, &["set", AZ, "retention_years:=30", "appraisal=archivwuerdig"]);
    ok(&data, &["set", &docs[1].0, "title=Stellungnahme UNB", "document_type=Stellungnahme"]);
    ok(&data, &["version", &docs[1].0, write_file(tmp.path(), "v2.txt", b"Fassung 2\n").to_str().unwrap()]);
    let before = ok(&data, &["status", "--json"]).json();
    assert!(is_hex64(&before["digest"]), "{before}");
    let history = ok(&data, &["history", &docs[1].0, "--json"]).json();

    std::fs::remove_file(data.join("catalog.json")).expect("the node keeps a catalog.json");
    ok(&data, &["reindex"]);
    let after = ok(&data, &["status", "--json"]).json();
    assert_eq!(after["digest"], before["digest"], "reindex rebuilds the same state:\n{before}\n{after}");
    assert_eq!(after, before);
    assert_eq!(ok(&data, &["history", &docs[1].0, "--json"]).json(), history);
    // Without deleting first, and with the cache gone and no explicit reindex.
    ok(&data, &["reindex"]);
    assert_eq!(ok(&data, &["status", "--json"]).json()["digest"], before["digest"]);
    std::fs::remove_file(data.join("catalog.json")).unwrap();
    assert_eq!(ok(&data, &["status", "--json"]).json()["digest"], before["digest"]);
    assert_eq!(common::get(&data, &docs[0].0), docs[0].1);
}

/// One `add` of many files, small and large mixed (the small ones are read in groups on the
/// blocking pool, the large ones streamed): every Dokument in the order given, each with
/// its own bytes, the sizes around the pack member limit (512 KiB) included.
#[test]
fn one_add_of_small_and_large_files_keeps_order_and_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "node");
    create(&data, AZ, "Windpark Hohe Heide");
    let mut rng = Rng::new(77);
    let limit = 512 << 10;
    let files: Vec<(PathBuf, Vec<u8>)> = (0..75)
        .map(|i| {
            let len = match i {
                3 => 0,
                10 => limit,
                11 => limit + 1,
                40 | 41 => 3 << 20 | 5,
                70 => 1 << 20,
                _ => 100 + i * 37,
            };
            // Every file differs, also where the sizes repeat.
            let mut bytes = rng.bytes(len);
            if let Some(b) = bytes.first_mut() {
                *b = i as u8;
            }
            (write_file(tmp.path(), &format!("datei-{i:02}.bin"), &bytes), bytes)
        })
        .collect();
    let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
    let rows = common::add(&data, AZ, &paths);
    assert_eq!(rows.len(), files.len());
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "Dokument ids (UUIDv7) ascend in the order of the files: {ids:?}");
    for (row, (path, bytes)) in rows.iter().zip(&files) {
        assert_eq!(row["file"].as_str(), path.to_str(), "rows in the order of the files given");
        assert_eq!(row["size"], bytes.len() as u64, "{row}");
        assert_eq!(row["sha256"].as_str().unwrap(), hex(&Sha256::digest(bytes)), "{row}");
        assert_eq!(common::get(&data, row["id"].as_str().unwrap()), *bytes, "{}", path.display());
    }
    ok(&data, &["verify"]);
}

#[test]
fn adding_content_the_akte_has_already_is_noted() {
    let (tmp, data, _) = repo_with_documents();
    let letter = write_file(tmp.path(), "einwendung.txt", "Einwendung gegen WEA 3, Spargelfeld".as_bytes());
    let copy = write_file(tmp.path(), "einwendung-kopie.txt", "Einwendung gegen WEA 3, Spargelfeld".as_bytes());
    let other = write_file(tmp.path(), "anders.txt", b"Etwas anderes");
    let first = run(&data, &["add", AZ, letter.to_str().unwrap(), other.to_str().unwrap()]);
    assert!(first.code == 0 && !first.stderr.contains("same content"), "{first}");
    let first_id = first.out().split_whitespace().next().unwrap().to_string();
    // Again, and twice in one go: kept (it came twice), and said.
    let again = run(&data, &["add", AZ, copy.to_str().unwrap(), letter.to_str().unwrap()]);
    assert_eq!(again.code, 0, "{again}");
    let notes: Vec<&str> = again.stderr.lines().filter(|l| l.contains("same content")).collect();
    assert_eq!(notes.len(), 2, "{again}");
    assert!(notes.iter().all(|l| l.contains(&first_id) && l.contains("(einwendung)")), "{again}");
    assert!(notes[0].contains("einwendung-kopie.txt"), "{again}");
}

#[test]
fn a_text_longer_than_the_index_keeps_is_noted() {
    let (tmp, data, _) = repo_with_documents();
    let mut text = "Windpark Lärmschutz Nachtbetrieb ".repeat(150_000); // 5 MB
    text.push_str("Schlusswortmarke");
    let long = write_file(tmp.path(), "lang.txt", text.as_bytes());
    let added = run(&data, &["add", AZ, long.to_str().unwrap()]);
    assert_eq!(added.code, 0, "{added}");
    assert!(added.stderr.contains("only the first 4 MiB of the text") && added.stderr.contains("(lang)"), "{added}");
    let found = ok(&data, &["search", "--json", "Nachtbetrieb"]).json();
    assert_eq!(found["hits"][0]["truncated"], true, "{found}");
    assert_eq!(ok(&data, &["search", "--json", "Schlusswortmarke"]).json()["total"], 0);
}

#[test]
fn versions_keep_their_bytes() {
    let (tmp, data, docs) = repo_with_documents();
    let (id, v1) = &docs[1];
    let v2 = b"Zweite Fassung der Stellungnahme\n".to_vec();
    let v3 = Rng::new(3).bytes(4 << 20 | 17);
    let v2_file = write_file(tmp.path(), "stellungnahme-v2.txt", &v2);
    let version = ok(&data, &["version", id, v2_file.to_str().unwrap(), "--json"]).json();
    assert_eq!(common::get(&data, id), v2, "get returns the latest version");
    // What a version records of its content stays as stored.
    let version_id = version["id"].as_str().unwrap();
    let r = run(&data, &["set", version_id, "sha256=0000", "size:=999"]).fails_with_sentence();
    assert!(r.stderr.contains("cannot be changed"), "{}", r.stderr);
    assert_eq!(ok(&data, &["get", id, "--version", "1"]).stdout, *v1, "--version 1 returns the old bytes");
    ok(&data, &["version", id, write_file(tmp.path(), "stellungnahme-v3.bin", &v3).to_str().unwrap()]);
    assert_eq!(ok(&data, &["get", id, "--version", "1"]).stdout, *v1);
    assert_eq!(ok(&data, &["get", id, "--version", "2"]).stdout, v2);
    assert_eq!(ok(&data, &["get", id, "--version", "3"]).stdout, v3);
    assert_eq!(common::get(&data, id), v3);
    let out = tmp.path().join("v1-copy.txt");
    ok(&data, &["get", id, "--version", "1", "-o", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), *v1);
    run(&data, &["get", id, "--version", "4"]).fails_with_sentence();
    let listed = ok(&data, &["ls", AZ, "--json"]).json();
    let row = listed.as_array().unwrap().iter().find(|d| d["id"] == id.as_str()).unwrap().clone();
    assert_eq!(row["version"], 3, "{row}");
    assert_eq!(row["size"], v3.len() as u64);
    let history = ok(&data, &["history", id, "--json"]).json();
    let actions: Vec<&str> = history.as_array().unwrap().iter().filter_map(|h| h["action"].as_str()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "add-version").count(), 3, "{history}");
    // The whole Akte's history: the Akte and both Dokumente, in the order it happened.
    let whole = ok(&data, &["history", AZ, "--all", "--json"]).json();
    let whole = whole.as_array().unwrap();
    let objects: std::collections::BTreeSet<&str> = whole.iter().filter_map(|h| h["object"].as_str()).collect();
    assert!(objects.contains(id.as_str()) && objects.contains(docs[0].0.as_str()), "{whole:?}");
    assert_eq!(whole.iter().filter(|h| h["action"] == "add-version").count(), 3 + 1, "every version of both");
    let times: Vec<&str> = whole.iter().map(|h| h["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in order: {times:?}");
    assert!(ok(&data, &["history", AZ, "--json"]).json().as_array().unwrap().len() < whole.len());
    // The other Dokument is untouched.
    assert_eq!(common::get(&data, &docs[0].0), docs[0].1);
}

#[test]
fn error_sentences_keep_names_as_given() {
    // Relative names (as a person types them) must appear unchanged in the sentence: it is
    // the path that is wrong, and a path with a changed first letter names another file.
    let (tmp, data, _docs) = repo_with_documents();
    std::fs::create_dir_all(tmp.path().join("ordner")).unwrap();
    let data_arg = data.to_str().unwrap();
    let r = run_in(tmp.path(), &["--data", data_arg, "add", AZ, "ordner"]).fails_with_sentence();
    assert!(
        r.stderr.contains(" ordner:") && !r.stderr.contains("Ordner"),
        "the directory is named as given: {}",
        r.stderr
    );
    let r = run_in(tmp.path(), &["--data", "node", "init"]).fails_with_sentence();
    assert!(r.stderr.contains("node"), "the data directory is named as given: {}", r.stderr);
    let r = run_in(tmp.path(), &["--data", data_arg, "create", "--aktenzeichen", "x-1", "--title", "a"]).ok();
    assert!(is_uuid(&Value::String(r.out().trim().to_string())));
    let r = run_in(tmp.path(), &["--data", data_arg, "ls", "x-2"]).fails_with_sentence();
    assert!(r.stderr.contains("x-2"), "{}", r.stderr);
}

#[test]
fn closed_akte_refuses_new_documents() {
    let (tmp, data, docs) = repo_with_documents();
    ok(&data, &["set", AZ, "status=zda"]);
    let f = write_file(tmp.path(), "spaet.txt", b"zu spaet");
    let r = run(&data, &["add", AZ, f.to_str().unwrap()]).fails_with_sentence();
    assert!(r.stderr.contains(AZ), "{}", r.stderr);
    run(&data, &["version", &docs[1].0, f.to_str().unwrap()]).fails_with_sentence();
    assert_eq!(ok(&data, &["ls", AZ, "--json"]).json().as_array().unwrap().len(), 2);
    assert_eq!(ok(&data, &["ls", "--json"]).json()[0]["status"], "zda");
    // Reopened, it accepts them again.
    ok(&data, &["set", AZ, "status=offen"]);
    common::add(&data, AZ, &[f]);
}

#[test]
fn closed_vorgang_refuses_new_documents_and_nested_vorgaenge() {
    let (tmp, data, _docs) = repo_with_documents();
    let v =
        ok(&data, &["vorgang", AZ, "--title", "Beteiligung TöB", "--json"]).json()["id"].as_str().unwrap().to_string();
    let f = write_file(tmp.path(), "stellungnahme-2.txt", b"Keine Bedenken.");
    let added = ok(&data, &["add", AZ, f.to_str().unwrap(), "--vorgang", &v, "--json"]).json();
    let dok = added[0]["id"].as_str().unwrap().to_string();
    ok(&data, &["set", &v, "status=zda"]);
    let r = run(&data, &["add", AZ, f.to_str().unwrap(), "--vorgang", &v]).fails_with_sentence();
    assert!(r.stderr.contains("Beteiligung TöB") && r.stderr.contains("closed"), "{}", r.stderr);
    run(&data, &["version", &dok, f.to_str().unwrap()]).fails_with_sentence();
    run(&data, &["vorgang", AZ, "--title", "Unterakte", "--parent", &v]).fails_with_sentence();
    // The Akte itself stays open: documents outside the closed Vorgang are accepted.
    common::add(&data, AZ, &[f]);
    assert_eq!(ok(&data, &["ls", AZ, "--json"]).json().as_array().unwrap().len(), 4);
}

#[test]
fn init_writes_a_private_identity() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "node");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data.join("identity.txt")), 0o600, "the operator identity is readable by its owner only");
    assert_eq!(mode(&data), 0o700, "the data directory is private");
    let pk = public_key(&data.join("identity.txt"));
    assert_eq!(ok(&data, &["key", "list", "--json"]).json()["recipients"], serde_json::json!([pk]));
}

#[test]
fn a_second_command_on_a_busy_data_directory_is_refused_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "node");
    create(&data, AZ, "Belegt");
    let mut rng = Rng::new(8);
    let files: Vec<PathBuf> =
        (0..6).map(|i| write_file(tmp.path(), &format!("gross-{i}.bin"), &rng.bytes(8 << 20))).collect();
    let mut args = vec!["--data".to_string(), data.to_str().unwrap().to_string(), "add".into(), AZ.into()];
    args.extend(files.iter().map(|f| f.to_str().unwrap().to_string()));
    let mut child = common::akte_cmd(tmp.path()).args(&args).stdout(std::process::Stdio::null()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(30));
    let mut refused = 0;
    for i in 0..20 {
        let r = run(&data, &["create", "--aktenzeichen", &format!("61.2-{i:04}/2027"), "--title", "Parallel"]);
        let add_running = child.try_wait().unwrap().is_none();
        if r.code != 0 {
            common::assert_error_sentence(&r);
            assert!(r.stderr.contains("in use"), "a busy data directory is named as such: {}", r.stderr);
            refused += 1;
        } else {
            // (The very first try may have started before the add took the directory.)
            assert!(!(add_running && i > 0), "create succeeded while the add held the data directory");
        }
        if !add_running {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(child.wait().unwrap().success(), "the add itself is not disturbed");
    assert!(refused > 0, "the add was too quick to overlap; make its files bigger");
    ok(&data, &["verify"]);
    assert_eq!(ok(&data, &["ls", AZ, "--json"]).json().as_array().unwrap().len(), 6);
}

#[test]
fn duplicate_aktenzeichen_from_two_nodes_is_surfaced_identically() {
    // Node B works on a replica of the store taken right after init; both create the same
    // Aktenzeichen; then each replica receives the other's stream (as replication would).
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(tmp.path(), "a");
    let identity = a.join("identity.txt");
    let store_a = a.join("store");
    let store_b = tmp.path().join("replica");
    common::copy_dir(&store_a, &store_b);
    let b = tmp.path().join("b");

    let first = create(&a, AZ, "Zuerst auf Knoten A");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second =
        on_node(&b, &store_b, &identity, &["create", "--aktenzeichen", AZ, "--title", "Später auf Knoten B", "--json"])
            .ok()
            .json()["id"]
            .as_str()
            .unwrap()
            .to_string();
    common::copy_dir(&store_b, &store_a);
    common::copy_dir(&store_a, &store_b);

    let sa = ok(&a, &["status", "--json"]).json();
    let sb = on_node(&b, &store_b, &identity, &["status", "--json"]).ok().json();
    assert_eq!(sa["digest"], sb["digest"], "both nodes resolve the conflict the same way:\n{sa}\n{sb}");
    assert_eq!(sa["akten"], 2);
    assert!(!sa["conflicts"].as_array().unwrap().is_empty(), "the conflict is surfaced: {sa}");
    let akten = ok(&a, &["ls", "--json"]).json();
    let by_id = |id: &str| akten.as_array().unwrap().iter().find(|x| x["id"] == id).cloned().unwrap();
    assert!(by_id(&first)["conflict"].is_null(), "the earlier create keeps the Aktenzeichen: {akten}");
    assert!(by_id(&second)["conflict"].is_string(), "the later one is marked: {akten}");
    let resolved = ok(&a, &["ls", AZ, "--json"]).json();
    assert!(resolved.as_array().unwrap().is_empty(), "the Aktenzeichen resolves to the earlier Akte (no Dokumente)");
    let f = write_file(tmp.path(), "x.txt", b"x");
    let rows = common::add(&a, AZ, &[f]);
    let onb = on_node(&b, &store_b, &identity, &["ls", &first, "--json"]).ok().json();
    assert!(onb.as_array().unwrap().is_empty(), "B has not received A's new entry yet");
    assert_eq!(rows.len(), 1);
    ok(&a, &["verify"]);
    on_node(&b, &store_b, &identity, &["verify"]).ok();
}

#[test]
fn text_of_a_document_nothing_reads_says_so() {
    let (tmp, data, _) = repo_with_documents();
    let file = write_file(tmp.path(), "messwerte.bin", &[0x00, 0x9f, 0x42, 0xff, 0x00, 0x13, 0x37, 0x00]);
    let added = ok(&data, &["add", AZ, file.to_str().unwrap(), "--json"]).json();
    let id = added[0]["id"].as_str().unwrap().to_string();
    let r = run(&data, &["text", &id]).fails_with_sentence();
    assert!(r.stderr.contains("No extractor"), "{}", r.stderr);
    let view = ok(&data, &["text", &id, "--json"]).json();
    assert_eq!((&view["state"], &view["pending"]), (&json!("none"), &json!([])), "{view}");
}

#[test]
fn text_of_a_scan_without_ocr_is_partial() {
    let (tmp, data, _) = repo_with_documents();
    let scan = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/windpark-hohe-heide/oeffentlichkeit/04-einwendung-ahlers-scan.pdf");
    let args = |rest: &[&str]| {
        let mut all = vec!["--data", data.to_str().unwrap()];
        all.extend_from_slice(rest);
        all.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let no_ocr = |rest: &[&str]| {
        let out = common::akte_cmd(tmp.path()).env("AKTE_OCR", "off").args(args(rest)).output().unwrap();
        assert!(out.status.success(), "{rest:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    };
    let added = no_ocr(&["add", AZ, scan.to_str().unwrap(), "--json"]);
    let added: Value = serde_json::from_slice(&added.stdout).unwrap();
    let id = added[0]["id"].as_str().unwrap().to_string();
    let view: Value = serde_json::from_slice(&no_ocr(&["text", &id, "--json"]).stdout).unwrap();
    assert_eq!((&view["state"], &view["pending"]), (&json!("partial"), &json!([])), "{view}");
    assert!(!view["fields"]["pages-without-text"].as_str().unwrap().is_empty(), "{view}");
    let plain = no_ocr(&["text", &id]);
    let note = String::from_utf8_lossy(&plain.stderr);
    assert!(note.contains("not read") && note.contains("OCR"), "the clerk is told why text is missing: {note}");
}

#[test]
fn add_names_what_it_stored_when_indexing_fails_after() {
    let (tmp, data, _) = repo_with_documents();
    // The index cannot be opened at all: its directory is a file.
    let index = data.join("index");
    std::fs::remove_dir_all(&index).unwrap();
    std::fs::write(&index, b"kein Verzeichnis").unwrap();
    let file = write_file(tmp.path(), "nachtrag.txt", b"Nachtrag zum Antrag");
    let r = ok(&data, &["add", AZ, file.to_str().unwrap(), "--json"]);
    let rows = r.json();
    let id = rows[0]["id"].as_str().unwrap_or_else(|| panic!("the stored Dokument is named: {r}"));
    assert!(r.stderr.contains("note: stored, but"), "{r}");
    std::fs::remove_file(&index).unwrap();
    let listed = ok(&data, &["ls", AZ, "--json"]).json();
    let named = listed.as_array().unwrap().iter().filter(|d| d["file_name"] == "nachtrag.txt" || d["id"] == id).count();
    assert_eq!(named, 1, "stored once: {listed}");
    // The index catches up.
    ok(&data, &["reindex"]);
    let found = ok(&data, &["search", "Nachtrag", "--json"]).json();
    assert!(found["hits"].as_array().unwrap().iter().any(|h| h["dokument_id"] == id), "{found}");
}

#[test]
fn a_token_name_names_one_token_for_good() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "node");
    let first = ok(&data, &["token", "create", "--role", "clerk", "--name", "fachverfahren", "--json"]).json();
    let r = run(&data, &["token", "create", "--role", "admin", "--name", "fachverfahren"]).fails_with_sentence();
    assert!(r.stderr.contains("exists"), "{}", r.stderr);
    ok(&data, &["token", "revoke", first["id"].as_str().unwrap()]);
    // The token's hash is not shown in its history, as the API does not show it.
    let h = ok(&data, &["history", first["id"].as_str().unwrap(), "--json"]).json();
    let hash =
        h.as_array().unwrap().iter().flat_map(|e| e["changes"].as_array().unwrap()).find(|c| c["field"] == "hash");
    assert_eq!(hash.map(|c| &c["new"]), Some(&serde_json::json!("(hidden)")), "{h}");
    // Revoking it again writes nothing.
    ok(&data, &["token", "revoke", "fachverfahren"]);
    let again = ok(&data, &["history", first["id"].as_str().unwrap(), "--json"]).json();
    assert_eq!(again.as_array().unwrap().len(), h.as_array().unwrap().len(), "{again}");
    let r = run(&data, &["token", "create", "--role", "admin", "--name", "fachverfahren"]).fails_with_sentence();
    assert!(r.stderr.contains("revoked"), "{}", r.stderr);
    run(&data, &["token", "create", "--role", "reader", "--name", "kurz", "--expires-days", "0"]).fails_with_sentence();
    // A lifetime past year 9999 is one plain sentence, not a panic.
    run(&data, &["token", "create", "--role", "reader", "--name", "ewig", "--expires-days", "3000000"])
        .fails_with_sentence();
    let listed = ok(&data, &["token", "list", "--json"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}

#[test]
fn switches_and_the_log_filter_are_read_or_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "node");
    // German and other spellings of off are off; a value that is neither is refused.
    common::run_env(&data, &["ls"], &[("AKTE_OCR", "nein"), ("AKTE_INGEST", "FALSE")]).ok();
    let r = common::run_env(&data, &["ls"], &[("AKTE_OCR", "vielleicht")]).fails_with_sentence();
    assert!(r.stderr.contains("AKTE_OCR"), "{}", r.stderr);
    let r = common::run_env(&data, &["ls"], &[("AKTE_LOG", "akte=trace,nonsense===")]).fails_with_sentence();
    assert!(r.stderr.contains("AKTE_LOG"), "{}", r.stderr);
    common::run_env(&data, &["ls"], &[("AKTE_LOG", "warn,akte=debug")]).ok();
}

#[test]
fn a_mistyped_data_directory_makes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let nope = tmp.path().join("akte-dta");
    let r = run(&nope, &["ls"]).fails_with_sentence();
    assert!(r.stderr.contains("does not exist") && r.stderr.contains("akte init"), "{}", r.stderr);
    assert!(!nope.exists(), "nothing was created");
}

#[test]
fn heads_that_cannot_be_saved_are_a_note_not_a_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "node");
    // heads.json cannot be replaced: its temporary file's name is taken by a directory (as
    // unwritable as a full disk, also for root).
    std::fs::create_dir(data.join("heads.tmp")).unwrap();
    let r = ok(&data, &["create", "--aktenzeichen", AZ, "--title", "Trotzdem angelegt"]);
    assert!(r.stderr.contains("note: the journal heads seen could not be saved"), "{r}");
    let listed = ok(&data, &["ls", "--json"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "the Akte was created once: {listed}");
}

#[test]
fn get_into_a_pipe_writes_into_it_and_leaves_it_a_pipe() {
    use std::os::unix::fs::FileTypeExt;
    let (tmp, data, docs) = repo_with_documents();
    let fifo = tmp.path().join("rohr");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    ok(&data, &["get", &docs[1].0, "-o", fifo.to_str().unwrap()]);
    // First (a reader of a pipe that was replaced would wait for ever).
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "not replaced by a file (as /dev/null was)");
    assert_eq!(reader.join().unwrap(), docs[1].1, "the bytes went through the pipe");
}

/// `akte --version` names the commit the binary was built from, so that a bug report and an
/// operator's inventory say exactly which code runs.
#[test]
fn version_names_the_commit() {
    let out = std::process::Command::new(common::bin()).arg("--version").output().unwrap();
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    let commit = line
        .trim()
        .strip_prefix(concat!("akte ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not `akte VERSION (COMMIT)`: {line}"));
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match head {
        // Built in this checkout: its commit (unless a packager set AKTE_COMMIT).
        Some(head) if std::env::var_os("AKTE_COMMIT").is_none() => assert_eq!(commit, head, "{line}"),
        _ => assert!(!commit.is_empty(), "{line}"),
    }
}
