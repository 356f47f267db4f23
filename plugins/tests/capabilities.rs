//! What a plugin can reach: files, environment, arguments, sockets and stdin never; the
//! clocks only when its manifest grants `clock`.

mod common;

use akte_plugins::{Capability, Extraction, Manifest, Version, World};
use common::{host, wasm};

async fn probe(capabilities: Vec<Capability>) -> Extraction {
    let (_dir, host) = host();
    let mut manifest = Manifest::new("prober", Version::new(0, 1, 0), World::Extractor, &["*/*"]);
    manifest.capabilities = capabilities;
    let plugin = host.load(manifest, &wasm("hostile")).unwrap();
    plugin.extract(b"probe", "text/plain").await.unwrap().value
}

fn field<'a>(out: &'a Extraction, name: &str) -> &'a str {
    out.field(name).unwrap_or_else(|| panic!("no field {name} in {:?}", out.fields))
}

#[tokio::test]
async fn without_grants_everything_is_denied() {
    let out = probe(Vec::new()).await;
    for name in ["file", "dir", "write", "tcp", "dns"] {
        assert!(field(&out, name).starts_with("denied"), "{name}: {}", field(&out, name));
    }
    assert_eq!(field(&out, "env"), "0 variables; HOME=None");
    assert_eq!(field(&out, "args"), "0 arguments");
    assert_eq!(field(&out, "stdin"), "Ok(0), 0 bytes");
    assert_eq!(field(&out, "wall-clock-secs"), "0", "the wall clock reads 1970");
    assert_eq!(field(&out, "monotonic-elapsed-ns"), "0", "time cannot be measured");
    assert!(!std::path::Path::new("/tmp/akte-hostile-was-here").exists());
}

#[tokio::test]
async fn the_clock_grant_gives_real_time_and_nothing_else() {
    let out = probe(vec![Capability::Clock]).await;
    let now: u64 = field(&out, "wall-clock-secs").parse().unwrap();
    assert!(now > 1_700_000_000, "a real time: {now}");
    let elapsed: u64 = field(&out, "monotonic-elapsed-ns").parse().unwrap();
    assert!(elapsed > 0);
    for name in ["file", "dir", "write", "tcp", "dns"] {
        assert!(field(&out, name).starts_with("denied"), "{name}: {}", field(&out, name));
    }
}

#[test]
fn filesystem_and_network_cannot_be_granted() {
    for capability in ["filesystem", "network"] {
        let toml = format!(
            "name = \"p\"\nversion = \"1.0.0\"\nworld = \"extractor\"\nmedia-types = [\"*/*\"]\ncapabilities = [\"{capability}\"]"
        );
        let e = Manifest::from_toml(&toml).unwrap_err().to_string();
        assert!(e.contains(&format!("`{capability}` cannot be granted")), "{e}");
    }
}
