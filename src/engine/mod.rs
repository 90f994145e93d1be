//! The decision engine: the IR ([`ir`]), the reference interpreter ([`interp`]), the
//! Cranelift JIT ([`jit`]), signal frames with lazy signals ([`frame`]), compiled bundles
//! ([`bundle`]), and what `routerc eval` and `routerc test` need around them.

pub mod bundle;
pub mod decision;
pub mod frame;
pub mod interp;
pub mod ir;
pub mod jit;
pub mod show;
pub mod signals;
pub mod testing;

use std::sync::Arc;

use frame::{Frame, Kind, Layout, SignalSource};
use ir::{Action, Choice, Expr, Program, Read, Test, Value};

pub use decision::{Decision, Outcome, Rewrite};

/// A policy ready to decide: the program, its frame layout and its native code.
pub struct CompiledPolicy {
    program: Program,
    layout: Arc<Layout>,
    jit: jit::Jit,
    slots: usize,
}

#[derive(Debug)]
pub enum EngineError {
    /// The program breaks an invariant the engines rely on (only possible for a program that
    /// did not come from lowering a checked policy, such as a tampered bundle).
    Invalid(String),
    Jit(jit::JitError),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Invalid(m) => write!(f, "invalid compiled policy: {m}"),
            EngineError::Jit(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for EngineError {}

impl CompiledPolicy {
    /// Validates the program and compiles it to native code.
    pub fn new(program: Program) -> Result<CompiledPolicy, EngineError> {
        Self::with_emit(program, jit::Emit::default())
    }

    pub fn with_emit(program: Program, emit: jit::Emit) -> Result<CompiledPolicy, EngineError> {
        Self::with_options(
            program,
            jit::Options {
                emit,
                ..jit::Options::default()
            },
        )
    }

    /// Compiles with explicit code generation options (tests cut small policies into many
    /// native functions this way).
    pub fn with_options(
        program: Program,
        options: jit::Options,
    ) -> Result<CompiledPolicy, EngineError> {
        let layout = Layout::new(&program);
        validate_with(&program, &layout).map_err(EngineError::Invalid)?;
        let layout = Arc::new(layout);
        let jit =
            jit::Jit::compile_with(&program, layout.clone(), options).map_err(EngineError::Jit)?;
        Ok(CompiledPolicy {
            slots: program.max_slots(),
            program,
            layout,
            jit,
        })
    }

    /// Lowers and compiles a checked policy.
    pub fn from_policy(policy: &crate::policy::Policy) -> Result<CompiledPolicy, EngineError> {
        Self::new(ir::lower(policy))
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn jit(&self) -> &jit::Jit {
        &self.jit
    }

    /// A frame for this policy's signals, all unknown.
    pub fn frame(&self) -> Frame {
        Frame::new(self.layout.clone())
    }

    /// A buffer for the parameter choices of any route.
    pub fn choices(&self) -> Vec<u32> {
        vec![0; self.slots]
    }

    /// Decides with native code. No allocation, no lock; signals with unknown status are
    /// fetched from `source` when evaluation reaches them.
    pub fn decide(
        &self,
        frame: &mut Frame,
        source: &mut dyn SignalSource,
        choices: &mut [u32],
    ) -> usize {
        self.jit.decide(frame, source, choices) as usize
    }

    /// Decides with the reference interpreter.
    pub fn interpret(
        &self,
        frame: &mut Frame,
        source: &mut dyn SignalSource,
        choices: &mut [u32],
    ) -> usize {
        assert!(
            std::ptr::eq(frame.layout(), &*self.layout),
            "frame from another policy"
        );
        interp::decide(&self.program, frame, source, choices) as usize
    }

    /// The decision as values: what the route does, with every parameter resolved.
    pub fn decision(&self, route: usize, choices: &[u32], frame: &Frame) -> Decision {
        Decision::new(&self.program, route, choices, frame)
    }
}

/// Checks every invariant the engines rely on: indices in range, tests on signals of the
/// right kind, a final route that always matches. Native code trusts the program, so a
/// program from outside (a bundle) must pass this before it is compiled.
pub fn validate(p: &Program) -> Result<(), String> {
    validate_with(p, &Layout::new(p))
}

fn validate_with(p: &Program, layout: &Layout) -> Result<(), String> {
    let Some(last) = p.routes.last() else {
        return Err("the policy has no routes".into());
    };
    // Native code answers with a route index or a signal id tagged by this bit.
    if p.routes.len() >= jit::NEED_SIGNAL as usize || p.signals.len() >= jit::NEED_SIGNAL as usize {
        return Err("the policy has too many routes or signals".into());
    }
    if last.cond != Expr::True {
        return Err(format!(
            "the last route `{}` does not always match (a default route must come last)",
            last.name
        ));
    }
    for r in &p.routes {
        let at = |m: String| format!("route `{}`: {m}", r.name);
        expr(p, layout, &r.cond, 0).map_err(at)?;
        if let Some(score) = &r.score {
            expr(p, layout, score, 0).map_err(at)?;
        }
        if let Action::Forward(f) = &r.action {
            for b in std::iter::once(&f.backend).chain(&f.fallback) {
                if *b as usize >= p.backends.len() {
                    return Err(at(format!("backend #{b} does not exist")));
                }
            }
            for slot in &f.slots {
                choice(p, layout, &slot.choice, slot.values.len(), 0).map_err(at)?;
                for v in &slot.values {
                    if let Value::Prompt(id) = v {
                        if *id as usize >= p.prompts.len() {
                            return Err(at(format!("prompt #{id} does not exist")));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Deeper than the parser ever produces (64), shallow enough for the recursive passes.
const MAX_DEPTH: usize = 200;

fn choice(p: &Program, l: &Layout, c: &Choice, leaves: usize, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("parameter nested too deeply".into());
    }
    match c {
        Choice::Leaf(i) if (*i as usize) < leaves => Ok(()),
        Choice::Leaf(i) => Err(format!("parameter value #{i} does not exist")),
        Choice::If {
            cond,
            then,
            otherwise,
        } => {
            expr(p, l, cond, depth + 1)?;
            choice(p, l, then, leaves, depth + 1)?;
            choice(p, l, otherwise, leaves, depth + 1)
        }
    }
}

fn expr(p: &Program, l: &Layout, e: &Expr, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err("condition nested too deeply".into());
    }
    match e {
        Expr::True | Expr::False => Ok(()),
        Expr::And(items) | Expr::Or(items) => {
            items.iter().try_for_each(|i| expr(p, l, i, depth + 1))
        }
        Expr::Not(inner) => expr(p, l, inner, depth + 1),
        Expr::Test(t) => {
            let s = t.signal();
            let Some(&kind) = l.kinds.get(s as usize) else {
                return Err(format!("signal #{s} does not exist"));
            };
            let ok = match (t, kind) {
                (Test::Bool { .. }, Kind::Bool) => true,
                (Test::Cmp { read, .. }, k) => match (read, k) {
                    (Read::Value(_), Kind::Number) => true,
                    (Read::Confidence(_), Kind::Category(_)) => true,
                    (Read::Prob(_, label), Kind::Category(n)) => *label < n,
                    (Read::Count(_), Kind::Set(_)) => true,
                    _ => false,
                },
                (Test::LabelIn { labels, .. }, Kind::Category(n)) => labels.iter().all(|&x| x < n),
                (Test::Contains { label, .. }, Kind::Set(n)) => *label < n,
                (Test::StrIn { strings, .. }, Kind::String) => {
                    strings.iter().all(|&x| (x as usize) < p.strings.len())
                }
                _ => false,
            };
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "a test of signal `{}` does not fit its type",
                    p.signals[s as usize].name
                ))
            }
        }
    }
}

/// A policy ready to compile: from source (checked) or from a bundle.
pub struct Loaded {
    pub program: Program,
    /// The checked policy, when loaded from source (tests live here).
    pub policy: Option<crate::policy::Policy>,
    /// The sources and their diagnostics (warnings only), when loaded from source.
    pub sources: Option<(crate::source::Program, crate::diagnostic::Diagnostics)>,
    pub source_hash: String,
}

pub enum LoadError {
    /// The file cannot be read.
    Io(String),
    /// The source has errors: render them over the sources.
    Diagnostics(crate::source::Program, crate::diagnostic::Diagnostics),
    Bundle(bundle::BundleError),
}

/// Loads a policy source file (with its includes, checked) or a compiled bundle, telling
/// them apart by the bundle signature.
pub fn load(
    path: &std::path::Path,
    provider: &dyn crate::source::SourceProvider,
) -> Result<Loaded, LoadError> {
    let head = read_head(path)
        .map_err(|e| LoadError::Io(format!("cannot read `{}`: {e}", path.display())))?;
    if bundle::is_bundle(&head) {
        let bytes = std::fs::read(path)
            .map_err(|e| LoadError::Io(format!("cannot read `{}`: {e}", path.display())))?;
        let contents = bundle::read(&bytes).map_err(LoadError::Bundle)?;
        return Ok(Loaded {
            program: contents.program,
            policy: None,
            sources: None,
            source_hash: contents.source_hash,
        });
    }
    let (sources, checked) = crate::check_file(path, provider);
    match checked.policy {
        Some(policy) if !checked.diagnostics.has_errors() => Ok(Loaded {
            program: ir::lower(&policy),
            policy: Some(policy),
            source_hash: bundle::source_hash(&sources.sources),
            sources: Some((sources, checked.diagnostics)),
        }),
        _ => Err(LoadError::Diagnostics(sources, checked.diagnostics)),
    }
}

fn read_head(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut head = Vec::with_capacity(bundle::MAGIC.len());
    std::fs::File::open(path)?
        .take(bundle::MAGIC.len() as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// Why each route up to the chosen one matched or not, for `routerc eval --explain`: the
/// tests evaluated in order, each with the signal's value and the result. Under selection by
/// confidence, every route of the chosen route's tier is listed, and those that matched
/// with their confidence.
pub fn explain(
    engine: &CompiledPolicy,
    source: &mut dyn SignalSource,
    chosen: usize,
) -> serde_json::Value {
    let program = engine.program();
    let mut frame = engine.frame();
    let mut tried = Vec::new();
    let last = match program.selection {
        crate::policy::Selection::Priority => chosen + 1,
        crate::policy::Selection::Confidence => {
            program.tier_end(chosen.min(program.routes.len() - 1))
        }
    };
    let mut tier = 0..0;
    for (i, route) in program.routes.iter().enumerate().take(last) {
        if i >= tier.end {
            tier = i..match program.selection {
                crate::policy::Selection::Priority => i + 1,
                crate::policy::Selection::Confidence => program.tier_end(i),
            };
        }
        let ranked = program.by_confidence(tier.clone());
        let mut steps = Vec::new();
        let matched = interp::eval_traced(&route.cond, &mut frame, source, &mut steps);
        let tests: Vec<serde_json::Value> = steps
            .iter()
            .map(|(t, r)| {
                serde_json::json!({
                    "test": show::test(program, t),
                    "value": show::signal_value(program, &frame, t.signal()),
                    "result": r,
                })
            })
            .collect();
        let mut entry = serde_json::json!({
            "route": route.name,
            "matched": matched,
            "tests": tests,
        });
        if ranked && matched {
            let c = interp::score(program, program.score(i), &mut frame, source);
            entry["confidence"] = serde_json::json!(c);
        }
        tried.push(entry);
        if !ranked && (matched || i == chosen) {
            break;
        }
    }
    serde_json::Value::Array(tried)
}

/// The policy a server is running, replaceable while requests are being decided.
///
/// A request takes the current policy (an `Arc`) and decides on it to the end; a reload
/// swaps in a new one without waiting for them. The old policy, with its native code, is
/// freed when the last request holding it finishes. `T` is the compiled policy, or what a
/// server keeps beside it that must change with it in one swap (the gateway's upstreams).
pub struct Live<T = CompiledPolicy> {
    current: arc_swap::ArcSwap<T>,
}

impl<T> Live<T> {
    pub fn new(policy: T) -> Live<T> {
        Live {
            current: arc_swap::ArcSwap::from_pointee(policy),
        }
    }

    pub fn current(&self) -> Arc<T> {
        self.current.load_full()
    }

    /// Makes `policy` the one new requests see; returns the one it replaces.
    pub fn replace(&self, policy: T) -> Arc<T> {
        self.current.swap(Arc::new(policy))
    }
}
