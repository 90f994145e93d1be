//! `routerc serve` computing model-backed signals: the real process, the fixture models, and
//! requests whose decisions need no backend (rejections) or show the route chosen in the
//! decision headers even when the backend is down.
//!
//! The fixture models come from the shared data folder (`$ROUTERC_SHARED` or `../shared`),
//! linked into a temporary folder given with `--models`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

#[path = "support/models.rs"]
mod models;
use models::fixture_models;

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(models: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_routerc"))
        .args([
            "serve",
            "--policy",
            "tests/signals/policy.route",
            "--listen",
            "127.0.0.1:0",
            "--models",
        ])
        .arg(models)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::piped())
        .spawn()
        .expect("routerc serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(at) = line.find("http://") {
                    break line[at + 7..].trim().to_string();
                }
            }
            other => panic!("routerc serve stopped before listening: {other:?}"),
        }
    };
    Server { child, addr }
}

/// One HTTP/1.1 request; the status and the headers, lowercase.
fn post(addr: &str, body: &str, headers: &[(&str, &str)]) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, rest) = response.split_once("\r\n\r\n").expect("a head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, rest.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

#[test]
fn the_gateway_computes_model_signals_off_the_async_workers() {
    let models = fixture_models();
    let server = serve(models);

    // The PII validators find the card; the jailbreak classifier ran first.
    let card = r#"{"model": "auto", "messages": [{"role": "user", "content": "charge 4111 1111 1111 1111 please"}]}"#;
    let (status, headers, body) = post(&server.addr, card, &[]);
    assert_eq!(status, 400, "{body}");
    assert_eq!(header(&headers, "x-routerc-route"), "no_cards");
    assert_eq!(header(&headers, "x-routerc-signals"), "jailbreak,pii");
    assert!(body.contains("remove the card number"), "{body}");

    // Cheap signals decide after the models: keyword and header; the backend is down (502),
    // the decision headers still say where the request went.
    let billing = r#"{"model": "auto", "messages": [{"role": "user", "content": "I was charged twice, refund please"}]}"#;
    let (status, headers, _) = post(&server.addr, billing, &[("X-Tenant", "acme")]);
    assert_eq!(
        header(&headers, "x-routerc-route"),
        "acme_billing",
        "status {status}"
    );
    assert_eq!(header(&headers, "x-routerc-backend"), "big");

    // Many requests at once are all decided (the blocking pool takes them).
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let addr = server.addr.clone();
            std::thread::spawn(move || post(&addr, card, &[]).0)
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("request thread"), 400);
    }
}

#[test]
fn the_gateway_refuses_to_start_without_its_models() {
    // A folder of its own, with nothing beside it: the repository's `models/` (which holds the
    // shipped models) must not be found through the current directory or the policy's parent.
    let root = std::env::temp_dir().join(format!("routerc-no-models-{}", std::process::id()));
    let (empty, dir) = (root.join("empty"), root.join("policy"));
    std::fs::create_dir_all(&empty).expect("temp dir");
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("policy.route"),
        "signal jailbreak: score = classifier(\"jailbreak\", label: \"jailbreak\")\n\
         backend local { url: \"http://127.0.0.1:9/v1\", model: \"m\" }\n\
         route block when jailbreak > 0.9 => reject 403 \"no\"\n\
         default => local\n",
    )
    .expect("policy");
    let mut child = Command::new(env!("CARGO_BIN_EXE_routerc"))
        .args([
            "serve",
            "--policy",
            "policy.route",
            "--listen",
            "127.0.0.1:0",
            "--models",
        ])
        .arg(&empty)
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env_remove("ROUTERC_MODELS")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("routerc runs");
    // Bounded: a gateway that starts anyway is killed and the test fails, rather than hangs.
    let mut status = None;
    for _ in 0..600 {
        if let Some(s) = child.try_wait().expect("wait") {
            status = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("routerc serve started without the model it needs");
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{err}");
    assert!(
        err.contains("E0501") && err.contains("model `jailbreak` is not installed"),
        "{err}"
    );
}
