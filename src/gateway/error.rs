//! Errors the gateway answers itself, as OpenAI-style bodies
//! (`{"error": {"message", "type", "param", "code"}}`) so that OpenAI clients surface them.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::metrics::ErrorKind;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub kind: &'static str,
    pub param: Option<String>,
    pub code: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: String) -> ApiError {
        ApiError {
            status,
            message,
            kind,
            param: None,
            code: None,
        }
    }

    pub fn invalid_request(message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn invalid_param(param: &str, message: String) -> ApiError {
        ApiError {
            param: Some(param.to_string()),
            ..ApiError::invalid_request(message)
        }
    }

    pub fn missing_field(param: &str) -> ApiError {
        ApiError::invalid_param(param, format!("missing required field `{param}`"))
    }

    pub fn wrong_type(param: &str, expected: &str) -> ApiError {
        ApiError::invalid_param(param, format!("`{param}` must be {expected}"))
    }

    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            format!("the request body is larger than the limit of {limit} bytes"),
        )
    }

    pub fn unknown_model(model: &str) -> ApiError {
        ApiError {
            param: Some("model".into()),
            code: Some("model_not_found"),
            ..ApiError::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                format!(
                    "the model `{model}` does not exist; GET /v1/models lists the routable names"
                ),
            )
        }
    }

    /// A policy's reject route: its own status and message.
    pub fn rejected(status: u16, message: String) -> ApiError {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
        ApiError {
            code: Some("rejected_by_policy"),
            ..ApiError::new(status, "invalid_request_error", message)
        }
    }

    /// A missing or unknown API key (OpenAI's `invalid_api_key`).
    pub fn unauthorized(message: String) -> ApiError {
        ApiError {
            code: Some("invalid_api_key"),
            ..ApiError::new(StatusCode::UNAUTHORIZED, "invalid_request_error", message)
        }
    }

    /// A request body that did not arrive within the request timeout.
    pub fn request_timeout(limit_ms: u128) -> ApiError {
        ApiError {
            code: Some("request_timeout"),
            ..ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "invalid_request_error",
                format!("the request body did not arrive within {limit_ms} ms"),
            )
        }
    }

    /// How `/metrics` counts this error.
    pub fn kind(&self) -> ErrorKind {
        match (self.status.as_u16(), self.code) {
            (_, Some("model_not_found")) => ErrorKind::UnknownModel,
            (_, Some("rejected_by_policy")) => ErrorKind::Rejected,
            (_, Some("upstream_timeout")) => ErrorKind::UpstreamTimeout,
            (_, Some("upstream_error")) => ErrorKind::Upstream,
            (_, Some("request_timeout")) => ErrorKind::RequestTimeout,
            (401, _) => ErrorKind::Unauthorized,
            (413, _) => ErrorKind::TooLarge,
            _ => ErrorKind::BadRequest,
        }
    }

    pub fn bad_gateway(message: String) -> ApiError {
        ApiError {
            code: Some("upstream_error"),
            ..ApiError::new(StatusCode::BAD_GATEWAY, "api_error", message)
        }
    }

    pub fn gateway_timeout(message: String) -> ApiError {
        ApiError {
            code: Some("upstream_timeout"),
            ..ApiError::new(StatusCode::GATEWAY_TIMEOUT, "api_error", message)
        }
    }

    pub fn body(&self) -> serde_json::Value {
        json!({ "error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let mut r = (self.status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    }
}
