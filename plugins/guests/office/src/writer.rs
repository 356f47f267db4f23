//! The text being built: paragraphs as lines, tables as tab-separated rows (one line per
//! row, paragraphs within a cell joined by a space, nested tables flattened into their
//! cell), pages as byte ranges, and a hard cap on the size of it all.

/// Repetitions of one cell or row honoured (OpenDocument's `number-columns-repeated` and
/// `number-rows-repeated` may say 16384 or a million, mostly for empty formatting).
pub const MAX_REPEAT: usize = 1024;

/// One table being read.
#[derive(Default)]
struct Table {
    /// The finished cells of the current row.
    cells: Vec<String>,
    /// The cell being read.
    cell: String,
}

/// Accumulates text.
pub struct Writer {
    /// Finished lines, each ending in `\n`.
    pub out: String,
    /// The line being built (outside tables).
    line: String,
    /// Tables being read, innermost last.
    tables: Vec<Table>,
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
            held: 0,
            cap,
            truncated: false,
            pages: Vec::new(),
            page_start: None,
        }
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
                if s.contains(['\t', '\n']) {
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
        self.tables.push(Table::default());
    }

    /// A cell ends; `repeat` times the same cell (OpenDocument).
    pub fn cell_end(&mut self, repeat: usize) {
        if let Some(t) = self.tables.last_mut() {
            let cell = std::mem::take(&mut t.cell);
            let cell = cell.trim();
            let repeat = repeat.clamp(1, MAX_REPEAT);
            for _ in 0..repeat {
                t.cells.push(cell.to_string());
            }
            self.held += cell.len() * (repeat - 1);
        }
    }

    /// A row ends; `repeat` times the same row (OpenDocument). Empty rows leave no line.
    pub fn row_end(&mut self, repeat: usize) {
        let Some(t) = self.tables.last_mut() else { return };
        if !t.cell.trim().is_empty() {
            let cell = std::mem::take(&mut t.cell);
            t.cells.push(cell.trim().to_string());
        }
        let mut cells = std::mem::take(&mut t.cells);
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        if cells.is_empty() {
            return;
        }
        let held: usize = cells.iter().map(String::len).sum();
        self.held -= held.min(self.held);
        if self.tables.len() > 1 {
            // A nested table: its rows become words of the enclosing cell.
            let joined = cells.iter().filter(|c| !c.is_empty()).cloned().collect::<Vec<_>>().join(" ");
            self.space();
            self.text(&joined);
        } else {
            let row = cells.join("\t");
            for _ in 0..repeat.clamp(1, MAX_REPEAT) {
                self.push_line(&row);
            }
        }
    }

    /// A table ends.
    pub fn table_end(&mut self) {
        self.row_end(1);
        self.tables.pop();
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
