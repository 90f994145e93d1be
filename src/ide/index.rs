//! Every named thing of a program and every place it is written: the basis of go-to-definition,
//! find references, rename and part of hover.
//!
//! The index is built from the AST, not from the checked policy, so it exists while the file
//! has errors (which is most of the time in an editor). Names are resolved the way the checker
//! resolves them: each kind has its own namespace, the first declaration of a name wins, and a
//! bare name beside a `category` or `set` signal is one of that signal's labels. A name that
//! resolves to nothing is not indexed; the checker reports it.

use std::collections::HashMap;

use crate::source::Program;
use crate::syntax::ast::{self, Expr, InSet, Item, Name, Operand, Value};
use crate::syntax::{FileId, Span};

/// A declared thing, by kind and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    Signal(Name),
    Backend(Name),
    Prompt(Name),
    Route(Name),
    /// A label of a `category` or `set` signal.
    Label {
        signal: Name,
        label: Name,
    },
}

impl Symbol {
    pub fn name(&self) -> &str {
        match self {
            Symbol::Signal(n) | Symbol::Backend(n) | Symbol::Prompt(n) | Symbol::Route(n) => n,
            Symbol::Label { label, .. } => label,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Symbol::Signal(_) => "signal",
            Symbol::Backend(_) => "backend",
            Symbol::Prompt(_) => "prompt",
            Symbol::Route(_) => "route",
            Symbol::Label { .. } => "label",
        }
    }
}

/// One place a symbol is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub span: Span,
    pub symbol: Symbol,
    pub is_definition: bool,
    /// Written as a string literal (a label such as `"in-between"`): the span includes the
    /// quotes, and a rename must keep them.
    pub quoted: bool,
}

/// What a signal's declared type says about its labels, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignalShape {
    /// The type keyword as written (`category`, `score`, …).
    pub ty: String,
    pub labels: Vec<String>,
}

impl SignalShape {
    pub fn has_labels(&self) -> bool {
        matches!(self.ty.as_str(), "category" | "set")
    }
}

/// The occurrences of a program, sorted by file and position.
#[derive(Default)]
pub struct Index {
    occurrences: Vec<Occurrence>,
    /// The first declaration of each signal: what the checker resolves names against.
    pub signals: HashMap<String, SignalShape>,
    /// `include "path"` literals and the file each one loaded, when it was loaded.
    pub includes: Vec<(Span, FileId)>,
}

impl Index {
    pub fn build(program: &Program) -> Index {
        let mut index = Index::default();
        let mut declared_backends = std::collections::HashSet::new();
        let mut declared_prompts = std::collections::HashSet::new();
        let mut declared_routes = std::collections::HashSet::new();
        for item in program.items() {
            match item {
                Item::Signal(s) => {
                    index
                        .signals
                        .entry(s.name.name.to_string())
                        .or_insert_with(|| SignalShape {
                            ty: s.ty.name.name.to_string(),
                            labels: s
                                .ty
                                .labels
                                .iter()
                                .flatten()
                                .map(|l| l.name.to_string())
                                .collect(),
                        });
                }
                Item::Backend(b) => {
                    declared_backends.insert(b.name.name.to_string());
                }
                Item::Prompt(p) => {
                    declared_prompts.insert(p.name.name.to_string());
                }
                Item::Route(r) => {
                    declared_routes.insert(r.name.name.to_string());
                }
                _ => {}
            }
        }
        let mut walker = Walker {
            index: &mut index,
            backends: &declared_backends,
            prompts: &declared_prompts,
            routes: &declared_routes,
            found: Vec::new(),
        };
        for file in &program.files {
            for item in &file.ast.items {
                // Items do not overlap and come in file order, so sorting each item's few
                // occurrences usually sorts them all; sorting the whole list was a tenth of
                // every keystroke on a large policy.
                let from = walker.found.len();
                walker.item(item);
                walker.found[from..].sort_by_key(|o| (o.span.start, o.span.end));
            }
        }
        let mut found = std::mem::take(&mut walker.found);
        let key = |o: &Occurrence| (o.span.file, o.span.start, o.span.end);
        if !found.is_sorted_by_key(key) {
            found.sort_by_key(key);
        }
        index.occurrences = found;
        for file in &program.files {
            for item in &file.ast.items {
                if let Item::Include(inc) = item {
                    let dir = program
                        .sources
                        .get(file.id)
                        .path
                        .parent()
                        .map(std::path::Path::to_path_buf)
                        .unwrap_or_default();
                    let target = dir.join(&inc.path.value);
                    if let Some((id, _)) = program.sources.files().find(|(_, f)| f.path == target) {
                        index.includes.push((inc.path.span, id));
                    }
                }
            }
        }
        index
    }

    /// The occurrence under the cursor. A cursor just after a name (`domain|`) still counts,
    /// since that is where it sits after typing it; a cursor inside a name wins over one at its
    /// end.
    pub fn at(&self, file: FileId, offset: u32) -> Option<&Occurrence> {
        let start = self
            .occurrences
            .partition_point(|o| (o.span.file, o.span.start) <= (file, offset));
        let candidates = self.occurrences[..start]
            .iter()
            .rev()
            .take_while(|o| o.span.file == file)
            .take(4)
            .filter(|o| o.span.contains(offset));
        candidates.min_by_key(|o| (o.span.end == offset, o.span.len()))
    }

    pub fn occurrences(&self) -> &[Occurrence] {
        &self.occurrences
    }

    /// Every place `symbol` is written, declarations included, in file and position order.
    pub fn references<'a>(&'a self, symbol: &'a Symbol) -> impl Iterator<Item = &'a Occurrence> {
        self.occurrences.iter().filter(move |o| o.symbol == *symbol)
    }

    /// The first declaration of `symbol`, the one the checker resolves uses to.
    pub fn definition(&self, symbol: &Symbol) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .find(|o| o.is_definition && o.symbol == *symbol)
    }
}

struct Walker<'a> {
    index: &'a mut Index,
    backends: &'a std::collections::HashSet<String>,
    prompts: &'a std::collections::HashSet<String>,
    routes: &'a std::collections::HashSet<String>,
    found: Vec<Occurrence>,
}

impl Walker<'_> {
    fn add(&mut self, span: Span, symbol: Symbol, is_definition: bool, quoted: bool) {
        self.found.push(Occurrence {
            span,
            symbol,
            is_definition,
            quoted,
        });
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Signal(s) => {
                self.add(
                    s.name.span,
                    Symbol::Signal(s.name.name.clone()),
                    true,
                    false,
                );
                for l in s.ty.labels.iter().flatten() {
                    let label = Symbol::Label {
                        signal: s.name.name.clone(),
                        label: l.name.clone(),
                    };
                    self.add(l.span, label, true, l.quoted);
                }
            }
            Item::Backend(b) => self.add(
                b.name.span,
                Symbol::Backend(b.name.name.clone()),
                true,
                false,
            ),
            Item::Prompt(p) => self.add(
                p.name.span,
                Symbol::Prompt(p.name.name.clone()),
                true,
                false,
            ),
            Item::Route(r) => {
                self.add(r.name.span, Symbol::Route(r.name.name.clone()), true, false);
                self.expr(&r.condition);
                self.action(&r.action);
            }
            Item::Default(d) => self.action(&d.action),
            Item::Test(t) => self.test(t),
            Item::Include(_) | Item::Select(_) | Item::Error(_) => {}
        }
    }

    fn action(&mut self, action: &ast::Action) {
        let ast::Action::Backend {
            backend, fields, ..
        } = action
        else {
            return;
        };
        self.backend(backend);
        for f in fields {
            match f.key.name.as_str() {
                "system_prompt" => self.value(&f.value, &mut |w, leaf| w.prompt_value(leaf)),
                "fallback" => self.value(&f.value, &mut |w, leaf| match leaf {
                    Value::Name(n) => w.backend(n),
                    Value::List(items, _) => {
                        for i in items {
                            if let Value::Name(n) = i {
                                w.backend(n);
                            }
                        }
                    }
                    _ => {}
                }),
                _ => self.value(&f.value, &mut |_, _| {}),
            }
        }
    }

    fn backend(&mut self, name: &ast::Ident) {
        if self.backends.contains(name.name.as_str()) {
            self.add(name.span, Symbol::Backend(name.name.clone()), false, false);
        }
    }

    fn prompt_value(&mut self, v: &Value) {
        if let Value::Name(n) = v {
            if self.prompts.contains(n.name.as_str()) {
                self.add(n.span, Symbol::Prompt(n.name.clone()), false, false);
            }
        }
    }

    /// Walks a value, indexing the conditions of `if … then … else …` and handing each leaf
    /// value to `leaf`.
    fn value(&mut self, v: &Value, leaf: &mut dyn FnMut(&mut Self, &Value)) {
        match v {
            Value::If {
                condition,
                then,
                otherwise,
                ..
            } => {
                self.expr(condition);
                self.value(then, leaf);
                self.value(otherwise, leaf);
            }
            Value::Map(fields, _) => {
                for f in fields {
                    self.value(&f.value, &mut |_, _| {});
                }
            }
            other => leaf(self, other),
        }
    }

    fn test(&mut self, t: &ast::TestDecl) {
        for f in &t.given {
            let name = &f.key.name;
            if !self.index.signals.contains_key(name.as_str()) {
                continue;
            }
            self.add(f.key.span, Symbol::Signal(name.clone()), false, false);
            self.given_value(name, &f.value);
        }
        if self.routes.contains(t.expect.name.as_str()) {
            self.add(
                t.expect.span,
                Symbol::Route(t.expect.name.clone()),
                false,
                false,
            );
        }
        for f in &t.expect_fields {
            if f.key.name == "system_prompt" {
                self.prompt_value(&f.value);
            }
        }
    }

    /// A test's value for a labelled signal names labels: `math`, `math @ 0.9`, `[ssn, email]`.
    fn given_value(&mut self, signal: &str, v: &Value) {
        match v {
            Value::Name(n) => self.label_name(signal, &n.name, n.span, false),
            Value::Str(s) => self.label_name(signal, &s.value, s.span, true),
            Value::Scored(inner, _, _) => self.given_value(signal, inner),
            Value::List(items, _) => {
                for i in items {
                    self.given_value(signal, i);
                }
            }
            _ => {}
        }
    }

    /// Records `label` as a label of `signal` if that signal declares it.
    fn label_name(&mut self, signal: &str, label: &str, span: Span, quoted: bool) {
        let declared = self
            .index
            .signals
            .get(signal)
            .is_some_and(|s| s.has_labels() && s.labels.iter().any(|l| l == label));
        if declared {
            let symbol = Symbol::Label {
                signal: Name::from(signal),
                label: Name::from(label),
            };
            self.add(span, symbol, false, quoted);
        }
    }

    /// The signal a path reads, if its base names one.
    fn signal_of<'o>(&self, o: &'o Operand) -> Option<&'o ast::Path> {
        match o {
            Operand::Path(p) if self.index.signals.contains_key(p.base.name.as_str()) => Some(p),
            _ => None,
        }
    }

    /// A signal read: the base, and the label in `signal[label]`.
    fn path(&mut self, p: &ast::Path) {
        self.add(
            p.base.span,
            Symbol::Signal(p.base.name.clone()),
            false,
            false,
        );
        if let Some(l) = &p.index {
            self.label_name(&p.base.name, &l.name, l.span, l.quoted);
        }
    }

    /// An operand that may be a label of `signal`.
    fn label_operand(&mut self, signal: &str, o: &Operand) {
        match o {
            Operand::Path(p) if p.member.is_none() && p.index.is_none() => {
                self.label_name(signal, &p.base.name, p.base.span, false)
            }
            Operand::Str(s) => self.label_name(signal, &s.value, s.span, true),
            _ => {}
        }
    }

    fn operand(&mut self, o: &Operand) {
        if let Some(p) = self.signal_of(o) {
            self.path(p);
        }
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::And(items, _) | Expr::Or(items, _) => {
                for i in items {
                    self.expr(i);
                }
            }
            Expr::Not(inner, _) | Expr::Paren(inner, _) => self.expr(inner),
            Expr::Operand(o) => self.operand(o),
            Expr::Compare { lhs, rhs, .. } => {
                // `domain == math`: the side that reads a labelled signal as a whole makes the
                // other side one of its labels; otherwise both sides may read signals.
                let labelled = |w: &Self, o: &Operand| {
                    w.signal_of(o)
                        .filter(|p| p.member.is_none() && p.index.is_none())
                        .filter(|p| w.index.signals[p.base.name.as_str()].has_labels())
                        .map(|p| p.base.name.clone())
                };
                if let Some(signal) = labelled(self, lhs) {
                    self.operand(lhs);
                    self.label_operand(&signal, rhs);
                } else if let Some(signal) = labelled(self, rhs) {
                    self.operand(rhs);
                    self.label_operand(&signal, lhs);
                } else {
                    self.operand(lhs);
                    self.operand(rhs);
                }
            }
            Expr::In { lhs, set, .. } => match set {
                InSet::List(items, _) => {
                    let labelled = self
                        .signal_of(lhs)
                        .filter(|p| p.member.is_none() && p.index.is_none())
                        .map(|p| p.base.name.clone());
                    self.operand(lhs);
                    if let Some(signal) = labelled {
                        for i in items {
                            self.label_operand(&signal, i);
                        }
                    }
                }
                InSet::Operand(o) => {
                    // `ssn in pii`: a label of the set signal on the right.
                    let set_signal = self
                        .signal_of(o)
                        .filter(|p| p.member.is_none() && p.index.is_none())
                        .map(|p| p.base.name.clone());
                    self.operand(o);
                    match set_signal {
                        Some(signal) => self.label_operand(&signal, lhs),
                        None => self.operand(lhs),
                    }
                }
            },
            Expr::Error(_) => {}
        }
    }
}
