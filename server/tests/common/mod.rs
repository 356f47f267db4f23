//! Helpers shared by the CLI integration tests: running the real `akte` binary, copying
//! data directories, a small deterministic RNG, and the error-sentence contract.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

/// The `akte` binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_akte")
}

/// A `Command` for `akte` with no ambient AKTE_* configuration, run from `cwd`.
pub fn akte_cmd(cwd: &Path) -> Command {
    let mut c = Command::new(bin());
    c.current_dir(cwd)
        .env_remove("AKTE_DATA")
        .env_remove("AKTE_STORE")
        .env_remove("AKTE_IDENTITY")
        .env_remove("AKTE_INGEST")
        .env_remove("AKTE_OCR")
        // Compiled plugins are shared by all tests, so the built-in extractors are
        // compiled once per test run, not once per data directory.
        .env("AKTE_PLUGIN_CACHE", concat!(env!("CARGO_TARGET_TMPDIR"), "/plugin-cache"))
        .stdin(Stdio::null());
    c
}

/// The directory `plugins/build-guests.sh` writes the guest components to.
pub fn guests_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AKTE_GUESTS_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/akte/target")))
        .expect("CARGO_TARGET_DIR or HOME");
    target.join("wasm/components")
}

/// A guest component and its manifest, failing clearly when the guests are not built.
pub fn guest(name: &str) -> (PathBuf, PathBuf) {
    let (wasm, toml) = (guests_dir().join(format!("{name}.wasm")), guests_dir().join(format!("{name}.toml")));
    assert!(wasm.is_file(), "{} is missing: run `bash plugins/build-guests.sh`", wasm.display());
    (wasm, toml)
}

/// What one run of `akte` did.
#[derive(Debug)]
pub struct Run {
    /// The command line, for messages.
    pub cmd: String,
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output, raw.
    pub stdout: Vec<u8>,
    /// Standard error as text.
    pub stderr: String,
}

impl Run {
    /// Standard output as text.
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Standard output parsed as JSON (panics with the run when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.stdout).unwrap_or_else(|e| panic!("{} printed no JSON ({e}):\n{self}", self.cmd))
    }

    /// Panics unless the run exited 0; returns itself.
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success:\n{self}");
        self
    }

    /// Panics unless the run failed with the error contract: exit 1 and exactly one line
    /// on stderr that starts with `akte: ` and is one sentence ending in a period.
    pub fn fails_with_sentence(self) -> Run {
        assert_eq!(self.code, 1, "expected exit code 1:\n{self}");
        assert_error_sentence(&self);
        self
    }
}

/// Checks the error contract on stderr (see [`Run::fails_with_sentence`]).
pub fn assert_error_sentence(run: &Run) {
    let lines: Vec<&str> = run.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "stderr must be exactly one line:\n{run}");
    let line = lines[0];
    assert!(line.starts_with("akte: "), "stderr must start with `akte: `:\n{run}");
    let msg = &line["akte: ".len()..];
    assert!(msg.ends_with('.'), "the error must be a sentence ending in a period:\n{run}");
    assert!(
        msg.chars().next().is_some_and(|c| !c.is_lowercase()),
        "the sentence must start with a capital letter or digit:\n{run}"
    );
    assert!(
        !msg.contains("Caused by") && !msg.contains("panicked") && !msg.contains("RUST_BACKTRACE"),
        "no error chain or panic on stderr:\n{run}"
    );
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let out = self.out();
        let out = if out.chars().count() > 4000 {
            format!("{}… ({} bytes)", out.chars().take(4000).collect::<String>(), out.len())
        } else {
            out
        };
        write!(f, "$ {}\nexit: {}\n--- stdout\n{}\n--- stderr\n{}", self.cmd, self.code, out, self.stderr)
    }
}

fn describe(args: &[&str]) -> String {
    std::iter::once("akte").chain(args.iter().copied()).collect::<Vec<_>>().join(" ")
}

fn to_run(cmd: String, out: Output) -> Run {
    Run {
        cmd,
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `akte ARGS...` in `cwd` (global flags are part of ARGS).
pub fn run_in(cwd: &Path, args: &[&str]) -> Run {
    let out = akte_cmd(cwd).args(args).output().expect("akte starts");
    to_run(describe(args), out)
}

/// Runs `akte --data DATA ARGS...` from DATA's parent directory.
pub fn run(data: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--data", data.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    run_in(data.parent().expect("data dir has a parent"), &all)
}

/// Like [`run`], with extra environment variables.
pub fn run_env(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["--data", data.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let mut cmd = akte_cmd(data.parent().expect("data dir has a parent"));
    cmd.args(&all).envs(env.iter().copied());
    to_run(describe(&all), cmd.output().expect("akte starts"))
}

/// Like [`run`] but must succeed.
pub fn ok(data: &Path, args: &[&str]) -> Run {
    run(data, args).ok()
}

/// Runs `akte --data DATA ARGS...` and waits at most `limit`; panics on a hang.
pub fn run_with_timeout(data: &Path, args: &[&str], limit: Duration) -> Run {
    let mut all = vec!["--data", data.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let dir = tempfile::tempdir().expect("tempdir");
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = akte_cmd(data.parent().expect("parent"))
        .args(&all)
        .stdout(std::fs::File::create(&out_path).expect("out file"))
        .stderr(std::fs::File::create(&err_path).expect("err file"))
        .spawn()
        .expect("akte starts");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{}` did not finish within {limit:?}", describe(&all));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    to_run(
        describe(&all),
        Output {
            status,
            stdout: std::fs::read(&out_path).unwrap_or_default(),
            stderr: std::fs::read(&err_path).unwrap_or_default(),
        },
    )
}

/// `akte init` in a fresh data directory `parent/name`; returns the data directory.
pub fn init_repo(parent: &Path, name: &str) -> PathBuf {
    let data = parent.join(name);
    ok(&data, &["init"]);
    assert!(data.join("identity.txt").is_file(), "init writes identity.txt");
    data
}

/// `akte create … --json`; returns the Akte id.
pub fn create(data: &Path, az: &str, title: &str) -> String {
    let v = ok(data, &["create", "--aktenzeichen", az, "--title", title, "--json"]).json();
    v["id"].as_str().expect("create --json prints an id").to_string()
}

/// `akte add AKTE FILES… --json`; returns the printed rows.
pub fn add(data: &Path, akte: &str, files: &[PathBuf]) -> Vec<Value> {
    let mut args: Vec<&str> = vec!["add", akte, "--json"];
    args.extend(files.iter().map(|f| f.to_str().expect("utf-8 path")));
    let v = ok(data, &args).json();
    v.as_array().expect("add --json prints an array").clone()
}

/// `akte get DOKUMENT` to stdout; panics unless it succeeds.
pub fn get(data: &Path, dokument: &str) -> Vec<u8> {
    ok(data, &["get", dokument]).stdout
}

/// The public key (`age1…`) written on the `# public key:` line of an identity file.
pub fn public_key(identity: &Path) -> String {
    let text = std::fs::read_to_string(identity).expect("identity file");
    text.lines()
        .find_map(|l| l.strip_prefix("# public key:").map(|k| k.trim().to_string()))
        .unwrap_or_else(|| panic!("{} has no `# public key:` line", identity.display()))
}

/// Copies a directory tree (files and folders; no symlinks expected).
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("create dst");
    for e in std::fs::read_dir(src).expect("read src") {
        let e = e.expect("dir entry");
        let to = dst.join(e.file_name());
        let ty = e.file_type().expect("file type");
        if ty.is_dir() {
            copy_dir(&e.path(), &to);
        } else if ty.is_file() && e.file_name() != "lock" {
            std::fs::copy(e.path(), &to).expect("copy file");
        }
    }
}

/// Every file below `root`, as paths relative to it with `/` separators, sorted.
pub fn files_below(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).expect("below root").to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// A deterministic RNG (SplitMix64): the same seed gives the same run on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Fills a buffer with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for c in buf.chunks_mut(8) {
            let r = self.next_u64().to_le_bytes();
            c.copy_from_slice(&r[..c.len()]);
        }
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0; n];
        self.fill(&mut v);
        v
    }
}

/// Writes a file and returns its path.
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write test file");
    p
}

/// Copies a node's data directory to `dst` so that the copy uses its own copy of the store:
/// a node remembers its store URL in `node.json`, so that URL is pointed at the copy.
pub fn copy_node(src: &Path, dst: &Path) {
    copy_dir(src, dst);
    let meta_path = dst.join("node.json");
    let mut meta: Value =
        serde_json::from_slice(&std::fs::read(&meta_path).expect("node.json")).expect("node.json is JSON");
    let old = format!("file://{}", std::path::absolute(src.join("store")).expect("absolute").display());
    if meta["store"].as_str() == Some(old.as_str()) {
        meta["store"] =
            Value::String(format!("file://{}", std::path::absolute(dst.join("store")).expect("absolute").display()));
        std::fs::write(&meta_path, serde_json::to_vec_pretty(&meta).expect("json")).expect("write node.json");
    }
}

/// A running `akte serve` on an ephemeral loopback port; killed on drop.
pub struct Server {
    /// The child process.
    pub child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The data directory.
    pub data: PathBuf,
    /// Its standard error, for failure messages.
    pub log: PathBuf,
}

impl Server {
    /// Starts `akte serve` on DATA (extraction off unless `ingest`), waits until it listens.
    pub fn start(data: &Path, ingest: bool, extra_env: &[(&str, &str)]) -> Server {
        let log = data.with_extension("serve.log");
        let mut cmd = akte_cmd(data.parent().expect("parent"));
        cmd.args(["--data", data.to_str().expect("utf-8"), "--json", "serve", "--listen", "127.0.0.1:0"])
            .env("AKTE_SYNC_INTERVAL_MS", "200")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"));
        if !ingest {
            cmd.env("AKTE_INGEST", "off");
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("akte serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && let Some(a) = v["listening"].as_str()
                {
                    let _ = tx.send(a.to_string());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("akte serve did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
        };
        Server { child, base: format!("http://{addr}"), data: data.to_path_buf(), log }
    }

    /// `BASE/api/v1PATH`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    /// Stops the server with SIGTERM and waits for it.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("akte serve did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `akte token create` on a stopped node; returns the bearer token.
pub fn token(data: &Path, role: &str, name: &str, units: &[&str]) -> String {
    let mut args = vec!["token", "create", "--role", role, "--name", name, "--json"];
    for u in units {
        args.extend(["--unit", u]);
    }
    ok(data, &args).json()["token"].as_str().expect("token").to_string()
}

/// A blocking HTTP client for the API tests.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).no_proxy().build().expect("client builds")
}

/// Asserts a problem+json answer with this status and type slug; returns its detail.
pub fn assert_problem(r: reqwest::blocking::Response, status: u16, slug: &str) -> String {
    assert_eq!(r.status().as_u16(), status, "status of {}", r.url());
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(ct, "application/problem+json", "content type of a {status} answer");
    let v: Value = r.json().expect("problem is JSON");
    assert_eq!(v["type"], format!("urn:akte:problem:{slug}"), "{v}");
    assert_eq!(v["status"], status, "{v}");
    let detail = v["detail"].as_str().expect("detail").to_string();
    assert!(
        detail.ends_with('.') && detail.chars().next().is_some_and(char::is_uppercase),
        "detail is a sentence: {detail}"
    );
    detail
}

/// Creates an Akte through the API and returns its id.
pub fn create_akte(c: &reqwest::blocking::Client, s: &Server, t: &str, az: &str, title: &str) -> String {
    let r = c
        .post(s.url("/akten"))
        .bearer_auth(t)
        .json(&serde_json::json!({"aktenzeichen": az, "title": title}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<serde_json::Value>().unwrap()["id"].as_str().unwrap().to_string()
}
