//! OIDC bearer tokens: access tokens (JWTs) of one configured OpenID Connect issuer,
//! usually Keycloak, checked against the issuer's published keys (JWKS).
//!
//! A token is accepted when its signature verifies with a key of the issuer's JWKS (RSA,
//! RSA-PSS, ECDSA P-256/P-384 or Ed25519; never `none` or a shared secret, so a public key
//! cannot be abused as an HMAC secret), its `iss` is the configured issuer, its `aud`
//! names the configured audience, and `exp`/`nbf` hold within the leeway. Its claims become
//! a [`Principal`]: roles through `role_map`, units and login name from configurable claims.
//!
//! The keys are fetched lazily, cached for [`KEYS_TTL`], and fetched again when a token
//! names a key id (`kid`) that is not in the cache (the issuer rotated its keys), but never
//! more often than once per [`MIN_REFETCH`], so that tokens with invented key ids cannot
//! make Akte hammer the issuer. The HTTP client talks only to the configured JWKS URL, or
//! to `<issuer>/.well-known/openid-configuration` and the `jwks_uri` it names when that is
//! on the issuer's own origin; it follows no redirect and uses no proxy (no other outbound
//! connection, see the sovereignty rules).
//!
//! **Issuer unreachable:** when the keys that a token needs cannot be fetched, the answer
//! is 503 (`unavailable`), not 401. The token may well be valid; a 401 would make clients
//! throw it away and send people to log in again, which cannot help while the identity
//! provider is down, whereas a 503 says "try again later" and shows up in monitoring as an
//! outage. Tokens whose key is already cached keep working during the outage (the cache is
//! kept until a fetch succeeds). Everything else wrong with a token is a 401.

use std::{
    sync::RwLock,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation, errors::ErrorKind, jwk};
use reqwest_jwks as reqwest;
use serde_json::{Map, Value};

use super::{auth::Principal, config::OidcConfig, config::ROLES, problem::ApiError};

/// How long fetched keys are used before they are fetched again.
pub const KEYS_TTL: Duration = Duration::from_secs(600);
/// The shortest time between two fetches of the keys, whatever tokens arrive.
pub const MIN_REFETCH: Duration = Duration::from_secs(30);
/// The longest bearer token that is parsed at all.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// The largest discovery document or JWKS read from the issuer.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// The most keys taken from one JWKS.
const MAX_KEYS: usize = 64;
/// The signature algorithms accepted (asymmetric only).
const ACCEPTED: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Checks that a URL Akte will fetch is `https://`, or `http://` on the loopback interface
/// (or anywhere when `allow_http` is set).
pub fn check_url(url: &str, allow_http: bool) -> Result<()> {
    let u = reqwest::Url::parse(url).with_context(|| format!("The OIDC URL {url:?} is not a URL"))?;
    let Some(host) = u.host_str() else {
        bail!("The OIDC URL {url:?} names no host");
    };
    let ip = host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>();
    let loopback = host.eq_ignore_ascii_case("localhost") || ip.is_ok_and(|a| a.is_loopback());
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback || allow_http => Ok(()),
        "http" => bail!(
            "The OIDC URL {url} uses http:// on another host than the loopback interface; use https:// \
             (or set allow_http = true in [oidc] if the network is trusted)"
        ),
        other => bail!("The OIDC URL {url} has the scheme {other}; use https://"),
    }
}

/// One signing key of the issuer.
struct Key {
    kid: Option<String>,
    /// The one algorithm this key may verify, when the JWK names it or its curve fixes it.
    alg: Option<Algorithm>,
    family: AlgorithmFamily,
    key: DecodingKey,
}

impl Key {
    fn fits(&self, alg: Algorithm) -> bool {
        self.family == alg.family() && self.alg.is_none_or(|a| a == alg)
    }
}

/// The cached keys.
#[derive(Default)]
struct Keys {
    keys: Vec<Key>,
    /// When the keys were last fetched successfully.
    fetched: Option<Instant>,
    /// Whether the last attempt to fetch failed.
    failing: bool,
}

/// Fetch bookkeeping, behind an async lock so that one fetch runs at a time.
#[derive(Default)]
struct Fetch {
    last_attempt: Option<Instant>,
    /// The `jwks_uri` found by discovery.
    discovered: Option<String>,
}

/// Checks OIDC access tokens of the configured issuer and turns them into principals.
pub struct Verifier {
    config: OidcConfig,
    http: reqwest::Client,
    keys: RwLock<Keys>,
    fetch: tokio::sync::Mutex<Fetch>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").field("issuer", &self.config.issuer).finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for this configuration; fetches nothing yet.
    pub fn new(config: OidcConfig) -> Result<Verifier> {
        let mut http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5))
            .user_agent(concat!("akte/", env!("CARGO_PKG_VERSION")));
        let https = config.jwks_url.as_deref().unwrap_or(&config.issuer).starts_with("https:");
        if let Some(path) = &config.ca_file {
            let pem =
                std::fs::read(path).with_context(|| format!("Cannot read the OIDC ca_file {}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .ok()
                .filter(|c| !c.is_empty())
                .with_context(|| format!("The OIDC ca_file {} holds no PEM certificate", path.display()))?;
            http = http.tls_certs_only(certs);
        } else if !https {
            // Plain http only (the loopback interface): no need for the system's trust store.
            http = http.tls_certs_only([]);
        }
        let http = http.build().map_err(|e| {
            anyhow::anyhow!(
                "Cannot set up the HTTPS client for the OIDC issuer ({:#}); set ca_file in [oidc] to the issuer's CA",
                anyhow::Error::from(e)
            )
        })?;
        Ok(Verifier { config, http, keys: RwLock::default(), fetch: tokio::sync::Mutex::default() })
    }

    /// Checks a bearer token and returns its principal; every rejection is a 401 with one
    /// sentence, except an unreachable issuer (503, see the module documentation).
    pub async fn principal(&self, token: &str) -> Result<Principal, ApiError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(ApiError::unauthenticated("The bearer token is too long"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| {
            ApiError::unauthenticated(
                "The bearer token is neither an Akte API token nor a JWT signed with an accepted algorithm",
            )
        })?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(ApiError::unauthenticated(format!(
                "The token is signed with {:?}, which is not accepted; the issuer must sign with RS256, ES256 or \
                 another public-key algorithm",
                header.alg
            )));
        }
        let key = self.key_for(header.kid.as_deref(), header.alg).await?;
        let mut v = Validation::new(header.alg);
        v.leeway = self.config.leeway_secs;
        v.validate_exp = true;
        v.validate_nbf = true;
        v.validate_aud = true;
        v.set_issuer(&[&self.config.issuer]);
        v.set_audience(&[&self.config.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v).map_err(|e| rejected(&e))?;
        self.principal_of(&data.claims)
    }

    /// The key that verifies a token with this `kid` and algorithm, fetching the keys when
    /// they are old or do not have it.
    async fn key_for(&self, kid: Option<&str>, alg: Algorithm) -> Result<DecodingKey, ApiError> {
        let (found, fresh) = self.lookup(kid, alg)?;
        if let Some(k) = found {
            if !fresh {
                // Old keys still work; refresh them unless another request already does.
                if let Ok(mut fetch) = self.fetch.try_lock() {
                    self.refresh(&mut fetch).await;
                }
                if let (Some(k), _) = self.lookup(kid, alg)? {
                    return Ok(k);
                }
                return Err(self.no_key(kid));
            }
            return Ok(k);
        }
        {
            let mut fetch = self.fetch.lock().await;
            self.refresh(&mut fetch).await;
        }
        match self.lookup(kid, alg)? {
            (Some(k), _) => Ok(k),
            (None, _) => Err(self.no_key(kid)),
        }
    }

    /// The answer when no key fits: 503 while the issuer cannot be reached, else 401.
    fn no_key(&self, kid: Option<&str>) -> ApiError {
        let keys = self.keys.read().expect("keys lock");
        if keys.failing {
            ApiError::unavailable("The identity provider's signing keys cannot be fetched just now; try again later")
        } else if kid.is_some() {
            ApiError::unauthenticated("The token is signed with a key that the identity provider does not publish")
        } else {
            ApiError::unauthenticated("The token names no key (kid) and no single key of the identity provider fits")
        }
    }

    /// Looks the key up in the cache: (the key, whether the cache is fresh). A key with the
    /// right id but for another algorithm is a 401.
    fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Result<(Option<DecodingKey>, bool), ApiError> {
        let keys = self.keys.read().expect("keys lock");
        let fresh = keys.fetched.is_some_and(|t| t.elapsed() < KEYS_TTL);
        let found = match kid {
            Some(kid) => {
                let mut named = keys.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).peekable();
                if named.peek().is_none() {
                    None
                } else if let Some(k) = named.find(|k| k.fits(alg)) {
                    Some(k.key.clone())
                } else {
                    return Err(ApiError::unauthenticated(format!(
                        "The token's algorithm {alg:?} does not match the key it names"
                    )));
                }
            }
            None => {
                let mut fitting = keys.keys.iter().filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(k), None) => Some(k.key.clone()),
                    _ => None,
                }
            }
        };
        Ok((found, fresh))
    }

    /// Fetches the keys unless the last attempt was less than [`MIN_REFETCH`] ago. On
    /// failure the old keys stay.
    async fn refresh(&self, fetch: &mut Fetch) {
        if fetch.last_attempt.is_some_and(|t| t.elapsed() < MIN_REFETCH) {
            return;
        }
        fetch.last_attempt = Some(Instant::now());
        match self.fetch_keys(fetch).await {
            Ok(new) => {
                tracing::info!(issuer = %self.config.issuer, keys = new.len(), "fetched the OIDC signing keys");
                let mut keys = self.keys.write().expect("keys lock");
                *keys = Keys { keys: new, fetched: Some(Instant::now()), failing: false };
            }
            Err(e) => {
                // Discover again next time: the issuer may have moved its keys.
                fetch.discovered = None;
                tracing::warn!(issuer = %self.config.issuer, error = %format!("{e:#}"), "cannot fetch the OIDC signing keys");
                self.keys.write().expect("keys lock").failing = true;
            }
        }
    }

    async fn fetch_keys(&self, fetch: &mut Fetch) -> Result<Vec<Key>> {
        let url = match (&self.config.jwks_url, &fetch.discovered) {
            (Some(u), _) | (None, Some(u)) => u.clone(),
            (None, None) => {
                let u = self.discover().await?;
                fetch.discovered = Some(u.clone());
                u
            }
        };
        let doc = self.get_json(&url).await?;
        let Some(list) = doc.get("keys").and_then(Value::as_array) else {
            bail!("{url} is not a JWKS (it has no keys array)");
        };
        let keys: Vec<Key> = list.iter().filter_map(key_of).take(MAX_KEYS).collect();
        if keys.is_empty() {
            bail!("{url} publishes no signing key that Akte can use");
        }
        Ok(keys)
    }

    /// Reads `jwks_uri` from the issuer's discovery document; it must be on the issuer's
    /// own origin.
    async fn discover(&self) -> Result<String> {
        let issuer = self.config.issuer.trim_end_matches('/');
        let url = format!("{issuer}/.well-known/openid-configuration");
        check_url(&url, self.config.allow_http)?;
        let doc = self.get_json(&url).await?;
        if doc.get("issuer").and_then(Value::as_str) != Some(self.config.issuer.as_str()) {
            bail!("the discovery document {url} names another issuer than {}", self.config.issuer);
        }
        let jwks = doc.get("jwks_uri").and_then(Value::as_str).with_context(|| format!("{url} names no jwks_uri"))?;
        let (a, b) = (reqwest::Url::parse(&url)?, reqwest::Url::parse(jwks).context("jwks_uri is not a URL")?);
        if a.origin() != b.origin() {
            bail!("the jwks_uri {jwks} is not on the issuer's host; set jwks_url in [oidc] to allow it");
        }
        check_url(jwks, self.config.allow_http)?;
        Ok(jwks.to_string())
    }

    async fn get_json(&self, url: &str) -> Result<Value> {
        let mut r = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .with_context(|| format!("{url} cannot be reached"))?;
        if !r.status().is_success() {
            bail!("{url} answered {}", r.status());
        }
        let mut body = Vec::new();
        while let Some(chunk) = r.chunk().await.with_context(|| format!("reading {url} failed"))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT_BYTES {
                bail!("{url} sent more than {MAX_DOCUMENT_BYTES} bytes");
            }
        }
        serde_json::from_slice(&body).with_context(|| format!("{url} did not send JSON"))
    }

    /// The principal of verified claims.
    fn principal_of(&self, claims: &Map<String, Value>) -> Result<Principal, ApiError> {
        let c = &self.config;
        // Keycloak marks its ID and refresh tokens; only access tokens authorise API calls.
        if let Some(typ @ ("ID" | "Refresh" | "Logout")) = claims.get("typ").and_then(Value::as_str) {
            return Err(ApiError::unauthenticated(format!("The token is a Keycloak {typ} token, not an access token")));
        }
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| usable(s))
            .ok_or_else(|| ApiError::unauthenticated("The token's sub claim is empty or not a string"))?;
        let login = match claim(claims, &c.name_claim) {
            None | Some(Value::Null) => sub,
            Some(v) => v.as_str().filter(|s| usable(s)).ok_or_else(|| {
                ApiError::unauthenticated(format!("The token's {} claim is not a usable login name", c.name_claim))
            })?,
        };
        let mut roles: Vec<String> = strings(claim(claims, &c.roles_claim))
            .into_iter()
            .filter_map(|r| match c.role_map.get(r) {
                Some(to) => Some(to.clone()),
                None => ROLES.contains(&r).then(|| r.to_string()),
            })
            .collect();
        roles.sort();
        roles.dedup();
        let mut units: Vec<String> = strings(claim(claims, &c.units_claim))
            .into_iter()
            // Keycloak's group mapper writes full paths (`/Bauamt`) unless told otherwise.
            .map(|u| u.strip_prefix('/').unwrap_or(u).to_string())
            .filter(|u| usable(u))
            .collect();
        units.sort();
        units.dedup();
        let name = claims.get("name").and_then(Value::as_str).filter(|s| usable(s)).unwrap_or(login);
        Ok(Principal {
            id: format!("oidc:{}#{sub}", c.issuer),
            actor: format!("oidc:{login}"),
            name: name.to_string(),
            roles,
            units,
            user: Some(login.to_string()),
        })
    }
}

/// A signing key from one JWK, or `None` for keys Akte does not use (encryption keys,
/// shared secrets, unsupported curves or algorithms).
fn key_of(v: &Value) -> Option<Key> {
    let jwk: jwk::Jwk = serde_json::from_value(v.clone()).ok()?;
    if matches!(jwk.common.public_key_use, Some(jwk::PublicKeyUse::Encryption | jwk::PublicKeyUse::Other(_))) {
        return None;
    }
    let named = match jwk.common.key_algorithm {
        None => None,
        Some(a) => Some(Algorithm::try_from(a).ok().filter(|a| ACCEPTED.contains(a))?),
    };
    let (family, by_curve) = match &jwk.algorithm {
        jwk::AlgorithmParameters::RSA(_) => (AlgorithmFamily::Rsa, None),
        jwk::AlgorithmParameters::EllipticCurve(p) => match p.curve {
            jwk::EllipticCurve::P256 => (AlgorithmFamily::Ec, Some(Algorithm::ES256)),
            jwk::EllipticCurve::P384 => (AlgorithmFamily::Ec, Some(Algorithm::ES384)),
            _ => return None,
        },
        jwk::AlgorithmParameters::OctetKeyPair(p) if p.curve == jwk::EllipticCurve::Ed25519 => {
            (AlgorithmFamily::Ed, Some(Algorithm::EdDSA))
        }
        _ => return None,
    };
    if let (Some(a), Some(b)) = (named, by_curve)
        && a != b
    {
        return None;
    }
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    if key.family() != family {
        return None;
    }
    Some(Key { kid: jwk.common.key_id, alg: named.or(by_curve), family, key })
}

/// The sentence for a token that failed validation.
fn rejected(e: &jsonwebtoken::errors::Error) -> ApiError {
    ApiError::unauthenticated(match e.kind() {
        ErrorKind::ExpiredSignature => "The token has expired".to_string(),
        ErrorKind::ImmatureSignature => "The token is not valid yet (nbf)".to_string(),
        ErrorKind::InvalidIssuer => "The token was issued by another issuer than the configured one".to_string(),
        ErrorKind::InvalidAudience => "The token is meant for another audience than Akte".to_string(),
        ErrorKind::InvalidSignature => "The token's signature does not verify".to_string(),
        ErrorKind::InvalidAlgorithm => "The token's algorithm does not match its key".to_string(),
        ErrorKind::MissingRequiredClaim(c) => format!("The token lacks the {c} claim"),
        _ => "The bearer token is not a valid JWT".to_string(),
    })
}

/// Whether a claim value can name a person, unit or subject: one line of at most 180 bytes
/// (the history names the caller `oidc:<login>`, and a read record holds 200).
fn usable(s: &str) -> bool {
    !s.trim().is_empty() && s.len() <= 180 && !s.chars().any(char::is_control)
}

/// The claim at a dotted path. A key that itself contains dots (a Keycloak client id in
/// `resource_access.<client>.roles`) is found too.
fn claim<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    path.match_indices('.').find_map(|(i, _)| match obj.get(&path[..i]) {
        Some(Value::Object(inner)) => claim(inner, &path[i + 1..]),
        _ => None,
    })
}

/// A claim as a list of strings: an array of strings, or one string.
fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_paths() {
        let v: Value = serde_json::json!({
            "realm_access": {"roles": ["a", "b"]},
            "resource_access": {"akte.example": {"roles": ["c"]}},
            "groups": "/Bauamt",
        });
        let m = v.as_object().unwrap();
        assert_eq!(strings(claim(m, "realm_access.roles")), ["a", "b"]);
        assert_eq!(strings(claim(m, "resource_access.akte.example.roles")), ["c"]);
        assert_eq!(strings(claim(m, "groups")), ["/Bauamt"]);
        assert!(claim(m, "realm_access.missing").is_none());
        assert!(claim(m, "groups.x").is_none());
    }

    #[test]
    fn urls() {
        assert!(check_url("https://idp.example/realms/akte", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080/realms/akte", false).is_ok());
        assert!(check_url("http://localhost/realms/akte", false).is_ok());
        assert!(check_url("http://[::1]:9/x", false).is_ok());
        assert!(check_url("http://idp.example/realms/akte", false).is_err());
        assert!(check_url("http://idp.example/realms/akte", true).is_ok());
        assert!(check_url("ftp://idp.example/", true).is_err());
        assert!(check_url("not a url", false).is_err());
    }
}
