//! Office Open XML: DOCX (WordprocessingML) and XLSX (SpreadsheetML).
//!
//! DOCX: the main part's paragraphs as lines and its tables as tab-separated rows; then the
//! footnotes and endnotes; then the headers and footers, each distinct line once (a header
//! repeated on every section appears once). Deleted text of tracked changes, field codes and
//! the fallback copies of `mc:AlternateContent` are skipped.
//!
//! XLSX: one page per sheet, in workbook order, starting with the sheet's name; cells
//! tab-separated at their column (shared strings, inline strings, numbers, booleans as
//! `TRUE`/`FALSE`), rows newline-separated, empty rows left out.

use crate::Package;
use crate::akte::plugin::types::Failure;
use crate::walk::{Ev, Flow, attr, attr_cow, local};
use crate::writer::Writer;

/// Most columns a row may have (XLSX's own limit, XFD).
const MAX_COLUMNS: usize = 16_384;

/// The main part named by the package relationships (`_rels/.rels`), e.g.
/// `word/document.xml`.
pub fn main_part(package: &mut Package<'_>) -> Result<String, Failure> {
    let rels = relationships(package, "_rels/.rels")?;
    let main = rels
        .iter()
        .find(|r| r.kind.ends_with("/officeDocument"))
        .map(|r| resolve("", &r.target))
        .unwrap_or_else(|| "word/document.xml".into());
    Ok(main)
}

/// One relationship of a `.rels` part.
struct Relationship {
    id: String,
    kind: String,
    target: String,
}

fn relationships(package: &mut Package<'_>, part: &str) -> Result<Vec<Relationship>, Failure> {
    let mut rels = Vec::new();
    package.walk(part, &mut |ev| {
        if let Ev::Start(e) = ev
            && local(e) == b"Relationship"
            && attr(e, b"TargetMode").as_deref() != Some("External")
        {
            rels.push(Relationship {
                id: attr(e, b"Id").unwrap_or_default(),
                kind: attr(e, b"Type").unwrap_or_default(),
                target: attr(e, b"Target").unwrap_or_default(),
            });
        }
        if rels.len() > 100_000 { Flow::Stop } else { Flow::Go }
    })?;
    Ok(rels)
}

/// Resolves a relationship target against the directory of its source part (`dir`, empty
/// or ending in `/`): absolute targets drop their `/`, `..` steps go up within the package.
fn resolve(dir: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("{dir}{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for segment in joined.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// The directory of a part, with a trailing `/` (or empty).
fn dir_of(part: &str) -> &str {
    part.rfind('/').map_or("", |i| &part[..=i])
}

/// The `.rels` part of `part`: `word/document.xml` → `word/_rels/document.xml.rels`.
fn rels_of(part: &str) -> String {
    let dir = dir_of(part);
    format!("{dir}_rels/{}.rels", &part[dir.len()..])
}

/// Extracts a DOCX whose main part is `main`.
pub fn docx(package: &mut Package<'_>, writer: &mut Writer, main: &str) -> Result<(), Failure> {
    let mut state = WordState::default();
    writer.reserve(package.declared_size(main).unwrap_or(0));
    if !package.walk(main, &mut |ev| word_event(ev, writer, &mut state))? {
        return Err(Failure::Malformed(format!("the main part `{main}` is missing")));
    }
    // Footnotes, endnotes, headers and footers, as the main part's relationships name them.
    let rels = relationships(package, &rels_of(main)).unwrap_or_default();
    let dir = dir_of(main);
    let of_kind = |suffix: &str| -> Vec<String> {
        let mut parts: Vec<String> =
            rels.iter().filter(|r| r.kind.ends_with(suffix)).map(|r| resolve(dir, &r.target)).collect();
        parts.sort_by_key(|p| (p.len(), p.clone()));
        parts.dedup();
        parts
    };
    for part in of_kind("/footnotes").into_iter().chain(of_kind("/endnotes")) {
        let mut state = WordState::default();
        package.walk(&part, &mut |ev| word_event(ev, writer, &mut state))?;
    }
    let mut margins = Writer::new(crate::TEXT_CAP);
    for part in of_kind("/header").into_iter().chain(of_kind("/footer")) {
        let mut state = WordState::default();
        package.walk(&part, &mut |ev| word_event(ev, &mut margins, &mut state))?;
    }
    let (margin_text, _, _) = margins.finish();
    let mut seen = std::collections::HashSet::new();
    writer.append_lines(margin_text.lines().filter(|l| seen.insert(l.to_string())));
    Ok(())
}

/// Where a WordprocessingML walk is.
#[derive(Default)]
struct WordState {
    /// Depth inside an element whose content is skipped (0: not skipping).
    skip: usize,
    /// Depth of `w:t` (and DrawingML/math `t`) elements: text is taken only there.
    in_text: usize,
    /// Depth of runs: `w:tab` and `w:br` count only in runs (elsewhere they are tab stops).
    in_run: usize,
    /// Depth of paragraphs (text boxes nest paragraphs inside paragraphs).
    in_paragraph: usize,
}

fn word_event(ev: Ev<'_>, w: &mut Writer, s: &mut WordState) -> Flow {
    match ev {
        Ev::Start(e) => {
            let name = local(e);
            if s.skip > 0 {
                s.skip += 1;
                return Flow::Go;
            }
            match name {
                b"Fallback" | b"instrText" | b"delText" | b"delInstrText" | b"pPr" | b"rPr" | b"sectPr" => s.skip = 1,
                b"t" => s.in_text += 1,
                b"r" => s.in_run += 1,
                b"p" => {
                    if s.in_paragraph > 0 {
                        w.paragraph_end();
                    }
                    s.in_paragraph += 1;
                }
                b"tab" | b"ptab" if s.in_run > 0 => w.tab(),
                b"br" | b"cr" if s.in_run > 0 => w.line_break(),
                b"noBreakHyphen" if s.in_run > 0 => w.text("-"),
                b"tbl" => w.table_start(),
                _ => {}
            }
        }
        Ev::End(name) => {
            if s.skip > 0 {
                s.skip -= 1;
                return Flow::Go;
            }
            match name {
                b"t" => s.in_text = s.in_text.saturating_sub(1),
                b"r" => s.in_run = s.in_run.saturating_sub(1),
                b"p" => {
                    s.in_paragraph = s.in_paragraph.saturating_sub(1);
                    w.paragraph_end();
                }
                b"tc" => w.cell_end(1),
                b"tr" => w.row_end(1),
                b"tbl" => w.table_end(),
                _ => {}
            }
        }
        Ev::Text(t) => {
            if s.skip == 0 && s.in_text > 0 {
                w.text(t);
            }
        }
    }
    if w.full() { Flow::Stop } else { Flow::Go }
}

/// Extracts an XLSX whose workbook part is `main`.
pub fn xlsx(package: &mut Package<'_>, writer: &mut Writer, main: &str) -> Result<(), Failure> {
    let dir = dir_of(main);
    let rels = relationships(package, &rels_of(main))?;
    // The sheets in workbook order: (name, relationship id).
    let mut sheets: Vec<(String, String)> = Vec::new();
    package.walk(main, &mut |ev| {
        if let Ev::Start(e) = ev
            && local(e) == b"sheet"
        {
            sheets.push((attr(e, b"name").unwrap_or_default(), attr(e, b"id").unwrap_or_default()));
        }
        Flow::Go
    })?;
    let shared = match rels.iter().find(|r| r.kind.ends_with("/sharedStrings")) {
        Some(r) => shared_strings(package, &resolve(dir, &r.target))?,
        None => Vec::new(),
    };
    for (name, id) in &sheets {
        let Some(rel) = rels.iter().find(|r| &r.id == id) else { continue };
        if !rel.kind.ends_with("/worksheet") {
            continue; // chart sheets and dialog sheets have no cells
        }
        writer.page_start();
        writer.text(name);
        writer.paragraph_end();
        writer.table_start();
        let mut cell = Cell::default();
        let mut column = 0usize;
        let part = resolve(dir, &rel.target);
        writer.reserve(package.declared_size(&part).unwrap_or(0));
        package.walk(&part, &mut |ev| sheet_event(ev, writer, &shared, &mut cell, &mut column))?;
        writer.table_end();
        writer.page_end();
        if writer.full() {
            break;
        }
    }
    Ok(())
}

/// The shared-string table: rich text runs joined, phonetic runs (`rPh`) left out.
fn shared_strings(package: &mut Package<'_>, part: &str) -> Result<Vec<String>, Failure> {
    let mut strings: Vec<String> = Vec::new();
    let mut bytes = 0usize;
    let (mut in_t, mut in_phonetic) = (0usize, 0usize);
    package.walk(part, &mut |ev| {
        match ev {
            Ev::Start(e) => match local(e) {
                b"si" => strings.push(String::new()),
                b"t" => in_t += 1,
                b"rPh" => in_phonetic += 1,
                _ => {}
            },
            Ev::End(name) => match name {
                b"t" => in_t = in_t.saturating_sub(1),
                b"rPh" => in_phonetic = in_phonetic.saturating_sub(1),
                _ => {}
            },
            Ev::Text(t) => {
                if in_t > 0
                    && in_phonetic == 0
                    && let Some(s) = strings.last_mut()
                {
                    s.push_str(t);
                    bytes += t.len();
                }
            }
        }
        if bytes > crate::TEXT_CAP { Flow::Stop } else { Flow::Go }
    })?;
    Ok(strings)
}

/// The cell being read; its buffer is reused from cell to cell.
#[derive(Default)]
struct Cell {
    /// Its column (0 = A), if its reference said.
    column: Option<usize>,
    /// Its type attribute (`t`): what the value means.
    kind: CellKind,
    /// Its `v` value or inline string.
    value: String,
    /// Whether text now belongs to the value (inside `v` or `is/t`).
    capture: bool,
}

/// The cell types that change what a value reads as.
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum CellKind {
    /// `s`: an index into the shared strings.
    Shared,
    /// `b`: a boolean, `1` or `0`.
    Boolean,
    /// Any other (`inlineStr`, `str`, `e`, `n`, none): the value as it is.
    #[default]
    Plain,
}

fn sheet_event(ev: Ev<'_>, w: &mut Writer, shared: &[String], cell: &mut Cell, column: &mut usize) -> Flow {
    match ev {
        Ev::Start(e) => match local(e) {
            b"row" => *column = 0,
            b"c" => {
                cell.column = attr_cow(e, b"r").and_then(|r| column_of(&r));
                cell.kind = match attr_cow(e, b"t").as_deref() {
                    Some("s") => CellKind::Shared,
                    Some("b") => CellKind::Boolean,
                    _ => CellKind::Plain,
                };
                cell.value.clear();
                cell.capture = false;
            }
            b"v" | b"t" => cell.capture = true,
            _ => {}
        },
        Ev::End(name) => match name {
            b"v" | b"t" => cell.capture = false,
            b"c" => {
                let target = cell.column.unwrap_or(*column).min(MAX_COLUMNS);
                while *column < target {
                    w.cell_end(1);
                    *column += 1;
                }
                match cell.kind {
                    CellKind::Shared => {
                        if let Some(text) = cell.value.trim().parse::<usize>().ok().and_then(|i| shared.get(i)) {
                            w.text(text);
                        }
                    }
                    CellKind::Boolean => w.text(if cell.value.trim() == "1" { "TRUE" } else { "FALSE" }),
                    CellKind::Plain => w.text(&cell.value),
                }
                cell.value.clear();
                w.cell_end(1);
                *column += 1;
            }
            b"row" => w.row_end(1),
            _ => {}
        },
        Ev::Text(t) => {
            if cell.capture && cell.value.len() < 1024 * 1024 {
                cell.value.push_str(t);
            }
        }
    }
    if w.full() { Flow::Stop } else { Flow::Go }
}

/// The zero-based column of a cell reference such as `B7` or `AA12`.
fn column_of(reference: &str) -> Option<usize> {
    let bytes = reference.as_bytes();
    let letters = &bytes[..bytes.iter().position(|b| !b.is_ascii_alphabetic()).unwrap_or(bytes.len())];
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let n = letters.iter().fold(0usize, |n, &b| n * 26 + (b.to_ascii_uppercase() - b'A' + 1) as usize);
    Some(n - 1)
}
