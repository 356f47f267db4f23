//! The XÖV code lists xdomea 3.0.0 references, as far as we map them (lists and versions
//! as in `code_lists/` beside the schemas).

use akte_store::model::{Appraisal, Confidentiality};

/// `urn:xoev-de:xdomea:codeliste:nachrichtentyp`, version 2.0.
pub const NACHRICHTENTYP: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:nachrichtentyp", "2.0");
/// `urn:xoev-de:xdomea:codeliste:dateiformat`, version 1.0.
pub const DATEIFORMAT: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:dateiformat", "1.0");
/// `urn:xoev-de:xdomea:codeliste:vertraulichkeitsstufe`, version 1.0.
pub const VERTRAULICHKEITSSTUFE: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:vertraulichkeitsstufe", "1.0");
/// `urn:xoev-de:xdomea:codeliste:aussonderungsart`, version 1.0.
pub const AUSSONDERUNGSART: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:aussonderungsart", "1.0");
/// `urn:xoev-de:xdomea:codeliste:medium`, version 1.0.
pub const MEDIUM: (&str, &str) = ("urn:xoev-de:xdomea:codeliste:medium", "1.0");

/// Medium 001: electronic only.
pub const MEDIUM_ELEKTRONISCH: &str = "001";

/// Dateiformat code for a file name (by extension); `100` (Sonstiges) for the rest.
pub fn dateiformat(file_name: &str) -> &'static str {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "bmp" => "001",
        "csv" => "002",
        "doc" => "003",
        "eml" => "006",
        "htm" => "007",
        "html" => "008",
        "jpe" => "009",
        "jpeg" => "010",
        "jpg" => "011",
        "msg" => "012",
        "odp" => "013",
        "ods" => "014",
        "odt" => "015",
        "otp" => "016",
        "ots" => "017",
        "pdf" => "018",
        "png" => "019",
        "ppt" => "020",
        "ps" => "021",
        "rtf" => "022",
        "tif" => "023",
        "tiff" => "024",
        "wps" => "025",
        "xlc" => "026",
        "xlm" => "027",
        "xls" => "028",
        "xlw" => "029",
        "xml" => "030",
        "xsd" => "031",
        "dot" => "032",
        "pot" => "033",
        "xlt" => "034",
        "docx" => "035",
        "xlsx" => "036",
        "pptx" => "037",
        "dotx" => "038",
        "xltx" => "039",
        "potx" => "040",
        "dtd" => "041",
        "mpp" => "042",
        "ott" => "043",
        "txt" => "045",
        _ => "100",
    }
}

/// Vertraulichkeitsstufe code of a confidentiality level (001 geheim, 002 NfD, 003 offen,
/// 005 vertraulich; 004 streng geheim has no counterpart here).
pub fn vertraulichkeit(c: Confidentiality) -> &'static str {
    match c {
        Confidentiality::Geheim => "001",
        Confidentiality::VsNfd => "002",
        Confidentiality::Offen => "003",
        Confidentiality::VsVertraulich => "005",
    }
}

/// The confidentiality of a Vertraulichkeitsstufe code; `Err` for 004 (streng geheim),
/// which this repository cannot hold, and unknown codes.
pub fn confidentiality(code: &str) -> Result<Confidentiality, String> {
    match code.trim() {
        "001" => Ok(Confidentiality::Geheim),
        "002" => Ok(Confidentiality::VsNfd),
        "003" => Ok(Confidentiality::Offen),
        "005" => Ok(Confidentiality::VsVertraulich),
        "004" => Err("Vertraulichkeitsstufe 004 (streng geheim) is not held by this repository".into()),
        other => Err(format!("{other:?} is not a Vertraulichkeitsstufe code")),
    }
}

/// Aussonderungsart code of an appraisal (A archivwürdig, B bewerten, V vernichten).
pub fn aussonderungsart(a: Appraisal) -> &'static str {
    match a {
        Appraisal::Archivwuerdig => "A",
        Appraisal::Bewerten => "B",
        Appraisal::Vernichten => "V",
    }
}

/// The appraisal of an Aussonderungsart (or Bewertungsvorschlag) code.
pub fn appraisal(code: &str) -> Result<Appraisal, String> {
    match code.trim() {
        "A" => Ok(Appraisal::Archivwuerdig),
        "B" => Ok(Appraisal::Bewerten),
        "V" => Ok(Appraisal::Vernichten),
        other => Err(format!("{other:?} is not an Aussonderungsart code")),
    }
}
