//! Source files and the loading of a policy with its includes.
//!
//! A policy is a root file plus the files it includes, transitively. [`load`] reads and parses
//! them all, resolving `include` paths relative to the including file, loading each file once
//! (diamonds are fine) and reporting cycles and unreadable files as diagnostics. Reading goes
//! through [`SourceProvider`] so the language server can supply unsaved editor buffers. A
//! `.yaml` or `.yml` file is read by the YAML frontend ([`crate::yaml`]) into the same AST, so
//! a policy can be YAML, `.route` or both.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{codes, Diagnostic, Diagnostics};
use crate::syntax::ast::{self, Item};
use crate::syntax::lexer::Comment;
use crate::syntax::{parse, FileId, Span};

/// Deepest chain of includes followed.
pub const MAX_INCLUDE_DEPTH: usize = 32;

/// Largest policy file accepted.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// One loaded file.
pub struct SourceFile {
    pub path: PathBuf,
    /// The path as shown in diagnostics.
    pub name: String,
    pub text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(path: PathBuf, name: String, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        SourceFile {
            path,
            name,
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(self.text.len() as u32);
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line] as usize;
        let mut end = offset as usize;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        (line + 1, self.text[start..end].chars().count() + 1)
    }

    pub fn line_starts(&self) -> &[u32] {
        &self.line_starts
    }
}

/// All files of one run, indexed by [`FileId`].
#[derive(Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// 1-based start and end line/column of a span.
    pub fn range(&self, span: Span) -> ((usize, usize), (usize, usize)) {
        let f = self.get(span.file);
        (f.line_col(span.start), f.line_col(span.end))
    }
}

/// Where file contents come from.
pub trait SourceProvider {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;

    /// Parses the text `read` gave for `path`. A provider that remembers an earlier parse (the
    /// language server, which reparses only the declaration an edit touched) may answer from
    /// it, but must answer exactly what [`parse_file`] would.
    fn parse(&self, path: &Path, text: &str, id: FileId) -> crate::syntax::parser::Parsed {
        parse_file(path, text, id)
    }
}

/// Reads from the file system.
pub struct FileSystem;

impl SourceProvider for FileSystem {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// A parsed file of the program.
pub struct ParsedFile {
    pub id: FileId,
    pub ast: ast::File,
    pub comments: Vec<Comment>,
    /// `(keyword, name)` of every declaration in the text, including ones that did not parse.
    pub declared: Vec<(&'static str, String)>,
}

/// A policy's files, parsed: the root first, then its includes in the order they were found.
pub struct Program {
    pub sources: SourceMap,
    pub files: Vec<ParsedFile>,
}

impl Program {
    /// Every item of every file, in load order.
    pub fn items(&self) -> impl Iterator<Item = &Item> {
        self.files.iter().flat_map(|f| f.ast.items.iter())
    }
}

/// Loads and parses a policy from `root` and everything it includes. Never fails: problems are
/// diagnostics, and whatever could be parsed is returned. Returns `None` for the program only
/// when the root file itself cannot be read.
pub fn load(root: &Path, provider: &dyn SourceProvider) -> (Program, Diagnostics) {
    let mut loader = Loader {
        provider,
        program: Program {
            sources: SourceMap::default(),
            files: Vec::new(),
        },
        diagnostics: Diagnostics::default(),
        by_path: HashMap::new(),
    };
    loader.load_file(
        root.to_path_buf(),
        display_name(root),
        None,
        &mut Vec::new(),
    );
    (loader.program, loader.diagnostics)
}

/// Parses a single in-memory text as a whole policy (no includes are followed).
pub fn load_text(name: &str, text: &str) -> (Program, Diagnostics) {
    let mut sources = SourceMap::default();
    let id = sources.add(SourceFile::new(
        PathBuf::from(name),
        name.to_string(),
        text.to_string(),
    ));
    let parsed = parse_file(Path::new(name), text, id);
    let mut diagnostics = Diagnostics::default();
    diagnostics.items.extend(parsed.diagnostics);
    let program = Program {
        sources,
        files: vec![ParsedFile {
            id,
            ast: parsed.file,
            comments: parsed.comments,
            declared: parsed.declared,
        }],
    };
    (program, diagnostics)
}

/// Parses one file by its kind: `.yaml` / `.yml` through the YAML frontend, anything else as
/// `.route` text. Both give the same AST, so everything after this point is shared.
pub fn parse_file(path: &Path, text: &str, id: FileId) -> crate::syntax::parser::Parsed {
    if crate::yaml::is_yaml_path(path) {
        let parsed = crate::yaml::parse(text, id);
        crate::syntax::parser::Parsed {
            file: parsed.file,
            comments: Vec::new(),
            declared: parsed.declared,
            diagnostics: parsed.diagnostics,
        }
    } else {
        parse(text, id)
    }
}

fn display_name(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

struct Loader<'p> {
    provider: &'p dyn SourceProvider,
    program: Program,
    diagnostics: Diagnostics,
    by_path: HashMap<PathBuf, FileId>,
}

impl Loader<'_> {
    fn display_of(&self, key: &Path) -> String {
        match self.by_path.get(key) {
            Some(&id) => self.program.sources.get(id).name.clone(),
            None => key.display().to_string(),
        }
    }

    /// `stack` holds the files being loaded above this one, to detect cycles.
    fn load_file(
        &mut self,
        path: PathBuf,
        name: String,
        included_at: Option<Span>,
        stack: &mut Vec<PathBuf>,
    ) {
        // A chain of includes that never repeats a path (a provider that invents files, or
        // `a/b` including `a/b` relative to itself) would otherwise recurse without end.
        if stack.len() >= MAX_INCLUDE_DEPTH {
            self.diagnostics.push(
                Diagnostic::new(
                    &codes::E0010,
                    included_at.unwrap_or_default(),
                    format!("includes nest more than {MAX_INCLUDE_DEPTH} files deep"),
                )
                .with_label("this include goes one level too deep")
                .with_help("include shared files from the root policy instead of chaining them"),
            );
            return;
        }
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(pos) = stack.iter().position(|p| *p == key) {
            let at = included_at.unwrap_or_default();
            let chain: Vec<String> = stack[pos..].iter().map(|p| self.display_of(p)).collect();
            self.diagnostics.push(
                Diagnostic::new(
                    &codes::E0008,
                    at,
                    format!("include cycle: `{}` includes itself", name),
                )
                .with_label("this include closes the cycle")
                .with_help(format!(
                    "the cycle: {} -> {}",
                    chain.join(" -> "),
                    name
                )),
            );
            return;
        }
        if self.by_path.contains_key(&key) {
            return;
        }
        let bytes = match self.provider.read(&path) {
            Ok(b) => b,
            Err(e) => {
                let message = format!("cannot read `{name}`: {}", io_reason(&e));
                match included_at {
                    Some(at) => self.diagnostics.push(
                        Diagnostic::new(&codes::E0007, at, message).with_label("included here"),
                    ),
                    // The root file: a diagnostic without a file to point into. The CLI
                    // reports it as a usage problem instead.
                    None => self.diagnostics.push(Diagnostic::new(
                        &codes::E0007,
                        Span::default(),
                        message,
                    )),
                }
                return;
            }
        };
        if bytes.len() > MAX_FILE_BYTES {
            let id = self
                .program
                .sources
                .add(SourceFile::new(path, name.clone(), String::new()));
            self.by_path.insert(key, id);
            self.diagnostics.push(Diagnostic::new(
                &codes::E0009,
                included_at.unwrap_or(Span::new(id, 0, 0)),
                format!(
                    "`{name}` is {} bytes; the limit is {MAX_FILE_BYTES}",
                    bytes.len()
                ),
            ));
            return;
        }
        let (text, bad_utf8) = match String::from_utf8(bytes) {
            Ok(t) => (t, None),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(at))
            }
        };
        let id = self
            .program
            .sources
            .add(SourceFile::new(path.clone(), name, text));
        self.by_path.insert(key.clone(), id);
        if let Some(at) = bad_utf8 {
            // Lossy decoding keeps offsets up to the first bad byte, which is where we point.
            self.diagnostics.push(
                Diagnostic::new(
                    &codes::E0001,
                    Span::new(id, at, at + 1),
                    "file is not valid UTF-8",
                )
                .with_label("this byte is not UTF-8")
                .with_help("save the file as UTF-8"),
            );
            return;
        }
        let parsed = self
            .provider
            .parse(&path, &self.program.sources.get(id).text, id);
        self.diagnostics.items.extend(parsed.diagnostics);
        let includes: Vec<(String, Span)> = parsed
            .file
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Include(inc) => Some((inc.path.value.clone(), inc.path.span)),
                _ => None,
            })
            .collect();
        self.program.files.push(ParsedFile {
            id,
            ast: parsed.file,
            comments: parsed.comments,
            declared: parsed.declared,
        });
        stack.push(key);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for (rel, at) in includes {
            let target = dir.join(&rel);
            self.load_file(target.clone(), display_name(&target), Some(at), stack);
        }
        stack.pop();
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        _ => e.to_string().to_lowercase(),
    }
}
