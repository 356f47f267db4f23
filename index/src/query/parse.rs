//! The query language: words (AND by default), `"phrases"`, `OR`, `AND`, `NOT` (also
//! `ODER`, `UND`, `NICHT`), `+word`, `-word` (also `-(a OR b)`, `-"a b"`), parentheses,
//! trailing wildcards `Wind*`, and
//! field filters `typ:Bescheid`, `absender:"Landkreis Heideland"`, `empfänger:Bundeswehr`, `az:61.2-08*`,
//! `datum:2026-01-01..2026-03-31`, `status:zda`, `medium:pdf`, `akte:<id or Aktenzeichen>`,
//! `titel:Bescheid`. `OR` binds tighter than the implicit `AND`: `a b OR c` = `a (b OR c)`.
//! A word with an unknown `name:` prefix is searched as text: `Fundort:Eschenbusch`, as
//! pasted from a letter, as the two words `Fundort Eschenbusch`.

use crate::error::QueryError;
use crate::limits::{MAX_QUERY_BYTES, MAX_QUERY_DEPTH, MAX_QUERY_TERMS};

/// A field a query may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldName {
    /// `typ:` document type.
    Typ,
    /// `absender:` sender (words).
    Absender,
    /// `empfänger:` recipient (words).
    Empfaenger,
    /// `az:` Aktenzeichen (exact or prefix).
    Az,
    /// `datum:` document date or range.
    Datum,
    /// `status:` offen / zda.
    Status,
    /// `medium:` media type.
    Medium,
    /// `akte:` Akte id or Aktenzeichen.
    Akte,
    /// `titel:` words in title or file name.
    Titel,
}

impl FieldName {
    fn parse(name: &str) -> Option<FieldName> {
        Some(match name.to_lowercase().as_str() {
            "typ" | "type" | "dokumenttyp" | "art" => FieldName::Typ,
            "absender" | "sender" | "von" | "from" => FieldName::Absender,
            "empfänger" | "empfaenger" | "empfanger" | "recipient" | "an" | "to" => FieldName::Empfaenger,
            "az" | "az." | "aktenzeichen" => FieldName::Az,
            "datum" | "date" => FieldName::Datum,
            "status" => FieldName::Status,
            "medium" | "media" | "mime" | "format" => FieldName::Medium,
            "akte" => FieldName::Akte,
            "titel" | "title" | "betreff" => FieldName::Titel,
            _ => return None,
        })
    }
}

/// A date range whose `..` stands apart from its dates (`2026-03-01 .. 2026-03-31`,
/// `2026-03-01.. 2026-03-31`, `2026-03-01 ..2026-03-31`), or written as a clerk writes it
/// (`01.03.2026 bis 31.03.2026`, `01.03.2026 - 31.03.2026`), joined; and the input after it.
fn spaced_range<'a>(value: &str, rest: &'a str) -> (String, &'a str) {
    let mut range = value.to_string();
    let mut after = rest;
    // `bis`, `-` or `–` between two dates; only when a date follows, else `bis` is a word.
    if !range.contains("..") {
        let r = after.trim_start();
        let word_end = r.find(char::is_whitespace).unwrap_or(r.len());
        if matches!(r[..word_end].to_lowercase().as_str(), "bis" | "-" | "–") {
            let next = r[word_end..].trim_start();
            let end = next.find(ends_word).unwrap_or(next.len());
            let joined = format!("{range}..{}", &next[..end]);
            // A range that ends before it begins is still a range (and refused as one,
            // as `..` is), not a date followed by the words `bis` and a date.
            let range = super::build::parse_date_range(&joined);
            if end > 0 && matches!(range, Ok(_) | Err(QueryError::ReversedDates(_))) {
                return (joined, &next[end..]);
            }
        }
    }
    if !range.contains("..")
        && let Some(r) = after.trim_start().strip_prefix("..")
    {
        range.push_str("..");
        after = r;
    }
    if range.ends_with("..") && after.trim_start().starts_with(|c: char| c.is_ascii_digit()) {
        let r = after.trim_start();
        let end = r.find(ends_word).unwrap_or(r.len());
        // Only a date ends the range: `datum:2026.. 5 Windräder` keeps its open end.
        if super::build::parse_date_range(&format!("{range}{}", &r[..end])).is_ok() {
            range.push_str(&r[..end]);
            after = &r[end..];
        }
    }
    (range, after)
}

/// The parsed query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    /// All must match (negations excluded).
    And(Vec<Node>),
    /// One must match.
    Or(Vec<Node>),
    /// Must not match (only meaningful inside `And`).
    Not(Box<Node>),
    /// A word as typed (may contain `-`, `.`, `/`, a trailing `*`).
    Word(String),
    /// A quoted phrase.
    Phrase(String),
    /// A field filter; `quoted` when the value was in quotes.
    Field {
        /// Which field.
        name: FieldName,
        /// The value as typed.
        value: String,
        /// Whether it was quoted.
        quoted: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Open,
    Close,
    And,
    Or,
    Not,
    Plus,
    Minus,
    Word(String),
    Phrase(String),
    Field(FieldName, String, bool),
}

/// Parses a query string. An empty query (only spaces) gives `Ok(None)`.
pub fn parse(input: &str) -> Result<Option<Node>, QueryError> {
    if input.len() > MAX_QUERY_BYTES {
        return Err(QueryError::TooLong { len: input.len(), max: MAX_QUERY_BYTES });
    }
    let toks = lex(input)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser { toks, pos: 0 };
    let node = p.sequence(0)?;
    if p.pos < p.toks.len() {
        return Err(QueryError::UnbalancedParentheses);
    }
    Ok(node)
}

fn lex(input: &str) -> Result<Vec<Tok>, QueryError> {
    let mut toks = Vec::new();
    let mut terms = 0usize;
    let mut count = |n: usize| {
        terms += n;
        if terms > MAX_QUERY_TERMS { Err(QueryError::TooManyTerms { max: MAX_QUERY_TERMS }) } else { Ok(()) }
    };
    let mut rest = input;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else { break };
        match c {
            '(' => {
                toks.push(Tok::Open);
                rest = &rest[1..];
            }
            ')' => {
                toks.push(Tok::Close);
                rest = &rest[1..];
            }
            '"' | '„' | '“' | '”' => {
                let (phrase, after) = quoted(&rest[c.len_utf8()..])?;
                count(phrase.split_whitespace().count().max(1))?;
                toks.push(Tok::Phrase(phrase.to_string()));
                rest = after;
            }
            _ => {
                let end = rest.find(ends_word).unwrap_or(rest.len());
                let mut word = &rest[..end];
                rest = &rest[end..];
                // `-(a OR b)`, `-"a b"`: the sign belongs to what follows it.
                if matches!(word, "-" | "+") && (rest.starts_with('(') || starts_quote(rest)) {
                    toks.push(if word == "+" { Tok::Plus } else { Tok::Minus });
                    continue;
                }
                if word.len() > 1 && (word.starts_with('+') || word.starts_with('-')) {
                    toks.push(if word.starts_with('+') { Tok::Plus } else { Tok::Minus });
                    word = &word[1..];
                }
                match word {
                    "AND" | "UND" | "&&" => toks.push(Tok::And),
                    "OR" | "ODER" | "||" => toks.push(Tok::Or),
                    "NOT" | "NICHT" => toks.push(Tok::Not),
                    _ => {
                        let field = word.split_once(':').and_then(|(n, v)| Some((FieldName::parse(n)?, n, v)));
                        match field {
                            Some((name, raw, mut value)) => {
                                // `Betreff: Einwendung`, `Von: Wolters`, `Datum: 02.04.2026`: a
                                // letter's header line as pasted; the next word or phrase is the
                                // value (not an operator, a sign, a bracket or another field).
                                if value.is_empty() && rest.starts_with(char::is_whitespace) {
                                    let next = rest.trim_start();
                                    let end = next.find(ends_word).unwrap_or(next.len());
                                    let candidate = &next[..end];
                                    if starts_quote(next) {
                                        rest = next;
                                    } else if !candidate.is_empty()
                                        && !candidate.starts_with(['-', '+'])
                                        && !is_operator(candidate)
                                        && candidate.split_once(':').is_none_or(|(n, _)| FieldName::parse(n).is_none())
                                    {
                                        value = candidate;
                                        rest = &next[end..];
                                    }
                                }
                                let (value, quoted_value) = if value.is_empty() && starts_quote(rest) {
                                    let q = rest.chars().next().map_or(1, char::len_utf8);
                                    let (v, after) = quoted(&rest[q..])?;
                                    rest = after;
                                    (v, true)
                                } else {
                                    (value, false)
                                };
                                // `datum:2026-03-01 .. 2026-03-31`: a range typed with spaces.
                                let joined;
                                let value = if name == FieldName::Datum && !quoted_value {
                                    let (range, after) = spaced_range(value, rest);
                                    rest = after;
                                    joined = range;
                                    joined.as_str()
                                } else {
                                    value
                                };
                                if value.trim().is_empty() && rest.trim_start().starts_with('(') {
                                    return Err(QueryError::FieldWithGroup(raw.to_string()));
                                }
                                if value.trim().is_empty() {
                                    return Err(QueryError::EmptyFieldValue(raw.to_string()));
                                }
                                count(1)?;
                                toks.push(Tok::Field(name, value.to_string(), quoted_value));
                            }
                            None => match word.split_once(':') {
                                // `Fundort:Eschenbusch`: a label and its value, as letters
                                // write them; not a time (`12:30`) or a URL.
                                Some((label, value))
                                    if label.chars().count() >= 2
                                        && label.chars().all(char::is_alphabetic)
                                        && value.chars().next().is_some_and(char::is_alphanumeric) =>
                                {
                                    // As one group, so that `-Fundort:Eschenbusch` and
                                    // `a OR Fundort:Eschenbusch` take both words.
                                    count(2)?;
                                    toks.push(Tok::Open);
                                    toks.push(Tok::Word(label.to_string()));
                                    toks.push(Tok::Word(value.to_string()));
                                    toks.push(Tok::Close);
                                }
                                _ => {
                                    count(1)?;
                                    toks.push(Tok::Word(word.to_string()));
                                }
                            },
                        }
                    }
                }
            }
        }
    }
    Ok(toks)
}

/// Whether `c` ends a word: white space, a bracket or a quotation mark.
fn ends_word(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | '„' | '“' | '”')
}

/// Whether `word` is one of the operators `AND`, `OR`, `NOT` (or `UND`, `ODER`, `NICHT`,
/// `&&`, `||`).
fn is_operator(word: &str) -> bool {
    matches!(word, "AND" | "UND" | "&&" | "OR" | "ODER" | "||" | "NOT" | "NICHT")
}

fn starts_quote(s: &str) -> bool {
    s.starts_with(['"', '„', '“', '”'])
}

/// The text up to the closing quote, and what follows it.
fn quoted(s: &str) -> Result<(&str, &str), QueryError> {
    let end = s.find(['"', '“', '”']).ok_or(QueryError::UnclosedQuote)?;
    let close = s[end..].chars().next().map_or(1, char::len_utf8);
    Ok((&s[..end], &s[end + close..]))
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    /// Items joined by implicit or explicit AND, up to `)` or the end.
    fn sequence(&mut self, depth: usize) -> Result<Option<Node>, QueryError> {
        if depth > MAX_QUERY_DEPTH {
            return Err(QueryError::TooDeep { max: MAX_QUERY_DEPTH });
        }
        let mut items = Vec::new();
        let mut after_and = false;
        while let Some(t) = self.peek() {
            match t {
                Tok::Close => break,
                Tok::And => {
                    if items.is_empty() || after_and {
                        return Err(QueryError::DanglingOperator("AND"));
                    }
                    self.pos += 1;
                    after_and = true;
                    continue;
                }
                Tok::Or => return Err(QueryError::DanglingOperator("OR")),
                _ => {}
            }
            items.extend(self.disjunction(depth)?);
            after_and = false;
        }
        if after_and {
            return Err(QueryError::DanglingOperator("AND"));
        }
        Ok(match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(Node::And(items)),
        })
    }

    fn disjunction(&mut self, depth: usize) -> Result<Option<Node>, QueryError> {
        let mut alternatives: Vec<Node> = self.unary(depth)?.into_iter().collect();
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            match self.peek() {
                None | Some(Tok::Close | Tok::Or | Tok::And) => return Err(QueryError::DanglingOperator("OR")),
                _ => {}
            }
            if alternatives.is_empty() {
                return Err(QueryError::DanglingOperator("OR"));
            }
            alternatives.extend(self.unary(depth)?);
        }
        Ok(match alternatives.len() {
            0 => None,
            1 => alternatives.pop(),
            _ => Some(Node::Or(alternatives)),
        })
    }

    /// Prefix operators, then a primary. A run of them is read in a loop and folded:
    /// `+` changes nothing and two negations cancel, so the tree holds at most one `Not`
    /// here. (Read recursively and kept, 2,000 `NOT`s in an 8 KiB query nested a query
    /// 2,000 deep, and evaluating it overflowed the stack and aborted the process.)
    fn unary(&mut self, depth: usize) -> Result<Option<Node>, QueryError> {
        let mut negated = false;
        loop {
            let op = match self.peek() {
                Some(Tok::Not) => "NOT",
                Some(Tok::Minus) => "-",
                Some(Tok::Plus) => "+",
                _ => break,
            };
            self.pos += 1;
            // `NOT)`, `-OR`, `+AND`, a trailing `-`: an operator needs a term after it
            // (`primary` below may assume that every operator was taken here).
            if matches!(self.peek(), None | Some(Tok::Close | Tok::Or | Tok::And)) {
                return Err(QueryError::DanglingOperator(op));
            }
            negated ^= op != "+";
        }
        let node = self.primary(depth)?;
        Ok(if negated { node.map(|n| Node::Not(Box::new(n))) } else { node })
    }

    fn primary(&mut self, depth: usize) -> Result<Option<Node>, QueryError> {
        let Some(t) = self.peek().cloned() else { return Ok(None) };
        self.pos += 1;
        Ok(match t {
            Tok::Open => {
                let inner = self.sequence(depth + 1)?;
                if self.peek() != Some(&Tok::Close) {
                    return Err(QueryError::UnbalancedParentheses);
                }
                self.pos += 1;
                inner
            }
            Tok::Close => return Err(QueryError::UnbalancedParentheses),
            Tok::Word(w) => Some(Node::Word(w)),
            Tok::Phrase(p) => Some(Node::Phrase(p)),
            Tok::Field(name, value, quoted) => Some(Node::Field { name, value, quoted }),
            Tok::And | Tok::Or | Tok::Not | Tok::Plus | Tok::Minus => unreachable!("handled by the callers"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Node {
        Node::Word(s.into())
    }

    #[test]
    fn a_date_range_may_be_typed_with_spaces() {
        let datum = |v: &str| Node::Field { name: FieldName::Datum, value: v.into(), quoted: false };
        for typed in
            ["datum:2026-03-01 .. 2026-03-31", "datum:2026-03-01.. 2026-03-31", "datum:2026-03-01 ..2026-03-31"]
        {
            assert_eq!(parse(typed).unwrap(), Some(datum("2026-03-01..2026-03-31")), "{typed}");
        }
        // As a clerk writes a range.
        for typed in ["datum:01.03.2026 bis 31.03.2026", "datum:01.03.2026 - 31.03.2026", "Datum: 1.3.26 BIS 31.3.26"] {
            let Some(Node::Field { name: FieldName::Datum, value, .. }) = parse(typed).unwrap() else {
                panic!("{typed}: not one date field")
            };
            assert!(value.contains(".."), "{typed}: {value}");
        }
        let Some(Node::Field { value, .. }) = parse("datum:31.03.2026 bis 01.03.2026").unwrap() else {
            panic!("a reversed range is one date field")
        };
        assert!(matches!(super::super::build::parse_date_range(&value), Err(QueryError::ReversedDates(_))));
        assert_eq!(
            parse("datum:2026 bis Windpark").unwrap(),
            Some(Node::And(vec![datum("2026"), w("bis"), w("Windpark")])),
            "bis before a word that is no date stays a word"
        );
        assert_eq!(
            parse("datum:2026-03-01 .. Windpark").unwrap(),
            Some(Node::And(vec![datum("2026-03-01.."), w("Windpark")])),
            "an open end stays open"
        );
        assert_eq!(
            parse("datum:2026.. 5 Windräder").unwrap(),
            Some(Node::And(vec![datum("2026.."), w("5"), w("Windräder")])),
            "a number that is no date stays a word"
        );
        assert_eq!(
            parse("datum:2026 Windpark").unwrap(),
            Some(Node::And(vec![datum("2026"), w("Windpark")])),
            "a date alone takes nothing that follows"
        );
    }

    #[test]
    fn parses_words_phrases_operators_and_fields() {
        assert_eq!(parse("  ").unwrap(), None);
        assert_eq!(parse("Windkraft").unwrap(), Some(w("Windkraft")));
        assert_eq!(parse("a b OR c").unwrap(), Some(Node::And(vec![w("a"), Node::Or(vec![w("b"), w("c")])])));
        assert_eq!(parse("a AND -b").unwrap(), Some(Node::And(vec![w("a"), Node::Not(Box::new(w("b")))])));
        assert_eq!(
            parse("(a ODER b) NICHT c").unwrap(),
            Some(Node::And(vec![Node::Or(vec![w("a"), w("b")]), Node::Not(Box::new(w("c")))]))
        );
        assert_eq!(
            parse(r#"absender:"Landkreis Heideland" typ:Bescheid"#).unwrap(),
            Some(Node::And(vec![
                Node::Field { name: FieldName::Absender, value: "Landkreis Heideland".into(), quoted: true },
                Node::Field { name: FieldName::Typ, value: "Bescheid".into(), quoted: false },
            ]))
        );
        assert_eq!(
            parse("„Träger öffentlicher Belange“").unwrap(),
            Some(Node::Phrase("Träger öffentlicher Belange".into()))
        );
        assert_eq!(
            parse("Betreff:Lärm").unwrap(),
            Some(Node::Field { name: FieldName::Titel, value: "Lärm".into(), quoted: false })
        );
        assert_eq!(
            parse("Uhrzeit:12").unwrap(),
            Some(Node::And(vec![w("Uhrzeit"), w("12")])),
            "unknown fields are text"
        );
        assert_eq!(parse("12:30").unwrap(), Some(w("12:30")), "a time stays one word");
        assert_eq!(
            parse("Fundort:Eschenbusch Rotmilan").unwrap(),
            Some(Node::And(vec![Node::And(vec![w("Fundort"), w("Eschenbusch")]), w("Rotmilan")]))
        );
        // The group keeps a sign and an OR to both words.
        assert_eq!(
            parse("Rotmilan -Fundort:Eschenbusch").unwrap(),
            Some(Node::And(vec![w("Rotmilan"), Node::Not(Box::new(Node::And(vec![w("Fundort"), w("Eschenbusch")])))]))
        );
        assert_eq!(parse("Umwelt-Rechtsbehelfsgesetz").unwrap(), Some(w("Umwelt-Rechtsbehelfsgesetz")));
        // A sign right before a parenthesis or a quote belongs to it.
        let not = |n: Node| Node::Not(Box::new(n));
        assert_eq!(
            parse("Windpark -(Rotmilan OR Schwarzstorch)").unwrap(),
            Some(Node::And(vec![w("Windpark"), not(Node::Or(vec![w("Rotmilan"), w("Schwarzstorch")]))]))
        );
        assert_eq!(
            parse("Windpark -\"Hohe Heide\"").unwrap(),
            Some(Node::And(vec![w("Windpark"), not(Node::Phrase("Hohe Heide".into()))]))
        );
        assert_eq!(parse("+(a) -„b c“").unwrap(), Some(Node::And(vec![w("a"), not(Node::Phrase("b c".into()))])));
        assert_eq!(parse("a - b").unwrap(), Some(Node::And(vec![w("a"), w("-"), w("b")])), "a lone dash is text");
    }

    #[test]
    fn refuses_malformed_queries_with_clear_errors() {
        assert_eq!(parse("\"offen"), Err(QueryError::UnclosedQuote));
        assert_eq!(parse("(a b"), Err(QueryError::UnbalancedParentheses));
        assert_eq!(parse("a b)"), Err(QueryError::UnbalancedParentheses));
        assert_eq!(parse("a OR"), Err(QueryError::DanglingOperator("OR")));
        assert_eq!(parse("OR a"), Err(QueryError::DanglingOperator("OR")));
        assert_eq!(parse("AND a"), Err(QueryError::DanglingOperator("AND")));
        assert_eq!(parse("a NOT"), Err(QueryError::DanglingOperator("NOT")));
        assert_eq!(parse("a +OR b"), Err(QueryError::DanglingOperator("+")));
        // Runs of prefix operators fold: `+` changes nothing, two negations cancel.
        assert_eq!(parse("NOT NOT a"), parse("a"));
        assert_eq!(parse("NOT -a"), parse("a"));
        assert_eq!(parse("+NOT a"), parse("NOT a"));
        assert_eq!(parse("NICHT NICHT NICHT a"), parse("NOT a"));
        assert_eq!(parse("NOT NOT"), Err(QueryError::DanglingOperator("NOT")));
        assert_eq!(parse("+AND a"), Err(QueryError::DanglingOperator("+")));
        assert_eq!(QueryError::DanglingOperator("NOT").to_string(), "NOT needs a term after it");
        assert_eq!(QueryError::DanglingOperator("OR").to_string(), "OR needs a term on each side");
        // A field with a space before its value, as a letter's header line is pasted.
        let field = |name, value: &str, quoted| Node::Field { name, value: value.into(), quoted };
        assert_eq!(parse("typ: Bescheid"), Ok(Some(field(FieldName::Typ, "Bescheid", false))));
        assert_eq!(
            parse("Betreff: Einwendung Windpark"),
            Ok(Some(Node::And(vec![field(FieldName::Titel, "Einwendung", false), w("Windpark")])))
        );
        assert_eq!(parse("Von: \"Sabine Wolters\""), Ok(Some(field(FieldName::Absender, "Sabine Wolters", true))));
        assert_eq!(parse("Az.: 61.2-0815/2026"), Ok(Some(field(FieldName::Az, "61.2-0815/2026", false))));
        assert_eq!(parse("typ: OR a"), Err(QueryError::EmptyFieldValue("typ".into())));
        assert_eq!(parse("typ: von:x"), Err(QueryError::EmptyFieldValue("typ".into())));
        assert_eq!(parse("Von: -Müller"), Err(QueryError::EmptyFieldValue("Von".into())), "a sign is no value");
        assert_eq!(parse("typ:"), Err(QueryError::EmptyFieldValue("typ".into())));
        assert_eq!(parse("typ: (a OR b)"), Err(QueryError::FieldWithGroup("typ".into())));
        assert_eq!(parse("titel:(Einwendung OR Vermerk)"), Err(QueryError::FieldWithGroup("titel".into())));
        let deep = format!("{}a{}", "(".repeat(20), ")".repeat(20));
        assert_eq!(parse(&deep), Err(QueryError::TooDeep { max: MAX_QUERY_DEPTH }));
        let many: Vec<String> = (0..1000).map(|i| format!("w{i}")).collect();
        assert_eq!(parse(&many.join(" ")), Err(QueryError::TooManyTerms { max: MAX_QUERY_TERMS }));
        assert!(matches!(parse(&"a".repeat(10_000)), Err(QueryError::TooLong { .. })));
    }
}
