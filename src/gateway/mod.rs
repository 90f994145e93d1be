//! `routerc serve`: an OpenAI-compatible gateway that decides each chat completion with a
//! compiled policy and forwards it, streaming, to the chosen backend.
//!
//! A request goes through the steps in module order: [`identity`] authenticates the caller,
//! [`request`] parses and checks the body, [`signals`] computes what the policy reads, the
//! engine decides, [`rewrite`] builds the upstream body, [`upstream`] sends it (with retries
//! and fallbacks, over http or rustls), and [`stream`] relays server-sent events. [`error`]
//! shapes what the gateway answers itself. Around them: [`server`] owns connections (header
//! timeout, graceful drain), [`reload`] swaps in a new policy when its files change or on
//! SIGHUP, and [`metrics`] counts everything for `/metrics`.
//!
//! Deciding may run models (milliseconds of CPU): when the policy has model-backed signals the
//! decision runs on tokio's blocking pool, never on the workers that serve connections.

pub mod error;
pub mod identity;
pub mod json_text;
pub mod metrics;
pub mod reload;
pub mod request;
pub mod rewrite;
pub mod server;
pub mod signals;
pub mod stream;
pub mod upstream;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;

use crate::engine::{CompiledPolicy, Live, Outcome, Rewrite};
use crate::signals::{ModelSearch, RequestSignals, SignalPlan};
use error::ApiError;
use identity::{Authenticator, Identity, IdentityOptions};
use metrics::{Endpoint, Histogram, Metrics};
use request::ChatRequest;
use upstream::Upstreams;

/// How the gateway runs, from the command line.
#[derive(Clone, Debug)]
pub struct Options {
    /// The policy source or bundle, loaded at start-up and on every reload.
    pub policy: PathBuf,
    pub listen: String,
    /// The `model` names that mean "let the policy decide".
    pub auto_models: Vec<String>,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
    /// How often the policy's files are checked for changes; `None`: only on SIGHUP.
    pub reload_poll: Option<Duration>,
    /// A client must send its request headers within this (else it is disconnected).
    pub header_timeout: Duration,
    /// A client must send its whole request body within this (else a 408).
    pub body_timeout: Duration,
    /// On SIGTERM / SIGINT, how long requests and streams in flight may take to finish.
    pub drain_timeout: Duration,
    /// Extra certificate authorities (PEM) trusted for https backends.
    pub ca_file: Option<PathBuf>,
    pub identity: IdentityOptions,
    /// Where the models the policy names are looked up (`--models`, `ROUTERC_MODELS`).
    pub models: ModelSearch,
    /// Whether diagnostics in the log are coloured.
    pub color: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            policy: PathBuf::new(),
            listen: "127.0.0.1:8080".into(),
            auto_models: vec!["auto".into()],
            max_body: 4 << 20,
            reload_poll: Some(Duration::from_millis(500)),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(30),
            ca_file: None,
            identity: IdentityOptions::default(),
            models: ModelSearch::default(),
            color: false,
        }
    }
}

/// Where the gateway's log lines go; the CLI prints them on stderr (nothing under `src/`
/// but the CLI prints).
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// One policy as served: its native code with everything made from it that must change with
/// it in the same swap (signal plan, upstream clients, metric series).
pub struct Served {
    policy: CompiledPolicy,
    plan: SignalPlan,
    upstreams: Upstreams,
    /// Decisions per route, by route index.
    decisions: Vec<Arc<AtomicU64>>,
    /// Compute time per signal, by signal index.
    signal_latency: Vec<Arc<Histogram>>,
}

impl Served {
    /// Also returns the CA files the backends' clients read (to watch for changes).
    fn new(
        policy: CompiledPolicy,
        plan: SignalPlan,
        tls: &upstream::Tls,
        policy_dir: &Path,
        metrics: &Arc<Metrics>,
    ) -> Result<(Served, Vec<PathBuf>), String> {
        let program = policy.program();
        let (upstreams, ca_files) = Upstreams::new(&program.backends, tls, policy_dir, metrics)?;
        let decisions = program
            .routes
            .iter()
            .map(|r| metrics.route(&r.name))
            .collect();
        let signal_latency = program
            .signals
            .iter()
            .map(|s| metrics.signal(&s.name))
            .collect();
        Ok((
            Served {
                policy,
                plan,
                upstreams,
                decisions,
                signal_latency,
            },
            ca_files,
        ))
    }
}

/// What every request shares: the policy being served, the key table, the metrics.
pub struct Gateway {
    live: Live<Served>,
    auth: Live<Authenticator>,
    tls: upstream::Tls,
    metrics: Arc<Metrics>,
    /// Set once everything the policy needs is loaded; cleared when draining, so that load
    /// balancers stop sending traffic.
    ready: AtomicBool,
    options: Options,
    log: Log,
}

impl Gateway {
    /// Loads the policy, the keys and the TLS roots. Returns the files to watch for reloads
    /// as well; on failure, the message to show (diagnostics rendered).
    pub fn new(options: Options, log: Log) -> Result<(Gateway, Vec<PathBuf>), String> {
        let (policy, plan, mut files) =
            reload::load_policy(&options.policy, options.color, &options.models).map_err(|f| {
                format!(
                    "cannot serve `{}`:\n{}",
                    options.policy.display(),
                    f.message
                )
            })?;
        let tls = upstream::Tls::new(options.ca_file.as_deref())?;
        let metrics = Arc::new(Metrics::default());
        let (served, ca_files) =
            Served::new(policy, plan, &tls, &policy_dir(&options.policy), &metrics)?;
        files.extend(ca_files);
        let auth = Authenticator::load(&options.identity)?;
        files.extend(options.identity.keys_file.iter().cloned());
        let gateway = Gateway {
            live: Live::new(served),
            auth: Live::new(auth),
            tls,
            metrics,
            ready: AtomicBool::new(false),
            options,
            log,
        };
        Ok((gateway, files))
    }

    /// Marks the gateway ready for `/readyz` (or not, while draining). The set-up flips it
    /// once everything requests need is loaded.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/v1/chat/completions", post(chat_completions))
            .route("/v1/models", get(models))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics_text))
            .layer(axum::middleware::from_fn_with_state(self.clone(), track))
            .with_state(self)
    }

    /// Loads the policy and the key file again; each that fails keeps what was serving.
    /// Returns the files to watch from now on.
    pub fn reload(&self, trigger: reload::Trigger) -> Vec<PathBuf> {
        let path = &self.options.policy;
        let why = match trigger {
            reload::Trigger::Hangup => "SIGHUP",
            reload::Trigger::Changed => "a file changed",
        };
        let loaded = reload::load_policy(path, self.options.color, &self.options.models);
        let loaded = loaded.and_then(|(policy, plan, files)| {
            let routes = policy.program().routes.len();
            let dir = policy_dir(path);
            match Served::new(policy, plan, &self.tls, &dir, &self.metrics) {
                Ok((served, ca_files)) => {
                    let mut files = files;
                    files.extend(ca_files);
                    Ok((served, routes, files))
                }
                Err(message) => Err(reload::LoadFailure { message, files }),
            }
        });
        let mut files = match loaded {
            Ok((served, routes, files)) => {
                // Requests in flight keep the policy they started with.
                self.live.replace(served);
                self.metrics.reload(true);
                (self.log)(&format!(
                    "routerc serve: reloaded `{}` ({why}): {routes} routes",
                    path.display()
                ));
                files
            }
            Err(failure) => {
                self.metrics.reload(false);
                (self.log)(&format!(
                    "routerc serve: reloading `{}` ({why}) failed; still serving the last good \
                     policy\n{}",
                    path.display(),
                    failure.message.trim_end()
                ));
                failure.files
            }
        };
        if let Some(keys) = &self.options.identity.keys_file {
            match Authenticator::load(&self.options.identity) {
                Ok(auth) => {
                    self.auth.replace(auth);
                    (self.log)(&format!(
                        "routerc serve: reloaded the API keys `{}`",
                        keys.display()
                    ));
                }
                Err(message) => {
                    self.metrics.reload(false);
                    (self.log)(&format!(
                        "routerc serve: reloading the API keys failed; still using the last \
                         good ones: {message}"
                    ));
                }
            }
            files.push(keys.clone());
        }
        files
    }
}

/// The directory a policy's relative paths (a backend's `ca_file`) are read from: the served
/// file's own, whether it is a source or a compiled bundle.
fn policy_dir(policy: &Path) -> PathBuf {
    match policy.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Serves until SIGINT or SIGTERM, then drains. `listening` is told the bound address once
/// the socket is open (with port 0 the system picks it); everything else worth telling the
/// operator goes to `log`.
pub fn run(options: Options, listening: impl FnOnce(SocketAddr), log: Log) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let result = runtime.block_on(async move {
        // Installed first: SIGHUP's default action would end the process.
        let (hangup, stop) = process_signals()?;
        let (gateway, files) = Gateway::new(options, log.clone())?;
        // Taken before the address is announced, so that any edit after it is a change.
        let loaded = reload::fingerprint(&files);
        let gateway = Arc::new(gateway);
        let listener = tokio::net::TcpListener::bind(&gateway.options.listen)
            .await
            .map_err(|e| format!("cannot listen on `{}`: {e}", gateway.options.listen))?;
        let addr: SocketAddr = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        gateway.set_ready(true);
        listening(addr);
        let watcher = tokio::spawn(reload::watch(
            gateway.clone(),
            files,
            loaded,
            gateway.options.reload_poll,
            hangup,
        ));
        let stopping = {
            let gateway = gateway.clone();
            let log = log.clone();
            async move {
                stop.await;
                gateway.set_ready(false);
                log("routerc serve: shutting down; finishing the requests in flight");
            }
        };
        let drained = server::serve(
            listener,
            gateway.clone().router(),
            gateway.options.header_timeout,
            gateway.options.drain_timeout,
            stopping,
        )
        .await;
        watcher.abort();
        match drained {
            server::Drained::Completed => log("routerc serve: stopped"),
            server::Drained::TimedOut(open) => log(&format!(
                "routerc serve: stopped after the drain timeout of {} ms; cut what was left of \
                 {open} connections",
                gateway.options.drain_timeout.as_millis()
            )),
        }
        Ok(())
    });
    // A reload compiling in the background is not waited for.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// SIGHUP notifies the first value; the second resolves on SIGTERM or SIGINT.
#[cfg(unix)]
fn process_signals() -> Result<
    (
        Arc<tokio::sync::Notify>,
        impl std::future::Future<Output = ()>,
    ),
    String,
> {
    use tokio::signal::unix::{signal, SignalKind};
    let install = |kind, name| signal(kind).map_err(|e| format!("cannot handle {name}: {e}"));
    let mut hup = install(SignalKind::hangup(), "SIGHUP")?;
    let mut term = install(SignalKind::terminate(), "SIGTERM")?;
    let mut int = install(SignalKind::interrupt(), "SIGINT")?;
    let hangup = Arc::new(tokio::sync::Notify::new());
    let notify = hangup.clone();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            notify.notify_one();
        }
    });
    let stop = async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    };
    Ok((hangup, stop))
}

#[cfg(not(unix))]
fn process_signals() -> Result<
    (
        Arc<tokio::sync::Notify>,
        impl std::future::Future<Output = ()>,
    ),
    String,
> {
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Ok((Arc::new(tokio::sync::Notify::new()), stop))
}

/// Marks a response that carries a backend's answer, for the time-to-first-byte histogram.
#[derive(Clone, Copy)]
pub(crate) struct FromBackend;

/// Counts every request by endpoint and status, holds the in-flight gauge until the
/// response body ends (a stream counts until its last event), and times a backend's first
/// byte on its way out.
async fn track(State(g): State<Arc<Gateway>>, req: Request, next: Next) -> Response {
    let endpoint = Endpoint::of_path(req.uri().path());
    let started = Instant::now();
    let in_flight = g.metrics.in_flight();
    let response = next.run(req).await;
    g.metrics.request(endpoint, response.status().as_u16());
    let (parts, body) = response.into_parts();
    let first_byte = parts
        .extensions
        .get::<FromBackend>()
        .map(|_| (started, g.metrics.clone()));
    let body = Tracked {
        body,
        _in_flight: in_flight,
        first_byte,
    };
    Response::from_parts(parts, Body::new(body))
}

/// A response body that holds the in-flight gauge until it ends and times its first data
/// frame. It passes on the body's size and end, so a backend's answer of known length goes
/// to the client with its `Content-Length` rather than re-framed as chunks.
struct Tracked {
    body: Body,
    _in_flight: metrics::InFlight,
    first_byte: Option<(Instant, Arc<Metrics>)>,
}

impl hyper::body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = std::pin::Pin::new(&mut this.body).poll_frame(cx);
        if let std::task::Poll::Ready(Some(Ok(frame))) = &polled {
            if frame.is_data() {
                if let Some((started, metrics)) = this.first_byte.take() {
                    metrics.first_byte.observe(started.elapsed());
                }
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

async fn readyz(State(g): State<Arc<Gateway>>) -> Response {
    if g.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

async fn metrics_text(State(g): State<Arc<Gateway>>) -> Response {
    upstream_response(
        StatusCode::OK,
        Body::from(g.metrics.render()),
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    )
}

/// An error the gateway answers itself, counted by kind.
fn refuse(g: &Gateway, e: ApiError) -> Response {
    g.metrics.error(e.kind());
    e.into_response()
}

async fn models(State(g): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    if let Err(e) = g.auth.current().identify(&headers) {
        return refuse(&g, e);
    }
    let served = g.live.current();
    let policy = &served.policy;
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

/// Reads the body up to the limit and within the timeout; a larger one is a 413 before
/// anything is parsed, one that does not arrive in time a 408.
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    timeout: Duration,
) -> Result<bytes::Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    let collected = tokio::time::timeout(timeout, Limited::new(body, limit).collect())
        .await
        .map_err(|_| ApiError::request_timeout(timeout.as_millis()))?;
    match collected {
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
    // Authenticated before the body is read: nothing of an unknown caller is processed.
    let identity = match g.auth.current().identify(&parts.headers) {
        Ok(i) => i,
        Err(e) => return refuse(&g, e),
    };
    let limit = g.options.max_body;
    let bytes = match read_body(body, &parts.headers, limit, g.options.body_timeout).await {
        Ok(b) => b,
        Err(e) => return refuse(&g, e),
    };
    let request = match ChatRequest::parse(&bytes) {
        Ok(r) => r,
        Err(e) => return refuse(&g, e),
    };
    // This request decides and forwards on this policy even if a reload swaps another in.
    let served = g.live.current();
    let runs_models = served.plan.runs_models() && g.options.auto_models.contains(&request.model);
    let (decided, request) = if runs_models {
        // Models run for milliseconds: off the async workers, on the blocking pool.
        let (g2, served2, request) = (g.clone(), served.clone(), Arc::new(request));
        let request2 = request.clone();
        let headers = parts.headers;
        let joined = tokio::task::spawn_blocking(move || {
            decide(&g2, &served2, &request2, &headers, &identity)
        })
        .await;
        match joined {
            Ok(decided) => (decided, request),
            Err(e) => {
                return refuse(
                    &g,
                    ApiError::new(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "server_error",
                        format!("deciding the request failed: {e}"),
                    ),
                )
            }
        }
    } else {
        let decided = decide(&g, &served, &request, &parts.headers, &identity);
        (decided, Arc::new(request))
    };
    let plan = match decided {
        Ok(p) => p,
        Err((e, headers)) => return with_headers(refuse(&g, e), headers),
    };
    let program = served.policy.program();
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
    let response = served
        .upstreams
        .send(&plan.backends, bodies, extra, request.stream)
        .await;
    let mut response = match response {
        Ok(r) => r,
        Err(e) => return with_headers(refuse(&g, e), plan.headers),
    };
    response.extensions_mut().insert(FromBackend);
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
    served: &Served,
    request: &ChatRequest,
    headers: &HeaderMap,
    identity: &Identity,
) -> Result<Plan, Refusal> {
    let policy = &served.policy;
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
    let input = signals::input(request, headers, identity);
    let mut source = RequestSignals::new(&served.plan, &input);
    source.prefetch();
    let route = policy.decide(&mut frame, &mut source, &mut choices);
    let decision = policy.decision(route, &choices, &frame);
    let elapsed = started.elapsed();
    for s in source.computed() {
        if let (Some(h), Some(took)) = (served.signal_latency.get(s as usize), source.elapsed(s)) {
            h.observe(took);
        }
    }
    g.metrics.decision.observe(elapsed);
    if let Some(n) = served.decisions.get(route) {
        n.fetch_add(1, Ordering::Relaxed);
    }
    let nanos = elapsed.as_nanos();
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
