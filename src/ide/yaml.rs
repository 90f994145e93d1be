//! The analysis engine on YAML policies: routerc YAML and vLLM Semantic Router configs.
//!
//! The YAML frontend lowers a YAML file to the same AST as a `.route` file, with every name's
//! span pointing into the YAML text, so the index (definition, references, rename), the
//! outline and the diagnostics need nothing here. What does differ is everything that reads
//! the text itself: completion (the context is a YAML key, not `.route` tokens), folding (YAML
//! blocks, not declarations) and hover's code block (the declaration as routerc reads it,
//! printed in `.route` syntax, rather than the YAML it came from).
//!
//! Completion reads the lines around the cursor rather than the YAML tree: while a value is
//! being typed the file often does not parse. The names it offers come from the index of what
//! did lower, and for a vLLM config from its tree when it parses (family-specific signal
//! names, model names), since a rule names its signal within a family.

use super::complete::{Completion, CompletionKind, Completions};
use super::{Analysis, Fold};
use crate::syntax::ast::Item;
use crate::syntax::lexer;
use crate::syntax::{FileId, Span};
use crate::yaml::node::{self, Node};
use crate::yaml::vsr::FAMILIES;
use crate::yaml::Form;

/// Top-level keys of the routerc YAML form: a YAML file with none of them (nor a vLLM key) is
/// not a policy, and the language server leaves it alone.
const ROUTERC_KEYS: &[&str] = &[
    "signals", "backends", "prompts", "routes", "default", "tests", "include",
];

/// Whether a YAML text is a routing policy in either form, judged by its top-level keys (read
/// from the lines, so a file being edited into a broken state keeps its status). A vLLM
/// config is recognised by `routing` or `providers`; `version` alone is not enough, since
/// many unrelated YAML files have one.
pub fn is_policy(text: &str) -> bool {
    top_level_keys(text)
        .any(|key| ROUTERC_KEYS.contains(&key) || matches!(key, "routing" | "providers"))
}

/// The keys written at the start of a line: the document's top-level keys.
fn top_level_keys(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        let (key, _) = line.split_once(':')?;
        (!key.starts_with([' ', '\t', '#', '-'])).then_some(key)
    })
}

/// The line the cursor is on, read as YAML: `key: value` or a list item `- value`.
struct Line<'t> {
    /// The key whose value the cursor is in (for a list item, the key above that holds the
    /// list).
    key: &'t str,
    /// Column of that key on its line.
    column: usize,
    /// The value written between the key and the cursor.
    before: &'t str,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Lines as (start offset, text without the newline).
fn lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    for l in text.split_inclusive('\n') {
        out.push((at, l.trim_end_matches(['\n', '\r'])));
        at += l.len();
    }
    if text.is_empty() || text.ends_with('\n') {
        out.push((text.len(), ""));
    }
    out
}

/// `key` and its column when `line` is `key: …` or `- key: …` (any indentation).
fn key_of(line: &str) -> Option<(&str, usize)> {
    let mut col = indent(line);
    let mut rest = &line[col..];
    if let Some(r) = rest.strip_prefix("- ") {
        let skipped = r.len() - r.trim_start_matches(' ').len();
        col += 2 + skipped;
        rest = &r[skipped..];
    }
    let (key, _) = rest.split_once(':')?;
    let key = key.trim_matches(['"', '\'']);
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plain.then_some((key, col))
}

/// The key a line at `column` belongs under: the nearest line above indented less that is
/// `key:` with its value below it.
fn parent_key<'t>(all: &[(usize, &'t str)], row: usize, column: usize) -> Option<(&'t str, usize)> {
    for &(_, l) in all[..row].iter().rev() {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if let Some((k, c)) = key_of(l) {
            if c < column {
                return Some((k, c));
            }
        } else if indent(l) < column && !t.starts_with('-') {
            return None;
        }
    }
    None
}

/// Lines of a text as (start offset, text without the newline).
type Lines<'t> = Vec<(usize, &'t str)>;

/// The text's lines, the cursor's row and what its line says.
fn line_at(text: &str, offset: usize) -> Option<(Lines<'_>, usize, Line<'_>)> {
    let all = lines(text);
    let row = all.partition_point(|&(s, _)| s <= offset).checked_sub(1)?;
    let (start, line) = all[row];
    let cursor = (offset - start).min(line.len());
    let upto = &line[..cursor];
    if upto.trim_start().starts_with('#') {
        return None;
    }
    let found = if let Some((key, column)) = key_of(upto) {
        // The cursor is in the value: after `key:`.
        let colon = column + key.len() + upto[column + key.len()..].find(':')? + 1;
        let before = upto[colon..].trim_start();
        Line {
            key,
            column,
            before,
        }
    } else {
        // A list item, `- partial`: the key holding the list.
        let t = upto.trim_start();
        let before = t.strip_prefix('-')?.trim_start();
        let (key, column) = parent_key(&all, row, indent(upto) + 1)?;
        Line {
            key,
            column,
            before,
        }
    };
    Some((all, row, found))
}

/// The value of sibling key `wanted` in the mapping the cursor's line belongs to.
fn sibling<'t>(
    all: &[(usize, &'t str)],
    row: usize,
    column: usize,
    wanted: &str,
) -> Option<&'t str> {
    let value = |l: &'t str| {
        let (_, v) = l.split_once(':')?;
        let v = v
            .split(" #")
            .next()
            .unwrap_or(v)
            .trim()
            .trim_matches(['"', '\'']);
        (!v.is_empty()).then_some(v)
    };
    // Upwards to the start of the mapping (the list item's `- ` or a shallower line), unless
    // the cursor's line starts the item itself.
    let starts_item = all[row].1.trim_start().starts_with("- ");
    for &(_, l) in all[..row].iter().rev().take_while(|_| !starts_item) {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let item_start = t.starts_with("- ");
        match key_of(l) {
            Some((k, c)) if c == column => {
                if k == wanted {
                    return value(l);
                }
                if item_start {
                    break;
                }
            }
            Some((_, c)) if c < column => break,
            None if indent(l) < column => break,
            _ => {}
        }
    }
    // Downwards to its end.
    for &(_, l) in &all[row + 1..] {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if indent(l) < column {
            break;
        }
        if let Some((k, c)) = key_of(l) {
            if c == column && !t.starts_with("- ") && k == wanted {
                return value(l);
            }
        }
    }
    None
}

/// The part of a name already typed before `offset`: YAML names may hold `-`, `.` and `/`
/// (`llama-3.1-70b`, `org/model`).
fn typed_start(text: &str, offset: usize, extra: &[u8]) -> usize {
    let bytes = text.as_bytes();
    let mut start = offset;
    while start > 0 {
        let b = bytes[start - 1];
        if b.is_ascii_alphanumeric() || b == b'_' || extra.contains(&b) {
            start -= 1;
        } else {
            break;
        }
    }
    start
}

pub fn completions(analysis: &Analysis, file: FileId, offset: u32) -> Completions {
    let text = analysis.text(file);
    let offset = offset as usize;
    let mut out = Completions {
        replace: Span::new(file, offset, offset),
        items: Vec::new(),
    };
    let Some((all, row, line)) = line_at(text, offset) else {
        return out;
    };
    // The form by the frontend's rule (`yaml::detect`), read from the lines so that it holds
    // while the file does not parse; only a vLLM config's completions need its tree.
    let form = if top_level_keys(text).any(|k| crate::yaml::VSR_KEYS.contains(&k)) {
        Form::Vsr
    } else {
        Form::Routerc
    };
    let root = match form {
        Form::Vsr => node::load(text, file).0,
        Form::Routerc => None,
    };
    let at = At {
        analysis,
        file,
        offset,
        all: &all,
        row,
        line: &line,
    };
    match form {
        Form::Routerc => routerc(&at, &mut out),
        Form::Vsr => vsr(&at, root.as_ref(), &mut out),
    }
    out
}

/// Where completion was asked: the document, the cursor and what its line says.
struct At<'a, 't> {
    analysis: &'a Analysis,
    file: FileId,
    offset: usize,
    all: &'a [(usize, &'t str)],
    row: usize,
    line: &'a Line<'t>,
}

impl<'t> At<'_, 't> {
    /// The part of a name typed before the cursor (`extra`: the characters besides letters,
    /// digits and `_` a name may hold here).
    fn typed(&self, extra: &[u8]) -> Span {
        let text = self.analysis.text(self.file);
        Span::new(
            self.file,
            typed_start(text, self.offset, extra),
            self.offset,
        )
    }

    /// The key of the mapping the cursor's line belongs to.
    fn parent(&self) -> Option<&'t str> {
        parent_key(self.all, self.row, self.line.column).map(|(k, _)| k)
    }
}

fn routerc(at: &At<'_, '_>, out: &mut Completions) {
    let (analysis, file, line) = (at.analysis, at.file, at.line);
    let parent = at.parent();
    // A condition or an action's value is `.route` syntax inside YAML: complete it as such, in
    // a declaration made up around what is typed.
    let made_up = match (line.key, parent) {
        ("when", _) => Some(format!("route _ when {}", line.before)),
        (key, Some("with")) => Some(format!("route _ => _ {{ {key}: {}", line.before)),
        _ => None,
    };
    if let Some(decl) = made_up {
        out.replace = at.typed(&[]);
        let lexed = lexer::lex(&decl, file);
        // Keep the typed word out of the context: it is what gets replaced.
        let typed = out.replace.end - out.replace.start;
        let mut tokens = lexed.tokens;
        if typed > 0 && tokens.last().is_some_and(|t| t.2 == decl.len()) {
            tokens.pop();
        }
        super::complete::in_declaration(analysis, &tokens, out);
        return;
    }
    out.replace = at.typed(b"-.");
    let kind = match (line.key, parent) {
        ("backend" | "fallback", _) => CompletionKind::Backend,
        ("expect", _) => CompletionKind::Route,
        ("system_prompt", _) => CompletionKind::Prompt,
        _ => return,
    };
    super::complete::declared(analysis, out, kind);
    if kind == CompletionKind::Route {
        push(
            out,
            "default",
            CompletionKind::Route,
            Some("the default route"),
        );
    }
}

fn vsr(at: &At<'_, '_>, root: Option<&Node>, out: &mut Completions) {
    let line = at.line;
    out.replace = at.typed(b"-./:");
    let in_condition = || sibling(at.all, at.row, line.column, "type").map(str::to_string);
    match line.key {
        "model" | "default_model" => {
            for name in vsr_names(root, &["providers", "models"]) {
                push(out, &name, CompletionKind::Backend, None);
            }
        }
        "type" if at.parent() == Some("conditions") => {
            for (family, leaf, _) in FAMILIES {
                push(
                    out,
                    leaf,
                    CompletionKind::Value,
                    Some(&format!("a signal of `routing.signals.{family}`")),
                );
            }
        }
        "name" => {
            let Some(ty) = in_condition() else {
                return;
            };
            let Some((family, _, _)) = FAMILIES.iter().find(|f| f.1 == ty) else {
                return;
            };
            for name in vsr_names(root, &["routing", "signals", family]) {
                push(
                    out,
                    &name,
                    CompletionKind::Signal,
                    Some(&format!("{ty} signal")),
                );
            }
        }
        _ => {}
    }
}

/// The `name` of every entry of the list at `path` in a vLLM config.
fn vsr_names(root: Option<&Node>, path: &[&str]) -> Vec<String> {
    let mut node = root;
    for key in path {
        node = node.and_then(|n| n.get(key));
    }
    let mut names: Vec<String> = node
        .and_then(Node::as_seq)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.get("name")?.as_str().map(str::to_string))
        .collect();
    names.dedup();
    names
}

fn push(out: &mut Completions, label: &str, kind: CompletionKind, detail: Option<&str>) {
    if out.items.iter().any(|c| c.label == label) {
        return;
    }
    out.items.push(Completion {
        label: label.to_string(),
        kind,
        detail: detail.map(str::to_string),
        documentation: None,
        insert: label.to_string(),
    });
}

/// Every mapping or list that spans several lines folds, from its key's line; runs of
/// whole-line comments fold too.
pub fn folding(text: &str, file: FileId) -> Vec<Fold> {
    let mut folds = Vec::new();
    if let (Some(root), _) = node::load(text, file) {
        // The root is the whole file: only what it holds folds.
        let mut stack = vec![(&root, None::<u32>)];
        let mut is_root = true;
        while let Some((n, from)) = stack.pop() {
            let start = from.unwrap_or(n.span.start);
            // A block ends after its last value's newline; fold up to that value's end.
            let end = text[..n.span.end as usize].trim_end().len() as u32;
            let nested = match &n.value {
                node::Value::Map(entries) => {
                    for e in entries {
                        stack.push((&e.value, Some(e.key_span.start)));
                    }
                    true
                }
                node::Value::Seq(items) => {
                    for item in items {
                        stack.push((item, None));
                    }
                    true
                }
                _ => false,
            };
            let multi_line = text
                .get(start as usize..end as usize)
                .is_some_and(|t| t.contains('\n'));
            let root_node = std::mem::take(&mut is_root);
            if nested && multi_line && !root_node {
                folds.push(Fold {
                    start,
                    end,
                    comment: false,
                });
            }
        }
    }
    let mut run: Option<(usize, usize, usize)> = None;
    for (i, (start, line)) in lines(text).into_iter().enumerate() {
        let is_comment = line.trim_start().starts_with('#');
        run = match (run, is_comment) {
            (Some((s, _, last)), true) if last + 1 == i => Some((s, start + line.len(), i)),
            (previous, _) => {
                push_comments(&mut folds, previous);
                is_comment.then(|| (start + indent(line), start + line.len(), i))
            }
        };
    }
    push_comments(&mut folds, run);
    folds.sort_by_key(|f| (f.start, f.end));
    folds.dedup();
    folds
}

fn push_comments(folds: &mut Vec<Fold>, run: Option<(usize, usize, usize)>) {
    if let Some((start, end, _)) = run {
        // Two lines at least: a run's end is on a later line than its start.
        if folds.iter().all(|f| f.start != start as u32) {
            folds.push(Fold {
                start: start as u32,
                end: end as u32,
                comment: true,
            });
        }
    }
}

/// A declaration lowered from YAML, printed as routerc reads it.
pub fn as_route(item: &Item) -> String {
    let file = crate::syntax::ast::File {
        items: vec![item.clone()],
        span: item.span(),
    };
    let printed = crate::fmt::format_file(&file, &[], "");
    let mut lines: Vec<&str> = printed.trim_end().lines().collect();
    const MAX_LINES: usize = 24;
    if lines.len() > MAX_LINES {
        lines.truncate(MAX_LINES);
        lines.push("…");
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_told_from_other_yaml() {
        assert!(is_policy("version: v0.3\nrouting:\n  decisions: []\n"));
        assert!(is_policy("signals:\n  a: {}\nroutes: {}\n"));
        assert!(is_policy("# c\nbackends:\n"));
        assert!(!is_policy("version: \"3\"\nservices:\n  web: {}\n"));
        assert!(!is_policy("on: push\njobs:\n  routes: x\n"));
        assert!(!is_policy(""));
    }

    #[test]
    fn list_items_and_flow_values_find_their_key() {
        let text = "routes:\n  a:\n    fallback:\n      - sm";
        let (_, _, l) = line_at(text, text.len()).unwrap();
        assert_eq!((l.key, l.before), ("fallback", "sm"));
        let text = "routes:\n  a:\n    backend: bi";
        let (_, _, l) = line_at(text, text.len()).unwrap();
        assert_eq!((l.key, l.column, l.before), ("backend", 4, "bi"));
    }

    #[test]
    fn a_condition_name_sees_its_type_above_and_below() {
        let text = "conditions:\n  - type: domain\n    name: ma\n  - name: x\n    type: keyword\n";
        let all = lines(text);
        assert_eq!(sibling(&all, 2, 4, "type"), Some("domain"));
        assert_eq!(sibling(&all, 3, 4, "type"), Some("keyword"));
    }
}
