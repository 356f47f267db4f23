//! `akte plugin …` and the ingest pipeline from the command line: install, list, switch,
//! remove, test; validators that refuse a document before anything is stored (also on an
//! upload through the API); text that
//! `akte text` shows after `add`.

mod common;

use common::*;
use serde_json::{Value, json};

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_validator_refuses_documents_before_anything_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "data");
    let akte = create(&data, "61.2-0815/2026", "Windpark Hohe Heide");
    let (wasm, toml) = guest("basic-validator");
    let installed = ok(&data, &["plugin", "add", s(&wasm), "--manifest", s(&toml), "--json"]).json();
    assert_eq!(installed["name"], "basic-validator");
    assert_eq!(installed["world"], "validator");
    let list = ok(&data, &["plugin", "list", "--json"]).json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["enabled"], true);
    // The same component and manifest again: nothing changes, and that is no error. The
    // same version with another manifest or another component (here an enricher under the
    // manifest of another enricher) is refused.
    let again = ok(&data, &["plugin", "add", s(&wasm), "--manifest", s(&toml), "--json"]).json();
    assert_eq!((&again["id"], &again["unchanged"]), (&installed["id"], &Value::Bool(true)), "{again}");
    assert!(ok(&data, &["plugin", "add", s(&wasm), "--manifest", s(&toml)]).out().contains("installed already"));
    let changed = std::fs::read_to_string(&toml).unwrap().replace("timeout-ms = 5000", "timeout-ms = 4000");
    let changed = write(tmp.path(), "changed.toml", changed.as_bytes());
    let again = run(&data, &["plugin", "add", s(&wasm), "--manifest", s(&changed)]).fails_with_sentence();
    assert!(again.stderr.contains("another manifest"), "{again}");
    let (keywords, keywords_toml) = guest("keywords");
    let first = ok(&data, &["plugin", "add", s(&keywords), "--manifest", s(&keywords_toml), "--json"]).json();
    let (template, _) = guest("sdk-template");
    let other = run(&data, &["plugin", "add", s(&template), "--manifest", s(&keywords_toml)]).fails_with_sentence();
    assert!(other.stderr.contains("another component"), "{other}");
    let list = ok(&data, &["plugin", "list", "--json"]).json();
    let ids: Vec<&Value> = list.as_array().unwrap().iter().map(|p| &p["id"]).collect();
    assert_eq!(ids, [&installed["id"], &first["id"]], "nothing changed");
    ok(&data, &["plugin", "remove", "keywords"]);

    let fake = write(tmp.path(), "bescheid.pdf", b"this is not a PDF");
    let good = write(tmp.path(), "vermerk.txt", "Vermerk zur Ortsbesichtigung am Windpark".as_bytes());
    let refused = run(&data, &["add", &akte, s(&good), s(&fake)]).fails_with_sentence();
    assert!(refused.stderr.contains("Nothing was added"), "{refused}");
    assert!(refused.stderr.contains("not-a-pdf") && refused.stderr.contains("kein PDF"), "{refused}");
    let listed = ok(&data, &["ls", &akte, "--json"]).json();
    assert_eq!(listed.as_array().unwrap().len(), 0, "nothing stored: {listed}");

    // Switched off for PDFs below 61, the same file goes in; other types are still checked.
    ok(&data, &["plugin", "disable", "basic-validator", "--aktenplan", "61", "--media-type", "application/pdf"]);
    ok(&data, &["aktenplan", "add", "61.2", "--title", "Immissionsschutz"]);
    ok(&data, &["set", &akte, "aktenplan=61.2"]);
    let added = add(&data, &akte, &[fake.clone(), good.clone()]);
    assert_eq!(added.len(), 2);
    let empty = write(tmp.path(), "leer.txt", b"");
    run(&data, &["add", &akte, s(&empty)]).fails_with_sentence();

    // The text of the added plain-text file came through the built-in extractor.
    let text = ok(&data, &["text", added[1]["id"].as_str().unwrap()]).out();
    assert!(text.contains("Ortsbesichtigung"), "{text}");

    ok(&data, &["plugin", "remove", "basic-validator"]);
    assert_eq!(ok(&data, &["plugin", "list", "--json"]).json().as_array().unwrap().len(), 0);
    add(&data, &akte, &[empty]);
    let history = ok(&data, &["history", installed["id"].as_str().unwrap(), "--json"]).json();
    assert_eq!(history.as_array().unwrap().len(), 3, "install, rule, removal: {history}");
    ok(&data, &["verify"]);
}

/// The journal entries a running server has read (its `/metrics`).
fn journal_height(c: &reqwest::blocking::Client, srv: &Server) -> u64 {
    let text = c.get(format!("{}/metrics", srv.base)).send().unwrap().text().unwrap();
    let line = text.lines().find(|l| l.starts_with("akte_journal_entries ")).expect("the gauge is there");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Runs `akte JOIN ARGS` on the node `other` and waits until the server has read the
/// entry it wrote.
fn on_other_node(c: &reqwest::blocking::Client, srv: &Server, other: &std::path::Path, join: &[&str], args: &[&str]) {
    let before = journal_height(c, srv);
    ok(other, &[join, args].concat());
    let start = std::time::Instant::now();
    while journal_height(c, srv) == before {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "the server did not read {args:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A repository with one Akte and an admin token, served, and a second node on the same
/// store for changes while the server runs.
struct TwoNodes {
    _tmp: tempfile::TempDir,
    data: std::path::PathBuf,
    akte: String,
    admin: String,
    other: std::path::PathBuf,
    store: String,
    identity: String,
}

impl TwoNodes {
    fn new() -> TwoNodes {
        let tmp = tempfile::tempdir().unwrap();
        let data = init_repo(tmp.path(), "data");
        let akte = create(&data, "61.2-0815/2026", "Windpark Hohe Heide");
        let admin = token(&data, "admin", "test-admin", &[]);
        let store = format!("file://{}", data.join("store").display());
        let identity = data.join("identity.txt").to_str().unwrap().to_string();
        let other = tmp.path().join("other");
        let nodes = TwoNodes { _tmp: tmp, data, akte, admin, other, store, identity };
        ok(&nodes.other, &[&nodes.join()[..], &["status"]].concat());
        nodes
    }

    /// The options that put a command on the second node.
    fn join(&self) -> [&str; 4] {
        ["--store", self.store.as_str(), "--identity", self.identity.as_str()]
    }
}

#[test]
fn the_api_runs_the_validators_on_uploads_and_new_versions() {
    // A second node on the same store installs and switches plugins while the server runs.
    let nodes = TwoNodes::new();
    let (data, akte, admin, other, join) = (&nodes.data, &nodes.akte, &nodes.admin, &nodes.other, nodes.join());
    let srv = Server::start(data, false, &[]);
    let c = client();
    let upload = |name: &str, bytes: &[u8]| {
        let form = reqwest::blocking::multipart::Form::new()
            .part("file", reqwest::blocking::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()));
        c.post(srv.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(admin).multipart(form).send().unwrap()
    };
    // No validator installed yet: an empty file goes in.
    assert_eq!(upload("vorher.txt", b"").status(), 201);

    // Installed while the server runs, the validator applies from the next upload on.
    let (wasm, toml) = guest("basic-validator");
    on_other_node(&c, &srv, other, &join, &["plugin", "add", s(&wasm), "--manifest", s(&toml)]);
    let detail = assert_problem(upload("leer.txt", b""), 422, "rejected");
    assert!(detail.contains("leer.txt") && detail.contains("basic-validator"), "{detail}");
    let detail = assert_problem(upload("bescheid.pdf", b"this is not a PDF"), 422, "rejected");
    assert!(detail.contains("not-a-pdf"), "{detail}");
    // A declared type does not steer around the validators of the type the name says.
    let part = reqwest::blocking::multipart::Part::bytes(b"this is not a PDF".to_vec())
        .file_name("bescheid.pdf")
        .mime_str("application/x-pdf")
        .unwrap();
    let form = reqwest::blocking::multipart::Form::new().part("file", part);
    let r = c.post(srv.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(admin).multipart(form).send().unwrap();
    assert_problem(r, 422, "rejected");
    // A large upload is validated on its start, read back from the store.
    let mut large = b"%PDF-1.7\n".to_vec();
    large.resize(3 << 20, b' ');
    assert_eq!(upload("gross.pdf", &large).status(), 201);
    let mut large_fake = b"GIF89a".to_vec();
    large_fake.resize(3 << 20, b' ');
    assert_problem(upload("falsch.pdf", &large_fake), 422, "rejected");
    let r = upload("vermerk.txt", "Vermerk zur Ortsbesichtigung".as_bytes());
    assert_eq!(r.status(), 201);
    let dok = r.json::<serde_json::Value>().unwrap()["id"].as_str().unwrap().to_string();
    // Without an extension, the upload is recognised by its first bytes.
    let r = upload("notiz", "Notiz zum Rückruf".as_bytes());
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<serde_json::Value>().unwrap()["media_type"], "text/plain");

    // A new version is checked too: an empty one is refused.
    let version = |bytes: &'static [u8]| {
        c.post(srv.url(&format!("/dokumente/{dok}/versions?file_name=vermerk.txt")))
            .bearer_auth(admin)
            .body(bytes)
            .send()
            .unwrap()
    };
    assert_problem(version(b""), 422, "rejected");
    assert_eq!(version(b"Vermerk, zweite Fassung").status(), 201);

    // Switched off for PDFs, the validator lets the same bytes in.
    on_other_node(&c, &srv, other, &join, &["plugin", "disable", "basic-validator", "--media-type", "application/pdf"]);
    assert_eq!(upload("bescheid.pdf", b"this is not a PDF").status(), 201);
    srv.stop();

    let listed = ok(data, &["ls", akte, "--json"]).json();
    let titles: Vec<&str> = listed.as_array().unwrap().iter().map(|d| d["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["vorher", "gross", "vermerk", "notiz", "bescheid"], "nothing of the refused uploads: {listed}");
    let history = ok(data, &["history", &dok, "--json"]).json();
    assert_eq!(history.as_array().unwrap().iter().filter(|h| h["action"] == "add-version").count(), 2, "{history}");
}

#[test]
fn files_without_a_known_extension_are_recognised_by_their_content() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "data");
    let akte = create(&data, "61.2-0815/2026", "Windpark Hohe Heide");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/windpark-hohe-heide");
    let text = write(tmp.path(), "ohne_endung", "Vermerk zur Ortsbesichtigung am Windpark".as_bytes());
    let pdf = write(
        tmp.path(),
        "bescheid.dat",
        &std::fs::read(fixtures.join("entscheidung/03-genehmigungsbescheid.pdf")).unwrap(),
    );
    let mail = write(
        tmp.path(),
        "nachricht",
        &std::fs::read(fixtures.join("antrag/04-anschreiben-antragsunterlagen.eml")).unwrap(),
    );
    let binary = write(tmp.path(), "daten", &[0u8, 159, 146, 150, 0, 1, 2, 3]);
    let added = add(&data, &akte, &[text, pdf, mail, binary]);
    let listed = ok(&data, &["ls", &akte, "--json"]).json();
    let media: Vec<&str> = listed.as_array().unwrap().iter().map(|d| d["media_type"].as_str().unwrap()).collect();
    assert_eq!(media, ["text/plain", "application/pdf", "message/rfc822", "application/octet-stream"]);
    // Recognised, they get their text like any other file of their type.
    assert!(ok(&data, &["text", added[0]["id"].as_str().unwrap()]).out().contains("Ortsbesichtigung"));
    assert!(ok(&data, &["text", added[1]["id"].as_str().unwrap()]).out().contains("Genehmigung"));
}

#[test]
fn switching_a_plugin_checks_the_media_type_and_the_aktenplan_code() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "data");
    let (wasm, toml) = guest("keywords");
    ok(&data, &["plugin", "add", s(&wasm), "--manifest", s(&toml)]);
    // Without an Aktenplan in the repository, codes are free.
    ok(&data, &["plugin", "disable", "keywords", "--aktenplan", "99.99"]);
    let bad = run(&data, &["plugin", "disable", "keywords", "--media-type", "kaputt"]).fails_with_sentence();
    assert!(bad.stderr.contains("is not a media type"), "{bad}");

    // With one, a code that neither a node nor an Akte has is a mistake.
    let admin = token(&data, "admin", "test-admin", &[]);
    let srv = Server::start(&data, false, &[]);
    let r = client()
        .post(srv.url("/aktenplan"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"code": "61", "title": "Immissionsschutz"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    srv.stop();
    let unknown = run(&data, &["plugin", "disable", "keywords", "--aktenplan", "99.98"]).fails_with_sentence();
    assert!(unknown.stderr.contains("99.98"), "{unknown}");
    ok(&data, &["plugin", "disable", "keywords", "--aktenplan", "61"]);
    run(&data, &["plugin", "enable", "keywords", "--aktenplan", "6"]).fails_with_sentence();
    let blank = run(&data, &["plugin", "enable", "keywords", "--aktenplan", ""]).fails_with_sentence();
    assert!(blank.stderr.contains("needs an Aktenplan code"), "{blank}");
}

#[test]
fn a_plugin_is_scoped_from_its_install_and_pausing_keeps_its_scope() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "data");
    let (in_scope, outside) = (create(&data, "61.2-0001/2026", "Windpark"), create(&data, "63.1-0001/2026", "Kita"));
    ok(&data, &["aktenplan", "add", "61.2", "--title", "Immissionsschutz"]);
    ok(&data, &["aktenplan", "add", "63.1", "--title", "Baugenehmigungen"]);
    ok(&data, &["set", &in_scope, "aktenplan=61.2"]);
    ok(&data, &["set", &outside, "aktenplan=63.1"]);
    let (wasm, toml) = guest("keywords");
    let text = "Stellungnahme zur Windenergieanlage".as_bytes();
    let enriched = |akte: &str, name: &str| -> bool {
        let file = write_file(tmp.path(), name, text);
        let rows = common::add(&data, akte, &[file]);
        let view = ok(&data, &["text", rows[0]["id"].as_str().unwrap(), "--json"]).json();
        view["producers"].as_array().unwrap().iter().any(|p| p.as_str().unwrap().starts_with("enrich:keywords@"))
    };
    // Installed for one Aktenplan code from the start: it never runs elsewhere.
    let (plan, m) = ("--aktenplan", "--manifest");
    ok(&data, &["plugin", "add", s(&wasm), m, s(&toml), plan, "61.2"]);
    assert!(enriched(&in_scope, "a.txt") && !enriched(&outside, "b.txt"));

    // Paused, it runs nowhere; resumed, it has its scope again, not everywhere.
    let paused = ok(&data, &["plugin", "disable", "keywords"]);
    assert!(paused.out().contains("paused"), "{paused}");
    assert_eq!(ok(&data, &["plugin", "list", "--json"]).json()[0]["paused"], true);
    assert!(!enriched(&in_scope, "c.txt"));
    let resumed = ok(&data, &["plugin", "enable", "keywords"]);
    assert!(resumed.out().contains("resumed") && resumed.out().contains("61.2"), "{resumed}");
    assert!(enriched(&in_scope, "d.txt") && !enriched(&outside, "e.txt"));

    // Added again with --paused, the same component is paused, not left running.
    ok(&data, &["plugin", "add", s(&wasm), m, s(&toml), "--paused"]);
    assert_eq!(ok(&data, &["plugin", "list", "--json"]).json()[0]["paused"], true);
    assert!(!enriched(&in_scope, "g.txt"));

    // Installed paused (a new version keeps the state), it waits for `enable`.
    let data2 = init_repo(tmp.path(), "data2");
    let akte2 = create(&data2, "61.2-0002/2026", "Windpark");
    ok(&data2, &["plugin", "add", s(&wasm), m, s(&toml), "--paused"]);
    let file = write_file(tmp.path(), "f.txt", text);
    let rows = common::add(&data2, &akte2, &[file]);
    let view = ok(&data2, &["text", rows[0]["id"].as_str().unwrap(), "--json"]).json();
    assert!(!view["producers"].to_string().contains("enrich:keywords@"), "{view}");
}

#[test]
fn plugin_test_runs_a_component_locally_and_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (wasm, toml) = guest("keywords");
    let doc = write(tmp.path(), "gutachten.txt", "Schallimmissionsprognose für die Windenergieanlage WEA 3".as_bytes());
    let out = ok(&data, &["plugin", "test", s(&wasm), s(&doc), "--manifest", s(&toml), "--json"]).json();
    assert_eq!(out["result"]["document_type"], "Schallgutachten", "{out}");
    assert!(out["result"]["tags"].as_array().unwrap().iter().any(|t| t == "windkraft"), "{out}");
    assert!(!data.exists(), "plugin test needs no repository and creates none");

    let (pdf, pdf_toml) = guest("pdf");
    let bad = write(tmp.path(), "kaputt.pdf", b"%PDF-1.7 nothing else");
    let failed = run(&data, &["plugin", "test", s(&pdf), s(&bad), "--manifest", s(&pdf_toml)]).fails_with_sentence();
    assert!(failed.stderr.contains("pdf"), "{failed}");

    // What a plugin logged before it failed is shown, and how many records were dropped.
    let (hostile, _) = guest("hostile");
    let manifest = write(
        tmp.path(),
        "hostile.toml",
        b"name = \"hostile\"\nversion = \"0.1.0\"\nworld = \"extractor\"\nmedia-types = [\"text/plain\"]\n",
    );
    let failing = write(tmp.path(), "fail.txt", b"log-then-fail");
    let r = run(&data, &["plugin", "test", s(&hostile), s(&failing), "--manifest", s(&manifest)]);
    assert_ne!(r.code, 0, "{r}");
    assert!(r.stderr.contains("log Error: about to fail on purpose"), "{r}");
    assert!(r.stderr.contains("failing on purpose after a log record"), "{r}");
    let r = run(&data, &["plugin", "test", s(&hostile), s(&failing), "--manifest", s(&manifest), "--json"]);
    let v: Value = serde_json::from_slice(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r}"));
    assert_eq!(v["logs"][0], "Error: about to fail on purpose", "{v}");
    let flood = write(tmp.path(), "flood.txt", b"log-flood");
    let out = ok(&data, &["plugin", "test", s(&hostile), s(&flood), "--manifest", s(&manifest)]).out();
    assert!(out.contains("log 9744 further record(s) dropped"), "{out}");

    // The document's context is given as the repository would: the windkraft enricher
    // takes a letter that names no turbine for a wind-energy document when its Akte does.
    let (windkraft, windkraft_toml) = guest("windkraft-rust");
    let letter = write(tmp.path(), "vermerk.txt", "Vermerk über die Ortsbesichtigung am 3. März 2026.".as_bytes());
    let test = |extra: &[&str]| {
        let mut args = vec!["plugin", "test", s(&windkraft), s(&letter), "--manifest", s(&windkraft_toml), "--json"];
        args.extend_from_slice(extra);
        ok(&data, &args).json()["result"].clone()
    };
    let alone = test(&[]);
    let in_akte = test(&["--akte-title", "Windpark Hohe Heide", "--aktenplan", "61.2", "--field", "absender=Gemeinde"]);
    assert_ne!(alone, in_akte, "the Akte's title reached the plugin: {alone} / {in_akte}");
    let r =
        run(&data, &["plugin", "test", s(&windkraft), s(&letter), "--manifest", s(&windkraft_toml), "--field", "x"]);
    assert!(r.fails_with_sentence().stderr.contains("NAME=VALUE"));
    // A scanned PDF gets its pages read by OCR first, as in the repository.
    let scan = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/windpark-hohe-heide/toeb/05-stellungnahme-bundeswehr-scan.pdf");
    let r = ok(&data, &["plugin", "test", s(&windkraft), s(&scan), "--manifest", s(&windkraft_toml), "--json"]);
    assert!(!r.stderr.contains("no text could be extracted"), "{r}");
    assert_eq!(r.json()["result"]["document_type"], "Stellungnahme", "{r}");
}

#[test]
fn bad_plugins_and_manifests_are_refused_with_one_sentence() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "data");
    let (wasm, toml) = guest("keywords");
    let not_wasm = write(tmp.path(), "x.wasm", b"not a component");
    let r = run(&data, &["plugin", "add", s(&not_wasm), "--manifest", s(&toml)]).fails_with_sentence();
    assert!(r.stderr.contains("not a valid WebAssembly component"), "{r}");
    let bad = write(
        tmp.path(),
        "bad.toml",
        b"name = \"Keywords!\"\nversion = \"1\"\nworld = \"enricher\"\nmedia-types = []\n",
    );
    run(&data, &["plugin", "add", s(&wasm), "--manifest", s(&bad)]).fails_with_sentence();
    // Without --manifest: NAME.toml, else plugin.toml beside the component, else refused.
    let r = run(&data, &["plugin", "add", s(&not_wasm)]).fails_with_sentence();
    assert!(r.stderr.contains("There is no manifest for") && r.stderr.contains("--manifest"), "{r}");
    let beside = tmp.path().join("beside");
    std::fs::create_dir_all(&beside).unwrap();
    std::fs::copy(&wasm, beside.join("stichwort.wasm")).unwrap();
    std::fs::copy(&toml, beside.join("plugin.toml")).unwrap();
    let added = ok(&data, &["plugin", "add", s(&beside.join("stichwort.wasm")), "--json"]).json();
    assert_eq!(added["name"], "keywords", "{added}");
    ok(&data, &["plugin", "remove", "keywords"]);
    assert_eq!(toml.file_stem(), wasm.file_stem(), "the guests' manifests are NAME.toml");
    let added = ok(&data, &["plugin", "add", s(&wasm), "--json"]).json();
    assert_eq!(added["name"], "keywords", "{added}");
    ok(&data, &["plugin", "remove", "keywords"]);
    let greedy = write(
        tmp.path(),
        "net.toml",
        b"name = \"keywords\"\nversion = \"0.1.0\"\nworld = \"enricher\"\nmedia-types = [\"*/*\"]\ncapabilities = [\"network\"]\n",
    );
    let r = run(&data, &["plugin", "add", s(&wasm), "--manifest", s(&greedy)]).fails_with_sentence();
    assert!(r.stderr.contains("network"), "{r}");
    // A manifest naming the wrong world for the component.
    let wrong = write(
        tmp.path(),
        "wrong.toml",
        b"name = \"keywords\"\nversion = \"0.1.0\"\nworld = \"validator\"\nmedia-types = [\"*/*\"]\n",
    );
    run(&data, &["plugin", "add", s(&wasm), "--manifest", s(&wrong)]).fails_with_sentence();
    run(&data, &["plugin", "enable", "nonesuch"]).fails_with_sentence();
    assert_eq!(ok(&data, &["plugin", "list", "--json"]).json().as_array().unwrap().len(), 0);
}

#[test]
fn ingest_retries_what_failed_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "data");
    let akte = create(&data, "61.2-0815/2026", "Windpark Hohe Heide");
    let (wasm, _) = guest("hostile");
    let manifest = write(
        tmp.path(),
        "hostile.toml",
        b"name = \"hostile\"\nversion = \"0.1.0\"\nworld = \"extractor\"\nmedia-types = [\"text/plain\"]\n\
          [limits]\ntimeout-ms = 200\n",
    );
    ok(&data, &["plugin", "add", s(&wasm), "--manifest", s(&manifest)]);
    // A second extractor for some of the same types is installed, and told which one wins.
    let (txt, _) = guest("txt");
    let wide = write(
        tmp.path(),
        "zeilen.toml",
        b"name = \"zeilen\"\nversion = \"0.1.0\"\nworld = \"extractor\"\nmedia-types = [\"text/*\"]\n",
    );
    let second = run(&data, &["plugin", "add", s(&txt), "--manifest", s(&wide)]);
    assert_eq!(second.code, 0, "{second}");
    assert!(
        second.stderr.contains("the extractor hostile also takes text/plain")
            && second.stderr.contains("goes to hostile"),
        "{second}"
    );
    ok(&data, &["plugin", "remove", "zeilen"]);
    let looping = write(tmp.path(), "schleife.txt", b"loop Windpark");
    let fine = write(tmp.path(), "echo.txt", b"echo Windpark");
    add(&data, &akte, &[looping, fine]);
    let nothing = ok(&data, &["ingest"]).out();
    assert!(nothing.contains("nothing to do"), "{nothing}");

    // The timed-out extraction is run again (and times out again: the input loops); the
    // document that worked is left alone.
    let report = ok(&data, &["ingest", "--retry-failed", "--json"]).json();
    assert_eq!(report["versions"], 1, "{report}");
    assert_eq!(report["produced"]["extract"], 1, "{report}");
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{report}");
    assert!(failures[0][1].as_str().unwrap().starts_with("extract:hostile@"), "{report}");
    let said = ok(&data, &["ingest", "--retry-failed"]).out();
    assert!(said.contains("0 Dokument(e) lacking results processed, 1 retried; 1 failure(s) recorded"), "{said}");

    // Without the plugin, its failure is no longer this node's to retry (the built-in
    // extractor gives the text that worked a result of its own first).
    ok(&data, &["plugin", "remove", "hostile"]);
    ok(&data, &["ingest"]);
    let none = ok(&data, &["ingest", "--retry-failed"]).out();
    assert!(none.contains("nothing to do") && none.contains("none failed"), "{none}");
}

#[test]
fn removing_an_enricher_takes_its_suggestions_out_of_search_too() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "data");
    let akte = create(&data, "61.2-0815/2026", "Windpark Hohe Heide");
    let (keywords, toml) = guest("keywords");
    ok(&data, &["plugin", "add", s(&keywords), "--manifest", s(&toml)]);
    let doc = write(tmp.path(), "prognose.txt", "Schallimmissionsprognose der Windenergieanlage".as_bytes());
    let id = add(&data, &akte, &[doc])[0]["id"].as_str().unwrap().to_string();
    let typed = |data: &std::path::Path| ok(data, &["search", "--json", "typ:Schallgutachten"]).json()["total"].clone();
    assert_eq!(ok(&data, &["text", &id, "--json"]).json()["document_type"], "Schallgutachten");
    assert_eq!(typed(&data), 1);
    // Removed, its suggestion is no longer shown, by akte text nor by search.
    ok(&data, &["plugin", "remove", "keywords"]);
    assert_eq!(ok(&data, &["text", &id, "--json"]).json()["document_type"], Value::Null);
    assert_eq!(typed(&data), 0);
}

#[test]
fn a_running_server_follows_plugins_installed_and_removed_on_another_node() {
    let nodes = TwoNodes::new();
    let (akte, admin, other, join) = (&nodes.akte, &nodes.admin, &nodes.other, nodes.join());
    let srv = Server::start(&nodes.data, true, &[]);
    let c = client();
    let (keywords, toml) = guest("keywords");
    on_other_node(&c, &srv, other, &join, &["plugin", "add", s(&keywords), "--manifest", s(&toml)]);
    let form = reqwest::blocking::multipart::Form::new().part(
        "file",
        reqwest::blocking::multipart::Part::bytes(b"Schallimmissionsprognose der Windenergieanlage".to_vec())
            .file_name("prognose.txt"),
    );
    let r = c.post(srv.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(admin).multipart(form).send().unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    // The ingest worker runs the enricher installed after the server started, the text view
    // shows its suggestion, and search finds it.
    let until = |what: &str, done: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while !done() {
            assert!(start.elapsed() < std::time::Duration::from_secs(30), "{what}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let text = || -> Value {
        c.get(srv.url(&format!("/dokumente/{id}/text"))).bearer_auth(admin).send().unwrap().json().unwrap()
    };
    let typed = || -> Value {
        let v: Value =
            c.get(srv.url("/search?q=typ:Schallgutachten")).bearer_auth(admin).send().unwrap().json().unwrap();
        v["total"].clone()
    };
    until("the new enricher's suggestion", &|| text()["document_type"] == "Schallgutachten");
    until("search by the suggestion", &|| typed() == 1);
    // Removed on the other node: gone from the text view and from search.
    on_other_node(&c, &srv, other, &join, &["plugin", "remove", "keywords"]);
    until("the text view without it", &|| text()["document_type"].is_null());
    until("search without it", &|| typed() == 0);
}

#[test]
fn a_validator_that_cannot_decide_is_named_to_the_client_or_refuses_by_policy() {
    let nodes = TwoNodes::new();
    let (data, akte, admin, other, join) = (&nodes.data, &nodes.akte, &nodes.admin, &nodes.other, nodes.join());
    // The validator asks for 1 GiB, which the other node allows and the server does not.
    let (wasm, _) = guest("basic-validator");
    let manifest = other.with_extension("validator.toml");
    std::fs::write(
        &manifest,
        "name = \"basic-validator\"\nversion = \"0.1.0\"\nworld = \"validator\"\n\
         media-types = [\"*/*\"]\n[limits]\nmemory-mib = 1024\n",
    )
    .unwrap();
    ok(other, &[&join[..], &["plugin", "add", s(&wasm), "--manifest", s(&manifest)]].concat());
    let upload = |srv: &Server, name: &str, bytes: &[u8]| {
        let form = reqwest::blocking::multipart::Form::new()
            .part("file", reqwest::blocking::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()));
        client().post(srv.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(admin).multipart(form).send().unwrap()
    };
    let listed = ok(data, &["plugin", "list", "--json"]).json();
    assert_eq!(listed[0]["loads"], true, "{listed}");

    // By default the upload is stored, and the answer says what was not checked.
    let srv = Server::start(data, false, &[("AKTE_PLUGIN_MAX_MEMORY_MIB", "900")]);
    let r = upload(&srv, "leer.txt", b"");
    assert_eq!(r.status(), 201);
    let body: serde_json::Value = r.json().unwrap();
    let warnings = body["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("basic-validator")), "{body}");
    srv.stop();
    let r = run_env(data, &["plugin", "list"], &[("AKTE_PLUGIN_MAX_MEMORY_MIB", "900")]);
    assert!(r.out().contains("does not load on this node"), "{r}");

    // A node that refuses what is not validated answers 422 with the code `undecided`.
    let srv =
        Server::start(data, false, &[("AKTE_PLUGIN_MAX_MEMORY_MIB", "900"), ("AKTE_VALIDATION_UNDECIDED", "reject")]);
    let r = upload(&srv, "noch-leer.txt", b"");
    assert_eq!(r.status(), 422);
    let problem: serde_json::Value = r.json().unwrap();
    assert_eq!((&problem["plugin"], &problem["code"]), (&json!("basic-validator"), &json!("undecided")), "{problem}");
    // Where it loads, the validator decides, and its own code and reason are members too.
    srv.stop();
    let srv = Server::start(data, false, &[("AKTE_VALIDATION_UNDECIDED", "reject")]);
    let problem: serde_json::Value = upload(&srv, "leer.txt", b"").json().unwrap();
    assert_eq!((&problem["plugin"], &problem["code"]), (&json!("basic-validator"), &json!("empty-file")), "{problem}");
    assert!(problem["reason"].as_str().unwrap().contains("leer"), "{problem}");
    srv.stop();
}

#[test]
fn a_validator_whose_component_cannot_be_read_is_undecided_not_skipped() {
    let nodes = TwoNodes::new();
    let (data, akte, admin) = (&nodes.data, &nodes.akte, &nodes.admin);
    let objects = data.join("store/objects");
    let listing = || -> Vec<(std::path::PathBuf, u64)> {
        let mut out = Vec::new();
        for dir in std::fs::read_dir(&objects).unwrap() {
            for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                let f = f.unwrap();
                out.push((f.path(), f.metadata().unwrap().len()));
            }
        }
        out
    };
    let before = listing();
    let (wasm, toml) = guest("basic-validator");
    ok(data, &["plugin", "add", s(&wasm), "--manifest", s(&toml)]);
    // The component is by far the largest object the install wrote; it is lost.
    let component = listing().into_iter().filter(|o| !before.contains(o)).max_by_key(|(_, len)| *len).unwrap();
    assert!(component.1 > 20_000, "{component:?}");
    std::fs::remove_file(&component.0).unwrap();
    let upload = |srv: &Server, name: &str| {
        let form = reqwest::blocking::multipart::Form::new()
            .part("file", reqwest::blocking::multipart::Part::bytes(b"Vermerk".to_vec()).file_name(name.to_string()));
        client().post(srv.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(admin).multipart(form).send().unwrap()
    };

    // Where what is not validated is refused, the upload is refused, naming the validator.
    let srv = Server::start(data, false, &[("AKTE_VALIDATION_UNDECIDED", "reject")]);
    let r = upload(&srv, "vermerk.txt");
    assert_eq!(r.status(), 422);
    let problem: Value = r.json().unwrap();
    assert_eq!((&problem["plugin"], &problem["code"]), (&json!("basic-validator"), &json!("undecided")), "{problem}");
    assert!(problem["reason"].as_str().unwrap().contains("cannot be read"), "{problem}");
    srv.stop();
    // By default it is stored, and the answer says which validator did not run, and why.
    let srv = Server::start(data, false, &[]);
    let r = upload(&srv, "vermerk.txt");
    assert_eq!(r.status(), 201);
    let body: Value = r.json().unwrap();
    let warned = body["warnings"].as_array().unwrap().iter().any(|w| {
        let w = w.as_str().unwrap();
        w.contains("basic-validator") && w.contains("cannot be read")
    });
    assert!(warned, "{body}");
    srv.stop();
}

#[test]
fn an_import_is_validated_for_what_its_files_are_not_only_for_the_declared_type() {
    let tmp = tempfile::tempdir().unwrap();
    // An empty file named .pdf, uploaded declared as plain text where no validator runs.
    let a = init_repo(tmp.path(), "a");
    let akte = create(&a, "61.2-0815/2026", "Windpark Hohe Heide");
    let admin = token(&a, "admin", "test-admin", &[]);
    let srv = Server::start(&a, false, &[]);
    let part =
        reqwest::blocking::multipart::Part::bytes(Vec::new()).file_name("leer.pdf").mime_str("text/plain").unwrap();
    let form = reqwest::blocking::multipart::Form::new().part("file", part);
    let r =
        client().post(srv.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(&admin).multipart(form).send().unwrap();
    assert_eq!(r.status(), 201);
    srv.stop();
    let bag = tmp.path().join("bag");
    ok(&a, &["export", "--format", "bagit", "--akte", "61.2-0815/2026", "--out", bag.to_str().unwrap()]);

    // Where the validator runs for PDF only, the package's declared type does not steer
    // around it: the name says PDF, so it is asked, and refuses the empty file.
    let b = init_repo(tmp.path(), "b");
    let (wasm, toml) = guest("basic-validator");
    ok(&b, &["plugin", "add", s(&wasm), "--manifest", s(&toml), "--media-type", "application/pdf"]);
    let refused = run(&b, &["import", bag.to_str().unwrap()]).fails_with_sentence();
    assert!(refused.stderr.contains("leer.pdf") && refused.stderr.contains("basic-validator"), "{refused}");
    assert_eq!(ok(&b, &["ls", "--json"]).json(), serde_json::json!([]), "nothing was imported");
    // The bag itself declares plain text: only the file's name made the validator run.
    let declared = std::fs::read_dir(bag.join("data/61.2-0815_2026"))
        .unwrap()
        .map(|d| d.unwrap().path().join("dokument.json"))
        .filter_map(|p| std::fs::read(p).ok())
        .map(|b| serde_json::from_slice::<Value>(&b).unwrap())
        .find(|d| d.to_string().contains("leer.pdf"))
        .unwrap();
    assert_eq!(declared["versions"][0]["fields"]["media_type"], "text/plain", "{declared}");
    ok(&b, &["plugin", "remove", "basic-validator"]);
    ok(&b, &["import", bag.to_str().unwrap()]);
    assert_eq!(ok(&b, &["ls", "--json"]).json().as_array().unwrap().len(), 1);
}

#[test]
fn an_import_is_validated_like_an_upload_and_refused_whole() {
    let tmp = tempfile::tempdir().unwrap();
    // A bag made where no validator runs, with an empty file among others.
    let a = init_repo(tmp.path(), "a");
    create(&a, "61.2-0815/2026", "Windpark Hohe Heide");
    let files = [
        write_file(tmp.path(), "vermerk.txt", b"Vermerk zur Ortsbesichtigung"),
        write_file(tmp.path(), "leer.txt", b""),
    ];
    common::add(&a, "61.2-0815/2026", &files);
    let bag = tmp.path().join("bag");
    ok(&a, &["export", "--format", "bagit", "--akte", "61.2-0815/2026", "--out", bag.to_str().unwrap()]);

    // Imported where the validator runs: refused, naming the file and why; nothing is in.
    let b = init_repo(tmp.path(), "b");
    let (wasm, toml) = guest("basic-validator");
    ok(&b, &["plugin", "add", s(&wasm), "--manifest", s(&toml)]);
    let refused = run(&b, &["import", bag.to_str().unwrap()]).fails_with_sentence();
    assert!(refused.stderr.contains("leer.txt") && refused.stderr.contains("basic-validator"), "{refused}");
    assert_eq!(ok(&b, &["ls", "--json"]).json(), serde_json::json!([]), "nothing was imported");
    // Without it, the same bag goes in.
    ok(&b, &["plugin", "remove", "basic-validator"]);
    ok(&b, &["import", bag.to_str().unwrap()]);
    assert_eq!(ok(&b, &["ls", "--json"]).json().as_array().unwrap().len(), 1);
}
