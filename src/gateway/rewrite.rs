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

    let mut out = Vec::with_capacity(256);
    out.push(b'{');
    let mut first = true;
    let mut put = |out: &mut Vec<u8>, key: &str, value: &str| {
        if !first {
            out.push(b',');
        }
        first = false;
        // A key is a string the client or the policy wrote; serialising a str cannot fail.
        out.extend_from_slice(Json::String(key.to_string()).to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(value.as_bytes());
    };
    let mut messages = messages;
    for (i, (key, raw)) in request.fields.iter().enumerate() {
        // A duplicated key is sent once, at its first place, with the value a JSON reader
        // would keep (the last).
        if request.fields[..i].iter().any(|(k, _)| k == key) {
            continue;
        }
        let raw = request.fields[i..]
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map_or(raw, |(_, v)| v);
        if key == "messages" {
            if let Some(m) = messages.take() {
                put(&mut out, key, &m);
                continue;
            }
        }
        match set.remove(key) {
            Some(value) => put(&mut out, key, &merge(raw, value).to_string()),
            None => put(&mut out, key, raw),
        }
    }
    for (key, value) in set {
        put(&mut out, &key, &value.to_string());
    }
    out.push(b'}');
    out
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
    let mut items: Vec<String> = Vec::with_capacity(request.messages.len() + 1);
    match mode {
        SystemPromptMode::Replace => {
            items.push(ours);
            items.extend(
                request
                    .messages
                    .iter()
                    .filter(|m| m.role != "system")
                    .map(|m| m.raw.clone()),
            );
        }
        SystemPromptMode::Prepend => {
            let mut rest = request.messages.iter();
            match request.messages.first() {
                Some(m) if m.role == "system" => {
                    rest.next();
                    items.push(prepend_to(&m.raw, text).unwrap_or(ours));
                }
                _ => items.push(ours),
            }
            items.extend(rest.map(|m| m.raw.clone()));
        }
    }
    format!("[{}]", items.join(","))
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
