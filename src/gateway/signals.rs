//! Step two: the request as the signals see it. The extractors live in [`crate::signals`]
//! (shared with `routerc eval --request` and the benchmarks); this module only hands them the
//! parsed body, the headers and the caller the gateway authenticated.

use axum::http::HeaderMap;

use crate::signals::{Input, Turn};

use super::identity::Identity;
use super::request::ChatRequest;

/// The signals' view of a request: messages, the model asked for, the headers whose values
/// are text (others are left out, so a `header(…)` signal on them is absent), and the
/// authenticated identity for `identity.*` (never taken from a client's own header).
pub fn input<'a>(
    request: &'a ChatRequest,
    headers: &'a HeaderMap,
    identity: &'a Identity,
) -> Input<'a> {
    let headers = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    request_input(
        request,
        headers,
        identity.user.as_deref(),
        identity.role.as_deref(),
    )
}

/// The same from headers and a caller given as text (`routerc eval --request`).
pub fn request_input<'a>(
    request: &'a ChatRequest,
    headers: Vec<(&'a str, &'a str)>,
    user: Option<&'a str>,
    role: Option<&'a str>,
) -> Input<'a> {
    Input {
        model: &request.model,
        messages: request
            .messages
            .iter()
            .map(|m| Turn {
                role: &m.role,
                text: &m.text,
            })
            .collect(),
        headers,
        user,
        role,
        tools: request.tools,
        images: request.messages.iter().map(|m| m.images).sum(),
        metadata: request
            .metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    }
}
