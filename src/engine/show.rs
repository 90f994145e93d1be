//! The IR as text (`routerc compile --emit ir`) and tests as people read them (`--explain`).

use std::fmt::Write;

use serde_json::{json, Value as Json};

use super::decision::{mode_name, to_json};
use super::frame::{Frame, Kind, ABSENT, PRESENT, UNKNOWN};
use super::ir::{Action, Choice, Expr, Program, Read, Target, Test, Value};

/// The whole program, one declaration or route per block.
pub fn program(p: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "; {} signals, {} backends, {} prompts, {} strings, {} routes",
        p.signals.len(),
        p.backends.len(),
        p.prompts.len(),
        p.strings.len(),
        p.routes.len()
    );
    for (i, s) in p.signals.iter().enumerate() {
        let _ = writeln!(
            out,
            "signal s{i} {}: {} = {} ; {:?}",
            s.name,
            s.ty,
            s.extractor.name(),
            s.cost
        );
    }
    for (i, b) in p.backends.iter().enumerate() {
        let _ = writeln!(out, "backend b{i} {} = {:?} {:?}", b.name, b.url, b.model);
    }
    for (i, pr) in p.prompts.iter().enumerate() {
        let _ = writeln!(out, "prompt p{i} {} = {:?}", pr.name, pr.text);
    }
    for (i, s) in p.strings.iter().enumerate() {
        let _ = writeln!(out, "string #{i} = {s:?}");
    }
    for (i, r) in p.routes.iter().enumerate() {
        let _ = writeln!(out, "\nroute r{i} {} priority {}", r.name, r.priority);
        let _ = writeln!(out, "  when {}", expr(p, &r.cond));
        match &r.action {
            Action::Reject { status, message } => {
                let _ = writeln!(out, "  reject {status} {message:?}");
            }
            Action::Forward(f) => {
                let _ = write!(out, "  forward {}", p.backends[f.backend as usize].name);
                for b in &f.fallback {
                    let _ = write!(out, " | {}", p.backends[*b as usize].name);
                }
                out.push('\n');
                for (k, slot) in f.slots.iter().enumerate() {
                    let target = match &slot.target {
                        Target::SystemPrompt(m) => format!("system_prompt ({})", mode_name(*m)),
                        t => t.name(),
                    };
                    let _ = writeln!(
                        out,
                        "    slot {k} {target} = {}",
                        choice(p, slot, &slot.choice)
                    );
                }
            }
        }
    }
    out
}

fn choice(p: &Program, slot: &super::ir::Slot, c: &Choice) -> String {
    match c {
        Choice::Leaf(i) => value(p, &slot.values[*i as usize]),
        Choice::If {
            cond,
            then,
            otherwise,
        } => format!(
            "if {} then {} else {}",
            expr(p, cond),
            choice(p, slot, then),
            choice(p, slot, otherwise)
        ),
    }
}

fn value(p: &Program, v: &Value) -> String {
    match v {
        Value::Prompt(id) => p.prompts[*id as usize].name.clone(),
        Value::Text(t) => format!("{t:?}"),
        Value::Effort(e) => e.as_str().into(),
        Value::Int(n) => n.to_string(),
        Value::Float(x) => x.to_string(),
        Value::Json(j) => to_json(j).to_string(),
    }
}

/// A condition in the language's own notation, fully parenthesised.
pub fn expr(p: &Program, e: &Expr) -> String {
    match e {
        Expr::True => "true".into(),
        Expr::False => "false".into(),
        Expr::And(items) => join(p, items, " and "),
        Expr::Or(items) => join(p, items, " or "),
        Expr::Not(inner) => format!("not {}", expr(p, inner)),
        Expr::Test(t) => test(p, t),
    }
}

fn join(p: &Program, items: &[Expr], sep: &str) -> String {
    let parts: Vec<String> = items.iter().map(|i| expr(p, i)).collect();
    format!("({})", parts.join(sep))
}

/// One test, such as `domain == math` or `jailbreak > 0.9`.
pub fn test(p: &Program, t: &Test) -> String {
    let name = |s: u32| p.signals[s as usize].name.as_str();
    let label = |s: u32, l: u32| {
        p.signals[s as usize]
            .ty
            .labels()
            .get(l as usize)
            .cloned()
            .unwrap_or_else(|| format!("#{l}"))
    };
    match t {
        Test::Bool { signal, value } => {
            if *value {
                name(*signal).into()
            } else {
                format!("{} == false", name(*signal))
            }
        }
        Test::Cmp { read, op, value } => {
            let lhs = match *read {
                Read::Value(s) => name(s).to_string(),
                Read::Confidence(s) => format!("{}.confidence", name(s)),
                Read::Prob(s, l) => format!("{}[{}]", name(s), label(s, l)),
                Read::Count(s) => format!("{}.count", name(s)),
            };
            format!("{lhs} {} {value}", op.symbol())
        }
        Test::LabelIn { signal, labels } => match labels.as_slice() {
            [one] => format!("{} == {}", name(*signal), label(*signal, *one)),
            many => format!(
                "{} in [{}]",
                name(*signal),
                many.iter()
                    .map(|l| label(*signal, *l))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Test::Contains { signal, label: l } => {
            format!("{} in {}", label(*signal, *l), name(*signal))
        }
        Test::StrIn { signal, strings } => match strings.as_slice() {
            [one] => format!("{} == {:?}", name(*signal), p.strings[*one as usize]),
            many => format!(
                "{} in [{}]",
                name(*signal),
                many.iter()
                    .map(|s| format!("{:?}", p.strings[*s as usize]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// A signal's value in a frame as JSON: `null` when absent, the string `"unknown"` when not
/// computed.
pub fn signal_value(p: &Program, frame: &Frame, s: u32) -> Json {
    match frame.status(s) {
        UNKNOWN => return json!("unknown"),
        ABSENT => return Json::Null,
        PRESENT => {}
        _ => return Json::Null,
    }
    let at = frame.layout().offsets[s as usize];
    let labels = p.signals[s as usize].ty.labels();
    match frame.layout().kinds[s as usize] {
        Kind::Bool => json!(frame.get_u8(at) != 0),
        Kind::Number => json!(frame.get_f64(at)),
        Kind::String => match p.strings.get(frame.get_u32(at) as usize) {
            Some(v) => json!(v),
            None => json!("(a string no condition mentions)"),
        },
        Kind::Category(_) => {
            let top = frame.get_u32(at);
            json!({
                "label": labels.get(top as usize),
                "confidence": frame.get_f64(at + 8),
            })
        }
        Kind::Set(n) => {
            let members: Vec<&String> = (0..n)
                .filter(|&l| {
                    frame.get_u64(at + 8 + 8 * (l as usize / 64)) & (1u64 << (l % 64)) != 0
                })
                .filter_map(|l| labels.get(l as usize))
                .collect();
            json!(members)
        }
    }
}
