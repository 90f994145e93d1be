//! Incremental reparsing against the whole-file path, after every edit of a random typing
//! session on the policies under tests/check/ok, examples/ and policies/:
//! - `syntax::incremental::reparse`, whenever it applies, gives exactly the parse of the new
//!   text (every item and span, comments, declared names), and it does apply to most edits;
//! - the language server, which reparses only the declaration an edit touched and reuses the
//!   lints' results of unchanged routes, publishes after each `didChange` exactly the
//!   diagnostics (codes, messages, ranges, related information) that it publishes for the
//!   same text opened afresh.
//!
//! Edits are seeded and shaped like typing: characters and words inserted, a few characters
//! deleted or replaced, line breaks, quotes and braces that break the syntax for a while.

use std::path::PathBuf;
use std::time::Duration;

use lsp_server::{Connection, Message, Notification, Request, RequestId};
use routerc::syntax::incremental::{reparse, TextEdit};
use routerc::syntax::{parse, FileId, Parsed};
use serde_json::{json, Value};

#[path = "support/gen.rs"]
mod gen;
use gen::Rng;

const FRAGMENTS: &[&str] = &[
    "a",
    "x",
    "_",
    "1",
    "5",
    "0.",
    " ",
    "  ",
    "\n",
    "and ",
    "or ",
    "not ",
    "==",
    "> 0.5",
    ",",
    "\"",
    "{",
    "}",
    "(",
    ")",
    "#",
    "é",
    "😀",
    "route",
    "priority 5 ",
    "math",
    "domain",
    "=> ",
];

fn policies() -> Vec<(PathBuf, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for dir in ["tests/check/ok", "examples", "policies"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .expect("the folder exists")
            .map(|e| e.expect("a readable entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "route"))
            .collect();
        paths.sort();
        for p in paths {
            let text = std::fs::read_to_string(&p).expect("a readable policy");
            found.push((p, text));
        }
    }
    assert!(found.len() >= 20, "the policies under tests/ are found");
    found
}

/// A character boundary of `text` near `at`.
fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// One random edit of `text`: the replaced byte range and the new text.
fn random_edit(rng: &mut Rng, text: &str) -> (usize, usize, &'static str) {
    let start = boundary(text, rng.below(text.len() + 1));
    let kind = rng.below(10);
    let (end, insert) = match kind {
        // Typing: insert a fragment.
        0..=5 => (start, *rng.pick(FRAGMENTS)),
        // Backspace: delete one to four characters.
        6..=7 => {
            let mut end = start;
            for _ in 0..=rng.below(4) {
                end = boundary(text, end + 1);
                while end < text.len() && !text.is_char_boundary(end) {
                    end += 1;
                }
            }
            (end, "")
        }
        // Retype one character.
        _ => {
            let mut end = (start + 1).min(text.len());
            while end < text.len() && !text.is_char_boundary(end) {
                end += 1;
            }
            (end, *rng.pick(FRAGMENTS))
        }
    };
    (start, end.max(start), insert)
}

fn same_parse(a: &Parsed, b: &Parsed) -> bool {
    a.file == b.file
        && a.comments == b.comments
        && a.declared == b.declared
        && a.diagnostics.is_empty()
        && b.diagnostics.is_empty()
}

#[test]
fn reparsing_one_declaration_equals_parsing_the_file() {
    let mut rng = Rng::new(2);
    // Edits from a text that parsed cleanly to one that parses cleanly: the ones reparsing
    // is for.
    let (mut applied, mut clean) = (0, 0);
    for (path, original) in policies() {
        let mut text = original.clone();
        let mut current = parse(&text, FileId(0));
        for step in 0..150 {
            // Start again from the original now and then, so most edits land on a policy that
            // parses (reparsing applies only to those).
            if step % 25 == 0 {
                text = original.clone();
                current = parse(&text, FileId(0));
            }
            let (start, end, insert) = random_edit(&mut rng, &text);
            let old_len = text.len();
            text.replace_range(start..end, insert);
            let full = parse(&text, FileId(0));
            if current.diagnostics.is_empty() && full.diagnostics.is_empty() {
                clean += 1;
            }
            let edit = TextEdit {
                start,
                end,
                text: insert,
            };
            current = match reparse(current, old_len, &text, &edit) {
                Ok(incremental) => {
                    applied += 1;
                    assert!(
                        same_parse(&incremental, &full),
                        "{}: reparsing after replacing {start}..{end} with {insert:?} differs from parsing:\n{text}",
                        path.display()
                    );
                    incremental
                }
                Err(_) => full,
            };
        }
    }
    // Most such edits stay inside one declaration; if reparsing stopped applying, the
    // language server would silently be back to parsing whole files.
    assert!(
        applied * 10 >= clean * 8,
        "reparsing applied to only {applied} of {clean} edits between clean parses"
    );
}

const URI: &str = "file:///incremental/policy.route";

struct Server {
    client: Connection,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(text: &str) -> Server {
        let (server_side, client) = Connection::memory();
        let thread = std::thread::spawn(move || {
            routerc::lsp::serve(&server_side).expect("the server loop ends cleanly");
        });
        let s = Server {
            client,
            thread: Some(thread),
        };
        s.send(Message::Request(Request::new(
            RequestId::from(1),
            "initialize".to_string(),
            json!({ "capabilities": {} }),
        )));
        while !matches!(s.receive(), Message::Response(_)) {}
        s.notify("initialized", json!({}));
        s.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": URI, "languageId": "route", "version": 0, "text": text } }),
        );
        s
    }

    fn send(&self, m: Message) {
        self.client.sender.send(m).expect("the server is running");
    }

    fn notify(&self, method: &str, params: Value) {
        self.send(Message::Notification(Notification::new(
            method.to_string(),
            params,
        )));
    }

    fn receive(&self) -> Message {
        self.client
            .receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("the server answers")
    }

    fn diagnostics(&self, version: i32) -> Value {
        loop {
            if let Message::Notification(n) = self.receive() {
                if n.method == "textDocument/publishDiagnostics" && n.params["version"] == version {
                    return n.params["diagnostics"].clone();
                }
            }
        }
    }

    fn stop(mut self) {
        self.send(Message::Request(Request::new(
            RequestId::from(2),
            "shutdown".to_string(),
            Value::Null,
        )));
        self.notify("exit", Value::Null);
        if let Some(t) = self.thread.take() {
            t.join().expect("the server thread did not panic");
        }
    }
}

/// The LSP position of a byte offset (UTF-16 columns).
fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": character })
}

#[test]
fn server_diagnostics_after_each_keystroke_equal_a_full_check() {
    let mut rng = Rng::new(8);
    let all = policies();
    // The larger policies, where declarations are many and an edit has neighbours.
    let mut chosen: Vec<&(PathBuf, String)> = all.iter().collect();
    chosen.sort_by_key(|(_, t)| std::cmp::Reverse(t.len()));
    for (path, original) in chosen.into_iter().take(6) {
        let incremental = Server::start(original);
        let whole = Server::start(original);
        incremental.diagnostics(0);
        whole.diagnostics(0);
        let mut text = original.clone();
        for version in 1..=60 {
            let (start, end, insert) = random_edit(&mut rng, &text);
            let range = json!({ "start": position(&text, start), "end": position(&text, end) });
            text.replace_range(start..end, insert);
            incremental.notify(
                "textDocument/didChange",
                json!({ "textDocument": { "uri": URI, "version": version },
                        "contentChanges": [{ "range": range, "text": insert }] }),
            );
            // Closed and opened again: a document with nothing kept from earlier versions.
            whole.notify(
                "textDocument/didClose",
                json!({ "textDocument": { "uri": URI } }),
            );
            whole.notify(
                "textDocument/didOpen",
                json!({ "textDocument": { "uri": URI, "languageId": "route", "version": version, "text": text } }),
            );
            let got = incremental.diagnostics(version);
            let expected = whole.diagnostics(version);
            assert_eq!(
                got,
                expected,
                "{}: diagnostics after replacing {start}..{end} with {insert:?} differ from a full check of:\n{text}",
                path.display()
            );
            if version % 20 == 0 {
                text = original.clone();
                let params = json!({ "textDocument": { "uri": URI, "version": version + 1000 },
                                     "contentChanges": [{ "text": text }] });
                incremental.notify("textDocument/didChange", params.clone());
                whole.notify("textDocument/didChange", params);
                incremental.diagnostics(version + 1000);
                whole.diagnostics(version + 1000);
            }
        }
        incremental.stop();
        whole.stop();
    }
}
