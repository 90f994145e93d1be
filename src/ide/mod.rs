//! The analysis engine behind the language server: what is at a position, what completes
//! there, where a name is declared and used, how to rename it, the outline and folds of a file.
//!
//! It works on byte offsets into the program's sources and on the compiler's own data (the
//! AST, the diagnostics, the formatter), and knows nothing of LSP: the transport in
//! [`crate::lsp`] converts positions and messages. Every query takes any offset (past the end,
//! inside a multi-byte character) and answers something sensible rather than panicking.
//!
//! An [`Analysis`] is one immutable snapshot of a policy: the root file the editor shows, the
//! files it includes, and the checker's results. The server makes a new one when a buffer
//! changes; queries never mutate it.

mod complete;
pub mod index;
mod outline;
pub mod vocabulary;
pub mod yaml;

use std::path::Path;

use crate::check::Checked;
use crate::diagnostic::{Diagnostic, Fix};
use crate::source::{Program, SourceProvider};
use crate::syntax::ast::{self, Expr, Item, Name, Operand, Value};
use crate::syntax::lexer::{self, Tok};
use crate::syntax::{FileId, Span};

pub use complete::{Completion, CompletionKind, Completions};
pub use index::{Index, Occurrence, Symbol};
pub use outline::{DocumentSymbol, Fold, SymbolKind};

/// A replacement of `span` by `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub text: String,
}

/// Hover text (Markdown) and the range it describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hover {
    pub span: Span,
    pub markdown: String,
}

/// A checked policy and everything the queries need, for one version of the sources.
pub struct Analysis {
    program: Program,
    checked: Checked,
    index: Index,
}

impl Analysis {
    pub fn new(program: Program, checked: Checked) -> Analysis {
        let index = Index::build(&program);
        Analysis {
            program,
            checked,
            index,
        }
    }

    /// Analyses the policy rooted at `path`, reading it and its includes through `provider`
    /// (which serves open editor buffers before the disk).
    pub fn load(path: &Path, provider: &dyn SourceProvider) -> Analysis {
        let (program, checked) = crate::check_file(path, provider);
        Analysis::new(program, checked)
    }

    /// [`Analysis::load`] for successive versions of one policy: `memo` carries the lints'
    /// results from one version to the next (the same diagnostics, sooner).
    pub fn load_with(
        path: &Path,
        provider: &dyn SourceProvider,
        memo: &mut crate::check::lints::LintMemo,
    ) -> Analysis {
        let (program, diagnostics) = crate::source::load(path, provider);
        let checked = crate::check::check_with(&program, diagnostics, Some(memo));
        Analysis::new(program, checked)
    }

    /// Analyses one in-memory text, without includes.
    pub fn from_text(name: &str, text: &str) -> Analysis {
        let (program, checked) = crate::check_text(name, text);
        Analysis::new(program, checked)
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The program, for reuse of its parse once the analysis is no longer needed. The rest
    /// (the checked policy and the index) is freed on another thread: the language server
    /// calls this between a keystroke and its diagnostics, and freeing a large policy's
    /// trees was a twentieth of that time.
    pub fn into_program(self) -> Program {
        let Analysis {
            program,
            checked,
            index,
        } = self;
        drop_later(Box::new((checked, index)));
        program
    }

    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The file the analysis was started from, unless it could not be read.
    pub fn root(&self) -> Option<FileId> {
        self.program.files.first().map(|f| f.id)
    }

    /// The text of `file`, or "" for a file this analysis does not have.
    pub fn text(&self, file: FileId) -> &str {
        match self.program.sources.files().nth(file.0 as usize) {
            Some((_, f)) => &f.text,
            None => "",
        }
    }

    /// `offset` moved into the text and back onto a character boundary.
    pub fn clamp(&self, file: FileId, offset: u32) -> u32 {
        let text = self.text(file);
        let mut o = (offset as usize).min(text.len());
        while !text.is_char_boundary(o) {
            o -= 1;
        }
        o as u32
    }

    /// The diagnostics located in `file`, in position order: the same list and codes
    /// `routerc check` reports.
    pub fn diagnostics(&self, file: FileId) -> Vec<&Diagnostic> {
        self.checked
            .diagnostics
            .sorted()
            .into_iter()
            .filter(|d| d.span.file == file)
            .collect()
    }

    /// The diagnostics located in files that `file` includes (directly), each with the span of
    /// the `include` that brought it in: an editor shows them on that line, since the included
    /// file may not be open.
    pub fn included_diagnostics(&self, file: FileId) -> Vec<(Span, &Diagnostic)> {
        let mut found = Vec::new();
        for &(at, target) in self.index.includes.iter().filter(|(s, _)| s.file == file) {
            if target == file {
                continue;
            }
            for d in self.diagnostics(target) {
                found.push((at, d));
            }
        }
        found
    }

    /// The quick fixes of the diagnostics that overlap `span` (did-you-mean replacements).
    pub fn fixes(&self, span: Span) -> Vec<(&Diagnostic, &Fix)> {
        self.diagnostics(span.file)
            .into_iter()
            .filter(|d| d.span.start <= span.end && span.start <= d.span.end)
            .flat_map(|d| d.fixes.iter().map(move |f| (d, f)))
            .collect()
    }

    /// The whole file in canonical form, as `routerc fmt` writes it; `None` when the file has
    /// syntax errors (the diagnostics say which) or is already formatted.
    pub fn format(&self, file: FileId) -> Option<String> {
        // YAML policies are the user's own layout; `routerc convert --to yaml` is the canonical
        // form, and it does not keep comments.
        if self.is_yaml(file) {
            return None;
        }
        let text = self.text(file);
        match crate::fmt::format_source(text) {
            Ok(out) if out != text => Some(out),
            _ => None,
        }
    }

    /// Where the symbol (or included file) under the cursor is declared.
    pub fn definition(&self, file: FileId, offset: u32) -> Option<Span> {
        let offset = self.clamp(file, offset);
        if let Some(&(_, target)) = self
            .index
            .includes
            .iter()
            .find(|(s, _)| s.file == file && s.contains(offset))
        {
            return Some(Span::new(target, 0, 0));
        }
        let at = self.index.at(file, offset)?;
        self.index.definition(&at.symbol).map(|d| d.span)
    }

    /// Every place the symbol under the cursor is written.
    pub fn references(&self, file: FileId, offset: u32, include_declaration: bool) -> Vec<Span> {
        let offset = self.clamp(file, offset);
        let Some(at) = self.index.at(file, offset) else {
            return Vec::new();
        };
        self.index
            .references(&at.symbol)
            .filter(|o| include_declaration || !o.is_definition)
            .map(|o| o.span)
            .collect()
    }

    /// The places in `file` where the symbol under the cursor is written, each marked `true`
    /// for its declaration: what an editor highlights while the cursor rests on a name.
    pub fn highlights(&self, file: FileId, offset: u32) -> Vec<(Span, bool)> {
        let offset = self.clamp(file, offset);
        let Some(at) = self.index.at(file, offset) else {
            return Vec::new();
        };
        self.index
            .references(&at.symbol)
            .filter(|o| o.span.file == file)
            .map(|o| (o.span, o.is_definition))
            .collect()
    }

    /// The name a rename at the cursor would change, or why there is none.
    pub fn prepare_rename(&self, file: FileId, offset: u32) -> Result<(Span, &Symbol), String> {
        let offset = self.clamp(file, offset);
        let at = self
            .index
            .at(file, offset)
            .ok_or("there is no signal, backend, prompt, route or label here to rename")?;
        if self.index.definition(&at.symbol).is_none() {
            return Err(format!(
                "`{}` is not declared in this policy",
                at.symbol.name()
            ));
        }
        Ok((at.span, &at.symbol))
    }

    /// The edits that rename the symbol under the cursor everywhere in the policy (all its
    /// files). Refuses a name that is not a name, is a keyword, or is taken.
    pub fn rename(&self, file: FileId, offset: u32, new_name: &str) -> Result<Vec<Edit>, String> {
        let (_, symbol) = self.prepare_rename(file, offset)?;
        let is_label = matches!(symbol, Symbol::Label { .. });
        let plain = is_identifier(new_name) && !vocabulary::is_keyword(new_name);
        if !is_label && !plain {
            return Err(format!(
                "`{new_name}` is not a valid {} name: use letters, digits and `_`, not starting with a digit, and no keyword",
                symbol.kind()
            ));
        }
        if new_name.is_empty() || new_name.contains('\n') {
            return Err("a label needs a name on one line".to_string());
        }
        let clash = match symbol {
            Symbol::Signal(_) => Symbol::Signal(Name::from(new_name)),
            Symbol::Backend(_) => Symbol::Backend(Name::from(new_name)),
            Symbol::Prompt(_) => Symbol::Prompt(Name::from(new_name)),
            Symbol::Route(_) => Symbol::Route(Name::from(new_name)),
            Symbol::Label { signal, .. } => Symbol::Label {
                signal: signal.clone(),
                label: Name::from(new_name),
            },
        };
        if clash != *symbol && self.index.definition(&clash).is_some() {
            return Err(format!(
                "a {} named `{new_name}` already exists",
                symbol.kind()
            ));
        }
        if matches!(symbol, Symbol::Route(_)) && new_name == "default" {
            return Err("`default` is the default route's name".to_string());
        }
        let quoted_text = lexer::escape(new_name);
        Ok(self
            .index
            .references(symbol)
            .map(|o| Edit {
                span: o.span,
                // A label written as a string stays a string; a bare one becomes a string
                // only when the new name could not be written bare.
                text: if o.quoted || !plain {
                    quoted_text.clone()
                } else {
                    new_name.to_string()
                },
            })
            .collect())
    }

    /// Hover text for the cursor position: the symbol's declaration and meaning, a keyword's
    /// or field's documentation, and the documentation of any diagnostic code there.
    pub fn hover(&self, file: FileId, offset: u32) -> Option<Hover> {
        let offset = self.clamp(file, offset);
        let mut sections = Vec::new();
        let mut span = None;
        if let Some(at) = self.index.at(file, offset) {
            if let Some(text) = self.describe(&at.symbol) {
                sections.push(text);
                span = Some(at.span);
            }
        } else if let Some((s, text)) = self.word_doc(file, offset) {
            sections.push(text);
            span = Some(s);
        }
        for d in self.diagnostics(file) {
            if d.span.contains(offset) && !d.span.is_empty() {
                sections.push(format!(
                    "**{}** {}: {}",
                    d.code.id, d.code.title, d.code.doc
                ));
                span.get_or_insert(d.span);
            }
        }
        sections.dedup();
        Some(Hover {
            span: span?,
            markdown: sections.join("\n\n---\n\n"),
        })
    }

    pub fn completions(&self, file: FileId, offset: u32) -> Completions {
        let offset = self.clamp(file, offset);
        if self.is_yaml(file) {
            return yaml::completions(self, file, offset);
        }
        complete::completions(self, file, offset)
    }

    pub fn symbols(&self, file: FileId) -> Vec<DocumentSymbol> {
        outline::symbols(self, file)
    }

    pub fn folding(&self, file: FileId) -> Vec<Fold> {
        if self.is_yaml(file) {
            return yaml::folding(self.text(file), file);
        }
        outline::folding(self, file)
    }

    /// Whether `file` was read by the YAML frontend (either YAML form).
    pub fn is_yaml(&self, file: FileId) -> bool {
        self.program
            .sources
            .files()
            .nth(file.0 as usize)
            .is_some_and(|(_, f)| crate::yaml::is_yaml_path(&f.path))
    }

    /// The items of `file`.
    fn items(&self, file: FileId) -> &[Item] {
        self.program
            .files
            .iter()
            .find(|f| f.id == file)
            .map_or(&[], |f| f.ast.items.as_slice())
    }

    /// The item of `file` that contains `offset`.
    fn item_at(&self, file: FileId, offset: u32) -> Option<&Item> {
        let items = self.items(file);
        // The YAML frontend lowers sections in its own order (a vLLM config's signals come
        // after its models), so its items are not sorted by position.
        if self.is_yaml(file) {
            return items
                .iter()
                .filter(|it| it.span().contains(offset))
                .min_by_key(|it| it.span().end - it.span().start);
        }
        let i = items.partition_point(|it| it.span().start <= offset);
        items[..i].last().filter(|it| it.span().contains(offset))
    }

    /// The declaration's text on one line, shortened if long.
    fn one_line(&self, span: Span) -> String {
        let text = self.text(span.file);
        if text.get(span.range()).is_none() {
            return String::new();
        }
        // Comments inside the declaration are left out: on one line they would swallow the
        // code after them.
        let comments = self
            .program
            .files
            .iter()
            .find(|f| f.id == span.file)
            .map_or(&[][..], |f| f.comments.as_slice());
        let mut slice = String::new();
        let mut at = span.start as usize;
        for c in comments
            .iter()
            .filter(|c| span.start <= c.span.start && c.span.end <= span.end)
        {
            slice.push_str(&text[at..c.span.start as usize]);
            at = c.span.end as usize;
        }
        slice.push_str(&text[at..span.end as usize]);
        // Strings never span lines, so joining lines changes no literal.
        let mut joined = slice
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        const MAX: usize = 400;
        if joined.len() > MAX {
            let mut cut = MAX;
            while !joined.is_char_boundary(cut) {
                cut -= 1;
            }
            joined.truncate(cut);
            joined.push_str(" …");
        }
        joined
    }

    fn describe(&self, symbol: &Symbol) -> Option<String> {
        let def = self.index.definition(symbol)?;
        let item = self.item_at(def.span.file, def.span.start)?;
        let uses = self.index.references(symbol).filter(|o| !o.is_definition);
        let use_count = uses.count();
        let code = |text: String| format!("```route\n{text}\n```");
        // A YAML declaration is shown as routerc reads it: the lowering is what the checker
        // and the engine see, and the YAML is already on screen.
        let yaml = self.is_yaml(def.span.file);
        let declaration = |span: Span| {
            code(if yaml {
                yaml::as_route(item)
            } else {
                self.one_line(span)
            })
        };
        Some(match (symbol, item) {
            (Symbol::Signal(_), Item::Signal(s)) => {
                let mut out = vec![declaration(s.span)];
                if let Some(doc) = vocabulary::doc(vocabulary::TYPES, &s.ty.name.name) {
                    out.push(format!("`{}`: {doc}", s.ty.name.name));
                }
                let path: Vec<&str> = s.extractor.path.iter().map(|p| p.name.as_str()).collect();
                let path = path.join(".");
                if let Some(doc) = vocabulary::doc(vocabulary::EXTRACTORS, &path) {
                    out.push(format!("Extracted by `{path}`: {doc}"));
                }
                out.push(uses_line(use_count));
                out.join("\n\n")
            }
            (Symbol::Label { signal, label }, Item::Signal(s)) => {
                let count = s.ty.labels.as_ref().map_or(0, Vec::len);
                format!(
                    "label `{label}` of signal `{signal}`, one of {count} labels\n\n{}\n\n{}",
                    if yaml {
                        declaration(s.span)
                    } else {
                        code(format!("signal {signal}: {}", self.one_line(s.ty.span)))
                    },
                    uses_line(use_count)
                )
            }
            (Symbol::Backend(_), Item::Backend(b)) => {
                let routes = self.routes_using(symbol);
                let mut out = vec![declaration(b.span)];
                out.push(if routes.is_empty() {
                    "No route sends requests here.".to_string()
                } else {
                    format!("Routes sending requests here: {}.", routes.join(", "))
                });
                out.join("\n\n")
            }
            (Symbol::Prompt(name), Item::Prompt(p)) => {
                let text = p.text.value.replace("```", "'''");
                format!(
                    "prompt `{name}`\n\n```text\n{text}\n```\n\n{}",
                    uses_line(use_count)
                )
            }
            (Symbol::Route(name), Item::Route(r)) => {
                let (position, total) = self.evaluation_position(name);
                let mut out = vec![declaration(r.span)];
                out.push(format!(
                    "Priority {}; tried {} of {total} (the default route last).",
                    r.priority.map_or(0, |p| p.value),
                    ordinal(position)
                ));
                if use_count > 0 {
                    out.push(format!(
                        "Expected by {use_count} test{}.",
                        plural(use_count)
                    ));
                }
                out.join("\n\n")
            }
            _ => return None,
        })
    }

    /// Names of the routes (and `default`) whose text contains a use of `symbol`.
    fn routes_using(&self, symbol: &Symbol) -> Vec<String> {
        let mut names = Vec::new();
        for o in self.index.references(symbol).filter(|o| !o.is_definition) {
            let name = match self.item_at(o.span.file, o.span.start) {
                Some(Item::Route(r)) => format!("`{}`", r.name.name),
                Some(Item::Default(_)) => "`default`".to_string(),
                _ => continue,
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// 1-based position of route `name` in evaluation order, and the number of routes
    /// including the default.
    fn evaluation_position(&self, name: &str) -> (usize, usize) {
        let mut routes: Vec<(i64, &str)> = Vec::new();
        let mut has_default = false;
        for item in self.program.items() {
            match item {
                Item::Route(r) if !routes.iter().any(|(_, n)| *n == r.name.name) => {
                    routes.push((r.priority.map_or(0, |p| p.value), &r.name.name))
                }
                Item::Default(_) => has_default = true,
                _ => {}
            }
        }
        // The checker's order: priority descending, source order among equals (stable sort).
        routes.sort_by_key(|(p, _)| std::cmp::Reverse(*p));
        let position = routes.iter().position(|(_, n)| *n == name).unwrap_or(0) + 1;
        (position, routes.len() + usize::from(has_default))
    }

    /// Documentation of the keyword, field, type, extractor or member under the cursor.
    fn word_doc(&self, file: FileId, offset: u32) -> Option<(Span, String)> {
        // The words are `.route` syntax; YAML keys are not documented here.
        if self.is_yaml(file) {
            return None;
        }
        let text = self.text(file);
        // Every word with documentation is inside a declaration: lex that one only.
        let item = self.item_at(file, offset)?;
        let base = item.span().start as usize;
        let body = text.get(item.span().range())?;
        let (start, tok, end) = lexer::lex(body, file)
            .tokens
            .into_iter()
            .map(|(s, t, e)| (s + base, t, e + base))
            .find(|(s, _, e)| *s as u32 <= offset && offset <= *e as u32)?;
        let span = Span::new(file, start, end);
        let word = &text[start..end];
        if !matches!(tok, Tok::Ident(_)) {
            let doc = vocabulary::doc(vocabulary::DECLARATIONS, word)
                .or_else(|| vocabulary::doc(vocabulary::KEYWORDS, word))?;
            return Some((span, format!("`{word}`: {doc}")));
        }
        let found = |table: &[(&str, &'static str)], key: &ast::Ident| {
            (key.span == span)
                .then(|| vocabulary::doc(table, &key.name))
                .flatten()
                .map(|doc| (span, format!("`{}`: {doc}", key.name)))
        };
        let in_fields = |table: &[(&str, &'static str)], fields: &[ast::Field]| {
            fields.iter().find_map(|f| found(table, &f.key))
        };
        match item {
            Item::Signal(s) => {
                if let Some(d) = found(vocabulary::TYPES, &s.ty.name) {
                    return Some(d);
                }
                let first = s.extractor.path.first()?;
                let last = s.extractor.path.last()?;
                if Span::new(file, first.span.start as usize, last.span.end as usize)
                    .contains(offset)
                {
                    let path: Vec<&str> =
                        s.extractor.path.iter().map(|p| p.name.as_str()).collect();
                    let path = path.join(".");
                    let doc = vocabulary::doc(vocabulary::EXTRACTORS, &path)?;
                    return Some((span, format!("`{path}`: {doc}")));
                }
                s.extractor
                    .args
                    .iter()
                    .flatten()
                    .filter_map(|a| a.name.as_ref())
                    .find_map(|n| found(vocabulary::EXTRACTOR_ARGS, n))
            }
            Item::Backend(b) => in_fields(vocabulary::BACKEND_FIELDS, &b.fields),
            Item::Route(r) => member_doc(&self.index, &r.condition, span)
                .or_else(|| action_field_doc(&r.action, &found, span, &self.index)),
            Item::Default(d) => action_field_doc(&d.action, &found, span, &self.index),
            Item::Test(t) => in_fields(vocabulary::EXPECT_FIELDS, &t.expect_fields),
            _ => None,
        }
    }
}

type Found<'a> = dyn Fn(&[(&str, &'static str)], &ast::Ident) -> Option<(Span, String)> + 'a;

fn action_field_doc(
    action: &ast::Action,
    found: &Found<'_>,
    span: Span,
    index: &Index,
) -> Option<(Span, String)> {
    let ast::Action::Backend { fields, .. } = action else {
        return None;
    };
    fields.iter().find_map(|f| {
        found(vocabulary::ACTION_FIELDS, &f.key).or_else(|| match &f.value {
            Value::If { condition, .. } => member_doc(index, condition, span),
            _ => None,
        })
    })
}

/// Documentation of `.confidence` / `.count` under the cursor.
fn member_doc(index: &Index, e: &Expr, span: Span) -> Option<(Span, String)> {
    let mut found = None;
    visit_operands(e, &mut |o| {
        if let Operand::Path(p) = o {
            if let Some(m) = p.member.as_ref().filter(|m| m.span == span) {
                let ty = index
                    .signals
                    .get(p.base.name.as_str())
                    .map(|s| s.ty.as_str());
                if let Some((_, _, doc)) = vocabulary::MEMBERS
                    .iter()
                    .find(|(t, name, _)| Some(*t) == ty && *name == m.name)
                {
                    found = Some((span, format!("`{}.{}`: {doc}", p.base.name, m.name)));
                }
            }
        }
    });
    found
}

/// Calls `f` on every operand of a condition.
fn visit_operands(e: &Expr, f: &mut dyn FnMut(&Operand)) {
    match e {
        Expr::And(items, _) | Expr::Or(items, _) => {
            for i in items {
                visit_operands(i, f);
            }
        }
        Expr::Not(inner, _) | Expr::Paren(inner, _) => visit_operands(inner, f),
        Expr::Compare { lhs, rhs, .. } => {
            f(lhs);
            f(rhs);
        }
        Expr::In { lhs, set, .. } => {
            f(lhs);
            match set {
                ast::InSet::List(items, _) => items.iter().for_each(&mut *f),
                ast::InSet::Operand(o) => f(o),
            }
        }
        Expr::Operand(o) => f(o),
        Expr::Error(_) => {}
    }
}

fn uses_line(n: usize) -> String {
    match n {
        0 => "Not used anywhere.".to_string(),
        n => format!("Used in {n} place{}.", plural(n)),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// A name the lexer reads as one identifier.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Drops `value` on a thread kept for that, or here when that thread cannot be started.
fn drop_later(value: Box<dyn Send>) {
    use std::sync::mpsc::{channel, Sender};
    use std::sync::OnceLock;
    static DROPPER: OnceLock<Option<Sender<Box<dyn Send>>>> = OnceLock::new();
    let sender = DROPPER.get_or_init(|| {
        let (tx, rx) = channel::<Box<dyn Send>>();
        std::thread::Builder::new()
            .name("routerc-drop".into())
            .spawn(move || rx.into_iter().for_each(drop))
            .ok()
            .map(|_| tx)
    });
    match sender {
        // A send fails only if the thread is gone; the value then comes back and drops here.
        Some(tx) => drop(tx.send(value)),
        None => drop(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two in-memory files, the second included by the first.
    struct Two;

    impl SourceProvider for Two {
        fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
            match path.to_str() {
                Some("/p/main.route") => Ok(b"include \"shared.route\"\nbackend b { url: \"http://127.0.0.1:1/v1\", model: \"m\" }\nroute r when flag => b\ndefault => b\n".to_vec()),
                Some("/p/shared.route") => Ok(b"signal flag: bool = keyword(\"x\")\nsignal flag: bool = keyword(\"y\")\n".to_vec()),
                _ => Err(std::io::ErrorKind::NotFound.into()),
            }
        }
    }

    #[test]
    fn problems_in_included_files_are_reported_at_the_include() {
        let a = Analysis::load(Path::new("/p/main.route"), &Two);
        let root = a.root().unwrap();
        assert!(a.diagnostics(root).is_empty());
        let included = a.included_diagnostics(root);
        assert_eq!(included.len(), 1);
        let (at, d) = included[0];
        assert_eq!(&a.text(root)[at.range()], "\"shared.route\"");
        assert_eq!(d.code.id, "E0205");
        assert_ne!(d.span.file, root);
    }
}
