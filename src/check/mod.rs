//! Step three: AST to checked [`Policy`], with every diagnostic the policy deserves.
//!
//! The checker resolves every name against the declarations (signals, backends, prompts,
//! routes, labels), types conditions and action values, orders routes for evaluation and then
//! runs the lints. It never stops at the first problem: each declaration is checked on its own
//! and a declaration that failed is remembered as "poisoned" so that its uses do not produce
//! follow-on errors. The policy is returned only when there are no errors.
//!
//! Submodules: `extractors` (signal declarations), `conditions` (typing `when` clauses),
//! `values` (backends, actions, tests), `lints` (reachability, constant conditions, overlaps).

mod conditions;
mod extractors;
pub mod lints;
mod values;

pub(crate) use extractors::named_args;
// The vocabularies the language server documents are tested against these lists, so the two
// cannot drift apart.
#[cfg(test)]
pub(crate) use extractors::{EXTRACTORS, TYPES};
#[cfg(test)]
pub(crate) use values::{ACTION_FIELDS, BACKEND_FIELDS, EXPECT_FIELDS};

use crate::diagnostic::{codes, Diagnostic, Diagnostics};

/// The checker's name tables: short keys from the author's own text, so a fast hash without
/// protection against chosen collisions.
pub(crate) type FastMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<rustc_hash::FxHasher>>;
use crate::policy::*;
use crate::source::Program;
use crate::syntax::ast::{self, Item};
use crate::syntax::Span;
use FastMap as HashMap;

/// The result of checking: the policy when there were no errors, and all diagnostics.
pub struct Checked {
    pub policy: Option<Policy>,
    pub diagnostics: Diagnostics,
}

/// Checks a loaded program. `diagnostics` holds what loading and parsing found already; the
/// checker adds its own.
pub fn check(program: &Program, diagnostics: Diagnostics) -> Checked {
    check_with(program, diagnostics, None)
}

/// [`check`], reusing the lints' results of a previous version of the same policy where they
/// still apply (see [`lints::LintMemo`]); the result is the same.
pub fn check_with(
    program: &Program,
    mut diagnostics: Diagnostics,
    memo: Option<&mut lints::LintMemo>,
) -> Checked {
    let mut checker = Checker::default();
    let errors_before = diagnostics.has_errors();
    checker.run(program, errors_before, memo);
    diagnostics.items.extend(checker.diagnostics);
    let policy = if errors_before || diagnostics.has_errors() {
        None
    } else {
        checker.policy
    };
    Checked {
        policy,
        diagnostics,
    }
}

/// A declared signal as the checker sees it: `ty` is `None` when the declaration had an error,
/// in which case uses of the signal are not checked further.
pub(crate) struct SignalEntry {
    pub name: String,
    pub ty: Option<Type>,
    pub extractor: Option<Extractor>,
    pub span: Span,
    pub name_span: Span,
}

#[derive(Default)]
pub(crate) struct Checker {
    pub diagnostics: Vec<Diagnostic>,
    pub signals: Vec<SignalEntry>,
    pub signal_ids: HashMap<String, SignalId>,
    pub backends: Vec<Option<Backend>>,
    pub backend_ids: HashMap<String, BackendId>,
    pub backend_spans: Vec<Span>,
    pub prompts: Vec<Prompt>,
    pub prompt_ids: HashMap<String, PromptId>,
    /// How often each signal, backend and prompt is used by a route.
    pub signal_uses: Vec<u32>,
    pub backend_uses: Vec<u32>,
    pub prompt_uses: Vec<u32>,
    pub policy: Option<Policy>,
    /// `(keyword, name)` of declarations that did not parse: their uses are not reported as
    /// unknown, since the declaration's own error says what is wrong.
    pub broken: std::collections::HashSet<(&'static str, String)>,
}

impl Checker {
    pub fn error(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    /// The policy's `select by …`, at most one.
    fn selection(&mut self, items: &[&Item]) -> Selection {
        let mut selection = Selection::default();
        let mut first: Option<Span> = None;
        for item in items {
            let Item::Select(s) = item else { continue };
            if let Some(first) = first {
                self.error(
                    Diagnostic::new(&codes::E0217, s.span, "a second `select`")
                        .with_label("the policy already chose how routes are selected")
                        .with_related(first, "the first `select` is here")
                        .with_help("keep one `select by …` per policy"),
                );
                continue;
            }
            first = Some(s.span);
            if s.by.name != "by" {
                self.error(
                    Diagnostic::new(
                        &codes::E0217,
                        s.by.span,
                        format!("expected `by`, found `{}`", s.by.name),
                    )
                    .with_label("here")
                    .with_help("write `select by confidence` or `select by priority`"),
                );
                continue;
            }
            selection = match s.mode.name.as_str() {
                "priority" => Selection::Priority,
                "confidence" => Selection::Confidence,
                other => {
                    self.error(
                        Diagnostic::new(
                            &codes::E0217,
                            s.mode.span,
                            format!("unknown selection `{other}`"),
                        )
                        .with_label("not a way to select routes")
                        .with_help(
                            "routes are selected `by priority` (the default) or `by confidence`",
                        ),
                    );
                    continue;
                }
            };
        }
        selection
    }

    /// `syntax_errors`: loading or parsing reported errors, so parts of the policy are missing.
    fn run(&mut self, program: &Program, syntax_errors: bool, memo: Option<&mut lints::LintMemo>) {
        let items: Vec<&Item> = program.items().collect();
        if syntax_errors {
            self.broken = program
                .files
                .iter()
                .flat_map(|f| f.declared.iter().cloned())
                .collect();
            for item in &items {
                let keyword = match item {
                    Item::Signal(_) => "signal",
                    Item::Backend(_) => "backend",
                    Item::Prompt(_) => "prompt",
                    Item::Route(_) => "route",
                    _ => continue,
                };
                if let Some(name) = item.name() {
                    self.broken.remove(&(keyword, name.name.to_string()));
                }
            }
        }
        let selection = self.selection(&items);
        // Declarations first, so that routes can refer to things declared after them.
        for item in &items {
            match item {
                Item::Signal(s) => self.declare_signal(s),
                Item::Prompt(p) => self.declare_prompt(p),
                _ => {}
            }
        }
        for item in &items {
            if let Item::Backend(b) = item {
                self.declare_backend_name(b);
            }
        }
        for item in &items {
            if let Item::Backend(b) = item {
                self.check_backend(b);
            }
        }

        let mut routes: Vec<Option<Route>> = Vec::new();
        let mut route_names: HashMap<String, Span> = HashMap::default();
        let mut defaults: Vec<&ast::DefaultDecl> = Vec::new();
        for item in &items {
            match item {
                Item::Route(r) => {
                    if let Some(first) = route_names.get(r.name.name.as_str()) {
                        self.error(duplicate("route", &r.name, *first));
                    } else {
                        route_names.insert(r.name.name.to_string(), r.name.span);
                    }
                    routes.push(self.check_route(r));
                }
                Item::Default(d) => {
                    if let Some(first) = defaults.first() {
                        self.error(
                            Diagnostic::new(&codes::E0214, d.keyword, "duplicate default route")
                                .with_label("a second default route")
                                .with_related(first.keyword, "the first default route is here")
                                .with_help("a policy has exactly one default route; remove one"),
                        );
                    } else {
                        routes.push(self.check_default(d));
                    }
                    defaults.push(d);
                }
                _ => {}
            }
        }
        // Declarations that did not parse may have held the default route or the uses of a
        // declaration: the checks that need the whole file are skipped then, not guessed.
        let complete = !syntax_errors;
        if defaults.is_empty() && complete {
            let end = program.files.first().map(|f| {
                let e = f.ast.span.end;
                Span {
                    file: f.id,
                    start: e,
                    end: e,
                }
            });
            self.error(
                Diagnostic::new(
                    &codes::E0213,
                    end.unwrap_or_default(),
                    "missing default route",
                )
                .with_label("the policy ends without a default route")
                .with_help(match self.backends.iter().flatten().next() {
                    Some(b) => format!(
                        "add `default => {}` so that every request gets a decision",
                        b.name
                    ),
                    None => {
                        "add `default => BACKEND` so that every request gets a decision".to_string()
                    }
                }),
            );
        }

        let mut tests = Vec::new();
        let ordered = order_routes(&routes);
        for item in &items {
            if let Item::Test(t) = item {
                if let Some(t) = self.check_test(t, &ordered, &route_names) {
                    tests.push(t);
                }
            }
        }

        // A use that failed to check may have been the only one: with errors, "unused"
        // would often be wrong.
        if complete
            && !self
                .diagnostics
                .iter()
                .any(|d| d.severity() == crate::diagnostic::Severity::Error)
        {
            self.report_unused();
        }

        let all_routes: Option<Vec<Route>> = routes.into_iter().collect();
        let signals: Option<Vec<Signal>> = self
            .signals
            .iter()
            .map(|s| {
                Some(Signal {
                    name: s.name.clone(),
                    ty: s.ty.clone()?,
                    extractor: s.extractor.clone()?,
                    span: s.span,
                    name_span: s.name_span,
                })
            })
            .collect();
        let backends: Option<Vec<Backend>> = self.backends.iter().cloned().collect();
        if let (Some(mut routes), Some(signals), Some(backends)) = (all_routes, signals, backends) {
            sort_routes(&mut routes);
            let policy = Policy {
                signals,
                backends,
                prompts: self.prompts.clone(),
                routes,
                tests,
                selection,
            };
            self.diagnostics.extend(lints::lint_with(&policy, memo));
            self.policy = Some(policy);
        }
    }

    fn declare_prompt(&mut self, p: &ast::PromptDecl) {
        if let Some(&id) = self.prompt_ids.get(p.name.name.as_str()) {
            let first = self.prompts[id.0 as usize].name_span;
            self.error(duplicate("prompt", &p.name, first));
            return;
        }
        if p.text.value.trim().is_empty() {
            self.error(
                Diagnostic::new(&codes::E0306, p.text.span, "empty prompt")
                    .with_label("this prompt has no text")
                    .with_help("write the system prompt's text, or remove the declaration"),
            );
        }
        let id = PromptId(self.prompts.len() as u32);
        self.prompt_ids.insert(p.name.name.to_string(), id);
        self.prompts.push(Prompt {
            name: p.name.name.to_string(),
            text: p.text.value.clone(),
            span: p.span,
            name_span: p.name.span,
        });
        self.prompt_uses.push(0);
    }

    fn declare_backend_name(&mut self, b: &ast::BackendDecl) {
        if let Some(&id) = self.backend_ids.get(b.name.name.as_str()) {
            let first = self.backend_spans[id.0 as usize];
            self.error(duplicate("backend", &b.name, first));
            return;
        }
        let id = BackendId(self.backends.len() as u32);
        self.backend_ids.insert(b.name.name.to_string(), id);
        self.backends.push(None);
        self.backend_spans.push(b.name.span);
        self.backend_uses.push(0);
    }

    /// Looks up a backend by name, reporting an unknown one. Counts the use.
    pub fn resolve_backend(&mut self, name: &ast::Ident) -> Option<BackendId> {
        match self.backend_ids.get(name.name.as_str()) {
            Some(&id) => {
                self.backend_uses[id.0 as usize] += 1;
                Some(id)
            }
            None if self.broken.contains(&("backend", name.name.to_string())) => None,
            None => {
                let candidates: Vec<String> = self.backend_ids.keys().cloned().collect();
                let d = Diagnostic::new(
                    &codes::E0203,
                    name.span,
                    format!("unknown backend `{}`", name.name),
                )
                .with_label("no backend of this name is declared")
                .with_suggestion(
                    &name.name,
                    name.span,
                    candidates.iter().map(String::as_str),
                );
                let d = if d.help.is_none() {
                    d.with_help(format!(
                        "declare it: `backend {} {{ url: \"…\", model: \"…\" }}`",
                        name.name
                    ))
                } else {
                    d
                };
                self.error(d);
                None
            }
        }
    }

    fn check_route(&mut self, r: &ast::RouteDecl) -> Option<Route> {
        let condition = self.condition(&r.condition);
        let action = self.action(&r.action);
        Some(Route {
            name: r.name.name.to_string(),
            priority: r.priority.map_or(0, |p| p.value),
            explicit_priority: r.priority.is_some(),
            condition: condition?,
            action: action?,
            is_default: false,
            span: r.span,
            name_span: r.name.span,
            condition_span: r.condition.span(),
        })
    }

    fn check_default(&mut self, d: &ast::DefaultDecl) -> Option<Route> {
        let action = self.action(&d.action)?;
        Some(Route {
            name: "default".to_string(),
            priority: i64::MIN,
            explicit_priority: false,
            condition: Cond::True,
            action,
            is_default: true,
            span: d.span,
            name_span: d.keyword,
            condition_span: d.keyword,
        })
    }

    fn report_unused(&mut self) {
        let mut found = Vec::new();
        for (i, s) in self.signals.iter().enumerate() {
            if self.signal_uses[i] == 0 && self.signal_ids.get(&s.name) == Some(&SignalId(i as u32))
            {
                found.push(
                    Diagnostic::new(
                        &codes::W0005,
                        s.name_span,
                        format!("unused signal `{}`", s.name),
                    )
                    .with_label("no route reads this signal")
                    .with_help("remove the declaration, or use it in a route's condition"),
                );
            }
        }
        for (i, b) in self.backend_spans.iter().enumerate() {
            if self.backend_uses[i] == 0 {
                let name = self
                    .backend_ids
                    .iter()
                    .find(|(_, id)| id.0 as usize == i)
                    .map(|(n, _)| n.clone())
                    .unwrap_or_default();
                found.push(
                    Diagnostic::new(&codes::W0006, *b, format!("unused backend `{name}`"))
                        .with_label("no route sends requests here")
                        .with_help("remove the declaration, or route to it"),
                );
            }
        }
        for (i, p) in self.prompts.iter().enumerate() {
            if self.prompt_uses[i] == 0 {
                found.push(
                    Diagnostic::new(
                        &codes::W0007,
                        p.name_span,
                        format!("unused prompt `{}`", p.name),
                    )
                    .with_label("no route uses this prompt")
                    .with_help("remove the declaration, or set it with `system_prompt:`"),
                );
            }
        }
        self.diagnostics.extend(found);
    }
}

/// `E0205` for a second declaration of `name`.
pub(crate) fn duplicate(kind: &str, name: &ast::Ident, first: Span) -> Diagnostic {
    Diagnostic::new(
        &codes::E0205,
        name.span,
        format!("duplicate {kind} `{}`", name.name),
    )
    .with_label(format!("a second {kind} named `{}`", name.name))
    .with_related(first, "first declared here")
    .with_help(format!(
        "rename one of them; {kind} names are unique across the policy and its includes"
    ))
}

/// Evaluation order: priority descending, then source order; the default route last.
pub fn sort_routes(routes: &mut [Route]) {
    // A stable sort keeps source order among equal priorities.
    routes.sort_by_key(|r| (r.is_default, std::cmp::Reverse(r.priority)));
}

/// Route names in evaluation order (for tests, which may name routes before they are built).
fn order_routes(routes: &[Option<Route>]) -> Vec<String> {
    let mut named: Vec<&Route> = routes.iter().flatten().collect();
    named.sort_by_key(|r| (r.is_default, std::cmp::Reverse(r.priority)));
    named.into_iter().map(|r| r.name.clone()).collect()
}
