//! Seeded mutants of the fixture documents through the built-in extractors, natively: the
//! same crates the components are built from, called as plain functions, each call in a
//! thread of its own with a deadline. Natively a panic, a stack overflow or a hang shows at
//! once and cheaply; in the sandbox they become a trap or a timeout, contained but not the
//! clean extraction error a clerk should read. Long runs find what the few hundred mutants
//! of `plugins/tests/mutants.rs` (the same generator, in the sandbox) do not.
//!
//! ```sh
//! akte-mutants [N] [FIRST] [ONLY]   # N mutants per sample (default 2000) from seed
//!                                   # FIRST (default 0), of the samples whose name has ONLY
//! ```
//!
//! With `AKTE_MUTANTS_VERBOSE` set it also prints why each refused mutant was refused.
//!
//! Prints one line per sample and one per problem (sample, mutant number k for FIRST,
//! seed, what was mutated, what happened: a panic, a hang, a message over 400 characters), writes each problem's input to `$AKTE_MUTANTS_OUT` (default
//! `/tmp/akte-mutants`), and exits 1 when there was any. Before each call it writes the
//! sample and seed to `current` there: a stack overflow aborts the process, and that file
//! then names the mutant.

#[path = "../../../tests/common/mutate.rs"]
mod mutate;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long one call may take before it counts as a hang (natively; the sandbox's limits
/// are the manifests').
const DEADLINE: Duration = Duration::from_secs(10);
/// Slower than this is reported, not counted as a problem: a mutant that costs far more
/// than its original may be a quadratic path, or the machine was busy.
const SLOW: Duration = Duration::from_secs(1);
/// The stack of each call: about what a guest has in the sandbox (Rust's 1 MiB shadow stack
/// for wasm32, wasmtime's 512 KiB for compiled frames), so that recursion that would
/// overflow there overflows here too (and aborts the run, naming the mutant in `current`).
const STACK: usize = 1 << 20;
/// A failure's message longer than this (characters) is a problem: the clerk reads it.
const MAX_MESSAGE: usize = 400;

/// What an extraction came to: the text's length, or the failure's kind and message.
type Outcome = Result<usize, String>;

/// The extractors as `akte-bench-native` calls them.
#[path = "../../bench-native/src/extractors.rs"]
mod extractors;

/// An extraction's [`Outcome`].
fn outcome(canon: extractors::Canon) -> Outcome {
    match canon {
        Ok((text, ..)) => Ok(text.len()),
        Err((kind, message)) => Err(format!("{kind}: {message}")),
    }
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a fixture is a valid ZIP");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).expect("a fixture's part is readable");
            let mut data = Vec::new();
            file.read_to_end(&mut data).expect("a fixture's part inflates");
            (file.name().to_string(), data)
        })
        .collect()
}

enum Ran {
    Done(Outcome, Duration),
    Panicked(String),
    Hung,
}

/// Runs one extraction in a thread of its own, with the sandbox's stack and a deadline.
fn run(extract: extractors::Extract, content: Vec<u8>, media_type: &str) -> Ran {
    let (tx, rx) = mpsc::channel();
    let media_type = media_type.to_string();
    std::thread::Builder::new()
        .name("mutant".into())
        .stack_size(STACK)
        .spawn(move || {
            let started = Instant::now();
            let result = std::panic::catch_unwind(|| outcome(extract(content, media_type).1));
            let _ = tx.send((result, started.elapsed()));
        })
        .expect("a thread can be started");
    match rx.recv_timeout(DEADLINE) {
        Ok((Ok(outcome), took)) => Ran::Done(outcome, took),
        Ok((Err(panic), _)) => Ran::Panicked(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".into()),
        ),
        Err(_) => Ran::Hung,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(2000, |a| a.parse().expect("N is a number"));
    let first: u64 = args.next().map_or(0, |a| a.parse().expect("FIRST is a number"));
    let only = args.next().unwrap_or_default();
    let verbose = std::env::var_os("AKTE_MUTANTS_VERBOSE").is_some();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/windpark-hohe-heide");
    let out = PathBuf::from(std::env::var_os("AKTE_MUTANTS_OUT").unwrap_or_else(|| "/tmp/akte-mutants".into()));
    std::fs::create_dir_all(&out).expect("the output directory can be created");
    // A mutant's panic is reported below with its seed; the default hook would print it
    // again. Any other thread's panic (a missing fixture, a bug here) prints as usual.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() != Some("mutant") {
            default_hook(info);
        }
    }));
    let mut samples = mutate::samples(&fixtures, unzip);
    samples.retain(|s| s.name.contains(&only));
    let started = Instant::now();
    let mut problems = 0usize;
    for sample in &samples {
        let extract = extractors::extractor(sample.extractor);
        let (mut ok, mut failed, mut slowest) = (0usize, 0usize, Duration::ZERO);
        for k in first..first + n {
            let seed = sample.seed(k);
            let (content, what) = sample.mutant(seed);
            std::fs::write(out.join("current"), format!("{} mutant {k} (seed {seed}): {what}\n", sample.name)).ok();
            let problem = match run(extract, content.clone(), sample.media_type) {
                Ran::Done(outcome, took) => {
                    slowest = slowest.max(took);
                    if took > SLOW {
                        println!("slow: {} mutant {k} (seed {seed}, {what}) took {took:.1?}", sample.name);
                    }
                    match &outcome {
                        Ok(_) => {
                            ok += 1;
                            None
                        }
                        Err(message) => {
                            failed += 1;
                            if verbose {
                                println!("refused {} mutant {k} (seed {seed}, {what}): {message}", sample.name);
                            }
                            let chars = message.chars().count();
                            (chars > MAX_MESSAGE).then(|| format!("refused in a message of {chars} characters"))
                        }
                    }
                }
                Ran::Panicked(message) => Some(format!("panicked: {message}")),
                Ran::Hung => Some(format!("still running after {DEADLINE:?}")),
            };
            if let Some(problem) = problem {
                problems += 1;
                let file = out.join(format!("{}-{seed}", sample.extractor));
                std::fs::write(&file, &content).ok();
                println!(
                    "PROBLEM {} mutant {k} (seed {seed}, {what}): {problem}; input in {}",
                    sample.name,
                    file.display()
                );
                // A hung call's thread cannot be stopped; it would slow every call after it.
                if problem.starts_with("still running") {
                    std::process::exit(1);
                }
            }
        }
        println!("{}: {ok} extracted, {failed} refused, slowest {slowest:.1?}", sample.name);
    }
    println!("{} samples x {n} mutants in {:.0?}: {problems} problem(s)", samples.len(), started.elapsed());
    std::process::exit(i32::from(problems > 0));
}
