//! Sovereignty as a tested property: a whole session with the server (start, upload with
//! extraction, search, download, history, stop) makes no outbound connection. strace
//! records every `connect` of the server and all its children (plugins run in-process;
//! OCR runs tesseract); only loopback and local sockets may appear. The store is the
//! local file store here, so it adds no address either.

mod common;

use std::{process::Stdio, time::Duration};

use common::{assert_problem, client, init_repo, token};
use serde_json::Value;

#[test]
fn a_served_session_connects_to_nothing_but_loopback() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "admin", &[]);
    let trace = tmp.path().join("connect.trace");
    // strace in front of `akte serve`: run the binary through it with the same environment.
    let log = tmp.path().join("serve.log");
    let env = common::akte_cmd(tmp.path());
    let mut child = std::process::Command::new("strace")
        .args(["-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-o", trace.to_str().unwrap(), common::bin()])
        .args(["--data", data.to_str().unwrap(), "--json", "serve", "--listen", "127.0.0.1:0"])
        .envs(env.get_envs().filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned()))))
        .env("AKTE_SYNC_INTERVAL_MS", "200")
        .current_dir(tmp.path())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("strace runs (scripts/setup.sh --test installs it)");
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let addr = loop {
        let line = lines.next().expect("the server prints where it listens").unwrap();
        if let Ok(v) = serde_json::from_str::<Value>(&line)
            && let Some(a) = v["listening"].as_str()
        {
            break a.to_string();
        }
    };
    let base = format!("http://{addr}/api/v1");
    let c = client();
    let r = c
        .post(format!("{base}/akten"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"aktenzeichen": "9-9/2026", "title": "Souverän"}))
        .send()
        .unwrap();
    let akte = r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let doc = "Antrag auf Genehmigung des Windparks Hohe Heide nach § 4 BImSchG.\n".repeat(50).into_bytes();
    let r = c
        .post(format!("{base}/akten/{akte}/dokumente?file_name=antrag.txt"))
        .bearer_auth(&admin)
        .body(doc.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let dok = r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    // Wait for extraction (the ingest worker runs the plugins) to show in the text view.
    let start = std::time::Instant::now();
    loop {
        let t: Value =
            c.get(format!("{base}/dokumente/{dok}/text")).bearer_auth(&admin).send().unwrap().json().unwrap();
        if t["extracted"] == true {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "extraction did not finish: {t}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // The extracted text reaches the index within moments of the extraction.
    let extracted = std::time::Instant::now();
    loop {
        let found: Value =
            c.get(format!("{base}/search?q=Windpark")).bearer_auth(&admin).send().unwrap().json().unwrap();
        if found["total"].as_u64().unwrap() >= 1 {
            break;
        }
        assert!(extracted.elapsed() < Duration::from_secs(10), "the text was not searchable within 10 s: {found}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let back = c.get(format!("{base}/dokumente/{dok}/content")).bearer_auth(&admin).send().unwrap().bytes().unwrap();
    assert_eq!(back.as_ref(), &doc[..]);
    let h = c.get(format!("{base}/dokumente/{dok}/history")).bearer_auth(&admin).send().unwrap();
    assert_eq!(h.status(), 200);
    assert_problem(c.get(format!("{base}/akten")).send().unwrap(), 401, "unauthenticated");
    // SIGTERM goes to the server itself (strace's child); strace ends when it does.
    let server = std::fs::read_to_string(format!("/proc/{}/task/{}/children", child.id(), child.id())).unwrap();
    let server = server.split_whitespace().next().expect("strace runs the server").to_string();
    let _ = std::process::Command::new("kill").args(["-TERM", &server]).status();
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful stop: {}", std::fs::read_to_string(&log).unwrap_or_default());

    let trace = std::fs::read_to_string(&trace).unwrap();
    let mut outbound = Vec::new();
    let mut connects = 0;
    for line in trace.lines().filter(|l| l.contains("connect(")) {
        connects += 1;
        let local = line.contains("AF_UNIX")
            || line.contains("inet_addr(\"127.0.0.1\")")
            || line.contains("inet_pton(AF_INET6, \"::1\"")
            || line.contains("AF_UNSPEC");
        if !local {
            outbound.push(line.to_string());
        }
    }
    assert!(outbound.is_empty(), "outbound connections: {outbound:#?}");
    eprintln!("{connects} connect calls, all local");
}
