//! The documents the editor has open: their text as edited (incremental sync), their latest
//! analysis, and the mapping between URIs and the paths the compiler's loader uses.
//!
//! Open buffers take precedence over the disk for every file a policy includes, so an unsaved
//! change in an included file is seen by the policies that include it.
//!
//! An edit inside one declaration of a `.route` document reparses only that declaration
//! ([`crate::syntax::incremental`]): the document keeps the parse of its text (taken back from
//! its last analysis, which owns it) and hands it to the loader through [`Buffers`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::str::FromStr;

use lsp_types::{TextDocumentContentChangeEvent, Uri};

use super::position::LineIndex;
use crate::check::lints::LintMemo;
use crate::ide::Analysis;
use crate::source::{FileSystem, SourceProvider};
use crate::syntax::incremental::{reparse, TextEdit};
use crate::syntax::{FileId, Parsed};

pub struct Document {
    pub uri: Uri,
    pub path: PathBuf,
    pub text: String,
    pub version: i32,
    pub lines: LineIndex,
    /// The analysis of the current text, made when first needed after a change.
    analysis: Option<Rc<Analysis>>,
    /// Diagnostics of the current text have not been published yet.
    pub unpublished: bool,
    /// The parse of `text` as the root of its own analysis, when it is known without parsing:
    /// brought up to date by the edits, taken by the loader.
    parsed: RefCell<Option<Parsed>>,
    /// The root file of `analysis` is this document's text parsed without a diagnostic, so
    /// its parse can be taken back for the next edit.
    root_clean: Cell<bool>,
    /// The lints' results for the previous version of this document as a root.
    lint_memo: RefCell<LintMemo>,
}

impl Document {
    /// Whether the document is a routing policy: any file but YAML, and a YAML file whose
    /// top-level keys are a policy's. A workflow or compose file open beside the policies gets
    /// no diagnostics and no answers.
    pub fn is_policy(&self) -> bool {
        !crate::yaml::is_yaml_path(&self.path) || crate::ide::yaml::is_policy(&self.text)
    }
}

#[derive(Default)]
pub struct Documents {
    by_uri: HashMap<String, Document>,
}

impl Documents {
    pub fn open(&mut self, uri: Uri, text: String, version: i32) {
        let path = uri_to_path(&uri);
        let lines = LineIndex::new(&text);
        self.by_uri.insert(
            uri.as_str().to_string(),
            Document {
                uri,
                path,
                text,
                version,
                lines,
                analysis: None,
                unpublished: true,
                parsed: RefCell::new(None),
                root_clean: Cell::new(false),
                lint_memo: RefCell::default(),
            },
        );
        self.invalidate_all();
    }

    pub fn close(&mut self, uri: &Uri) -> Option<Document> {
        let doc = self.by_uri.remove(uri.as_str());
        self.invalidate_all();
        doc
    }

    pub fn get(&self, uri: &Uri) -> Option<&Document> {
        self.by_uri.get(uri.as_str())
    }

    /// Applies the changes of one `didChange` in order; each range refers to the text as the
    /// previous change left it.
    pub fn change(
        &mut self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) {
        let Some(doc) = self.by_uri.get_mut(uri.as_str()) else {
            return;
        };
        let mut parsed = doc.take_parse();
        for change in changes {
            match change.range {
                Some(range) => {
                    let a = doc.lines.offset(&doc.text, range.start) as usize;
                    let b = doc.lines.offset(&doc.text, range.end) as usize;
                    let (start, end) = (a.min(b), a.max(b));
                    let old_len = doc.text.len();
                    doc.text.replace_range(start..end, &change.text);
                    let edit = TextEdit {
                        start,
                        end,
                        text: &change.text,
                    };
                    parsed = parsed.and_then(|p| reparse(p, old_len, &doc.text, &edit).ok());
                }
                None => {
                    doc.text = change.text;
                    parsed = None;
                }
            }
            doc.lines = LineIndex::new(&doc.text);
        }
        doc.parsed = RefCell::new(parsed);
        doc.version = version;
        self.invalidate_all();
    }

    /// Files on disk changed: analyse every open document again.
    pub fn reload(&mut self) {
        self.invalidate_all();
    }

    /// Any change may affect every policy that includes the changed file. Every open document
    /// is re-analysed (once per burst of changes, see the main loop) rather than tracking who
    /// includes whom: editors keep few policies open, and a stale diagnostic is worse than
    /// the extra work.
    fn invalidate_all(&mut self) {
        for doc in self.by_uri.values_mut() {
            doc.analysis = None;
            doc.root_clean.set(false);
            doc.unpublished = true;
        }
    }

    /// The analysis of a document's current text, made now if needed.
    pub fn analysis(&mut self, uri: &Uri) -> Option<Rc<Analysis>> {
        let doc = self.by_uri.get(uri.as_str())?;
        if !doc.is_policy() {
            return None;
        }
        if let Some(a) = &doc.analysis {
            return Some(a.clone());
        }
        let analysis = Rc::new(Analysis::load_with(
            &doc.path,
            &Buffers {
                documents: self,
                root: &doc.path,
            },
            &mut doc.lint_memo.borrow_mut(),
        ));
        let doc = self.by_uri.get_mut(uri.as_str())?;
        doc.analysis = Some(analysis.clone());
        Some(analysis)
    }

    /// The URIs of documents whose diagnostics are not published yet.
    pub fn unpublished(&self) -> Vec<Uri> {
        let mut uris: Vec<&Document> = self.by_uri.values().filter(|d| d.unpublished).collect();
        uris.sort_by(|a, b| a.uri.as_str().cmp(b.uri.as_str()));
        uris.into_iter().map(|d| d.uri.clone()).collect()
    }

    pub fn mark_published(&mut self, uri: &Uri) {
        if let Some(d) = self.by_uri.get_mut(uri.as_str()) {
            d.unpublished = false;
        }
    }

    /// The URI of a file the loader read: an open document's own URI, or a `file:` URI.
    pub fn uri_of(&self, path: &Path) -> Option<Uri> {
        let key = normalize(path);
        self.by_uri
            .values()
            .find(|d| normalize(&d.path) == key)
            .map(|d| d.uri.clone())
            .or_else(|| path_to_uri(&key))
    }
}

impl Document {
    /// The clean parse of the current text, if one is known: the one edits kept up to date,
    /// or the one the last analysis made (taken back from it; nothing else holds it between
    /// messages). A YAML document is parsed whole every time.
    fn take_parse(&mut self) -> Option<Parsed> {
        if let Some(p) = self.parsed.get_mut().take() {
            return Some(p);
        }
        let analysis = self.analysis.take()?;
        if !self.root_clean.get() || crate::yaml::is_yaml_path(&self.path) {
            return None;
        }
        let program = Rc::try_unwrap(analysis).ok()?.into_program();
        let root = program.files.into_iter().next()?;
        (root.id == FileId(0)).then(|| Parsed {
            file: root.ast,
            comments: root.comments,
            declared: root.declared,
            diagnostics: Vec::new(),
        })
    }
}

/// Open buffers first, then the disk. `root` is the document being analysed: the only one
/// whose kept parse may be used, since it is the only file parsed as `FileId(0)`.
struct Buffers<'a> {
    documents: &'a Documents,
    root: &'a Path,
}

impl Buffers<'_> {
    fn document(&self, path: &Path) -> Option<&Document> {
        let key = normalize(path);
        self.documents
            .by_uri
            .values()
            .find(|d| normalize(&d.path) == key)
    }
}

impl SourceProvider for Buffers<'_> {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.document(path) {
            Some(doc) => Ok(doc.text.clone().into_bytes()),
            None => FileSystem.read(path),
        }
    }

    fn parse(&self, path: &Path, text: &str, id: FileId) -> Parsed {
        let doc = self
            .document(path)
            .filter(|d| id == FileId(0) && d.path == self.root && d.text == text);
        let Some(doc) = doc else {
            return crate::source::parse_file(path, text, id);
        };
        let parsed = doc
            .parsed
            .borrow_mut()
            .take()
            .unwrap_or_else(|| crate::source::parse_file(path, text, id));
        doc.root_clean.set(parsed.diagnostics.is_empty());
        parsed
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system (buffers may not exist on disk).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The path of a `file:` URI; any other URI (an unsaved `untitled:` buffer) gets a path that
/// no file has, so the buffer is read from memory and relative includes resolve nowhere.
pub fn uri_to_path(uri: &Uri) -> PathBuf {
    let s = uri.as_str();
    match s.strip_prefix("file://") {
        Some(rest) => {
            // `file://host/path`: the authority is empty for local files.
            let path = rest.find('/').map_or(rest, |i| &rest[i..]);
            PathBuf::from(percent_decode(path))
        }
        None => PathBuf::from(format!("/{}", percent_encode(s))),
    }
}

pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let text = path.to_str()?;
    if !text.starts_with('/') {
        return None;
    }
    Uri::from_str(&format!("file://{}", percent_encode(text))).ok()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_and_paths() {
        let uri = Uri::from_str("file:///home/me/My%20Policies/a%2Bb.route").unwrap();
        assert_eq!(
            uri_to_path(&uri),
            PathBuf::from("/home/me/My Policies/a+b.route")
        );
        let back = path_to_uri(&uri_to_path(&uri)).unwrap();
        assert_eq!(back.as_str(), "file:///home/me/My%20Policies/a%2Bb.route");
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d.route")),
            PathBuf::from("/a/c/d.route")
        );
        // A truncated escape is kept as written.
        assert_eq!(percent_decode("/a%2"), "/a%2");
        let untitled = Uri::from_str("untitled:Untitled-1").unwrap();
        assert_eq!(
            uri_to_path(&untitled),
            PathBuf::from("/untitled%3AUntitled-1")
        );
    }
}
