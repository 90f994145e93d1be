//! End to end: the real `routerc lsp` process, spoken to over stdio JSON-RPC the way an editor
//! does. Every read has a deadline, so a server that stops answering fails the test instead of
//! hanging it. The deadlines are generous: they catch hangs, not slowness.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

const DEADLINE: Duration = Duration::from_secs(30);

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications that arrived while waiting for something else.
    pending: Vec<Value>,
}

/// Reads LSP frames (`Content-Length` header, blank line, JSON body) until the stream ends.
fn read_frames(stdout: impl Read, sender: mpsc::Sender<Value>) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("Content-Length: ") {
                length = v.parse::<usize>().ok();
            }
        }
        let Some(length) = length else { return };
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        match serde_json::from_slice(&body) {
            Ok(v) => {
                if sender.send(v).is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

impl Client {
    fn start() -> Client {
        // `--stdio` as editors' clients pass it.
        let mut child = Command::new(env!("CARGO_BIN_EXE_routerc"))
            .args(["lsp", "--stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("routerc starts");
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || read_frames(stdout, sender));
        Client {
            child,
            stdin,
            incoming,
            next_id: 1,
            pending: Vec::new(),
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn receive(&mut self) -> Value {
        self.incoming
            .recv_timeout(DEADLINE)
            .expect("the server answers within the deadline")
    }

    /// Sends a request and returns its response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
            self.pending.push(message);
        }
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// The result of a request about one position of `doc`.
    fn at(&mut self, method: &str, doc: &Value, position: Value) -> Value {
        self.result(method, json!({ "textDocument": doc, "position": position }))
    }

    /// The Markdown of the hover at `position` in `doc`.
    fn hover_markdown(&mut self, doc: &Value, position: Value) -> String {
        let hover = self.at("textDocument/hover", doc, position);
        hover["contents"]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("no hover text: {hover}"))
            .to_string()
    }

    /// Shuts the server down as an editor does and checks that it exits cleanly.
    fn shut_down(mut self) {
        let shutdown = self.request("shutdown", Value::Null);
        assert!(shutdown.get("error").is_none(), "{shutdown}");
        self.notify("exit", Value::Null);
        drop(self.stdin);
        let status = wait(&mut self.child);
        assert!(status.success(), "routerc lsp exited with {status}");
    }

    /// The next `publishDiagnostics` for `uri` (skipping older ones already queued).
    fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        loop {
            let message = match self.pending.iter().position(|m| {
                m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
            }) {
                Some(i) => self.pending.remove(i),
                None => self.receive(),
            };
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
                && message["params"]["version"] == version
            {
                return message["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }
}

/// The position of the `n`th occurrence of `needle` in `text`, in UTF-16 units as LSP counts.
fn position(text: &str, needle: &str, n: usize) -> Value {
    let offset = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("`{needle}` occurs {} times", n + 1))
        .0;
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..offset].matches('\n').count();
    let character = text[line_start..offset].encode_utf16().count();
    json!({ "line": line, "character": character })
}

const POLICY: &str = "# Routing for the 🎉 team — über alles\n\
signal domain: category(math, law, other) = classifier(\"domain\")\n\
signal role: string = identity.role\n\
backend small { url: \"http://127.0.0.1:8001/v1\", model: \"small\" }\n\
backend large {url:\"http://127.0.0.1:8002/v1\",model:\"large\"}\n\
route maths when role == \"😀 ops\" and domian == math => large\n\
default => small\n";

#[test]
fn an_editing_session_over_stdio() {
    let mut client = Client::start();
    let dir = std::env::temp_dir().join(format!("routerc-lsp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let uri = format!("file://{}/policy.route", dir.display());
    let doc = json!({ "uri": uri });

    let init = client.result(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    let caps = &init["capabilities"];
    assert_eq!(caps["textDocumentSync"], 2, "incremental sync");
    for cap in [
        "hoverProvider",
        "completionProvider",
        "definitionProvider",
        "referencesProvider",
        "documentHighlightProvider",
        "renameProvider",
        "documentSymbolProvider",
        "documentFormattingProvider",
        "codeActionProvider",
        "foldingRangeProvider",
    ] {
        assert!(!caps[cap].is_null(), "{cap} is announced");
    }
    client.notify("initialized", json!({}));

    // Open: the typo is reported with its code, at the right UTF-16 columns (the line holds
    // an emoji, two UTF-16 units and four bytes, before it).
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "route", "version": 1, "text": POLICY } }),
    );
    let diagnostics = client.diagnostics(&uri, 1);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let typo = &diagnostics[0];
    assert_eq!(typo["code"], "E0201");
    assert_eq!(typo["severity"], 1);
    assert_eq!(typo["range"]["start"], position(POLICY, "domian", 0));
    assert!(typo["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `domain`?"));

    // The did-you-mean is a quick fix.
    let actions = client.result(
        "textDocument/codeAction",
        json!({ "textDocument": doc, "range": typo["range"], "context": { "diagnostics": [] } }),
    );
    let fix = &actions[0];
    assert_eq!(fix["kind"], "quickfix");
    let edit = &fix["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "domain");
    assert_eq!(edit["range"], typo["range"]);

    // Apply it as an incremental change: the policy is now clean.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 },
                "contentChanges": [{ "range": typo["range"], "text": "domain" }] }),
    );
    let text = POLICY.replacen("domian", "domain", 1);
    assert_eq!(client.diagnostics(&uri, 2), Vec::<Value>::new());

    // Hover on the fixed use shows the signal's declaration.
    let markdown = client.hover_markdown(&doc, position(&text, "domain ==", 0));
    assert!(
        markdown.contains("signal domain: category(math, law, other)"),
        "{markdown}"
    );

    // Definition of the use is the declaration on line 2.
    let definition = client.at(
        "textDocument/definition",
        &doc,
        position(&text, "domain ==", 0),
    );
    assert_eq!(definition["uri"], uri);
    assert_eq!(
        definition["range"]["start"],
        json!({ "line": 1, "character": 7 })
    );

    // Both places `domain` is written are highlighted, the declaration as a write.
    let highlights = client.at(
        "textDocument/documentHighlight",
        &doc,
        position(&text, "domain ==", 0),
    );
    let kinds: Vec<&Value> = highlights
        .as_array()
        .unwrap()
        .iter()
        .map(|h| &h["kind"])
        .collect();
    assert_eq!(kinds, [&json!(3), &json!(2)], "{highlights}");

    // Formatting gives the text `routerc fmt` writes.
    let edits = client.result(
        "textDocument/formatting",
        json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let edits = edits.as_array().unwrap();
    assert_eq!(edits.len(), 1);
    let formatted = routerc::fmt::format_source(&text).expect("the policy formats");
    assert_eq!(edits[0]["newText"], formatted.as_str());
    assert_eq!(
        edits[0]["range"]["start"],
        json!({ "line": 0, "character": 0 })
    );

    // Type a new route at the end, in two keystroke-sized changes, and complete labels.
    let end = position(&text, "default => small\n", 0);
    let end_line = end["line"].as_u64().unwrap() + 1;
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 },
                "contentChanges": [
                    { "range": { "start": { "line": end_line, "character": 0 }, "end": { "line": end_line, "character": 0 } }, "text": "route legal when domain" },
                    { "range": { "start": { "line": end_line, "character": 23 }, "end": { "line": end_line, "character": 23 } }, "text": " == " }
                ] }),
    );
    let completion = client.at(
        "textDocument/completion",
        &doc,
        json!({ "line": end_line, "character": 27 }),
    );
    let labels: Vec<&str> = completion
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["math", "law", "other"]);
    // The unfinished route is a syntax error, reported as the author types.
    let diagnostics = client.diagnostics(&uri, 3);
    assert!(
        diagnostics.iter().any(|d| d["severity"] == 1),
        "{diagnostics:?}"
    );

    // A file changed on disk: the open policy is checked again and published again.
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": format!("file://{}/other.route", dir.display()), "type": 2 }] }),
    );
    client.diagnostics(&uri, 3);

    // A request for an unknown method fails politely; the server carries on.
    let unknown = client.request("textDocument/unknownThing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);

    client.shut_down();
    let _ = std::fs::remove_dir_all(&dir);
}

const VSR_CONFIG: &str = r#"version: v0.3
providers:
  defaults:
    default_model: small
  models:
    - name: small
      backend_refs:
        - endpoint: 127.0.0.1:8001
routing:
  signals:
    keywords:
      - name: code_words
        keywords: [code, function]
  decisions:
    - name: coding
      priority: 10
      rules:
        operator: OR
        conditions:
          - type: keyword
            name: code_wrods
      modelRefs:
        - model: small
"#;

/// YAML policies in the editor: a vLLM config gets the checker's diagnostics at YAML
/// positions, hover shows a declaration as routerc reads it, completion offers the family's
/// signals, and a YAML file that is not a policy (a compose file) gets nothing at all.
#[test]
fn yaml_policies_over_stdio() {
    let mut client = Client::start();
    let dir = std::env::temp_dir().join(format!("routerc-lsp-yaml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let uri = format!("file://{}/config.yaml", dir.display());
    let doc = json!({ "uri": uri });
    client.result(
        "initialize",
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
    );
    client.notify("initialized", json!({}));

    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "yaml", "version": 1, "text": VSR_CONFIG } }),
    );
    let diagnostics = client.diagnostics(&uri, 1);
    let typo = diagnostics
        .iter()
        .find(|d| d["code"] == "E0201")
        .unwrap_or_else(|| panic!("{diagnostics:?}"));
    assert_eq!(
        typo["range"]["start"],
        position(VSR_CONFIG, "code_wrods", 0)
    );
    assert!(typo["message"].as_str().unwrap().contains("code_wrods"));

    // Fix the typo; hover on the rule's signal shows its `.route` declaration.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 },
                "contentChanges": [{ "range": typo["range"], "text": "code_words" }] }),
    );
    let text = VSR_CONFIG.replacen("code_wrods", "code_words", 1);
    let left: Vec<Value> = client
        .diagnostics(&uri, 2)
        .into_iter()
        .filter(|d| d["severity"] == 1)
        .collect();
    assert_eq!(left, Vec::<Value>::new());
    let markdown = client.hover_markdown(&doc, position(&text, "code_words", 1));
    assert!(
        markdown.contains("signal code_words: bool = keyword(\"code\", \"function\")"),
        "{markdown}"
    );

    // Definition of the rule's name is the signal's entry.
    let definition = client.at(
        "textDocument/definition",
        &doc,
        position(&text, "code_words", 1),
    );
    assert_eq!(
        definition["range"]["start"],
        position(&text, "code_words", 0)
    );

    // A condition's name completes to the keyword signals; nothing offers to format YAML.
    let at = position(&text, "code_words", 1);
    let completion = client.at("textDocument/completion", &doc, at);
    let labels: Vec<&str> = completion
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["code_words"]);
    let edits = client.result(
        "textDocument/formatting",
        json!({ "textDocument": doc, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits, json!([]));

    // A compose file: empty diagnostics, and `null` for every question about it.
    let compose_uri = format!("file://{}/compose.yaml", dir.display());
    let compose = "version: \"3\"\nservices:\n  web:\n    image: nginx\n";
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": compose_uri, "languageId": "yaml", "version": 1, "text": compose } }),
    );
    assert_eq!(client.diagnostics(&compose_uri, 1), Vec::<Value>::new());
    for method in [
        "textDocument/hover",
        "textDocument/completion",
        "textDocument/definition",
    ] {
        let answer = client.result(
            method,
            json!({ "textDocument": { "uri": compose_uri }, "position": { "line": 1, "character": 3 } }),
        );
        assert_eq!(answer, Value::Null, "{method}");
    }

    client.shut_down();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Waits for the process to end, killing it if it does not within the deadline.
fn wait(child: &mut Child) -> std::process::ExitStatus {
    let step = Duration::from_millis(20);
    let mut waited = Duration::ZERO;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if waited >= DEADLINE {
            let _ = child.kill();
            panic!("routerc lsp did not exit after `exit`");
        }
        std::thread::sleep(step);
        waited += step;
    }
}
