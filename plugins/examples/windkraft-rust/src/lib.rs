//! Windkraft: an enricher on the Akte plugin SDK that recognises the documents of a permit
//! for wind turbines under the Bundes-Immissionsschutzgesetz (Antrag, Gutachten,
//! Stellungnahmen, Einwendungen, Niederschrift, Bescheid, Bekanntmachung, …) and reads the
//! turbine data and the parcels from their text.
//!
//! The rules are written down once in `plugins/examples/WINDKRAFT.md`; the Python
//! (`windkraft-py`) and JavaScript (`windkraft-js`) ports follow them to the character, and
//! `plugins/tests/windkraft.rs` checks that all three suggest exactly the same.
//! Only regular expressions without Unicode classes, case-insensitivity, look-around or
//! back-references are used, so that `regex-lite`, Python's `re` and JavaScript's `u`
//! regular expressions find the same matches; every repetition is bounded, so the
//! backtracking engines of the ports take bounded time at every position too.
//!
//! `regex-lite` rather than `regex`: every call runs in a fresh instance, so the expressions
//! are compiled anew each time; `regex-lite` compiles them in a fraction of the time (a call
//! on a letter takes 2 ms instead of 19) and the component shrinks from 740 to 190 KB.

use std::sync::LazyLock;

use akte_plugin_sdk::{DocumentInfo, Enricher, Failure, Field, Suggestion, log, text};
use regex_lite::Regex;

/// At most this many characters (code points) of a text are read: bounded work on any input.
pub const MAX_CHARS: usize = 200_000;
/// At most this many parcels are reported.
pub const MAX_PARCELS: usize = 64;

/// Words (in folded text) that make a document a wind-energy document.
const WIND_TERMS: &[&str] = &["windenergie", "windkraft", "windpark", "windrad", "windräder", "windfarm"];

/// A clause or table row that mentions one of these (folded) is about access roads,
/// compensation, a find spot or other land, not about the turbines' own parcels.
const OTHER_LAND: &[&str] = &["fläche", "zuwegung", "zufahrt", "baulast", "kompensation", "ausgleich", "fundort"];

/// Words (folded) that follow "Gemarkung" in a table header or a form, never the name of one.
const NOT_NAMES: &[&str] =
    &["flur", "flurstück", "flurstücke", "flurstücken", "flurstücks", "gemarkung", "gemarkungen", "gemeinde", "anlage"];

/// The column names (folded) of a location table: Gemarkung, Flur, Flurstück.
const COLUMNS: [&[&str]; 3] = [&["gemarkung"], &["flur"], &["flurstück", "flurstücke"]];

/// A line that ends in one of these words (folded, without a colon) goes on in the next line:
/// "in der Gemarkung⏎Hohenheide", "Flurstücke:⏎17/2".
const LINE_END_KEYS: &[&str] = &[
    "gemarkung",
    "flur",
    "flurstück",
    "flurstücke",
    "flurstücken",
    "nabenhöhe",
    "rotordurchmesser",
    "gesamthöhe",
    "nennleistung",
    "typ",
    "typs",
    "anlagentyp",
];

/// A line whose next-to-last word is one of these (folded, without a colon) goes on in the
/// next line: the name of a type is broken there ("des Typs Aerovent⏎AV-162").
const TYPE_KEYS: &[&str] = &["typ", "typs", "anlagentyp"];

/// A line that starts with one of these units (folded) goes on from a line that ends in a
/// digit: "Nennleistung von 6,2⏎MW".
const UNITS: &[&str] = &["m", "meter", "metern", "mw", "megawatt"];

/// "Montage-" at the end of a line before one of these words is a word of its own
/// ("Montage- und Lagerflächen"), not a hyphenated one.
const HYPHEN_WORDS: &[&str] = &["und", "oder", "bis", "sowie"];

/// At most this many rows of a table are read after its header.
const MAX_ROWS: usize = 200;

/// Keywords in the title (the first line, folded), the document type and kind they mean;
/// the first rule that matches wins.
const TITLE_RULES: &[(&[&str], &str, Option<&str>)] = &[
    (&["zustellungsurkunde"], "Nachweis", Some("Zustellungsurkunde")),
    (&["bekanntmachung"], "Schreiben", Some("Öffentliche Bekanntmachung")),
    (&["niederschrift", "protokoll"], "Niederschrift", None),
    (&["vermerk"], "Vermerk", None),
    (&["typenprüfung"], "Nachweis", Some("Typenprüfung")),
    (&["prüfbericht"], "Nachweis", Some("Prüfbericht")),
    (&["sammeleinwendung"], "Einwendung", Some("Sammeleinwendung")),
    (&["einwendung"], "Einwendung", None),
    (&["schallimmissionsprognose", "schallgutachten", "schalltechnische"], "Gutachten", Some("Schallgutachten")),
    (&["schattenwurf"], "Gutachten", Some("Schattenwurfgutachten")),
    (&["turbulenz"], "Gutachten", Some("Turbulenzgutachten")),
    (&["eiswurf", "eisabfall"], "Gutachten", Some("Eiswurfgutachten")),
    (&["artenschutz"], "Gutachten", Some("Artenschutzgutachten")),
    (&["baugrund"], "Gutachten", Some("Baugrundgutachten")),
    (&["begleitplan"], "Gutachten", Some("Landschaftspflegerischer Begleitplan")),
    (&["gutacht", "fachbeitrag", "konzept"], "Gutachten", None),
    (&["lageplan"], "Plan", Some("Lageplan")),
    (&["abstandsfläche"], "Plan", Some("Abstandsflächenplan")),
    (&["stellungnahme"], "Stellungnahme", None),
    (&["kurzbeschreibung"], "Antrag", Some("Kurzbeschreibung")),
];

/// How a document type was found; a stronger signal gives more confidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Evidence {
    /// A keyword in the title.
    Title,
    /// A heading or subject line before the salutation.
    Head,
    /// A typical sentence in the first lines.
    Body,
    /// Only the form of a letter.
    Letter,
}

impl Evidence {
    fn confidence(self) -> u32 {
        match self {
            Evidence::Title => 40,
            Evidence::Head => 35,
            Evidence::Body => 25,
            Evidence::Letter => 10,
        }
    }
}

/// A document type, the finer kind of document (field `unterlagenart`), and the evidence.
type Kind = (String, Option<String>, Evidence);

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid pattern")
}

/// "fünf Windenergieanlagen", "5 WEA", "die fünf geplanten Windenergieanlagen" (folded); not
/// a number before a turbine's label ("41 WEA 1" in a table of shadow hours).
static COUNT: LazyLock<Regex> = LazyLock::new(|| {
    re("(?:^|[^0-9a-zäöüß.,])(zwei|drei|vier|fünf|sechs|sieben|acht|neun|zehn|elf|zwölf|[0-9]{1,3}) \
        (?:(?:geplanten|beantragten|neuen|weiteren) )?(?:windenergieanlagen|windkraftanlagen|wea|windräder)\
        (?:$|[^0-9a-zäöüß ]| $| [^0-9])")
});
/// "5 × Aerovent AV-162" (folded).
static TIMES: LazyLock<Regex> = LazyLock::new(|| re("(?:^|[^0-9a-zäöüß.,])([0-9]{1,3}) ?× ?[a-zäöü]"));

const NUMBER: &str = "([0-9]{1,4}(?:[.,][0-9]{1,3}){0,2})";
/// A place name: "Hohenheide", "Groß-Lindenhorst".
const NAME: &str = "[A-ZÄÖÜ][a-zäöüß]{1,40}(?:-[A-ZÄÖÜ][a-zäöüß]{1,40})?";
const FILLERS: &str = "(?:(?:von|jeweils|je|anlage|rund|ca\\.|etwa|beträgt|damit|bleibt|mit)[ \\t]+){0,3}";

/// "<key> [filler words] <number> <unit>" (folded), e.g. "nabenhöhe von 166 m".
fn measure(key: &str, units: &str) -> Regex {
    re(&format!("{key}[ \\t]*:?[ \\t]*{FILLERS}{NUMBER}[ \\t]?(?:{units})(?:[^0-9a-zäöüß²³/]|$)"))
}

static HUB: LazyLock<Regex> = LazyLock::new(|| measure("nabenh(?:ö|oe)he", "m|meter|metern"));
/// "mit 166 m Nabenhöhe" (folded).
static HUB_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| re(&format!("(?:^|[^0-9.,]){NUMBER}[ \\t]?(?:m|meter|metern) nabenh(?:ö|oe)he")));
static ROTOR: LazyLock<Regex> = LazyLock::new(|| measure("rotordurchmesser", "m|meter|metern"));
static TOTAL: LazyLock<Regex> = LazyLock::new(|| measure("gesamth(?:ö|oe)he", "m|meter|metern"));
/// "nennleistung von 6,2 mw", also "von 2,0 mw auf 2,3 mw" (then the second number).
static POWER: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        "nennleistung[ \\t]*:?[ \\t]*{FILLERS}{NUMBER}[ \\t]?(?:mw|megawatt)\
         (?:[ \\t]+auf[ \\t]+{NUMBER}[ \\t]?(?:mw|megawatt))?(?:[^0-9a-zäöüß]|$)"
    ))
});
/// "des Typs Aerovent AV-162", "Anlagentyp: Nordstrom NS-82" (original case).
static MODEL: LazyLock<Regex> = LazyLock::new(|| {
    re("(?:^|[^A-Za-zÄÖÜäöüß])(?:Anlagentyp|Typs?)[ \\t]*:?[ \\t]+\
        ([A-Z][A-Za-z]{1,30}(?: [A-Z][a-z]{1,30})? [A-Z]{1,4}-?[0-9]{1,4}(?:[-/.][0-9A-Za-z]{1,6}){0,2})\
        (?:[^0-9A-Za-z]|$)")
});
/// "Gemarkung Hohenheide", "Gemarkung: Groß-Lindenhorst" (original case).
static GEMARKUNG: LazyLock<Regex> =
    LazyLock::new(|| re(&format!("(?:^|[^A-Za-zÄÖÜäöüß])[Gg]emarkung[ \\t]*:?[ \\t]+({NAME})")));
/// "Flur 3" (original case; not "Flurstück").
static FLUR: LazyLock<Regex> =
    LazyLock::new(|| re("(?:^|[^A-Za-zÄÖÜäöüß])[Ff]lur[ \\t]*:?[ \\t]+([0-9]{1,4})(?:[^0-9/]|$)"));

/// One parcel number, optionally with a note in brackets: "17/2", "33/4 (WEA 5)".
const PARCEL: &str = "[0-9]{1,5}(?:/[0-9]{1,4})?(?: \\([^()]{0,20}\\))?";
/// "Flurstücke: 17/2 (WEA 1), 18, 21/1 und 24" (original case).
static PARCELS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        "(?:^|[^A-Za-zÄÖÜäöüß])[Ff]lurst(?:ü|ue)ck(?:e|en|s)?[ \\t]*:?[ \\t]+\
         ({PARCEL}(?:(?:, | und | sowie ){PARCEL}){{0,63}})"
    ))
});
/// A table cell that holds only parcels.
static PARCEL_CELL: LazyLock<Regex> =
    LazyLock::new(|| re(&format!("^{PARCEL}(?:(?:, | und | sowie ){PARCEL}){{0,63}}$")));
static NOTE: LazyLock<Regex> = LazyLock::new(|| re("\\([^()]{0,20}\\)"));
static PARCEL_NUMBER: LazyLock<Regex> = LazyLock::new(|| re("[0-9]{1,5}(?:/[0-9]{1,4})?"));
static NAME_CELL: LazyLock<Regex> = LazyLock::new(|| re(&format!("^{NAME}$")));
static NUMBER_CELL: LazyLock<Regex> = LazyLock::new(|| re("^[0-9]{1,4}$"));
/// A file number of an Aktenplan, e.g. "61.2-0815/2026" (original case).
static AKTENZEICHEN: LazyLock<Regex> =
    LazyLock::new(|| re("(?:^|[^0-9A-Za-z./-])([0-9]{1,3}(?:\\.[0-9]{1,3}){0,3}-[0-9]{2,6}/[0-9]{4})(?:[^0-9]|$)"));
/// The token "WEA" (original case).
static WEA: LazyLock<Regex> = LazyLock::new(|| re("(?:^|[^A-Za-z])WEA(?:[^A-Za-z]|$)"));

/// The plugin.
pub struct Windkraft;

impl Enricher for Windkraft {
    fn enrich(document: DocumentInfo, text: String) -> Result<Suggestion, Failure> {
        if text::is_blank(&text) {
            return Err(Failure::Unsupported("Das Dokument enthält keinen Text.".into()));
        }
        let suggestion = suggest(&document, &text);
        log::debug(format!(
            "windkraft: {:?} → {:?}, {} fields, confidence {}",
            document.file_name.as_deref().unwrap_or("?"),
            suggestion.document_type,
            suggestion.fields.len(),
            suggestion.confidence
        ));
        Ok(suggestion)
    }
}

akte_plugin_sdk::export_enricher!(Windkraft);

/// The suggestion for a document with non-blank `text`; no opinion unless the document is
/// about wind energy (its text, or the title of its Akte, says so).
pub fn suggest(document: &DocumentInfo, text: &str) -> Suggestion {
    let text = text::normalize(text::prefix_chars(text, MAX_CHARS));
    let folded = text::fold(&text);
    let title_says = document.akte_title.as_deref().is_some_and(|t| contains_any(&text::fold(t), WIND_TERMS));
    if !(contains_any(&folded, WIND_TERMS) || WEA.is_match(&text) || title_says) {
        return Suggestion::none();
    }
    let lines: Vec<&str> = text::lines(&text).collect();
    let folded_lines: Vec<String> = lines.iter().map(|l| text::fold(l)).collect();
    // The facts are read from passages: sentences across line breaks, and table lines.
    let passages = passages(&lines, &folded_lines);
    let texts: Vec<&str> = passages.iter().map(|p| p.text.as_str()).collect();
    let folded_texts: Vec<String> = texts.iter().map(|p| text::fold(p)).collect();

    let mut fields = Vec::new();
    let kind = classify(&lines, &folded_lines);
    if let Some((_, Some(unterlagenart), _)) = &kind {
        fields.push(Field::new("unterlagenart", unterlagenart.clone()));
    }
    let facts = [
        ("anzahl-wea", turbine_count(&folded_texts)),
        ("anlagentyp", most_common_capture(&MODEL, &texts, 1)),
        ("nabenhoehe-m", hub_height(&folded_texts)),
        ("rotordurchmesser-m", measure_value(&ROTOR, &folded_texts)),
        ("gesamthoehe-m", measure_value(&TOTAL, &folded_texts)),
        ("nennleistung-mw", power(&folded_texts)),
    ];
    let location = location(&passages);
    let facts = facts.into_iter().chain([
        ("gemarkung", location.gemarkung),
        ("flur", location.flur),
        ("flurstuecke", (!location.parcels.is_empty()).then(|| location.parcels.join(", "))),
        ("aktenzeichen", aktenzeichen(&texts, &folded_texts)),
    ]);
    fields.extend(facts.filter_map(|(name, value)| value.map(|v| Field::new(name, v))));

    let mut tags = vec!["windkraft".to_string()];
    if folded.contains("bimschg") || folded.contains("bundes-immissionsschutzgesetz") {
        tags.push("bimschg".into());
    }
    let facts_found = fields.iter().filter(|f| f.name != "unterlagenart").count() as u32;
    let evidence = kind.as_ref().map_or(0, |(_, _, e)| e.confidence());
    let confidence = (30 + evidence + (5 * facts_found).min(25)).min(95) as u8;
    Suggestion { document_type: kind.map(|(t, _, _)| t), fields, tags, confidence }
}

fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| haystack.contains(n))
}

/// The document type from the title, the head (the lines before the salutation, or the
/// first 12 lines of a text without one), typical sentences, or the form of a letter.
fn classify(lines: &[&str], folded: &[String]) -> Option<Kind> {
    let kind = |t: &str, u: Option<&str>, e| Some((t.to_string(), u.map(str::to_string), e));
    let title = folded.first()?;
    for (keywords, doc_type, unterlagenart) in TITLE_RULES {
        if contains_any(title, keywords) {
            return kind(doc_type, *unterlagenart, Evidence::Title);
        }
    }
    if title.contains("antrag") && title.contains("genehmigung") {
        let u = if title.contains("änderung") { "Änderungsantrag" } else { "Genehmigungsantrag" };
        return kind("Antrag", Some(u), Evidence::Title);
    }
    let first_word = lines[0].split(' ').next().unwrap_or("");
    let folded_first = text::fold(first_word);
    if folded_first.ends_with("bescheid") || folded_first.ends_with("genehmigung") {
        return kind("Bescheid", Some(first_word), Evidence::Title);
    }

    let salutation = folded.iter().take(15).position(|l| l.starts_with("sehr geehrte"));
    let head = &folded[..salutation.unwrap_or(folded.len().min(12))];
    let in_head = |f: &dyn Fn(&str) -> bool| head.iter().position(|l| f(l));
    if in_head(&|l| l.starts_with("prüfbericht")).is_some() {
        return kind("Nachweis", Some("Prüfbericht"), Evidence::Head);
    }
    let einwendung = |l: &str| {
        l.starts_with("einwendung")
            || l.starts_with("sammeleinwendung")
            || l.starts_with("betreff: einwendung")
            || l.contains("; einwendung")
    };
    if in_head(&einwendung).is_some() {
        return kind("Einwendung", None, Evidence::Head);
    }
    if in_head(&|l| l.starts_with("stellungnahme")).is_some() {
        return kind("Stellungnahme", None, Evidence::Head);
    }
    if let Some(i) = in_head(&|l| !l.contains([' ', '\t']) && l.ends_with("bescheid")) {
        return kind("Bescheid", Some(lines[i]), Evidence::Head);
    }
    if in_head(&|l| l.starts_with("lageplan")).is_some() {
        return kind("Plan", Some("Lageplan"), Evidence::Head);
    }
    let distances =
        |l: &str| l.starts_with("berechnung der abstandsflächen") || l.starts_with("abstandsflächenberechnung");
    if in_head(&distances).is_some() {
        return kind("Plan", Some("Abstandsflächenplan"), Evidence::Head);
    }
    if in_head(&|l| l.contains("einvernehmen")).is_some() {
        return kind("Stellungnahme", Some("Einvernehmen"), Evidence::Head);
    }

    let body = &folded[..folded.len().min(25)];
    let in_body = |f: &dyn Fn(&str) -> bool| body.iter().any(|l| f(l));
    let raises = |l: &str| {
        l.contains("einwendung")
            && contains_any(l, &["erhebe ich", "erheben wir", "wir erheben", "unterzeichnenden erheben"])
    };
    if in_body(&raises) {
        return kind("Einwendung", None, Evidence::Body);
    }
    if in_body(&|l| l.contains("wie folgt stellung")) {
        return kind("Stellungnahme", None, Evidence::Body);
    }
    let conditions = |l: &str| {
        l.contains("in den genehmigungsbescheid") && contains_any(l, &["aufzunehmen", "aufgenommen", "zu übernehmen"])
    };
    if in_body(&conditions) {
        return kind("Stellungnahme", None, Evidence::Body);
    }
    if in_body(&|l| l.starts_with("sehr geehrte")) {
        return kind("Schreiben", None, Evidence::Letter);
    }
    None
}

/// Where `regex`'s group `group` starts in each match on `line`, with its text.
fn captures<'a>(regex: &Regex, line: &'a str, group: usize) -> impl Iterator<Item = (usize, &'a str)> {
    regex.captures_iter(line).filter_map(move |c| c.get(group).map(|m| (m.start(), m.as_str())))
}

/// The most common number of turbines the text names; "als sechs" and "bis sechs" (as in
/// "drei bis weniger als sechs Windenergieanlagen") are thresholds, not counts.
fn turbine_count(folded: &[String]) -> Option<String> {
    let words = ["zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf", "zwölf"];
    let mut counts = Vec::new();
    for line in folded {
        for (start, n) in captures(&COUNT, line, 1).chain(captures(&TIMES, line, 1)) {
            let before = &line[..start];
            if before.ends_with("als ") || before.ends_with("bis ") {
                continue;
            }
            let value = match words.iter().position(|w| *w == n) {
                Some(i) => i as u32 + 2,
                None => n.parse().unwrap_or(0),
            };
            if (1..=200).contains(&value) {
                counts.push(value);
            }
        }
    }
    text::most_common(&counts).map(|n| n.to_string())
}

fn hub_height(folded: &[String]) -> Option<String> {
    let mut values = Vec::new();
    for line in folded {
        values.extend(captures(&HUB, line, 1).chain(captures(&HUB_BEFORE, line, 1)).map(|(_, v)| text::decimal(v)));
    }
    text::most_common(&values)
}

fn measure_value(regex: &Regex, folded: &[String]) -> Option<String> {
    let values: Vec<String> =
        folded.iter().flat_map(|line| captures(regex, line, 1).map(|(_, v)| text::decimal(v))).collect();
    text::most_common(&values)
}

fn power(folded: &[String]) -> Option<String> {
    let mut values = Vec::new();
    for line in folded {
        for c in POWER.captures_iter(line) {
            if let Some(v) = c.get(2).or_else(|| c.get(1)) {
                values.push(text::decimal(v.as_str()));
            }
        }
    }
    text::most_common(&values)
}

fn most_common_capture(regex: &Regex, lines: &[&str], group: usize) -> Option<String> {
    let values: Vec<&str> = lines.iter().flat_map(|line| captures(regex, line, group).map(|(_, v)| v)).collect();
    text::most_common(&values).map(str::to_string)
}

/// The file number the document refers to: the one after "zu" ("Az. UNB 67.3-112/2026 zu
/// 61.2-0815/2026" names the other office's number first), else the most common one.
fn aktenzeichen(lines: &[&str], folded: &[String]) -> Option<String> {
    let mut all = Vec::new();
    for (line, folded) in lines.iter().zip(folded) {
        for (start, az) in captures(&AKTENZEICHEN, line, 1) {
            if folded[..start].ends_with("zu ") {
                return Some(az.to_string());
            }
            all.push(az);
        }
    }
    text::most_common(&all).map(str::to_string)
}

/// Where the turbines stand.
#[derive(Default)]
struct Location {
    gemarkung: Option<String>,
    flur: Option<String>,
    parcels: Vec<String>,
}

/// Gemarkung, Flur and Flurstücke from the clauses of the sentences that are not about other
/// land, and from the rows of location tables.
fn location(passages: &[Passage]) -> Location {
    let mut gemarkungen = Vec::new();
    let mut flure = Vec::new();
    let mut parcels: Vec<String> = Vec::new();
    for passage in passages {
        if let Some(rows) = &passage.rows {
            for [g, f, p] in rows {
                gemarkungen.extend(g.clone());
                flure.extend(f.clone());
                if let Some(p) = p {
                    add_parcels(p, &mut parcels);
                }
            }
            continue;
        }
        for clause in clauses(&passage.text) {
            if contains_any(&text::fold(clause), OTHER_LAND) {
                continue;
            }
            let names = captures(&GEMARKUNG, clause, 1).filter(|(_, v)| !NOT_NAMES.contains(&text::fold(v).as_str()));
            gemarkungen.extend(names.map(|(_, v)| v.to_string()));
            flure.extend(captures(&FLUR, clause, 1).map(|(_, v)| v.to_string()));
            for (_, list) in captures(&PARCELS, clause, 1) {
                add_parcels(list, &mut parcels);
            }
        }
    }
    Location { gemarkung: text::most_common(&gemarkungen), flur: text::most_common(&flure), parcels }
}

/// Adds the parcel numbers of `list` ("17/2 (WEA 1), 18 und 24") that are new, up to
/// [`MAX_PARCELS`].
fn add_parcels(list: &str, parcels: &mut Vec<String>) {
    let list = NOTE.replace_all(list, "");
    for p in PARCEL_NUMBER.find_iter(&list) {
        if parcels.len() < MAX_PARCELS && !parcels.iter().any(|q| q == p.as_str()) {
            parcels.push(p.as_str().to_string());
        }
    }
}

/// The clauses of a line: split after "; " and after ". " before a capital letter.
fn clauses(line: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    for (k, &(at, c)) in chars.iter().enumerate() {
        let next = chars.get(k + 1).map(|&(_, c)| c);
        let after = chars.get(k + 2).map(|&(_, c)| c);
        if c == ';' && next == Some(' ') {
            out.push(&line[start..at]);
            start = at + 2;
        } else if c == '.' && next == Some(' ') && after.is_some_and(|a| a.is_ascii_uppercase() || "ÄÖÜ".contains(a))
        {
            out.push(&line[start..at + 1]);
            start = at + 2;
        }
    }
    out.push(&line[start.min(line.len())..]);
    out
}

// --- Passages: location tables, and sentences across line breaks ---------------------------

/// The values of a table row by column (Gemarkung, Flur, Flurstücke); `None` where the row
/// has no such column or its cell holds no such value.
type Row = [Option<String>; 3];

/// A stretch of text the facts are read from, in the order of the text.
struct Passage {
    text: String,
    /// For a line of a location table: the values of all its rows for the header, none
    /// for the rows themselves. `None` for a sentence.
    rows: Option<Vec<Row>>,
}

/// How a line goes on from the line before it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Join {
    /// With a space: a sentence broken at a space.
    Space,
    /// Directly: "Bundes-⏎Immissionsschutzgesetz".
    Glue,
    /// Directly, without the hyphen at the end of the line: "Ablenk-⏎flächen".
    Unhyphenate,
}

fn is_lower(c: char) -> bool {
    c.is_ascii_lowercase() || "äöüß".contains(c)
}

fn is_letter(c: char) -> bool {
    is_lower(c) || c.is_ascii_uppercase() || "ÄÖÜ".contains(c)
}

fn words(line: &str) -> Vec<&str> {
    line.split(' ').filter(|w| !w.is_empty()).collect()
}

/// The passages of the text in order: the lines of each location table one by one, and the
/// other lines joined into sentences where a line goes on in the next (see [`continuation`]).
fn passages(lines: &[&str], folded: &[String]) -> Vec<Passage> {
    let mut cache = Vec::new();
    let mut tables: Vec<Option<(usize, Vec<Row>)>> = (0..lines.len()).map(|_| None).collect();
    let mut i = 0;
    while i < lines.len() {
        match read_table(lines, folded, i, &mut cache) {
            Some(table) => {
                let end = table.0;
                tables[i] = Some(table);
                i = end;
            }
            None => i += 1,
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if let Some((end, rows)) = tables[i].take() {
            out.push(Passage { text: lines[i].to_string(), rows: Some(rows) });
            out.extend((i + 1..end).map(|k| Passage { text: lines[k].to_string(), rows: Some(Vec::new()) }));
            i = end;
            continue;
        }
        let mut text = lines[i].to_string();
        i += 1;
        while i < lines.len() && tables[i].is_none() {
            match continuation(lines[i - 1], lines[i]) {
                None => break,
                Some(Join::Space) => text.push(' '),
                Some(Join::Glue) => {}
                Some(Join::Unhyphenate) => {
                    text.pop();
                }
            }
            text.push_str(lines[i]);
            i += 1;
        }
        out.push(Passage { text, rows: None });
    }
    out
}

/// Whether and how line `next` goes on from line `prev` (both non-empty, trimmed): a
/// hyphen between letters at the end glues the lines (and goes when a lower-case letter
/// follows); a line that ends in a keyword ("Gemarkung", "Flurstücke:") or in the word after
/// "Typ" goes on; a line
/// that ends in `.`, `!`, `?`, `;` or `:` does not; a line that ends in `,` or in a word of
/// three or more lower-case letters, or is followed by a line that starts with a lower-case
/// letter, goes on; a number at the end goes on when the next line starts with its unit.
fn continuation(prev: &str, next: &str) -> Option<Join> {
    let mut back = prev.chars().rev();
    let (last, before) = (back.next()?, back.next());
    let first = next.chars().next()?;
    let first_word = next.split([' ', '\t']).next().unwrap_or("");
    if last == '-' && before.is_some_and(is_letter) && is_letter(first) {
        if HYPHEN_WORDS.contains(&first_word) {
            return Some(Join::Space);
        }
        return Some(if is_lower(first) { Join::Unhyphenate } else { Join::Glue });
    }
    let mut back_words = prev.rsplit([' ', '\t']);
    let (last_word, word_before) = (back_words.next().unwrap_or(""), back_words.next().unwrap_or(""));
    let key = |w: &str| text::fold(w.trim_end_matches(':'));
    if LINE_END_KEYS.contains(&key(last_word).as_str()) || TYPE_KEYS.contains(&key(word_before).as_str()) {
        return Some(Join::Space);
    }
    if ".!?;:".contains(last) {
        return None;
    }
    if last == ',' || is_lower(first) {
        return Some(Join::Space);
    }
    if last_word.chars().count() >= 3 && last_word.chars().all(is_lower) {
        return Some(Join::Space);
    }
    let unit = text::fold(first_word.trim_end_matches(['.', ',', ';', ':', ')']));
    if last.is_ascii_digit() && UNITS.contains(&unit.as_str()) {
        return Some(Join::Space);
    }
    None
}

/// Whether `words` can be a table's header or row: none ends in a colon, and none but
/// "sowie" is a lower-case word of four or more letters, as sentences have.
fn tabular(words: &[&str]) -> bool {
    words.iter().all(|w| {
        let first = w.chars().next().unwrap_or(' ');
        !(w.ends_with(':') || (w.chars().count() >= 4 && is_lower(first) && *w != "sowie"))
    })
}

/// A location table whose header is line `i`: the end of its rows and the values of each
/// row, or `None` when line `i` is no such header or no row follows it.
/// - With tabs: a header cell named Gemarkung, Flur or Flurstück(e), then the rows with as
///   many cells.
/// - Without (a PDF's table, cells set apart by single spaces): a header of words without
///   digits or sentence punctuation with Gemarkung, Flur and Flurstück(e) side by side in
///   this order (any of them); the rows that follow hold a place name, a number and a list
///   of parcels side by side, found at the start or end of the row when the columns are
///   the first or last of the header, else after the place name (a table without a
///   Gemarkung column in the middle is not read).
fn read_table(
    lines: &[&str],
    folded: &[String],
    i: usize,
    cache: &mut Vec<(String, Regex)>,
) -> Option<(usize, Vec<Row>)> {
    let (line, fline) = (lines[i], folded[i].as_str());
    if contains_any(fline, OTHER_LAND) {
        return None;
    }
    let mut rows = Vec::new();
    if line.contains('\t') {
        let header: Vec<&str> = fline.split('\t').map(|c| c.trim_matches(' ')).collect();
        let cols = COLUMNS.map(|names| header.iter().position(|c| names.contains(c)));
        if cols.iter().all(Option::is_none) {
            return None;
        }
        for row in lines[i + 1..].iter().take(MAX_ROWS) {
            let cells: Vec<&str> = row.split('\t').map(|c| c.trim_matches(' ')).collect();
            if cells.len() != header.len() {
                break;
            }
            rows.push(row_values(row, cols.map(|c| c.map(|c| cells[c])), true));
        }
    } else {
        let ws = words(line);
        if ws.len() < 2 || ws.len() > 16 || !tabular(&ws) || line.contains(|c| "0123456789,.;:".contains(c)) {
            return None;
        }
        let fws: Vec<String> = ws.iter().map(|w| text::fold(w)).collect();
        let cols = COLUMNS.map(|names| fws.iter().position(|w| names.contains(&w.as_str())));
        let present: Vec<usize> = cols.iter().flatten().copied().collect();
        if present.is_empty() || present.windows(2).any(|w| w[1] != w[0] + 1) {
            return None;
        }
        let (starts, ends) = (present[0] == 0, present[present.len() - 1] == ws.len() - 1);
        if !starts && !ends && cols[0].is_none() {
            return None;
        }
        let cells = [
            format!("({NAME})"),
            "([0-9]{1,4})".to_string(),
            format!("({PARCEL}(?:(?:, | und | sowie ){PARCEL}){{0,63}})"),
        ];
        let body: Vec<&str> = (0..3).filter(|&k| cols[k].is_some()).map(|k| cells[k].as_str()).collect();
        let pattern =
            format!("{}{}{}", if starts { "^" } else { "(?:^| )" }, body.join(" "), if ends { "$" } else { "(?: |$)" });
        let k = match cache.iter().position(|(p, _)| *p == pattern) {
            Some(k) => k,
            None => {
                let regex = re(&pattern);
                cache.push((pattern, regex));
                cache.len() - 1
            }
        };
        let regex = &cache[k].1;
        for row in lines[i + 1..].iter().take(MAX_ROWS) {
            let Some(c) = (!row.contains('\t') && tabular(&words(row))).then(|| regex.captures(row)).flatten() else {
                break;
            };
            let mut groups = (1..c.len()).map(|g| c.get(g).map(|m| m.as_str()));
            let cells = cols.map(|col| col.and_then(|_| groups.next().flatten()));
            rows.push(row_values(row, cells, false));
        }
    }
    (!rows.is_empty()).then(|| (i + 1 + rows.len(), rows))
}

/// The values of a table row: none of a row about other land, none of a cell that holds no
/// such value (`check`: the cells of a row with tabs, which no pattern has matched yet).
fn row_values(row: &str, [g, f, p]: [Option<&str>; 3], check: bool) -> Row {
    if contains_any(&text::fold(row), OTHER_LAND) {
        return [None, None, None];
    }
    let g = g.filter(|g| (!check || NAME_CELL.is_match(g)) && !NOT_NAMES.contains(&text::fold(g).as_str()));
    let f = f.filter(|f| !check || NUMBER_CELL.is_match(f));
    let p = p.filter(|p| !check || PARCEL_CELL.is_match(p));
    [g.map(str::to_string), f.map(str::to_string), p.map(str::to_string)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> DocumentInfo {
        DocumentInfo {
            media_type: "text/plain".into(),
            file_name: None,
            size: 0,
            document_type: None,
            aktenzeichen: None,
            akte_title: None,
            aktenplan: None,
            fields: Vec::new(),
        }
    }

    fn fields(text: &str) -> Vec<(String, String)> {
        suggest(&info(), text).fields.into_iter().map(|f| (f.name, f.value)).collect()
    }

    #[test]
    fn thresholds_are_not_counts() {
        let f = fields("Windpark\nfür drei bis weniger als sechs Windenergieanlagen; hier: fünf Windenergieanlagen");
        assert!(f.contains(&("anzahl-wea".into(), "5".into())), "{f:?}");
    }

    #[test]
    fn power_change_reports_the_new_value() {
        let f = fields("Windpark\nDurch ein Update wird die Nennleistung von 2,0 MW auf 2,3 MW erhöht.");
        assert!(f.contains(&("nennleistung-mw".into(), "2.3".into())), "{f:?}");
    }

    #[test]
    fn clauses_split_at_semicolons_and_sentences() {
        assert_eq!(clauses("a; b. C d. e"), ["a", "b.", "C d. e"]);
        assert_eq!(clauses("x;"), ["x;"]);
        assert_eq!(clauses("Ende. "), ["Ende. "]);
    }

    #[test]
    fn a_table_without_tabs_is_read_and_its_header_names_no_gemarkung() {
        // A PDF's table as the extractor gives it, then a compensation clause broken across
        // lines after the parcels.
        let f = fields(
            "Windpark\n\
             Anlage Gemarkung Flur Flurstück Ostwert Nordwert\n\
             WEA 1 Hohenheide 3 17/2 32 541 215 5 862 340\n\
             WEA 2 Hohenheide 3 18, 21/1 32 541 780 5 862 610\n\
             WEA 3 Hohenheide 3 Zuwegung 32 542 310 5 862 205\n\
             6.4 Vor Inbetriebnahme sind auf der Gemarkung Hohenheide, Flur 5, Flurstücke 40 und 41,\n\
             Ablenkflächen für den Rotmilan anzulegen.",
        );
        let want = [("gemarkung", "Hohenheide"), ("flur", "3"), ("flurstuecke", "17/2, 18, 21/1")];
        assert_eq!(f, want.map(|(n, v)| (n.to_string(), v.to_string())));
        // The header alone, without rows, is a line like any other: "Flur" is no Gemarkung.
        assert!(fields("Windpark\nAnlage Gemarkung Flur Flurstück\nDie Anlagen").is_empty());
    }

    #[test]
    fn a_table_without_tabs_is_read_from_the_end_of_its_rows() {
        let f = fields(
            "Windpark\n\
             Anlage Ostwert Nordwert Gelände m NHN Flurstück\n\
             WEA 1 32 541 215 5 862 340 61,4 17/2\n\
             WEA 2 32 541 780 5 862 610 63,0 18 und 21/1\n\
             Die Zuwegung erfolgt über die Flurstücke 19 und 22.",
        );
        assert_eq!(f, [("flurstuecke".to_string(), "17/2, 18, 21/1".to_string())]);
        // Without a Gemarkung column in the middle of the header, the rows are not read: the
        // Flur could be any of the numbers.
        assert!(fields("Windpark\nAnlage Flur Flurstück Ostwert\nWEA 1 3 17/2 32 541 215").is_empty());
    }

    #[test]
    fn sentences_go_on_across_line_breaks() {
        let f = fields(
            "Windpark\n\
             fünf Windenergieanlagen des Typs Aerovent\n\
             AV-162 mit einer Nennleistung von 6,2\n\
             MW. Standort ist die Gemarkung\n\
             Hohenheide, Flur 3, Flurstücke 17/2, 18,\n\
             21/1 und 24. Der Kompensationsbedarf wird auf der Fläche Flur 5, Flurstück 40 (Ablenk-\n\
             fläche) erbracht; die Gesamthöhe\n\
             beträgt 247 m.",
        );
        let want = [
            ("anzahl-wea", "5"),
            ("anlagentyp", "Aerovent AV-162"),
            ("gesamthoehe-m", "247"),
            ("nennleistung-mw", "6.2"),
            ("gemarkung", "Hohenheide"),
            ("flur", "3"),
            ("flurstuecke", "17/2, 18, 21/1, 24"),
        ];
        assert_eq!(f, want.map(|(n, v)| (n.to_string(), v.to_string())));
    }

    #[test]
    fn how_lines_go_on() {
        let join = |a, b| continuation(a, b);
        assert!(join("Flurstücke 40 und 41 als Ablenk-", "flächen anzulegen") == Some(Join::Unhyphenate));
        assert!(join("des Bundes-", "Immissionsschutzgesetzes") == Some(Join::Glue));
        assert!(join("Montage-", "und Lagerflächen") == Some(Join::Space));
        assert!(join("Flurstücke 40 und 41,", "Ablenkflächen") == Some(Join::Space));
        assert!(join("Flurstücke:", "17/2") == Some(Join::Space));
        assert!(join("in der", "Gemarkung Hohenheide") == Some(Join::Space));
        assert!(join("WEA 1", "bis WEA 5") == Some(Join::Space));
        // Lines of a form, a table or a list stay apart.
        assert!(join("Gemarkung: Hohenheide, Flur 3", "Flurstücke: 17/2 (WEA 1)").is_none());
        assert!(join("Flurstücke: 17/2 (WEA 1), 33/4 (WEA 5)", "Zuwegung auf den Flurstücken 19, 22").is_none());
        assert!(join("Rotordurchmesser 162 m", "Nabenhöhe 166 m").is_none());
        assert!(join("Die Anlagen sind zu errichten.", "Die Zuwegung").is_none());
    }

    #[test]
    fn a_number_before_a_turbine_label_is_no_count() {
        let f = fields("Schattenwurf\nIO 1 Am Mühlenberg 4 38:12 41 WEA 1, WEA 2\nIO 2 Heideweg 17 41:20 44 WEA 1");
        assert!(!f.iter().any(|(n, _)| n == "anzahl-wea"), "{f:?}");
        assert_eq!(fields("Windpark mit 5 WEA."), [("anzahl-wea".to_string(), "5".to_string())]);
    }

    #[test]
    fn no_wind_no_opinion() {
        let s = suggest(&info(), "Vermerk\nEinstellung zum 01.02.2026");
        assert_eq!(s.confidence, 0);
        assert!(s.document_type.is_none() && s.fields.is_empty() && s.tags.is_empty());
    }
}
