//! One declaration to a [`Doc`]: the layout rules of the canonical form.
//!
//! Each node becomes text, breakable lines and groups (see [`super::doc`]); the comments
//! inside the declaration are taken at the places that can hold them (see
//! [`super::comments`]). The AST has no spans for punctuation, so the few positions the
//! comment placement needs (a closing brace, the `given` keyword) are found by skipping
//! whitespace and comments in the source from a known node.

use super::comments::Cursor;
use super::doc::{Doc, FillPart};
use crate::syntax::ast::*;
use crate::syntax::lexer::{escape, Comment};
use crate::syntax::Span;

/// Indentation of a block's contents.
pub const INDENT: usize = 2;
/// Indentation of the continuation lines of a long `and` / `or` chain.
pub const CONTINUATION: usize = 4;

/// Lays out one declaration with the comments inside its span. Returns the comments that
/// could not be kept in place (to print above the declaration, in order) and the document.
pub fn layout_item<'a>(
    item: &Item,
    comments: &'a [Comment],
    src: &'a str,
) -> (Vec<&'a Comment>, Doc) {
    let mut hoist_below = 0;
    loop {
        let mut layout = Layout {
            c: Cursor::new(src, comments, hoist_below),
        };
        let doc = layout.item(item);
        layout.c.finish();
        match layout.c.reorder_needed() {
            // Strictly increasing and bounded by the number of comments: this terminates.
            Some(n) if n > hoist_below => hoist_below = n,
            _ => return (layout.c.hoisted().to_vec(), doc),
        }
    }
}

/// A condition on one line, without comments: the YAML form writes conditions as strings.
pub fn condition_line(e: &Expr) -> String {
    let mut layout = Layout {
        c: Cursor::new("", &[], 0),
    };
    let doc = layout.condition(e);
    super::doc::print(&doc, ONE_LINE)
}

/// A value on one line, without comments.
pub fn value_line(v: &Value) -> String {
    let mut layout = Layout {
        c: Cursor::new("", &[], 0),
    };
    let doc = layout.value(v);
    super::doc::print(&doc, ONE_LINE)
}

/// A width no line reaches, so that groups never break.
const ONE_LINE: usize = usize::MAX / 4;

/// The delimiters of a comma-separated list.
#[derive(Clone, Copy)]
enum Delim {
    /// `{ a: 1, b: 2 }`: spaces inside when flat.
    Brace,
    /// `f("a", b: 1)`
    Paren,
    /// `[a, b]`
    Bracket,
}

struct Layout<'a> {
    c: Cursor<'a>,
}

impl Layout<'_> {
    fn item(&mut self, item: &Item) -> Doc {
        match item {
            Item::Include(i) => Doc::text(format!("include {}", escape(&i.path.value))),
            Item::Signal(s) => self.signal(s),
            Item::Backend(b) => {
                let close = last_byte(self.c.src(), b.span.end, b'}');
                let block = self.list(Delim::Brace, &b.fields, close, |f| f.span, Self::field);
                Doc::concat(vec![Doc::text(format!("backend {} ", b.name.name)), block])
            }
            Item::Prompt(p) => Doc::text(format!(
                "prompt {} = {}",
                p.name.name,
                escape(&p.text.value)
            )),
            Item::Route(r) => self.route(r),
            Item::Default(d) => {
                self.c.hoist_before(d.action.span().start as usize);
                Doc::concat(vec![Doc::text("default => "), self.action(&d.action)])
            }
            Item::Select(s) => Doc::text(format!("select {} {}", s.by.name, s.mode.name)),
            Item::Test(t) => self.test(t),
            Item::Error(span) => self.verbatim(*span),
        }
    }

    /// `signal NAME: TYPE = EXTRACTOR`; only the label list and the arguments can hold
    /// comments.
    fn signal(&mut self, s: &SignalDecl) -> Doc {
        let ty = self.type_expr(&s.ty);
        let extractor = self.extractor(&s.extractor);
        Doc::concat(vec![
            Doc::text(format!("signal {}: ", s.name.name)),
            ty,
            Doc::text(" = "),
            extractor,
        ])
    }

    /// `category(a, b, …)`: the labels fill the line and continue aligned after the `(`.
    fn type_expr(&mut self, t: &TypeExpr) -> Doc {
        let Some(labels) = &t.labels else {
            return Doc::text(t.name.name.as_str());
        };
        let close = last_byte(self.c.src(), t.span.end, b')');
        let Some(first) = labels.first() else {
            self.c.hoist_before(close);
            return Doc::text(format!("{}()", t.name.name));
        };
        // A comment right after `(` would push the first label to the next line; above the
        // declaration reads better.
        self.c.hoist_before(first.span.start as usize);
        let mut parts: Vec<FillPart> = Vec::with_capacity(labels.len());
        for (i, label) in labels.iter().enumerate() {
            let mut doc = Vec::new();
            let leading = self.c.take_before(label.span.start as usize);
            if let (false, Some(prev)) = (leading.is_empty(), parts.last_mut()) {
                prev.break_after = true;
            }
            for c in leading {
                doc.extend([Doc::Comment(c.text.clone()), Doc::HardLine]);
            }
            let last = i + 1 == labels.len();
            let comma = if last { "" } else { "," };
            doc.push(Doc::text(format!("{}{comma}", label_text(label))));
            let limit = labels
                .get(i + 1)
                .map_or(close, |next| next.span.start as usize);
            let trailing = self.c.take_trailing(label.span.end as usize, limit);
            let break_after = trailing.is_some();
            doc.extend(trailing.map(trailing_comment));
            parts.push(FillPart {
                doc: Doc::concat(doc),
                break_after,
            });
        }
        let ends_with_comment = parts.last().is_some_and(|p| p.break_after);
        let mut inner = vec![Doc::Fill(parts)];
        let dangling = self.c.take_before(close);
        for c in &dangling {
            inner.extend([Doc::HardLine, Doc::Comment(c.text.clone())]);
        }
        if ends_with_comment || !dangling.is_empty() {
            inner.push(Doc::HardLine);
        }
        Doc::concat(vec![
            Doc::text(format!("{}(", t.name.name)),
            Doc::align(Doc::concat(inner)),
            Doc::text(")"),
        ])
    }

    fn extractor(&mut self, e: &Extractor) -> Doc {
        let path: Vec<&str> = e.path.iter().map(|p| p.name.as_str()).collect();
        let path = Doc::text(path.join("."));
        let Some(args) = &e.args else {
            return path;
        };
        let close = last_byte(self.c.src(), e.span.end, b')');
        let args = self.list(
            Delim::Paren,
            args,
            close,
            |a| a.span,
            |this, arg| {
                let value = this.value(&arg.value);
                match &arg.name {
                    Some(name) => Doc::concat(vec![Doc::text(format!("{}: ", name.name)), value]),
                    None => value,
                }
            },
        );
        Doc::concat(vec![path, args])
    }

    /// `route NAME [priority N] when CONDITION`, then `=> ACTION` on its own line.
    fn route(&mut self, r: &RouteDecl) -> Doc {
        let mut head = format!("route {}", r.name.name);
        if let Some(p) = r.priority {
            head.push_str(&format!(" priority {}", p.value));
        }
        head.push_str(" when ");
        let condition = r.condition.span();
        self.c.hoist_before(condition.start as usize);
        // Whatever breaks inside the condition lines up with its `and`s and `or`s.
        let condition_doc = match &r.condition {
            Expr::And(items, _) => self.chain("and", items, 0),
            Expr::Or(items, _) => self.chain("or", items, 0),
            other => self.condition(other),
        };
        let mut doc = vec![Doc::text(head), Doc::nest(CONTINUATION, condition_doc)];
        self.c.hoist_before(condition.end as usize);
        let action_start = r.action.span().start as usize;
        doc.extend(
            self.c
                .take_trailing(condition.end as usize, action_start)
                .map(trailing_comment),
        );
        let mut arrow = Vec::new();
        for c in self.c.take_before(action_start) {
            arrow.extend([Doc::HardLine, Doc::Comment(c.text.clone())]);
        }
        arrow.extend([Doc::HardLine, Doc::text("=> "), self.action(&r.action)]);
        doc.push(Doc::nest(INDENT, Doc::concat(arrow)));
        Doc::concat(doc)
    }

    fn action(&mut self, a: &Action) -> Doc {
        match a {
            Action::Backend {
                backend,
                fields,
                span,
            } => {
                let src = self.c.src();
                let open = next_token(src, backend.span.end as usize);
                let close = last_byte(src, span.end, b'}');
                // Fields need braces; without fields, keep empty braces only where written (a
                // tree built from YAML has no source: it has braces exactly when it has fields).
                let braces =
                    !fields.is_empty() || (byte_at(src, open) == Some(b'{') && open < close);
                // Empty braces mean no parameters: dropped, unless they hold a comment.
                if !braces || (fields.is_empty() && !self.c.has_before(close)) {
                    return Doc::text(backend.name.as_str());
                }
                let block = self.list(Delim::Brace, fields, close, |f| f.span, Self::field);
                Doc::concat(vec![Doc::text(format!("{} ", backend.name)), block])
            }
            Action::Reject {
                status, message, ..
            } => Doc::text(format!(
                "reject {} {}",
                status.value,
                escape(&message.value)
            )),
        }
    }

    /// A test block is always multi-line: `given { … }` and `expect ROUTE { … }` each on a
    /// line of their own.
    fn test(&mut self, t: &TestDecl) -> Doc {
        let src = self.c.src();
        let test_close = last_byte(src, t.span.end, b'}');
        let open = next_token(src, t.name.span.end as usize);
        self.c.hoist_before(open);
        let given_keyword = next_token(src, open + 1);
        let mut body = Vec::new();
        for c in self.c.take_before(given_keyword) {
            body.extend([Doc::HardLine, Doc::Comment(c.text.clone())]);
        }
        let given_open = next_token(src, given_keyword + "given".len());
        self.c.hoist_before(given_open);
        let given_last = t
            .given
            .last()
            .map_or(given_open + 1, |f| f.span.end as usize);
        let expect_start = t.expect.span.start as usize;
        let given_close = closing_after(src, given_last, b'}')
            .filter(|&p| p < expect_start)
            .unwrap_or(given_last);
        body.extend([Doc::HardLine, Doc::text("given ")]);
        body.push(self.list(Delim::Brace, &t.given, given_close, |f| f.span, Self::field));
        body.extend(
            self.c
                .take_trailing(given_close + 1, expect_start)
                .map(trailing_comment),
        );
        for c in self.c.take_before(expect_start) {
            body.extend([Doc::HardLine, Doc::Comment(c.text.clone())]);
        }
        body.extend([
            Doc::HardLine,
            Doc::text(format!("expect {}", t.expect.name)),
        ]);
        let mut line_end = t.expect.span.end as usize;
        let expect_open = next_token(src, line_end);
        let written = byte_at(src, expect_open) == Some(b'{') && expect_open < test_close;
        // Fields always need braces (a tree built from YAML has no source to look at).
        if written || !t.expect_fields.is_empty() {
            let last = t
                .expect_fields
                .last()
                .map_or(expect_open + 1, |f| f.span.end as usize);
            let close = match written {
                true => closing_after(src, last, b'}')
                    .filter(|&p| p < test_close)
                    .unwrap_or(last),
                false => last,
            };
            if !t.expect_fields.is_empty() || self.c.has_before(close) {
                body.push(Doc::text(" "));
                body.push(self.list(
                    Delim::Brace,
                    &t.expect_fields,
                    close,
                    |f| f.span,
                    Self::field,
                ));
            }
            line_end = close + 1;
        }
        body.extend(
            self.c
                .take_trailing(line_end, test_close)
                .map(trailing_comment),
        );
        for c in self.c.take_before(test_close) {
            body.extend([Doc::HardLine, Doc::Comment(c.text.clone())]);
        }
        Doc::concat(vec![
            Doc::text(format!("test {} {{", escape(&t.name.value))),
            Doc::nest(INDENT, Doc::concat(body)),
            Doc::HardLine,
            Doc::text("}"),
        ])
    }

    fn field(&mut self, f: &Field) -> Doc {
        Doc::concat(vec![
            Doc::text(format!("{}: ", f.key.name)),
            self.value(&f.value),
        ])
    }

    /// A comma-separated list: flat if it fits and holds no comment, otherwise one element
    /// per line with a trailing comma. `close` is the offset of the closing delimiter.
    fn list<T>(
        &mut self,
        delim: Delim,
        elems: &[T],
        close: usize,
        span_of: impl Fn(&T) -> Span,
        mut elem: impl FnMut(&mut Self, &T) -> Doc,
    ) -> Doc {
        let (open, end, line) = match delim {
            Delim::Brace => ("{", "}", Doc::Line),
            Delim::Paren => ("(", ")", Doc::SoftLine),
            Delim::Bracket => ("[", "]", Doc::SoftLine),
        };
        let mut inner = Vec::new();
        for (i, e) in elems.iter().enumerate() {
            let span = span_of(e);
            for c in self.c.take_before(span.start as usize) {
                inner.extend([Doc::Comment(c.text.clone()), Doc::HardLine]);
            }
            inner.push(elem(self, e));
            self.c.hoist_before(span.end as usize);
            let last = i + 1 == elems.len();
            inner.push(if last {
                Doc::if_break(Doc::text(","))
            } else {
                Doc::text(",")
            });
            let limit = elems
                .get(i + 1)
                .map_or(close, |next| span_of(next).start as usize);
            inner.extend(
                self.c
                    .take_trailing(span.end as usize, limit)
                    .map(trailing_comment),
            );
            if !last {
                inner.push(Doc::Line);
            }
        }
        for c in self.c.take_before(close) {
            if !inner.is_empty() {
                inner.push(Doc::HardLine);
            }
            inner.push(Doc::Comment(c.text.clone()));
        }
        if inner.is_empty() {
            return Doc::text(format!("{open}{end}"));
        }
        Doc::group(Doc::concat(vec![
            Doc::text(open),
            Doc::nest(INDENT, Doc::concat(vec![line.clone(), Doc::concat(inner)])),
            line,
            Doc::text(end),
        ]))
    }

    fn condition(&mut self, e: &Expr) -> Doc {
        match e {
            Expr::And(items, _) => self.chain("and", items, CONTINUATION),
            Expr::Or(items, _) => self.chain("or", items, CONTINUATION),
            Expr::Not(inner, _) => Doc::concat(vec![Doc::text("not "), self.condition(inner)]),
            Expr::Paren(inner, span) => {
                let inner = self.condition(inner);
                self.c.hoist_before(span.end as usize);
                Doc::concat(vec![Doc::text("("), inner, Doc::text(")")])
            }
            Expr::Compare { lhs, op, rhs, .. } => {
                Doc::text(format!("{} {} {}", operand(lhs), op.as_str(), operand(rhs)))
            }
            Expr::In {
                lhs, set, negated, ..
            } => {
                let word = if *negated { "not in" } else { "in" };
                let lhs = Doc::text(format!("{} {word} ", operand(lhs)));
                let set = match set {
                    InSet::List(items, span) => {
                        let close = last_byte(self.c.src(), span.end, b']');
                        self.list(Delim::Bracket, items, close, Operand::span, |_, o| {
                            Doc::text(operand(o))
                        })
                    }
                    InSet::Operand(o) => Doc::text(operand(o)),
                };
                Doc::concat(vec![lhs, set])
            }
            Expr::Operand(o) => Doc::text(operand(o)),
            Expr::Error(span) => self.verbatim(*span),
        }
    }

    /// `a and b and c`: on one line if it fits, otherwise a break before every `and`, with
    /// the continuation lines indented by `continuation` more than the enclosing lines.
    /// Comments between operands stay there.
    fn chain(&mut self, word: &str, items: &[Expr], continuation: usize) -> Doc {
        let mut first = Vec::new();
        let mut rest = Vec::new();
        for (i, e) in items.iter().enumerate() {
            let span = e.span();
            let part = if i == 0 { &mut first } else { &mut rest };
            if i > 0 {
                part.push(Doc::Line);
                for c in self.c.take_before(span.start as usize) {
                    part.extend([Doc::Comment(c.text.clone()), Doc::HardLine]);
                }
                part.push(Doc::text(format!("{word} ")));
            }
            part.push(self.condition(e));
            self.c.hoist_before(span.end as usize);
            // The last operand's trailing comment belongs to whatever encloses the chain.
            if let Some(next) = items.get(i + 1) {
                let limit = next.span().start as usize;
                part.extend(
                    self.c
                        .take_trailing(span.end as usize, limit)
                        .map(trailing_comment),
                );
            }
        }
        Doc::group(Doc::concat(vec![
            Doc::concat(first),
            Doc::nest(continuation, Doc::concat(rest)),
        ]))
    }

    fn value(&mut self, v: &Value) -> Doc {
        match v {
            Value::Str(s) => Doc::text(escape(&s.value)),
            Value::Int(i) => Doc::text(i.value.to_string()),
            Value::Float(f) => Doc::text(float(f.value)),
            Value::Bool(b, _) => Doc::text(b.to_string()),
            Value::Duration(ms, _) => Doc::text(duration(*ms)),
            Value::Name(n) => Doc::text(n.name.as_str()),
            Value::Map(fields, span) => {
                let close = last_byte(self.c.src(), span.end, b'}');
                self.list(Delim::Brace, fields, close, |f| f.span, Self::field)
            }
            Value::List(items, span) => {
                let close = last_byte(self.c.src(), span.end, b']');
                self.list(Delim::Bracket, items, close, Value::span, Self::value)
            }
            Value::Scored(inner, confidence, _) => Doc::concat(vec![
                self.value(inner),
                Doc::text(format!(" @ {}", float(confidence.value))),
            ]),
            Value::If {
                condition,
                then,
                otherwise,
                ..
            } => {
                let condition = self.condition(condition);
                let then = self.value(then);
                let otherwise = self.value(otherwise);
                Doc::group(Doc::concat(vec![
                    Doc::text("if "),
                    condition,
                    Doc::nest(
                        INDENT,
                        Doc::concat(vec![
                            Doc::Line,
                            Doc::text("then "),
                            then,
                            Doc::Line,
                            Doc::text("else "),
                            otherwise,
                        ]),
                    ),
                ]))
            }
            Value::Error(span) => self.verbatim(*span),
        }
    }

    /// A part that did not parse, printed as written (with the comments inside it).
    fn verbatim(&mut self, span: Span) -> Doc {
        self.c.hoist_before(span.start as usize);
        self.c.skip_before(span.end as usize);
        let text = self.c.src().get(span.range()).unwrap_or_default();
        Doc::text(text.trim())
    }
}

fn trailing_comment(c: &Comment) -> Doc {
    Doc::Comment(format!(" {}", c.text))
}

fn operand(o: &Operand) -> String {
    match o {
        Operand::Path(p) => {
            let mut s = p.base.name.clone();
            if let Some(member) = &p.member {
                s.push('.');
                s.push_str(&member.name);
            }
            if let Some(index) = &p.index {
                s.push('[');
                s.push_str(&label_text(index));
                s.push(']');
            }
            s.to_string()
        }
        Operand::Str(s) => escape(&s.value),
        Operand::Int(i) => i.value.to_string(),
        Operand::Float(f) => float(f.value),
        Operand::Bool(b, _) => b.to_string(),
    }
}

fn label_text(l: &Label) -> String {
    if l.quoted {
        escape(&l.name)
    } else {
        l.name.to_string()
    }
}

/// The shortest text that reads back as the same `f64`, always with a `.` or an exponent
/// so that it stays a float: `1.0`, `0.25`, `1e-7`.
pub fn float(v: f64) -> String {
    format!("{v:?}")
}

/// The largest unit that divides the duration exactly: `250ms`, `30s`, `2m`; zero is `0s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0 => "0s".to_string(),
        _ if ms.is_multiple_of(60_000) => format!("{}m", ms / 60_000),
        _ if ms.is_multiple_of(1_000) => format!("{}s", ms / 1_000),
        _ => format!("{ms}ms"),
    }
}

fn byte_at(src: &str, i: usize) -> Option<u8> {
    src.as_bytes().get(i).copied()
}

/// The offset of the first byte at or after `from` that is neither whitespace nor part of a
/// comment (or the end of the text).
fn next_token(src: &str, from: usize) -> usize {
    const BOM: &[u8] = "\u{FEFF}".as_bytes();
    let bytes = src.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' | 0x0c => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            _ if bytes[i..].starts_with(BOM) => i += BOM.len(),
            _ => break,
        }
    }
    i.min(bytes.len())
}

/// The offset of the delimiter `close` that follows the last element of a list ending at
/// `from` (skipping a trailing comma), if it is there.
fn closing_after(src: &str, from: usize, close: u8) -> Option<usize> {
    let mut i = next_token(src, from);
    if byte_at(src, i) == Some(b',') {
        i = next_token(src, i + 1);
    }
    (byte_at(src, i) == Some(close)).then_some(i)
}

/// The offset of the delimiter `close` that ends a node whose span ends at `end`.
fn last_byte(src: &str, end: u32, close: u8) -> usize {
    let end = end as usize;
    match end.checked_sub(1) {
        Some(i) if byte_at(src, i) == Some(close) => i,
        _ => end,
    }
}
