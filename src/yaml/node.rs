//! Step one of the YAML frontend: text to a tree of YAML nodes, each with its byte span.
//!
//! The events come from `saphyr-parser`, a streaming YAML 1.2 parser that keeps a position for
//! every event and uses explicit stacks (no recursion), so deep input cannot overflow the
//! stack. This module builds the tree with its own explicit stack and enforces the limits that
//! make hostile input cheap to refuse: the file size, the nesting depth, the number of nodes
//! after expanding aliases (which stops "billion laughs"), one document per file, and unique
//! keys. Plain scalars are typed by the YAML 1.2 core schema (`true`, `12`, `0.5`, `null`);
//! quoted scalars are always strings.
//!
//! It knows nothing of policies: [`super::routerc`] and [`super::vsr`] give the tree meaning.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::diagnostic::{codes, Diagnostic};
use crate::syntax::{FileId, Span};

/// Largest YAML policy read, in bytes. Real configs are a few hundred kilobytes.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Deepest nesting of mappings and lists.
pub const MAX_DEPTH: usize = 64;
/// Most nodes in a document, counting every copy an alias makes.
pub const MAX_NODES: usize = 200_000;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string; `plain` when it was written without quotes (the routerc form reads a plain
    /// identifier as a name, a quoted one as a string, like the `.route` syntax).
    Str {
        value: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    /// What the value is, for messages: "a mapping", "a string".
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str { .. } => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The entry for `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// How many nodes this subtree holds (itself included).
    fn size(&self) -> usize {
        let mut n = 0;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            n += 1;
            match &node.value {
                Value::Seq(items) => stack.extend(items.iter()),
                Value::Map(entries) => stack.extend(entries.iter().map(|e| &e.value)),
                _ => {}
            }
        }
        n
    }
}

/// Converts the parser's character indices into byte offsets. The parser reports positions
/// almost always in increasing order, so a lookup walks forward from the previous one (linear
/// over the file in total); a checkpoint every [`Offsets::STEP`] characters bounds the walk for
/// the few that go backwards.
struct Offsets<'a> {
    text: &'a str,
    checkpoints: Vec<usize>,
    /// The last lookup: (character index, byte offset).
    last: std::cell::Cell<(usize, usize)>,
}

impl<'a> Offsets<'a> {
    const STEP: usize = 1024;

    fn new(text: &'a str) -> Offsets<'a> {
        let checkpoints = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .step_by(Self::STEP)
                .map(|(b, _)| b)
                .collect()
        };
        Offsets {
            text,
            checkpoints,
            last: std::cell::Cell::new((0, 0)),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.checkpoints.is_empty() {
            return char_index.min(self.text.len());
        }
        let (last_char, last_byte) = self.last.get();
        let (from_char, from_byte) = if char_index >= last_char {
            (last_char, last_byte)
        } else {
            let slot = (char_index / Self::STEP).min(self.checkpoints.len() - 1);
            (slot * Self::STEP, self.checkpoints[slot])
        };
        let byte = Self::walk(&self.text.as_bytes()[from_byte..], char_index - from_char)
            .map_or(self.text.len(), |b| from_byte + b);
        self.last.set((char_index, byte));
        byte
    }

    /// Byte offset of the `n`th character of `bytes` (UTF-8 starting on a boundary).
    fn walk(bytes: &[u8], n: usize) -> Option<usize> {
        let mut seen = 0;
        for (i, &b) in bytes.iter().enumerate() {
            // Continuation bytes (0b10xxxxxx) do not start a character.
            if b & 0xC0 != 0x80 {
                if seen == n {
                    return Some(i);
                }
                seen += 1;
            }
        }
        None
    }
}

/// A collection being built.
enum Open {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<Entry>,
        /// The key read, waiting for its value.
        key: Option<(String, Span)>,
        seen: HashMap<String, Span>,
        start: usize,
        anchor: usize,
    },
}

/// Reads one YAML document. Returns the root node, or `None` with at least one error
/// diagnostic when the text is not a YAML document within the limits.
pub fn load(text: &str, file: FileId) -> (Option<Node>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    if text.len() > MAX_BYTES {
        diagnostics.push(
            Diagnostic::new(
                &codes::E0402,
                Span::new(file, 0, 0),
                format!(
                    "the YAML file is {} bytes; the limit is {MAX_BYTES}",
                    text.len()
                ),
            )
            .with_label("file too large")
            .with_help("split the policy, or move data such as example sentences to files"),
        );
        return (None, diagnostics);
    }
    let offsets = Offsets::new(text);
    let span = |s: saphyr_parser::Span| {
        Span::new(
            file,
            offsets.byte(s.start.index()),
            offsets.byte(s.end.index()),
        )
    };
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut nodes = 0usize;
    let mut root: Option<Node> = None;
    let mut documents = 0;

    while let Some(event) = parser.next_event() {
        let (event, at) = match event {
            Ok(e) => e,
            Err(e) => {
                let pos = offsets.byte(e.marker().index());
                diagnostics.push(scan_error(e.info(), Span::new(file, pos, pos), text));
                return (None, diagnostics);
            }
        };
        let at_span = span(at);
        // A finished node, to be placed in its parent.
        let done: Node = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => continue,
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    diagnostics.push(
                        Diagnostic::new(&codes::E0402, at_span, "a YAML policy holds one document")
                            .with_label("a second document starts here")
                            .with_help("put each policy in its own file"),
                    );
                    return (None, diagnostics);
                }
                continue;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    diagnostics.push(
                        Diagnostic::new(
                            &codes::E0403,
                            at_span,
                            format!("YAML nests more than {MAX_DEPTH} levels deep"),
                        )
                        .with_label("this collection is one level too deep")
                        .with_help("a policy never needs this depth; flatten the document"),
                    );
                    return (None, diagnostics);
                }
                nodes += 1;
                let start = at_span.start as usize;
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Open::Seq {
                        items: Vec::new(),
                        start,
                        anchor,
                    }
                } else {
                    Open::Map {
                        entries: Vec::new(),
                        key: None,
                        seen: HashMap::new(),
                        start,
                        anchor,
                    }
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = stack.pop() else { continue };
                // A flow collection ends at its `]` or `}`; a block one at its last child (the
                // parser marks the end of a block at the next token, lines later).
                let closes = matches!(
                    text.as_bytes().get(at_span.start as usize),
                    Some(b']' | b'}')
                );
                let last_child = match &open {
                    Open::Seq { items, .. } => items.last().map(|n| n.span.end as usize),
                    Open::Map { entries, .. } => entries.last().map(|e| e.value.span.end as usize),
                };
                let end = match (closes, last_child) {
                    (false, Some(child)) => child,
                    _ => at_span.end as usize,
                };
                let (value, start, anchor) = match open {
                    Open::Seq {
                        items,
                        start,
                        anchor,
                    } => (Value::Seq(items), start, anchor),
                    Open::Map {
                        entries,
                        start,
                        anchor,
                        ..
                    } => (Value::Map(entries), start, anchor),
                };
                let node = Node {
                    value,
                    span: Span::new(file, start, end.max(start)),
                };
                if anchor > 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }
            Event::Scalar(value, style, anchor, _tag) => {
                nodes += 1;
                let node = Node {
                    value: scalar(value, style),
                    span: at_span,
                };
                if anchor > 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }
            Event::Alias(id) => {
                let Some(target) = anchors.get(&id) else {
                    // The parser rejects unknown aliases itself, so the anchor is on a
                    // collection still open around this alias: a recursive alias.
                    diagnostics.push(
                        Diagnostic::new(
                            &codes::E0402,
                            at_span,
                            "an alias refers to a collection that contains it",
                        )
                        .with_label("this alias would repeat forever")
                        .with_help(
                            "a recursive document has no finite value; write the values out",
                        ),
                    );
                    return (None, diagnostics);
                };
                nodes += target.size();
                if nodes > MAX_NODES {
                    diagnostics.push(too_many_nodes(at_span, true));
                    return (None, diagnostics);
                }
                Node {
                    value: target.value.clone(),
                    span: at_span,
                }
            }
        };
        if nodes > MAX_NODES {
            diagnostics.push(too_many_nodes(done.span, false));
            return (None, diagnostics);
        }
        match stack.last_mut() {
            None => root = Some(done),
            Some(Open::Seq { items, .. }) => items.push(done),
            Some(Open::Map {
                entries, key, seen, ..
            }) => match key.take() {
                None => match &done.value {
                    Value::Str { value, .. } => *key = Some((value.clone(), done.span)),
                    Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Null => {
                        let raw = text.get(done.span.range()).unwrap_or_default().to_string();
                        *key = Some((raw, done.span));
                    }
                    _ => {
                        diagnostics.push(
                            Diagnostic::new(
                                &codes::E0406,
                                done.span,
                                format!("a mapping key must be a string, not {}", done.kind()),
                            )
                            .with_label("complex key"),
                        );
                        return (None, diagnostics);
                    }
                },
                Some((k, key_span)) => {
                    if let Some(first) = seen.get(&k) {
                        diagnostics.push(
                            Diagnostic::new(
                                &codes::E0404,
                                key_span,
                                format!("duplicate key `{k}`"),
                            )
                            .with_label("this key is already set in this mapping")
                            .with_related(*first, "first set here")
                            .with_help("remove one of them"),
                        );
                    } else {
                        seen.insert(k.clone(), key_span);
                        entries.push(Entry {
                            key: k,
                            key_span,
                            value: done,
                        });
                    }
                }
            },
        }
    }
    let root = root.unwrap_or(Node {
        value: Value::Null,
        span: Span::new(file, 0, 0),
    });
    if diagnostics.is_empty() {
        (Some(root), diagnostics)
    } else {
        (None, diagnostics)
    }
}

fn too_many_nodes(span: Span, alias: bool) -> Diagnostic {
    let d = Diagnostic::new(
        &codes::E0402,
        span,
        format!("the YAML document has more than {MAX_NODES} nodes"),
    );
    if alias {
        d.with_label("expanding this alias goes over the limit")
            .with_help("aliases that copy aliases grow exponentially (a \"billion laughs\"); write the values out")
    } else {
        d.with_label("the limit is reached here")
            .with_help("split the policy into smaller files")
    }
}

/// A parser error, rephrased in the house style, with hints for the usual causes.
fn scan_error(info: &str, span: Span, text: &str) -> Diagnostic {
    let info = info.trim_end_matches('.');
    let line_start = text[..(span.start as usize).min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    // The parser often reports a tab at the start of the token before it: look at this line
    // and the next for the tab itself.
    let next_end = text[line_end.min(text.len())..]
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '\n')
        .map_or(text.len(), |(i, _)| line_end + i);
    let tab = text[line_start..next_end.max(line_start)]
        .find('\t')
        .map(|i| line_start + i);
    if info.contains("recursion limit") {
        // The parser's own bound on `[` / `{` nesting, met while it looks ahead.
        return Diagnostic::new(&codes::E0403, span, "YAML nests too deeply")
            .with_label("flow collections (`[`, `{`) nest too deeply here")
            .with_help("a policy never needs this depth; flatten the document");
    }
    match tab {
        Some(at) if info.contains("tab") => Diagnostic::new(
            &codes::E0401,
            Span::new(span.file, at, at + 1),
            "invalid YAML: a tab where YAML needs spaces",
        )
        .with_label("this tab")
        .with_help("YAML indents with spaces only; replace the tab with spaces"),
        _ => Diagnostic::new(&codes::E0401, span, format!("invalid YAML: {info}"))
            .with_label("the YAML parser stopped here"),
    }
}

/// Types a scalar by the YAML 1.2 core schema; quoted and block scalars are strings.
fn scalar(value: Cow<'_, str>, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::Str {
            value: value.into_owned(),
            plain: false,
        };
    }
    let v = value.as_ref();
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = v.parse::<i64>() {
            return Value::Int(i);
        }
    }
    if let Some(hex) = v.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    }
    if let Some(oct) = v.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Value::Int(i);
        }
    }
    if is_float(v) {
        if let Ok(f) = v.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str {
        value: value.into_owned(),
        plain: true,
    }
}

/// `[-+]? ( . digits | digits [ . digits? ] ) ( [eE] [-+]? digits )?`: the core schema's float.
fn is_float(v: &str) -> bool {
    let b = v.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i > int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits |= i > frac;
    }
    if !digits {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let exp = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_ok(text: &str) -> Node {
        let (node, d) = load(text, FileId(0));
        assert!(d.is_empty(), "{d:?}");
        node.unwrap()
    }

    fn codes_of(text: &str) -> Vec<&'static str> {
        load(text, FileId(0)).1.iter().map(|d| d.code.id).collect()
    }

    #[test]
    fn scalars_are_typed_by_the_core_schema() {
        let n = load_ok("a: 1\nb: -2.5\nc: true\nd: ~\ne: '1'\nf: x y\ng: 1e3\nh: 0x1F\n");
        let get = |k: &str| n.get(k).unwrap().value.clone();
        assert_eq!(get("a"), Value::Int(1));
        assert_eq!(get("b"), Value::Float(-2.5));
        assert_eq!(get("c"), Value::Bool(true));
        assert_eq!(get("d"), Value::Null);
        assert_eq!(
            get("e"),
            Value::Str {
                value: "1".into(),
                plain: false
            }
        );
        assert_eq!(
            get("f"),
            Value::Str {
                value: "x y".into(),
                plain: true
            }
        );
        assert_eq!(get("g"), Value::Float(1000.0));
        assert_eq!(get("h"), Value::Int(31));
    }

    #[test]
    fn spans_are_byte_offsets_even_after_multibyte_text() {
        let text = "a: \"ünïcødé\"\nbee: 42\n";
        let n = load_ok(text);
        let entry = &n.as_map().unwrap()[1];
        assert_eq!(&text[entry.key_span.range()], "bee");
        assert_eq!(&text[entry.value.span.range()], "42");
        let quoted = n.get("a").unwrap().span;
        assert_eq!(&text[quoted.range()], "\"ünïcødé\"");
    }

    #[test]
    fn long_non_ascii_files_map_offsets_past_checkpoints() {
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&format!("k{i}: \"é{i}\"\n"));
        }
        let n = load_ok(&text);
        let last = n.as_map().unwrap().last().unwrap();
        assert_eq!(&text[last.key_span.range()], "k2999");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        assert_eq!(codes_of("a: 1\nb: 2\na: 3\n"), ["E0404"]);
    }

    #[test]
    fn limits() {
        assert_eq!(codes_of(&"[".repeat(100)), ["E0403"]);
        let deep_block: String = (0..100).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert_eq!(codes_of(&deep_block), ["E0403"]);
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
        assert_eq!(codes_of(bomb), ["E0402"]);
        assert_eq!(codes_of("a: 1\n---\nb: 2\n"), ["E0402"]);
        assert_eq!(codes_of("a:\n\tb: 1\n"), ["E0401"]);
    }

    #[test]
    fn recursive_aliases_are_errors() {
        assert_eq!(codes_of("a: &a [1, *a]\n"), ["E0402"]);
        assert_eq!(codes_of("a: &a {b: *a}\n"), ["E0402"]);
    }

    #[test]
    fn small_aliases_are_copied() {
        let n = load_ok("a: &x [1, 2]\nb: *x\n");
        assert_eq!(n.get("a").unwrap().value, n.get("b").unwrap().value);
    }

    #[test]
    fn character_indices_become_byte_offsets_in_any_order() {
        let text = "é: ü\n".repeat(700) + "Ω";
        let offsets = Offsets::new(&text);
        let naive = |c: usize| text.char_indices().nth(c).map_or(text.len(), |(b, _)| b);
        let chars = text.chars().count();
        // Forwards, backwards across checkpoints, and past the end.
        let order = (0..=chars + 2)
            .step_by(7)
            .chain((0..chars).rev().step_by(301))
            .chain([5, chars, 3]);
        for c in order {
            assert_eq!(offsets.byte(c), naive(c), "character {c}");
        }
    }
}
