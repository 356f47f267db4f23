//! Seeded mutants of the fixture documents through the built-in extractors, in the sandbox
//! under their shipped manifests (the generator is `common/mutate.rs`; the native runner
//! `plugins/guests/mutants` runs thousands more of the same). Every mutant must end in text
//! or in a failure the extractor reports itself (`malformed`, `unsupported`): a trap (a
//! panic or a stack overflow in a parser), a timeout, exhausted memory or output the host
//! refuses would each be a bug of the built-in extractor, even though the host contains it;
//! so is a failure whose message runs over 400 characters.
//!
//! `AKTE_MUTANTS=N` runs N mutants per sample instead of 24.

mod common;

#[path = "common/mutate.rs"]
mod mutate;

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

use akte_plugins::{Plugin, PluginError};
use common::{host, shipped};

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            (file.name().to_string(), data)
        })
        .collect()
}

#[tokio::test]
async fn mutated_documents_end_in_text_or_a_clean_failure() {
    let per_sample: u64 = std::env::var("AKTE_MUTANTS").ok().and_then(|n| n.parse().ok()).unwrap_or(24);
    let (_dir, host) = host();
    let plugins: HashMap<&str, Plugin> =
        ["txt", "html", "office", "pdf", "eml"].into_iter().map(|name| (name, shipped(&host, name))).collect();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/windpark-hohe-heide");
    let samples = mutate::samples(&fixtures, unzip);
    assert!(samples.len() >= 50, "only {} samples", samples.len());
    let (mut extracted, mut refused, mut bad) = (0usize, 0usize, Vec::new());
    let mut per_extractor: HashMap<&str, (usize, usize)> = HashMap::new();
    for sample in &samples {
        let plugin = &plugins[sample.extractor];
        for k in 0..per_sample {
            let seed = sample.seed(k);
            let (bytes, what) = sample.mutant(seed);
            let counts = per_extractor.entry(sample.extractor).or_default();
            match plugin.extract(&bytes, sample.media_type).await {
                Ok(_) => {
                    extracted += 1;
                    counts.0 += 1;
                }
                Err(PluginError::Failed { failure, .. }) => {
                    refused += 1;
                    counts.1 += 1;
                    // The clerk reads the message in one line.
                    let chars = failure.to_string().chars().count();
                    if chars > 400 {
                        bad.push(format!("{} seed {seed} ({what}): refused in {chars} characters", sample.name));
                    }
                }
                Err(e) => bad.push(format!("{} seed {seed} ({what}): {e}", sample.name)),
            }
        }
    }
    println!("{extracted} mutants extracted, {refused} refused; per extractor (extracted, refused): {per_extractor:?}");
    assert!(bad.is_empty(), "{} of the mutants were not handled cleanly:\n{}", bad.len(), bad.join("\n"));
    // Both ways out are exercised; a generator whose mutants all failed (or none) would test little.
    assert!(extracted > 0 && refused > 0, "{extracted} extracted, {refused} refused");
    // And a good document still extracts after all of them.
    let ok = plugins["txt"].extract("Genehmigung erteilt.".as_bytes(), "text/plain").await.unwrap();
    assert_eq!(ok.value.text, "Genehmigung erteilt.");
}
