//! The outline of a file (document symbols) and its folding ranges.

use super::Analysis;
use crate::syntax::ast::{self, Item};
use crate::syntax::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Signal,
    Label,
    Backend,
    Field,
    Prompt,
    Route,
    Default,
    Test,
    Include,
}

/// One entry of the outline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentSymbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The type of a signal, the priority of a route, …
    pub detail: Option<String>,
    /// The whole declaration.
    pub span: Span,
    /// The part to select (the name).
    pub name_span: Span,
    pub children: Vec<DocumentSymbol>,
}

/// A foldable region: from `start` to `end`, byte offsets whose lines the editor folds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    pub start: u32,
    pub end: u32,
    pub comment: bool,
}

fn leaf(name: &str, kind: SymbolKind, span: Span, name_span: Span) -> DocumentSymbol {
    DocumentSymbol {
        name: name.to_string(),
        kind,
        detail: None,
        span,
        name_span,
        children: Vec::new(),
    }
}

fn fields(list: &[ast::Field]) -> Vec<DocumentSymbol> {
    list.iter()
        .map(|f| leaf(&f.key.name, SymbolKind::Field, f.span, f.key.span))
        .collect()
}

pub fn symbols(analysis: &Analysis, file: FileId) -> Vec<DocumentSymbol> {
    analysis
        .items(file)
        .iter()
        .filter_map(|item| {
            Some(match item {
                Item::Signal(s) => DocumentSymbol {
                    detail: Some(s.ty.name.name.to_string()),
                    children: s
                        .ty
                        .labels
                        .iter()
                        .flatten()
                        .map(|l| leaf(&l.name, SymbolKind::Label, l.span, l.span))
                        .collect(),
                    ..leaf(&s.name.name, SymbolKind::Signal, s.span, s.name.span)
                },
                Item::Backend(b) => DocumentSymbol {
                    children: fields(&b.fields),
                    ..leaf(&b.name.name, SymbolKind::Backend, b.span, b.name.span)
                },
                Item::Prompt(p) => leaf(&p.name.name, SymbolKind::Prompt, p.span, p.name.span),
                Item::Route(r) => DocumentSymbol {
                    detail: r.priority.map(|p| format!("priority {}", p.value)),
                    ..leaf(&r.name.name, SymbolKind::Route, r.span, r.name.span)
                },
                Item::Default(d) => leaf("default", SymbolKind::Default, d.span, d.keyword),
                Item::Test(t) => DocumentSymbol {
                    detail: Some(format!("expect {}", t.expect.name)),
                    ..leaf(&t.name.value, SymbolKind::Test, t.span, t.name.span)
                },
                Item::Include(i) => leaf(&i.path.value, SymbolKind::Include, i.span, i.path.span),
                Item::Select(_) | Item::Error(_) => return None,
            })
        })
        .collect()
}

/// Declarations over several lines, and runs of two or more whole-line comments.
pub fn folding(analysis: &Analysis, file: FileId) -> Vec<Fold> {
    let text = analysis.text(file);
    let line_starts: Vec<u32> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i as u32 + 1))
        .collect();
    let line_of = |offset: u32| line_starts.partition_point(|&s| s <= offset) - 1;
    let mut folds = Vec::new();
    for item in analysis.items(file) {
        let span = item.span();
        if text.get(span.range()).is_none_or(|t| !t.contains('\n')) {
            continue;
        }
        let mut end = span.end;
        // Keep a closing bracket on its own line visible, as editors do for code blocks.
        let body = &text[span.range()];
        let last_line_start = body.rfind('\n').map_or(0, |i| i + 1);
        let last_line = body[last_line_start..].trim();
        if matches!(last_line, "}" | ")" | "]") {
            end = span.start + last_line_start as u32 - 1;
        }
        if line_of(end) > line_of(span.start) {
            folds.push(Fold {
                start: span.start,
                end,
                comment: false,
            });
        }
    }
    let comments = analysis
        .program()
        .files
        .iter()
        .find(|f| f.id == file)
        .map_or(&[][..], |f| f.comments.as_slice());
    let whole_line = |c: &&crate::syntax::lexer::Comment| {
        let line_start = text[..c.span.start as usize]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        text[line_start..c.span.start as usize].trim().is_empty()
    };
    let mut run: Option<(u32, u32, usize)> = None;
    for c in comments.iter().filter(whole_line) {
        let line = line_of(c.span.start);
        run = match run {
            Some((start, _, last)) if line == last + 1 => Some((start, c.span.end, line)),
            previous => {
                push_comment_run(&mut folds, previous, &line_of);
                Some((c.span.start, c.span.end, line))
            }
        };
    }
    push_comment_run(&mut folds, run, &line_of);
    folds.sort_by_key(|f| (f.start, f.end));
    folds
}

fn push_comment_run(
    folds: &mut Vec<Fold>,
    run: Option<(u32, u32, usize)>,
    line_of: &dyn Fn(u32) -> usize,
) {
    if let Some((start, end, _)) = run {
        if line_of(end) > line_of(start) {
            folds.push(Fold {
                start,
                end,
                comment: true,
            });
        }
    }
}
