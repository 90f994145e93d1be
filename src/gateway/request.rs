//! Step one of a request: the body as the client sent it, checked just enough to route it.
//!
//! The top-level object is kept as its fields in order, each value as the exact JSON text the
//! client wrote, so every field the policy does not touch (tools, response_format, logprobs,
//! fields routerc has never heard of) reaches the backend byte for byte. Only `model`,
//! `stream` and `messages` are read; messages keep their own text too, with the role and the
//! text content pulled out for the signals.

use serde_json::Value as Json;

use super::error::ApiError;
use super::json_text::{array_elements, object_fields};

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
    /// The string entries of the request's `metadata` object (for `request.metadata(…)`).
    pub metadata: Vec<(String, String)>,
}

impl ChatRequest {
    /// Checks and splits a request body. Every error is a 400 that says what is wrong and
    /// where, so a client can fix its request; nothing is sent upstream.
    pub fn parse(body: &[u8]) -> Result<ChatRequest, ApiError> {
        let text = std::str::from_utf8(body).map_err(|e| {
            ApiError::invalid_request(format!(
                "the request body is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ))
        })?;
        // Parsed whole first, so a syntax error is reported as such and not as a wrong type.
        let whole: Json = serde_json::from_str(text).map_err(|e| {
            ApiError::invalid_request(format!(
                "the request body is not valid JSON: {} at line {} column {}",
                json_reason(&e),
                e.line(),
                e.column()
            ))
        })?;
        let Json::Object(whole) = whole else {
            return Err(ApiError::invalid_request(
                "the request body must be a JSON object".to_string(),
            ));
        };
        // serde_json accepted the text, so splitting it cannot fail; if it did, the parsed
        // fields are still right, only their spelling is normalised.
        let fields = object_fields(text).unwrap_or_else(|| {
            whole
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect()
        });
        let find = |name: &str| whole.get(name);

        let model = match find("model") {
            None => return Err(ApiError::missing_field("model")),
            Some(Json::String(s)) => s.clone(),
            Some(_) => return Err(ApiError::wrong_type("model", "a string")),
        };
        let stream = match find("stream") {
            None | Some(Json::Null) => false,
            Some(Json::Bool(b)) => *b,
            Some(_) => return Err(ApiError::wrong_type("stream", "a boolean")),
        };
        let messages = match find("messages") {
            None => return Err(ApiError::missing_field("messages")),
            Some(parsed) => {
                // The value of the last `messages` key, as a JSON reader keeps the last.
                let raw = fields
                    .iter()
                    .rev()
                    .find(|(k, _)| k == "messages")
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_default();
                parse_messages(parsed, raw)?
            }
        };
        // Not validated here: the backend judges its own parameters.
        let tools = find("tools").and_then(Json::as_array).map_or(0, Vec::len);
        let metadata = find("metadata")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
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

fn json_reason(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; it is said once, by the caller.
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(at) => full[..at].to_string(),
        None => full,
    }
}

fn parse_messages(parsed: &Json, raw: &str) -> Result<Vec<Message>, ApiError> {
    let Json::Array(items) = parsed else {
        return Err(ApiError::wrong_type("messages", "an array of messages"));
    };
    if items.is_empty() {
        return Err(ApiError::invalid_param(
            "messages",
            "`messages` must contain at least one message".to_string(),
        ));
    }
    let texts = array_elements(raw)
        .filter(|t| t.len() == items.len())
        .unwrap_or_else(|| items.iter().map(Json::to_string).collect());
    let mut messages = Vec::with_capacity(items.len());
    for (i, (item, raw)) in items.iter().zip(texts).enumerate() {
        let param = format!("messages[{i}]");
        let Json::Object(m) = item else {
            return Err(ApiError::wrong_type(&param, "an object"));
        };
        let role = match m.get("role") {
            Some(Json::String(r)) => r.clone(),
            None => return Err(ApiError::missing_field(&format!("{param}.role"))),
            Some(_) => return Err(ApiError::wrong_type(&format!("{param}.role"), "a string")),
        };
        // OpenAI's chat parts are `image_url`; the responses API's `input_image`.
        let images = match m.get("content") {
            Some(Json::Array(parts)) => parts
                .iter()
                .filter(|p| {
                    matches!(
                        p.get("type").and_then(Json::as_str),
                        Some("image_url" | "input_image" | "image")
                    )
                })
                .count(),
            _ => 0,
        };
        let text = match m.get("content") {
            None | Some(Json::Null) => String::new(),
            Some(Json::String(s)) => s.clone(),
            Some(Json::Array(parts)) => {
                let texts: Vec<&str> = parts
                    .iter()
                    .filter_map(|p| match p.get("type") {
                        Some(Json::String(t)) if t == "text" => p.get("text")?.as_str(),
                        _ => None,
                    })
                    .collect();
                texts.join("\n")
            }
            Some(_) => {
                return Err(ApiError::wrong_type(
                    &format!("{param}.content"),
                    "a string or an array of content parts",
                ))
            }
        };
        messages.push(Message {
            raw,
            role,
            text,
            images,
        });
    }
    Ok(messages)
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
