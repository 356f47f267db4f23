//! Export and import of Akten through open formats: BagIt (RFC 8493), OCFL 1.1 and
//! xdomea 3.0.0 ([`xdomea`]).
//!
//! Both formats carry the same thing: per Akte a directory tree of the documents as
//! uploaded, named after Vorgänge and Dokumente, with our metadata as JSON beside them
//! ([`meta`]). BagIt puts the trees of all exported Akten into one bag ([`bagit`]); OCFL
//! makes each Akte an object of its own whose versions follow the Akte's journal
//! ([`ocfl`]).
//!
//! **Lossless round trip.** Export → import into another repository → export gives
//! byte-identical documents and metadata files: ids, fields, positions and version
//! numbers are kept, and history survives as *provenance* ([`provenance`]): the import
//! keeps the history the package brought verbatim, and an export writes it followed by
//! whatever this repository recorded since — without the import's own entries, which
//! stay in this repository's journal and history. For OCFL the imported versions are
//! kept as well, so the re-exported object has the same versions, then new ones.
//!
//! **Imports are all or nothing.** Every digest is checked (the bag's manifests, the OCFL
//! inventory and its sidecars), paths that could leave the package and symbolic links
//! are refused, metadata is validated, Aktenzeichen and ids must be new to the
//! repository; then the contents are stored and everything is committed as one journal
//! entry. Until that commit nothing of the import is visible.
//!
//! Documents are streamed both ways; memory holds a chunk of content and the metadata.

pub mod bagit;
mod error;
pub mod files;
mod import;
pub mod meta;
pub mod names;
pub mod ocfl;
pub mod paperless;
pub mod provenance;
pub mod xdomea;

use std::{collections::BTreeMap, path::PathBuf};

use akte_store::{catalog::Catalog, model::ObjKind};
use serde::Serialize;
use uuid::Uuid;

pub use bagit::{BagInfo, export_bagit, export_bagit_with, import_bagit, import_bagit_gated};
pub(crate) use error::foreign;
pub use error::{Error, Result};
pub use import::{Candidate, Gate, Held, ReadGuard, Shared, Ungated, WriteGuard};
pub use ocfl::{export_ocfl, import_ocfl, import_ocfl_gated};
pub use paperless::{PaperlessOptions, import_paperless, import_paperless_gated, import_paperless_with};
pub use xdomea::{AussonderungReport, aussonderung, export_0501, export_0503, import_0502};
pub use xdomea::{Limits, Sender, export_xdomea_0401, import_xdomea, import_xdomea_gated, import_xdomea_with};

/// The exchange format of a report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// BagIt (RFC 8493).
    #[default]
    Bagit,
    /// OCFL 1.1.
    Ocfl,
    /// xdomea 3.0.0.
    Xdomea,
    /// A Paperless-ngx `document_exporter` folder (import only).
    Paperless,
}

/// One Akte of an export or import.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AkteReport {
    /// The Akte's id.
    pub id: Uuid,
    /// Its Aktenzeichen.
    pub aktenzeichen: String,
    /// Its place in the package: the Akte directory inside the bag (`data/…`), or the
    /// OCFL object's directory below the storage root.
    pub path: String,
    /// For OCFL: the object's versions.
    pub ocfl_versions: Option<usize>,
    /// Where each object went, relative to `path` (metadata file for an Akte, Vorgang or
    /// Dokument, content file for a version; for OCFL the logical path in the head
    /// version). An import lists the versions only.
    pub files: BTreeMap<Uuid, String>,
}

/// What an export or import did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The format.
    pub format: Format,
    /// The bag or storage root.
    pub path: PathBuf,
    /// The Akten, in the order handled.
    pub akten: Vec<AkteReport>,
    /// Vorgänge in all Akten.
    pub vorgaenge: usize,
    /// Dokumente in all Akten.
    pub dokumente: usize,
    /// Versions in all Akten.
    pub versionen: usize,
    /// Document contents written (export) or stored (import).
    pub files: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// The Akten to export: the given ones (each must be an Akte, repeats dropped), or all
/// Akten ordered by Aktenzeichen when none are given.
pub fn select_akten(catalog: &Catalog, akten: &[Uuid]) -> Result<Vec<Uuid>> {
    if akten.is_empty() {
        let mut all: Vec<(&str, Uuid)> =
            catalog.all(ObjKind::Akte).map(|o| (o.text("aktenzeichen").unwrap_or_default(), o.id)).collect();
        all.sort();
        return Ok(all.into_iter().map(|(_, id)| id).collect());
    }
    let mut out = Vec::new();
    for id in akten {
        if catalog.get(id).is_none_or(|o| o.kind != ObjKind::Akte) {
            return Err(Error::Usage(format!("There is no Akte {id}")));
        }
        if !out.contains(id) {
            out.push(*id);
        }
    }
    Ok(out)
}
