//! xdomea 3.0.0: the XÖV standard for handing records from one agency to another
//! (Abgabe, message 0401) and to an archive (Aussonderung, 0501–0507: [`aussonderung`]).
//!
//! A message travels as a ZIP named `<ProzessID>_<Nachricht>.zip` holding
//! `<ProzessID>_<Nachricht>.xml` and the primary documents, each named
//! `<UUID>_<file name>` as the schema suggests. Every XML this module writes validates
//! against `xdomea.xsd` (the test suite runs `xmllint --schema` on each).
//!
//! **Mapping.** Akten, Vorgänge (nested as `Teilvorgang`) and Dokumente keep their ids as
//! the xdomea `ID`s; a Teilakte is read as a Vorgang, an Anlage as a Dokument beside its
//! Dokument, every further Format of a Version as a further version, each marked in
//! `custom.xdomea` ([`XDOMEA_KEY`]) so that the export writes them back as they came. The
//! standard elements carry what xdomea has a place for (Kennzeichen, Betreff,
//! Aktenplaneinheit, Laufzeit, Aufbewahrungsdauer, Aussonderungsart,
//! Vertraulichkeitsstufe, ZdA, dates, sender and recipient, versions with their formats
//! and primary documents, history as `HistorienProtokollInformation`). Everything else —
//! custom fields, access, legal hold, version ids and digests, the exact history and the
//! Aktenplan path — rides along losslessly in `AnwendungsspezifischeErweiterungXML` as one
//! `akte:Objekt` element (namespace `urn:akte:xdomea:1`) whose text is the object's
//! metadata document as BagIt and OCFL write it ([`crate::meta::ObjDoc`]). An import uses
//! that element when present (after checking that it agrees with the standard elements)
//! and the standard elements otherwise, so messages from other systems are read too.
//!
//! **Import safety.** The XML is parsed without any DTD (a DOCTYPE refuses the message),
//! so entities are never expanded; the ZIP's entry names must stay inside it; its entry
//! count, per-entry and total sizes and compression ratio are bounded ([`Limits`]); every
//! entry is checked against its CRC, and every primary document against the size and
//! digests the message states. The import is all or nothing: contents are stored first,
//! then everything is committed as one journal entry.

pub mod aussonderung;
mod codes;
mod export;
mod import;
pub mod xml;
pub mod zipin;

pub use aussonderung::{AussonderungReport, confirm, export_0501, export_0503, import_0502};
pub use export::{ABGABE_0401, export_xdomea_0401, message_names, primary_name};
pub use import::{import_xdomea, import_xdomea_gated, import_xdomea_with};

use uuid::Uuid;

/// The key in the `custom` field of a Vorgang or Dokument under which the xdomea mapping
/// keeps what our model has no field for: a Teilakte's metadata (`typ` = `Teilakte`,
/// `kennzeichen`, …), the Dokument an Anlage belongs to (`anlage_zu`, `nummer`), and how
/// versions group into xdomea Versionen with several Formate (`versionen`).
pub const XDOMEA_KEY: &str = "xdomea";
/// The `typ` in `custom.xdomea` of a Vorgang that is an xdomea Teilakte.
pub const TEILAKTE: &str = "Teilakte";

/// The sending agency and the message head of an export.
#[derive(Clone, Debug)]
pub struct Sender {
    /// The sending agency (`Absender/Institution/Name`).
    pub institution: String,
    /// Its organisational unit (`Absender/Organisationseinheit/Name`), if given.
    pub unit: Option<String>,
    /// The receiving agency or archive (`Empfaenger/Institution/Name`), if known.
    pub recipient: Option<String>,
    /// A note for the recipient (`Hinweis`).
    pub note: Option<String>,
    /// Whether the sender asks for a receipt (`Empfangsbestaetigung`).
    pub receipt: bool,
    /// The `ProzessID`; a new random UUID when not given.
    pub prozess_id: Option<Uuid>,
    /// The `Erstellungszeitpunkt`; now when not given.
    pub created: Option<time::OffsetDateTime>,
}

impl Default for Sender {
    fn default() -> Self {
        Sender {
            institution: "Akte".into(),
            unit: None,
            recipient: None,
            note: None,
            receipt: false,
            prozess_id: None,
            created: None,
        }
    }
}

/// Bounds an import puts on a ZIP before it unpacks anything.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most entries.
    pub max_entries: usize,
    /// Largest uncompressed entry, in bytes.
    pub max_entry: u64,
    /// Largest sum of uncompressed entries, in bytes.
    pub max_total: u64,
    /// Largest message XML, in bytes.
    pub max_xml: u64,
    /// Largest ratio of uncompressed to compressed size for an entry above 1 MiB.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_entries: 100_000, max_entry: 64 << 30, max_total: 256 << 30, max_xml: 512 << 20, max_ratio: 200 }
    }
}
