//! Language-server latency: from a `didChange` (one keystroke in a route of a 2,000-route
//! policy) to the `publishDiagnostics` of that version, through the real server loop
//! (`routerc::lsp::serve`) on an in-memory connection, so stdio framing is the only part left
//! out; `did_insert_to_diagnostics` types and deletes a space instead, so the text after the
//! edit moves. Beside them, `check_only` is the front end alone on the same text and `check_and_index`
//! adds the engine's index of names: the differences are the server's own costs. The last
//! three time engine queries at the end of the same policy.
//!
//! Run with `cargo bench --bench lsp`; figures go to BENCHMARKS.md.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::json;

mod common;

// The allocator the `routerc` binary uses, so the figures are the command's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const URI: &str = "file:///bench/policy.route";

fn recv(client: &Connection) -> Message {
    client
        .receiver
        .recv_timeout(Duration::from_secs(60))
        .expect("the server answers")
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("lsp");
    group.sample_size(30);
    let routes = 2_000;
    let text = common::policy(routes);

    let (server_side, client) = Connection::memory();
    let server =
        std::thread::spawn(move || routerc::lsp::serve(&server_side).map_err(|e| e.to_string()));
    client
        .sender
        .send(Message::Request(Request::new(
            RequestId::from(1),
            "initialize".to_string(),
            json!({ "capabilities": {} }),
        )))
        .expect("send");
    while !matches!(recv(&client), Message::Response(_)) {}
    let notify = |method: &str, params: serde_json::Value| {
        client
            .sender
            .send(Message::Notification(Notification::new(
                method.to_string(),
                params,
            )))
            .expect("send");
    };
    notify("initialized", json!({}));
    notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "route", "version": 0, "text": text } }),
    );

    // The keystroke: retype one digit of a threshold in the middle of the policy. The line of
    // route r1000 is found once; each change replaces the same one-character range.
    let line = text
        .lines()
        .position(|l| l.starts_with(&format!("route r{} ", routes / 2)))
        .expect("the generated policy has this route");
    let column = text
        .lines()
        .nth(line)
        .and_then(|l| l.find("0."))
        .expect("a threshold")
        + 2;
    let mut version = 0;
    group.bench_function(BenchmarkId::new("did_change_to_diagnostics", routes), |b| {
        b.iter(|| {
            version += 1;
            let digit = 5 + version % 4;
            notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": URI, "version": version },
                        "contentChanges": [{ "range": { "start": { "line": line, "character": column },
                                                        "end": { "line": line, "character": column + 1 } },
                                             "text": digit.to_string() }] }),
            );
            loop {
                if let Message::Notification(n) = recv(&client) {
                    if n.method == "textDocument/publishDiagnostics" && n.params["version"] == version {
                        break n;
                    }
                }
            }
        })
    });
    // A keystroke that changes the length of the text: a space typed after `when` in the same
    // route, then deleted, in turn. Everything after it moves.
    let when = text
        .lines()
        .nth(line)
        .and_then(|l| l.find("when "))
        .expect("a condition")
        + 5;
    let mut spaced = false;
    group.bench_function(BenchmarkId::new("did_insert_to_diagnostics", routes), |b| {
        b.iter(|| {
            version += 1;
            let (end, typed) = if spaced { (when + 1, "") } else { (when, " ") };
            spaced = !spaced;
            notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": URI, "version": version },
                        "contentChanges": [{ "range": { "start": { "line": line, "character": when },
                                                        "end": { "line": line, "character": end } },
                                             "text": typed }] }),
            );
            loop {
                if let Message::Notification(n) = recv(&client) {
                    if n.method == "textDocument/publishDiagnostics" && n.params["version"] == version {
                        break n;
                    }
                }
            }
        })
    });
    group.bench_function(BenchmarkId::new("check_only", routes), |b| {
        b.iter(|| routerc::check_text("bench.route", &text))
    });
    group.bench_function(BenchmarkId::new("check_and_index", routes), |b| {
        b.iter(|| routerc::ide::Analysis::from_text("bench.route", &text))
    });
    // Queries on the same policy, at its end (the most text before the cursor): what an
    // editor asks while the author types.
    let analysis = routerc::ide::Analysis::from_text("bench.route", &text);
    let file = analysis.root().expect("the text is read");
    let use_of_tokens = text.rfind("tokens >").expect("a use of `tokens`") as u32 + 2;
    let end = text.len() as u32;
    group.bench_function(BenchmarkId::new("completion_at_end", routes), |b| {
        b.iter(|| analysis.completions(file, end))
    });
    group.bench_function(BenchmarkId::new("hover_near_end", routes), |b| {
        b.iter(|| analysis.hover(file, use_of_tokens))
    });
    group.bench_function(BenchmarkId::new("references_near_end", routes), |b| {
        b.iter(|| analysis.references(file, use_of_tokens, true))
    });
    group.finish();

    client
        .sender
        .send(Message::Request(Request::new(
            RequestId::from(2),
            "shutdown".to_string(),
            serde_json::Value::Null,
        )))
        .expect("send");
    notify("exit", serde_json::Value::Null);
    drop(client);
    server.join().expect("server thread").expect("server loop");
}

criterion_group!(benches, bench);
criterion_main!(benches);
