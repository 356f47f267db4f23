//! The built-in office extractor: DOCX and XLSX (Office Open XML), ODT and ODS
//! (OpenDocument), and plain XML, to text, sheets as pages, and the document properties as
//! fields (`title`, `creator`, `created`, `modified`, `subject`, `keywords`, …).
//!
//! Hostile input is expected. A part is inflated into one buffer that never grows beyond
//! [`PART_CAP`] per part and [`TOTAL_CAP`] per document, whatever the archive's directory
//! claims, so a zip bomb ends in a `Failure` long before the host's memory limit. XML is read
//! in place from that buffer, by events without recursion, DTDs that declare entities are
//! refused (nothing is ever expanded but the five predefined entities and character
//! references), and the text is capped at [`TEXT_CAP`] (then cut, logged and flagged with the field `truncated`).
//! Archive entry names are only ever compared with the names the formats define; none is
//! used as a path, so `../` names are harmless.

mod inflate;
mod odf;
mod ooxml;
mod walk;
mod writer;
mod xml;

use std::io::Cursor;

use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

wit_bindgen::generate!({
    world: "extractor",
    path: "../../../wit",
});

use akte::plugin::log::Level;
pub use akte::plugin::types::{Failure, Field};
use exports::akte::plugin::extract::Guest;
pub use exports::akte::plugin::extract::{Extraction, Page};
use walk::{Budget, Ev, Flow};
use writer::Writer;

/// Most bytes one part (e.g. `word/document.xml`) may inflate to.
pub const PART_CAP: u64 = 64 * 1024 * 1024;
/// Most bytes all parts of one document together may inflate to.
pub const TOTAL_CAP: u64 = 256 * 1024 * 1024;
/// Most bytes of text returned (the manifest allows 64 MiB of output in all).
pub const TEXT_CAP: usize = 48 * 1024 * 1024;
/// Most entries an archive may list (the directory is read into memory whole).
pub const MAX_ENTRIES: usize = 20_000;

struct Office;

impl Guest for Office {
    fn extract(content: Vec<u8>, media_type: String) -> Result<Extraction, Failure> {
        // Part names come from the package's relationships, as long as an attacker likes.
        extract_unbounded(content, media_type).map_err(|f| akte_guest_text::bounded!(f, Failure))
    }
}

/// [`Guest::extract`] before its failures' messages are bounded.
fn extract_unbounded(content: Vec<u8>, media_type: String) -> Result<Extraction, Failure> {
    let essence = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if content.is_empty() {
        return Err(Failure::Malformed("the file is empty".into()));
    }
    let is_xml = essence == "application/xml" || essence == "text/xml" || essence.ends_with("+xml");
    let (mut writer, mut fields, language) = if is_xml && !content.starts_with(b"PK\x03\x04") {
        let charset = akte_guest_text::media_type_param(&media_type, "charset");
        xml::extract(&content, charset.as_deref())?
    } else {
        let mut package = Package::open(&content)?;
        let mut writer = Writer::new(TEXT_CAP);
        let props = package.extract(&mut writer)?;
        let language = props.iter().find(|f| f.name == "language").map(|f| f.value.clone());
        let fields = props.into_iter().filter(|f| f.name != "language").collect();
        (writer, fields, language)
    };
    if writer.full() {
        log(Level::Warn, &format!("text cut at {TEXT_CAP} bytes"));
        fields.push(Field { name: "truncated".into(), value: "true".into() });
    }
    writer.paragraph_end();
    let (text, pages, _) = writer.finish();
    let pages = pages.into_iter().map(|(s, e)| Page { start: offset(s), end: offset(e) }).collect();
    Ok(Extraction { text, pages, fields, language })
}

/// Converts a byte offset; text is bounded by [`TEXT_CAP`].
fn offset(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// An opened archive and the inflation budget of its document.
pub struct Package<'a> {
    bytes: &'a [u8],
    zip: ZipArchive<Cursor<&'a [u8]>>,
    budget: Budget,
}

/// The failure of a part that inflates past `cap`.
fn cap_failure(name: &str, cap: u64, scope: &str) -> Failure {
    Failure::Other(format!(
        "{name} inflates to more than the {} allowed {scope}; extraction stopped (a zip bomb?)",
        size(cap)
    ))
}

/// A cap or size for people: MiB from 1 MiB on, else bytes.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 { format!("{} MiB", bytes >> 20) } else { format!("{bytes} bytes") }
}

fn zip_failure(e: ZipError) -> Failure {
    match e {
        ZipError::UnsupportedArchive(what) => Failure::Unsupported(format!("unsupported archive: {what}")),
        ZipError::InvalidPassword => Failure::Unsupported("the document is encrypted".into()),
        other => Failure::Malformed(format!("not a readable ZIP archive: {other}")),
    }
}

impl<'a> Package<'a> {
    /// Opens the archive in `bytes`.
    pub fn open(bytes: &'a [u8]) -> Result<Package<'a>, Failure> {
        if !bytes.starts_with(b"PK") {
            return Err(Failure::Malformed("not a ZIP archive (no `PK` signature): not an office document".into()));
        }
        if let Some(n) = declared_entries(bytes)
            && n > MAX_ENTRIES
        {
            return Err(Failure::Unsupported(format!("the archive lists {n} entries, more than {MAX_ENTRIES}")));
        }
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(zip_failure)?;
        if zip.len() > MAX_ENTRIES {
            return Err(Failure::Unsupported(format!("the archive has more than {MAX_ENTRIES} entries")));
        }
        Ok(Package { bytes, zip, budget: Budget::new(TOTAL_CAP) })
    }

    /// Whether the archive has an entry called exactly `name`.
    pub fn has(&self, name: &str) -> bool {
        self.zip.index_for_name(name).is_some()
    }

    /// The entry names, in archive order.
    pub fn names(&self) -> Vec<String> {
        self.zip.file_names().map(str::to_string).collect()
    }

    /// Reads a small entry whole (at most `max` bytes), or `None` when it is missing.
    pub fn read_small(&mut self, name: &str, max: u64) -> Result<Option<Vec<u8>>, Failure> {
        self.read_part(name, max)
    }

    /// The size entry `name` declares it inflates to, if there is such an entry. Not to be
    /// trusted beyond a hint: reading checks the real size against the caps.
    pub fn declared_size(&mut self, name: &str) -> Option<u64> {
        let index = self.zip.index_for_name(name)?;
        self.zip.by_index_raw(index).ok().map(|f| f.size())
    }

    /// Streams entry `name` through `handler`; `Ok(false)` when there is no such entry.
    pub fn walk(&mut self, name: &str, handler: &mut impl FnMut(Ev<'_>) -> Flow) -> Result<bool, Failure> {
        let Some(xml) = self.read_part(name, PART_CAP)? else { return Ok(false) };
        walk::walk(&xml, name, false, handler).map(|()| true)
    }

    /// Inflates entry `name` whole, within `cap` (at most [`PART_CAP`]) and what is left of
    /// the document's budget; `None` when there is no such entry.
    ///
    /// The `zip` crate reads the directory, checks the entry (encryption, compression method)
    /// and says where its data lies; the data is then inflated straight from the archive's
    /// bytes into one buffer, sized as the directory says, and checked against its CRC-32 as
    /// `zip` would. Parsing in place from that buffer saves the copies of a streamed read
    /// (inflater window, read buffer, and every XML event into the parser's buffer), which
    /// cost more in WebAssembly than natively (each `memory.copy` is a call into the host).
    fn read_part(&mut self, name: &str, cap: u64) -> Result<Option<Vec<u8>>, Failure> {
        let file = match self.zip.by_name(name) {
            Ok(f) => f,
            Err(ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(zip_failure(e)),
        };
        if file.size() > cap {
            return Err(Failure::Other(format!(
                "{name} would inflate to {}, more than the {} allowed per part (a zip bomb?)",
                size(file.size()),
                size(cap)
            )));
        }
        let (method, crc, declared) = (file.compression(), file.crc32(), file.size());
        let start = usize::try_from(file.data_start()).unwrap_or(usize::MAX).min(self.bytes.len());
        let end = start.saturating_add(usize::try_from(file.compressed_size()).unwrap_or(usize::MAX));
        let raw = &self.bytes[start..end.min(self.bytes.len())];
        drop(file);
        // At most this many bytes may come out; one more means a cap was hit.
        let left = self.budget.left.get();
        let limit = cap.min(left) as usize;
        let out = match method {
            CompressionMethod::Stored if raw.len() > limit => None,
            CompressionMethod::Stored => Some(raw.to_vec()),
            CompressionMethod::Deflated => {
                // The directory's size (already below the caps) or, if it lies, growing.
                inflate::raw(raw, (declared as usize).min(limit), limit)
                    .map_err(|e| Failure::Other(format!("{name}: {e}")))?
            }
            // `by_name` refuses every other method.
            _ => return Err(Failure::Unsupported("unsupported archive: Compression method not supported".into())),
        };
        let Some(out) = out else {
            return Err(if cap > left {
                cap_failure(name, TOTAL_CAP, "per document")
            } else {
                cap_failure(name, cap, "per part")
            });
        };
        self.budget.left.set(left - out.len() as u64);
        if zlib_rs::crc32::crc32(0, &out) != crc {
            return Err(Failure::Other(format!("{name}: Invalid checksum")));
        }
        Ok(Some(out))
    }

    /// Detects the format from the archive's contents and extracts text into `writer`;
    /// returns the document properties as fields (`language` among them, if declared).
    pub fn extract(&mut self, writer: &mut Writer) -> Result<Vec<Field>, Failure> {
        if let Some(mimetype) = self.read_small("mimetype", 256)? {
            let mimetype = String::from_utf8_lossy(&mimetype).trim().to_string();
            if !mimetype.starts_with("application/vnd.oasis.opendocument.") {
                return Err(Failure::Unsupported(format!("an archive of type `{mimetype}`, not OpenDocument")));
            }
            let spreadsheet = mimetype.contains("spreadsheet");
            let format = if spreadsheet { "ods" } else { "odt" };
            odf::extract(self, writer, spreadsheet)?;
            let mut props = self.properties("meta.xml", true)?;
            props.insert(0, Field { name: "format".into(), value: format.into() });
            return Ok(props);
        }
        if self.has("[Content_Types].xml") {
            let main = ooxml::main_part(self)?;
            let format = if main.starts_with("word/") {
                ooxml::docx(self, writer, &main)?;
                "docx"
            } else if main.starts_with("xl/") {
                ooxml::xlsx(self, writer, &main)?;
                "xlsx"
            } else {
                return Err(Failure::Unsupported(format!("an Office Open XML package with main part `{main}`")));
            };
            let mut props = self.properties("docProps/core.xml", false)?;
            props.insert(0, Field { name: "format".into(), value: format.into() });
            return Ok(props);
        }
        if self.has("content.xml") {
            // OpenDocument without its `mimetype` entry: read it as text.
            odf::extract(self, writer, false)?;
            return self.properties("meta.xml", true);
        }
        Err(Failure::Unsupported("a ZIP archive that is neither Office Open XML nor OpenDocument".into()))
    }

    /// Reads the document properties of `part` (`docProps/core.xml` or `meta.xml`).
    fn properties(&mut self, part: &str, odf: bool) -> Result<Vec<Field>, Failure> {
        let mut raw: Vec<(String, String)> = Vec::new();
        let mut current: Option<String> = None;
        let mut depth = 0usize;
        let found = self.walk(part, &mut |ev| {
            match ev {
                Ev::Start(e) => {
                    depth += 1;
                    let name = String::from_utf8_lossy(walk::local(e)).into_owned();
                    current = Some(name.clone());
                    raw.push((name, String::new()));
                }
                Ev::Text(t) => {
                    if current.is_some()
                        && let Some(last) = raw.last_mut()
                        && last.1.len() < 64 * 1024
                    {
                        last.1.push_str(t);
                    }
                }
                Ev::End(_) => {
                    depth = depth.saturating_sub(1);
                    current = None;
                }
            }
            if raw.len() > 10_000 { Flow::Stop } else { Flow::Go }
        });
        if let Err(e) = found {
            // Damaged properties cost the fields, not the text.
            log(Level::Warn, &format!("document properties unreadable: {e:?}"));
            return Ok(Vec::new());
        }
        Ok(map_properties(&raw, odf))
    }
}

/// Maps the raw properties (local element name, text) to the extractor's fields.
fn map_properties(raw: &[(String, String)], odf: bool) -> Vec<Field> {
    let get = |name: &str| {
        raw.iter().map(|(n, v)| (n, v.trim())).find(|(n, v)| *n == name && !v.is_empty()).map(|(_, v)| v.to_string())
    };
    let mut fields = Vec::new();
    let mut add = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            fields.push(Field { name: name.into(), value });
        }
    };
    add("title", get("title"));
    if odf {
        add("creator", get("initial-creator").or_else(|| get("creator")));
        add("last-modified-by", get("creator"));
        add("created", get("creation-date"));
        add("modified", get("date"));
        let keywords: Vec<&str> =
            raw.iter().filter(|(n, v)| n == "keyword" && !v.trim().is_empty()).map(|(_, v)| v.trim()).collect();
        add("keywords", (!keywords.is_empty()).then(|| keywords.join(", ")));
    } else {
        add("creator", get("creator"));
        add("last-modified-by", get("lastModifiedBy"));
        add("created", get("created"));
        add("modified", get("modified"));
        add("keywords", get("keywords"));
    }
    add("subject", get("subject"));
    add("description", get("description"));
    add("language", get("language"));
    fields
}

/// The entry count the end-of-central-directory record declares, read before the `zip`
/// crate loads the whole directory into memory (`None` if there is no plain record).
fn declared_entries(bytes: &[u8]) -> Option<usize> {
    let tail_start = bytes.len().saturating_sub(22 + 65_535);
    let tail = &bytes[tail_start..];
    let pos = tail.windows(4).rposition(|w| w == b"PK\x05\x06")?;
    let count = tail.get(pos + 10..pos + 12)?;
    let n = u16::from_le_bytes([count[0], count[1]]);
    (n != 0xFFFF).then_some(n as usize)
}

/// The extractor as a plain function: what the component's `extract` returns, callable
/// natively too (the sandbox-versus-native benchmark, `bench/plugins.sh`).
pub fn extract(content: Vec<u8>, media_type: String) -> Result<Extraction, Failure> {
    Office::extract(content, media_type)
}

/// Records a message in the host's log; natively there is no host and it is dropped.
pub(crate) fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    akte::plugin::log::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (level, message);
}

#[cfg(target_arch = "wasm32")]
export!(Office);

#[cfg(test)]
mod tests {
    use super::*;

    const ODT: &str = "application/vnd.oasis.opendocument.text";

    fn fixture() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../fixtures/windpark-hohe-heide/antrag/06-nachforderung-unterlagen.odt"
        );
        std::fs::read(path).expect("the fixture ODT")
    }

    #[test]
    fn a_part_whose_bytes_do_not_match_its_checksum_is_refused() {
        let good = fixture();
        assert!(extract(good.clone(), ODT.into()).is_ok_and(|e| e.text.contains("Nachforderung")));
        // The `mimetype` part is stored uncompressed: one letter changed keeps the archive
        // readable and leaves only the CRC-32 to notice.
        let at = good.windows(4).position(|w| w == b"text").expect("the mimetype part");
        let mut bad = good;
        bad[at] = b'T';
        match extract(bad, ODT.into()) {
            Err(Failure::Other(m)) => assert_eq!(m, "mimetype: Invalid checksum"),
            other => panic!("expected a checksum failure, got {other:?}"),
        }
    }
}
