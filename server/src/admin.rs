//! Operator administration at the command line: API tokens, local accounts, and the
//! audit trail check.

use std::process::ExitCode;

use akte_store::{Change, OpenOptions, model::ObjKind};
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    AccountCommand, PlanCommand, TokenCommand,
    cmd::{open, open_rebuilt, print_json},
    http,
    output::say,
};

pub async fn token(opts: &OpenOptions, command: &TokenCommand, json_out: bool) -> Result<ExitCode> {
    let mut repo = open(opts).await?;
    match command {
        TokenCommand::Create { role, name, units, expires_days } => {
            if *expires_days == Some(0) {
                bail!("A token must live at least one day (--expires-days 1 or more)");
            }
            // Past year 9999 a time has no RFC 3339 form; a hundred years is as good as never.
            if expires_days.is_some_and(|d| d > 36_500) {
                bail!("A token lives at most 36500 days (a hundred years); leave --expires-days out for no expiry");
            }
            http::auth::token_name_free(repo.catalog(), name).map_err(|m| anyhow!(m))?;
            let expires = expires_days.map(|d| time::OffsetDateTime::now_utc() + time::Duration::days(d.into()));
            let (id, change, secret) = http::auth::create_token(name, role, units, expires)?;
            repo.commit(vec![change]).await?;
            if json_out {
                print_json(&json!({"id": id, "token": secret}));
            } else {
                say!("{secret}");
                eprintln!("akte: token {id} for {name} ({role}); it is shown only this once.");
            }
        }
        TokenCommand::List => {
            let rows: Vec<Value> = repo
                .catalog()
                .all(ObjKind::Token)
                .map(|t| json!({"id": t.id, "name": t.text("name"), "role": t.text("role"), "units": t.fields.get("units"),
                    "expires": t.text("expires"), "revoked": t.fields.get("revoked").and_then(Value::as_bool).unwrap_or(false),
                    "created": t.created.rfc3339(), "created_by": t.created_by}))
                .collect();
            if json_out {
                print_json(&rows);
            } else {
                for r in rows {
                    say!(
                        "{}  {:<24} {:<10} {}{}",
                        r["id"].as_str().unwrap_or_default(),
                        r["name"].as_str().unwrap_or_default(),
                        r["role"].as_str().unwrap_or_default(),
                        r["expires"].as_str().map(|e| format!("expires {e}")).unwrap_or_default(),
                        if r["revoked"] == json!(true) { "  REVOKED" } else { "" }
                    );
                }
            }
        }
        TokenCommand::Revoke { token } => {
            let cat = repo.catalog();
            let found: Vec<Uuid> = cat
                .all(ObjKind::Token)
                .filter(|t| t.id.to_string() == *token || t.text("name") == Some(token.as_str()))
                .map(|t| t.id)
                .collect();
            let id = match found.as_slice() {
                [id] => *id,
                [] => bail!("There is no token {token}"),
                _ => bail!("Several tokens are named {token}; revoke one by its id"),
            };
            // Revoked already: nothing to write (the history would show an empty change).
            if repo.catalog().get(&id).and_then(|t| t.fields.get("revoked")) != Some(&json!(true)) {
                let mut fields = Map::new();
                fields.insert("revoked".into(), json!(true));
                repo.commit(vec![Change::Update { id, fields }]).await?;
            }
            if json_out {
                print_json(&json!({"id": id, "revoked": true}));
            } else {
                say!("revoked {id}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `akte aktenplan add|list`: what `POST /aktenplan` and `GET /aktenplan` do, for a
/// records manager without the web UI.
pub async fn aktenplan(opts: &OpenOptions, command: &PlanCommand, json_out: bool) -> Result<ExitCode> {
    let mut repo = open(opts).await?;
    match command {
        PlanCommand::Add { code, title, parent, retention_years, appraisal } => {
            let cat = repo.catalog();
            if cat.plan_node(code).is_some() {
                bail!("The Aktenplan code {code} already exists");
            }
            let parent = match parent {
                Some(p) => Some(
                    cat.plan_node(p)
                        .map(|n| n.id)
                        .ok_or_else(|| anyhow!("There is no Aktenplan node {p} to put {code} under"))?,
                ),
                None => None,
            };
            let mut fields = Map::new();
            fields.insert("code".into(), json!(code));
            fields.insert("title".into(), json!(title));
            if let Some(y) = retention_years {
                fields.insert("retention_years".into(), json!(y));
            }
            if let Some(a) = appraisal {
                fields.insert("appraisal".into(), json!(a));
            }
            let id = Uuid::now_v7();
            repo.commit(vec![Change::Create { kind: ObjKind::Aktenplan, id, parent, content: None, fields }]).await?;
            if json_out {
                print_json(&json!({"id": id}));
            } else {
                say!("{id}");
            }
        }
        PlanCommand::List => {
            let cat = repo.catalog();
            let mut nodes: Vec<&akte_store::catalog::Obj> = cat.all(ObjKind::Aktenplan).collect();
            nodes.sort_by(|a, b| a.text("code").cmp(&b.text("code")));
            if json_out {
                print_json(&nodes.iter().map(|n| http::views::plan_view(n)).collect::<Vec<_>>());
            } else {
                for n in nodes {
                    let defaults: Vec<String> = ["retention_years", "appraisal"]
                        .iter()
                        .filter_map(|k| n.fields.get(k).map(|v| format!("{k} {v}")))
                        .collect();
                    say!(
                        "{}  {}  {}",
                        n.text("code").unwrap_or_default(),
                        n.text("title").unwrap_or_default(),
                        defaults.join(", ")
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn account(opts: &OpenOptions, command: &AccountCommand, json_out: bool) -> Result<ExitCode> {
    let mut repo = open(opts).await?;
    match command {
        AccountCommand::Add { name, roles, units } => {
            if let Some(a) = http::auth::find_account(repo.catalog(), name) {
                bail!(
                    "The account {} already exists (login names do not differ by case)",
                    a.text("name").unwrap_or(name)
                );
            }
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).context("Cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let (id, change) = http::auth::create_account(name, password, roles, units)?;
            repo.commit(vec![change]).await?;
            if json_out {
                print_json(&json!({"id": id}));
            } else {
                say!("{id}");
            }
        }
        AccountCommand::Disable { name } | AccountCommand::Enable { name } | AccountCommand::Passwd { name } => {
            let account =
                http::auth::find_account(repo.catalog(), name).ok_or_else(|| anyhow!("There is no account {name}"))?;
            let (id, disabled) = (account.id, account.fields.get("disabled") == Some(&json!(true)));
            let fields = match command {
                AccountCommand::Disable { .. } => http::auth::account_change(Some(true), None)?,
                AccountCommand::Enable { .. } => http::auth::account_change(Some(false), None)?,
                _ => {
                    let mut password = String::new();
                    std::io::stdin()
                        .read_line(&mut password)
                        .context("Cannot read the password from standard input")?;
                    http::auth::account_change(None, Some(password.trim_end_matches(['\r', '\n'])))?
                }
            };
            // Disabled or enabled already: nothing to write.
            let unchanged = match command {
                AccountCommand::Disable { .. } => disabled,
                AccountCommand::Enable { .. } => !disabled,
                _ => false,
            };
            if !unchanged {
                repo.commit(vec![Change::Update { id, fields }]).await?;
            }
            if json_out {
                print_json(&json!({"id": id, "changed": !unchanged}));
            } else if unchanged {
                say!("account {name} was already so; nothing changed");
            } else {
                say!("updated account {name}");
            }
        }
        AccountCommand::List => {
            let rows: Vec<Value> = repo
                .catalog()
                .all(ObjKind::Account)
                .map(|a| json!({"id": a.id, "name": a.text("name"), "roles": a.fields.get("roles"), "units": a.fields.get("units"),
                    "disabled": a.fields.get("disabled").and_then(Value::as_bool).unwrap_or(false)}))
                .collect();
            if json_out {
                print_json(&rows);
            } else {
                for r in rows {
                    say!(
                        "{}  {:<20} {}  units {}{}",
                        r["id"].as_str().unwrap_or_default(),
                        r["name"].as_str().unwrap_or_default(),
                        r["roles"],
                        r["units"],
                        if r["disabled"] == json!(true) { "  DISABLED" } else { "" }
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `akte audit verify`: the catalog rebuilt from the store alone re-reads and checks every
/// entry of every stream; counts what the trail holds.
pub async fn audit_verify(opts: &OpenOptions, json_out: bool) -> Result<ExitCode> {
    let (repo, entries) = open_rebuilt(opts).await?;
    let cat = repo.catalog();
    let (mut writes, mut reads, mut derived, mut deletions) = (0usize, 0usize, 0usize, 0usize);
    for e in &cat.entries {
        for (op, _) in &e.ops {
            match op {
                akte_store::journal::Op::Create { .. } | akte_store::journal::Op::Update { .. } => writes += 1,
                akte_store::journal::Op::Read { .. } => reads += 1,
                akte_store::journal::Op::Derive { .. } => derived += 1,
                akte_store::journal::Op::Delete { .. } => deletions += 1,
            }
        }
    }
    let first = cat.entries.first().map(|e| e.hlc.rfc3339());
    let last = cat.entries.last().map(|e| e.hlc.rfc3339());
    if json_out {
        print_json(&json!({"entries": entries, "streams": cat.streams.len(), "writes": writes, "reads": reads,
            "derived": derived, "deletions": deletions, "first": first, "last": last, "digest": cat.digest()}));
    } else {
        say!(
            "journal chain verified: {entries} entries in {} stream(s), {writes} writes, {reads} reads, {derived} derived results, {deletions} deletions",
            cat.streams.len()
        );
        if let (Some(f), Some(l)) = (first, last) {
            say!("from {f} to {l}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `akte delete`: refuses unless every named Akte may go (closed, retention ended, no legal
/// hold), then deletes them in one entry and erases what only they used. An Akte already
/// deleted is erased again (finishing an interrupted run).
pub async fn delete(opts: &OpenOptions, akten: &[String], reason: Option<&str>, json_out: bool) -> Result<ExitCode> {
    let mut repo = open(opts).await?;
    let today = time::OffsetDateTime::now_utc().date();
    let mut doomed = Vec::new();
    for key in akten {
        let cat = repo.catalog();
        if let Ok(id) = key.parse::<Uuid>()
            && cat.state.deleted.contains_key(&id)
        {
            doomed.push((id, Map::new()));
            continue;
        }
        let a = crate::cmd::find_akte(&repo, key)?;
        let az = a.text("aktenzeichen").unwrap_or_default().to_string();
        if let Err(r) = akte_store::erase::check_destroyable(cat, a, today) {
            bail!("Akte {az} may not be deleted: {r}");
        }
        doomed.push((a.id, akte_store::erase::evidence(cat, a, "retention", reason)));
    }
    let erased = repo.delete(doomed).await?;
    crate::search::sync(&opts.data_dir, &repo, false, true).await?;
    if json_out {
        print_json(&erased);
    } else {
        say!(
            "deleted {} Akte(n); erased {} objects and {} packs, moved {} live objects to new packs, kept {} shared with other Akten",
            erased.akten.len(),
            erased.objects,
            erased.packs,
            erased.repacked,
            erased.shared
        );
    }
    Ok(ExitCode::SUCCESS)
}
