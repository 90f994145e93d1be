//! The YAML frontend: a YAML policy to the same AST the `.route` parser produces, so the same
//! checker, engine and diagnostics apply.
//!
//! Two forms are read. The routerc form ([`routerc`]) spells the language directly in YAML.
//! The vLLM Semantic Router v0.3 form ([`vsr`]) is lowered to signals, backends and routes that
//! reproduce its selection semantics. Steps: [`node`] reads the text into a tree of nodes with
//! byte spans (bounded against hostile input), then one of the two lowerings builds AST items
//! whose spans point into the YAML file, so diagnostics render over the YAML source.
//!
//! This module does not check names or types beyond what the YAML structure itself needs:
//! references are resolved by the checker, like for `.route` files. The one exception is the
//! vLLM form, whose rule leaves name signals by family, which only this frontend knows.

pub mod node;
pub mod routerc;
pub mod vsr;

use std::path::Path;

use crate::diagnostic::{codes, Diagnostic};
use crate::syntax::ast::{self, Item};
use crate::syntax::{FileId, Span};

use node::{Entry, Node, Value};

/// The result of reading one YAML file, shaped like [`crate::syntax::parser::Parsed`].
pub struct Parsed {
    pub file: ast::File,
    /// `(keyword, name)` of every declaration found, including ones that failed to lower.
    pub declared: Vec<(&'static str, String)>,
    pub diagnostics: Vec<Diagnostic>,
    /// Comment lines to print above items when converting to `.route` (index into `items`):
    /// a vLLM decision's description, what was not carried over.
    pub notes: Vec<(usize, String)>,
}

/// Which YAML form a document is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Routerc,
    Vsr,
}

/// Whether a path names a YAML file (by its extension).
pub fn is_yaml_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Top-level keys that only a vLLM Semantic Router config has.
pub(crate) const VSR_KEYS: &[&str] = &[
    "version",
    "providers",
    "routing",
    "listeners",
    "global",
    "entrypoints",
    "recipes",
];

/// Tells the two forms apart by their top-level keys: a vLLM config has `version`,
/// `providers` or `routing`; anything else is read as the routerc form (whose reader then
/// reports unknown keys).
pub fn detect(root: &Node) -> Form {
    match root.as_map() {
        Some(entries) if entries.iter().any(|e| VSR_KEYS.contains(&e.key.as_str())) => Form::Vsr,
        _ => Form::Routerc,
    }
}

/// Reads a YAML policy. Never fails: problems are diagnostics, and whatever could be lowered
/// is returned.
pub fn parse(text: &str, file: FileId) -> Parsed {
    let (root, diagnostics) = node::load(text, file);
    let Some(root) = root else {
        return Parsed {
            file: ast::File {
                items: Vec::new(),
                span: Span::new(file, 0, text.len()),
            },
            declared: Vec::new(),
            diagnostics,
            notes: Vec::new(),
        };
    };
    let mut reader = Reader::new(file, text);
    let items = match detect(&root) {
        Form::Routerc => routerc::lower(&mut reader, &root),
        Form::Vsr => vsr::lower(&mut reader, &root),
    };
    let mut declared = reader.declared;
    declared.extend(items.iter().filter_map(|i| {
        let keyword = match i {
            Item::Signal(_) => "signal",
            Item::Backend(_) => "backend",
            Item::Prompt(_) => "prompt",
            Item::Route(_) => "route",
            _ => return None,
        };
        Some((keyword, i.name()?.name.to_string()))
    }));
    Parsed {
        file: ast::File {
            items,
            span: Span::new(file, 0, text.len()),
        },
        declared,
        diagnostics: reader.diagnostics,
        notes: reader.notes,
    }
}

/// Reading a YAML tree against an expected shape: the helpers report wrong types, unknown keys
/// (with a did-you-mean) and missing keys, and return `None` after reporting.
pub struct Reader<'t> {
    pub file: FileId,
    pub text: &'t str,
    pub diagnostics: Vec<Diagnostic>,
    /// Declarations that failed to lower, so the checker does not report their uses.
    pub declared: Vec<(&'static str, String)>,
    /// See [`Parsed::notes`].
    pub notes: Vec<(usize, String)>,
}

impl<'t> Reader<'t> {
    pub fn new(file: FileId, text: &'t str) -> Reader<'t> {
        Reader {
            file,
            text,
            diagnostics: Vec::new(),
            declared: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// `E0406`: `node` is not what `what` needs.
    pub fn wrong(&mut self, node: &Node, what: &str, expected: &str) {
        self.push(
            Diagnostic::new(
                &codes::E0406,
                node.span,
                format!("{what} must be {expected}, not {}", node.kind()),
            )
            .with_label(format!("expected {expected}")),
        );
    }

    /// The entries of a mapping, reporting every key not in `known`. A null (an empty value)
    /// is an empty mapping.
    pub fn map<'n>(&mut self, node: &'n Node, what: &str, known: &[&str]) -> Option<&'n [Entry]> {
        match &node.value {
            Value::Map(entries) => {
                for e in entries {
                    if !known.contains(&e.key.as_str()) {
                        self.unknown_key(e, what, known);
                    }
                }
                Some(entries)
            }
            Value::Null => Some(&[]),
            _ => {
                self.wrong(node, what, "a mapping");
                None
            }
        }
    }

    pub fn unknown_key(&mut self, e: &Entry, what: &str, known: &[&str]) {
        let d = Diagnostic::new(
            &codes::E0405,
            e.key_span,
            format!("unknown key `{}` in {what}", e.key),
        )
        .with_label("not a key routerc knows here")
        .with_suggestion(&e.key, e.key_span, known.iter().copied());
        let d = if d.help.is_none() && !known.is_empty() {
            d.with_help(format!("the keys here are {}", list(known)))
        } else {
            d
        };
        self.push(d);
    }

    /// The items of a list; a null is an empty list.
    pub fn seq<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            Value::Null => Some(&[]),
            _ => {
                self.wrong(node, what, "a list");
                None
            }
        }
    }

    pub fn str<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n str> {
        match &node.value {
            Value::Str { value, .. } => Some(value),
            _ => {
                self.wrong(node, what, "a string");
                None
            }
        }
    }

    /// A string, or a scalar written without quotes that YAML typed otherwise (`name: 42`):
    /// for names and texts, where the author meant the characters.
    pub fn text_of(&mut self, node: &Node, what: &str) -> Option<String> {
        match &node.value {
            Value::Str { value, .. } => Some(value.clone()),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(
                self.text
                    .get(node.span.range())
                    .unwrap_or_default()
                    .to_string(),
            ),
            _ => {
                self.wrong(node, what, "a string");
                None
            }
        }
    }

    pub fn int(&mut self, node: &Node, what: &str) -> Option<i64> {
        match node.value {
            Value::Int(i) => Some(i),
            _ => {
                self.wrong(node, what, "an integer");
                None
            }
        }
    }

    pub fn number(&mut self, node: &Node, what: &str) -> Option<f64> {
        match node.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) if f.is_finite() => Some(f),
            _ => {
                self.wrong(node, what, "a number");
                None
            }
        }
    }

    pub fn bool(&mut self, node: &Node, what: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            _ => {
                self.wrong(node, what, "`true` or `false`");
                None
            }
        }
    }

    /// `E0407` unless `key` is in the mapping `node`.
    pub fn required<'n>(&mut self, node: &'n Node, key: &str, what: &str) -> Option<&'n Node> {
        let found = node.get(key);
        if found.is_none() {
            let at = match node.as_map() {
                Some(entries) if !entries.is_empty() => entries[0].key_span,
                _ => node.span,
            };
            self.push(
                Diagnostic::new(&codes::E0407, at, format!("{what} has no `{key}`"))
                    .with_label(format!("`{key}` is required here")),
            );
        }
        found
    }

    /// A span covering a mapping entry, key and value.
    pub fn entry_span(e: &Entry) -> Span {
        e.key_span.to(e.value.span)
    }
}

/// `a`, `b` and `c`, each in backticks.
pub fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} and {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// Converts a policy file to the other form: `.route` (or either YAML form) to `.route` text
/// or routerc YAML text. Returns the diagnostics when the file has errors, since a policy
/// that does not check is not converted.
pub fn convert(
    path: &Path,
    provider: &dyn crate::source::SourceProvider,
    to: Target,
) -> Result<String, Box<(crate::source::Program, crate::check::Checked)>> {
    let (program, checked) = crate::check_file(path, provider);
    if checked.diagnostics.has_errors() || program.files.is_empty() {
        return Err(Box::new((program, checked)));
    }
    let root = &program.files[0];
    let source = program.sources.get(root.id);
    let is_route = !is_yaml_path(&source.path);
    Ok(match to {
        Target::Route if is_route => {
            crate::fmt::format_file(&root.ast, &root.comments, &source.text)
        }
        Target::Route => {
            // Read again for the notes (descriptions, what was not carried over), which the
            // checker does not need.
            let parsed = parse(&source.text, root.id);
            routerc::to_route(&parsed.file, &parsed.notes)
        }
        Target::Yaml => routerc::to_yaml(&root.ast),
    })
}

/// What `convert` produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    Route,
    Yaml,
}

/// `routerc convert FILE --to route|yaml`: writes the converted policy to `out`, or the
/// diagnostics (human format) to `err` when the file has errors. Returns the exit status: 0
/// converted, 1 errors in the policy, 2 unreadable file or failed write.
pub fn run_convert(
    path: &Path,
    to: Target,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> u8 {
    if !path.is_file() {
        let _ = writeln!(err, "error: cannot read `{}`: no such file", path.display());
        return 2;
    }
    match convert(path, &crate::source::FileSystem, to) {
        Ok(text) => match out.write_all(text.as_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                let _ = writeln!(err, "error: cannot write the converted policy: {e}");
                2
            }
        },
        Err(failed) => {
            let (program, checked) = *failed;
            let diagnostics = checked.diagnostics.sorted();
            let errors: Vec<_> = diagnostics
                .into_iter()
                .filter(|d| d.severity() == crate::diagnostic::Severity::Error)
                .collect();
            let _ = crate::render::write(
                err,
                &program.sources,
                &errors,
                crate::render::Format::Human,
                false,
            );
            let _ = writeln!(
                err,
                "error: `{}` was not converted: {}",
                path.display(),
                crate::render::summary(&errors)
            );
            1
        }
    }
}
