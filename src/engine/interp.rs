//! The reference interpreter: the IR's meaning, stated as directly as possible.
//!
//! The JIT must agree with it on every policy and every frame, including which signals were
//! read (property-tested in tests/engine.rs). It is also the engine behind `--explain`, which
//! needs to say why each route failed.

use super::frame::{self, Frame, SignalSource, PRESENT, UNKNOWN};
use super::ir::{Action, Choice, Expr, Program, Read, Test};
use crate::policy::{Selection, Type};

/// Evaluates the policy: the index of the chosen route, with the leaf chosen for each of its
/// slots written to `choices` (which must hold [`Program::max_slots`] entries). Selected by
/// priority, that is the first route whose condition holds. Selected by confidence, the
/// tiers are tried in order and in the first with a matching route, every route is
/// evaluated and the most confident wins (the first on ties).
pub fn decide(
    program: &Program,
    frame: &mut Frame,
    source: &mut dyn SignalSource,
    choices: &mut [u32],
) -> u32 {
    let mut start = 0;
    while start < program.routes.len() {
        let end = match program.selection {
            Selection::Priority => start + 1,
            Selection::Confidence => program.tier_end(start),
        };
        let mut best: Option<(usize, f64)> = None;
        for i in start..end {
            if !eval(&program.routes[i].cond, frame, source) {
                continue;
            }
            if !program.by_confidence(start..end) {
                best = Some((i, 1.0));
                break;
            }
            let c = score(program, program.score(i), frame, source);
            if best.is_none_or(|(_, b)| c > b) {
                best = Some((i, c));
            }
        }
        if let Some((i, _)) = best {
            choose(program, i, frame, source, choices);
            return i as u32;
        }
        start = end;
    }
    // Only reachable for a program without a default route (never produced by lowering).
    u32::MAX
}

/// The confidence of an expression that holds (see `policy::Cond::confidence`): a test's
/// signal score, or 1.0; the mean of `and`'s operands, summed left to right; the largest
/// among the operands of `or` that hold, each evaluated; 1.0 for `not`.
pub fn score(program: &Program, e: &Expr, frame: &mut Frame, source: &mut dyn SignalSource) -> f64 {
    match e {
        Expr::True | Expr::Not(_) => 1.0,
        Expr::False => 0.0,
        Expr::And(items) => match items.split_first() {
            Some((first, rest)) => {
                let mut sum = score(program, first, frame, source);
                for i in rest {
                    sum += score(program, i, frame, source);
                }
                sum / items.len() as f64
            }
            None => 1.0,
        },
        Expr::Or(items) => {
            let mut best: Option<f64> = None;
            for i in items {
                if eval(i, frame, source) {
                    let x = score(program, i, frame, source);
                    if best.is_none_or(|b| x > b) {
                        best = Some(x);
                    }
                }
            }
            best.unwrap_or(0.0)
        }
        Expr::Test(t) => {
            // The test holds, so its signal was read; reading again fetches nothing.
            test(t, frame, source);
            match leaf_score(program, t) {
                Some(field) => frame.get_f64(frame.layout().offsets[t.signal() as usize] + field),
                None => 1.0,
            }
        }
    }
}

/// Where in its signal's value a test's score is (an offset into the value), or `None` when
/// the test reports no score.
pub fn leaf_score(program: &Program, t: &Test) -> Option<usize> {
    match t {
        Test::Cmp {
            read: Read::Value(s),
            ..
        } => matches!(
            program.signals.get(*s as usize).map(|s| &s.ty),
            Some(Type::Score | Type::Similarity)
        )
        .then_some(0),
        Test::Cmp {
            read: Read::Confidence(_),
            ..
        }
        | Test::LabelIn { .. } => Some(8),
        Test::Cmp {
            read: Read::Prob(_, l),
            ..
        } => Some(16 + 8 * *l as usize),
        _ => None,
    }
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
