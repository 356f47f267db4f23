//! OpenDocument: ODT (and other text-like ODF) and ODS.
//!
//! Text documents: paragraphs and headings of `content.xml` as lines, tables as
//! tab-separated rows, footnote and endnote bodies collected and appended after the body
//! (their citation marks left out), then the headers and footers of the master pages in
//! `styles.xml`, each distinct line once. Tracked deletions and annotations are skipped.
//!
//! Spreadsheets: one page per `table:table`, starting with the sheet's name; cells
//! tab-separated, rows newline-separated, repeated cells and rows expanded up to
//! [`MAX_REPEAT`](crate::writer::MAX_REPEAT), empty rows and trailing empty cells left out.

use crate::Package;
use crate::akte::plugin::types::Failure;
use crate::walk::{Ev, Flow, attr, attr_cow, local};
use crate::writer::Writer;

/// Where an OpenDocument walk is.
struct State {
    /// Spreadsheet: top-level tables are pages.
    spreadsheet: bool,
    /// Only text inside `office:master-styles` counts (for `styles.xml`).
    master_only: bool,
    /// Depth inside `office:master-styles`.
    in_master: usize,
    /// Depth inside skipped elements (0: not skipping).
    skip: usize,
    /// Depth of paragraphs and headings.
    in_paragraph: usize,
    /// Depth of notes (`text:note`): their text goes to the notes writer.
    in_note: usize,
    /// Depth of tables.
    tables: usize,
    /// Repeat counts of the open rows and cells.
    repeats: Vec<usize>,
}

/// Extracts `content.xml` (and the headers and footers of `styles.xml`) into `writer`.
pub fn extract(package: &mut Package<'_>, writer: &mut Writer, spreadsheet: bool) -> Result<(), Failure> {
    let mut notes = Writer::new(crate::TEXT_CAP);
    let mut state = State::new(spreadsheet, false);
    writer.reserve(package.declared_size("content.xml").unwrap_or(0));
    if !package.walk("content.xml", &mut |ev| odf_event(ev, writer, &mut notes, &mut state))? {
        return Err(Failure::Malformed("an OpenDocument without `content.xml`".into()));
    }
    let (note_text, _, _) = notes.finish();
    writer.append_lines(note_text.lines());
    if spreadsheet || writer.full() {
        return Ok(());
    }
    let mut margins = Writer::new(crate::TEXT_CAP);
    let mut margin_notes = Writer::new(crate::TEXT_CAP);
    let mut state = State::new(false, true);
    package.walk("styles.xml", &mut |ev| odf_event(ev, &mut margins, &mut margin_notes, &mut state))?;
    let (margin_text, _, _) = margins.finish();
    let mut seen = std::collections::HashSet::new();
    writer.append_lines(margin_text.lines().filter(|l| seen.insert(l.to_string())));
    Ok(())
}

impl State {
    fn new(spreadsheet: bool, master_only: bool) -> State {
        State {
            spreadsheet,
            master_only,
            in_master: 0,
            skip: 0,
            in_paragraph: 0,
            in_note: 0,
            tables: 0,
            repeats: Vec::new(),
        }
    }
}

/// A repeat count attribute, at least 1.
fn repeat(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> usize {
    attr_cow(e, name).and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(1).max(1)
}

fn odf_event(ev: Ev<'_>, main: &mut Writer, notes: &mut Writer, s: &mut State) -> Flow {
    match ev {
        Ev::Start(e) => {
            let name = local(e);
            if s.skip > 0 {
                s.skip += 1;
                return Flow::Go;
            }
            if name == b"master-styles" {
                s.in_master += 1;
            }
            if s.master_only && s.in_master == 0 {
                return Flow::Go;
            }
            if name == b"note" {
                s.in_note += 1;
            }
            let w = if s.in_note > 0 { &mut *notes } else { &mut *main };
            match name {
                b"tracked-changes" | b"annotation" | b"note-citation" | b"sequence-decls" | b"variable-decls"
                | b"user-field-decls" | b"forms" | b"shapes" | b"automatic-styles" | b"font-face-decls" => s.skip = 1,
                b"p" | b"h" => {
                    if s.in_paragraph > 0 {
                        w.paragraph_end();
                    }
                    s.in_paragraph += 1;
                }
                b"s" if s.in_paragraph > 0 => {
                    for _ in 0..repeat(e, b"c").min(64) {
                        w.text(" ");
                    }
                }
                b"tab" if s.in_paragraph > 0 => w.tab(),
                b"line-break" if s.in_paragraph > 0 => w.line_break(),
                b"table" => {
                    s.tables += 1;
                    if s.spreadsheet && s.tables == 1 {
                        w.page_start();
                        if let Some(sheet) = attr(e, b"name") {
                            w.text(&sheet);
                            w.paragraph_end();
                        }
                    }
                    w.table_start();
                }
                b"table-row" => s.repeats.push(repeat(e, b"number-rows-repeated")),
                b"table-cell" | b"covered-table-cell" => s.repeats.push(repeat(e, b"number-columns-repeated")),
                _ => {}
            }
        }
        Ev::End(name) => {
            if s.skip > 0 {
                s.skip -= 1;
                return Flow::Go;
            }
            if name == b"master-styles" {
                s.in_master = s.in_master.saturating_sub(1);
            }
            if s.master_only && s.in_master == 0 {
                return Flow::Go;
            }
            let w = if s.in_note > 0 { &mut *notes } else { &mut *main };
            match name {
                b"p" | b"h" => {
                    s.in_paragraph = s.in_paragraph.saturating_sub(1);
                    w.paragraph_end();
                }
                b"table-cell" | b"covered-table-cell" => {
                    let n = s.repeats.pop().unwrap_or(1);
                    w.cell_end(n);
                }
                b"table-row" => {
                    let n = s.repeats.pop().unwrap_or(1);
                    w.row_end(n);
                }
                b"table" => {
                    w.table_end();
                    s.tables = s.tables.saturating_sub(1);
                    if s.spreadsheet && s.tables == 0 {
                        w.page_end();
                    }
                }
                b"note" => s.in_note = s.in_note.saturating_sub(1),
                _ => {}
            }
        }
        Ev::Text(t) => {
            if s.skip == 0 && s.in_paragraph > 0 && (!s.master_only || s.in_master > 0) {
                let w = if s.in_note > 0 { &mut *notes } else { &mut *main };
                w.text(t);
            }
        }
    }
    if main.full() || notes.full() { Flow::Stop } else { Flow::Go }
}
