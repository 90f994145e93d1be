//! Decision speed: native code, the reference interpreter and the `cel` crate on the same
//! conditions, side by side in one run; and compile time (parse + check + lower + JIT).
//!
//! `cargo bench --bench engine`. Policies of 8, 64 and 512 routes from
//! tests/support/realistic.rs; each iteration decides one request from a fixed mix of 256
//! realistic requests whose signals are already computed (what is measured is deciding, not
//! extracting). The CEL side gets every advantage: its programs are compiled and each
//! request's context is built before timing, and it only evaluates route conditions, not
//! parameters.

#[path = "../tests/support/gen.rs"]
mod gen;
#[path = "../tests/support/realistic.rs"]
mod realistic;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use routerc::engine::frame::{Frame, NoSignals};
use routerc::engine::ir::{Expr, Program, Read, Test};
use routerc::engine::jit::Options;
use routerc::engine::CompiledPolicy;
use routerc::policy::SignalValue;

// The allocator the `routerc` binary uses, so the figures are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REQUESTS: usize = 256;

fn compiled(routes: usize) -> CompiledPolicy {
    let (_, checked) = routerc::check_text("bench.route", &realistic::policy(routes));
    let policy = checked.policy.expect("the benchmark policy checks");
    CompiledPolicy::from_policy(&policy).expect("compiles")
}

fn frames(engine: &CompiledPolicy, requests: &[Vec<Option<SignalValue>>]) -> Vec<Frame> {
    requests
        .iter()
        .map(|values| {
            let mut f = engine.frame();
            for (s, v) in values.iter().enumerate() {
                f.set(s as u32, v.as_ref()).expect("values fit");
            }
            f
        })
        .collect()
}

/// The condition in CEL, over variables named after the signals (`domain` is the top label,
/// `domain_confidence` its confidence, `domain_probs` the probability of each label).
fn cel(p: &Program, e: &Expr) -> String {
    let join = |items: &[Expr], op: &str| {
        let parts: Vec<String> = items.iter().map(|i| cel(p, i)).collect();
        format!("({})", parts.join(op))
    };
    let name = |s: u32| p.signals[s as usize].name.clone();
    let label = |s: u32, l: u32| format!("{:?}", p.signals[s as usize].ty.labels()[l as usize]);
    match e {
        Expr::True => "true".into(),
        Expr::False => "false".into(),
        Expr::And(items) => join(items, " && "),
        Expr::Or(items) => join(items, " || "),
        Expr::Not(inner) => format!("!({})", cel(p, inner)),
        Expr::Test(t) => match t {
            Test::Bool { signal, value } => format!("{} == {value}", name(*signal)),
            Test::Cmp { read, op, value } => {
                let lhs = match *read {
                    Read::Value(s) => name(s),
                    Read::Confidence(s) => format!("{}_confidence", name(s)),
                    Read::Prob(s, l) => format!("{}_probs[{}]", name(s), label(s, l)),
                    Read::Count(s) => format!("size({})", name(s)),
                };
                // Integer signals are CEL ints; compare with an int literal.
                let rhs = if lhs == "prompt_tokens" {
                    format!("{}", *value as i64)
                } else {
                    format!("{value:?}")
                };
                format!("{lhs} {} {rhs}", op.symbol())
            }
            Test::LabelIn { signal, labels } => {
                let ls: Vec<String> = labels.iter().map(|l| label(*signal, *l)).collect();
                format!("{} in [{}]", name(*signal), ls.join(", "))
            }
            Test::Contains { signal, label: l } => {
                format!("{} in {}", label(*signal, *l), name(*signal))
            }
            Test::StrIn { signal, strings } => {
                let ss: Vec<String> = strings
                    .iter()
                    .map(|s| format!("{:?}", p.strings[*s as usize]))
                    .collect();
                format!("{} in [{}]", name(*signal), ss.join(", "))
            }
        },
    }
}

fn cel_context<'a>(env: &Arc<cel::Env>, values: &[Option<SignalValue>]) -> cel::Context<'a, 'a> {
    use realistic::*;
    let mut ctx = cel::Context::with_env(env.clone());
    let num = |s: u32| match &values[s as usize] {
        Some(SignalValue::Number(x)) => *x,
        _ => 0.0,
    };
    let text = |s: u32| match &values[s as usize] {
        Some(SignalValue::String(t)) => t.clone(),
        _ => String::new(),
    };
    ctx.add_variable("jailbreak", num(JAILBREAK)).expect("var");
    ctx.add_variable("hr", num(HR)).expect("var");
    ctx.add_variable("prompt_tokens", num(TOKENS) as i64)
        .expect("var");
    ctx.add_variable("role", text(ROLE)).expect("var");
    ctx.add_variable("lang", text(LANG)).expect("var");
    ctx.add_variable("tenant", text(TENANT)).expect("var");
    let greeting = matches!(values[GREETING as usize], Some(SignalValue::Bool(true)));
    ctx.add_variable("greeting", greeting).expect("var");
    let titan = matches!(values[TITAN as usize], Some(SignalValue::Bool(true)));
    ctx.add_variable("titan", titan).expect("var");
    if let Some(SignalValue::Set(members)) = &values[PII_SET as usize] {
        let names: Vec<String> = members
            .iter()
            .map(|m| PII[*m as usize].to_string())
            .collect();
        ctx.add_variable("pii", names).expect("var");
    }
    if let Some(SignalValue::Category(probs)) = &values[DOMAIN as usize] {
        let (top, conf) = SignalValue::top_label(probs).expect("no NaN in traffic");
        ctx.add_variable("domain", DOMAINS[top as usize])
            .expect("var");
        ctx.add_variable("domain_confidence", conf).expect("var");
        let map: std::collections::HashMap<String, f64> = DOMAINS
            .iter()
            .zip(probs)
            .map(|(d, p)| (d.to_string(), *p))
            .collect();
        ctx.add_variable("domain_probs", map).expect("var");
    }
    ctx
}

fn decide(c: &mut Criterion) {
    let mut rng = gen::Rng::new(42);
    let requests: Vec<_> = (0..REQUESTS)
        .map(|_| realistic::request(&mut rng))
        .collect();
    let env = Arc::new(cel::Env::stdlib());
    let mut group = c.benchmark_group("decide");
    for routes in [8, 64, 512] {
        let engine = compiled(routes);
        let mut jit_frames = frames(&engine, &requests);
        let mut int_frames = frames(&engine, &requests);
        let mut choices = engine.choices();

        // The three must agree before their speed means anything.
        let programs: Vec<cel::Program> = engine
            .program()
            .routes
            .iter()
            .map(|r| {
                env.compile(&cel(engine.program(), &r.cond))
                    .expect("CEL compiles")
            })
            .collect();
        let contexts: Vec<_> = requests.iter().map(|v| cel_context(&env, v)).collect();
        let cel_decide = |ctx: &cel::Context| {
            programs
                .iter()
                .position(|p| p.execute(ctx) == Ok(cel::Value::Bool(true)))
                .unwrap_or(usize::MAX)
        };
        for i in 0..REQUESTS {
            let a = engine.decide(&mut jit_frames[i], &mut NoSignals, &mut choices);
            let b = engine.interpret(&mut int_frames[i], &mut NoSignals, &mut choices);
            assert_eq!(a, b, "request {i}");
            assert_eq!(a, cel_decide(&contexts[i]), "CEL disagrees on request {i}");
        }

        let mut i = 0;
        group.bench_with_input(BenchmarkId::new("jit", routes), &routes, |b, _| {
            b.iter(|| {
                i = (i + 1) % REQUESTS;
                let f = &mut jit_frames[i];
                f.clear_reads();
                black_box(engine.decide(f, &mut NoSignals, &mut choices))
            })
        });
        group.bench_with_input(BenchmarkId::new("interpreter", routes), &routes, |b, _| {
            b.iter(|| {
                i = (i + 1) % REQUESTS;
                let f = &mut int_frames[i];
                f.clear_reads();
                black_box(engine.interpret(f, &mut NoSignals, &mut choices))
            })
        });
        group.bench_with_input(BenchmarkId::new("cel", routes), &routes, |b, _| {
            b.iter(|| {
                i = (i + 1) % REQUESTS;
                black_box(cel_decide(&contexts[i]))
            })
        });
    }
    group.finish();
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    for routes in [10, 100, 1000] {
        let text = realistic::policy(routes);
        group.bench_with_input(
            BenchmarkId::new("parse_check_jit", routes),
            &text,
            |b, text| {
                b.iter(|| {
                    let (_, checked) = routerc::check_text("bench.route", text);
                    let policy = checked.policy.expect("checks");
                    black_box(CompiledPolicy::from_policy(&policy).expect("compiles"))
                })
            },
        );
        // The two halves, to see where the time goes.
        group.bench_with_input(BenchmarkId::new("parse_check", routes), &text, |b, text| {
            b.iter(|| black_box(routerc::check_text("bench.route", text)))
        });
        let (_, checked) = routerc::check_text("bench.route", &text);
        let program = routerc::engine::ir::lower(&checked.policy.expect("checks"));
        group.bench_with_input(BenchmarkId::new("jit", routes), &program, |b, program| {
            b.iter(|| black_box(CompiledPolicy::new(program.clone()).expect("compiles")))
        });
        // The same as one native function, to see what cutting large policies into parts
        // compiled in parallel saves.
        let single = Options {
            part_weight: usize::MAX,
            ..Options::default()
        };
        if CompiledPolicy::new(program.clone())
            .expect("compiles")
            .jit()
            .parts()
            > 1
        {
            group.bench_with_input(
                BenchmarkId::new("jit_one_function", routes),
                &program,
                |b, program| {
                    b.iter(|| {
                        black_box(
                            CompiledPolicy::with_options(program.clone(), single)
                                .expect("compiles"),
                        )
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, decide, compile);
criterion_main!(benches);
