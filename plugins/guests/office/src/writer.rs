//! The text being built: paragraphs as lines, tables as tab-separated rows (one line per
//! row, paragraphs within a cell joined by a space, nested tables flattened into their
//! cell), pages as byte ranges, and a hard cap on the size of it all.

/// Repetitions of one cell or row honoured (OpenDocument's `number-columns-repeated` and
/// `number-rows-repeated` may say 16384 or a million, mostly for empty formatting).
pub const MAX_REPEAT: usize = 1024;

/// One table being read.
#[derive(Default)]
struct Table {
    /// The finished cells of the current row, one after the other (no separators).
    cells: String,
    /// Where each finished cell of the current row ends in `cells`.
    ends: Vec<usize>,
    /// The cell being read.
    cell: String,
}

impl Table {
    /// The finished cells of the current row.
    fn cells(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let cell = &self.cells[start..end];
            start = end;
            cell
        })
    }

    /// Finishes the cell `cell` (already trimmed) `repeat` times.
    fn push_cell(cells: &mut String, ends: &mut Vec<usize>, cell: &str, repeat: usize) {
        for _ in 0..repeat {
            cells.push_str(cell);
            ends.push(cells.len());
        }
    }

    fn clear_row(&mut self) {
        self.cells.clear();
        self.ends.clear();
    }
}

/// Accumulates text.
pub struct Writer {
    /// Finished lines, each ending in `\n`.
    pub out: String,
    /// The line being built (outside tables).
    line: String,
    /// Tables being read, innermost last.
    tables: Vec<Table>,
    /// Tables no longer read, kept for their buffers.
    spare: Vec<Table>,
    /// Scratch space for a row being joined.
    row: String,
    /// Bytes held in `line` and `tables`, not yet in `out`.
    held: usize,
    /// Most bytes of text kept.
    cap: usize,
    /// Whether text was cut at the cap.
    pub truncated: bool,
    /// Pages so far, as byte ranges of `out`.
    pub pages: Vec<(usize, usize)>,
    page_start: Option<usize>,
}

impl Writer {
    /// An empty writer that keeps at most `cap` bytes.
    pub fn new(cap: usize) -> Writer {
        Writer {
            out: String::new(),
            line: String::new(),
            tables: Vec::new(),
            spare: Vec::new(),
            row: String::new(),
            held: 0,
            cap,
            truncated: false,
            pages: Vec::new(),
            page_start: None,
        }
    }

    /// Makes room for `bytes` more of text (at most up to the cap) before a part of that
    /// size is read: the character data of an XML part is never much longer than the part.
    /// Growing the text by doubling instead copies it each time, which in WebAssembly is a
    /// real copy (natively `realloc` can remap pages), and leaves the old buffers as
    /// touched memory the sandbox resets after the call.
    pub fn reserve(&mut self, bytes: u64) {
        let room = self.cap.saturating_sub(self.out.len());
        self.out.reserve_exact(usize::try_from(bytes).unwrap_or(usize::MAX).min(room));
    }

    /// Whether the cap was hit; walks stop then.
    pub fn full(&self) -> bool {
        self.truncated
    }

    /// Appends character data to the current paragraph or cell.
    pub fn text(&mut self, s: &str) {
        if self.truncated || s.is_empty() {
            return;
        }
        if self.out.len() + self.held + s.len() > self.cap {
            self.truncated = true;
            return;
        }
        self.held += s.len();
        match self.tables.last_mut() {
            Some(t) => {
                // Inside a cell, tabs and line breaks would break the row's structure.
                if memchr::memchr2(b'\t', b'\n', s.as_bytes()).is_some() {
                    t.cell.push_str(&s.replace(['\t', '\n'], " "));
                } else {
                    t.cell.push_str(s);
                }
            }
            None => self.line.push_str(s),
        }
    }

    /// A tab inside a paragraph.
    pub fn tab(&mut self) {
        self.text("\t");
    }

    /// A line break inside a paragraph.
    pub fn line_break(&mut self) {
        if self.tables.is_empty() {
            self.text("\n");
        } else {
            self.space();
        }
    }

    /// Whether the current paragraph or cell is empty or ends in whitespace.
    pub fn ends_in_space(&self) -> bool {
        let tail = match self.tables.last() {
            Some(t) => &t.cell,
            None => &self.line,
        };
        tail.is_empty() || tail.ends_with(char::is_whitespace)
    }

    /// A separating space, unless the text so far is empty or ends in whitespace.
    fn space(&mut self) {
        let tail = match self.tables.last() {
            Some(t) => &t.cell,
            None => &self.line,
        };
        if !tail.is_empty() && !tail.ends_with(char::is_whitespace) {
            self.text(" ");
        }
    }

    /// The end of a paragraph (or heading, or list item).
    pub fn paragraph_end(&mut self) {
        if self.tables.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.held -= line.len().min(self.held);
            self.push_line(&line);
        } else {
            self.space();
        }
    }

    /// Moves a finished line to `out`, unless it is blank.
    fn push_line(&mut self, line: &str) {
        let line = line.trim_end();
        if line.trim_start().is_empty() || self.truncated {
            return;
        }
        if self.out.len() + line.len() + 1 > self.cap {
            self.truncated = true;
            return;
        }
        self.out.push_str(line);
        self.out.push('\n');
    }

    /// A table starts.
    pub fn table_start(&mut self) {
        if self.tables.is_empty() && !self.line.trim().is_empty() {
            // A table inside a paragraph (a text frame): the text before it is its own line.
            self.paragraph_end();
        }
        let table = self.spare.pop().unwrap_or_default();
        self.tables.push(table);
    }

    /// A cell ends; `repeat` times the same cell (OpenDocument).
    pub fn cell_end(&mut self, repeat: usize) {
        if let Some(t) = self.tables.last_mut() {
            let cell = trim(&t.cell);
            let repeat = repeat.clamp(1, MAX_REPEAT);
            Table::push_cell(&mut t.cells, &mut t.ends, cell, repeat);
            self.held += cell.len() * (repeat - 1);
            t.cell.clear();
        }
    }

    /// A row ends; `repeat` times the same row (OpenDocument). Empty rows leave no line.
    pub fn row_end(&mut self, repeat: usize) {
        let Some(t) = self.tables.last_mut() else { return };
        if !trim(&t.cell).is_empty() {
            Table::push_cell(&mut t.cells, &mut t.ends, trim(&t.cell), 1);
            t.cell.clear();
        }
        // Trailing empty cells go.
        while let Some(&end) = t.ends.last() {
            let start = if t.ends.len() > 1 { t.ends[t.ends.len() - 2] } else { 0 };
            if end > start {
                break;
            }
            t.ends.pop();
        }
        if t.ends.is_empty() {
            t.clear_row();
            return;
        }
        // What is left holds the row's text and nothing else.
        let held = t.ends.last().copied().unwrap_or(0);
        self.held -= held.min(self.held);
        let mut row = std::mem::take(&mut self.row);
        row.clear();
        let nested = self.tables.len() > 1;
        let t = self.tables.last_mut().expect("a table");
        let separator = if nested { " " } else { "\t" };
        for (i, cell) in t.cells().filter(|c| !nested || !c.is_empty()).enumerate() {
            if i > 0 {
                row.push_str(separator);
            }
            row.push_str(cell);
        }
        t.clear_row();
        if nested {
            // A nested table: its rows become words of the enclosing cell.
            self.space();
            self.text(&row);
        } else {
            for _ in 0..repeat.clamp(1, MAX_REPEAT) {
                self.push_line(&row);
            }
        }
        self.row = row;
    }

    /// A table ends.
    pub fn table_end(&mut self) {
        self.row_end(1);
        if let Some(mut t) = self.tables.pop() {
            t.clear_row();
            t.cell.clear();
            self.spare.push(t);
        }
    }

    /// Starts a page at the current end of the text.
    pub fn page_start(&mut self) {
        self.paragraph_end();
        self.page_start = Some(self.out.len());
    }

    /// Ends the page begun by [`Writer::page_start`].
    pub fn page_end(&mut self) {
        self.paragraph_end();
        if let Some(start) = self.page_start.take() {
            let end =
                if self.out.len() > start && self.out.ends_with('\n') { self.out.len() - 1 } else { self.out.len() };
            self.pages.push((start, end));
        }
    }

    /// Appends the finished text of another writer (notes, headers) as lines of this one.
    pub fn append_lines<'a>(&mut self, lines: impl IntoIterator<Item = &'a str>) {
        self.paragraph_end();
        for line in lines {
            self.push_line(line);
        }
    }

    /// Finishes: flushes open paragraphs and tables and returns the text and pages, with
    /// the last newline removed and pages clamped to the text.
    pub fn finish(mut self) -> (String, Vec<(usize, usize)>, bool) {
        while !self.tables.is_empty() {
            self.table_end();
        }
        self.paragraph_end();
        if self.page_start.is_some() {
            self.page_end();
        }
        if self.out.ends_with('\n') {
            self.out.pop();
        }
        let len = self.out.len();
        let pages = self.pages.into_iter().map(|(s, e)| (s.min(len), e.min(len))).collect();
        (self.out, pages, self.truncated)
    }
}

/// `str::trim`, without its work for the usual cell that starts and ends with a letter or digit.
fn trim(s: &str) -> &str {
    let plain = |b: u8| b.is_ascii() && !matches!(b, b' ' | b'\t'..=b'\r');
    match s.as_bytes() {
        [first, .., last] if plain(*first) && plain(*last) => s,
        [only] if plain(*only) => s,
        _ => s.trim(),
    }
}
