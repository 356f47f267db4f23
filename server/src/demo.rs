//! `akte demo`: initialise if needed and load the fixture case (Windpark Hohe Heide).

use std::{collections::BTreeMap, path::PathBuf, process::ExitCode};

use akte_store::{Change, OpenOptions, Repository, model::ObjKind};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{cmd, output, output::say};

#[derive(Deserialize)]
struct Case {
    aktenplan: Vec<PlanNode>,
    akte: Map<String, Value>,
    vorgaenge: Vec<VorgangDef>,
    dokumente: Vec<DokDef>,
    #[serde(default)]
    weitere_akten: Vec<MoreAkte>,
}

#[derive(Deserialize)]
struct MoreAkte {
    akte: Map<String, Value>,
    #[serde(default)]
    vorgaenge: Vec<VorgangDef>,
    dokumente: Vec<DokDef>,
}

#[derive(Deserialize)]
struct PlanNode {
    code: String,
    title: String,
    parent: Option<String>,
}

#[derive(Deserialize)]
struct VorgangDef {
    key: String,
    title: String,
}

#[derive(Deserialize)]
struct DokDef {
    file: String,
    vorgang: Option<String>,
    title: String,
    document_type: Option<String>,
    received: Option<String>,
    sent: Option<String>,
    date: Option<String>,
    sender: Option<String>,
    recipient: Option<String>,
}

/// The fixture case shipped with the source tree.
pub fn default_fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/windpark-hohe-heide"))
}

/// `serving`: where the server that follows will listen, if one follows.
pub async fn run(
    opts: &OpenOptions,
    fixtures: Option<PathBuf>,
    json_out: bool,
    serving: Option<std::net::SocketAddr>,
) -> Result<ExitCode> {
    let given = fixtures.is_some();
    let dir = fixtures.unwrap_or_else(default_fixtures);
    let bytes = match std::fs::read(dir.join("case.json")) {
        Ok(b) => b,
        // A binary installed away from its source tree does not have the case at the path
        // it was built with.
        Err(e) if !given && e.kind() == std::io::ErrorKind::NotFound => bail!(
            "The demo case is not at {} (where this binary was built); pass --fixtures \
             <source tree>/fixtures/windpark-hohe-heide",
            dir.display()
        ),
        // `--fixtures <tree>/fixtures`: the case is one directory further down.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let below = dir.join("windpark-hohe-heide");
            if below.join("case.json").is_file() {
                bail!("{} holds no case.json; the demo case is in {}", dir.display(), below.display())
            }
            bail!(
                "{} holds no case.json; pass the demo case's directory, <source tree>/fixtures/windpark-hohe-heide",
                dir.display()
            )
        }
        Err(e) => return Err(e).with_context(|| format!("Cannot read the demo case in {}", dir.display())),
    };
    let case: Case = serde_json::from_slice(&bytes).context("The demo case.json is not readable")?;
    // A data directory without an operator identity (and none given) gets a new repository;
    // init refuses clearly when the store already holds one.
    if opts.identity.is_none() && !opts.data_dir.join("identity.txt").exists() {
        let info = Repository::init(opts, &[]).await?;
        if !json_out {
            say!("initialised repository {} in {}", info.repository, info.store);
        }
    }
    let mut repo = cmd::open(opts).await?;
    // The demo's Akten are fictitious (one is a Personalangelegenheit) and it makes an admin
    // account: only into a repository that holds nothing else.
    // An Akte is the demo's when Aktenzeichen and title both are (a real Akte may share a
    // test's Aktenzeichen).
    let text = |a: &Map<String, Value>, k: &str| a.get(k).and_then(Value::as_str).map(str::to_string);
    let demo: Vec<(Option<String>, Option<String>)> = std::iter::once(&case.akte)
        .chain(case.weitere_akten.iter().map(|m| &m.akte))
        .map(|a| (text(a, "aktenzeichen"), text(a, "title")))
        .collect();
    let is_demo = |a: &&akte_store::catalog::Obj| {
        demo.contains(&(a.text("aktenzeichen").map(str::to_string), a.text("title").map(str::to_string)))
    };
    if let Some(other) = repo.catalog().all(ObjKind::Akte).find(|a| !is_demo(a)) {
        bail!(
            "This repository holds Akten of its own ({} among them); the demo loads its fictitious case only into a new one (another --data)",
            other.text("aktenzeichen").unwrap_or("?")
        );
    }
    let mut plan: BTreeMap<String, Uuid> =
        repo.catalog().all(ObjKind::Aktenplan).filter_map(|o| Some((o.text("code")?.to_string(), o.id))).collect();
    let mut changes = Vec::new();
    for node in &case.aktenplan {
        if plan.contains_key(&node.code) {
            continue;
        }
        let id = Uuid::now_v7();
        let parent = node.parent.as_ref().and_then(|p| plan.get(p)).copied();
        let mut fields = Map::new();
        fields.insert("code".into(), json!(node.code));
        fields.insert("title".into(), json!(node.title));
        changes.push(Change::Create { kind: ObjKind::Aktenplan, id, parent, content: None, fields });
        plan.insert(node.code.clone(), id);
    }
    repo.commit(changes).await?;

    let mut loaded = Vec::new();
    let main = MoreAkte { akte: case.akte, vorgaenge: case.vorgaenge, dokumente: case.dokumente };
    for akte in std::iter::once(&main).chain(case.weitere_akten.iter()) {
        loaded.push(load_akte(&mut repo, &dir, akte).await?);
    }
    // Extraction, OCR of the scans and enrichers for whatever lacks them (all of it on the
    // first run, nothing on later ones).
    let report = if crate::ingest::enabled() {
        let pipeline = crate::ingest::pipeline(&opts.data_dir, &repo, json_out).await?;
        let pending = pipeline.pending(repo.catalog());
        crate::ingest::run(&pipeline, &mut repo, &pending, true).await?
    } else {
        Default::default()
    };
    crate::search::sync(&opts.data_dir, &repo, false, true).await?;
    let login = match serving {
        Some(_) => Some(demo_login(&mut repo, &opts.data_dir).await?),
        None => None,
    };
    if json_out {
        say!("{}", serde_json::to_string_pretty(&json!({"akten": loaded, "ingest": report}))?);
    } else {
        for l in &loaded {
            let bytes = l["bytes"].as_u64().unwrap_or(0);
            say!(
                "{} {}: {} Dokumente in {} Vorgängen{}",
                l["aktenzeichen"].as_str().unwrap_or_default(),
                l["status"].as_str().unwrap_or_default(),
                l["dokumente"],
                l["vorgaenge"],
                if bytes > 0 { format!(", {}", output::size(bytes)) } else { String::new() }
            );
        }
        if report.versions > 0 {
            say!(
                "text extracted from {} Dokumente ({} pages by OCR), {} failure(s)",
                report.versions,
                report.ocr_pages,
                report.failures.len()
            );
        }
        say!("data directory: {}", opts.data_dir.display());
        let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "akte".into());
        if login.is_some() {
            // The commands below open the data directory, which the server holds while it
            // runs (the QA pass tried them in a second terminal and met the lock).
            say!("the server started below holds the data directory; stop it (Ctrl-C) before these commands");
        }
        say!("try: {exe} ls 61.2-0815/2026");
        say!("     {exe} get <Dokument-id> -o out.pdf");
        say!("     {exe} search 'Schallimmissionsprognose Nachtbetrieb'");
        say!("     {exe} text <Dokument-id>");
        say!("     {exe} verify");
        if let Some((password, token)) = &login {
            say!("log in as demo with the password {password}");
            say!("  (POST /api/v1/session {{\"name\":\"demo\",\"password\":…}}), or call the API with");
            say!("  Authorization: Bearer {token}");
            let at = serving.map_or_else(|| "127.0.0.1:8080".to_string(), |a| a.to_string());
            say!("  e.g. curl -H 'Authorization: Bearer {token}' 'http://{at}/api/v1/search?q=Rotmilan'");
            say!("  (both are kept in {})", opts.data_dir.join("demo-login.json").display());
        } else {
            say!("serve the REST API with: {exe} serve");
            say!("  an API token for it: {exe} token create --role admin --name demo");
        }
    }
    repo.save_catalog()?;
    Ok(ExitCode::SUCCESS)
}

async fn load_akte(repo: &mut Repository, dir: &std::path::Path, def: &MoreAkte) -> Result<Value> {
    let az = def.akte.get("aktenzeichen").and_then(Value::as_str).unwrap_or_default().to_string();
    if let Some(existing) = repo.catalog().find_akte(&az) {
        let n = repo.catalog().dokumente_of(&existing.id).len();
        return Ok(
            json!({"aktenzeichen": az, "id": existing.id, "status": "already loaded", "dokumente": n, "vorgaenge": repo.catalog().children(&existing.id).filter(|o| o.kind == ObjKind::Vorgang).count(), "bytes": 0}),
        );
    }
    let mut fields = def.akte.clone();
    fields.entry("status").or_insert(json!("offen"));
    let akte = crate::add::create_akte(repo, fields).await?;
    let mut vorgaenge = BTreeMap::new();
    let mut changes = Vec::new();
    for v in &def.vorgaenge {
        let id = Uuid::now_v7();
        let mut f = Map::new();
        f.insert("title".into(), json!(v.title));
        changes.push(Change::Create { kind: ObjKind::Vorgang, id, parent: Some(akte), content: None, fields: f });
        vorgaenge.insert(v.key.clone(), id);
    }
    repo.commit(changes).await?;
    let mut bytes = 0u64;
    let mut by_vorgang: BTreeMap<Option<String>, Vec<&DokDef>> = BTreeMap::new();
    for d in &def.dokumente {
        by_vorgang.entry(d.vorgang.clone()).or_default().push(d);
    }
    for (vorgang, docs) in by_vorgang {
        let parent = match &vorgang {
            Some(k) => *vorgaenge.get(k).with_context(|| format!("the demo case names an unknown Vorgang {k}"))?,
            None => akte,
        };
        let files: Vec<PathBuf> = docs.iter().map(|d| dir.join(&d.file)).collect();
        for f in &files {
            if !f.is_file() {
                bail!("The demo case lacks {}", f.display());
            }
        }
        let added = crate::add::add_files_with(repo, parent, &files, |i, f| {
            let d = docs[i];
            f.insert("title".into(), json!(d.title));
            for (k, v) in [
                ("document_type", &d.document_type),
                ("received", &d.received),
                ("sent", &d.sent),
                ("date", &d.date),
                ("sender", &d.sender),
                ("recipient", &d.recipient),
            ] {
                if let Some(v) = v {
                    f.insert(k.into(), json!(v));
                }
            }
        })
        .await?;
        bytes += added.iter().map(|a| a["size"].as_u64().unwrap_or(0)).sum::<u64>();
    }
    Ok(
        json!({"aktenzeichen": az, "id": akte, "status": "loaded", "dokumente": def.dokumente.len(), "vorgaenge": def.vorgaenge.len(), "bytes": bytes}),
    )
}

/// The demo's admin account and API token: made on the first run, remembered (0600) in the
/// data directory, so that later runs print the same login.
async fn demo_login(repo: &mut Repository, data: &std::path::Path) -> Result<(String, String)> {
    let path = data.join("demo-login.json");
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes)
        && let (Some(p), Some(t)) = (v["password"].as_str(), v["token"].as_str())
        && crate::http::auth::find_account(repo.catalog(), "demo").is_some()
    {
        return Ok((p.to_string(), t.to_string()));
    }
    let password = hex::encode(rand::random::<[u8; 9]>());
    let mut changes = Vec::new();
    if crate::http::auth::find_account(repo.catalog(), "demo").is_none() {
        let (_, c) = crate::http::auth::create_account("demo", &password, &["admin".to_string()], &[])?;
        changes.push(c);
    } else {
        anyhow::bail!(
            "The account demo exists, but {} with its password is gone; remove the data directory to start over",
            path.display()
        );
    }
    let (_, c, token) = crate::http::auth::create_token("demo", "admin", &[], None)?;
    changes.push(c);
    repo.commit(changes).await?;
    let text = serde_json::to_string_pretty(&json!({"name": "demo", "password": password, "token": token}))?;
    let _ = std::fs::remove_file(&path);
    akte_store::repo::write_secret(&path, &text)?;
    Ok((password, token))
}
