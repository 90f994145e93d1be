//! The lints never invent a problem: on random policies, whatever they report is checked
//! against the conditions' meaning (`Cond::eval`) on many concrete requests. A route called
//! always true must match every request tried, always false none, and an unreachable route
//! must never be the first to match.

use proptest::prelude::*;
use routerc::check::lints::lint;
use routerc::policy::*;
use routerc::syntax::ast::CmpOp;
use routerc::syntax::Span;

// Signals: 0 b: bool, 1 n: int, 2 s: score, 3 c: category(a, b, c), 4 p: set(x, y), 5 r: string
fn signals() -> Vec<Signal> {
    let sig = |name: &str, ty: Type| Signal {
        name: name.into(),
        ty,
        extractor: Extractor::Header { name: name.into() },
        span: Span::default(),
        name_span: Span::default(),
    };
    vec![
        sig("b", Type::Bool),
        sig("n", Type::Int),
        sig("s", Type::Score),
        sig(
            "c",
            Type::Category(vec!["a".into(), "b".into(), "c".into()]),
        ),
        sig("p", Type::Set(vec!["x".into(), "y".into()])),
        sig("r", Type::String),
    ]
}

const INTS: [f64; 5] = [-1.0, 0.0, 1.0, 2.0, 5.0];
const SCORES: [f64; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];
const OPS: [CmpOp; 5] = [CmpOp::Eq, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge];

fn atom() -> impl Strategy<Value = Atom> {
    prop_oneof![
        any::<bool>().prop_map(|value| Atom::Bool {
            signal: SignalId(0),
            value
        }),
        (0..5usize, 0..5usize).prop_map(|(o, v)| Atom::Num {
            read: NumRead::Value(SignalId(1)),
            op: OPS[o],
            value: INTS[v]
        }),
        (0..5usize, 0..5usize).prop_map(|(o, v)| Atom::Num {
            read: NumRead::Value(SignalId(2)),
            op: OPS[o],
            value: SCORES[v]
        }),
        (0..5usize, 0..5usize).prop_map(|(o, v)| Atom::Num {
            read: NumRead::Confidence(SignalId(3)),
            op: OPS[o],
            value: SCORES[v]
        }),
        (0..5usize, 0..5usize, 0..3u32).prop_map(|(o, v, l)| Atom::Num {
            read: NumRead::Prob(SignalId(3), l),
            op: OPS[o],
            value: SCORES[v]
        }),
        (0..5usize, 0..3usize).prop_map(|(o, v)| Atom::Num {
            read: NumRead::Count(SignalId(4)),
            op: OPS[o],
            value: v as f64
        }),
        proptest::sample::subsequence(vec![0u32, 1, 2], 1..3).prop_map(|labels| Atom::Label {
            signal: SignalId(3),
            labels
        }),
        (0..2u32).prop_map(|label| Atom::Contains {
            signal: SignalId(4),
            label
        }),
        proptest::sample::subsequence(vec!["u", "v", "w"], 1..3).prop_map(|v| Atom::Str {
            signal: SignalId(5),
            values: v.into_iter().map(String::from).collect()
        }),
    ]
}

fn cond() -> impl Strategy<Value = Cond> {
    let leaf = prop_oneof![
        8 => atom().prop_map(|a| Cond::Atom(a, Span::default())),
        1 => Just(Cond::True),
        1 => Just(Cond::False),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Cond::And),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Cond::Or),
            inner.prop_map(|c| Cond::Not(Box::new(c))),
        ]
    })
}

fn value() -> impl Strategy<Value = Vec<Option<SignalValue>>> {
    let opt = |s: BoxedStrategy<SignalValue>| proptest::option::weighted(0.8, s);
    (
        opt(any::<bool>().prop_map(SignalValue::Bool).boxed()),
        opt(prop_oneof![
            (0..5usize).prop_map(|i| INTS[i]),
            (-3i32..8).prop_map(f64::from)
        ]
        .prop_map(SignalValue::Number)
        .boxed()),
        opt(
            prop_oneof![(0..5usize).prop_map(|i| SCORES[i]), 0.0f64..=1.0]
                .prop_map(SignalValue::Number)
                .boxed(),
        ),
        // A consistent category: three probabilities that sum to one.
        opt((
            0..3usize,
            prop_oneof![Just(1.0f64), Just(0.75), Just(0.5), 0.34f64..1.0],
            0.0f64..=1.0,
        )
            .prop_map(|(top, p, split)| {
                let rest = 1.0 - p;
                let mut probs = vec![rest * split, rest * (1.0 - split)];
                probs.insert(top, p);
                SignalValue::Category(probs)
            })
            .boxed()),
        opt(proptest::sample::subsequence(vec![0u32, 1], 0..=2)
            .prop_map(SignalValue::Set)
            .boxed()),
        opt(prop_oneof![Just("u"), Just("v"), Just("w"), Just("z")]
            .prop_map(|s| SignalValue::String(s.to_string()))
            .boxed()),
    )
        .prop_map(|(a, b, c, d, e, f)| vec![a, b, c, d, e, f])
}

fn policy(conds: Vec<(Cond, bool)>) -> Policy {
    let backend = Backend {
        name: "b".into(),
        url: "http://127.0.0.1:1/v1".into(),
        model: "m".into(),
        reasoning: ReasoningFamily::Effort,
        api_key_env: None,
        timeouts: Timeouts::default(),
        max_retries: 0,
        headers: vec![],
        ca_file: None,
        span: Span::default(),
        name_span: Span::default(),
    };
    let mut routes: Vec<Route> = conds
        .into_iter()
        .enumerate()
        .map(|(i, (condition, same_priority))| Route {
            name: format!("r{i}"),
            priority: if same_priority { 5 } else { i as i64 % 3 },
            explicit_priority: true,
            condition,
            action: Action::Reject {
                status: 403,
                message: "no".into(),
            },
            is_default: false,
            // Distinct spans so diagnostics can be traced back to routes.
            span: Span::new(routerc::syntax::FileId(0), i, i + 1),
            name_span: Span::new(routerc::syntax::FileId(0), i, i + 1),
            condition_span: Span::new(routerc::syntax::FileId(0), i, i + 1),
        })
        .collect();
    routerc::check::sort_routes(&mut routes);
    Policy {
        signals: signals(),
        backends: vec![backend],
        prompts: vec![],
        routes,
        tests: vec![],
        selection: Default::default(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn lints_are_sound(
        conds in proptest::collection::vec((cond(), any::<bool>()), 1..6),
        requests in proptest::collection::vec(value(), 200),
    ) {
        let policy = policy(conds);
        let route_at = |span: Span| policy.routes.iter().position(|r| r.name_span == span).expect("a route's span");
        for d in lint(&policy) {
            let i = route_at(d.span);
            let route = &policy.routes[i];
            for values in &requests {
                let matches = route.condition.eval(values);
                match d.code.id {
                    "W0002" => prop_assert!(matches, "{} called always true, but {:?} fails it: {:?}", route.name, values, route.condition),
                    "W0003" => prop_assert!(!matches, "{} called always false, but {:?} satisfies it", route.name, values),
                    "W0001" => {
                        let first = policy.routes.iter().position(|r| r.condition.eval(values));
                        prop_assert!(!matches || first.is_some_and(|f| f < i), "{} called unreachable, but {:?} reaches it", route.name, values);
                    }
                    "W0004" => {}
                    other => prop_assert!(false, "unexpected lint {other}"),
                }
            }
        }
    }
}

#[test]
fn lints_find_what_they_should() {
    let (_, checked) = routerc::check_text(
        "t.route",
        "signal n: int = length.tokens\nsignal t: bool = keyword(\"x\")\nbackend b { url: \"http://127.0.0.1:1/v1\", model: \"m\" }\n\
         route wide when n > 10 => b\nroute narrow when n > 20 and t => b\nroute never when n > 3 and n < 4 => b\n\
         route all when t or not t => b\nroute after when t => b\ndefault => b\n",
    );
    let codes: Vec<(&str, u32)> = checked
        .diagnostics
        .items
        .iter()
        .map(|d| (d.code.id, d.span.start))
        .collect();
    let ids: Vec<&str> = codes.iter().map(|c| c.0).collect();
    assert_eq!(ids, ["W0001", "W0003", "W0002", "W0001"], "{codes:?}");
}
