//! Reparsing after an edit: only the declaration the edit falls in, for the language server.
//!
//! A keystroke almost always stays inside one declaration. The file is cut into regions, one
//! per declaration: from the start of the declaration to the start of the next (the first
//! region starts at 0, the last ends at the end of the file), so every comment and blank line
//! belongs to exactly one region. When
//! - the file parsed without a diagnostic before the edit,
//! - the edit lies inside one region, and
//! - that region's new text, parsed alone, is exactly one declaration and no diagnostic,
//!
//! then parsing the whole new file gives the old declarations with this one replaced and the
//! spans after it moved by the edit's change in length. Why: every other region's text is
//! unchanged and parsed cleanly alone before; a declaration never ends in a token that could
//! continue into a declaration keyword, each region but the first starts with one, and a
//! region followed by another must end with a line break (so no token or comment runs across
//! the boundary): the LR parser finishes each declaration exactly at its region's end. The names the lexer
//! records for declarations (`Parsed::declared`) are one per signal, backend, prompt and
//! route of a clean file, in order, so they are spliced the same way.
//!
//! In every other case [`reparse`] returns `None` and the caller parses the whole file; it is
//! never a guess. `tests/incremental.rs` checks the result against a full parse after random
//! edits.

use super::ast::*;
use super::parser::{parse, Parsed};
use super::span::Span;

/// One replacement in the old text: bytes `start..end` become `text`.
pub struct TextEdit<'a> {
    pub start: usize,
    pub end: usize,
    pub text: &'a str,
}

/// Applies `edit` to a clean parse `old` of a text of `old_len` bytes (`new_text` is the text
/// after the edit).
/// Returns the new parse, or gives `old` back in `Err` when only a full parse can say.
#[allow(clippy::result_large_err)]
pub fn reparse(
    mut old: Parsed,
    old_len: usize,
    new_text: &str,
    edit: &TextEdit<'_>,
) -> Result<Parsed, Parsed> {
    let items = &old.file.items;
    if !old.diagnostics.is_empty()
        || items.is_empty()
        || edit.start > edit.end
        || edit.end > old_len
        || new_text.len() != old_len - (edit.end - edit.start) + edit.text.len()
    {
        return Err(old);
    }
    let start_of = |k: usize| -> usize {
        if k == 0 {
            0
        } else if k >= items.len() {
            old_len
        } else {
            items[k].span().start as usize
        }
    };
    // The region holding the edit: the last one starting at or before it.
    let k = items
        .partition_point(|i| (i.span().start as usize) <= edit.start)
        .saturating_sub(1);
    let (region_start, region_end) = (start_of(k), start_of(k + 1));
    if edit.start < region_start || edit.end > region_end {
        return Err(old);
    }
    let delta = edit.text.len() as i64 - (edit.end - edit.start) as i64;
    let new_end = (region_end as i64 + delta) as usize;
    let Some(chunk) = new_text.get(region_start..new_end) else {
        return Err(old);
    };
    // A region followed by another must end its last line: otherwise its last token or
    // comment could run into the next declaration's keyword (`small` + `route`, or a
    // comment swallowing the line).
    if k + 1 < items.len() && !chunk.ends_with('\n') {
        return Err(old);
    }
    let file = old.file.span.file;
    let mut fresh = parse(chunk, file);
    if !fresh.diagnostics.is_empty()
        || fresh.file.items.len() != 1
        || matches!(fresh.file.items[0], Item::Error(_))
    {
        return Err(old);
    }
    // Spans of the chunk are relative to its start.
    let offset = region_start as i64;
    let mut item = fresh.file.items.pop().expect("one item");
    item_spans(&mut item, &mut |s| shift(s, offset));
    for c in &mut fresh.comments {
        shift(&mut c.span, offset);
    }

    // The declarations after the edited one move by `delta`.
    for later in &mut old.file.items[k + 1..] {
        item_spans(later, &mut |s| shift(s, delta));
    }
    let declares = |i: &Item| {
        matches!(
            i,
            Item::Signal(_) | Item::Backend(_) | Item::Prompt(_) | Item::Route(_)
        )
    };
    let names_before = old.file.items[..k].iter().filter(|i| declares(i)).count();
    let old_names = usize::from(declares(&old.file.items[k]));
    if names_before + old_names > old.declared.len() {
        return Err(old);
    }
    old.declared
        .splice(names_before..names_before + old_names, fresh.declared);
    old.file.items[k] = item;

    let first = old
        .comments
        .partition_point(|c| (c.span.start as usize) < region_start);
    let last = old
        .comments
        .partition_point(|c| (c.span.start as usize) < region_end);
    for c in &mut old.comments[last..] {
        shift(&mut c.span, delta);
    }
    old.comments.splice(first..last, fresh.comments);
    old.file.span.end = new_text.len() as u32;
    Ok(old)
}

fn shift(span: &mut Span, by: i64) {
    span.start = (span.start as i64 + by) as u32;
    span.end = (span.end as i64 + by) as u32;
}

/// Calls `f` on every span of an item.
pub fn item_spans(item: &mut Item, f: &mut dyn FnMut(&mut Span)) {
    match item {
        Item::Include(i) => {
            f(&mut i.path.span);
            f(&mut i.span);
        }
        Item::Signal(s) => {
            f(&mut s.name.span);
            f(&mut s.ty.name.span);
            for l in s.ty.labels.iter_mut().flatten() {
                f(&mut l.span);
            }
            f(&mut s.ty.span);
            for p in &mut s.extractor.path {
                f(&mut p.span);
            }
            for a in s.extractor.args.iter_mut().flatten() {
                if let Some(n) = &mut a.name {
                    f(&mut n.span);
                }
                value_spans(&mut a.value, f);
                f(&mut a.span);
            }
            f(&mut s.extractor.span);
            f(&mut s.span);
        }
        Item::Backend(b) => {
            f(&mut b.name.span);
            fields_spans(&mut b.fields, f);
            f(&mut b.span);
        }
        Item::Prompt(p) => {
            f(&mut p.name.span);
            f(&mut p.text.span);
            f(&mut p.span);
        }
        Item::Route(r) => {
            f(&mut r.name.span);
            if let Some(p) = &mut r.priority {
                f(&mut p.span);
            }
            expr_spans(&mut r.condition, f);
            action_spans(&mut r.action, f);
            f(&mut r.span);
        }
        Item::Default(d) => {
            action_spans(&mut d.action, f);
            f(&mut d.span);
            f(&mut d.keyword);
        }
        Item::Test(t) => {
            f(&mut t.name.span);
            fields_spans(&mut t.given, f);
            f(&mut t.expect.span);
            fields_spans(&mut t.expect_fields, f);
            f(&mut t.span);
        }
        Item::Select(s) => {
            f(&mut s.by.span);
            f(&mut s.mode.span);
            f(&mut s.span);
        }
        Item::Error(s) => f(s),
    }
}

fn fields_spans(fields: &mut [Field], f: &mut dyn FnMut(&mut Span)) {
    for field in fields {
        f(&mut field.key.span);
        value_spans(&mut field.value, f);
        f(&mut field.span);
    }
}

fn action_spans(a: &mut Action, f: &mut dyn FnMut(&mut Span)) {
    match a {
        Action::Backend {
            backend,
            fields,
            span,
        } => {
            f(&mut backend.span);
            fields_spans(fields, f);
            f(span);
        }
        Action::Reject {
            status,
            message,
            span,
        } => {
            f(&mut status.span);
            f(&mut message.span);
            f(span);
        }
    }
}

// Conditions and values nest at most `parser::MAX_DEPTH` deep, so recursion is bounded.
fn expr_spans(e: &mut Expr, f: &mut dyn FnMut(&mut Span)) {
    match e {
        Expr::And(items, s) | Expr::Or(items, s) => {
            for i in items {
                expr_spans(i, f);
            }
            f(s);
        }
        Expr::Not(inner, s) | Expr::Paren(inner, s) => {
            expr_spans(inner, f);
            f(s);
        }
        Expr::Compare {
            lhs,
            op_span,
            rhs,
            span,
            ..
        } => {
            operand_spans(lhs, f);
            f(op_span);
            operand_spans(rhs, f);
            f(span);
        }
        Expr::In { lhs, set, span, .. } => {
            operand_spans(lhs, f);
            match set {
                InSet::List(items, s) => {
                    for o in items {
                        operand_spans(o, f);
                    }
                    f(s);
                }
                InSet::Operand(o) => operand_spans(o, f),
            }
            f(span);
        }
        Expr::Operand(o) => operand_spans(o, f),
        Expr::Error(s) => f(s),
    }
}

fn operand_spans(o: &mut Operand, f: &mut dyn FnMut(&mut Span)) {
    match o {
        Operand::Path(p) => {
            f(&mut p.base.span);
            if let Some(m) = &mut p.member {
                f(&mut m.span);
            }
            if let Some(l) = &mut p.index {
                f(&mut l.span);
            }
            f(&mut p.span);
        }
        Operand::Str(s) => f(&mut s.span),
        Operand::Int(i) => f(&mut i.span),
        Operand::Float(x) => f(&mut x.span),
        Operand::Bool(_, s) => f(s),
    }
}

fn value_spans(v: &mut Value, f: &mut dyn FnMut(&mut Span)) {
    match v {
        Value::Str(s) => f(&mut s.span),
        Value::Int(i) => f(&mut i.span),
        Value::Float(x) => f(&mut x.span),
        Value::Bool(_, s) | Value::Duration(_, s) | Value::Error(s) => f(s),
        Value::Name(n) => f(&mut n.span),
        Value::Map(fields, s) => {
            fields_spans(fields, f);
            f(s);
        }
        Value::List(items, s) => {
            for i in items {
                value_spans(i, f);
            }
            f(s);
        }
        Value::Scored(inner, x, s) => {
            value_spans(inner, f);
            f(&mut x.span);
            f(s);
        }
        Value::If {
            condition,
            then,
            otherwise,
            span,
        } => {
            expr_spans(condition, f);
            value_spans(then, f);
            value_spans(otherwise, f);
            f(span);
        }
    }
}
