//! Splits text into words: maximal runs of letters and digits. Everything else
//! (spaces, punctuation, `/`, `.`, `-`) separates words, so `61.2-0815/2026` is four
//! words and a phrase query over them finds the Aktenzeichen in running text.

/// Most segments of a hyphenated compound (`Umwelt-Rechtsbehelfsgesetz`) that are joined
/// into one extra token.
const MAX_HYPHEN_SEGMENTS: usize = 4;

/// One word with its byte range in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word<'a> {
    /// The word as written.
    pub text: &'a str,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset after its last character.
    pub end: usize,
}

impl Word<'_> {
    /// Whether the word starts with a capital letter (German nouns do).
    pub fn is_capitalised(&self) -> bool {
        self.text.chars().next().is_some_and(char::is_uppercase)
    }

    fn is_alphabetic(&self) -> bool {
        self.text.chars().all(|c| c.is_alphabetic() || c == '\u{ad}')
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '\u{ad}'
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

/// Byte offset of the first character of `text` that is (`word`) or is not a word
/// character; ASCII is decided without decoding, which is most of German text.
fn scan(text: &str, word: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            if b.is_ascii_alphanumeric() == word {
                return Some(i);
            }
            i += 1;
        } else {
            let c = text[i..].chars().next().expect("a char boundary");
            if is_word_char(c) == word {
                return Some(i);
            }
            i += c.len_utf8();
        }
    }
    None
}

/// The words of a text, in order.
pub fn words(text: &str) -> Words<'_> {
    Words { text, pos: 0 }
}

/// Iterator returned by [`words`].
#[derive(Clone, Debug)]
pub struct Words<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for Words<'a> {
    type Item = Word<'a>;

    fn next(&mut self) -> Option<Word<'a>> {
        let start = self.pos + scan(&self.text[self.pos..], true)?;
        let end = scan(&self.text[start..], false).map_or(self.text.len(), |len| start + len);
        self.pos = end;
        Some(Word { text: &self.text[start..end], start, end })
    }
}

/// If `first` begins a hyphenated compound of letters (`Umwelt-Rechtsbehelfsgesetz`,
/// `Bundes-Immissionsschutzgesetz`), its segments (2 to 4); otherwise `None`.
pub fn hyphen_group<'a>(text: &'a str, first: Word<'a>) -> Option<Vec<Word<'a>>> {
    // most words are not followed by a hyphen: `-` or the first byte of U+2010/U+2011
    if !matches!(text.as_bytes().get(first.end), Some(b'-' | 0xE2)) || !first.is_alphabetic() {
        return None;
    }
    let mut segments = vec![first];
    let mut end = first.end;
    while segments.len() < MAX_HYPHEN_SEGMENTS {
        let mut chars = text[end..].chars();
        match (chars.next(), chars.next()) {
            (Some(h), Some(c)) if is_hyphen(h) && c.is_alphabetic() => {}
            _ => break,
        }
        let start = end + text[end..].chars().next().map_or(1, char::len_utf8);
        let Some(next) = (Words { text, pos: start }).next() else { break };
        if next.start != start || !next.is_alphabetic() {
            break;
        }
        end = next.end;
        segments.push(next);
    }
    (segments.len() > 1).then_some(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<&str> {
        words(s).map(|w| w.text).collect()
    }

    #[test]
    fn splits_on_punctuation_and_keeps_offsets() {
        assert_eq!(texts("Az. 61.2-0815/2026: Schall (dB(A))"), ["Az", "61", "2", "0815", "2026", "Schall", "dB", "A"]);
        let w: Vec<_> = words("  Öl und Gas").collect();
        assert_eq!((w[0].start, w[0].end), (2, 5));
        assert!(w[0].is_capitalised() && !w[1].is_capitalised());
    }

    #[test]
    fn finds_hyphenated_compounds_of_letters_only() {
        let text = "kumulierende Umwelt-Rechtsbehelfsgesetz-Fragen, WEA-5 und Nord- und Süd";
        let ws: Vec<_> = words(text).collect();
        let g = hyphen_group(text, ws[1]).expect("a group");
        assert_eq!(g.iter().map(|w| w.text).collect::<Vec<_>>(), ["Umwelt", "Rechtsbehelfsgesetz", "Fragen"]);
        let wea = ws.iter().find(|w| w.text == "WEA").copied().unwrap();
        assert!(hyphen_group(text, wea).is_none(), "digits are not joined");
        let nord = ws.iter().find(|w| w.text == "Nord").copied().unwrap();
        assert!(hyphen_group(text, nord).is_none(), "a hyphen before a space is an ellipsis, not a compound");
    }
}
