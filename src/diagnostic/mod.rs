//! Diagnostics: what every stage reports, with stable codes.
//!
//! A [`Diagnostic`] is plain data (code, message, labelled spans, help, suggested fixes). It
//! knows nothing about terminals or editors: [`crate::render`] turns it into ariadne output,
//! plain text or JSON, and the language server turns it into LSP diagnostics and quick fixes.
//!
//! Message style: lowercase, no final period, user input in backticks, never a Rust type name.

use serde::Serialize;

use crate::syntax::span::Span;

pub use codes::Code;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A text edit that resolves a diagnostic (did-you-mean and similar): replace `span` with
/// `replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub span: Span,
    pub replacement: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: &'static Code,
    pub message: String,
    /// Where the problem is.
    pub span: Span,
    /// The label under the primary span.
    pub label: String,
    /// Other places that explain the problem (the earlier declaration, the shadowing route).
    pub related: Vec<(Span, String)>,
    pub help: Option<String>,
    pub fixes: Vec<Fix>,
}

impl Diagnostic {
    pub fn new(code: &'static Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span,
            label: String::new(),
            related: Vec::new(),
            help: None,
            fixes: Vec::new(),
        }
    }

    pub fn severity(&self) -> Severity {
        self.code.severity
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push((span, label.into()));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_fix(
        mut self,
        title: impl Into<String>,
        span: Span,
        replacement: impl Into<String>,
    ) -> Diagnostic {
        self.fixes.push(Fix {
            title: title.into(),
            span,
            replacement: replacement.into(),
        });
        self
    }

    /// Sets the help line unless one (a did-you-mean, usually) is already there.
    pub fn with_help_if_none(self, help: impl Into<String>) -> Diagnostic {
        if self.help.is_none() {
            self.with_help(help)
        } else {
            self
        }
    }

    pub fn with_help_opt(self, help: Option<String>) -> Diagnostic {
        match help {
            Some(h) => self.with_help(h),
            None => self,
        }
    }

    /// Adds "did you mean" help and a quick fix when `candidates` holds a close match.
    pub fn with_suggestion<'a>(
        mut self,
        wrong: &str,
        span: Span,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Diagnostic {
        if let Some(best) = suggest(wrong, candidates) {
            self.help = Some(format!("did you mean `{best}`?"));
            self = self.with_fix(format!("replace with `{best}`"), span, best);
        }
        self
    }
}

/// The closest candidate to `wrong`, if any is close enough to be a likely typo.
pub fn suggest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let wrong_lower = wrong.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate == wrong {
            continue;
        }
        let score = strsim::jaro_winkler(&wrong_lower, &candidate.to_lowercase());
        let edits = strsim::levenshtein(&wrong_lower, &candidate.to_lowercase());
        // Short names need a small edit distance; longer ones a high similarity.
        let close = edits <= 1 || (edits <= 2 && wrong.len() > 3) || score >= 0.88;
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| c.to_string())
}

/// The diagnostics of one run, kept in the order they were found.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity() == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity() == severity)
            .count()
    }

    /// Sorted by file and position, errors before warnings at the same place.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut v: Vec<&Diagnostic> = self.items.iter().collect();
        v.sort_by_key(|d| {
            (
                d.span.file,
                d.span.start,
                std::cmp::Reverse(d.severity()),
                d.code.id,
            )
        });
        v
    }
}

pub mod codes;
