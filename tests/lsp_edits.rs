//! Robustness of the language server under random editing: sequences of incremental edits at
//! random positions (past the end of lines and of the document, between the halves of a
//! surrogate pair, inside multi-byte characters) mixed with every request the server answers.
//!
//! The server runs in memory (the same `serve` loop as `routerc lsp`). Properties:
//! - it never fails a request internally (a panic would surface as an internal error, or as
//!   the server thread disappearing),
//! - its copy of the document stays the one a reference model of the protocol computes: the
//!   diagnostics it publishes after the last edit are those `routerc check` gives the model's
//!   text.

use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use proptest::prelude::*;
use serde_json::{json, Value};

const URI: &str = "file:///robustness/policy.route";

const SEED: &str = "# Politique de routage — 🎉 équipe\n\
signal domain: category(math, law, other) = classifier(\"domain\")\n\
signal role: string = identity.role\n\
backend small { url: \"http://127.0.0.1:8001/v1\", model: \"small\" }\n\
prompt p = \"Réponds en français 😀, s'il te plaît.\"\n\
route r when role == \"ü😀\" and domain == math => small { system_prompt: p }\n\
default => small\n";

/// Text fragments edits insert: tokens of the language, YAML syntax, multi-byte characters,
/// line breaks.
const FRAGMENTS: &[&str] = &[
    "",
    " ",
    "\n",
    "\r\n",
    "é",
    "😀",
    "\u{FEFF}",
    "route",
    "route x when ",
    "domain == ",
    "domain.",
    "=> small",
    "{",
    "}",
    "[",
    "\"",
    "signal s: category(a, b) = classifier(\"c\")\n",
    "and not (",
    "default => small\n",
    "# comment 🎉\n",
    "$",
    // YAML: keys, list items, indentation, a tab (an error in YAML).
    ": ",
    "  ",
    "\t",
    "- ",
    "name: ",
    "          - type: keyword\n            name: ",
    "      - model: ",
    "&a ",
    "*a",
];

#[derive(Clone, Debug)]
enum Op {
    Edit {
        start: (u32, u32),
        end: (u32, u32),
        text: &'static str,
    },
    Request {
        method: &'static str,
        at: (u32, u32),
    },
}

const METHODS: &[&str] = &[
    "textDocument/hover",
    "textDocument/completion",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/documentHighlight",
    "textDocument/prepareRename",
    "textDocument/rename",
    "textDocument/documentSymbol",
    "textDocument/formatting",
    "textDocument/codeAction",
    "textDocument/foldingRange",
];

fn position() -> impl Strategy<Value = (u32, u32)> {
    // Lines and columns beyond the document's, as clients send after a race.
    (0u32..12, 0u32..90)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (position(), position(), prop::sample::select(FRAGMENTS))
            .prop_map(|(start, end, text)| Op::Edit { start, end, text }),
        2 => (prop::sample::select(METHODS), position())
            .prop_map(|(method, at)| Op::Request { method, at }),
    ]
}

/// The protocol's meaning of a position, written independently of the server: lines end at
/// `\n`; a line past the last is the end of the text; a column past the line's end is its
/// end; a column inside a character (UTF-16) is that character's start.
fn model_offset(text: &str, (line, character): (u32, u32)) -> usize {
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[start..];
    let line_text = &line_text[..line_text.find('\n').unwrap_or(line_text.len())];
    let mut units = 0;
    for (i, c) in line_text.char_indices() {
        units += c.len_utf16() as u32;
        if units > character {
            return start + i;
        }
    }
    start + line_text.len()
}

fn lsp_position((line, character): (u32, u32)) -> Value {
    json!({ "line": line, "character": character })
}

struct InMemory {
    client: Connection,
    server: Option<std::thread::JoinHandle<()>>,
    next_id: i32,
    /// Notifications that arrived while waiting for a response.
    pending: std::collections::VecDeque<Notification>,
}

impl InMemory {
    fn start() -> InMemory {
        let (server_side, client) = Connection::memory();
        let server = std::thread::spawn(move || {
            routerc::lsp::serve(&server_side).expect("the server loop ends cleanly");
        });
        let mut s = InMemory {
            client,
            server: Some(server),
            next_id: 0,
            pending: Default::default(),
        };
        s.request("initialize", json!({ "capabilities": {} }));
        s.notify("initialized", json!({}));
        s
    }

    fn notify(&self, method: &str, params: Value) {
        self.client
            .sender
            .send(Message::Notification(Notification::new(
                method.to_string(),
                params,
            )))
            .expect("the server is running");
    }

    fn receive(&self) -> Message {
        // Generous: it only catches a server that stopped answering.
        self.client
            .receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("the server answers")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        self.client
            .sender
            .send(Message::Request(Request::new(
                id.clone(),
                method.to_string(),
                params,
            )))
            .expect("the server is running");
        loop {
            let r = match self.receive() {
                Message::Response(r) => r,
                Message::Notification(n) => {
                    self.pending.push_back(n);
                    continue;
                }
                Message::Request(_) => continue,
            };
            {
                if r.id == id {
                    match r.response_result {
                        Ok(result) => return result,
                        // Refusals (nothing to rename here) are fine; failing is not.
                        Err(e) => {
                            assert_ne!(
                                e.code, -32603,
                                "{method} failed inside the server: {}",
                                e.message
                            );
                            return Value::Null;
                        }
                    }
                }
            }
        }
    }

    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        if let Some(server) = self.server.take() {
            server.join().expect("the server thread did not panic");
        }
    }
}

fn request_params_for(uri: &str, method: &str, at: (u32, u32)) -> Value {
    let doc = json!({ "uri": uri });
    let pos = lsp_position(at);
    match method {
        "textDocument/references" => {
            json!({ "textDocument": doc, "position": pos, "context": { "includeDeclaration": true } })
        }
        "textDocument/rename" => {
            json!({ "textDocument": doc, "position": pos, "newName": "renamed" })
        }
        "textDocument/documentSymbol" | "textDocument/foldingRange" => {
            json!({ "textDocument": doc })
        }
        "textDocument/formatting" => {
            json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } })
        }
        "textDocument/codeAction" => {
            json!({ "textDocument": doc, "range": { "start": pos, "end": pos },
                                              "context": { "diagnostics": [] } })
        }
        _ => json!({ "textDocument": doc, "position": pos }),
    }
}

/// A vLLM config to edit: YAML has its own completion, folding and hover code paths.
const YAML_URI: &str = "file:///robustness/config.yaml";

const YAML_SEED: &str = "# Règles — 🎉\nversion: v0.3\nproviders:\n  defaults:\n    default_model: small\n  models:\n    - name: small\n      backend_refs:\n        - endpoint: 127.0.0.1:8001\nrouting:\n  signals:\n    keywords:\n      - name: code_words\n        keywords: [code, \"fonction 😀\"]\n  decisions:\n    - name: coding\n      rules:\n        operator: OR\n        conditions:\n          - type: keyword\n            name: code_words\n      modelRefs:\n        - model: small\n";

/// Opens `seed` at `uri`, applies the edits and requests, and compares the diagnostics the
/// server publishes for the final text with a fresh check of that text.
fn edit_session(uri: &str, language: &str, seed: &str, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut server = InMemory::start();
    let mut text = seed.to_string();
    server.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": language, "version": 0, "text": text } }),
    );
    let mut version = 0;
    for op in ops {
        match op {
            Op::Edit {
                start,
                end,
                text: insert,
            } => {
                version += 1;
                let a = model_offset(&text, *start);
                let b = model_offset(&text, *end);
                text.replace_range(a.min(b)..a.max(b), insert);
                server.notify(
                    "textDocument/didChange",
                    json!({ "textDocument": { "uri": uri, "version": version },
                            "contentChanges": [{ "range": { "start": lsp_position(*start), "end": lsp_position(*end) },
                                                 "text": insert }] }),
                );
            }
            Op::Request { method, at } => {
                server.request(method, request_params_for(uri, method, *at));
            }
        }
    }
    // A request after the last edit: the queue is then empty and the server publishes the
    // diagnostics of the final text.
    server.request(
        "textDocument/foldingRange",
        request_params_for(uri, "textDocument/foldingRange", (0, 0)),
    );
    let published = loop {
        let n = match server.pending.pop_front() {
            Some(n) => n,
            None => match server.receive() {
                Message::Notification(n) => n,
                _ => continue,
            },
        };
        if n.method == "textDocument/publishDiagnostics" && n.params["version"] == version {
            break n.params["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
    };
    let name = uri.rsplit('/').next().unwrap_or(uri);
    // A YAML file edited into something that is not a policy gets no diagnostics.
    let policy = !name.ends_with(".yaml") || routerc::ide::yaml::is_policy(&text);
    let mut expected: Vec<&str> = Vec::new();
    let (_, checked) = routerc::check_text(name, &text);
    if policy {
        expected = checked
            .diagnostics
            .sorted()
            .iter()
            .map(|d| d.code.id)
            .collect();
    }
    let mut got: Vec<&str> = published
        .iter()
        .map(|d| d["code"].as_str().unwrap_or(""))
        .collect();
    expected.sort_unstable();
    got.sort_unstable();
    prop_assert_eq!(got, expected, "text after the edits: {:?}", text);
    server.stop();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_and_requests(ops in prop::collection::vec(op(), 1..24)) {
        edit_session(URI, "route", SEED, &ops)?;
    }

    #[test]
    fn random_edits_and_requests_on_yaml(ops in prop::collection::vec(op(), 1..24)) {
        edit_session(YAML_URI, "yaml", YAML_SEED, &ops)?;
    }
}
