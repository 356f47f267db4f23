//! Server configuration: a TOML file (`akte serve --config FILE`), then `AKTE_*`
//! environment variables, then command-line flags, each overriding the one before.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// The server's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The largest document upload in bytes.
    pub max_upload_bytes: u64,
    /// The largest JSON body in bytes.
    pub max_json_bytes: usize,
    /// How long a request other than an upload or download may take.
    pub request_timeout: Duration,
    /// How many requests run at once; more wait, and past twice as many get 503.
    pub concurrency: usize,
    /// How often other nodes' entries are read.
    pub sync_interval: Duration,
    /// Log as JSON lines instead of text.
    pub log_json: bool,
    /// OIDC bearer tokens (`[oidc]`); `None` turns them off.
    pub oidc: Option<OidcConfig>,
    /// The agency that sends the xdomea messages of export jobs (`Absender/Institution`).
    pub institution: String,
}

/// The sender an xdomea message names when no agency is configured (`institution`,
/// `AKTE_INSTITUTION`, `--institution`).
pub const DEFAULT_INSTITUTION: &str = "Akte";

/// The roles Akte knows (what an IdP role can be mapped to).
pub const ROLES: [&str; 5] = ["admin", "clerk", "reader", "archivist", "service"];

/// How access tokens (JWTs) of an OpenID Connect issuer are accepted. The defaults fit
/// Keycloak: roles in `realm_access.roles`, units in `groups`, the login in
/// `preferred_username`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcConfig {
    /// The issuer, exactly as the tokens' `iss` claim names it.
    pub issuer: String,
    /// The audience the tokens must name in `aud` (Keycloak: add an audience mapper).
    pub audience: String,
    /// Where the signing keys are; `None`: the `jwks_uri` of
    /// `<issuer>/.well-known/openid-configuration`.
    pub jwks_url: Option<String>,
    /// Dotted path to the claim that holds the roles.
    pub roles_claim: String,
    /// IdP role → Akte role. An unmapped role counts only if it is itself an Akte role.
    pub role_map: BTreeMap<String, String>,
    /// Dotted path to the claim that holds the organisational units.
    pub units_claim: String,
    /// Dotted path to the claim that holds the login name (falls back to `sub`).
    pub name_claim: String,
    /// Clock skew allowed for `exp` and `nbf`.
    pub leeway_secs: u64,
    /// Allow `http://` for issuer and key URLs on other hosts than the loopback interface.
    pub allow_http: bool,
    /// PEM file with the only CA certificates trusted for the issuer's `https://` (an
    /// agency's own PKI); `None`: the system's trust store (`SSL_CERT_FILE` is honoured).
    pub ca_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".parse().expect("address parses"),
            max_upload_bytes: 16 << 30,
            max_json_bytes: 1 << 20,
            request_timeout: Duration::from_secs(60),
            concurrency: 256,
            sync_interval: Duration::from_secs(1),
            log_json: false,
            oidc: None,
            institution: DEFAULT_INSTITUTION.to_string(),
        }
    }
}

/// The TOML file's shape (every key optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    max_upload_bytes: Option<u64>,
    max_json_bytes: Option<usize>,
    request_timeout_secs: Option<u64>,
    concurrency: Option<usize>,
    sync_interval_ms: Option<u64>,
    log_format: Option<String>,
    institution: Option<String>,
    oidc: Option<OidcFile>,
}

/// The `[oidc]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcFile {
    issuer: Option<String>,
    audience: Option<String>,
    jwks_url: Option<String>,
    roles_claim: Option<String>,
    #[serde(default)]
    role_map: BTreeMap<String, String>,
    units_claim: Option<String>,
    name_claim: Option<String>,
    leeway_secs: Option<u64>,
    #[serde(default)]
    allow_http: bool,
    ca_file: Option<PathBuf>,
}

impl OidcFile {
    fn build(self) -> Result<OidcConfig> {
        let issuer = self.issuer.filter(|i| !i.trim().is_empty()).context(
            "The [oidc] configuration needs an issuer (the tokens' iss claim); set issuer or AKTE_OIDC_ISSUER",
        )?;
        let audience = self.audience.filter(|a| !a.trim().is_empty()).context(
            "The [oidc] configuration needs an audience (the tokens' aud claim); set audience or AKTE_OIDC_AUDIENCE",
        )?;
        for (from, to) in &self.role_map {
            if !ROLES.contains(&to.as_str()) {
                bail!("The OIDC role_map maps {from:?} to {to:?}, which is not one of {}", ROLES.join(", "));
            }
        }
        let c = OidcConfig {
            issuer,
            audience,
            jwks_url: self.jwks_url.filter(|u| !u.trim().is_empty()),
            roles_claim: self.roles_claim.unwrap_or_else(|| "realm_access.roles".into()),
            role_map: self.role_map,
            units_claim: self.units_claim.unwrap_or_else(|| "groups".into()),
            name_claim: self.name_claim.unwrap_or_else(|| "preferred_username".into()),
            leeway_secs: self.leeway_secs.unwrap_or(60),
            allow_http: self.allow_http,
            ca_file: self.ca_file,
        };
        for path in [&c.roles_claim, &c.units_claim, &c.name_claim] {
            if path.is_empty() || path.split('.').any(str::is_empty) {
                bail!("The OIDC claim path {path:?} is not a dotted path like realm_access.roles");
            }
        }
        match &c.jwks_url {
            Some(u) => super::oidc::check_url(u, c.allow_http)?,
            None => super::oidc::check_url(&c.issuer, c.allow_http)?,
        }
        Ok(c)
    }
}

impl Config {
    /// Reads the file (if any) and the environment.
    pub fn load(file: Option<&Path>) -> Result<Config> {
        let mut f: File = match file {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("Cannot read {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("The configuration {} is not valid", p.display()))?
            }
            None => File::default(),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let Some(v) = env("AKTE_LISTEN") {
            f.listen = Some(v);
        }
        if let Some(v) = env("AKTE_MAX_UPLOAD_BYTES") {
            f.max_upload_bytes = Some(v.parse().context("AKTE_MAX_UPLOAD_BYTES must be a number of bytes")?);
        }
        if let Some(v) = env("AKTE_CONCURRENCY") {
            f.concurrency = Some(v.parse().context("AKTE_CONCURRENCY must be a number")?);
        }
        if let Some(v) = env("AKTE_SYNC_INTERVAL_MS") {
            f.sync_interval_ms = Some(v.parse().context("AKTE_SYNC_INTERVAL_MS must be a number")?);
        }
        if let Some(v) = env("AKTE_LOG_FORMAT") {
            f.log_format = Some(v);
        }
        if let Some(v) = env("AKTE_INSTITUTION") {
            f.institution = Some(v);
        }
        if let Some(v) = env("AKTE_OIDC_ISSUER") {
            f.oidc.get_or_insert_with(OidcFile::default).issuer = Some(v);
        }
        if let Some(v) = env("AKTE_OIDC_AUDIENCE") {
            f.oidc.get_or_insert_with(OidcFile::default).audience = Some(v);
        }
        let mut c = Config::default();
        if let Some(l) = f.listen {
            c.listen = listen_address(&l)?;
        }
        if let Some(v) = f.max_upload_bytes {
            c.max_upload_bytes = v;
        }
        if let Some(v) = f.max_json_bytes {
            c.max_json_bytes = v;
        }
        if let Some(v) = f.request_timeout_secs {
            c.request_timeout = Duration::from_secs(v.max(1));
        }
        if let Some(v) = f.concurrency {
            if v == 0 {
                bail!("concurrency must be at least 1");
            }
            c.concurrency = v;
        }
        if let Some(v) = f.sync_interval_ms {
            c.sync_interval = Duration::from_millis(v.max(50));
        }
        match f.log_format.as_deref() {
            None | Some("text") => {}
            Some("json") => c.log_json = true,
            Some(other) => bail!("log_format {other:?} is unknown; use text or json"),
        }
        if let Some(v) = f.institution {
            c.institution = institution(&v)?;
        }
        c.oidc = f.oidc.map(OidcFile::build).transpose()?;
        Ok(c)
    }
}

/// An agency's name for the `Absender` of xdomea messages: one line of 1 to 200 characters.
pub fn institution(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        bail!("The institution (the agency that sends xdomea messages) must be one line of 1 to 200 characters");
    }
    Ok(name.to_string())
}

/// A listen address: an IP address and a port. A host name is refused with a hint, since
/// resolving one (`localhost`) could bind another interface than meant.
pub fn listen_address(text: &str) -> Result<std::net::SocketAddr> {
    text.trim().parse().map_err(|_| {
        anyhow::anyhow!(
            "The listen address {text:?} is not an IP address and a port, such as 127.0.0.1:8080 or [::1]:8080 (host names are not resolved)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::listen_address;

    #[test]
    fn a_listen_address_is_an_ip_and_a_port() {
        assert_eq!(listen_address(" 127.0.0.1:8080").unwrap().port(), 8080);
        assert!(listen_address("[::1]:0").is_ok());
        let e = listen_address("localhost:8080").unwrap_err().to_string();
        assert!(e.contains("not an IP address") && e.contains("host names are not resolved"), "{e}");
    }
}
