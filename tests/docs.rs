//! The language reference is a test: every code block of docs/language.md fenced as `route`
//! is a complete policy, checked here with the library.
//!
//! - A block without annotations must produce no diagnostic at all (no error, no warning).
//! - A block that demonstrates a mistake carries a comment `# error: E0xxx` or
//!   `# warning: W0xxx` for each diagnostic it must produce; the codes it produces must be
//!   exactly those, counted with multiplicity. One comment may list several codes
//!   (`# error: E0201 E0202`).
//! - A block fenced as `route file=NAME` is not a policy on its own but a file that later
//!   blocks include (`include "NAME"`); blocks that include files are loaded through an
//!   in-memory source provider, as if they sat next to docs/language.md.
//!
//! Each block is checked with as many blank lines in front of it as precede it in the
//! markdown, so the line numbers of the rendered diagnostics are lines of docs/language.md.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use routerc::diagnostic::{codes, Severity};
use routerc::render::{self, Format};
use routerc::source::{Program, SourceProvider};
use routerc::syntax::ast::Item;

const DOC: &str = "docs/language.md";

/// One fenced `route` block.
struct Block {
    /// The 1-based line of the markdown where the block's code starts.
    line: usize,
    /// `Some(name)` for a `route file=NAME` block.
    file: Option<String>,
    /// The code, preceded by `line - 1` blank lines.
    text: String,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<(usize, Option<String>, String)> = None;
    let mut in_other_fence = false;
    for (i, line) in markdown.lines().enumerate() {
        let lineno = i + 1;
        let trimmed = line.trim();
        if let Some((start, file, text)) = open.as_mut() {
            if trimmed == "```" {
                let padding = "\n".repeat(*start - 1);
                found.push(Block {
                    line: *start,
                    file: file.take(),
                    text: format!("{padding}{text}"),
                });
                open = None;
            } else {
                text.push_str(line);
                text.push('\n');
            }
            continue;
        }
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        if in_other_fence {
            // Only a bare "```" closes a fence.
            in_other_fence = !info.trim().is_empty();
            continue;
        }
        let mut words = info.split_whitespace();
        if words.next() != Some("route") {
            in_other_fence = true;
            continue;
        }
        let mut file = None;
        for w in words {
            match w.strip_prefix("file=") {
                Some(name) if !name.is_empty() => file = Some(name.to_string()),
                _ => panic!("{DOC}:{lineno}: unknown attribute `{w}` on a route block"),
            }
        }
        open = Some((lineno + 1, file, String::new()));
    }
    if let Some((start, _, _)) = open {
        panic!(
            "{DOC}:{}: the route block starting here is never closed",
            start - 1
        );
    }
    found
}

/// The diagnostics a block announces in its comments: `# error: E0201`, `# warning: W0005`.
fn expected_codes(program: &Program, line: usize) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for comment in program.files.iter().flat_map(|f| f.comments.iter()) {
        let text = comment.text.trim_start_matches('#').trim();
        let (word, rest) = match text.split_once(':') {
            Some((w, rest)) if w.trim() == "error" || w.trim() == "warning" => (w.trim(), rest),
            _ => continue,
        };
        let severity = if word == "error" {
            Severity::Error
        } else {
            Severity::Warning
        };
        let ids: Vec<&str> = rest
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .take_while(|t| t.len() == 5 && (t.starts_with('E') || t.starts_with('W')))
            .collect();
        if ids.is_empty() {
            return Err(format!(
                "{DOC}:{line}: the annotation `{}` names no code",
                comment.text
            ));
        }
        for id in ids {
            let code = codes::find(id)
                .ok_or_else(|| format!("{DOC}:{line}: `{id}` is not a diagnostic code"))?;
            if code.severity != severity {
                return Err(format!(
                    "{DOC}:{line}: `{id}` is {}, not {word}",
                    code.severity.as_str()
                ));
            }
            out.push(code.id);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// Serves the block being checked as docs/language.md and the `file=` blocks next to it.
struct Memory {
    files: HashMap<PathBuf, String>,
}

impl SourceProvider for Memory {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.files
            .get(path)
            .map(|t| t.clone().into_bytes())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "not a block of the documentation",
                )
            })
    }
}

fn doc_dir() -> PathBuf {
    Path::new(DOC)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

#[test]
fn route_blocks_in_the_language_reference_check_as_annotated() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC);
    let markdown = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let all = blocks(&markdown);
    let fragments: HashMap<PathBuf, String> = all
        .iter()
        .filter_map(|b| b.file.as_ref().map(|f| (doc_dir().join(f), b.text.clone())))
        .collect();
    let mut included: Vec<PathBuf> = Vec::new();

    let mut checked = 0;
    let mut failures = Vec::new();
    for block in all.iter().filter(|b| b.file.is_none()) {
        let (mut program, mut result) = routerc::check_text(DOC, &block.text);
        if program.items().any(|i| matches!(i, Item::Include(_))) {
            let mut files = fragments.clone();
            files.insert(PathBuf::from(DOC), block.text.clone());
            (program, result) = routerc::check_file(Path::new(DOC), &Memory { files });
            included.extend(program.sources.files().map(|(_, f)| f.path.clone()));
        }
        checked += 1;

        let expected = match expected_codes(&program, block.line) {
            Ok(e) => e,
            Err(message) => {
                failures.push(message);
                continue;
            }
        };
        let mut actual: Vec<&'static str> =
            result.diagnostics.items.iter().map(|d| d.code.id).collect();
        actual.sort_unstable();
        if actual != expected {
            let diagnostics = result.diagnostics.sorted();
            let mut rendered = Vec::new();
            render::write(
                &mut rendered,
                &program.sources,
                &diagnostics,
                Format::Plain,
                false,
            )
            .expect("rendering to memory cannot fail");
            failures.push(format!(
                "{DOC}:{}: the block starting here should produce [{}] but produced [{}]:\n{}",
                block.line,
                expected.join(", "),
                actual.join(", "),
                String::from_utf8_lossy(&rendered),
            ));
        }
    }

    assert!(
        checked >= 40,
        "expected at least 40 route blocks in {DOC}, found {checked}"
    );
    for fragment in fragments.keys() {
        if !included.contains(fragment) {
            failures.push(format!(
                "{DOC}: the block `{}` is never included by another block",
                fragment.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} blocks failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_block_reader_finds_blocks_annotations_and_lines() {
    let md = "text\n```route\nbackend a { url: \"http://127.0.0.1:1/v1\", model: \"m\" }\ndefault => b  # error: E0203\n```\n```text\n```route\n```\n```route file=x.route\nsignal s: bool = keyword(\"k\")\n```\n";
    let found = blocks(md);
    assert_eq!(
        found.len(),
        2,
        "the fence inside a text block is not a route block"
    );
    assert_eq!(found[0].line, 3);
    assert!(found[0].text.starts_with("\n\nbackend"));
    assert_eq!(found[1].file.as_deref(), Some("x.route"));
    let (program, _) = routerc::check_text(DOC, &found[0].text);
    assert_eq!(expected_codes(&program, found[0].line), Ok(vec!["E0203"]));
}
