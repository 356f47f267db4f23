//! OIDC bearer tokens end to end: a test issuer on 127.0.0.1 (discovery document and JWKS,
//! keys generated per run) signs access tokens the way Keycloak does, and a real
//! `akte serve` accepts the good ones (roles, units, name, history actor, per-user grants),
//! refuses every kind of bad one with a 401 problem, answers 503 while the issuer cannot be
//! reached, fetches the keys again for a rotated key (at most once per 30 s), talks
//! `https://` only to an issuer whose certificate it trusts, and refuses bad `[oidc]`
//! configurations.

mod common;

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use common::{Server, akte_cmd, assert_problem, client, init_repo, token};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const AUDIENCE: &str = "akte";

/// A signing key of the test issuer.
struct TestKey {
    kid: String,
    alg: Algorithm,
    signing: EncodingKey,
    jwk: Value,
    /// The public key as PEM (for the key-confusion attack).
    public_pem: String,
}

fn rsa_key(kid: &str) -> TestKey {
    use rsa::{
        pkcs1::EncodeRsaPrivateKey,
        pkcs8::{EncodePublicKey, LineEnding},
        traits::PublicKeyParts,
    };
    let sk = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).expect("RSA key");
    let pk = sk.to_public_key();
    TestKey {
        kid: kid.into(),
        alg: Algorithm::RS256,
        signing: EncodingKey::from_rsa_der(sk.to_pkcs1_der().expect("PKCS#1").as_bytes()),
        jwk: json!({
            "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
            "n": B64.encode(pk.n().to_bytes_be()), "e": B64.encode(pk.e().to_bytes_be()),
        }),
        public_pem: pk.to_public_key_pem(LineEnding::LF).expect("PEM"),
    }
}

fn ec_key(kid: &str) -> TestKey {
    use p256::{
        elliptic_curve::sec1::ToEncodedPoint,
        pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
    };
    let sk = p256::SecretKey::random(&mut rand_core::OsRng);
    let point = sk.public_key().to_encoded_point(false);
    TestKey {
        kid: kid.into(),
        alg: Algorithm::ES256,
        signing: EncodingKey::from_ec_der(sk.to_pkcs8_der().expect("PKCS#8").as_bytes()),
        jwk: json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": B64.encode(point.x().expect("x")), "y": B64.encode(point.y().expect("y")),
        }),
        public_pem: sk.public_key().to_public_key_pem(LineEnding::LF).expect("PEM"),
    }
}

/// TLS for the test issuer: a CA made for this run and a certificate for `localhost`.
struct Tls {
    ca_pem: String,
    config: Arc<tokio_rustls::rustls::ServerConfig>,
}

fn tls() -> Tls {
    use tokio_rustls::rustls::{
        self,
        pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer},
    };
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Akte test CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().expect("key")).expect("CA");
    let leaf_key = rcgen::KeyPair::generate().expect("key");
    let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .expect("params")
        .signed_by(&leaf_key, &ca)
        .expect("certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .expect("server config");
    Tls { ca_pem: ca.pem(), config: Arc::new(config) }
}

/// Accepts TLS connections for axum (the handshake done in `accept`, fine for a test).
struct TlsListener {
    tcp: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else { continue };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A Keycloak-like issuer at `http://127.0.0.1:PORT/realms/akte` (or
/// `https://localhost:PORT/realms/akte` with TLS); stops on drop.
struct Issuer {
    url: String,
    keys: Arc<Mutex<Vec<Value>>>,
    jwks_hits: Arc<AtomicUsize>,
    _rt: tokio::runtime::Runtime,
}

impl Issuer {
    fn start(keys: &[&TestKey]) -> Issuer {
        Issuer::start_with(keys, None)
    }

    fn start_with(keys: &[&TestKey], tls: Option<&Tls>) -> Issuer {
        use axum::{Json, routing::get};
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let url = match tls {
            Some(_) => format!("https://localhost:{}/realms/akte", addr.port()),
            None => format!("http://{addr}/realms/akte"),
        };
        let keys = Arc::new(Mutex::new(keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()));
        let jwks_hits = Arc::new(AtomicUsize::new(0));
        let discovery = json!({
            "issuer": url,
            "jwks_uri": format!("{url}/protocol/openid-connect/certs"),
            "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        });
        let (k, h) = (keys.clone(), jwks_hits.clone());
        let router = axum::Router::new()
            .route("/realms/akte/.well-known/openid-configuration", get(move || async move { Json(discovery) }))
            .route(
                "/realms/akte/protocol/openid-connect/certs",
                get(move || async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    // Keycloak also publishes an encryption key; Akte must skip it.
                    let mut list = k.lock().expect("keys").clone();
                    list.push(json!({"kty": "RSA", "kid": "enc-1", "use": "enc", "alg": "RSA-OAEP", "n": "sXch", "e": "AQAB"}));
                    Json(json!({ "keys": list }))
                }),
            );
        match tls {
            Some(t) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(t.config.clone());
                let listener = TlsListener { tcp: listener, acceptor };
                rt.spawn(async move { axum::serve(listener, router).await.expect("issuer serves") })
            }
            None => rt.spawn(async move { axum::serve(listener, router).await.expect("issuer serves") }),
        };
        Issuer { url, keys, jwks_hits, _rt: rt }
    }

    fn publish(&self, key: &TestKey) {
        self.keys.lock().expect("keys").push(key.jwk.clone());
    }

    fn hits(&self) -> usize {
        self.jwks_hits.load(Ordering::SeqCst)
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// Claims as Keycloak puts them in an access token, with `extra` replacing top-level keys.
fn claims(iss: &str, extra: Value) -> Value {
    let mut c = json!({
        "iss": iss,
        "aud": [AUDIENCE, "account"],
        "sub": "6f1c2b7e-0d4a-4a57-9c1e-2f8d3b5a7c90",
        "azp": "akte-web",
        "exp": now() + 300,
        "iat": now(),
        "typ": "Bearer",
        "preferred_username": "erika",
        "name": "Erika Mustermann",
        "realm_access": {"roles": ["akte-sachbearbeitung", "offline_access", "uma_authorization"]},
        "groups": ["/Bauamt", "/Bauamt/61"],
    });
    for (k, v) in extra.as_object().expect("object") {
        c[k] = v.clone();
    }
    c
}

fn sign(key: &TestKey, claims: &Value) -> String {
    let mut h = Header::new(key.alg);
    h.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&h, claims, &key.signing).expect("sign")
}

/// A token with a header of our own making (for `alg: none` and friends).
fn unsigned(header: Value, claims: &Value) -> String {
    let part = |v: &Value| B64.encode(serde_json::to_vec(v).expect("json"));
    format!("{}.{}.", part(&header), part(claims))
}

/// Starts `akte serve --config FILE` (extraction off); no OIDC settings from the environment.
fn serve_with_config(data: &Path, config: &Path) -> Server {
    let log = data.with_extension("serve.log");
    let mut child = akte_cmd(data.parent().expect("parent"))
        .args(["--data", data.to_str().expect("utf-8"), "--json", "serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .env("AKTE_SYNC_INTERVAL_MS", "200")
        .env("AKTE_INGEST", "off")
        .env_remove("AKTE_OIDC_ISSUER")
        .env_remove("AKTE_OIDC_AUDIENCE")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("akte serve starts");
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
    let Ok(addr) = rx.recv_timeout(Duration::from_secs(120)) else {
        let _ = child.kill();
        panic!("akte serve did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
    };
    Server { child, base: format!("http://{addr}"), data: data.to_path_buf(), log }
}

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("akte.toml");
    std::fs::write(&p, text).expect("write config");
    p
}

fn me(c: &reqwest::blocking::Client, s: &Server, bearer: &str) -> reqwest::blocking::Response {
    c.get(s.url("/me")).bearer_auth(bearer).send().expect("GET /me")
}

#[test]
fn oidc_tokens_are_checked_and_mapped() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    let (rsa, ec) = (rsa_key("rsa-1"), ec_key("ec-1"));
    let issuer = Issuer::start(&[&rsa, &ec]);
    let config = write_config(
        tmp.path(),
        &format!(
            "[oidc]\nissuer = \"{}\"\naudience = \"{AUDIENCE}\"\n\n[oidc.role_map]\n\"akte-sachbearbeitung\" = \"clerk\"\n\"akte-leitung\" = \"admin\"\n",
            issuer.url
        ),
    );
    let s = serve_with_config(&data, &config);
    let c = client();
    let iss = issuer.url.as_str();

    // A valid RS256 token: roles through role_map (unmapped IdP roles dropped), units
    // from `groups` without Keycloak's leading slash, the display name from `name`.
    let erika = sign(&rsa, &claims(iss, json!({})));
    let r = me(&c, &s, &erika);
    assert_eq!(r.status(), 200);
    let v: Value = r.json().unwrap();
    assert_eq!(
        v,
        json!({"actor": "oidc:erika", "name": "Erika Mustermann", "roles": ["clerk"], "units": ["Bauamt", "Bauamt/61"]})
    );
    assert_eq!(issuer.hits(), 1, "the keys were fetched once, through discovery");

    // As clerk she creates an Akte; the history names her.
    let r = c
        .post(s.url("/akten"))
        .bearer_auth(&erika)
        .json(&json!({"aktenzeichen": "61.1-7/2026", "title": "Bauantrag Lindenweg"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let akte = r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let h: Value = c.get(s.url(&format!("/akten/{akte}/history"))).bearer_auth(&erika).send().unwrap().json().unwrap();
    let created = h.as_array().unwrap().iter().find(|e| e["action"] == "create").expect("a create entry");
    assert_eq!(created["actor"], "oidc:erika", "{h}");

    // An ES256 token works the same; per-user grants `user:<login>` apply to OIDC users.
    let r = c
        .post(s.url("/akten"))
        .bearer_auth(&admin)
        .json(&json!({"aktenzeichen": "61.1-8/2026", "title": "Nur für Max", "access": {"users": ["max"]}}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let private = r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    let max = sign(&ec, &claims(iss, json!({"sub": "max-sub", "preferred_username": "max", "name": "Max Muster"})));
    let r = me(&c, &s, &max);
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["actor"], "oidc:max");
    assert_eq!(c.get(s.url(&format!("/akten/{private}"))).bearer_auth(&max).send().unwrap().status(), 200);
    assert_problem(c.get(s.url(&format!("/akten/{private}"))).bearer_auth(&erika).send().unwrap(), 404, "not-found");

    // A role that role_map does not know gives no rights: no reading, no writing.
    let guest = sign(&rsa, &claims(iss, json!({"realm_access": {"roles": ["besucher"]}})));
    let r = me(&c, &s, &guest);
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().unwrap()["roles"], json!([]));
    let r = c
        .post(s.url("/akten"))
        .bearer_auth(&guest)
        .json(&json!({"aktenzeichen": "61.1-9/2026", "title": "Darf nicht"}))
        .send()
        .unwrap();
    assert_problem(r, 403, "forbidden");
    // An IdP role named like an Akte role counts as it is.
    let reader = sign(&rsa, &claims(iss, json!({"realm_access": {"roles": ["reader", "akte-leitung"]}})));
    assert_eq!(me(&c, &s, &reader).json::<Value>().unwrap()["roles"], json!(["admin", "reader"]));

    // Every bad token is a 401 problem with one sentence.
    let stranger = rsa_key("rsa-1");
    let bad: Vec<(&str, String)> = vec![
        ("wrong issuer", sign(&rsa, &claims("http://127.0.0.1:1/realms/other", json!({})))),
        ("wrong audience", sign(&rsa, &claims(iss, json!({"aud": "other-client"})))),
        ("no audience", sign(&rsa, &claims(iss, json!({"aud": null})))),
        ("expired", sign(&rsa, &claims(iss, json!({"exp": now() - 3600, "iat": now() - 7200})))),
        ("not yet valid", sign(&rsa, &claims(iss, json!({"nbf": now() + 3600})))),
        ("no subject", sign(&rsa, &claims(iss, json!({"sub": ""})))),
        ("an ID token", sign(&rsa, &claims(iss, json!({"typ": "ID"})))),
        ("bad signature", sign(&stranger, &claims(iss, json!({})))),
        ("alg none", unsigned(json!({"alg": "none", "typ": "JWT", "kid": "rsa-1"}), &claims(iss, json!({})))),
        ("HS256 with the public key", {
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some("rsa-1".into());
            jsonwebtoken::encode(&h, &claims(iss, json!({})), &EncodingKey::from_secret(rsa.public_pem.as_bytes()))
                .unwrap()
        }),
        ("HS256 with the EC public key", {
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some("ec-1".into());
            jsonwebtoken::encode(&h, &claims(iss, json!({})), &EncodingKey::from_secret(ec.public_pem.as_bytes()))
                .unwrap()
        }),
        ("ES256 on the RSA key's id", sign(&ec_key("rsa-1"), &claims(iss, json!({})))),
        ("the encryption key's id", sign(&rsa_key("enc-1"), &claims(iss, json!({})))),
        ("unknown kid", sign(&rsa_key("rsa-2"), &claims(iss, json!({})))),
        ("garbage", "not.a.jwt".into()),
        ("garbage without dots", "eyJhbGciOiJSUzI1NiJ9".into()),
        ("too long", "a".repeat(20_000)),
    ];
    for (what, t) in &bad {
        let r = me(&c, &s, t);
        assert_eq!(r.status(), 401, "{what}");
        let detail = assert_problem(r, 401, "unauthenticated");
        eprintln!("{what}: {detail}");
    }

    // Tokens with invented key ids do not make Akte hammer the issuer: at most one fetch
    // per 30 s whatever arrives.
    let before = issuer.hits();
    for i in 0..20 {
        let t = sign(&ec_key(&format!("invented-{i}")), &claims(iss, json!({})));
        assert_problem(me(&c, &s, &t), 401, "unauthenticated");
    }
    assert!(issuer.hits() - before <= 1, "{} fetches for 20 unknown key ids", issuer.hits() - before);
    // The good token still works and the server is healthy.
    assert_eq!(me(&c, &s, &erika).status(), 200);
    assert_eq!(c.get(format!("{}/healthz", s.base)).send().unwrap().status(), 200);
}

#[test]
fn unreachable_issuer_is_503_and_the_server_keeps_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let admin = token(&data, "admin", "test-admin", &[]);
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let iss = format!("http://127.0.0.1:{port}/realms/akte");
    // Configured through the environment alone (defaults for everything else).
    let s = Server::start(&data, false, &[("AKTE_OIDC_ISSUER", &iss), ("AKTE_OIDC_AUDIENCE", AUDIENCE)]);
    let c = client();
    let key = ec_key("ec-1");
    let t = sign(&key, &claims(&iss, json!({})));
    for _ in 0..3 {
        let start = Instant::now();
        let detail = assert_problem(me(&c, &s, &t), 503, "unavailable");
        assert!(detail.contains("signing keys cannot be fetched"), "{detail}");
        assert!(start.elapsed() < Duration::from_secs(10), "the answer came quickly");
    }
    // A malformed token needs no keys: still 401.
    assert_problem(me(&c, &s, "not.a.jwt"), 401, "unauthenticated");
    // The server goes on serving.
    assert_eq!(c.get(format!("{}/healthz", s.base)).send().unwrap().status(), 200);
    assert_eq!(me(&c, &s, &admin).status(), 200);
}

#[test]
fn rotated_keys_are_fetched_again_at_most_every_30_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let (old, new) = (ec_key("2026-01"), rsa_key("2026-02"));
    let issuer = Issuer::start(&[&old]);
    // jwks_url given: no discovery.
    let config = write_config(
        tmp.path(),
        &format!(
            "[oidc]\nissuer = \"{0}\"\naudience = \"{AUDIENCE}\"\njwks_url = \"{0}/protocol/openid-connect/certs\"\n\
             roles_claim = \"resource_access.akte.web.roles\"\nunits_claim = \"org.units\"\nname_claim = \"login\"\n\
             leeway_secs = 5\n",
            issuer.url
        ),
    );
    let s = serve_with_config(&data, &config);
    let c = client();
    let extra = json!({
        "login": "k.schmidt",
        "resource_access": {"akte.web": {"roles": ["clerk", "akte-sachbearbeitung"]}},
        "org": {"units": "Umweltamt"},
    });
    let r = me(&c, &s, &sign(&old, &claims(&issuer.url, extra.clone())));
    let fetched = Instant::now();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"actor": "oidc:k.schmidt", "name": "Erika Mustermann", "roles": ["clerk"], "units": ["Umweltamt"]})
    );
    assert_eq!(issuer.hits(), 1);

    // The issuer rotates: a token with the new key arrives at once. Within 30 s of the last
    // fetch Akte does not ask again, so it is refused.
    issuer.publish(&new);
    let rotated = sign(&new, &claims(&issuer.url, extra));
    assert_problem(me(&c, &s, &rotated), 401, "unauthenticated");
    assert_eq!(issuer.hits(), 1, "no fetch within 30 s of the last one");

    // Leeway: 5 s configured, so a token expired 60 s ago is refused.
    let expired = sign(&old, &claims(&issuer.url, json!({"exp": now() - 60})));
    assert_problem(me(&c, &s, &expired), 401, "unauthenticated");

    // After 30 s the unknown key id makes Akte fetch the keys again and the token passes.
    std::thread::sleep(Duration::from_secs(31).saturating_sub(fetched.elapsed()));
    let r = me(&c, &s, &rotated);
    assert_eq!(r.status(), 200);
    assert_eq!(issuer.hits(), 2);
    // The old key is still published and still works, without another fetch.
    assert_eq!(me(&c, &s, &sign(&old, &claims(&issuer.url, json!({})))).status(), 200);
    assert_eq!(issuer.hits(), 2);
}

#[test]
fn https_issuer_needs_a_trusted_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    let (key, tls, other) = (ec_key("ec-1"), tls(), tls());
    let issuer = Issuer::start_with(&[&key], Some(&tls));
    let ca = common::write_file(tmp.path(), "ca.pem", tls.ca_pem.as_bytes());
    let other_ca = common::write_file(tmp.path(), "other-ca.pem", other.ca_pem.as_bytes());
    let t = sign(&key, &claims(&issuer.url, json!({})));
    let c = client();
    let with_ca = |ca: &Path| {
        write_config(
            tmp.path(),
            &format!(
                "[oidc]\nissuer = \"{}\"\naudience = \"{AUDIENCE}\"\nca_file = \"{}\"\n",
                issuer.url,
                ca.display()
            ),
        )
    };

    // The agency's CA given as ca_file: discovery and keys over https, the token passes.
    let s = serve_with_config(&data, &with_ca(&ca));
    assert_eq!(me(&c, &s, &t).status(), 200);
    assert_eq!(issuer.hits(), 1);
    drop(s);

    // The system's trust store (here SSL_CERT_FILE) works the same.
    let env = [
        ("AKTE_OIDC_ISSUER", issuer.url.as_str()),
        ("AKTE_OIDC_AUDIENCE", AUDIENCE),
        ("SSL_CERT_FILE", ca.to_str().unwrap()),
    ];
    let s = Server::start(&data, false, &env);
    assert_eq!(me(&c, &s, &t).status(), 200);
    assert_eq!(issuer.hits(), 2);
    drop(s);

    // A certificate from a CA Akte does not trust: no keys, 503, nothing fetched.
    let s = serve_with_config(&data, &with_ca(&other_ca));
    assert_problem(me(&c, &s, &t), 503, "unavailable");
    assert_eq!(issuer.hits(), 2);
}

#[test]
fn bad_configurations_are_refused_and_no_oidc_means_401() {
    let tmp = tempfile::tempdir().unwrap();
    let data = init_repo(tmp.path(), "a");
    for (what, text) in [
        (
            "unknown Akte role",
            "[oidc]\nissuer = \"https://idp.example/realms/a\"\naudience = \"akte\"\n[oidc.role_map]\nx = \"superuser\"\n",
        ),
        (
            "unknown key",
            "[oidc]\nissuer = \"https://idp.example/realms/a\"\naudience = \"akte\"\nclient_secret = \"x\"\n",
        ),
        ("no audience", "[oidc]\nissuer = \"https://idp.example/realms/a\"\n"),
        ("plain http to another host", "[oidc]\nissuer = \"http://idp.example/realms/a\"\naudience = \"akte\"\n"),
        (
            "bad claim path",
            "[oidc]\nissuer = \"https://idp.example/realms/a\"\naudience = \"akte\"\nroles_claim = \"a..b\"\n",
        ),
        (
            "missing CA file",
            "[oidc]\nissuer = \"https://idp.example/realms/a\"\naudience = \"akte\"\nca_file = \"/nonexistent/ca.pem\"\n",
        ),
    ] {
        let config = write_config(tmp.path(), text);
        let run = common::run(&data, &["serve", "--listen", "127.0.0.1:0", "--config", config.to_str().unwrap()]);
        eprintln!("{what}: {}", run.stderr.trim());
        run.fails_with_sentence();
    }

    // Without [oidc] a JWT is refused as before.
    let s = Server::start(&data, false, &[]);
    let t = sign(&ec_key("ec-1"), &claims("https://idp.example/realms/a", json!({})));
    assert_problem(me(&client(), &s, &t), 401, "unauthenticated");
}
