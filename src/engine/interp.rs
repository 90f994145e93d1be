//! The reference interpreter: the IR's meaning, stated as directly as possible.
//!
//! The JIT must agree with it on every policy and every frame, including which signals were
//! read (property-tested in tests/engine.rs). It is also the engine behind `--explain`, which
//! needs to say why each route failed.

use super::frame::{self, Frame, SignalSource, PRESENT, UNKNOWN};
use super::ir::{Action, Choice, Expr, Program, Read, Test};

/// Evaluates the policy: the index of the first route whose condition holds, with the leaf
/// chosen for each of its slots written to `choices` (which must hold
/// [`Program::max_slots`] entries).
pub fn decide(
    program: &Program,
    frame: &mut Frame,
    source: &mut dyn SignalSource,
    choices: &mut [u32],
) -> u32 {
    for (i, route) in program.routes.iter().enumerate() {
        if eval(&route.cond, frame, source) {
            choose(program, i, frame, source, choices);
            return i as u32;
        }
    }
    // Only reachable for a program without a default route (never produced by lowering).
    u32::MAX
}

/// Writes the chosen leaf of each slot of route `route`.
pub fn choose(
    program: &Program,
    route: usize,
    frame: &mut Frame,
    source: &mut dyn SignalSource,
    choices: &mut [u32],
) {
    if let Action::Forward(f) = &program.routes[route].action {
        for (k, slot) in f.slots.iter().enumerate() {
            choices[k] = pick(&slot.choice, frame, source);
        }
    }
}

fn pick(c: &Choice, frame: &mut Frame, source: &mut dyn SignalSource) -> u32 {
    match c {
        Choice::Leaf(i) => *i,
        Choice::If {
            cond,
            then,
            otherwise,
        } => {
            if eval(cond, frame, source) {
                pick(then, frame, source)
            } else {
                pick(otherwise, frame, source)
            }
        }
    }
}

pub fn eval(e: &Expr, frame: &mut Frame, source: &mut dyn SignalSource) -> bool {
    match e {
        Expr::True => true,
        Expr::False => false,
        Expr::And(items) => items.iter().all(|i| eval(i, frame, source)),
        Expr::Or(items) => items.iter().any(|i| eval(i, frame, source)),
        Expr::Not(inner) => !eval(inner, frame, source),
        Expr::Test(t) => test(t, frame, source),
    }
}

fn test(t: &Test, frame: &mut Frame, source: &mut dyn SignalSource) -> bool {
    let s = t.signal();
    let mut status = frame.status(s);
    if status == UNKNOWN {
        status = frame::fetch(source, frame, s);
    }
    frame.mark_read(s);
    if status != PRESENT {
        return false;
    }
    let at = frame.layout().offsets[s as usize];
    match t {
        Test::Bool { value, .. } => (frame.get_u8(at) != 0) == *value,
        Test::Cmp { read, op, value } => {
            let x = match *read {
                Read::Value(_) => frame.get_f64(at),
                Read::Confidence(_) => frame.get_f64(at + 8),
                Read::Prob(_, l) => frame.get_f64(at + 16 + 8 * l as usize),
                Read::Count(_) => frame.get_f64(at),
            };
            op.apply(x, *value)
        }
        Test::LabelIn { labels, .. } => labels.contains(&frame.get_u32(at)),
        Test::Contains { label, .. } => {
            let word = frame.get_u64(at + 8 + 8 * (*label as usize / 64));
            word & (1u64 << (label % 64)) != 0
        }
        Test::StrIn { strings, .. } => strings.contains(&frame.get_u32(at)),
    }
}

/// Like [`eval`], recording each test evaluated with its result (for `--explain`).
pub fn eval_traced<'p>(
    e: &'p Expr,
    frame: &mut Frame,
    source: &mut dyn SignalSource,
    steps: &mut Vec<(&'p Test, bool)>,
) -> bool {
    match e {
        Expr::True => true,
        Expr::False => false,
        Expr::And(items) => items.iter().all(|i| eval_traced(i, frame, source, steps)),
        Expr::Or(items) => items.iter().any(|i| eval_traced(i, frame, source, steps)),
        Expr::Not(inner) => !eval_traced(inner, frame, source, steps),
        Expr::Test(t) => {
            let r = test(t, frame, source);
            steps.push((t, r));
            r
        }
    }
}
