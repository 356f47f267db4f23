//! [`IndexDoc`]: what the caller tells the index about one Dokument, and its mapping to
//! the tantivy document.

use crate::limits::{MAX_INDEXED_TEXT_BYTES, SNIPPET_SOURCE_BYTES};
use crate::schema::Fields;
use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;
use tantivy::schema::Facet;

/// One node of the Aktenplan path of a document's Akte, root first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanNode {
    /// Code, e.g. `61.2`; facet counts and filters use codes.
    pub code: String,
    /// Title, e.g. `Genehmigungen nach BImSchG` (for the caller's display; not searched:
    /// every document below `61.2` would otherwise match "Genehmigung").
    pub title: String,
}

/// Everything the index knows about one Dokument (its latest version). The caller (the
/// server) fills it from the catalog and the extraction records; the index knows nothing
/// of the store.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexDoc {
    /// The Dokument's id: the key of upsert and delete.
    pub dokument_id: String,
    /// The Akte's id (the `akte` filter).
    pub akte_id: String,
    /// Aktenzeichen of the Akte (`az:` with prefix search).
    pub aktenzeichen: String,
    /// Title (Betreff) of the Akte.
    pub akte_title: String,
    /// Aktenplan path of the Akte, root first.
    pub aktenplan: Vec<PlanNode>,
    /// The Vorgang, if any.
    pub vorgang_id: Option<String>,
    /// Title of the Vorgang.
    pub vorgang_title: Option<String>,
    /// Title of the Dokument.
    pub title: String,
    /// File name of the latest version.
    pub file_name: Option<String>,
    /// Document type (Antrag, Bescheid …).
    pub document_type: Option<String>,
    /// Media type of the latest version.
    pub media_type: Option<String>,
    /// Sender (Absender).
    pub sender: Option<String>,
    /// Recipient (Empfänger).
    pub recipient: Option<String>,
    /// Document date (received, sent or written).
    #[serde(with = "crate::dates::option", default)]
    pub date: Option<time::Date>,
    /// Status of the Akte or Vorgang: `offen` or `zda`.
    pub status: Option<String>,
    /// Extracted text (OCR included). Indexed up to [`MAX_INDEXED_TEXT_BYTES`].
    pub text: String,
    /// Text per page, used when `text` is empty.
    pub page_texts: Vec<String>,
    /// Fields from enricher plugins, searchable as `name value`.
    pub fields: Vec<(String, String)>,
    /// Tags (Schlagworte).
    pub tags: Vec<String>,
    /// Access tokens that may read this document (e.g. `akte:<uuid>`, `group:…`). A
    /// document without readers is found only with [`crate::Access::all`].
    pub readers: Vec<String>,
    /// Version or content hash, returned by [`crate::Index::indexed_hash`].
    pub content_hash: Option<String>,
}

impl IndexDoc {
    /// The text to index: `text`, or the pages joined when `text` is empty.
    fn full_text(&self) -> std::borrow::Cow<'_, str> {
        if self.text.is_empty() && !self.page_texts.is_empty() {
            self.page_texts.join("\n\n").into()
        } else {
            self.text.as_str().into()
        }
    }

    /// The searchable context as a clerk reads it in a snippet, e.g. `Absender: Landkreis
    /// Heideland · Vorgang: Antrag · Akte: 61.2-0815/2026 Windpark Hohe Heide`.
    fn context_lines(&self) -> String {
        let mut lines: Vec<String> = Vec::new();
        let mut line = |label: &str, value: &str| {
            if !value.trim().is_empty() {
                lines.push(format!("{label}: {}", value.trim()));
            }
        };
        line("Absender", self.sender.as_deref().unwrap_or_default());
        line("Empfänger", self.recipient.as_deref().unwrap_or_default());
        line("Dokumenttyp", self.document_type.as_deref().unwrap_or_default());
        line("Vorgang", self.vorgang_title.as_deref().unwrap_or_default());
        line("Akte", &format!("{} {}", self.aktenzeichen, self.akte_title));
        line("Schlagworte", &self.tags.join(", "));
        for (k, v) in &self.fields {
            line(k, v);
        }
        cut(&lines.join(" · "), 16 << 10).to_string()
    }

    /// The tantivy document, and whether the text was truncated.
    pub(crate) fn to_document(&self, f: &Fields) -> (TantivyDocument, bool) {
        let mut d = TantivyDocument::default();
        let full = self.full_text();
        let text = cut(&full, MAX_INDEXED_TEXT_BYTES);
        let truncated = text.len() < full.len();
        d.add_text(f.id, &self.dokument_id);
        d.add_text(f.akte, &self.akte_id);
        if let Some(v) = &self.vorgang_id {
            d.add_text(f.vorgang, v);
        }
        for r in &self.readers {
            d.add_text(f.readers, r);
        }
        if let Some(h) = &self.content_hash {
            d.add_text(f.hash, h);
        }
        d.add_text(f.az, &self.aktenzeichen);
        d.add_text(f.title, &self.title);
        d.add_bytes(f.snippet_src, cut(text, SNIPPET_SOURCE_BYTES).as_bytes());
        d.add_bool(f.truncated, truncated);

        let mut head = vec![self.title.as_str()];
        head.extend(self.file_name.as_deref());
        let mut ctx = vec![self.akte_title.as_str(), self.aktenzeichen.as_str()];
        ctx.extend(self.vorgang_title.as_deref());
        ctx.extend(self.sender.as_deref());
        ctx.extend(self.recipient.as_deref());
        ctx.extend(self.document_type.as_deref());
        ctx.extend(self.tags.iter().map(String::as_str));
        let fields: Vec<String> = self.fields.iter().map(|(k, v)| format!("{k} {v}")).collect();
        ctx.extend(fields.iter().map(String::as_str));
        for v in &head {
            d.add_text(f.head, v);
            d.add_text(f.exact, v);
        }
        d.add_text(f.body, text);
        d.add_text(f.exact, text);
        for v in &ctx {
            d.add_text(f.ctx, v);
            d.add_text(f.exact, v);
        }
        d.add_bytes(f.ctx_src, self.context_lines().as_bytes());

        if let Some(t) = &self.document_type {
            d.add_text(f.doctype, t);
            d.add_text(f.doctype_kw, t);
            d.add_facet(f.f_doctype, Facet::from_path([t]));
        }
        if let Some(m) = &self.media_type {
            d.add_text(f.media_kw, m);
            d.add_facet(f.f_media, Facet::from_path([m]));
        }
        if let Some(s) = &self.sender {
            d.add_text(f.sender, s);
            d.add_text(f.sender_kw, s);
        }
        if let Some(r) = &self.recipient {
            d.add_text(f.recipient, r);
        }
        if let Some(s) = &self.status {
            d.add_text(f.status_kw, s);
            d.add_facet(f.f_status, Facet::from_path([s.to_lowercase()]));
        }
        if let Some(date) = self.date {
            d.add_i64(f.date, date_key(date));
            d.add_facet(f.f_year, Facet::from_path([date.year().to_string()]));
        }
        if !self.aktenplan.is_empty() {
            d.add_facet(f.f_plan, Facet::from_path(self.aktenplan.iter().map(|n| n.code.as_str())));
        }
        (d, truncated)
    }
}

/// `YYYYMMDD` as a number: sorts and ranges like the date.
pub(crate) fn date_key(d: time::Date) -> i64 {
    i64::from(d.year()) * 10_000 + i64::from(u8::from(d.month())) * 100 + i64::from(d.day())
}

/// The longest prefix of `s` of at most `max` bytes that ends at a word boundary when one
/// is near, else at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut start = end.saturating_sub(64);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    match s[start..end].rfind(char::is_whitespace) {
        Some(ws) => &s[..start + ws],
        None => &s[..end],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_prefers_word_boundaries_and_never_splits_characters() {
        assert_eq!(cut("Windpark Hohe Heide", 15), "Windpark Hohe");
        assert_eq!(cut("äääää", 3), "ä");
        assert_eq!(cut("kurz", 10), "kurz");
    }

    #[test]
    fn date_keys_sort_like_dates() {
        let d = |y, m, day| time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap();
        assert_eq!(date_key(d(2026, 2, 3)), 20260203);
        assert!(date_key(d(2025, 12, 31)) < date_key(d(2026, 1, 1)));
    }
}
