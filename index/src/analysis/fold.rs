//! Lower-casing and folding: `ä→a ö→o ü→u ß→ss`, other Latin diacritics to their base
//! letter. Snowball's German stemmer drops umlauts the same way, so plural umlauts
//! (`Blatt`/`Blätter`, `Antrag`/`Anträge`) meet in one stem.

/// Appends the lower-cased, folded form of `word` to `out`. Soft hyphens are dropped.
pub fn fold_into(word: &str, out: &mut String) {
    if word.is_ascii() {
        let from = out.len();
        out.push_str(word);
        out[from..].make_ascii_lowercase();
        return;
    }
    for c in word.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        for lc in c.to_lowercase() {
            match fold_char(lc) {
                Folded::One(f) => out.push(f),
                Folded::Two(s) => out.push_str(s),
                Folded::Drop => {}
            }
        }
    }
}

/// The folded form of `word`.
pub fn fold(word: &str) -> String {
    let mut s = String::with_capacity(word.len());
    fold_into(word, &mut s);
    s
}

enum Folded {
    One(char),
    Two(&'static str),
    Drop,
}

fn fold_char(c: char) -> Folded {
    use Folded::{Drop, One, Two};
    match c {
        'ä' | 'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => One('a'),
        'ö' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'ō' | 'ő' => One('o'),
        'ü' | 'ù' | 'ú' | 'û' | 'ū' | 'ů' | 'ű' | 'ų' => One('u'),
        'ß' => Two("ss"),
        'æ' => Two("ae"),
        'œ' => Two("oe"),
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => One('e'),
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => One('i'),
        'ç' | 'ć' | 'č' => One('c'),
        'ñ' | 'ń' | 'ň' => One('n'),
        'ś' | 'š' | 'ş' | 'ș' => One('s'),
        'ź' | 'ż' | 'ž' => One('z'),
        'ł' => One('l'),
        'ř' => One('r'),
        'ť' | 'ț' => One('t'),
        'ď' | 'đ' => One('d'),
        'ğ' => One('g'),
        'ý' | 'ÿ' => One('y'),
        '\u{ad}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' => Drop,
        other => One(other),
    }
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_umlauts_sharp_s_and_accents() {
        assert_eq!(fold("Größenänderung"), "grossenanderung");
        assert_eq!(fold("ÜBERSICHT"), "ubersicht");
        assert_eq!(fold("Café Müller-Lüdenscheidt"), "cafe muller-ludenscheidt");
        assert_eq!(fold("Genehmi\u{ad}gung"), "genehmigung");
    }
}
