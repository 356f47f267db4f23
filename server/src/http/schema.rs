//! Types that exist for the OpenAPI document: what a field or a body is on the wire when
//! the Rust type says less (a `String` that takes a few words only, a body of raw bytes).
//! A client generated from the document then gets an enum and a file, not any string and
//! an array of integers.

use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};

/// Raw bytes as a body: a document's content, a ZIP. In the document: `string` of format
/// `binary`.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("Raw bytes"))
            .into()
    }
}

impl ToSchema for Binary {}

/// Whether an Akte or a Vorgang is open or closed (zu den Akten, `zda`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Open: Dokumente may be added.
    Offen,
    /// Closed (zu den Akten): nothing is added; retention runs from here.
    Zda,
}

impl Status {
    /// The status of an Akte or a Vorgang: closed when its `status` field says `zda`.
    pub fn of(obj: &akte_store::catalog::Obj) -> Status {
        if obj.text("status") == Some("zda") { Status::Zda } else { Status::Offen }
    }
}

/// The kind of an object in the change feed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A node of the Aktenplan.
    Aktenplan,
    /// An Akte.
    Akte,
    /// A Vorgang.
    Vorgang,
    /// A Dokument.
    Dokument,
    /// A version of a Dokument's content.
    Version,
    /// A plugin (admins only).
    Plugin,
    /// A local account (admins only).
    Account,
    /// An API token (admins only).
    Token,
}

impl From<akte_store::model::ObjKind> for Kind {
    fn from(kind: akte_store::model::ObjKind) -> Kind {
        use akte_store::model::ObjKind as K;
        match kind {
            K::Aktenplan => Kind::Aktenplan,
            K::Akte => Kind::Akte,
            K::Vorgang => Kind::Vorgang,
            K::Dokument => Kind::Dokument,
            K::Version => Kind::Version,
            K::Plugin => Kind::Plugin,
            K::Account => Kind::Account,
            K::Token => Kind::Token,
        }
    }
}

/// What a change in the feed did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeAction {
    /// The object was created.
    Create,
    /// Fields of the object changed.
    Update,
    /// The Akte was deleted at the end of its retention (shown to those who may delete).
    Delete,
    /// A derived result was recorded for the Dokument's content: extracted text, OCR, an
    /// enricher's suggestion, or a plugin's failure (`fields.producer` names it;
    /// `GET /dokumente/{id}/text` shows the result).
    Derive,
}

/// What an entry of an object's history records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
#[expect(dead_code, reason = "the history keeps these words as text; the type names them for the OpenAPI document")]
pub enum HistoryAction {
    /// The object was created.
    Create,
    /// Fields changed.
    Update,
    /// A new version of a Dokument's content (the entry's object is the version).
    AddVersion,
    /// A read of the metadata through the API.
    Metadata,
    /// A read of the content.
    Content,
    /// A read of the extracted text.
    Text,
    /// A read of the history.
    History,
    /// The object left in an export.
    Export,
    /// A Dokument shown as a search hit (its title, and a snippet of its text).
    Search,
}

/// Where a Dokument's text stands (`GET …/text`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TextState {
    /// An extractor or OCR has produced text (empty for an empty document).
    Done,
    /// No text yet; an extractor or OCR is still to run.
    Pending,
    /// Every extractor and OCR that ran failed (see `failures`), none is left to run.
    Failed,
    /// No extractor takes the Dokument's media type, and there is no OCR for it.
    None,
    /// Text was extracted, but pages without a text layer (a scan, listed in the field
    /// `pages-without-text`) have not been read: this node has no OCR, or OCR failed.
    Partial,
}

impl From<akte_ingest::TextState> for TextState {
    fn from(state: akte_ingest::TextState) -> TextState {
        match state {
            akte_ingest::TextState::Done => TextState::Done,
            akte_ingest::TextState::Pending => TextState::Pending,
            akte_ingest::TextState::Failed => TextState::Failed,
            akte_ingest::TextState::None => TextState::None,
            akte_ingest::TextState::Partial => TextState::Partial,
        }
    }
}

/// How a caller read an object, as its history records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Read {
    /// The metadata.
    Metadata,
    /// The content.
    Content,
    /// The extracted text.
    Text,
    /// The history.
    History,
    /// In an export.
    Export,
    /// As a search hit: title and snippet.
    Search,
}

impl Read {
    /// The word recorded in the journal (one of [`HistoryAction`]'s).
    pub fn as_str(self) -> &'static str {
        match self {
            Read::Metadata => "metadata",
            Read::Content => "content",
            Read::Text => "text",
            Read::History => "history",
            Read::Export => "export",
            Read::Search => "search",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use akte_store::model::ObjKind;

    #[test]
    fn kinds_are_named_as_the_store_names_them() {
        for k in [
            ObjKind::Aktenplan,
            ObjKind::Akte,
            ObjKind::Vorgang,
            ObjKind::Dokument,
            ObjKind::Version,
            ObjKind::Plugin,
            ObjKind::Account,
            ObjKind::Token,
        ] {
            assert_eq!(serde_json::to_value(Kind::from(k)).unwrap(), serde_json::to_value(k).unwrap());
        }
    }

    #[test]
    fn every_read_is_a_history_action() {
        for (read, action) in [
            (Read::Metadata, HistoryAction::Metadata),
            (Read::Content, HistoryAction::Content),
            (Read::Text, HistoryAction::Text),
            (Read::History, HistoryAction::History),
            (Read::Export, HistoryAction::Export),
        ] {
            assert_eq!(serde_json::to_value(action).unwrap(), read.as_str());
        }
    }
}
