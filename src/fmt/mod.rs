//! The canonical formatter: a parsed file back to text, in the one layout `routerc fmt`
//! prints (no options, like `gofmt` and `opa fmt`).
//!
//! [`format_file`] lays out an AST with its comments; [`format_source`] parses first and
//! refuses a file with syntax errors, then checks that its output parses back to the same
//! tree with the same comments, so a formatter bug can never corrupt a policy.
//!
//! Inside: [`decl`] turns each declaration into a [`doc::Doc`] (the layout rules),
//! [`comments`] decides where each comment goes, [`doc`] fits documents into the width. This
//! module places the declarations, the comments between them and the blank lines. The
//! formatter does not check names or types: that is the checker's job.

mod comments;
mod decl;
mod doc;

use std::fmt;

use crate::diagnostic::{Diagnostic, Severity};
use crate::syntax::ast::{self, Item};
use crate::syntax::lexer::Comment;
use crate::syntax::{parse, FileId};

pub use decl::{condition_line, duration, float, value_line};

/// The widest line the formatter aims for (strings, names and comments may exceed it).
pub const WIDTH: usize = 100;

/// Why a file was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The file has syntax errors; a file that does not parse is never reformatted.
    Syntax(Vec<Diagnostic>),
    /// The formatted text would not mean the same as the input (a formatter bug); the
    /// message says what differed.
    Unstable(String),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Syntax(d) if d.len() == 1 => {
                write!(f, "cannot format a file with a syntax error")
            }
            FormatError::Syntax(d) => {
                write!(f, "cannot format a file with {} syntax errors", d.len())
            }
            FormatError::Unstable(what) => {
                write!(f, "formatting would change the file's meaning: {what}")
            }
        }
    }
}

impl std::error::Error for FormatError {}

/// Formats a whole file's text. Fails if it has syntax errors.
pub fn format_source(src: &str) -> Result<String, FormatError> {
    let parsed = parse(src, FileId(0));
    let errors: Vec<Diagnostic> = parsed
        .diagnostics
        .into_iter()
        .filter(|d| d.severity() == Severity::Error)
        .collect();
    if !errors.is_empty() {
        return Err(FormatError::Syntax(errors));
    }
    let out = format_file(&parsed.file, &parsed.comments, src);
    let again = parse(&out, FileId(0));
    if again
        .diagnostics
        .iter()
        .any(|d| d.severity() == Severity::Error)
    {
        return Err(FormatError::Unstable(
            "the formatted text does not parse".into(),
        ));
    }
    if shape(&again.file) != shape(&parsed.file) {
        return Err(FormatError::Unstable(
            "the formatted text parses to a different policy".into(),
        ));
    }
    if !same_texts(&again.comments, &parsed.comments) {
        return Err(FormatError::Unstable(
            "a comment was lost or reordered".into(),
        ));
    }
    Ok(out)
}

/// The canonical text of a parsed file. `comments` and `src` are those the file was parsed
/// from. Never panics; a declaration that did not parse (`Item::Error`) is copied as written,
/// up to the next declaration.
pub fn format_file(file: &ast::File, comments: &[Comment], src: &str) -> String {
    let mut out = Output::default();
    let mut next = 0;
    // The end of the last thing printed (declaration or comment), for blank lines.
    let mut last_end: Option<usize> = None;
    let mut prev_kind: Option<Kind> = None;
    let blank_after = |last_end: Option<usize>, start: usize| {
        last_end.is_some_and(|end| blank_line_between(src, end, start))
    };

    for (i, item) in file.items.iter().enumerate() {
        let span = item.span();
        let (start, end) = (span.start as usize, span.end as usize);
        let kind = Kind::of(item);
        let mut new_group = prev_kind.is_some_and(|k| k != kind);

        // Comments above the declaration.
        while let Some(c) = comments
            .get(next)
            .filter(|c| (c.span.start as usize) < start)
        {
            out.line(
                blank_after(last_end, c.span.start as usize) || new_group,
                &c.text,
            );
            new_group = false;
            last_end = Some(c.span.end as usize);
            next += 1;
        }

        let limit = file
            .items
            .get(i + 1)
            .map_or(src.len(), |n| n.span().start as usize);
        let mut blank = blank_after(last_end, start) || new_group;
        if let Item::Error(_) = item {
            // Copied as written up to the next declaration, comments included, so that no
            // token the parser skipped while recovering is lost.
            let text = src
                .get(start..limit.max(start))
                .unwrap_or_default()
                .trim_end();
            out.line(blank, text);
            next += comments[next..]
                .iter()
                .take_while(|c| (c.span.start as usize) < limit)
                .count();
            last_end = Some(start + text.len());
            prev_kind = Some(kind);
            continue;
        }

        // The declaration, with the comments inside it.
        let inside = comments[next..]
            .iter()
            .take_while(|c| (c.span.start as usize) < end)
            .count();
        let (hoisted, doc) = decl::layout_item(item, &comments[next..next + inside], src);
        next += inside;
        for c in hoisted {
            out.line(blank, &c.text);
            blank = false;
        }
        out.line(blank, &doc::print(&doc, WIDTH));
        last_end = Some(end);

        // A comment on the same line after the declaration stays there.
        if let Some(c) = comments.get(next) {
            let c_start = c.span.start as usize;
            if c_start < limit && src.get(end..c_start).is_some_and(|gap| !gap.contains('\n')) {
                out.append(&format!(" {}", c.text));
                last_end = Some(c.span.end as usize);
                next += 1;
            }
        }
        prev_kind = Some(kind);
    }

    // Comments after the last declaration.
    for c in comments.get(next..).unwrap_or_default() {
        out.line(blank_after(last_end, c.span.start as usize), &c.text);
        last_end = Some(c.span.end as usize);
    }
    out.finish()
}

/// The kinds of declaration; a blank line always separates two of different kinds. Routes
/// and the default route are one kind: the default ends the list of routes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Include,
    Signal,
    Backend,
    Prompt,
    Route,
    Test,
    Error,
}

impl Kind {
    fn of(item: &Item) -> Kind {
        match item {
            Item::Include(_) | Item::Select(_) => Kind::Include,
            Item::Signal(_) => Kind::Signal,
            Item::Backend(_) => Kind::Backend,
            Item::Prompt(_) => Kind::Prompt,
            Item::Route(_) | Item::Default(_) => Kind::Route,
            Item::Test(_) => Kind::Test,
            Item::Error(_) => Kind::Error,
        }
    }
}

/// Whether the source has an empty line between `from` and `to`.
fn blank_line_between(src: &str, from: usize, to: usize) -> bool {
    src.get(from..to)
        .is_some_and(|gap| gap.matches('\n').count() >= 2)
}

/// The output text, built line by line.
#[derive(Default)]
struct Output {
    text: String,
}

impl Output {
    /// Starts a new line (after an empty one if `blank`, except at the start of the file)
    /// holding `s`, which may span several lines.
    fn line(&mut self, blank: bool, s: &str) {
        if !self.text.is_empty() {
            self.text.push('\n');
            if blank {
                self.text.push('\n');
            }
        }
        self.text.push_str(s);
    }

    /// Appends to the current line.
    fn append(&mut self, s: &str) {
        self.text.push_str(s);
    }

    fn finish(mut self) -> String {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text
    }
}

fn same_texts(a: &[Comment], b: &[Comment]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.text == y.text)
}

/// The tree's debug rendering with every span erased: two files with the same shape are the
/// same policy written differently. Used to check that formatting preserves meaning.
pub fn shape(file: &ast::File) -> String {
    const SPAN: &str = "Span { file: FileId(";
    let debug = format!("{:?}", file.items);
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(i) = rest.find(SPAN) {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        match after.find('}') {
            Some(close) => {
                out.push('_');
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
