//! Lints over a checked policy: unreachable routes, constant conditions and overlapping routes
//! of equal priority.
//!
//! Conditions are reasoned about symbolically. Each signal read is a variable (a bool, a
//! number read, a category's top label, one label's membership in a set, a string) whose
//! possible values, including "absent", form a constraint: a set of intervals for numbers, a
//! set (or co-set) of values otherwise. A condition becomes a disjunction of cubes (one
//! constraint per variable), and questions become set questions:
//! - always false: no non-empty cube;
//! - always true: the cubes cover every value of every variable;
//! - unreachable: each cube of the route is covered by the cubes of routes tried before it;
//! - overlap: a cube of one route intersects a cube of the other.
//!
//! Variables are treated as independent (a category's confidence does not constrain its top
//! label, for instance). That only ever adds combinations that cannot really happen, so
//! "always", "never" and "covered" verdicts stay true; a lint may be missed, never invented.
//! Work is bounded: a condition with too many cubes, or a cover search past its budget, is
//! simply not reported, and each route is compared with at most [`WINDOW`] routes before it.

use std::hash::{Hash, Hasher};
use std::rc::Rc;

use super::FastMap as HashMap;

use crate::diagnostic::{codes, Diagnostic};
use crate::policy::*;
use crate::syntax::ast::CmpOp;

/// How many earlier routes a route is compared with, at most.
const WINDOW: usize = 256;
/// Route comparisons per policy: huge policies get a narrower window so checking stays linear.
const PAIR_BUDGET: usize = 500_000;
/// Conditions with more atoms than this are not linted.
const MAX_ATOMS: usize = 256;
/// Largest disjunctive form kept for a condition.
const MAX_CUBES: usize = 256;
/// Steps one cover search may take.
const COVER_BUDGET: u32 = 4096;
/// Cover-search steps spent choosing which earlier routes an unreachable-route warning names.
const NAMING_BUDGET: u32 = 2 * COVER_BUDGET;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Var {
    Bool(SignalId),
    Num(NumRead),
    Label(SignalId),
    Contains(SignalId, LabelId),
    Str(SignalId),
}

/// An interval of numbers; for integer variables the bounds are closed integers.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Interval {
    lo: f64,
    lo_closed: bool,
    hi: f64,
    hi_closed: bool,
}

impl Interval {
    fn is_empty(&self) -> bool {
        self.lo > self.hi || (self.lo == self.hi && !(self.lo_closed && self.hi_closed))
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Values {
    /// Sorted, disjoint, non-empty intervals.
    Num(Vec<Interval>),
    /// Exactly these values (sorted, no duplicates).
    In(Vec<u32>),
    /// Every value but these (strings, whose values are unbounded; sorted, no duplicates).
    NotIn(Vec<u32>),
}

/// The values a variable may take, and whether it may be absent.
#[derive(Clone, Debug, PartialEq)]
struct Constraint {
    absent: bool,
    values: Values,
}

/// Per-signal facts that give each variable its universe of values.
struct Universe {
    strings: HashMap<String, u32>,
    /// Per signal: number of labels, value range, whether its value is an integer.
    labels: Vec<u32>,
    ranges: Vec<(f64, f64)>,
    integer: Vec<bool>,
}

impl Universe {
    fn new(policy: &Policy) -> Universe {
        let all = (f64::NEG_INFINITY, f64::INFINITY);
        Universe {
            strings: HashMap::default(),
            labels: policy
                .signals
                .iter()
                .map(|s| s.ty.labels().len() as u32)
                .collect(),
            ranges: policy
                .signals
                .iter()
                .map(|s| s.ty.range().unwrap_or(all))
                .collect(),
            integer: policy.signals.iter().map(|s| s.ty == Type::Int).collect(),
        }
    }

    fn is_integer(&self, v: Var) -> bool {
        match v {
            Var::Num(NumRead::Value(s)) => self.integer[s.0 as usize],
            Var::Num(NumRead::Count(_)) => true,
            _ => false,
        }
    }

    fn full(&self, v: Var) -> Constraint {
        let values = match v {
            Var::Bool(_) | Var::Contains(..) => Values::In(vec![0, 1]),
            Var::Label(s) => Values::In((0..self.labels[s.0 as usize]).collect()),
            Var::Str(_) => Values::NotIn(Vec::new()),
            Var::Num(read) => {
                let (lo, hi) = match read {
                    NumRead::Value(s) => self.ranges[s.0 as usize],
                    NumRead::Confidence(_) | NumRead::Prob(..) => (0.0, 1.0),
                    NumRead::Count(s) => (0.0, f64::from(self.labels[s.0 as usize])),
                };
                Values::Num(vec![Interval {
                    lo,
                    lo_closed: lo.is_finite(),
                    hi,
                    hi_closed: hi.is_finite(),
                }])
            }
        };
        Constraint {
            absent: true,
            values,
        }
    }

    fn intern(&mut self, s: &str) -> u32 {
        let n = self.strings.len() as u32;
        *self.strings.entry(s.to_string()).or_insert(n)
    }

    /// The constraint an atom puts on its variable.
    fn atom(&mut self, atom: &Atom) -> (Var, Constraint) {
        let (var, values) = match atom {
            Atom::Bool { signal, value } => {
                (Var::Bool(*signal), Values::In(vec![u32::from(*value)]))
            }
            Atom::Label { signal, labels } => {
                (Var::Label(*signal), Values::In(sorted(labels.clone())))
            }
            Atom::Contains { signal, label } => {
                (Var::Contains(*signal, *label), Values::In(vec![1]))
            }
            Atom::Str { signal, values } => {
                let ids = values.iter().map(|s| self.intern(s)).collect();
                (Var::Str(*signal), Values::In(sorted(ids)))
            }
            Atom::Num { read, op, value } => {
                let v = *value;
                let i = match op {
                    CmpOp::Lt => Interval {
                        lo: f64::NEG_INFINITY,
                        lo_closed: false,
                        hi: v,
                        hi_closed: false,
                    },
                    CmpOp::Le => Interval {
                        lo: f64::NEG_INFINITY,
                        lo_closed: false,
                        hi: v,
                        hi_closed: true,
                    },
                    CmpOp::Gt => Interval {
                        lo: v,
                        lo_closed: false,
                        hi: f64::INFINITY,
                        hi_closed: false,
                    },
                    CmpOp::Ge => Interval {
                        lo: v,
                        lo_closed: true,
                        hi: f64::INFINITY,
                        hi_closed: false,
                    },
                    CmpOp::Eq | CmpOp::Ne => Interval {
                        lo: v,
                        lo_closed: true,
                        hi: v,
                        hi_closed: true,
                    },
                };
                (Var::Num(*read), Values::Num(vec![i]))
            }
        };
        // Within the variable's universe: what intersecting with `full(var)` gives, without
        // building the full set (this runs for every atom of every route).
        let values = match values {
            Values::In(mut x) => {
                if let Var::Bool(_) | Var::Contains(..) | Var::Label(_) = var {
                    let n = match var {
                        Var::Label(s) => self.labels[s.0 as usize],
                        _ => 2,
                    };
                    x.retain(|&v| v < n);
                }
                Values::In(x)
            }
            Values::Num(x) => {
                let Values::Num(full) = self.full(var).values else {
                    unreachable!("a number read has an interval universe")
                };
                Values::Num(self.normalise(var, vec![meet(&x[0], &full[0])]))
            }
            other => other,
        };
        (
            var,
            Constraint {
                absent: false,
                values,
            },
        )
    }

    /// Whether the intersection of two intervals of `var` holds a value: what `intersect`
    /// followed by `normalise` computes for one pair, without building either list.
    fn meet_is_nonempty(&self, var: Var, i: &Interval, j: &Interval) -> bool {
        let m = meet(i, j);
        let mut one = [m];
        if self.is_integer(var) {
            integer_bounds(&mut one);
        }
        !one[0].is_empty()
    }

    fn normalise(&self, var: Var, mut intervals: Vec<Interval>) -> Vec<Interval> {
        if self.is_integer(var) {
            integer_bounds(&mut intervals);
        }
        intervals.retain(|i| !i.is_empty());
        intervals.sort_by(|a, b| a.lo.total_cmp(&b.lo));
        intervals
    }

    fn intersect(&self, var: Var, a: &Constraint, b: &Constraint) -> Constraint {
        let values = match (&a.values, &b.values) {
            (Values::Num(x), Values::Num(y)) => {
                let mut out = Vec::with_capacity(x.len() * y.len());
                for i in x {
                    for j in y {
                        out.push(meet(i, j));
                    }
                }
                Values::Num(self.normalise(var, out))
            }
            (Values::In(x), Values::In(y)) => Values::In(
                x.iter()
                    .copied()
                    .filter(|v| y.binary_search(v).is_ok())
                    .collect(),
            ),
            (Values::In(x), Values::NotIn(y)) | (Values::NotIn(y), Values::In(x)) => Values::In(
                x.iter()
                    .copied()
                    .filter(|v| y.binary_search(v).is_err())
                    .collect(),
            ),
            (Values::NotIn(x), Values::NotIn(y)) => {
                Values::NotIn(sorted(x.iter().chain(y).copied().collect()))
            }
            // Variables keep one kind of value set; mixing cannot happen.
            (x, _) => x.clone(),
        };
        Constraint {
            absent: a.absent && b.absent,
            values,
        }
    }

    /// Every value of the variable's universe not allowed by `c`.
    fn complement(&self, var: Var, c: &Constraint) -> Constraint {
        let full = self.full(var);
        let values = match (&c.values, &full.values) {
            (Values::Num(x), _) => {
                let mut gaps = Vec::new();
                let mut lo = f64::NEG_INFINITY;
                let mut lo_closed = false;
                for i in x {
                    gaps.push(Interval {
                        lo,
                        lo_closed,
                        hi: i.lo,
                        hi_closed: !i.lo_closed,
                    });
                    lo = i.hi;
                    lo_closed = !i.hi_closed;
                }
                gaps.push(Interval {
                    lo,
                    lo_closed,
                    hi: f64::INFINITY,
                    hi_closed: false,
                });
                if self.is_integer(var) {
                    // With closed integer bounds, the gap next to [a, b] starts at b + 1.
                    for g in &mut gaps {
                        if g.lo.is_finite() && !g.lo_closed {
                            g.lo += 1.0;
                            g.lo_closed = true;
                        }
                        if g.hi.is_finite() && !g.hi_closed {
                            g.hi -= 1.0;
                            g.hi_closed = true;
                        }
                    }
                }
                let gaps = Constraint {
                    absent: false,
                    values: Values::Num(self.normalise(var, gaps)),
                };
                self.intersect(
                    var,
                    &gaps,
                    &Constraint {
                        absent: false,
                        values: full.values.clone(),
                    },
                )
                .values
            }
            (Values::In(x), Values::In(all)) => Values::In(
                all.iter()
                    .copied()
                    .filter(|v| x.binary_search(v).is_err())
                    .collect(),
            ),
            (Values::In(x), _) => Values::NotIn(x.clone()),
            (Values::NotIn(x), _) => Values::In(x.clone()),
        };
        Constraint {
            absent: !c.absent,
            values,
        }
    }

    fn is_empty(&self, c: &Constraint) -> bool {
        !c.absent
            && match &c.values {
                Values::Num(x) => x.is_empty(),
                Values::In(x) => x.is_empty(),
                Values::NotIn(_) => false,
            }
    }

    fn subset(&self, var: Var, a: &Constraint, b: &Constraint) -> bool {
        if a.absent && !b.absent {
            return false;
        }
        // Value sets compare directly (the cover search's inner loop); intervals go through
        // the complement.
        match (&a.values, &b.values) {
            (Values::In(x), Values::In(y)) => x.iter().all(|v| y.binary_search(v).is_ok()),
            (Values::In(x), Values::NotIn(y)) => x.iter().all(|v| y.binary_search(v).is_err()),
            (Values::NotIn(x), Values::NotIn(y)) => y.iter().all(|v| x.binary_search(v).is_ok()),
            // Strings are unbounded: all but finitely many is never within finitely many.
            (Values::NotIn(_), Values::In(_)) => false,
            _ => {
                let rest = self.intersect(var, a, &self.complement(var, b));
                self.is_empty(&rest)
            }
        }
    }
}

/// The intersection of two intervals (possibly empty).
fn meet(i: &Interval, j: &Interval) -> Interval {
    let (lo, lo_closed) = if i.lo > j.lo {
        (i.lo, i.lo_closed)
    } else if j.lo > i.lo {
        (j.lo, j.lo_closed)
    } else {
        (i.lo, i.lo_closed && j.lo_closed)
    };
    let (hi, hi_closed) = if i.hi < j.hi {
        (i.hi, i.hi_closed)
    } else if j.hi < i.hi {
        (j.hi, j.hi_closed)
    } else {
        (i.hi, i.hi_closed && j.hi_closed)
    };
    Interval {
        lo,
        lo_closed,
        hi,
        hi_closed,
    }
}

/// Closed integer bounds for the intervals of an integer variable.
fn integer_bounds(intervals: &mut [Interval]) {
    for i in intervals {
        if i.lo.is_finite() {
            i.lo = if i.lo_closed {
                i.lo.ceil()
            } else {
                i.lo.floor() + 1.0
            };
            i.lo_closed = true;
        }
        if i.hi.is_finite() {
            i.hi = if i.hi_closed {
                i.hi.floor()
            } else {
                i.hi.ceil() - 1.0
            };
            i.hi_closed = true;
        }
    }
}

/// A conjunction of constraints, one per variable (a missing variable is unconstrained).
type Cube = Vec<(Var, Constraint)>;

fn get(cube: &Cube, var: Var) -> Option<&Constraint> {
    cube.iter().find(|(v, _)| *v == var).map(|(_, c)| c)
}

/// The conjunction of two cubes, or `None` when it is empty.
fn and_cubes(u: &Universe, a: Cube, b: &Cube) -> Option<Cube> {
    let mut out = a;
    for (var, c) in b {
        match out.iter_mut().find(|(v, _)| v == var) {
            Some((_, existing)) => {
                let both = u.intersect(*var, existing, c);
                if u.is_empty(&both) {
                    return None;
                }
                *existing = both;
            }
            None => out.push((*var, c.clone())),
        }
    }
    Some(out)
}

/// The condition (negated when `negate`) as a disjunction of non-empty cubes; `None` when it
/// would exceed [`MAX_CUBES`].
fn dnf(u: &mut Universe, cond: &Cond, negate: bool) -> Option<Vec<Cube>> {
    let or = |u: &mut Universe, items: &[Cond], negate: bool| -> Option<Vec<Cube>> {
        let mut out = Vec::new();
        for i in items {
            out.extend(dnf(u, i, negate)?);
            if out.len() > MAX_CUBES {
                return None;
            }
        }
        Some(out)
    };
    let and = |u: &mut Universe, items: &[Cond], negate: bool| -> Option<Vec<Cube>> {
        let mut acc: Vec<Cube> = vec![Vec::new()];
        for i in items {
            let next = dnf(u, i, negate)?;
            let mut product = Vec::new();
            for a in acc {
                // The last pairing takes the cube itself: a chain of atoms (one cube each)
                // then grows one cube in place instead of copying it per atom.
                if let Some((last, rest)) = next.split_last() {
                    for b in rest {
                        if let Some(c) = and_cubes(u, a.clone(), b) {
                            product.push(c);
                        }
                    }
                    if let Some(c) = and_cubes(u, a, last) {
                        product.push(c);
                    }
                }
                if product.len() > MAX_CUBES {
                    return None;
                }
            }
            acc = product;
        }
        Some(acc)
    };
    match (cond, negate) {
        (Cond::True, false) | (Cond::False, true) => Some(vec![Vec::new()]),
        (Cond::True, true) | (Cond::False, false) => Some(Vec::new()),
        (Cond::And(items), false) | (Cond::Or(items), true) => and(u, items, negate),
        (Cond::Or(items), false) | (Cond::And(items), true) => or(u, items, negate),
        (Cond::Not(inner), _) => dnf(u, inner, !negate),
        (Cond::Atom(atom, _), _) => {
            let (var, c) = u.atom(atom);
            let c = if negate { u.complement(var, &c) } else { c };
            Some(if u.is_empty(&c) {
                Vec::new()
            } else {
                vec![vec![(var, c)]]
            })
        }
    }
}

fn atoms(c: &Cond) -> usize {
    match c {
        Cond::True | Cond::False => 0,
        Cond::Atom(..) => 1,
        Cond::Not(inner) => atoms(inner),
        Cond::And(items) | Cond::Or(items) => items.iter().map(atoms).sum(),
    }
}

fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Whether two constraints on one variable share a value, without building the intersection
/// (this is the lints' inner loop).
fn overlap(u: &Universe, var: Var, a: &Constraint, b: &Constraint) -> bool {
    if a.absent && b.absent {
        return true;
    }
    match (&a.values, &b.values) {
        (Values::Num(x), Values::Num(y)) => x
            .iter()
            .any(|i| y.iter().any(|j| u.meet_is_nonempty(var, i, j))),
        (Values::In(x), Values::In(y)) => {
            let (mut i, mut j) = (0, 0);
            while i < x.len() && j < y.len() {
                match x[i].cmp(&y[j]) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => return true,
                }
            }
            false
        }
        (Values::In(x), Values::NotIn(y)) | (Values::NotIn(y), Values::In(x)) => {
            x.iter().any(|v| y.binary_search(v).is_err())
        }
        (Values::NotIn(_), Values::NotIn(_)) => true,
        _ => false,
    }
}

fn intersects(u: &Universe, a: &Cube, b: &Cube) -> bool {
    a.iter().all(|(var, c)| match get(b, *var) {
        Some(d) => overlap(u, *var, c, d),
        None => true,
    })
}

/// Whether `cube` allows everything `target` allows.
fn contains(u: &Universe, cube: &Cube, target: &Cube) -> bool {
    cube.iter().all(|(var, c)| match get(target, *var) {
        Some(t) => u.subset(*var, t, c),
        None => u.subset(*var, &u.full(*var), c),
    })
}

/// One value of a variable, for a witness request.
#[derive(Clone, Copy)]
enum Point {
    Absent,
    Num(f64),
    Value(u32),
}

/// A request inside `target`: each of its variables absent where it may be (or, without
/// `prefer_absent`, present where it may be), every other variable absent. `None` when some
/// constraint is empty.
fn witness(u: &Universe, target: &Cube, prefer_absent: bool) -> Option<Vec<(Var, Point)>> {
    target
        .iter()
        .map(|(var, c)| {
            let present = || -> Option<Point> {
                match &c.values {
                    Values::Num(x) => x.first().map(|i| {
                        Point::Num(if i.lo.is_finite() && i.lo_closed {
                            i.lo
                        } else if i.hi.is_finite() && i.hi_closed {
                            i.hi
                        } else if i.lo.is_finite() && i.hi.is_finite() {
                            (i.lo + i.hi) / 2.0
                        } else if i.lo.is_finite() {
                            i.lo + 1.0
                        } else if i.hi.is_finite() {
                            i.hi - 1.0
                        } else {
                            0.0
                        })
                    }),
                    Values::In(x) => x.first().map(|&v| Point::Value(v)),
                    Values::NotIn(x) => (0..=x.len() as u32)
                        .map(|k| u32::MAX - k)
                        .find(|v| x.binary_search(v).is_err())
                        .map(Point::Value),
                }
            };
            let point = match (c.absent, prefer_absent) {
                (true, true) => Some(Point::Absent),
                (true, false) => present().or(Some(Point::Absent)),
                (false, _) => present(),
            }?;
            // An integer variable's intervals are closed integer bounds, so the point is one.
            debug_assert!(
                !u.is_integer(*var) || !matches!(point, Point::Num(x) if x.fract() != 0.0)
            );
            Some((*var, point))
        })
        .collect()
}

/// Whether a cube takes the witness request `w`.
fn holds(cube: &Cube, w: &[(Var, Point)]) -> bool {
    cube.iter().all(|(var, c)| {
        let point = w
            .iter()
            .find(|(v, _)| v == var)
            .map_or(Point::Absent, |(_, p)| *p);
        match (point, &c.values) {
            (Point::Absent, _) => c.absent,
            (Point::Num(x), Values::Num(intervals)) => intervals.iter().any(|i| {
                (x > i.lo || (x == i.lo && i.lo_closed)) && (x < i.hi || (x == i.hi && i.hi_closed))
            }),
            (Point::Value(v), Values::In(values)) => values.binary_search(&v).is_ok(),
            (Point::Value(v), Values::NotIn(values)) => values.binary_search(&v).is_err(),
            // A variable keeps one kind of value.
            _ => false,
        }
    })
}

/// Whether the union of `cubes` covers `target`: `None` when the budget ran out first.
fn covered(u: &Universe, target: &Cube, cubes: &[&Cube], budget: &mut u32) -> Option<bool> {
    if *budget == 0 {
        return None;
    }
    *budget -= 1;
    let relevant: Vec<&Cube> = cubes
        .iter()
        .copied()
        .filter(|c| intersects(u, c, target))
        .collect();
    if relevant.is_empty() {
        return Some(false);
    }
    // Most routes are not covered: one request the target allows and no cube takes proves
    // it at once, where the search below would split its way to the same answer.
    if [true, false]
        .into_iter()
        .filter_map(|prefer_absent| witness(u, target, prefer_absent))
        .any(|w| !relevant.iter().any(|c| holds(c, &w)))
    {
        return Some(false);
    }
    if relevant.iter().any(|c| contains(u, c, target)) {
        return Some(true);
    }
    // Split the target along the first constraint of a relevant cube that does not contain
    // it: inside that constraint the cube is one step closer to containing the target,
    // outside it the cube no longer matters.
    let cube = relevant[0];
    for (var, c) in cube {
        let t = get(target, *var).cloned().unwrap_or_else(|| u.full(*var));
        if u.subset(*var, &t, c) {
            continue;
        }
        let inside = u.intersect(*var, &t, c);
        let outside = u.intersect(*var, &t, &u.complement(*var, c));
        let with = |part: Constraint| {
            let mut next: Cube = target.iter().filter(|(v, _)| v != var).cloned().collect();
            next.push((*var, part));
            next
        };
        return Some(
            covered(u, &with(inside), &relevant, budget)?
                && covered(u, &with(outside), &relevant, budget)?,
        );
    }
    Some(true)
}

/// The lints of a checked policy, in route order.
pub fn lint(policy: &Policy) -> Vec<Diagnostic> {
    lint_with(policy, None)
}

/// What [`lint_with`] keeps between runs over successive versions of one policy (the language
/// server checks after every keystroke): each route's disjunctive form, and each route's
/// verdict against the routes it is compared with. Results are found by a fingerprint of
/// everything they depend on (the conditions without their spans, priorities, which earlier
/// routes were unreachable, the signals' types), never by position, so a reused result is
/// the one a fresh run computes. Names and spans are not part of a verdict: the diagnostics
/// are built afresh from the current routes. What one run did not use is dropped.
#[derive(Default)]
pub struct LintMemo {
    universe: u128,
    /// String values numbered once for the memo's life, so that cached forms stay valid.
    strings: HashMap<String, u32>,
    forms: HashMap<u128, Rc<Form>>,
    verdicts: HashMap<u128, Verdict>,
}

/// A route's condition as a disjunction of cubes; `None` when too large to lint.
type Form = Option<Vec<Cube>>;

/// The outcome of comparing a route with the earlier routes in its window, by position in
/// that window (nearest first).
#[derive(Clone)]
enum Verdict {
    Clear,
    Covered(Vec<usize>),
    Overlaps(usize),
}

/// A 128-bit fingerprint: two unrelated 64-bit hashes of the same data.
#[derive(Default)]
struct Fingerprint(
    rustc_hash::FxHasher,
    std::collections::hash_map::DefaultHasher,
);

impl Hasher for Fingerprint {
    fn finish(&self) -> u64 {
        self.0.finish()
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.write(bytes);
        self.1.write(bytes);
    }
}

impl Fingerprint {
    fn finish128(&self) -> u128 {
        (u128::from(self.0.finish()) << 64) | u128::from(self.1.finish())
    }
}

/// Writes a condition without its spans (which move with every edit above it) as bytes, so
/// that hashing it is one pass over a buffer rather than a call per field.
fn encode_cond(c: &Cond, out: &mut Vec<u8>) {
    // A tag byte, then fixed-width fields: the encoding is unambiguous, so equal bytes mean
    // equal conditions.
    fn put(out: &mut Vec<u8>, tag: u8, a: u32, b: u32) {
        out.push(tag);
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&b.to_le_bytes());
    }
    match c {
        Cond::True => out.push(0),
        Cond::False => out.push(1),
        Cond::And(items) | Cond::Or(items) => {
            let tag = if matches!(c, Cond::And(_)) { 2 } else { 3 };
            put(out, tag, items.len() as u32, 0);
            for i in items {
                encode_cond(i, out);
            }
        }
        Cond::Not(inner) => {
            out.push(4);
            encode_cond(inner, out);
        }
        Cond::Atom(atom, _) => match atom {
            Atom::Bool { signal, value } => put(out, 5, signal.0, u32::from(*value)),
            Atom::Num { read, op, value } => {
                match read {
                    NumRead::Value(s) => put(out, 6, s.0, 0),
                    NumRead::Confidence(s) => put(out, 7, s.0, 0),
                    NumRead::Prob(s, l) => put(out, 8, s.0, *l),
                    NumRead::Count(s) => put(out, 9, s.0, 0),
                }
                out.push(*op as u8);
                out.extend_from_slice(&value.to_bits().to_le_bytes());
            }
            Atom::Label { signal, labels } => {
                put(out, 10, signal.0, labels.len() as u32);
                for l in labels {
                    out.extend_from_slice(&l.to_le_bytes());
                }
            }
            Atom::Contains { signal, label } => put(out, 11, signal.0, *label),
            Atom::Str { signal, values } => {
                put(out, 12, signal.0, values.len() as u32);
                for v in values {
                    out.extend_from_slice(&(v.len() as u64).to_le_bytes());
                    out.extend_from_slice(v.as_bytes());
                }
            }
        },
    }
}

/// A condition's fingerprint, which finds its form. `buf` is scratch space kept between
/// routes.
fn cond_fingerprint(c: &Cond, buf: &mut Vec<u8>) -> u128 {
    buf.clear();
    encode_cond(c, buf);
    let mut h = Fingerprint::default();
    h.write(buf);
    h.finish128()
}

/// What a route's verdict depends on of the route itself, from its condition's fingerprint.
fn route_fingerprint(cond: u128, r: &Route) -> u128 {
    let mut h = Fingerprint::default();
    (cond, r.is_default, r.explicit_priority, r.priority).hash(&mut h);
    h.finish128()
}

/// The base of the polynomial hash of a window of routes (odd, so powers never vanish).
const WINDOW_BASE: u128 = 0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835;
/// Marks an unreachable route in a window's hash.
const UNREACHABLE_MARK: u128 = 0xA076_1D64_78BD_642F_E703_7ED1_A0B4_28DB;

/// The lints of a checked policy, in route order, reusing and refreshing `memo` when given.
pub fn lint_with(policy: &Policy, mut memo: Option<&mut LintMemo>) -> Vec<Diagnostic> {
    let mut u = Universe::new(policy);
    let mut forms_used: HashMap<u128, Rc<Form>> = HashMap::default();
    let mut cond_keys: Vec<u128> = Vec::new();
    let mut fingerprints: Vec<u128> = Vec::new();
    if let Some(m) = memo.as_deref_mut() {
        let universe = {
            let mut h = Fingerprint::default();
            u.labels.hash(&mut h);
            for (lo, hi) in &u.ranges {
                (lo.to_bits(), hi.to_bits()).hash(&mut h);
            }
            u.integer.hash(&mut h);
            h.finish128()
        };
        if m.universe != universe {
            *m = LintMemo {
                universe,
                ..LintMemo::default()
            };
        }
        u.strings = std::mem::take(&mut m.strings);
        let mut buf = Vec::new();
        cond_keys = policy
            .routes
            .iter()
            .map(|r| cond_fingerprint(&r.condition, &mut buf))
            .collect();
        fingerprints = policy
            .routes
            .iter()
            .zip(&cond_keys)
            .map(|(r, &c)| route_fingerprint(c, r))
            .collect();
    }
    let compute = |u: &mut Universe, r: &Route| -> Form {
        if atoms(&r.condition) > MAX_ATOMS {
            None
        } else {
            dnf(u, &r.condition, false)
        }
    };
    let forms: Vec<Rc<Form>> = match memo.as_deref_mut() {
        None => policy
            .routes
            .iter()
            .map(|r| Rc::new(compute(&mut u, r)))
            .collect(),
        Some(m) => {
            // A form depends on the condition alone (and the universe, fixed above).
            policy
                .routes
                .iter()
                .zip(&cond_keys)
                .map(|(r, &key)| {
                    let form = match m.forms.get(&key) {
                        Some(f) => f.clone(),
                        None => Rc::new(compute(&mut u, r)),
                    };
                    forms_used.insert(key, form.clone());
                    form
                })
                .collect()
        }
    };
    let mut verdicts_used: HashMap<u128, Verdict> = HashMap::default();
    let window = WINDOW.min(PAIR_BUDGET / policy.routes.len().max(1)).max(1);
    let mut out = Vec::new();
    let mut always_true: Option<usize> = None;
    let mut unreachable = vec![false; policy.routes.len()];
    // The routes a later route may be compared with, in order: `earlier` of a route is the
    // last `window` of them, nearest first. With a memo, `prefix[n]` is the polynomial hash
    // of the first `n` (fingerprint and unreachable mark each), so any window's hash is two
    // operations rather than a pass over it.
    let eligible = |j: usize| !policy.routes[j].is_default && forms[j].is_some();
    let mut comparable: Vec<usize> = Vec::new();
    let mut prefix: Vec<u128> = vec![0];
    let powers: Vec<u128> =
        std::iter::successors(Some(1u128), |p| Some(p.wrapping_mul(WINDOW_BASE)))
            .take(window + 1)
            .collect();

    // Selected by confidence, a route competes with the other routes of its priority instead
    // of losing to the earlier ones: only routes of a higher priority take its requests.
    let by_confidence = policy.selection == Selection::Confidence;
    let before = |j: usize, i: usize| {
        !by_confidence || policy.routes[j].priority > policy.routes[i].priority
    };
    for (i, route) in policy.routes.iter().enumerate() {
        // The route before this one is settled now (its unreachable mark included).
        if i > 0 && eligible(i - 1) {
            comparable.push(i - 1);
            if memo.is_some() {
                let mark = if unreachable[i - 1] {
                    UNREACHABLE_MARK
                } else {
                    0
                };
                let last = prefix[prefix.len() - 1];
                prefix.push(
                    last.wrapping_mul(WINDOW_BASE)
                        .wrapping_add(fingerprints[i - 1] ^ mark),
                );
            }
        }
        if route.is_default {
            continue;
        }
        let Some(form) = forms[i].as_ref() else {
            continue;
        };

        if form.is_empty() {
            out.push(
                Diagnostic::new(
                    &codes::W0003,
                    route.condition_span,
                    format!("the condition of `{}` is always false", route.name),
                )
                .with_label("no signal values satisfy this")
                .with_help("the route can never be chosen; fix the condition or remove the route"),
            );
            continue;
        }

        if let Some(first) = always_true.filter(|&first| before(first, i)) {
            let shadow = &policy.routes[first];
            out.push(
                Diagnostic::new(
                    &codes::W0001,
                    route.name_span,
                    format!("unreachable route `{}`", route.name),
                )
                .with_label("no request can reach this route")
                .with_related(
                    shadow.condition_span,
                    format!("`{}` matches every request first", shadow.name),
                )
                .with_help("raise this route's priority above it, or remove one of them"),
            );
            unreachable[i] = true;
            continue;
        }

        // A request with none of these signals satisfies no atom, so a condition can only be
        // always true if some cube allows every one of its variables to be absent: a cheap
        // test that spares most routes the cover search.
        let absent_ok = form.iter().any(|cube| cube.iter().all(|(_, c)| c.absent));
        let mut budget = COVER_BUDGET;
        if absent_ok
            && covered(
                &u,
                &Vec::new(),
                &form.iter().collect::<Vec<_>>(),
                &mut budget,
            ) == Some(true)
        {
            out.push(
                Diagnostic::new(
                    &codes::W0002,
                    route.condition_span,
                    format!("the condition of `{}` is always true", route.name),
                )
                .with_label("every request satisfies this, including ones without these signals")
                .with_help(
                    "every route tried after it is unreachable; use `default => …` for a catch-all",
                ),
            );
            always_true = Some(i);
            continue;
        }

        // Routes tried before this one (nearest first), that could take some of its requests.
        let from = comparable.len().saturating_sub(window);
        let earlier: Vec<usize> = if by_confidence {
            // Only routes of a higher priority take requests from this one.
            comparable
                .iter()
                .rev()
                .copied()
                .filter(|&j| before(j, i))
                .take(window)
                .collect()
        } else {
            comparable[from..].iter().rev().copied().collect()
        };
        let judge = || -> Verdict {
            match covering_routes(&u, form, &earlier, &forms) {
                Some(covering) => Verdict::Covered(
                    covering
                        .iter()
                        .filter_map(|j| earlier.iter().position(|e| e == j))
                        .collect(),
                ),
                None if route.explicit_priority && !by_confidence => earlier
                    .iter()
                    .position(|&j| {
                        let other = &policy.routes[j];
                        other.explicit_priority
                            && other.priority == route.priority
                            && !unreachable[j]
                            && forms[j]
                                .iter()
                                .flatten()
                                .any(|a| form.iter().any(|b| intersects(&u, a, b)))
                    })
                    .map_or(Verdict::Clear, Verdict::Overlaps),
                None => Verdict::Clear,
            }
        };
        // Verdicts are remembered for first-match policies only: the window's hash does not
        // say which earlier routes a confidence tier leaves out.
        let verdict = match memo.as_deref_mut() {
            Some(m) if !by_confidence => {
                let to = comparable.len();
                let range = prefix[to].wrapping_sub(prefix[from].wrapping_mul(powers[to - from]));
                let mut h = Fingerprint::default();
                (fingerprints[i], range, to - from).hash(&mut h);
                let key = h.finish128();
                let v = match m.verdicts.get(&key) {
                    Some(v) => v.clone(),
                    None => judge(),
                };
                verdicts_used.insert(key, v.clone());
                v
            }
            _ => judge(),
        };
        match verdict {
            Verdict::Clear => {}
            Verdict::Covered(positions) => {
                let mut covering: Vec<usize> = positions.iter().map(|&p| earlier[p]).collect();
                covering.sort_unstable();
                let mut d = Diagnostic::new(
                    &codes::W0001,
                    route.name_span,
                    format!("unreachable route `{}`", route.name),
                )
                .with_label("every request this route matches is taken by an earlier route")
                .with_help("raise its priority, narrow the earlier routes, or remove it");
                for &j in covering.iter().take(3) {
                    let r = &policy.routes[j];
                    d = d.with_related(r.name_span, format!("`{}` is tried first", r.name));
                }
                out.push(d);
                unreachable[i] = true;
            }
            Verdict::Overlaps(p) => {
                let other = &policy.routes[earlier[p]];
                out.push(
                    Diagnostic::new(
                        &codes::W0004,
                        route.name_span,
                        format!(
                            "`{}` and `{}` can match the same request at priority {}",
                            route.name, other.name, route.priority
                        ),
                    )
                    .with_label("overlaps an earlier route of the same priority")
                    .with_related(other.name_span, "this route wins by source order")
                    .with_help(
                        "give them different priorities, or make their conditions exclusive",
                    ),
                );
            }
        }
    }
    if let Some(m) = memo {
        m.strings = std::mem::take(&mut u.strings);
        m.forms = forms_used;
        m.verdicts = verdicts_used;
    }
    out
}

/// The earlier routes (of `earlier`) that together take every request `form` matches, or
/// `None` when some request gets past them.
fn covering_routes(
    u: &Universe,
    form: &[Cube],
    earlier: &[usize],
    forms: &[Rc<Form>],
) -> Option<Vec<usize>> {
    let mut covering: Vec<usize> = Vec::new();
    for cube in form {
        let candidates: Vec<(usize, &Cube)> = earlier
            .iter()
            .flat_map(|&j| forms[j].iter().flatten().map(move |c| (j, c)))
            .filter(|(_, c)| intersects(u, c, cube))
            .collect();
        let covers = |without: &[usize], budget: &mut u32| {
            let cubes: Vec<&Cube> = candidates
                .iter()
                .filter(|(j, _)| !without.contains(j))
                .map(|(_, c)| *c)
                .collect();
            covered(u, cube, &cubes, budget) == Some(true)
        };
        if !covers(&[], &mut COVER_BUDGET.clone()) {
            return None;
        }
        // Name the routes that take these requests. Usually one earlier route alone does
        // (nearest first, a cheap containment test).
        if let Some(&(j, _)) = candidates.iter().find(|(_, c)| contains(u, c, cube)) {
            if !covering.contains(&j) {
                covering.push(j);
            }
            continue;
        }
        // Otherwise drop each route the others cover without. This only chooses which
        // routes the warning names, so it gets a bounded budget: when it runs out, the
        // routes not yet tried are named too.
        let mut naming = NAMING_BUDGET;
        let mut dropped: Vec<usize> = Vec::new();
        let mut routes: Vec<usize> = candidates.iter().map(|(j, _)| *j).collect();
        routes.dedup();
        for &j in &routes {
            if naming == 0 {
                break;
            }
            dropped.push(j);
            if !covers(&dropped, &mut naming) {
                dropped.pop();
            }
        }
        for j in routes {
            if !dropped.contains(&j) && !covering.contains(&j) {
                covering.push(j);
            }
        }
    }
    Some(covering)
}
