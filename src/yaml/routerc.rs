//! The routerc YAML form: the policy language spelled in YAML, both ways.
//!
//! ```yaml
//! signals:
//!   jailbreak: { type: score, extractor: classifier, args: [jailbreak], options: { label: jailbreak } }
//! backends:
//!   small: { url: "http://127.0.0.1:8001/v1", model: smollm2-135m }
//! routes:
//!   block: { priority: 10, when: jailbreak > 0.9, reject: { status: 403, message: blocked } }
//! default: { backend: small }
//! ```
//!
//! Conditions are strings in the `.route` condition syntax, parsed by the `.route` parser with
//! their spans mapped back into the YAML file. Where the language takes a name (a reasoning
//! effort, a prompt, a fallback backend, a test's label), a plain scalar that is an
//! identifier is a name and a quoted one is a string, exactly as in `.route`; everywhere else
//! every scalar is a string. [`to_yaml`] writes this form from an AST, [`to_route`] writes
//! `.route` text from an AST with notes as comments.

use super::node::{Entry, Node, Value as Y};
use super::Reader;
use crate::diagnostic::{codes, Diagnostic};
use crate::syntax::ast::*;
use crate::syntax::{parse, Span};

const TOP: &[&str] = &[
    "include", "select", "signals", "backends", "prompts", "routes", "default", "tests",
];
const SIGNAL: &[&str] = &["type", "labels", "extractor", "args", "options"];
const ROUTE: &[&str] = &["priority", "when", "backend", "with", "reject"];
const DEFAULT: &[&str] = &["backend", "with", "reject"];
const REJECT: &[&str] = &["status", "message"];
const TEST: &[&str] = &["name", "given", "expect", "with"];

/// Keys whose plain identifier values are names (as in `.route`), not strings.
const NAME_KEYS: &[&str] = &[
    "reasoning",
    "reasoning_effort",
    "system_prompt_mode",
    "system_prompt",
    "fallback",
    "mode",
    "aggregate",
    "text",
];

pub fn lower(r: &mut Reader<'_>, root: &Node) -> Vec<Item> {
    let mut items = Vec::new();
    let Some(top) = r.map(root, "a routerc YAML policy", TOP) else {
        return items;
    };
    for e in top {
        match e.key.as_str() {
            "include" => {
                let Some(paths) = r.seq(&e.value, "`include`") else {
                    continue;
                };
                for p in paths {
                    if let Some(path) = r.str(p, "an included path") {
                        items.push(Item::Include(Include {
                            path: StrLit {
                                value: path.to_string(),
                                span: p.span,
                            },
                            span: p.span,
                        }));
                    }
                }
            }
            // `select: confidence` is `select by confidence`.
            "select" => {
                if let Some(mode) = r.text_of(&e.value, "`select`") {
                    items.push(Item::Select(SelectDecl {
                        by: Ident {
                            name: "by".into(),
                            span: e.key_span,
                        },
                        mode: Ident {
                            name: mode.into(),
                            span: e.value.span,
                        },
                        span: Reader::entry_span(e),
                    }));
                }
            }
            "signals" => each_named(r, &e.value, "`signals`", |r, name, e| {
                signal(r, name, e).map(|s| Item::Signal(Box::new(s)))
            })
            .into_iter()
            .for_each(|i| items.push(i)),
            "backends" => each_named(r, &e.value, "`backends`", |r, name, e| {
                let fields = fields(r, &e.value, "a backend", false)?;
                Some(Item::Backend(BackendDecl {
                    name,
                    fields,
                    span: Reader::entry_span(e),
                }))
            })
            .into_iter()
            .for_each(|i| items.push(i)),
            "prompts" => each_named(r, &e.value, "`prompts`", |r, name, e| {
                let text = r.str(&e.value, "a prompt")?;
                Some(Item::Prompt(PromptDecl {
                    name,
                    text: StrLit {
                        value: text.to_string(),
                        span: e.value.span,
                    },
                    span: Reader::entry_span(e),
                }))
            })
            .into_iter()
            .for_each(|i| items.push(i)),
            "routes" => each_named(r, &e.value, "`routes`", |r, name, e| {
                route(r, name, e).map(|x| Item::Route(Box::new(x)))
            })
            .into_iter()
            .for_each(|i| items.push(i)),
            "default" => {
                if let Some(action) = action(r, &e.value, "the default route", DEFAULT) {
                    items.push(Item::Default(DefaultDecl {
                        action,
                        span: Reader::entry_span(e),
                        keyword: e.key_span,
                    }));
                }
            }
            "tests" => {
                let Some(tests) = r.seq(&e.value, "`tests`") else {
                    continue;
                };
                for t in tests {
                    if let Some(t) = test(r, t) {
                        items.push(Item::Test(Box::new(t)));
                    }
                }
            }
            _ => {}
        }
    }
    items
}

/// Calls `f` for each entry of a mapping keyed by declaration names.
fn each_named(
    r: &mut Reader<'_>,
    node: &Node,
    what: &str,
    mut f: impl FnMut(&mut Reader<'_>, Ident, &Entry) -> Option<Item>,
) -> Vec<Item> {
    let mut out = Vec::new();
    let Some(entries) = names_map(r, node, what) else {
        return out;
    };
    for e in entries {
        let name = Ident {
            name: e.key.as_str().into(),
            span: e.key_span,
        };
        match f(r, name, e) {
            Some(item) => out.push(item),
            None => {
                let kind = match what {
                    "`signals`" => "signal",
                    "`backends`" => "backend",
                    "`prompts`" => "prompt",
                    _ => "route",
                };
                r.declared.push((kind, e.key.clone()));
            }
        }
    }
    out
}

/// The entries of a mapping whose keys are names the author chose (so none is unknown).
fn names_map<'n>(r: &mut Reader<'_>, node: &'n Node, what: &str) -> Option<&'n [Entry]> {
    match &node.value {
        Y::Map(entries) => Some(entries),
        Y::Null => Some(&[]),
        _ => {
            r.wrong(node, what, "a mapping");
            None
        }
    }
}

fn signal(r: &mut Reader<'_>, name: Ident, e: &Entry) -> Option<SignalDecl> {
    let what = format!("signal `{}`", name.name);
    r.map(&e.value, &what, SIGNAL)?;
    let ty_node = r.required(&e.value, "type", &what)?;
    let ty_name = r.str(ty_node, "a signal's `type`")?;
    let labels = match e.value.get("labels") {
        Some(l) => {
            let items = r.seq(l, "`labels`")?;
            let mut labels = Vec::new();
            for item in items {
                let text = r.text_of(item, "a label")?;
                let plain = matches!(item.value, Y::Str { plain: true, .. });
                labels.push(Label {
                    quoted: !(plain && is_name(&text)),
                    name: crate::syntax::ast::Name::from(text),
                    span: item.span,
                });
            }
            Some(labels)
        }
        None => None,
    };
    let ty = TypeExpr {
        name: Ident {
            name: crate::syntax::ast::Name::from(ty_name),
            span: ty_node.span,
        },
        labels,
        span: ty_node.span,
    };
    let ex_node = r.required(&e.value, "extractor", &what)?;
    let ex_text = r.str(ex_node, "a signal's `extractor`")?;
    let path = ex_text
        .split('.')
        .map(|p| Ident {
            name: crate::syntax::ast::Name::from(p),
            span: ex_node.span,
        })
        .collect();
    let mut args: Option<Vec<Arg>> = None;
    if let Some(a) = e.value.get("args") {
        let list = r.seq(a, "`args`")?;
        let mut out = Vec::new();
        for v in list {
            out.push(Arg {
                name: None,
                value: value(r, v, false)?,
                span: v.span,
            });
        }
        args = Some(out);
    }
    if let Some(o) = e.value.get("options") {
        let entries = names_map(r, o, "`options`")?;
        let list = args.get_or_insert_with(Vec::new);
        for f in entries {
            list.push(Arg {
                name: Some(Ident {
                    name: f.key.as_str().into(),
                    span: f.key_span,
                }),
                value: value(r, &f.value, NAME_KEYS.contains(&f.key.as_str()))?,
                span: Reader::entry_span(f),
            });
        }
    }
    Some(SignalDecl {
        name,
        ty,
        extractor: Extractor {
            path,
            args,
            span: ex_node.span,
        },
        span: Reader::entry_span(e),
    })
}

fn route(r: &mut Reader<'_>, name: Ident, e: &Entry) -> Option<RouteDecl> {
    let what = format!("route `{}`", name.name);
    r.map(&e.value, &what, ROUTE)?;
    let priority = match e.value.get("priority") {
        Some(p) => Some(Priority {
            value: r.int(p, "`priority`")?,
            span: p.span,
        }),
        None => None,
    };
    let when = r.required(&e.value, "when", &what)?;
    let condition = condition(r, when)?;
    let action = action(r, &e.value, &what, ROUTE)?;
    Some(RouteDecl {
        name,
        priority,
        condition,
        action,
        span: Reader::entry_span(e),
    })
}

/// `backend:` with optional `with:`, or `reject:`.
fn action(r: &mut Reader<'_>, node: &Node, what: &str, known: &[&str]) -> Option<Action> {
    r.map(node, what, known)?;
    match (node.get("backend"), node.get("reject")) {
        (Some(b), None) => {
            let name = r.str(b, "`backend`")?;
            let fields = match node.get("with") {
                Some(w) => fields(r, w, "`with`", true)?,
                None => Vec::new(),
            };
            Some(Action::Backend {
                backend: Ident {
                    name: crate::syntax::ast::Name::from(name),
                    span: b.span,
                },
                fields,
                span: node.span,
            })
        }
        (None, Some(j)) => {
            r.map(j, "`reject`", REJECT)?;
            let status = r.required(j, "status", "`reject`")?;
            let message = r.required(j, "message", "`reject`")?;
            let code = r.int(status, "`status`")?;
            let text = r.text_of(message, "`message`")?;
            if let Some(w) = node.get("with") {
                r.push(
                    Diagnostic::new(&codes::E0405, w.span, "a rejection takes no `with`")
                        .with_label("nothing is sent to a backend"),
                );
            }
            Some(Action::Reject {
                status: IntLit {
                    value: code,
                    span: status.span,
                },
                message: StrLit {
                    value: text,
                    span: message.span,
                },
                span: node.span,
            })
        }
        (Some(b), Some(_)) => {
            r.push(
                Diagnostic::new(
                    &codes::E0406,
                    b.span,
                    format!("{what} has both `backend` and `reject`"),
                )
                .with_label("a route either forwards or rejects")
                .with_help("remove one of them"),
            );
            None
        }
        (None, None) => {
            r.push(
                Diagnostic::new(
                    &codes::E0407,
                    node.span,
                    format!("{what} has no `backend` or `reject`"),
                )
                .with_label("no action")
                .with_help("add `backend: NAME` or `reject: { status: 403, message: \"…\" }`"),
            );
            None
        }
    }
}

fn test(r: &mut Reader<'_>, node: &Node) -> Option<TestDecl> {
    r.map(node, "a test", TEST)?;
    let name_node = r.required(node, "name", "a test")?;
    let name = r.text_of(name_node, "a test's `name`")?;
    let expect_node = r.required(node, "expect", "a test")?;
    let expect = r.str(expect_node, "`expect`")?;
    let given = match node.get("given") {
        Some(g) => fields(r, g, "`given`", true)?,
        None => Vec::new(),
    };
    let expect_fields = match node.get("with") {
        Some(w) => fields(r, w, "`with`", true)?,
        None => Vec::new(),
    };
    Some(TestDecl {
        name: StrLit {
            value: name,
            span: name_node.span,
        },
        given,
        expect: Ident {
            name: crate::syntax::ast::Name::from(expect),
            span: expect_node.span,
        },
        expect_fields,
        span: node.span,
    })
}

/// The entries of a mapping as `key: value` fields. A plain identifier is a name under
/// [`NAME_KEYS`], and anywhere in a test's `given` (`what`) when `names` is set.
fn fields(r: &mut Reader<'_>, node: &Node, what: &str, names: bool) -> Option<Vec<Field>> {
    let Some(entries) = node.as_map() else {
        if matches!(node.value, Y::Null) {
            return Some(Vec::new());
        }
        r.wrong(node, what, "a mapping");
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for e in entries {
        // Every value a test gives is read like `.route` (`math` a label, `"math"` a string).
        let as_name = NAME_KEYS.contains(&e.key.as_str()) || (names && what == "`given`");
        match value(r, &e.value, as_name) {
            Some(v) => out.push(Field {
                key: Ident {
                    name: e.key.as_str().into(),
                    span: e.key_span,
                },
                value: v,
                span: Reader::entry_span(e),
            }),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// A YAML node as a policy value. `names`: a plain identifier is a name.
fn value(r: &mut Reader<'_>, node: &Node, names: bool) -> Option<Value> {
    let span = node.span;
    Some(match &node.value {
        Y::Null => Value::Name(Ident {
            name: "null".into(),
            span,
        }),
        Y::Bool(b) => Value::Bool(*b, span),
        Y::Int(i) => Value::Int(IntLit { value: *i, span }),
        Y::Float(f) if f.is_finite() => Value::Float(FloatLit { value: *f, span }),
        Y::Float(_) => {
            r.wrong(node, "a value", "a finite number");
            return None;
        }
        Y::Str { value, plain } => {
            if *plain {
                if let Some(ms) = duration(value) {
                    return Some(Value::Duration(ms, span));
                }
            }
            if *plain && names && is_name(value) {
                Value::Name(Ident {
                    name: value.as_str().into(),
                    span,
                })
            } else {
                Value::Str(StrLit {
                    value: value.clone(),
                    span,
                })
            }
        }
        Y::Seq(items) => {
            let mut out = Vec::new();
            for i in items {
                out.push(value(r, i, names)?);
            }
            Value::List(out, span)
        }
        Y::Map(entries) => {
            let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
            if keys == ["if", "then", "else"] {
                let cond = condition(r, &entries[0].value)?;
                let then = value(r, &entries[1].value, names)?;
                let otherwise = value(r, &entries[2].value, names)?;
                Value::If {
                    condition: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                    span,
                }
            } else if keys == ["label", "confidence"] {
                let label = value(r, &entries[0].value, true)?;
                let c = r.number(&entries[1].value, "`confidence`")?;
                Value::Scored(
                    Box::new(label),
                    FloatLit {
                        value: c,
                        span: entries[1].value.span,
                    },
                    span,
                )
            } else {
                Value::Map(fields(r, node, "a map", names)?, span)
            }
        }
    })
}

/// `250ms`, `30s`, `2m` in milliseconds.
fn duration(text: &str) -> Option<u64> {
    let (digits, scale) = if let Some(d) = text.strip_suffix("ms") {
        (d, 1)
    } else if let Some(d) = text.strip_suffix('s') {
        (d, 1_000)
    } else if let Some(d) = text.strip_suffix('m') {
        (d, 60_000)
    } else {
        return None;
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

/// Whether `s` can be written as a bare name in `.route` (an identifier, not a keyword).
pub fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&s)
}

const KEYWORDS: &[&str] = &[
    "signal", "backend", "prompt", "route", "default", "priority", "select", "when", "reject",
    "include", "test", "given", "expect", "and", "or", "not", "in", "if", "then", "else", "true",
    "false",
];

/// The text every wrapped condition starts with; the condition's offsets in the wrapper are
/// offsets in the YAML file plus this length.
const WRAP: &str = "route r when ";

/// Parses a condition written as a YAML string with the `.route` parser. Spans are mapped into
/// the YAML file when the scalar's text is its source text (no escapes or folding); otherwise
/// every span is the scalar's.
pub fn condition(r: &mut Reader<'_>, node: &Node) -> Option<Expr> {
    let text = match &node.value {
        Y::Str { value, .. } => value.clone(),
        Y::Bool(b) => b.to_string(),
        _ => {
            r.wrong(node, "a condition", "a string such as `domain == math`");
            return None;
        }
    };
    let wrapped = format!("{WRAP}{text} => b");
    let parsed = parse(&wrapped, r.file);
    // Where the condition's text starts in the YAML file, if it is there verbatim.
    let source = r.text.get(node.span.range()).unwrap_or_default();
    let start = if source == text {
        Some(node.span.start as usize)
    } else if source.len() == text.len() + 2 && source.get(1..source.len() - 1) == Some(&text) {
        Some(node.span.start as usize + 1)
    } else {
        None
    };
    let whole = node.span;
    let map = |s: Span| -> Span {
        match start {
            Some(base)
                if s.start as usize >= WRAP.len() && s.end as usize <= WRAP.len() + text.len() =>
            {
                Span::new(
                    whole.file,
                    base + s.start as usize - WRAP.len(),
                    base + s.end as usize - WRAP.len(),
                )
            }
            _ => whole,
        }
    };
    let mut errors = false;
    for mut d in parsed.diagnostics {
        errors |= d.severity() == crate::diagnostic::Severity::Error;
        d.span = map(d.span);
        for (s, _) in &mut d.related {
            *s = map(*s);
        }
        for f in &mut d.fixes {
            f.span = map(f.span);
        }
        r.push(d);
    }
    match parsed.file.items.as_slice() {
        [Item::Route(route)] if !errors => {
            let mut e = route.condition.clone();
            remap_expr(&mut e, &map);
            Some(e)
        }
        _ if errors => None,
        _ => {
            r.push(
                Diagnostic::new(&codes::E0101, whole, "a condition must be one expression")
                    .with_label("this is more than a condition")
                    .with_help(
                        "write only the condition, such as `domain == math and jailbreak < 0.5`",
                    ),
            );
            None
        }
    }
}

fn remap_expr(e: &mut Expr, map: &dyn Fn(Span) -> Span) {
    match e {
        Expr::And(items, s) | Expr::Or(items, s) => {
            *s = map(*s);
            items.iter_mut().for_each(|i| remap_expr(i, map));
        }
        Expr::Not(inner, s) | Expr::Paren(inner, s) => {
            *s = map(*s);
            remap_expr(inner, map);
        }
        Expr::Compare {
            lhs,
            op_span,
            rhs,
            span,
            ..
        } => {
            *op_span = map(*op_span);
            *span = map(*span);
            remap_operand(lhs, map);
            remap_operand(rhs, map);
        }
        Expr::In { lhs, set, span, .. } => {
            *span = map(*span);
            remap_operand(lhs, map);
            match set {
                InSet::List(items, s) => {
                    *s = map(*s);
                    items.iter_mut().for_each(|o| remap_operand(o, map));
                }
                InSet::Operand(o) => remap_operand(o, map),
            }
        }
        Expr::Operand(o) => remap_operand(o, map),
        Expr::Error(s) => *s = map(*s),
    }
}

fn remap_operand(o: &mut Operand, map: &dyn Fn(Span) -> Span) {
    match o {
        Operand::Path(p) => {
            p.span = map(p.span);
            p.base.span = map(p.base.span);
            if let Some(m) = &mut p.member {
                m.span = map(m.span);
            }
            if let Some(i) = &mut p.index {
                i.span = map(i.span);
            }
        }
        Operand::Str(s) => s.span = map(s.span),
        Operand::Int(i) => i.span = map(i.span),
        Operand::Float(f) => f.span = map(f.span),
        Operand::Bool(_, s) => *s = map(*s),
    }
}

// ---------------------------------------------------------------------------------------
// Writing: AST to routerc YAML, AST to `.route`.

/// The routerc YAML text of a policy's items. Comments are not carried (YAML readers drop
/// them too); everything else is, so reading the text back gives the same tree.
pub fn to_yaml(file: &File) -> String {
    let mut w = Yaml::default();
    let includes: Vec<&Include> = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Include(x) => Some(x),
            _ => None,
        })
        .collect();
    if !includes.is_empty() {
        w.line(0, "include:");
        for i in includes {
            w.line(0, &format!("  - {}", scalar(&i.path.value, false)));
        }
    }
    for item in &file.items {
        if let Item::Select(s) = item {
            w.blank();
            w.line(0, &format!("select: {}", scalar(&s.mode.name, true)));
        }
    }
    let section = |w: &mut Yaml, title: &str, pick: &dyn Fn(&Item) -> bool| {
        let mut first = true;
        for item in file.items.iter().filter(|i| pick(i)) {
            if first {
                w.blank();
                w.line(0, title);
                first = false;
            }
            w.item(item);
        }
    };
    section(&mut w, "signals:", &|i| matches!(i, Item::Signal(_)));
    section(&mut w, "backends:", &|i| matches!(i, Item::Backend(_)));
    section(&mut w, "prompts:", &|i| matches!(i, Item::Prompt(_)));
    section(&mut w, "routes:", &|i| matches!(i, Item::Route(_)));
    for item in &file.items {
        if let Item::Default(d) = item {
            w.blank();
            w.line(0, "default:");
            w.action(1, &d.action);
        }
    }
    section(&mut w, "tests:", &|i| matches!(i, Item::Test(_)));
    w.out
}

#[derive(Default)]
struct Yaml {
    out: String,
}

impl Yaml {
    fn line(&mut self, indent: usize, text: &str) {
        for _ in 0..indent {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Signal(s) => {
                self.line(1, &format!("{}:", key(&s.name.name)));
                self.line(2, &format!("type: {}", scalar(&s.ty.name.name, true)));
                if let Some(labels) = &s.ty.labels {
                    let labels: Vec<String> =
                        labels.iter().map(|l| scalar(&l.name, !l.quoted)).collect();
                    self.line(2, &format!("labels: [{}]", labels.join(", ")));
                }
                let path: Vec<&str> = s.extractor.path.iter().map(|p| p.name.as_str()).collect();
                self.line(2, &format!("extractor: {}", scalar(&path.join("."), true)));
                if let Some(args) = &s.extractor.args {
                    let positional: Vec<&Arg> = args.iter().filter(|a| a.name.is_none()).collect();
                    // An empty argument list `()` is kept as `args: []`.
                    if !positional.is_empty() || args.is_empty() {
                        self.line(2, "args:");
                        if positional.is_empty() {
                            self.out.truncate(self.out.len() - 1);
                            self.out.push_str(" []\n");
                        }
                        for a in positional {
                            self.value_item(3, &a.value);
                        }
                    }
                    let named: Vec<&Arg> = args.iter().filter(|a| a.name.is_some()).collect();
                    if !named.is_empty() {
                        self.line(2, "options:");
                        for a in named {
                            let k = a.name.as_ref().map_or("", |n| n.name.as_str());
                            self.field(3, k, &a.value);
                        }
                    }
                }
            }
            Item::Backend(b) => {
                self.line(1, &format!("{}:", key(&b.name.name)));
                if b.fields.is_empty() {
                    self.out.truncate(self.out.len() - 1);
                    self.out.push_str(" {}\n");
                }
                for f in &b.fields {
                    self.field(2, &f.key.name, &f.value);
                }
            }
            Item::Prompt(p) => {
                self.line(
                    1,
                    &format!("{}: {}", key(&p.name.name), quoted(&p.text.value)),
                );
            }
            Item::Route(route) => {
                self.line(1, &format!("{}:", key(&route.name.name)));
                if let Some(p) = route.priority {
                    self.line(2, &format!("priority: {}", p.value));
                }
                let cond = crate::fmt::condition_line(&route.condition);
                self.line(2, &format!("when: {}", scalar(&cond, true)));
                self.action(2, &route.action);
            }
            Item::Test(t) => {
                self.line(1, &format!("- name: {}", quoted(&t.name.value)));
                if !t.given.is_empty() {
                    self.line(2, "given:");
                    for f in &t.given {
                        self.field(3, &f.key.name, &f.value);
                    }
                }
                self.line(2, &format!("expect: {}", scalar(&t.expect.name, true)));
                if !t.expect_fields.is_empty() {
                    self.line(2, "with:");
                    for f in &t.expect_fields {
                        self.field(3, &f.key.name, &f.value);
                    }
                }
            }
            Item::Include(_) | Item::Default(_) | Item::Select(_) | Item::Error(_) => {}
        }
    }

    fn action(&mut self, indent: usize, a: &Action) {
        match a {
            Action::Backend {
                backend, fields, ..
            } => {
                self.line(indent, &format!("backend: {}", scalar(&backend.name, true)));
                if !fields.is_empty() {
                    self.line(indent, "with:");
                    for f in fields {
                        self.field(indent + 1, &f.key.name, &f.value);
                    }
                }
            }
            Action::Reject {
                status, message, ..
            } => {
                self.line(indent, "reject:");
                self.line(indent + 1, &format!("status: {}", status.value));
                self.line(indent + 1, &format!("message: {}", string(&message.value)));
            }
        }
    }

    fn field(&mut self, indent: usize, k: &str, v: &Value) {
        match v {
            Value::Map(fields, _) if !fields.is_empty() => {
                self.line(indent, &format!("{}:", key(k)));
                for f in fields {
                    self.field(indent + 1, &f.key.name, &f.value);
                }
            }
            _ => self.line(indent, &format!("{}: {}", key(k), flow(v))),
        }
    }

    fn value_item(&mut self, indent: usize, v: &Value) {
        self.line(indent, &format!("- {}", flow(v)));
    }
}

/// A value in YAML flow style, on one line.
fn flow(v: &Value) -> String {
    match v {
        Value::Str(s) => string(&s.value),
        Value::Int(i) => i.value.to_string(),
        Value::Float(f) => crate::fmt::float(f.value),
        Value::Bool(b, _) => b.to_string(),
        Value::Duration(ms, _) => crate::fmt::duration(*ms),
        Value::Name(n) if n.name == "null" => "null".to_string(),
        Value::Name(n) => scalar(&n.name, true),
        Value::Map(fields, _) => {
            let parts: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", key(&f.key.name), flow(&f.value)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::List(items, _) => {
            let parts: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Scored(inner, c, _) => format!(
            "{{label: {}, confidence: {}}}",
            flow(inner),
            crate::fmt::float(c.value)
        ),
        Value::If {
            condition,
            then,
            otherwise,
            ..
        } => format!(
            "{{if: {}, then: {}, else: {}}}",
            quoted(&crate::fmt::condition_line(condition)),
            flow(then),
            flow(otherwise)
        ),
        Value::Error(_) => "null".to_string(),
    }
}

/// A string value: plain when that reads back as the same string in every context (an
/// identifier would read as a name where names are allowed, so it is quoted), else quoted.
fn string(s: &str) -> String {
    if is_name(s) {
        quoted(s)
    } else {
        scalar(s, true)
    }
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// A mapping key: plain when it reads back as the same string.
fn key(s: &str) -> String {
    scalar(s, true)
}

/// `s` plain when `plain` is asked and YAML reads it back as the same string, else quoted.
fn scalar(s: &str, plain: bool) -> String {
    if plain && plain_safe(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// Whether `s` written without quotes in block context reads back as the string `s`.
fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || first == '_' || first == '(' || first == '.') {
        return false;
    }
    if s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains(" #")
        || s.chars().any(|c| c.is_control() || matches!(c, '\t'))
        || s.contains(['{', '}', '[', ']', ','])
    {
        return false;
    }
    matches!(
        super::node::load(s, crate::syntax::FileId(0)).0,
        Some(Node { value: Y::Str { ref value, plain: true }, .. }) if value == s
    )
}

/// `.route` text for a policy's items, with `notes` as comment lines above the items they
/// belong to. Blank lines separate kinds of declarations and annotated items.
pub fn to_route(file: &File, notes: &[(usize, String)]) -> String {
    let mut out = String::new();
    let mut prev: Option<std::mem::Discriminant<Item>> = None;
    for (i, item) in file.items.iter().enumerate() {
        let kind = std::mem::discriminant(item);
        let mine: Vec<&String> = notes
            .iter()
            .filter(|(at, _)| *at == i)
            .map(|(_, n)| n)
            .collect();
        if !out.is_empty() && (prev != Some(kind) || !mine.is_empty()) {
            out.push('\n');
        }
        for n in &mine {
            for line in n.lines() {
                out.push_str(format!("# {line}").trim_end());
                out.push('\n');
            }
        }
        let single = File {
            items: vec![item.clone()],
            span: file.span,
        };
        out.push_str(&crate::fmt::format_file(&single, &[], ""));
        prev = Some(kind);
    }
    // Notes after the last item (for the file as a whole) go at the end.
    for (at, n) in notes {
        if *at >= file.items.len() {
            out.push('\n');
            for line in n.lines() {
                out.push_str(format!("# {line}").trim_end());
                out.push('\n');
            }
        }
    }
    out
}
