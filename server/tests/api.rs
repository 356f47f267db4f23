//! The REST API end to end against a real `akte serve`: uploads (multipart and raw),
//! downloads with Range and ETag, versions, If-Match, z.d.A., history, the change feed,
//! Idempotency-Key, bad input, two servers on one store, graceful shutdown.

mod common;

use std::time::{Duration, Instant};

use common::{Server, assert_problem, client, create_akte, init_repo, token};
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

#[test]
fn upload_download_versions_history_and_feed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let akte = create_akte(&c, &s, &admin, "61.2-1/2026", "Windpark Testfeld");

    // Multipart upload; the content spans several 4 MiB chunks.
    let bytes = random_bytes(9 << 20, 7);
    let form = reqwest::blocking::multipart::Form::new()
        .part("file", reqwest::blocking::multipart::Part::bytes(bytes.clone()).file_name("Gutachten.pdf"))
        .text("title", "Schallgutachten")
        .text("document_type", "Gutachten");
    let r = c.post(s.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(&admin).multipart(form).send().unwrap();
    assert_eq!(r.status(), 201);
    let up: Value = r.json().unwrap();
    let dok = up["id"].as_str().unwrap().to_string();
    assert_eq!(up["size"], bytes.len());
    assert_eq!(up["blake3"], blake3::hash(&bytes).to_hex().to_string());
    assert_eq!(up["media_type"], "application/pdf");

    // The whole content, byte for byte, with its headers.
    let r = c.get(s.url(&format!("/dokumente/{dok}/content"))).bearer_auth(&admin).send().unwrap();
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("Gutachten.pdf"));
    assert_eq!(r.bytes().unwrap().as_ref(), &bytes[..]);

    // Ranges across a chunk boundary, open-ended, suffix; a bad one is 416.
    for (h, from, to) in [
        ("bytes=4194300-4194400", 4_194_300usize, 4_194_401usize),
        ("bytes=9000000-", 9_000_000, bytes.len()),
        ("bytes=-10", bytes.len() - 10, bytes.len()),
        ("bytes=0-0", 0, 1),
    ] {
        let r =
            c.get(s.url(&format!("/dokumente/{dok}/content"))).bearer_auth(&admin).header("range", h).send().unwrap();
        assert_eq!(r.status(), 206, "{h}");
        assert_eq!(
            r.headers()["content-range"].to_str().unwrap(),
            format!("bytes {from}-{}/{}", to - 1, bytes.len()),
            "{h}"
        );
        assert_eq!(r.bytes().unwrap().as_ref(), &bytes[from..to], "{h}");
    }
    let r = c
        .get(s.url(&format!("/dokumente/{dok}/content")))
        .bearer_auth(&admin)
        .header("range", "bytes=99999999-")
        .send()
        .unwrap();
    assert_problem(r, 416, "range");
    // A Content-Type that is not a media type is refused, not stored and sent back.
    let r = c
        .post(s.url(&format!("/akten/{akte}/dokumente?file_name=x.bin")))
        .bearer_auth(&admin)
        .header("content-type", "not a media type")
        .body("x")
        .send()
        .unwrap();
    assert_problem(r, 415, "unsupported-media-type");
    // A range that is not valid syntax, or of another unit, is ignored (RFC 9110 §14.2):
    // the whole content.
    for h in ["items=0-1", "bytes=5-2", "bytes=x-", "bytes=0-1,5-6"] {
        let r =
            c.get(s.url(&format!("/dokumente/{dok}/content"))).bearer_auth(&admin).header("range", h).send().unwrap();
        assert_eq!(r.status(), 200, "{h}");
        assert_eq!(r.bytes().unwrap().len(), bytes.len(), "{h}");
    }
    let r = c
        .get(s.url(&format!("/dokumente/{dok}/content")))
        .bearer_auth(&admin)
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(r.status(), 304);

    // Raw body upload with a UTF-8 file name; a second version.
    let small = b"Antrag auf Genehmigung nach 4 BImSchG".to_vec();
    let r = c
        .post(s.url(&format!("/akten/{akte}/dokumente?document_type=Antrag")))
        .bearer_auth(&admin)
        .header("content-disposition", "attachment; filename*=UTF-8''%C3%9Cbersicht%20Antrag.txt")
        .body(small.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let raw: Value = r.json().unwrap();
    assert_eq!(raw["file_name"], "Übersicht Antrag.txt");
    let raw_id = raw["id"].as_str().unwrap().to_string();
    let v2 = b"Antrag, zweite Fassung".to_vec();
    let r =
        c.post(s.url(&format!("/dokumente/{raw_id}/versions"))).bearer_auth(&admin).body(v2.clone()).send().unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().unwrap()["version"], 2);
    let get = |q: &str| c.get(s.url(&format!("/dokumente/{raw_id}/content{q}"))).bearer_auth(&admin).send().unwrap();
    assert_eq!(get("").bytes().unwrap().as_ref(), &v2[..]);
    assert_eq!(get("?version=1").bytes().unwrap().as_ref(), &small[..]);
    assert_problem(get("?version=3"), 404, "not-found");
    let versions: Value =
        c.get(s.url(&format!("/dokumente/{raw_id}/versions"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 2);

    // If-Match: a stale ETag is 412 and changes nothing; the current one works.
    let r = c.get(s.url(&format!("/akten/{akte}"))).bearer_auth(&admin).send().unwrap();
    let tag = r.headers()["etag"].to_str().unwrap().to_string();
    let r = c
        .patch(s.url(&format!("/akten/{akte}")))
        .bearer_auth(&admin)
        .header("if-match", &tag)
        .json(&json!({"title": "Windpark Testfeld (neu)", "retention_years": 30}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["title"], "Windpark Testfeld (neu)");
    let r = c
        .patch(s.url(&format!("/akten/{akte}")))
        .bearer_auth(&admin)
        .header("if-match", &tag)
        .json(&json!({"title": "verloren"}))
        .send()
        .unwrap();
    assert_problem(r, 412, "stale");
    let now: Value = c.get(s.url(&format!("/akten/{akte}"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(now["title"], "Windpark Testfeld (neu)");

    // Idempotency-Key: the retry answers the same and creates nothing.
    let post = || {
        c.post(s.url(&format!("/akten/{akte}/dokumente?file_name=brief.txt")))
            .bearer_auth(&admin)
            .header("idempotency-key", "upload-42")
            .body("Sehr geehrte Damen und Herren")
            .send()
            .unwrap()
    };
    let (a, b) = (post(), post());
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (201, 201));
    assert_eq!(a.json::<Value>().unwrap()["id"], b.json::<Value>().unwrap()["id"]);
    let list: Value =
        c.get(s.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    // The same key for another request is refused, not answered with the first's result.
    let keyed = |query: &str, key: &str, body: &'static str| {
        c.post(s.url(&format!("/akten/{akte}/dokumente?{query}")))
            .bearer_auth(&admin)
            .header("idempotency-key", key)
            .body(body)
            .send()
            .unwrap()
    };
    let other = keyed("file_name=anderer-brief.txt", "upload-42", "Ein anderer Brief");
    assert_problem(other, 422, "idempotency-key-reused");
    // So is another file under the same key and the same query (its length differs).
    let other_file = keyed("file_name=brief.txt", "upload-42", "Sehr geehrte Frau Mustermann, anbei der Bescheid");
    assert_problem(other_file, 422, "idempotency-key-reused");
    // Other bytes of the very same length: refused too, once the body is read and compared.
    let same_length = keyed("file_name=brief.txt", "upload-42", "Sehr geehrte Damen und Herrxn");
    assert_problem(same_length, 422, "idempotency-key-reused");
    // The same upload with its query parameters in another order is the same request.
    let reordered = keyed("title=Brief&file_name=brief-2.txt", "order-1", "Brief in zwei Reihenfolgen");
    assert_eq!(reordered.status(), 201);
    let again_reordered = keyed("file_name=brief-2.txt&title=Brief", "order-1", "Brief in zwei Reihenfolgen");
    assert_eq!(again_reordered.headers()["idempotent-replay"], "true");
    // A replay carries the Location of the first answer.
    let again = post();
    assert_eq!(again.headers()["idempotent-replay"], "true");
    let location = again.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/dokumente/{}", again.json::<Value>().unwrap()["id"].as_str().unwrap()));
    // Multipart fields are part of the request: another date of the same length is refused.
    let form = |received: &str| {
        let file = reqwest::blocking::multipart::Part::bytes(b"Eingangsvermerk".to_vec()).file_name("vermerk.txt");
        reqwest::blocking::multipart::Form::new().part("file", file).text("received", received.to_string())
    };
    let post_form = |received: &str| {
        c.post(s.url(&format!("/akten/{akte}/dokumente")))
            .bearer_auth(&admin)
            .header("idempotency-key", "form-1")
            .multipart(form(received))
            .send()
            .unwrap()
    };
    let first_form = post_form("2026-03-01");
    assert_eq!(first_form.status(), 201);
    let id = first_form.json::<Value>().unwrap()["id"].clone();
    assert_problem(post_form("2026-03-02"), 422, "idempotency-key-reused");
    let same_form = post_form("2026-03-01");
    assert_eq!((same_form.status().as_u16(), same_form.json::<Value>().unwrap()["id"].clone()), (201, id));
    // The same bytes once streamed without a length and once with one: one upload.
    let framed = |sized: bool| {
        let bytes: &'static [u8] = b"Aktenvermerk zur Ortsbesichtigung";
        let body = match sized {
            true => reqwest::blocking::Body::from(bytes),
            false => reqwest::blocking::Body::new(std::io::Cursor::new(bytes)),
        };
        c.post(s.url(&format!("/akten/{akte}/dokumente?file_name=vermerk-ort.txt")))
            .bearer_auth(&admin)
            .header("idempotency-key", "framed-1")
            .body(body)
            .send()
            .unwrap()
    };
    let chunked = framed(false);
    assert_eq!(chunked.status(), 201);
    let sized = framed(true);
    assert_eq!(sized.status(), 201, "a retry with a length replays the chunked upload");
    assert_eq!(sized.json::<Value>().unwrap()["id"], chunked.json::<Value>().unwrap()["id"]);
    // While the first request with a key still runs (its body still arriving), a second
    // one with the key is refused with 409; the first then creates one Dokument, and a
    // retry after it replays that one.
    let (release, wait) = std::sync::mpsc::channel::<()>();
    struct Slow(Option<std::sync::mpsc::Receiver<()>>, &'static [u8]);
    impl std::io::Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if let Some(wait) = self.0.take() {
                let _ = wait.recv();
            }
            let n = self.1.len().min(buf.len());
            buf[..n].copy_from_slice(&self.1[..n]);
            self.1 = &self.1[n..];
            Ok(n)
        }
    }
    let first = {
        let (c, url, admin) = (c.clone(), s.url(&format!("/akten/{akte}/dokumente?file_name=eilt.txt")), admin.clone());
        std::thread::spawn(move || {
            let body = reqwest::blocking::Body::sized(Slow(Some(wait), b"Eilt sehr"), 9);
            c.post(url).bearer_auth(&admin).header("idempotency-key", "slow-1").body(body).send().unwrap()
        })
    };
    let second = || {
        c.post(s.url(&format!("/akten/{akte}/dokumente?file_name=eilt.txt")))
            .bearer_auth(&admin)
            .header("idempotency-key", "slow-1")
            .body("Eilt sehr")
            .send()
            .unwrap()
    };
    // The first request is in the server (its handler claims the key before it reads the
    // body) once /metrics counts it beside the metrics request itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = c.get(format!("{}/metrics", s.base)).send().unwrap().text().unwrap();
        let in_flight = text
            .lines()
            .find_map(|l| l.strip_prefix("akte_http_requests_in_flight "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if in_flight >= 2.0 {
            break;
        }
        assert!(Instant::now() < deadline, "the slow upload never reached the server");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let busy = second();
    assert_eq!(busy.headers()["retry-after"], "1", "a retry will succeed: say when");
    assert_problem(busy, 409, "in-progress");
    release.send(()).unwrap();
    let first = first.join().unwrap();
    assert_eq!(first.status().as_u16(), 201);
    let replay = second();
    assert_eq!(replay.status().as_u16(), 201);
    assert_eq!(replay.json::<Value>().unwrap()["id"], first.json::<Value>().unwrap()["id"]);

    // A PDF declared as HTML is recorded as the PDF it is, so that the PDF extractor reads it.
    let mislabelled: Value = c
        .post(s.url(&format!("/akten/{akte}/dokumente?file_name=antrag.html")))
        .bearer_auth(&admin)
        .header("content-type", "text/html")
        .body(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(mislabelled["media_type"], "application/pdf", "{mislabelled}");

    // Reads are history too: the downloads above reach the Dokument's history within a
    // sync interval, with the reader as actor.
    let start = Instant::now();
    loop {
        let h: Value =
            c.get(s.url(&format!("/dokumente/{dok}/history"))).bearer_auth(&admin).send().unwrap().json().unwrap();
        let reads: Vec<&Value> = h.as_array().unwrap().iter().filter(|e| e["action"] == "content").collect();
        if !reads.is_empty() {
            assert!(reads.iter().all(|e| e["actor"] == "token:test-admin"), "{h}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no read in the history: {h}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // z.d.A.: afterwards no new content and no metadata change.
    let r = c.post(s.url(&format!("/akten/{akte}/close"))).bearer_auth(&admin).send().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["status"], "zda");
    let r = c
        .post(s.url(&format!("/akten/{akte}/dokumente?file_name=spaet.txt")))
        .bearer_auth(&admin)
        .body("zu spät")
        .send()
        .unwrap();
    assert_problem(r, 409, "closed");
    let r = c.post(s.url(&format!("/dokumente/{raw_id}/versions"))).bearer_auth(&admin).body("v3").send().unwrap();
    assert_problem(r, 409, "closed");

    // History: who did what, with old and new values.
    let h: Value = c.get(s.url(&format!("/akten/{akte}/history"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    let h = h.as_array().unwrap();
    assert_eq!(h[0]["action"], "create");
    assert!(h.iter().all(|e| e["actor"] == "token:test-admin"), "{h:?}");
    let title_change = h
        .iter()
        .flat_map(|e| e["changes"].as_array().unwrap())
        .find(|c| c["field"] == "title" && c["new"] == "Windpark Testfeld (neu)")
        .expect("the title change is in the history");
    assert_eq!(title_change["old"], "Windpark Testfeld");
    assert!(
        h.iter().any(|e| e["changes"].as_array().unwrap().iter().any(|c| c["field"] == "status" && c["new"] == "zda"))
    );
    assert!(h.iter().all(|e| e["object"] == akte.as_str()), "without all: the Akte's own entries");
    let whole: Value =
        c.get(s.url(&format!("/akten/{akte}/history?all=true"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    let whole = whole.as_array().unwrap();
    assert!(whole.iter().any(|e| e["object"] == dok.as_str()), "with all: its Dokumente too");
    assert!(whole.len() > h.len());

    // The change feed, paged: every object appears once, in order, and the cursor resumes.
    let mut since = String::new();
    let mut seen = Vec::new();
    let mut versions_in = Vec::new();
    loop {
        let page: Value = c
            .get(s.url(&format!("/changes?limit=1&since={since}")))
            .bearer_auth(&admin)
            .send()
            .unwrap()
            .json()
            .unwrap();
        let changes = page["changes"].as_array().unwrap();
        assert!(changes.len() <= 1, "a page holds at most `limit` changes: {page}");
        for ch in changes {
            seen.push((ch["action"].as_str().unwrap().to_string(), ch["object"].as_str().unwrap().to_string()));
            versions_in.extend((ch["kind"] == "version").then(|| ch["parent_id"].as_str().unwrap().to_string()));
        }
        since = page["next"].as_str().unwrap().to_string();
        if page["more"] == false {
            break;
        }
    }
    assert!(seen.contains(&("create".into(), akte.clone())));
    assert!(seen.contains(&("create".into(), dok.clone())));
    let creates = seen.iter().filter(|(a, o)| a == "create" && *o == akte).count();
    assert_eq!(creates, 1, "each change once");
    assert!(versions_in.contains(&raw_id), "a version's change names its Dokument: {versions_in:?}");
    // Paged, the feed is the feed read at once: pages may end inside a journal entry.
    let all: Value = c.get(s.url("/changes?limit=1000")).bearer_auth(&admin).send().unwrap().json().unwrap();
    let all: Vec<(String, String)> = all["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ch| (ch["action"].as_str().unwrap().to_string(), ch["object"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(seen, all);
    let page: Value =
        c.get(s.url(&format!("/changes?since={since}"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(page["changes"].as_array().unwrap().len(), 0, "nothing new after the last cursor");

    // Search finds the upload by its title, with the same keys as `akte search --json`.
    let found: Value = c.get(s.url("/search?q=Schallgutachten")).bearer_auth(&admin).send().unwrap().json().unwrap();
    let hit = found["hits"].as_array().unwrap().iter().find(|h| h["dokument_id"] == dok.as_str());
    let hit = hit.unwrap_or_else(|| panic!("{found}"));
    assert_eq!(hit["truncated"], false, "{hit}");
    assert!(hit.as_object().unwrap().contains_key("vorgang_id"), "{hit}");
    // Blank filters count as absent; `typ` may repeat.
    let same: Value = c
        .get(s.url("/search?q=Schallgutachten&akte=&typ=&aktenplan=+"))
        .bearer_auth(&admin)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(same["total"], found["total"], "{same}");
    let typed = |types: &str| -> u64 {
        let v: Value = c
            .get(s.url(&format!("/search?q=Schallgutachten{types}")))
            .bearer_auth(&admin)
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["total"].as_u64().unwrap_or_else(|| panic!("{v}"))
    };
    let facets = found["facets"]["document_type"].as_object().unwrap().clone();
    for (t, n) in &facets {
        assert_eq!(typed(&format!("&typ={t}")), n.as_u64().unwrap(), "typ={t}");
    }
    let all_types: String = facets.keys().map(|t| format!("&typ={t}")).collect();
    assert_eq!(typed(&all_types), facets.values().map(|n| n.as_u64().unwrap()).sum::<u64>());

    // Metrics count what happened.
    let m = c.get(format!("{}/metrics", s.base)).send().unwrap().text().unwrap();
    // Four uploads above, a form, a reordered and a framed one under keys, the one that held its
    // Idempotency-Key while slow, the PDF as HTML.
    assert!(m.contains("akte_uploads_total 9"), "{m}");
    assert!(
        m.contains("akte_http_requests_total{method=\"POST\",route=\"/api/v1/akten/{id}/dokumente\",status=\"201\"}")
    );
    // Ingest is off on this server: the text waits for its extractor.
    let waiting: Value =
        c.get(s.url(&format!("/dokumente/{dok}/text"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!((&waiting["state"], &waiting["extracted"]), (&json!("pending"), &json!(false)), "{waiting}");
    assert!(waiting["pending"].as_array().unwrap().iter().any(|p| p.as_str().unwrap().starts_with("extract:")));
    assert!(s.stop().success(), "graceful shutdown exits 0");
    common::ok(&data, &["verify"]);
    // `akte text --json` prints what the API answers (after extraction, which this server
    // left to `akte ingest`).
    common::ok(&data, &["ingest"]);
    let s = Server::start(&data, false, &[]);
    let api_text: Value =
        c.get(s.url(&format!("/dokumente/{dok}/text"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    // The feed tells a follower that a result is there, per Dokument with the content.
    let feed: Value = c.get(s.url("/changes?limit=1000")).bearer_auth(&admin).send().unwrap().json().unwrap();
    let derived: Vec<&Value> =
        feed["changes"].as_array().unwrap().iter().filter(|ch| ch["action"] == "derive").collect();
    assert!(
        derived.iter().any(|ch| ch["object"] == dok.as_str()
            && ch["kind"] == "dokument"
            && ch["fields"]["producer"].as_str().unwrap().starts_with("extract:")),
        "{feed}"
    );
    assert!(s.stop().success());
    assert_eq!(common::ok(&data, &["text", &dok, "--json"]).json(), api_text);
    assert_eq!(api_text["extracted"], true, "{api_text}");
    // This "PDF" is not one: its extractor ran and failed, and nothing else reads PDFs here.
    assert_eq!((&api_text["state"], &api_text["pending"]), (&json!("failed"), &json!([])), "{api_text}");
    assert!(api_text["fields"].is_object() && api_text["failures"].is_object(), "{api_text}");
    // The audit trail re-reads from the store, with the reads recorded above.
    let audit = common::ok(&data, &["audit", "verify", "--json"]).json();
    assert!(audit["reads"].as_u64().unwrap() > 0, "{audit}");
    // Listing a Dokument's versions (file names, hashes) is a read of its metadata.
    let history = common::ok(&data, &["history", &raw_id, "--json"]).json();
    assert!(history.as_array().unwrap().iter().any(|h| h["action"] == "metadata"), "{history}");
    assert!(audit["writes"].as_u64().unwrap() >= 10, "{audit}");
}

#[test]
fn bad_input_gets_a_problem_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "admin", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let akte = create_akte(&c, &s, &admin, "1-1/2026", "Erste");
    // A second token of a name the history already uses for a caller.
    let twin = c.post(s.url("/tokens")).bearer_auth(&admin).json(&json!({"name": "admin", "role": "reader"}));
    let detail = assert_problem(twin.send().unwrap(), 409, "conflict");
    assert!(detail.contains("named admin"), "{detail}");
    let dead = c
        .post(s.url("/tokens"))
        .bearer_auth(&admin)
        .json(&json!({"name": "fv4", "role": "service", "expires": "2020-01-01T00:00:00Z"}));
    assert_problem(dead.send().unwrap(), 422, "invalid");
    // The history names a token's caller `token:<name>`: a name on one line, not too long.
    for name in ["t".repeat(121), "fach\tverfahren".to_string()] {
        let r = c.post(s.url("/tokens")).bearer_auth(&admin).json(&json!({"name": name, "role": "reader"}));
        let detail = assert_problem(r.send().unwrap(), 422, "invalid");
        assert!(detail.contains("1 to 120 characters"), "{detail}");
    }
    // A metadata part of an upload is read up to its limit, not whole.
    let form = reqwest::blocking::multipart::Form::new()
        .text("title", "T".repeat(10_001))
        .part("file", reqwest::blocking::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"));
    let r = c.post(s.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(&admin).multipart(form).send().unwrap();
    let detail = assert_problem(r, 422, "invalid");
    assert!(detail.contains("title is longer than 10000 bytes"), "{detail}");
    // A 401 names the scheme.
    let r = c.get(s.url("/akten")).send().unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_problem(r, 401, "unauthenticated");
    // An Aktenplan node under another, as the OpenAPI document describes it.
    let top: Value = c
        .post(s.url("/aktenplan"))
        .bearer_auth(&admin)
        .json(&json!({"code": "6", "title": "Bauen"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let below = c
        .post(s.url("/aktenplan"))
        .bearer_auth(&admin)
        .json(&json!({"code": "61", "title": "Planung", "parent": top["id"]}));
    let below = below.send().unwrap();
    assert_eq!(below.status(), 201);
    let at = below.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(c.get(format!("{}{at}", s.base)).bearer_auth(&admin).send().unwrap().status(), 200, "Location names it");
    let plan: Value = c.get(s.url("/aktenplan")).bearer_auth(&admin).send().unwrap().json().unwrap();
    let node = plan.as_array().unwrap().iter().find(|n| n["code"] == "61").unwrap().clone();
    assert_eq!(node["parent"], top["id"], "{plan}");
    // An Akte under a code no node has is refused; under a node's code it is filed.
    let filed = |code: &str, az: &str| {
        c.post(s.url("/akten"))
            .bearer_auth(&admin)
            .json(&json!({"aktenzeichen": az, "title": "Abgelegt", "aktenplan": code}))
            .send()
            .unwrap()
    };
    assert_problem(filed("99.9", "9-9/2026"), 422, "invalid");
    // (Filing under a node's code: a_new_version_brings_its_metadata.)
    let count = || -> usize {
        let v: Value = c.get(s.url("/akten")).bearer_auth(&admin).send().unwrap().json().unwrap();
        v["items"].as_array().unwrap().len()
    };
    let send = |body: &str| {
        c.post(s.url("/akten"))
            .bearer_auth(&admin)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    };
    assert_problem(send("{\"aktenzeichen\": "), 400, "bad-request");
    assert_problem(send("{\"aktenzeichen\": 5, \"title\": \"x\"}"), 422, "invalid");
    // serde quotes a string of the wrong type whole; the detail stays one readable sentence.
    let wrong =
        format!("{{\"aktenzeichen\": \"4-4\", \"title\": \"x\", \"retention_years\": \"{}\"}}", "9".repeat(500_000));
    let detail = assert_problem(send(&wrong), 422, "invalid");
    assert!(detail.chars().count() < 700, "a detail of {} characters", detail.chars().count());
    let colour =
        assert_problem(send("{\"aktenzeichen\": \"2-2\", \"title\": \"x\", \"colour\": \"red\"}"), 422, "invalid");
    // In words for a client: the field named, no deserializer preamble, no line and column.
    assert!(colour.contains("colour") && !colour.contains("deserialize") && !colour.contains("column"), "{colour}");
    assert_problem(send("{\"aktenzeichen\": \"2-2\", \"title\": \"  \"}"), 422, "invalid");
    assert_problem(send("{\"aktenzeichen\": \"1-1/2026\", \"title\": \"Doppelt\"}"), 409, "conflict");
    // Just over the 1 MiB JSON limit: small enough that the client has sent it all when
    // the server answers early, so the test sees the answer, not a reset connection.
    let huge = format!("{{\"aktenzeichen\": \"3-3\", \"title\": \"{}\"}}", "x".repeat((1 << 20) + 1024));
    assert_problem(send(&huge), 413, "too-large");
    let r = c.post(s.url("/akten")).bearer_auth(&admin).body("aktenzeichen=1").send().unwrap();
    assert_problem(r, 415, "unsupported-media-type");
    assert_eq!(count(), 1, "nothing was created");

    // Unknown ids and malformed ids.
    assert_problem(
        c.get(s.url("/akten/01a21a01-0000-7000-8000-000000000000")).bearer_auth(&admin).send().unwrap(),
        404,
        "not-found",
    );
    let bad_id = assert_problem(c.get(s.url("/akten/nicht-da")).bearer_auth(&admin).send().unwrap(), 404, "not-found");
    assert!(bad_id.contains("\"nicht-da\"") && bad_id.contains("UUID") && !bad_id.contains("parsing"), "{bad_id}");
    assert_problem(c.get(format!("{}/nowhere", s.base)).send().unwrap(), 404, "not-found");
    // A method a path does not have: a problem too, with the methods it has.
    let r = c.delete(s.url("/search")).bearer_auth(&admin).send().unwrap();
    assert_eq!(r.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET,HEAD"), "{:?}", r.headers());
    let detail = assert_problem(r, 405, "method-not-allowed");
    assert!(detail.contains("DELETE") && detail.contains("/api/v1/search"), "{detail}");
    assert_problem(c.put(s.url("/akten")).bearer_auth(&admin).send().unwrap(), 405, "method-not-allowed");
    // Path tricks in file names are refused; nothing is stored under the Akte.
    for name in ["../../etc/passwd", "a/b.txt", "..", "x\\y.txt"] {
        let r = c
            .post(s.url(&format!("/akten/{akte}/dokumente")))
            .bearer_auth(&admin)
            .query(&[("file_name", name)])
            .body("x")
            .send()
            .unwrap();
        assert_problem(r, 422, "invalid");
    }
    let form = reqwest::blocking::multipart::Form::new()
        .part("file", reqwest::blocking::multipart::Part::bytes(b"x".to_vec()).file_name("../boese.txt"));
    let r = c.post(s.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(&admin).multipart(form).send().unwrap();
    assert_problem(r, 422, "invalid");
    // A malformed multipart body, and one without a file part.
    let r = c
        .post(s.url(&format!("/akten/{akte}/dokumente")))
        .bearer_auth(&admin)
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc")
        .send()
        .unwrap();
    assert_problem(r, 400, "bad-request");
    let form = reqwest::blocking::multipart::Form::new().text("title", "ohne Datei");
    let r = c.post(s.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(&admin).multipart(form).send().unwrap();
    assert_problem(r, 422, "invalid");
    // Bad query parameters and headers.
    assert_problem(c.get(s.url("/akten?limit=0")).bearer_auth(&admin).send().unwrap(), 400, "bad-request");
    let d = assert_problem(c.get(s.url("/akten?limit=zwei")).bearer_auth(&admin).send().unwrap(), 400, "bad-request");
    assert_eq!(d, "The query parameter limit must be a whole number.");
    // The search's parameters: each refused with a sentence that names it.
    let search = |query: &str| {
        assert_problem(
            c.get(s.url(&format!("/search?{query}"))).bearer_auth(&admin).send().unwrap(),
            400,
            "bad-request",
        )
    };
    assert!(search("q=Bericht&offset=-1").contains("offset must be a whole number from 0 to 10000"));
    assert!(search("q=%FF%FE").contains("q is not valid UTF-8"));
    assert!(search("q=Rot%C3milan").contains("q is not valid UTF-8"));
    assert!(search("q=Bericht&type=Bescheid").contains("\"type\" is unknown"));
    assert!(search("q=Bericht&q=Vermerk").contains("q is given more than once"));
    assert!(search("q=Bericht&limit=5&limit=6").contains("limit is given more than once"));
    assert_problem(c.get(s.url("/changes?since=%%%")).bearer_auth(&admin).send().unwrap(), 400, "bad-request");
    assert_problem(
        c.get(s.url("/search?q=%22offen")).bearer_auth(&admin).send().unwrap_or_else(|e| panic!("{e}")),
        400,
        "bad-request",
    );
    assert_problem(
        c.get(s.url("/akten")).header("authorization", "Basic eDp5").send().unwrap(),
        401,
        "unauthenticated",
    );
    assert_problem(c.get(s.url("/akten")).bearer_auth("akte_0000").send().unwrap(), 401, "unauthenticated");
    let list: Value =
        c.get(s.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0, "no bad upload left a Dokument");
    // The server kept serving through all of it.
    assert_eq!(c.get(format!("{}/healthz", s.base)).send().unwrap().status(), 200);
    drop(s);
    common::ok(&data, &["verify"]);
}

#[test]
fn an_interrupted_upload_leaves_nothing_visible() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "admin", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let akte = create_akte(&c, &s, &admin, "1-1/2026", "Erste");
    // Announce 20 MiB, send 9 MiB, hang up.
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut sock = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        sock,
        "POST /api/v1/akten/{akte}/dokumente?file_name=halb.bin HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {admin}\r\nContent-Length: {}\r\n\r\n",
        20 << 20
    )
    .unwrap();
    sock.write_all(&random_bytes(9 << 20, 3)).unwrap();
    drop(sock);
    std::thread::sleep(Duration::from_millis(500));
    let list: Value =
        c.get(s.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(list.as_array().unwrap().len(), 0);
    assert_eq!(c.get(format!("{}/healthz", s.base)).send().unwrap().status(), 200);
    drop(s);
    let v = common::ok(&data, &["verify", "--json"]).json();
    assert_eq!(v["problems"], json!([]), "{v}");
}

#[test]
fn two_servers_on_one_store_see_each_others_uploads() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(tmp.path(), "a");
    let store = format!("file://{}", a.join("store").display());
    let b = tmp.path().join("b");
    let identity = a.join("identity.txt");
    // The second node joins with the store and the operator identity.
    common::ok(&b, &["--store", &store, "--identity", identity.to_str().unwrap(), "status"]);
    let admin = token(&a, "admin", "admin", &[]);
    let sa = Server::start(&a, false, &[]);
    let sb = Server::start(&b, false, &[("AKTE_STORE", &store), ("AKTE_IDENTITY", identity.to_str().unwrap())]);
    let c = client();
    let akte = create_akte(&c, &sa, &admin, "7-7/2026", "Zwei Knoten");
    let body = random_bytes(300_000, 11);
    let r = c
        .post(sa.url(&format!("/akten/{akte}/dokumente?file_name=k.bin")))
        .bearer_auth(&admin)
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let dok = r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let start = Instant::now();
    loop {
        let r = c.get(sb.url(&format!("/dokumente/{dok}/content"))).bearer_auth(&admin).send().unwrap();
        if r.status() == 200 {
            assert_eq!(r.bytes().unwrap().as_ref(), &body[..]);
            break;
        }
        assert_eq!(r.status(), 404);
        assert!(start.elapsed() < Duration::from_secs(10), "node b did not see the upload within 10 s");
        std::thread::sleep(Duration::from_millis(25));
    }
    eprintln!("visible on the other node after {:?}", start.elapsed());
}

/// SIGHUP (from logrotate) leaves the server running; SIGTERM waits for a running upload,
/// and a second SIGTERM stops the server without it, committing nothing of it.
#[test]
fn hangup_is_ignored_and_a_second_term_does_not_wait_for_a_slow_upload() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "admin", &[]);
    let akte = common::create(&data, "1-1/2026", "Langsam");
    let mut s = Server::start(&data, false, &[]);
    let signal = |name: &str, pid: u32| {
        assert!(std::process::Command::new("kill").args([name, &pid.to_string()]).status().unwrap().success())
    };
    let pid = s.child.id();
    signal("-HUP", pid);
    std::thread::sleep(Duration::from_millis(300));
    let c = client();
    assert_eq!(c.get(format!("{}/healthz", s.base)).send().unwrap().status(), 200, "alive after SIGHUP");

    // An upload that announces 10 MB and sends 1 KB.
    let mut conn = std::net::TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
    write!(
        conn,
        "POST /api/v1/akten/{akte}/dokumente?file_name=langsam.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n"
    )
    .unwrap();
    conn.write_all(&[7u8; 1024]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal("-TERM", pid);
    std::thread::sleep(Duration::from_secs(1));
    assert!(s.child.try_wait().unwrap().is_none(), "the first SIGTERM waits for the running upload");
    signal("-TERM", pid);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = s.child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "a second SIGTERM stops the server");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{}", std::fs::read_to_string(&s.log).unwrap_or_default());
    drop(conn);
    common::ok(&data, &["verify"]);
    let listed = common::ok(&data, &["ls", "1-1/2026", "--json"]).json();
    assert_eq!(listed, json!([]), "the cut-off upload stored nothing");
}

/// Runs `akte account ARGS` with `stdin` as standard input.
fn account(data: &std::path::Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = common::akte_cmd(data.parent().unwrap())
        .arg("--data")
        .arg(data)
        .arg("account")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{stdin}").unwrap();
    child.wait_with_output().unwrap()
}

/// A person who leaves: the account is disabled (its session ends at once), a password
/// is replaced, and an admin does either through the API too.
#[test]
fn an_account_is_disabled_and_its_password_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "admin", &[]);
    let out = account(&data, &["add", "erika", "--role", "clerk"], "ein-langes-Passwort");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let s = Server::start(&data, false, &[]);
    let c = client();
    // (status, the session cookie)
    let login = |password: &str| -> (u16, String) {
        let r = c.post(s.url("/session")).json(&json!({"name": "erika", "password": password})).send().unwrap();
        let cookie = r.headers().get("set-cookie").map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
        (r.status().as_u16(), cookie.unwrap_or_default())
    };
    let (status, session) = login("ein-langes-Passwort");
    assert_eq!(status, 200);
    let me = |cookie: &str| c.get(s.url("/me")).header("cookie", cookie).send().unwrap().status();
    assert_eq!(me(&session), 200);
    let patch =
        |body: Value| c.patch(s.url(&format!("/accounts/{id}"))).bearer_auth(&admin).json(&body).send().unwrap();
    let r = patch(json!({"disabled": true}));
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["disabled"], true);
    assert_eq!(me(&session), 401, "the running session ends");
    assert_eq!(login("ein-langes-Passwort").0, 401, "no new one");
    // The security log has the failure, never the password or a token.
    let forged = "akte_00000000000000000000000000000000";
    assert_eq!(c.get(s.url("/me")).bearer_auth(forged).send().unwrap().status(), 401);
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("failed login") && log.contains("erika"), "{log}");
    assert!(log.contains("rejected an API token"), "{log}");
    assert!(!log.contains("ein-langes-Passwort") && !log.contains(forged), "{log}");
    assert_problem(patch(json!({"password": "kurz"})), 422, "invalid");
    assert_problem(patch(json!({})), 422, "invalid");
    assert_eq!(patch(json!({"disabled": false, "password": "ein-neues-langes-Passwort"})).status(), 200);
    assert_eq!(login("ein-langes-Passwort").0, 401, "the old password no longer works");
    let (status, session) = login("ein-neues-langes-Passwort");
    assert_eq!((status, me(&session)), (200, reqwest::StatusCode::OK));
    assert_eq!(patch(json!({"password": "das-dritte-lange-Passwort"})).status(), 200);
    assert_eq!(me(&session), 401, "a new password ends the sessions of the old one");
    // A password typed into the name field is not logged.
    let r = c.post(s.url("/session")).json(&json!({"name": "Geheim-als-Name-1234", "password": "x"})).send().unwrap();
    assert_eq!(r.status(), 401);
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("no account has") && !log.contains("Geheim-als-Name-1234"), "{log}");
    assert!(s.stop().success());
    // The same from the CLI on the stopped node.
    assert!(account(&data, &["disable", "erika"], "").status.success());
    let listed = common::ok(&data, &["account", "list", "--json"]).json();
    assert_eq!(listed[0]["disabled"], true, "{listed}");
    assert!(account(&data, &["enable", "erika"], "").status.success());
    let out = account(&data, &["passwd", "erika"], "noch-ein-langes-Passwort");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!account(&data, &["passwd", "erika"], "kurz").status.success());
    assert!(!account(&data, &["disable", "niemand"], "").status.success());
    let s = Server::start(&data, false, &[]);
    let r = client().post(s.url("/session")).json(&json!({"name": "erika", "password": "noch-ein-langes-Passwort"}));
    assert_eq!(r.send().unwrap().status(), 200);
}

/// Guessing a password: after five failed logins in a row a name waits, and the right
/// password does not help meanwhile; other names are not held up.
#[test]
fn a_run_of_failed_logins_makes_the_name_wait() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    for name in ["paul", "petra"] {
        let out = account(&data, &["add", name, "--role", "clerk"], "ein-langes-Passwort");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let s = Server::start(&data, false, &[]);
    let c = client();
    let login = |name: &str, password: &str| {
        c.post(s.url("/session")).json(&json!({"name": name, "password": password})).send().unwrap()
    };
    for i in 0..5 {
        assert_eq!(login("paul", &format!("geraten-{i}")).status(), 401);
    }
    let r = login("Paul", "ein-langes-Passwort");
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    let detail = assert_problem(r, 429, "too-many");
    assert!(detail.contains("failed logins"), "{detail}");
    // Login names are not case-sensitive (as directory logins are not); the history names
    // the account as it was made.
    let r = login("Petra", "ein-langes-Passwort");
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let me: Value = c.get(s.url("/me")).header("cookie", cookie).send().unwrap().json().unwrap();
    assert_eq!(me["actor"], "user:petra", "{me}");
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("wrong password") && log.contains("too many failed logins"), "{log}");
    // The access log has each request with its status and the client's address.
    let access: Vec<&str> = log.lines().filter(|l| l.contains("akte::access") && l.contains("/session")).collect();
    assert_eq!(access.len(), 7, "{log}");
    assert!(access.iter().any(|l| l.contains("status=429") && l.contains("peer=127.0.0.1")), "{log}");
    assert!(!log.contains("geraten"), "no password in the log: {log}");
    assert!(s.stop().success());
    // A second account that differs only in case is refused.
    let out = account(&data, &["add", "PETRA", "--role", "clerk"], "ein-langes-Passwort");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("exists"));
}

/// A new version can bring the Dokument's new metadata (a corrected Bescheid with a new
/// date); it does not move the Dokument to another Vorgang.
#[test]
fn a_new_version_brings_its_metadata() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "admin", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let plan =
        c.post(s.url("/aktenplan")).bearer_auth(&admin).json(&json!({"code": "61.2", "title": "Immissionsschutz"}));
    assert_eq!(plan.send().unwrap().status(), 201);
    let r = c
        .post(s.url("/akten"))
        .bearer_auth(&admin)
        .json(&json!({"aktenzeichen": "61.2-1/2026", "title": "Erste", "aktenplan": "61.2"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201, "filed under a node's code");
    let akte = r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let r = c.post(s.url(&format!("/akten/{akte}/dokumente?file_name=bescheid.txt"))).bearer_auth(&admin).body("v1");
    let dok = r.send().unwrap().json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let version = |q: &str, body: &'static str| {
        c.post(s.url(&format!("/dokumente/{dok}/versions?file_name=bescheid-v2.txt{q}")))
            .bearer_auth(&admin)
            .body(body)
            .send()
            .unwrap()
    };
    let moved = version(&format!("&vorgang={}", uuid_of(99)), "v2");
    assert_problem(moved, 422, "invalid");
    let r = version("&title=Bescheid%20(berichtigt)&document_type=Bescheid&date=2026-12-01", "v2");
    assert_eq!(r.status(), 201);
    let d: Value = c.get(s.url(&format!("/dokumente/{dok}"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(
        (&d["title"], &d["fields"]["document_type"]),
        (&json!("Bescheid (berichtigt)"), &json!("Bescheid")),
        "{d}"
    );
    assert_eq!(d["fields"]["date"], "2026-12-01", "{d}");
    let versions: Value =
        c.get(s.url(&format!("/dokumente/{dok}/versions"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 2, "the refused one added none: {versions}");
}

fn uuid_of(n: u8) -> String {
    format!("00000000-0000-7000-8000-0000000000{n:02x}")
}
