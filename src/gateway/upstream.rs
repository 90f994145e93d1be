//! Step five: sending the rewritten request to a backend, with a pooled HTTP/1.1 client per
//! backend (its own connect timeout), retries and fallbacks.
//!
//! A failure before the backend has answered (connect error, no response headers within the
//! first-byte timeout, a 5xx status) is retried `max_retries` times on the same backend, then
//! the route's fallback backends are tried in order; when every one fails the client gets a
//! 502, or a 504 if the last failure was a timeout. Once a response has started, it is the
//! client's: a later failure ends the stream with an error event (see [`super::stream`]).
//! A 4xx from a backend is its answer to this request and is passed on as it is. A backend's
//! total `timeout` bounds each attempt from sending to the answer's last byte: before the
//! answer it is a shorter first-byte timeout, after it the stream or body is ended.
//!
//! `https://` backends are spoken to with rustls: the webpki roots, plus the operator's own
//! certificate authorities (`--ca-file`) for private upstreams, plus a backend's own
//! (`ca_file` in its declaration) when only that backend sits behind a private CA. Any other
//! scheme is refused when the policy is loaded, not on each request.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::Response;
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::engine::ir::BackendDecl;

use super::error::ApiError;
use super::metrics::{AttemptFailure, BackendSeries, ErrorKind, Metrics};
use super::stream;

const CONNECT_MS: u64 = 5_000;
const FIRST_BYTE_MS: u64 = 120_000;
const IDLE_MS: u64 = 60_000;

struct Upstream {
    name: String,
    uri: Uri,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// Header pairs sent on every request: the API key and the backend's static headers.
    headers: Vec<(header::HeaderName, HeaderValue)>,
    first_byte: Duration,
    idle: Duration,
    /// The whole exchange with the backend, from sending to the last byte of its answer.
    total: Option<Duration>,
    attempts: u32,
    /// Time to response headers and failed attempts, for `/metrics`.
    series: Arc<BackendSeries>,
}

pub struct Upstreams {
    backends: Vec<Upstream>,
    metrics: Arc<Metrics>,
}

enum Failure {
    Timeout(String),
    Other(String),
}

impl Upstreams {
    /// Clients for the backends of a policy. A backend's relative `ca_file` is read from
    /// `policy_dir`; the CA files read are returned with the clients, for the reload to watch.
    pub fn new(
        decls: &[BackendDecl],
        tls: &Tls,
        policy_dir: &Path,
        metrics: &Arc<Metrics>,
    ) -> Result<(Upstreams, Vec<PathBuf>), String> {
        let mut backends = Vec::with_capacity(decls.len());
        let mut ca_files = Vec::new();
        for b in decls {
            let url = format!("{}/chat/completions", b.url.trim_end_matches('/'));
            let uri: Uri = url
                .parse()
                .map_err(|e| format!("backend `{}`: invalid url `{}`: {e}", b.name, b.url))?;
            if !matches!(uri.scheme_str(), Some("http" | "https")) {
                return Err(format!(
                    "backend `{}`: `{}` is neither an http:// nor an https:// url",
                    b.name, b.url
                ));
            }
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            // The TLS layer hands the connector https urls too.
            connector.enforce_http(false);
            connector.set_connect_timeout(Some(Duration::from_millis(
                b.timeouts.connect_ms.unwrap_or(CONNECT_MS),
            )));
            let tls = match &b.ca_file {
                Some(file) => {
                    let path = policy_dir.join(file);
                    let config = tls
                        .with_ca_file(&path)
                        .map_err(|e| format!("backend `{}`: {e}", b.name))?;
                    ca_files.push(path);
                    config
                }
                None => tls.shared.clone(),
            };
            let connector = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(rustls::ClientConfig::clone(&tls))
                .https_or_http()
                .enable_http1()
                .wrap_connector(connector);
            let client = Client::builder(TokioExecutor::new()).build(connector);
            let mut headers = Vec::new();
            if let Some(var) = &b.api_key_env {
                // Read once at start-up: the key lives in the environment, never in the policy.
                if let Ok(key) = std::env::var(var) {
                    let v = HeaderValue::try_from(format!("Bearer {key}")).map_err(|_| {
                        format!("backend `{}`: `{var}` is not a valid header value", b.name)
                    })?;
                    headers.push((header::AUTHORIZATION, v));
                }
            }
            for (k, v) in &b.headers {
                let k = header::HeaderName::try_from(k)
                    .map_err(|_| format!("backend `{}`: invalid header name `{k}`", b.name))?;
                let v = HeaderValue::try_from(v)
                    .map_err(|_| format!("backend `{}`: invalid value for `{k}`", b.name))?;
                headers.push((k, v));
            }
            backends.push(Upstream {
                name: b.name.clone(),
                uri,
                client,
                headers,
                first_byte: Duration::from_millis(
                    b.timeouts.first_byte_ms.unwrap_or(FIRST_BYTE_MS),
                ),
                idle: Duration::from_millis(b.timeouts.idle_ms.unwrap_or(IDLE_MS)),
                total: b.timeouts.total_ms.map(Duration::from_millis),
                attempts: 1 + b.max_retries.min(10),
                series: metrics.backend(&b.name),
            });
        }
        Ok((
            Upstreams {
                backends,
                metrics: metrics.clone(),
            },
            ca_files,
        ))
    }

    /// Sends `bodies[i]` to `order[i]` until a backend answers. The response is the client's
    /// from here: a stream is relayed event by event, anything else as bytes arrive.
    pub async fn send(
        &self,
        order: &[usize],
        bodies: Vec<Vec<u8>>,
        extra_headers: &[(String, String)],
        stream: bool,
    ) -> Result<Response, ApiError> {
        let mut last = Failure::Other("no backend to send to".into());
        for (&index, body) in order.iter().zip(bodies) {
            let Some(up) = self.backends.get(index) else {
                continue;
            };
            let body = Bytes::from(body);
            for _ in 0..up.attempts {
                // The total timeout counts from each attempt's start.
                let total = up.total.map(|t| (t, tokio::time::Instant::now() + t));
                match self.attempt(up, body.clone(), extra_headers, total).await {
                    Ok(r) => return Ok(respond(up, r, stream, total, &self.metrics)),
                    Err(f) => last = f,
                }
            }
        }
        Err(match last {
            Failure::Timeout(m) => ApiError::gateway_timeout(m),
            Failure::Other(m) => ApiError::bad_gateway(m),
        })
    }

    async fn attempt(
        &self,
        up: &Upstream,
        body: Bytes,
        extra_headers: &[(String, String)],
        total: Option<(Duration, tokio::time::Instant)>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, Failure> {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(up.uri.clone())
            .header(header::CONTENT_TYPE, "application/json");
        for (k, v) in &up.headers {
            req = req.header(k, v);
        }
        for (k, v) in extra_headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| Failure::Other(format!("backend `{}`: bad request: {e}", up.name)))?;
        let started = Instant::now();
        // Whichever comes first: the first-byte timeout or the end of the total one.
        let (wait, limit) = match total {
            Some((t, _)) if t < up.first_byte => {
                (t, format!("its total timeout of {} ms", t.as_millis()))
            }
            _ => (up.first_byte, format!("{} ms", up.first_byte.as_millis())),
        };
        let response = match tokio::time::timeout(wait, up.client.request(req)).await {
            Err(_) => {
                up.series.failed(AttemptFailure::Timeout);
                return Err(Failure::Timeout(format!(
                    "backend `{}` did not answer within {limit}",
                    up.name
                )));
            }
            Ok(Err(e)) => {
                let mut reason = e.to_string();
                if let Some(source) = std::error::Error::source(&e) {
                    reason = format!("{reason}: {source}");
                }
                up.series.failed(AttemptFailure::Connect);
                return Err(Failure::Other(format!("backend `{}`: {reason}", up.name)));
            }
            Ok(Ok(r)) => r,
        };
        up.series.latency.observe(started.elapsed());
        if response.status().is_server_error() {
            up.series.failed(AttemptFailure::Status);
            return Err(Failure::Other(format!(
                "backend `{}` answered {}",
                up.name,
                response.status()
            )));
        }
        Ok(response)
    }
}

fn respond(
    up: &Upstream,
    r: hyper::Response<hyper::body::Incoming>,
    stream: bool,
    total: Option<(Duration, tokio::time::Instant)>,
    metrics: &Arc<Metrics>,
) -> Response {
    let status = r.status();
    let content_type = r
        .headers()
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/json"));
    let is_sse = content_type
        .to_str()
        .is_ok_and(|c| c.starts_with("text/event-stream"));
    let mut response = if stream && status == StatusCode::OK && is_sse {
        let metrics = metrics.clone();
        let on_failure = Box::new(move || metrics.error(ErrorKind::Stream));
        let events = stream::relay(
            r.into_body(),
            Vec::new(),
            up.idle,
            total,
            up.name.clone(),
            on_failure,
        );
        let mut resp = super::upstream_response(status, Body::from_stream(events), content_type);
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert("x-accel-buffering", HeaderValue::from_static("no"));
        resp
    } else if let Some((_, end)) = total {
        let body = until(r.into_body(), end, up.name.clone());
        super::upstream_response(status, Body::from_stream(body), content_type)
    } else {
        super::upstream_response(status, Body::new(r.into_body()), content_type)
    };
    if let Ok(v) = HeaderValue::try_from(up.name.as_str()) {
        response.headers_mut().insert("x-routerc-backend", v);
    }
    response
}

/// A backend's answer, passed on as it arrives until `end`; past it the body fails, which
/// aborts the response (the status has been sent, so an error body is no longer possible).
fn until(
    body: hyper::body::Incoming,
    end: tokio::time::Instant,
    backend: String,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    use http_body_util::BodyExt;
    futures_util::stream::unfold(Some(body), move |body| {
        let backend = backend.clone();
        async move {
            let mut body = body?;
            loop {
                return match tokio::time::timeout_at(end, body.frame()).await {
                    Ok(Some(Ok(frame))) => match frame.into_data() {
                        Ok(data) => Some((Ok(data), Some(body))),
                        // Trailers: chat completions have none worth keeping.
                        Err(_) => continue,
                    },
                    Ok(None) => None,
                    Ok(Some(Err(e))) => Some((Err(std::io::Error::other(e)), None)),
                    Err(_) => Some((
                        Err(std::io::Error::other(format!(
                            "backend `{backend}` did not finish within its total timeout"
                        ))),
                        None,
                    )),
                };
            }
        }
    })
}

/// The TLS settings of https backends: the webpki roots and the gateway's `--ca-file` for
/// all of them, and a backend's own `ca_file` added for that backend only.
pub struct Tls {
    /// What every backend without a `ca_file` of its own uses.
    shared: Arc<rustls::ClientConfig>,
    gateway_ca: Option<PathBuf>,
}

impl Tls {
    pub fn new(gateway_ca: Option<&Path>) -> Result<Tls, String> {
        let gateway_ca = gateway_ca.map(Path::to_path_buf);
        let shared = tls_config(gateway_ca.as_deref().into_iter())?;
        Ok(Tls { shared, gateway_ca })
    }

    /// The shared settings plus the authorities of one backend's PEM file.
    fn with_ca_file(&self, path: &Path) -> Result<Arc<rustls::ClientConfig>, String> {
        tls_config(self.gateway_ca.as_deref().into_iter().chain([path]))
    }
}

/// A client configuration trusting the webpki roots and the certificate authorities of each
/// PEM file (a private CA in front of on-prem models).
fn tls_config<'p>(
    ca_files: impl Iterator<Item = &'p Path>,
) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;

    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for path in ca_files {
        let shown = path.display();
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| format!("cannot read the CA file `{shown}`: {e}"))?;
        let mut added = 0;
        for cert in certs {
            let cert = cert.map_err(|e| format!("the CA file `{shown}`: {e}"))?;
            roots
                .add(cert)
                .map_err(|e| format!("the CA file `{shown}`: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err(format!("the CA file `{shown}` holds no certificate"));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
