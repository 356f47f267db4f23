//! The host's own types for what goes into and comes out of a plugin, and the checks that
//! turn a guest's raw output into them (size caps, page ranges, field names).
//!
//! **API boundary:** callers see these types, never the generated bindings, so a new WIT
//! version changes `bindings.rs` and the conversions here, not every caller.

use std::ops::Range;
use std::time::Duration;

use crate::bindings::enricher::exports::akte::plugin::enrich as wit_enrich;
use crate::bindings::extractor::akte::plugin::types as wit;
use crate::bindings::extractor::exports::akte::plugin::extract as wit_extract;
use crate::bindings::validator::exports::akte::plugin::validate as wit_validate;
use crate::manifest::Limits;

/// A named value, e.g. `gemarkung` = `Hohenfelde`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The name in kebab-case (lowercase ASCII letters, digits, `-`; 1 to 64 bytes).
    pub name: String,
    /// The value as text.
    pub value: String,
}

impl Field {
    /// A field from name and value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Field {
        Field { name: name.into(), value: value.into() }
    }
}

/// A failure a plugin reports for an input it cannot handle.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The plugin does not handle this media type or format variant.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The content is damaged or not what its media type claims.
    #[error("malformed: {0}")]
    Malformed(String),
    /// Any other reason.
    #[error("{0}")]
    Other(String),
}

/// What the host tells an enricher or validator about a document, besides its content.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocumentInfo {
    /// The media type as received, possibly with parameters.
    pub media_type: String,
    /// The file name as uploaded, without directories.
    pub file_name: Option<String>,
    /// The content's size in bytes.
    pub size: u64,
    /// The document type already assigned, e.g. `Bescheid`.
    pub document_type: Option<String>,
    /// The Aktenzeichen of the Akte the document is in.
    pub aktenzeichen: Option<String>,
    /// The Betreff of that Akte.
    pub akte_title: Option<String>,
    /// The Aktenplan node of that Akte, e.g. `61.2`.
    pub aktenplan: Option<String>,
    /// The document's metadata fields as currently set.
    pub fields: Vec<Field>,
}

/// What an extractor produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extraction {
    /// The text, UTF-8, without markup.
    pub text: String,
    /// The pages as byte ranges of `text`, in order; empty when the format has no pages.
    pub pages: Vec<Range<usize>>,
    /// Fields the format carries (title, author, encoding …).
    pub fields: Vec<Field>,
    /// The declared language as a BCP 47 tag, if any.
    pub language: Option<String>,
}

impl Extraction {
    /// The text of each page; the whole text as one page when there are no pages.
    pub fn page_texts(&self) -> Vec<&str> {
        if self.pages.is_empty() {
            return vec![self.text.as_str()];
        }
        self.pages.iter().map(|r| &self.text[r.clone()]).collect()
    }

    /// The value of the first field called `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.name == name).map(|f| f.value.as_str())
    }
}

/// What an enricher suggests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    /// The document type, if the plugin has an opinion.
    pub document_type: Option<String>,
    /// Fields to set.
    pub fields: Vec<Field>,
    /// Tags to add.
    pub tags: Vec<String>,
    /// How sure the plugin is, 0 to 100.
    pub confidence: u8,
}

/// A validator's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The document may be stored.
    Accept,
    /// The document must not be stored.
    Reject {
        /// A sentence for the clerk, in German.
        reason: String,
        /// A stable machine code, e.g. `encrypted-pdf`.
        code: String,
    },
}

/// The level of a log record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Detail for plugin developers.
    Debug,
    /// A normal event.
    Info,
    /// Something unexpected that was worked around.
    Warn,
    /// Something failed.
    Error,
}

/// One record a plugin (or the host about the plugin) logged during a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// How important it is.
    pub level: LogLevel,
    /// The message, at most 2 KiB.
    pub message: String,
}

/// The result of a successful call, with what the plugin logged.
#[derive(Clone, Debug)]
pub struct Outcome<T> {
    /// What the plugin returned, checked against its limits.
    pub value: T,
    /// The log records of the call (at most 256).
    pub logs: Vec<LogRecord>,
    /// How many further log records were dropped.
    pub logs_dropped: u32,
    /// Wall-clock time of the call, instantiation included.
    pub elapsed: Duration,
}

/// Why a guest's output was refused; `plugin.rs` adds the plugin's name.
#[derive(Debug)]
pub(crate) enum OutputProblem {
    TooLarge { what: &'static str, actual: u64, limit: u64 },
    Invalid(String),
}

/// Counts output bytes and items against the manifest's limits.
struct Budget<'a> {
    limits: &'a Limits,
    bytes: u64,
}

impl Budget<'_> {
    fn spend(&mut self, bytes: usize) -> Result<(), OutputProblem> {
        self.bytes = self.bytes.saturating_add(bytes as u64);
        if self.bytes > self.limits.max_output_bytes {
            return Err(OutputProblem::TooLarge {
                what: "output size in bytes",
                actual: self.bytes,
                limit: self.limits.max_output_bytes,
            });
        }
        Ok(())
    }

    fn count(&self, what: &'static str, n: usize) -> Result<(), OutputProblem> {
        if n as u64 > u64::from(self.limits.max_fields) {
            return Err(OutputProblem::TooLarge { what, actual: n as u64, limit: u64::from(self.limits.max_fields) });
        }
        Ok(())
    }

    /// Checks the fields' count and size; drops (and logs) those with an invalid name.
    fn fields(&mut self, raw: Vec<wit::Field>, logs: &mut Vec<LogRecord>) -> Result<Vec<Field>, OutputProblem> {
        self.count("number of fields", raw.len())?;
        let mut fields = Vec::with_capacity(raw.len());
        for f in raw {
            self.spend(f.name.len() + f.value.len())?;
            if valid_key(&f.name) {
                fields.push(Field { name: f.name, value: f.value });
            } else {
                let mut name = f.name;
                crate::sandbox::truncate_at_char(&mut name, 80);
                logs.push(host_log(format!("host: dropped a field with the invalid name {name:?}")));
            }
        }
        Ok(fields)
    }
}

fn host_log(message: String) -> LogRecord {
    LogRecord { level: LogLevel::Warn, message }
}

/// A kebab-case key: 1 to 64 bytes of lowercase ASCII letters, digits and `-`.
pub(crate) fn valid_key(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(crate) fn extraction(
    raw: wit_extract::Extraction,
    limits: &Limits,
    logs: &mut Vec<LogRecord>,
) -> Result<Extraction, OutputProblem> {
    let mut budget = Budget { limits, bytes: 0 };
    budget.spend(raw.text.len())?;
    budget.spend(raw.pages.len().saturating_mul(8))?;
    budget.spend(raw.language.as_ref().map_or(0, String::len))?;
    let fields = budget.fields(raw.fields, logs)?;
    let text = raw.text;
    let mut pages = Vec::with_capacity(raw.pages.len());
    let mut previous_end = 0;
    for (i, p) in raw.pages.iter().enumerate() {
        let (start, end) = (p.start as usize, p.end as usize);
        let fits = previous_end <= start && start <= end && end <= text.len();
        if !fits || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            return Err(OutputProblem::Invalid(format!(
                "page {} has the byte range {start}..{end}, which is not an in-order range on character \
                 boundaries of the {}-byte text",
                i + 1,
                text.len()
            )));
        }
        previous_end = end;
        pages.push(start..end);
    }
    Ok(Extraction { text, pages, fields, language: raw.language })
}

pub(crate) fn suggestion(
    raw: wit_enrich::Suggestion,
    limits: &Limits,
    logs: &mut Vec<LogRecord>,
) -> Result<Suggestion, OutputProblem> {
    let mut budget = Budget { limits, bytes: 0 };
    budget.spend(raw.document_type.as_ref().map_or(0, String::len))?;
    let fields = budget.fields(raw.fields, logs)?;
    budget.count("number of tags", raw.tags.len())?;
    let mut tags = Vec::with_capacity(raw.tags.len());
    for tag in raw.tags {
        budget.spend(tag.len())?;
        if (1..=64).contains(&tag.len()) {
            tags.push(tag);
        } else {
            logs.push(host_log(format!("host: dropped a tag of {} bytes (1 to 64 allowed)", tag.len())));
        }
    }
    if raw.confidence > 100 {
        return Err(OutputProblem::Invalid(format!("confidence {} is above 100", raw.confidence)));
    }
    Ok(Suggestion { document_type: raw.document_type, fields, tags, confidence: raw.confidence })
}

pub(crate) fn verdict(raw: wit_validate::Verdict, limits: &Limits) -> Result<Verdict, OutputProblem> {
    match raw {
        wit_validate::Verdict::Accept => Ok(Verdict::Accept),
        wit_validate::Verdict::Reject(r) => {
            let mut budget = Budget { limits, bytes: 0 };
            budget.spend(r.reason.len() + r.code.len())?;
            if r.reason.trim().is_empty() {
                return Err(OutputProblem::Invalid("a rejection needs a reason a clerk can read".into()));
            }
            if !valid_key(&r.code) {
                return Err(OutputProblem::Invalid(format!("rejection code {:?} is not kebab-case", r.code)));
            }
            Ok(Verdict::Reject { reason: r.reason, code: r.code })
        }
    }
}

/// At most this many bytes of a plugin's failure message are kept: a person reads it in one
/// line (`akte text`, the API), and a plugin's parser may quote a damaged input at length.
pub(crate) const MAX_FAILURE_BYTES: usize = 400;

pub(crate) fn failure(raw: wit::Failure) -> Failure {
    let cut = |mut s: String| {
        crate::sandbox::truncate_at_char(&mut s, MAX_FAILURE_BYTES);
        s
    };
    match raw {
        wit::Failure::Unsupported(s) => Failure::Unsupported(cut(s)),
        wit::Failure::Malformed(s) => Failure::Malformed(cut(s)),
        wit::Failure::Other(s) => Failure::Other(cut(s)),
    }
}

pub(crate) fn document_info(info: &DocumentInfo) -> wit::DocumentInfo {
    wit::DocumentInfo {
        media_type: info.media_type.clone(),
        file_name: info.file_name.clone(),
        size: info.size,
        document_type: info.document_type.clone(),
        aktenzeichen: info.aktenzeichen.clone(),
        akte_title: info.akte_title.clone(),
        aktenplan: info.aktenplan.clone(),
        fields: info.fields.iter().map(|f| wit::Field { name: f.name.clone(), value: f.value.clone() }).collect(),
    }
}
