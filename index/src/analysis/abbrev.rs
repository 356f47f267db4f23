//! Abbreviations clerks write and search for, each with what it stands for: a query word
//! that is one of them also finds the others (`WEA` finds `Windenergieanlage`, and the
//! other way round). Written for Akte from the abbreviations of German permit and planning
//! law; facts, not a copied list. Only single query words are looked up, by their stem.

use std::sync::OnceLock;

use super::{QueryToken, query_tokens};

/// Groups of forms that mean the same. A form of several words is searched as a phrase;
/// it is not looked up (a query word is one word).
const GROUPS: &[&[&str]] = &[
    &["WEA", "Windenergieanlage"],
    &["WKA", "Windkraftanlage"],
    &["BImSchG", "Bundes-Immissionsschutzgesetz"],
    &["BImSchV", "Bundes-Immissionsschutzverordnung"],
    &["BNatSchG", "Bundesnaturschutzgesetz"],
    &["BauGB", "Baugesetzbuch"],
    &["BauNVO", "Baunutzungsverordnung"],
    &["VwVfG", "Verwaltungsverfahrensgesetz"],
    &["UVP", "Umweltverträglichkeitsprüfung"],
    &["UVPG", "Umweltverträglichkeitsprüfungsgesetz"],
    &["DSchG", "Denkmalschutzgesetz"],
    &["WHG", "Wasserhaushaltsgesetz"],
    &["FNP", "Flächennutzungsplan"],
    &["LSG", "Landschaftsschutzgebiet"],
    &["NSG", "Naturschutzgebiet"],
    &["FFH", "Fauna-Flora-Habitat"],
    &["TöB", "Träger öffentlicher Belange"],
];

/// A form as the query builder searches it: its words, and the joined word of a
/// hyphenated one (`Fauna-Flora-Habitat`).
pub struct Form {
    /// The form as written.
    pub text: &'static str,
    /// Its words, analysed.
    pub tokens: Vec<QueryToken>,
    /// The joined word of a hyphenated form.
    pub joined: Option<QueryToken>,
}

impl Form {
    /// The stem a single query word has when it is this form, if the form is one word.
    fn key(&self) -> Option<&str> {
        match (&self.joined, self.tokens.as_slice()) {
            (Some(j), _) => Some(j.stem.as_str()),
            (None, [one]) => Some(one.stem.as_str()),
            _ => None,
        }
    }
}

fn table() -> &'static Vec<Vec<Form>> {
    static TABLE: OnceLock<Vec<Vec<Form>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        GROUPS
            .iter()
            .map(|group| {
                group
                    .iter()
                    .map(|text| {
                        let (tokens, joined) = query_tokens(text);
                        Form { text, tokens, joined }
                    })
                    .collect()
            })
            .collect()
    })
}

/// The other forms of the group a query word belongs to (none for most words).
pub fn others(word: &QueryToken) -> Vec<&'static Form> {
    for group in table() {
        if group.iter().any(|f| f.key() == Some(word.stem.as_str())) {
            return group.iter().filter(|f| f.key() != Some(word.stem.as_str())).collect();
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn others_of(word: &str) -> Vec<&'static str> {
        let (tokens, _) = query_tokens(word);
        others(&tokens[0]).iter().map(|f| f.text).collect()
    }

    #[test]
    fn an_abbreviation_finds_what_it_stands_for_and_back() {
        assert_eq!(others_of("WEA"), ["Windenergieanlage"]);
        assert_eq!(others_of("wea"), ["Windenergieanlage"]);
        assert_eq!(others_of("Windenergieanlagen"), ["WEA"], "inflected: by stem");
        assert_eq!(others_of("TöB"), ["Träger öffentlicher Belange"]);
        assert_eq!(others_of("FFH"), ["Fauna-Flora-Habitat"]);
        assert!(others_of("Windpark").is_empty());
        // A phrase is not looked up by one of its words.
        assert!(others_of("Träger").is_empty());
    }

    #[test]
    fn every_form_is_searchable() {
        for group in table() {
            assert!(group.len() >= 2);
            for f in group {
                assert!(!f.tokens.is_empty(), "{}", f.text);
            }
            // A group's one-word forms differ, so that each finds the others.
            let keys: Vec<&str> = group.iter().filter_map(Form::key).collect();
            let mut unique = keys.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(keys.len(), unique.len(), "{:?}", group.iter().map(|f| f.text).collect::<Vec<_>>());
        }
    }
}
