//! The checked policy: what the checker produces once every name is resolved and every
//! condition typed.
//!
//! This is the contract between the front ends (the `.route` language, later YAML) and
//! everything downstream (lints, the decision IR, the engine, the gateway, the language
//! server). Routes are in evaluation order: highest priority first, then source order, the
//! default route last. Conditions are normalised: `!=` and `not in` are `Not` of the positive
//! atom, comparisons always read a signal on the left and a constant on the right, parentheses
//! are gone.
//!
//! Semantics of absent signals (a header that is not sent, a classifier that failed, a NaN):
//! every atom over an absent signal is false, so `!=` and `not in` (negations) are true.

use serde::{Deserialize, Serialize};

use crate::syntax::ast::CmpOp;
use crate::syntax::Span;

/// Index into [`Policy::signals`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignalId(pub u32);

/// Index into [`Policy::backends`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackendId(pub u32);

/// Index into [`Policy::prompts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PromptId(pub u32);

/// Index of a label in its signal's label list.
pub type LabelId = u32;

#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub signals: Vec<Signal>,
    pub backends: Vec<Backend>,
    pub prompts: Vec<Prompt>,
    /// In evaluation order; the default route is last.
    pub routes: Vec<Route>,
    pub tests: Vec<PolicyTest>,
    pub selection: Selection,
}

/// How a route is chosen among the matching routes of the highest priority that has any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selection {
    /// The first in source order (`select by priority`, the default).
    #[default]
    Priority,
    /// The one whose condition is most confident ([`Cond::confidence`]); ties go to source
    /// order (`select by confidence`).
    Confidence,
}

impl Selection {
    pub fn keyword(self) -> &'static str {
        match self {
            Selection::Priority => "priority",
            Selection::Confidence => "confidence",
        }
    }
}

impl Policy {
    /// The route the language chooses for these values: the specification both engines are
    /// tested against. Routes of one priority form a tier (the default route is a tier of its
    /// own); the first tier with a matching route decides, by source order or by confidence.
    pub fn choose(&self, values: &[Option<SignalValue>]) -> Option<usize> {
        let routes = &self.routes;
        let mut start = 0;
        while start < routes.len() {
            let key = |r: &Route| (r.priority, r.is_default);
            let end = (start..routes.len())
                .find(|&j| key(&routes[j]) != key(&routes[start]))
                .unwrap_or(routes.len());
            let mut best: Option<(usize, f64)> = None;
            for (i, r) in routes.iter().enumerate().take(end).skip(start) {
                if !r.condition.eval(values) {
                    continue;
                }
                if self.selection == Selection::Priority || end - start == 1 {
                    return Some(i);
                }
                let c = r.condition.confidence(&self.signals, values);
                if best.is_none_or(|(_, b)| c > b) {
                    best = Some((i, c));
                }
            }
            if let Some((i, _)) = best {
                return Some(i);
            }
            start = end;
        }
        None
    }

    pub fn signal(&self, id: SignalId) -> &Signal {
        &self.signals[id.0 as usize]
    }

    pub fn backend(&self, id: BackendId) -> &Backend {
        &self.backends[id.0 as usize]
    }

    pub fn prompt(&self, id: PromptId) -> &Prompt {
        &self.prompts[id.0 as usize]
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Signal {
    pub name: String,
    pub ty: Type,
    pub extractor: Extractor,
    pub span: Span,
    pub name_span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Type {
    Bool,
    Int,
    Float,
    String,
    /// A float in [0, 1].
    Score,
    /// A cosine similarity in [-1, 1].
    Similarity,
    /// One label out of these, with a probability per label.
    Category(Vec<String>),
    /// Any subset of these labels.
    Set(Vec<String>),
}

impl Type {
    /// The name as written in declarations, without labels.
    pub fn keyword(&self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Int => "int",
            Type::Float => "float",
            Type::String => "string",
            Type::Score => "score",
            Type::Similarity => "similarity",
            Type::Category(_) => "category",
            Type::Set(_) => "set",
        }
    }

    pub fn labels(&self) -> &[String] {
        match self {
            Type::Category(l) | Type::Set(l) => l,
            _ => &[],
        }
    }

    /// Numbers can be ordered; the rest compare with `==` and `in` only.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Type::Int | Type::Float | Type::Score | Type::Similarity
        )
    }

    /// The closed range a numeric value of this type lies in, if bounded.
    pub fn range(&self) -> Option<(f64, f64)> {
        match self {
            Type::Score => Some((0.0, 1.0)),
            Type::Similarity => Some((-1.0, 1.0)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Type {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Type::Category(l) | Type::Set(l) => write!(f, "{}({})", self.keyword(), l.join(", ")),
            other => f.write_str(other.keyword()),
        }
    }
}

/// Which part of the request a text signal reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TextSource {
    /// The last user message (the default).
    LastUser,
    /// Every message, concatenated.
    Conversation,
    /// The system prompt the client sent.
    System,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeywordMode {
    /// Case-insensitive, on word boundaries (the default).
    Word,
    /// Case-insensitive substring.
    Substring,
    /// Case-sensitive, on word boundaries.
    Exact,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Aggregate {
    Max,
    Mean,
}

/// How expensive a signal is to compute; the engine tests cheap signals first where order
/// cannot change the result, and computes expensive ones only when evaluation reaches them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Cost {
    Cheap,
    Expensive,
}

/// Where a signal's value comes from, with its arguments checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Extractor {
    /// A sequence classifier; `label` selects one label's probability as a score.
    Classifier {
        model: String,
        label: Option<String>,
        text: TextSource,
    },
    /// A token classifier (PII): the set of entity types found.
    TokenClassifier { model: String, text: TextSource },
    /// Similarity to example sentences from a file or an inline list.
    Examples {
        source: ExampleSource,
        model: String,
        aggregate: Aggregate,
        top_k: u32,
        text: TextSource,
    },
    Keyword {
        keywords: Vec<String>,
        mode: KeywordMode,
        text: TextSource,
    },
    /// Regular expressions: whether one matches (a `bool`), or how many matches all of them
    /// find together (an `int`, such as the number of question marks).
    Regex {
        patterns: Vec<String>,
        text: TextSource,
    },
    /// A request header's value.
    Header { name: String },
    /// A field of the authenticated identity (`role`, `user`).
    Identity { field: String },
    /// Length of the text in `unit` (`chars`, `tokens`, `messages`); for `messages`, `role`
    /// counts only the messages of that role.
    Length {
        unit: LengthUnit,
        text: TextSource,
        role: Option<String>,
    },
    /// The detected language of the text, as an ISO 639-1 code.
    Language { text: TextSource },
    /// The `model` the client asked for (a vLLM Semantic Router entrypoint name).
    RequestModel,
    /// How many tools the request defines (its `tools` array).
    RequestTools,
    /// How many image parts the request's messages hold.
    RequestImages,
    /// A string entry of the request's `metadata` object.
    RequestMetadata { key: String },
    /// A signal of a family routerc cannot compute yet (declared by the YAML frontend for
    /// vLLM Semantic Router signal families such as `complexity`): always absent, so every
    /// atom over it is false. `rule` is the vLLM rule's name.
    External { family: String, rule: String },
}

/// The roles `length.messages(role: …)` counts: a message role, or `non_user` for every
/// role but `user`.
pub const MESSAGE_ROLES: &[&str] = &[
    "user",
    "assistant",
    "system",
    "developer",
    "tool",
    "non_user",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LengthUnit {
    Chars,
    /// UTF-8 bytes.
    Bytes,
    Tokens,
    Messages,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExampleSource {
    /// A file of example sentences, one per line, relative to the policy file.
    File(String),
    Inline(Vec<String>),
}

impl Extractor {
    pub fn cost(&self) -> Cost {
        match self {
            Extractor::Classifier { .. }
            | Extractor::TokenClassifier { .. }
            | Extractor::Examples { .. } => Cost::Expensive,
            _ => Cost::Cheap,
        }
    }

    /// The name as written in policies.
    pub fn name(&self) -> &'static str {
        match self {
            Extractor::Classifier { .. } => "classifier",
            Extractor::TokenClassifier { .. } => "token_classifier",
            Extractor::Examples { .. } => "examples",
            Extractor::Keyword { .. } => "keyword",
            Extractor::Regex { .. } => "regex",
            Extractor::Header { .. } => "header",
            Extractor::Identity { .. } => "identity",
            Extractor::Length { .. } => "length",
            Extractor::Language { .. } => "language",
            Extractor::RequestModel => "request.model",
            Extractor::RequestTools => "request.tools",
            Extractor::RequestImages => "request.images",
            Extractor::RequestMetadata { .. } => "request.metadata",
            Extractor::External { .. } => "external",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReasoningFamily {
    /// The OpenAI `reasoning_effort` parameter.
    Effort,
    /// `chat_template_kwargs.enable_thinking` (Qwen-style templates): on unless effort is none.
    EnableThinking,
    /// The backend does not reason; `reasoning_effort` is dropped.
    None,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Backend {
    pub name: String,
    pub url: String,
    pub model: String,
    pub reasoning: ReasoningFamily,
    /// Name of the environment variable holding the API key.
    pub api_key_env: Option<String>,
    pub timeouts: Timeouts,
    pub max_retries: u32,
    /// Static headers added to every upstream request.
    pub headers: Vec<(String, String)>,
    /// Extra certificate authorities (a PEM file) trusted for this https backend, as written:
    /// relative paths are resolved against the policy's directory when it is served.
    pub ca_file: Option<String>,
    pub span: Span,
    pub name_span: Span,
}

/// Per-backend timeouts in milliseconds; `None` means the gateway's default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    pub connect_ms: Option<u64>,
    pub first_byte_ms: Option<u64>,
    pub idle_ms: Option<u64>,
    pub total_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Prompt {
    pub name: String,
    pub text: String,
    pub span: Span,
    pub name_span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub name: String,
    pub priority: i64,
    /// Whether the priority was written (routes without one have priority 0).
    pub explicit_priority: bool,
    pub condition: Cond,
    pub action: Action,
    pub is_default: bool,
    pub span: Span,
    pub name_span: Span,
    /// The span of the condition as written (for lints).
    pub condition_span: Span,
}

/// A typed condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    True,
    False,
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Atom(Atom, Span),
}

/// A test on one signal. Every atom is false when its signal is absent.
#[derive(Clone, Debug, PartialEq)]
pub enum Atom {
    /// A bool signal has this value.
    Bool { signal: SignalId, value: bool },
    /// A number read from a signal compared with a constant. `op` is never `Ne` (normalised).
    Num {
        read: NumRead,
        op: CmpOp,
        value: f64,
    },
    /// A category's top label is one of these.
    Label {
        signal: SignalId,
        labels: Vec<LabelId>,
    },
    /// A set signal contains this label.
    Contains { signal: SignalId, label: LabelId },
    /// A string signal equals one of these.
    Str {
        signal: SignalId,
        values: Vec<String>,
    },
}

impl Atom {
    pub fn signal(&self) -> SignalId {
        match self {
            Atom::Bool { signal, .. }
            | Atom::Label { signal, .. }
            | Atom::Contains { signal, .. }
            | Atom::Str { signal, .. } => *signal,
            Atom::Num { read, .. } => read.signal(),
        }
    }
}

/// A number read from a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NumRead {
    /// The value of an int, float, score or similarity signal.
    Value(SignalId),
    /// A category's confidence in its top label.
    Confidence(SignalId),
    /// A category's probability of one label.
    Prob(SignalId, LabelId),
    /// How many labels a set signal holds.
    Count(SignalId),
}

impl NumRead {
    pub fn signal(self) -> SignalId {
        match self {
            NumRead::Value(s)
            | NumRead::Confidence(s)
            | NumRead::Prob(s, _)
            | NumRead::Count(s) => s,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Backend(Box<BackendAction>),
    Reject { status: u16, message: String },
}

/// What a route does to the request when it sends it to a backend. Every parameter may depend
/// on a condition (`if … then … else …`).
#[derive(Clone, Debug, PartialEq)]
pub struct BackendAction {
    pub backend: BackendId,
    pub system_prompt: Option<Param<PromptRef>>,
    pub system_prompt_mode: SystemPromptMode,
    pub reasoning_effort: Option<Param<Effort>>,
    pub max_tokens: Option<Param<u32>>,
    pub temperature: Option<Param<f64>>,
    pub top_p: Option<Param<f64>>,
    /// Other request parameters, set as JSON values.
    pub params: Vec<(String, Param<JsonValue>)>,
    /// Headers added to the response to the client.
    pub headers: Vec<(String, Param<String>)>,
    /// Headers added to the request to the backend.
    pub upstream_headers: Vec<(String, Param<String>)>,
    /// Backends to try, in order, when this one fails before answering.
    pub fallback: Vec<BackendId>,
}

/// A parameter value: a constant, or chosen by a condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Param<T> {
    Const(T),
    If {
        condition: Cond,
        then: Box<Param<T>>,
        otherwise: Box<Param<T>>,
    },
}

impl<T> Param<T> {
    /// Every constant this parameter can take.
    pub fn constants(&self) -> Vec<&T> {
        match self {
            Param::Const(v) => vec![v],
            Param::If {
                then, otherwise, ..
            } => {
                let mut v = then.constants();
                v.extend(otherwise.constants());
                v
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum PromptRef {
    Named(PromptId),
    Inline(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SystemPromptMode {
    /// Replace the client's system messages (the default).
    Replace,
    /// Put the policy's prompt before the client's system prompt.
    Prepend,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Effort {
    None,
    Minimal,
    Low,
    Medium,
    High,
}

impl Effort {
    pub const ALL: [(&'static str, Effort); 5] = [
        ("none", Effort::None),
        ("minimal", Effort::Minimal),
        ("low", Effort::Low),
        ("medium", Effort::Medium),
        ("high", Effort::High),
    ];

    pub fn as_str(self) -> &'static str {
        Effort::ALL
            .iter()
            .find(|(_, e)| *e == self)
            .map(|(n, _)| *n)
            .unwrap_or("none")
    }
}

/// A JSON value for request parameters, without depending on a JSON library's types.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum JsonValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Array(Vec<JsonValue>),
    Object(Vec<(String, JsonValue)>),
}

/// A policy test: signal values and the expected decision.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyTest {
    pub name: String,
    pub given: Vec<(SignalId, TestValue)>,
    /// Index into [`Policy::routes`].
    pub expect_route: usize,
    /// Expected parameters, as written: (name, value) checked by `routerc test`.
    pub expect_params: Vec<(String, JsonValue)>,
    pub span: Span,
}

/// A signal value given in a test.
#[derive(Clone, Debug, PartialEq)]
pub enum TestValue {
    Bool(bool),
    Number(f64),
    String(String),
    /// A category's top label with its confidence (1.0 when not written).
    Label(LabelId, f64),
    Set(Vec<LabelId>),
    Absent,
}

/// A signal's value for one request, as the extractors produce it.
#[derive(Clone, Debug, PartialEq)]
pub enum SignalValue {
    Bool(bool),
    /// int, float, score and similarity signals. NaN counts as absent.
    Number(f64),
    String(String),
    /// A category: the probability of each label, in declaration order. The top label is the
    /// most probable one (the first on ties) and the confidence is its probability.
    Category(Vec<f64>),
    /// A set: the labels present.
    Set(Vec<LabelId>),
}

impl SignalValue {
    /// The top label of a category and its probability.
    pub fn top_label(probs: &[f64]) -> Option<(LabelId, f64)> {
        let mut best: Option<(LabelId, f64)> = None;
        for (i, &p) in probs.iter().enumerate() {
            if p.is_nan() {
                return None;
            }
            if best.is_none_or(|(_, b)| p > b) {
                best = Some((i as LabelId, p));
            }
        }
        best
    }
}

impl Cond {
    /// The meaning of a condition, stated directly: `values[i]` is signal `i`'s value, `None`
    /// when absent. This is the reference the engines are tested against.
    /// How confident a condition that holds is, as vLLM Semantic Router ranks its decisions:
    /// a test's signal score (a `score` or `similarity` value, a category's confidence or the
    /// probability it reads), 1.0 for a test of a signal that reports none; the mean of the
    /// operands for `and`, the largest among the operands that hold for `or`, 1.0 for `not`
    /// and `true`. Only meaningful when the condition holds.
    pub fn confidence(&self, signals: &[Signal], values: &[Option<SignalValue>]) -> f64 {
        match self {
            Cond::True | Cond::Not(_) => 1.0,
            Cond::False => 0.0,
            Cond::And(items) => match items.split_first() {
                // Summed left to right, as both engines do, so the result is the same bits.
                Some((first, rest)) => {
                    let sum = rest.iter().fold(first.confidence(signals, values), |s, c| {
                        s + c.confidence(signals, values)
                    });
                    sum / items.len() as f64
                }
                None => 1.0,
            },
            Cond::Or(items) => {
                let mut best: Option<f64> = None;
                for c in items {
                    if c.eval(values) {
                        let x = c.confidence(signals, values);
                        if best.is_none_or(|b| x > b) {
                            best = Some(x);
                        }
                    }
                }
                best.unwrap_or(0.0)
            }
            Cond::Atom(atom, _) => atom.confidence(signals, values),
        }
    }

    pub fn eval(&self, values: &[Option<SignalValue>]) -> bool {
        match self {
            Cond::True => true,
            Cond::False => false,
            Cond::And(items) => items.iter().all(|c| c.eval(values)),
            Cond::Or(items) => items.iter().any(|c| c.eval(values)),
            Cond::Not(inner) => !inner.eval(values),
            Cond::Atom(atom, _) => atom.eval(values),
        }
    }
}

impl Atom {
    /// The score a test that holds reports (see [`Cond::confidence`]).
    pub fn confidence(&self, signals: &[Signal], values: &[Option<SignalValue>]) -> f64 {
        let signal = self.signal();
        let value = values.get(signal.0 as usize).and_then(Option::as_ref);
        let scored = signals
            .get(signal.0 as usize)
            .is_some_and(|s| matches!(s.ty, Type::Score | Type::Similarity));
        match (self, value) {
            (Atom::Num { read, .. }, Some(SignalValue::Number(x)))
                if matches!(read, NumRead::Value(_)) && scored =>
            {
                *x
            }
            (
                Atom::Num {
                    read: NumRead::Prob(_, l),
                    ..
                },
                Some(SignalValue::Category(probs)),
            ) => probs.get(*l as usize).copied().unwrap_or(1.0),
            (
                Atom::Num {
                    read: NumRead::Confidence(_),
                    ..
                }
                | Atom::Label { .. },
                Some(SignalValue::Category(probs)),
            ) => SignalValue::top_label(probs).map_or(1.0, |(_, p)| p),
            _ => 1.0,
        }
    }

    /// False whenever the signal is absent (or NaN, or of an unexpected kind).
    pub fn eval(&self, values: &[Option<SignalValue>]) -> bool {
        let Some(Some(value)) = values.get(self.signal().0 as usize) else {
            return false;
        };
        match (self, value) {
            (Atom::Bool { value: want, .. }, SignalValue::Bool(b)) => b == want,
            (Atom::Str { values: want, .. }, SignalValue::String(s)) => want.contains(s),
            (Atom::Label { labels, .. }, SignalValue::Category(probs)) => {
                SignalValue::top_label(probs).is_some_and(|(top, _)| labels.contains(&top))
            }
            (Atom::Contains { label, .. }, SignalValue::Set(members)) => members.contains(label),
            (
                Atom::Num {
                    read,
                    op,
                    value: threshold,
                },
                v,
            ) => {
                let x = match (read, v) {
                    (NumRead::Value(_), SignalValue::Number(x)) => *x,
                    (NumRead::Confidence(_), SignalValue::Category(probs)) => {
                        match SignalValue::top_label(probs) {
                            Some((_, p)) => p,
                            None => return false,
                        }
                    }
                    (NumRead::Prob(_, l), SignalValue::Category(probs)) => {
                        match probs.get(*l as usize) {
                            Some(p) => *p,
                            None => return false,
                        }
                    }
                    (NumRead::Count(_), SignalValue::Set(members)) => members.len() as f64,
                    _ => return false,
                };
                if x.is_nan() {
                    return false;
                }
                match op {
                    CmpOp::Eq => x == *threshold,
                    CmpOp::Ne => x != *threshold,
                    CmpOp::Lt => x < *threshold,
                    CmpOp::Le => x <= *threshold,
                    CmpOp::Gt => x > *threshold,
                    CmpOp::Ge => x >= *threshold,
                }
            }
            _ => false,
        }
    }
}
