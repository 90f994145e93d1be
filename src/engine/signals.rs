//! Signal values given by hand: the JSON file of `routerc eval --signals`, and a policy
//! test's `given` block. Both act as a [`SignalSource`], so the engine still reads them
//! lazily and the decision reports which ones evaluation needed.
//!
//! The file is one JSON object from signal name to value:
//!
//! ```json
//! { "domain": "math", "jailbreak": 0.02, "pii": ["email"], "titan": false,
//!   "role": "staff", "prompt_tokens": 1200, "lang": null }
//! ```
//!
//! A category is a label, `{"label": "math", "confidence": 0.9}`, or the probability of each
//! label `{"math": 0.7, "other": 0.3}`; `null` is absent; a signal the file leaves out is
//! absent too.

use serde_json::Value as Json;

use crate::diagnostic::suggest;
use crate::policy::{SignalValue, TestValue, Type};

use super::frame::{expected_value, Frame, SignalSource};
use super::ir::Program;

/// A value for one signal.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
    Value(SignalValue),
    /// A category by its top label and confidence.
    Top(u32, f64),
    Absent,
}

/// Signal values to decide on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signals {
    values: Vec<(u32, Given)>,
}

impl Signals {
    pub fn new(values: Vec<(u32, Given)>) -> Signals {
        Signals { values }
    }

    /// A policy test's `given` block.
    pub fn from_test(given: &[(crate::policy::SignalId, TestValue)]) -> Signals {
        Signals {
            values: given
                .iter()
                .map(|(s, v)| {
                    let g = match v {
                        TestValue::Bool(b) => Given::Value(SignalValue::Bool(*b)),
                        TestValue::Number(x) => Given::Value(SignalValue::Number(*x)),
                        TestValue::String(t) => Given::Value(SignalValue::String(t.clone())),
                        TestValue::Label(l, c) => Given::Top(*l, *c),
                        TestValue::Set(l) => Given::Value(SignalValue::Set(l.clone())),
                        TestValue::Absent => Given::Absent,
                    };
                    (s.0, g)
                })
                .collect(),
        }
    }

    /// Parses the JSON text of a signals file against the program's declarations. Errors
    /// name the signal and the value its type expects.
    pub fn parse(program: &Program, text: &str) -> Result<Signals, String> {
        let json: Json =
            serde_json::from_str(text).map_err(|e| format!("the signals file is not JSON: {e}"))?;
        let Json::Object(map) = json else {
            return Err("the signals file must be a JSON object from signal name to value".into());
        };
        let mut values = Vec::with_capacity(map.len());
        for (name, v) in &map {
            let Some(s) = program.signal_index(name) else {
                let names = program.signals.iter().map(|s| s.name.as_str());
                let hint = suggest(name, names)
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                return Err(format!("the policy has no signal `{name}`{hint}"));
            };
            let ty = &program.signals[s as usize].ty;
            let given = value(ty, v).map_err(|why| {
                if why.is_empty() {
                    format!(
                        "signal `{name}` is {ty}: expected {}, found {v}",
                        expected_value(ty)
                    )
                } else {
                    format!("signal `{name}` is {ty}: {why}")
                }
            })?;
            values.push((s, given));
        }
        Ok(Signals { values })
    }
}

/// Converts one JSON value; the error is an extra explanation (possibly empty).
fn value(ty: &Type, v: &Json) -> Result<Given, String> {
    if v.is_null() {
        return Ok(Given::Absent);
    }
    let number = |v: &Json| v.as_f64().ok_or_else(String::new);
    let in_range = |x: f64| match ty.range() {
        Some((lo, hi)) if !(lo..=hi).contains(&x) => Err(String::new()),
        _ => Ok(x),
    };
    let label = |labels: &[String], name: &str| {
        labels
            .iter()
            .position(|l| l == name)
            .map(|i| i as u32)
            .ok_or_else(|| {
                let hint = suggest(name, labels.iter().map(String::as_str))
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                format!("`{name}` is not one of its labels{hint}")
            })
    };
    Ok(match ty {
        Type::Bool => Given::Value(SignalValue::Bool(v.as_bool().ok_or_else(String::new)?)),
        Type::Int => {
            if v.as_i64().is_none() && v.as_u64().is_none() {
                return Err(String::new());
            }
            Given::Value(SignalValue::Number(number(v)?))
        }
        Type::Float | Type::Score | Type::Similarity => {
            Given::Value(SignalValue::Number(in_range(number(v)?)?))
        }
        Type::String => Given::Value(SignalValue::String(
            v.as_str().ok_or_else(String::new)?.to_owned(),
        )),
        Type::Category(labels) => match v {
            Json::String(name) => Given::Top(label(labels, name)?, 1.0),
            Json::Object(o) if o.contains_key("label") => {
                let l = o
                    .get("label")
                    .and_then(Json::as_str)
                    .ok_or_else(|| "`label` must be a string".to_string())?;
                let c = match o.get("confidence") {
                    None => 1.0,
                    Some(c) => c
                        .as_f64()
                        .filter(|c| (0.0..=1.0).contains(c))
                        .ok_or_else(|| {
                            format!("`confidence` must be a number from 0 to 1, found {c}")
                        })?,
                };
                if let Some(k) = o.keys().find(|k| *k != "label" && *k != "confidence") {
                    return Err(format!("unexpected key `{k}` beside `label`"));
                }
                Given::Top(label(labels, l)?, c)
            }
            Json::Object(o) => {
                let mut probs = vec![0.0; labels.len()];
                for (k, p) in o {
                    let i = label(labels, k)?;
                    probs[i as usize] =
                        p.as_f64()
                            .filter(|p| (0.0..=1.0).contains(p))
                            .ok_or_else(|| {
                                format!("the probability of `{k}` must be from 0 to 1, found {p}")
                            })?;
                }
                Given::Value(SignalValue::Category(probs))
            }
            _ => return Err(String::new()),
        },
        Type::Set(labels) => {
            let items = v.as_array().ok_or_else(String::new)?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let name = item
                    .as_str()
                    .ok_or_else(|| format!("each label is a string, found {item}"))?;
                out.push(label(labels, name)?);
            }
            Given::Value(SignalValue::Set(out))
        }
    })
}

impl SignalSource for Signals {
    fn fetch(&mut self, signal: u32, frame: &mut Frame) {
        let Some((_, given)) = self.values.iter().find(|(s, _)| *s == signal) else {
            frame.set_absent(signal);
            return;
        };
        // Values were checked against the declarations when they were parsed; one that
        // still does not fit (a test of a different policy) counts as absent.
        let ok = match given {
            Given::Value(v) => frame.set(signal, Some(v)),
            Given::Top(l, c) => frame.set_category_top(signal, *l, *c),
            Given::Absent => {
                frame.set_absent(signal);
                Ok(())
            }
        };
        if ok.is_err() {
            frame.set_absent(signal);
        }
    }
}
