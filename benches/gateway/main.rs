//! The gateway benchmark: `routerc serve` (release, a real process) and LiteLLM's proxy (a real
//! process from its own virtualenv) in front of the same fast mock upstream, measured side by
//! side in one run against calling the mock directly.
//!
//! `benches/gateway/run` installs LiteLLM (benches/gateway/setup) and runs
//! `cargo bench --workspace --bench gateway`. Settings are `name=value` arguments after `--`
//! (see `Settings`); `litellm=off` leaves LiteLLM out. Everything is on loopback; every loop is
//! bounded by its request count and every request by a timeout.
//!
//! What it prints (Markdown, for BENCHMARKS.md):
//! - non-streaming latency as the client sees it, p50/p99, at 1 and 64 connections (closed
//!   loop: each connection sends its next request when the previous answer is complete), the
//!   latency added over the direct call, requests/s;
//! - the same at 64 connections in an open loop: fixed arrival rates (`rates`, 2,000 and 5,000
//!   requests/s by default) well under saturation, so the added latency is the gateway's own
//!   time rather than the queue a saturated closed loop builds (see `open_loop`); LiteLLM at
//!   a rate it sustains (`litellm_rate`), with the other targets at that rate beside it;
//! - streaming: time to the first event and the gap between events, direct and through each;
//! - each gateway's CPU time per request (from /proc), routerc's RSS (peak under load);
//! - a long run through routerc (100,000 requests by default) with every status counted.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Uri};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;

/// Every request and every start-up wait is bounded by this.
const BOUND: Duration = Duration::from_secs(60);
/// LiteLLM refuses to start without a master key; the benchmark's client sends it.
const LITELLM_KEY: &str = "sk-4f9c2b7e1d8a6053c9e7b1f2a4d6c8e0b3a5f7d9c1e3b5a7f9d1c3e5b7a9f1d3";

/// The run's sizes, from `name=value` arguments.
struct Settings {
    /// Requests per target at 1 connection (LiteLLM: `litellm_1`).
    n1: usize,
    litellm_1: usize,
    /// Requests per target at 64 connections (LiteLLM: `litellm_64`).
    n64: usize,
    litellm_64: usize,
    /// Rounds: each round measures direct, routerc, LiteLLM in turn, so that slow drifts in
    /// the machine's load fall on every target alike.
    rounds: usize,
    /// The long run through routerc, at 64 connections.
    soak: usize,
    /// Streams per target (one at a time), content chunks per stream, the mock's gap.
    streams: usize,
    chunks: usize,
    gap_ms: u64,
    litellm: bool,
    /// A shared library (another allocator, say) preloaded into a second routerc process
    /// measured beside the first: `preload=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2`.
    preload: Option<String>,
    /// Another `routerc` binary (an earlier commit's, say) run as a second gateway beside the
    /// one built here, on the same load in the same rounds: `base=/path/to/routerc`.
    base: Option<String>,
    /// Open loop: arrival rates (requests/s) spread over 64 connections, each measured with
    /// `open_n` requests per target; LiteLLM at `litellm_rate` with `litellm_open` requests
    /// (the other targets are measured at that rate too, for the ratio).
    rates: Vec<usize>,
    open_n: usize,
    litellm_rate: usize,
    litellm_open: usize,
}

impl Settings {
    fn from_args() -> Settings {
        let mut s = Settings {
            n1: 5_000,
            litellm_1: 400,
            n64: 20_000,
            litellm_64: 2_000,
            rounds: 2,
            soak: 100_000,
            streams: 40,
            chunks: 20,
            gap_ms: 5,
            litellm: true,
            preload: None,
            base: None,
            rates: vec![2_000, 5_000],
            open_n: 15_000,
            litellm_rate: 25,
            litellm_open: 500,
        };
        for arg in std::env::args().skip(1) {
            // `cargo bench` passes `--bench`; other flags are not ours either.
            if arg.starts_with('-') {
                continue;
            }
            let Some((k, v)) = arg.split_once('=') else {
                panic!("unknown argument `{arg}`: settings are name=value");
            };
            let n = || {
                v.parse::<usize>()
                    .unwrap_or_else(|_| panic!("`{k}` needs a number"))
            };
            match k {
                "n1" => s.n1 = n(),
                "litellm_1" => s.litellm_1 = n(),
                "n64" => s.n64 = n(),
                "litellm_64" => s.litellm_64 = n(),
                "rounds" => s.rounds = n().max(1),
                "soak" => s.soak = n(),
                "streams" => s.streams = n(),
                "chunks" => s.chunks = n().max(1),
                "gap_ms" => s.gap_ms = n() as u64,
                "litellm" => s.litellm = v != "off",
                "preload" => s.preload = Some(v.to_string()),
                "base" => s.base = Some(v.to_string()),
                // `rates=` (empty) leaves the open loop out.
                "rates" => {
                    s.rates = v
                        .split(',')
                        .filter(|r| !r.is_empty())
                        .map(|r| {
                            r.parse::<usize>()
                                .ok()
                                .filter(|&r| r > 0)
                                .unwrap_or_else(|| panic!("`rates` needs positive numbers"))
                        })
                        .collect()
                }
                "open_n" => s.open_n = n(),
                "litellm_rate" => s.litellm_rate = n().max(1),
                "litellm_open" => s.litellm_open = n(),
                _ => panic!("unknown setting `{k}`"),
            }
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// The mock upstream: answers a chat completion at once, or streams `chunks` content events
// `gap_ms` apart (the first event at once), in OpenAI's shapes so LiteLLM parses them.

#[derive(Clone)]
struct Mock {
    chunks: usize,
    gap: Duration,
}

fn chunk_event(model: &str, delta: &str, finish: &str) -> Bytes {
    Bytes::from(format!(
        "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1,\
         \"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{delta},\
         \"finish_reason\":{finish}}}]}}\n\n"
    ))
}

async fn mock_chat(State(m): State<Mock>, body: Bytes) -> Response {
    let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let model = request["model"].as_str().unwrap_or("model").to_string();
    if request["stream"] == serde_json::Value::Bool(true) {
        let events = futures_util::stream::unfold(0usize, move |i| {
            let model = model.clone();
            let (chunks, gap) = (m.chunks, m.gap);
            async move {
                let event = if i == 0 {
                    chunk_event(&model, r#"{"role":"assistant","content":""}"#, "null")
                } else if i <= chunks {
                    tokio::time::sleep(gap).await;
                    chunk_event(&model, &format!(r#"{{"content":"word{i} "}}"#), "null")
                } else if i == chunks + 1 {
                    chunk_event(&model, "{}", "\"stop\"")
                } else if i == chunks + 2 {
                    Bytes::from_static(b"data: [DONE]\n\n")
                } else {
                    return None;
                };
                Some((Ok::<_, std::convert::Infallible>(event), i + 1))
            }
        });
        return Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(events))
            .unwrap();
    }
    let answer = format!(
        "{{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1,\
         \"model\":\"{model}\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\
         \"content\":\"Paris is the capital of France.\"}},\"finish_reason\":\"stop\"}}],\
         \"usage\":{{\"prompt_tokens\":20,\"completion_tokens\":8,\"total_tokens\":28}}}}"
    );
    ([("content-type", "application/json")], answer).into_response()
}

async fn start_mock(chunks: usize, gap: Duration) -> SocketAddr {
    let app = Router::new()
        .route("/v1/chat/completions", post(mock_chat))
        .with_state(Mock { chunks, gap });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

// ---------------------------------------------------------------------------------------------
// The gateways as child processes.

struct Proc {
    name: &'static str,
    child: Child,
    url: Uri,
    /// Sent with every request (LiteLLM's key).
    auth: Option<String>,
    dir: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        // The child leads its own process group (LiteLLM may fork): end the group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("routerc-bench-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `routerc serve` from `binary` (the one built with this benchmark when `None`).
fn start_routerc(
    mock: SocketAddr,
    name: &'static str,
    preload: Option<&str>,
    binary: Option<&str>,
) -> Proc {
    use std::os::unix::process::CommandExt;
    let dir = temp_dir(name);
    let policy = include_str!("policy.route").replace("UPSTREAM", &mock.to_string());
    let file = dir.join("policy.route");
    std::fs::write(&file, policy).unwrap();
    let mut command = Command::new(binary.unwrap_or(env!("CARGO_BIN_EXE_routerc")));
    if let Some(library) = preload {
        command.env("LD_PRELOAD", library);
    }
    let mut child = command
        .args(["serve", "--listen", "127.0.0.1:0", "--policy"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Owned (and so killed on drop) before anything can fail; the address comes next.
    let mut proc = Proc {
        name,
        child,
        url: Uri::from_static("http://127.0.0.1/"),
        auth: None,
        dir,
    };
    let deadline = Instant::now() + BOUND;
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                if let Some((_, base)) = line.split_once("listening on ") {
                    proc.url = format!("{}/v1/chat/completions", base.trim())
                        .parse()
                        .unwrap();
                    return proc;
                }
            }
            Err(_) => panic!("routerc serve did not start"),
        }
    }
}

fn litellm_venv() -> PathBuf {
    match std::env::var_os("ROUTERC_LITELLM_VENV") {
        Some(v) => PathBuf::from(v),
        None => std::env::current_exe()
            .unwrap()
            .ancestors()
            .nth(3)
            .expect("the bench binary sits in <target>/<profile>/deps")
            .join("litellm-venv"),
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn start_litellm(mock: SocketAddr) -> Proc {
    use std::os::unix::process::CommandExt;
    let exe = litellm_venv().join("bin").join("litellm");
    assert!(
        exe.exists(),
        "LiteLLM is not installed at {}: run benches/gateway/setup (or pass litellm=off)",
        exe.display()
    );
    let dir = temp_dir("litellm");
    let config = include_str!("litellm.yaml")
        .replace("UPSTREAM", &mock.to_string())
        .replace("MASTER_KEY", LITELLM_KEY);
    let file = dir.join("config.yaml");
    std::fs::write(&file, config).unwrap();
    let log = std::fs::File::create(dir.join("litellm.log")).unwrap();
    let port = free_port();
    let child = Command::new(&exe)
        .arg("--config")
        .arg(&file)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        // No network here: the model cost map that ships in the package, no telemetry.
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_TELEMETRY", "False")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap();
    let proc = Proc {
        name: "litellm",
        child,
        url: format!("http://127.0.0.1:{port}/v1/chat/completions")
            .parse()
            .unwrap(),
        auth: Some(format!("Bearer {LITELLM_KEY}")),
        dir,
    };
    let health: Uri = format!("http://127.0.0.1:{port}/health/liveliness")
        .parse()
        .unwrap();
    let client = client();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let req = Request::get(health.clone())
            .body(Full::new(Bytes::new()))
            .unwrap();
        if let Ok(Ok(r)) = tokio::time::timeout(Duration::from_secs(2), client.request(req)).await {
            if r.status().is_success() {
                return proc;
            }
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(proc.dir.join("litellm.log")).unwrap_or_default();
            panic!("LiteLLM did not start in time; its log:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The load generator.

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(connector)
}

/// Where the load goes: the mock itself, routerc or LiteLLM.
#[derive(Clone)]
struct Target {
    name: &'static str,
    url: Uri,
    auth: Option<String>,
    client: HttpClient,
    /// The gateway's process, for its CPU time.
    pid: Option<u32>,
}

impl Target {
    fn new(name: &'static str, url: Uri, auth: Option<String>) -> Target {
        Target {
            name,
            url,
            auth,
            client: client(),
            pid: None,
        }
    }

    fn of(p: &Proc) -> Target {
        Target {
            pid: Some(p.child.id()),
            ..Target::new(p.name, p.url.clone(), p.auth.clone())
        }
    }

    /// The gateway's CPU seconds so far: routerc's to the nanosecond, LiteLLM's (whose
    /// worker threads may come and go) in clock ticks.
    fn cpu_seconds(&self) -> Option<f64> {
        let pid = self.pid?;
        Some(if self.name == "litellm" {
            stat_cpu_seconds(pid)
        } else {
            thread_cpu_seconds(pid)
        })
    }

    fn request(&self, body: Bytes) -> Request<Full<Bytes>> {
        let mut r = Request::post(self.url.clone()).header("content-type", "application/json");
        if let Some(a) = &self.auth {
            r = r.header("authorization", a.as_str());
        }
        r.body(Full::new(body)).unwrap()
    }

    /// Sends one request and reads its whole answer: the status, or `None` when it failed or
    /// took longer than `BOUND`.
    async fn send(&self, body: Bytes) -> Option<u16> {
        let req = self.request(body);
        tokio::time::timeout(BOUND, async {
            let r = self.client.request(req).await.ok()?;
            let status = r.status().as_u16();
            r.into_body().collect().await.ok()?;
            Some(status)
        })
        .await
        .ok()
        .flatten()
    }
}

/// The requests sent, in turn: each of the policy's forwarding routes is taken.
fn bodies(stream: bool) -> Vec<Bytes> {
    let questions = [
        "What is the capital of France? Answer in one word.",
        "Write a Rust function that reverses a string in place.",
        "Summarise this contract clause about limited liability.",
        "Solve the integral of x squared from zero to three.",
    ];
    questions
        .iter()
        .map(|q| {
            Bytes::from(
                serde_json::json!({
                    "model": "auto",
                    "stream": stream,
                    "messages": [
                        { "role": "system", "content": "You are a helpful assistant." },
                        { "role": "user", "content": q },
                    ],
                    "temperature": 0.2,
                })
                .to_string(),
            )
        })
        .collect()
}

#[derive(Default)]
struct Run {
    latencies: Vec<u64>,
    statuses: BTreeMap<u16, usize>,
    /// Transport errors and timeouts: requests that got no complete answer.
    failed: usize,
    wall: Duration,
    /// CPU seconds the gateway process used meanwhile.
    cpu: f64,
}

impl Run {
    /// One request's outcome: its status and latency, or a failure.
    fn record(&mut self, status: Option<u16>, latency: Duration) {
        match status {
            Some(status) => {
                self.latencies.push(latency.as_nanos() as u64);
                *self.statuses.entry(status).or_default() += 1;
            }
            None => self.failed += 1,
        }
    }

    /// The connections' runs merged, with the wall time since `started` and the target's CPU
    /// time since `cpu0`.
    async fn gather(
        tasks: Vec<tokio::task::JoinHandle<Run>>,
        target: &Target,
        cpu0: Option<f64>,
        started: Instant,
    ) -> Run {
        let mut run = Run::default();
        for t in tasks {
            run.merge(t.await.unwrap());
        }
        run.wall = started.elapsed();
        if let (Some(now), Some(cpu0)) = (target.cpu_seconds(), cpu0) {
            run.cpu = now - cpu0;
        }
        run
    }

    fn merge(&mut self, other: Run) {
        self.latencies.extend(other.latencies);
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.failed += other.failed;
        self.wall += other.wall;
        self.cpu += other.cpu;
    }

    fn count(&self) -> usize {
        self.statuses.values().sum::<usize>() + self.failed
    }

    fn ok(&self) -> usize {
        self.statuses.get(&200).copied().unwrap_or(0)
    }

    fn rate(&self) -> f64 {
        self.count() as f64 / self.wall.as_secs_f64()
    }

    fn statuses(&self) -> String {
        let mut parts: Vec<String> = self
            .statuses
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        if self.failed > 0 {
            parts.push(format!("failed: {}", self.failed));
        }
        parts.join(", ")
    }
}

/// `total` requests over `connections` closed loops.
async fn closed_loop(target: &Target, connections: usize, total: usize) -> Run {
    let cpu0 = target.cpu_seconds();
    let next = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(bodies(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (target, next, bodies) = (target.clone(), next.clone(), bodies.clone());
            tokio::spawn(async move {
                let mut run = Run::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break;
                    }
                    let t0 = Instant::now();
                    let status = target.send(bodies[i % bodies.len()].clone()).await;
                    run.record(status, t0.elapsed());
                }
                run
            })
        })
        .collect();
    Run::gather(tasks, target, cpu0, started).await
}

/// `total` requests at a fixed arrival rate spread over `connections` connections (open
/// loop): request `i` is due at `start + i / rate` and goes on connection `i % connections`,
/// each connection with its own client so that the load really is on that many sockets. A
/// thread of its own releases the requests at their due times (the runtime's timer ticks
/// every millisecond, which would send them in bursts).
///
/// Latency counts from when a request was due whenever the gateway made it late: if the
/// connection was still busy with its previous answer at the due time, the request leaves
/// when that answer is in and its latency includes the wait (no coordinated omission). If
/// the connection was free, the latency counts from the send: the release thread's own
/// lateness is the load generator's, not the gateway's.
///
/// Each connection is opened (with one request, not counted) before the clock starts, so that
/// no counted request pays for a TCP handshake.
async fn open_loop(target: &Target, connections: usize, rate: usize, total: usize) -> Run {
    let bodies = Arc::new(bodies(false));
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let connections = connections.min(total).max(1);
    // One client per connection: its pool holds this connection only.
    let targets: Vec<Target> = (0..connections)
        .map(|_| Target {
            client: client(),
            ..target.clone()
        })
        .collect();
    let opened = futures_util::future::join_all(targets.iter().map(|t| async {
        let r = t.client.request(t.request(bodies[0].clone())).await.ok()?;
        r.into_body().collect().await.ok()
    }));
    let opened = tokio::time::timeout(BOUND, opened).await;
    assert!(
        opened.is_ok_and(|o| o.iter().all(Option::is_some)),
        "{}: cannot open {connections} connections",
        target.name
    );
    let cpu0 = target.cpu_seconds();
    let started = Instant::now();
    let start = started + Duration::from_millis(5);
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..connections)
        .map(|_| tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>())
        .unzip();
    let release = std::thread::spawn(move || {
        for i in 0..total {
            let due = start + interval * i as u32;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if senders[i % senders.len()].send((i, due)).is_err() {
                return;
            }
        }
    });
    let tasks: Vec<_> = receivers
        .into_iter()
        .zip(targets)
        .map(|(mut due_requests, target)| {
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let mut run = Run::default();
                let mut free_at = start;
                while let Some((i, due)) = due_requests.recv().await {
                    let sent_from = if free_at <= due { Instant::now() } else { due };
                    let status = target.send(bodies[i % bodies.len()].clone()).await;
                    free_at = Instant::now();
                    run.record(status, free_at - sent_from);
                }
                run
            })
        })
        .collect();
    let run = Run::gather(tasks, target, cpu0, started).await;
    release.join().unwrap();
    run
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64
}

/// One streamed answer: time to the first event, the gaps between events, events seen.
struct StreamSample {
    first: u64,
    gaps: Vec<u64>,
    events: usize,
}

async fn one_stream(target: &Target, body: Bytes) -> Option<StreamSample> {
    let req = target.request(body);
    let t0 = Instant::now();
    let r = target.client.request(req).await.ok()?;
    if !r.status().is_success() {
        return None;
    }
    let mut body = r.into_body();
    let mut text = Vec::new();
    let (mut events, mut first, mut last) = (0usize, None, t0);
    let mut gaps = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.ok()?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        let now = Instant::now();
        text.extend_from_slice(data);
        let seen = text.windows(2).filter(|w| w == b"\n\n").count();
        if seen > events {
            match first {
                None => first = Some((now - t0).as_nanos() as u64),
                Some(_) => gaps.push((now - last).as_nanos() as u64),
            }
            last = now;
            events = seen;
        }
    }
    Some(StreamSample {
        first: first?,
        gaps,
        events,
    })
}

struct StreamRun {
    firsts: Vec<u64>,
    gaps: Vec<u64>,
    events: Vec<usize>,
    failed: usize,
}

async fn streams(target: &Target, n: usize) -> StreamRun {
    let bodies = bodies(true);
    let mut run = StreamRun {
        firsts: Vec::new(),
        gaps: Vec::new(),
        events: Vec::new(),
        failed: 0,
    };
    for i in 0..n {
        let body = bodies[i % bodies.len()].clone();
        match tokio::time::timeout(BOUND, one_stream(target, body)).await {
            Ok(Some(s)) => {
                run.firsts.push(s.first);
                run.gaps.extend(s.gaps);
                run.events.push(s.events);
            }
            _ => run.failed += 1,
        }
    }
    run.firsts.sort_unstable();
    run.gaps.sort_unstable();
    run
}

// ---------------------------------------------------------------------------------------------
// Resident memory and CPU time of a process (Linux /proc).

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// RSS of a process and its descendants.
fn tree_rss_kib(pid: u32) -> u64 {
    let mut total = rss_kib(pid).unwrap_or(0);
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
        total += tree_rss_kib(c);
    }
    total
}

/// CPU seconds a process has used: the sum of its threads' run time in nanoseconds
/// (`/proc/PID/task/*/schedstat`), or (user + system) in clock ticks from `/proc/PID/stat`
/// where schedstat is missing. Only for routerc, whose threads live as long as it does: a
/// thread that ended between two readings would take its time with it.
fn thread_cpu_seconds(pid: u32) -> f64 {
    let threads = std::fs::read_dir(format!("/proc/{pid}/task")).ok();
    let mut total_ns = 0u64;
    let mut read_any = false;
    for t in threads.into_iter().flatten().flatten() {
        let stat = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
        if let Some(ns) = stat
            .split_whitespace()
            .next()
            .and_then(|f| f.parse::<u64>().ok())
        {
            total_ns += ns;
            read_any = true;
        }
    }
    if read_any {
        return total_ns as f64 / 1e9;
    }
    stat_cpu_seconds(pid)
}

/// CPU seconds (user + system) from `/proc/PID/stat`, in clock ticks (10 ms here), counting
/// threads that have ended too.
fn stat_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<f64>().ok()))
        .sum();
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Samples a process tree's RSS every 20 ms while it lives; `peak()` is the largest seen.
struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(tree_rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        RssSampler {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    fn peak_mib(&self) -> f64 {
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The report.

fn ms(ns: f64) -> String {
    format!("{:.3} ms", ns / 1e6)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

struct Latency {
    name: &'static str,
    run: Run,
    p50: f64,
    p99: f64,
}

fn latency(name: &'static str, mut run: Run) -> Latency {
    run.latencies.sort_unstable();
    let (p50, p99) = (
        percentile(&run.latencies, 0.5),
        percentile(&run.latencies, 0.99),
    );
    Latency {
        name,
        run,
        p50,
        p99,
    }
}

fn print_latency_table(title: &str, rows: &[Latency]) {
    println!("\n### {title}\n");
    println!("| target | requests | p50 | p99 | added p50 | added p99 | requests/s | gateway CPU per request | statuses |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let direct = &rows[0];
    for r in rows {
        let added = |v: f64, base: f64| {
            if std::ptr::eq(r, direct) {
                "—".to_string()
            } else {
                ms(v - base)
            }
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {} | {} |",
            r.name,
            r.run.count(),
            ms(r.p50),
            ms(r.p99),
            added(r.p50, direct.p50),
            added(r.p99, direct.p99),
            r.run.rate(),
            if std::ptr::eq(r, direct) {
                "—".to_string()
            } else {
                format!("{:.1} µs", r.run.cpu / r.run.count().max(1) as f64 * 1e6)
            },
            r.run.statuses()
        );
    }
    if let (Some(rc), Some(ll)) = (
        rows.iter().find(|r| r.name == "routerc"),
        rows.iter().find(|r| r.name == "litellm"),
    ) {
        let (a_rc, a_ll) = (rc.p50 - direct.p50, ll.p50 - direct.p50);
        println!(
            "\nLiteLLM / routerc: added p50 {:.1}x, p50 {:.1}x, p99 {:.1}x; requests/s routerc / LiteLLM {:.1}x",
            a_ll / a_rc,
            ll.p50 / rc.p50,
            ll.p99 / rc.p99,
            rc.run.rate() / ll.run.rate()
        );
    }
    if let (Some(rc), Some(base)) = (
        rows.iter().find(|r| r.name == "routerc"),
        rows.iter().find(|r| r.name == "routerc-base"),
    ) {
        let per = |r: &Latency| r.run.cpu / r.run.count().max(1) as f64;
        println!(
            "\nrouterc-base / routerc: CPU per request {:.2}x, added p50 {:.2}x, requests/s routerc / routerc-base {:.2}x",
            per(base) / per(rc),
            (base.p50 - direct.p50) / (rc.p50 - direct.p50),
            rc.run.rate() / base.run.rate()
        );
    }
}

fn mean(v: &[u64]) -> f64 {
    v.iter().sum::<u64>() as f64 / v.len().max(1) as f64
}

fn main() {
    let settings = Settings::from_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(settings));
}

async fn run(s: Settings) {
    let started = Instant::now();
    let mock = start_mock(s.chunks, Duration::from_millis(s.gap_ms)).await;
    let routerc = start_routerc(mock, "routerc", None, None);
    let preloaded = s
        .preload
        .as_deref()
        .map(|library| start_routerc(mock, "routerc+preload", Some(library), None));
    let base = s
        .base
        .as_deref()
        .map(|binary| start_routerc(mock, "routerc-base", None, Some(binary)));
    let litellm = if s.litellm {
        Some(start_litellm(mock).await)
    } else {
        None
    };
    let direct = Target::new(
        "direct",
        format!("http://{mock}/v1/chat/completions")
            .parse()
            .unwrap(),
        None,
    );
    let mut targets = vec![direct, Target::of(&routerc)];
    if let Some(p) = &preloaded {
        targets.push(Target::of(p));
    }
    if let Some(b) = &base {
        targets.push(Target::of(b));
    }
    if let Some(l) = &litellm {
        targets.push(Target::of(l));
    }
    let rc_pid = routerc.child.id();
    let rc_idle_mib = rss_kib(rc_pid).unwrap_or(0) as f64 / 1024.0;
    let rc_rss = RssSampler::start(rc_pid);
    let ll_rss = litellm.as_ref().map(|l| RssSampler::start(l.child.id()));

    println!(
        "# routerc serve vs LiteLLM proxy, {} cores, load average at start {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    if let (Some(p), Some(library)) = (&preloaded, &s.preload) {
        println!(
            "routerc+preload: routerc with LD_PRELOAD={library} (pid {})",
            p.child.id()
        );
    }
    if let (Some(b), Some(binary)) = (&base, &s.base) {
        println!("routerc-base: {binary} (pid {})", b.child.id());
    }
    if let Some(l) = &litellm {
        let version = Command::new(litellm_venv().join("bin").join("python"))
            .args([
                "-c",
                "import importlib.metadata as m; print(m.version('litellm'))",
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        println!(
            "LiteLLM {version} (pid {}), routerc pid {rc_pid}",
            l.child.id()
        );
    }

    // Warm-up: connections open, caches and (for LiteLLM) lazy imports.
    for t in &targets {
        let n = if t.name == "litellm" { 50 } else { 500 };
        let run = closed_loop(t, 4, n).await;
        assert_eq!(run.ok(), n, "{} warm-up: {}", t.name, run.statuses());
    }

    for connections in [1usize, 64] {
        let mut runs: Vec<Run> = targets.iter().map(|_| Run::default()).collect();
        for _ in 0..s.rounds {
            for (t, run) in targets.iter().zip(runs.iter_mut()) {
                let n = match (t.name, connections) {
                    ("litellm", 1) => s.litellm_1,
                    ("litellm", _) => s.litellm_64,
                    (_, 1) => s.n1,
                    _ => s.n64,
                } / s.rounds;
                run.merge(closed_loop(t, connections, n).await);
            }
        }
        let rows: Vec<Latency> = targets
            .iter()
            .zip(runs)
            .map(|(t, r)| latency(t.name, r))
            .collect();
        print_latency_table(
            &format!(
                "Non-streaming, {connections} connection{}, load average now {}",
                if connections == 1 { "" } else { "s" },
                load_average()
            ),
            &rows,
        );
    }

    // Open loop at 64 connections: rates well under saturation, so that what is added is
    // the gateway's own time and not the queue a saturated closed loop builds.
    for &rate in &s.rates {
        let gateways: Vec<&Target> = targets.iter().filter(|t| t.name != "litellm").collect();
        let mut runs: Vec<Run> = gateways.iter().map(|_| Run::default()).collect();
        for _ in 0..s.rounds {
            for (t, run) in gateways.iter().zip(runs.iter_mut()) {
                run.merge(open_loop(t, 64, rate, s.open_n / s.rounds).await);
            }
        }
        let rows: Vec<Latency> = gateways
            .iter()
            .zip(runs)
            .map(|(t, r)| latency(t.name, r))
            .collect();
        print_latency_table(
            &format!(
                "Open loop, {rate} requests/s over 64 connections, load average now {}",
                load_average()
            ),
            &rows,
        );
    }
    if s.litellm && s.litellm_open > 0 {
        let rate = s.litellm_rate;
        let mut runs: Vec<Run> = targets.iter().map(|_| Run::default()).collect();
        for (t, run) in targets.iter().zip(runs.iter_mut()) {
            run.merge(open_loop(t, 64, rate, s.litellm_open).await);
        }
        let rows: Vec<Latency> = targets
            .iter()
            .zip(runs)
            .map(|(t, r)| latency(t.name, r))
            .collect();
        print_latency_table(
            &format!(
                "Open loop, {rate} requests/s over 64 connections (a rate LiteLLM sustains), load average now {}",
                load_average()
            ),
            &rows,
        );
    }

    println!(
        "\n### Streaming: {} streams per target one at a time, {} content chunks {} ms apart\n",
        s.streams, s.chunks, s.gap_ms
    );
    println!("| target | streams | events per stream | first event p50 | added | first event p99 | gap mean | added | gap p99 | gap max | gaps > 20 ms |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut base: Option<(f64, f64)> = None;
    let mut added_first = BTreeMap::new();
    for t in &targets {
        let r = streams(t, s.streams).await;
        let (first, gap) = (percentile(&r.firsts, 0.5), mean(&r.gaps));
        let (b_first, b_gap) = *base.get_or_insert((first, gap));
        let events = match (r.events.iter().min(), r.events.iter().max()) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}–{b}"),
            _ => "—".into(),
        };
        added_first.insert(t.name, first - b_first);
        println!(
            "| {} | {}{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            t.name,
            r.firsts.len(),
            if r.failed > 0 {
                format!(" ({} failed)", r.failed)
            } else {
                String::new()
            },
            events,
            ms(first),
            if t.name == "direct" {
                "—".into()
            } else {
                ms(first - b_first)
            },
            ms(percentile(&r.firsts, 0.99)),
            ms(gap),
            if t.name == "direct" {
                "—".into()
            } else {
                ms(gap - b_gap)
            },
            ms(percentile(&r.gaps, 0.99)),
            ms(percentile(&r.gaps, 1.0)),
            r.gaps.iter().filter(|&&g| g > 20_000_000).count(),
        );
    }
    if let (Some(rc), Some(ll)) = (added_first.get("routerc"), added_first.get("litellm")) {
        println!(
            "\nLiteLLM / routerc added time to first event: {:.1}x",
            ll / rc
        );
    }

    // The long run, through routerc only, with its CPU time.
    let target = &targets[1];
    let cpu0 = thread_cpu_seconds(rc_pid);
    let soak = closed_loop(target, 64, s.soak).await;
    let cpu = thread_cpu_seconds(rc_pid) - cpu0;
    let lost = s.soak - soak.ok();
    println!(
        "\n### {} requests through routerc at 64 connections, load average now {}\n",
        s.soak,
        load_average()
    );
    println!(
        "statuses: {}; lost: {lost}; {:.1} s, {:.0} requests/s; routerc CPU {:.1} µs per request",
        soak.statuses(),
        soak.wall.as_secs_f64(),
        soak.rate(),
        cpu / s.soak as f64 * 1e6
    );
    println!(
        "\nrouterc RSS: {rc_idle_mib:.1} MiB idle, {:.1} MiB peak under load, {:.1} MiB after",
        rc_rss.peak_mib(),
        rss_kib(rc_pid).unwrap_or(0) as f64 / 1024.0
    );
    if let Some(r) = &ll_rss {
        println!("LiteLLM RSS (process tree): {:.1} MiB peak", r.peak_mib());
    }
    println!("\nwhole run: {:.0} s", started.elapsed().as_secs_f64());
    drop(rc_rss);
    drop(ll_rss);
    assert_eq!(lost, 0, "requests were lost through routerc");
}
