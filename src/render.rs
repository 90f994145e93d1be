//! Rendering diagnostics: `human` (ariadne, with source excerpts), `plain` (one line each, for
//! editors' problem matchers and screen readers) and `json` (one object per line, for CI).

use std::io::{self, Write};
use std::ops::Range;

use ariadne::{Color, Config, IndexType, Label, Report, ReportKind};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Plain,
    Json,
}

/// Writes `diagnostics` in `format`. Diagnostics whose span points into no loaded file (the
/// root file could not be read) are written without an excerpt.
pub fn write(
    out: &mut dyn Write,
    sources: &SourceMap,
    diagnostics: &[&Diagnostic],
    format: Format,
    color: bool,
) -> io::Result<()> {
    let mut human_cache = None;
    for d in diagnostics {
        match format {
            Format::Human => {
                // One source cache for all reports: copying every file per diagnostic made
                // large files with many diagnostics quadratic.
                let cache = human_cache.get_or_insert_with(|| {
                    ariadne::sources(
                        sources
                            .files()
                            .map(|(_, f)| (f.name.clone(), f.text.clone())),
                    )
                });
                human(out, sources, d, color, &mut *cache)?
            }
            Format::Plain => plain(out, sources, d)?,
            Format::Json => {
                serde_json::to_writer(&mut *out, &JsonDiagnostic::new(sources, d))?;
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

/// Diagnostics rendered for a person (as `routerc check` prints them) followed by the
/// summary line, as one string: for stderr and for the gateway's log.
pub fn human_report(sources: &SourceMap, sorted: &[&Diagnostic], color: bool) -> String {
    let mut out = Vec::new();
    let _ = write(&mut out, sources, sorted, Format::Human, color);
    let mut report = String::from_utf8_lossy(&out).into_owned();
    report.push_str(&summary(sorted));
    report
}

/// `N errors, M warnings` (human and plain formats end with it).
pub fn summary(diagnostics: &[&Diagnostic]) -> String {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity() == Severity::Error)
        .count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

fn has_file(sources: &SourceMap, d: &Diagnostic) -> bool {
    sources.files().any(|(id, _)| id == d.span.file)
}

fn human(
    out: &mut dyn Write,
    sources: &SourceMap,
    d: &Diagnostic,
    color: bool,
    cache: impl ariadne::Cache<String>,
) -> io::Result<()> {
    if !has_file(sources, d) {
        return writeln!(
            out,
            "{}[{}]: {}",
            d.severity().as_str(),
            d.code.id,
            d.message
        );
    }
    let kind = match d.severity() {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
    };
    let name = |id| sources.get(id).name.clone();
    let span =
        |s: crate::syntax::Span| -> (String, Range<usize>) { (name(s.file), clamp(sources, s)) };
    let config = Config::default()
        .with_color(color)
        .with_index_type(IndexType::Byte);
    let primary_color = if d.severity() == Severity::Error {
        Color::Red
    } else {
        Color::Yellow
    };
    let mut report = Report::build(kind, span(d.span))
        .with_config(config)
        .with_code(d.code.id)
        .with_message(&d.message)
        .with_label(
            Label::new(span(d.span))
                .with_message(&d.label)
                .with_color(primary_color),
        );
    for (s, msg) in &d.related {
        report = report.with_label(
            Label::new(span(*s))
                .with_message(msg)
                .with_color(Color::Blue),
        );
    }
    if let Some(help) = &d.help {
        report = report.with_help(help);
    }
    report.finish().write(cache, &mut *out)
}

/// Keeps a span inside its file's text and on character boundaries, whatever produced it.
fn clamp(sources: &SourceMap, s: crate::syntax::Span) -> Range<usize> {
    let text = &sources.get(s.file).text;
    let fix = |mut i: usize| {
        i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = fix(s.start as usize);
    let end = fix(s.end as usize).max(start);
    start..end
}

fn plain(out: &mut dyn Write, sources: &SourceMap, d: &Diagnostic) -> io::Result<()> {
    if has_file(sources, d) {
        let ((line, col), _) = sources.range(d.span);
        write!(out, "{}:{line}:{col}: ", sources.get(d.span.file).name)?;
    }
    write!(
        out,
        "{}[{}]: {}",
        d.severity().as_str(),
        d.code.id,
        d.message
    )?;
    if !d.label.is_empty() {
        write!(out, ": {}", d.label)?;
    }
    writeln!(out)?;
    for (s, msg) in &d.related {
        let ((line, col), _) = sources.range(*s);
        writeln!(
            out,
            "  note: {}:{line}:{col}: {msg}",
            sources.get(s.file).name
        )?;
    }
    if let Some(help) = &d.help {
        writeln!(out, "  help: {help}")?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Position {
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonRelated {
    file: String,
    start: Position,
    end: Position,
    message: String,
}

#[derive(Serialize)]
struct JsonFix {
    title: String,
    file: String,
    start: Position,
    end: Position,
    replacement: String,
}

/// The JSON form: positions are 1-based lines and columns (columns count characters).
#[derive(Serialize)]
struct JsonDiagnostic {
    code: &'static str,
    severity: Severity,
    message: String,
    label: String,
    file: Option<String>,
    start: Option<Position>,
    end: Option<Position>,
    help: Option<String>,
    related: Vec<JsonRelated>,
    fixes: Vec<JsonFix>,
}

impl JsonDiagnostic {
    fn new(sources: &SourceMap, d: &Diagnostic) -> JsonDiagnostic {
        let located = has_file(sources, d);
        let pos = |s: crate::syntax::Span| {
            let ((l1, c1), (l2, c2)) = sources.range(s);
            (
                Position {
                    line: l1,
                    column: c1,
                },
                Position {
                    line: l2,
                    column: c2,
                },
            )
        };
        let (start, end) = if located {
            let (a, b) = pos(d.span);
            (Some(a), Some(b))
        } else {
            (None, None)
        };
        JsonDiagnostic {
            code: d.code.id,
            severity: d.severity(),
            message: d.message.clone(),
            label: d.label.clone(),
            file: located.then(|| sources.get(d.span.file).name.clone()),
            start,
            end,
            help: d.help.clone(),
            related: d
                .related
                .iter()
                .map(|(s, m)| {
                    let (start, end) = pos(*s);
                    JsonRelated {
                        file: sources.get(s.file).name.clone(),
                        start,
                        end,
                        message: m.clone(),
                    }
                })
                .collect(),
            fixes: d
                .fixes
                .iter()
                .map(|f| {
                    let (start, end) = pos(f.span);
                    JsonFix {
                        title: f.title.clone(),
                        file: sources.get(f.span.file).name.clone(),
                        start,
                        end,
                        replacement: f.replacement.clone(),
                    }
                })
                .collect(),
        }
    }
}
