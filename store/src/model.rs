//! The e-file domain model (xdomea/DOMEA terms): Aktenplan, Akte, Vorgang, Dokument and
//! Version, as versioned records of fields, with validation of what a change may set.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::{Error, Result};

/// The version of the record layout this build writes.
pub const RECORD_VERSION: u32 = 1;

/// The kinds of domain objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjKind {
    /// A node of the file plan.
    Aktenplan,
    /// A file (case).
    Akte,
    /// A process inside an Akte (may be nested).
    Vorgang,
    /// A document.
    Dokument,
    /// One version of a document's content.
    Version,
    /// A plugin installed in the repository (its component is the content).
    Plugin,
    /// A local account of a person (login for the web UI).
    Account,
    /// An API token of a Fachverfahren or a script (only its hash is kept).
    Token,
}

impl ObjKind {
    /// German name, for messages.
    pub fn label(self) -> &'static str {
        match self {
            ObjKind::Aktenplan => "Aktenplaneinheit",
            ObjKind::Akte => "Akte",
            ObjKind::Vorgang => "Vorgang",
            ObjKind::Dokument => "Dokument",
            ObjKind::Version => "Version",
            ObjKind::Plugin => "Plugin",
            ObjKind::Account => "Konto",
            ObjKind::Token => "API-Token",
        }
    }
}

/// The record object: fields set by one create or update. Stored encrypted, deletable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Record version.
    pub v: u32,
    /// The fields set.
    pub fields: Map<String, Value>,
}

impl Record {
    /// Reads a record, migrating older versions forward.
    pub fn parse(bytes: &[u8]) -> std::result::Result<Record, String> {
        let r: Record = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        match r.v {
            RECORD_VERSION => Ok(r),
            v => Err(format!("record version {v} is not supported")),
        }
    }
}

/// Status of an Akte or Vorgang.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Open for new content.
    #[default]
    Offen,
    /// Closed ("zu den Akten").
    Zda,
}

/// Appraisal proposal (Bewertungsvorschlag).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Appraisal {
    /// Worth archiving (A).
    Archivwuerdig,
    /// To be appraised (B).
    Bewerten,
    /// To be destroyed (V).
    Vernichten,
}

/// Confidentiality level (Vertraulichkeitsstufe).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidentiality {
    /// Not classified.
    Offen,
    /// VS – Nur für den Dienstgebrauch.
    VsNfd,
    /// VS – Vertraulich.
    VsVertraulich,
    /// Geheim.
    Geheim,
}

/// Who may access an object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// Organisational units.
    #[serde(default)]
    pub units: Vec<String>,
    /// Roles.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Single users.
    #[serde(default)]
    pub users: Vec<String>,
}

/// A calendar date `YYYY-MM-DD`, checked on input.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Date(pub String);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(&s, &fmt)
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a date (YYYY-MM-DD)")))?;
        Ok(Date(s))
    }
}

/// An Aktenplan node (Aktenplaneinheit).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AktenplanFields {
    /// Code, e.g. `61.2`.
    pub code: Option<String>,
    /// Title, e.g. `Genehmigungen nach BImSchG`.
    pub title: Option<String>,
    /// Default retention in years (`null`: unlimited).
    pub retention_years: Option<u32>,
    /// Default appraisal.
    pub appraisal: Option<Appraisal>,
    /// Default access.
    pub access: Option<Access>,
}

/// An Akte.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AkteFields {
    /// File number, unique in the repository (e.g. `61.2-0815/2026`).
    pub aktenzeichen: Option<String>,
    /// Subject (Betreff).
    pub title: Option<String>,
    /// Aktenplan code.
    pub aktenplan: Option<String>,
    /// Open or closed.
    pub status: Option<Status>,
    /// Start of the lifetime (Laufzeit).
    pub laufzeit_beginn: Option<Date>,
    /// End of the lifetime.
    pub laufzeit_ende: Option<Date>,
    /// Retention in years after closing; absent: its Aktenplan node's (the nearest with
    /// one), else unlimited.
    pub retention_years: Option<u32>,
    /// Appraisal proposal.
    pub appraisal: Option<Appraisal>,
    /// Confidentiality.
    pub confidentiality: Option<Confidentiality>,
    /// Legal hold (no deletion while set).
    pub legal_hold: Option<bool>,
    /// Access.
    pub access: Option<Access>,
    /// Agency-specific fields.
    pub custom: Option<BTreeMap<String, Value>>,
}

/// A Vorgang.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VorgangFields {
    /// Subject.
    pub title: Option<String>,
    /// Open or closed.
    pub status: Option<Status>,
    /// Agency-specific fields.
    pub custom: Option<BTreeMap<String, Value>>,
}

/// A Dokument.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DokumentFields {
    /// Title.
    pub title: Option<String>,
    /// Document type (Antrag, Gutachten, Bescheid …).
    pub document_type: Option<String>,
    /// Date received.
    pub received: Option<Date>,
    /// Date sent.
    pub sent: Option<Date>,
    /// The date the document bears (xdomea `DatumDesSchreibens`): for an internal one, such
    /// as a Vermerk, the only date it has.
    pub date: Option<Date>,
    /// Sender.
    pub sender: Option<String>,
    /// Recipient.
    pub recipient: Option<String>,
    /// Agency-specific fields.
    pub custom: Option<BTreeMap<String, Value>>,
}

/// A Version of a Dokument's content.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionFields {
    /// File name as uploaded (no directories).
    pub file_name: Option<String>,
    /// Media type.
    pub media_type: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// BLAKE3 of the content (hex).
    pub blake3: Option<String>,
    /// SHA-256 of the content (hex).
    pub sha256: Option<String>,
    /// A note on this version.
    pub comment: Option<String>,
}

/// A plugin installed in the repository. The component is the object's content; the host
/// (`akte-plugins`) reads the manifest, this crate only keeps it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginFields {
    /// The plugin's name from its manifest (unique among installed plugins).
    pub name: Option<String>,
    /// Its version (semver) from the manifest.
    pub version: Option<String>,
    /// `extractor`, `enricher` or `validator`.
    pub world: Option<String>,
    /// The manifest as uploaded (TOML).
    pub manifest: Option<String>,
    /// BLAKE3 of the component (hex).
    pub blake3: Option<String>,
    /// Size of the component in bytes.
    pub size: Option<u64>,
    /// Whether the plugin runs where no rule says otherwise.
    pub enabled: Option<bool>,
    /// Exceptions per Aktenplan node and media type; the most specific match wins.
    pub rules: Option<Vec<PluginRule>>,
    /// Paused: it runs nowhere; `enabled` and `rules` are kept for when it is resumed.
    pub paused: Option<bool>,
    /// Set when the plugin was removed; it no longer runs, its past results stay.
    pub removed: Option<bool>,
}

/// Enables or disables a plugin below one Aktenplan node and/or for one media type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginRule {
    /// The Aktenplan code (and every code below it, `61` covers `61.2`); `None` for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aktenplan: Option<String>,
    /// The media type; `None` for all the plugin handles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Whether the plugin runs there.
    pub enabled: bool,
}

/// A local account. The password is kept only as an argon2id hash (PHC string).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountFields {
    /// Login name (unique among accounts).
    pub name: Option<String>,
    /// Name shown to people.
    pub display_name: Option<String>,
    /// argon2id hash of the password (PHC string format).
    pub password_hash: Option<String>,
    /// Roles: `admin`, `clerk`, `reader`, `archivist`, `service`.
    pub roles: Option<Vec<String>>,
    /// Organisational units the person belongs to.
    pub units: Option<Vec<String>>,
    /// A disabled account cannot log in; its sessions end.
    pub disabled: Option<bool>,
}

/// An API token. The secret is shown once at creation; only its keyed hash is kept.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFields {
    /// Name (who or what uses it, e.g. the Fachverfahren).
    pub name: Option<String>,
    /// The role it acts with.
    pub role: Option<String>,
    /// Organisational units it acts for.
    pub units: Option<Vec<String>>,
    /// BLAKE3 of the secret (hex).
    pub hash: Option<String>,
    /// Expiry (RFC 3339); absent means no expiry.
    pub expires: Option<String>,
    /// Set when the token was revoked.
    pub revoked: Option<bool>,
}

/// The roles the server knows.
pub const ROLES: [&str; 5] = ["admin", "clerk", "reader", "archivist", "service"];

fn check_roles(kind: ObjKind, roles: &[String]) -> Result<()> {
    for r in roles {
        if !ROLES.contains(&r.as_str()) {
            return Err(Error::Invalid(format!(
                "The {} names the unknown role {r:?}; roles are {}",
                kind.label(),
                ROLES.join(", ")
            )));
        }
    }
    Ok(())
}

fn check<T: DeserializeOwned>(kind: ObjKind, fields: &Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(fields.clone())).map_err(|e| {
        // The field at fault: the first that fails on its own (every field of these types
        // is optional), named in words a records manager reads.
        let alone = |k: &String, v: &Value| {
            let one: Map<String, Value> = [(k.clone(), v.clone())].into_iter().collect();
            serde_json::from_value::<T>(Value::Object(one)).err()
        };
        match fields.iter().find_map(|(k, v)| alone(k, v).map(|e| (k, e))) {
            Some((k, e)) => Error::Invalid(format!("The {} field {k} {}", kind.label(), plainly(&e.to_string()))),
            None => Error::Invalid(format!("Invalid {} field: {e}", kind.label())),
        }
    })
}

/// serde's description of a wrong value, as the end of a sentence about a field (also
/// for the server's typed request bodies).
pub fn plainly(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    let quoted = |s: &str| s.split('`').nth(1).map(str::to_string);
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let (given, allowed) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let allowed = allowed.trim_start_matches("one of ").replace('`', "");
        return format!("is one of {allowed}, not {:?}", quoted(given).unwrap_or_default());
    }
    if message.starts_with("unknown field") {
        let allowed = message.split_once(", expected ").map(|(_, a)| a.trim_start_matches("one of ").replace('`', ""));
        return format!("is not known{}", allowed.map(|a| format!(" (fields are {a})")).unwrap_or_default());
    }
    let given = message
        .strip_prefix("invalid value: ")
        .or_else(|| message.strip_prefix("invalid type: "))
        .and_then(|r| r.split_once(", expected "))
        .map(|(g, _)| g.replace('`', ""));
    let wanted = message.rsplit_once(", expected ").map(|(_, w)| w);
    match (given, wanted) {
        (Some(g), Some("u32" | "u64" | "u16" | "u8")) => format!("takes a whole number, 0 or more, not {g}"),
        (Some(g), Some(w)) => format!("takes {w}, not {g}"),
        _ => format!("is wrong: {message}"),
    }
}

/// Validates fields for a kind: known names, right types, and non-empty required text.
pub fn validate(kind: ObjKind, fields: &Map<String, Value>, creating: bool) -> Result<()> {
    let required: &[&str] = match kind {
        ObjKind::Aktenplan => {
            check::<AktenplanFields>(kind, fields)?;
            &["code", "title"]
        }
        ObjKind::Akte => {
            check::<AkteFields>(kind, fields)?;
            &["aktenzeichen", "title"]
        }
        ObjKind::Vorgang => {
            check::<VorgangFields>(kind, fields)?;
            &["title"]
        }
        ObjKind::Dokument => {
            check::<DokumentFields>(kind, fields)?;
            &["title"]
        }
        ObjKind::Version => {
            check::<VersionFields>(kind, fields)?;
            &["file_name"]
        }
        ObjKind::Plugin => {
            check::<PluginFields>(kind, fields)?;
            &["name", "version", "world", "manifest"]
        }
        ObjKind::Account => {
            let a = check::<AccountFields>(kind, fields)?;
            check_roles(kind, a.roles.as_deref().unwrap_or_default())?;
            &["name", "password_hash"]
        }
        ObjKind::Token => {
            let t = check::<TokenFields>(kind, fields)?;
            check_roles(kind, t.role.as_slice())?;
            if let Some(e) = &t.expires {
                time::OffsetDateTime::parse(e, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| Error::Invalid(format!("The expiry {e:?} is not an RFC 3339 time")))?;
            }
            &["name", "role", "hash"]
        }
    };
    for name in required {
        match fields.get(*name) {
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(Error::Invalid(format!("The {} field {name} must not be empty", kind.label())));
            }
            None if creating => {
                return Err(Error::Invalid(format!("A new {} needs the field {name}", kind.label())));
            }
            Some(Value::Null) => {
                return Err(Error::Invalid(format!("The {} field {name} cannot be removed", kind.label())));
            }
            _ => {}
        }
    }
    if let Some(Value::String(name)) = fields.get("file_name") {
        safe_file_name(name)?;
    }
    if let Some(Value::String(az)) = fields.get("aktenzeichen") {
        check_aktenzeichen(az)?;
    }
    // NUL ends a string in C and has no form in XML (an xdomea export could only replace
    // it); other control characters survive every export and import.
    if let Some(Value::String(title)) = fields.get("title")
        && title.contains('\0')
    {
        return Err(Error::Invalid("A title must not contain the NUL character".into()));
    }
    Ok(())
}

/// An Aktenzeichen is unique by its characters, so it must not hide any: no space at
/// either end, no control character, no combining mark (`Ä` written as `A` and U+0308
/// would look like, and not be, the `Ä` of another Akte), at most 200 characters.
pub fn check_aktenzeichen(az: &str) -> Result<()> {
    let combining = |c: char| matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{20D0}'..='\u{20FF}');
    if az.trim() != az || az.chars().count() > 200 || az.chars().any(|c| c.is_control() || combining(c)) {
        return Err(Error::Invalid(format!(
            "The Aktenzeichen {:?} must have no space at either end, no control character or combining mark, and at most 200 characters",
            az.chars().take(60).collect::<String>()
        )));
    }
    Ok(())
}

/// A file name must be a plain name: no directories, no control characters.
pub fn safe_file_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.len() > 255
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
    {
        return Err(Error::Invalid(format!("The file name {name:?} is not a plain file name")));
    }
    Ok(())
}

/// Guesses a media type from a file name's extension.
pub fn media_type_for(file_name: &str) -> &'static str {
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "eml" => "message/rfc822",
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "tif" | "tiff" => "image/tiff",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// How many bytes of a file [`media_type_of`] looks at.
pub const SNIFF_BYTES: usize = 64 << 10;

/// The media type of a file: by its name's extension, and where that says nothing (no or
/// an unknown extension), by its first bytes ([`sniff_media_type`]).
pub fn media_type_of(file_name: &str, head: &[u8]) -> &'static str {
    match media_type_for(file_name) {
        "application/octet-stream" => sniff_media_type(head).unwrap_or("application/octet-stream"),
        known => known,
    }
}

/// The media type to record for a file: the one the client declared (or, without one, its
/// name's, else its first bytes'), unless the first bytes say for certain that it is
/// another: a PDF, PNG, JPEG, TIFF or office file sent as something else is recorded as
/// what it is, so that the right extractor reads it (a PDF uploaded as `text/html` was
/// handed to the HTML extractor, and no word of it could be found). The weaker signs of
/// text formats (HTML, XML, e-mail, plain text) never overrule a declaration.
pub fn media_type_settled(declared: Option<&str>, file_name: &str, head: &[u8]) -> String {
    let claimed = declared.map_or_else(|| media_type_of(file_name, head).to_string(), str::to_string);
    let certain = sniff_media_type(head)
        .filter(|m| m.starts_with("image/") || *m == "application/pdf" || m.starts_with("application/vnd."));
    match certain {
        Some(found) if !claimed.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(found) => found.to_string(),
        _ => claimed,
    }
}

/// Recognises a file by its first bytes (up to [`SNIFF_BYTES`]): PDF, PNG, JPEG, TIFF, the
/// office formats (a ZIP whose parts or `mimetype` say which), e-mail, HTML, XML and plain
/// text (no NUL, few control characters; UTF-8 or a single-byte code page). `None` for
/// anything else. A file's name, where it has a known extension, wins over this.
pub fn sniff_media_type(head: &[u8]) -> Option<&'static str> {
    let head = &head[..head.len().min(SNIFF_BYTES)];
    if head.is_empty() {
        return None;
    }
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        return Some("application/pdf");
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if starts(b"\xff\xd8\xff") {
        return Some("image/jpeg");
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Some("image/tiff");
    }
    if starts(b"PK\x03\x04") {
        // ODF stores its media type first, uncompressed, as the entry `mimetype`; OOXML
        // names its main part in the archive's local headers.
        let contains = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
        return if head.get(30..38) == Some(b"mimetype") {
            let rest = &head[38..];
            ["application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet"]
                .into_iter()
                .find(|m| rest.starts_with(m.as_bytes()))
        } else if contains(b"word/document.xml") {
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        } else if contains(b"xl/workbook.xml") {
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        } else {
            None
        };
    }
    // Text from here on: no NUL, and at most one control character in a hundred bytes.
    let controls = head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)).count();
    if head.contains(&0) || controls * 100 > head.len() {
        return None;
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(1024)]);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return Some("text/html");
    }
    if lower.starts_with("<?xml") {
        return Some("application/xml");
    }
    // A message starts with header fields, the first of them one every mail has or one a
    // mail system adds in front.
    const FIRST: [&str; 9] = [
        "from:",
        "received:",
        "return-path:",
        "mime-version:",
        "date:",
        "message-id:",
        "delivered-to:",
        "subject:",
        "to:",
    ];
    let first_line = lower.lines().next().unwrap_or("");
    if FIRST.iter().any(|f| first_line.starts_with(f))
        && lower.lines().take(50).filter(|l| l.contains(':')).count() >= 3
    {
        return Some("message/rfc822");
    }
    Some("text/plain")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_wrong_field_is_named_in_plain_words() {
        let err = |f: Value| validate(ObjKind::Akte, f.as_object().unwrap(), false).unwrap_err().to_string();
        let e = err(json!({"title": "ok", "retention_years": -3}));
        assert!(e.contains("field retention_years takes a whole number, 0 or more, not integer -3"), "{e}");
        let e = err(json!({"retention_years": "10"}));
        assert!(e.contains("retention_years takes a whole number, 0 or more, not string \"10\""), "{e}");
        let e = err(json!({"appraisal": "A"}));
        assert!(e.contains("field appraisal is one of archivwuerdig, bewerten, vernichten, not \"A\""), "{e}");
        let e = err(json!({"laufzeit_beginn": "2019-02-30"}));
        assert!(e.contains("field laufzeit_beginn") && e.contains("not a date"), "{e}");
        let e = err(json!({"titel": "x"}));
        assert!(e.contains("field titel is not known (fields are"), "{e}");
    }

    #[test]
    fn an_aktenzeichen_hides_nothing_and_a_title_has_no_nul() {
        let akte = |az: &str, title: &str| {
            let f = json!({"aktenzeichen": az, "title": title});
            validate(ObjKind::Akte, f.as_object().unwrap(), true)
        };
        assert!(akte("61.2-0815/2026", "Windpark Hohe Heide\nZweite Zeile").is_ok());
        assert!(akte("ÄZ-1", "nfc").is_ok());
        for bad in ["A\u{308}Z-1", "WS-1 ", " WS-1", "NL\n1", "TAB\t1", &"7".repeat(201)] {
            assert!(akte(bad, "t").is_err(), "{bad:?}");
        }
        assert!(akte("1", "mit\u{0}NUL").is_err());
        assert!(akte("1", "mit \u{7} Klingel").is_ok());
    }

    #[test]
    fn files_without_a_known_extension_are_recognised_by_their_first_bytes() {
        let odt = [&b"PK\x03\x04"[..], &[0u8; 26], b"mimetype", b"application/vnd.oasis.opendocument.text"].concat();
        let docx = [
            &b"PK\x03\x04"[..],
            &[0u8; 26],
            b"[Content_Types].xml",
            &[1u8; 300],
            b"PK\x03\x04",
            &[0u8; 26],
            b"word/document.xml",
        ]
        .concat();
        let xlsx = [&b"PK\x03\x04"[..], &[0u8; 26], b"xl/workbook.xml"].concat();
        let mail = "Return-Path: <a@b.de>\nFrom: Amt <a@b.de>\nTo: c@d.de\nSubject: Frist\n\nText";
        let cases: [(&[u8], Option<&str>); 14] = [
            (b"%PDF-1.7\n...", Some("application/pdf")),
            (b"\x89PNG\r\n\x1a\n\0\0", Some("image/png")),
            (b"\xff\xd8\xff\xe0", Some("image/jpeg")),
            (b"II*\0\x08\0", Some("image/tiff")),
            (&odt, Some("application/vnd.oasis.opendocument.text")),
            (&docx, Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")),
            (&xlsx, Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
            (b"PK\x03\x04 some other archive", None),
            (mail.as_bytes(), Some("message/rfc822")),
            (b"\xef\xbb\xbf <!DOCTYPE html><html>", Some("text/html")),
            (b"<?xml version=\"1.0\"?><a/>", Some("application/xml")),
            ("Vermerk über die Ortsbesichtigung\r\nDatum: 2026-02-10".as_bytes(), Some("text/plain")),
            (b"Stra\xdfe in Windows-1252", Some("text/plain")),
            (&[0x13, 0x37, 0x00, 0xfe, 0x01, 0x02], None),
        ];
        for (bytes, want) in cases {
            assert_eq!(sniff_media_type(bytes), want, "{:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(40)]));
        }
        assert_eq!(sniff_media_type(b""), None);
        assert_eq!(media_type_of("ohne_endung", b"%PDF-1.4"), "application/pdf");
        assert_eq!(media_type_of("brief.txt", b"%PDF-1.4"), "text/plain", "a known extension wins");
        assert_eq!(media_type_of("daten.bin", &[0u8; 10]), "application/octet-stream");
        // What is recorded: the declaration, unless the bytes are certainly something else.
        assert_eq!(media_type_settled(Some("text/html"), "antrag.pdf", b"%PDF-1.7"), "application/pdf");
        assert_eq!(media_type_settled(None, "brief.txt", b"%PDF-1.4"), "application/pdf");
        assert_eq!(media_type_settled(None, "falsch.pdf", &docx), super::media_type_for("x.docx"));
        assert_eq!(
            media_type_settled(Some("text/plain; charset=utf-8"), "a.txt", b"Text"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(media_type_settled(Some("application/pdf; x=1"), "a", b"%PDF-1.7"), "application/pdf; x=1");
        // Weak signs of text never overrule: an HTML page declared as plain text stays text.
        assert_eq!(media_type_settled(Some("text/plain"), "seite", b"<!DOCTYPE html><html>"), "text/plain");
        assert_eq!(media_type_settled(None, "leer.txt", b""), "text/plain");
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(validate(ObjKind::Akte, &map(json!({"aktenzeichen":"1-1/2026","title":"T"})), true).is_ok());
        let e = validate(ObjKind::Akte, &map(json!({"title":"T"})), true).unwrap_err().to_string();
        assert!(e.contains("aktenzeichen"), "{e}");
        assert!(validate(ObjKind::Akte, &map(json!({"colour":"red"})), false).is_err());
        assert!(validate(ObjKind::Akte, &map(json!({"retention_years":"ten"})), false).is_err());
        assert!(validate(ObjKind::Akte, &map(json!({"laufzeit_beginn":"2026-13-01"})), false).is_err());
        assert!(validate(ObjKind::Akte, &map(json!({"appraisal":"archivwuerdig","status":"zda"})), false).is_ok());
        assert!(validate(ObjKind::Version, &map(json!({"file_name":"../etc/passwd"})), true).is_err());
        assert!(validate(ObjKind::Akte, &map(json!({"title":"  "})), false).is_err());
    }
}
