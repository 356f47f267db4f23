//! Path components: titles made safe as file names on export, and the paths a package
//! states checked on import, so that nothing it names can leave the package.

use std::collections::HashSet;

use crate::{Error, Result};

/// Longest component made from a title, in bytes (file systems allow 255; the suffix that
/// makes a name unique and the version prefix need some room).
const MAX_COMPONENT_BYTES: usize = 120;

/// Characters that are invisible or reorder text: refused in names so that a title
/// cannot disguise one file as another.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Turns a title into a file-name component that is safe on Linux, macOS and Windows and
/// needs no percent-encoding in a BagIt manifest: no separators, no characters Windows
/// forbids, no control characters, no `%`, no leading or trailing dots and spaces, no
/// reserved device names, at most 120 bytes. Deterministic, so that two exports of the
/// same state name their files alike. An empty result becomes `_`.
pub fn safe_component(text: &str) -> String {
    let replaced: String = text
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '%' => '_',
            c if c.is_control() || invisible(c) => '_',
            c => c,
        })
        .collect();
    let trim = |s: &str| s.trim_matches(|c: char| c.is_whitespace() || c == '.').to_string();
    let mut s = trim(&replaced);
    if s.len() > MAX_COMPONENT_BYTES {
        let mut end = MAX_COMPONENT_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s = trim(&s[..end]);
    }
    if s.is_empty() {
        return "_".into();
    }
    let stem = s.split('.').next().unwrap_or_default().to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved { format!("_{s}") } else { s }
}

/// The names already used in one directory, compared without case (so that the tree
/// unpacks on case-insensitive file systems too).
pub struct Siblings {
    taken: HashSet<String>,
}

impl Siblings {
    /// A directory in which `reserved` names (its metadata file) are already taken.
    pub fn new(reserved: &[&str]) -> Self {
        Siblings { taken: reserved.iter().map(|r| r.to_lowercase()).collect() }
    }

    /// Claims `name`, or `name (2)`, `name (3)` … if it is taken.
    pub fn claim(&mut self, name: &str) -> String {
        let mut candidate = name.to_string();
        let mut n = 1;
        while !self.taken.insert(candidate.to_lowercase()) {
            n += 1;
            candidate = format!("{name} ({n})");
        }
        candidate
    }
}

/// Checks one component of a path a package states.
fn check_component(path: &str, c: &str) -> Result<()> {
    if c.is_empty() {
        return Err(Error::unsafe_path(path, "has an empty component (`//`, or a leading or trailing `/`)"));
    }
    if c == "." || c == ".." {
        return Err(Error::unsafe_path(path, "has a `.` or `..` component"));
    }
    if c.contains('\\') {
        return Err(Error::unsafe_path(path, "contains a backslash"));
    }
    if c.chars().any(|ch| ch == '\0') {
        return Err(Error::unsafe_path(path, "contains a NUL character"));
    }
    if c.len() > 255 {
        return Err(Error::unsafe_path(path, "has a component longer than 255 bytes"));
    }
    Ok(())
}

/// Splits a relative path a package states (`/`-separated) into its components, refusing
/// absolute paths, `.` and `..`, empty components, backslashes and NUL.
pub fn split_relative(path: &str) -> Result<Vec<&str>> {
    if path.is_empty() {
        return Err(Error::unsafe_path(path, "is empty"));
    }
    if path.starts_with('/') {
        return Err(Error::unsafe_path(path, "is absolute"));
    }
    let parts: Vec<&str> = path.split('/').collect();
    for c in &parts {
        check_component(path, c)?;
    }
    Ok(parts)
}

/// Joins a checked relative path onto a base directory.
pub fn join(base: &std::path::Path, path: &str) -> Result<std::path::PathBuf> {
    let mut out = base.to_path_buf();
    for c in split_relative(path)? {
        out.push(c);
    }
    Ok(out)
}

/// Encodes a path for a BagIt manifest line (RFC 8493 §2.1.3: `%`, LF and CR, and only
/// those, are percent-encoded).
pub fn bagit_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            c => out.push(c),
        }
    }
    out
}

/// Decodes a path from a BagIt manifest line: `%25`, `%0A` and `%0D` (any case); every
/// other `%` stays as it is.
pub fn bagit_decode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).map(str::to_ascii_uppercase);
        match code.as_deref() {
            Some("25") => out.push('%'),
            Some("0A") => out.push('\n'),
            Some("0D") => out.push('\r'),
            _ => {
                out.push('%');
                rest = &rest[i + 1..];
                continue;
            }
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_become_safe_names() {
        assert_eq!(safe_component("61.2-0815/2026"), "61.2-0815_2026");
        assert_eq!(safe_component("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_component(" .hidden. "), "hidden");
        assert_eq!(safe_component("a\nb\r%c"), "a_b__c");
        assert_eq!(safe_component("CON"), "_CON");
        assert_eq!(safe_component("com1.txt"), "_com1.txt");
        assert_eq!(safe_component("Computer"), "Computer");
        assert_eq!(safe_component("..."), "_");
        assert_eq!(
            safe_component("Stellungnahme Träger öffentlicher Belange"),
            "Stellungnahme Träger öffentlicher Belange"
        );
        assert_eq!(safe_component("evil\u{202E}fdp.exe"), "evil_fdp.exe");
        let long = "ä".repeat(200);
        let s = safe_component(&long);
        assert!(s.len() <= MAX_COMPONENT_BYTES && s.chars().all(|c| c == 'ä'), "{s}");
    }

    #[test]
    fn siblings_are_unique_without_case() {
        let mut s = Siblings::new(&["akte.json"]);
        assert_eq!(s.claim("Gutachten"), "Gutachten");
        assert_eq!(s.claim("gutachten"), "gutachten (2)");
        assert_eq!(s.claim("Gutachten (2)"), "Gutachten (2) (2)");
        assert_eq!(s.claim("AKTE.json"), "AKTE.json (2)");
    }

    #[test]
    fn hostile_paths_are_refused() {
        for p in ["", "/etc/passwd", "data/../x", "data/./x", "data//x", "data/x/", "data\\..\\x", "a\0b"] {
            assert!(split_relative(p).is_err(), "{p:?}");
        }
        assert_eq!(split_relative("data/a b/c.pdf").unwrap(), vec!["data", "a b", "c.pdf"]);
    }

    #[test]
    fn bagit_paths_round_trip() {
        for p in ["data/a%b", "data/a\nb\rc", "data/100%25", "plain"] {
            assert_eq!(bagit_decode(&bagit_encode(p)), p);
        }
        assert_eq!(bagit_decode("data/a%0a%41"), "data/a\n%41");
    }
}
