//! Step four: the body sent to a backend. Fields the route sets replace the client's (or are
//! appended); an object the route sets into an object the client sent is merged key by key
//! (`chat_template_kwargs`). Every other field keeps the client's exact text.
//!
//! System prompts: `replace` drops the client's system messages and puts the route's first;
//! `prepend` puts the route's text, then a blank line, before the client's first system
//! message when the conversation starts with one, and adds a system message otherwise, since
//! many chat templates accept only one system message and only in first place.

use serde_json::{json, Map, Value as Json};

use crate::engine::ir::BackendDecl;
use crate::engine::Rewrite;
use crate::policy::SystemPromptMode;

use super::request::ChatRequest;

/// The body for `backend`: the route's rewrite if the policy decided, only the backend's model
/// name when the client named a backend's model itself.
pub fn upstream_body(
    request: &ChatRequest,
    backend: &BackendDecl,
    rewrite: Option<&Rewrite>,
) -> Vec<u8> {
    let mut set = match rewrite {
        Some(r) => r.request_fields(backend),
        None => {
            let mut m = Map::new();
            m.insert("model".into(), json!(backend.model));
            m
        }
    };
    let messages = rewrite
        .and_then(|r| r.system_prompt.as_ref())
        .map(|(text, mode)| with_system_prompt(request, text, *mode));

    // The client's text plus what the route adds: one allocation for most bodies.
    let sent: usize = request
        .fields
        .iter()
        .map(|(k, v)| k.len() + v.len() + 4)
        .sum();
    let mut out = Vec::with_capacity(sent + messages.as_ref().map_or(0, String::len) + 256);
    out.push(b'{');
    let mut first = true;
    let mut key = |out: &mut Vec<u8>, key: &str| {
        if !first {
            out.push(b',');
        }
        first = false;
        write_json(out, key);
        out.push(b':');
    };
    let mut messages = messages;
    for (i, (name, raw)) in request.fields.iter().enumerate() {
        // A duplicated key is sent once, at its first place, with the value a JSON reader
        // would keep (the last).
        if request.fields[..i].iter().any(|(k, _)| k == name) {
            continue;
        }
        let raw = request.fields[i + 1..]
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map_or(raw, |(_, v)| v);
        key(&mut out, name);
        if name == "messages" {
            if let Some(m) = messages.take() {
                out.extend_from_slice(m.as_bytes());
                continue;
            }
        }
        match set.remove(name) {
            Some(value) => write_json(&mut out, &merge(raw, value)),
            None => out.extend_from_slice(raw.as_bytes()),
        }
    }
    for (name, value) in &set {
        key(&mut out, name);
        write_json(&mut out, value);
    }
    out.push(b'}');
    out
}

/// Appends a value's JSON text.
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Strings and `serde_json` values always serialise, and writing into a Vec cannot fail.
    let _ = serde_json::to_writer(out, value);
}

/// The route's value for a field the client also sent: objects merge, anything else replaces.
fn merge(client: &str, route: Json) -> Json {
    match (serde_json::from_str::<Json>(client), route) {
        (Ok(Json::Object(mut c)), Json::Object(r)) => {
            c.extend(r);
            Json::Object(c)
        }
        (_, route) => route,
    }
}

/// The `messages` array with the route's system prompt, other messages as the client wrote.
fn with_system_prompt(request: &ChatRequest, text: &str, mode: SystemPromptMode) -> String {
    let ours = json!({ "role": "system", "content": text }).to_string();
    let size: usize = request.messages.iter().map(|m| m.raw.len() + 1).sum();
    let mut out = String::with_capacity(size + ours.len() + 2);
    out.push('[');
    let push = |out: &mut String, item: &str| {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(item);
    };
    match mode {
        SystemPromptMode::Replace => {
            push(&mut out, &ours);
            for m in request.messages.iter().filter(|m| m.role != "system") {
                push(&mut out, &m.raw);
            }
        }
        SystemPromptMode::Prepend => {
            let mut rest = request.messages.iter();
            match request.messages.first() {
                Some(m) if m.role == "system" => {
                    rest.next();
                    match prepend_to(&m.raw, text) {
                        Some(joined) => push(&mut out, &joined),
                        // A message a JSON reader cannot rebuild (nesting too deep, a
                        // number beyond a double's range): both, the client's as written.
                        None => {
                            push(&mut out, &ours);
                            push(&mut out, &m.raw);
                        }
                    }
                }
                _ => push(&mut out, &ours),
            }
            for m in rest {
                push(&mut out, &m.raw);
            }
        }
    }
    out.push(']');
    out
}

/// A system message with `text` before its content (a string, or a list of parts).
fn prepend_to(message: &str, text: &str) -> Option<String> {
    let Ok(Json::Object(mut m)) = serde_json::from_str::<Json>(message) else {
        return None;
    };
    let content = match m.remove("content") {
        Some(Json::String(s)) => Json::String(format!("{text}\n\n{s}")),
        Some(Json::Array(mut parts)) => {
            parts.insert(0, json!({ "type": "text", "text": text }));
            Json::Array(parts)
        }
        None | Some(Json::Null) => Json::String(text.to_string()),
        Some(_) => return None,
    };
    m.insert("content".into(), content);
    Some(Json::Object(m).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{ReasoningFamily, Timeouts};

    fn backend(reasoning: ReasoningFamily) -> BackendDecl {
        BackendDecl {
            name: "b".into(),
            url: "http://127.0.0.1:1/v1".into(),
            model: "real-model".into(),
            reasoning,
            api_key_env: None,
            timeouts: Timeouts::default(),
            max_retries: 0,
            headers: vec![],
            ca_file: None,
        }
    }

    fn body(json: &str, rewrite: Option<&Rewrite>, reasoning: ReasoningFamily) -> String {
        let r = ChatRequest::parse(json.as_bytes()).unwrap();
        String::from_utf8(upstream_body(&r, &backend(reasoning), rewrite)).unwrap()
    }

    #[test]
    fn untouched_fields_keep_their_text_and_order() {
        let out = body(
            r#"{"tools":[ {"x" : 1.0} ],"model":"auto","messages":[{"role":"user","content":"hi"}],"zeta":1e3}"#,
            Some(&Rewrite {
                max_tokens: Some(64),
                ..Rewrite::default()
            }),
            ReasoningFamily::Effort,
        );
        assert_eq!(
            out,
            r#"{"tools":[ {"x" : 1.0} ],"model":"real-model","messages":[{"role":"user","content":"hi"}],"zeta":1e3,"max_tokens":64}"#
        );
    }

    #[test]
    fn passthrough_sets_only_the_model() {
        let out = body(
            r#"{"model":"b","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#,
            None,
            ReasoningFamily::Effort,
        );
        assert_eq!(
            out,
            r#"{"model":"real-model","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#
        );
    }

    #[test]
    fn thinking_merges_into_the_clients_template_kwargs() {
        let out = body(
            r#"{"model":"auto","chat_template_kwargs":{"x":1},"messages":[{"role":"user","content":"hi"}]}"#,
            Some(&Rewrite {
                reasoning_effort: Some(crate::policy::Effort::High),
                ..Rewrite::default()
            }),
            ReasoningFamily::EnableThinking,
        );
        let v: Json = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["chat_template_kwargs"],
            json!({"x": 1, "enable_thinking": true})
        );
    }

    #[test]
    fn system_prompt_replaces_or_prepends() {
        let req = r#"{"model":"auto","messages":[{"role":"system","content":"client"},{"role":"user","content":"hi","name":"u"}]}"#;
        let with = |mode| Rewrite {
            system_prompt: Some(("policy".to_string(), mode)),
            ..Rewrite::default()
        };
        let v: Json = serde_json::from_str(&body(
            req,
            Some(&with(SystemPromptMode::Replace)),
            ReasoningFamily::None,
        ))
        .unwrap();
        assert_eq!(
            v["messages"],
            json!([{"role":"system","content":"policy"},{"role":"user","content":"hi","name":"u"}])
        );
        let v: Json = serde_json::from_str(&body(
            req,
            Some(&with(SystemPromptMode::Prepend)),
            ReasoningFamily::None,
        ))
        .unwrap();
        assert_eq!(v["messages"][0]["content"], json!("policy\n\nclient"));
        assert_eq!(v["messages"].as_array().map(Vec::len), Some(2));
        let v: Json = serde_json::from_str(&body(
            r#"{"model":"auto","messages":[{"role":"user","content":"hi"}]}"#,
            Some(&with(SystemPromptMode::Prepend)),
            ReasoningFamily::None,
        ))
        .unwrap();
        assert_eq!(
            v["messages"][0],
            json!({"role":"system","content":"policy"})
        );
    }
}
