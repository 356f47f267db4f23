//! The built-in extractors (`txt`, `html`, `office`, `pdf`, `eml`) run natively: the same
//! crates the components are built from, called as plain functions. The native half of
//! the sandbox-versus-native benchmark in `bench/plugins.sh`; the akte-plugins example
//! `bench_extract` starts it and alternates its calls with calls of the components, so that
//! both halves see the same load on a shared machine.
//!
//! ```sh
//! akte-bench-native INPUTS OUT
//! ```
//!
//! `INPUTS/inputs.tsv` (written by `bench_extract gen`) lists one input per line:
//! `row<TAB>plugin<TAB>media type<TAB>file` (file relative to INPUTS). Each line `n` on
//! standard input (n = line number in inputs.tsv, from 0) extracts that input once and
//! answers with the time the call took in nanoseconds; the first call of an input also
//! writes its result in a canonical form to `OUT/<n>.native`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

mod extractors;

use extractors::{Canon, extractor};

/// The canonical form both halves of the benchmark write; they must be byte-identical.
fn canonical(c: &Canon) -> String {
    let mut out = String::new();
    match c {
        Ok((text, pages, fields, language)) => {
            let _ = write!(out, "text {}\n{text}\npages {}\n", text.len(), pages.len());
            for (s, e) in pages {
                let _ = writeln!(out, "{s}..{e}");
            }
            let _ = writeln!(out, "fields {}", fields.len());
            for (name, value) in fields {
                let _ = writeln!(out, "{name}={value}");
            }
            let _ = writeln!(out, "language {}", language.as_deref().unwrap_or("-"));
        }
        Err((kind, message)) => {
            let _ = write!(out, "failure {kind}\n{message}\n");
        }
    }
    out
}

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [inputs, out] = args.as_slice() else {
        eprintln!("usage: akte-bench-native INPUTS OUT   (then input numbers on standard input)");
        std::process::exit(2);
    };
    std::fs::create_dir_all(out).expect("OUT can be created");
    let list = std::fs::read_to_string(inputs.join("inputs.tsv")).expect("INPUTS/inputs.tsv is readable");
    let lines: Vec<&str> = list.lines().collect();
    let mut loaded: HashMap<usize, Vec<u8>> = HashMap::new();
    let mut stdout = std::io::stdout().lock();
    for request in std::io::stdin().lines() {
        let n: usize = request.expect("standard input is readable").trim().parse().expect("an input number");
        let [_row, plugin, media_type, file] = lines[n].split('\t').collect::<Vec<_>>()[..] else {
            panic!("inputs.tsv line {n}: expected 4 columns")
        };
        let first = !loaded.contains_key(&n);
        let content =
            loaded.entry(n).or_insert_with(|| std::fs::read(inputs.join(file)).expect("input is readable")).clone();
        let (elapsed, canon) = extractor(plugin)(content, media_type.to_string());
        if first {
            std::fs::write(out.join(format!("{n}.native")), canonical(&canon)).expect("OUT is writable");
        }
        drop(canon);
        writeln!(stdout, "{}", elapsed.as_nanos()).and_then(|()| stdout.flush()).expect("standard output is open");
    }
}
