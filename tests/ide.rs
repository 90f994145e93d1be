//! The analysis engine's test corpus: each file under tests/ide/<query>/ is a policy with the
//! cursor marked `$0`, and the snapshot is the query's answer there (hover, completion,
//! definition, references, rename). Files under tests/ide/outline/ have no cursor; their
//! snapshot is the outline and the folds. A rename fixture's first line names the new name:
//! `# rename to: NAME`. Adding a case means adding a file.
//!
//! The engine is tested without the LSP transport; tests/lsp.rs runs the real server.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use routerc::ide::{Analysis, DocumentSymbol};
use routerc::source::{FileSystem, SourceProvider};
use routerc::syntax::{FileId, Span};

const CURSOR: &str = "$0";

/// Serves the fixture (with the marker removed) at its own path, and the disk elsewhere, the
/// way the server serves open buffers: included fixture files are read from tests/ide/.
struct Fixture {
    path: PathBuf,
    text: String,
}

impl SourceProvider for Fixture {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        if path == self.path {
            Ok(self.text.clone().into_bytes())
        } else {
            FileSystem.read(path)
        }
    }
}

fn relative(path: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

/// The analysis of a fixture and the cursor's byte offset, if it has one.
fn load(path: &Path) -> (Analysis, Option<u32>) {
    let raw = std::fs::read_to_string(path).expect("fixture is readable");
    let cursor = raw.find(CURSOR).map(|i| i as u32);
    let text = raw.replacen(CURSOR, "", 1);
    let fixture = Fixture {
        path: relative(path),
        text,
    };
    (Analysis::load(&fixture.path.clone(), &fixture), cursor)
}

fn root(a: &Analysis) -> FileId {
    a.root().expect("the fixture was read")
}

/// `file:line:col-line:col `text``, the way a reviewer wants to read a location.
fn place(a: &Analysis, span: Span) -> String {
    let file = a.program().sources.get(span.file);
    let (l1, c1) = file.line_col(span.start);
    let (l2, c2) = file.line_col(span.end);
    let name = Path::new(&file.name)
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    let text = a.text(span.file).get(span.range()).unwrap_or("");
    format!("{name}:{l1}:{c1}-{l2}:{c2} `{text}`")
}

fn cursor_of(path: &Path, cursor: Option<u32>) -> u32 {
    cursor.unwrap_or_else(|| panic!("{} has no `{CURSOR}` marker", path.display()))
}

#[test]
fn hover() {
    insta::glob!("ide/hover/*.{route,yaml}", |path| {
        let (a, cursor) = load(path);
        let out = match a.hover(root(&a), cursor_of(path, cursor)) {
            Some(h) => format!("{}\n\n{}\n", place(&a, h.span), h.markdown),
            None => "no hover\n".to_string(),
        };
        insta::assert_snapshot!(out);
    });
}

#[test]
fn completion() {
    insta::glob!("ide/complete/*.{route,yaml}", |path| {
        let (a, cursor) = load(path);
        let c = a.completions(root(&a), cursor_of(path, cursor));
        let mut out = format!("replace {}\n", place(&a, c.replace));
        for item in &c.items {
            write!(out, "{:<22} {:?}", item.label, item.kind).unwrap();
            if let Some(d) = &item.detail {
                write!(out, "  {d}").unwrap();
            }
            if item.insert != item.label {
                write!(out, "  inserts {}", item.insert).unwrap();
            }
            out.push('\n');
        }
        insta::assert_snapshot!(out);
    });
}

#[test]
fn definition() {
    insta::glob!("ide/definition/*.{route,yaml}", |path| {
        let (a, cursor) = load(path);
        let out = match a.definition(root(&a), cursor_of(path, cursor)) {
            Some(span) => format!("{}\n", place(&a, span)),
            None => "no definition\n".to_string(),
        };
        insta::assert_snapshot!(out);
    });
}

#[test]
fn references() {
    insta::glob!("ide/references/*.{route,yaml}", |path| {
        let (a, cursor) = load(path);
        let file = root(&a);
        let offset = cursor_of(path, cursor);
        let all = a.references(file, offset, true);
        let uses = a.references(file, offset, false);
        let mut out = String::new();
        for span in &all {
            let mark = if uses.contains(span) {
                "use"
            } else {
                "declaration"
            };
            writeln!(out, "{mark:<12} {}", place(&a, *span)).unwrap();
        }
        if all.is_empty() {
            out.push_str("no references\n");
        }
        insta::assert_snapshot!(out);
    });
}

#[test]
fn rename() {
    insta::glob!("ide/rename/*.{route,yaml}", |path| {
        let (a, cursor) = load(path);
        let file = root(&a);
        let text = a.text(file).to_string();
        let new_name = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# rename to: "))
            .unwrap_or_else(|| panic!("{} lacks `# rename to: NAME`", path.display()))
            .to_string();
        let out = match a.rename(file, cursor_of(path, cursor), &new_name) {
            Ok(edits) => {
                let mut by_file: Vec<_> = edits.iter().collect();
                by_file.sort_by_key(|e| (e.span.file, std::cmp::Reverse(e.span.start)));
                let mut out = String::new();
                let mut files: Vec<FileId> = by_file.iter().map(|e| e.span.file).collect();
                files.dedup();
                for f in files {
                    let mut new_text = a.text(f).to_string();
                    for e in by_file.iter().filter(|e| e.span.file == f) {
                        new_text.replace_range(e.span.range(), &e.text);
                    }
                    let name = &a.program().sources.get(f).name;
                    let name = Path::new(name).file_name().unwrap_or_default();
                    writeln!(out, "== {}\n{new_text}", name.to_string_lossy()).unwrap();
                }
                // The result must still be a policy the checker accepts as before: renaming
                // never introduces a diagnostic.
                if f_is_single(&a) {
                    let before = a.diagnostics(file).len();
                    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("route");
                    let after = Analysis::from_text(&format!("renamed.{ext}"), out_text(&out));
                    let found = after.diagnostics(after.root().expect("text is read"));
                    assert_eq!(
                        found.len(),
                        before,
                        "{}: rename changed the diagnostics: {found:?}",
                        path.display()
                    );
                }
                out
            }
            Err(message) => format!("refused: {message}\n"),
        };
        insta::assert_snapshot!(out);
    });
}

fn f_is_single(a: &Analysis) -> bool {
    a.program().files.len() == 1
}

/// The renamed text of a single-file rename output (after its `== name` line).
fn out_text(out: &str) -> &str {
    out.split_once('\n').map_or("", |(_, rest)| rest)
}

fn symbol_tree(a: &Analysis, symbols: &[DocumentSymbol], depth: usize, out: &mut String) {
    for s in symbols {
        write!(
            out,
            "{}{:?} {} at {}",
            "  ".repeat(depth),
            s.kind,
            s.name,
            place(a, s.name_span)
        )
        .unwrap();
        if let Some(d) = &s.detail {
            write!(out, " ({d})").unwrap();
        }
        out.push('\n');
        symbol_tree(a, &s.children, depth + 1, out);
    }
}

#[test]
fn outline() {
    insta::glob!("ide/outline/*.{route,yaml}", |path| {
        let (a, _) = load(path);
        let file = root(&a);
        let mut out = String::new();
        symbol_tree(&a, &a.symbols(file), 0, &mut out);
        out.push_str("-- folds\n");
        let source = a.program().sources.get(file);
        for f in a.folding(file) {
            let (l1, _) = source.line_col(f.start);
            let (l2, _) = source.line_col(f.end);
            let kind = if f.comment { "comment" } else { "code" };
            writeln!(out, "lines {l1}-{l2} {kind}").unwrap();
        }
        insta::assert_snapshot!(out);
    });
}

/// Every name the index finds has a declaration, and every query answers (without panicking)
/// at every `step`th offset, including ones inside multi-byte characters and past the end.
fn every_query_everywhere(a: &Analysis, file: FileId, path: &Path, step: usize) {
    for o in a.index().occurrences() {
        assert!(
            a.index().definition(&o.symbol).is_some(),
            "{}: {:?} has no declaration",
            path.display(),
            o.symbol
        );
    }
    let len = a.text(file).len() as u32;
    for offset in (0..len + 3).step_by(step) {
        let _ = a.hover(file, offset);
        let _ = a.completions(file, offset);
        let _ = a.definition(file, offset);
        let _ = a.references(file, offset, true);
        let _ = a.rename(file, offset, "renamed");
    }
}

/// The example policies: every name the index finds has a declaration, and hovering,
/// completing and renaming at every byte of every example answers without panicking.
#[test]
fn every_position_of_the_examples() {
    for dir in ["examples", "policies"] {
        let root_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for entry in std::fs::read_dir(&root_dir).expect("directory") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "route") {
                continue;
            }
            let (a, _) = load(&path);
            let file = root(&a);
            every_query_everywhere(&a, file, &path, 3);
            assert!(
                a.format(file).is_none(),
                "{} is not formatted",
                path.display()
            );
            assert!(!a.symbols(file).is_empty());
        }
    }
}

/// The same for YAML policies: the routerc form and vLLM configs under tests/yaml/ok, and the
/// reference vLLM config from the shared data (which fails loudly when it is missing). Every
/// name the index finds has a declaration, no query panics at any position, and nothing is
/// offered for formatting: YAML keeps its author's layout.
#[test]
fn every_position_of_yaml_policies() {
    let shared = std::env::var_os("ROUTERC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let reference = shared.join("data/vllm-sr/config.reference.yaml");
    assert!(
        reference.is_file(),
        "the shared data folder is missing: expected {} (set ROUTERC_SHARED to the folder that holds data/vllm-sr)",
        reference.display()
    );
    let ok_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml/ok");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&ok_dir)
        .expect("tests/yaml/ok")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths.push(reference);
    for path in paths {
        let (a, _) = load(&path);
        let file = root(&a);
        // Completion reads the file's YAML tree: a sparser walk over the 72 KB reference.
        let step = if a.text(file).len() > 10_000 { 97 } else { 3 };
        every_query_everywhere(&a, file, &path, step);
        assert!(a.format(file).is_none(), "{}", path.display());
        assert!(!a.symbols(file).is_empty(), "{}", path.display());
        assert!(!a.folding(file).is_empty(), "{}", path.display());
    }
}
