//! Extraction throughput of the built-in extractors in the sandbox, against the same code
//! run natively (`plugins/guests/bench-native`), with a check that both give byte-identical
//! output. Part of `bench/plugins.sh`, which runs the two steps:
//!
//! ```sh
//! # 1. inputs: the fixture documents plus large generated ones (deterministic), from a
//! #    corpus written by `gen-corpus --n 4000 --seed 7 --format jsonl --out CORPUS`
//! cargo run -p akte-plugins --release --example bench_extract -- gen INPUTS CORPUS
//! # 2. every input in turn: a call of the native program (NATIVE, started once, see its
//! #    docs), then a call of the component in a fresh instance under the real plugin.toml
//! #    limits, alternating, so that both see the same load; outputs compared; prints a
//! #    Markdown table
//! cargo run -p akte-plugins --release --example bench_extract -- run INPUTS OUT NATIVE
//! ```
//!
//! The components and manifests come from `plugins/build-guests.sh`
//! (`$AKTE_GUESTS_DIR`, default `$CARGO_TARGET_DIR/wasm/components`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use akte_plugins::{HostConfig, Plugin, PluginError, PluginHost};
use anyhow::{Context, Result, bail};

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const ODT: &str = "application/vnd.oasis.opendocument.text";

fn guests_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AKTE_GUESTS_DIR") {
        return dir.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/akte/target"));
    target.join("wasm/components")
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["gen", inputs, corpus] => generate(Path::new(inputs), Path::new(corpus)),
        ["run", inputs, out, native] => run(Path::new(inputs), Path::new(out), Path::new(native)).await,
        _ => bail!("usage: bench_extract gen INPUTS CORPUS.jsonl | bench_extract run INPUTS OUT NATIVE"),
    }
}

// ---------------------------------------------------------------------------------------
// The sandbox half
// ---------------------------------------------------------------------------------------

/// How often to time a file: about a second's worth of sandbox calls, at least 5 and at
/// most 51 times.
fn runs(first: Duration) -> usize {
    (1.0 / first.as_secs_f64().max(1e-6)).clamp(5.0, 51.0) as usize
}

/// One call in a fresh instance; the output in the canonical form of the native half.
async fn call(plugin: &Plugin, content: &[u8], media_type: &str) -> (Duration, String, usize) {
    let started = Instant::now();
    let result = plugin.extract(content, media_type).await;
    let elapsed = started.elapsed();
    let mut out = String::new();
    let mut text_len = 0;
    match result {
        Ok(outcome) => {
            let e = outcome.value;
            text_len = e.text.len();
            let _ = write!(out, "text {}\n{}\npages {}\n", e.text.len(), e.text, e.pages.len());
            for p in &e.pages {
                let _ = writeln!(out, "{}..{}", p.start, p.end);
            }
            let _ = writeln!(out, "fields {}", e.fields.len());
            for f in &e.fields {
                let _ = writeln!(out, "{}={}", f.name, f.value);
            }
            let _ = writeln!(out, "language {}", e.language.as_deref().unwrap_or("-"));
        }
        Err(PluginError::Failed { failure, .. }) => {
            let (kind, message) = match failure {
                akte_plugins::Failure::Unsupported(s) => ("unsupported", s),
                akte_plugins::Failure::Malformed(s) => ("malformed", s),
                akte_plugins::Failure::Other(s) => ("other", s),
            };
            let _ = write!(out, "failure {kind}\n{message}\n");
        }
        Err(other) => {
            let _ = writeln!(out, "host error: {other}");
        }
    }
    (elapsed, out, text_len)
}

/// One row of the result table: a group of inputs of one plugin.
#[derive(Default)]
struct Row {
    label: String,
    plugin: String,
    files: usize,
    bytes: u64,
    text: u64,
    sandbox: Duration,
    native: Duration,
    identical: usize,
}

/// The native half, started once: one input number in, one call's nanoseconds out.
struct Native {
    child: std::process::Child,
    input: std::process::ChildStdin,
    output: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

impl Native {
    fn start(program: &Path, inputs: &Path, out: &Path) -> Result<Native> {
        use std::process::{Command, Stdio};
        let mut child = Command::new(program)
            .arg(inputs)
            .arg(out)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let input = child.stdin.take().context("stdin")?;
        let output = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().context("stdout")?));
        Ok(Native { child, input, output })
    }

    fn call(&mut self, n: usize) -> Result<Duration> {
        writeln!(self.input, "{n}")?;
        self.input.flush()?;
        let line = self.output.next().context("the native half ended early")??;
        Ok(Duration::from_nanos(line.trim().parse()?))
    }
}

async fn run(inputs: &Path, out: &Path, native_program: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let cache = tempfile::tempdir()?;
    let host = PluginHost::new(HostConfig::new(cache.path()))?;
    let dir = guests_dir();
    let mut plugins: HashMap<String, Plugin> = HashMap::new();
    for name in ["txt", "html", "office", "pdf", "eml"] {
        let plugin = host
            .load_files(&dir.join(format!("{name}.toml")), &dir.join(format!("{name}.wasm")))
            .with_context(|| format!("loading {name} from {} (run plugins/build-guests.sh)", dir.display()))?;
        plugins.insert(name.to_string(), plugin);
    }
    let mut native = Native::start(native_program, inputs, out)?;

    let mut rows: Vec<Row> = Vec::new();
    let mut mismatches = Vec::new();
    for (n, line) in std::fs::read_to_string(inputs.join("inputs.tsv"))?.lines().enumerate() {
        let [label, plugin, media_type, file] = line.split('\t').collect::<Vec<_>>()[..] else {
            bail!("inputs.tsv line {n}: expected 4 columns")
        };
        let content = std::fs::read(inputs.join(file))?;
        let plugin_ref = &plugins[plugin];
        // First calls, untimed: the native one writes its output, the sandbox's is compared.
        let native_first = native.call(n)?;
        let (first, canonical, text_len) = call(plugin_ref, &content, media_type).await;
        std::fs::write(out.join(format!("{n}.sandbox")), &canonical)?;
        let same = std::fs::read(out.join(format!("{n}.native")))? == canonical.as_bytes();
        if !same {
            mismatches.push(format!("{file}: {n}.sandbox differs from {n}.native"));
        }
        let (mut sandbox_times, mut native_times) = (Vec::new(), Vec::new());
        for _ in 0..runs(first.max(native_first)) {
            native_times.push(native.call(n)?);
            sandbox_times.push(call(plugin_ref, &content, media_type).await.0);
        }
        sandbox_times.sort();
        native_times.sort();
        let (sandbox_median, native_median) =
            (sandbox_times[sandbox_times.len() / 2], native_times[native_times.len() / 2]);
        eprintln!(
            "{file:<60} {:>9} B  sandbox {sandbox_median:>10.2?}  native {native_median:>10.2?}  ({} runs each)  {}",
            content.len(),
            sandbox_times.len(),
            if same { "identical" } else { "DIFFERENT" }
        );
        if rows.last().is_none_or(|r| r.label != label) {
            rows.push(Row { label: label.to_string(), plugin: plugin.to_string(), ..Row::default() });
        }
        let row = rows.last_mut().unwrap();
        row.files += 1;
        row.bytes += content.len() as u64;
        row.text += text_len as u64;
        row.sandbox += sandbox_median;
        row.native += native_median;
        row.identical += usize::from(same);
    }

    let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64;
    let size = |bytes: u64| {
        if bytes >= 1 << 20 { format!("{:.1} MiB", mib(bytes)) } else { format!("{:.0} KiB", bytes as f64 / 1024.0) }
    };
    let time = |d: Duration| {
        if d >= Duration::from_millis(100) {
            format!("{:.2} s", d.as_secs_f64())
        } else {
            format!("{:.2} ms", d.as_secs_f64() * 1e3)
        }
    };
    println!(
        "| extractor | input | in | text out | sandbox | native | sandbox MiB/s | native MiB/s | sandbox ÷ native | output identical |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.2} × | {} |",
            r.plugin,
            r.label,
            size(r.bytes),
            size(r.text),
            time(r.sandbox),
            time(r.native),
            mib(r.bytes) / r.sandbox.as_secs_f64(),
            mib(r.bytes) / r.native.as_secs_f64(),
            r.sandbox.as_secs_f64() / r.native.as_secs_f64(),
            if r.identical == r.files { "yes".to_string() } else { format!("**{} of {}**", r.identical, r.files) }
        );
    }
    drop(native.input);
    native.child.wait()?;
    println!();
    println!(
        "Times are per document (several files: the sum of the per-file medians); each median is of 5–51 calls, \
         about a second's worth, native and sandbox calls alternating. Sandbox: `Plugin::extract` in a fresh instance under the plugin's own `plugin.toml` \
         limits (instantiation, copying in and out and the host's output checks included). MiB/s are of input bytes."
    );
    for m in &mismatches {
        println!("- output differs: {m}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The inputs
// ---------------------------------------------------------------------------------------

/// A document of the generated corpus.
struct Doc {
    title: String,
    sender: String,
    aktenzeichen: String,
    date: String,
    text: String,
}

fn corpus(path: &Path) -> Result<Vec<Doc>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            Ok(Doc {
                title: s("title"),
                sender: s("sender"),
                aktenzeichen: s("aktenzeichen"),
                date: s("date"),
                text: s("text"),
            })
        })
        .collect()
}

/// The documents in order, cycling, until `bytes` of their text were taken.
fn take(docs: &[Doc], bytes: usize) -> impl Iterator<Item = &Doc> {
    let mut total = 0;
    docs.iter().cycle().take_while(move |d| {
        let go = total < bytes;
        total += d.text.len();
        go
    })
}

/// The paragraphs of a document's text (separated by blank lines in the corpus).
fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    text.split("\n\n").map(str::trim).filter(|p| !p.is_empty())
}

fn generate(dir: &Path, corpus_path: &Path) -> Result<()> {
    let docs = corpus(corpus_path)?;
    if docs.is_empty() {
        bail!("the corpus {} is empty", corpus_path.display());
    }
    std::fs::create_dir_all(dir.join("fixtures"))?;
    let mut list = String::new();

    // The fixture documents of the demo case, one row per format.
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/windpark-hohe-heide");
    let mut files = Vec::new();
    walk(&case, &mut files)?;
    files.sort();
    for (ext, plugin, media_type) in [
        ("txt", "txt", "text/plain"),
        ("docx", "office", DOCX),
        ("odt", "office", ODT),
        ("pdf", "pdf", "application/pdf"),
        ("eml", "eml", "message/rfc822"),
    ] {
        let of: Vec<&PathBuf> = files.iter().filter(|f| f.extension().is_some_and(|e| e == ext)).collect();
        let label = format!("fixtures: {} .{ext} files", of.len());
        for f in of {
            let name = f.strip_prefix(&case)?.to_string_lossy().replace('/', "_");
            std::fs::copy(f, dir.join("fixtures").join(&name))?;
            writeln!(list, "{label}\t{plugin}\t{media_type}\tfixtures/{name}")?;
        }
    }

    // Generated: small inputs where the case has none, and one large input per format.
    let mut add = |label: &str, plugin: &str, media_type: &str, name: &str, bytes: Vec<u8>| -> Result<()> {
        std::fs::write(dir.join(name), &bytes)?;
        writeln!(list, "{label}\t{plugin}\t{media_type}\t{name}")?;
        Ok(())
    };
    add("generated: 20 MiB of letters, a page each", "txt", "text/plain", "big.txt", text(&docs, 20 << 20))?;
    add("generated: web page, one letter", "html", "text/html", "page.html", html(&docs[..1]))?;
    add("generated: web page, 8 MiB of letters", "html", "text/html", "big.html", html(take(&docs, 8 << 20)))?;
    add("generated: DOCX, 6 MiB of text", "office", DOCX, "big.docx", docx(&docs, 6 << 20)?)?;
    add("generated: ODT, 6 MiB of text", "office", ODT, "big.odt", odt(&docs, 6 << 20)?)?;
    add("generated: XLSX, 200 rows", "office", XLSX, "small.xlsx", xlsx(&docs, 200)?)?;
    add("generated: XLSX, 100,000 rows × 7 columns", "office", XLSX, "big.xlsx", xlsx(&docs, 100_000)?)?;
    let pdf_bytes = pdf(&docs, 400);
    add("generated: PDF, 400 pages of text", "pdf", "application/pdf", "big.pdf", pdf_bytes.clone())?;
    add(
        "generated: e-mail, 2 MiB body, text and PDF attached",
        "eml",
        "message/rfc822",
        "big.eml",
        eml(&docs, &pdf_bytes),
    )?;
    std::fs::write(dir.join("inputs.tsv"), list)?;
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// UTF-8 text, a form feed (page break) after each letter.
fn text(docs: &[Doc], bytes: usize) -> Vec<u8> {
    let mut out = String::new();
    for d in take(docs, bytes) {
        out.push_str(&d.text);
        out.push_str("\n\u{C}");
    }
    out.into_bytes()
}

/// Escapes for XML and HTML text.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An HTML page: head with title and meta, scripts and styles to skip, every letter an
/// article, every other one with named character references, tables and lists.
fn html<'a>(docs: impl IntoIterator<Item = &'a Doc>) -> Vec<u8> {
    let docs: Vec<&Doc> = docs.into_iter().collect();
    let mut o = format!(
        "<!DOCTYPE html>\n<html lang=\"de\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <meta name=\"author\" content=\"{}\">\n<meta name=\"description\" content=\"Bekanntmachungen und Schreiben\">\n\
         <style>body {{ font-family: sans-serif; }} .az {{ color: #555; }}</style>\n\
         <script>window.akte = {{ \"hinweis\": \"<p>nicht sichtbar</p>\" }};</script>\n</head>\n<body>\n<nav><ul><li><a href=\"/\">Start</a></li><li><a href=\"/akten\">Akten</a></li></ul></nav>\n",
        esc(&docs[0].title),
        esc(&docs[0].sender)
    );
    for (i, d) in docs.iter().enumerate() {
        let ent = |s: &str| {
            let s = esc(s);
            if i % 2 == 1 {
                s.replace('ä', "&auml;")
                    .replace('ö', "&ouml;")
                    .replace('ü', "&uuml;")
                    .replace('ß', "&szlig;")
                    .replace('„', "&bdquo;")
                    .replace('“', "&ldquo;")
                    .replace('§', "&#167;")
            } else {
                s
            }
        };
        let _ = write!(
            o,
            "<article id=\"d{i}\">\n<h2>{}</h2>\n<p class=\"az\">Az. {} &ndash; {} &ndash; <em>{}</em></p>\n",
            ent(&d.title),
            ent(&d.aktenzeichen),
            ent(&d.date),
            ent(&d.sender)
        );
        for p in paragraphs(&d.text) {
            let _ = writeln!(o, "<p>{}</p>", ent(p).replace('\n', "<br>\n"));
        }
        if i % 5 == 0 {
            let _ = write!(
                o,
                "<table><tr><th>Aktenzeichen</th><th>Datum</th></tr><tr><td>{}</td><td>{}</td></tr></table>\n\
                 <script>console.log(\"{i}\");</script>\n",
                ent(&d.aktenzeichen),
                ent(&d.date)
            );
        }
        o.push_str("</article>\n");
    }
    o.push_str("<footer>&copy; Landkreis Heideland</footer>\n</body>\n</html>\n");
    o.into_bytes()
}

/// A ZIP package of `(name, bytes, stored)` entries (`stored`: no compression).
fn package(parts: &[(&str, Vec<u8>, bool)]) -> Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let time = zip::DateTime::from_date_and_time(2026, 2, 3, 9, 0, 0).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    for (name, bytes, stored) in parts {
        let method = if *stored { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
        w.start_file(*name, SimpleFileOptions::default().compression_method(method).last_modified_time(time))?;
        w.write_all(bytes)?;
    }
    Ok(w.finish()?.into_inner())
}

/// Sentences of a paragraph, each with its trailing space, for runs and spans.
fn sentences(p: &str) -> impl Iterator<Item = &str> {
    p.split_inclusive(". ")
}

fn core_xml(title: &str) -> Vec<u8> {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:title>{}</dc:title><dc:creator>Landkreis Heideland</dc:creator><dc:language>de-DE</dc:language><dcterms:created xsi:type=\"dcterms:W3CDTF\">2026-02-03T09:00:00Z</dcterms:created><dcterms:modified xsi:type=\"dcterms:W3CDTF\">2026-02-03T09:00:00Z</dcterms:modified></cp:coreProperties>",
        esc(title)
    )
    .into_bytes()
}

const RELS_NS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const OFFICE_DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument";

/// A DOCX as Word writes one: a heading per letter, a paragraph per paragraph, a run with
/// its properties per sentence, a table every tenth letter.
fn docx(docs: &[Doc], bytes: usize) -> Result<Vec<u8>> {
    let w_ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
    let mut body = String::new();
    for (i, d) in take(docs, bytes).enumerate() {
        let _ = write!(
            body,
            "<w:p w:rsidR=\"00A1{i:04X}\"><w:pPr><w:pStyle w:val=\"Heading1\"/></w:pPr><w:r><w:t>{}</w:t></w:r></w:p>",
            esc(&d.title)
        );
        for p in paragraphs(&d.text) {
            body.push_str("<w:p><w:pPr><w:spacing w:after=\"120\"/><w:jc w:val=\"both\"/></w:pPr>");
            for (k, s) in sentences(p).enumerate() {
                let bold = if k % 4 == 3 { "<w:b/><w:bCs/>" } else { "" };
                let _ = write!(
                    body,
                    "<w:r w:rsidRPr=\"00B2{k:04X}\"><w:rPr><w:rFonts w:ascii=\"Arial\" w:hAnsi=\"Arial\" w:cs=\"Arial\"/>{bold}<w:sz w:val=\"22\"/><w:lang w:val=\"de-DE\"/></w:rPr><w:t xml:space=\"preserve\">{}</w:t></w:r>",
                    esc(s)
                );
            }
            body.push_str("</w:p>");
        }
        if i % 10 == 0 {
            body.push_str("<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/></w:tblPr>");
            for (a, b) in [("Aktenzeichen", "Datum"), (d.aktenzeichen.as_str(), d.date.as_str())] {
                let _ = write!(
                    body,
                    "<w:tr><w:tc><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:tc></w:tr>",
                    esc(a),
                    esc(b)
                );
            }
            body.push_str("</w:tbl>");
        }
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<w:document xmlns:w=\"{w_ns}\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><w:body>{body}<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/></w:sectPr></w:body></w:document>"
    );
    let types = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/><Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/></Types>";
    let rels = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"{RELS_NS}\"><Relationship Id=\"rId1\" Type=\"{OFFICE_DOC}\" Target=\"word/document.xml\"/><Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/></Relationships>"
    );
    package(&[
        ("[Content_Types].xml", types.as_bytes().to_vec(), false),
        ("_rels/.rels", rels.into_bytes(), false),
        ("word/document.xml", document.into_bytes(), false),
        ("docProps/core.xml", core_xml(&docs[0].title), false),
    ])
}

/// An ODT: a heading per letter, a paragraph per paragraph, a span per other sentence.
fn odt(docs: &[Doc], bytes: usize) -> Result<Vec<u8>> {
    let ns = "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" xmlns:fo=\"urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:meta=\"urn:oasis:names:tc:opendocument:xmlns:meta:1.0\"";
    let mut body = String::new();
    for d in take(docs, bytes) {
        let _ = write!(
            body,
            "<text:h text:style-name=\"Heading_20_1\" text:outline-level=\"1\">{}</text:h>",
            esc(&d.title)
        );
        for p in paragraphs(&d.text) {
            body.push_str("<text:p text:style-name=\"Text_20_body\">");
            for (k, s) in sentences(p).enumerate() {
                if k % 2 == 1 {
                    let _ = write!(body, "<text:span text:style-name=\"T1\">{}</text:span>", esc(s));
                } else {
                    body.push_str(&esc(s));
                }
            }
            body.push_str("</text:p>");
        }
    }
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<office:document-content {ns} office:version=\"1.3\"><office:automatic-styles><style:style style:name=\"T1\" style:family=\"text\"><style:text-properties fo:font-style=\"italic\"/></style:style></office:automatic-styles><office:body><office:text>{body}</office:text></office:body></office:document-content>"
    );
    let meta = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<office:document-meta {ns} office:version=\"1.3\"><office:meta><dc:title>{}</dc:title><meta:initial-creator>Landkreis Heideland</meta:initial-creator><meta:creation-date>2026-02-03T09:00:00</meta:creation-date><dc:language>de-DE</dc:language></office:meta></office:document-meta>",
        esc(&docs[0].title)
    );
    let manifest = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.3\"><manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.text\"/><manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/><manifest:file-entry manifest:full-path=\"meta.xml\" manifest:media-type=\"text/xml\"/></manifest:manifest>";
    package(&[
        ("mimetype", ODT.as_bytes().to_vec(), true),
        ("META-INF/manifest.xml", manifest.as_bytes().to_vec(), false),
        ("content.xml", content.into_bytes(), false),
        ("meta.xml", meta.into_bytes(), false),
    ])
}

/// An XLSX with one sheet of `rows` rows: Aktenzeichen, date, sender and title as shared
/// strings, an amount and a day count as numbers, a boolean.
fn xlsx(docs: &[Doc], rows: usize) -> Result<Vec<u8>> {
    let mut strings: Vec<&str> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut sheet = String::from("<sheetData>");
    let _ = write!(
        sheet,
        "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>Aktenzeichen</t></is></c><c r=\"B1\" t=\"inlineStr\"><is><t>Datum</t></is></c><c r=\"C1\" t=\"inlineStr\"><is><t>Absender</t></is></c><c r=\"D1\" t=\"inlineStr\"><is><t>Betreff</t></is></c><c r=\"E1\" t=\"inlineStr\"><is><t>Betrag</t></is></c><c r=\"F1\" t=\"inlineStr\"><is><t>Tage</t></is></c><c r=\"G1\" t=\"inlineStr\"><is><t>erledigt</t></is></c></row>"
    );
    for (i, d) in docs.iter().cycle().take(rows).enumerate() {
        let r = i + 2;
        let _ = write!(sheet, "<row r=\"{r}\">");
        for (col, value) in [("A", &d.aktenzeichen), ("B", &d.date), ("C", &d.sender), ("D", &d.title)] {
            let next = strings.len();
            let id = *index.entry(value.as_str()).or_insert(next);
            if id == next {
                strings.push(value.as_str());
            }
            let _ = write!(sheet, "<c r=\"{col}{r}\" t=\"s\"><v>{id}</v></c>");
        }
        let amount = (i * 7919 % 1_000_000) as f64 / 100.0;
        let _ = write!(
            sheet,
            "<c r=\"E{r}\" s=\"1\"><v>{amount}</v></c><c r=\"F{r}\"><v>{}</v></c><c r=\"G{r}\" t=\"b\"><v>{}</v></c></row>",
            i % 365,
            i % 3 % 2
        );
    }
    sheet.push_str("</sheetData>");
    let main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    let worksheet = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet xmlns=\"{main}\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><dimension ref=\"A1:G{}\"/>{sheet}</worksheet>",
        rows + 1
    );
    let mut sst = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<sst xmlns=\"{main}\" count=\"{}\" uniqueCount=\"{}\">",
        rows * 4,
        strings.len()
    );
    for s in &strings {
        let _ = write!(sst, "<si><t>{}</t></si>", esc(s));
    }
    sst.push_str("</sst>");
    let workbook = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<workbook xmlns=\"{main}\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"Vorgänge\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
    );
    let workbook_rels = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"{RELS_NS}\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>"
    );
    let types = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/><Override PartName=\"/xl/sharedStrings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/><Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/></Types>";
    let rels = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"{RELS_NS}\"><Relationship Id=\"rId1\" Type=\"{OFFICE_DOC}\" Target=\"xl/workbook.xml\"/><Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/></Relationships>"
    );
    package(&[
        ("[Content_Types].xml", types.as_bytes().to_vec(), false),
        ("_rels/.rels", rels.into_bytes(), false),
        ("xl/workbook.xml", workbook.into_bytes(), false),
        ("xl/_rels/workbook.xml.rels", workbook_rels.into_bytes(), false),
        ("xl/worksheets/sheet1.xml", worksheet.into_bytes(), false),
        ("xl/sharedStrings.xml", sst.into_bytes(), false),
        ("docProps/core.xml", core_xml("Vorgangsliste"), false),
    ])
}

/// A character in WinAnsiEncoding (the standard fonts' encoding), `?` if it has none.
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{A0}'..='\u{FF}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '–' => 0x96,
        '—' => 0x97,
        _ => b'?',
    }
}

/// A PDF literal string of `s` in WinAnsiEncoding.
fn pdf_string(s: &str) -> Vec<u8> {
    let mut out = vec![b'('];
    for b in s.chars().map(win_ansi) {
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b')');
    out
}

/// Words wrapped into lines of at most `width` characters.
fn wrap(p: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in p.split_whitespace() {
        let line = lines.last_mut().unwrap();
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

/// A text PDF of `pages` A4 pages in Helvetica, 58 lines a page: a bold heading per
/// letter, its paragraphs wrapped at 95 characters; every third line shown with `TJ` and
/// kerning, the others with `Tj`; content streams compressed (FlateDecode).
fn pdf(docs: &[Doc], pages: usize) -> Vec<u8> {
    use flate2::{Compression, write::ZlibEncoder};
    const LINES: usize = 58;
    let mut lines: Vec<(bool, String)> = Vec::new();
    for d in docs.iter().cycle() {
        if lines.len() >= pages * LINES {
            break;
        }
        lines.push((true, d.title.clone()));
        for p in paragraphs(&d.text) {
            for l in p.lines() {
                lines.extend(wrap(l, 95).into_iter().map(|l| (false, l)));
            }
        }
        lines.push((false, String::new()));
    }
    lines.truncate(pages * LINES);

    let mut out: Vec<u8> = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    let utf16 = |s: &str| -> String {
        let mut h = String::from("<FEFF");
        for u in s.encode_utf16() {
            let _ = write!(h, "{u:04X}");
        }
        h + ">"
    };
    obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R /Lang (de-DE) >>");
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 6 + 2 * i)).collect();
    obj(&mut out, format!("<< /Type /Pages /Kids [{}] /Count {pages} >>", kids.join(" ")).as_bytes());
    obj(
        &mut out,
        format!(
            "<< /Title {} /Author {} /Producer (akte bench_extract) /CreationDate (D:20260203090000+01'00') >>",
            utf16(&docs[0].title),
            utf16(&docs[0].sender)
        )
        .as_bytes(),
    );
    obj(&mut out, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
    obj(&mut out, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>");
    for (p, chunk) in lines.chunks(LINES).enumerate() {
        obj(
            &mut out,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents {} 0 R >>",
                7 + 2 * p
            )
            .as_bytes(),
        );
        let mut c: Vec<u8> = Vec::new();
        for (i, (bold, line)) in chunk.iter().enumerate() {
            if line.is_empty() {
                continue;
            }
            let y = 800.0 - 13.0 * i as f64;
            let _ = write!(c, "BT /{} 10 Tf 1 0 0 1 56.7 {y:.1} Tm ", if *bold { "F2" } else { "F1" });
            if i % 3 == 2 && line.len() > 20 {
                // Split at a character boundary near the middle, with a kerning gap.
                let mid = line.char_indices().map(|(k, _)| k).find(|&k| k >= line.len() / 2).unwrap_or(0);
                c.push(b'[');
                c.extend(pdf_string(&line[..mid]));
                c.extend_from_slice(b" -12 ");
                c.extend(pdf_string(&line[mid..]));
                c.extend_from_slice(b"] TJ ET\n");
            } else {
                c.extend(pdf_string(line));
                c.extend_from_slice(b" Tj ET\n");
            }
        }
        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(&c).unwrap();
        let z = z.finish().unwrap();
        let mut body = format!("<< /Length {} /Filter /FlateDecode >>\nstream\n", z.len()).into_bytes();
        body.extend_from_slice(&z);
        body.extend_from_slice(b"\nendstream");
        obj(&mut out, &body);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for o in &offsets {
        let _ = writeln!(out, "{o:010} 00000 n ");
    }
    let _ =
        write!(out, "trailer\n<< /Size {} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref}\n%%EOF\n", offsets.len() + 1);
    out
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len() * 4 / 3 + data.len() / 57 * 2 + 4);
    for line in data.chunks(57) {
        for c in line.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..4 {
                if k <= c.len() {
                    out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out.push_str("\r\n");
    }
    out
}

/// Quoted-printable (RFC 2045) of UTF-8 text with `\n` line ends, lines of at most 76.
fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 11 / 10);
    for line in text.split('\n') {
        let mut width = 0;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let escape =
                ((b == b' ' || b == b'\t') && last) || b == b'=' || (!(b' '..=b'~').contains(&b) && b != b'\t');
            let enc = if escape { format!("={b:02X}") } else { (b as char).to_string() };
            if width + enc.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += enc.len();
            out.push_str(&enc);
        }
        out.push_str("\r\n");
    }
    out
}

/// An e-mail as a mail client sends it: multipart/mixed with a quoted-printable body
/// (≈ 2 MiB, plain and HTML alternatives), a text attachment (≈ 6 MiB, base64) and the PDF.
fn eml(docs: &[Doc], pdf: &[u8]) -> Vec<u8> {
    let body: String = take(docs, 2 << 20).map(|d| format!("{}\n\n{}\n\n", d.title, d.text)).collect();
    let attachment = text(&docs[docs.len() / 2..], 6 << 20);
    let html_body = html(take(docs, 256 << 10));
    let encoded_word = |s: &str| {
        let mut o = String::from("=?UTF-8?B?");
        o.push_str(base64(s.as_bytes()).trim_end());
        o + "?="
    };
    let mut m = String::new();
    let _ = write!(
        m,
        "From: {} <poststelle@hohe-heide-wind.example>\r\nTo: Landkreis Heideland <immissionsschutz@landkreis-heideland.example>\r\n\
         Cc: Gemeinde Brookdorf <bauamt@brookdorf.example>, Amt Heideland <amt@heideland.example>\r\n\
         Subject: {}\r\nDate: Tue, 03 Feb 2026 10:42:00 +0100\r\nMessage-ID: <bench-extract.20260203@hohe-heide-wind.example>\r\n\
         MIME-Version: 1.0\r\nContent-Language: de-DE\r\nContent-Type: multipart/mixed; boundary=\"=_outer\"\r\n\r\n\
         This is a multi-part message in MIME format.\r\n--=_outer\r\nContent-Type: multipart/alternative; boundary=\"=_alt\"\r\n\r\n\
         --=_alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\
         --=_alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n{}\
         --=_alt--\r\n--=_outer\r\nContent-Type: text/plain; charset=utf-8; name=\"anlage-1-stellungnahmen.txt\"\r\n\
         Content-Disposition: attachment; filename=\"anlage-1-stellungnahmen.txt\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\
         --=_outer\r\nContent-Type: application/pdf; name=\"antragsunterlagen.pdf\"\r\n\
         Content-Disposition: attachment; filename=\"antragsunterlagen.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\
         --=_outer--\r\n",
        encoded_word(&docs[0].sender),
        encoded_word(&docs[0].title),
        quoted_printable(&body),
        quoted_printable(&String::from_utf8_lossy(&html_body)),
        base64(&attachment),
        base64(pdf)
    );
    m.into_bytes()
}
