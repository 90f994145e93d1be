//! Step one of a request: the body as the client sent it, checked just enough to route it.
//!
//! The top-level object is kept as its fields in order, each value as the exact JSON text the
//! client wrote, so every field the policy does not touch (tools, response_format, logprobs,
//! fields routerc has never heard of) reaches the backend byte for byte. Only `model`,
//! `stream` and `messages` are read; messages keep their own text too, with the role and the
//! text content pulled out for the signals.

use std::collections::BTreeMap;

use super::error::ApiError;
use super::json_text::{array_spans, object_spans, string};

/// One message of the conversation.
pub struct Message {
    /// The message as the client wrote it.
    pub raw: String,
    pub role: String,
    /// The text of its content: a string content as is, the `text` parts of a list joined by
    /// newlines, nothing for other parts (images, audio).
    pub text: String,
    /// How many of its content parts are images.
    pub images: usize,
}

/// A chat completion request, parsed as far as routing needs.
pub struct ChatRequest {
    /// Top-level fields in the client's order, values as the client wrote them.
    pub fields: Vec<(String, String)>,
    pub model: String,
    pub stream: bool,
    pub messages: Vec<Message>,
    /// How many tools the request defines (for `request.tools`); the `tools` field itself is
    /// forwarded as the client wrote it.
    pub tools: usize,
    /// The string entries of the request's `metadata` object (for `request.metadata(…)`), by
    /// key.
    pub metadata: Vec<(String, String)>,
}

/// What a JSON value's text starts with: its kind, without parsing it.
#[derive(PartialEq)]
enum Kind {
    Object,
    Array,
    String,
    Null,
    Other,
}

fn kind(value: &str) -> Kind {
    match value.as_bytes().first() {
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        Some(b'"') => Kind::String,
        Some(b'n') => Kind::Null,
        _ => Kind::Other,
    }
}

/// The value of the last field named `name` (a JSON reader keeps the last of duplicates).
fn last<'t>(fields: &[(&'t str, &'t str)], name: &str) -> Option<&'t str> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| string(k).is_some_and(|k| k == name))
        .map(|(_, v)| *v)
}

impl ChatRequest {
    /// Checks and splits a request body. Every error is a 400 that says what is wrong and
    /// where, so a client can fix its request; nothing is sent upstream.
    ///
    /// The body is checked whole by `serde_json` without building it (a syntax error is
    /// reported as such and not as a wrong type), then split into the exact text of its
    /// parts; only the values routing reads are decoded, with no tree of the whole body.
    pub fn parse(body: &[u8]) -> Result<ChatRequest, ApiError> {
        let text = std::str::from_utf8(body).map_err(|e| {
            ApiError::invalid_request(format!(
                "the request body is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ))
        })?;
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| {
            ApiError::invalid_request(format!(
                "the request body is not valid JSON: {} at line {} column {}",
                json_reason(&e),
                e.line(),
                e.column()
            ))
        })?;
        let not_an_object =
            || ApiError::invalid_request("the request body must be a JSON object".to_string());
        if kind(text.trim_start_matches([' ', '\t', '\n', '\r'])) != Kind::Object {
            return Err(not_an_object());
        }
        // serde_json accepted the text, so splitting it cannot fail.
        let spans = object_spans(text).ok_or_else(not_an_object)?;
        let find = |name: &str| last(&spans, name);

        let model = match find("model") {
            None => return Err(ApiError::missing_field("model")),
            Some(v) => string(v)
                .ok_or_else(|| ApiError::wrong_type("model", "a string"))?
                .into_owned(),
        };
        let stream = match find("stream") {
            None | Some("null") => false,
            Some("true") => true,
            Some("false") => false,
            Some(_) => return Err(ApiError::wrong_type("stream", "a boolean")),
        };
        let messages = match find("messages") {
            None => return Err(ApiError::missing_field("messages")),
            Some(raw) => parse_messages(raw)?,
        };
        // Not validated here: the backend judges its own parameters.
        let tools = find("tools").and_then(array_spans).map_or(0, |t| t.len());
        let metadata = find("metadata").map(metadata).unwrap_or_default();
        let mut fields = Vec::with_capacity(spans.len());
        for (k, v) in spans {
            let key = string(k).ok_or_else(not_an_object)?;
            fields.push((key.into_owned(), v.to_string()));
        }
        Ok(ChatRequest {
            fields,
            model,
            stream,
            messages,
            tools,
            metadata,
        })
    }
}

/// The string entries of a `metadata` object, by key, the last of a duplicated key kept.
fn metadata(raw: &str) -> Vec<(String, String)> {
    let mut entries = BTreeMap::new();
    for (k, v) in object_spans(raw).unwrap_or_default() {
        if let Some(k) = string(k) {
            entries.insert(k, string(v));
        }
    }
    entries
        .into_iter()
        .filter_map(|(k, v)| Some((k.into_owned(), v?.into_owned())))
        .collect()
}

fn json_reason(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; it is said once, by the caller.
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(at) => full[..at].to_string(),
        None => full,
    }
}

fn parse_messages(raw: &str) -> Result<Vec<Message>, ApiError> {
    let items = match kind(raw) {
        Kind::Array => array_spans(raw),
        _ => None,
    }
    .ok_or_else(|| ApiError::wrong_type("messages", "an array of messages"))?;
    if items.is_empty() {
        return Err(ApiError::invalid_param(
            "messages",
            "`messages` must contain at least one message".to_string(),
        ));
    }
    let mut messages = Vec::with_capacity(items.len());
    for (i, raw) in items.into_iter().enumerate() {
        let param = || format!("messages[{i}]");
        let m = match kind(raw) {
            Kind::Object => object_spans(raw),
            _ => None,
        }
        .ok_or_else(|| ApiError::wrong_type(&param(), "an object"))?;
        let role = match last(&m, "role") {
            None => return Err(ApiError::missing_field(&format!("{}.role", param()))),
            Some(r) => string(r)
                .ok_or_else(|| ApiError::wrong_type(&format!("{}.role", param()), "a string"))?
                .into_owned(),
        };
        let content = last(&m, "content");
        let (text, images) = match content.map(|c| (c, kind(c))) {
            None | Some((_, Kind::Null)) => (String::new(), 0),
            Some((c, Kind::String)) => (string(c).unwrap_or_default().into_owned(), 0),
            Some((c, Kind::Array)) => content_parts(c),
            Some(_) => {
                return Err(ApiError::wrong_type(
                    &format!("{}.content", param()),
                    "a string or an array of content parts",
                ))
            }
        };
        messages.push(Message {
            raw: raw.to_string(),
            role,
            text,
            images,
        });
    }
    Ok(messages)
}

/// A list content's text (its `text` parts joined by newlines) and how many of its parts are
/// images: OpenAI's chat parts are `image_url`, the responses API's `input_image`.
fn content_parts(raw: &str) -> (String, usize) {
    let mut text = String::new();
    let mut texts = 0;
    let mut images = 0;
    for part in array_spans(raw).unwrap_or_default() {
        let Some(fields) = object_spans(part) else {
            continue;
        };
        let Some(kind) = last(&fields, "type").and_then(string) else {
            continue;
        };
        match &*kind {
            "image_url" | "input_image" | "image" => images += 1,
            "text" => {
                if let Some(t) = last(&fields, "text").and_then(string) {
                    if texts > 0 {
                        text.push('\n');
                    }
                    text.push_str(&t);
                    texts += 1;
                }
            }
            _ => {}
        }
    }
    (text, images)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &[u8]) -> String {
        match ChatRequest::parse(body) {
            Ok(_) => panic!("accepted {:?}", String::from_utf8_lossy(body)),
            Err(e) => e.message,
        }
    }

    #[test]
    fn keeps_fields_in_order_and_verbatim() {
        let body = br#"{"z": 1.50, "model":"auto","messages":[{"role":"user","content":"hi"}], "tools":[ {"a" :1} ]}"#;
        let r = ChatRequest::parse(body).unwrap();
        let keys: Vec<&str> = r.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["z", "model", "messages", "tools"]);
        assert_eq!(r.fields[0].1, "1.50");
        assert_eq!(r.fields[3].1, r#"[ {"a" :1} ]"#);
        assert_eq!(r.model, "auto");
        assert!(!r.stream);
        assert_eq!(r.messages[0].text, "hi");
    }

    #[test]
    fn content_parts_give_their_text() {
        let body = br#"{"model":"m","stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"b"}]}]}"#;
        let r = ChatRequest::parse(body).unwrap();
        assert!(r.stream);
        assert_eq!(r.messages[0].text, "a\nb");
        assert_eq!(r.messages[0].images, 1);
    }

    #[test]
    fn tools_and_metadata_are_read_for_the_signals() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{},{}],"metadata":{"consent":"denied","n":3}}"#;
        let r = ChatRequest::parse(body).unwrap();
        assert_eq!(r.tools, 2);
        assert_eq!(r.metadata, [("consent".to_string(), "denied".to_string())]);
        let plain =
            ChatRequest::parse(br#"{"model":"m","messages":[{"role":"user"}],"tools":7}"#).unwrap();
        assert_eq!((plain.tools, plain.metadata.len()), (0, 0));
    }

    /// Model, stream, (role, text, images) per message, tools, metadata.
    type Read = (
        String,
        bool,
        Vec<(String, String, usize)>,
        usize,
        Vec<(String, String)>,
    );

    /// What a JSON reader makes of the values routing reads, from the whole parsed tree.
    fn read_by_serde(body: &str) -> Read {
        use serde_json::Value as Json;
        let v: Json = serde_json::from_str(body).unwrap();
        let messages = v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let (text, images) = match &m["content"] {
                    Json::String(s) => (s.clone(), 0),
                    Json::Array(parts) => (
                        parts
                            .iter()
                            .filter(|p| p["type"] == "text")
                            .filter_map(|p| p["text"].as_str())
                            .collect::<Vec<_>>()
                            .join("\n"),
                        parts
                            .iter()
                            .filter(|p| {
                                matches!(
                                    p["type"].as_str(),
                                    Some("image_url" | "input_image" | "image")
                                )
                            })
                            .count(),
                    ),
                    _ => (String::new(), 0),
                };
                (m["role"].as_str().unwrap().to_string(), text, images)
            })
            .collect();
        let metadata = v["metadata"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        (
            v["model"].as_str().unwrap().to_string(),
            v["stream"].as_bool().unwrap_or(false),
            messages,
            v["tools"].as_array().map_or(0, Vec::len),
            metadata,
        )
    }

    #[test]
    fn reads_what_a_json_reader_reads() {
        let bodies = [
            r#"{"model":"auto","messages":[{"role":"user","content":"hi"}]}"#,
            // Escapes in keys and values, duplicated keys (the last counts), spacing.
            r#" { "mod\u0065l" : "a\"b" , "model":"m\u00e9", "stream" : true,
                "messages" : [ {"role":"system","content":"s\n1","role":"developer"},
                {"content":[{"type":"text","text":"x"},{"type":"te\u0078t","text":"y"},
                {"type":"image_url","image_url":{"url":"u"}},{"type":"input_image"},
                {"type":"text","text":7},"loose",{"type":"audio"}],"role":"user"} ] } "#,
            r#"{"messages":[{"role":"a","content":null},{"role":"b"}],"model":"m","stream":null,
                "tools":[{"type":"function"},[],3],"metadata":{"z":"1","a":"2","z":"3","n":4}}"#,
            r#"{"model":"m","messages":[{"role":"u","content":"[\"not\", \"parts\"]"}],"tools":{}}"#,
        ];
        for body in bodies {
            let r = ChatRequest::parse(body.as_bytes()).unwrap();
            let messages = r
                .messages
                .iter()
                .map(|m| (m.role.clone(), m.text.clone(), m.images))
                .collect();
            assert_eq!(
                (r.model, r.stream, messages, r.tools, r.metadata),
                read_by_serde(body),
                "{body}"
            );
        }
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        assert!(err(b"{\"model\": ").contains("not valid JSON"));
        assert!(err(b"[1]").contains("must be a JSON object"));
        assert!(err(b"\xff\xfe").contains("not valid UTF-8"));
        assert!(err(br#"{"model":"m"}"#).contains("`messages`"));
        assert!(err(br#"{"messages":[{"role":"user"}]}"#).contains("`model`"));
        assert!(err(br#"{"model":"m","messages":"hi"}"#).contains("array"));
        assert!(err(br#"{"model":"m","messages":[]}"#).contains("at least one"));
        assert!(err(br#"{"model":"m","messages":[3]}"#).contains("`messages[0]`"));
        assert!(
            err(br#"{"model":"m","messages":[{"content":"x"}]}"#).contains("`messages[0].role`")
        );
        assert!(
            err(br#"{"model":"m","messages":[{"role":"user","content":5}]}"#)
                .contains("`messages[0].content`")
        );
        assert!(err(br#"{"model":7,"messages":[{"role":"user"}]}"#).contains("`model`"));
        assert!(
            err(br#"{"model":"m","stream":"yes","messages":[{"role":"user"}]}"#)
                .contains("`stream`")
        );
    }
}
