//! Step three: one request's signals, computed when the engine first reads them, at most
//! once each; the expensive ones every decision reads are computed in parallel first.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use crate::engine::frame::{Frame, SignalSource, ValueError};
use crate::policy::{Aggregate, LengthUnit};

use super::input::{Input, Texts};
use super::language;
use super::models::entity_type;
use super::pii;
use super::plan::{Compute, SignalPlan};

/// A model's entity counts when the mean probability of its tokens' labels is at least this:
/// the label beat every other one for each token, and clearly.
pub const MIN_ENTITY_SCORE: f32 = 0.5;

/// A computed value, before it goes into a frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Number(f64),
    String(String),
    /// Each declared label's probability, and the label on top (none when the model's most
    /// probable label is one the policy does not declare).
    Category {
        probs: Vec<f64>,
        top: Option<u32>,
    },
    /// Declared label indices.
    Set(Vec<u32>),
    Absent,
}

/// A value and what the trace shows about how it was found (matched keywords, PII spans,
/// nearest examples, the model's own label, an error).
type Computed = (Value, Option<Json>);

/// The signals of one request, for the engine's lazy [`SignalSource`] protocol.
pub struct RequestSignals<'a> {
    plan: &'a SignalPlan,
    input: &'a Input<'a>,
    texts: Texts,
    computed: Vec<Option<Computed>>,
    /// How long each computed signal took (for the gateway's per-signal latency).
    elapsed: Vec<Option<Duration>>,
}

impl<'a> RequestSignals<'a> {
    pub fn new(plan: &'a SignalPlan, input: &'a Input<'a>) -> RequestSignals<'a> {
        RequestSignals {
            plan,
            input,
            texts: Texts::default(),
            computed: vec![None; plan.signals.len()],
            elapsed: vec![None; plan.signals.len()],
        }
    }

    /// Computes the expensive signals every decision reads ([`SignalPlan::certain`]) at the
    /// same time, one thread each, when there are two or more; the engine then finds them
    /// ready. The rest stay lazy.
    pub fn prefetch(&mut self) {
        // Most policies have fewer than two certain expensive signals: nothing to build.
        if self.plan.certain().len() < 2 {
            return;
        }
        let todo: Vec<u32> = self
            .plan
            .certain()
            .iter()
            .copied()
            .filter(|&s| self.computed.get(s as usize).is_some_and(Option::is_none))
            .collect();
        if todo.len() < 2 {
            return;
        }
        let (plan, input, texts) = (self.plan, self.input, &self.texts);
        let results: Vec<(u32, Computed, Option<Duration>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = todo
                .iter()
                .map(|&s| {
                    (
                        s,
                        scope.spawn(move || timed(|| compute(plan, s, input, texts))),
                    )
                })
                .collect();
            handles
                .into_iter()
                .map(|(s, h)| match h.join() {
                    Ok((c, took)) => (s, c, Some(took)),
                    Err(_) => (
                        s,
                        (
                            Value::Absent,
                            Some(json!({ "error": "the extractor panicked" })),
                        ),
                        None,
                    ),
                })
                .collect()
        });
        for (s, c, took) in results {
            self.computed[s as usize] = Some(c);
            self.elapsed[s as usize] = took;
        }
    }

    /// The value computed for a signal, if it was.
    pub fn value(&self, signal: u32) -> Option<&Value> {
        self.computed.get(signal as usize)?.as_ref().map(|(v, _)| v)
    }

    /// What the trace says about a computed signal.
    pub fn detail(&self, signal: u32) -> Option<&Json> {
        self.computed.get(signal as usize)?.as_ref()?.1.as_ref()
    }

    /// How long computing a signal took, if it was computed (in parallel or on demand).
    pub fn elapsed(&self, signal: u32) -> Option<Duration> {
        *self.elapsed.get(signal as usize)?
    }

    /// The signals computed so far, in signal order.
    pub fn computed(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.computed.len() as u32).filter(|&s| self.computed[s as usize].is_some())
    }
}

impl SignalSource for RequestSignals<'_> {
    fn fetch(&mut self, signal: u32, frame: &mut Frame) {
        let Some(slot) = self.computed.get(signal as usize) else {
            frame.set_absent(signal);
            return;
        };
        if slot.is_none() {
            let (c, took) = timed(|| compute(self.plan, signal, self.input, &self.texts));
            self.computed[signal as usize] = Some(c);
            self.elapsed[signal as usize] = Some(took);
        }
        let value = self.computed[signal as usize]
            .as_ref()
            .map_or(&Value::Absent, |(v, _)| v);
        // A value that does not fit the declaration (possible only from a bundle whose
        // extractor and type disagree) leaves the signal absent.
        if write(frame, signal, value).is_err() {
            frame.set_absent(signal);
        }
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed())
}

fn write(frame: &mut Frame, signal: u32, value: &Value) -> Result<(), ValueError> {
    match value {
        Value::Bool(b) => frame.set_bool(signal, *b),
        Value::Number(x) => frame.set_number(signal, *x),
        Value::String(s) => frame.set_string(signal, s),
        Value::Category { probs, top } => frame.set_category_with_top(signal, probs, *top),
        Value::Set(labels) => frame.set_labels(signal, labels),
        Value::Absent => {
            frame.set_absent(signal);
            Ok(())
        }
    }
}

fn error(message: String) -> Computed {
    (Value::Absent, Some(json!({ "error": message })))
}

/// Computes one signal. Needs only shared references, so signals can be computed on several
/// threads at once.
fn compute(plan: &SignalPlan, signal: u32, input: &Input<'_>, texts: &Texts) -> Computed {
    let Some(c) = plan.signals.get(signal as usize) else {
        return (Value::Absent, None);
    };
    match c {
        Compute::Keyword { matcher, text } => {
            let t = if matcher.wants_lowercase() {
                texts.lowered(input, *text)
            } else {
                texts.get(input, *text)
            };
            let matched = matcher.matches(t);
            (
                Value::Bool(!matched.is_empty()),
                Some(json!({ "matched": matched })),
            )
        }
        Compute::Regex { set, text } => {
            let t = texts.get(input, *text);
            let matched: Vec<&str> = set
                .matches(t)
                .iter()
                .map(|i| set.patterns()[i].as_str())
                .collect();
            (
                Value::Bool(!matched.is_empty()),
                Some(json!({ "matched": matched })),
            )
        }
        Compute::RegexCount { patterns, text } => {
            let t = texts.get(input, *text);
            let count: usize = patterns.iter().map(|p| p.find_iter(t).count()).sum();
            (Value::Number(count as f64), None)
        }
        Compute::Header { name, ty } => match input.header(name) {
            Some(v) => (header_value(v, ty), None),
            None => (Value::Absent, None),
        },
        Compute::Identity { user } => match if *user { input.user } else { input.role } {
            Some(v) => (Value::String(v.to_string()), None),
            None => (Value::Absent, None),
        },
        Compute::Length {
            unit: LengthUnit::Messages,
            role: Some(role),
            ..
        } => {
            let counted = |m: &&crate::signals::Turn<'_>| match role.as_str() {
                "non_user" => m.role != "user",
                r => m.role == r,
            };
            (
                Value::Number(input.messages.iter().filter(counted).count() as f64),
                None,
            )
        }
        Compute::Length { unit, text, .. } => match unit {
            LengthUnit::Chars => (
                Value::Number(texts.get(input, *text).chars().count() as f64),
                None,
            ),
            LengthUnit::Bytes => (Value::Number(texts.get(input, *text).len() as f64), None),
            LengthUnit::Messages => (Value::Number(input.message_count(*text) as f64), None),
            LengthUnit::Tokens => {
                let t = texts.get(input, *text);
                match &plan.tokenizer {
                    Some(model) => match model.tokenize(t) {
                        Ok(tokens) => {
                            let special = tokens.special.iter().filter(|&&s| s).count();
                            let n = tokens.len() - special + tokens.dropped;
                            (
                                Value::Number(n as f64),
                                Some(json!({ "tokenizer": model_name(model) })),
                            )
                        }
                        Err(e) => error(format!("cannot tokenize: {e}")),
                    },
                    None => (
                        Value::Number(estimate_tokens(t) as f64),
                        Some(json!({ "tokenizer": "estimate: characters / 4" })),
                    ),
                }
            }
        },
        Compute::Language { text } => match language::detect(texts.get(input, *text)) {
            Some((code, confidence)) => (
                Value::String(code.to_string()),
                Some(json!({ "confidence": round(confidence) })),
            ),
            None => (Value::Absent, None),
        },
        Compute::RequestModel => (Value::String(input.model.to_string()), None),
        Compute::RequestTools => (Value::Number(input.tools as f64), None),
        Compute::RequestImages => (Value::Number(input.images as f64), None),
        Compute::RequestMetadata { key } => match input.metadata.iter().find(|(k, _)| k == key) {
            Some((_, v)) => (Value::String(v.to_string()), None),
            None => (Value::Absent, None),
        },
        Compute::Absent => (Value::Absent, None),
        Compute::Category {
            model,
            labels,
            other,
            text,
        } => {
            let t = texts.get(input, *text);
            if t.trim().is_empty() {
                return (
                    Value::Absent,
                    Some(json!({ "error": "no text to classify" })),
                );
            }
            let c = match model.classify(&[t]) {
                Ok(mut c) if !c.is_empty() => c.remove(0),
                Ok(_) => return error("the model gave no result".into()),
                Err(e) => return error(e.to_string()),
            };
            let mut probs: Vec<f64> = labels.iter().map(|&i| f64::from(c.probs[i])).collect();
            let top = match other {
                Some(o) => {
                    let declared: BTreeSet<usize> = labels.iter().copied().collect();
                    let rest: f64 = (0..c.probs.len())
                        .filter(|i| !declared.contains(i))
                        .map(|i| f64::from(c.probs[i]))
                        .sum();
                    probs[*o] += rest;
                    argmax(&probs)
                }
                None => labels
                    .iter()
                    .position(|&i| i == c.label_id)
                    .map(|p| p as u32),
            };
            (
                Value::Category { probs, top },
                Some(json!({ "model_label": c.label, "model_confidence": round(c.score.into()) })),
            )
        }
        Compute::Score { model, label, text } => {
            let t = texts.get(input, *text);
            if t.trim().is_empty() {
                return (
                    Value::Absent,
                    Some(json!({ "error": "no text to classify" })),
                );
            }
            match model.classify(&[t]) {
                Ok(c) if !c.is_empty() => (
                    Value::Number(f64::from(c[0].probs[*label])),
                    Some(json!({ "model_label": c[0].label })),
                ),
                Ok(_) => error("the model gave no result".into()),
                Err(e) => error(e.to_string()),
            }
        }
        Compute::Entities {
            model,
            types,
            validators,
            labels,
            text,
        } => {
            let t = texts.get(input, *text);
            let mut found = BTreeSet::new();
            let mut spans = Vec::new();
            let wanted: Vec<pii::Validator> = validators.iter().map(|(v, _)| *v).collect();
            for h in pii::find(t, &wanted) {
                if let Some((_, label)) = validators.iter().find(|(v, _)| *v == h.validator) {
                    found.insert(*label);
                    spans.push(json!({
                        "type": h.validator.label(), "start": h.start, "end": h.end,
                        "text": &t[h.start..h.end], "by": "validator",
                    }));
                }
            }
            // The model runs unless the validators already found every declared type.
            let mut model_ran = false;
            if found.len() < *labels && !types.is_empty() && !t.trim().is_empty() {
                model_ran = true;
                match model.classify_tokens(&[t]) {
                    Ok(c) => {
                        for e in c.iter().flat_map(|c| &c.entities) {
                            let Some(ty) = entity_type(&e.label) else {
                                continue;
                            };
                            if e.score < MIN_ENTITY_SCORE {
                                continue;
                            }
                            if let Some((_, label)) = types.iter().find(|(n, _)| *n == ty) {
                                found.insert(*label);
                                spans.push(json!({
                                    "type": ty, "start": e.start, "end": e.end, "text": e.text,
                                    "by": "model", "score": round(e.score.into()),
                                }));
                            }
                        }
                    }
                    Err(e) => return error(e.to_string()),
                }
            }
            (
                Value::Set(found.into_iter().collect()),
                Some(json!({ "spans": spans, "model_ran": model_ran })),
            )
        }
        Compute::Examples {
            model,
            sentences,
            vectors,
            top_k,
            aggregate,
            text,
        } => {
            let t = texts.get(input, *text);
            if t.trim().is_empty() {
                return (
                    Value::Absent,
                    Some(json!({ "error": "no text to compare" })),
                );
            }
            let v = match model.embed(&[t]) {
                Ok(mut v) if !v.is_empty() => v.remove(0),
                Ok(_) => return error("the model gave no embedding".into()),
                Err(e) => return error(e.to_string()),
            };
            let mut sims: Vec<(f64, usize)> = vectors
                .iter()
                .enumerate()
                .map(|(i, e)| (cosine(&v, e), i))
                .collect();
            sims.sort_by(|a, b| b.0.total_cmp(&a.0));
            sims.truncate(*top_k);
            let value = match aggregate {
                Aggregate::Max => sims.first().map_or(f64::NAN, |s| s.0),
                Aggregate::Mean => sims.iter().map(|s| s.0).sum::<f64>() / sims.len() as f64,
            };
            let nearest: Vec<Json> = sims
                .iter()
                .take(3)
                .map(|(s, i)| json!({ "example": sentences[*i], "similarity": round(*s) }))
                .collect();
            (
                Value::Number(value.clamp(-1.0, 1.0)),
                Some(json!({ "nearest": nearest })),
            )
        }
    }
}

/// A header's value as its declared type; one that does not parse is absent.
fn header_value(v: &str, ty: &crate::policy::Type) -> Value {
    use crate::policy::Type;
    let t = v.trim();
    let parsed = match ty {
        Type::Int => t.parse::<i64>().ok().map(|n| Value::Number(n as f64)),
        Type::Float => t
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Value::Number),
        Type::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(Value::Bool(true)),
            "false" | "0" | "no" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => Some(Value::String(v.to_string())),
    };
    parsed.unwrap_or(Value::Absent)
}

/// `length.tokens` without a loaded tokenizer: one token per four characters, rounded up.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

fn model_name(model: &routerc_models::Model) -> String {
    model
        .info()
        .path
        .file_name()
        .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned())
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

fn argmax(p: &[f64]) -> Option<u32> {
    let mut best: Option<(usize, f64)> = None;
    for (i, &x) in p.iter().enumerate() {
        if x.is_nan() {
            return None;
        }
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i as u32)
}

/// Four decimals, so traces and snapshots are stable across machines.
fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

impl RequestSignals<'_> {
    /// Every signal computed for this request, by name: its value as the policy sees it
    /// (labels by name) and what the trace knows (matched keywords, PII spans, nearest
    /// examples, the model's own label, an error).
    pub fn report(&self, program: &crate::engine::ir::Program) -> Json {
        let mut out = serde_json::Map::new();
        for s in self.computed() {
            let Some((value, detail)) = &self.computed[s as usize] else {
                continue;
            };
            let decl = &program.signals[s as usize];
            let mut entry = serde_json::Map::new();
            entry.insert("value".into(), value_json(value, decl.ty.labels()));
            if let Some(Json::Object(d)) = detail {
                entry.extend(d.clone());
            }
            out.insert(decl.name.clone(), Json::Object(entry));
        }
        Json::Object(out)
    }
}

/// A value with labels by name; absent is `null`.
pub fn value_json(value: &Value, labels: &[String]) -> Json {
    let name = |i: u32| labels.get(i as usize).map_or("?", String::as_str);
    match value {
        Value::Bool(b) => json!(b),
        Value::Number(x) if x.fract() == 0.0 && x.abs() < 1e15 => json!(*x as i64),
        Value::Number(x) => json!(round(*x)),
        Value::String(s) => json!(s),
        Value::Category { probs, top } => {
            let mut p = serde_json::Map::new();
            for (i, x) in probs.iter().enumerate() {
                p.insert(name(i as u32).to_string(), json!(round(*x)));
            }
            json!({
                "label": top.map(name),
                "confidence": top.map(|t| round(probs[t as usize])),
                "probabilities": p,
            })
        }
        Value::Set(l) => json!(l.iter().map(|&i| name(i)).collect::<Vec<_>>()),
        Value::Absent => Json::Null,
    }
}
