//! A content-stream interpreter that keeps only the text: it tokenizes a page's operators
//! (tolerating syntax errors, skipping inline images), tracks the graphics and text state
//! (`cm`, `q`/`Q`, `BT`, `Tf`, `Td`/`TD`/`Tm`/`T*`, `Tc`/`Tw`/`Tz`/`TL`), decodes shown
//! strings through their fonts, follows form XObjects (`Do`), and lays the glyphs out as
//! lines: a jump of the baseline starts a new line, a gap of a fifth of an em on the same
//! baseline becomes a space.
//!
//! All work is bounded by a [`Budget`] of tokens and output bytes, so a crafted stream ends
//! in truncated text rather than in a timeout.

use std::collections::HashMap;
use std::rc::Rc;

use lopdf::{Dictionary, Document, Object, ObjectId};

use crate::font::{Font, hex_bytes, number, resolve};

/// How deep form XObjects may nest.
const MAX_FORM_DEPTH: usize = 12;
/// How deep `q` may nest, and arrays in operands.
const MAX_STACK: usize = 256;

/// What a whole document may cost.
pub struct Budget {
    /// Tokens left to read, over all pages.
    pub tokens: u64,
    /// Bytes of text left to produce, over all pages.
    pub text: usize,
    /// Set when either ran out: the text is truncated.
    pub exhausted: bool,
}

/// Fonts read so far in this document, by object id.
pub type FontCache = HashMap<ObjectId, Rc<Font>>;

type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

fn mul(m: &Matrix, n: &Matrix) -> Matrix {
    [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]
}

#[derive(Clone, Debug)]
enum Operand {
    Num(f64),
    Str(Vec<u8>),
    Name(Vec<u8>),
    Array(Vec<Operand>),
    Other,
}

/// The text of one page, produced by running its content streams.
pub struct PageText<'a> {
    doc: &'a Document,
    fonts: &'a mut FontCache,
    budget: &'a mut Budget,
    out: String,
    ctm: Matrix,
    saved: Vec<Matrix>,
    tm: Matrix,
    tlm: Matrix,
    font: Rc<Font>,
    size: f64,
    tc: f64,
    tw: f64,
    th: f64,
    tl: f64,
    last: Option<(f64, f64)>,
    forms: Vec<ObjectId>,
}

impl<'a> PageText<'a> {
    /// A fresh interpreter for one page.
    pub fn new(doc: &'a Document, fonts: &'a mut FontCache, budget: &'a mut Budget) -> Self {
        PageText {
            doc,
            fonts,
            budget,
            out: String::new(),
            ctm: IDENTITY,
            saved: Vec::new(),
            tm: IDENTITY,
            tlm: IDENTITY,
            font: Rc::new(Font::fallback()),
            size: 12.0,
            tc: 0.0,
            tw: 0.0,
            th: 1.0,
            tl: 0.0,
            last: None,
            forms: Vec::new(),
        }
    }

    /// The page's text: lines without trailing blanks, no blank lines at the ends.
    pub fn finish(self) -> String {
        let mut s = String::with_capacity(self.out.len());
        for line in self.out.lines() {
            s.push_str(line.trim_end());
            s.push('\n');
        }
        s.trim_matches(|c: char| c == '\n' || c == ' ').to_string()
    }

    /// Runs one content stream with the given resources.
    pub fn run(&mut self, content: &[u8], resources: Option<&'a Dictionary>, depth: usize) {
        let mut lexer = Lexer { b: content, i: 0 };
        let mut stack: Vec<Operand> = Vec::new();
        let mut arrays: Vec<Vec<Operand>> = Vec::new();
        let mut dict_depth = 0usize;
        let mut local_fonts: HashMap<Vec<u8>, Rc<Font>> = HashMap::new();
        while let Some(tok) = lexer.next() {
            if self.budget.tokens == 0 || self.budget.exhausted {
                self.budget.exhausted = true;
                return;
            }
            self.budget.tokens -= 1;
            let operand = match tok {
                Token::DictStart => {
                    dict_depth += 1;
                    continue;
                }
                Token::DictEnd => {
                    dict_depth = dict_depth.saturating_sub(1);
                    if dict_depth == 0 {
                        Operand::Other
                    } else {
                        continue;
                    }
                }
                _ if dict_depth > 0 => continue,
                Token::ArrStart => {
                    if arrays.len() < MAX_STACK {
                        arrays.push(Vec::new());
                    }
                    continue;
                }
                Token::ArrEnd => match arrays.pop() {
                    Some(a) => Operand::Array(a),
                    None => continue,
                },
                Token::Num(n) => Operand::Num(n),
                Token::Str(s) => Operand::Str(s),
                Token::Name(n) => Operand::Name(n),
                Token::Op(op) => {
                    arrays.clear();
                    if op == b"BI" {
                        lexer.skip_inline_image();
                    } else {
                        self.op(op, &stack, resources, &mut local_fonts, depth);
                    }
                    stack.clear();
                    continue;
                }
            };
            match arrays.last_mut() {
                Some(a) => a.push(operand),
                None if stack.len() < MAX_STACK => stack.push(operand),
                None => {}
            }
        }
    }

    fn op(
        &mut self,
        op: &[u8],
        args: &[Operand],
        resources: Option<&'a Dictionary>,
        local_fonts: &mut HashMap<Vec<u8>, Rc<Font>>,
        depth: usize,
    ) {
        let n = |k: usize| -> Option<f64> {
            match args.len().checked_sub(k).and_then(|i| args.get(i)) {
                Some(Operand::Num(x)) if x.is_finite() => Some(*x),
                _ => None,
            }
        };
        match op {
            // Past MAX_STACK a `q` falls through to `_`: nothing is saved.
            b"q" if self.saved.len() < MAX_STACK => self.saved.push(self.ctm),
            b"Q" => self.ctm = self.saved.pop().unwrap_or(self.ctm),
            b"cm" => {
                if let Some(m) = matrix(&n) {
                    self.ctm = mul(&m, &self.ctm);
                }
            }
            b"BT" => {
                self.tm = IDENTITY;
                self.tlm = IDENTITY;
            }
            b"Tf" => {
                if let (Some(Operand::Name(name)), Some(size)) =
                    (args.len().checked_sub(2).and_then(|i| args.get(i)), n(1))
                {
                    self.size = size;
                    self.font = self.lookup_font(name, resources, local_fonts);
                }
            }
            b"Tc" => self.tc = n(1).unwrap_or(self.tc),
            b"Tw" => self.tw = n(1).unwrap_or(self.tw),
            b"Tz" => self.th = n(1).map_or(self.th, |z| z / 100.0),
            b"TL" => self.tl = n(1).unwrap_or(self.tl),
            b"Td" | b"TD" => {
                if let (Some(tx), Some(ty)) = (n(2), n(1)) {
                    if op == b"TD" {
                        self.tl = -ty;
                    }
                    self.next_line(tx, ty);
                }
            }
            b"Tm" => {
                if let Some(m) = matrix(&n) {
                    self.tm = m;
                    self.tlm = m;
                }
            }
            b"T*" => self.next_line(0.0, -self.tl),
            b"Tj" => {
                if let Some(Operand::Str(s)) = args.last() {
                    self.show(s);
                }
            }
            b"'" | b"\"" => {
                if op == b"\"" {
                    self.tw = n(3).unwrap_or(self.tw);
                    self.tc = n(2).unwrap_or(self.tc);
                }
                self.next_line(0.0, -self.tl);
                if let Some(Operand::Str(s)) = args.last() {
                    self.show(s);
                }
            }
            b"TJ" => {
                if let Some(Operand::Array(items)) = args.last() {
                    for item in items {
                        match item {
                            Operand::Str(s) => self.show(s),
                            Operand::Num(k) if k.is_finite() => self.advance(-k / 1000.0 * self.size * self.th),
                            _ => {}
                        }
                    }
                }
            }
            b"Do" => {
                if let Some(Operand::Name(name)) = args.last() {
                    self.form(name, resources, depth);
                }
            }
            _ => {}
        }
    }

    fn lookup_font(
        &mut self,
        name: &[u8],
        resources: Option<&'a Dictionary>,
        local: &mut HashMap<Vec<u8>, Rc<Font>>,
    ) -> Rc<Font> {
        if let Some(f) = local.get(name) {
            return f.clone();
        }
        let doc = self.doc;
        let entry = resources
            .and_then(|r| match resolve(doc, r.get(b"Font").ok()) {
                Some(Object::Dictionary(d)) => Some(d),
                _ => None,
            })
            .and_then(|fonts| fonts.get(name).ok());
        let font = match entry {
            Some(Object::Reference(id)) => match self.fonts.get(id) {
                Some(f) => f.clone(),
                None => {
                    let f = match resolve(doc, entry) {
                        Some(Object::Dictionary(d)) => Rc::new(Font::load(doc, d)),
                        _ => Rc::new(Font::fallback()),
                    };
                    self.fonts.insert(*id, f.clone());
                    f
                }
            },
            Some(Object::Dictionary(d)) => Rc::new(Font::load(doc, d)),
            _ => Rc::new(Font::fallback()),
        };
        local.insert(name.to_vec(), font.clone());
        font
    }

    fn form(&mut self, name: &[u8], resources: Option<&'a Dictionary>, depth: usize) {
        let doc = self.doc;
        let Some(Object::Dictionary(xobjects)) = resources.and_then(|r| resolve(doc, r.get(b"XObject").ok())) else {
            return;
        };
        let Ok(Object::Reference(id)) = xobjects.get(name) else { return };
        if depth >= MAX_FORM_DEPTH || self.forms.contains(id) {
            return;
        }
        let Ok(Object::Stream(stream)) = doc.get_object(*id) else { return };
        if !matches!(stream.dict.get(b"Subtype"), Ok(Object::Name(n)) if n == b"Form") {
            return;
        }
        let Some(bytes) = crate::stream_bytes(stream) else { return };
        let own = match resolve(doc, stream.dict.get(b"Resources").ok()) {
            Some(Object::Dictionary(d)) => Some(d),
            _ => resources,
        };
        let saved = (self.ctm, self.tm, self.tlm, self.font.clone(), self.size);
        if let Some(Object::Array(m)) = resolve(doc, stream.dict.get(b"Matrix").ok()) {
            let v: Vec<f64> = m.iter().filter_map(number).collect();
            if let [a, b, c, d, e, f] = v[..] {
                self.ctm = mul(&[a, b, c, d, e, f], &self.ctm);
            }
        }
        self.forms.push(*id);
        self.run(&bytes, own, depth + 1);
        self.forms.pop();
        (self.ctm, self.tm, self.tlm, self.font, self.size) = saved;
    }

    fn next_line(&mut self, tx: f64, ty: f64) {
        self.tlm = mul(&[1.0, 0.0, 0.0, 1.0, tx, ty], &self.tlm);
        self.tm = self.tlm;
    }

    fn advance(&mut self, tx: f64) {
        self.tm[4] += tx * self.tm[0];
        self.tm[5] += tx * self.tm[1];
    }

    /// Where the next glyph starts on the page, and the size of an em there.
    fn position(&self) -> (f64, f64, f64) {
        let trm = mul(&self.tm, &self.ctm);
        let scale = (trm[2] * trm[2] + trm[3] * trm[3]).sqrt();
        let em = (self.size.abs() * scale).max(0.01);
        (trm[4], trm[5], em)
    }

    fn show(&mut self, bytes: &[u8]) {
        let (x, y, em) = self.position();
        if let Some((lx, ly)) = self.last
            && !self.out.is_empty()
            && !self.out.ends_with('\n')
        {
            if (y - ly).abs() > 0.5 * em {
                self.push("\n");
            } else if (x - lx > 0.2 * em || x < lx - 2.0 * em) && !self.out.ends_with(' ') {
                self.push(" ");
            }
        }
        let font = self.font.clone();
        let mut glyphs: Vec<(f64, bool)> = Vec::new();
        let mut text = String::new();
        font.decode(bytes, |t, w, space| {
            text.extend(
                t.chars()
                    .map(|c| if c == '\u{A0}' || c == '\t' { ' ' } else { c })
                    .filter(|c| !c.is_control() || *c == '\n'),
            );
            glyphs.push((w, space));
        });
        self.push(&text);
        for (w, space) in glyphs {
            let tx = (w / 1000.0 * self.size + self.tc + if space { self.tw } else { 0.0 }) * self.th;
            self.advance(tx);
        }
        let (x, y, _) = self.position();
        self.last = Some((x, y));
    }

    fn push(&mut self, s: &str) {
        if s.len() > self.budget.text {
            self.budget.exhausted = true;
            self.budget.text = 0;
            return;
        }
        self.budget.text -= s.len();
        self.out.push_str(s);
    }
}

fn matrix(n: &impl Fn(usize) -> Option<f64>) -> Option<Matrix> {
    Some([n(6)?, n(5)?, n(4)?, n(3)?, n(2)?, n(1)?])
}

enum Token<'b> {
    Num(f64),
    Str(Vec<u8>),
    Name(Vec<u8>),
    ArrStart,
    ArrEnd,
    DictStart,
    DictEnd,
    Op(&'b [u8]),
}

struct Lexer<'b> {
    b: &'b [u8],
    i: usize,
}

fn is_white(c: u8) -> bool {
    matches!(c, 0 | 9 | 10 | 12 | 13 | 32)
}

fn is_delim(c: u8) -> bool {
    matches!(c, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

impl<'b> Lexer<'b> {
    fn next(&mut self) -> Option<Token<'b>> {
        let b = self.b;
        loop {
            while self.i < b.len() && is_white(b[self.i]) {
                self.i += 1;
            }
            let c = *b.get(self.i)?;
            match c {
                b'%' => {
                    while self.i < b.len() && b[self.i] != b'\n' && b[self.i] != b'\r' {
                        self.i += 1;
                    }
                }
                b'(' => return Some(Token::Str(self.literal())),
                b'<' if b.get(self.i + 1) == Some(&b'<') => {
                    self.i += 2;
                    return Some(Token::DictStart);
                }
                b'>' if b.get(self.i + 1) == Some(&b'>') => {
                    self.i += 2;
                    return Some(Token::DictEnd);
                }
                b'<' => {
                    let start = self.i + 1;
                    let end = b[start..].iter().position(|&c| c == b'>').map_or(b.len(), |p| start + p);
                    self.i = (end + 1).min(b.len());
                    return Some(Token::Str(hex_bytes(&b[start..end])));
                }
                b'[' => {
                    self.i += 1;
                    return Some(Token::ArrStart);
                }
                b']' => {
                    self.i += 1;
                    return Some(Token::ArrEnd);
                }
                b'/' => {
                    self.i += 1;
                    let start = self.i;
                    while self.i < b.len() && !is_white(b[self.i]) && !is_delim(b[self.i]) {
                        self.i += 1;
                    }
                    return Some(Token::Name(unescape_name(&b[start..self.i])));
                }
                b')' | b'>' | b'{' | b'}' => self.i += 1,
                _ => {
                    let start = self.i;
                    while self.i < b.len() && !is_white(b[self.i]) && !is_delim(b[self.i]) {
                        self.i += 1;
                    }
                    let word = &b[start..self.i];
                    if matches!(word[0], b'0'..=b'9' | b'+' | b'-' | b'.') {
                        let n = std::str::from_utf8(word).ok().and_then(|s| s.parse::<f64>().ok());
                        return Some(Token::Num(n.unwrap_or(0.0)));
                    }
                    return Some(Token::Op(word));
                }
            }
        }
    }

    /// A literal string; the opening parenthesis is at `self.i`.
    fn literal(&mut self) -> Vec<u8> {
        let b = self.b;
        let mut out = Vec::new();
        let mut depth = 0usize;
        self.i += 1;
        while self.i < b.len() {
            let c = b[self.i];
            self.i += 1;
            match c {
                b'(' => {
                    depth += 1;
                    out.push(c);
                }
                b')' if depth == 0 => break,
                b')' => {
                    depth -= 1;
                    out.push(c);
                }
                b'\\' => {
                    let Some(&e) = b.get(self.i) else { break };
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'\r' => {
                            if b.get(self.i) == Some(&b'\n') {
                                self.i += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = u32::from(e - b'0');
                            for _ in 0..2 {
                                match b.get(self.i) {
                                    Some(&d @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(d - b'0');
                                        self.i += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(v as u8);
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(c),
            }
        }
        out
    }

    /// Skips an inline image: its parameters up to `ID`, then its data up to `EI`.
    fn skip_inline_image(&mut self) {
        let b = self.b;
        while let Some(t) = self.next() {
            if let Token::Op(b"ID") = t {
                break;
            }
        }
        self.i += 1;
        while self.i + 2 <= b.len() {
            if &b[self.i..self.i + 2] == b"EI"
                && (self.i == 0 || is_white(b[self.i - 1]))
                && b.get(self.i + 2).is_none_or(|&c| is_white(c))
            {
                self.i += 2;
                return;
            }
            self.i += 1;
        }
        self.i = b.len();
    }
}

fn unescape_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'#'
            && i + 3 <= raw.len()
            && let Some(v) = std::str::from_utf8(&raw[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}
