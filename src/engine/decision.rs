//! A decision as values: the route, what it does to the request, and the signals it read.
//!
//! The engines return a route index and one leaf index per parameter slot (no allocation);
//! this resolves them into the strings and numbers the gateway writes into the request.

use serde_json::{json, Map, Value as Json};

use crate::policy::{Effort, JsonValue, ReasoningFamily, SystemPromptMode};

use super::frame::Frame;
use super::ir::{Action, BackendDecl, Program, Target, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    pub route: usize,
    pub route_name: String,
    pub outcome: Outcome,
    /// Names of the signals evaluation read, in declaration order.
    pub signals_read: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Reject { status: u16, message: String },
    Forward(Rewrite),
}

/// What a route does to a request it forwards.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Rewrite {
    pub backend: usize,
    pub fallback: Vec<usize>,
    pub system_prompt: Option<(String, SystemPromptMode)>,
    pub reasoning_effort: Option<Effort>,
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub params: Vec<(String, JsonValue)>,
    pub headers: Vec<(String, String)>,
    pub upstream_headers: Vec<(String, String)>,
}

impl Decision {
    pub fn new(program: &Program, route: usize, choices: &[u32], frame: &Frame) -> Decision {
        let r = &program.routes[route];
        let outcome = match &r.action {
            Action::Reject { status, message } => Outcome::Reject {
                status: *status,
                message: message.clone(),
            },
            Action::Forward(f) => {
                let mut w = Rewrite {
                    backend: f.backend as usize,
                    fallback: f.fallback.iter().map(|&b| b as usize).collect(),
                    ..Rewrite::default()
                };
                for (slot, &leaf) in f.slots.iter().zip(choices) {
                    let v = &slot.values[leaf as usize];
                    let text = |v: &Value| match v {
                        Value::Prompt(id) => program.prompts[*id as usize].text.clone(),
                        Value::Text(t) => t.clone(),
                        other => format!("{other:?}"),
                    };
                    match (&slot.target, v) {
                        (Target::SystemPrompt(mode), v) => w.system_prompt = Some((text(v), *mode)),
                        (Target::ReasoningEffort, Value::Effort(e)) => {
                            w.reasoning_effort = Some(*e)
                        }
                        (Target::MaxTokens, Value::Int(n)) => w.max_tokens = Some(*n),
                        (Target::Temperature, Value::Float(x)) => w.temperature = Some(*x),
                        (Target::TopP, Value::Float(x)) => w.top_p = Some(*x),
                        (Target::Param(name), Value::Json(j)) => {
                            w.params.push((name.clone(), j.clone()))
                        }
                        (Target::Header(name), v) => w.headers.push((name.clone(), text(v))),
                        (Target::UpstreamHeader(name), v) => {
                            w.upstream_headers.push((name.clone(), text(v)))
                        }
                        // Lowering never pairs a target with a value of another kind.
                        _ => {}
                    }
                }
                Outcome::Forward(w)
            }
        };
        Decision {
            route,
            route_name: r.name.clone(),
            outcome,
            signals_read: frame
                .reads()
                .map(|s| program.signals[s as usize].name.clone())
                .collect(),
        }
    }

    /// The decision as `routerc eval` prints it.
    pub fn to_json(&self, program: &Program) -> Json {
        let mut out = Map::new();
        out.insert("route".into(), json!(self.route_name));
        match &self.outcome {
            Outcome::Reject { status, message } => {
                out.insert(
                    "reject".into(),
                    json!({ "status": status, "message": message }),
                );
            }
            Outcome::Forward(w) => {
                let backend = &program.backends[w.backend];
                out.insert("backend".into(), json!(backend.name));
                out.insert("parameters".into(), Json::Object(w.parameters()));
                out.insert("request".into(), Json::Object(w.request_fields(backend)));
                if let Some((text, mode)) = &w.system_prompt {
                    out.insert(
                        "system_prompt".into(),
                        json!({ "mode": mode_name(*mode), "text": text }),
                    );
                }
                if !w.headers.is_empty() {
                    out.insert("headers".into(), pairs(&w.headers));
                }
                if !w.upstream_headers.is_empty() {
                    out.insert("upstream_headers".into(), pairs(&w.upstream_headers));
                }
                if !w.fallback.is_empty() {
                    out.insert(
                        "fallback".into(),
                        w.fallback
                            .iter()
                            .map(|&b| json!(program.backends[b].name))
                            .collect(),
                    );
                }
            }
        }
        out.insert("signals_read".into(), json!(self.signals_read));
        Json::Object(out)
    }
}

fn pairs(p: &[(String, String)]) -> Json {
    Json::Object(p.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

pub fn mode_name(m: SystemPromptMode) -> &'static str {
    match m {
        SystemPromptMode::Replace => "replace",
        SystemPromptMode::Prepend => "prepend",
    }
}

impl Rewrite {
    /// The sampling parameters, named as both the policy and the OpenAI API name them.
    fn sampling(&self, m: &mut Map<String, Json>) {
        if let Some(n) = self.max_tokens {
            m.insert("max_tokens".into(), json!(n));
        }
        if let Some(x) = self.temperature {
            m.insert("temperature".into(), json!(x));
        }
        if let Some(x) = self.top_p {
            m.insert("top_p".into(), json!(x));
        }
    }

    /// The route's parameters as the policy wrote them (what tests compare).
    pub fn parameters(&self) -> Map<String, Json> {
        let mut m = Map::new();
        if let Some(e) = self.reasoning_effort {
            m.insert("reasoning_effort".into(), json!(e.as_str()));
        }
        self.sampling(&mut m);
        if let Some((text, _)) = &self.system_prompt {
            m.insert("system_prompt".into(), json!(text));
        }
        for (k, v) in &self.params {
            m.insert(k.clone(), to_json(v));
        }
        m
    }

    /// The top-level fields to set on the request sent to `backend`: its model name, the
    /// sampling parameters, and the reasoning effort in the form its family understands.
    pub fn request_fields(&self, backend: &BackendDecl) -> Map<String, Json> {
        let mut m = Map::new();
        m.insert("model".into(), json!(backend.model));
        self.sampling(&mut m);
        if let Some(e) = self.reasoning_effort {
            match backend.reasoning {
                ReasoningFamily::Effort => {
                    m.insert("reasoning_effort".into(), json!(e.as_str()));
                }
                ReasoningFamily::EnableThinking => {
                    m.insert(
                        "chat_template_kwargs".into(),
                        json!({ "enable_thinking": e != Effort::None }),
                    );
                }
                ReasoningFamily::None => {}
            }
        }
        for (k, v) in &self.params {
            m.insert(k.clone(), to_json(v));
        }
        m
    }
}

pub fn to_json(v: &JsonValue) -> Json {
    match v {
        JsonValue::Null => Json::Null,
        JsonValue::Bool(b) => json!(b),
        JsonValue::Int(i) => json!(i),
        JsonValue::Float(x) => json!(x),
        JsonValue::String(s) => json!(s),
        JsonValue::Array(a) => a.iter().map(to_json).collect(),
        JsonValue::Object(o) => {
            Json::Object(o.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}
