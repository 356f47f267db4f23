//! Reading a Paperless-ngx `manifest.json` streaming: the records of the models the
//! import reads, with only the fields it reads (the documents' OCR text is skipped, not
//! kept), bounded in size, record count and nesting, and the manifest's SHA-256.

use std::{
    collections::HashSet,
    fmt,
    io::{BufReader, Read},
    path::Path,
};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use sha2::Digest;

use super::{MANIFEST, PaperlessOptions};
use crate::{Error, Result, files::open_regular};

/// The models this import reads; records of any other model are ignored.
const MODELS: [&str; 9] = [
    "documents.correspondent",
    "documents.documenttype",
    "documents.tag",
    "documents.storagepath",
    "documents.customfield",
    "documents.customfieldinstance",
    "documents.note",
    "documents.document",
    "auth.user",
];

/// The record fields this import reads (of any model); others, the documents' `content`
/// above all, are skipped while parsing. Custom field values (`value_…`) are kept too.
const KEPT: [&str; 23] = [
    "name",
    "data_type",
    "extra_data",
    "username",
    "document",
    "field",
    "note",
    "user",
    "title",
    "created",
    "added",
    "modified",
    "correspondent",
    "document_type",
    "tags",
    "checksum",
    "archive_checksum",
    "mime_type",
    "original_filename",
    "archive_serial_number",
    "storage_path",
    "owner",
    "deleted_at",
];

/// A value this import does not read, skipped without keeping it. Unlike `IgnoredAny`
/// it descends through `serde_json`'s depth check, so nesting deeper than 128 levels
/// refuses the manifest wherever it is.
struct Skip;

impl<'de> de::Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> std::result::Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<Skip, A::Error> {
        while m.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

/// The fields of one record that this import reads.
#[derive(Debug, Default)]
pub(super) struct Kept(pub(super) Map<String, Value>);

impl<'de> de::Deserialize<'de> for Kept {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Kept;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<Kept, A::Error> {
                let mut out = Map::new();
                while let Some(key) = m.next_key::<String>()? {
                    if !KEPT.contains(&key.as_str()) && !key.starts_with("value_") {
                        m.next_value::<Skip>()?;
                        continue;
                    }
                    let value = m.next_value::<Value>()?;
                    if out.insert(key.clone(), value).is_some() {
                        return Err(de::Error::custom(format!("a record has the field {key:?} twice")));
                    }
                }
                Ok(Kept(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// One record of the manifest, as far as this import reads it.
#[derive(Debug, Default)]
pub(super) struct Record {
    pub(super) model: String,
    pub(super) pk: Option<Value>,
    pub(super) fields: Kept,
    pub(super) file: Option<String>,
    pub(super) archive: Option<String>,
}

impl<'de> de::Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Record;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a serialized record {\"model\", \"pk\", \"fields\"}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<Record, A::Error> {
                let mut r = Record::default();
                let mut seen = HashSet::new();
                while let Some(key) = m.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        return Err(de::Error::custom(format!("a record has the key {key:?} twice")));
                    }
                    match key.as_str() {
                        "model" => r.model = m.next_value()?,
                        "pk" => r.pk = Some(m.next_value()?),
                        "fields" => r.fields = m.next_value()?,
                        "__exported_file_name__" => r.file = m.next_value()?,
                        "__exported_archive_name__" => r.archive = m.next_value()?,
                        _ => {
                            m.next_value::<Skip>()?;
                        }
                    }
                }
                if r.model.is_empty() {
                    return Err(de::Error::custom("a record has no model"));
                }
                Ok(r)
            }
        }
        d.deserialize_map(V)
    }
}

/// The start of the error for a manifest with too many records.
const TOO_MANY: &str = "holds more than";

/// The records of the models read, at most `max` of them.
struct Records {
    max: usize,
}

impl<'de> DeserializeSeed<'de> for Records {
    type Value = Vec<Record>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Vec<Record>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Records {
    type Value = Vec<Record>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of serialized records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<Record>, A::Error> {
        let mut out = Vec::new();
        while let Some(r) = seq.next_element::<Record>()? {
            if !MODELS.contains(&r.model.as_str()) {
                continue;
            }
            if out.len() == self.max {
                return Err(de::Error::custom(format!("{TOO_MANY} {} records of the models read", self.max)));
            }
            out.push(r);
        }
        Ok(out)
    }
}

/// Passes bytes through, hashing them (SHA-256 of the manifest, for the provenance).
struct Hashing<R> {
    inner: R,
    sha256: sha2::Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha256.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads the manifest streaming: its records of the models read and its SHA-256.
pub(super) fn read_manifest(dir: &Path, options: &PaperlessOptions) -> Result<(Vec<Record>, String)> {
    let path = dir.join(MANIFEST);
    let file = open_regular(&path, MANIFEST)?;
    let len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
    if len > options.max_manifest {
        return Err(Error::invalid(MANIFEST, format!("is larger than {} bytes", options.max_manifest)));
    }
    let mut reader = BufReader::new(Hashing { inner: file.take(options.max_manifest), sha256: sha2::Sha256::new() });
    let mut de = serde_json::Deserializer::from_reader(&mut reader);
    let records = Records { max: options.max_records }
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r))
        .map_err(|e| match e.io_error_kind() {
            Some(kind) => Error::io(&path, std::io::Error::new(kind, e.to_string())),
            None if e.to_string().starts_with("recursion limit exceeded") => Error::invalid(
                MANIFEST,
                format!("nests JSON deeper than 128 levels (line {} column {})", e.line(), e.column()),
            ),
            None if e.to_string().starts_with(TOO_MANY) => Error::invalid(MANIFEST, e.to_string()),
            None => Error::invalid(MANIFEST, format!("is not a Paperless-ngx export manifest: {}", crate::foreign(e))),
        })?;
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).map_err(|e| Error::io(&path, e))?;
    Ok((records, hex::encode(reader.into_inner().sha256.finalize())))
}
