//! The built-in extractors called natively, each as a plain function that times the
//! guest crate's own `extract` and turns its result into [`Canon`]: shared by
//! `akte-bench-native` (the native half of bench/plugins.sh) and `akte-mutants` (which
//! includes this file by path).

use std::time::{Duration, Instant};

/// An extraction or failure of any of the guest crates, in plain terms.
pub type Canon = Result<(String, Vec<(u32, u32)>, Vec<(String, String)>, Option<String>), (&'static str, String)>;

/// Calls `$krate::extract` and converts its result (each crate has its own WIT types).
macro_rules! extractor {
    ($krate:ident) => {
        |content: Vec<u8>, media_type: String| -> (Duration, Canon) {
            let started = Instant::now();
            let result = $krate::extract(content, media_type);
            let elapsed = started.elapsed();
            let canon = match result {
                Ok(e) => Ok((
                    e.text,
                    e.pages.iter().map(|p| (p.start, p.end)).collect(),
                    e.fields.into_iter().map(|f| (f.name, f.value)).collect(),
                    e.language,
                )),
                Err($krate::Failure::Unsupported(s)) => Err(("unsupported", s)),
                Err($krate::Failure::Malformed(s)) => Err(("malformed", s)),
                Err($krate::Failure::Other(s)) => Err(("other", s)),
            };
            (elapsed, canon)
        }
    };
}

pub type Extract = fn(Vec<u8>, String) -> (Duration, Canon);

pub fn extractor(plugin: &str) -> Extract {
    match plugin {
        "txt" => extractor!(akte_guest_txt),
        "html" => extractor!(akte_guest_html),
        "office" => extractor!(akte_guest_office),
        "pdf" => extractor!(akte_guest_pdf),
        "eml" => extractor!(akte_guest_eml),
        other => panic!("no built-in extractor {other:?}"),
    }
}
