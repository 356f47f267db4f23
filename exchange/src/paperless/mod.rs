//! Paperless-ngx: importing the folder its `document_exporter` writes.
//!
//! The folder holds `manifest.json`, a JSON array of serialized database records
//! (`{"model": "documents.document", "pk": 1, "fields": {…}}`), and the exported files;
//! each document record names its original (`__exported_file_name__`) and, if Paperless
//! made one, its archived PDF/A (`__exported_archive_name__`), relative to the folder.
//!
//! **Mapping.** One Akte per correspondent that has documents, plus one Akte
//! [`NO_CORRESPONDENT`] for the documents without one, all under one Aktenplan node (the
//! caller's, or [`DEFAULT_AKTENPLAN_CODE`], created on first use). Each document becomes a
//! Dokument (title, document type) with the original as version 1 and the archived PDF/A,
//! when there is one, as version 2; everything else Paperless knows of the document
//! (its id, created date, correspondent, type, tags, custom fields, notes, archive serial
//! number, original file name, checksums) is kept in the Dokument's `custom` fields under
//! `paperless_…` names. `exchange/README.md` has the table.
//!
//! **Checks.** The manifest is read streaming, at most [`PaperlessOptions::max_manifest`]
//! bytes and [`PaperlessOptions::max_records`] records of the models read, nested at most
//! as deep as `serde_json` allows (128); the large `content` (OCR text) of each document is
//! skipped, not kept. Records of models this import does not read are ignored. Every
//! reference between records must resolve, every named file must be a regular file inside
//! the folder (no `..`, no absolute path, no symbolic link anywhere in the folder), and
//! its MD5 must equal the manifest's `checksum` (`archive_checksum` for the PDF/A). A
//! document already imported (same Paperless id and checksum) refuses the whole import.
//! Then, as for BagIt, the contents are stored and everything is one journal entry: on
//! any error nothing becomes visible.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fmt,
    io::Read,
    path::{Path, PathBuf},
};

use akte_store::{
    Repository,
    model::{self, ObjKind},
};
use serde_json::{Map, Value, json};
use sha2::Digest;
use uuid::Uuid;

mod manifest;

use manifest::{Record, read_manifest};

use crate::{
    Error, Format, Report, Result,
    files::{Entry, check_package_dir, open_regular, read_limited, walk},
    import::{ContentFile, Expect, Gate, Held, Incoming, Shared, Ungated, commit_all},
    meta::{FORMAT, ObjDoc, PObj, Parsed, PlanNode, aktenplan_chain},
    names::{join, safe_component},
    provenance::{PROVENANCE_VERSION, Provenance},
};

/// The manifest of an export, at the root of its folder.
pub const MANIFEST: &str = "manifest.json";
/// The file newer versions write beside the manifest (its `version` is kept).
const METADATA: &str = "metadata.json";
/// The Aktenplan code of the node the Akten go under when the caller names none.
pub const DEFAULT_AKTENPLAN_CODE: &str = "paperless";
/// The title of that node (when the import creates it).
pub const DEFAULT_AKTENPLAN_TITLE: &str = "Import aus Paperless-ngx";
/// The title of the Akte that takes the documents without a correspondent.
pub const NO_CORRESPONDENT: &str = "Paperless-Import ohne Korrespondent";
/// The provenance format recorded with each imported Akte.
const PROVENANCE_FORMAT: &str = "paperless-ngx";

/// Which `value_…` field holds a custom field's value, by its `data_type`.
const VALUE_FIELDS: [(&str, &str); 10] = [
    ("string", "value_text"),
    ("longtext", "value_long_text"),
    ("url", "value_url"),
    ("date", "value_date"),
    ("boolean", "value_bool"),
    ("integer", "value_int"),
    ("float", "value_float"),
    ("monetary", "value_monetary"),
    ("documentlink", "value_document_ids"),
    ("select", "value_select"),
];

/// Where the Akten go and how much of a manifest is read.
#[derive(Clone, Debug)]
pub struct PaperlessOptions {
    /// The Aktenplan code of an existing node for the new Akten; `None`: the node
    /// [`DEFAULT_AKTENPLAN_CODE`] (created with the import if the repository lacks it).
    pub aktenplan: Option<String>,
    /// Largest `manifest.json`, in bytes.
    pub max_manifest: u64,
    /// Most records of the models read (records of other models are not counted).
    pub max_records: usize,
}

impl Default for PaperlessOptions {
    fn default() -> Self {
        PaperlessOptions { aktenplan: None, max_manifest: 2 << 30, max_records: 1_000_000 }
    }
}

/// A record of a model read, with its numeric pk.
struct Rec<'a> {
    model: &'a str,
    pk: u64,
    fields: &'a Map<String, Value>,
}

impl Rec<'_> {
    fn error(&self, reason: impl fmt::Display) -> Error {
        Error::invalid(MANIFEST, format!("{} {}: {reason}", self.model, self.pk))
    }

    /// A text field: absent and null are `None`, anything but a string is an error.
    fn text(&self, key: &str) -> Result<Option<&str>> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.error(format!("its {key} is not text but {other}"))),
        }
    }

    /// A reference to another record (a pk or null).
    fn reference(&self, key: &str) -> Result<Option<u64>> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| self.error(format!("its {key} is not a record id but {v}"))),
        }
    }

    /// A reference that must resolve in `names`.
    fn resolve<'n>(&self, key: &str, names: &'n BTreeMap<u64, String>) -> Result<Option<&'n String>> {
        match self.reference(key)? {
            None => Ok(None),
            Some(pk) => names
                .get(&pk)
                .map(Some)
                .ok_or_else(|| self.error(format!("its {key} is {pk}, which the manifest does not hold"))),
        }
    }

    fn deleted(&self) -> bool {
        self.fields.get("deleted_at").is_some_and(|v| !v.is_null())
    }
}

/// A custom field's definition.
struct CustomField {
    name: String,
    data_type: Option<String>,
    extra: Option<Value>,
}

impl CustomField {
    /// The value of one instance: the `value_…` field its data type names, else the first
    /// that is set; a select option's index or id becomes its label.
    fn value(&self, fields: &Map<String, Value>) -> Value {
        let by_type = VALUE_FIELDS.iter().find(|(t, _)| Some(*t) == self.data_type.as_deref()).map(|(_, k)| *k);
        let value = by_type
            .and_then(|k| fields.get(k))
            .or_else(|| fields.iter().find(|(k, v)| k.starts_with("value_") && !v.is_null()).map(|(_, v)| v))
            .cloned()
            .unwrap_or(Value::Null);
        if self.data_type.as_deref() != Some("select") {
            return value;
        }
        let options = self.extra.as_ref().and_then(|e| e.get("select_options")).and_then(Value::as_array);
        let label = options.and_then(|opts| match &value {
            Value::Number(n) => n.as_u64().and_then(|i| opts.get(i as usize)).filter(|o| o.is_string()).cloned(),
            Value::String(id) => opts
                .iter()
                .find(|o| o.get("id").and_then(Value::as_str) == Some(id))
                .and_then(|o| o.get("label"))
                .cloned(),
            _ => None,
        });
        label.unwrap_or(value)
    }
}

/// What the manifest says, the references resolved.
#[derive(Default)]
struct Export<'a> {
    correspondents: BTreeMap<u64, String>,
    types: BTreeMap<u64, String>,
    tags: BTreeMap<u64, String>,
    storage_paths: BTreeMap<u64, String>,
    users: BTreeMap<u64, String>,
    fields: BTreeMap<u64, CustomField>,
    documents: BTreeMap<u64, (Rec<'a>, &'a Record)>,
    custom: BTreeMap<u64, Map<String, Value>>,
    notes: BTreeMap<u64, Vec<(String, u64, Value)>>,
}

/// The numeric pk of a record.
fn pk_of(r: &Record) -> Result<u64> {
    r.pk.as_ref()
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::invalid(MANIFEST, format!("a {} record has no numeric pk", r.model)))
}

fn insert_unique<T>(map: &mut BTreeMap<u64, T>, rec: &Rec, value: T) -> Result<()> {
    if map.insert(rec.pk, value).is_some() {
        return Err(rec.error("the manifest holds this record twice"));
    }
    Ok(())
}

/// The name of a correspondent, type, tag or storage path (required, not empty).
fn name_of(rec: &Rec, key: &str) -> Result<String> {
    match rec.text(key)?.map(str::trim) {
        Some(n) if !n.is_empty() => Ok(n.to_string()),
        _ => Err(rec.error(format!("has no {key}"))),
    }
}

impl<'a> Export<'a> {
    fn read(records: &'a [Record]) -> Result<Export<'a>> {
        let mut x = Export::default();
        let mut later = Vec::new();
        for r in records {
            let rec = Rec { model: &r.model, pk: pk_of(r)?, fields: &r.fields.0 };
            match r.model.as_str() {
                "documents.correspondent" => insert_unique(&mut x.correspondents, &rec, name_of(&rec, "name")?)?,
                "documents.documenttype" => insert_unique(&mut x.types, &rec, name_of(&rec, "name")?)?,
                "documents.tag" => insert_unique(&mut x.tags, &rec, name_of(&rec, "name")?)?,
                "documents.storagepath" => insert_unique(&mut x.storage_paths, &rec, name_of(&rec, "name")?)?,
                "auth.user" => insert_unique(&mut x.users, &rec, name_of(&rec, "username")?)?,
                "documents.customfield" => {
                    let cf = CustomField {
                        name: name_of(&rec, "name")?,
                        data_type: rec.text("data_type")?.map(str::to_string),
                        extra: rec.fields.get("extra_data").cloned(),
                    };
                    insert_unique(&mut x.fields, &rec, cf)?;
                }
                "documents.document" => {
                    if x.documents.contains_key(&rec.pk) {
                        return Err(rec.error("the manifest holds this record twice"));
                    }
                    x.documents.insert(rec.pk, (rec, r));
                }
                _ => later.push(rec),
            }
        }
        let mut seen_instances = HashSet::new();
        for rec in later {
            if rec.deleted() {
                continue;
            }
            let document = rec.reference("document")?.ok_or_else(|| rec.error("names no document")).and_then(|d| {
                match x.documents.contains_key(&d) {
                    true => Ok(d),
                    false => Err(rec.error(format!("its document is {d}, which the manifest does not hold"))),
                }
            })?;
            if !seen_instances.insert((rec.model, rec.pk)) {
                return Err(rec.error("the manifest holds this record twice"));
            }
            if rec.model == "documents.note" {
                let user = match rec.reference("user")? {
                    Some(u) => x.users.get(&u).map(|n| json!(n)).unwrap_or(json!(u)),
                    None => Value::Null,
                };
                let note = json!({
                    "note": rec.text("note")?.unwrap_or_default(),
                    "created": rec.text("created")?,
                    "user": user,
                });
                let created = rec.text("created")?.unwrap_or_default().to_string();
                x.notes.entry(document).or_default().push((created, rec.pk, note));
                continue;
            }
            let field = rec.reference("field")?.ok_or_else(|| rec.error("names no custom field"))?;
            let cf = x
                .fields
                .get(&field)
                .ok_or_else(|| rec.error(format!("its field is {field}, which the manifest does not hold")))?;
            let values = x.custom.entry(document).or_default();
            if values.insert(cf.name.clone(), cf.value(rec.fields)).is_some() {
                return Err(rec.error(format!("document {document} has the custom field {:?} twice", cf.name)));
            }
        }
        Ok(x)
    }
}

/// Size and digests of one exported file.
struct Hashed {
    size: u64,
    md5: String,
    sha256: String,
    blake3: String,
}

/// Hashes one file of the export (MD5 to check it, SHA-256 and BLAKE3 for the version).
async fn hash_export_file(path: PathBuf, shown: String) -> Result<Hashed> {
    tokio::task::spawn_blocking(move || {
        let mut f = open_regular(&path, &shown)?;
        let (mut md5, mut sha256, mut b3) = (md5::Md5::new(), sha2::Sha256::new(), blake3::Hasher::new());
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = f.read(&mut buf).map_err(|e| Error::io(&path, e))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            md5.update(&buf[..n]);
            sha256.update(&buf[..n]);
            b3.update(&buf[..n]);
        }
        Ok(Hashed {
            size,
            md5: hex::encode(md5.finalize()),
            sha256: hex::encode(sha256.finalize()),
            blake3: b3.finalize().to_hex().to_string(),
        })
    })
    .await
    .expect("hashing does not panic")
}

/// A file a document names: a checked relative path to a regular file of the export.
fn named_file(dir: &Path, entries: &HashMap<String, Entry>, rel: &str, pk: u64, key: &str) -> Result<PathBuf> {
    let path = join(dir, rel).map_err(|e| match e {
        Error::UnsafePath { path, reason } => {
            Error::unsafe_path(path, format!("{reason} (the {key} of documents.document {pk})"))
        }
        e => e,
    })?;
    match entries.get(rel) {
        Some(Entry::File) => Ok(path),
        Some(Entry::Dir) => Err(Error::invalid(rel, format!("is a directory, named by document {pk} as its {key}"))),
        None => {
            Err(Error::integrity(rel, format!("is named by document {pk} as its {key}, but missing from the export")))
        }
    }
}

/// A checksum as the manifest states it: 32 hex digits (MD5).
fn md5_field(rec: &Rec, key: &str) -> Result<String> {
    match rec.text(key)? {
        Some(s) if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(s.to_ascii_lowercase()),
        Some(s) => Err(rec.error(format!("its {key} {s:?} is not an MD5 (32 hex digits)"))),
        None => Err(rec.error(format!("has no {key}, so its file cannot be checked"))),
    }
}

/// The last component of a name a manifest gives, usable as a version's file name.
fn plain_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    if base.is_empty() {
        return None;
    }
    Some(if model::safe_file_name(base).is_ok() { base.to_string() } else { safe_component(base) })
}

/// The stem of a file name (without its last extension).
fn stem(name: &str) -> &str {
    name.rsplit_once('.').map(|(s, _)| s).filter(|s| !s.is_empty()).unwrap_or(name)
}

/// The media type Paperless recorded, if it looks like one; else a guess from the name.
fn media_type(mime: Option<&str>, file_name: &str) -> String {
    match mime {
        Some(m)
            if m.len() <= 255
                && m.bytes().all(|b| b.is_ascii_graphic())
                && m.split_once('/').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty()) =>
        {
            m.to_ascii_lowercase()
        }
        _ => model::media_type_for(file_name).to_string(),
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// One document, read and checked, its files not yet hashed.
struct Doc {
    pk: u64,
    correspondent: Option<u64>,
    fields: Map<String, Value>,
    /// `(file, its path in the export, MD5 the manifest states, version fields)`.
    files: Vec<(PathBuf, String, String, Map<String, Value>)>,
}

/// Reads one document record into Dokument fields and the versions to make.
fn document(
    x: &Export,
    dir: &Path,
    entries: &HashMap<String, Entry>,
    rec: &Rec,
    r: &Record,
    named: &mut HashSet<String>,
) -> Result<Doc> {
    let pk = rec.pk;
    let key = "__exported_file_name__";
    let exported = r.file.as_deref().ok_or_else(|| rec.error(format!("has no {key}")))?;
    let original = named_file(dir, entries, exported, pk, key)?;
    let original_filename = rec.text("original_filename")?;
    let file_name = original_filename
        .and_then(plain_name)
        .or_else(|| plain_name(exported))
        .ok_or_else(|| rec.error("has no usable file name"))?;
    let title = match rec.text("title")?.map(str::trim) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => stem(&file_name).to_string(),
    };
    let checksum = md5_field(rec, "checksum")?;

    let mut custom = Map::new();
    custom.insert("paperless_id".into(), json!(pk));
    for k in ["created", "added", "modified"] {
        if let Some(v) = rec.text(k)? {
            custom.insert(format!("paperless_{k}"), json!(v));
        }
    }
    let correspondent = rec.reference("correspondent")?;
    if let Some(name) = rec.resolve("correspondent", &x.correspondents)? {
        custom.insert("paperless_correspondent".into(), json!(name));
    }
    let document_type = rec.resolve("document_type", &x.types)?.cloned();
    if let Some(name) = &document_type {
        custom.insert("paperless_document_type".into(), json!(name));
    }
    let tags = match rec.fields.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|t| {
                let id = t.as_u64().ok_or_else(|| rec.error(format!("a tag {t} is not a record id")))?;
                x.tags
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| rec.error(format!("its tags name {id}, which the manifest does not hold")))
            })
            .collect::<Result<Vec<_>>>()?,
        Some(v) => return Err(rec.error(format!("its tags are not a list but {v}"))),
    };
    if !tags.is_empty() {
        custom.insert("paperless_tags".into(), json!(tags));
    }
    if let Some(values) = x.custom.get(&pk) {
        custom.insert("paperless_custom_fields".into(), Value::Object(values.clone()));
    }
    if let Some(notes) = x.notes.get(&pk) {
        let mut notes: Vec<&(String, u64, Value)> = notes.iter().collect();
        notes.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        custom.insert("paperless_notes".into(), Value::Array(notes.into_iter().map(|n| n.2.clone()).collect()));
    }
    match rec.fields.get("archive_serial_number") {
        None | Some(Value::Null) => {}
        Some(n @ Value::Number(_)) => {
            custom.insert("paperless_archive_serial_number".into(), n.clone());
        }
        Some(v) => return Err(rec.error(format!("its archive_serial_number is not a number but {v}"))),
    }
    if let Some(name) = original_filename {
        custom.insert("paperless_original_filename".into(), json!(name));
    }
    custom.insert("paperless_checksum".into(), json!(checksum));
    if let Some(path) = rec.resolve("storage_path", &x.storage_paths)? {
        custom.insert("paperless_storage_path".into(), json!(path));
    }
    if let Some(owner) = rec.reference("owner")? {
        custom.insert("paperless_owner".into(), x.users.get(&owner).map(|n| json!(n)).unwrap_or(json!(owner)));
    }

    let media = media_type(rec.text("mime_type")?, &file_name);
    let mut files = vec![(
        original,
        exported.to_string(),
        checksum,
        obj(json!({"file_name": file_name, "media_type": media, "comment": "Original aus Paperless-ngx"})),
    )];
    if let Some(archived) = r.archive.as_deref() {
        let key = "__exported_archive_name__";
        let path = named_file(dir, entries, archived, pk, key)?;
        let sum = md5_field(rec, "archive_checksum")?;
        custom.insert("paperless_archive_checksum".into(), json!(sum));
        let name = format!("{}.pdf", stem(&file_name));
        let fields = json!({"file_name": name, "media_type": "application/pdf",
            "comment": "PDF/A-Archivfassung aus Paperless-ngx"});
        files.push((path, archived.to_string(), sum, obj(fields)));
    }
    for (_, rel, _, _) in &files {
        if !named.insert(rel.clone()) {
            return Err(rec.error(format!("names {rel}, which another document names too")));
        }
    }

    let mut fields = obj(json!({"title": title}));
    if let Some(t) = document_type {
        fields.insert("document_type".into(), json!(t));
    }
    // Paperless-ngx's `created` is the date the document bears (a date, or a timestamp in
    // older exports); it stays whole in `custom` too.
    if let Some(day) = rec.text("created")?.and_then(created_date) {
        fields.insert("date".into(), json!(day));
    }
    fields.insert("custom".into(), Value::Object(custom));
    model::validate(ObjKind::Dokument, &fields, true).map_err(|e| rec.error(e))?;
    Ok(Doc { pk, correspondent, fields, files })
}

/// The calendar date of Paperless-ngx's `created`: a date as it is; a timestamp on the
/// German civil calendar when it is in UTC (older exports stored midnight in Berlin as
/// 23:00 or 22:00 UTC of the day before), else on its own offset's calendar. `None` for
/// anything else.
fn created_date(created: &str) -> Option<String> {
    use time::{OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description};
    let day = format_description!("[year]-[month]-[day]");
    if time::Date::parse(created, day).is_ok() {
        return Some(created.to_string());
    }
    let at = OffsetDateTime::parse(created, &Rfc3339).ok()?;
    let local = if at.offset().is_utc() { at.to_offset(akte_store::hlc::german_offset(at)) } else { at };
    local.date().format(day).ok()
}

/// Refuses documents this repository already holds from an earlier import.
fn check_not_imported(repo: &Repository, docs: &[Doc]) -> Result<()> {
    let catalog = repo.catalog();
    let mut imported: HashMap<(u64, &str), (Uuid, Option<Uuid>)> = HashMap::new();
    for d in catalog.all(ObjKind::Dokument) {
        let custom = d.fields.get("custom");
        let id = custom.and_then(|c| c.get("paperless_id")).and_then(Value::as_u64);
        let sum = custom.and_then(|c| c.get("paperless_checksum")).and_then(Value::as_str);
        if let (Some(id), Some(sum)) = (id, sum) {
            imported.insert((id, sum), (d.id, d.akte));
        }
    }
    for doc in docs {
        let sum = doc.files[0].2.as_str();
        if let Some((id, akte)) = imported.get(&(doc.pk, sum)) {
            let az = akte.and_then(|a| catalog.get(&a)).and_then(|a| a.text("aktenzeichen")).unwrap_or("?");
            return Err(Error::Conflict(format!(
                "Paperless-ngx document {} was already imported as Dokument {id} in Akte {az}, so nothing was imported",
                doc.pk
            )));
        }
    }
    Ok(())
}

/// The Aktenplan path for the new Akten: the caller's node (which must exist) or the
/// default node (existing, or created with the import).
fn plan_for(repo: &Repository, code: Option<&str>) -> Result<(String, Vec<PlanNode>)> {
    let state = &repo.catalog().state;
    if let Some(code) = code {
        let chain = aktenplan_chain(state, Some(code));
        if chain.is_empty() {
            return Err(Error::Usage(format!("There is no Aktenplan node with the code {code:?}")));
        }
        return Ok((code.to_string(), chain));
    }
    let chain = aktenplan_chain(state, Some(DEFAULT_AKTENPLAN_CODE));
    let chain = match chain.is_empty() {
        false => chain,
        true => vec![PlanNode {
            id: Uuid::now_v7(),
            parent: None,
            fields: obj(json!({"code": DEFAULT_AKTENPLAN_CODE, "title": DEFAULT_AKTENPLAN_TITLE})),
        }],
    };
    Ok((DEFAULT_AKTENPLAN_CODE.to_string(), chain))
}

/// Imports a Paperless-ngx export with the default [`PaperlessOptions`]. See
/// [`import_paperless_with`].
pub async fn import_paperless(repo: &mut Repository, dir: &Path) -> Result<Report> {
    import_paperless_with(repo, dir, &PaperlessOptions::default()).await
}

/// Imports the folder Paperless-ngx's `document_exporter` wrote (one `manifest.json`):
/// one Akte per correspondent (and one for documents without), each document a Dokument
/// with its original as version 1 and its archived PDF/A as version 2, Paperless's
/// metadata in the Dokument's `custom` fields. Checks everything first (manifest size and
/// records, references, paths, symbolic links, the MD5 of every file, documents imported
/// before), then stores the contents and commits all Akten as one journal entry; on any
/// error nothing becomes visible.
pub async fn import_paperless_with(repo: &mut Repository, dir: &Path, options: &PaperlessOptions) -> Result<Report> {
    import_paperless_gated(&Held::new(repo), dir, options, &Ungated).await
}

/// [`import_paperless_with`], asking `gate` about every file before anything is stored.
pub async fn import_paperless_gated(
    shared: &dyn Shared,
    dir: &Path,
    options: &PaperlessOptions,
    gate: &dyn Gate,
) -> Result<Report> {
    check_package_dir(dir)?;
    let entries: HashMap<String, Entry> = walk(dir, "")?.into_iter().collect();
    if entries.get(MANIFEST) != Some(&Entry::File) {
        return Err(Error::invalid(MANIFEST, "is missing, so the folder is no Paperless-ngx export"));
    }
    let (records, manifest_sha256) = read_manifest(dir, options)?;
    let version = match entries.get(METADATA) {
        Some(Entry::File) => {
            let bytes = read_limited(&dir.join(METADATA), METADATA, 1 << 20)?;
            serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|v| v.get("version").and_then(Value::as_str).map(str::to_string))
        }
        _ => None,
    };
    let x = Export::read(&records)?;

    let mut named = HashSet::new();
    let mut docs = Vec::new();
    for (rec, r) in x.documents.values() {
        if rec.deleted() {
            continue;
        }
        docs.push(document(&x, dir, &entries, rec, r, &mut named)?);
    }
    if docs.is_empty() {
        let split = entries.keys().any(|p| p.ends_with("-manifest.json"));
        return Err(Error::invalid(
            MANIFEST,
            match split {
                true => {
                    "holds no documents; the export was written with --split-manifest, which this import does not read"
                }
                false => "holds no documents",
            },
        ));
    }
    let (code, chain) = {
        let mut repo = shared.write().await;
        repo.sync().await?;
        check_not_imported(&repo, &docs)?;
        plan_for(&repo, options.aktenplan.as_deref())?
    };

    // Every file against its MD5 before anything is stored.
    let mut hashed = HashMap::new();
    for doc in &docs {
        for (path, rel, md5, _) in &doc.files {
            let h = hash_export_file(path.clone(), rel.clone()).await?;
            if h.md5 != *md5 {
                return Err(Error::integrity(
                    rel,
                    format!("its MD5 is {}, but the manifest's checksum for document {} is {md5}", h.md5, doc.pk),
                ));
            }
            hashed.insert(rel.clone(), h);
        }
    }

    // One Akte per correspondent, the documents without one last; Aktenzeichen
    // `<code>-0001`, `<code>-0002` … skipping those the repository has.
    let mut groups: BTreeMap<(bool, u64), Vec<Doc>> = BTreeMap::new();
    for doc in docs {
        groups.entry((doc.correspondent.is_none(), doc.correspondent.unwrap_or(0))).or_default().push(doc);
    }
    // Read for a moment, to choose free Aktenzeichen (checked again at the commit).
    let repo = shared.read().await;
    let taken = &repo.catalog().state.aktenzeichen;
    let mut n = 0u32;
    let source = match &version {
        Some(v) => format!("Paperless-ngx {v}, {MANIFEST} sha256:{manifest_sha256}"),
        None => format!("{MANIFEST} sha256:{manifest_sha256}"),
    };
    let mut incoming = Vec::new();
    for ((none, cpk), docs) in groups {
        let aktenzeichen = loop {
            n += 1;
            let az = format!("{code}-{n:04}");
            if !taken.contains_key(&az) {
                break az;
            }
        };
        let mut fields = obj(json!({"aktenzeichen": aktenzeichen, "aktenplan": code}));
        if none {
            fields.insert("title".into(), json!(NO_CORRESPONDENT));
        } else {
            fields.insert("title".into(), json!(x.correspondents[&cpk]));
            fields.insert("custom".into(), json!({"paperless_correspondent_id": cpk}));
        }
        model::validate(ObjKind::Akte, &fields, true).map_err(|e| Error::invalid(MANIFEST, e.to_string()))?;
        let akte = Uuid::now_v7();
        let (mut objects, mut contents) = (Vec::new(), HashMap::new());
        let (dokumente, mut versionen) = (docs.len(), 0);
        for doc in docs {
            let dok = Uuid::now_v7();
            objects.push(PObj { kind: ObjKind::Dokument, id: dok, parent: akte, fields: doc.fields, file: None });
            for (path, rel, _, mut fields) in doc.files {
                let h = &hashed[&rel];
                fields.insert("size".into(), json!(h.size));
                fields.insert("sha256".into(), json!(h.sha256));
                fields.insert("blake3".into(), json!(h.blake3));
                let id = Uuid::now_v7();
                objects.push(PObj { kind: ObjKind::Version, id, parent: dok, fields, file: Some(rel.clone()) });
                contents.insert(id, ContentFile { path, shown: rel, expect: Expect::default() });
                versionen += 1;
            }
        }
        let akte_doc = ObjDoc {
            format: FORMAT.into(),
            kind: ObjKind::Akte,
            id: akte,
            parent: None,
            position: None,
            aktenplan: Some(chain.clone()),
            fields,
            history: Vec::new(),
            versions: None,
        };
        incoming.push(Incoming {
            parsed: Parsed {
                akte: akte_doc,
                objects,
                history: BTreeMap::new(),
                meta_files: Vec::new(),
                vorgaenge: 0,
                dokumente,
                versionen,
            },
            contents,
            provenance: Provenance {
                v: PROVENANCE_VERSION,
                format: PROVENANCE_FORMAT.into(),
                source: Some(source.clone()),
                ..Default::default()
            },
            path: MANIFEST.into(),
        });
    }
    drop(repo);
    commit_all(shared, incoming, Format::Paperless, dir.to_path_buf(), gate).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn created_dates_are_the_german_calendar_days() {
        for (created, day) in [
            ("2024-03-01", Some("2024-03-01")),
            ("2023-11-05T00:00:00+01:00", Some("2023-11-05")),
            ("2023-11-04T23:00:00Z", Some("2023-11-05")),
            ("2023-06-30T22:00:00Z", Some("2023-07-01")),
            ("2023-06-30T21:59:59+00:00", Some("2023-06-30")),
            ("2023-03-26T00:30:00Z", Some("2023-03-26")),
            ("2023-03-25T23:30:00Z", Some("2023-03-26")),
            ("2023-10-29T22:30:00Z", Some("2023-10-29")),
            ("2023-10-29T23:00:00Z", Some("2023-10-30")),
            ("2023-11-05T10:00:00-05:00", Some("2023-11-05")),
            ("5. November", None),
            ("2023-13-01", None),
        ] {
            assert_eq!(super::created_date(created).as_deref(), day, "{created}");
        }
    }
}
