//! Manifest parsing: a valid manifest in full, and one clear error per kind of mistake.

use akte_plugins::{Capability, HostConfig, Manifest, ManifestError, PluginError, PluginHost, Version, World};

const FULL: &str = r#"
name = "windkraft"
version = "1.2.0-rc.1"
world = "enricher"
description = "Erkennt Unterlagen einer BImSchG-Genehmigung"
media-types = ["Text/*", "application/pdf"]
capabilities = ["clock"]

[limits]
memory-mib = 128
timeout-ms = 2500
max-output-bytes = 65536
max-fields = 32
"#;

#[test]
fn a_full_manifest_parses() {
    let m = Manifest::from_toml(FULL).unwrap();
    assert_eq!(m.name, "windkraft");
    assert_eq!(m.version, Version::parse("1.2.0-rc.1").unwrap());
    assert_eq!(m.world, World::Enricher);
    assert_eq!(m.media_types, vec!["text/*", "application/pdf"], "media types are lower-cased");
    assert!(m.grants(Capability::Clock));
    assert_eq!(
        (m.limits.memory_mib, m.limits.timeout_ms, m.limits.max_output_bytes, m.limits.max_fields),
        (128, 2500, 65536, 32)
    );
    assert!(m.handles("text/plain; charset=utf-8"));
}

/// Parses `FULL` with `from` replaced by `to` and returns the error message.
fn error(from: &str, to: &str) -> String {
    assert!(FULL.contains(from), "{from}");
    let e = Manifest::from_toml(&FULL.replace(from, to)).expect_err(to);
    e.to_string()
}

macro_rules! rejects {
    ($($test:ident: $from:expr => $to:expr, says $needle:expr;)*) => {$(
        #[test]
        fn $test() {
            let message = error($from, $to);
            assert!(message.contains($needle), "expected {:?} in: {message}", $needle);
        }
    )*};
}

rejects! {
    not_toml: "world = \"enricher\"" => "world = ", says "not valid";
    unknown_key: "memory-mib = 128" => "memroy-mib = 128", says "unknown field `memroy-mib`";
    unknown_top_level_key: "description" => "descripton", says "unknown field `descripton`";
    missing_name: "name = \"windkraft\"" => "", says "missing field `name`";
    bad_name: "name = \"windkraft\"" => "name = \"Windkraft Plugin\"", says "`name` must be 1 to 64 lowercase";
    bad_version: "1.2.0-rc.1" => "1.2", says "version";
    unknown_world: "world = \"enricher\"" => "world = \"extracter\"", says "unknown variant `extracter`";
    no_media_types: "[\"Text/*\", \"application/pdf\"]" => "[]", says "at least one media type";
    bad_media_type: "\"application/pdf\"" => "\"pdf\"", says "\"pdf\" is not a media type";
    media_type_with_parameters: "\"application/pdf\"" => "\"text/plain; charset=utf-8\"", says "is not a media type like";
    network: "[\"clock\"]" => "[\"network\"]", says "`network` cannot be granted";
    unknown_capability: "[\"clock\"]" => "[\"gpu\"]", says "unknown variant `gpu`";
    zero_memory: "memory-mib = 128" => "memory-mib = 0", says "`limits.memory-mib` must be 1 to 4096; got 0";
    huge_memory: "memory-mib = 128" => "memory-mib = 65536", says "`limits.memory-mib` must be 1 to 4096";
    negative_timeout: "timeout-ms = 2500" => "timeout-ms = -1", says "timeout-ms";
    long_timeout: "timeout-ms = 2500" => "timeout-ms = 3600000", says "`limits.timeout-ms` must be 1 to 600000";
    wrong_type: "max-fields = 32" => "max-fields = \"many\"", says "max-fields";
    huge_output: "max-output-bytes = 65536" => "max-output-bytes = 1099511627776", says "`limits.max-output-bytes` must be 1 to";
    input_limit_for_an_enricher: "max-fields = 32" => "max-fields = 32\nmax-input-bytes = 1024", says "`limits.max-input-bytes` is for extractors";
}

#[test]
fn an_extractor_may_read_only_the_start_of_a_file() {
    let extractor = FULL.replace("\"enricher\"", "\"extractor\"");
    assert_eq!(Manifest::from_toml(&extractor).unwrap().limits.max_input_bytes, None, "the whole file by default");
    let start = extractor.replace("max-fields = 32", "max-fields = 32\nmax-input-bytes = 4096");
    assert_eq!(Manifest::from_toml(&start).unwrap().limits.max_input_bytes, Some(4096));
    for bad in ["0", "2147483648"] {
        let e = Manifest::from_toml(&start.replace("4096", bad)).unwrap_err().to_string();
        assert!(e.contains("`limits.max-input-bytes` must be 1 to 1073741824"), "{e}");
    }
}

#[test]
fn the_error_points_at_the_line() {
    let message = error("memory-mib = 128", "memroy-mib = 128");
    assert!(message.contains("line 10"), "{message}");
}

#[test]
fn a_missing_file_names_the_path() {
    let e = Manifest::from_file(std::path::Path::new("/nonexistent/plugin.toml")).unwrap_err();
    assert!(matches!(e, ManifestError::Read { .. }));
    assert!(e.to_string().contains("/nonexistent/plugin.toml"), "{e}");
}

#[test]
fn the_host_refuses_more_memory_than_it_allows() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = HostConfig::new(dir.path());
    config.max_memory_mib = 256;
    let host = PluginHost::new(config).unwrap();
    let mut manifest = Manifest::new("big", Version::new(1, 0, 0), World::Extractor, &["*/*"]);
    manifest.limits.memory_mib = 512;
    let e = host.load(manifest, b"irrelevant: refused before compiling").unwrap_err();
    assert!(matches!(e, PluginError::Manifest(ManifestError::Invalid { field: "limits.memory-mib", .. })), "{e:?}");
    assert!(e.to_string().contains("this host allows at most 256 MiB"), "{e}");
}
