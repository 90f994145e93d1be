//! Random well-typed policies and signal values, from a seed.
//!
//! Shared by the engine property tests and the engine benchmarks (`#[path]`-included). A
//! small deterministic generator (SplitMix64) instead of proptest strategies: a policy of
//! 200 routes is thousands of nodes, and a seed that fails is easy to replay.
#![allow(dead_code)]

use routerc::policy::*;
use routerc::syntax::ast::CmpOp;
use routerc::syntax::Span;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Thresholds and values come from the same small pools, so comparisons are often equal and
/// boundaries are exercised.
pub const NUMBERS: [f64; 7] = [-1.0, 0.0, 0.25, 0.5, 0.75, 1.0, 3.0];
pub const STRINGS: [&str; 4] = ["admin", "staff", "guest", "ops"];
const OPS: [CmpOp; 6] = [
    CmpOp::Eq,
    CmpOp::Ne,
    CmpOp::Lt,
    CmpOp::Le,
    CmpOp::Gt,
    CmpOp::Ge,
];

fn labels(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

pub fn signals(rng: &mut Rng, count: usize) -> Vec<Signal> {
    (0..count)
        .map(|i| {
            let ty = match rng.below(8) {
                0 => Type::Bool,
                1 => Type::Int,
                2 => Type::Float,
                3 => Type::Score,
                4 => Type::Similarity,
                5 => Type::String,
                6 => Type::Category(labels("c", 2 + rng.below(6))),
                // Sometimes more than 64 labels, so membership spans several words.
                _ => Type::Set(labels(
                    "l",
                    if rng.chance(20) { 70 } else { 1 + rng.below(6) },
                )),
            };
            let extractor = if rng.chance(40) {
                Extractor::Classifier {
                    model: "m".into(),
                    label: None,
                    text: TextSource::LastUser,
                }
            } else {
                Extractor::Header {
                    name: format!("x-s{i}"),
                }
            };
            Signal {
                name: format!("s{i}"),
                ty,
                extractor,
                span: Span::default(),
                name_span: Span::default(),
            }
        })
        .collect()
}

fn atom(rng: &mut Rng, signals: &[Signal]) -> Cond {
    let id = rng.below(signals.len());
    let s = SignalId(id as u32);
    let threshold = *rng.pick(&NUMBERS);
    let op = *rng.pick(&OPS);
    let num = |read| {
        let atom = |op| {
            Cond::Atom(
                Atom::Num {
                    read,
                    op,
                    value: threshold,
                },
                Span::default(),
            )
        };
        if op == CmpOp::Ne {
            Cond::Not(Box::new(atom(CmpOp::Eq)))
        } else {
            atom(op)
        }
    };
    match &signals[id].ty {
        Type::Bool => Cond::Atom(
            Atom::Bool {
                signal: s,
                value: rng.chance(50),
            },
            Span::default(),
        ),
        Type::Int | Type::Float | Type::Score | Type::Similarity => num(NumRead::Value(s)),
        Type::String => {
            let n = 1 + rng.below(3);
            let values = (0..n).map(|_| rng.pick(&STRINGS).to_string()).collect();
            Cond::Atom(Atom::Str { signal: s, values }, Span::default())
        }
        Type::Category(l) => match rng.below(3) {
            0 => num(NumRead::Confidence(s)),
            1 => num(NumRead::Prob(s, rng.below(l.len()) as u32)),
            _ => {
                let n = 1 + rng.below(l.len());
                let labels = (0..n).map(|_| rng.below(l.len()) as u32).collect();
                Cond::Atom(Atom::Label { signal: s, labels }, Span::default())
            }
        },
        Type::Set(l) => {
            if rng.chance(30) {
                num(NumRead::Count(s))
            } else {
                Cond::Atom(
                    Atom::Contains {
                        signal: s,
                        label: rng.below(l.len()) as u32,
                    },
                    Span::default(),
                )
            }
        }
    }
}

pub fn cond(rng: &mut Rng, signals: &[Signal], depth: usize) -> Cond {
    if depth == 0 || rng.chance(35) {
        return match rng.below(40) {
            0 => Cond::True,
            1 => Cond::False,
            _ => atom(rng, signals),
        };
    }
    match rng.below(3) {
        0 => Cond::And(
            (0..2 + rng.below(3))
                .map(|_| cond(rng, signals, depth - 1))
                .collect(),
        ),
        1 => Cond::Or(
            (0..2 + rng.below(3))
                .map(|_| cond(rng, signals, depth - 1))
                .collect(),
        ),
        _ => Cond::Not(Box::new(cond(rng, signals, depth - 1))),
    }
}

fn param<T>(
    rng: &mut Rng,
    signals: &[Signal],
    depth: usize,
    leaf: &mut dyn FnMut(&mut Rng) -> T,
) -> Param<T> {
    if depth == 0 || rng.chance(60) {
        return Param::Const(leaf(rng));
    }
    Param::If {
        condition: cond(rng, signals, 3),
        then: Box::new(param(rng, signals, depth - 1, leaf)),
        otherwise: Box::new(param(rng, signals, depth - 1, leaf)),
    }
}

fn action(rng: &mut Rng, signals: &[Signal], backends: usize, prompts: usize) -> Action {
    if rng.chance(15) {
        return Action::Reject {
            status: 403,
            message: "no".into(),
        };
    }
    let efforts = [Effort::Low, Effort::Medium, Effort::High];
    let maybe = |rng: &mut Rng| rng.chance(50);
    Action::Backend(Box::new(BackendAction {
        backend: BackendId(rng.below(backends) as u32),
        system_prompt: maybe(rng).then(|| {
            param(rng, signals, 2, &mut |r: &mut Rng| {
                if r.chance(50) {
                    PromptRef::Named(PromptId(r.below(prompts) as u32))
                } else {
                    PromptRef::Inline("inline".into())
                }
            })
        }),
        system_prompt_mode: SystemPromptMode::Replace,
        reasoning_effort: maybe(rng)
            .then(|| param(rng, signals, 3, &mut |r: &mut Rng| *r.pick(&efforts))),
        max_tokens: maybe(rng).then(|| {
            param(rng, signals, 2, &mut |r: &mut Rng| {
                256 * (1 + r.below(8) as u32)
            })
        }),
        temperature: maybe(rng)
            .then(|| param(rng, signals, 1, &mut |r: &mut Rng| *r.pick(&[0.0, 0.5]))),
        top_p: None,
        params: Vec::new(),
        headers: if rng.chance(20) {
            vec![(
                "x-tier".into(),
                param(rng, signals, 1, &mut |r: &mut Rng| {
                    r.pick(&STRINGS).to_string()
                }),
            )]
        } else {
            Vec::new()
        },
        upstream_headers: Vec::new(),
        fallback: Vec::new(),
    }))
}

/// A random policy: `routes` routes plus a default, conditions nested up to `depth`.
pub fn policy(rng: &mut Rng, signal_count: usize, routes: usize, depth: usize) -> Policy {
    let signals = signals(rng, signal_count);
    let backend = |i: usize| Backend {
        name: format!("b{i}"),
        url: "http://127.0.0.1:1/v1".into(),
        model: format!("model-{i}"),
        reasoning: ReasoningFamily::Effort,
        api_key_env: None,
        timeouts: Timeouts::default(),
        max_retries: 0,
        headers: Vec::new(),
        ca_file: None,
        span: Span::default(),
        name_span: Span::default(),
    };
    let prompt = |i: usize| Prompt {
        name: format!("p{i}"),
        text: format!("prompt {i}"),
        span: Span::default(),
        name_span: Span::default(),
    };
    let route = |name: String, condition: Cond, action: Action, is_default: bool| Route {
        name,
        priority: 0,
        explicit_priority: false,
        condition,
        action,
        is_default,
        span: Span::default(),
        name_span: Span::default(),
        condition_span: Span::default(),
    };
    let mut out: Vec<Route> = (0..routes)
        .map(|i| {
            let c = cond(rng, &signals, depth);
            let a = action(rng, &signals, 3, 2);
            route(format!("r{i}"), c, a, false)
        })
        .collect();
    guard_runs(rng, &signals, &mut out);
    let a = action(rng, &signals, 3, 2);
    out.push(route("default".into(), Cond::True, a, true));
    Policy {
        signals,
        backends: (0..3).map(backend).collect(),
        prompts: (0..2).map(prompt).collect(),
        routes: out,
        tests: Vec::new(),
        selection: Default::default(),
    }
}

/// Sometimes reshapes the routes as policies keyed on one signal are written: a first route
/// tests it, then a run of routes each starting with "this signal is one of these labels (or
/// strings)". The JIT compiles such runs to a jump table; this makes sure random testing
/// reaches it.
fn guard_runs(rng: &mut Rng, signals: &[Signal], routes: &mut [Route]) {
    let keyed: Vec<usize> = signals
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.ty, Type::Category(_) | Type::String))
        .map(|(i, _)| i)
        .collect();
    if keyed.is_empty() || routes.len() < 6 || !rng.chance(40) {
        return;
    }
    let key = *rng.pick(&keyed);
    let s = SignalId(key as u32);
    let guard = |rng: &mut Rng| match &signals[key].ty {
        Type::Category(l) => {
            let n = 1 + rng.below(2);
            let labels = (0..n).map(|_| rng.below(l.len()) as u32).collect();
            Cond::Atom(Atom::Label { signal: s, labels }, Span::default())
        }
        _ => {
            let n = 1 + rng.below(2);
            let values = (0..n).map(|_| rng.pick(&STRINGS).to_string()).collect();
            Cond::Atom(Atom::Str { signal: s, values }, Span::default())
        }
    };
    let start = rng.below(routes.len() / 2);
    routes[start].condition = guard(rng);
    let end = (start + 1 + 4 + rng.below(30)).min(routes.len());
    for r in &mut routes[start + 1..end] {
        let rest = std::mem::replace(&mut r.condition, Cond::True);
        r.condition = if rng.chance(25) {
            guard(rng)
        } else {
            Cond::And(vec![guard(rng), rest])
        };
    }
}

/// A random value for each signal: absent, NaN, ties and out-of-pool strings included.
pub fn values(rng: &mut Rng, signals: &[Signal]) -> Vec<Option<SignalValue>> {
    signals
        .iter()
        .map(|s| {
            if rng.chance(15) {
                return None;
            }
            Some(match &s.ty {
                Type::Bool => SignalValue::Bool(rng.chance(50)),
                Type::Int | Type::Float | Type::Score | Type::Similarity => {
                    if rng.chance(5) {
                        SignalValue::Number(f64::NAN)
                    } else {
                        SignalValue::Number(*rng.pick(&NUMBERS))
                    }
                }
                Type::String => SignalValue::String(if rng.chance(20) {
                    "someone else".into()
                } else {
                    rng.pick(&STRINGS).to_string()
                }),
                Type::Category(l) => SignalValue::Category(
                    (0..l.len())
                        .map(|_| {
                            if rng.chance(3) {
                                f64::NAN
                            } else {
                                *rng.pick(&[0.0, 0.25, 0.5, 0.75, 1.0])
                            }
                        })
                        .collect(),
                ),
                Type::Set(l) => {
                    let mut members: Vec<u32> =
                        (0..l.len() as u32).filter(|_| rng.chance(30)).collect();
                    members.dedup();
                    SignalValue::Set(members)
                }
            })
        })
        .collect()
}
