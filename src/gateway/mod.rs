//! `routerc serve`: an OpenAI-compatible gateway that decides each chat completion with a
//! compiled policy and forwards it, streaming, to the chosen backend.
//!
//! A request goes through the steps in module order: [`request`] parses and checks the body,
//! [`signals`] computes what the policy reads, the engine decides, [`rewrite`] builds the
//! upstream body, [`upstream`] sends it (with retries and fallbacks), and [`stream`] relays
//! server-sent events. [`error`] shapes what the gateway answers itself.
//!
//! Deciding may run models (milliseconds of CPU): when the policy has model-backed signals the
//! decision runs on tokio's blocking pool, never on the workers that serve connections.
//!
//! Not yet here (see docs/gateway.md): https upstreams, hot reload, identity from API keys,
//! `/metrics`.

pub mod error;
pub mod json_text;
pub mod request;
pub mod rewrite;
pub mod signals;
pub mod stream;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;

use crate::engine::{CompiledPolicy, Live, Outcome, Rewrite};
use crate::signals::{RequestSignals, SignalPlan};
use error::ApiError;
use request::ChatRequest;
use upstream::Upstreams;

/// How the gateway runs, from the command line.
#[derive(Clone, Debug)]
pub struct Options {
    pub listen: String,
    /// The `model` names that mean "let the policy decide".
    pub auto_models: Vec<String>,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            listen: "127.0.0.1:8080".into(),
            auto_models: vec!["auto".into()],
            max_body: 4 << 20,
        }
    }
}

/// What every request shares: the policy (with what its signals need) and the upstreams.
pub struct Gateway {
    live: Live,
    plan: SignalPlan,
    upstreams: Upstreams,
    options: Options,
}

impl Gateway {
    /// `plan` is the policy's signals, prepared (models loaded) by the caller.
    pub fn new(
        policy: CompiledPolicy,
        plan: SignalPlan,
        options: Options,
    ) -> Result<Gateway, String> {
        let upstreams = Upstreams::new(&policy.program().backends)?;
        Ok(Gateway {
            live: Live::new(policy),
            plan,
            upstreams,
            options,
        })
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/v1/chat/completions", post(chat_completions))
            .route("/v1/models", get(models))
            .route("/healthz", get(|| async { "ok\n" }))
            // Ready as soon as the policy is compiled and its models loaded, which happens
            // before the socket opens.
            .route("/readyz", get(|| async { "ready\n" }))
            .with_state(self)
    }
}

/// Serves until SIGINT or SIGTERM, then lets open requests finish. `listening` is told the
/// bound address once the socket is open (with port 0 the system picks it); the caller
/// prints it, since nothing under `src/` but the CLI prints.
pub fn run(
    policy: CompiledPolicy,
    plan: SignalPlan,
    options: Options,
    listening: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&options.listen)
            .await
            .map_err(|e| format!("cannot listen on `{}`: {e}", options.listen))?;
        let addr: SocketAddr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        let gateway = Arc::new(Gateway::new(policy, plan, options)?);
        listening(addr);
        axum::serve(listener, gateway.router())
            .with_graceful_shutdown(shutdown())
            .await
            .map_err(|e| format!("server error: {e}"))
    })
}

async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn models(State(g): State<Arc<Gateway>>) -> Response {
    let policy = g.live.current();
    let mut names: Vec<&str> = g.options.auto_models.iter().map(String::as_str).collect();
    for b in &policy.program().backends {
        if !names.contains(&b.model.as_str()) {
            names.push(&b.model);
        }
    }
    let data: Vec<_> = names
        .iter()
        .map(|n| json!({ "id": n, "object": "model", "created": 0, "owned_by": "routerc" }))
        .collect();
    let body = json!({ "object": "list", "data": data }).to_string();
    upstream_response(
        StatusCode::OK,
        Body::from(body),
        HeaderValue::from_static("application/json"),
    )
}

/// Reads the body up to the limit; a larger one is a 413 before anything is parsed.
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<bytes::Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::too_large(limit)),
        Err(e) => Err(ApiError::invalid_request(format!(
            "cannot read the request body: {e}"
        ))),
    }
}

/// Where a request goes: the route's backends in order (first, then fallbacks), the rewrite
/// when the policy decided, and the headers that tell the client what happened.
struct Plan {
    backends: Vec<usize>,
    rewrite: Option<Rewrite>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

async fn chat_completions(State(g): State<Arc<Gateway>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match read_body(body, &parts.headers, g.options.max_body).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let request = match ChatRequest::parse(&bytes) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let policy = g.live.current();
    let decided = if g.plan.runs_models() && g.options.auto_models.contains(&request.model) {
        // Models run for milliseconds: off the async workers, on the blocking pool.
        let (g2, policy2, headers) = (g.clone(), policy.clone(), parts.headers);
        let request = Arc::new(request);
        let request2 = request.clone();
        let joined =
            tokio::task::spawn_blocking(move || decide(&g2, &policy2, &request2, &headers)).await;
        match joined {
            Ok(decided) => (decided, request),
            Err(e) => {
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    format!("deciding the request failed: {e}"),
                )
                .into_response()
            }
        }
    } else {
        let decided = decide(&g, &policy, &request, &parts.headers);
        (decided, Arc::new(request))
    };
    let (decided, request) = decided;
    let plan = match decided {
        Ok(p) => p,
        Err((e, headers)) => return with_headers(e.into_response(), headers),
    };
    let program = policy.program();
    let bodies: Vec<_> = plan
        .backends
        .iter()
        .map(|&b| {
            let backend = &program.backends[b];
            rewrite::upstream_body(&request, backend, plan.rewrite.as_ref())
        })
        .collect();
    let extra = plan
        .rewrite
        .as_ref()
        .map(|r| r.upstream_headers.as_slice())
        .unwrap_or_default();
    let response = g
        .upstreams
        .send(&plan.backends, bodies, extra, request.stream)
        .await;
    let mut response = match response {
        Ok(r) => r,
        Err(e) => return with_headers(e.into_response(), plan.headers),
    };
    if let Some(r) = &plan.rewrite {
        for (k, v) in &r.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
                response.headers_mut().insert(k, v);
            }
        }
    }
    with_headers(response, plan.headers)
}

/// Adds the decision headers; one already set (the backend that actually answered, after a
/// fallback) is kept.
fn with_headers(mut r: Response, headers: Vec<(HeaderName, HeaderValue)>) -> Response {
    for (k, v) in headers {
        r.headers_mut().entry(k).or_insert(v);
    }
    r
}

type Refusal = (ApiError, Vec<(HeaderName, HeaderValue)>);

/// Runs the policy for an auto model, or finds the backend a concrete model names.
fn decide(
    g: &Gateway,
    policy: &CompiledPolicy,
    request: &ChatRequest,
    headers: &HeaderMap,
) -> Result<Plan, Refusal> {
    let program = policy.program();
    if !g.options.auto_models.contains(&request.model) {
        let backend = program
            .backends
            .iter()
            .position(|b| b.model == request.model || b.name == request.model)
            .ok_or_else(|| (ApiError::unknown_model(&request.model), Vec::new()))?;
        return Ok(Plan {
            backends: vec![backend],
            rewrite: None,
            headers: vec![backend_header(&program.backends[backend].name)],
        });
    }
    let started = Instant::now();
    let mut frame = policy.frame();
    let mut choices = policy.choices();
    let input = signals::input(request, headers);
    let mut source = RequestSignals::new(&g.plan, &input);
    source.prefetch();
    let route = policy.decide(&mut frame, &mut source, &mut choices);
    let decision = policy.decision(route, &choices, &frame);
    let nanos = started.elapsed().as_nanos();
    let mut out = vec![
        header_pair("x-routerc-route", &decision.route_name),
        header_pair("x-routerc-decision-ns", &nanos.to_string()),
        header_pair("x-routerc-signals", &decision.signals_read.join(",")),
    ];
    match decision.outcome {
        Outcome::Reject { status, message } => Err((ApiError::rejected(status, message), out)),
        Outcome::Forward(rewrite) => {
            let mut backends = vec![rewrite.backend];
            for &b in &rewrite.fallback {
                if !backends.contains(&b) {
                    backends.push(b);
                }
            }
            out.push(backend_header(&program.backends[rewrite.backend].name));
            Ok(Plan {
                backends,
                rewrite: Some(rewrite),
                headers: out,
            })
        }
    }
}

fn backend_header(name: &str) -> (HeaderName, HeaderValue) {
    header_pair("x-routerc-backend", name)
}

/// Names come from the policy, which only allows identifier characters; a value that is not
/// a valid header anyway is replaced by `?` rather than dropped, so the header is there.
fn header_pair(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::try_from(value).unwrap_or(HeaderValue::from_static("?")),
    )
}

/// A response with a status, a body and its content type.
pub(crate) fn upstream_response(
    status: StatusCode,
    body: Body,
    content_type: HeaderValue,
) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, content_type);
    r
}
