//! A hostile test extractor: what it does is chosen by its input (the content, as text), so
//! one component exercises every limit of the host. `echo` behaves well, so tests can show
//! that the same plugin serves the next call after misbehaving.
//!
//! | content        | behaviour                                                        |
//! |----------------|------------------------------------------------------------------|
//! | `echo …`       | returns the content as text                                      |
//! | `loop`         | spins forever                                                    |
//! | `sleep`        | sleeps an hour (blocks in a host call, not in wasm code)         |
//! | `memory`       | allocates 1 MiB blocks until refused                             |
//! | `alloc-1g`     | allocates 1 GiB at once                                          |
//! | `recurse`      | recurses without end                                             |
//! | `panic`        | panics with a message                                            |
//! | `unreachable`  | executes `unreachable`                                           |
//! | `exit`         | calls `exit(3)`                                                  |
//! | `giant`        | returns 16 MiB of text                                           |
//! | `many-fields`  | returns 100 000 fields                                           |
//! | `invalid-utf8` | returns a string that is not UTF-8                               |
//! | `bad-pages`    | returns a page range outside the text                            |
//! | `log-flood`    | logs 10 000 records and writes 1 MiB to stderr, then succeeds    |
//! | `probe`        | tries files, environment, arguments, clocks and sockets, reports |
//!
//! It exports the enricher interface too, so that one component can be installed as
//! either: as an enricher it runs the same command, read from the extracted text, and
//! suggests the fields of the extraction.

wit_bindgen::generate!({
    inline: r#"
        package evil:hostile;

        world hostile {
            import akte:plugin/log@0.1.0;
            export akte:plugin/extract@0.1.0;
            export akte:plugin/enrich@0.1.0;
        }
    "#,
    path: "../../../wit",
    world: "evil:hostile/hostile",
    generate_all,
});

use std::hint::black_box;

use akte::plugin::log::{Level, log};
use akte::plugin::types::DocumentInfo;
use akte::plugin::types::{Failure, Field};
use exports::akte::plugin::enrich::Suggestion;
use exports::akte::plugin::extract::{Extraction, Guest, Page};

struct Hostile;

fn text(text: String) -> Extraction {
    Extraction { text, pages: vec![], fields: vec![], language: None }
}

impl Guest for Hostile {
    fn extract(content: Vec<u8>, _media_type: String) -> Result<Extraction, Failure> {
        let command = String::from_utf8_lossy(&content).into_owned();
        let verb = command.split_whitespace().next().unwrap_or("");
        match verb {
            "echo" => Ok(text(command)),
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                Ok(text("woke up".into()))
            }
            "memory" => {
                let mut blocks: Vec<Vec<u8>> = Vec::new();
                loop {
                    blocks.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "alloc-1g" => {
                let big = black_box(vec![7u8; 1 << 30]);
                Ok(text(format!("{}", big[12345])))
            }
            "recurse" => Ok(text(format!("{}", recurse(black_box(1))))),
            "panic" => panic!("Absichtlicher Absturz: hostile guest panics"),
            "unreachable" => {
                #[cfg(target_arch = "wasm32")]
                core::arch::wasm32::unreachable();
                #[cfg(not(target_arch = "wasm32"))]
                unreachable!()
            }
            "exit" => std::process::exit(3),
            "giant" => Ok(text("x".repeat(16 << 20))),
            "many-fields" => {
                let fields = (0..100_000).map(|i| Field { name: format!("f{i}"), value: "v".into() }).collect();
                Ok(Extraction { text: String::new(), pages: vec![], fields, language: None })
            }
            "invalid-utf8" => {
                // SAFETY: deliberately broken: the host must reject this string, not trust it.
                #[allow(unsafe_code)]
                let bad = unsafe { String::from_utf8_unchecked(vec![b'o', b'k', 0xFF, 0xFE]) };
                Ok(text(bad))
            }
            "bad-pages" => Ok(Extraction {
                text: "short".into(),
                pages: vec![Page { start: 0, end: 1000 }],
                fields: vec![],
                language: None,
            }),
            "log-flood" => {
                for i in 0..10_000 {
                    log(Level::Info, &format!("record {i}"));
                }
                let line = "z".repeat(1023) + "\n";
                for _ in 0..1024 {
                    eprint!("{line}");
                }
                Ok(text("flooded".into()))
            }
            "probe" => Ok(Extraction { text: String::new(), pages: vec![], fields: probe(), language: None }),
            "log-then-fail" => {
                log(Level::Error, "about to fail on purpose");
                Err(Failure::Malformed("failing on purpose after a log record".into()))
            }
            other => Err(Failure::Unsupported(format!("unknown command {other:?}"))),
        }
    }
}

/// Recursion that the optimiser cannot turn into a loop.
#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let local = black_box([depth; 16]);
    recurse(black_box(depth + 1)) + local[3]
}

/// Tries everything a sandboxed plugin must not be able to do and reports what happened.
fn probe() -> Vec<Field> {
    let field = |name: &str, value: String| Field { name: name.into(), value };
    let mut fields = Vec::new();
    fields.push(field(
        "file",
        match std::fs::read("/etc/passwd") {
            Ok(b) => format!("ALLOWED: read {} bytes", b.len()),
            Err(e) => format!("denied: {e}"),
        },
    ));
    fields.push(field(
        "dir",
        match std::fs::read_dir(".") {
            Ok(d) => format!("ALLOWED: {} entries", d.count()),
            Err(e) => format!("denied: {e}"),
        },
    ));
    fields.push(field(
        "write",
        match std::fs::write("/tmp/akte-hostile-was-here", b"x") {
            Ok(()) => "ALLOWED: wrote a file".into(),
            Err(e) => format!("denied: {e}"),
        },
    ));
    fields.push(field("env", format!("{} variables; HOME={:?}", std::env::vars().count(), std::env::var("HOME").ok())));
    fields.push(field("args", format!("{} arguments", std::env::args().count())));
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    fields.push(field("wall-clock-secs", wall.to_string()));
    let start = std::time::Instant::now();
    let mut n = 0u64;
    for i in 0..5_000_000u64 {
        n = black_box(n ^ i);
    }
    fields.push(field("monotonic-elapsed-ns", start.elapsed().as_nanos().to_string()));
    fields.push(field(
        "tcp",
        match std::net::TcpStream::connect("127.0.0.1:9") {
            Ok(_) => "ALLOWED: connected".into(),
            Err(e) => format!("denied: {e}"),
        },
    ));
    fields.push(field(
        "dns",
        match std::net::ToSocketAddrs::to_socket_addrs("localhost:80") {
            Ok(a) => format!("ALLOWED: {} addresses", a.count()),
            Err(e) => format!("denied: {e}"),
        },
    ));
    let mut stdin = String::new();
    let read = std::io::Read::read_to_string(&mut std::io::stdin(), &mut stdin);
    fields.push(field("stdin", format!("{read:?}, {} bytes", stdin.len())));
    fields
}

impl exports::akte::plugin::enrich::Guest for Hostile {
    fn enrich(_document: DocumentInfo, text: String) -> Result<Suggestion, Failure> {
        let done = <Hostile as Guest>::extract(text.into_bytes(), "text/plain".into())?;
        Ok(Suggestion { document_type: None, fields: done.fields, tags: vec![], confidence: 0 })
    }
}

export!(Hostile);
