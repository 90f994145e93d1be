//! Step two: the request as the signals see it. The extractors live in [`crate::signals`]
//! (shared with `routerc eval --request` and the benchmarks); this module only hands them the
//! parsed body and the headers.

use axum::http::HeaderMap;

use crate::signals::{Input, Turn};

use super::request::ChatRequest;

/// The signals' view of a request: messages, the model asked for, and the headers whose
/// values are text (others are left out, so a `header(…)` signal on them is absent).
pub fn input<'a>(request: &'a ChatRequest, headers: &'a HeaderMap) -> Input<'a> {
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
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect(),
    }
}
