//! The REST API's rules for concurrent and repeated requests and for growing cases,
//! against a real `akte serve`: If-Match on new versions, Vorgänge closed and reopened,
//! what counts as a read, a PATCH that changes nothing, paged lists, derived results in
//! the change feed, Idempotency-Key on new Vorgänge. (Uploads, downloads, the feed and
//! bad input as a whole: `api.rs`.)

mod common;

use std::time::{Duration, Instant};

use common::{Server, assert_problem, client, create_akte, init_repo, token};
use serde_json::{Value, json};

#[test]
fn versions_take_if_match_and_vorgaenge_open_and_close_like_akten() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let clerk = token(&data, "clerk", "test-clerk", &[]);
    let reader = token(&data, "reader", "test-reader", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let akte = create_akte(&c, &s, &admin, "61.2-0900/2026", "Windpark Vorgangstest");
    let up = c
        .post(s.url(&format!("/akten/{akte}/dokumente?file_name=bescheid.txt")))
        .bearer_auth(&admin)
        .body("Bescheid, erste Fassung")
        .send()
        .unwrap();
    let dok = up.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();

    // Two clients add a version to the Dokument they saw: the second is told it changed.
    let seen = c.get(s.url(&format!("/dokumente/{dok}"))).bearer_auth(&admin).send().unwrap();
    let tag = seen.headers()["etag"].to_str().unwrap().to_string();
    let add = |body: &'static str| {
        c.post(s.url(&format!("/dokumente/{dok}/versions?file_name=bescheid.txt")))
            .bearer_auth(&admin)
            .header("if-match", &tag)
            .body(body)
            .send()
            .unwrap()
    };
    assert_eq!(add("Bescheid, zweite Fassung").status(), 201);
    assert_problem(add("Bescheid, andere zweite Fassung"), 412, "stale");
    // A retry (same key) of an upload with If-Match is answered as the first time, though
    // the first one's own version changed the ETag it names.
    let now = c.get(s.url(&format!("/dokumente/{dok}"))).bearer_auth(&admin).send().unwrap();
    let tag = now.headers()["etag"].to_str().unwrap().to_string();
    let keyed = || {
        c.post(s.url(&format!("/dokumente/{dok}/versions?file_name=bescheid.txt")))
            .bearer_auth(&admin)
            .header("if-match", &tag)
            .header("idempotency-key", "dritte-fassung")
            .body("Bescheid, dritte Fassung")
            .send()
            .unwrap()
    };
    let first = keyed();
    assert_eq!(first.status(), 201);
    let again = keyed();
    assert_eq!((again.status().as_u16(), &again.headers()["idempotent-replay"]), (201, &"true".parse().unwrap()));
    let versions: Value =
        c.get(s.url(&format!("/dokumente/{dok}/versions"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(versions.as_array().unwrap().len(), 3, "{versions}");

    // A Vorgang closed by mistake is reopened by an admin, not a clerk.
    let v = c
        .post(s.url(&format!("/akten/{akte}/vorgaenge")))
        .bearer_auth(&admin)
        .json(&json!({"title": "Beteiligung"}))
        .send()
        .unwrap();
    let v: Value = v.json().unwrap();
    let vorgang = v["id"].as_str().unwrap_or_else(|| panic!("{v}")).to_string();
    let post = |t: &str, path: &str| c.post(s.url(path)).bearer_auth(t).send().unwrap();
    assert_eq!(post(&clerk, &format!("/vorgaenge/{vorgang}/close")).status(), 200);
    // An upload into the closed Vorgang named in the query is refused before its bytes.
    let into_closed = c
        .post(s.url(&format!("/akten/{akte}/dokumente?file_name=spaet.txt&vorgang={vorgang}")))
        .bearer_auth(&admin)
        .body(vec![b'x'; 1 << 20])
        .send()
        .unwrap();
    assert_problem(into_closed, 409, "closed");
    assert_problem(post(&clerk, &format!("/vorgaenge/{vorgang}/reopen")), 403, "forbidden");
    let reopened = post(&admin, &format!("/vorgaenge/{vorgang}/reopen"));
    assert_eq!(reopened.status(), 200);
    assert_eq!(reopened.json::<Value>().unwrap()["status"], "offen");
    // In a closed Akte, a Vorgang neither closes nor reopens.
    assert_eq!(post(&admin, &format!("/akten/{akte}/close")).status(), 200);
    assert_problem(post(&admin, &format!("/vorgaenge/{vorgang}/close")), 409, "closed");
    let now: Value = c.get(s.url(&format!("/vorgaenge/{vorgang}"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(now["status"], "offen");

    // Only a download is a read of the content: not a HEAD, a 304 or a 416.
    let content = s.url(&format!("/dokumente/{dok}/content"));
    let head = c.head(&content).bearer_auth(&reader).send().unwrap();
    assert_eq!(head.status(), 200);
    let etag = head.headers()["etag"].to_str().unwrap().to_string();
    let cached = c.get(&content).bearer_auth(&reader).header("if-none-match", &etag).send().unwrap();
    assert_eq!(cached.status(), 304);
    let beyond = c.get(&content).bearer_auth(&reader).header("range", "bytes=999999-").send().unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(c.get(&content).bearer_auth(&admin).send().unwrap().status(), 200);
    // A search hit shows the Dokument's title and a snippet: a read of its own kind.
    let found: Value = c.get(s.url("/search?q=bescheid")).bearer_auth(&reader).send().unwrap().json().unwrap();
    assert!(found["hits"].as_array().unwrap().iter().any(|h| h["dokument_id"] == dok.as_str()), "{found}");
    let start = Instant::now();
    loop {
        let h: Value =
            c.get(s.url(&format!("/dokumente/{dok}/history"))).bearer_auth(&admin).send().unwrap().json().unwrap();
        let reads: Vec<&Value> = h.as_array().unwrap().iter().filter(|e| e["action"] == "content").collect();
        let shown = h.as_array().unwrap().iter().any(|e| e["action"] == "search" && e["actor"] == "token:test-reader");
        if !reads.is_empty() && shown {
            assert!(reads.iter().all(|e| e["actor"] == "token:test-admin"), "{h}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no read in the history: {h}");
        std::thread::sleep(Duration::from_millis(50));
    }
    s.stop();
}

#[test]
fn lists_that_grow_with_a_case_come_a_page_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let akte = create_akte(&c, &s, &admin, "61.2-0950/2026", "Viele Dokumente");
    let mut ids = Vec::new();
    for i in 0..7 {
        let r = c
            .post(s.url(&format!("/akten/{akte}/dokumente?file_name=brief-{i}.txt")))
            .bearer_auth(&admin)
            .body(format!("Brief {i}"))
            .send()
            .unwrap();
        ids.push(r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string());
    }
    // Without paging: the whole list, as before, with its length.
    let whole = c.get(s.url(&format!("/akten/{akte}/dokumente"))).bearer_auth(&admin).send().unwrap();
    assert_eq!(whole.headers()["x-total-count"], "7");
    assert!(whole.headers().get("link").is_none());
    assert_eq!(whole.json::<Value>().unwrap().as_array().unwrap().len(), 7);
    // Paged: follow `Link: <…>; rel="next"` until there is none; every Dokument once, in order.
    let mut next = Some(format!("/api/v1/akten/{akte}/dokumente?limit=3"));
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(path) = next {
        let r = c.get(format!("{}{path}", s.base)).bearer_auth(&admin).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["x-total-count"], "7");
        next = r.headers().get("link").map(|l| {
            let l = l.to_str().unwrap();
            assert!(l.ends_with("; rel=\"next\""), "{l}");
            l[1..l.find('>').unwrap()].to_string()
        });
        let page = r.json::<Value>().unwrap();
        assert!(page.as_array().unwrap().len() <= 3);
        seen.extend(page.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_string()));
        pages += 1;
    }
    assert_eq!((pages, seen), (3, ids.clone()));
    // The history pages the same way; a limit out of range or an unknown parameter is refused.
    let h =
        c.get(s.url(&format!("/akten/{akte}/history?all=true&limit=2&offset=1"))).bearer_auth(&admin).send().unwrap();
    assert_eq!(h.json::<Value>().unwrap().as_array().unwrap().len(), 2);
    assert_problem(
        c.get(s.url(&format!("/akten/{akte}/dokumente?limit=0"))).bearer_auth(&admin).send().unwrap(),
        400,
        "bad-request",
    );
    assert_problem(
        c.get(s.url(&format!("/dokumente/{}/versions?seite=2", ids[0]))).bearer_auth(&admin).send().unwrap(),
        400,
        "bad-request",
    );
    s.stop();
}

#[test]
fn a_patch_that_changes_nothing_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let akte = create_akte(&c, &s, &admin, "61.2-0960/2026", "Unverändert");
    let etag = |r: &reqwest::blocking::Response| r.headers()["etag"].to_str().unwrap().to_string();
    let before = c.get(s.url(&format!("/akten/{akte}"))).bearer_auth(&admin).send().unwrap();
    let tag = etag(&before);
    let patch = |body: Value| {
        c.patch(s.url(&format!("/akten/{akte}")))
            .bearer_auth(&admin)
            .header("if-match", &tag)
            .json(&body)
            .send()
            .unwrap()
    };
    // The same title, and a field removed that is not there: 200, the same ETag.
    let same = patch(json!({"title": "Unverändert", "laufzeit_beginn": null}));
    assert_eq!(same.status(), 200);
    assert_eq!(etag(&same), tag, "nothing changed, so the ETag stays");
    let updates = || -> usize {
        let h: Value =
            c.get(s.url(&format!("/akten/{akte}/history"))).bearer_auth(&admin).send().unwrap().json().unwrap();
        h.as_array().unwrap().iter().filter(|e| e["action"] == "update").count()
    };
    assert_eq!(updates(), 0);
    // A real change is written, and the old ETag is stale afterwards.
    let changed = patch(json!({"title": "Geändert"}));
    assert_eq!(changed.status(), 200);
    assert_ne!(etag(&changed), tag);
    assert_eq!(updates(), 1);
    assert_problem(patch(json!({"title": "Nochmal"})), 412, "stale");
    s.stop();
}

#[test]
fn custom_fields_merge_so_two_clients_keep_each_others_members() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let akte = create_akte(&c, &s, &admin, "61.2-0961/2026", "Zwei Fachverfahren");
    let patch = |body: Value, media: &str| -> Value {
        let r = c
            .patch(s.url(&format!("/akten/{akte}")))
            .bearer_auth(&admin)
            .header("content-type", media)
            .body(body.to_string())
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<Value>().unwrap()["fields"]["custom"].clone()
    };
    // The permit system and the fee system each set their own members.
    patch(json!({"custom": {"bimsch": {"anlagen": 3, "typ": "WEA"}}}), "application/json");
    let both = patch(json!({"custom": {"gebuehr": 1200}}), "application/merge-patch+json");
    assert_eq!(both, json!({"bimsch": {"anlagen": 3, "typ": "WEA"}, "gebuehr": 1200}));
    // Nested members merge too; null removes one, and a member that is not an object
    // is replaced.
    let merged =
        patch(json!({"custom": {"bimsch": {"anlagen": 4, "typ": null}, "gebuehr": "1.200 EUR"}}), "application/json");
    assert_eq!(merged, json!({"bimsch": {"anlagen": 4}, "gebuehr": "1.200 EUR"}));
    // null for the whole field removes it.
    assert_eq!(patch(json!({"custom": null}), "application/json"), Value::Null);
    s.stop();
}

#[test]
fn an_aktenplan_code_with_akten_filed_under_it_does_not_change() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let bauamt = token(&data, "clerk", "anna", &["bauamt"]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let post = |path: &str, body: Value| -> reqwest::blocking::Response {
        c.post(s.url(path)).bearer_auth(&admin).json(&body).send().unwrap()
    };
    let node = |code: &str, access: Value| -> String {
        let r = post("/aktenplan", json!({"code": code, "title": code, "retention_years": 10, "access": access}));
        assert_eq!(r.status(), 201);
        r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string()
    };
    let personal = node("05", json!({"units": ["personal"]}));
    let leer = node("07", json!({"units": ["personal"]}));
    node("08", json!({"units": ["personal"]}));
    let r = post("/akten", json!({"aktenzeichen": "05-1/2026", "title": "Personalrat", "aktenplan": "05"}));
    assert_eq!(r.status(), 201);
    let seen = || -> usize {
        let all: Value = c.get(s.url("/akten")).bearer_auth(&bauamt).send().unwrap().json().unwrap();
        all["items"].as_array().unwrap().len()
    };
    assert_eq!(seen(), 0, "the node's grant keeps the Akte from the other unit");
    let patch = |id: &str, body: Value| {
        c.patch(s.url(&format!("/aktenplan/{id}"))).bearer_auth(&admin).json(&body).send().unwrap()
    };
    // A new code would leave the Akte without its node, its grant, its retention.
    let refused = patch(&personal, json!({"code": "05.0"}));
    assert_eq!(refused.status(), 409);
    let problem: Value = refused.json().unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("1 Akte(n) are filed under the Aktenplan code 05"),
        "{problem}"
    );
    // (Nor is a node without a code.)
    assert_eq!(patch(&personal, json!({"code": null})).status(), 422);
    assert_eq!(seen(), 0, "the grant holds");
    // The title changes; a node without Akten changes its code, but not to another's.
    assert_eq!(patch(&personal, json!({"title": "Personalvertretung"})).status(), 200);
    assert_problem(patch(&leer, json!({"code": "08"})), 409, "conflict");
    assert_eq!(patch(&leer, json!({"code": "07.1"})).status(), 200);
    s.stop();
}

#[test]
fn a_derived_result_is_in_the_feed_for_the_dokumente_it_was_made_for() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let s = Server::start(&data, true, &[]);
    let c = client();
    let akte = create_akte(&c, &s, &admin, "61.2-0970/2026", "Gleiche Bytes");
    let upload = |name: &str| -> String {
        let r = c
            .post(s.url(&format!("/akten/{akte}/dokumente?file_name={name}")))
            .bearer_auth(&admin)
            .body("Vermerk über die Ortsbesichtigung am Windpark")
            .send()
            .unwrap();
        r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string()
    };
    let text_done = |id: &str| {
        let start = Instant::now();
        loop {
            let t: Value =
                c.get(s.url(&format!("/dokumente/{id}/text"))).bearer_auth(&admin).send().unwrap().json().unwrap();
            if t["state"] == "done" {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "no text: {t}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let first = upload("vermerk.txt");
    text_done(&first);
    // The same bytes again: the text made for the first is the second's at once.
    let second = upload("vermerk-kopie.txt");
    text_done(&second);
    let feed: Value = c.get(s.url("/changes?limit=1000")).bearer_auth(&admin).send().unwrap().json().unwrap();
    let items = feed["changes"].as_array().unwrap();
    let at = |action: &str, id: &str| items.iter().position(|ch| ch["action"] == action && ch["object"] == id);
    let (created, derived) = (at("create", &first).unwrap(), at("derive", &first).unwrap());
    assert!(created < derived, "{feed}");
    // Nothing is derived for the second: no item, and none before its own creation.
    assert_eq!(at("derive", &second), None, "{feed}");
    s.stop();
}

#[test]
fn a_vorgang_posted_twice_with_one_key_is_made_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let akte = create_akte(&c, &s, &admin, "61.2-0980/2026", "Vorgänge mit Schlüssel");
    let post = |title: &str| {
        c.post(s.url(&format!("/akten/{akte}/vorgaenge")))
            .bearer_auth(&admin)
            .header("idempotency-key", "vorgang-1")
            .json(&json!({"title": title}))
            .send()
            .unwrap()
    };
    let first = post("Beteiligung");
    assert_eq!(first.status(), 201);
    let again = post("Beteiligung");
    assert_eq!((again.status().as_u16(), &again.headers()["idempotent-replay"]), (201, &"true".parse().unwrap()));
    assert_eq!(again.headers()["location"], first.headers()["location"]);
    assert_problem(post("Anhörung"), 422, "idempotency-key-reused");
    let listed: Value =
        c.get(s.url(&format!("/akten/{akte}/vorgaenge"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    // A misspelt filter of the Akten list is refused, not ignored.
    assert_problem(
        c.get(s.url("/akten?status=offen&sort=title")).bearer_auth(&admin).send().unwrap(),
        400,
        "bad-request",
    );
    s.stop();
}

/// A damaged object: the download of its Dokument is a 500 `integrity` problem and is
/// counted for monitoring; every other Dokument is served as before.
#[test]
fn a_damaged_object_is_an_integrity_problem_and_is_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let objects = data.join("store/objects");
    let listing = || -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for dir in std::fs::read_dir(&objects).unwrap() {
            for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                out.push(f.unwrap().path());
            }
        }
        out
    };
    let s = Server::start(&data, false, &[]);
    let c = client();
    let akte = create_akte(&c, &s, &admin, "61.2-0970/2026", "Beschädigt");
    let upload = |name: &str, body: Vec<u8>| -> String {
        let r = c.post(s.url(&format!("/akten/{akte}/dokumente?file_name={name}"))).bearer_auth(&admin).body(body);
        r.send().unwrap().json::<Value>().unwrap()["id"].as_str().unwrap().to_string()
    };
    let good = upload("gut.txt", b"unversehrt".to_vec());
    let before = listing();
    // Large enough to be an object of its own (not packed with the records).
    let bad = upload("plan.bin", (0..600_000u32).map(|i| (i * 7 % 251) as u8).collect());
    let chunk =
        listing().into_iter().filter(|p| !before.contains(p)).max_by_key(|p| p.metadata().unwrap().len()).unwrap();
    let mut bytes = std::fs::read(&chunk).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&chunk, bytes).unwrap();
    let metric = || -> u64 {
        let m = c.get(format!("{}/metrics", s.base)).send().unwrap().text().unwrap();
        let line = m.lines().find(|l| l.starts_with("akte_integrity_errors_total ")).unwrap_or_else(|| panic!("{m}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(metric(), 0);
    let r = c.get(s.url(&format!("/dokumente/{bad}/content"))).bearer_auth(&admin).send().unwrap();
    assert_problem(r, 500, "integrity");
    assert_eq!(metric(), 1);
    let r = c.get(s.url(&format!("/dokumente/{good}/content"))).bearer_auth(&admin).send().unwrap();
    assert_eq!(r.bytes().unwrap().as_ref(), b"unversehrt");
    s.stop();
}
