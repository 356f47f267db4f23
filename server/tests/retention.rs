//! Retention, legal hold and deletion through the REST API and the CLI: refused while
//! retention runs, a hold is set or the Akte is open; allowed to archivists afterwards;
//! the deleted Akte disappears from every view (get, list, search, download, feed for
//! others), its tombstone keeps the evidence, and the store verifies clean.

mod common;

use common::{Server, assert_problem, client, init_repo, token};
use serde_json::{Value, json};

fn create(c: &reqwest::blocking::Client, s: &Server, t: &str, body: Value) -> String {
    let r = c.post(s.url("/akten")).bearer_auth(t).json(&body).send().unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string()
}

fn upload(c: &reqwest::blocking::Client, s: &Server, t: &str, akte: &str, name: &str, body: &[u8]) -> String {
    let r = c
        .post(s.url(&format!("/akten/{akte}/dokumente?file_name={name}")))
        .bearer_auth(t)
        .body(body.to_vec())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string()
}

#[test]
fn deletion_is_refused_while_retention_runs_and_erases_everything_after() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let archivist = token(&data, "archivist", "test-archiv", &[]);
    let clerk = token(&data, "clerk", "test-clerk", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();

    let old = create(&c, &s, &admin, json!({"aktenzeichen": "61.2-7/2010", "title": "Altakte Windmühle Mustermann"}));
    let keep = create(&c, &s, &admin, json!({"aktenzeichen": "61.2-8/2010", "title": "Bleibt"}));
    let dok = upload(&c, &s, &admin, &old, "gutachten.txt", b"Schallgutachten Windmuehle Altbestand");
    let shared = upload(&c, &s, &admin, &old, "karte.txt", b"gemeinsame Karte");
    let kept_dok = upload(&c, &s, &admin, &keep, "karte.txt", b"gemeinsame Karte");
    let _ = shared;
    let del = |t: &str, id: &str| {
        c.delete(s.url(&format!("/akten/{id}?reason=Frist%20abgelaufen"))).bearer_auth(t).send().unwrap()
    };

    // Open: refused. A clerk may not delete at all.
    assert_problem(del(&clerk, &old), 403, "forbidden");
    let why = assert_problem(del(&archivist, &old), 409, "retention");
    assert!(why.contains("not closed"), "{why}");
    // Closed today with ten years: retention runs.
    let r = c
        .patch(s.url(&format!("/akten/{old}")))
        .bearer_auth(&archivist)
        .json(&json!({"retention_years": 10}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(c.post(s.url(&format!("/akten/{old}/close"))).bearer_auth(&admin).send().unwrap().status(), 200);
    let why = assert_problem(del(&archivist, &old), 409, "retention");
    assert!(why.contains("retention period runs until"), "{why}");
    // The Laufzeit ended long ago: retention is over, but a legal hold keeps it.
    let r = c
        .patch(s.url(&format!("/akten/{old}")))
        .bearer_auth(&admin)
        .json(&json!({"laufzeit_ende": "2010-12-31", "legal_hold": true}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = c.get(s.url(&format!("/akten/{old}/retention"))).bearer_auth(&clerk).send().unwrap().json().unwrap();
    assert_eq!(v["retention_end"], "2020-12-31");
    assert_eq!(v["deletable"], false);
    let why = assert_problem(del(&archivist, &old), 409, "retention");
    assert!(why.contains("legal hold"), "{why}");
    // Nothing was lost by the refusals.
    assert_eq!(c.get(s.url(&format!("/dokumente/{dok}/content"))).bearer_auth(&admin).send().unwrap().status(), 200);

    let r = c
        .patch(s.url(&format!("/akten/{old}")))
        .bearer_auth(&archivist)
        .json(&json!({"legal_hold": false}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // Exports of the Akte made before: their ZIPs and trees must not outlive it.
    let export = |akte: &str| -> String {
        let r = c.post(s.url("/exports")).bearer_auth(&archivist).json(&json!({"format": "bagit", "akten": [akte]}));
        let job: Value = r.send().unwrap().json().unwrap();
        let id = job["id"].as_str().unwrap_or_else(|| panic!("{job}")).to_string();
        let start = std::time::Instant::now();
        loop {
            let v: Value = c.get(s.url(&format!("/jobs/{id}"))).bearer_auth(&archivist).send().unwrap().json().unwrap();
            if v["state"] == "done" {
                return id;
            }
            assert!(v["state"] != "failed" && start.elapsed().as_secs() < 60, "{v}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let (of_old, of_keep) = (export(&old), export(&keep));
    assert!(data.join("jobs").join(&of_old).exists());
    // The Akte's title is in the index files (each Dokument carries it); after the deletion
    // it must be gone from the disk, not only from the answers.
    assert!(index_holds(&data, b"Mustermann"), "the check below can fail");
    let r = del(&archivist, &old);
    assert_eq!(r.status(), 200);
    assert!(!index_holds(&data, b"Mustermann"), "the index files still hold the deleted Akte's title");
    assert_problem(c.get(s.url(&format!("/jobs/{of_old}"))).bearer_auth(&archivist).send().unwrap(), 404, "not-found");
    assert!(!data.join("jobs").join(&of_old).exists(), "the export's files went with the Akte");
    assert!(data.join("jobs").join(&of_keep).exists(), "the other Akte's export stays");
    let gone: Value = r.json().unwrap();
    assert_eq!(gone["evidence"]["aktenzeichen"], "61.2-7/2010");
    assert_eq!(gone["evidence"]["reason"], "Frist abgelaufen");
    assert_eq!(gone["evidence"]["dokumente"], 2);
    assert_eq!(gone["actor"], "token:test-archiv");
    assert!(!gone.to_string().contains("Mustermann"), "the evidence holds no title: {gone}");
    assert!(gone["erased"]["objects"].as_u64().unwrap() > 0, "{gone}");

    // Gone from every view; the other Akte and the content it shares stay. Who could read
    // it learns that it was deleted (410), not that it never was.
    let why = assert_problem(c.get(s.url(&format!("/akten/{old}"))).bearer_auth(&clerk).send().unwrap(), 410, "gone");
    assert!(why.contains("61.2-7/2010") && why.contains("retention"), "{why}");
    assert!(!why.contains("Mustermann"), "no title in the answer: {why}");
    let why = assert_problem(
        c.get(s.url(&format!("/dokumente/{dok}/content"))).bearer_auth(&admin).send().unwrap(),
        410,
        "gone",
    );
    assert!(why.contains(&dok) && why.contains("with the Akte 61.2-7/2010"), "{why}");
    assert_problem(del(&archivist, &old), 410, "gone");
    let list: Value = c.get(s.url("/akten")).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert!(!list.to_string().contains(&old), "{list}");
    let found: Value = c.get(s.url("/search?q=Schallgutachten")).bearer_auth(&admin).send().unwrap().json().unwrap();
    assert_eq!(found["hits"].as_array().unwrap().len(), 0, "{found}");
    let r = c.get(s.url(&format!("/dokumente/{kept_dok}/content"))).bearer_auth(&admin).send().unwrap();
    assert_eq!(r.bytes().unwrap().as_ref(), b"gemeinsame Karte");

    // The tombstone: for those who may delete, in /deletions and in the change feed.
    let stones: Value = c.get(s.url("/deletions")).bearer_auth(&archivist).send().unwrap().json().unwrap();
    assert_eq!(stones.as_array().unwrap().len(), 1);
    assert_eq!(stones[0]["akte_id"], old.as_str());
    assert_problem(c.get(s.url("/deletions")).bearer_auth(&clerk).send().unwrap(), 403, "forbidden");
    let feed = |t: &str| -> Value { c.get(s.url("/changes")).bearer_auth(t).send().unwrap().json().unwrap() };
    let deletions = |v: &Value| v["changes"].as_array().unwrap().iter().filter(|i| i["action"] == "delete").count();
    assert_eq!(deletions(&feed(&archivist)), 1);
    assert_eq!(deletions(&feed(&clerk)), 0);
    let clerk_feed = feed(&clerk).to_string();
    assert!(!clerk_feed.contains("Mustermann") && !clerk_feed.contains(&old), "nothing of it in the feed");

    // The evidence of an Akte only unit ub could read: for admins and ub's archivists only.
    let secret = create(
        &c,
        &s,
        &admin,
        json!({"aktenzeichen": "61.2-9/2010", "title": "Verschlossen", "access": {"units": ["ub"]}}),
    );
    let r = c.patch(s.url(&format!("/akten/{secret}"))).bearer_auth(&admin).json(&json!({"retention_years": 1}));
    assert_eq!(r.send().unwrap().status(), 200);
    assert_eq!(c.post(s.url(&format!("/akten/{secret}/close"))).bearer_auth(&admin).send().unwrap().status(), 200);
    let r =
        c.patch(s.url(&format!("/akten/{secret}"))).bearer_auth(&admin).json(&json!({"laufzeit_ende": "2010-12-31"}));
    assert_eq!(r.send().unwrap().status(), 200);
    assert_eq!(del(&admin, &secret).status(), 200);
    let made = |name: &str, unit: &str| -> String {
        let body = json!({"name": name, "role": "archivist", "units": [unit]});
        let v: Value = c.post(s.url("/tokens")).bearer_auth(&admin).json(&body).send().unwrap().json().unwrap();
        v["token"].as_str().unwrap_or_else(|| panic!("{v}")).to_string()
    };
    let (ua, ub) = (made("archiv-ua", "ua"), made("archiv-ub", "ub"));
    let listed = |t: &str| -> Vec<String> {
        let v: Value = c.get(s.url("/deletions")).bearer_auth(t).send().unwrap().json().unwrap();
        v.as_array().unwrap().iter().map(|d| d["akte_id"].as_str().unwrap().to_string()).collect()
    };
    assert!(listed(&admin).contains(&secret) && listed(&ub).contains(&secret));
    assert!(!listed(&ua).contains(&secret) && !listed(&archivist).contains(&secret), "only who could read it");
    assert!(listed(&ua).contains(&old), "an Akte everyone could read: its evidence for every archivist");
    assert_problem(c.get(s.url(&format!("/deletions/{secret}"))).bearer_auth(&ua).send().unwrap(), 404, "not-found");
    // Nor does the Akte itself answer 410 to someone who could not read it: the same 404 as
    // an id that never was.
    assert_problem(c.get(s.url(&format!("/akten/{secret}"))).bearer_auth(&ua).send().unwrap(), 404, "not-found");
    let why = assert_problem(c.get(s.url(&format!("/akten/{secret}"))).bearer_auth(&ub).send().unwrap(), 410, "gone");
    assert!(why.contains("61.2-9/2010"), "{why}");
    assert!(!feed(&ua).to_string().contains(&secret), "nor in the change feed");
    assert!(feed(&ub).to_string().contains(&secret));
    assert!(s.stop().success());

    // The store verifies clean, and the audit trail counts the deletion.
    common::ok(&data, &["verify"]);
    let audit = common::ok(&data, &["--json", "audit", "verify"]).json();
    assert_eq!(audit["deletions"], 2, "{audit}");
    // Nothing of the Akte is in the local catalog cache either (head and log).
    let cache = std::fs::read_to_string(data.join("catalog.json")).unwrap_or_default()
        + &std::fs::read_to_string(data.join("catalog.log")).unwrap_or_default();
    assert!(cache.contains(&"\"hlc\"".to_string()), "the cache holds entries");
    assert!(!cache.contains("Mustermann"));
}

#[test]
fn the_cli_deletes_only_what_may_go() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let id = common::create(&data, "1-1/2001", "Alt");
    common::create(&data, "1-2/2001", "Neu");
    let file = common::write_file(tmp.path(), "brief.txt", b"Brief an Erika");
    common::add(&data, "1-1/2001", &[file]);
    // Open: refused with one sentence, nothing changes.
    let run = common::run(&data, &["delete", "1-1/2001"]).fails_with_sentence();
    assert!(run.stderr.contains("not closed"), "{}", run.stderr);
    let admin = token(&data, "admin", "test-admin", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    assert_eq!(c.post(s.url(&format!("/akten/{id}/close"))).bearer_auth(&admin).send().unwrap().status(), 200);
    let r = c
        .patch(s.url(&format!("/akten/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"laufzeit_ende": "2001-06-30", "retention_years": 5}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    assert!(s.stop().success());
    let run = common::run(&data, &["delete", "1-2/2001"]).fails_with_sentence();
    assert!(run.stderr.contains("not closed"), "{}", run.stderr);
    let out = common::ok(&data, &["--json", "delete", "1-1/2001", "--reason", "Frist abgelaufen"]).json();
    assert_eq!(out["akten"][0], id.as_str());
    assert!(out["objects"].as_u64().unwrap() >= 4, "{out}");
    let list = common::ok(&data, &["ls"]).out();
    assert!(!list.contains("1-1/2001") && list.contains("1-2/2001"), "{list}");
    // A rerun (as after an interruption) completes quietly.
    common::ok(&data, &["delete", &id]);
    common::ok(&data, &["verify"]);
    // The history shows the deletion's evidence, by Aktenzeichen and by id.
    for key in ["1-1/2001", id.as_str()] {
        let h = common::ok(&data, &["history", key, "--json"]).json();
        assert_eq!(h[0]["action"], "delete", "{h}");
        assert!(h.to_string().contains("Frist abgelaufen"), "{h}");
    }
    // A new Akte with the Aktenzeichen: its own history, and a note of the deleted one.
    common::create(&data, "1-1/2001", "Neu vergeben");
    let r = common::ok(&data, &["history", "1-1/2001", "--json"]);
    assert_eq!(r.json()[0]["action"], "create");
    assert!(r.stderr.contains("was deleted on"), "{}", r.stderr);
}

/// An export made on this node, its Akte deleted on another node of the same store: the
/// result goes once this node has read the deletion.
#[test]
fn an_export_goes_when_another_node_deletes_its_akte() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let archivist = token(&data, "archivist", "test-archiv", &[]);
    let akte = common::create(&data, "1-1/2001", "Alt");
    common::add(&data, "1-1/2001", &[common::write_file(tmp.path(), "brief.txt", b"Brief an Erika")]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let r = c.post(s.url("/exports")).bearer_auth(&archivist).json(&json!({"format": "bagit", "akten": [akte]}));
    let job = r.send().unwrap().json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let state = || -> (u16, Value) {
        let r = c.get(s.url(&format!("/jobs/{job}"))).bearer_auth(&archivist).send().unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    };
    let start = std::time::Instant::now();
    while state().1["state"] != "done" {
        assert!(start.elapsed().as_secs() < 60, "{:?}", state());
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The other node: same store and identity, its own data directory.
    let store = format!("file://{}", data.join("store").display());
    let identity = data.join("identity.txt");
    let other = tmp.path().join("b");
    let on_b = |args: &[&str]| {
        let join = ["--store", store.as_str(), "--identity", identity.to_str().unwrap()];
        common::ok(&other, &[&join[..], args].concat())
    };
    on_b(&["set", "1-1/2001", "status=zda", "laufzeit_ende=2001-06-30", "retention_years:=1"]);
    on_b(&["delete", "1-1/2001", "--reason", "Frist abgelaufen"]);
    let start = std::time::Instant::now();
    loop {
        let (status, view) = state();
        if status == 404 {
            break;
        }
        assert!(start.elapsed().as_secs() < 30, "the export outlives its Akte: {view}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!data.join("jobs").join(&job).exists(), "its files are gone");
}

/// Closing keeps a Laufzeit the client gave, reopening ends it, and an archivist may
/// correct it after closing.
#[test]
fn closing_keeps_a_laufzeit_given_and_reopening_clears_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let archivist = token(&data, "archivist", "test-archiv", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let a = create(&c, &s, &admin, json!({"aktenzeichen": "1-7/2000", "title": "Papierakte"}));
    let ende = || -> Value {
        let v: Value = c.get(s.url(&format!("/akten/{a}"))).bearer_auth(&admin).send().unwrap().json().unwrap();
        v["fields"]["laufzeit_ende"].clone()
    };
    let patch =
        |t: &str, body: Value| c.patch(s.url(&format!("/akten/{a}"))).bearer_auth(t).json(&body).send().unwrap();
    let post = |what: &str| c.post(s.url(&format!("/akten/{a}/{what}"))).bearer_auth(&admin).send().unwrap().status();
    assert_eq!(patch(&admin, json!({"laufzeit_ende": "2000-01-01"})).status(), 200);
    assert_eq!(post("close"), 200);
    assert_eq!(ende(), "2000-01-01", "the Laufzeit given stays");
    assert_eq!(post("reopen"), 200);
    assert_eq!(ende(), Value::Null, "reopened, it runs on");
    assert_eq!(post("close"), 200);
    let today = ende();
    let year = time::OffsetDateTime::now_utc().year();
    assert!(
        today.as_str().is_some_and(|d| d.starts_with(&year.to_string()) || d.starts_with(&(year + 1).to_string())),
        "{today}"
    );
    assert_eq!(patch(&archivist, json!({"laufzeit_ende": "2001-12-31"})).status(), 200, "an archivist corrects it");
    assert_eq!(ende(), "2001-12-31");
}

#[test]
fn an_akte_takes_retention_and_appraisal_from_its_aktenplan_and_lists_follow_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let plan = |body: Value| {
        let r = c.post(s.url("/aktenplan")).bearer_auth(&admin).json(&body).send().unwrap();
        assert_eq!(r.status(), 201, "{:?}", r.text());
    };
    // 6 Umwelt › 61 Immissionsschutz › 61.2 Windenergie: codes not all starting with "6.".
    plan(json!({"code": "6", "title": "Umwelt", "retention_years": 30, "appraisal": "archivwuerdig"}));
    let six: Value = c.get(s.url("/aktenplan")).bearer_auth(&admin).send().unwrap().json().unwrap();
    let id_of = |v: &Value, code: &str| {
        let all = v.as_array().or_else(|| v["items"].as_array()).unwrap().clone();
        all.iter().find(|n| n["code"] == code).unwrap()["id"].as_str().unwrap().to_string()
    };
    plan(json!({"code": "61", "title": "Immissionsschutz", "parent": id_of(&six, "6")}));
    let tree: Value = c.get(s.url("/aktenplan")).bearer_auth(&admin).send().unwrap().json().unwrap();
    plan(
        json!({"code": "61.2", "title": "Windenergie", "parent": id_of(&tree, "61"), "retention_years": 10, "appraisal": "vernichten"}),
    );

    let under =
        create(&c, &s, &admin, json!({"aktenzeichen": "61.2-1/2010", "title": "Windmühle", "aktenplan": "61.2"}));
    let own = create(
        &c,
        &s,
        &admin,
        json!({"aktenzeichen": "61-2/2010", "title": "Eigene Frist", "aktenplan": "61", "retention_years": 2}),
    );
    let plain = create(&c, &s, &admin, json!({"aktenzeichen": "1-3/2010", "title": "Ohne Plan"}));
    let retention = |id: &str| -> Value {
        c.get(s.url(&format!("/akten/{id}/retention"))).bearer_auth(&admin).send().unwrap().json().unwrap()
    };
    // Open, it takes the nearest node's period and appraisal.
    let v = retention(&under);
    assert_eq!(
        (&v["retention_years"], &v["retention_from"], &v["appraisal"]),
        (&json!(10), &json!("aktenplan"), &json!("vernichten")),
        "{v}"
    );
    for id in [&under, &own, &plain] {
        let r = c
            .patch(s.url(&format!("/akten/{id}")))
            .bearer_auth(&admin)
            .json(&json!({"laufzeit_ende": "2010-06-30"}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(c.post(s.url(&format!("/akten/{id}/close"))).bearer_auth(&admin).send().unwrap().status(), 200);
    }
    // Closed, it keeps what it took: a later change of the Aktenplan does not change it.
    let node = id_of(&c.get(s.url("/aktenplan")).bearer_auth(&admin).send().unwrap().json().unwrap(), "61.2");
    let r = c
        .patch(s.url(&format!("/aktenplan/{node}")))
        .bearer_auth(&admin)
        .json(&json!({"retention_years": 50}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = retention(&under);
    assert_eq!(
        (&v["retention_years"], &v["retention_from"], &v["appraisal"]),
        (&json!(10), &json!("akte"), &json!("vernichten")),
        "{v}"
    );
    assert_eq!(v["retention_end"], "2020-12-31");
    assert_eq!(v["deletable"], true, "{v}");
    let h: Value = c.get(s.url(&format!("/akten/{under}/history"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    let closed_with = h.as_array().unwrap().iter().any(|e| {
        e["changes"].as_array().is_some_and(|ch| ch.iter().any(|c| c["field"] == "retention_years" && c["new"] == 10))
    });
    assert!(closed_with, "the close records the period it took: {h}");
    // The Akte's own period comes first. Its appraisal, from further up, is archivwuerdig:
    // its period is over, but it goes to the archive, not away.
    let v = retention(&own);
    assert_eq!(
        (&v["retention_years"], &v["retention_from"], &v["retention_end"], &v["appraisal"]),
        (&json!(2), &json!("akte"), &json!("2012-12-31"), &json!("archivwuerdig")),
        "{v}"
    );
    assert_eq!(v["deletable"], false, "{v}");
    assert!(v["refusal"].as_str().unwrap().contains("Aussonderung"), "{v}");
    let refused = c.delete(s.url(&format!("/akten/{own}?reason=Frist"))).bearer_auth(&admin).send().unwrap();
    let why = assert_problem(refused, 409, "retention");
    assert!(why.contains("archivwuerdig"), "{why}");
    // Without a plan and a period of its own: kept for ever.
    let v = retention(&plain);
    assert!(v["retention_years"].is_null() && v["deletable"] == false, "{v}");

    // Listing by an Aktenplan code finds the Akten below it in the tree.
    let listed = |code: &str| -> Vec<String> {
        let v: Value =
            c.get(s.url(&format!("/akten?aktenplan={code}"))).bearer_auth(&admin).send().unwrap().json().unwrap();
        v["items"].as_array().unwrap().iter().map(|a| a["aktenzeichen"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(listed("6"), ["61.2-1/2010", "61-2/2010"]);
    assert_eq!(listed("61.2"), ["61.2-1/2010"]);

    // The evidence of its deletion says which period made it due, and where it came from.
    let r = c.delete(s.url(&format!("/akten/{under}?reason=Frist%20abgelaufen"))).bearer_auth(&admin).send().unwrap();
    assert!(r.status().is_success(), "{:?}", r.text());
    let gone: Value = c.get(s.url(&format!("/deletions/{under}"))).bearer_auth(&admin).send().unwrap().json().unwrap();
    let e = &gone["evidence"];
    assert_eq!((&e["retention_years"], &e["appraisal"]), (&json!(10), &json!("vernichten")), "{gone}");
    s.stop();
}

#[test]
fn a_clerk_cannot_make_an_akte_due_early() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let clerk = token(&data, "clerk", "anna", &[]);
    let archivist = token(&data, "archivist", "registratur", &[]);
    let s = Server::start(&data, false, &[]);
    let c = client();
    let r = c
        .post(s.url("/aktenplan"))
        .bearer_auth(&admin)
        .json(&json!({"code": "04", "title": "Grundsatz", "retention_years": 7, "appraisal": "archivwuerdig"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    // A wrong number is named in words, with its field.
    let r = c
        .post(s.url("/akten"))
        .bearer_auth(&admin)
        .json(&json!({"aktenzeichen": "04-0/2026", "title": "x", "retention_years": -3}));
    let detail = assert_problem(r.send().unwrap(), 422, "invalid");
    assert!(detail.contains("field retention_years takes a whole number, 0 or more, not integer -3"), "{detail}");
    // Not at creation, against the node: that is the records manager's decision.
    let r = c
        .post(s.url("/akten"))
        .bearer_auth(&clerk)
        .json(&json!({"aktenzeichen": "04-1/2026", "title": "Kurz", "aktenplan": "04", "retention_years": 0, "appraisal": "vernichten"}))
        .send()
        .unwrap();
    let detail = assert_problem(r, 403, "forbidden");
    assert!(detail.contains("retention_years or appraisal"), "{detail}");
    let akte = create(
        &c,
        &s,
        &clerk,
        json!({"aktenzeichen": "04-2/2026", "title": "Lauf", "aktenplan": "04", "laufzeit_beginn": "2020-01-15"}),
    );
    let patch =
        |t: &str, body: Value| c.patch(s.url(&format!("/akten/{akte}"))).bearer_auth(t).json(&body).send().unwrap();
    // A Laufzeit that ends before it begins, or in the future.
    let detail = assert_problem(patch(&clerk, json!({"laufzeit_ende": "2019-06-30"})), 422, "invalid");
    assert!(detail.contains("before it begins"), "{detail}");
    let detail = assert_problem(patch(&clerk, json!({"laufzeit_ende": "2099-06-30"})), 422, "invalid");
    assert!(detail.contains("future"), "{detail}");
    // An end before the Akte came into the repository is a records manager's correction.
    let detail = assert_problem(patch(&clerk, json!({"laufzeit_ende": "2021-12-31"})), 403, "forbidden");
    assert!(detail.contains("archivist"), "{detail}");
    assert_eq!(patch(&archivist, json!({"laufzeit_ende": "2021-12-31"})).status(), 200);
    let r = c.post(s.url(&format!("/akten/{akte}/close"))).bearer_auth(&archivist).send().unwrap();
    assert_eq!(r.status(), 200);
    // Seven years from the node, from the end of 2021: not due yet, and archival anyway.
    let retention: Value =
        c.get(s.url(&format!("/akten/{akte}/retention"))).bearer_auth(&archivist).send().unwrap().json().unwrap();
    assert_eq!(
        (&retention["retention_end"], &retention["deletable"]),
        (&json!("2028-12-31"), &json!(false)),
        "{retention}"
    );
    s.stop();
}

#[test]
fn the_cli_sets_fields_by_the_apis_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    common::create(&data, "2-1/2026", "Zu schließen");
    common::create(&data, "2-2/2026", "Offen");
    let history = || common::ok(&data, &["history", "2-1/2026", "--json"]).json();
    // Closing with `set` ends the Laufzeit today, as the API's close does.
    common::ok(&data, &["set", "2-1/2026", "status=zda"]);
    let h = history();
    let last = h.as_array().unwrap().last().unwrap().to_string();
    assert!(last.contains("laufzeit_ende") && last.contains("zda"), "{h}");
    // Nothing but retention, hold, Laufzeit and status changes in a closed Akte.
    let r = common::run(&data, &["set", "2-1/2026", "title=Nachträglich"]).fails_with_sentence();
    assert!(r.stderr.contains("closed"), "{}", r.stderr);
    common::ok(&data, &["set", "2-1/2026", "legal_hold:=true"]);
    let entries = history().as_array().unwrap().len();
    // A value it has already writes nothing.
    let r = common::ok(&data, &["set", "2-1/2026", "legal_hold:=true"]);
    assert!(r.out().contains("unchanged"), "{}", r.out());
    assert_eq!(history().as_array().unwrap().len(), entries);
    // An Aktenplan code no node has, and a Laufzeit that ends before it begins.
    let r = common::run(&data, &["set", "2-2/2026", "aktenplan=99.9"]).fails_with_sentence();
    assert!(r.stderr.contains("99.9") && r.stderr.contains("akte aktenplan add"), "{}", r.stderr);
    common::run(&data, &["create", "--aktenzeichen", "2-3/2026", "--title", "x", "--aktenplan", "99.9"])
        .fails_with_sentence();
    // A records manager sets up the node from the CLI; the Akte then takes its defaults.
    common::ok(&data, &["aktenplan", "add", "2", "--title", "Allgemeines"]);
    common::ok(&data, &["aktenplan", "add", "2.1", "--title", "Grundsatz", "--parent", "2", "--retention-years", "10"]);
    common::run(&data, &["aktenplan", "add", "2.1", "--title", "Nochmal"]).fails_with_sentence();
    common::run(&data, &["aktenplan", "add", "3.1", "--title", "Waise", "--parent", "3"]).fails_with_sentence();
    common::ok(&data, &["set", "2-2/2026", "aktenplan=2.1"]);
    let plan = common::ok(&data, &["aktenplan", "list", "--json"]).json();
    assert_eq!(plan.as_array().unwrap().len(), 2, "{plan}");
    assert_eq!((&plan[1]["code"], &plan[1]["fields"]["retention_years"]), (&json!("2.1"), &json!(10)), "{plan}");
    let r = common::run(&data, &["set", "2-2/2026", "laufzeit_beginn=2020-01-01", "laufzeit_ende=2019-01-01"])
        .fails_with_sentence();
    assert!(r.stderr.contains("before it begins"), "{}", r.stderr);
    // Reopened, the Akte runs on: no end of its Laufzeit.
    common::ok(&data, &["set", "2-1/2026", "status=offen"]);
    let last = history().as_array().unwrap().last().unwrap().to_string();
    assert!(last.contains("laufzeit_ende"), "{last}");
}

/// Whether any file of the node's search index holds `needle` as it is.
fn index_holds(data: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read_dir(data.join("index")).unwrap().any(|e| {
        let bytes = std::fs::read(e.unwrap().path()).unwrap_or_default();
        bytes.windows(needle.len()).any(|w| w == needle)
    })
}
