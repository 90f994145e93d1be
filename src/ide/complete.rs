//! Completion: what may be written at the cursor.
//!
//! While the author types, the declaration under the cursor rarely parses, so the context is
//! read from the tokens before the cursor rather than from the AST: the declaration they
//! belong to (its keyword), the brackets still open in it, and the last token or two. The
//! names offered (signals and their labels, backends, prompts, routes) come from the index of
//! the declarations that did parse.

use super::vocabulary::{self, value_words};
use super::{is_identifier, Analysis};
use crate::syntax::ast::Item;
use crate::syntax::lexer::{self, Tok};
use crate::syntax::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Keyword,
    Signal,
    Label,
    Backend,
    Prompt,
    Route,
    Field,
    Value,
    Type,
    Extractor,
    Member,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    /// A short description shown beside the label (a signal's type, a backend's model).
    pub detail: Option<String>,
    pub documentation: Option<String>,
    /// The text inserted (a label that is not a plain name is quoted).
    pub insert: String,
}

/// The completions at a position, all replacing the same span: the part of a name already
/// typed before the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completions {
    pub replace: Span,
    pub items: Vec<Completion>,
}

/// What a bracket opened.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Frame {
    BackendFields,
    ActionFields,
    TestBody,
    Given,
    ExpectFields,
    ExtractorArgs,
    TypeLabels,
    /// `[ … ]` after `SIGNAL in`, or `SIGNAL[`: labels of that signal.
    Labels(String),
    /// Parentheses in a condition.
    Group,
    /// Any other braces or brackets (a nested map, a list value).
    Other,
}

impl Frame {
    fn has_fields(&self) -> bool {
        matches!(
            self,
            Frame::BackendFields
                | Frame::ActionFields
                | Frame::Given
                | Frame::ExpectFields
                | Frame::ExtractorArgs
        )
    }
}

type Token<'s> = (usize, Tok<'s>, usize);

fn starts_declaration(tokens: &[Token<'_>], i: usize) -> bool {
    match tokens[i].1 {
        Tok::Signal
        | Tok::Backend
        | Tok::Prompt
        | Tok::Route
        | Tok::Include
        | Tok::Test
        | Tok::Select => true,
        // `expect default` names the default route inside a test.
        Tok::Default => i == 0 || tokens[i - 1].1 != Tok::Expect,
        _ => false,
    }
}

pub fn completions(analysis: &Analysis, file: FileId, offset: u32) -> Completions {
    let text = analysis.text(file);
    let bytes = text.as_bytes();
    let mut start = offset as usize;
    while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
        start -= 1;
    }
    let replace = Span::new(file, start, offset as usize);
    let mut out = Completions {
        replace,
        items: Vec::new(),
    };
    // A number being typed (`0.7`, `12`) completes to nothing.
    if start < offset as usize && bytes[start].is_ascii_digit() {
        return out;
    }
    // The context never reaches back past the declaration the cursor is in, so lexing starts
    // at the item before it (one more, in case that one is a fragment left by a syntax error)
    // rather than at the top of a file that may hold thousands of routes.
    let items = analysis.items(file);
    let preceding = items.partition_point(|it| (it.span().start as usize) < start);
    let from = match preceding.checked_sub(2) {
        Some(i) => (items[i].span().start as usize).min(start),
        None => 0,
    };
    let mut before = &text[from..start];
    let mut lexed = lexer::lex(before, file);
    if from > 0 && !(0..lexed.tokens.len()).any(|i| starts_declaration(&lexed.tokens, i)) {
        before = &text[..start];
        lexed = lexer::lex(before, file);
    }
    let tokens = lexed.tokens;
    // Inside a comment or an unterminated string: nothing to complete.
    if lexed
        .comments
        .last()
        .is_some_and(|c| c.span.end as usize == before.len())
    {
        return out;
    }
    if matches!(tokens.last(), Some((_, Tok::UnterminatedStr(_), _))) {
        return out;
    }
    let decl_start = (0..tokens.len())
        .rev()
        .find(|&i| starts_declaration(&tokens, i));
    let Some(decl_start) = decl_start else {
        out.keywords(vocabulary::DECLARATIONS);
        return out;
    };
    let decl = &tokens[decl_start..];
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let at_line_start = text[line_start..start].trim().is_empty();
    let mut ctx = Context::new(analysis, decl, at_line_start);
    ctx.run(&mut out);
    out
}

struct Context<'a, 's> {
    analysis: &'a Analysis,
    decl: &'a [Token<'s>],
    /// Only blanks precede the cursor on its line.
    at_line_start: bool,
    /// Open brackets and the index in `decl` of each one's opening token.
    stack: Vec<(Frame, usize)>,
}

impl<'a, 's> Context<'a, 's> {
    fn new(analysis: &'a Analysis, decl: &'a [Token<'s>], at_line_start: bool) -> Self {
        let mut stack: Vec<(Frame, usize)> = Vec::new();
        let keyword = &decl[0].1;
        for (i, (_, tok, _)) in decl.iter().enumerate() {
            let prev = |n: usize| i.checked_sub(n).map(|j| &decl[j].1);
            let frame = match tok {
                Tok::LBrace => Some(match (keyword, stack.is_empty(), prev(1), prev(2)) {
                    (Tok::Backend, true, _, _) => Frame::BackendFields,
                    (Tok::Test, true, _, _) => Frame::TestBody,
                    (_, _, Some(Tok::Given), _) => Frame::Given,
                    (_, _, Some(Tok::Ident(_)), Some(Tok::Expect)) => Frame::ExpectFields,
                    (_, _, Some(Tok::Ident(_)), Some(Tok::Arrow)) => Frame::ActionFields,
                    _ => Frame::Other,
                }),
                Tok::LParen => Some(match (keyword, prev(1)) {
                    (Tok::Signal, Some(Tok::Ident("category" | "set"))) => Frame::TypeLabels,
                    (Tok::Signal, Some(Tok::Ident(_))) => Frame::ExtractorArgs,
                    _ => Frame::Group,
                }),
                Tok::LBracket => Some(match (prev(1), prev(2)) {
                    (Some(Tok::In), Some(Tok::Ident(s))) => Frame::Labels(s.to_string()),
                    (Some(Tok::In), Some(Tok::Not)) => match prev(3) {
                        Some(Tok::Ident(s)) => Frame::Labels(s.to_string()),
                        _ => Frame::Other,
                    },
                    (Some(Tok::Ident(s)), _) if stack.last().is_none_or(|f| !f.0.has_fields()) => {
                        Frame::Labels(s.to_string())
                    }
                    _ => Frame::Other,
                }),
                Tok::RBrace | Tok::RParen | Tok::RBracket => {
                    stack.pop();
                    None
                }
                _ => None,
            };
            if let Some(f) = frame {
                stack.push((f, i));
            }
        }
        Context {
            analysis,
            decl,
            at_line_start,
            stack,
        }
    }

    fn tok(&self, back: usize) -> Option<&Tok<'s>> {
        self.decl
            .len()
            .checked_sub(back)
            .and_then(|i| self.decl.get(i))
            .map(|t| &t.1)
    }

    fn ident(&self, back: usize) -> Option<&'s str> {
        match self.tok(back) {
            Some(Tok::Ident(s)) => Some(s),
            _ => None,
        }
    }

    /// The key of the field whose value is being written in the innermost frame with fields,
    /// and whether the cursor is in the condition of an `if` inside that value.
    fn field_value(&self) -> Option<(&'s str, bool)> {
        let (frame, open) = self.stack.last()?;
        if !frame.has_fields() {
            return None;
        }
        let mut key = None;
        let mut in_condition = false;
        let mut depth = 0usize;
        for i in open + 1..self.decl.len() {
            match &self.decl[i].1 {
                Tok::LBrace | Tok::LParen | Tok::LBracket => depth += 1,
                Tok::RBrace | Tok::RParen | Tok::RBracket => depth = depth.saturating_sub(1),
                Tok::Comma if depth == 0 => {
                    key = None;
                    in_condition = false;
                }
                Tok::Colon if depth == 0 => {
                    key = match &self.decl[i - 1].1 {
                        Tok::Ident(k) => Some(*k),
                        _ => None,
                    }
                }
                Tok::If if depth == 0 => in_condition = true,
                Tok::Then if depth == 0 => in_condition = false,
                _ => {}
            }
        }
        key.map(|k| (k, in_condition))
    }

    fn run(&mut self, out: &mut Completions) {
        let keyword = self.decl[0].1.clone();
        let prev = self.tok(1).cloned();
        // `identity.` / `domain.`
        if prev == Some(Tok::Dot) {
            if let Some(base) = self.ident(2) {
                self.members(base, keyword == Tok::Signal, out);
            }
            return;
        }
        let frame = self.stack.last().map(|f| f.0.clone());
        match frame {
            Some(Frame::TypeLabels | Frame::Other) => {
                // Inside a list value: `fallback: [a, |` completes backends.
                if let Some(key) = self.enclosing_key() {
                    self.value_of(key, out);
                }
                return;
            }
            Some(Frame::Labels(signal)) => {
                if matches!(prev, Some(Tok::LBracket | Tok::Comma)) {
                    self.labels(&signal, out);
                }
                return;
            }
            // `max_tokens: if (a and |`: a condition inside an action's value.
            Some(Frame::Group) if self.stack.iter().any(|(f, _)| f.has_fields()) => {
                self.condition(prev.as_ref(), out);
                return;
            }
            Some(Frame::TestBody) => {
                if matches!(prev, Some(Tok::LBrace | Tok::RBrace)) {
                    out.words(&["given", "expect"]);
                } else if prev == Some(Tok::Expect) {
                    self.routes(out);
                }
                return;
            }
            Some(ref f) if f.has_fields() => {
                if matches!(prev, Some(Tok::LBrace | Tok::LParen | Tok::Comma)) {
                    self.keys(f, out);
                    return;
                }
                if let Some((key, in_condition)) = self.field_value() {
                    if in_condition || matches!(prev, Some(Tok::If)) {
                        self.condition(prev.as_ref(), out);
                    } else if matches!(prev, Some(Tok::Colon | Tok::Then | Tok::Else)) {
                        if *f == Frame::Given {
                            self.given_value(key, out);
                        } else {
                            self.value_of(key, out);
                            if prev == Some(Tok::Colon) && *f == Frame::ActionFields {
                                out.words(&["if"]);
                            }
                        }
                    }
                }
                return;
            }
            _ => {}
        }
        match keyword {
            Tok::Signal => match prev {
                Some(Tok::Colon) => out.push_table(vocabulary::TYPES, CompletionKind::Type),
                Some(Tok::Assign) => {
                    for (name, doc) in vocabulary::EXTRACTORS {
                        // `identity.role` is offered as `identity` then `.role`.
                        let first = name.split('.').next().unwrap_or(name);
                        if !out.items.iter().any(|c| c.label == first) {
                            out.push(first, CompletionKind::Extractor, None, Some(doc));
                        }
                    }
                }
                _ => {}
            },
            Tok::Route | Tok::Default => self.route(prev.as_ref(), out),
            Tok::Test if prev == Some(Tok::Expect) => self.routes(out),
            // `select |` then `select by |`.
            Tok::Select if self.decl.len() == 1 => {
                out.push("by", CompletionKind::Keyword, None, None)
            }
            Tok::Select if prev == Some(Tok::Ident("by")) => {
                out.push(
                    "priority",
                    CompletionKind::Value,
                    None,
                    Some("the first matching route wins (the default)"),
                );
                out.push(
                    "confidence",
                    CompletionKind::Value,
                    None,
                    Some("the most confident matching route of the highest priority wins"),
                );
            }
            _ => {}
        }
        if out.items.is_empty() && self.at_line_start && self.stack.is_empty() {
            out.keywords(vocabulary::DECLARATIONS);
        }
    }

    /// The key whose value contains the innermost (non-field) bracket: `fallback: [`.
    fn enclosing_key(&self) -> Option<&'s str> {
        let (_, open) = self.stack.last()?;
        match (
            open.checked_sub(1).map(|i| &self.decl[i].1),
            open.checked_sub(2),
        ) {
            (Some(Tok::Colon), Some(i)) => match &self.decl[i].1 {
                Tok::Ident(k) => Some(k),
                _ => None,
            },
            _ => None,
        }
    }

    fn route(&self, prev: Option<&Tok<'s>>, out: &mut Completions) {
        let after_arrow = self.decl.iter().any(|t| t.1 == Tok::Arrow);
        let after_when = self.decl.iter().any(|t| t.1 == Tok::When);
        match prev {
            Some(Tok::Arrow) => {
                self.backends(out);
                out.words(&["reject"]);
            }
            Some(Tok::Ident(_)) if self.decl.len() == 2 && self.decl[0].1 == Tok::Route => {
                out.words(&["priority", "when"]);
            }
            Some(Tok::Int(_)) if self.tok(2) == Some(&Tok::Priority) => {
                out.words(&["when"]);
            }
            _ if after_when && !after_arrow => self.condition(prev, out),
            _ => {}
        }
    }

    /// Inside a condition.
    fn condition(&self, prev: Option<&Tok<'s>>, out: &mut Completions) {
        match prev {
            Some(Tok::When | Tok::And | Tok::Or | Tok::Not | Tok::LParen | Tok::If) => {
                self.signals(out, |_| true);
                out.words(&["not", "true", "false"]);
            }
            Some(Tok::Eq | Tok::Ne) => {
                // `domain == |` (not `domain.confidence == |` nor `domain[math] == |`)
                if let (Some(signal), false) = (self.ident(2), self.tok(3) == Some(&Tok::Dot)) {
                    self.labels(signal, out);
                    if self.shape(signal).is_some_and(|s| s.ty == "bool") {
                        out.words(&["true", "false"]);
                    }
                }
            }
            Some(Tok::In) => {
                // `ssn in |`: the set signals that have that label, or any set signal.
                let label = self.ident(2);
                self.signals(out, |s| {
                    s.ty == "set" && label.is_none_or(|l| s.labels.iter().any(|x| x == l))
                });
            }
            Some(
                Tok::Ident(_)
                | Tok::RParen
                | Tok::RBracket
                | Tok::Int(_)
                | Tok::Float(_)
                | Tok::Str(_)
                | Tok::True
                | Tok::False,
            ) => {
                out.words(&["and", "or"]);
                // After a name: `ssn in pii`, `domain not in [...]`.
                if matches!(prev, Some(Tok::Ident(_))) {
                    out.words(&["in", "not"]);
                }
            }
            _ => {}
        }
    }

    fn keys(&self, frame: &Frame, out: &mut Completions) {
        let (table, kind) = match frame {
            Frame::BackendFields => (vocabulary::BACKEND_FIELDS, CompletionKind::Field),
            Frame::ActionFields => (vocabulary::ACTION_FIELDS, CompletionKind::Field),
            Frame::ExpectFields => (vocabulary::EXPECT_FIELDS, CompletionKind::Field),
            Frame::ExtractorArgs => {
                let open = self.stack.last().map_or(0, |f| f.1);
                let accepted = crate::check::named_args(&self.extractor_before(open));
                for name in accepted {
                    let doc = vocabulary::doc(vocabulary::EXTRACTOR_ARGS, name);
                    out.push(name, CompletionKind::Field, None, doc);
                }
                return;
            }
            Frame::Given => {
                self.signals(out, |_| true);
                return;
            }
            _ => return,
        };
        // Keys already written in this block are not offered again.
        let open = self.stack.last().map_or(0, |f| f.1);
        let written: Vec<&str> = self.decl[open..]
            .windows(2)
            .filter_map(|w| match (&w[0].1, &w[1].1) {
                (Tok::Ident(k), Tok::Colon) => Some(*k),
                _ => None,
            })
            .collect();
        for (name, doc) in table {
            if !written.contains(name) {
                out.push(name, kind, None, Some(doc));
            }
        }
    }

    /// The extractor path (`classifier`, `length.tokens`) written before the bracket at `open`.
    fn extractor_before(&self, open: usize) -> String {
        let mut parts = Vec::new();
        let mut i = open;
        while i > 0 {
            match &self.decl[i - 1].1 {
                Tok::Ident(p) => parts.push(*p),
                Tok::Dot => {}
                _ => break,
            }
            i -= 1;
        }
        parts.reverse();
        parts.join(".")
    }

    fn value_of(&self, key: &str, out: &mut Completions) {
        match key {
            "system_prompt" => self.prompts(out),
            "fallback" => self.backends(out),
            _ => {
                for w in value_words(key) {
                    out.push(w, CompletionKind::Value, None, None);
                }
            }
        }
    }

    fn given_value(&self, signal: &str, out: &mut Completions) {
        match self.shape(signal) {
            Some(s) if s.has_labels() => self.labels(signal, out),
            Some(s) if s.ty == "bool" => out.words(&["true", "false"]),
            _ => {}
        }
    }

    fn members(&self, base: &str, in_extractor: bool, out: &mut Completions) {
        if in_extractor {
            for (name, doc) in vocabulary::EXTRACTORS {
                if let Some(member) = name.strip_prefix(base).and_then(|m| m.strip_prefix('.')) {
                    out.push(member, CompletionKind::Extractor, None, Some(doc));
                }
            }
            return;
        }
        if let Some(shape) = self.shape(base) {
            for (ty, member, doc) in vocabulary::MEMBERS {
                if *ty == shape.ty {
                    out.push(member, CompletionKind::Member, None, Some(doc));
                }
            }
        }
    }

    fn shape(&self, signal: &str) -> Option<&'a super::index::SignalShape> {
        self.analysis.index.signals.get(signal)
    }

    fn signals(&self, out: &mut Completions, filter: impl Fn(&super::index::SignalShape) -> bool) {
        let mut names: Vec<(&String, &super::index::SignalShape)> =
            self.analysis.index.signals.iter().collect();
        names.sort_by_key(|(name, _)| *name);
        for (name, shape) in names {
            if filter(shape) {
                out.push(name, CompletionKind::Signal, Some(&shape.ty), None);
            }
        }
    }

    fn labels(&self, signal: &str, out: &mut Completions) {
        let Some(shape) = self.shape(signal).filter(|s| s.has_labels()) else {
            return;
        };
        for label in &shape.labels {
            let detail = format!("label of {signal}");
            let insert = if is_identifier(label) && !vocabulary::is_keyword(label) {
                label.clone()
            } else {
                lexer::escape(label)
            };
            out.items.push(Completion {
                label: label.clone(),
                kind: CompletionKind::Label,
                detail: Some(detail),
                documentation: None,
                insert,
            });
        }
    }

    fn declared(&self, out: &mut Completions, kind: CompletionKind) {
        declared(self.analysis, out, kind);
    }

    fn backends(&self, out: &mut Completions) {
        self.declared(out, CompletionKind::Backend);
    }

    fn prompts(&self, out: &mut Completions) {
        self.declared(out, CompletionKind::Prompt);
    }

    fn routes(&self, out: &mut Completions) {
        self.declared(out, CompletionKind::Route);
        out.push(
            "default",
            CompletionKind::Route,
            Some("the default route"),
            None,
        );
    }
}

/// The declared backends, prompts or routes (by `kind`), each once.
pub(super) fn declared(analysis: &Analysis, out: &mut Completions, kind: CompletionKind) {
    for item in analysis.program.items() {
        let (name, detail) = match (item, kind) {
            (Item::Backend(b), CompletionKind::Backend) => {
                let model = b.fields.iter().find(|f| f.key.name == "model");
                let detail = model.and_then(|f| match &f.value {
                    crate::syntax::ast::Value::Str(s) => Some(s.value.clone()),
                    _ => None,
                });
                (&b.name.name, detail)
            }
            (Item::Prompt(p), CompletionKind::Prompt) => {
                let mut preview: String = p.text.value.chars().take(60).collect();
                if preview.len() < p.text.value.len() {
                    preview.push('…');
                }
                (&p.name.name, Some(preview))
            }
            (Item::Route(r), CompletionKind::Route) => (
                &r.name.name,
                r.priority.map(|p| format!("priority {}", p.value)),
            ),
            _ => continue,
        };
        if !out.items.iter().any(|c| c.label == *name) {
            out.push(name, kind, detail.as_deref(), None);
        }
    }
}

/// Completes inside `decl`, the tokens of one declaration (starting with its keyword) before
/// the cursor: the YAML form's conditions and action values, written in `.route` syntax.
pub(super) fn in_declaration(analysis: &Analysis, decl: &[Token<'_>], out: &mut Completions) {
    if decl.is_empty() {
        return;
    }
    Context::new(analysis, decl, false).run(out);
}

impl Completions {
    fn push(
        &mut self,
        label: &str,
        kind: CompletionKind,
        detail: Option<&str>,
        documentation: Option<&str>,
    ) {
        self.items.push(Completion {
            label: label.to_string(),
            kind,
            detail: detail.map(str::to_string),
            documentation: documentation.map(str::to_string),
            insert: label.to_string(),
        });
    }

    fn keywords(&mut self, table: &[(&str, &str)]) {
        for (word, doc) in table {
            self.push(word, CompletionKind::Keyword, None, Some(doc));
        }
    }

    /// Keywords, with their documentation.
    fn words(&mut self, words: &[&str]) {
        for word in words {
            let doc = vocabulary::doc(vocabulary::KEYWORDS, word)
                .or_else(|| vocabulary::doc(vocabulary::DECLARATIONS, word));
            self.push(word, CompletionKind::Keyword, None, doc);
        }
    }

    fn push_table(&mut self, table: &[(&str, &str)], kind: CompletionKind) {
        for (word, doc) in table {
            self.push(word, kind, None, Some(doc));
        }
    }
}
