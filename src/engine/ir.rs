//! The decision IR: what the engines run and what a compiled bundle stores.
//!
//! Lowered from a checked [`Policy`]: routes in evaluation order, conditions as `and`/`or`/
//! `not` trees over typed tests of one signal each, actions whose parameters are chosen by
//! conditions. Names are gone: signals, labels, backends, prompts and the strings compared
//! with string signals are integers. Lowering also decides the order in which the operands of
//! `and`/`or` are tested (cheap signals first); both engines follow that order, so they read
//! the same signals.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::policy::{
    self, Action as PolicyAction, Atom, Cond, Cost, Effort, Extractor, JsonValue, NumRead, Param,
    Policy, PromptRef, ReasoningFamily, Selection, SystemPromptMode, Timeouts, Type,
};
use crate::syntax::ast::CmpOp;

/// A whole compiled policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub signals: Vec<SignalDecl>,
    pub backends: Vec<BackendDecl>,
    pub prompts: Vec<PromptDecl>,
    /// The string constants conditions compare string signals with; a string signal's value
    /// is stored as its index here (or [`NO_STRING`]).
    pub strings: Vec<String>,
    /// In evaluation order; the last route's condition is `True`.
    pub routes: Vec<Route>,
    /// How a route is chosen among the matching routes of one tier (see [`Program::tier_end`]).
    #[serde(default)]
    pub selection: Selection,
}

/// The interned id of a string that no condition mentions.
pub const NO_STRING: u32 = u32::MAX;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalDecl {
    pub name: String,
    pub ty: Type,
    pub extractor: Extractor,
    pub cost: Cost,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendDecl {
    pub name: String,
    pub url: String,
    pub model: String,
    pub reasoning: ReasoningFamily,
    pub api_key_env: Option<String>,
    pub timeouts: Timeouts,
    pub max_retries: u32,
    pub headers: Vec<(String, String)>,
    /// Extra certificate authorities for this https backend (a PEM path, relative to the
    /// served policy's directory).
    pub ca_file: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PromptDecl {
    pub name: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Route {
    pub name: String,
    pub priority: i64,
    pub is_default: bool,
    pub cond: Expr,
    /// Under selection by confidence, in a tier of several routes: the condition as written
    /// (not folded, flattened or reordered, which would change its confidence), scored once
    /// `cond` holds. The engines fall back to `cond` without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<Expr>,
    pub action: Action,
}

/// A condition. `And`/`Or` short-circuit left to right; lowering has put cheap operands first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    True,
    False,
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Test(Test),
}

/// A test of one signal; false when the signal is absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Test {
    Bool {
        signal: u32,
        value: bool,
    },
    Cmp {
        read: Read,
        op: Op,
        value: f64,
    },
    /// A category's top label is one of these.
    LabelIn {
        signal: u32,
        labels: Vec<u32>,
    },
    /// A set holds this label.
    Contains {
        signal: u32,
        label: u32,
    },
    /// A string signal equals one of these interned strings.
    StrIn {
        signal: u32,
        strings: Vec<u32>,
    },
}

impl Test {
    pub fn signal(&self) -> u32 {
        match self {
            Test::Bool { signal, .. }
            | Test::LabelIn { signal, .. }
            | Test::Contains { signal, .. }
            | Test::StrIn { signal, .. } => *signal,
            Test::Cmp { read, .. } => read.signal(),
        }
    }
}

/// A number read from a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Read {
    Value(u32),
    Confidence(u32),
    Prob(u32, u32),
    Count(u32),
}

impl Read {
    pub fn signal(self) -> u32 {
        match self {
            Read::Value(s) | Read::Confidence(s) | Read::Prob(s, _) | Read::Count(s) => s,
        }
    }
}

/// Ordered comparisons: false when either side is NaN. (`!=` is lowered to `not ==`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    pub fn apply(self, x: f64, y: f64) -> bool {
        match self {
            Op::Eq => x == y,
            Op::Lt => x < y,
            Op::Le => x <= y,
            Op::Gt => x > y,
            Op::Ge => x >= y,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Action {
    Reject { status: u16, message: String },
    Forward(Forward),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forward {
    pub backend: u32,
    pub fallback: Vec<u32>,
    /// Parameters the route sets; a decision writes one leaf index per slot.
    pub slots: Vec<Slot>,
}

/// One parameter of an action: where it goes and the values it can take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    pub target: Target,
    pub choice: Choice,
    /// The leaves of `choice`, in order.
    pub values: Vec<Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Target {
    SystemPrompt(SystemPromptMode),
    ReasoningEffort,
    MaxTokens,
    Temperature,
    TopP,
    /// Another request parameter, set as JSON.
    Param(String),
    /// A header on the response to the client.
    Header(String),
    /// A header on the request to the backend.
    UpstreamHeader(String),
}

impl Target {
    pub fn name(&self) -> String {
        match self {
            Target::SystemPrompt(_) => "system_prompt".into(),
            Target::ReasoningEffort => "reasoning_effort".into(),
            Target::MaxTokens => "max_tokens".into(),
            Target::Temperature => "temperature".into(),
            Target::TopP => "top_p".into(),
            Target::Param(n) => format!("params.{n}"),
            Target::Header(n) => format!("headers.{n}"),
            Target::UpstreamHeader(n) => format!("upstream_headers.{n}"),
        }
    }
}

/// Which value a slot takes: a leaf index into [`Slot::values`], or a condition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Choice {
    Leaf(u32),
    If {
        cond: Expr,
        then: Box<Choice>,
        otherwise: Box<Choice>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Prompt(u32),
    Text(String),
    Effort(Effort),
    Int(u64),
    Float(f64),
    Json(JsonValue),
}

impl Program {
    /// The most slots any route has: the size of a decision's choice buffer.
    pub fn max_slots(&self) -> usize {
        self.routes
            .iter()
            .map(|r| match &r.action {
                Action::Forward(f) => f.slots.len(),
                Action::Reject { .. } => 0,
            })
            .max()
            .unwrap_or(0)
    }

    /// The end of the tier that starts at route `start`: the routes of one priority (the
    /// default route is a tier of its own). Under [`Selection::Confidence`] the first tier
    /// with a matching route decides, by confidence.
    pub fn tier_end(&self, start: usize) -> usize {
        let key = |r: &Route| (r.priority, r.is_default);
        let first = key(&self.routes[start]);
        (start..self.routes.len())
            .find(|&j| key(&self.routes[j]) != first)
            .unwrap_or(self.routes.len())
    }

    /// Whether routes are chosen by confidence in the tier of `start..end`: a tier of one
    /// route is decided by its condition alone.
    pub fn by_confidence(&self, tier: std::ops::Range<usize>) -> bool {
        self.selection == Selection::Confidence && tier.len() > 1
    }

    /// The expression whose confidence ranks route `i`.
    pub fn score(&self, i: usize) -> &Expr {
        let r = &self.routes[i];
        r.score.as_ref().unwrap_or(&r.cond)
    }

    pub fn signal_index(&self, name: &str) -> Option<u32> {
        self.signals
            .iter()
            .position(|s| s.name == name)
            .map(|i| i as u32)
    }

    pub fn route_index(&self, name: &str) -> Option<usize> {
        self.routes.iter().position(|r| r.name == name)
    }
}

/// Lowers a checked policy.
pub fn lower(policy: &Policy) -> Program {
    let mut lowering = Lowering {
        policy,
        strings: Vec::new(),
        string_ids: HashMap::new(),
        known: vec![false; policy.signals.len()],
    };
    let tiered = |i: usize| {
        let key = |r: &policy::Route| (r.priority, r.is_default);
        let k = key(&policy.routes[i]);
        (i > 0 && key(&policy.routes[i - 1]) == k)
            || policy.routes.get(i + 1).is_some_and(|r| key(r) == k)
    };
    let routes = policy
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let score = (policy.selection == Selection::Confidence && tiered(i))
                .then(|| lowering.cond_raw(&r.condition));
            let cond = lowering.cond(&r.condition);
            // Every route before a later one was evaluated and failed, so the signals its
            // condition reads first are in the frame for every later route.
            let mut read = Vec::new();
            certainly_read(&cond, &mut read);
            for s in read {
                lowering.known[s as usize] = true;
            }
            Route {
                name: r.name.clone(),
                priority: r.priority,
                is_default: r.is_default,
                cond,
                score,
                action: lowering.action(&r.action),
            }
        })
        .collect();
    Program {
        signals: policy.signals.iter().map(SignalDecl::from).collect(),
        backends: policy
            .backends
            .iter()
            .map(|b| BackendDecl {
                name: b.name.clone(),
                url: b.url.clone(),
                model: b.model.clone(),
                reasoning: b.reasoning,
                api_key_env: b.api_key_env.clone(),
                timeouts: b.timeouts,
                max_retries: b.max_retries,
                headers: b.headers.clone(),
                ca_file: b.ca_file.clone(),
            })
            .collect(),
        prompts: policy
            .prompts
            .iter()
            .map(|p| PromptDecl {
                name: p.name.clone(),
                text: p.text.clone(),
            })
            .collect(),
        strings: lowering.strings,
        routes,
        selection: policy.selection,
    }
}

struct Lowering<'a> {
    policy: &'a Policy,
    strings: Vec<String>,
    string_ids: HashMap<String, u32>,
    /// Signals certainly read before the route being lowered: testing them costs nothing.
    known: Vec<bool>,
}

impl Lowering<'_> {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.to_owned());
        self.string_ids.insert(s.to_owned(), id);
        id
    }

    fn cond(&mut self, c: &Cond) -> Expr {
        let e = self.cond_raw(c);
        simplify(
            e,
            &Costs {
                policy: self.policy,
                known: &self.known,
            },
        )
    }

    fn cond_raw(&mut self, c: &Cond) -> Expr {
        match c {
            Cond::True => Expr::True,
            Cond::False => Expr::False,
            Cond::And(items) => Expr::And(items.iter().map(|c| self.cond_raw(c)).collect()),
            Cond::Or(items) => Expr::Or(items.iter().map(|c| self.cond_raw(c)).collect()),
            Cond::Not(inner) => Expr::Not(Box::new(self.cond_raw(inner))),
            Cond::Atom(atom, _) => self.atom(atom),
        }
    }

    fn atom(&mut self, atom: &Atom) -> Expr {
        match atom {
            Atom::Bool { signal, value } => Expr::Test(Test::Bool {
                signal: signal.0,
                value: *value,
            }),
            Atom::Label { signal, labels } => Expr::Test(Test::LabelIn {
                signal: signal.0,
                labels: labels.clone(),
            }),
            Atom::Contains { signal, label } => Expr::Test(Test::Contains {
                signal: signal.0,
                label: *label,
            }),
            Atom::Str { signal, values } => {
                let mut strings: Vec<u32> = values.iter().map(|v| self.intern(v)).collect();
                strings.sort_unstable();
                strings.dedup();
                Expr::Test(Test::StrIn {
                    signal: signal.0,
                    strings,
                })
            }
            Atom::Num { read, op, value } => {
                let read = match *read {
                    NumRead::Value(s) => Read::Value(s.0),
                    NumRead::Confidence(s) => Read::Confidence(s.0),
                    NumRead::Prob(s, l) => Read::Prob(s.0, l),
                    NumRead::Count(s) => Read::Count(s.0),
                };
                let op = match op {
                    CmpOp::Eq => Op::Eq,
                    CmpOp::Lt => Op::Lt,
                    CmpOp::Le => Op::Le,
                    CmpOp::Gt => Op::Gt,
                    CmpOp::Ge => Op::Ge,
                    // The checker normalises `!=` away; lowering stays total regardless.
                    CmpOp::Ne => {
                        return Expr::Not(Box::new(Expr::Test(Test::Cmp {
                            read,
                            op: Op::Eq,
                            value: *value,
                        })))
                    }
                };
                Expr::Test(Test::Cmp {
                    read,
                    op,
                    value: *value,
                })
            }
        }
    }

    fn action(&mut self, a: &PolicyAction) -> Action {
        let b = match a {
            PolicyAction::Reject { status, message } => {
                return Action::Reject {
                    status: *status,
                    message: message.clone(),
                }
            }
            PolicyAction::Backend(b) => b,
        };
        let mut slots = Vec::new();
        if let Some(p) = &b.system_prompt {
            slots.push(
                self.slot(Target::SystemPrompt(b.system_prompt_mode), p, |v| match v {
                    PromptRef::Named(id) => Value::Prompt(id.0),
                    PromptRef::Inline(t) => Value::Text(t.clone()),
                }),
            );
        }
        if let Some(p) = &b.reasoning_effort {
            slots.push(self.slot(Target::ReasoningEffort, p, |e| Value::Effort(*e)));
        }
        if let Some(p) = &b.max_tokens {
            slots.push(self.slot(Target::MaxTokens, p, |n| Value::Int(u64::from(*n))));
        }
        if let Some(p) = &b.temperature {
            slots.push(self.slot(Target::Temperature, p, |x| Value::Float(*x)));
        }
        if let Some(p) = &b.top_p {
            slots.push(self.slot(Target::TopP, p, |x| Value::Float(*x)));
        }
        for (name, p) in &b.params {
            slots.push(self.slot(Target::Param(name.clone()), p, |j| Value::Json(j.clone())));
        }
        for (name, p) in &b.headers {
            slots.push(self.slot(Target::Header(name.clone()), p, |t| Value::Text(t.clone())));
        }
        for (name, p) in &b.upstream_headers {
            slots.push(self.slot(Target::UpstreamHeader(name.clone()), p, |t| {
                Value::Text(t.clone())
            }));
        }
        Action::Forward(Forward {
            backend: b.backend.0,
            fallback: b.fallback.iter().map(|f| f.0).collect(),
            slots,
        })
    }

    fn slot<T>(&mut self, target: Target, p: &Param<T>, value: impl Fn(&T) -> Value) -> Slot {
        let mut values = Vec::new();
        let choice = self.choice(p, &value, &mut values);
        Slot {
            target,
            choice,
            values,
        }
    }

    fn choice<T>(
        &mut self,
        p: &Param<T>,
        value: &impl Fn(&T) -> Value,
        values: &mut Vec<Value>,
    ) -> Choice {
        match p {
            Param::Const(v) => {
                values.push(value(v));
                Choice::Leaf(values.len() as u32 - 1)
            }
            Param::If {
                condition,
                then,
                otherwise,
            } => {
                let cond = self.cond(condition);
                let then = self.choice(then, value, values);
                let otherwise = self.choice(otherwise, value, values);
                match cond {
                    Expr::True => then,
                    Expr::False => otherwise,
                    cond => Choice::If {
                        cond,
                        then: Box::new(then),
                        otherwise: Box::new(otherwise),
                    },
                }
            }
        }
    }
}

/// What testing each signal costs at a point of the policy.
struct Costs<'a> {
    policy: &'a Policy,
    known: &'a [bool],
}

/// How much evaluating an expression can cost: the distinct expensive signals it may compute,
/// then the distinct cheap ones, then the number of tests. Signals already read are free.
/// Sorting operands by this puts tests of signals in hand first, then keyword, header and
/// length tests, and classifiers last.
fn weight(e: &Expr, costs: &Costs) -> (usize, usize, usize) {
    fn walk(
        e: &Expr,
        costs: &Costs,
        expensive: &mut Vec<u32>,
        cheap: &mut Vec<u32>,
        tests: &mut usize,
    ) {
        match e {
            Expr::True | Expr::False => {}
            Expr::And(items) | Expr::Or(items) => {
                for i in items {
                    walk(i, costs, expensive, cheap, tests);
                }
            }
            Expr::Not(inner) => walk(inner, costs, expensive, cheap, tests),
            Expr::Test(t) => {
                *tests += 1;
                let s = t.signal();
                if costs.known.get(s as usize).copied().unwrap_or(false) {
                    return;
                }
                let cost = costs
                    .policy
                    .signals
                    .get(s as usize)
                    .map_or(Cost::Expensive, |sig| sig.extractor.cost());
                let list = if cost == Cost::Expensive {
                    expensive
                } else {
                    cheap
                };
                if !list.contains(&s) {
                    list.push(s);
                }
            }
        }
    }
    let (mut expensive, mut cheap, mut tests) = (Vec::new(), Vec::new(), 0);
    walk(e, costs, &mut expensive, &mut cheap, &mut tests);
    (expensive.len(), cheap.len(), tests)
}

/// The signals every decision of `program` reads, whatever the values: read on every path
/// through the routes' conditions, including the path that stops at the first route. The
/// gateway computes the expensive ones in parallel before deciding.
///
/// For each condition this tracks what is read when it comes out true and when it comes out
/// false; a route is left only when its condition is false, so what the routes from `i` on
/// certainly read is (read when route `i` matches) ∩ (read when it fails ∪ what the routes
/// from `i + 1` certainly read). Parameter choices are not counted.
pub fn certain_signals(program: &Program) -> Vec<u32> {
    let mut rest: Reads = Some(std::collections::BTreeSet::new());
    for route in program.routes.iter().rev() {
        let (when_true, when_false) = reads_by_outcome(&route.cond);
        rest = intersect(when_true, union(when_false, rest));
    }
    rest.map(|s| s.into_iter().collect()).unwrap_or_default()
}

/// Signals read on every evaluation that reaches an outcome; `None` when no evaluation does
/// (an impossible outcome reads "everything").
type Reads = Option<std::collections::BTreeSet<u32>>;

fn union(a: Reads, b: Reads) -> Reads {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.extend(b);
            Some(a)
        }
        _ => None,
    }
}

fn intersect(a: Reads, b: Reads) -> Reads {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) => Some(a.intersection(&b).copied().collect()),
    }
}

/// What evaluating `e` certainly reads when it is true, and when it is false.
fn reads_by_outcome(e: &Expr) -> (Reads, Reads) {
    let empty = || Some(std::collections::BTreeSet::new());
    match e {
        Expr::True => (empty(), None),
        Expr::False => (None, empty()),
        Expr::Test(t) => {
            let one: Reads = Some([t.signal()].into_iter().collect());
            (one.clone(), one)
        }
        Expr::Not(inner) => {
            let (t, f) = reads_by_outcome(inner);
            (f, t)
        }
        // `and` is false at the first false operand, after the earlier ones were true; it is
        // true when all are. `or` is the mirror image.
        Expr::And(items) | Expr::Or(items) => {
            let is_and = matches!(e, Expr::And(_));
            let mut prefix = empty();
            let mut stop: Reads = None;
            for item in items {
                let (t, f) = reads_by_outcome(item);
                let (go_on, stop_here) = if is_and { (t, f) } else { (f, t) };
                stop = intersect(stop, union(prefix.clone(), stop_here));
                prefix = union(prefix, go_on);
            }
            if is_and {
                (prefix, stop)
            } else {
                (stop, prefix)
            }
        }
    }
}

/// The signals evaluating `e` always reads, whatever the values: those of its first test.
pub fn certainly_read(e: &Expr, out: &mut Vec<u32>) {
    match e {
        Expr::True | Expr::False => {}
        Expr::And(items) | Expr::Or(items) => {
            if let Some(first) = items.first() {
                certainly_read(first, out);
            }
        }
        Expr::Not(inner) => certainly_read(inner, out),
        Expr::Test(t) => out.push(t.signal()),
    }
}

/// Folds constants, flattens nested `and`/`or`, removes double negation, and orders operands
/// cheap first. Conditions have no effects and an absent signal makes a test false whatever
/// the order, so neither folding nor reordering can change a result; they only change which
/// signals are read.
fn simplify(e: Expr, costs: &Costs) -> Expr {
    match e {
        Expr::Not(inner) => match simplify(*inner, costs) {
            Expr::True => Expr::False,
            Expr::False => Expr::True,
            Expr::Not(x) => *x,
            x => Expr::Not(Box::new(x)),
        },
        Expr::And(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                match simplify(i, costs) {
                    Expr::True => {}
                    Expr::False => return Expr::False,
                    Expr::And(inner) => out.extend(inner),
                    x => out.push(x),
                }
            }
            finish(out, costs, Expr::True, Expr::And)
        }
        Expr::Or(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                match simplify(i, costs) {
                    Expr::False => {}
                    Expr::True => return Expr::True,
                    Expr::Or(inner) => out.extend(inner),
                    x => out.push(x),
                }
            }
            finish(out, costs, Expr::False, Expr::Or)
        }
        other => other,
    }
}

fn finish(mut items: Vec<Expr>, costs: &Costs, empty: Expr, make: fn(Vec<Expr>) -> Expr) -> Expr {
    match items.len() {
        0 => empty,
        1 => items.pop().unwrap_or(empty),
        _ => {
            // Stable: operands of equal weight keep the order the author wrote.
            items.sort_by_cached_key(|i| weight(i, costs));
            make(items)
        }
    }
}

/// The signals an expression may read, each once, in first-read order.
pub fn signals_of(e: &Expr, out: &mut Vec<u32>) {
    match e {
        Expr::True | Expr::False => {}
        Expr::And(items) | Expr::Or(items) => items.iter().for_each(|i| signals_of(i, out)),
        Expr::Not(inner) => signals_of(inner, out),
        Expr::Test(t) => {
            if !out.contains(&t.signal()) {
                out.push(t.signal());
            }
        }
    }
}

impl From<&policy::Signal> for SignalDecl {
    fn from(s: &policy::Signal) -> Self {
        SignalDecl {
            name: s.name.clone(),
            ty: s.ty.clone(),
            extractor: s.extractor.clone(),
            cost: s.extractor.cost(),
        }
    }
}
