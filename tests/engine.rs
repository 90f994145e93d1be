//! The engines against each other and against the language's meaning.
//!
//! On random well-typed policies (up to 200 routes, nesting up to 8, every signal type and
//! operator) and random signal values (absent, NaN and ties included):
//! - native code and the interpreter choose the same route, the same parameter values, and
//!   read the same signals;
//! - both agree with `Cond::eval`, the reference meaning in src/policy.rs;
//! - deciding lazily (signals fetched on demand) and eagerly (all given up front) agree;
//! - every signal `ir::certain_signals` reports is read by every decision.

#[path = "support/gen.rs"]
mod gen;
#[path = "support/realistic.rs"]
mod realistic;

use std::collections::HashSet;

use gen::Rng;
use routerc::engine::frame::{Frame, NoSignals, SignalSource};
use routerc::engine::jit::Options;
use routerc::engine::CompiledPolicy;
use routerc::policy::{Action, Cond, Param, Policy, Selection, SignalValue};

/// Gives the generated values lazily, and remembers what was fetched.
struct Given<'a> {
    values: &'a [Option<SignalValue>],
    fetched: Vec<u32>,
}

impl SignalSource for Given<'_> {
    fn fetch(&mut self, signal: u32, frame: &mut Frame) {
        self.fetched.push(signal);
        frame
            .set(signal, self.values[signal as usize].as_ref())
            .expect("generated values fit their types");
    }
}

fn reference_route(policy: &Policy, values: &[Option<SignalValue>]) -> usize {
    policy
        .choose(values)
        .expect("the default route always matches")
}

/// Decisions in which selection by confidence chose another route than the first match.
static RANKED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Makes `policy` select by confidence, its routes in tiers of one to five routes of equal
/// priority (in the order they are already in).
fn tiered(rng: &mut Rng, policy: &mut Policy) {
    policy.selection = Selection::Confidence;
    let mut priority = 1_000;
    let mut left = 0;
    for r in policy.routes.iter_mut().filter(|r| !r.is_default) {
        if left == 0 {
            priority -= 1;
            left = 1 + rng.below(5);
        }
        r.priority = priority;
        r.explicit_priority = true;
        left -= 1;
    }
}

fn leaves<T>(p: &Param<T>) -> u32 {
    match p {
        Param::Const(_) => 1,
        Param::If {
            then, otherwise, ..
        } => leaves(then) + leaves(otherwise),
    }
}

/// The leaf a parameter takes, numbered in order as lowering numbers them.
fn reference_leaf<T>(p: &Param<T>, values: &[Option<SignalValue>]) -> u32 {
    match p {
        Param::Const(_) => 0,
        Param::If {
            condition,
            then,
            otherwise,
        } => {
            if condition.eval(values) {
                reference_leaf(then, values)
            } else {
                leaves(then) + reference_leaf(otherwise, values)
            }
        }
    }
}

/// The leaves the reference meaning chooses for a route's parameters, in slot order.
fn reference_leaves(policy: &Policy, route: usize, values: &[Option<SignalValue>]) -> Vec<u32> {
    let Action::Backend(b) = &policy.routes[route].action else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(p) = &b.system_prompt {
        out.push(reference_leaf(p, values));
    }
    if let Some(p) = &b.reasoning_effort {
        out.push(reference_leaf(p, values));
    }
    if let Some(p) = &b.max_tokens {
        out.push(reference_leaf(p, values));
    }
    if let Some(p) = &b.temperature {
        out.push(reference_leaf(p, values));
    }
    if let Some(p) = &b.top_p {
        out.push(reference_leaf(p, values));
    }
    for (_, p) in &b.params {
        out.push(reference_leaf(p, values));
    }
    for (_, p) in b.headers.iter().chain(&b.upstream_headers) {
        out.push(reference_leaf(p, values));
    }
    out
}

fn check_policy(seed: u64, policy: &Policy, rng: &mut Rng, samples: usize) -> usize {
    let compiled = CompiledPolicy::from_policy(policy)
        .unwrap_or_else(|e| panic!("seed {seed}: does not compile: {e}"));
    // The same policy cut into native functions of a few tests each, as a large policy is.
    let split = CompiledPolicy::with_options(
        routerc::engine::ir::lower(policy),
        Options {
            part_weight: 1 + (seed % 23) as usize,
            ..Options::default()
        },
    )
    .unwrap_or_else(|e| panic!("seed {seed}: does not compile in parts: {e}"));
    if policy.routes.len() > 30 {
        assert!(split.jit().parts() > 1, "seed {seed}: not split");
    }
    let mut split_frame = split.frame();
    let mut split_choices = split.choices();
    let mut frame = compiled.frame();
    let mut jit_choices = compiled.choices();
    let mut int_choices = compiled.choices();
    let certain = routerc::engine::ir::certain_signals(compiled.program());
    for sample in 0..samples {
        let values = gen::values(rng, &policy.signals);
        let ctx = || format!("seed {seed}, sample {sample}, values {values:?}");

        frame.reset();
        let mut jit_source = Given {
            values: &values,
            fetched: Vec::new(),
        };
        let jit = compiled.decide(&mut frame, &mut jit_source, &mut jit_choices);
        let jit_reads: Vec<u32> = frame.reads().collect();

        split_frame.reset();
        let mut split_source = Given {
            values: &values,
            fetched: Vec::new(),
        };
        let parts = split.decide(&mut split_frame, &mut split_source, &mut split_choices);
        let split_reads: Vec<u32> = split_frame.reads().collect();
        assert_eq!(parts, jit, "route, in parts: {}", ctx());
        assert_eq!(split_reads, jit_reads, "signals read, in parts: {}", ctx());
        assert_eq!(
            split_source.fetched,
            jit_source.fetched,
            "fetch order, in parts: {}",
            ctx()
        );

        frame.reset();
        let mut int_source = Given {
            values: &values,
            fetched: Vec::new(),
        };
        let int = compiled.interpret(&mut frame, &mut int_source, &mut int_choices);
        let int_reads: Vec<u32> = frame.reads().collect();

        assert_eq!(jit, int, "route: {}", ctx());
        assert_eq!(jit_reads, int_reads, "signals read: {}", ctx());
        // What the gateway computes in parallel before deciding must be read anyway.
        for s in &certain {
            assert!(
                jit_reads.contains(s),
                "certain signal {s} not read ({certain:?}): {}",
                ctx()
            );
        }
        assert_eq!(
            jit_source.fetched,
            int_source.fetched,
            "fetch order: {}",
            ctx()
        );
        let unique: HashSet<_> = jit_source.fetched.iter().collect();
        assert_eq!(
            unique.len(),
            jit_source.fetched.len(),
            "a signal fetched twice: {}",
            ctx()
        );

        let expected = reference_route(policy, &values);
        let first_match = policy.routes.iter().position(|r| r.condition.eval(&values));
        if first_match != Some(expected) {
            RANKED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        assert_eq!(int, expected, "against the reference: {}", ctx());
        let slots = reference_leaves(policy, expected, &values);
        assert_eq!(
            &jit_choices[..slots.len()],
            &slots[..],
            "JIT parameters: {}",
            ctx()
        );
        assert_eq!(
            &int_choices[..slots.len()],
            &slots[..],
            "interpreter parameters: {}",
            ctx()
        );
        assert_eq!(
            &split_choices[..slots.len()],
            &slots[..],
            "parameters, in parts: {}",
            ctx()
        );

        // Eagerly: every value in the frame before deciding, nothing to fetch.
        frame.reset();
        for (s, v) in values.iter().enumerate() {
            frame.set(s as u32, v.as_ref()).expect("values fit");
        }
        let eager = compiled.decide(&mut frame, &mut NoSignals, &mut jit_choices);
        assert_eq!(eager, jit, "eager and lazy: {}", ctx());
    }
    samples
}

#[test]
fn native_code_interpreter_and_reference_agree_on_random_policies() {
    let mut cases = 0;
    for seed in 0..520u64 {
        let mut rng = Rng::new(seed);
        // Every tenth policy is large; the rest are small enough to hit many routes.
        let routes = if seed % 10 == 0 {
            200
        } else {
            1 + rng.below(30)
        };
        let signals = 1 + rng.below(12);
        let depth = 1 + rng.below(8);
        let mut policy = gen::policy(&mut rng, signals, routes, depth);
        // A third of the policies rank the routes of each priority by confidence.
        if seed % 3 == 1 {
            tiered(&mut rng, &mut policy);
        }
        cases += check_policy(seed, &policy, &mut rng, 200);
    }
    assert!(cases >= 100_000, "only {cases} cases");
    let ranked = RANKED.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        ranked >= 1_000,
        "confidence chose another route than the first match only {ranked} times"
    );
}

/// The benchmark's realistic policies, whose long runs of routes keyed on the domain are
/// compiled to jump tables, on realistic traffic with signals randomly missing. The largest
/// is cut into several native functions by default; the others are also cut into small
/// parts, which splits their jump-table runs.
#[test]
fn native_code_and_interpreter_agree_on_realistic_policies() {
    for (routes, part_weight) in [
        (8, None),
        (64, None),
        (512, None),
        (1000, None),
        (64, Some(7)),
        (512, Some(60)),
    ] {
        let (_, checked) = routerc::check_text("realistic.route", &realistic::policy(routes));
        let policy = checked.policy.expect("the realistic policy checks");
        let options = Options {
            part_weight: part_weight.unwrap_or(Options::default().part_weight),
            ..Options::default()
        };
        let compiled = CompiledPolicy::with_options(routerc::engine::ir::lower(&policy), options)
            .expect("compiles");
        if routes == 1000 || part_weight.is_some() {
            assert!(compiled.jit().parts() > 1, "{routes} routes: one function");
        }
        let mut rng = Rng::new(routes as u64);
        let mut frame = compiled.frame();
        let (mut a, mut b) = (compiled.choices(), compiled.choices());
        let mut hit = vec![false; policy.routes.len()];
        for i in 0..5_000 {
            let mut values = realistic::request(&mut rng);
            for v in &mut values {
                if rng.chance(8) {
                    *v = None;
                }
            }
            let mut source = Given {
                values: &values,
                fetched: Vec::new(),
            };
            frame.reset();
            let jit = compiled.decide(&mut frame, &mut source, &mut a);
            let jit_reads: Vec<u32> = frame.reads().collect();
            let mut source = Given {
                values: &values,
                fetched: Vec::new(),
            };
            frame.reset();
            let int = compiled.interpret(&mut frame, &mut source, &mut b);
            let int_reads: Vec<u32> = frame.reads().collect();
            assert_eq!(
                (jit, &jit_reads),
                (int, &int_reads),
                "{routes} routes, request {i}: {values:?}"
            );
            assert_eq!(int, reference_route(&policy, &values));
            hit[jit] = true;
        }
        let hits = hit.iter().filter(|h| **h).count();
        assert!(
            hits * 3 >= policy.routes.len().min(64),
            "{routes} routes: only {hits} ever chosen"
        );
    }
}

/// A request a cheap keyword decides never runs the classifier: operands of `and` are
/// reordered cheap first, and the default route reads nothing.
#[test]
fn cheap_signals_decide_before_expensive_ones_are_fetched() {
    let (_, checked) = routerc::check_text(
        "lazy.route",
        r#"
signal domain: category(math, other) = classifier("domain")
signal titan: bool = keyword("Project Titan")
backend a { url: "http://127.0.0.1:8001/v1", model: "a" }
route titan_math when domain == math and titan => a
default => a
"#,
    );
    let policy = checked.policy.expect("checks");
    let compiled = CompiledPolicy::from_policy(&policy).expect("compiles");
    let mut frame = compiled.frame();
    let mut choices = compiled.choices();
    for (titan, expect_fetched) in [(false, vec![1]), (true, vec![1, 0])] {
        let values = vec![
            Some(SignalValue::Category(vec![0.9, 0.1])),
            Some(SignalValue::Bool(titan)),
        ];
        let mut source = Given {
            values: &values,
            fetched: Vec::new(),
        };
        frame.reset();
        let route = compiled.decide(&mut frame, &mut source, &mut choices);
        assert_eq!(source.fetched, expect_fetched, "titan = {titan}");
        assert_eq!(route, if titan { 0 } else { 1 });
    }
}

#[test]
fn a_signal_source_that_panics_leaves_the_signal_absent() {
    struct Panics;
    impl SignalSource for Panics {
        fn fetch(&mut self, _: u32, _: &mut Frame) {
            panic!("classifier crashed");
        }
    }
    let (_, checked) = routerc::check_text(
        "panic.route",
        r#"
signal jailbreak: score = classifier("jailbreak", label: "jailbreak")
backend a { url: "http://127.0.0.1:8001/v1", model: "a" }
route block when jailbreak > 0.5 => reject 403 "blocked"
route safe when not (jailbreak > 0.5) => a
default => a
"#,
    );
    let compiled = CompiledPolicy::from_policy(&checked.policy.expect("checks")).expect("compiles");
    let mut frame = compiled.frame();
    let mut choices = compiled.choices();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let jit = compiled.decide(&mut frame, &mut Panics, &mut choices);
    frame.reset();
    let int = compiled.interpret(&mut frame, &mut Panics, &mut choices);
    std::panic::set_hook(quiet);
    // Absent: `jailbreak > 0.5` is false and its negation true.
    assert_eq!((jit, int), (1, 1));
}

#[test]
fn conditions_are_folded_before_code_generation() {
    let mut rng = Rng::new(7);
    let policy = gen::policy(&mut rng, 4, 10, 4);
    let program = routerc::engine::ir::lower(&policy);
    fn no_constants_inside(e: &routerc::engine::ir::Expr, top: bool) {
        use routerc::engine::ir::Expr;
        match e {
            Expr::True | Expr::False => assert!(top, "constant inside {e:?}"),
            Expr::And(items) | Expr::Or(items) => {
                assert!(items.len() >= 2);
                items.iter().for_each(|i| no_constants_inside(i, false));
            }
            Expr::Not(inner) => {
                assert!(!matches!(**inner, Expr::Not(_)), "double negation");
                no_constants_inside(inner, false)
            }
            Expr::Test(_) => {}
        }
    }
    for r in &program.routes {
        no_constants_inside(&r.cond, true);
    }
    assert!(matches!(
        policy.routes.last().map(|r| &r.condition),
        Some(Cond::True)
    ));
}

/// Every real vLLM Semantic Router config (through the YAML frontend) compiles to native code
/// that agrees with the interpreter and the reference on random signal values. Fails loudly
/// when the shared data folder is missing.
#[test]
fn native_code_agrees_on_the_shipped_vllm_configs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = std::env::var_os("ROUTERC_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("../shared"));
    let data = shared.join("data/vllm-sr");
    assert!(
        data.join("config.reference.yaml").is_file(),
        "the shared data folder is missing: expected {} (set ROUTERC_SHARED)",
        data.display()
    );
    let mut configs = vec![data.join("config.reference.yaml")];
    let mut stack = vec![data.join("recipes")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("recipes folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "config.yaml") {
                configs.push(path);
            }
        }
    }
    assert!(configs.len() >= 5, "found only {} configs", configs.len());
    for (i, config) in configs.iter().enumerate() {
        let (_, checked) = routerc::check_file(config, &routerc::source::FileSystem);
        let policy = checked
            .policy
            .unwrap_or_else(|| panic!("{} does not check", config.display()));
        let mut rng = Rng::new(1000 + i as u64);
        check_policy(i as u64, &policy, &mut rng, 2_000);
    }
}

/// The parallel-signal analysis is not vacuous on random policies: many have signals every
/// decision reads (checked against the engines in `check_policy`).
#[test]
fn random_policies_often_have_certain_signals() {
    let mut with = 0;
    for seed in 0..200u64 {
        let mut rng = Rng::new(seed);
        let (signals, routes, depth) = (1 + rng.below(12), 1 + rng.below(30), 1 + rng.below(8));
        let policy = gen::policy(&mut rng, signals, routes, depth);
        let program = routerc::engine::ir::lower(&policy);
        if !routerc::engine::ir::certain_signals(&program).is_empty() {
            with += 1;
        }
    }
    assert!(
        with >= 40,
        "only {with} of 200 policies have certain signals"
    );
}
