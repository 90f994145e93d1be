//! The official `openai` Python SDK as a real client of a real `routerc serve` process, in
//! front of a mock OpenAI-compatible upstream running inside this test. The client script is
//! `tests/sdk/client.py`; the SDK lives in a virtualenv that `scripts/install-python-sdk`
//! makes (pinned version), found at `$ROUTERC_PYTHON_SDK` or `python-sdk` in the cargo target
//! directory. A missing SDK fails the test with the command that installs it.
//!
//! The mock answers with a content that tells what it received,
//! `<backend>|<model>|<system prompt>|<last user message>`, as one completion or as
//! `chat.completion.chunk` events of four characters each; the `drop` backend breaks its
//! stream after the first content chunk.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use serde_json::{json, Value};

/// Every wait in this test is bounded by this.
const BOUND: Duration = Duration::from_secs(120);

/// What the mock saw: the number of chat completions that reached it.
#[derive(Clone, Default)]
struct Seen(Arc<AtomicUsize>);

fn system_prompt(messages: &Value) -> String {
    messages
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["role"] == "system")
        .filter_map(|m| m["content"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn last_user(messages: &Value) -> String {
    messages
        .as_array()
        .into_iter()
        .flatten()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn chunk(model: &str, delta: Value, finish: Option<&str>) -> Bytes {
    let event = json!({
        "id": "chatcmpl-sdk", "object": "chat.completion.chunk", "created": 1, "model": model,
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }],
    });
    Bytes::from(format!("data: {event}\n\n"))
}

async fn mock_chat(Path(backend): Path<String>, State(seen): State<Seen>, body: Bytes) -> Response {
    seen.0.fetch_add(1, Ordering::SeqCst);
    let received: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let model = received["model"].as_str().unwrap_or_default().to_string();
    let content = format!(
        "{backend}|{model}|{}|{}",
        system_prompt(&received["messages"]),
        last_user(&received["messages"])
    );
    if received["stream"] == json!(true) {
        let chars: Vec<char> = content.chars().collect();
        let mut events: Vec<Result<Bytes, std::io::Error>> = vec![Ok(chunk(
            &model,
            json!({ "role": "assistant", "content": "" }),
            None,
        ))];
        for piece in chars.chunks(4) {
            let piece: String = piece.iter().collect();
            events.push(Ok(chunk(&model, json!({ "content": piece }), None)));
            if backend == "drop" {
                events.push(Err(std::io::Error::other("mock dropped the stream")));
                break;
            }
        }
        if backend != "drop" {
            events.push(Ok(chunk(&model, json!({}), Some("stop"))));
            events.push(Ok(Bytes::from_static(b"data: [DONE]\n\n")));
        }
        // One event at a time, a little apart, as a model generates.
        let events = futures_util::stream::unfold(events.into_iter(), |mut rest| async move {
            let next = rest.next()?;
            tokio::time::sleep(Duration::from_millis(2)).await;
            Some((next, rest))
        });
        return Response::builder()
            .header("content-type", "text/event-stream")
            .body(Body::from_stream(events))
            .unwrap();
    }
    let answer = json!({
        "id": "chatcmpl-sdk", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{ "index": 0, "message": { "role": "assistant", "content": content },
                      "finish_reason": "stop" }],
        "usage": { "prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7 },
    });
    ([("content-type", "application/json")], answer.to_string()).into_response()
}

async fn start_mock() -> (SocketAddr, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/{backend}/v1/chat/completions", post(mock_chat))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, seen)
}

fn policy(mock: SocketAddr) -> String {
    format!(
        r#"
signal code: bool = keyword("rust", "python")
signal secret: bool = keyword("classified")
signal embargo: bool = keyword("embargo")
signal tenant: string = header("x-tenant")
backend a {{ url: "http://{mock}/a/v1", model: "model-a" }}
backend b {{ url: "http://{mock}/b/v1", model: "model-b" }}
backend dropping {{ url: "http://{mock}/drop/v1", model: "model-drop" }}
route blocked priority 50 when secret => reject 403 "classified material"
route embargoed priority 45 when embargo => reject 451 "embargoed"
route coding priority 20 when code => a {{ system_prompt: "You write careful code." }}
route acme priority 10 when tenant == "acme" => dropping
default => b {{ system_prompt: "Be brief.", system_prompt_mode: prepend }}
"#
    )
}

/// `routerc serve` as a child process, killed when dropped, with its temporary directory.
struct Gateway {
    child: std::process::Child,
    base: String,
    dir: PathBuf,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_gateway(policy_text: &str) -> Gateway {
    use std::io::BufRead;
    let dir = std::env::temp_dir().join(format!("routerc-sdk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policy.route");
    std::fs::write(&file, policy_text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_routerc"))
        .args(["serve", "--listen", "127.0.0.1:0", "--policy"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut gateway = Gateway {
        child,
        base: String::new(),
        dir,
    };
    let deadline = Instant::now() + BOUND;
    let mut seen = Vec::new();
    while gateway.base.is_empty() {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => match line.split_once("listening on ") {
                Some((_, url)) => gateway.base = url.trim().to_string(),
                None => seen.push(line),
            },
            Err(_) => panic!("routerc serve did not start; stderr: {seen:#?}"),
        }
    }
    gateway
}

/// The virtualenv's python: `$ROUTERC_PYTHON_SDK`, or `python-sdk` in the target directory
/// this test binary was built in (`<target>/debug/deps/sdk-…`).
fn sdk_python() -> PathBuf {
    let venv = match std::env::var_os("ROUTERC_PYTHON_SDK") {
        Some(v) => PathBuf::from(v),
        None => {
            let exe = std::env::current_exe().unwrap();
            exe.ancestors()
                .nth(3)
                .expect("the test binary sits in <target>/<profile>/deps")
                .join("python-sdk")
        }
    };
    let python = venv.join("bin").join("python");
    let found = Command::new(&python)
        .args(["-c", "import openai"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "the openai Python SDK is missing: no `import openai` with {}.\n\
         Install it with `scripts/install-python-sdk` (with the same CARGO_TARGET_DIR, or \
         ROUTERC_PYTHON_SDK pointing at the virtualenv); scripts/test runs it.",
        python.display()
    );
    python
}

/// Runs the client script to its end (bounded) and returns its exit status, stdout, stderr.
fn run_client(python: &std::path::Path, base: &str) -> (std::process::ExitStatus, String, String) {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/client.py");
    let mut child = Command::new(python)
        .arg(&script)
        .arg(format!("{base}/v1"))
        .env("PYTHONUNBUFFERED", "1")
        // The SDK must not pick up a proxy or a key from the developer's environment.
        .env_remove("OPENAI_BASE_URL")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the SDK client did not finish within {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, out.join().unwrap(), err.join().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_python_sdk_talks_to_routerc_serve() {
    let python = sdk_python();
    let (mock, seen) = start_mock().await;
    let gateway = start_gateway(&policy(mock));
    let base = gateway.base.clone();
    let (status, stdout, stderr) = tokio::task::spawn_blocking(move || run_client(&python, &base))
        .await
        .unwrap();
    assert!(
        status.success(),
        "the SDK client failed ({status})\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    println!("{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("sdk: ") && last.contains("checks passed"),
        "{stdout}"
    );
    // Two non-streaming answers, two streams, the broken stream and four concurrent streams
    // reached the mock; the rejects, the unknown model and the bad request did not.
    assert_eq!(seen.0.load(Ordering::SeqCst), 9, "{stdout}");
    drop(gateway);
}
