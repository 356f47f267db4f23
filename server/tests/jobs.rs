//! Export and import jobs over REST against a real `akte serve`: a BagIt export polled to
//! its end, downloaded, unzipped and checked by `bagit.py --validate`, then imported into a
//! second repository's server; OCFL and xdomea exports; who may start, see and delete a
//! job; hostile packages (zip slip, absolute names, symbolic links, a zip bomb, garbage)
//! that end as failed jobs and change nothing.

mod common;

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
    time::{Duration, Instant},
};

use common::{Server, assert_problem, client, init_repo, token};
use reqwest::blocking::Client;
use serde_json::{Value, json};

fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The bin directory of the pinned Python validators (installed on first use).
fn py_tools() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/install-py-tools.sh");
        let out = Command::new("bash").arg(script).output().expect("bash runs scripts/install-py-tools.sh");
        assert!(out.status.success(), "install-py-tools.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
        let bin = PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim());
        assert!(bin.join("bagit.py").is_file(), "bagit.py is missing from {}", bin.display());
        bin
    })
}

fn validator(tool: &str, args: &[&str], path: &Path) {
    let out = Command::new(py_tools().join(tool)).args(args).arg(path).output().expect("the validator runs");
    assert!(
        out.status.success(),
        "{tool} rejects {}:\n{}{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn create_akte(c: &Client, s: &Server, t: &str, az: &str, title: &str, unit: &str) -> String {
    let body = json!({"aktenzeichen": az, "title": title, "access": {"units": [unit]}});
    let r = c.post(s.url("/akten")).bearer_auth(t).json(&body).send().unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string()
}

fn upload(c: &Client, s: &Server, t: &str, akte: &str, name: &str, bytes: &[u8]) -> String {
    let r = c
        .post(s.url(&format!("/akten/{akte}/dokumente?file_name={name}")))
        .bearer_auth(t)
        .body(bytes.to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string()
}

/// Checks a 202 job answer; returns the job's URL.
fn accepted(s: &Server, r: reqwest::blocking::Response) -> String {
    assert_eq!(r.status(), 202, "{:?}", r.text());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let job: Value = r.json().unwrap();
    assert_eq!(location, format!("/api/v1/jobs/{}", job["id"].as_str().unwrap()));
    assert!(matches!(job["state"].as_str(), Some("queued" | "running")), "{job}");
    format!("{}{location}", s.base)
}

/// Polls a job until it is done or failed.
fn wait(c: &Client, url: &str, t: &str) -> Value {
    let start = Instant::now();
    loop {
        let r = c.get(url).bearer_auth(t).send().unwrap();
        assert_eq!(r.status(), 200);
        let job: Value = r.json().unwrap();
        if matches!(job["state"].as_str(), Some("done" | "failed")) {
            assert!(job["finished"].is_string(), "{job}");
            return job;
        }
        assert!(start.elapsed() < Duration::from_secs(180), "the job did not finish: {job}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn export(c: &Client, s: &Server, t: &str, body: Value) -> Value {
    let url = accepted(s, c.post(s.url("/exports")).bearer_auth(t).json(&body).send().unwrap());
    let job = wait(c, &url, t);
    assert_eq!(job["state"], "done", "{job}");
    job
}

fn download(c: &Client, s: &Server, t: &str, job: &Value) -> Vec<u8> {
    let path = job["download"].as_str().expect("a finished export has a download");
    let r = c.get(format!("{}{path}", s.base)).bearer_auth(t).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"") && disposition.ends_with(".zip\""), "{disposition}");
    let len: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let bytes = r.bytes().unwrap().to_vec();
    assert_eq!(bytes.len(), len);
    assert_eq!(Some(len as u64), job["download_size"].as_u64());
    bytes
}

fn unzip(bytes: &[u8], dest: &Path) {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("the download is a ZIP");
    z.extract(dest).expect("the ZIP unpacks");
}

fn import(c: &Client, s: &Server, t: &str, package: Vec<u8>) -> Value {
    let r = c.post(s.url("/imports")).bearer_auth(t).header("content-type", "application/zip").body(package);
    let url = accepted(s, r.send().unwrap());
    wait(c, &url, t)
}

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            out.extend(files(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

fn only_dir(root: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(root).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(dirs.len(), 1, "one folder at the top of the ZIP: {dirs:?}");
    dirs[0].clone()
}

fn assert_sentence(s: &str) {
    assert!(s.ends_with('.') && s.chars().next().is_some_and(char::is_uppercase), "not a sentence: {s}");
    assert!(!s.contains('\n'), "one line: {s}");
}

#[test]
fn exports_download_validate_and_import_into_a_second_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "admin", &[]);
    let archivist = token(&data, "archivist", "archiv", &["umweltamt"]);
    let other = token(&data, "archivist", "archiv-2", &["umweltamt"]);
    let clerk = token(&data, "clerk", "sachbearbeitung", &["umweltamt"]);
    let s = Server::start(&data, false, &[("AKTE_INSTITUTION", "Landratsamt Musterkreis")]);
    let c = client();

    let akte = create_akte(&c, &s, &admin, "61.2-1/2026", "Windpark Testfeld", "umweltamt");
    let foreign = create_akte(&c, &s, &admin, "63-7/2026", "Geheimer Bauantrag Zanderufer", "bauamt");
    let big = random_bytes(5 << 20, 11);
    let small = "Antrag auf Genehmigung nach § 4 BImSchG\n".as_bytes().to_vec();
    let big_dok = upload(&c, &s, &admin, &akte, "Gutachten.pdf", &big);
    upload(&c, &s, &admin, &akte, "Antrag.txt", &small);
    let plan = random_bytes(70_000, 5);
    upload(&c, &s, &admin, &foreign, "Lageplan.tif", &plan);

    // Who may start jobs: exports admin and archivist, imports admin only.
    let r = c.post(s.url("/exports")).bearer_auth(&clerk).json(&json!({"format": "bagit"})).send().unwrap();
    assert_problem(r, 403, "forbidden");
    let r = c.post(s.url("/imports")).bearer_auth(&clerk).body(b"PK".to_vec()).send().unwrap();
    assert_problem(r, 403, "forbidden");
    let r = c.post(s.url("/imports")).bearer_auth(&archivist).body(b"PK".to_vec()).send().unwrap();
    assert_problem(r, 403, "forbidden");
    let r = c.post(s.url("/exports")).send().unwrap();
    assert_problem(r, 401, "unauthenticated");
    let r = c.post(s.url("/exports")).bearer_auth(&archivist).json(&json!({"format": "zip"})).send().unwrap();
    assert_eq!(r.status(), 422);
    // An Akte the caller cannot see is absent, and its title does not leak.
    let r = c
        .post(s.url("/exports"))
        .bearer_auth(&archivist)
        .json(&json!({"format": "bagit", "akten": [akte, foreign]}))
        .send()
        .unwrap();
    let detail = assert_problem(r, 404, "not-found");
    // (The whole Aktenzeichen: its start, `63-7`, also turns up in about one id in 256.)
    assert!(!detail.contains("Zanderufer") && !detail.contains("63-7/2026"), "{detail}");

    // BagIt: polled to its end, downloaded, valid, the documents byte for byte.
    let job = export(&c, &s, &archivist, json!({"format": "bagit", "akten": [akte]}));
    assert_eq!(job["kind"], "export");
    assert_eq!(job["format"], "bagit");
    assert!(job["error"].is_null());
    assert_eq!(job["result"]["akten"], 1);
    assert_eq!(job["result"]["dokumente"], 2);
    assert_eq!(job["result"]["versionen"], 2);
    assert_eq!(job["result"]["bytes"], big.len() + small.len());
    assert_eq!(job["progress"]["done"], job["progress"]["total"]);
    assert!(job["progress"]["total"].as_u64().unwrap() >= (big.len() + small.len()) as u64, "{job}");
    assert!(job["expires"].is_string());
    let bag_zip = download(&c, &s, &archivist, &job);
    let unpacked = tmp.path().join("bag-unpacked");
    unzip(&bag_zip, &unpacked);
    let bag = only_dir(&unpacked);
    validator("bagit.py", &["--validate"], &bag);
    let contents: Vec<Vec<u8>> = files(&bag.join("data")).iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(contents.contains(&big), "the bag holds the large document byte for byte");
    assert!(contents.contains(&small), "the bag holds the small document byte for byte");
    let job_id = job["id"].as_str().unwrap().to_string();
    let job_url = s.url(&format!("/jobs/{job_id}"));

    // The job is its creator's: another archivist gets 404 everywhere; the admin sees it.
    for r in [
        c.get(&job_url).bearer_auth(&other).send().unwrap(),
        c.get(format!("{job_url}/result")).bearer_auth(&other).send().unwrap(),
        c.delete(&job_url).bearer_auth(&other).send().unwrap(),
    ] {
        assert_problem(r, 404, "not-found");
    }
    let mine: Value = c.get(s.url("/jobs")).bearer_auth(&other).send().unwrap().json().unwrap();
    assert_eq!(mine, json!([]));
    let all: Value = c.get(s.url("/jobs")).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert!(all.as_array().unwrap().iter().any(|j| j["id"] == job_id.as_str()), "{all}");

    // Without a list: every Akte the caller may see, and only those.
    let job_all = export(&c, &s, &archivist, json!({"format": "bagit"}));
    assert_eq!(job_all["result"]["akten_ids"], json!([akte]));

    // OCFL: a valid storage root.
    let ocfl_job = export(&c, &s, &admin, json!({"format": "ocfl", "akten": [akte]}));
    let ocfl_zip = download(&c, &s, &admin, &ocfl_job);
    let ocfl_dir = tmp.path().join("ocfl-unpacked");
    unzip(&ocfl_zip, &ocfl_dir);
    let root = only_dir(&ocfl_dir);
    assert!(root.join("0=ocfl_1.1").is_file());
    validator("ocfl-validate.py", &[], &root);

    // xdomea: the message ZIP as is.
    let x_job = export(&c, &s, &admin, json!({"format": "xdomea", "akten": [foreign]}));
    let x_zip = download(&c, &s, &admin, &x_job);
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(&x_zip)).expect("the xdomea download is a ZIP");
    let names: Vec<String> = z.file_names().map(str::to_string).collect();
    assert!(names[0].ends_with("_Abgabe.Abgabe.0401.xml"), "{names:?}");
    let mut xml = String::new();
    z.by_index(0).unwrap().read_to_string(&mut xml).unwrap();
    let absender = xml.split("Absender>").nth(1).unwrap_or_else(|| panic!("no Absender: {xml}"));
    assert!(absender.contains("Landratsamt Musterkreis"), "the configured agency sends it: {absender}");
    let mut found = false;
    for i in 0..z.len() {
        let mut bytes = Vec::new();
        z.by_index(i).unwrap().read_to_end(&mut bytes).unwrap();
        found |= bytes == plan;
    }
    assert!(found, "the message holds the document byte for byte");

    // Delete: the job and its plaintext files go.
    let r = c.delete(&job_url).bearer_auth(&archivist).send().unwrap();
    assert_eq!(r.status(), 204);
    assert_problem(c.get(&job_url).bearer_auth(&archivist).send().unwrap(), 404, "not-found");
    assert!(!data.join("jobs").join(&job_id).exists(), "the export's files are removed");
    assert!(data.join("jobs").join(job_all["id"].as_str().unwrap()).exists(), "other jobs stay");

    // The OpenAPI document describes the jobs.
    let doc: Value = c.get(s.url("/openapi.json")).send().unwrap().json().unwrap();
    for (path, method) in [
        ("/api/v1/exports", "post"),
        ("/api/v1/imports", "post"),
        ("/api/v1/jobs", "get"),
        ("/api/v1/jobs/{id}", "get"),
        ("/api/v1/jobs/{id}", "delete"),
        ("/api/v1/jobs/{id}/result", "get"),
    ] {
        assert_eq!(doc["paths"][path][method]["tags"], json!(["Austausch"]), "{method} {path}");
    }
    assert_eq!(c.get(s.url("/docs")).send().unwrap().status(), 200);

    // Jobs do not survive a restart, and neither do their plaintext files.
    let left = data.join("jobs").join(job_all["id"].as_str().unwrap());
    assert!(left.exists());
    s.stop();
    let s = Server::start(&data, false, &[]);
    // (Answered, so the router is built: it wipes the files.)
    assert_eq!(c.get(s.url("/jobs")).bearer_auth(&admin).send().unwrap().json::<Value>().unwrap(), json!([]));
    assert!(!data.join("jobs").exists(), "a restart removes the files of earlier jobs");
    drop(s);

    // A second repository imports the bag and the xdomea message.
    let data_b = init_repo(tmp.path(), "b");
    let admin_b = token(&data_b, "admin", "admin-b", &[]);
    let s2 = Server::start(&data_b, false, &[]);
    let job = import(&c, &s2, &admin_b, bag_zip.clone());
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["kind"], "import");
    assert_eq!(job["format"], "bagit");
    assert_eq!(job["result"]["akten_ids"], json!([akte]));
    assert_eq!(job["result"]["dokumente"], 2);
    assert!(job["download"].is_null());
    let import_id = job["id"].as_str().unwrap();
    assert!(!data_b.join("jobs").join(import_id).exists(), "the uploaded package is removed");
    let r = c.get(s2.url(&format!("/jobs/{import_id}/result"))).bearer_auth(&admin_b).send().unwrap();
    assert_problem(r, 404, "not-found");
    let got: Value = c.get(s2.url(&format!("/akten/{akte}"))).bearer_auth(&admin_b).send().unwrap().json().unwrap();
    assert_eq!(got["title"], "Windpark Testfeld");
    assert_eq!(got["fields"]["access"], json!({"units": ["umweltamt"]}), "the grants come along");
    let r = c.get(s2.url(&format!("/dokumente/{big_dok}/content"))).bearer_auth(&admin_b).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().unwrap().as_ref(), &big[..]);

    let job = import(&c, &s2, &admin_b, x_zip);
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(job["format"], "xdomea");
    assert_eq!(job["result"]["akten_ids"], json!([foreign]));
    let r = c.get(s2.url(&format!("/akten/{foreign}"))).bearer_auth(&admin_b).send().unwrap();
    assert_eq!(r.status(), 200);

    // The same bag again: refused as a whole, with one sentence.
    let job = import(&c, &s2, &admin_b, bag_zip);
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error_type"], "urn:akte:problem:conflict");
    assert_sentence(job["error"].as_str().unwrap());
    let akten: Value = c.get(s2.url("/akten")).bearer_auth(&admin_b).send().unwrap().json().unwrap();
    assert_eq!(akten["items"].as_array().unwrap().len(), 2);
}

/// A ZIP of (name, bytes, compressed) entries, written as given (no name checks).
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        w.start_file(*name, SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn hostile_imports_fail_with_a_sentence_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "admin", &[]);
    let s = Server::start(&data, false, &[("AKTE_MAX_UPLOAD_BYTES", "1048576")]);
    let c = client();
    let changes_before: Value = c.get(s.url("/changes?limit=1000")).bearer_auth(&admin).send().unwrap().json().unwrap();

    let bagit_txt: &[u8] = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";
    let escape = tmp.path().join("evil.txt");
    let absolute = tmp.path().join("absolute-evil.txt");
    let zeros = vec![0u8; 3 << 20];
    let symlink = {
        use zip::write::SimpleFileOptions;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file("bag/bagit.txt", SimpleFileOptions::default()).unwrap();
        w.write_all(bagit_txt).unwrap();
        w.add_symlink("bag/data/passwd", "/etc/passwd", SimpleFileOptions::default()).unwrap();
        w.finish().unwrap().into_inner()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("zip slip", zip_of(&[("bag/bagit.txt", bagit_txt), ("bag/../../evil.txt", b"gotcha")])),
        ("absolute name", zip_of(&[("bagit.txt", bagit_txt), (absolute.to_str().unwrap(), b"gotcha")])),
        ("symbolic link", symlink),
        ("zip bomb", zip_of(&[("bag/bagit.txt", bagit_txt), ("bag/data/zeros.bin", &zeros)])),
        ("garbage", random_bytes(10_000, 3)),
        ("broken bag", zip_of(&[("bagit.txt", bagit_txt), ("data/a.txt", b"no manifest")])),
        ("not a message", zip_of(&[("readme.txt", b"hello")])),
    ];
    for (what, package) in cases {
        let job = import(&c, &s, &admin, package);
        assert_eq!(job["state"], "failed", "{what}: {job}");
        let error = job["error"].as_str().unwrap_or_else(|| panic!("{what}: no error in {job}"));
        assert_sentence(error);
        assert!(!error.contains(data.join("jobs").to_str().unwrap()), "{what}: no server path in {error}");
        assert!(job["error_type"].as_str().unwrap().starts_with("urn:akte:problem:"), "{job}");
        assert!(job["result"].is_null() && job["download"].is_null(), "{job}");
        let id = job["id"].as_str().unwrap();
        assert!(!data.join("jobs").join(id).exists(), "{what}: the package is removed");
        if what == "zip bomb" {
            assert!(error.contains("zip bomb"), "{error}");
        }
    }
    assert!(!escape.exists() && !absolute.exists(), "nothing was written outside the job");

    // Too large or empty: refused at once. Just over the limit: small enough that the
    // client has sent it all when the server answers early.
    // `Connection: close`, so that the pool does not hand the connection the server may
    // close early to the next request.
    let big = random_bytes((1 << 20) + 1024, 9);
    match c.post(s.url("/imports")).bearer_auth(&admin).header("connection", "close").body(big).send() {
        Ok(r) => {
            assert_problem(r, 413, "too-large");
        }
        // The server answers 413 as soon as the limit is passed and closes the connection;
        // a client still sending then sees the connection end instead of the answer.
        Err(e) => assert!(e.is_request() && format!("{e:?}").contains("IncompleteMessage"), "{e:?}"),
    }
    let r = c.post(s.url("/imports")).bearer_auth(&admin).body(Vec::new()).send().unwrap();
    assert_problem(r, 422, "invalid");
    // A running or finished job of nobody else's: 404 for a made-up id.
    let r = c.get(s.url("/jobs/0190a0b0-0000-7000-8000-000000000000")).bearer_auth(&admin).send().unwrap();
    assert_problem(r, 404, "not-found");

    let akten: Value = c.get(s.url("/akten")).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(akten["items"], json!([]), "no Akte appeared");
    let changes_after: Value = c.get(s.url("/changes?limit=1000")).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(changes_before, changes_after, "the journal did not change");
    let jobs: Value = c.get(s.url("/jobs")).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(jobs.as_array().unwrap().len(), 7);
    assert!(jobs.as_array().unwrap().iter().all(|j| j["state"] == "failed"));
}
