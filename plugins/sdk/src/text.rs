//! Text helpers for German administrative documents.
//!
//! Every helper here is defined on code points with explicit character lists, never on
//! Unicode tables (`to_lowercase`, `is_alphabetic`, `\w`), whose versions differ between
//! Rust, Python and JavaScript. A plugin ported to another language with the same rules
//! (see `plugins/examples/windkraft-py` and `windkraft-js`) therefore gives byte-identical
//! results on any input, which the windkraft test checks.

/// The characters [`is_blank`] and [`lines`] treat as white space: ASCII white space and
/// the no-break spaces that PDF extractors emit (U+00A0, U+2007, U+202F).
pub const BLANKS: &[char] = &[' ', '\t', '\n', '\r', '\u{0b}', '\u{0c}', '\u{a0}', '\u{2007}', '\u{202f}'];

/// Whether `text` has nothing but [`BLANKS`].
pub fn is_blank(text: &str) -> bool {
    text.chars().all(|c| BLANKS.contains(&c))
}

/// Lower-cases `A`–`Z`, `Ä`, `Ö` and `Ü` and leaves every other character as it is. The
/// result has the same length in bytes, code points and UTF-16 units as `text`, so a match
/// position in the folded text is the same position in the original.
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            'Ä' => 'ä',
            'Ö' => 'ö',
            'Ü' => 'ü',
            _ => c,
        })
        .collect()
}

/// At most the first `max` code points of `text`: bounds the work on huge inputs.
pub fn prefix_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Line ends and spaces made regular: `\r` removed, form feed and vertical tab (page
/// breaks of some extractors) become `\n`, no-break spaces become ` `. Tabs (table cells in
/// extracted text) stay.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' => {}
            '\u{0b}' | '\u{0c}' => out.push('\n'),
            '\u{a0}' | '\u{2007}' | '\u{202f}' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// The non-blank lines of `text` (split at `\n`; a line of spaces and tabs is blank),
/// without spaces at either end. Tabs inside and at the ends are kept.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split('\n').map(|l| l.trim_matches(' ')).filter(|l| !l.chars().all(|c| c == ' ' || c == '\t'))
}

/// A number as written in German text (`6,2`, `1.940`, `98.500,5`, `166`) in the form the
/// WIT interface asks for: `.` as decimal separator, no thousands separator (`6.2`, `1940`,
/// `98500.5`, `166`). With a comma, dots are thousands separators; without one, dots are
/// thousands separators only when every group after the first has three digits (`6.2`
/// stays `6.2`). Expects digits, `.` and `,` only; other characters are kept as they are.
pub fn decimal(number: &str) -> String {
    if number.contains(',') {
        return number.chars().filter(|&c| c != '.').map(|c| if c == ',' { '.' } else { c }).collect();
    }
    let mut groups = number.split('.');
    groups.next();
    let mut groups = groups.peekable();
    if groups.peek().is_some() && groups.all(|g| g.len() == 3) { number.replace('.', "") } else { number.to_string() }
}

/// The value that occurs most often in `items`; on a tie the one that occurs first.
pub fn most_common<T: PartialEq + Clone>(items: &[T]) -> Option<T> {
    let mut best: Option<(&T, usize)> = None;
    for (i, item) in items.iter().enumerate() {
        if items[..i].contains(item) {
            continue;
        }
        let n = items[i..].iter().filter(|x| *x == item).count();
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((item, n));
        }
    }
    best.map(|(item, _)| item.clone())
}

/// Whether `name` is a valid field name: 1 to 64 bytes of lowercase ASCII letters, digits
/// and `-` (the host drops fields with other names).
pub fn is_field_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_keeps_lengths() {
        let s = "ÄÖÜ Straße GmbH İ Σ";
        assert_eq!(fold(s), "äöü straße gmbh İ Σ");
        assert_eq!(fold(s).len(), s.len());
    }

    #[test]
    fn decimals() {
        for (written, canonical) in [
            ("6,2", "6.2"),
            ("166", "166"),
            ("1.940", "1940"),
            ("98.500,5", "98500.5"),
            ("6.2", "6.2"),
            ("1.2.3", "1.2.3"),
        ] {
            assert_eq!(decimal(written), canonical, "{written}");
        }
    }

    #[test]
    fn most_common_prefers_the_first_on_ties() {
        assert_eq!(most_common(&[3, 5, 5, 3]), Some(3));
        assert_eq!(most_common(&[3, 5, 5]), Some(5));
        assert_eq!(most_common::<u8>(&[]), None);
    }

    #[test]
    fn prefix_and_lines() {
        assert_eq!(prefix_chars("Grüße", 3), "Grü");
        assert_eq!(prefix_chars("ab", 3), "ab");
        let l: Vec<_> = lines(" a \n\t \n\nb\tc \n").collect();
        assert_eq!(l, ["a", "b\tc"]);
        assert_eq!(normalize("a\r\nb\u{a0}c\u{c}d"), "a\nb c\nd");
        assert!(is_blank(" \u{a0}\n") && !is_blank(" x"));
    }
}
