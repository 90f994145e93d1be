//! Drives the real language-server loop (`routerc::lsp::serve`, in memory) with a document
//! and a sequence of incremental edits and requests decoded from the input: positions past the
//! end of lines and of the document, inside multi-byte characters and between surrogate
//! halves, edits that insert arbitrary text. Nothing may panic (libFuzzer aborts on any panic,
//! including one the server would otherwise turn into an error response), hang or fail a
//! request internally.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{json, Value};

const URI: &str = "file:///fuzz/policy.route";
/// The same loop on a YAML document: its completion, folding and hover read the text
/// themselves, and a YAML file may stop (or start) being a policy with an edit.
const YAML_URI: &str = "file:///fuzz/config.yaml";

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

struct Client {
    connection: Connection,
    next_id: i32,
}

impl Client {
    fn notify(&self, method: &str, params: Value) {
        let n = Notification::new(method.to_string(), params);
        self.connection
            .sender
            .send(Message::Notification(n))
            .expect("server running");
    }

    fn request(&mut self, method: &str, params: Value) {
        self.next_id += 1;
        let id = RequestId::from(self.next_id);
        let r = Request::new(id.clone(), method.to_string(), params);
        self.connection
            .sender
            .send(Message::Request(r))
            .expect("server running");
        loop {
            match self.connection.receiver.recv().expect("server answers") {
                Message::Response(r) if r.id == id => {
                    if let Err(e) = r.response_result {
                        assert_ne!(e.code, -32603, "{method}: {}", e.message);
                    }
                    return;
                }
                _ => {}
            }
        }
    }
}

fn position(line: u8, character: u8) -> Value {
    // Lines up to 15 (documents are short), columns up to 255: both reach past the end.
    json!({ "line": line % 16, "character": character })
}

fn params(uri: &str, method: &str, at: Value) -> Value {
    let doc = json!({ "uri": uri });
    match method {
        "textDocument/references" => json!({ "textDocument": doc, "position": at,
                                             "context": { "includeDeclaration": true } }),
        "textDocument/rename" => json!({ "textDocument": doc, "position": at, "newName": "r2" }),
        "textDocument/documentSymbol" | "textDocument/foldingRange" => {
            json!({ "textDocument": doc })
        }
        "textDocument/formatting" => json!({ "textDocument": doc,
                                             "options": { "tabSize": 2, "insertSpaces": true } }),
        "textDocument/codeAction" => {
            json!({ "textDocument": doc, "range": { "start": at, "end": at },
                                             "context": { "diagnostics": [] } })
        }
        _ => json!({ "textDocument": doc, "position": at }),
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte says whether the document is YAML (its low bit) and how much of the
    // input is the initial document; the rest is a sequence of operations, each a header of
    // six bytes and, for an edit, inserted text.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let uri = if split & 1 == 1 { YAML_URI } else { URI };
    let language = if split & 1 == 1 { "yaml" } else { "route" };
    let split = ((split >> 1) as usize * 8).min(rest.len());
    let (initial, mut ops) = rest.split_at(split);

    let (server_side, connection) = Connection::memory();
    let server = std::thread::spawn(move || routerc::lsp::serve(&server_side).is_ok());
    let mut client = Client {
        connection,
        next_id: 0,
    };
    client.request("initialize", json!({ "capabilities": {} }));
    client.notify("initialized", json!({}));
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": language, "version": 0,
                                  "text": String::from_utf8_lossy(initial) } }),
    );
    let mut version = 0;
    while ops.len() >= 6 {
        let (h, tail) = ops.split_at(6);
        ops = tail;
        if h[0] % 3 == 0 {
            client.request(
                METHODS[h[1] as usize % METHODS.len()],
                params(uri, METHODS[h[1] as usize % METHODS.len()], position(h[2], h[3])),
            );
        } else {
            let len = (h[5] as usize % 16).min(ops.len());
            let (text, tail) = ops.split_at(len);
            ops = tail;
            version += 1;
            client.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": uri, "version": version },
                        "contentChanges": [{ "range": { "start": position(h[1], h[2]),
                                                        "end": position(h[3], h[4]) },
                                             "text": String::from_utf8_lossy(text) }] }),
            );
        }
    }
    client.request(
        "textDocument/foldingRange",
        params(uri, "textDocument/foldingRange", Value::Null),
    );
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    drop(client);
    assert!(server.join().expect("the server thread did not panic"));
});
