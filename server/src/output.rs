//! Printing for people and for programs: error sentences, sizes, progress bars.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// Turns an error chain into one plain sentence: the outermost message (what failed) and,
/// when it does not say it already, the innermost (why: "address already in use", "No
/// space left on device"); the steps between are left out.
pub fn sentence(e: &anyhow::Error) -> String {
    let what = e.to_string();
    let why = e.root_cause().to_string();
    let joined = if e.chain().count() > 1 && !what.contains(why.trim()) {
        format!("{}: {why}", what.trim_end_matches(['.', ' ']))
    } else {
        what
    };
    let mut s = clip(joined.split_whitespace().collect::<Vec<_>>().join(" "));
    // Messages from libraries start in lower case; a sentence does not. A first word that
    // is a name (a path, a key, a label before a colon) keeps its case.
    let first_word = s.split(' ').next().unwrap_or_default();
    let is_name = first_word.ends_with(':') || first_word.contains(|c: char| !c.is_alphabetic() && c != '-');
    if !is_name && let Some(first) = s.chars().next().filter(char::is_ascii_lowercase) {
        s.replace_range(..1, &first.to_ascii_uppercase().to_string());
    }
    if !s.ends_with(['.', '?', '!']) {
        s.push('.');
    }
    s
}

/// At most this many characters of a message reach the clerk (the CLI's one sentence, the
/// API's problem detail). The crates bound what they quote of their input; this is the net
/// behind them for what they do not (a serde error quoting a whole string, a name).
pub const MAX_MESSAGE_CHARS: usize = 600;

/// `message` cut to [`MAX_MESSAGE_CHARS`], with `…` where it was cut.
pub fn clip(mut message: String) -> String {
    if let Some((at, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(at);
        message.push('…');
    }
    message
}

/// Human-readable size.
pub fn size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

/// Whether progress bars are shown (standard error is a terminal).
pub fn progress_visible() -> bool {
    std::io::stderr().is_terminal()
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
pub fn bar(len: u64, bytes: bool, msg: &str) -> ProgressBar {
    if !progress_visible() {
        return ProgressBar::hidden();
    }
    let template = if bytes {
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{msg} [{bar:30}] {pos}/{len} eta {eta}"
    };
    let pb = ProgressBar::new(len);
    pb.set_style(ProgressStyle::with_template(template).expect("template parses").progress_chars("=> "));
    pb.set_message(msg.to_string());
    pb
}

/// Prints one line to stdout. A closed pipe (`akte ls | head`) ends the process quietly
/// instead of panicking.
pub fn emit(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    written(out.write_fmt(args).and_then(|_| out.write_all(b"\n")));
}

/// Prints many lines to stdout in few writes (`akte add` of 10,000 files made 10,000
/// `write` calls through the line-buffered stdout); a closed pipe ends the process quietly,
/// as in [`emit`].
pub fn emit_lines<T: std::fmt::Display>(lines: impl IntoIterator<Item = T>) {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    written(lines.into_iter().try_for_each(|l| writeln!(out, "{l}")).and_then(|_| out.flush()));
}

/// Ends the process after a failed write to stdout: quietly for a closed pipe, with one
/// sentence otherwise.
fn written(result: std::io::Result<()>) {
    if let Err(e) = result {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("akte: cannot write to stdout: {e}.");
        std::process::exit(1);
    }
}

/// `println!` that survives a closed pipe.
macro_rules! say {
    ($($t:tt)*) => { $crate::output::emit(format_args!($($t)*)) };
}
pub(crate) use say;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_quotes_at_most_a_bounded_piece_of_a_long_message() {
        let long = anyhow::anyhow!("invalid type: string \"{}\", expected u32", "x".repeat(100_000));
        let s = sentence(&long);
        assert!(s.starts_with("Invalid type: string \"xxx") && s.ends_with("…."), "{}", &s[..80]);
        assert_eq!(s.chars().count(), MAX_MESSAGE_CHARS + 2);
        assert_eq!(sentence(&anyhow::anyhow!("the file  is\nempty")), "The file is empty.");
    }

    #[test]
    fn a_sentence_says_why_and_keeps_names_as_they_are() {
        use anyhow::Context;
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "address already in use");
        let e = Err::<(), _>(io).context("step between").context("Cannot listen on 127.0.0.1:8080.").unwrap_err();
        assert_eq!(sentence(&e), "Cannot listen on 127.0.0.1:8080: address already in use.");
        // A cause the message already names is not said twice.
        let e = Err::<(), _>(anyhow::anyhow!("disk full")).context("Cannot write: disk full").unwrap_err();
        assert_eq!(sentence(&e), "Cannot write: disk full.");
        for name in ["d/lock: Permission denied", "afile: File exists", "log_format \"xml\" is unknown"] {
            assert_eq!(sentence(&anyhow::anyhow!("{name}")), format!("{name}."), "kept as written");
        }
    }
}
