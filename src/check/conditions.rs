//! Typing conditions: `when` clauses and the conditions inside `if … then … else …` values.
//!
//! A comparison has a signal on one side and a constant on the other (either order; the result
//! always has the signal on the left). A bare name on the other side of a category or set is
//! one of its labels, which is how `domain == math` reads. Errors are reported where they are
//! found and the function returns `None`; it keeps going through the rest of the expression so
//! that every mistake in it is reported.

use super::Checker;
use crate::diagnostic::{codes, Diagnostic};
use crate::policy::*;
use crate::syntax::ast::{self, CmpOp, Expr, InSet, Operand};
use crate::syntax::Span;

/// A signal read, typed.
#[derive(Clone, Copy)]
enum Read {
    /// A number, with the range its values lie in and the words describing it.
    Num {
        read: NumRead,
        range: Option<(f64, f64)>,
        what: &'static str,
    },
    Category(SignalId),
    Set(SignalId),
    Str(SignalId),
    Bool(SignalId),
}

impl Read {
    fn what(&self) -> &'static str {
        match self {
            Read::Num { what, .. } => what,
            Read::Category(_) => "a category",
            Read::Set(_) => "a set",
            Read::Str(_) => "a string",
            Read::Bool(_) => "a bool",
        }
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

fn negate_if(negated: bool, c: Cond) -> Cond {
    if negated {
        Cond::Not(Box::new(c))
    } else {
        c
    }
}

fn describe_literal(o: &Operand) -> String {
    match o {
        Operand::Str(s) => format!("`{}` is a string", crate::syntax::lexer::escape(&s.value)),
        Operand::Int(i) => format!("`{}` is a number", i.value),
        Operand::Float(f) => format!("`{}` is a number", f.value),
        Operand::Bool(b, _) => format!("`{b}` is a bool"),
        Operand::Path(p) => format!("`{}` is a name", p.base.name),
    }
}

impl Checker {
    pub(super) fn condition(&mut self, e: &Expr) -> Option<Cond> {
        match e {
            Expr::And(items, _) | Expr::Or(items, _) => {
                let typed: Vec<Option<Cond>> = items.iter().map(|i| self.condition(i)).collect();
                let typed: Option<Vec<Cond>> = typed.into_iter().collect();
                let typed = typed?;
                Some(if matches!(e, Expr::And(..)) {
                    Cond::And(typed)
                } else {
                    Cond::Or(typed)
                })
            }
            Expr::Not(inner, _) => Some(Cond::Not(Box::new(self.condition(inner)?))),
            Expr::Paren(inner, _) => self.condition(inner),
            Expr::Error(_) => None,
            Expr::Operand(o) => self.bare_condition(o),
            Expr::Compare {
                lhs,
                op,
                op_span,
                rhs,
                span,
            } => self.compare(lhs, *op, *op_span, rhs, *span),
            Expr::In {
                lhs,
                set,
                negated,
                span,
            } => Some(negate_if(*negated, self.membership(lhs, set, *span)?)),
        }
    }

    fn signal_id(&self, o: &Operand) -> Option<SignalId> {
        match o {
            Operand::Path(p) => self.signal_ids.get(p.base.name.as_str()).copied(),
            _ => None,
        }
    }

    fn bare_condition(&mut self, o: &Operand) -> Option<Cond> {
        match o {
            Operand::Bool(b, _) => Some(if *b { Cond::True } else { Cond::False }),
            Operand::Path(p) if self.signal_id(o).is_some() => match self.read(p)? {
                Read::Bool(signal) => Some(Cond::Atom(
                    Atom::Bool {
                        signal,
                        value: true,
                    },
                    p.span,
                )),
                other => {
                    let help = match other {
                        Read::Category(s) => {
                            let label = self.signals[s.0 as usize]
                                .ty
                                .as_ref()
                                .and_then(|t| t.labels().first().cloned())
                                .unwrap_or_default();
                            format!("compare it with a label: `{} == {label}`", p.base.name)
                        }
                        Read::Set(s) => {
                            let label = self.signals[s.0 as usize]
                                .ty
                                .as_ref()
                                .and_then(|t| t.labels().first().cloned())
                                .unwrap_or_default();
                            format!(
                                "test a label: `{label} in {}`, or any: `{}.count > 0`",
                                p.base.name, p.base.name
                            )
                        }
                        Read::Str(_) => format!("compare it: `{} == \"…\"`", p.base.name),
                        _ => format!("compare it with a threshold: `{} > 0.5`", p.base.name),
                    };
                    self.error(
                        Diagnostic::new(
                            &codes::E0304,
                            p.span,
                            format!("`{}` is {}, not a condition", p.base.name, other.what()),
                        )
                        .with_label("a condition must be true or false")
                        .with_help(help),
                    );
                    None
                }
            },
            Operand::Path(p) => {
                self.unknown_signal(&p.base);
                None
            }
            other => {
                self.error(
                    Diagnostic::new(&codes::E0304, other.span(), "a constant is not a condition")
                        .with_label(describe_literal(other))
                        .with_help("write a comparison such as `jailbreak > 0.9`, or `true`"),
                );
                None
            }
        }
    }

    pub(super) fn unknown_signal(&mut self, name: &ast::Ident) {
        if self.broken.contains(&("signal", name.name.to_string())) {
            return;
        }
        let candidates: Vec<String> = self.signal_ids.keys().cloned().collect();
        let mut d = Diagnostic::new(
            &codes::E0201,
            name.span,
            format!("unknown signal `{}`", name.name),
        )
        .with_label("no signal of this name is declared")
        .with_suggestion(&name.name, name.span, candidates.iter().map(String::as_str));
        if d.help.is_none() {
            // A label used where a signal is expected: say whose label it is.
            let owner = self.signals.iter().find(|s| {
                s.ty.as_ref()
                    .is_some_and(|t| t.labels().iter().any(|l| l.as_str() == name.name.as_str()))
            });
            d = match owner {
                Some(s) if matches!(s.ty, Some(Type::Category(_))) => d.with_help(format!(
                    "`{}` is a label of `{}`: write `{} == {}`",
                    name.name, s.name, s.name, name.name
                )),
                Some(s) => d.with_help(format!(
                    "`{}` is a label of `{}`: write `{} in {}`",
                    name.name, s.name, name.name, s.name
                )),
                None => d.with_help(format!(
                    "declare it: `signal {}: TYPE = EXTRACTOR`",
                    name.name
                )),
            };
        }
        self.error(d);
    }

    /// Resolves a path that names a signal to a typed read, counting the use.
    fn read(&mut self, p: &ast::Path) -> Option<Read> {
        let id = *self.signal_ids.get(p.base.name.as_str())?;
        self.signal_uses[id.0 as usize] += 1;
        // The type is borrowed, not copied (a category's holds all its labels, and this runs
        // for every read of a large policy); each report is built before `self` is needed
        // mutably.
        let ty = self.signals[id.0 as usize].ty.as_ref()?;
        let name = &p.base.name;
        match (&p.member, &p.index) {
            (None, None) => Some(plain_read(id, ty)),
            (Some(m), None) => match (ty, m.name.as_str()) {
                (Type::Category(_), "confidence") => Some(Read::Num {
                    read: NumRead::Confidence(id),
                    range: Some((0.0, 1.0)),
                    what: "a confidence",
                }),
                (Type::Set(_), "count") => Some(Read::Num {
                    read: NumRead::Count(id),
                    range: Some((0.0, f64::INFINITY)),
                    what: "a count",
                }),
                _ => {
                    let props: &[&str] = match ty {
                        Type::Category(_) => &["confidence"],
                        Type::Set(_) => &["count"],
                        _ => &[],
                    };
                    let d = Diagnostic::new(&codes::E0209, m.span, format!("`{name}` has no property `{}`", m.name))
                        .with_label(format!("`{name}` is {}", type_words(ty)))
                        .with_suggestion(&m.name, m.span, props.iter().copied())
                        .with_help_if_none(match ty {
                            Type::Category(_) => "categories have `.confidence`, and `[label]` for one label's probability".to_string(),
                            Type::Set(_) => "sets have `.count`".to_string(),
                            _ => format!("a {} has no properties", ty.keyword()),
                        });
                    self.error(d);
                    None
                }
            },
            (None, Some(label)) => match ty {
                Type::Category(_) => {
                    let l = self.label(id, &label.name, label.span)?;
                    Some(Read::Num {
                        read: NumRead::Prob(id, l),
                        range: Some((0.0, 1.0)),
                        what: "a probability",
                    })
                }
                _ => {
                    self.error(
                        Diagnostic::new(
                            &codes::E0209,
                            label.span.to(p.span),
                            format!("`{name}[…]` needs a category"),
                        )
                        .with_label(format!("`{name}` is {}", type_words(ty)))
                        .with_help_opt(
                            matches!(ty, Type::Set(_))
                                .then(|| format!("test membership: `{} in {name}`", label.name)),
                        ),
                    );
                    None
                }
            },
            (Some(_), Some(_)) => {
                self.error(
                    Diagnostic::new(
                        &codes::E0209,
                        p.span,
                        "a property and a label index cannot be combined",
                    )
                    .with_label("write either `.confidence` or `[label]`"),
                );
                None
            }
        }
    }

    /// Looks a label up in a signal's label list (copied only to report an unknown label:
    /// this runs for every label comparison of a large policy).
    pub(super) fn label(&mut self, signal: SignalId, name: &str, span: Span) -> Option<LabelId> {
        let labels = self.signals[signal.0 as usize]
            .ty
            .as_ref()
            .map_or(&[][..], |t| t.labels());
        if let Some(i) = labels.iter().position(|l| l == name) {
            return Some(i as LabelId);
        }
        let labels = labels.to_vec();
        let sname = self.signals[signal.0 as usize].name.clone();
        let decl = self.signals[signal.0 as usize].span;
        let d = Diagnostic::new(
            &codes::E0202,
            span,
            format!("unknown label `{name}` for `{sname}`"),
        )
        .with_label(format!("`{sname}` has no such label"))
        .with_related(decl, format!("`{sname}` is declared here"))
        .with_suggestion(name, span, labels.iter().map(String::as_str))
        .with_help_if_none(format!("its labels are {}", labels.join(", ")));
        self.error(d);
        None
    }

    fn compare(
        &mut self,
        lhs: &Operand,
        op: CmpOp,
        op_span: Span,
        rhs: &Operand,
        span: Span,
    ) -> Option<Cond> {
        let l_sig = self.signal_id(lhs).is_some();
        let r_sig = self.signal_id(rhs).is_some();
        let (sig, other, op) = match (l_sig, r_sig) {
            (true, false) => (lhs, rhs, op),
            (false, true) => (rhs, lhs, flip(op)),
            (true, true) => {
                // `domain == math` where `math` is also a signal's name: the label wins when
                // the category has it.
                let has_label = |c: &Checker, s: &Operand, o: &Operand| {
                    let (Some(id), Operand::Path(p)) = (c.signal_id(s), o) else {
                        return false;
                    };
                    p.member.is_none()
                        && p.index.is_none()
                        && c.signals[id.0 as usize].ty.as_ref().is_some_and(|t| {
                            t.labels()
                                .iter()
                                .any(|l| l.as_str() == p.base.name.as_str())
                        })
                };
                if has_label(self, lhs, rhs) {
                    (lhs, rhs, op)
                } else if has_label(self, rhs, lhs) {
                    (rhs, lhs, flip(op))
                } else {
                    self.error(
                        Diagnostic::new(&codes::E0301, span, "cannot compare two signals")
                            .with_label("both sides are signals")
                            .with_help(
                                "compare a signal with a constant, such as `jailbreak > 0.9`",
                            ),
                    );
                    return None;
                }
            }
            (false, false) => {
                let broken = |c: &Checker, o: &Operand| match o {
                    Operand::Path(p) => c.broken.contains(&("signal", p.base.name.to_string())),
                    _ => false,
                };
                if broken(self, lhs) || broken(self, rhs) {
                    // A signal whose declaration did not parse: its error was reported.
                    return None;
                }
                // A side that is some category's label is not the mistake (`domian == math`):
                // report only the other side, unless both are labels.
                let is_label = |c: &Checker, o: &Operand| match o {
                    Operand::Path(p) => c.signals.iter().any(|s| {
                        s.ty.as_ref().is_some_and(|t| {
                            t.labels()
                                .iter()
                                .any(|l| l.as_str() == p.base.name.as_str())
                        })
                    }),
                    _ => false,
                };
                let skip_labels = !(is_label(self, lhs) && is_label(self, rhs));
                let mut reported = false;
                for side in [lhs, rhs] {
                    if let Operand::Path(p) = side {
                        reported = true;
                        if !(skip_labels && is_label(self, side)) {
                            self.unknown_signal(&p.base);
                        }
                    }
                }
                if !reported {
                    self.error(
                        Diagnostic::new(&codes::E0301, span, "comparison of two constants")
                            .with_label("neither side is a signal")
                            .with_help("a comparison reads a signal, such as `jailbreak > 0.9`; write `true` or `false` for a constant"),
                    );
                }
                return None;
            }
        };
        let Operand::Path(path) = sig else {
            return None;
        };
        let read = self.read(path)?;
        let atom_span = span;
        let sname = path.base.name.clone();
        match read {
            Read::Num { read, range, what } => {
                let value = match other {
                    Operand::Int(i) => i.value as f64,
                    Operand::Float(f) => f.value,
                    o => {
                        self.mismatch(&sname, what, o, span, None);
                        return None;
                    }
                };
                if let Some((lo, hi)) = range {
                    if value < lo || value > hi {
                        let bounds = if hi.is_infinite() {
                            format!("at least {lo}")
                        } else {
                            format!("in [{lo}, {hi}]")
                        };
                        self.error(
                            Diagnostic::new(
                                &codes::E0302,
                                other.span(),
                                format!("threshold `{value}` is out of range for {what}"),
                            )
                            .with_label(format!("{what} is always {bounds}"))
                            .with_help(format!(
                                "the comparison would be constant; use a threshold {bounds}"
                            )),
                        );
                        return None;
                    }
                }
                let positive_op = if op == CmpOp::Ne { CmpOp::Eq } else { op };
                let atom = Cond::Atom(
                    Atom::Num {
                        read,
                        op: positive_op,
                        value,
                    },
                    atom_span,
                );
                Some(negate_if(op == CmpOp::Ne, atom))
            }
            Read::Category(id) => {
                if !self.equality_only(
                    op,
                    op_span,
                    "a category",
                    "categories are compared with `==`, `!=` and `in`",
                    Some(format!("to threshold the model's confidence write `{sname}.confidence > 0.7`, or `{sname}[label] > 0.5` for one label")),
                ) {
                    return None;
                }
                let (name, lspan) = match other {
                    Operand::Path(p) if p.member.is_none() && p.index.is_none() => {
                        (p.base.name.clone(), p.span)
                    }
                    Operand::Str(s) => (s.value.as_str().into(), s.span),
                    o => {
                        self.mismatch(
                            &sname,
                            "a category",
                            o,
                            span,
                            Some(format!(
                                "compare it with one of its labels: `{sname} == label`"
                            )),
                        );
                        return None;
                    }
                };
                let l = self.label(id, &name, lspan)?;
                let atom = Cond::Atom(
                    Atom::Label {
                        signal: id,
                        labels: vec![l],
                    },
                    atom_span,
                );
                Some(negate_if(op == CmpOp::Ne, atom))
            }
            Read::Set(_) => {
                self.error(
                    Diagnostic::new(
                        &codes::E0303,
                        op_span,
                        format!("`{}` does not apply to a set", op.as_str()),
                    )
                    .with_label("sets are tested with `in`")
                    .with_help(format!(
                        "write `label in {sname}`, or `{sname}.count > 0` for any label"
                    )),
                );
                None
            }
            Read::Str(id) => {
                if !self.equality_only(
                    op,
                    op_span,
                    "a string",
                    "strings are compared with `==`, `!=` and `in`",
                    None,
                ) {
                    return None;
                }
                match other {
                    Operand::Str(s) => {
                        let atom = Cond::Atom(
                            Atom::Str {
                                signal: id,
                                values: vec![s.value.clone()],
                            },
                            atom_span,
                        );
                        Some(negate_if(op == CmpOp::Ne, atom))
                    }
                    Operand::Path(p) if p.member.is_none() && p.index.is_none() => {
                        let quoted = crate::syntax::lexer::escape(&p.base.name);
                        self.error(
                            Diagnostic::new(
                                &codes::E0301,
                                p.span,
                                format!("`{sname}` is a string; `{}` is a name", p.base.name),
                            )
                            .with_label("not a string")
                            .with_help(format!("quote it: `{quoted}`"))
                            .with_fix(
                                format!("quote `{}`", p.base.name),
                                p.span,
                                quoted,
                            ),
                        );
                        None
                    }
                    o => {
                        self.mismatch(&sname, "a string", o, span, None);
                        None
                    }
                }
            }
            Read::Bool(id) => {
                if !self.equality_only(
                    op,
                    op_span,
                    "a bool",
                    "bools are compared with `==` and `!=`, or used directly",
                    None,
                ) {
                    return None;
                }
                match other {
                    Operand::Bool(b, _) => Some(Cond::Atom(
                        Atom::Bool {
                            signal: id,
                            value: *b,
                        },
                        atom_span,
                    ))
                    .map(|c| {
                        // `x != true` is not `x == false`: an absent signal satisfies the first only.
                        negate_if(op == CmpOp::Ne, c)
                    }),
                    o => {
                        self.mismatch(
                            &sname,
                            "a bool",
                            o,
                            span,
                            Some(format!("use it directly: `{sname}` or `not {sname}`")),
                        );
                        None
                    }
                }
            }
        }
    }

    /// Reports `E0303` unless `op` is `==` or `!=`; returns whether it is.
    fn equality_only(
        &mut self,
        op: CmpOp,
        op_span: Span,
        what: &str,
        label: &str,
        help: Option<String>,
    ) -> bool {
        if matches!(op, CmpOp::Eq | CmpOp::Ne) {
            return true;
        }
        self.error(
            Diagnostic::new(
                &codes::E0303,
                op_span,
                format!("`{}` does not apply to {what}", op.as_str()),
            )
            .with_label(label)
            .with_help_opt(help),
        );
        false
    }

    fn mismatch(
        &mut self,
        signal: &str,
        what: &str,
        other: &Operand,
        span: Span,
        help: Option<String>,
    ) {
        self.error(
            Diagnostic::new(
                &codes::E0301,
                other.span(),
                format!("type mismatch: `{signal}` is {what}"),
            )
            .with_label(describe_literal(other))
            .with_related(span, "in this comparison")
            .with_help_opt(help),
        );
    }

    fn membership(&mut self, lhs: &Operand, set: &InSet, span: Span) -> Option<Cond> {
        match set {
            InSet::List(items, list_span) => {
                let Operand::Path(path) = lhs else {
                    self.error(
                        Diagnostic::new(
                            &codes::E0301,
                            lhs.span(),
                            "`in [ … ]` tests a signal against a list",
                        )
                        .with_label(describe_literal(lhs))
                        .with_help("put the signal on the left: `domain in [math, physics]`"),
                    );
                    return None;
                };
                if self.signal_id(lhs).is_none() {
                    self.unknown_signal(&path.base);
                    return None;
                }
                let read = self.read(path)?;
                if items.is_empty() {
                    self.error(
                        Diagnostic::new(&codes::E0306, *list_span, "empty list")
                            .with_label("nothing can be in an empty list")
                            .with_help("list at least one value"),
                    );
                    return None;
                }
                let sname = path.base.name.clone();
                match read {
                    Read::Category(id) => {
                        let mut ids = Vec::new();
                        let mut ok = true;
                        for item in items {
                            let (name, lspan) = match item {
                                Operand::Path(p) if p.member.is_none() && p.index.is_none() => {
                                    (p.base.name.clone(), p.span)
                                }
                                Operand::Str(s) => (s.value.as_str().into(), s.span),
                                o => {
                                    self.mismatch(
                                        &sname,
                                        "a category",
                                        o,
                                        span,
                                        Some("list its labels".into()),
                                    );
                                    ok = false;
                                    continue;
                                }
                            };
                            match self.label(id, &name, lspan) {
                                Some(l) if !ids.contains(&l) => ids.push(l),
                                Some(_) => {}
                                None => ok = false,
                            }
                        }
                        ok.then_some(Cond::Atom(
                            Atom::Label {
                                signal: id,
                                labels: ids,
                            },
                            span,
                        ))
                    }
                    Read::Str(id) => {
                        let mut values = Vec::new();
                        let mut ok = true;
                        for item in items {
                            match item {
                                Operand::Str(s) => {
                                    if !values.contains(&s.value) {
                                        values.push(s.value.clone())
                                    }
                                }
                                o => {
                                    self.mismatch(
                                        &sname,
                                        "a string",
                                        o,
                                        span,
                                        Some("list strings: `[\"admin\", \"hr\"]`".into()),
                                    );
                                    ok = false;
                                }
                            }
                        }
                        ok.then_some(Cond::Atom(Atom::Str { signal: id, values }, span))
                    }
                    Read::Num { read, range, what } => {
                        let mut alternatives = Vec::new();
                        let mut ok = true;
                        for item in items {
                            let value = match item {
                                Operand::Int(i) => i.value as f64,
                                Operand::Float(f) => f.value,
                                o => {
                                    self.mismatch(&sname, what, o, span, None);
                                    ok = false;
                                    continue;
                                }
                            };
                            if let Some((lo, hi)) = range {
                                if value < lo || value > hi {
                                    self.error(
                                        Diagnostic::new(
                                            &codes::E0302,
                                            item.span(),
                                            format!("`{value}` is out of range for {what}"),
                                        )
                                        .with_label("can never be equal"),
                                    );
                                    ok = false;
                                    continue;
                                }
                            }
                            alternatives.push(Cond::Atom(
                                Atom::Num {
                                    read,
                                    op: CmpOp::Eq,
                                    value,
                                },
                                item.span(),
                            ));
                        }
                        ok.then(|| {
                            if alternatives.len() == 1 {
                                alternatives.remove(0)
                            } else {
                                Cond::Or(alternatives)
                            }
                        })
                    }
                    Read::Set(_) | Read::Bool(_) => {
                        let help = if matches!(read, Read::Set(_)) {
                            format!("test one label: `label in {sname}`")
                        } else {
                            format!("use it directly: `{sname}`")
                        };
                        self.error(
                            Diagnostic::new(
                                &codes::E0303,
                                span,
                                format!("`in [ … ]` does not apply to {}", read.what()),
                            )
                            .with_label(format!("`{sname}` is {}", read.what()))
                            .with_help(help),
                        );
                        None
                    }
                }
            }
            InSet::Operand(container) => {
                let Operand::Path(cpath) = container else {
                    self.error(
                        Diagnostic::new(
                            &codes::E0301,
                            container.span(),
                            "`in` needs a list or a set signal",
                        )
                        .with_label(describe_literal(container))
                        .with_help("write `x in [a, b]`, or `label in set_signal`"),
                    );
                    return None;
                };
                if self.signal_id(container).is_none() {
                    self.unknown_signal(&cpath.base);
                    return None;
                }
                let read = self.read(cpath)?;
                let cname = cpath.base.name.clone();
                let Read::Set(id) = read else {
                    let help = match read {
                        Read::Category(_) => match lhs {
                            Operand::Path(p) => format!("write `{cname} == {}`", p.base.name),
                            _ => format!("write `{cname} == label`"),
                        },
                        _ => "write `x in [a, b]` with a list".to_string(),
                    };
                    self.error(
                        Diagnostic::new(
                            &codes::E0303,
                            cpath.span,
                            format!("`in {cname}` needs a set signal"),
                        )
                        .with_label(format!("`{cname}` is {}", read.what()))
                        .with_help(help),
                    );
                    return None;
                };
                let (name, lspan) = match lhs {
                    Operand::Path(p) if p.member.is_none() && p.index.is_none() => {
                        (p.base.name.clone(), p.span)
                    }
                    Operand::Str(s) => (s.value.as_str().into(), s.span),
                    o => {
                        self.mismatch(
                            &cname,
                            "a set",
                            o,
                            span,
                            Some(format!("test one of its labels: `label in {cname}`")),
                        );
                        return None;
                    }
                };
                let l = self.label(id, &name, lspan)?;
                Some(Cond::Atom(
                    Atom::Contains {
                        signal: id,
                        label: l,
                    },
                    span,
                ))
            }
        }
    }
}

fn type_words(ty: &Type) -> String {
    match ty {
        Type::Int => "an int".into(),
        other => format!("a {}", other.keyword()),
    }
}

/// What reading a signal without a property or index gives, by its type.
fn plain_read(id: SignalId, ty: &Type) -> Read {
    match ty {
        Type::Bool => Read::Bool(id),
        Type::Int => Read::Num {
            read: NumRead::Value(id),
            range: None,
            what: "an int",
        },
        Type::Float => Read::Num {
            read: NumRead::Value(id),
            range: None,
            what: "a float",
        },
        Type::Score => Read::Num {
            read: NumRead::Value(id),
            range: Some((0.0, 1.0)),
            what: "a score",
        },
        Type::Similarity => Read::Num {
            read: NumRead::Value(id),
            range: Some((-1.0, 1.0)),
            what: "a similarity",
        },
        Type::Category(_) => Read::Category(id),
        Type::Set(_) => Read::Set(id),
        Type::String => Read::Str(id),
    }
}
