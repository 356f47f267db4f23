//! Who is calling: API tokens (`Authorization: Bearer akte_…`, stored as a BLAKE3 hash in
//! the repository), OIDC access tokens (any other bearer value, when `[oidc]` is configured;
//! see [`super::oidc`]), local accounts (argon2id) with browser sessions (cookie), and what
//! each role may do. Visibility of an Akte is decided by [`Principal::sees`], the same rule
//! the search index applies through access tokens, so an endpoint and a search never
//! disagree about what a caller may read.

use std::{collections::HashMap, sync::Arc};

use akte_store::{
    Change,
    catalog::{Catalog, Obj},
    model::ObjKind,
};
use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use axum::{extract::FromRequestParts, http::request::Parts};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{App, problem::ApiError};

/// The prefix of every API token (lets secret scanners recognise them).
pub const TOKEN_PREFIX: &str = "akte_";
/// The session cookie.
pub const SESSION_COOKIE: &str = "akte_session";
/// How long a browser session lasts without use.
pub const SESSION_IDLE: std::time::Duration = std::time::Duration::from_secs(8 * 3600);

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// A unique, stable id: `token:<uuid>`, `account:<uuid>` or `oidc:<issuer>#<sub>`
    /// (scopes idempotency keys).
    pub id: String,
    /// How the history names the caller: `user:<login>`, `token:<name>` or `oidc:<login>`.
    pub actor: String,
    /// Name for people.
    pub name: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Organisational units.
    pub units: Vec<String>,
    /// The login name for per-user grants (`user:<login>`), if the caller is a person.
    pub user: Option<String>,
}

/// What a role may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read metadata, content, history, search.
    Read,
    /// Create Akten, Vorgänge, Dokumente; upload; change metadata.
    Write,
    /// Close an Akte or Vorgang (z.d.A.).
    Close,
    /// Change retention, appraisal and legal hold.
    Retention,
    /// Manage the Aktenplan, accounts, tokens, grants and confidentiality; reopen.
    Admin,
}

impl Principal {
    /// Whether the caller has a role.
    pub fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Whether the caller's roles allow an action (on objects it can see).
    pub fn may(&self, action: Action) -> bool {
        if self.has("admin") {
            return true;
        }
        match action {
            Action::Read => !self.roles.is_empty(),
            Action::Write => self.has("clerk") || self.has("service"),
            Action::Close => self.has("clerk") || self.has("service") || self.has("archivist"),
            Action::Retention => self.has("archivist"),
            Action::Admin => false,
        }
    }

    /// Fails with 403 unless the roles allow `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.may(action) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "The role {} does not allow {}",
                if self.roles.is_empty() { "(none)".to_string() } else { self.roles.join(", ") },
                match action {
                    Action::Read => "reading",
                    Action::Write => "changing content or metadata",
                    Action::Close => "closing",
                    Action::Retention => "records management (retention, legal hold, deletion and its evidence)",
                    Action::Admin => "administration",
                }
            )))
        }
    }

    /// The access tokens of the caller (see `search::readers_of`).
    pub fn tokens(&self) -> Vec<String> {
        let mut t = vec!["all".to_string()];
        t.extend(self.user.iter().map(|u| format!("user:{u}")));
        t.extend(self.units.iter().map(|u| format!("unit:{u}")));
        t.extend(self.roles.iter().map(|r| format!("role:{r}")));
        t
    }

    /// What the caller may find in the search index.
    pub fn search_access(&self) -> akte_index::Access {
        if self.has("admin") { akte_index::Access::all() } else { akte_index::Access::readers(self.tokens()) }
    }

    /// Whether the caller may see an Akte (and everything in it).
    pub fn sees(&self, catalog: &Catalog, akte: &Obj) -> bool {
        if self.has("admin") {
            return true;
        }
        let mine = self.tokens();
        crate::search::readers_of(catalog, akte).iter().any(|t| mine.contains(t))
    }

    /// Whether the caller may see the evidence of a deleted Akte: an admin always; others
    /// when one of their tokens is among the readers the evidence recorded (units, roles,
    /// `all`). Evidence written before it recorded readers is shown as before.
    pub fn sees_deletion(&self, tombstone: &akte_store::catalog::Tombstone) -> bool {
        if self.has("admin") {
            return true;
        }
        let Some(readers) = tombstone.evidence.get("readers").and_then(Value::as_array) else { return true };
        let mine = self.tokens();
        readers.iter().filter_map(Value::as_str).any(|r| mine.iter().any(|m| m == r))
    }

    /// Whether the caller may see any object: domain objects through their Akte, Aktenplan
    /// nodes always (they carry no case data), accounts, tokens and plugins only as admin.
    pub fn sees_obj(&self, catalog: &Catalog, obj: &Obj) -> bool {
        match obj.kind {
            ObjKind::Aktenplan => !self.roles.is_empty(),
            ObjKind::Account | ObjKind::Token | ObjKind::Plugin => self.has("admin"),
            _ => obj.akte.and_then(|a| catalog.get(&a)).is_some_and(|a| self.sees(catalog, a)),
        }
    }
}

/// A browser session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The account's id.
    pub account: Uuid,
    /// The account's password hash at login: a new password (set on any node) ends the
    /// session, as disabling the account does.
    pub credential: String,
    /// Last use.
    pub seen: std::time::Instant,
}

/// Sessions of this process (a restart logs everyone out; sessions do not follow a
/// browser to another node).
#[derive(Default)]
pub struct Sessions(std::sync::Mutex<HashMap<String, Session>>);

impl Sessions {
    /// Starts a session; returns its cookie value.
    pub fn start(&self, account: &Obj) -> String {
        let id = hex::encode(rand::random::<[u8; 32]>());
        let mut map = self.0.lock().expect("sessions lock");
        map.retain(|_, s| s.seen.elapsed() < SESSION_IDLE);
        let credential = account.text("password_hash").unwrap_or_default().to_string();
        map.insert(id.clone(), Session { account: account.id, credential, seen: std::time::Instant::now() });
        id
    }

    /// The account of a live session, and its password hash at login.
    pub fn touch(&self, id: &str) -> Option<(Uuid, String)> {
        let mut map = self.0.lock().expect("sessions lock");
        let s = map.get_mut(id)?;
        if s.seen.elapsed() >= SESSION_IDLE {
            map.remove(id);
            return None;
        }
        s.seen = std::time::Instant::now();
        Some((s.account, s.credential.clone()))
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        self.0.lock().expect("sessions lock").remove(id);
    }
}

/// A new token secret and its hash.
pub fn new_token_secret() -> (String, String) {
    let secret = format!("{TOKEN_PREFIX}{}", hex::encode(rand::random::<[u8; 32]>()));
    let hash = token_hash(&secret);
    (secret, hash)
}

/// The stored hash of a token secret.
pub fn token_hash(secret: &str) -> String {
    blake3::derive_key("akte 2026 api token", secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// An argon2id hash (PHC string) of a password.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("Cannot hash the password: {e}"))?
        .to_string())
}

/// Checks a password against a stored argon2id hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

fn strings(obj: &Obj, key: &str) -> Vec<String> {
    obj.fields
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// The principal of an account.
pub fn account_principal(account: &Obj) -> Principal {
    let name = account.text("name").unwrap_or_default().to_string();
    Principal {
        id: format!("account:{}", account.id),
        actor: format!("user:{name}"),
        name: account.text("display_name").unwrap_or(&name).to_string(),
        roles: strings(account, "roles"),
        units: strings(account, "units"),
        user: Some(name),
    }
}

/// Finds the live token with this secret.
pub fn token_principal(catalog: &Catalog, secret: &str) -> Option<Principal> {
    let hash = token_hash(secret);
    let now = time::OffsetDateTime::now_utc();
    let token = catalog.all(ObjKind::Token).find(|t| t.text("hash") == Some(hash.as_str()))?;
    if token.fields.get("revoked").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    if let Some(exp) = token.text("expires") {
        let exp = time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339).ok()?;
        if exp <= now {
            return None;
        }
    }
    let name = token.text("name").unwrap_or_default().to_string();
    Some(Principal {
        id: format!("token:{}", token.id),
        actor: format!("token:{name}"),
        name,
        roles: token.text("role").map(|r| vec![r.to_string()]).unwrap_or_default(),
        units: strings(token, "units"),
        user: None,
    })
}

/// Finds an account by login name, ignoring case as directory logins do (`Anna` is `anna`;
/// so a second account that differs only in case cannot be made): the name as written wins,
/// then one that differs in case only.
pub fn find_account<'a>(catalog: &'a Catalog, name: &str) -> Option<&'a Obj> {
    let name = name.trim();
    catalog.all(ObjKind::Account).find(|a| a.text("name") == Some(name)).or_else(|| {
        let folded = name.to_lowercase();
        catalog.all(ObjKind::Account).find(|a| a.text("name").is_some_and(|n| n.to_lowercase() == folded))
    })
}

/// Refuses a token name that a token has or had: the history names a caller
/// `token:<name>`, so two tokens of one name, or a new token with a revoked one's name,
/// would make the history say one did what the other did.
pub fn token_name_free(catalog: &akte_store::catalog::Catalog, name: &str) -> Result<(), String> {
    match catalog.all(ObjKind::Token).find(|t| t.text("name") == Some(name)) {
        None => Ok(()),
        Some(t) if t.fields.get("revoked").and_then(serde_json::Value::as_bool) == Some(true) => Err(format!(
            "A revoked token was named {name}; the history names callers by token name, so a new token needs another"
        )),
        Some(_) => Err(format!(
            "A token named {name} exists; the history names callers by token name, so a new token needs another"
        )),
    }
}

/// The change that creates a token; returns it with the secret (shown once).
pub fn create_token(
    name: &str,
    role: &str,
    units: &[String],
    expires: Option<time::OffsetDateTime>,
) -> anyhow::Result<(Uuid, Change, String)> {
    // The history names its caller `token:<name>`: one line, short enough for every record.
    if name.trim().is_empty() || name.chars().count() > 120 || name.len() > 190 || name.chars().any(char::is_control) {
        anyhow::bail!("A token needs a name of 1 to 120 characters on one line");
    }
    let (secret, hash) = new_token_secret();
    let mut fields = Map::new();
    fields.insert("name".into(), json!(name));
    fields.insert("role".into(), json!(role));
    if !units.is_empty() {
        fields.insert("units".into(), json!(units));
    }
    fields.insert("hash".into(), json!(hash));
    if let Some(e) = expires {
        fields.insert("expires".into(), json!(e.format(&time::format_description::well_known::Rfc3339)?));
    }
    let id = Uuid::now_v7();
    Ok((id, Change::Create { kind: ObjKind::Token, id, parent: None, content: None, fields }, secret))
}

/// The change that creates an account.
pub fn create_account(
    name: &str,
    password: &str,
    roles: &[String],
    units: &[String],
) -> anyhow::Result<(Uuid, Change)> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c)) {
        anyhow::bail!("The login name {name:?} must be 1 to 64 letters, digits or . _ - @");
    }
    if password.chars().count() < 12 {
        anyhow::bail!("A password needs at least 12 characters");
    }
    let mut fields = Map::new();
    fields.insert("name".into(), json!(name));
    fields.insert("password_hash".into(), json!(hash_password(password)?));
    fields.insert("roles".into(), json!(roles));
    if !units.is_empty() {
        fields.insert("units".into(), json!(units));
    }
    let id = Uuid::now_v7();
    Ok((id, Change::Create { kind: ObjKind::Account, id, parent: None, content: None, fields }))
}

/// The fields that change an account: whether it may log in, and a new password (hashed;
/// at least 12 characters). A disabled account's sessions end at their next request.
pub fn account_change(disabled: Option<bool>, password: Option<&str>) -> anyhow::Result<Map<String, Value>> {
    let mut fields = Map::new();
    if let Some(d) = disabled {
        fields.insert("disabled".into(), json!(d));
    }
    if let Some(p) = password {
        if p.chars().count() < 12 {
            anyhow::bail!("A password needs at least 12 characters");
        }
        fields.insert("password_hash".into(), json!(hash_password(p)?));
    }
    if fields.is_empty() {
        anyhow::bail!("The change names neither disabled nor password");
    }
    Ok(fields)
}

/// The authenticated caller; rejects with 401.
pub struct Caller(pub Principal);

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        v.split(';').map(str::trim).find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
    })
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        if let Some(h) = parts.headers.get(axum::http::header::AUTHORIZATION) {
            let h = h.to_str().map_err(|_| ApiError::unauthenticated("The Authorization header is not readable"))?;
            let Some(token) = h.strip_prefix("Bearer ").map(str::trim) else {
                return Err(ApiError::unauthenticated("Only Bearer authorization is supported"));
            };
            if token.starts_with(TOKEN_PREFIX) {
                let repo = app.repo.read().await;
                return token_principal(repo.catalog(), token).map(Caller).ok_or_else(|| {
                    // For the security log: that it happened and where, never the token.
                    tracing::warn!(path = %parts.uri.path(), "rejected an API token: unknown, revoked or expired");
                    ApiError::unauthenticated("The token is unknown, revoked or expired")
                });
            }
            if let Some(oidc) = &app.oidc {
                return oidc.principal(token).await.map(Caller).inspect_err(|e| {
                    tracing::warn!(path = %parts.uri.path(), reason = %e.detail(), "rejected a bearer JWT");
                });
            }
            tracing::warn!(path = %parts.uri.path(), "rejected a bearer token of unknown kind");
            return Err(ApiError::unauthenticated("The token is unknown, revoked or expired"));
        }
        if let Some(id) = cookie(parts, SESSION_COOKIE) {
            // A session cookie authenticates only same-origin requests: a state-changing
            // request from another site carries an Origin that does not match the Host.
            // Without a Host header (HTTP/2 names the authority in the URI) the URI's
            // authority counts; with neither, an Origin cannot be matched and is refused.
            if !parts.method.is_safe()
                && let Some(origin) = parts.headers.get("origin")
            {
                let origin = origin.to_str().unwrap_or_default();
                let host = match parts.headers.get("host") {
                    Some(h) => h.to_str().unwrap_or_default(),
                    None => parts.uri.authority().map_or("", |a| a.as_str()),
                };
                let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
                if host.is_empty() || origin_host != host {
                    return Err(ApiError::forbidden("A session may not be used from another site"));
                }
            }
            if let Some((account, credential)) = app.sessions.touch(id) {
                let repo = app.repo.read().await;
                if let Some(a) = repo.catalog().get(&account)
                    && a.fields.get("disabled").and_then(Value::as_bool) != Some(true)
                    && a.text("password_hash") == Some(credential.as_str())
                {
                    return Ok(Caller(account_principal(a)));
                }
                app.sessions.end(id);
            }
            return Err(ApiError::unauthenticated("The session has ended; log in again"));
        }
        Err(ApiError::unauthenticated("This needs a Bearer token or a session"))
    }
}
