//! The abstract syntax tree of a policy file.
//!
//! The parser produces it, the checker resolves and types it, the formatter prints it back and
//! the language server walks it. Every node carries its [`Span`]. The tree is as written:
//! names are not resolved here and nothing is reordered; parentheses are kept so the formatter
//! preserves the author's grouping. A part that failed to parse is an `Error` node so the rest
//! of the file can still be checked.
//!
//! `and` / `or` chains are n-ary (one node with a list) rather than nested pairs: long chains
//! then cost no recursion depth anywhere downstream.

use super::span::Span;

/// A name or label as written. Names are short (`domain`, `max_tokens`, `t42`), so they are
/// stored inline without a heap allocation up to 24 bytes: a large policy has hundreds of
/// thousands of them, and allocating and freeing one `String` each was a fifth of parsing.
pub type Name = compact_str::CompactString;

/// One parsed file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Include(Include),
    // The large declarations are boxed: the parser moves items around by value.
    Signal(Box<SignalDecl>),
    Backend(BackendDecl),
    Prompt(PromptDecl),
    Route(Box<RouteDecl>),
    Default(DefaultDecl),
    Select(SelectDecl),
    Test(Box<TestDecl>),
    /// A declaration that did not parse; its diagnostic was already reported.
    Error(Span),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Include(i) => i.span,
            Item::Signal(s) => s.span,
            Item::Backend(b) => b.span,
            Item::Prompt(p) => p.span,
            Item::Route(r) => r.span,
            Item::Default(d) => d.span,
            Item::Select(s) => s.span,
            Item::Test(t) => t.span,
            Item::Error(span) => *span,
        }
    }

    /// The declared name, for items that declare one.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Signal(s) => Some(&s.name),
            Item::Backend(b) => Some(&b.name),
            Item::Prompt(p) => Some(&p.name),
            Item::Route(r) => Some(&r.name),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: Name,
    pub span: Span,
}

/// A string literal: its decoded value and the span of the literal including quotes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// `include "other.route"`: the path is relative to the including file.
#[derive(Clone, Debug, PartialEq)]
pub struct Include {
    pub path: StrLit,
    pub span: Span,
}

/// `signal NAME: TYPE = EXTRACTOR`
#[derive(Clone, Debug, PartialEq)]
pub struct SignalDecl {
    pub name: Ident,
    pub ty: TypeExpr,
    pub extractor: Extractor,
    pub span: Span,
}

/// A type as written: a name (`score`, `category`, …) and, for `category` and `set`, labels.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub name: Ident,
    pub labels: Option<Vec<Label>>,
    pub span: Span,
}

/// A category or set label: a bare name (`math`) or a string (`"computer science"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub name: Name,
    pub quoted: bool,
    pub span: Span,
}

/// Where a signal's value comes from: `classifier("domain")`, `identity.role`,
/// `keyword("a", "b", mode: word)`. The path and arguments are checked by the checker, which
/// knows the extractors; the grammar does not.
#[derive(Clone, Debug, PartialEq)]
pub struct Extractor {
    pub path: Vec<Ident>,
    pub args: Option<Vec<Arg>>,
    pub span: Span,
}

/// A positional (`"domain"`) or named (`label: "jailbreak"`) extractor argument.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Value,
    pub span: Span,
}

/// `backend NAME { key: value, … }`
#[derive(Clone, Debug, PartialEq)]
pub struct BackendDecl {
    pub name: Ident,
    pub fields: Vec<Field>,
    pub span: Span,
}

/// `key: value` inside braces.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub key: Ident,
    pub value: Value,
    pub span: Span,
}

/// `prompt NAME = "text"`
#[derive(Clone, Debug, PartialEq)]
pub struct PromptDecl {
    pub name: Ident,
    pub text: StrLit,
    pub span: Span,
}

/// `route NAME [priority N] when CONDITION => ACTION`
#[derive(Clone, Debug, PartialEq)]
pub struct RouteDecl {
    pub name: Ident,
    pub priority: Option<Priority>,
    pub condition: Expr,
    pub action: Action,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    pub value: i64,
    pub span: Span,
}

/// `select by MODE`: how a route is chosen among the routes of one priority that match
/// (`priority`: the first in source order, the default; `confidence`: the most confident).
#[derive(Clone, Debug, PartialEq)]
pub struct SelectDecl {
    /// The word `by`, as written.
    pub by: Ident,
    pub mode: Ident,
    pub span: Span,
}

/// `default => ACTION`
#[derive(Clone, Debug, PartialEq)]
pub struct DefaultDecl {
    pub action: Action,
    pub span: Span,
    /// The `default` keyword, where diagnostics about the route as a whole point.
    pub keyword: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `=> BACKEND { key: value, … }`; the braces are optional.
    Backend {
        backend: Ident,
        fields: Vec<Field>,
        span: Span,
    },
    /// `=> reject STATUS "message"`
    Reject {
        status: IntLit,
        message: StrLit,
        span: Span,
    },
}

impl Action {
    pub fn span(&self) -> Span {
        match self {
            Action::Backend { span, .. } | Action::Reject { span, .. } => *span,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntLit {
    pub value: i64,
    pub span: Span,
}

/// `test "name" { given { signal: value, … } expect ROUTE [{ key: value, … }] }`: a policy
/// unit test. Values use the same syntax as action values; a category value is written
/// `label` or `label @ confidence`.
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    pub name: StrLit,
    pub given: Vec<Field>,
    pub expect: Ident,
    pub expect_fields: Vec<Field>,
    pub span: Span,
}

/// A boolean condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `a and b and c` (at least two operands)
    And(Vec<Expr>, Span),
    /// `a or b or c` (at least two operands)
    Or(Vec<Expr>, Span),
    Not(Box<Expr>, Span),
    /// Parentheses, kept so the formatter can print them back.
    Paren(Box<Expr>, Span),
    /// `lhs OP rhs`
    Compare {
        lhs: Operand,
        op: CmpOp,
        op_span: Span,
        rhs: Operand,
        span: Span,
    },
    /// `lhs in [a, b]`, `lhs not in [a, b]`, `label in set_signal`
    In {
        lhs: Operand,
        set: InSet,
        negated: bool,
        span: Span,
    },
    /// A bare operand used as a condition: a bool signal, `true`, `false`.
    Operand(Operand),
    /// A condition that did not parse or nested too deeply; already reported.
    Error(Span),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::And(_, s) | Expr::Or(_, s) | Expr::Not(_, s) | Expr::Paren(_, s) => *s,
            Expr::Compare { span, .. } | Expr::In { span, .. } => *span,
            Expr::Operand(o) => o.span(),
            Expr::Error(s) => *s,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum InSet {
    List(Vec<Operand>, Span),
    Operand(Operand),
}

impl InSet {
    pub fn span(&self) -> Span {
        match self {
            InSet::List(_, s) => *s,
            InSet::Operand(o) => o.span(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// `name`, `name.member` or `name[label]`. Whether `name` is a signal or a label is
    /// decided by the checker from the other side of the comparison. Boxed to keep operands
    /// (and so every condition node) small.
    Path(Box<Path>),
    Str(StrLit),
    Int(IntLit),
    Float(FloatLit),
    Bool(bool, Span),
}

impl Operand {
    pub fn span(&self) -> Span {
        match self {
            Operand::Path(p) => p.span,
            Operand::Str(s) => s.span,
            Operand::Int(i) => i.span,
            Operand::Float(f) => f.span,
            Operand::Bool(_, s) => *s,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    pub base: Ident,
    pub member: Option<Ident>,
    pub index: Option<Label>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FloatLit {
    pub value: f64,
    pub span: Span,
}

/// A value in a backend field, an action parameter, an extractor argument or a test.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(StrLit),
    Int(IntLit),
    Float(FloatLit),
    Bool(bool, Span),
    /// Milliseconds.
    Duration(u64, Span),
    /// A bare name: `high`, a prompt, a backend, an enum word.
    Name(Ident),
    /// `{ key: value, … }`
    Map(Vec<Field>, Span),
    /// `[a, b, …]`
    List(Vec<Value>, Span),
    /// `label @ 0.93`: a category value with its confidence (in tests).
    Scored(Box<Value>, FloatLit, Span),
    /// `if COND then A else B`
    If {
        condition: Box<Expr>,
        then: Box<Value>,
        otherwise: Box<Value>,
        span: Span,
    },
    /// A value that did not parse or nested too deeply; already reported.
    Error(Span),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Str(s) => s.span,
            Value::Int(i) => i.span,
            Value::Float(f) => f.span,
            Value::Bool(_, s)
            | Value::Duration(_, s)
            | Value::Map(_, s)
            | Value::List(_, s)
            | Value::Scored(_, _, s)
            | Value::Error(s) => *s,
            Value::Name(n) => n.span,
            Value::If { span, .. } => *span,
        }
    }
}
