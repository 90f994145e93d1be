//! Backends, route actions and policy tests: fields, values and conditional values.

use super::FastMap as HashMap;

use super::Checker;
use crate::diagnostic::{codes, Diagnostic};
use crate::policy::*;
use crate::syntax::ast::{self, Field, Value};
use crate::syntax::Span;

pub(crate) const BACKEND_FIELDS: &[&str] = &[
    "url",
    "model",
    "reasoning",
    "api_key_env",
    "timeout",
    "connect_timeout",
    "first_byte_timeout",
    "idle_timeout",
    "max_retries",
    "headers",
    "ca_file",
];

pub(crate) const ACTION_FIELDS: &[&str] = &[
    "system_prompt",
    "system_prompt_mode",
    "reasoning_effort",
    "max_tokens",
    "temperature",
    "top_p",
    "params",
    "headers",
    "upstream_headers",
    "fallback",
];

pub(crate) const EXPECT_FIELDS: &[&str] = &[
    "reasoning_effort",
    "max_tokens",
    "system_prompt",
    "temperature",
    "top_p",
    "status",
    "message",
];

/// Request fields the gateway owns: a route sets them through the typed fields or not at all.
const MANAGED_PARAMS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "max_tokens",
    "reasoning_effort",
    "temperature",
    "top_p",
];

/// Reports repeated keys in a field list; returns the fields with first occurrences only.
fn unique_fields<'a>(checker: &mut Checker, fields: &'a [Field]) -> Vec<&'a Field> {
    let mut seen: HashMap<&str, Span> = HashMap::default();
    let mut out = Vec::new();
    for f in fields {
        if let Some(first) = seen.get(f.key.name.as_str()) {
            checker.error(
                Diagnostic::new(
                    &codes::E0211,
                    f.key.span,
                    format!("`{}` is set twice", f.key.name),
                )
                .with_label("set again here")
                .with_related(*first, "first set here"),
            );
        } else {
            seen.insert(&f.key.name, f.key.span);
            out.push(f);
        }
    }
    out
}

fn unknown_field(key: &ast::Ident, what: &str, known: &[&str]) -> Diagnostic {
    Diagnostic::new(
        &codes::E0208,
        key.span,
        format!("unknown field `{}` in {what}", key.name),
    )
    .with_label("not a field routerc knows")
    .with_suggestion(&key.name, key.span, known.iter().copied())
    .with_help_if_none(format!("the fields are {}", known.join(", ")))
}

fn invalid(span: Span, message: impl Into<String>, label: impl Into<String>) -> Diagnostic {
    Diagnostic::new(&codes::E0306, span, message).with_label(label)
}

impl Checker {
    pub(super) fn check_backend(&mut self, b: &ast::BackendDecl) {
        let Some(&id) = self.backend_ids.get(b.name.name.as_str()) else {
            return;
        };
        if self.backend_spans[id.0 as usize] != b.name.span {
            return; // a duplicate, already reported
        }
        let mut url = None;
        let mut model = None;
        let mut reasoning = ReasoningFamily::Effort;
        let mut api_key_env = None;
        let mut timeouts = Timeouts::default();
        let mut max_retries = 1;
        let mut headers = Vec::new();
        let mut ca_file: Option<&ast::StrLit> = None;
        let mut ok = true;
        for f in unique_fields(self, &b.fields) {
            let key = f.key.name.as_str();
            let good = match key {
                "url" => match &f.value {
                    Value::Str(s)
                        if s.value.starts_with("http://") || s.value.starts_with("https://") =>
                    {
                        url = Some(s.value.trim_end_matches('/').to_string());
                        true
                    }
                    Value::Str(s) => {
                        self.error(
                            invalid(s.span, format!("`{}` is not an http or https URL", s.value), "not a URL")
                                .with_help("write the base URL of an OpenAI-compatible API, such as `\"http://127.0.0.1:8000/v1\"`"),
                        );
                        false
                    }
                    v => self.expect_kind(v, "`url`", "a string"),
                },
                "model" => match &f.value {
                    Value::Str(s) if !s.value.is_empty() => {
                        model = Some(s.value.clone());
                        true
                    }
                    v => self.expect_kind(
                        v,
                        "`model`",
                        "the backend's model name as a non-empty string",
                    ),
                },
                "reasoning" => match self.word(
                    &f.value,
                    "`reasoning`",
                    &["effort", "enable_thinking", "none"],
                ) {
                    Some(w) => {
                        reasoning = match w.as_str() {
                            "effort" => ReasoningFamily::Effort,
                            "enable_thinking" => ReasoningFamily::EnableThinking,
                            _ => ReasoningFamily::None,
                        };
                        true
                    }
                    None => false,
                },
                "api_key_env" => match &f.value {
                    Value::Str(s)
                        if !s.value.is_empty()
                            && s.value
                                .bytes()
                                .all(|c| c.is_ascii_alphanumeric() || c == b'_') =>
                    {
                        api_key_env = Some(s.value.clone());
                        true
                    }
                    v => {
                        self.error(
                            invalid(v.span(), "`api_key_env` names an environment variable", "expected a variable name such as `\"OPENAI_API_KEY\"`")
                                .with_help("keys never go in the policy itself; the gateway reads the variable at start"),
                        );
                        false
                    }
                },
                "timeout" | "connect_timeout" | "first_byte_timeout" | "idle_timeout" => {
                    match &f.value {
                        Value::Duration(ms, _) if *ms > 0 => {
                            let slot = match key {
                                "timeout" => &mut timeouts.total_ms,
                                "connect_timeout" => &mut timeouts.connect_ms,
                                "first_byte_timeout" => &mut timeouts.first_byte_ms,
                                _ => &mut timeouts.idle_ms,
                            };
                            *slot = Some(*ms);
                            true
                        }
                        Value::Error(_) => false,
                        v => {
                            let help = match v {
                                Value::Int(i) => {
                                    format!("add a unit: `{}s` or `{}ms`", i.value, i.value)
                                }
                                _ => "write a duration such as `30s` or `250ms`".to_string(),
                            };
                            self.error(
                                invalid(
                                    v.span(),
                                    format!("`{key}` must be a positive duration"),
                                    "not a duration",
                                )
                                .with_help(help),
                            );
                            false
                        }
                    }
                }
                "max_retries" => match &f.value {
                    Value::Int(i) if (0..=10).contains(&i.value) => {
                        max_retries = i.value as u32;
                        true
                    }
                    v => {
                        self.error(invalid(
                            v.span(),
                            "`max_retries` must be an integer from 0 to 10",
                            "out of range",
                        ));
                        false
                    }
                },
                "headers" => match self.string_map(&f.value, "`headers`") {
                    Some(h) => {
                        headers = h;
                        true
                    }
                    None => false,
                },
                "ca_file" => match &f.value {
                    Value::Str(s) if !s.value.is_empty() => {
                        ca_file = Some(s);
                        true
                    }
                    v => self.expect_kind(
                        v,
                        "`ca_file`",
                        "the path of a PEM file of certificate authorities",
                    ),
                },
                _ => {
                    self.error(unknown_field(&f.key, "a backend", BACKEND_FIELDS));
                    false
                }
            };
            ok &= good;
        }
        for (field, present) in [("url", url.is_some()), ("model", model.is_some())] {
            let misspelt = b.fields.iter().any(|f| {
                !BACKEND_FIELDS.contains(&f.key.name.as_str())
                    && crate::diagnostic::suggest(&f.key.name, [field]).is_some()
            });
            if !present && !misspelt && !b.fields.iter().any(|f| f.key.name == field) {
                self.error(
                    Diagnostic::new(
                        &codes::E0215,
                        b.name.span,
                        format!("backend `{}` has no `{field}`", b.name.name),
                    )
                    .with_label(format!("`{field}` is required"))
                    .with_help(if field == "url" {
                        "add `url: \"http://…/v1\"`, the base URL of an OpenAI-compatible API"
                    } else {
                        "add `model: \"…\"`, the model name the backend serves"
                    }),
                );
                ok = false;
            }
        }
        // Certificate authorities only matter to TLS: on an http:// backend the file would be
        // silently ignored, which hides a wrong url or a forgotten `s`.
        if let (Some(ca), Some(u)) = (ca_file, &url) {
            if u.starts_with("http://") {
                self.error(
                    invalid(
                        ca.span,
                        "`ca_file` applies to https backends only",
                        "this backend's url is http://",
                    )
                    .with_help("use an https:// url, or remove `ca_file`"),
                );
                ok = false;
            }
        }
        if let (true, Some(url), Some(model)) = (ok, url, model) {
            self.backends[id.0 as usize] = Some(Backend {
                name: b.name.name.to_string(),
                url,
                model,
                reasoning,
                api_key_env,
                timeouts,
                max_retries,
                headers,
                ca_file: ca_file.map(|s| s.value.clone()),
                span: b.span,
                name_span: b.name.span,
            });
        }
    }

    /// Reports that `v` is not of the expected kind; always `false`.
    fn expect_kind(&mut self, v: &Value, field: &str, expected: &str) -> bool {
        if !matches!(v, Value::Error(_)) {
            self.error(invalid(
                v.span(),
                format!("{field} expects {expected}"),
                format!("{} given", value_kind(v)),
            ));
        }
        false
    }

    /// One of `words`, written as a bare name.
    fn word(&mut self, v: &Value, field: &str, words: &[&str]) -> Option<String> {
        match v {
            Value::Name(n) if words.contains(&n.name.as_str()) => Some(n.name.to_string()),
            Value::Error(_) => None,
            other => {
                let shown = match other {
                    Value::Name(n) => n.name.to_string(),
                    Value::Str(s) => s.value.clone(),
                    _ => String::new(),
                };
                let mut d = invalid(
                    other.span(),
                    format!("{field} must be one of {}", words.join(", ")),
                    format!("{} is not one of them", value_kind(other)),
                )
                .with_suggestion(&shown, other.span(), words.iter().copied());
                if let (Value::Str(_), true) = (other, words.contains(&shown.as_str())) {
                    d = d
                        .with_help(format!("write it without quotes: `{shown}`"))
                        .with_fix(format!("unquote `{shown}`"), other.span(), shown.clone());
                }
                self.error(d);
                None
            }
        }
    }

    fn string_map(&mut self, v: &Value, field: &str) -> Option<Vec<(String, String)>> {
        let Value::Map(fields, _) = v else {
            self.expect_kind(v, field, "a map such as `{ x_team: \"finance\" }`");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for f in unique_fields(self, fields) {
            match &f.value {
                // A line break in a header value would let the policy inject headers upstream.
                Value::Str(s) if !s.value.contains(['\r', '\n']) => {
                    out.push((header_name(&f.key.name), s.value.clone()))
                }
                v => {
                    ok &= self.expect_kind(
                        v,
                        &format!("header `{}`", f.key.name),
                        "a single-line string",
                    )
                }
            }
        }
        ok.then_some(out)
    }

    pub(super) fn action(&mut self, a: &ast::Action) -> Option<Action> {
        match a {
            ast::Action::Reject {
                status, message, ..
            } => {
                if !(400..=599).contains(&status.value) {
                    self.error(
                        Diagnostic::new(&codes::E0307, status.span, format!("`{}` is not an HTTP error status", status.value))
                            .with_label("expected 400 to 599")
                            .with_help("403 (forbidden) and 400 (bad request) are the usual choices for a policy block"),
                    );
                    return None;
                }
                Some(Action::Reject {
                    status: status.value as u16,
                    message: message.value.clone(),
                })
            }
            ast::Action::Backend {
                backend, fields, ..
            } => {
                let backend_id = self.resolve_backend(backend);
                let mut act = BackendAction {
                    backend: backend_id.unwrap_or(BackendId(0)),
                    system_prompt: None,
                    system_prompt_mode: SystemPromptMode::Replace,
                    reasoning_effort: None,
                    max_tokens: None,
                    temperature: None,
                    top_p: None,
                    params: Vec::new(),
                    headers: Vec::new(),
                    upstream_headers: Vec::new(),
                    fallback: Vec::new(),
                };
                let mut ok = backend_id.is_some();
                for f in unique_fields(self, fields) {
                    let good = match f.key.name.as_str() {
                        "system_prompt" => self
                            .param(&f.value, &mut |c, v| c.prompt_ref(v))
                            .map(|p| act.system_prompt = Some(p)),
                        "system_prompt_mode" => self
                            .word(&f.value, "`system_prompt_mode`", &["replace", "prepend"])
                            .map(|w| {
                                act.system_prompt_mode = if w == "prepend" {
                                    SystemPromptMode::Prepend
                                } else {
                                    SystemPromptMode::Replace
                                }
                            }),
                        "reasoning_effort" => self
                            .param(&f.value, &mut |c, v| c.effort(v))
                            .map(|p| act.reasoning_effort = Some(p)),
                        "max_tokens" => self
                            .param(&f.value, &mut |c, v| c.max_tokens(v))
                            .map(|p| act.max_tokens = Some(p)),
                        "temperature" => self
                            .param(&f.value, &mut |c, v| {
                                c.number_in(v, "`temperature`", 0.0, 2.0)
                            })
                            .map(|p| act.temperature = Some(p)),
                        "top_p" => self
                            .param(&f.value, &mut |c, v| c.number_in(v, "`top_p`", 0.0, 1.0))
                            .map(|p| act.top_p = Some(p)),
                        "params" => self.params(&f.value).map(|p| act.params = p),
                        "headers" => self
                            .header_params(&f.value, "`headers`")
                            .map(|h| act.headers = h),
                        "upstream_headers" => self
                            .header_params(&f.value, "`upstream_headers`")
                            .map(|h| act.upstream_headers = h),
                        "fallback" => self.fallback(&f.value).map(|fb| act.fallback = fb),
                        _ => {
                            self.error(unknown_field(&f.key, "an action", ACTION_FIELDS));
                            None
                        }
                    };
                    ok &= good.is_some();
                }
                ok.then_some(Action::Backend(Box::new(act)))
            }
        }
    }

    /// A value that may be conditional: `if COND then A else B`, nested freely.
    fn param<T>(
        &mut self,
        v: &Value,
        leaf: &mut dyn FnMut(&mut Checker, &Value) -> Option<T>,
    ) -> Option<Param<T>> {
        match v {
            Value::If {
                condition,
                then,
                otherwise,
                ..
            } => {
                let c = self.condition(condition);
                let a = self.param(then, leaf);
                let b = self.param(otherwise, leaf);
                Some(Param::If {
                    condition: c?,
                    then: Box::new(a?),
                    otherwise: Box::new(b?),
                })
            }
            other => leaf(self, other).map(Param::Const),
        }
    }

    fn prompt_ref(&mut self, v: &Value) -> Option<PromptRef> {
        match v {
            Value::Str(s) if !s.value.trim().is_empty() => Some(PromptRef::Inline(s.value.clone())),
            Value::Name(n) => match self.prompt_ids.get(n.name.as_str()) {
                Some(&id) => {
                    self.prompt_uses[id.0 as usize] += 1;
                    Some(PromptRef::Named(id))
                }
                None if self.broken.contains(&("prompt", n.name.to_string())) => None,
                None => {
                    let candidates: Vec<String> = self.prompt_ids.keys().cloned().collect();
                    self.error(
                        Diagnostic::new(
                            &codes::E0204,
                            n.span,
                            format!("unknown prompt `{}`", n.name),
                        )
                        .with_label("no prompt of this name is declared")
                        .with_suggestion(&n.name, n.span, candidates.iter().map(String::as_str))
                        .with_help_if_none(format!(
                            "declare it: `prompt {} = \"…\"`, or write the prompt as a string",
                            n.name
                        )),
                    );
                    None
                }
            },
            other => {
                self.expect_kind(
                    other,
                    "`system_prompt`",
                    "a prompt name or a non-empty string",
                );
                None
            }
        }
    }

    fn effort(&mut self, v: &Value) -> Option<Effort> {
        let names: Vec<&str> = Effort::ALL.iter().map(|(n, _)| *n).collect();
        let w = self.word(v, "`reasoning_effort`", &names)?;
        Effort::ALL.iter().find(|(n, _)| *n == w).map(|(_, e)| *e)
    }

    fn max_tokens(&mut self, v: &Value) -> Option<u32> {
        match v {
            Value::Int(i) if (1..=i64::from(u32::MAX)).contains(&i.value) => Some(i.value as u32),
            Value::Int(i) => {
                self.error(invalid(
                    i.span,
                    format!(
                        "`max_tokens` must be from 1 to {}, not `{}`",
                        u32::MAX,
                        i.value
                    ),
                    "out of range",
                ));
                None
            }
            other => {
                self.expect_kind(other, "`max_tokens`", "a positive integer");
                None
            }
        }
    }

    fn number_in(&mut self, v: &Value, field: &str, lo: f64, hi: f64) -> Option<f64> {
        let x = match v {
            Value::Int(i) => i.value as f64,
            Value::Float(f) => f.value,
            other => {
                self.expect_kind(other, field, "a number");
                return None;
            }
        };
        if !(lo..=hi).contains(&x) {
            self.error(invalid(
                v.span(),
                format!("{field} must be in [{lo}, {hi}]"),
                "out of range",
            ));
            return None;
        }
        Some(x)
    }

    fn params(&mut self, v: &Value) -> Option<Vec<(String, Param<JsonValue>)>> {
        let Value::Map(fields, _) = v else {
            self.expect_kind(v, "`params`", "a map such as `{ seed: 7 }`");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for f in unique_fields(self, fields) {
            if MANAGED_PARAMS.contains(&f.key.name.as_str()) {
                let help = match f.key.name.as_str() {
                    "model" => "the backend's `model` decides it".to_string(),
                    "messages" | "stream" => "the client's request decides it".to_string(),
                    other => format!("set `{other}` directly in the action"),
                };
                self.error(
                    invalid(
                        f.key.span,
                        format!("`{}` cannot be set through `params`", f.key.name),
                        "managed by routerc",
                    )
                    .with_help(help),
                );
                ok = false;
                continue;
            }
            match self.param(&f.value, &mut |c, v| c.json(v)) {
                Some(p) => out.push((f.key.name.to_string(), p)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn json(&mut self, v: &Value) -> Option<JsonValue> {
        Some(match v {
            Value::Str(s) => JsonValue::String(s.value.clone()),
            Value::Int(i) => JsonValue::Int(i.value),
            Value::Float(f) => JsonValue::Float(f.value),
            Value::Bool(b, _) => JsonValue::Bool(*b),
            Value::Name(n) if n.name == "null" => JsonValue::Null,
            Value::List(items, _) => {
                let items: Vec<Option<JsonValue>> = items.iter().map(|i| self.json(i)).collect();
                JsonValue::Array(items.into_iter().collect::<Option<Vec<_>>>()?)
            }
            Value::Map(fields, _) => {
                let mut out = Vec::new();
                let mut ok = true;
                for f in unique_fields(self, fields) {
                    match self.json(&f.value) {
                        Some(j) => out.push((f.key.name.to_string(), j)),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                JsonValue::Object(out)
            }
            Value::Error(_) => return None,
            other => {
                let help = match other {
                    Value::Name(n) => Some(format!("quote it: `\"{}\"`", n.name)),
                    _ => None,
                };
                self.error(
                    invalid(
                        other.span(),
                        "a request parameter must be a JSON value",
                        format!("{} given", value_kind(other)),
                    )
                    .with_help_opt(help),
                );
                return None;
            }
        })
    }

    fn header_params(&mut self, v: &Value, field: &str) -> Option<Vec<(String, Param<String>)>> {
        let Value::Map(fields, _) = v else {
            self.expect_kind(v, field, "a map such as `{ x_team: \"finance\" }`");
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for f in unique_fields(self, fields) {
            let name = header_name(&f.key.name);
            match self.param(&f.value, &mut |c, v| match v {
                Value::Str(s) if !s.value.contains(['\r', '\n']) => Some(s.value.clone()),
                other => {
                    c.expect_kind(other, &format!("header `{name}`"), "a single-line string");
                    None
                }
            }) {
                Some(p) => out.push((name, p)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn fallback(&mut self, v: &Value) -> Option<Vec<BackendId>> {
        let names: Vec<&ast::Ident> = match v {
            Value::Name(n) => vec![n],
            Value::List(items, _) => {
                let mut names = Vec::new();
                for item in items {
                    match item {
                        Value::Name(n) => names.push(n),
                        other => {
                            self.expect_kind(other, "`fallback`", "backend names");
                            return None;
                        }
                    }
                }
                names
            }
            other => {
                self.expect_kind(other, "`fallback`", "a backend name or a list of them");
                return None;
            }
        };
        let ids: Vec<Option<BackendId>> =
            names.into_iter().map(|n| self.resolve_backend(n)).collect();
        ids.into_iter().collect()
    }

    pub(super) fn check_test(
        &mut self,
        t: &ast::TestDecl,
        ordered: &[String],
        declared: &HashMap<String, Span>,
    ) -> Option<PolicyTest> {
        let mut ok = true;
        let mut given = Vec::new();
        for f in unique_fields(self, &t.given) {
            let Some(&id) = self.signal_ids.get(f.key.name.as_str()) else {
                self.unknown_signal(&f.key);
                ok = false;
                continue;
            };
            let Some(ty) = self.signals[id.0 as usize].ty.clone() else {
                ok = false;
                continue;
            };
            match self.test_value(&ty, &f.value, &f.key.name) {
                Some(v) => given.push((id, v)),
                None => ok = false,
            }
        }
        let expect_route = match ordered.iter().position(|n| *n == t.expect.name) {
            Some(i) => Some(i),
            None if declared.contains_key(t.expect.name.as_str())
                || self.broken.contains(&("route", t.expect.name.to_string())) =>
            {
                None
            } // a route with errors
            None => {
                let mut candidates: Vec<&str> = declared.keys().map(String::as_str).collect();
                candidates.push("default");
                self.error(
                    Diagnostic::new(
                        &codes::E0216,
                        t.expect.span,
                        format!("unknown route `{}`", t.expect.name),
                    )
                    .with_label("no route of this name is declared")
                    .with_suggestion(&t.expect.name, t.expect.span, candidates),
                );
                None
            }
        };
        let mut expect_params = Vec::new();
        for f in unique_fields(self, &t.expect_fields) {
            if !EXPECT_FIELDS.contains(&f.key.name.as_str()) {
                self.error(unknown_field(&f.key, "a test's expectation", EXPECT_FIELDS));
                ok = false;
                continue;
            }
            let value = match (&f.value, f.key.name.as_str()) {
                (Value::Name(n), "backend") => {
                    if self.backend_ids.contains_key(n.name.as_str()) {
                        Some(JsonValue::String(n.name.to_string()))
                    } else {
                        self.resolve_backend(n);
                        None
                    }
                }
                (Value::Name(n), "system_prompt") => match self.prompt_ids.get(n.name.as_str()) {
                    Some(&id) => Some(JsonValue::String(self.prompts[id.0 as usize].text.clone())),
                    None => self.prompt_ref(&f.value).map(|_| JsonValue::Null),
                },
                (Value::Name(n), _) => Some(JsonValue::String(n.name.to_string())),
                (v, _) => self.json(v),
            };
            match value {
                Some(v) => expect_params.push((f.key.name.to_string(), v)),
                None => ok = false,
            }
        }
        (ok && expect_route.is_some()).then(|| PolicyTest {
            name: t.name.value.clone(),
            given,
            expect_route: expect_route.unwrap_or_default(),
            expect_params,
            span: t.span,
        })
    }

    fn test_value(&mut self, ty: &Type, v: &Value, signal: &str) -> Option<TestValue> {
        let bad = |c: &mut Checker, expected: String| {
            c.error(
                Diagnostic::new(
                    &codes::E0308,
                    v.span(),
                    format!(
                        "`{signal}` is {}, so its test value must be {expected}",
                        type_article(ty)
                    ),
                )
                .with_label(format!("{} given", value_kind(v))),
            );
            None
        };
        if let Value::Name(n) = v {
            if n.name == "absent" {
                return Some(TestValue::Absent);
            }
        }
        match (ty, v) {
            (Type::Bool, Value::Bool(b, _)) => Some(TestValue::Bool(*b)),
            (Type::Int, Value::Int(i)) => Some(TestValue::Number(i.value as f64)),
            (Type::Float, Value::Int(i)) => Some(TestValue::Number(i.value as f64)),
            (Type::Float, Value::Float(f)) => Some(TestValue::Number(f.value)),
            (Type::Score | Type::Similarity, Value::Int(_) | Value::Float(_)) => {
                let x = if let Value::Float(f) = v {
                    f.value
                } else if let Value::Int(i) = v {
                    i.value as f64
                } else {
                    0.0
                };
                let (lo, hi) = ty.range().unwrap_or((0.0, 1.0));
                if (lo..=hi).contains(&x) {
                    Some(TestValue::Number(x))
                } else {
                    bad(self, format!("in [{lo}, {hi}]"))
                }
            }
            (Type::String, Value::Str(s)) => Some(TestValue::String(s.value.clone())),
            (Type::Category(_), Value::Name(_) | Value::Str(_) | Value::Scored(..)) => {
                let (label_value, confidence) = match v {
                    Value::Scored(inner, conf, _) => (inner.as_ref(), Some(*conf)),
                    other => (other, None),
                };
                let (name, span) = match label_value {
                    Value::Name(n) => (n.name.clone(), n.span),
                    Value::Str(s) => (s.value.as_str().into(), s.span),
                    _ => return bad(self, "a label".into()),
                };
                let id = self.signal_ids[signal];
                let l = self.label(id, &name, span)?;
                let c = confidence.map_or(1.0, |c| c.value);
                if !(0.0..=1.0).contains(&c) {
                    return bad(self, "a label with a confidence in [0, 1]".into());
                }
                Some(TestValue::Label(l, c))
            }
            (Type::Set(_), Value::List(items, _)) => {
                let id = self.signal_ids[signal];
                let mut out = Vec::new();
                for item in items {
                    let (name, span) = match item {
                        Value::Name(n) => (n.name.clone(), n.span),
                        Value::Str(s) => (s.value.as_str().into(), s.span),
                        _ => return bad(self, "a list of labels".into()),
                    };
                    let l = self.label(id, &name, span)?;
                    if !out.contains(&l) {
                        out.push(l);
                    }
                }
                Some(TestValue::Set(out))
            }
            (Type::Bool, _) => bad(self, "`true` or `false`".into()),
            (Type::Int, _) => bad(self, "an integer".into()),
            (Type::Float | Type::Score | Type::Similarity, _) => bad(self, "a number".into()),
            (Type::String, _) => bad(self, "a string".into()),
            (Type::Category(_), _) => bad(
                self,
                "a label, optionally with a confidence: `math @ 0.9`".into(),
            ),
            (Type::Set(_), _) => bad(self, "a list of labels: `[email, phone]`".into()),
        }
    }
}

/// Header names are written as field names (`x_team`); on the wire `_` becomes `-`.
fn header_name(key: &str) -> String {
    key.replace('_', "-").to_ascii_lowercase()
}

fn value_kind(v: &Value) -> String {
    match v {
        Value::Str(s) if s.value.contains(['\r', '\n']) => "a string with a line break".into(),
        Value::Str(_) => "a string".into(),
        Value::Int(_) => "an integer".into(),
        Value::Float(_) => "a number".into(),
        Value::Bool(..) => "a bool".into(),
        Value::Duration(..) => "a duration".into(),
        Value::Name(n) => format!("the name `{}`", n.name),
        Value::Map(..) => "a map".into(),
        Value::List(..) => "a list".into(),
        Value::Scored(..) => "a scored label".into(),
        Value::If { .. } => "a conditional value".into(),
        Value::Error(_) => "an invalid value".into(),
    }
}

fn type_article(ty: &Type) -> String {
    match ty {
        Type::Int => "an int".into(),
        other => format!("a {}", other.keyword()),
    }
}
