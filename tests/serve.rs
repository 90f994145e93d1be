//! `routerc serve` as a real process on loopback, in front of a mock OpenAI-compatible
//! upstream running inside the test. The mock echoes what it received, so the tests see the
//! rewrite the backend saw; paths choose its behaviour (`/a`, `/b` answer, `/fail` answers
//! 500, `/drop` breaks a stream after its first event).
//!
//! The operations tests drive the process as an operator would: they edit its policy and key
//! files, send it SIGHUP and SIGTERM, scrape `/metrics`, talk raw TCP to it, and put the mock
//! behind TLS with a certificate authority made in the test. Every wait is bounded; no
//! assertion depends on how long something took.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use tokio::sync::Notify;

/// Every wait in these tests is bounded by this.
const BOUND: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Mock {
    /// A streaming answer holds its second event until the test has seen the first through
    /// the gateway, which proves the gateway does not buffer.
    gate: Arc<Notify>,
    /// Told when a streaming answer is dropped before its end: the gateway closed the
    /// upstream connection.
    cancelled: Arc<Notify>,
}

/// Notifies when dropped; lives inside a streaming answer.
struct OnDrop(Arc<Notify>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.notify_one();
    }
}

async fn mock_chat(
    Path(mode): Path<String>,
    State(m): State<Mock>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let raw = String::from_utf8_lossy(&body).to_string();
    let received: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if mode == "slow" {
        // Answers only once the test opens the gate, long after the gateway gave up.
        let _ = tokio::time::timeout(BOUND, m.gate.notified()).await;
    }
    if mode == "picky" {
        let body = r#"{"error":{"message":"context too long","type":"invalid_request_error"}}"#;
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            body,
        )
            .into_response();
    }
    if mode == "fail" {
        return (StatusCode::INTERNAL_SERVER_ERROR, "{\"error\":\"down\"}").into_response();
    }
    if received["stream"] == json!(true) {
        let gate = m.gate.clone();
        let guard = OnDrop(m.cancelled.clone());
        let first = format!("data: {}\n\n", json!({ "n": 1, "backend": mode }));
        let second = format!("data: {}\n\n", json!({ "n": 2, "backend": mode }));
        let events = futures_util::stream::unfold(0u8, move |step| {
            let _alive = &guard;
            let gate = gate.clone();
            let (first, second, mode) = (first.clone(), second.clone(), mode.clone());
            async move {
                match step {
                    0 => Some((Ok(Bytes::from(first)), 1)),
                    1 => {
                        let _ = tokio::time::timeout(BOUND, gate.notified()).await;
                        if mode == "drop" {
                            Some((Err(std::io::Error::other("mock dropped the stream")), 3))
                        } else {
                            Some((Ok(Bytes::from(second)), 2))
                        }
                    }
                    2 => Some((Ok(Bytes::from("data: [DONE]\n\n")), 3)),
                    _ => None,
                }
            }
        });
        return Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(events))
            .unwrap();
    }
    let answer = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "backend": mode,
        "received": received, "raw": raw,
        "authorization": headers.get("authorization").and_then(|v| v.to_str().ok()),
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": "hi" },
                      "finish_reason": "stop" }],
    });
    ([("content-type", "application/json")], answer.to_string()).into_response()
}

fn mock_app() -> (Router, Mock) {
    let mock = Mock {
        gate: Arc::new(Notify::new()),
        cancelled: Arc::new(Notify::new()),
    };
    let app = Router::new()
        .route("/{mode}/v1/chat/completions", post(mock_chat))
        .with_state(mock.clone());
    (app, mock)
}

async fn start_mock() -> (SocketAddr, Mock) {
    let (app, mock) = mock_app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, mock)
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `routerc serve` as a child process, killed when dropped.
struct Gateway {
    child: Child,
    base: String,
    /// The policy file it serves, to edit for reloads.
    policy: std::path::PathBuf,
    /// Its stderr lines after the one with the address.
    log: std::sync::mpsc::Receiver<String>,
    _dir: TempDir,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn policy(mock: SocketAddr) -> String {
    let down = closed_port();
    format!(
        r#"
signal code: bool = keyword("rust", "python")
signal secret: bool = keyword("classified")
signal outage: bool = keyword("outage")
signal blackout: bool = keyword("blackout")
signal sluggish: bool = keyword("sluggish")
signal picky: bool = keyword("picky")
signal tenant: string = header("x-tenant")
backend a {{ url: "http://{mock}/a/v1", model: "model-a", reasoning: enable_thinking }}
backend b {{ url: "http://{mock}/b/v1/", model: "model-b" }}
backend failing {{ url: "http://{mock}/fail/v1", model: "model-fail", max_retries: 0 }}
backend down {{ url: "http://127.0.0.1:{down}/v1", model: "model-down", max_retries: 0 }}
backend slow {{ url: "http://{mock}/slow/v1", model: "model-slow", first_byte_timeout: 200ms, max_retries: 0 }}
backend picky {{ url: "http://{mock}/picky/v1", model: "model-picky" }}
backend dropping {{ url: "http://{mock}/drop/v1", model: "model-drop" }}
route blocked priority 50 when secret => reject 451 "classified material"
route failover priority 40 when outage => failing {{ fallback: [down, b] }}
route choosy priority 36 when picky => picky {{ fallback: b }}
route too_slow priority 35 when sluggish => slow
route nothing_left priority 30 when blackout => failing {{ fallback: down }}
route coding priority 20 when code => a {{
  max_tokens: 512,
  reasoning_effort: high,
  system_prompt: "You write careful code.",
}}
route acme priority 10 when tenant == "acme" => dropping
default => b {{ reasoning_effort: low, system_prompt: "Be brief.", system_prompt_mode: prepend }}
"#
    )
}

fn temp_dir() -> TempDir {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("routerc-serve-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

fn start_gateway(policy_text: &str, extra: &[&str]) -> Gateway {
    let dir = temp_dir();
    let file = dir.0.join("policy.route");
    std::fs::write(&file, policy_text).unwrap();
    start_gateway_on(dir, file, extra, &[])
}

/// Starts `routerc serve` on a policy file already written in `dir`, with `env` added to
/// its environment.
fn start_gateway_on(
    dir: TempDir,
    file: std::path::PathBuf,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Gateway {
    let mut child = Command::new(env!("CARGO_BIN_EXE_routerc"))
        .args(["serve", "--policy"])
        .arg(&file)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The gateway prints its address once bound; the reader keeps draining stderr after.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut gateway = Gateway {
        child,
        base: String::new(),
        policy: file,
        log: rx,
        _dir: dir,
    };
    let deadline = std::time::Instant::now() + BOUND;
    let mut seen = Vec::new();
    while gateway.base.is_empty() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match gateway.log.recv_timeout(left) {
            Ok(line) => match line.split_once("listening on ") {
                Some((_, url)) => gateway.base = url.trim().to_string(),
                None => seen.push(line),
            },
            Err(_) => panic!("routerc serve did not start; stderr: {seen:#?}"),
        }
    }
    gateway
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

async fn send(
    method: &str,
    url: &str,
    body: impl Into<Bytes>,
    headers: &[(&str, &str)],
) -> hyper::Response<hyper::body::Incoming> {
    let mut req = Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body.into())).unwrap();
    tokio::time::timeout(BOUND, client().request(req))
        .await
        .expect("gateway answers in time")
        .expect("gateway reachable")
}

async fn call(
    method: &str,
    url: &str,
    body: impl Into<Bytes>,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Value) {
    let r = send(method, url, body, headers).await;
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = tokio::time::timeout(BOUND, r.into_body().collect())
        .await
        .expect("body in time")
        .expect("body")
        .to_bytes();
    let json = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, headers, json)
}

async fn ready(g: &Gateway) {
    let (status, _, _) = call("GET", &format!("{}/readyz", g.base), "", &[]).await;
    assert_eq!(status, StatusCode::OK);
}

fn chat(model: &str, text: &str) -> String {
    json!({ "model": model, "messages": [{ "role": "user", "content": text }] }).to_string()
}

fn header<'h>(h: &'h HeaderMap, name: &str) -> &'h str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_by_keyword_and_rewrites_for_each_backend() {
    let (mock, _) = start_mock().await;
    let g = start_gateway(&policy(mock), &[]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);

    // Coding goes to `a`: model, max_tokens, the replacing system prompt, and thinking in the
    // Qwen form; unknown and untouched fields arrive with the client's exact text.
    let body = r#"{"model":"auto","tools":[{"type":"function","function":{"name":"f","parameters":{}}}],"response_format":{"type":"json_object"},"x_custom":1.50,"messages":[{"role":"system","content":"client prompt"},{"role":"user","content":"Write some Rust please"}]}"#;
    let (status, h, v) = call("POST", &url, body, &[]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["backend"], "a");
    assert_eq!(header(&h, "x-routerc-route"), "coding");
    assert_eq!(header(&h, "x-routerc-backend"), "a");
    assert!(header(&h, "x-routerc-signals").contains("code"));
    assert!(header(&h, "x-routerc-decision-ns").parse::<u64>().is_ok());
    let got = &v["received"];
    assert_eq!(got["model"], "model-a");
    assert_eq!(got["max_tokens"], 512);
    assert_eq!(
        got["chat_template_kwargs"],
        json!({ "enable_thinking": true })
    );
    assert!(got.get("reasoning_effort").is_none());
    assert_eq!(
        got["messages"],
        json!([{ "role": "system", "content": "You write careful code." },
               { "role": "user", "content": "Write some Rust please" }])
    );
    let raw = v["raw"].as_str().unwrap();
    assert!(
        raw.contains(r#""tools":[{"type":"function","function":{"name":"f","parameters":{}}}]"#)
    );
    assert!(raw.contains(r#""response_format":{"type":"json_object"}"#));
    assert!(raw.contains(r#""x_custom":1.50"#), "{raw}");
    // The backend's answer has a known length: the client gets it with that length.
    assert!(header(&h, "content-length").parse::<u64>().is_ok(), "{h:?}");
    assert!(h.get("transfer-encoding").is_none(), "{h:?}");

    // What routing does not read is not interpreted: a number beyond a double's range and
    // nesting deeper than a JSON reader's limit reach the backend as the client wrote them.
    let deep = format!("{}1{}", "[".repeat(300), "]".repeat(300));
    let body = format!(
        r#"{{"model":"auto","x_big":1e400,"x_deep":{deep},"messages":[{{"role":"user","content":"hi"}}]}}"#
    );
    let r = send("POST", &url, body, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    let answer: Value = serde_json::from_slice(&bytes).unwrap();
    let raw = answer["raw"].as_str().unwrap();
    assert!(raw.contains(r#""x_big":1e400"#), "{raw}");
    assert!(raw.contains(&format!(r#""x_deep":{deep}"#)), "{raw}");

    // Anything else goes to `b`: the OpenAI effort parameter, the prompt prepended.
    let body = json!({ "model": "auto", "messages": [
        { "role": "system", "content": "client prompt" },
        { "role": "user", "content": "What is rusty iron?" } ] })
    .to_string();
    let (status, h, v) = call("POST", &url, body, &[]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(header(&h, "x-routerc-route"), "default");
    let got = &v["received"];
    assert_eq!(got["model"], "model-b");
    assert_eq!(got["reasoning_effort"], "low");
    assert_eq!(got["messages"][0]["content"], "Be brief.\n\nclient prompt");

    // A concrete model name passes through to its backend untouched but for the model.
    let (status, h, v) = call("POST", &url, chat("model-a", "hello"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(header(&h, "x-routerc-backend"), "a");
    assert!(v["received"].get("max_tokens").is_none());
    assert_eq!(v["received"]["messages"].as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejects_unknown_models_and_bad_requests_without_calling_upstream() {
    // No upstream at all: anything sent upstream would turn into a 502.
    let g = start_gateway(
        &policy("127.0.0.1:9".parse().unwrap()),
        &["--max-body", "2000"],
    );
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);

    let (status, h, v) = call("POST", &url, chat("auto", "this is classified"), &[]).await;
    assert_eq!(status.as_u16(), 451);
    assert_eq!(v["error"]["message"], "classified material");
    assert_eq!(header(&h, "x-routerc-route"), "blocked");

    let (status, _, v) = call("POST", &url, chat("gpt-17", "hi"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "model_not_found");

    let cases: [(&[u8], u16, &str); 5] = [
        (b"{\"model\": \"auto\",", 400, "not valid JSON"),
        (b"[]", 400, "JSON object"),
        (b"{\"model\":\"auto\"}", 400, "`messages`"),
        (
            b"{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}",
            400,
            "UTF-8",
        ),
        (b"{\"model\":\"auto\",\"messages\":{}}", 400, "`messages`"),
    ];
    for (body, want, says) in cases {
        let (status, _, v) = call("POST", &url, Bytes::copy_from_slice(body), &[]).await;
        assert_eq!(status.as_u16(), want, "{v}");
        let message = v["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{message}");
        assert_eq!(v["error"]["type"], "invalid_request_error");
    }
    let big = chat("auto", &"x".repeat(5000));
    let (status, _, v) = call("POST", &url, big, &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("2000"));

    let (status, _, v) = call("GET", &format!("{}/v1/models", g.base), "", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "auto",
            "model-a",
            "model-b",
            "model-fail",
            "model-down",
            "model-slow",
            "model-picky",
            "model-drop"
        ]
    );
    let (status, _, _) = call("GET", &format!("{}/healthz", g.base), "", &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn falls_back_then_answers_502() {
    let (mock, _) = start_mock().await;
    let g = start_gateway(&policy(mock), &[]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);

    // `failing` answers 500 and `down` refuses connections: `b` answers.
    let (status, h, v) = call("POST", &url, chat("auto", "there is an outage"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["backend"], "b");
    assert_eq!(v["received"]["model"], "model-b");
    assert_eq!(header(&h, "x-routerc-backend"), "b");
    assert_eq!(header(&h, "x-routerc-route"), "failover");

    let (status, _, v) = call("POST", &url, chat("auto", "total blackout"), &[]).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{v}");
    assert_eq!(v["error"]["code"], "upstream_error");
    assert!(v["error"]["message"].as_str().unwrap().contains("`down`"));

    // A 4xx is the backend's answer to this request: passed on, no fallback.
    let (status, h, v) = call("POST", &url, chat("auto", "a picky backend"), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["message"], "context too long");
    assert_eq!(header(&h, "x-routerc-backend"), "picky");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_does_not_answer_in_time_is_a_504() {
    let (mock, m) = start_mock().await;
    let g = start_gateway(&policy(mock), &[]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);
    let (status, h, v) = call("POST", &url, chat("auto", "a sluggish backend"), &[]).await;
    m.gate.notify_one();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{v}");
    assert_eq!(header(&h, "x-routerc-route"), "too_slow");
    assert_eq!(v["error"]["code"], "upstream_timeout");
    assert!(v["error"]["message"].as_str().unwrap().contains("200 ms"));
}

/// Reads a response body until `want` appears in it, with the bound.
async fn read_until(body: &mut hyper::body::Incoming, seen: &mut String, want: &str) {
    while !seen.contains(want) {
        let frame = tokio::time::timeout(BOUND, body.frame())
            .await
            .unwrap_or_else(|_| panic!("no `{want}` in time; got {seen:?}"));
        match frame {
            Some(Ok(f)) => {
                if let Some(d) = f.data_ref() {
                    seen.push_str(&String::from_utf8_lossy(d));
                }
            }
            other => panic!(
                "stream ended before `{want}` ({:?}); got {seen:?}",
                other.map(|r| r.is_ok())
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_events_as_they_come_and_reports_a_broken_upstream() {
    let (mock, m) = start_mock().await;
    let g = start_gateway(&policy(mock), &[]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);

    let body = json!({ "model": "auto", "stream": true,
                       "messages": [{ "role": "user", "content": "python?" }] })
    .to_string();
    let r = send("POST", &url, body, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(r.headers(), "content-type"), "text/event-stream");
    assert_eq!(header(r.headers(), "cache-control"), "no-cache");
    assert_eq!(header(r.headers(), "x-accel-buffering"), "no");
    assert_eq!(header(r.headers(), "x-routerc-backend"), "a");
    let mut body = r.into_body();
    let mut seen = String::new();
    // The mock holds its second event until the first has come through the gateway.
    read_until(&mut body, &mut seen, "\"n\":1").await;
    assert!(!seen.contains("\"n\":2"));
    m.gate.notify_one();
    read_until(&mut body, &mut seen, "data: [DONE]").await;
    assert!(seen.contains("\"n\":2"));

    // The `dropping` backend breaks its stream after the first event.
    let body = json!({ "model": "auto", "stream": true,
                       "messages": [{ "role": "user", "content": "hi" }] })
    .to_string();
    let r = send("POST", &url, body, &[("x-tenant", "acme")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(r.headers(), "x-routerc-route"), "acme");
    let mut body = r.into_body();
    let mut seen = String::new();
    read_until(&mut body, &mut seen, "\"n\":1").await;
    m.gate.notify_one();
    read_until(&mut body, &mut seen, "data: {\"error\"").await;
    let last = seen.trim_end().rsplit("\n\n").next().unwrap();
    let event: Value = serde_json::from_str(last.strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(event["error"]["code"], "upstream_error");
    assert!(event["error"]["message"]
        .as_str()
        .unwrap()
        .contains("`dropping`"));
    // And then the stream ends cleanly.
    let end = tokio::time::timeout(BOUND, body.frame())
        .await
        .expect("stream closes");
    assert!(end.is_none(), "the stream should end after the error event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_cancels_the_upstream_request() {
    let (mock, m) = start_mock().await;
    let g = start_gateway(&policy(mock), &[]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);
    let body = json!({ "model": "auto", "stream": true,
                       "messages": [{ "role": "user", "content": "python?" }] })
    .to_string();
    let r = send("POST", &url, body, &[]).await;
    let mut body = r.into_body();
    let mut seen = String::new();
    read_until(&mut body, &mut seen, "\"n\":1").await;
    // The mock's answer is waiting on its gate, which is never opened: only the gateway
    // closing the upstream connection ends it.
    drop(body);
    tokio::time::timeout(BOUND, m.cancelled.notified())
        .await
        .expect("the upstream request is cancelled when the client leaves");
}

/// Runs `routerc serve` on a policy that must not start; returns its exit code and stderr.
/// `extra` arguments may name files in the test's directory, given as `{dir}`.
fn refused(policy_text: &str, extra: &[&str]) -> (Option<i32>, String) {
    let dir = temp_dir();
    let file = dir.0.join("policy.route");
    std::fs::write(&file, policy_text).unwrap();
    std::fs::write(dir.0.join("empty-keys"), "# nobody yet\n").unwrap();
    std::fs::write(dir.0.join("not-pem"), "hello\n").unwrap();
    let shown = dir.0.display().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_routerc"))
        .args(["serve", "--listen", "127.0.0.1:0", "--policy"])
        .arg(&file)
        .args(extra.iter().map(|a| a.replace("{dir}", &shown)))
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + BOUND;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return (status.code(), err);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("routerc serve kept running on a policy it must refuse");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn what_the_gateway_cannot_serve_stops_it_at_start_up() {
    let good = "backend s { url: \"https://127.0.0.1:1/v1\", model: \"m\" }\ndefault => s\n";
    // Exit 1 for what cannot be served, 2 for a usage error.
    let own_ca = |file: &str| {
        format!("backend s {{ url: \"https://127.0.0.1:1/v1\", model: \"m\", ca_file: \"{file}\" }}\ndefault => s\n")
    };
    let (missing_ca, not_pem_ca) = (own_ca("missing.pem"), own_ca("not-pem"));
    let cases: [(&str, &[&str], i32, &str); 9] = [
        ("default => nowhere\n", &[], 1, "nowhere"),
        // A backend's own CA file, relative to the policy's directory.
        (&missing_ca, &[], 1, "backend `s`: cannot read the CA file"),
        (&not_pem_ca, &[], 1, "holds no certificate"),
        (
            good,
            &["--api-keys", "{dir}/empty-keys"],
            1,
            "holds no API keys",
        ),
        (
            good,
            &["--api-keys", "{dir}/missing"],
            1,
            "cannot read the API keys",
        ),
        (
            good,
            &["--ca-file", "{dir}/not-pem"],
            1,
            "holds no certificate",
        ),
        (
            good,
            &["--ca-file", "{dir}/missing"],
            1,
            "cannot read the CA file",
        ),
        (
            good,
            &["--trust-role-header", "X Role"],
            1,
            "`X Role` is not a valid header name",
        ),
        (good, &["--header-timeout-ms", "0"], 2, "0 is not in 1.."),
    ];
    for (policy, extra, want, says) in cases {
        let (code, err) = refused(policy, extra);
        assert_eq!(code, Some(want), "{extra:?}: {err}");
        assert!(err.contains(says), "{extra:?}: {err}");
    }
}

// ---------------------------------------------------------------------------------------
// Operations: hot reload, metrics, identity, shutdown, slow clients, https upstreams.

/// Waits for a log line containing `needle`; returns it.
fn wait_log(g: &Gateway, needle: &str) -> String {
    let deadline = std::time::Instant::now() + BOUND;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = tokio::task::block_in_place(|| g.log.recv_timeout(left))
            .unwrap_or_else(|_| panic!("no log line with `{needle}`; got {seen:#?}"));
        if line.contains(needle) {
            return line;
        }
        seen.push(line);
    }
}

/// Sends a signal (`HUP`, `TERM`) to the gateway process.
fn signal(g: &Gateway, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(g.child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Replaces a file the way editors and deploy tools do: a new file renamed over the old.
fn replace_file(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Two backends on the mock; the default route goes to `to`.
fn two_backends(mock: SocketAddr, to: &str) -> String {
    format!(
        "backend a {{ url: \"http://{mock}/a/v1\", model: \"model-a\" }}\n\
         backend b {{ url: \"http://{mock}/b/v1\", model: \"model-b\" }}\n\
         default => {to}\n"
    )
}

async fn scrape(g: &Gateway) -> String {
    let (status, h, v) = call("GET", &format!("{}/metrics", g.base), "", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&h, "content-type").starts_with("text/plain; version=0.0.4"));
    v.as_str().expect("metrics are text").to_string()
}

/// The value of the series written exactly `series` (name and labels), or `None`.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
}

/// Which backend answered `text` sent to the default route.
async fn answered_by(g: &Gateway, text: &str) -> String {
    let url = format!("{}/v1/chat/completions", g.base);
    let (status, h, v) = call("POST", &url, chat("auto", text), &[]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    header(&h, "x-routerc-backend").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_policy_is_reloaded_and_a_broken_one_keeps_the_last_good() {
    let (mock, _) = start_mock().await;
    let g = start_gateway(&two_backends(mock, "a"), &["--reload-poll-ms", "20"]);
    ready(&g).await;
    assert_eq!(answered_by(&g, "hi").await, "a");

    // Broken: the gateway says why, rendered like `routerc check`, and keeps serving `a`.
    // (Written whole by rename, so no poll can see a half-written file and count twice.)
    replace_file(&g.policy, "default => nowhere\n");
    wait_log(&g, "failed; still serving the last good policy");
    wait_log(&g, "nowhere");
    wait_log(&g, "1 error");
    assert_eq!(answered_by(&g, "hi").await, "a");
    let m = scrape(&g).await;
    assert_eq!(
        metric(&m, "routerc_reloads_total{result=\"failed\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&m, "routerc_reloads_total{result=\"ok\"}"),
        Some(0.0)
    );

    // Fixed: the new default route takes effect.
    replace_file(&g.policy, &two_backends(mock, "b"));
    wait_log(&g, "reloaded");
    assert_eq!(answered_by(&g, "hi").await, "b");
    let m = scrape(&g).await;
    assert_eq!(
        metric(&m, "routerc_reloads_total{result=\"ok\"}"),
        Some(1.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_a_bundle_and_yaml_reloads_with_its_includes() {
    let (mock, _) = start_mock().await;

    // A bundle, with file watching off: only SIGHUP reloads.
    let dir = temp_dir();
    let source = dir.0.join("policy.route");
    let bundle = dir.0.join("policy.bundle");
    let compile = |to: &str| {
        std::fs::write(&source, two_backends(mock, to)).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_routerc"))
            .arg("compile")
            .arg(&source)
            .arg("-o")
            .arg(&bundle)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    compile("a");
    let g = start_gateway_on(dir, bundle.clone(), &["--reload-poll-ms", "0"], &[]);
    ready(&g).await;
    assert_eq!(answered_by(&g, "hi").await, "a");
    compile("b");
    signal(&g, "HUP");
    wait_log(&g, "reloaded");
    assert_eq!(answered_by(&g, "hi").await, "b");
    // A corrupted bundle on SIGHUP: refused, the last good one serves.
    std::fs::write(&bundle, b"ROUTERC\0garbage").unwrap();
    signal(&g, "HUP");
    wait_log(&g, "failed; still serving");
    assert_eq!(answered_by(&g, "hi").await, "b");
    drop(g);

    // YAML including a .route file: a change to the include reloads too.
    let dir = temp_dir();
    let yaml = dir.0.join("policy.yaml");
    let included = dir.0.join("backends.route");
    let backends = |model_b: &str| {
        format!(
            "backend a {{ url: \"http://{mock}/a/v1\", model: \"model-a\" }}\n\
             backend b {{ url: \"http://{mock}/b/v1\", model: \"{model_b}\" }}\n"
        )
    };
    std::fs::write(&included, backends("model-b")).unwrap();
    let policy = |to: &str| format!("include: [backends.route]\ndefault:\n  backend: {to}\n");
    std::fs::write(&yaml, policy("a")).unwrap();
    let g = start_gateway_on(dir, yaml.clone(), &["--reload-poll-ms", "20"], &[]);
    ready(&g).await;
    assert_eq!(answered_by(&g, "hi").await, "a");
    replace_file(&yaml, &policy("b"));
    wait_log(&g, "reloaded");
    assert_eq!(answered_by(&g, "hi").await, "b");
    // Written in place this time (truncate, then write), as some editors do.
    std::fs::write(&included, backends("model-b2")).unwrap();
    wait_log(&g, "reloaded");
    let url = format!("{}/v1/chat/completions", g.base);
    let (_, _, v) = call("POST", &url, chat("auto", "hi"), &[]).await;
    assert_eq!(v["received"]["model"], "model-b2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_under_load_loses_no_request() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let (mock, _) = start_mock().await;
    let g = start_gateway(&two_backends(mock, "a"), &["--reload-poll-ms", "10"]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);
    let done = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    // Each worker keeps one connection busy: at least 250 requests, and on until the reloads
    // are over (at most 1,000, so the test is bounded whatever happens).
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (url, done, sent) = (url.clone(), done.clone(), sent.clone());
            tokio::spawn(async move {
                let client = client();
                let mut by_backend = std::collections::BTreeMap::<String, usize>::new();
                for i in 0..1000 {
                    if i >= 250 && done.load(Ordering::SeqCst) {
                        break;
                    }
                    let req = Request::post(&url)
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(chat("auto", "hi"))))
                        .unwrap();
                    let r = tokio::time::timeout(BOUND, client.request(req))
                        .await
                        .expect("answered in time")
                        .expect("answered");
                    assert_eq!(r.status(), StatusCode::OK);
                    let backend = header(r.headers(), "x-routerc-backend").to_string();
                    r.into_body().collect().await.expect("whole body");
                    *by_backend.entry(backend).or_default() += 1;
                    sent.fetch_add(1, Ordering::SeqCst);
                }
                by_backend
            })
        })
        .collect();
    for flip in 0..6 {
        let to = if flip % 2 == 0 { "b" } else { "a" };
        replace_file(&g.policy, &two_backends(mock, to));
        wait_log(&g, "reloaded");
    }
    done.store(true, Ordering::SeqCst);
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for w in workers {
        for (backend, n) in w.await.expect("no request failed") {
            *seen.entry(backend).or_default() += n;
        }
    }
    let total: usize = seen.values().sum();
    assert_eq!(total, sent.load(Ordering::SeqCst));
    assert!(seen.contains_key("a") && seen.contains_key("b"), "{seen:?}");
    let m = scrape(&g).await;
    assert_eq!(
        metric(&m, "routerc_reloads_total{result=\"ok\"}"),
        Some(6.0)
    );
    assert_eq!(
        metric(
            &m,
            "routerc_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}"
        ),
        Some(total as f64),
        "every request a 200: {m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_decisions_signals_backends_and_errors() {
    let (mock, m) = start_mock().await;
    let g = start_gateway(&policy(mock), &[]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);
    let (s, _, _) = call("POST", &url, chat("auto", "some rust code"), &[]).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call("POST", &url, chat("auto", "hello"), &[]).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call("POST", &url, chat("auto", "classified"), &[]).await;
    assert_eq!(s.as_u16(), 451);
    let (s, _, _) = call("POST", &url, chat("auto", "blackout"), &[]).await;
    assert_eq!(s, StatusCode::BAD_GATEWAY);
    let (s, _, _) = call("POST", &url, "{", &[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // A stream the upstream breaks counts as a stream error once its error event is sent.
    let body = json!({ "model": "auto", "stream": true,
                       "messages": [{ "role": "user", "content": "hi" }] })
    .to_string();
    let r = send("POST", &url, body, &[("x-tenant", "acme")]).await;
    let mut body = r.into_body();
    let mut seen = String::new();
    read_until(&mut body, &mut seen, "\"n\":1").await;
    m.gate.notify_one();
    read_until(&mut body, &mut seen, "data: {\"error\"").await;
    drop(body);

    let text = scrape(&g).await;
    let chat_status = |s: u16| {
        metric(
            &text,
            &format!("routerc_requests_total{{endpoint=\"/v1/chat/completions\",status=\"{s}\"}}"),
        )
    };
    assert_eq!(chat_status(200), Some(3.0), "{text}");
    assert_eq!(chat_status(451), Some(1.0));
    assert_eq!(chat_status(502), Some(1.0));
    assert_eq!(chat_status(400), Some(1.0));
    assert_eq!(
        metric(
            &text,
            "routerc_requests_total{endpoint=\"/readyz\",status=\"200\"}"
        ),
        Some(1.0)
    );
    for (route, n) in [
        ("coding", 1.0),
        ("default", 1.0),
        ("blocked", 1.0),
        ("nothing_left", 1.0),
        ("acme", 1.0),
        ("failover", 0.0),
    ] {
        let series = format!("routerc_decisions_total{{route=\"{route}\"}}");
        assert_eq!(metric(&text, &series), Some(n), "{series}");
    }
    assert_eq!(metric(&text, "routerc_decision_seconds_count"), Some(5.0));
    for (kind, n) in [
        ("rejected", 1.0),
        ("upstream_error", 1.0),
        ("bad_request", 1.0),
        ("stream_error", 1.0),
        ("unauthorized", 0.0),
    ] {
        let series = format!("routerc_errors_total{{kind=\"{kind}\"}}");
        assert_eq!(metric(&text, &series), Some(n), "{series}");
    }
    // `secret` is read by every decision (the highest route tests it first); `code` by
    // those that reach the coding route.
    assert_eq!(
        metric(&text, "routerc_signal_seconds_count{signal=\"secret\"}"),
        Some(5.0)
    );
    assert_eq!(
        metric(&text, "routerc_signal_seconds_count{signal=\"code\"}"),
        Some(3.0)
    );
    assert_eq!(
        metric(&text, "routerc_upstream_seconds_count{backend=\"a\"}"),
        Some(1.0)
    );
    // `failing` answered 500 (an answer, timed); `down` refused the connection (not timed).
    assert_eq!(
        metric(&text, "routerc_upstream_seconds_count{backend=\"failing\"}"),
        Some(1.0)
    );
    assert_eq!(
        metric(&text, "routerc_upstream_seconds_count{backend=\"down\"}"),
        Some(0.0)
    );
    for (backend, reason, n) in [
        ("failing", "status_5xx", 1.0),
        ("down", "connect", 1.0),
        ("down", "timeout", 0.0),
        ("a", "connect", 0.0),
    ] {
        let series =
            format!("routerc_upstream_failures_total{{backend=\"{backend}\",reason=\"{reason}\"}}");
        assert_eq!(metric(&text, &series), Some(n), "{series}");
    }
    assert_eq!(
        metric(&text, "routerc_time_to_first_byte_seconds_count"),
        Some(3.0)
    );
    assert_eq!(
        metric(
            &text,
            "routerc_time_to_first_byte_seconds_bucket{le=\"+Inf\"}"
        ),
        Some(3.0)
    );
    // The scrape itself is in flight.
    assert_eq!(metric(&text, "routerc_in_flight_requests"), Some(1.0));
    assert_eq!(
        metric(&text, "routerc_reloads_total{result=\"ok\"}"),
        Some(0.0)
    );
}

/// A policy that routes admins to `a` and everyone else to `b`, whose backend `a` sends the
/// key from `UPSTREAM_KEY`.
fn identity_policy(mock: SocketAddr) -> String {
    format!(
        "signal role: string = identity.role\n\
         signal user: string = identity.user\n\
         backend a {{ url: \"http://{mock}/a/v1\", model: \"model-a\", api_key_env: \"UPSTREAM_KEY\" }}\n\
         backend b {{ url: \"http://{mock}/b/v1\", model: \"model-b\" }}\n\
         route admins priority 10 when role == \"admin\" => a\n\
         route carol priority 5 when user == \"carol\" => a\n\
         default => b\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_authenticate_and_give_the_identity_signals() {
    let (mock, _) = start_mock().await;
    let dir = temp_dir();
    let file = dir.0.join("policy.route");
    std::fs::write(&file, identity_policy(mock)).unwrap();
    let keys = dir.0.join("keys");
    std::fs::write(&keys, "# key user role\nsk-alice alice admin\nsk-bob bob\n").unwrap();
    let g = start_gateway_on(
        dir,
        file,
        &[
            "--api-keys",
            keys.to_str().unwrap(),
            "--reload-poll-ms",
            "20",
        ],
        &[
            ("UPSTREAM_KEY", "sk-upstream"),
            ("ROUTERC_API_KEYS", "sk-carol carol staff"),
        ],
    );
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);

    // No key, a wrong key, a malformed header: 401, OpenAI's shape, no decision made.
    for headers in [
        &[][..],
        &[("authorization", "Bearer sk-mallory")],
        &[("authorization", "sk-alice")],
    ] {
        let (status, h, v) = call("POST", &url, chat("auto", "hi"), headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{headers:?}: {v}");
        assert_eq!(v["error"]["code"], "invalid_api_key");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert!(h.get("x-routerc-route").is_none());
    }
    let (status, _, _) = call("GET", &format!("{}/v1/models", g.base), "", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The role comes from the key; the backend gets its own key, never the client's.
    let (status, h, v) = call(
        "POST",
        &url,
        chat("auto", "hi"),
        &[("authorization", "Bearer sk-alice")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(header(&h, "x-routerc-route"), "admins");
    assert_eq!(v["authorization"], "Bearer sk-upstream");

    // A client claiming a role in a header is not believed.
    let (_, h, v) = call(
        "POST",
        &url,
        chat("auto", "hi"),
        &[("authorization", "Bearer sk-bob"), ("x-role", "admin")],
    )
    .await;
    assert_eq!(header(&h, "x-routerc-route"), "default");
    assert_eq!(v["authorization"], Value::Null);

    // Keys from the environment work beside the file.
    let (_, h, _) = call(
        "POST",
        &url,
        chat("auto", "hi"),
        &[("authorization", "Bearer sk-carol")],
    )
    .await;
    assert_eq!(header(&h, "x-routerc-route"), "carol");
    let m = scrape(&g).await;
    assert_eq!(
        metric(&m, "routerc_errors_total{kind=\"unauthorized\"}"),
        Some(4.0)
    );

    // The key file is reloaded when it changes: bob becomes an admin, alice is gone.
    replace_file(&keys, "sk-bob bob admin\n");
    wait_log(&g, "reloaded the API keys");
    let (_, h, _) = call(
        "POST",
        &url,
        chat("auto", "hi"),
        &[("authorization", "Bearer sk-bob")],
    )
    .await;
    assert_eq!(header(&h, "x-routerc-route"), "admins");
    let (status, _, _) = call(
        "POST",
        &url,
        chat("auto", "hi"),
        &[("authorization", "Bearer sk-alice")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_keys_the_identity_is_absent_unless_a_proxy_header_is_trusted() {
    let (mock, _) = start_mock().await;
    let open = start_gateway(&identity_policy(mock), &[]);
    ready(&open).await;
    let url = format!("{}/v1/chat/completions", open.base);
    let (status, h, _) = call("POST", &url, chat("auto", "hi"), &[("x-role", "admin")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "x-routerc-route"), "default");

    let trusting = start_gateway(
        &identity_policy(mock),
        &[
            "--trust-role-header",
            "X-Role",
            "--trust-user-header",
            "X-User",
        ],
    );
    ready(&trusting).await;
    let url = format!("{}/v1/chat/completions", trusting.base);
    let (_, h, _) = call("POST", &url, chat("auto", "hi"), &[("x-role", "admin")]).await;
    assert_eq!(header(&h, "x-routerc-route"), "admins");
    let (_, h, _) = call("POST", &url, chat("auto", "hi"), &[("x-user", "carol")]).await;
    assert_eq!(header(&h, "x-routerc-route"), "carol");
    let (_, h, _) = call("POST", &url, chat("auto", "hi"), &[]).await;
    assert_eq!(header(&h, "x-routerc-route"), "default");
}

/// Waits for the gateway process to exit; returns its exit code.
fn exit_code(g: &mut Gateway) -> Option<i32> {
    let deadline = std::time::Instant::now() + BOUND;
    loop {
        if let Some(status) = g.child.try_wait().unwrap() {
            return status.code();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "routerc serve did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_stream_in_flight_finish_then_exits_0() {
    let (mock, m) = start_mock().await;
    let mut g = start_gateway(&policy(mock), &[]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);
    let body = json!({ "model": "auto", "stream": true,
                       "messages": [{ "role": "user", "content": "python?" }] })
    .to_string();
    let r = send("POST", &url, body, &[]).await;
    let mut body = r.into_body();
    let mut seen = String::new();
    read_until(&mut body, &mut seen, "\"n\":1").await;

    signal(&g, "TERM");
    wait_log(&g, "shutting down");
    // No new connection is taken once draining started (bounded retries: the listener is
    // closed right after the log line).
    let addr = g.base.trim_start_matches("http://").to_string();
    let mut refused = false;
    for _ in 0..250 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        refused,
        "the gateway kept accepting connections while draining"
    );

    // The stream in flight still gets its end.
    m.gate.notify_one();
    read_until(&mut body, &mut seen, "data: [DONE]").await;
    assert!(seen.contains("\"n\":2"));
    assert_eq!(exit_code(&mut g), Some(0));
    wait_log(&g, "routerc serve: stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_that_takes_too_long_is_cut_at_the_drain_timeout() {
    let (mock, _m) = start_mock().await;
    let mut g = start_gateway(&policy(mock), &["--drain-timeout-ms", "300"]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);
    let body = json!({ "model": "auto", "stream": true,
                       "messages": [{ "role": "user", "content": "python?" }] })
    .to_string();
    let r = send("POST", &url, body, &[]).await;
    let mut body = r.into_body();
    let mut seen = String::new();
    read_until(&mut body, &mut seen, "\"n\":1").await;
    // The mock never sends the rest: only the drain timeout ends this.
    signal(&g, "TERM");
    assert_eq!(exit_code(&mut g), Some(0));
    wait_log(&g, "drain timeout of 300 ms");
    let end = tokio::time::timeout(BOUND, async {
        loop {
            match body.frame().await {
                Some(Ok(_)) => continue,
                other => return other.is_none(),
            }
        }
    })
    .await
    .expect("the cut stream ends");
    // Cut, not completed: an error or an end without `[DONE]`.
    assert!(!seen.contains("[DONE]"), "{end}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_timed_out() {
    use std::io::{Read, Write};
    let g = start_gateway(
        &policy("127.0.0.1:9".parse().unwrap()),
        &["--header-timeout-ms", "200", "--body-timeout-ms", "200"],
    );
    ready(&g).await;
    let addr = g.base.trim_start_matches("http://").to_string();
    // Blocking sockets with the bound as read timeout: a read that hits it fails the test.
    let raw = |request: &[u8]| {
        let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
        tcp.set_read_timeout(Some(BOUND)).unwrap();
        tcp.write_all(request).unwrap();
        let mut got = Vec::new();
        let read = tokio::task::block_in_place(|| tcp.read_to_end(&mut got));
        if let Err(e) = &read {
            assert!(
                !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "the gateway kept the connection open"
            );
        }
        String::from_utf8_lossy(&got).into_owned()
    };

    // Headers that never end: the connection is closed, nothing is answered.
    let got = raw(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n");
    assert!(!got.contains(" 200 "), "{got}");

    // A body that never completes: 408 with an OpenAI-style error.
    let got = raw(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n\
          content-length: 100\r\nconnection: close\r\n\r\n{\"model\":",
    );
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("\"code\":\"request_timeout\""), "{got}");
    assert!(got.contains("200 ms"), "{got}");
}

/// A certificate authority and a certificate for 127.0.0.1 signed by it, as made in the test.
struct TestPki {
    ca_pem: String,
    cert: rustls::pki_types::CertificateDer<'static>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
}

fn test_pki() -> TestPki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "routerc test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    TestPki {
        ca_pem: ca.pem(),
        cert: leaf.der().clone(),
        key: rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
    }
}

/// The mock upstream behind TLS on loopback.
async fn start_tls_mock(pki: &TestPki) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pki.cert.clone()], pki.key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (app, _) = mock_app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A handshake the client rejects (unknown CA) just ends this connection.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_backends_are_verified_against_the_roots_and_the_ca_file() {
    let pki = test_pki();
    let upstream = start_tls_mock(&pki).await;
    let policy_text = format!(
        "backend s {{ url: \"https://{upstream}/a/v1\", model: \"model-s\", max_retries: 0 }}\n\
         default => s\n"
    );
    let dir = temp_dir();
    let ca = dir.0.join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let file = dir.0.join("policy.route");
    std::fs::write(&file, &policy_text).unwrap();
    let g = start_gateway_on(dir, file, &["--ca-file", ca.to_str().unwrap()], &[]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);
    let (status, h, v) = call("POST", &url, chat("auto", "hi"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(header(&h, "x-routerc-backend"), "s");
    assert_eq!(v["received"]["model"], "model-s");

    // Streaming over TLS too.
    let body = json!({ "model": "auto", "stream": true,
                       "messages": [{ "role": "user", "content": "hi" }] })
    .to_string();
    let r = send("POST", &url, body, &[]).await;
    assert_eq!(header(r.headers(), "content-type"), "text/event-stream");
    let mut body = r.into_body();
    let mut seen = String::new();
    read_until(&mut body, &mut seen, "\"n\":1").await;
    drop(body);

    // Without the private CA, the upstream's certificate is not trusted: a 502 that says so.
    let untrusting = start_gateway(&policy_text, &[]);
    ready(&untrusting).await;
    let url = format!("{}/v1/chat/completions", untrusting.base);
    let (status, _, v) = call("POST", &url, chat("auto", "hi"), &[]).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("certificate"), "{message}");
}

/// Two backends behind two private CAs, each trusting only its own (`ca_file`, relative to
/// the policy), and no `--ca-file`: each answers, and a backend given the other's CA is
/// refused with a certificate error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_https_backend_trusts_its_own_ca_file() {
    let (pki_a, pki_b) = (test_pki(), test_pki());
    let (a, b) = (start_tls_mock(&pki_a).await, start_tls_mock(&pki_b).await);
    let policy_text = format!(
        "signal to_b: bool = keyword(\"to-b\")\n\
         signal crossed: bool = keyword(\"crossed\")\n\
         backend a {{ url: \"https://{a}/a/v1\", model: \"model-a\", ca_file: \"certs/a.pem\" }}\n\
         backend b {{ url: \"https://{b}/a/v1\", model: \"model-b\", ca_file: \"certs/b.pem\" }}\n\
         backend wrong {{ url: \"https://{b}/a/v1\", model: \"model-w\", ca_file: \"certs/a.pem\", max_retries: 0 }}\n\
         route crossed_route priority 2 when crossed => wrong\n\
         route b_route priority 1 when to_b => b\n\
         default => a\n"
    );
    let dir = temp_dir();
    std::fs::create_dir_all(dir.0.join("certs")).unwrap();
    std::fs::write(dir.0.join("certs/a.pem"), &pki_a.ca_pem).unwrap();
    std::fs::write(dir.0.join("certs/b.pem"), &pki_b.ca_pem).unwrap();
    let file = dir.0.join("policy.route");
    std::fs::write(&file, &policy_text).unwrap();
    let g = start_gateway_on(dir, file, &[], &[]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);
    for (text, backend, model) in [("hello", "a", "model-a"), ("to-b please", "b", "model-b")] {
        let (status, h, v) = call("POST", &url, chat("auto", text), &[]).await;
        assert_eq!(status, StatusCode::OK, "{text}: {v}");
        assert_eq!(header(&h, "x-routerc-backend"), backend);
        assert_eq!(v["received"]["model"], model);
    }
    let (status, _, v) = call("POST", &url, chat("auto", "crossed"), &[]).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("certificate"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backends_total_timeout_bounds_its_whole_answer() {
    // The mock's gate is never opened here: a permit left over would release the stream.
    let (mock, _gate) = start_mock().await;
    let policy_text = format!(
        "signal sluggish: bool = keyword(\"sluggish\")\n\
         backend slow {{ url: \"http://{mock}/slow/v1\", model: \"model-slow\", timeout: 300ms, max_retries: 0 }}\n\
         backend t {{ url: \"http://{mock}/a/v1\", model: \"model-t\", timeout: 300ms }}\n\
         route too_slow priority 1 when sluggish => slow\n\
         default => t\n"
    );
    let g = start_gateway(&policy_text, &[]);
    ready(&g).await;
    let url = format!("{}/v1/chat/completions", g.base);

    // No answer within the total timeout (shorter than the first-byte one): 504.
    let (status, _, v) = call("POST", &url, chat("auto", "sluggish"), &[]).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("total timeout of 300 ms"), "{message}");

    // A stream that outlives it ends with the error event that says so.
    let body = json!({ "model": "auto", "stream": true,
                       "messages": [{ "role": "user", "content": "hi" }] })
    .to_string();
    let r = send("POST", &url, body, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut body = r.into_body();
    let mut seen = String::new();
    read_until(&mut body, &mut seen, "\"n\":1").await;
    // The mock holds the rest until its gate opens, which it never does here.
    read_until(&mut body, &mut seen, "data: {\"error\"").await;
    assert!(seen.contains("total timeout of 300 ms"), "{seen}");
    assert!(!seen.contains("\"n\":2"));
}
