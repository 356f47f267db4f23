//! Who may call the API: API tokens, accounts, and the sessions of the web UI (`/tokens`,
//! `/accounts`, `/session`, `/me`).

use std::sync::Arc;

use akte_store::{
    Change,
    catalog::Obj,
    model::{self, ObjKind},
};
use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    App,
    api::{commit, commit_checked, visible},
    auth::{self, Action, Caller, Principal},
    extract::{Body, Id},
    problem::{ApiError, ApiResult},
    views::{Created, text},
};

/// The routes of this module.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/accounts", get(list_accounts).post(create_account))
        .route("/accounts/{id}", axum::routing::patch(update_account))
        .route("/session", post(login).delete(logout))
        .route("/me", get(me))
}

/// A new API token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    /// Who or what uses it.
    pub name: String,
    /// Its role.
    pub role: String,
    /// Organisational units it acts for.
    #[serde(default)]
    pub units: Vec<String>,
    /// Expiry (RFC 3339).
    pub expires: Option<String>,
}

/// A token as listed (never its secret or hash).
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Units.
    pub units: Vec<String>,
    /// Expiry.
    pub expires: Option<String>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// When created.
    pub created: String,
    /// Who created it.
    pub created_by: String,
}

/// A token just created: the secret is shown this once.
#[derive(Serialize, ToSchema)]
pub struct TokenSecret {
    /// Id.
    pub id: Uuid,
    /// The bearer token.
    pub token: String,
}

fn strings(o: &Obj, k: &str) -> Vec<String> {
    o.fields
        .get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// List the API tokens.
///
/// Admin only. Secrets are never shown again; a token is named by its id and name.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "Zugang", responses((status = 200, body = Vec<TokenView>)))]
pub async fn list_tokens(State(app): State<Arc<App>>, Caller(who): Caller) -> ApiResult<Json<Vec<TokenView>>> {
    who.require(Action::Admin)?;
    let repo = app.repo.read().await;
    Ok(Json(
        repo.catalog()
            .all(ObjKind::Token)
            .map(|t| TokenView {
                id: t.id,
                name: text(t, "name"),
                role: text(t, "role"),
                units: strings(t, "units"),
                expires: t.text("expires").map(str::to_string),
                revoked: t.fields.get("revoked").and_then(Value::as_bool).unwrap_or(false),
                created: t.created.rfc3339(),
                created_by: t.created_by.clone(),
            })
            .collect(),
    ))
}

/// Create an API token.
///
/// Admin only. The answer holds the secret once (`akte_…`); keep it, it cannot be shown
/// again.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "Zugang", request_body = TokenCreate,
    responses((status = 201, body = TokenSecret)))]
pub async fn create_token(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(body): Body<TokenCreate>,
) -> ApiResult<(StatusCode, Json<TokenSecret>)> {
    who.require(Action::Admin)?;
    let expires = match &body.expires {
        Some(e) => Some(
            time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::invalid(format!("The expiry {e:?} is not an RFC 3339 time")))?,
        ),
        None => None,
    };
    if expires.is_some_and(|e| e <= time::OffsetDateTime::now_utc()) {
        return Err(ApiError::invalid("The expiry lies in the past: the token would never work"));
    }
    let (id, change, secret) = auth::create_token(&body.name, &body.role, &body.units, expires)
        .map_err(|e| ApiError::invalid(format!("{e:#}")))?;
    if let Change::Create { kind, fields, .. } = &change {
        model::validate(*kind, fields, true)?;
    }
    let name_free =
        |cat: &akte_store::catalog::Catalog| auth::token_name_free(cat, &body.name).map_err(ApiError::conflict);
    commit_checked(&app, &who, vec![change], name_free).await?;
    Ok((StatusCode::CREATED, Json(TokenSecret { id, token: secret })))
}

/// Revoke an API token.
///
/// Admin only. The token stops working at once; its name stays taken, so the history keeps
/// naming it.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "Zugang",
    params(("id" = Uuid, Path, description = "Token id")), responses((status = 204, description = "Revoked")))]
pub async fn revoke_token(State(app): State<Arc<App>>, Caller(who): Caller, Id(id): Id<Uuid>) -> ApiResult<StatusCode> {
    who.require(Action::Admin)?;
    {
        let repo = app.repo.read().await;
        visible(repo.catalog(), &who, id, ObjKind::Token)?;
    }
    let mut fields = Map::new();
    fields.insert("revoked".into(), json!(true));
    commit(&app, &who, vec![Change::Update { id, fields }]).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new local account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountCreate {
    /// Login name.
    pub name: String,
    /// Password (at least 12 characters).
    pub password: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Organisational units.
    #[serde(default)]
    pub units: Vec<String>,
}

/// An account as listed.
#[derive(Serialize, ToSchema)]
pub struct AccountView {
    /// Id.
    pub id: Uuid,
    /// Login name.
    pub name: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Units.
    pub units: Vec<String>,
    /// Whether it is disabled.
    pub disabled: bool,
}

/// List the accounts.
///
/// Admin only. People who sign in to the web UI with a password.
#[utoipa::path(get, path = "/api/v1/accounts", tag = "Zugang", responses((status = 200, body = Vec<AccountView>)))]
pub async fn list_accounts(State(app): State<Arc<App>>, Caller(who): Caller) -> ApiResult<Json<Vec<AccountView>>> {
    who.require(Action::Admin)?;
    let repo = app.repo.read().await;
    Ok(Json(repo.catalog().all(ObjKind::Account).map(account_view).collect()))
}

fn account_view(a: &Obj) -> AccountView {
    AccountView {
        id: a.id,
        name: text(a, "name"),
        roles: strings(a, "roles"),
        units: strings(a, "units"),
        disabled: a.fields.get("disabled").and_then(Value::as_bool).unwrap_or(false),
    }
}

/// Create an account.
///
/// Admin only.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "Zugang", request_body = AccountCreate,
    responses((status = 201, body = Created)))]
pub async fn create_account(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Body(body): Body<AccountCreate>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    who.require(Action::Admin)?;
    let (id, change) = auth::create_account(&body.name, &body.password, &body.roles, &body.units)
        .map_err(|e| ApiError::invalid(format!("{e:#}")))?;
    if let Change::Create { kind, fields, .. } = &change {
        model::validate(*kind, fields, true)?;
    }
    let name_free = |cat: &akte_store::catalog::Catalog| match auth::find_account(cat, &body.name) {
        Some(a) => Err(ApiError::conflict(format!(
            "The account {} already exists (login names do not differ by case)",
            a.text("name").unwrap_or(&body.name)
        ))),
        None => Ok(()),
    };
    commit_checked(&app, &who, vec![change], name_free).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A change of a local account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    /// True: the account may not log in, and its sessions end at their next request.
    pub disabled: Option<bool>,
    /// A new password (at least 12 characters).
    pub password: Option<String>,
}

/// Change an account.
///
/// Admin only: roles, units, a new password, or disabled.
#[utoipa::path(patch, path = "/api/v1/accounts/{id}", tag = "Zugang", request_body = AccountUpdate,
    params(("id" = Uuid, Path, description = "Account id")), responses((status = 200, body = AccountView)))]
pub async fn update_account(
    State(app): State<Arc<App>>,
    Caller(who): Caller,
    Id(id): Id<Uuid>,
    Body(body): Body<AccountUpdate>,
) -> ApiResult<Json<AccountView>> {
    who.require(Action::Admin)?;
    let fields = auth::account_change(body.disabled, body.password.as_deref())
        .map_err(|e| ApiError::invalid(format!("{e:#}")))?;
    let exists = |cat: &akte_store::catalog::Catalog| visible(cat, &who, id, ObjKind::Account).map(|_| ());
    commit_checked(&app, &who, vec![Change::Update { id, fields }], exists).await?;
    let repo = app.repo.read().await;
    Ok(Json(account_view(visible(repo.catalog(), &who, id, ObjKind::Account)?)))
}

/// Login with a local account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Login name.
    pub name: String,
    /// Password.
    pub password: String,
}

/// The caller.
#[derive(Serialize, ToSchema)]
pub struct Me {
    /// How the history names the caller.
    pub actor: String,
    /// Name.
    pub name: String,
    /// Roles.
    pub roles: Vec<String>,
    /// Units.
    pub units: Vec<String>,
}

fn me_of(p: &Principal) -> Me {
    Me { actor: p.actor.clone(), name: p.name.clone(), roles: p.roles.clone(), units: p.units.clone() }
}

/// Sign in.
///
/// With an account's name and password; the answer sets the session cookie the web UI uses.
#[utoipa::path(post, path = "/api/v1/session", tag = "Zugang", request_body = Login, security(),
    responses((status = 200, body = Me, headers(("Set-Cookie" = String, description = "The session cookie")))))]
pub async fn login(State(app): State<Arc<App>>, headers: HeaderMap, Body(body): Body<Login>) -> ApiResult<Response> {
    // A name with a run of failed logins waits before its password is checked again.
    if let Some(wait) = throttle::waiting(&body.name) {
        tracing::warn!(name = ?body.name, wait_s = wait.as_secs(), "login refused: too many failed logins for this name");
        return Err(ApiError::too_many(format!(
            "Too many failed logins for this name; try again in {} seconds",
            wait.as_secs().max(1)
        ))
        .retry_after(wait));
    }
    let account = {
        let repo = app.repo.read().await;
        auth::find_account(repo.catalog(), &body.name).cloned()
    };
    // The hash is checked even for an unknown name, so timing does not tell names apart.
    let hash = account
        .as_ref()
        .and_then(|a| a.text("password_hash"))
        .unwrap_or("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$YW5vdGhlcmhhc2hhbm90aGVyaGFzaGFub3RoZXI");
    let password = body.password.clone();
    let hash_owned = hash.to_string();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash_owned)).await.unwrap_or(false);
    let known = account.is_some();
    let Some(account) = account.filter(|a| ok && a.fields.get("disabled").and_then(Value::as_bool) != Some(true))
    else {
        // For the security log (a run of these is a guessing attack to act on): the login
        // name when an account has it, escaped; a name no account has may be a password
        // typed into the wrong field, and is not logged.
        let disabled = ok && known;
        if disabled {
            tracing::warn!(name = ?body.name, "failed login: the account is disabled");
        } else if known {
            tracing::warn!(name = ?body.name, "failed login: wrong password");
        } else {
            tracing::warn!("failed login with a name no account has");
        }
        throttle::failed(&body.name);
        return Err(ApiError::unauthenticated("The name or the password is wrong"));
    };
    throttle::succeeded(&body.name);
    let session = app.sessions.start(&account);
    let mut r = Json(me_of(&auth::account_principal(&account))).into_response();
    // Behind a TLS proxy (which says so in X-Forwarded-Proto) the cookie is sent over
    // HTTPS only.
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    let cookie = format!(
        "{}={session}; HttpOnly; SameSite=Strict; Path=/{}",
        auth::SESSION_COOKIE,
        if secure { "; Secure" } else { "" }
    );
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("cookie is ASCII"));
    Ok(r)
}

/// Sign out.
///
/// Ends the session of the cookie sent.
#[utoipa::path(delete, path = "/api/v1/session", tag = "Zugang", security(), responses((status = 204, description = "Logged out")))]
pub async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    for v in headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()) {
        for kv in v.split(';').map(str::trim) {
            if let Some(id) = kv.strip_prefix(auth::SESSION_COOKIE).and_then(|r| r.strip_prefix('=')) {
                app.sessions.end(id);
            }
        }
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    let cookie = format!("{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0", auth::SESSION_COOKIE);
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("cookie is ASCII"));
    r
}

/// Who am I.
///
/// The caller as the server sees it: actor, roles, units.
#[utoipa::path(get, path = "/api/v1/me", tag = "Zugang", responses((status = 200, body = Me)))]
pub async fn me(Caller(who): Caller) -> Json<Me> {
    Json(me_of(&who))
}

/// Failed logins per name: after [`throttle::FREE_TRIES`] in a row, each further attempt
/// waits, twice as long after every failure (30 s, 1 min, 2 min … at most 15 min), so that
/// guessing a password takes years, not hours; a login that succeeds ends the run. The
/// wait is answered without checking the password (429, `Retry-After`). Per process: each
/// node counts its own.
mod throttle {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    use std::time::{Duration, Instant};

    /// Failed logins in a row that cost nothing.
    pub const FREE_TRIES: u32 = 5;
    const FIRST_WAIT: Duration = Duration::from_secs(30);
    const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
    /// Names tracked at most (the oldest runs are forgotten beyond this).
    const MAX_NAMES: usize = 10_000;

    static RUNS: LazyLock<Mutex<HashMap<String, (u32, Instant)>>> = LazyLock::new(Default::default);

    fn key(name: &str) -> String {
        name.trim().to_lowercase()
    }

    /// How long `name` must still wait, if it must.
    pub fn waiting(name: &str) -> Option<Duration> {
        let runs = RUNS.lock().expect("login throttle lock");
        let (_, until) = runs.get(&key(name))?;
        until.checked_duration_since(Instant::now())
    }

    pub fn failed(name: &str) {
        let mut runs = RUNS.lock().expect("login throttle lock");
        if runs.len() >= MAX_NAMES {
            let now = Instant::now();
            runs.retain(|_, (_, until)| *until > now);
        }
        let entry = runs.entry(key(name)).or_insert((0, Instant::now()));
        entry.0 += 1;
        if entry.0 >= FREE_TRIES {
            let doublings = (entry.0 - FREE_TRIES).min(16);
            let wait = FIRST_WAIT.saturating_mul(1 << doublings).min(LONGEST_WAIT);
            entry.1 = Instant::now() + wait;
        }
    }

    pub fn succeeded(name: &str) {
        RUNS.lock().expect("login throttle lock").remove(&key(name));
    }
}
