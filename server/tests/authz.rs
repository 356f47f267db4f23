//! The authorisation matrix of `/api/v1`: every endpoint × every caller (no token, a bad
//! token, each role, a browser session) × an Akte the caller's unit owns and a foreign one.
//!
//! The rule under test: no or bad credentials → 401; a role that does not allow the action
//! on a visible object → 403; an object of a foreign unit → 404, the same answer as for an
//! absent one, and no answer to a non-admin ever contains the foreign Akte's title, its
//! Aktenzeichen or the titles of anything in it. Then the lists that could leak in bulk —
//! `GET /akten`, the change feed, search and history — are read to the end by every caller
//! and must hold nothing of the foreign Akte (while the admin, as a positive control, does
//! see it there). A second test changes grants while the server runs: the very next
//! search must already obey them. A third makes sure an `Idempotency-Key` never hands one
//! caller another caller's answer.
//!
//! One server serves the whole matrix (extraction off); the data is set up with the CLI
//! before it starts.

mod common;

use std::{
    collections::BTreeSet,
    io::Write,
    path::Path,
    process::Stdio,
    time::{Duration, Instant},
};

use common::*;
use reqwest::blocking::Client;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// The case

const OWN_AZ: &str = "BA-0815/2026";
const OWN_TITLE: &str = "Bauantrag Lindenweg";
const FOREIGN_AZ: &str = "UM-4711/2026";
const FOREIGN_TITLE: &str = "Geheimprojekt Zander";
const FOREIGN_VORGANG: &str = "Zander-Beteiligung";
/// The foreign Dokument's title is its file name's stem.
const FOREIGN_FILE: &str = "Zanderbericht.txt";
/// Strings (lower case) that no answer to a non-admin may contain: they name the foreign
/// Akte or something in it (every foreign title contains "zander").
const LEAKS: [&str; 3] = ["zander", "geheimprojekt", "um-4711"];

const ACCOUNT: &str = "sb-clerk";
const PASSWORD: &str = "Lindenweg-2026-sicher";

// ---------------------------------------------------------------------------------------
// The matrix

/// A caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// No credentials at all.
    Nobody,
    /// `Authorization: Bearer akte_<unknown>`.
    BadToken,
    Admin,
    Clerk,
    Service,
    Reader,
    Archivist,
    /// A local account with role clerk and unit bauamt, logged in with a session cookie.
    Session,
}

const CALLERS: [Who; 8] =
    [Who::Nobody, Who::BadToken, Who::Admin, Who::Clerk, Who::Service, Who::Reader, Who::Archivist, Who::Session];

impl Who {
    /// The role column of the matrix (None: not authenticated).
    fn column(self) -> Option<usize> {
        match self {
            Who::Nobody | Who::BadToken => None,
            Who::Admin => Some(0),
            Who::Clerk | Who::Session => Some(1),
            Who::Service => Some(2),
            Who::Reader => Some(3),
            Who::Archivist => Some(4),
        }
    }
}

/// Which Akte the ids in a path belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// The path names no Akte, Vorgang or Dokument.
    Global,
    /// The Akte of the caller's unit (bauamt).
    Own,
    /// The Akte of another unit (umweltamt).
    Foreign,
}

/// The request body.
#[derive(Clone, Copy)]
enum Payload {
    None,
    /// JSON, made from a counter so that every request can create something new.
    Json(fn(u32) -> Value),
    /// Raw bytes (an upload).
    Bytes,
}

/// Who may do it.
#[derive(Clone, Copy)]
enum Allow {
    /// Anyone, even without credentials.
    Public,
    /// Per role: admin, clerk, service, reader, archivist.
    Roles([bool; 5]),
}

/// One endpoint (one line of the matrix).
struct Row {
    method: &'static str,
    /// Path below `/api/v1`; `{akte}`, `{vorgang}`, `{dokument}`, `{version}` and
    /// `{new_vorgang}` (a Vorgang created for this one request) are ids of the own or the
    /// foreign Akte, `{plan}` and `{token}` ids of an Aktenplan node and a token.
    path: &'static str,
    body: Payload,
    /// The status of an allowed request.
    ok: u16,
    allow: Allow,
}

const Y: bool = true;
const N: bool = false;
const ALL: Allow = Allow::Roles([Y, Y, Y, Y, Y]);

fn r(method: &'static str, path: &'static str, body: Payload, ok: u16, allow: Allow) -> Row {
    Row { method, path, body, ok, allow }
}

fn roles(admin: bool, clerk: bool, service: bool, reader: bool, archivist: bool) -> Allow {
    Allow::Roles([admin, clerk, service, reader, archivist])
}

/// Every endpoint of `/api/v1` (from the routers in `server/src/http/{api,content,feed,ops}.rs`).
#[rustfmt::skip]
fn matrix() -> Vec<Row> {
    use Payload::{Bytes, Json, None as Nil};
    vec![
        //  method    path                                                  body                                                          ok   admin clerk service reader archivist
        r("GET",    "/aktenplan",                                           Nil,                                                          200, ALL),
        r("POST",   "/aktenplan",                                           Json(|n| json!({"code": format!("9.{n}"), "title": "Neu"})), 201, roles(Y, N, N, N, N)),
        r("GET",    "/aktenplan/{plan}",                                    Nil,                                                          200, ALL),
        r("PATCH",  "/aktenplan/{plan}",                                    Json(|n| json!({"title": format!("Bauwesen {n}")})),         200, roles(Y, N, N, N, N)),
        r("GET",    "/akten",                                               Nil,                                                          200, ALL),
        r("POST",   "/akten",                                               Json(|n| json!({"aktenzeichen": format!("NEU-{n}/2026"), "title": "Neue Akte"})), 201, roles(Y, Y, Y, N, N)),
        r("GET",    "/akten/{akte}",                                        Nil,                                                          200, ALL),
        r("PATCH",  "/akten/{akte}",                                        Json(|n| json!({"custom": {"n": n}})),                        200, roles(Y, Y, Y, N, N)),
        r("PATCH",  "/akten/{akte}",                                        Json(|n| json!({"retention_years": 10 + n % 20})),            200, roles(Y, N, N, N, Y)),
        r("PATCH",  "/akten/{akte}",                                        Json(|_| json!({"confidentiality": "offen"})),                200, roles(Y, N, N, N, N)),
        r("POST",   "/akten/{akte}/close",                                  Nil,                                                          200, roles(Y, Y, Y, N, Y)),
        r("POST",   "/akten/{akte}/reopen",                                 Nil,                                                          200, roles(Y, N, N, N, N)),
        r("GET",    "/akten/{akte}/retention",                              Nil,                                                          200, ALL),
        // Retention has not ended: the roles that may delete get 409, the others 403.
        r("DELETE", "/akten/{akte}?reason=Test",                            Nil,                                                          409, roles(Y, N, N, N, Y)),
        r("GET",    "/akten/{akte}/history",                                Nil,                                                          200, ALL),
        // Made here, not imported: nothing to show, to anyone.
        r("GET",    "/akten/{akte}/provenance",                             Nil,                                                          404, ALL),
        r("GET",    "/akten/{akte}/vorgaenge",                              Nil,                                                          200, ALL),
        r("POST",   "/akten/{akte}/vorgaenge",                              Json(|n| json!({"title": format!("Teilvorgang {n}")})),      201, roles(Y, Y, Y, N, N)),
        r("GET",    "/akten/{akte}/dokumente",                              Nil,                                                          200, ALL),
        r("POST",   "/akten/{akte}/dokumente?file_name=neu.txt",            Bytes,                                                        201, roles(Y, Y, Y, N, N)),
        r("GET",    "/vorgaenge/{vorgang}",                                 Nil,                                                          200, ALL),
        r("PATCH",  "/vorgaenge/{vorgang}",                                 Json(|n| json!({"custom": {"n": n}})),                        200, roles(Y, Y, Y, N, N)),
        r("GET",    "/vorgaenge/{vorgang}/history",                         Nil,                                                          200, ALL),
        r("POST",   "/vorgaenge/{new_vorgang}/close",                       Nil,                                                          200, roles(Y, Y, Y, N, Y)),
        r("GET",    "/dokumente/{dokument}",                                Nil,                                                          200, ALL),
        r("PATCH",  "/dokumente/{dokument}",                                Json(|n| json!({"sender": format!("Absender {n}")})),        200, roles(Y, Y, Y, N, N)),
        r("GET",    "/dokumente/{dokument}/versions",                       Nil,                                                          200, ALL),
        r("POST",   "/dokumente/{dokument}/versions?file_name=neu.txt",     Bytes,                                                        201, roles(Y, Y, Y, N, N)),
        r("GET",    "/dokumente/{dokument}/content",                        Nil,                                                          200, ALL),
        r("GET",    "/dokumente/{version}/content",                         Nil,                                                          200, ALL),
        r("GET",    "/dokumente/{dokument}/text",                           Nil,                                                          200, ALL),
        r("GET",    "/dokumente/{dokument}/history",                        Nil,                                                          200, ALL),
        r("GET",    "/changes?limit=1000",                                  Nil,                                                          200, ALL),
        r("GET",    "/search?q=Bericht",                                    Nil,                                                          200, ALL),
        r("GET",    "/tokens",                                              Nil,                                                          200, roles(Y, N, N, N, N)),
        r("POST",   "/tokens",                                              Json(|n| json!({"name": format!("neu-{n}"), "role": "reader"})), 201, roles(Y, N, N, N, N)),
        r("DELETE", "/tokens/{token}",                                      Nil,                                                          204, roles(Y, N, N, N, N)),
        r("GET",    "/accounts",                                            Nil,                                                          200, roles(Y, N, N, N, N)),
        r("POST",   "/accounts",                                            Json(|n| json!({"name": format!("neu{n}"), "password": "ein-langes-Passwort", "roles": ["reader"]})), 201, roles(Y, N, N, N, N)),
        r("PATCH",  "/accounts/{account}",                                  Json(|_| json!({"disabled": false})),                        200, roles(Y, N, N, N, N)),
        r("GET",    "/deletions",                                           Nil,                                                          200, roles(Y, N, N, N, Y)),
        // Exports and imports by role, and other callers' jobs: tests/jobs.rs.
        r("GET",    "/jobs",                                                Nil,                                                          200, ALL),
        r("GET",    "/me",                                                  Nil,                                                          200, ALL),
        r("GET",    "/openapi.json",                                        Nil,                                                          200, Allow::Public),
        r("GET",    "/docs",                                                Nil,                                                          200, Allow::Public),
        r("POST",   "/session",                                             Json(|_| json!({"name": ACCOUNT, "password": PASSWORD})),    200, Allow::Public),
        // Last: for the session caller this ends its session.
        r("DELETE", "/session",                                             Nil,                                                          204, Allow::Public),
    ]
}

/// What a cell expects.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    /// This status; for errors, a problem of this type.
    Status(u16, Option<&'static str>),
    /// A wrong role on a foreign object: 403 (the role is checked first) or 404 (the
    /// object first); either reveals nothing.
    Denied,
}

fn expect(row: &Row, who: Who, side: Side) -> Expect {
    let Allow::Roles(allowed) = row.allow else { return Expect::Status(row.ok, None) };
    let Some(col) = who.column() else { return Expect::Status(401, Some("unauthenticated")) };
    let hidden = side == Side::Foreign && who != Who::Admin;
    match (allowed[col], hidden) {
        (true, false) => Expect::Status(row.ok, None),
        (true, true) => Expect::Status(404, Some("not-found")),
        (false, false) => Expect::Status(403, Some("forbidden")),
        (false, true) => Expect::Denied,
    }
}

// ---------------------------------------------------------------------------------------
// HTTP

/// The ids of one Akte and what is in it.
#[derive(Clone, Debug)]
struct Ids {
    akte: String,
    vorgang: String,
    dokument: String,
    version: String,
}

struct Api {
    client: Client,
    base: String,
    admin: String,
    clerk: String,
    service: String,
    reader: String,
    archivist: String,
    /// `akte_session=…` of the logged-in account.
    cookie: String,
}

/// An answer, read completely.
struct Answer {
    status: u16,
    content_type: String,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Api {
    fn send(&self, who: Who, method: &str, path: &str, body: Option<Body>) -> Answer {
        let url = format!("{}/api/v1{path}", self.base);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, &url);
        req = match who {
            Who::Nobody => req,
            Who::BadToken => req.bearer_auth(format!("akte_{}", "0".repeat(64))),
            Who::Admin => req.bearer_auth(&self.admin),
            Who::Clerk => req.bearer_auth(&self.clerk),
            Who::Service => req.bearer_auth(&self.service),
            Who::Reader => req.bearer_auth(&self.reader),
            Who::Archivist => req.bearer_auth(&self.archivist),
            Who::Session => req.header("cookie", &self.cookie),
        };
        req = match body {
            None => req,
            Some(Body::Json(v)) => req.json(&v),
            Some(Body::Bytes(b)) => req.header("content-type", "application/octet-stream").body(b),
        };
        let resp = req.send().unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = resp.status().as_u16();
        let content_type =
            resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let bytes = resp.bytes().expect("body");
        Answer { status, content_type, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    fn get(&self, who: Who, path: &str) -> Answer {
        self.send(who, "GET", path, None)
    }

    /// A GET as `who` that must succeed; its JSON.
    fn read(&self, who: Who, path: &str) -> Value {
        let a = self.get(who, path);
        assert_eq!(a.status, 200, "GET {path} as {who:?}: {}", a.body);
        a.json()
    }

    fn admin_json(&self, method: &str, path: &str, body: Value, want: u16) -> Value {
        let a = self.send(Who::Admin, method, path, Some(Body::Json(body)));
        assert_eq!(a.status, want, "{method} {path} as admin: {}", a.body);
        a.json()
    }

    /// Brings an Akte to `status` (`offen` or `zda`) as admin.
    fn set_status(&self, akte: &str, status: &str) {
        let now = self.read(Who::Admin, &format!("/akten/{akte}"));
        if now["status"] != status {
            let action = if status == "zda" { "close" } else { "reopen" };
            let a = self.send(Who::Admin, "POST", &format!("/akten/{akte}/{action}"), None);
            assert_eq!(a.status, 200, "{action} {akte}: {}", a.body);
        }
    }
}

enum Body {
    Json(Value),
    Bytes(Vec<u8>),
}

/// Whether a problem answer has the contract's shape and this type; `Err` says why not.
fn check_problem(a: &Answer, status: u16, slug: &str) -> Result<(), String> {
    if a.content_type != "application/problem+json" {
        return Err(format!("content type {:?}, not application/problem+json", a.content_type));
    }
    let v: Value = serde_json::from_str(&a.body).map_err(|e| format!("problem is not JSON: {e}"))?;
    if v["type"] != format!("urn:akte:problem:{slug}") || v["status"] != status {
        return Err(format!("expected type urn:akte:problem:{slug} and status {status}"));
    }
    let detail = v["detail"].as_str().unwrap_or_default();
    if !(detail.ends_with('.') && detail.chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())) {
        return Err(format!("detail {detail:?} is not a sentence"));
    }
    Ok(())
}

/// The leak markers an answer contains.
fn leaks(body: &str) -> Vec<&'static str> {
    // A search names the words of its own query that matched nothing (`substitutions[].word`):
    // the caller's own input, not the foreign Akte's; what was searched instead is checked.
    let body = match serde_json::from_str::<Value>(body) {
        Ok(mut v) if v.get("substitutions").is_some() => {
            for s in v["substitutions"].as_array_mut().into_iter().flatten() {
                s["word"] = Value::Null;
            }
            v.to_string()
        }
        _ => body.to_string(),
    };
    let lower = body.to_lowercase();
    LEAKS.into_iter().filter(|m| lower.contains(m)).collect()
}

// ---------------------------------------------------------------------------------------
// Set-up

struct Case {
    _tmp: tempfile::TempDir,
    server: Server,
    api: Api,
    own: Ids,
    foreign: Ids,
    /// A token the matrix revokes (as admin).
    victim_id: String,
    /// The session caller's account.
    account_id: String,
    victim: String,
}

fn id_of(run: Run) -> String {
    run.json()["id"].as_str().expect("an id").to_string()
}

/// An Akte with a Vorgang and a Dokument in that Vorgang, granted to `unit`.
fn akte_with_content(data: &Path, az: &str, title: &str, unit: &str, vorgang: &str, file: &str, content: &str) -> Ids {
    let akte = create(data, az, title);
    ok(data, &["set", &akte, &format!(r#"access:={{"units":["{unit}"]}}"#)]);
    let vorgang = id_of(ok(data, &["vorgang", &akte, "--title", vorgang, "--json"]));
    let dir = data.parent().expect("parent").join(format!("files-{unit}"));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = write_file(&dir, file, content.as_bytes());
    let rows =
        ok(data, &["add", &akte, path.to_str().expect("utf-8"), "--vorgang", &vorgang, "--no-ingest", "--json"]).json();
    let dokument = rows[0]["id"].as_str().expect("a Dokument id").to_string();
    Ids { akte, vorgang, dokument, version: String::new() }
}

fn setup() -> Case {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = init_repo(tmp.path(), "data");
    let own = akte_with_content(
        &data,
        OWN_AZ,
        OWN_TITLE,
        "bauamt",
        "Stellungnahmen",
        "Baubericht.txt",
        "Bericht zur Statik des Hauses am Lindenweg.",
    );
    let foreign = akte_with_content(
        &data,
        FOREIGN_AZ,
        FOREIGN_TITLE,
        "umweltamt",
        FOREIGN_VORGANG,
        FOREIGN_FILE,
        "Bericht über das Geheimprojekt Zander am Hechtsee.",
    );
    let admin = token(&data, "admin", "matrix-admin", &["bauamt"]);
    let clerk = token(&data, "clerk", "matrix-clerk", &["bauamt"]);
    let service = token(&data, "service", "matrix-service", &["bauamt"]);
    let reader = token(&data, "reader", "matrix-reader", &["bauamt"]);
    let archivist = token(&data, "archivist", "matrix-archivist", &["bauamt"]);
    let victim =
        ok(&data, &["token", "create", "--role", "reader", "--name", "victim", "--unit", "bauamt", "--json"]).json();
    let (victim_id, victim) =
        (victim["id"].as_str().expect("id").to_string(), victim["token"].as_str().expect("token").to_string());
    let data_arg = data.to_str().expect("utf-8");
    let account = ["--data", data_arg, "account", "add", ACCOUNT, "--role", "clerk", "--unit", "bauamt"];
    let mut add = akte_cmd(tmp.path())
        .args(account)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("akte account add starts");
    writeln!(add.stdin.take().expect("stdin"), "{PASSWORD}").expect("password written");
    let out = add.wait_with_output().expect("akte account add runs");
    assert!(out.status.success(), "akte account add: {}", String::from_utf8_lossy(&out.stderr));
    let account_id = String::from_utf8_lossy(&out.stdout).trim().to_string();

    let server = Server::start(&data, false, &[]);
    let client = client();
    let login = client
        .post(server.url("/session"))
        .json(&json!({"name": ACCOUNT, "password": PASSWORD}))
        .send()
        .expect("login");
    assert_eq!(login.status(), 200, "login");
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    let api = Api { client, base: server.base.clone(), admin, clerk, service, reader, archivist, cookie };
    let version_of = |d: &str| {
        api.read(Who::Admin, &format!("/dokumente/{d}"))["versions"][0]["id"].as_str().expect("version").to_string()
    };
    let own = Ids { version: version_of(&own.dokument), ..own };
    let foreign = Ids { version: version_of(&foreign.dokument), ..foreign };
    Case { _tmp: tmp, server, api, own, foreign, victim_id, account_id, victim }
}

// ---------------------------------------------------------------------------------------
// The tests

#[test]
fn every_endpoint_answers_every_role_for_own_and_foreign_akten_as_the_matrix_says() {
    let started = Instant::now();
    let case = setup();
    let api = &case.api;
    // An Aktenplan node to read and change (the CLI has no command for nodes).
    let plan = api.admin_json("POST", "/aktenplan", json!({"code": "5", "title": "Bauwesen"}), 201)["id"]
        .as_str()
        .expect("plan id")
        .to_string();

    let mut failures: Vec<String> = Vec::new();
    let mut table = String::from(
        "What the server answered (nobody, bad token, admin, clerk, service, reader, archivist, session):\n",
    );
    let mut cells = 0;
    let mut counter = 0u32;
    for row in matrix() {
        let sided =
            ["{akte}", "{vorgang}", "{dokument}", "{version}", "{new_vorgang}"].iter().any(|p| row.path.contains(p));
        let sides: &[Side] = if sided { &[Side::Own, Side::Foreign] } else { &[Side::Global] };
        for &side in sides {
            let ids = if side == Side::Foreign { &case.foreign } else { &case.own };
            let shown = match row.body {
                Payload::Json(f) => format!("{} {}", row.path, f(0)),
                _ => row.path.to_string(),
            };
            table.push_str(&format!(
                "{:<7}{:<64}{:<8}",
                row.method,
                shown.chars().take(63).collect::<String>(),
                format!("{side:?}")
            ));
            for who in CALLERS {
                counter += 1;
                if row.path.contains("/reopen") {
                    api.set_status(&ids.akte, "zda");
                }
                let mut path = row
                    .path
                    .replace("{akte}", &ids.akte)
                    .replace("{vorgang}", &ids.vorgang)
                    .replace("{dokument}", &ids.dokument)
                    .replace("{version}", &ids.version)
                    .replace("{plan}", &plan)
                    .replace("{token}", &case.victim_id)
                    .replace("{account}", &case.account_id);
                if path.contains("{new_vorgang}") {
                    let title = if side == Side::Foreign {
                        format!("Zander-Teilvorgang {counter}")
                    } else {
                        format!("Teilvorgang {counter}")
                    };
                    let v =
                        api.admin_json("POST", &format!("/akten/{}/vorgaenge", ids.akte), json!({"title": title}), 201);
                    path = path.replace("{new_vorgang}", v["id"].as_str().expect("id"));
                }
                let body = match row.body {
                    Payload::None => None,
                    Payload::Json(f) => Some(Body::Json(f(counter))),
                    Payload::Bytes => Some(Body::Bytes(format!("Inhalt {counter}").into_bytes())),
                };
                let a = api.send(who, row.method, &path, body);
                table.push_str(&format!(" {}", a.status));
                cells += 1;
                if row.path.contains("/close") || row.path.contains("/reopen") {
                    api.set_status(&ids.akte, "offen");
                }

                let cell = format!("{} {} as {who:?} on {side:?}", row.method, row.path);
                let want = expect(&row, who, side);
                let verdict = match &want {
                    Expect::Status(s, _) if a.status != *s => Err(format!("status {} instead of {s}", a.status)),
                    Expect::Status(s, Some(slug)) => check_problem(&a, *s, slug),
                    Expect::Status(..) => Ok(()),
                    Expect::Denied => match a.status {
                        403 => check_problem(&a, 403, "forbidden"),
                        404 => check_problem(&a, 404, "not-found"),
                        s => Err(format!("status {s} instead of 403 or 404")),
                    },
                };
                if let Err(why) = verdict {
                    failures.push(format!("{cell}: {why}; body: {}", a.body.chars().take(300).collect::<String>()));
                }
                if who != Who::Admin {
                    let found = leaks(&a.body);
                    if !found.is_empty() {
                        failures.push(format!(
                            "{cell}: the answer ({}) names the foreign Akte {found:?}: {}",
                            a.status,
                            a.body.chars().take(300).collect::<String>()
                        ));
                    }
                }
            }
            table.push('\n');
        }
    }
    eprintln!("{table}matrix: {cells} cells in {:.1?}", started.elapsed());

    // Positive control: the markers do name the foreign Akte, and the admin sees it.
    let admin_view = api.get(Who::Admin, &format!("/akten/{}", case.foreign.akte));
    assert_eq!(leaks(&admin_view.body), ["zander", "geheimprojekt", "um-4711"], "{}", admin_view.body);

    // The token the admin revoked in the matrix no longer authenticates.
    let revoked = api.client.get(format!("{}/api/v1/me", api.base)).bearer_auth(&case.victim).send().expect("me");
    if revoked.status() != 401 {
        failures.push(format!("GET /me with the revoked token: status {} instead of 401", revoked.status()));
    }

    // References to foreign objects smuggled into requests about the own Akte.
    let clerk = Who::Clerk;
    for (method, path, body, want) in [
        (
            "POST",
            format!("/akten/{}/vorgaenge", case.own.akte),
            Some(json!({"title": "x", "parent": case.foreign.vorgang})),
            404,
        ),
        (
            "POST",
            format!("/akten/{}/dokumente?file_name=a.txt&vorgang={}", case.own.akte, case.foreign.vorgang),
            None,
            404,
        ),
        ("GET", format!("/akten/{}/history", case.foreign.dokument), None, 404),
        ("GET", format!("/vorgaenge/{}/history", case.foreign.akte), None, 404),
        ("GET", format!("/dokumente/{}/content?version=1", case.foreign.dokument), None, 404),
        ("GET", format!("/akten?aktenzeichen={}", &FOREIGN_AZ[..7]), None, 200),
        ("GET", format!("/search?q=Bericht&akte={}", case.foreign.akte), None, 200),
    ] {
        let body = match body {
            Some(v) => Some(Body::Json(v)),
            None if method == "POST" => Some(Body::Bytes(b"x".to_vec())),
            None => None,
        };
        let a = api.send(clerk, method, &path, body);
        let cell = format!("{method} {path} as clerk");
        if a.status != want {
            failures.push(format!("{cell}: status {} instead of {want}: {}", a.status, a.body));
        } else if want == 404
            && let Err(why) = check_problem(&a, 404, "not-found")
        {
            failures.push(format!("{cell}: {why}"));
        }
        if !leaks(&a.body).is_empty() {
            failures.push(format!("{cell}: names the foreign Akte: {}", a.body));
        }
        if want == 200 {
            let v = a.json();
            let n = v["items"].as_array().or(v["hits"].as_array()).map_or(usize::MAX, Vec::len);
            if n != 0 {
                failures.push(format!("{cell}: lists {n} entries of the foreign Akte: {}", a.body));
            }
        }
    }

    failures.extend(lists_hide_the_foreign_akte(&case));
    eprintln!("authz matrix and lists: {:.1?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "{} of the authorisation checks failed:\n{}\n(server log: {})",
        failures.len(),
        failures.join("\n"),
        case.server.log.display()
    );
}

/// Every id in the foreign Akte, as the admin sees it (after the matrix added more).
fn foreign_ids(api: &Api, foreign: &Ids) -> BTreeSet<String> {
    let mut ids = BTreeSet::from([foreign.akte.clone()]);
    for v in api.read(Who::Admin, &format!("/akten/{}/vorgaenge", foreign.akte)).as_array().expect("list") {
        ids.insert(v["id"].as_str().expect("id").to_string());
    }
    for d in api.read(Who::Admin, &format!("/akten/{}/dokumente", foreign.akte)).as_array().expect("list") {
        ids.insert(d["id"].as_str().expect("id").to_string());
        for v in d["versions"].as_array().expect("versions") {
            ids.insert(v["id"].as_str().expect("id").to_string());
        }
    }
    ids
}

/// `GET /akten` (all pages), the change feed (to its end), search and the own objects'
/// history hold nothing of the foreign Akte for any non-admin, and all of it for the admin.
fn lists_hide_the_foreign_akte(case: &Case) -> Vec<String> {
    let api = &case.api;
    let foreign = foreign_ids(api, &case.foreign);
    assert!(foreign.len() >= 6, "the matrix added Vorgänge and versions to the foreign Akte: {foreign:?}");
    let failures = std::cell::RefCell::new(Vec::new());
    let check = |who: Who, what: &str, body: &str, ids: &[String]| {
        let seen: Vec<&String> = ids.iter().filter(|i| foreign.contains(*i)).collect();
        if who == Who::Admin {
            return seen.len();
        }
        if !seen.is_empty() {
            failures.borrow_mut().push(format!("{what} as {who:?} lists objects of the foreign Akte: {seen:?}"));
        }
        let found = leaks(body);
        if !found.is_empty() {
            failures.borrow_mut().push(format!(
                "{what} as {who:?} names the foreign Akte {found:?}: {}",
                body.chars().take(400).collect::<String>()
            ));
        }
        seen.len()
    };
    let str_ids = |v: &Value, keys: &[&str]| -> Vec<String> {
        keys.iter().filter_map(|k| v[*k].as_str().map(str::to_string)).collect()
    };

    for who in [Who::Admin, Who::Clerk, Who::Service, Who::Reader, Who::Archivist] {
        // The Akten list, one per page.
        let (mut after, mut pages, mut all_ids, mut seen) = (None::<String>, 0, Vec::new(), 0);
        loop {
            let path = match &after {
                Some(a) => format!("/akten?limit=1&after={a}"),
                None => "/akten?limit=1".to_string(),
            };
            let a = api.get(who, &path);
            assert_eq!(a.status, 200, "GET {path} as {who:?}: {}", a.body);
            let v = a.json();
            let ids: Vec<String> =
                v["items"].as_array().expect("items").iter().flat_map(|i| str_ids(i, &["id"])).collect();
            seen += check(who, "GET /akten", &a.body, &ids);
            all_ids.extend(ids);
            pages += 1;
            assert!(pages < 1000, "GET /akten does not end");
            match v["next"].as_str() {
                Some(n) => after = Some(n.to_string()),
                None => break,
            }
        }
        assert!(all_ids.contains(&case.own.akte), "GET /akten as {who:?} lists the own Akte: {all_ids:?}");
        if who == Who::Admin {
            assert!(seen > 0, "the admin's GET /akten lists the foreign Akte");
        }

        // The change feed, to its end, a few changes per page.
        let (mut since, mut pages, mut seen, mut total) = (String::new(), 0, 0, 0);
        loop {
            let a = api.get(who, &format!("/changes?limit=3&since={since}"));
            assert_eq!(a.status, 200, "GET /changes as {who:?}: {}", a.body);
            let v = a.json();
            let changes = v["changes"].as_array().expect("changes");
            total += changes.len();
            let ids: Vec<String> = changes.iter().flat_map(|c| str_ids(c, &["object", "akte_id"])).collect();
            seen += check(who, "GET /changes", &a.body, &ids);
            pages += 1;
            assert!(pages < 5000, "the change feed does not end");
            since = v["next"].as_str().expect("next").to_string();
            if v["more"] != true {
                break;
            }
        }
        assert!(total > 0, "the change feed shows {who:?} the own Akte's changes");
        if who == Who::Admin {
            assert!(seen > 0, "the admin's change feed shows the foreign Akte");
        }

        // Search: the foreign titles, its Aktenzeichen, and a word both Akten share.
        for q in ["Zander", "Zanderbericht", "Geheimprojekt", "az:UM-4711*", "Bericht", ""] {
            let path = format!("/search?q={}&limit=100", urlencode(q));
            let a = api.get(who, &path);
            assert_eq!(a.status, 200, "GET {path} as {who:?}: {}", a.body);
            let v = a.json();
            let ids: Vec<String> = v["hits"]
                .as_array()
                .expect("hits")
                .iter()
                .flat_map(|h| str_ids(h, &["dokument_id", "akte_id"]))
                .collect();
            let seen = check(who, &format!("GET {path}"), &a.body, &ids);
            let total = v["total"].as_u64().unwrap_or(u64::MAX);
            if who == Who::Admin {
                if q != "Bericht" && !q.is_empty() {
                    assert!(seen > 0, "the admin finds the foreign Akte with {q:?}: {}", a.body);
                }
            } else if q != "Bericht" && !q.is_empty() && total != 0 {
                failures.borrow_mut().push(format!("GET {path} as {who:?}: total {total} instead of 0: {}", a.body));
            }
        }
        // Inside the foreign Akte named by its Aktenzeichen: what an Aktenzeichen nobody has
        // gives, for everyone who may not read it.
        for akte in [FOREIGN_AZ, "XX-0000/2026"] {
            let path = format!("/search?q=Bericht&limit=100&akte={}", urlencode(akte));
            let a = api.get(who, &path);
            assert_eq!(a.status, 200, "GET {path} as {who:?}: {}", a.body);
            let total = a.json()["total"].as_u64().unwrap_or(u64::MAX);
            let ids: Vec<String> =
                a.json()["hits"].as_array().expect("hits").iter().flat_map(|h| str_ids(h, &["akte_id"])).collect();
            let seen = check(who, &format!("GET {path}"), &a.body, &ids);
            if who == Who::Admin && akte == FOREIGN_AZ {
                assert!(
                    seen > 0 && total == seen as u64,
                    "the admin searches the foreign Akte by its Aktenzeichen: {}",
                    a.body
                );
            } else if total != 0 {
                failures.borrow_mut().push(format!("GET {path} as {who:?}: total {total} instead of 0: {}", a.body));
            }
        }

        // History of everything the caller may see in the own Akte.
        for path in [
            format!("/akten/{}/history", case.own.akte),
            format!("/vorgaenge/{}/history", case.own.vorgang),
            format!("/dokumente/{}/history", case.own.dokument),
        ] {
            let a = api.get(who, &path);
            assert_eq!(a.status, 200, "GET {path} as {who:?}: {}", a.body);
            let ids: Vec<String> =
                a.json().as_array().expect("history").iter().flat_map(|h| str_ids(h, &["object"])).collect();
            check(who, &format!("GET {path}"), &a.body, &ids);
        }
    }
    failures.into_inner()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Changing a grant while the server runs: the foreign unit's Akte was open to everyone,
/// then the admin restricts it (once on the Akte, once through its Aktenplan node). From
/// the moment the change is answered, a bauamt clerk must neither read the Akte nor find
/// its Dokument — search included, not just eventually.
#[test]
fn a_withdrawn_grant_holds_at_once_in_every_endpoint_and_in_search() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = init_repo(tmp.path(), "data");
    let files = tmp.path().join("files");
    std::fs::create_dir_all(&files).expect("dir");
    // Both open to everyone at first: no grants, not classified.
    let by_akte = create(&data, "UM-1/2026", "Zander Uferschutz");
    let plan = id_of(ok(&data, &["aktenplan", "add", "7.1", "--title", "Gewässer", "--json"]));
    let by_plan_run = ok(
        &data,
        &["create", "--aktenzeichen", "UM-2/2026", "--title", "Zander Fischtreppe", "--aktenplan", "7.1", "--json"],
    );
    let by_plan = id_of(by_plan_run);
    let mut dokumente = Vec::new();
    for (akte, name) in [(&by_akte, "Zanderufer.txt"), (&by_plan, "Zandertreppe.txt")] {
        let f = write_file(&files, name, b"Gutachten");
        let rows = ok(&data, &["add", akte, f.to_str().expect("utf-8"), "--no-ingest", "--json"]).json();
        dokumente.push(rows[0]["id"].as_str().expect("id").to_string());
    }
    let admin = token(&data, "admin", "admin", &[]);
    let clerk = token(&data, "clerk", "clerk", &["bauamt"]);
    let server = Server::start(&data, false, &[]);
    let c = client();
    let search = |q: &str| -> Value {
        let r = c.get(server.url(&format!("/search?q={q}&limit=100"))).bearer_auth(&clerk).send().expect("search");
        assert_eq!(r.status(), 200);
        r.json().expect("json")
    };
    // Before: the clerk finds both (the index is current once the server listens).
    // (Extraction is off: the index holds titles and metadata, so search for the Akten's title.)
    let before = search("Zander");
    assert_eq!(before["total"], 2, "before the change the clerk finds both: {before}");

    let mut failures = Vec::new();
    let changes: [(&str, &str, Value, &str, &str); 2] = [
        (
            "PATCH",
            "/akten/{by_akte}",
            json!({"access": {"units": ["umweltamt"]}}),
            "Zanderufer",
            "the Akte's own grant",
        ),
        (
            "PATCH",
            "/aktenplan/{plan}",
            json!({"access": {"units": ["umweltamt"]}}),
            "Zandertreppe",
            "the Aktenplan node's grant",
        ),
    ];
    for (i, (method, path, body, word, how)) in changes.into_iter().enumerate() {
        let (akte, dokument) = if i == 0 { (&by_akte, &dokumente[0]) } else { (&by_plan, &dokumente[1]) };
        let path = path.replace("{by_akte}", &by_akte).replace("{plan}", &plan);
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let r = c.request(m, server.url(&path)).bearer_auth(&admin).json(&body).send().expect("change");
        assert!(r.status().is_success(), "{method} {path}: {}", r.text().unwrap_or_default());
        let changed = Instant::now();
        // At once: the endpoints (they read the catalog) …
        for p in [format!("/akten/{akte}"), format!("/dokumente/{dokument}"), format!("/dokumente/{dokument}/content")]
        {
            let r = c.get(server.url(&p)).bearer_auth(&clerk).send().expect("get");
            if r.status() != 404 {
                failures.push(format!("after withdrawing {how}: GET {p} as clerk: {} instead of 404", r.status()));
            }
        }
        // … and search.
        let hit = search(word);
        if hit["total"] != 0 {
            // How long the index keeps showing it.
            let mut gone = None;
            while changed.elapsed() < Duration::from_secs(20) {
                if search(word)["total"] == 0 {
                    gone = Some(changed.elapsed());
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            failures.push(format!(
                "after withdrawing {how} ({method} {path} answered), the clerk's GET /search?q={word} still finds the \
                 Dokument (total {}, titles {:?}); it disappears after {gone:?}",
                hit["total"],
                hit["hits"].as_array().map(|h| h.iter().map(|x| x["title"].clone()).collect::<Vec<_>>())
            ));
        }
    }
    // Eventually, at the latest, nothing is left.
    let deadline = Instant::now() + Duration::from_secs(20);
    while search("Zander")["total"] != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = search("Zander");
    assert_eq!(after["total"], 0, "after both changes the clerk finds nothing: {after}");
    let akten: Value = c.get(server.url("/akten")).bearer_auth(&clerk).send().expect("list").json().expect("json");
    assert_eq!(akten["items"], json!([]), "the clerk lists no Akte: {akten}");
    assert!(failures.is_empty(), "a withdrawn grant is not enforced at once:\n{}", failures.join("\n"));
}

/// An `Idempotency-Key` replays an answer only to the caller that earned it: two tokens of
/// one Fachverfahren in different units, sending the same key, must not share their
/// remembered answers: the bauamt token must not get the umweltamt upload's answer (its
/// Dokument id and file name). Keys are kept per token id, not per name (names are unique
/// when a token is made, but two nodes could each make one of a name at the same time).
#[test]
fn an_idempotency_key_never_replays_another_callers_answer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = init_repo(tmp.path(), "data");
    let own = create(&data, OWN_AZ, OWN_TITLE);
    let foreign = create(&data, FOREIGN_AZ, FOREIGN_TITLE);
    ok(&data, &["set", &own, r#"access:={"units":["bauamt"]}"#]);
    ok(&data, &["set", &foreign, r#"access:={"units":["umweltamt"]}"#]);
    let bau = token(&data, "service", "fachverfahren", &["bauamt"]);
    let umwelt = token(&data, "service", "fachverfahren-umwelt", &["umweltamt"]);
    let server = Server::start(&data, false, &[]);
    let c = client();
    let upload = |tok: &str, akte: &str, name: &str| {
        let r = c
            .post(server.url(&format!("/akten/{akte}/dokumente?file_name={name}")))
            .bearer_auth(tok)
            .header("idempotency-key", "upload-1")
            .header("content-type", "application/octet-stream")
            .body(format!("Inhalt von {name}"))
            .send()
            .expect("upload");
        let status = r.status().as_u16();
        (status, r.text().expect("body"))
    };
    let (s1, first) = upload(&umwelt, &foreign, FOREIGN_FILE);
    assert_eq!(s1, 201, "{first}");
    let (s2, second) = upload(&bau, &own, "Baubericht.txt");
    assert!(
        leaks(&second).is_empty() && second != first,
        "the bauamt token, sending the umweltamt token's Idempotency-Key to its own Akte, got the other \
         caller's answer ({s2}): {second}"
    );
    assert_eq!(s2, 201, "{second}");
}

/// Filing an Akte under another Aktenplan node changes what it takes from the node: its
/// readers (when it has no grants of its own), retention and appraisal. A clerk may refile
/// it only where those stay the same; otherwise refiling would widen (or narrow) who may
/// read it by the back door of an admin-only field.
#[test]
fn a_clerk_cannot_change_who_may_read_an_akte_by_refiling_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = init_repo(tmp.path(), "data");
    let admin = token(&data, "admin", "admin", &[]);
    let clerk = token(&data, "clerk", "clerk", &["bauamt"]);
    let other = token(&data, "reader", "reader", &["umweltamt"]);
    let server = Server::start(&data, false, &[]);
    let c = client();
    let post = |path: &str, body: Value| -> Value {
        let r = c.post(server.url(path)).bearer_auth(&admin).json(&body).send().expect("post");
        assert_eq!(r.status(), 201, "{path}");
        r.json().expect("json")
    };
    let bau = post("/aktenplan", json!({"code": "5", "title": "Bauwesen", "access": {"units": ["bauamt"]}}));
    post("/aktenplan", json!({"code": "5.1", "title": "Bauanträge", "parent": bau["id"]}));
    post("/aktenplan", json!({"code": "9", "title": "Sonstiges"}));
    post("/aktenplan", json!({"code": "5.2", "title": "Kurz", "parent": bau["id"], "retention_years": 1}));
    let akte = post("/akten", json!({"aktenzeichen": "5-1/2026", "title": "Bauantrag Zanderweg", "aktenplan": "5"}));
    let akte = akte["id"].as_str().expect("id").to_string();
    let refile = |t: &str, code: Value| {
        c.patch(server.url(&format!("/akten/{akte}"))).bearer_auth(t).json(&json!({"aktenplan": code})).send().unwrap()
    };
    // Out of the node (readable by every unit then), to a node without grants, or to one
    // with a shorter retention: refused, and nothing changed.
    for code in [Value::Null, json!("9"), json!("5.2")] {
        let why = assert_problem(refile(&clerk, code.clone()), 403, "forbidden");
        assert!(why.contains("who may read it"), "{code}: {why}");
    }
    let r = c.get(server.url(&format!("/akten/{akte}"))).bearer_auth(&other).send().unwrap();
    assert_eq!(r.status(), 404, "the other unit still cannot read it");
    // To a node below that takes the same grants and keeps retention and appraisal: fine.
    assert_eq!(refile(&clerk, json!("5.1")).status(), 200);
    // An admin may move it anywhere.
    assert_eq!(refile(&admin, json!("9")).status(), 200);
    let r = c.get(server.url(&format!("/akten/{akte}"))).bearer_auth(&other).send().unwrap();
    assert_eq!(r.status(), 200, "moved by an admin, it is open to all");
    assert!(server.stop().success());
}
